/*
 * SPDX-License-Identifier: BSD-3-Clause
 * output-hdf5.c: one HDF5 file with mesh, fields and metadata, and its reader.
 * The layout is documented in docs/hdf5-layout.md; keep the two in step.
 *
 * HDF5's automatic error printing is switched off around every call here
 * (the library never prints); errors name the file and the object.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output-impl.h"

#define LAYOUT_NAME "tmsfield-hdf5"
#define LAYOUT_VERSION 1

#if TMSF_HAVE_HDF5
#include <hdf5.h>

/* Silence HDF5's error stack printing for the lifetime of one call. */
typedef struct h5_quiet {
  H5E_auto2_t func;
  void *data;
} h5_quiet;
static void quiet_on(h5_quiet *q) {
  H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}
static void quiet_off(const h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

/* ---- writing ------------------------------------------------------------ */

/* A scalar variable-length UTF-8 string attribute (h5py reads it as str). */
static int attr_string(hid_t obj, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return -1;
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  hid_t s = H5Screate(H5S_SCALAR);
  hid_t a = s >= 0 ? H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
  int rc = a >= 0 && H5Awrite(a, t, &value) >= 0 ? 0 : -1;
  if (a >= 0) H5Aclose(a);
  if (s >= 0) H5Sclose(s);
  H5Tclose(t);
  return rc;
}

/* A numeric attribute of rank 0 (n == 0), 1 or 2 (rows x cols). */
static int attr_array(hid_t obj, const char *name, hid_t file_type, hid_t mem_type, int rank,
                      const hsize_t *dims, const void *data) {
  hid_t s = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
  hid_t a = s >= 0 ? H5Acreate2(obj, name, file_type, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
  int rc = a >= 0 && H5Awrite(a, mem_type, data) >= 0 ? 0 : -1;
  if (a >= 0) H5Aclose(a);
  if (s >= 0) H5Sclose(s);
  return rc;
}

/* A dataset of rank 1 (cols == 0) or 2, with a "units" attribute (NULL: none). */
static int dataset(hid_t grp, const char *name, hid_t file_type, hid_t mem_type, hsize_t rows,
                   hsize_t cols, const void *data, const char *units) {
  hsize_t dims[2] = {rows, cols};
  hid_t s = H5Screate_simple(cols ? 2 : 1, dims, NULL);
  hid_t d = s >= 0 ? H5Dcreate2(grp, name, file_type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
  int rc = d >= 0 ? 0 : -1;
  if (!rc && rows * (cols ? cols : 1) > 0 && H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    rc = -1;
  if (!rc && units) rc = attr_string(d, "units", units);
  if (d >= 0) H5Dclose(d);
  if (s >= 0) H5Sclose(s);
  return rc;
}

static int write_contents(hid_t f, tmsf_field *field, const tmsf_coil *coil, const double *pose,
                          const int32_t *nodal_tags, int num_nodal, const char **what) {
  const tmsf_mesh *m = field->mesh;
  int64_t nn = m->num_nodes, ne = m->num_tets, nt = m->num_tris;
  int rc = 0;
  hid_t g = -1;
  double *buf = NULL;
  /* root attributes */
  *what = "root attributes";
  char date[32];
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tmv);
  const char *cname = "";
  if (coil) tmsf_coil_get_name(coil, &cname);
  int32_t ver = LAYOUT_VERSION;
  double didt = field->didt;
  if (attr_string(f, "format", LAYOUT_NAME) || attr_array(f, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, 0, NULL, &ver) ||
      attr_string(f, "library", "tmsfield") || attr_string(f, "library_version", tmsf_version()) ||
      attr_string(f, "date", date) || attr_string(f, "coil_name", cname ? cname : "") ||
      attr_array(f, "didt_A_per_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &didt) ||
      attr_string(f, "length_units", "mm") || attr_string(f, "field_units", "V/m"))
    return -1;
  if (pose) {
    double pmm[16];
    memcpy(pmm, pose, sizeof(pmm));
    for (int r = 0; r < 3; r++) pmm[4 * r + 3] = tmsf_output_m_to_mm(pose[4 * r + 3]);
    hsize_t d2[2] = {4, 4};
    if (attr_array(f, "head_from_coil_mm", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, pmm)) return -1;
  }
  /* conductivity per tag (the mesh's tetrahedron tags) */
  {
    *what = "conductivity attributes";
    hsize_t nt1 = (hsize_t)m->num_tags;
    double *sig = tmsf_malloc_array(nt1 ? nt1 : 1, sizeof(double));
    if (!sig) return -2;
    for (int i = 0; i < m->num_tags; i++)
      if (tmsf_mesh_get_conductivity(m, m->tags[i], &sig[i])) sig[i] = NAN;
    rc = attr_array(f, "conductivity_tags", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &nt1, m->tags) ||
         attr_array(f, "conductivity_S_per_m", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &nt1, sig);
    free(sig);
    if (rc) return -1;
  }
  /* mesh */
  *what = "/mesh";
  g = H5Gcreate2(f, "mesh", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) return -1;
  buf = tmsf_malloc_array((size_t)(3 * nn > 3 * ne ? 3 * nn : 3 * ne) + 1, sizeof(double));
  if (!buf) {
    H5Gclose(g);
    return -2;
  }
  for (int64_t i = 0; i < 3 * nn; i++) buf[i] = tmsf_output_m_to_mm(m->nodes[i]);
  const hid_t I32 = H5T_STD_I32LE, F64 = H5T_IEEE_F64LE;
  if ((*what = "/mesh/nodes", dataset(g, "nodes", F64, H5T_NATIVE_DOUBLE, (hsize_t)nn, 3, buf, "mm")) ||
      (*what = "/mesh/tetrahedra", dataset(g, "tetrahedra", I32, H5T_NATIVE_INT32, (hsize_t)ne, 4, m->tets, NULL)) ||
      (*what = "/mesh/tetrahedron_tags", dataset(g, "tetrahedron_tags", I32, H5T_NATIVE_INT32, (hsize_t)ne, 0, m->tet_tags, NULL)) ||
      (*what = "/mesh/triangles", dataset(g, "triangles", I32, H5T_NATIVE_INT32, (hsize_t)nt, 3, m->tris, NULL)) ||
      (*what = "/mesh/triangle_tags", dataset(g, "triangle_tags", I32, H5T_NATIVE_INT32, (hsize_t)nt, 0, m->tri_tags, NULL)) ||
      attr_string(g, "index_base", "0"))
    rc = -1;
  H5Gclose(g);
  if (rc) goto out;
  /* fields */
  *what = "/fields";
  g = H5Gcreate2(f, "fields", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) {
    rc = -1;
    goto out;
  }
  for (int64_t e = 0; e < ne; e++) {
    const double *E = field->E + 3 * e;
    buf[e] = sqrt(E[0] * E[0] + E[1] * E[1] + E[2] * E[2]);
  }
  if ((*what = "/fields/E", dataset(g, "E", F64, H5T_NATIVE_DOUBLE, (hsize_t)ne, 3, field->E, "V/m")) ||
      (*what = "/fields/magnE", dataset(g, "magnE", F64, H5T_NATIVE_DOUBLE, (hsize_t)ne, 0, buf, "V/m")) ||
      (*what = "/fields/conductivity", dataset(g, "conductivity", F64, H5T_NATIVE_DOUBLE, (hsize_t)ne, 0, field->sigma, "S/m")) ||
      (*what = "/fields/potential", dataset(g, "potential", F64, H5T_NATIVE_DOUBLE, (hsize_t)nn, 0, field->phi, "V")))
    rc = -1;
  if (!rc && num_nodal > 0) {
    *what = "/fields/E_nodal";
    hid_t gn = H5Gcreate2(g, "E_nodal", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double *rec = gn >= 0 ? tmsf_malloc_array((size_t)nn * 3 + 1, sizeof(double)) : NULL;
    if (gn < 0) rc = -1;
    else if (!rec) rc = -2;
    for (int t = 0; !rc && t < num_nodal; t++) {
      char name[32];
      snprintf(name, sizeof(name), "tag_%d", (int)nodal_tags[t]);
      if (tmsf_field_recover_nodal(field, nodal_tags[t], rec)) {
        rc = -3;
        break;
      }
      if (dataset(gn, name, F64, H5T_NATIVE_DOUBLE, (hsize_t)nn, 3, rec, "V/m")) rc = -1;
    }
    free(rec);
    if (gn >= 0) {
      if (!rc) rc = attr_string(gn, "method", "superconvergent patch recovery per tissue; NaN off the tissue");
      H5Gclose(gn);
    }
  }
  H5Gclose(g);
out:
  free(buf);
  return rc;
}

int tmsf_field_write_hdf5(tmsf_field *field, const tmsf_coil *coil, const double pose[16],
                          const int32_t *nodal_tags, int num_nodal, const char *path) {
  if (!field || num_nodal < 0 || (num_nodal && !nodal_tags)) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = field->ctx;
  if (!path || !*path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "empty HDF5 output path");
  if (pose)
    for (int i = 0; i < 16; i++)
      if (!isfinite(pose[i])) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: pose element %d is not finite", path, i);
  for (int t = 0; t < num_nodal; t++) {
    int found = 0;
    for (int i = 0; i < field->mesh->num_tags; i++) found |= field->mesh->tags[i] == nodal_tags[t];
    if (!found)
      return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND, "%s: no tetrahedra with tag %d for the nodal field", path,
                        (int)nodal_tags[t]);
  }
  char *tmp = NULL;
  TMSF_CALL(tmsf_output_temp_name(ctx, path, "", &tmp));
  h5_quiet q;
  quiet_on(&q);
  int ierr = TMSF_SUCCESS;
  hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: HDF5 cannot create the file", path);
  } else {
    const char *what = "";
    int rc = write_contents(f, field, coil, pose, nodal_tags, num_nodal, &what);
    if (H5Fclose(f) < 0 && !rc) rc = -1;
    if (rc == -2)
      ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory writing %s", path, what);
    else if (rc == -3)
      ierr = tmsf_context_last_status(ctx) ? tmsf_context_last_status(ctx) : TMSF_ERR_NUMERIC;
    else if (rc)
      ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: HDF5 failed writing %s (disk full?)", path, what);
  }
  quiet_off(&q);
  if (ierr) unlink(tmp);
  else ierr = tmsf_output_commit(ctx, tmp, path);
  free(tmp);
  return ierr;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct rd {
  tmsf_context *ctx;
  const char *path;
  hid_t f;
} rd;

/* Read a dataset of expected rank/shape (cols 0: rank 1; rows < 0: any) into
 * a new buffer of mem_type; *rows receives the row count. */
static int read_dataset(rd *r, const char *name, hid_t mem_type, size_t size, int64_t want_rows,
                        hsize_t cols, void **out, int64_t *rows) {
  *out = NULL;
  hid_t d = H5Dopen2(r->f, name, H5P_DEFAULT);
  if (d < 0) return TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT, "%s: dataset %s is missing", r->path, name);
  hid_t s = H5Dget_space(d);
  hid_t t = H5Dget_type(d);
  int rank = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
  hsize_t dims[2] = {0, 0};
  int ierr = TMSF_SUCCESS;
  H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  H5T_class_t want_cls = H5Tget_class(mem_type);
  if (rank != (cols ? 2 : 1) || cls != want_cls || H5Sget_simple_extent_dims(s, dims, NULL) < 0 ||
      (cols && dims[1] != cols) || (want_rows >= 0 && dims[0] != (hsize_t)want_rows)) {
    char shape[64];
    if (cols) snprintf(shape, sizeof(shape), "%lld x %llu", (long long)want_rows, (unsigned long long)cols);
    else snprintf(shape, sizeof(shape), "%lld", (long long)want_rows);
    ierr = TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT,
                      "%s: dataset %s: rank %d, shape %llu x %llu, class %d; expected %s %s (-1: any count)",
                      r->path, name, rank, (unsigned long long)dims[0], (unsigned long long)dims[1],
                      (int)cls, want_cls == H5T_FLOAT ? "float64" : "int32", shape);
  } else if (dims[0] > (hsize_t)INT32_MAX) {
    ierr = TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT, "%s: dataset %s: %llu rows is too many", r->path, name,
                      (unsigned long long)dims[0]);
  } else {
    size_t n = (size_t)dims[0] * (cols ? cols : 1);
    void *buf = tmsf_malloc_array(n + 1, size);
    if (!buf) ierr = TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory for %s", r->path, name);
    else if (n && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
      free(buf);
      ierr = TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT, "%s: dataset %s cannot be read", r->path, name);
    } else {
      *out = buf;
      *rows = (int64_t)dims[0];
    }
  }
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  H5Dclose(d);
  return ierr;
}

/* A numeric attribute of n elements (n given; shape not checked beyond count). */
static int read_attr(rd *r, const char *name, hid_t mem_type, size_t n, void *out, int optional, int *present) {
  if (present) *present = 0;
  htri_t ex = H5Aexists(r->f, name);
  if (ex <= 0) {
    if (optional) return TMSF_SUCCESS;
    return TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT, "%s: root attribute %s is missing", r->path, name);
  }
  hid_t a = H5Aopen(r->f, name, H5P_DEFAULT);
  hid_t s = a >= 0 ? H5Aget_space(a) : -1;
  hssize_t np = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
  int ok = a >= 0 && np == (hssize_t)n && H5Aread(a, mem_type, out) >= 0;
  if (s >= 0) H5Sclose(s);
  if (a >= 0) H5Aclose(a);
  if (!ok)
    return TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT, "%s: root attribute %s: %lld values, expected %zu numbers",
                      r->path, name, (long long)np, n);
  if (present) *present = 1;
  return TMSF_SUCCESS;
}

static int read_attr_string(rd *r, const char *name, char *out, size_t len, int optional) {
  out[0] = 0;
  if (H5Aexists(r->f, name) <= 0) {
    if (optional) return TMSF_SUCCESS;
    return TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT, "%s: root attribute %s is missing", r->path, name);
  }
  hid_t a = H5Aopen(r->f, name, H5P_DEFAULT);
  hid_t t = a >= 0 ? H5Aget_type(a) : -1;
  int ok = 0;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
    if (H5Tis_variable_str(t) > 0) {
      hid_t mt = H5Tcopy(t); /* the file's character set: HDF5 does not convert ASCII <-> UTF-8 */
      char *s = NULL;
      if (H5Aread(a, mt, &s) >= 0 && s) {
        snprintf(out, len, "%s", s);
        ok = 1;
      }
      if (s) H5free_memory(s);
      H5Tclose(mt);
    } else {
      size_t sz = H5Tget_size(t);
      char *s = calloc(sz + 1, 1);
      hid_t mt = H5Tcopy(t);
      H5Tset_size(mt, sz + 1);
      H5Tset_strpad(mt, H5T_STR_NULLTERM);
      if (s && H5Aread(a, mt, s) >= 0) {
        snprintf(out, len, "%s", s);
        ok = 1;
      }
      free(s);
      H5Tclose(mt);
    }
  }
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  if (!ok) return TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT, "%s: root attribute %s: expected a string", r->path, name);
  return TMSF_SUCCESS;
}

static int read_all(rd *r, tmsf_mesh **mesh_out, tmsf_field **field_out, tmsf_hdf5_metadata *meta) {
  tmsf_context *ctx = r->ctx;
  char fmt[64];
  TMSF_CALL(read_attr_string(r, "format", fmt, sizeof(fmt), 0));
  if (strcmp(fmt, LAYOUT_NAME))
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: root attribute format is '%s'; expected '%s'", r->path, fmt, LAYOUT_NAME);
  int32_t ver = 0;
  TMSF_CALL(read_attr(r, "format_version", H5T_NATIVE_INT32, 1, &ver, 0, NULL));
  if (ver != LAYOUT_VERSION)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: format_version %d; this library reads version %d", r->path,
                      (int)ver, LAYOUT_VERSION);
  tmsf_hdf5_metadata md;
  memset(&md, 0, sizeof(md));
  TMSF_CALL(read_attr_string(r, "coil_name", md.coil_name, sizeof(md.coil_name), 1));
  TMSF_CALL(read_attr_string(r, "library_version", md.library_version, sizeof(md.library_version), 1));
  TMSF_CALL(read_attr_string(r, "date", md.date, sizeof(md.date), 1));
  TMSF_CALL(read_attr(r, "didt_A_per_s", H5T_NATIVE_DOUBLE, 1, &md.didt_A_per_s, 0, NULL));
  double pmm[16];
  TMSF_CALL(read_attr(r, "head_from_coil_mm", H5T_NATIVE_DOUBLE, 16, pmm, 1, &md.have_pose));
  if (md.have_pose) {
    memcpy(md.head_from_coil_m, pmm, sizeof(pmm));
    for (int i = 0; i < 3; i++) md.head_from_coil_m[4 * i + 3] = pmm[4 * i + 3] / 1e3;
  }
  int ierr = TMSF_SUCCESS;
  double *nodes = NULL, *E = NULL, *sigma = NULL, *phi = NULL, *csig = NULL;
  int32_t *tets = NULL, *ttag = NULL, *tris = NULL, *rtag = NULL, *ctag = NULL;
  int64_t nn = 0, ne = 0, nt = 0, k = 0;
  tmsf_mesh *mesh = NULL;
  tmsf_field *field = NULL;
  if ((ierr = read_dataset(r, "/mesh/nodes", H5T_NATIVE_DOUBLE, sizeof(double), -1, 3, (void **)&nodes, &nn)) ||
      (ierr = read_dataset(r, "/mesh/tetrahedra", H5T_NATIVE_INT32, sizeof(int32_t), -1, 4, (void **)&tets, &ne)) ||
      (ierr = read_dataset(r, "/mesh/tetrahedron_tags", H5T_NATIVE_INT32, sizeof(int32_t), ne, 0, (void **)&ttag, &k)) ||
      (ierr = read_dataset(r, "/mesh/triangles", H5T_NATIVE_INT32, sizeof(int32_t), -1, 3, (void **)&tris, &nt)) ||
      (ierr = read_dataset(r, "/mesh/triangle_tags", H5T_NATIVE_INT32, sizeof(int32_t), nt, 0, (void **)&rtag, &k)) ||
      (ierr = read_dataset(r, "/fields/E", H5T_NATIVE_DOUBLE, sizeof(double), ne, 3, (void **)&E, &k)) ||
      (ierr = read_dataset(r, "/fields/conductivity", H5T_NATIVE_DOUBLE, sizeof(double), ne, 0, (void **)&sigma, &k)) ||
      (ierr = read_dataset(r, "/fields/potential", H5T_NATIVE_DOUBLE, sizeof(double), nn, 0, (void **)&phi, &k)))
    goto out;
  for (int64_t i = 0; i < 3 * nn; i++) nodes[i] /= 1e3;
  if (!nt) {
    free(tris), free(rtag);
    tris = NULL, rtag = NULL;
  }
  /* from_owned takes the arrays (and frees them on failure) */
  ierr = tmsf_mesh_from_owned(ctx, r->path, nn, nodes, ne, tets, ttag, nt, tris, rtag, NULL, &mesh);
  nodes = NULL, tets = NULL, ttag = NULL, tris = NULL, rtag = NULL;
  if (ierr) goto out;
  /* conductivities per tag */
  {
    hsize_t nc = 0;
    if (H5Aexists(r->f, "conductivity_tags") > 0) {
      hid_t a = H5Aopen(r->f, "conductivity_tags", H5P_DEFAULT);
      hid_t s = a >= 0 ? H5Aget_space(a) : -1;
      hssize_t np = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
      if (s >= 0) H5Sclose(s);
      if (a >= 0) H5Aclose(a);
      if (np < 0 || np > 100000) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: root attribute conductivity_tags is malformed", r->path);
        goto out;
      }
      nc = (hsize_t)np;
    }
    csig = tmsf_malloc_array(nc + 1, sizeof(double));
    ctag = tmsf_malloc_array(nc + 1, sizeof(int32_t));
    if (!csig || !ctag) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
      goto out;
    }
    if (nc && ((ierr = read_attr(r, "conductivity_tags", H5T_NATIVE_INT32, nc, ctag, 0, NULL)) ||
               (ierr = read_attr(r, "conductivity_S_per_m", H5T_NATIVE_DOUBLE, nc, csig, 0, NULL))))
      goto out;
    for (hsize_t i = 0; i < nc; i++)
      if (isfinite(csig[i]) && csig[i] > 0.0 && (ierr = tmsf_mesh_set_conductivity(mesh, ctag[i], csig[i])))
        goto out;
  }
  if ((ierr = tmsf_field_alloc(ctx, mesh, &field))) goto out;
  memcpy(field->E, E, (size_t)ne * 3 * sizeof(double));
  memcpy(field->phi, phi, (size_t)nn * sizeof(double));
  memcpy(field->sigma, sigma, (size_t)ne * sizeof(double));
  field->didt = md.didt_A_per_s;
out:
  free(nodes), free(tets), free(ttag), free(tris), free(rtag);
  free(E), free(sigma), free(phi), free(csig), free(ctag);
  if (ierr) {
    tmsf_field_destroy(&field);
    tmsf_mesh_destroy(&mesh);
    return ierr;
  }
  *mesh_out = mesh;
  *field_out = field;
  if (meta) *meta = md;
  return TMSF_SUCCESS;
}

int tmsf_hdf5_read(tmsf_context *ctx, const char *path, tmsf_mesh **mesh, tmsf_field **field,
                   tmsf_hdf5_metadata *meta) {
  if (!mesh || !field) return TMSF_ERR_ARGUMENT;
  *mesh = NULL;
  *field = NULL;
  if (!path || !*path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "empty HDF5 input path");
  FILE *probe = fopen(path, "rb");
  if (!probe) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading", path);
  fclose(probe);
  h5_quiet q;
  quiet_on(&q);
  int ierr;
  if (H5Fis_hdf5(path) <= 0) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: not an HDF5 file", path);
  } else {
    rd r = {ctx, path, H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)};
    if (r.f < 0) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: HDF5 cannot open the file", path);
    } else {
      ierr = read_all(&r, mesh, field, meta);
      H5Fclose(r.f);
    }
  }
  quiet_off(&q);
  return ierr;
}

#else /* !TMSF_HAVE_HDF5 */

int tmsf_field_write_hdf5(tmsf_field *field, const tmsf_coil *coil, const double pose[16],
                          const int32_t *nodal_tags, int num_nodal, const char *path) {
  (void)coil, (void)pose, (void)nodal_tags, (void)num_nodal;
  if (!field) return TMSF_ERR_ARGUMENT;
  return TMSF_ERROR(field->ctx, TMSF_ERR_UNSUPPORTED, "%s: this build has no HDF5 support", path);
}

int tmsf_hdf5_read(tmsf_context *ctx, const char *path, tmsf_mesh **mesh, tmsf_field **field,
                   tmsf_hdf5_metadata *meta) {
  (void)mesh, (void)field, (void)meta;
  return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED, "%s: this build has no HDF5 support", path);
}
#endif

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * output-nifti.c: E resampled onto a voxel grid, written as NIfTI with niftilib.
 *
 * Each voxel centre (the affine applied to integer indices, as the NIfTI
 * standard defines voxel positions) is located in the mesh; voxels outside
 * the mesh or in tissues not asked for are 0 (not NaN: many viewers and
 * tools treat NaN badly, and SimNIBS's own NIfTI exports use 0 outside).
 */
#include <string.h>

#include "output-impl.h"

/* Barycentric coordinates of x in tetrahedron e; returns the smallest. */
static double bary(const tmsf_mesh *m, int64_t e, const double x[3], double lam[4]) {
  double g[4][3];
  tmsf_tet_geometry(m->nodes, m->tets + 4 * e, g);
  const double *x0 = m->nodes + 3 * (int64_t)m->tets[4 * e];
  double d[3] = {x[0] - x0[0], x[1] - x0[1], x[2] - x0[2]}, mn;
  lam[0] = 1.0;
  for (int k = 1; k < 4; k++) {
    lam[k] = g[k][0] * d[0] + g[k][1] * d[1] + g[k][2] * d[2];
    lam[0] -= lam[k];
  }
  mn = lam[0];
  for (int k = 1; k < 4; k++) mn = lam[k] < mn ? lam[k] : mn;
  return mn;
}

static int tag_slot(const int32_t *tags, int num_tags, int32_t t) {
  for (int i = 0; i < num_tags; i++)
    if (tags[i] == t) return i;
  return -1;
}

int tmsf_field_resample_grid(tmsf_field *field, tmsf_sample_mode mode, const int64_t dims[3],
                             const double A[16], const int32_t *tags_in, int num_tags_in,
                             tmsf_output_quantity quantity, float *out) {
  if (!field || !dims || !A || !out || num_tags_in < 0 || (num_tags_in && !tags_in))
    return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = field->ctx;
  const tmsf_mesh *m = field->mesh;
  if (mode != TMSF_SAMPLE_ELEMENT && mode != TMSF_SAMPLE_RECOVERED)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "unknown sample mode %d", (int)mode);
  if (quantity != TMSF_OUTPUT_MAGNE && quantity != TMSF_OUTPUT_E)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "unknown output quantity %d", (int)quantity);
  for (int d = 0; d < 3; d++)
    if (dims[d] < 1 || dims[d] > (int64_t)1 << 20)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid dimension %d is %lld; expected 1 .. 2^20", d,
                        (long long)dims[d]);
  for (int i = 0; i < 16; i++)
    if (!isfinite(A[i])) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid affine element %d is not finite", i);
  /* the tissues kept: the list given, else every tetrahedron tag */
  const int32_t *tags = num_tags_in ? tags_in : m->tags;
  int num_tags = num_tags_in ? num_tags_in : m->num_tags;
  TMSF_CALL(tmsf_mesh_ensure_locator(m));
  double **rec = NULL;
  if (mode == TMSF_SAMPLE_RECOVERED) {
    rec = tmsf_calloc_array((size_t)num_tags, sizeof(double *));
    if (!rec) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
    for (int t = 0; t < num_tags; t++) {
      rec[t] = tmsf_malloc_array((size_t)m->num_nodes * 3, sizeof(double));
      int ierr = rec[t] ? tmsf_field_recover_nodal(field, tags[t], rec[t])
                        : TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
      if (ierr) {
        for (int s = 0; s <= t; s++) free(rec[s]);
        free(rec);
        return ierr;
      }
    }
  }
  double lo[3], hi[3];
  tmsf_mesh_get_bounds(m, lo, hi);
  const int64_t nx = dims[0], ny = dims[1], nz = dims[2];
  const int64_t nvox = nx * ny * nz, nrows = ny * nz;
  (void)nvox;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 4) num_threads(tmsf_threads(ctx))
#endif
  for (int64_t row = 0; row < nrows; row++) {
    int64_t j = row % ny, k = row / ny;
    int64_t prev = -1; /* the previous voxel's tetrahedron: often the next one's too */
    for (int64_t i = 0; i < nx; i++) {
      int64_t v = row * nx + i;
      double E[3] = {0.0, 0.0, 0.0};
      int found = 0;
      double x[3];
      for (int r = 0; r < 3; r++)
        x[r] = 1e-3 * (A[4 * r] * (double)i + A[4 * r + 1] * (double)j + A[4 * r + 2] * (double)k + A[4 * r + 3]);
      if (x[0] >= lo[0] && x[0] <= hi[0] && x[1] >= lo[1] && x[1] <= hi[1] && x[2] >= lo[2] && x[2] <= hi[2]) {
        double lam[4];
        int64_t e = -1;
        if (prev >= 0 && bary(m, prev, x, lam) >= 0.0)
          e = prev;
        else
          tmsf_mesh_locate_one(m, x, lam, &e);
        prev = e;
        int slot = e >= 0 ? tag_slot(tags, num_tags, m->tet_tags[e]) : -1;
        if (slot >= 0) {
          found = 1;
          if (!rec) {
            for (int c = 0; c < 3; c++) E[c] = field->E[3 * e + c];
          } else {
            const int32_t *t = m->tets + 4 * e;
            for (int c = 0; c < 3; c++)
              for (int a = 0; a < 4; a++) E[c] += lam[a] * rec[slot][3 * (int64_t)t[a] + c];
          }
        }
      }
      if (quantity == TMSF_OUTPUT_MAGNE) {
        out[v] = found ? (float)sqrt(E[0] * E[0] + E[1] * E[1] + E[2] * E[2]) : 0.0f;
      } else {
        for (int c = 0; c < 3; c++) out[(int64_t)c * nvox + v] = found ? (float)E[c] : 0.0f;
      }
    }
  }
  if (rec) {
    for (int t = 0; t < num_tags; t++) free(rec[t]);
    free(rec);
  }
  return TMSF_SUCCESS;
}

#if TMSF_HAVE_NIFTI
#include <nifti2_io.h>

static int check_out_path(tmsf_context *ctx, const char *path, const char **ext) {
  if (!path || !*path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "empty NIfTI output path");
  if (tmsf_output_ends_with(path, ".nii.gz"))
    *ext = ".nii.gz";
  else if (tmsf_output_ends_with(path, ".nii"))
    *ext = ".nii";
  else
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "%s: a NIfTI output name must end in .nii or .nii.gz (single-file NIfTI)", path);
  return TMSF_SUCCESS;
}

/* Sample, fill nim (whose geometry is set) with float32 data and write it
 * atomically.  Takes ownership of nim. */
static int sample_and_write(tmsf_field *field, tmsf_sample_mode mode, nifti_image *nim,
                            const double A_mm[16], const int32_t *tags, int num_tags,
                            tmsf_output_quantity quantity, const char *path, const char *ext) {
  tmsf_context *ctx = field->ctx;
  int64_t dims[3] = {nim->nx, nim->ny, nim->nz};
  size_t nvox = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  size_t ncomp = quantity == TMSF_OUTPUT_E ? 3 : 1;
  char *tmp = NULL;
  float *data = tmsf_malloc_array(nvox * ncomp, sizeof(float));
  if (!data) {
    nifti_image_free(nim);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu voxels", path, nvox * ncomp);
  }
  int ierr = tmsf_field_resample_grid(field, mode, dims, A_mm, tags, num_tags, quantity, data);
  if (ierr) {
    free(data);
    nifti_image_free(nim);
    return ierr;
  }
  free(nim->data);
  nim->data = data;
  /* the header as a float32 image of V/m */
  nim->datatype = DT_FLOAT32;
  nim->nbyper = 4;
  nim->swapsize = 4;
  nim->scl_slope = 1.0;
  nim->scl_inter = 0.0;
  nim->intent_code = NIFTI_INTENT_NONE;
  memset(nim->intent_name, 0, sizeof(nim->intent_name));
  float vmax = 0.0f;
  for (size_t i = 0; i < nvox * ncomp; i++) vmax = fabsf(data[i]) > vmax ? fabsf(data[i]) : vmax;
  nim->cal_min = 0.0;
  nim->cal_max = vmax;
  memset(nim->descrip, 0, sizeof(nim->descrip));
  snprintf(nim->descrip, sizeof(nim->descrip), "tmsfield %s %s V/m", tmsf_version(),
           quantity == TMSF_OUTPUT_E ? "E (x,y,z in dim 4)" : "magnE");
  memset(nim->aux_file, 0, sizeof(nim->aux_file));
  if ((ierr = tmsf_output_temp_name(ctx, path, ext, &tmp))) {
    nifti_image_free(nim);
    return ierr;
  }
  free(nim->fname);
  free(nim->iname);
  nim->fname = tmsf_strdup(tmp);
  nim->iname = tmsf_strdup(tmp);
  nim->iname_offset = nim->nifti_type == NIFTI_FTYPE_NIFTI2_1 ? 544 : 352;
  if (!nim->fname || !nim->iname) {
    nifti_image_free(nim);
    unlink(tmp);
    free(tmp);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  nifti_set_debug_level(0);
  znzFile fp = nifti_image_write_hdr_img(nim, 3, "wb"); /* header and data, left open */
  int failed = znz_isnull(fp);
  if (!failed && znzclose(fp) != 0) failed = 1;
  nifti_image_free(nim);
  if (failed) {
    unlink(tmp);
    free(tmp);
    return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: niftilib could not write the image (disk full or not writable?)", path);
  }
  ierr = tmsf_output_commit(ctx, tmp, path);
  free(tmp);
  return ierr;
}

int tmsf_field_write_nifti(tmsf_field *field, tmsf_sample_mode mode, const char *ref,
                           const int32_t *tags, int num_tags, tmsf_output_quantity quantity,
                           const char *path) {
  if (!field) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = field->ctx;
  const char *ext = NULL;
  TMSF_CALL(check_out_path(ctx, path, &ext));
  if (!ref || !*ref) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: no reference image given", path);
  FILE *probe = fopen(ref, "rb");
  if (!probe) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open the reference image for reading", ref);
  fclose(probe);
  nifti_set_debug_level(0);
  nifti_image *r = nifti_image_read(ref, 0);
  if (!r)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: not a readable NIfTI-1/NIfTI-2 header (niftilib rejected it)", ref);
  if (r->nx < 1 || r->ny < 1 || r->nz < 1 || r->nx > 1 << 20 || r->ny > 1 << 20 || r->nz > 1 << 20) {
    int e = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: grid %lld x %lld x %lld; expected 1 .. 2^20 voxels per axis",
                       ref, (long long)r->nx, (long long)r->ny, (long long)r->nz);
    nifti_image_free(r);
    return e;
  }
  /* voxel -> mm: sform, else qform, else the voxel sizes (Analyze) */
  double A[16] = {0};
  double scale = r->xyz_units == NIFTI_UNITS_METER ? 1e3 : r->xyz_units == NIFTI_UNITS_MICRON ? 1e-3 : 1.0;
  const nifti_dmat44 *M = r->sform_code > 0 ? &r->sto_xyz : r->qform_code > 0 ? &r->qto_xyz : NULL;
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 4; b++)
      A[4 * a + b] = scale * (M ? M->m[a][b] : (a == b ? fabs(r->pixdim[a + 1]) : 0.0));
  A[15] = 1.0;
  for (int i = 0; i < 16; i++)
    if (!isfinite(A[i])) {
      nifti_image_free(r);
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: the voxel-to-world affine has a non-finite element", ref);
    }
  int64_t nd[8] = {quantity == TMSF_OUTPUT_E ? 4 : 3, r->nx, r->ny, r->nz, quantity == TMSF_OUTPUT_E ? 3 : 1, 1, 1, 1};
  nifti_image *nim = nifti_make_new_nim(nd, DT_FLOAT32, 0);
  if (!nim) {
    nifti_image_free(r);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  /* the reference's geometry, exactly */
  for (int d = 1; d <= 3; d++) nim->pixdim[d] = r->pixdim[d];
  nim->pixdim[0] = r->pixdim[0];
  nim->dx = r->dx, nim->dy = r->dy, nim->dz = r->dz;
  nim->pixdim[4] = nim->dt = 1.0;
  nim->xyz_units = r->xyz_units;
  nim->time_units = NIFTI_UNITS_UNKNOWN;
  nim->qform_code = r->qform_code;
  nim->sform_code = r->sform_code;
  nim->quatern_b = r->quatern_b, nim->quatern_c = r->quatern_c, nim->quatern_d = r->quatern_d;
  nim->qoffset_x = r->qoffset_x, nim->qoffset_y = r->qoffset_y, nim->qoffset_z = r->qoffset_z;
  nim->qfac = r->qfac;
  nim->qto_xyz = r->qto_xyz, nim->qto_ijk = r->qto_ijk;
  nim->sto_xyz = r->sto_xyz, nim->sto_ijk = r->sto_ijk;
  nim->freq_dim = r->freq_dim, nim->phase_dim = r->phase_dim, nim->slice_dim = r->slice_dim;
  nim->nifti_type = r->nifti_type == NIFTI_FTYPE_NIFTI2_1 ? NIFTI_FTYPE_NIFTI2_1 : NIFTI_FTYPE_NIFTI1_1;
  nifti_image_free(r);
  return sample_and_write(field, mode, nim, A, tags, num_tags, quantity, path, ext);
}

int tmsf_field_write_nifti_grid(tmsf_field *field, tmsf_sample_mode mode, const int64_t dims[3],
                                const double A[16], const int32_t *tags, int num_tags,
                                tmsf_output_quantity quantity, const char *path) {
  if (!field || !dims || !A) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = field->ctx;
  const char *ext = NULL;
  TMSF_CALL(check_out_path(ctx, path, &ext));
  for (int d = 0; d < 3; d++)
    if (dims[d] < 1 || dims[d] > (int64_t)1 << 20)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: grid dimension %d is %lld; expected 1 .. 2^20", path,
                        d, (long long)dims[d]);
  for (int i = 0; i < 16; i++)
    if (!isfinite(A[i])) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: grid affine element %d is not finite", path, i);
  int64_t nd[8] = {quantity == TMSF_OUTPUT_E ? 4 : 3, dims[0], dims[1], dims[2], quantity == TMSF_OUTPUT_E ? 3 : 1, 1, 1, 1};
  nifti_image *nim = nifti_make_new_nim(nd, DT_FLOAT32, 0);
  if (!nim) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  nifti_dmat44 S;
  memset(&S, 0, sizeof(S));
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 4; b++) S.m[a][b] = A[4 * a + b];
  nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->sto_xyz = S;
  nim->sto_ijk = nifti_dmat44_inverse(S);
  double dx, dy, dz, qfac;
  nifti_dmat44_to_quatern(S, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x,
                          &nim->qoffset_y, &nim->qoffset_z, &dx, &dy, &dz, &qfac);
  nim->qfac = qfac;
  nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->qto_xyz = nifti_quatern_to_dmat44(nim->quatern_b, nim->quatern_c, nim->quatern_d, nim->qoffset_x,
                                         nim->qoffset_y, nim->qoffset_z, dx, dy, dz, qfac);
  nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
  nim->pixdim[0] = qfac;
  nim->pixdim[1] = nim->dx = dx;
  nim->pixdim[2] = nim->dy = dy;
  nim->pixdim[3] = nim->dz = dz;
  nim->pixdim[4] = nim->dt = 1.0;
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
  return sample_and_write(field, mode, nim, A, tags, num_tags, quantity, path, ext);
}

#else /* !TMSF_HAVE_NIFTI */

int tmsf_field_write_nifti(tmsf_field *field, tmsf_sample_mode mode, const char *ref,
                           const int32_t *tags, int num_tags, tmsf_output_quantity quantity,
                           const char *path) {
  (void)mode, (void)ref, (void)tags, (void)num_tags, (void)quantity;
  if (!field) return TMSF_ERR_ARGUMENT;
  return TMSF_ERROR(field->ctx, TMSF_ERR_UNSUPPORTED, "%s: this build has no NIfTI support (niftilib)", path);
}

int tmsf_field_write_nifti_grid(tmsf_field *field, tmsf_sample_mode mode, const int64_t dims[3],
                                const double A[16], const int32_t *tags, int num_tags,
                                tmsf_output_quantity quantity, const char *path) {
  (void)mode, (void)dims, (void)A, (void)tags, (void)num_tags, (void)quantity;
  if (!field) return TMSF_ERR_ARGUMENT;
  return TMSF_ERROR(field->ctx, TMSF_ERR_UNSUPPORTED, "%s: this build has no NIfTI support (niftilib)", path);
}
#endif

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * output-gifti.c: a surface of the mesh and |E| on it as GIfTI (GIFTI 1.0
 * XML, data arrays zlib-compressed and base64-encoded, "GZipBase64Binary").
 *
 * The XML is written here rather than with gifticlib (Debian libgiftiio):
 * gifticlib links niftilib-1 (libniftiio), whose exported functions
 * (nifti_image_read, nifti_image_free, ...) have the same names as
 * niftilib-2's (libnifti2, which this library uses) with different
 * structures, so both in one process would depend on symbol resolution
 * order.  Writing GIfTI needs only zlib (already a dependency through
 * niftilib) and a base64 encoder; tests read the files back with nibabel.
 * Format: GIFTI Surface Format 1.0 (Harwell et al., 2011).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "output-impl.h"

#if TMSF_HAVE_NIFTI
#include <zlib.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 base64 of n bytes, written to f. */
static void put_base64(FILE *f, const unsigned char *p, size_t n) {
  char line[4];
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
    line[0] = b64[v >> 18 & 63], line[1] = b64[v >> 12 & 63], line[2] = b64[v >> 6 & 63], line[3] = b64[v & 63];
    fwrite(line, 1, 4, f);
  }
  if (i < n) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0u);
    line[0] = b64[v >> 18 & 63], line[1] = b64[v >> 12 & 63];
    line[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
    line[3] = '=';
    fwrite(line, 1, 4, f);
  }
}

static int little_endian(void) {
  const uint16_t one = 1;
  unsigned char c;
  memcpy(&c, &one, 1);
  return c == 1;
}

/* One <DataArray>: rows x cols (cols 0: a vector) of float32 or int32. */
static int put_array(FILE *f, const char *intent, int is_float, int64_t rows, int cols,
                     const void *data, const char *meta_name, const char *meta_value, int coordsys) {
  size_t bytes = (size_t)rows * (size_t)(cols ? cols : 1) * 4;
  uLongf zlen = compressBound((uLong)bytes);
  unsigned char *z = malloc(zlen ? zlen : 1);
  if (!z) return -2;
  if (compress2(z, &zlen, (const Bytef *)data, (uLong)bytes, 6) != Z_OK) {
    free(z);
    return -2;
  }
  fprintf(f, "  <DataArray Intent=\"%s\" DataType=\"%s\" ArrayIndexingOrder=\"RowMajorOrder\" "
             "Dimensionality=\"%d\" Dim0=\"%lld\"",
          intent, is_float ? "NIFTI_TYPE_FLOAT32" : "NIFTI_TYPE_INT32", cols ? 2 : 1, (long long)rows);
  if (cols) fprintf(f, " Dim1=\"%d\"", cols);
  fprintf(f, " Encoding=\"GZipBase64Binary\" Endian=\"%s\" ExternalFileName=\"\" ExternalFileOffset=\"\">\n",
          little_endian() ? "LittleEndian" : "BigEndian");
  if (meta_name)
    fprintf(f, "   <MetaData>\n    <MD><Name><![CDATA[%s]]></Name><Value><![CDATA[%s]]></Value></MD>\n   </MetaData>\n",
            meta_name, meta_value);
  else
    fprintf(f, "   <MetaData/>\n");
  if (coordsys)
    fprintf(f, "   <CoordinateSystemTransformMatrix>\n"
               "    <DataSpace><![CDATA[NIFTI_XFORM_UNKNOWN]]></DataSpace>\n"
               "    <TransformedSpace><![CDATA[NIFTI_XFORM_UNKNOWN]]></TransformedSpace>\n"
               "    <MatrixData>1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1</MatrixData>\n"
               "   </CoordinateSystemTransformMatrix>\n");
  fprintf(f, "   <Data>");
  put_base64(f, z, zlen);
  fprintf(f, "</Data>\n  </DataArray>\n");
  free(z);
  return 0;
}

static void put_header(FILE *f, int num_arrays, const char *what) {
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<!DOCTYPE GIFTI SYSTEM \"http://www.nitrc.org/frs/download.php/115/gifti.dtd\">\n"
             "<GIFTI Version=\"1.0\" NumberOfDataArrays=\"%d\">\n"
             " <MetaData>\n"
             "  <MD><Name><![CDATA[generator]]></Name><Value><![CDATA[tmsfield %s]]></Value></MD>\n"
             "  <MD><Name><![CDATA[description]]></Name><Value><![CDATA[%s]]></Value></MD>\n"
             " </MetaData>\n"
             " <LabelTable/>\n",
          num_arrays, tmsf_version(), what);
}

/* Open tmp for writing, run the body, close; returns -1 on an I/O failure. */
static int finish(FILE *f) {
  int bad = ferror(f) != 0;
  if (fflush(f) != 0) bad = 1;
  if (fsync(fileno(f)) != 0 && errno != EINVAL) bad = 1;
  if (fclose(f) != 0) bad = 1;
  return bad ? -1 : 0;
}

int tmsf_field_write_gifti(tmsf_field *field, tmsf_sample_mode mode, int32_t surface_tag,
                           const char *prefix) {
  if (!field) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = field->ctx;
  const tmsf_mesh *m = field->mesh;
  if (!prefix || !*prefix) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "empty GIfTI output prefix");
  if (mode != TMSF_SAMPLE_ELEMENT && mode != TMSF_SAMPLE_RECOVERED)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "unknown sample mode %d", (int)mode);
  int64_t nf = 0;
  for (int64_t t = 0; t < m->num_tris; t++) nf += m->tri_tags[t] == surface_tag;
  if (nf == 0)
    return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND, "%s: the mesh has no triangles with tag %d (surfaces are tissue + 1000)",
                      m->origin, (int)surface_tag);
  int ierr = TMSF_SUCCESS;
  size_t plen = strlen(prefix);
  char *surf_path = malloc(plen + 16), *func_path = malloc(plen + 16), *surf_tmp = NULL, *func_tmp = NULL;
  int32_t *tri_tet = tmsf_malloc_array((size_t)m->num_tris + 1, sizeof(int32_t));
  int32_t *vmap = tmsf_malloc_array((size_t)m->num_nodes + 1, sizeof(int32_t));
  int32_t *faces = tmsf_malloc_array((size_t)nf * 3, sizeof(int32_t));
  double *acc = NULL, *rec = NULL;
  float *xyz = NULL, *val = NULL;
  if (!surf_path || !func_path || !tri_tet || !vmap || !faces) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
    goto out;
  }
  snprintf(surf_path, plen + 16, "%s.surf.gii", prefix);
  snprintf(func_path, plen + 16, "%s.func.gii", prefix);
  if ((ierr = tmsf_mesh_build_adjacency(m))) goto out;
  tmsf_mesh_triangle_tets(m, tri_tet);
  /* vertices: surface nodes in increasing mesh order */
  for (int64_t i = 0; i < m->num_nodes; i++) vmap[i] = -1;
  for (int64_t t = 0; t < m->num_tris; t++)
    if (m->tri_tags[t] == surface_tag)
      for (int k = 0; k < 3; k++) vmap[m->tris[3 * t + k]] = 0;
  int64_t nv = 0;
  for (int64_t i = 0; i < m->num_nodes; i++)
    if (vmap[i] >= 0) vmap[i] = (int32_t)nv++;
  xyz = tmsf_malloc_array((size_t)nv * 3, sizeof(float));
  val = tmsf_malloc_array((size_t)nv, sizeof(float));
  acc = tmsf_calloc_array((size_t)nv * 2, sizeof(double));
  if (!xyz || !val || !acc) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
    goto out;
  }
  for (int64_t i = 0; i < m->num_nodes; i++)
    if (vmap[i] >= 0)
      for (int c = 0; c < 3; c++) xyz[3 * vmap[i] + c] = (float)(m->nodes[3 * i + c] * 1e3);
  /* faces, oriented away from the tissue-side tetrahedron; area-weighted |E| */
  int64_t f = 0;
  for (int64_t t = 0; t < m->num_tris; t++) {
    if (m->tri_tags[t] != surface_tag) continue;
    int32_t a = m->tris[3 * t], b = m->tris[3 * t + 1], c = m->tris[3 * t + 2];
    const double *pa = m->nodes + 3 * (int64_t)a, *pb = m->nodes + 3 * (int64_t)b, *pc = m->nodes + 3 * (int64_t)c;
    double u[3], w[3], n[3];
    for (int k = 0; k < 3; k++) u[k] = pb[k] - pa[k], w[k] = pc[k] - pa[k];
    n[0] = u[1] * w[2] - u[2] * w[1], n[1] = u[2] * w[0] - u[0] * w[2], n[2] = u[0] * w[1] - u[1] * w[0];
    double area = 0.5 * sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    double mag = 0.0;
    int32_t e = tri_tet[t];
    if (e >= 0) {
      const double *E = field->E + 3 * (int64_t)e;
      mag = sqrt(E[0] * E[0] + E[1] * E[1] + E[2] * E[2]);
      /* the tetrahedron's vertex off the face lies inside: flip if the normal points to it */
      const int32_t *q = m->tets + 4 * (int64_t)e;
      for (int k = 0; k < 4; k++)
        if (q[k] != a && q[k] != b && q[k] != c) {
          const double *pd = m->nodes + 3 * (int64_t)q[k];
          double dot = n[0] * (pd[0] - pa[0]) + n[1] * (pd[1] - pa[1]) + n[2] * (pd[2] - pa[2]);
          if (dot > 0.0) {
            int32_t s = b;
            b = c;
            c = s;
          }
        }
    }
    faces[3 * f] = vmap[a], faces[3 * f + 1] = vmap[b], faces[3 * f + 2] = vmap[c];
    f++;
    for (int k = 0; k < 3; k++) {
      int32_t v = vmap[m->tris[3 * t + k]];
      acc[2 * v] += area * mag;
      acc[2 * v + 1] += area;
    }
  }
  for (int64_t v = 0; v < nv; v++) val[v] = acc[2 * v + 1] > 0.0 ? (float)(acc[2 * v] / acc[2 * v + 1]) : 0.0f;
  if (mode == TMSF_SAMPLE_RECOVERED && surface_tag > 1000) {
    int32_t tissue = surface_tag - 1000;
    int has = 0;
    for (int i = 0; i < m->num_tags; i++) has |= m->tags[i] == tissue;
    if (has) {
      rec = tmsf_malloc_array((size_t)m->num_nodes * 3, sizeof(double));
      if (!rec) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
        goto out;
      }
      if ((ierr = tmsf_field_recover_nodal(field, tissue, rec))) goto out;
      for (int64_t i = 0; i < m->num_nodes; i++) {
        if (vmap[i] < 0) continue;
        const double *E = rec + 3 * i;
        double s = sqrt(E[0] * E[0] + E[1] * E[1] + E[2] * E[2]);
        if (isfinite(s)) val[vmap[i]] = (float)s; /* else: the element mean stays */
      }
    }
  }
  /* write both files to temporary names, then rename */
  if ((ierr = tmsf_output_temp_name(ctx, surf_path, ".surf.gii", &surf_tmp))) goto out;
  if ((ierr = tmsf_output_temp_name(ctx, func_path, ".func.gii", &func_tmp))) goto out;
  {
    char desc[128];
    snprintf(desc, sizeof(desc), "surface tag %d, coordinates in head mm", (int)surface_tag);
    FILE *fs = fopen(surf_tmp, "wb");
    int rc = -1;
    if (fs) {
      put_header(fs, 2, desc);
      rc = put_array(fs, "NIFTI_INTENT_POINTSET", 1, nv, 3, xyz, "AnatomicalStructurePrimary",
                     surface_tag == 1002 ? "Cortex" : "Unknown", 1);
      if (!rc) rc = put_array(fs, "NIFTI_INTENT_TRIANGLE", 0, nf, 3, faces, NULL, NULL, 0);
      fprintf(fs, "</GIFTI>\n");
      int rc2 = finish(fs);
      if (!rc) rc = rc2;
    }
    if (rc) {
      ierr = rc == -2 ? TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory compressing", surf_path)
                      : TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: write failed (disk full?)", surf_path);
      goto out;
    }
    snprintf(desc, sizeof(desc), "|E| in V/m on surface tag %d (%s)", (int)surface_tag,
             mode == TMSF_SAMPLE_RECOVERED ? "patch-recovered nodal value" : "area-weighted mean of adjacent elements");
    FILE *fv = fopen(func_tmp, "wb");
    rc = -1;
    if (fv) {
      put_header(fv, 1, desc);
      rc = put_array(fv, "NIFTI_INTENT_NONE", 1, nv, 0, val, "Name", "magnE", 0);
      fprintf(fv, "</GIFTI>\n");
      int rc2 = finish(fv);
      if (!rc) rc = rc2;
    }
    if (rc) {
      ierr = rc == -2 ? TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory compressing", func_path)
                      : TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: write failed (disk full?)", func_path);
      goto out;
    }
  }
  if ((ierr = tmsf_output_commit(ctx, surf_tmp, surf_path))) goto out;
  free(surf_tmp);
  surf_tmp = NULL;
  if ((ierr = tmsf_output_commit(ctx, func_tmp, func_path))) {
    unlink(surf_path); /* not one file without the other */
    goto out;
  }
  free(func_tmp);
  func_tmp = NULL;
out:
  if (surf_tmp) unlink(surf_tmp);
  if (func_tmp) unlink(func_tmp);
  free(surf_tmp), free(func_tmp), free(surf_path), free(func_path);
  free(tri_tet), free(vmap), free(faces), free(acc), free(rec), free(xyz), free(val);
  return ierr;
}

#else

int tmsf_field_write_gifti(tmsf_field *field, tmsf_sample_mode mode, int32_t surface_tag,
                           const char *prefix) {
  (void)mode, (void)surface_tag;
  if (!field) return TMSF_ERR_ARGUMENT;
  return TMSF_ERROR(field->ctx, TMSF_ERR_UNSUPPORTED, "%s: GIfTI needs zlib, absent from this build", prefix);
}
#endif

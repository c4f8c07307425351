/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-volume.c: scalar voxel images (tmsf_volume) — created from memory or
 * read from NIfTI-1/NIfTI-2 with niftilib, any real datatype, as float.
 *
 * As meshes/labels.c, the header is checked before niftilib sees it (niftilib
 * prints on some malformed headers whatever its debug level) and the voxel
 * data are read through its znz layer with an explicit length, so that a
 * truncated file is an error naming the file rather than a partial image.
 */
#include <string.h>

#include "render-impl.h"

static int check_affine(tmsf_context *ctx, const char *what, const double A[16]) {
  for (int i = 0; i < 12; i++)
    if (!isfinite(A[i]))
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: affine entry (%d, %d) is not finite; expected a finite voxel-to-mm affine",
                        what, i / 4, i % 4);
  double det = A[0] * (A[5] * A[10] - A[6] * A[9]) - A[1] * (A[4] * A[10] - A[6] * A[8]) +
               A[2] * (A[4] * A[9] - A[5] * A[8]);
  double s = 0.0;
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) s = fmax(s, fabs(A[4 * r + c]));
  if (!(s > 0.0) || !(fabs(det) > 1e-9 * s * s * s))
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: the voxel-to-mm affine is singular (determinant %g)", what, det);
  return TMSF_SUCCESS;
}

static int volume_new(tmsf_context *ctx, const char *what, const int64_t dims[3], const double A[16], tmsf_volume **out) {
  *out = NULL;
  for (int d = 0; d < 3; d++)
    if (dims[d] < 1 || dims[d] > (1 << 20))
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: dimension %d has %lld voxels; expected 1 to 1048576", what, d,
                        (long long)dims[d]);
  if ((uint64_t)dims[0] * (uint64_t)dims[1] * (uint64_t)dims[2] > ((uint64_t)1 << 31))
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: %lld x %lld x %lld voxels; at most 2^31 are supported", what,
                      (long long)dims[0], (long long)dims[1], (long long)dims[2]);
  TMSF_CALL(check_affine(ctx, what, A));
  tmsf_volume *v = calloc(1, sizeof(*v));
  size_t n = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  if (v) v->data = tmsf_malloc_array(n, sizeof(float));
  if (!v || !v->data) {
    tmsf_volume_destroy(&v);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu voxels", what, n);
  }
  v->ctx = ctx;
  memcpy(v->dims, dims, sizeof(v->dims));
  memcpy(v->affine, A, sizeof(v->affine));
  v->affine[12] = v->affine[13] = v->affine[14] = 0.0;
  v->affine[15] = 1.0;
  *out = v;
  return TMSF_SUCCESS;
}

int tmsf_volume_create(tmsf_context *ctx, const int64_t dims[3], const float *data, const double affine_mm[16],
                       tmsf_volume **volume) {
  if (!volume) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "volume output is NULL");
  *volume = NULL;
  if (!dims || !data || !affine_mm)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_volume_create: dims, data and affine are required");
  TMSF_CALL(volume_new(ctx, "tmsf_volume_create", dims, affine_mm, volume));
  memcpy((*volume)->data, data, (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2] * sizeof(float));
  return TMSF_SUCCESS;
}

int tmsf_volume_destroy(tmsf_volume **volume) {
  if (!volume || !*volume) return TMSF_SUCCESS;
  free((*volume)->data);
  free(*volume);
  *volume = NULL;
  return TMSF_SUCCESS;
}

int tmsf_volume_get(const tmsf_volume *v, int64_t dims[3], double affine_mm[16], const float **data) {
  if (!v) return TMSF_ERR_ARGUMENT;
  if (dims) memcpy(dims, v->dims, sizeof(v->dims));
  if (affine_mm) memcpy(affine_mm, v->affine, sizeof(v->affine));
  if (data) *data = v->data;
  return TMSF_SUCCESS;
}

#if TMSF_HAVE_NIFTI
#include <nifti2_io.h>

static const char *expect_image = "expected a NIfTI-1 or NIfTI-2 3-D image";

/* sizeof_hdr, dims and datatype checked before niftilib reads the header. */
static int precheck(tmsf_context *ctx, const char *path) {
  znzFile fp = znzopen(path, "rb", nifti_is_gzfile(path));
  if (znz_isnull(fp)) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading", path);
  unsigned char h[540];
  size_t got = 0;
  while (got < sizeof(h)) {
    size_t k = znzread(h + got, 1, sizeof(h) - got, fp);
    if (k == 0) break;
    got += k;
  }
  znzclose(fp);
  if (got < 348)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: %zu bytes, shorter than a NIfTI header; %s", path, got, expect_image);
  int32_t s1;
  memcpy(&s1, h, 4);
  int swap = 0, v2;
  if (s1 == 348 || s1 == 540) {
    v2 = s1 == 540;
  } else {
    nifti_swap_4bytes(1, &s1);
    swap = 1;
    if (s1 != 348 && s1 != 540)
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: sizeof_hdr is not 348 or 540; %s", path, expect_image);
    v2 = s1 == 540;
  }
  if (v2 && got < 540)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: %zu bytes, shorter than a NIfTI-2 header; %s", path, got, expect_image);
  int16_t dt;
  int64_t dim[8];
  memcpy(&dt, h + (v2 ? 12 : 70), 2);
  if (swap) nifti_swap_2bytes(1, &dt);
  for (int i = 0; i < 8; i++) {
    if (v2) {
      memcpy(&dim[i], h + 16 + 8 * i, 8);
      if (swap) nifti_swap_8bytes(1, &dim[i]);
    } else {
      int16_t d16;
      memcpy(&d16, h + 40 + 2 * i, 2);
      if (swap) nifti_swap_2bytes(1, &d16);
      dim[i] = d16;
    }
  }
  if (dim[0] < 1 || dim[0] > 7)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: dim[0] = %lld; %s", path, (long long)dim[0], expect_image);
  for (int i = 1; i <= dim[0]; i++)
    if (dim[i] < 1)
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: dim[%d] = %lld; expected >= 1 (%s)", path, i,
                        (long long)dim[i], expect_image);
  switch (dt) {
  case DT_UINT8: case DT_INT8: case DT_INT16: case DT_UINT16: case DT_INT32: case DT_UINT32:
  case DT_INT64: case DT_UINT64: case DT_FLOAT32: case DT_FLOAT64: break;
  default:
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: datatype %d is not supported; expected an integer type, float32 or float64",
                      path, (int)dt);
  }
  return TMSF_SUCCESS;
}

/* Exactly bytes of voxel data from the image file (a shorter file is an error). */
static int read_raw(tmsf_context *ctx, const char *path, const nifti_image *im, size_t bytes, unsigned char **out) {
  *out = NULL;
  znzFile fp = znzopen(im->iname, "rb", nifti_is_gzfile(im->iname));
  if (znz_isnull(fp)) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open the image data in %s", path, im->iname);
  size_t cap = bytes < ((size_t)1 << 24) ? bytes : ((size_t)1 << 24), got = 0;
  unsigned char *buf = malloc(cap ? cap : 1);
  int ierr = buf ? TMSF_SUCCESS : TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", path);
  if (!ierr && znzseek(fp, (znz_off_t)im->iname_offset, SEEK_SET) >= 0) {
    while (got < bytes) {
      if (got == cap) {
        size_t ncap = cap * 2 < bytes ? cap * 2 : bytes;
        unsigned char *nb = realloc(buf, ncap);
        if (!nb) {
          ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu bytes of voxel data", path, bytes);
          break;
        }
        buf = nb;
        cap = ncap;
      }
      size_t k = znzread(buf + got, 1, cap - got, fp);
      if (k == 0) break;
      got += k;
    }
  }
  znzclose(fp);
  if (!ierr && got != bytes)
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: voxel data truncated: the header announces %zu bytes from offset %lld, the file holds %zu",
                      path, bytes, (long long)im->iname_offset, got);
  if (ierr) {
    free(buf);
    return ierr;
  }
  if (im->nbyper > 1 && im->byteorder != nifti_short_order())
    nifti_swap_Nbytes((int64_t)(bytes / (size_t)im->nbyper), im->nbyper, buf);
  *out = buf;
  return TMSF_SUCCESS;
}

static double raw_value(int datatype, const unsigned char *d, size_t i) {
  switch (datatype) {
  case DT_FLOAT32: { float v; memcpy(&v, d + 4 * i, 4); return v; }
  case DT_FLOAT64: { double v; memcpy(&v, d + 8 * i, 8); return v; }
  case DT_INT8: return (int8_t)d[i];
  case DT_UINT8: return d[i];
  case DT_INT16: { int16_t v; memcpy(&v, d + 2 * i, 2); return v; }
  case DT_UINT16: { uint16_t v; memcpy(&v, d + 2 * i, 2); return v; }
  case DT_INT32: { int32_t v; memcpy(&v, d + 4 * i, 4); return v; }
  case DT_UINT32: { uint32_t v; memcpy(&v, d + 4 * i, 4); return v; }
  case DT_INT64: { int64_t v; memcpy(&v, d + 8 * i, 8); return (double)v; }
  case DT_UINT64: { uint64_t v; memcpy(&v, d + 8 * i, 8); return (double)v; }
  default: return NAN;
  }
}

int tmsf_volume_read_nifti(tmsf_context *ctx, const char *path, tmsf_volume **volume) {
  if (!volume) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "volume output is NULL");
  *volume = NULL;
  if (!path || !*path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "empty NIfTI path");
  FILE *probe = fopen(path, "rb");
  if (!probe) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading", path);
  fclose(probe);
  TMSF_CALL(precheck(ctx, path));
  nifti_set_debug_level(0);
  nifti_image *im = nifti_image_read(path, 0);
  if (!im) return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: niftilib rejected the header; %s", path, expect_image);
  int ierr = TMSF_SUCCESS;
  unsigned char *raw = NULL;
  int64_t extra = 1;
  for (int d = 4; d <= 7 && d <= im->ndim; d++) extra *= im->dim[d] > 0 ? im->dim[d] : 1;
  if (extra != 1) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: a %lld-D image with %lld volumes; %s (one volume)", path,
                      (long long)im->ndim, (long long)extra, expect_image);
    goto out;
  }
  double A[16] = {0};
  {
    const nifti_dmat44 *M = im->sform_code > 0 ? &im->sto_xyz : im->qform_code > 0 ? &im->qto_xyz : NULL;
    double scale = im->xyz_units == NIFTI_UNITS_METER ? 1e3 : im->xyz_units == NIFTI_UNITS_MICRON ? 1e-3 : 1.0;
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 4; c++)
        A[4 * r + c] = scale * (M ? M->m[r][c] : (r == c ? fabs(im->pixdim[r + 1]) : 0.0));
    A[15] = 1.0;
  }
  int64_t dims[3] = {im->nx, im->ny, im->nz};
  tmsf_volume *v = NULL;
  if ((ierr = volume_new(ctx, path, dims, A, &v))) goto out;
  size_t nvox = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  if ((ierr = read_raw(ctx, path, im, nvox * (size_t)im->nbyper, &raw))) {
    tmsf_volume_destroy(&v);
    goto out;
  }
  double slope = im->scl_slope != 0.0 && isfinite(im->scl_slope) ? im->scl_slope : 1.0;
  double inter = isfinite(im->scl_inter) ? im->scl_inter : 0.0;
  for (size_t i = 0; i < nvox; i++) v->data[i] = (float)(raw_value(im->datatype, raw, i) * slope + inter);
  *volume = v;
out:
  free(raw);
  nifti_image_free(im);
  return ierr;
}

#else

int tmsf_volume_read_nifti(tmsf_context *ctx, const char *path, tmsf_volume **volume) {
  if (volume) *volume = NULL;
  return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED, "%s: NIfTI images need a build with niftilib (Debian: libnifti2-dev)",
                    path ? path : "(null)");
}

#endif

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-nifti.c: A-field coils stored as NIfTI images, read with niftilib (header)
 * and its znz layer (voxel data, so that NaN and Inf are reported, not zeroed).
 *
 * Layout (SimNIBS "A-field" coil files): an X x Y x Z x 3 image (4-D, or 5-D
 * with dims X Y Z 1 3 for the NIfTI vector intent) of the magnetic vector
 * potential per ampere of coil current, in T m / A, in the coil frame; the
 * sform (or qform) maps voxel indices to coil-frame millimetres.
 */
#include <string.h>

#include "tmsf-impl.h"

#if TMSF_HAVE_NIFTI
#include <nifti2_io.h>

static double voxel_value(int datatype, const void *d, size_t i) {
  switch (datatype) {
  case DT_FLOAT32: return ((const float *)d)[i];
  case DT_FLOAT64: return ((const double *)d)[i];
  case DT_INT8: return ((const int8_t *)d)[i];
  case DT_UINT8: return ((const uint8_t *)d)[i];
  case DT_INT16: return ((const int16_t *)d)[i];
  case DT_UINT16: return ((const uint16_t *)d)[i];
  case DT_INT32: return ((const int32_t *)d)[i];
  case DT_UINT32: return ((const uint32_t *)d)[i];
  default: return NAN;
  }
}

/* The voxel data as stored (niftilib's loader would replace NaN and Inf by 0
 * silently, hiding a corrupt file): read through niftilib's znz layer from
 * the image file at its offset, byte-swapped to this machine's order. */
static int read_raw(tmsf_context *ctx, const char *path, const nifti_image *im, size_t bytes, void **out) {
  *out = NULL;
  znzFile fp = znzopen(im->iname, "rb", nifti_is_gzfile(im->iname));
  if (znz_isnull(fp)) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open the image data in %s", path, im->iname);
  unsigned char *buf = malloc(bytes ? bytes : 1);
  if (!buf) {
    znzclose(fp);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu bytes of voxel data", path, bytes);
  }
  size_t got = 0;
  /* znzseek returns fseek's 0 for plain files and gzseek's new offset for gzip */
  if (znzseek(fp, (znz_off_t)im->iname_offset, SEEK_SET) >= 0) {
    while (got < bytes) {
      size_t n = znzread(buf + got, 1, bytes - got, fp);
      if (n == 0) break;
      got += n;
    }
  }
  znzclose(fp);
  if (got != bytes) {
    free(buf);
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: voxel data truncated: the header announces %lld voxels of %d bytes "
                      "(%zu bytes from offset %lld), the file holds %zu",
                      path, (long long)im->nvox, im->nbyper, bytes, (long long)im->iname_offset, got);
  }
  if (im->nbyper > 1 && im->byteorder != nifti_short_order())
    nifti_swap_Nbytes((int64_t)(bytes / (size_t)im->nbyper), im->nbyper, buf);
  *out = buf;
  return TMSF_SUCCESS;
}

int tmsf_nifti_coil_read(tmsf_context *ctx, const char *path, tmsf_coil **coil) {
  *coil = NULL;
  FILE *probe = fopen(path, "rb");
  if (!probe) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading", path);
  fclose(probe);
  nifti_set_debug_level(0); /* niftilib must not print */
  nifti_image *im = nifti_image_read(path, 0);
  if (!im)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: not a readable NIfTI-1/NIfTI-2 header (niftilib rejected it); expected "
                      "an A-field image of X x Y x Z x 3 samples",
                      path);
  int ierr = TMSF_SUCCESS;
  int64_t nx = im->nx, ny = im->ny, nz = im->nz, ncomp = 0;
  if (im->ndim == 4 && im->nt == 3)
    ncomp = 3;
  else if (im->ndim == 5 && im->nt == 1 && im->nu == 3)
    ncomp = 3;
  if (ncomp != 3 || nx < 2 || ny < 2 || nz < 2) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: header: image dimensions %lld x %lld x %lld x %lld x %lld (ndim %lld); "
                      "expected X x Y x Z x 3 (or X x Y x Z x 1 x 3) with X, Y, Z >= 2",
                      path, (long long)im->nx, (long long)im->ny, (long long)im->nz,
                      (long long)im->nt, (long long)im->nu, (long long)im->ndim);
    goto out;
  }
  switch (im->datatype) {
  case DT_FLOAT32: case DT_FLOAT64: case DT_INT8: case DT_UINT8: case DT_INT16:
  case DT_UINT16: case DT_INT32: case DT_UINT32: break;
  default:
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: header: datatype code %d is not supported; expected a real scalar type "
                      "(float32 or float64)",
                      path, im->datatype);
    goto out;
  }
  /* grid affine: sform if set, else qform, else pixdim */
  double M[16] = {0};
  {
    const nifti_dmat44 *A = im->sform_code > 0 ? &im->sto_xyz : im->qform_code > 0 ? &im->qto_xyz : NULL;
    double scale = 1e-3; /* mm -> m */
    if (im->xyz_units == NIFTI_UNITS_METER) scale = 1.0;
    if (im->xyz_units == NIFTI_UNITS_MICRON) scale = 1e-6;
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 4; c++)
        M[4 * r + c] = scale * (A ? A->m[r][c] : (r == c ? im->pixdim[r + 1] : 0.0));
    M[15] = 1.0;
  }
  {
    size_t nvox = (size_t)nx * (size_t)ny * (size_t)nz;
    void *raw;
    ierr = read_raw(ctx, path, im, 3 * nvox * (size_t)im->nbyper, &raw);
    if (ierr) goto out;
    double *buf = tmsf_malloc_array(nvox * 3, sizeof(double));
    if (!buf) {
      free(raw);
      ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", path);
      goto out;
    }
    double slope = im->scl_slope != 0.0 && isfinite(im->scl_slope) ? im->scl_slope : 1.0;
    double inter = isfinite(im->scl_inter) ? im->scl_inter : 0.0;
    for (size_t i = 0; i < 3 * nvox; i++) {
      double v = voxel_value(im->datatype, raw, i) * slope + inter;
      if (!isfinite(v)) {
        size_t vox = i % nvox;
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                          "%s: voxel (%zu, %zu, %zu) component %zu is not finite; expected finite "
                          "A values in T m / A",
                          path, vox % (size_t)nx, (vox / (size_t)nx) % (size_t)ny,
                          vox / ((size_t)nx * (size_t)ny), i / nvox);
        free(buf);
        free(raw);
        goto out;
      }
      buf[i] = v;
    }
    free(raw);
    int64_t dims[3] = {nx, ny, nz};
    ierr = tmsf_coil_create_grid(ctx, dims, buf, M, coil);
    free(buf);
    if (ierr) {
      char msg[TMSF_MSG_LEN];
      snprintf(msg, sizeof(msg), "%s", ctx->message);
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: %s", path, msg);
      goto out;
    }
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t len = strlen(b);
    if (len > 7 && strcmp(b + len - 7, ".nii.gz") == 0) len -= 7;
    else if (len > 4 && strcmp(b + len - 4, ".nii") == 0) len -= 4;
    free((*coil)->name);
    (*coil)->name = malloc(len + 1);
    if ((*coil)->name) {
      memcpy((*coil)->name, b, len);
      (*coil)->name[len] = '\0';
    }
  }
out:
  nifti_image_free(im);
  return ierr;
}

#else

int tmsf_nifti_coil_read(tmsf_context *ctx, const char *path, tmsf_coil **coil) {
  *coil = NULL;
  return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED,
                    "%s: NIfTI coils need a build with niftilib (Debian: libnifti2-dev)", path);
}

#endif

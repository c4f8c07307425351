/*
 * SPDX-License-Identifier: BSD-3-Clause
 * test-labels.h: write small label volumes with niftilib for the label and
 * meshing tests (t-labels.c, t-meshing.c).
 */
#ifndef TMSF_TEST_LABELS_H
#define TMSF_TEST_LABELS_H

#include <tmsfield/tmsfield.h>

#if TMSF_HAVE_NIFTI
#include <nifti2_io.h>

static inline void test_labels_store(nifti_image *nim, size_t i, double x) {
  switch (nim->datatype) {
  case DT_UINT8: ((uint8_t *)nim->data)[i] = (uint8_t)x; break;
  case DT_INT16: ((int16_t *)nim->data)[i] = (int16_t)x; break;
  case DT_UINT16: ((uint16_t *)nim->data)[i] = (uint16_t)x; break;
  case DT_INT32: ((int32_t *)nim->data)[i] = (int32_t)x; break;
  case DT_FLOAT32: ((float *)nim->data)[i] = (float)x; break;
  case DT_FLOAT64: ((double *)nim->data)[i] = x; break;
  default: break; /* other types stay zero-filled */
  }
}

/* Write a label volume: sform S (row-major 4x4) or NULL; qform from Q (diagonal
 * voxel sizes and offsets of a row-major 4x4, no rotation) or NULL; pixdim pix or
 * NULL.  nt > 1 writes a 4-D image (the volume repeated).  Returns 0 on success. */
static inline int write_labels_nifti_nt(const char *path, const int64_t d[3], int64_t nt, const int32_t *v,
                                 int datatype, const double *S, const double *Q, const double *pix) {
  nifti_set_debug_level(0);
  int64_t dims[8] = {nt > 1 ? 4 : 3, d[0], d[1], d[2], nt > 1 ? nt : 1, 1, 1, 1};
  nifti_image *nim = nifti_make_new_nim(dims, datatype, 1);
  if (!nim) return 1;
  size_t nvox = (size_t)(d[0] * d[1] * d[2]);
  for (int64_t t = 0; t < (nt > 1 ? nt : 1); t++)
    for (size_t i = 0; i < nvox; i++) test_labels_store(nim, (size_t)t * nvox + i, v[i]);
  nim->sform_code = 0;
  nim->qform_code = 0;
  nim->xyz_units = NIFTI_UNITS_MM;
  if (pix) {
    nim->dx = nim->pixdim[1] = pix[0];
    nim->dy = nim->pixdim[2] = pix[1];
    nim->dz = nim->pixdim[3] = pix[2];
  }
  if (S) {
    nim->sform_code = NIFTI_XFORM_MNI_152;
    for (int r = 0; r < 4; r++)
      for (int c = 0; c < 4; c++) nim->sto_xyz.m[r][c] = S[4 * r + c];
  }
  if (Q) {
    nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
    nim->quatern_b = nim->quatern_c = nim->quatern_d = 0.0;
    nim->qoffset_x = Q[3];
    nim->qoffset_y = Q[7];
    nim->qoffset_z = Q[11];
    nim->qfac = 1.0;
    nim->dx = nim->pixdim[1] = Q[0];
    nim->dy = nim->pixdim[2] = Q[5];
    nim->dz = nim->pixdim[3] = Q[10];
  }
  if (nifti_set_filenames(nim, path, 0, 1)) {
    nifti_image_free(nim);
    return 1;
  }
  nifti_image_write(nim);
  nifti_image_free(nim);
  return 0;
}

static inline int write_labels_nifti(const char *path, const int64_t d[3], const int32_t *v, int datatype,
                              const double *S, const double *Q, const double *pix) {
  return write_labels_nifti_nt(path, d, 1, v, datatype, S, Q, pix);
}

static inline int write_labels_nifti_4d(const char *path, const int64_t d[3], int64_t nt, const int32_t *v,
                                 int datatype, const double *S) {
  return write_labels_nifti_nt(path, d, nt, v, datatype, S, NULL, NULL);
}

/* As write_labels_nifti with voxel idx set to x (e.g. a fraction or a negative value). */
static inline int write_labels_nifti_value(const char *path, const int64_t d[3], const int32_t *v,
                                    int datatype, const double *S, size_t idx, double x) {
  nifti_set_debug_level(0);
  int64_t dims[8] = {3, d[0], d[1], d[2], 1, 1, 1, 1};
  nifti_image *nim = nifti_make_new_nim(dims, datatype, 1);
  if (!nim) return 1;
  size_t nvox = (size_t)(d[0] * d[1] * d[2]);
  for (size_t i = 0; i < nvox; i++) test_labels_store(nim, i, i == idx ? x : v[i]);
  nim->qform_code = 0;
  nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++) nim->sto_xyz.m[r][c] = S[4 * r + c];
  if (nifti_set_filenames(nim, path, 0, 1)) {
    nifti_image_free(nim);
    return 1;
  }
  nifti_image_write(nim);
  nifti_image_free(nim);
  return 0;
}
#endif

#endif

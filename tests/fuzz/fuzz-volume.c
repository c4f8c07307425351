/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-volume.c: libFuzzer target for the NIfTI image reader of the slice
 * pictures (tmsf_volume_read_nifti, through a temporary file: niftilib reads
 * by name; inputs starting with the gzip magic are written as .nii.gz) and,
 * for images up to 10^6 voxels, the slice picture through the largest voxel.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmsf-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  char path[64];
  snprintf(path, sizeof(path), "/tmp/fuzz-volume-%ld.%s", (long)getpid(), gz ? "nii.gz" : "nii");
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  if (size && fwrite(data, 1, size, f) != size) {
    fclose(f);
    remove(path);
    return 0;
  }
  fclose(f);
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) {
    remove(path);
    return 0;
  }
  tmsf_volume *vol = NULL;
  int ierr = tmsf_volume_read_nifti(ctx, path, &vol);
  remove(path);
  if (ierr) {
    if (vol || tmsf_context_last_error(ctx)[0] == '\0') abort();
  } else {
    int64_t dims[3];
    double A[16];
    const float *d = NULL;
    if (tmsf_volume_get(vol, dims, A, &d) || !d) abort();
    for (int k = 0; k < 3; k++)
      if (dims[k] < 1) abort();
    if (dims[0] * dims[1] * dims[2] <= 1000000) {
      tmsf_render_params p;
      tmsf_render_params_default(&p);
      p.width_px = 300;
      p.height_px = 150;
      tmsf_picture *pic = NULL;
      int e = tmsf_render_slices(vol, NULL, NULL, &p, &pic, NULL);
      if (e && (pic || tmsf_context_last_error(ctx)[0] == '\0')) abort();
      if (!e && !pic) abort();
      tmsf_picture_destroy(&pic);
    }
    tmsf_volume_destroy(&vol);
  }
  tmsf_context_destroy(&ctx);
  return 0;
}

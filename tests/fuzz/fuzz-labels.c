/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-labels.c: libFuzzer target for the NIfTI label-volume reader
 * (tmsf_labels_read, through a temporary file: niftilib reads by name) and the
 * label -> tissue mapping with every preset.  Inputs starting with the gzip
 * magic are written as .nii.gz.
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
  snprintf(path, sizeof(path), "/tmp/fuzz-labels-%ld.%s", (long)getpid(), gz ? "nii.gz" : "nii");
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
  tmsf_labels *labels = NULL;
  int ierr = tmsf_labels_read(ctx, path, &labels);
  remove(path);
  if (ierr) {
    if (labels || tmsf_context_last_error(ctx)[0] == '\0') abort();
  } else {
    int64_t dims[3];
    double A[16], vv;
    const int32_t *d = NULL;
    if (tmsf_labels_get_dims(labels, dims) || tmsf_labels_get_affine(labels, A) ||
        tmsf_labels_get_data(labels, &d) || tmsf_labels_get_voxel_volume(labels, &vv) || !d)
      abort();
    if (!(vv > 0) || !isfinite(vv)) abort();
    size_t nvox = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
    int nonzero = 0;
    for (size_t i = 0; i < nvox; i++) {
      if (d[i] < 0) abort();
      nonzero |= d[i] != 0;
    }
    if (!nonzero) abort();
    static const char *presets[] = {"simnibs", "colin27", "brainweb", "roast", "1=2,2=3,3=0", NULL};
    double vol[11];
    for (int p = 0; p < 6; p++) {
      int e = tmsf_labels_tissue_volumes(labels, presets[p], 10, vol);
      if (e && tmsf_context_last_error(ctx)[0] == '\0') abort();
      if (!e)
        for (int t = 0; t <= 10; t++)
          if (!(vol[t] >= 0)) abort();
    }
    tmsf_labels_destroy(&labels);
  }
  tmsf_context_destroy(&ctx);
  return 0;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-nifti-coil.c: libFuzzer target for the NIfTI A-field coil reader
 * (niftilib reads files only: the input goes to a per-process temporary
 * file, .nii.gz when it starts with the gzip magic, else .nii) and the
 * primary field of what it returns.
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
  const int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  char path[128];
  const char *tmp = getenv("TMPDIR");
  snprintf(path, sizeof(path), "%s/fuzz-nifti-coil-%ld%s", tmp && strlen(tmp) < 64 ? tmp : "/tmp",
           (long)getpid(), gz ? ".nii.gz" : ".nii");
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  if (size && fwrite(data, 1, size, f) != size) {
    fclose(f);
    return 0;
  }
  fclose(f);
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) return 0;
  tmsf_context_set_threads(ctx, 1);
  tmsf_coil *coil = NULL;
  int ierr = tmsf_coil_read(ctx, path, &coil);
  if (ierr) {
    if (coil || tmsf_context_last_error(ctx)[0] == '\0') abort();
  } else {
    int ne = 0, ns = 0;
    tmsf_coil_get_num_elements(coil, &ne);
    tmsf_coil_get_num_stimulators(coil, &ns);
    if (ne < 1 || ns != ne) abort();
    for (int i = 0; i < ne; i++) {
      int64_t dims[3];
      double o[3], h[3];
      const float *g;
      if (tmsf_coil_get_grid(coil, i, dims, o, h, &g) || !g) abort();
      for (int c = 0; c < 3; c++)
        if (dims[c] < 2 || !isfinite(o[c]) || !isfinite(h[c]) || h[c] == 0.0) abort();
    }
    static const double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    const double pts[9] = {0.0, 0.0, 0.02, 0.01, -0.03, 0.05, 1.0, 2.0, -3.0};
    double out[9];
    int64_t outside = -1;
    if (tmsf_coil_primary_field(coil, I, 1e6, 3, pts, out, &outside) || outside < 0 || outside > 3) abort();
    for (int k = 0; k < 9; k++)
      if (!isfinite(out[k])) abort();
    tmsf_coil_destroy(&coil);
  }
  tmsf_context_destroy(&ctx);
  remove(path);
  return 0;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-ccd.c: libFuzzer target for the SimNIBS .ccd coil reader and the dipole primary field.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tmsf-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) return 0;
  tmsf_context_set_threads(ctx, 1);
  tmsf_coil *coil = NULL;
  int ierr = tmsf_ccd_read_buffer(ctx, "fuzz.ccd", (const char *)data, size, &coil);
  if (ierr) {
    if (coil || tmsf_context_last_error(ctx)[0] == '\0') abort();
  } else {
    const char *name = NULL, *key = NULL, *value = NULL;
    tmsf_coil_get_name(coil, &name);
    if (!name) abort();
    int nk = 0;
    tmsf_coil_get_num_header_keys(coil, &nk);
    for (int k = 0; k < nk; k++) {
      if (tmsf_coil_get_header_key(coil, k, &key, &value) || !key || !value) abort();
      const char *v2 = NULL;
      if (tmsf_coil_get_header(coil, key, &v2) || !v2) abort();
    }
    double dmax;
    if (tmsf_coil_get_didt_max(coil, &dmax) == TMSF_SUCCESS && !(dmax > 0.0)) abort();
    int64_t nd = 0;
    tmsf_coil_get_num_dipoles(coil, &nd);
    if (nd < 1) abort();
    static const double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    const double pts[9] = {0.0, 0.0, 0.02, 0.01, -0.03, 0.05, 1.0, 2.0, -3.0};
    double out[9];
    int64_t outside = -1;
    if (nd <= 100000) {
      if (tmsf_coil_primary_field(coil, I, 1e6, 3, pts, out, &outside)) abort();
      if (outside != 0) abort();
    }
    tmsf_coil_destroy(&coil);
  }
  tmsf_context_destroy(&ctx);
  return 0;
}

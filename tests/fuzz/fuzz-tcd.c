/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-tcd.c: libFuzzer target for the SimNIBS 4 .tcd (JSON) coil reader and
 * the primary field of what it returns.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tmsf-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) return 0;
  tmsf_context_set_threads(ctx, 1);
  tmsf_coil *coil = NULL;
  int ierr = tmsf_tcd_read_buffer(ctx, "fuzz.tcd", (const char *)data, size, &coil);
  if (ierr) {
    if (coil || tmsf_context_last_error(ctx)[0] == '\0') abort();
  } else {
    const char *name = NULL, *key = NULL, *value = NULL;
    tmsf_coil_get_name(coil, &name);
    if (!name) abort();
    int nk = 0;
    tmsf_coil_get_num_header_keys(coil, &nk);
    for (int k = 0; k < nk; k++)
      if (tmsf_coil_get_header_key(coil, k, &key, &value) || !key || !value) abort();
    int ne = 0, ns = 0;
    tmsf_coil_get_num_elements(coil, &ne);
    tmsf_coil_get_num_stimulators(coil, &ns);
    if (ne < 1 || ns < 1 || ns > 64) abort();
    int64_t total = 0;
    for (int i = 0; i < ne; i++) {
      tmsf_coil_kind kind;
      int st;
      int64_t n;
      const char *en;
      if (tmsf_coil_get_element(coil, i, &kind, &st, &n, &en) || st < 0 || st >= ns || n < 1 || !en) abort();
      const double *p, *v;
      if (kind == TMSF_COIL_GRID) {
        int64_t dims[3];
        const float *g;
        if (tmsf_coil_get_grid(coil, i, dims, NULL, NULL, &g) || !g || dims[0] * dims[1] * dims[2] != n) abort();
      } else if (tmsf_coil_get_element_data(coil, i, &p, &v) || !p || !v) {
        abort();
      }
      total += n;
    }
    for (int s = 0; s < ns; s++) {
      double d;
      if (tmsf_coil_get_stimulator(coil, s, &name, &value, &d) || (!isnan(d) && !(d > 0.0))) abort();
    }
    static const double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    const double pts[9] = {0.0, 0.0, 0.02, 0.01, -0.03, 0.05, 1.0, 2.0, -3.0};
    double out[9], didt[64];
    for (int s = 0; s < 64; s++) didt[s] = 1e6 * (s + 1);
    int64_t outside = -1;
    if (total <= 200000) {
      if (tmsf_coil_primary_field_stimulators(coil, I, didt, 3, pts, out, &outside)) abort();
      if (outside < 0 || outside > 3) abort();
    }
    tmsf_coil_destroy(&coil);
  }
  tmsf_context_destroy(&ctx);
  return 0;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-tsv.c: libFuzzer target for the pulse waveform (.tsv) reader and the
 * waveform queries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tmsf-impl.h"
#include "waveform-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) return 0;
  /* the first byte picks the column rule, the rest is the file */
  static const char *const columns[] = {NULL, "fit", "measured", "A", "MagPro_X100_fit"};
  const char *column = size > 0 ? columns[data[0] % 5] : NULL;
  if (size > 0) data++, size--;
  tmsf_waveform *wf = NULL;
  int ierr = tmsf_waveform_read_buffer(ctx, "fuzz.tsv", (const char *)data, size, column, &wf);
  if (ierr) {
    if (wf || tmsf_context_last_error(ctx)[0] == '\0') abort();
  } else {
    int64_t n = 0;
    const double *t = NULL, *w = NULL;
    const char *name = NULL;
    if (tmsf_waveform_get_samples(wf, &n, &t, &w) || n < 2 || !t || !w) abort();
    if (tmsf_waveform_get_name(wf, &name) || !name) abort();
    double peak = 0.0;
    for (int64_t i = 0; i < n; i++) {
      if (!(fabs(w[i]) <= 1.0)) abort();
      if (i > 0 && !(t[i] > t[i - 1])) abort();
      if (fabs(w[i]) > peak) peak = fabs(w[i]);
    }
    if (peak != 1.0) abort();
    tmsf_waveform_kind kind;
    double rev, start, end, dur, sp, st;
    tmsf_waveform_get_kind(wf, &kind, &rev);
    if (kind != TMSF_WAVEFORM_MONOPHASIC && kind != TMSF_WAVEFORM_BIPHASIC) abort();
    tmsf_waveform_get_duration(wf, &start, &end, &dur);
    if (!(start <= end) && isfinite(end - start)) abort();
    tmsf_waveform_get_stored_peak(wf, &sp, &st);
    if (!(sp > 0.0)) abort();
    const double times[6] = {t[0], t[n - 1], 0.5 * (t[0] + t[n - 1]), -1e300, 1e300, st};
    double out[6];
    if (tmsf_waveform_sample(wf, 2.0, 6, times, out)) abort();
    for (int k = 0; k < 6; k++)
      if (!(fabs(out[k]) <= 2.0) && !isnan(out[k])) abort();
    tmsf_waveform_destroy(&wf);
  }
  tmsf_context_destroy(&ctx);
  return 0;
}

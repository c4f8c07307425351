/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-brainsight.c: libFuzzer target for the Brainsight export reader
 * (lib/io-nnav.c) and, on success, the writer round trip.  The input's first
 * byte picks the table (even: targets, odd: samples), the rest is the file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnav-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write what was read, read it back (the writer writes a target table) and
 * compare: every entry within 1e-9 (relative for large centres), the same
 * names and space.  A write may refuse a name (control characters, a leading
 * '#', invalid UTF-8): then nothing more. */
static void round_trip(tmsf_context *ctx, int n, const double *P, char **names,
                       tmsf_nnav_space space) {
  char path[4096];
  const char *dir = getenv("TMPDIR");
  snprintf(path, sizeof(path), "%s/fuzz-brainsight-%ld.txt", dir && *dir ? dir : "/tmp",
           (long)getpid());
  int ierr = tmsf_nnav_write_brainsight(ctx, path, n, P, (const char *const *)names, space);
  if (ierr == TMSF_ERR_ARGUMENT) return;
  if (ierr) abort();
  int m = -1;
  double *Q = NULL;
  char **got = NULL;
  tmsf_nnav_space sp;
  ierr = tmsf_nnav_read_brainsight(ctx, path, TMSF_NNAV_TARGETS, &m, &Q, &got, &sp);
  unlink(path);
  if (ierr || m != n || sp != space) abort();
  for (int i = 0; i < 16 * n; i++) {
    double a = P[i], b = Q[i], s = fabs(a) > 1.0 ? fabs(a) : 1.0;
    if (!(fabs(a - b) <= 1e-9 * s)) abort();
  }
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], got[i])) abort();
  tmsf_nnav_free(m, &Q, &got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) return 0;
  tmsf_nnav_table table = size > 0 && (data[0] & 1) ? TMSF_NNAV_SAMPLES : TMSF_NNAV_TARGETS;
  if (size > 0) data++, size--;
  int n = -1;
  double *P = NULL;
  char **names = NULL;
  tmsf_nnav_space space = (tmsf_nnav_space)-1;
  int ierr = tmsf_nnav_read_brainsight_buffer(ctx, "fuzz.txt", (const char *)data, size, table, &n,
                                              &P, &names, &space);
  if (ierr) {
    if (n != 0 || P || names || tmsf_context_last_error(ctx)[0] == '\0') abort();
    if (!strstr(tmsf_context_last_error(ctx), "fuzz.txt")) abort();
  } else {
    if (n < 0 || (n > 0 && (!P || !names))) abort();
    if (space != TMSF_NNAV_SPACE_NIFTI_ALIGNED && space != TMSF_NNAV_SPACE_NIFTI_SCANNER) abort();
    for (int i = 0; i < n; i++)
      if (tmsf_pose_check(ctx, P + 16 * i) || !names[i]) abort();
    if (n <= 64) round_trip(ctx, n, P, names, space);
    tmsf_nnav_free(n, &P, &names);
  }
  tmsf_context_destroy(&ctx);
  return 0;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-pose.c: libFuzzer target for the pose-file parser (placement report
 * JSON or 16 numbers; tmsf_pose_read's in-memory part).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pose-impl.h"
#include "tmsf-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) return 0;
  double P[16];
  int ierr = tmsf_pose_parse_buffer(ctx, "fuzz.json", (const char *)data, size, P);
  if (ierr) {
    if (tmsf_context_last_error(ctx)[0] == '\0') abort(); /* every failure explains itself */
  } else if (tmsf_pose_check(ctx, P)) {
    abort(); /* a returned pose is a rigid motion */
  }
  tmsf_context_destroy(&ctx);
  return 0;
}

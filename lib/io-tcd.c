/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-tcd.c: SimNIBS 4 .tcd JSON coil files (in progress).
 */
#include "tmsf-impl.h"

int tmsf_tcd_read_buffer(tmsf_context *ctx, const char *origin, const char *data, size_t size,
                         tmsf_coil **coil) {
  (void)data, (void)size;
  *coil = NULL;
  return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED, "%s: .tcd coils are not supported yet", origin);
}

int tmsf_tcd_read(tmsf_context *ctx, const char *path, tmsf_coil **coil) {
  unsigned char *data;
  size_t size;
  TMSF_CALL(tmsf_file_read_all(ctx, path, &data, &size));
  int ierr = tmsf_tcd_read_buffer(ctx, path, (const char *)data, size, coil);
  free(data);
  return ierr;
}

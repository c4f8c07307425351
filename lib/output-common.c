/*
 * SPDX-License-Identifier: BSD-3-Clause
 * output-common.c: temporary names and atomic renames for the output writers.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "output-impl.h"

int tmsf_output_ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

int tmsf_output_temp_name(tmsf_context *ctx, const char *path, const char *keep_ext, char **tmp) {
  *tmp = NULL;
  if (!path || !*path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "empty output path");
  size_t plen = strlen(path), elen = strlen(keep_ext);
  if (elen > plen || !tmsf_output_ends_with(path, keep_ext)) elen = 0;
  char *t = malloc(plen + 32);
  if (!t) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  static unsigned counter = 0; /* only varies the name; the O_EXCL open decides */
  int fd = -1, e = 0;
  for (unsigned attempt = 0; attempt < 100 && fd < 0; attempt++) {
    unsigned r = (unsigned)getpid() * 2654435761u ^ (unsigned)(uint64_t)(tmsf_wtime() * 1e9) ^
                 (unsigned)((uintptr_t)t >> 4) ^ ((attempt + counter++) * 40503u);
    memcpy(t, path, plen - elen);
    snprintf(t + (plen - elen), 32, ".tmp.%06x%s", r & 0xffffffu, path + plen - elen);
    fd = open(t, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
      e = errno;
      if (e != EEXIST) break;
    }
  }
  if (fd < 0) {
    free(t);
    return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot create a file there: %s", path, strerror(e));
  }
  close(fd);
  *tmp = t;
  return TMSF_SUCCESS;
}

int tmsf_output_commit(tmsf_context *ctx, const char *tmp, const char *path) {
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot rename the finished file into place: %s", path,
                      strerror(e));
  }
  return TMSF_SUCCESS;
}

double tmsf_output_m_to_mm(double m) {
  double x = m * 1e3;
  if (x / 1e3 == m || !isfinite(x)) return x;
  double up = nextafter(x, INFINITY), down = nextafter(x, -INFINITY);
  return up / 1e3 == m ? up : down / 1e3 == m ? down : x;
}

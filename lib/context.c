/*
 * SPDX-License-Identifier: BSD-3-Clause
 * context.c: library context, status codes, errors, small utilities.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>
#include <stdlib.h>
#include "tmsf-impl.h"

const char *tmsf_status_string(int status) {
  switch (status) {
#define TMSF_STATUS_CASE_(name, value, msg)                                                        \
  case value:                                                                                      \
    return msg;
    TMSF_STATUS_LIST(TMSF_STATUS_CASE_)
#undef TMSF_STATUS_CASE_
  default:
    return "unknown status";
  }
}

const char *tmsf_version(void) { return TMSF_VERSION_STRING; }

const char *tmsf_build_info(void) {
  return "openmp="
#if TMSF_HAVE_OPENMP
         "yes"
#else
         "no"
#endif
         " hdf5="
#if TMSF_HAVE_HDF5
         "yes"
#else
         "no"
#endif
         " nifti="
#if TMSF_HAVE_NIFTI
         "yes"
#else
         "no"
#endif
         " cholmod="
#if TMSF_HAVE_CHOLMOD
         "yes"
#else
         "no"
#endif
         " petsc="
#if TMSF_HAVE_PETSC
         "yes"
#else
         "no"
#endif
         " gsl=yes";
}

int tmsf_context_create(tmsf_context **ctx) {
  if (!ctx) return TMSF_ERR_ARGUMENT;
  *ctx = calloc(1, sizeof(**ctx));
  if (!*ctx) return TMSF_ERR_MEMORY;
  return TMSF_SUCCESS;
}

int tmsf_context_destroy(tmsf_context **ctx) {
  if (!ctx || !*ctx) return TMSF_SUCCESS;
  free(*ctx);
  *ctx = NULL;
  return TMSF_SUCCESS;
}

int tmsf_context_set_progress(tmsf_context *ctx, tmsf_progress_fn fn, void *user) {
  if (!ctx) return TMSF_ERR_ARGUMENT;
  ctx->progress = fn;
  ctx->progress_user = fn ? user : NULL;
  return TMSF_SUCCESS;
}

int tmsf_context_get_progress(const tmsf_context *ctx, tmsf_progress_fn *fn, void **user) {
  if (!ctx) return TMSF_ERR_ARGUMENT;
  if (fn) *fn = ctx->progress;
  if (user) *user = ctx->progress_user;
  return TMSF_SUCCESS;
}

int tmsf_progress_(tmsf_context *ctx, const char *stage, double fraction) {
  if (!ctx || !ctx->progress) return TMSF_SUCCESS;
  if (fraction < 0.0) fraction = 0.0;
  if (fraction > 1.0) fraction = 1.0;
  int stop = ctx->progress(ctx->progress_user, stage, fraction);
  if (stop && fraction < 1.0)
    return TMSF_ERROR(ctx, TMSF_ERR_CANCELLED, "%s: cancelled by the progress callback", stage);
  return TMSF_SUCCESS;
}

int tmsf_context_set_threads(tmsf_context *ctx, int num_threads) {
  if (!ctx) return TMSF_ERR_ARGUMENT;
  if (num_threads < 0)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "number of threads must be >= 0 (0: default), got %d",
                      num_threads);
  ctx->num_threads = num_threads;
  return TMSF_SUCCESS;
}

int tmsf_context_get_threads(const tmsf_context *ctx, int *num_threads) {
  if (!ctx || !num_threads) return TMSF_ERR_ARGUMENT;
  *num_threads = tmsf_threads(ctx);
  return TMSF_SUCCESS;
}

const char *tmsf_context_last_error(const tmsf_context *ctx) {
  if (!ctx) return "no context";
  return ctx->message;
}

int tmsf_context_last_status(const tmsf_context *ctx) { return ctx ? ctx->status : TMSF_ERR_ARGUMENT; }

int tmsf_context_last_error_origin(const tmsf_context *ctx, const char **file, int *line,
                                   const char **function) {
  if (!ctx) return TMSF_ERR_ARGUMENT;
  if (file) *file = ctx->src_file ? ctx->src_file : "";
  if (line) *line = ctx->src_line;
  if (function) *function = ctx->src_func ? ctx->src_func : "";
  return TMSF_SUCCESS;
}

int tmsf_context_clear_error(tmsf_context *ctx) {
  if (!ctx) return TMSF_ERR_ARGUMENT;
  ctx->status = TMSF_SUCCESS;
  ctx->message[0] = '\0';
  ctx->src_file = ctx->src_func = NULL;
  ctx->src_line = 0;
  return TMSF_SUCCESS;
}

int tmsf_error_(tmsf_context *ctx, const char *file, int line, const char *func, int code,
                const char *fmt, ...) {
  if (!ctx) return code;
  ctx->status = code;
  ctx->src_file = file;
  ctx->src_line = line;
  ctx->src_func = func;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->message, sizeof(ctx->message), fmt, ap);
  va_end(ap);
  return code;
}

void *tmsf_malloc_array(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  size_t bytes = count * size;
  return malloc(bytes ? bytes : 1);
}

void *tmsf_calloc_array(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

char *tmsf_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

double tmsf_wtime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double tmsf_dot(const tmsf_context *ctx, int64_t n, const double *x, const double *y) {
  int64_t nb = (n + TMSF_REDUCE_BLOCK - 1) / TMSF_REDUCE_BLOCK;
  double stack_part[64];
  double *part = nb <= 64 ? stack_part : malloc((size_t)nb * sizeof(double));
  if (!part) { /* fall back to a serial sum in the same block order */
    double s = 0.0;
    for (int64_t b = 0; b < nb; b++) {
      double t = 0.0;
      int64_t end = (b + 1) * TMSF_REDUCE_BLOCK < n ? (b + 1) * TMSF_REDUCE_BLOCK : n;
      for (int64_t i = b * TMSF_REDUCE_BLOCK; i < end; i++) t += x[i] * y[i];
      s += t;
    }
    return s;
  }
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(tmsf_threads(ctx)) if (nb > 4)
#else
  (void)ctx;
#endif
  for (int64_t b = 0; b < nb; b++) {
    double t = 0.0;
    int64_t end = (b + 1) * TMSF_REDUCE_BLOCK < n ? (b + 1) * TMSF_REDUCE_BLOCK : n;
    for (int64_t i = b * TMSF_REDUCE_BLOCK; i < end; i++) t += x[i] * y[i];
    part[b] = t;
  }
  double s = 0.0;
  for (int64_t b = 0; b < nb; b++) s += part[b];
  if (part != stack_part) free(part);
  return s;
}

int tmsf_file_read_all(tmsf_context *ctx, const char *path, unsigned char **data, size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading: %s", path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", path);
  }
  for (;;) {
    if (len + 1 >= cap) {
      size_t ncap = cap * 2;
      unsigned char *nb = realloc(buf, ncap);
      if (!nb) {
        free(buf);
        fclose(f);
        return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory reading %zu bytes", path, ncap);
      }
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + len, 1, cap - 1 - len, f);
    len += got;
    if (got == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: read error", path);
  }
  buf[len] = '\0';
  *data = buf;
  *size = len;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* On-disk cache (coil grids, meshed heads)                                  */
/* ------------------------------------------------------------------------- */

int tmsf_default_cache_dir(char *buf, size_t size) {
  if (!buf || size == 0) return TMSF_ERR_ARGUMENT;
  char tmp[4096] = "";
  const char *env = getenv("TMSF_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (env) {
    if (strcmp(env, "off") != 0) snprintf(tmp, sizeof(tmp), "%s", env);
  } else if (xdg && xdg[0] == '/') {
    snprintf(tmp, sizeof(tmp), "%s/tmsfield", xdg);
  } else if (home && home[0]) {
    snprintf(tmp, sizeof(tmp), "%s/.cache/tmsfield", home);
  }
  if (strlen(tmp) >= size) return TMSF_ERR_ARGUMENT;
  memcpy(buf, tmp, strlen(tmp) + 1);
  return TMSF_SUCCESS;
}

int tmsf_make_dirs(const char *dir) {
  char path[4096];
  if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) return -1;
  for (char *q = path + 1; *q; q++)
    if (*q == '/') {
      *q = '\0';
      if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
      *q = '/';
    }
  if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

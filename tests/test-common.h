/*
 * SPDX-License-Identifier: BSD-3-Clause
 * test-common.h: a tiny test harness — checks with explicit tolerances, in
 * the manner of gsl_test_rel, and paths to the test data.
 */
#ifndef TMSF_TEST_COMMON_H
#define TMSF_TEST_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tmsfield/tmsfield.h>

static int test_failures = 0;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      test_failures++;                                                                             \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                              \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fprintf(stderr, "\n");                                                                       \
    }                                                                                              \
  } while (0)

/* A call that must succeed; prints the context's message otherwise. */
#define CHECK_OK(ctx, call)                                                                        \
  do {                                                                                             \
    int check_ok_ierr_ = (call);                                                                   \
    if (check_ok_ierr_) {                                                                          \
      test_failures++;                                                                             \
      fprintf(stderr, "FAIL %s:%d: %s returned %d (%s): %s\n", __FILE__, __LINE__, #call,          \
              check_ok_ierr_, tmsf_status_string(check_ok_ierr_), tmsf_context_last_error(ctx));   \
    }                                                                                              \
  } while (0)

/* A call that must succeed, else the test cannot go on. */
#define REQUIRE_OK(ctx, call)                                                                      \
  do {                                                                                             \
    int require_ok_ierr_ = (call);                                                                 \
    if (require_ok_ierr_) {                                                                        \
      fprintf(stderr, "FATAL %s:%d: %s returned %d (%s): %s\n", __FILE__, __LINE__, #call,         \
              require_ok_ierr_, tmsf_status_string(require_ok_ierr_),                              \
              tmsf_context_last_error(ctx));                                                       \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

/* |got - want| <= rel * |want| (or <= rel when want == 0). */
#define CHECK_REL(got, want, rel, what)                                                            \
  do {                                                                                             \
    double g_ = (got), w_ = (want), r_ = (rel);                                                    \
    double e_ = w_ != 0.0 ? fabs(g_ - w_) / fabs(w_) : fabs(g_);                                   \
    if (!(e_ <= r_)) {                                                                             \
      test_failures++;                                                                             \
      fprintf(stderr, "FAIL %s:%d: %s: got %.17g, want %.17g (relative error %.3g > %.3g)\n",      \
              __FILE__, __LINE__, what, g_, w_, e_, r_);                                           \
    }                                                                                              \
  } while (0)

/* Path of a data file: TMSF_SOURCE_DIR is set by meson. */
static inline const char *test_path(const char *rel) {
  static char buf[8][4096];
  static int k = 0;
  k = (k + 1) % 8;
  const char *root = getenv("TMSF_SOURCE_DIR");
#ifdef TMSF_SOURCE_DIR_DEFAULT
  if (!root) root = TMSF_SOURCE_DIR_DEFAULT;
#endif
  if (!root) root = ".";
  snprintf(buf[k], sizeof(buf[k]), "%s/%s", root, rel);
  return buf[k];
}

static inline int test_summary(const char *name) {
  if (test_failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif

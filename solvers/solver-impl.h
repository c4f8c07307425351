/*
 * SPDX-License-Identifier: BSD-3-Clause
 * solver-impl.h: the interface every linear solver implements (never installed).
 *
 * A solver is a small table of operations plus private data.  The generic
 * layer (solver.c) validates arguments and the matrix, times the calls and
 * keeps the statistics; an implementation only does the numerical work.
 */
#ifndef TMSF_SOLVER_IMPL_H
#define TMSF_SOLVER_IMPL_H

#include "tmsf-impl.h"

typedef struct tmsf_solver_ops {
  const char *name;
  /* Set up for the matrix in s->n, s->row_ptr, s->cols, s->vals. */
  int (*setup)(tmsf_solver *s);
  /* Solve num_rhs systems; x holds initial guesses.  Set s->iterations and
   * s->residual (max over right-hand sides). */
  int (*solve)(tmsf_solver *s, int num_rhs, const double *b, double *x);
  /* Release s->data. */
  void (*destroy)(tmsf_solver *s);
} tmsf_solver_ops;

struct tmsf_solver {
  tmsf_context *ctx;
  const tmsf_solver_ops *ops;
  void *data;
  double rtol;
  int64_t max_iterations;
  /* borrowed matrix */
  int64_t n;
  const int64_t *row_ptr;
  const int32_t *cols;
  const double *vals;
  int is_setup;
  /* statistics */
  int64_t iterations;
  double residual;
  double setup_seconds, solve_seconds;
  double memory_bytes;
};

/* Registered implementations. */
extern const tmsf_solver_ops tmsf_solver_cg_ops;

/* y = A x for the borrowed CSR matrix, threaded by rows (deterministic). */
void tmsf_csr_matvec(const tmsf_solver *s, const double *x, double *y);

#endif

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
  /* 1: honours the energy stopping rule (s->energy_tol); 0: residual rule only
   * (or a direct solver) */
  int energy_rule;
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
  /* energy stopping rule (pcg.c): relative A-norm error tolerance and, for the
   * current solve only, one reference energy per right-hand side; 0 / NULL:
   * the residual rule */
  double energy_tol;
  const double *energy_ref;
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
extern const tmsf_solver_ops tmsf_solver_cg_ops;  /* Jacobi CG, the reference */
extern const tmsf_solver_ops tmsf_solver_amg_ops; /* CG + smoothed-aggregation multigrid */
#if TMSF_HAVE_CHOLMOD
extern const tmsf_solver_ops tmsf_solver_cholmod_ops; /* sparse Cholesky (SuiteSparse CHOLMOD) */
#endif

#if TMSF_HAVE_PETSC
extern const tmsf_solver_ops tmsf_solver_petsc_ops; /* PETSc CG + BoomerAMG over MPI */
#endif

/* Preconditioned conjugate gradient (pcg.c) shared by the iterative solvers. */
typedef struct tmsf_pcg_prec {
  void *data;
  void (*apply)(void *data, const double *r, double *z); /* z = M^-1 r */
  /* the same for nv interleaved vectors (r[i * nv + j]); NULL: no block solves */
  void (*apply_block)(void *data, int nv, const double *r, double *z);
} tmsf_pcg_prec;

/* Most right-hand sides one block solve advances together. */
#define TMSF_PCG_MAX_BLOCK 8

/* Doubles of work space tmsf_pcg_solve needs for n unknowns. */
int tmsf_pcg_work_size(int64_t n, int64_t *doubles);
/* One right-hand side; x holds the initial guess.  energy_ref > 0 with
 * s->energy_tol > 0 selects the energy rule. */
int tmsf_pcg_solve(tmsf_solver *s, const tmsf_pcg_prec *M, const double *b, double *x,
                   double energy_ref, double *work, int64_t *iters, double *relres);
/* Several right-hand sides one after another; updates s->iterations and
 * s->residual (max), reads s->energy_ref. */
int tmsf_pcg_solve_many(tmsf_solver *s, const tmsf_pcg_prec *M, int num_rhs, const double *b,
                        double *x, double *work);

/* nv right-hand sides in lockstep (column-major b and x, interleaved
 * internally), each stopping by its own rule; work holds
 * tmsf_pcg_block_work_size doubles. */
int tmsf_pcg_block_work_size(int64_t n, int nv, int64_t *doubles);
int tmsf_pcg_solve_block(tmsf_solver *s, const tmsf_pcg_prec *M, int nv, const double *b, double *x,
                         const double *energy_ref, double *work, int64_t *max_iters,
                         double *max_relres);

/* y = A x for the borrowed CSR matrix, threaded by rows (deterministic). */
void tmsf_csr_matvec(const tmsf_solver *s, const double *x, double *y);

/* tmsf_solver_setup without the structural checks of the CSR arrays
 * (sorted columns, diagonal, symmetry, finite values), for the matrix the
 * simulation assembles itself, which has them by construction (the solvers
 * still reject a matrix that is not positive definite numerically). */
int tmsf_solver_setup_assembled(tmsf_solver *s, int64_t n, const int64_t *row_ptr, const int32_t *cols,
                                const double *vals);

#endif

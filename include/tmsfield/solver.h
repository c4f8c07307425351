/*
 * SPDX-License-Identifier: BSD-3-Clause
 * solver.h: linear solvers for the FEM system, selected by name.
 *
 * One interface for every solver: set up once per matrix (per head and
 * conductivities), then solve any number of right-hand sides, each starting
 * from the caller's initial guess (warm start).  Simulations use it
 * internally; it is public so that benchmarks and other programs can drive the
 * solvers on their own symmetric positive definite systems.
 *
 * Registered solvers (tmsf_solver_list):
 *   "cg"  preconditioned conjugate gradient (Jacobi), threaded and
 *         deterministic: the serial reference every other solver is tested
 *         against.
 *   "cholmod"  sparse Cholesky factorisation (SuiteSparse CHOLMOD; builds
 *         with TMSF_HAVE_CHOLMOD): factors in setup, ignores the initial
 *         guess, reports 1 iteration per solve (2 after a step of iterative
 *         refinement, taken when the residual misses the tolerance) and
 *         rejects a singular or indefinite matrix in setup.
 */
#ifndef TMSFIELD_SOLVER_H
#define TMSFIELD_SOLVER_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Quantities a solver reports after setup or solve. */
typedef enum tmsf_solver_info {
  TMSF_SOLVER_ITERATIONS = 0,      /**< iterations of the last solve (max over right-hand sides) */
  TMSF_SOLVER_RESIDUAL = 1,        /**< final ||b - A x|| / ||b|| of the last solve (max) */
  TMSF_SOLVER_SETUP_SECONDS = 2,   /**< wall seconds of the last setup */
  TMSF_SOLVER_SOLVE_SECONDS = 3,   /**< wall seconds of the last solve */
  TMSF_SOLVER_MEMORY_BYTES = 4,    /**< bytes held by the solver beyond the borrowed matrix */
} tmsf_solver_info;

/** Number of registered solvers and their names (static strings). */
TMSF_EXPORT int tmsf_solver_list(int *num_solvers, const char *const **names);

/** Create a solver by name; an unknown name fails with TMSF_ERR_NOT_FOUND and
 * the closest registered name in the message. */
TMSF_EXPORT int tmsf_solver_create(tmsf_context *ctx, const char *name, tmsf_solver **solver);

/** Destroy (accepts NULL; sets *solver = NULL). */
TMSF_EXPORT int tmsf_solver_destroy(tmsf_solver **solver);

/** Name of the solver (static string). */
TMSF_EXPORT const char *tmsf_solver_get_name(const tmsf_solver *solver);

/** Stop when ||b - A x|| <= rtol ||b|| (default 1e-10, the reference tool's
 * setting); 0 < rtol < 1. */
TMSF_EXPORT int tmsf_solver_set_tolerance(tmsf_solver *solver, double rtol);

/** Iteration cap (default 10000); reaching it fails with TMSF_ERR_CONVERGENCE. */
TMSF_EXPORT int tmsf_solver_set_max_iterations(tmsf_solver *solver, int64_t max_iterations);

/**
 * Set up for the n x n symmetric positive definite matrix in CSR form (both
 * triangles stored, column indices sorted within each row).  The arrays are
 * borrowed and must stay valid and unchanged until the next setup or destroy.
 * Non-finite entries, a non-positive diagonal, an unsorted or out-of-range
 * column index and an asymmetric matrix are rejected with TMSF_ERR_NUMERIC or
 * TMSF_ERR_ARGUMENT and a message naming the row.
 */
TMSF_EXPORT int tmsf_solver_setup(tmsf_solver *solver, int64_t n, const int64_t *row_ptr,
                                  const int32_t *cols, const double *vals);

/**
 * Solve A x_j = b_j for num_rhs right-hand sides stored one after another
 * (b[j*n + i]); x holds the initial guesses on entry (warm start; zeros for a
 * cold start) and the solutions on return.  A matrix found not to be positive
 * definite (p^T A p <= 0) fails with TMSF_ERR_NUMERIC; no convergence within
 * the iteration cap with TMSF_ERR_CONVERGENCE.
 */
TMSF_EXPORT int tmsf_solver_solve(tmsf_solver *solver, int num_rhs, const double *b, double *x);

/**
 * Solve with the energy stopping rule instead of the residual one: iterative
 * solvers stop when the A-norm of the error of x, estimated from the
 * conjugate-gradient coefficients (the next few terms of the exact series
 * ||x* - x_k||_A^2 = sum_{j>=k} alpha_j r_j.z_j plus a geometric tail), is at
 * most energy_tol * sqrt(reference_energy[j] - b_j . x_j).  For the FEM system
 * of a simulation, reference_energy = sum_e sigma_e V_e |a_e|^2 makes the
 * right side the sigma-weighted L2 norm of E, and the A-norm of the error the
 * sigma-weighted L2 norm of the error in E.  Direct solvers ignore the rule.
 */
TMSF_EXPORT int tmsf_solver_solve_energy(tmsf_solver *solver, int num_rhs, const double *b,
                                         double *x, double energy_tol,
                                         const double *reference_energy);

/** Read a reported quantity (see tmsf_solver_info). */
TMSF_EXPORT int tmsf_solver_get_info(const tmsf_solver *solver, tmsf_solver_info what,
                                     double *value);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_SOLVER_H */

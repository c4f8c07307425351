/*
 * SPDX-License-Identifier: BSD-3-Clause
 * solver.c: the solver registry and the generic layer of the solver interface.
 */
#include <string.h>

#include "solver-impl.h"

static const tmsf_solver_ops *const registry[] = {&tmsf_solver_cg_ops, &tmsf_solver_amg_ops,
#if TMSF_HAVE_CHOLMOD
                                                   &tmsf_solver_cholmod_ops,
#endif
#if TMSF_HAVE_PETSC
                                                   &tmsf_solver_petsc_ops,
#endif
};
static const char *const registry_names[] = {"cg", "amg",
#if TMSF_HAVE_CHOLMOD
                                             "cholmod",
#endif
#if TMSF_HAVE_PETSC
                                             "petsc",
#endif
};
#define NUM_SOLVERS ((int)(sizeof(registry) / sizeof(registry[0])))

int tmsf_solver_list(int *num_solvers, const char *const **names) {
  if (!num_solvers || !names) return TMSF_ERR_ARGUMENT;
  *num_solvers = NUM_SOLVERS;
  *names = registry_names;
  return TMSF_SUCCESS;
}

/* Levenshtein distance, for "did you mean" messages. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return (size_t)-1;
  size_t d[64][64];
  for (size_t i = 0; i <= la; i++) d[i][0] = i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t s = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      size_t u = d[i - 1][j] + 1, l = d[i][j - 1] + 1;
      d[i][j] = s < u ? (s < l ? s : l) : (u < l ? u : l);
    }
  return d[la][lb];
}

int tmsf_solver_create(tmsf_context *ctx, const char *name, tmsf_solver **solver) {
  if (!ctx || !name || !solver) return TMSF_ERR_ARGUMENT;
  *solver = NULL;
  const tmsf_solver_ops *ops = NULL;
  for (int i = 0; i < NUM_SOLVERS; i++)
    if (strcmp(registry[i]->name, name) == 0) ops = registry[i];
  if (!ops) {
    const char *best = registry[0]->name;
    size_t bd = (size_t)-1;
    for (int i = 0; i < NUM_SOLVERS; i++) {
      size_t d = edit_distance(name, registry[i]->name);
      if (d < bd) bd = d, best = registry[i]->name;
    }
    return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND, "unknown solver '%s'; did you mean '%s'?", name, best);
  }
  tmsf_solver *s = calloc(1, sizeof(*s));
  if (!s) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  s->ctx = ctx;
  s->ops = ops;
  s->rtol = 1e-10;
  s->max_iterations = 10000;
  *solver = s;
  return TMSF_SUCCESS;
}

int tmsf_solver_destroy(tmsf_solver **solver) {
  if (!solver || !*solver) return TMSF_SUCCESS;
  if ((*solver)->ops->destroy) (*solver)->ops->destroy(*solver);
  free(*solver);
  *solver = NULL;
  return TMSF_SUCCESS;
}

const char *tmsf_solver_get_name(const tmsf_solver *solver) { return solver ? solver->ops->name : ""; }

int tmsf_solver_has_energy_rule(const tmsf_solver *solver) { return solver && solver->ops->energy_rule; }

int tmsf_solver_set_tolerance(tmsf_solver *solver, double rtol) {
  if (!solver) return TMSF_ERR_ARGUMENT;
  if (!(rtol > 0.0 && rtol < 1.0))
    return TMSF_ERROR(solver->ctx, TMSF_ERR_ARGUMENT, "solver tolerance must be in (0, 1), got %g", rtol);
  solver->rtol = rtol;
  return TMSF_SUCCESS;
}

int tmsf_solver_set_max_iterations(tmsf_solver *solver, int64_t max_iterations) {
  if (!solver) return TMSF_ERR_ARGUMENT;
  if (max_iterations < 1)
    return TMSF_ERROR(solver->ctx, TMSF_ERR_ARGUMENT, "iteration cap must be >= 1, got %lld",
                      (long long)max_iterations);
  solver->max_iterations = max_iterations;
  return TMSF_SUCCESS;
}

/* Structure, finiteness, positive diagonal and symmetry of a CSR matrix. */
static int check_matrix(tmsf_solver *s, int64_t n, const int64_t *rp, const int32_t *ci, const double *v) {
  tmsf_context *ctx = s->ctx;
  if (rp[0] != 0) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "matrix row_ptr[0] is %lld; expected 0", (long long)rp[0]);
  for (int64_t i = 0; i < n; i++) {
    if (rp[i + 1] < rp[i])
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "matrix row %lld: row_ptr decreases", (long long)i);
    int has_diag = 0;
    for (int64_t p = rp[i]; p < rp[i + 1]; p++) {
      int64_t j = ci[p];
      if (j < 0 || j >= n)
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "matrix row %lld: column %lld out of range 0..%lld",
                          (long long)i, (long long)j, (long long)n - 1);
      if (p > rp[i] && ci[p - 1] >= j)
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "matrix row %lld: columns not strictly increasing",
                          (long long)i);
      if (!isfinite(v[p]))
        return TMSF_ERROR(ctx, TMSF_ERR_NUMERIC, "matrix row %lld, column %lld: value %g is not finite",
                          (long long)i, (long long)j, v[p]);
      if (j == i) {
        has_diag = 1;
        if (!(v[p] > 0.0))
          return TMSF_ERROR(ctx, TMSF_ERR_NUMERIC,
                            "matrix row %lld: diagonal %g is not positive; the matrix is not "
                            "symmetric positive definite",
                            (long long)i, v[p]);
      }
    }
    if (!has_diag)
      return TMSF_ERROR(ctx, TMSF_ERR_NUMERIC,
                        "matrix row %lld has no diagonal entry; the matrix is not symmetric "
                        "positive definite",
                        (long long)i);
  }
  /* symmetry: A(i,j) == A(j,i) to rounding */
  int64_t bad = -1;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(tmsf_threads(ctx)) reduction(max : bad)
#endif
  for (int64_t i = 0; i < n; i++) {
    for (int64_t p = rp[i]; p < rp[i + 1]; p++) {
      int64_t j = ci[p];
      int64_t lo = rp[j], hi = rp[j + 1] - 1;
      double vt = NAN;
      while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ci[mid] == i) {
          vt = v[mid];
          break;
        }
        if (ci[mid] < i) lo = mid + 1;
        else hi = mid - 1;
      }
      double scale = fabs(v[p]) > fabs(vt) ? fabs(v[p]) : fabs(vt);
      if (!(fabs(vt - v[p]) <= 1e-12 * scale)) {
        if (i > bad) bad = i;
        break;
      }
    }
  }
  if (bad >= 0)
    return TMSF_ERROR(ctx, TMSF_ERR_NUMERIC,
                      "matrix is not symmetric (row %lld differs from its transpose); expected a "
                      "symmetric positive definite matrix",
                      (long long)bad);
  return TMSF_SUCCESS;
}

static int solver_setup(tmsf_solver *s, int64_t n, const int64_t *row_ptr, const int32_t *cols,
                        const double *vals, int check) {
  if (!s) return TMSF_ERR_ARGUMENT;
  if (n < 1 || !row_ptr || !cols || !vals)
    return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "solver setup: need n >= 1 and the three CSR arrays");
  double t0 = tmsf_wtime();
  s->is_setup = 0;
  if (check) TMSF_CALL(check_matrix(s, n, row_ptr, cols, vals));
  s->n = n;
  s->row_ptr = row_ptr;
  s->cols = cols;
  s->vals = vals;
  TMSF_CALL(s->ops->setup(s));
  s->is_setup = 1;
  s->setup_seconds = tmsf_wtime() - t0;
  return TMSF_SUCCESS;
}

int tmsf_solver_setup(tmsf_solver *s, int64_t n, const int64_t *row_ptr, const int32_t *cols,
                      const double *vals) {
  return solver_setup(s, n, row_ptr, cols, vals, 1);
}

int tmsf_solver_setup_assembled(tmsf_solver *s, int64_t n, const int64_t *row_ptr, const int32_t *cols,
                                const double *vals) {
  return solver_setup(s, n, row_ptr, cols, vals, 0);
}

int tmsf_solver_solve(tmsf_solver *s, int num_rhs, const double *b, double *x) {
  if (!s) return TMSF_ERR_ARGUMENT;
  if (!s->is_setup) return TMSF_ERROR(s->ctx, TMSF_ERR_STATE, "solver '%s': solve before setup", s->ops->name);
  if (num_rhs < 1 || !b || !x)
    return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "solver solve: need num_rhs >= 1, b and x");
  for (int64_t i = 0; i < (int64_t)num_rhs * s->n; i++)
    if (!isfinite(b[i]) || !isfinite(x[i]))
      return TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC,
                        "solver solve: right-hand side %lld, entry %lld is not finite (b %g, x %g)",
                        (long long)(i / s->n), (long long)(i % s->n), b[i], x[i]);
  double t0 = tmsf_wtime();
  s->iterations = 0;
  s->residual = 0.0;
  int ierr = s->ops->solve(s, num_rhs, b, x);
  s->solve_seconds = tmsf_wtime() - t0;
  return ierr;
}

int tmsf_solver_solve_energy(tmsf_solver *s, int num_rhs, const double *b, double *x,
                             double energy_tol, const double *reference_energy) {
  if (!s) return TMSF_ERR_ARGUMENT;
  if (!(energy_tol > 0.0 && energy_tol < 1.0) || !reference_energy)
    return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT,
                      "energy tolerance must be in (0, 1) with one reference energy per "
                      "right-hand side, got %g",
                      energy_tol);
  for (int j = 0; j < num_rhs; j++)
    if (!(reference_energy[j] >= 0.0) || !isfinite(reference_energy[j]))
      return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "reference energy %d is %g; expected >= 0", j,
                        reference_energy[j]);
  s->energy_tol = energy_tol;
  s->energy_ref = reference_energy;
  int ierr = tmsf_solver_solve(s, num_rhs, b, x);
  s->energy_tol = 0.0;
  s->energy_ref = NULL;
  return ierr;
}

int tmsf_solver_get_info(const tmsf_solver *s, tmsf_solver_info what, double *value) {
  if (!s || !value) return TMSF_ERR_ARGUMENT;
  switch (what) {
  case TMSF_SOLVER_ITERATIONS: *value = (double)s->iterations; break;
  case TMSF_SOLVER_RESIDUAL: *value = s->residual; break;
  case TMSF_SOLVER_SETUP_SECONDS: *value = s->setup_seconds; break;
  case TMSF_SOLVER_SOLVE_SECONDS: *value = s->solve_seconds; break;
  case TMSF_SOLVER_MEMORY_BYTES: *value = s->memory_bytes; break;
  default: return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "unknown solver info %d", (int)what);
  }
  return TMSF_SUCCESS;
}

void tmsf_csr_matvec(const tmsf_solver *s, const double *x, double *y) {
  const int64_t *rp = s->row_ptr;
  const int32_t *ci = s->cols;
  const double *v = s->vals;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 1024) num_threads(tmsf_threads(s->ctx))
#endif
  for (int64_t i = 0; i < s->n; i++) {
    double acc = 0.0;
    for (int64_t p = rp[i]; p < rp[i + 1]; p++) acc += v[p] * x[ci[p]];
    y[i] = acc;
  }
}

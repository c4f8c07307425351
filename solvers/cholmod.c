/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cholmod.c: sparse Cholesky factorisation with SuiteSparse CHOLMOD — the
 * direct solver ("cholmod").
 *
 * Setup factors the matrix once, P A P^T = L L^T, with CHOLMOD's default
 * ordering strategy (AMD, and METIS as well when AMD's fill is high; the
 * better one is kept) and a supernodal numeric factorisation (dense blocks in
 * BLAS/LAPACK).  Every solve then costs two triangular solves for all
 * right-hand sides at once; the caller's initial guess is not used.  The true
 * residual is checked with the borrowed matrix, and one step of iterative
 * refinement is taken when it misses the tolerance.
 *
 * Each solver object has its own cholmod_common (cholmod_l_start/finish), so
 * solvers are independent.  CHOLMOD must never print: its print level is set
 * to 0 and its error handler only records the message for the error we
 * return.  Threads: the dense kernels run in the BLAS (OpenBLAS:
 * OPENBLAS_NUM_THREADS) and CHOLMOD's own OpenMP loops follow OMP_NUM_THREADS;
 * the residual check uses the context's thread count.
 */
#include <float.h>
#include <string.h>

#include <suitesparse/cholmod.h>

#include "solver-impl.h"

typedef struct chol_data {
  cholmod_common c;
  int started;       /* cholmod_l_start was called on c */
  cholmod_factor *L; /* supernodal factor of the current matrix */
  int ordering;      /* CHOLMOD_AMD, CHOLMOD_METIS, ... chosen by cholmod_l_analyze */
} chol_data;

/* CHOLMOD's error handler receives no pointer to its cholmod_common, so the
 * message is kept per thread: it is written during a CHOLMOD call and read
 * right after it, on the same thread. */
static _Thread_local char chol_message[256];

static void chol_error_handler(int status, const char *file, int line, const char *message) {
  (void)file;
  (void)line;
  snprintf(chol_message, sizeof(chol_message), "%s (CHOLMOD status %d)", message ? message : "no message",
           status);
}

static const char *ordering_name(int ordering) {
  switch (ordering) {
  case CHOLMOD_NATURAL: return "natural";
  case CHOLMOD_GIVEN: return "given";
  case CHOLMOD_AMD: return "AMD";
  case CHOLMOD_METIS: return "METIS";
  case CHOLMOD_NESDIS: return "NESDIS";
  case CHOLMOD_COLAMD: return "COLAMD";
  case CHOLMOD_POSTORDERED: return "postordered";
  default: return "unknown";
  }
}

static void chol_destroy(tmsf_solver *s) {
  chol_data *d = s->data;
  if (!d) return;
  if (d->started) {
    if (d->L) cholmod_l_free_factor(&d->L, &d->c);
    cholmod_l_finish(&d->c);
  }
  free(d);
  s->data = NULL;
}

/* The error for a failed CHOLMOD call, from Common->status. */
static int chol_error(tmsf_solver *s, const char *what) {
  chol_data *d = s->data;
  int st = d->c.status;
  const char *msg = chol_message[0] ? chol_message : "no message";
  if (st == CHOLMOD_OUT_OF_MEMORY)
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cholmod: out of memory in %s for %lld unknowns: %s", what,
                      (long long)s->n, msg);
  if (st == CHOLMOD_TOO_LARGE)
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cholmod: %s: the factor of %lld unknowns is too large: %s",
                      what, (long long)s->n, msg);
  if (st == CHOLMOD_NOT_INSTALLED)
    return TMSF_ERROR(s->ctx, TMSF_ERR_UNSUPPORTED, "cholmod: %s: CHOLMOD lacks a module: %s", what, msg);
  return TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC, "cholmod: %s failed: %s", what, msg);
}

/* Diagonal entry of column k (permuted order) of a supernodal factor. */
static double super_diag(const cholmod_factor *L, const SuiteSparse_long *colsuper, int64_t k) {
  const SuiteSparse_long *super = L->super, *pi = L->pi, *px = L->px;
  SuiteSparse_long sn = colsuper[k], j = k - super[sn], nsrow = pi[sn + 1] - pi[sn];
  return ((const double *)L->x)[px[sn] + j + j * nsrow];
}

/*
 * A pivot L(k,k)^2 at or below 100 n eps times the diagonal entry A(p,p) of
 * its column means the column is a combination of the columns eliminated
 * before it to working precision: the matrix is singular, and the computed
 * pivot is rounding noise rather than exactly zero or negative (which CHOLMOD
 * reports itself).  n eps is the rank tolerance of LAPACK's pivoted Cholesky
 * (dpstrf, relative to the largest diagonal there); the factor 100 is margin:
 * the ungrounded stiffness matrices of 343- and 2197-node boxes, singular up
 * to the rounding of their assembly, give pivots of 0.3 and 0.2 n eps.  A
 * well-posed FEM system is far from it: pivot / A(p,p) >= 1 / (A(p,p)
 * (A^-1)(p,p)), one over a conductance times an effective resistance to
 * ground, independent of the mesh size; measured 0.18-0.23 on the grounded
 * sphere meshes of 4.5k to 192k nodes.
 */
static int check_pivots(tmsf_solver *s) {
  chol_data *d = s->data;
  const cholmod_factor *L = d->L;
  const int64_t n = s->n;
  const SuiteSparse_long *perm = L->Perm;
  double *diag = tmsf_malloc_array((size_t)n, sizeof(double));
  SuiteSparse_long *colsuper = tmsf_malloc_array((size_t)n, sizeof(SuiteSparse_long));
  if (!diag || !colsuper) {
    free(diag), free(colsuper);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cholmod: out of memory for %lld unknowns", (long long)n);
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t p = s->row_ptr[i]; p < s->row_ptr[i + 1]; p++)
      if (s->cols[p] == i) diag[i] = s->vals[p];
  const SuiteSparse_long *super = L->super;
  for (size_t sn = 0; sn < L->nsuper; sn++)
    for (SuiteSparse_long k = super[sn]; k < super[sn + 1]; k++) colsuper[k] = (SuiteSparse_long)sn;
  const double tol = 100.0 * (double)n * DBL_EPSILON;
  int64_t worst = -1;
  double worst_ratio = INFINITY;
  for (int64_t k = 0; k < n; k++) {
    double lkk = super_diag(L, colsuper, k);
    double ratio = lkk * lkk / diag[perm[k]];
    if (ratio < worst_ratio) worst_ratio = ratio, worst = k;
  }
  int ierr = TMSF_SUCCESS;
  if (!(worst_ratio > tol))
    ierr = TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC,
                      "cholmod: the matrix is singular to working precision, not positive definite: "
                      "the pivot of column %lld (elimination step %lld of %lld) is %.3g times its "
                      "diagonal entry (at most 100 n eps = %.3g)",
                      (long long)perm[worst], (long long)worst + 1, (long long)n, worst_ratio, tol);
  free(diag);
  free(colsuper);
  return ierr;
}

static int chol_setup(tmsf_solver *s) {
  chol_destroy(s);
  const int64_t n = s->n;
  chol_data *d = calloc(1, sizeof(*d));
  if (!d) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cholmod: out of memory");
  s->data = d;
  chol_message[0] = '\0';
  cholmod_l_start(&d->c);
  d->started = 1;
  d->c.print = 0; /* the library never prints */
  d->c.error_handler = chol_error_handler;
  d->c.supernodal = CHOLMOD_SUPERNODAL;
  /* METIS writes to stderr when it runs out of memory: have CHOLMOD first
   * try to allocate twice METIS's usual peak and fall back to AMD if that
   * fails. */
  d->c.metis_memory = 2.0;

  /* The matrix is symmetric, so row j of the CSR arrays is also column j of
   * a compressed-column matrix; keep rows i <= j of each column: the upper
   * triangle, stype 1 (CHOLMOD ignores the other triangle anyway; this halves
   * the copy). */
  const int64_t *rp = s->row_ptr;
  const int32_t *ci = s->cols;
  int64_t nz = 0;
  for (int64_t j = 0; j < n; j++)
    for (int64_t p = rp[j]; p < rp[j + 1] && ci[p] <= j; p++) nz++;
  cholmod_sparse *A = cholmod_l_allocate_sparse((size_t)n, (size_t)n, (size_t)nz, 1, 1, 1, CHOLMOD_REAL, &d->c);
  if (!A) {
    int ierr = chol_error(s, "allocating the matrix");
    chol_destroy(s);
    return ierr;
  }
  SuiteSparse_long *Ap = A->p, *Ai = A->i;
  double *Ax = A->x;
  int64_t q = 0;
  for (int64_t j = 0; j < n; j++) {
    Ap[j] = q;
    for (int64_t p = rp[j]; p < rp[j + 1] && ci[p] <= j; p++, q++) {
      Ai[q] = ci[p];
      Ax[q] = s->vals[p];
    }
  }
  Ap[n] = q;

  d->L = cholmod_l_analyze(A, &d->c);
  if (!d->L) {
    int ierr = chol_error(s, "analysis (ordering)");
    cholmod_l_free_sparse(&A, &d->c);
    chol_destroy(s);
    return ierr;
  }
  d->ordering = d->c.method[d->c.selected].ordering;
  int ok = cholmod_l_factorize(A, d->L, &d->c);
  cholmod_l_free_sparse(&A, &d->c);
  if (d->c.status == CHOLMOD_NOT_POSDEF || (ok && d->L->minor < (size_t)n)) {
    size_t k = d->L->minor;
    const SuiteSparse_long *perm = d->L->Perm;
    int64_t col = perm && k < (size_t)n ? (int64_t)perm[k] : (int64_t)k;
    int ierr = TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC,
                          "cholmod: the matrix is not positive definite: the Cholesky factorisation "
                          "broke down at column %lld (elimination step %lld of %lld, %s ordering)",
                          (long long)col, (long long)k + 1, (long long)n, ordering_name(d->ordering));
    chol_destroy(s);
    return ierr;
  }
  if (!ok || d->c.status < CHOLMOD_OK || !d->L->is_super) {
    int ierr = !d->L->is_super && ok && d->c.status >= CHOLMOD_OK
                   ? TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC, "cholmod: expected a supernodal factor")
                   : chol_error(s, "factorisation");
    chol_destroy(s);
    return ierr;
  }
  int ierr = check_pivots(s);
  if (ierr) {
    chol_destroy(s);
    return ierr;
  }
  cholmod_l_free_work(&d->c);
  /* what CHOLMOD still holds is the factor (values, row indices, supernode
   * structure, permutation) */
  s->memory_bytes = (double)d->c.memory_inuse + (double)sizeof(*d);
  return TMSF_SUCCESS;
}

/* X = A^-1 B for an n x nrhs column-major block (B is only read). */
static int chol_apply(tmsf_solver *s, int nrhs, const double *b, double *x) {
  chol_data *d = s->data;
  const int64_t n = s->n;
  cholmod_dense B = {0};
  B.nrow = (size_t)n;
  B.ncol = (size_t)nrhs;
  B.nzmax = (size_t)n * (size_t)nrhs;
  B.d = (size_t)n;
  B.x = (void *)(uintptr_t)b; /* cholmod_l_solve does not write B */
  B.xtype = CHOLMOD_REAL;
  B.dtype = CHOLMOD_DOUBLE;
  chol_message[0] = '\0';
  cholmod_dense *X = cholmod_l_solve(CHOLMOD_A, d->L, &B, &d->c);
  if (!X) return chol_error(s, "solve");
  memcpy(x, X->x, (size_t)n * (size_t)nrhs * sizeof(double));
  cholmod_l_free_dense(&X, &d->c);
  return TMSF_SUCCESS;
}

/* r_j = b_j - A x_j for every column; returns max_j ||r_j|| / ||b_j|| (0 for
 * a zero b_j, whose x_j is set to zero). */
static double residuals(tmsf_solver *s, int nrhs, const double *b, double *x, double *r) {
  const int64_t n = s->n;
  double worst = 0.0;
  for (int j = 0; j < nrhs; j++) {
    const double *bj = b + (int64_t)j * n;
    double *xj = x + (int64_t)j * n, *rj = r + (int64_t)j * n;
    double bnorm = sqrt(tmsf_dot(s->ctx, n, bj, bj));
    if (bnorm == 0.0) {
      memset(xj, 0, (size_t)n * sizeof(double));
      memset(rj, 0, (size_t)n * sizeof(double));
      continue;
    }
    tmsf_csr_matvec(s, xj, rj);
    for (int64_t i = 0; i < n; i++) rj[i] = bj[i] - rj[i];
    double rel = sqrt(tmsf_dot(s->ctx, n, rj, rj)) / bnorm;
    if (isnan(rel) || rel > worst) worst = rel; /* once NaN, stays NaN */
  }
  return worst;
}

static int chol_solve(tmsf_solver *s, int num_rhs, const double *b, double *x) {
  const int64_t n = s->n;
  double *r = tmsf_malloc_array((size_t)n * (size_t)num_rhs, sizeof(double));
  double *dx = NULL;
  if (!r)
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cholmod: out of memory for %d right-hand sides of %lld",
                      num_rhs, (long long)n);
  int ierr = chol_apply(s, num_rhs, b, x);
  if (ierr) goto done;
  s->iterations = 1;
  double res = residuals(s, num_rhs, b, x, r), res0 = res;
  if (!(res <= s->rtol)) {
    /* ill-conditioned: one step of iterative refinement, x += A^-1 (b - A x) */
    dx = tmsf_malloc_array((size_t)n * (size_t)num_rhs, sizeof(double));
    if (!dx) {
      ierr = TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cholmod: out of memory for iterative refinement");
      goto done;
    }
    ierr = chol_apply(s, num_rhs, r, dx);
    if (ierr) goto done;
    for (int64_t i = 0; i < n * num_rhs; i++) x[i] += dx[i];
    s->iterations = 2;
    res = residuals(s, num_rhs, b, x, r);
  }
  s->residual = res;
  if (!(res <= s->rtol))
    ierr = TMSF_ERROR(s->ctx, TMSF_ERR_CONVERGENCE,
                      "cholmod: relative residual %.3g (%.3g before one step of iterative refinement) "
                      "exceeds the tolerance %.3g; the matrix is too ill-conditioned for it",
                      res, res0, s->rtol);
done:
  free(r);
  free(dx);
  return ierr;
}

const tmsf_solver_ops tmsf_solver_cholmod_ops = {
    .name = "cholmod",
    .energy_rule = 0,
    .setup = chol_setup,
    .solve = chol_solve,
    .destroy = chol_destroy,
};

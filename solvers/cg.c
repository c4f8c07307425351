/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cg.c: conjugate gradient with a Jacobi (diagonal) preconditioner — the
 * serial reference solver ("cg").
 *
 * Threaded by blocks of rows; every reduction is summed per fixed block of
 * TMSF_REDUCE_BLOCK rows and then over blocks in order, so results are bitwise
 * identical for any thread count.
 */
#include <string.h>

#include "solver-impl.h"

/* Below this many rows the per-iteration work is too small to pay for the
 * thread synchronisation of four parallel loops per iteration (and on a busy
 * machine a descheduled thread stalls every barrier), so CG runs serially. */
#define CG_PARALLEL_MIN_ROWS 32768

typedef struct cg_data {
  double *inv_diag;
  double *r, *z, *p, *q;
  double *part; /* per-block partial sums, 2 per block */
} cg_data;

static void cg_destroy(tmsf_solver *s) {
  cg_data *d = s->data;
  if (!d) return;
  free(d->inv_diag);
  free(d->r);
  free(d->part);
  free(d);
  s->data = NULL;
}

static int cg_setup(tmsf_solver *s) {
  cg_destroy(s);
  int64_t n = s->n, nb = (n + TMSF_REDUCE_BLOCK - 1) / TMSF_REDUCE_BLOCK;
  cg_data *d = calloc(1, sizeof(*d));
  if (!d) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cg: out of memory");
  s->data = d;
  d->inv_diag = tmsf_malloc_array((size_t)n, sizeof(double));
  d->r = tmsf_malloc_array((size_t)n * 4, sizeof(double));
  d->part = tmsf_malloc_array((size_t)nb * 2, sizeof(double));
  if (!d->inv_diag || !d->r || !d->part) {
    cg_destroy(s);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cg: out of memory for %lld unknowns", (long long)n);
  }
  d->z = d->r + n;
  d->p = d->r + 2 * n;
  d->q = d->r + 3 * n;
  for (int64_t i = 0; i < n; i++)
    for (int64_t k = s->row_ptr[i]; k < s->row_ptr[i + 1]; k++)
      if (s->cols[k] == i) d->inv_diag[i] = 1.0 / s->vals[k];
  s->memory_bytes = (double)(5 * n + 2 * nb) * sizeof(double);
  return TMSF_SUCCESS;
}

static double sum_parts(const double *part, int64_t nb, int stride, int k) {
  double s = 0.0;
  for (int64_t b = 0; b < nb; b++) s += part[stride * b + k];
  return s;
}

static int cg_solve_one(tmsf_solver *s, const double *b, double *x, int64_t *iters, double *relres) {
  cg_data *d = s->data;
  const int64_t n = s->n, nb = (n + TMSF_REDUCE_BLOCK - 1) / TMSF_REDUCE_BLOCK;
  const int64_t *rp = s->row_ptr;
  const int32_t *ci = s->cols;
  const double *v = s->vals;
  double *r = d->r, *z = d->z, *p = d->p, *q = d->q, *part = d->part;
  const double *dinv = d->inv_diag;
  const int nt = tmsf_threads(s->ctx);
  (void)nt;

  double bnorm = sqrt(tmsf_dot(s->ctx, n, b, b));
  if (bnorm == 0.0) {
    memset(x, 0, (size_t)n * sizeof(double));
    *iters = 0;
    *relres = 0.0;
    return TMSF_SUCCESS;
  }
  /* r = b - A x, z = D^-1 r, p = z; partials r.r and r.z */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > CG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t blk = 0; blk < nb; blk++) {
    int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
    double rr = 0.0, rz = 0.0;
    for (int64_t i = i0; i < i1; i++) {
      double acc = 0.0;
      for (int64_t k = rp[i]; k < rp[i + 1]; k++) acc += v[k] * x[ci[k]];
      double ri = b[i] - acc;
      r[i] = ri;
      z[i] = dinv[i] * ri;
      p[i] = z[i];
      rr += ri * ri;
      rz += ri * z[i];
    }
    part[2 * blk] = rr;
    part[2 * blk + 1] = rz;
  }
  double rr = sum_parts(part, nb, 2, 0), rz = sum_parts(part, nb, 2, 1);
  double tol = s->rtol * bnorm;
  int64_t it = 0;
  while (sqrt(rr) > tol) {
    if (it >= s->max_iterations) {
      *iters = it;
      *relres = sqrt(rr) / bnorm;
      return TMSF_ERROR(s->ctx, TMSF_ERR_CONVERGENCE,
                        "cg: no convergence in %lld iterations (relative residual %.3g, tolerance "
                        "%.3g)",
                        (long long)it, *relres, s->rtol);
    }
    /* q = A p; partial p.q */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > CG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t blk = 0; blk < nb; blk++) {
      int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
      double pq = 0.0;
      for (int64_t i = i0; i < i1; i++) {
        double acc = 0.0;
        for (int64_t k = rp[i]; k < rp[i + 1]; k++) acc += v[k] * p[ci[k]];
        q[i] = acc;
        pq += p[i] * acc;
      }
      part[2 * blk] = pq;
    }
    double pq = sum_parts(part, nb, 2, 0);
    if (!(pq > 0.0)) {
      *iters = it;
      *relres = sqrt(rr) / bnorm;
      return TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC,
                        "cg: p^T A p = %.3g <= 0 at iteration %lld; the matrix is not positive "
                        "definite",
                        pq, (long long)it);
    }
    double alpha = rz / pq;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > CG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t blk = 0; blk < nb; blk++) {
      int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
      double a = 0.0, c = 0.0;
      for (int64_t i = i0; i < i1; i++) {
        x[i] += alpha * p[i];
        double ri = r[i] - alpha * q[i];
        r[i] = ri;
        double zi = dinv[i] * ri;
        z[i] = zi;
        a += ri * ri;
        c += ri * zi;
      }
      part[2 * blk] = a;
      part[2 * blk + 1] = c;
    }
    rr = sum_parts(part, nb, 2, 0);
    double rz_new = sum_parts(part, nb, 2, 1);
    double beta = rz_new / rz;
    rz = rz_new;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > CG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
    it++;
  }
  *iters = it;
  *relres = sqrt(rr) / bnorm;
  return TMSF_SUCCESS;
}

static int cg_solve(tmsf_solver *s, int num_rhs, const double *b, double *x) {
  for (int j = 0; j < num_rhs; j++) {
    int64_t it;
    double rel;
    TMSF_CALL(cg_solve_one(s, b + (int64_t)j * s->n, x + (int64_t)j * s->n, &it, &rel));
    if (it > s->iterations) s->iterations = it;
    if (rel > s->residual) s->residual = rel;
  }
  return TMSF_SUCCESS;
}

const tmsf_solver_ops tmsf_solver_cg_ops = {
    .name = "cg",
    .setup = cg_setup,
    .solve = cg_solve,
    .destroy = cg_destroy,
};

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * amg.c: conjugate gradient preconditioned by a smoothed-aggregation
 * algebraic multigrid V-cycle ("amg").
 *
 * Setup (Vanek, Mandel & Brezina, Computing 1996): on each level, strongly
 * coupled unknowns (|a_ij| > theta sqrt(a_ii a_jj)) are grouped into
 * aggregates by the three greedy phases of that paper; the tentative
 * prolongator interpolates the constant (the near null space of a Laplacian)
 * piecewise, and is smoothed by one damped Jacobi step,
 * P = (I - 4/(3 lambda) D^-1 A) T; the coarse operator is the Galerkin product
 * P^T A P.  Levels are added until at most AMG_COARSE_MAX unknowns remain,
 * which are solved by a dense Cholesky factorisation.
 *
 * Solve: CG (pcg.c) with one V-cycle per iteration; the smoother is a
 * Chebyshev polynomial in D^-1 A on [lambda/AMG_EIG_RATIO, lambda] (Adams,
 * Brezina, Hu & Tuminaro, J Comput Phys 2003), the same before and after the
 * coarse correction, so the preconditioner is symmetric positive definite.
 * lambda, the largest eigenvalue of D^-1 A, is estimated by Lanczos (from a
 * few steps of Jacobi-preconditioned CG) and enlarged by 10 %.
 *
 * Everything is deterministic: aggregation is serial, matrix products are
 * computed row by row, and reductions sum fixed blocks in order, so the
 * results do not depend on the thread count.
 */
#include <string.h>

#include "solver-impl.h"

/* Settings, tuned on the 1.1M-tetrahedron three-layer sphere (conductivity
 * jump 165x at the skull; iterations / single-thread solve seconds with the
 * field rule): strength threshold 0 / 0.01 / 0.02 / 0.04 / 0.08 / 0.15 gave
 * 38 / 33 / 24 / 22 / 18 / 56 iterations; on a quiet machine with 2 threads 0.02 /
 * 0.03 / 0.05 / 0.08: 0.241 / 0.220 / 0.251 / 0.328 s a solve, 0.03 the fastest (smaller
 * thresholds mix tissues across the skull, larger ones coarsen too slowly and
 * fill the coarse operators: 372 nonzeros a row on level 2 at 0.08);
 * Chebyshev degree 1 / 2 / 3 with eigenvalue ratio 10: 24 / 19 / 18 iterations
 * but 0.35 / 0.43 / 0.58 s, the cheaper cycle winning. */
#define AMG_MAX_LEVELS 25
#define AMG_COARSE_MAX 600
#define AMG_THETA 0.03
#define AMG_CHEB_DEGREE 1
#define AMG_EIG_RATIO 10.0
#define AMG_POWER_ITERATIONS 15 /* Lanczos steps of the eigenvalue estimate */
#define AMG_PARALLEL_MIN_ROWS 16384

typedef struct mat {
  int64_t n, m; /* rows, columns */
  int64_t *rp;
  int32_t *ci;
  double *v; /* values (setup) */
  float *f;  /* values in single precision (solve: the V-cycle reads 8 instead of 12 bytes per
                nonzero; the outer CG keeps the double matrix, so the answer's accuracy is
                not affected, only the preconditioner's) */
} mat;

typedef struct level {
  mat A; /* level operator; level 0 borrows the solver's matrix */
  int own_A;
  mat P, R; /* prolongation (n x nc) and restriction (nc x n) */
  double *dinv;
  double lmax;
  double *x, *b, *r, *d; /* work vectors of length n */
} level;

typedef struct amg {
  int nlev;
  level lv[AMG_MAX_LEVELS];
  double *chol; /* lower Cholesky factor of the coarsest operator, row-major */
  double *work; /* pcg work */
  double *block_work; /* pcg work of block solves */
  int nv_cap;   /* right-hand sides the level vectors hold */
  int nthreads;
  double op_complexity;
} amg;

static void mat_free(mat *a) {
  free(a->rp);
  free(a->ci);
  free(a->v);
  free(a->f);
  memset(a, 0, sizeof(*a));
}

static int mat_alloc(mat *a, int64_t n, int64_t m, int64_t nnz) {
  a->n = n;
  a->m = m;
  a->rp = tmsf_calloc_array((size_t)n + 1, sizeof(int64_t));
  a->ci = tmsf_malloc_array((size_t)nnz, sizeof(int32_t));
  a->v = tmsf_malloc_array((size_t)nnz, sizeof(double));
  return a->rp && a->ci && a->v ? 0 : -1;
}

/* ------------------------------------------------------------------------- */
/* Kernels                                                                   */
/* ------------------------------------------------------------------------- */

/* The solve-phase kernels work on nv interleaved vectors (v[i * nv + j]),
 * with the single-precision values; nv = 1 is the plain case. */
#define NVMAX TMSF_PCG_MAX_BLOCK

/* y = A x */
static void spmv(const mat *a, const double *x, double *y, int nv, int nt) {
  (void)nt;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 512) num_threads(nt) if (a->n > AMG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t i = 0; i < a->n; i++) {
    if (nv == 1) {
      double s = 0.0;
      for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) s += (double)a->f[k] * x[a->ci[k]];
      y[i] = s;
      continue;
    }
    double acc[NVMAX] = {0};
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) {
      const double f = a->f[k], *xr = x + (int64_t)a->ci[k] * nv;
      for (int j = 0; j < nv; j++) acc[j] += f * xr[j];
    }
    for (int j = 0; j < nv; j++) y[i * nv + j] = acc[j];
  }
}

/* y = A x with the double values (setup, one vector) */
static void spmv_double(const mat *a, const double *x, double *y, int nt) {
  (void)nt;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 512) num_threads(nt) if (a->n > AMG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t i = 0; i < a->n; i++) {
    double s = 0.0;
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) s += a->v[k] * x[a->ci[k]];
    y[i] = s;
  }
}

/* Single-precision values for the solve; the owned double values are freed. */
static int to_single(mat *a, int own) {
  int64_t nnz = a->rp[a->n];
  a->f = tmsf_malloc_array((size_t)nnz, sizeof(float));
  if (!a->f) return -1;
  for (int64_t k = 0; k < nnz; k++) a->f[k] = (float)a->v[k];
  if (own) {
    free(a->v);
    a->v = NULL;
  }
  return 0;
}

/* y += P x */
static void spmv_add(const mat *a, const double *x, double *y, int nv, int nt) {
  (void)nt;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 512) num_threads(nt) if (a->n > AMG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t i = 0; i < a->n; i++) {
    if (nv == 1) {
      double s = 0.0;
      for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) s += (double)a->f[k] * x[a->ci[k]];
      y[i] += s;
      continue;
    }
    double acc[NVMAX] = {0};
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) {
      const double f = a->f[k], *xr = x + (int64_t)a->ci[k] * nv;
      for (int j = 0; j < nv; j++) acc[j] += f * xr[j];
    }
    for (int j = 0; j < nv; j++) y[i * nv + j] += acc[j];
  }
}

/* r = b - A x */
static void residual(const mat *a, const double *b, const double *x, double *r, int nv, int nt) {
  (void)nt;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 512) num_threads(nt) if (a->n > AMG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t i = 0; i < a->n; i++) {
    if (nv == 1) {
      double s = b[i];
      for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) s -= (double)a->f[k] * x[a->ci[k]];
      r[i] = s;
      continue;
    }
    double acc[NVMAX] = {0};
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) {
      const double f = a->f[k], *xr = x + (int64_t)a->ci[k] * nv;
      for (int j = 0; j < nv; j++) acc[j] += f * xr[j];
    }
    for (int j = 0; j < nv; j++) r[i * nv + j] = b[i * nv + j] - acc[j];
  }
}

/* Transpose (counting sort by column; rows of the result come out sorted). */
static int transpose(const mat *a, mat *t) {
  int64_t nnz = a->rp[a->n];
  if (mat_alloc(t, a->m, a->n, nnz)) return -1;
  for (int64_t k = 0; k < nnz; k++) t->rp[a->ci[k] + 1]++;
  for (int64_t j = 0; j < a->m; j++) t->rp[j + 1] += t->rp[j];
  int64_t *fill = tmsf_malloc_array((size_t)a->m + 1, sizeof(int64_t));
  if (!fill) return -1;
  memcpy(fill, t->rp, (size_t)a->m * sizeof(int64_t));
  for (int64_t i = 0; i < a->n; i++)
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) {
      int64_t p = fill[a->ci[k]]++;
      t->ci[p] = (int32_t)i;
      t->v[p] = a->v[k];
    }
  free(fill);
  return 0;
}

static void sort_row(int32_t *c, double *v, int64_t len) {
  for (int64_t q = 1; q < len; q++) { /* rows are short */
    int32_t cc = c[q];
    double vv = v[q];
    int64_t r = q - 1;
    while (r >= 0 && c[r] > cc) {
      c[r + 1] = c[r];
      v[r + 1] = v[r];
      r--;
    }
    c[r + 1] = cc;
    v[r + 1] = vv;
  }
}

/* C = A B (two passes: row lengths, then values), rows sorted. */
static int spgemm(const mat *a, const mat *b, mat *c, int nt) {
  (void)nt;
  c->n = a->n;
  c->m = b->m;
  c->rp = tmsf_calloc_array((size_t)a->n + 1, sizeof(int64_t));
  if (!c->rp) return -1;
  int oom = 0;
  for (int pass = 0; pass < 2 && !oom; pass++) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel num_threads(nt) if (a->n > AMG_PARALLEL_MIN_ROWS) reduction(| : oom)
#endif
    {
      int64_t *mark = tmsf_malloc_array((size_t)b->m + 1, sizeof(int64_t));
      if (!mark) oom = 1;
      else
        for (int64_t j = 0; j < b->m; j++) mark[j] = -1;
#if TMSF_HAVE_OPENMP
#pragma omp for schedule(dynamic, 256)
#endif
      for (int64_t i = 0; i < a->n; i++) {
        if (!mark) continue;
        if (pass == 0) {
          int64_t len = 0;
          for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) {
            int64_t j = a->ci[k];
            for (int64_t q = b->rp[j]; q < b->rp[j + 1]; q++)
              if (mark[b->ci[q]] != i) {
                mark[b->ci[q]] = i;
                len++;
              }
          }
          c->rp[i + 1] = len;
        } else {
          int64_t start = c->rp[i], len = 0;
          for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) {
            int64_t j = a->ci[k];
            double av = a->v[k];
            for (int64_t q = b->rp[j]; q < b->rp[j + 1]; q++) {
              int32_t col = b->ci[q];
              if (mark[col] < start) {
                mark[col] = start + len;
                c->ci[start + len] = col;
                c->v[start + len] = av * b->v[q];
                len++;
              } else {
                c->v[mark[col]] += av * b->v[q];
              }
            }
          }
          sort_row(c->ci + start, c->v + start, len);
        }
      }
      free(mark);
    }
    if (pass == 0 && !oom) {
      for (int64_t i = 0; i < a->n; i++) c->rp[i + 1] += c->rp[i];
      c->ci = tmsf_malloc_array((size_t)c->rp[a->n], sizeof(int32_t));
      c->v = tmsf_malloc_array((size_t)c->rp[a->n], sizeof(double));
      if (!c->ci || !c->v) oom = 1;
    }
  }
  return oom ? -1 : 0;
}

/* ------------------------------------------------------------------------- */
/* Setup                                                                     */
/* ------------------------------------------------------------------------- */

static int strong(const mat *a, const double *diag, int64_t i, int64_t k) {
  int64_t j = a->ci[k];
  return j != i && fabs(a->v[k]) > AMG_THETA * sqrt(diag[i] * diag[j]);
}

/* Greedy aggregation (the three phases of Vanek, Mandel & Brezina 1996).
 * agg[i] = aggregate of i, or -1 for unknowns without strong couplings,
 * which are left to the smoother.  Returns the number of aggregates. */
static int64_t aggregate(const mat *a, const double *diag, int32_t *agg, int32_t *snapshot) {
  const int64_t n = a->n;
  int64_t na = 0;
  for (int64_t i = 0; i < n; i++) agg[i] = -2; /* -2: not yet aggregated */
  /* isolated unknowns */
  for (int64_t i = 0; i < n; i++) {
    int any = 0;
    for (int64_t k = a->rp[i]; k < a->rp[i + 1] && !any; k++) any = strong(a, diag, i, k);
    if (!any) agg[i] = -1;
  }
  /* phase 1: a root whose strong neighbours are all free takes them all */
  for (int64_t i = 0; i < n; i++) {
    if (agg[i] != -2) continue;
    int free_all = 1;
    for (int64_t k = a->rp[i]; k < a->rp[i + 1] && free_all; k++)
      if (strong(a, diag, i, k) && agg[a->ci[k]] != -2) free_all = 0;
    if (!free_all) continue;
    agg[i] = (int32_t)na;
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++)
      if (strong(a, diag, i, k)) agg[a->ci[k]] = (int32_t)na;
    na++;
  }
  /* phase 2: join the most strongly coupled phase-1 aggregate */
  memcpy(snapshot, agg, (size_t)n * sizeof(int32_t));
  for (int64_t i = 0; i < n; i++) {
    if (agg[i] != -2) continue;
    double best = 0.0;
    int32_t ba = -2;
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) {
      int32_t sa = snapshot[a->ci[k]];
      if (sa >= 0 && strong(a, diag, i, k) && fabs(a->v[k]) > best) {
        best = fabs(a->v[k]);
        ba = sa;
      }
    }
    agg[i] = ba;
  }
  /* phase 3: what is left forms aggregates with its free strong neighbours */
  for (int64_t i = 0; i < n; i++) {
    if (agg[i] != -2) continue;
    agg[i] = (int32_t)na;
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++)
      if (strong(a, diag, i, k) && agg[a->ci[k]] == -2) agg[a->ci[k]] = (int32_t)na;
    na++;
  }
  return na;
}

/* Largest eigenvalue of the tridiagonal matrix (diag a, off-diagonal b) by
 * Sturm-sequence bisection. */
static double tridiag_lmax(const double *a, const double *b, int k) {
  double lo = 0.0, hi = 0.0;
  for (int i = 0; i < k; i++) { /* Gershgorin bounds */
    double r = (i > 0 ? fabs(b[i - 1]) : 0.0) + (i < k - 1 ? fabs(b[i]) : 0.0);
    if (a[i] + r > hi) hi = a[i] + r;
    if (a[i] - r < lo) lo = a[i] - r;
  }
  for (int it = 0; it < 100; it++) {
    double mid = 0.5 * (lo + hi), d = 1.0;
    int count = 0; /* eigenvalues below mid */
    for (int i = 0; i < k; i++) {
      d = a[i] - mid - (i > 0 ? b[i - 1] * b[i - 1] / d : 0.0);
      if (d == 0.0) d = -1e-300;
      count += d < 0.0;
    }
    if (count == k) hi = mid;
    else lo = mid;
  }
  return hi;
}

/* Largest eigenvalue of D^-1 A by Lanczos, through the coefficients of
 * AMG_POWER_ITERATIONS steps of Jacobi-preconditioned CG on A x = f with a
 * fixed right-hand side (deterministic); Lanczos converges to the extreme
 * eigenvalues far faster than the power method.  Capped by Gershgorin's
 * bound, which it can never exceed in exact arithmetic. */
static double estimate_lmax(const mat *a, const double *dinv, double *r, double *z, double *p,
                            double *q, int nt) {
  const int64_t n = a->n;
  double gersh = 0.0;
  for (int64_t i = 0; i < n; i++) {
    double sum = 0.0;
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) sum += fabs(a->v[k]);
    if (sum * dinv[i] > gersh) gersh = sum * dinv[i];
  }
  double alpha[AMG_POWER_ITERATIONS], beta[AMG_POWER_ITERATIONS];
  double ta[AMG_POWER_ITERATIONS], tb[AMG_POWER_ITERATIONS];
  for (int64_t i = 0; i < n; i++) {
    r[i] = 1.0 + 0.5 * sin(0.7 * (double)i + 0.3);
    z[i] = dinv[i] * r[i];
    p[i] = z[i];
  }
  double rz = 0.0;
  for (int64_t i = 0; i < n; i++) rz += r[i] * z[i];
  int k = 0;
  for (; k < AMG_POWER_ITERATIONS && n > 1; k++) {
    spmv_double(a, p, q, nt);
    double pq = 0.0;
    for (int64_t i = 0; i < n; i++) pq += p[i] * q[i];
    if (!(pq > 0.0) || !(rz > 0.0)) break;
    alpha[k] = rz / pq;
    double rz_new = 0.0;
    for (int64_t i = 0; i < n; i++) {
      r[i] -= alpha[k] * q[i];
      z[i] = dinv[i] * r[i];
      rz_new += r[i] * z[i];
    }
    beta[k] = rz_new / rz;
    rz = rz_new;
    if (!(rz > 0.0)) {
      k++;
      break;
    }
    for (int64_t i = 0; i < n; i++) p[i] = z[i] + beta[k] * p[i];
  }
  if (k == 0) return gersh;
  /* Lanczos tridiagonal from the CG coefficients */
  for (int i = 0; i < k; i++) {
    ta[i] = 1.0 / alpha[i] + (i > 0 ? beta[i - 1] / alpha[i - 1] : 0.0);
    tb[i] = i < k - 1 ? sqrt(beta[i]) / alpha[i] : 0.0;
  }
  double lam = tridiag_lmax(ta, tb, k);
  return lam < gersh ? lam : gersh;
}

/* P = (I - omega D^-1 A) T, T_ij = 1/sqrt(|aggregate j|) for i in aggregate j. */
static int smoothed_prolongator(const mat *a, const double *dinv, const int32_t *agg, int64_t na,
                                double omega, mat *p, int nt) {
  (void)nt; /* thread count, used only with OpenMP */
  const int64_t n = a->n;
  double *t = tmsf_calloc_array((size_t)na, sizeof(double));
  if (!t) return -1;
  for (int64_t i = 0; i < n; i++)
    if (agg[i] >= 0) t[agg[i]] += 1.0;
  for (int64_t j = 0; j < na; j++) t[j] = 1.0 / sqrt(t[j]);
  p->n = n;
  p->m = na;
  p->rp = tmsf_calloc_array((size_t)n + 1, sizeof(int64_t));
  if (!p->rp) {
    free(t);
    return -1;
  }
  int oom = 0;
  for (int pass = 0; pass < 2 && !oom; pass++) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel num_threads(nt) if (n > AMG_PARALLEL_MIN_ROWS) reduction(| : oom)
#endif
    {
      int64_t *mark = tmsf_malloc_array((size_t)na + 1, sizeof(int64_t));
      if (!mark) oom = 1;
      else
        for (int64_t j = 0; j < na; j++) mark[j] = -1;
#if TMSF_HAVE_OPENMP
#pragma omp for schedule(dynamic, 512)
#endif
      for (int64_t i = 0; i < n; i++) {
        if (!mark) continue;
        int64_t start = pass ? p->rp[i] : 0, len = 0;
        /* T row i */
        if (agg[i] >= 0) {
          int32_t c = agg[i];
          if (pass) {
            mark[c] = start + len;
            p->ci[start + len] = c;
            p->v[start + len] = t[c];
          } else {
            mark[c] = i;
          }
          len++;
        }
        double w = -omega * dinv[i];
        for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) {
          int32_t c = agg[a->ci[k]];
          if (c < 0) continue;
          double val = w * a->v[k] * t[c];
          if (pass == 0) {
            if (mark[c] != i) {
              mark[c] = i;
              len++;
            }
          } else if (mark[c] < start) {
            mark[c] = start + len;
            p->ci[start + len] = c;
            p->v[start + len] = val;
            len++;
          } else {
            p->v[mark[c]] += val;
          }
        }
        if (pass == 0)
          p->rp[i + 1] = len;
        else
          sort_row(p->ci + start, p->v + start, len);
      }
      free(mark);
    }
    if (pass == 0 && !oom) {
      for (int64_t i = 0; i < n; i++) p->rp[i + 1] += p->rp[i];
      p->ci = tmsf_malloc_array((size_t)p->rp[n], sizeof(int32_t));
      p->v = tmsf_malloc_array((size_t)p->rp[n], sizeof(double));
      if (!p->ci || !p->v) oom = 1;
    }
  }
  free(t);
  return oom ? -1 : 0;
}

static int dense_cholesky(const mat *a, double **out) {
  const int64_t n = a->n;
  double *L = tmsf_calloc_array((size_t)(n * n), sizeof(double));
  if (!L) return TMSF_ERR_MEMORY;
  for (int64_t i = 0; i < n; i++)
    for (int64_t k = a->rp[i]; k < a->rp[i + 1]; k++) L[i * n + a->ci[k]] = a->v[k];
  for (int64_t j = 0; j < n; j++) {
    double d = L[j * n + j];
    for (int64_t k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    if (!(d > 0.0)) {
      free(L);
      return TMSF_ERR_NUMERIC;
    }
    d = sqrt(d);
    L[j * n + j] = d;
    for (int64_t i = j + 1; i < n; i++) {
      double s = L[i * n + j];
      for (int64_t k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / d;
    }
  }
  *out = L;
  return TMSF_SUCCESS;
}

static void dense_cholesky_solve(const double *L, int64_t n, const double *b, double *x) {
  for (int64_t i = 0; i < n; i++) {
    double s = b[i];
    for (int64_t k = 0; k < i; k++) s -= L[i * n + k] * x[k];
    x[i] = s / L[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; i--) {
    double s = x[i];
    for (int64_t k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
}

static void amg_free(amg *g) {
  for (int l = 0; l < g->nlev; l++) {
    level *L = &g->lv[l];
    if (L->own_A)
      mat_free(&L->A);
    else
      free(L->A.f); /* the caller's matrix: only the single-precision copy is ours */
    mat_free(&L->P);
    mat_free(&L->R);
    free(L->dinv);
    free(L->x);
  }
  free(g->chol);
  free(g->work);
  free(g->block_work);
  free(g);
}

static void amg_destroy(tmsf_solver *s) {
  if (s->data) amg_free(s->data);
  s->data = NULL;
}

static int level_vectors(level *L) {
  const int64_t n = L->A.n;
  L->dinv = tmsf_malloc_array((size_t)n, sizeof(double));
  L->x = tmsf_malloc_array((size_t)n * 4, sizeof(double));
  if (!L->dinv || !L->x) return -1;
  L->b = L->x + n;
  L->r = L->x + 2 * n;
  L->d = L->x + 3 * n;
  for (int64_t i = 0; i < n; i++) {
    double dg = 0.0;
    for (int64_t k = L->A.rp[i]; k < L->A.rp[i + 1]; k++)
      if (L->A.ci[k] == i) dg = L->A.v[k];
    L->dinv[i] = dg > 0.0 ? 1.0 / dg : 0.0;
  }
  return 0;
}

static int amg_setup(tmsf_solver *s) {
  amg_destroy(s);
  const int nt = tmsf_threads(s->ctx);
  amg *g = calloc(1, sizeof(*g));
  if (!g) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "amg: out of memory");
  s->data = g;
  g->nthreads = nt;
  g->nv_cap = 1;
  level *L0 = &g->lv[0];
  L0->A.n = L0->A.m = s->n;
  L0->A.rp = (int64_t *)s->row_ptr;
  L0->A.ci = (int32_t *)s->cols;
  L0->A.v = (double *)s->vals;
  g->nlev = 1;
  if (level_vectors(L0)) goto oom;
  double nnz0 = (double)s->row_ptr[s->n], nnz_all = nnz0, mem = 0.0;
  for (int l = 0; l < AMG_MAX_LEVELS - 1; l++) {
    level *L = &g->lv[l];
    const int64_t n = L->A.n;
    {
      double *scratch = tmsf_malloc_array((size_t)n * 2, sizeof(double));
      if (!scratch) goto oom;
      double lam = estimate_lmax(&L->A, L->dinv, L->r, L->d, scratch, scratch + n, nt);
      free(scratch);
      L->lmax = 1.1 * lam;
    }
    if (n <= AMG_COARSE_MAX) break;
    double *diag = L->b; /* scratch: 1 / dinv */
    for (int64_t i = 0; i < n; i++) diag[i] = L->dinv[i] > 0.0 ? 1.0 / L->dinv[i] : 0.0;
    int32_t *agg = tmsf_malloc_array((size_t)n * 2, sizeof(int32_t));
    if (!agg) goto oom;
    int64_t na = aggregate(&L->A, diag, agg, agg + n);
    if (na == 0 || na > (int64_t)(0.8 * (double)n)) { /* coarsening stalled */
      free(agg);
      break;
    }
    int err = smoothed_prolongator(&L->A, L->dinv, agg, na, 4.0 / 3.0 / L->lmax, &L->P, nt);
    free(agg);
    if (err || transpose(&L->P, &L->R)) goto oom;
    mat AP = {0};
    level *C = &g->lv[l + 1];
    if (spgemm(&L->A, &L->P, &AP, nt) || spgemm(&L->R, &AP, &C->A, nt)) {
      mat_free(&AP);
      goto oom;
    }
    mat_free(&AP);
    C->own_A = 1;
    g->nlev = l + 2;
    if (level_vectors(C)) goto oom;
    nnz_all += (double)C->A.rp[C->A.n];
    mem += (double)(L->P.rp[L->P.n] + L->R.rp[L->R.n] + C->A.rp[C->A.n]) * 8.0; /* int32 + float */
  }
  {
    level *C = &g->lv[g->nlev - 1];
    if (C->A.n <= 4000) {
      int err = dense_cholesky(&C->A, &g->chol);
      if (err == TMSF_ERR_MEMORY) goto oom;
      if (err)
        return TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC,
                          "amg: the coarsest operator (%lld unknowns, level %d) is not positive "
                          "definite; the matrix is not symmetric positive definite",
                          (long long)C->A.n, g->nlev - 1);
      mem += (double)(C->A.n * C->A.n) * 8.0;
    }
  }
  for (int l = 0; l < g->nlev; l++) {
    level *L = &g->lv[l];
    if (to_single(&L->A, L->own_A)) goto oom;
    mem += (double)L->A.rp[L->A.n] * 4.0;
    if (l < g->nlev - 1 && (to_single(&L->P, 1) || to_single(&L->R, 1))) goto oom;
  }
  {
    int64_t nw;
    tmsf_pcg_work_size(s->n, &nw);
    g->work = tmsf_malloc_array((size_t)nw, sizeof(double));
    if (!g->work) goto oom;
    mem += (double)nw * 8.0;
  }
  for (int l = 0; l < g->nlev; l++) mem += (double)g->lv[l].A.n * 5 * 8.0;
  g->op_complexity = nnz_all / nnz0;
  s->memory_bytes = mem;
  return TMSF_SUCCESS;
oom:
  amg_destroy(s);
  return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "amg: out of memory building the hierarchy for %lld unknowns",
                    (long long)s->n);
}

/* ------------------------------------------------------------------------- */
/* V-cycle                                                                   */
/* ------------------------------------------------------------------------- */

/* x += Chebyshev polynomial smoothing of A x = b (nv interleaved vectors);
 * x_zero: x is 0 on entry.  With want_r, L->r holds b - A x on return. */
static void chebyshev(const level *L, const double *b, double *x, int x_zero, int want_r, int nv, int nt) {
  const int64_t n = L->A.n;
  double *r = L->r, *d = L->d;
  const double *dinv = L->dinv;
  const double lmax = L->lmax, lmin = lmax / AMG_EIG_RATIO;
  const double theta = 0.5 * (lmax + lmin), delta = 0.5 * (lmax - lmin);
  const double sigma = theta / delta;
  double rho = 1.0 / sigma;
  (void)nt;
  if (x_zero) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > AMG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t i = 0; i < n; i++)
      for (int j = 0; j < nv; j++) {
        double dij = dinv[i] * b[i * nv + j] / theta;
        d[i * nv + j] = dij;
        x[i * nv + j] = dij;
      }
  } else {
    residual(&L->A, b, x, r, nv, nt);
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > AMG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t i = 0; i < n; i++)
      for (int j = 0; j < nv; j++) {
        double dij = dinv[i] * r[i * nv + j] / theta;
        d[i * nv + j] = dij;
        x[i * nv + j] += dij;
      }
  }
  for (int k = 1; k < AMG_CHEB_DEGREE; k++) {
    residual(&L->A, b, x, r, nv, nt);
    double rho_new = 1.0 / (2.0 * sigma - rho);
    double c1 = rho_new * rho, c2 = 2.0 * rho_new / delta;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > AMG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t i = 0; i < n; i++)
      for (int j = 0; j < nv; j++) {
        double dij = c1 * d[i * nv + j] + c2 * dinv[i] * r[i * nv + j];
        d[i * nv + j] = dij;
        x[i * nv + j] += dij;
      }
    rho = rho_new;
  }
  if (want_r) residual(&L->A, b, x, r, nv, nt);
}

static void vcycle(amg *g, int l, const double *b, double *x, int nv) {
  level *L = &g->lv[l];
  const int nt = g->nthreads;
  if (l == g->nlev - 1) {
    if (g->chol) {
      const int64_t n = L->A.n;
      for (int j = 0; j < nv; j++) { /* through the de-interleaved scratch L->r, L->d */
        for (int64_t i = 0; i < n; i++) L->r[i] = b[i * nv + j];
        dense_cholesky_solve(g->chol, n, L->r, L->d);
        for (int64_t i = 0; i < n; i++) x[i * nv + j] = L->d[i];
      }
    } else { /* a large coarsest level: smoothing only (a fixed SPD operator) */
      chebyshev(L, b, x, 1, 0, nv, nt);
      for (int k = 0; k < 8; k++) chebyshev(L, b, x, 0, 0, nv, nt);
    }
    return;
  }
  level *C = &g->lv[l + 1];
  chebyshev(L, b, x, 1, 1, nv, nt);
  spmv(&L->R, L->r, C->b, nv, nt);
  vcycle(g, l + 1, C->b, C->x, nv);
  spmv_add(&L->P, C->x, x, nv, nt);
  chebyshev(L, b, x, 0, 0, nv, nt);
}

static void amg_apply(void *data, const double *r, double *z) { vcycle(data, 0, r, z, 1); }

static void amg_apply_block(void *data, int nv, const double *r, double *z) { vcycle(data, 0, r, z, nv); }

/* Work vectors of every level for nv right-hand sides. */
static int amg_reserve(amg *g, int nv) {
  if (nv <= g->nv_cap) return 0;
  for (int l = 0; l < g->nlev; l++) {
    level *L = &g->lv[l];
    const int64_t n = L->A.n;
    double *w = tmsf_malloc_array((size_t)n * 4 * (size_t)nv, sizeof(double));
    if (!w) return -1;
    free(L->x);
    L->x = w;
    L->b = w + n * nv;
    L->r = w + 2 * n * nv;
    L->d = w + 3 * n * nv;
  }
  int64_t nw;
  tmsf_pcg_block_work_size(g->lv[0].A.n, nv, &nw);
  double *pw = tmsf_malloc_array((size_t)nw, sizeof(double));
  if (!pw) return -1;
  free(g->block_work);
  g->block_work = pw;
  g->nv_cap = nv;
  return 0;
}

static int amg_solve(tmsf_solver *s, int num_rhs, const double *b, double *x) {
  amg *g = s->data;
  g->nthreads = tmsf_threads(s->ctx);
  tmsf_pcg_prec M = {g, amg_apply, amg_apply_block};
  if (num_rhs == 1) return tmsf_pcg_solve_many(s, &M, 1, b, x, g->work);
  for (int j0 = 0; j0 < num_rhs; j0 += TMSF_PCG_MAX_BLOCK) {
    int nv = num_rhs - j0 < TMSF_PCG_MAX_BLOCK ? num_rhs - j0 : TMSF_PCG_MAX_BLOCK;
    if (amg_reserve(g, nv))
      return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "amg: out of memory for %d right-hand sides", nv);
    int64_t it;
    double rel;
    TMSF_CALL(tmsf_pcg_solve_block(s, &M, nv, b + (int64_t)j0 * s->n, x + (int64_t)j0 * s->n,
                                   s->energy_ref ? s->energy_ref + j0 : NULL, g->block_work, &it, &rel));
    if (it > s->iterations) s->iterations = it;
    if (rel > s->residual) s->residual = rel;
  }
  return TMSF_SUCCESS;
}

const tmsf_solver_ops tmsf_solver_amg_ops = {
    .name = "amg",
    .energy_rule = 1,
    .setup = amg_setup,
    .solve = amg_solve,
    .destroy = amg_destroy,
};

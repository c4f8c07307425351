/*
 * SPDX-License-Identifier: BSD-3-Clause
 * pcg.c: the preconditioned conjugate gradient shared by the iterative
 * solvers ("cg" with a diagonal preconditioner, "amg" with a multigrid
 * V-cycle), with two stopping rules:
 *
 *  - residual: ||b - A x_k|| <= rtol ||b||  (the reference tool's rule);
 *  - energy: the A-norm of the error, estimated from the CG coefficients
 *    (Hestenes & Stiefel 1952; Strakos & Tichy 2002: ||x - x_k||_A^2 =
 *    sum_{j>=k} alpha_j r_j.z_j exactly): the error of x_{k-d} is the sum of
 *    the d terms computed since (d = PCG_ENERGY_DELAY) plus the rest, taken
 *    as a geometric tail with the largest ratio of those terms; x_k, whose
 *    error is smaller, is returned.  The look-ahead matters: after a good
 *    initial guess the terms can fall fast and then rise again when an
 *    error component the first iterations did not see appears (measured on
 *    the 5M-tetrahedron sphere: a 10-iteration stop at 1.5e-4 where 1e-4 was
 *    asked, without it).  The estimate is relative to a reference energy
 *    given per right-hand side.  For the FEM system the A-norm of the
 *    potential error is the sigma-weighted L2 norm of the error in E (see
 *    simulation.c), so this rule targets the field error directly.
 *
 * Reductions are summed per fixed block of TMSF_REDUCE_BLOCK rows and then
 * over blocks in order, so results are bitwise identical for any thread count.
 */
#include <string.h>

#include "solver-impl.h"

/* Below this many rows the per-iteration work is too small to pay for thread
 * synchronisation (and on a busy machine a descheduled thread stalls every
 * barrier), so the loops run serially. */
#define PCG_PARALLEL_MIN_ROWS 32768

/* The error of x_{k-d} is certified from the d terms after it (look-ahead),
 * and x_k, better still, is returned. */
#define PCG_ENERGY_DELAY 2

/* Estimated squared A-norm of the error of x_{it-d}: the d terms alpha_j
 * r_j.z_j after it, kept in a ring (the newest is term it-1), plus a
 * geometric tail from the newest with the largest ratio of consecutive terms
 * in the ring, capped at 0.99; -1 before there are enough terms. */
static double energy_error2(const double *terms, int64_t it) {
  const int d = PCG_ENERGY_DELAY;
  if (it < d) return -1.0;
  int newest = (int)((it - 1) % d);
  double sum = 0.0, q = 0.0;
  for (int k = 0; k < d; k++) sum += terms[k];
  for (int k = 1; k < d; k++) {
    int a = (newest - k + 1 + d) % d, b = (newest - k + d) % d;
    if (terms[b] > 0.0 && terms[a] / terms[b] > q) q = terms[a] / terms[b];
  }
  if (q > 0.99) q = 0.99;
  return sum + terms[newest] * q / (1.0 - q);
}

static double sum_parts(const double *part, int64_t nb, int stride, int k) {
  double s = 0.0;
  for (int64_t b = 0; b < nb; b++) s += part[stride * b + k];
  return s;
}

int tmsf_pcg_work_size(int64_t n, int64_t *doubles) {
  int64_t nb = (n + TMSF_REDUCE_BLOCK - 1) / TMSF_REDUCE_BLOCK;
  *doubles = 4 * n + 3 * nb;
  return TMSF_SUCCESS;
}

int tmsf_pcg_solve(tmsf_solver *s, const tmsf_pcg_prec *M, const double *b, double *x,
                   double energy_ref, double *work, int64_t *iters, double *relres) {
  const int64_t n = s->n, nb = (n + TMSF_REDUCE_BLOCK - 1) / TMSF_REDUCE_BLOCK;
  const int64_t *rp = s->row_ptr;
  const int32_t *ci = s->cols;
  const double *v = s->vals;
  double *r = work, *z = work + n, *p = work + 2 * n, *q = work + 3 * n, *part = work + 4 * n;
  const int nt = tmsf_threads(s->ctx);
  (void)nt; /* unused in a build without OpenMP */
  const int energy = s->energy_tol > 0.0 && energy_ref > 0.0;

  double bnorm = sqrt(tmsf_dot(s->ctx, n, b, b));
  if (bnorm == 0.0) {
    memset(x, 0, (size_t)n * sizeof(double));
    *iters = 0;
    *relres = 0.0;
    return TMSF_SUCCESS;
  }
  /* r = b - A x; partials r.r and b.x */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t blk = 0; blk < nb; blk++) {
    int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
    double rr = 0.0, bx = 0.0;
    for (int64_t i = i0; i < i1; i++) {
      double acc = 0.0;
      for (int64_t k = rp[i]; k < rp[i + 1]; k++) acc += v[k] * x[ci[k]];
      double ri = b[i] - acc;
      r[i] = ri;
      rr += ri * ri;
      bx += b[i] * x[i];
    }
    part[3 * blk] = rr;
    part[3 * blk + 1] = bx;
  }
  double rr = sum_parts(part, nb, 3, 0), bx = sum_parts(part, nb, 3, 1);
  M->apply(M->data, r, z);
  double rz = tmsf_dot(s->ctx, n, r, z);
  memcpy(p, z, (size_t)n * sizeof(double));
  const double tol = s->rtol * bnorm;
  double terms[PCG_ENERGY_DELAY];
  int64_t it = 0;
  for (;;) {
    /* convergence; an exact solution (a direct coarse solve of a tiny system,
     * a zero right-hand side) stops at once whatever the rule */
    if (rr == 0.0 || rz == 0.0 || sqrt(rr) <= 1e-15 * bnorm) break;
    if (energy) {
      double est = energy_error2(terms, it);
      double denom = energy_ref - bx; /* ||E||_sigma^2 for the FEM system */
      if (est >= 0.0 && denom > 0.0 && est <= s->energy_tol * s->energy_tol * denom) break;
    } else if (sqrt(rr) <= tol) {
      break;
    }
    if (it >= s->max_iterations) {
      *iters = it;
      *relres = sqrt(rr) / bnorm;
      return TMSF_ERROR(s->ctx, TMSF_ERR_CONVERGENCE,
                        "%s: no convergence in %lld iterations (relative residual %.3g, tolerance "
                        "%.3g); no solution returned",
                        s->ops->name, (long long)it, *relres, energy ? s->energy_tol : s->rtol);
    }
    /* q = A p; partials p.q and b.p */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t blk = 0; blk < nb; blk++) {
      int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
      double pq = 0.0, bp = 0.0;
      for (int64_t i = i0; i < i1; i++) {
        double acc = 0.0;
        for (int64_t k = rp[i]; k < rp[i + 1]; k++) acc += v[k] * p[ci[k]];
        q[i] = acc;
        pq += p[i] * acc;
        bp += b[i] * p[i];
      }
      part[3 * blk] = pq;
      part[3 * blk + 1] = bp;
    }
    double pq = sum_parts(part, nb, 3, 0), bp = sum_parts(part, nb, 3, 1);
    if (!(pq > 0.0) || !(rz > 0.0)) {
      *iters = it;
      *relres = sqrt(rr) / bnorm;
      return TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC,
                        "%s: %s = %.3g <= 0 at iteration %lld; the matrix%s is not positive "
                        "definite",
                        s->ops->name, !(pq > 0.0) ? "p^T A p" : "r^T M^-1 r", !(pq > 0.0) ? pq : rz,
                        (long long)it, !(pq > 0.0) ? "" : " or the preconditioner");
    }
    double alpha = rz / pq;
    terms[it % PCG_ENERGY_DELAY] = alpha * rz;
    bx += alpha * bp;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t blk = 0; blk < nb; blk++) {
      int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
      double a = 0.0;
      for (int64_t i = i0; i < i1; i++) {
        x[i] += alpha * p[i];
        double ri = r[i] - alpha * q[i];
        r[i] = ri;
        a += ri * ri;
      }
      part[3 * blk] = a;
    }
    rr = sum_parts(part, nb, 3, 0);
    M->apply(M->data, r, z);
    double rz_new = tmsf_dot(s->ctx, n, r, z);
    double beta = rz_new / rz;
    rz = rz_new;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
    it++;
  }
  *iters = it;
  *relres = sqrt(rr) / bnorm;
  return TMSF_SUCCESS;
}

int tmsf_pcg_solve_many(tmsf_solver *s, const tmsf_pcg_prec *M, int num_rhs, const double *b,
                        double *x, double *work) {
  for (int j = 0; j < num_rhs; j++) {
    int64_t it;
    double rel;
    double ref = s->energy_ref ? s->energy_ref[j] : 0.0;
    TMSF_CALL(tmsf_pcg_solve(s, M, b + (int64_t)j * s->n, x + (int64_t)j * s->n, ref, work, &it, &rel));
    if (it > s->iterations) s->iterations = it;
    if (rel > s->residual) s->residual = rel;
  }
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Several right-hand sides in lockstep                                      */
/* ------------------------------------------------------------------------- */

/*
 * Block variant: nv systems (nv <= TMSF_PCG_MAX_BLOCK) advance together, each
 * with its own CG coefficients and stopping test, but every pass over the
 * matrix (here and in the preconditioner) serves all of them, with the
 * vectors interleaved (v[i * nv + j]).  Each system follows the iteration it
 * would follow alone (up to rounding); a converged one is frozen.
 */
int tmsf_pcg_solve_block(tmsf_solver *s, const tmsf_pcg_prec *M, int nv, const double *b, double *x,
                         const double *energy_ref, double *work, int64_t *max_iters, double *max_relres) {
  const int64_t n = s->n, nb = (n + TMSF_REDUCE_BLOCK - 1) / TMSF_REDUCE_BLOCK;
  const int64_t *rp = s->row_ptr;
  const int32_t *ci = s->cols;
  const double *v = s->vals;
  const int nt = tmsf_threads(s->ctx);
  (void)nt; /* unused in a build without OpenMP */
  double *B = work, *X = B + n * nv, *R = X + n * nv, *Z = R + n * nv, *P = Z + n * nv, *Q = P + n * nv;
  double *part = Q + n * nv; /* 3 * nv per block */
  double bnorm[TMSF_PCG_MAX_BLOCK], rr[TMSF_PCG_MAX_BLOCK], rz[TMSF_PCG_MAX_BLOCK], bx[TMSF_PCG_MAX_BLOCK];
  double alpha[TMSF_PCG_MAX_BLOCK], beta[TMSF_PCG_MAX_BLOCK], terms[TMSF_PCG_MAX_BLOCK][PCG_ENERGY_DELAY];
  int active[TMSF_PCG_MAX_BLOCK];
  int64_t its[TMSF_PCG_MAX_BLOCK];
  /* interleave */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < nv; j++) {
      B[i * nv + j] = b[(int64_t)j * n + i];
      X[i * nv + j] = x[(int64_t)j * n + i];
    }
  /* R = B - A X; partials r.r, b.b, b.x */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t blk = 0; blk < nb; blk++) {
    int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
    double a1[TMSF_PCG_MAX_BLOCK] = {0}, a2[TMSF_PCG_MAX_BLOCK] = {0}, a3[TMSF_PCG_MAX_BLOCK] = {0};
    for (int64_t i = i0; i < i1; i++) {
      double acc[TMSF_PCG_MAX_BLOCK] = {0};
      for (int64_t k = rp[i]; k < rp[i + 1]; k++) {
        const double *xr = X + (int64_t)ci[k] * nv;
        for (int j = 0; j < nv; j++) acc[j] += v[k] * xr[j];
      }
      for (int j = 0; j < nv; j++) {
        double bi = B[i * nv + j], ri = bi - acc[j];
        R[i * nv + j] = ri;
        a1[j] += ri * ri;
        a2[j] += bi * bi;
        a3[j] += bi * X[i * nv + j];
      }
    }
    for (int j = 0; j < nv; j++) {
      part[(blk * nv + j) * 3] = a1[j];
      part[(blk * nv + j) * 3 + 1] = a2[j];
      part[(blk * nv + j) * 3 + 2] = a3[j];
    }
  }
  for (int j = 0; j < nv; j++) {
    rr[j] = bnorm[j] = bx[j] = 0.0;
    for (int64_t blk = 0; blk < nb; blk++) {
      rr[j] += part[(blk * nv + j) * 3];
      bnorm[j] += part[(blk * nv + j) * 3 + 1];
      bx[j] += part[(blk * nv + j) * 3 + 2];
    }
    bnorm[j] = sqrt(bnorm[j]);
    its[j] = 0;
    active[j] = 1;
  }
  M->apply_block(M->data, nv, R, Z);
  /* r.z per column, and P = Z */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t blk = 0; blk < nb; blk++) {
    int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
    double a1[TMSF_PCG_MAX_BLOCK] = {0};
    for (int64_t i = i0; i < i1; i++)
      for (int j = 0; j < nv; j++) {
        a1[j] += R[i * nv + j] * Z[i * nv + j];
        P[i * nv + j] = Z[i * nv + j];
      }
    for (int j = 0; j < nv; j++) part[(blk * nv + j) * 3] = a1[j];
  }
  for (int j = 0; j < nv; j++) {
    rz[j] = 0.0;
    for (int64_t blk = 0; blk < nb; blk++) rz[j] += part[(blk * nv + j) * 3];
  }
  int ierr = TMSF_SUCCESS;
  for (;;) {
    /* convergence per column */
    int any = 0;
    for (int j = 0; j < nv; j++) {
      if (!active[j]) continue;
      int done = bnorm[j] == 0.0 || rr[j] == 0.0 || rz[j] == 0.0 || sqrt(rr[j]) <= 1e-15 * bnorm[j];
      const int energy = s->energy_tol > 0.0 && energy_ref && energy_ref[j] > 0.0;
      if (!done && energy) {
        double est = energy_error2(terms[j], its[j]);
        double denom = energy_ref[j] - bx[j];
        done = est >= 0.0 && denom > 0.0 && est <= s->energy_tol * s->energy_tol * denom;
      } else if (!done && !energy) {
        done = sqrt(rr[j]) <= s->rtol * bnorm[j];
      }
      if (done) active[j] = 0;
      else any = 1;
      if (!done && its[j] >= s->max_iterations) {
        ierr = TMSF_ERROR(s->ctx, TMSF_ERR_CONVERGENCE,
                          "%s: right-hand side %d did not converge in %lld iterations (relative "
                          "residual %.3g); no solution returned",
                          s->ops->name, j, (long long)its[j], sqrt(rr[j]) / bnorm[j]);
      }
    }
    if (ierr || !any) break;
    /* Q = A P; partials p.q and b.p */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t blk = 0; blk < nb; blk++) {
      int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
      double a1[TMSF_PCG_MAX_BLOCK] = {0}, a2[TMSF_PCG_MAX_BLOCK] = {0};
      for (int64_t i = i0; i < i1; i++) {
        double acc[TMSF_PCG_MAX_BLOCK] = {0};
        for (int64_t k = rp[i]; k < rp[i + 1]; k++) {
          const double *pr = P + (int64_t)ci[k] * nv;
          for (int j = 0; j < nv; j++) acc[j] += v[k] * pr[j];
        }
        for (int j = 0; j < nv; j++) {
          Q[i * nv + j] = acc[j];
          a1[j] += P[i * nv + j] * acc[j];
          a2[j] += B[i * nv + j] * P[i * nv + j];
        }
      }
      for (int j = 0; j < nv; j++) {
        part[(blk * nv + j) * 3] = a1[j];
        part[(blk * nv + j) * 3 + 1] = a2[j];
      }
    }
    for (int j = 0; j < nv; j++) {
      alpha[j] = 0.0;
      if (!active[j]) continue;
      double pq = 0.0, bp = 0.0;
      for (int64_t blk = 0; blk < nb; blk++) pq += part[(blk * nv + j) * 3], bp += part[(blk * nv + j) * 3 + 1];
      if (!(pq > 0.0) || !(rz[j] > 0.0)) {
        ierr = TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC,
                          "%s: %s = %.3g <= 0 at iteration %lld; the matrix%s is not positive "
                          "definite",
                          s->ops->name, !(pq > 0.0) ? "p^T A p" : "r^T M^-1 r", !(pq > 0.0) ? pq : rz[j],
                          (long long)its[j], !(pq > 0.0) ? "" : " or the preconditioner");
        break;
      }
      alpha[j] = rz[j] / pq;
      terms[j][its[j] % PCG_ENERGY_DELAY] = alpha[j] * rz[j];
      bx[j] += alpha[j] * bp;
    }
    if (ierr) break;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t blk = 0; blk < nb; blk++) {
      int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
      double a1[TMSF_PCG_MAX_BLOCK] = {0};
      for (int64_t i = i0; i < i1; i++)
        for (int j = 0; j < nv; j++) {
          X[i * nv + j] += alpha[j] * P[i * nv + j];
          double ri = R[i * nv + j] - alpha[j] * Q[i * nv + j];
          R[i * nv + j] = ri;
          a1[j] += ri * ri;
        }
      for (int j = 0; j < nv; j++) part[(blk * nv + j) * 3] = a1[j];
    }
    for (int j = 0; j < nv; j++) {
      if (!active[j]) continue;
      rr[j] = 0.0;
      for (int64_t blk = 0; blk < nb; blk++) rr[j] += part[(blk * nv + j) * 3];
    }
    M->apply_block(M->data, nv, R, Z);
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t blk = 0; blk < nb; blk++) {
      int64_t i0 = blk * TMSF_REDUCE_BLOCK, i1 = i0 + TMSF_REDUCE_BLOCK < n ? i0 + TMSF_REDUCE_BLOCK : n;
      double a1[TMSF_PCG_MAX_BLOCK] = {0};
      for (int64_t i = i0; i < i1; i++)
        for (int j = 0; j < nv; j++) a1[j] += R[i * nv + j] * Z[i * nv + j];
      for (int j = 0; j < nv; j++) part[(blk * nv + j) * 3] = a1[j];
    }
    for (int j = 0; j < nv; j++) {
      beta[j] = 0.0;
      if (!active[j]) continue;
      double rzn = 0.0;
      for (int64_t blk = 0; blk < nb; blk++) rzn += part[(blk * nv + j) * 3];
      beta[j] = rzn / rz[j];
      rz[j] = rzn;
      its[j]++;
    }
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
    for (int64_t i = 0; i < n; i++)
      for (int j = 0; j < nv; j++)
        if (active[j]) P[i * nv + j] = Z[i * nv + j] + beta[j] * P[i * nv + j];
  }
  *max_iters = 0;
  *max_relres = 0.0;
  for (int j = 0; j < nv; j++) {
    if (its[j] > *max_iters) *max_iters = its[j];
    double rel = bnorm[j] > 0.0 ? sqrt(rr[j]) / bnorm[j] : 0.0;
    if (rel > *max_relres) *max_relres = rel;
  }
  if (ierr) return ierr;
  /* de-interleave */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (n > PCG_PARALLEL_MIN_ROWS)
#endif
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < nv; j++) x[(int64_t)j * n + i] = bnorm[j] == 0.0 ? 0.0 : X[i * nv + j];
  return TMSF_SUCCESS;
}

int tmsf_pcg_block_work_size(int64_t n, int nv, int64_t *doubles) {
  int64_t nb = (n + TMSF_REDUCE_BLOCK - 1) / TMSF_REDUCE_BLOCK;
  *doubles = 6 * n * nv + 3 * nb * nv;
  return TMSF_SUCCESS;
}

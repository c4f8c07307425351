/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cg.c: conjugate gradient with a Jacobi (diagonal) preconditioner — the
 * reference solver ("cg") every other solver is compared with.
 */
#include <string.h>

#include "solver-impl.h"

typedef struct cg_data {
  double *inv_diag;
  double *work;
  int64_t n;
  int nthreads;
} cg_data;

static void cg_destroy(tmsf_solver *s) {
  cg_data *d = s->data;
  if (!d) return;
  free(d->inv_diag);
  free(d->work);
  free(d);
  s->data = NULL;
}

static void jacobi_apply(void *data, const double *r, double *z) {
  const cg_data *d = data;
  const int64_t n = d->n;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(d->nthreads) if (n > 32768)
#endif
  for (int64_t i = 0; i < n; i++) z[i] = d->inv_diag[i] * r[i];
}

static int cg_setup(tmsf_solver *s) {
  cg_destroy(s);
  int64_t n = s->n, nw;
  tmsf_pcg_work_size(n, &nw);
  cg_data *d = calloc(1, sizeof(*d));
  if (!d) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cg: out of memory");
  s->data = d;
  d->n = n;
  d->inv_diag = tmsf_malloc_array((size_t)n, sizeof(double));
  d->work = tmsf_malloc_array((size_t)nw, sizeof(double));
  if (!d->inv_diag || !d->work) {
    cg_destroy(s);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "cg: out of memory for %lld unknowns", (long long)n);
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t k = s->row_ptr[i]; k < s->row_ptr[i + 1]; k++)
      if (s->cols[k] == i) d->inv_diag[i] = 1.0 / s->vals[k];
  s->memory_bytes = (double)(n + nw) * sizeof(double);
  return TMSF_SUCCESS;
}

static int cg_solve(tmsf_solver *s, int num_rhs, const double *b, double *x) {
  cg_data *d = s->data;
  d->nthreads = tmsf_threads(s->ctx);
  tmsf_pcg_prec M = {d, jacobi_apply, NULL};
  return tmsf_pcg_solve_many(s, &M, num_rhs, b, x, d->work);
}

const tmsf_solver_ops tmsf_solver_cg_ops = {
    .name = "cg",
    .energy_rule = 1,
    .setup = cg_setup,
    .solve = cg_solve,
    .destroy = cg_destroy,
};

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * primary-grid.c: the primary field of a dipole (or line-segment) coil, every
 * stimulator driven with the same dI/dt, tabulated once on graded
 * grids in the coil frame, then interpolated at the mesh nodes for every pose.
 *
 * A direct dipole sum costs (nodes x dipoles) per pose: ~0.1 s for 190k nodes
 * and 2,712 dipoles on 2 cores.  The vector potential of a coil is smooth
 * below it, so it is sampled (per ampere, once per coil and head size) on
 * regular grids in the coil frame whose spacing grows with the depth below
 * the coil (2 mm for 60 mm, 3 mm for the next 60 mm, 4 mm below: measured on
 * the 1.1M sphere, a 4 mm grid at 40-100 mm and an 8 mm one below 100 mm
 * gave 4e-5 and 1e-4 there, which dominated the error); a pose then
 * costs one tricubic (Catmull-Rom) interpolation per node, ~0.01 s.  Nodes
 * outside the grids (beside or above the coil, or within 12 mm of the
 * windings) get the direct sum.  Every pose checks itself: the direct sum at
 * 2,000 evenly spread nodes measures the relative L2 error of the table for
 * that pose, and a pose whose error exceeds the tolerance (3e-5) is computed
 * directly instead.  Measured on the 1.1M-tetrahedron sphere with the Magstim
 * 70 mm coil: 7.9e-6 over the top; compact coils with sharper fields (the
 * 4-dipole test coil: 3e-4) fail the check and keep the direct sum.
 */
#include <string.h>

#include "tmsf-impl.h"

#define PG_LEVELS 3

typedef struct pg_level {
  double o[3];    /* coil-frame position of sample (0,0,0), m */
  double h;       /* spacing, m */
  int64_t n[3];   /* samples per axis */
  double zlo, zhi; /* depths this level answers for (its stencils fit inside) */
  float *a;       /* 3 components per sample, x fastest, A per ampere x 1e6 */
} pg_level;

struct tmsf_primary_grid {
  uint64_t coil_uid;
  double half_width; /* xy extent the grids cover, m */
  pg_level lev[PG_LEVELS];
};

void tmsf_primary_grid_free(tmsf_primary_grid *g) {
  if (!g) return;
  for (int l = 0; l < PG_LEVELS; l++) free(g->lev[l].a);
  free(g);
}

uint64_t tmsf_primary_grid_coil(const tmsf_primary_grid *g) { return g ? g->coil_uid : 0; }

int tmsf_primary_grid_build(const tmsf_coil *coil, double head_radius_m, tmsf_primary_grid **out) {
  tmsf_context *ctx = coil->ctx;
  *out = NULL;
  tmsf_primary_grid *g = calloc(1, sizeof(*g));
  if (!g) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "primary grid: out of memory");
  g->coil_uid = coil->uid;
  /* lateral extent: the head seen from any pose lies within its diameter of
   * the coil axis; depth: within its diameter plus a margin below the coil */
  const double X = head_radius_m * 1.05 + 0.005, depth = 2.0 * head_radius_m + 0.02;
  /* the grids start 8 mm (4 spacings of the finest grid) below the dipole
   * nearest to the head, where the relative interpolation error, which
   * grows like (spacing / distance)^4, is that measured above; nearer
   * nodes get the direct sum */
  double zmax = tmsf_coil_max_source_z(coil); /* dipoles and segment ends */
  if (!(zmax > 0.0)) zmax = 0.0;
  const double z0 = zmax + 0.012;
  const double spacing[PG_LEVELS] = {0.002, 0.003, 0.004};
  const double bounds[PG_LEVELS + 1] = {z0, z0 + 0.060, z0 + 0.120,
                                        z0 + depth > z0 + 0.13 ? z0 + depth : z0 + 0.13};
  g->half_width = X;
  const double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  for (int l = 0; l < PG_LEVELS; l++) {
    pg_level *L = &g->lev[l];
    L->h = spacing[l];
    L->zlo = l == 0 ? bounds[0] : bounds[l];
    L->zhi = bounds[l + 1];
    /* samples: one cell of stencil margin on each side */
    L->o[0] = L->o[1] = -X - 2.0 * L->h;
    L->o[2] = L->zlo - 2.0 * L->h;
    L->n[0] = L->n[1] = (int64_t)ceil(2.0 * (X + 2.0 * L->h) / L->h) + 1;
    L->n[2] = (int64_t)ceil((L->zhi - L->zlo + 4.0 * L->h) / L->h) + 1;
    const int64_t np = L->n[0] * L->n[1] * L->n[2];
    double *pts = tmsf_malloc_array((size_t)np * 3, sizeof(double));
    double *val = tmsf_malloc_array((size_t)np * 3, sizeof(double));
    L->a = tmsf_malloc_array((size_t)np * 3, sizeof(float));
    if (!pts || !val || !L->a) {
      free(pts), free(val);
      tmsf_primary_grid_free(g);
      return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "primary grid: out of memory for %lld samples", (long long)np);
    }
    for (int64_t k = 0; k < L->n[2]; k++)
      for (int64_t j = 0; j < L->n[1]; j++)
        for (int64_t i = 0; i < L->n[0]; i++) {
          int64_t q = (k * L->n[1] + j) * L->n[0] + i;
          pts[3 * q] = L->o[0] + (double)i * L->h;
          pts[3 * q + 1] = L->o[1] + (double)j * L->h;
          pts[3 * q + 2] = L->o[2] + (double)k * L->h;
        }
    int ierr = tmsf_coil_primary_field(coil, I, 1.0, np, pts, val, NULL);
    if (!ierr)
      for (int64_t q = 0; q < 3 * np; q++) L->a[q] = (float)(val[q] * 1e6);
    free(pts), free(val);
    if (ierr) {
      tmsf_primary_grid_free(g);
      return ierr;
    }
  }
  *out = g;
  return TMSF_SUCCESS;
}

static inline void catmull_rom(double t, double w[4]) {
  const double t2 = t * t, t3 = t2 * t;
  w[0] = 0.5 * (-t3 + 2.0 * t2 - t);
  w[1] = 0.5 * (3.0 * t3 - 5.0 * t2 + 2.0);
  w[2] = 0.5 * (-3.0 * t3 + 4.0 * t2 + t);
  w[3] = 0.5 * (t3 - t2);
}

/* A (per ampere) at coil-frame point c by tricubic interpolation; 0 when no
 * level holds its stencil. */
static int pg_eval(const tmsf_primary_grid *g, const double c[3], double a[3]) {
  if (fabs(c[0]) > g->half_width || fabs(c[1]) > g->half_width) return 0;
  for (int l = 0; l < PG_LEVELS; l++) {
    const pg_level *L = &g->lev[l];
    if (c[2] < L->zlo || c[2] > L->zhi) continue;
    int64_t b[3];
    double w[3][4];
    for (int k = 0; k < 3; k++) {
      double f = (c[k] - L->o[k]) / L->h, fl = floor(f);
      b[k] = (int64_t)fl - 1;
      if (b[k] < 0 || b[k] + 3 >= L->n[k]) return 0;
      catmull_rom(f - fl, w[k]);
    }
    double a0 = 0.0, a1 = 0.0, a2 = 0.0;
    for (int dk = 0; dk < 4; dk++)
      for (int dj = 0; dj < 4; dj++) {
        const float *row = L->a + 3 * (((b[2] + dk) * L->n[1] + b[1] + dj) * L->n[0] + b[0]);
        const double wjk = w[1][dj] * w[2][dk];
        a0 += wjk * (w[0][0] * row[0] + w[0][1] * row[3] + w[0][2] * row[6] + w[0][3] * row[9]);
        a1 += wjk * (w[0][0] * row[1] + w[0][1] * row[4] + w[0][2] * row[7] + w[0][3] * row[10]);
        a2 += wjk * (w[0][0] * row[2] + w[0][1] * row[5] + w[0][2] * row[8] + w[0][3] * row[11]);
      }
    a[0] = a0 * 1e-6, a[1] = a1 * 1e-6, a[2] = a2 * 1e-6;
    return 1;
  }
  return 0;
}

/* Nodes sampled per pose to check the table against the direct sum. */
#define PG_CHECK_SAMPLES 2000

int tmsf_primary_grid_eval(const tmsf_primary_grid *g, const tmsf_coil *coil, const double P[16],
                           double didt, int64_t n, const double *pts, double *out, double tol,
                           double *error, int *used) {
  tmsf_context *ctx = coil->ctx;
  int64_t nout = 0;
  *used = 0;
  *error = 0.0;
  char *missed = tmsf_calloc_array((size_t)n, 1);
  if (!missed) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 256) num_threads(tmsf_threads(ctx)) reduction(+ : nout)
#endif
  for (int64_t i = 0; i < n; i++) {
    const double *x = pts + 3 * i;
    const double d[3] = {x[0] - P[3], x[1] - P[7], x[2] - P[11]};
    double c[3], a[3];
    for (int k = 0; k < 3; k++) c[k] = P[k] * d[0] + P[4 + k] * d[1] + P[8 + k] * d[2];
    if (pg_eval(g, c, a)) {
      double h[3];
      tmsf_pose_apply_vector(P, a, h);
      for (int k = 0; k < 3; k++) out[3 * i + k] = didt * h[k];
    } else {
      missed[i] = 1;
      nout++;
    }
  }
  /* the direct sum where the grids do not reach, and at every stride-th node
   * tabulated, to measure this pose's interpolation error */
  const int64_t stride = n / PG_CHECK_SAMPLES > 1 ? n / PG_CHECK_SAMPLES : 1;
  int64_t nd = nout;
  for (int64_t i = 0; i < n; i += stride)
    if (!missed[i]) nd++;
  int ierr = TMSF_SUCCESS;
  double *p = tmsf_malloc_array((size_t)nd * 3, sizeof(double));
  double *v = tmsf_malloc_array((size_t)nd * 3, sizeof(double));
  int64_t *idx = tmsf_malloc_array((size_t)nd, sizeof(int64_t));
  if (!p || !v || !idx) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
    goto done;
  }
  {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
      if (missed[i] || (i % stride == 0)) {
        idx[k] = i;
        memcpy(p + 3 * k++, pts + 3 * i, 3 * sizeof(double));
      }
    ierr = tmsf_coil_primary_field(coil, P, didt, nd, p, v, NULL);
    if (ierr) goto done;
    double e2 = 0.0, a2 = 0.0;
    for (k = 0; k < nd; k++) {
      const int64_t i = idx[k];
      if (!missed[i])
        for (int c = 0; c < 3; c++) {
          e2 += (out[3 * i + c] - v[3 * k + c]) * (out[3 * i + c] - v[3 * k + c]);
          a2 += v[3 * k + c] * v[3 * k + c];
        }
      memcpy(out + 3 * i, v + 3 * k, 3 * sizeof(double));
    }
    *error = a2 > 0.0 ? sqrt(e2 / a2) : 0.0;
  }
  if (*error > tol) /* not accurate enough for this pose: the direct sum everywhere */
    ierr = tmsf_coil_primary_field(coil, P, didt, n, pts, out, NULL);
  else
    *used = 1;
done:
  free(p), free(v), free(idx);
  free(missed);
  return ierr;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * coil.c: the coil object and its primary field (dA/dt) at points.
 */
#include <stdatomic.h>
#include <string.h>

#include "tmsf-impl.h"

static atomic_uint_fast64_t next_coil_uid = 1;

int tmsf_coil_alloc(tmsf_context *ctx, tmsf_coil **coil) {
  *coil = calloc(1, sizeof(**coil));
  if (!*coil) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  (*coil)->ctx = ctx;
  (*coil)->didt_max = NAN;
  (*coil)->precision = TMSF_PRECISION_SINGLE;
  (*coil)->uid = (uint64_t)atomic_fetch_add(&next_coil_uid, 1);
  return TMSF_SUCCESS;
}

int tmsf_coil_destroy(tmsf_coil **coil) {
  if (!coil || !*coil) return TMSF_SUCCESS;
  tmsf_coil *c = *coil;
  for (int i = 0; i < c->num_keys; i++) {
    free(c->keys[i]);
    free(c->values[i]);
  }
  free(c->keys);
  free(c->values);
  free(c->name);
  free(c->pos);
  free(c->mom);
  free(c->grid);
  free(c);
  *coil = NULL;
  return TMSF_SUCCESS;
}

/* Sniff the format: NIfTI by magic / gzip, else .ccd text. */
int tmsf_coil_read(tmsf_context *ctx, const char *path, tmsf_coil **coil) {
  if (!ctx || !path || !coil) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  size_t len = strlen(path);
  int nifti_name = (len > 4 && strcmp(path + len - 4, ".nii") == 0) ||
                   (len > 7 && strcmp(path + len - 7, ".nii.gz") == 0);
  if (nifti_name) return tmsf_nifti_coil_read(ctx, path, coil);
  return tmsf_ccd_read(ctx, path, coil);
}

int tmsf_coil_create_dipoles(tmsf_context *ctx, int64_t num_dipoles, const double *positions_m,
                             const double *moments_A_m2, tmsf_coil **coil) {
  if (!ctx || !coil) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  if (num_dipoles < 1 || !positions_m || !moments_A_m2)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "tmsf_coil_create_dipoles: need at least one dipole and both arrays");
  for (int64_t i = 0; i < 3 * num_dipoles; i++)
    if (!isfinite(positions_m[i]) || !isfinite(moments_A_m2[i]))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "dipole %lld has a non-finite value",
                        (long long)(i / 3));
  tmsf_coil *c;
  TMSF_CALL(tmsf_coil_alloc(ctx, &c));
  c->kind = TMSF_COIL_DIPOLES;
  c->num_dipoles = num_dipoles;
  c->pos = tmsf_malloc_array((size_t)num_dipoles * 3, sizeof(double));
  c->mom = tmsf_malloc_array((size_t)num_dipoles * 3, sizeof(double));
  c->name = tmsf_strdup("dipoles");
  if (!c->pos || !c->mom || !c->name) {
    tmsf_coil_destroy(&c);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  memcpy(c->pos, positions_m, (size_t)num_dipoles * 3 * sizeof(double));
  memcpy(c->mom, moments_A_m2, (size_t)num_dipoles * 3 * sizeof(double));
  *coil = c;
  return TMSF_SUCCESS;
}

int tmsf_coil_create_grid(tmsf_context *ctx, const int64_t dims[3], const double *A_T_m_per_A,
                          const double grid_from_index_m[16], tmsf_coil **coil) {
  if (!ctx || !coil || !dims || !A_T_m_per_A || !grid_from_index_m) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  for (int k = 0; k < 3; k++)
    if (dims[k] < 2 || dims[k] > 100000)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid dimension %d is %lld; expected 2..100000", k,
                        (long long)dims[k]);
  const double *M = grid_from_index_m;
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      if (r != c && fabs(M[4 * r + c]) > 1e-9 * fabs(M[4 * r + r]))
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                          "grid affine is not axis-aligned (entry %d,%d = %g); expected a "
                          "diagonal 3x3 part",
                          r, c, M[4 * r + c]);
  for (int r = 0; r < 3; r++)
    if (!(fabs(M[4 * r + r]) > 0.0) || !isfinite(M[4 * r + r]) || !isfinite(M[4 * r + 3]))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid spacing %d is %g; expected finite and non-zero", r, M[4 * r + r]);
  size_t nvox = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  tmsf_coil *c;
  TMSF_CALL(tmsf_coil_alloc(ctx, &c));
  c->kind = TMSF_COIL_GRID;
  c->grid = tmsf_malloc_array(nvox * 3, sizeof(float));
  c->name = tmsf_strdup("grid");
  if (!c->grid || !c->name) {
    tmsf_coil_destroy(&c);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  for (size_t i = 0; i < 3 * nvox; i++) {
    if (!isfinite(A_T_m_per_A[i])) {
      tmsf_coil_destroy(&c);
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid sample %zu is not finite", i);
    }
    c->grid[i] = (float)A_T_m_per_A[i];
  }
  for (int k = 0; k < 3; k++) {
    c->dims[k] = dims[k];
    c->spacing[k] = M[4 * k + k];
    c->origin[k] = M[4 * k + 3];
  }
  *coil = c;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_kind(const tmsf_coil *coil, tmsf_coil_kind *kind) {
  if (!coil || !kind) return TMSF_ERR_ARGUMENT;
  *kind = coil->kind;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_num_dipoles(const tmsf_coil *coil, int64_t *num_dipoles) {
  if (!coil || !num_dipoles) return TMSF_ERR_ARGUMENT;
  *num_dipoles = coil->num_dipoles;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_dipoles(const tmsf_coil *coil, const double **positions_m,
                          const double **moments_A_m2) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (positions_m) *positions_m = coil->pos;
  if (moments_A_m2) *moments_A_m2 = coil->mom;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_name(const tmsf_coil *coil, const char **name) {
  if (!coil || !name) return TMSF_ERR_ARGUMENT;
  *name = coil->name ? coil->name : "";
  return TMSF_SUCCESS;
}

int tmsf_coil_get_didt_max(const tmsf_coil *coil, double *didt_max_A_per_s) {
  if (!coil || !didt_max_A_per_s) return TMSF_ERR_ARGUMENT;
  if (!isfinite(coil->didt_max))
    return TMSF_ERROR(coil->ctx, TMSF_ERR_NOT_FOUND,
                      "coil '%s' has no dIdtmax (maximum dI/dt at 100 %% MSO); give dI/dt "
                      "directly or set it",
                      coil->name ? coil->name : "");
  *didt_max_A_per_s = coil->didt_max;
  return TMSF_SUCCESS;
}

int tmsf_coil_set_didt_max(tmsf_coil *coil, double didt_max_A_per_s) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (!isfinite(didt_max_A_per_s) || didt_max_A_per_s <= 0.0)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "dI/dt max must be finite and > 0 A/s, got %g",
                      didt_max_A_per_s);
  coil->didt_max = didt_max_A_per_s;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_num_header_keys(const tmsf_coil *coil, int *num_keys) {
  if (!coil || !num_keys) return TMSF_ERR_ARGUMENT;
  *num_keys = coil->num_keys;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_header_key(const tmsf_coil *coil, int index, const char **key, const char **value) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (index < 0 || index >= coil->num_keys)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "header key index %d out of range 0..%d", index,
                      coil->num_keys - 1);
  if (key) *key = coil->keys[index];
  if (value) *value = coil->values[index];
  return TMSF_SUCCESS;
}

int tmsf_coil_get_header(const tmsf_coil *coil, const char *key, const char **value) {
  if (!coil || !key || !value) return TMSF_ERR_ARGUMENT;
  for (int i = 0; i < coil->num_keys; i++)
    if (strcmp(coil->keys[i], key) == 0) {
      *value = coil->values[i];
      return TMSF_SUCCESS;
    }
  return TMSF_ERROR(coil->ctx, TMSF_ERR_NOT_FOUND, "coil header has no key '%s'", key);
}

/* ------------------------------------------------------------------------- */
/* Primary field                                                             */
/* ------------------------------------------------------------------------- */

/* A (per ampere) at n points from dipoles given in structure-of-arrays form.
 * The inner loop runs over dipoles with a SIMD reduction; the outer loop over
 * points is threaded, so each point's sum has a fixed order. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void dipole_sum(int64_t n, const double *restrict pts, int64_t nd,
                       const double *restrict dx, const double *restrict dy,
                       const double *restrict dz, const double *restrict mx,
                       const double *restrict my, const double *restrict mz, double scale,
                       double *restrict out, int nthreads) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 64) num_threads(nthreads)
#else
  (void)nthreads;
#endif
  for (int64_t i = 0; i < n; i++) {
    const double px = pts[3 * i], py = pts[3 * i + 1], pz = pts[3 * i + 2];
    double ax = 0.0, ay = 0.0, az = 0.0;
#pragma omp simd reduction(+ : ax, ay, az)
    for (int64_t k = 0; k < nd; k++) {
      double rx = px - dx[k], ry = py - dy[k], rz = pz - dz[k];
      double r2 = rx * rx + ry * ry + rz * rz;
      double ir = 1.0 / sqrt(r2);
      double ir3 = ir * ir * ir;
      ax += (my[k] * rz - mz[k] * ry) * ir3;
      ay += (mz[k] * rx - mx[k] * rz) * ir3;
      az += (mx[k] * ry - my[k] * rx) * ir3;
    }
    out[3 * i] = scale * ax;
    out[3 * i + 1] = scale * ay;
    out[3 * i + 2] = scale * az;
  }
}

/* The same sum in single precision, for speed (AVX-512: 16 lanes): positions
 * relative to an origin near the coil, so that float resolves the distances to
 * ~1e-7 relative; partial sums over blocks of 256 dipoles are added in double.
 * Measured relative error of A against the double sum: ~1e-6. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void dipole_sum_single(int64_t n, const double *restrict pts, const double origin[3], int64_t nd,
                              const float *restrict dx, const float *restrict dy,
                              const float *restrict dz, const float *restrict mx,
                              const float *restrict my, const float *restrict mz, double scale,
                              double *restrict out, int nthreads) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 64) num_threads(nthreads)
#else
  (void)nthreads;
#endif
  for (int64_t i = 0; i < n; i++) {
    const float px = (float)(pts[3 * i] - origin[0]), py = (float)(pts[3 * i + 1] - origin[1]),
                pz = (float)(pts[3 * i + 2] - origin[2]);
    double ax = 0.0, ay = 0.0, az = 0.0;
    for (int64_t k0 = 0; k0 < nd; k0 += 256) {
      const int64_t k1 = k0 + 256 < nd ? k0 + 256 : nd;
      float bx = 0.0f, by = 0.0f, bz = 0.0f;
#pragma omp simd reduction(+ : bx, by, bz)
      for (int64_t k = k0; k < k1; k++) {
        float rx = px - dx[k], ry = py - dy[k], rz = pz - dz[k];
        float r2 = rx * rx + ry * ry + rz * rz;
        float ir = 1.0f / sqrtf(r2);
        float ir3 = ir * ir * ir;
        bx += (my[k] * rz - mz[k] * ry) * ir3;
        by += (mz[k] * rx - mx[k] * rz) * ir3;
        bz += (mx[k] * ry - my[k] * rx) * ir3;
      }
      ax += bx, ay += by, az += bz;
    }
    out[3 * i] = scale * ax;
    out[3 * i + 1] = scale * ay;
    out[3 * i + 2] = scale * az;
  }
}

static int primary_dipoles(const tmsf_coil *coil, const double P[16], double didt, int64_t n,
                           const double *pts, double *out) {
  int64_t nd = coil->num_dipoles;
  const double scale = TMSF_CONST_MKSA_MU0_OVER_4PI * didt;
  if (coil->precision == TMSF_PRECISION_SINGLE) {
    float *buf = tmsf_malloc_array((size_t)nd * 6, sizeof(float));
    if (!buf) return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
    float *dx = buf, *dy = buf + nd, *dz = buf + 2 * nd, *mx = buf + 3 * nd, *my = buf + 4 * nd,
          *mz = buf + 5 * nd;
    const double origin[3] = {P[3], P[7], P[11]}; /* the coil centre */
    for (int64_t k = 0; k < nd; k++) {
      double r[3], m[3];
      tmsf_pose_apply_vector(P, coil->pos + 3 * k, r); /* relative to the coil centre */
      tmsf_pose_apply_vector(P, coil->mom + 3 * k, m);
      dx[k] = (float)r[0], dy[k] = (float)r[1], dz[k] = (float)r[2];
      /* moments scaled to O(1) so that products stay far from float's range limits */
      mx[k] = (float)(m[0] * 1e6), my[k] = (float)(m[1] * 1e6), mz[k] = (float)(m[2] * 1e6);
    }
    dipole_sum_single(n, pts, origin, nd, dx, dy, dz, mx, my, mz, scale * 1e-6, out,
                      tmsf_threads(coil->ctx));
    free(buf);
    return TMSF_SUCCESS;
  }
  double *buf = tmsf_malloc_array((size_t)nd * 6, sizeof(double));
  if (!buf) return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
  double *dx = buf, *dy = buf + nd, *dz = buf + 2 * nd, *mx = buf + 3 * nd, *my = buf + 4 * nd,
         *mz = buf + 5 * nd;
  for (int64_t k = 0; k < nd; k++) {
    double r[3], m[3];
    tmsf_pose_apply_point(P, coil->pos + 3 * k, r);
    tmsf_pose_apply_vector(P, coil->mom + 3 * k, m);
    dx[k] = r[0], dy[k] = r[1], dz[k] = r[2];
    mx[k] = m[0], my[k] = m[1], mz[k] = m[2];
  }
  dipole_sum(n, pts, nd, dx, dy, dz, mx, my, mz, scale, out, tmsf_threads(coil->ctx));
  free(buf);
  return TMSF_SUCCESS;
}

int tmsf_coil_set_precision(tmsf_coil *coil, tmsf_precision precision) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (precision != TMSF_PRECISION_SINGLE && precision != TMSF_PRECISION_DOUBLE)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "unknown precision %d", (int)precision);
  coil->precision = precision;
  return TMSF_SUCCESS;
}

static int64_t primary_grid(const tmsf_coil *coil, const double P[16], double didt, int64_t n,
                            const double *pts, double *out) {
  const int64_t nx = coil->dims[0], ny = coil->dims[1], nz = coil->dims[2];
  const size_t nvox = (size_t)nx * (size_t)ny * (size_t)nz;
  const float *g = coil->grid;
  int64_t outside = 0;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 256) num_threads(tmsf_threads(coil->ctx)) reduction(+ : outside)
#endif
  for (int64_t i = 0; i < n; i++) {
    const double *x = pts + 3 * i;
    double d[3] = {x[0] - P[3], x[1] - P[7], x[2] - P[11]};
    double u[3];
    for (int c = 0; c < 3; c++) { /* coil frame: R^T d */
      double xc = P[c] * d[0] + P[4 + c] * d[1] + P[8 + c] * d[2];
      u[c] = (xc - coil->origin[c]) / coil->spacing[c];
    }
    int64_t i0[3];
    double f[3];
    int in = 1;
    for (int c = 0; c < 3; c++) {
      double lim = (double)coil->dims[c] - 1.0;
      if (!(u[c] >= 0.0 && u[c] <= lim)) {
        in = 0;
        break;
      }
      double fl = floor(u[c]);
      if (fl >= lim) fl = lim - 1.0;
      i0[c] = (int64_t)fl;
      f[c] = u[c] - fl;
    }
    double a[3] = {0.0, 0.0, 0.0};
    if (in) {
      size_t base = (size_t)((i0[2] * ny + i0[1]) * nx + i0[0]);
      for (int comp = 0; comp < 3; comp++) {
        const float *gc = g + comp * nvox + base;
        double c000 = gc[0], c100 = gc[1], c010 = gc[nx], c110 = gc[nx + 1];
        double c001 = gc[nx * ny], c101 = gc[nx * ny + 1], c011 = gc[nx * ny + nx],
               c111 = gc[nx * ny + nx + 1];
        double c00 = c000 + f[0] * (c100 - c000), c10 = c010 + f[0] * (c110 - c010);
        double c01 = c001 + f[0] * (c101 - c001), c11 = c011 + f[0] * (c111 - c011);
        double c0 = c00 + f[1] * (c10 - c00), c1 = c01 + f[1] * (c11 - c01);
        a[comp] = c0 + f[2] * (c1 - c0);
      }
    } else {
      outside++;
    }
    double h[3];
    tmsf_pose_apply_vector(P, a, h);
    for (int c = 0; c < 3; c++) out[3 * i + c] = didt * h[c];
  }
  return outside;
}

int tmsf_coil_primary_field(const tmsf_coil *coil, const double head_from_coil_m[16],
                            double didt_A_per_s, int64_t num_points, const double *points_m,
                            double *dadt_V_per_m, int64_t *num_outside) {
  if (!coil || !head_from_coil_m || num_points < 0 || (num_points && (!points_m || !dadt_V_per_m)))
    return TMSF_ERR_ARGUMENT;
  TMSF_CALL(tmsf_pose_check(coil->ctx, head_from_coil_m));
  if (!isfinite(didt_A_per_s))
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "dI/dt must be finite, got %g", didt_A_per_s);
  int64_t outside = 0;
  if (coil->kind == TMSF_COIL_DIPOLES) {
    TMSF_CALL(primary_dipoles(coil, head_from_coil_m, didt_A_per_s, num_points, points_m, dadt_V_per_m));
  } else {
    outside = primary_grid(coil, head_from_coil_m, didt_A_per_s, num_points, points_m, dadt_V_per_m);
  }
  if (num_outside) *num_outside = outside;
  return TMSF_SUCCESS;
}

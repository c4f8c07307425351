/*
 * SPDX-License-Identifier: BSD-3-Clause
 * analytic.h: the induced field of magnetic dipoles in a spherically
 * symmetric conductor centred at the origin (Heller & van Hulsteyn, Biophys J
 * 1992), the reference of the validation suite.  Independent of the
 * conductivity profile.
 *
 * For a dipole m at r0 outside the sphere and a point r inside, a = r0 - r:
 *   F     = |a| (|r0||a| + r0.a)
 *   gradF = (|a|^2/|r0| + 2|a| + 2|r0| + r0.a/|a|) r0 - (|a| + 2|r0| + r0.a/|a|) r
 *   E(r)  = -(dI/dt) mu0/(4 pi F^2) (F (r x m) - (m . gradF)(r x r0))
 */
#ifndef TMSF_TEST_ANALYTIC_H
#define TMSF_TEST_ANALYTIC_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static inline void analytic_cross(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

/* E (V/m) at point r (m) from num_dipoles dipoles given in head coordinates. */
static inline void analytic_sphere_E(int64_t num_dipoles, const double *pos, const double *mom,
                                     double didt, const double r[3], double E[3]) {
  E[0] = E[1] = E[2] = 0.0;
  for (int64_t k = 0; k < num_dipoles; k++) {
    const double *r0 = pos + 3 * k, *m = mom + 3 * k;
    double a[3] = {r0[0] - r[0], r0[1] - r[1], r0[2] - r[2]};
    double na = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    double nr0 = sqrt(r0[0] * r0[0] + r0[1] * r0[1] + r0[2] * r0[2]);
    double r0a = r0[0] * a[0] + r0[1] * a[1] + r0[2] * a[2];
    double F = na * (nr0 * na + r0a);
    double c1 = na * na / nr0 + 2.0 * na + 2.0 * nr0 + r0a / na;
    double c2 = na + 2.0 * nr0 + r0a / na;
    double gF[3] = {c1 * r0[0] - c2 * r[0], c1 * r0[1] - c2 * r[1], c1 * r0[2] - c2 * r[2]};
    double rxm[3], rxr0[3];
    analytic_cross(r, m, rxm);
    analytic_cross(r, r0, rxr0);
    double mg = m[0] * gF[0] + m[1] * gF[1] + m[2] * gF[2];
    double s = -didt * 1e-7 / (F * F);
    for (int c = 0; c < 3; c++) E[c] += s * (F * rxm[c] - mg * rxr0[c]);
  }
}

/* Dipoles of a coil moved to a pose (head = R coil + t). */
static inline void analytic_place_dipoles(int64_t n, const double *pos_c, const double *mom_c,
                                          const double P[16], double *pos, double *mom) {
  for (int64_t k = 0; k < n; k++)
    for (int i = 0; i < 3; i++) {
      pos[3 * k + i] = P[4 * i] * pos_c[3 * k] + P[4 * i + 1] * pos_c[3 * k + 1] +
                       P[4 * i + 2] * pos_c[3 * k + 2] + P[4 * i + 3];
      mom[3 * k + i] = P[4 * i] * mom_c[3 * k] + P[4 * i + 1] * mom_c[3 * k + 1] +
                       P[4 * i + 2] * mom_c[3 * k + 2];
    }
}

/*
 * The same field, summed in a form the compiler vectorises: since
 * r x m and r x r0 share the factor r,
 *   E(r) = r x sum_k s_k (F_k m_k - (m_k . gradF_k) r0_k),  s_k = -(dI/dt) mu0/(4 pi F_k^2),
 * over dipoles stored as separate coordinate arrays (analytic_dipoles_soa).
 */
typedef struct analytic_dipoles {
  int64_t n;
  double *x, *y, *z, *mx, *my, *mz, *nr0, *inv_nr0; /* positions, moments, |r0|, 1/|r0| */
} analytic_dipoles;

/* Fill d from n dipoles in head coordinates (pos, mom: 3 per dipole);
 * returns 0, or -1 when out of memory.  Free with analytic_dipoles_free. */
static inline int analytic_dipoles_soa(int64_t n, const double *pos, const double *mom,
                                       analytic_dipoles *d) {
  d->n = n;
  d->x = (double *)malloc(sizeof(double) * 8 * (size_t)n);
  if (!d->x) return -1;
  d->y = d->x + n, d->z = d->x + 2 * n, d->mx = d->x + 3 * n, d->my = d->x + 4 * n;
  d->mz = d->x + 5 * n, d->nr0 = d->x + 6 * n, d->inv_nr0 = d->x + 7 * n;
  for (int64_t k = 0; k < n; k++) {
    d->x[k] = pos[3 * k], d->y[k] = pos[3 * k + 1], d->z[k] = pos[3 * k + 2];
    d->mx[k] = mom[3 * k], d->my[k] = mom[3 * k + 1], d->mz[k] = mom[3 * k + 2];
    d->nr0[k] = sqrt(d->x[k] * d->x[k] + d->y[k] * d->y[k] + d->z[k] * d->z[k]);
    d->inv_nr0[k] = 1.0 / d->nr0[k];
  }
  return 0;
}

static inline void analytic_dipoles_free(analytic_dipoles *d) {
  free(d->x);
  d->x = NULL;
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2,fma", "default")))
#endif
static inline void analytic_sphere_E_soa(const analytic_dipoles *d, double didt, const double r[3],
                                         double E[3]) {
  const double *X = d->x, *Y = d->y, *Z = d->z, *MX = d->mx, *MY = d->my, *MZ = d->mz;
  const double *NR0 = d->nr0, *INR0 = d->inv_nr0;
  const double rx = r[0], ry = r[1], rz = r[2];
  double vx = 0.0, vy = 0.0, vz = 0.0;
#ifdef _OPENMP
#pragma omp simd reduction(+ : vx, vy, vz)
#endif
  for (int64_t k = 0; k < d->n; k++) {
    double ax = X[k] - rx, ay = Y[k] - ry, az = Z[k] - rz;
    double a2 = ax * ax + ay * ay + az * az, inv_na = 1.0 / sqrt(a2), na = a2 * inv_na;
    double nr0 = NR0[k], r0a = X[k] * ax + Y[k] * ay + Z[k] * az;
    double F = na * (nr0 * na + r0a);
    double q = r0a * inv_na;
    double c1 = a2 * INR0[k] + 2.0 * na + 2.0 * nr0 + q, c2 = na + 2.0 * nr0 + q;
    double mg = MX[k] * (c1 * X[k] - c2 * rx) + MY[k] * (c1 * Y[k] - c2 * ry) +
                MZ[k] * (c1 * Z[k] - c2 * rz);
    double s = 1.0 / (F * F);
    vx += s * (F * MX[k] - mg * X[k]);
    vy += s * (F * MY[k] - mg * Y[k]);
    vz += s * (F * MZ[k] - mg * Z[k]);
  }
  const double f = -didt * 1e-7;
  E[0] = f * (ry * vz - rz * vy);
  E[1] = f * (rz * vx - rx * vz);
  E[2] = f * (rx * vy - ry * vx);
}

#endif

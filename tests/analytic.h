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

#endif

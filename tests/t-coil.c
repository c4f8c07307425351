/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-coil.c: coils — .ccd header keys, dIdtmax, the dipole primary field against
 * the formula evaluated here, invariance under rigid motion, grid coils
 * (trilinear interpolation is exact for fields linear in each coordinate),
 * points outside a grid.
 */
#include "test-common.h"

/* A of one dipole per ampere, straight from the formula. */
static void dipole_A(const double r0[3], const double m[3], const double r[3], double A[3]) {
  double d[3] = {r[0] - r0[0], r[1] - r0[1], r[2] - r0[2]};
  double n = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  double k = 1e-7 / (n * n * n);
  A[0] = k * (m[1] * d[2] - m[2] * d[1]);
  A[1] = k * (m[2] * d[0] - m[0] * d[2]);
  A[2] = k * (m[0] * d[1] - m[1] * d[0]);
}

static void rot(double P[16], double ax, double ay, double az, double tx, double ty, double tz) {
  double cx = cos(ax), sx = sin(ax), cy = cos(ay), sy = sin(ay), cz = cos(az), sz = sin(az);
  double R[9] = {cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx,
                 sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx,
                 -sy,     cy * sx,                cy * cx};
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) P[4 * i + j] = R[3 * i + j];
  }
  P[3] = tx, P[7] = ty, P[11] = tz;
  P[12] = P[13] = P[14] = 0.0, P[15] = 1.0;
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  const double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};

  /* the SimNIBS 4-dipole test coil with a full header */
  tmsf_coil *tc;
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/testcoil.ccd"), &tc));
  int64_t nd;
  tmsf_coil_get_num_dipoles(tc, &nd);
  CHECK(nd == 4, "dipoles %lld", (long long)nd);
  double dmax;
  CHECK_OK(ctx, tmsf_coil_get_didt_max(tc, &dmax));
  CHECK(dmax == 100.0e6, "dIdtmax 100 A/us = 1e8 A/s, got %g", dmax);
  const char *v, *name;
  CHECK_OK(ctx, tmsf_coil_get_header(tc, "stimulator", &v));
  CHECK(strcmp(v, "None") == 0, "stimulator '%s'", v);
  CHECK_OK(ctx, tmsf_coil_get_header(tc, "x", &v));
  CHECK(strcmp(v, "-100,100") == 0, "x limits '%s'", v);
  CHECK_OK(ctx, tmsf_coil_get_header(tc, "resolution", &v));
  CHECK(strcmp(v, "10") == 0, "resolution '%s'", v);
  CHECK(tmsf_coil_get_header(tc, "nosuchkey", &v) == TMSF_ERR_NOT_FOUND, "absent key");
  int nk;
  tmsf_coil_get_num_header_keys(tc, &nk);
  CHECK(nk == 9, "9 header keys, got %d", nk);
  const char *k0;
  CHECK_OK(ctx, tmsf_coil_get_header_key(tc, 0, &k0, &v));
  CHECK(strcmp(k0, "dIdtmax") == 0 && strcmp(v, "100.0") == 0, "first key %s=%s", k0, v);
  CHECK_OK(ctx, tmsf_coil_get_name(tc, &name));
  CHECK(strcmp(name, "Test coil") == 0, "name '%s'", name);
  const double *pos, *mom;
  tmsf_coil_get_dipoles(tc, &pos, &mom);
  CHECK(pos[0] == -0.01 && pos[2] == -0.001 && mom[0] == 1e-6 && mom[2] == 2e-6, "first dipole");

  /* primary field = formula (double precision), at points and after a rigid motion */
  CHECK_OK(ctx, tmsf_coil_set_precision(tc, TMSF_PRECISION_DOUBLE));
  CHECK(tmsf_coil_set_precision(tc, (tmsf_precision)7) == TMSF_ERR_ARGUMENT, "bad precision");
  double pts[3 * 5] = {0.0, 0.0, 0.02, 0.03, -0.01, 0.05, -0.02, 0.04, 0.01, 0.1, 0.1, 0.1, 0.0, 0.0, 0.005};
  double got[15];
  CHECK_OK(ctx, tmsf_coil_primary_field(tc, I, 2.0e6, 5, pts, got, NULL));
  for (int p = 0; p < 5; p++) {
    double want[3] = {0, 0, 0};
    for (int d = 0; d < 4; d++) {
      double A[3];
      dipole_A(pos + 3 * d, mom + 3 * d, pts + 3 * p, A);
      for (int c = 0; c < 3; c++) want[c] += 2.0e6 * A[c];
    }
    double dn = 0, wn = 0;
    for (int c = 0; c < 3; c++) dn += (got[3 * p + c] - want[c]) * (got[3 * p + c] - want[c]), wn += want[c] * want[c];
    CHECK(sqrt(dn) <= 1e-13 * sqrt(wn), "point %d: dA/dt off by %g relative", p, sqrt(dn / wn));
  }
  /* rigid motion: field at P x equals R (field at x) */
  double P[16];
  rot(P, 0.3, -1.1, 2.0, 0.01, -0.02, 0.07);
  double moved[15], back[15];
  for (int p = 0; p < 5; p++)
    for (int i = 0; i < 3; i++)
      moved[3 * p + i] = P[4 * i] * pts[3 * p] + P[4 * i + 1] * pts[3 * p + 1] + P[4 * i + 2] * pts[3 * p + 2] + P[4 * i + 3];
  CHECK_OK(ctx, tmsf_coil_primary_field(tc, P, 2.0e6, 5, moved, back, NULL));
  for (int p = 0; p < 5; p++)
    for (int i = 0; i < 3; i++) {
      double w = P[4 * i] * got[3 * p] + P[4 * i + 1] * got[3 * p + 1] + P[4 * i + 2] * got[3 * p + 2];
      double scale = sqrt(got[3 * p] * got[3 * p] + got[3 * p + 1] * got[3 * p + 1] + got[3 * p + 2] * got[3 * p + 2]);
      CHECK(fabs(back[3 * p + i] - w) <= 1e-12 * scale, "rigid motion point %d comp %d", p, i);
    }
  /* single precision (the default): within 1e-5 relative of the double sum,
   * the accuracy the header states (~1e-6 measured), at every point */
  {
    double single[15];
    CHECK_OK(ctx, tmsf_coil_set_precision(tc, TMSF_PRECISION_SINGLE));
    CHECK_OK(ctx, tmsf_coil_primary_field(tc, P, 2.0e6, 5, moved, single, NULL));
    for (int p = 0; p < 5; p++) {
      double dn = 0, wn = 0;
      for (int c = 0; c < 3; c++)
        dn += (single[3 * p + c] - back[3 * p + c]) * (single[3 * p + c] - back[3 * p + c]), wn += back[3 * p + c] * back[3 * p + c];
      CHECK(sqrt(dn) <= 1e-5 * sqrt(wn), "single precision point %d: %.3g relative", p, sqrt(dn / wn));
    }
    CHECK_OK(ctx, tmsf_coil_set_precision(tc, TMSF_PRECISION_DOUBLE));
  }
  /* an invalid pose is rejected */
  double S[16];
  memcpy(S, I, sizeof(S));
  S[1] = 0.2; /* shear */
  CHECK(tmsf_coil_primary_field(tc, S, 1e6, 5, pts, got, NULL) == TMSF_ERR_POSE, "shear rejected");
  tmsf_coil_destroy(&tc);

  /* a coil without dIdtmax */
  tmsf_coil *mg;
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &mg));
  tmsf_coil_get_num_dipoles(mg, &nd);
  CHECK(nd == 2712, "Magstim dipoles %lld", (long long)nd);
  CHECK(tmsf_coil_get_didt_max(mg, &dmax) == TMSF_ERR_NOT_FOUND, "no dIdtmax");
  CHECK(strstr(tmsf_context_last_error(ctx), "Magstim_70mm_Fig8"), "message names coil: %s", tmsf_context_last_error(ctx));
  CHECK_OK(ctx, tmsf_coil_get_name(mg, &name));
  CHECK(strcmp(name, "Magstim_70mm_Fig8") == 0, "name '%s'", name);
  CHECK_OK(ctx, tmsf_coil_set_didt_max(mg, 1.5e8));
  CHECK_OK(ctx, tmsf_coil_get_didt_max(mg, &dmax));
  CHECK(dmax == 1.5e8, "set dIdtmax");
  CHECK(tmsf_coil_set_didt_max(mg, -1) == TMSF_ERR_ARGUMENT, "negative dIdtmax");
  tmsf_coil_destroy(&mg);

  /* grid coil: A linear in each coordinate is reproduced exactly */
  {
    int64_t dims[3] = {5, 4, 3};
    double M[16] = {0.01, 0, 0, -0.02, 0, 0.02, 0, -0.03, 0, 0, 0.005, 0.0, 0, 0, 0, 1};
    size_t nv = 5 * 4 * 3;
    double *A = malloc(sizeof(double) * 3 * nv);
    for (int kz = 0; kz < 3; kz++)
      for (int jy = 0; jy < 4; jy++)
        for (int ix = 0; ix < 5; ix++) {
          double x = -0.02 + 0.01 * ix, y = -0.03 + 0.02 * jy, z = 0.005 * kz;
          size_t q = (size_t)((kz * 4 + jy) * 5 + ix);
          A[q] = 1.0 + 2.0 * x - 3.0 * y + 4.0 * z;
          A[nv + q] = x * y;                 /* bilinear: also exact */
          A[2 * nv + q] = 0.5 - y * z + x;
        }
    tmsf_coil *gc;
    REQUIRE_OK(ctx, tmsf_coil_create_grid(ctx, dims, A, M, &gc));
    free(A);
    tmsf_coil_kind kind;
    tmsf_coil_get_kind(gc, &kind);
    CHECK(kind == TMSF_COIL_GRID, "kind");
    double q[3 * 4] = {0.013, 0.021, 0.0071, -0.0199, -0.029, 0.0001, 0.0, 0.0, 0.0099, 0.5, 0.0, 0.0};
    double out[12];
    int64_t outside = -1;
    CHECK_OK(ctx, tmsf_coil_primary_field(gc, I, 3.0, 4, q, out, &outside));
    CHECK(outside == 1, "one point outside, got %lld", (long long)outside);
    for (int p = 0; p < 3; p++) {
      double x = q[3 * p], y = q[3 * p + 1], z = q[3 * p + 2];
      double want[3] = {1.0 + 2.0 * x - 3.0 * y + 4.0 * z, x * y, 0.5 - y * z + x};
      for (int c = 0; c < 3; c++)
        CHECK(fabs(out[3 * p + c] - 3.0 * want[c]) <= 1e-6 * (1.0 + fabs(3.0 * want[c])), "grid point %d comp %d: %g vs %g (float storage)", p, c, out[3 * p + c], 3.0 * want[c]);
    }
    CHECK(out[9] == 0.0 && out[10] == 0.0 && out[11] == 0.0, "outside gives zero");
    /* rotated grid coil: field rotates with it */
    double P2[16], qm[9], o2[9];
    rot(P2, 0.0, 0.0, 0.5 * 3.14159265358979323846, 0.1, 0.0, 0.0);
    for (int p = 0; p < 3; p++)
      for (int i = 0; i < 3; i++)
        qm[3 * p + i] = P2[4 * i] * q[3 * p] + P2[4 * i + 1] * q[3 * p + 1] + P2[4 * i + 2] * q[3 * p + 2] + P2[4 * i + 3];
    CHECK_OK(ctx, tmsf_coil_primary_field(gc, P2, 3.0, 3, qm, o2, NULL));
    for (int p = 0; p < 3; p++)
      for (int i = 0; i < 3; i++) {
        double w = P2[4 * i] * out[3 * p] + P2[4 * i + 1] * out[3 * p + 1] + P2[4 * i + 2] * out[3 * p + 2];
        CHECK(fabs(o2[3 * p + i] - w) <= 1e-12 * (1 + fabs(w)), "rotated grid point %d comp %d", p, i);
      }
    tmsf_coil_destroy(&gc);
    double Mbad[16] = {0.01, 0.001, 0, 0, 0, 0.02, 0, 0, 0, 0, 0.005, 0, 0, 0, 0, 1};
    double dummy[3 * 60] = {0};
    CHECK(tmsf_coil_create_grid(ctx, dims, dummy, Mbad, &gc) == TMSF_ERR_ARGUMENT, "oblique grid rejected");
  }

  /* create_dipoles validates */
  tmsf_coil *dc;
  double p1[3] = {0, 0, 0}, m1[3] = {0, 0, NAN};
  CHECK(tmsf_coil_create_dipoles(ctx, 1, p1, m1, &dc) == TMSF_ERR_ARGUMENT && dc == NULL, "NaN moment");
  tmsf_context_destroy(&ctx);
  return test_summary("coil");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-coil-elements.c: coils as lists of elements on stimulators — line
 * segments against the formula evaluated here, mixed coils as the sum of
 * their elements, per-stimulator dI/dt (superposition), stimulator table,
 * the one-element accessors and their errors.
 */
#include "test-common.h"

#define PI 3.14159265358979323846

/* A per ampere of straight segments, straight from the formula
 * A = mu0/(4 pi) sum dl / |r - r_k| (mu0/(4 pi) = 1e-7 T m / A). */
static void segments_A(int n, const double *p, const double *dl, const double r[3], double A[3]) {
  A[0] = A[1] = A[2] = 0.0;
  for (int k = 0; k < n; k++) {
    double d[3] = {r[0] - p[3 * k], r[1] - p[3 * k + 1], r[2] - p[3 * k + 2]};
    double inv = 1e-7 / sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    for (int c = 0; c < 3; c++) A[c] += dl[3 * k + c] * inv;
  }
}

static double relerr(int64_t n, const double *a, const double *b) {
  double e = 0.0, s = 0.0;
  for (int64_t i = 0; i < n; i++) {
    e += (a[i] - b[i]) * (a[i] - b[i]);
    s += b[i] * b[i];
  }
  return sqrt(e / s);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  const double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  /* a pose: rotation about z by 30 degrees and a shift */
  const double c30 = cos(PI / 6), s30 = sin(PI / 6);
  const double P[16] = {c30, -s30, 0, 0.01, s30, c30, 0, -0.02, 0, 0, 1, 0.09, 0, 0, 0, 1};

  /* a circular loop of radius 30 mm as 64 segments, 37 such segments + 27 more (odd counts
   * exercise the vector remainder) */
  enum { NS = 101 };
  double sp[3 * NS], sdl[3 * NS];
  for (int k = 0; k < NS; k++) {
    double t0 = 2 * PI * k / NS, t1 = 2 * PI * (k + 1) / NS;
    double a0[3] = {0.03 * cos(t0), 0.03 * sin(t0), 0.005}, a1[3] = {0.03 * cos(t1), 0.03 * sin(t1), 0.005};
    for (int c = 0; c < 3; c++) {
      sp[3 * k + c] = 0.5 * (a0[c] + a1[c]);
      sdl[3 * k + c] = a1[c] - a0[c];
    }
  }
  enum { NP = 37 };
  double pts[3 * NP];
  for (int i = 0; i < NP; i++) {
    pts[3 * i] = 0.01 + 0.002 * (i % 7) - 0.006;
    pts[3 * i + 1] = -0.02 + 0.003 * (i % 5);
    pts[3 * i + 2] = 0.09 + 0.02 + 0.001 * i; /* 2-6 cm below the coil */
  }
  tmsf_coil *seg;
  REQUIRE_OK(ctx, tmsf_coil_create_segments(ctx, NS, sp, sdl, &seg));
  tmsf_coil_kind kind;
  CHECK_OK(ctx, tmsf_coil_get_kind(seg, &kind));
  CHECK(kind == TMSF_COIL_SEGMENTS, "segment coil kind %d", (int)kind);
  int64_t nd = -1;
  CHECK_OK(ctx, tmsf_coil_get_num_dipoles(seg, &nd));
  CHECK(nd == 0, "segment coil has no dipoles (%lld)", (long long)nd);
  CHECK(tmsf_coil_get_dipoles(seg, NULL, NULL) == TMSF_ERR_STATE, "get_dipoles of a segment coil");
  CHECK(strstr(tmsf_context_last_error(ctx), "exactly one element of dipoles") != NULL, "message: %s",
        tmsf_context_last_error(ctx));
  {
    double got[3 * NP], want[3 * NP];
    const double didt = 1e8;
    CHECK_OK(ctx, tmsf_coil_primary_field(seg, P, didt, NP, pts, got, NULL));
    /* reference in the coil frame, rotated to the head frame */
    for (int i = 0; i < NP; i++) {
      double d[3] = {pts[3 * i] - P[3], pts[3 * i + 1] - P[7], pts[3 * i + 2] - P[11]}, c[3], A[3];
      for (int k = 0; k < 3; k++) c[k] = P[k] * d[0] + P[4 + k] * d[1] + P[8 + k] * d[2];
      segments_A(NS, sp, sdl, c, A);
      for (int k = 0; k < 3; k++)
        want[3 * i + k] = didt * (P[4 * k] * A[0] + P[4 * k + 1] * A[1] + P[4 * k + 2] * A[2]);
    }
    /* double arithmetic in both: agreement to rounding (1e-13 leaves room for the
     * cancellation of a closed loop's terms, ~1e3 here) */
    double e = relerr(3 * NP, got, want);
    CHECK(e < 1e-12, "segments vs formula: relative error %.3g", e);
  }

  /* a dipole element: the first 3 entries of the SimNIBS test coil's layout */
  const double dp[9] = {0.0, 0.0, 0.0, 0.01, 0.0, 0.0, -0.01, 0.0, 0.0};
  const double dm[9] = {0.0, 0.0, 1e-3, 0.0, 0.0, -2e-3, 0.0, 0.0, 5e-4};
  tmsf_coil *dip;
  REQUIRE_OK(ctx, tmsf_coil_create_dipoles(ctx, 3, dp, dm, &dip));
  CHECK_OK(ctx, tmsf_coil_set_precision(dip, TMSF_PRECISION_DOUBLE));

  /* mixed coil: segments on stimulator 1, dipoles on stimulator 0 */
  tmsf_coil *mix;
  REQUIRE_OK(ctx, tmsf_coil_create(ctx, "mixed", &mix));
  int ns = -1, ne = -1;
  CHECK_OK(ctx, tmsf_coil_get_num_elements(mix, &ne));
  CHECK(ne == 0, "empty coil has %d elements", ne);
  CHECK(tmsf_coil_get_kind(mix, &kind) == TMSF_ERR_STATE, "kind of an empty coil");
  {
    double out[3];
    CHECK(tmsf_coil_primary_field(mix, I, 1.0, 1, pts, out, NULL) == TMSF_ERR_STATE,
          "field of an empty coil is an error");
  }
  CHECK(tmsf_coil_add_segments(mix, 64, "x", NS, sp, sdl) == TMSF_ERR_ARGUMENT, "stimulator 64 rejected");
  CHECK(tmsf_coil_add_segments(mix, -1, "x", NS, sp, sdl) == TMSF_ERR_ARGUMENT, "stimulator -1 rejected");
  REQUIRE_OK(ctx, tmsf_coil_add_segments(mix, 1, "loop", NS, sp, sdl));
  REQUIRE_OK(ctx, tmsf_coil_add_dipoles(mix, 0, NULL, 3, dp, dm));
  CHECK_OK(ctx, tmsf_coil_set_precision(mix, TMSF_PRECISION_DOUBLE));
  CHECK_OK(ctx, tmsf_coil_get_kind(mix, &kind));
  CHECK(kind == TMSF_COIL_MIXED, "mixed kind %d", (int)kind);
  CHECK_OK(ctx, tmsf_coil_get_num_elements(mix, &ne));
  CHECK_OK(ctx, tmsf_coil_get_num_stimulators(mix, &ns));
  CHECK(ne == 2 && ns == 2, "elements %d stimulators %d", ne, ns);
  CHECK_OK(ctx, tmsf_coil_get_num_dipoles(mix, &nd));
  CHECK(nd == 3, "mixed coil: 3 dipoles, got %lld", (long long)nd);
  CHECK(tmsf_coil_get_dipoles(mix, NULL, NULL) == TMSF_ERR_STATE, "get_dipoles of a 2-element coil");
  {
    tmsf_coil_kind k;
    int st;
    int64_t cnt;
    const char *nm;
    const double *p, *v;
    CHECK_OK(ctx, tmsf_coil_get_element(mix, 0, &k, &st, &cnt, &nm));
    CHECK(k == TMSF_COIL_SEGMENTS && st == 1 && cnt == NS && strcmp(nm, "loop") == 0,
          "element 0: kind %d stim %d count %lld name %s", (int)k, st, (long long)cnt, nm);
    CHECK_OK(ctx, tmsf_coil_get_element(mix, 1, &k, &st, &cnt, &nm));
    CHECK(k == TMSF_COIL_DIPOLES && st == 0 && cnt == 3 && strcmp(nm, "dipoles") == 0,
          "element 1: kind %d stim %d count %lld name %s", (int)k, st, (long long)cnt, nm);
    CHECK_OK(ctx, tmsf_coil_get_element_data(mix, 0, &p, &v));
    CHECK(p[3] == sp[3] && v[5] == sdl[5], "element data copied");
    CHECK(tmsf_coil_get_element(mix, 2, &k, NULL, NULL, NULL) == TMSF_ERR_ARGUMENT, "element 2 out of range");
  }
  /* stimulators */
  {
    const char *nm, *br;
    double dm0;
    CHECK_OK(ctx, tmsf_coil_get_stimulator(mix, 1, &nm, &br, &dm0));
    CHECK(strcmp(nm, "") == 0 && strcmp(br, "") == 0 && isnan(dm0), "new stimulator unknown");
    CHECK(tmsf_coil_get_didt_max(mix, &dm0) == TMSF_ERR_NOT_FOUND, "no dI/dt max yet");
    CHECK_OK(ctx, tmsf_coil_set_stimulator(mix, 1, "Rapid", "Magstim", 1.147e8));
    CHECK_OK(ctx, tmsf_coil_set_didt_max(mix, 1.5e8));
    CHECK_OK(ctx, tmsf_coil_get_stimulator(mix, 1, &nm, &br, &dm0));
    CHECK(strcmp(nm, "Rapid") == 0 && strcmp(br, "Magstim") == 0 && dm0 == 1.147e8,
          "stimulator 1: %s %s %g", nm, br, dm0);
    CHECK_OK(ctx, tmsf_coil_get_didt_max(mix, &dm0));
    CHECK(dm0 == 1.5e8, "stimulator 0 dI/dt max %g", dm0);
    CHECK(tmsf_coil_set_stimulator(mix, 0, NULL, NULL, -1.0) == TMSF_ERR_ARGUMENT, "negative dI/dt max");
    CHECK(tmsf_coil_get_stimulator(mix, 2, NULL, NULL, NULL) == TMSF_ERR_ARGUMENT, "stimulator 2 absent");
  }
  /* superposition: mixed(d0, d1) = d0 * dipoles + d1 * segments */
  {
    double fm[3 * NP], fd[3 * NP], fs[3 * NP], want[3 * NP];
    const double didt[2] = {7e7, -3e7};
    CHECK_OK(ctx, tmsf_coil_primary_field_stimulators(mix, P, didt, NP, pts, fm, NULL));
    CHECK_OK(ctx, tmsf_coil_primary_field(dip, P, didt[0], NP, pts, fd, NULL));
    CHECK_OK(ctx, tmsf_coil_primary_field(seg, P, didt[1], NP, pts, fs, NULL));
    for (int i = 0; i < 3 * NP; i++) want[i] = fd[i] + fs[i];
    double e = relerr(3 * NP, fm, want);
    CHECK(e < 1e-14, "per-stimulator field is the sum of its elements: %.3g", e);
    /* the same dI/dt for all */
    CHECK_OK(ctx, tmsf_coil_primary_field(mix, P, 2e7, NP, pts, fm, NULL));
    CHECK_OK(ctx, tmsf_coil_primary_field(dip, P, 2e7, NP, pts, fd, NULL));
    CHECK_OK(ctx, tmsf_coil_primary_field(seg, P, 2e7, NP, pts, fs, NULL));
    for (int i = 0; i < 3 * NP; i++) want[i] = fd[i] + fs[i];
    e = relerr(3 * NP, fm, want);
    CHECK(e < 1e-14, "one dI/dt for every stimulator: %.3g", e);
    const double bad[2] = {1.0, NAN};
    CHECK(tmsf_coil_primary_field_stimulators(mix, P, bad, NP, pts, fm, NULL) == TMSF_ERR_ARGUMENT,
          "non-finite dI/dt of stimulator 1");
  }
  /* a grid element: A = (x, 2y, -z) T m / A is linear, so trilinear interpolation is exact;
   * points outside it are counted once */
  {
    int64_t dims[3] = {5, 4, 3};
    double *A = malloc(3 * 60 * sizeof(double));
    const double M[16] = {0.01, 0, 0, -0.02, 0, 0.01, 0, -0.015, 0, 0, 0.01, 0.0, 0, 0, 0, 1};
    for (int k = 0; k < 3; k++)
      for (int j = 0; j < 4; j++)
        for (int i = 0; i < 5; i++) {
          int q = (k * 4 + j) * 5 + i;
          A[q] = M[3] + 0.01 * i;
          A[60 + q] = 2.0 * (M[7] + 0.01 * j);
          A[120 + q] = -(0.01 * k);
        }
    REQUIRE_OK(ctx, tmsf_coil_add_grid(mix, 2, "table", dims, A, M));
    free(A);
    int64_t dims2[3];
    double o[3], h[3];
    const float *g;
    CHECK_OK(ctx, tmsf_coil_get_grid(mix, 2, dims2, o, h, &g));
    CHECK(dims2[0] == 5 && o[1] == -0.015 && h[2] == 0.01 && g[1] == (float)(-0.01), "grid accessors");
    CHECK(tmsf_coil_get_element_data(mix, 2, NULL, NULL) == TMSF_ERR_STATE, "element data of a grid");
    const double q[6] = {0.005, 0.0, 0.012, 0.5, 0.5, 0.5}; /* inside, outside */
    const double didt[3] = {0.0, 0.0, 2.0};
    double out[6];
    int64_t nout = -1;
    CHECK_OK(ctx, tmsf_coil_primary_field_stimulators(mix, I, didt, 2, q, out, &nout));
    CHECK(nout == 1, "one point outside the grid, got %lld", (long long)nout);
    CHECK(fabs(out[0] - 2 * 0.005) < 1e-8 && fabs(out[1] - 0.0) < 1e-8 && fabs(out[2] + 2 * 0.012) < 1e-8,
          "grid element alone: %g %g %g", out[0], out[1], out[2]);
    CHECK(out[3] == 0 && out[4] == 0 && out[5] == 0, "zero outside");
  }
  tmsf_coil_destroy(&mix);
  tmsf_coil_destroy(&seg);
  tmsf_coil_destroy(&dip);
  tmsf_context_destroy(&ctx);
  return test_summary("coil-elements");
}

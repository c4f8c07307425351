/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-search.c: the coil-pose search space (search.h) on geometry with known
 * answers: the SimNIBS sphere (scalp r = 95 mm, positions on the sphere,
 * radial normals, counts, continuity of the parameterisation), a 100 mm
 * box (flat top: exact normals and signed distances, a casing point whose
 * collisions are predicted pose by pose), casings read from STL (the two
 * shipped Drakaki casings and a binary/ASCII pair written here), errors;
 * and, when the meshed Colin27 head is in the cache, M1 with the D70
 * casing (timing printed).
 */
#include <glob.h>
#include <time.h>
#include <unistd.h>

#include "test-common.h"
#include "test-mesh.h"

#define R_SPHERE 0.095

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif
#define PI_ 3.14159265358979323846

static double nrm(const double *v) { return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }
static double dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double urand(void) { /* xorshift64*, uniform in [0, 1) */
  rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

/* Largest depth of the faceted scalp below the sphere: a triangle inscribed
 * in the sphere lies at most R - sqrt(R^2 - L^2 / 3) inside it (L its
 * longest edge; the circumradius of an acute triangle is at most L / sqrt 3,
 * an obtuse one is deepest at its longest edge's midpoint, L / 2). */
static double sphere_sagitta(tmsf_context *ctx, const tmsf_mesh *mesh) {
  tmsf_surface *s = NULL;
  REQUIRE_OK(ctx, tmsf_surface_create(mesh, TMSF_SURFACE_SCALP, &s));
  int64_t nv, nt;
  const double *x;
  const int32_t *t;
  tmsf_surface_get_sizes(s, &nv, &nt);
  tmsf_surface_get_vertices(s, &x);
  tmsf_surface_get_triangles(s, &t);
  double L = 0;
  for (int64_t f = 0; f < nt; f++)
    for (int j = 0; j < 3; j++) {
      const double *a = x + 3 * (int64_t)t[3 * f + j], *b = x + 3 * (int64_t)t[3 * f + (j + 1) % 3];
      double d[3] = {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
      L = fmax(L, nrm(d));
    }
  tmsf_surface_destroy(&s);
  return R_SPHERE - sqrt(R_SPHERE * R_SPHERE - L * L / 3.0);
}

static int64_t lattice_count(double r, double h) {
  int64_t n = 0, half = (int64_t)floor(r / h + 1e-9);
  for (int64_t j = -half; j <= half; j++)
    for (int64_t i = -half; i <= half; i++) n += (double)(i * i + j * j) * h * h <= r * r * (1 + 1e-12);
  return n;
}

/* ------------------------------------------------------------------------- */

static void test_params(tmsf_context *ctx, const tmsf_mesh *sphere) {
  tmsf_search_params p;
  CHECK_OK(ctx, tmsf_search_params_default(&p));
  CHECK(p.radius_m == 0.020 && p.spacing_m == 0.002 && p.angle_min_deg == 0 && p.angle_max_deg == 360 &&
            p.angle_step_deg == 5 && p.distance_m == 0.004 && p.normal_smoothing_m == 0.010 &&
            p.reference_direction[1] == 1 && p.margin_m == 0 && p.casing_spacing_m == 0.005,
        "defaults");
  const double target[3] = {0, 0, 0.07};
  struct {
    const char *field;
    void (*set)(tmsf_search_params *);
  } bad[] = {
      {"radius_m", NULL}, {"spacing_m", NULL}, {"angle_step_deg", NULL}, {"angle range", NULL},
      {"distance_m", NULL}, {"normal_smoothing_m", NULL}, {"reference_direction", NULL}, {"margin_m", NULL},
      {"casing_spacing_m", NULL}, {"radius_m / spacing_m", NULL},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    tmsf_search_params_default(&p);
    switch (i) {
    case 0: p.radius_m = -0.01; break;
    case 1: p.spacing_m = 0; break;
    case 2: p.angle_step_deg = NAN; break;
    case 3: p.angle_max_deg = -10; break;
    case 4: p.distance_m = -0.001; break;
    case 5: p.normal_smoothing_m = 0; break;
    case 6: p.reference_direction[1] = 0; break;
    case 7: p.margin_m = -1e-3; break;
    case 8: p.casing_spacing_m = 0; break;
    case 9: p.radius_m = 0.2, p.spacing_m = 1e-5; break;
    }
    tmsf_search *s = NULL;
    int ierr = tmsf_search_create(sphere, target, &p, NULL, NULL, &s);
    CHECK(ierr == TMSF_ERR_ARGUMENT && !s && strstr(tmsf_context_last_error(ctx), bad[i].field),
          "bad %s: %d, message '%s'", bad[i].field, ierr, tmsf_context_last_error(ctx));
  }
}

/* Positions on the sphere, radial normals, counts, pose conventions. */
static void test_sphere_grid(tmsf_context *ctx, const tmsf_mesh *sphere, double sag) {
  const double target[3] = {0, 0, 0.07};
  tmsf_search *s = NULL;
  double t0 = now();
  REQUIRE_OK(ctx, tmsf_search_create(sphere, target, NULL, NULL, NULL, &s));
  printf("sphere, defaults, coil origin only: %.3f s\n", now() - t0);
  tmsf_search_params p;
  tmsf_search_get_params(s, &p);
  double P0[3], n0[3], eu[3], ev[3];
  tmsf_search_get_projection(s, P0, n0, eu, ev);
  /* the target lies on the z axis, 25 mm deep: its nearest point of the
   * faceted sphere lies on the facet above it, within a facet (edge <= 8 mm)
   * of the axis and between R - sagitta and R from the centre */
  CHECK(hypot(P0[0], P0[1]) < 0.008 && nrm(P0) <= R_SPHERE + 1e-9 && nrm(P0) >= R_SPHERE - sag, "P0 (%g %g %g)", P0[0],
        P0[1], P0[2]);
  CHECK(n0[2] > 0.999, "n0 (%g %g %g)", n0[0], n0[1], n0[2]);
  /* tangent basis: e_v = +y made tangent, e_u = e_v x n0 (= +x here) */
  CHECK(fabs(dot(eu, ev)) < 1e-12 && fabs(dot(eu, n0)) < 1e-12 && fabs(dot(ev, n0)) < 1e-12, "basis orthogonal");
  CHECK(eu[0] > 0.999 && ev[1] > 0.999, "basis eu (%g %g %g) ev (%g %g %g)", eu[0], eu[1], eu[2],
        ev[0], ev[1], ev[2]);

  int64_t npos, nang, nposes, dc, dn, ntp;
  tmsf_search_get_num_positions(s, &npos);
  tmsf_search_get_num_angles(s, &nang);
  tmsf_search_get_num_poses(s, &nposes);
  tmsf_search_get_num_dropped(s, &dc, &dn);
  tmsf_search_get_num_test_points(s, &ntp);
  /* lattice points within the radius: exactly the count of (i, j) with
   * (i^2 + j^2) h^2 <= r^2 (317 for r = 20 mm, h = 2 mm), and pi r^2 / h^2
   * = 314.16 within the lattice-count error (Gauss circle problem: a few %) */
  CHECK(npos == lattice_count(0.020, 0.002), "positions %lld vs %lld", (long long)npos,
        (long long)lattice_count(0.020, 0.002));
  CHECK(fabs((double)npos - PI_ * 100.0) < 0.03 * PI_ * 100.0, "positions %lld vs pi r^2/h^2 = %.1f", (long long)npos,
        PI_ * 100);
  CHECK(nang == 72, "angles %lld", (long long)nang);
  CHECK(ntp == 1 && dc == 0 && dn == 0 && nposes == npos * nang, "all valid: %lld poses, %lld + %lld dropped",
        (long long)nposes, (long long)dc, (long long)dn);
  const double *ang;
  tmsf_search_get_angles(s, &ang);
  CHECK(ang[0] == 0 && ang[71] == 355 && ang[1] == 5, "angles %g %g %g", ang[0], ang[1], ang[71]);

  const double *uv, *sp, *sn;
  tmsf_search_get_positions(s, &uv, &sp, &sn);
  double worst_r = 0, worst_ang = 0, worst_uv = 0;
  for (int64_t i = 0; i < npos; i++) {
    const double *x = sp + 3 * i, *n = sn + 3 * i;
    double r = nrm(x);
    /* on the faceted sphere: between R - sagitta and R */
    worst_r = fmax(worst_r, r > R_SPHERE ? (r - R_SPHERE) / 1e-9 : (R_SPHERE - r) / sag);
    /* radial normal */
    double c = dot(x, n) / r;
    worst_ang = fmax(worst_ang, acos(fmin(1.0, c)) * 180 / PI_);
    /* the scalp point lies on the line through P0 + u e_u + v e_v along n0 */
    double d[3] = {x[0] - P0[0], x[1] - P0[1], x[2] - P0[2]};
    worst_uv = fmax(worst_uv, fmax(fabs(dot(d, eu) - uv[2 * i]), fabs(dot(d, ev) - uv[2 * i + 1])));
  }
  CHECK(worst_r <= 1.0, "scalp points off the faceted sphere (worst ratio %g)", worst_r);
  CHECK(worst_uv < 1e-12, "scalp points off their lines by %g m", worst_uv);
  /* Tolerance for the smoothed normals: a sphere's normals averaged over a
   * cap centred at the point are exactly radial; the facets (edges <= %.1f
   * mm here, normals up to L/(2R) ~ 2 deg off radial) break the symmetry,
   * but only through the few triangles at the taper's edge and the facet of
   * the point itself: measured 0.2 deg; 0.5 deg allows a differently
   * ordered sum and is still far below the 2 deg of a single facet. */
  printf("sphere: worst normal deviation from radial %.4f deg, |s| within [R - %.4f mm, R]\n", worst_ang, sag * 1e3);
  CHECK(worst_ang < 0.5, "smoothed normal %.3f deg off radial", worst_ang);

  const double *poses, *uva;
  const int64_t *pp, *pa;
  tmsf_search_get_poses(s, &poses, &uva, &pp, &pa);
  int bad_check = 0, bad_eq = 0;
  double worst_c = 0;
  for (int64_t k = 0; k < nposes; k++) {
    const double *P = poses + 16 * k;
    if (tmsf_pose_check(ctx, P)) bad_check++;
    int64_t i = pp[k];
    double c[3] = {P[3], P[7], P[11]};
    /* z = -n, centre = s + d n */
    for (int q = 0; q < 3; q++) {
      worst_c = fmax(worst_c, fabs(P[4 * q + 2] + sn[3 * i + q]));
      worst_c = fmax(worst_c, fabs(c[q] - sp[3 * i + q] - p.distance_m * sn[3 * i + q]));
    }
    if (uva[3 * k] != uv[2 * i] || uva[3 * k + 1] != uv[2 * i + 1] || uva[3 * k + 2] != ang[pa[k]]) bad_eq++;
    /* pose_at at the grid's own (u, v, angle): the same matrix, bit for bit */
    double Q[16];
    if (tmsf_search_pose_at(s, uva[3 * k], uva[3 * k + 1], uva[3 * k + 2], Q) || memcmp(P, Q, sizeof(Q)) != 0) bad_eq++;
  }
  CHECK(bad_check == 0, "%d poses fail tmsf_pose_check", bad_check);
  CHECK(worst_c < 1e-15, "pose axes / centre off by %g", worst_c);
  CHECK(bad_eq == 0, "%d poses differ from pose_at or their (u, v, angle)", bad_eq);

  /* conventions at (u, v) = (0, 0), where the scalp point is P0 and the
   * normal n0: angle 0 -> y = e_v (~ +y: the handle, -y, posterior), x = y
   * cross z = -e_u (~ -x); angle 90 -> y = n0 x e_v = -e_u (counter-
   * clockwise seen from outside); z = -n0; centre P0 + 4 mm n0 */
  double P[16], worst_conv = 0;
  CHECK_OK(ctx, tmsf_search_pose_at(s, 0, 0, 0, P));
  for (int q = 0; q < 3; q++) {
    worst_conv = fmax(worst_conv, fabs(P[4 * q + 1] - ev[q]) + fabs(P[4 * q] + eu[q]) + fabs(P[4 * q + 2] + n0[q]));
    worst_conv = fmax(worst_conv, fabs(P[4 * q + 3] - P0[q] - 0.004 * n0[q]));
  }
  CHECK_OK(ctx, tmsf_search_pose_at(s, 0, 0, 90, P));
  for (int q = 0; q < 3; q++) worst_conv = fmax(worst_conv, fabs(P[4 * q + 1] + eu[q]) + fabs(P[4 * q] + ev[q]));
  CHECK(worst_conv < 1e-12, "pose conventions at the projection off by %g", worst_conv);
  CHECK_OK(ctx, tmsf_search_pose_at(s, 0, 0, 90, P));
  CHECK(P[1] < -0.999 && P[4] < -0.999, "angle 90: y (%g %g %g), x (%g %g %g)", P[1], P[5], P[9], P[0], P[4], P[8]);
  /* centres at distance d outside the faceted sphere: |c| - (R + d) within
   * the sagitta (the normal is radial to 0.5 deg, so the tilt costs
   * d (1 - cos) < 1e-6 mm) */
  double worst_h = 0;
  for (int64_t k = 0; k < nposes; k += 7) {
    const double *Q = poses + 16 * k;
    double h = nrm((double[3]){Q[3], Q[7], Q[11]}) - (R_SPHERE + p.distance_m);
    worst_h = fmax(worst_h, h > 0 ? h / 1e-9 : -h / (sag + 1e-9));
  }
  CHECK(worst_h <= 1.0, "coil centres off R + d (ratio %g)", worst_h);

  /* pose_at errors */
  int ierr = tmsf_search_pose_at(s, 0.031, 0, 0, P);
  CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "beyond"), "pose_at beyond: %d %s", ierr,
        tmsf_context_last_error(ctx));
  ierr = tmsf_search_pose_at(s, NAN, 0, 0, P);
  CHECK(ierr == TMSF_ERR_ARGUMENT, "pose_at NaN: %d", ierr);
  CHECK_OK(ctx, tmsf_search_pose_at(s, 0.0299, 0, 0, P)); /* within the extension */

  /* continuity: sweep u along v = 3.1 mm at 5 um steps across many facet
   * edges.  The centre moves by about the step (1/cos of the slope, <= 1.04
   * at 25 mm on R = 95 mm, plus d 1/R = 0.04 for the normal's turn); its second
   * difference stays below step x (facet angle ~0.07 rad) at the kinks —
   * a jump of 1 um would show as 0.2 step.  The rotation turns at about
   * 1/R = 10.5 rad/m: 30 /m allows the facets' share. */
  const int nstep = 10000;
  double h = 5e-6, prev[16], prev2c[3] = {0, 0, 0}, max_dc = 0, max_d2c = 0, max_dR = 0;
  for (int i = 0; i <= nstep; i++) {
    double u = -0.025 + h * i;
    REQUIRE_OK(ctx, tmsf_search_pose_at(s, u, 0.0031, 30, P));
    if (i > 0) {
      double dc3[3] = {P[3] - prev[3], P[7] - prev[7], P[11] - prev[11]};
      max_dc = fmax(max_dc, nrm(dc3) / h);
      if (i > 1) {
        double d2[3] = {dc3[0] - prev2c[0], dc3[1] - prev2c[1], dc3[2] - prev2c[2]};
        max_d2c = fmax(max_d2c, nrm(d2) / h);
      }
      memcpy(prev2c, dc3, sizeof(dc3));
      double dR = 0;
      for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) dR += (P[4 * r + c] - prev[4 * r + c]) * (P[4 * r + c] - prev[4 * r + c]);
      max_dR = fmax(max_dR, sqrt(dR) / h);
    }
    memcpy(prev, P, sizeof(P));
  }
  printf("sweep: |dc|/du <= %.4f, |d2c|/du <= %.4f, |dR|/du <= %.3f /m\n", max_dc, max_d2c, max_dR);
  CHECK(max_dc < 1.15, "centre speed %g", max_dc);
  CHECK(max_d2c < 0.2, "centre jumps: second difference %g x step", max_d2c);
  CHECK(max_dR < 30, "rotation speed %g /m", max_dR);
  /* the angle: centre fixed, rotation changes by sqrt(2) dtheta */
  double A[16], B[16];
  double worst_a = 0, worst_rand = 0;
  for (int k = 0; k < 200; k++) {
    double u = (urand() * 2 - 1) * 0.014, v = (urand() * 2 - 1) * 0.014, th = urand() * 360;
    double dth = 1e-4; /* degrees */
    REQUIRE_OK(ctx, tmsf_search_pose_at(s, u, v, th, A));
    REQUIRE_OK(ctx, tmsf_search_pose_at(s, u, v, th + dth, B));
    double dR = 0;
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 3; c++) dR += (A[4 * r + c] - B[4 * r + c]) * (A[4 * r + c] - B[4 * r + c]);
    worst_a = fmax(worst_a, fabs(sqrt(dR) / (dth * PI_ / 180) - sqrt(2.0)));
    CHECK(A[3] == B[3] && A[7] == B[7] && A[11] == B[11], "angle moved the centre");
    /* a small random step in (u, v): the centre moves by about the step,
     * the axes by about step / R (as in the sweep above) */
    double du = (urand() * 2 - 1) * 1e-6, dv = (urand() * 2 - 1) * 1e-6, step = hypot(du, dv);
    REQUIRE_OK(ctx, tmsf_search_pose_at(s, u + du, v + dv, th, B));
    double dRm = 0, dc3[3] = {A[3] - B[3], A[7] - B[7], A[11] - B[11]};
    for (int q = 0; q < 12; q++)
      if (q % 4 != 3) dRm = fmax(dRm, fabs(A[q] - B[q]));
    worst_rand = fmax(worst_rand, fmax(nrm(dc3) / step / 1.15, dRm / step / 30));
  }
  CHECK(worst_a < 1e-3, "d rotation / d angle off sqrt(2) by %g", worst_a);
  CHECK(worst_rand < 1.0, "random steps: change / step above the bounds by %g", worst_rand);
  tmsf_search_destroy(&s);
  CHECK(s == NULL, "destroy clears");
  tmsf_search_destroy(NULL);
}

/* Signed distance from the faceted sphere: between r - R and r - R + sagitta. */
static void test_sphere_sdf(tmsf_context *ctx, const tmsf_mesh *sphere, double sag) {
  tmsf_search *s = NULL;
  REQUIRE_OK(ctx, tmsf_search_create(sphere, (double[3]){0.01, -0.02, 0.05}, NULL, NULL, NULL, &s));
  const double offs[] = {-0.02, -0.005, -0.001, -0.0003, 0.0003, 0.001, 0.005, 0.05};
  int bad = 0;
  for (int k = 0; k < 400; k++) {
    double w[3] = {urand() * 2 - 1, urand() * 2 - 1, urand() * 2 - 1}, l = nrm(w);
    double off = offs[k % 8], x[3], d;
    for (int q = 0; q < 3; q++) x[q] = w[q] / l * (R_SPHERE + off);
    CHECK_OK(ctx, tmsf_search_signed_distance(s, 1, x, &d));
    if (!(d >= off - 1e-12 && d <= off + sag + 1e-12)) {
      if (bad++ < 5) fprintf(stderr, "point at R %+g: signed distance %g\n", off, d);
    }
  }
  CHECK(bad == 0, "%d sphere distances outside [r - R, r - R + sagitta]", bad);
  tmsf_search_destroy(&s);
}

/* ------------------------------------------------------------------------- */
/* The box: flat top, exact answers                                          */
/* ------------------------------------------------------------------------- */

/* Signed distance from the box [0, 0.1]^3. */
static double box_sdf(const double p[3]) {
  double out = 0, in = INFINITY;
  for (int k = 0; k < 3; k++) {
    double lo = -p[k], hi = p[k] - 0.1, e = fmax(lo, hi);
    if (e > 0) out += e * e;
    in = fmin(in, fmin(p[k], 0.1 - p[k]));
  }
  return out > 0 ? sqrt(out) : in > 0 ? -in : 0.0;
}

static void test_box(tmsf_context *ctx) {
  tmsf_mesh *box = NULL;
  REQUIRE_OK(ctx, test_box_mesh(ctx, 10, 0.01, 5, &box));
  const double target[3] = {0.05, 0.05, 0.08};
  /* signed distances on faces, edges and corners (pseudo-normals) */
  tmsf_search *s = NULL;
  REQUIRE_OK(ctx, tmsf_search_create(box, target, NULL, NULL, NULL, &s));
  const double pts[][3] = {{0.05, 0.05, 0.103},  {0.05, 0.05, 0.097},  {-0.001, -0.001, 0.05}, {0.101, 0.101, 0.101},
                           {0.001, 0.002, 0.003}, {0.05, 0.05, 0.05},   {0.0437, 0.0123, 0.1},  {0.11, 0.05, 0.1},
                           {0.1, 0.1, 0.13},      {-0.02, 0.05, 0.05},  {0.099, 0.0999, 0.0995}, {0.0123, 0.1004, 0.0456}};
  for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
    double d;
    CHECK_OK(ctx, tmsf_search_signed_distance(s, 1, pts[i], &d));
    CHECK(fabs(d - box_sdf(pts[i])) < 1e-12, "box point %zu: %.15g vs %.15g", i, d, box_sdf(pts[i]));
  }
  double P0[3], n0[3];
  tmsf_search_get_projection(s, P0, n0, NULL, NULL);
  CHECK(fabs(P0[0] - 0.05) < 1e-15 && fabs(P0[1] - 0.05) < 1e-15 && fabs(P0[2] - 0.1) < 1e-15 && n0[2] == 1.0,
        "box projection (%g %g %g), normal z %g", P0[0], P0[1], P0[2], n0[2]);
  /* the flat top: every normal exactly +z, every centre 4 mm above it */
  const double *sn, *poses;
  int64_t npos, nposes;
  tmsf_search_get_num_positions(s, &npos);
  tmsf_search_get_num_poses(s, &nposes);
  tmsf_search_get_positions(s, NULL, NULL, &sn);
  tmsf_search_get_poses(s, &poses, NULL, NULL, NULL);
  int off = 0;
  for (int64_t i = 0; i < npos; i++) off += !(sn[3 * i] == 0 && sn[3 * i + 1] == 0 && sn[3 * i + 2] == 1);
  for (int64_t k = 0; k < nposes; k++) off += fabs(poses[16 * k + 11] - 0.104) > 1e-15;
  CHECK(off == 0 && nposes == npos * 72, "box: %d normals or centres off; %lld poses", off, (long long)nposes);
  tmsf_search_destroy(&s);

  /* A casing point 61 mm out along the coil's x axis and 9 mm deep (5 mm
   * below the top face, since the centre is 4 mm above it): it is inside the
   * box, so the pose collides, exactly when it lies over the box's
   * footprint; predicted here for every pose from the pose matrix and the
   * box, independently of the library's distance machinery. */
  const double cv[9] = {0.061, 0, 0.009, 0.0611, 0, 0.009, 0.061, 0.0001, 0.009};
  const int32_t ct[3] = {0, 1, 2};
  tmsf_casing *casing = NULL;
  REQUIRE_OK(ctx, tmsf_casing_create(ctx, 3, cv, 1, ct, &casing));
  REQUIRE_OK(ctx, tmsf_search_create(box, target, NULL, casing, NULL, &s));
  int64_t nang, dc, dn, ntp;
  tmsf_search_get_num_positions(s, &npos);
  tmsf_search_get_num_angles(s, &nang);
  tmsf_search_get_num_poses(s, &nposes);
  tmsf_search_get_num_dropped(s, &dc, &dn);
  tmsf_search_get_num_test_points(s, &ntp);
  CHECK(ntp == 4, "test points: 3 vertices + centroid, got %lld", (long long)ntp);
  const double *uv, *ang, *uva;
  const int64_t *pp, *pa;
  tmsf_search_get_positions(s, &uv, NULL, NULL);
  tmsf_search_get_angles(s, &ang);
  tmsf_search_get_poses(s, &poses, &uva, &pp, &pa);
  const double tp[4][3] = {{0.061, 0, 0.009}, {0.0611, 0, 0.009}, {0.061, 0.0001, 0.009}, {(0.061 * 2 + 0.0611) / 3, 0.0001 / 3, 0.009}};
  int64_t expect_coll = 0, k = 0, mismatch = 0;
  double closest_tie = INFINITY;
  for (int64_t i = 0; i < npos; i++)
    for (int64_t a = 0; a < nang; a++) {
      double P[16];
      REQUIRE_OK(ctx, tmsf_search_pose_at(s, uv[2 * i], uv[2 * i + 1], ang[a], P));
      int coll = 0;
      for (int q = 0; q < 4; q++) {
        double x[3];
        for (int r = 0; r < 3; r++) x[r] = P[4 * r] * tp[q][0] + P[4 * r + 1] * tp[q][1] + P[4 * r + 2] * tp[q][2] + P[4 * r + 3];
        double d = box_sdf(x);
        closest_tie = fmin(closest_tie, fabs(d));
        coll |= d < 0;
      }
      expect_coll += coll;
      int got_valid = k < nposes && pp[k] == i && pa[k] == a;
      if (got_valid) k++;
      mismatch += got_valid == coll;
    }
  printf("box casing: %lld of %lld poses collide (predicted %lld); closest test point to a face %.3g mm\n",
         (long long)dc, (long long)(npos * nang), (long long)expect_coll, closest_tie * 1e3);
  CHECK(closest_tie > 1e-7, "a test point within %g m of a face: prediction ambiguous", closest_tie);
  CHECK(expect_coll > 100 && expect_coll < npos * nang - 100, "the construction should split the poses: %lld",
        (long long)expect_coll);
  CHECK(mismatch == 0 && dc == expect_coll && dn == 0 && nposes == npos * nang - expect_coll,
        "%lld poses classified differently, %lld dropped vs %lld predicted", (long long)mismatch, (long long)dc,
        (long long)expect_coll);
  /* clearance: exact (the smallest box distance of the test points) */
  int bad_clear = 0;
  for (int64_t j = 0; j < nposes; j += 97) {
    const double *P = poses + 16 * j;
    double want = INFINITY, got;
    int valid;
    for (int q = 0; q < 4; q++) {
      double x[3];
      for (int r = 0; r < 3; r++) x[r] = P[4 * r] * tp[q][0] + P[4 * r + 1] * tp[q][1] + P[4 * r + 2] * tp[q][2] + P[4 * r + 3];
      want = fmin(want, box_sdf(x));
    }
    CHECK_OK(ctx, tmsf_search_pose_clearance(s, P, &got, &valid));
    int valid2 = -1;
    CHECK_OK(ctx, tmsf_search_pose_clearance(s, P, NULL, &valid2));
    if (valid2 != valid) bad_clear++;
    /* exact below margin + 2 mm, else a lower bound */
    if (!valid || (want < 0.002 ? fabs(got - want) > 1e-12 : !(got <= want + 1e-12))) bad_clear++;
  }
  CHECK(bad_clear == 0, "%d clearances wrong", bad_clear);
  {
    double P[16], got;
    int valid;
    REQUIRE_OK(ctx, tmsf_search_pose_at(s, 0.012, 0, 0, P)); /* the point at x = 62 - 61 + ... inside */
    double want = INFINITY;
    for (int q = 0; q < 4; q++) {
      double x[3];
      for (int r = 0; r < 3; r++) x[r] = P[4 * r] * tp[q][0] + P[4 * r + 1] * tp[q][1] + P[4 * r + 2] * tp[q][2] + P[4 * r + 3];
      want = fmin(want, box_sdf(x));
    }
    CHECK_OK(ctx, tmsf_search_pose_clearance(s, P, &got, &valid));
    CHECK(want < 0 && !valid && fabs(got - want) < 1e-12, "colliding clearance %g vs %g", got, want);
  }
  tmsf_search_destroy(&s);

  /* a casing 10 mm out and 3 mm deep: over the top face at every pose (the
   * positions are within 20 mm of its centre), 1 mm above it */
  const double lifted[9] = {0.010, 0, 0.003, 0.0101, 0, 0.003, 0.010, 0.0001, 0.003};
  tmsf_casing *lc = NULL;
  REQUIRE_OK(ctx, tmsf_casing_create(ctx, 3, lifted, 1, ct, &lc));
  REQUIRE_OK(ctx, tmsf_search_create(box, target, NULL, lc, NULL, &s));
  tmsf_search_get_num_dropped(s, &dc, &dn);
  CHECK(dc == 0, "lifted casing: %lld dropped", (long long)dc);
  tmsf_search_destroy(&s);
  /* ... but not with a 1.5 mm margin: no valid pose */
  tmsf_search_params p;
  tmsf_search_params_default(&p);
  p.margin_m = 0.0015;
  int ierr = tmsf_search_create(box, target, &p, lc, NULL, &s);
  const char *msg = tmsf_context_last_error(ctx);
  CHECK(ierr == TMSF_ERR_NOT_FOUND && !s && strstr(msg, "no valid coil pose") && strstr(msg, "22824 candidates") &&
            strstr(msg, "1.5 mm"),
        "margin: %d '%s'", ierr, msg);
  tmsf_casing_destroy(&lc);
  tmsf_casing_destroy(&casing);
  tmsf_mesh_destroy(&box);
}

/* Random small casing triangles against the box, with the search reaching
 * the box's edge (smoothed normals tilt there): the grid's verdict on every
 * pose, and the clearance of some, against the box's analytic signed
 * distance of the test points (vertices and centroids: casing_spacing_m at
 * its largest adds no lattice points to these small triangles). */
static void test_box_random(tmsf_context *ctx, double margin, int ntri, double zlo, double zhi) {
  tmsf_mesh *box = NULL;
  REQUIRE_OK(ctx, test_box_mesh(ctx, 10, 0.01, 5, &box));
  double v[3 * 3 * 64];
  int32_t t[3 * 64];
  for (int i = 0; i < ntri; i++) {
    double c[3] = {(urand() * 2 - 1) * 0.06, (urand() * 2 - 1) * 0.06, zlo + urand() * (zhi - zlo)};
    for (int j = 0; j < 3; j++) {
      for (int k = 0; k < 3; k++) v[9 * i + 3 * j + k] = c[k] + (urand() * 2 - 1) * 0.001;
      t[3 * i + j] = 3 * i + j;
    }
  }
  double tp[4 * 64][3];
  int ntp = 0;
  for (int i = 0; i < 3 * ntri; i++, ntp++) memcpy(tp[ntp], v + 3 * i, sizeof(tp[0]));
  for (int i = 0; i < ntri; i++, ntp++)
    for (int k = 0; k < 3; k++) tp[ntp][k] = (v[9 * i + k] + v[9 * i + 3 + k] + v[9 * i + 6 + k]) / 3.0;
  tmsf_casing *c = NULL;
  REQUIRE_OK(ctx, tmsf_casing_create(ctx, 3 * ntri, v, ntri, t, &c));
  tmsf_search_params p;
  tmsf_search_params_default(&p);
  p.margin_m = margin;
  p.casing_spacing_m = 0.1;
  p.angle_step_deg = 10;
  tmsf_search *s = NULL;
  int ierr = tmsf_search_create(box, (double[3]){0.08, 0.05, 0.09}, &p, c, NULL, &s);
  CHECK(ierr == TMSF_SUCCESS, "random casing: %s", tmsf_context_last_error(ctx));
  if (ierr) {
    tmsf_casing_destroy(&c);
    tmsf_mesh_destroy(&box);
    return;
  }
  int64_t npos, nang, nposes, dc, dn, ntp_lib;
  const double *uv, *ang, *poses;
  const int64_t *pp, *pa;
  tmsf_search_get_num_positions(s, &npos);
  tmsf_search_get_num_angles(s, &nang);
  tmsf_search_get_num_poses(s, &nposes);
  tmsf_search_get_num_dropped(s, &dc, &dn);
  tmsf_search_get_num_test_points(s, &ntp_lib);
  tmsf_search_get_positions(s, &uv, NULL, NULL);
  tmsf_search_get_angles(s, &ang);
  tmsf_search_get_poses(s, &poses, NULL, &pp, &pa);
  CHECK(ntp_lib == ntp, "test points %lld vs %d", (long long)ntp_lib, ntp);
  int64_t k = 0, mismatch = 0, ambiguous = 0, expect_valid = 0, bad_clear = 0, checked = 0;
  for (int64_t i = 0; i < npos; i++)
    for (int64_t a = 0; a < nang; a++) {
      double P[16];
      if (tmsf_search_pose_at(s, uv[2 * i], uv[2 * i + 1], ang[a], P)) continue; /* no scalp point */
      double dmin = INFINITY;
      for (int q = 0; q < ntp; q++) {
        double x[3];
        for (int r = 0; r < 3; r++) x[r] = P[4 * r] * tp[q][0] + P[4 * r + 1] * tp[q][1] + P[4 * r + 2] * tp[q][2] + P[4 * r + 3];
        dmin = fmin(dmin, box_sdf(x));
      }
      int got_valid = k < nposes && pp[k] == i && pa[k] == a;
      if (got_valid) k++;
      if (fabs(dmin - margin) < 1e-8) {
        ambiguous++;
        continue;
      }
      int want = dmin >= margin;
      expect_valid += want;
      mismatch += want != got_valid;
      if ((i * nang + a) % 13 == 0) {
        double cl;
        int valid;
        CHECK_OK(ctx, tmsf_search_pose_clearance(s, P, &cl, &valid));
        int valid2 = -1;
        CHECK_OK(ctx, tmsf_search_pose_clearance(s, P, NULL, &valid2));
        if (valid2 != want) bad_clear++;
        checked++;
        if (valid != want || (dmin < margin + 0.002 ? fabs(cl - dmin) > 1e-9 : !(cl <= dmin + 1e-9))) {
          if (bad_clear++ < 3) fprintf(stderr, "clearance %.9g vs %.9g (valid %d, want %d)\n", cl, dmin, valid, want);
        }
      }
    }
  printf("box, %d random casing triangles, margin %g mm: %lld of %lld valid (predicted %lld, %lld ambiguous), "
         "%lld without a scalp point; %lld clearances checked\n",
         ntri, margin * 1e3, (long long)nposes, (long long)(npos * nang), (long long)expect_valid, (long long)ambiguous,
         (long long)dn, (long long)checked);
  CHECK(mismatch == 0, "%lld poses classified against the analytic box", (long long)mismatch);
  CHECK(bad_clear == 0, "%lld clearances off", (long long)bad_clear);
  CHECK(expect_valid > nposes / 10 && expect_valid < npos * nang - (npos * nang) / 10, "a mix of valid and dropped");
  tmsf_search_destroy(&s);
  tmsf_casing_destroy(&c);
  tmsf_mesh_destroy(&box);
}

/* ------------------------------------------------------------------------- */
/* Errors                                                                    */
/* ------------------------------------------------------------------------- */

static void test_errors(tmsf_context *ctx, const tmsf_mesh *sphere) {
  tmsf_search *s = NULL;
  /* outside the head: 5 mm above the scalp, and far away */
  const double out1[3] = {0, 0, 0.1}, out2[3] = {0.3, 0, 0};
  int ierr = tmsf_search_create(sphere, out1, NULL, NULL, NULL, &s);
  const char *msg = tmsf_context_last_error(ctx);
  CHECK(ierr == TMSF_ERR_ARGUMENT && !s && strstr(msg, "outside the head") && strstr(msg, "(0.00, 0.00, 100.00) mm"),
        "outside: %d '%s'", ierr, msg);
  ierr = tmsf_search_create(sphere, out2, NULL, NULL, NULL, &s);
  CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "outside the head"), "far outside: %d '%s'",
        ierr, tmsf_context_last_error(ctx));
  /* the centre of the head is a (deep) target */
  CHECK_OK(ctx, tmsf_search_create(sphere, (double[3]){0, 0, 0.001}, NULL, NULL, NULL, &s));
  tmsf_search_destroy(&s);
  ierr = tmsf_search_create(sphere, (double[3]){NAN, 0, 0}, NULL, NULL, NULL, &s);
  CHECK(ierr == TMSF_ERR_ARGUMENT, "NaN target: %d", ierr);
  /* reference direction along the normal */
  tmsf_search_params p;
  tmsf_search_params_default(&p);
  p.reference_direction[0] = 0.02, p.reference_direction[1] = 0, p.reference_direction[2] = 2; /* ~1.5 deg from n0 */
  ierr = tmsf_search_create(sphere, (double[3]){0, 0, 0.07}, &p, NULL, NULL, &s);
  CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "parallel"), "ref: %d '%s'", ierr,
        tmsf_context_last_error(ctx));
  /* no valid pose: the coil bottom must stay 10 mm off the scalp at 4 mm */
  tmsf_search_params_default(&p);
  p.margin_m = 0.010;
  p.angle_step_deg = 90;
  ierr = tmsf_search_create(sphere, (double[3]){0, 0, 0.07}, &p, NULL, NULL, &s);
  msg = tmsf_context_last_error(ctx);
  CHECK(ierr == TMSF_ERR_NOT_FOUND && strstr(msg, "all 1268 candidates (317 positions x 4 angles)") &&
            strstr(msg, "1268 because the coil bottom came closer than the margin (10 mm)"),
        "no valid pose: %d '%s'", ierr, msg);
  /* casing arguments */
  tmsf_casing *c = NULL;
  const double v[9] = {0, 0, 0, 1e-3, 0, 0, 0, NAN, 0};
  const int32_t t[3] = {0, 1, 2}, tbad[3] = {0, 1, 3};
  ierr = tmsf_casing_create(ctx, 3, v, 1, t, &c);
  CHECK(ierr == TMSF_ERR_ARGUMENT && !c && strstr(tmsf_context_last_error(ctx), "vertex 2 coordinate y"), "NaN: '%s'",
        tmsf_context_last_error(ctx));
  const double vmm[9] = {0, 0, 0, 150, 0, 0, 0, 80, 0};
  ierr = tmsf_casing_create(ctx, 3, vmm, 1, t, &c);
  CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "1e-3"), "mm casing: '%s'",
        tmsf_context_last_error(ctx));
  ierr = tmsf_casing_create(ctx, 3, vmm, 1, tbad, &c);
  CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "triangle 0 vertex 3 is 3"), "index: '%s'",
        tmsf_context_last_error(ctx));
  ierr = tmsf_casing_create(ctx, 3, vmm, 0, t, &c);
  CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "at least one triangle"), "empty: '%s'",
        tmsf_context_last_error(ctx));
  tmsf_casing_destroy(NULL);
}

/* ------------------------------------------------------------------------- */
/* STL                                                                       */
/* ------------------------------------------------------------------------- */

static void bbox(const tmsf_casing *c, double lo[3], double hi[3]) {
  int64_t nv;
  const double *x;
  tmsf_casing_get_sizes(c, &nv, NULL);
  tmsf_casing_get_vertices(c, &x);
  for (int k = 0; k < 3; k++) lo[k] = INFINITY, hi[k] = -INFINITY;
  for (int64_t i = 0; i < nv; i++)
    for (int k = 0; k < 3; k++) lo[k] = fmin(lo[k], x[3 * i + k]), hi[k] = fmax(hi[k], x[3 * i + k]);
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, n, f) != n) {
    fprintf(stderr, "FATAL cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
}

static void put_f32(unsigned char *b, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  b[0] = (unsigned char)u, b[1] = (unsigned char)(u >> 8), b[2] = (unsigned char)(u >> 16), b[3] = (unsigned char)(u >> 24);
}

static void test_stl(tmsf_context *ctx) {
  /* the shipped casings: sizes (counted from the files: 252 and 4,974
   * triangles; 128 and 2,489 distinct vertices), mm -> m, and the frame of
   * the dipole models of the same name (every dipole within the casing's
   * box, 2.5 mm allowed: the MC-B70 model's dipole grid spans x +-86 mm and
   * y +-56 mm, its casing x +-85 mm and y up to +53.7 mm) */
  const char *names[2] = {"MagVenture_MC-B70", "MagStim_D70"};
  const int64_t ntri[2] = {252, 4974}, nver[2] = {128, 2489};
  const double lo_want[2][3] = {{-0.085, -0.15, -0.01637}, {-0.09961087799072266, -0.07899983215332031, -0.019}};
  for (int m = 0; m < 2; m++) {
    char path[512];
    snprintf(path, sizeof(path), "data/coils/drakaki2022/%s.stl", names[m]);
    tmsf_casing *c = NULL;
    REQUIRE_OK(ctx, tmsf_casing_read_stl(ctx, test_path(path), 1e-3, &c));
    int64_t nv, nt;
    tmsf_casing_get_sizes(c, &nv, &nt);
    CHECK(nt == ntri[m] && nv == nver[m], "%s: %lld triangles, %lld vertices", names[m], (long long)nt, (long long)nv);
    double lo[3], hi[3];
    bbox(c, lo, hi);
    for (int k = 0; k < 3; k++) CHECK(fabs(lo[k] - lo_want[m][k]) < 1e-7, "%s lo[%d] %.9g", names[m], k, lo[k]);
    /* same file found for the coil */
    snprintf(path, sizeof(path), "data/coils/drakaki2022/%s.ccd", names[m]);
    tmsf_casing *f = NULL;
    CHECK_OK(ctx, tmsf_casing_find_for_coil(ctx, test_path(path), &f));
    int64_t fv = -1;
    if (f) tmsf_casing_get_sizes(f, &fv, NULL);
    CHECK(f && fv == nv, "find_for_coil %s", names[m]);
    tmsf_casing_destroy(&f);
    tmsf_coil *coil = NULL;
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path(path), &coil));
    int64_t nd;
    const double *pos;
    tmsf_coil_get_num_dipoles(coil, &nd);
    tmsf_coil_get_dipoles(coil, &pos, NULL);
    double worst = 0;
    for (int64_t i = 0; i < nd; i++)
      for (int k = 0; k < 3; k++) worst = fmax(worst, fmax(lo[k] - pos[3 * i + k], pos[3 * i + k] - hi[k]));
    printf("%s: dipoles at most %.3f mm outside the casing's box\n", names[m], worst * 1e3);
    CHECK(worst < 0.0025, "%s: dipoles %g m outside the casing box", names[m], worst);
    tmsf_coil_destroy(&coil);
    tmsf_casing_destroy(&c);
  }
  /* a coil without a casing file: NULL, not an error */
  tmsf_casing *none = (tmsf_casing *)1;
  CHECK_OK(ctx, tmsf_casing_find_for_coil(ctx, test_path("data/coils/drakaki2022/Deymed_50BF.ccd"), &none));
  CHECK(none == NULL, "no casing for Deymed_50BF");

  /* a binary / ASCII pair written here: a tetrahedron, in mm */
  char dir[] = "/tmp/t-search.XXXXXX";
  if (!mkdtemp(dir)) {
    fprintf(stderr, "FATAL mkdtemp\n");
    exit(1);
  }
  const float V[4][3] = {{0, 0, 0}, {10, 0, 0}, {0, 20, 0}, {0, 0, -5.5f}};
  const int T[4][3] = {{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}};
  unsigned char bin[84 + 4 * 50];
  memset(bin, 0, sizeof(bin));
  memcpy(bin, "solid but binary", 16); /* a binary header may start with "solid" */
  bin[80] = 4;
  char ascii[4096];
  size_t len = (size_t)snprintf(ascii, sizeof(ascii), "solid tetra\n");
  for (int t = 0; t < 4; t++) {
    unsigned char *rec = bin + 84 + 50 * t;
    len += (size_t)snprintf(ascii + len, sizeof(ascii) - len, "  facet normal 0 0 0\n    outer loop\n");
    for (int j = 0; j < 3; j++) {
      for (int k = 0; k < 3; k++) put_f32(rec + 12 + 12 * j + 4 * k, V[T[t][j]][k]);
      len += (size_t)snprintf(ascii + len, sizeof(ascii) - len, "      vertex %g %g %g\n", (double)V[T[t][j]][0],
                              (double)V[T[t][j]][1], (double)V[T[t][j]][2]);
    }
    len += (size_t)snprintf(ascii + len, sizeof(ascii) - len, "    endloop\n  endfacet\n");
  }
  len += (size_t)snprintf(ascii + len, sizeof(ascii) - len, "endsolid tetra\n");
  char pb[600], pa[600], pc[600];
  snprintf(pb, sizeof(pb), "%s/coil.stl", dir);
  snprintf(pa, sizeof(pa), "%s/ascii.stl", dir);
  snprintf(pc, sizeof(pc), "%s/coil.nii.gz", dir);
  write_file(pb, bin, sizeof(bin));
  write_file(pa, ascii, len);
  tmsf_casing *cb = NULL, *ca = NULL;
  REQUIRE_OK(ctx, tmsf_casing_read_stl(ctx, pb, 1e-3, &cb));
  REQUIRE_OK(ctx, tmsf_casing_read_stl(ctx, pa, 1e-3, &ca));
  int64_t nvb, ntb, nva, nta;
  const double *xb, *xa;
  const int32_t *tb, *ta;
  tmsf_casing_get_sizes(cb, &nvb, &ntb);
  tmsf_casing_get_sizes(ca, &nva, &nta);
  tmsf_casing_get_vertices(cb, &xb);
  tmsf_casing_get_vertices(ca, &xa);
  tmsf_casing_get_triangles(cb, &tb);
  tmsf_casing_get_triangles(ca, &ta);
  CHECK(nvb == 4 && ntb == 4 && nva == 4 && nta == 4, "tetra: %lld/%lld and %lld/%lld", (long long)nvb, (long long)ntb,
        (long long)nva, (long long)nta);
  int same = nvb == nva && ntb == nta;
  for (int64_t i = 0; same && i < 3 * nvb; i++) same = xb[i] == xa[i];
  for (int64_t i = 0; same && i < 3 * ntb; i++) same = tb[i] == ta[i];
  CHECK(same, "binary and ASCII casings differ");
  /* the triangles refer to the right corners, in metres */
  int ok = 1;
  for (int t = 0; t < 4 && ntb == 4; t++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 3; k++) ok &= fabs(xb[3 * tb[3 * t + j] + k] - 1e-3 * V[T[t][j]][k]) < 1e-15;
  CHECK(ok, "tetra corners");
  /* found next to a coil.nii.gz */
  tmsf_casing *f = NULL;
  CHECK_OK(ctx, tmsf_casing_find_for_coil(ctx, pc, &f));
  CHECK(f != NULL, "find_for_coil .nii.gz");
  tmsf_casing_destroy(&f);
  tmsf_casing_destroy(&ca);
  tmsf_casing_destroy(&cb);

  /* bad files */
  struct {
    const char *content;
    size_t n;
    const char *want;
  } bad[] = {
      {"", 0, "too short"},
      {"solid x\nendsolid x\n", 19, "no facets"},
      {"solid x\n facet normal 0 0 1\n outer loop\n vertex 0 0 0\n vertex 1 0 nan\n", 0, "line 5: expected a finite number (vertex 2 z), found 'nan'"},
      {"solid x\n facet normal 0 0 1\n outer loop\n vertex 0 0 0\n vertex 1 0 0\n vertex 0 1 0\n endloop\n", 0,
       "expected 'endfacet', found end of file"},
      {"solid x\n facet normal 0 0 1\n outer loop\n vertex 0 0 0\n vertex 1 0 0\n vertex 0 1 0\n vertex 1 1 0\n", 0,
       "line 7: expected 'endloop', found 'vertex'"},
      {"solid x\n fact normal 0 0 1\n", 0, "line 2: expected 'facet' or 'endsolid', found 'fact'"},
      {"solid x\n facet normal 0 0 1\n outer loop\n vertex 0 0 0\n vertex 1 0 0\n vertex 0 1 0\n endloop\n endfacet\nendsolid\ngarbage\n", 0,
       "line 10: expected 'solid' or the end of the file, found 'garbage'"},
  };
  char pbad[600];
  snprintf(pbad, sizeof(pbad), "%s/bad.stl", dir);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    write_file(pbad, bad[i].content, bad[i].n ? bad[i].n : strlen(bad[i].content));
    tmsf_casing *c = NULL;
    int ierr = tmsf_casing_read_stl(ctx, pbad, 1e-3, &c);
    CHECK(ierr == TMSF_ERR_FORMAT && !c && strstr(tmsf_context_last_error(ctx), bad[i].want) &&
              strstr(tmsf_context_last_error(ctx), "bad.stl"),
          "bad STL %zu: %d '%s'", i, ierr, tmsf_context_last_error(ctx));
  }
  /* binary: truncated, count off, NaN coordinate, no triangles */
  unsigned char b2[sizeof(bin)];
  memcpy(b2, bin, sizeof(bin));
  memcpy(b2, "hdr", 3);
  write_file(pbad, b2, sizeof(b2) - 10);
  tmsf_casing *c = NULL;
  int ierr = tmsf_casing_read_stl(ctx, pbad, 1e-3, &c);
  CHECK(ierr == TMSF_ERR_FORMAT && strstr(tmsf_context_last_error(ctx), "count 4 at byte 80 needs 284 bytes, the file has 274"),
        "truncated: '%s'", tmsf_context_last_error(ctx));
  put_f32(b2 + 84 + 50 * 2 + 12 + 4 * 4, NAN);
  write_file(pbad, b2, sizeof(b2));
  ierr = tmsf_casing_read_stl(ctx, pbad, 1e-3, &c);
  CHECK(ierr == TMSF_ERR_FORMAT && strstr(tmsf_context_last_error(ctx), "triangle 3 (byte 212): vertex 2 coordinate y"),
        "NaN: '%s'", tmsf_context_last_error(ctx));
  memset(b2 + 80, 0, 4);
  write_file(pbad, b2, 84);
  ierr = tmsf_casing_read_stl(ctx, pbad, 1e-3, &c);
  CHECK(ierr == TMSF_ERR_FORMAT && strstr(tmsf_context_last_error(ctx), "no triangles"), "empty binary: '%s'",
        tmsf_context_last_error(ctx));
  ierr = tmsf_casing_read_stl(ctx, pb, 0, &c);
  CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "scale"), "scale 0: '%s'",
        tmsf_context_last_error(ctx));
  ierr = tmsf_casing_read_stl(ctx, pb, 1.0, &c); /* mm read as m: 20 m casing */
  CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "1e-3"), "unit: '%s'",
        tmsf_context_last_error(ctx));
  snprintf(pbad, sizeof(pbad), "%s/missing.stl", dir);
  ierr = tmsf_casing_read_stl(ctx, pbad, 1e-3, &c);
  CHECK(ierr == TMSF_ERR_IO && strstr(tmsf_context_last_error(ctx), "missing.stl"), "missing: '%s'",
        tmsf_context_last_error(ctx));
  char cmd[700];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* The shipped casings and a dipole coil on the sphere: at 4 mm nothing
 * collides (the MC-B70 wings come down to z = +17.6 mm at x = +-85 mm,
 * where a 95 mm sphere has fallen 52 mm away). */
static void test_sphere_casings(tmsf_context *ctx, const tmsf_mesh *sphere) {
  const double target[3] = {0.02, 0.01, 0.07};
  tmsf_casing *c = NULL;
  REQUIRE_OK(ctx, tmsf_casing_find_for_coil(ctx, test_path("data/coils/drakaki2022/MagVenture_MC-B70.ccd"), &c));
  tmsf_search *s = NULL;
  tmsf_search_params p;
  tmsf_search_params_default(&p);
  p.angle_step_deg = 30; /* 12 angles: enough for the sphere's symmetry, quick under sanitizers */
  double t0 = now();
  REQUIRE_OK(ctx, tmsf_search_create(sphere, target, &p, c, NULL, &s));
  int64_t np, dc, dn, ntp;
  tmsf_search_get_num_poses(s, &np);
  tmsf_search_get_num_dropped(s, &dc, &dn);
  tmsf_search_get_num_test_points(s, &ntp);
  printf("sphere + MC-B70 casing (%lld test points): %lld valid, %lld dropped, %.3f s\n", (long long)ntp, (long long)np,
         (long long)dc, now() - t0);
  CHECK(np == 317 * 12 && dc == 0 && dn == 0, "MC-B70 on the sphere: %lld valid, %lld + %lld dropped", (long long)np,
        (long long)dc, (long long)dn);
  /* lattice: the MC-B70's big faces get points every <= 5 mm */
  CHECK(ntp > 2000, "MC-B70 test points %lld", (long long)ntp);
  tmsf_search_destroy(&s);
  /* pushed 8 mm into the head (distance 4 mm - 12 mm lift of the casing by
   * moving the coil in: distance 0 and a 10 mm margin) every pose collides */
  p.distance_m = 0.0;
  p.margin_m = 0.010;
  p.angle_step_deg = 30;
  int ierr = tmsf_search_create(sphere, target, &p, c, NULL, &s);
  CHECK(ierr == TMSF_ERR_NOT_FOUND && strstr(tmsf_context_last_error(ctx), "coil casing or coil elements"),
        "MC-B70 with margin: %d '%s'", ierr, tmsf_context_last_error(ctx));
  tmsf_casing_destroy(&c);
  /* without a casing: the dipoles of the D70 model (z -18 .. -3 mm) */
  tmsf_coil *coil = NULL;
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/drakaki2022/MagStim_D70.ccd"), &coil));
  tmsf_search_params_default(&p);
  p.angle_step_deg = 30;
  REQUIRE_OK(ctx, tmsf_search_create(sphere, target, &p, NULL, coil, &s));
  tmsf_search_get_num_poses(s, &np);
  tmsf_search_get_num_test_points(s, &ntp);
  CHECK(np == 317 * 12 && ntp == 964 + 1, "D70 dipoles: %lld valid, %lld points", (long long)np, (long long)ntp);
  tmsf_search_destroy(&s);
  /* a dipole 1 mm into the head at every pose: distance 4 mm, dipole at
   * coil z = +5 mm under the centre */
  const double pos[3] = {0, 0, 0.005}, mom[3] = {0, 0, 1};
  tmsf_coil *one = NULL;
  REQUIRE_OK(ctx, tmsf_coil_create_dipoles(ctx, 1, pos, mom, &one));
  tmsf_search_params_default(&p);
  p.angle_step_deg = 120;
  ierr = tmsf_search_create(sphere, target, &p, NULL, one, &s);
  CHECK(ierr == TMSF_ERR_NOT_FOUND && strstr(tmsf_context_last_error(ctx), "951 because"), "dipole inside: %d '%s'",
        ierr, tmsf_context_last_error(ctx));
  tmsf_coil_destroy(&one);
  tmsf_coil_destroy(&coil);
}

/* M1 on the meshed Colin27 head (if cached) with the D70 casing. */
static void test_colin27(tmsf_context *ctx) {
  if (SANITIZED) { /* reading the head alone takes ~5 s under ASan: the release build runs it */
    printf("SKIP colin27 under the sanitizers\n");
    return;
  }
  const char *home = getenv("HOME");
  char pattern[1024];
  snprintf(pattern, sizeof(pattern), "%s/.cache/tmsfield/heads/colin27_v3_labels_mni-*.msh", home ? home : "");
  glob_t g;
  if (!home || glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
    printf("SKIP colin27: no cached mesh %s\n", pattern);
    return;
  }
  tmsf_mesh *head = NULL;
  double t0 = now();
  int ierr = tmsf_mesh_read(ctx, g.gl_pathv[0], &head);
  globfree(&g);
  if (ierr) {
    printf("SKIP colin27: %s\n", tmsf_context_last_error(ctx));
    return;
  }
  double t1 = now();
  tmsf_casing *c = NULL;
  REQUIRE_OK(ctx, tmsf_casing_find_for_coil(ctx, test_path("data/coils/drakaki2022/MagStim_D70.ccd"), &c));
  const double m1[3] = {-0.037, -0.021, 0.058};
  tmsf_search *s = NULL;
  tmsf_search_params p;
  tmsf_search_params_default(&p);
  REQUIRE_OK(ctx, tmsf_search_create(head, m1, &p, c, NULL, &s));
  double t2 = now();
  int64_t npos, nang, np, dc, dn, ntp;
  tmsf_search_get_num_positions(s, &npos);
  tmsf_search_get_num_angles(s, &nang);
  tmsf_search_get_num_poses(s, &np);
  tmsf_search_get_num_dropped(s, &dc, &dn);
  tmsf_search_get_num_test_points(s, &ntp);
  double P0[3], n0[3];
  tmsf_search_get_projection(s, P0, n0, NULL, NULL);
  int threads = 0;
  tmsf_context_get_threads(ctx, &threads);
  printf("colin27 M1 + D70 casing: read %.2f s, search %.2f s (%d threads): %lld positions x %lld angles, "
         "%lld test points, %lld valid, %lld collide, %lld no scalp; P0 (%.1f %.1f %.1f) mm, n0 (%.3f %.3f %.3f)\n",
         t1 - t0, t2 - t1, threads, (long long)npos, (long long)nang, (long long)ntp, (long long)np, (long long)dc,
         (long long)dn, P0[0] * 1e3, P0[1] * 1e3, P0[2] * 1e3, n0[0], n0[1], n0[2]);
  /* M1 lies under the left upper scalp: the projection is up and to the left */
  CHECK(P0[2] > m1[2] && P0[0] < m1[0] && n0[2] > 0.5 && n0[0] < 0, "colin27 projection");
  double d = nrm((double[3]){P0[0] - m1[0], P0[1] - m1[1], P0[2] - m1[2]});
  CHECK(d > 0.01 && d < 0.03, "scalp-to-M1 distance %g m", d);
  CHECK(npos == 317 && nang == 72 && np > 0 && np + dc + dn == npos * nang, "colin27 counts");
  const double *poses;
  tmsf_search_get_poses(s, &poses, NULL, NULL, NULL);
  int bad = 0;
  for (int64_t k = 0; k < np; k++) bad += tmsf_pose_check(ctx, poses + 16 * k) != 0;
  CHECK(bad == 0, "colin27: %d poses fail the check", bad);
  /* the valid poses' clearance agrees */
  int badc = 0;
  for (int64_t k = 0; k < np; k += 211) {
    int valid;
    double cl;
    CHECK_OK(ctx, tmsf_search_pose_clearance(s, poses + 16 * k, &cl, &valid));
    badc += !valid;
  }
  CHECK(badc == 0, "colin27: %d valid poses with clearance below the margin", badc);
  /* generous bound for a shared machine: the issue asks well under 5 s on 2 cores */
  CHECK(t2 - t1 < 30, "colin27 search took %.1f s", t2 - t1);
  tmsf_search_destroy(&s);
  tmsf_casing_destroy(&c);
  tmsf_mesh_destroy(&head);
}

int main(int argc, char **argv) {
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) return 1;
  int colin_only = argc > 1 && strcmp(argv[1], "colin27") == 0;
  if (!colin_only) {
    tmsf_mesh *sphere = NULL;
    REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &sphere));
    double sag = sphere_sagitta(ctx, sphere);
    double t = now();
#define TIMED(call)                                                                                                    \
  do {                                                                                                                 \
    call;                                                                                                              \
    printf("  %s: %.2f s\n", #call, now() - t);                                                                        \
    t = now();                                                                                                         \
  } while (0)
    TIMED(test_params(ctx, sphere));
    TIMED(test_sphere_grid(ctx, sphere, sag));
    TIMED(test_sphere_sdf(ctx, sphere, sag));
    TIMED(test_box(ctx));
    TIMED(test_box_random(ctx, 0.0, 8, -0.004, 0.006));
    TIMED(test_box_random(ctx, 0.001, 8, -0.004, 0.006));
    TIMED(test_errors(ctx, sphere));
    TIMED(test_stl(ctx));
    TIMED(test_sphere_casings(ctx, sphere));
    tmsf_mesh_destroy(&sphere);
  }
  test_colin27(ctx);
  tmsf_context_destroy(&ctx);
  return test_summary("t-search");
}

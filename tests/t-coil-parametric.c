/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-coil-parametric.c: wire coils from winding geometry.
 *
 *  - parameter checks: every bad field is rejected with a message naming it;
 *  - geometry against closed forms: segment count, wire length (Archimedean
 *    spiral arc length + leads), radii, layer heights, turn count (winding
 *    number of the closed wire around the wing centre), net current-loop area
 *    (m = 1/2 sum r x dl against the spiral's area (pi N / 3)(b^3 - a^3)/(b - a)),
 *    the figure-8's mirror symmetry and zero net moment, the double cone's
 *    moment (2 m sin(angle), 0, 0) and its windings behind the bottom face;
 *  - the primary field of a single circular loop against the closed form with
 *    complete elliptic integrals (Jackson, Classical Electrodynamics, 3rd ed.,
 *    eq. 5.37), with its second-order convergence in the segments per turn.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_ellint.h>

#include "test-common.h"

#define PI_ 3.14159265358979323846

static int64_t make(tmsf_context *ctx, const tmsf_wire_coil_params *p, double **mid, double **dl) {
  int64_t n = 0;
  REQUIRE_OK(ctx, tmsf_wire_coil_num_segments(ctx, p, &n));
  *mid = malloc(sizeof(double) * 3 * (size_t)n);
  *dl = malloc(sizeof(double) * 3 * (size_t)n);
  REQUIRE_OK(ctx, tmsf_wire_coil_segments(ctx, p, n, *mid, *dl));
  return n;
}

/* m = 1/2 sum (r_k - c) x dl_k over segments [k0, k1) */
static void moment(const double *mid, const double *dl, int64_t k0, int64_t k1, const double c[3],
                   double m[3]) {
  m[0] = m[1] = m[2] = 0.0;
  for (int64_t k = k0; k < k1; k++) {
    double r[3] = {mid[3 * k] - c[0], mid[3 * k + 1] - c[1], mid[3 * k + 2] - c[2]};
    const double *d = dl + 3 * k;
    m[0] += 0.5 * (r[1] * d[2] - r[2] * d[1]);
    m[1] += 0.5 * (r[2] * d[0] - r[0] * d[2]);
    m[2] += 0.5 * (r[0] * d[1] - r[1] * d[0]);
  }
}

/* Total length of segments [k0, k1). */
static double seg_length(const double *dl, int64_t k0, int64_t k1) {
  double s = 0.0;
  for (int64_t k = k0; k < k1; k++)
    s += sqrt(dl[3 * k] * dl[3 * k] + dl[3 * k + 1] * dl[3 * k + 1] + dl[3 * k + 2] * dl[3 * k + 2]);
  return s;
}

/* Arc length of r = a + (b - a) phi / (2 pi N), phi in [0, 2 pi N]. */
static double spiral_length(double a, double b, int N) {
  double c = (b - a) / (2.0 * PI_ * N); /* dr/dphi */
  if (c == 0.0) return 2.0 * PI_ * N * a;
  double F_b = b * sqrt(b * b + c * c) + c * c * asinh(b / c);
  double F_a = a * sqrt(a * a + c * c) + c * c * asinh(a / c);
  return (F_b - F_a) / (2.0 * c);
}

/* Area swept by the spiral: 1/2 int r^2 dphi. */
static double spiral_area(double a, double b, int N) {
  if (b == a) return PI_ * N * a * a;
  return PI_ * N / 3.0 * (b * b * b - a * a * a) / (b - a);
}

static void check_params(tmsf_context *ctx) {
  tmsf_wire_coil_params p;
  for (int s = 1; s <= 3; s++) {
    CHECK_OK(ctx, tmsf_wire_coil_params_init((tmsf_wire_coil_shape)s, &p));
    CHECK_OK(ctx, tmsf_wire_coil_params_check(ctx, &p));
  }
  CHECK(tmsf_wire_coil_params_init((tmsf_wire_coil_shape)7, &p) == TMSF_ERR_ARGUMENT, "bad shape");
  CHECK(tmsf_wire_coil_params_init(TMSF_WIRE_COIL_CIRCULAR, NULL) == TMSF_ERR_ARGUMENT, "NULL");

  /* each bad value -> TMSF_ERR_ARGUMENT and the field's name in the message */
#define BAD(shape_, field_, stmt_)                                                                 \
  do {                                                                                             \
    tmsf_wire_coil_params q;                                                                       \
    tmsf_wire_coil_params_init(shape_, &q);                                                        \
    stmt_;                                                                                         \
    int st_ = tmsf_wire_coil_params_check(ctx, &q);                                                \
    CHECK(st_ == TMSF_ERR_ARGUMENT, "%s: status %d", #stmt_, st_);                                 \
    CHECK(strstr(tmsf_context_last_error(ctx), field_) != NULL, "%s: message '%s' lacks %s",       \
          #stmt_, tmsf_context_last_error(ctx), field_);                                           \
    int64_t n_ = -1;                                                                               \
    CHECK(tmsf_wire_coil_num_segments(ctx, &q, &n_) == TMSF_ERR_ARGUMENT, "%s: count", #stmt_);    \
  } while (0)
  BAD(TMSF_WIRE_COIL_CIRCULAR, "turns", q.turns = 0);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "layers", q.layers = 0);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "segments_per_turn", q.segments_per_turn = 2);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "inner_radius_m", q.inner_radius_m = 0.0);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "inner_radius_m", q.inner_radius_m = NAN);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "outer_radius_m", q.outer_radius_m = 0.5 * q.inner_radius_m);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "layer_spacing_m", (q.layers = 3, q.layer_spacing_m = 0.0));
  BAD(TMSF_WIRE_COIL_CIRCULAR, "layer_spacing_m", q.layer_spacing_m = -1e-3);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "bottom_distance_m", q.bottom_distance_m = -1e-3);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "bottom_distance_m", q.bottom_distance_m = INFINITY);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "layers_in_parallel", q.layers_in_parallel = 2);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "leads", q.leads = -1);
  BAD(TMSF_WIRE_COIL_CIRCULAR, "shape", q.shape = (tmsf_wire_coil_shape)0);
  BAD(TMSF_WIRE_COIL_FIGURE8, "wing_spacing_m", q.wing_spacing_m = 1.9 * q.outer_radius_m);
  BAD(TMSF_WIRE_COIL_FIGURE8, "wing_angle_deg", q.wing_angle_deg = 90.0);
  BAD(TMSF_WIRE_COIL_FIGURE8, "wing_angle_deg", q.wing_angle_deg = -5.0);
  BAD(TMSF_WIRE_COIL_DOUBLE_CONE, "wing_angle_deg", q.wing_angle_deg = 0.0);
#undef BAD
  CHECK(tmsf_wire_coil_params_check(ctx, NULL) == TMSF_ERR_ARGUMENT, "NULL params");

  /* wrong array size */
  tmsf_wire_coil_params_init(TMSF_WIRE_COIL_CIRCULAR, &p);
  int64_t n;
  REQUIRE_OK(ctx, tmsf_wire_coil_num_segments(ctx, &p, &n));
  double *a = malloc(sizeof(double) * 3 * (size_t)n), *b = malloc(sizeof(double) * 3 * (size_t)n);
  CHECK(tmsf_wire_coil_segments(ctx, &p, n - 1, a, b) == TMSF_ERR_ARGUMENT, "size mismatch");
  CHECK(strstr(tmsf_context_last_error(ctx), "tmsf_wire_coil_num_segments") != NULL, "%s",
        tmsf_context_last_error(ctx));
  CHECK(tmsf_wire_coil_segments(ctx, &p, n, NULL, b) == TMSF_ERR_ARGUMENT, "NULL array");
  free(a);
  free(b);
}

/* One flat spiral: count, length, radii, turns, area, layers. */
static void check_circular(tmsf_context *ctx) {
  tmsf_wire_coil_params p;
  tmsf_wire_coil_params_init(TMSF_WIRE_COIL_CIRCULAR, &p);
  p.turns = 7;
  p.inner_radius_m = 0.020;
  p.outer_radius_m = 0.045;
  p.segments_per_turn = 128;
  p.bottom_distance_m = 0.004;
  double *mid, *dl;
  int64_t n = make(ctx, &p, &mid, &dl);
  /* lead: 25 mm in chords no longer than 2 pi 45 mm / 128 = 2.21 mm -> 12 */
  CHECK(n == 7 * 128 + 12, "segments %lld, want %d", (long long)n, 7 * 128 + 12);

  /* wire length: chords of the spiral are shorter than its arc by a relative
   * (2 pi / S)^2 / 24 = 1e-4; the lead is straight */
  double len = seg_length(dl, 0, n);
  double want = spiral_length(0.020, 0.045, 7) + 0.025;
  CHECK_REL(len, want, 3e-4, "wire length of a 7-turn spiral + lead");

  /* radii within [inner cos(pi/S), outer]; all in the plane z = -4 mm */
  double rmin = 1, rmax = 0, zdev = 0;
  for (int64_t k = 0; k < n; k++) {
    double r = hypot(mid[3 * k], mid[3 * k + 1]);
    rmin = fmin(rmin, r), rmax = fmax(rmax, r);
    zdev = fmax(zdev, fabs(mid[3 * k + 2] + 0.004));
  }
  CHECK(rmin >= 0.020 * cos(PI_ / 128) - 1e-15 && rmin < 0.0201, "min radius %g", rmin);
  CHECK(rmax <= 0.045 + 1e-15 && rmax > 0.0449, "max radius %g", rmax);
  CHECK(zdev < 1e-15, "windings off the layer plane by %g", zdev);

  /* turns: winding number of the closed wire about the centre (the lead is
   * radial and adds nothing) */
  double wind = 0.0;
  for (int64_t k = 0; k < n; k++) {
    const double *a = mid + 3 * k, *b = mid + 3 * ((k + 1) % n);
    wind += atan2(a[0] * b[1] - a[1] * b[0], a[0] * b[0] + a[1] * b[1]);
  }
  CHECK(fabs(wind / (2 * PI_) - 7.0) < 1e-9, "winding number %.12g, want 7", wind / (2 * PI_));

  /* net current-loop area along +z (moment per ampere); the inscribed
   * polygon's area is smaller by a relative ~(2 pi/S)^2/6 = 4e-4 */
  const double c0[3] = {0, 0, 0};
  double m[3];
  moment(mid, dl, 0, n, c0, m);
  double area = spiral_area(0.020, 0.045, 7);
  CHECK_REL(m[2], area, 6e-4, "moment m_z = loop area of the spiral");
  CHECK(fabs(m[0]) < 1e-12 * area && fabs(m[1]) < 1e-12 * area, "in-plane moment %g %g", m[0], m[1]);
  /* and it converges at second order: S = 512 is 16x closer */
  {
    tmsf_wire_coil_params q = p;
    q.segments_per_turn = 512;
    double *mid2, *dl2;
    int64_t n2 = make(ctx, &q, &mid2, &dl2);
    double m2[3];
    moment(mid2, dl2, 0, n2, c0, m2);
    double e1 = fabs(m[2] - area) / area, e2 = fabs(m2[2] - area) / area;
    printf("spiral area error: S=128 %.3e  S=512 %.3e  ratio %.2f (second order: 16)\n", e1, e2,
           e1 / e2);
    CHECK(e1 / e2 > 14.0 && e1 / e2 < 18.0, "area error ratio %g, want ~16", e1 / e2);
    free(mid2);
    free(dl2);
  }

  /* 3 layers in series: 3x the moment; in parallel: the same moment; heights */
  tmsf_wire_coil_params q = p;
  q.layers = 3;
  q.layer_spacing_m = 0.002;
  double *mid3, *dl3;
  int64_t n3 = make(ctx, &q, &mid3, &dl3);
  CHECK(n3 == 3 * n, "3 layers: %lld segments", (long long)n3);
  double m3[3];
  moment(mid3, dl3, 0, n3, c0, m3);
  CHECK_REL(m3[2], 3.0 * m[2], 1e-12, "3 layers in series");
  for (int l = 0; l < 3; l++) {
    double z = mid3[3 * (l * n) + 2];
    CHECK(fabs(z + 0.004 + 0.002 * l) < 1e-15, "layer %d at z = %g", l, z);
  }
  free(mid3);
  free(dl3);
  q.layers_in_parallel = 1;
  n3 = make(ctx, &q, &mid3, &dl3);
  moment(mid3, dl3, 0, n3, c0, m3);
  CHECK_REL(m3[2], m[2], 1e-12, "3 layers in parallel");
  free(mid3);
  free(dl3);

  /* no leads: the open spiral; inner == outer: closed circles, no lead */
  q = p;
  q.leads = 0;
  REQUIRE_OK(ctx, tmsf_wire_coil_num_segments(ctx, &q, &n3));
  CHECK(n3 == 7 * 128, "open spiral %lld segments", (long long)n3);
  q = p;
  q.outer_radius_m = q.inner_radius_m;
  REQUIRE_OK(ctx, tmsf_wire_coil_num_segments(ctx, &q, &n3));
  CHECK(n3 == 7 * 128, "7 circles %lld segments", (long long)n3);
  free(mid);
  free(dl);
}

static void check_figure8(tmsf_context *ctx) {
  tmsf_wire_coil_params p;
  tmsf_wire_coil_params_init(TMSF_WIRE_COIL_FIGURE8, &p);
  p.segments_per_turn = 32;
  p.layers = 2;
  double *mid, *dl;
  int64_t n = make(ctx, &p, &mid, &dl), h = n / 2;
  /* the -x wing mirrors the +x wing segment by segment */
  double dev = 0.0;
  for (int64_t k = 0; k < h; k++) {
    dev = fmax(dev, fabs(mid[3 * (h + k)] + mid[3 * k]));
    dev = fmax(dev, fabs(dl[3 * (h + k)] + dl[3 * k]));
    for (int j = 1; j < 3; j++) {
      dev = fmax(dev, fabs(mid[3 * (h + k) + j] - mid[3 * k + j]));
      dev = fmax(dev, fabs(dl[3 * (h + k) + j] - dl[3 * k + j]));
    }
  }
  CHECK(dev == 0.0, "mirror symmetry off by %g", dev);
  /* wings side by side, not overlapping; moments +z and -z; net zero */
  double xmin = 1;
  for (int64_t k = 0; k < h; k++) xmin = fmin(xmin, mid[3 * k]);
  CHECK(xmin >= 0.045 - 0.0435 - 1e-12, "+x wing reaches x = %g", xmin);
  const double cr[3] = {0.045, 0, 0}, cl[3] = {-0.045, 0, 0}, c0[3] = {0, 0, 0};
  double mr[3], ml[3], m[3];
  moment(mid, dl, 0, h, cr, mr);
  moment(mid, dl, h, n, cl, ml);
  moment(mid, dl, 0, n, c0, m);
  /* Magstim geometry: 9 turns 28 -> 43.5 mm, filaments in parallel */
  double area = spiral_area(0.028, 0.0435, 9);
  /* an inscribed polygon of S sides has sin(h)/h of the circle's area, h = 2 pi / S */
  double h32 = 2.0 * PI_ / 32.0;
  CHECK_REL(mr[2], area * sin(h32) / h32, 2e-4, "+x wing moment (inscribed polygons, S = 32)");
  CHECK_REL(ml[2], -mr[2], 1e-12, "-x wing moment");
  CHECK(fabs(m[0]) + fabs(m[1]) + fabs(m[2]) < 1e-12 * area, "net moment %g %g %g", m[0], m[1], m[2]);
  free(mid);
  free(dl);
}

static void check_double_cone(tmsf_context *ctx) {
  tmsf_wire_coil_params p;
  tmsf_wire_coil_params_init(TMSF_WIRE_COIL_DOUBLE_CONE, &p);
  p.segments_per_turn = 32;
  p.layers = 2;
  p.layer_spacing_m = 0.003;
  double *mid, *dl;
  int64_t n = make(ctx, &p, &mid, &dl), h = n / 2;
  /* every winding behind the bottom face (z <= -bottom distance) */
  double zmax = -1;
  for (int64_t k = 0; k < n; k++) zmax = fmax(zmax, mid[3 * k + 2]);
  CHECK(zmax <= -p.bottom_distance_m + 1e-15, "winding at z = %g above the bottom plane %g", zmax,
        -p.bottom_distance_m);
  /* moment of each wing = flat wing's moment rotated: (m sin a, 0, +-m cos a);
   * net (2 m sin a, 0, 0) */
  tmsf_wire_coil_params f = p;
  f.shape = TMSF_WIRE_COIL_FIGURE8;
  f.wing_angle_deg = 0.0;
  double *fm, *fd;
  int64_t fn = make(ctx, &f, &fm, &fd);
  const double c0[3] = {0, 0, 0};
  double mf[3], mr[3], ml[3];
  moment(fm, fd, 0, fn / 2, c0, mf);
  moment(mid, dl, 0, h, c0, mr);
  moment(mid, dl, h, n, c0, ml);
  double a = 40.0 * PI_ / 180.0;
  CHECK_REL(mr[0], mf[2] * sin(a), 1e-12, "tilted wing m_x");
  CHECK_REL(mr[2], mf[2] * cos(a), 1e-12, "tilted wing m_z");
  CHECK(fabs(mr[1]) < 1e-12 * mf[2], "tilted wing m_y %g", mr[1]);
  CHECK_REL(ml[0], mr[0], 1e-12, "mirror wing m_x");
  CHECK_REL(ml[2], -mr[2], 1e-12, "mirror wing m_z");
  /* the tilt keeps lengths: total wire length equal to the flat coil's */
  double l1 = seg_length(dl, 0, n), l2 = seg_length(fd, 0, fn);
  CHECK_REL(l1, l2, 1e-12, "wire length under tilt");
  free(fm);
  free(fd);
  free(mid);
  free(dl);
}


/* A_phi of a circular loop of radius a (per ampere) at cylindrical (rho, z)
 * relative to the loop's centre and plane; Jackson 3rd ed. eq. 5.37:
 *   A_phi = mu0 a / pi * [(2 - k^2) K(k) - 2 E(k)] / (k^2 sqrt((a + rho)^2 + z^2)),
 *   k^2 = 4 a rho / ((a + rho)^2 + z^2);  mu0 / pi = 4e-7. */
static double loop_A_phi(double a, double rho, double z) {
  double s2 = (a + rho) * (a + rho) + z * z;
  double k2 = 4.0 * a * rho / s2, k = sqrt(k2);
  double K = gsl_sf_ellint_Kcomp(k, GSL_PREC_DOUBLE), E = gsl_sf_ellint_Ecomp(k, GSL_PREC_DOUBLE);
  return 4e-7 * a * ((2.0 - k2) * K - 2.0 * E) / (k2 * sqrt(s2));
}

/* Relative L2 error of a one-turn loop's primary field (tmsf_coil_primary_field)
 * against the closed form, at 60 points 6.4 mm to 72 mm from the wire. */
static double loop_error(tmsf_context *ctx, int segments) {
  const double a = 0.04, zl = -0.005; /* loop radius and plane */
  tmsf_wire_coil_params p;
  tmsf_wire_coil_params_init(TMSF_WIRE_COIL_CIRCULAR, &p);
  p.turns = 1;
  p.inner_radius_m = p.outer_radius_m = a;
  p.bottom_distance_m = -zl;
  p.segments_per_turn = segments;
  tmsf_coil *coil;
  REQUIRE_OK(ctx, tmsf_coil_create_wire(ctx, &p, &coil));
  const double I4[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  enum { NP = 60 };
  double pts[3 * NP], A[3 * NP], ref[3 * NP];
  int i = 0;
  const double rhos[5] = {0.005, 0.02, 0.035, 0.05, 0.08}, dzs[4] = {0.004, 0.01, 0.03, 0.06};
  for (int r = 0; r < 5; r++)
    for (int z = 0; z < 4; z++)
      for (int f = 0; f < 3; f++, i++) {
        double phi = 0.3 + 2.1 * f; /* off the polygon's symmetry axes */
        pts[3 * i] = rhos[r] * cos(phi);
        pts[3 * i + 1] = rhos[r] * sin(phi);
        pts[3 * i + 2] = zl + dzs[z];
        double Ap = loop_A_phi(a, rhos[r], dzs[z]);
        ref[3 * i] = -Ap * sin(phi); /* counter-clockwise current: A along +phi */
        ref[3 * i + 1] = Ap * cos(phi);
        ref[3 * i + 2] = 0.0;
      }
  REQUIRE_OK(ctx, tmsf_coil_primary_field(coil, I4, 1.0, NP, pts, A, NULL));
  double d2 = 0, r2 = 0;
  for (int k = 0; k < 3 * NP; k++) d2 += (A[k] - ref[k]) * (A[k] - ref[k]), r2 += ref[k] * ref[k];
  tmsf_coil_destroy(&coil);
  return sqrt(d2 / r2);
}

static void check_loop_field(tmsf_context *ctx) {
  double prev = 0;
  printf("one-turn loop (radius 40 mm) vs Jackson 5.37, relative L2 error of A:\n");
  for (int s = 16; s <= 1024; s *= 2) {
    double e = loop_error(ctx, s);
    if (prev > 0)
      printf("  %5d segments: %.3e  (ratio %.2f)\n", s, e, prev / e);
    else
      printf("  %5d segments: %.3e\n", s, e);
    /* second order: halving the segment length divides the error by ~4
     * (asymptotic from 64 segments on) */
    if (s >= 64) CHECK(prev / e > 3.9 && prev / e < 4.1, "%d segments: ratio %g", s, prev / e);
    /* the chords' midpoints sit at a cos(pi/S) and their lengths are
     * sin(pi/S)/(pi/S) of the arc: a relative error ~(pi/S)^2 = 1.5e-4 at 256 */
    if (s == 256) CHECK(e < 2e-4, "256 segments: error %.3e > 2e-4", e);
    if (s == 1024) CHECK(e < 1.2e-5, "1024 segments: error %.3e > 1.2e-5", e);
    prev = e;
  }
}

/* Figure-8 sense and symmetry: under the centre A points along -y, as for the
 * measured Magstim 70 mm model; A_y is even in x, A_x odd. */
static void check_figure8_field(tmsf_context *ctx) {
  tmsf_wire_coil_params p;
  tmsf_wire_coil_params_init(TMSF_WIRE_COIL_FIGURE8, &p);
  tmsf_coil *wire, *ccd;
  REQUIRE_OK(ctx, tmsf_coil_create_wire(ctx, &p, &wire));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &ccd));
  const char *name;
  tmsf_coil_get_name(wire, &name);
  CHECK(strcmp(name, "wire figure-8") == 0, "name '%s'", name);
  const double I4[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  double pts[12] = {0, 0, 0.02, 0.013, 0.007, 0.015, -0.013, 0.007, 0.015, 0, 0, 0.04};
  double Aw[12], Ac[12];
  REQUIRE_OK(ctx, tmsf_coil_primary_field(wire, I4, 1.0, 4, pts, Aw, NULL));
  REQUIRE_OK(ctx, tmsf_coil_primary_field(ccd, I4, 1.0, 4, pts, Ac, NULL));
  printf("A per ampere at (0, 0, 20 mm): wire (%.4g, %.4g, %.4g), measured .ccd (%.4g, %.4g, %.4g) T m/A\n",
         Aw[0], Aw[1], Aw[2], Ac[0], Ac[1], Ac[2]);
  for (int i = 0; i < 4; i += 3) {
    CHECK(Aw[3 * i + 1] < 0 && Ac[3 * i + 1] < 0, "A_y under the centre: wire %g, .ccd %g",
          Aw[3 * i + 1], Ac[3 * i + 1]);
    CHECK(fabs(Aw[3 * i]) + fabs(Aw[3 * i + 2]) < 1e-9 * fabs(Aw[3 * i + 1]), "A off y: %g %g",
          Aw[3 * i], Aw[3 * i + 2]);
    /* same coil, two models: within 10 % under the centre */
    CHECK_REL(Aw[3 * i + 1], Ac[3 * i + 1], 0.10, "A_y under the centre, wire vs measured model");
  }
  CHECK_REL(Aw[4], Aw[7], 1e-12, "A_y even in x");
  CHECK_REL(Aw[3], -Aw[6], 1e-12, "A_x odd in x");
  CHECK_REL(Aw[5], Aw[8], 1e-12, "A_z even in x");
  tmsf_coil_destroy(&wire);
  tmsf_coil_destroy(&ccd);

  /* a figure-8 (stimulator 0) stacked on a circular coil (stimulator 1): two
   * elements, fields superpose with each stimulator's dI/dt */
  tmsf_wire_coil_params pc;
  tmsf_wire_coil_params_init(TMSF_WIRE_COIL_CIRCULAR, &pc);
  pc.bottom_distance_m = 0.012;
  tmsf_coil *both, *f8, *circ;
  REQUIRE_OK(ctx, tmsf_coil_create(ctx, "stack", &both));
  REQUIRE_OK(ctx, tmsf_coil_add_wire(both, 0, NULL, &p));
  REQUIRE_OK(ctx, tmsf_coil_add_wire(both, 1, "round", &pc));
  REQUIRE_OK(ctx, tmsf_coil_create_wire(ctx, &p, &f8));
  REQUIRE_OK(ctx, tmsf_coil_create_wire(ctx, &pc, &circ));
  int ne = 0;
  const char *en;
  tmsf_coil_get_num_elements(both, &ne);
  CHECK(ne == 2, "elements %d", ne);
  CHECK_OK(ctx, tmsf_coil_get_element(both, 1, NULL, NULL, NULL, &en));
  CHECK(strcmp(en, "round") == 0, "element name '%s'", en);
  const double didt[2] = {2e6, -3e6};
  double Ab[12], Af[12], Ao[12];
  REQUIRE_OK(ctx, tmsf_coil_primary_field_stimulators(both, I4, didt, 4, pts, Ab, NULL));
  REQUIRE_OK(ctx, tmsf_coil_primary_field(f8, I4, didt[0], 4, pts, Af, NULL));
  REQUIRE_OK(ctx, tmsf_coil_primary_field(circ, I4, didt[1], 4, pts, Ao, NULL));
  for (int k = 0; k < 12; k++)
    CHECK(fabs(Ab[k] - Af[k] - Ao[k]) <= 1e-12 * (fabs(Af[k]) + fabs(Ao[k])) + 1e-300,
          "superposition, component %d: %g vs %g + %g", k, Ab[k], Af[k], Ao[k]);
  p.turns = 0;
  CHECK(tmsf_coil_add_wire(both, 2, NULL, &p) == TMSF_ERR_ARGUMENT, "add_wire with bad params");
  tmsf_coil_get_num_elements(both, &ne);
  CHECK(ne == 2, "a failed add leaves %d elements", ne);
  tmsf_coil_destroy(&both);
  tmsf_coil_destroy(&f8);
  tmsf_coil_destroy(&circ);

  /* bad parameters make no coil */
  p.turns = -1;
  tmsf_coil *none = (tmsf_coil *)&p;
  CHECK(tmsf_coil_create_wire(ctx, &p, &none) == TMSF_ERR_ARGUMENT && none == NULL, "bad params");
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  check_params(ctx);
  check_circular(ctx);
  check_figure8(ctx);
  check_double_cone(ctx);
  check_loop_field(ctx);
  check_figure8_field(ctx);
  tmsf_context_destroy(&ctx);
  return test_summary("coil-parametric");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-treecode.c: the treecode of the reciprocity fields (lib/treecode.c)
 * against a plain double loop written here (the reference):
 *   (a) random sources in a ball, targets on a shell outside it;
 *   (b) sources at the nodes and tetrahedron centroids of sphere3.msh with
 *       dipole-like weights (large near a point 25 mm under the top, decaying
 *       as 1/d^3), targets 5-30 mm above the surface: the geometry the
 *       placement engine uses, scaled down;
 * the relative errors (RMS over targets of |error| / RMS |exact|) must stay
 * under the tolerance asked for; B must be the curl of A (fourth-order
 * central differences of A); results with 1 and 2 threads are bitwise
 * equal; small and degenerate inputs (one source, no targets, a target on a
 * source, all sources at one point, sources on a plane, no sources) give the
 * direct sum; bad input fails with TMSF_ERR_ARGUMENT.
 */
#include "test-common.h"

#include "treecode.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* The reference: A and B by a plain loop, skipping sources within tiny. */
static void reference(int64_t n, const double *x, const double *q, int64_t m, const double *r, double tiny,
                      double *A, double *B) {
  for (int64_t i = 0; i < m; i++) {
    double a[3] = {0, 0, 0}, b[3] = {0, 0, 0};
    for (int64_t k = 0; k < n; k++) {
      double d[3] = {r[3 * i] - x[3 * k], r[3 * i + 1] - x[3 * k + 1], r[3 * i + 2] - x[3 * k + 2]};
      double dist = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      if (dist <= tiny) continue;
      const double *Q = q + 3 * k;
      for (int c = 0; c < 3; c++) a[c] += Q[c] / dist;
      double d3 = dist * dist * dist;
      b[0] += (Q[1] * d[2] - Q[2] * d[1]) / d3;
      b[1] += (Q[2] * d[0] - Q[0] * d[2]) / d3;
      b[2] += (Q[0] * d[1] - Q[1] * d[0]) / d3;
    }
    for (int c = 0; c < 3; c++) {
      A[3 * i + c] = a[c];
      B[3 * i + c] = b[c];
    }
  }
}

/* RMS of |got - want| over RMS of |want|; *maxrel: max |got - want| / RMS |want|. */
static double rms_error(int64_t m, const double *got, const double *want, double *maxrel) {
  double e = 0, s = 0, mx = 0;
  for (int64_t i = 0; i < m; i++) {
    double ei = 0;
    for (int c = 0; c < 3; c++) {
      ei += (got[3 * i + c] - want[3 * i + c]) * (got[3 * i + c] - want[3 * i + c]);
      s += want[3 * i + c] * want[3 * i + c];
    }
    e += ei;
    if (ei > mx) mx = ei;
  }
  if (maxrel) *maxrel = sqrt(mx) / sqrt(s / (double)m);
  return sqrt(e / s);
}

static uint64_t rng_state = 88172645463325252ull;
static double urand(void) { /* xorshift64, uniform in [0, 1) */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static void random_unit(double u[3]) {
  double z = 2 * urand() - 1, phi = 2 * M_PI * urand(), s = sqrt(1 - z * z);
  u[0] = s * cos(phi);
  u[1] = s * sin(phi);
  u[2] = z;
}

/* Dipole-like weights: the volume current of a dipole p at x0 in an infinite
 * medium, (3 (p.u) u - p) / d^3 with d clamped at 5 mm, plus p near x0. */
static void dipole_weights(int64_t n, const double *x, const double x0[3], const double p[3], double *q) {
  for (int64_t k = 0; k < n; k++) {
    double d[3] = {x[3 * k] - x0[0], x[3 * k + 1] - x0[1], x[3 * k + 2] - x0[2]};
    double dist = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    double dc = fmax(dist, 0.005), pu = 0;
    double u[3] = {0, 0, 0};
    if (dist > 0)
      for (int c = 0; c < 3; c++) u[c] = d[c] / dist;
    for (int c = 0; c < 3; c++) pu += p[c] * u[c];
    for (int c = 0; c < 3; c++) q[3 * k + c] = 1e-9 * (3 * pu * u[c] - p[c]) / (dc * dc * dc) + (dist < 0.005 ? p[c] : 0);
  }
}

/* Treecode at tolerance tol (and the given leaf size) against the reference. */
static void check_tolerance(tmsf_context *ctx, const char *what, int64_t n, const double *x, const double *q,
                            int64_t m, const double *r, const double *Aref, const double *Bref, double tol,
                            int leaf) {
  tmsf_treecode_params p;
  REQUIRE_OK(ctx, tmsf_treecode_params_for_tolerance(ctx, tol, &p));
  p.leaf_size = leaf;
  double *A = malloc(sizeof(double) * 3 * (size_t)m), *B = malloc(sizeof(double) * 3 * (size_t)m);
  CHECK_OK(ctx, tmsf_treecode_evaluate(ctx, n, x, q, m, r, &p, A, B));
  double ma, mb, ea = rms_error(m, A, Aref, &ma), eb = rms_error(m, B, Bref, &mb);
  printf("%s: tol %.0e (theta %.2f, degree %d): A %.2e (max %.2e), B %.2e (max %.2e)\n", what, tol, p.theta,
         p.degree, ea, ma, eb, mb);
  CHECK(ea <= tol, "%s: A error %.3g above tolerance %.3g", what, ea, tol);
  CHECK(eb <= tol, "%s: B error %.3g above tolerance %.3g", what, eb, tol);
  /* the approximation is used at all: not bitwise the direct sum */
  CHECK(ea > 0 && eb > 0, "%s: no far-field approximation took place", what);
  free(A);
  free(B);
}

/* (a) random sources in a ball of radius 80 mm, targets 90-110 mm from its centre */
static void test_ball(tmsf_context *ctx) {
  const int64_t n = 10000, m = 1000;
  double *x = malloc(sizeof(double) * 3 * n), *q = malloc(sizeof(double) * 3 * n);
  double *r = malloc(sizeof(double) * 3 * m);
  for (int64_t k = 0; k < n; k++) {
    double u[3], rad = 0.08 * cbrt(urand());
    random_unit(u);
    for (int c = 0; c < 3; c++) {
      x[3 * k + c] = rad * u[c];
      q[3 * k + c] = 2 * urand() - 1;
    }
  }
  for (int64_t i = 0; i < m; i++) {
    double u[3], rad = 0.09 + 0.02 * urand();
    random_unit(u);
    for (int c = 0; c < 3; c++) r[3 * i + c] = rad * u[c];
  }
  double *Aref = malloc(sizeof(double) * 3 * m), *Bref = malloc(sizeof(double) * 3 * m);
  reference(n, x, q, m, r, 0.0, Aref, Bref);
  check_tolerance(ctx, "ball", n, x, q, m, r, Aref, Bref, 1e-3, 64);
  check_tolerance(ctx, "ball", n, x, q, m, r, Aref, Bref, 1e-4, 64);
  check_tolerance(ctx, "ball", n, x, q, m, r, Aref, Bref, 1e-6, 64);

  /* the library's direct sum is the reference too */
  double *A = malloc(sizeof(double) * 3 * m), *B = malloc(sizeof(double) * 3 * m);
  CHECK_OK(ctx, tmsf_treecode_direct(ctx, n, x, q, m, r, A, B));
  double ea = rms_error(m, A, Aref, NULL), eb = rms_error(m, B, Bref, NULL);
  CHECK(ea < 1e-13 && eb < 1e-13, "direct sum differs from the reference: %.3g %.3g", ea, eb);
  free(A);
  free(B);
  free(x);
  free(q);
  free(r);
  free(Aref);
  free(Bref);
}

/* Sources at the nodes and tet centroids of sphere3.msh (radius 95 mm). */
static int64_t sphere_sources(tmsf_context *ctx, double **xout, double **qout) {
  tmsf_mesh *mesh;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  int64_t nn, ne;
  const double *nodes;
  const int32_t *tets, *tags;
  tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
  tmsf_mesh_get_nodes(mesh, &nodes);
  tmsf_mesh_get_tetrahedra(mesh, &tets, &tags);
  int64_t n = nn + ne;
  double *x = malloc(sizeof(double) * 3 * (size_t)n), *q = malloc(sizeof(double) * 3 * (size_t)n);
  memcpy(x, nodes, sizeof(double) * 3 * (size_t)nn);
  for (int64_t e = 0; e < ne; e++)
    for (int c = 0; c < 3; c++) {
      double s = 0;
      for (int v = 0; v < 4; v++) s += nodes[3 * tets[4 * e + v] + c];
      x[3 * (nn + e) + c] = 0.25 * s;
    }
  tmsf_mesh_destroy(&mesh);
  const double x0[3] = {0.01, 0.0, 0.07}, p[3] = {0.0, 1.0, 0.2};
  dipole_weights(n, x, x0, p, q);
  *xout = x;
  *qout = q;
  return n;
}

/* Targets 5-30 mm above the sphere of radius 95 mm, over its upper two thirds. */
static void sphere_targets(int64_t m, double *r) {
  for (int64_t i = 0; i < m; i++) {
    double u[3];
    do random_unit(u);
    while (u[2] < -0.3);
    double rad = 0.095 + 0.005 + 0.025 * urand();
    for (int c = 0; c < 3; c++) r[3 * i + c] = rad * u[c];
  }
}

static void test_sphere(tmsf_context *ctx) {
  double *x, *q;
  int64_t n = sphere_sources(ctx, &x, &q), m = 1000;
  double *r = malloc(sizeof(double) * 3 * m);
  sphere_targets(m, r);
  double *Aref = malloc(sizeof(double) * 3 * m), *Bref = malloc(sizeof(double) * 3 * m);
  reference(n, x, q, m, r, 0.0, Aref, Bref);
  printf("sphere: %lld sources, %lld targets\n", (long long)n, (long long)m);
  const double tols[] = {1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7};
  for (int i = 0; i < 6; i++) check_tolerance(ctx, "sphere", n, x, q, m, r, Aref, Bref, tols[i], 32);
  /* defaults (NULL parameters: tolerance 1e-4) */
  double *A = malloc(sizeof(double) * 3 * m), *B = malloc(sizeof(double) * 3 * m);
  CHECK_OK(ctx, tmsf_treecode_evaluate(ctx, n, x, q, m, r, NULL, A, B));
  double ea = rms_error(m, A, Aref, NULL), eb = rms_error(m, B, Bref, NULL);
  CHECK(ea <= 1e-4 && eb <= 1e-4, "defaults: errors %.3g %.3g above 1e-4", ea, eb);

  /* units: positions times 1e-15 and weights times 1e-40 (float alone would
   * underflow) scale A by 1e-25 and B by 1e-10; positions and weights times
   * powers of two scale A and B exactly */
  {
    double *xs = malloc(sizeof(double) * 3 * (size_t)n), *qs = malloc(sizeof(double) * 3 * (size_t)n);
    double *rs = malloc(sizeof(double) * 3 * (size_t)m);
    double *As = malloc(sizeof(double) * 3 * (size_t)m), *Bs = malloc(sizeof(double) * 3 * (size_t)m);
    for (int64_t k = 0; k < 3 * n; k++) xs[k] = 1e-15 * x[k], qs[k] = 1e-40 * q[k];
    for (int64_t k = 0; k < 3 * m; k++) rs[k] = 1e-15 * r[k];
    CHECK_OK(ctx, tmsf_treecode_evaluate(ctx, n, xs, qs, m, rs, NULL, As, Bs));
    for (int64_t k = 0; k < 3 * m; k++) As[k] *= 1e25, Bs[k] *= 1e10;
    double ua = rms_error(m, As, A, NULL), ub = rms_error(m, Bs, B, NULL);
    printf("units 1e-15 m, 1e-40: A %.2e, B %.2e from the unscaled result\n", ua, ub);
    CHECK(ua < 1e-5 && ub < 1e-5, "scaled units: %.3g %.3g", ua, ub);
    for (int64_t k = 0; k < 3 * n; k++) xs[k] = 0x1p-20 * x[k], qs[k] = 0x1p-100 * q[k];
    for (int64_t k = 0; k < 3 * m; k++) rs[k] = 0x1p-20 * r[k];
    CHECK_OK(ctx, tmsf_treecode_evaluate(ctx, n, xs, qs, m, rs, NULL, As, Bs));
    int same = 1;
    for (int64_t k = 0; k < 3 * m; k++) same &= As[k] == 0x1p-80 * A[k] && Bs[k] == 0x1p-60 * B[k];
    CHECK(same, "scaling by powers of two is not exact");
    free(xs);
    free(qs);
    free(rs);
    free(As);
    free(Bs);
  }

  /* A alone and B alone equal what the joint call gives, bit for bit */
  double *A1 = malloc(sizeof(double) * 3 * m), *B1 = malloc(sizeof(double) * 3 * m);
  tmsf_treecode *tree;
  REQUIRE_OK(ctx, tmsf_treecode_create(ctx, n, x, q, NULL, &tree));
  CHECK_OK(ctx, tmsf_treecode_eval(tree, m, r, A1, NULL));
  CHECK_OK(ctx, tmsf_treecode_eval(tree, m, r, NULL, B1));
  CHECK(!memcmp(A, A1, sizeof(double) * 3 * m), "A alone differs from A with B");
  CHECK(!memcmp(B, B1, sizeof(double) * 3 * m), "B alone differs from B with A");

  /* batches of targets (build once, evaluate many): the same per target */
  CHECK_OK(ctx, tmsf_treecode_eval(tree, m / 2, r, A1, B1));
  CHECK_OK(ctx, tmsf_treecode_eval(tree, m - m / 2, r + 3 * (m / 2), A1 + 3 * (m / 2), B1 + 3 * (m / 2)));
  ea = rms_error(m, A1, Aref, NULL);
  eb = rms_error(m, B1, Bref, NULL);
  CHECK(ea <= 1e-4 && eb <= 1e-4, "two batches: errors %.3g %.3g above 1e-4", ea, eb);

  /* thread-count independence: 1 and 2 threads, bitwise */
  tmsf_treecode *t1, *t2;
  double *A2 = malloc(sizeof(double) * 3 * m), *B2 = malloc(sizeof(double) * 3 * m);
  REQUIRE_OK(ctx, tmsf_context_set_threads(ctx, 1));
  REQUIRE_OK(ctx, tmsf_treecode_create(ctx, n, x, q, NULL, &t1));
  CHECK_OK(ctx, tmsf_treecode_eval(t1, m, r, A1, B1));
  REQUIRE_OK(ctx, tmsf_context_set_threads(ctx, 2));
  REQUIRE_OK(ctx, tmsf_treecode_create(ctx, n, x, q, NULL, &t2));
  CHECK_OK(ctx, tmsf_treecode_eval(t2, m, r, A2, B2));
  CHECK(!memcmp(A1, A2, sizeof(double) * 3 * m) && !memcmp(B1, B2, sizeof(double) * 3 * m),
        "1 and 2 threads differ");
  /* the tree built with 1 thread evaluated with 2 */
  CHECK_OK(ctx, tmsf_treecode_eval(t1, m, r, A2, B2));
  CHECK(!memcmp(A1, A2, sizeof(double) * 3 * m) && !memcmp(B1, B2, sizeof(double) * 3 * m),
        "tree of 1 thread evaluated on 2 differs");
  REQUIRE_OK(ctx, tmsf_context_set_threads(ctx, 0));
  tmsf_treecode_destroy(&t1);
  tmsf_treecode_destroy(&t2);
  tmsf_treecode_destroy(&tree);
  CHECK(tree == NULL, "destroy does not clear the handle");

  /* B = curl A: fourth-order central differences of A (h = 0.5 mm, targets
   * >= 5 mm from every source: truncation ~ (h/d)^4 = 1e-4 at worst, so
   * 1e-3 of |B|), A from the tightest table entry so that the switches
   * between proxy and direct sums do not show */
  {
    const int64_t nc = 50;
    const double h = 5e-4;
    double *pts = malloc(sizeof(double) * 3 * 12 * nc), *Ap = malloc(sizeof(double) * 3 * 12 * nc);
    double *Bc = malloc(sizeof(double) * 3 * nc);
    const double steps[4] = {-2, -1, 1, 2};
    for (int64_t i = 0; i < nc; i++)
      for (int dir = 0; dir < 3; dir++)
        for (int s = 0; s < 4; s++) {
          double *pp = pts + 3 * ((i * 3 + dir) * 4 + s);
          for (int c = 0; c < 3; c++) pp[c] = r[3 * i + c] + (c == dir ? steps[s] * h : 0.0);
        }
    tmsf_treecode_params p;
    REQUIRE_OK(ctx, tmsf_treecode_params_for_tolerance(ctx, 1e-7, &p));
    tmsf_treecode *tight;
    REQUIRE_OK(ctx, tmsf_treecode_create(ctx, n, x, q, &p, &tight));
    CHECK_OK(ctx, tmsf_treecode_eval(tight, 12 * nc, pts, Ap, NULL));
    CHECK_OK(ctx, tmsf_treecode_eval(tight, nc, r, NULL, Bc));
    tmsf_treecode_destroy(&tight);
    double emax = 0;
    for (int64_t i = 0; i < nc; i++) {
      double g[3][3]; /* g[dir][comp] = d A_comp / d x_dir */
      for (int dir = 0; dir < 3; dir++)
        for (int c = 0; c < 3; c++) {
          const double *a = Ap + 3 * ((i * 3 + dir) * 4);
          g[dir][c] = (a[c] - 8 * a[3 + c] + 8 * a[6 + c] - a[9 + c]) / (12 * h);
        }
      double curl[3] = {g[1][2] - g[2][1], g[2][0] - g[0][2], g[0][1] - g[1][0]};
      double d2 = 0, b2 = 0;
      for (int c = 0; c < 3; c++) {
        d2 += (curl[c] - Bc[3 * i + c]) * (curl[c] - Bc[3 * i + c]);
        b2 += Bc[3 * i + c] * Bc[3 * i + c];
      }
      emax = fmax(emax, sqrt(d2 / b2));
    }
    printf("curl check: max |curl A - B| / |B| = %.2e\n", emax);
    CHECK(emax < 1e-3, "B is not the curl of A: %.3g", emax);
    free(pts);
    free(Ap);
    free(Bc);
  }
  free(A1);
  free(B1);
  free(A2);
  free(B2);
  free(A);
  free(B);
  free(x);
  free(q);
  free(r);
  free(Aref);
  free(Bref);
}

/* Treecode (small leaves, so that the tree is used) against the reference. */
static void check_small(tmsf_context *ctx, const char *what, int64_t n, const double *x, const double *q,
                        int64_t m, const double *r, double tiny, double tol) {
  double *A = calloc(3 * (size_t)m + 1, sizeof(double)), *B = calloc(3 * (size_t)m + 1, sizeof(double));
  double *Ar = calloc(3 * (size_t)m + 1, sizeof(double)), *Br = calloc(3 * (size_t)m + 1, sizeof(double));
  tmsf_treecode_params p = {0};
  p.leaf_size = 4;
  p.batch_size = 4;
  CHECK_OK(ctx, tmsf_treecode_evaluate(ctx, n, x, q, m, r, &p, A, B));
  reference(n, x, q, m, r, tiny, Ar, Br);
  for (int64_t i = 0; i < 3 * m; i++) {
    CHECK(isfinite(A[i]) && isfinite(B[i]), "%s: value %lld not finite", what, (long long)i);
  }
  double ea = rms_error(m, A, Ar, NULL), eb = rms_error(m, B, Br, NULL);
  printf("%s: A %.2e, B %.2e\n", what, ea, eb);
  CHECK(ea <= tol && eb <= tol, "%s: errors %.3g %.3g above %.3g", what, ea, eb, tol);
  free(A);
  free(B);
  free(Ar);
  free(Br);
}

static void test_edges(tmsf_context *ctx) {
  /* one source */
  const double x1[3] = {0.01, 0.02, 0.03}, q1[3] = {1, -2, 3};
  double r1[6] = {0.1, 0, 0, 0, 0.1, 0.05};
  check_small(ctx, "one source", 1, x1, q1, 2, r1, 0, 1e-15);

  /* no targets; no outputs asked for */
  CHECK_OK(ctx, tmsf_treecode_evaluate(ctx, 1, x1, q1, 0, NULL, NULL, NULL, NULL));
  CHECK_OK(ctx, tmsf_treecode_evaluate(ctx, 1, x1, q1, 2, r1, NULL, NULL, NULL));

  /* no sources: zero fields */
  double A0[6] = {1, 1, 1, 1, 1, 1}, B0[6] = {1, 1, 1, 1, 1, 1};
  CHECK_OK(ctx, tmsf_treecode_evaluate(ctx, 0, NULL, NULL, 2, r1, NULL, A0, B0));
  for (int i = 0; i < 6; i++) CHECK(A0[i] == 0 && B0[i] == 0, "no sources: value %d not 0", i);

  /* targets on sources (and off them) among 2000 random sources */
  {
    const int64_t n = 2000, m = 300;
    double *x = malloc(sizeof(double) * 3 * n), *q = malloc(sizeof(double) * 3 * n);
    double *r = malloc(sizeof(double) * 3 * m);
    for (int64_t k = 0; k < 3 * n; k++) {
      x[k] = 0.1 * urand();
      q[k] = urand() - 0.5;
    }
    for (int64_t i = 0; i < m; i++)
      for (int c = 0; c < 3; c++) r[3 * i + c] = i % 2 ? x[3 * ((7 * i) % n) + c] : 0.1 * urand();
    /* the coincidence distance is 1e-12 of the box (0.1 m): 1e-13 m */
    check_small(ctx, "targets on sources", n, x, q, m, r, 1e-13, 1e-3);

    /* all sources at one point, targets around it and on it */
    for (int64_t k = 0; k < n; k++)
      for (int c = 0; c < 3; c++) x[3 * k + c] = 0.05;
    for (int c = 0; c < 3; c++) r[c] = 0.05;
    /* (the far field is summed in single precision: 1e-6) */
    check_small(ctx, "sources at one point", n, x, q, m, r, 1e-14, 1e-6);

    /* sources on the plane z = 0.02 (flat boxes), targets off it */
    for (int64_t k = 0; k < n; k++) {
      x[3 * k] = 0.1 * urand();
      x[3 * k + 1] = 0.1 * urand();
      x[3 * k + 2] = 0.02;
    }
    for (int64_t i = 0; i < m; i++) r[3 * i + 2] = 0.05 + 0.02 * urand();
    check_small(ctx, "sources on a plane", n, x, q, m, r, 0, 1e-3);

    /* two clusters of duplicated points */
    for (int64_t k = 0; k < n; k++)
      for (int c = 0; c < 3; c++) x[3 * k + c] = k % 2 ? 0.01 : 0.0;
    check_small(ctx, "two duplicated points", n, x, q, m, r, 0, 1e-6);
    free(x);
    free(q);
    free(r);
  }

  /* bad input */
  double bad[3] = {0, NAN, 0};
  tmsf_treecode *t = NULL;
  CHECK(tmsf_treecode_create(ctx, 1, bad, q1, NULL, &t) == TMSF_ERR_ARGUMENT && !t, "NaN source accepted");
  CHECK(strstr(tmsf_context_last_error(ctx), "source position 0") != NULL, "message: %s",
        tmsf_context_last_error(ctx));
  CHECK(tmsf_treecode_create(ctx, -1, x1, q1, NULL, &t) == TMSF_ERR_ARGUMENT, "negative n accepted");
  tmsf_treecode_params p = {0};
  p.theta = 1.5;
  CHECK(tmsf_treecode_create(ctx, 1, x1, q1, &p, &t) == TMSF_ERR_ARGUMENT, "theta 1.5 accepted");
  p.theta = 0;
  p.degree = 40;
  CHECK(tmsf_treecode_create(ctx, 1, x1, q1, &p, &t) == TMSF_ERR_ARGUMENT, "degree 40 accepted");
  CHECK(tmsf_treecode_params_for_tolerance(ctx, -1, &p) == TMSF_ERR_ARGUMENT, "tolerance -1 accepted");
  REQUIRE_OK(ctx, tmsf_treecode_create(ctx, 1, x1, q1, NULL, &t));
  double A[3];
  CHECK(tmsf_treecode_eval(t, 1, bad, A, NULL) == TMSF_ERR_ARGUMENT, "NaN target accepted");
  tmsf_treecode_destroy(&t);
  tmsf_treecode_destroy(&t);
  tmsf_treecode_destroy(NULL);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  test_ball(ctx);
  test_sphere(ctx);
  test_edges(ctx);
  tmsf_context_destroy(&ctx);
  return test_summary("treecode");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-dose.c: stimulator output and its limits, target regions, field metrics,
 * the dose for a target field and the motor-threshold transfer, on SimNIBS's
 * three-layer sphere (data/spheres/sphere3.msh: tag 3 r < 85 mm, 4 to 90 mm,
 * 5 to 95 mm) with the MagVenture MC-B70 (dIdtmax 155.33 A/us, Drakaki et
 * al. 2022).
 *
 * References and tolerances:
 *  - %MSO <-> dI/dt: the .ccd header's 155.33 A/us; exact up to rounding (1e-15).
 *  - regions: recounted here from the centroids (exact).
 *  - metrics: synthetic fields with known answers (constant and radial E),
 *    and the percentile against tmsf_field_magnE_percentiles on the same
 *    elements (exact: same rule); the cortical normal against the radial
 *    direction of the sphere (facets of ~4 mm on r = 85 mm: cos > 0.99).
 *  - linearity: solves at 1 and 2.5 A/us with the direct solver (1e-9).
 *  - dose and transfer (issue 4): re-simulate at the returned %MSO, with a
 *    separate simulation and the iterative "cg" solver at the default field
 *    tolerance (1e-4 relative L2), and evaluate the metric: within 0.5 %.
 */
#include "test-common.h"
#include "test-mesh.h"

#include "tmsf-impl.h"

static double metric_at(tmsf_context *ctx, tmsf_simulation *sim, const tmsf_coil *coil, const double P[16],
                        double didt, const tmsf_metric *m, tmsf_region *region) {
  tmsf_field *f = NULL;
  REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, P, didt, &f));
  double v = NAN;
  CHECK_OK(ctx, tmsf_metric_evaluate(m, region, f, &v));
  tmsf_field_destroy(&f);
  return v;
}

/* Distance from p to triangle abc, written independently of the library: the
 * distance to the plane when the projection falls inside (all barycentric
 * coordinates >= 0), else the nearest of the three edges (segments). */
static double seg_dist(const double p[3], const double a[3], const double b[3]) {
  double ab[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, ap[3] = {p[0] - a[0], p[1] - a[1], p[2] - a[2]};
  double t = (ab[0] * ap[0] + ab[1] * ap[1] + ab[2] * ap[2]) / (ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2]);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  double d[3] = {ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]};
  return sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
}
static double tri_dist(const double p[3], const double a[3], const double b[3], const double c[3], double n[3]) {
  double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
  n[0] = u[1] * v[2] - u[2] * v[1], n[1] = u[2] * v[0] - u[0] * v[2], n[2] = u[0] * v[1] - u[1] * v[0];
  double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  for (int k = 0; k < 3; k++) n[k] /= len;
  double h = (p[0] - a[0]) * n[0] + (p[1] - a[1]) * n[1] + (p[2] - a[2]) * n[2];
  double q[3] = {p[0] - h * n[0], p[1] - h * n[1], p[2] - h * n[2]};
  /* barycentric coordinates of q from sub-triangle areas along n */
  const double *P3[3] = {a, b, c};
  int inside = 1;
  for (int i = 0; i < 3; i++) {
    const double *x = P3[(i + 1) % 3], *y = P3[(i + 2) % 3];
    double e[3] = {y[0] - x[0], y[1] - x[1], y[2] - x[2]}, w[3] = {q[0] - x[0], q[1] - x[1], q[2] - x[2]};
    double cr[3] = {e[1] * w[2] - e[2] * w[1], e[2] * w[0] - e[0] * w[2], e[0] * w[1] - e[1] * w[0]};
    inside &= cr[0] * n[0] + cr[1] * n[1] + cr[2] * n[2] >= 0;
  }
  if (inside) return fabs(h);
  return fmin(seg_dist(p, a, b), fmin(seg_dist(p, b, c), seg_dist(p, c, a)));
}

/* A region centre 80 mm from the sphere's centre beneath a pose's coil centre. */
static void centre_beneath(const double P[16], double depth_r_m, double c[3]) {
  double n = sqrt(P[3] * P[3] + P[7] * P[7] + P[11] * P[11]);
  c[0] = P[3] / n * depth_r_m, c[1] = P[7] / n * depth_r_m, c[2] = P[11] / n * depth_r_m;
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  tmsf_mesh *mesh;
  tmsf_coil *coil, *magstim;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/drakaki2022/MagVenture_MC-B70.ccd"), &coil));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &magstim));
  int64_t nn, ne;
  tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
  const double *nodes;
  const int32_t *tets, *tags;
  tmsf_mesh_get_nodes(mesh, &nodes);
  tmsf_mesh_get_tetrahedra(mesh, &tets, &tags);

  /* ---- 1. stimulator output and limits ---- */
  {
    double dmax, didt, mso;
    int clamped = -1;
    REQUIRE_OK(ctx, tmsf_coil_get_didt_max(coil, &dmax));
    CHECK_REL(dmax, 155.33e6, 1e-15, "MC-B70 dIdtmax");
    CHECK_OK(ctx, tmsf_dose_mso_to_didt(coil, 100.0, TMSF_DOSE_STRICT, &didt, &clamped));
    CHECK_REL(didt, 155.33e6, 1e-15, "MC-B70 at 100 % MSO is 155.33 A/us");
    CHECK(clamped == 0, "100 %% is not clamped");
    CHECK_OK(ctx, tmsf_dose_mso_to_didt(coil, 50.0, TMSF_DOSE_STRICT, &didt, NULL));
    CHECK_REL(didt, 77.665e6, 1e-15, "50 % MSO");
    CHECK_OK(ctx, tmsf_dose_didt_to_mso(coil, 77.665e6, TMSF_DOSE_STRICT, &mso, NULL));
    CHECK_REL(mso, 50.0, 1e-14, "77.665 A/us is 50 % MSO");
    CHECK_OK(ctx, tmsf_dose_didt_to_mso(coil, dmax, TMSF_DOSE_STRICT, &mso, NULL));
    CHECK(mso == 100.0, "dI/dt max is exactly 100 %% (%.17g)", mso);
    for (double p = 0.0; p <= 100.0; p += 0.7) { /* round trips never trip the limit */
      int ierr = tmsf_dose_mso_to_didt(coil, p, TMSF_DOSE_STRICT, &didt, NULL);
      ierr |= tmsf_dose_didt_to_mso(coil, didt, TMSF_DOSE_STRICT, &mso, NULL);
      CHECK(ierr == 0 && fabs(mso - p) <= 1e-13 * (p + 1), "round trip %g -> %g", p, mso);
    }
    /* beyond the limits: errors naming the request, the limit and the coil */
    didt = -1;
    int ierr = tmsf_dose_mso_to_didt(coil, 101.0, TMSF_DOSE_STRICT, &didt, &clamped);
    const char *msg = tmsf_context_last_error(ctx);
    printf("101 %% MSO: %s\n", msg);
    CHECK(ierr == TMSF_ERR_LIMIT && didt == -1, "101 %% MSO fails with TMSF_ERR_LIMIT (%d)", ierr);
    CHECK(strstr(msg, "101 % MSO") && strstr(msg, "100 % MSO") && strstr(msg, "MC-B70") && strstr(msg, "clamp"),
          "message: %s", msg);
    ierr = tmsf_dose_didt_to_mso(coil, 160e6, TMSF_DOSE_STRICT, &mso, NULL);
    msg = tmsf_context_last_error(ctx);
    printf("160 A/us: %s\n", msg);
    CHECK(ierr == TMSF_ERR_LIMIT && strstr(msg, "160 A/us") && strstr(msg, "155.33 A/us"), "dI/dt above max: %s", msg);
    ierr = tmsf_dose_mso_to_didt(coil, -1.0, TMSF_DOSE_STRICT, &didt, NULL);
    CHECK(ierr == TMSF_ERR_LIMIT && strstr(tmsf_context_last_error(ctx), "negative"), "negative %%MSO: %s",
          tmsf_context_last_error(ctx));
    ierr = tmsf_dose_mso_to_didt(coil, NAN, TMSF_DOSE_CLAMP, &didt, NULL);
    CHECK(ierr == TMSF_ERR_ARGUMENT, "NaN fails even with a clamp (%d)", ierr);
    ierr = tmsf_dose_didt_to_mso(coil, INFINITY, TMSF_DOSE_CLAMP, &mso, NULL);
    CHECK(ierr == TMSF_ERR_ARGUMENT, "infinite dI/dt fails even with a clamp (%d)", ierr);
    ierr = tmsf_dose_mso_to_didt(coil, 50.0, 4, &didt, NULL);
    CHECK(ierr == TMSF_ERR_ARGUMENT, "unknown flags (%d)", ierr);
    /* clamps */
    CHECK_OK(ctx, tmsf_dose_mso_to_didt(coil, 101.0, TMSF_DOSE_CLAMP, &didt, &clamped));
    CHECK(didt == dmax && clamped == 1, "101 %% clamped to dI/dt max (%g, flag %d)", didt, clamped);
    CHECK_OK(ctx, tmsf_dose_didt_to_mso(coil, 200e6, TMSF_DOSE_CLAMP, &mso, &clamped));
    CHECK(mso == 100.0 && clamped == 1, "200 A/us clamped to 100 %% (%g, flag %d)", mso, clamped);
    CHECK_OK(ctx, tmsf_dose_mso_to_didt(coil, -5.0, TMSF_DOSE_CLAMP, &didt, &clamped));
    CHECK(didt == 0.0 && clamped == 1, "-5 %% clamped to 0");
    CHECK_OK(ctx, tmsf_dose_mso_to_didt(coil, 50.0, TMSF_DOSE_CLAMP, &didt, &clamped));
    CHECK(clamped == 0 && fabs(didt - 77.665e6) < 1e-6, "50 %% with a clamp allowed: not clamped");
    /* a coil without dIdtmax */
    ierr = tmsf_dose_mso_to_didt(magstim, 50.0, TMSF_DOSE_STRICT, &didt, NULL);
    CHECK(ierr == TMSF_ERR_NOT_FOUND && strstr(tmsf_context_last_error(ctx), "dIdtmax"),
          "no dIdtmax: %d %s", ierr, tmsf_context_last_error(ctx));
  }

  /* ---- 2. regions ---- */
  const double cA[3] = {0, 0, 0.080};
  const int32_t tag3 = 3;
  tmsf_region *rA = NULL;
  {
    REQUIRE_OK(ctx, tmsf_region_create_sphere(mesh, cA, 0.010, 1, &tag3, &rA));
    int64_t n;
    const int64_t *el;
    double vol;
    tmsf_region_get_elements(rA, &n, &el);
    tmsf_region_get_volume(rA, &vol);
    int64_t want = 0, same = 1;
    double wvol = 0.0;
    for (int64_t e = 0; e < ne; e++) {
      double c[3] = {0, 0, 0};
      for (int q = 0; q < 4; q++)
        for (int k = 0; k < 3; k++) c[k] += 0.25 * nodes[3 * tets[4 * e + q] + k];
      double d = sqrt(c[0] * c[0] + c[1] * c[1] + (c[2] - 0.08) * (c[2] - 0.08));
      if (tags[e] == 3 && d <= 0.010) {
        same &= want < n && el[want] == e;
        want++;
        double g[4][3];
        wvol += test_tet_gradients(nodes, tets + 4 * e, g) / 6.0;
      }
    }
    printf("region A: %lld tetrahedra of tag 3 within 10 mm of (0, 0, 80) mm, %.4g mm^3\n", (long long)n, vol * 1e9);
    CHECK(n == want && same && n > 20, "region elements: %lld, recounted %lld", (long long)n, (long long)want);
    CHECK_REL(vol, wvol, 1e-12, "region volume");
    double c[3], r;
    tmsf_region_kind kind;
    int nt;
    const int32_t *rt;
    tmsf_region_get_sphere(rA, c, &r);
    tmsf_region_get_kind(rA, &kind);
    tmsf_region_get_tags(rA, &nt, &rt);
    CHECK(kind == TMSF_REGION_SPHERE && r == 0.010 && c[2] == 0.080 && nt == 1 && rt[0] == 3, "region description");
    CHECK(tmsf_region_get_mesh(rA) == mesh, "region mesh");
    /* the same elements as a list */
    tmsf_region *rl = NULL;
    int64_t *rev = malloc(sizeof(int64_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++) rev[i] = el[n - 1 - i];
    REQUIRE_OK(ctx, tmsf_region_create_elements(mesh, n, rev, &rl));
    int64_t n2;
    const int64_t *el2;
    double vol2;
    tmsf_region_get_elements(rl, &n2, &el2);
    tmsf_region_get_volume(rl, &vol2);
    tmsf_region_get_kind(rl, &kind);
    CHECK(n2 == n && !memcmp(el, el2, sizeof(int64_t) * (size_t)n) && kind == TMSF_REGION_ELEMENTS,
          "element-list region sorts its elements");
    CHECK_REL(vol2, vol, 1e-12, "element-list region volume");
    tmsf_region_get_sphere(rl, c, &r);
    CHECK(fabs(c[2] - 0.08) < 0.003 && r <= 0.0101, "element-list centre (%g mm) and radius (%g mm)", c[2] * 1e3,
          r * 1e3);
    tmsf_region_destroy(&rl);
    CHECK(rl == NULL, "destroy clears");
    /* bad lists */
    rev[1] = rev[0];
    CHECK(tmsf_region_create_elements(mesh, n, rev, &rl) == TMSF_ERR_ARGUMENT && !rl &&
              strstr(tmsf_context_last_error(ctx), "more than once"),
          "repeated element: %s", tmsf_context_last_error(ctx));
    rev[1] = ne;
    CHECK(tmsf_region_create_elements(mesh, n, rev, &rl) == TMSF_ERR_ARGUMENT && !rl &&
              strstr(tmsf_context_last_error(ctx), "outside"),
          "element out of range: %s", tmsf_context_last_error(ctx));
    CHECK(tmsf_region_create_elements(mesh, 0, rev, &rl) == TMSF_ERR_ARGUMENT && !rl, "empty list");
    free(rev);
    /* empty regions */
    int ierr = tmsf_region_create_sphere(mesh, cA, 0.010, 0, NULL, &rl);
    printf("default tags on the sphere: %s\n", tmsf_context_last_error(ctx));
    CHECK(ierr == TMSF_ERR_NOT_FOUND && !rl && strstr(tmsf_context_last_error(ctx), "tag 2") &&
              strstr(tmsf_context_last_error(ctx), "3, 4, 5"),
          "no grey matter on the sphere: %s", tmsf_context_last_error(ctx));
    const double far[3] = {0, 0, 0.2};
    ierr = tmsf_region_create_sphere(mesh, far, 0.005, 1, &tag3, &rl);
    printf("empty region: %s\n", tmsf_context_last_error(ctx));
    CHECK(ierr == TMSF_ERR_NOT_FOUND && !rl && strstr(tmsf_context_last_error(ctx), "empty") &&
              strstr(tmsf_context_last_error(ctx), "nearest"),
          "empty region: %s", tmsf_context_last_error(ctx));
    CHECK(tmsf_region_create_sphere(mesh, cA, -1.0, 1, &tag3, &rl) == TMSF_ERR_ARGUMENT, "negative radius");
    CHECK(tmsf_region_create_sphere(mesh, cA, NAN, 1, &tag3, &rl) == TMSF_ERR_ARGUMENT, "NaN radius");
  }

  /* ---- 3. metrics on synthetic fields ---- */
  {
    tmsf_field *f;
    REQUIRE_OK(ctx, tmsf_field_alloc(ctx, mesh, &f));
    f->didt = 1e6;
    for (int64_t e = 0; e < ne; e++) f->E[3 * e] = 1, f->E[3 * e + 1] = 2, f->E[3 * e + 2] = 3;
    tmsf_metric m;
    double v;
    CHECK_OK(ctx, tmsf_metric_parse(ctx, "mean", &m));
    CHECK_OK(ctx, tmsf_metric_evaluate(&m, rA, f, &v));
    CHECK_REL(v, sqrt(14.0), 1e-14, "mean |E| of a constant field");
    CHECK_OK(ctx, tmsf_metric_parse(ctx, "p99", &m));
    CHECK(m.kind == TMSF_METRIC_PERCENTILE && m.percentile == 99.0, "p99 parsed");
    CHECK_OK(ctx, tmsf_metric_evaluate(&m, rA, f, &v));
    CHECK_REL(v, sqrt(14.0), 1e-15, "p99 of a constant field");
    CHECK_OK(ctx, tmsf_metric_parse(ctx, "dir:0,0,2", &m));
    CHECK_OK(ctx, tmsf_metric_evaluate(&m, rA, f, &v));
    CHECK_REL(v, 3.0, 1e-14, "mean E along z (direction normalised)");
    CHECK_OK(ctx, tmsf_metric_parse(ctx, "dir:1,-1,0", &m));
    CHECK_OK(ctx, tmsf_metric_evaluate(&m, rA, f, &v));
    CHECK_REL(v, -1.0 / sqrt(2.0), 1e-14, "mean E along (1,-1,0)");
    /* radial unit field: the normal metric on surface 1003 is ~1 */
    for (int64_t e = 0; e < ne; e++) {
      double c[3] = {0, 0, 0};
      for (int q = 0; q < 4; q++)
        for (int k = 0; k < 3; k++) c[k] += 0.25 * nodes[3 * tets[4 * e + q] + k];
      double r = sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
      for (int k = 0; k < 3; k++) f->E[3 * e + k] = c[k] / r;
    }
    CHECK_OK(ctx, tmsf_metric_parse(ctx, "normal:1003", &m));
    CHECK(m.kind == TMSF_METRIC_NORMAL && m.surface_tag == 1003, "normal:1003 parsed");
    CHECK_OK(ctx, tmsf_metric_evaluate(&m, rA, f, &v));
    printf("radial field, mean E along the 1003 normal on region A: %.6f\n", v);
    CHECK(v > 0.995 && v <= 1.0 + 1e-12, "normal metric of a radial unit field: %.6f", v);
    /* the normals themselves, on each surface, against the radial direction
     * (outward from tissue 3 at r = 85, 4 at 90, 5 at 95 mm) */
    const int32_t surf[3] = {1003, 1004, 1005};
    const double rad[3] = {0.085, 0.090, 0.095};
    for (int s = 0; s < 3; s++) {
      int32_t tissue = surf[s] - 1000;
      const double cc[3] = {0.02, -0.01, rad[s] - 0.002};
      tmsf_region *rs = NULL;
      REQUIRE_OK(ctx, tmsf_region_create_sphere(mesh, cc, 0.008, 1, &tissue, &rs));
      const double *nrm;
      REQUIRE_OK(ctx, tmsf_region_get_normals(rs, surf[s], &nrm));
      int64_t n;
      const int64_t *el;
      tmsf_region_get_elements(rs, &n, &el);
      double worst = 1.0;
      for (int64_t i = 0; i < n; i++) {
        double c[3] = {0, 0, 0};
        for (int q = 0; q < 4; q++)
          for (int k = 0; k < 3; k++) c[k] += 0.25 * nodes[3 * tets[4 * el[i] + q] + k];
        double r = sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
        double d = (nrm[3 * i] * c[0] + nrm[3 * i + 1] * c[1] + nrm[3 * i + 2] * c[2]) / r;
        double len = sqrt(nrm[3 * i] * nrm[3 * i] + nrm[3 * i + 1] * nrm[3 * i + 1] + nrm[3 * i + 2] * nrm[3 * i + 2]);
        CHECK(fabs(len - 1.0) < 1e-12, "unit normal");
        if (d < worst) worst = d;
      }
      printf("surface %d, %lld tetrahedra of tag %d: smallest cosine between normal and radial %.5f\n",
             (int)surf[s], (long long)n, (int)tissue, worst);
      CHECK(worst > 0.99, "surface %d normals radial and outward: worst cosine %.5f", (int)surf[s], worst);
      tmsf_region_destroy(&rs);
    }
    /* the nearest triangle, against a brute-force search over every triangle of
     * 1003 with the distance above, on a larger region (tag 3 within 30 mm) */
    {
      const double cc[3] = {0.01, 0.02, 0.07};
      tmsf_region *rs = NULL;
      REQUIRE_OK(ctx, tmsf_region_create_sphere(mesh, cc, 0.030, 1, &tag3, &rs));
      const double *nrm;
      REQUIRE_OK(ctx, tmsf_region_get_normals(rs, 1003, &nrm));
      int64_t n, ntri;
      const int64_t *el;
      const int32_t *tris, *ttags;
      tmsf_region_get_elements(rs, &n, &el);
      tmsf_mesh_get_sizes(mesh, NULL, NULL, &ntri);
      tmsf_mesh_get_triangles(mesh, &tris, &ttags);
      int64_t agree = 0;
      for (int64_t i = 0; i < n; i++) {
        double c[3] = {0, 0, 0}, best = INFINITY, bn[3] = {0, 0, 0}, second = INFINITY;
        for (int q = 0; q < 4; q++)
          for (int k = 0; k < 3; k++) c[k] += 0.25 * nodes[3 * tets[4 * el[i] + q] + k];
        for (int64_t t = 0; t < ntri; t++) {
          if (ttags[t] != 1003) continue;
          double tn[3];
          double d = tri_dist(c, nodes + 3 * tris[3 * t], nodes + 3 * tris[3 * t + 1], nodes + 3 * tris[3 * t + 2], tn);
          if (d < best) {
            second = best, best = d;
            memcpy(bn, tn, sizeof(bn));
          } else if (d < second) {
            second = d;
          }
        }
        double dot = fabs(bn[0] * nrm[3 * i] + bn[1] * nrm[3 * i + 1] + bn[2] * nrm[3 * i + 2]);
        /* ties (a centroid as near to two triangles, e.g. on a shared edge) may pick either */
        agree += dot > 1 - 1e-12 || second - best < 1e-12;
      }
      printf("nearest 1003 triangle of %lld tetrahedra: %lld agree with a brute-force search\n", (long long)n,
             (long long)agree);
      CHECK(agree == n && n > 100, "nearest triangle: %lld of %lld agree", (long long)agree, (long long)n);
      tmsf_region_destroy(&rs);
    }
    /* the default surface (1002) does not exist on the sphere */
    CHECK_OK(ctx, tmsf_metric_parse(ctx, "normal", &m));
    CHECK(m.surface_tag == 1002, "normal defaults to 1002");
    int ierr = tmsf_metric_evaluate(&m, rA, f, &v);
    CHECK(ierr == TMSF_ERR_NOT_FOUND && strstr(tmsf_context_last_error(ctx), "1002") &&
              strstr(tmsf_context_last_error(ctx), "1003, 1004, 1005"),
          "no GM surface: %s", tmsf_context_last_error(ctx));
    /* percentiles: the same rule as tmsf_field_magnE_percentiles, here on all of tag 3 */
    for (int64_t e = 0; e < ne; e++) {
      double c[3] = {0, 0, 0};
      for (int q = 0; q < 4; q++)
        for (int k = 0; k < 3; k++) c[k] += 0.25 * nodes[3 * tets[4 * e + q] + k];
      f->E[3 * e] = c[0] * c[0] + 3 * c[1], f->E[3 * e + 1] = c[2], f->E[3 * e + 2] = 0.1 * c[0];
    }
    int64_t n3 = 0;
    int64_t *all3 = malloc(sizeof(int64_t) * (size_t)ne);
    for (int64_t e = 0; e < ne; e++)
      if (tags[e] == 3) all3[n3++] = e;
    tmsf_region *r3;
    REQUIRE_OK(ctx, tmsf_region_create_elements(mesh, n3, all3, &r3));
    free(all3);
    const double pcts[4] = {0, 50, 99, 100};
    double want[4];
    CHECK_OK(ctx, tmsf_field_magnE_percentiles(f, 3, 4, pcts, want));
    for (int j = 0; j < 4; j++) {
      m.kind = TMSF_METRIC_PERCENTILE;
      m.percentile = pcts[j];
      CHECK_OK(ctx, tmsf_metric_evaluate(&m, r3, f, &v));
      CHECK(v == want[j], "p%g %.17g vs tmsf_field_magnE_percentiles %.17g", pcts[j], v, want[j]);
    }
    tmsf_region_destroy(&r3);
    /* names and descriptions */
    char name[TMSF_METRIC_NAME_LEN], desc[TMSF_METRIC_DESCRIPTION_LEN];
    const char *texts[] = {"mean", "p99", "p99.9", "p1", "p2", "p3", "p11", "dir:0,1,0", "normal:1003"};
    const char *want_desc[] = {"mean |E|", "99th percentile", "99.9th percentile", "1st percentile",
                               "2nd percentile", "3rd percentile", "11th percentile",
                               "mean E along (0.0000, 1.0000, 0.0000)",
                               "normal of surface 1003"};
    for (int j = 0; j < 9; j++) {
      tmsf_metric m2;
      CHECK_OK(ctx, tmsf_metric_parse(ctx, texts[j], &m));
      CHECK_OK(ctx, tmsf_metric_name(&m, name, sizeof(name)));
      CHECK_OK(ctx, tmsf_metric_describe(&m, desc, sizeof(desc)));
      CHECK(!strcmp(name, texts[j]), "name of %s: %s", texts[j], name);
      CHECK(strstr(desc, want_desc[j]) != NULL, "description of %s: %s", texts[j], desc);
      CHECK_OK(ctx, tmsf_metric_parse(ctx, name, &m2));
      CHECK(!memcmp(&m, &m2, sizeof(m)), "%s parses back", name);
    }
    const char *bad[] = {"", "max", "p", "p101", "p-1", "pabc", "dir:", "dir:1,2", "dir:0,0,0", "dir:1,2,3,4",
                         "normal:", "normal:x", "normal:-3", "mean "};
    for (int j = 0; j < (int)(sizeof(bad) / sizeof(bad[0])); j++) {
      int e2 = tmsf_metric_parse(ctx, bad[j], &m);
      CHECK(e2 == TMSF_ERR_ARGUMENT && strlen(tmsf_context_last_error(ctx)) > 10, "bad metric '%s' rejected: %d",
            bad[j], e2);
    }
    tmsf_field_destroy(&f);
  }

  /* ---- 4. linearity, dose for a target field ---- */
  double PA[16], PB[16];
  const double yA[3] = {0, 1, 0}, cpA[3] = {0, 0, 0.095};
  const double yB[3] = {1, 1, 0}, cpB[3] = {0.05, 0.02, 0.08};
  REQUIRE_OK(ctx, tmsf_pose_from_centre(mesh, cpA, yA, 0.004, PA));
  REQUIRE_OK(ctx, tmsf_pose_from_centre(mesh, cpB, yB, 0.006, PB));
  tmsf_simulation *sim, *check_sim;
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &sim)); /* default solver: "auto" */
  REQUIRE_OK(ctx, tmsf_simulation_setup(sim));
  const char *auto_solver;
  tmsf_simulation_get_solver(sim, &auto_solver);
  /* an independent check: another simulation with the iterative solver at the
   * default field tolerance */
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &check_sim));
  REQUIRE_OK(ctx, tmsf_simulation_set_solver(check_sim, "cg"));
  REQUIRE_OK(ctx, tmsf_simulation_setup(check_sim));
  printf("dose solver: %s; check solver: cg, field tolerance 1e-4\n", auto_solver);

  /* the mean field direction at region A, for the direction metric */
  double dirA[3] = {0, 0, 0};
  {
    tmsf_field *f1, *f2;
    REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, PA, 1e6, &f1));
    REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, PA, 2.5e6, &f2));
    int64_t n;
    const int64_t *el;
    tmsf_region_get_elements(rA, &n, &el);
    for (int64_t i = 0; i < n; i++)
      for (int k = 0; k < 3; k++) dirA[k] += f1->E[3 * el[i] + k];
    char dtext[128];
    snprintf(dtext, sizeof(dtext), "dir:%.6f,%.6f,%.6f", dirA[0], dirA[1], dirA[2]);
    const char *ms[] = {"mean", "p99", "p50", dtext, "normal:1003"};
    for (int j = 0; j < 5; j++) {
      tmsf_metric m;
      double v1, v2;
      CHECK_OK(ctx, tmsf_metric_parse(ctx, ms[j], &m));
      CHECK_OK(ctx, tmsf_metric_evaluate(&m, rA, f1, &v1));
      CHECK_OK(ctx, tmsf_metric_evaluate(&m, rA, f2, &v2));
      printf("linearity %-28s %10.5f V/m at 1 A/us, ratio at 2.5 A/us %.12f\n", ms[j], v1, v2 / v1);
      CHECK(fabs(v2 / v1 - 2.5) < 1e-9 * 2.5 || (j == 4 && fabs(v2 - 2.5 * v1) < 1e-9 * fabs(v2)),
            "%s scales linearly with dI/dt: ratio %.15g", ms[j], v2 / v1);
    }
    tmsf_field_destroy(&f1);
    tmsf_field_destroy(&f2);
  }

  {
    char dtext[128];
    snprintf(dtext, sizeof(dtext), "dir:%.6f,%.6f,%.6f", dirA[0], dirA[1], dirA[2]);
    const char *ms[] = {"mean", "p99", dtext};
    const double targets[] = {60.0, 100.0, 80.0};
    for (int j = 0; j < 3; j++) {
      tmsf_metric m;
      CHECK_OK(ctx, tmsf_metric_parse(ctx, ms[j], &m));
      tmsf_dose_result r;
      REQUIRE_OK(ctx, tmsf_dose_for_target(sim, coil, PA, rA, &m, targets[j], &r));
      double didt;
      REQUIRE_OK(ctx, tmsf_dose_mso_to_didt(coil, r.mso_percent, TMSF_DOSE_STRICT, &didt, NULL));
      double got = metric_at(ctx, check_sim, coil, PA, didt, &m, rA);
      double got_auto = metric_at(ctx, sim, coil, PA, didt, &m, rA);
      double err = fabs(got - targets[j]) / targets[j], err_auto = fabs(got_auto - targets[j]) / targets[j];
      printf("dose %-26s target %6.1f V/m: %7.3f %% MSO = %7.3f A/us (%.4f V/m per A/us); re-simulated at that "
             "%%MSO: cg %.6f V/m (error %.2e), %s %.6f V/m (error %.2e)\n",
             r.metric_name, targets[j], r.mso_percent, r.didt_A_per_s * 1e-6, r.metric_per_A_per_us_V_per_m, got, err,
             auto_solver, got_auto, err_auto);
      CHECK(err < 0.005, "%s: re-simulated metric %.6f vs target %.6f (error %.3g > 0.5 %%)", ms[j], got, targets[j],
            err);
      CHECK(err_auto < 0.005, "%s: re-simulated (%s) error %.3g", ms[j], auto_solver, err_auto);
      CHECK(!r.beyond_limit && r.mso_percent < 100.0, "reachable target within the limit");
      CHECK_REL(r.didt_A_per_s, r.mso_percent / 100.0 * 155.33e6, 1e-13, "result's dI/dt and %MSO agree");
      CHECK(!strcmp(r.coil_name, "MC-B70") && r.didt_max_A_per_s == 155.33e6,
            "result names the coil (%s) and its limit",
            r.coil_name);
      int64_t n;
      const int64_t *el;
      double vol;
      tmsf_region_get_elements(rA, &n, &el);
      tmsf_region_get_volume(rA, &vol);
      CHECK(r.region_num_elements == n && r.region_volume_m3 == vol && r.region_radius_m == 0.010 &&
                r.region_num_tags == 1 && r.region_tags[0] == 3 && r.region_centre_m[2] == 0.08,
            "result states the region");
      CHECK(r.target_V_per_m == targets[j] && !memcmp(r.head_from_coil_m, PA, sizeof(PA)), "result target and pose");
      CHECK(!strcmp(r.metric_name, ms[j]) || j == 2, "result metric name %s", r.metric_name);
      /* the roles swapped: the dose from the iterative solver at its default
       * tolerance, checked with the direct one */
      tmsf_dose_result rc;
      REQUIRE_OK(ctx, tmsf_dose_for_target(check_sim, coil, PA, rA, &m, targets[j], &rc));
      REQUIRE_OK(ctx, tmsf_dose_mso_to_didt(coil, rc.mso_percent, TMSF_DOSE_STRICT, &didt, NULL));
      double got_swap = metric_at(ctx, sim, coil, PA, didt, &m, rA);
      double err_swap = fabs(got_swap - targets[j]) / targets[j];
      printf("     dose from cg: %7.3f %% MSO; re-simulated with %s: error %.2e\n", rc.mso_percent, auto_solver,
             err_swap);
      CHECK(err_swap < 0.005, "%s: dose from cg, re-simulated: error %.3g", ms[j], err_swap);
      /* the same from a field at another dI/dt */
      tmsf_field *f;
      REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, PA, 3.7e6, &f));
      tmsf_dose_result r2;
      CHECK_OK(ctx, tmsf_dose_from_field(f, coil, NULL, rA, &m, targets[j], &r2));
      CHECK_REL(r2.mso_percent, r.mso_percent, 1e-9, "dose from a field at 3.7 A/us");
      CHECK(isnan(r2.head_from_coil_m[0]), "no pose recorded: NaN");
      tmsf_field_destroy(&f);
    }
    /* beyond the stimulator: flagged, not clamped; re-simulating there fails */
    tmsf_metric m;
    tmsf_metric_parse(ctx, "mean", &m);
    tmsf_dose_result r;
    REQUIRE_OK(ctx, tmsf_dose_for_target(sim, coil, PA, rA, &m, 1000.0, &r));
    printf("dose mean 1000 V/m: %.1f %% MSO, beyond_limit %d\n", r.mso_percent, r.beyond_limit);
    CHECK(r.beyond_limit && r.mso_percent > 100.0, "1000 V/m is beyond the MC-B70's limit");
    double didt;
    CHECK(tmsf_dose_mso_to_didt(coil, r.mso_percent, TMSF_DOSE_STRICT, &didt, NULL) == TMSF_ERR_LIMIT,
          "and cannot be set strictly");
    /* JSON */
    size_t len = 0;
    CHECK_OK(ctx, tmsf_dose_result_to_json(&r, NULL, 0, &len));
    char *json = malloc(len + 1);
    size_t len2;
    CHECK_OK(ctx, tmsf_dose_result_to_json(&r, json, len + 1, &len2));
    CHECK(len2 == len && strlen(json) == len, "JSON length %zu", len);
    CHECK(strstr(json, "\"beyond_limit\": true") && strstr(json, "\"name\": \"MC-B70\"") &&
              strstr(json, "\"mso_percent\": ") && strstr(json, "\"didt_max_A_per_s\": 155330000") &&
              strstr(json, "\"matsimnibs_mm\": [[") && !strstr(json, "nan"),
          "JSON: %s", json);
    char small[16];
    CHECK_OK(ctx, tmsf_dose_result_to_json(&r, small, sizeof(small), &len2));
    CHECK(len2 == len && strlen(small) == 15, "truncated JSON is NUL-terminated");
    free(json);
    tmsf_dose_result q = r;
    snprintf(q.coil_name, sizeof(q.coil_name), "a\"b\\c\n\x01");
    q.mso_percent = NAN;
    CHECK_OK(ctx, tmsf_dose_result_to_json(&q, NULL, 0, &len));
    json = malloc(len + 1);
    tmsf_dose_result_to_json(&q, json, len + 1, NULL);
    CHECK(strstr(json, "\"a\\\"b\\\\c\\n\\u0001\"") && strstr(json, "\"mso_percent\": null"), "JSON escaping: %s",
          json);
    free(json);
    /* errors */
    CHECK(tmsf_dose_for_target(sim, coil, PA, rA, &m, 0.0, &r) == TMSF_ERR_ARGUMENT, "target 0");
    CHECK(tmsf_dose_for_target(sim, coil, PA, rA, &m, NAN, &r) == TMSF_ERR_ARGUMENT, "target NaN");
    tmsf_metric_parse(ctx, "dir:1,1,1", &m);
    for (int k = 0; k < 3; k++) m.direction[k] = -dirA[k];
    int ierr = tmsf_dose_for_target(sim, coil, PA, rA, &m, 50.0, &r);
    printf("field against the direction: %s\n", tmsf_context_last_error(ctx));
    CHECK(ierr == TMSF_ERR_NUMERIC && strstr(tmsf_context_last_error(ctx), "180"), "negative metric: %s",
          tmsf_context_last_error(ctx));
    /* no dIdtmax: dI/dt only */
    tmsf_metric_parse(ctx, "mean", &m);
    CHECK_OK(ctx, tmsf_dose_for_target(sim, magstim, PA, rA, &m, 50.0, &r));
    CHECK(isnan(r.mso_percent) && isnan(r.didt_max_A_per_s) && r.didt_A_per_s > 0 && !r.beyond_limit,
          "coil without dIdtmax: dI/dt %g, %%MSO NaN", r.didt_A_per_s);
    /* a region of another mesh */
    tmsf_mesh *box;
    REQUIRE_OK(ctx, test_box_mesh(ctx, 2, 0.01, 3, &box));
    tmsf_region *rbox;
    const double bc[3] = {0.01, 0.01, 0.01};
    REQUIRE_OK(ctx, tmsf_region_create_sphere(box, bc, 0.02, 1, &tag3, &rbox));
    CHECK(tmsf_dose_for_target(sim, coil, PA, rbox, &m, 50.0, &r) == TMSF_ERR_ARGUMENT &&
              strstr(tmsf_context_last_error(ctx), "mesh"),
          "region of another mesh: %s", tmsf_context_last_error(ctx));
    tmsf_region_destroy(&rbox);
    tmsf_mesh_destroy(&box);
  }

  /* ---- 5. motor-threshold transfer ---- */
  {
    double cB[3];
    centre_beneath(PB, 0.080, cB);
    tmsf_region *rB;
    REQUIRE_OK(ctx, tmsf_region_create_sphere(mesh, cB, 0.010, 1, &tag3, &rB));
    const double rmt = 45.0;
    /* coil B: the MC-B70 again, or the Magstim 70 mm, whose .ccd gives no
     * dIdtmax: an assumed 150 A/us here, only to have a second coil with a
     * limit */
    tmsf_coil *fig8;
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &fig8));
    REQUIRE_OK(ctx, tmsf_coil_set_didt_max(fig8, 150e6));
    const tmsf_coil *coils_b[2] = {coil, fig8};
    const char *ms[] = {"mean", "p99"};
    for (int j = 0; j < 2; j++)
      for (int c = 0; c < 2; c++) {
        tmsf_metric m;
        tmsf_metric_parse(ctx, ms[j], &m);
        tmsf_dose_result ra, rb;
        REQUIRE_OK(ctx, tmsf_dose_transfer(sim, coil, PA, rA, rmt, coils_b[c], PB, rB, &m, &ra, &rb));
        /* simulate at A with the threshold, at B with the returned %MSO */
        double didt_a = rmt / 100.0 * 155.33e6, dmax_b;
        tmsf_coil_get_didt_max(coils_b[c], &dmax_b);
        double didt_b = rb.mso_percent / 100.0 * dmax_b;
        double va = metric_at(ctx, check_sim, coil, PA, didt_a, &m, rA);
        double vb = metric_at(ctx, check_sim, coils_b[c], PB, didt_b, &m, rB);
        double err = fabs(vb - va) / va;
        printf("transfer %-4s RMT %.0f %% MSO (MC-B70, A: %.3f V/m) -> %s at B: %.3f %% MSO%s; re-simulated (cg): "
               "A %.5f V/m, B %.5f V/m, difference %.2e\n",
               ms[j], rmt, ra.target_V_per_m, rb.coil_name, rb.mso_percent, rb.beyond_limit ? " (beyond limit)" : "",
               va, vb, err);
        CHECK(err < 0.005, "transfer round trip %s to %s: %.3g > 0.5 %%", ms[j], rb.coil_name, err);
        CHECK(ra.mso_percent == rmt && ra.target_V_per_m == rb.target_V_per_m && !ra.beyond_limit,
              "pose A's result states the threshold and the field");
        CHECK(rb.beyond_limit == (rb.mso_percent > 100.0), "beyond_limit flag");
      }
    tmsf_metric m;
    tmsf_metric_parse(ctx, "mean", &m);
    tmsf_dose_result ra, rb;
    int ierr = tmsf_dose_transfer(sim, coil, PA, rA, 101.0, coil, PB, rB, &m, &ra, &rb);
    CHECK(ierr == TMSF_ERR_LIMIT && strstr(tmsf_context_last_error(ctx), "101"), "RMT 101 %%: %s",
          tmsf_context_last_error(ctx));
    ierr = tmsf_dose_transfer(sim, coil, PA, rA, 40.0, magstim, PB, rB, &m, &ra, &rb);
    CHECK(ierr == TMSF_ERR_NOT_FOUND && strstr(tmsf_context_last_error(ctx), "dIdtmax"), "coil B without dIdtmax: %s",
          tmsf_context_last_error(ctx));
    CHECK(tmsf_dose_transfer(sim, coil, PA, rA, 0.0, coil, PB, rB, &m, &ra, &rb) == TMSF_ERR_ARGUMENT, "RMT 0");
    tmsf_region_destroy(&rB);
    tmsf_coil_destroy(&fig8);
  }

  tmsf_region_destroy(&rA);
  tmsf_simulation_destroy(&sim);
  tmsf_simulation_destroy(&check_sim);
  tmsf_coil_destroy(&coil);
  tmsf_coil_destroy(&magstim);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return test_summary("t-dose");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-placement.c: objectives of coil poses by reciprocity against direct FEM
 * solves, on SimNIBS's three-layer sphere (data/spheres/sphere3.msh: tag 3
 * r < 85 mm, 4 to 90 mm, 5 to 95 mm).
 *
 * References and tolerances:
 *  - NODAL (the exact adjoint identity, notes/reciprocity.md) vs DIRECT with
 *    the direct solver (CHOLMOD) and double-precision dipole sums: the
 *    identity is exact for the discrete system, so they agree to rounding and
 *    the solver's residual (1e-10 asked for the adjoint): 1e-7 relative.
 *  - FAST (tabulated B_Q / A_Q on the default 3 mm grid, trilinear) vs NODAL: the
 *    grid's interpolation error only (3 mm: 9e-5 dipoles, 7e-4 segments measured;
 *    2 mm: 1.7e-4, 2.1e-4); must stay within 0.5 %
 *    (half the placement's 1 % budget against direct solves).
 *  - poses the grid does not cover evaluate to NaN, counted.
 *  - bad input: empty objective, wrong mesh, prepare before terms.
 */
#include "test-common.h"
#include "test-mesh.h"

#include "tmsf-impl.h"

/* A pose above the sphere at polar angle theta, azimuth phi (radians), handle
 * rotated by psi about the normal, 4 mm from the scalp (r = 95 mm). */
static void sphere_pose(double theta, double phi, double psi, double P[16]) {
  double n[3] = {sin(theta) * cos(phi), sin(theta) * sin(phi), cos(theta)};
  double e1[3] = {cos(theta) * cos(phi), cos(theta) * sin(phi), -sin(theta)}; /* south */
  double e2[3] = {n[1] * e1[2] - n[2] * e1[1], n[2] * e1[0] - n[0] * e1[2], n[0] * e1[1] - n[1] * e1[0]};
  double y[3], z[3] = {-n[0], -n[1], -n[2]}, x[3];
  for (int k = 0; k < 3; k++) y[k] = cos(psi) * e1[k] + sin(psi) * e2[k];
  x[0] = y[1] * z[2] - y[2] * z[1], x[1] = y[2] * z[0] - y[0] * z[2], x[2] = y[0] * z[1] - y[1] * z[0];
  const double r = 0.095 + 0.004;
  double M[16] = {x[0], y[0], z[0], r * n[0], x[1], y[1], z[1], r * n[1], x[2], y[2], z[2], r * n[2], 0, 0, 0, 1};
  memcpy(P, M, sizeof(M));
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  tmsf_mesh *mesh;
  tmsf_coil *coil, *seg;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/drakaki2022/MagVenture_MC-B70.ccd"), &coil));
  REQUIRE_OK(ctx, tmsf_coil_set_precision(coil, TMSF_PRECISION_DOUBLE));
  /* a line-segment coil: a 30 mm circular loop of 64 segments, 10 mm behind the coil
   * centre and shifted by its radius, so that the winding passes over the target */
  {
    double pos[64 * 3], dl[64 * 3];
    for (int k = 0; k < 64; k++) {
      double a0 = 2 * 3.14159265358979323846 * k / 64, a1 = 2 * 3.14159265358979323846 * (k + 1) / 64, R = 0.03;
      double p0[3] = {R * cos(a0) + R, R * sin(a0), -0.01}, p1[3] = {R * cos(a1) + R, R * sin(a1), -0.01};
      for (int c = 0; c < 3; c++) pos[3 * k + c] = 0.5 * (p0[c] + p1[c]), dl[3 * k + c] = p1[c] - p0[c];
    }
    REQUIRE_OK(ctx, tmsf_coil_create_segments(ctx, 64, pos, dl, &seg));
  }
  tmsf_simulation *sim;
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &sim));
  REQUIRE_OK(ctx, tmsf_simulation_set_solver(sim, "cholmod"));
  REQUIRE_OK(ctx, tmsf_simulation_setup(sim));

  /* target: tag 3 within 10 mm of a point 80 mm out under theta = 0.3 */
  double P0[16];
  sphere_pose(0.3, 0.2, 0.0, P0);
  double rn = sqrt(P0[3] * P0[3] + P0[7] * P0[7] + P0[11] * P0[11]);
  double c[3] = {P0[3] / rn * 0.08, P0[7] / rn * 0.08, P0[11] / rn * 0.08};
  double c2[3] = {-c[0], c[1], c[2]}; /* a second region, mirrored: to spare */
  int32_t tag3 = 3;
  tmsf_region *reg, *reg2;
  REQUIRE_OK(ctx, tmsf_region_create_sphere(mesh, c, 0.01, 1, &tag3, &reg));
  REQUIRE_OK(ctx, tmsf_region_create_sphere(mesh, c2, 0.01, 1, &tag3, &reg2));

  tmsf_metric mv, md, mn;
  REQUIRE_OK(ctx, tmsf_metric_parse(ctx, "meanvec", &mv));
  REQUIRE_OK(ctx, tmsf_metric_parse(ctx, "dir:1,0.5,0", &md));
  REQUIRE_OK(ctx, tmsf_metric_parse(ctx, "normal:1003", &mn));

  /* poses: a patch of positions and angles around P0 */
  enum { NP = 24 };
  double poses[NP * 16];
  for (int k = 0; k < NP; k++) sphere_pose(0.3 + 0.02 * (k % 3), 0.2 + 0.03 * (k / 12), 2 * 3.14159265358979323846 * (k % 12) / 12.0, poses + 16 * k);

  for (int which = 0; which < 2; which++) {
    const tmsf_coil *cl = which ? seg : coil;
    tmsf_placement *pl;
    REQUIRE_OK(ctx, tmsf_placement_create(sim, cl, &pl));
    double obj[NP], terms[NP * 4], objn[NP], termsn[NP * 4], objf[NP], termsf[NP * 4];
    CHECK(tmsf_placement_evaluate(pl, TMSF_PLACEMENT_NODAL, 1, poses, obj, NULL) == TMSF_ERR_STATE,
          "no terms yet: state error");
    REQUIRE_OK(ctx, tmsf_placement_add_target(pl, reg, &mv, 1.0));
    REQUIRE_OK(ctx, tmsf_placement_add_target(pl, reg, &md, 0.5));
    REQUIRE_OK(ctx, tmsf_placement_add_target(pl, reg, &mn, 0.25));
    REQUIRE_OK(ctx, tmsf_placement_add_avoid(pl, reg2, 0.3));
    int nt;
    tmsf_placement_get_num_terms(pl, &nt);
    CHECK(nt == 4, "4 terms, got %d", nt);
    CHECK(tmsf_placement_evaluate(pl, TMSF_PLACEMENT_FAST, 1, poses, obj, NULL) == TMSF_ERR_STATE,
          "fast before prepare: state error");
    REQUIRE_OK(ctx, tmsf_placement_evaluate(pl, TMSF_PLACEMENT_DIRECT, NP, poses, obj, terms));
    REQUIRE_OK(ctx, tmsf_placement_evaluate(pl, TMSF_PLACEMENT_NODAL, NP, poses, objn, termsn));
    double worst = 0.0, worstf = 0.0;
    for (int k = 0; k < NP * 4; k++) {
      double scale = fabs(terms[4 * (k / 4)]); /* relative to the pose's |mean E| */
      double d = fabs(termsn[k] - terms[k]) / scale;
      if (d > worst) worst = d;
    }
    printf("%s: nodal vs direct, worst term difference %.3e (relative to |mean E|)\n", which ? "segments" : "dipoles",
           worst);
    CHECK(worst <= 1e-7, "nodal vs direct %.3e > 1e-7", worst);
    REQUIRE_OK(ctx, tmsf_placement_prepare(pl, NP, poses, 0.004, 0.0));
    REQUIRE_OK(ctx, tmsf_placement_evaluate(pl, TMSF_PLACEMENT_FAST, NP, poses, objf, termsf));
    for (int k = 0; k < NP * 4; k++) {
      double scale = fabs(termsn[4 * (k / 4)]);
      double d = fabs(termsf[k] - termsn[k]) / scale;
      if (!(d <= worstf)) worstf = d;
    }
    double pts, secs;
    tmsf_placement_get_info(pl, TMSF_PLACEMENT_GRID_POINTS, &pts);
    tmsf_placement_get_info(pl, TMSF_PLACEMENT_GRID_SECONDS, &secs);
    printf("%s: fast (default grid, %.0f points, %.2f s) vs nodal, worst %.3e\n", which ? "segments" : "dipoles", pts,
           secs, worstf);
    CHECK(worstf <= 5e-3, "fast vs nodal %.3e > 0.5 %%", worstf);
    /* a pose far from the prepared ones is not covered */
    double far[16];
    sphere_pose(2.5, 1.0, 0.0, far);
    double o;
    REQUIRE_OK(ctx, tmsf_placement_evaluate(pl, TMSF_PLACEMENT_FAST, 1, far, &o, NULL));
    double out;
    tmsf_placement_get_info(pl, TMSF_PLACEMENT_LAST_OUTSIDE, &out);
    CHECK(isnan(o) && out == 1, "uncovered pose: NaN and counted (got %g, %g)", o, out);
    tmsf_placement_destroy(&pl);
  }

  /* a region of another mesh is refused */
  {
    tmsf_mesh *other;
    REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &other));
    tmsf_region *ro;
    REQUIRE_OK(ctx, tmsf_region_create_sphere(other, c, 0.01, 1, &tag3, &ro));
    tmsf_placement *pl;
    REQUIRE_OK(ctx, tmsf_placement_create(sim, coil, &pl));
    CHECK(tmsf_placement_add_target(pl, ro, &mv, 1.0) == TMSF_ERR_ARGUMENT, "region of another mesh refused");
    CHECK(tmsf_placement_add_target(pl, reg, &mv, NAN) == TMSF_ERR_ARGUMENT, "NaN weight refused");
    tmsf_placement_destroy(&pl);
    tmsf_region_destroy(&ro);
    tmsf_mesh_destroy(&other);
  }

  tmsf_region_destroy(&reg);
  tmsf_region_destroy(&reg2);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_coil_destroy(&seg);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return test_summary("placement");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-primary-grid.c: the tabulated primary field (TMSF_PRIMARY_GRID) against
 * the direct dipole sum, through the fields they produce on sphere3, for
 * poses over the top, tilted, at 0 mm from the scalp (nodes near the windings
 * take the direct sum) and far to the side (most nodes outside the grids):
 * when the table is used its measured error is within the 3e-5 tolerance and
 * E within 3e-5 relative L2 of the direct result (dA/dt errors pass into E
 * about one to one); when its check fails (the compact 4-dipole test coil)
 * the pose falls back to the direct sum and E agrees to the solver's
 * precision.  A second coil replaces the table.  Both solves use the
 * residual rule at 1e-12 so that only the primary field differs.
 */
#include "test-common.h"
#include "test-mesh.h"

static double rel_diff(int64_t ne, const double *a, const double *b, const double *vol) {
  double d = 0, s = 0;
  for (int64_t e = 0; e < ne; e++)
    for (int c = 0; c < 3; c++) {
      d += vol[e] * (a[3 * e + c] - b[3 * e + c]) * (a[3 * e + c] - b[3 * e + c]);
      s += vol[e] * b[3 * e + c] * b[3 * e + c];
    }
  return sqrt(d / s);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  tmsf_mesh *mesh;
  tmsf_coil *coils[2];
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &coils[0]));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/testcoil.ccd"), &coils[1]));
  int64_t ne;
  tmsf_mesh_get_sizes(mesh, NULL, &ne, NULL);
  double *vol = malloc(sizeof(double) * (size_t)ne);
  tmsf_mesh_get_volumes(mesh, vol);
  tmsf_simulation *grid, *direct;
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &grid));
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &direct));
  CHECK(tmsf_simulation_set_primary_method(grid, (tmsf_primary_method)7) == TMSF_ERR_ARGUMENT, "bad method");
  CHECK_OK(ctx, tmsf_simulation_set_primary_method(grid, TMSF_PRIMARY_GRID));
  CHECK_OK(ctx, tmsf_simulation_set_primary_method(direct, TMSF_PRIMARY_DIRECT));
  CHECK_OK(ctx, tmsf_simulation_set_tolerance(grid, 1e-12));
  CHECK_OK(ctx, tmsf_simulation_set_tolerance(direct, 1e-12));
  REQUIRE_OK(ctx, tmsf_simulation_setup(grid));
  REQUIRE_OK(ctx, tmsf_simulation_setup(direct));
  struct {
    double centre[3], ydir[3], dist;
    const char *what;
  } poses[] = {
      {{0, 0, 0.095}, {0, 1, 0}, 0.004, "over the top"},
      {{0.05, -0.03, 0.07}, {1, 1, 0}, 0.004, "tilted"},
      {{-0.02, 0.04, 0.09}, {0, 0, 1}, 0.0, "on the scalp"},
      {{0.095, 0, 0}, {0, 1, 0}, 0.03, "on the side, 30 mm out"},
  };
  for (int c = 0; c < 2; c++)
    for (size_t k = 0; k < sizeof(poses) / sizeof(poses[0]); k++) {
      double P[16];
      REQUIRE_OK(ctx, tmsf_pose_from_centre(mesh, poses[k].centre, poses[k].ydir, poses[k].dist, P));
      tmsf_field *fg, *fd;
      REQUIRE_OK(ctx, tmsf_simulation_solve(grid, coils[c], P, 1e6, &fg));
      double method, secs, err;
      tmsf_simulation_get_info(grid, TMSF_SIM_PRIMARY_METHOD, &method);
      tmsf_simulation_get_info(grid, TMSF_SIM_PRIMARY_GRID_SECONDS, &secs);
      tmsf_simulation_get_info(grid, TMSF_SIM_PRIMARY_GRID_ERROR, &err);
      CHECK((method == 2) == (err <= 3e-5), "coil %d pose %zu: method %g with measured error %.3g", c, k, method, err);
      CHECK(c == 1 || k == 3 || method == 2, "Magstim coil near the top uses the table (error %.3g)", err);
      CHECK(k == 0 ? secs > 0.0 : secs == 0.0, "coil %d pose %zu: the table is built once per coil (%g s)", c, k, secs);
      REQUIRE_OK(ctx, tmsf_simulation_solve(direct, coils[c], P, 1e6, &fd));
      double dmethod;
      tmsf_simulation_get_info(direct, TMSF_SIM_PRIMARY_METHOD, &dmethod);
      CHECK(dmethod == 1, "direct method reported");
      const double *Eg, *Ed;
      tmsf_field_get_E(fg, &Eg);
      tmsf_field_get_E(fd, &Ed);
      double d = rel_diff(ne, Eg, Ed, vol);
      printf("coil %d, %-24s table error %.3g -> %s; E vs direct %.3g\n", c, poses[k].what, err,
             method == 2 ? "table" : "direct", d);
      CHECK(d <= (method == 2 ? 3e-5 : 1e-9), "coil %d, %s: %.3g", c, poses[k].what, d);
      tmsf_field_destroy(&fg);
      tmsf_field_destroy(&fd);
    }
  /* AUTO: a single pose never pays for the table; the coil's second pose (or a
   * batch) builds it.  A box of 38^3 = 54,872 nodes (above the 50,000-node
   * threshold), 148 mm wide, the coil 4 mm above the middle of its top face. */
  {
    tmsf_mesh *box;
    REQUIRE_OK(ctx, test_box_mesh(ctx, 37, 0.004, 2, &box));
    tmsf_simulation *sim;
    REQUIRE_OK(ctx, tmsf_simulation_create(ctx, box, &sim));
    CHECK_OK(ctx, tmsf_simulation_set_solver(sim, "cg"));
    REQUIRE_OK(ctx, tmsf_simulation_setup(sim));
    const double hi[3] = {0.148, 0.148, 0.148};
    double P[16] = {1, 0, 0, 0.5 * hi[0], 0, -1, 0, 0.5 * hi[1], 0, 0, -1, hi[2] + 0.004, 0, 0, 0, 1};
    int64_t n;
    const int64_t *rp;
    const int32_t *ci;
    const double *v;
    REQUIRE_OK(ctx, tmsf_simulation_get_matrix(sim, &n, &rp, &ci, &v));
    double *b = malloc(sizeof(double) * (size_t)n);
    double secs[3];
    for (int k = 0; k < 3; k++) {
      P[3] = 0.5 * hi[0] + 0.01 * k;
      REQUIRE_OK(ctx, tmsf_simulation_rhs(sim, coils[0], P, 1e6, b));
      tmsf_simulation_get_info(sim, TMSF_SIM_PRIMARY_GRID_SECONDS, &secs[k]);
    }
    CHECK(secs[0] == 0.0 && secs[1] > 0.0 && secs[2] == 0.0,
          "AUTO builds the table at the coil's second pose, once (%g %g %g s)", secs[0], secs[1], secs[2]);
    free(b);
    tmsf_simulation_destroy(&sim);
    tmsf_mesh_destroy(&box);
  }
  free(vol);
  tmsf_simulation_destroy(&grid);
  tmsf_simulation_destroy(&direct);
  tmsf_coil_destroy(&coils[0]);
  tmsf_coil_destroy(&coils[1]);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return test_summary("primary-grid");
}

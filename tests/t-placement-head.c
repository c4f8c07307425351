/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-placement-head.c: placement on the built-in Colin27 head (meshed at first
 * use and cached; the cli-head-default test usually did it already).
 *
 * What it asserts (issue 6) and why the tolerances:
 *  - M1 with the MagVenture MC-B70 (.ccd, with its casing): the full search
 *    (20 mm, 2 mm, 5 deg) by the fast method; the winner's fast objective is
 *    within 1 % of its direct solve (the done-when's budget for fast vs
 *    direct); the %MSO for 100 V/m re-simulated with a separate simulation
 *    (another solver, "amg" at its default 1e-4 field rule, the coil's own
 *    direct dipole sum) gives 100 V/m within 0.5 %.
 *  - M1, DLPFC (Fox) and F3: fast vs direct on 12 poses each (the 6 best and
 *    6 spread over the search space): <= 1 % (the benchmark,
 *    bench-placement, does the done-when's 300 poses per target).
 *  - coil formats: the Magstim 70 mm A-field NIfTI (nodal path) and the
 *    two-stimulator .tcd (line segments): fast vs direct on a small search
 *    (<= 1 %), the run completes and its winner is valid.
 *  - the navigator files of the winning pose read back to it within 1e-9.
 *  - errors: a target outside the head, an empty region and a search space
 *    without a valid pose fail with clear codes and messages.
 */
#include <unistd.h>

#include "test-common.h"

static void check_fast_vs_direct(tmsf_context *ctx, tmsf_placement *pl, const tmsf_search *search, int nbest,
                                 int nspread, const char *what) {
  int64_t np;
  const double *P;
  REQUIRE_OK(ctx, tmsf_search_get_num_poses(search, &np));
  REQUIRE_OK(ctx, tmsf_search_get_poses(search, &P, NULL, NULL, NULL));
  double *fast = malloc(sizeof(double) * (size_t)np);
  REQUIRE_OK(ctx, tmsf_placement_evaluate(pl, TMSF_PLACEMENT_FAST, np, P, fast, NULL));
  int n = nbest + nspread;
  double *Ps = malloc(sizeof(double) * 16 * (size_t)n), *fs = malloc(sizeof(double) * (size_t)n);
  char *used = calloc((size_t)np, 1);
  for (int k = 0; k < nbest; k++) { /* the best remaining, by selection */
    int64_t b = -1;
    for (int64_t i = 0; i < np; i++)
      if (!used[i] && (b < 0 || fast[i] > fast[b])) b = i;
    used[b] = 1;
    memcpy(Ps + 16 * k, P + 16 * b, 16 * sizeof(double));
    fs[k] = fast[b];
  }
  for (int k = 0; k < nspread; k++) {
    int64_t i = (int64_t)((double)k * (double)np / nspread);
    while (used[i]) i = (i + 1) % np;
    used[i] = 1;
    memcpy(Ps + 16 * (nbest + k), P + 16 * i, 16 * sizeof(double));
    fs[nbest + k] = fast[i];
  }
  double *direct = malloc(sizeof(double) * (size_t)n);
  REQUIRE_OK(ctx, tmsf_placement_evaluate(pl, TMSF_PLACEMENT_DIRECT, n, Ps, direct, NULL));
  double worst = 0.0;
  for (int k = 0; k < n; k++) {
    double d = fabs(fs[k] - direct[k]) / fabs(direct[k]);
    if (!(d <= worst)) worst = d;
  }
  printf("%s: %lld poses, fast vs direct on %d: worst %.3e\n", what, (long long)np, n, worst);
  CHECK(worst <= 0.01, "%s: fast vs direct %.3e > 1 %%", what, worst);
  free(fast), free(Ps), free(fs), free(used), free(direct);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  tmsf_mesh *mesh;
  REQUIRE_OK(ctx, tmsf_head_open(ctx, "default", &mesh));
  tmsf_coil *b70, *nii, *tcd;
  tmsf_casing *casing = NULL;
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/drakaki2022/MagVenture_MC-B70.ccd"), &b70));
  REQUIRE_OK(ctx, tmsf_casing_find_for_coil(ctx, test_path("data/coils/drakaki2022/MagVenture_MC-B70.ccd"), &casing));
  CHECK(casing != NULL, "the MC-B70 casing is shipped beside its .ccd");
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/Magstim_70mm_Fig8.nii.gz"), &nii));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/coils/two_stimulator_example_coil.tcd"), &tcd));
  tmsf_simulation *sim;
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &sim));
  REQUIRE_OK(ctx, tmsf_simulation_setup(sim));
  tmsf_metric mv;
  REQUIRE_OK(ctx, tmsf_metric_parse(ctx, "meanvec", &mv));

  /* 1. M1, full default search, dose, re-simulation, navigator round trip */
  {
    int idx;
    tmsf_target_info ti;
    REQUIRE_OK(ctx, tmsf_target_find(ctx, "M1", &idx));
    tmsf_target_get_info(idx, &ti);
    double t[3], proj[3];
    REQUIRE_OK(ctx, tmsf_target_mni_to_head(NULL, ti.mni_mm, t));
    tmsf_region *region;
    REQUIRE_OK(ctx, tmsf_target_region(mesh, t, 0.005, proj, &region));
    tmsf_search *search;
    REQUIRE_OK(ctx, tmsf_search_create(mesh, t, NULL, casing, b70, &search));
    tmsf_placement *pl;
    REQUIRE_OK(ctx, tmsf_placement_create(sim, b70, &pl));
    REQUIRE_OK(ctx, tmsf_placement_add_target(pl, region, &mv, 1.0));
    tmsf_placement_result res;
    REQUIRE_OK(ctx, tmsf_placement_run(pl, search, NULL, &res));
    printf("M1: objective %.5f (direct %.5f) V/m at 1 A/us, prepare %.1f s, search %.2f s (%.0f poses/s), refine %.2f s\n",
           res.objective, res.objective_direct, res.time_prepare_s, res.time_search_s, res.poses_per_second,
           res.time_refine_s);
    CHECK(fabs(res.objective - res.objective_direct) <= 0.01 * res.objective_direct,
          "M1 winner: fast %.6g vs direct %.6g", res.objective, res.objective_direct);
    CHECK(res.objective_direct >= res.top_objective[0] * 0.99, "refinement does not lose: %g vs best grid %g",
          res.objective_direct, res.top_objective[0]);
    int valid = 0;
    REQUIRE_OK(ctx, tmsf_search_pose_clearance(search, res.pose, NULL, &valid));
    CHECK(valid, "the winner passes the collision test");
    /* dose for 100 V/m and an independent re-simulation */
    tmsf_dose_result dose;
    REQUIRE_OK(ctx, tmsf_dose_for_target(sim, b70, res.pose, region, &mv, 100.0, &dose));
    tmsf_simulation *sim2;
    REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &sim2));
    REQUIRE_OK(ctx, tmsf_simulation_set_solver(sim2, "amg"));
    REQUIRE_OK(ctx, tmsf_simulation_set_primary_method(sim2, TMSF_PRIMARY_DIRECT));
    REQUIRE_OK(ctx, tmsf_simulation_setup(sim2));
    double didt;
    REQUIRE_OK(ctx, tmsf_dose_mso_to_didt(b70, dose.mso_percent, TMSF_DOSE_CLAMP, &didt, NULL));
    tmsf_field *f;
    REQUIRE_OK(ctx, tmsf_simulation_solve(sim2, b70, res.pose, didt, &f));
    double v;
    REQUIRE_OK(ctx, tmsf_metric_evaluate(&mv, region, f, &v));
    printf("M1: %.3f %% MSO (%.2f A/us) re-simulated: %.4f V/m\n", dose.mso_percent, didt * 1e-6, v);
    CHECK(fabs(v - 100.0) <= 0.5, "re-simulation at the reported %%MSO: %.4f V/m, want 100 within 0.5 %%", v);
    tmsf_field_destroy(&f);
    tmsf_simulation_destroy(&sim2);
    /* navigator files of the winner read back */
    char path[256];
    snprintf(path, sizeof(path), "t-placement-head-%d.xml", (int)getpid());
    REQUIRE_OK(ctx, tmsf_nnav_write_localite(ctx, path, 1, res.pose, NULL, TMSF_NNAV_SPACE_RAS));
    int n = 0;
    double *back = NULL;
    REQUIRE_OK(ctx, tmsf_nnav_read_localite(ctx, path, &n, &back, NULL, NULL));
    double d = 0.0;
    for (int k = 0; k < 16; k++) d = fmax(d, fabs(back[k] - res.pose[k]));
    CHECK(n == 1 && d <= 1e-9, "Localite round trip %.3e", d);
    tmsf_nnav_free(n, &back, NULL);
    remove(path);
    snprintf(path, sizeof(path), "t-placement-head-%d.txt", (int)getpid());
    REQUIRE_OK(ctx, tmsf_nnav_write_brainsight(ctx, path, 1, res.pose, NULL, TMSF_NNAV_SPACE_NIFTI_ALIGNED));
    REQUIRE_OK(ctx, tmsf_nnav_read_brainsight(ctx, path, TMSF_NNAV_TARGETS, &n, &back, NULL, NULL));
    d = 0.0;
    for (int k = 0; k < 16; k++) d = fmax(d, fabs(back[k] - res.pose[k]));
    CHECK(n == 1 && d <= 1e-9, "Brainsight round trip %.3e", d);
    tmsf_nnav_free(n, &back, NULL);
    remove(path);
    check_fast_vs_direct(ctx, pl, search, 6, 6, "M1 MC-B70");
    tmsf_placement_destroy(&pl);
    tmsf_search_destroy(&search);
    tmsf_region_destroy(&region);
  }

  /* 2. DLPFC targets: fast vs direct on the default search */
  const char *targets[2] = {"FOX", "F3"};
  for (int k = 0; k < 2; k++) {
    int idx;
    tmsf_target_info ti;
    REQUIRE_OK(ctx, tmsf_target_find(ctx, targets[k], &idx));
    tmsf_target_get_info(idx, &ti);
    double t[3];
    REQUIRE_OK(ctx, tmsf_target_mni_to_head(NULL, ti.mni_mm, t));
    tmsf_region *region;
    REQUIRE_OK(ctx, tmsf_target_region(mesh, t, 0.005, NULL, &region));
    tmsf_search *search;
    REQUIRE_OK(ctx, tmsf_search_create(mesh, t, NULL, casing, b70, &search));
    tmsf_placement *pl;
    REQUIRE_OK(ctx, tmsf_placement_create(sim, b70, &pl));
    REQUIRE_OK(ctx, tmsf_placement_add_target(pl, region, &mv, 1.0));
    REQUIRE_OK(ctx, tmsf_placement_prepare_search(pl, search, 0.0));
    char what[64];
    snprintf(what, sizeof(what), "%s MC-B70", ti.name);
    check_fast_vs_direct(ctx, pl, search, 6, 6, what);
    tmsf_placement_destroy(&pl);
    tmsf_search_destroy(&search);
    tmsf_region_destroy(&region);
  }

  /* 3. other coil formats on a small search over M1 */
  {
    double t[3] = {-0.037, -0.021, 0.058};
    tmsf_region *region;
    REQUIRE_OK(ctx, tmsf_target_region(mesh, t, 0.005, NULL, &region));
    tmsf_search_params sp;
    tmsf_search_params_default(&sp);
    sp.radius_m = 0.004, sp.spacing_m = 0.004, sp.angle_step_deg = 45.0;
    const tmsf_coil *coils[2] = {nii, tcd};
    const char *names[2] = {"Magstim 70 mm A-field NIfTI", "two-stimulator .tcd"};
    for (int c = 0; c < 2; c++) {
      tmsf_search *search;
      REQUIRE_OK(ctx, tmsf_search_create(mesh, t, &sp, NULL, coils[c], &search));
      tmsf_placement *pl;
      REQUIRE_OK(ctx, tmsf_placement_create(sim, coils[c], &pl));
      REQUIRE_OK(ctx, tmsf_placement_add_target(pl, region, &mv, 1.0));
      tmsf_placement_options o;
      tmsf_placement_options_default(&o);
      o.refine = 0;
      tmsf_placement_result res;
      REQUIRE_OK(ctx, tmsf_placement_run(pl, search, &o, &res));
      CHECK(fabs(res.objective - res.objective_direct) <= 0.01 * res.objective_direct, "%s winner: %g vs %g",
            names[c], res.objective, res.objective_direct);
      check_fast_vs_direct(ctx, pl, search, 3, 3, names[c]);
      tmsf_placement_destroy(&pl);
      tmsf_search_destroy(&search);
    }
    tmsf_region_destroy(&region);
  }

  /* 4. errors */
  {
    double outside[3] = {-0.037, -0.021, 0.150};
    tmsf_search *search = NULL;
    int ierr = tmsf_search_create(mesh, outside, NULL, casing, b70, &search);
    CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "outside the head"),
          "a target outside the head: %d, %s", ierr, tmsf_context_last_error(ctx));
    double t[3] = {-0.037, -0.021, 0.058};
    int32_t wm = 1;
    tmsf_region *region = NULL;
    ierr = tmsf_region_create_sphere(mesh, t, 1e-5, 1, &wm, &region);
    CHECK(ierr == TMSF_ERR_NOT_FOUND, "an empty region: %d, %s", ierr, tmsf_context_last_error(ctx));
    tmsf_search_params sp;
    tmsf_search_params_default(&sp);
    sp.margin_m = 0.05; /* 5 cm of clearance asked: no pose can give it */
    ierr = tmsf_search_create(mesh, t, &sp, casing, b70, &search);
    CHECK(ierr == TMSF_ERR_NOT_FOUND && strstr(tmsf_context_last_error(ctx), "valid"),
          "no valid pose: %d, %s", ierr, tmsf_context_last_error(ctx));
  }

  tmsf_simulation_destroy(&sim);
  tmsf_casing_destroy(&casing);
  tmsf_coil_destroy(&b70);
  tmsf_coil_destroy(&nii);
  tmsf_coil_destroy(&tcd);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return test_summary("placement-head");
}

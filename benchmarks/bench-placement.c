/*
 * SPDX-License-Identifier: BSD-3-Clause
 * bench-placement.c: the fast (reciprocity) placement against direct FEM
 * solves on a head, for named targets, with machine-readable results.
 *
 *   bench-placement HEAD COIL NUM_DIRECT REPEATS OUT.json TARGET [TARGET...]
 *
 * HEAD is a head spec (default = the built-in Colin27 head), COIL a coil name
 * or file.  Per target: the search space with the defaults of `tmsfield
 * place` (20 mm, 2 mm, 5 deg, 4 mm), the precomputation (adjoint solves and
 * reciprocity grid; wall time), the fast evaluation of every valid pose
 * (REPEATS times: median poses per second), and NUM_DIRECT poses evaluated
 * by direct solves as well: the 50 best by the fast method and the rest
 * spread evenly over the search space.  Reported: the largest relative
 * difference fast vs direct, the best pose of each among those poses and
 * the direct objective of the fast method's best relative to the direct
 * best.  Objective: |mean E| on the grey matter within 5 mm of the target's
 * grey-matter projection.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tmsfield/tmsfield.h>

#ifndef TMSF_GIT_COMMIT
#define TMSF_GIT_COMMIT "unknown"
#endif

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct ranked {
  double v;
  int64_t i;
} ranked;

static int by_desc(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

#define CHECK(call)                                                                                \
  do {                                                                                             \
    int e_ = (call);                                                                               \
    if (e_) {                                                                                      \
      fprintf(stderr, "bench-placement: %s: %s\n", #call, tmsf_context_last_error(ctx));           \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: bench-placement HEAD COIL NUM_DIRECT REPEATS OUT.json TARGET [TARGET...]\n");
    return 2;
  }
  const char *head = argv[1], *coil_spec = argv[2], *out = argv[5];
  const int num_direct = atoi(argv[3]), repeats = atoi(argv[4]);
  tmsf_context *ctx;
  if (tmsf_context_create(&ctx)) return 1;
  int threads;
  tmsf_context_get_threads(ctx, &threads);
  tmsf_mesh *mesh;
  double t0 = now_s();
  CHECK(tmsf_head_open(ctx, head, &mesh));
  const double t_head = now_s() - t0;
  tmsf_coil *coil;
  CHECK(tmsf_coil_open(ctx, coil_spec, &coil));
  tmsf_casing *casing = NULL;
  {
    tmsf_catalogue *cat;
    int idx;
    tmsf_coil_info info;
    CHECK(tmsf_catalogue_create(ctx, &cat));
    if (tmsf_catalogue_find(cat, coil_spec, &idx) == TMSF_SUCCESS) {
      tmsf_catalogue_get_coil_info(cat, idx, &info);
      CHECK(tmsf_casing_find_for_coil(ctx, info.path, &casing));
    } else {
      CHECK(tmsf_casing_find_for_coil(ctx, coil_spec, &casing));
    }
    tmsf_catalogue_destroy(&cat);
  }
  int64_t nn, ne;
  tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
  tmsf_simulation *sim;
  CHECK(tmsf_simulation_create(ctx, mesh, &sim));
  t0 = now_s();
  CHECK(tmsf_simulation_setup(sim));
  const double t_setup = now_s() - t0;
  const char *solver;
  tmsf_simulation_get_solver(sim, &solver);
  FILE *f = fopen(out, "w");
  if (!f) {
    fprintf(stderr, "bench-placement: cannot write %s\n", out);
    return 1;
  }
  const char *cname;
  tmsf_coil_get_name(coil, &cname);
  fprintf(f, "{\n\"benchmark\": \"placement\",\n\"commit\": \"%s\",\n\"head\": \"%s\",\n\"nodes\": %lld,\n"
             "\"tetrahedra\": %lld,\n\"coil\": \"%s\",\n\"casing\": %s,\n\"threads\": %d,\n\"solver\": \"%s\",\n"
             "\"head_open_s\": %.4g,\n\"setup_s\": %.4g,\n\"targets\": [\n",
          TMSF_GIT_COMMIT, head, (long long)nn, (long long)ne, cname, casing ? "true" : "false", threads, solver,
          t_head, t_setup);
  tmsf_metric metric;
  CHECK(tmsf_metric_parse(ctx, "meanvec", &metric));
  int failed = 0;
  for (int ti = 6; ti < argc; ti++) {
    int idx;
    tmsf_target_info tinfo;
    CHECK(tmsf_target_find(ctx, argv[ti], &idx));
    tmsf_target_get_info(idx, &tinfo);
    double target[3], proj[3];
    CHECK(tmsf_target_mni_to_head(NULL, tinfo.mni_mm, target));
    tmsf_region *region;
    CHECK(tmsf_target_region(mesh, target, 0.005, proj, &region));
    tmsf_search *search;
    t0 = now_s();
    CHECK(tmsf_search_create(mesh, target, NULL, casing, coil, &search));
    const double t_search_create = now_s() - t0;
    int64_t np;
    const double *P;
    CHECK(tmsf_search_get_num_poses(search, &np));
    CHECK(tmsf_search_get_poses(search, &P, NULL, NULL, NULL));
    tmsf_placement *pl;
    CHECK(tmsf_placement_create(sim, coil, &pl));
    CHECK(tmsf_placement_add_target(pl, region, &metric, 1.0));
    /* precomputation as tmsf_placement_run does it */
    t0 = now_s();
    CHECK(tmsf_placement_prepare_search(pl, search, 0.0));
    const double t_prepare = now_s() - t0;
    double t_adj, t_grid, gpts, gbytes;
    tmsf_placement_get_info(pl, TMSF_PLACEMENT_ADJOINT_SECONDS, &t_adj);
    tmsf_placement_get_info(pl, TMSF_PLACEMENT_GRID_SECONDS, &t_grid);
    tmsf_placement_get_info(pl, TMSF_PLACEMENT_GRID_POINTS, &gpts);
    tmsf_placement_get_info(pl, TMSF_PLACEMENT_GRID_BYTES, &gbytes);
    double *fast = malloc(sizeof(double) * (size_t)np), *rate = malloc(sizeof(double) * (size_t)repeats);
    for (int r = 0; r < repeats; r++) {
      double a = now_s();
      CHECK(tmsf_placement_evaluate(pl, TMSF_PLACEMENT_FAST, np, P, fast, NULL));
      rate[r] = (double)np / (now_s() - a);
    }
    qsort(rate, (size_t)repeats, sizeof(double), cmp_double);
    const double med_rate = repeats % 2 ? rate[repeats / 2] : 0.5 * (rate[repeats / 2 - 1] + rate[repeats / 2]);
    double outside;
    tmsf_placement_get_info(pl, TMSF_PLACEMENT_LAST_OUTSIDE, &outside);
    /* the poses checked by direct solves: the 50 best, then evenly spread */
    ranked *rk = malloc(sizeof(ranked) * (size_t)np);
    for (int64_t k = 0; k < np; k++) rk[k] = (ranked){fast[k], k};
    qsort(rk, (size_t)np, sizeof(ranked), by_desc);
    int nd = num_direct < np ? num_direct : (int)np, nbest = nd < 50 ? nd : 50;
    int64_t *sel = malloc(sizeof(int64_t) * (size_t)nd);
    char *used = calloc((size_t)np, 1);
    int ns = 0;
    for (int k = 0; k < nbest; k++) sel[ns++] = rk[k].i, used[rk[k].i] = 1;
    for (int k = 0; ns < nd && k < nd - nbest; k++) {
      int64_t i = (int64_t)((double)k * (double)np / (double)(nd - nbest));
      while (used[i]) i = (i + 1) % np;
      sel[ns++] = i, used[i] = 1;
    }
    double *Ps = malloc(sizeof(double) * 16 * (size_t)ns), *direct = malloc(sizeof(double) * (size_t)ns);
    for (int k = 0; k < ns; k++) memcpy(Ps + 16 * k, P + 16 * sel[k], 16 * sizeof(double));
    t0 = now_s();
    CHECK(tmsf_placement_evaluate(pl, TMSF_PLACEMENT_DIRECT, ns, Ps, direct, NULL));
    const double t_direct = now_s() - t0;
    double worst = 0.0, sum = 0.0;
    int best_fast = 0, best_direct = 0;
    for (int k = 0; k < ns; k++) {
      double d = fabs(fast[sel[k]] - direct[k]) / fabs(direct[k]);
      if (!(d <= worst)) worst = d;
      sum += d;
      if (fast[sel[k]] > fast[sel[best_fast]]) best_fast = k;
      if (direct[k] > direct[best_direct]) best_direct = k;
    }
    const double loss = 1.0 - direct[best_fast] / direct[best_direct];
    const int ok = worst <= 0.01 && loss <= 0.005 && med_rate >= 10000.0 && t_prepare <= 30.0;
    failed |= !ok;
    printf("%-6s %lld poses: prepare %.1f s (adjoint %.1f, grid %.1f: %.0f points), fast %.0f poses/s; "
           "%d direct (%.1f s): max diff %.3e, mean %.3e, best %s (loss %.2e)\n",
           tinfo.name, (long long)np, t_prepare, t_adj, t_grid, gpts, med_rate, ns, t_direct, worst, sum / ns,
           best_fast == best_direct ? "same" : "differs", loss);
    fprintf(f,
            "%s{\"target\": \"%s\", \"mni_mm\": [%g, %g, %g], \"gm_projection_mm\": [%.4f, %.4f, %.4f], "
            "\"region_radius_mm\": 5, \"poses\": %lld, \"search_create_s\": %.4g, \"prepare_s\": %.4g, "
            "\"adjoint_s\": %.4g, \"grid_s\": %.4g, \"grid_points\": %.0f, \"grid_bytes\": %.0f, "
            "\"fast_poses_per_second_median\": %.6g, \"fast_repeats\": %d, \"fast_uncovered\": %.0f, "
            "\"direct_poses\": %d, \"direct_s\": %.4g, \"max_rel_diff\": %.6g, \"mean_rel_diff\": %.6g, "
            "\"best_same\": %s, \"best_loss\": %.6g, \"best_fast_objective\": %.8g, \"best_direct_objective\": %.8g, "
            "\"pass\": %s}",
            ti > 6 ? ",\n" : "", tinfo.name, tinfo.mni_mm[0], tinfo.mni_mm[1], tinfo.mni_mm[2], proj[0] * 1e3,
            proj[1] * 1e3, proj[2] * 1e3, (long long)np, t_search_create, t_prepare, t_adj, t_grid, gpts, gbytes,
            med_rate, repeats, outside, ns, t_direct, worst, sum / ns, best_fast == best_direct ? "true" : "false",
            loss, fast[sel[best_fast]], direct[best_direct], ok ? "true" : "false");
    fflush(f);
    free(fast), free(rate), free(rk), free(sel), free(used), free(Ps), free(direct);
    tmsf_placement_destroy(&pl);
    tmsf_search_destroy(&search);
    tmsf_region_destroy(&region);
  }
  fprintf(f, "\n]\n}\n");
  fclose(f);
  tmsf_simulation_destroy(&sim);
  tmsf_casing_destroy(&casing);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return failed;
}

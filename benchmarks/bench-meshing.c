/*
 * SPDX-License-Identifier: BSD-3-Clause
 * bench-meshing.c: time tmsf_mesh_from_labels on a label volume and write JSON
 * (median and all wall times, load average, mesh counts, quality, tissue
 * volume errors against the voxel volumes).
 *
 *   bench-meshing LABELS.nii.gz PRESET [RUNS] [THREADS] [OUT.json] [OUT.msh]
 *
 * Environment overrides of the meshing parameters (mm): TMSF_CELL, TMSF_CELL_FINE,
 * TMSF_FACET, TMSF_FACET_FINE, TMSF_FACET_DIST, TMSF_CELL_THIN, TMSF_FACET_THIN, TMSF_THIN_VOXELS
 * (voxels), TMSF_PERTURB, TMSF_EXUDE, TMSF_ODT, TMSF_OPT_TIME.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tmsfield/tmsfield.h>

static double wtime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void env_d(const char *name, double *v) {
  const char *s = getenv(name);
  if (s && *s) *v = atof(s);
}

static void env_i(const char *name, int *v) {
  const char *s = getenv(name);
  if (s && *s) *v = atoi(s);
}

static void loadavg(double l[3]) {
  l[0] = l[1] = l[2] = NAN;
  FILE *f = fopen("/proc/loadavg", "r");
  if (!f) return;
  if (fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3) l[0] = l[1] = l[2] = NAN;
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench-meshing LABELS.nii.gz PRESET [RUNS] [THREADS] [OUT.json] [OUT.msh]\n");
    return 2;
  }
  const char *path = argv[1], *preset = argv[2];
  int runs = argc > 3 ? atoi(argv[3]) : 3;
  int threads = argc > 4 ? atoi(argv[4]) : 2;
  const char *json = argc > 5 ? argv[5] : NULL;
  const char *msh = argc > 6 ? argv[6] : NULL;
  if (runs < 1) runs = 1;
  tmsf_context *ctx;
  if (tmsf_context_create(&ctx)) return 1;
  tmsf_context_set_threads(ctx, threads);
  tmsf_labels *labels;
  if (tmsf_labels_read(ctx, path, &labels)) {
    fprintf(stderr, "bench-meshing: %s\n", tmsf_context_last_error(ctx));
    return 1;
  }
  tmsf_meshing_params p;
  tmsf_meshing_params_init(&p);
  env_d("TMSF_CELL", &p.cell_size_mm);
  env_d("TMSF_CELL_FINE", &p.cell_size_fine_mm);
  env_d("TMSF_FACET", &p.facet_size_mm);
  env_d("TMSF_FACET_FINE", &p.facet_size_fine_mm);
  env_d("TMSF_FACET_DIST", &p.facet_distance_mm);
  env_d("TMSF_OPT_TIME", &p.optimize_time_s);
  env_d("TMSF_CELL_THIN", &p.cell_size_thin_mm);
  env_d("TMSF_FACET_THIN", &p.facet_size_thin_mm);
  env_i("TMSF_THIN_VOXELS", &p.thin_voxels);
  env_i("TMSF_PERTURB", &p.perturb);
  env_i("TMSF_EXUDE", &p.exude);
  env_i("TMSF_ODT", &p.odt);
  env_i("TMSF_RELABEL", &p.relabel);
  p.num_threads = threads;
  double *t = calloc((size_t)runs, sizeof(double));
  double load_before[3], load_after[3];
  loadavg(load_before);
  tmsf_mesh *mesh = NULL;
  for (int r = 0; r < runs; r++) {
    tmsf_mesh_destroy(&mesh);
    double t0 = wtime();
    if (tmsf_mesh_from_labels(labels, preset, &p, &mesh)) {
      fprintf(stderr, "bench-meshing: %s\n", tmsf_context_last_error(ctx));
      return 1;
    }
    t[r] = wtime() - t0;
    fprintf(stderr, "run %d: %.2f s\n", r + 1, t[r]);
  }
  loadavg(load_after);
  double *ts = malloc(sizeof(double) * (size_t)runs);
  memcpy(ts, t, sizeof(double) * (size_t)runs);
  qsort(ts, (size_t)runs, sizeof(double), cmp);
  double median = runs % 2 ? ts[runs / 2] : 0.5 * (ts[runs / 2 - 1] + ts[runs / 2]);
  tmsf_mesh_quality_report q;
  tmsf_mesh_quality(mesh, &q);
  tmsf_mesh_quality_compare(&q, labels, preset);
  q.mesh_time_s = median;
  tmsf_mesh_quality_print(&q, stdout);
  if (msh && tmsf_mesh_write(mesh, NULL, msh)) fprintf(stderr, "bench-meshing: %s\n", tmsf_context_last_error(ctx));
  FILE *f = json ? fopen(json, "w") : stdout;
  if (!f) return 1;
  fprintf(f, "{\n  \"benchmark\": \"meshing\",\n  \"labels\": \"%s\",\n  \"preset\": \"%s\",\n", path, preset);
  fprintf(f, "  \"threads\": %d,\n  \"runs\": %d,\n  \"median_s\": %.3f,\n  \"times_s\": [", threads, runs, median);
  for (int r = 0; r < runs; r++) fprintf(f, "%s%.3f", r ? ", " : "", t[r]);
  fprintf(f, "],\n  \"loadavg_before\": [%.2f, %.2f, %.2f],\n  \"loadavg_after\": [%.2f, %.2f, %.2f],\n",
          load_before[0], load_before[1], load_before[2], load_after[0], load_after[1], load_after[2]);
  fprintf(f,
          "  \"params_mm\": {\"cell\": %g, \"cell_fine\": %g, \"facet\": %g, \"facet_fine\": %g, "
          "\"facet_distance\": %g, \"cell_thin\": %g, \"facet_thin\": %g, \"thin_voxels\": %d, "
          "\"perturb\": %d, \"exude\": %d, \"odt\": %d},\n",
          p.cell_size_mm, p.cell_size_fine_mm, p.facet_size_mm, p.facet_size_fine_mm, p.facet_distance_mm,
          p.cell_size_thin_mm, p.facet_size_thin_mm, p.thin_voxels, p.perturb, p.exude, p.odt);
  fprintf(f, "  \"nodes\": %lld,\n  \"tetrahedra\": %lld,\n  \"triangles\": %lld,\n", (long long)q.num_nodes,
          (long long)q.num_tets, (long long)q.num_tris);
  fprintf(f, "  \"inverted\": %lld,\n  \"min_dihedral_deg\": %.3f,\n  \"dihedral_below_5\": %lld,\n",
          (long long)q.num_inverted, q.min_dihedral_deg, (long long)q.num_dihedral_below_5);
  fprintf(f, "  \"radius_edge_mean\": %.4f,\n  \"radius_edge_p99\": %.4f,\n  \"radius_edge_max\": %.4f,\n",
          q.radius_edge_mean, q.radius_edge_p99, q.radius_edge_max);
  fprintf(f, "  \"max_abs_volume_rel_error\": %.5f,\n  \"tissues\": [", q.max_abs_volume_rel_error);
  for (int i = 0; i < q.num_tags; i++)
    fprintf(f, "%s\n    {\"tag\": %d, \"tets\": %lld, \"volume_mm3\": %.1f, \"voxel_volume_mm3\": %.1f, \"rel_error\": %.5f}",
            i ? "," : "", (int)q.tags[i], (long long)q.tets_per_tag[i], q.volume_mm3[i], q.voxel_volume_mm3[i],
            q.volume_rel_error[i]);
  fprintf(f, "\n  ]\n}\n");
  if (json) fclose(f);
  free(t);
  free(ts);
  tmsf_mesh_destroy(&mesh);
  tmsf_labels_destroy(&labels);
  tmsf_context_destroy(&ctx);
  return 0;
}

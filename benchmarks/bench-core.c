/*
 * SPDX-License-Identifier: BSD-3-Clause
 * bench-core: time and peak memory of each phase of one TMS simulation —
 * read, coil, primary field, assembly, solver setup, solve (right-hand side,
 * linear solve, fields) and write — on a given mesh, with JSON output.
 *
 *   bench-core --mesh FILE.msh [--coil FILE] [--repeat N] [--threads N]
 *              [--json OUT.json] [--tolerance RTOL] [--solver NAME]
 *
 * Repeated phases (primary field, solve) run N times at N different coil
 * orientations (so warm starts do not flatter the solve) and report the
 * median, minimum and maximum.  Peak memory is the resident-set high-water
 * mark of the process during the phase (Linux: reset through
 * /proc/self/clear_refs, read from VmHWM), so it includes everything alive at
 * the time, e.g. the mesh during the solve.
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

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void reset_peak(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (f) {
    fputs("5", f);
    fclose(f);
  }
}

static long status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  size_t kl = strlen(key);
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      v = strtol(line + kl + 1, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct phase {
  const char *name;
  int n;
  double s[64];
  long peak_kb;
} phase;

static void phase_add(phase *p, double sec) {
  if (p->n < 64) p->s[p->n++] = sec;
}

static double median(const phase *p) {
  double t[64];
  memcpy(t, p->s, sizeof(double) * (size_t)p->n);
  qsort(t, (size_t)p->n, sizeof(double), cmp_double);
  return p->n % 2 ? t[p->n / 2] : 0.5 * (t[p->n / 2 - 1] + t[p->n / 2]);
}

static void cpu_model(char *buf, size_t cap) {
  snprintf(buf, cap, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, "model name", 10) == 0) {
      char *c = strchr(line, ':');
      if (c) {
        c++;
        while (*c == ' ') c++;
        c[strcspn(c, "\n\"\\")] = '\0';
        snprintf(buf, cap, "%s", c);
      }
      break;
    }
  fclose(f);
}

#define CHECKED(call)                                                                              \
  do {                                                                                             \
    int ierr_ = (call);                                                                            \
    if (ierr_) {                                                                                   \
      fprintf(stderr, "bench-core: %s failed: %s\n", #call, tmsf_context_last_error(ctx));         \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

int main(int argc, char **argv) {
  const char *mesh_path = NULL, *coil_path = NULL, *json_path = NULL, *solver = "cg", *out_msh = NULL;
  int repeat = 5, threads = 0;
  double rtol = 1e-10;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--mesh") && i + 1 < argc) mesh_path = argv[++i];
    else if (!strcmp(argv[i], "--coil") && i + 1 < argc) coil_path = argv[++i];
    else if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
    else if (!strcmp(argv[i], "--write") && i + 1 < argc) out_msh = argv[++i];
    else if (!strcmp(argv[i], "--solver") && i + 1 < argc) solver = argv[++i];
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--tolerance") && i + 1 < argc) rtol = atof(argv[++i]);
    else {
      fprintf(stderr,
              "usage: bench-core --mesh FILE.msh [--coil FILE] [--repeat N] [--threads N] "
              "[--json OUT.json] [--write OUT.msh] [--solver NAME] [--tolerance RTOL]\n");
      return 2;
    }
  }
  if (!mesh_path || repeat < 1 || repeat > 64 || threads < 0) {
    fprintf(stderr, "bench-core: --mesh is required; --repeat 1..64\n");
    return 2;
  }
  if (!coil_path) coil_path = "data/coils/Magstim_70mm_Fig8.ccd";

  tmsf_context *ctx;
  if (tmsf_context_create(&ctx)) return 1;
  CHECKED(tmsf_context_set_threads(ctx, threads));
  int nthreads;
  tmsf_context_get_threads(ctx, &nthreads);
  phase ph_read = {"read", 0, {0}, 0}, ph_coil = {"coil", 0, {0}, 0}, ph_primary = {"primary_field", 0, {0}, 0};
  phase ph_asm = {"assembly", 0, {0}, 0}, ph_setup = {"solver_setup", 0, {0}, 0};
  phase ph_rhs = {"rhs", 0, {0}, 0}, ph_solve = {"solve", 0, {0}, 0}, ph_fields = {"fields", 0, {0}, 0};
  phase ph_pose = {"pose_total", 0, {0}, 0}, ph_write = {"write", 0, {0}, 0};
  double t;
  tmsf_mesh *mesh;
  tmsf_coil *coil;
  reset_peak();
  t = now();
  CHECKED(tmsf_mesh_read(ctx, mesh_path, &mesh));
  phase_add(&ph_read, now() - t);
  ph_read.peak_kb = status_kb("VmHWM");
  reset_peak();
  t = now();
  CHECKED(tmsf_coil_read(ctx, coil_path, &coil));
  phase_add(&ph_coil, now() - t);
  ph_coil.peak_kb = status_kb("VmHWM");
  int64_t nn, ne, nd;
  tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
  tmsf_coil_get_num_dipoles(coil, &nd);
  const double *nodes;
  tmsf_mesh_get_nodes(mesh, &nodes);
  double lo[3], hi[3];
  tmsf_mesh_get_bounds(mesh, lo, hi);
  double top[3] = {0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]), hi[2]};
  double edge;
  tmsf_mesh_get_mean_edge(mesh, &edge);

  /* poses: over the top of the mesh, rotated by 360/repeat degrees each */
  double (*poses)[16] = malloc(sizeof(double[16]) * (size_t)repeat);
  for (int r = 0; r < repeat; r++) {
    double a = 2.0 * 3.14159265358979323846 * r / repeat;
    double ydir[3] = {sin(a), cos(a), 0.0};
    CHECKED(tmsf_pose_from_centre(mesh, top, ydir, 0.004, poses[r]));
  }
  /* primary field alone at every node */
  double *dadt = malloc(sizeof(double) * 3 * (size_t)nn);
  reset_peak();
  for (int r = 0; r < repeat; r++) {
    t = now();
    CHECKED(tmsf_coil_primary_field(coil, poses[r], 1e6, nn, nodes, dadt, NULL));
    phase_add(&ph_primary, now() - t);
  }
  ph_primary.peak_kb = status_kb("VmHWM");
  free(dadt);

  tmsf_simulation *sim;
  CHECKED(tmsf_simulation_create(ctx, mesh, &sim));
  CHECKED(tmsf_simulation_set_solver(sim, solver));
  CHECKED(tmsf_simulation_set_tolerance(sim, rtol));
  reset_peak();
  CHECKED(tmsf_simulation_setup(sim));
  double v;
  tmsf_simulation_get_info(sim, TMSF_SIM_ASSEMBLY_SECONDS, &v);
  phase_add(&ph_asm, v);
  tmsf_simulation_get_info(sim, TMSF_SIM_SETUP_SECONDS, &v);
  phase_add(&ph_setup, v);
  ph_asm.peak_kb = ph_setup.peak_kb = status_kb("VmHWM");
  double nnz;
  tmsf_simulation_get_info(sim, TMSF_SIM_MATRIX_NONZEROS, &nnz);
  double iters[64];
  tmsf_field *field = NULL;
  reset_peak();
  for (int r = 0; r < repeat; r++) {
    tmsf_field_destroy(&field);
    t = now();
    CHECKED(tmsf_simulation_solve(sim, coil, poses[r], 1e6, &field));
    phase_add(&ph_pose, now() - t);
    tmsf_simulation_get_info(sim, TMSF_SIM_RHS_SECONDS, &v);
    phase_add(&ph_rhs, v);
    tmsf_simulation_get_info(sim, TMSF_SIM_SOLVE_SECONDS, &v);
    phase_add(&ph_solve, v);
    tmsf_simulation_get_info(sim, TMSF_SIM_FIELD_SECONDS, &v);
    phase_add(&ph_fields, v);
    tmsf_simulation_get_info(sim, TMSF_SIM_ITERATIONS, &iters[r]);
  }
  ph_pose.peak_kb = ph_rhs.peak_kb = ph_solve.peak_kb = ph_fields.peak_kb = status_kb("VmHWM");
  if (out_msh) {
    reset_peak();
    t = now();
    CHECKED(tmsf_mesh_write(mesh, field, out_msh));
    phase_add(&ph_write, now() - t);
    ph_write.peak_kb = status_kb("VmHWM");
  }
  double pct = 99.9, p999;
  CHECKED(tmsf_field_magnE_percentiles(field, 0, 1, &pct, &p999));

  phase *all[] = {&ph_read, &ph_coil, &ph_primary, &ph_asm, &ph_setup, &ph_rhs, &ph_solve, &ph_fields, &ph_pose, &ph_write};
  const int nph = (int)(sizeof(all) / sizeof(all[0]));
  char cpu[256];
  cpu_model(cpu, sizeof(cpu));
  printf("mesh %s: %lld nodes, %lld tetrahedra, mean edge %.2f mm; coil %lld dipoles; %d threads\n",
         mesh_path, (long long)nn, (long long)ne, edge * 1e3, (long long)nd, nthreads);
  printf("%-14s %10s %10s %10s %12s\n", "phase", "median s", "min s", "max s", "peak RSS MB");
  for (int k = 0; k < nph; k++) {
    phase *p = all[k];
    if (!p->n) continue;
    double mn = p->s[0], mx = p->s[0];
    for (int i = 0; i < p->n; i++) mn = fmin(mn, p->s[i]), mx = fmax(mx, p->s[i]);
    printf("%-14s %10.4f %10.4f %10.4f %12.1f\n", p->name, median(p), mn, mx, p->peak_kb / 1024.0);
  }
  printf("solver %s: iterations", solver);
  for (int r = 0; r < repeat; r++) printf(" %g", iters[r]);
  printf("; |E| 99.9th percentile %.3f V/m at 1 A/us\n", p999);

  if (json_path) {
    FILE *f = fopen(json_path, "w");
    if (!f) {
      fprintf(stderr, "bench-core: cannot write %s\n", json_path);
      return 1;
    }
    time_t now_t = time(NULL);
    char date[64];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now_t));
    fprintf(f, "{\n  \"benchmark\": \"core\",\n  \"commit\": \"%s\",\n  \"version\": \"%s\",\n", TMSF_GIT_COMMIT, tmsf_version());
    fprintf(f, "  \"build\": \"%s\",\n  \"date\": \"%s\",\n  \"cpu\": \"%s\",\n  \"threads\": %d,\n", tmsf_build_info(), date, cpu, nthreads);
    fprintf(f, "  \"mesh\": \"%s\",\n  \"nodes\": %lld,\n  \"tetrahedra\": %lld,\n  \"mean_edge_mm\": %.4f,\n", mesh_path, (long long)nn, (long long)ne, edge * 1e3);
    fprintf(f, "  \"coil\": \"%s\",\n  \"dipoles\": %lld,\n  \"solver\": \"%s\",\n  \"tolerance\": %g,\n  \"matrix_nonzeros\": %.0f,\n", coil_path, (long long)nd, solver, rtol, nnz);
    fprintf(f, "  \"repeat\": %d,\n  \"iterations\": [", repeat);
    for (int r = 0; r < repeat; r++) fprintf(f, "%s%g", r ? ", " : "", iters[r]);
    fprintf(f, "],\n  \"magnE_p99_9_V_per_m_at_1A_per_us\": %.6g,\n  \"phases\": [\n", p999);
    int first = 1;
    for (int k = 0; k < nph; k++) {
      phase *p = all[k];
      if (!p->n) continue;
      fprintf(f, "%s    {\"name\": \"%s\", \"median_s\": %.6g, \"samples_s\": [", first ? "" : ",\n", p->name, median(p));
      for (int i = 0; i < p->n; i++) fprintf(f, "%s%.6g", i ? ", " : "", p->s[i]);
      fprintf(f, "], \"peak_rss_bytes\": %lld}", (long long)p->peak_kb * 1024);
      first = 0;
    }
    fprintf(f, "\n  ]\n}\n");
    fclose(f);
    printf("wrote %s\n", json_path);
  }
  free(poses);
  tmsf_field_destroy(&field);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return 0;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cmd-dose.c: `tmsfield dose` — the stimulator output that reaches a target
 * field in a region, or a motor threshold carried over to another pose or
 * coil (E-field-matched dosing).  Public API only.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tmsfield/tmsfield.h>

#include "cli-common.h"
#include "commands.h"

static void usage_dose(FILE *f) {
  fprintf(f,
          "usage: tmsfield dose (--mesh FILE.msh | --head SPEC) --coil FILE\n"
          "         (--pose 16 NUMBERS | --centre X,Y,Z --ydir X,Y,Z [--distance MM])\n"
          "         --target X,Y,Z [--radius MM] [--tags LIST] [--metric NAME]\n"
          "         (--field-vpm V_PER_M | --rmt PERCENT --rmt-target X,Y,Z\n"
          "             (--rmt-pose 16 NUMBERS | --rmt-centre X,Y,Z --rmt-ydir X,Y,Z [--rmt-distance MM]))\n"
          "         [options]\n"
          "\n"
          "The stimulator output (%% MSO and dI/dt) at which a field metric on a target\n"
          "region reaches a given value (--field-vpm), or, from a resting motor threshold\n"
          "measured with a coil at an M1 pose (--rmt), the output at the main pose that\n"
          "gives the same metric value (E-field-matched dosing).  One FEM solve per pose\n"
          "at 1 A/us; every metric scales linearly with dI/dt.  %% MSO = dI/dt / dI/dt max x\n"
          "100, with the coil's dIdtmax (the .ccd header).  A result above 100 %% MSO is\n"
          "reported and flagged as beyond the stimulator's limit (warning on stderr).\n"
          "\n"
          "  --mesh FILE        Gmsh head mesh (millimetres)\n"
          "  --head SPEC        instead of --mesh: default (built-in Colin27 head, MNI mm),\n"
          "                     FILE.msh or LABELS.nii.gz [--head-preset NAME], as in simulate\n"
          "  --coil FILE        coil (.ccd, NIfTI); %% MSO needs its dIdtmax\n"
          "  --pose, --centre, --ydir, --distance   the coil pose, as in 'tmsfield simulate'\n"
          "  --target X,Y,Z     centre of the target region, mm\n"
          "  --radius MM        region radius: elements whose centroid lies within it (default 10)\n"
          "  --tags LIST        tissue tags of the region, comma separated (default 2, grey matter)\n"
          "  --metric NAME      mean (volume-weighted mean |E|, the default), pNN (a percentile\n"
          "                     of |E|, e.g. p99), dir:X,Y,Z (mean E along a direction), normal or\n"
          "                     normal:TAG (mean E along the surface normal of triangles TAG,\n"
          "                     default 1002 = GM surface, outward from the tissue)\n"
          "  --field-vpm V      the target value of the metric, V/m\n"
          "  --rmt PERCENT      resting motor threshold, %% MSO, measured at the --rmt-* pose\n"
          "  --rmt-pose, --rmt-centre, --rmt-ydir, --rmt-distance   the M1 pose\n"
          "  --rmt-target X,Y,Z centre of the M1 region, mm (radius and tags as the target's\n"
          "                     unless --rmt-radius MM is given)\n"
          "  --rmt-coil FILE    the coil the threshold was measured with (default: --coil)\n"
          "  --json             print the result as JSON (with --rmt: {\"motor_threshold\", \"dose\"})\n"
          "  --quiet            print nothing but errors and warnings (with --json: only the JSON)\n"
          "  --sigma TAG=S_PER_M, --solver NAME, --field-tolerance REL, --tolerance RTOL,\n"
          "  --threads N        as in 'tmsfield simulate'\n"
          "\n"
          "Exit codes: 0 success (also for a result beyond the limit), 1 library error,\n"
          "2 usage error.\n"
          "\n"
          "examples (from the source tree; the sphere has no grey matter: tags 3 = inner ball):\n"
          "  tmsfield dose --mesh data/spheres/sphere3.msh \\\n"
          "      --coil data/coils/drakaki2022/MagVenture_MC-B70.ccd --centre 0,0,95 --ydir 0,1,0 \\\n"
          "      --target 0,0,80 --radius 10 --tags 3 --metric p99 --field-vpm 100\n"
          "\n"
          "  tmsfield dose --mesh data/spheres/sphere3.msh \\\n"
          "      --coil data/coils/drakaki2022/MagVenture_MC-B70.ccd --centre 50,20,80 --ydir 1,1,0 \\\n"
          "      --target 40,16,64 --radius 10 --tags 3 --metric mean \\\n"
          "      --rmt 45 --rmt-centre 0,0,95 --rmt-ydir 0,1,0 --rmt-target 0,0,80 --json\n");
}

static int fail_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "tmsfield: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see 'tmsfield dose --help')\n");
  va_end(ap);
  return EXIT_USAGE;
}

typedef struct dose_opts {
  const char *mesh, *coil, *rmt_coil, *metric;
  cli_pose pose, rmt_pose;
  double target_mm[3], rmt_target_mm[3], radius_mm, rmt_radius_mm, field_vpm, rmt;
  int have_target, have_rmt_target, have_field, have_rmt, json, quiet;
  int num_tags;
  int32_t tags[TMSF_REGION_MAX_TAGS];
  cli_sim sim;
  cli_head head;
} dose_opts;

static int parse_dose(int argc, char **argv, dose_opts *o) {
  memset(o, 0, sizeof(*o));
  cli_pose_init(&o->pose);
  cli_pose_init(&o->rmt_pose);
  cli_sim_init(&o->sim);
  cli_head_init(&o->head);
  o->radius_mm = 10.0;
  o->metric = "mean";
  char err[256];
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    int r = cli_pose_option(argc, argv, &i, "", &o->pose, err, sizeof(err));
    if (r == 0) r = cli_pose_option(argc, argv, &i, "rmt-", &o->rmt_pose, err, sizeof(err));
    if (r == 0) r = cli_sim_option(argc, argv, &i, &o->sim, err, sizeof(err));
    if (r == 0) r = cli_head_option(argc, argv, &i, &o->head, err, sizeof(err));
    if (r < 0) return fail_usage("%s", err);
    if (r > 0) continue;
#define NEED_VALUE()                                                                               \
  do {                                                                                             \
    if (!val) return fail_usage("option %s needs a value", a);                                     \
    i++;                                                                                           \
  } while (0)
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_dose(stdout);
      exit(0);
    } else if (!strcmp(a, "--coil")) {
      NEED_VALUE();
      o->coil = val;
    } else if (!strcmp(a, "--rmt-coil")) {
      NEED_VALUE();
      o->rmt_coil = val;
    } else if (!strcmp(a, "--target")) {
      NEED_VALUE();
      if (!parse_vec(val, o->target_mm, 3)) return fail_usage("--target expects X,Y,Z in mm, got '%s'", val);
      o->have_target = 1;
    } else if (!strcmp(a, "--rmt-target")) {
      NEED_VALUE();
      if (!parse_vec(val, o->rmt_target_mm, 3)) return fail_usage("--rmt-target expects X,Y,Z in mm, got '%s'", val);
      o->have_rmt_target = 1;
    } else if (!strcmp(a, "--radius") || !strcmp(a, "--rmt-radius")) {
      NEED_VALUE();
      double *dst = !strcmp(a, "--rmt-radius") ? &o->rmt_radius_mm : &o->radius_mm;
      if (!parse_double(val, dst) || !(*dst > 0.0)) return fail_usage("%s expects mm > 0, got '%s'", a, val);
    } else if (!strcmp(a, "--tags")) {
      NEED_VALUE();
      if (!parse_tags(val, o->tags, TMSF_REGION_MAX_TAGS, &o->num_tags))
        return fail_usage("--tags expects up to %d positive tags separated by commas (e.g. 2 or 1,2), got '%s'",
                          TMSF_REGION_MAX_TAGS, val);
    } else if (!strcmp(a, "--metric")) {
      NEED_VALUE();
      o->metric = val;
    } else if (!strcmp(a, "--field-vpm")) {
      NEED_VALUE();
      if (!parse_double(val, &o->field_vpm) || !(o->field_vpm > 0.0))
        return fail_usage("--field-vpm expects a field in V/m > 0, got '%s'", val);
      o->have_field = 1;
    } else if (!strcmp(a, "--rmt")) {
      NEED_VALUE();
      if (!parse_double(val, &o->rmt)) return fail_usage("--rmt expects a percentage of MSO, got '%s'", val);
      o->have_rmt = 1;
    } else if (!strcmp(a, "--json")) {
      o->json = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      o->quiet = 1;
    } else {
      return fail_usage("unknown option '%s'", a);
    }
#undef NEED_VALUE
  }
  if (cli_head_complete(&o->head, err, sizeof(err))) return fail_usage("%s", err);
  o->mesh = cli_head_name(&o->head);
  if (!o->coil) return fail_usage("--coil FILE is required");
  const char *msg = cli_pose_complete(&o->pose, "", err, sizeof(err));
  if (msg) return fail_usage("%s", msg);
  if (!o->have_target) return fail_usage("--target X,Y,Z (mm) is required: the centre of the target region");
  if (o->have_field == o->have_rmt)
    return fail_usage("give exactly one of --field-vpm V_PER_M (a target field) or --rmt PERCENT (a motor threshold)");
  if (o->have_rmt) {
    msg = cli_pose_complete(&o->rmt_pose, "rmt-", err, sizeof(err));
    if (msg) return fail_usage("--rmt needs the pose the threshold was measured at: %s", msg);
    if (!o->have_rmt_target) return fail_usage("--rmt needs --rmt-target X,Y,Z (mm): the centre of the M1 region");
  } else if (o->have_rmt_target || o->rmt_coil || o->rmt_radius_mm > 0.0 || o->rmt_pose.have_pose ||
             o->rmt_pose.have_centre || o->rmt_pose.have_ydir) {
    return fail_usage("the --rmt-* options go with --rmt PERCENT");
  }
  if (o->rmt_radius_mm == 0.0) o->rmt_radius_mm = o->radius_mm;
  if (cli_sim_complete(&o->sim, err, sizeof(err))) return fail_usage("%s", err);
  return 0;
}

static void print_result(const char *title, const tmsf_dose_result *r) {
  printf("%s\n", title);
  printf("  coil      %s, dI/dt max ", r->coil_name);
  if (isfinite(r->didt_max_A_per_s))
    printf("%.2f A/us at 100 %% MSO\n", r->didt_max_A_per_s * 1e-6);
  else
    printf("unknown (no dIdtmax: %% MSO not available)\n");
  const double *P = r->head_from_coil_m;
  printf("  pose      centre (%.2f, %.2f, %.2f) mm, z (%.3f, %.3f, %.3f), y (%.3f, %.3f, %.3f)\n", P[3] * 1e3,
         P[7] * 1e3, P[11] * 1e3, P[2], P[6], P[10], P[1], P[5], P[9]);
  printf("  region    tags");
  for (int i = 0; i < r->region_num_tags; i++) printf("%s%d", i ? "," : " ", (int)r->region_tags[i]);
  printf(" within %.3g mm of (%.2f, %.2f, %.2f) mm: %lld tetrahedra, %.4g mm^3\n", r->region_radius_m * 1e3,
         r->region_centre_m[0] * 1e3, r->region_centre_m[1] * 1e3, r->region_centre_m[2] * 1e3,
         (long long)r->region_num_elements, r->region_volume_m3 * 1e9);
  printf("  metric    %s: %s\n", r->metric_name, r->metric_description);
  printf("  per A/us  %.6g V/m\n", r->metric_per_A_per_us_V_per_m);
  printf("  field     %.6g V/m\n", r->target_V_per_m);
  if (isfinite(r->mso_percent))
    printf("  output    %.2f %% MSO = %.3f A/us%s\n", r->mso_percent, r->didt_A_per_s * 1e-6,
           r->beyond_limit ? "  BEYOND THE STIMULATOR'S LIMIT (100 % MSO)" : "");
  else
    printf("  output    %.3f A/us\n", r->didt_A_per_s * 1e-6);
}

static int print_json(const tmsf_dose_result *r, const char *key, int last) {
  size_t len;
  tmsf_dose_result_to_json(r, NULL, 0, &len);
  char *buf = malloc(len + 1);
  if (!buf) return 0;
  tmsf_dose_result_to_json(r, buf, len + 1, NULL);
  if (key) {
    /* indent the object by two spaces inside the outer one */
    printf("  \"%s\": ", key);
    for (size_t k = 0; k < len; k++) {
      if (buf[k] == '\n' && k + 1 < len) printf("\n  ");
      else if (buf[k] != '\n') putchar(buf[k]);
    }
    printf("%s\n", last ? "" : ",");
  } else {
    fputs(buf, stdout);
  }
  free(buf);
  return 1;
}

int tmsf_cmd_dose(int argc, char **argv) {
  dose_opts o;
  int rc = parse_dose(argc, argv, &o);
  if (rc) return rc;
  if (cli_parse_only()) return 0;
  tmsf_context *ctx = NULL;
  tmsf_mesh *mesh = NULL;
  tmsf_coil *coil = NULL, *rmt_coil = NULL;
  tmsf_simulation *sim = NULL;
  tmsf_region *region = NULL, *rmt_region = NULL;
  int ierr;
  if ((ierr = tmsf_context_create(&ctx))) {
    fprintf(stderr, "tmsfield: error: %s\n", tmsf_status_string(ierr));
    return EXIT_LIB;
  }
  tmsf_metric metric;
  tmsf_dose_result res, res_a;
  double P[16], PA[16];
  if ((ierr = tmsf_metric_parse(ctx, o.metric, &metric))) {
    fprintf(stderr, "tmsfield: %s\n(see 'tmsfield dose --help')\n", tmsf_context_last_error(ctx));
    tmsf_context_destroy(&ctx);
    return EXIT_USAGE;
  }
  /* progress bars: meshing (a label head at first use), setup, solves */
  cli_progress bar;
  cli_progress_init(&bar, o.quiet);
  tmsf_context_set_progress(ctx, cli_progress_cb, &bar);
  if ((ierr = tmsf_context_set_threads(ctx, o.sim.threads))) goto lib_error;
  if ((ierr = cli_head_open(ctx, &o.head, "tmsfield", o.quiet, &mesh))) goto lib_error;
  if ((ierr = cli_sim_apply_mesh(&o.sim, mesh))) goto lib_error;
  if ((ierr = tmsf_coil_open(ctx, o.coil, &coil))) goto lib_error;
  if (o.rmt_coil && (ierr = tmsf_coil_open(ctx, o.rmt_coil, &rmt_coil))) goto lib_error;
  if ((ierr = cli_pose_resolve(ctx, mesh, &o.pose, P))) goto lib_error;
  double c[3] = {o.target_mm[0] * 1e-3, o.target_mm[1] * 1e-3, o.target_mm[2] * 1e-3};
  if ((ierr = tmsf_region_create_sphere(mesh, c, o.radius_mm * 1e-3, o.num_tags, o.tags, &region))) goto lib_error;
  if (o.have_rmt) {
    if ((ierr = cli_pose_resolve(ctx, mesh, &o.rmt_pose, PA))) goto lib_error;
    double ca[3] = {o.rmt_target_mm[0] * 1e-3, o.rmt_target_mm[1] * 1e-3, o.rmt_target_mm[2] * 1e-3};
    if ((ierr = tmsf_region_create_sphere(mesh, ca, o.rmt_radius_mm * 1e-3, o.num_tags, o.tags, &rmt_region)))
      goto lib_error;
  }
  if ((ierr = tmsf_simulation_create(ctx, mesh, &sim))) goto lib_error;
  if ((ierr = cli_sim_apply(&o.sim, sim))) goto lib_error;
  if ((ierr = tmsf_simulation_setup(sim))) goto lib_error;
  if (o.have_rmt) {
    if ((ierr = tmsf_dose_transfer(sim, rmt_coil ? rmt_coil : coil, PA, rmt_region, o.rmt, coil, P, region, &metric,
                                   &res_a, &res)))
      goto lib_error;
  } else {
    if ((ierr = tmsf_dose_for_target(sim, coil, P, region, &metric, o.field_vpm, &res))) goto lib_error;
  }
  cli_progress_finish(&bar);
  if (o.json) {
    if (o.have_rmt) {
      printf("{\n");
      print_json(&res_a, "motor_threshold", 0);
      print_json(&res, "dose", 1);
      printf("}\n");
    } else {
      print_json(&res, NULL, 1);
    }
  } else if (!o.quiet) {
    int64_t nn, ne;
    tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
    const char *sname;
    tmsf_simulation_get_solver(sim, &sname);
    printf("mesh        %s: %lld nodes, %lld tetrahedra; solver %s\n", o.mesh, (long long)nn, (long long)ne, sname);
    if (o.have_rmt) {
      print_result("motor threshold (measured)", &res_a);
      print_result("dose (the same field at the target)", &res);
    } else {
      print_result("dose", &res);
    }
  }
  if (res.beyond_limit)
    fprintf(stderr, "tmsfield: warning: %.1f %% MSO is beyond the stimulator's limit (100 %% MSO) for coil %s\n",
            res.mso_percent, res.coil_name);
  rc = 0;
  goto done;
lib_error:
  cli_progress_finish(&bar);
  fprintf(stderr, "tmsfield: error: %s\n",
          *tmsf_context_last_error(ctx) ? tmsf_context_last_error(ctx) : tmsf_status_string(ierr));
  rc = EXIT_LIB;
done:
  tmsf_simulation_destroy(&sim);
  tmsf_region_destroy(&region);
  tmsf_region_destroy(&rmt_region);
  tmsf_coil_destroy(&coil);
  tmsf_coil_destroy(&rmt_coil);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return rc;
}

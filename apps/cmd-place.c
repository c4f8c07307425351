/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cmd-place.c: `tmsfield place` — the coil pose that maximises the field on
 * a cortical target (M1, DLPFC, any named target or point), and the
 * stimulator output for a field strength there or from a motor threshold.
 * Public API only.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <tmsfield/tmsfield.h>

#include "cli-common.h"
#include "commands.h"

#define MAX_TARGETS 8
#define MAX_AVOID 8

static void usage_place(FILE *f) {
  fprintf(f,
          "usage: tmsfield place (--head SPEC | --mesh FILE.msh) --target M1|DLPFC|NAME|X,Y,Z [options]\n"
          "\n"
          "Finds the coil pose (position on the scalp and handle direction) that maximises\n"
          "an objective on the target region, then the stimulator output that gives the\n"
          "requested field there.  Every scalp position within --search-radius of the\n"
          "target's scalp projection (at --spacing) and every handle angle (at --angle-step)\n"
          "is evaluated, the best are refined continuously (GSL Nelder-Mead), and the\n"
          "winner is checked by a full FEM solve.  With --method fast (the default) each\n"
          "pose costs a sum over the coil's elements after one adjoint solve per target\n"
          "(reciprocity; exact for meanvec, dir and normal objectives); --method direct\n"
          "solves the FEM problem for every pose.\n"
          "\n"
          "  --head SPEC        default (built-in Colin27 head, MNI mm), FILE.msh or LABELS.nii.gz\n"
          "  --mesh FILE        a Gmsh head mesh (millimetres)\n"
          "  --target T         M1, DLPFC, F3, FOX, ... ('tmsfield targets' lists them; MNI\n"
          "                     coordinates, mapped with --mni-affine) or X,Y,Z head mm.\n"
          "                     Repeat it to optimise several targets at once (summed)\n"
          "  --mni-affine FILE  NIfTI whose sform maps MNI mm to head mm (default: identity,\n"
          "                     right for the built-in head)\n"
          "  --coil NAME|FILE   coil (default MagVenture_MC-B70; 'tmsfield coils' lists names);\n"
          "                     .ccd, .tcd and A-field NIfTI coils\n"
          "  --casing FILE.stl  coil casing for the collision test (default: the coil's .stl\n"
          "                     beside its file, else its elements)\n"
          "  --objective M      meanvec (|mean E|, the default), mean (mean |E|), pNN,\n"
          "                     dir:X,Y,Z, normal (mean E along the cortical normal)\n"
          "  --radius MM        target region: grey matter within MM of the target's grey-\n"
          "                     matter projection (default 5)\n"
          "  --tags LIST        tissue tags of the region (default 2, grey matter; the target\n"
          "                     is projected onto the first)\n"
          "  --avoid X,Y,Z[:MM] a region to spare (|mean E| subtracted; repeatable)\n"
          "  --avoid-weight W   weight of the avoid terms (default 1)\n"
          "  --focality F:W     subtract W x grey-matter volume (cm^3) above F x its max (direct)\n"
          "  --search-radius MM positions within MM of the target's scalp projection (default 20)\n"
          "  --spacing MM       position grid spacing (default 2)\n"
          "  --angle-step DEG   handle angle step (default 5); --angle-range MIN,MAX (default 0,360)\n"
          "  --distance MM      coil centre to scalp (default 4)\n"
          "  --method M         fast (default) or direct\n"
          "  --no-refine        keep the best grid pose\n"
          "  --top N            poses listed in the report (default 10)\n"
          "  --dose-vpm V       %% MSO for this objective value in V/m (default 100)\n"
          "  --rmt PERCENT      instead: the motor threshold measured at --rmt-pose FILE (a\n"
          "                     report .json of 'place', a Localite .xml, a Brainsight .txt or\n"
          "                     16 numbers in mm); the same field at the optimum (M1 region:\n"
          "                     --rmt-target, default M1)\n"
          "  --out DIR          write DIR/field.msh (E, magnE at the dose), DIR/magnE.nii.gz,\n"
          "                     DIR/placement.json, DIR/localite.xml, DIR/brainsight.txt\n"
          "  --json             print the report as JSON on stdout\n"
          "  --quiet            no progress or summary (errors only)\n"
          "  --threads N, --solver NAME, --sigma TAG=S_PER_M   as in 'tmsfield simulate'\n"
          "\n"
          "Exit codes: 0 success (also for a dose beyond the stimulator's limit, flagged),\n"
          "1 library error (message on stderr), 2 usage error.\n"
          "\n"
          "examples:\n"
          "  tmsfield place --head default --target M1 --out m1\n"
          "  tmsfield place --head default --target DLPFC --coil MagStim_D70 --out dlpfc --json\n"
          "  tmsfield place --head default --target F3 --objective normal --dose-vpm 80\n"
          "  tmsfield place --head default --target FOX --rmt 45 --rmt-pose m1/placement.json\n");
}

static int fail_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "tmsfield: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see 'tmsfield place --help')\n");
  va_end(ap);
  return EXIT_USAGE;
}

typedef struct place_opts {
  cli_head head;
  cli_sim sim;
  const char *targets[MAX_TARGETS];
  int num_targets;
  const char *mni_affine, *coil, *casing, *objective, *out, *rmt_pose, *rmt_target;
  double radius_mm, search_radius_mm, spacing_mm, angle_step, angle_min, angle_max, distance_mm;
  double avoid[MAX_AVOID][4];
  int num_avoid;
  double avoid_weight, foc_fraction, foc_weight;
  int have_focality, method, refine, top, json, quiet;
  double dose_vpm, rmt;
  int have_dose, have_rmt;
  int num_tags;
  int32_t tags[TMSF_REGION_MAX_TAGS];
} place_opts;

static int parse_place(int argc, char **argv, place_opts *o) {
  memset(o, 0, sizeof(*o));
  cli_head_init(&o->head);
  cli_sim_init(&o->sim);
  o->coil = "MagVenture_MC-B70";
  o->objective = "meanvec";
  o->radius_mm = 5.0;
  o->search_radius_mm = 20.0;
  o->spacing_mm = 2.0;
  o->angle_step = 5.0;
  o->angle_min = 0.0, o->angle_max = 360.0;
  o->distance_mm = 4.0;
  o->avoid_weight = 1.0;
  o->refine = 1;
  o->top = 10;
  o->dose_vpm = 100.0;
  o->rmt_target = "M1";
  char err[256];
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    int r = cli_sim_option(argc, argv, &i, &o->sim, err, sizeof(err));
    if (r == 0) r = cli_head_option(argc, argv, &i, &o->head, err, sizeof(err));
    if (r < 0) return fail_usage("%s", err);
    if (r > 0) continue;
#define NEED_VALUE()                                                                               \
  do {                                                                                             \
    if (!val) return fail_usage("option %s needs a value", a);                                     \
    i++;                                                                                           \
  } while (0)
#define POSITIVE(dst, what)                                                                        \
  do {                                                                                             \
    NEED_VALUE();                                                                                  \
    if (!parse_double(val, &(dst)) || !((dst) > 0.0))                                              \
      return fail_usage("%s expects %s > 0, got '%s'", a, what, val);                              \
  } while (0)
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_place(stdout);
      exit(0);
    } else if (!strcmp(a, "--target")) {
      NEED_VALUE();
      if (o->num_targets == MAX_TARGETS) return fail_usage("at most %d --target options", MAX_TARGETS);
      o->targets[o->num_targets++] = val;
    } else if (!strcmp(a, "--mni-affine")) {
      NEED_VALUE();
      o->mni_affine = val;
    } else if (!strcmp(a, "--coil")) {
      NEED_VALUE();
      o->coil = val;
    } else if (!strcmp(a, "--casing")) {
      NEED_VALUE();
      o->casing = val;
    } else if (!strcmp(a, "--objective")) {
      NEED_VALUE();
      o->objective = val;
    } else if (!strcmp(a, "--radius")) {
      POSITIVE(o->radius_mm, "a radius in mm");
    } else if (!strcmp(a, "--tags")) {
      NEED_VALUE();
      if (!parse_tags(val, o->tags, TMSF_REGION_MAX_TAGS, &o->num_tags)) return fail_usage("--tags expects positive tags separated by commas, got '%s'", val);
    } else if (!strcmp(a, "--avoid")) {
      NEED_VALUE();
      if (o->num_avoid == MAX_AVOID) return fail_usage("at most %d --avoid options", MAX_AVOID);
      char buf[256];
      snprintf(buf, sizeof(buf), "%s", val);
      char *colon = strchr(buf, ':');
      double *av = o->avoid[o->num_avoid];
      av[3] = 10.0;
      if (colon) {
        *colon = '\0';
        if (!parse_double(colon + 1, &av[3]) || !(av[3] > 0.0))
          return fail_usage("--avoid expects X,Y,Z[:RADIUS_MM], got '%s'", val);
      }
      if (!parse_vec(buf, av, 3)) return fail_usage("--avoid expects X,Y,Z[:RADIUS_MM] in mm, got '%s'", val);
      o->num_avoid++;
    } else if (!strcmp(a, "--avoid-weight")) {
      POSITIVE(o->avoid_weight, "a weight");
    } else if (!strcmp(a, "--focality")) {
      NEED_VALUE();
      double fw[2];
      if (!parse_vec(val, fw, 2) && sscanf(val, "%lf:%lf", &fw[0], &fw[1]) != 2)
        return fail_usage("--focality expects FRACTION:WEIGHT (e.g. 0.5:1), got '%s'", val);
      o->foc_fraction = fw[0], o->foc_weight = fw[1];
      o->have_focality = 1;
    } else if (!strcmp(a, "--search-radius")) {
      POSITIVE(o->search_radius_mm, "a radius in mm");
    } else if (!strcmp(a, "--spacing")) {
      POSITIVE(o->spacing_mm, "a spacing in mm");
    } else if (!strcmp(a, "--angle-step")) {
      POSITIVE(o->angle_step, "degrees");
    } else if (!strcmp(a, "--angle-range")) {
      NEED_VALUE();
      double v[2];
      if (!parse_vec(val, v, 2) || !(v[1] >= v[0]))
        return fail_usage("--angle-range expects MIN,MAX in degrees with MIN <= MAX, got '%s'", val);
      o->angle_min = v[0], o->angle_max = v[1];
    } else if (!strcmp(a, "--distance")) {
      NEED_VALUE();
      if (!parse_double(val, &o->distance_mm) || !(o->distance_mm >= 0.0))
        return fail_usage("--distance expects mm >= 0, got '%s'", val);
    } else if (!strcmp(a, "--method")) {
      NEED_VALUE();
      if (!strcmp(val, "fast")) o->method = TMSF_PLACEMENT_FAST;
      else if (!strcmp(val, "direct")) o->method = TMSF_PLACEMENT_DIRECT;
      else return fail_usage("--method expects fast or direct, got '%s'", val);
    } else if (!strcmp(a, "--no-refine")) {
      o->refine = 0;
    } else if (!strcmp(a, "--top")) {
      NEED_VALUE();
      char *end;
      long t = strtol(val, &end, 10);
      if (*end || t < 1 || t > TMSF_PLACEMENT_TOP_MAX)
        return fail_usage("--top expects 1..%d, got '%s'", TMSF_PLACEMENT_TOP_MAX, val);
      o->top = (int)t;
    } else if (!strcmp(a, "--dose-vpm")) {
      POSITIVE(o->dose_vpm, "a field in V/m");
      o->have_dose = 1;
    } else if (!strcmp(a, "--rmt")) {
      POSITIVE(o->rmt, "a percentage of MSO");
      o->have_rmt = 1;
    } else if (!strcmp(a, "--rmt-pose")) {
      NEED_VALUE();
      o->rmt_pose = val;
    } else if (!strcmp(a, "--rmt-target")) {
      NEED_VALUE();
      o->rmt_target = val;
    } else if (!strcmp(a, "--out")) {
      NEED_VALUE();
      o->out = val;
    } else if (!strcmp(a, "--json")) {
      o->json = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      o->quiet = 1;
    } else {
      return fail_usage("unknown option '%s'", a);
    }
#undef POSITIVE
#undef NEED_VALUE
  }
  if (cli_head_complete(&o->head, err, sizeof(err))) return fail_usage("%s", err);
  if (o->num_targets == 0) return fail_usage("--target M1|DLPFC|NAME|X,Y,Z is required");
  if (o->have_dose && o->have_rmt) return fail_usage("give --dose-vpm or --rmt, not both");
  if (o->have_rmt && !o->rmt_pose) return fail_usage("--rmt needs --rmt-pose FILE: the pose the threshold was measured at");
  if (o->rmt_pose && !o->have_rmt) return fail_usage("--rmt-pose goes with --rmt PERCENT");
  if (cli_sim_complete(&o->sim, err, sizeof(err))) return fail_usage("%s", err);
  return 0;
}

/* A target spec to head metres: a name of the table (MNI, mapped) or X,Y,Z mm. */
static int resolve_target(tmsf_context *ctx, const char *spec, const double *affine, double head_m[3],
                          double mni_mm[3], int *have_mni, char *name, size_t namelen) {
  double v[3];
  *have_mni = 0;
  if (parse_vec(spec, v, 3)) {
    for (int k = 0; k < 3; k++) head_m[k] = v[k] * 1e-3;
    snprintf(name, namelen, "%s", spec);
    return TMSF_SUCCESS;
  }
  int idx;
  {
      int e_ = tmsf_target_find(ctx, spec, &idx);
      if (e_) return e_;
    }
  tmsf_target_info info;
  tmsf_target_get_info(idx, &info);
  memcpy(mni_mm, info.mni_mm, sizeof(info.mni_mm));
  *have_mni = 1;
  snprintf(name, namelen, "%s", info.name);
  return tmsf_target_mni_to_head(affine, info.mni_mm, head_m);
}

/* The handle (-y) relative to posterior and the midline, in the tangent
 * plane of the coil (perpendicular to z). */
static void handle_direction(const double P[16], double *angle_deg, const char **side) {
  double z[3] = {P[2], P[6], P[10]}, h[3] = {-P[1], -P[5], -P[9]};
  double post[3] = {0.0, -1.0, 0.0}, d = post[0] * z[0] + post[1] * z[1] + post[2] * z[2];
  for (int k = 0; k < 3; k++) post[k] -= d * z[k];
  double pn = sqrt(post[0] * post[0] + post[1] * post[1] + post[2] * post[2]);
  for (int k = 0; k < 3; k++) post[k] /= pn;
  double c = h[0] * post[0] + h[1] * post[1] + h[2] * post[2];
  if (c > 1.0) c = 1.0;
  if (c < -1.0) c = -1.0;
  *angle_deg = acos(c) * 180.0 / 3.14159265358979323846;
  /* lateral: away from the midline x = 0 on the coil's side */
  double lat = h[0] * (P[3] < 0 ? -1.0 : 1.0);
  *side = fabs(h[0]) < 1e-6 ? "on the midline" : lat > 0 ? "lateral" : "medial";
}

/* MNI mm of the pose's centre through the inverse of the MNI-to-head affine
 * (identity when NULL); 0 when the affine is singular. */
static int head_to_mni(const double *A, const double P[16], double mni[3]) {
  double c[3] = {P[3] * 1e3, P[7] * 1e3, P[11] * 1e3};
  if (!A) {
    memcpy(mni, c, sizeof(c));
    return 1;
  }
  double M[3][3] = {{A[0], A[1], A[2]}, {A[4], A[5], A[6]}, {A[8], A[9], A[10]}};
  double b[3] = {c[0] - A[3], c[1] - A[7], c[2] - A[11]};
  double det = M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
               M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
  if (!(fabs(det) > 1e-12)) return 0;
  for (int k = 0; k < 3; k++) { /* Cramer's rule */
    double T[3][3];
    memcpy(T, M, sizeof(T));
    for (int r = 0; r < 3; r++) T[r][k] = b[r];
    mni[k] = (T[0][0] * (T[1][1] * T[2][2] - T[1][2] * T[2][1]) - T[0][1] * (T[1][0] * T[2][2] - T[1][2] * T[2][0]) +
              T[0][2] * (T[1][0] * T[2][1] - T[1][1] * T[2][0])) / det;
  }
  return 1;
}

static void json_matrix(FILE *f, const double P[16], const char *indent) {
  double mm[16];
  tmsf_pose_to_mm(P, mm);
  fprintf(f, "[");
  for (int r = 0; r < 4; r++)
    fprintf(f, "%s[%.10g, %.10g, %.10g, %.10g]", r ? ",\n" : "\n", mm[4 * r], mm[4 * r + 1], mm[4 * r + 2],
            mm[4 * r + 3]);
  (void)indent;
  fprintf(f, "]");
}

/* A number, or null when it is not finite (JSON has no NaN: e.g. %MSO of a
 * coil without dI/dt max). */
static void json_number(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%.10g", v);
  else fprintf(f, "null");
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", (unsigned char)*s);
    else fputc(*s, f);
  }
  fputc('"', f);
}

typedef struct report {
  const place_opts *o;
  const char *coil_name, *coil_path, *stimulator, *target_name, *metric_name, *metric_description;
  double target_m[3], mni_mm[3], gm_m[3], scalp_m[3];
  int have_mni, have_centre_mni;
  double centre_mni_mm[3];
  int64_t region_elements;
  double region_volume_m3;
  const tmsf_placement_result *res;
  const tmsf_dose_result *dose;
  const tmsf_dose_result *rmt; /* NULL without --rmt */
  int64_t num_positions, num_angles, num_poses, dropped_collision, dropped_no_scalp;
  double time_total_s, time_head_s, time_setup_s;
  const char *solver;
  double handle_angle;
  const char *handle_side;
  int threads;
} report;

static void write_report(FILE *f, const report *r) {
  const tmsf_placement_result *res = r->res;
  const double *P = res->pose;
  fprintf(f, "{\n\"tool\": \"tmsfield place\",\n\"version\": ");
  json_string(f, tmsf_version());
  fprintf(f, ",\n\"target\": ");
  json_string(f, r->target_name);
  fprintf(f, ",\n\"target_mm\": [%.6g, %.6g, %.6g],\n", r->target_m[0] * 1e3, r->target_m[1] * 1e3,
          r->target_m[2] * 1e3);
  if (r->have_mni) fprintf(f, "\"target_mni_mm\": [%.6g, %.6g, %.6g],\n", r->mni_mm[0], r->mni_mm[1], r->mni_mm[2]);
  fprintf(f, "\"target_gm_mm\": [%.6g, %.6g, %.6g],\n", r->gm_m[0] * 1e3, r->gm_m[1] * 1e3, r->gm_m[2] * 1e3);
  fprintf(f, "\"scalp_projection_mm\": [%.6g, %.6g, %.6g],\n", r->scalp_m[0] * 1e3, r->scalp_m[1] * 1e3,
          r->scalp_m[2] * 1e3);
  fprintf(f, "\"region_radius_mm\": %.6g,\n\"region_elements\": %lld,\n\"region_volume_mm3\": %.6g,\n",
          r->o->radius_mm, (long long)r->region_elements, r->region_volume_m3 * 1e9);
  fprintf(f, "\"objective_metric\": ");
  json_string(f, r->metric_name);
  fprintf(f, ",\n\"objective_description\": ");
  json_string(f, r->metric_description);
  fprintf(f, ",\n\"objective_unit\": \"V/m at 1 A/us\",\n");
  fprintf(f, "\"objective\": %.10g,\n\"objective_direct\": %.10g,\n", res->objective, res->objective_direct);
  fprintf(f, "\"method\": \"%s\",\n", r->o->method == TMSF_PLACEMENT_DIRECT ? "direct" : "fast");
  fprintf(f, "\"pose\": ");
  json_matrix(f, P, "");
  fprintf(f, ",\n\"pose_units\": \"head_from_coil 4x4, row-major, mm (SimNIBS matsimnibs)\",\n");
  fprintf(f, "\"centre_mm\": [%.6g, %.6g, %.6g],\n", P[3] * 1e3, P[7] * 1e3, P[11] * 1e3);
  if (r->have_centre_mni)
    fprintf(f, "\"centre_mni_mm\": [%.6g, %.6g, %.6g],\n", r->centre_mni_mm[0], r->centre_mni_mm[1],
            r->centre_mni_mm[2]);
  fprintf(f, "\"search_coordinates\": {\"u_mm\": %.6g, \"v_mm\": %.6g, \"angle_deg\": %.6g},\n", res->u_m * 1e3,
          res->v_m * 1e3, res->angle_deg);
  fprintf(f, "\"handle_angle_from_posterior_deg\": %.3f,\n\"handle_side\": \"%s\",\n", r->handle_angle,
          r->handle_side);
  fprintf(f, "\"mso_percent\": ");
  json_number(f, r->dose->mso_percent);
  fprintf(f, ",\n\"didt_A_per_s\": %.10g,\n", r->dose->didt_A_per_s);
  fprintf(f, "\"dose\": {\"metric\": ");
  json_string(f, r->dose->metric_name);
  fprintf(f, ", \"field_V_per_m\": %.10g, \"per_A_per_us_V_per_m\": %.10g, \"beyond_limit\": %s",
          r->dose->target_V_per_m, r->dose->metric_per_A_per_us_V_per_m, r->dose->beyond_limit ? "true" : "false");
  if (r->rmt)
    fprintf(f, ", \"from_motor_threshold_percent\": %.6g, \"motor_threshold_field_V_per_m\": %.10g", r->o->rmt,
            r->rmt->target_V_per_m);
  fprintf(f, "},\n\"coil\": ");
  json_string(f, r->coil_name);
  fprintf(f, ",\n\"coil_file\": ");
  json_string(f, r->coil_path);
  fprintf(f, ",\n\"stimulator\": ");
  json_string(f, r->stimulator);
  fprintf(f, ",\n\"didt_max_A_per_s\": ");
  json_number(f, r->dose->didt_max_A_per_s);
  fprintf(f, ",\n");
  fprintf(f, "\"search\": {\"radius_mm\": %.6g, \"spacing_mm\": %.6g, \"angle_step_deg\": %.6g, "
             "\"angle_range_deg\": [%.6g, %.6g], \"distance_mm\": %.6g, \"positions\": %lld, \"angles\": %lld, "
             "\"valid_poses\": %lld, \"dropped_collision\": %lld, \"dropped_no_scalp\": %lld},\n",
          r->o->search_radius_mm, r->o->spacing_mm, r->o->angle_step, r->o->angle_min, r->o->angle_max,
          r->o->distance_mm, (long long)r->num_positions, (long long)r->num_angles, (long long)r->num_poses,
          (long long)r->dropped_collision, (long long)r->dropped_no_scalp);
  fprintf(f, "\"top\": [");
  for (int i = 0; i < res->num_top; i++) {
    fprintf(f, "%s{\"objective\": %.10g, \"pose\": ", i ? ",\n" : "\n", res->top_objective[i]);
    json_matrix(f, res->top_pose[i], "");
    fprintf(f, "}");
  }
  fprintf(f, "],\n\"timings_s\": {\"head\": %.4g, \"setup\": %.4g, \"prepare\": %.4g, \"search\": %.4g, "
             "\"refine\": %.4g, \"rerank_and_check\": %.4g, \"total\": %.4g},\n",
          r->time_head_s, r->time_setup_s, res->time_prepare_s, res->time_search_s, res->time_refine_s,
          res->time_rerank_s, r->time_total_s);
  fprintf(f, "\"poses_evaluated\": %lld,\n\"poses_per_second\": %.6g,\n\"refine_evaluations\": %lld,\n"
             "\"direct_solves\": %lld,\n\"solver\": \"%s\",\n\"threads\": %d\n}\n",
          (long long)res->num_evaluated, res->poses_per_second, (long long)res->num_refine_evaluations,
          (long long)res->num_direct_solves, r->solver, r->threads);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int tmsf_cmd_place(int argc, char **argv) {
  place_opts o;
  int rc = parse_place(argc, argv, &o);
  if (rc) return rc;
  if (cli_parse_only()) return 0;
  const double t_start = now_s();
  tmsf_context *ctx = NULL;
  tmsf_mesh *mesh = NULL;
  tmsf_coil *coil = NULL;
  tmsf_casing *casing = NULL;
  tmsf_simulation *sim = NULL;
  tmsf_search *search = NULL;
  tmsf_placement *pl = NULL;
  tmsf_region *regions[MAX_TARGETS] = {NULL}, *avoid[MAX_AVOID] = {NULL}, *rmt_region = NULL;
  tmsf_field *field = NULL;
  tmsf_catalogue *cat = NULL;
  int ierr;
  if ((ierr = tmsf_context_create(&ctx))) {
    fprintf(stderr, "tmsfield: error: %s\n", tmsf_status_string(ierr));
    return EXIT_LIB;
  }
  tmsf_metric metric;
  if (tmsf_metric_parse(ctx, o.objective, &metric)) {
    fprintf(stderr, "tmsfield: --objective: %s\n(see 'tmsfield place --help')\n", tmsf_context_last_error(ctx));
    tmsf_context_destroy(&ctx);
    return EXIT_USAGE;
  }
  /* progress bars (cli-common.h): meshing and setup through the context,
   * the search stages through the placement's options */
  cli_progress bar;
  cli_progress_init(&bar, o.quiet);
  tmsf_context_set_progress(ctx, cli_progress_cb, &bar);
  double affine[16], *aff = NULL;
  char coil_path[4096];
  if ((ierr = tmsf_context_set_threads(ctx, o.sim.threads))) goto lib_error;
  if (o.mni_affine) {
    if ((ierr = tmsf_nifti_get_affine(ctx, o.mni_affine, affine))) goto lib_error;
    aff = affine;
  }
  /* head */
  double t0 = now_s();
  if ((ierr = cli_head_open(ctx, &o.head, "tmsfield", o.quiet, &mesh))) goto lib_error;
  if ((ierr = cli_sim_apply_mesh(&o.sim, mesh))) goto lib_error;
  const double t_head = now_s() - t0;
  /* coil: a file, else a catalogue name; its casing */
  snprintf(coil_path, sizeof(coil_path), "%s", o.coil);
  if (access(o.coil, R_OK) != 0) {
    int idx;
    tmsf_coil_info info;
    if ((ierr = tmsf_catalogue_create(ctx, &cat))) goto lib_error;
    if ((ierr = tmsf_catalogue_find(cat, o.coil, &idx))) goto lib_error;
    tmsf_catalogue_get_coil_info(cat, idx, &info);
    snprintf(coil_path, sizeof(coil_path), "%s", info.path);
  }
  if ((ierr = tmsf_coil_read(ctx, coil_path, &coil))) goto lib_error;
  if (o.casing) {
    if ((ierr = tmsf_casing_read_stl(ctx, o.casing, 0.001, &casing))) goto lib_error;
  } else if ((ierr = tmsf_casing_find_for_coil(ctx, coil_path, &casing))) {
    goto lib_error;
  }
  /* targets and regions */
  double target_m[MAX_TARGETS][3], mni[3] = {0, 0, 0}, gm_m[3];
  int have_mni = 0;
  char tname[128];
  for (int t = 0; t < o.num_targets; t++) {
    double m3[3];
    int hm;
    char nm[128];
    if ((ierr = resolve_target(ctx, o.targets[t], aff, target_m[t], m3, &hm, nm, sizeof(nm)))) goto lib_error;
    if (t == 0) {
      memcpy(mni, m3, sizeof(m3));
      have_mni = hm;
      snprintf(tname, sizeof(tname), "%s", nm);
    }
    double proj[3];
    if ((ierr = tmsf_target_project(mesh, target_m[t], o.num_tags ? o.tags[0] : 0, proj, NULL, NULL))) goto lib_error;
    if (t == 0) memcpy(gm_m, proj, sizeof(proj));
    if ((ierr = tmsf_region_create_sphere(mesh, proj, o.radius_mm * 1e-3, o.num_tags, o.tags, &regions[t])))
      goto lib_error;
  }
  for (int a = 0; a < o.num_avoid; a++) {
    double c[3] = {o.avoid[a][0] * 1e-3, o.avoid[a][1] * 1e-3, o.avoid[a][2] * 1e-3};
    if ((ierr = tmsf_region_create_sphere(mesh, c, o.avoid[a][3] * 1e-3, o.num_tags, o.tags, &avoid[a])))
      goto lib_error;
  }
  /* search space around the first target (several targets: their centroid) */
  tmsf_search_params sp;
  tmsf_search_params_default(&sp);
  sp.radius_m = o.search_radius_mm * 1e-3;
  sp.spacing_m = o.spacing_mm * 1e-3;
  sp.angle_step_deg = o.angle_step;
  sp.angle_min_deg = o.angle_min;
  sp.angle_max_deg = o.angle_max;
  sp.distance_m = o.distance_mm * 1e-3;
  double centre[3] = {0, 0, 0};
  for (int t = 0; t < o.num_targets; t++)
    for (int k = 0; k < 3; k++) centre[k] += target_m[t][k] / o.num_targets;
  if ((ierr = tmsf_search_create(mesh, centre, &sp, casing, coil, &search))) goto lib_error;
  /* simulation and placement */
  t0 = now_s();
  if ((ierr = tmsf_simulation_create(ctx, mesh, &sim))) goto lib_error;
  if ((ierr = cli_sim_apply(&o.sim, sim))) goto lib_error;
  if ((ierr = tmsf_simulation_setup(sim))) goto lib_error;
  const double t_setup = now_s() - t0;
  tmsf_context_set_progress(ctx, NULL, NULL);
  if ((ierr = tmsf_placement_create(sim, coil, &pl))) goto lib_error;
  for (int t = 0; t < o.num_targets; t++)
    if ((ierr = tmsf_placement_add_target(pl, regions[t], &metric, 1.0))) goto lib_error;
  for (int a = 0; a < o.num_avoid; a++)
    if ((ierr = tmsf_placement_add_avoid(pl, avoid[a], o.avoid_weight))) goto lib_error;
  if (o.have_focality && (ierr = tmsf_placement_add_focality(pl, o.foc_fraction, o.foc_weight))) goto lib_error;
  tmsf_placement_options popt;
  tmsf_placement_options_default(&popt);
  popt.method = (tmsf_placement_method)o.method;
  popt.refine = o.refine;
  popt.top_n = o.top;
  popt.progress = cli_progress_cb;
  popt.progress_user = &bar;
  tmsf_placement_result res;
  if ((ierr = tmsf_placement_run(pl, search, &popt, &res))) goto lib_error;
  /* dose at the optimum */
  tmsf_dose_result dose, rmt_res;
  int have_rmt_res = 0;
  if (o.have_rmt) {
    double PA[16];
    if ((ierr = tmsf_pose_read(ctx, o.rmt_pose, PA))) goto lib_error;
    double tm[3], m3[3], proj[3];
    int hm;
    char nm[128];
    if ((ierr = resolve_target(ctx, o.rmt_target, aff, tm, m3, &hm, nm, sizeof(nm)))) goto lib_error;
    if ((ierr = tmsf_target_project(mesh, tm, o.num_tags ? o.tags[0] : 0, proj, NULL, NULL))) goto lib_error;
    if ((ierr = tmsf_region_create_sphere(mesh, proj, o.radius_mm * 1e-3, o.num_tags, o.tags, &rmt_region)))
      goto lib_error;
    if ((ierr = tmsf_dose_transfer(sim, coil, PA, rmt_region, o.rmt, coil, res.pose, regions[0], &metric, &rmt_res,
                                   &dose)))
      goto lib_error;
    have_rmt_res = 1;
  } else if ((ierr = tmsf_dose_for_target(sim, coil, res.pose, regions[0], &metric, o.dose_vpm, &dose))) {
    goto lib_error;
  }
  cli_progress_finish(&bar);
  /* outputs */
  report rep;
  memset(&rep, 0, sizeof(rep));
  rep.o = &o;
  tmsf_coil_get_name(coil, &rep.coil_name);
  rep.coil_path = coil_path;
  rep.stimulator = "";
  tmsf_coil_get_stimulator(coil, 0, &rep.stimulator, NULL, NULL);
  if (!rep.stimulator) rep.stimulator = "";
  rep.target_name = tname;
  memcpy(rep.target_m, target_m[0], sizeof(rep.target_m));
  memcpy(rep.mni_mm, mni, sizeof(mni));
  rep.have_mni = have_mni;
  memcpy(rep.gm_m, gm_m, sizeof(gm_m));
  tmsf_search_get_projection(search, rep.scalp_m, NULL, NULL, NULL);
  const int64_t *els_unused;
  tmsf_region_get_elements(regions[0], &rep.region_elements, &els_unused);
  tmsf_region_get_volume(regions[0], &rep.region_volume_m3);
  rep.metric_name = dose.metric_name;
  rep.metric_description = dose.metric_description;
  rep.res = &res;
  rep.dose = &dose;
  rep.rmt = have_rmt_res ? &rmt_res : NULL;
  tmsf_search_get_num_positions(search, &rep.num_positions);
  tmsf_search_get_num_angles(search, &rep.num_angles);
  tmsf_search_get_num_poses(search, &rep.num_poses);
  tmsf_search_get_num_dropped(search, &rep.dropped_collision, &rep.dropped_no_scalp);
  tmsf_simulation_get_solver(sim, &rep.solver);
  tmsf_context_get_threads(ctx, &rep.threads);
  rep.time_head_s = t_head;
  rep.time_setup_s = t_setup;
  handle_direction(res.pose, &rep.handle_angle, &rep.handle_side);
  /* the centre in MNI mm: the inverse of --mni-affine (identity without one,
   * as for the built-in head, which is in MNI space) */
  if ((aff || (o.head.head && !strcmp(o.head.head, "default"))) && head_to_mni(aff, res.pose, rep.centre_mni_mm))
    rep.have_centre_mni = 1;
  if (o.out) {
    if (mkdir(o.out, 0777) && access(o.out, W_OK)) {
      fprintf(stderr, "tmsfield: error: cannot create the output directory %s\n", o.out);
      rc = EXIT_LIB;
      goto done;
    }
    char path[4096];
    const double didt = isfinite(dose.didt_A_per_s) ? dose.didt_A_per_s : TMSF_PLACEMENT_DIDT;
    if ((ierr = tmsf_simulation_solve(sim, coil, res.pose, didt, &field))) goto lib_error;
    snprintf(path, sizeof(path), "%s/field.msh", o.out);
    if ((ierr = tmsf_mesh_write(mesh, field, path))) goto lib_error;
    snprintf(path, sizeof(path), "%s/localite.xml", o.out);
    const char *const names[1] = {tname};
    if ((ierr = tmsf_nnav_write_localite(ctx, path, 1, res.pose, names, TMSF_NNAV_SPACE_RAS))) goto lib_error;
    snprintf(path, sizeof(path), "%s/brainsight.txt", o.out);
    if ((ierr = tmsf_nnav_write_brainsight(ctx, path, 1, res.pose, names, TMSF_NNAV_SPACE_NIFTI_ALIGNED)))
      goto lib_error;
    {
      /* |E| on the label volume's grid (label heads) and on the grey-matter
       * surface (heads with grey matter) */
      cli_out co;
      cli_out_init(&co);
      char npath[4096], gpath[4096];
      snprintf(npath, sizeof(npath), "%s/magnE.nii.gz", o.out);
      snprintf(gpath, sizeof(gpath), "%s/cortex", o.out);
      tmsf_head_info hinfo;
      const char *label_grid = NULL;
      if (o.head.head && tmsf_head_query(ctx, o.head.head, o.head.preset, &hinfo) == TMSF_SUCCESS &&
          hinfo.kind == TMSF_HEAD_LABELS)
        label_grid = hinfo.source;
      if (label_grid) co.nifti = npath;
      int ntags;
      const int32_t *tags;
      if (tmsf_mesh_get_tags(mesh, &ntags, &tags) == TMSF_SUCCESS)
        for (int k = 0; k < ntags; k++)
          if (tags[k] == 2) co.gifti = gpath;
      if ((co.nifti || co.gifti) && (ierr = cli_out_write(&co, field, coil, res.pose, label_grid, 1))) goto lib_error;
    }
  }
  rep.time_total_s = now_s() - t_start;
  if (o.out) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/placement.json", o.out);
    FILE *f = fopen(path, "w");
    if (!f) {
      fprintf(stderr, "tmsfield: error: cannot write %s\n", path);
      rc = EXIT_LIB;
      goto done;
    }
    write_report(f, &rep);
    if (fclose(f)) {
      fprintf(stderr, "tmsfield: error: cannot write %s\n", path);
      rc = EXIT_LIB;
      goto done;
    }
  }
  if (o.json) {
    write_report(stdout, &rep);
  } else if (!o.quiet) {
    const double *P = res.pose;
    printf("target      %s: (%.1f, %.1f, %.1f) mm", tname, target_m[0][0] * 1e3, target_m[0][1] * 1e3,
           target_m[0][2] * 1e3);
    if (have_mni) printf(" (MNI %.1f, %.1f, %.1f)", mni[0], mni[1], mni[2]);
    printf("; grey matter at (%.1f, %.1f, %.1f) mm\n", gm_m[0] * 1e3, gm_m[1] * 1e3, gm_m[2] * 1e3);
    printf("region      grey matter within %.3g mm: %lld tetrahedra, %.1f mm^3\n", o.radius_mm,
           (long long)rep.region_elements, rep.region_volume_m3 * 1e9);
    printf("coil        %s (%s)\n", rep.coil_name, coil_path);
    printf("search      %lld positions x %lld angles: %lld valid poses (%lld dropped for collision); %s, %.0f poses/s\n",
           (long long)rep.num_positions, (long long)rep.num_angles, (long long)rep.num_poses,
           (long long)rep.dropped_collision, o.method == TMSF_PLACEMENT_DIRECT ? "direct" : "fast",
           res.poses_per_second);
    printf("pose        centre (%.2f, %.2f, %.2f) mm", P[3] * 1e3, P[7] * 1e3, P[11] * 1e3);
    if (rep.have_centre_mni)
      printf(" (MNI %.1f, %.1f, %.1f)", rep.centre_mni_mm[0], rep.centre_mni_mm[1], rep.centre_mni_mm[2]);
    printf(", handle %.0f deg from posterior, %s\n", rep.handle_angle, rep.handle_side);
    printf("            [%9.5f %9.5f %9.5f %9.3f]\n", P[0], P[1], P[2], P[3] * 1e3);
    printf("            [%9.5f %9.5f %9.5f %9.3f]\n", P[4], P[5], P[6], P[7] * 1e3);
    printf("            [%9.5f %9.5f %9.5f %9.3f]  (head from coil, mm)\n", P[8], P[9], P[10], P[11] * 1e3);
    printf("objective   %s = %.4f V/m at 1 A/us (direct solve: %.4f)\n", dose.metric_name, res.objective,
           res.objective_direct);
    if (isfinite(dose.mso_percent))
      printf("dose        %.2f %% MSO = %.2f A/us for %.4g V/m%s\n", dose.mso_percent, dose.didt_A_per_s * 1e-6,
             dose.target_V_per_m, dose.beyond_limit ? "  BEYOND THE STIMULATOR'S LIMIT (100 % MSO)" : "");
    else
      printf("dose        %.2f A/us for %.4g V/m (the coil gives no dI/dt max: no %% MSO)\n",
             dose.didt_A_per_s * 1e-6, dose.target_V_per_m);
    printf("time        %.1f s (head %.1f, setup %.1f, prepare %.1f, search %.2f, refine %.2f, check %.1f)\n",
           rep.time_total_s, t_head, t_setup, res.time_prepare_s, res.time_search_s, res.time_refine_s,
           res.time_rerank_s);
    if (o.out)
      printf("output      %s/: field.msh (E, magnE at the dose), placement.json, localite.xml, brainsight.txt,\n"
             "            magnE.nii.gz (label-volume heads), cortex.surf.gii/.func.gii (heads with grey matter)\n",
             o.out);
  }
  if (dose.beyond_limit)
    fprintf(stderr, "tmsfield: warning: %.1f %% MSO is beyond the stimulator's limit (100 %% MSO) for coil %s\n",
            dose.mso_percent, dose.coil_name);
  rc = 0;
  goto done;
lib_error:
  cli_progress_finish(&bar);
  fprintf(stderr, "tmsfield: error: %s\n",
          *tmsf_context_last_error(ctx) ? tmsf_context_last_error(ctx) : tmsf_status_string(ierr));
  rc = EXIT_LIB;
done:
  tmsf_field_destroy(&field);
  tmsf_placement_destroy(&pl);
  tmsf_search_destroy(&search);
  tmsf_simulation_destroy(&sim);
  for (int t = 0; t < MAX_TARGETS; t++) tmsf_region_destroy(&regions[t]);
  for (int a = 0; a < MAX_AVOID; a++) tmsf_region_destroy(&avoid[a]);
  tmsf_region_destroy(&rmt_region);
  tmsf_casing_destroy(&casing);
  tmsf_coil_destroy(&coil);
  tmsf_catalogue_destroy(&cat);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return rc;
}

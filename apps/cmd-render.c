/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cmd-render.c: `tmsfield render` — PNG pictures of a field: |E| on the
 * cortex seen from outside (coil outline, coil centre and target marked),
 * and axial / coronal / sagittal slices through a NIfTI field.  Public API
 * (render.h) and cJSON for the placement report.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <tmsfield/tmsfield.h>

#include "cli-common.h"
#include "commands.h"

static void usage_render(FILE *f) {
  fprintf(f,
          "usage: tmsfield render --placement DIR --out CORTEX.png [--slices SLICES.png] [options]\n"
          "       tmsfield render --field FILE.msh [--coil NAME] [--pose ... | --centre ...] --out CORTEX.png\n"
          "       tmsfield render (--mesh FILE.msh | --head SPEC) --coil NAME (--pose ... | --centre ...)\n"
          "                       (--didt A_PER_S | --mso PERCENT) --out CORTEX.png\n"
          "       tmsfield render --nifti FIELD.nii.gz [--point X,Y,Z|max] --slices SLICES.png\n"
          "\n"
          "Pictures of a field (PNG).  --out: |E| on the cortex (the grey-matter surface,\n"
          "each triangle's value the |E| of its grey-matter tetrahedron, interpolated between\n"
          "vertices), seen from outside along the coil axis (or --view), Lambert-shaded,\n"
          "viridis colour map, colour bar in V/m; the coil's outline (its casing's\n"
          "silhouette, else the outline of its windings) in white with the coil centre as a\n"
          "cross, the target as a red circle.  --slices: axial, coronal and sagittal slices\n"
          "of a NIfTI field (|E| as 'simulate --nifti' and 'place --out' write it) through\n"
          "the target or the maximum.\n"
          "\n"
          "The field, in this order of precedence:\n"
          "  --field FILE.msh   a mesh with element data E ('simulate --out', 'place --out'\n"
          "                     DIR/field.msh, SimNIBS)\n"
          "  --mesh FILE.msh | --head SPEC   solve on the fly: with --coil, a pose and\n"
          "                     --didt A_PER_S or --mso PERCENT (or the placement's dose)\n"
          "  --placement DIR    a directory written by 'tmsfield place --out DIR' (or its\n"
          "                     placement.json): its field.msh, pose, coil, target, dose and\n"
          "                     magnE.nii.gz (for --slices)\n"
          "\n"
          "  --out FILE.png     the cortex picture\n"
          "  --slices FILE.png  the slice picture (of --nifti, else DIR/magnE.nii.gz)\n"
          "  --nifti FILE       the NIfTI field for --slices\n"
          "  --coil NAME|FILE   the coil: its outline, and the source when solving\n"
          "                     (default: the placement's)\n"
          "  --casing FILE.stl|none  the coil casing for the outline, mm (default: the STL\n"
          "                     beside the coil file, else the coil's windings)\n"
          "  --pose, --centre, --ydir, --distance   the coil pose, as in 'tmsfield simulate'\n"
          "                     (default: the placement's)\n"
          "  --target X,Y,Z     mark this point, mm (default: the placement's grey-matter target)\n"
          "  --point X,Y,Z|max  where the slices cross, mm (default: the target, else the maximum)\n"
          "  --view NAME        coil (default with a pose: along the coil axis, handle down),\n"
          "                     left, right, top (default without a pose), front, back\n"
          "  --size WxH         picture size in pixels (default 900x700)\n"
          "  --range MIN,MAX    colour range in V/m (default 0 and the 99.9th percentile)\n"
          "  --fov MM           width of the scene shown, centred on the coil (default: fit\n"
          "                     the cortex, the coil and the target)\n"
          "  --surface TAG      the surface (default 1002, grey matter; 1003 on the test spheres)\n"
          "  --flat             one colour per triangle (the element values, no interpolation)\n"
          "  --no-shading       the colour map without Lambert shading\n"
          "  --title TEXT       the title line (default: target, coil, dose, view)\n"
          "  --json             print what the pictures show as JSON (colour range, hotspot,\n"
          "                     its distance from the coil centre's projection, ...)\n"
          "  --quiet            print nothing but errors\n"
          "  --sigma, --solver, --field-tolerance, --tolerance, --threads   as in 'simulate'\n"
          "\n"
          "Exit codes: 0 success, 1 library error (message on stderr), 2 usage error.\n"
          "\n"
          "examples (from the source tree):\n"
          "  tmsfield place --head default --target M1 --out m1      # then:\n"
          "  tmsfield render --placement m1 --out m1.png --slices m1-slices.png\n"
          "\n"
          "  tmsfield render --mesh data/spheres/sphere3.msh --surface 1003 \\\n"
          "      --coil data/coils/Magstim_70mm_Fig8.ccd --centre 30,20,90 --ydir 0,1,0 \\\n"
          "      --didt 1e8 --target 25,17,77 --out sphere.png\n"
          "\n"
          "  tmsfield simulate --mesh data/spheres/sphere3.msh --coil data/coils/Magstim_70mm_Fig8.ccd \\\n"
          "      --centre 0,0,95 --ydir 0,1,0 --didt 1e8 --out E.msh\n"
          "  tmsfield render --field E.msh --surface 1003 --view top --out top.png\n");
}

static int fail_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "tmsfield: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see 'tmsfield render --help')\n");
  va_end(ap);
  return EXIT_USAGE;
}

typedef struct render_opts {
  const char *out, *slices, *nifti, *field, *coil, *casing, *placement, *title, *view;
  cli_head head;
  cli_pose pose;
  cli_sim sim;
  int have_didt, have_mso, have_target, have_point, point_max, json, quiet, flat, no_shading;
  int have_range, width, height, surface_tag;
  double didt, mso, target_mm[3], point_mm[3], range[2], fov_mm;
} render_opts;

static int parse_render(int argc, char **argv, render_opts *o) {
  memset(o, 0, sizeof(*o));
  cli_pose_init(&o->pose);
  cli_sim_init(&o->sim);
  cli_head_init(&o->head);
  o->width = 900;
  o->height = 700;
  char err[256];
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    int r = cli_pose_option(argc, argv, &i, "", &o->pose, err, sizeof(err));
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
      usage_render(stdout);
      exit(0);
    } else if (!strcmp(a, "--out")) {
      NEED_VALUE();
      o->out = val;
    } else if (!strcmp(a, "--slices")) {
      NEED_VALUE();
      o->slices = val;
    } else if (!strcmp(a, "--nifti")) {
      NEED_VALUE();
      o->nifti = val;
    } else if (!strcmp(a, "--field")) {
      NEED_VALUE();
      o->field = val;
    } else if (!strcmp(a, "--coil")) {
      NEED_VALUE();
      o->coil = val;
    } else if (!strcmp(a, "--casing")) {
      NEED_VALUE();
      o->casing = val;
    } else if (!strcmp(a, "--placement")) {
      NEED_VALUE();
      o->placement = val;
    } else if (!strcmp(a, "--title")) {
      NEED_VALUE();
      o->title = val;
    } else if (!strcmp(a, "--view")) {
      NEED_VALUE();
      tmsf_view v;
      if (tmsf_view_parse(NULL, val, &v)) return fail_usage("--view expects coil, left, right, top, front or back, got '%s'", val);
      o->view = val;
    } else if (!strcmp(a, "--didt")) {
      NEED_VALUE();
      if (!parse_double(val, &o->didt) || !(o->didt > 0.0)) return fail_usage("--didt expects A/s > 0, got '%s'", val);
      o->have_didt = 1;
    } else if (!strcmp(a, "--mso")) {
      NEED_VALUE();
      if (!parse_double(val, &o->mso) || !(o->mso > 0.0 && o->mso <= 100.0))
        return fail_usage("--mso expects a percentage in (0, 100], got '%s'", val);
      o->have_mso = 1;
    } else if (!strcmp(a, "--target")) {
      NEED_VALUE();
      if (!parse_vec(val, o->target_mm, 3)) return fail_usage("--target expects X,Y,Z in mm, got '%s'", val);
      o->have_target = 1;
    } else if (!strcmp(a, "--point")) {
      NEED_VALUE();
      if (!strcmp(val, "max")) o->point_max = 1;
      else if (!parse_vec(val, o->point_mm, 3)) return fail_usage("--point expects X,Y,Z in mm or max, got '%s'", val);
      else o->have_point = 1;
    } else if (!strcmp(a, "--size")) {
      NEED_VALUE();
      char x;
      if (sscanf(val, "%d%c%d", &o->width, &x, &o->height) != 3 || (x != 'x' && x != 'X') || o->width < 300 ||
          o->height < 200 || o->width > 8192 || o->height > 8192)
        return fail_usage("--size expects WxH pixels, 300x200 to 8192x8192, got '%s'", val);
    } else if (!strcmp(a, "--range")) {
      NEED_VALUE();
      if (!parse_vec(val, o->range, 2) || !(o->range[1] > o->range[0]))
        return fail_usage("--range expects MIN,MAX in V/m with MIN < MAX, got '%s'", val);
      o->have_range = 1;
    } else if (!strcmp(a, "--fov")) {
      NEED_VALUE();
      if (!parse_double(val, &o->fov_mm) || !(o->fov_mm > 0.0)) return fail_usage("--fov expects mm > 0, got '%s'", val);
    } else if (!strcmp(a, "--surface")) {
      NEED_VALUE();
      char *end;
      long t = strtol(val, &end, 10);
      if (*end || end == val || t <= 1000 || t > 2000) return fail_usage("--surface expects a tag 1001..2000, got '%s'", val);
      o->surface_tag = (int)t;
    } else if (!strcmp(a, "--flat")) {
      o->flat = 1;
    } else if (!strcmp(a, "--no-shading")) {
      o->no_shading = 1;
    } else if (!strcmp(a, "--json")) {
      o->json = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      o->quiet = 1;
    } else {
      return fail_usage("unknown option '%s'", a);
    }
#undef NEED_VALUE
  }
  if (!o->out && !o->slices) return fail_usage("give --out CORTEX.png, --slices SLICES.png or both");
  if (o->out && !o->field && !o->head.mesh && !o->head.head && !o->placement)
    return fail_usage("--out needs a field: --field FILE.msh, --mesh/--head with a coil and a pose, or --placement DIR");
  if (o->head.mesh && o->head.head) return fail_usage("give --mesh or --head, not both");
  if (o->slices && !o->nifti && !o->placement) return fail_usage("--slices needs --nifti FILE or --placement DIR");
  if (o->have_didt && o->have_mso) return fail_usage("give --didt or --mso, not both");
  if (o->pose.have_pose + (o->pose.have_centre || o->pose.have_ydir) > 1)
    return fail_usage("give --pose or --centre/--ydir, not both");
  if (o->pose.have_centre != o->pose.have_ydir) return fail_usage("--centre and --ydir go together");
  if (o->have_point && o->point_max) return fail_usage("--point given twice");
  if (cli_sim_complete(&o->sim, err, sizeof(err))) return fail_usage("%s", err);
  return 0;
}

/* ------------------------------------------------------------------------- */
/* The placement report                                                      */
/* ------------------------------------------------------------------------- */

typedef struct placement {
  char dir[4096], json[4200];
  int have_pose, have_target, have_mso, have_didt;
  double pose_mm[16], target_gm_mm[3], mso, didt;
  char coil_file[4096], coil[256], target[128];
} placement;

static int json_vec(const cJSON *a, double *v, int n) {
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) return 0;
  for (int i = 0; i < n; i++) {
    const cJSON *x = cJSON_GetArrayItem(a, i);
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) return 0;
    v[i] = x->valuedouble;
  }
  return 1;
}

/* A copy of the text with bare nan / inf tokens (outside strings) as null:
 * reports of 'place' for a coil without a dI/dt max hold "mso_percent": nan. */
static char *json_nan_to_null(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(2 * n + 1), *o = out;
  if (!out) return NULL;
  int in_str = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (in_str) {
      *o++ = c;
      if (c == '\\' && i + 1 < n) *o++ = s[++i];
      else if (c == '"') in_str = 0;
      continue;
    }
    if (c == '"') in_str = 1;
    size_t k = i + (c == '-' || c == '+');
    if (!strncmp(s + k, "nan", 3) || !strncmp(s + k, "inf", 3)) {
      memcpy(o, "null", 4);
      o += 4;
      i = k + 2;
      continue;
    }
    *o++ = c;
  }
  *o = '\0';
  return out;
}

/* Read DIR/placement.json (or the file given).  0, or an exit code with a message. */
static int read_placement(const char *arg, placement *pl) {
  memset(pl, 0, sizeof(*pl));
  struct stat st;
  if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(pl->dir, sizeof(pl->dir), "%s", arg);
    snprintf(pl->json, sizeof(pl->json), "%s/placement.json", arg);
  } else {
    snprintf(pl->json, sizeof(pl->json), "%s", arg);
    snprintf(pl->dir, sizeof(pl->dir), "%s", arg);
    char *slash = strrchr(pl->dir, '/');
    if (slash) *slash = '\0';
    else snprintf(pl->dir, sizeof(pl->dir), ".");
  }
  FILE *f = fopen(pl->json, "rb");
  if (!f) {
    fprintf(stderr, "tmsfield: error: %s: cannot open the placement report\n", pl->json);
    return EXIT_LIB;
  }
  char *buf = malloc(1 << 22);
  size_t n = buf ? fread(buf, 1, (1 << 22) - 1, f) : 0;
  fclose(f);
  if (!buf) return EXIT_LIB;
  buf[n] = '\0';
  char *clean = json_nan_to_null(buf);
  free(buf);
  cJSON *root = clean ? cJSON_Parse(clean) : NULL;
  free(clean);
  if (!root || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    fprintf(stderr, "tmsfield: error: %s: not a JSON object; expected the placement.json of 'tmsfield place --out'\n",
            pl->json);
    return EXIT_LIB;
  }
  const cJSON *pose = cJSON_GetObjectItemCaseSensitive(root, "pose");
  if (cJSON_IsArray(pose) && cJSON_GetArraySize(pose) == 4) {
    pl->have_pose = 1;
    for (int r = 0; r < 4 && pl->have_pose; r++)
      pl->have_pose = json_vec(cJSON_GetArrayItem(pose, r), pl->pose_mm + 4 * r, 4);
  }
  if (!pl->have_pose && pose) {
    cJSON_Delete(root);
    fprintf(stderr, "tmsfield: error: %s: \"pose\" is not a 4x4 matrix of numbers\n", pl->json);
    return EXIT_LIB;
  }
  pl->have_target = json_vec(cJSON_GetObjectItemCaseSensitive(root, "target_gm_mm"), pl->target_gm_mm, 3);
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, "mso_percent");
  if (cJSON_IsNumber(x)) pl->mso = x->valuedouble, pl->have_mso = 1;
  x = cJSON_GetObjectItemCaseSensitive(root, "didt_A_per_s");
  if (cJSON_IsNumber(x) && x->valuedouble > 0.0) pl->didt = x->valuedouble, pl->have_didt = 1;
  x = cJSON_GetObjectItemCaseSensitive(root, "coil_file");
  if (cJSON_IsString(x)) snprintf(pl->coil_file, sizeof(pl->coil_file), "%s", x->valuestring);
  x = cJSON_GetObjectItemCaseSensitive(root, "coil");
  if (cJSON_IsString(x)) snprintf(pl->coil, sizeof(pl->coil), "%s", x->valuestring);
  x = cJSON_GetObjectItemCaseSensitive(root, "target");
  if (cJSON_IsString(x)) snprintf(pl->target, sizeof(pl->target), "%s", x->valuestring);
  cJSON_Delete(root);
  return 0;
}

/* A coil file's path: the file itself, else relative to base, else a catalogue name. */
static int resolve_coil(tmsf_context *ctx, const char *name, const char *base, char *path, size_t len) {
  if (access(name, R_OK) == 0) {
    snprintf(path, len, "%s", name);
    return TMSF_SUCCESS;
  }
  if (base && name[0] != '/') {
    snprintf(path, len, "%s/%s", base, name);
    if (access(path, R_OK) == 0) return TMSF_SUCCESS;
  }
  tmsf_catalogue *cat = NULL;
  int idx, ierr = tmsf_catalogue_create(ctx, &cat);
  if (!ierr) ierr = tmsf_catalogue_find(cat, name, &idx);
  if (!ierr) {
    tmsf_coil_info info;
    tmsf_catalogue_get_coil_info(cat, idx, &info);
    snprintf(path, len, "%s", info.path);
  }
  tmsf_catalogue_destroy(&cat);
  return ierr;
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

static void json_info(FILE *f, const char *what, const char *path, int w, int h, const tmsf_render_info *in,
                      int cortex) {
  fprintf(f, "\"%s\": {\"file\": ", what);
  json_string(f, path);
  fprintf(f, ", \"width_px\": %d, \"height_px\": %d, \"vmin_V_per_m\": %.6g, \"vmax_V_per_m\": %.6g, \"max_V_per_m\": %.6g, "
             "\"mm_per_px\": %.6g",
#define J(x) (isfinite(x) ? (x) : 0.0)
          w, h, J(in->vmin_V_per_m), J(in->vmax_V_per_m), J(in->max_V_per_m), J(in->m_per_px * 1e3));
  if (cortex) {
    fprintf(f, ", \"hot_region_px\": [%.2f, %.2f]", J(in->hot_region_px[0]), J(in->hot_region_px[1]));
    fprintf(f, ", \"hotspot_px\": [%.2f, %.2f], \"hotspot_mm\": [%.3f, %.3f, %.3f], \"hotspot_V_per_m\": %.6g",
            J(in->hotspot_px[0]), J(in->hotspot_px[1]), J(in->hotspot_m[0] * 1e3), J(in->hotspot_m[1] * 1e3),
            J(in->hotspot_m[2] * 1e3), J(in->hotspot_V_per_m));
    if (isfinite(in->coil_centre_px[0])) {
      double d = hypot(in->hotspot_px[0] - in->coil_centre_px[0], in->hotspot_px[1] - in->coil_centre_px[1]) * in->m_per_px * 1e3;
      double d90 = hypot(in->hot_region_px[0] - in->coil_centre_px[0], in->hot_region_px[1] - in->coil_centre_px[1]) *
                   in->m_per_px * 1e3;
      fprintf(f, ", \"coil_centre_px\": [%.2f, %.2f], \"hotspot_to_coil_centre_mm\": %.4g, "
                 "\"hot_region_to_coil_centre_mm\": %.4g",
              in->coil_centre_px[0], in->coil_centre_px[1], J(d), J(d90));
    }
    if (isfinite(in->target_px[0]))
      fprintf(f, ", \"target_px\": [%.2f, %.2f]", in->target_px[0], in->target_px[1]);
    fprintf(f, ", \"view_direction\": [%.6f, %.6f, %.6f], \"view_up\": [%.6f, %.6f, %.6f]", in->direction[0],
            in->direction[1], in->direction[2], in->up[0], in->up[1], in->up[2]);
  } else {
    fprintf(f, ", \"point_mm\": [%.3f, %.3f, %.3f], \"max_mm\": [%.3f, %.3f, %.3f]", in->point_m[0] * 1e3,
            in->point_m[1] * 1e3, in->point_m[2] * 1e3, J(in->hotspot_m[0] * 1e3), J(in->hotspot_m[1] * 1e3),
            J(in->hotspot_m[2] * 1e3));
  }
#undef J
  fprintf(f, "}");
}

int tmsf_cmd_render(int argc, char **argv) {
  render_opts o;
  int rc = parse_render(argc, argv, &o);
  if (rc) return rc;
  placement pl;
  int have_pl = 0;
  if (o.placement) {
    if ((rc = read_placement(o.placement, &pl))) return rc;
    have_pl = 1;
  }
  tmsf_context *ctx = NULL;
  tmsf_mesh *mesh = NULL;
  tmsf_field *field = NULL;
  tmsf_coil *coil = NULL;
  tmsf_casing *casing = NULL;
  tmsf_simulation *sim = NULL;
  tmsf_picture *pic = NULL;
  tmsf_volume *vol = NULL;
  tmsf_render_info cinfo, sinfo;
  int cw = 0, ch = 0, sw = 0, sh = 0;
  int ierr = TMSF_SUCCESS;
  rc = 0;
  if ((ierr = tmsf_context_create(&ctx))) {
    fprintf(stderr, "tmsfield: error: %s\n", tmsf_status_string(ierr));
    return EXIT_LIB;
  }
  if ((ierr = tmsf_context_set_threads(ctx, o.sim.threads))) goto lib_error;
  double target_m[3], *target = NULL;
  if (o.have_target) {
    for (int k = 0; k < 3; k++) target_m[k] = o.target_mm[k] * 1e-3;
    target = target_m;
  } else if (have_pl && pl.have_target) {
    for (int k = 0; k < 3; k++) target_m[k] = pl.target_gm_mm[k] * 1e-3;
    target = target_m;
  }
  char title[512];
  tmsf_render_params params;
  tmsf_render_params_default(&params);
  params.width_px = o.width;
  params.height_px = o.height;
  if (o.have_range) params.vmin_V_per_m = o.range[0], params.vmax_V_per_m = o.range[1];
  params.width_m = o.fov_mm * 1e-3;
  if (o.surface_tag) params.surface_tag = o.surface_tag;
  params.per_triangle = o.flat;
  params.shading = !o.no_shading;
  if (o.view) tmsf_view_parse(ctx, o.view, &params.view);

  if (o.out) {
    /* the field */
    char field_path[4200] = "";
    int solve = o.head.mesh || o.head.head;
    if (o.field) snprintf(field_path, sizeof(field_path), "%s", o.field);
    else if (!solve) snprintf(field_path, sizeof(field_path), "%s/field.msh", pl.dir);
    if (field_path[0]) {
      if ((ierr = tmsf_mesh_read(ctx, field_path, &mesh))) goto lib_error;
      if ((ierr = tmsf_field_read_msh(mesh, field_path, &field))) goto lib_error;
    } else {
      if ((ierr = cli_head_open(ctx, &o.head, "tmsfield", o.quiet, &mesh))) goto lib_error;
      if ((ierr = cli_sim_apply_mesh(&o.sim, mesh))) goto lib_error;
    }
    /* the coil (optional with a field file) */
    char coil_path[4096] = "";
    const char *cname = o.coil ? o.coil : have_pl && pl.coil_file[0] ? pl.coil_file : have_pl && pl.coil[0] ? pl.coil : NULL;
    if (cname) {
      ierr = resolve_coil(ctx, cname, have_pl ? pl.dir : NULL, coil_path, sizeof(coil_path));
      if (ierr && !o.coil && have_pl && pl.coil[0] && cname != pl.coil)
        ierr = resolve_coil(ctx, pl.coil, NULL, coil_path, sizeof(coil_path));
      if (!ierr) ierr = tmsf_coil_read(ctx, coil_path, &coil);
      if (ierr && (o.coil || !field)) goto lib_error;
      if (ierr && !o.quiet)
        fprintf(stderr, "tmsfield: warning: the placement's coil: %s; no coil outline\n", tmsf_context_last_error(ctx));
      ierr = TMSF_SUCCESS;
    }
    if (!field && !coil) {
      rc = fail_usage("solving on --mesh/--head needs --coil (or a placement)");
      goto done;
    }
    if (coil) {
      if (o.casing && !strcmp(o.casing, "none")) {
        /* the windings' outline */
      } else if (o.casing) {
        if ((ierr = tmsf_casing_read_stl(ctx, o.casing, 1e-3, &casing))) goto lib_error;
      } else if ((ierr = tmsf_casing_find_for_coil(ctx, coil_path, &casing))) {
        goto lib_error;
      }
    }
    /* the pose */
    double P[16], *pose = NULL;
    char err[256];
    if (o.pose.have_pose || o.pose.have_centre) {
      if (cli_pose_complete(&o.pose, "", err, sizeof(err))) {
        rc = fail_usage("%s", err);
        goto done;
      }
      if ((ierr = cli_pose_resolve(ctx, mesh, &o.pose, P))) goto lib_error;
      pose = P;
    } else if (have_pl && pl.have_pose) {
      tmsf_pose_from_mm(pl.pose_mm, P);
      if ((ierr = tmsf_pose_check(ctx, P))) goto lib_error;
      pose = P;
    }
    double didt = 0.0, mso = NAN;
    if (!field) {
      if (!pose) {
        rc = fail_usage("solving needs a coil pose: --pose or --centre/--ydir (or a placement)");
        goto done;
      }
      if (o.have_didt) {
        didt = o.didt;
      } else if (o.have_mso) {
        double dmax;
        if ((ierr = tmsf_coil_get_didt_max(coil, &dmax))) goto lib_error;
        didt = o.mso / 100.0 * dmax;
        mso = o.mso;
      } else if (have_pl && pl.have_didt) {
        didt = pl.didt;
        if (pl.have_mso) mso = pl.mso;
      } else {
        rc = fail_usage("solving needs --didt A_PER_S or --mso PERCENT (or a placement's dose)");
        goto done;
      }
      if ((ierr = tmsf_simulation_create(ctx, mesh, &sim))) goto lib_error;
      if ((ierr = cli_sim_apply(&o.sim, sim))) goto lib_error;
      if ((ierr = tmsf_simulation_setup(sim))) goto lib_error;
      if ((ierr = tmsf_simulation_solve(sim, coil, P, didt, &field))) goto lib_error;
    } else if (have_pl && pl.have_mso && !o.field) {
      mso = pl.mso;
    }
    if (o.title) {
      snprintf(title, sizeof(title), "%s", o.title);
    } else {
      const char *cn = NULL;
      if (coil) tmsf_coil_get_name(coil, &cn);
      tmsf_view v = params.view == TMSF_VIEW_COIL && !pose ? TMSF_VIEW_TOP : params.view;
      int k = snprintf(title, sizeof(title), "|E|");
      if (have_pl && pl.target[0]) k += snprintf(title + k, sizeof(title) - (size_t)k, " %s", pl.target);
      if (cn) k += snprintf(title + k, sizeof(title) - (size_t)k, "  %s", cn);
      if (isfinite(mso)) k += snprintf(title + k, sizeof(title) - (size_t)k, "  %.1f %%MSO", mso);
      else if (didt > 0.0) k += snprintf(title + k, sizeof(title) - (size_t)k, "  %.4g A/us", didt * 1e-6);
      snprintf(title + k, sizeof(title) - (size_t)k, "  view %s", tmsf_view_name(v));
    }
    params.title = title;
    if ((ierr = tmsf_render_cortex(field, coil, casing, pose, target, &params, &pic, &cinfo))) goto lib_error;
    if ((ierr = tmsf_picture_write_png(pic, o.out))) goto lib_error;
    tmsf_picture_get_size(pic, &cw, &ch);
    tmsf_picture_destroy(&pic);
    if (!o.quiet && !o.json) {
      printf("cortex    %s: %d x %d px, %.3f mm per px, colour range %.4g..%.4g V/m (surface max %.4g V/m)\n", o.out,
             cw, ch, cinfo.m_per_px * 1e3, cinfo.vmin_V_per_m, cinfo.vmax_V_per_m, cinfo.max_V_per_m);
      printf("hotspot   %.4g V/m at (%.1f, %.1f, %.1f) mm", cinfo.hotspot_V_per_m, cinfo.hotspot_m[0] * 1e3,
             cinfo.hotspot_m[1] * 1e3, cinfo.hotspot_m[2] * 1e3);
      if (isfinite(cinfo.coil_centre_px[0]))
        printf(", %.1f mm from the coil centre's projection (the >= 90 %% region's centroid: %.1f mm)",
               hypot(cinfo.hotspot_px[0] - cinfo.coil_centre_px[0], cinfo.hotspot_px[1] - cinfo.coil_centre_px[1]) *
                   cinfo.m_per_px * 1e3,
               hypot(cinfo.hot_region_px[0] - cinfo.coil_centre_px[0], cinfo.hot_region_px[1] - cinfo.coil_centre_px[1]) *
                   cinfo.m_per_px * 1e3);
      printf("\n");
    }
  }

  if (o.slices) {
    char nifti[4200];
    if (o.nifti) snprintf(nifti, sizeof(nifti), "%s", o.nifti);
    else snprintf(nifti, sizeof(nifti), "%s/magnE.nii.gz", pl.dir);
    if ((ierr = tmsf_volume_read_nifti(ctx, nifti, &vol))) goto lib_error;
    double pt[3], *point = NULL;
    if (o.have_point) {
      for (int k = 0; k < 3; k++) pt[k] = o.point_mm[k] * 1e-3;
      point = pt;
    } else if (!o.point_max && target) {
      point = target;
    }
    char stitle[512];
    if (o.title) {
      snprintf(stitle, sizeof(stitle), "%s", o.title);
    } else {
      const char *base = strrchr(nifti, '/');
      base = base ? base + 1 : nifti;
      snprintf(stitle, sizeof(stitle), "|E|%s%s  %.200s  through the %s", have_pl && pl.target[0] ? " " : "",
               have_pl ? pl.target : "", base, o.have_point ? "point" : point ? "target" : "maximum");
    }
    params.title = stitle;
    if ((ierr = tmsf_render_slices(vol, point, target, &params, &pic, &sinfo))) goto lib_error;
    if ((ierr = tmsf_picture_write_png(pic, o.slices))) goto lib_error;
    tmsf_picture_get_size(pic, &sw, &sh);
    tmsf_picture_destroy(&pic);
    if (!o.quiet && !o.json)
      printf("slices    %s: %d x %d px, %.3f mm per px, through (%.1f, %.1f, %.1f) mm, colour range %.4g..%.4g V/m "
             "(max %.4g V/m)\n",
             o.slices, sw, sh, sinfo.m_per_px * 1e3, sinfo.point_m[0] * 1e3, sinfo.point_m[1] * 1e3,
             sinfo.point_m[2] * 1e3, sinfo.vmin_V_per_m, sinfo.vmax_V_per_m, sinfo.max_V_per_m);
  }
  if (o.json) {
    printf("{");
    if (o.out) json_info(stdout, "cortex", o.out, cw, ch, &cinfo, 1);
    if (o.out && o.slices) printf(",\n");
    if (o.slices) json_info(stdout, "slices", o.slices, sw, sh, &sinfo, 0);
    printf("}\n");
  }
  goto done;
lib_error:
  {
    const char *msg = tmsf_context_last_error(ctx);
    fprintf(stderr, "tmsfield: error: %s\n", msg && *msg ? msg : tmsf_status_string(ierr));
    rc = EXIT_LIB;
  }
done:
  tmsf_picture_destroy(&pic);
  tmsf_volume_destroy(&vol);
  tmsf_field_destroy(&field);
  tmsf_simulation_destroy(&sim);
  tmsf_casing_destroy(&casing);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return rc;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cli-common.c: helpers shared by the tmsfield subcommands.
 */
#include "cli-common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int parse_vec(const char *s, double *v, int n) {
  const char *p = s;
  for (int i = 0; i < n; i++) {
    char *end;
    errno = 0;
    v[i] = strtod(p, &end);
    if (end == p || errno || !isfinite(v[i])) return 0;
    p = end;
    while (*p == ' ') p++;
    if (i < n - 1) {
      if (*p != ',') return 0;
      p++;
    }
  }
  while (*p == ' ') p++;
  return *p == '\0';
}

int parse_tags(const char *s, int32_t *tags, int max, int *num) {
  const char *p = s;
  *num = 0;
  while (*p) {
    char *end;
    long t = strtol(p, &end, 10);
    if (end == p || t < 1 || t > 2147483647L || *num == max) return 0;
    tags[(*num)++] = (int32_t)t;
    p = end;
    if (*p == ',') p++;
    else if (*p) return 0;
  }
  return *num > 0;
}

int parse_double(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end != s && *end == '\0' && !errno && isfinite(*v);
}

void cli_pose_init(cli_pose *p) {
  memset(p, 0, sizeof(*p));
  p->distance_mm = 4.0;
}

/* "--" prefix name */
static int is_opt(const char *arg, const char *prefix, const char *name) {
  size_t lp = strlen(prefix);
  return !strncmp(arg, "--", 2) && !strncmp(arg + 2, prefix, lp) && !strcmp(arg + 2 + lp, name);
}

int cli_pose_option(int argc, char **argv, int *i, const char *prefix, cli_pose *p, char *err, size_t errlen) {
  const char *a = argv[*i];
  const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
  int which = is_opt(a, prefix, "pose") ? 1
              : is_opt(a, prefix, "centre") || is_opt(a, prefix, "center") ? 2
              : is_opt(a, prefix, "ydir") ? 3
              : is_opt(a, prefix, "distance") ? 4
                                              : 0;
  if (!which) return 0;
  if (!val) {
    snprintf(err, errlen, "option %s needs a value", a);
    return -1;
  }
  (*i)++;
  switch (which) {
  case 1:
    if (strchr(val, ',')) {
      if (!parse_vec(val, p->pose_mm, 16)) {
        snprintf(err, errlen, "%s expects 16 comma-separated numbers, got '%s'", a, val);
        return -1;
      }
    } else {
      for (int k = 0; k < 16; k++)
        if (*i + k >= argc || !parse_double(argv[*i + k], &p->pose_mm[k])) {
          snprintf(err, errlen, "%s expects 16 numbers; number %d is %s", a, k + 1,
                   *i + k < argc ? argv[*i + k] : "missing");
          return -1;
        }
      *i += 15;
    }
    p->have_pose = 1;
    break;
  case 2:
    if (!parse_vec(val, p->centre_mm, 3)) {
      snprintf(err, errlen, "%s expects X,Y,Z in mm, got '%s'", a, val);
      return -1;
    }
    p->have_centre = 1;
    break;
  case 3:
    if (!parse_vec(val, p->ydir, 3)) {
      snprintf(err, errlen, "%s expects X,Y,Z, got '%s'", a, val);
      return -1;
    }
    p->have_ydir = 1;
    break;
  default:
    if (!parse_double(val, &p->distance_mm)) {
      snprintf(err, errlen, "%s expects mm, got '%s'", a, val);
      return -1;
    }
  }
  return 1;
}

const char *cli_pose_complete(const cli_pose *p, const char *prefix, char *err, size_t errlen) {
  if (p->have_pose == p->have_centre)
    snprintf(err, errlen, "give the coil pose either as --%spose (16 numbers) or as --%scentre with --%sydir",
             prefix, prefix, prefix);
  else if (p->have_centre && !p->have_ydir)
    snprintf(err, errlen, "--%scentre needs --%sydir", prefix, prefix);
  else if (p->have_pose && p->have_ydir)
    snprintf(err, errlen, "--%sydir goes with --%scentre, not with --%spose", prefix, prefix, prefix);
  else
    return NULL;
  return err;
}

int cli_pose_resolve(tmsf_context *ctx, const tmsf_mesh *mesh, const cli_pose *p, double P[16]) {
  int ierr;
  if (p->have_pose) {
    tmsf_pose_from_mm(p->pose_mm, P);
  } else {
    double c[3] = {p->centre_mm[0] * 1e-3, p->centre_mm[1] * 1e-3, p->centre_mm[2] * 1e-3};
    if ((ierr = tmsf_pose_from_centre(mesh, c, p->ydir, p->distance_mm * 1e-3, P))) return ierr;
  }
  return tmsf_pose_check(ctx, P);
}

void cli_sim_init(cli_sim *o) { memset(o, 0, sizeof(*o)); }

int cli_sim_option(int argc, char **argv, int *i, cli_sim *o, char *err, size_t errlen) {
  const char *a = argv[*i];
  static const char *names[] = {"--solver", "--tolerance", "--field-tolerance", "--threads", "--sigma"};
  int which = -1;
  for (int k = 0; k < 5; k++)
    if (!strcmp(a, names[k])) which = k;
  if (which < 0) return 0;
  if (*i + 1 >= argc) {
    snprintf(err, errlen, "option %s needs a value", a);
    return -1;
  }
  const char *val = argv[++(*i)];
  double t;
  switch (which) {
  case 0:
    o->solver = val;
    return 1;
  case 1:
    if (!parse_double(val, &o->tolerance)) break;
    return 1;
  case 2:
    if (!parse_double(val, &o->field_tolerance)) break;
    return 1;
  case 3:
    if (!parse_double(val, &t) || t < 0 || t != floor(t) || t > 4096) {
      snprintf(err, errlen, "--threads expects a whole number >= 0, got '%s'", val);
      return -1;
    }
    o->threads = (int)t;
    return 1;
  default: {
    const char *eq = strchr(val, '=');
    char *end;
    long tag = eq ? strtol(val, &end, 10) : 0;
    double s;
    if (!eq || end != eq || !parse_double(eq + 1, &s)) {
      snprintf(err, errlen, "--sigma expects TAG=S_PER_M (e.g. 3=1.654), got '%s'", val);
      return -1;
    }
    if (o->num_sigma == CLI_MAX_SIGMA) {
      snprintf(err, errlen, "at most %d --sigma options", CLI_MAX_SIGMA);
      return -1;
    }
    o->sigma_tag[o->num_sigma] = (int)tag;
    o->sigma_val[o->num_sigma] = s;
    o->num_sigma++;
    return 1;
  }
  }
  snprintf(err, errlen, "%s expects a number, got '%s'", a, val);
  return -1;
}

const char *cli_sim_complete(const cli_sim *o, char *err, size_t errlen) {
  if (o->tolerance > 0.0 && o->field_tolerance > 0.0) {
    snprintf(err, errlen, "give at most one of --tolerance and --field-tolerance");
    return err;
  }
  return NULL;
}

int cli_sim_apply_mesh(const cli_sim *o, tmsf_mesh *mesh) {
  for (int k = 0; k < o->num_sigma; k++) {
    int st = tmsf_mesh_set_conductivity(mesh, o->sigma_tag[k], o->sigma_val[k]);
    if (st) return st;
  }
  return TMSF_SUCCESS;
}

int cli_sim_apply(const cli_sim *o, tmsf_simulation *sim) {
  int st = TMSF_SUCCESS;
  if (o->solver) st = tmsf_simulation_set_solver(sim, o->solver);
  if (!st && o->tolerance > 0.0) st = tmsf_simulation_set_tolerance(sim, o->tolerance);
  if (!st && o->field_tolerance > 0.0) st = tmsf_simulation_set_field_tolerance(sim, o->field_tolerance);
  return st;
}

/* ------------------------------------------------------------------------- */
/* Head: --mesh / --head / --head-preset                                     */
/* ------------------------------------------------------------------------- */

void cli_head_init(cli_head *h) { memset(h, 0, sizeof(*h)); }

int cli_head_option(int argc, char **argv, int *i, cli_head *h, char *err, size_t errlen) {
  const char *a = argv[*i];
  const char **dst = !strcmp(a, "--mesh") ? &h->mesh
                     : !strcmp(a, "--head") ? &h->head
                     : !strcmp(a, "--head-preset") ? &h->preset
                                                   : NULL;
  if (!dst) return 0;
  if (*i + 1 >= argc) {
    snprintf(err, errlen, "option %s needs a value", a);
    return -1;
  }
  *dst = argv[++(*i)];
  return 1;
}

const char *cli_head_complete(const cli_head *h, char *err, size_t errlen) {
  if (!h->mesh && !h->head) {
    snprintf(err, errlen, "--mesh FILE is required (or --head default|FILE.msh|LABELS.nii.gz)");
    return err;
  }
  if (h->mesh && h->head) {
    snprintf(err, errlen, "give --mesh FILE or --head SPEC, not both");
    return err;
  }
  if (h->preset && !h->head) {
    snprintf(err, errlen, "--head-preset needs --head LABELS.nii.gz");
    return err;
  }
  return NULL;
}

/* ------------------------------------------------------------------------- */
/* Field outputs (NIfTI, HDF5, GIfTI)                                         */
/* ------------------------------------------------------------------------- */

void cli_out_init(cli_out *o) {
  memset(o, 0, sizeof(*o));
  o->gifti_tag = 1002;
}

int cli_out_option(int argc, char **argv, int *i, cli_out *o, char *err, size_t errlen) {
  const char *a = argv[*i];
  const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
  if (!strcmp(a, "--nifti-vector")) {
    o->vector = 1;
    return 1;
  }
  static const char *const names[] = {"--nifti", "--nifti-ref", "--nifti-tags", "--hdf5", "--gifti",
                                      "--gifti-tag", "--output-sampling"};
  int which = -1;
  for (int k = 0; k < 7; k++)
    if (!strcmp(a, names[k])) which = k;
  if (which < 0) return 0;
  if (!val) {
    snprintf(err, errlen, "option %s needs a value", a);
    return -1;
  }
  (*i)++;
  switch (which) {
  case 0: o->nifti = val; break;
  case 1: o->nifti_ref = val; break;
  case 2: {
    const char *p = val;
    o->num_tags = 0;
    while (*p) {
      char *end;
      errno = 0;
      long t = strtol(p, &end, 10);
      if (end == p || errno || t < 1 || t > 999 || o->num_tags >= CLI_MAX_OUT_TAGS || (*end && *end != ',')) {
        snprintf(err, errlen, "--nifti-tags expects comma-separated tissue tags (1..999, at most %d), got '%s'",
                 CLI_MAX_OUT_TAGS, val);
        return -1;
      }
      o->tags[o->num_tags++] = (int32_t)t;
      p = *end ? end + 1 : end;
    }
    if (!o->num_tags) {
      snprintf(err, errlen, "--nifti-tags expects at least one tag");
      return -1;
    }
    break;
  }
  case 3: o->hdf5 = val; break;
  case 4: o->gifti = val; break;
  case 5: {
    double t;
    if (!parse_double(val, &t) || t != floor(t) || t < 1001 || t > 1999) {
      snprintf(err, errlen, "--gifti-tag expects a surface tag (1001..1999, e.g. 1002), got '%s'", val);
      return -1;
    }
    o->gifti_tag = (int)t;
    break;
  }
  case 6:
    if (!strcmp(val, "element")) o->recovered = 0;
    else if (!strcmp(val, "recovered")) o->recovered = 1;
    else {
      snprintf(err, errlen, "--output-sampling expects element or recovered, got '%s'", val);
      return -1;
    }
    break;
  }
  return 1;
}

const char *cli_out_complete(const cli_out *o, int have_label_grid, char *err, size_t errlen) {
  if (o->nifti && !o->nifti_ref && !have_label_grid) {
    snprintf(err, errlen, "--nifti needs --nifti-ref REF.nii.gz (the grid to resample onto) unless the head is a label volume");
    return err;
  }
  if (!o->nifti && (o->nifti_ref || o->num_tags || o->vector)) {
    snprintf(err, errlen, "--nifti-ref, --nifti-tags and --nifti-vector need --nifti FILE.nii.gz");
    return err;
  }
  return NULL;
}

const char *cli_head_name(const cli_head *h) { return h->mesh ? h->mesh : h->head; }

/* The context's progress bar, if the command set one (its notes end the bar's line first). */
static cli_progress *context_bar(tmsf_context *ctx) {
  tmsf_progress_fn fn = NULL;
  void *user = NULL;
  tmsf_context_get_progress(ctx, &fn, &user);
  return fn == cli_progress_cb ? user : NULL;
}

int cli_head_open(tmsf_context *ctx, const cli_head *h, const char *prog, int quiet, tmsf_mesh **mesh) {
  if (h->mesh) return tmsf_mesh_read(ctx, h->mesh, mesh);
  tmsf_head_info info;
  int ierr = tmsf_head_query(ctx, h->head, h->preset, &info);
  if (ierr) return ierr;
  cli_progress_break(context_bar(ctx));
  if (!quiet && info.kind == TMSF_HEAD_LABELS && !info.cache_exists) {
    if (info.builtin)
      fprintf(stderr, "%s: meshing the built-in head (first use, about a minute on 2 cores; cached%s%s)\n", prog,
              info.cache_path[0] ? " in " : ": no cache directory", info.cache_path);
    else
      fprintf(stderr, "%s: meshing %s with preset %s (first use; cached%s%s)\n", prog, info.source, info.preset,
              info.cache_path[0] ? " in " : ": no cache directory", info.cache_path);
  }
  ierr = tmsf_head_open_ex(ctx, h->head, h->preset, &info, mesh);
  cli_progress_break(context_bar(ctx));
  if (ierr || quiet || info.kind != TMSF_HEAD_LABELS) return ierr;
  if (info.from_cache)
    fprintf(stderr, "%s: head %s: mesh from the cache %s\n", prog, h->head, info.cache_path);
  else
    fprintf(stderr, "%s: head %s: meshed in %.1f s%s%s%s\n", prog, h->head, info.mesh_time_s,
            info.cache_rebuilt ? " (the cache file was corrupt: replaced)" : "",
            info.cache_written ? ", cached in " : " (not cached)", info.cache_written ? info.cache_path : "");
  return TMSF_SUCCESS;
}

int cli_out_write(const cli_out *o, tmsf_field *field, const tmsf_coil *coil, const double P[16],
                  const char *label_grid, int quiet) {
  int ierr;
  tmsf_sample_mode mode = o->recovered ? TMSF_SAMPLE_RECOVERED : TMSF_SAMPLE_ELEMENT;
  if (o->nifti) {
    const char *ref = o->nifti_ref ? o->nifti_ref : label_grid;
    if ((ierr = tmsf_field_write_nifti(field, mode, ref, o->tags, o->num_tags,
                                       o->vector ? TMSF_OUTPUT_E : TMSF_OUTPUT_MAGNE, o->nifti)))
      return ierr;
    if (!quiet) printf("output    %s (%s on the grid of %s)\n", o->nifti, o->vector ? "E" : "|E|", ref);
  }
  if (o->hdf5) {
    if ((ierr = tmsf_field_write_hdf5(field, coil, P, NULL, 0, o->hdf5))) return ierr;
    if (!quiet) printf("output    %s (HDF5: mesh, fields, metadata)\n", o->hdf5);
  }
  if (o->gifti) {
    if ((ierr = tmsf_field_write_gifti(field, mode, o->gifti_tag, o->gifti))) return ierr;
    if (!quiet) printf("output    %s.surf.gii, %s.func.gii (|E| on surface %d)\n", o->gifti, o->gifti, o->gifti_tag);
  }
  return 0;
}

/* ------------------------------------------------------------------------- */
/* Progress bars                                                              */
/* ------------------------------------------------------------------------- */

#define BAR_WIDTH 30
#define TICK_S 0.2

static double mono_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Draw the current stage (lock held). */
static void bar_draw(cli_progress *p, double fraction) {
  char bar[BAR_WIDTH + 1];
  int filled = (int)(fraction * BAR_WIDTH + 1e-9);
  if (filled > BAR_WIDTH) filled = BAR_WIDTH;
  for (int k = 0; k < BAR_WIDTH; k++) bar[k] = k < filled ? '#' : '-';
  bar[BAR_WIDTH] = '\0';
  fprintf(stderr, "\r%-8s [%s] %3d %% %7.1f s", p->stage, bar, (int)(100.0 * fraction + 1e-9),
          mono_s() - p->t_start);
  fflush(stderr);
}

static void *bar_ticker(void *arg) {
  cli_progress *p = arg;
  pthread_mutex_lock(&p->lock);
  while (!p->stop) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long ns = until.tv_nsec + (long)(TICK_S * 1e9);
    until.tv_sec += ns / 1000000000L;
    until.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(&p->wake, &p->lock, &until);
    if (!p->stop && p->line_open) bar_draw(p, p->fraction);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

void cli_progress_init(cli_progress *p, int quiet) {
  memset(p, 0, sizeof(*p));
  const char *env = getenv("TMSF_PROGRESS");
  if (quiet || (env && !strcmp(env, "0")))
    p->on = 0;
  else if (env && !strcmp(env, "1"))
    p->on = 1;
  else
    p->on = isatty(2);
  p->done = 1;
  if (p->on) {
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
  }
}

int cli_progress_cb(void *user, const char *stage, double fraction) {
  cli_progress *p = user;
  if (!p || !p->on) return 0;
  pthread_mutex_lock(&p->lock);
  if (!(fraction >= 0.0)) fraction = 0.0;
  if (fraction > 1.0) fraction = 1.0;
  if (p->done && fraction >= 1.0 && !strncmp(stage, p->stage, sizeof(p->stage) - 1)) { /* said already */
    pthread_mutex_unlock(&p->lock);
    return 0;
  }
  int new_run = p->done || strncmp(stage, p->stage, sizeof(p->stage) - 1) || fraction < p->fraction;
  if (new_run) {
    if (p->line_open) { /* the previous stage ended without saying so */
      bar_draw(p, 1.0);
      fputc('\n', stderr);
    }
    snprintf(p->stage, sizeof(p->stage), "%s", stage);
    p->t_start = mono_s();
    p->done = 0;
  }
  p->fraction = fraction;
  bar_draw(p, fraction);
  p->line_open = 1;
  if (fraction >= 1.0) {
    fputc('\n', stderr);
    fflush(stderr);
    p->line_open = 0;
    p->done = 1;
  }
  if (!p->ticker_running && !p->stop) p->ticker_running = !pthread_create(&p->ticker, NULL, bar_ticker, p);
  pthread_mutex_unlock(&p->lock);
  return 0;
}

void cli_progress_break(cli_progress *p) {
  if (!p || !p->on) return;
  pthread_mutex_lock(&p->lock);
  if (p->line_open) {
    fputc('\n', stderr);
    fflush(stderr);
    p->line_open = 0;
  }
  pthread_mutex_unlock(&p->lock);
}

void cli_progress_finish(cli_progress *p) {
  if (!p || !p->on) return;
  pthread_mutex_lock(&p->lock);
  p->stop = 1;
  pthread_cond_signal(&p->wake);
  int running = p->ticker_running;
  p->ticker_running = 0;
  pthread_mutex_unlock(&p->lock);
  if (running) pthread_join(p->ticker, NULL);
  cli_progress_break(p);
}

/* ------------------------------------------------------------------------- */
/* JSON, script hooks                                                         */
/* ------------------------------------------------------------------------- */

void cli_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
    if (*c == '"' || *c == '\\')
      fprintf(f, "\\%c", *c);
    else if (*c == '\n')
      fputs("\\n", f);
    else if (*c == '\t')
      fputs("\\t", f);
    else if (*c < 0x20)
      fprintf(f, "\\u%04x", *c);
    else
      fputc(*c, f);
  }
  fputc('"', f);
}

int cli_parse_only(void) {
  const char *env = getenv("TMSF_CLI_PARSE_ONLY");
  return env && *env && strcmp(env, "0");
}

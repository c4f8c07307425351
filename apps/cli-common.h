/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cli-common.h: helpers shared by the tmsfield subcommands (apps/).
 */
#ifndef TMSF_CLI_COMMON_H
#define TMSF_CLI_COMMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include <tmsfield/tmsfield.h>

#ifndef EXIT_LIB
#define EXIT_LIB 1   /* a library error (message on stderr) */
#define EXIT_USAGE 2 /* a bad or missing option */
#endif

/* A list of exactly n finite numbers separated by commas; 1 on success. */
int parse_vec(const char *s, double *v, int n);

/* One finite number, the whole string; 1 on success. */
int parse_double(const char *s, double *v);

/* Tissue tags "2" or "1,2,3" (positive, at most max of them) into tags, their
 * count into *num; 1 on success. */
int parse_tags(const char *s, int32_t *tags, int max, int *num);

/* A coil pose as the command line gives it: --pose (16 numbers, mm) or
 * --centre, --ydir and --distance (mm), optionally behind a prefix such as
 * "rmt-" (--rmt-pose, --rmt-centre, ...). */
typedef struct cli_pose {
  int have_pose, have_centre, have_ydir;
  double pose_mm[16], centre_mm[3], ydir[3], distance_mm;
} cli_pose;

/* Defaults: no pose yet, distance 4 mm. */
void cli_pose_init(cli_pose *p);

/* If argv[*i] is one of the pose options (with the prefix after "--"),
 * consume it and its value(s), advancing *i to the last argument used, and
 * return 1; return 0 when it is not a pose option; on a bad value return -1
 * with a message in err. */
int cli_pose_option(int argc, char **argv, int *i, const char *prefix, cli_pose *p, char *err, size_t errlen);

/* NULL when the options describe exactly one pose, else a message. */
const char *cli_pose_complete(const cli_pose *p, const char *prefix, char *err, size_t errlen);

/* The head-from-coil matrix (m) for a mesh: --pose converted from mm, or
 * tmsf_pose_from_centre; checked with tmsf_pose_check.  A library status. */
int cli_pose_resolve(tmsf_context *ctx, const tmsf_mesh *mesh, const cli_pose *p, double head_from_coil_m[16]);

/* The simulation options every solving command shares: --solver NAME,
 * --tolerance RTOL, --field-tolerance REL, --threads N, --sigma TAG=S_PER_M
 * (repeatable). */
#define CLI_MAX_SIGMA 64
typedef struct cli_sim {
  const char *solver;
  double tolerance, field_tolerance; /* 0: library default */
  int threads;                       /* 0: the library's choice */
  int num_sigma;
  int sigma_tag[CLI_MAX_SIGMA];
  double sigma_val[CLI_MAX_SIGMA];
} cli_sim;

void cli_sim_init(cli_sim *o);

/* As cli_pose_option, for the options above. */
int cli_sim_option(int argc, char **argv, int *i, cli_sim *o, char *err, size_t errlen);

/* NULL when the options are consistent, else a message. */
const char *cli_sim_complete(const cli_sim *o, char *err, size_t errlen);

/* Conductivity overrides onto the mesh; solver and stopping rule onto the
 * simulation (before its setup).  Library statuses. */
int cli_sim_apply_mesh(const cli_sim *o, tmsf_mesh *mesh);
int cli_sim_apply(const cli_sim *o, tmsf_simulation *sim);

/* The head of a solving command: --mesh FILE.msh, or --head default|FILE.msh|
 * LABELS.nii.gz with an optional --head-preset NAME for label volumes
 * (tmsf_head_open_ex: label volumes are meshed at first use and cached). */
typedef struct cli_head {
  const char *mesh, *head, *preset;
} cli_head;

void cli_head_init(cli_head *h);

/* As cli_pose_option, for --mesh, --head and --head-preset. */
int cli_head_option(int argc, char **argv, int *i, cli_head *h, char *err, size_t errlen);

/* NULL when exactly one of --mesh / --head is given, else a message. */
const char *cli_head_complete(const cli_head *h, char *err, size_t errlen);

/* The name to print for the head (the --mesh file or the --head spec). */
const char *cli_head_name(const cli_head *h);

/* Open the head.  Unless quiet, says on stderr when a label volume is
 * about to be meshed (first use) and afterwards whether the mesh came from
 * the cache.  A library status. */
int cli_head_open(tmsf_context *ctx, const cli_head *h, const char *prog, int quiet, tmsf_mesh **mesh);

/* Field outputs besides the mesh, for commands that solve one field:
 * --nifti FILE.nii[.gz] [--nifti-ref REF.nii[.gz]] [--nifti-tags T,T,...]
 * [--nifti-vector], --hdf5 FILE.h5, --gifti PREFIX [--gifti-tag TAG],
 * --output-sampling element|recovered.  (cli_out_* live in cli-common.c.) */
#define CLI_MAX_OUT_TAGS 32
typedef struct cli_out {
  const char *nifti, *nifti_ref, *hdf5, *gifti;
  int vector;            /* --nifti-vector: E (X x Y x Z x 3) instead of |E| */
  int recovered;         /* --output-sampling recovered */
  int gifti_tag;         /* default 1002, the grey-matter outer surface */
  int num_tags;          /* --nifti-tags; 0: every tissue */
  int32_t tags[CLI_MAX_OUT_TAGS];
} cli_out;

void cli_out_init(cli_out *o);

/* As cli_pose_option, for the options above. */
int cli_out_option(int argc, char **argv, int *i, cli_out *o, char *err, size_t errlen);

/* NULL when consistent, else a message.  have_label_grid: the head came from
 * a label volume whose grid --nifti may use without --nifti-ref. */
const char *cli_out_complete(const cli_out *o, int have_label_grid, char *err, size_t errlen);

/* Write the outputs asked for (rank 0 only).  label_grid: the label volume's
 * path when the head came from one (the default --nifti grid), else NULL.
 * Prints one "output" line per file unless quiet.  A library status. */
int cli_out_write(const cli_out *o, tmsf_field *field, const tmsf_coil *coil,
                  const double head_from_coil_m[16], const char *label_grid, int quiet);

/* ------------------------------------------------------------------------- */
/* Progress bars, JSON, script hooks                                          */
/* ------------------------------------------------------------------------- */

/* A progress bar on stderr, one line per stage:
 *
 *   mesh     [##############----------------]  47 %   6.2 s
 *
 * drawn when stderr is a terminal and the command is not --quiet
 * (TMSF_PROGRESS=1 draws it anyway, TMSF_PROGRESS=0 never).  cli_progress_cb
 * is a tmsf_progress_fn: give it to tmsf_context_set_progress (meshing,
 * setup, solves) or to tmsf_placement_options.progress with the bar as user.
 * While a stage runs, a ticker thread redraws the line every 0.2 s so the
 * elapsed time moves during steps that report rarely (CGAL's refinement). */
typedef struct cli_progress {
  int on;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t ticker;
  int ticker_running, stop;
  char stage[32];
  double fraction, t_start;
  int line_open; /* a bar is drawn and its line not ended */
  int done;      /* the stage reached fraction 1 */
} cli_progress;

/* on: 0 never draws (quiet, not a terminal, an MPI rank other than 0). */
void cli_progress_init(cli_progress *p, int quiet);
int cli_progress_cb(void *user, const char *stage, double fraction);
/* End the line of a bar in progress (before printing anything else). */
void cli_progress_break(cli_progress *p);
/* Stop the ticker and end the line; call before returning (idempotent). */
void cli_progress_finish(cli_progress *p);

/* s as a JSON string, quoted and escaped. */
void cli_json_string(FILE *f, const char *s);

/* TMSF_CLI_PARSE_ONLY=1 (testing command lines, e.g. the --help examples on
 * the built-in head): commands check their options and exit 0 (2 on a usage
 * error) without doing anything. */
int cli_parse_only(void);

#endif

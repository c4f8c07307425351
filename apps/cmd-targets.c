/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cmd-targets.c: `tmsfield targets` — the named MNI targets (targets.h),
 * optionally projected onto the grey matter of a head.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-common.h"
#include "commands.h"

static void usage_targets(FILE *f) {
  fprintf(f,
          "usage: tmsfield targets [--json] [--quiet] [NAME] [--head SPEC | --mesh FILE.msh]\n"
          "                        [--affine 16 NUMBERS | --affine-nifti FILE]\n"
          "\n"
          "Lists the named stimulation targets (MNI coordinates in mm, with their sources;\n"
          "docs/targets.md).  Names are case-insensitive (M1, M1-right, DLPFC, F3, BA9, BA46,\n"
          "Fox, S2, PSI, ...).  With a head, each target is mapped to the head (identity\n"
          "for MNI heads such as --head default, else the MNI-to-head affine) and projected\n"
          "onto the nearest point of the grey matter (tag 2), with the distance.\n"
          "\n"
          "  NAME               only this target\n"
          "  --json             JSON instead of a table: [{\"name\", \"mni_mm\", \"description\",\n"
          "                     \"citation\"[, \"head_mm\", \"grey_matter_mm\", \"distance_mm\"]}, ...]\n"
          "  --quiet            print nothing but errors (with --json: only the JSON); the\n"
          "                     exit code says whether NAME is known\n"
          "  --head SPEC        default | FILE.msh | LABELS.nii.gz (see 'tmsfield simulate')\n"
          "  --mesh FILE        a Gmsh head mesh\n"
          "  --affine M11,...,M44   MNI-to-head 4x4 affine, row-major, mm\n"
          "  --affine-nifti FILE    the affine is the sform (else qform) of this NIfTI file\n"
          "\n"
          "Exit codes: 0 success, 1 library error (e.g. an unknown NAME), 2 usage error.\n"
          "\n"
          "examples (the last meshes the built-in head at first use):\n"
          "  tmsfield targets\n"
          "  tmsfield targets DLPFC --json\n"
          "  tmsfield targets --head default\n");
}

static int fail_usage(const char *msg, const char *arg) {
  fprintf(stderr, "tmsfield targets: %s%s\n(see 'tmsfield targets --help')\n", msg, arg ? arg : "");
  return EXIT_USAGE;
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

int tmsf_cmd_targets(int argc, char **argv) {
  int json = 0, have_affine = 0, quiet = 0;
  const char *name = NULL, *affine_nifti = NULL;
  double A[16];
  cli_head head;
  cli_head_init(&head);
  char err[256];
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    int r = cli_head_option(argc, argv, &i, &head, err, sizeof(err));
    if (r < 0) return fail_usage(err, NULL);
    if (r > 0) continue;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_targets(stdout);
      return 0;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      quiet = 1;
    } else if (!strcmp(a, "--affine")) {
      if (i + 1 >= argc || !parse_vec(argv[i + 1], A, 16))
        return fail_usage("--affine expects 16 comma-separated numbers", NULL);
      have_affine = 1;
      i++;
    } else if (!strcmp(a, "--affine-nifti")) {
      if (i + 1 >= argc) return fail_usage("--affine-nifti needs a file", NULL);
      affine_nifti = argv[++i];
    } else if (a[0] == '-' && a[1] == '-') {
      return fail_usage("unknown option ", a);
    } else if (!name) {
      name = a;
    } else {
      return fail_usage("more than one target name: ", a);
    }
  }
  if (have_affine && affine_nifti) return fail_usage("give --affine or --affine-nifti, not both", NULL);
  int with_head = head.mesh || head.head;
  if (with_head && cli_head_complete(&head, err, sizeof(err))) return fail_usage(err, NULL);
  if ((have_affine || affine_nifti) && !with_head) return fail_usage("--affine needs --head or --mesh", NULL);
  if (cli_parse_only()) return 0;

  tmsf_context *ctx = NULL;
  tmsf_mesh *mesh = NULL;
  int ierr = tmsf_context_create(&ctx), rc = 0;
  if (ierr) return EXIT_LIB;
  int first = 0, last = 0;
  tmsf_target_get_num(&last);
  if (name) {
    if ((ierr = tmsf_target_find(ctx, name, &first))) goto lib_error;
    last = first + 1;
  }
  if (affine_nifti && (ierr = tmsf_nifti_get_affine(ctx, affine_nifti, A))) goto lib_error;
  cli_progress bar; /* meshing a label head at first use */
  cli_progress_init(&bar, quiet);
  tmsf_context_set_progress(ctx, cli_progress_cb, &bar);
  ierr = with_head ? cli_head_open(ctx, &head, "tmsfield", quiet, &mesh) : TMSF_SUCCESS;
  cli_progress_finish(&bar);
  if (ierr) goto lib_error;
  if (json) printf("[");
  else if (!quiet && with_head)
    printf("%-10s %-24s %-28s %8s  %s\n", "name", "MNI (mm)", "grey matter (head, mm)", "dist mm", "description");
  else if (!quiet)
    printf("%-10s %-20s %s\n", "name", "MNI (mm)", "description / source");
  for (int t = first; t < last; t++) {
    tmsf_target_info info;
    tmsf_target_get_info(t, &info);
    double h[3], q[3] = {0, 0, 0}, d = 0;
    if (with_head) {
      if ((ierr = tmsf_target_mni_to_head(have_affine || affine_nifti ? A : NULL, info.mni_mm, h))) {
        fprintf(stderr, "tmsfield targets: error: the affine is not a 4x4 affine (last row 0 0 0 1, finite)\n");
        rc = EXIT_LIB;
        break;
      }
      if ((ierr = tmsf_target_project(mesh, h, 2, q, &d, NULL))) goto lib_error;
    }
    if (json) {
      printf("%s\n  {\"name\": ", t > first ? "," : "");
      json_string(info.name);
      printf(", \"mni_mm\": [%g, %g, %g], \"description\": ", info.mni_mm[0], info.mni_mm[1], info.mni_mm[2]);
      json_string(info.description);
      printf(", \"citation\": ");
      json_string(info.citation);
      if (with_head)
        printf(", \"head_mm\": [%.3f, %.3f, %.3f], \"grey_matter_mm\": [%.3f, %.3f, %.3f], \"distance_mm\": %.3f",
               1e3 * h[0], 1e3 * h[1], 1e3 * h[2], 1e3 * q[0], 1e3 * q[1], 1e3 * q[2], 1e3 * d);
      printf("}");
    } else if (!quiet) {
      char mni[64];
      snprintf(mni, sizeof(mni), "%g,%g,%g", info.mni_mm[0], info.mni_mm[1], info.mni_mm[2]);
      if (with_head) {
        char gm[96];
        snprintf(gm, sizeof(gm), "%.1f,%.1f,%.1f", 1e3 * q[0], 1e3 * q[1], 1e3 * q[2]);
        printf("%-10s %-24s %-28s %8.2f  %s\n", info.name, mni, gm, 1e3 * d, info.description);
      } else {
        printf("%-10s %-20s %s\n%-10s %-20s   %s\n", info.name, mni, info.description, "", "", info.citation);
      }
    }
  }
  if (json) printf("\n]\n");
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return rc;
lib_error:
  fprintf(stderr, "tmsfield targets: error: %s\n", tmsf_context_last_error(ctx));
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return EXIT_LIB;
}

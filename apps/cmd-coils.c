/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cmd-coils.c: `tmsfield coils` — list the coils the library finds by name
 * (shipped data, TMSF_COIL_PATH, --dir), as a table or as JSON.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <tmsfield/tmsfield.h>

#include "cli-common.h"
#include "commands.h"

#define MAX_DIRS 64

static void usage_coils(FILE *f) {
  fprintf(f,
          "usage: tmsfield coils [--dir DIR]... [--json]\n"
          "\n"
          "Lists the coils that 'tmsfield simulate --coil NAME' and tmsf_coil_open find by\n"
          "name: name (the file name without extension; the header's coilname works too),\n"
          "brand, stimulator, dI/dt max in A/us at 100 %% MSO on that stimulator, number of\n"
          "elements (dipoles or line segments; JSON key \"dipoles\") and the file.\n"
          "Sources, first match wins: --dir directories, then the directories of\n"
          "TMSF_COIL_PATH (colon-separated), then the shipped coils in\n"
          "<data dir>/coils (TMSF_DATA_DIR overrides the installed data directory).\n"
          "Files that cannot be read are reported on stderr and left out.\n"
          "\n"
          "  --dir DIR   also list the coil files (.ccd, .tcd, .nii, .nii.gz) in DIR and its\n"
          "              subdirectories (repeatable)\n"
          "  --json      print JSON: {\"data_dir\", \"coils\": [...], \"skipped\": [...]}; each coil\n"
          "              also names its measured pulse waveform (.tsv beside it) or null\n"
          "  --quiet     print nothing but errors and the skipped files (with --json: only the\n"
          "              JSON); the exit code still says whether --dir could be read\n"
          "\n"
          "Exit codes: 0 success, 1 library error (e.g. a --dir that cannot be read),\n"
          "2 usage error.\n"
          "\n"
          "examples (from the source tree):\n"
          "  tmsfield coils\n"
          "  tmsfield coils --dir tests/data/coils --json\n"
          "  tmsfield simulate --mesh data/spheres/sphere3.msh --coil MagVenture_MC-B70 \\\n"
          "      --centre 0,0,95 --ydir 0,1,0 --mso 50 --out sphere3_E.msh\n");
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", f);
    else if (*p == '\t')
      fputs("\\t", f);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static int fail_usage(const char *msg, const char *arg) {
  fprintf(stderr, "tmsfield: %s%s%s\n(see 'tmsfield coils --help')\n", msg, arg ? " " : "",
          arg ? arg : "");
  return 2;
}

int tmsf_cmd_coils(int argc, char **argv) {
  const char *dirs[MAX_DIRS];
  int num_dirs = 0, json = 0, quiet = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_coils(stdout);
      return 0;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      quiet = 1;
    } else if (!strcmp(a, "--dir")) {
      if (i + 1 >= argc) return fail_usage("option --dir needs a directory", NULL);
      if (num_dirs == MAX_DIRS) return fail_usage("too many --dir options (at most 64)", NULL);
      dirs[num_dirs++] = argv[++i];
    } else {
      return fail_usage("unknown option", a);
    }
  }
  if (cli_parse_only()) return 0;
  tmsf_context *ctx = NULL;
  tmsf_catalogue *cat = NULL;
  int ierr = tmsf_context_create(&ctx);
  if (!ierr) ierr = tmsf_catalogue_create(ctx, &cat);
  for (int k = 0; k < num_dirs && !ierr; k++) ierr = tmsf_catalogue_add_directory(cat, dirs[k]);
  if (ierr) {
    const char *msg = ctx ? tmsf_context_last_error(ctx) : "";
    fprintf(stderr, "tmsfield: error: %s\n", msg && *msg ? msg : tmsf_status_string(ierr));
    tmsf_catalogue_destroy(&cat);
    tmsf_context_destroy(&ctx);
    return 1;
  }
  int n = 0, ns = 0;
  tmsf_catalogue_get_num_coils(cat, &n);
  tmsf_catalogue_get_num_skipped(cat, &ns);
  const char *data_dir;
  tmsf_get_data_dir(&data_dir);
  if (json) {
    printf("{\n  \"data_dir\": ");
    json_string(stdout, data_dir);
    printf(",\n  \"coils\": [");
    for (int i = 0; i < n; i++) {
      tmsf_coil_info c;
      tmsf_catalogue_get_coil_info(cat, i, &c);
      printf("%s\n    {\"name\": ", i ? "," : "");
      json_string(stdout, c.name);
      printf(", \"coilname\": ");
      json_string(stdout, c.coilname);
      printf(", \"brand\": ");
      json_string(stdout, c.brand);
      printf(", \"stimulator\": ");
      json_string(stdout, c.stimulator);
      if (isfinite(c.didt_max_A_per_s))
        printf(", \"didt_max_A_per_us\": %.17g, \"didt_max_A_per_s\": %.17g", c.didt_max_A_per_s / 1e6,
               c.didt_max_A_per_s);
      else
        printf(", \"didt_max_A_per_us\": null, \"didt_max_A_per_s\": null");
      printf(", \"dipoles\": %lld, \"format\": ", (long long)c.num_elements);
      json_string(stdout, c.format);
      printf(", \"source\": ");
      json_string(stdout, c.source);
      printf(", \"path\": ");
      json_string(stdout, c.path);
      printf(", \"waveform\": ");
      if (c.waveform_path[0])
        json_string(stdout, c.waveform_path);
      else
        printf("null");
      printf("}");
    }
    printf("%s],\n  \"skipped\": [", n ? "\n  " : "");
    for (int i = 0; i < ns; i++) {
      const char *path, *reason;
      tmsf_catalogue_get_skipped(cat, i, &path, &reason);
      printf("%s\n    {\"path\": ", i ? "," : "");
      json_string(stdout, path);
      printf(", \"reason\": ");
      json_string(stdout, reason);
      printf("}");
    }
    printf("%s]\n}\n", ns ? "\n  " : "");
  } else if (quiet) {
    for (int i = 0; i < ns; i++) {
      const char *path, *reason;
      tmsf_catalogue_get_skipped(cat, i, &path, &reason);
      fprintf(stderr, "tmsfield: skipped %s: %s\n", path, reason);
    }
  } else {
    int wn = 4, wb = 5, ws = 10;
    for (int i = 0; i < n; i++) {
      tmsf_coil_info c;
      tmsf_catalogue_get_coil_info(cat, i, &c);
      if ((int)strlen(c.name) > wn) wn = (int)strlen(c.name);
      if ((int)strlen(c.brand) > wb) wb = (int)strlen(c.brand);
      if ((int)strlen(c.stimulator) > ws) ws = (int)strlen(c.stimulator);
    }
    printf("%-*s  %-*s  %-*s  %10s  %8s  %s\n", wn, "name", wb, "brand", ws, "stimulator", "dI/dt A/us",
           "elements", "path");
    for (int i = 0; i < n; i++) {
      tmsf_coil_info c;
      tmsf_catalogue_get_coil_info(cat, i, &c);
      char didt[32];
      if (isfinite(c.didt_max_A_per_s))
        snprintf(didt, sizeof(didt), "%.2f", c.didt_max_A_per_s / 1e6);
      else
        snprintf(didt, sizeof(didt), "-");
      printf("%-*s  %-*s  %-*s  %10s  %8lld  %s\n", wn, c.name, wb, c.brand[0] ? c.brand : "-", ws,
             c.stimulator[0] ? c.stimulator : "-", didt, (long long)c.num_elements, c.path);
    }
    printf("%d coil%s (dI/dt max at 100 %% MSO; shipped data: %s/coils)\n", n, n == 1 ? "" : "s",
           data_dir);
    for (int i = 0; i < ns; i++) {
      const char *path, *reason;
      tmsf_catalogue_get_skipped(cat, i, &path, &reason);
      fprintf(stderr, "tmsfield: skipped %s: %s\n", path, reason);
    }
  }
  tmsf_catalogue_destroy(&cat);
  tmsf_context_destroy(&ctx);
  return 0;
}

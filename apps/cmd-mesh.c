/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cmd-mesh.c: `tmsfield mesh` — a NIfTI label volume to a tetrahedral head
 * mesh (Gmsh .msh) with CGAL, printing the quality report.  Public API only.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tmsfield/tmsfield.h>

#include "cli-common.h"
#include "commands.h"

static void usage_mesh(FILE *f) {
  fprintf(f,
          "usage: tmsfield mesh LABELS.nii[.gz] --out HEAD.msh [--preset NAME|TABLE] [options]\n"
          "\n"
          "Tetrahedral head mesh of a label volume (CGAL 3D mesh generator): conforming\n"
          "tissue interfaces, finer in grey matter and CSF, sliver perturbation and\n"
          "exudation.  Tetrahedra carry SimNIBS tissue tags (1 WM, 2 GM, 3 CSF, 4 bone,\n"
          "5 scalp, 6 eyes, 7 compact bone, 8 spongy bone, 9 blood, 10 muscle); triangles\n"
          "on each interface carry 1000 + the inner tissue (1002 GM surface, 1005 outer\n"
          "scalp).  Coordinates are the volume's sform (else qform, else pixdim) in mm.\n"
          "Prints the quality report (counts, inverted elements, dihedral angles,\n"
          "radius-edge ratios, tissue volumes against the voxel volumes).\n"
          "\n"
          "  --out FILE.msh        output mesh (Gmsh 2.2 binary, mm); required\n"
          "  --preset NAME         label mapping: simnibs (default), charm, colin27, brainweb,\n"
          "                        roast, newyork, or a table FROM=TO,... (e.g. 1=5,2=4,6=0)\n"
          "  --cell-size MM        max tetrahedron circumradius outside GM/CSF (default 4)\n"
          "  --cell-size-fine MM   ... in GM and CSF (default 2.4)\n"
          "  --facet-size MM       max surface facet circumradius (default 3)\n"
          "  --facet-size-fine MM  ... next to GM and CSF (default 1.8)\n"
          "  --facet-distance MM   max distance of facets from the interfaces (default 0.6)\n"
          "  --fine-tags LIST      tissues meshed finely, comma separated (default 2,3)\n"
          "  --no-optimize         skip sliver perturbation and exudation\n"
          "  --odt                 add ODT smoothing\n"
          "  --threads N           mesher threads (default: all)\n"
          "  --seed N              random seed of the mesher (default 1)\n"
          "  --json                print the quality report as JSON on stdout\n"
          "  --quiet               no report, no progress bar (with --json: only the JSON)\n"
          "\n"
          "Exit codes: 0 success, 1 library error, 2 usage error.\n"
          "\n"
          "examples (from the source tree; the first takes a few seconds, the second,\n"
          "the built-in head's settings, about a minute on 2 cores):\n"
          "  tmsfield mesh data/heads/colin27_v3_labels_mni.nii.gz --preset colin27 --out coarse.msh \\\n"
          "      --cell-size 8 --cell-size-fine 6 --facet-size 6 --facet-size-fine 5 --facet-distance 2 --json\n"
          "  tmsfield mesh data/heads/colin27_v3_labels_mni.nii.gz --preset colin27 --out colin27.msh\n");
}

static int fail_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "tmsfield: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see 'tmsfield mesh --help')\n");
  va_end(ap);
  return EXIT_USAGE;
}

/* A number, or null when it is not finite (JSON has no NaN). */
static void json_num(const char *fmt, double v) {
  if (isfinite(v)) printf(fmt, v);
  else printf("null");
}

static void print_json(const tmsf_mesh_quality_report *q, const char *in, const char *out, const char *preset,
                       const tmsf_meshing_params *p) {
  static const char *names[] = {"outside", "WM", "GM", "CSF", "bone", "scalp", "eyes",
                                "compact bone", "spongy bone", "blood", "muscle"};
  printf("{\n\"tool\": \"tmsfield mesh\",\n\"version\": ");
  cli_json_string(stdout, tmsf_version());
  printf(",\n\"labels\": ");
  cli_json_string(stdout, in);
  printf(",\n\"out\": ");
  cli_json_string(stdout, out);
  printf(",\n\"preset\": ");
  cli_json_string(stdout, preset);
  printf(",\n\"params\": {\"cell_size_mm\": %g, \"cell_size_fine_mm\": %g, \"facet_size_mm\": %g, "
         "\"facet_size_fine_mm\": %g, \"facet_distance_mm\": %g, \"seed\": %d},\n",
         p->cell_size_mm, p->cell_size_fine_mm, p->facet_size_mm, p->facet_size_fine_mm, p->facet_distance_mm,
         p->seed);
  printf("\"nodes\": %lld,\n\"tetrahedra\": %lld,\n\"triangles\": %lld,\n", (long long)q->num_nodes,
         (long long)q->num_tets, (long long)q->num_tris);
  printf("\"mesh_time_s\": %.4g,\n\"inverted_tetrahedra\": %lld,\n", q->mesh_time_s, (long long)q->num_inverted);
  printf("\"dihedral_deg\": {\"min\": %.6g, \"max\": %.6g, \"tetrahedra_below_5\": %lld},\n", q->min_dihedral_deg,
         q->max_dihedral_deg, (long long)q->num_dihedral_below_5);
  printf("\"radius_edge_ratio\": {\"mean\": %.6g, \"p99\": %.6g, \"max\": %.6g},\n", q->radius_edge_mean,
         q->radius_edge_p99, q->radius_edge_max);
  printf("\"mean_edge_mm\": %.6g,\n\"tissues\": [", q->mean_edge_mm);
  for (int i = 0; i < q->num_tags; i++) {
    int32_t t = q->tags[i];
    printf("%s\n  {\"tag\": %d, \"tissue\": ", i ? "," : "", (int)t);
    cli_json_string(stdout, t >= 0 && t <= 10 ? names[t] : "");
    printf(", \"tetrahedra\": %lld, \"volume_mm3\": %.10g, \"voxel_volume_mm3\": ", (long long)q->tets_per_tag[i],
           q->volume_mm3[i]);
    json_num("%.10g", isfinite(q->volume_rel_error[i]) ? q->voxel_volume_mm3[i] : NAN);
    printf(", \"volume_rel_error\": ");
    json_num("%.6g", q->volume_rel_error[i]);
    printf("}");
  }
  printf("\n],\n\"surfaces\": [");
  for (int i = 0; i < q->num_surface_tags; i++)
    printf("%s{\"tag\": %d, \"triangles\": %lld}", i ? ", " : "", (int)q->surface_tags[i],
           (long long)q->tris_per_tag[i]);
  printf("],\n\"max_abs_volume_rel_error\": ");
  json_num("%.6g", q->max_abs_volume_rel_error);
  printf("\n}\n");
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int tmsf_cmd_mesh(int argc, char **argv) {
  const char *in = NULL, *out = NULL, *preset = NULL;
  int quiet = 0, threads = 0, json = 0;
  tmsf_meshing_params p;
  tmsf_meshing_params_init(&p);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_mesh(stdout);
      return 0;
    }
    if (a[0] != '-' || a[1] == '\0') {
      if (in) return fail_usage("more than one label volume: '%s' and '%s'", in, a);
      in = a;
      continue;
    }
    if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { quiet = 1; continue; }
    if (!strcmp(a, "--json")) { json = 1; continue; }
    if (!strcmp(a, "--no-optimize")) { p.perturb = p.exude = 0; continue; }
    if (!strcmp(a, "--odt")) { p.odt = 1; continue; }
    if (i + 1 >= argc) return fail_usage("option %s needs a value", a);
    const char *val = argv[++i];
    double *dst = NULL;
    if (!strcmp(a, "--out")) out = val;
    else if (!strcmp(a, "--preset")) preset = val;
    else if (!strcmp(a, "--cell-size")) dst = &p.cell_size_mm;
    else if (!strcmp(a, "--cell-size-fine")) dst = &p.cell_size_fine_mm;
    else if (!strcmp(a, "--facet-size")) dst = &p.facet_size_mm;
    else if (!strcmp(a, "--facet-size-fine")) dst = &p.facet_size_fine_mm;
    else if (!strcmp(a, "--facet-distance")) dst = &p.facet_distance_mm;
    else if (!strcmp(a, "--threads") || !strcmp(a, "--seed")) {
      char *end;
      long n = strtol(val, &end, 10);
      if (*end || end == val || n < 0 || n > 100000)
        return fail_usage("%s expects a non-negative integer, got '%s'", a, val);
      if (!strcmp(a, "--threads")) threads = (int)n;
      else p.seed = (int)n;
    } else if (!strcmp(a, "--fine-tags")) {
      p.num_fine_tags = 0;
      const char *s = val;
      while (*s) {
        char *end;
        long t = strtol(s, &end, 10);
        if (end == s || t < 0 || t > 255 || (*end && *end != ','))
          return fail_usage("--fine-tags expects tissue tags separated by commas, got '%s'", val);
        if (p.num_fine_tags >= TMSF_MESHING_MAX_FINE)
          return fail_usage("--fine-tags takes at most %d tags", TMSF_MESHING_MAX_FINE);
        p.fine_tags[p.num_fine_tags++] = (int32_t)t;
        s = *end ? end + 1 : end;
      }
    } else
      return fail_usage("unknown option '%s'", a);
    if (dst && (!parse_double(val, dst) || !(*dst > 0)))
      return fail_usage("%s expects a positive length in mm, got '%s'", a, val);
  }
  if (!in) return fail_usage("a label volume (LABELS.nii or .nii.gz) is required");
  if (!out) return fail_usage("--out FILE.msh is required");
  p.num_threads = threads;
  if (cli_parse_only()) return 0;

  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) {
    fprintf(stderr, "tmsfield: cannot create a context\n");
    return EXIT_LIB;
  }
  if (threads > 0) tmsf_context_set_threads(ctx, threads);
  cli_progress bar;
  cli_progress_init(&bar, quiet);
  tmsf_context_set_progress(ctx, cli_progress_cb, &bar);
  int rc = EXIT_LIB;
  tmsf_labels *labels = NULL;
  tmsf_mesh *mesh = NULL;
  if (tmsf_labels_read(ctx, in, &labels)) goto fail;
  double t0 = wall();
  if (tmsf_mesh_from_labels(labels, preset, &p, &mesh)) goto fail;
  double t1 = wall();
  if (tmsf_mesh_write(mesh, NULL, out)) goto fail;
  cli_progress_finish(&bar);
  if (!quiet || json) {
    tmsf_mesh_quality_report q;
    if (tmsf_mesh_quality(mesh, &q) || tmsf_mesh_quality_compare(&q, labels, preset)) goto fail;
    q.mesh_time_s = t1 - t0;
    if (json) {
      print_json(&q, in, out, preset ? preset : "simnibs", &p);
    } else {
      printf("%s -> %s (preset %s)\n", in, out, preset ? preset : "simnibs");
      tmsf_mesh_quality_print(&q, stdout);
    }
  }
  rc = 0;
  goto done;
fail:
  cli_progress_finish(&bar);
  fprintf(stderr, "tmsfield: %s\n", tmsf_context_last_error(ctx));
done:
  tmsf_mesh_destroy(&mesh);
  tmsf_labels_destroy(&labels);
  tmsf_context_destroy(&ctx);
  return rc;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * tmsfield: the command-line front end of the library (public API only).
 *
 * Exit codes: 0 success, 1 a library error (message on stderr), 2 a usage
 * error (bad or missing option).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tmsfield/tmsfield.h>

#include "cli-common.h" /* parse_vec, parse_double */
#include "commands.h"

#define EXIT_LIB 1
#define EXIT_USAGE 2

static const char *prog = "tmsfield";
static int mpi_rank = 0, mpi_size = 1; /* under mpirun: only rank 0 prints and writes */

static void usage_main(FILE *f) {
  fprintf(f,
          "usage: %s <command> [options]\n"
          "\n"
          "commands:\n"
          "  place      coil pose and %%MSO for a target (M1, DLPFC, ...): the main job\n"
          "  simulate   E-field of one coil pose on a head mesh\n"
          "  coils      list the coils found by name (shipped, TMSF_COIL_PATH, --dir)\n"
          "  targets    list the named MNI targets (M1, DLPFC, F3, ...), optionally on a head\n"
          "  protocol   pulse times, %%MSO, dI/dt and field of a stimulation protocol\n"
          "  dose       %%MSO for a target field in a region, or a motor threshold moved to another pose\n"
          "  mesh       tetrahedral head mesh of a NIfTI label volume (CGAL)\n"
          "  render     PNG pictures: |E| on the cortex with the coil and target, NIfTI slices\n"
          "  version    library version and build features\n"
          "\n"
          "Run '%s <command> --help' for the options and examples of a command.\n"
          "Commands that produce results take --json (one JSON document on stdout) and\n"
          "--quiet (nothing but errors and warnings); long steps (meshing, solving,\n"
          "searching) draw progress bars when stderr is a terminal (TMSF_PROGRESS=0|1\n"
          "turns them off or on).  Files are in millimetres, dI/dt on the command line\n"
          "in A/s (--didt) or A/us where it says so.  Reference: docs/cli.md.\n"
          "\n"
          "Exit codes: 0 success, 1 library error (message on stderr), 2 usage error.\n"
          "\n"
          "examples (from the source tree; the built-in head is meshed at first use):\n"
          "  %s version\n"
          "  %s coils\n"
          "  %s targets M1\n"
          "  %s simulate --mesh data/spheres/sphere3.msh --centre 0,0,95 --ydir 0,1,0 --mso 50 --json\n"
          "  %s place --head default --target M1\n",
          prog, prog, prog, prog, prog, prog, prog);
}

static void usage_version(FILE *f) {
  fprintf(f,
          "usage: %s version [--json]\n"
          "\n"
          "The library version, how it was built (OpenMP, HDF5, NIfTI, CHOLMOD, PETSc)\n"
          "and the linear solvers it has.\n"
          "\n"
          "  --json   {\"tool\", \"version\", \"build\", \"solvers\": [...], \"data_dir\"}\n"
          "\n"
          "Exit codes: 0 success, 1 library error, 2 usage error.\n"
          "\n"
          "examples:\n"
          "  %s version\n"
          "  %s version --json\n",
          prog, prog, prog);
}

static void usage_simulate(FILE *f) {
  fprintf(f,
          "usage: %s simulate (--mesh FILE.msh | --head default|FILE.msh|LABELS.nii.gz) [--coil NAME|FILE]\n"
          "         (--pose 16 NUMBERS | --centre X,Y,Z --ydir X,Y,Z [--distance MM])\n"
          "         (--didt A_PER_S | --mso PERCENT) [--out FILE.msh] [options]\n"
          "\n"
          "Computes the electric field induced by a TMS coil in a head mesh (P1 FEM),\n"
          "prints a summary (sizes, pose, solver, times, |E| percentiles per tissue) and\n"
          "writes the mesh with element data E, magnE, J, magnJ (Gmsh 2.2 binary,\n"
          "readable by Gmsh and SimNIBS) and the other outputs asked for.\n"
          "\n"
          "  --mesh FILE        Gmsh mesh (2.2 or 4.1, ASCII or binary), millimetres\n"
          "  --head SPEC        instead of --mesh: default (the built-in Colin27 head, MNI\n"
          "                     space, meshed at first use and cached), FILE.msh, or a\n"
          "                     label volume LABELS.nii.gz (meshed and cached likewise;\n"
          "                     --head-preset NAME: colin27, brainweb, simnibs, roast)\n"
          "  --coil NAME|FILE   a coil name listed by '%s coils' (default MagVenture_MC-B70,\n"
          "                     as for 'place'), a SimNIBS .ccd or .tcd file or an A-field\n"
          "                     NIfTI (.nii, .nii.gz)\n"
          "  --pose M11,...,M44 head-from-coil 4x4 matrix, row-major, translation in mm\n"
          "                     (SimNIBS matsimnibs); 16 numbers, comma or space separated\n"
          "  --centre X,Y,Z     coil centre in mm, snapped to the nearest scalp node\n"
          "  --ydir X,Y,Z       coil y direction (the handle points along -y)\n"
          "  --distance MM      coil-to-scalp distance along the scalp normal (default 4)\n"
          "  --didt A_PER_S     rate of change of the coil current in A/s (1e6 = 1 A/us)\n"
          "  --mso PERCENT      stimulator output in %% of maximum; needs the coil's dIdtmax\n"
          "  --out FILE.msh     output mesh with the field (written only on success;\n"
          "                     without --out only the summary and the outputs below)\n"
          "  --sigma TAG=S_PER_M  override a tissue conductivity (repeatable)\n"
          "  --solver NAME      linear solver: auto (default: by size and memory), amg, cg,\n"
          "                     cholmod, petsc (see '%s version')\n"
          "  --field-tolerance REL  stop the solver when E is within REL (relative L2) of\n"
          "                     the converged solution (default 1e-4)\n"
          "  --tolerance RTOL   stop at relative residual RTOL instead (SimNIBS: 1e-10)\n"
          "  --threads N        threads (default: all cores)\n"
          "  --json             print the summary as JSON on stdout (files written, timings,\n"
          "                     solver, |E| percentiles per tissue; docs/cli.md)\n"
          "  --quiet            print nothing but errors (with --json: only the JSON)\n"
          "  --nifti FILE.nii.gz  |E| resampled to NIfTI on the grid of --nifti-ref REF.nii.gz\n"
          "                     (dims, sform, qform copied; default with a label-volume head:\n"
          "                     its grid); 0 outside the mesh and outside --nifti-tags\n"
          "                     T,T,... (default: every tissue); --nifti-vector: E\n"
          "  --hdf5 FILE.h5     mesh, E, |E|, potential, conductivities and metadata (HDF5)\n"
          "  --gifti PREFIX     PREFIX.surf.gii + PREFIX.func.gii: |E| on surface --gifti-tag\n"
          "                     (default 1002, grey matter)\n"
          "  --output-sampling element|recovered  E in voxels and at surface vertices: the\n"
          "                     element's value (default) or the patch-recovered nodal field\n"
          "\n"
          "Exit codes: 0 success, 1 library error (message on stderr), 2 usage error.\n"
          "\n"
          "examples (from the source tree):\n"
          "  %s simulate --mesh data/spheres/sphere3.msh \\\n"
          "      --coil data/coils/Magstim_70mm_Fig8.ccd --centre 0,0,95 --ydir 0,1,0 \\\n"
          "      --distance 4 --didt 1e6 --out sphere3_E.msh\n"
          "  %s simulate --mesh data/spheres/sphere3.msh --coil MagStim_D70 \\\n"
          "      --centre 0,0,95 --ydir 1,0,0 --mso 60 --hdf5 sphere3_E.h5 --json\n"
          "  %s simulate --head default --centre -38,-21,95 --ydir 0.5,1,0 --mso 50 \\\n"
          "      --out m1_E.msh --nifti m1_magnE.nii.gz\n",
          prog, prog, prog, prog, prog, prog);
}

static int fail_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see '%s simulate --help')\n", prog);
  va_end(ap);
  return EXIT_USAGE;
}

static int fail_lib(tmsf_context *ctx, int status) {
  if (mpi_rank != 0) return EXIT_LIB;
  const char *msg = ctx ? tmsf_context_last_error(ctx) : "";
  fprintf(stderr, "%s: error: %s\n", prog, msg && *msg ? msg : tmsf_status_string(status));
  return EXIT_LIB;
}

typedef struct sim_opts {
  const char *mesh, *coil, *out;
  cli_head head;
  int have_pose, have_centre, have_ydir, have_didt, have_mso, quiet, json, default_coil;
  double didt, mso;
  cli_pose pose;
  cli_sim sim;
  cli_out outputs;
} sim_opts;

static int parse_simulate(int argc, char **argv, sim_opts *o) {
  memset(o, 0, sizeof(*o));
  cli_pose_init(&o->pose);
  cli_sim_init(&o->sim);
  cli_head_init(&o->head);
  cli_out_init(&o->outputs);
  char err[256];
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    int r = cli_pose_option(argc, argv, &i, "", &o->pose, err, sizeof(err));
    if (r == 0) r = cli_sim_option(argc, argv, &i, &o->sim, err, sizeof(err));
    if (r == 0) r = cli_head_option(argc, argv, &i, &o->head, err, sizeof(err));
    if (r == 0) r = cli_out_option(argc, argv, &i, &o->outputs, err, sizeof(err));
    if (r < 0) return fail_usage("%s", err);
    if (r > 0) continue;
#define NEED_VALUE()                                                                               \
  do {                                                                                             \
    if (!val) return fail_usage("option %s needs a value", a);                                     \
    i++;                                                                                           \
  } while (0)
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_simulate(stdout);
      exit(0);
    } else if (!strcmp(a, "--coil")) {
      NEED_VALUE();
      o->coil = val;
    } else if (!strcmp(a, "--out")) {
      NEED_VALUE();
      o->out = val;
    } else if (!strcmp(a, "--didt")) {
      NEED_VALUE();
      if (!parse_double(val, &o->didt)) return fail_usage("--didt expects A/s, got '%s'", val);
      o->have_didt = 1;
    } else if (!strcmp(a, "--mso")) {
      NEED_VALUE();
      if (!parse_double(val, &o->mso)) return fail_usage("--mso expects a percentage, got '%s'", val);
      o->have_mso = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      o->quiet = 1;
    } else if (!strcmp(a, "--json")) {
      o->json = 1;
    } else {
      return fail_usage("unknown option '%s'", a);
    }
#undef NEED_VALUE
  }
  if (cli_head_complete(&o->head, err, sizeof(err))) return fail_usage("%s", err);
  o->mesh = cli_head_name(&o->head);
  if (!o->coil) { /* the coil 'place' uses by default */
    o->coil = "MagVenture_MC-B70";
    o->default_coil = 1;
  }
  if (cli_pose_complete(&o->pose, "", err, sizeof(err))) return fail_usage("%s", err);
  if (o->have_didt == o->have_mso) return fail_usage("give exactly one of --didt A_PER_S or --mso PERCENT");
  if (cli_sim_complete(&o->sim, err, sizeof(err))) return fail_usage("%s", err);
  /* a head given as a label volume (or the built-in one) is the default NIfTI grid */
  const char *h = o->head.head;
  size_t hl = h ? strlen(h) : 0;
  int label_head = h && !(hl >= 4 && !strcmp(h + hl - 4, ".msh"));
  if (cli_out_complete(&o->outputs, label_head, err, sizeof(err))) return fail_usage("%s", err);
  if (o->have_mso && !(o->mso > 0.0 && o->mso <= 100.0))
    return fail_usage("--mso must be in (0, 100] %%, got %g", o->mso);
  return 0;
}

static const char *tissue_name(int tag) {
  static const char *names[] = {"", "WM", "GM", "CSF", "bone", "scalp", "eyes", "compact bone",
                                "spongy bone", "blood", "muscle"};
  return tag >= 1 && tag <= 10 ? names[tag] : "";
}

static double seconds_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

/* The file of a coil given by name or path: the path itself when it is a
 * readable file, else the catalogue's file of that name (as tmsf_coil_open
 * finds it), else the spec unchanged. */
static void coil_file(tmsf_context *ctx, const char *spec, char *buf, size_t len) {
  snprintf(buf, len, "%s", spec);
  FILE *f = fopen(spec, "rb");
  if (f) {
    fclose(f);
    return;
  }
  tmsf_catalogue *cat = NULL;
  int idx;
  tmsf_coil_info info;
  if (!tmsf_catalogue_create(ctx, &cat) && !tmsf_catalogue_find(cat, spec, &idx) &&
      !tmsf_catalogue_get_coil_info(cat, idx, &info))
    snprintf(buf, len, "%s", info.path);
  tmsf_catalogue_destroy(&cat);
  tmsf_context_clear_error(ctx);
}

/* One output file of the run, for the summary and the JSON. */
typedef struct out_file {
  const char *format;
  char path[4200];
} out_file;

static int list_outputs(const sim_opts *o, out_file files[5]) {
  int n = 0;
  if (o->out) {
    files[n].format = "gmsh";
    snprintf(files[n++].path, sizeof(files[0].path), "%s", o->out);
  }
  if (o->outputs.nifti) {
    files[n].format = "nifti";
    snprintf(files[n++].path, sizeof(files[0].path), "%s", o->outputs.nifti);
  }
  if (o->outputs.hdf5) {
    files[n].format = "hdf5";
    snprintf(files[n++].path, sizeof(files[0].path), "%s", o->outputs.hdf5);
  }
  if (o->outputs.gifti) {
    files[n].format = "gifti";
    snprintf(files[n++].path, sizeof(files[0].path), "%s.surf.gii", o->outputs.gifti);
    files[n].format = "gifti";
    snprintf(files[n++].path, sizeof(files[0].path), "%s.func.gii", o->outputs.gifti);
  }
  return n;
}

static int cmd_simulate(int argc, char **argv) {
  sim_opts o;
  int rc = parse_simulate(argc, argv, &o);
  if (rc) return rc;
  if (cli_parse_only()) return 0;
  tmsf_context *ctx = NULL;
  tmsf_mesh *mesh = NULL;
  tmsf_coil *coil = NULL;
  tmsf_simulation *sim = NULL;
  tmsf_field *field = NULL;
  int ierr;
  double t_read, t_coil;
  struct timespec t_start, ts0;
  clock_gettime(CLOCK_MONOTONIC, &t_start);
  if ((ierr = tmsf_context_create(&ctx))) return fail_lib(NULL, ierr);
  /* progress bars for meshing (first use of a label head), setup and solve */
  cli_progress bar;
  cli_progress_init(&bar, o.quiet || mpi_rank != 0);
  tmsf_context_set_progress(ctx, cli_progress_cb, &bar);
  if ((ierr = tmsf_context_set_threads(ctx, o.sim.threads))) goto lib_error;
  clock_gettime(CLOCK_MONOTONIC, &ts0);
  if ((ierr = cli_head_open(ctx, &o.head, prog, o.quiet || mpi_rank != 0, &mesh))) goto lib_error;
  t_read = seconds_since(&ts0);
  if ((ierr = cli_sim_apply_mesh(&o.sim, mesh))) goto lib_error;
  clock_gettime(CLOCK_MONOTONIC, &ts0);
  if ((ierr = tmsf_coil_open(ctx, o.coil, &coil))) goto lib_error;
  t_coil = seconds_since(&ts0);
  double didt = o.didt;
  if (o.have_mso) {
    double dmax;
    if ((ierr = tmsf_coil_get_didt_max(coil, &dmax))) {
      cli_progress_finish(&bar);
      fprintf(stderr, "%s: error: %s: --mso needs the coil's dIdtmax, which %s does not give; use --didt A_PER_S\n",
              prog, o.coil, o.coil);
      tmsf_coil_destroy(&coil);
      tmsf_mesh_destroy(&mesh);
      tmsf_context_destroy(&ctx);
      return EXIT_LIB;
    }
    didt = o.mso / 100.0 * dmax;
  }
  double P[16];
  if ((ierr = cli_pose_resolve(ctx, mesh, &o.pose, P))) goto lib_error;
  if ((ierr = tmsf_simulation_create(ctx, mesh, &sim))) goto lib_error;
  if ((ierr = cli_sim_apply(&o.sim, sim))) goto lib_error;
  if ((ierr = tmsf_simulation_setup(sim))) goto lib_error;
  if ((ierr = tmsf_simulation_solve(sim, coil, P, didt, &field))) goto lib_error;
  clock_gettime(CLOCK_MONOTONIC, &ts0);
  /* the other outputs first: a bad path among them leaves --out unwritten */
  {
    tmsf_head_info hinfo;
    const char *label_grid = NULL;
    if (o.head.head && tmsf_head_query(ctx, o.head.head, o.head.preset, &hinfo) == TMSF_SUCCESS &&
        hinfo.kind == TMSF_HEAD_LABELS)
      label_grid = hinfo.source;
    if (mpi_rank == 0 && (ierr = cli_out_write(&o.outputs, field, coil, P, label_grid, 1))) goto lib_error;
  }
  if (mpi_rank == 0 && o.out && (ierr = tmsf_mesh_write(mesh, field, o.out))) goto lib_error;
  double t_write = seconds_since(&ts0);
  cli_progress_finish(&bar);
  if ((!o.quiet || o.json) && mpi_rank == 0) {
    int64_t nn, ne, nt;
    tmsf_mesh_get_sizes(mesh, &nn, &ne, &nt);
    const char *cname;
    tmsf_coil_get_name(coil, &cname);
    int threads;
    tmsf_context_get_threads(ctx, &threads);
    double info[11];
    for (int k = 0; k <= 10; k++) tmsf_simulation_get_info(sim, (tmsf_simulation_info)k, &info[k]);
    double Pmm[16];
    tmsf_pose_to_mm(P, Pmm);
    double etol;
    const char *sname;
    tmsf_simulation_get_info(sim, TMSF_SIM_ENERGY_TOLERANCE, &etol);
    tmsf_simulation_get_solver(sim, &sname);
    const char *rule = etol > 0.0 ? "field" : !strcmp(sname, "cholmod") ? "direct" : "residual";
    double tol = etol > 0.0 ? (o.sim.field_tolerance > 0.0 ? o.sim.field_tolerance : 1e-4)
                            : (o.sim.tolerance > 0.0 ? o.sim.tolerance : 1e-10);
    int ntags;
    const int32_t *tags;
    tmsf_mesh_get_tags(mesh, &ntags, &tags);
    const double pct[5] = {50.0, 95.0, 99.0, 99.9, 100.0};
    double (*v)[5] = calloc((size_t)(ntags > 0 ? ntags : 1), sizeof(*v));
    if (!v) {
      ierr = TMSF_ERR_MEMORY;
      goto lib_error;
    }
    for (int t = 0; t < ntags; t++)
      if ((ierr = tmsf_field_magnE_percentiles(field, tags[t], 5, pct, v[t]))) {
        free(v);
        goto lib_error;
      }
    out_file files[5];
    int nfiles = list_outputs(&o, files);
    const double t_total = seconds_since(&t_start);
    if (o.json) {
      printf("{\n\"tool\": \"tmsfield simulate\",\n\"version\": ");
      cli_json_string(stdout, tmsf_version());
      printf(",\n\"mesh\": {\"path\": ");
      cli_json_string(stdout, o.mesh);
      printf(", \"nodes\": %lld, \"tetrahedra\": %lld, \"triangles\": %lld},\n", (long long)nn, (long long)ne,
             (long long)nt);
      printf("\"coil\": ");
      cli_json_string(stdout, cname);
      char cpath[4096];
      coil_file(ctx, o.coil, cpath, sizeof(cpath));
      printf(",\n\"coil_file\": ");
      cli_json_string(stdout, cpath);
      printf(",\n\"pose\": [");
      for (int r = 0; r < 4; r++)
        printf("%s[%.10g, %.10g, %.10g, %.10g]", r ? ", " : "", Pmm[4 * r], Pmm[4 * r + 1], Pmm[4 * r + 2],
               Pmm[4 * r + 3]);
      printf("],\n\"pose_units\": \"head_from_coil 4x4, row-major, mm (SimNIBS matsimnibs)\",\n");
      printf("\"centre_mm\": [%.6g, %.6g, %.6g],\n", Pmm[3], Pmm[7], Pmm[11]);
      printf("\"didt_A_per_s\": %.10g,\n\"mso_percent\": ", didt);
      if (o.have_mso) printf("%.10g,\n", o.mso);
      else printf("null,\n");
      printf("\"threads\": %d,\n\"ranks\": %d,\n", threads, mpi_size);
      printf("\"solver\": {\"name\": ");
      cli_json_string(stdout, sname);
      printf(", \"stopping_rule\": \"%s\", \"tolerance\": %g, \"iterations\": %.0f},\n", rule,
             !strcmp(rule, "direct") ? 0.0 : tol, info[TMSF_SIM_ITERATIONS]);
      printf("\"timings_s\": {\"read\": %.4g, \"coil\": %.4g, \"assembly\": %.4g, \"setup\": %.4g, "
             "\"primary\": %.4g, \"rhs\": %.4g, \"solve\": %.4g, \"fields\": %.4g, \"write\": %.4g, "
             "\"total\": %.4g},\n",
             t_read, t_coil, info[TMSF_SIM_ASSEMBLY_SECONDS], info[TMSF_SIM_SETUP_SECONDS],
             info[TMSF_SIM_PRIMARY_SECONDS], info[TMSF_SIM_RHS_SECONDS], info[TMSF_SIM_SOLVE_SECONDS],
             info[TMSF_SIM_FIELD_SECONDS], t_write, t_total);
      printf("\"nodes_outside_coil_grid\": %.0f,\n", info[TMSF_SIM_NODES_OUTSIDE_COIL_GRID]);
      printf("\"magnE_V_per_m\": [");
      for (int t = 0; t < ntags; t++) {
        printf("%s\n  {\"tag\": %d, \"tissue\": ", t ? "," : "", (int)tags[t]);
        cli_json_string(stdout, tissue_name(tags[t]));
        printf(", \"p50\": %.6g, \"p95\": %.6g, \"p99\": %.6g, \"p99.9\": %.6g, \"max\": %.6g}", v[t][0],
               v[t][1], v[t][2], v[t][3], v[t][4]);
      }
      printf("\n],\n\"outputs\": [");
      for (int k = 0; k < nfiles; k++) {
        printf("%s\n  {\"path\": ", k ? "," : "");
        cli_json_string(stdout, files[k].path);
        printf(", \"format\": \"%s\"}", files[k].format);
      }
      printf("%s]\n}\n", nfiles ? "\n" : "");
    } else {
      printf("mesh      %s: %lld nodes, %lld tetrahedra, %lld triangles\n", o.mesh, (long long)nn,
             (long long)ne, (long long)nt);
      printf("coil      %s (%s%s)\n", cname, o.coil, o.default_coil ? ", the default" : "");
      printf("pose      centre (%.2f, %.2f, %.2f) mm, z (%.3f, %.3f, %.3f), y (%.3f, %.3f, %.3f)\n",
             Pmm[3], Pmm[7], Pmm[11], Pmm[2], Pmm[6], Pmm[10], Pmm[1], Pmm[5], Pmm[9]);
      if (o.have_mso)
        printf("dI/dt     %.2f A/us (%.1f %% MSO)\n", didt * 1e-6, o.mso);
      else
        printf("dI/dt     %.2f A/us\n", didt * 1e-6);
      printf("threads   %d\n", threads);
      if (mpi_size > 1) printf("ranks     %d (MPI)\n", mpi_size);
      if (!strcmp(rule, "field"))
        printf("solver    %s, stopped when E is within %g of the converged solution (relative L2)\n", sname, tol);
      else if (!strcmp(rule, "direct"))
        printf("solver    %s (direct)\n", sname);
      else
        printf("solver    %s, stopped at relative residual %g\n", sname, tol);
      printf("time      read %.3f s, coil %.3f s, assembly %.3f s, solver setup %.3f s,\n"
             "          primary field %.3f s, rhs %.3f s, solve %.3f s (%g iteration(s)), "
             "fields %.3f s, write %.3f s\n",
             t_read, t_coil, info[TMSF_SIM_ASSEMBLY_SECONDS], info[TMSF_SIM_SETUP_SECONDS],
             info[TMSF_SIM_PRIMARY_SECONDS], info[TMSF_SIM_RHS_SECONDS], info[TMSF_SIM_SOLVE_SECONDS],
             info[TMSF_SIM_ITERATIONS], info[TMSF_SIM_FIELD_SECONDS], t_write);
      if (info[TMSF_SIM_NODES_OUTSIDE_COIL_GRID] > 0)
        printf("warning   %g mesh nodes lie outside the coil's A-field grid (field taken as 0 there)\n",
               info[TMSF_SIM_NODES_OUTSIDE_COIL_GRID]);
      printf("|E| V/m   %-6s %-13s %9s %9s %9s %9s %9s\n", "tag", "tissue", "median", "p95", "p99", "p99.9",
             "max");
      for (int t = 0; t < ntags; t++)
        printf("          %-6d %-13s %9.2f %9.2f %9.2f %9.2f %9.2f\n", tags[t], tissue_name(tags[t]), v[t][0],
               v[t][1], v[t][2], v[t][3], v[t][4]);
      if (o.out) printf("output    %s\n", o.out);
      else printf("output    (no --out: the field mesh was not written)\n");
      if (o.outputs.nifti) printf("output    %s\n", o.outputs.nifti);
      if (o.outputs.hdf5) printf("output    %s\n", o.outputs.hdf5);
      if (o.outputs.gifti) printf("output    %s.surf.gii, %s.func.gii\n", o.outputs.gifti, o.outputs.gifti);
    }
    free(v);
  }
  tmsf_field_destroy(&field);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return 0;
lib_error:
  cli_progress_finish(&bar);
  rc = fail_lib(ctx, ierr);
  tmsf_field_destroy(&field);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return rc;
}

static int cmd_version(int argc, char **argv) {
  int json = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage_version(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else {
      fprintf(stderr, "%s: unknown option '%s'\n(see '%s version --help')\n", prog, argv[i], prog);
      return EXIT_USAGE;
    }
  }
  if (cli_parse_only()) return 0;
  int ns;
  const char *const *names;
  tmsf_solver_list(&ns, &names);
  const char *data_dir = "";
  tmsf_get_data_dir(&data_dir);
  if (json) {
    printf("{\"tool\": \"tmsfield version\", \"version\": ");
    cli_json_string(stdout, tmsf_version());
    printf(", \"build\": ");
    cli_json_string(stdout, tmsf_build_info());
    printf(", \"solvers\": [");
    for (int i = 0; i < ns; i++) {
      printf("%s", i ? ", " : "");
      cli_json_string(stdout, names[i]);
    }
    printf("], \"data_dir\": ");
    cli_json_string(stdout, data_dir);
    printf("}\n");
    return 0;
  }
  printf("tmsfield %s (%s)\n", tmsf_version(), tmsf_build_info());
  printf("solvers:");
  for (int i = 0; i < ns; i++) printf(" %s", names[i]);
  printf("\n");
  printf("data:    %s\n", data_dir);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage_main(stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    usage_main(stdout);
    return 0;
  }
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) return cmd_version(argc - 2, argv + 2);
  if (!strcmp(cmd, "coils")) return tmsf_cmd_coils(argc - 2, argv + 2);
  if (!strcmp(cmd, "targets")) return tmsf_cmd_targets(argc - 2, argv + 2);
  if (!strcmp(cmd, "dose")) return tmsf_cmd_dose(argc - 2, argv + 2);
  if (!strcmp(cmd, "place")) return tmsf_cmd_place(argc - 2, argv + 2);
  if (!strcmp(cmd, "mesh")) return tmsf_cmd_mesh(argc - 2, argv + 2);
  if (!strcmp(cmd, "render")) return tmsf_cmd_render(argc - 2, argv + 2);
  if (!strcmp(cmd, "simulate")) {
    /* MPI only when started by mpirun or asked for the distributed solver */
    int want_mpi = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
    for (int i = 2; i + 1 < argc; i++)
      if (!strcmp(argv[i], "--solver") && !strcmp(argv[i + 1], "petsc")) want_mpi = 1;
    if (want_mpi) {
      tmsf_parallel_init(NULL, NULL);
      tmsf_parallel_rank(&mpi_rank, &mpi_size);
    }
    return cmd_simulate(argc - 2, argv + 2);
  }
  if (!strcmp(cmd, "protocol")) return tmsf_cmd_protocol(argc - 2, argv + 2);
  fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
  usage_main(stderr);
  return EXIT_USAGE;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * bench-solvers: every registered tmsfield solver side by side with the
 * reference tool's default configuration — PETSc KSP CG + hypre BoomerAMG with
 * HMIS coarsening, relative tolerance 1e-10 ("petsc-baseline") — on one mesh,
 * the same matrix and the same right-hand sides, with JSON and CSV output.
 *
 *   bench-solvers --mesh FILE.msh [--coil FILE] [--poses N] [--threads N]
 *                 [--solvers a,b,...|all] [--json OUT] [--csv OUT]
 *                 [--reference-rtol R] [--field-tolerance E | --tmsf-rtol R]
 *                 [--check] [-PETSC_OPTION ...]
 *   mpirun -np 2 bench-solvers ...   (the baseline distributed over the ranks)
 *
 * Poses: N coil poses near the top of the mesh (centres on a ring of 15 mm
 * radius around the top point, snapped to the scalp, y directions rotated by
 * 360/N degrees each), 4 mm from the scalp, dI/dt 1e6 A/s.
 *
 * Reference: the baseline with rtol 1e-14 (or the tightest of 1e-14 ... 1e-11
 * that converges within 1000 iterations; the JSON states which), one solve per
 * pose, cold start.  The E difference of a solver is, per pose,
 *   sqrt( sum_e V_e |E_e - E_ref,e|^2 / sum_e V_e |E_ref,e|^2 ),
 * reported as the maximum over the poses.  Both fields of a pose share the
 * same primary field (the same code evaluates dA/dt at the same nodes for the
 * same pose), so E_e - E_ref,e = -grad(phi - phi_ref) on element e; the
 * numerator is computed from the two potentials, which keeps only one vector
 * per pose of reference data alive during the measured runs.
 *
 * The tmsfield solvers stop by the library's default rule (the field rule: E
 * within 1e-4 of the converged solution, tmsf_simulation_set_field_tolerance)
 * unless --field-tolerance or --tmsf-rtol (the residual rule,
 * tmsf_simulation_set_tolerance) says otherwise; the JSON records the rule.
 *
 * Per solver: setup seconds (tmsfield: TMSF_SIM_ASSEMBLY_SECONDS +
 * TMSF_SIM_SETUP_SECONDS; baseline: the same assembly + distributing the
 * matrix, Mat creation and KSPSetUp), first-pose seconds (setup + pose 1),
 * seconds per additional pose (median over poses 2..N solved one at a time;
 * tmsfield: primary + rhs + solve + field of tmsf_simulation_solve, whose
 * initial guess comes from the earlier poses' solutions; baseline: tmsf_simulation_rhs (primary + rhs),
 * KSPSolve from zero, tmsf_simulation_field_from_potential), seconds per pose
 * when all N are solved together (tmsfield: tmsf_simulation_solve_many on a
 * freshly set up simulation, so that the solutions of the same poses from the
 * one-at-a-time run cannot serve as initial guesses;
 * baseline: N KSPSolves one after another — PETSc 3.18's KSPMatSolve solves
 * column by column for KSPCG, so it would do the same), iterations, peak
 * resident memory (VmHWM, reset through /proc/self/clear_refs before each run;
 * it includes everything alive: the mesh, the coil, the reference potentials)
 * and the E difference.
 *
 * MPI: the baseline and the reference run on all ranks (contiguous row blocks,
 * right-hand side scattered from and solution gathered to rank 0, where E is
 * computed); the shared-memory tmsfield solvers run on rank 0 only while the
 * other ranks sleep, and the distributed ones ("petsc", whose calls are
 * collective) on every rank, which then reads the mesh too.  Only rank 0
 * prints and writes files.
 *
 * Exit status: 0, 1 on a setup error (mesh, coil), 2 on a usage error, 3 when
 * --check finds a registered solver or the baseline missing from the written
 * output, a non-finite E difference, or a solver that failed for a reason
 * other than memory or a missing build feature.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <mpi.h>
#include <petscksp.h>

#include <tmsfield/tmsfield.h>

#ifndef TMSF_GIT_COMMIT
#define TMSF_GIT_COMMIT "unknown"
#endif

#define MAX_POSES 64
#define BASELINE "petsc-baseline"
#define BASELINE_RTOL 1e-10
#define REFERENCE_MAX_IT 1000
#define TAG_MATRIX 7100
#define TAG_DONE 7101

/* ---------------------------------------------------------------- utilities */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Start a fresh peak-memory window: give freed heap back to the system, then
 * reset VmHWM to the current resident set. */
static void reset_peak(void) {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
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

static double median_of(const double *v, int n) {
  if (n < 1) return NAN;
  double t[MAX_POSES];
  memcpy(t, v, sizeof(double) * (size_t)n);
  qsort(t, (size_t)n, sizeof(double), cmp_double);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static double max_of(const double *v, int n) {
  double m = n > 0 ? v[0] : NAN;
  for (int i = 1; i < n; i++) m = (isnan(v[i]) || v[i] > m) ? v[i] : m;
  return m;
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

static void loadavg(char *buf, size_t cap) {
  snprintf(buf, cap, "unknown");
  FILE *f = fopen("/proc/loadavg", "r");
  if (!f) return;
  double a, b, c;
  if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3) snprintf(buf, cap, "%.2f %.2f %.2f", a, b, c);
  fclose(f);
}

/* A string made safe for JSON and CSV: quotes, backslashes and control
 * characters become spaces or apostrophes. */
static void sanitize(char *s) {
  for (; *s; s++) {
    if (*s == '"') *s = '\'';
    else if (*s == '\\' || (unsigned char)*s < 0x20) *s = ' ';
  }
}

/* A JSON number, or null when it is not finite. */
static void jnum(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%.6g", v);
  else fputs("null", f);
}

static void jarr(FILE *f, const double *v, int n) {
  fputc('[', f);
  for (int i = 0; i < n; i++) {
    if (i) fputs(", ", f);
    jnum(f, v[i]);
  }
  fputc(']', f);
}

/* kB from /proc as bytes; null when not measured */
static void jbytes(FILE *f, long kb) {
  if (kb >= 0) fprintf(f, "%lld", 1024LL * kb);
  else fputs("null", f);
}

static void cnum(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%.6g", v);
}

/* ------------------------------------------------------------------ results */

typedef struct result {
  char name[64];
  int selected;
  int status; /* 0 ok; a tmsf status code; -1 PETSc error or divergence */
  char error[512];
  int batch_status;
  char batch_error[512];
  double assembly_s, solver_setup_s, setup_s;
  int nposes; /* poses solved one at a time */
  double pose_s[MAX_POSES], primary_s[MAX_POSES], rhs_s[MAX_POSES], solve_s[MAX_POSES],
      field_s[MAX_POSES], wall_s[MAX_POSES], iters[MAX_POSES], ediff[MAX_POSES];
  double energy_tol; /* TMSF_SIM_ENERGY_TOLERANCE: 0 for the residual rule */
  int ranks;         /* ranks the solver ran on */
  char in_use[64];   /* tmsf_simulation_get_solver after setup (what "auto" chose) */
  int batch_done;
  double batch_total_s, batch_primary_rhs_s, batch_solve_s, batch_field_s, batch_iters;
  double ediff_batch[MAX_POSES];
  long rss_start_kb, peak_kb, peak_batch_kb, peak_other_ranks_kb;
} result;

static void result_init(result *r, const char *name) {
  memset(r, 0, sizeof(*r));
  snprintf(r->name, sizeof(r->name), "%s", name);
  r->assembly_s = r->solver_setup_s = r->setup_s = NAN;
  r->batch_total_s = r->batch_primary_rhs_s = r->batch_solve_s = r->batch_field_s = NAN;
  r->batch_iters = r->energy_tol = NAN;
  for (int i = 0; i < MAX_POSES; i++) {
    r->pose_s[i] = r->primary_s[i] = r->rhs_s[i] = r->solve_s[i] = r->field_s[i] = NAN;
    r->wall_s[i] = r->iters[i] = r->ediff[i] = r->ediff_batch[i] = NAN;
  }
  r->rss_start_kb = r->peak_kb = r->peak_batch_kb = r->peak_other_ranks_kb = -1;
  r->ranks = 1;
}

static double first_pose_s(const result *r) { return r->nposes > 0 ? r->setup_s + r->pose_s[0] : NAN; }

static double later_pose_s(const result *r) {
  return r->nposes > 1 ? median_of(r->pose_s + 1, r->nposes - 1) : NAN;
}

/* median iterations over poses 2..N (pose 1 alone when N = 1) */
static double later_iters(const result *r) {
  return r->nposes > 1 ? median_of(r->iters + 1, r->nposes - 1) : (r->nposes ? r->iters[0] : NAN);
}

static double batch_pose_s(const result *r, int npose) {
  return r->batch_done ? r->batch_total_s / npose : NAN;
}

/* max over the poses of both runs; NaN when a reported difference is NaN */
static double ediff_max(const result *r, int npose) {
  double m = max_of(r->ediff, r->nposes);
  if (r->batch_done) {
    double b = max_of(r->ediff_batch, npose);
    m = (isnan(b) || b > m) ? b : m;
  }
  return m;
}

/* -------------------------------------------------------------- the problem */

typedef struct bench {
  int rank, size;
  const char *mesh_path, *coil_path;
  tmsf_context *ctx;
  tmsf_mesh *mesh;
  tmsf_coil *coil;
  tmsf_simulation *sim; /* the baseline's assembly, rhs and fields */
  int64_t num_nodes, num_tets, n, nnz;
  const double *nodes;
  const int32_t *tets;
  const int64_t *row_ptr;
  const int32_t *cols;
  const double *vals;
  int npose;
  double field_tol, tmsf_rtol; /* stopping rule of the tmsfield solvers; 0: default */
  double poses[MAX_POSES][16], didt[MAX_POSES];
  /* reference, mesh numbering: double-precision direct primary field (coil_ref),
   * PETSc at rtol 1e-14; dadt_ref holds the primary field of pose dadt_pose */
  tmsf_coil *coil_ref;
  double *dadt_ref;
  int dadt_pose;
  double *phi_ref[MAX_POSES];
  double ref_energy[MAX_POSES]; /* sum_e V_e |E_ref,e|^2 */
  double ref_rtol, ref_rtol_requested, ref_iters[MAX_POSES], ref_true_residual[MAX_POSES];
  double ref_seconds;
  int ref_ok;
} bench;

/* Volume-weighted energies: with E (3 per tet) and no potentials, sum V|E|^2;
 * with phi and phi_ref, sum V |grad(phi - phi_ref)|^2. */
static double energy(const bench *B, const double *E, const double *phi, const double *phi_ref) {
  double sum = 0.0;
  for (int64_t e = 0; e < B->num_tets; e++) {
    const int32_t *t = B->tets + 4 * e;
    const double *p0 = B->nodes + 3 * (int64_t)t[0];
    double d[3][3];
    for (int q = 0; q < 3; q++)
      for (int k = 0; k < 3; k++) d[q][k] = B->nodes[3 * (int64_t)t[q + 1] + k] - p0[k];
    double c[3][3]; /* c[q] = d[q+1] x d[q+2] */
    for (int q = 0; q < 3; q++) {
      const double *a = d[(q + 1) % 3], *b = d[(q + 2) % 3];
      c[q][0] = a[1] * b[2] - a[2] * b[1];
      c[q][1] = a[2] * b[0] - a[0] * b[2];
      c[q][2] = a[0] * b[1] - a[1] * b[0];
    }
    const double det = d[0][0] * c[0][0] + d[0][1] * c[0][1] + d[0][2] * c[0][2];
    const double vol = fabs(det) / 6.0;
    double v2;
    if (E) {
      const double *x = E + 3 * e;
      v2 = x[0] * x[0] + x[1] * x[1] + x[2] * x[2];
    } else {
      const double u0 = phi[t[0]] - phi_ref[t[0]];
      double g[3] = {0.0, 0.0, 0.0};
      for (int q = 0; q < 3; q++) {
        const double du = (phi[t[q + 1]] - phi_ref[t[q + 1]]) - u0;
        for (int k = 0; k < 3; k++) g[k] += du * c[q][k];
      }
      v2 = (g[0] * g[0] + g[1] * g[1] + g[2] * g[2]) / (det * det);
    }
    sum += vol * v2;
  }
  return sum;
}

/* Volume-weighted relative L2 difference of the field's E to the reference
 * E_ref = -grad(phi_ref) - dA/dt_ref (element average of the nodal values, as
 * the library computes E), whose primary field is the double-precision direct
 * sum: the difference includes the run's own primary-field error (single
 * precision, tabulated coil) as well as its solver error. */
static double field_ediff(bench *B, const tmsf_field *field, int pose) {
  const double *E;
  if (B->rank != 0 || !B->ref_ok || tmsf_field_get_E(field, &E)) return NAN;
  if (B->dadt_pose != pose) {
    if (tmsf_coil_primary_field(B->coil_ref, B->poses[pose], B->didt[pose], B->num_nodes, B->nodes,
                                B->dadt_ref, NULL))
      return NAN;
    B->dadt_pose = pose;
  }
  const double *phi_ref = B->phi_ref[pose], *a = B->dadt_ref;
  double sum = 0.0;
  for (int64_t e = 0; e < B->num_tets; e++) {
    const int32_t *t = B->tets + 4 * e;
    const double *p0 = B->nodes + 3 * (int64_t)t[0];
    double d[3][3];
    for (int q = 0; q < 3; q++)
      for (int k = 0; k < 3; k++) d[q][k] = B->nodes[3 * (int64_t)t[q + 1] + k] - p0[k];
    double c[3][3]; /* c[q] = d[q+1] x d[q+2]; grad u = sum_q (u_{q+1} - u_0) c[q] / det */
    for (int q = 0; q < 3; q++) {
      const double *u = d[(q + 1) % 3], *v = d[(q + 2) % 3];
      c[q][0] = u[1] * v[2] - u[2] * v[1];
      c[q][1] = u[2] * v[0] - u[0] * v[2];
      c[q][2] = u[0] * v[1] - u[1] * v[0];
    }
    const double det = d[0][0] * c[0][0] + d[0][1] * c[0][1] + d[0][2] * c[0][2];
    double diff2 = 0.0;
    for (int k = 0; k < 3; k++) {
      double g = 0.0;
      for (int q = 0; q < 3; q++) g += (phi_ref[t[q + 1]] - phi_ref[t[0]]) * c[q][k];
      const double aavg = 0.25 * (a[3 * (int64_t)t[0] + k] + a[3 * (int64_t)t[1] + k] +
                                  a[3 * (int64_t)t[2] + k] + a[3 * (int64_t)t[3] + k]);
      const double eref = -g / det - aavg;
      diff2 += (E[3 * e + k] - eref) * (E[3 * e + k] - eref);
    }
    sum += fabs(det) / 6.0 * diff2;
  }
  return sqrt(sum / B->ref_energy[pose]);
}

/* --------------------------------------------------------- PETSc baseline */

typedef enum { RUN_REFERENCE, RUN_BASELINE } run_mode;

/* 1 on every rank when ok is 1 on every rank */
static int agree(int ok) {
  int all = 0;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, PETSC_COMM_WORLD);
  return all;
}

static void local_rows(int64_t n, int size, int rank, int64_t *start, int64_t *count) {
  const int64_t base = n / size, extra = n % size;
  *count = base + (rank < extra);
  *start = rank * base + (rank < extra ? rank : extra);
}

/* This rank's row block of the assembled matrix as PETSc CSR (local row
 * pointer from 0, global columns); rank 0 sends every other rank its block. */
static PetscErrorCode distribute_matrix(const bench *B, int64_t n, PetscInt **ia, PetscInt **ja,
                                        PetscScalar **va, int64_t *nloc) {
  int64_t start;
  PetscFunctionBeginUser;
  local_rows(n, B->size, B->rank, &start, nloc);
  if (B->rank == 0) {
    for (int r = B->size - 1; r >= 0; r--) {
      int64_t s, c;
      local_rows(n, B->size, r, &s, &c);
      const int64_t off = B->row_ptr[s], cnt = B->row_ptr[s + c] - off;
      PetscCheck(cnt < INT32_MAX && c < INT32_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP,
                 "row block too large for 32-bit PETSc indices");
      PetscInt *i = NULL, *j = NULL;
      PetscScalar *v = NULL;
      PetscCall(PetscMalloc1(c + 1, &i));
      PetscCall(PetscMalloc1(cnt, &j));
      PetscCall(PetscMalloc1(cnt, &v));
      for (int64_t k = 0; k <= c; k++) i[k] = (PetscInt)(B->row_ptr[s + k] - off);
      for (int64_t k = 0; k < cnt; k++) j[k] = (PetscInt)B->cols[off + k];
      memcpy(v, B->vals + off, sizeof(double) * (size_t)cnt);
      if (r == 0) {
        *ia = i, *ja = j, *va = v;
      } else {
        int hdr[2] = {(int)c, (int)cnt};
        PetscCallMPI(MPI_Send(hdr, 2, MPI_INT, r, TAG_MATRIX, PETSC_COMM_WORLD));
        PetscCallMPI(MPI_Send(i, (int)c + 1, MPIU_INT, r, TAG_MATRIX, PETSC_COMM_WORLD));
        PetscCallMPI(MPI_Send(j, (int)cnt, MPIU_INT, r, TAG_MATRIX, PETSC_COMM_WORLD));
        PetscCallMPI(MPI_Send(v, (int)cnt, MPIU_SCALAR, r, TAG_MATRIX, PETSC_COMM_WORLD));
        PetscCall(PetscFree(i));
        PetscCall(PetscFree(j));
        PetscCall(PetscFree(v));
      }
    }
  } else {
    int hdr[2];
    PetscCallMPI(MPI_Recv(hdr, 2, MPI_INT, 0, TAG_MATRIX, PETSC_COMM_WORLD, MPI_STATUS_IGNORE));
    PetscCheck(hdr[0] == *nloc, PETSC_COMM_SELF, PETSC_ERR_PLIB, "row block size mismatch");
    PetscCall(PetscMalloc1(hdr[0] + 1, ia));
    PetscCall(PetscMalloc1(hdr[1], ja));
    PetscCall(PetscMalloc1(hdr[1], va));
    PetscCallMPI(MPI_Recv(*ia, hdr[0] + 1, MPIU_INT, 0, TAG_MATRIX, PETSC_COMM_WORLD, MPI_STATUS_IGNORE));
    PetscCallMPI(MPI_Recv(*ja, hdr[1], MPIU_INT, 0, TAG_MATRIX, PETSC_COMM_WORLD, MPI_STATUS_IGNORE));
    PetscCallMPI(MPI_Recv(*va, hdr[1], MPIU_SCALAR, 0, TAG_MATRIX, PETSC_COMM_WORLD, MPI_STATUS_IGNORE));
  }
  PetscFunctionReturn(0);
}

typedef struct petsc_system {
  Mat A;
  Vec b, x, r, b0, x0; /* b0, x0: whole vectors on rank 0 when distributed */
  VecScatter scat;
  KSP ksp;
} petsc_system;

static PetscErrorCode system_destroy(petsc_system *S) {
  PetscFunctionBeginUser;
  PetscCall(KSPDestroy(&S->ksp));
  PetscCall(VecScatterDestroy(&S->scat));
  PetscCall(VecDestroy(&S->b0));
  PetscCall(VecDestroy(&S->x0));
  PetscCall(VecDestroy(&S->r));
  PetscCall(VecDestroy(&S->b));
  PetscCall(VecDestroy(&S->x));
  PetscCall(MatDestroy(&S->A));
  PetscFunctionReturn(0);
}

/* Matrix, vectors and KSP (CG + BoomerAMG HMIS; options prefix "baseline_" or
 * "reference_", so -baseline_ksp_view etc. work). */
static PetscErrorCode system_create(const bench *B, int64_t n, run_mode mode, double rtol,
                                    petsc_system *S) {
  PetscInt *ia, *ja;
  PetscScalar *va;
  int64_t nloc;
  const char *prefix = mode == RUN_REFERENCE ? "reference_" : "baseline_";
  PetscFunctionBeginUser;
  PetscCall(distribute_matrix(B, n, &ia, &ja, &va, &nloc));
  PetscCall(MatCreate(PETSC_COMM_WORLD, &S->A));
  PetscCall(MatSetSizes(S->A, (PetscInt)nloc, (PetscInt)nloc, (PetscInt)n, (PetscInt)n));
  PetscCall(MatSetType(S->A, MATAIJ));
  PetscCall(MatSeqAIJSetPreallocationCSR(S->A, ia, ja, va));
  PetscCall(MatMPIAIJSetPreallocationCSR(S->A, ia, ja, va));
  PetscCall(PetscFree(ia));
  PetscCall(PetscFree(ja));
  PetscCall(PetscFree(va));
  PetscCall(MatCreateVecs(S->A, &S->x, &S->b));
  PetscCall(VecDuplicate(S->b, &S->r));
  if (B->size > 1) {
    PetscCall(VecScatterCreateToZero(S->b, &S->scat, &S->b0));
    PetscCall(VecDuplicate(S->b0, &S->x0));
  }
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &S->ksp));
  PetscCall(KSPSetOptionsPrefix(S->ksp, prefix));
  PetscCall(KSPSetOperators(S->ksp, S->A, S->A));
  PetscCall(KSPSetType(S->ksp, KSPCG));
  PC pc;
  PetscCall(KSPGetPC(S->ksp, &pc));
  PetscCall(PCSetType(pc, PCHYPRE));
  PetscCall(PCHYPRESetType(pc, "boomeramg"));
  PetscCall(KSPSetTolerances(S->ksp, rtol, PETSC_DEFAULT, PETSC_DEFAULT,
                             mode == RUN_REFERENCE ? REFERENCE_MAX_IT : PETSC_DEFAULT));
  /* HMIS has no API call; an option given on the command line wins */
  char opt[128];
  PetscBool given;
  snprintf(opt, sizeof(opt), "-%spc_hypre_boomeramg_coarsen_type", prefix);
  PetscCall(PetscOptionsHasName(NULL, NULL, opt, &given));
  if (!given) PetscCall(PetscOptionsSetValue(NULL, opt, "HMIS"));
  PetscCall(KSPSetFromOptions(S->ksp));
  PetscCall(KSPSetUp(S->ksp));
  PetscFunctionReturn(0);
}

/* One pose: rhs on rank 0, scattered; KSPSolve; solution gathered; E on rank 0.
 * *field is set on rank 0; *reason and *its on every rank. */
static PetscErrorCode petsc_pose(bench *B, petsc_system *S, const tmsf_coil *coil, int k,
                                 result *res, KSPConvergedReason *reason, PetscInt *its,
                                 tmsf_field **field, double *true_residual) {
  double t0 = now(), t1, t2, t3;
  int ok = 1;
  PetscFunctionBeginUser;
  *field = NULL;
  Vec bw = B->size > 1 ? S->b0 : S->b, xw = B->size > 1 ? S->x0 : S->x;
  if (B->rank == 0) {
    PetscScalar *b;
    PetscCall(VecGetArray(bw, &b));
    if (tmsf_simulation_rhs(B->sim, coil, B->poses[k], B->didt[k], b)) {
      ok = 0;
      res->status = tmsf_context_last_status(B->ctx);
      snprintf(res->error, sizeof(res->error), "pose %d: tmsf_simulation_rhs: %s", k + 1,
               tmsf_context_last_error(B->ctx));
    }
    PetscCall(VecRestoreArray(bw, &b));
  }
  if (!agree(ok)) {
    if (B->rank != 0) res->status = -1;
    PetscFunctionReturn(0);
  }
  t1 = now();
  if (B->size > 1) {
    PetscCall(VecScatterBegin(S->scat, S->b0, S->b, INSERT_VALUES, SCATTER_REVERSE));
    PetscCall(VecScatterEnd(S->scat, S->b0, S->b, INSERT_VALUES, SCATTER_REVERSE));
  }
  PetscCall(KSPSolve(S->ksp, S->b, S->x));
  if (B->size > 1) {
    PetscCall(VecScatterBegin(S->scat, S->x, S->x0, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(S->scat, S->x, S->x0, INSERT_VALUES, SCATTER_FORWARD));
  }
  t2 = now();
  PetscCall(KSPGetConvergedReason(S->ksp, reason));
  PetscCall(KSPGetIterationNumber(S->ksp, its));
  if (*reason > 0 && B->rank == 0) {
    const PetscScalar *x;
    PetscCall(VecGetArrayRead(xw, &x));
    if (tmsf_simulation_field_from_potential(B->sim, coil, B->poses[k], B->didt[k], x, field)) {
      ok = 0;
      res->status = tmsf_context_last_status(B->ctx);
      snprintf(res->error, sizeof(res->error), "pose %d: tmsf_simulation_field_from_potential: %s",
               k + 1, tmsf_context_last_error(B->ctx));
    }
    PetscCall(VecRestoreArrayRead(xw, &x));
  }
  t3 = now();
  if (!agree(ok)) {
    if (B->rank != 0) res->status = -1;
    tmsf_field_destroy(field);
    PetscFunctionReturn(0);
  }
  res->rhs_s[k] = t1 - t0; /* primary + rhs */
  res->solve_s[k] = t2 - t1; /* scatter + KSPSolve + gather */
  res->field_s[k] = t3 - t2;
  res->pose_s[k] = res->wall_s[k] = t3 - t0;
  res->iters[k] = (double)*its;
  if (true_residual) { /* outside the timed part */
    PetscReal rn, bn;
    PetscCall(MatMult(S->A, S->x, S->r));
    PetscCall(VecAYPX(S->r, -1.0, S->b));
    PetscCall(VecNorm(S->r, NORM_2, &rn));
    PetscCall(VecNorm(S->b, NORM_2, &bn));
    *true_residual = bn > 0 ? (double)(rn / bn) : 0.0;
  }
  PetscFunctionReturn(0);
}

/* A run of the baseline configuration: setup, the poses one at a time, and
 * (RUN_BASELINE) the poses as a batch.  RUN_REFERENCE stores the reference
 * potentials; *converged says whether every solve converged. */
static PetscErrorCode run_petsc(bench *B, run_mode mode, double rtol, result *res, int *converged) {
  petsc_system S;
  int64_t n = B->n;
  memset(&S, 0, sizeof(S));
  *converged = 0;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Bcast(&n, 1, MPI_INT64_T, 0, PETSC_COMM_WORLD));
  res->ranks = B->size;
  reset_peak();
  res->rss_start_kb = status_kb("VmRSS");
  double t0 = now();
  PetscCall(system_create(B, n, mode, rtol, &S));
  res->solver_setup_s = now() - t0;
  res->setup_s = res->assembly_s + res->solver_setup_s;
  int all_converged = 1;
  for (int k = 0; k < B->npose; k++) {
    KSPConvergedReason reason;
    PetscInt its;
    tmsf_field *field = NULL;
    double tres = NAN;
    PetscCall(petsc_pose(B, &S, mode == RUN_REFERENCE ? B->coil_ref : B->coil, k, res, &reason,
                           &its, &field, &tres));
    if (res->status) break;
    if (reason < 0) {
      all_converged = 0;
      res->status = -1;
      snprintf(res->error, sizeof(res->error), "pose %d: KSP did not converge (%s) after %d iterations",
               k + 1, KSPConvergedReasons[reason], (int)its);
      break;
    }
    res->nposes = k + 1;
    if (B->rank == 0) {
      if (mode == RUN_REFERENCE) {
        const double *phi, *E;
        tmsf_field_get_potential(field, &phi);
        tmsf_field_get_E(field, &E);
        memcpy(B->phi_ref[k], phi, sizeof(double) * (size_t)B->num_nodes);
        B->ref_energy[k] = energy(B, E, NULL, NULL);
        B->ref_ok = 1; /* provisionally, for the self-check */
        const double self = field_ediff(B, field, k);
        B->ref_ok = 0;
        if (!(self < 1e-12))
          fprintf(stderr, "bench-solvers: reference pose %d: E recomputed from phi_ref differs by %.3g\n",
                  k + 1, self);
        B->ref_iters[k] = (double)its;
        B->ref_true_residual[k] = tres;
      } else {
        res->ediff[k] = field_ediff(B, field, k);
      }
    }
    tmsf_field_destroy(&field);
  }
  long peak = status_kb("VmHWM");
  if (B->rank == 0) res->peak_kb = peak;
  long other = -1;
  long mine = B->rank == 0 ? -1 : peak;
  PetscCallMPI(MPI_Reduce(&mine, &other, 1, MPI_LONG, MPI_MAX, 0, PETSC_COMM_WORLD));
  if (B->rank == 0) res->peak_other_ranks_kb = other;
  if (mode == RUN_BASELINE && !res->status) {
    /* the batch: N KSPSolves one after another (no block CG in PETSc's KSPCG);
     * each pose's rhs, solve and field in turn so that its primary field is
     * evaluated once */
    result tmp;
    result_init(&tmp, res->name);
    reset_peak();
    double its_max = 0.0;
    int ok = 1;
    for (int k = 0; k < B->npose && ok; k++) {
      KSPConvergedReason reason;
      PetscInt its;
      tmsf_field *field = NULL;
      PetscCall(petsc_pose(B, &S, B->coil, k, &tmp, &reason, &its, &field, NULL));
      if (tmp.status || reason < 0) {
        ok = 0;
        res->batch_status = tmp.status ? tmp.status : -1;
        snprintf(res->batch_error, sizeof(res->batch_error), "%s",
                 tmp.status ? tmp.error : "KSP did not converge");
      } else {
        its_max = fmax(its_max, (double)its);
        if (B->rank == 0) res->ediff_batch[k] = field_ediff(B, field, k);
      }
      tmsf_field_destroy(&field);
    }
    if (ok) { /* the poses' own times: the E differences in between are not counted */
      res->batch_done = 1;
      res->batch_iters = its_max;
      double a = 0, s = 0, f = 0;
      for (int k = 0; k < B->npose; k++) a += tmp.rhs_s[k], s += tmp.solve_s[k], f += tmp.field_s[k];
      res->batch_primary_rhs_s = a, res->batch_solve_s = s, res->batch_field_s = f;
      res->batch_total_s = a + s + f;
    }
    res->peak_batch_kb = status_kb("VmHWM");
  }
  PetscCall(system_destroy(&S));
  *converged = all_converged && !res->status;
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------- tmsfield solvers */

static void record_error(result *r, tmsf_context *ctx, const char *what) {
  r->status = tmsf_context_last_status(ctx);
  if (!r->status) r->status = TMSF_ERR_STATE;
  snprintf(r->error, sizeof(r->error), "%s: %s", what, tmsf_context_last_error(ctx));
  sanitize(r->error);
}

/* Solvers whose calls are collective over the MPI ranks (every rank makes
 * them): "petsc", the one context.h names, and "auto", which picks it on
 * several ranks (simulation.h); the public API has no query for this.  All
 * others are shared-memory and run on rank 0 alone. */
static int solver_is_collective(const char *name) {
  return strcmp(name, "petsc") == 0 || strcmp(name, "auto") == 0;
}

/* ok on this rank; for a collective run, ok on every rank */
static int step_ok(int collective, int ok) { return collective ? agree(ok) : ok; }

/* A simulation with the solver and stopping rule of r, set up; on failure
 * the error goes to r (status, error) and *sim may be NULL. */
static int make_sim(bench *B, result *r, int collective, tmsf_simulation **sim) {
  int ok = !tmsf_simulation_create(B->ctx, B->mesh, sim);
  if (!ok) record_error(r, B->ctx, "create");
  if (ok && (ok = !tmsf_simulation_set_solver(*sim, r->name)) == 0) record_error(r, B->ctx, "set_solver");
  if (ok && B->tmsf_rtol > 0 && (ok = !tmsf_simulation_set_tolerance(*sim, B->tmsf_rtol)) == 0)
    record_error(r, B->ctx, "set_tolerance");
  if (ok && B->field_tol > 0 && (ok = !tmsf_simulation_set_field_tolerance(*sim, B->field_tol)) == 0)
    record_error(r, B->ctx, "set_field_tolerance");
  if (!step_ok(collective, ok)) return 0;
  ok = !tmsf_simulation_setup(*sim);
  if (!ok) record_error(r, B->ctx, "setup");
  return step_ok(collective, ok);
}

/* One tmsfield solver: setup and the poses one at a time, then, on a fresh
 * simulation (so that solutions kept from the same poses cannot serve as
 * initial guesses), setup and the batch.  With collective set, every rank
 * calls this (the solver is distributed); timings and E differences are
 * rank 0's. */
static void run_tmsf(bench *B, result *r, int collective) {
  tmsf_simulation *sim = NULL;
  char what[96];
  int ok;
  reset_peak();
  r->rss_start_kb = status_kb("VmRSS");
  r->ranks = collective ? B->size : 1;
  if (!make_sim(B, r, collective, &sim)) {
    if (!r->status) r->status = -1; /* another rank failed */
    goto done;
  }
  tmsf_simulation_get_info(sim, TMSF_SIM_ASSEMBLY_SECONDS, &r->assembly_s);
  tmsf_simulation_get_info(sim, TMSF_SIM_SETUP_SECONDS, &r->solver_setup_s);
  r->setup_s = r->assembly_s + r->solver_setup_s;
  tmsf_simulation_get_info(sim, TMSF_SIM_ENERGY_TOLERANCE, &r->energy_tol);
  const char *in_use = NULL;
  if (!tmsf_simulation_get_solver(sim, &in_use) && in_use) snprintf(r->in_use, sizeof(r->in_use), "%s", in_use);
  for (int k = 0; k < B->npose; k++) {
    tmsf_field *field = NULL;
    double t = now();
    ok = !tmsf_simulation_solve(sim, B->coil, B->poses[k], B->didt[k], &field);
    r->wall_s[k] = now() - t;
    if (!ok) {
      snprintf(what, sizeof(what), "pose %d: solve", k + 1);
      record_error(r, B->ctx, what);
    }
    if (!step_ok(collective, ok)) {
      tmsf_field_destroy(&field);
      break;
    }
    tmsf_simulation_get_info(sim, TMSF_SIM_PRIMARY_SECONDS, &r->primary_s[k]);
    tmsf_simulation_get_info(sim, TMSF_SIM_RHS_SECONDS, &r->rhs_s[k]);
    tmsf_simulation_get_info(sim, TMSF_SIM_SOLVE_SECONDS, &r->solve_s[k]);
    tmsf_simulation_get_info(sim, TMSF_SIM_FIELD_SECONDS, &r->field_s[k]);
    tmsf_simulation_get_info(sim, TMSF_SIM_ITERATIONS, &r->iters[k]);
    r->pose_s[k] = r->primary_s[k] + r->rhs_s[k] + r->solve_s[k] + r->field_s[k];
    r->ediff[k] = field_ediff(B, field, k);
    r->nposes = k + 1;
    tmsf_field_destroy(&field);
  }
  r->peak_kb = status_kb("VmHWM");
  if (collective) {
    long other = -1, mine = B->rank == 0 ? -1 : r->peak_kb;
    MPI_Reduce(&mine, &other, 1, MPI_LONG, MPI_MAX, 0, PETSC_COMM_WORLD);
    r->peak_other_ranks_kb = B->rank == 0 ? other : -1;
  }
  if (!step_ok(collective, !r->status)) {
    if (!r->status) r->status = -1; /* another rank failed */
    goto done;
  }
  /* the batch: a fresh setup (not timed), then all poses in one call */
  tmsf_simulation_destroy(&sim);
  reset_peak();
  result fresh;
  result_init(&fresh, r->name);
  if (!make_sim(B, &fresh, collective, &sim)) {
    r->batch_status = fresh.status ? fresh.status : -1;
    snprintf(r->batch_error, sizeof(r->batch_error), "%s", fresh.error);
    goto done;
  }
  tmsf_field *fields[MAX_POSES];
  double t = now();
  ok = !tmsf_simulation_solve_many(sim, B->coil, B->npose, &B->poses[0][0], B->didt, fields);
  r->batch_total_s = now() - t;
  r->peak_batch_kb = status_kb("VmHWM");
  if (!ok) {
    r->batch_status = tmsf_context_last_status(B->ctx);
    snprintf(r->batch_error, sizeof(r->batch_error), "solve_many: %s", tmsf_context_last_error(B->ctx));
    sanitize(r->batch_error);
  }
  if (!step_ok(collective, ok)) goto done;
  r->batch_done = 1;
  double p, q;
  tmsf_simulation_get_info(sim, TMSF_SIM_PRIMARY_SECONDS, &p);
  tmsf_simulation_get_info(sim, TMSF_SIM_RHS_SECONDS, &q);
  r->batch_primary_rhs_s = p + q;
  tmsf_simulation_get_info(sim, TMSF_SIM_SOLVE_SECONDS, &r->batch_solve_s);
  tmsf_simulation_get_info(sim, TMSF_SIM_FIELD_SECONDS, &r->batch_field_s);
  tmsf_simulation_get_info(sim, TMSF_SIM_ITERATIONS, &r->batch_iters);
  for (int k = 0; k < B->npose; k++) {
    r->ediff_batch[k] = field_ediff(B, fields[k], k);
    tmsf_field_destroy(&fields[k]);
  }
done:
  tmsf_simulation_destroy(&sim);
}

/* ------------------------------------------------------------------ output */

static const char *status_name(int st) {
  if (st == -1) return "PETSc error or divergence";
  return tmsf_status_string(st);
}

static void write_json(FILE *f, const bench *B, const result *res, int nres, int threads,
                       const char *load0, const char *load1, double assembly_s, double nnz) {
  char cpu[256], date[64], petsc[256];
  cpu_model(cpu, sizeof(cpu));
  time_t tt = time(NULL);
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
  PetscGetVersion(petsc, sizeof(petsc));
  sanitize(petsc);
  for (size_t l = strlen(petsc); l > 0 && petsc[l - 1] == ' '; l--) petsc[l - 1] = '\0';
  double edge = NAN;
  tmsf_mesh_get_mean_edge(B->mesh, &edge);
  const char *omp = getenv("OMP_NUM_THREADS");
  fprintf(f, "{\n  \"benchmark\": \"solvers\",\n  \"commit\": \"%s\",\n  \"version\": \"%s\",\n",
          TMSF_GIT_COMMIT, tmsf_version());
  fprintf(f, "  \"build\": \"%s\",\n  \"petsc\": \"%s\",\n  \"date\": \"%s\",\n  \"cpu\": \"%s\",\n",
          tmsf_build_info(), petsc, date, cpu);
  const char *wait = getenv("OMP_WAIT_POLICY");
  fprintf(f, "  \"threads\": %d,\n  \"ranks\": %d,\n  \"omp_num_threads_env\": \"%s\",\n", threads,
          B->size, omp ? omp : "");
  fprintf(f, "  \"omp_wait_policy_env\": \"%s\",\n", wait ? wait : "");
  fprintf(f, "  \"loadavg_start\": \"%s\",\n  \"loadavg_end\": \"%s\",\n", load0, load1);
  fprintf(f, "  \"mesh\": \"%s\",\n  \"nodes\": %lld,\n  \"tetrahedra\": %lld,\n  \"unknowns\": %lld,\n",
          B->mesh_path, (long long)B->num_nodes, (long long)B->num_tets, (long long)B->n);
  fprintf(f, "  \"mean_edge_mm\": ");
  jnum(f, edge * 1e3);
  fprintf(f, ",\n  \"matrix_nonzeros\": %.0f,\n  \"assembly_s\": ", nnz);
  jnum(f, assembly_s);
  int64_t nd = 0;
  tmsf_coil_get_num_dipoles(B->coil, &nd);
  fprintf(f, ",\n  \"coil\": \"%s\",\n  \"dipoles\": %lld,\n  \"poses\": %d,\n", B->coil_path,
          (long long)nd, B->npose);
  fprintf(f, "  \"pose_layout\": \"centres on a 15 mm ring around the top point, snapped to the scalp, "
             "y rotated by 360/N degrees each, 4 mm from the scalp\",\n");
  fprintf(f, "  \"didt_A_per_s\": %g,\n  \"baseline_rtol\": %g,\n", B->didt[0], BASELINE_RTOL);
  if (B->tmsf_rtol > 0)
    fprintf(f, "  \"tmsfield_stopping_rule\": \"residual rule, rtol %g\",\n", B->tmsf_rtol);
  else if (B->field_tol > 0)
    fprintf(f, "  \"tmsfield_stopping_rule\": \"field rule, E within %g\",\n", B->field_tol);
  else
    fprintf(f, "  \"tmsfield_stopping_rule\": \"library default\",\n");
  fprintf(f, "  \"baseline\": \"PETSc KSPCG + hypre BoomerAMG (HMIS coarsening, other settings PETSc "
             "defaults), rtol %g, preconditioned residual norm, zero initial guess; 1 thread per rank "
             "(no OpenMP in PETSc/hypre here); rhs and E by tmsfield with the threads above\",\n",
          BASELINE_RTOL);
  fprintf(f, "  \"baseline_batch\": \"N KSPSolves one after another (KSPCG has no block variant; "
             "KSPMatSolve would solve column by column)\",\n");
  fprintf(f, "  \"tmsfield_one_at_a_time\": \"tmsf_simulation_solve, initial guess from the earlier poses; "
             "per pose = primary + rhs + solve + field seconds\",\n");
  fprintf(f, "  \"tmsfield_batch\": \"tmsf_simulation_solve_many of all poses on a freshly set up "
             "simulation (setup not counted), so no earlier solution helps\",\n");
  fprintf(f, "  \"reference\": {\"solver\": \"%s\", \"rtol_requested\": %g, \"rtol\": ", BASELINE,
          B->ref_rtol_requested);
  jnum(f, B->ref_ok ? B->ref_rtol : NAN);
  fprintf(f, ", \"max_iterations\": %d, \"converged\": %s, \"iterations\": ", REFERENCE_MAX_IT,
          B->ref_ok ? "true" : "false");
  jarr(f, B->ref_iters, B->ref_ok ? B->npose : 0);
  fprintf(f, ", \"true_relative_residual\": ");
  jarr(f, B->ref_true_residual, B->ref_ok ? B->npose : 0);
  fprintf(f, ", \"seconds\": ");
  jnum(f, B->ref_seconds);
  fprintf(f, "},\n");
  fprintf(f, "  \"e_difference\": \"sqrt(sum_e V_e |E_e - E_ref,e|^2 / sum_e V_e |E_ref,e|^2), "
             "E_e - E_ref,e = -grad(phi - phi_ref) (same primary field)\",\n");
  fprintf(f, "  \"peak_rss\": \"VmHWM of rank 0, reset before each run after malloc_trim; includes "
             "the mesh, coil and %d reference potentials (%.1f MB)\",\n",
          B->npose, B->npose * (double)B->num_nodes * 8.0 / 1048576.0);
  fprintf(f, "  \"solvers\": [\n");
  for (int i = 0; i < nres; i++) {
    const result *r = &res[i];
    fprintf(f, "    {\"name\": \"%s\", \"status\": \"%s\", \"error\": \"%s\",\n", r->name,
            r->status ? "error" : "ok", r->error);
    fprintf(f, "     \"threads\": %d, \"ranks\": %d, \"collective\": %s,\n", threads, r->ranks,
            !strcmp(r->name, BASELINE) || solver_is_collective(r->name) ? "true" : "false");
    fprintf(f, "     \"solver_in_use\": \"%s\", \"energy_tolerance\": ", r->in_use[0] ? r->in_use : r->name);
    jnum(f, r->energy_tol);
    fprintf(f, ", \"setup_s\": ");
    jnum(f, r->setup_s);
    fprintf(f, ", \"assembly_s\": ");
    jnum(f, r->assembly_s);
    fprintf(f, ", \"solver_setup_s\": ");
    jnum(f, r->solver_setup_s);
    fprintf(f, ", \"first_pose_s\": ");
    jnum(f, first_pose_s(r));
    fprintf(f, ", \"per_pose_s\": ");
    jnum(f, later_pose_s(r));
    fprintf(f, ", \"batch_per_pose_s\": ");
    jnum(f, batch_pose_s(r, B->npose));
    fprintf(f, ",\n     \"pose_s\": ");
    jarr(f, r->pose_s, r->nposes);
    fprintf(f, ", \"pose_wall_s\": ");
    jarr(f, r->wall_s, r->nposes);
    fprintf(f, ",\n     \"primary_s\": ");
    jarr(f, r->primary_s, r->nposes);
    fprintf(f, ", \"rhs_s\": ");
    jarr(f, r->rhs_s, r->nposes);
    fprintf(f, ",\n     \"solve_s\": ");
    jarr(f, r->solve_s, r->nposes);
    fprintf(f, ", \"field_s\": ");
    jarr(f, r->field_s, r->nposes);
    fprintf(f, ",\n     \"iterations\": ");
    jarr(f, r->iters, r->nposes);
    fprintf(f, ", \"e_rel_diff\": ");
    jarr(f, r->ediff, r->nposes);
    fprintf(f, ",\n     \"batch_status\": \"%s\", \"batch_error\": \"%s\", \"batch_total_s\": ",
            r->status ? "skipped" : (r->batch_done ? "ok" : "error"), r->batch_error);
    jnum(f, r->batch_done ? r->batch_total_s : NAN);
    fprintf(f, ", \"batch_primary_rhs_s\": ");
    jnum(f, r->batch_primary_rhs_s);
    fprintf(f, ", \"batch_solve_s\": ");
    jnum(f, r->batch_solve_s);
    fprintf(f, ", \"batch_field_s\": ");
    jnum(f, r->batch_field_s);
    fprintf(f, ", \"batch_iterations\": ");
    jnum(f, r->batch_iters);
    fprintf(f, ",\n     \"batch_e_rel_diff\": ");
    jarr(f, r->ediff_batch, r->batch_done ? B->npose : 0);
    fprintf(f, ", \"e_rel_diff_max\": ");
    jnum(f, r->status ? NAN : ediff_max(r, B->npose));
    fprintf(f, ",\n     \"rss_start_bytes\": ");
    jbytes(f, r->rss_start_kb);
    fprintf(f, ", \"peak_rss_bytes\": ");
    jbytes(f, r->peak_kb);
    fprintf(f, ", \"peak_rss_batch_bytes\": ");
    jbytes(f, r->peak_batch_kb);
    fprintf(f, ", \"peak_rss_other_ranks_bytes\": ");
    jbytes(f, r->peak_other_ranks_kb);
    fprintf(f, "}%s\n", i + 1 < nres ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
}

static void write_csv(FILE *f, const bench *B, const result *res, int nres, int threads) {
  fprintf(f, "mesh,nodes,tetrahedra,solver,threads,ranks,status,setup_s,first_pose_s,per_pose_s,"
             "batch_per_pose_s,poses,iterations_first,iterations_later_median,batch_iterations,"
             "peak_rss_mb,peak_rss_batch_mb,e_rel_diff_max,error\n");
  for (int i = 0; i < nres; i++) {
    const result *r = &res[i];
    fprintf(f, "%s,%lld,%lld,%s,%d,%d,%s,", B->mesh_path, (long long)B->num_nodes,
            (long long)B->num_tets, r->name, threads, r->ranks,
            r->status ? "error" : "ok");
    cnum(f, r->setup_s);
    fputc(',', f);
    cnum(f, first_pose_s(r));
    fputc(',', f);
    cnum(f, later_pose_s(r));
    fputc(',', f);
    cnum(f, batch_pose_s(r, B->npose));
    fprintf(f, ",%d,", B->npose);
    cnum(f, r->nposes > 0 ? r->iters[0] : NAN);
    fputc(',', f);
    cnum(f, later_iters(r));
    fputc(',', f);
    cnum(f, r->batch_iters);
    fputc(',', f);
    cnum(f, r->peak_kb > 0 ? r->peak_kb / 1024.0 : NAN);
    fputc(',', f);
    cnum(f, r->peak_batch_kb > 0 ? r->peak_batch_kb / 1024.0 : NAN);
    fputc(',', f);
    cnum(f, r->status ? NAN : ediff_max(r, B->npose));
    fprintf(f, ",\"%s%s%s\"\n", r->error, r->error[0] && r->batch_error[0] ? "; " : "", r->batch_error);
  }
}

/* --check: the written JSON names every expected solver; every reported E
 * difference is finite; failures only for memory or a missing build feature. */
static int check_output(const char *json_path, const result *res, int nres, int npose) {
  int bad = 0;
  char *text = NULL;
  if (json_path) {
    FILE *f = fopen(json_path, "rb");
    if (f) {
      fseek(f, 0, SEEK_END);
      long len = ftell(f);
      fseek(f, 0, SEEK_SET);
      text = len > 0 ? malloc((size_t)len + 1) : NULL;
      if (text) {
        size_t got = fread(text, 1, (size_t)len, f);
        text[got] = '\0';
      }
      fclose(f);
    }
    if (!text) {
      fprintf(stderr, "bench-solvers: check: cannot read back %s\n", json_path);
      return 1;
    }
  }
  for (int i = 0; i < nres; i++) {
    const result *r = &res[i];
    if (text) {
      char key[96];
      snprintf(key, sizeof(key), "{\"name\": \"%s\"", r->name);
      if (!strstr(text, key)) {
        fprintf(stderr, "bench-solvers: check: no row for %s in %s\n", r->name, json_path);
        bad = 1;
      }
    }
    if (r->status) {
      if (r->status != TMSF_ERR_MEMORY && r->status != TMSF_ERR_UNSUPPORTED &&
          r->status != TMSF_ERR_NOT_FOUND) {
        fprintf(stderr, "bench-solvers: check: %s failed: %s\n", r->name, r->error);
        bad = 1;
      }
      continue;
    }
    double m = ediff_max(r, npose);
    if (!isfinite(m)) {
      fprintf(stderr, "bench-solvers: check: %s reports a non-finite E difference\n", r->name);
      bad = 1;
    } else if (m > 1e-4) {
      fprintf(stderr, "bench-solvers: note: %s differs from the reference by %.3g (> 1e-4)\n",
              r->name, m);
    }
  }
  free(text);
  return bad;
}

/* ------------------------------------------------------------------- main */

static void usage(void) {
  fprintf(stderr,
          "usage: bench-solvers --mesh FILE.msh [--coil FILE] [--poses N] [--threads N]\n"
          "                     [--solvers a,b,...|all] [--json OUT] [--csv OUT]\n"
          "                     [--reference-rtol R] [--field-tolerance E | --tmsf-rtol R]\n"
          "                     [--check] [-PETSC_OPTION ...]\n");
}

/* context, mesh, coil and poses (the poses depend on the mesh only, so every
 * rank that loads them gets the same ones); 1 on success */
static int load_inputs(bench *B, int threads) {
  if (tmsf_context_create(&B->ctx)) return 0;
  if (tmsf_context_set_threads(B->ctx, threads) || tmsf_mesh_read(B->ctx, B->mesh_path, &B->mesh) ||
      tmsf_coil_read(B->ctx, B->coil_path, &B->coil)) {
    fprintf(stderr, "bench-solvers: rank %d: %s\n", B->rank, tmsf_context_last_error(B->ctx));
    return 0;
  }
  if (tmsf_coil_read(B->ctx, B->coil_path, &B->coil_ref) ||
      tmsf_coil_set_precision(B->coil_ref, TMSF_PRECISION_DOUBLE)) {
    fprintf(stderr, "bench-solvers: rank %d: %s\n", B->rank, tmsf_context_last_error(B->ctx));
    return 0;
  }
  tmsf_mesh_get_sizes(B->mesh, &B->num_nodes, &B->num_tets, NULL);
  tmsf_mesh_get_nodes(B->mesh, &B->nodes);
  B->dadt_ref = malloc(sizeof(double) * 3 * (size_t)B->num_nodes);
  B->dadt_pose = -1;
  if (!B->dadt_ref) {
    fprintf(stderr, "bench-solvers: out of memory\n");
    return 0;
  }
  const int32_t *tags;
  tmsf_mesh_get_tetrahedra(B->mesh, &B->tets, &tags);
  double lo[3], hi[3];
  tmsf_mesh_get_bounds(B->mesh, lo, hi);
  for (int k = 0; k < B->npose; k++) {
    const double a = 2.0 * 3.14159265358979323846 * k / B->npose, ring = 0.015;
    double centre[3] = {0.5 * (lo[0] + hi[0]) + ring * cos(a), 0.5 * (lo[1] + hi[1]) + ring * sin(a),
                        hi[2]};
    double ydir[3] = {sin(a), cos(a), 0.0};
    if (tmsf_pose_from_centre(B->mesh, centre, ydir, 0.004, B->poses[k])) {
      fprintf(stderr, "bench-solvers: pose %d: %s\n", k + 1, tmsf_context_last_error(B->ctx));
      return 0;
    }
    B->didt[k] = 1e6;
  }
  return 1;
}

/* wait for rank 0 without spinning a core (MPI's blocking waits poll) */
static void wait_for_rank0(void) {
  int token = 0, done = 0;
  MPI_Request req;
  MPI_Irecv(&token, 1, MPI_INT, 0, TAG_DONE, PETSC_COMM_WORLD, &req);
  while (!done) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (!done) sleep_ms(5);
  }
}

/* name is in the comma-separated list, or the list has "all" */
static int in_list(const char *list, const char *name) {
  size_t len = strlen(name);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if ((l == len && !strncmp(p, name, l)) || (l == 3 && !strncmp(p, "all", 3))) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  /* our options are --name; everything else goes to PETSc */
  const char *mesh_path = NULL, *coil_path = "data/coils/Magstim_70mm_Fig8.ccd";
  const char *json_path = NULL, *csv_path = NULL, *solver_list = "all";
  int npose = 8, threads = 0, check = 0, bad_usage = 0;
  double ref_rtol = 1e-14, field_tol = 0.0, tmsf_rtol = 0.0;
  char **pargv = calloc((size_t)argc + 1, sizeof(char *));
  int pargc = 0;
  if (!pargv) return 1;
  pargv[pargc++] = argv[0];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has = i + 1 < argc;
    if (strncmp(a, "--", 2) != 0) pargv[pargc++] = argv[i];
    else if (!strcmp(a, "--check")) check = 1;
    else if (!strcmp(a, "--mesh") && has) mesh_path = argv[++i];
    else if (!strcmp(a, "--coil") && has) coil_path = argv[++i];
    else if (!strcmp(a, "--json") && has) json_path = argv[++i];
    else if (!strcmp(a, "--csv") && has) csv_path = argv[++i];
    else if (!strcmp(a, "--solvers") && has) solver_list = argv[++i];
    else if (!strcmp(a, "--poses") && has) npose = atoi(argv[++i]);
    else if (!strcmp(a, "--threads") && has) threads = atoi(argv[++i]);
    else if (!strcmp(a, "--reference-rtol") && has) ref_rtol = atof(argv[++i]);
    else if (!strcmp(a, "--field-tolerance") && has) field_tol = atof(argv[++i]), tmsf_rtol = 0.0;
    else if (!strcmp(a, "--tmsf-rtol") && has) tmsf_rtol = atof(argv[++i]), field_tol = 0.0;
    else bad_usage = 1;
  }
  if (!mesh_path || npose < 1 || npose > MAX_POSES || threads < 0 || !(ref_rtol > 0 && ref_rtol < 1) ||
      !(field_tol >= 0 && field_tol < 1) || !(tmsf_rtol >= 0 && tmsf_rtol < 1))
    bad_usage = 1;

  PetscCall(PetscInitialize(&pargc, &pargv, NULL, NULL));
  bench B;
  memset(&B, 0, sizeof(B));
  MPI_Comm_rank(PETSC_COMM_WORLD, &B.rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &B.size);
  if (bad_usage) {
    if (B.rank == 0) {
      usage();
      fprintf(stderr, "bench-solvers: --mesh is required; --poses 1..%d; tolerances in (0, 1)\n",
                      MAX_POSES);
    }
    PetscCall(PetscFinalize());
    free(pargv);
    return 2;
  }
  B.mesh_path = mesh_path;
  B.coil_path = coil_path;
  B.npose = npose;
  B.field_tol = field_tol;
  B.tmsf_rtol = tmsf_rtol;
  char load0[64] = "", load1[64] = "";
  loadavg(load0, sizeof(load0));

  /* rank 0: mesh, coil, poses, the baseline's assembly */
  int ok = 1, nthreads = 0;
  double assembly_s = NAN, nnz = NAN;
  if (B.rank == 0) {
    ok = 0;
    if (!load_inputs(&B, threads)) goto setup_done;
    tmsf_context_get_threads(B.ctx, &nthreads);
    /* the baseline's system: assembled with the lightest shared-memory solver
     * (Jacobi CG; the default "auto" could pick a collective or a heavy one) */
    if (tmsf_simulation_create(B.ctx, B.mesh, &B.sim) || tmsf_simulation_set_solver(B.sim, "cg") ||
        tmsf_simulation_set_primary_method(B.sim, TMSF_PRIMARY_DIRECT) ||
        tmsf_simulation_setup(B.sim) ||
        tmsf_simulation_get_matrix(B.sim, &B.n, &B.row_ptr, &B.cols, &B.vals)) {
      fprintf(stderr, "bench-solvers: assembly: %s\n", tmsf_context_last_error(B.ctx));
      goto setup_done;
    }
    tmsf_simulation_get_info(B.sim, TMSF_SIM_ASSEMBLY_SECONDS, &assembly_s);
    tmsf_simulation_get_info(B.sim, TMSF_SIM_MATRIX_NONZEROS, &nnz);
    B.nnz = B.row_ptr[B.n];
    for (int k = 0; k < npose; k++) {
      B.phi_ref[k] = malloc(sizeof(double) * (size_t)B.num_nodes);
      if (!B.phi_ref[k]) {
        fprintf(stderr, "bench-solvers: out of memory for the reference\n");
        goto setup_done;
      }
    }
    printf("mesh %s: %lld nodes, %lld tetrahedra, %.0f nonzeros; %d threads, %d ranks; %d poses\n",
           mesh_path, (long long)B.num_nodes, (long long)B.num_tets, nnz, nthreads, B.size, npose);
    fflush(stdout);
    ok = 1;
  }
setup_done:
  if (!agree(ok)) {
    PetscCall(PetscFinalize());
    free(pargv);
    return 1;
  }

  /* the runs: every registered solver plus the baseline, in the order baseline first */
  int nsolvers = 0;
  const char *const *names = NULL;
  tmsf_solver_list(&nsolvers, &names);
  result *res = calloc((size_t)nsolvers + 1, sizeof(result));
  if (!res) return 1;
  int nres = 0;
  result_init(&res[nres++], BASELINE);
  for (int i = 0; i < nsolvers; i++) result_init(&res[nres++], names[i]);
  /* names asked for that are not registered (e.g. "auto", the simulation's
   * own choice): tried like the others, the library rejects unknown ones */
  for (const char *p = solver_list; *p;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    int known = l == 3 && !strncmp(p, "all", 3);
    for (int i = 0; i < nres; i++) known |= strlen(res[i].name) == l && !strncmp(res[i].name, p, l);
    if (!known && l > 0 && l < 64) {
      result *grown = realloc(res, sizeof(result) * (size_t)(nres + 1));
      if (!grown) return 1;
      res = grown;
      char name[64];
      memcpy(name, p, l);
      name[l] = '\0';
      sanitize(name);
      result_init(&res[nres++], name);
    }
    if (!e) break;
    p = e + 1;
  }
  for (int i = 0; i < nres; i++) res[i].selected = in_list(solver_list, res[i].name);
  int baseline_selected = in_list(solver_list, BASELINE);

  /* the reference: the tightest tolerance from --reference-rtol up to 1e-11 that converges */
  B.ref_rtol_requested = ref_rtol;
  double tr = now();
  for (double rt = ref_rtol; rt <= 1.0001e-11 || rt == ref_rtol; rt *= 10.0) {
    result tmp;
    result_init(&tmp, "reference");
    int converged = 0;
    PetscCall(run_petsc(&B, RUN_REFERENCE, rt, &tmp, &converged));
    if (agree(converged)) {
      B.ref_ok = 1;
      B.ref_rtol = rt;
      break;
    }
    if (B.rank == 0) printf("reference: rtol %g: %s; loosening\n", rt, tmp.error);
  }
  B.ref_seconds = now() - tr;
  if (B.rank == 0) {
    if (B.ref_ok)
      printf("reference: %s at rtol %g, %.1f s; iterations %g..%g\n", BASELINE, B.ref_rtol,
             B.ref_seconds, B.ref_iters[0], max_of(B.ref_iters, npose));
    else
      printf("reference: did not converge at any rtol up to 1e-11; E differences are not reported\n");
    fflush(stdout);
  }

  /* the baseline (collective) */
  if (baseline_selected) {
    result *r = &res[0];
    r->assembly_s = assembly_s;
    int converged;
    PetscCall(run_petsc(&B, RUN_BASELINE, BASELINE_RTOL, r, &converged));
    if (B.rank == 0 && r->status) sanitize(r->error);
  }
  if (B.rank == 0) tmsf_simulation_destroy(&B.sim);

  /* the tmsfield solvers: with several ranks, the collective ones first on
   * every rank (the other ranks load the mesh for them now), then the
   * shared-memory ones on rank 0 while the other ranks sleep */
  if (B.rank == 0) {
    if (tmsf_rtol > 0) printf("tmsfield solvers: residual rule, rtol %g\n", tmsf_rtol);
    else if (field_tol > 0) printf("tmsfield solvers: field rule, E within %g\n", field_tol);
    else printf("tmsfield solvers: the library's default stopping rule\n");
  }
  int any_collective = 0;
  for (int i = 1; i < nres; i++) any_collective |= res[i].selected && solver_is_collective(res[i].name);
  if (B.size > 1 && any_collective) {
    int loaded = B.rank == 0 ? 1 : load_inputs(&B, threads);
    loaded = agree(loaded);
    for (int i = 1; i < nres; i++) {
      if (!res[i].selected || !solver_is_collective(res[i].name)) continue;
      if (B.rank == 0) {
        printf("solver %s (%d ranks) ...\n", res[i].name, B.size);
        fflush(stdout);
      }
      if (loaded) {
        run_tmsf(&B, &res[i], 1);
      } else {
        res[i].status = TMSF_ERR_IO;
        snprintf(res[i].error, sizeof(res[i].error), "the mesh or coil could not be read on every rank");
      }
    }
  }
  int exit_code = 0;
  if (B.rank == 0) {
    for (int i = 1; i < nres; i++) {
      if (!res[i].selected || (B.size > 1 && solver_is_collective(res[i].name))) continue;
      printf("solver %s ...\n", res[i].name);
      fflush(stdout);
      run_tmsf(&B, &res[i], 0);
    }
    loadavg(load1, sizeof(load1));

    /* the table */
    printf("\n%-16s %8s %9s %10s %10s %11s %9s %10s\n", "solver", "setup s", "1st pose", "pose s",
           "batch/pose", "iterations", "peak MB", "E diff");
    for (int i = 0; i < nres; i++) {
      const result *r = &res[i];
      if (!r->selected && i > 0) continue;
      if (i == 0 && !baseline_selected) continue;
      if (r->status) {
        printf("%-16s failed (%s): %s\n", r->name, status_name(r->status), r->error);
        continue;
      }
      printf("%-16s %8.3f %9.3f %10.4f %10.4f %5.0f/%-5.0f %9.1f %10.2e\n", r->name, r->setup_s,
             first_pose_s(r), later_pose_s(r), batch_pose_s(r, npose), r->iters[0], later_iters(r),
             r->peak_kb / 1024.0, ediff_max(r, npose));
      if (r->batch_error[0]) printf("%-16s batch failed: %s\n", "", r->batch_error);
    }
    printf("(pose s: median over poses 2..%d one at a time; iterations: pose 1 / median of the rest; E diff: max "
           "relative L2 to the reference at rtol %g)\n",
           npose, B.ref_rtol);

    /* rows that were not selected are left out of the files */
    result *out = malloc(sizeof(result) * (size_t)nres);
    int nout = 0;
    if (out) {
      for (int i = 0; i < nres; i++)
        if (i == 0 ? baseline_selected : res[i].selected) out[nout++] = res[i];
    }
    if (json_path && out) {
      FILE *f = fopen(json_path, "w");
      if (f) {
        write_json(f, &B, out, nout, nthreads, load0, load1, assembly_s, nnz);
        fclose(f);
        printf("wrote %s\n", json_path);
      } else {
        fprintf(stderr, "bench-solvers: cannot write %s\n", json_path);
        exit_code = 1;
      }
    }
    if (csv_path && out) {
      FILE *f = fopen(csv_path, "w");
      if (f) {
        write_csv(f, &B, out, nout, nthreads);
        fclose(f);
        printf("wrote %s\n", csv_path);
      } else {
        fprintf(stderr, "bench-solvers: cannot write %s\n", csv_path);
        exit_code = 1;
      }
    }
    if (check && out && check_output(json_path, out, nout, npose)) exit_code = 3;
    free(out);
    for (int r = 1; r < B.size; r++) {
      int token = 1;
      MPI_Send(&token, 1, MPI_INT, r, TAG_DONE, PETSC_COMM_WORLD);
    }
  } else {
    wait_for_rank0();
  }

  for (int k = 0; k < npose; k++) free(B.phi_ref[k]);
  free(res);
  tmsf_coil_destroy(&B.coil);
  tmsf_coil_destroy(&B.coil_ref);
  free(B.dadt_ref);
  tmsf_mesh_destroy(&B.mesh);
  tmsf_context_destroy(&B.ctx);
  PetscCall(PetscFinalize());
  free(pargv);
  return exit_code;
}

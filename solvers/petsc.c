/*
 * SPDX-License-Identifier: BSD-3-Clause
 * petsc.c: the "petsc" solver — PETSc KSP CG preconditioned by hypre
 * BoomerAMG (HMIS coarsening) on a matrix distributed over the MPI ranks, for
 * meshes and pose batches that need more than one machine.
 *
 * Every rank runs the same program (mpirun -np N ...), reads the mesh and
 * assembles the matrix (the mesh and element data are replicated); the rows
 * are divided among the ranks by a METIS k-way partition of the matrix graph
 * (the same on every rank: METIS is deterministic for a fixed seed), and only
 * the PETSc matrix, the BoomerAMG hierarchy and the Krylov vectors are
 * distributed.  After each solve the solution is gathered on every rank, so
 * that fields can be computed and written by rank 0.  Setup and solve are
 * collective.
 *
 * The KSP and PC are configurable from PETSc's options database (the
 * PETSC_OPTIONS environment variable, e.g. "-ksp_monitor -pc_hypre_boomeramg_strong_threshold 0.5"),
 * with the prefix "tmsf_".  PETSc is initialised on first use when the
 * program has not done it (tmsf_parallel_init does it for the command-line
 * tool) and finalised at exit; its error messages are captured, never
 * printed.  The stopping rule is the residual one (rtol); the energy rule of
 * the other iterative solvers would need CG's coefficients, which KSPCG does
 * not expose, so a solve with an energy tolerance uses rtol.
 */
#include <string.h>

#include "solver-impl.h"

#if TMSF_HAVE_PETSC
#include <metis.h>
#include <petscksp.h>

typedef struct petsc_data {
  Mat A;
  KSP ksp;
  Vec b, x, all;      /* distributed right-hand side and solution; the gathered solution */
  VecScatter to_all;
  int64_t *perm;      /* global (partition-ordered) index -> solver index */
  PetscInt rstart, rend;
  int rank, size;
} petsc_data;

/* PETSc's last error, as text, into the solver's context. */
static int petsc_fail(tmsf_solver *s, PetscErrorCode perr, const char *what) {
  const char *text = NULL;
  PetscErrorMessage(perr, &text, NULL);
  return TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC, "petsc: %s failed: PETSc error %d (%s)", what, (int)perr,
                    text ? text : "unknown");
}

#define PCHECK(s, call, what)                                                                      \
  do {                                                                                             \
    PetscErrorCode perr_ = (call);                                                                 \
    if (perr_) {                                                                                   \
      PetscPopErrorHandler();                                                                      \
      return petsc_fail((s), perr_, (what));                                                       \
    }                                                                                              \
  } while (0)

static void petsc_finalize_at_exit(void) {
  PetscBool fin = PETSC_FALSE;
  PetscFinalized(&fin);
  if (!fin) PetscFinalize();
}

int tmsf_petsc_ensure_initialized(int *argc, char ***argv) {
  PetscBool init = PETSC_FALSE;
  PetscInitialized(&init);
  if (init) return TMSF_SUCCESS;
  PetscErrorCode perr = argc ? PetscInitialize(argc, argv, NULL, NULL) : PetscInitializeNoArguments();
  if (perr) return TMSF_ERR_UNSUPPORTED;
  atexit(petsc_finalize_at_exit);
  return TMSF_SUCCESS;
}

static void petsc_destroy(tmsf_solver *s) {
  petsc_data *d = s->data;
  if (!d) return;
  PetscPushErrorHandler(PetscReturnErrorHandler, NULL);
  if (d->ksp) KSPDestroy(&d->ksp);
  if (d->A) MatDestroy(&d->A);
  if (d->b) VecDestroy(&d->b);
  if (d->x) VecDestroy(&d->x);
  if (d->all) VecDestroy(&d->all);
  if (d->to_all) VecScatterDestroy(&d->to_all);
  PetscPopErrorHandler();
  free(d->perm);
  free(d);
  s->data = NULL;
}

static int petsc_setup(tmsf_solver *s) {
  petsc_destroy(s);
  if (tmsf_petsc_ensure_initialized(NULL, NULL))
    return TMSF_ERROR(s->ctx, TMSF_ERR_UNSUPPORTED, "petsc: PETSc could not be initialised");
  petsc_data *d = calloc(1, sizeof(*d));
  if (!d) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "petsc: out of memory");
  s->data = d;
  const int64_t n = s->n;
  MPI_Comm_rank(PETSC_COMM_WORLD, &d->rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &d->size);
  /* partition: METIS on the graph without the diagonal, identical on every rank */
  idx_t *part = tmsf_malloc_array((size_t)n, sizeof(idx_t));
  d->perm = tmsf_malloc_array((size_t)n, sizeof(int64_t));
  int64_t *inv = tmsf_malloc_array((size_t)n, sizeof(int64_t));
  if (!part || !d->perm || !inv) {
    free(part), free(inv);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "petsc: out of memory");
  }
  if (d->size > 1) {
    idx_t *xadj = tmsf_malloc_array((size_t)n + 1, sizeof(idx_t));
    idx_t *adj = tmsf_malloc_array((size_t)s->row_ptr[n], sizeof(idx_t));
    if (!xadj || !adj) {
      free(xadj), free(adj), free(part), free(inv);
      return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "petsc: out of memory");
    }
    idx_t k = 0;
    for (int64_t i = 0; i < n; i++) {
      xadj[i] = k;
      for (int64_t q = s->row_ptr[i]; q < s->row_ptr[i + 1]; q++)
        if (s->cols[q] != i && s->vals[q] != 0.0) adj[k++] = s->cols[q];
    }
    xadj[n] = k;
    idx_t nv = (idx_t)n, ncon = 1, nparts = d->size, objval;
    idx_t options[METIS_NOPTIONS];
    METIS_SetDefaultOptions(options);
    options[METIS_OPTION_SEED] = 1;
    int mret = METIS_PartGraphKway(&nv, &ncon, xadj, adj, NULL, NULL, NULL, &nparts, NULL, NULL,
                                   options, &objval, part);
    free(xadj), free(adj);
    if (mret != METIS_OK) {
      free(part), free(inv);
      return TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC, "petsc: METIS partitioning failed (%d)", mret);
    }
  } else {
    for (int64_t i = 0; i < n; i++) part[i] = 0;
  }
  /* rows ordered by part, then by solver index: contiguous ownership ranges */
  int64_t *count = calloc((size_t)d->size + 1, sizeof(int64_t));
  if (!count) {
    free(part), free(inv);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "petsc: out of memory");
  }
  for (int64_t i = 0; i < n; i++) count[part[i] + 1]++;
  for (int r = 0; r < d->size; r++) count[r + 1] += count[r];
  d->rstart = (PetscInt)count[d->rank];
  d->rend = (PetscInt)count[d->rank + 1];
  for (int64_t i = 0; i < n; i++) {
    int64_t g = count[part[i]]++;
    d->perm[g] = i;
    inv[i] = g;
  }
  free(count);
  free(part);
  /* local rows in CSR with global (partition-ordered) column indices, sorted */
  const PetscInt nloc = d->rend - d->rstart;
  int64_t nnz = 0;
  for (PetscInt g = d->rstart; g < d->rend; g++) nnz += s->row_ptr[d->perm[g] + 1] - s->row_ptr[d->perm[g]];
  PetscInt *ia = tmsf_malloc_array((size_t)nloc + 1, sizeof(PetscInt));
  PetscInt *ja = tmsf_malloc_array((size_t)nnz, sizeof(PetscInt));
  PetscScalar *va = tmsf_malloc_array((size_t)nnz, sizeof(PetscScalar));
  if (!ia || !ja || !va) {
    free(ia), free(ja), free(va), free(inv);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "petsc: out of memory");
  }
  int64_t k = 0;
  for (PetscInt g = d->rstart; g < d->rend; g++) {
    int64_t i = d->perm[g];
    ia[g - d->rstart] = (PetscInt)k;
    int64_t r0 = k;
    for (int64_t q = s->row_ptr[i]; q < s->row_ptr[i + 1]; q++) {
      ja[k] = (PetscInt)inv[s->cols[q]];
      va[k] = s->vals[q];
      k++;
    }
    for (int64_t a = r0 + 1; a < k; a++) { /* insertion sort of the row by column */
      PetscInt c = ja[a];
      PetscScalar v = va[a];
      int64_t b = a - 1;
      while (b >= r0 && ja[b] > c) {
        ja[b + 1] = ja[b];
        va[b + 1] = va[b];
        b--;
      }
      ja[b + 1] = c;
      va[b + 1] = v;
    }
  }
  ia[nloc] = (PetscInt)k;
  free(inv);
  PetscPushErrorHandler(PetscReturnErrorHandler, NULL);
  PetscErrorCode perr = MatCreateMPIAIJWithArrays(PETSC_COMM_WORLD, nloc, nloc, (PetscInt)n, (PetscInt)n, ia,
                                                  ja, va, &d->A);
  free(ia), free(ja), free(va);
  if (perr) {
    PetscPopErrorHandler();
    return petsc_fail(s, perr, "MatCreateMPIAIJWithArrays");
  }
  PCHECK(s, MatCreateVecs(d->A, &d->x, &d->b), "MatCreateVecs");
  PCHECK(s, VecScatterCreateToAll(d->x, &d->to_all, &d->all), "VecScatterCreateToAll");
  PCHECK(s, KSPCreate(PETSC_COMM_WORLD, &d->ksp), "KSPCreate");
  PCHECK(s, KSPSetOptionsPrefix(d->ksp, "tmsf_"), "KSPSetOptionsPrefix");
  PCHECK(s, KSPSetOperators(d->ksp, d->A, d->A), "KSPSetOperators");
  PCHECK(s, KSPSetType(d->ksp, KSPCG), "KSPSetType");
  PC pc;
  PCHECK(s, KSPGetPC(d->ksp, &pc), "KSPGetPC");
  PCHECK(s, PCSetType(pc, PCHYPRE), "PCSetType(hypre)");
  PCHECK(s, PCHYPRESetType(pc, "boomeramg"), "PCHYPRESetType");
  PCHECK(s, PetscOptionsSetValue(NULL, "-tmsf_pc_hypre_boomeramg_coarsen_type", "HMIS"), "PetscOptionsSetValue");
  PCHECK(s, KSPSetTolerances(d->ksp, s->rtol, PETSC_DEFAULT, PETSC_DEFAULT, (PetscInt)s->max_iterations),
         "KSPSetTolerances");
  PCHECK(s, KSPSetInitialGuessNonzero(d->ksp, PETSC_TRUE), "KSPSetInitialGuessNonzero");
  PCHECK(s, KSPSetFromOptions(d->ksp), "KSPSetFromOptions");
  PCHECK(s, KSPSetUp(d->ksp), "KSPSetUp (BoomerAMG setup)");
  PetscPopErrorHandler();
  s->memory_bytes = 0.0; /* held by PETSc and hypre */
  return TMSF_SUCCESS;
}

static int petsc_solve_one(tmsf_solver *s, const double *b, double *x, int64_t *iters, double *relres) {
  petsc_data *d = s->data;
  int64_t nz = 0;
  for (int64_t i = 0; i < s->n && !nz; i++) nz = b[i] != 0.0;
  if (!nz) { /* the solution of A x = 0 (KSP would return the initial guess) */
    memset(x, 0, (size_t)s->n * sizeof(double));
    *iters = 0;
    *relres = 0.0;
    return TMSF_SUCCESS;
  }
  PetscPushErrorHandler(PetscReturnErrorHandler, NULL);
  PetscScalar *pb, *px;
  PCHECK(s, VecGetArray(d->b, &pb), "VecGetArray");
  PCHECK(s, VecGetArray(d->x, &px), "VecGetArray");
  for (PetscInt g = d->rstart; g < d->rend; g++) {
    pb[g - d->rstart] = b[d->perm[g]];
    px[g - d->rstart] = x[d->perm[g]];
  }
  PCHECK(s, VecRestoreArray(d->b, &pb), "VecRestoreArray");
  PCHECK(s, VecRestoreArray(d->x, &px), "VecRestoreArray");
  PCHECK(s, KSPSetTolerances(d->ksp, s->rtol, PETSC_DEFAULT, PETSC_DEFAULT, (PetscInt)s->max_iterations),
         "KSPSetTolerances");
  PCHECK(s, KSPSolve(d->ksp, d->b, d->x), "KSPSolve");
  KSPConvergedReason reason;
  PetscInt its;
  PetscReal rnorm, bnorm;
  PCHECK(s, KSPGetConvergedReason(d->ksp, &reason), "KSPGetConvergedReason");
  PCHECK(s, KSPGetIterationNumber(d->ksp, &its), "KSPGetIterationNumber");
  PCHECK(s, KSPGetResidualNorm(d->ksp, &rnorm), "KSPGetResidualNorm");
  PCHECK(s, VecNorm(d->b, NORM_2, &bnorm), "VecNorm");
  *iters = its;
  *relres = bnorm > 0 ? rnorm / bnorm : 0.0;
  if (reason < 0) {
    PetscPopErrorHandler();
    if (reason == KSP_DIVERGED_INDEFINITE_PC || reason == KSP_DIVERGED_INDEFINITE_MAT ||
        reason == KSP_DIVERGED_BREAKDOWN)
      return TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC,
                        "petsc: CG broke down after %d iterations (%s); the matrix is not positive "
                        "definite",
                        (int)its, KSPConvergedReasons[reason]);
    return TMSF_ERROR(s->ctx, TMSF_ERR_CONVERGENCE,
                      "petsc: no convergence after %d iterations (%s, relative residual %.3g); no "
                      "solution returned",
                      (int)its, KSPConvergedReasons[reason], *relres);
  }
  PCHECK(s, VecScatterBegin(d->to_all, d->x, d->all, INSERT_VALUES, SCATTER_FORWARD), "VecScatterBegin");
  PCHECK(s, VecScatterEnd(d->to_all, d->x, d->all, INSERT_VALUES, SCATTER_FORWARD), "VecScatterEnd");
  const PetscScalar *pa;
  PCHECK(s, VecGetArrayRead(d->all, &pa), "VecGetArrayRead");
  for (int64_t g = 0; g < s->n; g++) x[d->perm[g]] = pa[g];
  PCHECK(s, VecRestoreArrayRead(d->all, &pa), "VecRestoreArrayRead");
  PetscPopErrorHandler();
  return TMSF_SUCCESS;
}

static int petsc_solve(tmsf_solver *s, int num_rhs, const double *b, double *x) {
  for (int j = 0; j < num_rhs; j++) {
    int64_t it = 0;
    double rel = 0.0;
    TMSF_CALL(petsc_solve_one(s, b + (int64_t)j * s->n, x + (int64_t)j * s->n, &it, &rel));
    if (it > s->iterations) s->iterations = it;
    if (rel > s->residual) s->residual = rel;
  }
  return TMSF_SUCCESS;
}

const tmsf_solver_ops tmsf_solver_petsc_ops = {
    .name = "petsc",
    .energy_rule = 0,
    .setup = petsc_setup,
    .solve = petsc_solve,
    .destroy = petsc_destroy,
};

#endif

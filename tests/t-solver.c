/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-solver.c: the conformance suite every registered linear solver passes —
 * SPD systems from real meshes (assembled here, independently of the
 * library's FEM code), several right-hand sides at once, warm starts, and
 * clean rejection of singular, indefinite, asymmetric or malformed input.
 *
 * Tolerances: the solver must meet its relative residual rtol = 1e-10, checked
 * here with an independent matrix-vector product (allowing 10x for rounding
 * in the residual itself).
 *
 * Iterative and direct solvers differ in what a warm start and a singular
 * matrix mean: an iterative solver must take fewer iterations from a good
 * initial guess and fail to converge (or detect p^T A p <= 0) on a singular
 * system; a direct solver ignores the guess but must return the same answer
 * whatever it is, and must reject a singular matrix when it factors it.
 * Solvers never print, even on failure: stdout and stderr are captured around
 * the calls that reject bad input.
 */
#include <fcntl.h>
#include <unistd.h>

#include "test-common.h"
#include "test-mesh.h"

/* Direct solvers: the factorisation is done in setup, the initial guess is
 * ignored and the reported iteration count is the number of solves with the
 * factor (1, or 2 with iterative refinement). */
static int is_direct(const char *name) { return strcmp(name, "cholmod") == 0; }

/* Capture of stdout and stderr (file descriptors 1 and 2) into a temporary
 * file, to check that the library prints nothing. */
typedef struct capture {
  FILE *tmp;
  int saved[2];
} capture;

static void capture_begin(capture *c) {
  fflush(stdout);
  fflush(stderr);
  c->tmp = tmpfile();
  if (!c->tmp) {
    fprintf(stderr, "FATAL: tmpfile\n");
    exit(1);
  }
  for (int k = 0; k < 2; k++) {
    c->saved[k] = dup(k + 1);
    dup2(fileno(c->tmp), k + 1);
  }
}

/* Restore; returns the number of bytes written meanwhile, copying them to
 * `text` (NUL-terminated, truncated to len - 1). */
static long capture_end(capture *c, char *text, size_t len) {
  fflush(stdout);
  fflush(stderr);
  for (int k = 0; k < 2; k++) {
    dup2(c->saved[k], k + 1);
    close(c->saved[k]);
  }
  long size = lseek(fileno(c->tmp), 0, SEEK_END);
  rewind(c->tmp);
  size_t got = fread(text, 1, len - 1, c->tmp);
  text[got] = '\0';
  fclose(c->tmp);
  return size;
}

typedef struct csr {
  int64_t n;
  int64_t *rp;
  int32_t *ci;
  double *v;
} csr;

typedef struct trip {
  int32_t i, j;
  double v;
} trip;

static int cmp_trip(const void *a, const void *b) {
  const trip *x = a, *y = b;
  if (x->i != y->i) return x->i < y->i ? -1 : 1;
  return (x->j > y->j) - (x->j < y->j);
}

/* P1 stiffness with conductivity `sigma(tag)`, node 0 grounded (or not: a
 * singular matrix, constants in its null space). */
static csr laplacian(const tmsf_mesh *mesh, int ground) {
  int64_t nn, ne;
  const double *x;
  const int32_t *t, *tag;
  tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
  tmsf_mesh_get_nodes(mesh, &x);
  tmsf_mesh_get_tetrahedra(mesh, &t, &tag);
  trip *tr = malloc(sizeof(trip) * 16 * (size_t)ne);
  for (int64_t e = 0; e < ne; e++) {
    double g[4][3];
    double det = test_tet_gradients(x, t + 4 * e, g);
    double sig = tag[e] == 3 ? 1.654 : tag[e] == 4 ? 0.01 : 0.465;
    double vol = det / 6.0;
    for (int a = 0; a < 4; a++)
      for (int b = 0; b < 4; b++) {
        trip *q = tr + 16 * e + 4 * a + b;
        q->i = t[4 * e + a];
        q->j = t[4 * e + b];
        q->v = sig * vol * (g[a][0] * g[b][0] + g[a][1] * g[b][1] + g[a][2] * g[b][2]);
        if (ground && (q->i == 0 || q->j == 0) && q->i != q->j) q->v = 0.0; /* ground node 0 */
      }
  }
  size_t nt = 16 * (size_t)ne;
  qsort(tr, nt, sizeof(trip), cmp_trip);
  csr A = {nn, calloc((size_t)nn + 1, sizeof(int64_t)), malloc(sizeof(int32_t) * nt), malloc(sizeof(double) * nt)};
  int64_t k = -1;
  for (size_t q = 0; q < nt; q++) {
    if (k >= 0 && tr[q].i == tr[q - 1].i && tr[q].j == tr[q - 1].j) {
      A.v[k] += tr[q].v;
      continue;
    }
    k++;
    A.ci[k] = tr[q].j;
    A.v[k] = tr[q].v;
    A.rp[tr[q].i + 1] = k + 1;
  }
  for (int64_t i = 0; i < nn; i++)
    if (A.rp[i + 1] < A.rp[i]) A.rp[i + 1] = A.rp[i];
  free(tr);
  return A;
}

static void matvec(const csr *A, const double *x, double *y) {
  for (int64_t i = 0; i < A->n; i++) {
    double s = 0;
    for (int64_t p = A->rp[i]; p < A->rp[i + 1]; p++) s += A->v[p] * x[A->ci[p]];
    y[i] = s;
  }
}

static double relres(const csr *A, const double *b, const double *x) {
  double *r = malloc(sizeof(double) * (size_t)A->n), rr = 0, bb = 0;
  matvec(A, x, r);
  for (int64_t i = 0; i < A->n; i++) rr += (b[i] - r[i]) * (b[i] - r[i]), bb += b[i] * b[i];
  free(r);
  return sqrt(rr / bb);
}

/* ||x - y|| / ||y|| */
static double reldiff(int64_t n, const double *x, const double *y) {
  double d = 0, ny = 0;
  for (int64_t i = 0; i < n; i++) d += (x[i] - y[i]) * (x[i] - y[i]), ny += y[i] * y[i];
  return sqrt(d / ny);
}

static void conformance_system(tmsf_context *ctx, const char *name, const csr *A, const char *what) {
  tmsf_solver *s;
  REQUIRE_OK(ctx, tmsf_solver_create(ctx, name, &s));
  CHECK(strcmp(tmsf_solver_get_name(s), name) == 0, "name");
  CHECK(tmsf_solver_solve(s, 1, A->v, (double *)A->v) == TMSF_ERR_STATE, "%s: solve before setup", name);
  REQUIRE_OK(ctx, tmsf_solver_setup(s, A->n, A->rp, A->ci, A->v));
  const int64_t n = A->n;
  const int nrhs = 3;
  double *b = calloc((size_t)n * nrhs, sizeof(double)), *x = calloc((size_t)n * nrhs, sizeof(double));
  double *x1 = calloc((size_t)n, sizeof(double));
  /* right-hand sides: A x_true for known x_true (consistent with the ground) */
  double *xt = malloc(sizeof(double) * (size_t)n * nrhs);
  for (int j = 0; j < nrhs; j++)
    for (int64_t i = 0; i < n; i++) xt[j * n + i] = i == 0 ? 0.0 : sin(0.37 * (double)i * (j + 1)) + 0.1 * j;
  for (int j = 0; j < nrhs; j++) matvec(A, xt + j * n, b + j * n);
  CHECK_OK(ctx, tmsf_solver_solve(s, nrhs, b, x));
  double it_multi;
  tmsf_solver_get_info(s, TMSF_SOLVER_ITERATIONS, &it_multi);
  for (int j = 0; j < nrhs; j++) {
    double rr = relres(A, b + j * n, x + j * n);
    CHECK(rr <= 1e-9, "%s %s rhs %d: relative residual %.3g > 1e-9", name, what, j, rr);
  }
  /* one at a time gives the same as the batch (to the tolerance) */
  CHECK_OK(ctx, tmsf_solver_solve(s, 1, b + n, x1));
  double d = 0, nx = 0;
  for (int64_t i = 0; i < n; i++) d += (x1[i] - x[n + i]) * (x1[i] - x[n + i]), nx += x[n + i] * x[n + i];
  CHECK(sqrt(d / nx) < 1e-6, "%s %s: batch vs single %.3g", name, what, sqrt(d / nx));
  double it_cold;
  tmsf_solver_get_info(s, TMSF_SOLVER_ITERATIONS, &it_cold);
  CHECK(it_cold > 0 && it_multi >= it_cold, "%s: iteration counts %g %g", name, it_multi, it_cold);
  /* warm start from the solution: (almost) no iterations */
  double *x_cold = malloc(sizeof(double) * (size_t)n);
  memcpy(x_cold, x1, sizeof(double) * (size_t)n);
  CHECK_OK(ctx, tmsf_solver_solve(s, 1, b + n, x1));
  double it_warm;
  tmsf_solver_get_info(s, TMSF_SOLVER_ITERATIONS, &it_warm);
  double rr_warm = relres(A, b + n, x1), d_warm = reldiff(n, x1, x_cold);
  /* warm start from a perturbed solution: fewer iterations than cold */
  for (int64_t i = 1; i < n; i++) x1[i] += 1e-6 * cos((double)i);
  CHECK_OK(ctx, tmsf_solver_solve(s, 1, b + n, x1));
  double it_near;
  tmsf_solver_get_info(s, TMSF_SOLVER_ITERATIONS, &it_near);
  double rr_near = relres(A, b + n, x1), d_near = reldiff(n, x1, x_cold);
  CHECK(rr_warm <= 1e-9 && rr_near <= 1e-9, "%s %s: warm / near start relative residual %.3g / %.3g > 1e-9",
        name, what, rr_warm, rr_near);
  if (!is_direct(name)) {
    CHECK(it_warm <= 0.2 * it_cold, "%s %s: warm start took %g iterations (cold %g)", name, what, it_warm, it_cold);
    CHECK(it_near < it_cold, "%s %s: near start %g iterations, cold %g", name, what, it_near, it_cold);
  } else {
    /* the guess is ignored: the same work and the same answer as from a
     * cold start.  1e-12: the same factor applied to the same b, so only the
     * summation order of threaded kernels may differ, far below the 1e-6
     * perturbation of the near start, which must not leak into the answer. */
    CHECK(it_warm == it_cold && it_near == it_cold, "%s %s: iterations warm %g, near %g, cold %g", name, what,
          it_warm, it_near, it_cold);
    CHECK(d_warm <= 1e-12 && d_near <= 1e-12, "%s %s: warm / near start answer differs from cold by %.3g / %.3g",
          name, what, d_warm, d_near);
  }
  free(x_cold);
  /* zero right-hand side gives zero */
  double *z = calloc((size_t)n, sizeof(double));
  for (int64_t i = 0; i < n; i++) x1[i] = 1.0;
  CHECK_OK(ctx, tmsf_solver_solve(s, 1, z, x1));
  int allzero = 1;
  for (int64_t i = 0; i < n; i++) allzero &= x1[i] == 0.0;
  CHECK(allzero, "%s: zero rhs", name);
  /* non-finite right-hand side rejected */
  z[3] = NAN;
  CHECK(tmsf_solver_solve(s, 1, z, x1) == TMSF_ERR_NUMERIC, "%s: NaN rhs", name);
  if (is_direct(name)) {
    /* a tolerance below rounding (1e-18) cannot be met: the solver must take
     * its step of iterative refinement, then fail with CONVERGENCE and report
     * the residual it reached (still the 1e-9 of the checks above) */
    CHECK_OK(ctx, tmsf_solver_set_tolerance(s, 1e-18));
    int ierr = tmsf_solver_solve(s, 1, b, x1);
    double it_ref, res_ref;
    tmsf_solver_get_info(s, TMSF_SOLVER_ITERATIONS, &it_ref);
    tmsf_solver_get_info(s, TMSF_SOLVER_RESIDUAL, &res_ref);
    CHECK(ierr == TMSF_ERR_CONVERGENCE && it_ref == 2 && res_ref > 1e-18 && res_ref <= 1e-9,
          "%s %s: unreachable tolerance gives %d after %g solves, residual %.3g", name, what, ierr, it_ref, res_ref);
    CHECK(strstr(tmsf_context_last_error(ctx), "refinement"), "%s: %s", name, tmsf_context_last_error(ctx));
    CHECK_OK(ctx, tmsf_solver_set_tolerance(s, 1e-10));
  }
  printf("%-8s %-10s n=%-7lld iterations %g (3 rhs), %g (1 rhs), %g (warm), %g (near)\n", name, what,
         (long long)n, it_multi, it_cold, it_warm, it_near);
  free(z);
  free(b), free(x), free(x1), free(xt);
  tmsf_solver_destroy(&s);
}

/* Setup, then (if it succeeds) a solve of b; stdout and stderr must stay
 * silent.  Returns the status of the first failing call. */
static int quiet_setup_solve(tmsf_solver *s, int64_t n, const int64_t *rp, const int32_t *ci, const double *v,
                             const double *b, double *x, int *setup_failed) {
  capture c;
  char text[512];
  capture_begin(&c);
  int ierr = tmsf_solver_setup(s, n, rp, ci, v);
  *setup_failed = ierr != 0;
  if (ierr == 0) ierr = tmsf_solver_solve(s, 1, b, x);
  long printed = capture_end(&c, text, sizeof(text));
  CHECK(printed == 0, "%s printed %ld bytes while rejecting a matrix: %s", tmsf_solver_get_name(s), printed, text);
  return ierr;
}

static void conformance_reject(tmsf_context *ctx, const char *name, const csr *singular[2]) {
  tmsf_solver *s;
  REQUIRE_OK(ctx, tmsf_solver_create(ctx, name, &s));
  /* indefinite but with a positive diagonal: [[1 2][2 1]] */
  int64_t rp[3] = {0, 2, 4};
  int32_t ci[4] = {0, 1, 0, 1};
  double v[4] = {1, 2, 2, 1};
  double b[2] = {1, 0}, x[2] = {0, 0};
  int setup_failed;
  int ierr = quiet_setup_solve(s, 2, rp, ci, v, b, x, &setup_failed);
  CHECK(ierr == TMSF_ERR_NUMERIC, "%s: indefinite matrix gives %d", name, ierr);
  CHECK(!is_direct(name) || setup_failed, "%s: a direct solver rejects the indefinite matrix in setup", name);
  CHECK(strstr(tmsf_context_last_error(ctx), "positive definite"), "%s: %s", name, tmsf_context_last_error(ctx));
  /* negative diagonal */
  double vn[4] = {-1, 0, 0, 1};
  CHECK(tmsf_solver_setup(s, 2, rp, ci, vn) == TMSF_ERR_NUMERIC, "%s: negative diagonal", name);
  CHECK(strstr(tmsf_context_last_error(ctx), "row 0"), "%s: %s", name, tmsf_context_last_error(ctx));
  /* asymmetric */
  double va[4] = {2, 1, 0.5, 2};
  CHECK(tmsf_solver_setup(s, 2, rp, ci, va) == TMSF_ERR_NUMERIC, "%s: asymmetric", name);
  /* non-finite */
  double vf[4] = {2, INFINITY, INFINITY, 2};
  CHECK(tmsf_solver_setup(s, 2, rp, ci, vf) == TMSF_ERR_NUMERIC, "%s: infinite entry", name);
  /* unsorted and out-of-range columns */
  int32_t cu[4] = {1, 0, 0, 1};
  CHECK(tmsf_solver_setup(s, 2, rp, cu, v) == TMSF_ERR_ARGUMENT, "%s: unsorted", name);
  int32_t co[4] = {0, 2, 0, 1};
  CHECK(tmsf_solver_setup(s, 2, rp, co, v) == TMSF_ERR_ARGUMENT, "%s: out of range", name);
  /* singular (pure Neumann Laplacian of a path graph) with an inconsistent rhs */
  enum { N = 50 };
  int64_t prp[N + 1];
  int32_t pci[3 * N];
  double pv[3 * N], pb[N], px[N];
  int64_t k = 0;
  for (int i = 0; i < N; i++) {
    prp[i] = k;
    if (i > 0) pci[k] = i - 1, pv[k++] = -1;
    pci[k] = i, pv[k++] = (i == 0 || i == N - 1) ? 1 : 2;
    if (i < N - 1) pci[k] = i + 1, pv[k++] = -1;
    pb[i] = 1.0, px[i] = 0.0;
  }
  prp[N] = k;
  CHECK_OK(ctx, tmsf_solver_set_max_iterations(s, 500));
  ierr = quiet_setup_solve(s, N, prp, pci, pv, pb, px, &setup_failed);
  if (!is_direct(name)) {
    CHECK(ierr == TMSF_ERR_CONVERGENCE || ierr == TMSF_ERR_NUMERIC, "%s: singular inconsistent system gives %d", name,
          ierr);
  } else {
    /* a direct solver finds the singularity when it factors the matrix: an
     * exactly zero or negative pivot (this matrix, with integer entries), or
     * one at rounding level (the ungrounded stiffness matrices) */
    CHECK(ierr == TMSF_ERR_NUMERIC && setup_failed, "%s: singular path Laplacian gives %d (in %s)", name, ierr,
          setup_failed ? "setup" : "solve");
    CHECK(strstr(tmsf_context_last_error(ctx), "positive definite"), "%s: %s", name, tmsf_context_last_error(ctx));
    for (int k = 0; k < 2; k++) {
      const csr *S = singular[k];
      double *sb = malloc(sizeof(double) * (size_t)S->n), *sx = calloc((size_t)S->n, sizeof(double));
      for (int64_t i = 0; i < S->n; i++) sb[i] = 1.0;
      ierr = quiet_setup_solve(s, S->n, S->rp, S->ci, S->v, sb, sx, &setup_failed);
      CHECK(ierr == TMSF_ERR_NUMERIC && setup_failed, "%s: ungrounded stiffness %d (n=%lld) gives %d (in %s)", name,
            k, (long long)S->n, ierr, setup_failed ? "setup" : "solve");
      printf("%-8s rejects the ungrounded stiffness (n=%lld): %s\n", name, (long long)S->n,
             tmsf_context_last_error(ctx));
      free(sb), free(sx);
    }
  }
  CHECK(tmsf_solver_set_tolerance(s, 0.0) == TMSF_ERR_ARGUMENT, "tolerance 0");
  CHECK(tmsf_solver_set_max_iterations(s, 0) == TMSF_ERR_ARGUMENT, "max iterations 0");
  tmsf_solver_destroy(&s);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  int ns;
  const char *const *names;
  CHECK_OK(ctx, tmsf_solver_list(&ns, &names));
  CHECK(ns >= 1, "at least one solver");
  tmsf_solver *s = NULL;
  CHECK(tmsf_solver_create(ctx, "cgg", &s) == TMSF_ERR_NOT_FOUND && s == NULL, "unknown name");
  CHECK(strstr(tmsf_context_last_error(ctx), "did you mean 'cg'"), "%s", tmsf_context_last_error(ctx));

  tmsf_mesh *box, *sphere;
  REQUIRE_OK(ctx, test_box_mesh(ctx, 12, 0.005, 3, &box)); /* 2,197 unknowns: more than one AMG level */
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &sphere));
  csr A1 = laplacian(box, 1), A2 = laplacian(sphere, 1);
  csr S1 = laplacian(box, 0), S2 = laplacian(sphere, 0);
  const csr *singular[2] = {&S1, &S2};
  for (int i = 0; i < ns; i++) {
    conformance_system(ctx, names[i], &A1, "box");
    conformance_system(ctx, names[i], &A2, "sphere3");
    conformance_reject(ctx, names[i], singular);
  }
  free(A1.rp), free(A1.ci), free(A1.v), free(A2.rp), free(A2.ci), free(A2.v);
  free(S1.rp), free(S1.ci), free(S1.v), free(S2.rp), free(S2.ci), free(S2.v);
  tmsf_mesh_destroy(&box);
  tmsf_mesh_destroy(&sphere);
  tmsf_context_destroy(&ctx);
  return test_summary("solver");
}

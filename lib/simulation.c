/*
 * SPDX-License-Identifier: BSD-3-Clause
 * simulation.c: P1 finite elements for the TMS problem.
 *
 *   K_ij = sum_e sigma_e V_e g_i . g_j
 *   b_i  = - sum_e sigma_e V_e a_e . g_i      (a_e: element mean of nodal dA/dt)
 *   E_e  = - sum_i phi_i g_i - a_e
 *
 * Assembly and right-hand side are gathered row by row over the node's
 * tetrahedra in increasing order, so they are deterministic for any thread
 * count without atomics.  phi is fixed to 0 at node 0 (its row and column
 * become the diagonal only).
 */
#include <string.h>

#include "tmsf-impl.h"

struct tmsf_simulation {
  tmsf_context *ctx;
  const tmsf_mesh *mesh;
  char solver_name[64];
  double rtol;
  int is_setup;
  /* per element */
  double *vol;   /* m^3 */
  double *grad;  /* 12 per element, 1/m */
  double *sigma; /* S/m */
  /* matrix */
  int64_t n;
  int64_t *row_ptr;
  int32_t *cols;
  double *vals;
  int64_t *diag_pos; /* position of (i, i) */
  int32_t *local;    /* for each adjacency entry (node_tet), the node's local index 0..3 */
  int32_t ground;
  tmsf_solver *solver;
  /* per-pose buffers */
  double *dadt; /* 3 per node */
  double *w;    /* 3 per element */
  double *b;
  double *phi;
  double last_didt;
  int have_phi;
  /* statistics */
  double t_assembly, t_setup, t_primary, t_rhs, t_solve, t_field, iterations, residual;
  int64_t outside;
};

int tmsf_simulation_create(tmsf_context *ctx, const tmsf_mesh *mesh, tmsf_simulation **sim) {
  if (!ctx || !mesh || !sim) return TMSF_ERR_ARGUMENT;
  *sim = calloc(1, sizeof(**sim));
  if (!*sim) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  (*sim)->ctx = ctx;
  (*sim)->mesh = mesh;
  snprintf((*sim)->solver_name, sizeof((*sim)->solver_name), "cg");
  (*sim)->rtol = 1e-10;
  return TMSF_SUCCESS;
}

static void sim_free_setup(tmsf_simulation *s) {
  free(s->vol), s->vol = NULL;
  free(s->grad), s->grad = NULL;
  free(s->sigma), s->sigma = NULL;
  free(s->row_ptr), s->row_ptr = NULL;
  free(s->cols), s->cols = NULL;
  free(s->vals), s->vals = NULL;
  free(s->diag_pos), s->diag_pos = NULL;
  free(s->local), s->local = NULL;
  free(s->dadt), s->dadt = NULL;
  free(s->w), s->w = NULL;
  free(s->b), s->b = NULL;
  free(s->phi), s->phi = NULL;
  tmsf_solver_destroy(&s->solver);
  s->is_setup = 0;
  s->have_phi = 0;
}

int tmsf_simulation_destroy(tmsf_simulation **sim) {
  if (!sim || !*sim) return TMSF_SUCCESS;
  sim_free_setup(*sim);
  free(*sim);
  *sim = NULL;
  return TMSF_SUCCESS;
}

int tmsf_simulation_set_solver(tmsf_simulation *sim, const char *name) {
  if (!sim || !name) return TMSF_ERR_ARGUMENT;
  int n;
  const char *const *names;
  tmsf_solver_list(&n, &names);
  tmsf_solver *probe;
  TMSF_CALL(tmsf_solver_create(sim->ctx, name, &probe)); /* validates the name */
  tmsf_solver_destroy(&probe);
  snprintf(sim->solver_name, sizeof(sim->solver_name), "%s", name);
  if (sim->is_setup) sim_free_setup(sim);
  return TMSF_SUCCESS;
}

int tmsf_simulation_set_tolerance(tmsf_simulation *sim, double rtol) {
  if (!sim) return TMSF_ERR_ARGUMENT;
  if (!(rtol > 0.0 && rtol < 1.0))
    return TMSF_ERROR(sim->ctx, TMSF_ERR_ARGUMENT, "tolerance must be in (0, 1), got %g", rtol);
  sim->rtol = rtol;
  if (sim->solver) TMSF_CALL(tmsf_solver_set_tolerance(sim->solver, rtol));
  return TMSF_SUCCESS;
}

/* Sparsity pattern: row i holds the nodes of the tetrahedra around i, sorted. */
static int build_pattern(tmsf_simulation *s) {
  const tmsf_mesh *m = s->mesh;
  const int64_t nn = m->num_nodes;
  const int nt = tmsf_threads(s->ctx);
  (void)nt; /* unused in a build without OpenMP */
  s->row_ptr = tmsf_calloc_array((size_t)nn + 1, sizeof(int64_t));
  if (!s->row_ptr) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "assembly: out of memory");
  int overflow = 0;
  for (int pass = 0; pass < 2; pass++) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 512) num_threads(nt) reduction(| : overflow)
#endif
    for (int64_t i = 0; i < nn; i++) {
      int32_t nb[1024];
      int k = 0;
      for (int64_t p = m->node_tet_ptr[i]; p < m->node_tet_ptr[i + 1]; p++) {
        const int32_t *t = m->tets + 4 * (int64_t)m->node_tet[p];
        for (int a = 0; a < 4; a++) {
          int32_t j = t[a];
          /* insertion into a sorted list without duplicates */
          int lo = 0, hi = k;
          while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (nb[mid] < j) lo = mid + 1;
            else hi = mid;
          }
          if (lo < k && nb[lo] == j) continue;
          if (k == 1024) {
            overflow = 1;
            continue;
          }
          memmove(nb + lo + 1, nb + lo, (size_t)(k - lo) * sizeof(int32_t));
          nb[lo] = j;
          k++;
        }
      }
      if (pass == 0)
        s->row_ptr[i + 1] = k;
      else
        memcpy(s->cols + s->row_ptr[i], nb, (size_t)k * sizeof(int32_t));
    }
    if (overflow)
      return TMSF_ERROR(s->ctx, TMSF_ERR_MESH, "a node has more than 1024 neighbours; the mesh is "
                                               "too irregular for assembly");
    if (pass == 0) {
      for (int64_t i = 0; i < nn; i++) s->row_ptr[i + 1] += s->row_ptr[i];
      s->cols = tmsf_malloc_array((size_t)s->row_ptr[nn], sizeof(int32_t));
      s->vals = tmsf_malloc_array((size_t)s->row_ptr[nn], sizeof(double));
      if (!s->cols || !s->vals) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "assembly: out of memory");
    }
  }
  return TMSF_SUCCESS;
}

static int64_t find_col(const int32_t *cols, int64_t lo, int64_t hi, int32_t j) {
  hi--;
  while (lo <= hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (cols[mid] == j) return mid;
    if (cols[mid] < j) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

int tmsf_simulation_setup(tmsf_simulation *s) {
  if (!s) return TMSF_ERR_ARGUMENT;
  const tmsf_mesh *m = s->mesh;
  const int64_t nn = m->num_nodes, ne = m->num_tets;
  const int nt = tmsf_threads(s->ctx);
  (void)nt; /* unused in a build without OpenMP */
  sim_free_setup(s);
  double t0 = tmsf_wtime();
  int ierr;
  s->sigma = tmsf_malloc_array((size_t)ne, sizeof(double));
  if (!s->sigma) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "setup: out of memory");
  ierr = tmsf_mesh_tet_conductivities(m, s->sigma);
  if (ierr) goto fail;
  s->vol = tmsf_malloc_array((size_t)ne, sizeof(double));
  s->grad = tmsf_malloc_array((size_t)ne * 12, sizeof(double));
  s->local = tmsf_malloc_array((size_t)ne * 4, sizeof(int32_t));
  s->dadt = tmsf_malloc_array((size_t)nn * 3, sizeof(double));
  s->w = tmsf_malloc_array((size_t)ne * 3, sizeof(double));
  s->b = tmsf_malloc_array((size_t)nn, sizeof(double));
  s->phi = tmsf_calloc_array((size_t)nn, sizeof(double));
  s->diag_pos = tmsf_malloc_array((size_t)nn, sizeof(int64_t));
  if (!s->vol || !s->grad || !s->local || !s->dadt || !s->w || !s->b || !s->phi || !s->diag_pos) {
    ierr = TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "setup: out of memory for %lld tetrahedra", (long long)ne);
    goto fail;
  }
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
  for (int64_t e = 0; e < ne; e++) {
    double g[4][3];
    s->vol[e] = tmsf_tet_geometry(m->nodes, m->tets + 4 * e, g);
    memcpy(s->grad + 12 * e, g, sizeof(g));
  }
  /* local index of each node within each of its tetrahedra */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
  for (int64_t i = 0; i < nn; i++)
    for (int64_t p = m->node_tet_ptr[i]; p < m->node_tet_ptr[i + 1]; p++) {
      const int32_t *t = m->tets + 4 * (int64_t)m->node_tet[p];
      int a = 0;
      while (a < 3 && t[a] != i) a++;
      s->local[p] = a;
    }
  ierr = build_pattern(s);
  if (ierr) goto fail;
  /* values, row by row */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 512) num_threads(nt)
#endif
  for (int64_t i = 0; i < nn; i++) {
    const int64_t r0 = s->row_ptr[i], r1 = s->row_ptr[i + 1];
    for (int64_t q = r0; q < r1; q++) s->vals[q] = 0.0;
    for (int64_t p = m->node_tet_ptr[i]; p < m->node_tet_ptr[i + 1]; p++) {
      const int64_t e = m->node_tet[p];
      const int a = s->local[p];
      const double *g = s->grad + 12 * e;
      const double c = s->sigma[e] * s->vol[e];
      const int32_t *t = m->tets + 4 * e;
      for (int bb = 0; bb < 4; bb++) {
        double kab = c * (g[3 * a] * g[3 * bb] + g[3 * a + 1] * g[3 * bb + 1] + g[3 * a + 2] * g[3 * bb + 2]);
        s->vals[find_col(s->cols, r0, r1, t[bb])] += kab;
      }
    }
    s->diag_pos[i] = find_col(s->cols, r0, r1, (int32_t)i);
  }
  /* ground node 0: keep only its diagonal, in its row and its column */
  s->ground = 0;
  {
    const int32_t g = s->ground;
    for (int64_t q = s->row_ptr[g]; q < s->row_ptr[g + 1]; q++) {
      int32_t j = s->cols[q];
      if (j == g) continue;
      s->vals[q] = 0.0;
      int64_t qt = find_col(s->cols, s->row_ptr[j], s->row_ptr[j + 1], g);
      if (qt >= 0) s->vals[qt] = 0.0;
    }
  }
  s->n = nn;
  s->t_assembly = tmsf_wtime() - t0;
  t0 = tmsf_wtime();
  ierr = tmsf_solver_create(s->ctx, s->solver_name, &s->solver);
  if (ierr) goto fail;
  ierr = tmsf_solver_set_tolerance(s->solver, s->rtol);
  if (ierr) goto fail;
  ierr = tmsf_solver_set_max_iterations(s->solver, 20000 + nn / 10);
  if (ierr) goto fail;
  ierr = tmsf_solver_setup(s->solver, nn, s->row_ptr, s->cols, s->vals);
  if (ierr) goto fail;
  s->t_setup = tmsf_wtime() - t0;
  s->is_setup = 1;
  return TMSF_SUCCESS;
fail:
  sim_free_setup(s);
  return ierr;
}

int tmsf_simulation_solve(tmsf_simulation *s, const tmsf_coil *coil,
                          const double head_from_coil_m[16], double didt_A_per_s,
                          tmsf_field **field) {
  if (!s || !coil || !head_from_coil_m || !field) return TMSF_ERR_ARGUMENT;
  *field = NULL;
  if (!s->is_setup)
    return TMSF_ERROR(s->ctx, TMSF_ERR_STATE, "tmsf_simulation_solve before tmsf_simulation_setup");
  TMSF_CALL(tmsf_pose_check(s->ctx, head_from_coil_m));
  if (!isfinite(didt_A_per_s))
    return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "dI/dt must be finite, got %g A/s", didt_A_per_s);
  const tmsf_mesh *m = s->mesh;
  const int64_t nn = m->num_nodes, ne = m->num_tets;
  const int nt = tmsf_threads(s->ctx);
  (void)nt; /* unused in a build without OpenMP */
  tmsf_field *f;
  TMSF_CALL(tmsf_field_alloc(s->ctx, m, &f));
  double t0 = tmsf_wtime();
  /* primary field at the nodes: coil->ctx may differ; errors land in the coil's context */
  int ierr = tmsf_coil_primary_field(coil, head_from_coil_m, didt_A_per_s, nn, m->nodes, s->dadt, &s->outside);
  if (ierr) {
    if (coil->ctx != s->ctx) TMSF_ERROR(s->ctx, ierr, "%s", tmsf_context_last_error(coil->ctx));
    tmsf_field_destroy(&f);
    return ierr;
  }
  double t1 = tmsf_wtime();
  /* w_e = sigma_e V_e a_e */
  const double *dadt = s->dadt;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
  for (int64_t e = 0; e < ne; e++) {
    const int32_t *t = m->tets + 4 * e;
    double c = 0.25 * s->sigma[e] * s->vol[e];
    for (int k = 0; k < 3; k++)
      s->w[3 * e + k] = c * (dadt[3 * (int64_t)t[0] + k] + dadt[3 * (int64_t)t[1] + k] +
                             dadt[3 * (int64_t)t[2] + k] + dadt[3 * (int64_t)t[3] + k]);
  }
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 1024) num_threads(nt)
#endif
  for (int64_t i = 0; i < nn; i++) {
    double acc = 0.0;
    for (int64_t p = m->node_tet_ptr[i]; p < m->node_tet_ptr[i + 1]; p++) {
      const int64_t e = m->node_tet[p];
      const double *g = s->grad + 12 * e + 3 * s->local[p];
      acc += s->w[3 * e] * g[0] + s->w[3 * e + 1] * g[1] + s->w[3 * e + 2] * g[2];
    }
    s->b[i] = -acc;
  }
  s->b[s->ground] = 0.0;
  double t2 = tmsf_wtime();
  /* warm start: previous solution scaled to the new dI/dt */
  if (s->have_phi && s->last_didt != 0.0) {
    double scale = didt_A_per_s / s->last_didt;
    for (int64_t i = 0; i < nn; i++) f->phi[i] = scale * s->phi[i];
  } else {
    memset(f->phi, 0, (size_t)nn * sizeof(double));
  }
  f->phi[s->ground] = 0.0;
  ierr = tmsf_solver_solve(s->solver, 1, s->b, f->phi);
  double it = 0, res = 0;
  tmsf_solver_get_info(s->solver, TMSF_SOLVER_ITERATIONS, &it);
  tmsf_solver_get_info(s->solver, TMSF_SOLVER_RESIDUAL, &res);
  s->iterations = it;
  s->residual = res;
  if (ierr) {
    tmsf_field_destroy(&f);
    s->have_phi = 0;
    return ierr;
  }
  memcpy(s->phi, f->phi, (size_t)nn * sizeof(double));
  s->last_didt = didt_A_per_s;
  s->have_phi = 1;
  double t3 = tmsf_wtime();
  /* E_e = -sum phi_i g_i - a_e */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
  for (int64_t e = 0; e < ne; e++) {
    const int32_t *t = m->tets + 4 * e;
    const double *g = s->grad + 12 * e;
    for (int k = 0; k < 3; k++) {
      double gp = 0.0, a = 0.0;
      for (int q = 0; q < 4; q++) {
        gp += f->phi[t[q]] * g[3 * q + k];
        a += dadt[3 * (int64_t)t[q] + k];
      }
      f->E[3 * e + k] = -gp - 0.25 * a;
    }
    f->sigma[e] = s->sigma[e];
  }
  f->didt = didt_A_per_s;
  double t4 = tmsf_wtime();
  s->t_primary = t1 - t0;
  s->t_rhs = t2 - t1;
  s->t_solve = t3 - t2;
  s->t_field = t4 - t3;
  *field = f;
  return TMSF_SUCCESS;
}

int tmsf_simulation_get_info(const tmsf_simulation *s, tmsf_simulation_info what, double *value) {
  if (!s || !value) return TMSF_ERR_ARGUMENT;
  switch (what) {
  case TMSF_SIM_ASSEMBLY_SECONDS: *value = s->t_assembly; break;
  case TMSF_SIM_SETUP_SECONDS: *value = s->t_setup; break;
  case TMSF_SIM_PRIMARY_SECONDS: *value = s->t_primary; break;
  case TMSF_SIM_RHS_SECONDS: *value = s->t_rhs; break;
  case TMSF_SIM_SOLVE_SECONDS: *value = s->t_solve; break;
  case TMSF_SIM_FIELD_SECONDS: *value = s->t_field; break;
  case TMSF_SIM_ITERATIONS: *value = s->iterations; break;
  case TMSF_SIM_RESIDUAL: *value = s->residual; break;
  case TMSF_SIM_NODES_OUTSIDE_COIL_GRID: *value = (double)s->outside; break;
  case TMSF_SIM_MATRIX_NONZEROS: *value = s->row_ptr ? (double)s->row_ptr[s->n] : 0.0; break;
  case TMSF_SIM_MEMORY_BYTES: {
    const double ne = (double)s->mesh->num_tets, nn = (double)s->mesh->num_nodes;
    double nnz = s->row_ptr ? (double)s->row_ptr[s->n] : 0.0;
    double solver_mem = 0.0;
    if (s->solver) tmsf_solver_get_info(s->solver, TMSF_SOLVER_MEMORY_BYTES, &solver_mem);
    *value = s->is_setup ? ne * (8 + 96 + 8 + 16 + 24) + nn * (8 + 8 + 24 + 8 + 8) + nnz * 12 + solver_mem : 0.0;
    break;
  }
  default: return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "unknown simulation info %d", (int)what);
  }
  return TMSF_SUCCESS;
}

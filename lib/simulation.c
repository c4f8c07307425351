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
 * count without atomics.  Internally nodes and tetrahedra are renumbered along
 * a Morton curve for memory locality.  phi is fixed to 0 at one node (its row
 * and column become the diagonal only).
 */
#include <string.h>

#include "solver-impl.h"
#include "tmsf-impl.h"

/* Solutions kept for the initial guesses of later solves. */
#define RECYCLE_MAX 8

struct tmsf_simulation {
  tmsf_context *ctx;
  const tmsf_mesh *mesh;
  char solver_name[64];   /* as requested ("auto": chosen at setup) */
  char solver_chosen[64];  /* the one in use after setup */
  double rtol;       /* residual rule (tmsf_simulation_set_tolerance) */
  double field_tol;  /* field rule (tmsf_simulation_set_field_tolerance); 0: residual rule */
  double energy_tol; /* the solver's energy tolerance derived from field_tol at setup */
  int is_setup;
  /* Internal numbering: nodes and tetrahedra sorted along a Morton (Z-order)
   * curve, so that the gathers of assembly, right-hand side, matrix-vector
   * products and fields touch nearby memory.  nperm/tperm map internal to
   * mesh indices; fields are returned in the mesh's numbering. */
  int32_t *nperm, *tperm;
  double *xyz;      /* 3 per node, metres, internal order */
  int32_t *tet;     /* 4 per tetrahedron, internal node indices */
  int64_t *nt_ptr;  /* node -> tetrahedra (internal), num_nodes + 1 */
  int32_t *nt;      /* tetrahedra of each node, increasing */
  int8_t *local;    /* for each nt entry, the node's local index 0..3 */
  /* per element (internal order) */
  double *vol;   /* m^3 */
  double *grad;  /* gradients of shape functions 1..3, 9 per element, 1/m (that of
                    function 0 is minus their sum, see grad4) */
  double *sigma; /* S/m */
  /* matrix */
  int64_t n;
  int64_t *row_ptr;
  int32_t *cols;
  double *vals;
  int32_t ground;
  tmsf_solver *solver;
  /* per-pose buffers (internal order) */
  double *dadt; /* 3 per node */
  double *w;    /* 3 per element */
  double *w_part; /* per block of elements: partial energies */
  double *b;
  double *phi;
  double *x;    /* solution of the current solve */
  /* what s->dadt holds, so that rhs + field_from_potential of one pose
   * evaluate the primary field once */
  const tmsf_coil *dadt_coil;
  double dadt_pose[16], dadt_didt;
  int dadt_valid;
  double last_didt;
  int have_phi;
  /* Recycled solutions: the last RECYCLE_MAX potentials and their right-hand
   * sides, whose span gives the initial guess of the next solve (a Galerkin
   * projection, see initial_guess); slots are allocated as they are filled. */
  double *rv[RECYCLE_MAX], *rb[RECYCLE_MAX];
  int rcount, rnext;
  double rw[RECYCLE_MAX * RECYCLE_MAX]; /* W_ij = v_i . b_j = v_i^T K v_j */
  /* statistics */
  double t_assembly, t_setup, t_primary, t_rhs, t_solve, t_field, iterations, residual;
  int64_t outside;
  /* primary field */
  tmsf_primary_method primary_method;
  tmsf_primary_grid *pgrid; /* tabulated coil, built on first use (per coil) */
  uint64_t primary_seen;    /* AUTO: uid of the coil of the last direct evaluation */
  int primary_batch;        /* AUTO: poses of the current solve_many call */
  double head_radius;       /* nodes' largest distance from the bounding-box centre, m */
  double t_pgrid;
  double pgrid_error; /* last pose: the table's measured error */
  int last_primary;
};

int tmsf_simulation_create(tmsf_context *ctx, const tmsf_mesh *mesh, tmsf_simulation **sim) {
  if (!ctx || !mesh || !sim) return TMSF_ERR_ARGUMENT;
  *sim = calloc(1, sizeof(**sim));
  if (!*sim) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  (*sim)->ctx = ctx;
  (*sim)->mesh = mesh;
  snprintf((*sim)->solver_name, sizeof((*sim)->solver_name), "%s", TMSF_DEFAULT_SOLVER);
  (*sim)->rtol = 1e-10;
  (*sim)->field_tol = 1e-4;
  return TMSF_SUCCESS;
}

static void sim_free_setup(tmsf_simulation *s) {
  tmsf_primary_grid_free(s->pgrid);
  s->pgrid = NULL;
  void **arrays[] = {(void **)&s->nperm, (void **)&s->tperm, (void **)&s->xyz, (void **)&s->tet,
                     (void **)&s->nt_ptr, (void **)&s->nt, (void **)&s->local, (void **)&s->vol,
                     (void **)&s->grad, (void **)&s->sigma, (void **)&s->row_ptr, (void **)&s->cols,
                     (void **)&s->vals, (void **)&s->dadt, (void **)&s->w, (void **)&s->w_part, (void **)&s->b,
                     (void **)&s->phi, (void **)&s->x};
  for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
    free(*arrays[i]);
    *arrays[i] = NULL;
  }
  tmsf_solver_destroy(&s->solver);
  s->is_setup = 0;
  s->have_phi = 0;
  s->dadt_valid = 0;
  for (int k = 0; k < RECYCLE_MAX; k++) {
    free(s->rv[k]), free(s->rb[k]);
    s->rv[k] = s->rb[k] = NULL;
  }
  s->rcount = s->rnext = 0;
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
  if (strcmp(name, "auto") != 0) {
    tmsf_solver *probe;
    TMSF_CALL(tmsf_solver_create(sim->ctx, name, &probe)); /* validates the name */
    tmsf_solver_destroy(&probe);
  }
  snprintf(sim->solver_name, sizeof(sim->solver_name), "%s", name);
  if (sim->is_setup) sim_free_setup(sim);
  return TMSF_SUCCESS;
}

int tmsf_simulation_set_tolerance(tmsf_simulation *sim, double rtol) {
  if (!sim) return TMSF_ERR_ARGUMENT;
  if (!(rtol > 0.0 && rtol < 1.0))
    return TMSF_ERROR(sim->ctx, TMSF_ERR_ARGUMENT, "tolerance must be in (0, 1), got %g", rtol);
  sim->rtol = rtol;
  sim->field_tol = 0.0;
  if (sim->solver) TMSF_CALL(tmsf_solver_set_tolerance(sim->solver, rtol));
  return TMSF_SUCCESS;
}

int tmsf_simulation_set_field_tolerance(tmsf_simulation *sim, double rel_E) {
  if (!sim) return TMSF_ERR_ARGUMENT;
  if (!(rel_E > 0.0 && rel_E < 1.0))
    return TMSF_ERROR(sim->ctx, TMSF_ERR_ARGUMENT, "field tolerance must be in (0, 1), got %g", rel_E);
  sim->field_tol = rel_E;
  if (sim->is_setup) sim->energy_tol = 0.0; /* recomputed below */
  if (sim->is_setup) {
    double smin = INFINITY, smax = 0.0;
    for (int64_t e = 0; e < sim->mesh->num_tets; e++) {
      if (sim->sigma[e] < smin) smin = sim->sigma[e];
      if (sim->sigma[e] > smax) smax = sim->sigma[e];
    }
    /* solvers without the energy rule keep their residual rule (rtol) */
    sim->energy_tol = tmsf_solver_has_energy_rule(sim->solver) ? rel_E / sqrt(smax / smin) : 0.0;
  }
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Internal numbering along a Morton curve                                   */
/* ------------------------------------------------------------------------- */

typedef struct keyed {
  uint64_t key;
  int32_t idx;
} keyed;

/* Spread the low 21 bits of v so that they occupy every third bit. */
static uint64_t spread3(uint64_t v) {
  v &= 0x1fffff;
  v = (v | v << 32) & 0x1f00000000ffffULL;
  v = (v | v << 16) & 0x1f0000ff0000ffULL;
  v = (v | v << 8) & 0x100f00f00f00f00fULL;
  v = (v | v << 4) & 0x10c30c30c30c30c3ULL;
  v = (v | v << 2) & 0x1249249249249249ULL;
  return v;
}

static uint64_t morton(const double x[3], const double lo[3], const double scale[3]) {
  uint64_t q[3];
  for (int c = 0; c < 3; c++) {
    double f = (x[c] - lo[c]) * scale[c];
    q[c] = f <= 0.0 ? 0 : f >= 2097151.0 ? 2097151 : (uint64_t)f;
  }
  return spread3(q[0]) | spread3(q[1]) << 1 | spread3(q[2]) << 2;
}

/* Stable LSD radix sort of (key, idx) pairs on 63-bit keys, 16 bits a pass. */
static int radix_sort(keyed *a, int64_t n) {
  keyed *tmp = tmsf_malloc_array((size_t)n, sizeof(keyed));
  int64_t *count = tmsf_malloc_array(65536, sizeof(int64_t));
  if (!tmp || !count) {
    free(tmp), free(count);
    return TMSF_ERR_MEMORY;
  }
  keyed *src = a, *dst = tmp;
  for (int pass = 0; pass < 4; pass++) {
    int shift = 16 * pass;
    memset(count, 0, 65536 * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) count[(src[i].key >> shift) & 0xffff]++;
    int64_t sum = 0;
    for (int d = 0; d < 65536; d++) {
      int64_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (int64_t i = 0; i < n; i++) dst[count[(src[i].key >> shift) & 0xffff]++] = src[i];
    keyed *t = src;
    src = dst;
    dst = t;
  }
  /* after an even number of passes the result is back in a */
  free(tmp);
  free(count);
  return TMSF_SUCCESS;
}

/* Build the internal numbering and the internal copies of the mesh arrays. */
static int build_internal_mesh(tmsf_simulation *s) {
  const tmsf_mesh *m = s->mesh;
  const int64_t nn = m->num_nodes, ne = m->num_tets;
  const int nth = tmsf_threads(s->ctx);
  (void)nth; /* unused in a build without OpenMP */
  double lo[3], hi[3], scale[3];
  tmsf_mesh_get_bounds(m, lo, hi);
  for (int c = 0; c < 3; c++) scale[c] = hi[c] > lo[c] ? 2097151.0 / (hi[c] - lo[c]) : 0.0;
  keyed *k = tmsf_malloc_array((size_t)(nn > ne ? nn : ne), sizeof(keyed));
  int32_t *ninv = tmsf_malloc_array((size_t)nn, sizeof(int32_t));
  s->nperm = tmsf_malloc_array((size_t)nn, sizeof(int32_t));
  s->tperm = tmsf_malloc_array((size_t)ne, sizeof(int32_t));
  s->xyz = tmsf_malloc_array((size_t)nn * 3, sizeof(double));
  s->tet = tmsf_malloc_array((size_t)ne * 4, sizeof(int32_t));
  s->nt_ptr = tmsf_calloc_array((size_t)nn + 1, sizeof(int64_t));
  s->nt = tmsf_malloc_array((size_t)ne * 4, sizeof(int32_t));
  s->local = tmsf_malloc_array((size_t)ne * 4, sizeof(int8_t));
  if (!k || !ninv || !s->nperm || !s->tperm || !s->xyz || !s->tet || !s->nt_ptr || !s->nt || !s->local) {
    free(k), free(ninv);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "setup: out of memory for %lld tetrahedra", (long long)ne);
  }
  /* nodes */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth)
#endif
  for (int64_t i = 0; i < nn; i++) {
    k[i].key = morton(m->nodes + 3 * i, lo, scale);
    k[i].idx = (int32_t)i;
  }
  if (radix_sort(k, nn)) {
    free(k), free(ninv);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "setup: out of memory");
  }
  for (int64_t i = 0; i < nn; i++) {
    s->nperm[i] = k[i].idx;
    ninv[k[i].idx] = (int32_t)i;
  }
  /* tetrahedra, by the Morton code of their centroid */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth)
#endif
  for (int64_t e = 0; e < ne; e++) {
    const int32_t *t = m->tets + 4 * e;
    double c[3];
    for (int j = 0; j < 3; j++)
      c[j] = 0.25 * (m->nodes[3 * (int64_t)t[0] + j] + m->nodes[3 * (int64_t)t[1] + j] +
                     m->nodes[3 * (int64_t)t[2] + j] + m->nodes[3 * (int64_t)t[3] + j]);
    k[e].key = morton(c, lo, scale);
    k[e].idx = (int32_t)e;
  }
  if (radix_sort(k, ne)) {
    free(k), free(ninv);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "setup: out of memory");
  }
  for (int64_t e = 0; e < ne; e++) s->tperm[e] = k[e].idx;
  free(k);
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth)
#endif
  for (int64_t i = 0; i < nn; i++)
    for (int c = 0; c < 3; c++) s->xyz[3 * i + c] = m->nodes[3 * (int64_t)s->nperm[i] + c];
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth)
#endif
  for (int64_t e = 0; e < ne; e++)
    for (int q = 0; q < 4; q++) s->tet[4 * e + q] = ninv[m->tets[4 * (int64_t)s->tperm[e] + q]];
  free(ninv);
  /* node -> tetrahedra, increasing tetrahedron index */
  for (int64_t e = 0; e < ne; e++)
    for (int q = 0; q < 4; q++) s->nt_ptr[s->tet[4 * e + q] + 1]++;
  for (int64_t i = 0; i < nn; i++) s->nt_ptr[i + 1] += s->nt_ptr[i];
  int64_t *fill = tmsf_malloc_array((size_t)nn, sizeof(int64_t));
  if (!fill) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "setup: out of memory");
  memcpy(fill, s->nt_ptr, (size_t)nn * sizeof(int64_t));
  for (int64_t e = 0; e < ne; e++)
    for (int q = 0; q < 4; q++) {
      int64_t p = fill[s->tet[4 * e + q]]++;
      s->nt[p] = (int32_t)e;
      s->local[p] = (int8_t)q;
    }
  free(fill);
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Assembly                                                                  */
/* ------------------------------------------------------------------------- */

/* The four shape-function gradients of element e from the three stored. */
static inline void grad4(const double *g9, double g[4][3]) {
  for (int c = 0; c < 3; c++) {
    g[1][c] = g9[c];
    g[2][c] = g9[3 + c];
    g[3][c] = g9[6 + c];
    g[0][c] = -(g[1][c] + g[2][c] + g[3][c]); /* as tmsf_tet_geometry computes it */
  }
}

/* Sorted distinct neighbours of internal node i (including i) into nb;
 * returns the count, or -1 when there are more than cap.  mark is a per-thread
 * array of num_nodes entries, never equal to i on entry for this i. */
static int row_neighbours(const tmsf_simulation *s, int64_t i, int32_t *mark, int32_t *nb, int cap) {
  int k = 0;
  for (int64_t p = s->nt_ptr[i]; p < s->nt_ptr[i + 1]; p++) {
    const int32_t *t = s->tet + 4 * (int64_t)s->nt[p];
    for (int a = 0; a < 4; a++) {
      int32_t j = t[a];
      if (mark[j] == (int32_t)i) continue;
      mark[j] = (int32_t)i;
      if (k == cap) return -1;
      nb[k++] = j;
    }
  }
  for (int q = 1; q < k; q++) { /* insertion sort: rows hold ~15 entries */
    int32_t v = nb[q];
    int r = q - 1;
    while (r >= 0 && nb[r] > v) {
      nb[r + 1] = nb[r];
      r--;
    }
    nb[r + 1] = v;
  }
  return k;
}

#define ROW_CAP 1024

/* The sparsity pattern (row i: the nodes of the tetrahedra around i, sorted)
 * in one pass: each thread gathers the rows of its contiguous block (static
 * schedule) into its own buffer, which is copied into place once the row
 * lengths are summed (the same arrays for any thread count). */
typedef struct pattern_part {
  int32_t *buf;
  size_t used;
  int64_t first; /* first row of the block, -1 if none */
} pattern_part;

static int build_pattern(tmsf_simulation *s) {
  const int64_t nn = s->mesh->num_nodes;
  const int nth = tmsf_threads(s->ctx);
  s->row_ptr = tmsf_calloc_array((size_t)nn + 1, sizeof(int64_t));
  pattern_part *part = calloc((size_t)nth, sizeof(pattern_part));
  if (!s->row_ptr || !part) {
    free(part);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "assembly: out of memory");
  }
  int overflow = 0, oom = 0;
#if TMSF_HAVE_OPENMP
#pragma omp parallel num_threads(nth) reduction(| : overflow, oom)
#endif
  {
#if TMSF_HAVE_OPENMP
    pattern_part *me = part + omp_get_thread_num();
#else
    pattern_part *me = part;
#endif
    me->first = -1;
    int32_t *mark = tmsf_malloc_array((size_t)nn, sizeof(int32_t));
    size_t cap = 0;
    if (!mark) oom = 1;
    else
      for (int64_t i = 0; i < nn; i++) mark[i] = -1;
#if TMSF_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
    for (int64_t i = 0; i < nn; i++) {
      if (me->first < 0) me->first = i;
      if (!mark || oom) continue;
      if (me->used + ROW_CAP > cap) {
        size_t ncap = cap ? 2 * cap : (size_t)ROW_CAP * 64;
        int32_t *nb = realloc(me->buf, ncap * sizeof(int32_t));
        if (!nb) {
          oom = 1;
          continue;
        }
        me->buf = nb;
        cap = ncap;
      }
      int k = row_neighbours(s, i, mark, me->buf + me->used, ROW_CAP);
      if (k < 0) {
        overflow = 1;
        k = 0;
      }
      s->row_ptr[i + 1] = k;
      me->used += (size_t)k;
    }
    free(mark);
  }
  int ierr = TMSF_SUCCESS;
  if (oom) {
    ierr = TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "assembly: out of memory");
  } else if (overflow) {
    ierr = TMSF_ERROR(s->ctx, TMSF_ERR_MESH, "a node has more than %d neighbours; the mesh is too "
                                              "irregular for assembly", ROW_CAP);
  } else {
    for (int64_t i = 0; i < nn; i++) s->row_ptr[i + 1] += s->row_ptr[i];
    s->cols = tmsf_malloc_array((size_t)s->row_ptr[nn], sizeof(int32_t));
    s->vals = tmsf_malloc_array((size_t)s->row_ptr[nn], sizeof(double));
    if (!s->cols || !s->vals) ierr = TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "assembly: out of memory");
    else
      for (int t = 0; t < nth; t++)
        if (part[t].first >= 0 && part[t].used)
          memcpy(s->cols + s->row_ptr[part[t].first], part[t].buf, part[t].used * sizeof(int32_t));
  }
  for (int t = 0; t < nth; t++) free(part[t].buf);
  free(part);
  return ierr;
}

/* Columns and values of every row: each row gathers sigma_e V_e g_a . g_b
 * over its tetrahedra in increasing order (deterministic). */
static int fill_matrix(tmsf_simulation *s) {
  const int64_t nn = s->mesh->num_nodes;
  const int nth = tmsf_threads(s->ctx);
  (void)nth; /* unused in a build without OpenMP */
  int oom = 0;
#if TMSF_HAVE_OPENMP
#pragma omp parallel num_threads(nth) reduction(| : oom)
#endif
  {
    int32_t *pos = tmsf_malloc_array((size_t)nn, sizeof(int32_t));
    if (!pos) oom = 1;
#if TMSF_HAVE_OPENMP
#pragma omp for schedule(dynamic, 512)
#endif
    for (int64_t i = 0; i < nn; i++) {
      if (!pos) continue;
      const int64_t r0 = s->row_ptr[i], len = s->row_ptr[i + 1] - r0;
      int32_t *cols = s->cols + r0;
      double *vals = s->vals + r0;
      for (int64_t q = 0; q < len; q++) {
        vals[q] = 0.0;
        pos[cols[q]] = (int32_t)q;
      }
      for (int64_t p = s->nt_ptr[i]; p < s->nt_ptr[i + 1]; p++) {
        const int64_t e = s->nt[p];
        const int a = s->local[p];
        double g[4][3];
        grad4(s->grad + 9 * e, g);
        const double c = s->sigma[e] * s->vol[e];
        const int32_t *t = s->tet + 4 * e;
        for (int bb = 0; bb < 4; bb++)
          vals[pos[t[bb]]] += c * (g[a][0] * g[bb][0] + g[a][1] * g[bb][1] + g[a][2] * g[bb][2]);
      }
    }
    free(pos);
  }
  if (oom) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "assembly: out of memory");
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

/* Bytes of memory the system can still give (Linux MemAvailable; 0 if unknown). */
static double available_memory(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) return 0.0;
  char line[256];
  double kb = 0.0;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, "MemAvailable:", 13) == 0) {
      kb = strtod(line + 13, NULL);
      break;
    }
  fclose(f);
  return kb * 1024.0;
}

static int solver_registered(const char *name) {
  int n;
  const char *const *names;
  tmsf_solver_list(&n, &names);
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) return 1;
  return 0;
}

/*
 * The solver for "auto" (the default), from the problem size, the available
 * memory and the process layout:
 *  - under MPI with several ranks: "petsc" (the only distributed solver);
 *  - up to AUTO_DIRECT_MAX unknowns: "cholmod" (the factor of such a system
 *    is small and fast to compute; every pose is then an exact solve);
 *  - otherwise "amg", unless its hierarchy (estimated at 40 bytes per matrix
 *    nonzero and 150 bytes per unknown, from measurements) would not fit in the
 *    available memory, where "cg" needs only 5 vectors.
 */
#define AUTO_DIRECT_MAX 20000
static void choose_solver(const tmsf_simulation *s, char *out, size_t cap) {
  if (strcmp(s->solver_name, "auto") != 0) {
    snprintf(out, cap, "%s", s->solver_name);
    return;
  }
  int rank, size;
  tmsf_parallel_rank(&rank, &size);
  const double n = (double)s->n, nnz = (double)s->row_ptr[s->n], avail = available_memory();
  if (size > 1 && solver_registered("petsc"))
    snprintf(out, cap, "petsc");
  else if (n <= AUTO_DIRECT_MAX && solver_registered("cholmod"))
    snprintf(out, cap, "cholmod");
  else if (avail > 0.0 && 40.0 * nnz + 150.0 * n > avail)
    snprintf(out, cap, "cg");
  else
    snprintf(out, cap, "amg");
}

int tmsf_simulation_get_solver(const tmsf_simulation *s, const char **name) {
  if (!s || !name) return TMSF_ERR_ARGUMENT;
  *name = s->is_setup ? s->solver_chosen : s->solver_name;
  return TMSF_SUCCESS;
}

int tmsf_simulation_setup(tmsf_simulation *s) {
  if (!s) return TMSF_ERR_ARGUMENT;
  const tmsf_mesh *m = s->mesh;
  const int64_t nn = m->num_nodes, ne = m->num_tets;
  const int nth = tmsf_threads(s->ctx);
  (void)nth; /* unused in a build without OpenMP */
  sim_free_setup(s);
  TMSF_CALL(tmsf_progress_(s->ctx, "setup", 0.0));
  double t0 = tmsf_wtime();
  int ierr;
  double *sigma_mesh = tmsf_malloc_array((size_t)ne, sizeof(double));
  if (!sigma_mesh) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "setup: out of memory");
  ierr = tmsf_mesh_tet_conductivities(m, sigma_mesh);
  if (ierr) {
    free(sigma_mesh);
    return ierr;
  }
  ierr = build_internal_mesh(s);
  if (ierr) {
    free(sigma_mesh);
    goto fail;
  }
  {
    double lo[3], hi[3], c[3], r2 = 0.0;
    tmsf_mesh_get_bounds(m, lo, hi);
    for (int k = 0; k < 3; k++) c[k] = 0.5 * (lo[k] + hi[k]);
    for (int64_t i = 0; i < nn; i++) {
      const double *x = s->xyz + 3 * i;
      double d = (x[0] - c[0]) * (x[0] - c[0]) + (x[1] - c[1]) * (x[1] - c[1]) + (x[2] - c[2]) * (x[2] - c[2]);
      if (d > r2) r2 = d;
    }
    s->head_radius = sqrt(r2);
  }
  s->sigma = tmsf_malloc_array((size_t)ne, sizeof(double));
  s->vol = tmsf_malloc_array((size_t)ne, sizeof(double));
  s->grad = tmsf_malloc_array((size_t)ne * 9, sizeof(double));
  s->dadt = tmsf_malloc_array((size_t)nn * 3, sizeof(double));
  s->w = tmsf_malloc_array((size_t)ne * 3, sizeof(double));
  s->w_part = tmsf_malloc_array((size_t)(ne + TMSF_REDUCE_BLOCK - 1) / TMSF_REDUCE_BLOCK, sizeof(double));
  s->b = tmsf_malloc_array((size_t)nn, sizeof(double));
  s->phi = tmsf_calloc_array((size_t)nn, sizeof(double));
  s->x = tmsf_calloc_array((size_t)nn, sizeof(double));
  if (!s->sigma || !s->vol || !s->grad || !s->dadt || !s->w || !s->w_part || !s->b || !s->phi || !s->x) {
    free(sigma_mesh);
    ierr = TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "setup: out of memory for %lld tetrahedra", (long long)ne);
    goto fail;
  }
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth)
#endif
  for (int64_t e = 0; e < ne; e++) {
    double g[4][3];
    s->vol[e] = tmsf_tet_geometry(s->xyz, s->tet + 4 * e, g);
    memcpy(s->grad + 9 * e, g[1], 9 * sizeof(double));
    s->sigma[e] = sigma_mesh[s->tperm[e]];
  }
  free(sigma_mesh);
  ierr = build_pattern(s);
  if (ierr) goto fail;
  ierr = fill_matrix(s);
  if (ierr) goto fail;
  /* ground internal node 0: keep only its diagonal, in its row and its column */
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
  /* assembly : solver setup about 2 : 3 (amg, 1.3M tetrahedra) */
  ierr = tmsf_progress_(s->ctx, "setup", 0.4);
  if (ierr) goto fail;
  t0 = tmsf_wtime();
  choose_solver(s, s->solver_chosen, sizeof(s->solver_chosen));
  ierr = tmsf_solver_create(s->ctx, s->solver_chosen, &s->solver);
  if (ierr) goto fail;
  ierr = tmsf_solver_set_tolerance(s->solver, s->rtol);
  if (ierr) goto fail;
  ierr = tmsf_solver_set_max_iterations(s->solver, 20000 + nn / 10);
  if (ierr) goto fail;
  ierr = tmsf_solver_setup_assembled(s->solver, nn, s->row_ptr, s->cols, s->vals);
  if (ierr) goto fail;
  s->t_setup = tmsf_wtime() - t0;
  s->is_setup = 1;
  if (s->field_tol > 0.0) TMSF_CALL(tmsf_simulation_set_field_tolerance(s, s->field_tol));
  tmsf_progress_(s->ctx, "setup", 1.0);
  return TMSF_SUCCESS;
fail:
  sim_free_setup(s);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* One pose: primary field, right-hand side, field                           */
/* ------------------------------------------------------------------------- */

static int check_pose_args(tmsf_simulation *s, const tmsf_coil *coil, const double P[16], double didt) {
  if (!s->is_setup)
    return TMSF_ERROR(s->ctx, TMSF_ERR_STATE, "simulation used before tmsf_simulation_setup");
  if (!coil || !P) return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "coil and pose are required");
  TMSF_CALL(tmsf_pose_check(s->ctx, P));
  if (!isfinite(didt))
    return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "dI/dt must be finite, got %g A/s", didt);
  return TMSF_SUCCESS;
}

/* Nodes from which tabulating a dipole coil pays off over direct sums (the
 * grids hold ~270k samples: about one direct evaluation of this many nodes). */
#define PRIMARY_GRID_MIN_NODES 50000
/* Largest relative L2 error of the tabulated dA/dt (checked per pose). */
#define PRIMARY_GRID_TOL 3e-5

int tmsf_simulation_set_primary_method(tmsf_simulation *sim, tmsf_primary_method method) {
  if (!sim) return TMSF_ERR_ARGUMENT;
  if (method != TMSF_PRIMARY_AUTO && method != TMSF_PRIMARY_DIRECT && method != TMSF_PRIMARY_GRID)
    return TMSF_ERROR(sim->ctx, TMSF_ERR_ARGUMENT, "unknown primary-field method %d", (int)method);
  sim->primary_method = method;
  return TMSF_SUCCESS;
}

/* dA/dt at the internal nodes. */
static int pose_primary(tmsf_simulation *s, const tmsf_coil *coil, const double P[16], double didt,
                        double *dadt) {
  /* AUTO tabulates a coil from its second pose on (or when a batch brings
   * several): building the table costs several direct evaluations, so a
   * single pose never pays for it.  Coils of dipoles and/or line segments
   * driven by one stimulator can be tabulated (tmsf_coil_tabulable). */
  int grid = tmsf_coil_tabulable(coil) &&
             (s->primary_method == TMSF_PRIMARY_GRID ||
              (s->primary_method == TMSF_PRIMARY_AUTO && coil->precision == TMSF_PRECISION_SINGLE &&
               s->n >= PRIMARY_GRID_MIN_NODES &&
               ((s->pgrid && tmsf_primary_grid_coil(s->pgrid) == coil->uid) ||
                s->primary_seen == coil->uid || s->primary_batch > 1)));
  if (!grid) s->primary_seen = coil->uid;
  int ierr;
  s->t_pgrid = 0.0;
  s->outside = 0;
  if (grid) {
    if (!s->pgrid || tmsf_primary_grid_coil(s->pgrid) != coil->uid) {
      double t0 = tmsf_wtime();
      tmsf_primary_grid_free(s->pgrid);
      s->pgrid = NULL;
      ierr = tmsf_primary_grid_build(coil, s->head_radius, &s->pgrid);
      s->t_pgrid = tmsf_wtime() - t0;
      if (ierr) goto out;
    }
    int used = 0;
    ierr = tmsf_primary_grid_eval(s->pgrid, coil, P, didt, s->n, s->xyz, dadt, PRIMARY_GRID_TOL,
                                  &s->pgrid_error, &used);
    grid = used;
  } else {
    ierr = tmsf_coil_primary_field(coil, P, didt, s->n, s->xyz, dadt, &s->outside);
  }
out:
  s->last_primary = grid ? 2 : 1;
  /* coil->ctx may differ; errors land in the coil's context and are copied */
  if (ierr && coil->ctx != s->ctx) TMSF_ERROR(s->ctx, ierr, "%s", tmsf_context_last_error(coil->ctx));
  return ierr;
}

/* b_i = - sum_e sigma_e V_e a_e . g_i (internal numbering), b_ground = 0.
 * *energy = sum_e sigma_e V_e |a_e|^2 = ||E||_sigma^2 + phi^T K phi, the
 * reference of the field stopping rule (E is sigma-orthogonal to the
 * gradients of the discrete space, so ||a||_sigma^2 splits exactly). */
static void pose_rhs(tmsf_simulation *s, const double *dadt, double *b, double *energy) {
  const int64_t nn = s->n, ne = s->mesh->num_tets;
  const int64_t nb = (ne + TMSF_REDUCE_BLOCK - 1) / TMSF_REDUCE_BLOCK;
  const int nth = tmsf_threads(s->ctx);
  (void)nth; /* unused in a build without OpenMP */
  double en = 0.0;
  /* w_e = sigma_e V_e a_e; energy summed per fixed block (deterministic) */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth)
#endif
  for (int64_t blk = 0; blk < nb; blk++) {
    const int64_t e0 = blk * TMSF_REDUCE_BLOCK, e1 = e0 + TMSF_REDUCE_BLOCK < ne ? e0 + TMSF_REDUCE_BLOCK : ne;
    double part = 0.0;
    for (int64_t e = e0; e < e1; e++) {
      const int32_t *t = s->tet + 4 * e;
      double c = 0.25 * s->sigma[e] * s->vol[e], a2 = 0.0;
      for (int k = 0; k < 3; k++) {
        double ak = 0.25 * (dadt[3 * (int64_t)t[0] + k] + dadt[3 * (int64_t)t[1] + k] +
                            dadt[3 * (int64_t)t[2] + k] + dadt[3 * (int64_t)t[3] + k]);
        s->w[3 * e + k] = 4.0 * c * ak;
        a2 += ak * ak;
      }
      part += 4.0 * c * a2;
    }
    s->w_part[blk] = part;
  }
  for (int64_t blk = 0; blk < nb; blk++) en += s->w_part[blk];
  *energy = en;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 1024) num_threads(nth)
#endif
  for (int64_t i = 0; i < nn; i++) {
    double acc = 0.0;
    for (int64_t p = s->nt_ptr[i]; p < s->nt_ptr[i + 1]; p++) {
      const int64_t e = s->nt[p];
      const int a = s->local[p];
      const double *g9 = s->grad + 9 * e, *w = s->w + 3 * e;
      if (a > 0) {
        const double *g = g9 + 3 * (a - 1);
        acc += w[0] * g[0] + w[1] * g[1] + w[2] * g[2];
      } else {
        double g[3] = {-(g9[0] + g9[3] + g9[6]), -(g9[1] + g9[4] + g9[7]), -(g9[2] + g9[5] + g9[8])};
        acc += w[0] * g[0] + w[1] * g[1] + w[2] * g[2];
      }
    }
    b[i] = -acc;
  }
  b[s->ground] = 0.0;
}

/* E_e = -sum phi_i g_i - a_e, returned in the mesh's numbering. */
static int pose_field(tmsf_simulation *s, const double *dadt, const double *phi, double didt,
                      tmsf_field **field) {
  const int64_t nn = s->n, ne = s->mesh->num_tets;
  const int nth = tmsf_threads(s->ctx);
  (void)nth; /* unused in a build without OpenMP */
  tmsf_field *f;
  TMSF_CALL(tmsf_field_alloc(s->ctx, s->mesh, &f));
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth)
#endif
  for (int64_t e = 0; e < ne; e++) {
    const int32_t *t = s->tet + 4 * e;
    const double *g = s->grad + 9 * e; /* grad phi = sum_{q>=1} (phi_q - phi_0) g_q */
    const double p0 = phi[t[0]], d1 = phi[t[1]] - p0, d2 = phi[t[2]] - p0, d3 = phi[t[3]] - p0;
    const int64_t eo = s->tperm[e];
    for (int k = 0; k < 3; k++) {
      double gp = d1 * g[k] + d2 * g[3 + k] + d3 * g[6 + k];
      double a = dadt[3 * (int64_t)t[0] + k] + dadt[3 * (int64_t)t[1] + k] + dadt[3 * (int64_t)t[2] + k] +
                 dadt[3 * (int64_t)t[3] + k];
      f->E[3 * eo + k] = -gp - 0.25 * a;
    }
    f->sigma[eo] = s->sigma[e];
  }
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth)
#endif
  for (int64_t i = 0; i < nn; i++) f->phi[s->nperm[i]] = phi[i];
  f->didt = didt;
  *field = f;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Initial guesses from earlier solutions                                    */
/* ------------------------------------------------------------------------- */

/*
 * x0 = V c with (V^T K V) c = V^T b, V the recycled potentials: the point of
 * their span closest to the solution in the energy norm (K V is known without
 * a product: K v_j = b_j).  Nearby or similar poses (a coil moving over the
 * head, rotations at one spot, another dI/dt) start far closer to their
 * solution than from zero; unrelated ones start no worse than from zero.
 * Directions the stored set repeats (tiny pivots) are dropped.
 */
static void initial_guess(tmsf_simulation *s, const double *b, double *x) {
  const int64_t n = s->n;
  const int m = s->rcount;
  memset(x, 0, (size_t)n * sizeof(double));
  if (m == 0) return;
  double g[RECYCLE_MAX], L[RECYCLE_MAX][RECYCLE_MAX] = {{0}}, c[RECYCLE_MAX], y[RECYCLE_MAX];
  int keep[RECYCLE_MAX];
  for (int j = 0; j < m; j++) g[j] = tmsf_dot(s->ctx, n, s->rv[j], b);
  double dmax = 0.0;
  for (int j = 0; j < m; j++)
    if (s->rw[j * RECYCLE_MAX + j] > dmax) dmax = s->rw[j * RECYCLE_MAX + j];
  if (!(dmax > 0.0)) return;
  for (int j = 0; j < m; j++) { /* Cholesky of W, skipping dependent directions */
    double d = s->rw[j * RECYCLE_MAX + j];
    for (int k = 0; k < j; k++)
      if (keep[k]) d -= L[j][k] * L[j][k];
    keep[j] = d > 1e-12 * dmax;
    if (!keep[j]) continue;
    L[j][j] = sqrt(d);
    for (int i = j + 1; i < m; i++) {
      double t = s->rw[i * RECYCLE_MAX + j];
      for (int k = 0; k < j; k++)
        if (keep[k]) t -= L[i][k] * L[j][k];
      L[i][j] = t / L[j][j];
    }
  }
  for (int i = 0; i < m; i++) {
    y[i] = 0.0;
    if (!keep[i]) continue;
    double t = g[i];
    for (int k = 0; k < i; k++)
      if (keep[k]) t -= L[i][k] * y[k];
    y[i] = t / L[i][i];
  }
  for (int i = m - 1; i >= 0; i--) {
    c[i] = 0.0;
    if (!keep[i]) continue;
    double t = y[i];
    for (int k = i + 1; k < m; k++)
      if (keep[k]) t -= L[k][i] * c[k];
    c[i] = t / L[i][i];
  }
  const int nth = tmsf_threads(s->ctx);
  (void)nth;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth) if (n > 32768)
#endif
  for (int64_t i = 0; i < n; i++) {
    double v = 0.0;
    for (int j = 0; j < m; j++) v += c[j] * s->rv[j][i];
    x[i] = v;
  }
  x[s->ground] = 0.0;
}

/* Keep a solved pair (x, b) for later initial guesses. */
static void recycle_add(tmsf_simulation *s, const double *x, const double *b) {
  const int64_t n = s->n;
  const int slot = s->rnext;
  if (!s->rv[slot]) {
    s->rv[slot] = tmsf_malloc_array((size_t)n, sizeof(double));
    s->rb[slot] = tmsf_malloc_array((size_t)n, sizeof(double));
    if (!s->rv[slot] || !s->rb[slot]) { /* recycling is an optimisation: do without it */
      free(s->rv[slot]), free(s->rb[slot]);
      s->rv[slot] = s->rb[slot] = NULL;
      return;
    }
  }
  memcpy(s->rv[slot], x, (size_t)n * sizeof(double));
  memcpy(s->rb[slot], b, (size_t)n * sizeof(double));
  if (s->rcount < RECYCLE_MAX) s->rcount++;
  s->rnext = (slot + 1) % RECYCLE_MAX;
  /* W row and column of the new slot, symmetrised (K v_j = b_j up to the
   * solver's tolerance) */
  for (int j = 0; j < s->rcount; j++) {
    double w = 0.5 * (tmsf_dot(s->ctx, n, s->rv[slot], s->rb[j]) + tmsf_dot(s->ctx, n, s->rv[j], s->rb[slot]));
    s->rw[slot * RECYCLE_MAX + j] = s->rw[j * RECYCLE_MAX + slot] = w;
  }
}

int tmsf_simulation_solve(tmsf_simulation *s, const tmsf_coil *coil,
                          const double head_from_coil_m[16], double didt_A_per_s,
                          tmsf_field **field) {
  const tmsf_primary_source src = {coil, head_from_coil_m, didt_A_per_s, -1};
  return tmsf_simulation_solve_sources(s, 1, &src, didt_A_per_s, field);
}

/* dA/dt of one source at the internal nodes: one stimulator of a coil is
 * evaluated directly (the table holds a coil driven as a whole). */
static int source_primary(tmsf_simulation *s, const tmsf_primary_source *src, double *dadt) {
  if (src->stimulator < 0) return pose_primary(s, src->coil, src->head_from_coil_m, src->didt_A_per_s, dadt);
  s->t_pgrid = 0.0;
  s->last_primary = 1;
  int ierr = tmsf_coil_primary_field_one(src->coil, src->stimulator, src->head_from_coil_m, src->didt_A_per_s,
                                         s->n, s->xyz, dadt, &s->outside);
  if (ierr && src->coil->ctx != s->ctx) TMSF_ERROR(s->ctx, ierr, "%s", tmsf_context_last_error(src->coil->ctx));
  return ierr;
}

/* One solve for the sum of the sources' primary fields (tmsf-impl.h); one
 * source is tmsf_simulation_solve, several a coil set (coilset.c). */
int tmsf_simulation_solve_sources(tmsf_simulation *s, int num_sources, const tmsf_primary_source *src,
                                  double didt_A_per_s, tmsf_field **field) {
  if (!s || !field || num_sources < 1 || !src) return TMSF_ERR_ARGUMENT;
  *field = NULL;
  for (int k = 0; k < num_sources; k++)
    TMSF_CALL(check_pose_args(s, src[k].coil, src[k].head_from_coil_m, src[k].didt_A_per_s));
  const int64_t nn = s->n;
  /* progress fractions: the phases' shares of a pose on the built-in head (amg) */
  TMSF_CALL(tmsf_progress_(s->ctx, "solve", 0.0));
  double t0 = tmsf_wtime();
  s->dadt_valid = 0;
  TMSF_CALL(source_primary(s, &src[0], s->dadt));
  if (num_sources > 1) { /* the primary fields superpose: sum them at the nodes */
    double *tmp = tmsf_malloc_array((size_t)nn * 3, sizeof(double));
    if (!tmp) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "out of memory for %d coils", num_sources);
    int64_t outside = s->outside;
    for (int k = 1; k < num_sources; k++) {
      int ierr = source_primary(s, &src[k], tmp);
      if (ierr) {
        free(tmp);
        return ierr;
      }
      outside += s->outside;
      for (int64_t i = 0; i < 3 * nn; i++) s->dadt[i] += tmp[i];
    }
    s->outside = outside;
    free(tmp);
  }
  double t1 = tmsf_wtime();
  TMSF_CALL(tmsf_progress_(s->ctx, "solve", 0.06));
  double energy;
  pose_rhs(s, s->dadt, s->b, &energy);
  double t2 = tmsf_wtime();
  TMSF_CALL(tmsf_progress_(s->ctx, "solve", 0.08));
  /* warm start: projection on the recycled solutions */
  initial_guess(s, s->b, s->x);
  int ierr = s->energy_tol > 0.0 ? tmsf_solver_solve_energy(s->solver, 1, s->b, s->x, s->energy_tol, &energy)
                                  : tmsf_solver_solve(s->solver, 1, s->b, s->x);
  tmsf_solver_get_info(s->solver, TMSF_SOLVER_ITERATIONS, &s->iterations);
  tmsf_solver_get_info(s->solver, TMSF_SOLVER_RESIDUAL, &s->residual);
  if (ierr) {
    s->have_phi = 0;
    return ierr;
  }
  memcpy(s->phi, s->x, (size_t)nn * sizeof(double));
  s->last_didt = didt_A_per_s;
  s->have_phi = 1;
  recycle_add(s, s->x, s->b);
  double t3 = tmsf_wtime();
  TMSF_CALL(tmsf_progress_(s->ctx, "solve", 0.97));
  TMSF_CALL(pose_field(s, s->dadt, s->x, didt_A_per_s, field));
  double t4 = tmsf_wtime();
  s->t_primary = t1 - t0;
  s->t_rhs = t2 - t1;
  s->t_solve = t3 - t2;
  s->t_field = t4 - t3;
  tmsf_progress_(s->ctx, "solve", 1.0);
  return TMSF_SUCCESS;
}

int tmsf_simulation_solve_many(tmsf_simulation *s, const tmsf_coil *coil, int num_poses,
                               const double *head_from_coil_m, const double *didt_A_per_s,
                               tmsf_field **fields) {
  if (!s || !fields || num_poses < 1 || !head_from_coil_m || !didt_A_per_s) return TMSF_ERR_ARGUMENT;
  for (int k = 0; k < num_poses; k++) fields[k] = NULL;
  for (int k = 0; k < num_poses; k++)
    TMSF_CALL(check_pose_args(s, coil, head_from_coil_m + 16 * k, didt_A_per_s[k]));
  const int64_t nn = s->n;
  double *dadt = tmsf_malloc_array((size_t)nn * 3 * (size_t)num_poses, sizeof(double));
  double *B = tmsf_malloc_array((size_t)nn * (size_t)num_poses, sizeof(double));
  double *X = tmsf_calloc_array((size_t)nn * (size_t)num_poses, sizeof(double));
  double *energy = tmsf_malloc_array((size_t)num_poses, sizeof(double));
  if (!dadt || !B || !X || !energy) {
    free(dadt), free(B), free(X), free(energy);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "out of memory for %d poses", num_poses);
  }
  int ierr = TMSF_SUCCESS;
  double tp = 0.0, tr = 0.0;
  s->primary_batch = num_poses;
  for (int k = 0; k < num_poses && !ierr; k++) {
    double a = tmsf_wtime();
    ierr = pose_primary(s, coil, head_from_coil_m + 16 * k, didt_A_per_s[k], dadt + 3 * nn * k);
    double b = tmsf_wtime();
    if (!ierr) pose_rhs(s, dadt + 3 * nn * k, B + nn * k, &energy[k]);
    tp += b - a;
    tr += tmsf_wtime() - b;
  }
  s->primary_batch = 0;
  for (int k = 0; k < num_poses && !ierr; k++) initial_guess(s, B + nn * k, X + nn * k);
  double t2 = tmsf_wtime();
  if (!ierr) {
    ierr = s->energy_tol > 0.0 ? tmsf_solver_solve_energy(s->solver, num_poses, B, X, s->energy_tol, energy)
                               : tmsf_solver_solve(s->solver, num_poses, B, X);
    tmsf_solver_get_info(s->solver, TMSF_SOLVER_ITERATIONS, &s->iterations);
    tmsf_solver_get_info(s->solver, TMSF_SOLVER_RESIDUAL, &s->residual);
  }
  double t3 = tmsf_wtime();
  for (int k = 0; k < num_poses && !ierr; k++) recycle_add(s, X + nn * k, B + nn * k);
  for (int k = 0; k < num_poses && !ierr; k++)
    ierr = pose_field(s, dadt + 3 * nn * k, X + nn * k, didt_A_per_s[k], &fields[k]);
  if (ierr)
    for (int k = 0; k < num_poses; k++) tmsf_field_destroy(&fields[k]);
  s->t_primary = tp;
  s->t_rhs = tr;
  s->t_solve = t3 - t2;
  s->t_field = tmsf_wtime() - t3;
  free(dadt), free(B), free(X), free(energy);
  return ierr;
}

tmsf_context *tmsf_simulation_context(const tmsf_simulation *s) { return s ? s->ctx : NULL; }
const tmsf_mesh *tmsf_simulation_mesh(const tmsf_simulation *s) { return s ? s->mesh : NULL; }

int tmsf_simulation_get_matrix(const tmsf_simulation *s, int64_t *n, const int64_t **row_ptr,
                               const int32_t **cols, const double **vals) {
  if (!s || !n || !row_ptr || !cols || !vals) return TMSF_ERR_ARGUMENT;
  if (!s->is_setup)
    return TMSF_ERROR(s->ctx, TMSF_ERR_STATE, "tmsf_simulation_get_matrix before tmsf_simulation_setup");
  *n = s->n;
  *row_ptr = s->row_ptr;
  *cols = s->cols;
  *vals = s->vals;
  return TMSF_SUCCESS;
}

int tmsf_simulation_get_node_order(const tmsf_simulation *s, const int32_t **mesh_node) {
  if (!s || !mesh_node) return TMSF_ERR_ARGUMENT;
  if (!s->is_setup)
    return TMSF_ERROR(s->ctx, TMSF_ERR_STATE, "tmsf_simulation_get_node_order before tmsf_simulation_setup");
  *mesh_node = s->nperm;
  return TMSF_SUCCESS;
}

/* s->dadt for this pose: reused when the last rhs call computed it (the coil
 * object must not have been changed in between; coils are immutable apart
 * from their dI/dt limit). */
static int cached_primary(tmsf_simulation *s, const tmsf_coil *coil, const double P[16], double didt) {
  if (s->dadt_valid && s->dadt_coil == coil && s->dadt_didt == didt &&
      memcmp(s->dadt_pose, P, sizeof(s->dadt_pose)) == 0)
    return TMSF_SUCCESS;
  s->dadt_valid = 0;
  TMSF_CALL(pose_primary(s, coil, P, didt, s->dadt));
  s->dadt_coil = coil;
  memcpy(s->dadt_pose, P, sizeof(s->dadt_pose));
  s->dadt_didt = didt;
  s->dadt_valid = 1;
  return TMSF_SUCCESS;
}

int tmsf_simulation_rhs(tmsf_simulation *s, const tmsf_coil *coil, const double head_from_coil_m[16],
                        double didt_A_per_s, double *b) {
  if (!s || !b) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(check_pose_args(s, coil, head_from_coil_m, didt_A_per_s));
  TMSF_CALL(cached_primary(s, coil, head_from_coil_m, didt_A_per_s));
  double energy;
  pose_rhs(s, s->dadt, b, &energy);
  return TMSF_SUCCESS;
}

int tmsf_simulation_field_from_potential(tmsf_simulation *s, const tmsf_coil *coil,
                                         const double head_from_coil_m[16], double didt_A_per_s,
                                         const double *phi, tmsf_field **field) {
  if (!s || !phi || !field) return TMSF_ERR_ARGUMENT;
  *field = NULL;
  TMSF_CALL(check_pose_args(s, coil, head_from_coil_m, didt_A_per_s));
  for (int64_t i = 0; i < s->n; i++)
    if (!isfinite(phi[i]))
      return TMSF_ERROR(s->ctx, TMSF_ERR_NUMERIC, "potential entry %lld is not finite", (long long)i);
  TMSF_CALL(cached_primary(s, coil, head_from_coil_m, didt_A_per_s));
  return pose_field(s, s->dadt, phi, didt_A_per_s, field);
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
  case TMSF_SIM_ENERGY_TOLERANCE: *value = s->energy_tol; break;
  case TMSF_SIM_PRIMARY_METHOD: *value = s->last_primary; break;
  case TMSF_SIM_PRIMARY_GRID_SECONDS: *value = s->t_pgrid; break;
  case TMSF_SIM_PRIMARY_GRID_ERROR: *value = s->pgrid_error; break;
  case TMSF_SIM_MEMORY_BYTES: {
    const double ne = (double)s->mesh->num_tets, nn = (double)s->mesh->num_nodes;
    double nnz = s->row_ptr ? (double)s->row_ptr[s->n] : 0.0;
    double solver_mem = 0.0;
    if (s->solver) tmsf_solver_get_info(s->solver, TMSF_SOLVER_MEMORY_BYTES, &solver_mem);
    /* per element: tperm, tet, nt + local, vol, grad, sigma, w; per node: nperm,
     * xyz, nt_ptr, dadt, b, phi, x, row_ptr; per nonzero: column and value */
    *value = s->is_setup ? ne * (4 + 16 + 20 + 8 + 72 + 8 + 24) + nn * (4 + 24 + 8 + 24 + 8 + 8 + 8 + 8) +
                               nnz * 12 + solver_mem
                         : 0.0;
    break;
  }
  default: return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "unknown simulation info %d", (int)what);
  }
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Adjoint (reciprocity) weights of linear functionals of the field          */
/* ------------------------------------------------------------------------- */

/*
 * notes/reciprocity.md: for J(E) = sum_e V_e g_e . E_e, solve K lambda = G
 * with G_i = sum_e V_e g_e . grad N_i (G at the grounded node 0, like the
 * right-hand side), then J = sum_e V_e a_e . q_e with q_e = sigma_e
 * grad(lambda)_e - g_e, i.e. J = sum_n Q_n . dA/dt(x_n) with
 * Q_n = sum_{e containing n} V_e q_e / 4.  One block solve for all
 * functionals, with the residual rule at the simulation's rtol (the
 * functionals must be exact to well below the placement's 1 % budget
 * whatever the field rule asks of forward solves).
 */
int tmsf_simulation_adjoint(tmsf_simulation *s, int num_fun, int64_t num_el, const int64_t *el,
                            const double *g, double *Q) {
  if (!s || num_fun < 1 || num_el < 1 || !el || !g || !Q) return TMSF_ERR_ARGUMENT;
  if (!s->is_setup)
    return TMSF_ERROR(s->ctx, TMSF_ERR_STATE, "simulation used before tmsf_simulation_setup");
  const int64_t nn = s->n, ne = s->mesh->num_tets;
  const int nth = tmsf_threads(s->ctx);
  (void)nth;
  int32_t *tinv = tmsf_malloc_array((size_t)ne, sizeof(int32_t));
  double *G = tmsf_calloc_array((size_t)nn * (size_t)num_fun, sizeof(double));
  double *L = tmsf_calloc_array((size_t)nn * (size_t)num_fun, sizeof(double));
  double *ge = tmsf_calloc_array((size_t)ne * 3, sizeof(double)); /* g_e of one functional */
  double *q = tmsf_malloc_array((size_t)ne * 3, sizeof(double));
  if (!tinv || !G || !L || !ge || !q) {
    free(tinv), free(G), free(L), free(ge), free(q);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "adjoint: out of memory for %d functionals", num_fun);
  }
  int ierr = TMSF_SUCCESS;
  for (int64_t e = 0; e < ne; e++) tinv[s->tperm[e]] = (int32_t)e;
  for (int64_t k = 0; k < num_el; k++)
    if (el[k] < 0 || el[k] >= ne) {
      ierr = TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "adjoint: element %lld out of range [0, %lld)",
                        (long long)el[k], (long long)ne);
      goto done;
    }
  /* G, in increasing element order per functional (deterministic) */
  for (int f = 0; f < num_fun; f++) {
    double *Gf = G + nn * f;
    for (int64_t k = 0; k < num_el; k++) {
      const int64_t e = tinv[el[k]];
      const double *gk = g + 3 * (num_el * f + k);
      double gr[4][3];
      grad4(s->grad + 9 * e, gr);
      for (int a = 0; a < 4; a++)
        Gf[s->tet[4 * e + a]] += s->vol[e] * (gk[0] * gr[a][0] + gk[1] * gr[a][1] + gk[2] * gr[a][2]);
    }
    Gf[s->ground] = 0.0;
  }
  ierr = tmsf_solver_solve(s->solver, num_fun, G, L);
  if (ierr) goto done;
  for (int f = 0; f < num_fun; f++) {
    const double *Lf = L + nn * f;
    for (int64_t k = 0; k < num_el; k++) {
      const double *gk = g + 3 * (num_el * f + k);
      const int64_t e = tinv[el[k]];
      ge[3 * e] += gk[0], ge[3 * e + 1] += gk[1], ge[3 * e + 2] += gk[2]; /* listed twice: sum */
    }
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(nth)
#endif
    for (int64_t e = 0; e < ne; e++) {
      const int32_t *t = s->tet + 4 * e;
      const double *gr = s->grad + 9 * e;
      const double l0 = Lf[t[0]], d1 = Lf[t[1]] - l0, d2 = Lf[t[2]] - l0, d3 = Lf[t[3]] - l0;
      const double c = 0.25 * s->vol[e];
      for (int j = 0; j < 3; j++)
        q[3 * e + j] = c * (s->sigma[e] * (d1 * gr[j] + d2 * gr[3 + j] + d3 * gr[6 + j]) - ge[3 * e + j]);
    }
    double *Qf = Q + 3 * nn * f;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 1024) num_threads(nth)
#endif
    for (int64_t i = 0; i < nn; i++) {
      double acc[3] = {0.0, 0.0, 0.0};
      for (int64_t p = s->nt_ptr[i]; p < s->nt_ptr[i + 1]; p++)
        for (int j = 0; j < 3; j++) acc[j] += q[3 * (int64_t)s->nt[p] + j];
      for (int j = 0; j < 3; j++) Qf[3 * (int64_t)s->nperm[i] + j] = acc[j];
    }
    for (int64_t k = 0; k < num_el; k++) { /* reset for the next functional */
      const int64_t e = tinv[el[k]];
      ge[3 * e] = ge[3 * e + 1] = ge[3 * e + 2] = 0.0;
    }
  }
done:
  free(tinv), free(G), free(L), free(ge), free(q);
  return ierr;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * tmsf-impl.h: private structures and helpers of the library (never installed).
 */
#ifndef TMSF_IMPL_H
#define TMSF_IMPL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <tmsfield/tmsfield.h>

#if TMSF_HAVE_OPENMP
#include <omp.h>
#endif

/* ------------------------------------------------------------------------- */
/* Context and errors                                                        */
/* ------------------------------------------------------------------------- */

#define TMSF_MSG_LEN 1024

struct tmsf_context {
  int num_threads; /* 0: OpenMP default */
  int status;
  char message[TMSF_MSG_LEN];
  const char *src_file;
  int src_line;
  const char *src_func;
  tmsf_progress_fn progress; /* tmsf_context_set_progress; NULL: none */
  void *progress_user;
};

/* Report progress through the context's callback (if any).  Returns
 * TMSF_ERR_CANCELLED, recorded in ctx, when the callback asks to cancel at a
 * fraction below 1; else TMSF_SUCCESS. */
int tmsf_progress_(tmsf_context *ctx, const char *stage, double fraction);

/* Record an error in ctx (may be NULL) and return code. printf-style. */
int tmsf_error_(tmsf_context *ctx, const char *file, int line, const char *func, int code,
                const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
#define TMSF_ERROR(ctx, code, ...) tmsf_error_((ctx), __FILE__, __LINE__, __func__, (code), __VA_ARGS__)

/* Propagate a non-zero status. */
#define TMSF_CALL(expr)                                                                            \
  do {                                                                                             \
    int tmsf_ierr_ = (expr);                                                                       \
    if (tmsf_ierr_) return tmsf_ierr_;                                                             \
  } while (0)

/* Threads to use for an OpenMP region of this context. */
static inline int tmsf_threads(const tmsf_context *ctx) {
#if TMSF_HAVE_OPENMP
  if (ctx && ctx->num_threads > 0) return ctx->num_threads;
  return omp_get_max_threads();
#else
  (void)ctx;
  return 1;
#endif
}

/* Allocation helpers: return NULL on overflow or failure. */
void *tmsf_malloc_array(size_t count, size_t size);
void *tmsf_calloc_array(size_t count, size_t size);
char *tmsf_strdup(const char *s);

/* Wall clock in seconds (monotonic). */
double tmsf_wtime(void);

#if TMSF_HAVE_PETSC
/* Initialise PETSc (and MPI) unless the program did (solvers/petsc.c). */
int tmsf_petsc_ensure_initialized(int *argc, char ***argv);
#endif

/* Whether a solver honours the energy stopping rule (solvers/solver.c). */
int tmsf_solver_has_energy_rule(const tmsf_solver *solver);

/* The solver a simulation uses unless told otherwise. */
#define TMSF_DEFAULT_SOLVER "auto"

/* Deterministic parallel sums: fixed blocks independent of the thread count. */
#define TMSF_REDUCE_BLOCK 4096
double tmsf_dot(const tmsf_context *ctx, int64_t n, const double *x, const double *y);

/* ------------------------------------------------------------------------- */
/* Mesh                                                                      */
/* ------------------------------------------------------------------------- */

typedef struct tmsf_cond_entry {
  int32_t tag;
  double sigma;
} tmsf_cond_entry;

typedef struct tmsf_locator tmsf_locator;

struct tmsf_mesh {
  tmsf_context *ctx;
  char *origin;    /* file name, or "tmsf_mesh_create", for messages */
  int64_t num_nodes;
  double *nodes;   /* 3*num_nodes, metres */
  int64_t num_tets;
  int32_t *tets;   /* 4*num_tets */
  int32_t *tet_tags;
  int64_t num_tris;
  int32_t *tris;   /* 3*num_tris */
  int32_t *tri_tags;
  int num_tags;
  int32_t *tags;   /* distinct tet tags, sorted */
  int num_cond;
  tmsf_cond_entry *cond; /* overrides */

  /* Derived data, built on first use (mutable caches of a const mesh). */
  int64_t *node_tet_ptr; /* CSR node -> tetrahedra, num_nodes + 1 */
  int32_t *node_tet;     /* tetrahedra of each node, increasing */
  int64_t scalp_num_nodes;
  int32_t *scalp_nodes;
  double *scalp_normals;
  tmsf_locator *locator;
};

/* Point location (mesh.c): ensure the index exists, then locate one point
 * (tet = -1 when outside; lam receives barycentric coordinates, may be NULL). */
int tmsf_mesh_ensure_locator(const tmsf_mesh *mesh);
int tmsf_mesh_locate_one(const tmsf_mesh *mesh, const double x[3], double lam[4], int64_t *tet);

/* Build node->tet adjacency if missing. */
int tmsf_mesh_build_adjacency(const tmsf_mesh *mesh);

/* Geometry of one tetrahedron: volume (signed, m^3) and gradients of the four
 * barycentric shape functions (grad[4][3], 1/m). */
double tmsf_tet_geometry(const double *nodes, const int32_t *tet, double grad[4][3]);
double tmsf_tet_signed_volume(const double *nodes, const int32_t *tet);

/* Validate and take ownership of arrays (used by readers and create). On
 * failure the arrays are freed.  origin names the source for messages. */
int tmsf_mesh_from_owned(tmsf_context *ctx, const char *origin, int64_t num_nodes, double *nodes,
                         int64_t num_tets, int32_t *tets, int32_t *tet_tags, int64_t num_tris,
                         int32_t *tris, int32_t *tri_tags, const int64_t *tet_records,
                         tmsf_mesh **out);

/* Conductivity per tetrahedron; errors on a tag without one. */
int tmsf_mesh_tet_conductivities(const tmsf_mesh *mesh, double *sigma);

/* Face -> tet adjacency helpers (used by writer and scalp). For each triangle,
 * the tetrahedron on its tissue side (tag - 1000) or any adjacent one, -1 if none. */
int tmsf_mesh_triangle_tets(const tmsf_mesh *mesh, int32_t *tri_tet);

/* Gmsh reader/writer (lib/io-msh.c). */
int tmsf_msh_read(tmsf_context *ctx, const char *path, tmsf_mesh **mesh);
/* E of a field from the element data "E" of a Gmsh file in memory (tmsf_field_read_msh). */
int tmsf_msh_read_field_buffer(const tmsf_mesh *mesh, const char *origin, const unsigned char *data, size_t size,
                               tmsf_field **field);
int tmsf_msh_read_buffer(tmsf_context *ctx, const char *origin, const unsigned char *data,
                         size_t size, tmsf_mesh **mesh);
int tmsf_msh_write(const tmsf_mesh *mesh, const tmsf_field *field, const char *path);

/* ------------------------------------------------------------------------- */
/* Coils                                                                     */
/* ------------------------------------------------------------------------- */

/* One element of a coil: one kind of model driven by one stimulator. */
typedef struct tmsf_coil_element {
  tmsf_coil_kind kind; /* DIPOLES, SEGMENTS or GRID */
  char *name;
  int stimulator;
  /* dipoles / segments (coil frame) */
  int64_t n;
  double *pos; /* 3n, m (segment midpoints) */
  double *vec; /* 3n: dipole moments A m^2 per A, or segment vectors dl in m */
  /* grid (coil frame) */
  int64_t dims[3];
  float *grid;       /* 3 * nx*ny*nz, component slowest */
  double origin[3];  /* coil-frame position of index (0,0,0), m */
  double spacing[3]; /* m */
} tmsf_coil_element;

typedef struct tmsf_coil_stimulator {
  char *name;      /* NULL when unknown */
  char *brand;     /* NULL when unknown */
  double didt_max; /* A/s at 100 % MSO, NAN when unknown */
} tmsf_coil_stimulator;

#define TMSF_COIL_MAX_STIMULATORS 64

struct tmsf_coil {
  tmsf_context *ctx;
  tmsf_coil_kind kind; /* of all elements, MIXED when they differ, 0 when empty */
  char *name;
  int num_keys;
  char **keys;
  char **values;
  tmsf_precision precision; /* of the dipole sum */
  uint64_t uid;             /* unique for the process's lifetime and renewed by every
                               change of the elements (caches key on it) */
  int num_elements;
  tmsf_coil_element *elements;
  int num_stimulators;
  tmsf_coil_stimulator *stimulators;
  int64_t num_dipoles; /* over all dipole elements */
};

/* The cache directory: $TMSF_CACHE_DIR ("" or "off": none, buf = ""), else
 * $XDG_CACHE_HOME/tmsfield, else ~/.cache/tmsfield (context.c). */
int tmsf_default_cache_dir(char *buf, size_t size);
/* mkdir -p; 0 when the directory exists afterwards. */
int tmsf_make_dirs(const char *dir);

int tmsf_coil_alloc(tmsf_context *ctx, tmsf_coil **coil);
/* Append an element of kind DIPOLES or SEGMENTS taking ownership of pos and
 * vec (3n doubles each, freed on failure); values are not checked. */
int tmsf_coil_add_owned(tmsf_coil *coil, tmsf_coil_kind kind, int stimulator, const char *name,
                        int64_t n, double *pos, double *vec);
/* Ensure stimulators 0..index exist. */
int tmsf_coil_ensure_stimulator(tmsf_coil *coil, int index);
/* Primary field of one stimulator of a coil (stimulator < 0: all of them)
 * driven at didt, the others at 0. */
int tmsf_coil_primary_field_one(const tmsf_coil *coil, int stimulator, const double P[16], double didt,
                                int64_t n, const double *pts, double *dadt, int64_t *outside);
/* Append a header key (copies). */
int tmsf_coil_add_header(tmsf_coil *coil, const char *key, const char *value);
/* Largest z of any dipole or segment end, m (coil frame); -INFINITY if none. */
double tmsf_coil_max_source_z(const tmsf_coil *coil);
/* Whether the tabulated primary field (primary-grid.c) can stand for this
 * coil driven through tmsf_coil_primary_field (one dI/dt for every
 * stimulator): it has elements and they are all dipoles or segments. */
int tmsf_coil_tabulable(const tmsf_coil *coil);

/* Tabulated primary field of a dipole coil (primary-grid.c). */
typedef struct tmsf_primary_grid tmsf_primary_grid;
int tmsf_primary_grid_build(const tmsf_coil *coil, double head_radius_m, tmsf_primary_grid **grid);
/* dA/dt at n points; *error: the table's relative L2 error on a sample of the
 * points; above tol the direct sum is used everywhere (*used = 0). */
int tmsf_primary_grid_eval(const tmsf_primary_grid *grid, const tmsf_coil *coil, const double P[16],
                           double didt, int64_t n, const double *pts, double *dadt, double tol,
                           double *error, int *used);
void tmsf_primary_grid_free(tmsf_primary_grid *grid);
uint64_t tmsf_primary_grid_coil(const tmsf_primary_grid *grid);
int tmsf_ccd_read_buffer(tmsf_context *ctx, const char *origin, const char *data, size_t size,
                         tmsf_coil **coil);
int tmsf_ccd_read(tmsf_context *ctx, const char *path, tmsf_coil **coil);
int tmsf_nifti_coil_read(tmsf_context *ctx, const char *path, tmsf_coil **coil);
int tmsf_tcd_read(tmsf_context *ctx, const char *path, tmsf_coil **coil);
/* NIfTI A-field writer (io-nifti.c): descrip (<= 79 chars, may be NULL) goes
 * to the header's descrip field. */
int tmsf_nifti_coil_write(const tmsf_coil *coil, const char *path, const char *descrip);
int tmsf_tcd_read_buffer(tmsf_context *ctx, const char *origin, const char *data, size_t size,
                         tmsf_coil **coil);

/* ------------------------------------------------------------------------- */
/* Files                                                                     */
/* ------------------------------------------------------------------------- */

/* Read a whole file into memory (NUL-terminated). */
int tmsf_file_read_all(tmsf_context *ctx, const char *path, unsigned char **data, size_t *size);

/* ------------------------------------------------------------------------- */
/* Field                                                                     */
/* ------------------------------------------------------------------------- */

struct tmsf_field {
  tmsf_context *ctx;
  const tmsf_mesh *mesh;
  double didt;
  double *E;     /* 3*num_tets */
  double *phi;   /* num_nodes */
  double *sigma; /* num_tets */
  /* recovered nodal fields per tag, built on demand by sampling */
  int num_recovered;
  int32_t *recovered_tags;
  double **recovered;
};

int tmsf_field_alloc(tmsf_context *ctx, const tmsf_mesh *mesh, tmsf_field **field);

/* ------------------------------------------------------------------------- */
/* Simulation                                                                */
/* ------------------------------------------------------------------------- */

/* One source of primary field: a coil at a pose driven at a dI/dt. */
typedef struct tmsf_primary_source {
  const tmsf_coil *coil;
  const double *head_from_coil_m; /* 16 values */
  double didt_A_per_s;
  int stimulator; /* -1: every stimulator of the coil at didt; s >= 0: stimulator s alone */
} tmsf_primary_source;

/* The solve path of tmsf_simulation_solve for the sum of the primary fields
 * of num_sources sources (superposition), solved once (simulation.c).  The
 * field is labelled with didt_A_per_s (NAN for a set of several). */
int tmsf_simulation_solve_sources(tmsf_simulation *s, int num_sources, const tmsf_primary_source *src,
                                  double didt_A_per_s, tmsf_field **field);
/* The simulation's context and mesh (simulation.c). */
tmsf_context *tmsf_simulation_context(const tmsf_simulation *s);
const tmsf_mesh *tmsf_simulation_mesh(const tmsf_simulation *s);
/* Reciprocity weights of num_fun linear functionals of the field,
 * J_f(E) = sum_k V_e g_f,k . E_e over the tetrahedra el[0..num_el-1] (mesh
 * indices; g holds 3 values per listed tetrahedron and functional, functional
 * after functional): Q (3 per mesh node and functional, mesh numbering) with
 * J_f = sum_n Q_f,n . dA/dt(x_n) for every primary field (simulation.c). */
int tmsf_simulation_adjoint(tmsf_simulation *s, int num_fun, int64_t num_el, const int64_t *el,
                            const double *g, double *Q);

/* ------------------------------------------------------------------------- */
/* Pose                                                                      */
/* ------------------------------------------------------------------------- */

/* Apply pose: head = R * coil + t. */
static inline void tmsf_pose_apply_point(const double P[16], const double c[3], double h[3]) {
  for (int i = 0; i < 3; i++) h[i] = P[4 * i] * c[0] + P[4 * i + 1] * c[1] + P[4 * i + 2] * c[2] + P[4 * i + 3];
}
static inline void tmsf_pose_apply_vector(const double P[16], const double c[3], double h[3]) {
  for (int i = 0; i < 3; i++) h[i] = P[4 * i] * c[0] + P[4 * i + 1] * c[1] + P[4 * i + 2] * c[2];
}

#endif /* TMSF_IMPL_H */

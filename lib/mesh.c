/*
 * SPDX-License-Identifier: BSD-3-Clause
 * mesh.c: the mesh object — validation, tags, conductivities, adjacency,
 * geometry queries, scalp surface and point location.
 */
#include <float.h>
#include <pthread.h>
#include <string.h>

#include "tmsf-impl.h"

/* Lazy caches of a const mesh are built under this lock. */
static pthread_mutex_t mesh_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* SimNIBS default conductivities (S/m), tags 1..10. */
static const double default_sigma[11] = {
    0.0, 0.126, 0.275, 1.654, 0.010, 0.465, 0.5, 0.008, 0.025, 0.6, 0.16,
};

int tmsf_conductivity_default(int32_t tag, double *sigma_S_per_m) {
  if (!sigma_S_per_m) return TMSF_ERR_ARGUMENT;
  int32_t t = tag > 1000 ? tag - 1000 : tag;
  if (t < 1 || t > 10) return TMSF_ERR_NOT_FOUND;
  *sigma_S_per_m = default_sigma[t];
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Geometry                                                                  */
/* ------------------------------------------------------------------------- */

double tmsf_tet_signed_volume(const double *nodes, const int32_t *tet) {
  const double *a = nodes + 3 * (int64_t)tet[0], *b = nodes + 3 * (int64_t)tet[1];
  const double *c = nodes + 3 * (int64_t)tet[2], *d = nodes + 3 * (int64_t)tet[3];
  double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
  double v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
  double w[3] = {d[0] - a[0], d[1] - a[1], d[2] - a[2]};
  return (u[0] * (v[1] * w[2] - v[2] * w[1]) - u[1] * (v[0] * w[2] - v[2] * w[0]) +
          u[2] * (v[0] * w[1] - v[1] * w[0])) /
         6.0;
}

double tmsf_tet_geometry(const double *nodes, const int32_t *tet, double grad[4][3]) {
  const double *x0 = nodes + 3 * (int64_t)tet[0];
  double J[3][3]; /* rows: x1-x0, x2-x0, x3-x0 */
  for (int r = 0; r < 3; r++) {
    const double *xr = nodes + 3 * (int64_t)tet[r + 1];
    for (int c = 0; c < 3; c++) J[r][c] = xr[c] - x0[c];
  }
  /* Cofactors: grad N_{r+1} = column r of inverse(J)^T ... i.e. inv(J) columns. */
  double C[3][3];
  C[0][0] = J[1][1] * J[2][2] - J[1][2] * J[2][1];
  C[0][1] = J[1][2] * J[2][0] - J[1][0] * J[2][2];
  C[0][2] = J[1][0] * J[2][1] - J[1][1] * J[2][0];
  C[1][0] = J[2][1] * J[0][2] - J[2][2] * J[0][1];
  C[1][1] = J[2][2] * J[0][0] - J[2][0] * J[0][2];
  C[1][2] = J[2][0] * J[0][1] - J[2][1] * J[0][0];
  C[2][0] = J[0][1] * J[1][2] - J[0][2] * J[1][1];
  C[2][1] = J[0][2] * J[1][0] - J[0][0] * J[1][2];
  C[2][2] = J[0][0] * J[1][1] - J[0][1] * J[1][0];
  double det = J[0][0] * C[0][0] + J[0][1] * C[0][1] + J[0][2] * C[0][2];
  double inv = det != 0.0 ? 1.0 / det : 0.0;
  /* grad N_{r+1} = C[r] / det (row r of the cofactor matrix). */
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) grad[r + 1][c] = C[r][c] * inv;
  for (int c = 0; c < 3; c++) grad[0][c] = -(grad[1][c] + grad[2][c] + grad[3][c]);
  return det / 6.0;
}

/* ------------------------------------------------------------------------- */
/* Creation and validation                                                   */
/* ------------------------------------------------------------------------- */

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

static void mesh_free_arrays(tmsf_mesh *m) {
  free(m->origin);
  free(m->nodes);
  free(m->tets);
  free(m->tet_tags);
  free(m->tris);
  free(m->tri_tags);
  free(m->tags);
  free(m->cond);
  free(m->node_tet_ptr);
  free(m->node_tet);
  free(m->scalp_nodes);
  free(m->scalp_normals);
}

void tmsf_locator_free(tmsf_locator *loc);

int tmsf_mesh_destroy(tmsf_mesh **mesh) {
  if (!mesh || !*mesh) return TMSF_SUCCESS;
  mesh_free_arrays(*mesh);
  tmsf_locator_free((*mesh)->locator);
  free(*mesh);
  *mesh = NULL;
  return TMSF_SUCCESS;
}

static double tet_longest_edge2(const double *nodes, const int32_t *t) {
  double m = 0.0;
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++) {
      const double *a = nodes + 3 * (int64_t)t[i], *b = nodes + 3 * (int64_t)t[j];
      double d = (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                 (a[2] - b[2]) * (a[2] - b[2]);
      if (d > m) m = d;
    }
  return m;
}

int tmsf_mesh_from_owned(tmsf_context *ctx, const char *origin, int64_t num_nodes, double *nodes,
                         int64_t num_tets, int32_t *tets, int32_t *tet_tags, int64_t num_tris,
                         int32_t *tris, int32_t *tri_tags, const int64_t *tet_records,
                         tmsf_mesh **out) {
  tmsf_mesh tmp = {0};
  tmp.ctx = ctx;
  tmp.num_nodes = num_nodes;
  tmp.nodes = nodes;
  tmp.num_tets = num_tets;
  tmp.tets = tets;
  tmp.tet_tags = tet_tags;
  tmp.num_tris = num_tris;
  tmp.tris = tris;
  tmp.tri_tags = tri_tags;
  int ierr = TMSF_SUCCESS;
  *out = NULL;
  if (num_nodes < 4 || num_tets < 1) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MESH,
                      "%s: mesh has %lld nodes and %lld tetrahedra; expected at least 4 nodes and "
                      "1 tetrahedron",
                      origin, (long long)num_nodes, (long long)num_tets);
    goto fail;
  }
  if (num_nodes > INT32_MAX) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MESH, "%s: %lld nodes exceed the limit of %d", origin,
                      (long long)num_nodes, INT32_MAX);
    goto fail;
  }
  for (int64_t i = 0; i < 3 * num_nodes; i++)
    if (!isfinite(nodes[i])) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_MESH,
                        "%s: node %lld has a non-finite coordinate (%g); expected finite numbers",
                        origin, (long long)(i / 3) + 1, nodes[i]);
      goto fail;
    }
  /* Node references. */
  for (int64_t e = 0; e < num_tets; e++)
    for (int k = 0; k < 4; k++)
      if (tets[4 * e + k] < 0 || tets[4 * e + k] >= num_nodes) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_MESH,
                          "%s: tetrahedron %lld refers to node index %d; expected 0..%lld", origin,
                          (long long)(tet_records ? tet_records[e] : e), tets[4 * e + k],
                          (long long)num_nodes - 1);
        goto fail;
      }
  for (int64_t e = 0; e < num_tris; e++)
    for (int k = 0; k < 3; k++)
      if (tris[3 * e + k] < 0 || tris[3 * e + k] >= num_nodes) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_MESH,
                          "%s: triangle %lld refers to node index %d; expected 0..%lld", origin,
                          (long long)e, tris[3 * e + k], (long long)num_nodes - 1);
        goto fail;
      }
  /* Orientation and degeneracy. */
  {
    int64_t bad = -1;
    double badvol = 0.0, badratio = 0.0;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(tmsf_threads(ctx)) reduction(max : bad)
#endif
    for (int64_t e = 0; e < num_tets; e++) {
      double v = tmsf_tet_signed_volume(nodes, tets + 4 * e);
      double l2 = tet_longest_edge2(nodes, tets + 4 * e);
      double ratio = l2 > 0.0 ? v / (l2 * sqrt(l2)) : 0.0;
      if (!(ratio > 1e-8) && (bad < 0 || e < bad)) bad = e;
    }
    if (bad >= 0) {
      /* report the first offending element (lowest index): recompute serially */
      for (int64_t e = 0; e < num_tets; e++) {
        double v = tmsf_tet_signed_volume(nodes, tets + 4 * e);
        double l2 = tet_longest_edge2(nodes, tets + 4 * e);
        double ratio = l2 > 0.0 ? v / (l2 * sqrt(l2)) : 0.0;
        if (!(ratio > 1e-8)) {
          bad = e;
          badvol = v;
          badratio = ratio;
          break;
        }
      }
      long long rec = (long long)(tet_records ? tet_records[bad] : bad);
      if (badvol < 0.0 && badratio < -1e-8)
        ierr = TMSF_ERROR(ctx, TMSF_ERR_MESH,
                          "%s: tetrahedron %lld is inverted (signed volume %.3g mm^3); expected "
                          "positively oriented tetrahedra (Gmsh convention)",
                          origin, rec, badvol * 1e9);
      else
        ierr = TMSF_ERROR(ctx, TMSF_ERR_MESH,
                          "%s: tetrahedron %lld is degenerate (volume %.3g mm^3, %.3g times the "
                          "cube of its longest edge); expected a volume above 1e-8 times it",
                          origin, rec, badvol * 1e9, badratio);
      goto fail;
    }
  }
  /* Distinct tags. */
  {
    int32_t *sorted = tmsf_malloc_array((size_t)num_tets, sizeof(int32_t));
    if (!sorted) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
      goto fail;
    }
    memcpy(sorted, tet_tags, (size_t)num_tets * sizeof(int32_t));
    qsort(sorted, (size_t)num_tets, sizeof(int32_t), cmp_i32);
    int n = 0;
    for (int64_t i = 0; i < num_tets; i++)
      if (i == 0 || sorted[i] != sorted[n - 1]) sorted[n++] = sorted[i];
    tmp.num_tags = n;
    tmp.tags = realloc(sorted, (size_t)n * sizeof(int32_t));
    if (!tmp.tags) tmp.tags = sorted;
  }
  tmsf_mesh *m = malloc(sizeof(*m));
  if (!m) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
    goto fail;
  }
  *m = tmp;
  m->origin = tmsf_strdup(origin);
  if (!m->origin) {
    tmsf_mesh_destroy(&m);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
  }
  ierr = tmsf_mesh_build_adjacency(m);
  if (ierr) {
    tmsf_mesh_destroy(&m);
    return ierr;
  }
  *out = m;
  return TMSF_SUCCESS;
fail:
  mesh_free_arrays(&tmp);
  return ierr;
}

int tmsf_mesh_create(tmsf_context *ctx, int64_t num_nodes, const double *nodes_m, int64_t num_tets,
                     const int32_t *tets, const int32_t *tet_tags, int64_t num_tris,
                     const int32_t *tris, const int32_t *tri_tags, tmsf_mesh **mesh) {
  if (!ctx || !mesh) return TMSF_ERR_ARGUMENT;
  *mesh = NULL;
  if (num_nodes < 0 || num_tets < 0 || num_tris < 0 || !nodes_m || !tets ||
      (num_tris > 0 && !tris))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "tmsf_mesh_create: negative count or NULL array (nodes %p, tets %p, tris %p)",
                      (const void *)nodes_m, (const void *)tets, (const void *)tris);
  double *n = tmsf_malloc_array((size_t)num_nodes * 3, sizeof(double));
  int32_t *t = tmsf_malloc_array((size_t)num_tets * 4, sizeof(int32_t));
  int32_t *tt = tmsf_malloc_array((size_t)num_tets, sizeof(int32_t));
  int32_t *r = tmsf_malloc_array((size_t)num_tris * 3, sizeof(int32_t));
  int32_t *rt = tmsf_malloc_array((size_t)num_tris, sizeof(int32_t));
  if (!n || !t || !tt || !r || !rt) {
    free(n), free(t), free(tt), free(r), free(rt);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "tmsf_mesh_create: out of memory");
  }
  memcpy(n, nodes_m, (size_t)num_nodes * 3 * sizeof(double));
  memcpy(t, tets, (size_t)num_tets * 4 * sizeof(int32_t));
  for (int64_t i = 0; i < num_tets; i++) tt[i] = tet_tags ? tet_tags[i] : 1;
  if (num_tris) memcpy(r, tris, (size_t)num_tris * 3 * sizeof(int32_t));
  for (int64_t i = 0; i < num_tris; i++) rt[i] = tri_tags ? tri_tags[i] : 0;
  return tmsf_mesh_from_owned(ctx, "tmsf_mesh_create", num_nodes, n, num_tets, t, tt, num_tris, r,
                              rt, NULL, mesh);
}

int tmsf_mesh_read(tmsf_context *ctx, const char *path, tmsf_mesh **mesh) {
  if (!ctx || !path || !mesh) return TMSF_ERR_ARGUMENT;
  *mesh = NULL;
  return tmsf_msh_read(ctx, path, mesh);
}

/* ------------------------------------------------------------------------- */
/* Queries                                                                   */
/* ------------------------------------------------------------------------- */

tmsf_context *tmsf_mesh_get_context(const tmsf_mesh *mesh) { return mesh ? mesh->ctx : NULL; }

int tmsf_mesh_get_sizes(const tmsf_mesh *mesh, int64_t *num_nodes, int64_t *num_tets,
                        int64_t *num_tris) {
  if (!mesh) return TMSF_ERR_ARGUMENT;
  if (num_nodes) *num_nodes = mesh->num_nodes;
  if (num_tets) *num_tets = mesh->num_tets;
  if (num_tris) *num_tris = mesh->num_tris;
  return TMSF_SUCCESS;
}

int tmsf_mesh_get_nodes(const tmsf_mesh *mesh, const double **nodes_m) {
  if (!mesh || !nodes_m) return TMSF_ERR_ARGUMENT;
  *nodes_m = mesh->nodes;
  return TMSF_SUCCESS;
}

int tmsf_mesh_get_tetrahedra(const tmsf_mesh *mesh, const int32_t **tets, const int32_t **tags) {
  if (!mesh) return TMSF_ERR_ARGUMENT;
  if (tets) *tets = mesh->tets;
  if (tags) *tags = mesh->tet_tags;
  return TMSF_SUCCESS;
}

int tmsf_mesh_get_triangles(const tmsf_mesh *mesh, const int32_t **tris, const int32_t **tags) {
  if (!mesh) return TMSF_ERR_ARGUMENT;
  if (tris) *tris = mesh->num_tris ? mesh->tris : NULL;
  if (tags) *tags = mesh->num_tris ? mesh->tri_tags : NULL;
  return TMSF_SUCCESS;
}

int tmsf_mesh_get_tags(const tmsf_mesh *mesh, int *num_tags, const int32_t **tags) {
  if (!mesh || !num_tags || !tags) return TMSF_ERR_ARGUMENT;
  *num_tags = mesh->num_tags;
  *tags = mesh->tags;
  return TMSF_SUCCESS;
}

int tmsf_mesh_get_volumes(const tmsf_mesh *mesh, double *vol_m3) {
  if (!mesh || !vol_m3) return TMSF_ERR_ARGUMENT;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(tmsf_threads(mesh->ctx))
#endif
  for (int64_t e = 0; e < mesh->num_tets; e++)
    vol_m3[e] = tmsf_tet_signed_volume(mesh->nodes, mesh->tets + 4 * e);
  return TMSF_SUCCESS;
}

int tmsf_mesh_get_bounds(const tmsf_mesh *mesh, double min_m[3], double max_m[3]) {
  if (!mesh || !min_m || !max_m) return TMSF_ERR_ARGUMENT;
  for (int c = 0; c < 3; c++) {
    min_m[c] = DBL_MAX;
    max_m[c] = -DBL_MAX;
  }
  for (int64_t i = 0; i < mesh->num_nodes; i++)
    for (int c = 0; c < 3; c++) {
      double v = mesh->nodes[3 * i + c];
      if (v < min_m[c]) min_m[c] = v;
      if (v > max_m[c]) max_m[c] = v;
    }
  return TMSF_SUCCESS;
}

int tmsf_mesh_get_mean_edge(const tmsf_mesh *mesh, double *edge_m) {
  if (!mesh || !edge_m) return TMSF_ERR_ARGUMENT;
  int64_t nn = mesh->num_nodes;
  double *sum = tmsf_calloc_array((size_t)nn, sizeof(double));
  int64_t *cnt = tmsf_calloc_array((size_t)nn, sizeof(int64_t));
  if (!sum || !cnt) {
    free(sum), free(cnt);
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "mean edge: out of memory");
  }
  /* Edge (i,j), i<j, counted at node i: gather neighbours j>i over the tets of i. */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 1024) num_threads(tmsf_threads(mesh->ctx))
#endif
  for (int64_t i = 0; i < nn; i++) {
    int32_t nb[512];
    int k = 0;
    for (int64_t p = mesh->node_tet_ptr[i]; p < mesh->node_tet_ptr[i + 1]; p++) {
      const int32_t *t = mesh->tets + 4 * (int64_t)mesh->node_tet[p];
      for (int a = 0; a < 4; a++) {
        int32_t j = t[a];
        if (j <= i) continue;
        int seen = 0;
        for (int q = 0; q < k; q++)
          if (nb[q] == j) {
            seen = 1;
            break;
          }
        if (!seen && k < 512) nb[k++] = j;
      }
    }
    double s = 0.0;
    for (int q = 0; q < k; q++) {
      const double *a = mesh->nodes + 3 * i, *b = mesh->nodes + 3 * (int64_t)nb[q];
      s += sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                (a[2] - b[2]) * (a[2] - b[2]));
    }
    sum[i] = s;
    cnt[i] = k;
  }
  double s = 0.0;
  int64_t c = 0;
  for (int64_t i = 0; i < nn; i++) {
    s += sum[i];
    c += cnt[i];
  }
  free(sum);
  free(cnt);
  *edge_m = c ? s / (double)c : 0.0;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Conductivities                                                            */
/* ------------------------------------------------------------------------- */

int tmsf_mesh_set_conductivity(tmsf_mesh *mesh, int32_t tag, double sigma_S_per_m) {
  if (!mesh) return TMSF_ERR_ARGUMENT;
  if (!isfinite(sigma_S_per_m) || sigma_S_per_m <= 0.0)
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_CONDUCTIVITY,
                      "conductivity of tag %d must be finite and > 0 S/m, got %g", tag,
                      sigma_S_per_m);
  for (int i = 0; i < mesh->num_cond; i++)
    if (mesh->cond[i].tag == tag) {
      mesh->cond[i].sigma = sigma_S_per_m;
      return TMSF_SUCCESS;
    }
  tmsf_cond_entry *c = realloc(mesh->cond, (size_t)(mesh->num_cond + 1) * sizeof(*c));
  if (!c) return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "out of memory");
  mesh->cond = c;
  c[mesh->num_cond].tag = tag;
  c[mesh->num_cond].sigma = sigma_S_per_m;
  mesh->num_cond++;
  return TMSF_SUCCESS;
}

int tmsf_mesh_get_conductivity(const tmsf_mesh *mesh, int32_t tag, double *sigma_S_per_m) {
  if (!mesh || !sigma_S_per_m) return TMSF_ERR_ARGUMENT;
  for (int i = 0; i < mesh->num_cond; i++)
    if (mesh->cond[i].tag == tag) {
      *sigma_S_per_m = mesh->cond[i].sigma;
      return TMSF_SUCCESS;
    }
  if (tmsf_conductivity_default(tag, sigma_S_per_m) == TMSF_SUCCESS) return TMSF_SUCCESS;
  return TMSF_ERROR(mesh->ctx, TMSF_ERR_NOT_FOUND,
                    "tag %d has no conductivity (SimNIBS defaults cover tags 1..10); set one "
                    "with tmsf_mesh_set_conductivity",
                    tag);
}

int tmsf_mesh_tet_conductivities(const tmsf_mesh *mesh, double *sigma) {
  /* Per distinct tag, then per element. */
  double *tag_sigma = tmsf_malloc_array((size_t)mesh->num_tags, sizeof(double));
  if (!tag_sigma) return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "out of memory");
  for (int i = 0; i < mesh->num_tags; i++) {
    if (tmsf_mesh_get_conductivity(mesh, mesh->tags[i], &tag_sigma[i]) != TMSF_SUCCESS) {
      int64_t count = 0;
      for (int64_t e = 0; e < mesh->num_tets; e++) count += mesh->tet_tags[e] == mesh->tags[i];
      free(tag_sigma);
      return TMSF_ERROR(mesh->ctx, TMSF_ERR_CONDUCTIVITY,
                        "%s: tissue tag %d (%lld tetrahedra) has no conductivity: SimNIBS "
                        "defaults cover tags 1..10; set one with tmsf_mesh_set_conductivity or "
                        "--sigma TAG=S_PER_M",
                        mesh->origin, mesh->tags[i], (long long)count);
    }
  }
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(tmsf_threads(mesh->ctx))
#endif
  for (int64_t e = 0; e < mesh->num_tets; e++) {
    int lo = 0, hi = mesh->num_tags - 1;
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (mesh->tags[mid] < mesh->tet_tags[e])
        lo = mid + 1;
      else
        hi = mid;
    }
    sigma[e] = tag_sigma[lo];
  }
  free(tag_sigma);
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Adjacency                                                                 */
/* ------------------------------------------------------------------------- */

int tmsf_mesh_build_adjacency(const tmsf_mesh *cmesh) {
  tmsf_mesh *mesh = (tmsf_mesh *)cmesh;
  if (mesh->node_tet_ptr) return TMSF_SUCCESS;
  int64_t nn = mesh->num_nodes, ne = mesh->num_tets;
  int64_t *ptr = tmsf_calloc_array((size_t)nn + 1, sizeof(int64_t));
  int32_t *adj = tmsf_malloc_array((size_t)ne * 4, sizeof(int32_t));
  if (!ptr || !adj) {
    free(ptr), free(adj);
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "adjacency: out of memory");
  }
  for (int64_t e = 0; e < ne; e++)
    for (int k = 0; k < 4; k++) ptr[mesh->tets[4 * e + k] + 1]++;
  for (int64_t i = 0; i < nn; i++) ptr[i + 1] += ptr[i];
  int64_t *fill = tmsf_malloc_array((size_t)nn, sizeof(int64_t));
  if (!fill) {
    free(ptr), free(adj);
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "adjacency: out of memory");
  }
  memcpy(fill, ptr, (size_t)nn * sizeof(int64_t));
  for (int64_t e = 0; e < ne; e++) /* increasing e: lists come out sorted */
    for (int k = 0; k < 4; k++) adj[fill[mesh->tets[4 * e + k]]++] = (int32_t)e;
  free(fill);
  mesh->node_tet_ptr = ptr;
  mesh->node_tet = adj;
  return TMSF_SUCCESS;
}

/* Tetrahedron other than `self` that contains nodes a, b, c (sorted lists of
 * the three nodes are intersected); -1 if none. */
static int64_t tet_across(const tmsf_mesh *m, int32_t a, int32_t b, int32_t c, int64_t self) {
  for (int64_t p = m->node_tet_ptr[a]; p < m->node_tet_ptr[a + 1]; p++) {
    int64_t e = m->node_tet[p];
    if (e == self) continue;
    const int32_t *t = m->tets + 4 * e;
    int hb = 0, hc = 0;
    for (int k = 0; k < 4; k++) {
      hb |= t[k] == b;
      hc |= t[k] == c;
    }
    if (hb && hc) return e;
  }
  return -1;
}

int tmsf_mesh_triangle_tets(const tmsf_mesh *mesh, int32_t *tri_tet) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(tmsf_threads(mesh->ctx))
#endif
  for (int64_t f = 0; f < mesh->num_tris; f++) {
    const int32_t *t = mesh->tris + 3 * f;
    int32_t want = mesh->tri_tags[f] - 1000;
    int64_t any = -1, match = -1;
    for (int64_t p = mesh->node_tet_ptr[t[0]]; p < mesh->node_tet_ptr[t[0] + 1]; p++) {
      int64_t e = mesh->node_tet[p];
      const int32_t *q = mesh->tets + 4 * e;
      int hb = 0, hc = 0;
      for (int k = 0; k < 4; k++) {
        hb |= q[k] == t[1];
        hc |= q[k] == t[2];
      }
      if (hb && hc) {
        if (any < 0) any = e;
        if (match < 0 && mesh->tet_tags[e] == want) match = e;
      }
    }
    tri_tet[f] = (int32_t)(match >= 0 ? match : any);
  }
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Scalp surface                                                             */
/* ------------------------------------------------------------------------- */

static const int tet_faces[4][4] = {{1, 2, 3, 0}, {0, 3, 2, 1}, {0, 1, 3, 2}, {0, 2, 1, 3}};

static int build_scalp(tmsf_mesh *mesh) {
  int64_t nf = 0;
  int32_t *faces = NULL; /* 3 per face, outward oriented */
  int64_t n1005 = 0;
  for (int64_t f = 0; f < mesh->num_tris; f++) n1005 += mesh->tri_tags[f] == 1005;
  if (n1005 > 0) {
    faces = tmsf_malloc_array((size_t)n1005 * 3, sizeof(int32_t));
    int32_t *tri_tet = tmsf_malloc_array((size_t)mesh->num_tris, sizeof(int32_t));
    if (!faces || !tri_tet) {
      free(faces), free(tri_tet);
      return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "scalp: out of memory");
    }
    tmsf_mesh_triangle_tets(mesh, tri_tet);
    double lo[3], hi[3];
    tmsf_mesh_get_bounds(mesh, lo, hi);
    for (int64_t f = 0; f < mesh->num_tris; f++) {
      if (mesh->tri_tags[f] != 1005) continue;
      int32_t *o = faces + 3 * nf++;
      const int32_t *t = mesh->tris + 3 * f;
      o[0] = t[0], o[1] = t[1], o[2] = t[2];
      const double *a = mesh->nodes + 3 * (int64_t)t[0], *b = mesh->nodes + 3 * (int64_t)t[1],
                   *c = mesh->nodes + 3 * (int64_t)t[2];
      double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
      double v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
      double n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
      double ref[3]; /* a point inside: the adjacent tet's opposite vertex, else the box centre */
      if (tri_tet[f] >= 0) {
        const int32_t *q = mesh->tets + 4 * (int64_t)tri_tet[f];
        int k = 0;
        for (int j = 0; j < 4; j++)
          if (q[j] != t[0] && q[j] != t[1] && q[j] != t[2]) k = j;
        for (int j = 0; j < 3; j++) ref[j] = mesh->nodes[3 * (int64_t)q[k] + j];
      } else {
        for (int j = 0; j < 3; j++) ref[j] = 0.5 * (lo[j] + hi[j]);
      }
      double d = n[0] * (ref[0] - a[0]) + n[1] * (ref[1] - a[1]) + n[2] * (ref[2] - a[2]);
      if (d > 0.0) { /* normal points inwards: flip */
        o[1] = t[2];
        o[2] = t[1];
      }
    }
    free(tri_tet);
  } else {
    /* Outer boundary of the tetrahedra: faces without a neighbour. */
    int64_t cap = 1024;
    faces = tmsf_malloc_array((size_t)cap * 3, sizeof(int32_t));
    if (!faces) return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "scalp: out of memory");
    for (int64_t e = 0; e < mesh->num_tets; e++) {
      const int32_t *q = mesh->tets + 4 * e;
      for (int f = 0; f < 4; f++) {
        int32_t a = q[tet_faces[f][0]], b = q[tet_faces[f][1]], c = q[tet_faces[f][2]];
        if (tet_across(mesh, a, b, c, e) >= 0) continue;
        if (nf == cap) {
          cap *= 2;
          int32_t *nfc = realloc(faces, (size_t)cap * 3 * sizeof(int32_t));
          if (!nfc) {
            free(faces);
            return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "scalp: out of memory");
          }
          faces = nfc;
        }
        faces[3 * nf] = a, faces[3 * nf + 1] = b, faces[3 * nf + 2] = c;
        nf++;
      }
    }
  }
  /* Area-weighted vertex normals. */
  double *acc = tmsf_calloc_array((size_t)mesh->num_nodes * 3, sizeof(double));
  char *on = tmsf_calloc_array((size_t)mesh->num_nodes, 1);
  if (!acc || !on) {
    free(faces), free(acc), free(on);
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "scalp: out of memory");
  }
  for (int64_t f = 0; f < nf; f++) {
    const int32_t *t = faces + 3 * f;
    const double *a = mesh->nodes + 3 * (int64_t)t[0], *b = mesh->nodes + 3 * (int64_t)t[1],
                 *c = mesh->nodes + 3 * (int64_t)t[2];
    double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    double v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
    double n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    for (int k = 0; k < 3; k++) {
      on[t[k]] = 1;
      for (int j = 0; j < 3; j++) acc[3 * (int64_t)t[k] + j] += n[j];
    }
  }
  free(faces);
  int64_t ns = 0;
  for (int64_t i = 0; i < mesh->num_nodes; i++) ns += on[i];
  int32_t *sn = tmsf_malloc_array((size_t)ns, sizeof(int32_t));
  double *nrm = tmsf_malloc_array((size_t)ns * 3, sizeof(double));
  if (!sn || !nrm) {
    free(sn), free(nrm), free(acc), free(on);
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "scalp: out of memory");
  }
  int64_t k = 0;
  for (int64_t i = 0; i < mesh->num_nodes; i++) {
    if (!on[i]) continue;
    double *a = acc + 3 * i;
    double l = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    sn[k] = (int32_t)i;
    for (int j = 0; j < 3; j++) nrm[3 * k + j] = l > 0.0 ? a[j] / l : 0.0;
    k++;
  }
  free(acc);
  free(on);
  mesh->scalp_num_nodes = ns;
  mesh->scalp_nodes = sn;
  mesh->scalp_normals = nrm;
  return TMSF_SUCCESS;
}

int tmsf_mesh_get_scalp(const tmsf_mesh *cmesh, int64_t *num_nodes, const int32_t **nodes,
                        const double **normals) {
  if (!cmesh || !num_nodes || !nodes || !normals) return TMSF_ERR_ARGUMENT;
  tmsf_mesh *mesh = (tmsf_mesh *)cmesh;
  int ierr = TMSF_SUCCESS;
  pthread_mutex_lock(&mesh_cache_lock);
  if (!mesh->scalp_nodes) ierr = build_scalp(mesh);
  pthread_mutex_unlock(&mesh_cache_lock);
  if (ierr) return ierr;
  if (mesh->scalp_num_nodes == 0)
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_MESH, "the mesh has no outer surface");
  *num_nodes = mesh->scalp_num_nodes;
  *nodes = mesh->scalp_nodes;
  *normals = mesh->scalp_normals;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Point location: a uniform grid of buckets over the tetrahedra's boxes.    */
/* ------------------------------------------------------------------------- */

struct tmsf_locator {
  double lo[3], h[3];
  int64_t n[3];
  int64_t *ptr;
  int32_t *items;
};

void tmsf_locator_free(tmsf_locator *loc) {
  if (!loc) return;
  free(loc->ptr);
  free(loc->items);
  free(loc);
}

static void cell_range(const tmsf_locator *L, const double lo[3], const double hi[3], int64_t a[3],
                       int64_t b[3]) {
  for (int c = 0; c < 3; c++) {
    double x0 = floor((lo[c] - L->lo[c]) / L->h[c]), x1 = floor((hi[c] - L->lo[c]) / L->h[c]);
    a[c] = x0 < 0 ? 0 : (x0 >= (double)L->n[c] ? L->n[c] - 1 : (int64_t)x0);
    b[c] = x1 < 0 ? 0 : (x1 >= (double)L->n[c] ? L->n[c] - 1 : (int64_t)x1);
  }
}

static void tet_box(const tmsf_mesh *m, int64_t e, double lo[3], double hi[3]) {
  for (int c = 0; c < 3; c++) {
    lo[c] = DBL_MAX;
    hi[c] = -DBL_MAX;
  }
  for (int k = 0; k < 4; k++) {
    const double *x = m->nodes + 3 * (int64_t)m->tets[4 * e + k];
    for (int c = 0; c < 3; c++) {
      if (x[c] < lo[c]) lo[c] = x[c];
      if (x[c] > hi[c]) hi[c] = x[c];
    }
  }
}

static int build_locator(tmsf_mesh *m) {
  tmsf_locator *L = calloc(1, sizeof(*L));
  if (!L) return TMSF_ERROR(m->ctx, TMSF_ERR_MEMORY, "locator: out of memory");
  double hi[3];
  tmsf_mesh_get_bounds(m, L->lo, hi);
  double vol = 1.0;
  for (int c = 0; c < 3; c++) {
    double ext = hi[c] - L->lo[c];
    if (ext <= 0) ext = 1e-9;
    L->lo[c] -= 1e-9 * ext;
    hi[c] += 1e-9 * ext;
    vol *= hi[c] - L->lo[c];
  }
  /* About one tetrahedron per cell.  A valid but pathological mesh (stacked
   * overlapping tetrahedra, a few tiny ones far apart) would make the grid or
   * its bucket lists far larger than the mesh: coarsen until the cells and
   * the (cell, tetrahedron) entries stay within a budget proportional to the
   * number of tetrahedra.  Ordinary meshes hold about 8 entries per element. */
  const int64_t budget = 64 * m->num_tets + 65536;
  double cell = cbrt(vol / (double)m->num_tets) * 1.5;
  int64_t ncell;
  for (;;) {
    ncell = 1;
    for (int c = 0; c < 3; c++) {
      double nc = ceil((hi[c] - L->lo[c]) / cell);
      L->n[c] = !(nc >= 1.0) ? 1 : (nc > 2048 ? 2048 : (int64_t)nc);
      L->h[c] = (hi[c] - L->lo[c]) / (double)L->n[c];
      ncell *= L->n[c];
    }
    if (ncell == 1) break;
    int64_t entries = 0;
    for (int64_t e = 0; e < m->num_tets && entries <= budget; e++) {
      double lo[3], hi2[3];
      int64_t a[3], b[3];
      tet_box(m, e, lo, hi2);
      cell_range(L, lo, hi2, a, b);
      entries += (b[0] - a[0] + 1) * (b[1] - a[1] + 1) * (b[2] - a[2] + 1);
    }
    if (ncell <= budget && entries <= budget) break;
    cell *= 2.0;
  }
  L->ptr = tmsf_calloc_array((size_t)ncell + 1, sizeof(int64_t));
  if (!L->ptr) {
    tmsf_locator_free(L);
    return TMSF_ERROR(m->ctx, TMSF_ERR_MEMORY, "locator: out of memory");
  }
  for (int pass = 0; pass < 2; pass++) {
    int64_t *fill = NULL;
    if (pass == 1) {
      for (int64_t i = 0; i < ncell; i++) L->ptr[i + 1] += L->ptr[i];
      L->items = tmsf_malloc_array((size_t)L->ptr[ncell], sizeof(int32_t));
      fill = tmsf_malloc_array((size_t)ncell, sizeof(int64_t));
      if (!L->items || !fill) {
        free(fill);
        tmsf_locator_free(L);
        return TMSF_ERROR(m->ctx, TMSF_ERR_MEMORY, "locator: out of memory");
      }
      memcpy(fill, L->ptr, (size_t)ncell * sizeof(int64_t));
    }
    for (int64_t e = 0; e < m->num_tets; e++) {
      double lo[3], hi2[3];
      int64_t a[3], b[3];
      tet_box(m, e, lo, hi2);
      cell_range(L, lo, hi2, a, b);
      for (int64_t k = a[2]; k <= b[2]; k++)
        for (int64_t j = a[1]; j <= b[1]; j++)
          for (int64_t i = a[0]; i <= b[0]; i++) {
            int64_t cidx = (k * L->n[1] + j) * L->n[0] + i;
            if (pass == 0)
              L->ptr[cidx + 1]++;
            else
              L->items[fill[cidx]++] = (int32_t)e;
          }
    }
    free(fill);
  }
  m->locator = L;
  return TMSF_SUCCESS;
}

/* Barycentric coordinates of x in tet e; returns the smallest one. */
static double barycentric(const tmsf_mesh *m, int64_t e, const double x[3], double lam[4]) {
  double g[4][3];
  tmsf_tet_geometry(m->nodes, m->tets + 4 * e, g);
  const double *x0 = m->nodes + 3 * (int64_t)m->tets[4 * e];
  double d[3] = {x[0] - x0[0], x[1] - x0[1], x[2] - x0[2]};
  double mn = 1.0;
  lam[0] = 1.0;
  for (int k = 1; k < 4; k++) {
    lam[k] = g[k][0] * d[0] + g[k][1] * d[1] + g[k][2] * d[2];
    lam[0] -= lam[k];
  }
  for (int k = 0; k < 4; k++)
    if (lam[k] < mn) mn = lam[k];
  return mn;
}

int tmsf_mesh_locate_one(const tmsf_mesh *m, const double x[3], double lam[4], int64_t *tet) {
  const tmsf_locator *L = m->locator;
  *tet = -1;
  int64_t c[3];
  for (int k = 0; k < 3; k++) {
    double f = floor((x[k] - L->lo[k]) / L->h[k]);
    if (!(f >= 0.0) || f >= (double)L->n[k]) return TMSF_SUCCESS;
    c[k] = (int64_t)f;
  }
  int64_t cidx = (c[2] * L->n[1] + c[1]) * L->n[0] + c[0];
  double best = -DBL_MAX;
  double bl[4];
  for (int64_t p = L->ptr[cidx]; p < L->ptr[cidx + 1]; p++) {
    int64_t e = L->items[p];
    double l4[4];
    double mn = barycentric(m, e, x, l4);
    if (mn > best) {
      best = mn;
      *tet = e;
      memcpy(bl, l4, sizeof(bl));
      if (mn >= 0.0) break;
    }
  }
  if (best < -1e-9) *tet = -1;
  if (*tet >= 0 && lam) memcpy(lam, bl, sizeof(bl));
  return TMSF_SUCCESS;
}

int tmsf_mesh_ensure_locator(const tmsf_mesh *cmesh) {
  tmsf_mesh *mesh = (tmsf_mesh *)cmesh;
  int ierr = TMSF_SUCCESS;
  pthread_mutex_lock(&mesh_cache_lock);
  if (!mesh->locator) ierr = build_locator(mesh);
  pthread_mutex_unlock(&mesh_cache_lock);
  return ierr;
}

int tmsf_mesh_locate(const tmsf_mesh *mesh, int64_t num_points, const double *points_m,
                     int64_t *tet_index) {
  if (!mesh || num_points < 0 || (num_points && (!points_m || !tet_index))) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(tmsf_mesh_ensure_locator(mesh));
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 256) num_threads(tmsf_threads(mesh->ctx))
#endif
  for (int64_t i = 0; i < num_points; i++) tmsf_mesh_locate_one(mesh, points_m + 3 * i, NULL, &tet_index[i]);
  return TMSF_SUCCESS;
}

int tmsf_mesh_write(const tmsf_mesh *mesh, const tmsf_field *field, const char *path) {
  if (!mesh || !path) return TMSF_ERR_ARGUMENT;
  if (field && field->mesh != mesh)
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_ARGUMENT, "%s: the field belongs to another mesh", path);
  return tmsf_msh_write(mesh, field, path);
}

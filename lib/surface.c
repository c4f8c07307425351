/*
 * SPDX-License-Identifier: BSD-3-Clause
 * surface.c: tissue boundary surfaces, nearest-point queries and sampling
 * of a field at a relative cortical depth (surface.h).
 */
#include <string.h>

#include "surface-impl.h"

struct tmsf_surface {
  tmsf_context *ctx;
  const tmsf_mesh *mesh;
  int32_t tag;
  int64_t nv, nt;
  double *xyz;          /* 3*nv, m */
  int32_t *tris;        /* 3*nt, into xyz */
  int32_t *mesh_node;   /* nv */
  double *vnormal;      /* 3*nv */
  double *tnormal;      /* 3*nt */
  double area;
  tmsf_tri_grid *grid;
};

static inline double dot3(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static inline void cross3(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

/* ------------------------------------------------------------------------- */
/* Closest point on a triangle                                               */
/* ------------------------------------------------------------------------- */

/* The closest point lies in the face, on an edge or at a vertex; which one
 * follows from the signs of the barycentric coordinates of p's projection
 * (the Voronoi regions of the triangle's features; Ericson, Real-Time
 * Collision Detection, 2005, sec. 5.1.5). */
double tmsf_closest_on_triangle(const double p[3], const double a[3], const double b[3],
                                const double c[3], double q[3]) {
  double ab[3], ac[3], ap[3], bp[3], cp[3];
  for (int k = 0; k < 3; k++) {
    ab[k] = b[k] - a[k], ac[k] = c[k] - a[k];
    ap[k] = p[k] - a[k], bp[k] = p[k] - b[k], cp[k] = p[k] - c[k];
  }
  double d1 = dot3(ab, ap), d2 = dot3(ac, ap);
  double d3 = dot3(ab, bp), d4 = dot3(ac, bp);
  double d5 = dot3(ab, cp), d6 = dot3(ac, cp);
  double va = d3 * d6 - d5 * d4, vb = d5 * d2 - d1 * d6, vc = d1 * d4 - d3 * d2;
  if (d1 <= 0.0 && d2 <= 0.0) {
    memcpy(q, a, 3 * sizeof(double));
  } else if (d3 >= 0.0 && d4 <= d3) {
    memcpy(q, b, 3 * sizeof(double));
  } else if (d6 >= 0.0 && d5 <= d6) {
    memcpy(q, c, 3 * sizeof(double));
  } else if (vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0) {
    double t = d1 / (d1 - d3);
    for (int k = 0; k < 3; k++) q[k] = a[k] + t * ab[k];
  } else if (vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0) {
    double t = d2 / (d2 - d6);
    for (int k = 0; k < 3; k++) q[k] = a[k] + t * ac[k];
  } else if (va <= 0.0 && d4 - d3 >= 0.0 && d5 - d6 >= 0.0) {
    double t = (d4 - d3) / ((d4 - d3) + (d5 - d6));
    for (int k = 0; k < 3; k++) q[k] = b[k] + t * (c[k] - b[k]);
  } else {
    double s = va + vb + vc;
    if (!(s > 0.0)) { /* degenerate triangle: the nearest vertex */
      double da = dot3(ap, ap), db = dot3(bp, bp), dc = dot3(cp, cp);
      const double *v = da <= db && da <= dc ? a : db <= dc ? b : c;
      memcpy(q, v, 3 * sizeof(double));
    } else {
      double v = vb / s, w = vc / s;
      for (int k = 0; k < 3; k++) q[k] = a[k] + v * ab[k] + w * ac[k];
    }
  }
  double d[3] = {p[0] - q[0], p[1] - q[1], p[2] - q[2]};
  return dot3(d, d);
}

/* ------------------------------------------------------------------------- */
/* Uniform grid of triangles                                                 */
/* ------------------------------------------------------------------------- */

#define GRID_MAX_DIM 256

static void cell_range(const tmsf_tri_grid *g, const double lo[3], const double hi[3], int64_t a[3],
                       int64_t b[3]) {
  for (int k = 0; k < 3; k++) {
    int64_t i0 = (int64_t)floor((lo[k] - g->lo[k]) / g->cell), i1 = (int64_t)floor((hi[k] - g->lo[k]) / g->cell);
    a[k] = i0 < 0 ? 0 : i0 >= g->dims[k] ? g->dims[k] - 1 : i0;
    b[k] = i1 < 0 ? 0 : i1 >= g->dims[k] ? g->dims[k] - 1 : i1;
  }
}

int tmsf_tri_grid_build(tmsf_context *ctx, const double *xyz, int64_t nt, const int32_t *tris,
                        tmsf_tri_grid **out) {
  *out = NULL;
  tmsf_tri_grid *g = calloc(1, sizeof(*g));
  if (!g) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "surface grid: out of memory");
  g->xyz = xyz, g->tris = tris, g->num_tris = nt;
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY}, edge = 0;
  for (int64_t t = 0; t < nt; t++)
    for (int j = 0; j < 3; j++) {
      const double *a = xyz + 3 * (int64_t)tris[3 * t + j], *b = xyz + 3 * (int64_t)tris[3 * t + (j + 1) % 3];
      for (int k = 0; k < 3; k++) lo[k] = fmin(lo[k], a[k]), hi[k] = fmax(hi[k], a[k]);
      double d[3] = {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
      edge += sqrt(dot3(d, d));
    }
  if (nt == 0) {
    for (int k = 0; k < 3; k++) lo[k] = 0, hi[k] = 0;
    edge = 1;
  } else {
    edge /= (double)(3 * nt);
  }
  double ext = fmax(fmax(hi[0] - lo[0], hi[1] - lo[1]), hi[2] - lo[2]);
  double cell = 2.0 * edge;
  if (!(cell > 0)) cell = ext > 0 ? ext : 1.0;
  if (ext / cell > GRID_MAX_DIM) cell = ext / GRID_MAX_DIM;
  g->cell = cell;
  for (int k = 0; k < 3; k++) {
    g->lo[k] = lo[k];
    g->dims[k] = (int64_t)floor((hi[k] - lo[k]) / cell) + 1;
  }
  int64_t ncell = g->dims[0] * g->dims[1] * g->dims[2];
  g->ptr = calloc((size_t)ncell + 1, sizeof(int64_t));
  if (!g->ptr) goto oom;
  for (int pass = 0; pass < 2; pass++) {
    for (int64_t t = 0; t < nt; t++) {
      double tl[3], th[3];
      for (int k = 0; k < 3; k++) {
        tl[k] = th[k] = xyz[3 * (int64_t)tris[3 * t] + k];
        for (int j = 1; j < 3; j++) {
          double v = xyz[3 * (int64_t)tris[3 * t + j] + k];
          tl[k] = fmin(tl[k], v), th[k] = fmax(th[k], v);
        }
      }
      int64_t a[3], b[3];
      cell_range(g, tl, th, a, b);
      for (int64_t z = a[2]; z <= b[2]; z++)
        for (int64_t y = a[1]; y <= b[1]; y++)
          for (int64_t x = a[0]; x <= b[0]; x++) {
            int64_t c = (z * g->dims[1] + y) * g->dims[0] + x;
            if (pass == 0)
              g->ptr[c + 1]++;
            else
              g->items[g->ptr[c]++] = t;
          }
    }
    if (pass == 0) {
      for (int64_t c = 0; c < ncell; c++) g->ptr[c + 1] += g->ptr[c];
      g->items = tmsf_malloc_array((size_t)(g->ptr[ncell] > 0 ? g->ptr[ncell] : 1), sizeof(int64_t));
      if (!g->items) goto oom;
    } else { /* ptr[c] now holds the end of cell c: shift back */
      for (int64_t c = ncell; c > 0; c--) g->ptr[c] = g->ptr[c - 1];
      g->ptr[0] = 0;
    }
  }
  *out = g;
  return TMSF_SUCCESS;
oom:
  tmsf_tri_grid_free(g);
  return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "surface grid: out of memory");
}

void tmsf_tri_grid_free(tmsf_tri_grid *g) {
  if (!g) return;
  free(g->ptr);
  free(g->items);
  free(g);
}

static void test_cell(const tmsf_tri_grid *g, int64_t c, const double p[3], double q[3], int64_t *tri,
                      double *d2) {
  for (int64_t i = g->ptr[c]; i < g->ptr[c + 1]; i++) {
    int64_t t = g->items[i];
    const int32_t *v = g->tris + 3 * t;
    double qq[3];
    double d = tmsf_closest_on_triangle(p, g->xyz + 3 * (int64_t)v[0], g->xyz + 3 * (int64_t)v[1],
                                        g->xyz + 3 * (int64_t)v[2], qq);
    if (d < *d2 || (d == *d2 && t < *tri)) {
      *d2 = d, *tri = t;
      memcpy(q, qq, sizeof(qq));
    }
  }
}

/* Search shells of cells around p's (clamped) cell.  Any triangle not yet
 * seen after shell r lies only in cells at index distance > r along some
 * axis, hence at least r cells away from p: stop when the best distance is
 * within r * cell. */
void tmsf_tri_grid_nearest(const tmsf_tri_grid *g, const double p[3], double q[3], int64_t *tri,
                           double *dist2) {
  *tri = -1;
  *dist2 = INFINITY;
  q[0] = q[1] = q[2] = NAN;
  if (g->num_tris == 0) return;
  int64_t c0[3], c1[3];
  cell_range(g, p, p, c0, c1);
  int64_t rmax = 0;
  for (int k = 0; k < 3; k++) {
    int64_t m = c0[k] > g->dims[k] - 1 - c0[k] ? c0[k] : g->dims[k] - 1 - c0[k];
    if (m > rmax) rmax = m;
  }
  for (int64_t r = 0; r <= rmax; r++) {
    int64_t a[3], b[3];
    for (int k = 0; k < 3; k++) {
      a[k] = c0[k] - r < 0 ? 0 : c0[k] - r;
      b[k] = c0[k] + r >= g->dims[k] ? g->dims[k] - 1 : c0[k] + r;
    }
    for (int64_t z = a[2]; z <= b[2]; z++)
      for (int64_t y = a[1]; y <= b[1]; y++) {
        int on_yz = llabs(z - c0[2]) == r || llabs(y - c0[1]) == r;
        int64_t row = (z * g->dims[1] + y) * g->dims[0];
        if (on_yz) {
          for (int64_t x = a[0]; x <= b[0]; x++) test_cell(g, row + x, p, q, tri, dist2);
        } else { /* only the two x ends of the shell */
          if (c0[0] - r >= 0) test_cell(g, row + c0[0] - r, p, q, tri, dist2);
          if (c0[0] + r < g->dims[0]) test_cell(g, row + c0[0] + r, p, q, tri, dist2);
        }
      }
    double reach = (double)r * g->cell;
    if (*tri >= 0 && *dist2 <= reach * reach) break;
  }
}

/* ------------------------------------------------------------------------- */
/* Tissue boundaries                                                         */
/* ------------------------------------------------------------------------- */

/* Face f of a tetrahedron: the three vertices other than vertex f. */
static const int face_vertices[4][3] = {{1, 2, 3}, {0, 2, 3}, {0, 1, 3}, {0, 1, 2}};

int tmsf_tissue_boundary(const tmsf_mesh *mesh, int32_t tag, int nested, int64_t *num_faces,
                         int32_t **faces_out, int64_t **tets_out) {
  *num_faces = 0;
  *faces_out = NULL;
  *tets_out = NULL;
  TMSF_CALL(tmsf_mesh_build_adjacency(mesh));
  int64_t count = 0;
  for (int64_t e = 0; e < mesh->num_tets; e++) count += mesh->tet_tags[e] == tag;
  int32_t *faces = tmsf_malloc_array((size_t)(4 * count + 1), 3 * sizeof(int32_t));
  int64_t *tets = tmsf_malloc_array((size_t)(4 * count + 1), sizeof(int64_t));
  if (!faces || !tets) {
    free(faces);
    free(tets);
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "tissue boundary: out of memory");
  }
  int64_t nf = 0;
  for (int64_t e = 0; e < mesh->num_tets; e++) {
    if (mesh->tet_tags[e] != tag) continue;
    const int32_t *t = mesh->tets + 4 * e;
    for (int f = 0; f < 4; f++) {
      int32_t a = t[face_vertices[f][0]], b = t[face_vertices[f][1]], c = t[face_vertices[f][2]];
      int64_t nb = -1;
      for (int64_t p = mesh->node_tet_ptr[a]; p < mesh->node_tet_ptr[a + 1] && nb < 0; p++) {
        int64_t o = mesh->node_tet[p];
        if (o == e) continue;
        const int32_t *u = mesh->tets + 4 * o;
        int hb = 0, hc = 0;
        for (int k = 0; k < 4; k++) hb |= u[k] == b, hc |= u[k] == c;
        if (hb && hc) nb = o;
      }
      int keep = nb < 0 || (nested ? mesh->tet_tags[nb] > tag : mesh->tet_tags[nb] != tag);
      if (!keep) continue;
      /* orient away from the opposite vertex */
      const double *pa = mesh->nodes + 3 * (int64_t)a, *pb = mesh->nodes + 3 * (int64_t)b,
                   *pc = mesh->nodes + 3 * (int64_t)c, *pd = mesh->nodes + 3 * (int64_t)t[f];
      double u[3], v[3], w[3], n[3];
      for (int k = 0; k < 3; k++) u[k] = pb[k] - pa[k], v[k] = pc[k] - pa[k], w[k] = pd[k] - pa[k];
      cross3(u, v, n);
      if (dot3(n, w) > 0) {
        int32_t s = b;
        b = c, c = s;
      }
      faces[3 * nf] = a, faces[3 * nf + 1] = b, faces[3 * nf + 2] = c;
      tets[nf++] = e;
    }
  }
  *num_faces = nf;
  *faces_out = faces;
  *tets_out = tets;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Surfaces                                                                  */
/* ------------------------------------------------------------------------- */

int tmsf_surface_destroy(tmsf_surface **s) {
  if (!s || !*s) return TMSF_SUCCESS;
  tmsf_surface *x = *s;
  tmsf_tri_grid_free(x->grid);
  free(x->xyz);
  free(x->tris);
  free(x->mesh_node);
  free(x->vnormal);
  free(x->tnormal);
  free(x);
  *s = NULL;
  return TMSF_SUCCESS;
}

/* From triangles given as mesh node indices (already oriented): compact the
 * vertices, compute the normals and the grid.  Takes ownership of faces. */
static int surface_finish(tmsf_surface *s, int64_t nf, int32_t *faces) {
  const tmsf_mesh *m = s->mesh;
  int32_t *map = tmsf_malloc_array((size_t)m->num_nodes + 1, sizeof(int32_t));
  if (!map) {
    free(faces);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "surface: out of memory");
  }
  for (int64_t i = 0; i < m->num_nodes; i++) map[i] = -1;
  for (int64_t f = 0; f < 3 * nf; f++) map[faces[f]] = 0;
  int64_t nv = 0;
  for (int64_t i = 0; i < m->num_nodes; i++)
    if (map[i] == 0) map[i] = (int32_t)nv++;
  s->nv = nv, s->nt = nf, s->tris = faces;
  s->xyz = tmsf_malloc_array((size_t)nv + 1, 3 * sizeof(double));
  s->mesh_node = tmsf_malloc_array((size_t)nv + 1, sizeof(int32_t));
  s->vnormal = tmsf_calloc_array((size_t)nv + 1, 3 * sizeof(double));
  s->tnormal = tmsf_malloc_array((size_t)nf + 1, 3 * sizeof(double));
  if (!s->xyz || !s->mesh_node || !s->vnormal || !s->tnormal) {
    free(map);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "surface: out of memory");
  }
  for (int64_t i = 0; i < m->num_nodes; i++)
    if (map[i] >= 0) {
      s->mesh_node[map[i]] = (int32_t)i;
      memcpy(s->xyz + 3 * (int64_t)map[i], m->nodes + 3 * i, 3 * sizeof(double));
    }
  for (int64_t f = 0; f < 3 * nf; f++) faces[f] = map[faces[f]];
  free(map);
  s->area = 0;
  for (int64_t f = 0; f < nf; f++) {
    const int32_t *t = faces + 3 * f;
    const double *a = s->xyz + 3 * (int64_t)t[0], *b = s->xyz + 3 * (int64_t)t[1], *c = s->xyz + 3 * (int64_t)t[2];
    double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]}, n[3];
    cross3(u, v, n); /* length: twice the area: the area weight of the vertex normals */
    double len = sqrt(dot3(n, n));
    s->area += 0.5 * len;
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 3; k++) s->vnormal[3 * (int64_t)t[j] + k] += n[k];
    for (int k = 0; k < 3; k++) s->tnormal[3 * f + k] = len > 0 ? n[k] / len : 0.0;
  }
  for (int64_t i = 0; i < nv; i++) {
    double *n = s->vnormal + 3 * i, len = sqrt(dot3(n, n));
    if (len > 0)
      for (int k = 0; k < 3; k++) n[k] /= len;
  }
  return tmsf_tri_grid_build(s->ctx, s->xyz, s->nt, s->tris, &s->grid);
}

static void mesh_tags_text(const tmsf_mesh *m, char *buf, size_t size) {
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i < m->num_tags && len < size; i++) {
    int w = snprintf(buf + len, size - len, "%s%d", i ? ", " : "", (int)m->tags[i]);
    if (w < 0) break;
    len += (size_t)w;
  }
  /* distinct triangle tags */
  int32_t seen[16];
  int ns = 0;
  for (int64_t f = 0; f < m->num_tris && ns < 16; f++) {
    int dup = 0;
    for (int j = 0; j < ns; j++) dup |= seen[j] == m->tri_tags[f];
    if (!dup) seen[ns++] = m->tri_tags[f];
  }
  for (int j = 0; j < ns && len < size; j++) {
    int w = snprintf(buf + len, size - len, "%s%d", j ? ", " : "; triangle tags ", (int)seen[j]);
    if (w < 0) break;
    len += (size_t)w;
  }
  if (ns == 0 && len < size) snprintf(buf + len, size - len, "; no triangles");
}

int tmsf_surface_create(const tmsf_mesh *mesh, int32_t tag, tmsf_surface **out) {
  if (!out) return TMSF_ERR_ARGUMENT;
  *out = NULL;
  if (!mesh) return TMSF_ERR_ARGUMENT;
  if (tag <= 1000)
    return TMSF_ERROR(mesh->ctx, TMSF_ERR_ARGUMENT, "surface: tag %d is not a surface tag (tissue + 1000)",
                      (int)tag);
  tmsf_surface *s = calloc(1, sizeof(*s));
  if (!s) return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "surface: out of memory");
  s->ctx = mesh->ctx, s->mesh = mesh, s->tag = tag;
  int ierr = TMSF_SUCCESS;
  int64_t nf = 0;
  for (int64_t f = 0; f < mesh->num_tris; f++) nf += mesh->tri_tags[f] == tag;
  int32_t *faces = NULL;
  if (nf > 0) {
    faces = tmsf_malloc_array((size_t)nf, 3 * sizeof(int32_t));
    int32_t *tri_tet = tmsf_malloc_array((size_t)mesh->num_tris, sizeof(int32_t));
    if (!faces || !tri_tet) {
      free(faces);
      free(tri_tet);
      ierr = TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "surface: out of memory");
      goto fail;
    }
    if ((ierr = tmsf_mesh_build_adjacency(mesh)) || (ierr = tmsf_mesh_triangle_tets(mesh, tri_tet))) {
      free(faces);
      free(tri_tet);
      goto fail;
    }
    int64_t j = 0;
    for (int64_t f = 0; f < mesh->num_tris; f++) {
      if (mesh->tri_tags[f] != tag) continue;
      int32_t a = mesh->tris[3 * f], b = mesh->tris[3 * f + 1], c = mesh->tris[3 * f + 2];
      int64_t e = tri_tet[f];
      if (e >= 0) { /* orient out of the tissue: away from its tetrahedron, else towards the other */
        const int32_t *t = mesh->tets + 4 * e;
        int32_t opp = t[0];
        for (int k = 0; k < 4; k++)
          if (t[k] != a && t[k] != b && t[k] != c) opp = t[k];
        const double *pa = mesh->nodes + 3 * (int64_t)a, *pb = mesh->nodes + 3 * (int64_t)b,
                     *pc = mesh->nodes + 3 * (int64_t)c, *pd = mesh->nodes + 3 * (int64_t)opp;
        double u[3], v[3], w[3], n[3];
        for (int k = 0; k < 3; k++) u[k] = pb[k] - pa[k], v[k] = pc[k] - pa[k], w[k] = pd[k] - pa[k];
        cross3(u, v, n);
        int inside = mesh->tet_tags[e] == tag - 1000;
        if ((dot3(n, w) > 0) == inside) {
          int32_t x = b;
          b = c, c = x;
        }
      }
      faces[3 * j] = a, faces[3 * j + 1] = b, faces[3 * j + 2] = c;
      j++;
    }
    free(tri_tet);
  } else {
    int64_t *tets = NULL;
    if ((ierr = tmsf_tissue_boundary(mesh, tag - 1000, 1, &nf, &faces, &tets))) goto fail;
    free(tets);
    if (nf == 0) {
      free(faces);
      char buf[512];
      mesh_tags_text(mesh, buf, sizeof(buf));
      ierr = TMSF_ERROR(mesh->ctx, TMSF_ERR_NOT_FOUND,
                        "%s: no surface %d: no triangles with that tag and no tetrahedra of tissue %d "
                        "(the mesh has tetrahedron tags %s)",
                        mesh->origin, (int)tag, (int)(tag - 1000), buf);
      goto fail;
    }
  }
  if ((ierr = surface_finish(s, nf, faces))) goto fail;
  *out = s;
  return TMSF_SUCCESS;
fail:
  tmsf_surface_destroy(&s);
  return ierr;
}

const tmsf_mesh *tmsf_surface_get_mesh(const tmsf_surface *s) { return s ? s->mesh : NULL; }

int tmsf_surface_get_tag(const tmsf_surface *s, int32_t *tag) {
  if (!s || !tag) return TMSF_ERR_ARGUMENT;
  *tag = s->tag;
  return TMSF_SUCCESS;
}

int tmsf_surface_get_sizes(const tmsf_surface *s, int64_t *nv, int64_t *nt) {
  if (!s) return TMSF_ERR_ARGUMENT;
  if (nv) *nv = s->nv;
  if (nt) *nt = s->nt;
  return TMSF_SUCCESS;
}

int tmsf_surface_get_vertices(const tmsf_surface *s, const double **v) {
  if (!s || !v) return TMSF_ERR_ARGUMENT;
  *v = s->xyz;
  return TMSF_SUCCESS;
}

int tmsf_surface_get_triangles(const tmsf_surface *s, const int32_t **t) {
  if (!s || !t) return TMSF_ERR_ARGUMENT;
  *t = s->tris;
  return TMSF_SUCCESS;
}

int tmsf_surface_get_mesh_nodes(const tmsf_surface *s, const int32_t **n) {
  if (!s || !n) return TMSF_ERR_ARGUMENT;
  *n = s->mesh_node;
  return TMSF_SUCCESS;
}

int tmsf_surface_get_vertex_normals(const tmsf_surface *s, const double **n) {
  if (!s || !n) return TMSF_ERR_ARGUMENT;
  *n = s->vnormal;
  return TMSF_SUCCESS;
}

int tmsf_surface_get_triangle_normals(const tmsf_surface *s, const double **n) {
  if (!s || !n) return TMSF_ERR_ARGUMENT;
  *n = s->tnormal;
  return TMSF_SUCCESS;
}

const tmsf_tri_grid *tmsf_surface_tri_grid(const tmsf_surface *s) { return s ? s->grid : NULL; }

int tmsf_surface_get_area(const tmsf_surface *s, double *a) {
  if (!s || !a) return TMSF_ERR_ARGUMENT;
  *a = s->area;
  return TMSF_SUCCESS;
}

int tmsf_surface_nearest(const tmsf_surface *s, int64_t n, const double *p, double *closest,
                         int64_t *tri, double *dist) {
  if (!s || n < 0 || (n > 0 && !p)) return TMSF_ERR_ARGUMENT;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 64) num_threads(tmsf_threads(s->ctx))
#endif
  for (int64_t i = 0; i < n; i++) {
    double q[3], d2;
    int64_t t;
    tmsf_tri_grid_nearest(s->grid, p + 3 * i, q, &t, &d2);
    if (closest) memcpy(closest + 3 * i, q, sizeof(q));
    if (tri) tri[i] = t;
    if (dist) dist[i] = sqrt(d2);
  }
  return TMSF_SUCCESS;
}

int tmsf_surface_sample_depth(tmsf_field *field, const tmsf_surface *pial, const tmsf_surface *white,
                              double depth, tmsf_sample_mode mode, double *points_m, double *E,
                              double *thickness_m) {
  if (!field || !pial || !white || !E) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = field->ctx;
  if (!(depth >= 0.0 && depth <= 1.0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "depth sampling: relative depth %g is not in [0, 1]", depth);
  if (pial->mesh != field->mesh || white->mesh != field->mesh)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "depth sampling: the surfaces are not of the field's mesh");
  if (white->nt == 0)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "depth sampling: the white surface has no triangles");
  int64_t n = pial->nv;
  double *x = points_m ? points_m : tmsf_malloc_array((size_t)n + 1, 3 * sizeof(double));
  double *w = tmsf_malloc_array((size_t)n + 1, 3 * sizeof(double));
  if (!x || !w) {
    if (x != points_m) free(x);
    free(w);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "depth sampling: out of memory");
  }
  int ierr = tmsf_surface_nearest(white, n, pial->xyz, w, NULL, NULL);
  double t = 0.001 + 0.998 * depth;
  for (int64_t i = 0; ierr == TMSF_SUCCESS && i < n; i++) {
    const double *p = pial->xyz + 3 * i, *q = w + 3 * i;
    double d[3] = {q[0] - p[0], q[1] - p[1], q[2] - p[2]};
    for (int k = 0; k < 3; k++) x[3 * i + k] = p[k] + t * d[k];
    if (thickness_m) thickness_m[i] = sqrt(dot3(d, d));
  }
  if (!ierr) ierr = tmsf_field_sample(field, mode, n, x, E, NULL);
  if (x != points_m) free(x);
  free(w);
  return ierr;
}

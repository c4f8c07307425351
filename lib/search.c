/*
 * SPDX-License-Identifier: BSD-3-Clause
 * search.c: the search space of coil poses for placement (search.h) —
 * scalp positions around a target's scalp projection, orientations, the
 * continuous pose parameterisation and the casing collision test — and
 * the casing object.
 */
#include <float.h>
#include <string.h>

#include "search-impl.h"
#include "surface-impl.h"

#define COLL_CELL_M 0.002        /* cell of the collision grid */
#define COLL_MAX_DIM 400         /* cells per axis at most (the cell grows beyond) */
#define VALID_TOL_M 1e-9         /* rounding allowance of the validity test */
#define MAX_CANDIDATES 20000000  /* positions x angles */
#define MAX_TEST_POINTS 10000000 /* collision points per pose */
#define PLANE_MAX_DIM 256        /* cells per axis of the tangent-plane grid */
#define CASING_MAX_EXTENT_M 1.0  /* a casing larger than this is in the wrong unit */
#define PI_ 3.14159265358979323846
#define REF_MIN_ANGLE_DEG 10.0 /* least angle between the reference direction and n0 */

enum { REGION_NEAR = 0, REGION_OUT = 1, REGION_IN = 2 };
enum { POSE_VALID = 0, POSE_COLLISION = 1, POSE_NO_SCALP = 2 };
enum { FRAME_OK = 0, FRAME_MISS = 1, FRAME_NORMAL = 2 };

static inline double dot3(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static inline void cross3(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

/* ------------------------------------------------------------------------- */
/* Casing                                                                    */
/* ------------------------------------------------------------------------- */

int tmsf_casing_from_owned(tmsf_context *ctx, const char *origin, int64_t nv, double *xyz, int64_t nt,
                           int32_t *tris, tmsf_casing **out) {
  *out = NULL;
  int ierr = TMSF_SUCCESS;
  if (nt < 1 || nv < 1) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: casing with %lld vertices and %lld triangles; expected at least one triangle",
                      origin, (long long)nv, (long long)nt);
    goto fail;
  }
  if (nv > INT32_MAX) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: casing with %lld vertices, more than 2^31 - 1", origin, (long long)nv);
    goto fail;
  }
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int64_t i = 0; i < nv; i++)
    for (int k = 0; k < 3; k++) {
      double x = xyz[3 * i + k];
      if (!isfinite(x)) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: casing vertex %lld coordinate %c is %g; expected a finite number",
                          origin, (long long)i, "xyz"[k], x);
        goto fail;
      }
      lo[k] = fmin(lo[k], x), hi[k] = fmax(hi[k], x);
    }
  for (int64_t i = 0; i < 3 * nt; i++)
    if (tris[i] < 0 || tris[i] >= nv) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: casing triangle %lld vertex %lld is %d; expected 0 .. %lld", origin,
                        (long long)(i / 3), (long long)(i % 3) + 1, (int)tris[i], (long long)nv - 1);
      goto fail;
    }
  double ext = fmax(fmax(hi[0] - lo[0], hi[1] - lo[1]), hi[2] - lo[2]);
  if (ext > CASING_MAX_EXTENT_M) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "%s: casing spans %g m; a coil casing is smaller than %g m (coordinates in millimetres need the "
                      "scale 1e-3)",
                      origin, ext, CASING_MAX_EXTENT_M);
    goto fail;
  }
  tmsf_casing *c = calloc(1, sizeof(*c));
  if (!c) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "casing: out of memory");
    goto fail;
  }
  c->ctx = ctx, c->nv = nv, c->nt = nt, c->xyz = xyz, c->tris = tris;
  *out = c;
  return TMSF_SUCCESS;
fail:
  free(xyz);
  free(tris);
  return ierr;
}

int tmsf_casing_create(tmsf_context *ctx, int64_t nv, const double *v, int64_t nt, const int32_t *t,
                       tmsf_casing **out) {
  if (!out) return TMSF_ERR_ARGUMENT;
  *out = NULL;
  if (nv < 0 || nt < 0 || (nv > 0 && !v) || (nt > 0 && !t))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_casing_create: negative count or NULL array");
  if (nv > INT32_MAX || nt > INT32_MAX)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_casing_create: more than 2^31 - 1 vertices or triangles");
  double *xyz = tmsf_malloc_array((size_t)nv + 1, 3 * sizeof(double));
  int32_t *tris = tmsf_malloc_array((size_t)nt + 1, 3 * sizeof(int32_t));
  if (!xyz || !tris) {
    free(xyz);
    free(tris);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "casing: out of memory");
  }
  if (nv > 0) memcpy(xyz, v, (size_t)nv * 3 * sizeof(double));
  if (nt > 0) memcpy(tris, t, (size_t)nt * 3 * sizeof(int32_t));
  return tmsf_casing_from_owned(ctx, "tmsf_casing_create", nv, xyz, nt, tris, out);
}

int tmsf_casing_get_sizes(const tmsf_casing *c, int64_t *nv, int64_t *nt) {
  if (!c) return TMSF_ERR_ARGUMENT;
  if (nv) *nv = c->nv;
  if (nt) *nt = c->nt;
  return TMSF_SUCCESS;
}

int tmsf_casing_get_vertices(const tmsf_casing *c, const double **v) {
  if (!c || !v) return TMSF_ERR_ARGUMENT;
  *v = c->xyz;
  return TMSF_SUCCESS;
}

int tmsf_casing_get_triangles(const tmsf_casing *c, const int32_t **t) {
  if (!c || !t) return TMSF_ERR_ARGUMENT;
  *t = c->tris;
  return TMSF_SUCCESS;
}

int tmsf_casing_destroy(tmsf_casing **c) {
  if (!c || !*c) return TMSF_SUCCESS;
  free((*c)->xyz);
  free((*c)->tris);
  free(*c);
  *c = NULL;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* The search object                                                         */
/* ------------------------------------------------------------------------- */

/* Uniform grid of points (the scalp triangle centroids). */
typedef struct point_grid {
  double lo[3], cell;
  int64_t dims[3];
  int64_t *ptr, *items;
} point_grid;

/* A node of the ball tree of the collision test points (coil frame). */
typedef struct tp_node {
  double c[3], r;      /* bounding ball */
  int64_t begin, end;  /* its points */
  int32_t left, right; /* children, -1 for a leaf */
} tp_node;

struct tmsf_search {
  tmsf_context *ctx;
  const tmsf_mesh *mesh;
  tmsf_search_params p;

  /* scalp */
  tmsf_surface *scalp;
  const tmsf_tri_grid *tgrid;
  int64_t snv, snt;
  const double *sx;     /* vertices */
  const int32_t *st;    /* triangles */
  const double *stn;    /* unit triangle normals */
  double *tarea;        /* per triangle */
  double *tcent;        /* 3 per triangle */
  double *vpn;          /* angle-weighted vertex pseudo-normals, 3 per vertex */
  double *epn;          /* edge pseudo-normals, 9 per triangle (edge j: vertex j to j+1) */
  point_grid cgrid;     /* centroids, for the normal smoothing */

  /* projection and tangent plane */
  double target[3], P0[3], n0[3], eu[3], ev[3];
  double *uvh;          /* (u, v, h) of every scalp vertex */
  double plane_half;    /* the plane grid covers [-plane_half, plane_half]^2 */
  double plane_cell;
  int64_t plane_dim;
  int64_t *plane_ptr, *plane_items;

  /* collision grid */
  double glo[3], gh, far_lb, blo[3], bhi[3];
  int64_t gdims[3];
  int kfar;
  uint8_t *gcell;       /* per cell: Chebyshev distance and inside flag */
  float *gnode;         /* signed distance at the nodes, NaN until needed */
  int64_t ntp;
  double *tp;           /* test points, 3 each, coil frame, in tree order */
  tp_node *tree;        /* node 0 the root */
  int64_t ntree;

  /* grid */
  int64_t npos, nang, nvalid, drop_collision, drop_no_scalp;
  double *pos_uv, *pos_s, *pos_n, *pos_y0;
  uint8_t *pos_status;
  double *angles;
  double *poses, *uva;
  int64_t *pose_pos, *pose_ang;
};

int tmsf_search_params_default(tmsf_search_params *p) {
  if (!p) return TMSF_ERR_ARGUMENT;
  memset(p, 0, sizeof(*p));
  p->radius_m = 0.020;
  p->spacing_m = 0.002;
  p->angle_min_deg = 0.0;
  p->angle_max_deg = 360.0;
  p->angle_step_deg = 5.0;
  p->distance_m = 0.004;
  p->normal_smoothing_m = 0.010;
  p->reference_direction[0] = 0.0;
  p->reference_direction[1] = 1.0;
  p->reference_direction[2] = 0.0;
  p->margin_m = 0.0;
  p->casing_spacing_m = 0.005;
  return TMSF_SUCCESS;
}

int tmsf_search_destroy(tmsf_search **ps) {
  if (!ps || !*ps) return TMSF_SUCCESS;
  tmsf_search *s = *ps;
  tmsf_surface_destroy(&s->scalp);
  free(s->tarea);
  free(s->tcent);
  free(s->vpn);
  free(s->epn);
  free(s->cgrid.ptr);
  free(s->cgrid.items);
  free(s->uvh);
  free(s->plane_ptr);
  free(s->plane_items);
  free(s->gcell);
  free(s->tree);
  free(s->gnode);
  free(s->tp);
  free(s->pos_uv);
  free(s->pos_s);
  free(s->pos_n);
  free(s->pos_y0);
  free(s->pos_status);
  free(s->angles);
  free(s->poses);
  free(s->uva);
  free(s->pose_pos);
  free(s->pose_ang);
  free(s);
  *ps = NULL;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Parameters                                                                */
/* ------------------------------------------------------------------------- */

static int check_range(tmsf_context *ctx, const char *name, double x, double lo, double hi, int lo_open) {
  if (isfinite(x) && (lo_open ? x > lo : x >= lo) && x <= hi) return TMSF_SUCCESS;
  return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "search: %s is %g; expected a number in %s%g, %g]", name, x,
                    lo_open ? "(" : "[", lo, hi);
}

static int check_params(tmsf_context *ctx, const tmsf_search_params *p) {
  TMSF_CALL(check_range(ctx, "radius_m", p->radius_m, 0.0, 0.2, 0));
  TMSF_CALL(check_range(ctx, "spacing_m", p->spacing_m, 0.0, 0.2, 1));
  TMSF_CALL(check_range(ctx, "angle_min_deg", p->angle_min_deg, -3600.0, 3600.0, 0));
  TMSF_CALL(check_range(ctx, "angle_max_deg", p->angle_max_deg, -3600.0, 3600.0, 0));
  TMSF_CALL(check_range(ctx, "angle_step_deg", p->angle_step_deg, 0.01, 360.0, 0));
  if (!(p->angle_max_deg >= p->angle_min_deg && p->angle_max_deg - p->angle_min_deg <= 360.0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "search: angle range %g .. %g deg; expected angle_min_deg <= angle_max_deg and a range of at "
                      "most 360 deg",
                      p->angle_min_deg, p->angle_max_deg);
  TMSF_CALL(check_range(ctx, "distance_m", p->distance_m, 0.0, 0.1, 0));
  TMSF_CALL(check_range(ctx, "normal_smoothing_m", p->normal_smoothing_m, 1e-4, 0.05, 0));
  TMSF_CALL(check_range(ctx, "margin_m", p->margin_m, 0.0, 0.05, 0));
  TMSF_CALL(check_range(ctx, "casing_spacing_m", p->casing_spacing_m, 1e-4, 0.1, 0));
  const double *r = p->reference_direction;
  if (!(isfinite(r[0]) && isfinite(r[1]) && isfinite(r[2])) || dot3(r, r) == 0.0)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "search: reference_direction (%g, %g, %g); expected a finite non-zero vector",
                      r[0], r[1], r[2]);
  double half = p->radius_m / p->spacing_m;
  if (half > 2000.0)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "search: radius_m / spacing_m is %g; expected at most 2000", half);
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Scalp geometry: pseudo-normals, signed distance                           */
/* ------------------------------------------------------------------------- */

typedef struct edge_entry {
  int32_t a, b; /* a < b */
  int64_t slot; /* 3 t + j */
} edge_entry;

static int edge_cmp(const void *x, const void *y) {
  const edge_entry *p = x, *q = y;
  if (p->a != q->a) return p->a < q->a ? -1 : 1;
  if (p->b != q->b) return p->b < q->b ? -1 : 1;
  return p->slot < q->slot ? -1 : p->slot > q->slot;
}

/* Angle-weighted vertex normals and summed edge normals (Baerentzen &
 * Aanaes 2005), triangle areas and centroids. */
static int scalp_geometry(tmsf_search *s) {
  int64_t nv = s->snv, nt = s->snt;
  s->vpn = tmsf_calloc_array((size_t)nv + 1, 3 * sizeof(double));
  s->epn = tmsf_calloc_array((size_t)nt + 1, 9 * sizeof(double));
  s->tarea = tmsf_malloc_array((size_t)nt + 1, sizeof(double));
  s->tcent = tmsf_malloc_array((size_t)nt + 1, 3 * sizeof(double));
  edge_entry *e = tmsf_malloc_array((size_t)(3 * nt) + 1, sizeof(edge_entry));
  if (!s->vpn || !s->epn || !s->tarea || !s->tcent || !e) {
    free(e);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "search: out of memory");
  }
  for (int64_t t = 0; t < nt; t++) {
    const int32_t *v = s->st + 3 * t;
    const double *x[3] = {s->sx + 3 * (int64_t)v[0], s->sx + 3 * (int64_t)v[1], s->sx + 3 * (int64_t)v[2]};
    const double *n = s->stn + 3 * t;
    for (int j = 0; j < 3; j++) {
      const double *a = x[j], *b = x[(j + 1) % 3], *c = x[(j + 2) % 3];
      double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, w[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
      double lu = sqrt(dot3(u, u)), lw = sqrt(dot3(w, w));
      double cosang = lu > 0 && lw > 0 ? dot3(u, w) / (lu * lw) : 1.0;
      double ang = acos(fmax(-1.0, fmin(1.0, cosang)));
      for (int k = 0; k < 3; k++) s->vpn[3 * (int64_t)v[j] + k] += ang * n[k];
      int32_t va = v[j], vb = v[(j + 1) % 3];
      e[3 * t + j].a = va < vb ? va : vb;
      e[3 * t + j].b = va < vb ? vb : va;
      e[3 * t + j].slot = 3 * t + j;
    }
    double u[3] = {x[1][0] - x[0][0], x[1][1] - x[0][1], x[1][2] - x[0][2]};
    double w[3] = {x[2][0] - x[0][0], x[2][1] - x[0][1], x[2][2] - x[0][2]}, c[3];
    cross3(u, w, c);
    s->tarea[t] = 0.5 * sqrt(dot3(c, c));
    for (int k = 0; k < 3; k++) s->tcent[3 * t + k] = (x[0][k] + x[1][k] + x[2][k]) / 3.0;
  }
  qsort(e, (size_t)(3 * nt), sizeof(edge_entry), edge_cmp);
  for (int64_t i = 0; i < 3 * nt;) {
    int64_t j = i;
    double sum[3] = {0, 0, 0};
    while (j < 3 * nt && e[j].a == e[i].a && e[j].b == e[i].b) {
      const double *n = s->stn + 3 * (e[j].slot / 3);
      for (int k = 0; k < 3; k++) sum[k] += n[k];
      j++;
    }
    for (int64_t q = i; q < j; q++) memcpy(s->epn + 3 * e[q].slot, sum, sizeof(sum));
    i = j;
  }
  free(e);
  return TMSF_SUCCESS;
}

/* The feature of triangle abc that holds the point nearest to p, by the
 * same Voronoi-region tests as tmsf_closest_on_triangle: 0, 1, 2 the
 * vertices a, b, c; 3, 4, 5 the edges ab, bc, ca; 6 the face. */
static int nearest_feature(const double p[3], const double a[3], const double b[3], const double c[3]) {
  double ab[3], ac[3], ap[3], bp[3], cp[3];
  for (int k = 0; k < 3; k++) {
    ab[k] = b[k] - a[k], ac[k] = c[k] - a[k];
    ap[k] = p[k] - a[k], bp[k] = p[k] - b[k], cp[k] = p[k] - c[k];
  }
  double d1 = dot3(ab, ap), d2 = dot3(ac, ap);
  double d3 = dot3(ab, bp), d4 = dot3(ac, bp);
  double d5 = dot3(ab, cp), d6 = dot3(ac, cp);
  double va = d3 * d6 - d5 * d4, vb = d5 * d2 - d1 * d6, vc = d1 * d4 - d3 * d2;
  if (d1 <= 0.0 && d2 <= 0.0) return 0;
  if (d3 >= 0.0 && d4 <= d3) return 1;
  if (d6 >= 0.0 && d5 <= d6) return 2;
  if (vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0) return 3;
  if (vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0) return 5;
  if (va <= 0.0 && d4 - d3 >= 0.0 && d5 - d6 >= 0.0) return 4;
  if (!(va + vb + vc > 0.0)) {
    double da = dot3(ap, ap), db = dot3(bp, bp), dc = dot3(cp, cp);
    return da <= db && da <= dc ? 0 : db <= dc ? 1 : 2;
  }
  return 6;
}

/* Exact signed distance of p from the scalp (> 0 outside); *closest may be NULL. */
static double sdf_exact(const tmsf_search *s, const double p[3], double *closest) {
  double q[3], d2;
  int64_t t;
  tmsf_tri_grid_nearest(s->tgrid, p, q, &t, &d2);
  if (closest) memcpy(closest, q, sizeof(q));
  if (t < 0) return INFINITY;
  if (!(d2 > 0.0)) return 0.0;
  const int32_t *v = s->st + 3 * t;
  int f = nearest_feature(p, s->sx + 3 * (int64_t)v[0], s->sx + 3 * (int64_t)v[1], s->sx + 3 * (int64_t)v[2]);
  const double *N = f < 3 ? s->vpn + 3 * (int64_t)v[f] : f < 6 ? s->epn + 9 * t + 3 * (f - 3) : s->stn + 3 * t;
  double d[3] = {p[0] - q[0], p[1] - q[1], p[2] - q[2]};
  double dist = sqrt(d2);
  return dot3(d, N) >= 0.0 ? dist : -dist;
}

/* ------------------------------------------------------------------------- */
/* Smoothed normals                                                          */
/* ------------------------------------------------------------------------- */

static int build_centroid_grid(tmsf_search *s) {
  point_grid *g = &s->cgrid;
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int64_t t = 0; t < s->snt; t++)
    for (int k = 0; k < 3; k++) lo[k] = fmin(lo[k], s->tcent[3 * t + k]), hi[k] = fmax(hi[k], s->tcent[3 * t + k]);
  double cell = 3.0 * s->p.normal_smoothing_m;
  double ext = fmax(fmax(hi[0] - lo[0], hi[1] - lo[1]), hi[2] - lo[2]);
  if (ext / cell > 128) cell = ext / 128;
  g->cell = cell;
  int64_t ncell = 1;
  for (int k = 0; k < 3; k++) {
    g->lo[k] = lo[k];
    g->dims[k] = (int64_t)floor((hi[k] - lo[k]) / cell) + 1;
    ncell *= g->dims[k];
  }
  g->ptr = tmsf_calloc_array((size_t)ncell + 1, sizeof(int64_t));
  g->items = tmsf_malloc_array((size_t)s->snt + 1, sizeof(int64_t));
  int64_t *cellof = tmsf_malloc_array((size_t)s->snt + 1, sizeof(int64_t));
  if (!g->ptr || !g->items || !cellof) {
    free(cellof);
    return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "search: out of memory");
  }
  for (int64_t t = 0; t < s->snt; t++) {
    int64_t i[3];
    for (int k = 0; k < 3; k++) {
      i[k] = (int64_t)floor((s->tcent[3 * t + k] - g->lo[k]) / cell);
      i[k] = i[k] < 0 ? 0 : i[k] >= g->dims[k] ? g->dims[k] - 1 : i[k];
    }
    cellof[t] = (i[2] * g->dims[1] + i[1]) * g->dims[0] + i[0];
    g->ptr[cellof[t] + 1]++;
  }
  for (int64_t c = 0; c < ncell; c++) g->ptr[c + 1] += g->ptr[c];
  for (int64_t t = 0; t < s->snt; t++) g->items[g->ptr[cellof[t]]++] = t;
  for (int64_t c = ncell; c > 0; c--) g->ptr[c] = g->ptr[c - 1];
  g->ptr[0] = 0;
  free(cellof);
  return TMSF_SUCCESS;
}

/* n_s(x) (search.h); -1 when no triangle centroid lies within 3 sigma. */
static int smoothed_normal(const tmsf_search *s, const double x[3], double n[3]) {
  const point_grid *g = &s->cgrid;
  double sigma = s->p.normal_smoothing_m, R = 3.0 * sigma, R2 = R * R, inv = 1.0 / (2.0 * sigma * sigma);
  int64_t a[3], b[3];
  for (int k = 0; k < 3; k++) {
    double f0 = floor((x[k] - R - g->lo[k]) / g->cell), f1 = floor((x[k] + R - g->lo[k]) / g->cell);
    if (!(f1 >= 0.0 && f0 <= (double)(g->dims[k] - 1))) return -1;
    a[k] = f0 < 0 ? 0 : (int64_t)f0;
    b[k] = f1 > (double)(g->dims[k] - 1) ? g->dims[k] - 1 : (int64_t)f1;
  }
  double sum[3] = {0, 0, 0};
  for (int64_t z = a[2]; z <= b[2]; z++)
    for (int64_t y = a[1]; y <= b[1]; y++)
      for (int64_t xx = a[0]; xx <= b[0]; xx++) {
        int64_t c = (z * g->dims[1] + y) * g->dims[0] + xx;
        for (int64_t i = g->ptr[c]; i < g->ptr[c + 1]; i++) {
          int64_t t = g->items[i];
          const double *ct = s->tcent + 3 * t;
          double d[3] = {ct[0] - x[0], ct[1] - x[1], ct[2] - x[2]}, r2 = dot3(d, d);
          if (r2 >= R2) continue;
          double taper = 1.0 - r2 / R2;
          double w = s->tarea[t] * exp(-r2 * inv) * taper * taper;
          const double *nt = s->stn + 3 * t;
          for (int k = 0; k < 3; k++) sum[k] += w * nt[k];
        }
      }
  double len = sqrt(dot3(sum, sum));
  if (!(len > 0.0) || !isfinite(len)) return -1;
  for (int k = 0; k < 3; k++) n[k] = sum[k] / len;
  return 0;
}

/* ------------------------------------------------------------------------- */
/* Tangent-plane grid: the scalp point along n0                              */
/* ------------------------------------------------------------------------- */

static int build_plane_grid(tmsf_search *s) {
  int64_t nv = s->snv, nt = s->snt;
  s->uvh = tmsf_malloc_array((size_t)nv + 1, 3 * sizeof(double));
  if (!s->uvh) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "search: out of memory");
  for (int64_t i = 0; i < nv; i++) {
    const double *x = s->sx + 3 * i;
    double d[3] = {x[0] - s->P0[0], x[1] - s->P0[1], x[2] - s->P0[2]};
    s->uvh[3 * i] = dot3(d, s->eu);
    s->uvh[3 * i + 1] = dot3(d, s->ev);
    s->uvh[3 * i + 2] = dot3(d, s->n0);
  }
  double E = s->p.radius_m + TMSF_SEARCH_EXTENSION_M, edge = 0.0;
  int64_t nin = 0;
  for (int64_t t = 0; t < nt; t++) {
    const int32_t *v = s->st + 3 * t;
    const double *a = s->sx + 3 * (int64_t)v[0], *b = s->sx + 3 * (int64_t)v[1];
    const double *ua = s->uvh + 3 * (int64_t)v[0];
    if (fabs(ua[0]) <= E && fabs(ua[1]) <= E) {
      double d[3] = {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
      edge += sqrt(dot3(d, d));
      nin++;
    }
  }
  edge = nin > 0 ? edge / (double)nin : 2.0 * E;
  int64_t D = (int64_t)ceil(2.0 * E / fmax(edge, 1e-12));
  D = D < 1 ? 1 : D > PLANE_MAX_DIM ? PLANE_MAX_DIM : D;
  s->plane_half = E, s->plane_dim = D, s->plane_cell = 2.0 * E / (double)D;
  s->plane_ptr = tmsf_calloc_array((size_t)(D * D) + 1, sizeof(int64_t));
  if (!s->plane_ptr) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "search: out of memory");
  for (int pass = 0; pass < 2; pass++) {
    for (int64_t t = 0; t < nt; t++) {
      const int32_t *v = s->st + 3 * t;
      double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
      for (int j = 0; j < 3; j++)
        for (int k = 0; k < 2; k++) {
          double x = s->uvh[3 * (int64_t)v[j] + k];
          lo[k] = fmin(lo[k], x), hi[k] = fmax(hi[k], x);
        }
      if (hi[0] < -E || lo[0] > E || hi[1] < -E || lo[1] > E) continue;
      int64_t a[2], b[2];
      for (int k = 0; k < 2; k++) {
        double f0 = floor((lo[k] + E) / s->plane_cell), f1 = floor((hi[k] + E) / s->plane_cell);
        a[k] = f0 < 0 ? 0 : f0 > (double)(D - 1) ? D - 1 : (int64_t)f0;
        b[k] = f1 < 0 ? 0 : f1 > (double)(D - 1) ? D - 1 : (int64_t)f1;
      }
      for (int64_t j = a[1]; j <= b[1]; j++)
        for (int64_t i = a[0]; i <= b[0]; i++) {
          int64_t c = j * D + i;
          if (pass == 0)
            s->plane_ptr[c + 1]++;
          else
            s->plane_items[s->plane_ptr[c]++] = t;
        }
    }
    if (pass == 0) {
      for (int64_t c = 0; c < D * D; c++) s->plane_ptr[c + 1] += s->plane_ptr[c];
      s->plane_items = tmsf_malloc_array((size_t)s->plane_ptr[D * D] + 1, sizeof(int64_t));
      if (!s->plane_items) return TMSF_ERROR(s->ctx, TMSF_ERR_MEMORY, "search: out of memory");
    } else {
      for (int64_t c = D * D; c > 0; c--) s->plane_ptr[c] = s->plane_ptr[c - 1];
      s->plane_ptr[0] = 0;
    }
  }
  return TMSF_SUCCESS;
}

/* The outermost scalp point on the line through P0 + u e_u + v e_v along
 * n0; -1 when the line misses the scalp (within the plane grid). */
static int scalp_point(const tmsf_search *s, double u, double v, double out[3]) {
  double E = s->plane_half, c = s->plane_cell;
  int64_t D = s->plane_dim;
  double fi = floor((u + E) / c), fj = floor((v + E) / c);
  int64_t i = fi < 0 ? 0 : fi > (double)(D - 1) ? D - 1 : (int64_t)fi;
  int64_t j = fj < 0 ? 0 : fj > (double)(D - 1) ? D - 1 : (int64_t)fj;
  int64_t cell = j * D + i;
  double best = -INFINITY;
  for (int64_t k = s->plane_ptr[cell]; k < s->plane_ptr[cell + 1]; k++) {
    const int32_t *t = s->st + 3 * s->plane_items[k];
    const double *a = s->uvh + 3 * (int64_t)t[0], *b = s->uvh + 3 * (int64_t)t[1], *cc = s->uvh + 3 * (int64_t)t[2];
    double bu = b[0] - a[0], bv = b[1] - a[1], cu = cc[0] - a[0], cv = cc[1] - a[1];
    double det = bu * cv - bv * cu;
    if (det == 0.0) continue;
    double pu = u - a[0], pv = v - a[1];
    double l1 = (pu * cv - pv * cu) / det, l2 = (bu * pv - bv * pu) / det, l0 = 1.0 - l1 - l2;
    const double tol = 1e-9;
    if (l0 < -tol || l1 < -tol || l2 < -tol) continue;
    double h = l0 * a[2] + l1 * b[2] + l2 * cc[2];
    if (h > best) best = h;
  }
  if (best == -INFINITY) return -1;
  for (int k = 0; k < 3; k++) out[k] = s->P0[k] + u * s->eu[k] + v * s->ev[k] + best * s->n0[k];
  return 0;
}

/* Scalp point, smoothed normal and angle-0 direction at (u, v). */
static int position_frame(const tmsf_search *s, double u, double v, double sp[3], double n[3], double y0[3]) {
  if (scalp_point(s, u, v, sp)) return FRAME_MISS;
  if (smoothed_normal(s, sp, n)) return FRAME_NORMAL;
  double en = dot3(s->ev, n);
  if (fabs(en) > 1.0 - 1e-6) return FRAME_NORMAL;
  for (int k = 0; k < 3; k++) y0[k] = s->ev[k] - en * n[k];
  double len = sqrt(dot3(y0, y0));
  for (int k = 0; k < 3; k++) y0[k] /= len;
  return FRAME_OK;
}

static void pose_from_frame(double distance, const double sp[3], const double n[3], const double y0[3],
                            double angle_deg, double P[16]) {
  double th = angle_deg * (PI_ / 180.0), c = cos(th), sn = sin(th);
  double ny[3], y[3], z[3] = {-n[0], -n[1], -n[2]}, x[3];
  cross3(n, y0, ny);
  for (int k = 0; k < 3; k++) y[k] = c * y0[k] + sn * ny[k];
  cross3(y, z, x);
  for (int r = 0; r < 3; r++) {
    P[4 * r + 0] = x[r];
    P[4 * r + 1] = y[r];
    P[4 * r + 2] = z[r];
    P[4 * r + 3] = sp[r] + distance * n[r];
  }
  P[12] = P[13] = P[14] = 0.0;
  P[15] = 1.0;
}

/* ------------------------------------------------------------------------- */
/* Collision grid                                                            */
/* ------------------------------------------------------------------------- */

/* Cells of COLL_CELL_M (the cell grows for very large meshes) over the
 * scalp's bounding box plus a border.  Per cell one byte: bit 7 set when the
 * cell is inside the head (not reached by a flood fill from the grid's faces
 * through cells no scalp triangle touches), bits 0-6 the Chebyshev distance k
 * (in cells, capped at CELL_KMAX) to the nearest cell a scalp triangle's
 * bounding box touches.  Every point of a cell with k >= 1 is at least
 * (k - 1) h from the scalp. */
#define CELL_KMAX 127
#define CELL_INSIDE 0x80

static int build_collision_grid(tmsf_search *s) {
  tmsf_context *ctx = s->ctx;
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int64_t i = 0; i < s->snv; i++)
    for (int k = 0; k < 3; k++) lo[k] = fmin(lo[k], s->sx[3 * i + k]), hi[k] = fmax(hi[k], s->sx[3 * i + k]);
  memcpy(s->blo, lo, sizeof(lo));
  memcpy(s->bhi, hi, sizeof(hi));
  double ext = fmax(fmax(hi[0] - lo[0], hi[1] - lo[1]), hi[2] - lo[2]);
  double h = COLL_CELL_M;
  int kfar = (int)ceil(2.0 + s->p.margin_m / h);
  int pad = kfar + 2;
  if (ext / h + 2 * pad + 1 > COLL_MAX_DIM) {
    h = ext / (double)(COLL_MAX_DIM - 2 * pad - 1);
    kfar = (int)ceil(2.0 + s->p.margin_m / h);
  }
  s->gh = h;
  s->kfar = kfar;
  s->far_lb = (kfar - 1) * h;
  int64_t ncell = 1;
  for (int k = 0; k < 3; k++) {
    s->glo[k] = lo[k] - pad * h;
    s->gdims[k] = (int64_t)floor((hi[k] - lo[k]) / h) + 1 + 2 * pad;
    ncell *= s->gdims[k];
  }
  int64_t nx = s->gdims[0], ny = s->gdims[1], nz = s->gdims[2];
  int64_t nnode = (nx + 1) * (ny + 1) * (nz + 1);
  s->gcell = tmsf_malloc_array((size_t)ncell, 1);
  s->gnode = tmsf_malloc_array((size_t)nnode, sizeof(float));
  uint8_t *dist = tmsf_malloc_array((size_t)ncell, 1);
  int64_t *queue = tmsf_malloc_array((size_t)ncell, sizeof(int64_t));
  if (!s->gcell || !s->gnode || !dist || !queue) {
    free(dist);
    free(queue);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "search: out of memory for the collision grid (%lld cells)", (long long)ncell);
  }
  for (int64_t i = 0; i < nnode; i++) s->gnode[i] = NAN;
  memset(dist, 255, (size_t)ncell);
  /* occupied cells: those a scalp triangle's bounding box touches */
  double eps = 1e-6 * h;
  for (int64_t t = 0; t < s->snt; t++) {
    const int32_t *v = s->st + 3 * t;
    int64_t a[3], b[3];
    for (int k = 0; k < 3; k++) {
      double l = INFINITY, u = -INFINITY;
      for (int j = 0; j < 3; j++) l = fmin(l, s->sx[3 * (int64_t)v[j] + k]), u = fmax(u, s->sx[3 * (int64_t)v[j] + k]);
      a[k] = (int64_t)floor((l - eps - s->glo[k]) / h);
      b[k] = (int64_t)floor((u + eps - s->glo[k]) / h);
    }
    for (int64_t z = a[2]; z <= b[2]; z++)
      for (int64_t y = a[1]; y <= b[1]; y++)
        for (int64_t x = a[0]; x <= b[0]; x++) {
          int64_t c = (z * ny + y) * nx + x;
          dist[c] = 0;
        }
  }
  /* Chebyshev distance: two raster passes over the 26 neighbours (forward
   * with the 13 already visited, backward with the other 13) give it exactly */
  for (int pass = 0; pass < 2; pass++) {
    int sgn = pass == 0 ? -1 : 1;
    for (int64_t zz = 0; zz < nz; zz++) {
      int64_t z = pass == 0 ? zz : nz - 1 - zz;
      for (int64_t yy = 0; yy < ny; yy++) {
        int64_t y = pass == 0 ? yy : ny - 1 - yy;
        for (int64_t xx = 0; xx < nx; xx++) {
          int64_t x = pass == 0 ? xx : nx - 1 - xx;
          int64_t c = (z * ny + y) * nx + x;
          int best = dist[c];
          if (best == 0) continue;
          for (int dz = sgn; dz != 0 && best > 1; dz = 0) /* the previous layer: 9 neighbours */
            for (int dy = -1; dy <= 1; dy++)
              for (int dx = -1; dx <= 1; dx++) {
                int64_t X = x + dx, Y = y + dy, Z = z + dz;
                if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
                int v = dist[(Z * ny + Y) * nx + X] + 1;
                if (v < best) best = v;
              }
          for (int dx = -1; dx <= 1 && best > 1; dx++) { /* the previous row: 3 */
            int64_t X = x + dx, Y = y + sgn;
            if (X < 0 || Y < 0 || X >= nx || Y >= ny) continue;
            int v = dist[(z * ny + Y) * nx + X] + 1;
            if (v < best) best = v;
          }
          if (x + sgn >= 0 && x + sgn < nx) { /* the previous cell */
            int v = dist[c + sgn] + 1;
            if (v < best) best = v;
          }
          dist[c] = (uint8_t)(best > 255 ? 255 : best);
        }
      }
    }
  }
  /* inside: not reached by a flood fill from the grid's faces through
   * unoccupied cells (6 neighbours: paths through shared faces, which no
   * scalp triangle touches, so they never cross the scalp) */
  for (int64_t c = 0; c < ncell; c++) s->gcell[c] = (uint8_t)(CELL_INSIDE | (dist[c] > CELL_KMAX ? CELL_KMAX : dist[c]));
  int64_t qn = 0;
  for (int64_t z = 0; z < nz; z++)
    for (int64_t y = 0; y < ny; y++)
      for (int64_t x = 0; x < nx; x++) {
        if (!(x == 0 || y == 0 || z == 0 || x == nx - 1 || y == ny - 1 || z == nz - 1)) continue;
        int64_t c = (z * ny + y) * nx + x;
        if (dist[c] != 0 && (s->gcell[c] & CELL_INSIDE)) {
          s->gcell[c] &= (uint8_t)~CELL_INSIDE;
          queue[qn++] = c;
        }
      }
  int64_t head = 0;
  static const int nb[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
  while (head < qn) {
    int64_t c = queue[head++];
    int64_t x = c % nx, y = (c / nx) % ny, z = c / (nx * ny);
    for (int q = 0; q < 6; q++) {
      int64_t X = x + nb[q][0], Y = y + nb[q][1], Z = z + nb[q][2];
      if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
      int64_t o = (Z * ny + Y) * nx + X;
      if (dist[o] != 0 && (s->gcell[o] & CELL_INSIDE)) {
        s->gcell[o] &= (uint8_t)~CELL_INSIDE;
        queue[qn++] = o;
      }
    }
  }
  free(dist);
  free(queue);
  return TMSF_SUCCESS;
}

/* The signed distance at node (i, j, k), computed on first use.  Several
 * threads may compute the same node: they store the same value. */
static float node_value(const tmsf_search *s, int64_t i, int64_t j, int64_t k) {
  int64_t idx = (k * (s->gdims[1] + 1) + j) * (s->gdims[0] + 1) + i;
  float v;
#if TMSF_HAVE_OPENMP
#pragma omp atomic read
#endif
  v = s->gnode[idx];
  if (isnan(v)) {
    double x[3] = {s->glo[0] + (double)i * s->gh, s->glo[1] + (double)j * s->gh, s->glo[2] + (double)k * s->gh};
    v = (float)sdf_exact(s, x, NULL);
#if TMSF_HAVE_OPENMP
#pragma omp atomic write
#endif
    s->gnode[idx] = v;
  }
  return v;
}

/* A lower bound lb of p's distance from the scalp, and whether p is inside
 * the head (meaningful when lb > 0). */
static double lower_bound(const tmsf_search *s, const double p[3], int *inside) {
  int64_t i[3];
  for (int k = 0; k < 3; k++) {
    double f = (p[k] - s->glo[k]) / s->gh;
    if (!(f >= 0.0 && f < (double)s->gdims[k])) { /* beyond the grid: the scalp's box is farther */
      double d2 = 0.0;
      for (int q = 0; q < 3; q++) {
        double e = fmax(s->blo[q] - p[q], p[q] - s->bhi[q]);
        if (e > 0) d2 += e * e;
      }
      *inside = 0;
      return sqrt(d2);
    }
    i[k] = (int64_t)f;
  }
  uint8_t v = s->gcell[(i[2] * s->gdims[1] + i[1]) * s->gdims[0] + i[0]];
  int k = v & CELL_KMAX;
  *inside = (v & CELL_INSIDE) != 0;
  return k >= 1 ? (k - 1) * s->gh : 0.0;
}

/* Where p lies: far outside (d >= far_lb), far inside (d <= -far_lb) or
 * near, with *est the trilinear interpolation of d (|d - est| <= h sqrt 3). */
static int point_region(const tmsf_search *s, const double p[3], double *est) {
  double f[3];
  int64_t i[3];
  for (int k = 0; k < 3; k++) {
    f[k] = (p[k] - s->glo[k]) / s->gh;
    if (!(f[k] >= 0.0 && f[k] < (double)s->gdims[k])) return REGION_OUT;
    i[k] = (int64_t)f[k];
    f[k] -= (double)i[k];
  }
  uint8_t c = s->gcell[(i[2] * s->gdims[1] + i[1]) * s->gdims[0] + i[0]];
  if ((c & CELL_KMAX) >= s->kfar) return c & CELL_INSIDE ? REGION_IN : REGION_OUT;
  double v[2][2][2];
  for (int dz = 0; dz < 2; dz++)
    for (int dy = 0; dy < 2; dy++)
      for (int dx = 0; dx < 2; dx++) v[dz][dy][dx] = node_value(s, i[0] + dx, i[1] + dy, i[2] + dz);
  double x0 = 1.0 - f[0], y0 = 1.0 - f[1], z0 = 1.0 - f[2];
  *est = z0 * (y0 * (x0 * v[0][0][0] + f[0] * v[0][0][1]) + f[1] * (x0 * v[0][1][0] + f[0] * v[0][1][1])) +
         f[2] * (y0 * (x0 * v[1][0][0] + f[0] * v[1][0][1]) + f[1] * (x0 * v[1][1][0] + f[0] * v[1][1][1]));
  return REGION_NEAR;
}

static inline double interp_bound(const tmsf_search *s) { return s->gh * sqrt(3.0) + 1e-8; }

static inline int point_in_grid(const tmsf_search *s, const double p[3]) {
  for (int k = 0; k < 3; k++) {
    double f = (p[k] - s->glo[k]) / s->gh;
    if (!(f >= 0.0 && f < (double)s->gdims[k])) return 0;
  }
  return 1;
}

/* Bounds on d(p) from the corners c_i of p's cell (already computed):
 * f_i - |p - c_i| <= d(p) <= f_i + |p - c_i| (d is 1-Lipschitz); tight
 * near a corner, within h sqrt(3) / 2 at the cell's centre. */
static void corner_bounds(const tmsf_search *s, const double p[3], double *lo, double *hi) {
  int64_t i[3];
  for (int k = 0; k < 3; k++) i[k] = (int64_t)((p[k] - s->glo[k]) / s->gh);
  double l = -INFINITY, u = INFINITY;
  for (int dz = 0; dz < 2; dz++)
    for (int dy = 0; dy < 2; dy++)
      for (int dx = 0; dx < 2; dx++) {
        double c[3] = {s->glo[0] + (double)(i[0] + dx) * s->gh, s->glo[1] + (double)(i[1] + dy) * s->gh,
                       s->glo[2] + (double)(i[2] + dz) * s->gh};
        double d[3] = {p[0] - c[0], p[1] - c[1], p[2] - c[2]}, r = sqrt(dot3(d, d)) + 1e-8;
        double f = node_value(s, i[0] + dx, i[1] + dy, i[2] + dz);
        l = fmax(l, f - r), u = fmin(u, f + r);
      }
  *lo = l, *hi = u;
}

/* 1 when point x (head frame) is closer to the scalp than thr (>= -1 nm).
 * A cell no scalp triangle's box touches (k >= 1) lies wholly on one side:
 * outside, d >= (k - 1) h; inside, d <= -(k - 1) h, and d < 0 anyway. */
static int point_collides(const tmsf_search *s, const double x[3], double thr, double B) {
  int64_t i[3];
  for (int k = 0; k < 3; k++) {
    double f = (x[k] - s->glo[k]) / s->gh;
    if (!(f >= 0.0 && f < (double)s->gdims[k])) return 0; /* farther than the grid's border */
    i[k] = (int64_t)f;
  }
  uint8_t c = s->gcell[(i[2] * s->gdims[1] + i[1]) * s->gdims[0] + i[0]];
  int k = c & CELL_KMAX;
  if (k >= 1) {
    if (c & CELL_INSIDE) {
      if (k >= 2 || thr > 0.0) return 1;
    } else if ((k - 1) * s->gh >= thr) {
      return 0;
    }
  }
  double est = 0.0;
  int r = point_region(s, x, &est);
  if (r == REGION_OUT) return 0;
  if (r == REGION_IN) return 1;
  if (est - B >= thr) return 0;
  if (est + B < thr) return 1;
  double lo, hi;
  corner_bounds(s, x, &lo, &hi);
  if (lo >= thr) return 0;
  if (hi < thr) return 1;
  return sdf_exact(s, x, NULL) < thr;
}

/* 1 when some test point of pose P is closer to the scalp than the margin:
 * down the tree of test points, a node whose bounding ball (centre x,
 * radius r) is far outside (lb - r >= thr) is safe and one deep inside
 * (-lb + r < thr) collides, without looking at its points (the signed
 * distance is 1-Lipschitz). */
static int pose_collides(const tmsf_search *s, const double P[16]) {
  double thr = s->p.margin_m - VALID_TOL_M, B = interp_bound(s);
  int32_t stack[128];
  int sp = 0;
  stack[sp++] = 0;
  while (sp > 0) {
    const tp_node *nd = s->tree + stack[--sp];
    double x[3];
    int inside;
    tmsf_pose_apply_point(P, nd->c, x);
    double lb = lower_bound(s, x, &inside);
    if (lb < s->gh && point_in_grid(s, x)) { /* at the scalp: the exact corners bound d */
      double lo, hi;
      corner_bounds(s, x, &lo, &hi);
      lb = lo > 0.0 ? lo : hi < 0.0 ? -hi : 0.0;
      inside = hi < 0.0;
    }
    if (!inside && lb - nd->r >= thr) continue;
    if (inside && lb > 0.0 && nd->r - lb < thr) return 1;
    if (nd->left < 0) {
      for (int64_t i = nd->begin; i < nd->end; i++) {
        tmsf_pose_apply_point(P, s->tp + 3 * i, x);
        if (point_collides(s, x, thr, B)) return 1;
      }
    } else { /* the child nearer the scalp first: a collision shows sooner */
      double xl[3], xr[3];
      int il, ir;
      tmsf_pose_apply_point(P, s->tree[nd->left].c, xl);
      tmsf_pose_apply_point(P, s->tree[nd->right].c, xr);
      double ll = lower_bound(s, xl, &il), lr = lower_bound(s, xr, &ir);
      ll = il ? -ll : ll, lr = ir ? -lr : lr;
      int left_first = ll - s->tree[nd->left].r <= lr - s->tree[nd->right].r;
      stack[sp++] = left_first ? nd->right : nd->left;
      stack[sp++] = left_first ? nd->left : nd->right;
    }
  }
  return 0;
}

/* The smallest signed distance of the test points of pose P (search.h):
 * the corner bounds of the points near the scalp give an upper bound of
 * the minimum, and only the points whose lower bound is below it get the
 * exact query. */
static double pose_clearance(const tmsf_search *s, const double P[16]) {
  double upper = INFINITY, best = INFINITY;
  int any_far = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int64_t i = 0; i < s->ntp; i++) {
      double x[3], est = 0.0, lo, hi;
      tmsf_pose_apply_point(P, s->tp + 3 * i, x);
      int r = point_region(s, x, &est);
      if (r == REGION_OUT) {
        any_far = 1;
      } else if (r == REGION_IN) {
        if (pass == 0) {
          double d = sdf_exact(s, x, NULL);
          best = fmin(best, d), upper = fmin(upper, d);
        }
      } else {
        corner_bounds(s, x, &lo, &hi);
        if (pass == 0) {
          upper = fmin(upper, hi);
        } else if (lo <= upper) {
          double d = sdf_exact(s, x, NULL);
          best = fmin(best, d), upper = fmin(upper, d);
        }
      }
    }
  return any_far ? fmin(best, s->far_lb) : best;
}

/* ------------------------------------------------------------------------- */
/* Test points                                                               */
/* ------------------------------------------------------------------------- */

typedef struct test_point {
  double x[3];
} test_point;

static int cmp_axis(const test_point *p, const test_point *q, int axis) {
  for (int j = 0; j < 3; j++) {
    int k = (axis + j) % 3;
    if (p->x[k] != q->x[k]) return p->x[k] < q->x[k] ? -1 : 1;
  }
  return 0;
}
static int cmp_x(const void *a, const void *b) { return cmp_axis(a, b, 0); }
static int cmp_y(const void *a, const void *b) { return cmp_axis(a, b, 1); }
static int cmp_z(const void *a, const void *b) { return cmp_axis(a, b, 2); }

#define TREE_LEAF 8

/* A ball tree of the test points: each node sorts its points along its
 * longest axis and halves them; leaves hold at most TREE_LEAF points. */
static int32_t tree_build(tmsf_search *s, test_point *tp, int64_t begin, int64_t end) {
  int32_t id = (int32_t)s->ntree++;
  tp_node *nd = s->tree + id;
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int64_t i = begin; i < end; i++)
    for (int k = 0; k < 3; k++) lo[k] = fmin(lo[k], tp[i].x[k]), hi[k] = fmax(hi[k], tp[i].x[k]);
  double r2 = 0.0;
  for (int k = 0; k < 3; k++) nd->c[k] = 0.5 * (lo[k] + hi[k]);
  for (int64_t i = begin; i < end; i++) {
    double d[3] = {tp[i].x[0] - nd->c[0], tp[i].x[1] - nd->c[1], tp[i].x[2] - nd->c[2]};
    r2 = fmax(r2, dot3(d, d));
  }
  nd->r = sqrt(r2) * (1.0 + 1e-12) + 1e-15;
  nd->begin = begin, nd->end = end, nd->left = nd->right = -1;
  if (end - begin <= TREE_LEAF) return id;
  int axis = 0;
  for (int k = 1; k < 3; k++)
    if (hi[k] - lo[k] > hi[axis] - lo[axis]) axis = k;
  qsort(tp + begin, (size_t)(end - begin), sizeof(test_point), axis == 0 ? cmp_x : axis == 1 ? cmp_y : cmp_z);
  int64_t mid = begin + (end - begin) / 2;
  int32_t a = tree_build(s, tp, begin, mid), b = tree_build(s, tp, mid, end);
  nd = s->tree + id; /* (the array does not move: sized in advance) */
  nd->left = a;
  nd->right = b;
  return id;
}

/* Lattice subdivisions of casing triangle t (1: vertices and centroid only). */
static int64_t casing_divisions(const tmsf_casing *c, int64_t t, double spacing) {
  double L = 0.0;
  for (int j = 0; j < 3; j++) {
    const double *a = c->xyz + 3 * (int64_t)c->tris[3 * t + j], *b = c->xyz + 3 * (int64_t)c->tris[3 * t + (j + 1) % 3];
    double d[3] = {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
    L = fmax(L, sqrt(dot3(d, d)));
  }
  double n = ceil(L / spacing);
  return n < 1 ? 1 : n > 1e6 ? 1000000 : (int64_t)n;
}

static int build_test_points(tmsf_search *s, const tmsf_casing *casing, const tmsf_coil *coil) {
  tmsf_context *ctx = s->ctx;
  int64_t n = 0;
  if (casing) {
    n = casing->nv;
    for (int64_t t = 0; t < casing->nt && n <= MAX_TEST_POINTS; t++) {
      int64_t m = casing_divisions(casing, t, s->p.casing_spacing_m);
      n += 1 + (m + 1) * (m + 2) / 2 - 3; /* centroid + lattice without the corners */
    }
  } else {
    n = 1;
    if (coil)
      for (int e = 0; e < coil->num_elements; e++) {
        const tmsf_coil_element *el = coil->elements + e;
        if (el->kind == TMSF_COIL_DIPOLES) n += el->n;
        if (el->kind == TMSF_COIL_SEGMENTS) n += 3 * el->n;
      }
  }
  if (n > MAX_TEST_POINTS)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "search: %lld collision test points, more than %d: raise casing_spacing_m (%g m) or simplify "
                      "the casing",
                      (long long)n, MAX_TEST_POINTS, s->p.casing_spacing_m);
  test_point *tp = tmsf_malloc_array((size_t)n, sizeof(test_point));
  if (!tp) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "search: out of memory for %lld test points", (long long)n);
  int64_t k = 0;
  if (casing) {
    for (int64_t i = 0; i < casing->nv; i++) memcpy(tp[k++].x, casing->xyz + 3 * i, 3 * sizeof(double));
    for (int64_t t = 0; t < casing->nt; t++) {
      const double *a = casing->xyz + 3 * (int64_t)casing->tris[3 * t], *b = casing->xyz + 3 * (int64_t)casing->tris[3 * t + 1],
                   *c = casing->xyz + 3 * (int64_t)casing->tris[3 * t + 2];
      for (int q = 0; q < 3; q++) tp[k].x[q] = (a[q] + b[q] + c[q]) / 3.0;
      k++;
      int64_t m = casing_divisions(casing, t, s->p.casing_spacing_m);
      if (m < 2) continue;
      for (int64_t i = 0; i <= m; i++)
        for (int64_t j = 0; i + j <= m; j++) {
          if ((i == m) || (j == m) || (i == 0 && j == 0)) continue; /* corners */
          double wb = (double)i / (double)m, wc = (double)j / (double)m, wa = 1.0 - wb - wc;
          for (int q = 0; q < 3; q++) tp[k].x[q] = wa * a[q] + wb * b[q] + wc * c[q];
          k++;
        }
    }
  } else {
    tp[k].x[0] = tp[k].x[1] = tp[k].x[2] = 0.0;
    k++;
    if (coil)
      for (int e = 0; e < coil->num_elements; e++) {
        const tmsf_coil_element *el = coil->elements + e;
        if (el->kind == TMSF_COIL_DIPOLES)
          for (int64_t i = 0; i < el->n; i++) memcpy(tp[k++].x, el->pos + 3 * i, 3 * sizeof(double));
        if (el->kind == TMSF_COIL_SEGMENTS)
          for (int64_t i = 0; i < el->n; i++)
            for (int q = -1; q <= 1; q++) {
              for (int c = 0; c < 3; c++) tp[k].x[c] = el->pos[3 * i + c] + 0.5 * q * el->vec[3 * i + c];
              k++;
            }
      }
  }
  for (int64_t i = 0; i < k; i++)
    for (int q = 0; q < 3; q++)
      if (!isfinite(tp[i].x[q])) {
        free(tp);
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "search: collision test point %lld of the %s is not finite",
                          (long long)i, casing ? "casing" : "coil");
      }
  /* a fixed order (independent of the input's) before the tree sorts ranges */
  qsort(tp, (size_t)k, sizeof(test_point), cmp_z);
  s->tree = tmsf_malloc_array((size_t)(2 * (k / (TREE_LEAF / 2) + 1) + 1), sizeof(tp_node));
  s->tp = tmsf_malloc_array((size_t)k, 3 * sizeof(double));
  if (!s->tp || !s->tree) {
    free(tp);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "search: out of memory for %lld test points", (long long)k);
  }
  s->ntree = 0;
  tree_build(s, tp, 0, k);
  for (int64_t i = 0; i < k; i++) memcpy(s->tp + 3 * i, tp[i].x, 3 * sizeof(double));
  s->ntp = k;
  free(tp);
  return TMSF_SUCCESS;
}
/* ------------------------------------------------------------------------- */
/* Create                                                                    */
/* ------------------------------------------------------------------------- */

static int make_grid(tmsf_search *s) {
  tmsf_context *ctx = s->ctx;
  const tmsf_search_params *p = &s->p;
  int64_t half = (int64_t)floor(p->radius_m / p->spacing_m + 1e-9);
  double r2 = p->radius_m * p->radius_m * (1.0 + 1e-12);
  int64_t npos = 0;
  for (int64_t j = -half; j <= half; j++)
    for (int64_t i = -half; i <= half; i++) {
      double u = (double)i * p->spacing_m, v = (double)j * p->spacing_m;
      npos += u * u + v * v <= r2;
    }
  double range = p->angle_max_deg - p->angle_min_deg;
  int64_t nang = (int64_t)floor(range / p->angle_step_deg + 1e-9) + 1;
  if (range >= 360.0 - 1e-9 && (double)(nang - 1) * p->angle_step_deg >= 360.0 - 1e-9) nang--;
  if (nang < 1) nang = 1;
  if ((double)npos * (double)nang > MAX_CANDIDATES)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "search: %lld positions x %lld angles = %.0f candidate poses, more than %d: use a coarser "
                      "spacing_m or angle_step_deg",
                      (long long)npos, (long long)nang, (double)npos * (double)nang, MAX_CANDIDATES);
  s->npos = npos, s->nang = nang;
  s->pos_uv = tmsf_malloc_array((size_t)npos, 2 * sizeof(double));
  s->pos_s = tmsf_malloc_array((size_t)npos, 3 * sizeof(double));
  s->pos_n = tmsf_malloc_array((size_t)npos, 3 * sizeof(double));
  s->pos_y0 = tmsf_malloc_array((size_t)npos, 3 * sizeof(double));
  s->pos_status = tmsf_malloc_array((size_t)npos, 1);
  s->angles = tmsf_malloc_array((size_t)nang, sizeof(double));
  if (!s->pos_uv || !s->pos_s || !s->pos_n || !s->pos_y0 || !s->pos_status || !s->angles)
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "search: out of memory");
  for (int64_t k = 0; k < nang; k++) s->angles[k] = p->angle_min_deg + (double)k * p->angle_step_deg;
  int64_t q = 0;
  for (int64_t j = -half; j <= half; j++)
    for (int64_t i = -half; i <= half; i++) {
      double u = (double)i * p->spacing_m, v = (double)j * p->spacing_m;
      if (u * u + v * v > r2) continue;
      s->pos_uv[2 * q] = u, s->pos_uv[2 * q + 1] = v;
      q++;
    }
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 4) num_threads(tmsf_threads(ctx))
#endif
  for (int64_t i = 0; i < npos; i++) {
    int st = position_frame(s, s->pos_uv[2 * i], s->pos_uv[2 * i + 1], s->pos_s + 3 * i, s->pos_n + 3 * i,
                            s->pos_y0 + 3 * i);
    s->pos_status[i] = (uint8_t)st;
    if (st != FRAME_OK)
      for (int k = 0; k < 3; k++) s->pos_s[3 * i + k] = s->pos_n[3 * i + k] = s->pos_y0[3 * i + k] = NAN;
  }
  /* collision test of every candidate */
  int64_t ncand = npos * nang;
  uint8_t *status = tmsf_malloc_array((size_t)ncand + 1, 1);
  if (!status) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "search: out of memory");
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 8) num_threads(tmsf_threads(ctx))
#endif
  for (int64_t c = 0; c < ncand; c++) {
    int64_t i = c / nang, a = c % nang;
    if (s->pos_status[i] != FRAME_OK) {
      status[c] = POSE_NO_SCALP;
      continue;
    }
    double P[16];
    pose_from_frame(s->p.distance_m, s->pos_s + 3 * i, s->pos_n + 3 * i, s->pos_y0 + 3 * i, s->angles[a], P);
    status[c] = pose_collides(s, P) ? POSE_COLLISION : POSE_VALID;
  }
  int64_t nvalid = 0;
  for (int64_t c = 0; c < ncand; c++) {
    nvalid += status[c] == POSE_VALID;
    s->drop_collision += status[c] == POSE_COLLISION;
    s->drop_no_scalp += status[c] == POSE_NO_SCALP;
  }
  s->nvalid = nvalid;
  s->poses = tmsf_malloc_array((size_t)nvalid + 1, 16 * sizeof(double));
  s->uva = tmsf_malloc_array((size_t)nvalid + 1, 3 * sizeof(double));
  s->pose_pos = tmsf_malloc_array((size_t)nvalid + 1, sizeof(int64_t));
  s->pose_ang = tmsf_malloc_array((size_t)nvalid + 1, sizeof(int64_t));
  if (!s->poses || !s->uva || !s->pose_pos || !s->pose_ang) {
    free(status);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "search: out of memory for %lld poses", (long long)nvalid);
  }
  int64_t k = 0;
  for (int64_t c = 0; c < ncand; c++) {
    if (status[c] != POSE_VALID) continue;
    int64_t i = c / nang, a = c % nang;
    pose_from_frame(s->p.distance_m, s->pos_s + 3 * i, s->pos_n + 3 * i, s->pos_y0 + 3 * i, s->angles[a],
                    s->poses + 16 * k);
    s->uva[3 * k] = s->pos_uv[2 * i], s->uva[3 * k + 1] = s->pos_uv[2 * i + 1], s->uva[3 * k + 2] = s->angles[a];
    s->pose_pos[k] = i, s->pose_ang[k] = a;
    k++;
  }
  free(status);
  if (nvalid == 0)
    return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND,
                      "search: no valid coil pose: all %lld candidates (%lld positions x %lld angles) were dropped: "
                      "%lld because the %s came closer than the margin (%g mm) to the scalp or cut it, %lld at "
                      "positions without a usable scalp point",
                      (long long)ncand, (long long)npos, (long long)nang, (long long)s->drop_collision,
                      s->ntp > 1 ? "coil casing or coil elements" : "coil bottom", s->p.margin_m * 1e3,
                      (long long)s->drop_no_scalp);
  return TMSF_SUCCESS;
}

int tmsf_search_create(const tmsf_mesh *mesh, const double target_m[3], const tmsf_search_params *params,
                       const tmsf_casing *casing, const tmsf_coil *coil, tmsf_search **out) {
  if (!out) return TMSF_ERR_ARGUMENT;
  *out = NULL;
  if (!mesh) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = mesh->ctx;
  if (!target_m) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "search: target is NULL");
  for (int k = 0; k < 3; k++)
    if (!isfinite(target_m[k]))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "search: target coordinate %c is %g; expected a finite number",
                        "xyz"[k], target_m[k]);
  tmsf_search_params p;
  if (params)
    p = *params;
  else
    tmsf_search_params_default(&p);
  TMSF_CALL(check_params(ctx, &p));
  tmsf_search *s = calloc(1, sizeof(*s));
  if (!s) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "search: out of memory");
  s->ctx = ctx, s->mesh = mesh, s->p = p;
  memcpy(s->target, target_m, sizeof(s->target));
  int ierr;
  if ((ierr = tmsf_surface_create(mesh, TMSF_SURFACE_SCALP, &s->scalp))) goto fail;
  s->tgrid = tmsf_surface_tri_grid(s->scalp);
  tmsf_surface_get_sizes(s->scalp, &s->snv, &s->snt);
  tmsf_surface_get_vertices(s->scalp, &s->sx);
  tmsf_surface_get_triangles(s->scalp, &s->st);
  tmsf_surface_get_triangle_normals(s->scalp, &s->stn);
  if ((ierr = scalp_geometry(s)) || (ierr = build_centroid_grid(s))) goto fail;

  /* the target must lie inside the head */
  double q[3];
  double d = sdf_exact(s, target_m, q);
  if (d > 0.0) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "search: target (%.2f, %.2f, %.2f) mm lies outside the head: %.2f mm outside the scalp "
                      "(nearest scalp point (%.2f, %.2f, %.2f) mm); expected a point inside the head",
                      target_m[0] * 1e3, target_m[1] * 1e3, target_m[2] * 1e3, d * 1e3, q[0] * 1e3, q[1] * 1e3,
                      q[2] * 1e3);
    goto fail;
  }
  memcpy(s->P0, q, sizeof(q));
  if (smoothed_normal(s, s->P0, s->n0)) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "search: no scalp triangle centre within 3 x normal_smoothing_m (%g mm) of the target's scalp "
                      "projection (%.2f, %.2f, %.2f) mm: the scalp triangles are too large for this smoothing",
                      3e3 * p.normal_smoothing_m, q[0] * 1e3, q[1] * 1e3, q[2] * 1e3);
    goto fail;
  }
  double ref[3], rl = sqrt(dot3(p.reference_direction, p.reference_direction));
  for (int k = 0; k < 3; k++) ref[k] = p.reference_direction[k] / rl;
  double rn = dot3(ref, s->n0);
  if (fabs(rn) > cos(REF_MIN_ANGLE_DEG * PI_ / 180.0)) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "search: reference_direction (%g, %g, %g) is within %g deg of parallel to the scalp normal "
                      "(%.4f, %.4f, %.4f) at the target's scalp projection; expected a direction along the scalp",
                      p.reference_direction[0], p.reference_direction[1], p.reference_direction[2], REF_MIN_ANGLE_DEG,
                      s->n0[0], s->n0[1], s->n0[2]);
    goto fail;
  }
  for (int k = 0; k < 3; k++) s->ev[k] = ref[k] - rn * s->n0[k];
  double el = sqrt(dot3(s->ev, s->ev));
  for (int k = 0; k < 3; k++) s->ev[k] /= el;
  cross3(s->ev, s->n0, s->eu);
  if ((ierr = build_plane_grid(s)) || (ierr = build_collision_grid(s)) || (ierr = build_test_points(s, casing, coil)) ||
      (ierr = make_grid(s)))
    goto fail;
  *out = s;
  return TMSF_SUCCESS;
fail:
  tmsf_search_destroy(&s);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Queries                                                                   */
/* ------------------------------------------------------------------------- */

int tmsf_search_get_params(const tmsf_search *s, tmsf_search_params *p) {
  if (!s || !p) return TMSF_ERR_ARGUMENT;
  *p = s->p;
  return TMSF_SUCCESS;
}

int tmsf_search_get_projection(const tmsf_search *s, double point[3], double normal[3], double eu[3], double ev[3]) {
  if (!s) return TMSF_ERR_ARGUMENT;
  if (point) memcpy(point, s->P0, 3 * sizeof(double));
  if (normal) memcpy(normal, s->n0, 3 * sizeof(double));
  if (eu) memcpy(eu, s->eu, 3 * sizeof(double));
  if (ev) memcpy(ev, s->ev, 3 * sizeof(double));
  return TMSF_SUCCESS;
}

int tmsf_search_get_num_positions(const tmsf_search *s, int64_t *n) {
  if (!s || !n) return TMSF_ERR_ARGUMENT;
  *n = s->npos;
  return TMSF_SUCCESS;
}

int tmsf_search_get_num_angles(const tmsf_search *s, int64_t *n) {
  if (!s || !n) return TMSF_ERR_ARGUMENT;
  *n = s->nang;
  return TMSF_SUCCESS;
}

int tmsf_search_get_num_poses(const tmsf_search *s, int64_t *n) {
  if (!s || !n) return TMSF_ERR_ARGUMENT;
  *n = s->nvalid;
  return TMSF_SUCCESS;
}

int tmsf_search_get_num_dropped(const tmsf_search *s, int64_t *collision, int64_t *no_scalp) {
  if (!s) return TMSF_ERR_ARGUMENT;
  if (collision) *collision = s->drop_collision;
  if (no_scalp) *no_scalp = s->drop_no_scalp;
  return TMSF_SUCCESS;
}

int tmsf_search_get_num_test_points(const tmsf_search *s, int64_t *n) {
  if (!s || !n) return TMSF_ERR_ARGUMENT;
  *n = s->ntp;
  return TMSF_SUCCESS;
}

int tmsf_search_get_positions(const tmsf_search *s, const double **uv, const double **scalp, const double **normals) {
  if (!s) return TMSF_ERR_ARGUMENT;
  if (uv) *uv = s->pos_uv;
  if (scalp) *scalp = s->pos_s;
  if (normals) *normals = s->pos_n;
  return TMSF_SUCCESS;
}

int tmsf_search_get_angles(const tmsf_search *s, const double **a) {
  if (!s || !a) return TMSF_ERR_ARGUMENT;
  *a = s->angles;
  return TMSF_SUCCESS;
}

int tmsf_search_get_poses(const tmsf_search *s, const double **poses, const double **uva, const int64_t **pos,
                          const int64_t **ang) {
  if (!s) return TMSF_ERR_ARGUMENT;
  if (poses) *poses = s->poses;
  if (uva) *uva = s->uva;
  if (pos) *pos = s->pose_pos;
  if (ang) *ang = s->pose_ang;
  return TMSF_SUCCESS;
}

int tmsf_search_pose_at(const tmsf_search *s, double u, double v, double angle_deg, double P[16]) {
  if (!s || !P) return TMSF_ERR_ARGUMENT;
  if (!isfinite(u) || !isfinite(v) || !isfinite(angle_deg))
    return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT, "search: pose at (u %g, v %g, angle %g): expected finite numbers", u,
                      v, angle_deg);
  double lim = s->p.radius_m + TMSF_SEARCH_EXTENSION_M;
  if (u * u + v * v > lim * lim * (1.0 + 1e-12))
    return TMSF_ERROR(s->ctx, TMSF_ERR_ARGUMENT,
                      "search: pose at (u %.3f, v %.3f) mm: %.3f mm from the target's scalp projection, beyond the "
                      "search radius + %g mm (%.3f mm)",
                      u * 1e3, v * 1e3, sqrt(u * u + v * v) * 1e3, TMSF_SEARCH_EXTENSION_M * 1e3, lim * 1e3);
  double sp[3], n[3], y0[3];
  int st = position_frame(s, u, v, sp, n, y0);
  if (st == FRAME_MISS)
    return TMSF_ERROR(s->ctx, TMSF_ERR_NOT_FOUND,
                      "search: pose at (u %.3f, v %.3f) mm: the line along the normal there misses the scalp", u * 1e3,
                      v * 1e3);
  if (st != FRAME_OK)
    return TMSF_ERROR(s->ctx, TMSF_ERR_NOT_FOUND,
                      "search: pose at (u %.3f, v %.3f) mm: no usable smoothed scalp normal there", u * 1e3, v * 1e3);
  pose_from_frame(s->p.distance_m, sp, n, y0, angle_deg, P);
  return TMSF_SUCCESS;
}

int tmsf_search_pose_clearance(const tmsf_search *s, const double P[16], double *clearance, int *valid) {
  if (!s || !P) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(tmsf_pose_check(s->ctx, P));
  if (!clearance) { /* the verdict alone: the grid's test (the same answer, faster) */
    if (valid) *valid = !pose_collides(s, P);
    return TMSF_SUCCESS;
  }
  double c = pose_clearance(s, P);
  *clearance = c;
  if (valid) *valid = c >= s->p.margin_m - VALID_TOL_M;
  return TMSF_SUCCESS;
}

int tmsf_search_signed_distance(const tmsf_search *s, int64_t n, const double *pts, double *d) {
  if (!s || n < 0 || (n > 0 && (!pts || !d))) return TMSF_ERR_ARGUMENT;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 64) num_threads(tmsf_threads(s->ctx))
#endif
  for (int64_t i = 0; i < n; i++) d[i] = sdf_exact(s, pts + 3 * i, NULL);
  return TMSF_SUCCESS;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * placement.c: objectives of coil poses, evaluated directly (FEM solve per
 * pose) or by reciprocity (notes/reciprocity.md, include/tmsfield/placement.h).
 *
 * Reciprocity grid.  The fields A_Q = sum_n Q_n / |r - x_n| and B_Q = curl
 * A_Q of the adjoint "current elements" Q_n (one set per functional) are
 * tabulated on a regular grid of spacing h, stored in bricks of 4 x 4 x 4
 * cells (5^3 points, faces duplicated so that the 8 corners of a cell lie in
 * one brick), only where the coil's elements can be: bricks within margin_m
 * of an element of the coil at one of the prepared poses.  A pose then costs
 * one trilinear interpolation per element: dipoles m_k . B_Q(r_k), segments
 * dl_k . A_Q(r_k), both times mu0/4pi dI/dt.  Values are float (relative
 * rounding 6e-8); sums are double.
 */
#include <string.h>

#include <gsl/gsl_multimin.h>
#include <gsl/gsl_sort.h>

#include "tmsf-impl.h"
#include "treecode.h"

#include <tmsfield/placement.h>
#include <tmsfield/region.h>
#include <tmsfield/search.h>

/* Relative accuracy asked of the treecode sums (RMS over the grid points):
 * far below the 1 % budget of a pose's objective. */
#define TREECODE_TOL 1e-4

#define BS 4              /* cells per brick edge */
#define BP (BS + 1)       /* points per brick edge */
#define BPTS (BP * BP * BP)

typedef enum term_kind { TERM_TARGET = 0, TERM_AVOID = 1, TERM_FOCALITY = 2 } term_kind;

typedef struct term {
  term_kind kind;
  tmsf_region *region;
  tmsf_metric metric;  /* TARGET; AVOID: MEAN_VECTOR */
  double weight;
  double fraction;     /* FOCALITY */
  int fun0, nfun;      /* its functionals (0 for FOCALITY) */
  int exact_fast;      /* the fast value is the metric itself (not a screen) */
} term;

/* The reciprocity grid. */
typedef struct rgrid {
  double origin[3], h;
  int64_t nb[3];   /* bricks per axis */
  int64_t *bidx;   /* brick -> slot, -1 when absent */
  float *data;     /* per slot BPTS points x nval values */
  int64_t nslots;
  int nval;        /* values per point: [B: 3 per functional][A: 3 per functional] */
  int offB, offA;  /* -1 when absent */
  int64_t npoints; /* distinct points evaluated */
} rgrid;

/* Coil elements in a flat list per kind (coil frame). */
typedef struct coil_items {
  int64_t nd, ns;
  double *dpos, *dmom; /* dipoles */
  double *spos, *sdl;  /* segments */
  int has_grid;        /* grid elements: the nodal path */
} coil_items;

struct tmsf_placement {
  tmsf_context *ctx;
  tmsf_simulation *sim;
  const tmsf_mesh *mesh;
  const tmsf_coil *coil;
  term *terms;
  int nterms, cap;
  int nfun;
  double *Q;        /* 3 * num_nodes per functional, mesh numbering (NULL until needed) */
  int q_funs;       /* functionals Q was computed for */
  coil_items items;
  rgrid grid;
  int have_grid;
  double t_adjoint, t_grid;
  int64_t last_outside;
};

/* ------------------------------------------------------------------------- */
/* Objects and terms                                                         */
/* ------------------------------------------------------------------------- */

int tmsf_placement_options_default(tmsf_placement_options *o) {
  if (!o) return TMSF_ERR_ARGUMENT;
  memset(o, 0, sizeof(*o));
  o->method = TMSF_PLACEMENT_FAST;
  o->top_n = 10;
  o->refine = 1;
  o->refine_starts = 3;
  o->rerank = 10;
  o->grid_spacing_m = TMSF_PLACEMENT_GRID_SPACING;
  return TMSF_SUCCESS;
}

static void items_free(coil_items *it) {
  free(it->dpos), free(it->dmom), free(it->spos), free(it->sdl);
  memset(it, 0, sizeof(*it));
}

static int items_build(tmsf_placement *pl) {
  coil_items *it = &pl->items;
  int ne;
  TMSF_CALL(tmsf_coil_get_num_elements(pl->coil, &ne));
  for (int e = 0; e < ne; e++) {
    tmsf_coil_kind k;
    int64_t n;
    TMSF_CALL(tmsf_coil_get_element(pl->coil, e, &k, NULL, &n, NULL));
    if (k == TMSF_COIL_DIPOLES) it->nd += n;
    else if (k == TMSF_COIL_SEGMENTS) it->ns += n;
    else it->has_grid = 1;
  }
  it->dpos = tmsf_malloc_array((size_t)it->nd * 3 + 1, sizeof(double));
  it->dmom = tmsf_malloc_array((size_t)it->nd * 3 + 1, sizeof(double));
  it->spos = tmsf_malloc_array((size_t)it->ns * 3 + 1, sizeof(double));
  it->sdl = tmsf_malloc_array((size_t)it->ns * 3 + 1, sizeof(double));
  if (!it->dpos || !it->dmom || !it->spos || !it->sdl)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory for the coil's elements");
  int64_t id = 0, is = 0;
  for (int e = 0; e < ne; e++) {
    tmsf_coil_kind k;
    int64_t n;
    const double *p, *v;
    TMSF_CALL(tmsf_coil_get_element(pl->coil, e, &k, NULL, &n, NULL));
    if (k == TMSF_COIL_GRID) continue;
    TMSF_CALL(tmsf_coil_get_element_data(pl->coil, e, &p, &v));
    if (k == TMSF_COIL_DIPOLES) {
      memcpy(it->dpos + 3 * id, p, (size_t)n * 3 * sizeof(double));
      memcpy(it->dmom + 3 * id, v, (size_t)n * 3 * sizeof(double));
      id += n;
    } else {
      memcpy(it->spos + 3 * is, p, (size_t)n * 3 * sizeof(double));
      memcpy(it->sdl + 3 * is, v, (size_t)n * 3 * sizeof(double));
      is += n;
    }
  }
  return TMSF_SUCCESS;
}

int tmsf_placement_create(tmsf_simulation *sim, const tmsf_coil *coil, tmsf_placement **placement) {
  if (!placement) return TMSF_ERR_ARGUMENT;
  *placement = NULL;
  if (!sim) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = tmsf_simulation_context(sim);
  if (!coil) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "placement: a coil is required");
  tmsf_placement *pl = calloc(1, sizeof(*pl));
  if (!pl) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  pl->ctx = ctx;
  pl->sim = sim;
  pl->mesh = tmsf_simulation_mesh(sim);
  pl->coil = coil;
  int ierr = items_build(pl);
  if (ierr) {
    tmsf_placement_destroy(&pl);
    return ierr;
  }
  *placement = pl;
  return TMSF_SUCCESS;
}

static void grid_free(rgrid *g) {
  free(g->bidx), free(g->data);
  memset(g, 0, sizeof(*g));
}

int tmsf_placement_destroy(tmsf_placement **placement) {
  if (!placement || !*placement) return TMSF_SUCCESS;
  tmsf_placement *pl = *placement;
  free(pl->terms);
  free(pl->Q);
  items_free(&pl->items);
  grid_free(&pl->grid);
  free(pl);
  *placement = NULL;
  return TMSF_SUCCESS;
}

static int add_term(tmsf_placement *pl, term t) {
  if (pl->nterms == pl->cap) {
    int cap = pl->cap ? 2 * pl->cap : 4;
    term *n = realloc(pl->terms, (size_t)cap * sizeof(term));
    if (!n) return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "out of memory");
    pl->terms = n;
    pl->cap = cap;
  }
  t.fun0 = pl->nfun;
  pl->nfun += t.nfun;
  pl->terms[pl->nterms++] = t;
  /* new functionals invalidate the adjoint and the grid */
  pl->q_funs = 0;
  pl->have_grid = 0;
  return TMSF_SUCCESS;
}

static int check_region(tmsf_placement *pl, tmsf_region *region, double weight) {
  if (!region) return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: a region is required");
  if (tmsf_region_get_mesh(region) != pl->mesh)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: the region is on another mesh than the simulation");
  if (!isfinite(weight))
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: the weight must be finite, got %g", weight);
  return TMSF_SUCCESS;
}

int tmsf_placement_add_target(tmsf_placement *pl, tmsf_region *region, const tmsf_metric *metric,
                              double weight) {
  if (!pl) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(check_region(pl, region, weight));
  TMSF_CALL(tmsf_metric_check(pl->ctx, metric));
  term t = {TERM_TARGET, region, *metric, weight, 0.0, 0, 3, 0};
  if (metric->kind == TMSF_METRIC_DIRECTION || metric->kind == TMSF_METRIC_NORMAL) t.nfun = 1;
  t.exact_fast = metric->kind == TMSF_METRIC_DIRECTION || metric->kind == TMSF_METRIC_NORMAL ||
                 metric->kind == TMSF_METRIC_MEAN_VECTOR;
  if (metric->kind == TMSF_METRIC_NORMAL) { /* normals now: errors surface here, not mid-search */
    const double *nrm;
    int ierr = tmsf_region_get_normals(region, metric->surface_tag, &nrm);
    if (ierr) return TMSF_ERROR(pl->ctx, ierr, "%s", tmsf_context_last_error(pl->mesh->ctx));
  }
  return add_term(pl, t);
}

int tmsf_placement_add_avoid(tmsf_placement *pl, tmsf_region *region, double weight) {
  if (!pl) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(check_region(pl, region, weight));
  tmsf_metric m;
  memset(&m, 0, sizeof(m));
  m.kind = TMSF_METRIC_MEAN_VECTOR;
  term t = {TERM_AVOID, region, m, weight, 0.0, 0, 3, 1};
  return add_term(pl, t);
}

int tmsf_placement_add_focality(tmsf_placement *pl, double fraction, double weight) {
  if (!pl) return TMSF_ERR_ARGUMENT;
  if (!(fraction > 0.0 && fraction < 1.0) || !isfinite(weight))
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT,
                      "placement: focality needs a fraction in (0, 1) and a finite weight, got %g and %g",
                      fraction, weight);
  int has_gm = 0;
  for (int k = 0; k < pl->mesh->num_tags; k++) has_gm |= pl->mesh->tags[k] == 2;
  if (!has_gm)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_NOT_FOUND, "placement: focality needs grey matter (tag 2) in the mesh");
  tmsf_metric m;
  memset(&m, 0, sizeof(m));
  term t = {TERM_FOCALITY, NULL, m, weight, fraction, 0, 0, 0};
  return add_term(pl, t);
}

int tmsf_placement_get_num_terms(const tmsf_placement *pl, int *num) {
  if (!pl || !num) return TMSF_ERR_ARGUMENT;
  *num = pl->nterms;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Adjoint                                                                   */
/* ------------------------------------------------------------------------- */

/* g of every functional on the union of the terms' regions: functional f
 * lives on its term's region only (zero elsewhere in the list). */
static int ensure_adjoint(tmsf_placement *pl) {
  if (pl->q_funs == pl->nfun && pl->Q) return TMSF_SUCCESS;
  if (pl->nfun == 0) return TMSF_SUCCESS;
  double t0 = tmsf_wtime();
  const int64_t nn = pl->mesh->num_nodes;
  /* element list: each term's elements, concatenated (a tetrahedron in two
   * regions appears twice, with g zero for the other's functionals) */
  int64_t total = 0;
  for (int t = 0; t < pl->nterms; t++)
    if (pl->terms[t].nfun) {
      int64_t n;
      const int64_t *el;
      tmsf_region_get_elements(pl->terms[t].region, &n, &el);
      total += n;
    }
  int64_t *el_all = tmsf_malloc_array((size_t)total, sizeof(int64_t));
  double *g = tmsf_calloc_array((size_t)total * 3 * (size_t)pl->nfun, sizeof(double));
  free(pl->Q);
  pl->Q = tmsf_malloc_array((size_t)nn * 3 * (size_t)pl->nfun, sizeof(double));
  if (!el_all || !g || !pl->Q) {
    free(el_all), free(g);
    return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory for %d adjoint solutions", pl->nfun);
  }
  int64_t off = 0;
  for (int t = 0; t < pl->nterms; t++) {
    const term *tm = &pl->terms[t];
    if (!tm->nfun) continue;
    int64_t n;
    const int64_t *el;
    double vol;
    tmsf_region_get_elements(tm->region, &n, &el);
    tmsf_region_get_volume(tm->region, &vol);
    memcpy(el_all + off, el, (size_t)n * sizeof(int64_t));
    const double *nrm = NULL;
    if (tm->metric.kind == TMSF_METRIC_NORMAL)
      TMSF_CALL(tmsf_region_get_normals(tm->region, tm->metric.surface_tag, &nrm));
    double d[3] = {0.0, 0.0, 0.0};
    if (tm->metric.kind == TMSF_METRIC_DIRECTION) {
      const double *dd = tm->metric.direction;
      double dn = sqrt(dd[0] * dd[0] + dd[1] * dd[1] + dd[2] * dd[2]);
      for (int c = 0; c < 3; c++) d[c] = dd[c] / dn;
    }
    for (int f = 0; f < tm->nfun; f++) {
      double *gf = g + 3 * (total * (tm->fun0 + f) + off);
      for (int64_t k = 0; k < n; k++) {
        double *gk = gf + 3 * k;
        if (tm->nfun == 3) gk[f] = 1.0 / vol;
        else if (nrm)
          for (int c = 0; c < 3; c++) gk[c] = nrm[3 * k + c] / vol;
        else
          for (int c = 0; c < 3; c++) gk[c] = d[c] / vol;
      }
    }
    off += n;
  }
  int ierr = tmsf_simulation_adjoint(pl->sim, pl->nfun, total, el_all, g, pl->Q);
  free(el_all), free(g);
  if (ierr) return ierr;
  pl->q_funs = pl->nfun;
  pl->t_adjoint = tmsf_wtime() - t0;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Term values                                                               */
/* ------------------------------------------------------------------------- */

/* Values of the terms from the functionals j (at 1 A/us), and the objective. */
static double combine(const tmsf_placement *pl, const double *j, double *terms) {
  double obj = 0.0;
  for (int t = 0; t < pl->nterms; t++) {
    const term *tm = &pl->terms[t];
    double v = 0.0;
    if (tm->nfun == 3) {
      const double *a = j + tm->fun0;
      v = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    } else if (tm->nfun == 1) {
      v = j[tm->fun0];
    }
    if (terms) terms[t] = v;
    obj += tm->kind == TERM_TARGET ? tm->weight * v : -tm->weight * v;
  }
  return obj;
}

/* Grey-matter volume (cm^3) with |E| >= fraction * its 99.9th percentile. */
static int focality(tmsf_placement *pl, const tmsf_field *f, double fraction, double *value) {
  const tmsf_mesh *m = pl->mesh;
  int64_t n = 0;
  for (int64_t e = 0; e < m->num_tets; e++) n += m->tet_tags[e] == 2;
  double *val = tmsf_malloc_array((size_t)n + 1, sizeof(double)), *w = tmsf_malloc_array((size_t)n + 1, sizeof(double));
  if (!val || !w) {
    free(val), free(w);
    return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory");
  }
  double vsum = 0.0;
  int64_t k = 0;
  for (int64_t e = 0; e < m->num_tets; e++) {
    if (m->tet_tags[e] != 2) continue;
    const double *E = f->E + 3 * e;
    val[k] = sqrt(E[0] * E[0] + E[1] * E[1] + E[2] * E[2]);
    w[k] = tmsf_tet_signed_volume(m->nodes, m->tets + 4 * e);
    vsum += w[k++];
  }
  gsl_sort2(val, 1, w, 1, (size_t)n);
  double cum = 0.0, p999 = n ? val[n - 1] : 0.0;
  for (int64_t i = 0; i < n; i++) {
    cum += w[i];
    if (cum >= 0.999 * vsum) {
      p999 = val[i];
      break;
    }
  }
  double above = 0.0;
  for (int64_t i = 0; i < n; i++)
    if (val[i] >= fraction * p999) above += w[i];
  free(val), free(w);
  *value = above * 1e6;
  return TMSF_SUCCESS;
}

/* Exact terms of a field (at 1 A/us). */
static int field_terms(tmsf_placement *pl, const tmsf_field *f, double *terms, double *obj) {
  double o = 0.0;
  for (int t = 0; t < pl->nterms; t++) {
    term *tm = &pl->terms[t];
    double v;
    if (tm->kind == TERM_FOCALITY) TMSF_CALL(focality(pl, f, tm->fraction, &v));
    else {
      int ierr = tmsf_metric_evaluate(&tm->metric, tm->region, f, &v);
      if (ierr) return ierr;
    }
    if (terms) terms[t] = v;
    o += tm->kind == TERM_TARGET ? tm->weight * v : -tm->weight * v;
  }
  *obj = o;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Reciprocity grid                                                          */
/* ------------------------------------------------------------------------- */

/* The fields A_Q, B_Q of every functional at npts points (values laid out
 * as the grid's, nval per point, times nothing: mu0/4pi is applied later). */
static int recip_fields(tmsf_placement *pl, int64_t npts, const double *pts, int nval, int offB,
                        int offA, float *out) {
  const int64_t nn = pl->mesh->num_nodes;
  double *A = offA >= 0 ? tmsf_malloc_array((size_t)npts * 3, sizeof(double)) : NULL;
  double *B = offB >= 0 ? tmsf_malloc_array((size_t)npts * 3, sizeof(double)) : NULL;
  if ((offA >= 0 && !A) || (offB >= 0 && !B)) {
    free(A), free(B);
    return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory for %lld grid points", (long long)npts);
  }
  int ierr = TMSF_SUCCESS;
  for (int f = 0; f < pl->nfun && !ierr; f++) {
    tmsf_treecode_params prm;
    ierr = tmsf_treecode_params_for_tolerance(pl->ctx, TREECODE_TOL, &prm);
    if (!ierr) ierr = tmsf_treecode_evaluate(pl->ctx, nn, pl->mesh->nodes, pl->Q + 3 * nn * f, npts, pts, &prm, A, B);
    if (ierr) break;
    for (int64_t i = 0; i < npts; i++)
      for (int c = 0; c < 3; c++) {
        if (offB >= 0) out[nval * i + offB + 3 * f + c] = (float)B[3 * i + c];
        if (offA >= 0) out[nval * i + offA + 3 * f + c] = (float)A[3 * i + c];
      }
  }
  free(A), free(B);
  return ierr;
}

int tmsf_placement_prepare(tmsf_placement *pl, int64_t num_poses, const double *poses, double margin_m,
                           double spacing_m) {
  if (!pl) return TMSF_ERR_ARGUMENT;
  if (num_poses < 1 || !poses)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: prepare needs at least one pose");
  if (!(margin_m >= 0.0 && margin_m < 1.0))
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: margin %g m outside [0, 1)", margin_m);
  if (spacing_m == 0.0) spacing_m = TMSF_PLACEMENT_GRID_SPACING;
  if (!(spacing_m >= 1e-4 && spacing_m <= 0.05))
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: grid spacing %g m outside [1e-4, 0.05]", spacing_m);
  if (pl->nfun == 0)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_STATE,
                      "placement: no term the fast method can evaluate (add a target or an avoid region)");
  for (int64_t k = 0; k < num_poses; k++) TMSF_CALL(tmsf_pose_check(pl->ctx, poses + 16 * k));
  TMSF_CALL(ensure_adjoint(pl));
  grid_free(&pl->grid);
  pl->have_grid = 0;
  const coil_items *it = &pl->items;
  if (it->nd + it->ns == 0) return TMSF_SUCCESS; /* grid coils: nodal path, no grid */
  double t0 = tmsf_wtime();
  const int nth = tmsf_threads(pl->ctx);
  (void)nth;
  rgrid *g = &pl->grid;
  g->h = spacing_m;
  g->offB = it->nd ? 0 : -1;
  g->offA = it->ns ? (it->nd ? 3 * pl->nfun : 0) : -1;
  g->nval = 3 * pl->nfun * ((it->nd > 0) + (it->ns > 0));
  /* bounding box of the elements over the poses */
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  const int64_t nitem = it->nd + it->ns;
  for (int64_t k = 0; k < num_poses; k++) {
    const double *P = poses + 16 * k;
    for (int64_t i = 0; i < nitem; i++) {
      const double *r = i < it->nd ? it->dpos + 3 * i : it->spos + 3 * (i - it->nd);
      double p[3];
      tmsf_pose_apply_point(P, r, p);
      for (int c = 0; c < 3; c++) {
        if (p[c] < lo[c]) lo[c] = p[c];
        if (p[c] > hi[c]) hi[c] = p[c];
      }
    }
  }
  int64_t nbt = 1;
  for (int c = 0; c < 3; c++) {
    g->origin[c] = lo[c] - margin_m - g->h;
    g->nb[c] = (int64_t)ceil((hi[c] + margin_m + g->h - g->origin[c]) / (g->h * BS)) + 1;
    nbt *= g->nb[c];
  }
  if (nbt > ((int64_t)1 << 31))
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT,
                      "placement: the poses span %.0f x %.0f x %.0f mm: too large a grid at %.2f mm",
                      1e3 * (hi[0] - lo[0]), 1e3 * (hi[1] - lo[1]), 1e3 * (hi[2] - lo[2]), 1e3 * g->h);
  g->bidx = tmsf_malloc_array((size_t)nbt, sizeof(int64_t));
  uint8_t *mark = tmsf_calloc_array((size_t)nbt, 1);
  if (!g->bidx || !mark) {
    free(mark);
    grid_free(g);
    return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory for the reciprocity grid");
  }
  /* mark the bricks within margin (a box) of every element at every pose */
  const double bw = g->h * BS;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 4) num_threads(nth)
#endif
  for (int64_t k = 0; k < num_poses; k++) {
    const double *P = poses + 16 * k;
    for (int64_t i = 0; i < nitem; i++) {
      const double *r = i < it->nd ? it->dpos + 3 * i : it->spos + 3 * (i - it->nd);
      double p[3];
      tmsf_pose_apply_point(P, r, p);
      int64_t b0[3], b1[3];
      for (int c = 0; c < 3; c++) {
        b0[c] = (int64_t)floor((p[c] - margin_m - g->origin[c]) / bw);
        b1[c] = (int64_t)floor((p[c] + margin_m - g->origin[c]) / bw);
        if (b0[c] < 0) b0[c] = 0;
        if (b1[c] >= g->nb[c]) b1[c] = g->nb[c] - 1;
      }
      for (int64_t z = b0[2]; z <= b1[2]; z++)
        for (int64_t y = b0[1]; y <= b1[1]; y++)
          for (int64_t x = b0[0]; x <= b1[0]; x++) {
            int64_t b = (z * g->nb[1] + y) * g->nb[0] + x;
            if (!mark[b]) {
#if TMSF_HAVE_OPENMP
#pragma omp atomic write
#endif
              mark[b] = 1;
            }
          }
    }
  }
  g->nslots = 0;
  for (int64_t b = 0; b < nbt; b++) g->bidx[b] = mark[b] ? g->nslots++ : -1;
  free(mark);
  /* distinct points of the marked bricks: number the points of the global
   * lattice that some marked brick holds */
  const int64_t NX = g->nb[0] * BS + 1, NY = g->nb[1] * BS + 1, NZ = g->nb[2] * BS + 1;
  int32_t *pid = tmsf_malloc_array((size_t)(NX * NY * NZ), sizeof(int32_t));
  g->data = tmsf_malloc_array((size_t)g->nslots * BPTS * (size_t)g->nval, sizeof(float));
  if (!pid || !g->data) {
    free(pid);
    grid_free(g);
    return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory for %lld grid bricks",
                      (long long)g->nslots);
  }
  for (int64_t q = 0; q < NX * NY * NZ; q++) pid[q] = -1;
  int64_t npts = 0;
  for (int64_t bz = 0; bz < g->nb[2]; bz++)
    for (int64_t by = 0; by < g->nb[1]; by++)
      for (int64_t bx = 0; bx < g->nb[0]; bx++) {
        if (g->bidx[(bz * g->nb[1] + by) * g->nb[0] + bx] < 0) continue;
        for (int z = 0; z < BP; z++)
          for (int y = 0; y < BP; y++)
            for (int x = 0; x < BP; x++) {
              int64_t q = ((bz * BS + z) * NY + by * BS + y) * NX + bx * BS + x;
              if (pid[q] < 0) pid[q] = (int32_t)npts++;
            }
      }
  double *pts = tmsf_malloc_array((size_t)npts * 3, sizeof(double));
  float *val = tmsf_malloc_array((size_t)npts * (size_t)g->nval, sizeof(float));
  if (!pts || !val) {
    free(pid), free(pts), free(val);
    grid_free(g);
    return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory for %lld grid points", (long long)npts);
  }
  for (int64_t z = 0; z < NZ; z++)
    for (int64_t y = 0; y < NY; y++)
      for (int64_t x = 0; x < NX; x++) {
        int32_t q = pid[(z * NY + y) * NX + x];
        if (q < 0) continue;
        pts[3 * (int64_t)q] = g->origin[0] + g->h * (double)x;
        pts[3 * (int64_t)q + 1] = g->origin[1] + g->h * (double)y;
        pts[3 * (int64_t)q + 2] = g->origin[2] + g->h * (double)z;
      }
  int ierr = recip_fields(pl, npts, pts, g->nval, g->offB, g->offA, val);
  if (!ierr) {
    for (int64_t bz = 0; bz < g->nb[2]; bz++)
      for (int64_t by = 0; by < g->nb[1]; by++)
        for (int64_t bx = 0; bx < g->nb[0]; bx++) {
          int64_t s = g->bidx[(bz * g->nb[1] + by) * g->nb[0] + bx];
          if (s < 0) continue;
          float *dst = g->data + (size_t)s * BPTS * (size_t)g->nval;
          for (int z = 0; z < BP; z++)
            for (int y = 0; y < BP; y++)
              for (int x = 0; x < BP; x++) {
                int64_t q = pid[((bz * BS + z) * NY + by * BS + y) * NX + bx * BS + x];
                memcpy(dst + (size_t)((z * BP + y) * BP + x) * (size_t)g->nval, val + (size_t)q * (size_t)g->nval,
                       (size_t)g->nval * sizeof(float));
              }
        }
    g->npoints = npts;
    pl->have_grid = 1;
  }
  free(pid), free(pts), free(val);
  if (ierr) grid_free(g);
  pl->t_grid = tmsf_wtime() - t0;
  return ierr;
}

/* Trilinear interpolation of the nval values at p into v; 0 when covered. */
static inline int grid_sample(const rgrid *g, const double p[3], int off, int nv, double *v) {
  double x[3];
  int64_t i[3];
  for (int c = 0; c < 3; c++) {
    x[c] = (p[c] - g->origin[c]) / g->h;
    if (!(x[c] >= 0.0)) return -1;
    i[c] = (int64_t)x[c];
    x[c] -= (double)i[c];
  }
  int64_t b[3] = {i[0] / BS, i[1] / BS, i[2] / BS};
  if (b[0] >= g->nb[0] || b[1] >= g->nb[1] || b[2] >= g->nb[2]) return -1;
  int64_t s = g->bidx[(b[2] * g->nb[1] + b[1]) * g->nb[0] + b[0]];
  if (s < 0) return -1;
  const int lx = (int)(i[0] - b[0] * BS), ly = (int)(i[1] - b[1] * BS), lz = (int)(i[2] - b[2] * BS);
  const size_t nval = (size_t)g->nval;
  const float *base = g->data + ((size_t)s * BPTS + (size_t)((lz * BP + ly) * BP + lx)) * nval + off;
  const size_t sx = nval, sy = BP * nval, sz = BP * BP * nval;
  const double wx1 = x[0], wx0 = 1.0 - wx1, wy1 = x[1], wy0 = 1.0 - wy1, wz1 = x[2], wz0 = 1.0 - wz1;
  const double w[8] = {wx0 * wy0 * wz0, wx1 * wy0 * wz0, wx0 * wy1 * wz0, wx1 * wy1 * wz0,
                       wx0 * wy0 * wz1, wx1 * wy0 * wz1, wx0 * wy1 * wz1, wx1 * wy1 * wz1};
  const float *c[8] = {base, base + sx, base + sy, base + sx + sy,
                       base + sz, base + sx + sz, base + sy + sz, base + sx + sy + sz};
  for (int k = 0; k < nv; k++)
    v[k] = w[0] * c[0][k] + w[1] * c[1][k] + w[2] * c[2][k] + w[3] * c[3][k] + w[4] * c[4][k] +
           w[5] * c[5][k] + w[6] * c[6][k] + w[7] * c[7][k];
  return 0;
}

/* Functionals of one pose from the grid (at 1 A/us); -1 when not covered. */
static int fast_pose(const tmsf_placement *pl, const double P[16], double *j) {
  const coil_items *it = &pl->items;
  const rgrid *g = &pl->grid;
  const int nf = pl->nfun;
  double v[3 * 64], acc[64];
  for (int f = 0; f < nf; f++) acc[f] = 0.0;
  for (int64_t k = 0; k < it->nd; k++) {
    double p[3], m[3];
    tmsf_pose_apply_point(P, it->dpos + 3 * k, p);
    tmsf_pose_apply_vector(P, it->dmom + 3 * k, m);
    if (grid_sample(g, p, g->offB, 3 * nf, v)) return -1;
    for (int f = 0; f < nf; f++) acc[f] += m[0] * v[3 * f] + m[1] * v[3 * f + 1] + m[2] * v[3 * f + 2];
  }
  for (int64_t k = 0; k < it->ns; k++) {
    double p[3], l[3];
    tmsf_pose_apply_point(P, it->spos + 3 * k, p);
    tmsf_pose_apply_vector(P, it->sdl + 3 * k, l);
    if (grid_sample(g, p, g->offA, 3 * nf, v)) return -1;
    for (int f = 0; f < nf; f++) acc[f] += l[0] * v[3 * f] + l[1] * v[3 * f + 1] + l[2] * v[3 * f + 2];
  }
  for (int f = 0; f < nf; f++) j[f] = acc[f] * TMSF_CONST_MKSA_MU0_OVER_4PI * TMSF_PLACEMENT_DIDT;
  return 0;
}

/* Functionals of one pose by the nodal sum (exact reciprocity). */
static int nodal_pose(tmsf_placement *pl, const double P[16], double *dadt, double *j) {
  const int64_t nn = pl->mesh->num_nodes;
  TMSF_CALL(tmsf_coil_primary_field(pl->coil, P, TMSF_PLACEMENT_DIDT, nn, pl->mesh->nodes, dadt, NULL));
  for (int f = 0; f < pl->nfun; f++) {
    const double *Q = pl->Q + 3 * nn * f;
    double acc = 0.0;
    for (int64_t i = 0; i < 3 * nn; i++) acc += Q[i] * dadt[i];
    j[f] = acc;
  }
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Evaluation                                                                */
/* ------------------------------------------------------------------------- */

#define FUN_MAX 64

int tmsf_placement_evaluate(tmsf_placement *pl, tmsf_placement_method method, int64_t num_poses,
                            const double *poses, double *objective, double *terms) {
  if (!pl || !objective || (num_poses > 0 && !poses)) return TMSF_ERR_ARGUMENT;
  if (pl->nterms == 0) return TMSF_ERROR(pl->ctx, TMSF_ERR_STATE, "placement: no objective term added");
  if (pl->nfun > FUN_MAX)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: at most %d functionals (terms use 1 or 3)", FUN_MAX);
  for (int64_t k = 0; k < num_poses; k++) TMSF_CALL(tmsf_pose_check(pl->ctx, poses + 16 * k));
  const int nt = pl->nterms;
  if (method == TMSF_PLACEMENT_DIRECT) {
    for (int64_t k = 0; k < num_poses; k++) {
      tmsf_field *f = NULL;
      TMSF_CALL(tmsf_simulation_solve(pl->sim, pl->coil, poses + 16 * k, TMSF_PLACEMENT_DIDT, &f));
      int ierr = field_terms(pl, f, terms ? terms + (size_t)nt * k : NULL, objective + k);
      tmsf_field_destroy(&f);
      if (ierr) return ierr;
    }
    return TMSF_SUCCESS;
  }
  if (method != TMSF_PLACEMENT_FAST && method != TMSF_PLACEMENT_NODAL)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: unknown method %d", (int)method);
  if (pl->nfun == 0)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_STATE,
                      "placement: no term the fast method can evaluate (add a target or an avoid region)");
  if (method == TMSF_PLACEMENT_NODAL || pl->items.has_grid) {
    TMSF_CALL(ensure_adjoint(pl));
    double *dadt = tmsf_malloc_array((size_t)pl->mesh->num_nodes * 3, sizeof(double));
    if (!dadt) return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory");
    for (int64_t k = 0; k < num_poses; k++) {
      double j[FUN_MAX];
      int ierr = nodal_pose(pl, poses + 16 * k, dadt, j);
      if (ierr) {
        free(dadt);
        return ierr;
      }
      objective[k] = combine(pl, j, terms ? terms + (size_t)nt * k : NULL);
    }
    free(dadt);
    pl->last_outside = 0;
    return TMSF_SUCCESS;
  }
  if (!pl->have_grid)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_STATE, "placement: the fast method needs tmsf_placement_prepare first");
  int64_t outside = 0;
  const int nth = tmsf_threads(pl->ctx);
  (void)nth;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : outside) num_threads(nth)
#endif
  for (int64_t k = 0; k < num_poses; k++) {
    double j[FUN_MAX];
    if (fast_pose(pl, poses + 16 * k, j)) {
      objective[k] = NAN;
      if (terms)
        for (int t = 0; t < nt; t++) terms[(size_t)nt * k + t] = NAN;
      outside++;
      continue;
    }
    objective[k] = combine(pl, j, terms ? terms + (size_t)nt * k : NULL);
  }
  pl->last_outside = outside;
  return TMSF_SUCCESS;
}

int tmsf_placement_get_info(const tmsf_placement *pl, tmsf_placement_info what, double *value) {
  if (!pl || !value) return TMSF_ERR_ARGUMENT;
  switch (what) {
  case TMSF_PLACEMENT_ADJOINT_SECONDS: *value = pl->t_adjoint; break;
  case TMSF_PLACEMENT_GRID_SECONDS: *value = pl->t_grid; break;
  case TMSF_PLACEMENT_GRID_POINTS: *value = (double)pl->grid.npoints; break;
  case TMSF_PLACEMENT_GRID_BYTES:
    *value = (double)pl->grid.nslots * BPTS * pl->grid.nval * sizeof(float) +
             (double)(pl->grid.nb[0] * pl->grid.nb[1] * pl->grid.nb[2]) * sizeof(int64_t);
    break;
  case TMSF_PLACEMENT_NUM_FUNCTIONALS: *value = pl->nfun; break;
  case TMSF_PLACEMENT_LAST_OUTSIDE: *value = (double)pl->last_outside; break;
  default: return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: unknown info %d", (int)what);
  }
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Search, refinement, re-ranking                                            */
/* ------------------------------------------------------------------------- */

typedef struct refine_ctx {
  tmsf_placement *pl;
  const tmsf_search *search;
  tmsf_search_params sp;
  tmsf_placement_method method;
  double su, sa;  /* scales: x = (u / su, v / su, angle / sa) */
  int full_circle;
  int64_t evals;
  int ierr;       /* first hard error */
} refine_ctx;

/* Minus the objective at scaled (u, v, angle); a large value outside the
 * search disc or angle range, where the scalp is missing, or for a pose that
 * collides, so that the simplex stays in the feasible set. */
static double refine_f(const gsl_vector *x, void *user) {
  refine_ctx *rc = user;
  const double u = gsl_vector_get(x, 0) * rc->su, v = gsl_vector_get(x, 1) * rc->su,
               a = gsl_vector_get(x, 2) * rc->sa;
  const double big = 1e30;
  if (!(u * u + v * v <= rc->sp.radius_m * rc->sp.radius_m)) return big;
  if (!rc->full_circle && !(a >= rc->sp.angle_min_deg && a <= rc->sp.angle_max_deg)) return big;
  double P[16];
  if (tmsf_search_pose_at(rc->search, u, v, a, P)) return big;
  int valid = 0;
  if (tmsf_search_pose_clearance(rc->search, P, NULL, &valid) || !valid) return big;
  double obj;
  rc->evals++;
  int ierr = tmsf_placement_evaluate(rc->pl, rc->method, 1, P, &obj, NULL);
  if (ierr) {
    if (!rc->ierr) rc->ierr = ierr;
    return big;
  }
  return isfinite(obj) ? -obj : big;
}

/* Nelder-Mead (GSL nmsimplex2) from (u, v, angle); returns the best point
 * and its objective (-INFINITY when nothing feasible improved on it). */
static int refine_one(refine_ctx *rc, const double start[3], int max_iter, double best[3], double *best_obj) {
  const gsl_multimin_fminimizer_type *T = gsl_multimin_fminimizer_nmsimplex2;
  gsl_multimin_fminimizer *mz = gsl_multimin_fminimizer_alloc(T, 3);
  gsl_vector *x = gsl_vector_alloc(3), *step = gsl_vector_alloc(3);
  if (!mz || !x || !step) {
    if (mz) gsl_multimin_fminimizer_free(mz);
    if (x) gsl_vector_free(x);
    if (step) gsl_vector_free(step);
    return TMSF_ERROR(rc->pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory");
  }
  gsl_vector_set(x, 0, start[0] / rc->su);
  gsl_vector_set(x, 1, start[1] / rc->su);
  gsl_vector_set(x, 2, start[2] / rc->sa);
  gsl_vector_set_all(step, 0.5); /* half a grid step in each coordinate */
  gsl_multimin_function fn = {refine_f, 3, rc};
  gsl_multimin_fminimizer_set(mz, &fn, x, step);
  for (int it = 0; it < max_iter; it++) {
    if (gsl_multimin_fminimizer_iterate(mz)) break;
    if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(mz), 0.01) == GSL_SUCCESS) break;
  }
  const gsl_vector *xb = gsl_multimin_fminimizer_x(mz);
  double fmin = gsl_multimin_fminimizer_minimum(mz);
  best[0] = gsl_vector_get(xb, 0) * rc->su;
  best[1] = gsl_vector_get(xb, 1) * rc->su;
  best[2] = gsl_vector_get(xb, 2) * rc->sa;
  *best_obj = fmin < 1e29 ? -fmin : -INFINITY;
  gsl_multimin_fminimizer_free(mz);
  gsl_vector_free(x), gsl_vector_free(step);
  return TMSF_SUCCESS;
}

static int progress(const tmsf_placement_options *o, const char *stage, double f) {
  if (o->progress && o->progress(o->progress_user, stage, f)) return TMSF_ERR_CANCELLED;
  return TMSF_SUCCESS;
}

typedef struct ranked {
  double obj;
  int64_t idx;
} ranked;

static int by_obj_desc(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->obj != y->obj) return x->obj > y->obj ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Largest distance of a coil element from the coil origin, m. */
static double coil_reach(const tmsf_placement *pl) {
  const coil_items *it = &pl->items;
  double r2 = 0.0;
  for (int64_t k = 0; k < it->nd + it->ns; k++) {
    const double *p = k < it->nd ? it->dpos + 3 * k : it->spos + 3 * (k - it->nd);
    double d = p[0] * p[0] + p[1] * p[1] + p[2] * p[2];
    if (d > r2) r2 = d;
  }
  return sqrt(r2);
}

int tmsf_placement_prepare_search(tmsf_placement *pl, const tmsf_search *search, double h) {
  if (!pl || !search) return TMSF_ERR_ARGUMENT;
  int64_t n;
  const double *P;
  tmsf_search_params sp;
  TMSF_CALL(tmsf_search_get_num_poses(search, &n));
  TMSF_CALL(tmsf_search_get_poses(search, &P, NULL, NULL, NULL));
  TMSF_CALL(tmsf_search_get_params(search, &sp));
  if (pl->items.nd + pl->items.ns == 0) return ensure_adjoint(pl);
  if (h == 0.0) h = TMSF_PLACEMENT_GRID_SPACING;
  const double reach = coil_reach(pl);
  const double margin = 0.5 * sqrt(2.0) * sp.spacing_m * (1.0 + reach / 0.08) +
                        0.5 * reach * sp.angle_step_deg * 3.14159265358979323846 / 180.0 + h;
  return tmsf_placement_prepare(pl, n, P, margin, h);
}

int tmsf_placement_run(tmsf_placement *pl, const tmsf_search *search, const tmsf_placement_options *options,
                       tmsf_placement_result *res) {
  if (!pl || !search || !res) return TMSF_ERR_ARGUMENT;
  tmsf_placement_options o;
  if (options) o = *options;
  else tmsf_placement_options_default(&o);
  if (o.method != TMSF_PLACEMENT_FAST && o.method != TMSF_PLACEMENT_DIRECT && o.method != TMSF_PLACEMENT_NODAL)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_ARGUMENT, "placement: unknown method %d", (int)o.method);
  if (o.top_n < 1) o.top_n = 1;
  if (o.top_n > TMSF_PLACEMENT_TOP_MAX) o.top_n = TMSF_PLACEMENT_TOP_MAX;
  if (o.refine_starts < 1) o.refine_starts = 1;
  if (o.rerank < 1) o.rerank = 1;
  if (pl->nterms == 0) return TMSF_ERROR(pl->ctx, TMSF_ERR_STATE, "placement: no objective term added");
  memset(res, 0, sizeof(*res));
  int64_t n;
  const double *P, *uva;
  TMSF_CALL(tmsf_search_get_num_poses(search, &n));
  TMSF_CALL(tmsf_search_get_poses(search, &P, &uva, NULL, NULL));
  if (n < 1) return TMSF_ERROR(pl->ctx, TMSF_ERR_NOT_FOUND, "placement: the search space has no valid pose");
  tmsf_search_params sp;
  TMSF_CALL(tmsf_search_get_params(search, &sp));
  int nonlinear = 0;
  for (int t = 0; t < pl->nterms; t++) nonlinear |= !pl->terms[t].exact_fast;
  const int fast = o.method != TMSF_PLACEMENT_DIRECT;
  if (fast && pl->nfun == 0)
    return TMSF_ERROR(pl->ctx, TMSF_ERR_STATE,
                      "placement: the fast method needs a target or avoid term (focality alone is direct only)");
  /* 1. precomputation */
  double t0 = tmsf_wtime();
  if (fast) {
    TMSF_CALL(progress(&o, "adjoint", 0.0));
    TMSF_CALL(ensure_adjoint(pl));
    if (o.method == TMSF_PLACEMENT_FAST) {
      TMSF_CALL(progress(&o, "grid", 0.0));
      TMSF_CALL(tmsf_placement_prepare_search(pl, search, o.grid_spacing_m));
    }
  }
  res->time_prepare_s = tmsf_wtime() - t0;
  /* 2. every grid pose */
  t0 = tmsf_wtime();
  double *obj = tmsf_malloc_array((size_t)n, sizeof(double));
  ranked *rk = tmsf_malloc_array((size_t)n, sizeof(ranked));
  if (!obj || !rk) {
    free(obj), free(rk);
    return TMSF_ERROR(pl->ctx, TMSF_ERR_MEMORY, "placement: out of memory for %lld poses", (long long)n);
  }
  int ierr = TMSF_SUCCESS;
  const int64_t chunk = o.method == TMSF_PLACEMENT_FAST ? 4096 : 1;
  for (int64_t k = 0; k < n && !ierr; k += chunk) {
    int64_t m = n - k < chunk ? n - k : chunk;
    ierr = progress(&o, "search", (double)k / (double)n);
    if (!ierr) ierr = tmsf_placement_evaluate(pl, o.method, m, P + 16 * k, obj + k, NULL);
  }
  if (!ierr) ierr = progress(&o, "search", 1.0);
  res->time_search_s = tmsf_wtime() - t0;
  res->num_evaluated = n;
  res->poses_per_second = res->time_search_s > 0 ? (double)n / res->time_search_s : 0.0;
  int64_t nr = 0;
  if (!ierr) {
    for (int64_t k = 0; k < n; k++)
      if (isfinite(obj[k])) rk[nr++] = (ranked){obj[k], k};
    if (nr == 0)
      ierr = TMSF_ERROR(pl->ctx, TMSF_ERR_NUMERIC, "placement: no pose of the search space could be evaluated");
  }
  if (ierr) {
    free(obj), free(rk);
    return ierr;
  }
  qsort(rk, (size_t)nr, sizeof(ranked), by_obj_desc);
  res->num_top = (int)(nr < o.top_n ? nr : o.top_n);
  for (int i = 0; i < res->num_top; i++) {
    memcpy(res->top_pose[i], P + 16 * rk[i].idx, 16 * sizeof(double));
    res->top_objective[i] = rk[i].obj;
  }
  /* candidates: (u, v, angle, objective by the method) */
  enum { CAND_MAX = 2 * TMSF_PLACEMENT_TOP_MAX };
  double cand[CAND_MAX][4];
  int nc = 0;
  for (int i = 0; i < res->num_top && nc < CAND_MAX; i++) {
    const double *g = uva + 3 * rk[i].idx;
    cand[nc][0] = g[0], cand[nc][1] = g[1], cand[nc][2] = g[2], cand[nc][3] = rk[i].obj;
    nc++;
  }
  free(obj), free(rk);
  /* 3. refinement of the best few */
  t0 = tmsf_wtime();
  if (o.refine) {
    refine_ctx rc = {pl, search, sp, o.method, sp.spacing_m, sp.angle_step_deg, 0, 0, TMSF_SUCCESS};
    rc.full_circle = sp.angle_max_deg - sp.angle_min_deg >= 360.0 - 1e-9;
    const int starts = o.refine_starts < res->num_top ? o.refine_starts : res->num_top;
    const int max_iter = o.method == TMSF_PLACEMENT_DIRECT ? 30 : 200;
    for (int s = 0; s < starts && nc < CAND_MAX; s++) {
      ierr = progress(&o, "refine", (double)s / starts);
      if (ierr) return ierr;
      double best[3] = {0.0, 0.0, 0.0}, bo = -INFINITY;
      TMSF_CALL(refine_one(&rc, cand[s], max_iter, best, &bo));
      if (rc.ierr) return rc.ierr;
      if (bo > -INFINITY) {
        cand[nc][0] = best[0], cand[nc][1] = best[1], cand[nc][2] = best[2], cand[nc][3] = bo;
        nc++;
      }
    }
    res->num_refine_evaluations = rc.evals;
    TMSF_CALL(progress(&o, "refine", 1.0));
  }
  res->time_refine_s = tmsf_wtime() - t0;
  /* 4. the winner: by the method's objective, or, when FAST screened
   * non-linear terms, by direct solves of the best candidates */
  t0 = tmsf_wtime();
  int order[CAND_MAX] = {0};
  for (int i = 0; i < nc; i++) order[i] = i;
  for (int i = 1; i < nc; i++) /* insertion sort, best first */
    for (int j = i; j > 0 && cand[order[j]][3] > cand[order[j - 1]][3]; j--) {
      int t = order[j];
      order[j] = order[j - 1], order[j - 1] = t;
    }
  int win = order[0];
  double win_direct = NAN;
  if (fast && nonlinear) {
    const int kk = o.rerank < nc ? o.rerank : nc;
    double best = -INFINITY;
    for (int i = 0; i < kk; i++) {
      TMSF_CALL(progress(&o, "rerank", (double)i / kk));
      double Pc[16], od;
      TMSF_CALL(tmsf_search_pose_at(search, cand[order[i]][0], cand[order[i]][1], cand[order[i]][2], Pc));
      TMSF_CALL(tmsf_placement_evaluate(pl, TMSF_PLACEMENT_DIRECT, 1, Pc, &od, NULL));
      res->num_direct_solves++;
      if (od > best) best = od, win = order[i], win_direct = od;
    }
    TMSF_CALL(progress(&o, "rerank", 1.0));
  }
  res->u_m = cand[win][0], res->v_m = cand[win][1], res->angle_deg = cand[win][2];
  TMSF_CALL(tmsf_search_pose_at(search, res->u_m, res->v_m, res->angle_deg, res->pose));
  res->objective = cand[win][3];
  if (isnan(win_direct)) {
    if (o.method == TMSF_PLACEMENT_DIRECT) win_direct = res->objective;
    else {
      TMSF_CALL(tmsf_placement_evaluate(pl, TMSF_PLACEMENT_DIRECT, 1, res->pose, &win_direct, NULL));
      res->num_direct_solves++;
    }
  }
  res->objective_direct = win_direct;
  if (fast && nonlinear) res->objective = win_direct; /* the re-ranked value is the exact one */
  res->time_rerank_s = tmsf_wtime() - t0;
  return TMSF_SUCCESS;
}

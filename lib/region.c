/*
 * SPDX-License-Identifier: BSD-3-Clause
 * region.c: target regions (sets of tetrahedra) and the local surface normal
 * of their elements.
 */
#include <string.h>

#include "tmsf-impl.h"

struct tmsf_region {
  tmsf_context *ctx;
  const tmsf_mesh *mesh;
  tmsf_region_kind kind;
  double centre[3], radius; /* m */
  int num_tags;
  int32_t tags[TMSF_REGION_MAX_TAGS];
  int64_t n;
  int64_t *elem; /* increasing */
  double volume; /* m^3 */
  /* cached normals (3 per element) for one surface tag */
  int32_t normal_tag;
  double *normals;
};

static void tet_centroid(const tmsf_mesh *m, int64_t e, double c[3]) {
  const int32_t *t = m->tets + 4 * e;
  for (int k = 0; k < 3; k++)
    c[k] = 0.25 * (m->nodes[3 * (int64_t)t[0] + k] + m->nodes[3 * (int64_t)t[1] + k] +
                   m->nodes[3 * (int64_t)t[2] + k] + m->nodes[3 * (int64_t)t[3] + k]);
}

static int region_alloc(const tmsf_mesh *mesh, tmsf_region **out) {
  tmsf_region *r = calloc(1, sizeof(*r));
  if (!r) return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "region: out of memory");
  r->ctx = mesh->ctx;
  r->mesh = mesh;
  *out = r;
  return TMSF_SUCCESS;
}

/* "2" or "3, 4, 5" */
static void format_tags(char *buf, size_t size, int n, const int32_t *tags) {
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i < n && len < size; i++) {
    int w = snprintf(buf + len, size - len, "%s%d", i ? ", " : "", (int)tags[i]);
    if (w < 0) break;
    len += (size_t)w;
  }
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int tmsf_region_create_sphere(const tmsf_mesh *mesh, const double centre_m[3], double radius_m,
                              int num_tags, const int32_t *tags, tmsf_region **region) {
  if (!region) return TMSF_ERR_ARGUMENT;
  *region = NULL;
  if (!mesh) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = mesh->ctx;
  if (!centre_m) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "region: the centre is required");
  if (!(isfinite(centre_m[0]) && isfinite(centre_m[1]) && isfinite(centre_m[2])))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "region: the centre must be finite");
  if (!(radius_m > 0.0 && isfinite(radius_m)))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "region: the radius must be finite and > 0, got %g m", radius_m);
  if (num_tags < 0 || num_tags > TMSF_REGION_MAX_TAGS || (num_tags > 0 && !tags))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "region: between 0 and %d tags (with their array), got %d",
                      TMSF_REGION_MAX_TAGS, num_tags);
  int32_t want[TMSF_REGION_MAX_TAGS];
  int nw = 0;
  if (num_tags == 0) {
    want[nw++] = 2; /* grey matter */
  } else {
    memcpy(want, tags, sizeof(int32_t) * (size_t)num_tags);
    qsort(want, (size_t)num_tags, sizeof(int32_t), cmp_i32);
    for (int i = 0; i < num_tags; i++)
      if (i == 0 || want[i] != want[nw - 1]) want[nw++] = want[i];
  }
  const tmsf_mesh *m = mesh;
  int64_t count = 0, with_tag = 0;
  double nearest = INFINITY, r2 = radius_m * radius_m;
  /* a tetrahedron is taken when its tag is wanted and its centroid is in the ball */
  unsigned char *take = tmsf_calloc_array((size_t)m->num_tets + 1, 1);
  if (!take) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "region: out of memory");
  for (int64_t e = 0; e < m->num_tets; e++) {
    if (!bsearch(&m->tet_tags[e], want, (size_t)nw, sizeof(int32_t), cmp_i32)) continue;
    with_tag++;
    double c[3];
    tet_centroid(m, e, c);
    double d2 = (c[0] - centre_m[0]) * (c[0] - centre_m[0]) + (c[1] - centre_m[1]) * (c[1] - centre_m[1]) +
                (c[2] - centre_m[2]) * (c[2] - centre_m[2]);
    if (d2 < nearest) nearest = d2;
    if (d2 <= r2) take[e] = 1, count++;
  }
  char tagtxt[256];
  format_tags(tagtxt, sizeof(tagtxt), nw, want);
  if (with_tag == 0) {
    free(take);
    char have[256];
    format_tags(have, sizeof(have), m->num_tags, m->tags);
    return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND,
                      "region: %s has no tetrahedra with tag %s (its tetrahedron tags: %s)%s",
                      m->origin ? m->origin : "the mesh", tagtxt, have,
                      num_tags == 0 ? "; the default is grey matter (2): give the tags" : "");
  }
  if (count == 0) {
    free(take);
    return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND,
                      "region: empty: no tetrahedron with tag %s has its centroid within %g mm of "
                      "(%g, %g, %g) mm; the nearest is %.3g mm away",
                      tagtxt, radius_m * 1e3, centre_m[0] * 1e3, centre_m[1] * 1e3, centre_m[2] * 1e3,
                      sqrt(nearest) * 1e3);
  }
  tmsf_region *r;
  int ierr = region_alloc(mesh, &r);
  if (ierr) {
    free(take);
    return ierr;
  }
  r->kind = TMSF_REGION_SPHERE;
  memcpy(r->centre, centre_m, sizeof(r->centre));
  r->radius = radius_m;
  r->num_tags = nw;
  memcpy(r->tags, want, sizeof(int32_t) * (size_t)nw);
  r->elem = tmsf_malloc_array((size_t)count, sizeof(int64_t));
  if (!r->elem) {
    free(take);
    tmsf_region_destroy(&r);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "region: out of memory");
  }
  for (int64_t e = 0; e < m->num_tets; e++)
    if (take[e]) {
      r->elem[r->n++] = e;
      r->volume += tmsf_tet_signed_volume(m->nodes, m->tets + 4 * e);
    }
  free(take);
  *region = r;
  return TMSF_SUCCESS;
}

int tmsf_region_create_elements(const tmsf_mesh *mesh, int64_t num_elements, const int64_t *elements,
                                tmsf_region **region) {
  if (!region) return TMSF_ERR_ARGUMENT;
  *region = NULL;
  if (!mesh) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = mesh->ctx;
  if (num_elements <= 0 || !elements)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "region: the element list is empty");
  for (int64_t i = 0; i < num_elements; i++)
    if (elements[i] < 0 || elements[i] >= mesh->num_tets)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "region: element list entry %lld is %lld, outside 0..%lld (the mesh's tetrahedra)",
                        (long long)i, (long long)elements[i], (long long)mesh->num_tets - 1);
  tmsf_region *r;
  TMSF_CALL(region_alloc(mesh, &r));
  r->kind = TMSF_REGION_ELEMENTS;
  r->elem = tmsf_malloc_array((size_t)num_elements, sizeof(int64_t));
  if (!r->elem) {
    tmsf_region_destroy(&r);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "region: out of memory");
  }
  memcpy(r->elem, elements, sizeof(int64_t) * (size_t)num_elements);
  qsort(r->elem, (size_t)num_elements, sizeof(int64_t), cmp_i64);
  r->n = num_elements;
  for (int64_t i = 1; i < num_elements; i++)
    if (r->elem[i] == r->elem[i - 1]) {
      long long dup = (long long)r->elem[i];
      tmsf_region_destroy(&r);
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "region: tetrahedron %lld is listed more than once", dup);
    }
  const tmsf_mesh *m = mesh;
  double cw[3] = {0, 0, 0};
  for (int64_t i = 0; i < r->n; i++) {
    int64_t e = r->elem[i];
    double v = tmsf_tet_signed_volume(m->nodes, m->tets + 4 * e), c[3];
    tet_centroid(m, e, c);
    for (int k = 0; k < 3; k++) cw[k] += v * c[k];
    r->volume += v;
    int32_t tag = m->tet_tags[e];
    int known = 0;
    for (int j = 0; j < r->num_tags; j++) known |= r->tags[j] == tag;
    if (!known) {
      if (r->num_tags == TMSF_REGION_MAX_TAGS) {
        tmsf_region_destroy(&r);
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "region: the elements have more than %d distinct tags",
                          TMSF_REGION_MAX_TAGS);
      }
      r->tags[r->num_tags++] = tag;
    }
  }
  qsort(r->tags, (size_t)r->num_tags, sizeof(int32_t), cmp_i32);
  for (int k = 0; k < 3; k++) r->centre[k] = cw[k] / r->volume;
  for (int64_t i = 0; i < r->n; i++) {
    double c[3];
    tet_centroid(m, r->elem[i], c);
    double d = sqrt((c[0] - r->centre[0]) * (c[0] - r->centre[0]) + (c[1] - r->centre[1]) * (c[1] - r->centre[1]) +
                    (c[2] - r->centre[2]) * (c[2] - r->centre[2]));
    if (d > r->radius) r->radius = d;
  }
  *region = r;
  return TMSF_SUCCESS;
}

int tmsf_region_destroy(tmsf_region **region) {
  if (!region || !*region) return TMSF_SUCCESS;
  free((*region)->elem);
  free((*region)->normals);
  free(*region);
  *region = NULL;
  return TMSF_SUCCESS;
}

const tmsf_mesh *tmsf_region_get_mesh(const tmsf_region *region) { return region ? region->mesh : NULL; }

int tmsf_region_get_kind(const tmsf_region *region, tmsf_region_kind *kind) {
  if (!region || !kind) return TMSF_ERR_ARGUMENT;
  *kind = region->kind;
  return TMSF_SUCCESS;
}

int tmsf_region_get_sphere(const tmsf_region *region, double centre_m[3], double *radius_m) {
  if (!region) return TMSF_ERR_ARGUMENT;
  if (centre_m) memcpy(centre_m, region->centre, sizeof(region->centre));
  if (radius_m) *radius_m = region->radius;
  return TMSF_SUCCESS;
}

int tmsf_region_get_tags(const tmsf_region *region, int *num_tags, const int32_t **tags) {
  if (!region || !num_tags || !tags) return TMSF_ERR_ARGUMENT;
  *num_tags = region->num_tags;
  *tags = region->tags;
  return TMSF_SUCCESS;
}

int tmsf_region_get_elements(const tmsf_region *region, int64_t *num_elements, const int64_t **elements) {
  if (!region || !num_elements || !elements) return TMSF_ERR_ARGUMENT;
  *num_elements = region->n;
  *elements = region->elem;
  return TMSF_SUCCESS;
}

int tmsf_region_get_volume(const tmsf_region *region, double *volume_m3) {
  if (!region || !volume_m3) return TMSF_ERR_ARGUMENT;
  *volume_m3 = region->volume;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Nearest triangle and its normal                                           */
/* ------------------------------------------------------------------------- */

static inline double dot3(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* Squared distance from p to triangle abc: the closest point lies in the
 * face, on an edge or at a vertex; the case follows from the barycentric
 * coordinates of p's projection (the Voronoi regions of the triangle). */
static double point_triangle_d2(const double p[3], const double a[3], const double b[3], const double c[3]) {
  double ab[3], ac[3], ap[3], q[3];
  for (int k = 0; k < 3; k++) ab[k] = b[k] - a[k], ac[k] = c[k] - a[k], ap[k] = p[k] - a[k];
  double d1 = dot3(ab, ap), d2 = dot3(ac, ap);
  if (d1 <= 0.0 && d2 <= 0.0) { /* vertex a */
    for (int k = 0; k < 3; k++) q[k] = a[k];
    goto done;
  }
  double bp[3];
  for (int k = 0; k < 3; k++) bp[k] = p[k] - b[k];
  double d3 = dot3(ab, bp), d4 = dot3(ac, bp);
  if (d3 >= 0.0 && d4 <= d3) { /* vertex b */
    for (int k = 0; k < 3; k++) q[k] = b[k];
    goto done;
  }
  double vc = d1 * d4 - d3 * d2;
  if (vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0) { /* edge ab */
    double v = d1 / (d1 - d3);
    for (int k = 0; k < 3; k++) q[k] = a[k] + v * ab[k];
    goto done;
  }
  double cp[3];
  for (int k = 0; k < 3; k++) cp[k] = p[k] - c[k];
  double d5 = dot3(ab, cp), d6 = dot3(ac, cp);
  if (d6 >= 0.0 && d5 <= d6) { /* vertex c */
    for (int k = 0; k < 3; k++) q[k] = c[k];
    goto done;
  }
  double vb = d5 * d2 - d1 * d6;
  if (vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0) { /* edge ac */
    double w = d2 / (d2 - d6);
    for (int k = 0; k < 3; k++) q[k] = a[k] + w * ac[k];
    goto done;
  }
  double va = d3 * d6 - d5 * d4;
  if (va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0) { /* edge bc */
    double w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
    for (int k = 0; k < 3; k++) q[k] = b[k] + w * (c[k] - b[k]);
    goto done;
  }
  { /* inside the face */
    double den = 1.0 / (va + vb + vc), v = vb * den, w = vc * den;
    for (int k = 0; k < 3; k++) q[k] = a[k] + v * ab[k] + w * ac[k];
  }
done:;
  double d[3] = {p[0] - q[0], p[1] - q[1], p[2] - q[2]};
  return dot3(d, d);
}

typedef struct tri_box {
  double dist2; /* squared distance from the region's bounding box */
  int64_t tri;  /* candidate index */
} tri_box;

static int cmp_tri_box(const void *a, const void *b) {
  const tri_box *x = a, *y = b; /* ties by index: the same order on every platform */
  if (x->dist2 != y->dist2) return (x->dist2 > y->dist2) - (x->dist2 < y->dist2);
  return (x->tri > y->tri) - (x->tri < y->tri);
}

int tmsf_region_get_normals(tmsf_region *r, int32_t surface_tag, const double **normals) {
  if (!r || !normals) return TMSF_ERR_ARGUMENT;
  if (surface_tag == 0) surface_tag = TMSF_SURFACE_GM;
  if (r->normals && r->normal_tag == surface_tag) {
    *normals = r->normals;
    return TMSF_SUCCESS;
  }
  const tmsf_mesh *m = r->mesh;
  int64_t nt = 0;
  for (int64_t f = 0; f < m->num_tris; f++) nt += m->tri_tags[f] == surface_tag;
  if (nt == 0) {
    char have[256] = "none";
    int32_t distinct[64];
    int nd = 0;
    for (int64_t f = 0; f < m->num_tris && nd < 64; f++) {
      int seen = 0;
      for (int j = 0; j < nd; j++) seen |= distinct[j] == m->tri_tags[f];
      if (!seen) distinct[nd++] = m->tri_tags[f];
    }
    qsort(distinct, (size_t)nd, sizeof(int32_t), cmp_i32);
    if (nd) format_tags(have, sizeof(have), nd, distinct);
    return TMSF_ERROR(r->ctx, TMSF_ERR_NOT_FOUND,
                      "cortical normal: %s has no triangles with tag %d (its triangle tags: %s)",
                      m->origin ? m->origin : "the mesh", (int)surface_tag, have);
  }
  TMSF_CALL(tmsf_mesh_build_adjacency(m));
  int32_t *tri_tet = tmsf_malloc_array((size_t)m->num_tris, sizeof(int32_t));
  tri_box *cand = tmsf_malloc_array((size_t)nt, sizeof(tri_box));
  double *tn = tmsf_malloc_array((size_t)nt * 3, sizeof(double));
  double *out = tmsf_malloc_array((size_t)r->n * 3, sizeof(double));
  double *cen = tmsf_malloc_array((size_t)r->n * 3, sizeof(double));
  int64_t *tri_of = tmsf_malloc_array((size_t)nt, sizeof(int64_t)); /* candidate -> mesh triangle */
  if (!tri_tet || !cand || !tn || !out || !cen || !tri_of) {
    free(tri_tet), free(cand), free(tn), free(out), free(cen), free(tri_of);
    return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "cortical normal: out of memory");
  }
  tmsf_mesh_triangle_tets(m, tri_tet);
  /* bounding box of the centroids */
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int64_t i = 0; i < r->n; i++) {
    tet_centroid(m, r->elem[i], cen + 3 * i);
    for (int k = 0; k < 3; k++) {
      if (cen[3 * i + k] < lo[k]) lo[k] = cen[3 * i + k];
      if (cen[3 * i + k] > hi[k]) hi[k] = cen[3 * i + k];
    }
  }
  double mlo[3], mhi[3];
  tmsf_mesh_get_bounds(m, mlo, mhi);
  const int32_t tissue = surface_tag - 1000;
  int64_t j = 0;
  for (int64_t f = 0; f < m->num_tris; f++) {
    if (m->tri_tags[f] != surface_tag) continue;
    const int32_t *t = m->tris + 3 * f;
    const double *a = m->nodes + 3 * (int64_t)t[0], *b = m->nodes + 3 * (int64_t)t[1],
                 *c = m->nodes + 3 * (int64_t)t[2];
    /* the triangle's box versus the centroids' box: a lower bound of the
     * distance from any centroid to the triangle */
    double d2 = 0.0;
    for (int k = 0; k < 3; k++) {
      double tlo = fmin(a[k], fmin(b[k], c[k])), thi = fmax(a[k], fmax(b[k], c[k]));
      double gap = tlo > hi[k] ? tlo - hi[k] : lo[k] > thi ? lo[k] - thi : 0.0;
      d2 += gap * gap;
    }
    cand[j].dist2 = d2;
    cand[j].tri = j; /* index into tn and tri_of */
    tri_of[j] = f;
    /* normal, oriented outward from the tissue */
    double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
    double n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    double len = sqrt(dot3(n, n));
    if (len > 0.0)
      for (int k = 0; k < 3; k++) n[k] /= len;
    double ref[3], sign;
    if (tri_tet[f] >= 0) { /* the adjacent tetrahedron's vertex off the triangle */
      const int32_t *q = m->tets + 4 * (int64_t)tri_tet[f];
      int o = 0;
      for (int s = 0; s < 4; s++)
        if (q[s] != t[0] && q[s] != t[1] && q[s] != t[2]) o = s;
      for (int k = 0; k < 3; k++) ref[k] = m->nodes[3 * (int64_t)q[o] + k];
      sign = m->tet_tags[tri_tet[f]] == tissue ? -1.0 : 1.0; /* away from the tissue */
    } else { /* a loose triangle: away from the mesh's centre */
      for (int k = 0; k < 3; k++) ref[k] = 0.5 * (mlo[k] + mhi[k]);
      sign = -1.0;
    }
    double d[3] = {ref[0] - a[0], ref[1] - a[1], ref[2] - a[2]};
    if (sign * dot3(n, d) < 0.0)
      for (int k = 0; k < 3; k++) n[k] = -n[k];
    memcpy(tn + 3 * j, n, sizeof(n));
    j++;
  }
  qsort(cand, (size_t)nt, sizeof(tri_box), cmp_tri_box);
  /* For each centroid: triangles in increasing order of their box distance,
   * stopping once that lower bound exceeds the best distance found. */
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 64) num_threads(tmsf_threads(r->ctx))
#endif
  for (int64_t i = 0; i < r->n; i++) {
    const double *p = cen + 3 * i;
    double best = INFINITY;
    int64_t arg = 0;
    for (int64_t q = 0; q < nt; q++) {
      if (cand[q].dist2 > best) break;
      const int32_t *t = m->tris + 3 * tri_of[cand[q].tri];
      double d2 = point_triangle_d2(p, m->nodes + 3 * (int64_t)t[0], m->nodes + 3 * (int64_t)t[1],
                                    m->nodes + 3 * (int64_t)t[2]);
      if (d2 < best) best = d2, arg = cand[q].tri;
    }
    memcpy(out + 3 * i, tn + 3 * arg, 3 * sizeof(double));
  }
  free(tri_tet), free(cand), free(tn), free(cen), free(tri_of);
  free(r->normals);
  r->normals = out;
  r->normal_tag = surface_tag;
  *normals = out;
  return TMSF_SUCCESS;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * meshing.c: label volume -> tetrahedral mesh (through the CGAL mesher of
 * mesh-labels.cpp), CGAL sphere models, and mesh quality reports.
 */
#include <string.h>

#include "tmsf-impl.h"
#include "meshing-impl.h"

int tmsf_meshing_params_init(tmsf_meshing_params *p) {
  if (!p) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "params is NULL");
  memset(p, 0, sizeof(*p));
  p->cell_size_mm = 4.0;
  p->cell_size_fine_mm = 2.4;
  p->facet_size_mm = 3.0;
  p->facet_size_fine_mm = 1.8;
  p->facet_distance_mm = 0.6;
  p->facet_angle_deg = 25.0;
  p->cell_radius_edge = 3.0;
  p->num_fine_tags = 2;
  p->fine_tags[0] = 2;
  p->fine_tags[1] = 3;
  p->num_thin_tags = 1;
  p->thin_tags[0] = 3;
  p->thin_voxels = 0;
  p->cell_size_thin_mm = 1.2;
  p->facet_size_thin_mm = 1.0;
  p->perturb = 1;
  p->exude = 1;
  p->odt = 0;
  p->relabel = 1;
  p->lloyd = 0;
  p->optimize_time_s = 10.0;
  p->perturb_min_angle_deg = 10.0;
  p->exude_min_angle_deg = 12.0;
  p->num_threads = 0;
  p->seed = 1;
  return TMSF_SUCCESS;
}

static int check_params(tmsf_context *ctx, const tmsf_meshing_params *p) {
  const struct {
    const char *name;
    double v, lo, hi;
  } c[] = {
      {"cell_size_mm", p->cell_size_mm, 0.05, 1000},
      {"cell_size_fine_mm", p->cell_size_fine_mm, 0.05, 1000},
      {"facet_size_mm", p->facet_size_mm, 0.05, 1000},
      {"facet_size_fine_mm", p->facet_size_fine_mm, 0.05, 1000},
      {"facet_distance_mm", p->facet_distance_mm, 0.01, 100},
      {"cell_size_thin_mm", p->cell_size_thin_mm, 0.05, 1000},
      {"facet_size_thin_mm", p->facet_size_thin_mm, 0.05, 1000},
      {"facet_angle_deg", p->facet_angle_deg, 0, 30},
      {"cell_radius_edge", p->cell_radius_edge, 2, 100},
      {"optimize_time_s", p->optimize_time_s, 0, 1e6},
      {"perturb_min_angle_deg", p->perturb_min_angle_deg, 0, 60},
      {"exude_min_angle_deg", p->exude_min_angle_deg, 0, 60},
  };
  for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
    if (!(c[i].v >= c[i].lo && c[i].v <= c[i].hi))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "meshing parameter %s = %g; expected %g to %g",
                        c[i].name, c[i].v, c[i].lo, c[i].hi);
  if (p->num_fine_tags < 0 || p->num_fine_tags > TMSF_MESHING_MAX_FINE)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "meshing parameter num_fine_tags = %d; expected 0 to %d",
                      p->num_fine_tags, TMSF_MESHING_MAX_FINE);
  if (p->num_thin_tags < 0 || p->num_thin_tags > TMSF_MESHING_MAX_FINE || p->thin_voxels < 0)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "meshing parameters num_thin_tags = %d, thin_voxels = %d; expected 0 to %d and >= 0",
                      p->num_thin_tags, p->thin_voxels, TMSF_MESHING_MAX_FINE);
  if (p->num_threads < 0)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "meshing parameter num_threads = %d; expected >= 0",
                      p->num_threads);
  return TMSF_SUCCESS;
}

/* Build a tmsf_mesh from mesher output: nodes (mm, mesher frame) mapped by
 * x_mm = M (q / s) + t, where q is the mesher coordinate and s the voxel size
 * used by the mesher (so q / s is the voxel index, shifted by the padding). */
static int result_to_mesh(tmsf_context *ctx, tmsf_cgal_result *res, const double A[16],
                          const double vox[3], const double shift[3], tmsf_mesh **mesh) {
  double *xyz = tmsf_malloc_array((size_t)res->num_nodes * 3, sizeof(double));
  if (!xyz) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  for (int64_t n = 0; n < res->num_nodes; n++) {
    double ijk[3];
    for (int c = 0; c < 3; c++) ijk[c] = res->nodes[3 * n + c] / vox[c] - shift[c];
    for (int r = 0; r < 3; r++)
      xyz[3 * n + r] = 1e-3 * (A[4 * r] * ijk[0] + A[4 * r + 1] * ijk[1] + A[4 * r + 2] * ijk[2] + A[4 * r + 3]);
  }
  double det = A[0] * (A[5] * A[10] - A[6] * A[9]) - A[1] * (A[4] * A[10] - A[6] * A[8]) +
               A[2] * (A[4] * A[9] - A[5] * A[8]);
  if (det < 0) { /* a reflection: restore positive orientation */
    for (int64_t e = 0; e < res->num_tets; e++) {
      int32_t t = res->tets[4 * e + 2];
      res->tets[4 * e + 2] = res->tets[4 * e + 3];
      res->tets[4 * e + 3] = t;
    }
    for (int64_t e = 0; e < res->num_tris; e++) {
      int32_t t = res->tris[3 * e + 1];
      res->tris[3 * e + 1] = res->tris[3 * e + 2];
      res->tris[3 * e + 2] = t;
    }
  }
  int ierr = tmsf_mesh_create(ctx, res->num_nodes, xyz, res->num_tets, res->tets, res->tet_tags,
                              res->num_tris, res->tris, res->tri_tags, mesh);
  free(xyz);
  return ierr;
}

/* Per-voxel size maps (mm): coarse sizes, fine sizes in the fine tissues, and
 * thin sizes in voxels of the thin tissues whose run of equal labels along some
 * axis is at most thin_voxels long (sulcal CSF sheets, which coarser elements
 * would merge into the grey matter around them). */
static int size_maps(tmsf_context *ctx, const uint8_t *img, const int64_t d[3],
                     const tmsf_meshing_params *p, float **cmap, float **fmap) {
  size_t n = (size_t)d[0] * (size_t)d[1] * (size_t)d[2];
  float cell[256], facet[256];
  unsigned char thin[256] = {0};
  for (int k = 0; k < 256; k++) {
    cell[k] = (float)p->cell_size_mm;
    facet[k] = (float)p->facet_size_mm;
  }
  for (int f = 0; f < p->num_fine_tags; f++)
    if (p->fine_tags[f] >= 0 && p->fine_tags[f] < 256) {
      cell[p->fine_tags[f]] = (float)p->cell_size_fine_mm;
      facet[p->fine_tags[f]] = (float)p->facet_size_fine_mm;
    }
  for (int f = 0; f < p->num_thin_tags; f++)
    if (p->thin_tags[f] > 0 && p->thin_tags[f] < 256) thin[p->thin_tags[f]] = 1;
  *cmap = tmsf_malloc_array(n, sizeof(float));
  *fmap = tmsf_malloc_array(n, sizeof(float));
  uint8_t *run = tmsf_calloc_array(n, 1); /* min run length over axes, capped at 255 */
  if (!*cmap || !*fmap || !run) {
    free(*cmap);
    free(*fmap);
    free(run);
    *cmap = *fmap = NULL;
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for the size field");
  }
  memset(run, 255, n);
  if (p->num_thin_tags > 0 && p->thin_voxels > 0) {
    const size_t stride[3] = {1, (size_t)d[0], (size_t)d[0] * (size_t)d[1]};
    for (int ax = 0; ax < 3; ax++) {
      int a1 = (ax + 1) % 3, a2 = (ax + 2) % 3;
      for (int64_t u = 0; u < d[a1]; u++)
        for (int64_t w = 0; w < d[a2]; w++) {
          size_t base = (size_t)u * stride[a1] + (size_t)w * stride[a2];
          int64_t start = 0;
          for (int64_t i = 1; i <= d[ax]; i++) {
            if (i < d[ax] && img[base + (size_t)i * stride[ax]] == img[base + (size_t)start * stride[ax]]) continue;
            int64_t len = i - start;
            uint8_t l8 = (uint8_t)(len < 255 ? len : 255);
            for (int64_t q = start; q < i; q++) {
              size_t v = base + (size_t)q * stride[ax];
              if (run[v] > l8) run[v] = l8;
            }
            start = i;
          }
        }
    }
  }
  for (size_t v = 0; v < n; v++) {
    uint8_t t = img[v];
    (*cmap)[v] = cell[t];
    (*fmap)[v] = facet[t];
    if (thin[t] && run[v] <= p->thin_voxels) {
      (*cmap)[v] = fminf(cell[t], (float)p->cell_size_thin_mm);
      (*fmap)[v] = fminf(facet[t], (float)p->facet_size_thin_mm);
    }
  }
  free(run);
  return TMSF_SUCCESS;
}

/* tmsf_cgal_settings.progress: the context's callback, stage "mesh". */
static int mesh_progress(void *user, double fraction) {
  tmsf_context *ctx = user;
  return ctx && ctx->progress && ctx->progress(ctx->progress_user, "mesh", fraction);
}

int tmsf_mesh_from_labels(const tmsf_labels *labels, const char *preset,
                          const tmsf_meshing_params *p, tmsf_mesh **mesh) {
  if (!mesh) return TMSF_ERROR(labels ? labels->ctx : NULL, TMSF_ERR_ARGUMENT, "mesh output is NULL");
  *mesh = NULL;
  if (!labels) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "labels is NULL");
  tmsf_context *ctx = labels->ctx;
  tmsf_meshing_params def;
  if (!p) {
    tmsf_meshing_params_init(&def);
    p = &def;
  }
  TMSF_CALL(check_params(ctx, p));
  TMSF_CALL(tmsf_progress_(ctx, "mesh", 0.0));
  size_t nvox = tmsf_labels_nvox(labels);
  uint8_t *t = malloc(nvox);
  if (!t) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  int ierr = tmsf_labels_tissues(labels, preset, t);
  if (ierr) {
    free(t);
    return ierr;
  }
  /* pad by PAD zero voxels on every side: the tissue never touches the image box */
  enum { PAD = 2 };
  int64_t d[3], pd[3];
  for (int c = 0; c < 3; c++) {
    d[c] = labels->dims[c];
    pd[c] = d[c] + 2 * PAD;
  }
  size_t pn = (size_t)pd[0] * (size_t)pd[1] * (size_t)pd[2];
  uint8_t *img = calloc(pn, 1);
  if (!img) {
    free(t);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for the padded image");
  }
  int any = 0;
  for (int64_t k = 0; k < d[2]; k++)
    for (int64_t j = 0; j < d[1]; j++) {
      const uint8_t *src = t + (size_t)d[0] * ((size_t)j + (size_t)d[1] * (size_t)k);
      uint8_t *dst = img + PAD + (size_t)pd[0] * ((size_t)(j + PAD) + (size_t)pd[1] * (size_t)(k + PAD));
      memcpy(dst, src, (size_t)d[0]);
      for (int64_t i = 0; i < d[0] && !any; i++) any = src[i] != 0;
    }
  free(t);
  if (!any) {
    free(img);
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: no voxel maps to a tissue under preset \"%s\"; nothing to mesh",
                      labels->origin, preset ? preset : "(default)");
  }
  if (!tmsf_cgal_available()) {
    free(img);
    return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED,
                      "%s: meshing label volumes needs a build with CGAL (Debian: libcgal-dev)",
                      labels->origin);
  }
  /* voxel sizes: lengths of the affine's columns */
  const double *A = labels->affine;
  double vox[3], shift[3] = {PAD, PAD, PAD};
  for (int c = 0; c < 3; c++) vox[c] = sqrt(A[c] * A[c] + A[4 + c] * A[4 + c] + A[8 + c] * A[8 + c]);
  tmsf_cgal_settings *s = calloc(1, sizeof(*s));
  if (!s) {
    free(img);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  float *cmap = NULL, *fmap = NULL;
  ierr = size_maps(ctx, img, pd, p, &cmap, &fmap);
  if (ierr) {
    free(img);
    free(s);
    return ierr;
  }
  s->cell_size_mm = cmap;
  s->facet_size_mm = fmap;
  s->facet_distance_mm = p->facet_distance_mm;
  s->facet_angle_deg = p->facet_angle_deg;
  s->cell_radius_edge = p->cell_radius_edge;
  s->perturb = p->perturb;
  s->exude = p->exude;
  s->odt = p->odt;
  s->lloyd = p->lloyd;
  s->relabel = p->relabel;
  s->optimize_time_s = p->optimize_time_s;
  s->perturb_min_angle_deg = p->perturb_min_angle_deg;
  s->exude_min_angle_deg = p->exude_min_angle_deg;
  s->num_threads = p->num_threads > 0 ? p->num_threads : (ctx ? ctx->num_threads : 0);
  s->seed = p->seed;
  s->progress = mesh_progress;
  s->progress_user = ctx;
  tmsf_cgal_result res;
  memset(&res, 0, sizeof(res));
  int rc = mesh_progress(ctx, TMSF_CGAL_F_PREPARE) ? -2 : tmsf_cgal_mesh_image(img, pd, vox, s, &res);
  free(img);
  free(s);
  free(cmap);
  free(fmap);
  if (rc == -2)
    return TMSF_ERROR(ctx, TMSF_ERR_CANCELLED, "%s: meshing cancelled by the progress callback", labels->origin);
  if (rc) return TMSF_ERROR(ctx, TMSF_ERR_MESH, "%s: %s", labels->origin, res.message);
  ierr = result_to_mesh(ctx, &res, A, vox, shift, mesh);
  tmsf_cgal_result_free(&res);
  if (ierr) {
    char msg[TMSF_MSG_LEN];
    snprintf(msg, sizeof(msg), "%s", ctx ? ctx->message : "");
    return TMSF_ERROR(ctx, ierr, "%s: the generated mesh is invalid: %s", labels->origin, msg);
  }
  tmsf_progress_(ctx, "mesh", 1.0);
  return TMSF_SUCCESS;
}

int tmsf_mesh_create_spheres(tmsf_context *ctx, int n, const double *radii_m, const int32_t *tags,
                             double edge_m, tmsf_mesh **mesh) {
  if (!mesh) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "mesh output is NULL");
  *mesh = NULL;
  if (n < 1 || n > 64 || !radii_m || !tags)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "spheres: n = %d; expected 1 to 64 radii and tags", n);
  for (int i = 0; i < n; i++) {
    if (!(radii_m[i] > 0 && isfinite(radii_m[i])) || (i > 0 && !(radii_m[i] > radii_m[i - 1])))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "spheres: radius %d = %g m; expected positive, strictly increasing radii", i,
                        radii_m[i]);
    if (tags[i] <= 0 || tags[i] > 999)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "spheres: tag %d = %d; expected 1 to 999", i, (int)tags[i]);
    for (int j = 0; j < i; j++)
      if (tags[j] == tags[i])
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "spheres: tag %d repeats", (int)tags[i]);
  }
  if (!(edge_m > 0 && edge_m < radii_m[n - 1]))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "spheres: edge %g m; expected 0 < edge < the outer radius",
                      edge_m);
  if (radii_m[n - 1] / edge_m > 1000)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "spheres: edge %g m is too small for radius %g m (more than 1000 edges per radius)",
                      edge_m, radii_m[n - 1]);
  if (!tmsf_cgal_available())
    return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED, "sphere meshes need a build with CGAL (Debian: libcgal-dev)");
  double r_mm[64];
  for (int i = 0; i < n; i++) r_mm[i] = radii_m[i] * 1e3;
  tmsf_cgal_result res;
  if (tmsf_cgal_mesh_spheres(n, r_mm, tags, edge_m * 1e3, ctx ? ctx->num_threads : 0, &res))
    return TMSF_ERROR(ctx, TMSF_ERR_MESH, "spheres: %s", res.message);
  /* the mesher's tags are the shell tags; surfaces get 1000 + the inner shell tag by rank,
   * which for shells means the inner shell (sphere i = outer boundary of shell i) */
  double A[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, one[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
  int ierr = result_to_mesh(ctx, &res, A, one, zero, mesh);
  tmsf_cgal_result_free(&res);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Quality                                                                   */
/* ------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void sub3(const double *a, const double *b, double *c) {
  c[0] = a[0] - b[0];
  c[1] = a[1] - b[1];
  c[2] = a[2] - b[2];
}
static void cross3(const double *a, const double *b, double *c) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}
static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static int tag_slot(int32_t *tags, int *n, int32_t t) {
  for (int i = 0; i < *n; i++)
    if (tags[i] == t) return i;
  if (*n >= TMSF_QUALITY_MAX_TAGS) return -1;
  /* keep sorted */
  int i = *n;
  while (i > 0 && tags[i - 1] > t) i--;
  return i;
}

int tmsf_mesh_quality(const tmsf_mesh *mesh, tmsf_mesh_quality_report *r) {
  if (!mesh || !r) return TMSF_ERROR(mesh ? mesh->ctx : NULL, TMSF_ERR_ARGUMENT, "NULL argument");
  memset(r, 0, sizeof(*r));
  r->num_nodes = mesh->num_nodes;
  r->num_tets = mesh->num_tets;
  r->num_tris = mesh->num_tris;
  r->min_dihedral_deg = 180.0;
  r->max_dihedral_deg = 0.0;
  r->max_abs_volume_rel_error = NAN;
  for (int i = 0; i < TMSF_QUALITY_MAX_TAGS; i++) r->volume_rel_error[i] = NAN;
  double *re = tmsf_malloc_array((size_t)(mesh->num_tets > 0 ? mesh->num_tets : 1), sizeof(double));
  if (!re) return TMSF_ERROR(mesh->ctx, TMSF_ERR_MEMORY, "out of memory");
  double edge_sum = 0.0;
  static const int E[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  /* dihedral angle at edge (a,b) is between the faces (a,b,c) and (a,b,d) */
  static const int F[6][2] = {{2, 3}, {1, 3}, {1, 2}, {0, 3}, {0, 2}, {0, 1}};
  double re_sum = 0.0;
  for (int64_t e = 0; e < mesh->num_tets; e++) {
    const int32_t *t = mesh->tets + 4 * e;
    const double *p[4];
    for (int k = 0; k < 4; k++) p[k] = mesh->nodes + 3 * (size_t)t[k];
    double a[3], b[3], c[3], n[3];
    sub3(p[1], p[0], a);
    sub3(p[2], p[0], b);
    sub3(p[3], p[0], c);
    cross3(a, b, n);
    double vol = dot3(n, c) / 6.0;
    if (!(vol > 0)) r->num_inverted++;
    /* tag bookkeeping */
    int32_t tag = mesh->tet_tags[e];
    int s = tag_slot(r->tags, &r->num_tags, tag);
    if (s >= 0) {
      if (s == r->num_tags || r->tags[s] != tag) {
        memmove(r->tags + s + 1, r->tags + s, (size_t)(r->num_tags - s) * sizeof(int32_t));
        memmove(r->tets_per_tag + s + 1, r->tets_per_tag + s, (size_t)(r->num_tags - s) * sizeof(int64_t));
        memmove(r->volume_mm3 + s + 1, r->volume_mm3 + s, (size_t)(r->num_tags - s) * sizeof(double));
        r->tags[s] = tag;
        r->tets_per_tag[s] = 0;
        r->volume_mm3[s] = 0.0;
        r->num_tags++;
      }
      r->tets_per_tag[s]++;
      r->volume_mm3[s] += vol * 1e9;
    }
    /* edges */
    double lmin = INFINITY;
    for (int k = 0; k < 6; k++) {
      double d[3];
      sub3(p[E[k][1]], p[E[k][0]], d);
      double l = sqrt(dot3(d, d));
      edge_sum += l;
      if (l < lmin) lmin = l;
    }
    /* circumradius: |a|^2 (b x c) + |b|^2 (c x a) + |c|^2 (a x b) over 12 V */
    double bc[3], ca[3], ab[3], num[3];
    cross3(b, c, bc);
    cross3(c, a, ca);
    cross3(a, b, ab);
    for (int k = 0; k < 3; k++) num[k] = dot3(a, a) * bc[k] + dot3(b, b) * ca[k] + dot3(c, c) * ab[k];
    double R = sqrt(dot3(num, num)) / (12.0 * fabs(vol));
    double ratio = vol != 0 && lmin > 0 ? R / lmin : INFINITY;
    re[e] = ratio;
    re_sum += ratio;
    if (ratio > r->radius_edge_max) r->radius_edge_max = ratio;
    /* dihedral angles */
    double emin = 180.0, emax = 0.0;
    for (int k = 0; k < 6; k++) {
      const double *pa = p[E[k][0]], *pb = p[E[k][1]], *pc = p[F[k][0]], *pd = p[F[k][1]];
      double u[3], v[3], w[3], n1[3], n2[3];
      sub3(pb, pa, u);
      sub3(pc, pa, v);
      sub3(pd, pa, w);
      cross3(u, v, n1);
      cross3(u, w, n2);
      double cs = dot3(n1, n2) / sqrt(dot3(n1, n1) * dot3(n2, n2));
      if (!isfinite(cs)) cs = 1.0;
      cs = fmax(-1.0, fmin(1.0, cs));
      double ang = acos(cs) * (180.0 / 3.14159265358979323846);
      emin = fmin(emin, ang);
      emax = fmax(emax, ang);
    }
    r->min_dihedral_deg = fmin(r->min_dihedral_deg, emin);
    r->max_dihedral_deg = fmax(r->max_dihedral_deg, emax);
    if (emin < 5.0) r->num_dihedral_below_5++;
  }
  if (mesh->num_tets > 0) {
    r->radius_edge_mean = re_sum / (double)mesh->num_tets;
    qsort(re, (size_t)mesh->num_tets, sizeof(double), cmp_double);
    r->radius_edge_p99 = re[(size_t)floor(0.99 * (double)(mesh->num_tets - 1))];
    r->mean_edge_mm = 1e3 * edge_sum / (6.0 * (double)mesh->num_tets);
  }
  free(re);
  for (int64_t e = 0; e < mesh->num_tris; e++) {
    int32_t tag = mesh->tri_tags[e];
    int s = tag_slot(r->surface_tags, &r->num_surface_tags, tag);
    if (s < 0) continue;
    if (s == r->num_surface_tags || r->surface_tags[s] != tag) {
      memmove(r->surface_tags + s + 1, r->surface_tags + s, (size_t)(r->num_surface_tags - s) * sizeof(int32_t));
      memmove(r->tris_per_tag + s + 1, r->tris_per_tag + s, (size_t)(r->num_surface_tags - s) * sizeof(int64_t));
      r->surface_tags[s] = tag;
      r->tris_per_tag[s] = 0;
      r->num_surface_tags++;
    }
    r->tris_per_tag[s]++;
  }
  return TMSF_SUCCESS;
}

int tmsf_mesh_quality_compare(tmsf_mesh_quality_report *r, const tmsf_labels *labels, const char *preset) {
  if (!r || !labels) return TMSF_ERROR(labels ? labels->ctx : NULL, TMSF_ERR_ARGUMENT, "NULL argument");
  double vol[TMSF_LABELS_MAX_TAG + 1];
  TMSF_CALL(tmsf_labels_tissue_volumes(labels, preset, TMSF_LABELS_MAX_TAG, vol));
  double worst = 0.0;
  for (int i = 0; i < r->num_tags; i++) {
    int32_t t = r->tags[i];
    r->voxel_volume_mm3[i] = t >= 0 && t <= TMSF_LABELS_MAX_TAG ? vol[t] : 0.0;
    r->volume_rel_error[i] =
        r->voxel_volume_mm3[i] > 0 ? (r->volume_mm3[i] - r->voxel_volume_mm3[i]) / r->voxel_volume_mm3[i] : NAN;
    if (isfinite(r->volume_rel_error[i])) worst = fmax(worst, fabs(r->volume_rel_error[i]));
  }
  /* a tissue in the labels that the mesh lost entirely counts as -100 % */
  for (int t = 1; t <= TMSF_LABELS_MAX_TAG; t++) {
    if (vol[t] <= 0) continue;
    int found = 0;
    for (int i = 0; i < r->num_tags; i++) found |= r->tags[i] == t;
    if (!found) worst = fmax(worst, 1.0);
  }
  r->max_abs_volume_rel_error = worst;
  return TMSF_SUCCESS;
}

int tmsf_mesh_quality_print(const tmsf_mesh_quality_report *r, FILE *out) {
  if (!r || !out) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "NULL argument");
  static const char *names[] = {"outside", "WM", "GM", "CSF", "bone", "scalp", "eyes",
                                "compact bone", "spongy bone", "blood", "muscle"};
  fprintf(out, "mesh: %lld nodes, %lld tetrahedra, %lld triangles\n", (long long)r->num_nodes,
          (long long)r->num_tets, (long long)r->num_tris);
  if (r->mesh_time_s > 0) fprintf(out, "meshing time: %.1f s\n", r->mesh_time_s);
  fprintf(out, "inverted tetrahedra: %lld\n", (long long)r->num_inverted);
  fprintf(out, "dihedral angles: min %.2f deg, max %.2f deg; %lld tetrahedra below 5 deg\n",
          r->min_dihedral_deg, r->max_dihedral_deg, (long long)r->num_dihedral_below_5);
  fprintf(out, "radius-edge ratio: mean %.3f, p99 %.3f, max %.3f (regular tetrahedron 0.612)\n",
          r->radius_edge_mean, r->radius_edge_p99, r->radius_edge_max);
  fprintf(out, "mean edge: %.2f mm\n", r->mean_edge_mm);
  fprintf(out, "%5s %-13s %10s %14s %14s %9s\n", "tag", "tissue", "tets", "volume_mm3", "voxel_mm3", "error_%");
  for (int i = 0; i < r->num_tags; i++) {
    int32_t t = r->tags[i];
    const char *nm = t >= 0 && t <= 10 ? names[t] : "-";
    if (isfinite(r->volume_rel_error[i]))
      fprintf(out, "%5d %-13s %10lld %14.0f %14.0f %+9.2f\n", (int)t, nm, (long long)r->tets_per_tag[i],
              r->volume_mm3[i], r->voxel_volume_mm3[i], 100.0 * r->volume_rel_error[i]);
    else
      fprintf(out, "%5d %-13s %10lld %14.0f %14s %9s\n", (int)t, nm, (long long)r->tets_per_tag[i],
              r->volume_mm3[i], "-", "-");
  }
  if (r->num_surface_tags > 0) {
    fprintf(out, "surfaces:");
    for (int i = 0; i < r->num_surface_tags; i++)
      fprintf(out, " %d (%lld)", (int)r->surface_tags[i], (long long)r->tris_per_tag[i]);
    fprintf(out, "\n");
  }
  if (isfinite(r->max_abs_volume_rel_error))
    fprintf(out, "largest tissue volume error: %.2f %%\n", 100.0 * r->max_abs_volume_rel_error);
  return TMSF_SUCCESS;
}

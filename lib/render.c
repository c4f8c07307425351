/*
 * SPDX-License-Identifier: BSD-3-Clause
 * render.c: pictures — the picture object, an orthographic software
 * rasteriser with a z-buffer and Lambert shading, outlines, markers, text,
 * the colour bar, and |E| on the cortex composed from them.
 *
 * Triangles are filled by edge functions at pixel centres (a pixel belongs
 * to every triangle whose closed area holds its centre; the z-buffer
 * decides between them), depth, value and normal interpolated linearly in
 * the barycentric coordinates (exact for an orthographic camera).  Colours
 * are composed after the z-test, once per pixel.
 */
#include <string.h>

#include "render-impl.h"

static inline double dot3(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static inline void cross3(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}
static inline double norm3(const double a[3]) { return sqrt(dot3(a, a)); }

static const uint8_t halo_rgb[3] = {20, 20, 20};

/* ------------------------------------------------------------------------- */
/* Views and colours                                                         */
/* ------------------------------------------------------------------------- */

static const char *const view_names[] = {"coil", "left", "right", "top", "front", "back"};

int tmsf_view_parse(tmsf_context *ctx, const char *name, tmsf_view *view) {
  if (!name || !view) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_view_parse: NULL argument");
  for (int i = 0; i < 6; i++)
    if (!strcmp(name, view_names[i])) {
      *view = (tmsf_view)i;
      return TMSF_SUCCESS;
    }
  return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND, "unknown view \"%s\"; expected coil, left, right, top, front or back",
                    name);
}

const char *tmsf_view_name(tmsf_view view) {
  return (int)view >= 0 && (int)view < 6 ? view_names[view] : "?";
}

int tmsf_view_axes(tmsf_context *ctx, tmsf_view view, const double P[16], double direction[3], double up[3]) {
  if (!direction || !up) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_view_axes: NULL output");
  static const double fixed[6][2][3] = {{{0, 0, 0}, {0, 0, 0}},  {{1, 0, 0}, {0, 0, 1}},
                                        {{-1, 0, 0}, {0, 0, 1}}, {{0, 0, -1}, {0, 1, 0}},
                                        {{0, -1, 0}, {0, 0, 1}}, {{0, 1, 0}, {0, 0, 1}}};
  if ((int)view < 0 || (int)view > 5) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "unknown view %d", (int)view);
  if (view != TMSF_VIEW_COIL) {
    memcpy(direction, fixed[view][0], 3 * sizeof(double));
    memcpy(up, fixed[view][1], 3 * sizeof(double));
    return TMSF_SUCCESS;
  }
  if (!P) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "the coil view needs a coil pose");
  double z[3] = {P[2], P[6], P[10]}, y[3] = {P[1], P[5], P[9]};
  double nz = norm3(z);
  if (!(nz > 0.0) || !isfinite(nz)) return TMSF_ERROR(ctx, TMSF_ERR_POSE, "the pose's z axis is zero or not finite");
  for (int k = 0; k < 3; k++) z[k] /= nz;
  double d = dot3(y, z);
  for (int k = 0; k < 3; k++) y[k] -= d * z[k];
  double ny = norm3(y);
  if (!(ny > 1e-9 * nz)) return TMSF_ERROR(ctx, TMSF_ERR_POSE, "the pose's y axis is parallel to its z axis");
  for (int k = 0; k < 3; k++) {
    direction[k] = z[k];
    up[k] = y[k] / ny;
  }
  return TMSF_SUCCESS;
}

/* viridis sampled at t = i / 16 from matplotlib's table (van der Walt & Smith
 * 2015, "A better default colormap for matplotlib", SciPy 2015; the data are
 * CC0), rounded to 8 bits.  Linear interpolation between the samples stays
 * within 5.3 / 255 of the 256-entry table. */
static const uint8_t viridis17[17][3] = {
    {68, 1, 84},    {72, 24, 106},  {71, 45, 123},  {66, 64, 134},  {59, 82, 139},  {51, 99, 141},
    {44, 114, 142}, {38, 130, 142}, {33, 145, 140}, {31, 160, 136}, {40, 174, 128}, {63, 188, 115},
    {94, 201, 98},  {132, 212, 75}, {173, 220, 48}, {216, 226, 25}, {253, 231, 37}};

void tmsf_colormap_viridis(double t, uint8_t rgb[3]) {
  if (!rgb) return;
  if (isnan(t)) {
    rgb[0] = rgb[1] = rgb[2] = 128;
    return;
  }
  t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
  double x = t * 16.0;
  int i = (int)x;
  if (i > 15) i = 15;
  double f = x - i;
  for (int c = 0; c < 3; c++) {
    double v = (1.0 - f) * viridis17[i][c] + f * viridis17[i + 1][c];
    rgb[c] = (uint8_t)(v + 0.5);
  }
}

/* ------------------------------------------------------------------------- */
/* Picture                                                                   */
/* ------------------------------------------------------------------------- */

int tmsf_picture_create(tmsf_context *ctx, int width_px, int height_px, tmsf_picture **picture) {
  if (!picture) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "picture output is NULL");
  *picture = NULL;
  if (width_px < 16 || width_px > 16384 || height_px < 16 || height_px > 16384)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "picture size %d x %d pixels; expected 16 to 16384 each", width_px,
                      height_px);
  tmsf_picture *p = calloc(1, sizeof(*p));
  size_t n = (size_t)width_px * (size_t)height_px;
  if (p) {
    p->rgb = malloc(3 * n);
    p->value = tmsf_malloc_array(n, sizeof(float));
    p->depth = tmsf_malloc_array(n, sizeof(float));
  }
  if (!p || !p->rgb || !p->value || !p->depth) {
    tmsf_picture_destroy(&p);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for a %d x %d picture", width_px, height_px);
  }
  p->ctx = ctx;
  p->w = width_px;
  p->h = height_px;
  memset(p->rgb, 255, 3 * n);
  for (size_t i = 0; i < n; i++) {
    p->value[i] = NAN;
    p->depth[i] = INFINITY;
  }
  *picture = p;
  return TMSF_SUCCESS;
}

int tmsf_picture_destroy(tmsf_picture **picture) {
  if (!picture || !*picture) return TMSF_SUCCESS;
  free((*picture)->rgb);
  free((*picture)->value);
  free((*picture)->depth);
  free(*picture);
  *picture = NULL;
  return TMSF_SUCCESS;
}

int tmsf_picture_get_size(const tmsf_picture *picture, int *width_px, int *height_px) {
  if (!picture) return TMSF_ERR_ARGUMENT;
  if (width_px) *width_px = picture->w;
  if (height_px) *height_px = picture->h;
  return TMSF_SUCCESS;
}

int tmsf_picture_get_rgb(const tmsf_picture *picture, const uint8_t **rgb) {
  if (!picture || !rgb) return TMSF_ERR_ARGUMENT;
  *rgb = picture->rgb;
  return TMSF_SUCCESS;
}

int tmsf_picture_get_values(const tmsf_picture *picture, const float **values) {
  if (!picture || !values) return TMSF_ERR_ARGUMENT;
  *values = picture->value;
  return TMSF_SUCCESS;
}

int tmsf_picture_write_png(const tmsf_picture *picture, const char *path) {
  if (!picture) return TMSF_ERR_ARGUMENT;
  return tmsf_png_write(picture->ctx, path, picture->w, picture->h, picture->rgb);
}

static inline void put_px(tmsf_picture *p, int x, int y, const uint8_t rgb[3]) {
  if (x < 0 || y < 0 || x >= p->w || y >= p->h) return;
  memcpy(p->rgb + 3 * ((size_t)y * (size_t)p->w + (size_t)x), rgb, 3);
}

/* ------------------------------------------------------------------------- */
/* Camera                                                                    */
/* ------------------------------------------------------------------------- */

int tmsf_picture_set_camera(tmsf_picture *p, const int vp[4], const double direction[3], const double up[3],
                            const double centre_m[3], double width_m) {
  if (!p) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = p->ctx;
  if (!vp || !direction || !up || !centre_m)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_picture_set_camera: NULL argument");
  if (vp[0] < 0 || vp[1] < 0 || vp[2] < 1 || vp[3] < 1 || vp[0] + vp[2] > p->w || vp[1] + vp[3] > p->h)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "viewport (%d, %d, %d x %d) does not fit the %d x %d picture", vp[0],
                      vp[1], vp[2], vp[3], p->w, p->h);
  if (!(width_m > 0.0) || !isfinite(width_m))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "camera width %g m; expected a finite width > 0", width_m);
  double d[3] = {direction[0], direction[1], direction[2]}, u[3] = {up[0], up[1], up[2]};
  double nd = norm3(d);
  if (!(nd > 0.0) || !isfinite(nd) || !isfinite(centre_m[0] + centre_m[1] + centre_m[2]))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "camera direction is zero or not finite, or the centre not finite");
  for (int k = 0; k < 3; k++) d[k] /= nd;
  double du = dot3(u, d);
  for (int k = 0; k < 3; k++) u[k] -= du * d[k];
  double nu = norm3(u);
  if (!(nu > 1e-9) || !isfinite(nu))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "camera up (%g, %g, %g) is parallel to the direction", up[0], up[1],
                      up[2]);
  for (int k = 0; k < 3; k++) u[k] /= nu;
  memcpy(p->vp, vp, sizeof(p->vp));
  memcpy(p->dir, d, sizeof(d));
  memcpy(p->up, u, sizeof(u));
  cross3(d, u, p->right);
  memcpy(p->centre, centre_m, sizeof(p->centre));
  p->m_per_px = width_m / vp[2];
  p->have_camera = 1;
  size_t n = (size_t)p->w * (size_t)p->h;
  for (size_t i = 0; i < n; i++) p->depth[i] = INFINITY;
  return TMSF_SUCCESS;
}

int tmsf_picture_get_pixel_size(const tmsf_picture *p, double *m_per_px) {
  if (!p || !m_per_px) return TMSF_ERR_ARGUMENT;
  if (!p->have_camera) return TMSF_ERROR(p->ctx, TMSF_ERR_STATE, "the picture has no camera (tmsf_picture_set_camera)");
  *m_per_px = p->m_per_px;
  return TMSF_SUCCESS;
}

static inline void project1(const tmsf_picture *p, const double x[3], double xy[2], double *depth) {
  double d[3] = {x[0] - p->centre[0], x[1] - p->centre[1], x[2] - p->centre[2]};
  xy[0] = p->vp[0] + 0.5 * p->vp[2] + dot3(d, p->right) / p->m_per_px;
  xy[1] = p->vp[1] + 0.5 * p->vp[3] - dot3(d, p->up) / p->m_per_px;
  if (depth) *depth = dot3(d, p->dir);
}

int tmsf_picture_project(const tmsf_picture *p, int64_t n, const double *points_m, double *xy_px, double *depth_m) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!p->have_camera) return TMSF_ERROR(p->ctx, TMSF_ERR_STATE, "the picture has no camera (tmsf_picture_set_camera)");
  if (n < 0 || (n > 0 && (!points_m || !xy_px)))
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "tmsf_picture_project: NULL array or negative count");
  for (int64_t i = 0; i < n; i++) project1(p, points_m + 3 * i, xy_px + 2 * i, depth_m ? depth_m + i : NULL);
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Surfaces                                                                  */
/* ------------------------------------------------------------------------- */

int tmsf_picture_draw_surface(tmsf_picture *p, int64_t nv, const double *X, const double *N, int64_t nt,
                              const int32_t *T, const double *values, int per_vertex, double vmin, double vmax,
                              int shading) {
  if (!p) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = p->ctx;
  if (!p->have_camera) return TMSF_ERROR(ctx, TMSF_ERR_STATE, "the picture has no camera (tmsf_picture_set_camera)");
  if (nv < 0 || nt < 0 || (nv > 0 && !X) || (nt > 0 && (!T || !values)))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_picture_draw_surface: NULL array or negative count");
  if (!(vmax > vmin) || !isfinite(vmax - vmin))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "colour range [%g, %g]; expected finite vmin < vmax", vmin, vmax);
  for (int64_t t = 0; t < nt; t++)
    for (int k = 0; k < 3; k++)
      if (T[3 * t + k] < 0 || T[3 * t + k] >= nv)
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "triangle %lld refers to vertex %d; expected 0..%lld", (long long)t,
                          (int)T[3 * t + k], (long long)nv - 1);
  double *xy = tmsf_malloc_array((size_t)nv * 2 + 1, sizeof(double));
  double *zd = tmsf_malloc_array((size_t)nv + 1, sizeof(double));
  size_t npx = (size_t)p->w * (size_t)p->h;
  float *shade = tmsf_malloc_array(npx, sizeof(float));
  unsigned char *hit = calloc(npx, 1);
  if (!xy || !zd || !shade || !hit) {
    free(xy), free(zd), free(shade), free(hit);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory drawing %lld triangles", (long long)nt);
  }
  for (int64_t i = 0; i < nv; i++) project1(p, X + 3 * i, xy + 2 * i, zd + i);
  const int x0 = p->vp[0], y0 = p->vp[1], x1 = p->vp[0] + p->vp[2], y1 = p->vp[1] + p->vp[3];
  for (int64_t t = 0; t < nt; t++) {
    const int32_t *tv = T + 3 * t;
    const double *a = xy + 2 * tv[0], *b = xy + 2 * tv[1], *c = xy + 2 * tv[2];
    double area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    if (!(fabs(area) > 1e-12)) continue; /* edge-on or degenerate */
    double bx0 = fmin(a[0], fmin(b[0], c[0])), bx1 = fmax(a[0], fmax(b[0], c[0]));
    double by0 = fmin(a[1], fmin(b[1], c[1])), by1 = fmax(a[1], fmax(b[1], c[1]));
    if (!(bx1 >= x0 && bx0 <= x1 && by1 >= y0 && by0 <= y1)) continue;
    int ix0 = (int)fmax(x0, floor(bx0 - 0.5)), ix1 = (int)fmin(x1 - 1, ceil(bx1));
    int iy0 = (int)fmax(y0, floor(by0 - 0.5)), iy1 = (int)fmin(y1 - 1, ceil(by1));
    double tn[3] = {0, 0, 0};
    if (!N) {
      const double *A = X + 3 * tv[0], *B = X + 3 * tv[1], *C = X + 3 * tv[2];
      double e1[3] = {B[0] - A[0], B[1] - A[1], B[2] - A[2]}, e2[3] = {C[0] - A[0], C[1] - A[1], C[2] - A[2]};
      cross3(e1, e2, tn);
      double l = norm3(tn);
      if (l > 0.0)
        for (int k = 0; k < 3; k++) tn[k] /= l;
    }
    for (int iy = iy0; iy <= iy1; iy++)
      for (int ix = ix0; ix <= ix1; ix++) {
        double px = ix + 0.5, py = iy + 0.5;
        double l0 = ((b[0] - px) * (c[1] - py) - (b[1] - py) * (c[0] - px)) / area;
        double l1 = ((c[0] - px) * (a[1] - py) - (c[1] - py) * (a[0] - px)) / area;
        double l2 = 1.0 - l0 - l1;
        if (l0 < -1e-12 || l1 < -1e-12 || l2 < -1e-12) continue;
        double z = l0 * zd[tv[0]] + l1 * zd[tv[1]] + l2 * zd[tv[2]];
        size_t pi = (size_t)iy * (size_t)p->w + (size_t)ix;
        if (!((float)z < p->depth[pi])) continue;
        p->depth[pi] = (float)z;
        double v = per_vertex ? l0 * values[tv[0]] + l1 * values[tv[1]] + l2 * values[tv[2]] : values[t];
        p->value[pi] = (float)v;
        double s = 1.0;
        if (shading) {
          double n[3];
          if (N) {
            for (int k = 0; k < 3; k++) n[k] = l0 * N[3 * tv[0] + k] + l1 * N[3 * tv[1] + k] + l2 * N[3 * tv[2] + k];
            double l = norm3(n);
            if (l > 0.0)
              for (int k = 0; k < 3; k++) n[k] /= l;
          } else {
            memcpy(n, tn, sizeof(n));
          }
          s = 0.3 + 0.7 * fabs(dot3(n, p->dir));
        }
        shade[pi] = (float)s;
        hit[pi] = 1;
      }
  }
  for (size_t pi = 0; pi < npx; pi++) {
    if (!hit[pi]) continue;
    uint8_t rgb[3];
    double v = p->value[pi];
    tmsf_colormap_viridis(isnan(v) ? NAN : (v - vmin) / (vmax - vmin), rgb);
    if (isnan(v)) rgb[0] = rgb[1] = rgb[2] = 170;
    for (int k = 0; k < 3; k++) p->rgb[3 * pi + k] = (uint8_t)(rgb[k] * shade[pi] + 0.5);
  }
  free(xy), free(zd), free(shade), free(hit);
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Outlines and markers                                                      */
/* ------------------------------------------------------------------------- */

/* Fill a projected triangle into the mask (viewport-sized, row-major). */
static void mask_triangle(unsigned char *mask, const int vp[4], const double *a, const double *b, const double *c) {
  double area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  if (!(fabs(area) > 1e-12)) return;
  double bx0 = fmin(a[0], fmin(b[0], c[0])), bx1 = fmax(a[0], fmax(b[0], c[0]));
  double by0 = fmin(a[1], fmin(b[1], c[1])), by1 = fmax(a[1], fmax(b[1], c[1]));
  if (!(bx1 >= vp[0] && bx0 <= vp[0] + vp[2] && by1 >= vp[1] && by0 <= vp[1] + vp[3])) return; /* off the viewport */
  int ix0 = (int)fmax(vp[0], floor(fmin(a[0], fmin(b[0], c[0])) - 0.5));
  int ix1 = (int)fmin(vp[0] + vp[2] - 1, ceil(fmax(a[0], fmax(b[0], c[0]))));
  int iy0 = (int)fmax(vp[1], floor(fmin(a[1], fmin(b[1], c[1])) - 0.5));
  int iy1 = (int)fmin(vp[1] + vp[3] - 1, ceil(fmax(a[1], fmax(b[1], c[1]))));
  for (int iy = iy0; iy <= iy1; iy++)
    for (int ix = ix0; ix <= ix1; ix++) {
      double px = ix + 0.5, py = iy + 0.5;
      double l0 = ((b[0] - px) * (c[1] - py) - (b[1] - py) * (c[0] - px)) / area;
      double l1 = ((c[0] - px) * (a[1] - py) - (c[1] - py) * (a[0] - px)) / area;
      if (l0 < -1e-12 || l1 < -1e-12 || 1.0 - l0 - l1 < -1e-12) continue;
      mask[(size_t)(iy - vp[1]) * (size_t)vp[2] + (size_t)(ix - vp[0])] = 1;
    }
}

/* Squared Euclidean distance transform of a sampled function along one line
 * (Felzenszwalb & Huttenlocher, "Distance transforms of sampled functions",
 * Theory of Computing 8, 2012: the lower envelope of parabolas rooted at the
 * samples).  f: n values (INFINITY far), d: result; v, z: scratch of n and
 * n + 1. */
static void edt_line(const double *f, int n, double *d, int *v, double *z) {
  int k = -1;
  for (int q = 0; q < n; q++) {
    if (!isfinite(f[q])) continue;
    double s = -INFINITY;
    while (k >= 0) {
      s = ((f[q] + (double)q * q) - (f[v[k]] + (double)v[k] * v[k])) / (2.0 * (q - v[k]));
      if (s > z[k]) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = k == 0 ? -INFINITY : s;
    z[k + 1] = INFINITY;
  }
  if (k < 0) {
    for (int q = 0; q < n; q++) d[q] = INFINITY;
    return;
  }
  int j = 0;
  for (int q = 0; q < n; q++) {
    while (z[j + 1] < q) j++;
    d[q] = (double)(q - v[j]) * (q - v[j]) + f[v[j]];
  }
}

/* Keep the mask pixels farther than e pixels from every pixel outside the
 * mask (in the w x h grid; beyond the grid counts as inside).  0, or -1 when
 * out of memory. */
static int erode(unsigned char *mask, int w, int h, double e) {
  int m = w > h ? w : h;
  double *g = tmsf_malloc_array((size_t)w * (size_t)h, sizeof(double));
  double *f = tmsf_malloc_array((size_t)m, sizeof(double)), *d = tmsf_malloc_array((size_t)m, sizeof(double));
  double *z = tmsf_malloc_array((size_t)m + 1, sizeof(double));
  int *v = tmsf_malloc_array((size_t)m, sizeof(int));
  if (!g || !f || !d || !z || !v) {
    free(g), free(f), free(d), free(z), free(v);
    return -1;
  }
  for (int y = 0; y < h; y++) { /* rows: distance to the outside pixels of the row */
    for (int x = 0; x < w; x++) f[x] = mask[(size_t)y * (size_t)w + (size_t)x] ? INFINITY : 0.0;
    edt_line(f, w, d, v, z);
    for (int x = 0; x < w; x++) g[(size_t)y * (size_t)w + (size_t)x] = d[x];
  }
  for (int x = 0; x < w; x++) { /* columns over the row distances */
    for (int y = 0; y < h; y++) f[y] = g[(size_t)y * (size_t)w + (size_t)x];
    edt_line(f, h, d, v, z);
    for (int y = 0; y < h; y++)
      if (d[y] <= e * e) mask[(size_t)y * (size_t)w + (size_t)x] = 0;
  }
  free(g), free(f), free(d), free(z), free(v);
  return 0;
}

int tmsf_picture_draw_outline(tmsf_picture *p, int64_t n, const double *X, int64_t nt, const int32_t *T,
                              double radius_m, const uint8_t rgb[3]) {
  if (!p) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = p->ctx;
  if (!p->have_camera) return TMSF_ERROR(ctx, TMSF_ERR_STATE, "the picture has no camera (tmsf_picture_set_camera)");
  if (n < 0 || nt < 0 || (n > 0 && !X) || (nt > 0 && !T) || !rgb)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_picture_draw_outline: NULL array or negative count");
  if (nt == 0 && !(radius_m > 0.0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "outline of points: radius %g m; expected > 0", radius_m);
  for (int64_t t = 0; t < nt; t++)
    for (int k = 0; k < 3; k++)
      if (T[3 * t + k] < 0 || T[3 * t + k] >= n)
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "outline triangle %lld refers to point %d; expected 0..%lld",
                          (long long)t, (int)T[3 * t + k], (long long)n - 1);
  const int *vp = p->vp;
  size_t nm = (size_t)vp[2] * (size_t)vp[3];
  unsigned char *mask = calloc(nm, 1), *edge = calloc(nm, 1);
  double *xy = tmsf_malloc_array((size_t)n * 2 + 1, sizeof(double));
  if (!mask || !edge || !xy) {
    free(mask), free(edge), free(xy);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for an outline");
  }
  for (int64_t i = 0; i < n; i++) project1(p, X + 3 * i, xy + 2 * i, NULL);
  if (nt > 0) {
    for (int64_t t = 0; t < nt; t++)
      mask_triangle(mask, vp, xy + 2 * T[3 * t], xy + 2 * T[3 * t + 1], xy + 2 * T[3 * t + 2]);
  } else {
    /* a closing: discs of radius r + e, then the pixels farther than e from
     * the outside, so that the outline runs about r outside the points and
     * gaps narrower than about 2 e between discs (e = 2.5 r: the spacing of
     * the elements, windings of a figure-8's rim) are bridged */
    double r = radius_m / p->m_per_px;
    if (r < 1.0) r = 1.0;
    double e = 2.5 * r;
    r += e;
    for (int64_t i = 0; i < n; i++) {
      double cx = xy[2 * i], cy = xy[2 * i + 1];
      if (!(cx + r >= vp[0] && cx - r <= vp[0] + vp[2] && cy + r >= vp[1] && cy - r <= vp[1] + vp[3]))
        continue; /* off the viewport (or not finite) */
      int ix0 = (int)fmax(vp[0], floor(cx - r)), ix1 = (int)fmin(vp[0] + vp[2] - 1, ceil(cx + r));
      int iy0 = (int)fmax(vp[1], floor(cy - r)), iy1 = (int)fmin(vp[1] + vp[3] - 1, ceil(cy + r));
      for (int iy = iy0; iy <= iy1; iy++)
        for (int ix = ix0; ix <= ix1; ix++) {
          double dx = ix + 0.5 - cx, dy = iy + 0.5 - cy;
          if (dx * dx + dy * dy <= r * r) mask[(size_t)(iy - vp[1]) * (size_t)vp[2] + (size_t)(ix - vp[0])] = 1;
        }
    }
  }
  if (nt == 0) {
    double e = 2.5 * fmax(1.0, radius_m / p->m_per_px);
    if (erode(mask, vp[2], vp[3], e)) {
      free(mask), free(edge), free(xy);
      return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for an outline");
    }
  }
  /* boundary: mask pixels with a 4-neighbour outside (the viewport's border is not an edge) */
  for (int y = 0; y < vp[3]; y++)
    for (int x = 0; x < vp[2]; x++) {
      size_t i = (size_t)y * (size_t)vp[2] + (size_t)x;
      if (!mask[i]) continue;
      int out = (x > 0 && !mask[i - 1]) || (x + 1 < vp[2] && !mask[i + 1]) ||
                (y > 0 && !mask[i - (size_t)vp[2]]) || (y + 1 < vp[3] && !mask[i + (size_t)vp[2]]);
      edge[i] = (unsigned char)out;
    }
  /* the halo (edge dilated by 2), then the line (edge dilated by 1) */
  for (int pass = 0; pass < 2; pass++) {
    int rad = pass == 0 ? 2 : 1;
    const uint8_t *col = pass == 0 ? halo_rgb : rgb;
    for (int y = 0; y < vp[3]; y++)
      for (int x = 0; x < vp[2]; x++) {
        if (!edge[(size_t)y * (size_t)vp[2] + (size_t)x]) continue;
        for (int dy = -rad; dy <= rad; dy++)
          for (int dx = -rad; dx <= rad; dx++) put_px(p, vp[0] + x + dx, vp[1] + y + dy, col);
      }
  }
  free(mask), free(edge), free(xy);
  return TMSF_SUCCESS;
}

/* Whether pixel offset (dx, dy) from the marker centre belongs to the shape
 * of radius r and line half-width hw. */
static int marker_has(tmsf_marker m, double dx, double dy, double r, double hw) {
  int cross = (fabs(dx) <= hw && fabs(dy) <= r) || (fabs(dy) <= hw && fabs(dx) <= r);
  if (m == TMSF_MARKER_CROSS) return cross;
  double d = sqrt(dx * dx + dy * dy);
  int ring = fabs(d - r) <= hw;
  int inner = (fabs(dx) <= hw && fabs(dy) <= 0.5 * r) || (fabs(dy) <= hw && fabs(dx) <= 0.5 * r);
  return ring || inner;
}

int tmsf_picture_draw_marker(tmsf_picture *p, const double point_m[3], const double xy_px[2], tmsf_marker marker,
                             int size_px, const uint8_t rgb[3]) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!rgb || (!point_m && !xy_px))
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "tmsf_picture_draw_marker: no colour or no position");
  if (size_px < 2 || size_px > 512)
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "marker size %d pixels; expected 2..512", size_px);
  double c[2];
  if (point_m) {
    if (!p->have_camera)
      return TMSF_ERROR(p->ctx, TMSF_ERR_STATE, "the picture has no camera (tmsf_picture_set_camera)");
    project1(p, point_m, c, NULL);
  } else {
    c[0] = xy_px[0];
    c[1] = xy_px[1];
  }
  if (!isfinite(c[0]) || !isfinite(c[1])) return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "marker position not finite");
  if (fabs(c[0]) > 1e6 || fabs(c[1]) > 1e6) return TMSF_SUCCESS; /* far off the picture */
  double r = size_px, hw = fmax(1.0, size_px / 8.0);
  int R = size_px + 4;
  for (int pass = 0; pass < 2; pass++) {
    for (int dy = -R; dy <= R; dy++)
      for (int dx = -R; dx <= R; dx++) {
        int x = (int)floor(c[0]) + dx, y = (int)floor(c[1]) + dy;
        double ox = x + 0.5 - c[0], oy = y + 0.5 - c[1];
        if (pass == 0 ? marker_has(marker, ox, oy, r + 1.5, hw + 1.5) : marker_has(marker, ox, oy, r, hw))
          put_px(p, x, y, pass == 0 ? halo_rgb : rgb);
      }
  }
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Text and the colour bar                                                   */
/* ------------------------------------------------------------------------- */

void tmsf_picture_text_size(const char *text, int scale, int *width_px, int *height_px) {
  int cols = 0, lines = text && *text ? 1 : 0, maxc = 0;
  for (const char *s = text; s && *s; s++) {
    if (*s == '\n') {
      lines++;
      cols = 0;
      continue;
    }
    if (++cols > maxc) maxc = cols;
  }
  if (width_px) *width_px = maxc ? (6 * maxc - 1) * scale : 0;
  if (height_px) *height_px = lines ? (9 * lines - 1) * scale : 0;
}

int tmsf_picture_draw_text(tmsf_picture *p, int x_px, int y_px, int scale, const uint8_t rgb[3], const char *text) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!rgb || !text) return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "tmsf_picture_draw_text: NULL argument");
  if (scale < 1 || scale > 8) return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "text scale %d; expected 1..8", scale);
  int cx = x_px, cy = y_px;
  for (const char *s = text; *s; s++) {
    if (*s == '\n') {
      cx = x_px;
      cy += 9 * scale;
      continue;
    }
    char ch = (*s >= 32 && *s < 127) ? *s : '?';
    const char *g = tmsf_font_glyph(ch);
    for (int row = 0; g && row < 8; row++)
      for (int col = 0; col < 5; col++)
        if (g[6 * row + col] == '#')
          for (int sy = 0; sy < scale; sy++)
            for (int sx = 0; sx < scale; sx++) put_px(p, cx + col * scale + sx, cy + row * scale + sy, rgb);
    cx += 6 * scale;
  }
  return TMSF_SUCCESS;
}

/* Round tick step: 1, 2 or 5 x 10^k, about range / 5. */
static double tick_step(double range) {
  double raw = range / 5.0, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
  return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

int tmsf_picture_draw_colorbar(tmsf_picture *p, const int rect[4], double vmin, double vmax, const char *label,
                               int scale) {
  if (!p) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = p->ctx;
  if (!rect) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_picture_draw_colorbar: NULL rectangle");
  if (!(vmax > vmin) || !isfinite(vmax - vmin))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "colour range [%g, %g]; expected finite vmin < vmax", vmin, vmax);
  if (scale < 1 || scale > 8) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "text scale %d; expected 1..8", scale);
  const uint8_t black[3] = {0, 0, 0};
  int th = 8 * scale, top = rect[1] + (label && *label ? th + 3 * scale : 0) + th / 2;
  int bottom = rect[1] + rect[3] - th / 2 - 1, bw = 10 * scale, bx = rect[0] + 2 * scale;
  if (bottom - top < 16 || rect[2] < bw + 8 * scale)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "colour bar rectangle %d x %d pixels is too small", rect[2], rect[3]);
  if (label && *label) TMSF_CALL(tmsf_picture_draw_text(p, rect[0], rect[1], scale, black, label));
  for (int y = top; y <= bottom; y++) {
    uint8_t rgb[3];
    tmsf_colormap_viridis((double)(bottom - y) / (bottom - top), rgb);
    for (int x = bx; x < bx + bw; x++) put_px(p, x, y, rgb);
  }
  for (int y = top - 1; y <= bottom + 1; y++) put_px(p, bx - 1, y, black), put_px(p, bx + bw, y, black);
  for (int x = bx - 1; x <= bx + bw; x++) put_px(p, x, top - 1, black), put_px(p, x, bottom + 1, black);
  double step = tick_step(vmax - vmin);
  int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
  const double k0 = ceil(vmin / step - 1e-9);
  for (int i = 0; i < 50; i++) { /* at most 11 ticks unless the range is a few ulps wide */
    double v = (k0 + i) * step;
    if (!(v <= vmax + 1e-9 * step)) break;
    int y = (int)lround(bottom - (v - vmin) / (vmax - vmin) * (bottom - top));
    for (int x = bx + bw; x < bx + bw + 3 * scale; x++)
      for (int k = 0; k < (scale + 1) / 2; k++) put_px(p, x, y + k, black);
    char txt[32];
    snprintf(txt, sizeof(txt), "%.*f", decimals, fabs(v) < 0.5 * step ? 0.0 : v);
    TMSF_CALL(tmsf_picture_draw_text(p, bx + bw + 5 * scale, y - th / 2 + scale / 2, scale, black, txt));
  }
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Composed pictures: shared helpers                                         */
/* ------------------------------------------------------------------------- */

void tmsf_render_params_default(tmsf_render_params *params) {
  if (!params) return;
  memset(params, 0, sizeof(*params));
  params->width_px = 900;
  params->height_px = 700;
  params->view = TMSF_VIEW_COIL;
  params->vmin_V_per_m = NAN;
  params->vmax_V_per_m = NAN;
  params->width_m = 0.0;
  params->surface_tag = TMSF_SURFACE_PIAL;
  params->per_triangle = 0;
  params->shading = 1;
  params->outline_radius_m = 0.004;
  params->title = NULL;
}

int tmsf_render_text_scale(int w, int h) { return (w < h ? w : h) >= 500 ? 2 : 1; }

typedef struct wv {
  double v, w;
} wv;

static int cmp_wv(const void *a, const void *b) {
  double x = ((const wv *)a)->v, y = ((const wv *)b)->v;
  return (x > y) - (x < y);
}

double tmsf_render_percentile(int64_t n, const double *v, const double *weight, double pct) {
  wv *a = tmsf_malloc_array((size_t)n + 1, sizeof(wv));
  if (!a) return NAN;
  int64_t m = 0;
  double total = 0.0;
  for (int64_t i = 0; i < n; i++) {
    double w = weight ? weight[i] : 1.0;
    if (isnan(v[i]) || !(w > 0.0)) continue;
    a[m].v = v[i];
    a[m].w = w;
    total += w;
    m++;
  }
  if (m == 0) {
    free(a);
    return NAN;
  }
  qsort(a, (size_t)m, sizeof(wv), cmp_wv);
  double goal = pct / 100.0 * total, cum = 0.0, r = a[m - 1].v;
  for (int64_t i = 0; i < m; i++) {
    cum += a[i].w;
    if (cum >= goal) {
      r = a[i].v;
      break;
    }
  }
  free(a);
  return r;
}

static void info_clear(tmsf_render_info *info) {
  info->vmin_V_per_m = info->vmax_V_per_m = info->max_V_per_m = info->m_per_px = NAN;
  info->hotspot_V_per_m = NAN;
  for (int k = 0; k < 3; k++)
    info->hotspot_m[k] = info->direction[k] = info->up[k] = info->point_m[k] = NAN;
  for (int k = 0; k < 2; k++)
    info->hotspot_px[k] = info->coil_centre_px[k] = info->target_px[k] = info->hot_region_px[k] = NAN;
}

static int check_params(tmsf_context *ctx, const tmsf_render_params *q) {
  if (q->width_px < 200 || q->height_px < 150 || q->width_px > 16384 || q->height_px > 16384)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "picture size %d x %d pixels; expected at least 200 x 150, at most 16384",
                      q->width_px, q->height_px);
  if (!isnan(q->vmin_V_per_m) && !isfinite(q->vmin_V_per_m))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "colour range minimum %g is not finite", q->vmin_V_per_m);
  if (!isnan(q->vmax_V_per_m) && !isfinite(q->vmax_V_per_m))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "colour range maximum %g is not finite", q->vmax_V_per_m);
  if (!isnan(q->vmin_V_per_m) && !isnan(q->vmax_V_per_m) && !(q->vmax_V_per_m > q->vmin_V_per_m))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "colour range [%g, %g] V/m; expected minimum < maximum",
                      q->vmin_V_per_m, q->vmax_V_per_m);
  if (!(q->width_m >= 0.0) || !isfinite(q->width_m))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "scene width %g m; expected 0 (fit) or a width > 0", q->width_m);
  return TMSF_SUCCESS;
}

/* The colour range: the parameters', else 0 and the given percentile value. */
static void colour_range(const tmsf_render_params *q, double p999, double *vmin, double *vmax) {
  *vmin = isnan(q->vmin_V_per_m) ? 0.0 : q->vmin_V_per_m;
  *vmax = isnan(q->vmax_V_per_m) ? p999 : q->vmax_V_per_m;
  if (!(*vmax > *vmin) || !isfinite(*vmax)) *vmax = *vmin + (fabs(*vmin) > 0.0 ? fabs(*vmin) : 1.0);
}

/* ------------------------------------------------------------------------- */
/* |E| on the cortex                                                        */
/* ------------------------------------------------------------------------- */

/* |E| per surface triangle: the tetrahedron holding its three mesh nodes on
 * the tissue side (tag - 1000), else any tetrahedron holding them; NaN when
 * none does.  Area of every triangle too. */
static void triangle_values(const tmsf_field *field, const tmsf_surface *surf, int32_t tag, int64_t nt,
                            const int32_t *T, const double *X, double *val, double *area) {
  const tmsf_mesh *m = field->mesh;
  const int32_t *node;
  tmsf_surface_get_mesh_nodes(surf, &node);
  for (int64_t t = 0; t < nt; t++) {
    int32_t a = node[T[3 * t]], b = node[T[3 * t + 1]], c = node[T[3 * t + 2]];
    int64_t best = -1;
    for (int64_t k = m->node_tet_ptr[a]; k < m->node_tet_ptr[a + 1]; k++) {
      int32_t e = m->node_tet[k];
      const int32_t *tn = m->tets + 4 * (int64_t)e;
      int hb = 0, hc = 0;
      for (int j = 0; j < 4; j++) hb |= tn[j] == b, hc |= tn[j] == c;
      if (!hb || !hc) continue;
      if (best < 0 || m->tet_tags[e] == tag - 1000) best = e;
    }
    if (best >= 0) {
      const double *E = field->E + 3 * best;
      val[t] = sqrt(E[0] * E[0] + E[1] * E[1] + E[2] * E[2]);
    } else {
      val[t] = NAN;
    }
    const double *A = X + 3 * T[3 * t], *B = X + 3 * T[3 * t + 1], *C = X + 3 * T[3 * t + 2];
    double e1[3] = {B[0] - A[0], B[1] - A[1], B[2] - A[2]}, e2[3] = {C[0] - A[0], C[1] - A[1], C[2] - A[2]}, n[3];
    cross3(e1, e2, n);
    area[t] = 0.5 * norm3(n);
  }
}

/* Coil outline points (head frame): the casing's vertices, or the coil's
 * dipole / segment positions.  *tris set for a casing. */
static int outline_points(tmsf_context *ctx, const tmsf_coil *coil, const tmsf_casing *casing, const double P[16],
                          int64_t *n, double **pts, int64_t *nt, const int32_t **tris) {
  *n = 0;
  *nt = 0;
  *pts = NULL;
  *tris = NULL;
  const double *src = NULL;
  int64_t count = 0;
  double *coil_pts = NULL;
  if (casing) {
    TMSF_CALL(tmsf_casing_get_sizes(casing, &count, nt));
    TMSF_CALL(tmsf_casing_get_vertices(casing, &src));
    TMSF_CALL(tmsf_casing_get_triangles(casing, tris));
  } else if (coil) {
    int ne = 0;
    TMSF_CALL(tmsf_coil_get_num_elements(coil, &ne));
    for (int e = 0; e < ne; e++) {
      tmsf_coil_kind kind;
      int64_t c = 0;
      TMSF_CALL(tmsf_coil_get_element(coil, e, &kind, NULL, &c, NULL));
      if (kind != TMSF_COIL_GRID) count += c;
    }
    coil_pts = tmsf_malloc_array((size_t)count * 3 + 1, sizeof(double));
    if (!coil_pts) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for the coil outline");
    int64_t k = 0;
    for (int e = 0; e < ne; e++) {
      tmsf_coil_kind kind;
      int64_t c = 0;
      const double *pos, *vec;
      tmsf_coil_get_element(coil, e, &kind, NULL, &c, NULL);
      if (kind == TMSF_COIL_GRID) continue;
      if (tmsf_coil_get_element_data(coil, e, &pos, &vec) == TMSF_SUCCESS) {
        memcpy(coil_pts + 3 * k, pos, (size_t)c * 3 * sizeof(double));
        k += c;
      }
    }
    count = k;
    src = coil_pts;
  }
  if (count == 0) {
    free(coil_pts);
    *nt = 0;
    *tris = NULL;
    return TMSF_SUCCESS;
  }
  double *out = tmsf_malloc_array((size_t)count * 3, sizeof(double));
  if (!out) {
    free(coil_pts);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for the coil outline");
  }
  for (int64_t i = 0; i < count; i++)
    for (int r = 0; r < 3; r++)
      out[3 * i + r] = P[4 * r] * src[3 * i] + P[4 * r + 1] * src[3 * i + 1] + P[4 * r + 2] * src[3 * i + 2] + P[4 * r + 3];
  free(coil_pts);
  *n = count;
  *pts = out;
  return TMSF_SUCCESS;
}

int tmsf_render_cortex(const tmsf_field *field, const tmsf_coil *coil, const tmsf_casing *casing,
                       const double P[16], const double target_m[3], const tmsf_render_params *params,
                       tmsf_picture **picture, tmsf_render_info *info) {
  if (!picture) return TMSF_ERR_ARGUMENT;
  *picture = NULL;
  if (!field) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "tmsf_render_cortex: field is NULL");
  tmsf_context *ctx = field->ctx;
  tmsf_render_params q;
  if (params) q = *params;
  else tmsf_render_params_default(&q);
  TMSF_CALL(check_params(ctx, &q));
  if (P) TMSF_CALL(tmsf_pose_check(ctx, P));
  if (target_m && !isfinite(target_m[0] + target_m[1] + target_m[2]))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "target is not finite");
  tmsf_render_info local;
  if (!info) info = &local;
  info_clear(info);
  tmsf_view view = q.view == TMSF_VIEW_COIL && !P ? TMSF_VIEW_TOP : q.view;
  double dir[3], up[3];
  TMSF_CALL(tmsf_view_axes(ctx, view, P, dir, up));

  tmsf_surface *surf = NULL;
  tmsf_picture *pic = NULL;
  double *tval = NULL, *tarea = NULL, *vval = NULL, *vw = NULL, *opts = NULL;
  int ierr = tmsf_surface_create(field->mesh, q.surface_tag ? q.surface_tag : TMSF_SURFACE_PIAL, &surf);
  if (ierr) return ierr;
  int32_t tag;
  int64_t nv, nt, nop = 0, ont = 0;
  const double *X, *N;
  const int32_t *T, *otris = NULL;
  tmsf_surface_get_tag(surf, &tag);
  tmsf_surface_get_sizes(surf, &nv, &nt);
  tmsf_surface_get_vertices(surf, &X);
  tmsf_surface_get_triangles(surf, &T);
  tmsf_surface_get_vertex_normals(surf, &N);
  tval = tmsf_malloc_array((size_t)nt + 1, sizeof(double));
  tarea = tmsf_malloc_array((size_t)nt + 1, sizeof(double));
  vval = tmsf_calloc_array((size_t)nv + 1, sizeof(double));
  vw = tmsf_calloc_array((size_t)nv + 1, sizeof(double));
  if (!tval || !tarea || !vval || !vw) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for %lld surface triangles", (long long)nt);
    goto out;
  }
  triangle_values(field, surf, tag, nt, T, X, tval, tarea);
  for (int64_t t = 0; t < nt; t++) {
    if (isnan(tval[t])) continue;
    for (int k = 0; k < 3; k++) {
      vval[T[3 * t + k]] += tarea[t] * tval[t];
      vw[T[3 * t + k]] += tarea[t];
    }
  }
  for (int64_t i = 0; i < nv; i++) vval[i] = vw[i] > 0.0 ? vval[i] / vw[i] : NAN;
  double smax = -INFINITY;
  for (int64_t t = 0; t < nt; t++)
    if (tval[t] > smax) smax = tval[t];
  info->max_V_per_m = isfinite(smax) ? smax : NAN;
  double vmin, vmax;
  colour_range(&q, tmsf_render_percentile(nt, tval, tarea, 99.9), &vmin, &vmax);
  info->vmin_V_per_m = vmin;
  info->vmax_V_per_m = vmax;

  if (P && (ierr = outline_points(ctx, coil, casing, P, &nop, &opts, &ont, &otris))) goto out;

  /* layout: title band, drawing area, colour bar on the right */
  const int W = q.width_px, H = q.height_px, s = tmsf_render_text_scale(W, H);
  const int title_h = q.title && *q.title ? 9 * s + 8 : 0, cbw = 13 * s + 36 * s + 16;
  int vp[4] = {8, title_h + 8, W - cbw - 16, H - title_h - 16};
  if ((ierr = tmsf_picture_create(ctx, W, H, &pic))) goto out;
  /* fit: the extent of the surface, the outline, the coil centre and the target in the view plane */
  double right[3];
  cross3(dir, up, right);
  double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
#define FIT_POINT(x)                                                                                                   \
  do {                                                                                                                 \
    double u_ = dot3((x), right), v_ = dot3((x), up);                                                                  \
    lo[0] = fmin(lo[0], u_), hi[0] = fmax(hi[0], u_), lo[1] = fmin(lo[1], v_), hi[1] = fmax(hi[1], v_);                \
  } while (0)
  for (int64_t i = 0; i < nv; i++) FIT_POINT(X + 3 * i);
  for (int64_t i = 0; i < nop; i++) FIT_POINT(opts + 3 * i);
  double coil_c[3] = {0, 0, 0};
  if (P) {
    coil_c[0] = P[3], coil_c[1] = P[7], coil_c[2] = P[11];
    FIT_POINT(coil_c);
  }
  if (target_m) FIT_POINT(target_m);
#undef FIT_POINT
  double cu = 0.5 * (lo[0] + hi[0]), cv = 0.5 * (lo[1] + hi[1]);
  double width = fmax(hi[0] - lo[0], (hi[1] - lo[1]) * vp[2] / vp[3]) * 1.06;
  double centre[3];
  for (int k = 0; k < 3; k++) centre[k] = cu * right[k] + cv * up[k];
  if (q.width_m > 0.0) {
    width = q.width_m;
    const double *c = P ? coil_c : target_m;
    if (c) /* centre the view on the coil centre (or the target) */
      for (int k = 0; k < 3; k++) centre[k] = dot3(c, right) * right[k] + dot3(c, up) * up[k];
  }
  if (!(width > 0.0)) width = 0.2;
  if ((ierr = tmsf_picture_set_camera(pic, vp, dir, up, centre, width))) goto out;
  if ((ierr = tmsf_picture_draw_surface(pic, nv, X, N, nt, T, q.per_triangle ? tval : vval, !q.per_triangle, vmin,
                                        vmax, q.shading)))
    goto out;
  /* the hotspot: the pixel showing the largest value */
  {
    double best = -INFINITY;
    int bx = -1, by = -1;
    for (int y = vp[1]; y < vp[1] + vp[3]; y++)
      for (int x = vp[0]; x < vp[0] + vp[2]; x++) {
        float v = pic->value[(size_t)y * (size_t)W + (size_t)x];
        if (v > best) best = v, bx = x, by = y;
      }
    if (bx >= 0) {
      double d = pic->depth[(size_t)by * (size_t)W + (size_t)bx];
      info->hotspot_px[0] = bx + 0.5;
      info->hotspot_px[1] = by + 0.5;
      info->hotspot_V_per_m = best;
      double du = (bx + 0.5 - vp[0] - 0.5 * vp[2]) * pic->m_per_px, dv = -(by + 0.5 - vp[1] - 0.5 * vp[3]) * pic->m_per_px;
      for (int k = 0; k < 3; k++) info->hotspot_m[k] = centre[k] + du * right[k] + dv * pic->up[k] + d * dir[k];
      double sx = 0.0, sy = 0.0, cnt = 0.0;
      for (int y = vp[1]; y < vp[1] + vp[3]; y++)
        for (int x = vp[0]; x < vp[0] + vp[2]; x++)
          if (pic->value[(size_t)y * (size_t)W + (size_t)x] >= 0.9 * best) sx += x + 0.5, sy += y + 0.5, cnt += 1.0;
      info->hot_region_px[0] = sx / cnt;
      info->hot_region_px[1] = sy / cnt;
    }
  }
  const uint8_t white[3] = {255, 255, 255}, red[3] = {230, 30, 40}, black[3] = {0, 0, 0};
  if (nop > 0 &&
      (ierr = tmsf_picture_draw_outline(pic, nop, opts, ont, otris, q.outline_radius_m > 0 ? q.outline_radius_m : 0.004,
                                        white)))
    goto out;
  if (P) {
    project1(pic, coil_c, info->coil_centre_px, NULL);
    if ((ierr = tmsf_picture_draw_marker(pic, coil_c, NULL, TMSF_MARKER_CROSS, 5 * s, white))) goto out;
  }
  if (target_m) {
    project1(pic, target_m, info->target_px, NULL);
    if ((ierr = tmsf_picture_draw_marker(pic, target_m, NULL, TMSF_MARKER_CIRCLE, 6 * s, red))) goto out;
  }
  {
    int rect[4] = {W - cbw - 4, vp[1], cbw, vp[3]};
    if ((ierr = tmsf_picture_draw_colorbar(pic, rect, vmin, vmax, "|E| V/m", s))) goto out;
  }
  if (title_h && (ierr = tmsf_picture_draw_text(pic, 8, 6, s, black, q.title))) goto out;
  info->m_per_px = pic->m_per_px;
  memcpy(info->direction, dir, sizeof(dir));
  memcpy(info->up, pic->up, sizeof(up));
out:
  free(tval), free(tarea), free(vval), free(vw), free(opts);
  tmsf_surface_destroy(&surf);
  if (ierr) {
    tmsf_picture_destroy(&pic);
    return ierr;
  }
  *picture = pic;
  return TMSF_SUCCESS;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * render-slices.c: axial, coronal and sagittal slices of a voxel image side
 * by side, with a colour bar (tmsf_render_slices).
 *
 * Each panel is a plane through the point, sampled at square pixels: the
 * pixel centre in head millimetres goes through the inverse of the image's
 * affine to voxel coordinates, where the value is interpolated trilinearly;
 * a pixel whose nearest voxel is 0 (outside the mesh in the images tmsfield
 * writes) or which lies outside the image is background.  The panels show
 * the bounding box of the non-zero voxels (all of the image when there are
 * none) at one common scale.
 */
#include <string.h>

#include "render-impl.h"

/* Inverse of the affine part: x_index = B (x_mm - t). */
static int invert3(const double A[16], double B[9]) {
  double a = A[0], b = A[1], c = A[2], d = A[4], e = A[5], f = A[6], g = A[8], h = A[9], i = A[10];
  double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (!(fabs(det) > 0.0)) return -1;
  B[0] = (e * i - f * h) / det, B[1] = (c * h - b * i) / det, B[2] = (b * f - c * e) / det;
  B[3] = (f * g - d * i) / det, B[4] = (a * i - c * g) / det, B[5] = (c * d - a * f) / det;
  B[6] = (d * h - e * g) / det, B[7] = (b * g - a * h) / det, B[8] = (a * e - b * d) / det;
  return 0;
}

typedef struct slicer {
  const tmsf_volume *v;
  double B[9], t[3];
} slicer;

/* Value at a point (mm): trilinear, NaN for background. */
static double sample(const slicer *s, const double x[3]) {
  const tmsf_volume *v = s->v;
  double d[3] = {x[0] - s->t[0], x[1] - s->t[1], x[2] - s->t[2]}, q[3];
  for (int r = 0; r < 3; r++) q[r] = s->B[3 * r] * d[0] + s->B[3 * r + 1] * d[1] + s->B[3 * r + 2] * d[2];
  int64_t n[3];
  for (int r = 0; r < 3; r++) {
    if (!(q[r] > -0.5 && q[r] < v->dims[r] - 0.5)) return NAN;
    n[r] = (int64_t)floor(q[r] + 0.5);
  }
  const int64_t sx = 1, sy = v->dims[0], sz = v->dims[0] * v->dims[1];
  if (v->data[n[0] * sx + n[1] * sy + n[2] * sz] == 0.0f) return NAN;
  int64_t i0[3];
  double f[3];
  for (int r = 0; r < 3; r++) {
    double c = fmin(fmax(q[r], 0.0), (double)(v->dims[r] - 1));
    i0[r] = (int64_t)floor(c);
    if (i0[r] >= v->dims[r] - 1) i0[r] = v->dims[r] > 1 ? v->dims[r] - 2 : 0;
    f[r] = v->dims[r] > 1 ? c - (double)i0[r] : 0.0;
  }
  double acc = 0.0;
  for (int k = 0; k < 8; k++) {
    int dx = k & 1, dy = (k >> 1) & 1, dz = (k >> 2) & 1;
    int64_t ix = i0[0] + (v->dims[0] > 1 ? dx : 0), iy = i0[1] + (v->dims[1] > 1 ? dy : 0),
            iz = i0[2] + (v->dims[2] > 1 ? dz : 0);
    double w = (dx ? f[0] : 1.0 - f[0]) * (dy ? f[1] : 1.0 - f[1]) * (dz ? f[2] : 1.0 - f[2]);
    acc += w * v->data[ix * sx + iy * sy + iz * sz];
  }
  return acc;
}

/* Panels: 0 axial (x right, y up), 1 coronal (x right, z up), 2 sagittal (y right, z up). */
static const int panel_axes[3][3] = {{0, 1, 2}, {0, 2, 1}, {1, 2, 0}}; /* horizontal, vertical, fixed */

int tmsf_render_slices(const tmsf_volume *vol, const double point_m[3], const double target_m[3],
                       const tmsf_render_params *params, tmsf_picture **picture, tmsf_render_info *info) {
  if (!picture) return TMSF_ERR_ARGUMENT;
  *picture = NULL;
  if (!vol) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "tmsf_render_slices: volume is NULL");
  tmsf_context *ctx = vol->ctx;
  tmsf_render_params q;
  if (params) q = *params;
  else tmsf_render_params_default(&q);
  if (q.width_px < 300 || q.height_px < 150 || q.width_px > 16384 || q.height_px > 16384)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "picture size %d x %d pixels; expected at least 300 x 150, at most 16384",
                      q.width_px, q.height_px);
  if ((!isnan(q.vmin_V_per_m) && !isfinite(q.vmin_V_per_m)) || (!isnan(q.vmax_V_per_m) && !isfinite(q.vmax_V_per_m)) ||
      (!isnan(q.vmin_V_per_m) && !isnan(q.vmax_V_per_m) && !(q.vmax_V_per_m > q.vmin_V_per_m)))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "colour range [%g, %g] V/m; expected finite minimum < maximum",
                      q.vmin_V_per_m, q.vmax_V_per_m);
  if ((point_m && !isfinite(point_m[0] + point_m[1] + point_m[2])) ||
      (target_m && !isfinite(target_m[0] + target_m[1] + target_m[2])))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "slice point or target is not finite");
  tmsf_render_info local;
  if (!info) info = &local;
  for (int k = 0; k < 2; k++)
    info->hotspot_px[k] = info->coil_centre_px[k] = info->target_px[k] = info->hot_region_px[k] = NAN;
  for (int k = 0; k < 3; k++) info->direction[k] = info->up[k] = NAN;
  info->hotspot_V_per_m = NAN;

  slicer S = {.v = vol};
  if (invert3(vol->affine, S.B)) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "the volume's affine is singular");
  S.t[0] = vol->affine[3], S.t[1] = vol->affine[7], S.t[2] = vol->affine[11];
  const int64_t nx = vol->dims[0], ny = vol->dims[1], nz = vol->dims[2];
  const size_t nvox = (size_t)nx * (size_t)ny * (size_t)nz;
  /* largest voxel, bounding box of the non-zero voxels (mm), values for the percentile */
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY}, vmaxv = -INFINITY;
  size_t imax = 0, nnz = 0;
  double *nzv = tmsf_malloc_array(nvox, sizeof(double));
  if (!nzv) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for %zu voxels", nvox);
  int64_t blo[3] = {nx, ny, nz}, bhi[3] = {-1, -1, -1};
  for (int64_t k = 0; k < nz; k++)
    for (int64_t j = 0; j < ny; j++)
      for (int64_t i = 0; i < nx; i++) {
        size_t id = (size_t)i + (size_t)nx * ((size_t)j + (size_t)ny * (size_t)k);
        float f = vol->data[id];
        if (f == 0.0f || isnan(f)) continue;
        nzv[nnz++] = f;
        if (f > vmaxv) vmaxv = f, imax = id;
        int64_t ijk[3] = {i, j, k};
        for (int r = 0; r < 3; r++) blo[r] = ijk[r] < blo[r] ? ijk[r] : blo[r], bhi[r] = ijk[r] > bhi[r] ? ijk[r] : bhi[r];
      }
  if (!nnz)
    for (int r = 0; r < 3; r++) blo[r] = 0, bhi[r] = vol->dims[r] - 1;
  for (int c = 0; c < 8; c++) { /* corners of the box, half a voxel out */
    double ijk[3] = {(c & 1 ? bhi[0] + 0.5 : blo[0] - 0.5), (c & 2 ? bhi[1] + 0.5 : blo[1] - 0.5),
                     (c & 4 ? bhi[2] + 0.5 : blo[2] - 0.5)};
    for (int r = 0; r < 3; r++) {
      const double *A = vol->affine + 4 * r;
      double x = A[0] * ijk[0] + A[1] * ijk[1] + A[2] * ijk[2] + A[3];
      lo[r] = fmin(lo[r], x), hi[r] = fmax(hi[r], x);
    }
  }
  for (int r = 0; r < 3; r++) lo[r] -= 3.0, hi[r] += 3.0; /* a margin, mm */
  double vmin, vmax, p999 = tmsf_render_percentile((int64_t)nnz, nzv, NULL, 99.9);
  free(nzv);
  vmin = isnan(q.vmin_V_per_m) ? 0.0 : q.vmin_V_per_m;
  vmax = isnan(q.vmax_V_per_m) ? p999 : q.vmax_V_per_m;
  if (!(vmax > vmin) || !isfinite(vmax)) vmax = vmin + (fabs(vmin) > 0.0 ? fabs(vmin) : 1.0);
  double maxc[3];
  {
    int64_t i = (int64_t)(imax % (size_t)nx), j = (int64_t)((imax / (size_t)nx) % (size_t)ny),
            k = (int64_t)(imax / ((size_t)nx * (size_t)ny));
    for (int r = 0; r < 3; r++) {
      const double *A = vol->affine + 4 * r;
      maxc[r] = A[0] * (double)i + A[1] * (double)j + A[2] * (double)k + A[3];
    }
  }
  double pt[3]; /* mm */
  for (int r = 0; r < 3; r++) pt[r] = point_m ? point_m[r] * 1e3 : maxc[r];
  for (int r = 0; r < 3; r++)
    if (pt[r] < lo[r] - 50.0 || pt[r] > hi[r] + 50.0)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "slice point (%g, %g, %g) mm lies outside the image's extent (%g..%g, %g..%g, %g..%g mm)",
                        pt[0], pt[1], pt[2], lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]);
  info->vmin_V_per_m = vmin;
  info->vmax_V_per_m = vmax;
  info->max_V_per_m = nnz ? vmaxv : NAN;
  for (int r = 0; r < 3; r++) {
    info->point_m[r] = pt[r] * 1e-3;
    info->hotspot_m[r] = nnz ? maxc[r] * 1e-3 : NAN;
  }
  if (nnz) info->hotspot_V_per_m = vmaxv;

  /* layout */
  int W = q.width_px, H = q.height_px;
  const int s = tmsf_render_text_scale(W, H);
  const int title_h = q.title && *q.title ? 9 * s + 8 : 0, label_h = 9 * s + 8, cbw = 13 * s + 36 * s + 16, gap = 8;
  int pw = (W - cbw - 16 - 2 * gap) / 3, ph = H - title_h - 16 - label_h;
  if (pw < 40 || ph < 40)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "picture %d x %d pixels is too small for three slices", W, H);
  double mpp = 0.0, ext_v = 0.0;
  for (int p = 0; p < 3; p++) {
    int a = panel_axes[p][0], b = panel_axes[p][1];
    mpp = fmax(mpp, fmax((hi[a] - lo[a]) / pw, (hi[b] - lo[b]) / ph));
    ext_v = fmax(ext_v, hi[b] - lo[b]);
  }
  if (!(mpp > 0.0) || !isfinite(mpp))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "the image's extent (%g..%g, %g..%g, %g..%g mm) is not finite", lo[0],
                      hi[0], lo[1], hi[1], lo[2], hi[2]);
  { /* the height the panels need at this scale (the colour bar needs some) */
    int need = (int)ceil(ext_v / mpp);
    if (need < 80 * s) need = 80 * s;
    if (need < ph) {
      H -= ph - need;
      ph = need;
    }
  }
  tmsf_picture *pic = NULL;
  TMSF_CALL(tmsf_picture_create(ctx, W, H, &pic));
  const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255}, red[3] = {230, 30, 40}, grey[3] = {200, 200, 200};
  int ierr = TMSF_SUCCESS;
  static const char *plane[3] = {"axial", "coronal", "sagittal"}, axis_name[3] = {'x', 'y', 'z'};
  static const char *edge_lr[3][2] = {{"L", "R"}, {"L", "R"}, {"P", "A"}};
  for (int p = 0; p < 3 && !ierr; p++) {
    const int a = panel_axes[p][0], b = panel_axes[p][1], c = panel_axes[p][2];
    const int px0 = 8 + p * (pw + gap), py0 = title_h + 8;
    const double ca = 0.5 * (lo[a] + hi[a]), cb = 0.5 * (lo[b] + hi[b]);
    for (int iy = 0; iy < ph; iy++)
      for (int ix = 0; ix < pw; ix++) {
        double x[3];
        x[a] = ca + (ix + 0.5 - 0.5 * pw) * mpp;
        x[b] = cb - (iy + 0.5 - 0.5 * ph) * mpp;
        x[c] = pt[c];
        double v = sample(&S, x);
        size_t pi = (size_t)(py0 + iy) * (size_t)W + (size_t)(px0 + ix);
        uint8_t rgb[3] = {0, 0, 0};
        if (!isnan(v)) {
          tmsf_colormap_viridis((v - vmin) / (vmax - vmin), rgb);
          pic->value[pi] = (float)v;
        }
        memcpy(pic->rgb + 3 * pi, rgb, 3);
      }
    /* cross hairs through the point, broken around it */
    double cx = px0 + 0.5 * pw + (pt[a] - ca) / mpp, cy = py0 + 0.5 * ph - (pt[b] - cb) / mpp;
    int gapr = 6 * s;
    for (int ix = px0; ix < px0 + pw; ix++)
      if (fabs(ix + 0.5 - cx) > gapr && cy >= py0 && cy < py0 + ph && ((ix - px0) / 3) % 2 == 0)
        memcpy(pic->rgb + 3 * ((size_t)floor(cy) * (size_t)W + (size_t)ix), white, 3);
    for (int iy = py0; iy < py0 + ph; iy++)
      if (fabs(iy + 0.5 - cy) > gapr && cx >= px0 && cx < px0 + pw && ((iy - py0) / 3) % 2 == 0)
        memcpy(pic->rgb + 3 * ((size_t)iy * (size_t)W + (size_t)floor(cx)), white, 3);
    if (target_m && fabs(target_m[c] * 1e3 - pt[c]) <= 2.0) {
      double t[2] = {px0 + 0.5 * pw + (target_m[a] * 1e3 - ca) / mpp, py0 + 0.5 * ph - (target_m[b] * 1e3 - cb) / mpp};
      if (t[0] >= px0 && t[0] < px0 + pw && t[1] >= py0 && t[1] < py0 + ph)
        ierr = tmsf_picture_draw_marker(pic, NULL, t, TMSF_MARKER_CIRCLE, 5 * s, red);
    }
    char txt[96];
    snprintf(txt, sizeof(txt), "%s %c = %.1f mm", plane[p], axis_name[c], pt[c]);
    if (!ierr) ierr = tmsf_picture_draw_text(pic, px0, py0 + ph + 6, s, black, txt);
    int tw, th;
    tmsf_picture_text_size("L", s, &tw, &th);
    if (!ierr) ierr = tmsf_picture_draw_text(pic, px0 + 3, py0 + ph / 2 - th / 2, s, grey, edge_lr[p][0]);
    if (!ierr) ierr = tmsf_picture_draw_text(pic, px0 + pw - tw - 3, py0 + ph / 2 - th / 2, s, grey, edge_lr[p][1]);
  }
  if (!ierr) {
    int rect[4] = {W - cbw - 4, title_h + 8, cbw, ph};
    ierr = tmsf_picture_draw_colorbar(pic, rect, vmin, vmax, "|E| V/m", s);
  }
  if (!ierr && title_h) ierr = tmsf_picture_draw_text(pic, 8, 6, s, black, q.title);
  if (ierr) {
    tmsf_picture_destroy(&pic);
    return ierr;
  }
  info->m_per_px = mpp * 1e-3;
  *picture = pic;
  return TMSF_SUCCESS;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-render.c: pictures (render.h) and E read back from a .msh.
 *
 * - views, the colour map (matplotlib's viridis samples at 0, 1/2, 1 and a
 *   luminance that rises with t), the camera's projection of known points;
 * - the z-buffer keeps the nearer of two overlapping squares whatever the
 *   drawing order, and an unshaded facing surface gets the colour map's
 *   colour exactly;
 * - PNG: the file is decoded here by an independent reader (chunk CRCs by
 *   zlib's crc32, IDAT inflated, the five filter types undone as the PNG
 *   specification defines them) and must give back the picture's bytes; a
 *   flipped byte must be caught by the CRC check;
 * - |E| on the sphere's inner surface (1003) with the coil over a tilted
 *   point: by symmetry the maximum of |E| on a sphere under a figure-8 lies on
 *   the coil axis, so the hotspot must lie within 0.8 surface edges (the
 *   resolution of element values) of the axis point and of the coil centre's
 *   projection, and the centroid of the pixels >= 90 % of the maximum within
 *   3.5 mm of it — read from the picture's values and, independently, from
 *   the decoded PNG's colours (unshaded, the colour map inverted);
 * - slices through a synthetic Gaussian cross at its maximum; a NIfTI written
 *   by the library reads back equal to the resampled grid;
 * - tmsf_field_read_msh gives back E bitwise; bad input fails cleanly.
 */
#include <zlib.h>

#include "output-test.h"
#include "tmsf-impl.h" /* tmsf_wtime */

/* ------------------------------------------------------------------------- */
/* A PNG reader for 8-bit RGB, non-interlaced files (the test's own)          */
/* ------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 0 on success: *w, *h and a malloc'ed RGB buffer; *bad_crc counts chunks
 * whose CRC does not match. */
static int png_decode(const char *path, int *w, int *h, unsigned char **rgb, int *bad_crc) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *d = malloc((size_t)n);
  if (!d || fread(d, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(d);
    return -1;
  }
  fclose(f);
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n < 8 || memcmp(d, sig, 8)) {
    free(d);
    return -2;
  }
  unsigned char *idat = NULL;
  size_t idat_len = 0;
  int seen_end = 0;
  *bad_crc = 0;
  *w = *h = 0;
  for (long p = 8; p + 12 <= n && !seen_end;) {
    uint32_t len = be32(d + p);
    if ((long)len > n - p - 12) break;
    const unsigned char *type = d + p + 4, *data = d + p + 8;
    uLong c = crc32(crc32(0L, Z_NULL, 0), type, 4);
    c = crc32(c, data, len);
    if ((uint32_t)c != be32(data + len)) (*bad_crc)++;
    if (!memcmp(type, "IHDR", 4) && len == 13) {
      *w = (int)be32(data);
      *h = (int)be32(data + 4);
      if (data[8] != 8 || data[9] != 2 || data[12] != 0) {
        free(d);
        free(idat);
        return -3;
      }
    } else if (!memcmp(type, "IDAT", 4)) {
      idat = realloc(idat, idat_len + len);
      memcpy(idat + idat_len, data, len);
      idat_len += len;
    } else if (!memcmp(type, "IEND", 4)) {
      seen_end = 1;
    }
    p += 12 + (long)len;
  }
  free(d);
  if (!seen_end || *w <= 0 || *h <= 0 || !idat) {
    free(idat);
    return -4;
  }
  size_t stride = (size_t)*w * 3;
  uLongf raw_len = (uLongf)((stride + 1) * (size_t)*h);
  unsigned char *raw = malloc(raw_len), *out = malloc(stride * (size_t)*h);
  if (uncompress(raw, &raw_len, idat, idat_len) != Z_OK || raw_len != (stride + 1) * (size_t)*h) {
    free(idat), free(raw), free(out);
    return -5;
  }
  free(idat);
  for (int y = 0; y < *h; y++) {
    const unsigned char *in = raw + (size_t)y * (stride + 1);
    unsigned char *row = out + (size_t)y * stride, *prev = y ? row - stride : NULL;
    for (size_t i = 0; i < stride; i++) {
      int a = i >= 3 ? row[i - 3] : 0, b = prev ? prev[i] : 0, c = prev && i >= 3 ? prev[i - 3] : 0, pr = 0;
      switch (in[0]) {
      case 0: pr = 0; break;
      case 1: pr = a; break;
      case 2: pr = b; break;
      case 3: pr = (a + b) >> 1; break;
      case 4: {
        int pp = a + b - c, pa = abs(pp - a), pb = abs(pp - b), pc = abs(pp - c);
        pr = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        break;
      }
      default: free(raw), free(out); return -6;
      }
      row[i] = (unsigned char)(in[1 + i] + pr);
    }
  }
  free(raw);
  *rgb = out;
  return 0;
}

/* t in [0, 1] whose viridis colour is nearest to rgb (1001 samples). */
static double invert_viridis(const unsigned char *rgb, double *dist2) {
  double best = INFINITY, bt = 0.0;
  for (int i = 0; i <= 1000; i++) {
    uint8_t c[3];
    tmsf_colormap_viridis(i / 1000.0, c);
    double d = 0.0;
    for (int k = 0; k < 3; k++) d += ((double)c[k] - rgb[k]) * ((double)c[k] - rgb[k]);
    if (d < best) best = d, bt = i / 1000.0;
  }
  *dist2 = best;
  return bt;
}

/* ------------------------------------------------------------------------- */

static void test_views_and_colours(tmsf_context *ctx) {
  tmsf_view v;
  CHECK_OK(ctx, tmsf_view_parse(ctx, "left", &v));
  CHECK(v == TMSF_VIEW_LEFT, "left parses");
  CHECK(tmsf_view_parse(ctx, "above", &v) == TMSF_ERR_NOT_FOUND, "unknown view");
  CHECK(strstr(tmsf_context_last_error(ctx), "top") != NULL, "message lists the views: %s", tmsf_context_last_error(ctx));
  CHECK(!strcmp(tmsf_view_name(TMSF_VIEW_FRONT), "front"), "name of front");
  double d[3], u[3];
  CHECK_OK(ctx, tmsf_view_axes(ctx, TMSF_VIEW_LEFT, NULL, d, u));
  CHECK(d[0] == 1.0 && d[1] == 0.0 && d[2] == 0.0 && u[2] == 1.0, "left looks along +x, z up");
  CHECK(tmsf_view_axes(ctx, TMSF_VIEW_COIL, NULL, d, u) == TMSF_ERR_ARGUMENT, "coil view needs a pose");
  /* a pose rotated about x by 30 deg: z column (0, -sin, cos)... */
  double c = sqrt(3.0) / 2.0, s = 0.5;
  double P[16] = {1, 0, 0, 0.01, 0, c, -s, 0.02, 0, s, c, 0.09, 0, 0, 0, 1};
  CHECK_OK(ctx, tmsf_view_axes(ctx, TMSF_VIEW_COIL, P, d, u));
  CHECK(fabs(d[1] + s) < 1e-15 && fabs(d[2] - c) < 1e-15 && fabs(u[1] - c) < 1e-15 && fabs(u[2] - s) < 1e-15,
        "coil view: direction = pose z, up = pose y");

  uint8_t rgb[3];
  tmsf_colormap_viridis(0.0, rgb);
  CHECK(rgb[0] == 68 && rgb[1] == 1 && rgb[2] == 84, "viridis(0) = (68, 1, 84), got (%d, %d, %d)", rgb[0], rgb[1], rgb[2]);
  tmsf_colormap_viridis(0.5, rgb);
  CHECK(rgb[0] == 33 && rgb[1] == 145 && rgb[2] == 140, "viridis(0.5) = (33, 145, 140)");
  tmsf_colormap_viridis(1.0, rgb);
  CHECK(rgb[0] == 253 && rgb[1] == 231 && rgb[2] == 37, "viridis(1) = (253, 231, 37)");
  tmsf_colormap_viridis(7.0, rgb);
  CHECK(rgb[0] == 253, "clamped above 1");
  double prev = -1.0;
  int monotone = 1;
  for (int i = 0; i <= 100; i++) { /* relative luminance (Rec. 709 weights) rises with t */
    tmsf_colormap_viridis(i / 100.0, rgb);
    double y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    if (y < prev - 0.5) monotone = 0;
    prev = y;
  }
  CHECK(monotone, "viridis luminance rises with t");
}

static void test_camera_and_zbuffer(tmsf_context *ctx) {
  tmsf_picture *pic = NULL;
  CHECK(tmsf_picture_create(ctx, 10, 10, &pic) == TMSF_ERR_ARGUMENT && !pic, "10 x 10 is too small");
  REQUIRE_OK(ctx, tmsf_picture_create(ctx, 200, 100, &pic));
  const int vp[4] = {0, 0, 200, 100};
  const double dir[3] = {0, 0, -1}, up[3] = {0, 1, 0}, c0[3] = {0, 0, 0}, upbad[3] = {0, 0, 2};
  double xy[2], depth, mpp;
  CHECK(tmsf_picture_project(pic, 0, NULL, NULL, NULL) == TMSF_ERR_STATE, "no camera yet");
  CHECK(tmsf_picture_set_camera(pic, vp, dir, upbad, c0, 0.2) == TMSF_ERR_ARGUMENT, "up parallel to the direction");
  REQUIRE_OK(ctx, tmsf_picture_set_camera(pic, vp, dir, up, c0, 0.2));
  CHECK_OK(ctx, tmsf_picture_get_pixel_size(pic, &mpp));
  CHECK(fabs(mpp - 1e-3) < 1e-15, "1 mm per pixel, got %g", mpp);
  const double p1[3] = {0.05, 0.02, -0.1};
  CHECK_OK(ctx, tmsf_picture_project(pic, 1, p1, xy, &depth));
  /* right = dir x up = (1, 0, 0): x = 100 + 50, y = 50 - 20; depth along -z: 0.1 */
  CHECK(fabs(xy[0] - 150.0) < 1e-9 && fabs(xy[1] - 30.0) < 1e-9 && fabs(depth - 0.1) < 1e-15,
        "projection (150, 30), depth 0.1, got (%g, %g), %g", xy[0], xy[1], depth);

  /* two squares of 60 x 60 mm around the centre: value 1 at z = 0, value 2 at z = 0.01 (nearer) */
  const double sq[2][12] = {{-0.03, -0.03, 0, 0.03, -0.03, 0, 0.03, 0.03, 0, -0.03, 0.03, 0},
                            {-0.03, -0.03, 0.01, 0.03, -0.03, 0.01, 0.03, 0.03, 0.01, -0.03, 0.03, 0.01}};
  const int32_t tris[6] = {0, 1, 2, 0, 2, 3};
  const double n[12] = {0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1};
  for (int order = 0; order < 2; order++) {
    REQUIRE_OK(ctx, tmsf_picture_set_camera(pic, vp, dir, up, c0, 0.2));
    for (int k = 0; k < 2; k++) {
      int which = order ? 1 - k : k;
      double vals[2] = {1.0 + which, 1.0 + which};
      CHECK_OK(ctx, tmsf_picture_draw_surface(pic, 4, sq[which], n, 2, tris, vals, 0, 0.0, 4.0, 1));
    }
    const float *val;
    const uint8_t *rgb;
    tmsf_picture_get_values(pic, &val);
    tmsf_picture_get_rgb(pic, &rgb);
    CHECK(val[50 * 200 + 100] == 2.0f, "order %d: the nearer square wins, got %g", order, val[50 * 200 + 100]);
    CHECK(isnan(val[5 * 200 + 5]), "outside the squares: no value");
    uint8_t want[3];
    tmsf_colormap_viridis(0.5, want); /* facing the viewer: Lambert factor 1 */
    CHECK(!memcmp(rgb + 3 * (50 * 200 + 100), want, 3), "colour of value 2 in [0, 4]: (%d, %d, %d)",
          rgb[3 * (50 * 200 + 100)], rgb[3 * (50 * 200 + 100) + 1], rgb[3 * (50 * 200 + 100) + 2]);
    CHECK(rgb[3 * (5 * 200 + 5)] == 255, "background white");
  }
  const int32_t badtri[3] = {0, 1, 7};
  double v1 = 1.0;
  CHECK(tmsf_picture_draw_surface(pic, 4, sq[0], NULL, 1, badtri, &v1, 0, 0.0, 1.0, 1) == TMSF_ERR_ARGUMENT,
        "vertex index out of range");
  CHECK(strstr(tmsf_context_last_error(ctx), "triangle 0") != NULL, "names the triangle: %s",
        tmsf_context_last_error(ctx));
  CHECK(tmsf_picture_draw_surface(pic, 4, sq[0], NULL, 2, tris, &v1, 0, 1.0, 1.0, 1) == TMSF_ERR_ARGUMENT,
        "empty colour range");
  int tw, th;
  tmsf_picture_text_size("ab\nc", 2, &tw, &th);
  CHECK(tw == 22 && th == 34, "text size of two lines at scale 2: %d x %d", tw, th);
  tmsf_picture_destroy(&pic);
  CHECK(pic == NULL, "destroy clears");
  tmsf_picture_destroy(NULL);
}

static void test_png(tmsf_context *ctx, const char *dir) {
  tmsf_picture *pic;
  REQUIRE_OK(ctx, tmsf_picture_create(ctx, 320, 240, &pic));
  const uint8_t red[3] = {200, 10, 20}, black[3] = {0, 0, 0};
  const int rect[4] = {200, 10, 110, 220};
  CHECK_OK(ctx, tmsf_picture_draw_text(pic, 5, 5, 2, black, "|E| 0.5 V/m\ngrey matter"));
  CHECK_OK(ctx, tmsf_picture_draw_colorbar(pic, rect, 0.0, 137.0, "|E| V/m", 1));
  const double xy[2] = {100, 150};
  CHECK_OK(ctx, tmsf_picture_draw_marker(pic, NULL, xy, TMSF_MARKER_CIRCLE, 12, red));
  char path[4200];
  snprintf(path, sizeof(path), "%s/p.png", dir);
  CHECK_OK(ctx, tmsf_picture_write_png(pic, path));
  int w, h, bad;
  unsigned char *rgb = NULL;
  int r = png_decode(path, &w, &h, &rgb, &bad);
  CHECK(r == 0, "PNG decodes (%d)", r);
  if (r == 0) {
    const uint8_t *mine;
    tmsf_picture_get_rgb(pic, &mine);
    CHECK(w == 320 && h == 240, "size %d x %d", w, h);
    CHECK(bad == 0, "%d chunk CRC(s) wrong", bad);
    CHECK(!memcmp(rgb, mine, 320 * 240 * 3), "decoded pixels equal the picture's");
    free(rgb);
  }
  /* a flipped byte in the IDAT data must break its CRC */
  FILE *f = fopen(path, "r+b");
  if (f) {
    fseek(f, 100, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 100, SEEK_SET);
    fputc(ch ^ 0x5a, f);
    fclose(f);
    rgb = NULL;
    png_decode(path, &w, &h, &rgb, &bad);
    CHECK(bad == 1, "the flipped byte is caught by one CRC, got %d", bad);
    free(rgb);
  }
  snprintf(path, sizeof(path), "%s/no/dir/p.png", dir);
  CHECK(tmsf_picture_write_png(pic, path) == TMSF_ERR_IO, "missing directory");
  CHECK(strstr(tmsf_context_last_error(ctx), "no/dir/p.png") != NULL, "names the path: %s", tmsf_context_last_error(ctx));
  tmsf_picture_destroy(&pic);
}

/* Mean edge length of the triangles of one tag (m). */
static double mean_edge(const tmsf_mesh *mesh, int32_t tag) {
  const double *X;
  const int32_t *T, *tt;
  int64_t nt;
  tmsf_mesh_get_nodes(mesh, &X);
  tmsf_mesh_get_triangles(mesh, &T, &tt);
  tmsf_mesh_get_sizes(mesh, NULL, NULL, &nt);
  double s = 0.0;
  int64_t n = 0;
  for (int64_t t = 0; t < nt; t++) {
    if (tt[t] != tag) continue;
    for (int k = 0; k < 3; k++) {
      const double *a = X + 3 * T[3 * t + k], *b = X + 3 * T[3 * t + (k + 1) % 3];
      s += sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
      n++;
    }
  }
  return n ? s / n : NAN;
}

static void test_sphere(tmsf_context *ctx, const char *dir) {
  tmsf_mesh *mesh;
  tmsf_coil *coil;
  tmsf_simulation *sim;
  tmsf_field *field;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &coil));
  /* over a tilted point: direction (0.35, 0.25, 0.9) */
  double dn = sqrt(0.35 * 0.35 + 0.25 * 0.25 + 0.9 * 0.9);
  const double centre[3] = {0.095 * 0.35 / dn, 0.095 * 0.25 / dn, 0.095 * 0.9 / dn}, ydir[3] = {-0.3, 1, 0};
  double P[16];
  REQUIRE_OK(ctx, tmsf_pose_from_centre(mesh, centre, ydir, 0.004, P));
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &sim));
  REQUIRE_OK(ctx, tmsf_simulation_setup(sim));
  REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, P, 1e8, &field));
  const double edge = mean_edge(mesh, 1003);
  /* element values are constant per tetrahedron, so the largest vertex
   * value (each an area-weighted mean of its triangles') can sit a vertex
   * away from the true peak: the brightest pixel within 0.8 edges (7.6 mm;
   * over 18 poses of 'tmsfield render' on this sphere: at most 7.3 mm); the
   * centroid of the pixels >= 90 % of it averages that out: within 3.5 mm
   * (the same poses: at most 2.7 mm) */
  const double tol = 0.8 * edge, tol_region = 3.5e-3;
  /* the coil axis meets the r = 85 mm sphere at c + t z */
  double c[3] = {P[3], P[7], P[11]}, z[3] = {P[2], P[6], P[10]}, cz = c[0] * z[0] + c[1] * z[1] + c[2] * z[2];
  double cc = c[0] * c[0] + c[1] * c[1] + c[2] * c[2], t = -cz - sqrt(cz * cz - (cc - 0.085 * 0.085)), axis[3];
  for (int k = 0; k < 3; k++) axis[k] = c[k] + t * z[k];
  printf("sphere: surface 1003 mean edge %.2f mm; coil axis meets it at (%.2f, %.2f, %.2f) mm\n", edge * 1e3,
         axis[0] * 1e3, axis[1] * 1e3, axis[2] * 1e3);

  tmsf_render_params prm;
  tmsf_render_params_default(&prm);
  prm.surface_tag = 1003;
  prm.title = "sphere3 inner surface";
  const double target[3] = {axis[0], axis[1], axis[2]};
  tmsf_picture *pic = NULL;
  tmsf_render_info info;
  double t0 = tmsf_wtime();
  REQUIRE_OK(ctx, tmsf_render_cortex(field, coil, NULL, P, target, &prm, &pic, &info));
  printf("render_cortex: %.3f s\n", tmsf_wtime() - t0);
  double dh = sqrt(pow(info.hotspot_m[0] - axis[0], 2) + pow(info.hotspot_m[1] - axis[1], 2) +
                   pow(info.hotspot_m[2] - axis[2], 2));
  double dpx = hypot(info.hotspot_px[0] - info.coil_centre_px[0], info.hotspot_px[1] - info.coil_centre_px[1]);
  printf("coil view: hotspot %.2f V/m at (%.2f, %.2f, %.2f) mm, %.2f mm from the axis point; %.1f px = %.2f mm "
         "from the coil centre's projection (%.3f mm/px)\n",
         info.hotspot_V_per_m, info.hotspot_m[0] * 1e3, info.hotspot_m[1] * 1e3, info.hotspot_m[2] * 1e3, dh * 1e3,
         dpx, dpx * info.m_per_px * 1e3, info.m_per_px * 1e3);
  CHECK(dh <= tol, "hotspot %.2f mm from the axis point; expected within %.2f mm", dh * 1e3, tol * 1e3);
  CHECK(dpx * info.m_per_px <= tol, "hotspot pixel %.2f mm from the coil centre's projection (> %.2f mm)",
        dpx * info.m_per_px * 1e3, tol * 1e3);
  double dreg = hypot(info.hot_region_px[0] - info.coil_centre_px[0], info.hot_region_px[1] - info.coil_centre_px[1]) *
                info.m_per_px;
  printf("coil view: the >= 90 %% region's centroid %.2f mm from the coil centre's projection\n", dreg * 1e3);
  CHECK(dreg <= tol_region, "hot region %.2f mm from the coil centre's projection (> %.2f mm)", dreg * 1e3,
        tol_region * 1e3);
  CHECK(hypot(info.target_px[0] - info.coil_centre_px[0], info.target_px[1] - info.coil_centre_px[1]) < 1e-6,
        "the axis point projects onto the coil centre in the coil view");
  CHECK(info.hotspot_V_per_m <= info.max_V_per_m * (1 + 1e-6) && info.hotspot_V_per_m >= 0.8 * info.max_V_per_m,
        "hotspot value %g within 80 %% of the surface maximum %g", info.hotspot_V_per_m, info.max_V_per_m);
  CHECK(info.vmin_V_per_m == 0.0 && info.vmax_V_per_m > 0.5 * info.max_V_per_m && info.vmax_V_per_m <= info.max_V_per_m,
        "default colour range 0..p99.9 (%g of max %g)", info.vmax_V_per_m, info.max_V_per_m);
  char path[4200];
  snprintf(path, sizeof(path), "%s/sphere.png", dir);
  CHECK_OK(ctx, tmsf_picture_write_png(pic, path));
  tmsf_picture_destroy(&pic);

  /* unshaded, colour range up to the hotspot value: the most yellow pixels of the decoded PNG */
  prm.shading = 0;
  prm.vmax_V_per_m = info.hotspot_V_per_m;
  tmsf_render_info info2;
  REQUIRE_OK(ctx, tmsf_render_cortex(field, coil, NULL, P, NULL, &prm, &pic, &info2));
  CHECK_OK(ctx, tmsf_picture_write_png(pic, path));
  int w, h, bad;
  unsigned char *rgb = NULL;
  CHECK(png_decode(path, &w, &h, &rgb, &bad) == 0 && bad == 0, "decoded with valid CRCs");
  if (rgb) {
    CHECK(w == prm.width_px && h == prm.height_px, "PNG size %d x %d", w, h);
    /* pixels of the drawing area (left of the colour bar) whose colour inverts to t >= 0.97 */
    double sx = 0, sy = 0, tmax = 0.0;
    int64_t n = 0, distinct = 0;
    int x_end = w - 140;
    unsigned char *seen = calloc(1 << 21, 1); /* a bit per 24-bit colour */
    for (int y = 40; y < h - 8; y++)
      for (int x = 8; x < x_end; x++) {
        const unsigned char *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
        if (p[0] == 255 && p[1] == 255 && p[2] == 255) continue;
        unsigned key = (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];
        if (!(seen[key >> 3] & (1u << (key & 7)))) seen[key >> 3] |= (unsigned char)(1u << (key & 7)), distinct++;
        if (p[1] < 200) continue; /* viridis reaches green 200 at t ~ 0.8 */
        double d2, tt = invert_viridis(p, &d2);
        if (d2 > 12.0) continue; /* outline, markers */
        if (tt > tmax) tmax = tt;
        if (tt >= 0.97) sx += x + 0.5, sy += y + 0.5, n++;
      }
    free(seen);
    CHECK(distinct > 200, "the colours vary: %lld distinct colours", (long long)distinct);
    CHECK(tmax >= 0.99, "the top of the colour range appears (t %.3f)", tmax);
    CHECK(n > 0, "pixels at the top of the range");
    if (n > 0) {
      double d = hypot(sx / n - info2.coil_centre_px[0], sy / n - info2.coil_centre_px[1]) * info2.m_per_px;
      printf("decoded PNG: %lld pixels at t >= 0.97, their centroid %.2f mm from the coil centre's projection\n",
             (long long)n, d * 1e3);
      CHECK(d <= tol_region, "brightest PNG pixels %.2f mm from the coil centre's projection (> %.2f mm)", d * 1e3,
            tol_region * 1e3);
    }
    free(rgb);
  }
  tmsf_picture_destroy(&pic);

  /* other views: top (no pose needed), flat colours */
  tmsf_render_params_default(&prm);
  prm.surface_tag = 1003;
  prm.view = TMSF_VIEW_TOP;
  prm.per_triangle = 1;
  REQUIRE_OK(ctx, tmsf_render_cortex(field, NULL, NULL, NULL, NULL, &prm, &pic, &info));
  CHECK(isnan(info.coil_centre_px[0]), "no pose: no coil centre");
  CHECK(info.direction[2] == -1.0, "top view looks down");
  CHECK(info.hotspot_V_per_m == (float)info.max_V_per_m, "flat colours: the hotspot pixel shows the largest triangle value");
  tmsf_picture_destroy(&pic);

  /* errors */
  prm.surface_tag = 1002;
  CHECK(tmsf_render_cortex(field, NULL, NULL, NULL, NULL, &prm, &pic, &info) == TMSF_ERR_NOT_FOUND && !pic,
        "no grey matter on the sphere");
  prm.surface_tag = 1003;
  prm.vmin_V_per_m = 5.0;
  prm.vmax_V_per_m = 5.0;
  CHECK(tmsf_render_cortex(field, NULL, NULL, NULL, NULL, &prm, &pic, &info) == TMSF_ERR_ARGUMENT, "empty range");
  prm.vmax_V_per_m = NAN;
  prm.vmin_V_per_m = NAN;
  double Pbad[16];
  memcpy(Pbad, P, sizeof(Pbad));
  Pbad[0] = 2.0;
  CHECK(tmsf_render_cortex(field, NULL, NULL, Pbad, NULL, &prm, &pic, &info) == TMSF_ERR_POSE, "scaled pose rejected");

  /* E back from a .msh */
  snprintf(path, sizeof(path), "%s/E.msh", dir);
  CHECK_OK(ctx, tmsf_mesh_write(mesh, field, path));
  tmsf_mesh *m2 = NULL;
  tmsf_field *f2 = NULL;
  CHECK_OK(ctx, tmsf_mesh_read(ctx, path, &m2));
  if (m2) {
    CHECK_OK(ctx, tmsf_field_read_msh(m2, path, &f2));
    if (f2) {
      const double *E1, *E2;
      int64_t ne;
      tmsf_field_get_E(field, &E1);
      tmsf_field_get_E(f2, &E2);
      tmsf_mesh_get_sizes(mesh, NULL, &ne, NULL);
      CHECK(!memcmp(E1, E2, (size_t)ne * 3 * sizeof(double)), "E read back bitwise");
      double didt;
      tmsf_field_get_didt(f2, &didt);
      CHECK(isnan(didt), "dI/dt unknown");
    }
    tmsf_field_destroy(&f2);
    CHECK(tmsf_field_read_msh(m2, test_path("data/spheres/sphere3.msh"), &f2) == TMSF_ERR_NOT_FOUND && !f2,
          "a mesh without element data");
    CHECK(strstr(tmsf_context_last_error(ctx), "\"E\"") != NULL, "names the data: %s", tmsf_context_last_error(ctx));
  }
  {
    const double nodes[12] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    const int32_t tet[4] = {0, 1, 2, 3};
    tmsf_mesh *m3 = NULL;
    REQUIRE_OK(ctx, tmsf_mesh_create(ctx, 4, nodes, 1, tet, NULL, 0, NULL, NULL, &m3));
    CHECK(tmsf_field_read_msh(m3, path, &f2) == TMSF_ERR_ARGUMENT, "another mesh's file");
    CHECK(strstr(tmsf_context_last_error(ctx), "tetrahedra") != NULL, "says why: %s", tmsf_context_last_error(ctx));
    tmsf_mesh_destroy(&m3);
  }
  tmsf_mesh_destroy(&m2);

  /* slices: a NIfTI written by the library reads back as the resampled grid */
  const int64_t dims[3] = {48, 50, 46};
  const double A[16] = {4, 0, 0, -94, 0, 4, 0, -98, 0, 0, 4, -92, 0, 0, 0, 1};
  size_t nvox = (size_t)dims[0] * dims[1] * dims[2];
  float *grid = malloc(nvox * sizeof(float));
  CHECK_OK(ctx, tmsf_field_resample_grid(field, TMSF_SAMPLE_ELEMENT, dims, A, NULL, 0, TMSF_OUTPUT_MAGNE, grid));
  snprintf(path, sizeof(path), "%s/magnE.nii.gz", dir);
  tmsf_volume *vol = NULL;
#if TMSF_HAVE_NIFTI
  CHECK_OK(ctx, tmsf_field_write_nifti_grid(field, TMSF_SAMPLE_ELEMENT, dims, A, NULL, 0, TMSF_OUTPUT_MAGNE, path));
  CHECK_OK(ctx, tmsf_volume_read_nifti(ctx, path, &vol));
  if (vol) {
    int64_t d2[3];
    double A2[16];
    const float *data;
    tmsf_volume_get(vol, d2, A2, &data);
    CHECK(d2[0] == dims[0] && d2[1] == dims[1] && d2[2] == dims[2], "dims read back");
    double ad = 0.0;
    for (int k = 0; k < 16; k++) ad = fmax(ad, fabs(A2[k] - A[k]));
    CHECK(ad < 1e-5, "affine read back (max diff %g)", ad);
    CHECK(!memcmp(data, grid, nvox * sizeof(float)), "voxels read back equal the resampled grid");
  }
  snprintf(path, sizeof(path), "%s/missing.nii.gz", dir);
  tmsf_volume *none = NULL;
  CHECK(tmsf_volume_read_nifti(ctx, path, &none) == TMSF_ERR_IO && !none, "missing file");
  CHECK(tmsf_volume_read_nifti(ctx, test_path("data/spheres/sphere3.msh"), &none) == TMSF_ERR_FORMAT && !none,
        "not a NIfTI file");
#else
  CHECK_OK(ctx, tmsf_volume_create(ctx, dims, grid, A, &vol));
#endif
  if (vol) {
    tmsf_render_params_default(&prm);
    REQUIRE_OK(ctx, tmsf_render_slices(vol, NULL, target, &prm, &pic, &info));
    int pw, ph;
    tmsf_picture_get_size(pic, &pw, &ph);
    printf("slices of the sphere: %d x %d px, %.3f mm/px, through (%.1f, %.1f, %.1f) mm\n", pw, ph,
           info.m_per_px * 1e3, info.point_m[0] * 1e3, info.point_m[1] * 1e3, info.point_m[2] * 1e3);
    CHECK(pw == 900 && ph <= 700, "width kept, height cut to the panels");
    float gmax = 0.0f;
    for (size_t i = 0; i < nvox; i++) gmax = grid[i] > gmax ? grid[i] : gmax;
    CHECK(info.max_V_per_m == gmax, "largest voxel %g", info.max_V_per_m);
    snprintf(path, sizeof(path), "%s/slices.png", dir);
    CHECK_OK(ctx, tmsf_picture_write_png(pic, path));
    tmsf_picture_destroy(&pic);
  }
  tmsf_volume_destroy(&vol);
  free(grid);

  tmsf_field_destroy(&field);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);
}

/* A Gaussian blob: the slices cross at its maximum voxel, and the panels show it. */
static void test_slices_synthetic(tmsf_context *ctx) {
  const int64_t dims[3] = {40, 50, 30};
  const double A[16] = {0, -2, 0, 60, 2, 0, 0, -40, 0, 0, 2.5, -30, 0, 0, 0, 1}; /* rotated axes */
  size_t n = (size_t)dims[0] * dims[1] * dims[2];
  float *v = malloc(n * sizeof(float));
  for (int64_t k = 0; k < dims[2]; k++)
    for (int64_t j = 0; j < dims[1]; j++)
      for (int64_t i = 0; i < dims[0]; i++) {
        double r2 = pow(i - 21.0, 2) + pow(j - 17.0, 2) + pow(k - 12.0, 2);
        int border = i < 2 || j < 2 || k < 2 || i >= dims[0] - 2 || j >= dims[1] - 2 || k >= dims[2] - 2;
        v[i + dims[0] * (j + dims[1] * k)] = border ? 0.0f : (float)(50.0 * exp(-r2 / 72.0) + 1.0);
      }
  tmsf_volume *vol;
  REQUIRE_OK(ctx, tmsf_volume_create(ctx, dims, v, A, &vol));
  tmsf_picture *pic;
  tmsf_render_info info;
  tmsf_render_params prm;
  tmsf_render_params_default(&prm);
  prm.title = "synthetic";
  REQUIRE_OK(ctx, tmsf_render_slices(vol, NULL, NULL, &prm, &pic, &info));
  /* the maximum voxel (21, 17, 12) in mm */
  double want[3] = {A[0] * 21 + A[1] * 17 + A[2] * 12 + A[3], A[4] * 21 + A[5] * 17 + A[6] * 12 + A[7],
                    A[8] * 21 + A[9] * 17 + A[10] * 12 + A[11]};
  CHECK(fabs(info.point_m[0] * 1e3 - want[0]) < 1e-9 && fabs(info.point_m[1] * 1e3 - want[1]) < 1e-9 &&
            fabs(info.point_m[2] * 1e3 - want[2]) < 1e-9,
        "slices through the maximum (%g, %g, %g) mm, got (%g, %g, %g)", want[0], want[1], want[2],
        info.point_m[0] * 1e3, info.point_m[1] * 1e3, info.point_m[2] * 1e3);
  CHECK(info.max_V_per_m == 51.0, "max 51, got %g", info.max_V_per_m);
  const float *val;
  int w, h;
  tmsf_picture_get_values(pic, &val);
  tmsf_picture_get_size(pic, &w, &h);
  double best = 0.0;
  int64_t drawn = 0;
  for (int64_t i = 0; i < (int64_t)w * h; i++)
    if (!isnan(val[i])) drawn++, best = fmax(best, val[i]);
  /* pixels of ~0.7 voxel: the sampled maximum is within a voxel of the peak: 50 exp(-1/72) + 1 */
  CHECK(best <= 51.0 + 1e-4 && best >= 50.0 * exp(-1.0 / 72.0) + 1.0 - 1e-4, "panel maximum %g", best);
  CHECK(drawn > 3 * 100 * 100, "three panels drawn (%lld pixels)", (long long)drawn);
  tmsf_picture_destroy(&pic);
  const double far[3] = {5.0, 5.0, 5.0};
  CHECK(tmsf_render_slices(vol, far, NULL, &prm, &pic, &info) == TMSF_ERR_ARGUMENT && !pic, "point far outside");
  tmsf_volume_destroy(&vol);
  double Asing[16] = {1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  CHECK(tmsf_volume_create(ctx, dims, v, Asing, &vol) == TMSF_ERR_FORMAT && !vol, "singular affine");
  free(v);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  const char *dir = scratch_dir("t-render");
  test_views_and_colours(ctx);
  test_camera_and_zbuffer(ctx);
  test_png(ctx, dir);
  test_sphere(ctx, dir);
  test_slices_synthetic(ctx);
  CHECK(count_temporaries(dir) == 0, "no temporary files left");
  remove_dir(dir);
  tmsf_context_destroy(&ctx);
  return test_summary("t-render");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * render-impl.h: private structures of the pictures (render.c,
 * render-slices.c, render-font.c, io-png.c, io-volume.c).
 */
#ifndef TMSF_RENDER_IMPL_H
#define TMSF_RENDER_IMPL_H

#include "tmsf-impl.h"

struct tmsf_picture {
  tmsf_context *ctx;
  int w, h;
  uint8_t *rgb;  /* 3*w*h */
  float *value;  /* w*h, NaN where no value was drawn */
  float *depth;  /* w*h, +inf where nothing was drawn since the last camera */
  int have_camera;
  int vp[4];     /* viewport x0, y0, width, height */
  double dir[3], up[3], right[3], centre[3], m_per_px;
};

struct tmsf_volume {
  tmsf_context *ctx;
  int64_t dims[3];
  double affine[16]; /* index -> mm */
  float *data;
};

/* The glyph of c (8 groups of 5 '#'/'.' separated by blanks; '?' for
 * characters the font lacks). */
const char *tmsf_font_glyph(char c);

/* Write w x h 8-bit RGB pixels (rows top first) as a PNG file, with a
 * "Software" text chunk; temporary name + rename (io-png.c). */
int tmsf_png_write(tmsf_context *ctx, const char *path, int w, int h, const uint8_t *rgb);

/* Percentile p (0..100) of n values with weights (NULL: equal), NaNs
 * skipped; NaN when none (render.c). */
double tmsf_render_percentile(int64_t n, const double *v, const double *weight, double p);

/* Layout shared by the composed pictures: the text scale for a picture
 * size, and the height of the title band (0 without a title). */
int tmsf_render_text_scale(int w, int h);

#endif

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * coil-parametric.c: wire coils (circular, figure-8, double cone) as line
 * segments generated from their winding geometry (coil-parametric.h).
 */
#include <string.h>

#include "tmsf-impl.h"

#define PI_ 3.14159265358979323846

int tmsf_wire_coil_params_init(tmsf_wire_coil_shape shape, tmsf_wire_coil_params *p) {
  if (!p) return TMSF_ERR_ARGUMENT;
  memset(p, 0, sizeof(*p));
  p->shape = shape;
  p->segments_per_turn = 64;
  p->leads = 1;
  p->layers = 1;
  switch (shape) {
  case TMSF_WIRE_COIL_CIRCULAR:
    p->turns = 15;
    p->inner_radius_m = 0.020;
    p->outer_radius_m = 0.045;
    p->bottom_distance_m = 0.005;
    return TMSF_SUCCESS;
  case TMSF_WIRE_COIL_FIGURE8:
    /* Magstim 70 mm figure-8 (docs/parametric-coils.md): 9 turns per wing,
     * winding diameters 56 / 87 mm, wire 1.75 mm x 6 mm, wing centres +-45 mm
     * (S. N. Makarov's BEM-FMM coil script for this coil); winding bottom 3 mm
     * above the bottom face (Thielscher & Kammer 2004's model as coded by
     * Stenroos & Koponen 2019, and the dipole layers of the measured .ccd). */
    p->turns = 9;
    p->inner_radius_m = 0.028;
    p->outer_radius_m = 0.0435;
    p->wing_spacing_m = 0.090;
    p->layers = 6;
    p->layer_spacing_m = 0.001;
    p->layers_in_parallel = 1;
    p->bottom_distance_m = 0.0035;
    return TMSF_SUCCESS;
  case TMSF_WIRE_COIL_DOUBLE_CONE:
    p->turns = 10;
    p->inner_radius_m = 0.030;
    p->outer_radius_m = 0.055;
    p->wing_spacing_m = 0.112;
    p->wing_angle_deg = 40.0;
    p->bottom_distance_m = 0.005;
    return TMSF_SUCCESS;
  }
  return TMSF_ERR_ARGUMENT;
}

static int bad(tmsf_context *ctx, const char *field, double value, const char *expected) {
  return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "wire coil parameter %s = %g; expected %s", field,
                    value, expected);
}

int tmsf_wire_coil_params_check(tmsf_context *ctx, const tmsf_wire_coil_params *p) {
  if (!p) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "wire coil parameters are NULL");
  if (p->shape != TMSF_WIRE_COIL_CIRCULAR && p->shape != TMSF_WIRE_COIL_FIGURE8 &&
      p->shape != TMSF_WIRE_COIL_DOUBLE_CONE)
    return bad(ctx, "shape", (double)p->shape,
               "TMSF_WIRE_COIL_CIRCULAR (1), _FIGURE8 (2) or _DOUBLE_CONE (3)");
  if (p->turns < 1 || p->turns > 10000) return bad(ctx, "turns", p->turns, "1..10000");
  if (p->layers < 1 || p->layers > 1000) return bad(ctx, "layers", p->layers, "1..1000");
  if (p->segments_per_turn < 3 || p->segments_per_turn > 1000000)
    return bad(ctx, "segments_per_turn", p->segments_per_turn, "3..1000000");
  if (!(p->inner_radius_m > 0.0) || !(p->inner_radius_m < 10.0))
    return bad(ctx, "inner_radius_m", p->inner_radius_m, "0 < r < 10 m");
  if (!(p->outer_radius_m >= p->inner_radius_m) || !(p->outer_radius_m < 10.0))
    return bad(ctx, "outer_radius_m", p->outer_radius_m, ">= inner_radius_m and < 10 m");
  if (!(p->layer_spacing_m >= 0.0) || !(p->layer_spacing_m < 10.0))
    return bad(ctx, "layer_spacing_m", p->layer_spacing_m, "0..10 m");
  if (p->layers > 1 && !(p->layer_spacing_m > 0.0))
    return bad(ctx, "layer_spacing_m", p->layer_spacing_m, "> 0 when layers > 1");
  if (!(p->bottom_distance_m >= 0.0) || !(p->bottom_distance_m < 10.0))
    return bad(ctx, "bottom_distance_m", p->bottom_distance_m, "0..10 m");
  if (p->layers_in_parallel != 0 && p->layers_in_parallel != 1)
    return bad(ctx, "layers_in_parallel", p->layers_in_parallel, "0 or 1");
  if (p->leads != 0 && p->leads != 1) return bad(ctx, "leads", p->leads, "0 or 1");
  if (p->shape != TMSF_WIRE_COIL_CIRCULAR) {
    if (!(p->wing_spacing_m >= 2.0 * p->outer_radius_m * (1.0 - 1e-12)) ||
        !(p->wing_spacing_m < 20.0))
      return bad(ctx, "wing_spacing_m", p->wing_spacing_m,
                 ">= 2 * outer_radius_m (wings must not overlap) and < 20 m");
    if (!(p->wing_angle_deg >= 0.0) || !(p->wing_angle_deg < 90.0))
      return bad(ctx, "wing_angle_deg", p->wing_angle_deg, "0 <= angle < 90 degrees");
    if (p->shape == TMSF_WIRE_COIL_DOUBLE_CONE && !(p->wing_angle_deg > 0.0))
      return bad(ctx, "wing_angle_deg", p->wing_angle_deg,
                 "> 0 for a double cone (0 is a flat figure-8)");
  }
  return TMSF_SUCCESS;
}

/* Segments of one lead (radial, inner <- outer): as long as a spiral segment
 * at the outer radius, at least one; none when the spiral closes on itself. */
static int64_t lead_segments(const tmsf_wire_coil_params *p) {
  double dr = p->outer_radius_m - p->inner_radius_m;
  if (!p->leads || dr <= 0.0) return 0;
  double h = 2.0 * PI_ * p->outer_radius_m / p->segments_per_turn;
  int64_t n = (int64_t)ceil(dr / h - 1e-9);
  return n < 1 ? 1 : n;
}

static int num_wings(const tmsf_wire_coil_params *p) {
  return p->shape == TMSF_WIRE_COIL_CIRCULAR ? 1 : 2;
}

int tmsf_wire_coil_num_segments(tmsf_context *ctx, const tmsf_wire_coil_params *p,
                                int64_t *num_segments) {
  if (!num_segments) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "num_segments is NULL");
  TMSF_CALL(tmsf_wire_coil_params_check(ctx, p));
  int64_t per_layer = (int64_t)p->turns * p->segments_per_turn + lead_segments(p);
  *num_segments = per_layer * p->layers * num_wings(p);
  return TMSF_SUCCESS;
}

/* Points of the +x wing's wire in its own plane frame (centre at the origin,
 * layer plane z = 0): spiral points k = 0..N*S, then the lead's points. */
static void wire_point(const tmsf_wire_coil_params *p, int64_t k, int64_t nlead, double q[2]) {
  int64_t nspiral = (int64_t)p->turns * p->segments_per_turn;
  double r, phi0 = -0.5 * PI_;
  if (k <= nspiral) {
    double t = (double)k / (double)p->segments_per_turn; /* turns done */
    r = p->inner_radius_m + (p->outer_radius_m - p->inner_radius_m) * (t / p->turns);
    if (k == nspiral) r = p->outer_radius_m;
    double phi = phi0 + 2.0 * PI_ * ((double)(k % p->segments_per_turn) / p->segments_per_turn);
    q[0] = r * cos(phi);
    q[1] = r * sin(phi);
    return;
  }
  /* lead: from the outer end back to the inner start along the ray phi0 */
  double f = (double)(k - nspiral) / (double)nlead;
  r = p->outer_radius_m + (p->inner_radius_m - p->outer_radius_m) * f;
  if (k - nspiral == nlead) r = p->inner_radius_m;
  q[0] = r * cos(phi0);
  q[1] = r * sin(phi0);
}

int tmsf_wire_coil_segments(tmsf_context *ctx, const tmsf_wire_coil_params *p,
                            int64_t num_segments, double *midpoints_m, double *dl_m) {
  int64_t n;
  TMSF_CALL(tmsf_wire_coil_num_segments(ctx, p, &n));
  if (!midpoints_m || !dl_m)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_wire_coil_segments: output arrays are NULL");
  if (num_segments != n)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "tmsf_wire_coil_segments: arrays for %lld segments given; the geometry "
                      "has %lld (tmsf_wire_coil_num_segments)",
                      (long long)num_segments, (long long)n);
  const int64_t nlead = lead_segments(p);
  const int64_t per_layer = (int64_t)p->turns * p->segments_per_turn + nlead;
  const double weight = p->layers_in_parallel ? 1.0 / p->layers : 1.0;
  const int wings = num_wings(p);
  /* +x wing: centre cx; tilt about the axis parallel to y through (0, 0, zp),
   * taking +x to (cos a, 0, -sin a): the outer edge rises away from the head. */
  const double cx = wings == 2 ? 0.5 * p->wing_spacing_m : 0.0;
  const double a = wings == 2 ? p->wing_angle_deg * PI_ / 180.0 : 0.0;
  const double ca = cos(a), sa = sin(a);
  const double zp = -p->bottom_distance_m;
  int64_t out = 0;
  for (int w = 0; w < wings; w++) {
    const double mirror = w == 0 ? 1.0 : -1.0;
    for (int l = 0; l < p->layers; l++) {
      const double dz = -(double)l * p->layer_spacing_m; /* relative to zp */
      double prev[3] = {0, 0, 0};
      for (int64_t k = 0; k <= per_layer; k++) {
        double q[2];
        wire_point(p, k, nlead, q);
        /* flat position relative to the pivot, then tilt, then mirror */
        double x = cx + q[0], y = q[1];
        double X[3] = {x * ca + dz * sa, y, zp - x * sa + dz * ca};
        X[0] *= mirror;
        if (k > 0) {
          for (int j = 0; j < 3; j++) {
            midpoints_m[3 * out + j] = 0.5 * (prev[j] + X[j]);
            dl_m[3 * out + j] = weight * (X[j] - prev[j]);
          }
          out++;
        }
        memcpy(prev, X, sizeof(prev));
      }
    }
  }
  return out == n ? TMSF_SUCCESS
                  : TMSF_ERROR(ctx, TMSF_ERR_NUMERIC, "wire coil: %lld segments made, %lld expected",
                               (long long)out, (long long)n);
}

static const char *shape_name(const tmsf_wire_coil_params *p) {
  return p->shape == TMSF_WIRE_COIL_CIRCULAR  ? "wire circular"
         : p->shape == TMSF_WIRE_COIL_FIGURE8 ? "wire figure-8"
                                              : "wire double cone";
}

int tmsf_coil_add_wire(tmsf_coil *coil, int stimulator, const char *name,
                       const tmsf_wire_coil_params *p) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = coil->ctx;
  int64_t n;
  TMSF_CALL(tmsf_wire_coil_num_segments(ctx, p, &n));
  double *mid = tmsf_malloc_array((size_t)n * 3, sizeof(double));
  double *dl = tmsf_malloc_array((size_t)n * 3, sizeof(double));
  int st;
  if (!mid || !dl)
    st = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "wire coil: out of memory for %lld segments",
                    (long long)n);
  else
    st = tmsf_wire_coil_segments(ctx, p, n, mid, dl);
  if (!st) st = tmsf_coil_add_segments(coil, stimulator, name ? name : shape_name(p), n, mid, dl);
  free(mid);
  free(dl);
  return st;
}

int tmsf_coil_create_wire(tmsf_context *ctx, const tmsf_wire_coil_params *p, tmsf_coil **coil) {
  if (!ctx || !coil) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  TMSF_CALL(tmsf_wire_coil_params_check(ctx, p));
  tmsf_coil *c = NULL;
  int st = tmsf_coil_create(ctx, shape_name(p), &c);
  if (!st) st = tmsf_coil_add_wire(c, 0, NULL, p);
  if (st) {
    tmsf_coil_destroy(&c);
    return st;
  }
  *coil = c;
  return TMSF_SUCCESS;
}

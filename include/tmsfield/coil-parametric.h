/*
 * SPDX-License-Identifier: BSD-3-Clause
 * coil-parametric.h: coils built from wire geometry — circular, figure-8 and
 * double-cone windings as flat spirals of straight line segments.
 *
 * Coil frame (SimNIBS, as every coil of the library): origin at the centre of
 * the coil's bottom face, z pointing into the head, the handle along -y.  The
 * windings lie behind the bottom face, at z <= -bottom_distance_m (the
 * measured Magstim 70 mm model, data/coils/Magstim_70mm_Fig8.ccd, has its
 * dipoles at z = -4.2 to -8.8 mm).
 *
 * Each wing is a flat Archimedean spiral in the plane of one layer: its centre
 * line starts at inner_radius_m on the ray from the wing centre towards -y
 * (the handle), runs counter-clockwise seen from +z (from the head) for
 * `turns` full turns and ends at outer_radius_m, so the radial pitch is
 * (outer - inner) / turns; a straight radial lead along the same ray closes
 * the circuit (leads = 1).  For a tightly wound flat spiral of wire width w,
 * inner_radius_m and outer_radius_m are the winding's inner and outer radii
 * to within w/2.  Layers are copies of the spiral stacked away from the head
 * (layer l at z = -(bottom_distance_m + l * layer_spacing_m)).
 *
 * Current senses: a circular coil's magnetic moment points along +z.  A
 * figure-8 has its wings side by side along x (centres at +-wing_spacing_m/2),
 * the +x wing with moment +z, the -x wing its mirror image (moment -z), so that
 * under the centre both wings carry current along -y and the primary field
 * dA/dt points along -y for dI/dt > 0 — the sense of the measured Magstim
 * 70 mm model.  A double cone is a figure-8 whose wings are tilted by
 * wing_angle_deg about axes parallel to y through the junction, their outer
 * edges raised away from the head; the opening angle between the wings is
 * 180 - 2 * wing_angle_deg degrees.
 *
 * The coil made by tmsf_coil_create_wire is a line-segment coil:
 * A(r) = mu0/(4 pi) sum_k I dl_k / |r - r_k| with r_k the chord midpoints and
 * dl_k the chord vectors (error O(1/segments_per_turn^2)).
 */
#ifndef TMSFIELD_COIL_PARAMETRIC_H
#define TMSFIELD_COIL_PARAMETRIC_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Shapes of wire coil. */
typedef enum tmsf_wire_coil_shape {
  TMSF_WIRE_COIL_CIRCULAR = 1,    /**< one spiral centred on the origin */
  TMSF_WIRE_COIL_FIGURE8 = 2,     /**< two flat spirals side by side along x */
  TMSF_WIRE_COIL_DOUBLE_CONE = 3, /**< a figure-8 with tilted wings (wing_angle_deg > 0) */
} tmsf_wire_coil_shape;

/**
 * Geometry of a wire coil.  Fill it with tmsf_wire_coil_params_init, then
 * change fields; every length is in metres.
 */
typedef struct tmsf_wire_coil_params {
  tmsf_wire_coil_shape shape;
  int turns;                /**< full turns of each spiral (per wing and layer), >= 1 */
  double inner_radius_m;    /**< radius where the spiral's centre line starts, > 0 */
  double outer_radius_m;    /**< radius where it ends after `turns` turns, >= inner */
  int layers;               /**< layers stacked along -z, >= 1 */
  double layer_spacing_m;   /**< distance between layers' centre lines, >= 0 */
  int layers_in_parallel;   /**< 0: layers in series, each carries the coil current;
                                 1: the current splits equally between the layers
                                 (a tall wire modelled by `layers` filaments) */
  double bottom_distance_m; /**< distance from the coil's bottom face (z = 0) to the
                                 centre line of the layer nearest the head, >= 0 */
  double wing_spacing_m;    /**< figure-8, double cone: distance between the wing
                                 centres, >= 2 * outer_radius_m (wings may touch) */
  double wing_angle_deg;    /**< double cone: tilt of each wing, 0 < angle < 90;
                                 figure-8: 0 (other values make it a double cone) */
  int segments_per_turn;    /**< straight segments per turn of a spiral, >= 3 */
  int leads;                /**< 1: close each spiral with a straight radial lead
                                 (none when inner == outer: the turns are closed
                                 circles); 0: leave the spiral open */
} tmsf_wire_coil_params;

/**
 * Default geometry of a shape:
 *  - circular: 15 turns from 20 mm to 45 mm radius (a 90 mm round coil),
 *    1 layer, 5 mm from the bottom face;
 *  - figure-8: the Magstim 70 mm figure-8 from published dimensions — 9 turns
 *    per wing, inner/outer winding diameters 56/87 mm, wing centres 90 mm apart,
 *    a 6 mm tall flat wire modelled as 6 parallel filaments 1 mm apart, the
 *    winding's bottom 3 mm above the bottom face (docs/parametric-coils.md);
 *  - double cone: illustrative, not a model of a product: 10 turns per wing
 *    from 30 to 55 mm radius (110 mm wings), wing centres 112 mm apart, wings
 *    tilted by 40 degrees (100 degrees opening), 1 layer 5 mm from the face.
 * All with 64 segments per turn and leads.  TMSF_ERR_ARGUMENT for an unknown
 * shape or params == NULL.
 */
TMSF_EXPORT int tmsf_wire_coil_params_init(tmsf_wire_coil_shape shape,
                                           tmsf_wire_coil_params *params);

/**
 * Check a geometry.  On error the context's message names the field, its value
 * and the range expected.  ctx may be NULL (no message).
 */
TMSF_EXPORT int tmsf_wire_coil_params_check(tmsf_context *ctx,
                                            const tmsf_wire_coil_params *params);

/** Number of line segments of the coil a geometry describes (checks it). */
TMSF_EXPORT int tmsf_wire_coil_num_segments(tmsf_context *ctx, const tmsf_wire_coil_params *params,
                                            int64_t *num_segments);

/**
 * The coil's line segments in the coil frame: midpoints_m[3k..3k+2] is the
 * midpoint of segment k and dl_m[3k..3k+2] its vector (the direction of
 * positive current) times the fraction of the coil current it carries (1, or
 * 1/layers with layers_in_parallel).  The caller supplies arrays of
 * 3 * num_segments doubles (tmsf_wire_coil_num_segments); num_segments must
 * match.  Order: wing (+x wing first), then layer (nearest the head first),
 * then along the wire from the inner end (spiral, then lead).  The -x wing of a
 * figure-8 or double cone is the mirror image (x -> -x) of the +x wing,
 * segment by segment.
 */
TMSF_EXPORT int tmsf_wire_coil_segments(tmsf_context *ctx, const tmsf_wire_coil_params *params,
                                        int64_t num_segments, double *midpoints_m, double *dl_m);

/**
 * Create the line-segment coil of a geometry (tmsf_coil_create_segments).
 * Its name says the shape ("wire circular", "wire figure-8", "wire double
 * cone"); it has no maximum dI/dt (tmsf_coil_set_didt_max).
 */
TMSF_EXPORT int tmsf_coil_create_wire(tmsf_context *ctx, const tmsf_wire_coil_params *params,
                                      tmsf_coil **coil);

/**
 * Add the line segments of a geometry to an existing coil as one element
 * driven by stimulator `stimulator` (tmsf_coil_add_segments; name may be NULL:
 * the shape's name), e.g. to stack a figure-8 and a circular coil on two
 * stimulators.  Errors are recorded in the coil's context.
 */
TMSF_EXPORT int tmsf_coil_add_wire(tmsf_coil *coil, int stimulator, const char *name,
                                   const tmsf_wire_coil_params *params);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_COIL_PARAMETRIC_H */

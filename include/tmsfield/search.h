/*
 * SPDX-License-Identifier: BSD-3-Clause
 * search.h: the search space of coil poses for placement — scalp positions
 * around a target, coil orientations, a continuous parameterisation for
 * refinement, and the casing collision test.
 *
 * Geometry (all in head coordinates, metres):
 *
 *   Scalp: the outer boundary of the head mesh, surface 1005 (triangles
 *   tagged 1005, else derived from the tetrahedra: tmsf_surface_create).
 *
 *   Smoothed normal n_s(x): the normalised sum over the scalp triangles t of
 *   A_t w(|c_t - x|) n_t (A_t area, c_t centroid, n_t outward unit normal),
 *   with the Gaussian weight w(r) = exp(-r^2 / (2 sigma^2)) (1 - r^2/R^2)^2
 *   for r < R = 3 sigma and 0 beyond (sigma = normal_smoothing_m; the factor
 *   (1 - r^2/R^2)^2 takes the Gaussian to zero with zero slope at R, so n_s
 *   is a continuously differentiable function of x).
 *
 *   Projection: P0 = the nearest scalp point to the target, n0 = n_s(P0).
 *   Tangent basis at P0: e_v = the reference direction (default head +y,
 *   anterior) made orthogonal to n0 and normalised; e_u = e_v x n0, so
 *   (e_u, e_v, n0) is right-handed (for n0 = +z and e_v = +y, e_u = +x).
 *
 *   Position (u, v): the line through P0 + u e_u + v e_v along n0 meets the
 *   scalp; the scalp point s(u, v) is its outermost intersection (largest
 *   height along n0, i.e. the first scalp point met coming from outside
 *   along -n0).  s is continuous in (u, v) where the scalp is a single sheet
 *   over the tangent plane (no overhang along n0; true for heads within a
 *   few centimetres of a target) and linear on each triangle.
 *
 *   Pose at (u, v, angle): n = n_s(s(u, v)); y0 = e_v made orthogonal to n
 *   and normalised; the coil y axis is y0 rotated by angle about the outward
 *   normal n, counter-clockwise seen from outside the head (right-handed
 *   about n): y = cos(angle) y0 + sin(angle) (n x y0); z = -n (into the
 *   head); x = y x z; centre = s + distance_m n.  So at angle 0 the coil
 *   handle (-y) points posterior for the default reference, and at 90 deg
 *   y = n x y0 (towards -e_u: to the left on top of the head).  The pose is
 *   SimNIBS's matsimnibs (pose.h), translation in metres.
 *
 *   Grid: positions (u, v) = (i spacing_m, j spacing_m) with u^2 + v^2 <=
 *   radius_m^2, ordered by j (v) then i (u), both increasing; angles
 *   angle_min_deg + k angle_step_deg up to angle_max_deg (when the range
 *   spans 360 deg the end that repeats the start is left out: 0..355 by 5
 *   for the defaults, 72 angles).  Poses are positions x angles, the
 *   position index slowest.
 *
 * Collision: every pose is tested with a set of points in the coil frame —
 * the casing's vertices, its triangle centroids, and points of a triangular
 * lattice on each casing triangle whose longest edge exceeds
 * casing_spacing_m (so that no casing point is farther than casing_spacing_m
 * from a test point); without a casing the coil's dipole positions and
 * segment midpoints and ends (grid elements add none) and the coil origin
 * (the centre of the coil's bottom face); with neither, the coil origin.  A
 * pose is valid when every test point p has a signed distance d(p) >=
 * margin_m - 1 nm from the scalp, d > 0 outside the head.  d is the
 * distance to the nearest scalp point q with the sign of (p - q) . N, N the
 * angle-weighted pseudo-normal of the scalp feature (face, edge or vertex)
 * holding q (Baerentzen & Aanaes, IEEE TVCG 11(3):243-253, 2005: the sign
 * is exact for a closed, consistently oriented surface).  The test is
 * exact, and fast through bounds that d being 1-Lipschitz gives: a 2 mm
 * grid of the scalp (cells touched by scalp triangles, a Chebyshev distance
 * transform from them, a flood fill from outside for the sign) settles the
 * points far from the scalp, and balls of test points (a ball tree in the
 * coil frame) far outside or deep inside at once; near the scalp, exact d
 * at the grid nodes (computed on first use) bounds d(p) by trilinear
 * interpolation +- 2 mm sqrt(3) and by f_i -+ |p - c_i| at the 8 corners;
 * the points these leave undecided get the exact nearest-point query.
 * Between test points a
 * flat casing face can come closer to a convex scalp by at most
 * casing_spacing_m^2 / (8 R) (R the scalp's radius of curvature: 0.04 mm for
 * 5 mm and R = 80 mm).
 */
#ifndef TMSFIELD_SEARCH_H
#define TMSFIELD_SEARCH_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque coil casing: a triangle mesh in the coil frame (metres). */
typedef struct tmsf_casing tmsf_casing;

/** Opaque search space. */
typedef struct tmsf_search tmsf_search;

/**
 * Create a casing from arrays (copied): num_vertices vertices (3 each,
 * metres, coil frame: z into the head, handle along -y) and num_triangles
 * triangles (3 vertex indices each, 0-based).  Fails with TMSF_ERR_ARGUMENT
 * on a non-finite coordinate, an index out of range, or no triangle.
 */
TMSF_EXPORT int tmsf_casing_create(tmsf_context *ctx, int64_t num_vertices,
                                   const double *vertices_m, int64_t num_triangles,
                                   const int32_t *triangles, tmsf_casing **casing);

/**
 * Read a casing from an STL file, binary or ASCII.  A file whose size is
 * exactly 84 + 50 N bytes, N the little-endian count at byte 80, is binary
 * (whatever its header says); otherwise a file beginning with "solid" is
 * ASCII ("solid NAME", then "facet normal nx ny nz / outer loop / vertex x y
 * z (three times) / endloop / endfacet" blocks, "endsolid"; several solids
 * are joined).  Coordinates are multiplied by scale_to_m (finite, > 0):
 * 1e-3 for files in millimetres, as the SimNIBS coil casings are.  Facet
 * normals are read but not used (orientation does not matter to the
 * collision test); vertices with identical coordinates are merged.  Errors
 * name the file, the line (ASCII) or triangle (binary) and what was
 * expected.
 */
TMSF_EXPORT int tmsf_casing_read_stl(tmsf_context *ctx, const char *path, double scale_to_m,
                                     tmsf_casing **casing);

/**
 * The casing that goes with a coil file: the file with the coil's name and
 * the extension .stl in the same directory (".ccd", ".tcd", ".nii",
 * ".nii.gz" or any other last extension replaced), read with
 * tmsf_casing_read_stl in millimetres (scale 1e-3, the SimNIBS convention
 * of the shipped Drakaki et al. 2022 casings).  *casing = NULL and
 * TMSF_SUCCESS when there is no such file; a file that exists but cannot be
 * read is an error.
 */
TMSF_EXPORT int tmsf_casing_find_for_coil(tmsf_context *ctx, const char *coil_path,
                                          tmsf_casing **casing);

/** Counts; either pointer may be NULL. */
TMSF_EXPORT int tmsf_casing_get_sizes(const tmsf_casing *casing, int64_t *num_vertices,
                                      int64_t *num_triangles);

/** Borrow the vertices (3 each, metres, coil frame) and triangles (3 each). */
TMSF_EXPORT int tmsf_casing_get_vertices(const tmsf_casing *casing, const double **vertices_m);
TMSF_EXPORT int tmsf_casing_get_triangles(const tmsf_casing *casing, const int32_t **triangles);

/** Destroy (accepts NULL; sets *casing = NULL). */
TMSF_EXPORT int tmsf_casing_destroy(tmsf_casing **casing);

/** Parameters of the search space (SI units; tmsf_search_params_default). */
typedef struct tmsf_search_params {
  double radius_m;               /**< positions within this distance of P0 in the tangent
                                      plane (0.020; >= 0, at most 0.2) */
  double spacing_m;              /**< grid spacing in the tangent plane (0.002; > 0 and
                                      radius_m / spacing_m <= 2000) */
  double angle_min_deg;          /**< first angle (0) */
  double angle_max_deg;          /**< last angle (360; max - min in [0, 360]) */
  double angle_step_deg;         /**< angle step (5; >= 0.01) */
  double distance_m;             /**< coil centre from the scalp along the normal (0.004,
                                      SimNIBS's default; in [0, 0.1]) */
  double normal_smoothing_m;     /**< sigma of the normal smoothing (0.010; in [1e-4, 0.05]) */
  double reference_direction[3]; /**< angle 0 direction before projection (0, 1, 0: head +y,
                                      anterior in MNI/RAS heads) */
  double margin_m;               /**< least distance of every test point from the scalp
                                      (0; in [0, 0.05]) */
  double casing_spacing_m;       /**< largest gap between casing test points (0.005; in
                                      [1e-4, 0.1]) */
} tmsf_search_params;

/** Fill params with the defaults above. */
TMSF_EXPORT int tmsf_search_params_default(tmsf_search_params *params);

/** How far beyond radius_m tmsf_search_pose_at accepts (u, v), metres. */
#define TMSF_SEARCH_EXTENSION_M 0.010

/**
 * Build the search space for a target (head coordinates, metres) on a head
 * mesh (borrowed: it must outlive the search), with params (NULL: the
 * defaults), and test every grid pose for collision with casing (may be
 * NULL) or, without a casing, with coil's element points (coil may be
 * NULL); both are only read during the call.  Errors (in the mesh's
 * context): TMSF_ERR_ARGUMENT for a parameter out of range (named), a
 * non-finite target, a target outside the head (its signed distance from the
 * scalp is > 0: the message gives it in mm; a target on or under the scalp
 * is accepted at any depth), a reference direction parallel to n0;
 * TMSF_ERR_NOT_FOUND when no pose is valid, saying how many were dropped
 * for collision (with the margin) and how many at positions without a
 * scalp point (the line misses the scalp, or its normal is perpendicular to
 * e_v).  Uses the context's threads; the result does not depend on their
 * number.
 */
TMSF_EXPORT int tmsf_search_create(const tmsf_mesh *mesh, const double target_m[3],
                                   const tmsf_search_params *params, const tmsf_casing *casing,
                                   const tmsf_coil *coil, tmsf_search **search);

/** Destroy (accepts NULL; sets *search = NULL). */
TMSF_EXPORT int tmsf_search_destroy(tmsf_search **search);

/** The parameters used (a copy). */
TMSF_EXPORT int tmsf_search_get_params(const tmsf_search *search, tmsf_search_params *params);

/** The target's scalp projection P0 (m) and the smoothed outward normal n0
 * there; the tangent basis e_u, e_v.  Any output may be NULL. */
TMSF_EXPORT int tmsf_search_get_projection(const tmsf_search *search, double point_m[3],
                                           double normal[3], double e_u[3], double e_v[3]);

/** Number of grid positions (within the radius, usable or not), angles, and
 * valid poses. */
TMSF_EXPORT int tmsf_search_get_num_positions(const tmsf_search *search, int64_t *num);
TMSF_EXPORT int tmsf_search_get_num_angles(const tmsf_search *search, int64_t *num);
TMSF_EXPORT int tmsf_search_get_num_poses(const tmsf_search *search, int64_t *num);

/** Poses dropped: for collision, and at positions without a scalp point
 * (all their angles).  Either pointer may be NULL. */
TMSF_EXPORT int tmsf_search_get_num_dropped(const tmsf_search *search, int64_t *collision,
                                            int64_t *no_scalp);

/** Number of collision test points per pose (coil frame). */
TMSF_EXPORT int tmsf_search_get_num_test_points(const tmsf_search *search, int64_t *num);

/**
 * Borrow the positions: uv_m (u, v per position), scalp_m (s(u, v), 3 per
 * position; NaN where the position has no scalp point) and normals (n_s
 * there, 3 per position; NaN likewise).  Any output may be NULL.
 */
TMSF_EXPORT int tmsf_search_get_positions(const tmsf_search *search, const double **uv_m,
                                          const double **scalp_m, const double **normals);

/** Borrow the angles (degrees, one per angle). */
TMSF_EXPORT int tmsf_search_get_angles(const tmsf_search *search, const double **angles_deg);

/**
 * Borrow the valid poses, in grid order: head_from_coil_m (16 each,
 * row-major matsimnibs, metres), u_v_angle ((u_m, v_m, angle_deg) each),
 * position and angle (indices into the positions and angles).  Any output
 * may be NULL.
 */
TMSF_EXPORT int tmsf_search_get_poses(const tmsf_search *search, const double **head_from_coil_m,
                                      const double **u_v_angle, const int64_t **position,
                                      const int64_t **angle);

/**
 * The pose at tangent-plane coordinates (u_m, v_m) and angle_deg (any
 * value; the grid poses equal it bit for bit at their own (u, v, angle)),
 * continuous in all three and smooth in the angle.  No collision test
 * (tmsf_search_pose_clearance does it).  Errors: TMSF_ERR_ARGUMENT for
 * non-finite input or (u, v) farther than radius_m + TMSF_SEARCH_EXTENSION_M
 * from P0; TMSF_ERR_NOT_FOUND where the line misses the scalp.  Reads the
 * search only: calls may run concurrently (an error message goes to the
 * mesh's context).
 */
TMSF_EXPORT int tmsf_search_pose_at(const tmsf_search *search, double u_m, double v_m,
                                    double angle_deg, double head_from_coil_m[16]);

/**
 * The clearance of any pose: the smallest signed distance d (metres, > 0
 * outside the head) of the search's test points placed with
 * head_from_coil_m.  Exact when below margin_m + 2 mm; larger values are
 * lower bounds (the points are then far from the scalp).  *valid = 1 when
 * the pose passes the collision test (clearance >= margin_m - 1 nm).
 * Either output may be NULL; with clearance_m NULL only the verdict is
 * computed, by the (faster) test of tmsf_search_create.  Reads the search (and fills an internal cache
 * of distances safely): calls may run concurrently.
 */
TMSF_EXPORT int tmsf_search_pose_clearance(const tmsf_search *search,
                                           const double head_from_coil_m[16],
                                           double *clearance_m, int *valid);

/**
 * The signed distance of points from the scalp (metres, > 0 outside the
 * head), exact (nearest scalp point and pseudo-normal, as above).
 */
TMSF_EXPORT int tmsf_search_signed_distance(const tmsf_search *search, int64_t num_points,
                                            const double *points_m, double *distance_m);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_SEARCH_H */

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * surface.h: tissue boundary surfaces of a head mesh (scalp, grey-matter
 * outer "pial-like" boundary, white-matter boundary) and sampling of a field
 * at a relative cortical depth between the pial and white surfaces
 * (layer-resolved fields).
 *
 * A surface holds its own vertices (copied from the mesh, metres), triangles
 * (0-based into the surface's vertices), the mesh node of each vertex,
 * per-triangle unit normals and smoothed per-vertex unit normals (the
 * area-weighted mean of the adjacent triangle normals), all oriented outward
 * from the tissue (surface tag - 1000): the pial surface 1002 points from
 * grey matter to CSF, the white surface 1001 from white to grey matter.  A
 * surface borrows its mesh, which must outlive it.
 */
#ifndef TMSFIELD_SURFACE_H
#define TMSFIELD_SURFACE_H

#include <tmsfield/common.h>
#include <tmsfield/field.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque surface. */
typedef struct tmsf_surface tmsf_surface;

/** Surface tags (SimNIBS: volume tag + 1000). */
#define TMSF_SURFACE_WHITE 1001 /**< white-matter boundary (grey/white interface) */
#define TMSF_SURFACE_PIAL 1002  /**< grey-matter outer boundary (grey matter / CSF) */
#define TMSF_SURFACE_SCALP 1005 /**< outer scalp */

/**
 * The surface of triangle tag surface_tag (> 1000).  When the mesh has
 * triangles with that tag they are used; otherwise the surface is derived
 * from the tetrahedra as the outer boundary of the tissues with tags
 * 1 .. surface_tag - 1000 (the SimNIBS tissues are nested inside out: 1 WM,
 * 2 GM, 3 CSF, 4 bone, 5 scalp), i.e. the faces of a tetrahedron of tag
 * surface_tag - 1000 whose neighbour has a larger tag or is missing.  So 1002
 * derived is the GM/CSF boundary, 1001 the WM/GM boundary.  Fails with
 * TMSF_ERR_NOT_FOUND naming the tags the mesh has when neither gives a
 * triangle.  Triangles without an adjacent tetrahedron keep their file
 * orientation.  Errors go to the mesh's context.
 */
TMSF_EXPORT int tmsf_surface_create(const tmsf_mesh *mesh, int32_t surface_tag,
                                    tmsf_surface **surface);

/** Destroy (accepts NULL; sets *surface = NULL). */
TMSF_EXPORT int tmsf_surface_destroy(tmsf_surface **surface);

/** The mesh the surface was taken from (borrowed) and its tag. */
TMSF_EXPORT const tmsf_mesh *tmsf_surface_get_mesh(const tmsf_surface *surface);
TMSF_EXPORT int tmsf_surface_get_tag(const tmsf_surface *surface, int32_t *surface_tag);

/** Counts; either pointer may be NULL. */
TMSF_EXPORT int tmsf_surface_get_sizes(const tmsf_surface *surface, int64_t *num_vertices,
                                       int64_t *num_triangles);

/** Borrow vertices (3 per vertex, m), triangles (3 per triangle, 0-based into
 * the vertices) and the mesh node index of each vertex (increasing). */
TMSF_EXPORT int tmsf_surface_get_vertices(const tmsf_surface *surface, const double **vertices_m);
TMSF_EXPORT int tmsf_surface_get_triangles(const tmsf_surface *surface, const int32_t **triangles);
TMSF_EXPORT int tmsf_surface_get_mesh_nodes(const tmsf_surface *surface, const int32_t **nodes);

/** Borrow the unit normals: per vertex (smoothed, 3 per vertex) and per
 * triangle (3 per triangle), oriented as described above. */
TMSF_EXPORT int tmsf_surface_get_vertex_normals(const tmsf_surface *surface, const double **normals);
TMSF_EXPORT int tmsf_surface_get_triangle_normals(const tmsf_surface *surface,
                                                  const double **normals);

/** Total area, m^2. */
TMSF_EXPORT int tmsf_surface_get_area(const tmsf_surface *surface, double *area_m2);

/**
 * The exact nearest point of the surface (on a triangle, an edge or a
 * vertex) for each of num_points points (metres), found through a uniform
 * grid of the triangles.  closest_m (3 per point), triangle (index of the
 * triangle holding the nearest point) and distance_m may each be NULL.
 */
TMSF_EXPORT int tmsf_surface_nearest(const tmsf_surface *surface, int64_t num_points,
                                     const double *points_m, double *closest_m, int64_t *triangle,
                                     double *distance_m);

/**
 * The field at a relative cortical depth: for every vertex p of the pial
 * surface, the nearest point w of the white surface (tmsf_surface_nearest),
 * and the point x = p + depth (w - p) (depth 0: pial, 1: white; in [0, 1]),
 * where E is sampled with tmsf_field_sample in the given mode.  So that the
 * ends sample the grey matter and not the CSF or white matter on the other
 * side of the interface, x is taken 0.1 % of |w - p| inside [p, w] at depth
 * 0 and 1 (x = p + (0.001 + 0.998 depth)(w - p)); the point actually used is
 * returned.  Outputs (any may be NULL except E): points_m (3 per pial
 * vertex), E_V_per_m (3 per pial vertex; NaN when x lies outside the mesh),
 * thickness_m (|w - p| per pial vertex).  The surfaces must come from the
 * field's mesh.
 */
TMSF_EXPORT int tmsf_surface_sample_depth(tmsf_field *field, const tmsf_surface *pial,
                                          const tmsf_surface *white, double depth,
                                          tmsf_sample_mode mode, double *points_m,
                                          double *E_V_per_m, double *thickness_m);

#ifdef __cplusplus
}
#endif

#endif /* TMSFIELD_SURFACE_H */

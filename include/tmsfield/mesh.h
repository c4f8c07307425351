/*
 * SPDX-License-Identifier: BSD-3-Clause
 * mesh.h: tetrahedral head meshes — reading, creating, tags, conductivities.
 *
 * A mesh holds nodes (metres), tetrahedra and surface triangles with integer
 * tags.  Tags follow SimNIBS: volumes 1 WM, 2 GM, 3 CSF, 4 bone, 5 scalp,
 * 6 eyes, 7 compact bone, 8 spongy bone, 9 blood, 10 muscle; surfaces are the
 * volume tag + 1000 (1005 is the outer scalp).  Connectivity is 0-based.
 */
#ifndef TMSFIELD_MESH_H
#define TMSFIELD_MESH_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Read a Gmsh mesh: format 2.2 or 4.1, ASCII or binary (little or big
 * endian), detected from the file.  Coordinates are millimetres in the file
 * and metres in the mesh.  Tetrahedra (type 4) and triangles (type 2) are
 * kept with their tag (the physical tag; for 4.1 the entity's first physical
 * tag, or the entity tag when it has none); points, lines and unknown
 * sections are skipped.  Nodes, tetrahedra and triangles are numbered in
 * increasing order of their file ids (not file order), so one mesh saved as
 * 2.2 or 4.1 reads identically, and read, tmsf_mesh_write, read gives
 * bitwise the same mesh.  The mesh is validated: finite coordinates, node
 * references in range, no repeated node ids, no inverted (negative volume in
 * Gmsh's node order) or degenerate (volume below 1e-8 times the cube of the
 * longest edge) tetrahedra.  Errors name the file, the section, the line
 * (ASCII) or byte offset (binary), the record and what was expected.
 * Default conductivities (SimNIBS) are attached for tags 1..10.
 */
TMSF_EXPORT int tmsf_mesh_read(tmsf_context *ctx, const char *path, tmsf_mesh **mesh);

/**
 * Create a mesh from arrays (copied).  nodes_m: 3*num_nodes coordinates in
 * metres; tets: 4*num_tets 0-based node indices; tet_tags: num_tets tags
 * (NULL: all 1); tris / tri_tags may be NULL when num_tris is 0.
 * Inverted (negatively oriented) and degenerate tetrahedra are rejected as in
 * tmsf_mesh_read, naming the element index.
 */
TMSF_EXPORT int tmsf_mesh_create(tmsf_context *ctx, int64_t num_nodes, const double *nodes_m,
                                 int64_t num_tets, const int32_t *tets, const int32_t *tet_tags,
                                 int64_t num_tris, const int32_t *tris, const int32_t *tri_tags,
                                 tmsf_mesh **mesh);

/** Destroy a mesh (accepts NULL; sets *mesh = NULL).  Simulations and fields
 * made from the mesh borrow it and must be destroyed first. */
TMSF_EXPORT int tmsf_mesh_destroy(tmsf_mesh **mesh);

/** The context the mesh was created in. */
TMSF_EXPORT tmsf_context *tmsf_mesh_get_context(const tmsf_mesh *mesh);

/** Counts; any output pointer may be NULL. */
TMSF_EXPORT int tmsf_mesh_get_sizes(const tmsf_mesh *mesh, int64_t *num_nodes, int64_t *num_tets,
                                    int64_t *num_tris);

/** Borrow the node coordinates (3*num_nodes, metres). */
TMSF_EXPORT int tmsf_mesh_get_nodes(const tmsf_mesh *mesh, const double **nodes_m);

/** Borrow tetrahedra (4 per element, 0-based, positively oriented) and tags. */
TMSF_EXPORT int tmsf_mesh_get_tetrahedra(const tmsf_mesh *mesh, const int32_t **tets,
                                         const int32_t **tags);

/** Borrow triangles (3 per element, 0-based) and tags; NULL when there are none. */
TMSF_EXPORT int tmsf_mesh_get_triangles(const tmsf_mesh *mesh, const int32_t **tris,
                                        const int32_t **tags);

/** Distinct tetrahedron tags in increasing order (borrowed). */
TMSF_EXPORT int tmsf_mesh_get_tags(const tmsf_mesh *mesh, int *num_tags, const int32_t **tags);

/** Volume of every tetrahedron in m^3, copied into vol_m3 (num_tets). */
TMSF_EXPORT int tmsf_mesh_get_volumes(const tmsf_mesh *mesh, double *vol_m3);

/** Axis-aligned bounding box (min xyz, max xyz) in metres. */
TMSF_EXPORT int tmsf_mesh_get_bounds(const tmsf_mesh *mesh, double min_m[3], double max_m[3]);

/** Mean edge length of the tetrahedra in metres (each edge counted once). */
TMSF_EXPORT int tmsf_mesh_get_mean_edge(const tmsf_mesh *mesh, double *edge_m);

/**
 * SimNIBS default conductivity of a tissue tag in S/m (tags 1..10, and the
 * same values for surface tags tag+1000).  TMSF_ERR_NOT_FOUND for other tags.
 */
TMSF_EXPORT int tmsf_conductivity_default(int32_t tag, double *sigma_S_per_m);

/** Set (override) the conductivity of a volume tag; sigma must be finite and > 0. */
TMSF_EXPORT int tmsf_mesh_set_conductivity(tmsf_mesh *mesh, int32_t tag, double sigma_S_per_m);

/** Conductivity in use for a tag: an override, else the default;
 * TMSF_ERR_NOT_FOUND when the tag has neither. */
TMSF_EXPORT int tmsf_mesh_get_conductivity(const tmsf_mesh *mesh, int32_t tag,
                                           double *sigma_S_per_m);

/**
 * Write the mesh as Gmsh 2.2 binary (millimetres).  With a field, element
 * data blocks named as SimNIBS names them are appended: "E", "magnE", "J",
 * "magnJ" (triangles get the value of the adjacent tetrahedron of their
 * tissue).  The file is written to a temporary name and renamed, so an
 * existing file is never left half-written.
 */
TMSF_EXPORT int tmsf_mesh_write(const tmsf_mesh *mesh, const tmsf_field *field, const char *path);

/**
 * Outer scalp surface used for coil placement: triangles tagged 1005 when the
 * mesh has them, otherwise the outer boundary of the tetrahedra.  Returns the
 * surface nodes (indices into the mesh) and their smoothed outward unit normals
 * (area-weighted average of the adjacent triangle normals), both borrowed.
 */
TMSF_EXPORT int tmsf_mesh_get_scalp(const tmsf_mesh *mesh, int64_t *num_nodes,
                                    const int32_t **nodes, const double **normals);

/**
 * Locate points: tet_index[i] receives the tetrahedron containing point i, or
 * -1 when the point lies outside the mesh (tolerance 1e-9 relative in
 * barycentric coordinates).  Builds a spatial index on first use.
 */
TMSF_EXPORT int tmsf_mesh_locate(const tmsf_mesh *mesh, int64_t num_points, const double *points_m,
                                 int64_t *tet_index);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_MESH_H */

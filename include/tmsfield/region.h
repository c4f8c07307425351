/*
 * SPDX-License-Identifier: BSD-3-Clause
 * region.h: target regions — sets of tetrahedra of a mesh on which a field
 * metric is evaluated (dose.h).
 *
 * A region is either the tetrahedra of given tissue tags whose centroid lies
 * within a radius of a point (grey matter, tag 2, by default), or an explicit
 * list of tetrahedra.  Regions never are empty: creation fails instead.  A
 * region borrows its mesh, which must outlive it.
 */
#ifndef TMSFIELD_REGION_H
#define TMSFIELD_REGION_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most tissue tags a region records (tmsf_region_create_sphere takes up to this many). */
#define TMSF_REGION_MAX_TAGS 32

/** Surface tag of the grey-matter surface (SimNIBS: volume tag 2 + 1000), the
 * default of the cortical-normal metric. */
#define TMSF_SURFACE_GM 1002

/** How a region was made. */
typedef enum tmsf_region_kind {
  TMSF_REGION_SPHERE = 0,   /**< tetrahedra of some tags with their centroid in a ball */
  TMSF_REGION_ELEMENTS = 1, /**< an explicit list of tetrahedra */
} tmsf_region_kind;

/**
 * The tetrahedra whose tag is one of tags[0..num_tags-1] (num_tags 0 and tags
 * NULL: grey matter, tag 2) and whose centroid lies within radius_m of
 * centre_m (head frame, metres; distance <= radius).  radius_m must be finite
 * and > 0.  An empty selection fails with TMSF_ERR_NOT_FOUND and a message
 * naming the centre, radius and tags and either the distance to the nearest
 * centroid of those tags or the tags the mesh has.  Errors go to the mesh's
 * context.  *region is new, owned by the caller.
 */
TMSF_EXPORT int tmsf_region_create_sphere(const tmsf_mesh *mesh, const double centre_m[3],
                                          double radius_m, int num_tags, const int32_t *tags,
                                          tmsf_region **region);

/**
 * A region from an explicit list of tetrahedron indices (0-based, copied and
 * sorted).  An empty list, an index out of range or a repeated index fails
 * with TMSF_ERR_ARGUMENT naming it.  The region's centre is the
 * volume-weighted centroid of its tetrahedra and its radius the largest
 * distance of a centroid from it; its tags are those of its tetrahedra (up to
 * TMSF_REGION_MAX_TAGS distinct tags).
 */
TMSF_EXPORT int tmsf_region_create_elements(const tmsf_mesh *mesh, int64_t num_elements,
                                            const int64_t *elements, tmsf_region **region);

/** Destroy (accepts NULL; sets *region = NULL). */
TMSF_EXPORT int tmsf_region_destroy(tmsf_region **region);

/** The mesh the region selects from (borrowed). */
TMSF_EXPORT const tmsf_mesh *tmsf_region_get_mesh(const tmsf_region *region);

TMSF_EXPORT int tmsf_region_get_kind(const tmsf_region *region, tmsf_region_kind *kind);

/** Centre (m) and radius (m) as given (sphere) or derived (element list). */
TMSF_EXPORT int tmsf_region_get_sphere(const tmsf_region *region, double centre_m[3],
                                       double *radius_m);

/** Tissue tags, increasing (borrowed): those asked for (sphere) or present (list). */
TMSF_EXPORT int tmsf_region_get_tags(const tmsf_region *region, int *num_tags,
                                     const int32_t **tags);

/** The tetrahedra of the region, increasing mesh indices (borrowed). */
TMSF_EXPORT int tmsf_region_get_elements(const tmsf_region *region, int64_t *num_elements,
                                         const int64_t **elements);

/** Total volume of the region's tetrahedra, m^3. */
TMSF_EXPORT int tmsf_region_get_volume(const tmsf_region *region, double *volume_m3);

/**
 * The local surface normal at each tetrahedron of the region (3 per element,
 * unit vectors, in the order of tmsf_region_get_elements; borrowed until the
 * next call with another surface tag or destroy): the normal of the triangle
 * tagged surface_tag (0: TMSF_SURFACE_GM) nearest to the tetrahedron's
 * centroid (exact point-triangle distance), oriented outward from the tissue
 * surface_tag - 1000 (away from the adjacent tetrahedron of that tissue;
 * towards the adjacent one when the tissue is on neither side).  So on the
 * grey-matter surface 1002 it points from the cortex towards the CSF.  Fails
 * with TMSF_ERR_NOT_FOUND naming the triangle tags the mesh has when it has
 * none with surface_tag.  Computed on first use and cached in the region
 * (not thread-safe on one region).
 */
TMSF_EXPORT int tmsf_region_get_normals(tmsf_region *region, int32_t surface_tag,
                                        const double **normals);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_REGION_H */

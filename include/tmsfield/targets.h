/*
 * SPDX-License-Identifier: BSD-3-Clause
 * targets.h: named stimulation targets in MNI space (millimetres), the
 * mapping from MNI to a head's frame, and the projection of a target onto
 * the grey matter of a head mesh.
 *
 * The table (docs/targets.md has the sources) holds the left and right M1
 * hand knob, the DLPFC of the 5-cm rule, Beam F3, BA9, BA46, the Fox et al.
 * 2012 connectivity target and operculo-insular pain targets.  Names are
 * matched ignoring case; '-', '_' and ' ' are taken as equal.
 *
 * MNI-to-head mapping: head_mm = A [mni_mm; 1] with A a 4x4 row-major affine
 * in millimetres (NULL: the identity, for heads in MNI space such as the
 * built-in Colin27 head).  Head coordinates in metres are head_mm / 1000.
 */
#ifndef TMSFIELD_TARGETS_H
#define TMSFIELD_TARGETS_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One named target.  Strings are static, never NULL. */
typedef struct tmsf_target_info {
  const char *name;        /**< e.g. "M1", "DLPFC", "F3" */
  const char *description; /**< e.g. "left primary motor cortex, hand knob" */
  double mni_mm[3];        /**< MNI coordinates, mm */
  const char *citation;    /**< where the coordinates come from */
} tmsf_target_info;

/** Number of targets in the table. */
TMSF_EXPORT int tmsf_target_get_num(int *num_targets);

/** Target index (0 .. num - 1). */
TMSF_EXPORT int tmsf_target_get_info(int index, tmsf_target_info *info);

/**
 * Index of the target with this name (ignoring case; '-', '_', ' ' equal;
 * aliases such as "M1-left", "M1_L", "M1-R", "5cm" are accepted).
 * TMSF_ERR_NOT_FOUND with a message listing the names when there is none.
 */
TMSF_EXPORT int tmsf_target_find(tmsf_context *ctx, const char *name, int *index);

/** Map MNI mm to head metres through head_from_mni_mm (row-major 4x4, mm;
 * NULL: identity).  The last row must be 0 0 0 1 (TMSF_ERR_ARGUMENT). */
TMSF_EXPORT int tmsf_target_mni_to_head(const double head_from_mni_mm[16], const double mni_mm[3],
                                        double head_m[3]);

/**
 * The sform (or, when the sform code is 0, the qform) of a NIfTI-1/2 file as
 * a row-major 4x4 affine in millimetres: voxel indices to the image's world
 * frame.  E.g. an MNI-to-head affine saved as an image's sform by a
 * registration tool, or (composed by the caller) a label volume's voxel
 * frame.  TMSF_ERR_FORMAT when the file sets neither, or its matrix is not
 * finite.
 */
TMSF_EXPORT int tmsf_nifti_get_affine(tmsf_context *ctx, const char *path, double affine_mm[16]);

/**
 * Project a point (head frame, m) onto the grey matter: the nearest point of
 * the grey-matter volume (the union of the tetrahedra of tag gm_tag; 0: 2),
 * exactly, not the nearest element centroid: the point itself when a
 * tetrahedron of that tag contains it, else the nearest point of the
 * tissue's boundary faces.  projected_m, distance_m (0 inside) and tet (a
 * tetrahedron of the tissue holding the projected point) may be NULL.
 * TMSF_ERR_NOT_FOUND when the mesh has no tetrahedra of that tag.  Errors go
 * to the mesh's context.
 */
TMSF_EXPORT int tmsf_target_project(const tmsf_mesh *mesh, const double point_m[3], int32_t gm_tag,
                                    double projected_m[3], double *distance_m, int64_t *tet);

/**
 * The target region of a point: the grey matter (tag 2) whose element
 * centroids lie within radius_m of the point projected onto the grey matter
 * (tmsf_target_project, tmsf_region_create_sphere).  projected_m may be
 * NULL.  *region is new, owned by the caller.
 */
TMSF_EXPORT int tmsf_target_region(const tmsf_mesh *mesh, const double point_m[3], double radius_m,
                                   double projected_m[3], tmsf_region **region);

#ifdef __cplusplus
}
#endif

#endif /* TMSFIELD_TARGETS_H */

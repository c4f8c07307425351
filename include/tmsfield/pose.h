/*
 * SPDX-License-Identifier: BSD-3-Clause
 * pose.h: coil poses.
 *
 * A pose is the 4x4 head-from-coil matrix, row-major, whose first three
 * columns are the coil's x, y and z axes in head coordinates and whose last
 * column is the coil centre: SimNIBS's "matsimnibs".  In the C API the
 * translation is in metres (head_from_coil_m[3], [7], [11]); SimNIBS and the
 * command-line tool write it in millimetres (tmsf_pose_to_mm converts).
 * z points into the head; the handle runs along -y.
 */
#ifndef TMSFIELD_POSE_H
#define TMSFIELD_POSE_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Tolerance on |R^T R - I| (max entry) and |det R - 1| for a valid pose. */
#define TMSF_POSE_TOLERANCE 1e-6

/**
 * Check that a pose is a proper rigid motion: every entry finite, bottom row
 * (0 0 0 1), R^T R = I and det R = +1 within TMSF_POSE_TOLERANCE.  A shear,
 * a scaling or a reflection is rejected with TMSF_ERR_POSE and a message
 * saying which test failed and by how much.
 */
TMSF_EXPORT int tmsf_pose_check(tmsf_context *ctx, const double head_from_coil_m[16]);

/**
 * Pose from a centre, a y direction and a coil-to-scalp distance, with
 * SimNIBS semantics: the centre is snapped to the nearest scalp node
 * (tmsf_mesh_get_scalp), z is minus that node's smoothed outward normal, y is
 * ydir made orthogonal to z, x = y cross z, and the coil centre is moved out
 * along the normal by distance_m.  ydir is a direction (SimNIBS's pos_ydir is a
 * point: pass pos_ydir - centre).  Fails with TMSF_ERR_POSE when ydir is
 * (nearly) parallel to the normal or zero.
 */
TMSF_EXPORT int tmsf_pose_from_centre(const tmsf_mesh *mesh, const double centre_m[3],
                                      const double ydir[3], double distance_m,
                                      double head_from_coil_m[16]);

/**
 * Read one pose from a file: a placement report (JSON whose "pose" is 4 rows
 * of 4 numbers in millimetres, as `tmsfield place` writes), a Localite
 * InstrumentMarker .xml or a Brainsight target export (their first pose;
 * navigator.h), or a text file of 16 numbers in millimetres, row-major,
 * separated by white space or commas ('#' starts a comment).  The pose must
 * pass tmsf_pose_check.  Errors name the file and the line, row or column.
 */
TMSF_EXPORT int tmsf_pose_read(tmsf_context *ctx, const char *path, double head_from_coil_m[16]);

/** Convert between the API's metres and SimNIBS's millimetres (translation only). */
TMSF_EXPORT void tmsf_pose_to_mm(const double head_from_coil_m[16], double head_from_coil_mm[16]);
TMSF_EXPORT void tmsf_pose_from_mm(const double head_from_coil_mm[16],
                                   double head_from_coil_m[16]);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_POSE_H */

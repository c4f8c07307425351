/*
 * SPDX-License-Identifier: BSD-3-Clause
 * navigator.h: coil poses to and from neuronavigation systems.
 *
 * Two file formats, each holding one or more coil poses:
 *
 *   - Localite TMS Navigator "InstrumentMarker" XML: an <InstrumentMarkerList
 *     coordinateSpace="RAS|LPS"> of <InstrumentMarker><Marker description=...>
 *     <Matrix4D data00=... data33=.../> elements;
 *   - Brainsight target export (.txt, tab-separated): "# Coordinate system:"
 *     header line, a "# Target Name" table (and, in files Brainsight writes, a
 *     "# Sample Name" table) with Loc. X/Y/Z in mm and the coil axes m0n0..m2n2.
 *
 * Poses in the API are SimNIBS "matsimnibs" head-from-coil matrices as in
 * pose.h: 4x4, row-major, columns the coil's x, y, z axes (z into the head,
 * handle along -y) and centre, the centre in METRES.  The files hold
 * millimetres and their own coil-axis conventions; the conversions are those
 * of SimNIBS (simnibs/utils/nnav.py, classes localite and brainsight), spelled
 * out in docs/navigator.md:
 *
 *   Localite:   head_from_coil = W * L * F,   F = [e_z, -e_y, e_x] (coil x and
 *               z swapped, y negated), W = I for "RAS", diag(-1, -1, 1) for "LPS"
 *               (applied to the axes and the centre);
 *   Brainsight: head_from_coil = B * diag(-1, 1, -1), where B's column i is
 *               (m<i>n0, m<i>n1, m<i>n2) (coil x and z negated).
 *
 * The head frame is the world frame of the image the navigator was set up with
 * (Localite RAS, or its LPS mirror; Brainsight "NIfTI:Aligned" or
 * "NIfTI:Scanner"): it must be the frame of the head mesh, i.e. the navigator
 * must use the T1 image the head model was built from.  Frames that need the
 * image to convert (Brainsight's own "Brainsight" voxel-corner frame, "World"
 * for DICOM projects, MNI-152, Talairach) are refused.
 *
 * Navigator matrices are not orthonormal to machine precision (Brainsight
 * prints 3 decimals; the Localite files seen are orthonormal to 7e-5), so the
 * readers accept a rotation within TMSF_NNAV_RIGID_TOLERANCE of orthonormal and
 * return the nearest rotation (polar decomposition), which then passes
 * tmsf_pose_check.  The writers print every digit: write then read gives the
 * pose back to rounding (4.4e-16 measured, max abs entry).
 *
 * Thread safety: the functions may run concurrently on different contexts.
 */
#ifndef TMSFIELD_NAVIGATOR_H
#define TMSFIELD_NAVIGATOR_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Coordinate frames named in navigator files. */
typedef enum tmsf_nnav_space {
  TMSF_NNAV_SPACE_RAS = 0,           /**< Localite coordinateSpace="RAS": the head frame itself */
  TMSF_NNAV_SPACE_LPS = 1,           /**< Localite "LPS": x and y of the head frame negated */
  TMSF_NNAV_SPACE_NIFTI_ALIGNED = 2, /**< Brainsight "NIfTI:Aligned" (what SimNIBS writes) */
  TMSF_NNAV_SPACE_NIFTI_SCANNER = 3  /**< Brainsight "NIfTI:Scanner" */
} tmsf_nnav_space;

/** The table of a Brainsight export to read. */
typedef enum tmsf_nnav_table {
  TMSF_NNAV_TARGETS = 0, /**< "# Target Name": planned poses (what the writer writes) */
  TMSF_NNAV_SAMPLES = 1  /**< "# Sample Name": poses recorded during a session */
} tmsf_nnav_table;

/**
 * Largest entry of |R^T R - I| a reader accepts before projecting R onto the
 * nearest rotation.  Three printed decimals give up to about 2e-3; a shear or
 * scaling beyond this is refused with TMSF_ERR_POSE.
 */
#define TMSF_NNAV_RIGID_TOLERANCE 1e-2

/**
 * Write num_poses (>= 0) poses as a Localite InstrumentMarker XML file.
 * head_from_coil_m holds 16 * num_poses doubles (pose i at 16 * i, row-major,
 * metres); each must pass tmsf_pose_check and have its centre coordinates
 * within +-1e6 m (TMSF_ERR_POSE naming the pose).
 * names: num_poses UTF-8 strings, or NULL for "Pose 1", "Pose 2", ...; names
 * may not hold control characters (TMSF_ERR_ARGUMENT).  space:
 * TMSF_NNAV_SPACE_RAS (for a NIfTI T1) or TMSF_NNAV_SPACE_LPS (for a DICOM
 * T1).  The file is written to a temporary name beside path and renamed into
 * place, so a reader never sees half a file.
 */
TMSF_EXPORT int tmsf_nnav_write_localite(tmsf_context *ctx, const char *path, int num_poses,
                                         const double *head_from_coil_m, const char *const *names,
                                         tmsf_nnav_space space);

/**
 * Read the markers of a Localite InstrumentMarker XML file (coordinateSpace
 * RAS or LPS).  On success *num_poses (>= 0) poses, *head_from_coil_m (16 per
 * pose, metres) and *names (the markers' descriptions, "" when absent) are new
 * arrays that the caller releases with tmsf_nnav_free; names and space may be
 * NULL when not wanted.  Errors: TMSF_ERR_IO (cannot read), TMSF_ERR_FORMAT
 * (not well-formed XML, a missing element or attribute, a bad number, with the
 * file, line and marker), TMSF_ERR_UNSUPPORTED (another root element such as a
 * TriggerMarkerList, another coordinateSpace), TMSF_ERR_POSE (a matrix that
 * is not a rigid motion within TMSF_NNAV_RIGID_TOLERANCE, a centre beyond
 * +-1e6 m); the outputs are then 0 / NULL.
 */
TMSF_EXPORT int tmsf_nnav_read_localite(tmsf_context *ctx, const char *path, int *num_poses,
                                        double **head_from_coil_m, char ***names,
                                        tmsf_nnav_space *space);

/**
 * Write num_poses (>= 0) poses as a Brainsight target file ("# Target Name"
 * table, tab-separated, mm).  Arguments as tmsf_nnav_write_localite; names may
 * not hold tabs or other control characters nor start with '#'.  space:
 * TMSF_NNAV_SPACE_NIFTI_ALIGNED (as SimNIBS writes) or
 * TMSF_NNAV_SPACE_NIFTI_SCANNER, written as the "# Coordinate system:" line;
 * import the file into a Brainsight project made from the head's T1 image.
 * Atomic like tmsf_nnav_write_localite.
 */
TMSF_EXPORT int tmsf_nnav_write_brainsight(tmsf_context *ctx, const char *path, int num_poses,
                                           const double *head_from_coil_m, const char *const *names,
                                           tmsf_nnav_space space);

/**
 * Read one table (targets or samples) of a Brainsight export whose coordinate
 * system is NIfTI:Aligned or NIfTI:Scanner.  Columns are found by their
 * header names (Loc. X, Loc. Y, Loc. Z, m0n0 ... m2n2), so the wider sample
 * table reads too.  A file without the requested table, or with the table
 * but no rows, gives *num_poses = 0.  Outputs and their ownership as
 * tmsf_nnav_read_localite; names are the first column.  Errors:
 * TMSF_ERR_IO, TMSF_ERR_FORMAT (no coordinate-system line, no table at all, a
 * missing column, a short row, a bad number, with the file, line and column),
 * TMSF_ERR_UNSUPPORTED (another coordinate system), TMSF_ERR_POSE.
 */
TMSF_EXPORT int tmsf_nnav_read_brainsight(tmsf_context *ctx, const char *path,
                                          tmsf_nnav_table table, int *num_poses,
                                          double **head_from_coil_m, char ***names,
                                          tmsf_nnav_space *space);

/**
 * Release what a reader returned and clear the pointers.  Any of the pointers
 * may be NULL or point to NULL; num_poses is the count the reader returned.
 */
TMSF_EXPORT int tmsf_nnav_free(int num_poses, double **head_from_coil_m, char ***names);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_NAVIGATOR_H */

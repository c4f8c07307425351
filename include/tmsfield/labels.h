/*
 * SPDX-License-Identifier: BSD-3-Clause
 * labels.h: label volumes (segmented head images) and their mapping to
 * SimNIBS tissue tags.
 *
 * A label volume is a 3-D integer image (x fastest) with a voxel-index to
 * millimetre affine.  Image labels are mapped to tissue tags by a preset or a
 * user table before meshing: 1 WM, 2 GM, 3 CSF, 4 bone, 5 scalp, 6 eye balls,
 * 7 compact bone, 8 spongy bone, 9 blood, 10 muscle; 0 is not meshed.
 *
 * Presets (names are case-insensitive):
 *   "simnibs", "charm": identity for 1..10 (SimNIBS headreco / charm
 *       final_tissues labels).
 *   "colin27": Colin27 v3 (fangq/mcx): 1 scalp->5, 2 skull->4, 3 CSF->3,
 *       4 GM->2, 5 WM->1, 6 air->0.
 *   "brainweb": BrainWeb classes: 1 CSF->3, 2 GM->2, 3 WM->1, 4 fat->5,
 *       5 muscle->5, 6 muscle/skin->5, 7 skull->4, 8 vessels->3, 9 around
 *       fat->5, 10 glial matter->1, 11 dura->3 (all extracranial soft tissue
 *       is scalp and vessels are CSF, as thin layers and tubes that 2-4 mm
 *       elements cannot resolve; see labels.c; a table keeps muscle/blood).
 *   "roast", "newyork": 1 WM->1, 2 GM->2, 3 CSF->3, 4 bone->4, 5 skin->5,
 *       6 air->0.
 * A table string "FROM=TO,FROM=TO,..." (e.g. "1=5,2=4,7=0") is a user table.
 * Label 0 always maps to 0.  A label present in the image with no mapping is
 * an error that names the label value and its voxel count.
 */
#ifndef TMSFIELD_LABELS_H
#define TMSFIELD_LABELS_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmsf_labels tmsf_labels;

/** Largest tissue tag a mapping may produce. */
#define TMSF_LABELS_MAX_TAG 255

/**
 * Read a NIfTI-1/NIfTI-2 label volume (.nii or .nii.gz) with niftilib.
 * Accepted datatypes: uint8, int8, int16, uint16, int32, uint32, int64,
 * uint64, and float32/float64 when every value is an integer; values must
 * lie in [0, 2^31).  The image must be 3-D (a 4-D image with one volume is
 * accepted).  The index->mm affine is the sform when sform_code > 0, else the
 * qform when qform_code > 0, else the diagonal of pixdim; a non-finite or
 * singular affine, an image with no non-zero label and a truncated file are
 * errors naming the file and what was expected.
 */
TMSF_EXPORT int tmsf_labels_read(tmsf_context *ctx, const char *path, tmsf_labels **labels);

/**
 * Create a label volume from memory (copied): dims[3] voxels, data x fastest
 * (dims[0]*dims[1]*dims[2] values >= 0), affine_mm row-major 4x4 from voxel
 * index (i, j, k, 1) to millimetres (last row 0 0 0 1).
 */
TMSF_EXPORT int tmsf_labels_create(tmsf_context *ctx, const int64_t dims[3], const int32_t *data,
                                   const double affine_mm[16], tmsf_labels **labels);

/** Destroy (accepts NULL; sets *labels = NULL). */
TMSF_EXPORT int tmsf_labels_destroy(tmsf_labels **labels);

/** The context the volume was created in. */
TMSF_EXPORT tmsf_context *tmsf_labels_get_context(const tmsf_labels *labels);

/** Voxel counts along i, j, k. */
TMSF_EXPORT int tmsf_labels_get_dims(const tmsf_labels *labels, int64_t dims[3]);

/** The voxel-index to millimetre affine, row-major 4x4. */
TMSF_EXPORT int tmsf_labels_get_affine(const tmsf_labels *labels, double affine_mm[16]);

/** Borrow the labels (x fastest, dims[0]*dims[1]*dims[2] values). */
TMSF_EXPORT int tmsf_labels_get_data(const tmsf_labels *labels, const int32_t **data);

/** Volume of one voxel in mm^3 (|det| of the affine's 3x3 part). */
TMSF_EXPORT int tmsf_labels_get_voxel_volume(const tmsf_labels *labels, double *vol_mm3);

/**
 * Attach a user table: image label from[i] becomes tissue tag to[i]
 * (0 <= to[i] <= TMSF_LABELS_MAX_TAG; 0 = not meshed).  The table is used
 * when a preset argument is NULL or "user".  n = 0 removes the table.
 */
TMSF_EXPORT int tmsf_labels_map(tmsf_labels *labels, int n, const int32_t *from, const int32_t *to);

/**
 * Tissue tag of every voxel under a preset (see above), a "FROM=TO,..."
 * table, or NULL/"user" for the attached table (NULL without a table:
 * "simnibs").  tags receives nvox values (caller-allocated, x fastest).
 */
TMSF_EXPORT int tmsf_labels_tissues(const tmsf_labels *labels, const char *preset, uint8_t *tags);

/**
 * Tissue volumes in mm^3 after mapping: vol_mm3[t] for tags t = 0..max_tag
 * (caller-allocated, max_tag + 1 values; tags above max_tag are not counted).
 */
TMSF_EXPORT int tmsf_labels_tissue_volumes(const tmsf_labels *labels, const char *preset,
                                           int max_tag, double *vol_mm3);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_LABELS_H */

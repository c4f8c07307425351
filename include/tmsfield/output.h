/*
 * SPDX-License-Identifier: BSD-3-Clause
 * output.h: fields out of the library for other tools — NIfTI images on a
 * voxel grid, an HDF5 file with mesh, fields and metadata (and its reader),
 * and GIfTI surfaces with |E| for viewers.
 *
 * Every writer writes to a temporary name beside the target and renames it
 * into place only when the file is complete, so a failed call never leaves a
 * partial file (nor alters an existing one).
 */
#ifndef TMSFIELD_OUTPUT_H
#define TMSFIELD_OUTPUT_H

#include <tmsfield/common.h>
#include <tmsfield/field.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a voxel image holds. */
typedef enum tmsf_output_quantity {
  TMSF_OUTPUT_MAGNE = 0, /**< |E| in V/m: an X x Y x Z image */
  TMSF_OUTPUT_E = 1,     /**< E in V/m, head (world) axes: an X x Y x Z x 3 image,
                              component slowest */
} tmsf_output_quantity;

/* ------------------------------------------------------------------------- */
/* Voxel grids and NIfTI                                                      */
/* ------------------------------------------------------------------------- */

/**
 * Resample E onto a voxel grid.  dims: voxels along i, j, k; index_to_mm: the
 * row-major 4x4 affine from voxel indices (i, j, k, 1) to head millimetres
 * (a NIfTI sform).  Each voxel centre is located in the mesh and E evaluated
 * there with `mode` (see tmsf_field_sample; with TMSF_SAMPLE_RECOVERED the
 * patch-recovered nodal field of the voxel's tissue is interpolated).  Masking:
 * voxels outside the mesh, or in a tetrahedron whose tag is not in tags[0..num_tags)
 * (num_tags 0: every tissue), get 0.
 * out receives nx*ny*nz values (TMSF_OUTPUT_MAGNE) or 3*nx*ny*nz
 * (TMSF_OUTPUT_E; i fastest, component slowest), V/m.  Threaded over rows
 * of voxels; the result does not depend on the thread count.  (A voxel
 * centre on a face shared by two tetrahedra takes either one's value.)
 */
TMSF_EXPORT int tmsf_field_resample_grid(tmsf_field *field, tmsf_sample_mode mode,
                                         const int64_t dims[3], const double index_to_mm[16],
                                         const int32_t *tags, int num_tags,
                                         tmsf_output_quantity quantity, float *out);

/**
 * Write E as a NIfTI-1 image (float32; path ends in .nii or .nii.gz) on the
 * grid of a reference NIfTI-1 or NIfTI-2 image (a label volume, a T1, ...):
 * its dimensions, voxel sizes, units, sform and qform (codes and
 * parameters) are copied exactly, so the output overlays the reference in
 * viewers.  The voxel-to-mm map used for sampling is the reference's sform
 * when its code is set, else its qform, else the voxel sizes.  Masking and
 * modes as tmsf_field_resample_grid.  |E| is a 3-D image, E a 4-D image
 * X x Y x Z x 3 (the 4th axis the x, y, z components in the head/world frame,
 * as SimNIBS writes vector fields); the description names the quantity and
 * V/m, cal_max holds the largest magnitude of a value.  A NIfTI-2 reference
 * gives a NIfTI-2 output (its double-precision affines kept).  Cost: about
 * 1-4 s per million voxels inside the mesh's bounding box on 2 cores.
 */
TMSF_EXPORT int tmsf_field_write_nifti(tmsf_field *field, tmsf_sample_mode mode,
                                       const char *reference_path, const int32_t *tags,
                                       int num_tags, tmsf_output_quantity quantity,
                                       const char *path);

/**
 * As tmsf_field_write_nifti, on a grid given in memory: dims and the
 * row-major index-to-mm affine are stored as the sform (code
 * NIFTI_XFORM_SCANNER_ANAT) and, as far as a rotation with voxel sizes
 * represents it, the qform (same code).
 */
TMSF_EXPORT int tmsf_field_write_nifti_grid(tmsf_field *field, tmsf_sample_mode mode,
                                            const int64_t dims[3], const double index_to_mm[16],
                                            const int32_t *tags, int num_tags,
                                            tmsf_output_quantity quantity, const char *path);

/* ------------------------------------------------------------------------- */
/* HDF5                                                                       */
/* ------------------------------------------------------------------------- */

/** Metadata of a simulation as the HDF5 file stores it (docs/hdf5-layout.md). */
typedef struct tmsf_hdf5_metadata {
  char coil_name[256];          /**< "" when unknown */
  int have_pose;                /**< whether head_from_coil_m holds a pose */
  double head_from_coil_m[16];  /**< row-major 4x4, translation in metres */
  double didt_A_per_s;          /**< NAN when unknown (several sources) */
  char library_version[32];     /**< version of the library that wrote the file */
  char date[32];                /**< UTC, ISO 8601 (YYYY-MM-DDThh:mm:ssZ) */
} tmsf_hdf5_metadata;

/**
 * Write one HDF5 file with the field's mesh, the fields (E, |E|, conductivity
 * per tetrahedron, potential per node, and the patch-recovered nodal E of the
 * tissues in nodal_tags, num_nodal_tags may be 0) and metadata attributes:
 * units, the coil's name (coil may be NULL), the pose (head_from_coil_m, metres,
 * may be NULL), dI/dt, the conductivity of every tag, the library version and
 * the date.  The layout is documented in docs/hdf5-layout.md (readable with
 * h5py).  Needs a build with HDF5 (TMSF_ERR_UNSUPPORTED otherwise).
 */
TMSF_EXPORT int tmsf_field_write_hdf5(tmsf_field *field, const tmsf_coil *coil,
                                      const double head_from_coil_m[16],
                                      const int32_t *nodal_tags, int num_nodal_tags,
                                      const char *path);

/**
 * Read a file written by tmsf_field_write_hdf5: a new mesh (with the
 * conductivities of the file set on it), a new field on it and the metadata
 * (meta may be NULL).  Arrays come back bitwise as they were written.  The
 * field borrows the mesh: destroy the field first.  Errors name the file and
 * the dataset or attribute that is missing or malformed.
 */
TMSF_EXPORT int tmsf_hdf5_read(tmsf_context *ctx, const char *path, tmsf_mesh **mesh,
                               tmsf_field **field, tmsf_hdf5_metadata *meta);

/**
 * Read E back from a Gmsh file with element data (written by
 * tmsf_mesh_write, 'tmsfield simulate --out', 'place --out' (field.msh) or
 * SimNIBS): the first $ElementData named "E" (3 components; 2.2 or 4.1,
 * ASCII or binary), one value per tetrahedron of mesh, which must be the
 * mesh read from the same file (tmsf_mesh_read: tetrahedra in increasing
 * element id).  The new field borrows mesh; its conductivities are the
 * mesh's, its potential and dI/dt unknown (NaN).  Errors name the file and
 * what is missing.
 */
TMSF_EXPORT int tmsf_field_read_msh(const tmsf_mesh *mesh, const char *path, tmsf_field **field);

/* ------------------------------------------------------------------------- */
/* GIfTI                                                                      */
/* ------------------------------------------------------------------------- */

/**
 * Write the triangles of one surface tag (e.g. 1002, the grey-matter outer
 * surface) as GIfTI for viewers: PREFIX.surf.gii (vertices in head mm,
 * NIFTI_INTENT_POINTSET; triangles, NIFTI_INTENT_TRIANGLE) and
 * PREFIX.func.gii (|E| per vertex, V/m, float32).  With TMSF_SAMPLE_ELEMENT
 * the value at a vertex is the area-weighted mean, over the surface
 * triangles at the vertex, of |E| of the tetrahedron on each triangle's
 * tissue side (tag - 1000); with TMSF_SAMPLE_RECOVERED it is |E| of the
 * patch-recovered nodal field of that tissue at the vertex (smoother, but on
 * coarse meshes patch recovery extrapolates poorly at tissue boundaries:
 * on the 10.8 mm test sphere 5 % of the boundary vertices get more than 5
 * times the element value, hence ELEMENT is the CLI's default).  Vertices
 * are the surface's nodes in increasing mesh order; each triangle is
 * oriented with its normal pointing away from its tissue-side tetrahedron.
 * The GIfTI XML is written by the library (no gifticlib: see
 * lib/output-gifti.c).  TMSF_ERR_NOT_FOUND when the mesh has no triangle
 * with that tag.
 */
TMSF_EXPORT int tmsf_field_write_gifti(tmsf_field *field, tmsf_sample_mode mode,
                                       int32_t surface_tag, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_OUTPUT_H */

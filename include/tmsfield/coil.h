/*
 * SPDX-License-Identifier: BSD-3-Clause
 * coil.h: TMS coils — magnetic dipoles (.ccd, .tcd), line segments (.tcd)
 * and sampled A-field grids (NIfTI, .tcd) — and their primary field.
 *
 * A coil is a list of elements; each element is one kind of model and is
 * driven by one of the coil's stimulators (index 0, 1, ...).  Stimulators
 * have a name, a brand and a maximum dI/dt (A/s at 100 % MSO).
 *
 * Coil frame (SimNIBS): origin at the coil centre on its bottom face, z
 * pointing into the head, the handle along -y.  The primary field is given per
 * ampere of coil current and scaled by dI/dt:
 *   dipoles:   A(r) = mu0/(4 pi) sum_k m_k x (r - r_k) / |r - r_k|^3
 *   segments:  A(r) = mu0/(4 pi) sum_k dl_k / |r - r_k|
 *              (r_k the segment's midpoint, dl_k its direction times length)
 *   grid:      A(r) = trilinear interpolation of the stored samples
 * and the induced primary electric field is -dA/dt = -(dI/dt) A, summed over
 * the elements, each with the dI/dt of its stimulator.
 */
#ifndef TMSFIELD_COIL_H
#define TMSFIELD_COIL_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Arithmetic of the dipole sum (tmsf_coil_set_precision). */
typedef enum tmsf_precision {
  TMSF_PRECISION_SINGLE = 0, /**< float arithmetic, double accumulation over blocks of 256
                                  dipoles: ~3x faster; relative error of A ~1e-6 (the
                                  default: far below the FEM's discretisation error and the
                                  solver's 1e-4 field tolerance) */
  TMSF_PRECISION_DOUBLE = 1, /**< double arithmetic throughout (reference) */
} tmsf_precision;

/** Kinds of coil model. */
typedef enum tmsf_coil_kind {
  TMSF_COIL_DIPOLES = 1,  /**< magnetic dipoles (positions m, moments A m^2 per A) */
  TMSF_COIL_SEGMENTS = 2, /**< straight current segments (midpoints m, dl vectors m) */
  TMSF_COIL_GRID = 3,     /**< A per ampere (T m / A) sampled on a regular grid */
  TMSF_COIL_MIXED = 4,    /**< (coil kind only) elements of more than one kind */
} tmsf_coil_kind;

/**
 * Read a coil.  The format is chosen by content (NIfTI magic or gzip, a JSON
 * object, else text) and then by name: SimNIBS .ccd dipole text files,
 * SimNIBS 4 .tcd JSON coil definitions (dipole, line-segment and
 * sampled-grid elements, several stimulators; see lib/io-tcd.c for the
 * layout; unused keys such as casing models, limits and resolution are kept
 * as header keys holding their JSON text), or NIfTI-1/2 A-field grids (.nii,
 * .nii.gz: X x Y x Z x 3 samples of A per ampere in T m / A in the coil
 * frame, the sform/qform giving the grid in millimetres; requires a build
 * with niftilib).  For .ccd every key=value
 * of the header line is kept (tmsf_coil_get_header); dIdtmax is in A/us in the
 * file and available in A/s through tmsf_coil_get_didt_max.  Errors name the
 * file, the line and what was expected.
 */
TMSF_EXPORT int tmsf_coil_read(tmsf_context *ctx, const char *path, tmsf_coil **coil);

/** Create a dipole coil from arrays (copied): positions in metres and
 * moments in A m^2 per ampere, 3 per dipole, in the coil frame. */
TMSF_EXPORT int tmsf_coil_create_dipoles(tmsf_context *ctx, int64_t num_dipoles,
                                         const double *positions_m, const double *moments_A_m2,
                                         tmsf_coil **coil);

/**
 * Create a grid coil from samples (copied).  dims: nx, ny, nz; A_T_m_per_A:
 * 3*nx*ny*nz values, x fastest, component slowest (A[c][k][j][i], the NIfTI
 * order); grid_from_index: row-major 4x4 affine from (i,j,k) to coil-frame
 * metres (an axis-aligned diagonal grid is required).
 */
TMSF_EXPORT int tmsf_coil_create_grid(tmsf_context *ctx, const int64_t dims[3],
                                      const double *A_T_m_per_A,
                                      const double grid_from_index_m[16], tmsf_coil **coil);

/** Create a line-segment coil (one element, stimulator 0) from arrays
 * (copied): segment midpoints in metres and dl vectors (direction times
 * length) in metres, 3 per segment, in the coil frame. */
TMSF_EXPORT int tmsf_coil_create_segments(tmsf_context *ctx, int64_t num_segments,
                                          const double *midpoints_m, const double *dl_m,
                                          tmsf_coil **coil);

/** Create an empty coil named name (may be NULL: "coil"): add elements with
 * tmsf_coil_add_dipoles / _segments / _grid. */
TMSF_EXPORT int tmsf_coil_create(tmsf_context *ctx, const char *name, tmsf_coil **coil);

/**
 * Add an element of n magnetic dipoles driven by stimulator `stimulator`
 * (0..63; stimulators up to it are created, unnamed and with unknown dI/dt
 * max, if missing).  Arrays are copied: positions in metres, moments in
 * A m^2 per ampere, 3 per dipole, coil frame.  name may be NULL.
 */
TMSF_EXPORT int tmsf_coil_add_dipoles(tmsf_coil *coil, int stimulator, const char *name, int64_t n,
                                      const double *positions_m, const double *moments_A_m2);

/** Add an element of n straight current segments (midpoints and dl vectors
 * in metres, 3 per segment; A = mu0/(4 pi) sum_k dl_k / |r - r_k| per ampere,
 * evaluated in double precision).  Otherwise as tmsf_coil_add_dipoles. */
TMSF_EXPORT int tmsf_coil_add_segments(tmsf_coil *coil, int stimulator, const char *name, int64_t n,
                                       const double *midpoints_m, const double *dl_m);

/** Add a sampled A-field element (layout and affine as tmsf_coil_create_grid).
 * The samples are stored in single precision. */
TMSF_EXPORT int tmsf_coil_add_grid(tmsf_coil *coil, int stimulator, const char *name,
                                   const int64_t dims[3], const double *A_T_m_per_A,
                                   const double grid_from_index_m[16]);

/** Number of elements. */
TMSF_EXPORT int tmsf_coil_get_num_elements(const tmsf_coil *coil, int *num);

/** Describe element index: its kind, stimulator, count (dipoles or segments;
 * grid samples nx*ny*nz for grids) and name (borrowed).  Outputs may be NULL. */
TMSF_EXPORT int tmsf_coil_get_element(const tmsf_coil *coil, int index, tmsf_coil_kind *kind,
                                      int *stimulator, int64_t *count, const char **name);

/** Borrow the arrays of a dipole or segment element: positions (m) and
 * vectors (moments A m^2 per A, or dl in m), 3 per item, coil frame.  For a
 * grid element TMSF_ERR_STATE (use tmsf_coil_get_grid). */
TMSF_EXPORT int tmsf_coil_get_element_data(const tmsf_coil *coil, int index,
                                           const double **positions_m, const double **vectors);

/** Grid of a grid element: dims, and origin (position of sample (0,0,0)) and
 * spacing in metres; samples borrowed as float, A[c][k][j][i] in T m / A.
 * Outputs may be NULL. */
TMSF_EXPORT int tmsf_coil_get_grid(const tmsf_coil *coil, int index, int64_t dims[3],
                                   double origin_m[3], double spacing_m[3], const float **A_T_m_per_A);

/** Number of stimulators (at least 1 + the largest element stimulator index;
 * files may list more). */
TMSF_EXPORT int tmsf_coil_get_num_stimulators(const tmsf_coil *coil, int *num);

/** Stimulator index: name and brand (borrowed; "" when unknown) and maximum
 * dI/dt in A/s at 100 % MSO (NAN when unknown).  Outputs may be NULL. */
TMSF_EXPORT int tmsf_coil_get_stimulator(const tmsf_coil *coil, int index, const char **name,
                                         const char **brand, double *didt_max_A_per_s);

/** Set stimulator index (0..63; created, with those before it, if missing):
 * name and brand copied (NULL: keep the current ones), dI/dt max in A/s
 * (finite and > 0, or NAN for unknown). */
TMSF_EXPORT int tmsf_coil_set_stimulator(tmsf_coil *coil, int index, const char *name,
                                         const char *brand, double didt_max_A_per_s);

/** Destroy a coil (accepts NULL; sets *coil = NULL). */
TMSF_EXPORT int tmsf_coil_destroy(tmsf_coil **coil);

/** Kind of the coil: that of its elements when they are all of one kind,
 * else TMSF_COIL_MIXED.  TMSF_ERR_STATE for a coil without elements. */
TMSF_EXPORT int tmsf_coil_get_kind(const tmsf_coil *coil, tmsf_coil_kind *kind);

/** Number of dipoles over all elements (0 for coils without dipoles). */
TMSF_EXPORT int tmsf_coil_get_num_dipoles(const tmsf_coil *coil, int64_t *num_dipoles);

/** Borrow dipole positions (m) and moments (A m^2 per A), 3 per dipole,
 * in the coil frame.  Requires a coil of exactly one element, of dipoles
 * (else TMSF_ERR_STATE; see tmsf_coil_get_element_data). */
TMSF_EXPORT int tmsf_coil_get_dipoles(const tmsf_coil *coil, const double **positions_m,
                                      const double **moments_A_m2);

/** Coil name.  .ccd: the header's coilname, else the header's first word
 * when it ends in .ccd (without it), else the file name without .ccd; .tcd:
 * its name, else the file name; NIfTI: the file name without .nii(.gz).
 * Borrowed. */
TMSF_EXPORT int tmsf_coil_get_name(const tmsf_coil *coil, const char **name);

/** Maximum dI/dt of the coil on its (first) stimulator, index 0, at 100 % MSO,
 * A/s.  TMSF_ERR_NOT_FOUND when the file gave none. */
TMSF_EXPORT int tmsf_coil_get_didt_max(const tmsf_coil *coil, double *didt_max_A_per_s);

/** Arithmetic of the dipole sum of this coil (default TMSF_PRECISION_SINGLE). */
TMSF_EXPORT int tmsf_coil_set_precision(tmsf_coil *coil, tmsf_precision precision);

/** Set or override the maximum dI/dt of stimulator 0 (A/s, finite and > 0). */
TMSF_EXPORT int tmsf_coil_set_didt_max(tmsf_coil *coil, double didt_max_A_per_s);

/** Header keys as read from the file, in file order (borrowed strings). */
TMSF_EXPORT int tmsf_coil_get_num_header_keys(const tmsf_coil *coil, int *num_keys);
TMSF_EXPORT int tmsf_coil_get_header_key(const tmsf_coil *coil, int index, const char **key,
                                         const char **value);
/** Value of one header key; TMSF_ERR_NOT_FOUND if absent. */
TMSF_EXPORT int tmsf_coil_get_header(const tmsf_coil *coil, const char *key, const char **value);

/**
 * Primary field at points in the head frame: dadt_V_per_m[3*i] = dA/dt at
 * points_m[3*i] for a coil at pose head_from_coil_m (see pose.h) with every
 * stimulator driven with dI/dt = didt_A_per_s.  Grid elements give zero
 * outside their grid; points outside at least one grid element are counted
 * in *num_outside (may be NULL).  Threaded; results do not depend on the
 * thread count.
 */
TMSF_EXPORT int tmsf_coil_primary_field(const tmsf_coil *coil, const double head_from_coil_m[16],
                                        double didt_A_per_s, int64_t num_points,
                                        const double *points_m, double *dadt_V_per_m,
                                        int64_t *num_outside);

/** As tmsf_coil_primary_field with stimulator s driven with dI/dt =
 * didt_per_stimulator_A_per_s[s] (one value per stimulator,
 * tmsf_coil_get_num_stimulators).  The field is linear in these values. */
TMSF_EXPORT int tmsf_coil_primary_field_stimulators(const tmsf_coil *coil,
                                                    const double head_from_coil_m[16],
                                                    const double *didt_per_stimulator_A_per_s,
                                                    int64_t num_points, const double *points_m,
                                                    double *dadt_V_per_m, int64_t *num_outside);

/**
 * Write a dipole coil (every element of dipoles, all on stimulator 0) as a
 * SimNIBS .ccd text file: the header line "# NAME.ccd version 1.0 number of
 * elements; key=value; ..." keeps every header key whose text has no ';' or
 * line break, with dIdtmax (A/us), stimulator and brand taken from
 * stimulator 0 when it has them; positions and moments are written with 17
 * significant digits (a read gives back the same numbers).
 */
TMSF_EXPORT int tmsf_coil_write_ccd(const tmsf_coil *coil, const char *path);

/**
 * Write a grid coil (every element a grid, all on the same grid) as an
 * A-field NIfTI-1 image (path ending in .nii or .nii.gz; niftilib build):
 * X x Y x Z x 3 for a coil with one stimulator, X x Y x Z x S x 3 (SimNIBS's
 * 5-D layout, see lib/io-nifti.c) for S stimulators, float32 A in T m / A,
 * sform and qform in mm.  Elements on the same stimulator are summed.
 * Stimulator names and dI/dt limits are not stored.  Written to a temporary
 * name and renamed.
 */
TMSF_EXPORT int tmsf_coil_write_nifti(const tmsf_coil *coil, const char *path);

/**
 * Sample any coil's vector potential per ampere on a regular grid: one grid
 * element per stimulator (stimulator s alone at 1 A), grid points
 * min + i * resolution up to max (limits_m = {xmin, xmax, ymin, ymax, zmin,
 * zmax}, coil frame, metres; at least 2 points per axis; NULL limits or
 * resolution: those of the coil's header, .tcd limits/resolution or .ccd
 * x/y/z/resolution in mm, else TMSF_ERR_ARGUMENT), evaluated in double
 * precision (samples at a source, where A is singular, are set to 0).  Name,
 * stimulators and header keys are copied; the header key
 * "grid_rel_error" holds *rel_error.
 *
 * rel_error (may be NULL) receives the relative L2 error of the grid's
 * trilinear interpolation against the direct evaluation of the coil, all
 * stimulators at 1 A, at 2,000 pseudo-random points inside the grid at least
 * two grid spacings from every dipole and segment (NAN if none qualifies).
 *
 * The grid is cached on disk as NIfTI (niftilib builds) under a content hash
 * of the coil's elements and the grid parameters: in the directory set by
 * tmsf_coil_set_cache_dir, else $TMSF_CACHE_DIR, else
 * $XDG_CACHE_HOME/tmsfield, else $HOME/.cache/tmsfield.  Cache failures are
 * ignored (the grid is computed).
 */
TMSF_EXPORT int tmsf_coil_to_grid(const tmsf_coil *coil, const double limits_m[6],
                                  const double resolution_m[3], tmsf_coil **grid_coil,
                                  double *rel_error);

/** Set the process-wide directory of the coil-grid cache (copied): NULL
 * restores the default ($TMSF_CACHE_DIR, else XDG), "" disables caching
 * (as does TMSF_CACHE_DIR set to "" or "off"). */
TMSF_EXPORT int tmsf_coil_set_cache_dir(const char *dir);

/** The cache directory in effect, copied to buf (size bytes); "" when caching
 * is disabled.  TMSF_ERR_ARGUMENT when it does not fit. */
TMSF_EXPORT int tmsf_coil_get_cache_dir(char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_COIL_H */

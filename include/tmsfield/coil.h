/*
 * SPDX-License-Identifier: BSD-3-Clause
 * coil.h: TMS coils — magnetic dipole models (.ccd) and sampled A-field grids
 * (NIfTI) — and their primary field.
 *
 * Coil frame (SimNIBS): origin at the coil centre on its bottom face, z
 * pointing into the head, the handle along -y.  The primary field is given per
 * ampere of coil current and scaled by dI/dt:
 *   dipoles:  A(r) = mu0/(4 pi) sum_k m_k x (r - r_k) / |r - r_k|^3
 *   grid:     A(r) = trilinear interpolation of the stored samples
 * and the induced primary electric field is -dA/dt = -(dI/dt) A.
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
  TMSF_COIL_DIPOLES = 1, /**< magnetic dipoles (positions m, moments A m^2 per A) */
  TMSF_COIL_GRID = 3,    /**< A per ampere (T m / A) sampled on a regular grid */
} tmsf_coil_kind;

/**
 * Read a coil.  The format is chosen by content: SimNIBS .ccd dipole text
 * files, or NIfTI-1/2 A-field grids (.nii, .nii.gz: X x Y x Z x 3 samples of
 * A per ampere in T m / A in the coil frame, the sform/qform giving the grid
 * in millimetres; requires a build with niftilib).  For .ccd every key=value
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

/** Destroy a coil (accepts NULL; sets *coil = NULL). */
TMSF_EXPORT int tmsf_coil_destroy(tmsf_coil **coil);

TMSF_EXPORT int tmsf_coil_get_kind(const tmsf_coil *coil, tmsf_coil_kind *kind);

/** Number of dipoles (0 for grid coils). */
TMSF_EXPORT int tmsf_coil_get_num_dipoles(const tmsf_coil *coil, int64_t *num_dipoles);

/** Borrow dipole positions (m) and moments (A m^2 per A), 3 per dipole,
 * in the coil frame. */
TMSF_EXPORT int tmsf_coil_get_dipoles(const tmsf_coil *coil, const double **positions_m,
                                      const double **moments_A_m2);

/** Coil name: the header's coilname, else the file's first comment word, else
 * the file name.  Borrowed. */
TMSF_EXPORT int tmsf_coil_get_name(const tmsf_coil *coil, const char **name);

/** Maximum dI/dt of the coil on its stimulator at 100 % MSO, A/s.
 * TMSF_ERR_NOT_FOUND when the file gave none. */
TMSF_EXPORT int tmsf_coil_get_didt_max(const tmsf_coil *coil, double *didt_max_A_per_s);

/** Arithmetic of the dipole sum of this coil (default TMSF_PRECISION_SINGLE). */
TMSF_EXPORT int tmsf_coil_set_precision(tmsf_coil *coil, tmsf_precision precision);

/** Set or override the maximum dI/dt (A/s, finite and > 0). */
TMSF_EXPORT int tmsf_coil_set_didt_max(tmsf_coil *coil, double didt_max_A_per_s);

/** Header keys as read from the file, in file order (borrowed strings). */
TMSF_EXPORT int tmsf_coil_get_num_header_keys(const tmsf_coil *coil, int *num_keys);
TMSF_EXPORT int tmsf_coil_get_header_key(const tmsf_coil *coil, int index, const char **key,
                                         const char **value);
/** Value of one header key; TMSF_ERR_NOT_FOUND if absent. */
TMSF_EXPORT int tmsf_coil_get_header(const tmsf_coil *coil, const char *key, const char **value);

/**
 * Primary field at points in the head frame: dadt_V_per_m[3*i] = dA/dt at
 * points_m[3*i] for a coil at pose head_from_coil_m (see pose.h) driven with
 * dI/dt = didt_A_per_s.  Grid coils give zero outside their grid and count
 * such points in *num_outside (may be NULL).  Threaded; results do not depend
 * on the thread count.
 */
TMSF_EXPORT int tmsf_coil_primary_field(const tmsf_coil *coil, const double head_from_coil_m[16],
                                        double didt_A_per_s, int64_t num_points,
                                        const double *points_m, double *dadt_V_per_m,
                                        int64_t *num_outside);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_COIL_H */

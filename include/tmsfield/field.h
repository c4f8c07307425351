/*
 * SPDX-License-Identifier: BSD-3-Clause
 * field.h: the induced electric field of one solve.
 *
 * E is constant on each tetrahedron (P1 FEM).  J = sigma E.  A nodal field is
 * recovered per tissue by superconvergent patch recovery (Zienkiewicz & Zhu
 * 1992), so that the jump of E across tissue interfaces is kept.
 */
#ifndef TMSFIELD_FIELD_H
#define TMSFIELD_FIELD_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How tmsf_field_sample evaluates E at a point. */
typedef enum tmsf_sample_mode {
  TMSF_SAMPLE_ELEMENT = 0,   /**< the constant E of the containing tetrahedron */
  TMSF_SAMPLE_RECOVERED = 1, /**< linear interpolation of the patch-recovered nodal E of the
                                  containing tetrahedron's tissue */
} tmsf_sample_mode;

/** Destroy (accepts NULL; sets *field = NULL). */
TMSF_EXPORT int tmsf_field_destroy(tmsf_field **field);

/** The mesh the field lives on (borrowed). */
TMSF_EXPORT const tmsf_mesh *tmsf_field_get_mesh(const tmsf_field *field);

/** dI/dt the field was computed for, A/s. */
TMSF_EXPORT int tmsf_field_get_didt(const tmsf_field *field, double *didt_A_per_s);

/** Borrow E per tetrahedron, V/m (3*num_tets). */
TMSF_EXPORT int tmsf_field_get_E(const tmsf_field *field, const double **E_V_per_m);

/** Borrow the electric potential phi at the nodes, V (num_nodes). */
TMSF_EXPORT int tmsf_field_get_potential(const tmsf_field *field, const double **phi_V);

/** |E| per tetrahedron, V/m, copied into magnE_V_per_m (num_tets). */
TMSF_EXPORT int tmsf_field_get_magnE(const tmsf_field *field, double *magnE_V_per_m);

/** J = sigma E per tetrahedron, A/m^2, copied (3*num_tets). */
TMSF_EXPORT int tmsf_field_get_J(const tmsf_field *field, double *J_A_per_m2);

/** |J| per tetrahedron, A/m^2, copied (num_tets). */
TMSF_EXPORT int tmsf_field_get_magnJ(const tmsf_field *field, double *magnJ_A_per_m2);

/** Conductivity used for each tetrahedron, S/m (borrowed, num_tets). */
TMSF_EXPORT int tmsf_field_get_conductivity(const tmsf_field *field, const double **sigma_S_per_m);

/**
 * E at the nodes of one tissue by superconvergent patch recovery: for every
 * node touched by tetrahedra of that tag, a linear least-squares fit of the
 * element values at the centroids of its patch (those tetrahedra), evaluated
 * at the node; patches too small or too flat for a linear fit fall back to the
 * volume-weighted mean.  E_nodes_V_per_m receives 3*num_nodes values; nodes
 * outside the tissue get NaN.  Threaded and deterministic.
 */
TMSF_EXPORT int tmsf_field_recover_nodal(const tmsf_field *field, int32_t tag,
                                         double *E_nodes_V_per_m);

/**
 * E at arbitrary points (head frame, metres).  Points outside the mesh get NaN
 * and tet_index -1 (tet_index may be NULL).  TMSF_SAMPLE_RECOVERED runs the
 * patch recovery for the tissues it meets (cached in the field).
 */
TMSF_EXPORT int tmsf_field_sample(tmsf_field *field, tmsf_sample_mode mode, int64_t num_points,
                                  const double *points_m, double *E_V_per_m, int64_t *tet_index);

/**
 * Percentiles of |E| over the tetrahedra of one tag (tag 0: all), volume
 * weighted: pct in [0, 100]; out receives num_pct values in V/m.
 */
TMSF_EXPORT int tmsf_field_magnE_percentiles(const tmsf_field *field, int32_t tag, int num_pct,
                                             const double *pct, double *magnE_V_per_m);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_FIELD_H */

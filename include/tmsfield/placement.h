/*
 * SPDX-License-Identifier: BSD-3-Clause
 * placement.h: the coil pose that maximises an objective on target regions,
 * evaluated directly (one FEM solve per pose) or fast, by reciprocity.
 *
 * Objective.  A weighted sum of terms, each a metric (dose.h) of the field
 * on a region, at the reference dI/dt TMSF_PLACEMENT_DIDT (1 A/us):
 *
 *   J(pose) = sum_targets w_t metric_t(E; region_t) - sum_avoid w_a |mean E|_a
 *             - w_f focality(E)
 *
 * Fast evaluation (notes/reciprocity.md).  A linear functional of the field,
 * sum_e V_e g_e . E_e, equals sum_n Q_n . dA/dt(x_n) with Q from one adjoint
 * solve on the same matrix.  Swapping the sums, the functional of a dipole
 * coil is sum_k m_k . B_Q(r_k) and that of a line-segment coil
 * sum_k dl_k . A_Q(r_k), where A_Q and B_Q = curl A_Q are the fields of the
 * "current elements" Q_n, smooth outside the head.  tmsf_placement_prepare
 * tabulates them once (a treecode sum over the nodes) on a grid of spacing
 * TMSF_PLACEMENT_GRID_SPACING covering every place the coil's elements can
 * reach over the given poses; a pose then costs one trilinear interpolation
 * per coil element.  Coils sampled on a grid (A-field NIfTI) have no such
 * sources: their fast path is the nodal sum itself (exact, one primary-field
 * evaluation at the nodes per pose, no solve).  Metrics that are linear
 * before a norm are exact this way: "meanvec" (|mean E|, three functionals),
 * "dir:X,Y,Z" and "normal" (one each), and the avoid penalties (|mean E|).
 * Non-linear ones ("mean" |E|, percentiles, focality) are screened with
 * |mean E| on their region and the best candidates re-ranked by direct
 * solves (tmsf_placement_run's rerank count).
 *
 *   tmsf_placement_create(sim, coil, &pl);            // sim set up
 *   tmsf_placement_add_target(pl, region, &metric, 1.0);
 *   tmsf_placement_run(pl, search, &opts, &result);   // search.h
 */
#ifndef TMSFIELD_PLACEMENT_H
#define TMSFIELD_PLACEMENT_H

#include <tmsfield/common.h>
#include <tmsfield/context.h>
#include <tmsfield/dose.h>

/** A search space of coil poses (search.h). */
typedef struct tmsf_search tmsf_search;

#ifdef __cplusplus
extern "C" {
#endif

/** Reference dI/dt of objective values: 1 A/us. */
#define TMSF_PLACEMENT_DIDT 1e6
/** Default spacing of the reciprocity grid, m. */
#define TMSF_PLACEMENT_GRID_SPACING 0.003

typedef struct tmsf_placement tmsf_placement;

/** How poses are evaluated. */
typedef enum tmsf_placement_method {
  TMSF_PLACEMENT_FAST = 0,   /**< reciprocity (see above) */
  TMSF_PLACEMENT_DIRECT = 1, /**< one FEM solve per pose */
  TMSF_PLACEMENT_NODAL = 2,  /**< the exact reciprocity sum over the mesh nodes with the
                                  coil's own primary field (no grid; a reference for FAST,
                                  and FAST's path for grid coils) */
} tmsf_placement_method;

/* Progress (tmsf_progress_fn, context.h) of tmsf_placement_run: the stages
 * "adjoint", "grid", "search", "refine", "rerank" and the fraction done in
 * [0, 1].  Return non-zero to cancel (TMSF_ERR_CANCELLED). */

/** Options of tmsf_placement_run. */
typedef struct tmsf_placement_options {
  tmsf_placement_method method; /**< FAST (default) or DIRECT */
  int top_n;          /**< grid poses kept in the result, best first (default 10) */
  int refine;         /**< refine the best grid poses continuously (default 1) */
  int refine_starts;  /**< how many of the best grid poses start a refinement (default 3) */
  int rerank;         /**< FAST with non-linear terms: direct solves of this many best
                           candidates decide (default 10) */
  double grid_spacing_m; /**< reciprocity grid spacing (0: TMSF_PLACEMENT_GRID_SPACING) */
  tmsf_progress_fn progress; /**< may be NULL */
  void *progress_user;
} tmsf_placement_options;

/** Fill options with the defaults. */
TMSF_EXPORT int tmsf_placement_options_default(tmsf_placement_options *opts);

/** Maximum number of poses a result lists. */
#define TMSF_PLACEMENT_TOP_MAX 64

/** Result of tmsf_placement_run. */
typedef struct tmsf_placement_result {
  double pose[16];        /**< the best pose (head from coil, translation in m) */
  double u_m, v_m, angle_deg; /**< its search coordinates (search.h) */
  double objective;       /**< its objective at 1 A/us, by the method used */
  double objective_direct; /**< the same from a direct solve (always computed) */
  int num_top;            /**< grid poses listed below */
  double top_pose[TMSF_PLACEMENT_TOP_MAX][16];
  double top_objective[TMSF_PLACEMENT_TOP_MAX];
  int64_t num_evaluated;  /**< grid poses evaluated */
  int64_t num_refine_evaluations;
  int64_t num_direct_solves;
  double time_prepare_s, time_search_s, time_refine_s, time_rerank_s;
  double poses_per_second; /**< grid evaluations per second of the search stage */
} tmsf_placement_result;

/** A placement on a simulation that has been set up (borrowed, as is the
 * coil: both must outlive the placement). */
TMSF_EXPORT int tmsf_placement_create(tmsf_simulation *sim, const tmsf_coil *coil,
                                      tmsf_placement **placement);
/** Destroy (accepts NULL; sets *placement = NULL). */
TMSF_EXPORT int tmsf_placement_destroy(tmsf_placement **placement);

/** Add weight * metric(E on region) to the objective (region borrowed; on the
 * simulation's mesh).  Percentile, mean |E| metrics are screened (see above). */
TMSF_EXPORT int tmsf_placement_add_target(tmsf_placement *placement, tmsf_region *region,
                                          const tmsf_metric *metric, double weight);
/** Subtract weight * |mean E| on region (a region to spare). */
TMSF_EXPORT int tmsf_placement_add_avoid(tmsf_placement *placement, tmsf_region *region,
                                         double weight);
/** Subtract weight * the grey-matter volume (cm^3, tag 2) where |E| is at least
 * fraction (0..1) of its 99.9th percentile in the grey matter: a focality
 * penalty, computed from direct solves only (screened out of FAST). */
TMSF_EXPORT int tmsf_placement_add_focality(tmsf_placement *placement, double fraction,
                                            double weight);

/**
 * Prepare the fast evaluation for poses near the given ones: the adjoint
 * solves (once) and the reciprocity grid covering the coil's elements at
 * every pose, dilated by margin_m (poses between the given ones, e.g. other
 * angles or refined positions, must stay within the margin).  Calling it
 * again replaces the grid.  Poses a grid does not cover evaluate to NaN.
 */
TMSF_EXPORT int tmsf_placement_prepare(tmsf_placement *placement, int64_t num_poses,
                                       const double *poses, double margin_m, double spacing_m);

/**
 * tmsf_placement_prepare for a search space (search.h): its valid poses, with
 * the margin that covers the poses refinement reaches between them (half a
 * diagonal of the position grid, enlarged by reach / 80 mm for the coil's
 * tilt with the scalp normal; half an angle step at the coil's reach, the
 * largest distance of an element from the coil origin; one grid cell).
 * grid_spacing_m 0: TMSF_PLACEMENT_GRID_SPACING.  Coils of grid elements
 * only need no grid: this then runs the adjoint solves alone.
 */
TMSF_EXPORT int tmsf_placement_prepare_search(tmsf_placement *placement, const tmsf_search *search,
                                              double grid_spacing_m);

/**
 * Objective of num_poses poses (16 values each) at 1 A/us with a method.
 * FAST needs tmsf_placement_prepare; its screened terms use |mean E|.
 * terms (may be NULL) receives, per pose, each term's value in the order
 * added (targets, avoids, focality), unweighted.
 */
TMSF_EXPORT int tmsf_placement_evaluate(tmsf_placement *placement, tmsf_placement_method method,
                                        int64_t num_poses, const double *poses, double *objective,
                                        double *terms);

/** Number of terms of the objective. */
TMSF_EXPORT int tmsf_placement_get_num_terms(const tmsf_placement *placement, int *num_terms);

/**
 * Search: evaluate every valid pose of the search space (search.h), keep the
 * best, refine the best few continuously in (u, v, angle) with the GSL
 * Nelder-Mead simplex (nmsimplex2) inside the search radius and angle range,
 * re-rank when needed, and evaluate the winner by a direct solve.
 */
TMSF_EXPORT int tmsf_placement_run(tmsf_placement *placement, const tmsf_search *search,
                                   const tmsf_placement_options *options,
                                   tmsf_placement_result *result);

/** Quantities of the last prepare (seconds, counts). */
typedef enum tmsf_placement_info {
  TMSF_PLACEMENT_ADJOINT_SECONDS = 0,
  TMSF_PLACEMENT_GRID_SECONDS = 1,
  TMSF_PLACEMENT_GRID_POINTS = 2,     /**< points of the reciprocity grid evaluated */
  TMSF_PLACEMENT_GRID_BYTES = 3,
  TMSF_PLACEMENT_NUM_FUNCTIONALS = 4,
  TMSF_PLACEMENT_LAST_OUTSIDE = 5,    /**< poses of the last FAST evaluate not covered */
} tmsf_placement_info;
TMSF_EXPORT int tmsf_placement_get_info(const tmsf_placement *placement, tmsf_placement_info what,
                                        double *value);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_PLACEMENT_H */

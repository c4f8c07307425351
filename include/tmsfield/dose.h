/*
 * SPDX-License-Identifier: BSD-3-Clause
 * dose.h: stimulator output (%MSO <-> dI/dt), field metrics on a target
 * region, and dosing: the %MSO that reaches a target field, and the transfer
 * of a motor threshold to another pose or coil ("E-field-matched dosing").
 *
 * Stimulator output: dI/dt = %MSO / 100 x dI/dt_max, where dI/dt_max is the
 * coil's rate of change of current at 100 % of the stimulator's maximum
 * output (tmsf_coil_get_didt_max; the .ccd key dIdtmax, e.g. 155.33 A/us for
 * the MagVenture MC-B70 on a MagPro X100, Drakaki et al. 2022).
 *
 * Linearity: the FEM problem is linear in the primary field, so E scales with
 * dI/dt, and every metric here is positively homogeneous of degree one:
 * metric(c E) = c metric(E) for c >= 0.  A dose therefore needs one solve at a
 * reference dI/dt (1 A/us); the metric at any other dI/dt follows by scaling.
 *
 *   tmsf_region_create_sphere(mesh, target_m, 0.01, 0, NULL, &region); // GM within 10 mm
 *   tmsf_metric metric;  tmsf_metric_parse(ctx, "p99", &metric);
 *   tmsf_dose_result r;
 *   tmsf_dose_for_target(sim, coil, pose, region, &metric, 100.0, &r);  // 100 V/m
 *   // r.mso_percent, r.didt_A_per_s, r.beyond_limit
 */
#ifndef TMSFIELD_DOSE_H
#define TMSFIELD_DOSE_H

#include <tmsfield/common.h>
#include <tmsfield/region.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/* Stimulator output                                                         */
/* ------------------------------------------------------------------------- */

/** How a request beyond the stimulator's range is treated. */
typedef enum tmsf_dose_flags {
  TMSF_DOSE_STRICT = 0, /**< beyond the range: TMSF_ERR_LIMIT (the default) */
  TMSF_DOSE_CLAMP = 1,  /**< clamp into [0, 100] % MSO / [0, dI/dt_max] and flag it */
} tmsf_dose_flags;

/**
 * dI/dt (A/s) for a stimulator output in % of its maximum:
 * didt = mso / 100 x dI/dt_max.  mso_percent must be in [0, 100]: above 100
 * or below 0 fails with TMSF_ERR_LIMIT (a message naming the request, the
 * coil and its dI/dt_max) unless flags has TMSF_DOSE_CLAMP, which clamps and
 * sets *clamped = 1 (clamped may be NULL; 0 when nothing was clamped).  A
 * non-finite request fails with TMSF_ERR_ARGUMENT even with a clamp; a coil
 * without dI/dt_max fails with TMSF_ERR_NOT_FOUND.  Errors go to the coil's
 * context.
 */
TMSF_EXPORT int tmsf_dose_mso_to_didt(const tmsf_coil *coil, double mso_percent, int flags,
                                      double *didt_A_per_s, int *clamped);

/** The inverse: % MSO for a dI/dt in A/s, with the same limits on
 * [0, dI/dt_max] and the same flags and errors. */
TMSF_EXPORT int tmsf_dose_didt_to_mso(const tmsf_coil *coil, double didt_A_per_s, int flags,
                                      double *mso_percent, int *clamped);

/* ------------------------------------------------------------------------- */
/* Metrics                                                                   */
/* ------------------------------------------------------------------------- */

/** What a metric measures on a region (all volume-weighted over its tetrahedra). */
typedef enum tmsf_metric_kind {
  TMSF_METRIC_MEAN = 0,       /**< mean |E| */
  TMSF_METRIC_PERCENTILE = 1, /**< a percentile of |E| (the smallest value with at least
                                   that fraction of the region's volume at or below it, as
                                   tmsf_field_magnE_percentiles) */
  TMSF_METRIC_DIRECTION = 2,  /**< mean of E . d for a fixed unit direction d */
  TMSF_METRIC_NORMAL = 3,     /**< mean of E . n, n the local surface normal of each element
                                   (tmsf_region_get_normals: outward from the tissue, so on
                                   the GM surface 1002 positive means E points from the
                                   cortex into the CSF) */
  TMSF_METRIC_MEAN_VECTOR = 4, /**< |mean E|: the length of the volume-weighted mean field
                                    vector (linear in the field before the norm, so the
                                    placement's fast reciprocity evaluation is exact for it;
                                    <= mean |E|, equal when E is uniform in direction) */
} tmsf_metric_kind;

/** A metric (a plain value).  Unused fields are ignored. */
typedef struct tmsf_metric {
  tmsf_metric_kind kind;
  double percentile;   /**< PERCENTILE: in [0, 100] (e.g. 99) */
  double direction[3]; /**< DIRECTION: head frame; normalised when evaluated */
  int32_t surface_tag; /**< NORMAL: triangle tag of the surface (0: TMSF_SURFACE_GM) */
} tmsf_metric;

/** Buffer sizes that always hold tmsf_metric_name / tmsf_metric_describe. */
#define TMSF_METRIC_NAME_LEN 96
#define TMSF_METRIC_DESCRIPTION_LEN 160

/**
 * Parse a metric from text: "mean", "pNN" (a percentile, e.g. "p99",
 * "p99.9"), "dir:X,Y,Z" (direction, any length), "normal" or "normal:TAG"
 * (surface triangle tag, default 1002), "meanvec" (|mean E|).  Errors (TMSF_ERR_ARGUMENT) quote the
 * text and list the accepted forms.
 */
TMSF_EXPORT int tmsf_metric_parse(tmsf_context *ctx, const char *text, tmsf_metric *metric);

/** Check a metric: known kind, percentile in [0, 100], a finite non-zero
 * direction, a surface tag >= 0. */
TMSF_EXPORT int tmsf_metric_check(tmsf_context *ctx, const tmsf_metric *metric);

/** The metric as text that tmsf_metric_parse reads back ("p99", "dir:0,1,0",
 * "normal:1002"), NUL-terminated, truncated to size. */
TMSF_EXPORT int tmsf_metric_name(const tmsf_metric *metric, char *buf, size_t size);

/** A sentence for people, e.g. "99th percentile of |E| (volume-weighted)". */
TMSF_EXPORT int tmsf_metric_describe(const tmsf_metric *metric, char *buf, size_t size);

/**
 * Evaluate a metric of a field on a region, V/m.  The region must be on the
 * field's mesh (TMSF_ERR_ARGUMENT otherwise).  The NORMAL metric computes the
 * region's normals on first use (tmsf_region_get_normals), hence the
 * non-const region.  Errors go to the field's context.
 */
TMSF_EXPORT int tmsf_metric_evaluate(const tmsf_metric *metric, tmsf_region *region,
                                     const tmsf_field *field, double *value_V_per_m);

/* ------------------------------------------------------------------------- */
/* Dose                                                                      */
/* ------------------------------------------------------------------------- */

/** Buffer size of the coil name in a dose result. */
#define TMSF_DOSE_NAME_LEN 256

/**
 * A dose: which metric, region, coil and stimulator limit were used, and the
 * stimulator setting that gives the stated field.  Plain data
 * (tmsf_dose_result_to_json writes it as JSON).
 */
typedef struct tmsf_dose_result {
  tmsf_metric metric;
  char metric_name[TMSF_METRIC_NAME_LEN];               /**< tmsf_metric_name */
  char metric_description[TMSF_METRIC_DESCRIPTION_LEN]; /**< tmsf_metric_describe */
  tmsf_region_kind region_kind;
  double region_centre_m[3]; /**< tmsf_region_get_sphere */
  double region_radius_m;
  int region_num_tags;
  int32_t region_tags[TMSF_REGION_MAX_TAGS];
  int64_t region_num_elements;
  double region_volume_m3;
  char coil_name[TMSF_DOSE_NAME_LEN];
  double head_from_coil_m[16];       /**< the pose (NaN when not known: tmsf_dose_from_field
                                          without a pose) */
  double didt_max_A_per_s;           /**< the coil's dI/dt at 100 % MSO; NaN when unknown */
  double metric_per_A_per_us_V_per_m; /**< the metric at dI/dt = 1 A/us (1e6 A/s) */
  double target_V_per_m;             /**< the field the setting gives (the metric's value) */
  double didt_A_per_s;               /**< dI/dt that gives target_V_per_m */
  double mso_percent;                /**< the same as % MSO (may exceed 100: see beyond_limit);
                                          NaN when the coil has no dI/dt_max */
  int beyond_limit;                  /**< 1 when mso_percent > 100: the stimulator cannot
                                          deliver it */
} tmsf_dose_result;

/**
 * The dI/dt and % MSO at which the metric on the region reaches
 * target_V_per_m (finite, > 0) for a coil at a pose: one solve at 1 A/us,
 * then scaling (see linearity above).  Not clamped: a target beyond the
 * stimulator gives mso_percent > 100 and beyond_limit = 1, with success.  A
 * coil without dI/dt_max gives the dI/dt and mso_percent = NaN.  Fails with
 * TMSF_ERR_NUMERIC when the metric is not positive at 1 A/us (for DIRECTION
 * and NORMAL: the field points the other way; turn the coil by 180 degrees).
 * Errors go to the simulation's context.
 */
TMSF_EXPORT int tmsf_dose_for_target(tmsf_simulation *sim, const tmsf_coil *coil,
                                     const double head_from_coil_m[16], tmsf_region *region,
                                     const tmsf_metric *metric, double target_V_per_m,
                                     tmsf_dose_result *result);

/**
 * The same from a field already computed for this coil at a positive dI/dt
 * (tmsf_simulation_solve): no solve.  head_from_coil_m may be NULL (recorded
 * as NaN).  Errors go to the field's context.
 */
TMSF_EXPORT int tmsf_dose_from_field(const tmsf_field *field, const tmsf_coil *coil,
                                     const double head_from_coil_m[16], tmsf_region *region,
                                     const tmsf_metric *metric, double target_V_per_m,
                                     tmsf_dose_result *result);

/**
 * Motor-threshold transfer ("E-field-matched dosing"): given the resting
 * motor threshold rmt_mso_percent (in (0, 100]; beyond fails with
 * TMSF_ERR_LIMIT) of coil_a at pose_a, the metric's value on region_a at that
 * threshold, and the % MSO of coil_b (may be coil_a) at pose_b that gives the
 * same value on region_b.  Two solves (1 A/us each) on one simulation (one
 * head).  at_a receives pose A's setting (mso_percent = the threshold,
 * target_V_per_m = the metric there), at_b the transferred one (same
 * target_V_per_m; beyond_limit when above 100 % MSO).  Both coils need a
 * dI/dt_max (TMSF_ERR_NOT_FOUND otherwise).  The metric is stated in the
 * result: thresholds transferred with different metrics differ (Caulfield et
 * al., Clin Neurophysiol 2021).
 */
TMSF_EXPORT int tmsf_dose_transfer(tmsf_simulation *sim, const tmsf_coil *coil_a,
                                   const double pose_a[16], tmsf_region *region_a,
                                   double rmt_mso_percent, const tmsf_coil *coil_b,
                                   const double pose_b[16], tmsf_region *region_b,
                                   const tmsf_metric *metric, tmsf_dose_result *at_a,
                                   tmsf_dose_result *at_b);

/**
 * Write a dose result as one JSON object (UTF-8, strings escaped, NaN as
 * null, SI units named in the keys; the pose also in millimetres as
 * SimNIBS's matsimnibs) into buf, truncated to size and NUL-terminated like
 * snprintf.  *length (may be NULL) receives the full length without the NUL:
 * call with size 0 to learn it.
 */
TMSF_EXPORT int tmsf_dose_result_to_json(const tmsf_dose_result *result, char *buf, size_t size,
                                         size_t *length);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_DOSE_H */

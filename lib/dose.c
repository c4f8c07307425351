/*
 * SPDX-License-Identifier: BSD-3-Clause
 * dose.c: stimulator output limits, field metrics on regions, the dose for a
 * target field and the transfer of a motor threshold.
 */
#include <stdarg.h>
#include <string.h>

#include <gsl/gsl_sort_double.h>

#include "tmsf-impl.h"

/* Requests within this relative distance of a limit count as on it (so that
 * 100 % MSO -> dI/dt_max -> % MSO round trips never trip the limit). */
#define LIMIT_SLACK 1e-12

/* One A/us in A/s: the reference dI/dt of a dose solve. */
#define DIDT_REF 1e6

/* ------------------------------------------------------------------------- */
/* Stimulator output                                                         */
/* ------------------------------------------------------------------------- */

/* Only the coil's public getters are used here (and its context for errors). */
static const char *coil_label(const tmsf_coil *coil) {
  const char *name = NULL;
  return !tmsf_coil_get_name(coil, &name) && name && *name ? name : "(unnamed coil)";
}

static int coil_didt_max(const tmsf_coil *coil, double *dmax) {
  double v = NAN;
  if (tmsf_coil_get_didt_max(coil, &v) || !(isfinite(v) && v > 0.0))
    return TMSF_ERROR(coil->ctx, TMSF_ERR_NOT_FOUND,
                      "coil %s has no dI/dt at 100 %% MSO (dIdtmax): %% MSO cannot be converted; give "
                      "dI/dt in A/s or set it (tmsf_coil_set_didt_max)",
                      coil_label(coil));
  *dmax = v;
  return TMSF_SUCCESS;
}

/* Check value against [0, hi]; clamp when asked. what/unit name it in messages. */
static int apply_limit(const tmsf_coil *coil, double dmax, double *value, double hi, int flags, int *clamped,
                       const char *what, const char *unit, double shown_scale, const char *limit_text) {
  if (clamped) *clamped = 0;
  if (flags & ~(int)TMSF_DOSE_CLAMP)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "unknown dose flags 0x%x", (unsigned)flags);
  double v = *value;
  if (!isfinite(v))
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "%s must be a finite number, got %g", what, v);
  if (v > hi) {
    if (v <= hi * (1.0 + LIMIT_SLACK)) {
      *value = hi;
    } else if (flags & TMSF_DOSE_CLAMP) {
      *value = hi;
      if (clamped) *clamped = 1;
    } else {
      return TMSF_ERROR(coil->ctx, TMSF_ERR_LIMIT,
                        "%s %.6g %s is beyond the stimulator's limit of %s for coil %s (dI/dt max %.6g "
                        "A/us at 100 %% MSO); ask for a clamp (TMSF_DOSE_CLAMP) to limit it",
                        what, v * shown_scale, unit, limit_text, coil_label(coil), dmax * 1e-6);
    }
  } else if (v < 0.0) {
    if (flags & TMSF_DOSE_CLAMP) {
      *value = 0.0;
      if (clamped) *clamped = 1;
    } else {
      return TMSF_ERROR(coil->ctx, TMSF_ERR_LIMIT,
                        "%s %.6g %s is negative: the stimulator's range is 0 to %s for coil %s; ask for "
                        "a clamp (TMSF_DOSE_CLAMP) to limit it",
                        what, v * shown_scale, unit, limit_text, coil_label(coil));
    }
  }
  return TMSF_SUCCESS;
}

int tmsf_dose_mso_to_didt(const tmsf_coil *coil, double mso_percent, int flags, double *didt_A_per_s,
                          int *clamped) {
  if (clamped) *clamped = 0;
  if (!coil || !didt_A_per_s) return TMSF_ERR_ARGUMENT;
  double dmax = 0.0;
  TMSF_CALL(coil_didt_max(coil, &dmax));
  double v = mso_percent;
  TMSF_CALL(apply_limit(coil, dmax, &v, 100.0, flags, clamped, "stimulator output", "% MSO", 1.0, "100 % MSO"));
  *didt_A_per_s = v / 100.0 * dmax;
  return TMSF_SUCCESS;
}

int tmsf_dose_didt_to_mso(const tmsf_coil *coil, double didt_A_per_s, int flags, double *mso_percent,
                          int *clamped) {
  if (clamped) *clamped = 0;
  if (!coil || !mso_percent) return TMSF_ERR_ARGUMENT;
  double dmax = 0.0;
  TMSF_CALL(coil_didt_max(coil, &dmax));
  double v = didt_A_per_s;
  char lim[64];
  snprintf(lim, sizeof(lim), "%.6g A/us", dmax * 1e-6);
  TMSF_CALL(apply_limit(coil, dmax, &v, dmax, flags, clamped, "dI/dt", "A/us", 1e-6, lim));
  *mso_percent = v == dmax ? 100.0 : v / dmax * 100.0;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Metrics                                                                   */
/* ------------------------------------------------------------------------- */

static const char metric_forms[] = "mean, meanvec, pNN (e.g. p99), dir:X,Y,Z, normal or normal:TAG";

int tmsf_metric_check(tmsf_context *ctx, const tmsf_metric *m) {
  if (!m) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric: NULL");
  switch (m->kind) {
  case TMSF_METRIC_MEAN:
  case TMSF_METRIC_MEAN_VECTOR: return TMSF_SUCCESS;
  case TMSF_METRIC_PERCENTILE:
    if (!(m->percentile >= 0.0 && m->percentile <= 100.0))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric: percentile %g outside [0, 100]", m->percentile);
    return TMSF_SUCCESS;
  case TMSF_METRIC_DIRECTION: {
    const double *d = m->direction;
    double n = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (!(isfinite(n) && n > 0.0))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric: the direction (%g, %g, %g) must be finite and non-zero",
                        d[0], d[1], d[2]);
    return TMSF_SUCCESS;
  }
  case TMSF_METRIC_NORMAL:
    if (m->surface_tag < 0)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric: surface tag %d must be >= 0 (0: %d)",
                        (int)m->surface_tag, TMSF_SURFACE_GM);
    return TMSF_SUCCESS;
  }
  return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric: unknown kind %d", (int)m->kind);
}

/* strtod of the whole of [s, end) */
static int parse_number(const char *s, const char *end, double *v) {
  char buf[64];
  size_t n = (size_t)(end - s);
  if (n == 0 || n >= sizeof(buf)) return 0;
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *e;
  *v = strtod(buf, &e);
  return *e == '\0' && isfinite(*v);
}

int tmsf_metric_parse(tmsf_context *ctx, const char *text, tmsf_metric *metric) {
  if (!metric) return TMSF_ERR_ARGUMENT;
  if (!text) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric: no text (expected %s)", metric_forms);
  tmsf_metric m;
  memset(&m, 0, sizeof(m));
  const char *end = text + strlen(text);
  if (!strcmp(text, "mean")) {
    m.kind = TMSF_METRIC_MEAN;
  } else if (!strcmp(text, "meanvec")) {
    m.kind = TMSF_METRIC_MEAN_VECTOR;
  } else if (text[0] == 'p' && parse_number(text + 1, end, &m.percentile)) {
    m.kind = TMSF_METRIC_PERCENTILE;
    if (!(m.percentile >= 0.0 && m.percentile <= 100.0))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric '%s': percentile %g outside [0, 100]", text, m.percentile);
  } else if (!strncmp(text, "dir:", 4)) {
    m.kind = TMSF_METRIC_DIRECTION;
    const char *p = text + 4;
    for (int k = 0; k < 3; k++) {
      const char *q = k < 2 ? strchr(p, ',') : end;
      if (!q || !parse_number(p, q, &m.direction[k]))
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric '%s': dir: expects three numbers X,Y,Z", text);
      p = q + 1;
    }
    if (tmsf_metric_check(ctx, &m))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric '%s': the direction is zero", text);
  } else if (!strcmp(text, "normal")) {
    m.kind = TMSF_METRIC_NORMAL;
    m.surface_tag = TMSF_SURFACE_GM;
  } else if (!strncmp(text, "normal:", 7)) {
    m.kind = TMSF_METRIC_NORMAL;
    double t;
    if (!parse_number(text + 7, end, &t) || t != floor(t) || t < 1 || t > 2147483647.0)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric '%s': normal: expects a surface tag (e.g. 1002)", text);
    m.surface_tag = (int32_t)t;
  } else {
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "unknown metric '%s' (expected %s)", text, metric_forms);
  }
  *metric = m;
  return TMSF_SUCCESS;
}

int tmsf_metric_name(const tmsf_metric *m, char *buf, size_t size) {
  if (!m || (!buf && size)) return TMSF_ERR_ARGUMENT;
  if (!size) return TMSF_SUCCESS;
  switch (m->kind) {
  case TMSF_METRIC_MEAN: snprintf(buf, size, "mean"); break;
  case TMSF_METRIC_MEAN_VECTOR: snprintf(buf, size, "meanvec"); break;
  case TMSF_METRIC_PERCENTILE: snprintf(buf, size, "p%.10g", m->percentile); break;
  case TMSF_METRIC_DIRECTION:
    snprintf(buf, size, "dir:%.8g,%.8g,%.8g", m->direction[0], m->direction[1], m->direction[2]);
    break;
  case TMSF_METRIC_NORMAL:
    snprintf(buf, size, "normal:%d", (int)(m->surface_tag ? m->surface_tag : TMSF_SURFACE_GM));
    break;
  default: snprintf(buf, size, "unknown"); return TMSF_ERR_ARGUMENT;
  }
  return TMSF_SUCCESS;
}

int tmsf_metric_describe(const tmsf_metric *m, char *buf, size_t size) {
  if (!m || (!buf && size)) return TMSF_ERR_ARGUMENT;
  if (!size) return TMSF_SUCCESS;
  switch (m->kind) {
  case TMSF_METRIC_MEAN: snprintf(buf, size, "mean |E| (volume-weighted)"); break;
  case TMSF_METRIC_MEAN_VECTOR: snprintf(buf, size, "|mean E| (length of the volume-weighted mean field)"); break;
  case TMSF_METRIC_PERCENTILE: {
    double p = m->percentile;
    const char *suffix = "th";
    if (p == floor(p)) {
      long i = (long)p;
      if (i % 100 < 11 || i % 100 > 13) suffix = i % 10 == 1 ? "st" : i % 10 == 2 ? "nd" : i % 10 == 3 ? "rd" : "th";
    }
    snprintf(buf, size, "%.10g%s percentile of |E| (volume-weighted)", p, suffix);
    break;
  }
  case TMSF_METRIC_DIRECTION: {
    const double *d = m->direction;
    double n = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (!(n > 0.0)) n = 1.0;
    snprintf(buf, size, "mean E along (%.4f, %.4f, %.4f) (volume-weighted)", d[0] / n, d[1] / n, d[2] / n);
    break;
  }
  case TMSF_METRIC_NORMAL:
    snprintf(buf, size,
             "mean E along the normal of surface %d, outward from the tissue (volume-weighted)",
             (int)(m->surface_tag ? m->surface_tag : TMSF_SURFACE_GM));
    break;
  default: snprintf(buf, size, "unknown metric"); return TMSF_ERR_ARGUMENT;
  }
  return TMSF_SUCCESS;
}

/* Copy an error raised in another context into ctx. */
static int relay(tmsf_context *ctx, tmsf_context *from, int ierr) {
  if (ierr && from && from != ctx) TMSF_ERROR(ctx, ierr, "%s", tmsf_context_last_error(from));
  return ierr;
}

int tmsf_metric_evaluate(const tmsf_metric *metric, tmsf_region *region, const tmsf_field *field,
                         double *value) {
  if (!field || !value) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = field->ctx;
  TMSF_CALL(tmsf_metric_check(ctx, metric));
  if (!region) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric: the region is required");
  const tmsf_mesh *m = tmsf_region_get_mesh(region);
  if (m != field->mesh)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "metric: the region and the field belong to different meshes");
  int64_t n;
  const int64_t *el;
  tmsf_region_get_elements(region, &n, &el);
  const double *E = field->E;
  double vsum = 0.0, acc = 0.0;
  switch (metric->kind) {
  case TMSF_METRIC_MEAN:
    for (int64_t i = 0; i < n; i++) {
      const double *e = E + 3 * el[i];
      double v = tmsf_tet_signed_volume(m->nodes, m->tets + 4 * el[i]);
      acc += v * sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
      vsum += v;
    }
    break;
  case TMSF_METRIC_MEAN_VECTOR: {
    double a[3] = {0.0, 0.0, 0.0};
    for (int64_t i = 0; i < n; i++) {
      const double *e = E + 3 * el[i];
      double v = tmsf_tet_signed_volume(m->nodes, m->tets + 4 * el[i]);
      for (int k = 0; k < 3; k++) a[k] += v * e[k];
      vsum += v;
    }
    acc = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    break;
  }
  case TMSF_METRIC_DIRECTION: {
    const double *d = metric->direction;
    double dn = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    for (int64_t i = 0; i < n; i++) {
      const double *e = E + 3 * el[i];
      double v = tmsf_tet_signed_volume(m->nodes, m->tets + 4 * el[i]);
      acc += v * (e[0] * d[0] + e[1] * d[1] + e[2] * d[2]) / dn;
      vsum += v;
    }
    break;
  }
  case TMSF_METRIC_NORMAL: {
    const double *nrm;
    TMSF_CALL(relay(ctx, m->ctx, tmsf_region_get_normals(region, metric->surface_tag, &nrm)));
    for (int64_t i = 0; i < n; i++) {
      const double *e = E + 3 * el[i], *q = nrm + 3 * i;
      double v = tmsf_tet_signed_volume(m->nodes, m->tets + 4 * el[i]);
      acc += v * (e[0] * q[0] + e[1] * q[1] + e[2] * q[2]);
      vsum += v;
    }
    break;
  }
  case TMSF_METRIC_PERCENTILE: {
    double *val = tmsf_malloc_array((size_t)n, sizeof(double)), *w = tmsf_malloc_array((size_t)n, sizeof(double));
    if (!val || !w) {
      free(val), free(w);
      return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "metric: out of memory");
    }
    for (int64_t i = 0; i < n; i++) {
      const double *e = E + 3 * el[i];
      val[i] = sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
      w[i] = tmsf_tet_signed_volume(m->nodes, m->tets + 4 * el[i]);
      vsum += w[i];
    }
    gsl_sort2(val, 1, w, 1, (size_t)n);
    /* the smallest value with at least pct of the volume at or below it (the
     * rule of tmsf_field_magnE_percentiles, same slack for exact fractions) */
    double target = metric->percentile / 100.0 * vsum * (1.0 - 1e-12), cum = 0.0;
    int64_t i = 0;
    for (; i < n - 1; i++) {
      cum += w[i];
      if (cum >= target) break;
    }
    *value = val[i];
    free(val), free(w);
    return TMSF_SUCCESS;
  }
  }
  *value = acc / vsum;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Dose                                                                      */
/* ------------------------------------------------------------------------- */

static void fill_result(tmsf_dose_result *r, const tmsf_coil *coil, const double *P, const tmsf_region *region,
                        const tmsf_metric *metric) {
  memset(r, 0, sizeof(*r));
  r->metric = *metric;
  tmsf_metric_name(metric, r->metric_name, sizeof(r->metric_name));
  tmsf_metric_describe(metric, r->metric_description, sizeof(r->metric_description));
  tmsf_region_get_kind(region, &r->region_kind);
  tmsf_region_get_sphere(region, r->region_centre_m, &r->region_radius_m);
  int nt;
  const int32_t *tags;
  tmsf_region_get_tags(region, &nt, &tags);
  r->region_num_tags = nt;
  memcpy(r->region_tags, tags, sizeof(int32_t) * (size_t)nt);
  const int64_t *el;
  tmsf_region_get_elements(region, &r->region_num_elements, &el);
  tmsf_region_get_volume(region, &r->region_volume_m3);
  snprintf(r->coil_name, sizeof(r->coil_name), "%s", coil_label(coil));
  for (int k = 0; k < 16; k++) r->head_from_coil_m[k] = P ? P[k] : NAN;
  double dmax = NAN;
  if (tmsf_coil_get_didt_max(coil, &dmax) || !(dmax > 0.0)) dmax = NAN; /* no limit: dI/dt only */
  r->didt_max_A_per_s = dmax;
  r->mso_percent = NAN;
}

/* Set didt, mso and beyond_limit from the target and the metric per A/us. */
static void scale_result(tmsf_dose_result *r, double target) {
  r->target_V_per_m = target;
  r->didt_A_per_s = target / r->metric_per_A_per_us_V_per_m * DIDT_REF;
  if (isfinite(r->didt_max_A_per_s)) {
    r->mso_percent = r->didt_A_per_s / r->didt_max_A_per_s * 100.0;
    r->beyond_limit = r->mso_percent > 100.0 * (1.0 + LIMIT_SLACK);
  }
}

/* The metric per A/us of a field computed at a positive dI/dt. */
static int metric_per_A_per_us(tmsf_context *ctx, const tmsf_field *field, tmsf_region *region,
                               const tmsf_metric *metric, double *value) {
  double didt = field->didt;
  if (!(isfinite(didt) && didt > 0.0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "dose: the field's dI/dt must be finite and > 0 (got %g A/s; a coil set's field "
                      "has none)",
                      didt);
  double v;
  TMSF_CALL(relay(ctx, field->ctx, tmsf_metric_evaluate(metric, region, field, &v)));
  *value = v * (DIDT_REF / didt);
  return TMSF_SUCCESS;
}

static int check_positive_metric(tmsf_context *ctx, const tmsf_dose_result *r) {
  double v = r->metric_per_A_per_us_V_per_m;
  if (!(v > 0.0 && isfinite(v)))
    return TMSF_ERROR(ctx, TMSF_ERR_NUMERIC,
                      "dose: the metric '%s' is %g V/m at 1 A/us on the region around (%g, %g, %g) mm with "
                      "coil %s: %s",
                      r->metric_name, v, r->region_centre_m[0] * 1e3, r->region_centre_m[1] * 1e3,
                      r->region_centre_m[2] * 1e3, r->coil_name,
                      r->metric.kind == TMSF_METRIC_DIRECTION || r->metric.kind == TMSF_METRIC_NORMAL
                          ? "the field points against the direction there; no positive dI/dt reaches a "
                            "positive target (turn the coil by 180 degrees)"
                          : "no field reaches the region");
  return TMSF_SUCCESS;
}

static int check_dose_args(tmsf_context *ctx, const tmsf_coil *coil, tmsf_region *region, const tmsf_metric *metric,
                           double target, tmsf_dose_result *result) {
  if (!coil || !region || !result)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "dose: the coil, region and result are required");
  TMSF_CALL(tmsf_metric_check(ctx, metric));
  if (!(isfinite(target) && target > 0.0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "dose: the target field must be finite and > 0, got %g V/m", target);
  return TMSF_SUCCESS;
}

int tmsf_dose_from_field(const tmsf_field *field, const tmsf_coil *coil, const double head_from_coil_m[16],
                         tmsf_region *region, const tmsf_metric *metric, double target_V_per_m,
                         tmsf_dose_result *result) {
  if (!field) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = field->ctx;
  TMSF_CALL(check_dose_args(ctx, coil, region, metric, target_V_per_m, result));
  double per;
  TMSF_CALL(metric_per_A_per_us(ctx, field, region, metric, &per));
  tmsf_dose_result r;
  fill_result(&r, coil, head_from_coil_m, region, metric);
  r.metric_per_A_per_us_V_per_m = per;
  TMSF_CALL(check_positive_metric(ctx, &r));
  scale_result(&r, target_V_per_m);
  *result = r;
  return TMSF_SUCCESS;
}

/* Simulation context: the simulation struct is private to simulation.c; the
 * field it returns carries the context. */
static int solve_ref(tmsf_simulation *sim, const tmsf_coil *coil, const double P[16], tmsf_field **f) {
  return tmsf_simulation_solve(sim, coil, P, DIDT_REF, f);
}

int tmsf_dose_for_target(tmsf_simulation *sim, const tmsf_coil *coil, const double head_from_coil_m[16],
                         tmsf_region *region, const tmsf_metric *metric, double target_V_per_m,
                         tmsf_dose_result *result) {
  if (!sim || !coil) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = tmsf_simulation_context(sim);
  TMSF_CALL(check_dose_args(ctx, coil, region, metric, target_V_per_m, result));
  if (tmsf_region_get_mesh(region) != tmsf_simulation_mesh(sim))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "dose: the region belongs to another mesh than the simulation");
  tmsf_field *f = NULL;
  TMSF_CALL(solve_ref(sim, coil, head_from_coil_m, &f));
  int ierr = tmsf_dose_from_field(f, coil, head_from_coil_m, region, metric, target_V_per_m, result);
  tmsf_field_destroy(&f);
  return ierr;
}

int tmsf_dose_transfer(tmsf_simulation *sim, const tmsf_coil *coil_a, const double pose_a[16],
                       tmsf_region *region_a, double rmt_mso_percent, const tmsf_coil *coil_b,
                       const double pose_b[16], tmsf_region *region_b, const tmsf_metric *metric,
                       tmsf_dose_result *at_a, tmsf_dose_result *at_b) {
  if (!sim) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = tmsf_simulation_context(sim);
  if (!coil_a || !coil_b || !region_a || !region_b || !at_a || !at_b)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "transfer: both coils, both regions and both results are required");
  TMSF_CALL(tmsf_metric_check(ctx, metric));
  if (tmsf_region_get_mesh(region_a) != tmsf_simulation_mesh(sim) ||
      tmsf_region_get_mesh(region_b) != tmsf_simulation_mesh(sim))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "transfer: the regions must belong to the simulation's mesh");
  double didt_a = 0.0, dmax_b = 0.0;
  if (!(rmt_mso_percent > 0.0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "transfer: the motor threshold must be > 0 %% MSO, got %g",
                      rmt_mso_percent);
  TMSF_CALL(relay(ctx, coil_a->ctx, tmsf_dose_mso_to_didt(coil_a, rmt_mso_percent, TMSF_DOSE_STRICT, &didt_a, NULL)));
  TMSF_CALL(relay(ctx, coil_b->ctx, coil_didt_max(coil_b, &dmax_b)));
  (void)dmax_b;
  tmsf_field *fa = NULL, *fb = NULL;
  double per_a = 0.0, per_b = 0.0;
  int ierr = solve_ref(sim, coil_a, pose_a, &fa);
  if (!ierr) ierr = metric_per_A_per_us(ctx, fa, region_a, metric, &per_a);
  if (!ierr) ierr = solve_ref(sim, coil_b, pose_b, &fb);
  if (!ierr) ierr = metric_per_A_per_us(ctx, fb, region_b, metric, &per_b);
  tmsf_field_destroy(&fa);
  tmsf_field_destroy(&fb);
  if (ierr) return ierr;
  tmsf_dose_result ra, rb;
  fill_result(&ra, coil_a, pose_a, region_a, metric);
  fill_result(&rb, coil_b, pose_b, region_b, metric);
  ra.metric_per_A_per_us_V_per_m = per_a;
  rb.metric_per_A_per_us_V_per_m = per_b;
  TMSF_CALL(check_positive_metric(ctx, &ra));
  TMSF_CALL(check_positive_metric(ctx, &rb));
  double value = per_a * (didt_a / DIDT_REF);
  ra.target_V_per_m = value;
  ra.didt_A_per_s = didt_a;
  ra.mso_percent = rmt_mso_percent;
  ra.beyond_limit = 0;
  scale_result(&rb, value);
  *at_a = ra;
  *at_b = rb;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* JSON                                                                      */
/* ------------------------------------------------------------------------- */

typedef struct jbuf {
  char *buf;
  size_t size, len;
} jbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void jb_printf(jbuf *j, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *dst = j->len < j->size ? j->buf + j->len : NULL;
  size_t room = j->len < j->size ? j->size - j->len : 0;
  int n = vsnprintf(dst, room, fmt, ap);
  va_end(ap);
  if (n > 0) j->len += (size_t)n;
}

static void jb_string(jbuf *j, const char *s) {
  jb_printf(j, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': jb_printf(j, "\\\""); break;
    case '\\': jb_printf(j, "\\\\"); break;
    case '\n': jb_printf(j, "\\n"); break;
    case '\r': jb_printf(j, "\\r"); break;
    case '\t': jb_printf(j, "\\t"); break;
    default:
      if (*p < 0x20) jb_printf(j, "\\u%04x", *p);
      else jb_printf(j, "%c", *p);
    }
  }
  jb_printf(j, "\"");
}

static void jb_number(jbuf *j, double v) {
  if (isfinite(v)) jb_printf(j, "%.10g", v);
  else jb_printf(j, "null");
}

static void jb_array(jbuf *j, const double *v, int n, double scale) {
  jb_printf(j, "[");
  for (int i = 0; i < n; i++) {
    if (i) jb_printf(j, ", ");
    jb_number(j, v[i] * scale);
  }
  jb_printf(j, "]");
}

int tmsf_dose_result_to_json(const tmsf_dose_result *r, char *buf, size_t size, size_t *length) {
  if (!r || (!buf && size)) return TMSF_ERR_ARGUMENT;
  jbuf j = {buf, size, 0};
  static const char *kinds[] = {"mean", "percentile", "direction", "normal"};
  int kind = (int)r->metric.kind;
  jb_printf(&j, "{\n  \"metric\": {\"name\": ");
  jb_string(&j, r->metric_name);
  jb_printf(&j, ", \"description\": ");
  jb_string(&j, r->metric_description);
  jb_printf(&j, ", \"kind\": ");
  jb_string(&j, kind >= 0 && kind <= 3 ? kinds[kind] : "unknown");
  if (r->metric.kind == TMSF_METRIC_PERCENTILE) {
    jb_printf(&j, ", \"percentile\": ");
    jb_number(&j, r->metric.percentile);
  } else if (r->metric.kind == TMSF_METRIC_DIRECTION) {
    jb_printf(&j, ", \"direction\": ");
    jb_array(&j, r->metric.direction, 3, 1.0);
  } else if (r->metric.kind == TMSF_METRIC_NORMAL) {
    jb_printf(&j, ", \"surface_tag\": %d", (int)(r->metric.surface_tag ? r->metric.surface_tag : TMSF_SURFACE_GM));
  }
  jb_printf(&j, "},\n  \"region\": {\"kind\": \"%s\", \"centre_m\": ",
            r->region_kind == TMSF_REGION_SPHERE ? "sphere" : "elements");
  jb_array(&j, r->region_centre_m, 3, 1.0);
  jb_printf(&j, ", \"radius_m\": ");
  jb_number(&j, r->region_radius_m);
  jb_printf(&j, ", \"tags\": [");
  for (int i = 0; i < r->region_num_tags && i < TMSF_REGION_MAX_TAGS; i++)
    jb_printf(&j, "%s%d", i ? ", " : "", (int)r->region_tags[i]);
  jb_printf(&j, "], \"num_elements\": %lld, \"volume_m3\": ", (long long)r->region_num_elements);
  jb_number(&j, r->region_volume_m3);
  jb_printf(&j, "},\n  \"coil\": {\"name\": ");
  jb_string(&j, r->coil_name);
  jb_printf(&j, ", \"didt_max_A_per_s\": ");
  jb_number(&j, r->didt_max_A_per_s);
  jb_printf(&j, "},\n  \"head_from_coil_m\": ");
  jb_array(&j, r->head_from_coil_m, 16, 1.0);
  jb_printf(&j, ",\n  \"matsimnibs_mm\": [");
  for (int row = 0; row < 4; row++) {
    double v[4];
    for (int c = 0; c < 4; c++) v[c] = r->head_from_coil_m[4 * row + c] * (c == 3 && row < 3 ? 1e3 : 1.0);
    if (row) jb_printf(&j, ", ");
    jb_array(&j, v, 4, 1.0);
  }
  jb_printf(&j, "],\n  \"metric_per_A_per_us_V_per_m\": ");
  jb_number(&j, r->metric_per_A_per_us_V_per_m);
  jb_printf(&j, ",\n  \"target_V_per_m\": ");
  jb_number(&j, r->target_V_per_m);
  jb_printf(&j, ",\n  \"didt_A_per_s\": ");
  jb_number(&j, r->didt_A_per_s);
  jb_printf(&j, ",\n  \"mso_percent\": ");
  jb_number(&j, r->mso_percent);
  jb_printf(&j, ",\n  \"beyond_limit\": %s\n}\n", r->beyond_limit ? "true" : "false");
  if (length) *length = j.len;
  return TMSF_SUCCESS;
}

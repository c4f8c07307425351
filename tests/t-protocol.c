/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-protocol.c: stimulation protocols — the published numbers of each preset
 * (Huang 2005 iTBS 190 s / cTBS 40 s, 600 pulses; Gamboa 2010 prolonged 1200;
 * O'Reardon 2007 3000 pulses, 37.5 min per Blumberger 2018), pulse times against
 * times written out here from the definitions, per-pulse %MSO / dI/dt / field,
 * paired-pulse intensities, limits (108 %MSO fails naming the pulse and the
 * limit; clamp), repetition-rate limit, bad arguments, and the JSON export
 * parsed back with cJSON.
 *
 * Tolerances: times are sums of a few products of decimal numbers (rounding
 * ~1e-15 relative); 1e-12 s absolute.  Intensities are one product: 1e-12
 * relative.
 */
#include <cjson/cJSON.h>

#include "test-common.h"

#define TOL_T 1e-12

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

static tmsf_protocol *preset(tmsf_context *ctx, const char *name) {
  tmsf_protocol *p = NULL;
  REQUIRE_OK(ctx, tmsf_protocol_create_preset(ctx, name, &p));
  return p;
}

static void test_itbs(tmsf_context *ctx) {
  tmsf_protocol *p = preset(ctx, "iTBS");
  /* 80 % of RMT 50 %MSO = 40 %MSO; MagVenture MC-B70 155.33 A/us at 100 % (issue 4) */
  double q = 80.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MT, 1, &q));
  CHECK_OK(ctx, tmsf_protocol_set_motor_threshold(p, "RMT", 50.0));
  CHECK_OK(ctx, tmsf_protocol_set_didt_max(p, 155.33e6));
  CHECK_OK(ctx, tmsf_protocol_set_field_per_mso(p, 1.25, "mean |E| in ROI"));
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  int64_t n;
  tmsf_protocol_get_num_pulses(p, &n);
  CHECK(n == 600, "iTBS 600 pulses, got %lld", (long long)n);
  double nominal, span;
  CHECK_OK(ctx, tmsf_protocol_get_duration(p, &nominal, &span));
  CHECK(near(nominal, 190.0, 1e-9), "iTBS nominal 190 s (Huang 2005), got %.17g", nominal);
  /* last pulse: train 20 at 190 s + 9 bursts x 0.2 s + 2 x 0.02 s */
  CHECK(near(span, 191.84, 1e-9), "iTBS span 191.84 s, got %.17g", span);
  const double *t, *mso, *didt, *E;
  REQUIRE_OK(ctx, tmsf_protocol_get_pulses(p, &t, &mso, &didt, &E));
  const double first[7] = {0.0, 0.02, 0.04, 0.2, 0.22, 0.24, 0.4};
  for (int i = 0; i < 7; i++) CHECK(near(t[i], first[i], TOL_T), "t[%d] = %.17g, want %g", i, t[i], first[i]);
  /* train onsets every 10 s: pulse 30 k is the first of train k */
  for (int k = 0; k < 20; k++)
    CHECK(near(t[30 * k], 10.0 * k, TOL_T), "train %d onset %.17g, want %g", k + 1, t[30 * k], 10.0 * k);
  /* independent enumeration of all 600 times from the definition */
  int bad = 0;
  for (int tr = 0, i = 0; tr < 20; tr++)
    for (int b = 0; b < 10; b++)
      for (int k = 0; k < 3; k++, i++)
        if (!near(t[i], 10.0 * tr + 0.2 * b + 0.02 * k, TOL_T)) bad++;
  CHECK(bad == 0, "%d iTBS pulse times differ from 10 tr + 0.2 b + 0.02 k", bad);
  /* last pulse of a train 1.84 s after its onset, next one 8.16 s later */
  CHECK(near(t[30] - t[29], 10.0 - 1.84, TOL_T), "gap between trains %.17g", t[30] - t[29]);
  for (int i = 0; i < 600; i++) {
    if (fabs(mso[i] - 40.0) > 1e-12 * 40 || fabs(didt[i] - 0.4 * 155.33e6) > 1e-12 * 62.132e6 ||
        fabs(E[i] - 50.0) > 1e-12 * 50) {
      CHECK(0, "pulse %d: %g %%MSO, %g A/s, %g V/m; want 40, 6.2132e7, 50", i, mso[i], didt[i], E[i]);
      break;
    }
  }
  int64_t nc;
  CHECK_OK(ctx, tmsf_protocol_get_num_clamped(p, &nc));
  CHECK(nc == 0, "no clamps, got %lld", (long long)nc);
  const char *name, *pre, *src;
  tmsf_protocol_get_info(p, &name, &pre, NULL, &src);
  CHECK(!strcmp(name, "itbs") && !strcmp(pre, "itbs") && strstr(src, "Huang") && strstr(src, "2005"),
        "name %s preset %s source %s", name, pre, src);

  /* JSON parsed back */
  const char *json;
  REQUIRE_OK(ctx, tmsf_protocol_get_json(p, &json));
  cJSON *root = cJSON_Parse(json);
  CHECK(root != NULL, "JSON parses");
  if (root) {
    cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    CHECK(cJSON_IsString(fmt) && !strcmp(fmt->valuestring, "tmsfield-protocol"), "format");
    cJSON *tot = cJSON_GetObjectItemCaseSensitive(root, "totals");
    double jn = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(tot, "num_pulses"));
    double jd = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(tot, "duration_nominal_s"));
    double js = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(tot, "span_s"));
    CHECK(jn == 600 && near(jd, 190, 1e-9) && near(js, 191.84, 1e-9), "totals %g %g %g", jn, jd, js);
    cJSON *par = cJSON_GetObjectItemCaseSensitive(root, "parameters");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(par, "pulses_per_burst")) == 3 &&
              cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(par, "num_trains")) == 20,
          "parameters");
    cJSON *rule = cJSON_GetObjectItemCaseSensitive(par, "duration_rule");
    CHECK(cJSON_IsString(rule) && !strcmp(rule->valuestring, "train_onsets"), "rule");
    cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "intensity");
    cJSON *mt = cJSON_GetObjectItemCaseSensitive(in, "motor_threshold");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mt, "percent_mso")) == 50.0 &&
              !strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mt, "kind")), "RMT"),
          "motor threshold in JSON");
    cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "field");
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "metric")), "mean |E| in ROI"),
          "metric label");
    cJSON *pulses = cJSON_GetObjectItemCaseSensitive(root, "pulses");
    CHECK(cJSON_IsArray(pulses) && cJSON_GetArraySize(pulses) == 600, "600 pulses in JSON");
    int jbad = 0, i = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, pulses) {
      double jt = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "t_s"));
      double jtr = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "train"));
      double jb = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "burst"));
      if (jtr != i / 30 + 1 || jb != (i % 30) / 3 + 1) jbad++;
      double jm = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "percent_mso"));
      double jdi = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "didt_A_per_s"));
      double je = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "E_V_per_m"));
      /* cJSON prints 15 significant digits, 17 when those do not read back within
       * one DBL_EPSILON (relative): 1e-15 relative */
      if (i < 600 && (!near(jt, t[i], 1e-15 * fabs(t[i])) || !near(jm, mso[i], 1e-15 * mso[i]) ||
                      !near(jdi, didt[i], 1e-15 * didt[i]) || !near(je, E[i], 1e-15 * E[i])))
        jbad++;
      i++;
    }
    CHECK(jbad == 0, "%d JSON pulses differ from the arrays", jbad);
    cJSON_Delete(root);
  }
  tmsf_protocol_destroy(&p);
  CHECK(p == NULL, "destroy clears the pointer");
}

static void test_ctbs_and_prolonged(tmsf_context *ctx) {
  struct {
    const char *name;
    int64_t pulses;
    double nominal, span;
  } want[] = {
      {"ctbs", 600, 40.0, 39.84},        /* Huang 2005: 40 s, 600 pulses */
      {"cTBS600", 600, 40.0, 39.84},     /* alias */
      {"ctbs300", 300, 20.0, 19.84},     /* Huang 2005: 20 s */
      {"ctbs1200", 1200, 80.0, 79.84},   /* Gamboa 2010: twice as long */
      {"itbs1200", 1200, 390.0, 391.84}, /* 40 trains; onset rule: 39 x 10 s */
  };
  for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
    tmsf_protocol *p = preset(ctx, want[w].name);
    double mso = 30.0;
    CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 1, &mso));
    REQUIRE_OK(ctx, tmsf_protocol_build(p));
    int64_t n;
    double nominal, span;
    tmsf_protocol_get_num_pulses(p, &n);
    tmsf_protocol_get_duration(p, &nominal, &span);
    CHECK(n == want[w].pulses, "%s: %lld pulses, want %lld", want[w].name, (long long)n,
          (long long)want[w].pulses);
    CHECK(near(nominal, want[w].nominal, 1e-9), "%s: nominal %.17g, want %g", want[w].name, nominal,
          want[w].nominal);
    CHECK(near(span, want[w].span, 1e-9), "%s: span %.17g, want %g", want[w].name, span, want[w].span);
    const double *t, *didt, *E;
    tmsf_protocol_get_pulses(p, &t, NULL, &didt, &E);
    CHECK(didt == NULL && E == NULL, "%s: no dI/dt or field without their inputs", want[w].name);
    if (w == 0) {
      /* cTBS is continuous: every burst 0.2 s after the previous one */
      int bad = 0;
      for (int b = 0; b < 200; b++)
        for (int k = 0; k < 3; k++)
          if (!near(t[3 * b + k], 0.2 * b + 0.02 * k, TOL_T)) bad++;
      CHECK(bad == 0, "cTBS: %d times differ", bad);
    }
    tmsf_protocol_destroy(&p);
  }
}

static void test_rtms(tmsf_context *ctx) {
  /* O'Reardon 2007: 10 Hz, 4 s on, 26 s off, 75 trains = 3000 pulses; 37.5 min
   * (Blumberger 2018) = 75 x 30 s: the cycle rule */
  tmsf_protocol *p = preset(ctx, "rtms10");
  double q = 120.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MT, 1, &q));
  CHECK_OK(ctx, tmsf_protocol_set_motor_threshold(p, NULL, 55.0));
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  int64_t n;
  double nominal, span;
  tmsf_protocol_get_num_pulses(p, &n);
  tmsf_protocol_get_duration(p, &nominal, &span);
  CHECK(n == 3000, "3000 pulses, got %lld", (long long)n);
  CHECK(near(nominal, 37.5 * 60.0, 1e-9), "nominal 37.5 min, got %.17g s", nominal);
  CHECK(near(span, 74 * 30.0 + 3.9, 1e-9), "span 2223.9 s, got %.17g", span);
  const double *t, *mso;
  tmsf_protocol_get_pulses(p, &t, &mso, NULL, NULL);
  CHECK(near(t[1], 0.1, TOL_T) && near(t[39], 3.9, TOL_T) && near(t[40], 30.0, TOL_T) &&
            near(t[2999], 2223.9, 1e-9),
        "10 Hz trains: %.17g %.17g %.17g %.17g", t[1], t[39], t[40], t[2999]);
  CHECK(fabs(mso[123] - 66.0) < 1e-12 * 66, "120 %% of 55 = 66 %%MSO, got %.17g", mso[123]);
  tmsf_protocol_destroy(&p);

  /* a custom rTMS: 10 Hz, 75 x 40 built from the public timing struct */
  tmsf_protocol_timing tm = {1, 0.0, 40, 0.1, 75, 26.0, TMSF_DURATION_TRAIN_CYCLES};
  REQUIRE_OK(ctx, tmsf_protocol_create(ctx, "my-10hz", &tm, &p));
  double m = 50.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 1, &m));
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  tmsf_protocol_get_duration(p, &nominal, NULL);
  CHECK(near(nominal, 2250.0, 1e-9), "custom nominal %.17g", nominal);
  /* the onset rule on the same timing: 74 x 30 s */
  tm.duration_rule = TMSF_DURATION_TRAIN_ONSETS;
  CHECK_OK(ctx, tmsf_protocol_set_timing(p, &tm));
  const double *tt;
  CHECK(tmsf_protocol_get_pulses(p, &tt, NULL, NULL, NULL) == TMSF_ERR_STATE, "set_timing unbuilds");
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  tmsf_protocol_get_duration(p, &nominal, NULL);
  CHECK(near(nominal, 2220.0, 1e-9), "onset rule nominal %.17g", nominal);
  tmsf_protocol_destroy(&p);

  /* 1 Hz and the pain presets: counts and cycle durations */
  struct {
    const char *name;
    int64_t pulses;
    double nominal;
  } want[] = {{"rtms1", 900, 900.0}, {"rtms10-m1", 1000, 1200.0}, {"rtms20-m1", 1600, 20 * 88.0}};
  for (int w = 0; w < 3; w++) {
    p = preset(ctx, want[w].name);
    CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 1, &m));
    REQUIRE_OK(ctx, tmsf_protocol_build(p));
    tmsf_protocol_get_num_pulses(p, &n);
    tmsf_protocol_get_duration(p, &nominal, NULL);
    CHECK(n == want[w].pulses && near(nominal, want[w].nominal, 1e-9), "%s: %lld pulses, %.17g s",
          want[w].name, (long long)n, nominal);
    tmsf_protocol_destroy(&p);
  }
}

static void test_paired(tmsf_context *ctx) {
  tmsf_protocol *p = preset(ctx, "sici");
  /* conditioning 80 % RMT, test 120 % RMT, RMT 45 %MSO -> 36 and 54 %MSO */
  double q[2] = {80.0, 120.0};
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MT, 2, q));
  CHECK_OK(ctx, tmsf_protocol_set_motor_threshold(p, "RMT", 45.0));
  CHECK_OK(ctx, tmsf_protocol_set_didt_max(p, 100e6));
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  int64_t n;
  tmsf_protocol_get_num_pulses(p, &n);
  CHECK(n == 40, "20 pairs, got %lld pulses", (long long)n);
  const double *t, *mso, *didt;
  tmsf_protocol_get_pulses(p, &t, &mso, &didt, NULL);
  int bad = 0;
  for (int k = 0; k < 20; k++) {
    if (!near(t[2 * k], 5.0 * k, TOL_T) || !near(t[2 * k + 1], 5.0 * k + 0.003, TOL_T)) bad++;
    if (fabs(mso[2 * k] - 36.0) > 1e-12 * 36 || fabs(mso[2 * k + 1] - 54.0) > 1e-12 * 54) bad++;
    if (fabs(didt[2 * k] - 36e6) > 1e-12 * 36e6 || fabs(didt[2 * k + 1] - 54e6) > 1e-12 * 54e6) bad++;
  }
  CHECK(bad == 0, "SICI pairs: %d mismatches (want t = 5k, 5k + 3 ms; 36 / 54 %%MSO)", bad);
  double nominal, span;
  tmsf_protocol_get_duration(p, &nominal, &span);
  CHECK(near(nominal, 100.0, 1e-9) && near(span, 95.003, 1e-9), "SICI duration %g span %g", nominal, span);

  /* ICF with a custom ISI of 15 ms through set_timing */
  tmsf_protocol_timing tm;
  tmsf_protocol_get_timing(p, &tm);
  CHECK(near(tm.pulse_interval_s, 0.003, 0), "SICI ISI 3 ms");
  tmsf_protocol_destroy(&p);
  p = preset(ctx, "icf");
  tmsf_protocol_get_timing(p, &tm);
  CHECK(near(tm.pulse_interval_s, 0.010, 0), "ICF ISI 10 ms");
  tm.pulse_interval_s = 0.015;
  CHECK_OK(ctx, tmsf_protocol_set_timing(p, &tm));
  double m[2] = {30.0, 60.0};
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 2, m));
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  tmsf_protocol_get_pulses(p, &t, &mso, NULL, NULL);
  CHECK(near(t[1], 0.015, TOL_T) && mso[0] == 30.0 && mso[1] == 60.0, "ICF 15 ms: %g %g %g", t[1], mso[0],
        mso[1]);
  /* three intensities for a two-pulse burst is an error */
  double three[3] = {1, 2, 3};
  CHECK(tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 3, three) == TMSF_ERR_ARGUMENT,
        "3 intensities for pairs");
  tmsf_protocol_destroy(&p);
}

static void test_limits(tmsf_context *ctx) {
  /* 120 % of RMT 90 %MSO = 108 %MSO: beyond the stimulator */
  tmsf_protocol *p = preset(ctx, "itbs");
  double q = 120.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MT, 1, &q));
  CHECK_OK(ctx, tmsf_protocol_set_motor_threshold(p, "RMT", 90.0));
  CHECK_OK(ctx, tmsf_protocol_set_didt_max(p, 155.33e6));
  int rc = tmsf_protocol_build(p);
  const char *msg = tmsf_context_last_error(ctx);
  CHECK(rc == TMSF_ERR_ARGUMENT, "108 %%MSO fails, got %d", rc);
  CHECK(strstr(msg, "'itbs'") && strstr(msg, "pulse 1 of 600") && strstr(msg, "108 %MSO") &&
            strstr(msg, "120 % of RMT 90 %MSO") && strstr(msg, "limit of 100 %MSO") &&
            strstr(msg, "167.756 A/us"),
        "message names protocol, pulse, value and limit: %s", msg);
  const double *t;
  CHECK(tmsf_protocol_get_pulses(p, &t, NULL, NULL, NULL) == TMSF_ERR_STATE, "nothing built after failure");
  /* clamp on request */
  CHECK_OK(ctx, tmsf_protocol_set_limits(p, 100.0, 0.0, 1));
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  const double *mso, *didt;
  tmsf_protocol_get_pulses(p, NULL, &mso, &didt, NULL);
  int64_t nc;
  tmsf_protocol_get_num_clamped(p, &nc);
  CHECK(nc == 600 && mso[0] == 100.0 && didt[599] == 155.33e6, "clamped: %lld, %g, %g", (long long)nc,
        mso[0], didt[599]);
  /* a lower output limit (e.g. a stimulator's rTMS mode), no clamp */
  CHECK_OK(ctx, tmsf_protocol_set_limits(p, 90.0, 0.0, 0));
  double m = 91.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 1, &m));
  CHECK(tmsf_protocol_build(p) == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "limit of 90 %MSO"),
        "91 > 90: %s", tmsf_context_last_error(ctx));
  /* exactly at the rate limit passes everywhere in the session (times up to 191.84 s) */
  CHECK_OK(ctx, tmsf_protocol_set_limits(p, 100.0, 1.0 / 50.0, 0));
  m = 50.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 1, &m));
  CHECK_OK(ctx, tmsf_protocol_build(p));
  /* repetition rate: 50 Hz bursts on a stimulator limited to 30 Hz (33.3 ms) */
  CHECK_OK(ctx, tmsf_protocol_set_limits(p, 100.0, 1.0 / 30.0, 0));
  m = 50.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 1, &m));
  rc = tmsf_protocol_build(p);
  msg = tmsf_context_last_error(ctx);
  CHECK(rc == TMSF_ERR_ARGUMENT && strstr(msg, "pulse 2 of 600") && strstr(msg, "20 ms (50 Hz)") &&
            strstr(msg, "minimum interval of 33.3333 ms"),
        "rate limit: %s", msg);
  tmsf_protocol_destroy(&p);

  /* dI/dt request above the coil's maximum */
  p = preset(ctx, "rtms10");
  CHECK_OK(ctx, tmsf_protocol_set_didt_max(p, 100e6));
  double d = 120e6;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_DIDT, 1, &d));
  rc = tmsf_protocol_build(p);
  msg = tmsf_context_last_error(ctx);
  CHECK(rc == TMSF_ERR_ARGUMENT && strstr(msg, "'rtms10'") && strstr(msg, "120 %MSO") &&
            strstr(msg, "dI/dt 120 A/us") && strstr(msg, "100 A/us"),
        "dI/dt limit: %s", msg);
  /* dI/dt and field intensities convert back to %MSO */
  d = 60e6;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_DIDT, 1, &d));
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  const double *ms;
  tmsf_protocol_get_pulses(p, NULL, &ms, NULL, NULL);
  CHECK(fabs(ms[0] - 60.0) < 1e-12 * 60, "60 A/us of 100 = 60 %%MSO, got %.17g", ms[0]);
  double e = 100.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_FIELD, 1, &e));
  CHECK(tmsf_protocol_build(p) == TMSF_ERR_STATE, "field intensity needs the field per %%MSO");
  CHECK_OK(ctx, tmsf_protocol_set_field_per_mso(p, 2.0, NULL));
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  const double *E;
  tmsf_protocol_get_pulses(p, NULL, &ms, NULL, &E);
  CHECK(fabs(ms[0] - 50.0) < 1e-12 * 50 && fabs(E[0] - 100.0) < 1e-12 * 100, "100 V/m at 2 V/m per %%: %g %g",
        ms[0], E[0]);
  /* too strong a field request */
  e = 250.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_FIELD, 1, &e));
  CHECK(tmsf_protocol_build(p) == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "125 %MSO"),
        "250 V/m = 125 %%MSO fails: %s", tmsf_context_last_error(ctx));
  tmsf_protocol_destroy(&p);
}

static void test_bad_input(tmsf_context *ctx) {
  tmsf_protocol *p = NULL;
  CHECK(tmsf_protocol_create_preset(ctx, "nosuch", &p) == TMSF_ERR_NOT_FOUND && p == NULL, "unknown preset");
  CHECK(strstr(tmsf_context_last_error(ctx), "'nosuch'") && strstr(tmsf_context_last_error(ctx), "itbs"),
        "message lists presets: %s", tmsf_context_last_error(ctx));
  tmsf_protocol_timing tm = {3, 0.1, 10, 0.2, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES};
  CHECK(tmsf_protocol_create(ctx, "x", &tm, &p) == TMSF_ERR_ARGUMENT && p == NULL,
        "burst longer than its interval");
  tm = (tmsf_protocol_timing){1, 0.0, 0, 0.1, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES};
  CHECK(tmsf_protocol_create(ctx, "x", &tm, &p) == TMSF_ERR_ARGUMENT, "0 bursts");
  tm = (tmsf_protocol_timing){1, 0.0, 10, NAN, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES};
  CHECK(tmsf_protocol_create(ctx, "x", &tm, &p) == TMSF_ERR_ARGUMENT, "NaN interval");
  tm = (tmsf_protocol_timing){1, 0.0, 10000, 0.1, 10000, 1.0, TMSF_DURATION_TRAIN_CYCLES};
  CHECK(tmsf_protocol_create(ctx, "x", &tm, &p) == TMSF_ERR_ARGUMENT, "1e8 pulses");
  tm = (tmsf_protocol_timing){1, 0.0, 10, 0.1, 2, -1.0, TMSF_DURATION_TRAIN_CYCLES};
  CHECK(tmsf_protocol_create(ctx, "x", &tm, &p) == TMSF_ERR_ARGUMENT, "negative ITI");
  tm = (tmsf_protocol_timing){1, 0.0, 10, 0.1, 2, 1.0, (tmsf_duration_rule)9};
  CHECK(tmsf_protocol_create(ctx, "x", &tm, &p) == TMSF_ERR_ARGUMENT, "bad rule");

  p = preset(ctx, "ctbs");
  CHECK(tmsf_protocol_build(p) == TMSF_ERR_STATE, "no intensity");
  double q = 80.0;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MT, 1, &q));
  CHECK(tmsf_protocol_build(p) == TMSF_ERR_STATE && strstr(tmsf_context_last_error(ctx), "motor threshold"),
        "no motor threshold");
  double bad[1] = {-5};
  CHECK(tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 1, bad) == TMSF_ERR_ARGUMENT, "negative");
  CHECK(tmsf_protocol_set_motor_threshold(p, "RMT", 120) == TMSF_ERR_ARGUMENT, "MT > 100");
  CHECK(tmsf_protocol_set_didt_max(p, 0) == TMSF_ERR_ARGUMENT, "dI/dt max 0");
  CHECK(tmsf_protocol_set_field_per_mso(p, INFINITY, "x") == TMSF_ERR_ARGUMENT, "field inf");
  CHECK(tmsf_protocol_set_limits(p, 101, 0, 0) == TMSF_ERR_ARGUMENT, "limit > 100");
  CHECK(tmsf_protocol_set_intensity(p, (tmsf_intensity_unit)42, 1, &q) == TMSF_ERR_ARGUMENT, "bad unit");
  const char *json;
  CHECK(tmsf_protocol_get_json(p, &json) == TMSF_ERR_STATE, "JSON before build");
  CHECK(tmsf_protocol_write_json(p, "/nonexistent-dir/x.json") == TMSF_ERR_STATE, "write before build");
  double m = 20;
  CHECK_OK(ctx, tmsf_protocol_set_intensity(p, TMSF_INTENSITY_PERCENT_MSO, 1, &m));
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  CHECK(tmsf_protocol_write_json(p, "/nonexistent-dir/x.json") == TMSF_ERR_IO &&
            strstr(tmsf_context_last_error(ctx), "/nonexistent-dir/x.json"),
        "unwritable path named: %s", tmsf_context_last_error(ctx));

  /* a coil without dIdtmax cannot give the stimulator's maximum */
  tmsf_coil *coil;
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &coil));
  double dm;
  if (tmsf_coil_get_didt_max(coil, &dm) != TMSF_SUCCESS)
    CHECK(tmsf_protocol_set_coil(p, coil) == TMSF_ERR_NOT_FOUND, "coil without dIdtmax");
  tmsf_coil_destroy(&coil);
  /* the test coil has dIdtmax = 100 A/us */
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/testcoil.ccd"), &coil));
  CHECK_OK(ctx, tmsf_protocol_set_coil(p, coil));
  tmsf_coil_destroy(&coil);
  REQUIRE_OK(ctx, tmsf_protocol_build(p));
  const double *didt;
  tmsf_protocol_get_pulses(p, NULL, NULL, &didt, NULL);
  CHECK(didt && didt[0] == 20e6, "20 %% of 100 A/us = 2e7 A/s, got %g", didt ? didt[0] : -1);
  REQUIRE_OK(ctx, tmsf_protocol_get_json(p, &json));
  CHECK(strstr(json, "\"coil\":\t\"Test coil\""), "coil name in JSON");
  tmsf_protocol_destroy(&p);
  CHECK(tmsf_protocol_destroy(NULL) == TMSF_SUCCESS && tmsf_protocol_destroy(&p) == TMSF_SUCCESS,
        "destroy NULL");

  int np;
  const char *const *names;
  tmsf_protocol_preset_list(&np, &names);
  CHECK(np == 11 && names[np] == NULL, "11 presets, NULL-terminated");
  for (int i = 0; i < np; i++) {
    CHECK_OK(ctx, tmsf_protocol_create_preset(ctx, names[i], &p));
    const char *src;
    tmsf_protocol_get_info(p, NULL, NULL, NULL, &src);
    CHECK(src && strlen(src) > 10, "preset %s cites a source", names[i]);
    tmsf_protocol_destroy(&p);
  }
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  test_itbs(ctx);
  test_ctbs_and_prolonged(ctx);
  test_rtms(ctx);
  test_paired(ctx);
  test_limits(ctx);
  test_bad_input(ctx);
  tmsf_context_destroy(&ctx);
  return test_summary("t-protocol");
}

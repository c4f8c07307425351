/*
 * SPDX-License-Identifier: BSD-3-Clause
 * protocol.c: stimulation protocols from the clinical literature — presets,
 * pulse times, per-pulse %MSO / dI/dt / field at the target, stimulator limits,
 * JSON export (cJSON).
 *
 * Sources of the presets (facts and published parameters only):
 *  [Huang2005]     Huang YZ, Edwards MJ, Rounis E, Bhatia KP, Rothwell JC. Theta
 *                  burst stimulation of the human motor cortex. Neuron 2005;45:201-206.
 *                  TBS = bursts of 3 pulses at 50 Hz repeated at 5 Hz; cTBS: 40 s
 *                  uninterrupted (600 pulses; cTBS300: 20 s); iTBS: a 2 s train
 *                  repeated every 10 s for a total of 190 s (600 pulses); 80 % AMT.
 *  [Gamboa2010]    Gamboa OL, Antal A, Moliadze V, Paulus W. Simply longer is not
 *                  better: reversal of theta burst after-effect with prolonged
 *                  stimulation. Exp Brain Res 2010;204:181-187.  Prolonged iTBS and
 *                  cTBS, twice as long as the conventional ones (1200 pulses).
 *  [OReardon2007]  O'Reardon JP et al. Efficacy and safety of transcranial magnetic
 *                  stimulation in the acute treatment of major depression: a
 *                  multisite randomized controlled trial. Biol Psychiatry
 *                  2007;62:1208-1216.  10 pulses/s, 120 % MT, 4 s trains, 26 s
 *                  inter-train interval, 3000 pulses/session (the FDA-cleared protocol).
 *  [Blumberger2018] Blumberger DM et al. Effectiveness of theta burst versus
 *                  high-frequency rTMS in patients with depression (THREE-D): a
 *                  randomised non-inferiority trial. Lancet 2018;391:1683-1692.
 *                  10 Hz session 37.5 min; iTBS (600 pulses, 120 % RMT) ~3 min.
 *  [Lefaucheur2020] Lefaucheur JP et al. Evidence-based guidelines on the
 *                  therapeutic use of rTMS: an update (2014-2018). Clin Neurophysiol
 *                  2020;131:474-528.  Level A: high-frequency rTMS of M1
 *                  contralateral to neuropathic pain; low-frequency (<= 1 Hz) rTMS.
 *  The train structure of rtms10-m1 (Lefaucheur 2004) and rtms20-m1 (Andre-Obadia
 *  2006) is recalled from those studies and was not checked against their full
 *  text; see docs/protocol-json.md.
 *  [Kujirai1993]   Kujirai T et al. Corticocortical inhibition in human motor
 *                  cortex. J Physiol 1993;471:501-519.  Subthreshold conditioning
 *                  stimulus before a suprathreshold test stimulus: inhibition at
 *                  interstimulus intervals of 1-6 ms, facilitation at 10-15 ms.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tmsf-impl.h"

#define MAX_PULSES 1000000LL /* a day of accelerated iTBS is ~2e4; the JSON of 1e6 pulses is ~0.1 GB */

struct tmsf_protocol {
  tmsf_context *ctx;
  char *name, *preset, *description, *source;
  tmsf_protocol_timing timing;

  tmsf_intensity_unit unit;    /* 0: not set */
  int num_values;
  double values[64];           /* per position in the burst (or one for all) */
  char *mt_kind;               /* "RMT" */
  double mt_percent_mso;       /* NAN when not set */
  double didt_max;             /* A/s, NAN when not set */
  char *coil_name;             /* NULL unless set from a coil */
  double field_per_mso;        /* V/m per %MSO, NAN when not set */
  char *field_metric;
  double max_percent_mso;      /* default 100 */
  double min_interval;         /* s; 0: unchecked */
  int clamp;

  /* built */
  int built;
  int64_t num_pulses;
  double *t, *mso, *didt, *field;
  int64_t num_clamped;
  double nominal_s, span_s;
  char *json;
};

/* ------------------------------------------------------------------------- */
/* Presets                                                                   */
/* ------------------------------------------------------------------------- */

typedef struct preset_def {
  const char *name, *alias;
  tmsf_protocol_timing timing;
  const char *description;
  const char *source;
} preset_def;

static const preset_def presets[] = {
    {"itbs", "itbs600",
     {3, 0.02, 10, 0.2, 20, 8.0, TMSF_DURATION_TRAIN_ONSETS},
     "intermittent theta burst: bursts of 3 pulses at 50 Hz repeated at 5 Hz, 2 s on / 8 s "
     "off, 20 trains, 600 pulses, 190 s (Huang 2005: 80 % AMT over M1; THREE-D: 120 % RMT "
     "over left DLPFC)",
     "Huang YZ et al. Theta burst stimulation of the human motor cortex. Neuron "
     "2005;45:201-206; Blumberger DM et al. Lancet 2018;391:1683-1692"},
    {"itbs1200", NULL,
     {3, 0.02, 10, 0.2, 40, 8.0, TMSF_DURATION_TRAIN_ONSETS},
     "prolonged intermittent theta burst: iTBS twice as long, 40 trains, 1200 pulses (Gamboa "
     "2010: 80 % AMT)",
     "Gamboa OL et al. Simply longer is not better: reversal of theta burst after-effect "
     "with prolonged stimulation. Exp Brain Res 2010;204:181-187"},
    {"ctbs", "ctbs600",
     {3, 0.02, 200, 0.2, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES},
     "continuous theta burst: bursts of 3 pulses at 50 Hz repeated at 5 Hz for 40 s, 600 "
     "pulses (Huang 2005: 80 % AMT)",
     "Huang YZ et al. Theta burst stimulation of the human motor cortex. Neuron "
     "2005;45:201-206"},
    {"ctbs300", NULL,
     {3, 0.02, 100, 0.2, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES},
     "continuous theta burst for 20 s, 300 pulses (Huang 2005 cTBS300)",
     "Huang YZ et al. Theta burst stimulation of the human motor cortex. Neuron "
     "2005;45:201-206"},
    {"ctbs1200", NULL,
     {3, 0.02, 400, 0.2, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES},
     "prolonged continuous theta burst: 80 s, 1200 pulses (Gamboa 2010: 80 % AMT)",
     "Gamboa OL et al. Simply longer is not better: reversal of theta burst after-effect "
     "with prolonged stimulation. Exp Brain Res 2010;204:181-187"},
    {"rtms10", "oreardon",
     {1, 0.0, 40, 0.1, 75, 26.0, TMSF_DURATION_TRAIN_CYCLES},
     "10 Hz rTMS, 4 s trains, 26 s inter-train interval, 75 trains, 3000 pulses, 37.5 min; "
     "120 % MT over left DLPFC (the FDA-cleared depression protocol)",
     "O'Reardon JP et al. Biol Psychiatry 2007;62:1208-1216; session duration 37.5 min as "
     "in Blumberger DM et al. Lancet 2018;391:1683-1692"},
    {"rtms10-m1", NULL,
     {1, 0.0, 50, 0.1, 20, 55.0, TMSF_DURATION_TRAIN_CYCLES},
     "10 Hz rTMS of M1 contralateral to neuropathic pain: 5 s trains, 55 s inter-train "
     "interval, 20 trains, 1000 pulses, 20 min (typically 80-90 % RMT)",
     "Lefaucheur JP et al. Clin Neurophysiol 2020;131:474-528 (level A: high-frequency M1 "
     "rTMS for neuropathic pain); trains as in Lefaucheur JP et al. J Neurol Neurosurg "
     "Psychiatry 2004;75:612-616"},
    {"rtms20-m1", NULL,
     {1, 0.0, 80, 0.05, 20, 84.0, TMSF_DURATION_TRAIN_CYCLES},
     "20 Hz rTMS of M1 contralateral to neuropathic pain: 4 s trains, 84 s inter-train "
     "interval, 20 trains, 1600 pulses (typically 90 % RMT)",
     "Lefaucheur JP et al. Clin Neurophysiol 2020;131:474-528 (level A: high-frequency M1 "
     "rTMS for neuropathic pain); trains as in Andre-Obadia N et al. Clin Neurophysiol "
     "2006;117:1536-1544"},
    {"rtms1", NULL,
     {1, 0.0, 900, 1.0, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES},
     "low-frequency 1 Hz rTMS, one continuous train of 900 pulses, 15 min",
     "Lefaucheur JP et al. Clin Neurophysiol 2020;131:474-528 (low-frequency rTMS, <= 1 Hz); "
     "cf. Chen R et al. Neurology 1997;48:1398-1403 (0.9 Hz for 15 min depresses M1 "
     "excitability)"},
    {"sici", NULL,
     {2, 0.003, 20, 5.0, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES},
     "paired pulse, short-interval intracortical inhibition: conditioning pulse below motor "
     "threshold (e.g. 80 % RMT), test pulse 3 ms later (e.g. 120 % RMT), 20 pairs 5 s apart",
     "Kujirai T et al. Corticocortical inhibition in human motor cortex. J Physiol "
     "1993;471:501-519 (inhibition at 1-6 ms)"},
    {"icf", NULL,
     {2, 0.010, 20, 5.0, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES},
     "paired pulse, intracortical facilitation: conditioning pulse below motor threshold, "
     "test pulse 10 ms later, 20 pairs 5 s apart",
     "Kujirai T et al. Corticocortical inhibition in human motor cortex. J Physiol "
     "1993;471:501-519 (facilitation at 10-15 ms)"},
};
#define NUM_PRESETS ((int)(sizeof(presets) / sizeof(presets[0])))

static const char *const preset_names[] = {"itbs", "itbs1200", "ctbs", "ctbs300", "ctbs1200",
                                           "rtms10", "rtms10-m1", "rtms20-m1", "rtms1", "sici",
                                           "icf", NULL};

int tmsf_protocol_preset_list(int *num_presets, const char *const **names) {
  if (num_presets) *num_presets = NUM_PRESETS;
  if (names) *names = preset_names;
  return TMSF_SUCCESS;
}

static int str_ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
  return *a == *b;
}

/* ------------------------------------------------------------------------- */
/* Create / destroy / setters                                                */
/* ------------------------------------------------------------------------- */

static void unbuild(tmsf_protocol *p) {
  free(p->t), free(p->mso), free(p->didt), free(p->field), free(p->json);
  p->t = p->mso = p->didt = p->field = NULL;
  p->json = NULL;
  p->built = 0;
  p->num_clamped = 0;
}

static int replace_str(tmsf_context *ctx, char **dst, const char *src) {
  char *s = tmsf_strdup(src ? src : "");
  if (!s) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory copying a string");
  free(*dst);
  *dst = s;
  return TMSF_SUCCESS;
}

static int64_t timing_num_pulses(const tmsf_protocol_timing *t) {
  return (int64_t)t->pulses_per_burst * t->bursts_per_train * t->num_trains;
}

static int check_timing(tmsf_context *ctx, const char *name, const tmsf_protocol_timing *t) {
  if (t->pulses_per_burst < 1 || t->pulses_per_burst > 64)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': pulses per burst must be 1..64, got %d", name,
                      (int)t->pulses_per_burst);
  if (t->bursts_per_train < 1)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "protocol '%s': bursts per train must be >= 1, got %d",
                      name, (int)t->bursts_per_train);
  if (t->num_trains < 1)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "protocol '%s': number of trains must be >= 1, got %d",
                      name, (int)t->num_trains);
  if (!(isfinite(t->burst_interval_s) && t->burst_interval_s > 0.0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': burst interval must be finite and > 0 s, got %g", name,
                      t->burst_interval_s);
  if (t->pulses_per_burst > 1) {
    if (!(isfinite(t->pulse_interval_s) && t->pulse_interval_s > 0.0))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "protocol '%s': interval between the pulses of a burst must be finite and "
                        "> 0 s, got %g",
                        name, t->pulse_interval_s);
    if (!((t->pulses_per_burst - 1) * t->pulse_interval_s < t->burst_interval_s))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "protocol '%s': a burst of %d pulses %g s apart lasts %g s, not shorter "
                        "than the burst interval %g s",
                        name, (int)t->pulses_per_burst, t->pulse_interval_s,
                        (t->pulses_per_burst - 1) * t->pulse_interval_s, t->burst_interval_s);
  }
  if (t->num_trains > 1 && !(isfinite(t->inter_train_interval_s) && t->inter_train_interval_s >= 0.0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': inter-train interval must be finite and >= 0 s, got %g", name,
                      t->inter_train_interval_s);
  if (t->duration_rule != TMSF_DURATION_TRAIN_CYCLES && t->duration_rule != TMSF_DURATION_TRAIN_ONSETS)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "protocol '%s': unknown duration rule %d", name,
                      (int)t->duration_rule);
  if (timing_num_pulses(t) > MAX_PULSES)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': %lld pulses, more than the limit of %lld", name,
                      (long long)timing_num_pulses(t), (long long)MAX_PULSES);
  return TMSF_SUCCESS;
}

static int protocol_new(tmsf_context *ctx, tmsf_protocol **out) {
  tmsf_protocol *p = calloc(1, sizeof(*p));
  if (!p) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory creating a protocol");
  p->ctx = ctx;
  p->mt_percent_mso = NAN;
  p->didt_max = NAN;
  p->field_per_mso = NAN;
  p->max_percent_mso = 100.0;
  *out = p;
  return TMSF_SUCCESS;
}

int tmsf_protocol_create(tmsf_context *ctx, const char *name, const tmsf_protocol_timing *timing,
                         tmsf_protocol **protocol) {
  if (!ctx || !protocol) return TMSF_ERR_ARGUMENT;
  *protocol = NULL;
  if (!name || !*name) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "a protocol needs a name");
  if (!timing) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "protocol '%s': timing is NULL", name);
  TMSF_CALL(check_timing(ctx, name, timing));
  tmsf_protocol *p;
  TMSF_CALL(protocol_new(ctx, &p));
  p->timing = *timing;
  int err = replace_str(ctx, &p->name, name);
  if (!err) err = replace_str(ctx, &p->preset, "");
  if (!err) err = replace_str(ctx, &p->description, "");
  if (!err) err = replace_str(ctx, &p->source, "");
  if (err) {
    tmsf_protocol_destroy(&p);
    return err;
  }
  *protocol = p;
  return TMSF_SUCCESS;
}

int tmsf_protocol_create_preset(tmsf_context *ctx, const char *preset, tmsf_protocol **protocol) {
  if (!ctx || !protocol) return TMSF_ERR_ARGUMENT;
  *protocol = NULL;
  if (!preset) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "preset name is NULL");
  const preset_def *d = NULL;
  for (int i = 0; i < NUM_PRESETS && !d; i++)
    if (str_ieq(preset, presets[i].name) || (presets[i].alias && str_ieq(preset, presets[i].alias)))
      d = &presets[i];
  if (!d) {
    char list[512] = "";
    for (int i = 0; i < NUM_PRESETS; i++) {
      strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
      strncat(list, presets[i].name, sizeof(list) - strlen(list) - 1);
    }
    return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND, "unknown protocol preset '%s' (presets: %s)", preset,
                      list);
  }
  TMSF_CALL(tmsf_protocol_create(ctx, d->name, &d->timing, protocol));
  tmsf_protocol *p = *protocol;
  int err = replace_str(ctx, &p->preset, d->name);
  if (!err) err = replace_str(ctx, &p->description, d->description);
  if (!err) err = replace_str(ctx, &p->source, d->source);
  if (err) tmsf_protocol_destroy(protocol);
  return err;
}

int tmsf_protocol_destroy(tmsf_protocol **protocol) {
  if (!protocol || !*protocol) return TMSF_SUCCESS;
  tmsf_protocol *p = *protocol;
  unbuild(p);
  free(p->name), free(p->preset), free(p->description), free(p->source);
  free(p->mt_kind), free(p->coil_name), free(p->field_metric);
  free(p);
  *protocol = NULL;
  return TMSF_SUCCESS;
}

int tmsf_protocol_set_timing(tmsf_protocol *p, const tmsf_protocol_timing *timing) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!timing) return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "protocol '%s': timing is NULL", p->name);
  TMSF_CALL(check_timing(p->ctx, p->name, timing));
  if (p->num_values > 1 && p->num_values != timing->pulses_per_burst)
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': %d intensities are set but a burst would have %d pulses; "
                      "set the intensity again",
                      p->name, p->num_values, (int)timing->pulses_per_burst);
  unbuild(p);
  p->timing = *timing;
  return TMSF_SUCCESS;
}

int tmsf_protocol_get_timing(const tmsf_protocol *p, tmsf_protocol_timing *timing) {
  if (!p || !timing) return TMSF_ERR_ARGUMENT;
  *timing = p->timing;
  return TMSF_SUCCESS;
}

int tmsf_protocol_set_name(tmsf_protocol *p, const char *name) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!name || !*name) return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "a protocol needs a name");
  unbuild(p);
  return replace_str(p->ctx, &p->name, name);
}

int tmsf_protocol_set_description(tmsf_protocol *p, const char *description) {
  if (!p) return TMSF_ERR_ARGUMENT;
  unbuild(p);
  return replace_str(p->ctx, &p->description, description);
}

int tmsf_protocol_set_source(tmsf_protocol *p, const char *source) {
  if (!p) return TMSF_ERR_ARGUMENT;
  unbuild(p);
  return replace_str(p->ctx, &p->source, source);
}

int tmsf_protocol_get_info(const tmsf_protocol *p, const char **name, const char **preset,
                           const char **description, const char **source) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (name) *name = p->name;
  if (preset) *preset = p->preset;
  if (description) *description = p->description;
  if (source) *source = p->source;
  return TMSF_SUCCESS;
}

static const char *unit_name(tmsf_intensity_unit u) {
  switch (u) {
  case TMSF_INTENSITY_PERCENT_MSO: return "percent_mso";
  case TMSF_INTENSITY_PERCENT_MT: return "percent_mt";
  case TMSF_INTENSITY_DIDT: return "didt_A_per_s";
  case TMSF_INTENSITY_FIELD: return "field_V_per_m";
  }
  return "unset";
}

int tmsf_protocol_set_intensity(tmsf_protocol *p, tmsf_intensity_unit unit, int num_values,
                                const double *values) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (unit != TMSF_INTENSITY_PERCENT_MSO && unit != TMSF_INTENSITY_PERCENT_MT &&
      unit != TMSF_INTENSITY_DIDT && unit != TMSF_INTENSITY_FIELD)
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "protocol '%s': unknown intensity unit %d", p->name,
                      (int)unit);
  if (!values || (num_values != 1 && num_values != p->timing.pulses_per_burst))
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': give 1 intensity or %d (one per pulse of a burst), got %d",
                      p->name, (int)p->timing.pulses_per_burst, num_values);
  for (int i = 0; i < num_values; i++)
    if (!(isfinite(values[i]) && values[i] > 0.0))
      return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                        "protocol '%s': intensity %d (%s) must be finite and > 0, got %g", p->name,
                        i + 1, unit_name(unit), values[i]);
  unbuild(p);
  p->unit = unit;
  p->num_values = num_values;
  memcpy(p->values, values, (size_t)num_values * sizeof(double));
  return TMSF_SUCCESS;
}

int tmsf_protocol_set_motor_threshold(tmsf_protocol *p, const char *kind, double percent_mso) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!(isfinite(percent_mso) && percent_mso > 0.0 && percent_mso <= 100.0))
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': motor threshold must be in (0, 100] %%MSO, got %g", p->name,
                      percent_mso);
  unbuild(p);
  TMSF_CALL(replace_str(p->ctx, &p->mt_kind, kind && *kind ? kind : "RMT"));
  p->mt_percent_mso = percent_mso;
  return TMSF_SUCCESS;
}

int tmsf_protocol_set_didt_max(tmsf_protocol *p, double didt_max_A_per_s) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!(isfinite(didt_max_A_per_s) && didt_max_A_per_s > 0.0))
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': dI/dt max must be finite and > 0 A/s, got %g", p->name,
                      didt_max_A_per_s);
  unbuild(p);
  p->didt_max = didt_max_A_per_s;
  free(p->coil_name);
  p->coil_name = NULL;
  return TMSF_SUCCESS;
}

int tmsf_protocol_set_coil(tmsf_protocol *p, const tmsf_coil *coil) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!coil) return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "protocol '%s': coil is NULL", p->name);
  const char *cname = NULL;
  tmsf_coil_get_name(coil, &cname);
  double dmax;
  if (tmsf_coil_get_didt_max(coil, &dmax))
    return TMSF_ERROR(p->ctx, TMSF_ERR_NOT_FOUND,
                      "protocol '%s': coil '%s' has no dI/dt max (dIdtmax at 100 %%MSO); give the "
                      "dI/dt max as a number",
                      p->name, cname ? cname : "");
  TMSF_CALL(tmsf_protocol_set_didt_max(p, dmax));
  return replace_str(p->ctx, &p->coil_name, cname ? cname : "");
}

int tmsf_protocol_set_field_per_mso(tmsf_protocol *p, double v_per_m_per_percent, const char *metric) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!(isfinite(v_per_m_per_percent) && v_per_m_per_percent > 0.0))
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': field per %%MSO must be finite and > 0 V/m, got %g", p->name,
                      v_per_m_per_percent);
  unbuild(p);
  TMSF_CALL(replace_str(p->ctx, &p->field_metric, metric && *metric ? metric : "E"));
  p->field_per_mso = v_per_m_per_percent;
  return TMSF_SUCCESS;
}

int tmsf_protocol_set_limits(tmsf_protocol *p, double max_percent_mso, double min_pulse_interval_s,
                             int clamp) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!(isfinite(max_percent_mso) && max_percent_mso > 0.0 && max_percent_mso <= 100.0))
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': output limit must be in (0, 100] %%MSO, got %g", p->name,
                      max_percent_mso);
  if (!(isfinite(min_pulse_interval_s) && min_pulse_interval_s >= 0.0))
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': minimum pulse interval must be finite and >= 0 s, got %g",
                      p->name, min_pulse_interval_s);
  unbuild(p);
  p->max_percent_mso = max_percent_mso;
  p->min_interval = min_pulse_interval_s;
  p->clamp = clamp != 0;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Build                                                                     */
/* ------------------------------------------------------------------------- */

static double train_on_time(const tmsf_protocol_timing *t) {
  return t->bursts_per_train * t->burst_interval_s;
}

static double train_period(const tmsf_protocol_timing *t) {
  return train_on_time(t) + (t->num_trains > 1 ? t->inter_train_interval_s : 0.0);
}

/* Describe pulse i (0-based) for messages: "pulse 1 of 600 (t = 0 s; train 1, burst 1, pulse 1 of the burst)". */
static void describe_pulse(const tmsf_protocol *p, int64_t i, char *buf, size_t n) {
  const tmsf_protocol_timing *t = &p->timing;
  int64_t per_train = (int64_t)t->pulses_per_burst * t->bursts_per_train;
  int64_t train = i / per_train, r = i % per_train;
  int64_t burst = r / t->pulses_per_burst, k = r % t->pulses_per_burst;
  snprintf(buf, n, "pulse %lld of %lld (t = %.6g s; train %lld, burst %lld, pulse %lld of the burst)",
           (long long)(i + 1), (long long)p->num_pulses, p->t ? p->t[i] : 0.0, (long long)(train + 1),
           (long long)(burst + 1), (long long)(k + 1));
}

/* %MSO asked for by one intensity value, and the text of how it was asked. */
static int requested_mso(const tmsf_protocol *p, double v, double *mso, char *how, size_t n) {
  switch (p->unit) {
  case TMSF_INTENSITY_PERCENT_MSO:
    *mso = v;
    snprintf(how, n, "%.6g %%MSO", v);
    return TMSF_SUCCESS;
  case TMSF_INTENSITY_PERCENT_MT:
    if (!isfinite(p->mt_percent_mso))
      return TMSF_ERROR(p->ctx, TMSF_ERR_STATE,
                        "protocol '%s': intensity is in %% of the motor threshold but no motor "
                        "threshold is set",
                        p->name);
    *mso = v / 100.0 * p->mt_percent_mso;
    snprintf(how, n, "%.6g %% of %s %.6g %%MSO", v, p->mt_kind, p->mt_percent_mso);
    return TMSF_SUCCESS;
  case TMSF_INTENSITY_DIDT:
    if (!isfinite(p->didt_max))
      return TMSF_ERROR(p->ctx, TMSF_ERR_STATE,
                        "protocol '%s': intensity is a dI/dt but the coil's dI/dt max is not set",
                        p->name);
    *mso = 100.0 * v / p->didt_max;
    snprintf(how, n, "dI/dt %.6g A/us with a dI/dt max of %.6g A/us at 100 %%MSO", v * 1e-6,
             p->didt_max * 1e-6);
    return TMSF_SUCCESS;
  case TMSF_INTENSITY_FIELD:
    if (!isfinite(p->field_per_mso))
      return TMSF_ERROR(p->ctx, TMSF_ERR_STATE,
                        "protocol '%s': intensity is a field at the target but the field per "
                        "%%MSO is not set",
                        p->name);
    *mso = v / p->field_per_mso;
    snprintf(how, n, "%.6g V/m (%s) with %.6g V/m per %%MSO", v, p->field_metric, p->field_per_mso);
    return TMSF_SUCCESS;
  }
  return TMSF_ERROR(p->ctx, TMSF_ERR_STATE, "protocol '%s': no intensity is set", p->name);
}

int tmsf_protocol_build(tmsf_protocol *p) {
  if (!p) return TMSF_ERR_ARGUMENT;
  unbuild(p);
  const tmsf_protocol_timing *t = &p->timing;
  if (!p->unit)
    return TMSF_ERROR(p->ctx, TMSF_ERR_STATE,
                      "protocol '%s': no intensity is set (give %%MSO, %% of the motor threshold, "
                      "dI/dt or a field at the target)",
                      p->name);

  /* per position in the burst: %MSO, after the limit check or clamp */
  int npos = t->pulses_per_burst;
  double pos_mso[64];
  int pos_clamped[64];
  int over_pos = -1;
  char how[64][160];
  for (int k = 0; k < npos; k++) {
    double v = p->values[p->num_values == 1 ? 0 : k];
    TMSF_CALL(requested_mso(p, v, &pos_mso[k], how[k], sizeof(how[k])));
    pos_clamped[k] = 0;
    if (pos_mso[k] > p->max_percent_mso) {
      if (p->clamp) {
        pos_mso[k] = p->max_percent_mso;
        pos_clamped[k] = 1;
      } else if (over_pos < 0) {
        over_pos = k;
      }
    }
  }

  int64_t n = timing_num_pulses(t);
  p->num_pulses = n;
  p->t = tmsf_malloc_array((size_t)n, sizeof(double));
  p->mso = tmsf_malloc_array((size_t)n, sizeof(double));
  if (isfinite(p->didt_max)) p->didt = tmsf_malloc_array((size_t)n, sizeof(double));
  if (isfinite(p->field_per_mso)) p->field = tmsf_malloc_array((size_t)n, sizeof(double));
  if (!p->t || !p->mso || (isfinite(p->didt_max) && !p->didt) ||
      (isfinite(p->field_per_mso) && !p->field)) {
    unbuild(p);
    return TMSF_ERROR(p->ctx, TMSF_ERR_MEMORY, "protocol '%s': out of memory for %lld pulses", p->name,
                      (long long)n);
  }

  /* times from integer indices (no accumulated rounding) */
  double period = train_period(t);
  int64_t i = 0;
  for (int32_t tr = 0; tr < t->num_trains; tr++)
    for (int32_t b = 0; b < t->bursts_per_train; b++)
      for (int32_t k = 0; k < npos; k++, i++) {
        p->t[i] = tr * period + b * t->burst_interval_s + (k ? k * t->pulse_interval_s : 0.0);
        p->mso[i] = pos_mso[k];
        if (pos_clamped[k]) p->num_clamped++;
        if (p->didt) p->didt[i] = pos_mso[k] / 100.0 * p->didt_max;
        if (p->field) p->field[i] = pos_mso[k] * p->field_per_mso;
      }

  char where[256];
  if (over_pos >= 0) {
    describe_pulse(p, over_pos, where, sizeof(where));
    char didt_txt[96] = "", lim_txt[96] = "";
    if (isfinite(p->didt_max) && p->unit != TMSF_INTENSITY_DIDT) {
      snprintf(didt_txt, sizeof(didt_txt), "; dI/dt %.6g A/us", pos_mso[over_pos] / 100.0 * p->didt_max * 1e-6);
      snprintf(lim_txt, sizeof(lim_txt), " (dI/dt %.6g A/us with this coil)",
               p->max_percent_mso / 100.0 * p->didt_max * 1e-6);
    }
    double over = pos_mso[over_pos];
    unbuild(p);
    return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                      "protocol '%s': %s needs %.6g %%MSO (%s%s), above the stimulator limit of "
                      "%.6g %%MSO%s; lower the intensity or ask for a clamp",
                      p->name, where, over, how[over_pos], didt_txt, p->max_percent_mso, lim_txt);
  }

  /* repetition rate: the shortest interval between consecutive pulses */
  if (p->min_interval > 0.0) {
    for (int64_t j = 1; j < n; j++) {
      double dt = p->t[j] - p->t[j - 1];
      /* tolerance: the rounding of two times of size |t| (a 50 Hz burst at t = 190 s
       * must pass a 50 Hz limit) */
      if (dt < p->min_interval * (1.0 - 1e-9) - 8.0 * DBL_EPSILON * fabs(p->t[j])) {
        describe_pulse(p, j, where, sizeof(where));
        unbuild(p);
        return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT,
                          "protocol '%s': %s follows the previous pulse after %.6g ms (%.6g Hz), "
                          "shorter than the stimulator's minimum interval of %.6g ms (%.6g Hz)",
                          p->name, where, dt * 1e3, 1.0 / dt, p->min_interval * 1e3,
                          1.0 / p->min_interval);
      }
    }
  }

  p->span_s = p->t[n - 1] - p->t[0];
  p->nominal_s = t->duration_rule == TMSF_DURATION_TRAIN_ONSETS ? (t->num_trains - 1) * period
                                                                  : t->num_trains * period;
  p->built = 1;
  return TMSF_SUCCESS;
}

int tmsf_protocol_get_num_pulses(const tmsf_protocol *p, int64_t *num_pulses) {
  if (!p || !num_pulses) return TMSF_ERR_ARGUMENT;
  *num_pulses = timing_num_pulses(&p->timing);
  return TMSF_SUCCESS;
}

static int need_built(const tmsf_protocol *p) {
  if (!p->built)
    return TMSF_ERROR(p->ctx, TMSF_ERR_STATE,
                      "protocol '%s' is not built: call tmsf_protocol_build after setting it up",
                      p->name);
  return TMSF_SUCCESS;
}

int tmsf_protocol_get_pulses(const tmsf_protocol *p, const double **times_s, const double **percent_mso,
                             const double **didt_A_per_s, const double **field_V_per_m) {
  if (!p) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(need_built(p));
  if (times_s) *times_s = p->t;
  if (percent_mso) *percent_mso = p->mso;
  if (didt_A_per_s) *didt_A_per_s = p->didt;
  if (field_V_per_m) *field_V_per_m = p->field;
  return TMSF_SUCCESS;
}

int tmsf_protocol_get_duration(const tmsf_protocol *p, double *nominal_s, double *span_s) {
  if (!p) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(need_built(p));
  if (nominal_s) *nominal_s = p->nominal_s;
  if (span_s) *span_s = p->span_s;
  return TMSF_SUCCESS;
}

int tmsf_protocol_get_num_clamped(const tmsf_protocol *p, int64_t *num_clamped) {
  if (!p || !num_clamped) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(need_built(p));
  *num_clamped = p->num_clamped;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* JSON                                                                      */
/* ------------------------------------------------------------------------- */

/* cJSON calls return NULL on allocation failure: collect that in *ok. */
static cJSON *add_num(cJSON *o, const char *k, double v, int *ok) {
  cJSON *r = isfinite(v) ? cJSON_AddNumberToObject(o, k, v) : cJSON_AddNullToObject(o, k);
  if (!r) *ok = 0;
  return r;
}

static cJSON *add_str(cJSON *o, const char *k, const char *v, int *ok) {
  cJSON *r = v ? cJSON_AddStringToObject(o, k, v) : cJSON_AddNullToObject(o, k);
  if (!r) *ok = 0;
  return r;
}

static cJSON *add_obj(cJSON *o, const char *k, int *ok) {
  cJSON *r = cJSON_AddObjectToObject(o, k);
  if (!r) *ok = 0;
  return r;
}

static double array_min(const double *a, int64_t n) {
  double m = INFINITY;
  for (int64_t i = 0; i < n; i++) m = a[i] < m ? a[i] : m;
  return m;
}

static double array_max(const double *a, int64_t n) {
  double m = -INFINITY;
  for (int64_t i = 0; i < n; i++) m = a[i] > m ? a[i] : m;
  return m;
}

static int build_json(tmsf_protocol *p) {
  const tmsf_protocol_timing *t = &p->timing;
  int ok = 1;
  cJSON *root = cJSON_CreateObject();
  if (!root) return TMSF_ERROR(p->ctx, TMSF_ERR_MEMORY, "protocol '%s': out of memory for JSON", p->name);
  add_str(root, "format", "tmsfield-protocol", &ok);
  add_num(root, "version", 1, &ok);
  add_str(root, "name", p->name, &ok);
  add_str(root, "preset", *p->preset ? p->preset : NULL, &ok);
  add_str(root, "description", p->description, &ok);
  add_str(root, "source", p->source, &ok);

  cJSON *par = add_obj(root, "parameters", &ok);
  if (par) {
    add_num(par, "pulses_per_burst", t->pulses_per_burst, &ok);
    add_num(par, "pulse_interval_s", t->pulses_per_burst > 1 ? t->pulse_interval_s : NAN, &ok);
    add_num(par, "bursts_per_train", t->bursts_per_train, &ok);
    add_num(par, "burst_interval_s", t->burst_interval_s, &ok);
    add_num(par, "num_trains", t->num_trains, &ok);
    add_num(par, "inter_train_interval_s", t->num_trains > 1 ? t->inter_train_interval_s : NAN, &ok);
    add_num(par, "train_on_time_s", train_on_time(t), &ok);
    add_num(par, "train_period_s", train_period(t), &ok);
    add_str(par, "duration_rule",
            t->duration_rule == TMSF_DURATION_TRAIN_ONSETS ? "train_onsets" : "train_cycles", &ok);
  }

  cJSON *in = add_obj(root, "intensity", &ok);
  if (in) {
    add_str(in, "unit", unit_name(p->unit), &ok);
    cJSON *vals = cJSON_CreateDoubleArray(p->values, p->num_values);
    if (!vals || !cJSON_AddItemToObject(in, "values", vals)) ok = 0, cJSON_Delete(vals);
    if (isfinite(p->mt_percent_mso)) {
      cJSON *mt = add_obj(in, "motor_threshold", &ok);
      if (mt) {
        add_str(mt, "kind", p->mt_kind, &ok);
        add_num(mt, "percent_mso", p->mt_percent_mso, &ok);
      }
    } else if (!cJSON_AddNullToObject(in, "motor_threshold")) {
      ok = 0;
    }
  }

  cJSON *st = add_obj(root, "stimulator", &ok);
  if (st) {
    add_str(st, "coil", p->coil_name, &ok);
    add_num(st, "didt_max_A_per_s", p->didt_max, &ok);
    add_num(st, "max_percent_mso", p->max_percent_mso, &ok);
    add_num(st, "min_pulse_interval_s", p->min_interval, &ok);
    cJSON *b = cJSON_AddBoolToObject(st, "clamp", p->clamp);
    if (!b) ok = 0;
  }

  if (isfinite(p->field_per_mso)) {
    cJSON *f = add_obj(root, "field", &ok);
    if (f) {
      add_str(f, "metric", p->field_metric, &ok);
      add_num(f, "V_per_m_per_percent_mso", p->field_per_mso, &ok);
    }
  } else if (!cJSON_AddNullToObject(root, "field")) {
    ok = 0;
  }

  int64_t n = p->num_pulses;
  cJSON *tot = add_obj(root, "totals", &ok);
  if (tot) {
    add_num(tot, "num_pulses", (double)n, &ok);
    add_num(tot, "duration_nominal_s", p->nominal_s, &ok);
    add_num(tot, "span_s", p->span_s, &ok);
    add_num(tot, "num_clamped", (double)p->num_clamped, &ok);
    add_num(tot, "percent_mso_min", array_min(p->mso, n), &ok);
    add_num(tot, "percent_mso_max", array_max(p->mso, n), &ok);
    add_num(tot, "didt_max_pulse_A_per_s", p->didt ? array_max(p->didt, n) : NAN, &ok);
    add_num(tot, "field_max_pulse_V_per_m", p->field ? array_max(p->field, n) : NAN, &ok);
  }

  cJSON *pulses = cJSON_AddArrayToObject(root, "pulses");
  if (!pulses) ok = 0;
  for (int64_t i = 0; ok && i < n; i++) {
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddItemToArray(pulses, e)) {
      cJSON_Delete(e);
      ok = 0;
      break;
    }
    int64_t per_train = (int64_t)t->pulses_per_burst * t->bursts_per_train;
    add_num(e, "train", (double)(i / per_train + 1), &ok);
    add_num(e, "burst", (double)(i % per_train / t->pulses_per_burst + 1), &ok);
    add_num(e, "t_s", p->t[i], &ok);
    add_num(e, "percent_mso", p->mso[i], &ok);
    add_num(e, "didt_A_per_s", p->didt ? p->didt[i] : NAN, &ok);
    add_num(e, "E_V_per_m", p->field ? p->field[i] : NAN, &ok);
  }

  char *text = ok ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  if (!text) return TMSF_ERROR(p->ctx, TMSF_ERR_MEMORY, "protocol '%s': out of memory for JSON", p->name);
  /* keep a copy from our allocator so that free() matches */
  free(p->json);
  p->json = tmsf_strdup(text);
  cJSON_free(text);
  if (!p->json) return TMSF_ERROR(p->ctx, TMSF_ERR_MEMORY, "protocol '%s': out of memory for JSON", p->name);
  return TMSF_SUCCESS;
}

int tmsf_protocol_get_json(tmsf_protocol *p, const char **json) {
  if (!p || !json) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(need_built(p));
  if (!p->json) TMSF_CALL(build_json(p));
  *json = p->json;
  return TMSF_SUCCESS;
}

int tmsf_protocol_write_json(tmsf_protocol *p, const char *path) {
  if (!p) return TMSF_ERR_ARGUMENT;
  if (!path) return TMSF_ERROR(p->ctx, TMSF_ERR_ARGUMENT, "protocol '%s': output path is NULL", p->name);
  const char *json;
  TMSF_CALL(tmsf_protocol_get_json(p, &json));
  FILE *f = fopen(path, "wb");
  if (!f)
    return TMSF_ERROR(p->ctx, TMSF_ERR_IO, "%s: cannot write the protocol JSON: %s", path,
                      strerror(errno));
  size_t len = strlen(json);
  int bad = fwrite(json, 1, len, f) != len || fputc('\n', f) == EOF;
  bad |= fclose(f) != 0;
  if (bad) return TMSF_ERROR(p->ctx, TMSF_ERR_IO, "%s: error writing the protocol JSON", path);
  return TMSF_SUCCESS;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * protocol.h: stimulation protocols from the clinical literature (rTMS at a
 * frequency, intermittent and continuous theta burst, paired pulse, 1 Hz) —
 * pulse times, session duration, per-pulse stimulator output (%MSO), dI/dt and
 * the field at the target — and their export as JSON (docs/protocol-json.md).
 *
 * One timing model covers every family: a session is num_trains trains; a train
 * is bursts_per_train bursts, one every burst_interval_s; a burst is
 * pulses_per_burst pulses, one every pulse_interval_s; trains follow each other
 * after an inter-train interval (the pause from the end of a train's on-time,
 * bursts_per_train x burst_interval_s, to the first pulse of the next train).
 *
 *   rTMS 10 Hz (O'Reardon 2007): 1 pulse/burst, 40 bursts at 0.1 s (4 s on),
 *                                26 s pause, 75 trains = 3000 pulses
 *   iTBS (Huang 2005):           3 pulses at 0.02 s (50 Hz), 10 bursts at 0.2 s
 *                                (5 Hz, 2 s on), 8 s pause, 20 trains = 600 pulses
 *   cTBS (Huang 2005):           3 pulses at 0.02 s, 200 bursts at 0.2 s, 1 train
 *   paired pulse (Kujirai 1993): 2 pulses ISI apart, one pair every few seconds
 *
 * Pulse times: t = train x (on-time + inter-train interval) + burst x
 * burst_interval_s + pulse x pulse_interval_s, the first pulse at t = 0.
 *
 * Intensity is set per position in the burst (one value for all pulses, or one
 * per pulse of a burst: conditioning and test pulse of a pair) in %MSO, in % of
 * a motor threshold (RMT or AMT, itself in %MSO), as dI/dt (A/s) or as the field
 * at the target (V/m).  dI/dt = %MSO / 100 x the coil's dI/dt max at 100 %MSO;
 * the field at the target = %MSO x the field per %MSO there (a number computed
 * by the dose module or given by the caller, with the label of its metric).
 *
 * Limits: a pulse above the stimulator's maximum output (100 %MSO unless set
 * lower; equivalently a dI/dt above the coil's maximum) fails with an error
 * naming the protocol, the pulse and the limit, unless the caller asks for a
 * clamp; pulses closer than a minimum interval (a repetition rate the
 * stimulator cannot deliver, if the caller sets one) always fail.
 *
 * Thread safety: as for every object (common.h).
 */
#ifndef TMSFIELD_PROTOCOL_H
#define TMSFIELD_PROTOCOL_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmsf_protocol tmsf_protocol;

/**
 * How the nominal session duration is counted.  The literature uses two rules
 * and no single rule reproduces all published values:
 *  - TMSF_DURATION_TRAIN_CYCLES: num_trains x (train on-time + inter-train
 *    interval).  O'Reardon et al. 2007 / Blumberger et al. 2018 (10 Hz, 4 s on,
 *    26 s off, 75 trains): 75 x 30 s = 2250 s = 37.5 min.  cTBS (one 40 s train,
 *    Huang et al. 2005): 40 s.
 *  - TMSF_DURATION_TRAIN_ONSETS: (num_trains - 1) x (on-time + inter-train
 *    interval), the time from the first train's onset to the last train's
 *    onset.  Huang et al. 2005 iTBS ("a 2 s train of TBS repeated every 10 s
 *    for a total of 190 s", 20 trains): 19 x 10 s = 190 s.  With the cycle rule
 *    iTBS would be 200 s, and with the onset rule cTBS would be 0 s.
 * Every protocol also reports the exact span from its first to its last pulse
 * (iTBS 600: 191.84 s; cTBS 600: 39.84 s; rTMS 10 Hz 3000: 2223.9 s).
 */
typedef enum tmsf_duration_rule {
  TMSF_DURATION_TRAIN_CYCLES = 1,
  TMSF_DURATION_TRAIN_ONSETS = 2,
} tmsf_duration_rule;

/** Timing of a protocol (see the model at the top of this header). */
typedef struct tmsf_protocol_timing {
  int32_t pulses_per_burst;      /**< 1 rTMS, 3 theta burst, 2 paired pulse */
  double pulse_interval_s;       /**< onset to onset inside a burst: 0.02 (50 Hz) for TBS,
                                      the interstimulus interval for paired pulse; ignored
                                      when pulses_per_burst == 1 */
  int32_t bursts_per_train;      /**< 40 for 10 Hz x 4 s; 10 for iTBS; 200 for cTBS 600 */
  double burst_interval_s;       /**< onset to onset of bursts: 0.1 (10 Hz), 0.2 (5 Hz) */
  int32_t num_trains;            /**< 75 for O'Reardon 2007, 20 for iTBS 600, 1 for cTBS */
  double inter_train_interval_s; /**< pause after a train's on-time (26 s; 8 s for iTBS);
                                      ignored when num_trains == 1 */
  tmsf_duration_rule duration_rule;
} tmsf_protocol_timing;

/** Units of tmsf_protocol_set_intensity. */
typedef enum tmsf_intensity_unit {
  TMSF_INTENSITY_PERCENT_MSO = 1, /**< % of the stimulator's maximum output */
  TMSF_INTENSITY_PERCENT_MT = 2,  /**< % of the motor threshold (tmsf_protocol_set_motor_threshold) */
  TMSF_INTENSITY_DIDT = 3,        /**< dI/dt in A/s (needs the coil's dI/dt max) */
  TMSF_INTENSITY_FIELD = 4,       /**< field at the target in V/m (needs the field per %MSO) */
} tmsf_intensity_unit;

/**
 * Names of the built-in presets (static strings, NULL-terminated list of
 * *num_presets entries): itbs (= itbs600), itbs1200, ctbs (= ctbs600),
 * ctbs300, ctbs1200, rtms10 (O'Reardon 2007), rtms10-m1, rtms20-m1, rtms1,
 * sici, icf.  Either output may be NULL.
 */
TMSF_EXPORT int tmsf_protocol_preset_list(int *num_presets, const char *const **names);

/**
 * Create a protocol from a preset name (case-insensitive; aliases itbs600,
 * ctbs600).  The preset sets timing, duration rule, description and source;
 * the intensity, stimulator and field are left to the caller.  An unknown name
 * fails with TMSF_ERR_NOT_FOUND and a message listing the presets.
 */
TMSF_EXPORT int tmsf_protocol_create_preset(tmsf_context *ctx, const char *preset,
                                            tmsf_protocol **protocol);

/** Create a custom protocol with a name (copied) and timing (validated as in
 * tmsf_protocol_set_timing). */
TMSF_EXPORT int tmsf_protocol_create(tmsf_context *ctx, const char *name,
                                     const tmsf_protocol_timing *timing, tmsf_protocol **protocol);

/** Destroy a protocol (accepts NULL; sets *protocol = NULL). */
TMSF_EXPORT int tmsf_protocol_destroy(tmsf_protocol **protocol);

/**
 * Replace the timing (e.g. change the number of trains of a preset).  Counts
 * must be >= 1, intervals finite and > 0 where used, the pulses of a burst must
 * end before the next burst ((pulses_per_burst - 1) x pulse_interval_s <
 * burst_interval_s), and the session must have at most 10^6 pulses.
 */
TMSF_EXPORT int tmsf_protocol_set_timing(tmsf_protocol *protocol, const tmsf_protocol_timing *timing);
TMSF_EXPORT int tmsf_protocol_get_timing(const tmsf_protocol *protocol, tmsf_protocol_timing *timing);

/** Rename, or set the free-text description or literature source (copied). */
TMSF_EXPORT int tmsf_protocol_set_name(tmsf_protocol *protocol, const char *name);
TMSF_EXPORT int tmsf_protocol_set_description(tmsf_protocol *protocol, const char *description);
TMSF_EXPORT int tmsf_protocol_set_source(tmsf_protocol *protocol, const char *source);

/** Borrow the name, the preset it came from ("" for custom protocols), the
 * description and the source.  Any output may be NULL. */
TMSF_EXPORT int tmsf_protocol_get_info(const tmsf_protocol *protocol, const char **name,
                                       const char **preset, const char **description,
                                       const char **source);

/**
 * Intensity of the pulses: num_values == 1 (every pulse) or num_values ==
 * pulses_per_burst (per position in the burst: conditioning then test pulse of
 * a pair).  Values must be finite and > 0.  The unit decides what else the
 * build needs (the motor threshold, the dI/dt max or the field per %MSO).
 */
TMSF_EXPORT int tmsf_protocol_set_intensity(tmsf_protocol *protocol, tmsf_intensity_unit unit,
                                            int num_values, const double *values);

/** Motor threshold in %MSO (in (0, 100]) and its kind, e.g. "RMT" or "AMT"
 * (copied; NULL means "RMT"), for intensities in % of the motor threshold. */
TMSF_EXPORT int tmsf_protocol_set_motor_threshold(tmsf_protocol *protocol, const char *kind,
                                                  double percent_mso);

/** dI/dt of the coil on its stimulator at 100 %MSO, A/s (finite, > 0). */
TMSF_EXPORT int tmsf_protocol_set_didt_max(tmsf_protocol *protocol, double didt_max_A_per_s);

/** Take the dI/dt max (tmsf_coil_get_didt_max) and the name of a coil; fails
 * with TMSF_ERR_NOT_FOUND when the coil has no dI/dt max. */
TMSF_EXPORT int tmsf_protocol_set_coil(tmsf_protocol *protocol, const tmsf_coil *coil);

/**
 * Field at the target per %MSO (V/m per %MSO, finite and > 0) and the label of
 * its metric (copied; e.g. "mean |E| in M1 ROI"; NULL means "E").  The field of
 * each pulse is this number times its %MSO (E is linear in dI/dt).
 */
TMSF_EXPORT int tmsf_protocol_set_field_per_mso(tmsf_protocol *protocol,
                                                double field_V_per_m_per_percent_mso,
                                                const char *metric);

/**
 * Stimulator limits: the highest output a pulse may have (%MSO, in (0, 100],
 * default 100) and the shortest interval between two pulses the stimulator can
 * deliver (s, >= 0; 0, the default, checks nothing).  With clamp != 0 a pulse
 * above the output limit is set to the limit (and counted) instead of failing.
 */
TMSF_EXPORT int tmsf_protocol_set_limits(tmsf_protocol *protocol, double max_percent_mso,
                                         double min_pulse_interval_s, int clamp);

/**
 * Compute the pulses: times, %MSO, dI/dt (when the dI/dt max is known) and the
 * field at the target (when the field per %MSO is known), and check the limits.
 * Errors (TMSF_ERR_ARGUMENT) name the protocol, the first offending pulse (index,
 * time, train, burst, position), its value and the limit.  Any set call after a
 * build needs a new build before the getters.
 */
TMSF_EXPORT int tmsf_protocol_build(tmsf_protocol *protocol);

/** Number of pulses of the timing (available before the build). */
TMSF_EXPORT int tmsf_protocol_get_num_pulses(const tmsf_protocol *protocol, int64_t *num_pulses);

/**
 * Borrow the per-pulse arrays of a built protocol (num_pulses each): times in
 * s from the first pulse, output in %MSO, dI/dt in A/s and the field at the
 * target in V/m.  *didt_A_per_s is NULL without a dI/dt max, *field_V_per_m
 * NULL without a field per %MSO.  Any output may be NULL.  TMSF_ERR_STATE when
 * the protocol is not built.
 */
TMSF_EXPORT int tmsf_protocol_get_pulses(const tmsf_protocol *protocol, const double **times_s,
                                         const double **percent_mso, const double **didt_A_per_s,
                                         const double **field_V_per_m);

/**
 * Durations of a built protocol: the nominal session duration by the
 * protocol's rule (tmsf_duration_rule) and the exact span from the first to the
 * last pulse, both in s.  Either output may be NULL.
 */
TMSF_EXPORT int tmsf_protocol_get_duration(const tmsf_protocol *protocol, double *nominal_s,
                                           double *span_s);

/** Number of pulses clamped to the output limit by the last build. */
TMSF_EXPORT int tmsf_protocol_get_num_clamped(const tmsf_protocol *protocol, int64_t *num_clamped);

/**
 * The built protocol as JSON (schema "tmsfield-protocol" version 1,
 * docs/protocol-json.md): name, parameters, source, intensity, stimulator,
 * field, totals and the pulse list.  Borrowed; valid until the next call on the
 * protocol.  TMSF_ERR_STATE when not built.
 */
TMSF_EXPORT int tmsf_protocol_get_json(tmsf_protocol *protocol, const char **json);

/** Write the JSON of a built protocol to a file (created or replaced). */
TMSF_EXPORT int tmsf_protocol_write_json(tmsf_protocol *protocol, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_PROTOCOL_H */

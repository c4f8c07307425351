/*
 * SPDX-License-Identifier: BSD-3-Clause
 * waveform.h: TMS pulse waveforms — the time course of the coil's dI/dt, read
 * from measured tab-separated files (.tsv, as shipped with the Drakaki et al.
 * 2022 coil models) or built from arrays.
 *
 * The primary field scales with dI/dt, so the field of a pulse is
 *     E(t) = E_peak * w(t)
 * where w is the waveform normalised so that max_t |w(t)| = 1 and E_peak is
 * the largest |E| over the pulse (the field computed at the pulse's peak
 * dI/dt).  Between samples w is interpolated linearly; outside the sampled
 * interval it is 0.
 *
 * File format (.tsv): a header line "# Time<TAB>name<TAB>name_fit..." naming
 * the columns, then one row per sample: time in seconds followed by one
 * number per named column, separated by tabs or spaces.  Blank lines and
 * further lines starting with '#' are ignored; times must increase.
 *
 * What the shipped files hold (the .tsv files of data/coils/drakaki2022, 5,201 rows from
 * -20 us to 500 us in 0.1 us steps): a measured dI/dt column (MagPro_X100 or
 * MagStim_Rapid) and a fitted damped cosine (..._fit, zero before t = 0).  The
 * files scale both so that the fit is 1 at the start of the pulse (0.99984,
 * 0.99977 and 0.99977 at t = 0.1 us); the measured columns reach |dI/dt| of
 * 1.012 (MC-B70), 1.021 (D70) and 1.243 (DCC: its negative lobe is larger
 * than the first one).  tmsf_waveform_get_stored_peak gives that stored
 * maximum, so that a field E_1 computed at the dI/dt the file calls 1 (taken
 * here to be the coil's dI/dt at the pulse start, dIdtmax x %MSO / 100) gives
 * E(t) = E_1 x stored_peak x w(t).
 */
#ifndef TMSFIELD_WAVEFORM_H
#define TMSFIELD_WAVEFORM_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque pulse waveform. */
typedef struct tmsf_waveform tmsf_waveform;

/**
 * Pulse kinds.  Rule (tmsf_waveform_get_kind): the coil current is the running
 * integral of the waveform (trapezoidal, from the first sample); the pulse is
 * biphasic when the current reverses, i.e. its smaller excursion of the two
 * signs is at least 20 % of its larger one, and monophasic otherwise
 * (a monophasic or half-sine current pulse keeps one sign).  The shipped
 * biphasic files reverse by 81-89 %.
 */
typedef enum tmsf_waveform_kind {
  TMSF_WAVEFORM_MONOPHASIC = 1, /**< current keeps its sign */
  TMSF_WAVEFORM_BIPHASIC = 2,   /**< current reverses (one or more full cycles) */
} tmsf_waveform_kind;

/** Name of a kind ("monophasic", "biphasic"; "unknown" otherwise). */
TMSF_EXPORT const char *tmsf_waveform_kind_string(tmsf_waveform_kind kind);

/**
 * Read one column of a waveform file.  column: NULL or "measured" for the
 * first data column whose name does not end in "_fit"; "fit" or "fitted" for
 * the first whose name ends in "_fit"; otherwise a column name
 * (case-insensitive).  Errors name the file and the line (or the column) and
 * what was expected; an unknown column lists the file's columns.
 */
TMSF_EXPORT int tmsf_waveform_read(tmsf_context *ctx, const char *path, const char *column,
                                   tmsf_waveform **waveform);

/** A waveform from samples (copied): times in seconds, strictly increasing,
 * and dI/dt in any unit (normalised by the largest |value|, which must be > 0).
 * num_samples >= 2. */
TMSF_EXPORT int tmsf_waveform_create(tmsf_context *ctx, int64_t num_samples, const double *times_s,
                                     const double *values, tmsf_waveform **waveform);

/** Destroy a waveform (accepts NULL; sets *waveform = NULL). */
TMSF_EXPORT int tmsf_waveform_destroy(tmsf_waveform **waveform);

/** The column's name (the file's header), or "samples" for created ones. Borrowed. */
TMSF_EXPORT int tmsf_waveform_get_name(const tmsf_waveform *waveform, const char **name);

/** Pulse kind by the rule of tmsf_waveform_kind; *reversal (may be NULL)
 * receives the ratio of the current's smaller to its larger excursion (0..1). */
TMSF_EXPORT int tmsf_waveform_get_kind(const tmsf_waveform *waveform, tmsf_waveform_kind *kind,
                                       double *reversal);

/** Samples: times (s) and normalised values (max |value| = 1).  Borrowed. */
TMSF_EXPORT int tmsf_waveform_get_samples(const tmsf_waveform *waveform, int64_t *num_samples,
                                          const double **times_s, const double **values);

/** The largest |value| as stored in the file (or given to create), the
 * normalisation divisor; and the time of that sample (s).  Either may be NULL. */
TMSF_EXPORT int tmsf_waveform_get_stored_peak(const tmsf_waveform *waveform, double *stored_peak,
                                              double *time_s);

/**
 * Pulse duration: the span from the first to the last time at which the
 * interpolated |w(t)| reaches 1 % of its peak (crossings interpolated within
 * the sample interval).  Any output may be NULL.
 */
TMSF_EXPORT int tmsf_waveform_get_duration(const tmsf_waveform *waveform, double *start_s,
                                           double *end_s, double *duration_s);

/** w(t): linear interpolation of the normalised samples, 0 outside them. */
TMSF_EXPORT int tmsf_waveform_evaluate(const tmsf_waveform *waveform, double time_s, double *value);

/**
 * Sample a pulse: out[i] = scale * w(times_s[i]) for i < num_times.  With
 * scale = E_peak in V/m this is E(t) in V/m; with scale = the peak dI/dt in
 * A/s it is dI/dt(t).  Times need not be sorted.
 */
TMSF_EXPORT int tmsf_waveform_sample(const tmsf_waveform *waveform, double scale, int64_t num_times,
                                     const double *times_s, double *out);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_WAVEFORM_H */

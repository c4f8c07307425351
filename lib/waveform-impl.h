/*
 * SPDX-License-Identifier: BSD-3-Clause
 * waveform-impl.h: private entry points of waveform.c (never installed).
 */
#ifndef TMSF_WAVEFORM_IMPL_H
#define TMSF_WAVEFORM_IMPL_H

#include <stddef.h>

#include <tmsfield/tmsfield.h>

/* Parse a .tsv waveform held in memory; origin names it in messages. */
int tmsf_waveform_read_buffer(tmsf_context *ctx, const char *origin, const char *data, size_t size,
                              const char *column, tmsf_waveform **waveform);

#endif /* TMSF_WAVEFORM_IMPL_H */

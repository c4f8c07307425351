/*
 * SPDX-License-Identifier: BSD-3-Clause
 * output-impl.h: private helpers of the output writers (lib/output-*.c).
 */
#ifndef TMSF_OUTPUT_IMPL_H
#define TMSF_OUTPUT_IMPL_H

#include "tmsf-impl.h"

/* A fresh temporary name beside path, not existing now: the directory and
 * base of path, then ".tmp.XXXXXX", then `keep_ext` (e.g. ".nii.gz", "" for
 * none), so that writers that choose the format by extension still do.  The
 * file is created empty (O_EXCL, so the umask applies) and closed.  On
 * failure an error naming path and the system's reason.  Caller frees. */
int tmsf_output_temp_name(tmsf_context *ctx, const char *path, const char *keep_ext, char **tmp);

/* Rename tmp onto path; on failure unlink tmp and return an error naming path. */
int tmsf_output_commit(tmsf_context *ctx, const char *tmp, const char *path);

/* Whether s ends with suffix. */
int tmsf_output_ends_with(const char *s, const char *suffix);

/* m -> mm such that dividing by 1e3 gives back exactly m (as io-msh.c). */
double tmsf_output_m_to_mm(double m);

#endif

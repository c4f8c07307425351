/*
 * SPDX-License-Identifier: BSD-3-Clause
 * nnav-impl.h: in-memory entry points of the navigator-file readers
 * (lib/io-nnav.c), for the fuzz targets.  origin names the input in messages.
 */
#ifndef TMSF_NNAV_IMPL_H
#define TMSF_NNAV_IMPL_H

#include "tmsf-impl.h"

int tmsf_nnav_read_localite_buffer(tmsf_context *ctx, const char *origin, const char *data,
                                   size_t size, int *num_poses, double **head_from_coil_m,
                                   char ***names, tmsf_nnav_space *space);

int tmsf_nnav_read_brainsight_buffer(tmsf_context *ctx, const char *origin, const char *data,
                                     size_t size, tmsf_nnav_table table, int *num_poses,
                                     double **head_from_coil_m, char ***names,
                                     tmsf_nnav_space *space);

#endif

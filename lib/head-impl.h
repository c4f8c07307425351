/*
 * SPDX-License-Identifier: BSD-3-Clause
 * head-impl.h: the label-volume mesh cache of head.c with a pluggable mesher
 * (so that tests can check the cache without CGAL).
 */
#ifndef TMSF_HEAD_IMPL_H
#define TMSF_HEAD_IMPL_H

#include "tmsf-impl.h"

typedef int (*tmsf_head_mesher)(tmsf_context *ctx, const char *label_path, const char *preset,
                                void *user, tmsf_mesh **mesh);

/* Open (from the cache) or mesh (and cache) a label volume.  key_extra and
 * key_extra_size are hashed into the cache key with the file's bytes, the
 * preset and mesher_id. */
int tmsf_head_open_labels(tmsf_context *ctx, const char *label_path, const char *preset,
                          const char *mesher_id, const void *key_extra, size_t key_extra_size,
                          tmsf_head_mesher mesher, void *user, tmsf_head_info *info,
                          tmsf_mesh **mesh);

#endif

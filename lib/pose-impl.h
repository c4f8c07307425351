/*
 * SPDX-License-Identifier: BSD-3-Clause
 * pose-impl.h: the in-memory pose parser behind tmsf_pose_read (internal;
 * the fuzz target uses it).
 */
#ifndef TMSF_POSE_IMPL_H
#define TMSF_POSE_IMPL_H

#include <stddef.h>

#include <tmsfield/common.h>

/* A placement report's "pose" (JSON, mm) or 16 numbers (text, mm) from
 * buf[0..len) (need not be NUL-terminated); name labels the messages. */
int tmsf_pose_parse_buffer(tmsf_context *ctx, const char *name, const char *buf, size_t len,
                           double head_from_coil_m[16]);

#endif

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * search-impl.h: private parts of the coil casing (search.c, io-stl.c).
 */
#ifndef TMSF_SEARCH_IMPL_H
#define TMSF_SEARCH_IMPL_H

#include "tmsf-impl.h"

struct tmsf_casing {
  tmsf_context *ctx;
  int64_t nv, nt;
  double *xyz;   /* 3*nv, m, coil frame */
  int32_t *tris; /* 3*nt */
};

/* Take ownership of xyz (3*nv) and tris (3*nt) after checking them (freed
 * on failure); origin names the source in messages. */
int tmsf_casing_from_owned(tmsf_context *ctx, const char *origin, int64_t nv, double *xyz, int64_t nt,
                           int32_t *tris, tmsf_casing **casing);

/* STL from memory (io-stl.c); origin names the source in messages. */
int tmsf_stl_read_buffer(tmsf_context *ctx, const char *origin, const unsigned char *data, size_t size,
                         double scale_to_m, tmsf_casing **casing);

#endif

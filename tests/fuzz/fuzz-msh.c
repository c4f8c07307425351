/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-msh.c: libFuzzer target for the Gmsh reader (2.2/4.1, ASCII/binary) and cheap mesh queries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tmsf-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) return 0;
  tmsf_context_set_threads(ctx, 1);
  tmsf_mesh *mesh = NULL;
  int ierr = tmsf_msh_read_buffer(ctx, "fuzz.msh", data, size, &mesh);
  if (ierr) {
    /* A failure must leave a message and no object. */
    if (mesh || tmsf_context_last_error(ctx)[0] == '\0') abort();
  } else {
    int64_t nn = 0, ne = 0, nt = 0;
    tmsf_mesh_get_sizes(mesh, &nn, &ne, &nt);
    double edge = 0.0, lo[3], hi[3];
    if (tmsf_mesh_get_mean_edge(mesh, &edge) == TMSF_SUCCESS && !(edge > 0.0)) abort();
    tmsf_mesh_get_bounds(mesh, lo, hi);
    int64_t ns = 0;
    const int32_t *sn = NULL;
    const double *snrm = NULL;
    if (tmsf_mesh_get_scalp(mesh, &ns, &sn, &snrm) == TMSF_SUCCESS)
      for (int64_t i = 0; i < ns; i++)
        if (sn[i] < 0 || sn[i] >= nn) abort();
    /* Locate the bounding-box centre and one node. */
    double pts[6] = {0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]), 0.5 * (lo[2] + hi[2])};
    const double *x = NULL;
    tmsf_mesh_get_nodes(mesh, &x);
    pts[3] = x[0], pts[4] = x[1], pts[5] = x[2];
    int64_t where[2];
    if (tmsf_mesh_locate(mesh, 2, pts, where) == TMSF_SUCCESS)
      for (int k = 0; k < 2; k++)
        if (where[k] < -1 || where[k] >= ne) abort();
    double sigma;
    int ntags = 0;
    const int32_t *tags = NULL;
    tmsf_mesh_get_tags(mesh, &ntags, &tags);
    for (int k = 0; k < ntags && k < 4; k++) tmsf_mesh_get_conductivity(mesh, tags[k], &sigma);
    tmsf_mesh_destroy(&mesh);
  }
  tmsf_context_destroy(&ctx);
  return 0;
}

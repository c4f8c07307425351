/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-stl.c: libFuzzer target for the STL casing reader and, for one input
 * in 8, the collision test points and a one-pose search with the casing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "search-impl.h"
#include "../test-mesh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tmsf_context *search_ctx;
static tmsf_mesh *search_box;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tmsf_context *ctx = NULL;
  if (tmsf_context_create(&ctx)) return 0;
  tmsf_context_set_threads(ctx, 1);
  tmsf_casing *c = NULL;
  int ierr = tmsf_stl_read_buffer(ctx, "fuzz.stl", data, size, 1e-3, &c);
  if (ierr) {
    if (c || tmsf_context_last_error(ctx)[0] == '\0') abort();
  } else {
    int64_t nv = -1, nt = -1;
    const double *x = NULL;
    const int32_t *t = NULL;
    if (tmsf_casing_get_sizes(c, &nv, &nt) || tmsf_casing_get_vertices(c, &x) || tmsf_casing_get_triangles(c, &t))
      abort();
    if (nv < 1 || nt < 1 || nv > 3 * nt || !x || !t) abort();
    for (int64_t i = 0; i < 3 * nv; i++)
      if (!isfinite(x[i]) || fabs(x[i]) > 1.0) abort();
    for (int64_t i = 0; i < 3 * nt; i++)
      if (t[i] < 0 || t[i] >= nv) abort();
    if (size % 8 == 3 && nt <= 200) {
      if (!search_box) { /* a 40 mm box head, made once */
        if (tmsf_context_create(&search_ctx) || tmsf_context_set_threads(search_ctx, 1) ||
            test_box_mesh(search_ctx, 2, 0.02, 5, &search_box))
          abort();
      }
      tmsf_search_params p;
      tmsf_search_params_default(&p);
      p.radius_m = 0.0;
      p.angle_step_deg = 360.0;
      p.casing_spacing_m = 0.05;
      const double target[3] = {0.02, 0.02, 0.03};
      tmsf_search *s = NULL;
      int e = tmsf_search_create(search_box, target, &p, c, NULL, &s);
      if (e == TMSF_SUCCESS) {
        int64_t n = 0;
        const double *poses = NULL;
        double cl = 0;
        int valid = -1;
        tmsf_search_get_num_poses(s, &n);
        tmsf_search_get_poses(s, &poses, NULL, NULL, NULL);
        if (n != 1 || tmsf_search_pose_clearance(s, poses, &cl, &valid) || valid != 1 || !(cl >= -1e-9)) abort();
      } else if (s || (e != TMSF_ERR_NOT_FOUND && e != TMSF_ERR_ARGUMENT) ||
                 tmsf_context_last_error(search_ctx)[0] == '\0') {
        abort();
      }
      tmsf_search_destroy(&s);
    }
    tmsf_casing_destroy(&c);
  }
  tmsf_context_destroy(&ctx);
  return 0;
}

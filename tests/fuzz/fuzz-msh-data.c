/*
 * SPDX-License-Identifier: BSD-3-Clause
 * fuzz-msh-data.c: libFuzzer target for E read back from a Gmsh file
 * (tmsf_msh_read_field_buffer: $ElementData "E", 2.2 / 4.1, ASCII / binary)
 * and, for small meshes, the cortex picture of that field (the rasteriser on
 * arbitrary geometry and values: NaN, huge, degenerate triangles).
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
  if (tmsf_msh_read_buffer(ctx, "fuzz.msh", data, size, &mesh)) {
    tmsf_context_destroy(&ctx);
    return 0;
  }
  tmsf_field *field = NULL;
  int ierr = tmsf_msh_read_field_buffer(mesh, "fuzz.msh", data, size, &field);
  if (ierr) {
    /* A failure must leave a message and no object. */
    if (field || tmsf_context_last_error(ctx)[0] == '\0') abort();
  } else {
    int64_t ne = 0;
    tmsf_mesh_get_sizes(mesh, NULL, &ne, NULL);
    int ntags = 0;
    const int32_t *tags = NULL;
    tmsf_mesh_get_tags(mesh, &ntags, &tags);
    if (ne <= 5000 && ntags > 0) {
      tmsf_render_params p;
      tmsf_render_params_default(&p);
      p.width_px = 200;
      p.height_px = 150;
      p.surface_tag = 1000 + tags[0];
      p.title = "fuzz";
      tmsf_picture *pic = NULL;
      tmsf_render_info info;
      int e = tmsf_render_cortex(field, NULL, NULL, NULL, NULL, &p, &pic, &info);
      if (e && (pic || tmsf_context_last_error(ctx)[0] == '\0')) abort();
      if (!e && !pic) abort();
      tmsf_picture_destroy(&pic);
    }
    tmsf_field_destroy(&field);
  }
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return 0;
}

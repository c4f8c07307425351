/*
 * SPDX-License-Identifier: BSD-3-Clause
 * shell-mesh.h: a concentric-shell "head" for the surface, target and head
 * tests: data/spheres/sphere3.msh with its tags remapped so that the shells
 * mimic white matter (r < 85 mm, tag 1), grey matter (85-90 mm, tag 2) and
 * CSF (90-95 mm, tag 3); triangles 1003 -> 1001 (r = 85 mm, the white
 * surface), 1004 -> 1002 (r = 90 mm, pial), 1005 -> 1003.
 */
#ifndef TMSF_SHELL_MESH_H
#define TMSF_SHELL_MESH_H

#include "test-common.h"

#define SHELL_R_WHITE 0.085
#define SHELL_R_PIAL 0.090
#define SHELL_R_OUT 0.095

/* with_triangles 0: no triangles (surfaces are then derived from the tets). */
static inline int shell_mesh(tmsf_context *ctx, int with_triangles, tmsf_mesh **out) {
  tmsf_mesh *src = NULL;
  int ierr = tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &src);
  if (ierr) return ierr;
  int64_t nn, ne, nt;
  const double *x;
  const int32_t *tets, *tags, *tris, *ttags;
  tmsf_mesh_get_sizes(src, &nn, &ne, &nt);
  tmsf_mesh_get_nodes(src, &x);
  tmsf_mesh_get_tetrahedra(src, &tets, &tags);
  tmsf_mesh_get_triangles(src, &tris, &ttags);
  int32_t *nt_tags = malloc(sizeof(int32_t) * (size_t)ne);
  int32_t *ntri_tags = malloc(sizeof(int32_t) * (size_t)(nt + 1));
  for (int64_t e = 0; e < ne; e++) nt_tags[e] = tags[e] - 2;
  for (int64_t f = 0; f < nt; f++) ntri_tags[f] = ttags[f] - 2;
  ierr = tmsf_mesh_create(ctx, nn, x, ne, tets, nt_tags, with_triangles ? nt : 0, with_triangles ? tris : NULL,
                          with_triangles ? ntri_tags : NULL, out);
  free(nt_tags);
  free(ntri_tags);
  tmsf_mesh_destroy(&src);
  return ierr;
}

static inline double norm3(const double *v) { return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

#endif

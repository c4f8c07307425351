/*
 * SPDX-License-Identifier: BSD-3-Clause
 * surface-impl.h: private geometry shared by surface.c and targets.c —
 * closest point on a triangle and a uniform grid of triangles for nearest-
 * point queries.
 */
#ifndef TMSF_SURFACE_IMPL_H
#define TMSF_SURFACE_IMPL_H

#include "tmsf-impl.h"

/* Closest point q of triangle abc to p; returns |p - q|^2. */
double tmsf_closest_on_triangle(const double p[3], const double a[3], const double b[3],
                                const double c[3], double q[3]);

/* A uniform grid over the bounding boxes of triangles (borrowed arrays). */
typedef struct tmsf_tri_grid {
  const double *xyz;   /* vertices, 3 each */
  const int32_t *tris; /* 3 each */
  int64_t num_tris;
  double lo[3], cell;
  int64_t dims[3];
  int64_t *ptr;   /* cells + 1 */
  int64_t *items; /* triangle indices per cell */
} tmsf_tri_grid;

int tmsf_tri_grid_build(tmsf_context *ctx, const double *xyz, int64_t num_tris, const int32_t *tris,
                        tmsf_tri_grid **grid);
void tmsf_tri_grid_free(tmsf_tri_grid *grid);
/* Nearest point q of the triangles to p: its triangle and squared distance
 * (tri -1 when the grid has no triangle).  Thread-safe. */
void tmsf_tri_grid_nearest(const tmsf_tri_grid *grid, const double p[3], double q[3], int64_t *tri,
                           double *dist2);
/* The grid of a surface's triangles (borrowed; surface.c). */
const tmsf_tri_grid *tmsf_surface_tri_grid(const tmsf_surface *surface);

#endif

/* The boundary faces of the tetrahedra of one tag: a face of a tetrahedron
 * of that tag whose neighbour across the face is missing or has a tag that
 * is larger (nested != 0: the outer boundary of tissues 1..tag) or merely
 * different (nested == 0: the whole boundary of the tissue).  faces: 3 node
 * indices each, oriented with the normal pointing out of the tetrahedron;
 * tets: the tetrahedron on the tissue side.  Caller frees both. */
int tmsf_tissue_boundary(const tmsf_mesh *mesh, int32_t tag, int nested, int64_t *num_faces,
                         int32_t **faces, int64_t **tets);

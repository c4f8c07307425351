/*
 * SPDX-License-Identifier: BSD-3-Clause
 * test-mesh.h: a structured box mesh for unit tests — n^3 cubes of side h
 * (metres), each split into 6 positively oriented tetrahedra (Kuhn
 * triangulation, conforming across cubes).
 */
#ifndef TMSF_TEST_MESH_H
#define TMSF_TEST_MESH_H

#include <stdint.h>
#include <stdlib.h>

#include <tmsfield/tmsfield.h>

/* Builds nodes (3*(n+1)^3) and tets (4*6*n^3); tags all `tag`. Caller frees. */
static inline void test_box_arrays(int n, double h, double **nodes, int32_t **tets,
                                   int32_t **tags, int64_t *nn, int64_t *ne, int32_t tag) {
  int m = n + 1;
  *nn = (int64_t)m * m * m;
  *ne = 6 * (int64_t)n * n * n;
  *nodes = malloc(sizeof(double) * 3 * (size_t)*nn);
  *tets = malloc(sizeof(int32_t) * 4 * (size_t)*ne);
  *tags = malloc(sizeof(int32_t) * (size_t)*ne);
  for (int k = 0; k < m; k++)
    for (int j = 0; j < m; j++)
      for (int i = 0; i < m; i++) {
        int64_t id = ((int64_t)k * m + j) * m + i;
        (*nodes)[3 * id] = i * h;
        (*nodes)[3 * id + 1] = j * h;
        (*nodes)[3 * id + 2] = k * h;
      }
  /* Kuhn: the 6 monotone paths from corner 000 to 111 */
  static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  int64_t e = 0;
  for (int k = 0; k < n; k++)
    for (int j = 0; j < n; j++)
      for (int i = 0; i < n; i++)
        for (int p = 0; p < 6; p++) {
          int c[3] = {i, j, k};
          int32_t v[4];
          v[0] = (int32_t)(((int64_t)c[2] * m + c[1]) * m + c[0]);
          for (int s = 0; s < 3; s++) {
            c[perm[p][s]]++;
            v[s + 1] = (int32_t)(((int64_t)c[2] * m + c[1]) * m + c[0]);
          }
          /* orientation: fix by swapping if negative */
          const double *a = *nodes + 3 * v[0], *b = *nodes + 3 * v[1], *cc = *nodes + 3 * v[2],
                       *d = *nodes + 3 * v[3];
          double u1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
          double u2[3] = {cc[0] - a[0], cc[1] - a[1], cc[2] - a[2]};
          double u3[3] = {d[0] - a[0], d[1] - a[1], d[2] - a[2]};
          double det = u1[0] * (u2[1] * u3[2] - u2[2] * u3[1]) - u1[1] * (u2[0] * u3[2] - u2[2] * u3[0]) +
                       u1[2] * (u2[0] * u3[1] - u2[1] * u3[0]);
          if (det < 0) {
            int32_t t = v[2];
            v[2] = v[3];
            v[3] = t;
          }
          for (int q = 0; q < 4; q++) (*tets)[4 * e + q] = v[q];
          (*tags)[e] = tag;
          e++;
        }
}

/* Gradients of the barycentric shape functions of tetrahedron t (written here
 * independently of the library, from the cofactors of [x1-x0, x2-x0, x3-x0]);
 * returns 6 times the signed volume. */
static inline double test_tet_gradients(const double *x, const int32_t *t, double g[4][3]) {
  double J[3][3];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) J[r][c] = x[3 * t[r + 1] + c] - x[3 * t[0] + c];
  double det = J[0][0] * (J[1][1] * J[2][2] - J[1][2] * J[2][1]) - J[0][1] * (J[1][0] * J[2][2] - J[1][2] * J[2][0]) +
               J[0][2] * (J[1][0] * J[2][1] - J[1][1] * J[2][0]);
  for (int r = 0; r < 3; r++) {
    int r1 = (r + 1) % 3, r2 = (r + 2) % 3;
    double cr[3] = {J[r1][1] * J[r2][2] - J[r1][2] * J[r2][1], J[r1][2] * J[r2][0] - J[r1][0] * J[r2][2],
                    J[r1][0] * J[r2][1] - J[r1][1] * J[r2][0]};
    for (int c = 0; c < 3; c++) g[r + 1][c] = cr[c] / det;
  }
  for (int c = 0; c < 3; c++) g[0][c] = -(g[1][c] + g[2][c] + g[3][c]);
  return det;
}

static inline int test_box_mesh(tmsf_context *ctx, int n, double h, int32_t tag, tmsf_mesh **mesh) {
  double *nodes;
  int32_t *tets, *tags;
  int64_t nn, ne;
  test_box_arrays(n, h, &nodes, &tets, &tags, &nn, &ne, tag);
  int ierr = tmsf_mesh_create(ctx, nn, nodes, ne, tets, tags, 0, NULL, NULL, mesh);
  free(nodes);
  free(tets);
  free(tags);
  return ierr;
}

#endif

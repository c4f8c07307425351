/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-mesh.c: the mesh object — creation from arrays, geometry queries,
 * conductivities, the scalp surface and its normals, point location.
 */
#include "test-common.h"
#include "test-mesh.h"

static void test_box(tmsf_context *ctx) {
  tmsf_mesh *mesh;
  const int n = 4;
  const double h = 0.01;
  REQUIRE_OK(ctx, test_box_mesh(ctx, n, h, 2, &mesh));
  int64_t nn, ne, nt;
  CHECK_OK(ctx, tmsf_mesh_get_sizes(mesh, &nn, &ne, &nt));
  CHECK(nn == 125 && ne == 384 && nt == 0, "sizes %lld %lld %lld", (long long)nn, (long long)ne, (long long)nt);
  /* volumes: positive and summing to the box volume (exact up to rounding) */
  double *vol = malloc(sizeof(double) * (size_t)ne), total = 0.0;
  CHECK_OK(ctx, tmsf_mesh_get_volumes(mesh, vol));
  int allpos = 1;
  for (int64_t e = 0; e < ne; e++) {
    total += vol[e];
    allpos &= vol[e] > 0.0;
  }
  free(vol);
  CHECK(allpos, "all volumes positive");
  CHECK_REL(total, pow(n * h, 3), 1e-12, "box volume");
  double lo[3], hi[3];
  CHECK_OK(ctx, tmsf_mesh_get_bounds(mesh, lo, hi));
  for (int c = 0; c < 3; c++) {
    CHECK_REL(lo[c], 0.0, 1e-15, "bound lo");
    CHECK_REL(hi[c], n * h, 1e-15, "bound hi");
  }
  /* Kuhn cubes: 3 axis edges, 3 face diagonals, 1 space diagonal per cube
   * pattern; check against a count done here: edges of lengths h, h*sqrt2, h*sqrt3 */
  double edge;
  CHECK_OK(ctx, tmsf_mesh_get_mean_edge(mesh, &edge));
  {
    /* axis edges: 3*n*(n+1)^2; face diagonals: 3*n^2*(n+1); space diagonals: n^3 */
    double na = 3.0 * n * (n + 1) * (n + 1), nf = 3.0 * n * n * (n + 1), ns = (double)n * n * n;
    double want = h * (na + nf * sqrt(2.0) + ns * sqrt(3.0)) / (na + nf + ns);
    CHECK_REL(edge, want, 1e-12, "mean edge");
  }
  int ntags;
  const int32_t *tags;
  CHECK_OK(ctx, tmsf_mesh_get_tags(mesh, &ntags, &tags));
  CHECK(ntags == 1 && tags[0] == 2, "tags");

  /* conductivities: defaults, overrides, invalid values, unknown tags */
  double s;
  CHECK_OK(ctx, tmsf_mesh_get_conductivity(mesh, 2, &s));
  CHECK(s == 0.275, "GM default %g", s);
  CHECK_OK(ctx, tmsf_conductivity_default(1005, &s));
  CHECK(s == 0.465, "surface tag default %g", s);
  CHECK(tmsf_conductivity_default(11, &s) == TMSF_ERR_NOT_FOUND, "tag 11 has no default");
  CHECK_OK(ctx, tmsf_mesh_set_conductivity(mesh, 2, 0.3));
  CHECK_OK(ctx, tmsf_mesh_get_conductivity(mesh, 2, &s));
  CHECK(s == 0.3, "override %g", s);
  CHECK(tmsf_mesh_set_conductivity(mesh, 2, -1.0) == TMSF_ERR_CONDUCTIVITY, "negative sigma");
  CHECK(tmsf_mesh_set_conductivity(mesh, 2, NAN) == TMSF_ERR_CONDUCTIVITY, "NaN sigma");
  CHECK(tmsf_mesh_get_conductivity(mesh, 77, &s) == TMSF_ERR_NOT_FOUND, "no sigma for 77");
  CHECK(strstr(tmsf_context_last_error(ctx), "77") != NULL, "message names tag: %s", tmsf_context_last_error(ctx));
  CHECK_OK(ctx, tmsf_mesh_set_conductivity(mesh, 77, 2.0));
  CHECK_OK(ctx, tmsf_mesh_get_conductivity(mesh, 77, &s));
  CHECK(s == 2.0, "new tag");

  /* scalp of a box without triangles: the outer boundary; normals point out */
  int64_t ns;
  const int32_t *sn;
  const double *nrm;
  const double *nodes;
  tmsf_mesh_get_nodes(mesh, &nodes);
  CHECK_OK(ctx, tmsf_mesh_get_scalp(mesh, &ns, &sn, &nrm));
  CHECK(ns == 125 - 27, "boundary nodes %lld", (long long)ns);
  int out_ok = 1;
  for (int64_t i = 0; i < ns; i++) {
    const double *x = nodes + 3 * sn[i];
    double d[3] = {x[0] - 0.5 * n * h, x[1] - 0.5 * n * h, x[2] - 0.5 * n * h};
    double dot = d[0] * nrm[3 * i] + d[1] * nrm[3 * i + 1] + d[2] * nrm[3 * i + 2];
    double len = sqrt(nrm[3 * i] * nrm[3 * i] + nrm[3 * i + 1] * nrm[3 * i + 1] + nrm[3 * i + 2] * nrm[3 * i + 2]);
    out_ok &= dot > 0.0 && fabs(len - 1.0) < 1e-12;
    /* a node in the middle of the top face has normal +z */
    if (fabs(x[2] - n * h) < 1e-12 && x[0] > 0.5 * h && x[0] < (n - 0.5) * h && x[1] > 0.5 * h &&
        x[1] < (n - 0.5) * h)
      CHECK(fabs(nrm[3 * i + 2] - 1.0) < 1e-12, "top face normal (%g %g %g)", nrm[3 * i], nrm[3 * i + 1], nrm[3 * i + 2]);
  }
  CHECK(out_ok, "boundary normals unit and outward");

  /* location: centres of some tetrahedra, and outside points */
  const int32_t *tets;
  tmsf_mesh_get_tetrahedra(mesh, &tets, NULL);
  double pts[3 * 12];
  int64_t want[12], got[12];
  for (int q = 0; q < 10; q++) {
    int64_t e = (q * 37) % ne;
    for (int c = 0; c < 3; c++)
      pts[3 * q + c] = 0.25 * (nodes[3 * tets[4 * e] + c] + nodes[3 * tets[4 * e + 1] + c] +
                               nodes[3 * tets[4 * e + 2] + c] + nodes[3 * tets[4 * e + 3] + c]);
    want[q] = e;
  }
  pts[30] = -0.001, pts[31] = 0.01, pts[32] = 0.01, want[10] = -1;
  pts[33] = 0.02, pts[34] = 0.02, pts[35] = 0.0400001, want[11] = -1;
  CHECK_OK(ctx, tmsf_mesh_locate(mesh, 12, pts, got));
  for (int q = 0; q < 12; q++) CHECK(got[q] == want[q], "point %d in tet %lld, want %lld", q, (long long)got[q], (long long)want[q]);
  tmsf_mesh_destroy(&mesh);
}

static void test_create_errors(tmsf_context *ctx) {
  /* one tetrahedron, then broken variants */
  double x[12] = {0, 0, 0, 1e-3, 0, 0, 0, 1e-3, 0, 0, 0, 1e-3};
  int32_t t[4] = {0, 1, 2, 3}, tag = 5;
  tmsf_mesh *m = NULL;
  CHECK_OK(ctx, tmsf_mesh_create(ctx, 4, x, 1, t, &tag, 0, NULL, NULL, &m));
  tmsf_mesh_destroy(&m);
  int32_t inv[4] = {0, 2, 1, 3};
  CHECK(tmsf_mesh_create(ctx, 4, x, 1, inv, &tag, 0, NULL, NULL, &m) == TMSF_ERR_MESH && !m, "inverted");
  CHECK(strstr(tmsf_context_last_error(ctx), "inverted"), "%s", tmsf_context_last_error(ctx));
  double flat[12] = {0, 0, 0, 1e-3, 0, 0, 0, 1e-3, 0, 1e-3, 1e-3, 0};
  CHECK(tmsf_mesh_create(ctx, 4, flat, 1, t, &tag, 0, NULL, NULL, &m) == TMSF_ERR_MESH, "degenerate");
  CHECK(strstr(tmsf_context_last_error(ctx), "degenerate"), "%s", tmsf_context_last_error(ctx));
  int32_t oob[4] = {0, 1, 2, 4};
  CHECK(tmsf_mesh_create(ctx, 4, x, 1, oob, &tag, 0, NULL, NULL, &m) == TMSF_ERR_MESH, "out of range");
  double nanx[12] = {0, 0, 0, 1e-3, 0, 0, 0, NAN, 0, 0, 0, 1e-3};
  CHECK(tmsf_mesh_create(ctx, 4, nanx, 1, t, &tag, 0, NULL, NULL, &m) == TMSF_ERR_MESH, "NaN");
  CHECK(strstr(tmsf_context_last_error(ctx), "node 3"), "%s", tmsf_context_last_error(ctx));
  int32_t tri[3] = {0, 1, 9}, tritag = 1005;
  CHECK(tmsf_mesh_create(ctx, 4, x, 1, t, &tag, 1, tri, &tritag, &m) == TMSF_ERR_MESH, "triangle out of range");
}

static void test_sphere_scalp(tmsf_context *ctx) {
  /* sphere3 has 1005 triangles at r = 95 mm: scalp nodes on that sphere with
   * radial normals (smoothed average of facet normals: within a few degrees) */
  tmsf_mesh *mesh;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  int64_t ns;
  const int32_t *sn;
  const double *nrm, *nodes;
  tmsf_mesh_get_nodes(mesh, &nodes);
  REQUIRE_OK(ctx, tmsf_mesh_get_scalp(mesh, &ns, &sn, &nrm));
  double worst = 1.0, rmin = 1, rmax = 0;
  for (int64_t i = 0; i < ns; i++) {
    const double *x = nodes + 3 * sn[i];
    double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    double c = (x[0] * nrm[3 * i] + x[1] * nrm[3 * i + 1] + x[2] * nrm[3 * i + 2]) / r;
    if (c < worst) worst = c;
    if (r < rmin) rmin = r;
    if (r > rmax) rmax = r;
  }
  CHECK(fabs(rmin - 0.095) < 1e-6 && fabs(rmax - 0.095) < 1e-6, "scalp radii %g..%g", rmin, rmax);
  CHECK(worst > cos(5.0 * 3.14159265358979323846 / 180.0), "normals within 5 degrees of radial (cos %g)", worst);
  tmsf_mesh_destroy(&mesh);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  test_box(ctx);
  test_create_errors(ctx);
  test_sphere_scalp(ctx);
  tmsf_context_destroy(&ctx);
  return test_summary("mesh");
}

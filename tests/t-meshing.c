/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-meshing.c: CGAL meshing of small synthetic label volumes written with
 * niftilib (two nested spheres, a cube in a cube with a reflected, anisotropic
 * affine) and CGAL sphere models: tags, interface triangles and their
 * orientation, tissue volumes against voxel volumes and analytic volumes, no
 * inverted elements, the affine applied, the quality report.
 */
#include <unistd.h>

#include "test-common.h"
#include "test-labels.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#if TMSF_HAVE_NIFTI && TMSF_HAVE_CGAL

static char tmpdir[256];

/* Volume-weighted centroid (mm) and volume (mm^3) of the tetrahedra with a tag. */
static double tag_centroid(const tmsf_mesh *mesh, int32_t tag, double c[3]) {
  int64_t nn, ne;
  tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
  const double *x;
  const int32_t *t, *tg;
  tmsf_mesh_get_nodes(mesh, &x);
  tmsf_mesh_get_tetrahedra(mesh, &t, &tg);
  double *vol = malloc(sizeof(double) * (size_t)ne), V = 0;
  tmsf_mesh_get_volumes(mesh, vol);
  c[0] = c[1] = c[2] = 0;
  for (int64_t e = 0; e < ne; e++) {
    if (tg[e] != tag) continue;
    for (int k = 0; k < 4; k++)
      for (int d = 0; d < 3; d++) c[d] += 0.25 * vol[e] * x[3 * (size_t)t[4 * e + k] + d];
    V += vol[e];
  }
  for (int d = 0; d < 3; d++) c[d] = 1e3 * c[d] / V;
  free(vol);
  return V * 1e9;
}

/* Triangles with a tag: count, mean and max |distance from centre - r|, and the
 * number whose normal points towards the centre (should be 0: outward). */
static int64_t surface_stats(const tmsf_mesh *mesh, int32_t tag, const double c[3], double r,
                             double *mean_dev, double *max_dev, int64_t *inward) {
  int64_t nt;
  tmsf_mesh_get_sizes(mesh, NULL, NULL, &nt);
  const double *x;
  const int32_t *t, *tg;
  tmsf_mesh_get_nodes(mesh, &x);
  tmsf_mesh_get_triangles(mesh, &t, &tg);
  int64_t n = 0;
  *mean_dev = *max_dev = 0;
  *inward = 0;
  for (int64_t e = 0; e < nt; e++) {
    if (tg[e] != tag) continue;
    double p[3][3], g[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++)
      for (int d = 0; d < 3; d++) {
        p[k][d] = 1e3 * x[3 * (size_t)t[3 * e + k] + d];
        g[d] += p[k][d] / 3.0;
      }
    for (int k = 0; k < 3; k++) {
      double q = sqrt(pow(p[k][0] - c[0], 2) + pow(p[k][1] - c[1], 2) + pow(p[k][2] - c[2], 2));
      *mean_dev += fabs(q - r);
      *max_dev = fmax(*max_dev, fabs(q - r));
    }
    double u[3], v[3], nrm[3];
    for (int d = 0; d < 3; d++) {
      u[d] = p[1][d] - p[0][d];
      v[d] = p[2][d] - p[0][d];
    }
    nrm[0] = u[1] * v[2] - u[2] * v[1];
    nrm[1] = u[2] * v[0] - u[0] * v[2];
    nrm[2] = u[0] * v[1] - u[1] * v[0];
    if (nrm[0] * (g[0] - c[0]) + nrm[1] * (g[1] - c[1]) + nrm[2] * (g[2] - c[2]) < 0) (*inward)++;
    n++;
  }
  if (n) *mean_dev /= 3.0 * (double)n;
  return n;
}

/* Two nested spheres in a 1 x 1 x 1.25 mm grid with the x axis reflected and an
 * offset: image labels 10 (r < 8 mm) and 20 (8 <= r < 15 mm), mapped 10->2 (GM),
 * 20->5 (scalp) by a table. */
static void test_nested_spheres(tmsf_context *ctx) {
  const int64_t d[3] = {40, 40, 32};
  const double A[16] = {-1, 0, 0, 30, 0, 1, 0, -20, 0, 0, 1.25, 5, 0, 0, 0, 1};
  /* centre at voxel (19.5, 19.5, 15.5) -> mm */
  const double ci[3] = {19.5, 19.5, 15.5};
  double c[3];
  for (int r = 0; r < 3; r++) c[r] = A[4 * r] * ci[0] + A[4 * r + 1] * ci[1] + A[4 * r + 2] * ci[2] + A[4 * r + 3];
  int32_t *v = malloc(sizeof(int32_t) * 40 * 40 * 32);
  for (int64_t k = 0; k < d[2]; k++)
    for (int64_t j = 0; j < d[1]; j++)
      for (int64_t i = 0; i < d[0]; i++) {
        double dx = (double)i - ci[0], dy = (double)j - ci[1], dz = 1.25 * ((double)k - ci[2]);
        double q = sqrt(dx * dx + dy * dy + dz * dz);
        v[i + d[0] * (j + d[1] * k)] = q < 8 ? 10 : q < 15 ? 20 : 0;
      }
  char path[512];
  snprintf(path, sizeof(path), "%s/spheres.nii.gz", tmpdir);
  REQUIRE_OK(ctx, write_labels_nifti(path, d, v, DT_INT16, A, NULL, NULL) ? TMSF_ERR_IO : 0);
  free(v);
  tmsf_labels *L;
  REQUIRE_OK(ctx, tmsf_labels_read(ctx, path, &L));
  tmsf_meshing_params p;
  CHECK_OK(ctx, tmsf_meshing_params_init(&p));
  p.cell_size_mm = 2.0;
  p.cell_size_fine_mm = 1.5;
  p.facet_size_mm = 1.5;
  p.facet_size_fine_mm = 1.2;
  p.facet_distance_mm = 0.3;
  tmsf_mesh *mesh;
  REQUIRE_OK(ctx, tmsf_mesh_from_labels(L, "10=2,20=5", &p, &mesh));
  int ntags;
  const int32_t *tags;
  tmsf_mesh_get_tags(mesh, &ntags, &tags);
  CHECK(ntags == 2 && tags[0] == 2 && tags[1] == 5, "tags %d: %d %d", ntags, tags[0], ntags > 1 ? tags[1] : -1);
  tmsf_mesh_quality_report q;
  CHECK_OK(ctx, tmsf_mesh_quality(mesh, &q));
  CHECK_OK(ctx, tmsf_mesh_quality_compare(&q, L, "10=2,20=5"));
  CHECK(q.num_inverted == 0, "inverted %lld", (long long)q.num_inverted);
  CHECK(q.min_dihedral_deg > 1.0, "min dihedral %g", q.min_dihedral_deg);
  CHECK(q.num_surface_tags == 2 && q.surface_tags[0] == 1002 && q.surface_tags[1] == 1005,
        "surface tags %d", q.num_surface_tags);
  /* Tissue volumes against the voxel volumes.  Tolerance 4 %: CGAL's label-wise
   * trilinear interpolation rounds the voxel staircase of a sphere of only 8 voxels
   * radius, and the facets are chords of that surface (facet distance 0.3 mm). */
  for (int i = 0; i < q.num_tags; i++)
    CHECK(fabs(q.volume_rel_error[i]) < 0.04, "tag %d volume %g vs voxels %g", q.tags[i], q.volume_mm3[i],
          q.voxel_volume_mm3[i]);
  /* and against the analytic volumes of the spheres (voxel discretisation adds ~2 %) */
  double cg[3];
  double vg = tag_centroid(mesh, 2, cg);
  CHECK_REL(vg, 4.0 / 3.0 * M_PI * 512.0, 0.05, "inner ball volume vs 4/3 pi 8^3");
  /* the affine is applied: the inner ball's centroid is the mapped voxel centre */
  for (int k = 0; k < 3; k++) CHECK(fabs(cg[k] - c[k]) < 0.15, "centroid %d: %g vs %g mm", k, cg[k], c[k]);
  double cs[3];
  tag_centroid(mesh, 5, cs);
  for (int k = 0; k < 3; k++) CHECK(fabs(cs[k] - c[k]) < 0.15, "shell centroid %d: %g vs %g mm", k, cs[k], c[k]);
  /* interface triangles lie on the spheres and face outward (from the inner tissue) */
  double mean, mx;
  int64_t inward;
  int64_t n2 = surface_stats(mesh, 1002, c, 8.0, &mean, &mx, &inward);
  CHECK(n2 > 100, "1002 triangles %lld", (long long)n2);
  CHECK(mean < 0.4 && mx < 1.0, "1002 on r = 8 mm: mean dev %g, max %g", mean, mx);
  CHECK(inward == 0, "1002 inward-facing %lld", (long long)inward);
  int64_t n5 = surface_stats(mesh, 1005, c, 15.0, &mean, &mx, &inward);
  CHECK(n5 > 100, "1005 triangles %lld", (long long)n5);
  CHECK(mean < 0.4 && mx < 1.0, "1005 on r = 15 mm: mean dev %g, max %g", mean, mx);
  CHECK(inward == 0, "1005 inward-facing %lld", (long long)inward);
  /* the scalp of the mesh object is the 1005 surface */
  int64_t ns;
  const int32_t *sn;
  const double *nrm;
  CHECK_OK(ctx, tmsf_mesh_get_scalp(mesh, &ns, &sn, &nrm));
  CHECK(ns > 50, "scalp nodes %lld", (long long)ns);
  /* report printing */
  FILE *f = tmpfile();
  CHECK_OK(ctx, tmsf_mesh_quality_print(&q, f));
  CHECK(ftell(f) > 200, "report text");
  fclose(f);
  tmsf_mesh_destroy(&mesh);
  /* the same volume under the default mapping fails: 10 and 20 have no tissue */
  /* (label 20, 9592 voxels, comes first in memory order) */
  CHECK(tmsf_mesh_from_labels(L, NULL, &p, &mesh) == TMSF_ERR_FORMAT, "no mapping for 20");
  CHECK(strstr(tmsf_context_last_error(ctx), "label 20 (9592 voxels"), "%s", tmsf_context_last_error(ctx));
  /* bad parameters */
  p.facet_angle_deg = 45;
  CHECK(tmsf_mesh_from_labels(L, "10=2,20=5", &p, &mesh) == TMSF_ERR_ARGUMENT, "facet angle 45");
  tmsf_labels_destroy(&L);
}

/* A 6 mm cube (label 4 -> GM) inside a 14 mm cube (label 1 -> scalp) in memory:
 * volumes and triangle tags; corners are rounded by the interpolation. */
static void test_cubes(tmsf_context *ctx) {
  const int64_t d[3] = {20, 20, 20};
  int32_t *v = malloc(sizeof(int32_t) * 8000);
  for (int k = 0; k < 20; k++)
    for (int j = 0; j < 20; j++)
      for (int i = 0; i < 20; i++) {
        int in6 = i >= 7 && i < 13 && j >= 7 && j < 13 && k >= 7 && k < 13;
        int in14 = i >= 3 && i < 17 && j >= 3 && j < 17 && k >= 3 && k < 17;
        v[i + 20 * (j + 20 * k)] = in6 ? 4 : in14 ? 1 : 0;
      }
  const double A[16] = {0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1};
  tmsf_labels *L;
  REQUIRE_OK(ctx, tmsf_labels_create(ctx, d, v, A, &L));
  free(v);
  tmsf_meshing_params p;
  tmsf_meshing_params_init(&p);
  p.cell_size_mm = p.cell_size_fine_mm = 0.6;
  p.facet_size_mm = p.facet_size_fine_mm = 0.5;
  p.facet_distance_mm = 0.1;
  tmsf_mesh *mesh;
  REQUIRE_OK(ctx, tmsf_mesh_from_labels(L, "colin27", &p, &mesh));
  tmsf_mesh_quality_report q;
  tmsf_mesh_quality(mesh, &q);
  tmsf_mesh_quality_compare(&q, L, "colin27");
  CHECK(q.num_inverted == 0, "inverted");
  /* colin27: 4 -> GM (2), 1 -> scalp (5) */
  CHECK(q.num_tags == 2 && q.tags[0] == 2 && q.tags[1] == 5, "tags");
  /* voxel volumes 27 and 343 - 27 mm^3; the rounded cube edges and corners lose
   * volume (a 3-voxel cube loses most, see the tolerance) */
  CHECK_REL(q.voxel_volume_mm3[0], 27.0, 1e-12, "GM voxel volume");
  CHECK_REL(q.voxel_volume_mm3[1], 316.0, 1e-12, "scalp voxel volume");
  CHECK(fabs(q.volume_rel_error[0]) < 0.12, "small GM cube volume %g", q.volume_mm3[0]);
  CHECK_REL(q.volume_mm3[0] + q.volume_mm3[1], 343.0, 0.03, "total volume");
  CHECK(q.num_surface_tags == 2 && q.surface_tags[0] == 1002 && q.surface_tags[1] == 1005, "surface tags");
  tmsf_mesh_destroy(&mesh);
  tmsf_labels_destroy(&L);
}

/* CGAL sphere model: three shells, tags 3/4/5, surfaces 1003/1004/1005. */
static void test_spheres(tmsf_context *ctx) {
  const double r[3] = {0.085, 0.090, 0.095};
  const int32_t tags[3] = {3, 4, 5};
  tmsf_mesh *mesh;
  REQUIRE_OK(ctx, tmsf_mesh_create_spheres(ctx, 3, r, tags, 0.008, &mesh));
  tmsf_mesh_quality_report q;
  CHECK_OK(ctx, tmsf_mesh_quality(mesh, &q));
  CHECK(q.num_inverted == 0, "inverted");
  CHECK(q.num_tags == 3 && q.tags[0] == 3 && q.tags[2] == 5, "tags");
  CHECK(q.num_surface_tags == 3 && q.surface_tags[0] == 1003 && q.surface_tags[2] == 1005, "surface tags");
  /* shell volumes vs 4/3 pi (r_o^3 - r_i^3): a polyhedron inscribed in a sphere
   * with ~8 mm facets loses about (h/R)^2/... ; 1.5 % for the ball, 6 % for the thin
   * 5 mm shells whose two boundaries both lose */
  double want[3] = {4.0 / 3.0 * M_PI * pow(85, 3), 4.0 / 3.0 * M_PI * (pow(90, 3) - pow(85, 3)),
                    4.0 / 3.0 * M_PI * (pow(95, 3) - pow(90, 3))};
  CHECK_REL(q.volume_mm3[0], want[0], 0.015, "ball volume");
  CHECK_REL(q.volume_mm3[1], want[1], 0.06, "shell 1 volume");
  CHECK_REL(q.volume_mm3[2], want[2], 0.06, "shell 2 volume");
  double c0[3] = {0, 0, 0}, mean, mx;
  int64_t inward;
  for (int s = 0; s < 3; s++) {
    int64_t n = surface_stats(mesh, 1003 + s, c0, 1e3 * r[s], &mean, &mx, &inward);
    CHECK(n > 100, "surface %d triangles", 1003 + s);
    /* nodes on the surfaces up to the mesher's bisection tolerance */
    CHECK(mx < 0.05, "surface %d nodes off the sphere by %g mm", 1003 + s, mx);
    CHECK(inward == 0, "surface %d inward %lld", 1003 + s, (long long)inward);
  }
  double e;
  tmsf_mesh_get_mean_edge(mesh, &e);
  CHECK(e > 0.004 && e < 0.010, "mean edge %g m for a target of 8 mm", e);
  tmsf_mesh_destroy(&mesh);
  double bad[2] = {0.09, 0.08};
  int32_t bt[2] = {1, 2};
  CHECK(tmsf_mesh_create_spheres(ctx, 2, bad, bt, 0.01, &mesh) == TMSF_ERR_ARGUMENT, "decreasing radii");
  CHECK(tmsf_mesh_create_spheres(ctx, 1, r, tags, 0.2, &mesh) == TMSF_ERR_ARGUMENT, "edge > radius");
}

int main(void) {
  snprintf(tmpdir, sizeof(tmpdir), "%s/tmsf-t-meshing-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmpdir)) return 1;
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  tmsf_context_set_threads(ctx, 2);
  test_nested_spheres(ctx);
  test_cubes(ctx);
  test_spheres(ctx);
  tmsf_context_destroy(&ctx);
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_summary("t-meshing");
}

#else
int main(void) {
  printf("t-meshing: skipped (needs niftilib and CGAL)\n");
  return 77;
}
#endif

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * Gmsh I/O identity: every format reads to the same mesh, and what
 * tmsf_mesh_write writes reads back unchanged.
 *
 * Checks (all exact — no tolerance — for the reasons given):
 *   1. SimNIBS's sphere3 as Gmsh 2.2 binary (data/spheres/sphere3.msh), 4.1
 *      ASCII and 4.1 binary (tests/data/) read to identical meshes: node
 *      count and coordinates bitwise, tetrahedra (connectivity and tags) and
 *      triangles (connectivity and tags) equal index for index.  The 4.1 files
 *      list nodes and elements by entity, not in id order; the reader numbers
 *      them by id, so the orders agree.  The ASCII file prints the shortest
 *      decimal that round-trips each double (up to 17 significant digits;
 *      measured: all 13,668 coordinates read bitwise equal to the binary
 *      ones), so exact comparison is right.
 *   2. The Gmsh 2.2 ASCII reader: a small mesh written here by hand (records
 *      shuffled, point and line elements, $PhysicalNames and $NodeData to
 *      skip, two tags per element) reads to the same arrays as
 *      tmsf_mesh_create on them.  Coordinates are exact decimals in mm, and
 *      both paths give the correctly rounded metre value.
 *   3. tmsf_mesh_write, with and without a field, then tmsf_mesh_read gives
 *      bitwise the same mesh (binary doubles are written, and the mm <-> m
 *      conversion is exactly inverted), and writing the read-back mesh again
 *      gives a byte-identical file.
 */
#include <unistd.h>

#include "test-common.h"

/* Compare two meshes exactly; prints the first difference. */
static void check_same_mesh(const tmsf_mesh *a, const tmsf_mesh *b, const char *what) {
  int64_t nn[2], ne[2], nt[2];
  tmsf_mesh_get_sizes(a, &nn[0], &ne[0], &nt[0]);
  tmsf_mesh_get_sizes(b, &nn[1], &ne[1], &nt[1]);
  CHECK(nn[0] == nn[1] && ne[0] == ne[1] && nt[0] == nt[1],
        "%s: sizes differ: %lld/%lld/%lld vs %lld/%lld/%lld nodes/tets/triangles", what,
        (long long)nn[0], (long long)ne[0], (long long)nt[0], (long long)nn[1], (long long)ne[1],
        (long long)nt[1]);
  if (nn[0] != nn[1] || ne[0] != ne[1] || nt[0] != nt[1]) return;
  const double *xa, *xb;
  const int32_t *ta, *ga, *tb, *gb, *ra, *rga, *rb, *rgb;
  tmsf_mesh_get_nodes(a, &xa);
  tmsf_mesh_get_nodes(b, &xb);
  tmsf_mesh_get_tetrahedra(a, &ta, &ga);
  tmsf_mesh_get_tetrahedra(b, &tb, &gb);
  tmsf_mesh_get_triangles(a, &ra, &rga);
  tmsf_mesh_get_triangles(b, &rb, &rgb);
  int64_t nx = 0, first = -1;
  for (int64_t i = 0; i < 3 * nn[0]; i++)
    if (memcmp(xa + i, xb + i, sizeof(double)) != 0) {
      if (first < 0) first = i;
      nx++;
    }
  CHECK(nx == 0, "%s: %lld of %lld coordinates differ bitwise; first: node %lld component %lld, "
        "%.17g vs %.17g", what, (long long)nx, (long long)(3 * nn[0]), (long long)(first / 3),
        (long long)(first % 3), first >= 0 ? xa[first] : 0.0, first >= 0 ? xb[first] : 0.0);
  int64_t bad = -1;
  for (int64_t e = 0; e < ne[0] && bad < 0; e++)
    if (memcmp(ta + 4 * e, tb + 4 * e, 4 * sizeof(int32_t)) != 0 || ga[e] != gb[e]) bad = e;
  CHECK(bad < 0, "%s: tetrahedron %lld differs: %d %d %d %d tag %d vs %d %d %d %d tag %d", what,
        (long long)bad, bad >= 0 ? ta[4 * bad] : 0, bad >= 0 ? ta[4 * bad + 1] : 0,
        bad >= 0 ? ta[4 * bad + 2] : 0, bad >= 0 ? ta[4 * bad + 3] : 0, bad >= 0 ? ga[bad] : 0,
        bad >= 0 ? tb[4 * bad] : 0, bad >= 0 ? tb[4 * bad + 1] : 0, bad >= 0 ? tb[4 * bad + 2] : 0,
        bad >= 0 ? tb[4 * bad + 3] : 0, bad >= 0 ? gb[bad] : 0);
  bad = -1;
  for (int64_t e = 0; e < nt[0] && bad < 0; e++)
    if (memcmp(ra + 3 * e, rb + 3 * e, 3 * sizeof(int32_t)) != 0 || rga[e] != rgb[e]) bad = e;
  CHECK(bad < 0, "%s: triangle %lld differs: %d %d %d tag %d vs %d %d %d tag %d", what,
        (long long)bad, bad >= 0 ? ra[3 * bad] : 0, bad >= 0 ? ra[3 * bad + 1] : 0,
        bad >= 0 ? ra[3 * bad + 2] : 0, bad >= 0 ? rga[bad] : 0, bad >= 0 ? rb[3 * bad] : 0,
        bad >= 0 ? rb[3 * bad + 1] : 0, bad >= 0 ? rb[3 * bad + 2] : 0, bad >= 0 ? rgb[bad] : 0);
}

/* 1 when the two files have the same bytes. */
static int same_file(const char *p, const char *q) {
  FILE *a = fopen(p, "rb"), *b = fopen(q, "rb");
  int same = a && b;
  while (same) {
    int x = fgetc(a), y = fgetc(b);
    if (x != y) same = 0;
    if (x == EOF || y == EOF) break;
  }
  if (a) fclose(a);
  if (b) fclose(b);
  return same;
}

static void test_formats(tmsf_context *ctx) {
  tmsf_mesh *ref, *m;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &ref));
  int64_t nn, ne, nt;
  tmsf_mesh_get_sizes(ref, &nn, &ne, &nt);
  /* sizes documented in data/README.md */
  CHECK(nn == 4556 && ne == 22704 && nt == 7826, "sphere3.msh: %lld nodes, %lld tets, %lld tris",
        (long long)nn, (long long)ne, (long long)nt);
  const char *others[2] = {"tests/data/sphere3_v4_1_ascii.msh", "tests/data/sphere3_v4_1_binary.msh"};
  for (int i = 0; i < 2; i++) {
    CHECK_OK(ctx, tmsf_mesh_read(ctx, test_path(others[i]), &m));
    if (!m) continue;
    char what[160];
    snprintf(what, sizeof(what), "%s vs sphere3.msh (2.2 binary)", others[i]);
    check_same_mesh(m, ref, what);
    tmsf_mesh_destroy(&m);
  }
  tmsf_mesh_destroy(&ref);
}

/*
 * A 2 x 1 x 1 block of two cubes (12 nodes, 12 tetrahedra, Kuhn split) with
 * a few boundary triangles, nodes in exact mm decimals.
 */
#define A_NN 12
#define A_NE 12
#define A_NT 4
static void small_mesh(double x_mm[3 * A_NN], int32_t tets[4 * A_NE], int32_t tags[A_NE],
                       int32_t tris[3 * A_NT], int32_t tri_tags[A_NT]) {
  const double hx = 12.5, hy = 7.25, hz = 3.0; /* mm */
  for (int k = 0; k < 2; k++)
    for (int j = 0; j < 2; j++)
      for (int i = 0; i < 3; i++) {
        int n = (k * 2 + j) * 3 + i;
        x_mm[3 * n] = -20.0 + hx * i;
        x_mm[3 * n + 1] = 0.5 + hy * j;
        x_mm[3 * n + 2] = 95.125 - hz * k;
      }
  /* Kuhn: 6 tetrahedra of the cube with corners c[0..7] along the paths 0 -> 7 */
  static const int paths[6][3] = {{1, 2, 4}, {1, 4, 2}, {2, 1, 4}, {2, 4, 1}, {4, 1, 2}, {4, 2, 1}};
  int e = 0;
  for (int cube = 0; cube < 2; cube++) {
    int c[8];
    for (int b = 0; b < 8; b++) {
      int di = b & 1, dj = (b >> 1) & 1, dk = (b >> 2) & 1;
      c[b] = (dk * 2 + dj) * 3 + cube + di;
    }
    for (int p = 0; p < 6; p++) {
      int v1 = paths[p][0], v2 = v1 | paths[p][1], v3 = 7;
      int t[4] = {c[0], c[v1], c[v2], c[v3]};
      /* orient positively: the sign of the Kuhn simplex is that of the permutation */
      double u[3], v[3], w[3];
      for (int q = 0; q < 3; q++) {
        u[q] = x_mm[3 * t[1] + q] - x_mm[3 * t[0] + q];
        v[q] = x_mm[3 * t[2] + q] - x_mm[3 * t[0] + q];
        w[q] = x_mm[3 * t[3] + q] - x_mm[3 * t[0] + q];
      }
      double det = u[0] * (v[1] * w[2] - v[2] * w[1]) - u[1] * (v[0] * w[2] - v[2] * w[0]) +
                   u[2] * (v[0] * w[1] - v[1] * w[0]);
      if (det < 0) {
        int s = t[2];
        t[2] = t[3];
        t[3] = s;
      }
      memcpy(tets + 4 * e, t, sizeof(t));
      tags[e] = cube ? 5 : 3;
      e++;
    }
  }
  const int32_t tr[3 * A_NT] = {0, 1, 3, 1, 4, 3, 6, 7, 9, 7, 10, 9};
  memcpy(tris, tr, sizeof(tr));
  tri_tags[0] = tri_tags[1] = 1005;
  tri_tags[2] = tri_tags[3] = 1003;
}

static void test_ascii22(tmsf_context *ctx, const char *dir) {
  double x_mm[3 * A_NN], x_m[3 * A_NN];
  int32_t tets[4 * A_NE], tags[A_NE], tris[3 * A_NT], tri_tags[A_NT];
  small_mesh(x_mm, tets, tags, tris, tri_tags);
  for (int i = 0; i < 3 * A_NN; i++) x_m[i] = x_mm[i] / 1e3;
  tmsf_mesh *want = NULL, *got = NULL;
  REQUIRE_OK(ctx, tmsf_mesh_create(ctx, A_NN, x_m, A_NE, tets, tags, A_NT, tris, tri_tags, &want));

  char path[4200];
  snprintf(path, sizeof(path), "%s/small-22-ascii.msh", dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "FATAL: cannot write %s\n", path);
    exit(1);
  }
  /* node i has id 10 + 3 i, listed in a shuffled order */
  fprintf(f, "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n");
  fprintf(f, "$PhysicalNames\n2\n3 3 \"inner\"\n3 5 \"outer\"\n$EndPhysicalNames\n");
  fprintf(f, "$Nodes\n%d\n", A_NN);
  for (int q = 0; q < A_NN; q++) {
    int i = (7 * q + 5) % A_NN; /* 7 is coprime to 12: a permutation */
    fprintf(f, "%d %.17g %.17g %.17g\n", 10 + 3 * i, x_mm[3 * i], x_mm[3 * i + 1], x_mm[3 * i + 2]);
  }
  fprintf(f, "$EndNodes\n$Elements\n%d\n", A_NE + A_NT + 2);
  /* element ids: triangles 100 + 2 t, tetrahedra 200 + 5 e; a point and a line
   * in between; every element with tags (physical, elementary) */
  fprintf(f, "1 15 2 0 1 %d\n", 10);
  for (int q = 0; q < A_NE; q++) {
    int e = (5 * q + 3) % A_NE; /* 5 is coprime to 12 */
    fprintf(f, "%d 4 2 %d %d %d %d %d %d\n", 200 + 5 * e, tags[e], 77, 10 + 3 * tets[4 * e],
            10 + 3 * tets[4 * e + 1], 10 + 3 * tets[4 * e + 2], 10 + 3 * tets[4 * e + 3]);
    if (q == 4) fprintf(f, "2 1 2 0 2 %d %d\n", 10, 13);
  }
  for (int t = A_NT - 1; t >= 0; t--)
    fprintf(f, "%d 2 2 %d %d %d %d %d\n", 100 + 2 * t, tri_tags[t], 9, 10 + 3 * tris[3 * t],
            10 + 3 * tris[3 * t + 1], 10 + 3 * tris[3 * t + 2]);
  fprintf(f, "$EndElements\n$NodeData\n1\n\"phi\"\n1\n0.0\n3\n0\n1\n1\n10 1.5\n$EndNodeData\n");
  if (fclose(f) != 0) {
    fprintf(stderr, "FATAL: cannot write %s\n", path);
    exit(1);
  }
  CHECK_OK(ctx, tmsf_mesh_read(ctx, path, &got));
  if (got) check_same_mesh(got, want, "hand-written 2.2 ASCII vs tmsf_mesh_create");
  tmsf_mesh_destroy(&got);
  tmsf_mesh_destroy(&want);
  unlink(path);
}

static void test_write_read(tmsf_context *ctx, const char *dir) {
  tmsf_mesh *m, *back = NULL, *back2 = NULL;
  tmsf_coil *coil;
  tmsf_simulation *sim;
  tmsf_field *field = NULL;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &m));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &coil));
  double P[16];
  const double centre[3] = {0.0, 0.0, 0.095}, ydir[3] = {0.0, 1.0, 0.0};
  REQUIRE_OK(ctx, tmsf_pose_from_centre(m, centre, ydir, 0.004, P));
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, m, &sim));
  REQUIRE_OK(ctx, tmsf_simulation_setup(sim));
  REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, P, 1e6, &field));

  char plain[4200], again[4200], with_field[4200];
  snprintf(plain, sizeof(plain), "%s/write-plain.msh", dir);
  snprintf(again, sizeof(again), "%s/write-again.msh", dir);
  snprintf(with_field, sizeof(with_field), "%s/write-field.msh", dir);

  CHECK_OK(ctx, tmsf_mesh_write(m, NULL, plain));
  CHECK_OK(ctx, tmsf_mesh_read(ctx, plain, &back));
  if (back) {
    check_same_mesh(back, m, "sphere3 written without a field, read back");
    CHECK_OK(ctx, tmsf_mesh_write(back, NULL, again));
    CHECK(same_file(plain, again), "writing the read-back mesh gives a different file (%s, %s)",
          plain, again);
  }
  CHECK_OK(ctx, tmsf_mesh_write(m, field, with_field));
  CHECK_OK(ctx, tmsf_mesh_read(ctx, with_field, &back2));
  if (back2) check_same_mesh(back2, m, "sphere3 written with a field, read back");

  tmsf_mesh_destroy(&back);
  tmsf_mesh_destroy(&back2);
  unlink(plain);
  unlink(again);
  unlink(with_field);
  tmsf_field_destroy(&field);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&m);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/tmsf-mesh-io-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    fprintf(stderr, "FATAL: cannot create a temporary directory from %s\n", dir);
    return 1;
  }
  test_formats(ctx);
  test_ascii22(ctx, dir);
  test_write_read(ctx, dir);
  rmdir(dir);
  tmsf_context_destroy(&ctx);
  return test_summary("mesh-io");
}

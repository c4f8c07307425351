/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-output-hdf5.c: the HDF5 file round-trips through the library bitwise.
 *
 * A solved sphere field is written with metadata and the recovered nodal E
 * of tag 3, read back with tmsf_hdf5_read and compared array by array with
 * memcmp (nodes go m -> mm -> m and must come back exactly); the metadata
 * (coil name, pose, dI/dt, version, date) and the conductivities come back.
 * A conductivity override survives the trip.  Bad paths, non-HDF5 files and
 * files missing a dataset fail with errors naming the file and the object;
 * a failed write leaves no file.
 */
#include <hdf5.h>

#include "output-test.h"

static int same(const void *a, const void *b, size_t n) { return n == 0 || !memcmp(a, b, n); }

int main(void) {
  out_case c;
  out_case_solve(&c);
  tmsf_context *ctx = c.ctx;
  const char *dir = scratch_dir("t-output-hdf5");
  char path[4200], p[4200];
  snprintf(path, sizeof(path), "%s/field.h5", dir);
  const int32_t nodal[1] = {3};
  CHECK_OK(ctx, tmsf_mesh_set_conductivity(c.mesh, 4, 0.0123)); /* an override */
  CHECK_OK(ctx, tmsf_field_write_hdf5(c.field, c.coil, c.pose, nodal, 1, path));

  tmsf_mesh *m2 = NULL;
  tmsf_field *f2 = NULL;
  tmsf_hdf5_metadata md;
  REQUIRE_OK(ctx, tmsf_hdf5_read(ctx, path, &m2, &f2, &md));
  int64_t nn, ne, nt, nn2, ne2, nt2;
  tmsf_mesh_get_sizes(c.mesh, &nn, &ne, &nt);
  tmsf_mesh_get_sizes(m2, &nn2, &ne2, &nt2);
  CHECK(nn == nn2 && ne == ne2 && nt == nt2, "sizes %lld %lld %lld", (long long)nn2, (long long)ne2, (long long)nt2);
  const double *x1, *x2;
  tmsf_mesh_get_nodes(c.mesh, &x1);
  tmsf_mesh_get_nodes(m2, &x2);
  CHECK(same(x1, x2, (size_t)nn * 3 * sizeof(double)), "nodes bitwise");
  const int32_t *t1, *g1, *t2, *g2;
  tmsf_mesh_get_tetrahedra(c.mesh, &t1, &g1);
  tmsf_mesh_get_tetrahedra(m2, &t2, &g2);
  CHECK(same(t1, t2, (size_t)ne * 4 * 4) && same(g1, g2, (size_t)ne * 4), "tetrahedra and tags bitwise");
  tmsf_mesh_get_triangles(c.mesh, &t1, &g1);
  tmsf_mesh_get_triangles(m2, &t2, &g2);
  CHECK(same(t1, t2, (size_t)nt * 3 * 4) && same(g1, g2, (size_t)nt * 4), "triangles and tags bitwise");
  const double *E1, *E2, *s1, *s2, *p1, *p2;
  tmsf_field_get_E(c.field, &E1);
  tmsf_field_get_E(f2, &E2);
  tmsf_field_get_conductivity(c.field, &s1);
  tmsf_field_get_conductivity(f2, &s2);
  tmsf_field_get_potential(c.field, &p1);
  tmsf_field_get_potential(f2, &p2);
  CHECK(same(E1, E2, (size_t)ne * 3 * sizeof(double)), "E bitwise");
  CHECK(same(s1, s2, (size_t)ne * sizeof(double)), "conductivity bitwise");
  CHECK(same(p1, p2, (size_t)nn * sizeof(double)), "potential bitwise");
  double d1, d2;
  tmsf_field_get_didt(c.field, &d1);
  tmsf_field_get_didt(f2, &d2);
  CHECK(d1 == d2 && md.didt_A_per_s == 1e6, "dI/dt %g %g", d2, md.didt_A_per_s);
  for (int32_t tag = 3; tag <= 5; tag++) {
    double a, b;
    CHECK_OK(ctx, tmsf_mesh_get_conductivity(c.mesh, tag, &a));
    CHECK_OK(ctx, tmsf_mesh_get_conductivity(m2, tag, &b));
    CHECK(a == b, "conductivity of tag %d: %g vs %g", (int)tag, b, a);
  }
  const char *cname;
  tmsf_coil_get_name(c.coil, &cname);
  CHECK(!strcmp(md.coil_name, cname), "coil name '%s' vs '%s'", md.coil_name, cname);
  CHECK(md.have_pose && same(md.head_from_coil_m, c.pose, sizeof(c.pose)), "pose bitwise");
  CHECK(!strcmp(md.library_version, tmsf_version()), "version %s", md.library_version);
  CHECK(strlen(md.date) == 20 && md.date[4] == '-' && md.date[10] == 'T' && md.date[19] == 'Z', "date %s", md.date);
  /* the read field works like the original: same percentiles, same sampling */
  {
    const double pct[2] = {50, 99};
    double a[2], b[2];
    CHECK_OK(ctx, tmsf_field_magnE_percentiles(c.field, 3, 2, pct, a));
    CHECK_OK(ctx, tmsf_field_magnE_percentiles(f2, 3, 2, pct, b));
    CHECK(a[0] == b[0] && a[1] == b[1], "percentiles equal");
  }
  /* written again from the read field: the same arrays (no pose, no coil) */
  snprintf(p, sizeof(p), "%s/again.h5", dir);
  CHECK_OK(ctx, tmsf_field_write_hdf5(f2, NULL, NULL, NULL, 0, p));
  {
    tmsf_mesh *m3 = NULL;
    tmsf_field *f3 = NULL;
    tmsf_hdf5_metadata md3;
    CHECK_OK(ctx, tmsf_hdf5_read(ctx, p, &m3, &f3, &md3));
    if (f3) {
      const double *E3;
      tmsf_field_get_E(f3, &E3);
      CHECK(same(E1, E3, (size_t)ne * 3 * sizeof(double)), "E bitwise after two trips");
      CHECK(!md3.have_pose && md3.coil_name[0] == 0, "no pose, no coil");
    }
    tmsf_field_destroy(&f3);
    tmsf_mesh_destroy(&m3);
  }
  tmsf_field_destroy(&f2);
  tmsf_mesh_destroy(&m2);

  /* errors */
  {
    struct stat before, after;
    stat(path, &before);
    snprintf(p, sizeof(p), "%s/missing/dir/out.h5", dir);
    CHECK(tmsf_field_write_hdf5(c.field, NULL, NULL, NULL, 0, p) == TMSF_ERR_IO, "missing directory");
    CHECK(strstr(tmsf_context_last_error(ctx), p) != NULL, "names the path: %s", tmsf_context_last_error(ctx));
    const int32_t bad_tag[1] = {42};
    CHECK(tmsf_field_write_hdf5(c.field, NULL, NULL, bad_tag, 1, path) == TMSF_ERR_NOT_FOUND, "unknown nodal tag");
    double P[16];
    memcpy(P, c.pose, sizeof(P));
    P[3] = INFINITY;
    CHECK(tmsf_field_write_hdf5(c.field, NULL, P, NULL, 0, path) == TMSF_ERR_ARGUMENT, "non-finite pose");
    stat(path, &after);
    CHECK(before.st_ino == after.st_ino && before.st_size == after.st_size, "failed writes leave the file alone");

    tmsf_mesh *m4 = NULL;
    tmsf_field *f4 = NULL;
    CHECK(tmsf_hdf5_read(ctx, "/no/such/file.h5", &m4, &f4, NULL) == TMSF_ERR_IO && !m4 && !f4, "missing file");
    snprintf(p, sizeof(p), "%s/text.h5", dir);
    FILE *f = fopen(p, "w");
    fputs("plain text\n", f);
    fclose(f);
    CHECK(tmsf_hdf5_read(ctx, p, &m4, &f4, NULL) == TMSF_ERR_FORMAT && !m4, "not HDF5");
    CHECK(strstr(tmsf_context_last_error(ctx), "not an HDF5 file") != NULL, "%s", tmsf_context_last_error(ctx));
    /* an HDF5 file of the layout without /fields/E */
    snprintf(p, sizeof(p), "%s/partial.h5", dir);
    hid_t h = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t src = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    H5Ocopy(src, "/mesh", h, "/mesh", H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(src);
    H5Fclose(h);
    CHECK(tmsf_hdf5_read(ctx, p, &m4, &f4, NULL) == TMSF_ERR_FORMAT && !m4, "no format attribute");
    CHECK(strstr(tmsf_context_last_error(ctx), "format") != NULL, "%s", tmsf_context_last_error(ctx));
    CHECK(count_temporaries(dir) == 0, "no temporary files left (%d)", count_temporaries(dir));
  }
  remove_dir(dir);
  out_case_free(&c);
  return test_summary("t-output-hdf5");
}

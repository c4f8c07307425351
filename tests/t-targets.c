/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-targets.c: the named-target table, MNI-to-head mapping, NIfTI affines
 * and projection onto the grey matter of a concentric-shell mesh.
 */
#include <unistd.h>

#include "shell-mesh.h"

#if TMSF_HAVE_NIFTI
#include <nifti2_io.h>
#endif

/* The coordinates the issue (and docs/targets.md) give, typed in again. */
static void test_table(tmsf_context *ctx) {
  const struct {
    const char *lookup;
    const char *name;
    double mni[3];
  } want[] = {
      {"M1", "M1", {-37, -21, 58}},       {"m1", "M1", {-37, -21, 58}},
      {"M1-left", "M1", {-37, -21, 58}},  {"M1-right", "M1-right", {37, -21, 58}},
      {"m1_R", "M1-right", {37, -21, 58}}, {"DLPFC", "DLPFC", {-41, 16, 54}},
      {"dlpfc", "DLPFC", {-41, 16, 54}},  {"5cm", "DLPFC", {-41, 16, 54}},
      {"F3", "F3", {-37, 26, 49}},        {"Beam F3", "F3", {-37, 26, 49}},
      {"BA9", "BA9", {-36, 39, 43}},      {"ba46", "BA46", {-44, 40, 29}},
      {"FOX", "Fox", {-38, 44, 26}},      {"S2", "S2", {-54, -24, 20}},
      {"psi", "PSI", {-38, -22, 16}},
  };
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    int idx = -1;
    CHECK_OK(ctx, tmsf_target_find(ctx, want[i].lookup, &idx));
    tmsf_target_info info;
    if (tmsf_target_get_info(idx, &info)) {
      CHECK(0, "%s: index %d", want[i].lookup, idx);
      continue;
    }
    CHECK(!strcmp(info.name, want[i].name), "%s: found %s, want %s", want[i].lookup, info.name, want[i].name);
    for (int k = 0; k < 3; k++)
      CHECK(info.mni_mm[k] == want[i].mni[k], "%s: coordinate %d is %g, want %g", want[i].lookup, k,
            info.mni_mm[k], want[i].mni[k]);
    CHECK(info.citation[0] && info.description[0], "%s: no citation or description", want[i].lookup);
  }
  int n = 0;
  tmsf_target_get_num(&n);
  CHECK(n >= 11, "%d targets", n);
  for (int i = 0; i < n; i++) {
    tmsf_target_info a, b;
    tmsf_target_get_info(i, &a);
    int j = -1;
    CHECK_OK(ctx, tmsf_target_find(ctx, a.name, &j));
    CHECK(j == i, "%s finds index %d, want %d", a.name, j, i);
    /* right/left mirror pairs */
    char right[64];
    snprintf(right, sizeof(right), "%s-right", a.name);
    if (tmsf_target_find(ctx, right, &j) == TMSF_SUCCESS) {
      tmsf_target_get_info(j, &b);
      CHECK(b.mni_mm[0] == -a.mni_mm[0] && b.mni_mm[1] == a.mni_mm[1] && b.mni_mm[2] == a.mni_mm[2],
            "%s is not the mirror of %s", b.name, a.name);
    }
  }
  int idx = 0;
  int ierr = tmsf_target_find(ctx, "hippocampus", &idx);
  CHECK(ierr == TMSF_ERR_NOT_FOUND, "unknown name: status %d", ierr);
  CHECK(strstr(tmsf_context_last_error(ctx), "hippocampus") && strstr(tmsf_context_last_error(ctx), "DLPFC"),
        "message: %s", tmsf_context_last_error(ctx));
  tmsf_target_info info;
  CHECK(tmsf_target_get_info(n, &info) == TMSF_ERR_ARGUMENT, "index out of range accepted");
}

static void test_mapping(void) {
  const double mni[3] = {-37, -21, 58};
  double h[3];
  CHECK(tmsf_target_mni_to_head(NULL, mni, h) == 0, "identity");
  for (int k = 0; k < 3; k++) CHECK_REL(h[k], mni[k] * 1e-3, 1e-15, "identity mapping");
  /* rotation by 90 degrees about z, then a shift (10, -5, 2) mm:
   * (x, y, z) -> (-y + 10, x - 5, z + 2) */
  const double A[16] = {0, -1, 0, 10, 1, 0, 0, -5, 0, 0, 1, 2, 0, 0, 0, 1};
  CHECK(tmsf_target_mni_to_head(A, mni, h) == 0, "affine");
  CHECK_REL(h[0], (21 + 10) * 1e-3, 1e-15, "affine x");
  CHECK_REL(h[1], (-37 - 5) * 1e-3, 1e-15, "affine y");
  CHECK_REL(h[2], (58 + 2) * 1e-3, 1e-15, "affine z");
  double B[16];
  memcpy(B, A, sizeof(B));
  B[14] = 0.5;
  CHECK(tmsf_target_mni_to_head(B, mni, h) == TMSF_ERR_ARGUMENT, "bad last row accepted");
  B[14] = 0, B[3] = NAN;
  CHECK(tmsf_target_mni_to_head(B, mni, h) == TMSF_ERR_ARGUMENT, "NaN accepted");
}

static void test_nifti_affine(tmsf_context *ctx) {
#if TMSF_HAVE_NIFTI
  char path[256];
  snprintf(path, sizeof(path), "%s/t-targets-affine-%ld.nii", getenv("TMSF_BUILD_DIR") ? getenv("TMSF_BUILD_DIR") : ".",
           (long)getpid());
  int64_t dims[8] = {3, 4, 5, 6, 1, 1, 1, 1};
  nifti_set_debug_level(0);
  nifti_image *im = nifti_make_new_nim(dims, DT_UINT8, 1);
  REQUIRE_OK(ctx, im ? 0 : 1);
  const double S[16] = {-1, 0, 0, 90, 0, 1, 0, -126, 0, 0, 1, -72, 0, 0, 0, 1}; /* MNI 1 mm, as in the ICBM grids */
  im->sform_code = NIFTI_XFORM_MNI_152;
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++) im->sto_xyz.m[r][c] = S[4 * r + c];
  im->qform_code = 0;
  im->xyz_units = NIFTI_UNITS_MM;
  nifti_set_filenames(im, path, 0, 1);
  nifti_image_write(im);
  nifti_image_free(im);
  double M[16];
  CHECK_OK(ctx, tmsf_nifti_get_affine(ctx, path, M));
  for (int i = 0; i < 16; i++) CHECK(M[i] == S[i], "sform entry %d: %g, want %g", i, M[i], S[i]);
  unlink(path);
  int ierr = tmsf_nifti_get_affine(ctx, path, M);
  CHECK(ierr == TMSF_ERR_IO && strstr(tmsf_context_last_error(ctx), path), "missing file: %d %s", ierr,
        tmsf_context_last_error(ctx));
#else
  (void)ctx;
#endif
}

/* Point-in-tetrahedron by barycentric coordinates, computed here. */
static int in_tet(const double *x, const int32_t *t, const double p[3], double tol) {
  double J[3][3], r[3];
  for (int k = 0; k < 3; k++) {
    for (int j = 0; j < 3; j++) J[k][j] = x[3 * (int64_t)t[j + 1] + k] - x[3 * (int64_t)t[0] + k];
    r[k] = p[k] - x[3 * (int64_t)t[0] + k];
  }
  double det = J[0][0] * (J[1][1] * J[2][2] - J[1][2] * J[2][1]) - J[0][1] * (J[1][0] * J[2][2] - J[1][2] * J[2][0]) +
               J[0][2] * (J[1][0] * J[2][1] - J[1][1] * J[2][0]);
  double l[3];
  for (int c = 0; c < 3; c++) { /* Cramer */
    double M[3][3];
    memcpy(M, J, sizeof(M));
    for (int k = 0; k < 3; k++) M[k][c] = r[k];
    l[c] = (M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
            M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0])) / det;
  }
  return l[0] >= -tol && l[1] >= -tol && l[2] >= -tol && l[0] + l[1] + l[2] <= 1 + tol;
}

/* Projection onto the grey-matter shell (85-90 mm).  The exact answer for
 * the ideal shell is the radial projection onto r = 85 or 90 mm; the mesh's
 * boundaries are inscribed polyhedra, so the projected radius lies within
 * the facet sag (< 0.35 mm for sphere3) inside those spheres.  Nearest: the
 * distance must not exceed that to any grey-matter node (those nodes are
 * points of the grey-matter volume). */
static void test_projection(tmsf_context *ctx) {
  tmsf_mesh *mesh = NULL;
  REQUIRE_OK(ctx, shell_mesh(ctx, 1, &mesh));
  int64_t nn, ne;
  const double *x;
  const int32_t *tets, *tags;
  tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
  tmsf_mesh_get_nodes(mesh, &x);
  tmsf_mesh_get_tetrahedra(mesh, &tets, &tags);
  const struct {
    double dir[3], r, want_r, want_d;
  } cases[] = {
      {{0, 0, 1}, 0.070, 0.085, 0.015},     /* in white matter: up to the white surface */
      {{1, 1, 1}, 0.080, 0.085, 0.005},
      {{-1, 0.3, 0.2}, 0.093, 0.090, 0.003}, /* in CSF: down to the pial surface */
      {{0.2, -1, 0.5}, 0.110, 0.090, 0.020}, /* outside the mesh */
      {{0.3, 0.4, -1}, 0.0875, 0.0875, 0.0}, /* inside grey matter: itself */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    double p[3], q[3], d;
    int64_t tet = -1;
    double len = norm3(cases[i].dir);
    for (int k = 0; k < 3; k++) p[k] = cases[i].r * cases[i].dir[k] / len;
    CHECK_OK(ctx, tmsf_target_project(mesh, p, 0, q, &d, &tet));
    double rq = norm3(q);
    CHECK(fabs(rq - cases[i].want_r) < 3.5e-4, "case %zu: projected radius %.6g, want %.6g", i, rq, cases[i].want_r);
    CHECK(fabs(d - cases[i].want_d) < 3.5e-4, "case %zu: distance %.6g, want %.6g", i, d, cases[i].want_d);
    double diff[3] = {p[0] - q[0], p[1] - q[1], p[2] - q[2]};
    CHECK(fabs(norm3(diff) - d) < 1e-15, "case %zu: distance %g is not |p - q| %g", i, d, norm3(diff));
    CHECK(tet >= 0 && tet < ne && tags[tet] == 2, "case %zu: tet %lld tag %d", i, (long long)tet,
          tet >= 0 ? (int)tags[tet] : -1);
    if (tet >= 0) CHECK(in_tet(x, tets + 4 * tet, q, 1e-9), "case %zu: projected point not in its tetrahedron", i);
    double dmin_node = INFINITY;
    for (int64_t e = 0; e < ne; e++) {
      if (tags[e] != 2) continue;
      for (int j = 0; j < 4; j++) {
        const double *y = x + 3 * (int64_t)tets[4 * e + j];
        double dd[3] = {p[0] - y[0], p[1] - y[1], p[2] - y[2]};
        dmin_node = fmin(dmin_node, norm3(dd));
      }
    }
    CHECK(d <= dmin_node + 1e-15, "case %zu: distance %g exceeds that to a GM node %g", i, d, dmin_node);
  }
  /* a target region: grey matter only, centroids within the radius of the projected point */
  double p[3] = {0, 0, 0.070}, q[3];
  tmsf_region *region = NULL;
  CHECK_OK(ctx, tmsf_target_region(mesh, p, 0.010, q, &region));
  if (region) {
    int64_t n;
    const int64_t *el;
    tmsf_region_get_elements(region, &n, &el);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
      double c[3] = {0, 0, 0};
      for (int j = 0; j < 4; j++)
        for (int k = 0; k < 3; k++) c[k] += 0.25 * x[3 * (int64_t)tets[4 * el[i] + j] + k];
      double dd[3] = {c[0] - q[0], c[1] - q[1], c[2] - q[2]};
      bad += tags[el[i]] != 2 || norm3(dd) > 0.010;
    }
    CHECK(n > 0 && bad == 0, "region: %lld elements, %d not GM within 10 mm", (long long)n, bad);
  }
  tmsf_region_destroy(&region);
  /* no grey matter */
  double far[3] = {0, 0, 0};
  int ierr = tmsf_target_project(mesh, far, 7, q, NULL, NULL);
  CHECK(ierr == TMSF_ERR_NOT_FOUND, "tag 7: status %d", ierr);
  tmsf_mesh_destroy(&mesh);
}

int main(void) {
  tmsf_context *ctx = NULL;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  test_table(ctx);
  test_mapping();
  test_nifti_affine(ctx);
  test_projection(ctx);
  tmsf_context_destroy(&ctx);
  return test_summary("t-targets");
}

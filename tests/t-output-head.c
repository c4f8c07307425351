/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-output-head.c: the NIfTI criterion on the Colin27 head.
 *
 * The shipped Colin27 v3 label volume (data/heads) is meshed with the
 * "colin27" preset (cached as a .msh in the build directory: delete it after
 * changing the mesher), a Magstim 70 mm figure-8 over left M1 is solved, and
 * |E| is written as NIfTI on the label volume's own grid, grey matter only.
 * At 1,000 random grey-matter (tag 2) element centroids, trilinear
 * interpolation of the image through the inverse sform, over the voxels in
 * the mask (weights renormalised), must give |E| within 5 % of the
 * element's value (median).  Also: sform/qform equal to the labels'; HDF5
 * and GIfTI (surface 1002) written; timings printed.
 * Skips (77) when the label volume is absent.
 */
#include <nifti2_io.h>

#include "output-test.h"
#include "tmsf-impl.h"

static double trilinear(const nifti_image *im, const float *img, const nifti_dmat44 *inv, const double p[3]) {
  double q[3];
  for (int r = 0; r < 3; r++) q[r] = inv->m[r][0] * p[0] + inv->m[r][1] * p[1] + inv->m[r][2] * p[2] + inv->m[r][3];
  int64_t i0 = (int64_t)floor(q[0]), j0 = (int64_t)floor(q[1]), k0 = (int64_t)floor(q[2]);
  double fx = q[0] - (double)i0, fy = q[1] - (double)j0, fz = q[2] - (double)k0, sw = 0, sv = 0;
  for (int c = 0; c < 8; c++) {
    int64_t i = i0 + (c & 1), j = j0 + (c >> 1 & 1), k = k0 + (c >> 2 & 1);
    if (i < 0 || j < 0 || k < 0 || i >= im->nx || j >= im->ny || k >= im->nz) continue;
    double w = ((c & 1) ? fx : 1 - fx) * ((c >> 1 & 1) ? fy : 1 - fy) * ((c >> 2 & 1) ? fz : 1 - fz);
    float v = img[(k * im->ny + j) * im->nx + i];
    if (v == 0.0f || w <= 0) continue;
    sw += w, sv += w * v;
  }
  return sw > 1e-9 ? sv / sw : NAN;
}

int main(void) {
  char labels_path[4096];
  snprintf(labels_path, sizeof(labels_path), "%s", test_path("data/heads/colin27_v3_labels_mni.nii.gz"));
  if (!file_exists(labels_path)) {
    printf("SKIP: %s absent\n", labels_path);
    return 77;
  }
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  const char *bdir = getenv("TMSF_BUILD_DIR");
  char cache[4096];
  snprintf(cache, sizeof(cache), "%s/colin27-outputs-test.msh", bdir ? bdir : "/tmp");
  tmsf_mesh *mesh = NULL;
  double t0 = tmsf_wtime();
  if (!file_exists(cache) || tmsf_mesh_read(ctx, cache, &mesh)) {
    tmsf_labels *lab;
    REQUIRE_OK(ctx, tmsf_labels_read(ctx, labels_path, &lab));
    REQUIRE_OK(ctx, tmsf_mesh_from_labels(lab, "colin27", NULL, &mesh));
    tmsf_labels_destroy(&lab);
    CHECK_OK(ctx, tmsf_mesh_write(mesh, NULL, cache));
    printf("meshed %s in %.1f s (cached as %s)\n", labels_path, tmsf_wtime() - t0, cache);
  } else {
    printf("mesh read from the cache %s in %.1f s\n", cache, tmsf_wtime() - t0);
  }
  int64_t nn, ne, nt;
  tmsf_mesh_get_sizes(mesh, &nn, &ne, &nt);
  printf("mesh: %lld nodes, %lld tetrahedra, %lld triangles\n", (long long)nn, (long long)ne, (long long)nt);
  tmsf_coil *coil;
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &coil));
  /* over left M1 (MNI -37, -21, 58), pushed out along the radius to the scalp */
  const double centre[3] = {-0.052, -0.030, 0.082}, ydir[3] = {0.5, 0.866, 0};
  double P[16];
  REQUIRE_OK(ctx, tmsf_pose_from_centre(mesh, centre, ydir, 0.004, P));
  tmsf_simulation *sim;
  tmsf_field *field;
  t0 = tmsf_wtime();
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &sim));
  REQUIRE_OK(ctx, tmsf_simulation_setup(sim));
  REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, P, 1e8, &field));
  printf("solved in %.1f s\n", tmsf_wtime() - t0);

  const char *dir = scratch_dir("t-output-head");
  char nii[4200], h5[4200], gii[4200];
  snprintf(nii, sizeof(nii), "%s/magnE_gm.nii.gz", dir);
  snprintf(h5, sizeof(h5), "%s/E.h5", dir);
  snprintf(gii, sizeof(gii), "%s/gm", dir);
  const int32_t gm[1] = {2};
  t0 = tmsf_wtime();
  CHECK_OK(ctx, tmsf_field_write_nifti(field, TMSF_SAMPLE_ELEMENT, labels_path, gm, 1, TMSF_OUTPUT_MAGNE, nii));
  double t_nii = tmsf_wtime() - t0;
  t0 = tmsf_wtime();
  CHECK_OK(ctx, tmsf_field_write_hdf5(field, coil, P, gm, 1, h5));
  double t_h5 = tmsf_wtime() - t0;
  t0 = tmsf_wtime();
  CHECK_OK(ctx, tmsf_field_write_gifti(field, TMSF_SAMPLE_ELEMENT, 1002, gii));
  double t_gii = tmsf_wtime() - t0;

  nifti_image *r = nifti_image_read(labels_path, 0), *o = nifti_image_read(nii, 1);
  if (!r || !o) {
    fprintf(stderr, "FATAL: cannot read %s or %s\n", labels_path, nii);
    return 1;
  }
  printf("grid %lld x %lld x %lld; NIfTI %.2f s, HDF5 %.2f s, GIfTI %.2f s\n", (long long)o->nx, (long long)o->ny,
         (long long)o->nz, t_nii, t_h5, t_gii);
  CHECK(o->sform_code == r->sform_code && !memcmp(&o->sto_xyz, &r->sto_xyz, sizeof(nifti_dmat44)), "sform copied");
  CHECK(o->qform_code == r->qform_code && !memcmp(&o->qto_xyz, &r->qto_xyz, sizeof(nifti_dmat44)), "qform copied");
  const nifti_dmat44 *A = r->sform_code > 0 ? &r->sto_xyz : &r->qto_xyz;
  nifti_dmat44 inv = nifti_dmat44_inverse(*A);

  const double *nodes, *E;
  const int32_t *tets, *tags;
  tmsf_mesh_get_nodes(mesh, &nodes);
  tmsf_mesh_get_tetrahedra(mesh, &tets, &tags);
  tmsf_field_get_E(field, &E);
  uint64_t s = 2024;
  double *err = malloc(1000 * sizeof(double));
  int n = 0, none = 0;
  while (n < 1000) {
    int64_t e = (int64_t)(lcg_next(&s) % (uint64_t)ne);
    if (tags[e] != 2) continue;
    double p[3] = {0, 0, 0};
    for (int k = 0; k < 4; k++)
      for (int j = 0; j < 3; j++) p[j] += 250.0 * nodes[3 * tets[4 * e + k] + j];
    double v = trilinear(o, o->data, &inv, p);
    double want = sqrt(E[3 * e] * E[3 * e] + E[3 * e + 1] * E[3 * e + 1] + E[3 * e + 2] * E[3 * e + 2]);
    if (!isfinite(v)) none++;
    err[n++] = isfinite(v) ? fabs(v - want) / want : 1.0;
  }
  qsort(err, 1000, sizeof(double), cmp_dbl);
  double med = 0.5 * (err[499] + err[500]);
  printf("Colin27: median |E| error at 1000 GM centroids %.4f (p75 %.4f, p90 %.4f; %d without a GM voxel)\n", med,
         err[749], err[899], none);
  CHECK(med < 0.05, "NIfTI within 5 %% of the elements (median %.4f)", med);
  free(err);
  nifti_image_free(r);
  nifti_image_free(o);
  remove_dir(dir);
  tmsf_field_destroy(&field);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return test_summary("t-output-head");
}

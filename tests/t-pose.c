/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-pose.c: poses — rigid-motion checks, construction from centre + y
 * direction + distance with SimNIBS semantics, mm/m conversion.
 */
#include "test-common.h"

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  double I[16] = {1, 0, 0, 0.01, 0, 1, 0, 0.02, 0, 0, 1, 0.03, 0, 0, 0, 1};
  CHECK_OK(ctx, tmsf_pose_check(ctx, I));
  /* a 90 degree rotation about z */
  double Rz[16] = {0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  CHECK_OK(ctx, tmsf_pose_check(ctx, Rz));
  double B[16];
  memcpy(B, I, sizeof(B));
  B[1] = 1e-3; /* shear */
  CHECK(tmsf_pose_check(ctx, B) == TMSF_ERR_POSE && strstr(tmsf_context_last_error(ctx), "shear"), "shear: %s", tmsf_context_last_error(ctx));
  memcpy(B, I, sizeof(B));
  B[0] = B[5] = B[10] = 1.01; /* scaling */
  CHECK(tmsf_pose_check(ctx, B) == TMSF_ERR_POSE, "scaling");
  memcpy(B, I, sizeof(B));
  B[0] = -1; /* reflection */
  CHECK(tmsf_pose_check(ctx, B) == TMSF_ERR_POSE && strstr(tmsf_context_last_error(ctx), "determinant"), "reflection: %s", tmsf_context_last_error(ctx));
  memcpy(B, I, sizeof(B));
  B[7] = NAN;
  CHECK(tmsf_pose_check(ctx, B) == TMSF_ERR_POSE && strstr(tmsf_context_last_error(ctx), "(2,4)"), "NaN: %s", tmsf_context_last_error(ctx));
  memcpy(B, I, sizeof(B));
  B[14] = 0.5;
  CHECK(tmsf_pose_check(ctx, B) == TMSF_ERR_POSE && strstr(tmsf_context_last_error(ctx), "bottom row"), "bottom row");
  /* a rotation accurate only to 1e-7 is accepted (tolerance 1e-6) */
  memcpy(B, Rz, sizeof(B));
  B[1] += 1e-7;
  CHECK_OK(ctx, tmsf_pose_check(ctx, B));

  double mm[16], m[16];
  tmsf_pose_to_mm(I, mm);
  CHECK(mm[3] == 10.0 && mm[7] == 20.0 && mm[11] == 30.0 && mm[0] == 1.0, "to mm");
  tmsf_pose_from_mm(mm, m);
  CHECK(fabs(m[3] - 0.01) < 1e-18 && fabs(m[11] - 0.03) < 1e-18, "from mm");

  /* centre + ydir + distance on sphere3: a scalp node near the requested
   * centre, z = -normal (nearly -r), y orthogonal to z, right-handed,
   * centre moved out by the distance */
  tmsf_mesh *mesh;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  const double centre[3] = {0.03, -0.02, 0.09}, ydir[3] = {1.0, 0.0, 0.0};
  double P[16];
  REQUIRE_OK(ctx, tmsf_pose_from_centre(mesh, centre, ydir, 0.004, P));
  CHECK_OK(ctx, tmsf_pose_check(ctx, P));
  double c[3] = {P[3], P[7], P[11]}, z[3] = {P[2], P[6], P[10]}, y[3] = {P[1], P[5], P[9]};
  double rc = sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
  CHECK(fabs(rc - 0.099) < 2e-4, "centre radius %g (scalp 95 mm + 4 mm, normal within a few degrees)", rc);
  double zr = -(z[0] * c[0] + z[1] * c[1] + z[2] * c[2]) / rc;
  CHECK(zr > 0.995, "z points into the head (cos %g)", zr);
  CHECK(fabs(y[0] * z[0] + y[1] * z[1] + y[2] * z[2]) < 1e-12, "y orthogonal to z");
  CHECK(y[0] > 0.9, "y near the requested direction");
  /* nearest scalp node: brute force */
  int64_t ns;
  const int32_t *sn;
  const double *nrm, *nodes;
  tmsf_mesh_get_nodes(mesh, &nodes);
  tmsf_mesh_get_scalp(mesh, &ns, &sn, &nrm);
  double bd = 1e9;
  int64_t bi = -1;
  for (int64_t i = 0; i < ns; i++) {
    const double *x = nodes + 3 * sn[i];
    double d = (x[0] - centre[0]) * (x[0] - centre[0]) + (x[1] - centre[1]) * (x[1] - centre[1]) + (x[2] - centre[2]) * (x[2] - centre[2]);
    if (d < bd) bd = d, bi = i;
  }
  for (int k = 0; k < 3; k++)
    CHECK(fabs(c[k] - (nodes[3 * sn[bi] + k] + 0.004 * nrm[3 * bi + k])) < 1e-15, "centre = node + d n");
  /* a y direction along the normal is rejected */
  const double bad[3] = {-nrm[3 * bi], -nrm[3 * bi + 1], -nrm[3 * bi + 2]};
  CHECK(tmsf_pose_from_centre(mesh, centre, bad, 0.004, P) == TMSF_ERR_POSE, "ydir parallel to normal: %s", tmsf_context_last_error(ctx));
  const double zero[3] = {0, 0, 0};
  CHECK(tmsf_pose_from_centre(mesh, centre, zero, 0.004, P) == TMSF_ERR_POSE, "zero ydir");
  /* pose files: JSON report, 16 numbers, navigator; malformed ones name the file */
  {
    const double c = cos(0.3), sn = sin(0.3);
    const double Pmm[16] = {c, -sn, 0, 10.5, sn, c, 0, -20.25, 0, 0, 1, 80, 0, 0, 0, 1};
    double Pm[16], got[16];
    tmsf_pose_from_mm(Pmm, Pm);
    const char *files[4] = {"t-pose-a.json", "t-pose-b.txt", "t-pose-c.txt", "t-pose-d.txt"};
    FILE *f = fopen(files[0], "w");
    fprintf(f, "{\"tool\": \"x\", \"pose\": [");
    for (int r = 0; r < 4; r++)
      fprintf(f, "%s[%.17g, %.17g, %.17g, %.17g]", r ? ", " : "", Pmm[4 * r], Pmm[4 * r + 1], Pmm[4 * r + 2], Pmm[4 * r + 3]);
    fprintf(f, "], \"objective\": 1}\n");
    fclose(f);
    f = fopen(files[1], "w");
    fprintf(f, "# head from coil, mm\n");
    for (int r = 0; r < 4; r++) fprintf(f, "%.17g, %.17g %.17g\t%.17g\n", Pmm[4 * r], Pmm[4 * r + 1], Pmm[4 * r + 2], Pmm[4 * r + 3]);
    fclose(f);
    for (int k = 0; k < 2; k++) {
      CHECK_OK(ctx, tmsf_pose_read(ctx, files[k], got));
      double d = 0.0;
      for (int q = 0; q < 16; q++) d = fmax(d, fabs(got[q] - Pm[q]));
      CHECK(d <= 1e-15, "%s read back: %g", files[k], d);
    }
    f = fopen(files[2], "w");
    fprintf(f, "1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0\n"); /* 15 numbers */
    fclose(f);
    CHECK(tmsf_pose_read(ctx, files[2], got) == TMSF_ERR_FORMAT && strstr(tmsf_context_last_error(ctx), files[2]) &&
              strstr(tmsf_context_last_error(ctx), "15 numbers"),
          "15 numbers: %s", tmsf_context_last_error(ctx));
    f = fopen(files[3], "w");
    fprintf(f, "2 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n"); /* a scaling */
    fclose(f);
    CHECK(tmsf_pose_read(ctx, files[3], got) == TMSF_ERR_POSE && strstr(tmsf_context_last_error(ctx), files[3]),
          "a scaling: %s", tmsf_context_last_error(ctx));
    CHECK(tmsf_pose_read(ctx, "t-pose-missing.json", got) == TMSF_ERR_IO, "missing file");
    for (int k = 0; k < 4; k++) remove(files[k]);
  }
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return test_summary("pose");
}

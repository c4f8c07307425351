/*
 * SPDX-License-Identifier: BSD-3-Clause
 * A field written by tmsf_mesh_write opens in Gmsh with the views SimNIBS
 * writes.
 *
 * sphere3 with the Magstim 70 mm figure-8 at 4 mm over the top (1e6 A/s) is
 * written with its field; gmsh (env TMSF_GMSH) merges the file in a .geo
 * script and prints the number of post-processing views and each view's
 * name, Max and Min.  Checks: 4 views named E, magnE, J, magnJ in that order;
 * View[1].Max (magnE) and View[0].Max (the largest norm of the vector view E)
 * equal our max |E| over all elements, View[2].Max and View[3].Max our max
 * |J|, each to 1e-6 relative: gmsh reads the doubles we wrote and prints
 * them with 17 digits, so only a misread file could differ (1e-6 leaves room
 * for gmsh computing a vector norm in another order).  Without gmsh the test
 * is skipped (exit 77), or fails when TMSF_REQUIRE_GMSH=1.
 */
#include "gmsh-run.h"
#include "test-common.h"

static void print_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof(line), f)) fprintf(stderr, "  | %s", line);
  fclose(f);
}

int main(void) {
  const char *gmsh = test_gmsh_path();
  if (!gmsh) test_gmsh_missing("opening a written field in gmsh");
  tmsf_context *ctx;
  tmsf_mesh *mesh;
  tmsf_coil *coil;
  tmsf_simulation *sim;
  tmsf_field *field;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &coil));
  double P[16];
  const double centre[3] = {0.0, 0.0, 0.095}, ydir[3] = {0.0, 1.0, 0.0};
  REQUIRE_OK(ctx, tmsf_pose_from_centre(mesh, centre, ydir, 0.004, P));
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &sim));
  REQUIRE_OK(ctx, tmsf_simulation_setup(sim));
  REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, P, 1e6, &field));

  int64_t ne;
  tmsf_mesh_get_sizes(mesh, NULL, &ne, NULL);
  double *mE = malloc(sizeof(double) * (size_t)ne), *mJ = malloc(sizeof(double) * (size_t)ne);
  if (!mE || !mJ) return 1;
  tmsf_field_get_magnE(field, mE);
  tmsf_field_get_magnJ(field, mJ);
  double maxE = 0, maxJ = 0;
  for (int64_t e = 0; e < ne; e++) {
    if (mE[e] > maxE) maxE = mE[e];
    if (mJ[e] > maxJ) maxJ = mJ[e];
  }

  const char *tmp = getenv("TMPDIR");
  char dir[4096], msh[4200], geo[4200], out[4200], log[4200];
  snprintf(dir, sizeof(dir), "%s/tmsf-gmsh-open-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir) || strchr(dir, '"')) {
    fprintf(stderr, "FATAL: cannot create a usable temporary directory %s\n", dir);
    return 1;
  }
  snprintf(msh, sizeof(msh), "%s/field.msh", dir);
  snprintf(geo, sizeof(geo), "%s/check.geo", dir);
  snprintf(out, sizeof(out), "%s/views.txt", dir);
  snprintf(log, sizeof(log), "%s/gmsh.log", dir);
  REQUIRE_OK(ctx, tmsf_mesh_write(mesh, field, msh));
  FILE *f = fopen(geo, "w");
  if (!f) return 1;
  fprintf(f,
          "Merge \"%s\";\n"
          "Printf(\"views %%g\", PostProcessing.NbViews) > \"%s\";\n"
          "For i In {0:PostProcessing.NbViews-1}\n"
          "  Printf(StrCat(\"name \", View[i].Name)) >> \"%s\";\n"
          "  Printf(\"range %%.17g %%.17g\", View[i].Max, View[i].Min) >> \"%s\";\n"
          "EndFor\n",
          msh, out, out, out);
  fclose(f);
  const char *argv[] = {gmsh, "-v", "0", "-nopopup", geo, "-", NULL};
  int rc = test_run(argv, log);
  CHECK(rc == 0, "gmsh exited with %d on %s", rc, geo);
  if (rc != 0) print_file(log);

  int views = -1, nv = 0;
  char names[8][64];
  double vmax[8], vmin[8];
  f = fopen(out, "r");
  CHECK(f != NULL, "gmsh wrote no %s", out);
  if (f) {
    char line[512];
    while (fgets(line, sizeof(line), f)) {
      line[strcspn(line, "\r\n")] = '\0';
      if (sscanf(line, "views %d", &views) == 1) continue;
      if (strncmp(line, "name ", 5) == 0 && nv < 8) {
        snprintf(names[nv], sizeof(names[nv]), "%.63s", line + 5);
      } else if (nv < 8 && sscanf(line, "range %lf %lf", &vmax[nv], &vmin[nv]) == 2) {
        nv++;
      }
    }
    fclose(f);
  }
  printf("gmsh %s: %d views;", gmsh, views);
  for (int i = 0; i < nv; i++) printf(" %s [%.6g, %.6g]", names[i], vmin[i], vmax[i]);
  printf("\nour max |E| %.17g V/m, max |J| %.17g A/m^2\n", maxE, maxJ);
  CHECK(views == 4 && nv == 4, "gmsh reports %d views (%d read back); expected 4", views, nv);
  static const char *want[4] = {"E", "magnE", "J", "magnJ"};
  for (int i = 0; i < nv && i < 4; i++)
    CHECK(strcmp(names[i], want[i]) == 0, "view %d is named '%s'; expected '%s'", i, names[i], want[i]);
  if (nv == 4) {
    printf("View[1].Max %.17g, View[3].Max %.17g: relative differences %.2g, %.2g\n", vmax[1],
           vmax[3], fabs(vmax[1] - maxE) / maxE, fabs(vmax[3] - maxJ) / maxJ);
    CHECK_REL(vmax[1], maxE, 1e-6, "View[1].Max (magnE) vs max |E|");
    CHECK_REL(vmax[0], maxE, 1e-6, "View[0].Max (E) vs max |E|");
    CHECK_REL(vmax[2], maxJ, 1e-6, "View[2].Max (J) vs max |J|");
    CHECK_REL(vmax[3], maxJ, 1e-6, "View[3].Max (magnJ) vs max |J|");
  }
  unlink(msh);
  unlink(geo);
  unlink(out);
  unlink(log);
  rmdir(dir);
  free(mE);
  free(mJ);
  tmsf_field_destroy(&field);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);
  tmsf_context_destroy(&ctx);
  return test_summary("gmsh-open");
}

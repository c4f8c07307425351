/*
 * SPDX-License-Identifier: BSD-3-Clause
 * Validation: the parametric Magstim 70 mm figure-8 (tmsf_wire_coil_params_init
 * (TMSF_WIRE_COIL_FIGURE8), built from published winding dimensions, see
 * docs/parametric-coils.md) against the measured-and-modelled Magstim 70 mm
 * model that SimNIBS ships (data/coils/Magstim_70mm_Fig8.ccd, 2,712 dipoles,
 * Thielscher & Kammer 2004).
 *
 * Measures, relative L2 differences || w - m || / || m || (w: wire coil, m:
 * measured model):
 *   - primary field A (per ampere) on three planes parallel to the coil face,
 *     10, 20 and 30 mm in front of it, 120 x 120 mm, 2 mm grid;
 *   - E on SimNIBS's sphere3.msh (radii 85/90/95 mm), coil over the top (centre
 *     0,0,95 mm, y direction 0,1,0) at 4 mm, dI/dt 1e6 A/s, default
 *     conductivities, over the tag-3 elements (r < 85 mm) weighted by volume,
 *     and over the "cortex" shell of tag-3 elements with centroids at r > 75 mm;
 *   - the same on a finer gmsh sphere (meshes/sphere3.geo at h = 4 mm, cached in
 *     $TMSF_BUILD_DIR like validation-convergence; needs gmsh).
 * Both coils are solved on the same mesh, so the FEM's discretisation error
 * (2.6 % on the h 4 mesh, tests/VALIDATION.md) largely cancels in the
 * difference.  Also printed: ||w|| / ||m|| (efficiency ratio) and the
 * difference after the best scaling of w (shape alone).
 *
 * Assertions: the issue aims at <= 10 % for E on the sphere.  Measured (see
 * docs/parametric-coils.md): E on sphere3 tag 3 1.37 %, shell 1.54 %; h 4
 * sphere 1.40 % and 1.58 %; primary A 2.34 / 1.82 / 1.49 % on the 10 / 20 /
 * 30 mm planes.  The test asserts each stays below the measured value + 0.5
 * percentage points (a regression guard, not a loosened target).  Geometry
 * variants (one filament instead of six, the .ccd's own winding radii) are
 * printed for the record, never asserted; a coil with wings 20 % smaller must
 * differ by more than 10 % (the measure can tell coils apart).
 */
#include <time.h>

#include "gmsh-run.h"
#include "test-common.h"

typedef struct mesh_case {
  const char *label;
  tmsf_mesh *mesh;
  tmsf_simulation *sim;
  double P[16];
  int64_t ne;
  const double *nodes;
  const int32_t *tets, *tags;
  double *vol;  /* per element, m^3 */
  double *rc;   /* centroid radius, m */
  double *Eref; /* E of the measured model */
} mesh_case;

static double tet_volume(const double *x, const int32_t *t) {
  const double *a = x + 3 * t[0], *b = x + 3 * t[1], *c = x + 3 * t[2], *d = x + 3 * t[3];
  double u[3], v[3], w[3];
  for (int j = 0; j < 3; j++) u[j] = b[j] - a[j], v[j] = c[j] - a[j], w[j] = d[j] - a[j];
  return fabs(u[0] * (v[1] * w[2] - v[2] * w[1]) - u[1] * (v[0] * w[2] - v[2] * w[0]) +
              u[2] * (v[0] * w[1] - v[1] * w[0])) /
         6.0;
}

static int setup_mesh(tmsf_context *ctx, const char *label, const char *path, const tmsf_coil *ref,
                      mesh_case *mc) {
  memset(mc, 0, sizeof(*mc));
  mc->label = label;
  if (tmsf_mesh_read(ctx, path, &mc->mesh)) {
    fprintf(stderr, "FAIL: %s: %s\n", path, tmsf_context_last_error(ctx));
    test_failures++;
    return -1;
  }
  const double centre[3] = {0.0, 0.0, 0.095}, ydir[3] = {0.0, 1.0, 0.0};
  REQUIRE_OK(ctx, tmsf_pose_from_centre(mc->mesh, centre, ydir, 0.004, mc->P));
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mc->mesh, &mc->sim));
  REQUIRE_OK(ctx, tmsf_simulation_setup(mc->sim));
  int64_t nn;
  tmsf_mesh_get_sizes(mc->mesh, &nn, &mc->ne, NULL);
  tmsf_mesh_get_nodes(mc->mesh, &mc->nodes);
  tmsf_mesh_get_tetrahedra(mc->mesh, &mc->tets, &mc->tags);
  printf("%s: %lld nodes, %lld tetrahedra\n", label, (long long)nn, (long long)mc->ne);
  mc->vol = malloc(sizeof(double) * (size_t)mc->ne);
  mc->rc = malloc(sizeof(double) * (size_t)mc->ne);
  mc->Eref = malloc(sizeof(double) * 3 * (size_t)mc->ne);
  for (int64_t e = 0; e < mc->ne; e++) {
    mc->vol[e] = tet_volume(mc->nodes, mc->tets + 4 * e);
    double c[3] = {0, 0, 0};
    for (int k = 0; k < 4; k++)
      for (int j = 0; j < 3; j++) c[j] += 0.25 * mc->nodes[3 * mc->tets[4 * e + k] + j];
    mc->rc[e] = sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
  }
  tmsf_field *f;
  REQUIRE_OK(ctx, tmsf_simulation_solve(mc->sim, ref, mc->P, 1e6, &f));
  const double *E;
  tmsf_field_get_E(f, &E);
  memcpy(mc->Eref, E, sizeof(double) * 3 * (size_t)mc->ne);
  tmsf_field_destroy(&f);
  return 0;
}

static void free_mesh(mesh_case *mc) {
  free(mc->vol);
  free(mc->rc);
  free(mc->Eref);
  tmsf_simulation_destroy(&mc->sim);
  tmsf_mesh_destroy(&mc->mesh);
}

/* Relative L2 difference of w against m (weights wt, may be NULL), the norm
 * ratio, and the difference after the best scaling of w. */
typedef struct diff {
  double rel, ratio, shape;
} diff;

static diff compare(int64_t n, const double *w, const double *m, const double *wt, const char *mask) {
  double ww = 0, mm = 0, wm = 0;
  for (int64_t i = 0; i < n; i++) {
    if (mask && !mask[i]) continue;
    double g = wt ? wt[i] : 1.0;
    for (int j = 0; j < 3; j++) {
      ww += g * w[3 * i + j] * w[3 * i + j];
      mm += g * m[3 * i + j] * m[3 * i + j];
      wm += g * w[3 * i + j] * m[3 * i + j];
    }
  }
  diff d;
  d.rel = sqrt(fmax(0.0, ww - 2 * wm + mm) / mm);
  d.ratio = sqrt(ww / mm);
  double s = wm / ww; /* argmin_s || s w - m || */
  d.shape = sqrt(fmax(0.0, s * s * ww - 2 * s * wm + mm) / mm);
  return d;
}

typedef struct result {
  diff plane[3];
  diff tag3[2], shell[2]; /* per mesh case */
} result;

static void evaluate(tmsf_context *ctx, const tmsf_coil *ref, const tmsf_wire_coil_params *p,
                     mesh_case *mcs, int nmc, result *r) {
  tmsf_coil *wire;
  REQUIRE_OK(ctx, tmsf_coil_create_wire(ctx, p, &wire));
  const double I4[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  enum { G = 61 };
  double *pts = malloc(sizeof(double) * 3 * G * G), *Aw = malloc(sizeof(double) * 3 * G * G),
         *Am = malloc(sizeof(double) * 3 * G * G);
  for (int z = 0; z < 3; z++) {
    for (int i = 0; i < G; i++)
      for (int j = 0; j < G; j++) {
        double *q = pts + 3 * (i * G + j);
        q[0] = -0.060 + 0.002 * j, q[1] = -0.060 + 0.002 * i, q[2] = 0.010 * (z + 1);
      }
    REQUIRE_OK(ctx, tmsf_coil_primary_field(wire, I4, 1.0, G * G, pts, Aw, NULL));
    REQUIRE_OK(ctx, tmsf_coil_primary_field(ref, I4, 1.0, G * G, pts, Am, NULL));
    r->plane[z] = compare(G * G, Aw, Am, NULL, NULL);
  }
  free(pts);
  free(Aw);
  free(Am);
  for (int c = 0; c < nmc; c++) {
    mesh_case *mc = mcs + c;
    tmsf_field *f;
    REQUIRE_OK(ctx, tmsf_simulation_solve(mc->sim, wire, mc->P, 1e6, &f));
    const double *E;
    tmsf_field_get_E(f, &E);
    char *m3 = malloc((size_t)mc->ne), *ms = malloc((size_t)mc->ne);
    for (int64_t e = 0; e < mc->ne; e++) {
      m3[e] = mc->tags[e] == 3;
      ms[e] = mc->tags[e] == 3 && mc->rc[e] > 0.075;
    }
    r->tag3[c] = compare(mc->ne, E, mc->Eref, mc->vol, m3);
    r->shell[c] = compare(mc->ne, E, mc->Eref, mc->vol, ms);
    free(m3);
    free(ms);
    tmsf_field_destroy(&f);
  }
  tmsf_coil_destroy(&wire);
}

static void print_result(const char *label, const result *r, const mesh_case *mcs, int nmc) {
  printf("%s\n", label);
  for (int z = 0; z < 3; z++)
    printf("  primary A, plane %d mm: rel L2 %.4f  (norm ratio %.4f, after scaling %.4f)\n",
           10 * (z + 1), r->plane[z].rel, r->plane[z].ratio, r->plane[z].shape);
  for (int c = 0; c < nmc; c++) {
    printf("  E %-14s tag 3: rel L2 %.4f  (norm ratio %.4f, after scaling %.4f)\n", mcs[c].label,
           r->tag3[c].rel, r->tag3[c].ratio, r->tag3[c].shape);
    printf("  E %-14s shell r > 75 mm: rel L2 %.4f  (norm ratio %.4f, after scaling %.4f)\n",
           mcs[c].label, r->shell[c].rel, r->shell[c].ratio, r->shell[c].shape);
  }
}

/* cached gmsh sphere at target edge h mm (same cache as validation-convergence) */
static int fine_mesh(double h, char *path, size_t cap) {
  const char *dir = getenv("TMSF_BUILD_DIR");
  if (!dir || !*dir) dir = ".";
  const char *geo = test_path("meshes/sphere3.geo");
  snprintf(path, cap, "%s/sphere3-h%g.msh", dir, h);
  struct stat sg, sm;
  if (stat(geo, &sg) != 0) return -1;
  if (stat(path, &sm) == 0 && sm.st_size > 0 && sm.st_mtime >= sg.st_mtime) return 0;
  const char *gmsh = test_gmsh_path();
  if (!gmsh) test_gmsh_missing("the h 4 mm validation sphere");
  char tmp[4200], hs[64];
  snprintf(tmp, sizeof(tmp), "%s/sphere3-h%g.tmp%ld.msh", dir, h, (long)getpid());
  snprintf(hs, sizeof(hs), "%.17g", h);
  const char *argv[] = {gmsh, "-3", "-setnumber", "h", hs, "-format", "msh22", "-bin", "-nt", "2",
                        "-v", "0", geo, "-o", tmp, NULL};
  int rc = test_run(argv, NULL);
  if (rc != 0 || stat(tmp, &sm) != 0 || sm.st_size == 0 || rename(tmp, path) != 0) {
    fprintf(stderr, "FAIL: gmsh exited with %d meshing %s at h = %g mm\n", rc, geo, h);
    unlink(tmp);
    return -1;
  }
  return 0;
}

int main(void) {
  tmsf_context *ctx;
  tmsf_coil *ref;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &ref));
  mesh_case mcs[2];
  int nmc = 0;
  if (setup_mesh(ctx, "sphere3.msh", test_path("data/spheres/sphere3.msh"), ref, mcs + nmc) == 0)
    nmc++;
  char path[4200];
  if (fine_mesh(4.0, path, sizeof(path)) == 0) {
    if (setup_mesh(ctx, "gmsh h 4 mm", path, ref, mcs + nmc) == 0) nmc++;
  } else {
    test_failures++;
  }
  if (nmc < 2) {
    fprintf(stderr, "FAIL: a validation mesh is missing\n");
    return 1;
  }

  /* the published geometry (the library's figure-8 default) */
  tmsf_wire_coil_params p;
  tmsf_wire_coil_params_init(TMSF_WIRE_COIL_FIGURE8, &p);
  result r;
  evaluate(ctx, ref, &p, mcs, nmc, &r);
  print_result("Magstim 70 mm from published dimensions (56/87 mm, 9 turns, 6 x 1 mm filaments, "
               "wing centres +-45 mm, winding 3-9 mm behind the face):",
               &r, mcs, nmc);
  /* regression guards: measured + 0.5 % (see the header comment) */
  const double plane_max[3] = {0.0284, 0.0232, 0.0199}, tag3_max[2] = {0.0187, 0.0190},
               shell_max[2] = {0.0204, 0.0208};
  for (int z = 0; z < 3; z++)
    CHECK(r.plane[z].rel <= plane_max[z], "primary A plane %d mm: %.4f > %.4f", 10 * (z + 1),
          r.plane[z].rel, plane_max[z]);
  for (int c = 0; c < nmc; c++) {
    CHECK(r.tag3[c].rel <= tag3_max[c], "E %s tag 3: %.4f > %.4f", mcs[c].label, r.tag3[c].rel,
          tag3_max[c]);
    CHECK(r.shell[c].rel <= shell_max[c], "E %s shell: %.4f > %.4f", mcs[c].label, r.shell[c].rel,
          shell_max[c]);
    CHECK(r.tag3[c].rel <= 0.10, "E %s tag 3: %.4f above the issue's 10 %% aim", mcs[c].label,
          r.tag3[c].rel);
  }

  /* variants, for the record */
  tmsf_wire_coil_params v = p;
  v.layers = 1;
  v.bottom_distance_m = 0.006;
  evaluate(ctx, ref, &v, mcs, nmc, &r);
  print_result("variant: one filament at mid-height (6 mm):", &r, mcs, nmc);
  v = p;
  v.inner_radius_m = 0.026, v.outer_radius_m = 0.044, v.layers = 7;
  evaluate(ctx, ref, &v, mcs, nmc, &r);
  print_result("variant: the .ccd's own winding (26 -> 44 mm, 7 x 1 mm filaments, 3-10 mm):", &r,
               mcs, nmc);

  /* a different coil: wings 20 % smaller */
  v = p;
  v.inner_radius_m *= 0.8, v.outer_radius_m *= 0.8;
  evaluate(ctx, ref, &v, mcs, nmc, &r);
  print_result("control: wing radii x 0.8:", &r, mcs, nmc);
  for (int c = 0; c < nmc; c++)
    CHECK(r.tag3[c].rel > 0.10, "E %s: a 20 %% smaller coil differs by only %.4f", mcs[c].label,
          r.tag3[c].rel);

  for (int c = 0; c < nmc; c++) free_mesh(mcs + c);
  tmsf_coil_destroy(&ref);
  tmsf_context_destroy(&ctx);
  return test_summary("validation-parametric");
}

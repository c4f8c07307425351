/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-field.c: fields — superconvergent patch recovery (exact for linear
 * fields; per tissue, keeping jumps at interfaces; more accurate than the
 * element values against the analytic sphere), sampling at points, and
 * volume-weighted percentiles.  Synthetic fields are built with the
 * library's internal allocator.
 */
#include "test-common.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
#include "test-mesh.h"
#include "analytic.h"
#include "tmsf-impl.h"

static void linear(const double x[3], int tag, double E[3]) {
  double s = tag == 1 ? 1.0 : -2.0; /* a different linear field per tissue */
  E[0] = s * (1.0 + 20.0 * x[0] - 5.0 * x[1]);
  E[1] = s * (0.5 - 3.0 * x[2]);
  E[2] = s * (2.0 + 7.0 * x[0] + 11.0 * x[1] - 13.0 * x[2]);
}

static void test_linear(tmsf_context *ctx) {
  const int n = 6;
  const double h = 0.01;
  double *nodes;
  int32_t *tets, *tags;
  int64_t nn, ne;
  test_box_arrays(n, h, &nodes, &tets, &tags, &nn, &ne, 1);
  for (int64_t e = 0; e < ne; e++) {
    double cz = 0;
    for (int k = 0; k < 4; k++) cz += 0.25 * nodes[3 * tets[4 * e + k] + 2];
    tags[e] = cz < 0.5 * n * h ? 1 : 2;
  }
  tmsf_mesh *mesh;
  REQUIRE_OK(ctx, tmsf_mesh_create(ctx, nn, nodes, ne, tets, tags, 0, NULL, NULL, &mesh));
  tmsf_field *f;
  REQUIRE_OK(ctx, tmsf_field_alloc(ctx, mesh, &f));
  for (int64_t e = 0; e < ne; e++) {
    double c[3] = {0, 0, 0};
    for (int k = 0; k < 4; k++)
      for (int j = 0; j < 3; j++) c[j] += 0.25 * nodes[3 * tets[4 * e + k] + j];
    linear(c, tags[e], f->E + 3 * e);
    f->sigma[e] = 1.0;
  }
  for (int tag = 1; tag <= 2; tag++) {
    double *rec = malloc(sizeof(double) * 3 * (size_t)nn);
    CHECK_OK(ctx, tmsf_field_recover_nodal(f, tag, rec));
    double worst = 0;
    int64_t checked = 0, nan_ok = 1;
    for (int64_t i = 0; i < nn; i++) {
      const double *x = nodes + 3 * i;
      int in_tissue = tag == 1 ? x[2] <= 0.5 * n * h + 1e-12 : x[2] >= 0.5 * n * h - 1e-12;
      if (!in_tissue) {
        nan_ok &= isnan(rec[3 * i]);
        continue;
      }
      /* interior in x and y (corner patches can be too small for a linear fit) */
      if (x[0] < 0.5 * h || x[0] > (n - 0.5) * h || x[1] < 0.5 * h || x[1] > (n - 0.5) * h) continue;
      double want[3];
      linear(x, tag, want);
      for (int c = 0; c < 3; c++) {
        double d = fabs(rec[3 * i + c] - want[c]) / (1.0 + fabs(want[c]));
        if (d > worst) worst = d;
      }
      checked++;
    }
    printf("tag %d: SPR on a linear field, %lld nodes, worst error %.3g\n", tag, (long long)checked, worst);
    CHECK(worst < 1e-10, "SPR reproduces a linear field (tag %d): %.3g", tag, worst);
    CHECK(nan_ok, "nodes outside tissue %d are NaN", tag);
    free(rec);
  }
  CHECK(tmsf_field_recover_nodal(f, 7, nodes) == TMSF_ERR_NOT_FOUND, "unknown tag");

  /* sampling: element mode gives the element value; recovered mode the
   * linear field at interior points; outside points NaN and -1 */
  double pts[3 * 3] = {0.021, 0.033, 0.011, 0.041, 0.012, 0.049, 0.5, 0.5, 0.5};
  double out[9];
  int64_t where[3];
  CHECK_OK(ctx, tmsf_field_sample(f, TMSF_SAMPLE_ELEMENT, 3, pts, out, where));
  CHECK(where[0] >= 0 && where[1] >= 0 && where[2] == -1, "located %lld %lld %lld", (long long)where[0], (long long)where[1], (long long)where[2]);
  for (int c = 0; c < 3; c++) CHECK(out[c] == f->E[3 * where[0] + c], "element sample");
  CHECK(isnan(out[6]) && isnan(out[7]) && isnan(out[8]), "outside is NaN");
  CHECK_OK(ctx, tmsf_field_sample(f, TMSF_SAMPLE_RECOVERED, 2, pts, out, NULL));
  for (int p = 0; p < 2; p++) {
    double want[3];
    linear(pts + 3 * p, pts[3 * p + 2] < 0.03 ? 1 : 2, want);
    for (int c = 0; c < 3; c++) CHECK(fabs(out[3 * p + c] - want[c]) < 1e-9 * (1 + fabs(want[c])), "recovered sample %d comp %d: %g vs %g", p, c, out[3 * p + c], want[c]);
  }
  CHECK(tmsf_field_sample(f, (tmsf_sample_mode)9, 1, pts, out, NULL) == TMSF_ERR_ARGUMENT, "bad mode");

  /* percentiles: equal volumes (Kuhn cubes), |E_e| = e + 1 */
  for (int64_t e = 0; e < ne; e++) {
    f->E[3 * e] = 0.0, f->E[3 * e + 1] = (double)(ne - e), f->E[3 * e + 2] = 0.0;
  }
  double pct[4] = {0.0, 50.0, 90.0, 100.0}, v[4];
  CHECK_OK(ctx, tmsf_field_magnE_percentiles(f, 0, 4, pct, v));
  /* smallest value whose cumulative volume fraction reaches p */
  CHECK(v[0] == 1.0 && v[1] == (double)(ne / 2) && v[2] == ceil(0.9 * (double)ne) && v[3] == (double)ne,
        "percentiles %g %g %g %g (n=%lld)", v[0], v[1], v[2], v[3], (long long)ne);
  /* scrambled values over 12 decades (all bytes of the sort keys differ),
   * against qsort: the k-th smallest with k = ceil(p n) (equal volumes) */
  {
    double *ref = malloc(sizeof(double) * (size_t)ne);
    for (int64_t e = 0; e < ne; e++) {
      double mag = (double)((e * 7919) % ne + 1) * pow(10.0, (double)((e * 31) % 13) - 6.0);
      f->E[3 * e] = 0.6 * mag, f->E[3 * e + 1] = 0.0, f->E[3 * e + 2] = -0.8 * mag;
      ref[e] = sqrt(f->E[3 * e] * f->E[3 * e] + f->E[3 * e + 2] * f->E[3 * e + 2]);
    }
    qsort(ref, (size_t)ne, sizeof(double), cmp_double);
    double pq[5] = {0.0, 12.5, 50.0, 99.0, 100.0}, vq[5];
    CHECK_OK(ctx, tmsf_field_magnE_percentiles(f, 0, 5, pq, vq));
    for (int j = 0; j < 5; j++) {
      int64_t k = (int64_t)ceil(pq[j] / 100.0 * (double)ne);
      double want = ref[k > 0 ? k - 1 : 0];
      CHECK(vq[j] == want, "scrambled percentile %g: %.17g vs %.17g", pq[j], vq[j], want);
    }
    free(ref);
  }
  double bad = 101.0;
  CHECK(tmsf_field_magnE_percentiles(f, 0, 1, &bad, v) == TMSF_ERR_ARGUMENT, "percentile > 100");
  CHECK(tmsf_field_magnE_percentiles(f, 9, 1, pct, v) == TMSF_ERR_NOT_FOUND, "no such tag");
  tmsf_field_destroy(&f);
  tmsf_mesh_destroy(&mesh);
  free(nodes), free(tets), free(tags);
}

/* On sphere3: recovered nodal E is closer to the analytic field than the
 * element values are (the purpose of SPR). */
static void test_sphere(tmsf_context *ctx) {
  tmsf_mesh *mesh;
  tmsf_coil *coil;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &coil));
  double P[16];
  const double c[3] = {0, 0, 0.095}, y[3] = {0, 1, 0};
  REQUIRE_OK(ctx, tmsf_pose_from_centre(mesh, c, y, 0.004, P));
  tmsf_simulation *sim;
  tmsf_field *f;
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &sim));
  REQUIRE_OK(ctx, tmsf_simulation_setup(sim));
  REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, P, 1e6, &f));
  int64_t nn, ne, nd;
  const double *nodes, *E, *cp, *cm;
  const int32_t *tets, *tags;
  tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
  tmsf_mesh_get_nodes(mesh, &nodes);
  tmsf_mesh_get_tetrahedra(mesh, &tets, &tags);
  tmsf_field_get_E(f, &E);
  tmsf_coil_get_num_dipoles(coil, &nd);
  tmsf_coil_get_dipoles(coil, &cp, &cm);
  double *pos = malloc(sizeof(double) * 3 * (size_t)nd), *mom = malloc(sizeof(double) * 3 * (size_t)nd);
  analytic_place_dipoles(nd, cp, cm, P, pos, mom);
  double *rec = malloc(sizeof(double) * 3 * (size_t)nn);
  CHECK_OK(ctx, tmsf_field_recover_nodal(f, 3, rec));
  /* nodes strictly inside the inner sphere (not on its surface) */
  double dn = 0, an = 0;
  for (int64_t i = 0; i < nn; i++) {
    const double *x = nodes + 3 * i;
    if (sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) > 0.0849) continue;
    double A[3];
    analytic_sphere_E(nd, pos, mom, 1e6, x, A);
    for (int k = 0; k < 3; k++) dn += (rec[3 * i + k] - A[k]) * (rec[3 * i + k] - A[k]), an += A[k] * A[k];
  }
  double de = 0, ae = 0;
  for (int64_t e = 0; e < ne; e++) {
    if (tags[e] != 3) continue;
    double x[3] = {0, 0, 0}, A[3];
    for (int k = 0; k < 4; k++)
      for (int j = 0; j < 3; j++) x[j] += 0.25 * nodes[3 * tets[4 * e + k] + j];
    analytic_sphere_E(nd, pos, mom, 1e6, x, A);
    for (int k = 0; k < 3; k++) de += (E[3 * e + k] - A[k]) * (E[3 * e + k] - A[k]), ae += A[k] * A[k];
  }
  double err_rec = sqrt(dn / an), err_el = sqrt(de / ae);
  printf("sphere3 tag 3: element values %.4f, recovered interior nodes %.4f (relative L2 vs analytic)\n", err_el, err_rec);
  CHECK(err_rec < err_el, "SPR should be more accurate: %.4f vs %.4f", err_rec, err_el);
  free(pos), free(mom), free(rec);
  tmsf_field_destroy(&f);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  test_linear(ctx);
  test_sphere(ctx);
  tmsf_context_destroy(&ctx);
  return test_summary("field");
}

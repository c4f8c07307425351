/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-coil-grid.c: writers and grids — .ccd write/read round trip (exact), any
 * coil sampled on an A-field grid with its interpolation error (and that
 * error against an independent check at other points, and its second-order
 * decrease with the spacing), NIfTI write/read round trip in the 4-D and the
 * 5-D (several stimulators) layouts, per-stimulator superposition on grids,
 * the on-disk grid cache (hit, identical result, disabled), malformed 5-D
 * NIfTI files.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test-common.h"

static const double I4[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};

static double rel(const double *a, const double *b, int64_t n) {
  double e = 0, s = 0;
  for (int64_t i = 0; i < n; i++) e += (a[i] - b[i]) * (a[i] - b[i]), s += b[i] * b[i];
  return sqrt(e / s);
}

static int count_files(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (de->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  char p[4200];
  while ((de = readdir(d)))
    if (de->d_name[0] != '.') {
      snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
      remove(p);
    }
  closedir(d);
  rmdir(dir);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  char tmpdir[] = "/tmp/t-coil-grid.XXXXXX";
  if (!mkdtemp(tmpdir)) {
    fprintf(stderr, "FATAL: mkdtemp\n");
    return 1;
  }
  char path[4200], cache[4200];
  snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
  CHECK_OK(ctx, tmsf_coil_set_cache_dir(cache));
  {
    char got[4200];
    CHECK_OK(ctx, tmsf_coil_get_cache_dir(got, sizeof(got)));
    CHECK(strcmp(got, cache) == 0, "cache dir %s", got);
    char small[4];
    CHECK(tmsf_coil_get_cache_dir(small, sizeof(small)) == TMSF_ERR_ARGUMENT, "small buffer");
  }

  /* ---- .ccd round trip ---- */
  {
    tmsf_coil *a, *b;
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/testcoil.ccd"), &a));
    CHECK_OK(ctx, tmsf_coil_set_didt_max(a, 123.45e6));
    snprintf(path, sizeof(path), "%s/round.ccd", tmpdir);
    CHECK_OK(ctx, tmsf_coil_write_ccd(a, path));
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, path, &b));
    const double *pa, *ma, *pb, *mb;
    int64_t na, nb;
    tmsf_coil_get_num_dipoles(a, &na);
    tmsf_coil_get_num_dipoles(b, &nb);
    CHECK_OK(ctx, tmsf_coil_get_dipoles(a, &pa, &ma));
    CHECK_OK(ctx, tmsf_coil_get_dipoles(b, &pb, &mb));
    CHECK(na == nb && memcmp(pa, pb, (size_t)na * 3 * sizeof(double)) == 0 &&
              memcmp(ma, mb, (size_t)na * 3 * sizeof(double)) == 0,
          ".ccd round trip exact (%lld dipoles)", (long long)nb);
    double d;
    CHECK_OK(ctx, tmsf_coil_get_didt_max(b, &d));
    CHECK(fabs(d - 123.45e6) <= 1e-9 * d, "dIdtmax written from stimulator 0: %g", d);
    const char *v, *name;
    CHECK_OK(ctx, tmsf_coil_get_header(b, "x", &v));
    CHECK(strcmp(v, "-100,100") == 0, "header key x kept: %s", v);
    CHECK_OK(ctx, tmsf_coil_get_header(b, "coilname", &v));
    tmsf_coil_get_name(b, &name);
    CHECK(strcmp(v, "Test coil") == 0 && strcmp(name, "Test coil") == 0, "coilname kept: %s", v);
    tmsf_coil_destroy(&a);
    tmsf_coil_destroy(&b);
    /* a coil the format cannot hold */
    const double p[3] = {0, 0, 0}, l[3] = {1e-3, 0, 0};
    REQUIRE_OK(ctx, tmsf_coil_create_segments(ctx, 1, p, l, &a));
    CHECK(tmsf_coil_write_ccd(a, path) == TMSF_ERR_STATE, "segments to .ccd refused");
    CHECK(strstr(tmsf_context_last_error(ctx), "not made of dipoles") != NULL, "%s", tmsf_context_last_error(ctx));
    CHECK(tmsf_coil_write_nifti(a, "/tmp/x.nii.gz") == TMSF_ERR_STATE ||
              tmsf_coil_write_nifti(a, "/tmp/x.nii.gz") == TMSF_ERR_UNSUPPORTED,
          "segments to NIfTI refused");
    tmsf_coil_destroy(&a);
  }

  /* ---- the two-stimulator coil on grids ---- */
  tmsf_coil *two;
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/coils/two_stimulator_example_coil.tcd"), &two));
  /* below the windings (z >= 0; the coil's windings lie at z -20..-4 mm) */
  const double lim[6] = {-0.05, 0.05, -0.05, 0.05, 0.0, 0.05};
  double errs[2];
  tmsf_coil *g[2] = {NULL, NULL};
  const double hs[2] = {0.005, 0.0025};
  double secs[2];
  for (int r = 0; r < 2; r++) {
    const double res[3] = {hs[r], hs[r], hs[r]};
    double t0 = now();
    REQUIRE_OK(ctx, tmsf_coil_to_grid(two, lim, res, &g[r], &errs[r]));
    secs[r] = now() - t0;
    printf("two-stimulator coil, %g mm grid: interpolation error %.3e (%.2f s)\n", hs[r] * 1e3, errs[r], secs[r]);
  }
  /* trilinear interpolation errs like h^2: halving h divides it by ~4 */
  CHECK(errs[1] < errs[0] / 3.0 && errs[1] > errs[0] / 5.0, "error %.3g -> %.3g for h/2", errs[0], errs[1]);
  CHECK(errs[1] < 5e-3, "2.5 mm grid error %.3g", errs[1]);
  {
    tmsf_coil *c = g[1];
    int ne, ns;
    tmsf_coil_get_num_elements(c, &ne);
    tmsf_coil_get_num_stimulators(c, &ns);
    CHECK(ne == 2 && ns == 2, "grid coil: %d elements, %d stimulators", ne, ns);
    int64_t dims[3];
    CHECK_OK(ctx, tmsf_coil_get_grid(c, 1, dims, NULL, NULL, NULL));
    CHECK(dims[0] == 41 && dims[1] == 41 && dims[2] == 21, "grid %lld %lld %lld", (long long)dims[0],
          (long long)dims[1], (long long)dims[2]);
    double d1;
    const char *n1, *v;
    tmsf_coil_get_stimulator(c, 1, &n1, NULL, &d1);
    CHECK(strcmp(n1, "Example Stimulator 2") == 0 && d1 == 102450000.0, "stimulators copied: %s %g", n1, d1);
    CHECK_OK(ctx, tmsf_coil_get_header(c, "grid_rel_error", &v));
    CHECK(fabs(atof(v) - errs[1]) <= 1e-6 * errs[1], "grid_rel_error header %s", v);
    /* an independent check of the stated error: other points (a regular
     * lattice offset from the grid), stimulator 1 alone at a rotated pose */
    enum { N = 9 * 9 * 5 };
    double pts[3 * N], a[3 * N], b[3 * N];
    const double cz = cos(0.3), sz = sin(0.3);
    const double P[16] = {cz, -sz, 0, 0.01, sz, cz, 0, 0.02, 0, 0, 1, 0.07, 0, 0, 0, 1};
    int n = 0;
    for (int k = 0; k < 5; k++)
      for (int j = 0; j < 9; j++)
        for (int i = 0; i < 9; i++, n++) {
          double x[3] = {-0.045 + 0.0111 * i, -0.045 + 0.0111 * j, 0.0083 + 0.0095 * k};
          for (int q = 0; q < 3; q++) pts[3 * n + q] = P[4 * q] * x[0] + P[4 * q + 1] * x[1] + P[4 * q + 2] * x[2] + P[4 * q + 3];
        }
    const double s1[2] = {0.0, 1e8};
    tmsf_coil_set_precision(two, TMSF_PRECISION_DOUBLE);
    CHECK_OK(ctx, tmsf_coil_primary_field_stimulators(two, P, s1, N, pts, a, NULL));
    int64_t nout = -1;
    CHECK_OK(ctx, tmsf_coil_primary_field_stimulators(c, P, s1, N, pts, b, &nout));
    double e = rel(b, a, 3 * N);
    printf("independent check of the 2.5 mm grid (stimulator 1, rotated pose, %d points): %.3e\n", N, e);
    CHECK(nout == 0, "all check points inside the grid (%lld outside)", (long long)nout);
    CHECK(e < 3.0 * errs[1] + 1e-6, "independent error %.3g consistent with the stated %.3g", e, errs[1]);
  }

  /* ---- NIfTI round trip: 5-D (2 stimulators) ---- */
#if TMSF_HAVE_NIFTI
  {
    snprintf(path, sizeof(path), "%s/two.nii.gz", tmpdir);
    CHECK_OK(ctx, tmsf_coil_write_nifti(g[0], path));
    tmsf_coil *r;
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, path, &r));
    int ne, ns;
    tmsf_coil_get_num_elements(r, &ne);
    tmsf_coil_get_num_stimulators(r, &ns);
    CHECK(ne == 2 && ns == 2, "5-D NIfTI: %d elements, %d stimulators", ne, ns);
    for (int el = 0; el < 2 && ne == 2; el++) {
      int64_t da[3], db[3];
      double oa[3], ob[3], ha[3], hb[3];
      const float *A, *B;
      int st;
      tmsf_coil_get_grid(g[0], el, da, oa, ha, &A);
      tmsf_coil_get_grid(r, el, db, ob, hb, &B);
      tmsf_coil_get_element(r, el, NULL, &st, NULL, NULL);
      size_t nv = (size_t)da[0] * (size_t)da[1] * (size_t)da[2];
      int same = st == el && memcmp(da, db, sizeof(da)) == 0 && memcmp(A, B, 3 * nv * sizeof(float)) == 0;
      for (int q = 0; q < 3; q++) same &= fabs(oa[q] - ob[q]) < 1e-12 && fabs(ha[q] - hb[q]) < 1e-12;
      CHECK(same, "5-D NIfTI element %d read back identical", el);
    }
    tmsf_coil_destroy(&r);
    /* 4-D: one stimulator */
    tmsf_coil *one;
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/testcoil.nii.gz"), &one));
    snprintf(path, sizeof(path), "%s/one.nii", tmpdir);
    CHECK_OK(ctx, tmsf_coil_write_nifti(one, path));
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, path, &r));
    const float *A, *B;
    int64_t d[3];
    tmsf_coil_get_grid(one, 0, d, NULL, NULL, &A);
    tmsf_coil_get_grid(r, 0, NULL, NULL, NULL, &B);
    CHECK(memcmp(A, B, 3 * (size_t)(d[0] * d[1] * d[2]) * sizeof(float)) == 0, "4-D NIfTI round trip");
    CHECK(tmsf_coil_write_nifti(one, "/nonexistent-dir/x.nii.gz") == TMSF_ERR_IO, "unwritable path");
    CHECK(tmsf_coil_write_nifti(one, "/tmp/x.txt") == TMSF_ERR_ARGUMENT, "not a .nii name");
    /* malformed 5-D: a 3-stimulator file cut short, and 2 components */
    {
      FILE *f = fopen(path, "rb");
      unsigned char *buf = malloc(400000);
      size_t n = fread(buf, 1, 400000, f);
      fclose(f);
      int16_t dim[8] = {5, 21, 21, 21, 3, 3, 1, 1};
      memcpy(buf + 40, dim, sizeof(dim));
      snprintf(path, sizeof(path), "%s/cut5d.nii", tmpdir);
      f = fopen(path, "wb");
      fwrite(buf, 1, n, f);
      fclose(f);
      tmsf_coil *bad = NULL;
      CHECK(tmsf_coil_read(ctx, path, &bad) == TMSF_ERR_FORMAT && strstr(tmsf_context_last_error(ctx), "truncated"),
            "5-D file with 3 stimulators announced: %s", tmsf_context_last_error(ctx));
      int16_t dim2[8] = {5, 21, 21, 21, 1, 2, 1, 1};
      memcpy(buf + 40, dim2, sizeof(dim2));
      f = fopen(path, "wb");
      fwrite(buf, 1, n, f);
      fclose(f);
      CHECK(tmsf_coil_read(ctx, path, &bad) == TMSF_ERR_FORMAT &&
                strstr(tmsf_context_last_error(ctx), "X x Y x Z x S x 3"),
            "5-D file with 2 components: %s", tmsf_context_last_error(ctx));
      free(buf);
      tmsf_coil_destroy(&bad);
    }
    tmsf_coil_destroy(&r);
    tmsf_coil_destroy(&one);
  }
  /* ---- the cache: the 2.5 mm grid again is read, identical ---- */
  {
    CHECK(count_files(cache) == 2, "two cache files after two grids (%d)", count_files(cache));
    const double res[3] = {0.0025, 0.0025, 0.0025};
    tmsf_coil *again;
    double err, t0 = now();
    REQUIRE_OK(ctx, tmsf_coil_to_grid(two, lim, res, &again, &err));
    double t = now() - t0;
    printf("cached 2.5 mm grid read in %.3f s (computed in %.3f s)\n", t, secs[1]);
    CHECK(fabs(err - errs[1]) <= 1e-6 * errs[1], "cached error %.6e vs %.6e", err, errs[1]);
    for (int el = 0; el < 2; el++) {
      const float *A, *B;
      int64_t d[3];
      tmsf_coil_get_grid(g[1], el, d, NULL, NULL, &A);
      tmsf_coil_get_grid(again, el, NULL, NULL, NULL, &B);
      CHECK(memcmp(A, B, 3 * (size_t)(d[0] * d[1] * d[2]) * sizeof(float)) == 0, "cached grid %d identical", el);
    }
    const char *nm;
    tmsf_coil_get_name(again, &nm);
    CHECK(strcmp(nm, "Example Coil") == 0, "cached grid named after the coil: %s", nm);
    tmsf_coil_destroy(&again);
    /* disabled: nothing new is written */
    CHECK_OK(ctx, tmsf_coil_set_cache_dir(""));
    const double res3[3] = {0.006, 0.006, 0.006};
    REQUIRE_OK(ctx, tmsf_coil_to_grid(two, lim, res3, &again, NULL));
    CHECK(count_files(cache) == 2, "cache disabled: still 2 files (%d)", count_files(cache));
    tmsf_coil_destroy(&again);
    CHECK_OK(ctx, tmsf_coil_set_cache_dir(cache));
  }
#endif
  /* the header's grid of the SimNIBS test coil (x, y, z = -100..100 mm,
   * resolution 10 mm) against SimNIBS's own A-field file of that coil */
#if TMSF_HAVE_NIFTI
  {
    tmsf_coil *c, *n, *gc;
    double err;
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/testcoil.ccd"), &c));
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/testcoil.nii.gz"), &n));
    REQUIRE_OK(ctx, tmsf_coil_to_grid(c, NULL, NULL, &gc, &err));
    int64_t d1[3], d2[3];
    double o1[3], o2[3], h1[3], h2[3];
    const float *a, *b;
    tmsf_coil_get_grid(gc, 0, d1, o1, h1, &a);
    tmsf_coil_get_grid(n, 0, d2, o2, h2, &b);
    int same = 1;
    for (int q = 0; q < 3; q++) same &= d1[q] == d2[q] && fabs(o1[q] - o2[q]) < 1e-12 && fabs(h1[q] - h2[q]) < 1e-12;
    CHECK(same, "header grid = SimNIBS's grid: %lld x %lld x %lld from %g m by %g m", (long long)d1[0],
          (long long)d1[1], (long long)d1[2], o1[0], h1[0]);
    if (same) {
      double e2 = 0, s2 = 0;
      size_t nv = (size_t)(d1[0] * d1[1] * d1[2]);
      for (size_t i = 0; i < 3 * nv; i++) e2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), s2 += (double)b[i] * b[i];
      /* both are float roundings of the same dipole sums */
      CHECK(sqrt(e2 / s2) < 1e-6, "test coil grid vs SimNIBS testcoil.nii.gz: %.3g", sqrt(e2 / s2));
      printf("test coil on its header grid vs SimNIBS's testcoil.nii.gz: relative difference %.3g; "
             "interpolation error of that 10 mm grid %.3g\n", sqrt(e2 / s2), err);
    }
    tmsf_coil_destroy(&c);
    tmsf_coil_destroy(&n);
    tmsf_coil_destroy(&gc);
    tmsf_coil *h1c, *hg;
    REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("tests/data/coils/two_stimulator_example_coil.tcd"), &h1c));
    const double res[3] = {0.04, 0.04, 0.04};
    REQUIRE_OK(ctx, tmsf_coil_to_grid(h1c, NULL, res, &hg, NULL));
    tmsf_coil_get_grid(hg, 0, d1, o1, NULL, NULL);
    /* limits [[-300,300],[-200,200],[-100,300]] mm at 40 mm */
    CHECK(d1[0] == 16 && d1[1] == 11 && d1[2] == 11 && fabs(o1[2] + 0.1) < 1e-12, ".tcd limits: %lld %lld %lld from z %g",
          (long long)d1[0], (long long)d1[1], (long long)d1[2], o1[2]);
    tmsf_coil_destroy(&hg);
    tmsf_coil_destroy(&h1c);
  }
#endif
  /* superposition on the grid coil */
  {
    enum { N = 40 };
    double pts[3 * N], f0[3 * N], f1[3 * N], fb[3 * N], want[3 * N];
    for (int i = 0; i < N; i++) {
      pts[3 * i] = -0.04 + 0.002 * i;
      pts[3 * i + 1] = 0.01 * sin(i);
      pts[3 * i + 2] = 0.01 + 0.001 * i;
    }
    const double e0[2] = {1.0, 0.0}, e1[2] = {0.0, 1.0}, both[2] = {3e7, 5e7};
    CHECK_OK(ctx, tmsf_coil_primary_field_stimulators(g[1], I4, e0, N, pts, f0, NULL));
    CHECK_OK(ctx, tmsf_coil_primary_field_stimulators(g[1], I4, e1, N, pts, f1, NULL));
    CHECK_OK(ctx, tmsf_coil_primary_field_stimulators(g[1], I4, both, N, pts, fb, NULL));
    for (int i = 0; i < 3 * N; i++) want[i] = 3e7 * f0[i] + 5e7 * f1[i];
    CHECK(rel(fb, want, 3 * N) < 1e-13, "grid coil stimulators superpose");
  }
  /* bad arguments */
  {
    tmsf_coil *x = NULL;
    const double badlim[6] = {0.1, 0.0, 0, 1, 0, 1}, res[3] = {0.01, 0.01, 0.01};
    CHECK(tmsf_coil_to_grid(two, badlim, res, &x, NULL) == TMSF_ERR_ARGUMENT && !x, "min > max");
    const double res0[3] = {0.0, 0.01, 0.01};
    CHECK(tmsf_coil_to_grid(two, lim, res0, &x, NULL) == TMSF_ERR_ARGUMENT && !x, "zero resolution");
  }
  tmsf_coil_destroy(&g[0]);
  tmsf_coil_destroy(&g[1]);
  tmsf_coil_destroy(&two);
  CHECK_OK(ctx, tmsf_coil_set_cache_dir(NULL));
  remove_dir(cache);
  remove_dir(tmpdir);
  tmsf_context_destroy(&ctx);
  return test_summary("coil-grid");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-waveform.c: pulse waveforms — the three shipped measured .tsv files
 * (both columns) against numpy, analytic monophasic and biphasic pulses,
 * E(t) = E_peak w(t), and malformed files rejected with file and line.
 */
#include <unistd.h>

#include "test-common.h"

/* Reference values from numpy, independent of the library's code:
 *   /usr/bin/python3 tests/waveform-ref.py
 * fields: file, column, stored peak |dI/dt|, its time (s), 1 % start and end
 * (s), current reversal, kind, w at REF_TIMES. */
#define NUM_REF_TIMES 5
static const double REF_TIMES[NUM_REF_TIMES] = {-1e-5, 1.05e-6, 5.003e-5, 1.2345e-4, 2.5e-4};
static const struct {
  const char *file, *column;
  double peak, peak_time, start, end, reversal;
  const char *kind;
  double w[NUM_REF_TIMES];
} REF[] = {
  {"MagVenture_MC-B70.tsv", "measured", 1.0118253819302978, 1.4999999999997925e-06, -6.9264588329336842e-07, 0.00031613498402555909, 0.88437038775502108, "biphasic",
   {0.0014747634069410612, 0.94534700315460729, 0.44594637223976191, -0.77160883280759118, 0.41246056782332197}},
  {"MagVenture_MC-B70.tsv", "fit", 0.99983652582585836, 9.9999999999805919e-08, 9.9999999980686704e-10, 0.00030309872332667228, 0.88704016235311167, "biphasic",
   {0, 0.99823295559264535, 0.45620798996769862, -0.7758260619827877, 0.39984267554727093}},
  {"Magstim_D70.tsv", "measured", 1.0214811545649021, 0.00017099999999999817, -1.1016000000020174e-06, 0.00038910160000000198, 0.81019904240451368, "biphasic",
   {0.00044221698113481602, 0.94174528302163296, 0.51948113207702007, -0.5794811320771972, -0.043514150943565102}},
  {"Magstim_D70.tsv", "fit", 0.99976872791365945, 9.9999999999805919e-08, 9.9999999980686704e-10, 0.00034459851516380045, 0.82239118385851762, "biphasic",
   {0, 0.9976383220936873, 0.53074406367459004, -0.58879641006474148, -0.067511329469854664}},
  {"Magstim_DCC.tsv", "measured", 1.2434449282164306, 0.00018309999999999805, -4.9985105749198965e-07, 0.00040490894568690096, 0.81999450197056822, "biphasic",
   {-0.0006345177664974621, 0.62309644670051645, 0.45878172588832272, -0.40101522842639592, -0.20947546531302774}},
  {"Magstim_DCC.tsv", "fit", 0.99977409178914434, 9.9999999999805919e-08, 9.9999999980686704e-10, 0.00036559849324858978, 0.81629915324994407, "biphasic",
   {0, 0.99770774252911687, 0.57013430100355, -0.50462424242632198, -0.25928992401717477}},
};

/* Write text to a temporary file; returns its path (static buffer). */
static const char *write_tmp(const char *text) {
  static char path[64];
  snprintf(path, sizeof(path), "/tmp/t-waveform-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) return NULL;
  size_t len = strlen(text);
  if (write(fd, text, len) != (ssize_t)len) path[0] = '\0';
  close(fd);
  return path;
}

/* A malformed file must fail with `code`, a message naming the file and `where`. */
static void expect_bad(tmsf_context *ctx, const char *text, const char *column, int code,
                       const char *where, const char *what) {
  const char *path = write_tmp(text);
  if (!path || !path[0]) {
    CHECK(0, "cannot write a temporary file");
    return;
  }
  tmsf_waveform *wf = (tmsf_waveform *)1;
  int ierr = tmsf_waveform_read(ctx, path, column, &wf);
  const char *msg = tmsf_context_last_error(ctx);
  char want[128];
  snprintf(want, sizeof(want), "%s%s", path, where);
  CHECK(ierr == code, "%s: status %d, want %d (%s)", what, ierr, code, msg);
  CHECK(wf == NULL, "%s: no waveform on failure", what);
  CHECK(strstr(msg, want) != NULL, "%s: message '%s' should contain '%s'", what, msg, want);
  tmsf_waveform_destroy(&wf);
  unlink(path);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));

  /* 1. The shipped files against numpy.  Tolerances: the reference reads the
   * same decimal text with the same strtod rounding, so values agree to
   * ~1e-15; sums (the current) to ~1e-12; crossings to 1e-12 s. */
  for (size_t r = 0; r < sizeof(REF) / sizeof(REF[0]); r++) {
    char rel[256];
    snprintf(rel, sizeof(rel), "data/coils/drakaki2022/%s", REF[r].file);
    tmsf_waveform *wf;
    REQUIRE_OK(ctx, tmsf_waveform_read(ctx, test_path(rel), REF[r].column, &wf));
    const char *name;
    tmsf_waveform_get_name(wf, &name);
    int is_fit = strlen(name) > 4 && strcmp(name + strlen(name) - 4, "_fit") == 0;
    CHECK(is_fit == (strcmp(REF[r].column, "fit") == 0), "%s %s: column '%s'", REF[r].file,
          REF[r].column, name);
    int64_t n;
    const double *t, *w;
    tmsf_waveform_get_samples(wf, &n, &t, &w);
    CHECK(n == 5201, "%s: 5201 samples, got %lld", REF[r].file, (long long)n);
    CHECK(fabs(t[0] + 2e-5) < 1e-12 && fabs(t[n - 1] - 5e-4) < 1e-12, "%s: -20 .. 500 us, got %g .. %g",
          REF[r].file, t[0], t[n - 1]);
    double maxw = 0;
    for (int64_t i = 0; i < n; i++) maxw = fmax(maxw, fabs(w[i]));
    CHECK(maxw == 1.0, "%s: normalised peak |w| = 1, got %.17g", REF[r].file, maxw);
    double peak, peak_t;
    tmsf_waveform_get_stored_peak(wf, &peak, &peak_t);
    CHECK_REL(peak, REF[r].peak, 1e-14, "stored peak");
    CHECK(fabs(peak_t - REF[r].peak_time) < 1e-12, "%s %s: peak at %g s, want %g s", REF[r].file,
          REF[r].column, peak_t, REF[r].peak_time);
    double start, end, dur;
    tmsf_waveform_get_duration(wf, &start, &end, &dur);
    CHECK(fabs(start - REF[r].start) < 1e-12, "%s %s: start %.17g, want %.17g", REF[r].file,
          REF[r].column, start, REF[r].start);
    CHECK(fabs(end - REF[r].end) < 1e-12, "%s %s: end %.17g, want %.17g", REF[r].file,
          REF[r].column, end, REF[r].end);
    CHECK_REL(dur, REF[r].end - REF[r].start, 1e-9, "duration");
    tmsf_waveform_kind kind;
    double rev;
    tmsf_waveform_get_kind(wf, &kind, &rev);
    CHECK(strcmp(tmsf_waveform_kind_string(kind), REF[r].kind) == 0, "%s %s: kind %s, want %s",
          REF[r].file, REF[r].column, tmsf_waveform_kind_string(kind), REF[r].kind);
    CHECK_REL(rev, REF[r].reversal, 1e-10, "current reversal");
    for (int k = 0; k < NUM_REF_TIMES; k++) {
      double v;
      tmsf_waveform_evaluate(wf, REF_TIMES[k], &v);
      CHECK(fabs(v - REF[r].w[k]) < 1e-13, "%s %s: w(%g) = %.17g, want %.17g", REF[r].file,
            REF[r].column, REF_TIMES[k], v, REF[r].w[k]);
    }
    /* E(t) = E_peak w(t); zero outside the record */
    double times[4] = {REF_TIMES[1], -1.0, 1.0, REF_TIMES[3]}, E[4];
    CHECK_OK(ctx, tmsf_waveform_sample(wf, 120.0, 4, times, E));
    CHECK(fabs(E[0] - 120.0 * REF[r].w[1]) < 1e-11 && E[1] == 0.0 && E[2] == 0.0 &&
              fabs(E[3] - 120.0 * REF[r].w[3]) < 1e-11,
          "%s: E(t) = 120 V/m w(t): %g %g %g %g", REF[r].file, E[0], E[1], E[2], E[3]);
    tmsf_waveform_destroy(&wf);
    CHECK(wf == NULL, "destroy clears the pointer");
  }
  /* the default column is the measured one; columns by name */
  {
    tmsf_waveform *a, *b;
    REQUIRE_OK(ctx, tmsf_waveform_read(ctx, test_path("data/coils/drakaki2022/Magstim_D70.tsv"), NULL, &a));
    REQUIRE_OK(ctx, tmsf_waveform_read(ctx, test_path("data/coils/drakaki2022/Magstim_D70.tsv"),
                                       "magstim_rapid_FIT", &b));
    const char *na, *nb;
    tmsf_waveform_get_name(a, &na);
    tmsf_waveform_get_name(b, &nb);
    CHECK(strcmp(na, "MagStim_Rapid") == 0 && strcmp(nb, "MagStim_Rapid_fit") == 0, "names %s %s", na, nb);
    tmsf_waveform_destroy(&a);
    tmsf_waveform_destroy(&b);
    tmsf_waveform *c = NULL;
    int ierr = tmsf_waveform_read(ctx, test_path("data/coils/drakaki2022/Magstim_D70.tsv"), "Bogus", &c);
    const char *msg = tmsf_context_last_error(ctx);
    CHECK(ierr == TMSF_ERR_NOT_FOUND && c == NULL && strstr(msg, "Magstim_D70.tsv:1") &&
              strstr(msg, "'MagStim_Rapid', 'MagStim_Rapid_fit'"),
          "unknown column lists the columns: %d %s", ierr, msg);
  }

  /* 2. Analytic pulses.  Monophasic (critically damped RLC): I = t e^{-t/tau},
   * dI/dt = (1 - t/tau) e^{-t/tau}; the current never reverses (reversal 0);
   * peak 1 at t = 0; |w| falls to 1 % at t/tau = 6.2665446739 (root of
   * (x - 1) e^{-x} = 0.01, bisection in numpy).  Sampled every tau/1000, so
   * the linear interpolation of w moves the crossing by < 1e-6 tau. */
  {
    const double tau = 50e-6;
    enum { N = 20001 };
    static double t[N], v[N];
    for (int i = 0; i < N; i++) {
      t[i] = i * tau / 1000.0;
      v[i] = 3.0 * (1.0 - t[i] / tau) * exp(-t[i] / tau); /* any scale */
    }
    tmsf_waveform *wf;
    REQUIRE_OK(ctx, tmsf_waveform_create(ctx, N, t, v, &wf));
    tmsf_waveform_kind kind;
    double rev, start, end, peak;
    tmsf_waveform_get_kind(wf, &kind, &rev);
    CHECK(kind == TMSF_WAVEFORM_MONOPHASIC && rev < 1e-6, "monophasic, reversal %g", rev);
    tmsf_waveform_get_duration(wf, &start, &end, NULL);
    CHECK(start == 0.0, "starts at 0, got %g", start);
    CHECK(fabs(end / tau - 6.266544673901342) < 1e-6, "1 %% end at %.10g tau, want 6.2665446739",
          end / tau);
    tmsf_waveform_get_stored_peak(wf, &peak, NULL);
    CHECK(peak == 3.0, "stored peak 3, got %g", peak);
    double x;
    tmsf_waveform_evaluate(wf, 2.0 * tau, &x); /* the negative lobe's extreme -e^-2 */
    CHECK(fabs(x + exp(-2.0)) < 1e-7, "w(2 tau) = -e^-2 = %.9f, got %.9f", -exp(-2.0), x);
    tmsf_waveform_destroy(&wf);
  }
  /* Biphasic: dI/dt = cos(2 pi t / T) over one period, then zero: I = sin
   * reverses fully (reversal 1 within the trapezoid rule's O(dt^2)). */
  {
    const double T = 300e-6;
    enum { N = 4001 };
    static double t[N], v[N];
    for (int i = 0; i < N; i++) {
      t[i] = i * T / 3000.0;
      v[i] = i <= 3000 ? cos(2.0 * 3.14159265358979323846 * t[i] / T) : 0.0;
    }
    tmsf_waveform *wf;
    REQUIRE_OK(ctx, tmsf_waveform_create(ctx, N, t, v, &wf));
    tmsf_waveform_kind kind;
    double rev, start, end;
    tmsf_waveform_get_kind(wf, &kind, &rev);
    CHECK(kind == TMSF_WAVEFORM_BIPHASIC && fabs(rev - 1.0) < 1e-5, "biphasic, reversal %.9f", rev);
    tmsf_waveform_get_duration(wf, &start, &end, NULL);
    /* |w| drops from 1 at T to 0 at T + dt: the 1 % crossing is at T + 0.99 dt */
    CHECK(start == 0.0 && fabs(end - (T + 0.99 * T / 3000.0)) < 1e-15, "biphasic span %g .. %g", start, end);
    tmsf_waveform_destroy(&wf);
  }

  /* 3. Bad input: file and line named. */
  expect_bad(ctx, "", NULL, TMSF_ERR_FORMAT, ":1:", "empty file");
  expect_bad(ctx, "0 1\n1e-6 2\n", NULL, TMSF_ERR_FORMAT, ":1:", "no header line");
  expect_bad(ctx, "# Time\n0\n1\n", NULL, TMSF_ERR_FORMAT, ":1:", "header without a dI/dt column");
  expect_bad(ctx, "# Time\tA\tA_fit\n0 1 1\n1e-6 0.5\n", NULL, TMSF_ERR_FORMAT, ":3:", "short row");
  expect_bad(ctx, "# Time\tA\tA_fit\n0 1 1\n1e-6 0.5 0.5 7\n", NULL, TMSF_ERR_FORMAT, ":3:", "long row");
  expect_bad(ctx, "# Time\tA\n0 1\n\n# c\n1e-6 abc\n", NULL, TMSF_ERR_FORMAT, ":5:", "not a number");
  expect_bad(ctx, "# Time\tA\n0 1\n1e-6 nan\n", NULL, TMSF_ERR_FORMAT, ":3:", "NaN");
  expect_bad(ctx, "# Time\tA\n0 1\n1e-6 1e999\n", NULL, TMSF_ERR_FORMAT, ":3:", "overflow");
  expect_bad(ctx, "# Time\tA\n0 1\n1e-6 2\n1e-6 3\n", NULL, TMSF_ERR_FORMAT, ":4:", "repeated time");
  expect_bad(ctx, "# Time\tA\n0 1\n-1e-6 2\n", NULL, TMSF_ERR_FORMAT, ":3:", "decreasing time");
  expect_bad(ctx, "# Time\tA\n0 1\n", NULL, TMSF_ERR_FORMAT, ":2:", "one row");
  expect_bad(ctx, "# Time\tA\n0 0\n1e-6 0\n", NULL, TMSF_ERR_FORMAT, ": column 'A' is zero", "all zero");
  expect_bad(ctx, "# Time\tA\n0 1\n1e-6 2\n", "fit", TMSF_ERR_NOT_FOUND, ":1:", "no fitted column");
  expect_bad(ctx, "# Time\tA\n0 1\n1e-6", NULL, TMSF_ERR_FORMAT, ":3:", "file cut inside a row");
  {
    tmsf_waveform *wf = NULL;
    int ierr = tmsf_waveform_read(ctx, "/nonexistent/x.tsv", NULL, &wf);
    CHECK(ierr == TMSF_ERR_IO && wf == NULL && strstr(tmsf_context_last_error(ctx), "/nonexistent/x.tsv"),
          "missing file: %d %s", ierr, tmsf_context_last_error(ctx));
    const double tt[3] = {0, 1, 1}, vv[3] = {1, 2, 3};
    CHECK(tmsf_waveform_create(ctx, 3, tt, vv, &wf) == TMSF_ERR_ARGUMENT && wf == NULL,
          "create rejects repeated times");
    CHECK(tmsf_waveform_create(ctx, 1, tt, vv, &wf) == TMSF_ERR_ARGUMENT, "create needs 2 samples");
    CHECK(tmsf_waveform_destroy(NULL) == TMSF_SUCCESS && tmsf_waveform_destroy(&wf) == TMSF_SUCCESS,
          "destroy accepts NULL");
  }

  tmsf_context_destroy(&ctx);
  return test_summary("waveform");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * waveform.c: TMS pulse waveforms (see include/tmsfield/waveform.h): the
 * measured .tsv reader, normalisation, kind, duration and interpolation.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "tmsf-impl.h"
#include "waveform-impl.h"

struct tmsf_waveform {
  tmsf_context *ctx;
  char *name;
  int64_t n;
  double *t;        /* s, strictly increasing */
  double *w;        /* normalised: max |w| = 1 */
  double stored_peak;
  double peak_time;
  tmsf_waveform_kind kind;
  double reversal;
  double start, end; /* 1 % crossings, s */
};

/* Fraction of the peak that bounds the pulse duration, and the current
 * reversal that makes a pulse biphasic (waveform.h). */
#define DURATION_LEVEL 0.01
#define BIPHASIC_REVERSAL 0.2

const char *tmsf_waveform_kind_string(tmsf_waveform_kind kind) {
  switch (kind) {
  case TMSF_WAVEFORM_MONOPHASIC: return "monophasic";
  case TMSF_WAVEFORM_BIPHASIC: return "biphasic";
  }
  return "unknown";
}

int tmsf_waveform_destroy(tmsf_waveform **waveform) {
  if (!waveform || !*waveform) return TMSF_SUCCESS;
  free((*waveform)->name);
  free((*waveform)->t);
  free((*waveform)->w);
  free(*waveform);
  *waveform = NULL;
  return TMSF_SUCCESS;
}

/* Time where the linear interpolant on [i0, i1] first reaches |w| = level,
 * coming from |w[i0]| < level <= |w[i1]|. */
static double crossing(const double *t, const double *w, int64_t i0, int64_t i1, double level) {
  double target = w[i1] >= 0.0 ? level : -level;
  double s = (target - w[i0]) / (w[i1] - w[i0]);
  if (!(s >= 0.0)) s = 0.0;
  if (s > 1.0) s = 1.0;
  return t[i0] + s * (t[i1] - t[i0]);
}

/* Take ownership of t and v (name may be NULL), validate, normalise and derive
 * kind and duration.  On failure everything passed is freed. */
static int finish(tmsf_context *ctx, const char *origin, char *name, int64_t n, double *t, double *v,
                  tmsf_waveform **out) {
  int ierr = TMSF_SUCCESS;
  tmsf_waveform *wf = NULL;
  if (n < 2) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: %lld sample(s); expected at least 2", origin,
                      (long long)n);
    goto fail;
  }
  double peak = 0.0, peak_time = t[0];
  for (int64_t i = 0; i < n; i++) {
    if (fabs(v[i]) > peak) {
      peak = fabs(v[i]);
      peak_time = t[i];
    }
  }
  if (!(peak > 0.0) || !isfinite(peak)) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: column '%s' is zero everywhere; expected a pulse",
                      origin, name ? name : "values");
    goto fail;
  }
  wf = calloc(1, sizeof(*wf));
  if (!wf) goto oom;
  wf->ctx = ctx;
  wf->name = name ? name : tmsf_strdup("samples");
  name = NULL;
  if (!wf->name) goto oom;
  wf->n = n;
  wf->t = t;
  wf->w = v;
  t = v = NULL;
  wf->stored_peak = peak;
  wf->peak_time = peak_time;
  for (int64_t i = 0; i < n; i++) wf->w[i] /= peak;

  /* Kind: running trapezoidal integral = coil current (arbitrary scale). */
  double I = 0.0, Imax = 0.0, Imin = 0.0;
  for (int64_t i = 1; i < n; i++) {
    I += 0.5 * (wf->w[i] + wf->w[i - 1]) * (wf->t[i] - wf->t[i - 1]);
    if (I > Imax) Imax = I;
    if (I < Imin) Imin = I;
  }
  double big = fmax(Imax, -Imin), small = fmin(Imax, -Imin);
  wf->reversal = big > 0.0 ? small / big : 0.0;
  wf->kind = wf->reversal >= BIPHASIC_REVERSAL ? TMSF_WAVEFORM_BIPHASIC : TMSF_WAVEFORM_MONOPHASIC;

  /* Duration: first and last crossing of |w| = 1 %. */
  int64_t first = -1, last = -1;
  for (int64_t i = 0; i < n; i++) {
    if (fabs(wf->w[i]) >= DURATION_LEVEL) {
      if (first < 0) first = i;
      last = i;
    }
  }
  wf->start = first > 0 ? crossing(wf->t, wf->w, first - 1, first, DURATION_LEVEL) : wf->t[first];
  wf->end = last < n - 1 ? crossing(wf->t, wf->w, last + 1, last, DURATION_LEVEL) : wf->t[last];
  *out = wf;
  return TMSF_SUCCESS;
oom:
  ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
fail:
  free(name);
  free(t);
  free(v);
  tmsf_waveform_destroy(&wf);
  return ierr;
}

int tmsf_waveform_create(tmsf_context *ctx, int64_t num_samples, const double *times_s,
                         const double *values, tmsf_waveform **waveform) {
  if (!ctx || !waveform) return TMSF_ERR_ARGUMENT;
  *waveform = NULL;
  if (num_samples < 2 || !times_s || !values)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "tmsf_waveform_create: need at least 2 samples and both arrays");
  for (int64_t i = 0; i < num_samples; i++) {
    if (!isfinite(times_s[i]) || !isfinite(values[i]))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_waveform_create: sample %lld is not finite",
                        (long long)i);
    if (i > 0 && !(times_s[i] > times_s[i - 1]))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "tmsf_waveform_create: time %lld (%g s) does not follow %g s; expected "
                        "strictly increasing times",
                        (long long)i, times_s[i], times_s[i - 1]);
  }
  double *t = tmsf_malloc_array((size_t)num_samples, sizeof(double));
  double *v = tmsf_malloc_array((size_t)num_samples, sizeof(double));
  if (!t || !v) {
    free(t), free(v);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  memcpy(t, times_s, (size_t)num_samples * sizeof(double));
  memcpy(v, values, (size_t)num_samples * sizeof(double));
  return finish(ctx, "tmsf_waveform_create", NULL, num_samples, t, v, waveform);
}

/* ------------------------------------------------------------------------- */
/* .tsv reader                                                               */
/* ------------------------------------------------------------------------- */

#define MAX_COLUMNS 64

static int ends_with_ci(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* Printable excerpt of [s, e) for messages (non-printable bytes as \xHH). */
static void excerpt(const char *s, const char *e, char *buf, size_t cap) {
  size_t k = 0;
  for (; s < e && k + 5 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (isprint(c)) {
      buf[k++] = (char)c;
    } else {
      k += (size_t)snprintf(buf + k, cap - k, "\\x%02X", c);
    }
  }
  if (s < e && k + 4 < cap) {
    memcpy(buf + k, "...", 3);
    k += 3;
  }
  buf[k] = '\0';
}

int tmsf_waveform_read_buffer(tmsf_context *ctx, const char *origin, const char *data, size_t size,
                              const char *column, tmsf_waveform **waveform) {
  if (!ctx || !origin || (!data && size) || !waveform) return TMSF_ERR_ARGUMENT;
  *waveform = NULL;
  int ierr = TMSF_SUCCESS;
  char *names[MAX_COLUMNS] = {0};
  int ncol = 0, sel = -1;
  double *t = NULL, *v = NULL;
  int64_t n = 0, cap = 0;
  char buf[96];
  const char *p = data, *end = data + size;
  long long line = 0;
  if (size > 0 && memchr(data, '\0', size)) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: contains NUL bytes; expected a text .tsv file",
                      origin);
    goto fail;
  }
  /* Line 1: "# name<TAB>name..." (tabs; spaces only when there is no tab). */
  {
    const char *s = p, *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    p = nl ? nl + 1 : end;
    line = 1;
    if (e > s && e[-1] == '\r') e--;
    if (s == e || *s != '#') {
      excerpt(s, e, buf, 48);
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s:1: expected a header line '# Time<TAB>name<TAB>...' naming the "
                        "columns, found %s%s%s",
                        origin, s == e ? "" : "'", s == e ? "an empty line" : buf, s == e ? "" : "'");
      goto fail;
    }
    s++;
    int tabs = memchr(s, '\t', (size_t)(e - s)) != NULL;
    while (s < e) {
      while (s < e && (*s == '\t' || (!tabs && isspace((unsigned char)*s)))) s++;
      if (s >= e) break;
      const char *f = s;
      while (f < e && !(*f == '\t' || (!tabs && isspace((unsigned char)*f)))) f++;
      const char *a = s, *b = f;
      while (a < b && isspace((unsigned char)*a)) a++;
      while (b > a && isspace((unsigned char)b[-1])) b--;
      s = f;
      if (a == b) continue;
      if (ncol == MAX_COLUMNS) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s:1: more than %d columns in the header", origin,
                          MAX_COLUMNS);
        goto fail;
      }
      names[ncol] = malloc((size_t)(b - a) + 1);
      if (!names[ncol]) goto oom;
      memcpy(names[ncol], a, (size_t)(b - a));
      names[ncol][b - a] = '\0';
      ncol++;
    }
    if (ncol < 2) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s:1: header names %d column(s); expected the time and at least one "
                        "dI/dt column ('# Time<TAB>name')",
                        origin, ncol);
      goto fail;
    }
  }
  /* Column choice. */
  {
    int want_fit = column && (strcasecmp(column, "fit") == 0 || strcasecmp(column, "fitted") == 0);
    int want_measured = !column || strcasecmp(column, "measured") == 0;
    for (int c = 1; c < ncol && sel < 0; c++) {
      int fit = ends_with_ci(names[c], "_fit");
      if ((want_fit && fit) || (want_measured && !fit) ||
          (!want_fit && !want_measured && strcasecmp(names[c], column) == 0))
        sel = c;
    }
    if (sel < 0) {
      char list[512];
      size_t k = 0;
      list[0] = '\0';
      for (int c = 1; c < ncol && k + 2 < sizeof(list); c++)
        k += (size_t)snprintf(list + k, sizeof(list) - k, "%s'%.60s'", c > 1 ? ", " : "", names[c]);
      ierr = TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND,
                        "%s:1: no %s column%s%s%s; the file's dI/dt columns are %s", origin,
                        want_fit ? "fitted ('..._fit')" : want_measured ? "measured (not '..._fit')" : "",
                        want_fit || want_measured ? "" : " named '", want_fit || want_measured ? "" : column,
                        want_fit || want_measured ? "" : "'", list);
      goto fail;
    }
  }
  /* Rows. */
  while (p < end) {
    const char *s = p, *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    p = nl ? nl + 1 : end;
    line++;
    if (e > s && e[-1] == '\r') e--;
    const char *q = s;
    while (q < e && isspace((unsigned char)*q)) q++;
    if (q == e || *q == '#') continue;
    double row[MAX_COLUMNS];
    int k = 0;
    while (q < e) {
      while (q < e && isspace((unsigned char)*q)) q++;
      if (q >= e) break;
      const char *f = q;
      while (f < e && !isspace((unsigned char)*f)) f++;
      if (k == ncol) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                          "%s:%lld: more than the %d values the header names; expected time and "
                          "%d dI/dt value(s)",
                          origin, line, ncol, ncol - 1);
        goto fail;
      }
      char tok[64];
      size_t len = (size_t)(f - q);
      char *endp = tok;
      double x = NAN;
      if (len < sizeof(tok)) {
        memcpy(tok, q, len);
        tok[len] = '\0';
        x = strtod(tok, &endp);
      }
      if (len >= sizeof(tok) || *endp != '\0' || endp == tok || !isfinite(x)) {
        excerpt(q, f, buf, 48);
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                          "%s:%lld: column %d ('%s'): '%s' is not a finite number", origin, line,
                          k + 1, names[k], buf);
        goto fail;
      }
      row[k++] = x;
      q = f;
    }
    if (k != ncol) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s:%lld: %d value(s); the header names %d columns (time in s, then dI/dt)",
                        origin, line, k, ncol);
      goto fail;
    }
    if (n > 0 && !(row[0] > t[n - 1])) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s:%lld: time %.17g s does not follow the previous row's %.17g s; "
                        "expected strictly increasing times",
                        origin, line, row[0], t[n - 1]);
      goto fail;
    }
    if (n == cap) {
      int64_t nc = cap ? 2 * cap : 1024;
      double *nt = realloc(t, (size_t)nc * sizeof(double));
      if (nt) t = nt;
      double *nv = realloc(v, (size_t)nc * sizeof(double));
      if (nv) v = nv;
      if (!nt || !nv) goto oom;
      cap = nc;
    }
    t[n] = row[0];
    v[n] = row[sel];
    n++;
  }
  if (n < 2) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s:%lld: file ends after %lld data row(s); expected at "
                      "least 2", origin, line, (long long)n);
    goto fail;
  }
  {
    char *name = names[sel];
    names[sel] = NULL;
    for (int c = 0; c < ncol; c++) free(names[c]);
    return finish(ctx, origin, name, n, t, v, waveform);
  }
oom:
  ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
fail:
  for (int c = 0; c < ncol; c++) free(names[c]);
  free(t);
  free(v);
  return ierr;
}

int tmsf_waveform_read(tmsf_context *ctx, const char *path, const char *column,
                       tmsf_waveform **waveform) {
  if (!ctx || !path || !waveform) return TMSF_ERR_ARGUMENT;
  *waveform = NULL;
  unsigned char *data;
  size_t size;
  TMSF_CALL(tmsf_file_read_all(ctx, path, &data, &size));
  int ierr = tmsf_waveform_read_buffer(ctx, path, (const char *)data, size, column, waveform);
  free(data);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Queries                                                                   */
/* ------------------------------------------------------------------------- */

int tmsf_waveform_get_name(const tmsf_waveform *waveform, const char **name) {
  if (!waveform || !name) return TMSF_ERR_ARGUMENT;
  *name = waveform->name;
  return TMSF_SUCCESS;
}

int tmsf_waveform_get_kind(const tmsf_waveform *waveform, tmsf_waveform_kind *kind,
                           double *reversal) {
  if (!waveform) return TMSF_ERR_ARGUMENT;
  if (kind) *kind = waveform->kind;
  if (reversal) *reversal = waveform->reversal;
  return TMSF_SUCCESS;
}

int tmsf_waveform_get_samples(const tmsf_waveform *waveform, int64_t *num_samples,
                              const double **times_s, const double **values) {
  if (!waveform) return TMSF_ERR_ARGUMENT;
  if (num_samples) *num_samples = waveform->n;
  if (times_s) *times_s = waveform->t;
  if (values) *values = waveform->w;
  return TMSF_SUCCESS;
}

int tmsf_waveform_get_stored_peak(const tmsf_waveform *waveform, double *stored_peak,
                                  double *time_s) {
  if (!waveform) return TMSF_ERR_ARGUMENT;
  if (stored_peak) *stored_peak = waveform->stored_peak;
  if (time_s) *time_s = waveform->peak_time;
  return TMSF_SUCCESS;
}

int tmsf_waveform_get_duration(const tmsf_waveform *waveform, double *start_s, double *end_s,
                               double *duration_s) {
  if (!waveform) return TMSF_ERR_ARGUMENT;
  if (start_s) *start_s = waveform->start;
  if (end_s) *end_s = waveform->end;
  if (duration_s) *duration_s = waveform->end - waveform->start;
  return TMSF_SUCCESS;
}

static double interp(const tmsf_waveform *wf, double x) {
  const double *t = wf->t;
  if (!(x >= t[0]) || !(x <= t[wf->n - 1])) return 0.0;
  int64_t lo = 0, hi = wf->n - 1; /* t[lo] <= x <= t[hi] */
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (t[mid] <= x)
      lo = mid;
    else
      hi = mid;
  }
  double s = (x - t[lo]) / (t[hi] - t[lo]);
  return wf->w[lo] + s * (wf->w[hi] - wf->w[lo]);
}

int tmsf_waveform_evaluate(const tmsf_waveform *waveform, double time_s, double *value) {
  if (!waveform || !value) return TMSF_ERR_ARGUMENT;
  *value = interp(waveform, time_s);
  return TMSF_SUCCESS;
}

int tmsf_waveform_sample(const tmsf_waveform *waveform, double scale, int64_t num_times,
                         const double *times_s, double *out) {
  if (!waveform) return TMSF_ERR_ARGUMENT;
  if (num_times < 0 || (num_times > 0 && (!times_s || !out)) || !isfinite(scale))
    return TMSF_ERROR(waveform->ctx, TMSF_ERR_ARGUMENT,
                      "tmsf_waveform_sample: need num_times >= 0, both arrays and a finite scale");
  for (int64_t i = 0; i < num_times; i++) out[i] = scale * interp(waveform, times_s[i]);
  return TMSF_SUCCESS;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-ccd.c: SimNIBS .ccd dipole coil files.
 *
 * Layout (SimNIBS documentation, "Coil files"):
 *   line 1  "# <description>; key=value; key=value; ..."   (header, optional keys)
 *   line 2  number of dipoles
 *   then    comment lines starting with '#', and one row per dipole:
 *           x y z mx my mz     (position in m, moment in A m^2 per ampere)
 * Known keys: dIdtmax (A/us at 100 % MSO), stimulator, brand, coilname,
 * x/y/z (A-field grid limits, mm), resolution (mm), dIdtstim.  Every key is
 * kept verbatim.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "tmsf-impl.h"

typedef struct line_reader {
  const char *p, *end;
  int64_t line; /* number of the line last returned */
} line_reader;

/* Next line [*s, *e) without the newline; returns 0 at end of data. */
static int next_line(line_reader *lr, const char **s, const char **e) {
  if (lr->p >= lr->end) return 0;
  *s = lr->p;
  const char *nl = memchr(lr->p, '\n', (size_t)(lr->end - lr->p));
  *e = nl ? nl : lr->end;
  lr->p = nl ? nl + 1 : lr->end;
  lr->line++;
  if (*e > *s && (*e)[-1] == '\r') (*e)--;
  return 1;
}

static int blank(const char *s, const char *e) {
  for (; s < e; s++)
    if (!isspace((unsigned char)*s)) return 0;
  return 1;
}

static char *dup_trim(const char *s, const char *e) {
  while (s < e && isspace((unsigned char)*s)) s++;
  while (e > s && isspace((unsigned char)e[-1])) e--;
  char *d = malloc((size_t)(e - s) + 1);
  if (!d) return NULL;
  memcpy(d, s, (size_t)(e - s));
  d[e - s] = '\0';
  return d;
}

static int add_key(tmsf_coil *c, char *k, char *v) {
  char **nk = realloc(c->keys, (size_t)(c->num_keys + 1) * sizeof(char *));
  if (nk) c->keys = nk;
  char **nv = realloc(c->values, (size_t)(c->num_keys + 1) * sizeof(char *));
  if (nv) c->values = nv;
  if (!nk || !nv) return TMSF_ERR_MEMORY;
  c->keys[c->num_keys] = k;
  c->values[c->num_keys] = v;
  c->num_keys++;
  return TMSF_SUCCESS;
}

/* Parse up to max numbers from [s, e); returns the count, or -1 on a bad token
 * (its text in bad). */
static int parse_numbers(const char *s, const char *e, double *v, int max, char *bad, size_t badcap) {
  int n = 0;
  while (s < e) {
    while (s < e && (isspace((unsigned char)*s) || *s == ',')) s++;
    if (s >= e) break;
    const char *t = s;
    while (t < e && !isspace((unsigned char)*t) && *t != ',') t++;
    char tok[96];
    size_t len = (size_t)(t - s);
    if (len >= sizeof(tok) || n >= max) {
      snprintf(bad, badcap, "%.*s", (int)(len < 40 ? len : 40), s);
      return n >= max ? max + 1 : -1;
    }
    memcpy(tok, s, len);
    tok[len] = '\0';
    char *endp;
    double x = strtod(tok, &endp);
    if (*endp != '\0' || !isfinite(x)) {
      snprintf(bad, badcap, "%.40s", tok);
      return -1;
    }
    v[n++] = x;
    s = t;
  }
  return n;
}

static const char *base_name(const char *path) {
  const char *b = strrchr(path, '/');
  return b ? b + 1 : path;
}

int tmsf_ccd_read_buffer(tmsf_context *ctx, const char *origin, const char *data, size_t size,
                         tmsf_coil **coil) {
  *coil = NULL;
  line_reader lr = {data, data + size, 0};
  const char *s, *e;
  tmsf_coil *c;
  TMSF_CALL(tmsf_coil_alloc(ctx, &c));
  int ierr = TMSF_SUCCESS;
  char *desc = NULL;
  double *pos = NULL, *mom = NULL;
  if (size > 0 && memchr(data, '\0', size) != NULL) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: contains NUL bytes; expected a .ccd text file", origin);
    goto fail;
  }
  /* Line 1: header. */
  if (!next_line(&lr, &s, &e) || e == s || *s != '#') {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s:1: expected a header line starting with '#' (\"# name version 1.0 ...; "
                      "dIdtmax=...;\"), found %s",
                      origin, lr.line ? "a line without '#'" : "an empty file");
    goto fail;
  }
  s++;
  {
    /* split on ';' */
    int first = 1;
    while (s <= e) {
      const char *semi = memchr(s, ';', (size_t)(e - s));
      const char *pe = semi ? semi : e;
      if (first) {
        desc = dup_trim(s, pe);
        if (!desc) goto oom;
        first = 0;
      } else if (!blank(s, pe)) {
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        if (!eq) {
          ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                            "%s:1: header field '%.*s' has no '='; expected key=value", origin,
                            (int)(pe - s < 40 ? pe - s : 40), s);
          goto fail;
        }
        char *k = dup_trim(s, eq), *v = dup_trim(eq + 1, pe);
        if (!k || !v || add_key(c, k, v)) {
          free(k), free(v);
          goto oom;
        }
      }
      if (!semi) break;
      s = semi + 1;
    }
  }
  for (int i = 0; i < c->num_keys; i++) {
    if (strcmp(c->keys[i], "dIdtmax") == 0) {
      double v[8];
      char bad[64] = "";
      int n = parse_numbers(c->values[i], c->values[i] + strlen(c->values[i]), v, 8, bad, sizeof(bad));
      if (n < 1 || n > 8 || !(v[0] > 0.0)) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                          "%s:1: dIdtmax='%s'; expected a positive number in A/us", origin,
                          c->values[i]);
        goto fail;
      }
      if (tmsf_coil_set_stimulator(c, 0, NULL, NULL, v[0] * 1e6)) /* A/us -> A/s */
        goto oom;
    }
  }
  /* Name: coilname, else the description's first word if it ends in .ccd (without it), else the file name without .ccd. */
  {
    const char *name = NULL;
    for (int i = 0; i < c->num_keys; i++)
      if (strcmp(c->keys[i], "coilname") == 0 && c->values[i][0]) name = c->values[i];
    size_t w = desc ? strcspn(desc, " \t") : 0;
    if (name) {
      c->name = tmsf_strdup(name);
    } else if (w > 4 && strncmp(desc + w - 4, ".ccd", 4) == 0) { /* "# NAME.ccd version 1.0 ..." */
      w -= 4;
      c->name = malloc(w + 1);
      if (c->name) {
        memcpy(c->name, desc, w);
        c->name[w] = '\0';
      }
    } else { /* a header without a name ("# number of elements"): the file name */
      const char *b = base_name(origin);
      size_t len = strlen(b);
      if (len > 4 && strcmp(b + len - 4, ".ccd") == 0) len -= 4;
      c->name = malloc(len + 1);
      if (c->name) {
        memcpy(c->name, b, len);
        c->name[len] = '\0';
      }
    }
    if (!c->name) goto oom;
  }
  /* Line 2: count. */
  int64_t count = -1;
  while (next_line(&lr, &s, &e)) {
    if (blank(s, e) || *s == '#') continue;
    double v[2];
    char bad[64] = "";
    int n = parse_numbers(s, e, v, 1, bad, sizeof(bad));
    if (n != 1 || v[0] != floor(v[0]) || v[0] < 1 || v[0] > 1e8) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s:%lld: expected the number of dipoles (a positive integer), found '%.*s'",
                        origin, (long long)lr.line, (int)(e - s < 40 ? e - s : 40), s);
      goto fail;
    }
    count = (int64_t)v[0];
    break;
  }
  if (count < 0) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s:%lld: file ends before the number of dipoles",
                      origin, (long long)lr.line);
    goto fail;
  }
  /* A dipole row has at least 12 characters ("0 0 0 0 0 0\n"). */
  if ((uint64_t)count > (uint64_t)(lr.end - lr.p) / 12 + 1) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s:%lld: %lld dipoles announced, but the %zu bytes left cannot hold them",
                      origin, (long long)lr.line, (long long)count, (size_t)(lr.end - lr.p));
    goto fail;
  }
  pos = tmsf_malloc_array((size_t)count * 3, sizeof(double));
  mom = tmsf_malloc_array((size_t)count * 3, sizeof(double));
  if (!pos || !mom) goto oom;
  int64_t k = 0;
  while (next_line(&lr, &s, &e)) {
    if (blank(s, e) || *s == '#') continue;
    double v[7];
    char bad[64] = "";
    int n = parse_numbers(s, e, v, 6, bad, sizeof(bad));
    if (k >= count) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s:%lld: more dipole rows than the %lld announced on the count line",
                        origin, (long long)lr.line, (long long)count);
      goto fail;
    }
    if (n < 0) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s:%lld: dipole %lld: '%s' is not a finite number; expected x y z mx my mz",
                        origin, (long long)lr.line, (long long)k + 1, bad);
      goto fail;
    }
    if (n != 6) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s:%lld: dipole %lld has %s%d values; expected 6 (x y z in m, mx my mz "
                        "in A m^2)",
                        origin, (long long)lr.line, (long long)k + 1, n > 6 ? "more than " : "",
                        n > 6 ? 6 : n);
      goto fail;
    }
    memcpy(pos + 3 * k, v, 3 * sizeof(double));
    memcpy(mom + 3 * k, v + 3, 3 * sizeof(double));
    k++;
  }
  if (k != count) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s:%lld: file ends after %lld dipole rows; the count line announced %lld",
                      origin, (long long)lr.line, (long long)k, (long long)count);
    goto fail;
  }
  /* one element of dipoles on stimulator 0, named by the header's
   * stimulator and brand keys when present */
  ierr = tmsf_coil_add_owned(c, TMSF_COIL_DIPOLES, 0, c->name, count, pos, mom);
  pos = mom = NULL;
  if (ierr) goto fail;
  for (int i = 0; i < c->num_keys; i++) {
    int isname = strcmp(c->keys[i], "stimulator") == 0, isbrand = strcmp(c->keys[i], "brand") == 0;
    if ((isname || isbrand) &&
        tmsf_coil_set_stimulator(c, 0, isname ? c->values[i] : NULL, isbrand ? c->values[i] : NULL,
                                 c->stimulators[0].didt_max))
      goto oom;
  }
  free(desc);
  *coil = c;
  return TMSF_SUCCESS;
oom:
  ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
fail:
  free(pos);
  free(mom);
  free(desc);
  tmsf_coil_destroy(&c);
  return ierr;
}

int tmsf_ccd_read(tmsf_context *ctx, const char *path, tmsf_coil **coil) {
  unsigned char *data;
  size_t size;
  TMSF_CALL(tmsf_file_read_all(ctx, path, &data, &size));
  int ierr = tmsf_ccd_read_buffer(ctx, path, (const char *)data, size, coil);
  free(data);
  return ierr;
}

/* A header key or value that the one-line "key=value;" header can hold. */
static int header_safe(const char *s, int is_key) {
  for (; *s; s++)
    if (*s == ';' || *s == '\n' || *s == '\r' || (is_key && (*s == '=' || *s == '#'))) return 0;
  return 1;
}

int tmsf_coil_write_ccd(const tmsf_coil *coil, const char *path) {
  if (!coil || !path) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = coil->ctx;
  if (coil->num_elements < 1)
    return TMSF_ERROR(ctx, TMSF_ERR_STATE, "coil '%s' has no elements to write", coil->name ? coil->name : "");
  for (int i = 0; i < coil->num_elements; i++) {
    const tmsf_coil_element *e = &coil->elements[i];
    if (e->kind != TMSF_COIL_DIPOLES || e->stimulator != 0)
      return TMSF_ERROR(ctx, TMSF_ERR_STATE,
                        "%s: coil '%s' element %d is %s; a .ccd file holds dipoles on one "
                        "stimulator only",
                        path, coil->name ? coil->name : "", i,
                        e->kind != TMSF_COIL_DIPOLES ? "not made of dipoles" : "on another stimulator than 0");
  }
  const tmsf_coil_stimulator *st = coil->num_stimulators > 0 ? &coil->stimulators[0] : NULL;
  FILE *f = fopen(path, "w");
  if (!f) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for writing", path);
  /* the name without characters that would end the description */
  fputs("# ", f);
  for (const char *p = coil->name && coil->name[0] ? coil->name : "coil"; *p; p++)
    fputc(*p == ';' || *p == '\n' || *p == '\r' || *p == ' ' || *p == '\t' ? '_' : *p, f);
  fputs(".ccd version 1.0 number of elements", f);
  int have_didt = 0, have_stim = 0, have_brand = 0;
  for (int i = 0; i < coil->num_keys; i++) {
    const char *k = coil->keys[i], *v = coil->values[i];
    if (!header_safe(k, 1) || !header_safe(v, 0) || !k[0]) continue;
    if (strcmp(k, "dIdtmax") == 0) {
      have_didt = 1;
      if (st && isfinite(st->didt_max)) {
        fprintf(f, "; dIdtmax=%.15g", st->didt_max * 1e-6);
        continue;
      }
    }
    have_stim |= strcmp(k, "stimulator") == 0;
    have_brand |= strcmp(k, "brand") == 0;
    fprintf(f, "; %s=%s", k, v);
  }
  if (!have_didt && st && isfinite(st->didt_max)) fprintf(f, "; dIdtmax=%.15g", st->didt_max * 1e-6);
  if (!have_stim && st && st->name && st->name[0] && header_safe(st->name, 0)) fprintf(f, "; stimulator=%s", st->name);
  if (!have_brand && st && st->brand && st->brand[0] && header_safe(st->brand, 0)) fprintf(f, "; brand=%s", st->brand);
  fprintf(f, "\n%lld\n# centers and weighted directions of the elements (magnetic dipoles)\n",
          (long long)coil->num_dipoles);
  for (int i = 0; i < coil->num_elements; i++) {
    const tmsf_coil_element *e = &coil->elements[i];
    for (int64_t k = 0; k < e->n; k++) {
      const double *p = e->pos + 3 * k, *m = e->vec + 3 * k;
      fprintf(f, "%.17g %.17g %.17g %.17g %.17g %.17g\n", p[0], p[1], p[2], m[0], m[1], m[2]);
    }
  }
  int bad = ferror(f);
  bad |= fclose(f) != 0;
  if (bad) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: write failed (disk full?)", path);
  return TMSF_SUCCESS;
}

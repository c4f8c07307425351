/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-stl.c: STL triangle meshes (binary and ASCII) as coil casings
 * (search.h: tmsf_casing_read_stl, tmsf_casing_find_for_coil).
 *
 * Binary STL: an 80-byte header, a little-endian uint32 triangle count N at
 * byte 80, then N records of 50 bytes: normal and three vertices as 12
 * little-endian float32, and a uint16 attribute.  ASCII STL: "solid name",
 * facets "facet normal nx ny nz / outer loop / vertex x y z (x3) / endloop /
 * endfacet", "endsolid name".  Neither stores shared vertices: vertices with
 * identical coordinates are merged here.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "search-impl.h"

#define STL_MAX_TRIANGLES 200000000 /* 3 N vertex indices must fit int32 */

/* ------------------------------------------------------------------------- */
/* Vertex merging                                                            */
/* ------------------------------------------------------------------------- */

typedef struct stl_vertex {
  double x[3];
  int64_t index; /* position in the triangle soup */
} stl_vertex;

static int vertex_cmp(const void *a, const void *b) {
  const stl_vertex *p = a, *q = b;
  for (int k = 0; k < 3; k++) {
    if (p->x[k] < q->x[k]) return -1;
    if (p->x[k] > q->x[k]) return 1;
  }
  return p->index < q->index ? -1 : p->index > q->index;
}

/* From a triangle soup (9 doubles per triangle, scaled): merge equal
 * vertices and make the casing.  Frees soup. */
static int casing_from_soup(tmsf_context *ctx, const char *origin, int64_t nt, double *soup,
                            tmsf_casing **out) {
  int64_t n = 3 * nt;
  stl_vertex *v = tmsf_malloc_array((size_t)n + 1, sizeof(stl_vertex));
  int32_t *tris = tmsf_malloc_array((size_t)n + 1, sizeof(int32_t));
  double *xyz = NULL;
  if (!v || !tris) goto oom;
  for (int64_t i = 0; i < n; i++) {
    memcpy(v[i].x, soup + 3 * i, 3 * sizeof(double));
    v[i].index = i;
  }
  qsort(v, (size_t)n, sizeof(stl_vertex), vertex_cmp);
  int64_t nv = 0;
  for (int64_t i = 0; i < n; i++) {
    if (i == 0 || memcmp(v[i].x, v[i - 1].x, sizeof(v[i].x)) != 0) nv++;
    tris[v[i].index] = (int32_t)(nv - 1);
  }
  xyz = tmsf_malloc_array((size_t)nv + 1, 3 * sizeof(double));
  if (!xyz) goto oom;
  nv = 0;
  for (int64_t i = 0; i < n; i++)
    if (i == 0 || memcmp(v[i].x, v[i - 1].x, sizeof(v[i].x)) != 0) memcpy(xyz + 3 * nv++, v[i].x, 3 * sizeof(double));
  free(v);
  free(soup);
  return tmsf_casing_from_owned(ctx, origin, nv, xyz, nt, tris, out);
oom:
  free(v);
  free(tris);
  free(xyz);
  free(soup);
  return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %lld STL triangles", origin, (long long)nt);
}

/* ------------------------------------------------------------------------- */
/* Binary                                                                    */
/* ------------------------------------------------------------------------- */

static uint32_t le32(const unsigned char *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static float lef32(const unsigned char *b) {
  uint32_t u = le32(b);
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}

static int read_binary(tmsf_context *ctx, const char *origin, const unsigned char *data, size_t size,
                       double scale, tmsf_casing **out) {
  uint32_t count = le32(data + 80);
  if (count == 0) return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: binary STL with no triangles (count 0 at byte 80)", origin);
  if (count > STL_MAX_TRIANGLES)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: binary STL: %lu triangles, more than the %d supported", origin,
                      (unsigned long)count, STL_MAX_TRIANGLES);
  double *soup = tmsf_malloc_array((size_t)count, 9 * sizeof(double));
  if (!soup) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %lu STL triangles", origin, (unsigned long)count);
  for (uint32_t t = 0; t < count; t++) {
    const unsigned char *rec = data + 84 + 50 * (size_t)t;
    for (int j = 0; j < 9; j++) {
      float f = lef32(rec + 12 + 4 * j);
      if (!isfinite(f)) {
        free(soup);
        return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                          "%s: binary STL triangle %lu (byte %zu): vertex %d coordinate %c is %g; expected a finite number",
                          origin, (unsigned long)t + 1, (size_t)(84 + 50 * (size_t)t + 12 + 4 * j), j / 3 + 1, "xyz"[j % 3],
                          (double)f);
      }
      soup[9 * (size_t)t + j] = (double)f * scale;
    }
  }
  (void)size;
  return casing_from_soup(ctx, origin, (int64_t)count, soup, out);
}

/* ------------------------------------------------------------------------- */
/* ASCII                                                                     */
/* ------------------------------------------------------------------------- */

typedef struct stl_text {
  tmsf_context *ctx;
  const char *origin;
  const char *p, *end;
  int64_t line;
} stl_text;

/* The next whitespace-separated token (not NUL-terminated); len 0 at end. */
static const char *next_token(stl_text *r, size_t *len) {
  while (r->p < r->end && isspace((unsigned char)*r->p)) {
    if (*r->p == '\n') r->line++;
    r->p++;
  }
  const char *s = r->p;
  while (r->p < r->end && !isspace((unsigned char)*r->p)) r->p++;
  *len = (size_t)(r->p - s);
  return s;
}

static void skip_line(stl_text *r) {
  while (r->p < r->end && *r->p != '\n') r->p++;
}

static void describe(const char *tok, size_t n, char *out, size_t cap) {
  if (n == 0) {
    snprintf(out, cap, "end of file");
    return;
  }
  char s[4 * 32 + 1];
  size_t k = 0;
  for (size_t i = 0; i < n && i < 32; i++) {
    unsigned char c = (unsigned char)tok[i];
    if (c >= 0x20 && c < 0x7f)
      s[k++] = (char)c;
    else
      k += (size_t)snprintf(s + k, sizeof(s) - k, "\\x%02x", c);
  }
  s[k] = '\0';
  snprintf(out, cap, "'%s%s'", s, n > 32 ? "..." : "");
}

static int token_is(const char *tok, size_t n, const char *word) {
  size_t m = strlen(word);
  if (n != m) return 0;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)tok[i]) != word[i]) return 0;
  return 1;
}

static int expect_word(stl_text *r, const char *word) {
  size_t n;
  const char *tok = next_token(r, &n);
  if (token_is(tok, n, word)) return TMSF_SUCCESS;
  char d[160];
  describe(tok, n, d, sizeof(d));
  return TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT, "%s: line %lld: expected '%s', found %s", r->origin, (long long)r->line,
                    word, d);
}

static int read_number(stl_text *r, double *x, const char *what) {
  size_t n;
  const char *tok = next_token(r, &n);
  char buf[80], d[160];
  if (n > 0 && n < sizeof(buf)) {
    memcpy(buf, tok, n);
    buf[n] = '\0';
    char *endp = NULL;
    errno = 0;
    double v = strtod(buf, &endp);
    if (*endp == '\0' && isfinite(v) && errno != ERANGE) {
      *x = v;
      return TMSF_SUCCESS;
    }
  }
  describe(tok, n, d, sizeof(d));
  return TMSF_ERROR(r->ctx, TMSF_ERR_FORMAT, "%s: line %lld: expected a finite number (%s), found %s", r->origin,
                    (long long)r->line, what, d);
}

static int read_ascii(tmsf_context *ctx, const char *origin, const unsigned char *data, size_t size, double scale,
                      tmsf_casing **out) {
  stl_text r = {ctx, origin, (const char *)data, (const char *)data + size, 1};
  size_t cap = 1024, nt = 0;
  double *soup = tmsf_malloc_array(cap, 9 * sizeof(double));
  if (!soup) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
  int ierr = TMSF_SUCCESS;
  static const char *coord_names[3][3] = {{"vertex 1 x", "vertex 1 y", "vertex 1 z"},
                                          {"vertex 2 x", "vertex 2 y", "vertex 2 z"},
                                          {"vertex 3 x", "vertex 3 y", "vertex 3 z"}};
  int solids = 0;
  for (;;) {
    size_t n;
    const char *tok = next_token(&r, &n);
    if (n == 0 && solids > 0) break;
    if (!token_is(tok, n, "solid")) {
      char d[160];
      describe(tok, n, d, sizeof(d));
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: line %lld: expected 'solid'%s, found %s", origin, (long long)r.line,
                        solids ? " or the end of the file" : "", d);
      goto fail;
    }
    solids++;
    skip_line(&r); /* the solid's name */
    for (;;) {
      tok = next_token(&r, &n);
      if (token_is(tok, n, "endsolid")) {
        skip_line(&r);
        break;
      }
      if (!token_is(tok, n, "facet")) {
        char d[160];
        describe(tok, n, d, sizeof(d));
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: line %lld: expected 'facet' or 'endsolid', found %s", origin,
                          (long long)r.line, d);
        goto fail;
      }
      double normal[3], x[9];
      if ((ierr = expect_word(&r, "normal"))) goto fail;
      for (int k = 0; k < 3; k++)
        if ((ierr = read_number(&r, &normal[k], k == 0 ? "normal x" : k == 1 ? "normal y" : "normal z"))) goto fail;
      if ((ierr = expect_word(&r, "outer")) || (ierr = expect_word(&r, "loop"))) goto fail;
      for (int j = 0; j < 3; j++) {
        if ((ierr = expect_word(&r, "vertex"))) goto fail;
        for (int k = 0; k < 3; k++)
          if ((ierr = read_number(&r, &x[3 * j + k], coord_names[j][k]))) goto fail;
      }
      if ((ierr = expect_word(&r, "endloop")) || (ierr = expect_word(&r, "endfacet"))) goto fail;
      if (nt >= STL_MAX_TRIANGLES) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: line %lld: more than %d triangles", origin, (long long)r.line,
                          STL_MAX_TRIANGLES);
        goto fail;
      }
      if (nt == cap) {
        double *ns = realloc(soup, 2 * cap * 9 * sizeof(double));
        if (!ns) {
          ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu triangles", origin, 2 * cap);
          goto fail;
        }
        soup = ns;
        cap *= 2;
      }
      for (int k = 0; k < 9; k++) {
        double v = x[k] * scale;
        if (!isfinite(v)) {
          ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: line %lld: %s times the scale %g is not finite", origin,
                            (long long)r.line, coord_names[k / 3][k % 3], scale);
          goto fail;
        }
        soup[9 * nt + (size_t)k] = v;
      }
      nt++;
    }
  }
  if (nt == 0) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: ASCII STL with no facets", origin);
    goto fail;
  }
  return casing_from_soup(ctx, origin, (int64_t)nt, soup, out);
fail:
  free(soup);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Entry points                                                              */
/* ------------------------------------------------------------------------- */

int tmsf_stl_read_buffer(tmsf_context *ctx, const char *origin, const unsigned char *data, size_t size,
                         double scale, tmsf_casing **out) {
  if (!out) return TMSF_ERR_ARGUMENT;
  *out = NULL;
  if (!data && size > 0) return TMSF_ERR_ARGUMENT;
  if (!origin) origin = "STL";
  if (!(isfinite(scale) && scale > 0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: STL scale %g; expected a finite number > 0 (1e-3 for mm)", origin,
                      scale);
  if (size >= 84 && 84 + 50 * (uint64_t)le32(data + 80) == (uint64_t)size)
    return read_binary(ctx, origin, data, size, scale, out);
  size_t i = 0;
  if (size >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf) i = 3; /* UTF-8 BOM */
  while (i < size && isspace(data[i])) i++;
  if (size - i >= 5 && token_is((const char *)data + i, 5, "solid"))
    return read_ascii(ctx, origin, data + i, size - i, scale, out);
  if (size < 84)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: not an STL file: %zu bytes, too short for binary STL (84 + 50 bytes per triangle) "
                      "and not beginning with 'solid' (ASCII STL)",
                      origin, size);
  return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                    "%s: not an STL file: the binary triangle count %lu at byte 80 needs %llu bytes, the file has "
                    "%zu, and it does not begin with 'solid' (ASCII STL)",
                    origin, (unsigned long)le32(data + 80), (unsigned long long)(84 + 50 * (uint64_t)le32(data + 80)),
                    size);
}

int tmsf_casing_read_stl(tmsf_context *ctx, const char *path, double scale, tmsf_casing **out) {
  if (!out) return TMSF_ERR_ARGUMENT;
  *out = NULL;
  if (!path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "STL path is NULL");
  unsigned char *data = NULL;
  size_t size = 0;
  TMSF_CALL(tmsf_file_read_all(ctx, path, &data, &size));
  int ierr = tmsf_stl_read_buffer(ctx, path, data, size, scale, out);
  free(data);
  return ierr;
}

int tmsf_casing_find_for_coil(tmsf_context *ctx, const char *coil_path, tmsf_casing **out) {
  if (!out) return TMSF_ERR_ARGUMENT;
  *out = NULL;
  if (!coil_path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "coil path is NULL");
  size_t len = strlen(coil_path);
  const char *slash = strrchr(coil_path, '/');
  size_t base = slash ? (size_t)(slash - coil_path) + 1 : 0;
  size_t stem = len;
  if (len - base > 7 && strcmp(coil_path + len - 7, ".nii.gz") == 0) {
    stem = len - 7;
  } else {
    const char *dot = strrchr(coil_path + base, '.');
    if (dot && dot > coil_path + base) stem = (size_t)(dot - coil_path);
  }
  char *path = malloc(stem + 5);
  if (!path) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  memcpy(path, coil_path, stem);
  memcpy(path + stem, ".stl", 5);
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    int ierr = TMSF_SUCCESS;
    if (e != ENOENT && e != ENOTDIR)
      ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: casing of coil %s: cannot open: %s", path, coil_path, strerror(e));
    free(path);
    return ierr;
  }
  fclose(f);
  int ierr = tmsf_casing_read_stl(ctx, path, 1e-3, out);
  free(path);
  return ierr;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-msh.c: Gmsh mesh files — read 2.2 and 4.1, ASCII and binary; write 2.2
 * binary with SimNIBS-named element data.
 *
 * Format references: the Gmsh reference manual, "MSH file format" (version 4.1)
 * and "Legacy formats" (version 2.2).  Coordinates in files are millimetres.
 *
 * The parser works on a memory buffer with explicit bounds: every read checks
 * the remaining length, so truncated or corrupt files give an error naming the
 * section, the line (ASCII) or byte offset (binary) and what was expected.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmsf-impl.h"

/* ------------------------------------------------------------------------- */
/* Reader state                                                              */
/* ------------------------------------------------------------------------- */

typedef struct reader {
  tmsf_context *ctx;
  const char *origin; /* file name for messages */
  const unsigned char *begin, *p, *end;
  int64_t line; /* 1-based line of p (ASCII parts) */
  int binary;
  int swap; /* binary data has the other byte order */
  double version;
  const char *section;
} reader;

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int msh_fail_(reader *r, const char *file, int line, const char *func, const char *fmt, ...) {
  char what[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  if (r->binary && r->section)
    return tmsf_error_(r->ctx, file, line, func, TMSF_ERR_FORMAT, "%s: section $%s, byte %lld: %s",
                       r->origin, r->section, (long long)(r->p - r->begin), what);
  if (r->section)
    return tmsf_error_(r->ctx, file, line, func, TMSF_ERR_FORMAT, "%s:%lld: section $%s: %s",
                       r->origin, (long long)r->line, r->section, what);
  return tmsf_error_(r->ctx, file, line, func, TMSF_ERR_FORMAT, "%s:%lld: %s", r->origin,
                     (long long)r->line, what);
}
#define MSH_FAIL(r, ...) msh_fail_((r), __FILE__, __LINE__, __func__, __VA_ARGS__)

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

static void skip_ws(reader *r) {
  while (r->p < r->end && is_space(*r->p)) {
    if (*r->p == '\n') r->line++;
    r->p++;
  }
}

/* Skip blanks on the current line only. */
static void skip_blanks(reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r')) r->p++;
}

/* Next whitespace-delimited token into buf; returns its length (0 at EOF). */
static size_t token(reader *r, char *buf, size_t cap) {
  skip_ws(r);
  size_t n = 0;
  while (r->p < r->end && !is_space(*r->p)) {
    if (n + 1 < cap) buf[n] = (char)*r->p;
    n++;
    r->p++;
  }
  if (cap) buf[n < cap ? n : cap - 1] = '\0';
  return n;
}

/* A token for a message: at most 40 bytes, quoted, bytes outside printable
 * ASCII (binary data read as text) written as \xHH.  tok holds at least
 * min(n, 40) bytes; out should hold TOKEN_DESC_LEN bytes. */
#define TOKEN_DESC_LEN 176
static void describe_token(const char *tok, size_t n, char *out, size_t cap) {
  if (n == 0) {
    snprintf(out, cap, "end of file");
    return;
  }
  char s[4 * 40 + 1];
  size_t k = 0;
  for (size_t i = 0; i < n && i < 40; i++) {
    unsigned char c = (unsigned char)tok[i];
    if (c >= 0x20 && c < 0x7f)
      s[k++] = (char)c;
    else
      k += (size_t)snprintf(s + k, sizeof(s) - k, "\\x%02x", c);
  }
  s[k] = '\0';
  snprintf(out, cap, "'%s%s'", s, n > 40 ? "..." : "");
}

static int read_i64(reader *r, int64_t *v, const char *what) {
  char tok[64];
  size_t n = token(r, tok, sizeof(tok));
  char *endp = NULL;
  errno = 0;
  long long x = n && n < sizeof(tok) ? strtoll(tok, &endp, 10) : 0;
  if (!n || n >= sizeof(tok) || *endp != '\0' || errno) {
    char d[TOKEN_DESC_LEN];
    describe_token(tok, n, d, sizeof(d));
    return MSH_FAIL(r, "expected an integer (%s), found %s", what, d);
  }
  *v = x;
  return TMSF_SUCCESS;
}

static int read_f64(reader *r, double *v, const char *what) {
  char tok[96];
  size_t n = token(r, tok, sizeof(tok));
  char *endp = NULL;
  double x = n && n < sizeof(tok) ? strtod(tok, &endp) : 0.0;
  if (!n || n >= sizeof(tok) || *endp != '\0') {
    char d[TOKEN_DESC_LEN];
    describe_token(tok, n, d, sizeof(d));
    return MSH_FAIL(r, "expected a number (%s), found %s", what, d);
  }
  *v = x;
  return TMSF_SUCCESS;
}

static int expect_keyword(reader *r, const char *kw) {
  char tok[64];
  size_t n = token(r, tok, sizeof(tok));
  if (n >= sizeof(tok) || strcmp(tok, kw) != 0) {
    char d[TOKEN_DESC_LEN];
    describe_token(tok, n, d, sizeof(d));
    return MSH_FAIL(r, "expected %s, found %s", kw, d);
  }
  return TMSF_SUCCESS;
}

/* After an ASCII header line in a binary section: consume exactly through the
 * newline so that binary data starts at p. */
static int end_header_line(reader *r) {
  skip_blanks(r);
  if (r->p >= r->end || *r->p != '\n') return MSH_FAIL(r, "expected end of line before binary data");
  r->p++;
  r->line++;
  return TMSF_SUCCESS;
}

static void bswap(void *v, size_t size) {
  unsigned char *b = v;
  for (size_t i = 0; i < size / 2; i++) {
    unsigned char t = b[i];
    b[i] = b[size - 1 - i];
    b[size - 1 - i] = t;
  }
}

static int bin_read(reader *r, void *dst, size_t size, size_t count, const char *what) {
  if (count && size > (size_t)(r->end - r->p) / count)
    return MSH_FAIL(r, "file ends inside %s (%zu more bytes needed, %zu left)", what, size * count,
                    (size_t)(r->end - r->p));
  memcpy(dst, r->p, size * count);
  r->p += size * count;
  if (r->swap && size > 1) {
    unsigned char *b = dst;
    for (size_t i = 0; i < count; i++) bswap(b + i * size, size);
  }
  return TMSF_SUCCESS;
}

static int bin_i32(reader *r, int32_t *v, const char *what) { return bin_read(r, v, 4, 1, what); }

static int bin_u64(reader *r, uint64_t *v, const char *what) { return bin_read(r, v, 8, 1, what); }

/* Bytes remaining: upper bound used to reject absurd counts before allocating. */
static int check_count(reader *r, int64_t count, size_t min_record, const char *what) {
  if (count < 0) return MSH_FAIL(r, "negative %s count %lld", what, (long long)count);
  size_t left = (size_t)(r->end - r->p);
  if (min_record && (uint64_t)count > left / min_record)
    return MSH_FAIL(r, "%s count %lld cannot fit in the %zu bytes left in the file", what,
                    (long long)count, left);
  return TMSF_SUCCESS;
}

/* Skip an unknown section: find "$End<name>". */
static int skip_section(reader *r, const char *name) {
  char pat[80];
  snprintf(pat, sizeof(pat), "$End%s", name);
  size_t pl = strlen(pat);
  const unsigned char *q = r->p;
  while (q + pl <= r->end) {
    const unsigned char *hit = memchr(q, '$', (size_t)(r->end - q));
    if (!hit || hit + pl > r->end) break;
    if (memcmp(hit, pat, pl) == 0 && (hit + pl == r->end || is_space(hit[pl]))) {
      for (const unsigned char *s = r->p; s < hit; s++) r->line += *s == '\n';
      r->p = hit + pl;
      return TMSF_SUCCESS;
    }
    q = hit + 1;
  }
  return MSH_FAIL(r, "section $%s has no %s", name, pat);
}

/* ------------------------------------------------------------------------- */
/* Node id map                                                               */
/* ------------------------------------------------------------------------- */

typedef struct node_map {
  int dense;
  int64_t min_id, max_id;
  int32_t *direct; /* dense: id - min_id -> index */
  int64_t *sorted_ids; /* sparse: ids sorted, with their indices */
  int32_t *sorted_idx;
  int64_t n;
} node_map;

static void node_map_free(node_map *m) {
  free(m->direct);
  free(m->sorted_ids);
  free(m->sorted_idx);
}

typedef struct id_pair {
  int64_t id;
  int32_t idx;
} id_pair;

static int cmp_pair(const void *a, const void *b) {
  int64_t x = ((const id_pair *)a)->id, y = ((const id_pair *)b)->id;
  return (x > y) - (x < y);
}

/* ids[i] is the file id of node i.  Fails on duplicates or ids < 1... any
 * positive id is accepted. */
static int node_map_build(reader *r, node_map *m, const int64_t *ids, int64_t n) {
  memset(m, 0, sizeof(*m));
  m->n = n;
  if (n == 0) return TMSF_SUCCESS;
  int64_t mn = ids[0], mx = ids[0];
  for (int64_t i = 0; i < n; i++) {
    if (ids[i] < mn) mn = ids[i];
    if (ids[i] > mx) mx = ids[i];
  }
  if (mn < 0) return MSH_FAIL(r, "node id %lld is negative; expected ids >= 0", (long long)mn);
  m->min_id = mn;
  m->max_id = mx;
  if ((uint64_t)(mx - mn) < 4 * (uint64_t)n + 1024) {
    m->dense = 1;
    int64_t span = mx - mn + 1;
    m->direct = tmsf_malloc_array((size_t)span, sizeof(int32_t));
    if (!m->direct) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
    for (int64_t i = 0; i < span; i++) m->direct[i] = -1;
    for (int64_t i = 0; i < n; i++) {
      if (m->direct[ids[i] - mn] >= 0)
        return MSH_FAIL(r, "node id %lld appears twice (records %d and %lld)", (long long)ids[i],
                        m->direct[ids[i] - mn] + 1, (long long)i + 1);
      m->direct[ids[i] - mn] = (int32_t)i;
    }
    return TMSF_SUCCESS;
  }
  id_pair *pairs = tmsf_malloc_array((size_t)n, sizeof(id_pair));
  m->sorted_ids = tmsf_malloc_array((size_t)n, sizeof(int64_t));
  m->sorted_idx = tmsf_malloc_array((size_t)n, sizeof(int32_t));
  if (!pairs || !m->sorted_ids || !m->sorted_idx) {
    free(pairs);
    return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
  }
  for (int64_t i = 0; i < n; i++) pairs[i].id = ids[i], pairs[i].idx = (int32_t)i;
  qsort(pairs, (size_t)n, sizeof(id_pair), cmp_pair);
  for (int64_t i = 0; i < n; i++) {
    if (i && pairs[i].id == pairs[i - 1].id) {
      int64_t id = pairs[i].id;
      free(pairs);
      return MSH_FAIL(r, "node id %lld appears twice", (long long)id);
    }
    m->sorted_ids[i] = pairs[i].id;
    m->sorted_idx[i] = pairs[i].idx;
  }
  free(pairs);
  return TMSF_SUCCESS;
}

static int32_t node_map_get(const node_map *m, int64_t id) {
  if (id < m->min_id || id > m->max_id || m->n == 0) return -1;
  if (m->dense) return m->direct[id - m->min_id];
  int64_t lo = 0, hi = m->n - 1;
  while (lo <= hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (m->sorted_ids[mid] == id) return m->sorted_idx[mid];
    if (m->sorted_ids[mid] < id)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

/* ------------------------------------------------------------------------- */
/* Element accumulation                                                      */
/* ------------------------------------------------------------------------- */

/* Nodes per Gmsh element type 1..31 (0: unknown). */
static int gmsh_type_nodes(int64_t type) {
  static const int n[32] = {0, 2,  3,  4, 4, 8, 6,  5,  3,  6,  9,  10, 27, 18, 14, 1,
                            8, 20, 15, 13, 9, 10, 12, 15, 15, 21, 4,  5,  6,  20, 35, 56};
  return type >= 1 && type <= 31 ? n[type] : 0;
}

typedef struct elems {
  int64_t ntet, ntri, captet, captri;
  int64_t *tet_ids; /* file node ids, 4 per tet */
  int32_t *tet_tag;
  int64_t *tet_rec; /* element id in the file */
  int64_t *tri_ids;
  int32_t *tri_tag;
  int64_t *tri_rec;
} elems;

static void elems_free(elems *e) {
  free(e->tet_ids);
  free(e->tet_tag);
  free(e->tet_rec);
  free(e->tri_ids);
  free(e->tri_tag);
  free(e->tri_rec);
}

static int elems_reserve(reader *r, elems *e, int64_t ntet, int64_t ntri) {
  if (e->ntet + ntet > e->captet) {
    int64_t cap = e->ntet + ntet;
    if (cap < 2 * e->captet) cap = 2 * e->captet;
    int64_t *a = realloc(e->tet_ids, (size_t)cap * 4 * sizeof(int64_t));
    if (a) e->tet_ids = a;
    int32_t *b = realloc(e->tet_tag, (size_t)cap * sizeof(int32_t));
    if (b) e->tet_tag = b;
    int64_t *c = realloc(e->tet_rec, (size_t)cap * sizeof(int64_t));
    if (c) e->tet_rec = c;
    if (!a || !b || !c) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
    e->captet = cap;
  }
  if (e->ntri + ntri > e->captri) {
    int64_t cap = e->ntri + ntri;
    if (cap < 2 * e->captri) cap = 2 * e->captri;
    int64_t *a = realloc(e->tri_ids, (size_t)cap * 3 * sizeof(int64_t));
    if (a) e->tri_ids = a;
    int32_t *b = realloc(e->tri_tag, (size_t)cap * sizeof(int32_t));
    if (b) e->tri_tag = b;
    int64_t *c = realloc(e->tri_rec, (size_t)cap * sizeof(int64_t));
    if (c) e->tri_rec = c;
    if (!a || !b || !c) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
    e->captri = cap;
  }
  return TMSF_SUCCESS;
}

static int add_element(reader *r, elems *e, int64_t type, int64_t id, int64_t tag, const int64_t *nodes) {
  if (tag < INT32_MIN || tag > INT32_MAX) return MSH_FAIL(r, "element %lld: tag %lld out of range", (long long)id, (long long)tag);
  if (type == 4) {
    TMSF_CALL(elems_reserve(r, e, 1, 0));
    memcpy(e->tet_ids + 4 * e->ntet, nodes, 4 * sizeof(int64_t));
    e->tet_tag[e->ntet] = (int32_t)tag;
    e->tet_rec[e->ntet] = id;
    e->ntet++;
  } else if (type == 2) {
    TMSF_CALL(elems_reserve(r, e, 0, 1));
    memcpy(e->tri_ids + 3 * e->ntri, nodes, 3 * sizeof(int64_t));
    e->tri_tag[e->ntri] = (int32_t)tag;
    e->tri_rec[e->ntri] = id;
    e->ntri++;
  }
  return TMSF_SUCCESS;
}

/*
 * Nodes and elements are numbered in increasing order of their file ids, not
 * in file order: Gmsh 4.1 files list them by entity, so the same mesh in 2.2
 * and 4.1 would otherwise read with different numberings, and a mesh read
 * from 4.1 would be written (ids = index + 1) with ids that no longer match
 * its source file.
 */

/* Renumber the node map in increasing id order; rank[i] receives the new
 * index of the i-th node record of the file. */
static void node_map_rank(node_map *m, int32_t *rank) {
  int32_t k = 0;
  if (m->dense) {
    for (int64_t s = 0; m->n && s <= m->max_id - m->min_id; s++)
      if (m->direct[s] >= 0) {
        rank[m->direct[s]] = k;
        m->direct[s] = k++;
      }
  } else {
    for (int64_t s = 0; s < m->n; s++) {
      rank[m->sorted_idx[s]] = (int32_t)s;
      m->sorted_idx[s] = (int32_t)s;
    }
  }
}

static int cmp_pair_stable(const void *a, const void *b) {
  const id_pair *x = a, *y = b;
  if (x->id != y->id) return (x->id > y->id) - (x->id < y->id);
  return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Reorder n records of the given sizes (arrays a[j] of size[j] bytes per
 * record, NULL-terminated) by increasing id; ties keep file order. */
static int sort_by_id(reader *r, const int64_t *ids, int64_t n, void **a, const size_t *size) {
  int64_t i = 1;
  while (i < n && ids[i - 1] <= ids[i]) i++;
  if (i >= n) return TMSF_SUCCESS; /* already in id order */
  if (n > INT32_MAX) return MSH_FAIL(r, "%lld elements exceed the limit of %d", (long long)n, INT32_MAX);
  id_pair *p = tmsf_malloc_array((size_t)n, sizeof(id_pair));
  if (!p) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
  for (int64_t k = 0; k < n; k++) p[k].id = ids[k], p[k].idx = (int32_t)k;
  qsort(p, (size_t)n, sizeof(id_pair), cmp_pair_stable);
  for (int j = 0; a[j]; j++) {
    unsigned char *src = a[j], *t = tmsf_malloc_array((size_t)n, size[j]);
    if (!t) {
      free(p);
      return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
    }
    for (int64_t k = 0; k < n; k++) memcpy(t + (size_t)k * size[j], src + (size_t)p[k].idx * size[j], size[j]);
    memcpy(src, t, (size_t)n * size[j]);
    free(t);
  }
  free(p);
  return TMSF_SUCCESS;
}

static int sort_elements_by_id(reader *r, elems *e) {
  void *tet[4] = {e->tet_ids, e->tet_tag, e->tet_rec, NULL};
  const size_t tet_size[3] = {4 * sizeof(int64_t), sizeof(int32_t), sizeof(int64_t)};
  void *tri[4] = {e->tri_ids, e->tri_tag, e->tri_rec, NULL};
  const size_t tri_size[3] = {3 * sizeof(int64_t), sizeof(int32_t), sizeof(int64_t)};
  TMSF_CALL(sort_by_id(r, e->tet_rec, e->ntet, tet, tet_size));
  return sort_by_id(r, e->tri_rec, e->ntri, tri, tri_size);
}

/* ------------------------------------------------------------------------- */
/* Sections                                                                  */
/* ------------------------------------------------------------------------- */

typedef struct nodes_acc {
  int64_t n;
  int64_t *ids;
  double *xyz; /* mm */
} nodes_acc;

static int read_mesh_format(reader *r) {
  r->section = "MeshFormat";
  TMSF_CALL(read_f64(r, &r->version, "format version"));
  int64_t ftype, dsize;
  TMSF_CALL(read_i64(r, &ftype, "file type 0 (ASCII) or 1 (binary)"));
  TMSF_CALL(read_i64(r, &dsize, "data size"));
  if (!(r->version >= 2.0 && r->version < 3.0) && !(r->version >= 4.1 && r->version < 5.0))
    return MSH_FAIL(r, "format version %g is not supported; expected 2.2 or 4.1", r->version);
  if (ftype != 0 && ftype != 1) return MSH_FAIL(r, "file type %lld; expected 0 (ASCII) or 1 (binary)", (long long)ftype);
  if (dsize != 8) return MSH_FAIL(r, "data size %lld; expected 8", (long long)dsize);
  r->binary = (int)ftype;
  if (r->binary) {
    TMSF_CALL(end_header_line(r));
    int32_t one = 0;
    r->swap = 0;
    TMSF_CALL(bin_i32(r, &one, "the endianness marker"));
    if (one != 1) {
      bswap(&one, 4);
      if (one != 1) return MSH_FAIL(r, "endianness marker is not 1 in either byte order");
      r->swap = 1;
    }
  }
  TMSF_CALL(expect_keyword(r, "$EndMeshFormat"));
  r->section = NULL;
  return TMSF_SUCCESS;
}

static int read_nodes_v2(reader *r, nodes_acc *na) {
  r->section = "Nodes";
  int64_t n = 0;
  TMSF_CALL(read_i64(r, &n, "number of nodes"));
  TMSF_CALL(check_count(r, n, r->binary ? 28 : 8, "node"));
  if (na->ids) return MSH_FAIL(r, "a second $Nodes section; expected one");
  na->ids = tmsf_malloc_array((size_t)n, sizeof(int64_t));
  na->xyz = tmsf_malloc_array((size_t)n * 3, sizeof(double));
  if (!na->ids || !na->xyz) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
  na->n = n;
  if (r->binary) {
    TMSF_CALL(end_header_line(r));
    for (int64_t i = 0; i < n; i++) {
      int32_t id = 0;
      TMSF_CALL(bin_i32(r, &id, "a node record"));
      TMSF_CALL(bin_read(r, na->xyz + 3 * i, 8, 3, "a node record"));
      na->ids[i] = id;
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      TMSF_CALL(read_i64(r, &na->ids[i], "node id"));
      for (int c = 0; c < 3; c++) TMSF_CALL(read_f64(r, &na->xyz[3 * i + c], "node coordinate"));
    }
  }
  TMSF_CALL(expect_keyword(r, "$EndNodes"));
  r->section = NULL;
  return TMSF_SUCCESS;
}

static int read_elements_v2(reader *r, elems *el) {
  r->section = "Elements";
  int64_t n = 0;
  TMSF_CALL(read_i64(r, &n, "number of elements"));
  TMSF_CALL(check_count(r, n, r->binary ? 12 : 6, "element"));
  int64_t nodes[64];
  if (r->binary) {
    TMSF_CALL(end_header_line(r));
    int64_t done = 0;
    while (done < n) {
      int32_t hdr[3];
      TMSF_CALL(bin_read(r, hdr, 4, 3, "an element block header"));
      int nn = gmsh_type_nodes(hdr[0]);
      if (!nn) return MSH_FAIL(r, "unknown element type %d; expected a Gmsh type 1..31", hdr[0]);
      if (hdr[1] <= 0 || hdr[1] > n - done)
        return MSH_FAIL(r, "element block of %d elements; expected 1..%lld (the remaining count)",
                        hdr[1], (long long)(n - done));
      if (hdr[2] < 0 || hdr[2] > 1024) return MSH_FAIL(r, "element block with %d tags; expected 0..1024", hdr[2]);
      int32_t rec[1 + 1024 + 56];
      size_t rl = (size_t)(1 + hdr[2] + nn);
      TMSF_CALL(check_count(r, hdr[1], rl * 4, "element"));
      for (int32_t k = 0; k < hdr[1]; k++) {
        TMSF_CALL(bin_read(r, rec, 4, rl, "an element record"));
        for (int j = 0; j < nn; j++) nodes[j] = rec[1 + hdr[2] + j];
        TMSF_CALL(add_element(r, el, hdr[0], rec[0], hdr[2] > 0 ? rec[1] : 0, nodes));
      }
      done += hdr[1];
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      int64_t id = 0, type = 0, ntags = 0, tag = 0, t = 0;
      TMSF_CALL(read_i64(r, &id, "element id"));
      TMSF_CALL(read_i64(r, &type, "element type"));
      TMSF_CALL(read_i64(r, &ntags, "number of tags"));
      int nn = gmsh_type_nodes(type);
      if (!nn) return MSH_FAIL(r, "element %lld: unknown type %lld; expected a Gmsh type 1..31", (long long)id, (long long)type);
      if (ntags < 0 || ntags > 1024) return MSH_FAIL(r, "element %lld: %lld tags; expected 0..1024", (long long)id, (long long)ntags);
      for (int64_t k = 0; k < ntags; k++) {
        TMSF_CALL(read_i64(r, &t, "element tag"));
        if (k == 0) tag = t;
      }
      for (int j = 0; j < nn; j++) TMSF_CALL(read_i64(r, &nodes[j], "element node id"));
      TMSF_CALL(add_element(r, el, type, id, tag, nodes));
    }
  }
  TMSF_CALL(expect_keyword(r, "$EndElements"));
  r->section = NULL;
  return TMSF_SUCCESS;
}

/* Version 4.1 entities: physical tag per (dim, tag). */
typedef struct entity {
  int dim;
  int32_t tag;
  int32_t phys; /* first physical tag, or the entity tag if none */
} entity;

typedef struct entities {
  int64_t n, cap;
  entity *e;
} entities;

static int entities_add(reader *r, entities *es, int dim, int32_t tag, int32_t phys) {
  if (es->n == es->cap) {
    int64_t cap = es->cap ? 2 * es->cap : 64;
    entity *e = realloc(es->e, (size_t)cap * sizeof(entity));
    if (!e) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
    es->e = e;
    es->cap = cap;
  }
  es->e[es->n].dim = dim;
  es->e[es->n].tag = tag;
  es->e[es->n].phys = phys;
  es->n++;
  return TMSF_SUCCESS;
}

static int32_t entities_phys(const entities *es, int dim, int32_t tag) {
  for (int64_t i = 0; i < es->n; i++)
    if (es->e[i].dim == dim && es->e[i].tag == tag) return es->e[i].phys;
  return tag;
}

static int read_entities_v4(reader *r, entities *es) {
  r->section = "Entities";
  int64_t counts[4];
  if (r->binary) {
    TMSF_CALL(end_header_line(r));
    for (int d = 0; d < 4; d++) {
      uint64_t c = 0;
      TMSF_CALL(bin_u64(r, &c, "the entity counts"));
      if (c > (uint64_t)(r->end - r->p)) return MSH_FAIL(r, "entity count %llu cannot fit in the file", (unsigned long long)c);
      counts[d] = (int64_t)c;
    }
    for (int d = 0; d < 4; d++)
      for (int64_t i = 0; i < counts[d]; i++) {
        int32_t tag = 0;
        double box[6];
        uint64_t nphys = 0, nb = 0;
        TMSF_CALL(bin_i32(r, &tag, "an entity record"));
        TMSF_CALL(bin_read(r, box, 8, d == 0 ? 3 : 6, "an entity record"));
        TMSF_CALL(bin_u64(r, &nphys, "an entity record"));
        TMSF_CALL(check_count(r, (int64_t)(nphys > INT64_MAX ? -1 : (int64_t)nphys), 4, "physical tag"));
        int32_t phys = tag;
        for (uint64_t k = 0; k < nphys; k++) {
          int32_t p = 0;
          TMSF_CALL(bin_i32(r, &p, "an entity's physical tags"));
          if (k == 0) phys = p;
        }
        if (d > 0) {
          TMSF_CALL(bin_u64(r, &nb, "an entity record"));
          TMSF_CALL(check_count(r, (int64_t)(nb > INT64_MAX ? -1 : (int64_t)nb), 4, "bounding entity"));
          r->p += 4 * nb;
        }
        TMSF_CALL(entities_add(r, es, d, tag, phys));
      }
  } else {
    for (int d = 0; d < 4; d++) {
      TMSF_CALL(read_i64(r, &counts[d], "entity count"));
      TMSF_CALL(check_count(r, counts[d], 8, "entity"));
    }
    for (int d = 0; d < 4; d++)
      for (int64_t i = 0; i < counts[d]; i++) {
        int64_t tag = 0, nphys = 0, nb = 0, v = 0;
        double x;
        TMSF_CALL(read_i64(r, &tag, "entity tag"));
        for (int k = 0; k < (d == 0 ? 3 : 6); k++) TMSF_CALL(read_f64(r, &x, "entity bounding box"));
        TMSF_CALL(read_i64(r, &nphys, "number of physical tags"));
        TMSF_CALL(check_count(r, nphys, 2, "physical tag"));
        int64_t phys = tag;
        for (int64_t k = 0; k < nphys; k++) {
          TMSF_CALL(read_i64(r, &v, "physical tag"));
          if (k == 0) phys = v;
        }
        if (d > 0) {
          TMSF_CALL(read_i64(r, &nb, "number of bounding entities"));
          TMSF_CALL(check_count(r, nb, 2, "bounding entity"));
          for (int64_t k = 0; k < nb; k++) TMSF_CALL(read_i64(r, &v, "bounding entity tag"));
        }
        if (tag < INT32_MIN || tag > INT32_MAX || phys < INT32_MIN || phys > INT32_MAX)
          return MSH_FAIL(r, "entity tag %lld out of range", (long long)tag);
        TMSF_CALL(entities_add(r, es, d, (int32_t)tag, (int32_t)phys));
      }
  }
  TMSF_CALL(expect_keyword(r, "$EndEntities"));
  r->section = NULL;
  return TMSF_SUCCESS;
}

static int read_nodes_v4(reader *r, nodes_acc *na) {
  r->section = "Nodes";
  if (na->ids) return MSH_FAIL(r, "a second $Nodes section; expected one");
  uint64_t hdr[4];
  if (r->binary) {
    TMSF_CALL(end_header_line(r));
    TMSF_CALL(bin_read(r, hdr, 8, 4, "the $Nodes header"));
  } else {
    for (int k = 0; k < 4; k++) {
      int64_t v;
      TMSF_CALL(read_i64(r, &v, k == 0 ? "number of entity blocks" : k == 1 ? "number of nodes" : "node tag bound"));
      hdr[k] = (uint64_t)v;
    }
  }
  if (hdr[0] > INT64_MAX || hdr[1] > INT64_MAX) return MSH_FAIL(r, "node counts out of range");
  int64_t nblocks = (int64_t)hdr[0], n = (int64_t)hdr[1];
  TMSF_CALL(check_count(r, n, r->binary ? 32 : 8, "node"));
  TMSF_CALL(check_count(r, nblocks, r->binary ? 20 : 8, "node block"));
  na->ids = tmsf_malloc_array((size_t)n, sizeof(int64_t));
  na->xyz = tmsf_malloc_array((size_t)n * 3, sizeof(double));
  if (!na->ids || !na->xyz) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
  na->n = n;
  int64_t done = 0;
  for (int64_t b = 0; b < nblocks; b++) {
    int64_t dim = 0, etag = 0, param = 0, m = 0;
    if (r->binary) {
      int32_t h[3] = {0, 0, 0};
      uint64_t mm = 0;
      TMSF_CALL(bin_read(r, h, 4, 3, "a node block header"));
      TMSF_CALL(bin_u64(r, &mm, "a node block header"));
      dim = h[0], etag = h[1], param = h[2];
      m = mm > INT64_MAX ? -1 : (int64_t)mm;
    } else {
      TMSF_CALL(read_i64(r, &dim, "entity dimension"));
      TMSF_CALL(read_i64(r, &etag, "entity tag"));
      TMSF_CALL(read_i64(r, &param, "parametric flag"));
      TMSF_CALL(read_i64(r, &m, "number of nodes in block"));
    }
    (void)etag;
    if (dim < 0 || dim > 3) return MSH_FAIL(r, "node block %lld: entity dimension %lld; expected 0..3", (long long)b + 1, (long long)dim);
    if (param != 0 && param != 1) return MSH_FAIL(r, "node block %lld: parametric flag %lld; expected 0 or 1", (long long)b + 1, (long long)param);
    if (m < 0 || m > n - done)
      return MSH_FAIL(r, "node block %lld holds %lld nodes but only %lld of the %lld announced remain",
                      (long long)b + 1, (long long)m, (long long)(n - done), (long long)n);
    int ncoord = 3 + (param ? (int)dim : 0);
    if (r->binary) {
      TMSF_CALL(check_count(r, m, 8 + 8 * (size_t)ncoord, "node"));
      for (int64_t i = 0; i < m; i++) {
        uint64_t id = 0;
        TMSF_CALL(bin_u64(r, &id, "node tags"));
        if (id > INT64_MAX) return MSH_FAIL(r, "node tag %llu out of range", (unsigned long long)id);
        na->ids[done + i] = (int64_t)id;
      }
      for (int64_t i = 0; i < m; i++) {
        double c[6];
        TMSF_CALL(bin_read(r, c, 8, (size_t)ncoord, "node coordinates"));
        memcpy(na->xyz + 3 * (done + i), c, 3 * sizeof(double));
      }
    } else {
      for (int64_t i = 0; i < m; i++) TMSF_CALL(read_i64(r, &na->ids[done + i], "node tag"));
      for (int64_t i = 0; i < m; i++)
        for (int c = 0; c < ncoord; c++) {
          double v;
          TMSF_CALL(read_f64(r, &v, "node coordinate"));
          if (c < 3) na->xyz[3 * (done + i) + c] = v;
        }
    }
    done += m;
  }
  if (done != n)
    return MSH_FAIL(r, "node blocks hold %lld nodes; the header announced %lld", (long long)done, (long long)n);
  TMSF_CALL(expect_keyword(r, "$EndNodes"));
  r->section = NULL;
  return TMSF_SUCCESS;
}

static int read_elements_v4(reader *r, elems *el, const entities *es) {
  r->section = "Elements";
  uint64_t hdr[4];
  if (r->binary) {
    TMSF_CALL(end_header_line(r));
    TMSF_CALL(bin_read(r, hdr, 8, 4, "the $Elements header"));
  } else {
    for (int k = 0; k < 4; k++) {
      int64_t v;
      TMSF_CALL(read_i64(r, &v, k == 0 ? "number of entity blocks" : k == 1 ? "number of elements" : "element tag bound"));
      hdr[k] = (uint64_t)v;
    }
  }
  if (hdr[0] > INT64_MAX || hdr[1] > INT64_MAX) return MSH_FAIL(r, "element counts out of range");
  int64_t nblocks = (int64_t)hdr[0], n = (int64_t)hdr[1];
  TMSF_CALL(check_count(r, n, r->binary ? 16 : 4, "element"));
  TMSF_CALL(check_count(r, nblocks, r->binary ? 20 : 8, "element block"));
  int64_t done = 0;
  int64_t nodes[64];
  for (int64_t b = 0; b < nblocks; b++) {
    int64_t dim = 0, etag = 0, type = 0, m = 0;
    if (r->binary) {
      int32_t h[3] = {0, 0, 0};
      uint64_t mm = 0;
      TMSF_CALL(bin_read(r, h, 4, 3, "an element block header"));
      TMSF_CALL(bin_u64(r, &mm, "an element block header"));
      dim = h[0], etag = h[1], type = h[2];
      m = mm > INT64_MAX ? -1 : (int64_t)mm;
    } else {
      TMSF_CALL(read_i64(r, &dim, "entity dimension"));
      TMSF_CALL(read_i64(r, &etag, "entity tag"));
      TMSF_CALL(read_i64(r, &type, "element type"));
      TMSF_CALL(read_i64(r, &m, "number of elements in block"));
    }
    int nn = gmsh_type_nodes(type);
    if (!nn) return MSH_FAIL(r, "element block %lld: unknown element type %lld; expected a Gmsh type 1..31", (long long)b + 1, (long long)type);
    if (dim < 0 || dim > 3) return MSH_FAIL(r, "element block %lld: entity dimension %lld; expected 0..3", (long long)b + 1, (long long)dim);
    if (m < 0 || m > n - done)
      return MSH_FAIL(r, "element block %lld holds %lld elements but only %lld of the %lld announced remain",
                      (long long)b + 1, (long long)m, (long long)(n - done), (long long)n);
    if (etag < INT32_MIN || etag > INT32_MAX) return MSH_FAIL(r, "entity tag %lld out of range", (long long)etag);
    int32_t tag = entities_phys(es, (int)dim, (int32_t)etag);
    if (r->binary) {
      TMSF_CALL(check_count(r, m, 8 * (size_t)(nn + 1), "element"));
      for (int64_t i = 0; i < m; i++) {
        uint64_t rec[57];
        TMSF_CALL(bin_read(r, rec, 8, (size_t)nn + 1, "an element record"));
        for (int j = 0; j < nn; j++) nodes[j] = rec[1 + j] > INT64_MAX ? -1 : (int64_t)rec[1 + j];
        TMSF_CALL(add_element(r, el, type, rec[0] > INT64_MAX ? -1 : (int64_t)rec[0], tag, nodes));
      }
    } else {
      for (int64_t i = 0; i < m; i++) {
        int64_t id = 0;
        TMSF_CALL(read_i64(r, &id, "element tag"));
        for (int j = 0; j < nn; j++) TMSF_CALL(read_i64(r, &nodes[j], "element node tag"));
        TMSF_CALL(add_element(r, el, type, id, tag, nodes));
      }
    }
    done += m;
  }
  if (done != n)
    return MSH_FAIL(r, "element blocks hold %lld elements; the header announced %lld", (long long)done, (long long)n);
  TMSF_CALL(expect_keyword(r, "$EndElements"));
  r->section = NULL;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Whole file                                                                */
/* ------------------------------------------------------------------------- */

int tmsf_msh_read_buffer(tmsf_context *ctx, const char *origin, const unsigned char *data,
                         size_t size, tmsf_mesh **mesh) {
  reader r = {.ctx = ctx, .origin = origin, .begin = data, .p = data, .end = data + size, .line = 1};
  nodes_acc na = {0};
  elems el = {0};
  entities es = {0};
  node_map map = {0};
  int have_format = 0, have_elements = 0;
  int ierr = TMSF_SUCCESS;
  *mesh = NULL;
  for (;;) {
    skip_ws(&r);
    if (r.p >= r.end) break;
    char name[64];
    size_t n = token(&r, name, sizeof(name));
    if (name[0] != '$' || n >= sizeof(name)) {
      char d[TOKEN_DESC_LEN];
      describe_token(name, n, d, sizeof(d));
      ierr = MSH_FAIL(&r, "expected a section such as $MeshFormat, found %s", d);
      goto done;
    }
    if (!have_format && strcmp(name, "$MeshFormat") != 0) {
      char d[TOKEN_DESC_LEN];
      describe_token(name, n, d, sizeof(d));
      ierr = MSH_FAIL(&r, "expected $MeshFormat as the first section, found %s", d);
      goto done;
    }
    if (strcmp(name, "$MeshFormat") == 0) {
      if (have_format) {
        ierr = MSH_FAIL(&r, "a second $MeshFormat section");
        goto done;
      }
      ierr = read_mesh_format(&r);
      have_format = 1;
    } else if (strcmp(name, "$Nodes") == 0) {
      ierr = r.version < 3 ? read_nodes_v2(&r, &na) : read_nodes_v4(&r, &na);
    } else if (strcmp(name, "$Elements") == 0) {
      if (have_elements) {
        ierr = MSH_FAIL(&r, "a second $Elements section; expected one");
        goto done;
      }
      ierr = r.version < 3 ? read_elements_v2(&r, &el) : read_elements_v4(&r, &el, &es);
      have_elements = 1;
    } else if (strcmp(name, "$Entities") == 0 && r.version >= 4) {
      ierr = read_entities_v4(&r, &es);
    } else {
      ierr = skip_section(&r, name + 1);
    }
    if (ierr) goto done;
  }
  r.section = NULL;
  if (!have_format) {
    ierr = MSH_FAIL(&r, "not a Gmsh mesh: no $MeshFormat section");
    goto done;
  }
  if (!na.ids) {
    ierr = MSH_FAIL(&r, "no $Nodes section");
    goto done;
  }
  if (!have_elements || el.ntet == 0) {
    ierr = MSH_FAIL(&r, "no tetrahedra (Gmsh element type 4) in the file");
    goto done;
  }
  ierr = node_map_build(&r, &map, na.ids, na.n);
  if (ierr) goto done;
  ierr = sort_elements_by_id(&r, &el);
  if (ierr) goto done;
  {
    double *nodes = tmsf_malloc_array((size_t)na.n * 3, sizeof(double));
    int32_t *tets = tmsf_malloc_array((size_t)el.ntet * 4, sizeof(int32_t));
    int32_t *tris = tmsf_malloc_array((size_t)el.ntri * 3, sizeof(int32_t));
    int32_t *rank = tmsf_malloc_array((size_t)na.n, sizeof(int32_t));
    if (!nodes || !tets || !tris || !rank) {
      free(nodes), free(tets), free(tris), free(rank);
      ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
      goto done;
    }
    node_map_rank(&map, rank);
    /* mm -> m by a correctly rounded division, which tmsf_msh_write inverts
     * exactly: read, write, read gives bitwise the same coordinates. */
    for (int64_t i = 0; i < na.n; i++)
      for (int c = 0; c < 3; c++) nodes[3 * (int64_t)rank[i] + c] = na.xyz[3 * i + c] / 1e3;
    free(rank);
    for (int64_t e = 0; e < el.ntet; e++)
      for (int k = 0; k < 4; k++) {
        int32_t idx = node_map_get(&map, el.tet_ids[4 * e + k]);
        if (idx < 0) {
          ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                            "%s: section $Elements: tetrahedron %lld refers to node %lld, which "
                            "is not in $Nodes",
                            origin, (long long)el.tet_rec[e], (long long)el.tet_ids[4 * e + k]);
          free(nodes), free(tets), free(tris);
          goto done;
        }
        tets[4 * e + k] = idx;
      }
    for (int64_t e = 0; e < el.ntri; e++)
      for (int k = 0; k < 3; k++) {
        int32_t idx = node_map_get(&map, el.tri_ids[3 * e + k]);
        if (idx < 0) {
          ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                            "%s: section $Elements: triangle %lld refers to node %lld, which is "
                            "not in $Nodes",
                            origin, (long long)el.tri_rec[e], (long long)el.tri_ids[3 * e + k]);
          free(nodes), free(tets), free(tris);
          goto done;
        }
        tris[3 * e + k] = idx;
      }
    int32_t *tet_tag = el.tet_tag, *tri_tag = el.tri_tag;
    if (!tri_tag) tri_tag = malloc(1);
    el.tet_tag = NULL;
    el.tri_tag = NULL;
    ierr = tmsf_mesh_from_owned(ctx, origin, na.n, nodes, el.ntet, tets, tet_tag, el.ntri, tris,
                                tri_tag, el.tet_rec, mesh);
  }
done:
  node_map_free(&map);
  free(na.ids);
  free(na.xyz);
  elems_free(&el);
  free(es.e);
  return ierr;
}

int tmsf_msh_read(tmsf_context *ctx, const char *path, tmsf_mesh **mesh) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map != MAP_FAILED) {
      int ierr = tmsf_msh_read_buffer(ctx, path, map, (size_t)st.st_size, mesh);
      munmap(map, (size_t)st.st_size);
      return ierr;
    }
  } else {
    close(fd);
  }
  unsigned char *data;
  size_t size;
  TMSF_CALL(tmsf_file_read_all(ctx, path, &data, &size));
  int ierr = tmsf_msh_read_buffer(ctx, path, data, size, mesh);
  free(data);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Writer: Gmsh 2.2 binary                                                   */
/* ------------------------------------------------------------------------- */

/* Records are gathered in a buffer of WRITER_BUFFER bytes and handed to stdio
 * in large blocks: one fwrite per 4-byte id cost ~40 % of the write time. */
#define WRITER_BUFFER (1u << 20)
typedef struct writer {
  FILE *f;
  int failed;
  size_t used;
  unsigned char buf[WRITER_BUFFER];
} writer;

static void w_flush(writer *w) {
  if (!w->failed && w->used && fwrite(w->buf, 1, w->used, w->f) != w->used) w->failed = 1;
  w->used = 0;
}

static void w_bytes(writer *w, const void *p, size_t n) {
  if (w->used + n > WRITER_BUFFER) {
    w_flush(w);
    if (n > WRITER_BUFFER) {
      if (!w->failed && fwrite(p, 1, n, w->f) != n) w->failed = 1;
      return;
    }
  }
  memcpy(w->buf + w->used, p, n);
  w->used += n;
}

static void w_str(writer *w, const char *s) { w_bytes(w, s, strlen(s)); }

/* m -> mm such that the reader's division gives back exactly m. */
static double m_to_mm(double m) {
  double x = m * 1e3;
  if (x / 1e3 == m || !isfinite(x)) return x;
  double up = nextafter(x, INFINITY), down = nextafter(x, -INFINITY);
  return up / 1e3 == m ? up : down / 1e3 == m ? down : x;
}

static void w_data_header(writer *w, const char *name, int ncomp, int64_t count) {
  char buf[256];
  snprintf(buf, sizeof(buf), "$ElementData\n1\n\"%s\"\n1\n0.0\n3\n0\n%d\n%lld\n", name, ncomp,
           (long long)count);
  w_str(w, buf);
}

int tmsf_msh_write(const tmsf_mesh *mesh, const tmsf_field *field, const char *path) {
  tmsf_context *ctx = mesh->ctx;
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  /* A fresh name beside the target, created with O_EXCL so the umask applies. */
  int fd = -1;
  for (unsigned attempt = 0; attempt < 100 && fd < 0; attempt++) {
    /* no shared state: pid, clock, this call's buffer address and the attempt */
    unsigned r = (unsigned)getpid() * 2654435761u ^ (unsigned)(uint64_t)(tmsf_wtime() * 1e9) ^
                 (unsigned)((uintptr_t)tmp >> 4) ^ (attempt * 40503u);
    snprintf(tmp, plen + 16, "%s.tmp.%06x", path, r & 0xffffffu);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    int e = errno;
    free(tmp);
    return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot create a file there: %s", path, strerror(e));
  }
  writer *wp = malloc(sizeof(writer));
  FILE *f = wp ? fdopen(fd, "wb") : NULL;
  if (!f) {
    int err = wp ? TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for writing", path)
                 : TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
    close(fd);
    unlink(tmp);
    free(tmp);
    free(wp);
    return err;
  }
  wp->f = f;
  wp->failed = 0;
  wp->used = 0;
  writer *const w = wp;
  int32_t *tri_tet = NULL;
  int ierr = TMSF_SUCCESS;
  const int32_t one = 1;
  char buf[128];
  int64_t nn = mesh->num_nodes, ne = mesh->num_tets, nt = mesh->num_tris;
  w_str(w, "$MeshFormat\n2.2 1 8\n");
  w_bytes(w, &one, 4);
  w_str(w, "\n$EndMeshFormat\n$Nodes\n");
  snprintf(buf, sizeof(buf), "%lld\n", (long long)nn);
  w_str(w, buf);
  for (int64_t i = 0; i < nn; i++) {
    int32_t id = (int32_t)(i + 1);
    double x[3] = {m_to_mm(mesh->nodes[3 * i]), m_to_mm(mesh->nodes[3 * i + 1]),
                   m_to_mm(mesh->nodes[3 * i + 2])};
    w_bytes(w, &id, 4);
    w_bytes(w, x, sizeof(x));
  }
  w_str(w, "\n$EndNodes\n$Elements\n");
  snprintf(buf, sizeof(buf), "%lld\n", (long long)(nt + ne));
  w_str(w, buf);
  if (nt) {
    int32_t hdr[3] = {2, (int32_t)nt, 2};
    w_bytes(w, hdr, sizeof(hdr));
    for (int64_t i = 0; i < nt; i++) {
      int32_t rec[6] = {(int32_t)(i + 1), mesh->tri_tags[i], mesh->tri_tags[i], mesh->tris[3 * i] + 1,
                        mesh->tris[3 * i + 1] + 1, mesh->tris[3 * i + 2] + 1};
      w_bytes(w, rec, sizeof(rec));
    }
  }
  {
    int32_t hdr[3] = {4, (int32_t)ne, 2};
    w_bytes(w, hdr, sizeof(hdr));
    for (int64_t i = 0; i < ne; i++) {
      const int32_t *t = mesh->tets + 4 * i;
      int32_t rec[7] = {(int32_t)(nt + i + 1), mesh->tet_tags[i], mesh->tet_tags[i],
                        t[0] + 1, t[1] + 1, t[2] + 1, t[3] + 1};
      w_bytes(w, rec, sizeof(rec));
    }
  }
  w_str(w, "\n$EndElements\n");
  if (field) {
    if (nt) {
      tri_tet = tmsf_malloc_array((size_t)nt, sizeof(int32_t));
      if (!tri_tet) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
        goto out;
      }
      tmsf_mesh_triangle_tets(mesh, tri_tet);
    }
    const double *E = field->E, *sig = field->sigma;
    for (int q = 0; q < 4; q++) {
      static const char *names[4] = {"E", "magnE", "J", "magnJ"};
      int ncomp = (q == 0 || q == 2) ? 3 : 1;
      w_data_header(w, names[q], ncomp, nt + ne);
      for (int64_t i = 0; i < nt + ne; i++) {
        int64_t e = i < nt ? tri_tet[i] : i - nt;
        double v[3] = {0.0, 0.0, 0.0};
        if (e >= 0) {
          double s = q >= 2 ? sig[e] : 1.0;
          for (int c = 0; c < 3; c++) v[c] = s * E[3 * e + c];
        }
        if (ncomp == 1) v[0] = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        int32_t id = (int32_t)(i + 1);
        w_bytes(w, &id, 4);
        w_bytes(w, v, (size_t)ncomp * sizeof(double));
      }
      w_str(w, "\n$EndElementData\n");
    }
  }
out:
  free(tri_tet);
  w_flush(w);
  if (fflush(w->f) != 0) w->failed = 1;
  if (fsync(fileno(w->f)) != 0 && errno != EINVAL) w->failed = 1;
  if (fclose(w->f) != 0) w->failed = 1;
  if (!ierr && w->failed) ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: write failed (disk full?)", path);
  if (!ierr && rename(tmp, path) != 0)
    ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot rename the finished file into place: %s", path,
                      strerror(errno));
  if (ierr) unlink(tmp);
  free(tmp);
  free(wp);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Element data: E back from a file (tmsf_field_read_msh)                    */
/* ------------------------------------------------------------------------- */

/* A quoted string tag of a data section (it may hold blanks) into buf. */
static int read_quoted(reader *r, char *buf, size_t cap) {
  skip_ws(r);
  if (r->p >= r->end || *r->p != '"') {
    char tok[64];
    size_t n = token(r, tok, sizeof(tok));
    char d[TOKEN_DESC_LEN];
    describe_token(tok, n, d, sizeof(d));
    return MSH_FAIL(r, "expected a quoted name, found %s", d);
  }
  r->p++;
  size_t n = 0;
  while (r->p < r->end && *r->p != '"' && *r->p != '\n') {
    if (n + 1 < cap) buf[n++] = (char)*r->p;
    r->p++;
  }
  buf[n] = '\0';
  if (r->p >= r->end || *r->p != '"') return MSH_FAIL(r, "unterminated quoted name");
  r->p++;
  return TMSF_SUCCESS;
}

typedef struct data_acc {
  int found;
  int64_t n;
  int64_t *ids;
  double *v; /* 3 per record */
} data_acc;

/* One $ElementData section; keeps the records when its name is want and it
 * has 3 components (the first such section). */
static int read_element_data(reader *r, const char *want, data_acc *acc) {
  r->section = "ElementData";
  char name[256] = "";
  int64_t ns, nr, ni;
  TMSF_CALL(read_i64(r, &ns, "number of string tags"));
  if (ns < 0 || ns > 64) return MSH_FAIL(r, "%lld string tags; expected 0..64", (long long)ns);
  for (int64_t k = 0; k < ns; k++) {
    char s[256];
    TMSF_CALL(read_quoted(r, s, sizeof(s)));
    if (k == 0) snprintf(name, sizeof(name), "%s", s);
  }
  TMSF_CALL(read_i64(r, &nr, "number of real tags"));
  if (nr < 0 || nr > 64) return MSH_FAIL(r, "%lld real tags; expected 0..64", (long long)nr);
  for (int64_t k = 0; k < nr; k++) {
    double x;
    TMSF_CALL(read_f64(r, &x, "real tag"));
  }
  TMSF_CALL(read_i64(r, &ni, "number of integer tags"));
  if (ni < 3 || ni > 64) return MSH_FAIL(r, "%lld integer tags; expected 3..64 (time step, components, count)", (long long)ni);
  int64_t itag[64];
  for (int64_t k = 0; k < ni; k++) TMSF_CALL(read_i64(r, &itag[k], "integer tag"));
  int64_t ncomp = itag[1], count = itag[2];
  if (strcmp(name, want) != 0 || acc->found) return skip_section(r, "ElementData");
  if (ncomp != 3)
    return MSH_FAIL(r, "element data \"%s\" has %lld components; expected 3 (a vector field)", name, (long long)ncomp);
  size_t idsize = r->version < 3 ? 4 : 8;
  TMSF_CALL(check_count(r, count, r->binary ? idsize + 24 : 8, "element data record"));
  acc->ids = tmsf_malloc_array((size_t)count + 1, sizeof(int64_t));
  acc->v = tmsf_malloc_array((size_t)count * 3 + 1, sizeof(double));
  if (!acc->ids || !acc->v) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
  if (r->binary) TMSF_CALL(end_header_line(r));
  for (int64_t i = 0; i < count; i++) {
    if (r->binary) {
      if (idsize == 4) {
        int32_t id = 0;
        TMSF_CALL(bin_i32(r, &id, "an element data record"));
        acc->ids[i] = id;
      } else {
        uint64_t id = 0;
        TMSF_CALL(bin_u64(r, &id, "an element data record"));
        acc->ids[i] = id > INT64_MAX ? -1 : (int64_t)id;
      }
      TMSF_CALL(bin_read(r, acc->v + 3 * i, 8, 3, "an element data record"));
    } else {
      TMSF_CALL(read_i64(r, &acc->ids[i], "element id"));
      for (int c = 0; c < 3; c++) TMSF_CALL(read_f64(r, &acc->v[3 * i + c], "element data value"));
    }
  }
  acc->n = count;
  acc->found = 1;
  TMSF_CALL(expect_keyword(r, "$EndElementData"));
  r->section = NULL;
  return TMSF_SUCCESS;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* E of the tetrahedra (3 per tet, in the mesh's order: increasing element
 * id, as tmsf_msh_read numbers them) from the element data "name". */
static int msh_read_tet_vectors(tmsf_context *ctx, const char *origin, const unsigned char *data, size_t size,
                                const char *name, int64_t num_tets, double *out) {
  reader r = {.ctx = ctx, .origin = origin, .begin = data, .p = data, .end = data + size, .line = 1};
  elems el = {0};
  entities es = {0};
  data_acc acc = {0};
  int have_format = 0, have_elements = 0, ierr = TMSF_SUCCESS;
  for (;;) {
    skip_ws(&r);
    if (r.p >= r.end) break;
    char sec[64];
    size_t n = token(&r, sec, sizeof(sec));
    if (sec[0] != '$' || n >= sizeof(sec)) {
      char d[TOKEN_DESC_LEN];
      describe_token(sec, n, d, sizeof(d));
      ierr = MSH_FAIL(&r, "expected a section such as $ElementData, found %s", d);
      break;
    }
    if (!have_format && strcmp(sec, "$MeshFormat") != 0) {
      ierr = MSH_FAIL(&r, "expected $MeshFormat as the first section");
      break;
    }
    if (strcmp(sec, "$MeshFormat") == 0 && !have_format) {
      ierr = read_mesh_format(&r);
      have_format = 1;
    } else if (strcmp(sec, "$Entities") == 0 && r.version >= 4) {
      ierr = read_entities_v4(&r, &es);
    } else if (strcmp(sec, "$Elements") == 0 && !have_elements) {
      ierr = r.version < 3 ? read_elements_v2(&r, &el) : read_elements_v4(&r, &el, &es);
      have_elements = 1;
    } else if (strcmp(sec, "$ElementData") == 0) {
      ierr = read_element_data(&r, name, &acc);
    } else {
      ierr = skip_section(&r, sec + 1);
    }
    if (ierr) break;
  }
  r.section = NULL;
  if (!ierr && !have_elements) ierr = MSH_FAIL(&r, "no $Elements section");
  if (!ierr && !acc.found)
    ierr = TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND,
                      "%s: no $ElementData named \"%s\" (a field written by 'tmsfield simulate "
                      "--out' or SimNIBS has one)",
                      origin, name);
  if (!ierr && el.ntet != num_tets)
    ierr = TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "%s: %lld tetrahedra in the file, %lld in the mesh; expected the mesh read "
                      "from this file",
                      origin, (long long)el.ntet, (long long)num_tets);
  if (!ierr) {
    int64_t *ids = el.tet_rec;
    qsort(ids, (size_t)el.ntet, sizeof(int64_t), cmp_i64);
    unsigned char *seen = calloc((size_t)num_tets + 1, 1);
    if (!seen) ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
    for (int64_t i = 0; !ierr && i < acc.n; i++) {
      int64_t lo = 0, hi = el.ntet - 1, id = acc.ids[i], at = -1;
      while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ids[mid] == id) {
          at = mid;
          break;
        }
        if (ids[mid] < id) lo = mid + 1;
        else hi = mid - 1;
      }
      if (at < 0) continue; /* a triangle's value */
      memcpy(out + 3 * at, acc.v + 3 * i, 3 * sizeof(double));
      seen[at] = 1;
    }
    for (int64_t e = 0; !ierr && e < num_tets; e++)
      if (!seen[e])
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                          "%s: section $ElementData \"%s\" has no value for tetrahedron %lld; "
                          "expected one per tetrahedron",
                          origin, name, (long long)ids[e]);
    free(seen);
  }
  elems_free(&el);
  free(es.e);
  free(acc.ids);
  free(acc.v);
  return ierr;
}

int tmsf_msh_read_field_buffer(const tmsf_mesh *mesh, const char *origin, const unsigned char *data, size_t size,
                               tmsf_field **field) {
  *field = NULL;
  tmsf_context *ctx = mesh->ctx;
  tmsf_field *f = NULL;
  int ierr = tmsf_field_alloc(ctx, mesh, &f);
  if (!ierr) ierr = msh_read_tet_vectors(ctx, origin, data, size, "E", mesh->num_tets, f->E);
  if (!ierr) ierr = tmsf_mesh_tet_conductivities(mesh, f->sigma);
  if (ierr) {
    tmsf_field_destroy(&f);
    return ierr;
  }
  for (int64_t i = 0; i < mesh->num_nodes; i++) f->phi[i] = NAN;
  f->didt = NAN;
  *field = f;
  return TMSF_SUCCESS;
}

int tmsf_field_read_msh(const tmsf_mesh *mesh, const char *path, tmsf_field **field) {
  if (!field) return TMSF_ERR_ARGUMENT;
  *field = NULL;
  if (!mesh) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "tmsf_field_read_msh: mesh is NULL");
  tmsf_context *ctx = mesh->ctx;
  if (!path || !*path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_field_read_msh: empty path");
  unsigned char *data;
  size_t size;
  TMSF_CALL(tmsf_file_read_all(ctx, path, &data, &size));
  int ierr = tmsf_msh_read_field_buffer(mesh, path, data, size, field);
  free(data);
  return ierr;
}

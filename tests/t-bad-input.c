/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-bad-input.c: bad input files and poses — truncated, corrupt and inconsistent
 * .msh (2.2/4.1, ASCII/binary), .ccd and NIfTI files derived at run time from
 * the real test data, and non-rigid poses.  Each must fail with the right status
 * and a message naming the file, the place and what was expected, without the
 * library printing anything.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-common.h"

#if TMSF_HAVE_NIFTI
#include <zlib.h>
#endif

/* ------------------------------------------------------------------------- */
/* Buffers and files                                                         */
/* ------------------------------------------------------------------------- */

typedef struct buf {
  unsigned char *d;
  size_t n, cap;
} buf;

static void buf_reserve(buf *b, size_t extra) {
  if (b->n + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->n + extra + 1) cap *= 2;
  unsigned char *d = realloc(b->d, cap);
  if (!d) {
    fprintf(stderr, "FATAL: out of memory\n");
    exit(1);
  }
  b->d = d;
  b->cap = cap;
}

static void buf_add(buf *b, const void *p, size_t n) {
  buf_reserve(b, n);
  memcpy(b->d + b->n, p, n);
  b->n += n;
  b->d[b->n] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void buf_printf(buf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(tmp)) {
    fprintf(stderr, "FATAL: buf_printf overflow\n");
    exit(1);
  }
  buf_add(b, tmp, (size_t)n);
}

static buf buf_copy(const unsigned char *d, size_t n) {
  buf b = {0};
  buf_add(&b, d, n);
  return b;
}

/* Replace [off, off + len) with the string s. */
static buf buf_splice(const buf *src, size_t off, size_t len, const char *s) {
  buf b = {0};
  buf_add(&b, src->d, off);
  buf_add(&b, s, strlen(s));
  buf_add(&b, src->d + off + len, src->n - off - len);
  return b;
}

static buf read_whole(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "FATAL: cannot open %s: %s\n", path, strerror(errno));
    exit(1);
  }
  buf b = {0};
  unsigned char tmp[65536];
  size_t n;
  while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) buf_add(&b, tmp, n);
  fclose(f);
  return b;
}

#if TMSF_HAVE_NIFTI
/* Uncompressed content of a gzip file. */
static buf gunzip_file(const char *path) {
  gzFile g = gzopen(path, "rb");
  if (!g) {
    fprintf(stderr, "FATAL: cannot open %s\n", path);
    exit(1);
  }
  buf b = {0};
  unsigned char tmp[65536];
  int n;
  while ((n = gzread(g, tmp, sizeof(tmp))) > 0) buf_add(&b, tmp, (size_t)n);
  gzclose(g);
  return b;
}
#endif

static char tmp_dir[4096];

static const char *tmp_file(const char *name) {
  static char path[8][4200];
  static int k = 0;
  k = (k + 1) % 8;
  snprintf(path[k], sizeof(path[k]), "%s/%s", tmp_dir, name);
  return path[k];
}

static const char *write_tmp(const char *name, const unsigned char *d, size_t n) {
  const char *path = tmp_file(name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
    fprintf(stderr, "FATAL: cannot write %s\n", path);
    exit(1);
  }
  return path;
}

#if TMSF_HAVE_NIFTI
static const char *write_tmp_gz(const char *name, const unsigned char *d, size_t n) {
  const char *path = tmp_file(name);
  gzFile g = gzopen(path, "wb");
  if (!g || gzwrite(g, d, (unsigned)n) != (int)n || gzclose(g) != Z_OK) {
    fprintf(stderr, "FATAL: cannot write %s\n", path);
    exit(1);
  }
  return path;
}
#endif

/* First occurrence of pat in [from, n) of b; SIZE_MAX if none. */
static size_t find(const buf *b, size_t from, const char *pat) {
  size_t pl = strlen(pat);
  for (size_t i = from; i + pl <= b->n; i++)
    if (memcmp(b->d + i, pat, pl) == 0) return i;
  return SIZE_MAX;
}

static size_t must_find(const buf *b, size_t from, const char *pat) {
  size_t i = find(b, from, pat);
  if (i == SIZE_MAX) {
    fprintf(stderr, "FATAL: '%s' not found in test data\n", pat);
    exit(1);
  }
  return i;
}

/* 1-based line number of byte offset off. */
static long line_of(const buf *b, size_t off) {
  long line = 1;
  for (size_t i = 0; i < off && i < b->n; i++) line += b->d[i] == '\n';
  return line;
}

/* Offset of the start of 1-based line `line`. */
static size_t line_start(const buf *b, long line) {
  size_t i = 0;
  for (long l = 1; l < line; l++) {
    while (i < b->n && b->d[i] != '\n') i++;
    i++;
  }
  return i;
}

/* ------------------------------------------------------------------------- */
/* The library must print nothing: fds 1 and 2 go to a file around calls.   */
/* ------------------------------------------------------------------------- */

static int capture_fd = -1, saved_out = -1, saved_err = -1;
static off_t capture_seen = 0;

static void quiet_begin(void) {
  fflush(stdout);
  fflush(stderr);
  saved_out = dup(1);
  saved_err = dup(2);
  dup2(capture_fd, 1);
  dup2(capture_fd, 2);
}

/* Restore fds 1 and 2; returns the number of bytes written meanwhile. */
static off_t quiet_restore(void) {
  fflush(stdout);
  fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  struct stat st;
  if (fstat(capture_fd, &st) != 0) return -1;
  return st.st_size - capture_seen;
}

static void quiet_end(const char *what) {
  off_t printed = quiet_restore();
  CHECK(printed >= 0, "%s: cannot stat the capture file", what);
  if (printed > 0) {
    char text[400] = "";
    ssize_t got = pread(capture_fd, text, sizeof(text) - 1, capture_seen);
    if (got > 0) text[got] = '\0';
    CHECK(printed == 0, "%s: the library printed %lld bytes: %s", what, (long long)printed, text);
    capture_seen += printed;
  }
}

/* ------------------------------------------------------------------------- */
/* Expectations                                                              */
/* ------------------------------------------------------------------------- */

/* Words of a message check: every entry of all[] must occur, and, when any[]
 * has entries, at least one of them. */
#define MAXW 6
typedef struct words {
  const char *all[MAXW];
  const char *any[MAXW];
} words;

static void check_message(const char *what, const char *msg, const char *file, const words *w) {
  CHECK(msg && *msg, "%s: empty error message", what);
  if (!msg) return;
  if (file) CHECK(strstr(msg, file) != NULL, "%s: message does not name %s: %s", what, file, msg);
  for (int i = 0; i < MAXW && w->all[i]; i++)
    CHECK(strstr(msg, w->all[i]) != NULL, "%s: message lacks '%s': %s", what, w->all[i], msg);
  if (w->any[0]) {
    int hit = 0;
    for (int i = 0; i < MAXW && w->any[i]; i++) hit |= strstr(msg, w->any[i]) != NULL;
    CHECK(hit, "%s: message has none of '%s', '%s', ...: %s", what, w->any[0],
          w->any[1] ? w->any[1] : "", msg);
  }
}

static int verbose = 0;

static void expect_mesh_fail(tmsf_context *ctx, const char *name, const buf *data, int status,
                             words w) {
  const char *path = write_tmp(name, data->d, data->n);
  tmsf_mesh *mesh = (tmsf_mesh *)&mesh; /* must be overwritten */
  tmsf_context_clear_error(ctx);
  quiet_begin();
  int ierr = tmsf_mesh_read(ctx, path, &mesh);
  quiet_end(name);
  const char *msg = tmsf_context_last_error(ctx);
  if (verbose) printf("%-34s %d %s\n", name, ierr, msg);
  CHECK(ierr == status, "%s: status %d (%s), want %d (%s): %s", name, ierr, tmsf_status_string(ierr),
        status, tmsf_status_string(status), msg);
  CHECK(mesh == NULL, "%s: failed read left a mesh", name);
  if (ierr == TMSF_SUCCESS) tmsf_mesh_destroy(&mesh);
  check_message(name, msg, name, &w);
}

static void expect_coil_fail(tmsf_context *ctx, const char *name, const char *path, int status,
                             words w) {
  tmsf_coil *coil = (tmsf_coil *)&coil;
  tmsf_context_clear_error(ctx);
  quiet_begin();
  int ierr = tmsf_coil_read(ctx, path, &coil);
  quiet_end(name);
  const char *msg = tmsf_context_last_error(ctx);
  if (verbose) printf("%-34s %d %s\n", name, ierr, msg);
  CHECK(ierr == status, "%s: status %d (%s), want %d (%s): %s", name, ierr, tmsf_status_string(ierr),
        status, tmsf_status_string(status), msg);
  CHECK(coil == NULL, "%s: failed read left a coil", name);
  if (ierr == TMSF_SUCCESS) tmsf_coil_destroy(&coil);
  check_message(name, msg, name, &w);
}

static void expect_ccd_fail(tmsf_context *ctx, const char *name, const buf *data, int status, words w) {
  expect_coil_fail(ctx, name, write_tmp(name, data->d, data->n), status, w);
}

static void expect_mesh_ok(tmsf_context *ctx, const char *name, const buf *data, int64_t nn,
                           int64_t ne) {
  const char *path = write_tmp(name, data->d, data->n);
  tmsf_mesh *mesh = NULL;
  quiet_begin();
  int ierr = tmsf_mesh_read(ctx, path, &mesh);
  quiet_end(name);
  CHECK(ierr == TMSF_SUCCESS, "%s: control read failed: %s", name, tmsf_context_last_error(ctx));
  if (ierr) return;
  int64_t a = 0, b = 0;
  tmsf_mesh_get_sizes(mesh, &a, &b, NULL);
  CHECK(a == nn && b == ne, "%s: %lld nodes %lld tets, want %lld %lld", name, (long long)a,
        (long long)b, (long long)nn, (long long)ne);
  tmsf_mesh_destroy(&mesh);
}

/* ":LINE:" as the reader writes it after the file name. */
static const char *line_tag(long line) {
  static char s[8][32];
  static int k = 0;
  k = (k + 1) % 8;
  snprintf(s[k], sizeof(s[k]), ":%ld:", line);
  return s[k];
}

static const char *num(long long v) {
  static char s[8][32];
  static int k = 0;
  k = (k + 1) % 8;
  snprintf(s[k], sizeof(s[k]), "%lld", v);
  return s[k];
}

/* ------------------------------------------------------------------------- */
/* Gmsh 2.2 ASCII written here from a mesh read from the real file           */
/* ------------------------------------------------------------------------- */

typedef struct v22_edit {
  int64_t node_count_delta;  /* announced nodes = real + delta */
  int64_t elem_count_delta;  /* announced elements = real + delta */
  int64_t nan_node;          /* node index whose y is written as nan, or -1 */
  int64_t garbage_node;      /* node index whose x is written as a garbage token, or -1 */
  int64_t bad_ref_tet;       /* tet index whose third node is 999999, or -1 */
  int64_t swap_tet;          /* tet index with its first two nodes swapped, or -1 */
  int64_t tag42_tet;         /* tet index tagged 42, or -1 */
  int degenerate_extra;      /* append a tetrahedron on four coplanar nodes */
} v22_edit;

static const v22_edit v22_none = {0, 0, -1, -1, -1, -1, -1, 0};

typedef struct mesh_arrays {
  int64_t nn, ne, nt;
  const double *x;
  const int32_t *tet, *tet_tag, *tri, *tri_tag;
} mesh_arrays;

static buf write_v22_ascii(const mesh_arrays *m, v22_edit e) {
  buf b = {0};
  int64_t nn = m->nn + (e.degenerate_extra ? 1 : 0);
  int64_t nel = m->nt + m->ne + (e.degenerate_extra ? 1 : 0);
  buf_printf(&b, "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Nodes\n%lld\n",
             (long long)(nn + e.node_count_delta));
  for (int64_t i = 0; i < m->nn; i++) {
    const double *x = m->x + 3 * i;
    if (i == e.garbage_node)
      buf_printf(&b, "%lld 1.5e+x3 %.17g %.17g\n", (long long)i + 1, x[1] * 1e3, x[2] * 1e3);
    else if (i == e.nan_node)
      buf_printf(&b, "%lld %.17g nan %.17g\n", (long long)i + 1, x[0] * 1e3, x[2] * 1e3);
    else
      buf_printf(&b, "%lld %.17g %.17g %.17g\n", (long long)i + 1, x[0] * 1e3, x[1] * 1e3, x[2] * 1e3);
  }
  if (e.degenerate_extra) {
    /* In the plane of the first tetrahedron's first three nodes. */
    const int32_t *t = m->tet;
    double p[3];
    for (int c = 0; c < 3; c++)
      p[c] = 1e3 * (m->x[3 * t[1] + c] + m->x[3 * t[2] + c] - m->x[3 * t[0] + c]);
    buf_printf(&b, "%lld %.17g %.17g %.17g\n", (long long)m->nn + 1, p[0], p[1], p[2]);
  }
  buf_printf(&b, "$EndNodes\n$Elements\n%lld\n", (long long)(nel + e.elem_count_delta));
  for (int64_t i = 0; i < m->nt; i++) {
    const int32_t *t = m->tri + 3 * i;
    buf_printf(&b, "%lld 2 2 %d %d %d %d %d\n", (long long)i + 1, m->tri_tag[i], m->tri_tag[i],
               t[0] + 1, t[1] + 1, t[2] + 1);
  }
  for (int64_t i = 0; i < m->ne; i++) {
    int32_t t[4] = {m->tet[4 * i] + 1, m->tet[4 * i + 1] + 1, m->tet[4 * i + 2] + 1, m->tet[4 * i + 3] + 1};
    int32_t tag = i == e.tag42_tet ? 42 : m->tet_tag[i];
    if (i == e.bad_ref_tet) t[2] = 999999;
    if (i == e.swap_tet) {
      int32_t s = t[0];
      t[0] = t[1];
      t[1] = s;
    }
    buf_printf(&b, "%lld 4 2 %d %d %d %d %d %d\n", (long long)(m->nt + i + 1), tag, tag, t[0], t[1],
               t[2], t[3]);
  }
  if (e.degenerate_extra)
    buf_printf(&b, "%lld 4 2 %d %d %d %d %d %d\n", (long long)(m->nt + m->ne + 1), m->tet_tag[0],
               m->tet_tag[0], m->tet[0] + 1, m->tet[1] + 1, m->tet[2] + 1, (int)m->nn + 1);
  buf_printf(&b, "$EndElements\n");
  return b;
}

/* ------------------------------------------------------------------------- */
/* Meshes                                                                    */
/* ------------------------------------------------------------------------- */

static const words W_TRUNC_NODES = {.all = {"$Nodes"}, .any = {"end of file", "file ends", "cannot fit", "$EndNodes"}};
static const words W_TRUNC_ELEMS = {.all = {"$Elements"}, .any = {"end of file", "file ends", "cannot fit", "$EndElements"}};

/* Cut a file in the middle of $Nodes and in the middle of $Elements. */
static void truncations(tmsf_context *ctx, const char *fmt, const buf *src) {
  char name[128];
  size_t a = must_find(src, 0, "$Nodes"), b = must_find(src, a, "$EndNodes");
  buf cut = buf_copy(src->d, a + (b - a) / 2);
  snprintf(name, sizeof(name), "trunc-nodes-%s.msh", fmt);
  expect_mesh_fail(ctx, name, &cut, TMSF_ERR_FORMAT, W_TRUNC_NODES);
  free(cut.d);
  a = must_find(src, 0, "$Elements"), b = must_find(src, a, "$EndElements");
  cut = buf_copy(src->d, a + (b - a) / 2);
  snprintf(name, sizeof(name), "trunc-elements-%s.msh", fmt);
  expect_mesh_fail(ctx, name, &cut, TMSF_ERR_FORMAT, W_TRUNC_ELEMS);
  free(cut.d);
  /* just before the end markers: the last record is incomplete */
  a = must_find(src, 0, "$EndNodes");
  cut = buf_copy(src->d, a - 3);
  snprintf(name, sizeof(name), "trunc-lastnode-%s.msh", fmt);
  expect_mesh_fail(ctx, name, &cut, TMSF_ERR_FORMAT, W_TRUNC_NODES);
  free(cut.d);
  /* a file that stops right after $MeshFormat */
  a = must_find(src, 0, "$EndMeshFormat");
  cut = buf_copy(src->d, a + strlen("$EndMeshFormat\n"));
  snprintf(name, sizeof(name), "trunc-header-%s.msh", fmt);
  expect_mesh_fail(ctx, name, &cut, TMSF_ERR_FORMAT, (words){.all = {"$Nodes"}, .any = {"no"}});
  free(cut.d);
}

static void mesh_cases(tmsf_context *ctx) {
  buf v22b = read_whole(test_path("data/spheres/sphere3.msh"));
  buf v41a = read_whole(test_path("tests/data/sphere3_v4_1_ascii.msh"));
  buf v41b = read_whole(test_path("tests/data/sphere3_v4_1_binary.msh"));

  /* The 2.2 ASCII variant is written here from the mesh in sphere3.msh. */
  tmsf_mesh *ref = NULL;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &ref));
  mesh_arrays m;
  tmsf_mesh_get_sizes(ref, &m.nn, &m.ne, &m.nt);
  tmsf_mesh_get_nodes(ref, &m.x);
  tmsf_mesh_get_tetrahedra(ref, &m.tet, &m.tet_tag);
  tmsf_mesh_get_triangles(ref, &m.tri, &m.tri_tag);
  buf v22a = write_v22_ascii(&m, v22_none);

  /* Controls: the unmodified files read. */
  expect_mesh_ok(ctx, "control-v22a.msh", &v22a, m.nn, m.ne);
  expect_mesh_ok(ctx, "control-v22b.msh", &v22b, m.nn, m.ne);
  expect_mesh_ok(ctx, "control-v41a.msh", &v41a, m.nn, m.ne);
  expect_mesh_ok(ctx, "control-v41b.msh", &v41b, m.nn, m.ne);

  /* Truncated, each format. */
  truncations(ctx, "v22a", &v22a);
  truncations(ctx, "v22b", &v22b);
  truncations(ctx, "v41a", &v41a);
  truncations(ctx, "v41b", &v41b);
  {
    buf empty = {0};
    buf_add(&empty, "", 0);
    expect_mesh_fail(ctx, "empty.msh", &empty, TMSF_ERR_FORMAT, (words){.all = {"$MeshFormat"}});
    free(empty.d);
  }

  /* A garbage token in place of a number (ASCII 4.1: a node coordinate; the
   * message gives its line). */
  {
    size_t a = must_find(&v41a, 0, "$Nodes");
    long l0 = line_of(&v41a, a) + 2; /* first node block header: dim tag param count */
    long long bdim, btag, bpar, bcount;
    if (sscanf((const char *)v41a.d + line_start(&v41a, l0), "%lld %lld %lld %lld", &bdim, &btag,
               &bpar, &bcount) != 4 || bcount < 20) {
      fprintf(stderr, "FATAL: unexpected first node block in the 4.1 file\n");
      exit(1);
    }
    long l = l0 + 1 + (long)bcount + 10; /* x of the block's 11th node */
    size_t s = line_start(&v41a, l);
    size_t e = s;
    while (e < v41a.n && v41a.d[e] != '\n' && v41a.d[e] != ' ') e++;
    buf g = buf_splice(&v41a, s, e - s, "12x4");
    expect_mesh_fail(ctx, "garbage-v41a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Nodes", "'12x4'", "expected", line_tag(l)}});
    free(g.d);
  }
  {
    v22_edit ed = v22_none;
    ed.garbage_node = 99;
    buf g = write_v22_ascii(&m, ed);
    expect_mesh_fail(ctx, "garbage-v22a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Nodes", "1.5e+x3", "expected a number", line_tag(6 + 99)}});
    free(g.d);
  }
  {
    /* the node count in the ASCII header of the 2.2 binary file */
    size_t a = must_find(&v22b, 0, "$Nodes\n") + 7;
    buf g = buf_splice(&v22b, a, 2, "4x");
    expect_mesh_fail(ctx, "garbage-count-v22b.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Nodes", "number of nodes", "expected an integer"}});
    free(g.d);
  }
  {
    /* the version */
    size_t a = must_find(&v41b, 0, "4.1");
    buf g = buf_splice(&v41b, a, 3, "7.0");
    expect_mesh_fail(ctx, "version-v41b.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$MeshFormat", "7", "expected 2.2 or 4.1"}});
    free(g.d);
  }

  /* A wrong section name: the start marker (no end marker matches) and the
   * end marker. */
  {
    size_t a = must_find(&v22b, 0, "$Nodes");
    buf g = buf_splice(&v22b, a, 6, "$Nodez");
    expect_mesh_fail(ctx, "section-start-v22b.msh", &g, TMSF_ERR_FORMAT, (words){.all = {"$EndNodez"}});
    free(g.d);
    a = must_find(&v41a, 0, "$EndElements");
    g = buf_splice(&v41a, a, 12, "$EndElementz");
    expect_mesh_fail(ctx, "section-end-v41a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Elements", "expected $EndElements", "$EndElementz"}});
    free(g.d);
    a = must_find(&v41b, 0, "$EndNodes");
    g = buf_splice(&v41b, a, 9, "$EndNodes_");
    expect_mesh_fail(ctx, "section-end-v41b.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Nodes", "expected $EndNodes"}});
    free(g.d);
    a = must_find(&v22a, 0, "$MeshFormat");
    g = buf_splice(&v22a, a, 11, "$MeshFromat");
    expect_mesh_fail(ctx, "section-format-v22a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$MeshFormat", "$MeshFromat", line_tag(1)}});
    free(g.d);
  }

  /* Counts that disagree with the records. */
  {
    v22_edit ed = v22_none;
    ed.node_count_delta = 1;
    buf g = write_v22_ascii(&m, ed);
    expect_mesh_fail(ctx, "more-nodes-v22a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Nodes", "node id", "$EndNodes", line_tag(6 + m.nn)}});
    free(g.d);
    ed = v22_none;
    ed.node_count_delta = -1;
    g = write_v22_ascii(&m, ed);
    expect_mesh_fail(ctx, "fewer-nodes-v22a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Nodes", "expected $EndNodes", line_tag(6 + m.nn - 1)}});
    free(g.d);
    ed = v22_none;
    ed.elem_count_delta = 3;
    g = write_v22_ascii(&m, ed);
    expect_mesh_fail(ctx, "more-elements-v22a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Elements", "element id", "$EndElements"}});
    free(g.d);
    ed = v22_none;
    ed.elem_count_delta = -1;
    g = write_v22_ascii(&m, ed);
    expect_mesh_fail(ctx, "fewer-elements-v22a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Elements", "expected $EndElements"}});
    free(g.d);
  }
  {
    /* 4.1 ASCII: the $Nodes header announces one node more than the blocks hold */
    size_t a = must_find(&v41a, 0, "$Nodes\n") + 7;
    size_t e = must_find(&v41a, a, "\n");
    char hdr[128];
    long long nb, nn, lo, hi;
    if (sscanf((const char *)v41a.d + a, "%lld %lld %lld %lld", &nb, &nn, &lo, &hi) != 4) {
      fprintf(stderr, "FATAL: cannot parse the $Nodes header of the 4.1 file\n");
      exit(1);
    }
    snprintf(hdr, sizeof(hdr), "%lld %lld %lld %lld", nb, nn + 1, lo, hi);
    buf g = buf_splice(&v41a, a, e - a, hdr);
    expect_mesh_fail(ctx, "more-nodes-v41a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Nodes", num(nn), num(nn + 1), "announced"}});
    free(g.d);
    a = must_find(&v41a, 0, "$Elements\n") + 10;
    e = must_find(&v41a, a, "\n");
    if (sscanf((const char *)v41a.d + a, "%lld %lld %lld %lld", &nb, &nn, &lo, &hi) != 4) {
      fprintf(stderr, "FATAL: cannot parse the $Elements header of the 4.1 file\n");
      exit(1);
    }
    snprintf(hdr, sizeof(hdr), "%lld %lld %lld %lld", nb, nn - 1, lo, hi);
    g = buf_splice(&v41a, a, e - a, hdr);
    expect_mesh_fail(ctx, "fewer-elements-v41a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Elements", num(nn - 1), "announced"}});
    free(g.d);
  }
  {
    /* 2.2 binary: one node more than the records hold */
    size_t a = must_find(&v22b, 0, "$Nodes\n") + 7;
    size_t e = must_find(&v22b, a, "\n");
    char cnt[32];
    snprintf(cnt, sizeof(cnt), "%lld", (long long)m.nn + 1);
    buf g = buf_splice(&v22b, a, e - a, cnt);
    expect_mesh_fail(ctx, "more-nodes-v22b.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Nodes"}, .any = {"expected $EndNodes", "file ends", "cannot fit"}});
    free(g.d);
  }
  {
    v22_edit ed = v22_none;
    ed.bad_ref_tet = 7;
    buf g = write_v22_ascii(&m, ed);
    expect_mesh_fail(ctx, "missing-node-v22a.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Elements", "999999", "$Nodes", num(m.nt + 8)}});
    free(g.d);
  }

  /* Non-finite coordinates: ASCII nan and a binary NaN. */
  {
    v22_edit ed = v22_none;
    ed.nan_node = 41;
    buf g = write_v22_ascii(&m, ed);
    expect_mesh_fail(ctx, "nan-v22a.msh", &g, TMSF_ERR_MESH,
                     (words){.all = {"node 42", "non-finite", "expected finite"}});
    free(g.d);
    size_t a = must_find(&v22b, 0, "$Nodes\n") + 7;
    a = must_find(&v22b, a, "\n") + 1;
    buf gb = buf_copy(v22b.d, v22b.n);
    double nan = NAN;
    memcpy(gb.d + a + 10 * 28 + 4 + 8, &nan, 8); /* node 11, y */
    expect_mesh_fail(ctx, "nan-v22b.msh", &gb, TMSF_ERR_MESH,
                     (words){.all = {"node 11", "non-finite", "expected finite"}});
    free(gb.d);
  }

  /* Inverted and degenerate tetrahedra. */
  {
    v22_edit ed = v22_none;
    ed.swap_tet = 123;
    buf g = write_v22_ascii(&m, ed);
    expect_mesh_fail(ctx, "inverted-v22a.msh", &g, TMSF_ERR_MESH,
                     (words){.all = {"tetrahedron", num(m.nt + 124), "inverted", "expected"}});
    free(g.d);
    ed = v22_none;
    ed.degenerate_extra = 1;
    g = write_v22_ascii(&m, ed);
    expect_mesh_fail(ctx, "degenerate-v22a.msh", &g, TMSF_ERR_MESH,
                     (words){.all = {"tetrahedron", num(m.nt + m.ne + 1), "degenerate", "expected"}});
    free(g.d);
  }

  /* A tissue tag without a conductivity: the read succeeds, the setup fails. */
  {
    v22_edit ed = v22_none;
    ed.tag42_tet = 5;
    buf g = write_v22_ascii(&m, ed);
    const char *path = write_tmp("tag42-v22a.msh", g.d, g.n);
    free(g.d);
    tmsf_mesh *mesh = NULL;
    tmsf_simulation *sim = NULL;
    quiet_begin();
    int ierr = tmsf_mesh_read(ctx, path, &mesh);
    int ierr2 = ierr ? ierr : tmsf_simulation_create(ctx, mesh, &sim);
    int ierr3 = ierr2 ? ierr2 : tmsf_simulation_setup(sim);
    quiet_end("tag42");
    CHECK(ierr == TMSF_SUCCESS && ierr2 == TMSF_SUCCESS, "tag 42 mesh: read/create failed: %s",
          tmsf_context_last_error(ctx));
    CHECK(ierr3 == TMSF_ERR_CONDUCTIVITY, "tag 42: setup status %d, want TMSF_ERR_CONDUCTIVITY: %s",
          ierr3, tmsf_context_last_error(ctx));
    check_message("tag42", tmsf_context_last_error(ctx), NULL, &(words){.all = {"tag 42", "1 tetrahedra", "conductivity"}});
    /* with a conductivity for it the setup works */
    if (mesh && sim) {
      CHECK_OK(ctx, tmsf_mesh_set_conductivity(mesh, 42, 0.3));
      CHECK_OK(ctx, tmsf_simulation_setup(sim));
    }
    tmsf_simulation_destroy(&sim);
    tmsf_mesh_destroy(&mesh);
  }

  /* 4.1 binary: an element block with an unknown element type, and a node
   * block header with an absurd node count (checked against the bytes left). */
  {
    size_t a = must_find(&v41b, 0, "$Elements\n") + 10 + 32; /* first block header */
    buf g = buf_copy(v41b.d, v41b.n);
    int32_t type = 77;
    memcpy(g.d + a + 8, &type, 4);
    expect_mesh_fail(ctx, "elemtype-v41b.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Elements", "byte", "77", "expected a Gmsh type"}});
    free(g.d);
    a = must_find(&v41b, 0, "$Nodes\n") + 7;
    g = buf_copy(v41b.d, v41b.n);
    uint64_t huge = UINT64_C(1) << 60;
    memcpy(g.d + a + 8, &huge, 8);
    expect_mesh_fail(ctx, "nodecount-v41b.msh", &g, TMSF_ERR_FORMAT,
                     (words){.all = {"$Nodes", "byte", num((long long)huge), "cannot fit"}});
    free(g.d);
  }

  free(v22a.d);
  free(v22b.d);
  free(v41a.d);
  free(v41b.d);
  tmsf_mesh_destroy(&ref);
}

/* ------------------------------------------------------------------------- */
/* .ccd coils                                                                */
/* ------------------------------------------------------------------------- */

static void ccd_cases(tmsf_context *ctx) {
  buf src = read_whole(test_path("data/coils/Magstim_70mm_Fig8.ccd"));
  {
    tmsf_coil *c = NULL;
    CHECK_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &c));
    int64_t nd = 0;
    if (c) tmsf_coil_get_num_dipoles(c, &nd);
    CHECK(nd == 2712, "control: %lld dipoles, want 2712", (long long)nd);
    tmsf_coil_destroy(&c);
  }
  /* Truncated at a line end (too few rows) and inside a row (too few values). */
  {
    size_t cut = line_start(&src, 1003); /* 999 rows kept */
    buf g = buf_copy(src.d, cut);
    expect_ccd_fail(ctx, "trunc-rows.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {"999 dipole rows", "2712", "announced"}});
    free(g.d);
    cut = line_start(&src, 1003) + 40;
    g = buf_copy(src.d, cut);
    expect_ccd_fail(ctx, "trunc-mid-row.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(1003), "dipole 1000", "expected 6"}});
    free(g.d);
    g = buf_copy(src.d, 20);
    expect_ccd_fail(ctx, "trunc-header.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {"number of dipoles"}, .any = {"ends", "expected"}});
    free(g.d);
    g = buf_copy(src.d, 0);
    expect_ccd_fail(ctx, "empty.ccd", &g, TMSF_ERR_FORMAT, (words){.all = {":1:", "header", "empty"}});
    free(g.d);
  }
  /* Counts: larger than the rows, absurdly large, smaller than the rows. */
  {
    size_t a = must_find(&src, 0, "\n2712\n") + 1;
    buf g = buf_splice(&src, a, 4, "2713");
    expect_ccd_fail(ctx, "count-plus-one.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {"2712 dipole rows", "2713", "announced"}});
    free(g.d);
    g = buf_splice(&src, a, 4, "99999999");
    expect_ccd_fail(ctx, "count-huge.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(2), "99999999", "cannot hold"}});
    free(g.d);
    g = buf_splice(&src, a, 4, "2711");
    expect_ccd_fail(ctx, "count-minus-one.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(2715), "more dipole rows", "2711"}});
    free(g.d);
    g = buf_splice(&src, a, 4, "27x2");
    expect_ccd_fail(ctx, "count-garbage.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(2), "number of dipoles", "27x2"}});
    free(g.d);
    g = buf_splice(&src, a, 4, "-5");
    expect_ccd_fail(ctx, "count-negative.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(2), "positive integer", "-5"}});
    free(g.d);
  }
  /* Rows: a non-number, five values, seven values, NaN, inf. */
  {
    size_t s = line_start(&src, 13); /* dipole 10 */
    size_t e = must_find(&src, s, " ");
    buf g = buf_splice(&src, s, e - s, "0.0x1");
    expect_ccd_fail(ctx, "row-garbage.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(13), "dipole 10", "'0.0x1'", "finite number"}});
    free(g.d);
    g = buf_splice(&src, s, e - s + 1, "");
    expect_ccd_fail(ctx, "row-five.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(13), "dipole 10", "5 values", "expected 6"}});
    free(g.d);
    g = buf_splice(&src, s, 0, "1e-3 ");
    expect_ccd_fail(ctx, "row-seven.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(13), "dipole 10", "more than 6", "expected 6"}});
    free(g.d);
    g = buf_splice(&src, s, e - s, "nan");
    expect_ccd_fail(ctx, "row-nan.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(13), "dipole 10", "'nan'", "finite"}});
    free(g.d);
    g = buf_splice(&src, s, e - s, "-inf");
    expect_ccd_fail(ctx, "row-inf.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(13), "'-inf'", "finite"}});
    free(g.d);
    g = buf_splice(&src, s, e - s, "1e999");
    expect_ccd_fail(ctx, "row-overflow.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(13), "'1e999'", "finite"}});
    free(g.d);
  }
  /* Header: missing, a field without '=', a bad dIdtmax, NUL bytes. */
  {
    size_t e = must_find(&src, 0, "\n") + 1;
    buf g = buf_splice(&src, 0, e, "");
    expect_ccd_fail(ctx, "no-header.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(1), "header", "'#'"}});
    free(g.d);
    g = buf_splice(&src, e - 1, 0, "; dIdtmax");
    expect_ccd_fail(ctx, "header-noeq.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(1), "dIdtmax", "key=value"}});
    free(g.d);
    g = buf_splice(&src, e - 1, 0, "; dIdtmax=-3");
    expect_ccd_fail(ctx, "header-didt.ccd", &g, TMSF_ERR_FORMAT,
                    (words){.all = {line_tag(1), "dIdtmax='-3'", "positive number"}});
    free(g.d);
    g = buf_copy(src.d, src.n);
    g.d[500] = '\0';
    expect_ccd_fail(ctx, "nul.ccd", &g, TMSF_ERR_FORMAT, (words){.all = {"NUL", "expected"}});
    free(g.d);
  }
  /* A missing file. */
  expect_coil_fail(ctx, "missing.ccd", tmp_file("missing.ccd"), TMSF_ERR_IO, (words){.all = {"cannot"}});
  free(src.d);
}

/* ------------------------------------------------------------------------- */
/* NIfTI coils                                                               */
/* ------------------------------------------------------------------------- */

static void nifti_cases(tmsf_context *ctx) {
#if TMSF_HAVE_NIFTI
  buf raw = gunzip_file(test_path("tests/data/testcoil.nii.gz"));
  int32_t sizeof_hdr;
  memcpy(&sizeof_hdr, raw.d, 4);
  if (sizeof_hdr != 348 || raw.n < 352) {
    fprintf(stderr, "FATAL: testcoil.nii.gz is not a little-endian NIfTI-1 file\n");
    exit(1);
  }
  /* Controls: the uncompressed copy and a recompressed copy read. */
  {
    const char *p1 = write_tmp("control.nii", raw.d, raw.n);
    const char *p2 = write_tmp_gz("control.nii.gz", raw.d, raw.n);
    tmsf_coil *c = NULL;
    quiet_begin();
    int e1 = tmsf_coil_read(ctx, p1, &c);
    tmsf_coil_destroy(&c);
    int e2 = tmsf_coil_read(ctx, p2, &c);
    tmsf_coil_destroy(&c);
    quiet_end("nifti controls");
    CHECK(e1 == TMSF_SUCCESS && e2 == TMSF_SUCCESS, "NIfTI controls: %d %d: %s", e1, e2,
          tmsf_context_last_error(ctx));
  }
  /* Cut files: inside the voxel data (.nii and .nii.gz) and inside the header. */
  {
    expect_coil_fail(ctx, "trunc-data.nii", write_tmp("trunc-data.nii", raw.d, raw.n / 2),
                     TMSF_ERR_FORMAT, (words){.all = {"voxel data", "truncated", "header announces"}});
    buf gz = read_whole(test_path("tests/data/testcoil.nii.gz"));
    expect_coil_fail(ctx, "trunc-data.nii.gz", write_tmp("trunc-data.nii.gz", gz.d, gz.n / 2),
                     TMSF_ERR_FORMAT, (words){.all = {"voxel data", "truncated", "header announces"}});
    expect_coil_fail(ctx, "trunc-gzheader.nii.gz", write_tmp("trunc-gzheader.nii.gz", gz.d, 30),
                     TMSF_ERR_FORMAT, (words){.all = {"NIfTI", "header", "expected"}});
    free(gz.d);
    buf big = read_whole(test_path("tests/data/Magstim_70mm_Fig8.nii.gz"));
    expect_coil_fail(ctx, "trunc-magstim.nii.gz",
                     write_tmp("trunc-magstim.nii.gz", big.d, big.n - big.n / 3), TMSF_ERR_FORMAT,
                     (words){.all = {"voxel data", "truncated"}});
    free(big.d);
    expect_coil_fail(ctx, "trunc-header.nii", write_tmp("trunc-header.nii", raw.d, 200),
                     TMSF_ERR_FORMAT, (words){.all = {"NIfTI", "header", "expected"}});
    buf junk = buf_copy(raw.d, raw.n);
    memset(junk.d, 'x', 348);
    expect_coil_fail(ctx, "junk-header.nii", write_tmp("junk-header.nii", junk.d, junk.n),
                     TMSF_ERR_FORMAT, (words){.all = {"NIfTI", "header", "expected"}});
    free(junk.d);
  }
  /* Wrong dimensions: a 3-D label-like image (X x Y x Z, uint8), written both
   * plain and gzipped; and X x Y x Z x 2. */
  {
    buf g = buf_copy(raw.d, 352 + 21 * 21 * 21);
    int16_t dim[8] = {3, 21, 21, 21, 1, 1, 1, 1};
    int16_t dt[2] = {2 /* DT_UINT8 */, 8};
    memcpy(g.d + 40, dim, sizeof(dim));
    memcpy(g.d + 70, dt, sizeof(dt));
    for (size_t i = 352; i < g.n; i++) g.d[i] = (unsigned char)(i % 7);
    expect_coil_fail(ctx, "labels3d.nii", write_tmp("labels3d.nii", g.d, g.n), TMSF_ERR_FORMAT,
                     (words){.all = {"header", "21 x 21 x 21 x 1", "ndim 3", "expected X x Y x Z x 3"}});
    expect_coil_fail(ctx, "labels3d.nii.gz", write_tmp_gz("labels3d.nii.gz", g.d, g.n),
                     TMSF_ERR_FORMAT, (words){.all = {"header", "ndim 3", "expected X x Y x Z x 3"}});
    free(g.d);
    g = buf_copy(raw.d, raw.n);
    int16_t dim2[8] = {4, 21, 21, 21, 2, 1, 1, 1};
    memcpy(g.d + 40, dim2, sizeof(dim2));
    expect_coil_fail(ctx, "twocomp.nii", write_tmp("twocomp.nii", g.d, g.n), TMSF_ERR_FORMAT,
                     (words){.all = {"header", "21 x 21 x 21 x 2", "expected X x Y x Z x 3"}});
    free(g.d);
    g = buf_copy(raw.d, raw.n);
    int16_t dim3[8] = {4, 1, 21, 21, 3, 1, 1, 1};
    memcpy(g.d + 40, dim3, sizeof(dim3));
    expect_coil_fail(ctx, "flat.nii", write_tmp("flat.nii", g.d, g.n), TMSF_ERR_FORMAT,
                     (words){.all = {"header", "1 x 21 x 21 x 3", ">= 2"}});
    free(g.d);
  }
  /* A NaN and an infinite sample (float32 data): reported with the voxel, not
   * zeroed (the voxel data are read raw, niftilib's loader would zero them). */
  {
    buf g = buf_copy(raw.d, raw.n);
    float nanv = NAN, infv = INFINITY;
    size_t vox = 5 + 21 * (7 + 21 * 3); /* voxel (5, 7, 3), component 0 */
    memcpy(g.d + 352 + 4 * vox, &nanv, 4);
    expect_coil_fail(ctx, "nan.nii", write_tmp("nan.nii", g.d, g.n), TMSF_ERR_FORMAT,
                     (words){.all = {"voxel (5, 7, 3) component 0", "not finite"}});
    memcpy(g.d + 352 + 4 * vox, &raw.d[352 + 4 * vox], 4);
    memcpy(g.d + 352 + 4 * (vox + 2 * 21 * 21 * 21), &infv, 4);
    expect_coil_fail(ctx, "inf.nii.gz", write_tmp_gz("inf.nii.gz", g.d, g.n), TMSF_ERR_FORMAT,
                     (words){.all = {"voxel (5, 7, 3) component 2", "not finite"}});
    free(g.d);
  }
  /* An unsupported datatype (complex64). */
  {
    buf g = buf_copy(raw.d, raw.n);
    int16_t dt[2] = {32 /* DT_COMPLEX64 */, 64};
    memcpy(g.d + 70, dt, sizeof(dt));
    expect_coil_fail(ctx, "complex.nii", write_tmp("complex.nii", g.d, g.n), TMSF_ERR_FORMAT,
                     (words){.all = {"header", "datatype code 32", "expected a real scalar type"}});
    free(g.d);
  }
  free(raw.d);
#else
  (void)ctx;
  printf("bad-input: NIfTI cases skipped (build without niftilib)\n");
#endif
}

/* ------------------------------------------------------------------------- */
/* Poses                                                                     */
/* ------------------------------------------------------------------------- */

static void expect_pose_fail(tmsf_context *ctx, const tmsf_coil *coil, const char *name,
                             const double P[16], words w) {
  tmsf_context_clear_error(ctx);
  quiet_begin();
  int e1 = tmsf_pose_check(ctx, P);
  quiet_end(name);
  if (verbose) printf("%-34s %d %s\n", name, e1, tmsf_context_last_error(ctx));
  CHECK(e1 == TMSF_ERR_POSE, "%s: tmsf_pose_check status %d, want TMSF_ERR_POSE", name, e1);
  check_message(name, tmsf_context_last_error(ctx), NULL, &w);
  const double pt[3] = {0.0, 0.0, 0.05};
  double out[3] = {0.0, 0.0, 0.0};
  tmsf_context_clear_error(ctx);
  quiet_begin();
  int e2 = tmsf_coil_primary_field(coil, P, 1e6, 1, pt, out, NULL);
  quiet_end(name);
  CHECK(e2 == TMSF_ERR_POSE, "%s: tmsf_coil_primary_field status %d, want TMSF_ERR_POSE", name, e2);
  check_message(name, tmsf_context_last_error(ctx), NULL, &w);
}

static void pose_cases(tmsf_context *ctx) {
  tmsf_coil *coil = NULL;
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &coil));
  const double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0.1, 0, 0, 0, 1};
  CHECK_OK(ctx, tmsf_pose_check(ctx, I));
  double P[16];
  memcpy(P, I, sizeof(P));
  P[1] = 0.2; /* shear: x' = x + 0.2 y */
  expect_pose_fail(ctx, coil, "shear", P, (words){.all = {"orthonormal", "shear"}});
  memcpy(P, I, sizeof(P));
  P[0] = P[5] = P[10] = 1.001; /* scaled by 1.001: above the 1e-6 tolerance */
  expect_pose_fail(ctx, coil, "scaled", P, (words){.all = {"orthonormal", "scaling"}});
  memcpy(P, I, sizeof(P));
  P[0] = -1.0; /* x mirrored */
  expect_pose_fail(ctx, coil, "reflected", P, (words){.all = {"determinant", "reflection"}});
  memcpy(P, I, sizeof(P));
  P[7] = NAN;
  expect_pose_fail(ctx, coil, "nan", P, (words){.all = {"(2,4)", "finite"}});
  memcpy(P, I, sizeof(P));
  P[6] = INFINITY;
  expect_pose_fail(ctx, coil, "inf", P, (words){.all = {"(2,3)", "finite"}});
  memcpy(P, I, sizeof(P));
  P[14] = 0.5;
  expect_pose_fail(ctx, coil, "bottom-row", P, (words){.all = {"bottom row", "(0 0 0 1)"}});
  tmsf_coil_destroy(&coil);
}

int main(int argc, char **argv) {
  verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
  const char *tmp = getenv("TMPDIR");
  snprintf(tmp_dir, sizeof(tmp_dir), "%s/tmsf-bad-input.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(tmp_dir)) {
    fprintf(stderr, "FATAL: mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  capture_fd = open(tmp_file("library-output.txt"), O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
  if (capture_fd < 0) {
    fprintf(stderr, "FATAL: cannot create the capture file\n");
    return 1;
  }
  /* The capture itself works: output on either stream inside is seen. */
  quiet_begin();
  printf("probe");
  fputs("probe", stderr);
  off_t probe = quiet_restore();
  CHECK(probe == 10, "output capture self-test: %lld bytes captured, want 10", (long long)probe);
  capture_seen += probe > 0 ? probe : 0;

  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  mesh_cases(ctx);
  ccd_cases(ctx);
  nifti_cases(ctx);
  pose_cases(ctx);
  tmsf_context_destroy(&ctx);
  close(capture_fd);
  /* remove the temporary directory and its files */
  DIR *dir = opendir(tmp_dir);
  if (dir) {
    struct dirent *de;
    while ((de = readdir(dir)) != NULL)
      if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) unlink(tmp_file(de->d_name));
    closedir(dir);
  }
  if (rmdir(tmp_dir) != 0) fprintf(stderr, "warning: could not remove %s\n", tmp_dir);
  return test_summary("bad-input");
}

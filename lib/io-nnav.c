/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-nnav.c: coil poses to and from neuronavigation files — Localite
 * InstrumentMarker XML (parsed with libxml2) and Brainsight target/sample
 * exports (tab-separated text).
 *
 * Axis conventions: those of SimNIBS, simnibs/utils/nnav.py (classes
 * localite and brainsight; github simnibs/simnibs), described in
 * docs/navigator.md.  In short, with P the SimNIBS head-from-coil matrix:
 *   Localite   P = W L F:  P's x axis = W L's z axis, y = -W L's y, z = W L's x,
 *                           centre = W L's centre; W = diag(-1,-1,1) for LPS.
 *   Brainsight P = B S:    P's x = -B's x, y = B's y, z = -B's z, centre = B's;
 *                           B's axis i is (m<i>n0, m<i>n1, m<i>n2).
 * Both maps are their own inverses, so the writers use them unchanged.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "nnav-impl.h"
#include "output-impl.h"

/* ------------------------------------------------------------------------- */
/* Pose lists and helpers                                                    */
/* ------------------------------------------------------------------------- */

typedef struct pose_list {
  int n, cap;
  double *P;    /* 16 n, metres */
  char **names; /* n */
} pose_list;

static void list_free(pose_list *l) {
  tmsf_nnav_free(l->n, &l->P, &l->names);
  l->n = l->cap = 0;
}

static int list_push(tmsf_context *ctx, const char *origin, pose_list *l, const double P[16],
                     const char *name) {
  if (l->n == l->cap) {
    if (l->cap > INT_MAX / 32)
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: more than %d poses", origin, l->cap);
    int cap = l->cap ? 2 * l->cap : 8;
    double *np = realloc(l->P, (size_t)cap * 16 * sizeof(double));
    if (!np) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
    l->P = np;
    char **nn = realloc(l->names, (size_t)cap * sizeof(char *));
    if (!nn) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
    l->names = nn;
    l->cap = cap;
  }
  char *s = tmsf_strdup(name ? name : "");
  if (!s) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
  memcpy(l->P + 16 * (size_t)l->n, P, 16 * sizeof(double));
  l->names[l->n++] = s;
  return TMSF_SUCCESS;
}

/* Hand the list to the caller's pointers (names may be NULL: not wanted). */
static void list_give(pose_list *l, int *num_poses, double **P, char ***names) {
  *num_poses = l->n;
  *P = l->P;
  l->P = NULL;
  if (names) {
    *names = l->names;
  } else {
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
  }
  l->names = NULL;
  l->n = l->cap = 0;
}

int tmsf_nnav_free(int num_poses, double **P, char ***names) {
  if (P) {
    free(*P);
    *P = NULL;
  }
  if (names && *names) {
    for (int i = 0; i < num_poses; i++) free((*names)[i]);
    free(*names);
    *names = NULL;
  }
  return TMSF_SUCCESS;
}

/* Length of the valid UTF-8 sequence at s, or 0 (overlong forms, surrogates,
 * beyond U+10FFFF and U+FFFE/U+FFFF, which XML forbids, are invalid). */
static int utf8_len(const unsigned char *s, size_t avail) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  int n;
  unsigned cp;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if ((size_t)n > avail) return 0;
  for (int i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff) return 0;
  return n;
}

/* Copy at most about 60 bytes of s[0..len) into dst for a message: printable
 * ASCII and valid UTF-8 as they are, other bytes as \xHH. */
static const char *quote(char *dst, size_t cap, const char *s, size_t len) {
  size_t o = 0;
  for (size_t i = 0; i < len && o + 12 < cap;) {
    const unsigned char *u = (const unsigned char *)s + i;
    if (i >= 60) {
      memcpy(dst + o, "...", 3);
      o += 3;
      break;
    }
    int n = utf8_len(u, len - i);
    if (*u < 0x20 || *u == 0x7f || *u == '\\') n = 0;
    if (n > 0) {
      memcpy(dst + o, u, (size_t)n);
      o += (size_t)n, i += (size_t)n;
    } else {
      o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", *u);
      i++;
    }
  }
  dst[o] = '\0';
  return dst;
}

/* A whole field as a finite double; spaces around it are allowed.  Returns 0, or
 * 1 when it is not a number, 2 when it is not finite. */
static int parse_number(const char *s, double *v) {
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  if (!*s) return 1;
  char *end = NULL;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s) return 1;
  while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') end++;
  if (*end) return 1;
  if (!isfinite(x)) return 2;
  *v = x;
  return 0;
}

/* ------------------------------------------------------------------------- */
/* Frames                                                                    */
/* ------------------------------------------------------------------------- */

/* Localite <-> SimNIBS (its own inverse): out = W in F with F = [e_z, -e_y, e_x]
 * (nnav.py localite._simnibs2localite) and W = diag(-1, -1, 1) for LPS
 * (nnav.py _lps2ras); the centre is scaled by `scale` (mm -> m or m -> mm). */
static void localite_map(const double in[16], int lps, double scale, double out[16]) {
  for (int r = 0; r < 3; r++) {
    double w = lps && r < 2 ? -1.0 : 1.0;
    out[4 * r + 0] = w * in[4 * r + 2];
    out[4 * r + 1] = -w * in[4 * r + 1];
    out[4 * r + 2] = w * in[4 * r + 0];
    out[4 * r + 3] = w * in[4 * r + 3] * scale;
  }
  out[12] = out[13] = out[14] = 0.0;
  out[15] = 1.0;
}

/* Brainsight <-> SimNIBS (its own inverse): out = in S, S = diag(-1, 1, -1)
 * (nnav.py brainsight._simnibs2brainsight); centre scaled. */
static void brainsight_map(const double in[16], double scale, double out[16]) {
  for (int r = 0; r < 3; r++) {
    out[4 * r + 0] = -in[4 * r + 0];
    out[4 * r + 1] = in[4 * r + 1];
    out[4 * r + 2] = -in[4 * r + 2];
    out[4 * r + 3] = in[4 * r + 3] * scale;
  }
  out[12] = out[13] = out[14] = 0.0;
  out[15] = 1.0;
}

static double det3(const double P[16]) {
  return P[0] * (P[5] * P[10] - P[6] * P[9]) - P[1] * (P[4] * P[10] - P[6] * P[8]) +
         P[2] * (P[4] * P[9] - P[5] * P[8]);
}

/* Largest |(R^T R - I)_ij| of the rotation block. */
static double orth_error(const double P[16], int *wi, int *wj) {
  double worst = 0.0;
  *wi = *wj = 0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0.0;
      for (int k = 0; k < 3; k++) s += P[4 * k + i] * P[4 * k + j];
      double d = fabs(s - (i == j ? 1.0 : 0.0));
      if (!(d <= worst)) worst = d, *wi = i, *wj = j;
    }
  return worst;
}

/* Replace the rotation block (det > 0, near orthonormal) by the nearest
 * rotation, the orthogonal factor of its polar decomposition, by Newton's
 * iteration X <- (X + X^-T) / 2 (Higham, "Computing the polar decomposition",
 * SIAM J Sci Stat Comput 7, 1986).  X^-T has the rows (b x c, c x a, a x b) / det
 * for X's rows a, b, c. */
static void nearest_rotation(double P[16]) {
  double X[3][3];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) X[r][c] = P[4 * r + c];
  for (int it = 0; it < 60; it++) {
    const double *a = X[0], *b = X[1], *c = X[2];
    double C[3][3] = {
        {b[1] * c[2] - b[2] * c[1], b[2] * c[0] - b[0] * c[2], b[0] * c[1] - b[1] * c[0]},
        {c[1] * a[2] - c[2] * a[1], c[2] * a[0] - c[0] * a[2], c[0] * a[1] - c[1] * a[0]},
        {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]}};
    double det = a[0] * C[0][0] + a[1] * C[0][1] + a[2] * C[0][2];
    if (!(det > 0.0)) break;
    double change = 0.0;
    for (int r = 0; r < 3; r++)
      for (int k = 0; k < 3; k++) {
        double v = 0.5 * (X[r][k] + C[r][k] / det);
        double d = fabs(v - X[r][k]);
        if (d > change) change = d;
        X[r][k] = v;
      }
    if (change <= 4.0 * DBL_EPSILON) break;
  }
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) P[4 * r + c] = X[r][c];
}

/* Largest coil-centre coordinate the readers and writers take (1000 km): far
 * beyond any head, and far from overflow in the mm conversions. */
#define NNAV_MAX_CENTRE_M 1e6

/* Index (0..2) of a centre coordinate beyond NNAV_MAX_CENTRE_M, or -1. */
static int centre_out_of_range(const double P[16]) {
  for (int r = 0; r < 3; r++)
    if (!(fabs(P[4 * r + 3]) <= NNAV_MAX_CENTRE_M)) return r;
  return -1;
}

/* A pose read from a file (head frame, metres): refuse it unless its axes are
 * orthonormal within TMSF_NNAV_RIGID_TOLERANCE and right-handed, then make them
 * exactly orthonormal.  where: "FILE: line L, marker K ("name")". */
static int make_rigid(tmsf_context *ctx, const char *where, double P[16]) {
  int r = centre_out_of_range(P);
  if (r >= 0)
    return TMSF_ERROR(ctx, TMSF_ERR_POSE,
                      "%s: coil centre coordinate %c is %g mm; expected at most %g mm in size",
                      where, "xyz"[r], P[4 * r + 3] * 1e3, NNAV_MAX_CENTRE_M * 1e3);
  int wi, wj;
  double e = orth_error(P, &wi, &wj);
  if (!(e <= TMSF_NNAV_RIGID_TOLERANCE))
    return TMSF_ERROR(ctx, TMSF_ERR_POSE,
                      "%s: the coil axes are not orthonormal: (R^T R)[%d][%d] is off by %.3g "
                      "(tolerance %g for rounded navigator files); a shear or scaling is not a "
                      "rigid coil pose",
                      where, wi + 1, wj + 1, e, TMSF_NNAV_RIGID_TOLERANCE);
  double d = det3(P);
  if (!(d > 0.0))
    return TMSF_ERROR(ctx, TMSF_ERR_POSE,
                      "%s: the coil axes have determinant %.6g; expected +1 (a reflection is not "
                      "a coil pose)",
                      where, d);
  nearest_rotation(P);
  int ierr = tmsf_pose_check(ctx, P);
  if (ierr && ctx) {
    char msg[TMSF_MSG_LEN];
    snprintf(msg, sizeof(msg), "%s", ctx->message);
    return TMSF_ERROR(ctx, ierr, "%s: %s", where, msg);
  }
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Writers                                                                   */
/* ------------------------------------------------------------------------- */

/* Arguments shared by the writers; names checked for what both formats carry. */
static int check_write_args(tmsf_context *ctx, const char *path, int n, const double *P,
                            const char *const *names, const char *format) {
  if (!path || !*path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: empty output path", format);
  if (n < 0)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: number of poses is %d; expected >= 0", path, n);
  if (n > 0 && !P) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: poses are NULL", path);
  for (int i = 0; i < n; i++) {
    int ierr = tmsf_pose_check(ctx, P + 16 * (size_t)i);
    if (ierr) {
      char msg[TMSF_MSG_LEN] = "";
      if (ctx) snprintf(msg, sizeof(msg), "%s", ctx->message);
      return TMSF_ERROR(ctx, ierr, "%s: pose %d: %s", path, i + 1, msg);
    }
    int r = centre_out_of_range(P + 16 * (size_t)i);
    if (r >= 0)
      return TMSF_ERROR(ctx, TMSF_ERR_POSE,
                        "%s: pose %d: centre coordinate %c is %g m; expected at most %g m in size",
                        path, i + 1, "xyz"[r], P[16 * (size_t)i + 4 * r + 3], NNAV_MAX_CENTRE_M);
    if (!names) continue;
    const char *s = names[i];
    if (!s) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: name of pose %d is NULL", path, i + 1);
    for (const unsigned char *u = (const unsigned char *)s; *u;) {
      int len = utf8_len(u, strlen((const char *)u));
      char q[256];
      if (!len || *u < 0x20 || *u == 0x7f)
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                          "%s: name of pose %d (\"%s\") holds a control character or invalid "
                          "UTF-8 at byte %d; %s names are one line of UTF-8 text",
                          path, i + 1, quote(q, sizeof(q), s, strlen(s)),
                          (int)(u - (const unsigned char *)s) + 1, format);
      u += len;
    }
  }
  return TMSF_SUCCESS;
}

/* Open a temporary file beside path. */
static int open_temp(tmsf_context *ctx, const char *path, char **tmp, FILE **f) {
  *f = NULL;
  TMSF_CALL(tmsf_output_temp_name(ctx, path, "", tmp));
  *f = fopen(*tmp, "wb");
  if (!*f) {
    int e = errno;
    unlink(*tmp);
    free(*tmp);
    *tmp = NULL;
    return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for writing: %s", path, strerror(e));
  }
  return TMSF_SUCCESS;
}

/* Close, check and rename into place (or remove the temporary file). */
static int finish_temp(tmsf_context *ctx, const char *path, char *tmp, FILE *f, int ierr) {
  int failed = ferror(f) != 0;
  if (fflush(f) != 0) failed = 1;
  if (fsync(fileno(f)) != 0 && errno != EINVAL) failed = 1;
  if (fclose(f) != 0) failed = 1;
  if (!ierr && failed) ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: write failed (disk full?)", path);
  if (!ierr)
    ierr = tmsf_output_commit(ctx, tmp, path);
  else
    unlink(tmp);
  free(tmp);
  return ierr;
}

static void xml_escaped(FILE *f, const char *s) {
  for (; *s; s++) switch (*s) {
      case '&': fputs("&amp;", f); break;
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '"': fputs("&quot;", f); break;
      default: fputc(*s, f);
    }
}

int tmsf_nnav_write_localite(tmsf_context *ctx, const char *path, int n, const double *P,
                             const char *const *names, tmsf_nnav_space space) {
  if (space != TMSF_NNAV_SPACE_RAS && space != TMSF_NNAV_SPACE_LPS)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "%s: Localite coordinate space %d; expected TMSF_NNAV_SPACE_RAS or "
                      "TMSF_NNAV_SPACE_LPS",
                      path ? path : "(null)", (int)space);
  TMSF_CALL(check_write_args(ctx, path, n, P, names, "Localite"));
  int lps = space == TMSF_NNAV_SPACE_LPS;
  char *tmp = NULL;
  FILE *f = NULL;
  TMSF_CALL(open_temp(ctx, path, &tmp, &f));
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  fprintf(f, "<InstrumentMarkerList coordinateSpace=\"%s\">\n", lps ? "LPS" : "RAS");
  fprintf(f,
          "    <!--Written by tmsfield %s: coil poses converted from SimNIBS's head-from-coil "
          "matrices with SimNIBS's Localite axis convention (docs/navigator.md)-->\n",
          TMSF_VERSION_STRING);
  for (int i = 0; i < n; i++) {
    double mm[16], L[16];
    memcpy(mm, P + 16 * (size_t)i, sizeof(mm));
    for (int r = 0; r < 3; r++) mm[4 * r + 3] = tmsf_output_m_to_mm(mm[4 * r + 3]);
    localite_map(mm, lps, 1.0, L);
    fprintf(f, "    <InstrumentMarker alwaysVisible=\"false\" index=\"%d\" selected=\"false\">\n",
            i);
    fprintf(f, "        <Marker additionalInformation=\"\" color=\"#ff0000\" description=\"");
    if (names)
      xml_escaped(f, names[i]);
    else
      fprintf(f, "Pose %d", i + 1);
    fprintf(f, "\" set=\"true\">\n            <Matrix4D");
    for (int r = 0; r < 4; r++) {
      fprintf(f, "\n               ");
      for (int c = 0; c < 4; c++) fprintf(f, " data%d%d=\"%.17f\"", r, c, L[4 * r + c] + 0.0);
    }
    fprintf(f, "/>\n        </Marker>\n    </InstrumentMarker>\n");
  }
  fprintf(f, "</InstrumentMarkerList>\n");
  return finish_temp(ctx, path, tmp, f, TMSF_SUCCESS);
}

int tmsf_nnav_write_brainsight(tmsf_context *ctx, const char *path, int n, const double *P,
                               const char *const *names, tmsf_nnav_space space) {
  if (space != TMSF_NNAV_SPACE_NIFTI_ALIGNED && space != TMSF_NNAV_SPACE_NIFTI_SCANNER)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "%s: Brainsight coordinate system %d; expected "
                      "TMSF_NNAV_SPACE_NIFTI_ALIGNED or TMSF_NNAV_SPACE_NIFTI_SCANNER",
                      path ? path : "(null)", (int)space);
  TMSF_CALL(check_write_args(ctx, path, n, P, names, "Brainsight"));
  for (int i = 0; names && i < n; i++)
    if (names[i][0] == '#')
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "%s: name of pose %d starts with '#', which marks a Brainsight header line",
                        path, i + 1);
  char *tmp = NULL;
  FILE *f = NULL;
  TMSF_CALL(open_temp(ctx, path, &tmp, &f));
  /* the header lines of Brainsight's own exports (version 12 as SimNIBS writes) */
  fprintf(f, "# Version: 12\n");
  fprintf(f, "# Coordinate system: %s\n",
          space == TMSF_NNAV_SPACE_NIFTI_SCANNER ? "NIfTI:Scanner" : "NIfTI:Aligned");
  fprintf(f, "# Created by: tmsfield %s\n", TMSF_VERSION_STRING);
  fprintf(f, "# Units: millimetres, degrees, milliseconds, and microvolts\n");
  fprintf(f, "# Encoding: UTF-8\n");
  fprintf(f, "# Notes: Each column is delimited by a tab. Each value within a column is delimited "
             "by a semicolon.\n");
  fprintf(f, "# Target Name\tLoc. X\tLoc. Y\tLoc. Z"
             "\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2\n");
  for (int i = 0; i < n; i++) {
    double mm[16], B[16];
    memcpy(mm, P + 16 * (size_t)i, sizeof(mm));
    for (int r = 0; r < 3; r++) mm[4 * r + 3] = tmsf_output_m_to_mm(mm[4 * r + 3]);
    brainsight_map(mm, 1.0, B);
    if (names)
      fputs(names[i], f);
    else
      fprintf(f, "Pose %d", i + 1);
    for (int r = 0; r < 3; r++) fprintf(f, "\t%.17f", B[4 * r + 3] + 0.0);
    for (int axis = 0; axis < 3; axis++)
      for (int r = 0; r < 3; r++) fprintf(f, "\t%.17f", B[4 * r + axis] + 0.0);
    fputc('\n', f);
  }
  return finish_temp(ctx, path, tmp, f, TMSF_SUCCESS);
}

/* ------------------------------------------------------------------------- */
/* Localite reader                                                           */
/* ------------------------------------------------------------------------- */

static int is_element(const xmlNode *n, const char *name) {
  return n && n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, (const xmlChar *)name);
}

static const xmlNode *first_child(const xmlNode *parent, const char *name) {
  for (const xmlNode *c = parent->children; c; c = c->next)
    if (is_element(c, name)) return c;
  return NULL;
}

/* One <InstrumentMarker>: its description and pose (head frame, m). */
static int localite_marker(tmsf_context *ctx, const char *origin, const xmlNode *im, int k, int lps,
                           pose_list *out) {
  char q[256], where[1024];
  long line = xmlGetLineNo(im);
  const xmlNode *marker = first_child(im, "Marker");
  if (!marker)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: line %ld: InstrumentMarker %d has no <Marker> element; expected "
                      "<Marker description=...><Matrix4D data00=... data33=.../></Marker>",
                      origin, line, k);
  xmlChar *desc = xmlGetNoNsProp(marker, (const xmlChar *)"description");
  const char *name = desc ? (const char *)desc : "";
  const xmlNode *mat = first_child(marker, "Matrix4D");
  if (!mat) {
    int e =
        TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                   "%s: line %ld: marker %d (\"%s\") has no <Matrix4D> element; expected "
                   "<Matrix4D data00=... data33=.../>",
                   origin, (long)xmlGetLineNo(marker), k, quote(q, sizeof(q), name, strlen(name)));
    xmlFree(desc);
    return e;
  }
  line = xmlGetLineNo(mat);
  snprintf(where, sizeof(where), "%s: line %ld, marker %d (\"%s\")", origin, line, k,
           quote(q, sizeof(q), name, strlen(name)));
  double L[16];
  int ierr = TMSF_SUCCESS;
  for (int i = 0; i < 16 && !ierr; i++) {
    char attr[8];
    snprintf(attr, sizeof(attr), "data%d%d", i / 4, i % 4);
    xmlChar *v = xmlGetNoNsProp(mat, (const xmlChar *)attr);
    if (!v) {
      ierr =
          TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                     "%s: <Matrix4D> has no attribute %s; expected data00 ... data33", where, attr);
      break;
    }
    int bad = parse_number((const char *)v, &L[i]);
    if (bad) {
      char qv[256];
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: %s=\"%s\"; expected a %snumber", where, attr,
                        quote(qv, sizeof(qv), (const char *)v, strlen((const char *)v)),
                        bad == 2 ? "finite " : "");
    }
    xmlFree(v);
  }
  if (!ierr &&
      (fabs(L[12]) > 1e-6 || fabs(L[13]) > 1e-6 || fabs(L[14]) > 1e-6 || fabs(L[15] - 1.0) > 1e-6))
    ierr = TMSF_ERROR(ctx, TMSF_ERR_POSE,
                      "%s: bottom row (data30 ... data33) is (%g %g %g %g); expected (0 0 0 1)",
                      where, L[12], L[13], L[14], L[15]);
  double Ph[16];
  if (!ierr) {
    localite_map(L, lps, 1.0, Ph);
    for (int r = 0; r < 3; r++) Ph[4 * r + 3] /= 1e3;
    ierr = make_rigid(ctx, where, Ph);
  }
  if (!ierr) ierr = list_push(ctx, origin, out, Ph, name);
  xmlFree(desc);
  return ierr;
}

static int localite_doc(tmsf_context *ctx, const char *origin, xmlDoc *doc, pose_list *out,
                        tmsf_nnav_space *space) {
  const xmlNode *root = xmlDocGetRootElement(doc);
  char q[256];
  if (!root)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: no root element; expected <InstrumentMarkerList>",
                      origin);
  if (!is_element(root, "InstrumentMarkerList")) {
    const char *nm = (const char *)root->name;
    quote(q, sizeof(q), nm, strlen(nm));
    if (is_element(root, "TriggerMarkerList"))
      return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED,
                        "%s: line %ld: a TriggerMarkerList (per-pulse markers) is not read; "
                        "expected an <InstrumentMarkerList> (Localite's InstrumentMarker export)",
                        origin, (long)xmlGetLineNo(root));
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: line %ld: root element <%s>; expected <InstrumentMarkerList>", origin,
                      (long)xmlGetLineNo(root), q);
  }
  xmlChar *cs = xmlGetNoNsProp(root, (const xmlChar *)"coordinateSpace");
  if (!cs)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: line %ld: <InstrumentMarkerList> has no coordinateSpace attribute; "
                      "expected \"RAS\" or \"LPS\"",
                      origin, (long)xmlGetLineNo(root));
  int lps = -1;
  if (!strcasecmp((const char *)cs, "RAS")) lps = 0;
  if (!strcasecmp((const char *)cs, "LPS")) lps = 1;
  if (lps < 0) {
    int e = TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED,
                       "%s: line %ld: coordinateSpace=\"%s\"; expected \"RAS\" or \"LPS\"", origin,
                       (long)xmlGetLineNo(root),
                       quote(q, sizeof(q), (const char *)cs, strlen((const char *)cs)));
    xmlFree(cs);
    return e;
  }
  xmlFree(cs);
  *space = lps ? TMSF_NNAV_SPACE_LPS : TMSF_NNAV_SPACE_RAS;
  int k = 0;
  for (const xmlNode *c = root->children; c; c = c->next)
    if (is_element(c, "InstrumentMarker"))
      TMSF_CALL(localite_marker(ctx, origin, c, ++k, lps, out));
  return TMSF_SUCCESS;
}

/* libxml2 reports some errors (encoding conversion, I/O) without a parser
 * context, through its per-thread generic or structured error handler, whose
 * default prints on stderr; the library must not print.  While parsing, both
 * handlers of this thread are no-ops; the caller's are restored after.  The
 * parser context still records the error for the message. */
static void quiet_generic(void *ctx, const char *msg, ...) {
  (void)ctx;
  (void)msg;
}

static void quiet_structured(void *ctx, xmlErrorPtr error) {
  (void)ctx;
  (void)error;
}

int tmsf_nnav_read_localite_buffer(tmsf_context *ctx, const char *origin, const char *data,
                                   size_t size, int *num_poses, double **P, char ***names,
                                   tmsf_nnav_space *space) {
  if (num_poses) *num_poses = 0;
  if (P) *P = NULL;
  if (names) *names = NULL;
  if (!num_poses || !P || (!data && size))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_nnav_read_localite: NULL argument");
  if (!origin) origin = "(buffer)";
  if (size > (size_t)INT_MAX)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: %zu bytes; the XML reader takes at most %d",
                      origin, size, INT_MAX);
  xmlInitParser(); /* guarded by libxml2's own lock */
  xmlParserCtxt *pc = xmlNewParserCtxt();
  if (!pc) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
  xmlGenericErrorFunc old_generic = xmlGenericError;
  void *old_generic_ctx = xmlGenericErrorContext;
  xmlStructuredErrorFunc old_structured = xmlStructuredError;
  void *old_structured_ctx = xmlStructuredErrorContext;
  xmlSetGenericErrorFunc(NULL, quiet_generic);
  xmlSetStructuredErrorFunc(NULL, quiet_structured);
  /* no network, no external entities, no printing: errors come back in pc */
  xmlDoc *doc = xmlCtxtReadMemory(pc, data ? data : "", (int)size, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                      XML_PARSE_BIG_LINES);
  xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
  xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
  if (!doc || !pc->wellFormed) {
    const xmlError *e = xmlCtxtGetLastError(pc);
    char msg[512] = "not well-formed";
    int line = 0;
    if (e && e->message) {
      snprintf(msg, sizeof(msg), "%s", e->message);
      size_t l = strlen(msg);
      while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' ')) msg[--l] = '\0';
      line = e->line;
    }
    char q[256];
    int ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                          "%s: line %d: not a well-formed XML document (%s); expected a Localite "
                          "InstrumentMarker file",
                          origin, line, quote(q, sizeof(q), msg, strlen(msg)));
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(pc);
    return ierr;
  }
  pose_list l = {0};
  tmsf_nnav_space sp = TMSF_NNAV_SPACE_RAS;
  int ierr = localite_doc(ctx, origin, doc, &l, &sp);
  xmlFreeDoc(doc);
  xmlFreeParserCtxt(pc);
  if (ierr) {
    list_free(&l);
    return ierr;
  }
  list_give(&l, num_poses, P, names);
  if (space) *space = sp;
  return TMSF_SUCCESS;
}

int tmsf_nnav_read_localite(tmsf_context *ctx, const char *path, int *num_poses, double **P,
                            char ***names, tmsf_nnav_space *space) {
  if (num_poses) *num_poses = 0;
  if (P) *P = NULL;
  if (names) *names = NULL;
  if (!path || !num_poses || !P)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_nnav_read_localite: NULL argument");
  unsigned char *data = NULL;
  size_t size = 0;
  TMSF_CALL(tmsf_file_read_all(ctx, path, &data, &size));
  int ierr = tmsf_nnav_read_localite_buffer(ctx, path, (const char *)data, size, num_poses, P,
                                            names, space);
  free(data);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Brainsight reader                                                         */
/* ------------------------------------------------------------------------- */

/* Columns of a pose table, in the order Loc. X, Y, Z, m0n0 ... m2n2. */
static const char *const bs_columns[12] = {"Loc. X", "Loc. Y", "Loc. Z", "m0n0", "m0n1", "m0n2",
                                           "m1n0",   "m1n1",   "m1n2",   "m2n0", "m2n1", "m2n2"};

static char *trim(char *s) {
  while (*s == ' ') s++;
  size_t l = strlen(s);
  while (l && s[l - 1] == ' ') s[--l] = '\0';
  return s;
}

/* Split s at tabs in place: up to max fields. Returns the number of fields. */
static int split_tabs(char *s, char **fields, int max) {
  int n = 0;
  for (;;) {
    char *t = strchr(s, '\t');
    if (n < max) fields[n] = s;
    n++;
    if (!t) break;
    *t = '\0';
    s = t + 1;
  }
  return n;
}

typedef struct bs_state {
  int cur;       /* 0: before any table, 1: the requested table, 2: another table */
  int any_table; /* a Target or Sample table header seen */
  int col[12];   /* field index of each of bs_columns in the requested table */
  int need;      /* fields a row of that table must have */
  int header_line;
  int have_cs;
  tmsf_nnav_space space;
} bs_state;

static int bs_header(tmsf_context *ctx, const char *origin, int lineno, char *line,
                     tmsf_nnav_table table, bs_state *st) {
  char q[256];
  if (strchr(line, '\t')) { /* "# X Name<TAB>column<TAB>..." starts a table */
    char *fields[64];
    int nf = split_tabs(line, fields, 64);
    char *first = trim(fields[0] + 1);
    int is_target = !strcmp(first, "Target Name"), is_sample = !strcmp(first, "Sample Name");
    st->any_table |= is_target || is_sample;
    if (!((table == TMSF_NNAV_TARGETS && is_target) || (table == TMSF_NNAV_SAMPLES && is_sample))) {
      st->cur = 2;
      return TMSF_SUCCESS;
    }
    st->cur = 1;
    st->header_line = lineno;
    st->need = 0;
    for (int k = 0; k < 12; k++) {
      st->col[k] = -1;
      for (int j = 1; j < nf && j < 64; j++)
        if (!strcmp(trim(fields[j]), bs_columns[k])) {
          st->col[k] = j;
          break;
        }
      if (st->col[k] < 0)
        return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                          "%s: line %d: the \"%s\" table has no column \"%s\"; expected Loc. X, "
                          "Loc. Y, Loc. Z and m0n0 ... m2n2 among the first 64 columns",
                          origin, lineno, first, bs_columns[k]);
      if (st->col[k] + 1 > st->need) st->need = st->col[k] + 1;
    }
    return TMSF_SUCCESS;
  }
  char *s = trim(line + 1);
  if (!strncasecmp(s, "Coordinate system:", 18)) {
    char *v = trim(s + 18);
    if (!strcasecmp(v, "NIfTI:Aligned"))
      st->space = TMSF_NNAV_SPACE_NIFTI_ALIGNED;
    else if (!strcasecmp(v, "NIfTI:Scanner"))
      st->space = TMSF_NNAV_SPACE_NIFTI_SCANNER;
    else
      return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED,
                        "%s: line %d: coordinate system \"%s\"; expected NIfTI:Aligned or "
                        "NIfTI:Scanner (export from a project built on the head's NIfTI T1: the "
                        "Brainsight, World, MNI and Talairach frames need the image to convert)",
                        origin, lineno, quote(q, sizeof(q), v, strlen(v)));
    st->have_cs = 1;
  } else if (!strncasecmp(s, "Units:", 6)) {
    char *v = trim(s + 6);
    if (strncasecmp(v, "millimetres", 11) && strncasecmp(v, "millimeters", 11))
      return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED,
                        "%s: line %d: units \"%s\"; expected millimetres", origin, lineno,
                        quote(q, sizeof(q), v, strlen(v)));
  }
  return TMSF_SUCCESS;
}

static int bs_row(tmsf_context *ctx, const char *origin, int lineno, char *line,
                  tmsf_nnav_table table, const bs_state *st, pose_list *out) {
  char q[256], where[1024];
  const char *what = table == TMSF_NNAV_TARGETS ? "target" : "sample";
  char *fields[64];
  int nf = split_tabs(line, fields, 64);
  const char *name = fields[0];
  snprintf(where, sizeof(where), "%s: line %d, %s %d (\"%s\")", origin, lineno, what, out->n + 1,
           quote(q, sizeof(q), name, strlen(name)));
  if (!st->have_cs)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: comes before the \"# Coordinate system:\" line; expected it in the "
                      "header",
                      where);
  if (nf < st->need)
    return TMSF_ERROR(
        ctx, TMSF_ERR_FORMAT,
        "%s: %d tab-separated fields; expected at least %d as in the header on line %d", where, nf,
        st->need, st->header_line);
  double v[12];
  for (int k = 0; k < 12; k++) {
    const char *f = fields[st->col[k]];
    int bad = parse_number(f, &v[k]);
    if (bad)
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: column \"%s\" is \"%s\"; expected a %snumber",
                        where, bs_columns[k], quote(q, sizeof(q), f, strlen(f)),
                        bad == 2 ? "finite " : "");
  }
  double B[16] = {0};
  for (int r = 0; r < 3; r++) {
    B[4 * r + 3] = v[r] / 1e3;
    for (int axis = 0; axis < 3; axis++) B[4 * r + axis] = v[3 + 3 * axis + r];
  }
  B[15] = 1.0;
  double Ph[16];
  brainsight_map(B, 1.0, Ph);
  TMSF_CALL(make_rigid(ctx, where, Ph));
  return list_push(ctx, origin, out, Ph, name);
}

int tmsf_nnav_read_brainsight_buffer(tmsf_context *ctx, const char *origin, const char *data,
                                     size_t size, tmsf_nnav_table table, int *num_poses, double **P,
                                     char ***names, tmsf_nnav_space *space) {
  if (num_poses) *num_poses = 0;
  if (P) *P = NULL;
  if (names) *names = NULL;
  if (!num_poses || !P || (!data && size))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_nnav_read_brainsight: NULL argument");
  if (!origin) origin = "(buffer)";
  if (table != TMSF_NNAV_TARGETS && table != TMSF_NNAV_SAMPLES)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "%s: table %d; expected TMSF_NNAV_TARGETS or TMSF_NNAV_SAMPLES", origin,
                      (int)table);
  if (size == 0)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: empty file; expected a Brainsight export (\"# Version:\", \"# "
                      "Coordinate system:\" and a \"# Target Name\" table)",
                      origin);
  char *buf = malloc(size + 1);
  if (!buf) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", origin);
  memcpy(buf, data, size);
  buf[size] = '\0';
  bs_state st = {0};
  pose_list l = {0};
  int ierr = TMSF_SUCCESS, lineno = 0;
  char *s = buf, *end = buf + size;
  /* a UTF-8 byte-order mark */
  if (size >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) s += 3;
  while (s < end && !ierr) {
    char *nl = memchr(s, '\n', (size_t)(end - s));
    char *next = nl ? nl + 1 : end;
    if (nl) *nl = '\0';
    lineno++;
    size_t len = strlen(s); /* an embedded NUL ends the line */
    if ((size_t)(next - s) - (nl ? 1 : 0) != len) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: line %d holds a NUL byte; expected text", origin,
                        lineno);
      break;
    }
    if (len && s[len - 1] == '\r') s[--len] = '\0';
    if (s[0] == '#') {
      ierr = bs_header(ctx, origin, lineno, s, table, &st);
    } else {
      const char *t = s;
      while (*t == ' ') t++;
      if (*t) {
        if (st.cur == 0)
          ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                            "%s: line %d: a data row before any table header; expected \"# Target "
                            "Name<TAB>Loc. X<TAB>...\" first",
                            origin, lineno);
        else if (st.cur == 1)
          ierr = bs_row(ctx, origin, lineno, s, table, &st, &l);
      }
    }
    s = next;
  }
  free(buf);
  if (!ierr && !st.have_cs)
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: no \"# Coordinate system:\" line; expected a Brainsight export", origin);
  if (!ierr && !st.any_table)
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: no \"# Target Name\" or \"# Sample Name\" table; expected a Brainsight "
                      "export",
                      origin);
  if (ierr) {
    list_free(&l);
    return ierr;
  }
  list_give(&l, num_poses, P, names);
  if (space) *space = st.space;
  return TMSF_SUCCESS;
}

int tmsf_nnav_read_brainsight(tmsf_context *ctx, const char *path, tmsf_nnav_table table,
                              int *num_poses, double **P, char ***names, tmsf_nnav_space *space) {
  if (num_poses) *num_poses = 0;
  if (P) *P = NULL;
  if (names) *names = NULL;
  if (!path || !num_poses || !P)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_nnav_read_brainsight: NULL argument");
  unsigned char *data = NULL;
  size_t size = 0;
  TMSF_CALL(tmsf_file_read_all(ctx, path, &data, &size));
  int ierr = tmsf_nnav_read_brainsight_buffer(ctx, path, (const char *)data, size, table, num_poses,
                                              P, names, space);
  free(data);
  return ierr;
}

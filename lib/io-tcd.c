/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-tcd.c: SimNIBS 4 .tcd coil files (TMS coil definition, JSON), read with
 * cJSON; compressed arrays inflated with zlib.
 *
 * Layout (SimNIBS coil_model.schema.json, "TMS Coil Definition"): a JSON
 * object with
 *   name, brand, version                       strings (header keys)
 *   limits [[x0,x1],[y0,y1],[z0,z1]] mm,
 *   resolution [rx,ry,rz] mm                   grid for A-field expansion
 *                                              (header keys, JSON text)
 *   coilCasing, coilModels                     3-D casing models (header keys,
 *                                              JSON text; not used here)
 *   stimulatorList [{name, brand, maxdIdt A/s, waveformList}]
 *   deformList [{deformRange, type x|y|z|rot2p, point1, point2 (mm)}]
 *   deformRangeList [{initial, range [min,max]}] (degrees or mm)
 *   coilElementList [{name, stimulator, elementCasing, deformations [...],
 *                     type, points, values | data, affine}]
 * with element types
 *   1 dipoles:        points (mm), values = moments (A m^2 per A)
 *   2 line segments:  points (mm), values = direction times length (mm);
 *                     A = mu0/(4 pi) sum values_k / |r - points_k|
 *   3 sampled grid:   data[x][y][z][3] = A per ampere (T m / A), affine =
 *                     4x4 from voxel index to coil-frame mm.
 * An array of 3-vectors is either a JSON list of lists or a string: base64 of
 * the float64 little-endian bytes, row after row, usually zlib-compressed
 * (both files SimNIBS ships; checked with numpy: frombuffer(zlib.decompress(
 * b64decode(s)), '<f8').reshape(-1, 3)).  Grid data must be a JSON list: a
 * base64 string has no shape (SimNIBS writes a Python pickle there, which is
 * rejected with a message).  Deformations are applied at their initial values
 * in the order the element lists them: 'rot2p' rotates by `initial` degrees
 * about the axis point1 -> point2 (right-handed), x/y/z translate by `initial`
 * mm.  Every key not used is kept as a header key (JSON text), elements' as
 * "coilElementList[i].key".
 */
#include <stdarg.h>
#include <string.h>

#include "tmsf-impl.h"

#include <cjson/cJSON.h>
#include <zlib.h>

/* Largest decoded array, bytes (a 300^3 x 3 float64 grid is 648 MB). */
#define TCD_MAX_BYTES ((size_t)1 << 30)

typedef struct tcd_reader {
  tmsf_context *ctx;
  const char *origin;
  tmsf_coil *coil;
  int num_stim_listed; /* -1: no stimulatorList */
  int num_ranges;
  double *range_initial; /* per deformRangeList entry */
  int num_deforms;
  struct tcd_deform {
    int type; /* 0 x, 1 y, 2 z, 3 rot2p */
    int range;
    double p1[3], p2[3]; /* mm */
  } *deforms;
} tcd_reader;

#define TCD_FAIL(r, code, path, ...) tcd_fail_((r), (code), (path), __VA_ARGS__)

static int tcd_fail_(tcd_reader *r, int code, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int tcd_fail_(tcd_reader *r, int code, const char *path, const char *fmt, ...) {
  char msg[TMSF_MSG_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return TMSF_ERROR(r->ctx, code, "%s: %s: %s", r->origin, path, msg);
}

static const char *json_type_name(const cJSON *j) {
  if (!j) return "nothing";
  if (cJSON_IsNumber(j)) return "a number";
  if (cJSON_IsString(j)) return "a string";
  if (cJSON_IsArray(j)) return "a list";
  if (cJSON_IsObject(j)) return "an object";
  if (cJSON_IsBool(j)) return "a boolean";
  if (cJSON_IsNull(j)) return "null";
  return "an invalid value";
}

/* ------------------------------------------------------------------------- */
/* base64 and zlib                                                           */
/* ------------------------------------------------------------------------- */

static int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62; /* '-' and '_': the URL-safe alphabet */
  if (c == '/' || c == '_') return 63;
  return -1;
}

/* Decode base64 (RFC 4648; whitespace ignored, padding optional).  Returns 0,
 * or 1 + the offset of the first invalid character, or -1 out of memory. */
static int64_t b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen) {
  *out = malloc(len / 4 * 3 + 3);
  if (!*out) return -1;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0, i = 0;
  for (; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') break;
    int v = b64_value(c);
    if (v < 0) {
      free(*out);
      *out = NULL;
      return (int64_t)i + 1;
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      (*out)[n++] = (unsigned char)(acc >> bits);
    }
  }
  for (; i < len; i++) { /* only padding and whitespace may follow '=' */
    unsigned char c = (unsigned char)s[i];
    if (c != '=' && c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      free(*out);
      *out = NULL;
      return (int64_t)i + 1;
    }
  }
  *outlen = n;
  return 0;
}

/* Inflate a zlib stream.  Returns a zlib status (Z_OK on success) or
 * Z_MEM_ERROR; Z_BUF_ERROR when the result would exceed TCD_MAX_BYTES. */
static int inflate_all(const unsigned char *in, size_t inlen, unsigned char **out, size_t *outlen) {
  *out = NULL;
  *outlen = 0;
  size_t cap = inlen < 1024 ? 4096 : inlen * 4;
  if (cap > TCD_MAX_BYTES) cap = TCD_MAX_BYTES;
  unsigned char *buf = malloc(cap);
  if (!buf) return Z_MEM_ERROR;
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  if (inflateInit(&zs) != Z_OK) {
    free(buf);
    return Z_MEM_ERROR;
  }
  size_t in_done = 0;
  int st = Z_OK;
  size_t n = 0;
  for (;;) {
    if (n == cap) {
      if (cap >= TCD_MAX_BYTES) {
        st = Z_BUF_ERROR;
        break;
      }
      size_t nc = cap * 2 > TCD_MAX_BYTES ? TCD_MAX_BYTES : cap * 2;
      unsigned char *nb = realloc(buf, nc);
      if (!nb) {
        st = Z_MEM_ERROR;
        break;
      }
      buf = nb;
      cap = nc;
    }
    size_t in_chunk = inlen - in_done > (1u << 30) ? (1u << 30) : inlen - in_done;
    size_t out_chunk = cap - n > (1u << 30) ? (1u << 30) : cap - n;
    zs.next_in = (unsigned char *)(uintptr_t)(in + in_done);
    zs.avail_in = (uInt)in_chunk;
    zs.next_out = buf + n;
    zs.avail_out = (uInt)out_chunk;
    st = inflate(&zs, Z_NO_FLUSH);
    in_done += in_chunk - zs.avail_in;
    n += out_chunk - zs.avail_out;
    if (st == Z_STREAM_END) {
      st = Z_OK;
      break;
    }
    if (st == Z_BUF_ERROR && in_done == inlen && zs.avail_out > 0) {
      st = Z_DATA_ERROR; /* truncated stream */
      break;
    }
    if (st != Z_OK && st != Z_BUF_ERROR) break;
  }
  inflateEnd(&zs);
  if (st != Z_OK) {
    free(buf);
    return st;
  }
  *out = buf;
  *outlen = n;
  return Z_OK;
}

/* float64 values of a base64 string (zlib-compressed or raw bytes). */
static int decode_b64_doubles(tcd_reader *r, const char *path, const char *s, double **vals,
                              size_t *count) {
  *vals = NULL;
  *count = 0;
  unsigned char *raw;
  size_t rawlen;
  int64_t bad = b64_decode(s, strlen(s), &raw, &rawlen);
  if (bad < 0) return TCD_FAIL(r, TMSF_ERR_MEMORY, path, "out of memory");
  if (bad > 0)
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path,
                    "character %lld of the string is not base64; expected a list of 3-vectors or "
                    "base64 of zlib-compressed float64 values",
                    (long long)bad);
  unsigned char *bytes = raw;
  size_t nbytes = rawlen;
  /* zlib header: CM 8, window <= 32K, FCHECK (RFC 1950) */
  if (rawlen >= 2 && (raw[0] & 0x0f) == 8 && (raw[0] >> 4) <= 7 && ((raw[0] << 8) | raw[1]) % 31 == 0) {
    int st = inflate_all(raw, rawlen, &bytes, &nbytes);
    free(raw);
    if (st == Z_MEM_ERROR) return TCD_FAIL(r, TMSF_ERR_MEMORY, path, "out of memory inflating the data");
    if (st == Z_BUF_ERROR)
      return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "compressed data inflates beyond %zu bytes (limit)",
                      TCD_MAX_BYTES);
    if (st != Z_OK)
      return TCD_FAIL(r, TMSF_ERR_FORMAT, path,
                      "zlib-compressed data is corrupt or truncated (zlib error %d)", st);
  } else if (rawlen >= 1 && raw[0] == 0x80) {
    free(raw);
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path,
                    "the base64 string holds a Python pickle, which is not read; expected base64 "
                    "of (zlib-compressed) float64 values or a JSON list");
  }
  if (nbytes % 8 != 0) {
    free(bytes);
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path,
                    "decoded data has %zu bytes, not a whole number of float64 values", nbytes);
  }
  size_t n = nbytes / 8;
  double *v = tmsf_malloc_array(n ? n : 1, sizeof(double));
  if (!v) {
    free(bytes);
    return TCD_FAIL(r, TMSF_ERR_MEMORY, path, "out of memory");
  }
  for (size_t i = 0; i < n; i++) { /* little-endian, whatever this machine's order */
    uint64_t u = 0;
    for (int b = 7; b >= 0; b--) u = (u << 8) | bytes[8 * i + (size_t)b];
    memcpy(&v[i], &u, 8);
    if (!isfinite(v[i])) {
      free(bytes);
      free(v);
      return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "value %zu (row %zu) is not finite", i, i / 3);
    }
  }
  free(bytes);
  *vals = v;
  *count = n;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* JSON helpers                                                              */
/* ------------------------------------------------------------------------- */

/* n 3-vectors from a list of [x, y, z] or a base64 string. */
static int get_vec3_array(tcd_reader *r, const char *path, const cJSON *j, int64_t *n, double **out) {
  *n = 0;
  *out = NULL;
  if (cJSON_IsString(j)) {
    size_t count;
    TMSF_CALL(decode_b64_doubles(r, path, j->valuestring, out, &count));
    if (count == 0 || count % 3 != 0) {
      free(*out);
      *out = NULL;
      return TCD_FAIL(r, TMSF_ERR_FORMAT, path,
                      "decoded %zu values; expected a positive multiple of 3 (rows of x, y, z)", count);
    }
    *n = (int64_t)(count / 3);
    return TMSF_SUCCESS;
  }
  if (!cJSON_IsArray(j))
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "found %s; expected a list of [x, y, z] or a base64 string",
                    json_type_name(j));
  int64_t rows = cJSON_GetArraySize(j);
  if (rows < 1) return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "empty list; expected at least one [x, y, z]");
  double *v = tmsf_malloc_array((size_t)rows * 3, sizeof(double));
  if (!v) return TCD_FAIL(r, TMSF_ERR_MEMORY, path, "out of memory");
  int64_t i = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, j) {
    int ok = cJSON_IsArray(row) && cJSON_GetArraySize(row) == 3;
    int c = 0;
    const cJSON *x;
    if (ok) cJSON_ArrayForEach(x, row) {
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) {
          ok = 0;
          break;
        }
        v[3 * i + c++] = x->valuedouble;
      }
    if (!ok) {
      free(v);
      return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "row %lld: expected [x, y, z] of 3 finite numbers",
                      (long long)i);
    }
    i++;
  }
  *n = rows;
  *out = v;
  return TMSF_SUCCESS;
}

/* Optional string member (NULL when absent). */
static int get_string(tcd_reader *r, const cJSON *obj, const char *key, const char *parent,
                      const char **out) {
  *out = NULL;
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!j) return TMSF_SUCCESS;
  if (!cJSON_IsString(j)) {
    char path[160];
    snprintf(path, sizeof(path), "%s%s%s", parent, parent[0] ? "." : "", key);
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "found %s; expected a string", json_type_name(j));
  }
  *out = j->valuestring;
  return TMSF_SUCCESS;
}

/* Integer in [lo, hi]. */
static int get_int(tcd_reader *r, const char *path, const cJSON *j, int lo, int hi, int *out) {
  if (!cJSON_IsNumber(j) || !(j->valuedouble == floor(j->valuedouble)) || j->valuedouble < lo ||
      j->valuedouble > hi) {
    if (cJSON_IsNumber(j))
      return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "%g; expected an integer in %d..%d", j->valuedouble, lo, hi);
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "found %s; expected an integer in %d..%d",
                    json_type_name(j), lo, hi);
  }
  *out = (int)j->valuedouble;
  return TMSF_SUCCESS;
}

/* A list of exactly n finite numbers. */
static int get_numbers(tcd_reader *r, const char *path, const cJSON *j, int n, double *out) {
  if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != n)
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "found %s%s; expected a list of %d numbers",
                    json_type_name(j), cJSON_IsArray(j) ? " of another length" : "", n);
  int i = 0;
  const cJSON *x;
  cJSON_ArrayForEach(x, j) {
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
      return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "item %d is %s; expected a finite number", i,
                      json_type_name(x));
    out[i++] = x->valuedouble;
  }
  return TMSF_SUCCESS;
}

/* Keep a JSON value as a header key (its unformatted JSON text). */
static int keep_json(tcd_reader *r, const char *key, const cJSON *j) {
  if (cJSON_IsString(j)) return tmsf_coil_add_header(r->coil, key, j->valuestring);
  char *text = cJSON_PrintUnformatted(j);
  if (!text) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
  int ierr = tmsf_coil_add_header(r->coil, key, text);
  cJSON_free(text);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Sections                                                                  */
/* ------------------------------------------------------------------------- */

static int read_stimulators(tcd_reader *r, const cJSON *list) {
  if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
      cJSON_GetArraySize(list) > TMSF_COIL_MAX_STIMULATORS)
    return TCD_FAIL(r, TMSF_ERR_FORMAT, "stimulatorList", "found %s; expected a list of 1..%d stimulators",
                    json_type_name(list), TMSF_COIL_MAX_STIMULATORS);
  int i = 0;
  const cJSON *s;
  cJSON_ArrayForEach(s, list) {
    char path[96];
    snprintf(path, sizeof(path), "stimulatorList[%d]", i);
    if (!cJSON_IsObject(s))
      return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "found %s; expected an object {name, brand, maxdIdt}",
                      json_type_name(s));
    const char *name, *brand;
    TMSF_CALL(get_string(r, s, "name", path, &name));
    TMSF_CALL(get_string(r, s, "brand", path, &brand));
    double didt = NAN;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "maxdIdt");
    if (m) {
      if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble) || !(m->valuedouble > 0.0)) {
        char p2[128];
        snprintf(p2, sizeof(p2), "%s.maxdIdt", path);
        return TCD_FAIL(r, TMSF_ERR_FORMAT, p2, "found %s; expected a positive number in A/s",
                        cJSON_IsNumber(m) ? "a non-positive or infinite number" : json_type_name(m));
      }
      didt = m->valuedouble;
    }
    TMSF_CALL(tmsf_coil_set_stimulator(r->coil, i, name ? name : "", brand ? brand : "", didt));
    const cJSON *x;
    cJSON_ArrayForEach(x, s) {
      if (!x->string || !strcmp(x->string, "name") || !strcmp(x->string, "brand") || !strcmp(x->string, "maxdIdt"))
        continue;
      char key[256];
      snprintf(key, sizeof(key), "%s.%.100s", path, x->string);
      TMSF_CALL(keep_json(r, key, x));
    }
    i++;
  }
  r->num_stim_listed = i;
  return TMSF_SUCCESS;
}

static int read_deformations(tcd_reader *r, const cJSON *ranges, const cJSON *deforms) {
  if (ranges) {
    if (!cJSON_IsArray(ranges))
      return TCD_FAIL(r, TMSF_ERR_FORMAT, "deformRangeList", "found %s; expected a list",
                      json_type_name(ranges));
    int n = cJSON_GetArraySize(ranges);
    r->range_initial = tmsf_malloc_array((size_t)(n ? n : 1), sizeof(double));
    if (!r->range_initial) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
    int i = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, ranges) {
      char path[96];
      snprintf(path, sizeof(path), "deformRangeList[%d].initial", i);
      const cJSON *init = cJSON_IsObject(g) ? cJSON_GetObjectItemCaseSensitive(g, "initial") : NULL;
      if (!cJSON_IsNumber(init) || !isfinite(init->valuedouble))
        return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "found %s; expected a finite number (degrees or mm)",
                        json_type_name(init));
      r->range_initial[i] = init->valuedouble;
      const cJSON *rg = cJSON_GetObjectItemCaseSensitive(g, "range");
      if (rg) {
        double lim[2];
        snprintf(path, sizeof(path), "deformRangeList[%d].range", i);
        TMSF_CALL(get_numbers(r, path, rg, 2, lim));
        if (!(lim[0] <= r->range_initial[i] && r->range_initial[i] <= lim[1]))
          return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "initial value %g lies outside [%g, %g]",
                          r->range_initial[i], lim[0], lim[1]);
      }
      i++;
    }
    r->num_ranges = n;
  }
  if (deforms) {
    if (!cJSON_IsArray(deforms))
      return TCD_FAIL(r, TMSF_ERR_FORMAT, "deformList", "found %s; expected a list", json_type_name(deforms));
    int n = cJSON_GetArraySize(deforms);
    r->deforms = tmsf_calloc_array((size_t)(n ? n : 1), sizeof(*r->deforms));
    if (!r->deforms) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, deforms) {
      char path[96];
      snprintf(path, sizeof(path), "deformList[%d]", i);
      if (!cJSON_IsObject(d)) return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "found %s; expected an object", json_type_name(d));
      struct tcd_deform *D = &r->deforms[i];
      const char *type;
      TMSF_CALL(get_string(r, d, "type", path, &type));
      if (!type || (strcmp(type, "x") && strcmp(type, "y") && strcmp(type, "z") && strcmp(type, "rot2p"))) {
        snprintf(path, sizeof(path), "deformList[%d].type", i);
        return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "%s%.40s%s; expected \"x\", \"y\", \"z\" or \"rot2p\"",
                        type ? "\"" : "", type ? type : "missing", type ? "\"" : "");
      }
      D->type = type[0] == 'r' ? 3 : type[0] - 'x';
      snprintf(path, sizeof(path), "deformList[%d].deformRange", i);
      const cJSON *rg = cJSON_GetObjectItemCaseSensitive(d, "deformRange");
      if (r->num_ranges < 1)
        return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "refers to deformRangeList, which is missing or empty");
      TMSF_CALL(get_int(r, path, rg, 0, r->num_ranges - 1, &D->range));
      if (D->type == 3) {
        snprintf(path, sizeof(path), "deformList[%d].point1", i);
        TMSF_CALL(get_numbers(r, path, cJSON_GetObjectItemCaseSensitive(d, "point1"), 3, D->p1));
        snprintf(path, sizeof(path), "deformList[%d].point2", i);
        TMSF_CALL(get_numbers(r, path, cJSON_GetObjectItemCaseSensitive(d, "point2"), 3, D->p2));
        double ax[3] = {D->p2[0] - D->p1[0], D->p2[1] - D->p1[1], D->p2[2] - D->p1[2]};
        if (!(ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2] > 0.0))
          return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "equals point1; a rotation axis needs two distinct points");
      }
      i++;
    }
    r->num_deforms = n;
  }
  return TMSF_SUCCESS;
}

/* Rotation matrix of angle (degrees) about unit axis k (Rodrigues). */
static void rotation(const double k[3], double deg, double R[9]) {
  const double t = deg * 3.14159265358979323846 / 180.0, c = cos(t), s = sin(t), C = 1.0 - c;
  R[0] = c + k[0] * k[0] * C, R[1] = k[0] * k[1] * C - k[2] * s, R[2] = k[0] * k[2] * C + k[1] * s;
  R[3] = k[1] * k[0] * C + k[2] * s, R[4] = c + k[1] * k[1] * C, R[5] = k[1] * k[2] * C - k[0] * s;
  R[6] = k[2] * k[0] * C - k[1] * s, R[7] = k[2] * k[1] * C + k[0] * s, R[8] = c + k[2] * k[2] * C;
}

/* Element deformations as one rigid motion in mm: x' = R x + t. */
static int element_motion(tcd_reader *r, const char *path, const cJSON *list, double R[9], double t[3]) {
  static const double I[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  memcpy(R, I, sizeof(I));
  t[0] = t[1] = t[2] = 0.0;
  if (!list) return TMSF_SUCCESS;
  if (!cJSON_IsArray(list))
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "found %s; expected a list of deformList indices",
                    json_type_name(list));
  int i = 0;
  const cJSON *x;
  cJSON_ArrayForEach(x, list) {
    char p[192];
    snprintf(p, sizeof(p), "%s[%d]", path, i++);
    if (r->num_deforms < 1) return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "refers to deformList, which is missing or empty");
    int d;
    TMSF_CALL(get_int(r, p, x, 0, r->num_deforms - 1, &d));
    const struct tcd_deform *D = &r->deforms[d];
    const double v = r->range_initial[D->range];
    if (D->type < 3) {
      t[D->type] += v;
      continue;
    }
    double k[3] = {D->p2[0] - D->p1[0], D->p2[1] - D->p1[1], D->p2[2] - D->p1[2]};
    double nk = sqrt(k[0] * k[0] + k[1] * k[1] + k[2] * k[2]);
    for (int c = 0; c < 3; c++) k[c] /= nk;
    double Q[9], R2[9], t2[3];
    rotation(k, v, Q);
    /* x -> p1 + Q (R x + t - p1) */
    for (int a = 0; a < 3; a++) {
      for (int b = 0; b < 3; b++) R2[3 * a + b] = Q[3 * a] * R[b] + Q[3 * a + 1] * R[3 + b] + Q[3 * a + 2] * R[6 + b];
      t2[a] = D->p1[a] + Q[3 * a] * (t[0] - D->p1[0]) + Q[3 * a + 1] * (t[1] - D->p1[1]) +
              Q[3 * a + 2] * (t[2] - D->p1[2]);
    }
    memcpy(R, R2, sizeof(R2));
    memcpy(t, t2, sizeof(t2));
  }
  return TMSF_SUCCESS;
}

/* Grid data: data[x][y][z][3] as nested lists -> A[c][k][j][i]. */
static int read_grid_data(tcd_reader *r, const char *path, const cJSON *data, int64_t dims[3], double **out) {
  *out = NULL;
  if (cJSON_IsString(data))
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path,
                    "a base64 string carries no grid shape (SimNIBS writes a Python pickle here); "
                    "expected nested lists data[x][y][z] = [Ax, Ay, Az]");
  const cJSON *a1 = cJSON_IsArray(data) ? data->child : NULL;
  const cJSON *a2 = cJSON_IsArray(a1) ? a1->child : NULL;
  if (!cJSON_IsArray(data) || !cJSON_IsArray(a1) || !cJSON_IsArray(a2))
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "expected nested lists data[x][y][z] = [Ax, Ay, Az]");
  dims[0] = cJSON_GetArraySize(data);
  dims[1] = cJSON_GetArraySize(a1);
  dims[2] = cJSON_GetArraySize(a2);
  for (int c = 0; c < 3; c++)
    if (dims[c] < 2)
      return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "grid has %lld samples along axis %d; expected at least 2",
                      (long long)dims[c], c);
  size_t nvox = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  double *A = tmsf_malloc_array(nvox * 3, sizeof(double));
  if (!A) return TCD_FAIL(r, TMSF_ERR_MEMORY, path, "out of memory");
  int64_t i = 0;
  const cJSON *px;
  cJSON_ArrayForEach(px, data) {
    int64_t j = 0;
    if (!cJSON_IsArray(px) || cJSON_GetArraySize(px) != dims[1]) goto shape;
    const cJSON *py;
    cJSON_ArrayForEach(py, px) {
      int64_t k = 0;
      if (!cJSON_IsArray(py) || cJSON_GetArraySize(py) != dims[2]) goto shape;
      const cJSON *pz;
      cJSON_ArrayForEach(pz, py) {
        if (!cJSON_IsArray(pz) || cJSON_GetArraySize(pz) != 3) goto shape;
        int c = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, pz) {
          if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            free(A);
            return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "sample [%lld][%lld][%lld][%d] is %s; expected a finite number",
                            (long long)i, (long long)j, (long long)k, c, json_type_name(v));
          }
          A[(size_t)c * nvox + (size_t)((k * dims[1] + j) * dims[0] + i)] = v->valuedouble;
          c++;
        }
        k++;
      }
      j++;
    }
    i++;
    continue;
  shape:
    free(A);
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path,
                    "ragged grid at x index %lld; expected %lld x %lld x %lld samples of [Ax, Ay, Az]",
                    (long long)i, (long long)dims[0], (long long)dims[1], (long long)dims[2]);
  }
  *out = A;
  return TMSF_SUCCESS;
}

static const char *const element_keys[] = {"name", "stimulator", "type", "points", "values",
                                           "data", "affine", "deformations", NULL};

static int read_element(tcd_reader *r, int index, const cJSON *e) {
  char path[96], p[128];
  snprintf(path, sizeof(path), "coilElementList[%d]", index);
  if (!cJSON_IsObject(e))
    return TCD_FAIL(r, TMSF_ERR_FORMAT, path, "found %s; expected an element object", json_type_name(e));
  int type, stim;
  snprintf(p, sizeof(p), "%s.type", path);
  const cJSON *jt = cJSON_GetObjectItemCaseSensitive(e, "type");
  if (!jt) return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "missing; expected 1 (dipoles), 2 (line segments) or 3 (sampled grid)");
  TMSF_CALL(get_int(r, p, jt, 1, 3, &type));
  snprintf(p, sizeof(p), "%s.stimulator", path);
  const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "stimulator");
  if (!js) return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "missing; expected the index of a stimulator in stimulatorList");
  int smax = r->num_stim_listed >= 0 ? r->num_stim_listed - 1 : TMSF_COIL_MAX_STIMULATORS - 1;
  TMSF_CALL(get_int(r, p, js, 0, smax, &stim));
  const char *name;
  TMSF_CALL(get_string(r, e, "name", path, &name));
  double R[9], t[3];
  snprintf(p, sizeof(p), "%s.deformations", path);
  TMSF_CALL(element_motion(r, p, cJSON_GetObjectItemCaseSensitive(e, "deformations"), R, t));
  const cJSON *jp = cJSON_GetObjectItemCaseSensitive(e, "points"), *jv = cJSON_GetObjectItemCaseSensitive(e, "values");
  const cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "data"), *ja = cJSON_GetObjectItemCaseSensitive(e, "affine");
  if (type == 1 || type == 2) {
    if (jd || ja) {
      snprintf(p, sizeof(p), "%s.%s", path, jd ? "data" : "affine");
      return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "not allowed in a %s element (type %d)",
                      type == 1 ? "dipole" : "line-segment", type);
    }
    int64_t np, nv;
    double *pos, *vec;
    snprintf(p, sizeof(p), "%s.points", path);
    if (!jp) return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "missing; expected positions in mm");
    TMSF_CALL(get_vec3_array(r, p, jp, &np, &pos));
    snprintf(p, sizeof(p), "%s.values", path);
    if (!jv) {
      free(pos);
      return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "missing; expected %s", type == 1 ? "dipole moments in A m^2" : "segment vectors in mm");
    }
    int ierr = get_vec3_array(r, p, jv, &nv, &vec);
    if (ierr) {
      free(pos);
      return ierr;
    }
    if (nv != np) {
      free(pos), free(vec);
      return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "has %lld rows but points has %lld; expected one value per point",
                      (long long)nv, (long long)np);
    }
    /* deform (mm), then to metres */
    for (int64_t k = 0; k < np; k++) {
      double *x = pos + 3 * k, *v = vec + 3 * k, y[3], w[3];
      for (int a = 0; a < 3; a++) {
        y[a] = R[3 * a] * x[0] + R[3 * a + 1] * x[1] + R[3 * a + 2] * x[2] + t[a];
        w[a] = R[3 * a] * v[0] + R[3 * a + 1] * v[1] + R[3 * a + 2] * v[2];
      }
      for (int a = 0; a < 3; a++) {
        x[a] = y[a] * 1e-3;
        v[a] = type == 2 ? w[a] * 1e-3 : w[a];
      }
    }
    ierr = tmsf_coil_add_owned(r->coil, type == 1 ? TMSF_COIL_DIPOLES : TMSF_COIL_SEGMENTS, stim,
                               name ? name : (type == 1 ? "dipoles" : "segments"), np, pos, vec);
    if (ierr) return ierr;
  } else {
    if (jp || jv) {
      snprintf(p, sizeof(p), "%s.%s", path, jp ? "points" : "values");
      return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "not allowed in a sampled-grid element (type 3)");
    }
    double M[16];
    snprintf(p, sizeof(p), "%s.affine", path);
    if (!cJSON_IsArray(ja) || cJSON_GetArraySize(ja) != 4)
      return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "found %s; expected a 4x4 list of lists (mm)", json_type_name(ja));
    int row = 0;
    const cJSON *jr;
    cJSON_ArrayForEach(jr, ja) {
      char pr[192];
      snprintf(pr, sizeof(pr), "%s[%d]", p, row);
      TMSF_CALL(get_numbers(r, pr, jr, 4, M + 4 * row));
      row++;
    }
    if (M[12] != 0.0 || M[13] != 0.0 || M[14] != 0.0 || M[15] != 1.0)
      return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "last row is not [0, 0, 0, 1]");
    int rotated = 0;
    for (int a = 0; a < 9; a++) rotated |= fabs(R[a] - (a % 4 == 0 ? 1.0 : 0.0)) > 1e-12;
    if (rotated) {
      snprintf(p, sizeof(p), "%s.deformations", path);
      return TCD_FAIL(r, TMSF_ERR_UNSUPPORTED, p,
                      "rotating a sampled grid is not supported; expected translations only (or "
                      "rotations of 0 degrees)");
    }
    for (int a = 0; a < 3; a++) {
      M[4 * a + 3] += t[a];
      for (int b = 0; b < 4; b++) M[4 * a + b] *= 1e-3; /* mm -> m */
    }
    int64_t dims[3];
    double *A;
    snprintf(p, sizeof(p), "%s.data", path);
    if (!jd) return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "missing; expected data[x][y][z] = [Ax, Ay, Az] in T m / A");
    TMSF_CALL(read_grid_data(r, p, jd, dims, &A));
    int ierr = tmsf_coil_add_grid(r->coil, stim, name ? name : "grid", dims, A, M);
    free(A);
    if (ierr) {
      char msg[TMSF_MSG_LEN];
      snprintf(msg, sizeof(msg), "%s", r->ctx->message);
      return TCD_FAIL(r, ierr == TMSF_ERR_MEMORY ? ierr : TMSF_ERR_FORMAT, path, "%s", msg);
    }
  }
  /* keep what is not used */
  const cJSON *x;
  cJSON_ArrayForEach(x, e) {
    int used = 0;
    for (int k = 0; element_keys[k]; k++) used |= x->string && !strcmp(x->string, element_keys[k]);
    if (used || !x->string) continue;
    char key[256];
    snprintf(key, sizeof(key), "%s.%.100s", path, x->string);
    TMSF_CALL(keep_json(r, key, x));
  }
  if (cJSON_GetObjectItemCaseSensitive(e, "deformations")) {
    char key[256];
    snprintf(key, sizeof(key), "%s.deformations", path);
    TMSF_CALL(keep_json(r, key, cJSON_GetObjectItemCaseSensitive(e, "deformations")));
  }
  return TMSF_SUCCESS;
}

static const char *const top_keys_used[] = {"name", "coilElementList", "stimulatorList", NULL};

static int read_root(tcd_reader *r, const cJSON *root) {
  if (!cJSON_IsObject(root))
    return TCD_FAIL(r, TMSF_ERR_FORMAT, "(top level)", "found %s; expected a JSON object", json_type_name(root));
  const char *name;
  TMSF_CALL(get_string(r, root, "name", "", &name));
  free(r->coil->name);
  r->coil->name = NULL;
  if (name && name[0]) {
    r->coil->name = tmsf_strdup(name);
  } else { /* the file name without directory and .tcd */
    const char *b = strrchr(r->origin, '/');
    b = b ? b + 1 : r->origin;
    size_t len = strlen(b);
    if (len > 4 && !strcmp(b + len - 4, ".tcd")) len -= 4;
    r->coil->name = malloc(len + 1);
    if (r->coil->name) memcpy(r->coil->name, b, len), r->coil->name[len] = '\0';
  }
  if (!r->coil->name) return TMSF_ERROR(r->ctx, TMSF_ERR_MEMORY, "%s: out of memory", r->origin);
  /* header: every top-level key but the element and stimulator lists, in file order */
  const cJSON *x;
  cJSON_ArrayForEach(x, root) {
    if (!x->string) continue;
    int used = 0;
    for (int k = 0; top_keys_used[k]; k++) used |= !strcmp(x->string, top_keys_used[k]);
    if (!used) TMSF_CALL(keep_json(r, x->string, x));
    else if (!strcmp(x->string, "name") && name) TMSF_CALL(tmsf_coil_add_header(r->coil, "name", name));
  }
  const char *s;
  TMSF_CALL(get_string(r, root, "brand", "", &s));
  TMSF_CALL(get_string(r, root, "version", "", &s));
  const cJSON *lim = cJSON_GetObjectItemCaseSensitive(root, "limits");
  if (lim) {
    if (!cJSON_IsArray(lim) || cJSON_GetArraySize(lim) != 3)
      return TCD_FAIL(r, TMSF_ERR_FORMAT, "limits", "found %s; expected [[x0, x1], [y0, y1], [z0, z1]] in mm",
                      json_type_name(lim));
    int i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, lim) {
      char p[32];
      double v[2];
      snprintf(p, sizeof(p), "limits[%d]", i++);
      TMSF_CALL(get_numbers(r, p, l, 2, v));
      if (!(v[0] < v[1])) return TCD_FAIL(r, TMSF_ERR_FORMAT, p, "[%g, %g]; expected min < max", v[0], v[1]);
    }
  }
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "resolution");
  if (res) {
    double v[3];
    TMSF_CALL(get_numbers(r, "resolution", res, 3, v));
    for (int c = 0; c < 3; c++)
      if (!(v[c] > 0.0)) return TCD_FAIL(r, TMSF_ERR_FORMAT, "resolution", "item %d is %g; expected > 0 mm", c, v[c]);
  }
  r->num_stim_listed = -1;
  const cJSON *sl = cJSON_GetObjectItemCaseSensitive(root, "stimulatorList");
  if (sl) TMSF_CALL(read_stimulators(r, sl));
  TMSF_CALL(read_deformations(r, cJSON_GetObjectItemCaseSensitive(root, "deformRangeList"),
                              cJSON_GetObjectItemCaseSensitive(root, "deformList")));
  const cJSON *el = cJSON_GetObjectItemCaseSensitive(root, "coilElementList");
  if (!cJSON_IsArray(el) || cJSON_GetArraySize(el) < 1)
    return TCD_FAIL(r, TMSF_ERR_FORMAT, "coilElementList", "found %s%s; expected a list of at least one coil element",
                    json_type_name(el), cJSON_IsArray(el) ? " (empty)" : "");
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, el) TMSF_CALL(read_element(r, i++, e));
  return TMSF_SUCCESS;
}

int tmsf_tcd_read_buffer(tmsf_context *ctx, const char *origin, const char *data, size_t size,
                         tmsf_coil **coil) {
  *coil = NULL;
  const char *end = NULL;
  if (size >= 3 && (unsigned char)data[0] == 0xef && (unsigned char)data[1] == 0xbb && (unsigned char)data[2] == 0xbf)
    data += 3, size -= 3; /* a UTF-8 byte-order mark */
  cJSON *root = cJSON_ParseWithLengthOpts(data, size, &end, 0);
  if (!root) {
    size_t off = end && end >= data && end <= data + size ? (size_t)(end - data) : 0;
    int64_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
      if (data[i] == '\n') line++, col = 1;
      else col++;
    }
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s:%lld:%lld: not valid JSON (parse error at byte %zu); expected a "
                      ".tcd coil definition (a JSON object)",
                      origin, (long long)line, (long long)col, off);
  }
  tcd_reader r = {.ctx = ctx, .origin = origin, .num_stim_listed = -1};
  int ierr = tmsf_coil_alloc(ctx, &r.coil);
  if (!ierr) ierr = read_root(&r, root);
  cJSON_Delete(root);
  free(r.range_initial);
  free(r.deforms);
  if (ierr) {
    tmsf_coil_destroy(&r.coil);
    return ierr;
  }
  *coil = r.coil;
  return TMSF_SUCCESS;
}

int tmsf_tcd_read(tmsf_context *ctx, const char *path, tmsf_coil **coil) {
  unsigned char *data;
  size_t size;
  *coil = NULL;
  TMSF_CALL(tmsf_file_read_all(ctx, path, &data, &size));
  int ierr = tmsf_tcd_read_buffer(ctx, path, (const char *)data, size, coil);
  free(data);
  return ierr;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * coil-grid.c: any coil sampled as an A-field grid (one grid per
 * stimulator), its interpolation error, and the on-disk cache of such grids
 * (NIfTI files keyed by a content hash of the coil and the grid).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "tmsf-impl.h"

/* ------------------------------------------------------------------------- */
/* Cache directory                                                           */
/* ------------------------------------------------------------------------- */

static atomic_flag cache_lock = ATOMIC_FLAG_INIT;
static char *cache_dir_set = NULL; /* NULL: default; "": disabled */
static int cache_dir_overridden = 0;

static void lock(void) {
  while (atomic_flag_test_and_set(&cache_lock)) {
  }
}
static void unlock(void) { atomic_flag_clear(&cache_lock); }

int tmsf_coil_set_cache_dir(const char *dir) {
  char *copy = NULL;
  if (dir && !(copy = tmsf_strdup(dir))) return TMSF_ERR_MEMORY;
  lock();
  free(cache_dir_set);
  cache_dir_set = copy;
  cache_dir_overridden = dir != NULL;
  unlock();
  return TMSF_SUCCESS;
}

int tmsf_coil_get_cache_dir(char *buf, size_t size) {
  if (!buf || size == 0) return TMSF_ERR_ARGUMENT;
  char tmp[4096] = "";
  lock();
  const int overridden = cache_dir_overridden;
  if (overridden) snprintf(tmp, sizeof(tmp), "%s", cache_dir_set);
  unlock();
  if (!overridden) return tmsf_default_cache_dir(buf, size);
  if (strlen(tmp) >= size) return TMSF_ERR_ARGUMENT;
  memcpy(buf, tmp, strlen(tmp) + 1);
  return TMSF_SUCCESS;
}


/* ------------------------------------------------------------------------- */
/* Content hash                                                              */
/* ------------------------------------------------------------------------- */

typedef struct hasher {
  uint64_t fnv; /* FNV-1a 64 */
  uLong crc;    /* zlib crc32 */
} hasher;

static void hash_bytes(hasher *h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h->fnv ^= p[i];
    h->fnv *= 0x100000001b3ULL;
  }
  while (n > 0) { /* crc32 takes uInt lengths */
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    h->crc = crc32(h->crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
}

static void hash_coil(hasher *h, const tmsf_coil *coil, const double lim[6], const double res[3]) {
  h->fnv = 0xcbf29ce484222325ULL;
  h->crc = crc32(0L, Z_NULL, 0);
  static const char tag[] = "tmsfield coil grid v1"; /* change when the sampling changes */
  hash_bytes(h, tag, sizeof(tag));
  hash_bytes(h, lim, 6 * sizeof(double));
  hash_bytes(h, res, 3 * sizeof(double));
  int32_t ns = coil->num_stimulators, ne = coil->num_elements;
  hash_bytes(h, &ns, sizeof(ns));
  hash_bytes(h, &ne, sizeof(ne));
  for (int i = 0; i < coil->num_elements; i++) {
    const tmsf_coil_element *e = &coil->elements[i];
    int32_t kind = (int32_t)e->kind, stim = e->stimulator;
    hash_bytes(h, &kind, sizeof(kind));
    hash_bytes(h, &stim, sizeof(stim));
    hash_bytes(h, &e->n, sizeof(e->n));
    if (e->kind == TMSF_COIL_GRID) {
      hash_bytes(h, e->dims, sizeof(e->dims));
      hash_bytes(h, e->origin, sizeof(e->origin));
      hash_bytes(h, e->spacing, sizeof(e->spacing));
      hash_bytes(h, e->grid, (size_t)e->n * 3 * sizeof(float));
    } else {
      hash_bytes(h, e->pos, (size_t)e->n * 3 * sizeof(double));
      hash_bytes(h, e->vec, (size_t)e->n * 3 * sizeof(double));
    }
  }
}

/* ------------------------------------------------------------------------- */
/* Sampling and error                                                        */
/* ------------------------------------------------------------------------- */

/* Deterministic uniform numbers in [0, 1) (64-bit LCG, top 53 bits). */
static double next_uniform(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*s >> 11) * (1.0 / 9007199254740992.0);
}

#define GRID_CHECK_POINTS 2000

/* Relative L2 error of the grid coil against the coil at points in the grid
 * box at least 2 spacings from every source. */
static int measure_error(const tmsf_coil *coil, const tmsf_coil *direct, const tmsf_coil *grid,
                         const double lo[3], const double hi[3], double hmax, double *err) {
  tmsf_context *ctx = coil->ctx;
  *err = NAN;
  double *pts = tmsf_malloc_array(GRID_CHECK_POINTS * 3, sizeof(double));
  double *a = tmsf_malloc_array(GRID_CHECK_POINTS * 3, sizeof(double));
  double *b = tmsf_malloc_array(GRID_CHECK_POINTS * 3, sizeof(double));
  if (!pts || !a || !b) {
    free(pts), free(a), free(b);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  uint64_t seed = 0x746d736669656c64ULL;
  int64_t np = 0;
  const double dmin = 2.0 * hmax;
  for (int64_t tries = 0; tries < 20 * GRID_CHECK_POINTS && np < GRID_CHECK_POINTS; tries++) {
    double x[3];
    for (int c = 0; c < 3; c++) x[c] = lo[c] + (hi[c] - lo[c]) * next_uniform(&seed);
    int near = 0;
    for (int i = 0; i < coil->num_elements && !near; i++) {
      const tmsf_coil_element *e = &coil->elements[i];
      if (e->kind == TMSF_COIL_GRID) continue;
      const int seg = e->kind == TMSF_COIL_SEGMENTS;
      for (int64_t k = 0; k < e->n; k++) {
        const double *p = e->pos + 3 * k;
        double d2 = (x[0] - p[0]) * (x[0] - p[0]) + (x[1] - p[1]) * (x[1] - p[1]) + (x[2] - p[2]) * (x[2] - p[2]);
        double r = dmin;
        if (seg) {
          const double *l = e->vec + 3 * k;
          r += 0.5 * sqrt(l[0] * l[0] + l[1] * l[1] + l[2] * l[2]);
        }
        if (d2 < r * r) {
          near = 1;
          break;
        }
      }
    }
    if (!near) memcpy(pts + 3 * np++, x, sizeof(x));
  }
  static const double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  int ierr = TMSF_SUCCESS;
  if (np > 0) {
    ierr = tmsf_coil_primary_field(direct, I, 1.0, np, pts, a, NULL);
    if (!ierr) ierr = tmsf_coil_primary_field(grid, I, 1.0, np, pts, b, NULL);
    if (!ierr) {
      double e2 = 0.0, s2 = 0.0;
      for (int64_t i = 0; i < 3 * np; i++) {
        e2 += (a[i] - b[i]) * (a[i] - b[i]);
        s2 += a[i] * a[i];
      }
      *err = s2 > 0.0 ? sqrt(e2 / s2) : (e2 > 0.0 ? INFINITY : 0.0);
    }
  }
  free(pts), free(a), free(b);
  return ierr;
}

/* Copy name, stimulators and header keys of src to dst. */
static int copy_metadata(tmsf_coil *dst, const tmsf_coil *src) {
  if (src->name) {
    char *n = tmsf_strdup(src->name);
    if (!n) return TMSF_ERROR(dst->ctx, TMSF_ERR_MEMORY, "out of memory");
    free(dst->name);
    dst->name = n;
  }
  for (int s = 0; s < src->num_stimulators; s++)
    TMSF_CALL(tmsf_coil_set_stimulator(dst, s, src->stimulators[s].name ? src->stimulators[s].name : "",
                                       src->stimulators[s].brand ? src->stimulators[s].brand : "",
                                       src->stimulators[s].didt_max));
  for (int k = 0; k < src->num_keys; k++)
    if (strcmp(src->keys[k], "grid_rel_error") != 0)
      TMSF_CALL(tmsf_coil_add_header(dst, src->keys[k], src->values[k]));
  return TMSF_SUCCESS;
}

/* The expansion grid a coil file states: .tcd "limits" [[x0,x1],[y0,y1],
 * [z0,z1]] and "resolution" [rx,ry,rz]; .ccd x=x0,x1; y=...; z=...;
 * resolution=r (all mm). */
static int header_grid(const tmsf_coil *coil, double lim[6], double res[3]) {
  const char *l = NULL, *r = NULL, *x = NULL, *y = NULL, *z = NULL;
  for (int k = 0; k < coil->num_keys; k++) {
    const char *key = coil->keys[k];
    if (!strcmp(key, "limits")) l = coil->values[k];
    else if (!strcmp(key, "resolution")) r = coil->values[k];
    else if (!strcmp(key, "x")) x = coil->values[k];
    else if (!strcmp(key, "y")) y = coil->values[k];
    else if (!strcmp(key, "z")) z = coil->values[k];
  }
  int ok = 0;
  if (l && r) {
    ok = sscanf(l, " [ [ %lf , %lf ] , [ %lf , %lf ] , [ %lf , %lf ] ]", lim, lim + 1, lim + 2, lim + 3, lim + 4,
                lim + 5) == 6 &&
         sscanf(r, " [ %lf , %lf , %lf ]", res, res + 1, res + 2) == 3;
  } else if (x && y && z && r) {
    ok = sscanf(x, " %lf , %lf", lim, lim + 1) == 2 && sscanf(y, " %lf , %lf", lim + 2, lim + 3) == 2 &&
         sscanf(z, " %lf , %lf", lim + 4, lim + 5) == 2 && sscanf(r, " %lf", res) == 1;
    res[1] = res[2] = res[0];
  }
  if (!ok)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT,
                      "coil '%s': no grid given and its header states none (.tcd limits and "
                      "resolution, or .ccd x, y, z and resolution); give limits and resolution",
                      coil->name ? coil->name : "");
  for (int k = 0; k < 6; k++) lim[k] *= 1e-3;
  for (int k = 0; k < 3; k++) res[k] *= 1e-3;
  return TMSF_SUCCESS;
}

int tmsf_coil_to_grid(const tmsf_coil *coil, const double limits_m[6], const double resolution_m[3],
                      tmsf_coil **grid_coil, double *rel_error) {
  if (!coil || !grid_coil) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = coil->ctx;
  double hl[6], hr[3];
  if (!limits_m || !resolution_m) {
    *grid_coil = NULL;
    TMSF_CALL(header_grid(coil, hl, hr));
    if (!limits_m) limits_m = hl;
    if (!resolution_m) resolution_m = hr;
  }
  *grid_coil = NULL;
  if (rel_error) *rel_error = NAN;
  if (coil->num_elements < 1)
    return TMSF_ERROR(ctx, TMSF_ERR_STATE, "coil '%s' has no elements to sample", coil->name ? coil->name : "");
  int64_t dims[3];
  double lo[3], hi[3], hmax = 0.0;
  for (int c = 0; c < 3; c++) {
    lo[c] = limits_m[2 * c];
    const double h = resolution_m[c];
    if (!isfinite(lo[c]) || !isfinite(limits_m[2 * c + 1]) || !(limits_m[2 * c + 1] > lo[c]) ||
        !isfinite(h) || !(h > 0.0))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "grid axis %d: limits [%g, %g] m, resolution %g m; expected min < max and a "
                        "positive resolution",
                        c, lo[c], limits_m[2 * c + 1], h);
    double n = floor((limits_m[2 * c + 1] - lo[c]) / h * (1.0 + 1e-12)) + 1.0;
    if (n < 2.0 || n > 100000.0)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid axis %d would have %g points; expected 2..100000", c, n);
    dims[c] = (int64_t)n;
    hi[c] = lo[c] + (double)(dims[c] - 1) * h;
    if (h > hmax) hmax = h;
  }
  const size_t nvox = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  if (nvox > ((size_t)1 << 28))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid of %lld x %lld x %lld points is too large (limit 2^28)",
                      (long long)dims[0], (long long)dims[1], (long long)dims[2]);
  const int S = coil->num_stimulators > 0 ? coil->num_stimulators : 1;
  const double M[16] = {resolution_m[0], 0, 0, lo[0], 0, resolution_m[1], 0, lo[1],
                        0, 0, resolution_m[2], lo[2], 0, 0, 0, 1};
  /* the direct evaluation in double precision: a shallow copy */
  tmsf_coil direct = *coil;
  direct.precision = TMSF_PRECISION_DOUBLE;

  /* the cache */
  char dir[4096], file[4200] = "";
  if (tmsf_coil_get_cache_dir(dir, sizeof(dir)) == 0 && dir[0] && TMSF_HAVE_NIFTI) {
    hasher h;
    hash_coil(&h, coil, limits_m, resolution_m);
    snprintf(file, sizeof(file), "%s/coilgrid-%016llx%08lx.nii.gz", dir, (unsigned long long)h.fnv,
             (unsigned long)h.crc);
    if (access(file, R_OK) == 0) {
      tmsf_coil *g = NULL;
      char saved[TMSF_MSG_LEN];
      snprintf(saved, sizeof(saved), "%s", ctx->message);
      int st = ctx->status;
      int ok = tmsf_nifti_coil_read(ctx, file, &g) == 0 && g->num_elements == S;
      for (int i = 0; ok && i < S; i++)
        for (int c = 0; c < 3; c++)
          ok &= g->elements[i].dims[c] == dims[c] && fabs(g->elements[i].origin[c] - lo[c]) <= 1e-9 * hmax &&
                fabs(g->elements[i].spacing[c] - resolution_m[c]) <= 1e-12 * resolution_m[c];
      double err = NAN;
      const char *desc = NULL;
      if (ok && tmsf_coil_get_header(g, "descrip", &desc) == 0) {
        const char *p = strstr(desc, "err=");
        if (p) err = strtod(p + 4, NULL);
      }
      if (ok && desc) {
        tmsf_coil *out = NULL;
        int ierr = tmsf_coil_create(ctx, NULL, &out);
        if (!ierr) {
          /* take the grid elements over */
          out->elements = g->elements, out->num_elements = g->num_elements, out->kind = g->kind;
          g->elements = NULL, g->num_elements = 0;
          ierr = copy_metadata(out, coil);
        }
        char txt[64];
        snprintf(txt, sizeof(txt), "%.6e", err);
        if (!ierr) ierr = tmsf_coil_add_header(out, "grid_rel_error", txt);
        tmsf_coil_destroy(&g);
        if (ierr) {
          tmsf_coil_destroy(&out);
          return ierr;
        }
        *grid_coil = out;
        if (rel_error) *rel_error = err;
        return TMSF_SUCCESS;
      }
      tmsf_coil_destroy(&g);
      /* an unreadable or foreign cache file: recompute (and replace it) */
      snprintf(ctx->message, sizeof(ctx->message), "%s", saved);
      ctx->status = st;
    }
  }

  /* sample: stimulator s alone at 1 A */
  double *pts = tmsf_malloc_array(nvox * 3, sizeof(double));
  double *val = tmsf_malloc_array(nvox * 3, sizeof(double));
  double *buf = tmsf_malloc_array(nvox * 3, sizeof(double));
  double didt[TMSF_COIL_MAX_STIMULATORS] = {0};
  tmsf_coil *out = NULL;
  int ierr = TMSF_SUCCESS;
  if (!pts || !val || !buf) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for %zu grid points", nvox);
    goto done;
  }
  for (int64_t k = 0; k < dims[2]; k++)
    for (int64_t j = 0; j < dims[1]; j++)
      for (int64_t i = 0; i < dims[0]; i++) {
        size_t q = (size_t)((k * dims[1] + j) * dims[0] + i);
        pts[3 * q] = lo[0] + (double)i * resolution_m[0];
        pts[3 * q + 1] = lo[1] + (double)j * resolution_m[1];
        pts[3 * q + 2] = lo[2] + (double)k * resolution_m[2];
      }
  ierr = tmsf_coil_create(ctx, NULL, &out);
  if (ierr) goto done;
  static const double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  for (int s = 0; s < S; s++) {
    for (int t = 0; t < S; t++) didt[t] = t == s ? 1.0 : 0.0;
    ierr = tmsf_coil_primary_field_stimulators(&direct, I, didt, (int64_t)nvox, pts, val, NULL);
    if (ierr) goto done;
    for (size_t q = 0; q < nvox; q++)
      for (int c = 0; c < 3; c++) {
        double v = val[3 * q + c];
        buf[(size_t)c * nvox + q] = isfinite(v) && fabs(v) < 1e30 ? v : 0.0; /* at a source */
      }
    char ename[48];
    snprintf(ename, sizeof(ename), "stimulator %d", s);
    ierr = tmsf_coil_add_grid(out, s, S > 1 ? ename : "grid", dims, buf, M);
    if (ierr) goto done;
  }
  ierr = copy_metadata(out, coil);
  if (ierr) goto done;
  double err;
  ierr = measure_error(coil, &direct, out, lo, hi, hmax, &err);
  if (ierr) goto done;
  {
    char txt[64];
    snprintf(txt, sizeof(txt), "%.6e", err);
    ierr = tmsf_coil_add_header(out, "grid_rel_error", txt);
    if (ierr) goto done;
  }
  if (rel_error) *rel_error = err;
  if (file[0] && tmsf_make_dirs(dir) == 0) {
    char desc[80];
    snprintf(desc, sizeof(desc), "tmsfield A T m/A per A; err=%.6e", err);
    char saved[TMSF_MSG_LEN];
    snprintf(saved, sizeof(saved), "%s", ctx->message);
    int st = ctx->status;
    if (tmsf_nifti_coil_write(out, file, desc) != 0) { /* ignored: the grid stands */
      snprintf(ctx->message, sizeof(ctx->message), "%s", saved);
      ctx->status = st;
    }
  }
done:
  free(pts), free(val), free(buf);
  if (ierr) {
    tmsf_coil_destroy(&out);
    return ierr;
  }
  *grid_coil = out;
  return TMSF_SUCCESS;
}

int tmsf_coil_write_nifti(const tmsf_coil *coil, const char *path) {
  if (!coil || !path) return TMSF_ERR_ARGUMENT;
  return tmsf_nifti_coil_write(coil, path, NULL);
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * coil.c: the coil object and its primary field (dA/dt) at points.
 */
#include <stdatomic.h>
#include <string.h>

#include "tmsf-impl.h"

static atomic_uint_fast64_t next_coil_uid = 1;

static uint64_t new_uid(void) { return (uint64_t)atomic_fetch_add(&next_coil_uid, 1); }

int tmsf_coil_alloc(tmsf_context *ctx, tmsf_coil **coil) {
  *coil = calloc(1, sizeof(**coil));
  if (!*coil) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  (*coil)->ctx = ctx;
  (*coil)->precision = TMSF_PRECISION_SINGLE;
  (*coil)->uid = new_uid();
  return TMSF_SUCCESS;
}

int tmsf_coil_destroy(tmsf_coil **coil) {
  if (!coil || !*coil) return TMSF_SUCCESS;
  tmsf_coil *c = *coil;
  for (int i = 0; i < c->num_keys; i++) {
    free(c->keys[i]);
    free(c->values[i]);
  }
  free(c->keys);
  free(c->values);
  free(c->name);
  for (int i = 0; i < c->num_elements; i++) {
    tmsf_coil_element *e = &c->elements[i];
    free(e->name);
    free(e->pos);
    free(e->vec);
    free(e->grid);
  }
  free(c->elements);
  for (int i = 0; i < c->num_stimulators; i++) {
    free(c->stimulators[i].name);
    free(c->stimulators[i].brand);
  }
  free(c->stimulators);
  free(c);
  *coil = NULL;
  return TMSF_SUCCESS;
}

int tmsf_coil_add_header(tmsf_coil *c, const char *key, const char *value) {
  char **nk = realloc(c->keys, (size_t)(c->num_keys + 1) * sizeof(char *));
  if (nk) c->keys = nk;
  char **nv = realloc(c->values, (size_t)(c->num_keys + 1) * sizeof(char *));
  if (nv) c->values = nv;
  char *k = tmsf_strdup(key), *v = tmsf_strdup(value);
  if (!nk || !nv || !k || !v) {
    free(k), free(v);
    return TMSF_ERROR(c->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  c->keys[c->num_keys] = k;
  c->values[c->num_keys] = v;
  c->num_keys++;
  return TMSF_SUCCESS;
}

/* Sniff the format by content: NIfTI by its magic (or gzip), .tcd by a '{'
 * as the first non-blank byte, else .ccd text. */
int tmsf_coil_read(tmsf_context *ctx, const char *path, tmsf_coil **coil) {
  if (!ctx || !path || !coil) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading", path);
  unsigned char head[352];
  size_t got = fread(head, 1, sizeof(head), f);
  fclose(f);
  if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b) return tmsf_nifti_coil_read(ctx, path, coil);
  if (got >= 348) {
    int32_t hs;
    memcpy(&hs, head, 4);
    if (hs == 348 || hs == 540 || hs == 0x5c010000 || hs == 0x1c020000)
      return tmsf_nifti_coil_read(ctx, path, coil);
  }
  size_t i = 0;
  if (got >= 3 && head[0] == 0xef && head[1] == 0xbb && head[2] == 0xbf) i = 3; /* UTF-8 BOM */
  while (i < got && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) i++;
  size_t len = strlen(path);
  if ((len > 4 && strcmp(path + len - 4, ".nii") == 0) || (len > 7 && strcmp(path + len - 7, ".nii.gz") == 0))
    return tmsf_nifti_coil_read(ctx, path, coil);
  if ((i < got && head[i] == '{') || (len > 4 && strcmp(path + len - 4, ".tcd") == 0))
    return tmsf_tcd_read(ctx, path, coil);
  return tmsf_ccd_read(ctx, path, coil);
}

int tmsf_coil_create(tmsf_context *ctx, const char *name, tmsf_coil **coil) {
  if (!ctx || !coil) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  tmsf_coil *c;
  TMSF_CALL(tmsf_coil_alloc(ctx, &c));
  c->name = tmsf_strdup(name ? name : "coil");
  if (!c->name) {
    tmsf_coil_destroy(&c);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  *coil = c;
  return TMSF_SUCCESS;
}

int tmsf_coil_ensure_stimulator(tmsf_coil *coil, int index) {
  if (index < 0 || index >= TMSF_COIL_MAX_STIMULATORS)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "stimulator index %d; expected 0..%d", index,
                      TMSF_COIL_MAX_STIMULATORS - 1);
  if (index < coil->num_stimulators) return TMSF_SUCCESS;
  tmsf_coil_stimulator *s = realloc(coil->stimulators, (size_t)(index + 1) * sizeof(*s));
  if (!s) return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
  coil->stimulators = s;
  for (int i = coil->num_stimulators; i <= index; i++) {
    s[i].name = NULL;
    s[i].brand = NULL;
    s[i].didt_max = NAN;
  }
  coil->num_stimulators = index + 1;
  return TMSF_SUCCESS;
}

/* A new zeroed element at the end of the list. */
static int new_element(tmsf_coil *coil, tmsf_coil_kind kind, int stimulator, const char *name,
                       tmsf_coil_element **out) {
  *out = NULL;
  TMSF_CALL(tmsf_coil_ensure_stimulator(coil, stimulator));
  if (coil->num_elements >= 1 << 20)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "coil '%s': too many elements",
                      coil->name ? coil->name : "");
  char *nm = tmsf_strdup(name ? name : kind == TMSF_COIL_DIPOLES ? "dipoles"
                                       : kind == TMSF_COIL_SEGMENTS ? "segments"
                                                                    : "grid");
  tmsf_coil_element *e = realloc(coil->elements, (size_t)(coil->num_elements + 1) * sizeof(*e));
  if (e) coil->elements = e;
  if (!e || !nm) {
    free(nm);
    return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  e += coil->num_elements++;
  memset(e, 0, sizeof(*e));
  e->kind = kind;
  e->stimulator = stimulator;
  e->name = nm;
  coil->kind = coil->num_elements == 1 ? kind : coil->kind == kind ? kind : TMSF_COIL_MIXED;
  coil->uid = new_uid();
  *out = e;
  return TMSF_SUCCESS;
}

int tmsf_coil_add_owned(tmsf_coil *coil, tmsf_coil_kind kind, int stimulator, const char *name,
                        int64_t n, double *pos, double *vec) {
  tmsf_coil_element *e;
  int ierr = new_element(coil, kind, stimulator, name, &e);
  if (ierr) {
    free(pos), free(vec);
    return ierr;
  }
  e->n = n;
  e->pos = pos;
  e->vec = vec;
  if (kind == TMSF_COIL_DIPOLES) coil->num_dipoles += n;
  return TMSF_SUCCESS;
}

static int add_vectors(tmsf_coil *coil, tmsf_coil_kind kind, int stimulator, const char *name,
                       int64_t n, const double *pos, const double *vec) {
  const char *what = kind == TMSF_COIL_DIPOLES ? "dipole" : "segment";
  if (n < 1 || n > ((int64_t)1 << 40) || !pos || !vec)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "coil '%s': need at least one %s and both arrays",
                      coil->name ? coil->name : "", what);
  for (int64_t i = 0; i < 3 * n; i++)
    if (!isfinite(pos[i]) || !isfinite(vec[i]))
      return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "%s %lld has a non-finite value", what,
                        (long long)(i / 3));
  double *p = tmsf_malloc_array((size_t)n * 3, sizeof(double));
  double *v = tmsf_malloc_array((size_t)n * 3, sizeof(double));
  if (!p || !v) {
    free(p), free(v);
    return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory for %lld %ss", (long long)n, what);
  }
  memcpy(p, pos, (size_t)n * 3 * sizeof(double));
  memcpy(v, vec, (size_t)n * 3 * sizeof(double));
  return tmsf_coil_add_owned(coil, kind, stimulator, name, n, p, v);
}

int tmsf_coil_add_dipoles(tmsf_coil *coil, int stimulator, const char *name, int64_t n,
                          const double *positions_m, const double *moments_A_m2) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  return add_vectors(coil, TMSF_COIL_DIPOLES, stimulator, name, n, positions_m, moments_A_m2);
}

int tmsf_coil_add_segments(tmsf_coil *coil, int stimulator, const char *name, int64_t n,
                           const double *midpoints_m, const double *dl_m) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  return add_vectors(coil, TMSF_COIL_SEGMENTS, stimulator, name, n, midpoints_m, dl_m);
}

int tmsf_coil_add_grid(tmsf_coil *coil, int stimulator, const char *name, const int64_t dims[3],
                       const double *A_T_m_per_A, const double grid_from_index_m[16]) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = coil->ctx;
  if (!dims || !A_T_m_per_A || !grid_from_index_m)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_coil_add_grid: dims, samples and affine are required");
  for (int k = 0; k < 3; k++)
    if (dims[k] < 2 || dims[k] > 100000)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid dimension %d is %lld; expected 2..100000", k,
                        (long long)dims[k]);
  size_t nvox = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  if (nvox > ((size_t)1 << 31))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid of %lld x %lld x %lld samples is too large (limit 2^31)",
                      (long long)dims[0], (long long)dims[1], (long long)dims[2]);
  const double *M = grid_from_index_m;
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      if (r != c && !(fabs(M[4 * r + c]) <= 1e-9 * fabs(M[4 * r + r])))
        return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                          "grid affine is not axis-aligned (entry %d,%d = %g); expected a "
                          "diagonal 3x3 part",
                          r, c, M[4 * r + c]);
  for (int r = 0; r < 3; r++)
    if (!(fabs(M[4 * r + r]) > 0.0) || !isfinite(M[4 * r + r]) || !isfinite(M[4 * r + 3]))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid spacing %d is %g; expected finite and non-zero", r, M[4 * r + r]);
  float *g = tmsf_malloc_array(nvox * 3, sizeof(float));
  if (!g) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory for %zu grid samples", nvox);
  for (size_t i = 0; i < 3 * nvox; i++) {
    if (!isfinite(A_T_m_per_A[i]) || fabs(A_T_m_per_A[i]) > 3e38) {
      free(g);
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "grid sample %zu is %g; expected a finite value", i,
                        A_T_m_per_A[i]);
    }
    g[i] = (float)A_T_m_per_A[i];
  }
  tmsf_coil_element *e;
  int ierr = new_element(coil, TMSF_COIL_GRID, stimulator, name, &e);
  if (ierr) {
    free(g);
    return ierr;
  }
  e->grid = g;
  e->n = (int64_t)nvox;
  for (int k = 0; k < 3; k++) {
    e->dims[k] = dims[k];
    e->spacing[k] = M[4 * k + k];
    e->origin[k] = M[4 * k + 3];
  }
  return TMSF_SUCCESS;
}

int tmsf_coil_create_dipoles(tmsf_context *ctx, int64_t num_dipoles, const double *positions_m,
                             const double *moments_A_m2, tmsf_coil **coil) {
  if (!ctx || !coil) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  tmsf_coil *c;
  TMSF_CALL(tmsf_coil_create(ctx, "dipoles", &c));
  int ierr = tmsf_coil_add_dipoles(c, 0, "dipoles", num_dipoles, positions_m, moments_A_m2);
  if (ierr) {
    tmsf_coil_destroy(&c);
    return ierr;
  }
  *coil = c;
  return TMSF_SUCCESS;
}

int tmsf_coil_create_segments(tmsf_context *ctx, int64_t num_segments, const double *midpoints_m,
                              const double *dl_m, tmsf_coil **coil) {
  if (!ctx || !coil) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  tmsf_coil *c;
  TMSF_CALL(tmsf_coil_create(ctx, "segments", &c));
  int ierr = tmsf_coil_add_segments(c, 0, "segments", num_segments, midpoints_m, dl_m);
  if (ierr) {
    tmsf_coil_destroy(&c);
    return ierr;
  }
  *coil = c;
  return TMSF_SUCCESS;
}

int tmsf_coil_create_grid(tmsf_context *ctx, const int64_t dims[3], const double *A_T_m_per_A,
                          const double grid_from_index_m[16], tmsf_coil **coil) {
  if (!ctx || !coil || !dims || !A_T_m_per_A || !grid_from_index_m) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  tmsf_coil *c;
  TMSF_CALL(tmsf_coil_create(ctx, "grid", &c));
  int ierr = tmsf_coil_add_grid(c, 0, "grid", dims, A_T_m_per_A, grid_from_index_m);
  if (ierr) {
    tmsf_coil_destroy(&c);
    return ierr;
  }
  *coil = c;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_kind(const tmsf_coil *coil, tmsf_coil_kind *kind) {
  if (!coil || !kind) return TMSF_ERR_ARGUMENT;
  if (coil->num_elements == 0)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_STATE, "coil '%s' has no elements yet",
                      coil->name ? coil->name : "");
  *kind = coil->kind;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_num_dipoles(const tmsf_coil *coil, int64_t *num_dipoles) {
  if (!coil || !num_dipoles) return TMSF_ERR_ARGUMENT;
  *num_dipoles = coil->num_dipoles;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_dipoles(const tmsf_coil *coil, const double **positions_m,
                          const double **moments_A_m2) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (coil->num_elements != 1 || coil->elements[0].kind != TMSF_COIL_DIPOLES)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_STATE,
                      "coil '%s' has %d elements%s; tmsf_coil_get_dipoles needs exactly one element "
                      "of dipoles (use tmsf_coil_get_element_data)",
                      coil->name ? coil->name : "", coil->num_elements,
                      coil->num_elements == 1 ? " (not dipoles)" : "");
  if (positions_m) *positions_m = coil->elements[0].pos;
  if (moments_A_m2) *moments_A_m2 = coil->elements[0].vec;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_num_elements(const tmsf_coil *coil, int *num) {
  if (!coil || !num) return TMSF_ERR_ARGUMENT;
  *num = coil->num_elements;
  return TMSF_SUCCESS;
}

static int check_element(const tmsf_coil *coil, int index) {
  if (index < 0 || index >= coil->num_elements)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "coil '%s': element index %d out of range 0..%d",
                      coil->name ? coil->name : "", index, coil->num_elements - 1);
  return TMSF_SUCCESS;
}

int tmsf_coil_get_element(const tmsf_coil *coil, int index, tmsf_coil_kind *kind, int *stimulator,
                          int64_t *count, const char **name) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(check_element(coil, index));
  const tmsf_coil_element *e = &coil->elements[index];
  if (kind) *kind = e->kind;
  if (stimulator) *stimulator = e->stimulator;
  if (count) *count = e->n;
  if (name) *name = e->name ? e->name : "";
  return TMSF_SUCCESS;
}

int tmsf_coil_get_element_data(const tmsf_coil *coil, int index, const double **positions_m,
                               const double **vectors) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(check_element(coil, index));
  const tmsf_coil_element *e = &coil->elements[index];
  if (e->kind == TMSF_COIL_GRID)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_STATE,
                      "coil '%s': element %d is a grid; use tmsf_coil_get_grid",
                      coil->name ? coil->name : "", index);
  if (positions_m) *positions_m = e->pos;
  if (vectors) *vectors = e->vec;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_grid(const tmsf_coil *coil, int index, int64_t dims[3], double origin_m[3],
                       double spacing_m[3], const float **A_T_m_per_A) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(check_element(coil, index));
  const tmsf_coil_element *e = &coil->elements[index];
  if (e->kind != TMSF_COIL_GRID)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_STATE, "coil '%s': element %d is not a grid",
                      coil->name ? coil->name : "", index);
  for (int k = 0; k < 3; k++) {
    if (dims) dims[k] = e->dims[k];
    if (origin_m) origin_m[k] = e->origin[k];
    if (spacing_m) spacing_m[k] = e->spacing[k];
  }
  if (A_T_m_per_A) *A_T_m_per_A = e->grid;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_num_stimulators(const tmsf_coil *coil, int *num) {
  if (!coil || !num) return TMSF_ERR_ARGUMENT;
  *num = coil->num_stimulators;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_stimulator(const tmsf_coil *coil, int index, const char **name, const char **brand,
                             double *didt_max_A_per_s) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (index < 0 || index >= coil->num_stimulators)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "coil '%s': stimulator index %d out of range 0..%d",
                      coil->name ? coil->name : "", index, coil->num_stimulators - 1);
  const tmsf_coil_stimulator *s = &coil->stimulators[index];
  if (name) *name = s->name ? s->name : "";
  if (brand) *brand = s->brand ? s->brand : "";
  if (didt_max_A_per_s) *didt_max_A_per_s = s->didt_max;
  return TMSF_SUCCESS;
}

int tmsf_coil_set_stimulator(tmsf_coil *coil, int index, const char *name, const char *brand,
                             double didt_max_A_per_s) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (!isnan(didt_max_A_per_s) && !(isfinite(didt_max_A_per_s) && didt_max_A_per_s > 0.0))
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT,
                      "dI/dt max must be finite and > 0 A/s (or NAN for unknown), got %g",
                      didt_max_A_per_s);
  TMSF_CALL(tmsf_coil_ensure_stimulator(coil, index));
  tmsf_coil_stimulator *s = &coil->stimulators[index];
  char *n = name ? tmsf_strdup(name) : NULL, *b = brand ? tmsf_strdup(brand) : NULL;
  if ((name && !n) || (brand && !b)) {
    free(n), free(b);
    return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  if (name) free(s->name), s->name = n;
  if (brand) free(s->brand), s->brand = b;
  s->didt_max = didt_max_A_per_s;
  return TMSF_SUCCESS;
}

int tmsf_coil_tabulable(const tmsf_coil *coil) {
  if (coil->num_elements < 1) return 0;
  for (int i = 0; i < coil->num_elements; i++)
    if (coil->elements[i].kind == TMSF_COIL_GRID) return 0;
  return 1;
}

double tmsf_coil_max_source_z(const tmsf_coil *coil) {
  double zmax = -INFINITY;
  for (int i = 0; i < coil->num_elements; i++) {
    const tmsf_coil_element *e = &coil->elements[i];
    if (e->kind == TMSF_COIL_GRID) continue;
    const int seg = e->kind == TMSF_COIL_SEGMENTS;
    for (int64_t k = 0; k < e->n; k++) {
      double z = e->pos[3 * k + 2] + (seg ? 0.5 * fabs(e->vec[3 * k + 2]) : 0.0);
      if (z > zmax) zmax = z;
    }
  }
  return zmax;
}

int tmsf_coil_get_name(const tmsf_coil *coil, const char **name) {
  if (!coil || !name) return TMSF_ERR_ARGUMENT;
  *name = coil->name ? coil->name : "";
  return TMSF_SUCCESS;
}

int tmsf_coil_get_didt_max(const tmsf_coil *coil, double *didt_max_A_per_s) {
  if (!coil || !didt_max_A_per_s) return TMSF_ERR_ARGUMENT;
  if (coil->num_stimulators < 1 || !isfinite(coil->stimulators[0].didt_max))
    return TMSF_ERROR(coil->ctx, TMSF_ERR_NOT_FOUND,
                      "coil '%s' has no dIdtmax (maximum dI/dt at 100 %% MSO); give dI/dt "
                      "directly or set it",
                      coil->name ? coil->name : "");
  *didt_max_A_per_s = coil->stimulators[0].didt_max;
  return TMSF_SUCCESS;
}

int tmsf_coil_set_didt_max(tmsf_coil *coil, double didt_max_A_per_s) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (!isfinite(didt_max_A_per_s) || didt_max_A_per_s <= 0.0)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "dI/dt max must be finite and > 0 A/s, got %g",
                      didt_max_A_per_s);
  TMSF_CALL(tmsf_coil_ensure_stimulator(coil, 0));
  coil->stimulators[0].didt_max = didt_max_A_per_s;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_num_header_keys(const tmsf_coil *coil, int *num_keys) {
  if (!coil || !num_keys) return TMSF_ERR_ARGUMENT;
  *num_keys = coil->num_keys;
  return TMSF_SUCCESS;
}

int tmsf_coil_get_header_key(const tmsf_coil *coil, int index, const char **key, const char **value) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (index < 0 || index >= coil->num_keys)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "header key index %d out of range 0..%d", index,
                      coil->num_keys - 1);
  if (key) *key = coil->keys[index];
  if (value) *value = coil->values[index];
  return TMSF_SUCCESS;
}

int tmsf_coil_get_header(const tmsf_coil *coil, const char *key, const char **value) {
  if (!coil || !key || !value) return TMSF_ERR_ARGUMENT;
  for (int i = 0; i < coil->num_keys; i++)
    if (strcmp(coil->keys[i], key) == 0) {
      *value = coil->values[i];
      return TMSF_SUCCESS;
    }
  return TMSF_ERROR(coil->ctx, TMSF_ERR_NOT_FOUND, "coil header has no key '%s'", key);
}

/* ------------------------------------------------------------------------- */
/* Primary field                                                             */
/* ------------------------------------------------------------------------- */

/* A (per ampere) at n points from dipoles given in structure-of-arrays form.
 * The inner loop runs over dipoles with a SIMD reduction; the outer loop over
 * points is threaded, so each point's sum has a fixed order. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void dipole_sum(int64_t n, const double *restrict pts, int64_t nd,
                       const double *restrict dx, const double *restrict dy,
                       const double *restrict dz, const double *restrict mx,
                       const double *restrict my, const double *restrict mz, double scale,
                       double *restrict out, int nthreads) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 64) num_threads(nthreads)
#else
  (void)nthreads;
#endif
  for (int64_t i = 0; i < n; i++) {
    const double px = pts[3 * i], py = pts[3 * i + 1], pz = pts[3 * i + 2];
    double ax = 0.0, ay = 0.0, az = 0.0;
#pragma omp simd reduction(+ : ax, ay, az)
    for (int64_t k = 0; k < nd; k++) {
      double rx = px - dx[k], ry = py - dy[k], rz = pz - dz[k];
      double r2 = rx * rx + ry * ry + rz * rz;
      double ir = 1.0 / sqrt(r2);
      double ir3 = ir * ir * ir;
      ax += (my[k] * rz - mz[k] * ry) * ir3;
      ay += (mz[k] * rx - mx[k] * rz) * ir3;
      az += (mx[k] * ry - my[k] * rx) * ir3;
    }
    out[3 * i] = scale * ax;
    out[3 * i + 1] = scale * ay;
    out[3 * i + 2] = scale * az;
  }
}

/* The same sum in single precision, for speed (AVX-512: 16 lanes): positions
 * relative to an origin near the coil, so that float resolves the distances to
 * ~1e-7 relative; partial sums over blocks of 256 dipoles are added in double.
 * Measured relative error of A against the double sum: ~1e-6. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void dipole_sum_single(int64_t n, const double *restrict pts, const double origin[3], int64_t nd,
                              const float *restrict dx, const float *restrict dy,
                              const float *restrict dz, const float *restrict mx,
                              const float *restrict my, const float *restrict mz, double scale,
                              double *restrict out, int nthreads) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 64) num_threads(nthreads)
#else
  (void)nthreads;
#endif
  for (int64_t i = 0; i < n; i++) {
    const float px = (float)(pts[3 * i] - origin[0]), py = (float)(pts[3 * i + 1] - origin[1]),
                pz = (float)(pts[3 * i + 2] - origin[2]);
    double ax = 0.0, ay = 0.0, az = 0.0;
    for (int64_t k0 = 0; k0 < nd; k0 += 256) {
      const int64_t k1 = k0 + 256 < nd ? k0 + 256 : nd;
      float bx = 0.0f, by = 0.0f, bz = 0.0f;
#pragma omp simd reduction(+ : bx, by, bz)
      for (int64_t k = k0; k < k1; k++) {
        float rx = px - dx[k], ry = py - dy[k], rz = pz - dz[k];
        float r2 = rx * rx + ry * ry + rz * rz;
        float ir = 1.0f / sqrtf(r2);
        float ir3 = ir * ir * ir;
        bx += (my[k] * rz - mz[k] * ry) * ir3;
        by += (mz[k] * rx - mx[k] * rz) * ir3;
        bz += (mx[k] * ry - my[k] * rx) * ir3;
      }
      ax += bx, ay += by, az += bz;
    }
    out[3 * i] = scale * ax;
    out[3 * i + 1] = scale * ay;
    out[3 * i + 2] = scale * az;
  }
}

/* A (per ampere) at n points from straight segments, structure of arrays:
 * A = sum_k dl_k / |r - r_k| (times scale).  Double precision: the terms of a
 * closed winding cancel down to its dipole-like far field, and float terms
 * (summed in double per block of 256, as the dipole path does) gave 1.1e-6
 * relative error on the Brainsway H1 at its 20 reference points (numpy
 * float32 experiment), above the 1e-7 asked for.  SIMD over segments,
 * threads over points. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void segment_sum(int64_t n, const double *restrict pts, const double origin[3], int64_t ns,
                        const double *restrict sx, const double *restrict sy,
                        const double *restrict sz, const double *restrict lx,
                        const double *restrict ly, const double *restrict lz, double scale,
                        double *restrict out, int nthreads) {
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 64) num_threads(nthreads)
#else
  (void)nthreads;
#endif
  for (int64_t i = 0; i < n; i++) {
    const double px = pts[3 * i] - origin[0], py = pts[3 * i + 1] - origin[1],
                 pz = pts[3 * i + 2] - origin[2];
    double ax = 0.0, ay = 0.0, az = 0.0;
#pragma omp simd reduction(+ : ax, ay, az)
    for (int64_t k = 0; k < ns; k++) {
      double rx = px - sx[k], ry = py - sy[k], rz = pz - sz[k];
      double ir = 1.0 / sqrt(rx * rx + ry * ry + rz * rz);
      ax += lx[k] * ir;
      ay += ly[k] * ir;
      az += lz[k] * ir;
    }
    out[3 * i] = scale * ax;
    out[3 * i + 1] = scale * ay;
    out[3 * i + 2] = scale * az;
  }
}

static int primary_segments(const tmsf_coil *coil, const tmsf_coil_element *e, const double P[16],
                            double didt, int64_t n, const double *pts, double *out) {
  const int64_t ns = e->n;
  double *buf = tmsf_malloc_array((size_t)ns * 6, sizeof(double));
  if (!buf) return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
  double *sx = buf, *sy = buf + ns, *sz = buf + 2 * ns, *lx = buf + 3 * ns, *ly = buf + 4 * ns,
         *lz = buf + 5 * ns;
  const double origin[3] = {P[3], P[7], P[11]}; /* positions relative to the coil centre */
  for (int64_t k = 0; k < ns; k++) {
    double r[3], l[3];
    tmsf_pose_apply_vector(P, e->pos + 3 * k, r);
    tmsf_pose_apply_vector(P, e->vec + 3 * k, l);
    sx[k] = r[0], sy[k] = r[1], sz[k] = r[2];
    lx[k] = l[0], ly[k] = l[1], lz[k] = l[2];
  }
  segment_sum(n, pts, origin, ns, sx, sy, sz, lx, ly, lz, TMSF_CONST_MKSA_MU0_OVER_4PI * didt, out,
              tmsf_threads(coil->ctx));
  free(buf);
  return TMSF_SUCCESS;
}

static int primary_dipoles(const tmsf_coil *coil, const tmsf_coil_element *e, const double P[16],
                           double didt, int64_t n, const double *pts, double *out) {
  int64_t nd = e->n;
  const double scale = TMSF_CONST_MKSA_MU0_OVER_4PI * didt;
  if (coil->precision == TMSF_PRECISION_SINGLE) {
    float *buf = tmsf_malloc_array((size_t)nd * 6, sizeof(float));
    if (!buf) return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
    float *dx = buf, *dy = buf + nd, *dz = buf + 2 * nd, *mx = buf + 3 * nd, *my = buf + 4 * nd,
          *mz = buf + 5 * nd;
    const double origin[3] = {P[3], P[7], P[11]}; /* the coil centre */
    for (int64_t k = 0; k < nd; k++) {
      double r[3], m[3];
      tmsf_pose_apply_vector(P, e->pos + 3 * k, r); /* relative to the coil centre */
      tmsf_pose_apply_vector(P, e->vec + 3 * k, m);
      dx[k] = (float)r[0], dy[k] = (float)r[1], dz[k] = (float)r[2];
      /* moments scaled to O(1) so that products stay far from float's range limits */
      mx[k] = (float)(m[0] * 1e6), my[k] = (float)(m[1] * 1e6), mz[k] = (float)(m[2] * 1e6);
    }
    dipole_sum_single(n, pts, origin, nd, dx, dy, dz, mx, my, mz, scale * 1e-6, out,
                      tmsf_threads(coil->ctx));
    free(buf);
    return TMSF_SUCCESS;
  }
  double *buf = tmsf_malloc_array((size_t)nd * 6, sizeof(double));
  if (!buf) return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
  double *dx = buf, *dy = buf + nd, *dz = buf + 2 * nd, *mx = buf + 3 * nd, *my = buf + 4 * nd,
         *mz = buf + 5 * nd;
  for (int64_t k = 0; k < nd; k++) {
    double r[3], m[3];
    tmsf_pose_apply_point(P, e->pos + 3 * k, r);
    tmsf_pose_apply_vector(P, e->vec + 3 * k, m);
    dx[k] = r[0], dy[k] = r[1], dz[k] = r[2];
    mx[k] = m[0], my[k] = m[1], mz[k] = m[2];
  }
  dipole_sum(n, pts, nd, dx, dy, dz, mx, my, mz, scale, out, tmsf_threads(coil->ctx));
  free(buf);
  return TMSF_SUCCESS;
}

int tmsf_coil_set_precision(tmsf_coil *coil, tmsf_precision precision) {
  if (!coil) return TMSF_ERR_ARGUMENT;
  if (precision != TMSF_PRECISION_SINGLE && precision != TMSF_PRECISION_DOUBLE)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "unknown precision %d", (int)precision);
  coil->precision = precision;
  return TMSF_SUCCESS;
}

/* Trilinear interpolation of a grid element; points outside the grid get
 * zero and, when outside_flag is given, a 1 there. */
static void primary_grid(const tmsf_coil *coil, const tmsf_coil_element *e, const double P[16],
                         double didt, int64_t n, const double *pts, double *out, char *outside_flag) {
  const int64_t nx = e->dims[0], ny = e->dims[1], nz = e->dims[2];
  const size_t nvox = (size_t)nx * (size_t)ny * (size_t)nz;
  const float *g = e->grid;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(static, 256) num_threads(tmsf_threads(coil->ctx))
#else
  (void)coil;
#endif
  for (int64_t i = 0; i < n; i++) {
    const double *x = pts + 3 * i;
    double d[3] = {x[0] - P[3], x[1] - P[7], x[2] - P[11]};
    double u[3];
    for (int c = 0; c < 3; c++) { /* coil frame: R^T d */
      double xc = P[c] * d[0] + P[4 + c] * d[1] + P[8 + c] * d[2];
      u[c] = (xc - e->origin[c]) / e->spacing[c];
    }
    int64_t i0[3];
    double f[3];
    int in = 1;
    for (int c = 0; c < 3; c++) {
      double lim = (double)e->dims[c] - 1.0;
      if (!(u[c] >= 0.0 && u[c] <= lim)) {
        in = 0;
        break;
      }
      double fl = floor(u[c]);
      if (fl >= lim) fl = lim - 1.0;
      i0[c] = (int64_t)fl;
      f[c] = u[c] - fl;
    }
    double a[3] = {0.0, 0.0, 0.0};
    if (in) {
      size_t base = (size_t)((i0[2] * ny + i0[1]) * nx + i0[0]);
      for (int comp = 0; comp < 3; comp++) {
        const float *gc = g + comp * nvox + base;
        double c000 = gc[0], c100 = gc[1], c010 = gc[nx], c110 = gc[nx + 1];
        double c001 = gc[nx * ny], c101 = gc[nx * ny + 1], c011 = gc[nx * ny + nx],
               c111 = gc[nx * ny + nx + 1];
        double c00 = c000 + f[0] * (c100 - c000), c10 = c010 + f[0] * (c110 - c010);
        double c01 = c001 + f[0] * (c101 - c001), c11 = c011 + f[0] * (c111 - c011);
        double c0 = c00 + f[1] * (c10 - c00), c1 = c01 + f[1] * (c11 - c01);
        a[comp] = c0 + f[2] * (c1 - c0);
      }
    } else if (outside_flag) {
      outside_flag[i] = 1;
    }
    double h[3];
    tmsf_pose_apply_vector(P, a, h);
    for (int c = 0; c < 3; c++) out[3 * i + c] = didt * h[c];
  }
  (void)nz;
}

/* The field of every element, each with its stimulator's dI/dt. */
static int coil_field(const tmsf_coil *coil, const double P[16], const double *didt, int64_t n,
                      const double *pts, double *out, int64_t *num_outside) {
  if (coil->num_elements == 0)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_STATE,
                      "coil '%s' has no elements: add dipoles, segments or a grid first",
                      coil->name ? coil->name : "");
  int has_grid = 0;
  for (int i = 0; i < coil->num_elements; i++) has_grid |= coil->elements[i].kind == TMSF_COIL_GRID;
  char *flag = NULL;
  double *tmp = NULL;
  if (has_grid && n > 0) {
    flag = tmsf_calloc_array((size_t)n, 1);
    if (!flag) return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  if (coil->num_elements > 1 && n > 0) {
    tmp = tmsf_malloc_array((size_t)n * 3, sizeof(double));
    if (!tmp) {
      free(flag);
      return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
    }
  }
  int ierr = TMSF_SUCCESS;
  for (int i = 0; i < coil->num_elements && !ierr; i++) {
    const tmsf_coil_element *e = &coil->elements[i];
    double *dst = i == 0 ? out : tmp;
    const double d = didt[e->stimulator];
    if (d == 0.0 && e->kind != TMSF_COIL_GRID) {
      if (i == 0) memset(out, 0, (size_t)n * 3 * sizeof(double));
      continue;
    }
    if (e->kind == TMSF_COIL_DIPOLES)
      ierr = primary_dipoles(coil, e, P, d, n, pts, dst);
    else if (e->kind == TMSF_COIL_SEGMENTS)
      ierr = primary_segments(coil, e, P, d, n, pts, dst);
    else
      primary_grid(coil, e, P, d, n, pts, dst, flag);
    if (i > 0 && !ierr)
      for (int64_t q = 0; q < 3 * n; q++) out[q] += tmp[q];
  }
  if (num_outside) {
    int64_t c = 0;
    if (flag)
      for (int64_t q = 0; q < n; q++) c += flag[q];
    *num_outside = c;
  }
  free(flag);
  free(tmp);
  return ierr;
}

static int check_field_args(const tmsf_coil *coil, const double P[16], int64_t n, const double *pts,
                            const double *out) {
  if (!coil || !P || n < 0 || (n && (!pts || !out))) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(tmsf_pose_check(coil->ctx, P));
  return TMSF_SUCCESS;
}

int tmsf_coil_primary_field(const tmsf_coil *coil, const double head_from_coil_m[16],
                            double didt_A_per_s, int64_t num_points, const double *points_m,
                            double *dadt_V_per_m, int64_t *num_outside) {
  TMSF_CALL(check_field_args(coil, head_from_coil_m, num_points, points_m, dadt_V_per_m));
  if (!isfinite(didt_A_per_s))
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "dI/dt must be finite, got %g", didt_A_per_s);
  double didt[TMSF_COIL_MAX_STIMULATORS];
  for (int s = 0; s < TMSF_COIL_MAX_STIMULATORS; s++) didt[s] = didt_A_per_s;
  return coil_field(coil, head_from_coil_m, didt, num_points, points_m, dadt_V_per_m, num_outside);
}

int tmsf_coil_primary_field_stimulators(const tmsf_coil *coil, const double head_from_coil_m[16],
                                        const double *didt_per_stimulator_A_per_s,
                                        int64_t num_points, const double *points_m,
                                        double *dadt_V_per_m, int64_t *num_outside) {
  TMSF_CALL(check_field_args(coil, head_from_coil_m, num_points, points_m, dadt_V_per_m));
  if (!didt_per_stimulator_A_per_s) return TMSF_ERR_ARGUMENT;
  for (int s = 0; s < coil->num_stimulators; s++)
    if (!isfinite(didt_per_stimulator_A_per_s[s]))
      return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "dI/dt of stimulator %d must be finite, got %g",
                        s, didt_per_stimulator_A_per_s[s]);
  return coil_field(coil, head_from_coil_m, didt_per_stimulator_A_per_s, num_points, points_m,
                    dadt_V_per_m, num_outside);
}

int tmsf_coil_primary_field_one(const tmsf_coil *coil, int stimulator, const double P[16], double didt,
                                int64_t n, const double *pts, double *dadt, int64_t *outside) {
  if (stimulator < 0) return tmsf_coil_primary_field(coil, P, didt, n, pts, dadt, outside);
  if (stimulator >= coil->num_stimulators)
    return TMSF_ERROR(coil->ctx, TMSF_ERR_ARGUMENT, "coil '%s' has %d stimulator(s); there is no stimulator %d",
                      coil->name ? coil->name : "", coil->num_stimulators, stimulator);
  double *d = tmsf_calloc_array((size_t)coil->num_stimulators, sizeof(double));
  if (!d) return TMSF_ERROR(coil->ctx, TMSF_ERR_MEMORY, "out of memory");
  d[stimulator] = didt;
  int ierr = tmsf_coil_primary_field_stimulators(coil, P, d, n, pts, dadt, outside);
  free(d);
  return ierr;
}

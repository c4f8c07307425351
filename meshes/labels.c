/*
 * SPDX-License-Identifier: BSD-3-Clause
 * labels.c: label volumes read with niftilib and their mapping to tissue tags.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "tmsf-impl.h"
#include "meshing-impl.h"

/* ------------------------------------------------------------------------- */
/* Object                                                                    */
/* ------------------------------------------------------------------------- */

static int check_affine(tmsf_context *ctx, const char *what, const double A[16]) {
  for (int i = 0; i < 16; i++)
    if (!isfinite(A[i]))
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s: affine entry (%d, %d) is not finite; expected a finite voxel-to-mm "
                        "affine (sform, qform or pixdim)",
                        what, i / 4, i % 4);
  double det = A[0] * (A[5] * A[10] - A[6] * A[9]) - A[1] * (A[4] * A[10] - A[6] * A[8]) +
               A[2] * (A[4] * A[9] - A[5] * A[8]);
  double s = 0.0;
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) s = fmax(s, fabs(A[4 * r + c]));
  if (!(s > 0.0) || !(fabs(det) > 1e-9 * s * s * s))
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: the voxel-to-mm affine is singular (determinant %g); expected voxel "
                      "axes that span 3-D space",
                      what, det);
  return TMSF_SUCCESS;
}

static int labels_new(tmsf_context *ctx, const char *origin, const int64_t dims[3],
                      const double A[16], tmsf_labels **out) {
  *out = NULL;
  for (int d = 0; d < 3; d++)
    if (dims[d] < 1 || dims[d] > (1 << 20))
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s: dimension %d has %lld voxels; expected 1 to 1048576", origin, d,
                        (long long)dims[d]);
  size_t nvox = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  if (nvox > ((size_t)1 << 31))
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: %zu voxels; at most 2^31 are supported", origin,
                      nvox);
  TMSF_CALL(check_affine(ctx, origin, A));
  tmsf_labels *L = calloc(1, sizeof(*L));
  if (!L) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  L->ctx = ctx;
  L->origin = tmsf_strdup(origin);
  L->data = tmsf_malloc_array(nvox, sizeof(int32_t));
  if (!L->origin || !L->data) {
    tmsf_labels_destroy(&L);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu voxels", origin, nvox);
  }
  for (int d = 0; d < 3; d++) L->dims[d] = dims[d];
  memcpy(L->affine, A, sizeof(L->affine));
  L->affine[12] = L->affine[13] = L->affine[14] = 0.0;
  L->affine[15] = 1.0;
  *out = L;
  return TMSF_SUCCESS;
}

/* The labels must not all be zero. */
static int check_not_empty(tmsf_labels *L) {
  size_t nvox = tmsf_labels_nvox(L);
  for (size_t i = 0; i < nvox; i++)
    if (L->data[i] != 0) return TMSF_SUCCESS;
  return TMSF_ERROR(L->ctx, TMSF_ERR_FORMAT,
                    "%s: the volume is empty (all %zu voxels are 0); expected labelled tissue",
                    L->origin, nvox);
}

int tmsf_labels_create(tmsf_context *ctx, const int64_t dims[3], const int32_t *data,
                       const double affine_mm[16], tmsf_labels **labels) {
  if (!labels) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "labels output is NULL");
  *labels = NULL;
  if (!dims || !data || !affine_mm)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_labels_create: dims, data and affine are required");
  tmsf_labels *L;
  TMSF_CALL(labels_new(ctx, "tmsf_labels_create", dims, affine_mm, &L));
  size_t nvox = tmsf_labels_nvox(L);
  for (size_t i = 0; i < nvox; i++) {
    if (data[i] < 0) {
      tmsf_labels_destroy(&L);
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "tmsf_labels_create: voxel %zu has label %d; expected labels >= 0", i,
                        (int)data[i]);
    }
    L->data[i] = data[i];
  }
  int ierr = check_not_empty(L);
  if (ierr) tmsf_labels_destroy(&L);
  *labels = L;
  return ierr;
}

int tmsf_labels_destroy(tmsf_labels **labels) {
  if (!labels || !*labels) return TMSF_SUCCESS;
  tmsf_labels *L = *labels;
  free(L->origin);
  free(L->data);
  free(L->map_from);
  free(L->map_to);
  free(L);
  *labels = NULL;
  return TMSF_SUCCESS;
}

tmsf_context *tmsf_labels_get_context(const tmsf_labels *labels) {
  return labels ? labels->ctx : NULL;
}

int tmsf_labels_get_dims(const tmsf_labels *labels, int64_t dims[3]) {
  if (!labels || !dims) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "NULL argument");
  for (int d = 0; d < 3; d++) dims[d] = labels->dims[d];
  return TMSF_SUCCESS;
}

int tmsf_labels_get_affine(const tmsf_labels *labels, double affine_mm[16]) {
  if (!labels || !affine_mm) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "NULL argument");
  memcpy(affine_mm, labels->affine, 16 * sizeof(double));
  return TMSF_SUCCESS;
}

int tmsf_labels_get_data(const tmsf_labels *labels, const int32_t **data) {
  if (!labels || !data) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "NULL argument");
  *data = labels->data;
  return TMSF_SUCCESS;
}

int tmsf_labels_get_voxel_volume(const tmsf_labels *labels, double *vol_mm3) {
  if (!labels || !vol_mm3) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "NULL argument");
  const double *A = labels->affine;
  *vol_mm3 = fabs(A[0] * (A[5] * A[10] - A[6] * A[9]) - A[1] * (A[4] * A[10] - A[6] * A[8]) +
                  A[2] * (A[4] * A[9] - A[5] * A[8]));
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Mapping                                                                   */
/* ------------------------------------------------------------------------- */

int tmsf_labels_map(tmsf_labels *labels, int n, const int32_t *from, const int32_t *to) {
  if (!labels) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "labels is NULL");
  tmsf_context *ctx = labels->ctx;
  if (n < 0 || (n > 0 && (!from || !to)))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "tmsf_labels_map: n = %d with NULL arrays", n);
  for (int i = 0; i < n; i++)
    if (from[i] < 0 || to[i] < 0 || to[i] > TMSF_LABELS_MAX_TAG)
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                        "tmsf_labels_map: entry %d maps %d to %d; expected a label >= 0 and a "
                        "tissue tag in 0..%d",
                        i, (int)from[i], (int)to[i], TMSF_LABELS_MAX_TAG);
  free(labels->map_from);
  free(labels->map_to);
  labels->map_from = labels->map_to = NULL;
  labels->map_n = 0;
  if (n == 0) return TMSF_SUCCESS;
  labels->map_from = tmsf_malloc_array((size_t)n, sizeof(int32_t));
  labels->map_to = tmsf_malloc_array((size_t)n, sizeof(int32_t));
  if (!labels->map_from || !labels->map_to) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  memcpy(labels->map_from, from, (size_t)n * sizeof(int32_t));
  memcpy(labels->map_to, to, (size_t)n * sizeof(int32_t));
  labels->map_n = n;
  return TMSF_SUCCESS;
}

typedef struct preset_def {
  const char *name;
  int n;
  int32_t from[12], to[12];
} preset_def;

/* Tissue tags: 1 WM 2 GM 3 CSF 4 bone 5 scalp 6 eyes 7 compact bone 8 spongy bone
 * 9 blood 10 muscle. */
static const preset_def presets[] = {
    {"simnibs", 10, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
    {"charm", 10, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
    /* Colin27 v3 (fangq/mcx): 1 scalp 2 skull 3 CSF 4 GM 5 WM 6 air cavities */
    {"colin27", 6, {1, 2, 3, 4, 5, 6}, {5, 4, 3, 2, 1, 0}},
    /* BrainWeb classes (Collins et al. 1998; Aubert-Broche et al. 2006): 1 CSF 2 GM 3 WM
     * 4 fat 5 muscle 6 muscle/skin 7 skull 8 vessels 9 around fat 10 glial matter 11 dura.
     * All extracranial soft tissue (fat, muscle, skin, connective tissue) is scalp, as in
     * SimNIBS's five-tissue heads: the thin interleaved fat and muscle layers would need
     * sub-millimetre elements (muscle alone lost 5 % of its volume at the default sizes);
     * vessels (6 cm^3 of thin tubes, in the CSF space and the sinuses) are CSF, since a
     * 2-4 mm mesh cannot resolve them as blood (they lost a third of their volume); glial
     * matter is WM; dura (a CSF-space membrane) is CSF.  A table such as
     * "1=3,2=2,3=1,4=5,5=10,6=5,7=4,8=9,9=5" keeps muscle and blood. */
    {"brainweb", 11, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 2, 1, 5, 5, 5, 4, 3, 5, 1, 3}},
    /* ROAST / New York head: 1 WM 2 GM 3 CSF 4 bone 5 skin 6 air */
    {"roast", 6, {1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 0}},
    {"newyork", 6, {1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 0}},
};

static int name_eq(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
  return *a == *b;
}

/* Parse "FROM=TO,FROM=TO" into arrays (malloc'ed). */
static int parse_table(tmsf_context *ctx, const char *s, int *n, int32_t **from, int32_t **to) {
  *n = 0;
  *from = *to = NULL;
  int cap = 1;
  for (const char *p = s; *p; p++)
    if (*p == ',') cap++;
  *from = tmsf_malloc_array((size_t)cap, sizeof(int32_t));
  *to = tmsf_malloc_array((size_t)cap, sizeof(int32_t));
  if (!*from || !*to) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  const char *p = s;
  int k = 0;
  while (*p) {
    char *end;
    errno = 0;
    long a = strtol(p, &end, 10);
    if (end == p || *end != '=' || errno || a < 0 || a > INT32_MAX) goto bad;
    p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || (*end != ',' && *end != '\0') || errno || b < 0 || b > TMSF_LABELS_MAX_TAG)
      goto bad;
    (*from)[k] = (int32_t)a;
    (*to)[k] = (int32_t)b;
    k++;
    p = *end ? end + 1 : end;
    continue;
  bad:
    free(*from);
    free(*to);
    *from = *to = NULL;
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT,
                      "label table \"%s\": entry %d is malformed; expected FROM=TO pairs separated "
                      "by commas, FROM >= 0 and TO in 0..%d (or a preset: simnibs, charm, "
                      "colin27, brainweb, roast, newyork)",
                      s, k + 1, TMSF_LABELS_MAX_TAG);
  }
  *n = k;
  return TMSF_SUCCESS;
}

int tmsf_labels_tissues(const tmsf_labels *labels, const char *preset, uint8_t *tags) {
  if (!labels || !tags) return TMSF_ERROR(NULL, TMSF_ERR_ARGUMENT, "NULL argument");
  tmsf_context *ctx = labels->ctx;
  int n = 0;
  const int32_t *from = NULL, *to = NULL;
  int32_t *tf = NULL, *tt = NULL;
  const char *what = preset;
  if (!preset || name_eq(preset, "user")) {
    if (labels->map_n > 0) {
      n = labels->map_n;
      from = labels->map_from;
      to = labels->map_to;
      what = "user table";
    } else if (preset) {
      return TMSF_ERROR(ctx, TMSF_ERR_STATE,
                        "%s: preset \"user\" but no table was given (tmsf_labels_map)",
                        labels->origin);
    } else {
      preset = what = "simnibs";
    }
  }
  if (!from) {
    if (strchr(preset, '=')) {
      TMSF_CALL(parse_table(ctx, preset, &n, &tf, &tt));
      from = tf;
      to = tt;
    } else {
      for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
        if (name_eq(preset, presets[i].name)) {
          n = presets[i].n;
          from = presets[i].from;
          to = presets[i].to;
        }
      if (!from)
        return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND,
                          "unknown label preset \"%s\"; expected simnibs, charm, colin27, "
                          "brainweb, roast, newyork, user, or a FROM=TO,... table",
                          preset);
    }
  }
  /* lookup for small labels, linear search beyond */
  enum { LUT = 4096 };
  int16_t *lut = malloc(LUT * sizeof(int16_t));
  if (!lut) {
    free(tf);
    free(tt);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  for (int i = 0; i < LUT; i++) lut[i] = -1;
  lut[0] = 0;
  for (int i = 0; i < n; i++)
    if (from[i] < LUT) lut[from[i]] = (int16_t)to[i];
  size_t nvox = tmsf_labels_nvox(labels);
  int ierr = TMSF_SUCCESS;
  for (size_t v = 0; v < nvox; v++) {
    int32_t l = labels->data[v];
    int t = -1;
    if (l < LUT) {
      t = lut[l];
    } else {
      for (int i = 0; i < n; i++)
        if (from[i] == l) t = to[i];
    }
    if (t < 0) {
      size_t count = 0;
      for (size_t w = v; w < nvox; w++) count += labels->data[w] == l;
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s: label %d (%zu voxels, first at voxel %zu, %zu, %zu) has no tissue "
                        "in the %s%s%s; map it (FROM=TO table or tmsf_labels_map) or choose "
                        "another preset",
                        labels->origin, (int)l, count, v % (size_t)labels->dims[0],
                        (v / (size_t)labels->dims[0]) % (size_t)labels->dims[1],
                        v / ((size_t)labels->dims[0] * (size_t)labels->dims[1]),
                        tf ? "table \"" : "", what, tf ? "\"" : " mapping");
      break;
    }
    tags[v] = (uint8_t)t;
  }
  free(lut);
  free(tf);
  free(tt);
  return ierr;
}

int tmsf_labels_tissue_volumes(const tmsf_labels *labels, const char *preset, int max_tag,
                               double *vol_mm3) {
  if (!labels || !vol_mm3 || max_tag < 0)
    return TMSF_ERROR(labels ? labels->ctx : NULL, TMSF_ERR_ARGUMENT, "bad argument");
  size_t nvox = tmsf_labels_nvox(labels);
  uint8_t *t = malloc(nvox);
  if (!t) return TMSF_ERROR(labels->ctx, TMSF_ERR_MEMORY, "out of memory");
  int ierr = tmsf_labels_tissues(labels, preset, t);
  if (!ierr) {
    int64_t count[TMSF_LABELS_MAX_TAG + 1] = {0};
    for (size_t v = 0; v < nvox; v++) count[t[v]]++;
    double vv;
    tmsf_labels_get_voxel_volume(labels, &vv);
    for (int k = 0; k <= max_tag; k++) vol_mm3[k] = k <= TMSF_LABELS_MAX_TAG ? vv * (double)count[k] : 0.0;
  }
  free(t);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* NIfTI                                                                     */
/* ------------------------------------------------------------------------- */

#if TMSF_HAVE_NIFTI
#include <nifti2_io.h>

/* Voxel data as stored, through niftilib's znz layer (so that a truncated file
 * is an error and niftilib's loader does not print). */
static int read_raw(tmsf_context *ctx, const char *path, const nifti_image *im, size_t bytes,
                    void **out) {
  *out = NULL;
  znzFile fp = znzopen(im->iname, "rb", nifti_is_gzfile(im->iname));
  if (znz_isnull(fp))
    return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open the image data in %s", path, im->iname);
  /* grow the buffer as data arrives: a header announcing a huge image in a small
   * file fails on truncation without allocating the announced size */
  size_t cap = bytes < ((size_t)1 << 24) ? bytes : ((size_t)1 << 24);
  unsigned char *buf = malloc(cap ? cap : 1);
  if (!buf) {
    znzclose(fp);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu bytes of voxel data", path,
                      bytes);
  }
  size_t got = 0;
  if (znzseek(fp, (znz_off_t)im->iname_offset, SEEK_SET) >= 0) {
    while (got < bytes) {
      if (got == cap) {
        size_t ncap = cap * 2 < bytes ? cap * 2 : bytes;
        unsigned char *nb = realloc(buf, ncap);
        if (!nb) {
          free(buf);
          znzclose(fp);
          return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu bytes of voxel data",
                            path, bytes);
        }
        buf = nb;
        cap = ncap;
      }
      size_t k = znzread(buf + got, 1, cap - got, fp);
      if (k == 0) break;
      got += k;
    }
  }
  znzclose(fp);
  if (got != bytes) {
    free(buf);
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: voxel data truncated: the header announces %lld voxels of %d bytes "
                      "(%zu bytes from offset %lld), the file holds %zu",
                      path, (long long)im->nvox, im->nbyper, bytes, (long long)im->iname_offset,
                      got);
  }
  if (im->nbyper > 1 && im->byteorder != nifti_short_order())
    nifti_swap_Nbytes((int64_t)(bytes / (size_t)im->nbyper), im->nbyper, buf);
  *out = buf;
  return TMSF_SUCCESS;
}

static double raw_value(int datatype, const void *d, size_t i) {
  switch (datatype) {
  case DT_FLOAT32: return ((const float *)d)[i];
  case DT_FLOAT64: return ((const double *)d)[i];
  case DT_INT8: return ((const int8_t *)d)[i];
  case DT_UINT8: return ((const uint8_t *)d)[i];
  case DT_INT16: return ((const int16_t *)d)[i];
  case DT_UINT16: return ((const uint16_t *)d)[i];
  case DT_INT32: return ((const int32_t *)d)[i];
  case DT_UINT32: return ((const uint32_t *)d)[i];
  case DT_INT64: return (double)((const int64_t *)d)[i];
  case DT_UINT64: return (double)((const uint64_t *)d)[i];
  default: return NAN;
  }
}

int tmsf_labels_read(tmsf_context *ctx, const char *path, tmsf_labels **labels) {
  if (!labels) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "labels output is NULL");
  *labels = NULL;
  if (!path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "path is NULL");
  FILE *probe = fopen(path, "rb");
  if (!probe) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading", path);
  fclose(probe);
  nifti_set_debug_level(0); /* niftilib must not print */
  nifti_image *im = nifti_image_read(path, 0);
  if (!im)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: not a readable NIfTI-1/NIfTI-2 header (niftilib rejected it); expected "
                      "a 3-D label volume",
                      path);
  int ierr = TMSF_SUCCESS;
  void *raw = NULL;
  tmsf_labels *L = NULL;
  int64_t extra = 1;
  for (int d = 4; d <= 7 && d <= im->ndim; d++) extra *= im->dim[d] > 0 ? im->dim[d] : 1;
  if (im->ndim < 1 || im->ndim > 7 || extra != 1 || im->nx < 1 || im->ny < 1 || im->nz < 1) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: header: %lld-D image of %lld x %lld x %lld x %lld x %lld voxels; "
                      "expected a 3-D label volume (X x Y x Z)",
                      path, (long long)im->ndim, (long long)im->nx, (long long)im->ny,
                      (long long)im->nz, (long long)im->nt, (long long)im->nu);
    goto out;
  }
  int is_float = 0;
  switch (im->datatype) {
  case DT_UINT8: case DT_INT8: case DT_INT16: case DT_UINT16: case DT_INT32: case DT_UINT32:
  case DT_INT64: case DT_UINT64: break;
  case DT_FLOAT32: case DT_FLOAT64: is_float = 1; break;
  default:
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: header: datatype %d (%s) is not a label type; expected an integer type "
                      "(uint8, int16, int32, ...) or float32/float64 holding integers",
                      path, im->datatype, nifti_datatype_string(im->datatype));
    goto out;
  }
  double A[16] = {0};
  {
    const nifti_dmat44 *M = im->sform_code > 0 ? &im->sto_xyz : im->qform_code > 0 ? &im->qto_xyz : NULL;
    double scale = 1.0; /* to mm */
    if (im->xyz_units == NIFTI_UNITS_METER) scale = 1e3;
    if (im->xyz_units == NIFTI_UNITS_MICRON) scale = 1e-3;
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 4; c++)
        A[4 * r + c] = scale * (M ? M->m[r][c] : (r == c ? fabs(im->pixdim[r + 1]) : 0.0));
    A[15] = 1.0;
    const char *src = M == &im->sto_xyz ? "sform" : M ? "qform" : "pixdim";
    char what[600];
    snprintf(what, sizeof(what), "%s: header (%s)", path, src);
    ierr = check_affine(ctx, what, A);
    if (ierr) goto out;
  }
  int64_t dims[3] = {im->nx, im->ny, im->nz};
  if (im->nx > (1 << 20) || im->ny > (1 << 20) || im->nz > (1 << 20) ||
      (uint64_t)im->nx * (uint64_t)im->ny * (uint64_t)im->nz > ((uint64_t)1 << 31)) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: header: %lld x %lld x %lld voxels; at most 2^31 are supported", path,
                      (long long)im->nx, (long long)im->ny, (long long)im->nz);
    goto out;
  }
  size_t nvox = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  ierr = read_raw(ctx, path, im, nvox * (size_t)im->nbyper, &raw);
  if (ierr) goto out;
  ierr = labels_new(ctx, path, dims, A, &L);
  if (ierr) goto out;
  double slope = im->scl_slope != 0.0 && isfinite(im->scl_slope) ? im->scl_slope : 1.0;
  double inter = isfinite(im->scl_inter) ? im->scl_inter : 0.0;
  for (size_t i = 0; i < nvox; i++) {
    double v = raw_value(im->datatype, raw, i) * slope + inter;
    if (!(v >= 0.0 && v <= (double)INT32_MAX && v == floor(v))) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                        "%s: voxel (%zu, %zu, %zu) holds %g; expected a non-negative integer "
                        "label%s",
                        path, i % (size_t)dims[0], (i / (size_t)dims[0]) % (size_t)dims[1],
                        i / ((size_t)dims[0] * (size_t)dims[1]), v,
                        is_float ? " (float images must hold whole numbers)" : "");
      goto out;
    }
    L->data[i] = (int32_t)v;
  }
  ierr = check_not_empty(L);
out:
  free(raw);
  nifti_image_free(im);
  if (ierr) tmsf_labels_destroy(&L);
  *labels = L;
  return ierr;
}

#else

int tmsf_labels_read(tmsf_context *ctx, const char *path, tmsf_labels **labels) {
  if (labels) *labels = NULL;
  return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED,
                    "%s: label volumes need a build with niftilib (Debian: libnifti2-dev)",
                    path ? path : "(null)");
}

#endif

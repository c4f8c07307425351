/*
 * SPDX-License-Identifier: BSD-3-Clause
 * field.c: the field object — E, J, potentials, superconvergent patch
 * recovery per tissue, sampling at points and percentiles.
 */
#include <string.h>


#include "tmsf-impl.h"

int tmsf_field_alloc(tmsf_context *ctx, const tmsf_mesh *mesh, tmsf_field **field) {
  tmsf_field *f = calloc(1, sizeof(*f));
  if (!f) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  f->ctx = ctx;
  f->mesh = mesh;
  f->E = tmsf_malloc_array((size_t)mesh->num_tets * 3, sizeof(double));
  f->phi = tmsf_malloc_array((size_t)mesh->num_nodes, sizeof(double));
  f->sigma = tmsf_malloc_array((size_t)mesh->num_tets, sizeof(double));
  if (!f->E || !f->phi || !f->sigma) {
    tmsf_field_destroy(&f);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "field: out of memory for %lld tetrahedra",
                      (long long)mesh->num_tets);
  }
  *field = f;
  return TMSF_SUCCESS;
}

int tmsf_field_destroy(tmsf_field **field) {
  if (!field || !*field) return TMSF_SUCCESS;
  tmsf_field *f = *field;
  free(f->E);
  free(f->phi);
  free(f->sigma);
  for (int i = 0; i < f->num_recovered; i++) free(f->recovered[i]);
  free(f->recovered);
  free(f->recovered_tags);
  free(f);
  *field = NULL;
  return TMSF_SUCCESS;
}

const tmsf_mesh *tmsf_field_get_mesh(const tmsf_field *field) { return field ? field->mesh : NULL; }

int tmsf_field_get_didt(const tmsf_field *field, double *didt_A_per_s) {
  if (!field || !didt_A_per_s) return TMSF_ERR_ARGUMENT;
  *didt_A_per_s = field->didt;
  return TMSF_SUCCESS;
}

int tmsf_field_get_E(const tmsf_field *field, const double **E_V_per_m) {
  if (!field || !E_V_per_m) return TMSF_ERR_ARGUMENT;
  *E_V_per_m = field->E;
  return TMSF_SUCCESS;
}

int tmsf_field_get_potential(const tmsf_field *field, const double **phi_V) {
  if (!field || !phi_V) return TMSF_ERR_ARGUMENT;
  *phi_V = field->phi;
  return TMSF_SUCCESS;
}

int tmsf_field_get_conductivity(const tmsf_field *field, const double **sigma_S_per_m) {
  if (!field || !sigma_S_per_m) return TMSF_ERR_ARGUMENT;
  *sigma_S_per_m = field->sigma;
  return TMSF_SUCCESS;
}

int tmsf_field_get_magnE(const tmsf_field *field, double *out) {
  if (!field || !out) return TMSF_ERR_ARGUMENT;
  const double *E = field->E;
  for (int64_t e = 0; e < field->mesh->num_tets; e++)
    out[e] = sqrt(E[3 * e] * E[3 * e] + E[3 * e + 1] * E[3 * e + 1] + E[3 * e + 2] * E[3 * e + 2]);
  return TMSF_SUCCESS;
}

int tmsf_field_get_J(const tmsf_field *field, double *out) {
  if (!field || !out) return TMSF_ERR_ARGUMENT;
  for (int64_t e = 0; e < field->mesh->num_tets; e++)
    for (int k = 0; k < 3; k++) out[3 * e + k] = field->sigma[e] * field->E[3 * e + k];
  return TMSF_SUCCESS;
}

int tmsf_field_get_magnJ(const tmsf_field *field, double *out) {
  TMSF_CALL(tmsf_field_get_magnE(field, out));
  for (int64_t e = 0; e < field->mesh->num_tets; e++) out[e] *= field->sigma[e];
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Superconvergent patch recovery                                            */
/* ------------------------------------------------------------------------- */

/* Solve the 4x4 SPD system A c = r (3 right-hand sides) by Cholesky; returns
 * 0 if a pivot falls below rel * (largest diagonal). */
static int chol4_solve(double A[4][4], double r[4][3], double rel) {
  double L[4][4] = {{0}};
  double dmax = 0.0;
  for (int i = 0; i < 4; i++)
    if (A[i][i] > dmax) dmax = A[i][i];
  for (int j = 0; j < 4; j++) {
    double s = A[j][j];
    for (int k = 0; k < j; k++) s -= L[j][k] * L[j][k];
    if (!(s > rel * dmax)) return 0;
    L[j][j] = sqrt(s);
    for (int i = j + 1; i < 4; i++) {
      double t = A[i][j];
      for (int k = 0; k < j; k++) t -= L[i][k] * L[j][k];
      L[i][j] = t / L[j][j];
    }
  }
  for (int c = 0; c < 3; c++) {
    double y[4];
    for (int i = 0; i < 4; i++) {
      double t = r[i][c];
      for (int k = 0; k < i; k++) t -= L[i][k] * y[k];
      y[i] = t / L[i][i];
    }
    for (int i = 3; i >= 0; i--) {
      double t = y[i];
      for (int k = i + 1; k < 4; k++) t -= L[k][i] * r[k][c];
      r[i][c] = t / L[i][i];
    }
  }
  return 1;
}

static void centroid(const tmsf_mesh *m, int64_t e, double c[3]) {
  const int32_t *t = m->tets + 4 * e;
  for (int k = 0; k < 3; k++)
    c[k] = 0.25 * (m->nodes[3 * (int64_t)t[0] + k] + m->nodes[3 * (int64_t)t[1] + k] +
                   m->nodes[3 * (int64_t)t[2] + k] + m->nodes[3 * (int64_t)t[3] + k]);
}

int tmsf_field_recover_nodal(const tmsf_field *field, int32_t tag, double *out) {
  if (!field || !out) return TMSF_ERR_ARGUMENT;
  const tmsf_mesh *m = field->mesh;
  int found = 0;
  for (int i = 0; i < m->num_tags; i++) found |= m->tags[i] == tag;
  if (!found)
    return TMSF_ERROR(field->ctx, TMSF_ERR_NOT_FOUND, "patch recovery: no tetrahedra with tag %d", tag);
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 512) num_threads(tmsf_threads(field->ctx))
#endif
  for (int64_t i = 0; i < m->num_nodes; i++) {
    const double *xi = m->nodes + 3 * i;
    double A[4][4] = {{0}}, r[4][3] = {{0}}, mean[3] = {0, 0, 0}, vsum = 0.0, h2 = 0.0;
    int count = 0;
    /* patch size for scaling the coordinates */
    for (int64_t p = m->node_tet_ptr[i]; p < m->node_tet_ptr[i + 1]; p++) {
      int64_t e = m->node_tet[p];
      if (m->tet_tags[e] != tag) continue;
      double c[3];
      centroid(m, e, c);
      double d2 = (c[0] - xi[0]) * (c[0] - xi[0]) + (c[1] - xi[1]) * (c[1] - xi[1]) + (c[2] - xi[2]) * (c[2] - xi[2]);
      if (d2 > h2) h2 = d2;
    }
    double ih = h2 > 0.0 ? 1.0 / sqrt(h2) : 1.0;
    for (int64_t p = m->node_tet_ptr[i]; p < m->node_tet_ptr[i + 1]; p++) {
      int64_t e = m->node_tet[p];
      if (m->tet_tags[e] != tag) continue;
      double c[3];
      centroid(m, e, c);
      double v = tmsf_tet_signed_volume(m->nodes, m->tets + 4 * e);
      double P[4] = {1.0, (c[0] - xi[0]) * ih, (c[1] - xi[1]) * ih, (c[2] - xi[2]) * ih};
      const double *E = field->E + 3 * e;
      for (int a = 0; a < 4; a++) {
        for (int b = 0; b < 4; b++) A[a][b] += P[a] * P[b];
        for (int k = 0; k < 3; k++) r[a][k] += P[a] * E[k];
      }
      for (int k = 0; k < 3; k++) mean[k] += v * E[k];
      vsum += v;
      count++;
    }
    double *o = out + 3 * i;
    if (count == 0) {
      o[0] = o[1] = o[2] = NAN;
    } else if (count >= 4 && chol4_solve(A, r, 1e-8)) {
      o[0] = r[0][0], o[1] = r[0][1], o[2] = r[0][2];
    } else {
      for (int k = 0; k < 3; k++) o[k] = mean[k] / vsum;
    }
  }
  return TMSF_SUCCESS;
}

static int recovered_for_tag(tmsf_field *f, int32_t tag, const double **out) {
  for (int i = 0; i < f->num_recovered; i++)
    if (f->recovered_tags[i] == tag) {
      *out = f->recovered[i];
      return TMSF_SUCCESS;
    }
  double *buf = tmsf_malloc_array((size_t)f->mesh->num_nodes * 3, sizeof(double));
  int32_t *nt = realloc(f->recovered_tags, (size_t)(f->num_recovered + 1) * sizeof(int32_t));
  if (nt) f->recovered_tags = nt;
  double **nr = realloc(f->recovered, (size_t)(f->num_recovered + 1) * sizeof(double *));
  if (nr) f->recovered = nr;
  if (!buf || !nt || !nr) {
    free(buf);
    return TMSF_ERROR(f->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  int ierr = tmsf_field_recover_nodal(f, tag, buf);
  if (ierr) {
    free(buf);
    return ierr;
  }
  f->recovered_tags[f->num_recovered] = tag;
  f->recovered[f->num_recovered] = buf;
  f->num_recovered++;
  *out = buf;
  return TMSF_SUCCESS;
}

int tmsf_field_sample(tmsf_field *field, tmsf_sample_mode mode, int64_t num_points,
                      const double *points_m, double *E_out, int64_t *tet_index) {
  if (!field || num_points < 0 || (num_points && (!points_m || !E_out))) return TMSF_ERR_ARGUMENT;
  if (mode != TMSF_SAMPLE_ELEMENT && mode != TMSF_SAMPLE_RECOVERED)
    return TMSF_ERROR(field->ctx, TMSF_ERR_ARGUMENT, "unknown sample mode %d", (int)mode);
  const tmsf_mesh *m = field->mesh;
  TMSF_CALL(tmsf_mesh_ensure_locator(m));
  for (int64_t i = 0; i < num_points; i++) {
    double lam[4];
    int64_t e;
    tmsf_mesh_locate_one(m, points_m + 3 * i, lam, &e);
    if (tet_index) tet_index[i] = e;
    double *o = E_out + 3 * i;
    if (e < 0) {
      o[0] = o[1] = o[2] = NAN;
      continue;
    }
    if (mode == TMSF_SAMPLE_ELEMENT) {
      for (int k = 0; k < 3; k++) o[k] = field->E[3 * e + k];
    } else {
      const double *rec = NULL;
      TMSF_CALL(recovered_for_tag(field, m->tet_tags[e], &rec));
      const int32_t *t = m->tets + 4 * e;
      for (int k = 0; k < 3; k++) {
        o[k] = 0.0;
        for (int a = 0; a < 4; a++) o[k] += lam[a] * rec[3 * (int64_t)t[a] + k];
      }
    }
  }
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Percentiles                                                               */
/* ------------------------------------------------------------------------- */

/* Sort n (value, weight) pairs by value, values finite and >= 0: their IEEE
 * bit patterns then order as unsigned integers, so an LSD radix sort (4 passes
 * of 16 bits, stable) does it in O(n); gsl_sort2's heap sort took ~0.1 s per
 * million elements. */
typedef struct vw_pair {
  uint64_t key;
  double w;
} vw_pair;

static int sort_pairs(double *val, double *w, int64_t n) {
  vw_pair *a = tmsf_malloc_array((size_t)n, sizeof(vw_pair));
  vw_pair *b = tmsf_malloc_array((size_t)n, sizeof(vw_pair));
  int64_t *count = tmsf_calloc_array(65536, sizeof(int64_t));
  if (!a || !b || !count) {
    free(a), free(b), free(count);
    return -1;
  }
  for (int64_t i = 0; i < n; i++) {
    double v = val[i] + 0.0; /* -0.0 -> +0.0 */
    memcpy(&a[i].key, &v, sizeof(v));
    a[i].w = w[i];
  }
  for (int pass = 0; pass < 4; pass++) {
    const int shift = 16 * pass;
    memset(count, 0, 65536 * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) count[(a[i].key >> shift) & 0xffff]++;
    int64_t sum = 0;
    for (int d = 0; d < 65536; d++) {
      int64_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (int64_t i = 0; i < n; i++) b[count[(a[i].key >> shift) & 0xffff]++] = a[i];
    vw_pair *t = a;
    a = b;
    b = t;
  }
  for (int64_t i = 0; i < n; i++) {
    memcpy(&val[i], &a[i].key, sizeof(double));
    w[i] = a[i].w;
  }
  free(a), free(b), free(count);
  return 0;
}

int tmsf_field_magnE_percentiles(const tmsf_field *field, int32_t tag, int num_pct,
                                 const double *pct, double *out) {
  if (!field || num_pct < 0 || (num_pct && (!pct || !out))) return TMSF_ERR_ARGUMENT;
  const tmsf_mesh *m = field->mesh;
  for (int j = 0; j < num_pct; j++)
    if (!(pct[j] >= 0.0 && pct[j] <= 100.0))
      return TMSF_ERROR(field->ctx, TMSF_ERR_ARGUMENT, "percentile %g outside [0, 100]", pct[j]);
  int64_t n = 0;
  for (int64_t e = 0; e < m->num_tets; e++) n += tag == 0 || m->tet_tags[e] == tag;
  if (n == 0) return TMSF_ERROR(field->ctx, TMSF_ERR_NOT_FOUND, "no tetrahedra with tag %d", tag);
  double *val = tmsf_malloc_array((size_t)n, sizeof(double));
  double *w = tmsf_malloc_array((size_t)n, sizeof(double));
  if (!val || !w) {
    free(val), free(w);
    return TMSF_ERROR(field->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  int64_t k = 0;
  double total = 0.0;
  for (int64_t e = 0; e < m->num_tets; e++) {
    if (!(tag == 0 || m->tet_tags[e] == tag)) continue;
    const double *E = field->E + 3 * e;
    val[k] = sqrt(E[0] * E[0] + E[1] * E[1] + E[2] * E[2]);
    w[k] = tmsf_tet_signed_volume(m->nodes, m->tets + 4 * e);
    total += w[k];
    k++;
  }
  if (sort_pairs(val, w, n)) {
    free(val), free(w);
    return TMSF_ERROR(field->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  for (int j = 0; j < num_pct; j++) {
    /* relative slack so that exact fractions (equal volumes) are not lost to rounding */
    double target = pct[j] / 100.0 * total * (1.0 - 1e-12), cum = 0.0;
    int64_t i = 0;
    for (; i < n - 1; i++) {
      cum += w[i];
      if (cum >= target) break;
    }
    out[j] = val[i];
  }
  free(val);
  free(w);
  return TMSF_SUCCESS;
}

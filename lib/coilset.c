/*
 * SPDX-License-Identifier: BSD-3-Clause
 * coilset.c: several coils fired together; the solve itself is
 * tmsf_simulation_solve_sources (simulation.c).
 */
#include <string.h>

#include "tmsf-impl.h"

typedef struct coilset_entry {
  const tmsf_coil *coil;
  double pose[16]; /* head from coil, m */
  double didt;     /* A/s */
  int stimulator;  /* -1: the coil as a whole; s >= 0: its stimulator s alone */
} coilset_entry;

struct tmsf_coilset {
  tmsf_context *ctx;
  int n, cap;
  coilset_entry *e;
};

int tmsf_coilset_create(tmsf_context *ctx, tmsf_coilset **set) {
  if (!ctx || !set) return TMSF_ERR_ARGUMENT;
  *set = calloc(1, sizeof(**set));
  if (!*set) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "coil set: out of memory");
  (*set)->ctx = ctx;
  return TMSF_SUCCESS;
}

int tmsf_coilset_destroy(tmsf_coilset **set) {
  if (!set || !*set) return TMSF_SUCCESS;
  free((*set)->e);
  free(*set);
  *set = NULL;
  return TMSF_SUCCESS;
}

int tmsf_coilset_add(tmsf_coilset *set, const tmsf_coil *coil, const double head_from_coil_m[16],
                     double didt_A_per_s, int *index) {
  return tmsf_coilset_add_stimulator(set, coil, -1, head_from_coil_m, didt_A_per_s, index);
}

int tmsf_coilset_add_stimulator(tmsf_coilset *set, const tmsf_coil *coil, int stimulator,
                                const double head_from_coil_m[16], double didt_A_per_s, int *index) {
  if (!set) return TMSF_ERR_ARGUMENT;
  if (coil && stimulator >= 0) {
    int ns = 0;
    tmsf_coil_get_num_stimulators(coil, &ns);
    if (stimulator >= ns)
      return TMSF_ERROR(set->ctx, TMSF_ERR_ARGUMENT, "coil set: entry %d: the coil has %d stimulator(s); there is no stimulator %d",
                        set->n, ns, stimulator);
  }
  if (!coil || !head_from_coil_m)
    return TMSF_ERROR(set->ctx, TMSF_ERR_ARGUMENT, "coil set: entry %d needs a coil and a pose", set->n);
  if (!isfinite(didt_A_per_s))
    return TMSF_ERROR(set->ctx, TMSF_ERR_ARGUMENT, "coil set: entry %d: dI/dt must be finite, got %g A/s", set->n,
                      didt_A_per_s);
  TMSF_CALL(tmsf_pose_check(set->ctx, head_from_coil_m));
  if (set->n == set->cap) {
    int cap = set->cap ? 2 * set->cap : 4;
    coilset_entry *e = realloc(set->e, sizeof(*e) * (size_t)cap);
    if (!e) return TMSF_ERROR(set->ctx, TMSF_ERR_MEMORY, "coil set: out of memory");
    set->e = e;
    set->cap = cap;
  }
  coilset_entry *e = set->e + set->n;
  e->coil = coil;
  memcpy(e->pose, head_from_coil_m, sizeof(e->pose));
  e->didt = didt_A_per_s;
  e->stimulator = stimulator < 0 ? -1 : stimulator;
  if (index) *index = set->n;
  set->n++;
  return TMSF_SUCCESS;
}

int tmsf_coilset_get_size(const tmsf_coilset *set, int *num_entries) {
  if (!set || !num_entries) return TMSF_ERR_ARGUMENT;
  *num_entries = set->n;
  return TMSF_SUCCESS;
}

static int check_index(const tmsf_coilset *set, int index) {
  if (index < 0 || index >= set->n)
    return TMSF_ERROR(set->ctx, TMSF_ERR_ARGUMENT, "coil set: entry %d does not exist (the set has %d)", index,
                      set->n);
  return TMSF_SUCCESS;
}

int tmsf_coilset_get_entry(const tmsf_coilset *set, int index, const tmsf_coil **coil, double head_from_coil_m[16],
                           double *didt_A_per_s) {
  if (!set) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(check_index(set, index));
  const coilset_entry *e = set->e + index;
  if (coil) *coil = e->coil;
  if (head_from_coil_m) memcpy(head_from_coil_m, e->pose, sizeof(e->pose));
  if (didt_A_per_s) *didt_A_per_s = e->didt;
  return TMSF_SUCCESS;
}

int tmsf_coilset_set_didt(tmsf_coilset *set, int index, double didt_A_per_s) {
  if (!set) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(check_index(set, index));
  if (!isfinite(didt_A_per_s))
    return TMSF_ERROR(set->ctx, TMSF_ERR_ARGUMENT, "coil set: entry %d: dI/dt must be finite, got %g A/s", index,
                      didt_A_per_s);
  set->e[index].didt = didt_A_per_s;
  return TMSF_SUCCESS;
}

int tmsf_coilset_primary_field(const tmsf_coilset *set, int64_t num_points, const double *points_m,
                               double *dadt_V_per_m, int64_t *num_outside) {
  if (!set || num_points < 0 || (num_points && (!points_m || !dadt_V_per_m))) return TMSF_ERR_ARGUMENT;
  if (set->n == 0) return TMSF_ERROR(set->ctx, TMSF_ERR_ARGUMENT, "coil set: empty");
  if (num_outside) *num_outside = 0;
  double *tmp = NULL;
  if (set->n > 1) {
    tmp = tmsf_malloc_array((size_t)num_points * 3 + 1, sizeof(double));
    if (!tmp) return TMSF_ERROR(set->ctx, TMSF_ERR_MEMORY, "coil set: out of memory");
  }
  for (int k = 0; k < set->n; k++) {
    const coilset_entry *e = set->e + k;
    int64_t out = 0;
    int ierr = tmsf_coil_primary_field_one(e->coil, e->stimulator, e->pose, e->didt, num_points, points_m,
                                           k ? tmp : dadt_V_per_m, &out);
    if (ierr) {
      free(tmp);
      if (e->coil->ctx != set->ctx) TMSF_ERROR(set->ctx, ierr, "%s", tmsf_context_last_error(e->coil->ctx));
      return ierr;
    }
    if (k)
      for (int64_t i = 0; i < 3 * num_points; i++) dadt_V_per_m[i] += tmp[i];
    if (num_outside) *num_outside += out;
  }
  free(tmp);
  return TMSF_SUCCESS;
}

int tmsf_simulation_solve_set(tmsf_simulation *sim, const tmsf_coilset *set, tmsf_field **field) {
  if (!sim || !set || !field) return TMSF_ERR_ARGUMENT;
  *field = NULL;
  if (set->n == 0)
    return TMSF_ERROR(tmsf_simulation_context(sim), TMSF_ERR_ARGUMENT, "coil set: empty: add a coil first");
  tmsf_primary_source *src = tmsf_malloc_array((size_t)set->n, sizeof(*src));
  if (!src) return TMSF_ERROR(tmsf_simulation_context(sim), TMSF_ERR_MEMORY, "coil set: out of memory");
  for (int k = 0; k < set->n; k++) {
    src[k].coil = set->e[k].coil;
    src[k].head_from_coil_m = set->e[k].pose;
    src[k].didt_A_per_s = set->e[k].didt;
    src[k].stimulator = set->e[k].stimulator;
  }
  int ierr = tmsf_simulation_solve_sources(sim, set->n, src, set->n == 1 ? set->e[0].didt : NAN, field);
  free(src);
  return ierr;
}

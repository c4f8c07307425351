/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-progress.c: the context's progress callback (tmsf_context_set_progress):
 * setup, solve and meshing report their stage with fractions that start at 0,
 * never decrease and end at 1; a callback that asks to cancel stops the call
 * with TMSF_ERR_CANCELLED and no output, and the objects stay usable (a
 * solve after a cancelled one gives the same field as before).
 */
#include "test-common.h"

#define MAX_EVENTS 64

typedef struct events {
  int n;
  char stage[MAX_EVENTS][16];
  double fraction[MAX_EVENTS];
  int cancel_at; /* event index that asks to cancel; -1: never */
} events;

static int record(void *user, const char *stage, double fraction) {
  events *ev = user;
  if (ev->n < MAX_EVENTS) {
    snprintf(ev->stage[ev->n], sizeof(ev->stage[0]), "%s", stage);
    ev->fraction[ev->n] = fraction;
  }
  return ev->n++ == ev->cancel_at;
}

static void reset(events *ev, int cancel_at) {
  memset(ev, 0, sizeof(*ev));
  ev->cancel_at = cancel_at;
}

/* Every event of the stage, 0 first, 1 last, non-decreasing, at least min_n. */
static void check_run(const events *ev, const char *stage, int min_n) {
  CHECK(ev->n >= min_n && ev->n <= MAX_EVENTS, "%s: %d events, want >= %d", stage, ev->n, min_n);
  if (ev->n < 2 || ev->n > MAX_EVENTS) return;
  CHECK(ev->fraction[0] == 0.0, "%s: first fraction %g, want 0", stage, ev->fraction[0]);
  CHECK(ev->fraction[ev->n - 1] == 1.0, "%s: last fraction %g, want 1", stage, ev->fraction[ev->n - 1]);
  for (int i = 0; i < ev->n; i++) {
    CHECK(!strcmp(ev->stage[i], stage), "event %d: stage '%s', want '%s'", i, ev->stage[i], stage);
    if (i) CHECK(ev->fraction[i] >= ev->fraction[i - 1], "%s: fraction decreases at event %d", stage, i);
  }
}

static double rel_l2(const double *a, const double *b, int64_t n) {
  double d = 0, s = 0;
  for (int64_t i = 0; i < n; i++) {
    d += (a[i] - b[i]) * (a[i] - b[i]);
    s += b[i] * b[i];
  }
  return sqrt(d / s);
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  events ev;

  /* set / get / clear */
  tmsf_progress_fn fn = record;
  void *user = &ev;
  CHECK_OK(ctx, tmsf_context_get_progress(ctx, &fn, &user));
  CHECK(fn == NULL && user == NULL, "no callback by default");
  CHECK_OK(ctx, tmsf_context_set_progress(ctx, record, &ev));
  CHECK_OK(ctx, tmsf_context_get_progress(ctx, &fn, &user));
  CHECK(fn == record && user == &ev, "the callback and user pointer set");
  CHECK(tmsf_context_set_progress(NULL, record, &ev) == TMSF_ERR_ARGUMENT, "NULL context rejected");

  /* setup and solve on the SimNIBS sphere */
  tmsf_mesh *mesh;
  tmsf_coil *coil;
  tmsf_simulation *sim;
  tmsf_field *field = NULL, *again = NULL;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  REQUIRE_OK(ctx, tmsf_coil_read(ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &coil));
  REQUIRE_OK(ctx, tmsf_simulation_create(ctx, mesh, &sim));
  const double P[16] = {-1, 0, 0, 0, 0, 1, 0, 0, 0, 0, -1, 0.099, 0, 0, 0, 1}; /* 4 mm above the top */

  /* a setup cancelled half-way leaves the simulation not set up */
  reset(&ev, 1);
  CHECK(tmsf_simulation_setup(sim) == TMSF_ERR_CANCELLED, "setup cancelled");
  CHECK(strstr(tmsf_context_last_error(ctx), "cancelled") != NULL, "message says cancelled: %s",
        tmsf_context_last_error(ctx));
  CHECK(tmsf_simulation_solve(sim, coil, P, 1e6, &field) != TMSF_SUCCESS && field == NULL,
        "no solve after a cancelled setup");

  reset(&ev, -1);
  REQUIRE_OK(ctx, tmsf_simulation_setup(sim));
  check_run(&ev, "setup", 3);

  reset(&ev, -1);
  REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, P, 1e6, &field));
  check_run(&ev, "solve", 4);

  /* cancelled at each point before the end: no field; then the same field again */
  int64_t ne;
  tmsf_mesh_get_sizes(mesh, NULL, &ne, NULL);
  const double *E, *E2;
  tmsf_field_get_E(field, &E);
  for (int at = 0; at < 4; at++) {
    reset(&ev, at);
    tmsf_field *f = NULL;
    int st = tmsf_simulation_solve(sim, coil, P, 1e6, &f);
    CHECK(st == TMSF_ERR_CANCELLED && f == NULL, "solve cancelled at event %d: status %d", at, st);
    tmsf_field_destroy(&f);
  }
  reset(&ev, MAX_EVENTS); /* asks to cancel at no event */
  REQUIRE_OK(ctx, tmsf_simulation_solve(sim, coil, P, 1e6, &again));
  tmsf_field_get_E(again, &E2);
  /* direct solver on this small mesh: the same field to rounding */
  double d = rel_l2(E2, E, 3 * ne);
  CHECK(d < 1e-9, "field after cancelled solves: relative L2 %.3g from the first", d);

  /* a callback that asks to cancel at fraction 1 cannot: the call has finished */
  events last;
  reset(&last, 4);
  tmsf_context_set_progress(ctx, record, &last);
  tmsf_field *f1 = NULL;
  CHECK_OK(ctx, tmsf_simulation_solve(sim, coil, P, 1e6, &f1));
  CHECK(last.n == 5 && last.fraction[4] == 1.0 && f1 != NULL, "cancel at fraction 1 is ignored (%d events)", last.n);
  tmsf_field_destroy(&f1);

  /* no callback: nothing called */
  reset(&ev, -1);
  CHECK_OK(ctx, tmsf_context_set_progress(ctx, NULL, &ev));
  CHECK_OK(ctx, tmsf_context_get_progress(ctx, &fn, &user));
  CHECK(fn == NULL && user == NULL, "cleared");
  tmsf_field *f2 = NULL;
  CHECK_OK(ctx, tmsf_simulation_solve(sim, coil, P, 1e6, &f2));
  CHECK(ev.n == 0, "no events without a callback (%d)", ev.n);
  tmsf_field_destroy(&f2);

  tmsf_field_destroy(&again);
  tmsf_field_destroy(&field);
  tmsf_simulation_destroy(&sim);
  tmsf_coil_destroy(&coil);
  tmsf_mesh_destroy(&mesh);

#if TMSF_HAVE_NIFTI && TMSF_HAVE_CGAL
  /* meshing a tiny label volume (6^3 voxels of 2 mm, tissue 2 inside 5) */
  tmsf_labels *labels;
  REQUIRE_OK(ctx, tmsf_labels_read(ctx, test_path("tests/fuzz/corpus-labels/uint8-sform.nii"), &labels));
  tmsf_meshing_params p;
  tmsf_meshing_params_init(&p);
  p.cell_size_mm = p.cell_size_fine_mm = p.facet_size_mm = p.facet_size_fine_mm = 1.0;
  p.facet_distance_mm = 0.2;
  p.num_threads = 1;
  tmsf_mesh *m = NULL;
  CHECK_OK(ctx, tmsf_context_set_progress(ctx, record, &ev));
  reset(&ev, -1);
  CHECK_OK(ctx, tmsf_mesh_from_labels(labels, NULL, &p, &m));
  check_run(&ev, "mesh", 7); /* start, prepared, refined, perturbed, exuded, extracted, done */
  CHECK(m != NULL, "a mesh");
  tmsf_mesh_destroy(&m);
  /* cancelled before, inside (after CGAL's refinement) and after the mesher */
  const int cancel_at[3] = {0, 2, 5};
  for (int k = 0; k < 3; k++) {
    reset(&ev, cancel_at[k]);
    int st = tmsf_mesh_from_labels(labels, NULL, &p, &m);
    CHECK(st == TMSF_ERR_CANCELLED && m == NULL, "meshing cancelled at event %d: status %d", cancel_at[k], st);
    CHECK(ev.n == cancel_at[k] + 1, "no event after the cancel (%d events)", ev.n);
    tmsf_mesh_destroy(&m);
  }
  tmsf_labels_destroy(&labels);
#endif

  tmsf_context_destroy(&ctx);
  return test_summary("progress");
}

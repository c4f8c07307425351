/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-context.c: the context — status texts, error messages and origins,
 * threads, version, NULL-safe destroy.
 */
#include "test-common.h"

int main(void) {
  /* every listed status has its own text; unknown codes say so */
  const int codes[] = {
#define X(name, value, msg) name,
      TMSF_STATUS_LIST(X)
#undef X
  };
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    const char *s = tmsf_status_string(codes[i]);
    CHECK(s && *s && strcmp(s, "unknown status") != 0, "status %d has no text", codes[i]);
    for (size_t j = 0; j < i; j++) CHECK(strcmp(s, tmsf_status_string(codes[j])) != 0, "status %d and %d share a text", codes[i], codes[j]);
  }
  CHECK(strcmp(tmsf_status_string(9999), "unknown status") == 0, "unknown code");
  CHECK(tmsf_status_string(TMSF_SUCCESS)[0] != '\0', "success text");

  CHECK(strcmp(tmsf_version(), TMSF_VERSION_STRING) == 0, "run-time version %s vs header %s", tmsf_version(), TMSF_VERSION_STRING);
  CHECK(strstr(tmsf_build_info(), "openmp=") != NULL, "build info: %s", tmsf_build_info());

  tmsf_context *ctx = NULL;
  CHECK(tmsf_context_create(NULL) == TMSF_ERR_ARGUMENT, "create(NULL)");
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  CHECK(strcmp(tmsf_context_last_error(ctx), "") == 0, "fresh context has no message");
  CHECK(tmsf_context_last_status(ctx) == TMSF_SUCCESS, "fresh status");

  /* an error from a call lands in the context with an origin */
  int ierr = tmsf_context_set_threads(ctx, -3);
  CHECK(ierr == TMSF_ERR_ARGUMENT, "negative threads: %d", ierr);
  CHECK(tmsf_context_last_status(ctx) == TMSF_ERR_ARGUMENT, "last status");
  CHECK(strstr(tmsf_context_last_error(ctx), "-3") != NULL, "message names the value: %s", tmsf_context_last_error(ctx));
  const char *file = NULL, *func = NULL;
  int line = 0;
  CHECK_OK(ctx, tmsf_context_last_error_origin(ctx, &file, &line, &func));
  CHECK(file && strstr(file, "context.c") && line > 0 && func && strstr(func, "set_threads"), "origin %s:%d %s", file, line, func);
  CHECK_OK(ctx, tmsf_context_clear_error(ctx));
  CHECK(tmsf_context_last_error(ctx)[0] == '\0' && tmsf_context_last_status(ctx) == 0, "cleared");

  /* a missing file: message names it */
  tmsf_mesh *mesh = NULL;
  ierr = tmsf_mesh_read(ctx, "/nonexistent/dir/head.msh", &mesh);
  CHECK(ierr == TMSF_ERR_IO && mesh == NULL, "missing file: %d", ierr);
  CHECK(strstr(tmsf_context_last_error(ctx), "/nonexistent/dir/head.msh") != NULL, "message: %s", tmsf_context_last_error(ctx));

  /* threads */
  int nt = -1;
  CHECK_OK(ctx, tmsf_context_set_threads(ctx, 1));
  CHECK_OK(ctx, tmsf_context_get_threads(ctx, &nt));
  CHECK(nt == 1, "threads %d", nt);
  CHECK_OK(ctx, tmsf_context_set_threads(ctx, 0));
  CHECK_OK(ctx, tmsf_context_get_threads(ctx, &nt));
  CHECK(nt >= 1, "default threads %d", nt);

  /* destroy functions accept NULL and clear the pointer */
  CHECK(tmsf_mesh_destroy(NULL) == 0 && tmsf_mesh_destroy(&mesh) == 0, "mesh destroy NULL");
  tmsf_coil *coil = NULL;
  tmsf_simulation *sim = NULL;
  tmsf_field *field = NULL;
  tmsf_solver *solver = NULL;
  CHECK(tmsf_coil_destroy(&coil) == 0 && tmsf_simulation_destroy(&sim) == 0 &&
            tmsf_field_destroy(&field) == 0 && tmsf_solver_destroy(&solver) == 0 &&
            tmsf_coil_destroy(NULL) == 0 && tmsf_simulation_destroy(NULL) == 0 &&
            tmsf_field_destroy(NULL) == 0 && tmsf_solver_destroy(NULL) == 0,
        "destroy NULL");
  CHECK_OK(ctx, tmsf_context_destroy(&ctx));
  CHECK(ctx == NULL, "pointer cleared");
  CHECK(tmsf_context_destroy(&ctx) == 0 && tmsf_context_destroy(NULL) == 0, "context destroy NULL");
  return test_summary("context");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * output-test.h: shared by the output tests — a solved field on the
 * three-layer test sphere (tags 3 inner ball r < 85 mm, 4, 5; surfaces
 * 1003..1005), a scratch directory, and a check that a directory holds no
 * leftover temporary files.
 */
#ifndef TMSF_OUTPUT_TEST_H
#define TMSF_OUTPUT_TEST_H

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-common.h"

typedef struct out_case {
  tmsf_context *ctx;
  tmsf_mesh *mesh;
  tmsf_coil *coil;
  tmsf_simulation *sim;
  tmsf_field *field;
  double pose[16];
} out_case;

/* Magstim 70 mm figure-8 over the vertex of the sphere, 1 A/us. */
static inline void out_case_solve(out_case *c) {
  REQUIRE_OK(NULL, tmsf_context_create(&c->ctx));
  REQUIRE_OK(c->ctx, tmsf_mesh_read(c->ctx, test_path("data/spheres/sphere3.msh"), &c->mesh));
  REQUIRE_OK(c->ctx, tmsf_coil_read(c->ctx, test_path("data/coils/Magstim_70mm_Fig8.ccd"), &c->coil));
  const double centre[3] = {0.01, 0.02, 0.095}, ydir[3] = {0, 1, 0};
  REQUIRE_OK(c->ctx, tmsf_pose_from_centre(c->mesh, centre, ydir, 0.004, c->pose));
  REQUIRE_OK(c->ctx, tmsf_simulation_create(c->ctx, c->mesh, &c->sim));
  REQUIRE_OK(c->ctx, tmsf_simulation_setup(c->sim));
  REQUIRE_OK(c->ctx, tmsf_simulation_solve(c->sim, c->coil, c->pose, 1e6, &c->field));
}

static inline void out_case_free(out_case *c) {
  tmsf_field_destroy(&c->field);
  tmsf_simulation_destroy(&c->sim);
  tmsf_coil_destroy(&c->coil);
  tmsf_mesh_destroy(&c->mesh);
  tmsf_context_destroy(&c->ctx);
}

/* A fresh scratch directory under the build directory (or /tmp). */
static inline const char *scratch_dir(const char *name) {
  static char buf[4096];
  const char *root = getenv("TMSF_BUILD_DIR");
  snprintf(buf, sizeof(buf), "%s/%s.%d", root ? root : "/tmp", name, (int)getpid());
  mkdir(buf, 0777);
  return buf;
}

/* Number of entries of dir whose name contains ".tmp." (leftover temporaries). */
static inline int count_temporaries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) n++;
  closedir(d);
  return n;
}

static inline int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Remove the files of a scratch directory and the directory itself. */
static inline void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[4608];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
    unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

static inline uint64_t lcg_next(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 11;
}

static inline int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#endif

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-head.c: head specs and the label-mesh cache (with a stand-in mesher, so
 * that the cache is tested without CGAL): miss then hit with identical
 * meshes, corrupt and truncated cache files rebuilt, a changed label file
 * gets another cache file, caching off.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "shell-mesh.h"
#include "../lib/head-impl.h"

#if defined(__has_include)
#if __has_include(<tmsfield/meshing.h>)
#define HAVE_MESHING_H 1
#endif
#endif

static int mesher_calls = 0;

/* Stands in for the CGAL mesher: the shell mesh whatever the labels. */
static int fake_mesher(tmsf_context *ctx, const char *path, const char *preset, void *user, tmsf_mesh **mesh) {
  (void)path;
  (void)user;
  mesher_calls++;
  if (strcmp(preset, "colin27") != 0) return tmsf_error_(ctx, __FILE__, __LINE__, __func__, TMSF_ERR_ARGUMENT, "preset %s", preset);
  return shell_mesh(ctx, 1, mesh);
}

static int same_mesh(const tmsf_mesh *a, const tmsf_mesh *b) {
  int64_t na, ea, ta, nb, eb, tb;
  tmsf_mesh_get_sizes(a, &na, &ea, &ta);
  tmsf_mesh_get_sizes(b, &nb, &eb, &tb);
  if (na != nb || ea != eb || ta != tb) return 0;
  const double *xa, *xb;
  const int32_t *qa, *qb, *ga, *gb;
  tmsf_mesh_get_nodes(a, &xa);
  tmsf_mesh_get_nodes(b, &xb);
  if (memcmp(xa, xb, sizeof(double) * 3 * (size_t)na)) return 0;
  tmsf_mesh_get_tetrahedra(a, &qa, &ga);
  tmsf_mesh_get_tetrahedra(b, &qb, &gb);
  if (memcmp(qa, qb, sizeof(int32_t) * 4 * (size_t)ea) || memcmp(ga, gb, sizeof(int32_t) * (size_t)ea)) return 0;
  tmsf_mesh_get_triangles(a, &qa, &ga);
  tmsf_mesh_get_triangles(b, &qb, &gb);
  if (memcmp(qa, qb, sizeof(int32_t) * 3 * (size_t)ta) || memcmp(ga, gb, sizeof(int32_t) * (size_t)ta)) return 0;
  return 1;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static void open_labels(tmsf_context *ctx, const char *labels, tmsf_head_info *info, tmsf_mesh **mesh) {
  memset(info, 0, sizeof(*info));
  CHECK_OK(ctx, tmsf_head_open_labels(ctx, labels, "colin27", "fake mesher 1", "p", 1, fake_mesher, NULL, info, mesh));
}

static void test_cache(tmsf_context *ctx, const char *dir) {
  char cache[4200], labels[4200];
  snprintf(cache, sizeof(cache), "%s/cache", dir);
  snprintf(labels, sizeof(labels), "%s/my_labels.nii.gz", dir);
  write_file(labels, "not really a NIfTI file: the stand-in mesher ignores it\n");
  setenv("TMSF_CACHE_DIR", cache, 1);
  char got[4096];
  CHECK(tmsf_head_get_cache_dir(got, sizeof(got)) == 0 && !strcmp(got, cache), "cache dir %s", got);

  tmsf_head_info info;
  tmsf_mesh *first = NULL, *second = NULL, *third = NULL, *ref = NULL;
  REQUIRE_OK(ctx, shell_mesh(ctx, 1, &ref));
  open_labels(ctx, labels, &info, &first);
  CHECK(mesher_calls == 1 && !info.from_cache && info.cache_written && !info.cache_rebuilt,
        "first use: calls %d, from_cache %d, written %d", mesher_calls, info.from_cache, info.cache_written);
  CHECK(strstr(info.cache_path, "/heads/my_labels-") && access(info.cache_path, R_OK) == 0, "cache path %s",
        info.cache_path);
  /* the mesh went through the file: nodes in mm and back, so equal to the
   * stand-in mesh to rounding, and the tets and tags exactly */
  if (first) {
    const double *a, *b;
    int64_t n;
    tmsf_mesh_get_sizes(first, &n, NULL, NULL);
    tmsf_mesh_get_nodes(first, &a);
    tmsf_mesh_get_nodes(ref, &b);
    double maxd = 0;
    for (int64_t i = 0; i < 3 * n; i++) maxd = fmax(maxd, fabs(a[i] - b[i]));
    CHECK(maxd < 1e-15, "cached nodes differ from the mesher's by %g m", maxd);
  }
  open_labels(ctx, labels, &info, &second);
  CHECK(mesher_calls == 1 && info.from_cache && !info.cache_written && info.mesh_time_s == 0,
        "second use: calls %d, from_cache %d", mesher_calls, info.from_cache);
  CHECK(first && second && same_mesh(first, second), "second use: mesh differs from the first");
  tmsf_mesh_destroy(&second);

  /* corrupt one byte in the middle: detected by the checksum, rebuilt */
  char path[4096];
  snprintf(path, sizeof(path), "%s", info.cache_path);
  struct stat st;
  stat(path, &st);
  FILE *f = fopen(path, "r+b");
  if (f) {
    fseek(f, (long)(st.st_size / 2), SEEK_SET);
    int c = fgetc(f);
    fseek(f, (long)(st.st_size / 2), SEEK_SET);
    fputc(c ^ 0x10, f);
    fclose(f);
  }
  open_labels(ctx, labels, &info, &third);
  CHECK(mesher_calls == 2 && !info.from_cache && info.cache_rebuilt && info.cache_written,
        "corrupt cache: calls %d, from_cache %d, rebuilt %d", mesher_calls, info.from_cache, info.cache_rebuilt);
  CHECK(third && same_mesh(first, third), "rebuilt mesh differs");
  tmsf_mesh_destroy(&third);
  open_labels(ctx, labels, &info, &third);
  CHECK(mesher_calls == 2 && info.from_cache, "after the rebuild: calls %d, from_cache %d", mesher_calls,
        info.from_cache);
  tmsf_mesh_destroy(&third);

  /* truncated (as by a crash without the atomic rename) */
  if (truncate(path, st.st_size / 3) != 0) CHECK(0, "truncate failed");
  open_labels(ctx, labels, &info, &third);
  CHECK(mesher_calls == 3 && info.cache_rebuilt && info.cache_written, "truncated cache: calls %d, rebuilt %d",
        mesher_calls, info.cache_rebuilt);
  tmsf_mesh_destroy(&third);

  /* changed label file: another key; no temporary files left */
  write_file(labels, "other labels\n");
  open_labels(ctx, labels, &info, &third);
  CHECK(mesher_calls == 4 && strcmp(info.cache_path, path) != 0, "changed labels: calls %d, path %s", mesher_calls,
        info.cache_path);
  tmsf_mesh_destroy(&third);
  char cmd[8600];
  snprintf(cmd, sizeof(cmd), "test $(ls '%s/heads' | wc -l) -eq 2 && ! ls '%s/heads' | grep -q tmp", cache, cache);
  CHECK(system(cmd) == 0, "cache directory should hold exactly 2 files and no temporary ones");

  /* caching off */
  setenv("TMSF_CACHE_DIR", "off", 1);
  open_labels(ctx, labels, &info, &third);
  CHECK(mesher_calls == 5 && !info.cache_path[0] && !info.cache_written && !info.from_cache,
        "cache off: calls %d, path '%s'", mesher_calls, info.cache_path);
  tmsf_mesh_destroy(&third);
  setenv("TMSF_CACHE_DIR", cache, 1);

  tmsf_mesh_destroy(&first);
  tmsf_mesh_destroy(&ref);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
  CHECK(system(cmd) == 0, "cleanup");
  unlink(labels);
}

static void test_specs(tmsf_context *ctx) {
  tmsf_mesh *mesh = NULL;
  tmsf_head_info info;
  CHECK_OK(ctx, tmsf_head_open_ex(ctx, test_path("data/spheres/sphere3.msh"), NULL, &info, &mesh));
  CHECK(mesh && info.kind == TMSF_HEAD_MESH && !info.from_cache, "msh spec");
  tmsf_mesh_destroy(&mesh);
  int ierr = tmsf_head_open(ctx, "head.stl", &mesh);
  CHECK(ierr == TMSF_ERR_ARGUMENT && mesh == NULL && strstr(tmsf_context_last_error(ctx), "head.stl"),
        "bad spec: %d %s", ierr, tmsf_context_last_error(ctx));
  ierr = tmsf_head_open(ctx, "", &mesh);
  CHECK(ierr == TMSF_ERR_ARGUMENT, "empty spec: %d", ierr);
  ierr = tmsf_head_open(ctx, "/nonexistent/dir/x.msh", &mesh);
  CHECK(ierr == TMSF_ERR_IO, "missing msh: %d", ierr);
  /* the built-in head: resolved without meshing */
  ierr = tmsf_head_query(ctx, "default", NULL, &info);
  if (ierr == TMSF_SUCCESS) {
    CHECK(info.builtin && info.kind == TMSF_HEAD_LABELS && !strcmp(info.preset, "colin27") &&
              strstr(info.source, "heads/colin27_v3_labels_mni.nii.gz"),
          "default: builtin %d preset %s source %s", info.builtin, info.preset, info.source);
    CHECK(strstr(info.cache_path, "/heads/colin27_v3_labels_mni-") != NULL, "default cache path %s", info.cache_path);
  } else {
#if HAVE_MESHING_H /* with the mesher merged, the data must be there too */
    CHECK(0, "default: %d %s", ierr, tmsf_context_last_error(ctx));
#else
    CHECK(ierr == TMSF_ERR_UNSUPPORTED || ierr == TMSF_ERR_IO, "default: %d %s", ierr, tmsf_context_last_error(ctx));
#endif
    printf("built-in head: not resolvable in this build (%s)\n", tmsf_context_last_error(ctx));
  }
  /* preset guesses */
  ierr = tmsf_head_query(ctx, "/tmp/colin27_brainweb_labels.nii.gz", NULL, &info);
  if (ierr == TMSF_SUCCESS || ierr == TMSF_ERR_IO) CHECK(!strcmp(info.preset, "brainweb"), "guess %s", info.preset);
}

int main(void) {
  tmsf_context *ctx = NULL;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  char dir[2048];
  snprintf(dir, sizeof(dir), "%s/t-head-%ld", getenv("TMSF_BUILD_DIR") ? getenv("TMSF_BUILD_DIR") : "/tmp",
           (long)getpid());
  mkdir(dir, 0755);
  test_cache(ctx, dir);
  test_specs(ctx);
  rmdir(dir);
  tmsf_context_destroy(&ctx);
  return test_summary("t-head");
}

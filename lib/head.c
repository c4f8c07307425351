/*
 * SPDX-License-Identifier: BSD-3-Clause
 * head.c: head models by name and the label-volume mesh cache (head.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "head-impl.h"

#if defined(__has_include)
#if __has_include(<tmsfield/meshing.h>)
#include <tmsfield/labels.h>
#include <tmsfield/meshing.h>
#define HEAD_HAVE_MESHING 1
#endif
#endif
#ifndef HEAD_HAVE_MESHING
#define HEAD_HAVE_MESHING 0
#endif

/* Change when the meshing of label volumes changes in a way the parameters
 * do not show, so that old cache files are not reused. */
#define HEAD_MESHER_ID "tmsfield labels mesher 1 (CGAL Mesh_3)"
#define BUILTIN_LABELS "heads/colin27_v3_labels_mni.nii.gz"
#define BUILTIN_PRESET "colin27"
#define CHECK_SECTION "$TmsfCacheChecksum"

/* ------------------------------------------------------------------------- */
/* Cache directory                                                           */
/* ------------------------------------------------------------------------- */

int tmsf_head_get_cache_dir(char *buf, size_t size) { return tmsf_default_cache_dir(buf, size); }


/* ------------------------------------------------------------------------- */
/* Hashing: 64-bit FNV-1a and a second, multiplicative 64-bit hash          */
/* ------------------------------------------------------------------------- */

typedef struct hasher {
  uint64_t fnv, mix;
} hasher;

static void hash_init(hasher *h) {
  h->fnv = 0xcbf29ce484222325ULL;
  h->mix = 0x243f6a8885a308d3ULL;
}

static void hash_bytes(hasher *h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h->fnv ^= p[i];
    h->fnv *= 0x100000001b3ULL;
  }
  p = data;
  for (size_t i = 0; i < n; i++) { /* golden-ratio multiply and rotate */
    h->mix = (h->mix ^ p[i]) * 0x9e3779b97f4a7c15ULL;
    h->mix = (h->mix << 23) | (h->mix >> 41);
  }
}

static void hash_text(hasher *h, char out[40]) {
  snprintf(out, 40, "%016llx%016llx", (unsigned long long)h->fnv, (unsigned long long)h->mix);
}

/* ------------------------------------------------------------------------- */
/* Spec resolution                                                           */
/* ------------------------------------------------------------------------- */

static int ends_with_ci(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  if (m > n) return 0;
  for (size_t i = 0; i < m; i++) {
    char a = s[n - m + i], b = suffix[i];
    if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
    if (a != b) return 0;
  }
  return 1;
}

static int contains_ci(const char *s, const char *word) {
  size_t n = strlen(s), m = strlen(word);
  for (size_t i = 0; i + m <= n; i++) {
    size_t j = 0;
    for (; j < m; j++) {
      char a = s[i + j];
      if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
      if (a != word[j]) break;
    }
    if (j == m) return 1;
  }
  return 0;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static const char *guess_preset(const char *path) {
  const char *b = base_name(path);
  if (contains_ci(b, "brainweb")) return "brainweb";
  if (contains_ci(b, "colin")) return "colin27";
  if (contains_ci(b, "roast") || contains_ci(b, "newyork") || contains_ci(b, "nyhead")) return "roast";
  if (contains_ci(b, "charm") || contains_ci(b, "simnibs") || contains_ci(b, "final_tissues")) return "simnibs";
  return BUILTIN_PRESET;
}

/* Fill kind, builtin, source and preset. */
static int resolve(tmsf_context *ctx, const char *spec, const char *preset, tmsf_head_info *info) {
  memset(info, 0, sizeof(*info));
  if (!spec || !spec[0]) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "head: empty head name; expected "
                                           "\"default\", a .msh file or a label volume (.nii, .nii.gz)");
  if (!strcmp(spec, "default")) {
    const char *dir = NULL;
    TMSF_CALL(tmsf_get_data_dir(&dir));
    if (snprintf(info->source, sizeof(info->source), "%s/%s", dir, BUILTIN_LABELS) >= (int)sizeof(info->source))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "head: data directory path too long");
    info->builtin = 1;
    info->kind = TMSF_HEAD_LABELS;
    if (access(info->source, R_OK) != 0)
      return TMSF_ERROR(ctx, TMSF_ERR_IO, "head \"default\": the built-in label volume %s cannot be read "
                        "(set TMSF_DATA_DIR to the directory holding heads/)", info->source);
    snprintf(info->preset, sizeof(info->preset), "%s", preset ? preset : BUILTIN_PRESET);
    return TMSF_SUCCESS;
  }
  if (strlen(spec) >= sizeof(info->source)) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "head: path too long");
  snprintf(info->source, sizeof(info->source), "%s", spec);
  if (ends_with_ci(spec, ".msh")) {
    info->kind = TMSF_HEAD_MESH;
    return TMSF_SUCCESS;
  }
  if (ends_with_ci(spec, ".nii") || ends_with_ci(spec, ".nii.gz")) {
    info->kind = TMSF_HEAD_LABELS;
    snprintf(info->preset, sizeof(info->preset), "%s", preset ? preset : guess_preset(spec));
    return TMSF_SUCCESS;
  }
  return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "head '%s': expected \"default\", a Gmsh mesh (.msh) or a label "
                    "volume (.nii, .nii.gz)", spec);
}

/* The cache path of a label file: hash its bytes with the key's parts. */
static int cache_path_for(tmsf_context *ctx, const char *label_path, const char *preset, const char *mesher_id,
                          const void *extra, size_t extra_size, char *out, size_t size) {
  out[0] = '\0';
  char dir[TMSF_HEAD_PATH_MAX];
  if (tmsf_head_get_cache_dir(dir, sizeof(dir)) || !dir[0]) return TMSF_SUCCESS; /* caching off */
  unsigned char *data = NULL;
  size_t n = 0;
  TMSF_CALL(tmsf_file_read_all(ctx, label_path, &data, &n));
  hasher h;
  hash_init(&h);
  static const char tag[] = "tmsfield head cache v1";
  hash_bytes(&h, tag, sizeof(tag));
  hash_bytes(&h, mesher_id, strlen(mesher_id) + 1);
  hash_bytes(&h, preset, strlen(preset) + 1);
  uint64_t es = extra_size;
  hash_bytes(&h, &es, sizeof(es));
  if (extra_size) hash_bytes(&h, extra, extra_size);
  uint64_t ns = n;
  hash_bytes(&h, &ns, sizeof(ns));
  hash_bytes(&h, data, n);
  free(data);
  char key[40];
  hash_text(&h, key);
  /* name: the file name without .nii/.nii.gz */
  char stem[128];
  snprintf(stem, sizeof(stem), "%s", base_name(label_path));
  char *dot = strstr(stem, ".nii");
  if (dot) *dot = '\0';
  for (char *p = stem; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
      *p = '_';
  if (snprintf(out, size, "%s/heads/%s-%s.msh", dir, stem, key) >= (int)size) out[0] = '\0';
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Cache files: Gmsh 2.2 binary + a trailing checksum section                */
/* ------------------------------------------------------------------------- */

/* Read and verify a cache file; 0 with *mesh on success, non-zero (no
 * message kept) when it is missing, corrupt or does not read. */
static int cache_read(tmsf_context *ctx, const char *path, tmsf_mesh **mesh) {
  *mesh = NULL;
  unsigned char *data = NULL;
  size_t n = 0;
  tmsf_context *quiet = NULL;
  if (tmsf_context_create(&quiet)) return -1;
  int ok = 0;
  if (tmsf_file_read_all(quiet, path, &data, &n) == 0 && n > 64) {
    /* the trailer: "\n$TmsfCacheChecksum\n<key> <bytes>\n$EndTmsfCacheChecksum\n" */
    size_t from = n > 256 ? n - 256 : 0, pos = 0;
    for (size_t i = from; i + strlen(CHECK_SECTION) + 1 < n; i++)
      if (data[i] == '\n' && !memcmp(data + i + 1, CHECK_SECTION "\n", strlen(CHECK_SECTION) + 1)) pos = i + 1;
    if (pos > 0) {
      char want[40] = "", got[40];
      unsigned long long bytes = 0;
      if (sscanf((const char *)data + pos + strlen(CHECK_SECTION) + 1, "%39s %llu", want, &bytes) == 2 &&
          bytes == pos) {
        hasher h;
        hash_init(&h);
        hash_bytes(&h, data, pos);
        hash_text(&h, got);
        if (!strcmp(want, got) && tmsf_msh_read_buffer(quiet, path, data, pos, mesh) == 0) ok = 1;
      }
    }
  }
  free(data);
  tmsf_context_destroy(&quiet);
  if (!ok) return -1;
  (*mesh)->ctx = ctx; /* the caller's context from here on */
  return 0;
}

/* Write the mesh to a unique temporary file, append the checksum and rename
 * it into place.  0 on success; on failure nothing is left behind. */
static int cache_write(tmsf_context *ctx, const tmsf_mesh *mesh, const char *path) {
  (void)ctx;
  char dir[TMSF_HEAD_PATH_MAX];
  snprintf(dir, sizeof(dir), "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  if (tmsf_make_dirs(dir) != 0) return -1;
  char tmp[TMSF_HEAD_PATH_MAX + 64];
  static unsigned counter = 0;
  snprintf(tmp, sizeof(tmp), "%s.%ld.%u.tmp", path, (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
  tmsf_context *quiet = NULL;
  if (tmsf_context_create(&quiet)) return -1;
  int ok = tmsf_msh_write(mesh, NULL, tmp) == 0;
  unsigned char *data = NULL;
  size_t n = 0;
  if (ok) ok = tmsf_file_read_all(quiet, tmp, &data, &n) == 0;
  if (ok) {
    hasher h;
    hash_init(&h);
    hash_bytes(&h, data, n);
    char key[40];
    hash_text(&h, key);
    FILE *f = fopen(tmp, "ab");
    ok = f != NULL;
    if (f) {
      ok = fprintf(f, "%s%s\n%s %llu\n$EndTmsfCacheChecksum\n", (n > 0 && data[n - 1] == '\n') ? "" : "\n",
                   CHECK_SECTION, key, (unsigned long long)(n + ((n > 0 && data[n - 1] == '\n') ? 0 : 1))) > 0;
      ok = fflush(f) == 0 && ok;
      ok = fsync(fileno(f)) == 0 && ok;
      ok = fclose(f) == 0 && ok;
    }
  }
  free(data);
  tmsf_context_destroy(&quiet);
  if (ok) ok = rename(tmp, path) == 0;
  if (!ok) unlink(tmp);
  return ok ? 0 : -1;
}

int tmsf_head_open_labels(tmsf_context *ctx, const char *label_path, const char *preset, const char *mesher_id,
                          const void *extra, size_t extra_size, tmsf_head_mesher mesher, void *user,
                          tmsf_head_info *info, tmsf_mesh **mesh) {
  *mesh = NULL;
  TMSF_CALL(cache_path_for(ctx, label_path, preset, mesher_id, extra, extra_size, info->cache_path,
                           sizeof(info->cache_path)));
  if (info->cache_path[0]) {
    info->cache_exists = access(info->cache_path, F_OK) == 0;
    if (info->cache_exists && cache_read(ctx, info->cache_path, mesh) == 0) {
      info->from_cache = 1;
      return TMSF_SUCCESS;
    }
    info->cache_rebuilt = info->cache_exists;
  }
  double t0 = tmsf_wtime();
  tmsf_mesh *built = NULL;
  TMSF_CALL(mesher(ctx, label_path, preset, user, &built));
  info->mesh_time_s = tmsf_wtime() - t0;
  if (info->cache_path[0] && cache_write(ctx, built, info->cache_path) == 0) {
    /* return what the cache holds, so that first and later uses agree bitwise */
    tmsf_mesh *again = NULL;
    if (cache_read(ctx, info->cache_path, &again) == 0) {
      info->cache_written = 1;
      tmsf_mesh_destroy(&built);
      *mesh = again;
      return TMSF_SUCCESS;
    }
  }
  info->cache_rebuilt = 0;
  *mesh = built;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* The CGAL mesher (meshing.h)                                               */
/* ------------------------------------------------------------------------- */

#if HEAD_HAVE_MESHING
static int cgal_mesher(tmsf_context *ctx, const char *path, const char *preset, void *user, tmsf_mesh **mesh) {
  const tmsf_meshing_params *p = user;
  tmsf_labels *labels = NULL;
  TMSF_CALL(tmsf_labels_read(ctx, path, &labels));
  int ierr = tmsf_mesh_from_labels(labels, preset, p, mesh);
  tmsf_labels_destroy(&labels);
  return ierr;
}
#endif

static int open_or_query(tmsf_context *ctx, const char *spec, const char *preset, tmsf_head_info *info,
                         tmsf_mesh **mesh) {
  TMSF_CALL(resolve(ctx, spec, preset, info));
  if (info->kind == TMSF_HEAD_MESH) return mesh ? tmsf_mesh_read(ctx, info->source, mesh) : TMSF_SUCCESS;
#if HEAD_HAVE_MESHING
  tmsf_meshing_params p;
  memset(&p, 0, sizeof(p)); /* padding hashed as zeros */
  TMSF_CALL(tmsf_meshing_params_init(&p));
  /* one thread: CGAL's parallel mesher gives a slightly different mesh on
   * every run (tetrahedron counts vary by ~1 %); the sequential one, with its
   * fixed seed, the same mesh on every machine (~17-21 s for Colin27) */
  p.num_threads = 1;
  if (!mesh) {
    TMSF_CALL(cache_path_for(ctx, info->source, info->preset, HEAD_MESHER_ID, &p, sizeof(p), info->cache_path,
                             sizeof(info->cache_path)));
    info->cache_exists = info->cache_path[0] && access(info->cache_path, F_OK) == 0;
    return TMSF_SUCCESS;
  }
  return tmsf_head_open_labels(ctx, info->source, info->preset, HEAD_MESHER_ID, &p, sizeof(p), cgal_mesher, &p,
                               info, mesh);
#else
  return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED, "head '%s': meshing label volumes needs a build with the "
                    "label mesher (CGAL)", spec);
#endif
}

int tmsf_head_query(tmsf_context *ctx, const char *spec, const char *preset, tmsf_head_info *info) {
  if (!info) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "head: info is required");
  return open_or_query(ctx, spec, preset, info, NULL);
}

int tmsf_head_open_ex(tmsf_context *ctx, const char *spec, const char *preset, tmsf_head_info *info,
                      tmsf_mesh **mesh) {
  if (!mesh) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "head: mesh is required");
  *mesh = NULL;
  tmsf_head_info local;
  return open_or_query(ctx, spec, preset, info ? info : &local, mesh);
}

int tmsf_head_open(tmsf_context *ctx, const char *spec, tmsf_mesh **mesh) {
  return tmsf_head_open_ex(ctx, spec, NULL, NULL, mesh);
}

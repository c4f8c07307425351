/*
 * SPDX-License-Identifier: BSD-3-Clause
 * head.h: head models by name — the built-in Colin27 head, a Gmsh mesh
 * file, or a label volume meshed at first use and cached.
 *
 * A label volume (the built-in one: <data dir>/heads/colin27_v3_labels_mni.nii.gz,
 * MNI space, 1 mm, preset "colin27") is meshed with tmsf_mesh_from_labels
 * and the default meshing parameters; the mesh is cached in
 * <cache dir>/heads/NAME-KEY.msh, where KEY is a content hash (64-bit FNV-1a
 * and a second 64-bit hash) of the label file's bytes, the preset, the meshing parameters
 * and a mesher version string.  The cache directory is $TMSF_CACHE_DIR when
 * set ("" or "off": no cache), else $XDG_CACHE_HOME/tmsfield, else
 * $HOME/.cache/tmsfield.  A cache file carries a checksum of its bytes in a
 * trailing section; one that does not match or does not read is rebuilt.
 * Writes go to a unique temporary file renamed into place, so concurrent
 * first uses are safe (each meshes; the last rename wins; readers never see
 * a partial file).  A cache that cannot be written is not an error: the mesh
 * is returned and info.cache_written is 0.  The library never prints: the
 * caller learns from tmsf_head_query / tmsf_head_info whether meshing is due.
 */
#ifndef TMSFIELD_HEAD_H
#define TMSFIELD_HEAD_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a head spec named. */
typedef enum tmsf_head_kind {
  TMSF_HEAD_MESH = 0,   /**< a Gmsh .msh file, read as is */
  TMSF_HEAD_LABELS = 1, /**< a label volume (.nii, .nii.gz), meshed and cached */
} tmsf_head_kind;

#define TMSF_HEAD_PATH_MAX 4096

/** How a head was (or would be) opened. */
typedef struct tmsf_head_info {
  tmsf_head_kind kind;
  int builtin;         /**< 1 for the spec "default" */
  char source[TMSF_HEAD_PATH_MAX];     /**< the .msh or label file */
  char preset[64];                     /**< label preset used ("" for .msh) */
  char cache_path[TMSF_HEAD_PATH_MAX]; /**< the cache file ("" when not cached) */
  int cache_exists;    /**< tmsf_head_query: a cache file is present (not yet verified) */
  int from_cache;      /**< tmsf_head_open_ex: the mesh was read from a valid cache file */
  int cache_rebuilt;   /**< a cache file was present but corrupt, and was replaced */
  int cache_written;   /**< a new cache file was written */
  double mesh_time_s;  /**< time spent meshing (0 on a cache hit) */
} tmsf_head_info;

/**
 * Open a head: spec is "default" (the built-in Colin27 head), a .msh file,
 * or a label volume (.nii / .nii.gz).  Same as tmsf_head_open_ex with
 * preset NULL and info NULL.
 */
TMSF_EXPORT int tmsf_head_open(tmsf_context *ctx, const char *spec, tmsf_mesh **mesh);

/**
 * Open a head (see tmsf_head_open).  preset: the label preset for a label
 * volume (labels.h: "colin27", "brainweb", "simnibs", "roast", or a
 * "FROM=TO,..." table); NULL guesses from the file name ("brainweb",
 * "colin", "roast"/"newyork", "charm"/"simnibs"/"final_tissues"), else
 * "colin27".  Ignored for .msh files.  info (may be NULL) tells what
 * happened.  Building a label mesh needs a build with CGAL
 * (TMSF_ERR_UNSUPPORTED otherwise).
 */
TMSF_EXPORT int tmsf_head_open_ex(tmsf_context *ctx, const char *spec, const char *preset,
                                  tmsf_head_info *info, tmsf_mesh **mesh);

/**
 * Without meshing or reading a mesh: resolve a spec as tmsf_head_open_ex
 * would (source file, preset, cache path; the label file is hashed) and say
 * whether a cache file exists (info->cache_exists), so that a front end can
 * announce a first-use meshing before it starts.
 */
TMSF_EXPORT int tmsf_head_query(tmsf_context *ctx, const char *spec, const char *preset,
                                tmsf_head_info *info);

/** The cache directory in use (see above) into buf; "" when caching is off.
 * TMSF_ERR_ARGUMENT when buf is too small. */
TMSF_EXPORT int tmsf_head_get_cache_dir(char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* TMSFIELD_HEAD_H */

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * meshing-impl.h: private structures of label volumes and the C interface of
 * the C++ (CGAL) mesher in mesh-labels.cpp.
 */
#ifndef TMSF_MESHING_IMPL_H
#define TMSF_MESHING_IMPL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef __cplusplus
#include <tmsfield/labels.h>
#include <tmsfield/meshing.h>

struct tmsf_labels {
  tmsf_context *ctx;
  char *origin;      /* file name or "tmsf_labels_create", for messages */
  int64_t dims[3];
  double affine[16]; /* voxel index -> mm, row-major */
  int32_t *data;     /* x fastest */
  int map_n;         /* user table */
  int32_t *map_from, *map_to;
};

static inline size_t tmsf_labels_nvox(const struct tmsf_labels *L) {
  return (size_t)L->dims[0] * (size_t)L->dims[1] * (size_t)L->dims[2];
}
#endif

/* Output of the CGAL mesher: malloc'ed arrays (free with tmsf_cgal_result_free). */
typedef struct tmsf_cgal_result {
  int64_t num_nodes;
  double *nodes; /* 3 per node, mm in the mesher's frame */
  int64_t num_tets;
  int32_t *tets, *tet_tags;
  int64_t num_tris;
  int32_t *tris, *tri_tags;
  double time_s[4]; /* refine, perturb/odt/lloyd, exude, extract */
  char message[512];
} tmsf_cgal_result;

typedef struct tmsf_cgal_settings {
  const float *cell_size_mm;  /* per voxel of the (padded) image */
  const float *facet_size_mm;
  double facet_distance_mm, facet_angle_deg, cell_radius_edge;
  int perturb, exude, odt, lloyd, relabel;
  double optimize_time_s, perturb_min_angle_deg, exude_min_angle_deg;
  int num_threads, seed;
  /* called after each meshing phase with the fraction of the whole done
   * (TMSF_CGAL_F_*); non-zero cancels (the mesher returns -2).  May be NULL. */
  int (*progress)(void *user, double fraction);
  void *progress_user;
} tmsf_cgal_settings;

/* Progress fractions at the end of each phase of tmsf_cgal_mesh_image: their
 * shares of the time to mesh the built-in Colin27 head on 2 cores (12.2 s:
 * refinement 7.1 s, perturbation 0.5 s, exudation 2.4 s, extraction 1.9 s). */
#define TMSF_CGAL_F_PREPARE 0.01
#define TMSF_CGAL_F_REFINE 0.58
#define TMSF_CGAL_F_OPTIMIZE 0.62
#define TMSF_CGAL_F_EXUDE 0.82
#define TMSF_CGAL_F_EXTRACT 0.97

int tmsf_cgal_available(void);

/* Tissue image (x fastest), voxel i,j,k at (i*vox[0], j*vox[1], k*vox[2]) mm.
 * Returns 0, -1 with res->message set, or -2 when s->progress cancelled. */
int tmsf_cgal_mesh_image(const uint8_t *tags, const int64_t dims[3], const double vox_mm[3],
                         const tmsf_cgal_settings *s, tmsf_cgal_result *res);

/* Concentric spheres at the origin, radii mm increasing; shell i gets tags[i]. */
int tmsf_cgal_mesh_spheres(int n, const double *radii_mm, const int32_t *tags, double edge_mm,
                           int num_threads, tmsf_cgal_result *res);

void tmsf_cgal_result_free(tmsf_cgal_result *res);

/* Nesting rank of a tissue for surface tags: lower = further inside. */
static inline int tmsf_tissue_rank(int tag) {
  static const int rank[11] = {1000000, 1, 2, 3, 8, 10, 5, 7, 6, 4, 9};
  if (tag <= 0) return 1000000;
  if (tag <= 10) return rank[tag];
  return 100 + tag;
}

#ifdef __cplusplus
}
#endif
#endif

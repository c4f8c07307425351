/*
 * SPDX-License-Identifier: BSD-3-Clause
 * meshing.h: tetrahedral head meshes from label volumes (CGAL's 3D mesh
 * generator), sphere models, and mesh quality reports.
 *
 * Tissue interfaces conform (the mesher samples the label image with CGAL's
 * label-wise trilinear interpolation, so surfaces are smooth, not staircase).
 * Output tags: tetrahedra carry the tissue tag; surface triangles lie on every
 * interface between two different tissues (or a tissue and the outside) and
 * carry 1000 + the tag of the INNER tissue of the pair, where "inner" follows
 * the nesting order WM(1) < GM(2) < CSF(3) < blood(9) < eyes(6) <
 * spongy bone(8) < compact bone(7) < bone(4) < muscle(10) < scalp(5) < other
 * tags (by value) < outside(0).  So 1001 = WM/GM, 1002 = GM outer (pial)
 * surface, 1003 = CSF/skull, 1004 = skull/scalp, 1005 = outer scalp; inner
 * air cavities (label 0 inside the head) also give 1000 + the adjacent tissue.
 * Triangles are oriented with their normal (right-hand rule) pointing from the
 * inner tissue to the outer one (outward on the scalp).
 */
#ifndef TMSFIELD_MESHING_H
#define TMSFIELD_MESHING_H

#include <stdio.h>

#include <tmsfield/common.h>
#include <tmsfield/labels.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TMSF_MESHING_MAX_FINE 8

/** Mesher settings (millimetres); fill with tmsf_meshing_params_init. */
typedef struct tmsf_meshing_params {
  double cell_size_mm;         /**< max tetrahedron circumradius outside the fine tissues (4) */
  double cell_size_fine_mm;    /**< max circumradius in the fine tissues (2.4) */
  double facet_size_mm;        /**< max surface-facet circumradius away from fine tissues (3) */
  double facet_size_fine_mm;   /**< ... next to fine tissues (1.8) */
  double facet_distance_mm;    /**< max facet-to-surface distance (0.6) */
  double facet_angle_deg;      /**< min surface-facet angle (25) */
  double cell_radius_edge;     /**< max circumradius / shortest edge (3) */
  int num_fine_tags;           /**< tissues meshed finely (2: GM and CSF) */
  int32_t fine_tags[TMSF_MESHING_MAX_FINE];
  int num_thin_tags;           /**< tissues refined further where thin (1: CSF) */
  int32_t thin_tags[TMSF_MESHING_MAX_FINE];
  int thin_voxels;             /**< "thin": a run of at most this many voxels along an axis (0: off) */
  double cell_size_thin_mm;    /**< max circumradius in thin parts (1.2) */
  double facet_size_thin_mm;   /**< max facet circumradius next to thin parts (1.0) */
  int perturb;                 /**< sliver perturbation (1) */
  int exude;                   /**< sliver exudation (1) */
  int odt;                     /**< ODT smoothing (0) */
  int lloyd;                   /**< Lloyd smoothing (0) */
  int relabel;                 /**< label cells at their centroid, not circumcentre (1) */
  double optimize_time_s;      /**< time limit of each optimisation pass, 0 = none (10) */
  double perturb_min_angle_deg;/**< sliver bound of perturbation (10) */
  double exude_min_angle_deg;  /**< sliver bound of exudation (12) */
  int num_threads;             /**< 0: the context's count; 1: sequential */
  int seed;                    /**< random seed of the mesher (1) */
} tmsf_meshing_params;

/** Defaults as listed in tmsf_meshing_params. */
TMSF_EXPORT int tmsf_meshing_params_init(tmsf_meshing_params *p);

/**
 * Mesh a label volume.  preset: see labels.h (NULL = the volume's user table,
 * else "simnibs").  p may be NULL (defaults).  Node coordinates are the
 * label affine applied to voxel indices, in metres; node numbering is compact.
 * The mesh goes through tmsf_mesh_create, so it is validated (no inverted or
 * degenerate tetrahedra).  TMSF_ERR_UNSUPPORTED in builds without CGAL.
 */
TMSF_EXPORT int tmsf_mesh_from_labels(const tmsf_labels *labels, const char *preset,
                                      const tmsf_meshing_params *p, tmsf_mesh **mesh);

/**
 * Nested-sphere model meshed with CGAL: n concentric spheres of radii_m
 * (strictly increasing, metres) centred at the origin; the shell between
 * radii_m[i-1] and radii_m[i] (the ball for i = 0) gets tetrahedron tag
 * tags[i] (> 0, distinct) and sphere i gets triangles tagged 1000 + tags[i].
 * edge_m: target edge length.
 */
TMSF_EXPORT int tmsf_mesh_create_spheres(tmsf_context *ctx, int n, const double *radii_m,
                                         const int32_t *tags, double edge_m, tmsf_mesh **mesh);

#define TMSF_QUALITY_MAX_TAGS 32

/** Mesh quality report (tmsf_mesh_quality). */
typedef struct tmsf_mesh_quality_report {
  int64_t num_nodes, num_tets, num_tris;
  int64_t num_inverted;         /**< tetrahedra with volume <= 0 */
  double min_dihedral_deg;      /**< over all tetrahedra */
  double max_dihedral_deg;
  int64_t num_dihedral_below_5; /**< tetrahedra with a dihedral angle < 5 deg */
  double radius_edge_mean;      /**< circumradius / shortest edge (regular: 0.612) */
  double radius_edge_p99;       /**< 99th percentile */
  double radius_edge_max;
  double mean_edge_mm;
  int num_tags;                 /**< distinct tetrahedron tags (first 32) */
  int32_t tags[TMSF_QUALITY_MAX_TAGS];
  int64_t tets_per_tag[TMSF_QUALITY_MAX_TAGS];
  double volume_mm3[TMSF_QUALITY_MAX_TAGS];
  double voxel_volume_mm3[TMSF_QUALITY_MAX_TAGS]; /**< tmsf_mesh_quality_compare; else 0 */
  double volume_rel_error[TMSF_QUALITY_MAX_TAGS]; /**< (mesh - voxel) / voxel; NAN unknown */
  int num_surface_tags;
  int32_t surface_tags[TMSF_QUALITY_MAX_TAGS];
  int64_t tris_per_tag[TMSF_QUALITY_MAX_TAGS];
  double max_abs_volume_rel_error; /**< over compared tags; NAN before compare */
  double mesh_time_s;           /**< set by callers that time the mesher (0) */
} tmsf_mesh_quality_report;

/** Quality of a mesh (counts, inverted elements, angles, ratios, volumes). */
TMSF_EXPORT int tmsf_mesh_quality(const tmsf_mesh *mesh, tmsf_mesh_quality_report *r);

/**
 * Fill the voxel volumes of a report from a label volume under a preset and
 * the relative errors of the mesh tissue volumes against them.
 */
TMSF_EXPORT int tmsf_mesh_quality_compare(tmsf_mesh_quality_report *r, const tmsf_labels *labels,
                                          const char *preset);

/** Write the report as text to a caller-given stream. */
TMSF_EXPORT int tmsf_mesh_quality_print(const tmsf_mesh_quality_report *r, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_MESHING_H */

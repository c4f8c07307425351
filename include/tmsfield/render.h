/*
 * SPDX-License-Identifier: BSD-3-Clause
 * render.h: pictures of fields as PNG — |E| on the cortex seen from outside
 * (along the coil axis or a standard view) with the coil outline and the
 * target marked, and axial / coronal / sagittal slices through a voxel
 * field (a NIfTI image such as the magnE.nii.gz that 'tmsfield place'
 * writes), each with a colour bar in V/m.
 *
 * A picture is an RGB raster drawn by a small software rasteriser:
 * orthographic camera, z-buffer, Lambert shading with a light at the
 * viewer, the viridis colour map (sampled from matplotlib's viridis, van der
 * Walt & Smith 2015, CC0; 17 samples interpolated linearly, within 6/255 of
 * the full table), a built-in 5x8 pixel font for labels, and a PNG writer
 * over zlib (no further dependency).  Beside the colours a picture keeps the
 * value drawn at every pixel (V/m; NaN where nothing was drawn), so that
 * programs and tests can read the field off the picture exactly.
 *
 * Coordinates: 3-D points in metres (head frame); pixels (x right, y down,
 * the centre of pixel (i, j) at (i + 0.5, j + 0.5)); rows stored top first.
 * Pictures are not thread-safe; distinct pictures may be drawn in parallel.
 */
#ifndef TMSFIELD_RENDER_H
#define TMSFIELD_RENDER_H

#include <tmsfield/common.h>
#include <tmsfield/field.h>
#include <tmsfield/search.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque RGB picture with a value and a depth per pixel. */
typedef struct tmsf_picture tmsf_picture;

/** Opaque scalar voxel image (float, V/m for fields). */
typedef struct tmsf_volume tmsf_volume;

/* ------------------------------------------------------------------------- */
/* Views and colours                                                          */
/* ------------------------------------------------------------------------- */

/** Where the camera looks from (orthographic; head axes RAS as in MNI space). */
typedef enum tmsf_view {
  TMSF_VIEW_COIL = 0,  /**< from outside along the coil's z axis (into the head); the coil's
                            +y (away from the handle) up, so the handle points down */
  TMSF_VIEW_LEFT = 1,  /**< from the left (-x), looking along +x; superior up, anterior left */
  TMSF_VIEW_RIGHT = 2, /**< from the right (+x), looking along -x; superior up, anterior right */
  TMSF_VIEW_TOP = 3,   /**< from above (+z), looking along -z; anterior up, right on the right */
  TMSF_VIEW_FRONT = 4, /**< from the front (+y), looking along -y; superior up, the subject's
                            right on the picture's left */
  TMSF_VIEW_BACK = 5,  /**< from behind (-y), looking along +y; superior up, right on the right */
} tmsf_view;

/** A view by name: "coil", "left", "right", "top", "front", "back".
 * TMSF_ERR_NOT_FOUND (message listing the names) for others. */
TMSF_EXPORT int tmsf_view_parse(tmsf_context *ctx, const char *name, tmsf_view *view);

/** The name of a view ("coil", ...; "?" for an unknown value). */
TMSF_EXPORT const char *tmsf_view_name(tmsf_view view);

/**
 * The camera axes of a view: direction (unit, from the eye into the scene)
 * and up (unit, perpendicular to direction).  TMSF_VIEW_COIL needs the pose
 * (head-from-coil 4x4, row-major, metres; direction = its z column, up = its
 * y column); the others ignore it (may be NULL).  The picture's right-hand
 * axis is direction x up.
 */
TMSF_EXPORT int tmsf_view_axes(tmsf_context *ctx, tmsf_view view, const double head_from_coil_m[16],
                               double direction[3], double up[3]);

/** The colour map at t in [0, 1] (clamped; NaN gives grey 128,128,128):
 * viridis, dark blue-violet (68, 1, 84) at 0 to yellow (253, 231, 37) at 1. */
TMSF_EXPORT void tmsf_colormap_viridis(double t, uint8_t rgb[3]);

/* ------------------------------------------------------------------------- */
/* Pictures: drawing primitives                                               */
/* ------------------------------------------------------------------------- */

/** A white picture of width_px x height_px (each 16 .. 16384). */
TMSF_EXPORT int tmsf_picture_create(tmsf_context *ctx, int width_px, int height_px,
                                    tmsf_picture **picture);

/** Destroy (accepts NULL; sets *picture = NULL). */
TMSF_EXPORT int tmsf_picture_destroy(tmsf_picture **picture);

/** Size in pixels; either pointer may be NULL. */
TMSF_EXPORT int tmsf_picture_get_size(const tmsf_picture *picture, int *width_px, int *height_px);

/** Borrow the colours: 3 bytes (R, G, B) per pixel, rows top first. */
TMSF_EXPORT int tmsf_picture_get_rgb(const tmsf_picture *picture, const uint8_t **rgb);

/** Borrow the value drawn at every pixel by tmsf_picture_draw_surface and
 * tmsf_render_slices (V/m for fields; NaN elsewhere), rows top first. */
TMSF_EXPORT int tmsf_picture_get_values(const tmsf_picture *picture, const float **values);

/**
 * Set the orthographic camera for 3-D drawing: the viewport (x0, y0, width,
 * height in pixels, inside the picture) shows the plane perpendicular to
 * direction (need not be unit) centred on centre_m, width_m wide (metres,
 * > 0; the pixels are square, so the height shown is width_m * height /
 * width).  up (not parallel to direction) is made perpendicular to it.
 * Resets the depth buffer.
 */
TMSF_EXPORT int tmsf_picture_set_camera(tmsf_picture *picture, const int viewport_px[4],
                                        const double direction[3], const double up[3],
                                        const double centre_m[3], double width_m);

/** Size of a pixel at the camera, metres (TMSF_ERR_STATE without a camera). */
TMSF_EXPORT int tmsf_picture_get_pixel_size(const tmsf_picture *picture, double *m_per_px);

/** Pixel coordinates (2 per point: x, y) of num_points 3-D points through
 * the camera; depth_m (may be NULL) receives the distance along the view
 * direction from the plane through the camera centre. */
TMSF_EXPORT int tmsf_picture_project(const tmsf_picture *picture, int64_t num_points,
                                     const double *points_m, double *xy_px, double *depth_m);

/**
 * Draw a triangle surface through the camera with a z-buffer (nearest
 * surface wins, also against earlier calls since the last set_camera):
 * colour = the colour map of (value - vmin) / (vmax - vmin) times the
 * Lambert factor 0.3 + 0.7 |n . direction| (n: the unit vertex normals,
 * interpolated; NULL: each triangle's own normal; shading 0: factor 1).
 * values: one per vertex (per_vertex 1; interpolated linearly) or one per
 * triangle (per_vertex 0; flat), V/m; NaN draws grey.  The value of the
 * nearest surface is kept per pixel (tmsf_picture_get_values).  vmax >
 * vmin required.  Triangles index the vertices 0-based; an index out of
 * range is an error naming the triangle.
 */
TMSF_EXPORT int tmsf_picture_draw_surface(tmsf_picture *picture, int64_t num_vertices,
                                          const double *vertices_m, const double *normals,
                                          int64_t num_triangles, const int32_t *triangles,
                                          const double *values, int per_vertex, double vmin,
                                          double vmax, int shading);

/**
 * Draw the outline (silhouette) of an object through the camera, on top of
 * what is drawn: the boundary of the region covered by its projected
 * triangles (num_triangles > 0) or, with num_triangles 0, by discs of
 * radius_m around its projected points.  A line of rgb with a dark halo, so
 * that it shows on any colour.  Concave outlines (a figure-8 casing) keep
 * their shape.
 */
TMSF_EXPORT int tmsf_picture_draw_outline(tmsf_picture *picture, int64_t num_points,
                                          const double *points_m, int64_t num_triangles,
                                          const int32_t *triangles, double radius_m,
                                          const uint8_t rgb[3]);

/** Marker shapes. */
typedef enum tmsf_marker {
  TMSF_MARKER_CROSS = 0,  /**< a "+" */
  TMSF_MARKER_CIRCLE = 1, /**< a circle with a "+" inside */
} tmsf_marker;

/** A marker of size_px (radius) at a 3-D point (through the camera) or,
 * with point_m NULL, at pixel xy_px; on top, with a dark halo. */
TMSF_EXPORT int tmsf_picture_draw_marker(tmsf_picture *picture, const double point_m[3],
                                         const double xy_px[2], tmsf_marker marker, int size_px,
                                         const uint8_t rgb[3]);

/** Text in the built-in 5x8 font (printable ASCII; others draw as '?'),
 * its top-left corner at (x_px, y_px), each font pixel scale x scale
 * (1..8); '\n' starts a new line.  Clipped to the picture. */
TMSF_EXPORT int tmsf_picture_draw_text(tmsf_picture *picture, int x_px, int y_px, int scale,
                                       const uint8_t rgb[3], const char *text);

/** Width and height in pixels that tmsf_picture_draw_text takes for text. */
TMSF_EXPORT void tmsf_picture_text_size(const char *text, int scale, int *width_px,
                                        int *height_px);

/**
 * A vertical colour bar in rect_px (x0, y0, width, height): the bar (vmin at
 * the bottom, vmax at the top), ticks at round values (1, 2 or 5 x 10^k,
 * 3 to 8 of them) labelled with their numbers, and label (e.g. "|E| V/m",
 * may be NULL) above it; text at scale (1..8).
 */
TMSF_EXPORT int tmsf_picture_draw_colorbar(tmsf_picture *picture, const int rect_px[4],
                                           double vmin, double vmax, const char *label,
                                           int scale);

/** Write the picture as a PNG file (8-bit RGB, zlib, CRC-checked chunks;
 * written to a temporary name and renamed into place). */
TMSF_EXPORT int tmsf_picture_write_png(const tmsf_picture *picture, const char *path);

/* ------------------------------------------------------------------------- */
/* Composed pictures                                                          */
/* ------------------------------------------------------------------------- */

/** Options of tmsf_render_cortex and tmsf_render_slices. */
typedef struct tmsf_render_params {
  int width_px, height_px;  /**< picture size (default 900 x 700) */
  tmsf_view view;           /**< cortex: the camera (default TMSF_VIEW_COIL; TMSF_VIEW_TOP
                                 when there is no pose) */
  double vmin_V_per_m;      /**< colour range; NaN (default): 0 */
  double vmax_V_per_m;      /**< NaN (default): the 99.9th percentile of the values drawn
                                 (area-weighted over the surface; over the non-zero voxels) */
  double width_m;           /**< cortex: width of the scene shown (default 0: fit the
                                 surface, the coil outline and the target) */
  int32_t surface_tag;      /**< cortex: the surface (default 1002, grey matter's outer
                                 boundary) */
  int per_triangle;         /**< cortex: 1: one colour per triangle (the element values);
                                 0 (default): per-vertex values interpolated */
  int shading;              /**< cortex: Lambert shading (default 1) */
  double outline_radius_m;  /**< coil outline from element points (no casing): disc
                                 radius (default 0.004) */
  const char *title;        /**< a line of text at the top (default NULL: none) */
} tmsf_render_params;

/** Fill params with the defaults above. */
TMSF_EXPORT void tmsf_render_params_default(tmsf_render_params *params);

/** What a composed picture shows (pixel coordinates as above; NaN where not
 * applicable). */
typedef struct tmsf_render_info {
  double vmin_V_per_m, vmax_V_per_m; /**< the colour range used */
  double max_V_per_m;       /**< cortex: the largest surface value; slices: the largest voxel */
  double m_per_px;          /**< size of a pixel in the scene */
  double hotspot_px[2];     /**< cortex: the pixel showing the largest value */
  double hotspot_m[3];      /**< cortex: the surface point under it; slices: the centre of
                                 the largest voxel */
  double hotspot_V_per_m;   /**< the value there */
  double hot_region_px[2];  /**< cortex: the centroid of the pixels showing at least 90 % of
                                 the largest value (steadier than the single brightest pixel
                                 on coarse meshes) */
  double coil_centre_px[2]; /**< cortex: the coil centre projected (NaN without a pose) */
  double target_px[2];      /**< cortex: the target projected (NaN without one) */
  double direction[3], up[3]; /**< cortex: the camera axes */
  double point_m[3];        /**< slices: the point the three planes go through */
} tmsf_render_info;

/**
 * |E| on the cortex: the surface params->surface_tag of the field's mesh
 * (tmsf_surface_create; 1002 by default), each triangle's value the |E| of
 * the tetrahedron on its tissue side (tag - 1000; any adjacent one when that
 * tissue is missing), each vertex's the area-weighted mean over its
 * triangles (as the GIfTI writer, TMSF_SAMPLE_ELEMENT), drawn with a
 * z-buffer and Lambert shading from params->view; with a pose (may be NULL)
 * the coil outline — the silhouette of casing (may be NULL) or else of the
 * coil's element points (coil may be NULL) at the pose — and the coil
 * centre as a cross; the target (metres, may be NULL) as a circle; a colour
 * bar in V/m and the title.  *picture is new (destroy it); info may be NULL.
 */
TMSF_EXPORT int tmsf_render_cortex(const tmsf_field *field, const tmsf_coil *coil,
                                   const tmsf_casing *casing, const double head_from_coil_m[16],
                                   const double target_m[3], const tmsf_render_params *params,
                                   tmsf_picture **picture, tmsf_render_info *info);

/* ------------------------------------------------------------------------- */
/* Voxel images and slices                                                    */
/* ------------------------------------------------------------------------- */

/**
 * Read a 3-D NIfTI-1 or NIfTI-2 image (.nii or .nii.gz; a 4-D image with
 * one volume is accepted) of any real datatype into float, scaled by
 * scl_slope / scl_inter when set.  The voxel-to-mm affine is the sform when
 * its code is set, else the qform, else the voxel sizes.  Errors name the
 * file and what was expected.  Needs a build with niftilib
 * (TMSF_ERR_UNSUPPORTED otherwise).
 */
TMSF_EXPORT int tmsf_volume_read_nifti(tmsf_context *ctx, const char *path, tmsf_volume **volume);

/** A volume from memory (copied): dims voxels (i fastest), affine_mm the
 * row-major 4x4 voxel index -> mm map (finite, non-singular). */
TMSF_EXPORT int tmsf_volume_create(tmsf_context *ctx, const int64_t dims[3], const float *data,
                                   const double affine_mm[16], tmsf_volume **volume);

/** Destroy (accepts NULL; sets *volume = NULL). */
TMSF_EXPORT int tmsf_volume_destroy(tmsf_volume **volume);

/** Dimensions, affine (index -> mm, row-major 4x4) and data (borrowed, i
 * fastest); outputs may be NULL. */
TMSF_EXPORT int tmsf_volume_get(const tmsf_volume *volume, int64_t dims[3], double affine_mm[16],
                                const float **data);

/**
 * Axial, coronal and sagittal slices of a volume side by side, through
 * point_m (metres; NULL: the centre of the largest voxel), in the
 * neurological convention (the subject's right on the right; axial:
 * anterior up; coronal and sagittal: superior up; sagittal: anterior on the
 * right), sampled trilinearly at square pixels; voxels of value 0 (outside
 * the mesh in the images tmsfield writes) and points outside the image are
 * background (black).  Thin lines cross at the point; target_m (may be
 * NULL) is marked with a circle on the planes within 2 mm of it; each panel
 * is labelled with its plane and coordinate (mm); a colour bar in V/m and
 * the title.  The picture is params->width_px wide and at most
 * params->height_px high: the height is cut to what the panels need at the
 * scale the width allows.  params->view, width_m, surface_tag, per_triangle, shading and
 * outline_radius_m are ignored.  info may be NULL (m_per_px, point_m,
 * colour range, hotspot_m and max_V_per_m are set).
 */
TMSF_EXPORT int tmsf_render_slices(const tmsf_volume *volume, const double point_m[3],
                                   const double target_m[3], const tmsf_render_params *params,
                                   tmsf_picture **picture, tmsf_render_info *info);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_RENDER_H */

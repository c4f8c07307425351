/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-output-nifti.c: E resampled to NIfTI agrees with the mesh and overlays
 * its reference grid.
 *
 * - A reference NIfTI-1 grid (oblique sform, a different qform, anisotropic
 *   voxels) is made with niftilib; the written image must carry the same
 *   dimensions, sform and qform (codes and parameters, bitwise) and be float32.
 * - Agreement: at 1,000 random tag-3 element centroids (tag 3 stands in for
 *   grey matter on the sphere), trilinear interpolation of the written image
 *   through the inverse sform (over the voxels inside the mask, weights
 *   renormalised) gives |E| within 5 % of the element's |E| (median) — the
 *   issue's criterion — for the element-mode image, and within 5 % of the
 *   recovered field at the centroids for the recovered-mode image.
 * - Voxel values equal tmsf_field_sample at the voxel centres (float
 *   rounding), the vector image's norm equals the magnitude image, and the
 *   result is bitwise the same on 1 and 2 threads.
 * - Errors: bad extension, missing directory, missing or malformed
 *   reference; no partial or temporary file is left and an existing output
 *   is not altered.
 */
#include <nifti2_io.h>

#include "output-test.h"
#include "tmsf-impl.h" /* tmsf_wtime */

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const int64_t NX = 64, NY = 60, NZ = 70;

/* A uint8 reference image: voxels 3.1 x 3.3 x 2.9 mm, sform rotated 20 deg about z
 * and 10 deg about x (code 4, MNI), qform axis-aligned (code 1). */
static void make_reference(const char *path, double A[16]) {
  int64_t dims[8] = {3, NX, NY, NZ, 1, 1, 1, 1};
  nifti_image *nim = nifti_make_new_nim(dims, DT_UINT8, 1);
  const double d[3] = {3.1, 3.3, 2.9};
  const double a = 20.0 * M_PI / 180.0, b = 10.0 * M_PI / 180.0;
  const double Rz[3][3] = {{cos(a), -sin(a), 0}, {sin(a), cos(a), 0}, {0, 0, 1}};
  const double Rx[3][3] = {{1, 0, 0}, {0, cos(b), -sin(b)}, {0, sin(b), cos(b)}};
  double R[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      R[i][j] = 0;
      for (int k = 0; k < 3; k++) R[i][j] += Rz[i][k] * Rx[k][j];
    }
  const double c[3] = {0.5 * (NX - 1), 0.5 * (NY - 1), 0.5 * (NZ - 1)};
  nifti_dmat44 S;
  memset(&S, 0, sizeof(S));
  for (int i = 0; i < 3; i++) {
    double t = 3.0; /* the grid centre at (3, 3, 3) mm */
    for (int j = 0; j < 3; j++) {
      S.m[i][j] = (double)(float)(R[i][j] * d[j]); /* float: what NIfTI-1 stores */
      t -= S.m[i][j] * c[j];
    }
    S.m[i][3] = (double)(float)t;
  }
  S.m[3][3] = 1;
  nim->sform_code = NIFTI_XFORM_MNI_152;
  nim->sto_xyz = S;
  nim->sto_ijk = nifti_dmat44_inverse(S);
  nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->quatern_b = nim->quatern_c = nim->quatern_d = 0;
  nim->qoffset_x = -97.5, nim->qoffset_y = -96.0, nim->qoffset_z = -99.5;
  nim->qfac = 1;
  nim->pixdim[1] = nim->dx = d[0], nim->pixdim[2] = nim->dy = d[1], nim->pixdim[3] = nim->dz = d[2];
  nim->qto_xyz = nifti_quatern_to_dmat44(0, 0, 0, nim->qoffset_x, nim->qoffset_y, nim->qoffset_z, d[0], d[1], d[2], 1);
  nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
  free(nim->fname), free(nim->iname);
  nim->fname = strdup(path), nim->iname = strdup(path);
  nifti_image_write(nim);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) A[4 * i + j] = S.m[i][j];
  nifti_image_free(nim);
}

/* Trilinear sample of a 3-D float image at mm point p through inverse affine
 * Ainv (row-major), over the non-zero voxels, weights renormalised; NAN when
 * none of the 8 is non-zero. */
static double trilinear(const float *img, const double Ainv[16], const double p[3]) {
  double q[3];
  for (int r = 0; r < 3; r++) q[r] = Ainv[4 * r] * p[0] + Ainv[4 * r + 1] * p[1] + Ainv[4 * r + 2] * p[2] + Ainv[4 * r + 3];
  int64_t i0 = (int64_t)floor(q[0]), j0 = (int64_t)floor(q[1]), k0 = (int64_t)floor(q[2]);
  double fx = q[0] - (double)i0, fy = q[1] - (double)j0, fz = q[2] - (double)k0, sw = 0, sv = 0;
  for (int c = 0; c < 8; c++) {
    int64_t i = i0 + (c & 1), j = j0 + (c >> 1 & 1), k = k0 + (c >> 2 & 1);
    if (i < 0 || j < 0 || k < 0 || i >= NX || j >= NY || k >= NZ) continue;
    double w = ((c & 1) ? fx : 1 - fx) * ((c >> 1 & 1) ? fy : 1 - fy) * ((c >> 2 & 1) ? fz : 1 - fz);
    float v = img[(k * NY + j) * NX + i];
    if (v == 0.0f || w <= 0) continue;
    sw += w, sv += w * v;
  }
  return sw > 1e-9 ? sv / sw : NAN;
}

static void invert_affine(const double A[16], double Ainv[16]) {
  nifti_dmat44 M;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) M.m[i][j] = A[4 * i + j];
  nifti_dmat44 I = nifti_dmat44_inverse(M);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) Ainv[4 * i + j] = I.m[i][j];
}

static nifti_image *read_image(const char *path) {
  nifti_image *im = nifti_image_read(path, 1);
  if (!im) {
    fprintf(stderr, "FATAL: cannot read back %s\n", path);
    exit(1);
  }
  return im;
}

/* Median relative |E| error at 1,000 random tag-3 centroids. */
static double agreement(out_case *c, const float *img, const double A[16], tmsf_sample_mode ref_mode, int *used) {
  const double *nodes;
  const int32_t *tets, *tags;
  int64_t ne;
  tmsf_mesh_get_nodes(c->mesh, &nodes);
  tmsf_mesh_get_tetrahedra(c->mesh, &tets, &tags);
  tmsf_mesh_get_sizes(c->mesh, NULL, &ne, NULL);
  const double *E;
  tmsf_field_get_E(c->field, &E);
  double Ainv[16];
  invert_affine(A, Ainv);
  uint64_t s = 12345;
  double err[1000];
  int n = 0, tries = 0;
  while (n < 1000 && tries < 1000000) {
    tries++;
    int64_t e = (int64_t)(lcg_next(&s) % (uint64_t)ne);
    if (tags[e] != 3) continue;
    double p[3] = {0, 0, 0};
    for (int k = 0; k < 4; k++)
      for (int j = 0; j < 3; j++) p[j] += 250.0 * nodes[3 * tets[4 * e + k] + j]; /* mm, / 4 */
    double v = trilinear(img, Ainv, p);
    double want = sqrt(E[3 * e] * E[3 * e] + E[3 * e + 1] * E[3 * e + 1] + E[3 * e + 2] * E[3 * e + 2]);
    if (ref_mode == TMSF_SAMPLE_RECOVERED) {
      double pm[3] = {1e-3 * p[0], 1e-3 * p[1], 1e-3 * p[2]}, Er[3];
      tmsf_field_sample(c->field, TMSF_SAMPLE_RECOVERED, 1, pm, Er, NULL);
      want = sqrt(Er[0] * Er[0] + Er[1] * Er[1] + Er[2] * Er[2]);
    }
    if (!isfinite(v)) {
      err[n++] = 1.0; /* a centroid without any voxel counts as 100 % off */
      continue;
    }
    err[n++] = fabs(v - want) / want;
  }
  *used = n;
  qsort(err, (size_t)n, sizeof(double), cmp_dbl);
  return n ? 0.5 * (err[(n - 1) / 2] + err[n / 2]) : 1.0;
}

int main(void) {
  out_case c;
  out_case_solve(&c);
  tmsf_context *ctx = c.ctx;
  const char *dir = scratch_dir("t-output-nifti");
  char ref[4200], out_m[4200], out_r[4200], out_v[4200], out_g[4200], p[4200];
  snprintf(ref, sizeof(ref), "%s/ref.nii.gz", dir);
  snprintf(out_m, sizeof(out_m), "%s/magnE_element.nii.gz", dir);
  snprintf(out_r, sizeof(out_r), "%s/magnE_recovered.nii", dir);
  snprintf(out_v, sizeof(out_v), "%s/E.nii.gz", dir);
  snprintf(out_g, sizeof(out_g), "%s/grid.nii", dir);
  double A[16];
  make_reference(ref, A);
  const int32_t gm[1] = {3};

  double t0 = tmsf_wtime();
  CHECK_OK(ctx, tmsf_field_write_nifti(c.field, TMSF_SAMPLE_ELEMENT, ref, gm, 1, TMSF_OUTPUT_MAGNE, out_m));
  double t1 = tmsf_wtime();
  CHECK_OK(ctx, tmsf_field_write_nifti(c.field, TMSF_SAMPLE_RECOVERED, ref, gm, 1, TMSF_OUTPUT_MAGNE, out_r));
  double t2 = tmsf_wtime();
  CHECK_OK(ctx, tmsf_field_write_nifti(c.field, TMSF_SAMPLE_RECOVERED, ref, gm, 1, TMSF_OUTPUT_E, out_v));
  printf("%lld voxels: element %.3f s, recovered %.3f s (magnE, gzip included)\n", (long long)(NX * NY * NZ),
         t1 - t0, t2 - t1);

  nifti_image *r = read_image(ref), *m = read_image(out_m), *rr = read_image(out_r), *v = read_image(out_v);
  /* the reference's geometry, exactly */
  nifti_image *ims[3] = {m, rr, v};
  for (int q = 0; q < 3; q++) {
    nifti_image *o = ims[q];
    CHECK(o->nifti_type == NIFTI_FTYPE_NIFTI1_1, "%s: NIfTI-1 (type %d)", o->fname, o->nifti_type);
    CHECK(o->datatype == DT_FLOAT32, "%s: float32 (datatype %d)", o->fname, o->datatype);
    CHECK(o->nx == NX && o->ny == NY && o->nz == NZ, "%s: dims %lld %lld %lld", o->fname, (long long)o->nx,
          (long long)o->ny, (long long)o->nz);
    CHECK(o->sform_code == r->sform_code && o->qform_code == r->qform_code, "%s: codes %d %d", o->fname,
          o->sform_code, o->qform_code);
    CHECK(!memcmp(&o->sto_xyz, &r->sto_xyz, sizeof(nifti_dmat44)), "%s: sform equal to the reference's", o->fname);
    CHECK(!memcmp(&o->qto_xyz, &r->qto_xyz, sizeof(nifti_dmat44)), "%s: qform equal to the reference's", o->fname);
    CHECK(o->quatern_b == r->quatern_b && o->quatern_c == r->quatern_c && o->quatern_d == r->quatern_d &&
              o->qoffset_x == r->qoffset_x && o->qoffset_y == r->qoffset_y && o->qoffset_z == r->qoffset_z &&
              o->qfac == r->qfac,
          "%s: quaternion parameters equal", o->fname);
    for (int d = 1; d <= 3; d++) CHECK(o->pixdim[d] == r->pixdim[d], "%s: pixdim[%d]", o->fname, d);
    CHECK(o->xyz_units == NIFTI_UNITS_MM, "%s: mm", o->fname);
  }
  CHECK(v->ndim == 4 && v->nt == 3, "vector image X x Y x Z x 3 (ndim %lld nt %lld)", (long long)v->ndim, (long long)v->nt);

  /* agreement with the mesh */
  int used;
  double med_e = agreement(&c, m->data, A, TMSF_SAMPLE_ELEMENT, &used);
  printf("element mode:   median |E| error against the elements at %d tag-3 centroids %.4f\n", used, med_e);
  CHECK(used == 1000 && med_e < 0.05, "element-mode NIfTI within 5 %% (median %.4f)", med_e);
  /* the recovered image against the recovered field at the centroids (the
   * resampling's fidelity); against the element values it differs by what
   * patch recovery changes on this coarse (10.8 mm) mesh, reported only */
  double med_r = agreement(&c, rr->data, A, TMSF_SAMPLE_RECOVERED, &used);
  double med_re = agreement(&c, rr->data, A, TMSF_SAMPLE_ELEMENT, &used);
  printf("recovered mode: median |E| error against the recovered field %.4f, against the elements %.4f\n",
         med_r, med_re);
  CHECK(used == 1000 && med_r < 0.05, "recovered-mode NIfTI within 5 %% (median %.4f)", med_r);

  /* voxels against tmsf_field_sample at the voxel centres, and the mask */
  {
    const float *mv = m->data, *rv = rr->data, *vv = v->data;
    int64_t nvox = NX * NY * NZ, step = 31, checked = 0, bad_e = 0, bad_r = 0, bad_v = 0, masked = 0;
    for (int64_t q = 0; q < nvox; q += step) {
      int64_t i = q % NX, j = q / NX % NY, k = q / (NX * NY);
      double x[3];
      for (int d = 0; d < 3; d++) x[d] = 1e-3 * (A[4 * d] * i + A[4 * d + 1] * j + A[4 * d + 2] * k + A[4 * d + 3]);
      double Ee[3], Er[3];
      int64_t te;
      CHECK_OK(ctx, tmsf_field_sample(c.field, TMSF_SAMPLE_ELEMENT, 1, x, Ee, &te));
      CHECK_OK(ctx, tmsf_field_sample(c.field, TMSF_SAMPLE_RECOVERED, 1, x, Er, NULL));
      const int32_t *tets, *tags;
      tmsf_mesh_get_tetrahedra(c.mesh, &tets, &tags);
      int in = te >= 0 && tags[te] == 3;
      double me = in ? sqrt(Ee[0] * Ee[0] + Ee[1] * Ee[1] + Ee[2] * Ee[2]) : 0.0;
      double mr = in ? sqrt(Er[0] * Er[0] + Er[1] * Er[1] + Er[2] * Er[2]) : 0.0;
      if (fabs(mv[q] - me) > 1e-6 * (1 + me)) bad_e++;
      if (fabs(rv[q] - mr) > 1e-6 * (1 + mr)) bad_r++;
      double vn = sqrt((double)vv[q] * vv[q] + (double)vv[q + nvox] * vv[q + nvox] + (double)vv[q + 2 * nvox] * vv[q + 2 * nvox]);
      if (fabs(vn - rv[q]) > 1e-6 * (1 + mr)) bad_v++;
      masked += !in;
      checked++;
    }
    printf("%lld voxels checked against tmsf_field_sample (%lld masked)\n", (long long)checked, (long long)masked);
    CHECK(bad_e == 0 && bad_r == 0 && bad_v == 0, "voxels = sampled field: %lld %lld %lld bad", (long long)bad_e,
          (long long)bad_r, (long long)bad_v);
    CHECK(masked > checked / 10 && masked < checked, "both masked and unmasked voxels (%lld of %lld)",
          (long long)masked, (long long)checked);
  }

  /* thread-count independence of the in-memory resampling */
  {
    int64_t dims[3] = {NX, NY, NZ};
    size_t nvox = (size_t)(NX * NY * NZ);
    float *a1 = malloc(nvox * 3 * sizeof(float)), *a2 = malloc(nvox * 3 * sizeof(float));
    tmsf_context_set_threads(ctx, 1);
    CHECK_OK(ctx, tmsf_field_resample_grid(c.field, TMSF_SAMPLE_RECOVERED, dims, A, NULL, 0, TMSF_OUTPUT_E, a1));
    tmsf_context_set_threads(ctx, 2);
    CHECK_OK(ctx, tmsf_field_resample_grid(c.field, TMSF_SAMPLE_RECOVERED, dims, A, NULL, 0, TMSF_OUTPUT_E, a2));
    CHECK(!memcmp(a1, a2, nvox * 3 * sizeof(float)), "1 and 2 threads give bitwise the same grid");
    free(a1), free(a2);
  }

  /* the in-memory grid writer: its sform is the affine given */
  {
    int64_t dims[3] = {NX, NY, NZ};
    CHECK_OK(ctx, tmsf_field_write_nifti_grid(c.field, TMSF_SAMPLE_ELEMENT, dims, A, gm, 1, TMSF_OUTPUT_MAGNE, out_g));
    nifti_image *g = read_image(out_g);
    double worst = 0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 4; j++) {
        worst = fmax(worst, fabs(g->sto_xyz.m[i][j] - A[4 * i + j]));
        worst = fmax(worst, fabs(g->qto_xyz.m[i][j] - A[4 * i + j]));
      }
    CHECK(worst < 1e-4, "grid writer: sform and qform reproduce the affine (worst %.3g mm)", worst);
    CHECK(!memcmp(g->data, m->data, (size_t)(NX * NY * NZ) * sizeof(float)), "grid writer = reference writer");
    nifti_image_free(g);
  }
  nifti_image_free(r), nifti_image_free(m), nifti_image_free(rr), nifti_image_free(v);

  /* errors: clear, and no file left behind */
  {
    struct stat before, after;
    stat(out_m, &before);
    snprintf(p, sizeof(p), "%s/x.img", dir);
    CHECK(tmsf_field_write_nifti(c.field, 0, ref, gm, 1, 0, p) == TMSF_ERR_ARGUMENT && !file_exists(p),
          "bad extension");
    CHECK(strstr(tmsf_context_last_error(ctx), ".nii.gz") != NULL, "message names the extensions: %s",
          tmsf_context_last_error(ctx));
    snprintf(p, sizeof(p), "%s/no/such/dir/x.nii.gz", dir);
    CHECK(tmsf_field_write_nifti(c.field, 0, ref, gm, 1, 0, p) == TMSF_ERR_IO, "missing directory");
    CHECK(strstr(tmsf_context_last_error(ctx), p) != NULL, "message names the path: %s", tmsf_context_last_error(ctx));
    CHECK(tmsf_field_write_nifti(c.field, 0, "/dev/null/ref.nii", gm, 1, 0, out_m) == TMSF_ERR_IO, "missing reference");
    snprintf(p, sizeof(p), "%s/bad.nii", dir);
    FILE *f = fopen(p, "wb");
    fputs("not a nifti header", f);
    fclose(f);
    CHECK(tmsf_field_write_nifti(c.field, 0, p, gm, 1, 0, out_m) == TMSF_ERR_FORMAT, "malformed reference");
    CHECK(strstr(tmsf_context_last_error(ctx), "bad.nii") != NULL, "message names the reference: %s",
          tmsf_context_last_error(ctx));
    int64_t zero[3] = {0, 4, 4};
    CHECK(tmsf_field_write_nifti_grid(c.field, 0, zero, A, gm, 1, 0, out_m) == TMSF_ERR_ARGUMENT, "empty grid");
    double Abad[16];
    memcpy(Abad, A, sizeof(Abad));
    Abad[5] = NAN;
    int64_t dims[3] = {4, 4, 4};
    CHECK(tmsf_field_write_nifti_grid(c.field, 0, dims, Abad, gm, 1, 0, out_m) == TMSF_ERR_ARGUMENT, "NaN affine");
    stat(out_m, &after);
    CHECK(before.st_size == after.st_size && before.st_mtime == after.st_mtime && before.st_ino == after.st_ino,
          "a failed call leaves the existing output alone");
    CHECK(count_temporaries(dir) == 0, "no temporary files left (%d)", count_temporaries(dir));
  }
  remove_dir(dir);
  out_case_free(&c);
  return test_summary("t-output-nifti");
}

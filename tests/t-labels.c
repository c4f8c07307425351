/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-labels.c: label volumes — NIfTI reading (datatypes, sform/qform/pixdim
 * affines), presets and user tables, tissue volumes, and the errors for
 * malformed volumes (wrong datatype, empty, NaN or singular affine, 4-D data,
 * non-integer floats, truncated files, labels without a tissue).
 */
#include <unistd.h>

#include "test-common.h"
#include "test-labels.h"

#if TMSF_HAVE_NIFTI

static char tmpdir[256];

static const char *tmp(const char *name) {
  static char buf[4][512];
  static int k = 0;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
  return buf[k];
}

/* The error message must name the file and contain the expected words. */
static void check_error(tmsf_context *ctx, int ierr, int want, const char *path, const char *w1,
                        const char *w2) {
  const char *msg = tmsf_context_last_error(ctx);
  CHECK(ierr == want, "%s: status %d, want %d (%s)", path, ierr, want, msg);
  CHECK(strstr(msg, path) != NULL, "message names the file: %s", msg);
  CHECK(!w1 || strstr(msg, w1), "message has \"%s\": %s", w1, msg);
  CHECK(!w2 || strstr(msg, w2), "message has \"%s\": %s", w2, msg);
}

static void test_read_ok(tmsf_context *ctx) {
  /* uint8 with an sform that differs from the qform: the sform wins */
  int64_t d[3] = {5, 4, 3};
  int32_t v[60];
  for (int i = 0; i < 60; i++) v[i] = i % 6;
  double S[16] = {0, -2, 0, 10, 1.5, 0, 0, -20, 0, 0, 3, 7, 0, 0, 0, 1};
  double Q[16] = {1, 0, 0, 1, 0, 1, 0, 2, 0, 0, 1, 3, 0, 0, 0, 1};
  const char *p = tmp("sform.nii.gz");
  REQUIRE_OK(ctx, write_labels_nifti(p, d, v, DT_UINT8, S, Q, NULL) ? TMSF_ERR_IO : 0);
  tmsf_labels *L;
  REQUIRE_OK(ctx, tmsf_labels_read(ctx, p, &L));
  int64_t dd[3];
  double A[16];
  const int32_t *data;
  CHECK_OK(ctx, tmsf_labels_get_dims(L, dd));
  CHECK(dd[0] == 5 && dd[1] == 4 && dd[2] == 3, "dims");
  CHECK_OK(ctx, tmsf_labels_get_affine(L, A));
  for (int i = 0; i < 16; i++) CHECK(fabs(A[i] - S[i]) < 1e-6, "sform entry %d: %g vs %g", i, A[i], S[i]);
  CHECK_OK(ctx, tmsf_labels_get_data(L, &data));
  int same = 1;
  for (int i = 0; i < 60; i++) same &= data[i] == v[i];
  CHECK(same, "data round trip");
  double vv;
  CHECK_OK(ctx, tmsf_labels_get_voxel_volume(L, &vv));
  CHECK_REL(vv, 2.0 * 1.5 * 3.0, 1e-6, "voxel volume |det|");
  /* presets: simnibs identity; labels 0..5 each 10 voxels */
  double vol[11];
  CHECK_OK(ctx, tmsf_labels_tissue_volumes(L, "simnibs", 10, vol));
  for (int t = 1; t <= 5; t++) CHECK_REL(vol[t], 10 * 9.0, 1e-12, "simnibs volume");
  CHECK_OK(ctx, tmsf_labels_tissue_volumes(L, "colin27", 10, vol));
  /* colin27: 1 scalp->5 2 skull->4 3 CSF->3 4 GM->2 5 WM->1 */
  CHECK_REL(vol[5], 90.0, 1e-12, "colin27 scalp");
  CHECK_REL(vol[1], 90.0, 1e-12, "colin27 WM");
  CHECK_OK(ctx, tmsf_labels_tissue_volumes(L, "1=5,2=5,3=0,4=2,5=2", 10, vol));
  CHECK_REL(vol[5], 180.0, 1e-12, "table merges 1,2 -> 5");
  CHECK_REL(vol[2], 180.0, 1e-12, "table merges 4,5 -> 2");
  CHECK_REL(vol[0], 180.0, 1e-12, "table: 0 and 3 -> not meshed");
  /* brainweb: 1 CSF->3 2 GM->2 3 WM->1 4 fat->5 5 muscle->5 */
  double vb[11];
  CHECK_OK(ctx, tmsf_labels_tissue_volumes(L, "BrainWeb", 10, vb));
  CHECK(vb[3] == 90 && vb[2] == 90 && vb[1] == 90 && vb[5] == 180 && vb[10] == 0, "brainweb map");
  CHECK_OK(ctx, tmsf_labels_tissue_volumes(L, "roast", 10, vb));
  CHECK(vb[1] == 90 && vb[4] == 90 && vb[5] == 90 && vb[0] == 90, "roast map");
  /* user table through the API, used with preset NULL / "user" */
  int32_t from[5] = {1, 2, 3, 4, 5}, to[5] = {7, 7, 7, 7, 8};
  CHECK_OK(ctx, tmsf_labels_map(L, 5, from, to));
  CHECK_OK(ctx, tmsf_labels_tissue_volumes(L, NULL, 10, vol));
  CHECK(vol[7] == 360 && vol[8] == 90, "user table %g %g", vol[7], vol[8]);
  CHECK_OK(ctx, tmsf_labels_tissue_volumes(L, "user", 10, vol));
  CHECK(vol[7] == 360, "user preset");
  /* bad tables and presets */
  CHECK(tmsf_labels_tissue_volumes(L, "1=5,2", 10, vol) == TMSF_ERR_ARGUMENT, "malformed table");
  CHECK(strstr(tmsf_context_last_error(ctx), "entry 2"), "names the entry: %s", tmsf_context_last_error(ctx));
  CHECK(tmsf_labels_tissue_volumes(L, "1=300", 10, vol) == TMSF_ERR_ARGUMENT, "tag out of range");
  CHECK(tmsf_labels_tissue_volumes(L, "nosuch", 10, vol) == TMSF_ERR_NOT_FOUND, "unknown preset");
  tmsf_labels_destroy(&L);
  CHECK(L == NULL, "destroy clears");

  /* int16, qform only (pixdim and quaternion: identity rotation, offset) */
  p = tmp("qform.nii");
  REQUIRE_OK(ctx, write_labels_nifti(p, d, v, DT_INT16, NULL, Q, NULL) ? TMSF_ERR_IO : 0);
  REQUIRE_OK(ctx, tmsf_labels_read(ctx, p, &L));
  tmsf_labels_get_affine(L, A);
  for (int i = 0; i < 16; i++) CHECK(fabs(A[i] - Q[i]) < 1e-6, "qform entry %d: %g vs %g", i, A[i], Q[i]);
  tmsf_labels_destroy(&L);

  /* float32 holding integers, no sform/qform: pixdim diagonal */
  p = tmp("pixdim.nii");
  double pix[3] = {0.5, 2.0, 1.25};
  REQUIRE_OK(ctx, write_labels_nifti(p, d, v, DT_FLOAT32, NULL, NULL, pix) ? TMSF_ERR_IO : 0);
  REQUIRE_OK(ctx, tmsf_labels_read(ctx, p, &L));
  tmsf_labels_get_affine(L, A);
  CHECK(A[0] == 0.5 && A[5] == 2.0 && A[10] == 1.25 && A[3] == 0 && A[1] == 0, "pixdim affine");
  tmsf_labels_get_data(L, &data);
  same = 1;
  for (int i = 0; i < 60; i++) same &= data[i] == v[i];
  CHECK(same, "float data");
  tmsf_labels_destroy(&L);
  CHECK_OK(ctx, tmsf_labels_destroy(NULL));
}

static void test_errors(tmsf_context *ctx) {
  int64_t d[3] = {4, 4, 4};
  int32_t v[64];
  for (int i = 0; i < 64; i++) v[i] = i % 3;
  double I[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  tmsf_labels *L = (tmsf_labels *)&L;
  const char *p;

  p = tmp("complex.nii");
  write_labels_nifti(p, d, v, DT_COMPLEX64, I, NULL, NULL);
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "datatype", "integer type");
  CHECK(L == NULL, "no object on error");

  p = tmp("rgb.nii");
  write_labels_nifti(p, d, v, DT_RGB24, I, NULL, NULL);
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "datatype", NULL);

  int32_t zero[64] = {0};
  p = tmp("empty.nii.gz");
  write_labels_nifti(p, d, zero, DT_UINT8, I, NULL, NULL);
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "empty", NULL);

  double N[16] = {1, 0, 0, 0, 0, NAN, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  p = tmp("nan.nii");
  write_labels_nifti(p, d, v, DT_UINT8, N, NULL, NULL);
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "not finite", "sform");

  double Z[16] = {1, 2, 0, 0, 2, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  p = tmp("singular.nii");
  write_labels_nifti(p, d, v, DT_UINT8, Z, NULL, NULL);
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "singular", NULL);

  p = tmp("4d.nii");
  write_labels_nifti_4d(p, d, 2, v, DT_UINT8, I);
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "expected a 3-D label volume", NULL);
  /* one volume in the 4th dimension is fine */
  p = tmp("4d1.nii");
  write_labels_nifti_4d(p, d, 1, v, DT_UINT8, I);
  CHECK_OK(ctx, tmsf_labels_read(ctx, p, &L));
  tmsf_labels_destroy(&L);

  /* non-integer float */
  p = tmp("frac.nii");
  write_labels_nifti_value(p, d, v, DT_FLOAT32, I, 17, 2.5);
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "2.5", "integer");
  CHECK(strstr(tmsf_context_last_error(ctx), "(1, 0, 1)"), "names voxel 17 = (1,0,1): %s",
        tmsf_context_last_error(ctx));
  /* negative integer */
  p = tmp("negative.nii");
  write_labels_nifti_value(p, d, v, DT_INT16, I, 5, -3);
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "-3", "non-negative");

  /* truncated */
  p = tmp("trunc.nii");
  write_labels_nifti(p, d, v, DT_INT32, I, NULL, NULL);
  CHECK(truncate(p, 352 + 100) == 0, "truncate");
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "truncated", NULL);

  /* not NIfTI, missing */
  p = tmp("text.nii");
  FILE *f = fopen(p, "w");
  fputs("hello, this is not a NIfTI file at all\n", f);
  fclose(f);
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_FORMAT, p, "NIfTI", NULL);
  p = tmp("missing.nii");
  check_error(ctx, tmsf_labels_read(ctx, p, &L), TMSF_ERR_IO, p, "cannot open", NULL);

  /* a label without a tissue: 7 is not in the colin27 preset */
  int32_t w[64];
  for (int i = 0; i < 64; i++) w[i] = i < 10 ? 7 : 1 + i % 5;
  p = tmp("label7.nii");
  write_labels_nifti(p, d, w, DT_UINT8, I, NULL, NULL);
  REQUIRE_OK(ctx, tmsf_labels_read(ctx, p, &L));
  double vol[11];
  check_error(ctx, tmsf_labels_tissue_volumes(L, "colin27", 10, vol), TMSF_ERR_FORMAT, p, "label 7",
              "10 voxels");
  CHECK(strstr(tmsf_context_last_error(ctx), "colin27"), "names the preset: %s", tmsf_context_last_error(ctx));
  tmsf_mesh *mesh = NULL;
  check_error(ctx, tmsf_mesh_from_labels(L, "colin27", NULL, &mesh), TMSF_ERR_FORMAT, p, "label 7", NULL);
  CHECK(mesh == NULL, "no mesh");
  /* mapping everything to 0 leaves nothing to mesh */
  int ierr = tmsf_mesh_from_labels(L, "1=0,2=0,3=0,4=0,5=0,7=0", NULL, &mesh);
  CHECK(ierr == TMSF_ERR_FORMAT || ierr == TMSF_ERR_UNSUPPORTED, "nothing to mesh: %d", ierr);
  tmsf_labels_destroy(&L);

  /* tmsf_labels_create argument checks */
  CHECK(tmsf_labels_create(ctx, d, zero, I, &L) == TMSF_ERR_FORMAT, "create: empty");
  v[3] = -1;
  CHECK(tmsf_labels_create(ctx, d, v, I, &L) == TMSF_ERR_ARGUMENT, "create: negative");
  v[3] = 1;
  CHECK(tmsf_labels_create(ctx, d, v, N, &L) == TMSF_ERR_FORMAT, "create: NaN affine");
  CHECK(L == NULL, "no object");
  CHECK_OK(ctx, tmsf_labels_create(ctx, d, v, I, &L));
  tmsf_labels_destroy(&L);
}

int main(void) {
  snprintf(tmpdir, sizeof(tmpdir), "%s/tmsf-t-labels-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmpdir)) return 1;
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  test_read_ok(ctx);
  test_errors(ctx);
  tmsf_context_destroy(&ctx);
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_summary("t-labels");
}

#else
int main(void) {
  printf("t-labels: skipped (no niftilib)\n");
  return 77;
}
#endif

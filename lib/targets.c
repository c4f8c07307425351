/*
 * SPDX-License-Identifier: BSD-3-Clause
 * targets.c: named MNI targets, MNI-to-head mapping, projection onto the
 * grey matter (targets.h).  Sources of the coordinates: docs/targets.md.
 */
#include <ctype.h>
#include <string.h>

#include "surface-impl.h"

#if TMSF_HAVE_NIFTI
#include <nifti2_io.h>
#endif

typedef struct target_entry {
  tmsf_target_info info;
  const char *aliases[6]; /* normalised (lower case, no '-', '_', ' '), NULL-terminated */
} target_entry;

/* The dorsolateral prefrontal entries (5-cm rule, F3, BA9, BA46, Fox) are
 * the left-DLPFC targets compared by Fox MD, Buckner RL, White MP, Greicius
 * MD, Pascual-Leone A, "Efficacy of transcranial magnetic stimulation targets
 * for depression is related to intrinsic functional connectivity with the
 * subgenual cingulate", Biol Psychiatry 72(7):595-603, 2012 (Table 1 / Fig. 1),
 * each with its original source below. */
static const target_entry targets[] = {
    {{"M1", "left primary motor cortex, hand knob (precentral gyrus)", {-37, -21, 58},
      "hand knob landmark: Yousry TA et al., Brain 120:141-157, 1997; MNI coordinates as "
      "specified for tmsfield (issue 5)"},
     {"m1", "m1left", "leftm1", "m1l", "lm1", "m1hand"}},
    {{"M1-right", "right primary motor cortex, hand knob (mirror of M1)", {37, -21, 58},
      "mirror image (x -> -x) of M1; Yousry TA et al., Brain 120:141-157, 1997"},
     {"m1right", "rightm1", "m1r", "rm1", NULL}},
    {{"DLPFC", "left DLPFC, 5-cm rule (5 cm anterior to the motor hot spot)", {-41, 16, 54},
      "Herbsman T et al., Biol Psychiatry 66:509-515, 2009 (mean 5-cm site); as listed by Fox MD "
      "et al., Biol Psychiatry 72:595-603, 2012"},
     {"dlpfc", "5cm", "5cmrule", "dlpfc5cm", NULL}},
    {{"F3", "left DLPFC at EEG 10-20 F3 (Beam method)", {-37, 26, 49},
      "Beam W, Borckardt JJ, Reeves ST, George MS, Brain Stimul 2:50-54, 2009; coordinates as "
      "listed by Fox MD et al., Biol Psychiatry 72:595-603, 2012"},
     {"f3", "beamf3", "beam", NULL}},
    {{"BA9", "left DLPFC, Brodmann area 9", {-36, 39, 43},
      "Rajkowska G, Goldman-Rakic PS, Cereb Cortex 5:323-337, 1995 (BA9 definition); coordinates "
      "as listed by Fox MD et al., Biol Psychiatry 72:595-603, 2012"},
     {"ba9", NULL}},
    {{"BA46", "left DLPFC, Brodmann area 46", {-44, 40, 29},
      "Rajkowska G, Goldman-Rakic PS, Cereb Cortex 5:323-337, 1995 (BA46 definition); coordinates "
      "as listed by Fox MD et al., Biol Psychiatry 72:595-603, 2012"},
     {"ba46", NULL}},
    {{"Fox", "left DLPFC most anticorrelated with the subgenual cingulate", {-38, 44, 26},
      "Fox MD, Buckner RL, White MP, Greicius MD, Pascual-Leone A, Biol Psychiatry 72:595-603, "
      "2012"},
     {"fox", "fox2012", "sgacc", "dlpfcfox", NULL}},
    /* Pain: operculo-insular cortex.  The coordinates below are approximate
     * centres of the regions (see docs/targets.md): check them against the
     * cited source before relying on them. */
    {{"S2", "left secondary somatosensory cortex, parietal operculum (OP1), approximate",
      {-54, -24, 20},
      "parietal operculum OP1 (SII): Eickhoff SB et al., Cereb Cortex 16:254-267, 2006 "
      "(approximate centre, not checked against the paper's tables)"},
     {"s2", "sii", "s2left", "op1", NULL}},
    {{"S2-right", "right secondary somatosensory cortex (mirror of S2), approximate", {54, -24, 20},
      "mirror image of S2; Eickhoff SB et al., Cereb Cortex 16:254-267, 2006"},
     {"s2right", "siiright", "s2r", NULL}},
    {{"PSI", "left posterior superior insula (operculo-insular pain target), approximate",
      {-38, -22, 16},
      "posterior superior insula rTMS for neuropathic pain: Galhardoni R et al., Neurology "
      "92:e2165-e2175, 2019; Dongyang L et al., Neurophysiol Clin 51:291-302, 2021 (approximate "
      "centre, not checked against the papers' coordinates)"},
     {"psi", "insula", "posteriorinsula", "psileft", NULL}},
    {{"PSI-right", "right posterior superior insula (mirror of PSI), approximate", {38, -22, 16},
      "mirror image of PSI; Galhardoni R et al., Neurology 92:e2165-e2175, 2019"},
     {"psiright", "psir", NULL}},
};

#define NUM_TARGETS ((int)(sizeof(targets) / sizeof(targets[0])))

int tmsf_target_get_num(int *n) {
  if (!n) return TMSF_ERR_ARGUMENT;
  *n = NUM_TARGETS;
  return TMSF_SUCCESS;
}

int tmsf_target_get_info(int index, tmsf_target_info *info) {
  if (!info || index < 0 || index >= NUM_TARGETS) return TMSF_ERR_ARGUMENT;
  *info = targets[index].info;
  return TMSF_SUCCESS;
}

static void normalise(const char *s, char *out, size_t size) {
  size_t n = 0;
  for (; *s && n + 1 < size; s++) {
    if (*s == '-' || *s == '_' || *s == ' ') continue;
    out[n++] = (char)tolower((unsigned char)*s);
  }
  out[n] = '\0';
}

int tmsf_target_find(tmsf_context *ctx, const char *name, int *index) {
  if (!name || !index) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "target: name and index are required");
  char key[64], other[64];
  if (strlen(name) >= sizeof(key)) goto none;
  normalise(name, key, sizeof(key));
  for (int i = 0; i < NUM_TARGETS; i++) {
    normalise(targets[i].info.name, other, sizeof(other));
    if (!strcmp(key, other)) {
      *index = i;
      return TMSF_SUCCESS;
    }
    for (int a = 0; a < 6 && targets[i].aliases[a]; a++)
      if (!strcmp(key, targets[i].aliases[a])) {
        *index = i;
        return TMSF_SUCCESS;
      }
  }
none:;
  char list[512];
  size_t len = 0;
  list[0] = '\0';
  for (int i = 0; i < NUM_TARGETS && len < sizeof(list); i++) {
    int w = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", targets[i].info.name);
    if (w < 0) break;
    len += (size_t)w;
  }
  return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND, "no target named '%s'; the targets are %s", name, list);
}

int tmsf_target_mni_to_head(const double A[16], const double mni[3], double head_m[3]) {
  if (!mni || !head_m) return TMSF_ERR_ARGUMENT;
  for (int k = 0; k < 3; k++)
    if (!isfinite(mni[k])) return TMSF_ERR_ARGUMENT;
  if (!A) {
    for (int k = 0; k < 3; k++) head_m[k] = 1e-3 * mni[k];
    return TMSF_SUCCESS;
  }
  for (int i = 0; i < 16; i++)
    if (!isfinite(A[i])) return TMSF_ERR_ARGUMENT;
  if (A[12] != 0 || A[13] != 0 || A[14] != 0 || A[15] != 1) return TMSF_ERR_ARGUMENT;
  for (int r = 0; r < 3; r++)
    head_m[r] = 1e-3 * (A[4 * r] * mni[0] + A[4 * r + 1] * mni[1] + A[4 * r + 2] * mni[2] + A[4 * r + 3]);
  return TMSF_SUCCESS;
}

int tmsf_nifti_get_affine(tmsf_context *ctx, const char *path, double M[16]) {
  if (!path || !M) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "NIfTI affine: path and matrix are required");
#if TMSF_HAVE_NIFTI
  FILE *probe = fopen(path, "rb");
  if (!probe) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading", path);
  fclose(probe);
  nifti_set_debug_level(0);
  nifti_image *im = nifti_image_read(path, 0);
  if (!im)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: not a readable NIfTI-1/NIfTI-2 header", path);
  const nifti_dmat44 *A = im->sform_code > 0 ? &im->sto_xyz : im->qform_code > 0 ? &im->qto_xyz : NULL;
  int ierr = TMSF_SUCCESS;
  if (!A) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: sform_code and qform_code are both 0; expected an "
                      "affine (sform or qform)", path);
  } else {
    double scale = im->xyz_units == NIFTI_UNITS_METER ? 1e3 : im->xyz_units == NIFTI_UNITS_MICRON ? 1e-3 : 1.0;
    for (int r = 0; r < 4; r++)
      for (int c = 0; c < 4; c++) M[4 * r + c] = (r < 3 ? scale : 1.0) * A->m[r][c];
    M[12] = M[13] = M[14] = 0, M[15] = 1;
    for (int i = 0; i < 16 && !ierr; i++)
      if (!isfinite(M[i]))
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: the %s matrix has a non-finite entry (row %d, "
                          "column %d)", path, im->sform_code > 0 ? "sform" : "qform", i / 4 + 1, i % 4 + 1);
  }
  nifti_image_free(im);
  return ierr;
#else
  (void)M;
  return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED, "%s: this build has no NIfTI support", path);
#endif
}

int tmsf_target_project(const tmsf_mesh *mesh, const double p[3], int32_t tag, double proj[3],
                        double *distance, int64_t *tet_out) {
  if (!mesh || !p) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = mesh->ctx;
  for (int k = 0; k < 3; k++)
    if (!isfinite(p[k])) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "target projection: point is not finite");
  if (tag == 0) tag = 2;
  int64_t tet = -1;
  TMSF_CALL(tmsf_mesh_ensure_locator(mesh));
  TMSF_CALL(tmsf_mesh_locate_one(mesh, p, NULL, &tet));
  if (tet >= 0 && mesh->tet_tags[tet] == tag) {
    if (proj) memcpy(proj, p, 3 * sizeof(double));
    if (distance) *distance = 0;
    if (tet_out) *tet_out = tet;
    return TMSF_SUCCESS;
  }
  int64_t nf = 0;
  int32_t *faces = NULL;
  int64_t *ftet = NULL;
  TMSF_CALL(tmsf_tissue_boundary(mesh, tag, 0, &nf, &faces, &ftet));
  if (nf == 0) {
    free(faces);
    free(ftet);
    return TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND, "%s: target projection: the mesh has no tetrahedra of tag %d",
                      mesh->origin, (int)tag);
  }
  double best = INFINITY, bq[3] = {0, 0, 0};
  int64_t bf = -1;
  for (int64_t f = 0; f < nf; f++) {
    double q[3];
    const int32_t *t = faces + 3 * f;
    double d2 = tmsf_closest_on_triangle(p, mesh->nodes + 3 * (int64_t)t[0], mesh->nodes + 3 * (int64_t)t[1],
                                         mesh->nodes + 3 * (int64_t)t[2], q);
    if (d2 < best) best = d2, bf = f, memcpy(bq, q, sizeof(q));
  }
  if (proj) memcpy(proj, bq, sizeof(bq));
  if (distance) *distance = sqrt(best);
  if (tet_out) *tet_out = ftet[bf];
  free(faces);
  free(ftet);
  return TMSF_SUCCESS;
}

int tmsf_target_region(const tmsf_mesh *mesh, const double p[3], double radius_m, double proj[3],
                       tmsf_region **region) {
  if (!mesh || !p || !region) return TMSF_ERR_ARGUMENT;
  *region = NULL;
  double q[3];
  TMSF_CALL(tmsf_target_project(mesh, p, 2, q, NULL, NULL));
  if (proj) memcpy(proj, q, sizeof(q));
  const int32_t gm = 2;
  return tmsf_region_create_sphere(mesh, q, radius_m, 1, &gm, region);
}

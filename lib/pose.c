/*
 * SPDX-License-Identifier: BSD-3-Clause
 * pose.c: coil poses — validation and construction from centre + y direction.
 */
#include <float.h>

#include "tmsf-impl.h"

int tmsf_pose_check(tmsf_context *ctx, const double P[16]) {
  if (!P) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "pose is NULL");
  for (int i = 0; i < 16; i++)
    if (!isfinite(P[i]))
      return TMSF_ERROR(ctx, TMSF_ERR_POSE, "pose entry (%d,%d) is %g; expected finite numbers",
                        i / 4 + 1, i % 4 + 1, P[i]);
  if (P[12] != 0.0 || P[13] != 0.0 || P[14] != 0.0 || P[15] != 1.0)
    return TMSF_ERROR(ctx, TMSF_ERR_POSE,
                      "pose bottom row is (%g %g %g %g); expected (0 0 0 1)", P[12], P[13], P[14],
                      P[15]);
  double worst = 0.0;
  int wi = 0, wj = 0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0.0;
      for (int k = 0; k < 3; k++) s += P[4 * k + i] * P[4 * k + j];
      double d = fabs(s - (i == j ? 1.0 : 0.0));
      if (d > worst) worst = d, wi = i, wj = j;
    }
  if (worst > TMSF_POSE_TOLERANCE)
    return TMSF_ERROR(ctx, TMSF_ERR_POSE,
                      "pose rotation is not orthonormal: (R^T R)[%d][%d] is off by %.3g (tolerance "
                      "%g); a shear or scaling is not a rigid coil pose",
                      wi + 1, wj + 1, worst, TMSF_POSE_TOLERANCE);
  double det = P[0] * (P[5] * P[10] - P[6] * P[9]) - P[1] * (P[4] * P[10] - P[6] * P[8]) +
               P[2] * (P[4] * P[9] - P[5] * P[8]);
  if (fabs(det - 1.0) > TMSF_POSE_TOLERANCE)
    return TMSF_ERROR(ctx, TMSF_ERR_POSE,
                      "pose rotation has determinant %.6g; expected +1 (a reflection is not a "
                      "proper rotation)",
                      det);
  return TMSF_SUCCESS;
}

void tmsf_pose_to_mm(const double in[16], double out[16]) {
  for (int i = 0; i < 16; i++) out[i] = in[i];
  out[3] *= 1e3, out[7] *= 1e3, out[11] *= 1e3;
}

void tmsf_pose_from_mm(const double in[16], double out[16]) {
  for (int i = 0; i < 16; i++) out[i] = in[i];
  out[3] *= 1e-3, out[7] *= 1e-3, out[11] *= 1e-3;
}

int tmsf_pose_from_centre(const tmsf_mesh *mesh, const double centre_m[3], const double ydir[3],
                          double distance_m, double P[16]) {
  if (!mesh || !centre_m || !ydir || !P) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = mesh->ctx;
  for (int c = 0; c < 3; c++)
    if (!isfinite(centre_m[c]) || !isfinite(ydir[c]))
      return TMSF_ERROR(ctx, TMSF_ERR_POSE, "coil centre and y direction must be finite");
  if (!isfinite(distance_m))
    return TMSF_ERROR(ctx, TMSF_ERR_POSE, "coil distance must be finite, got %g", distance_m);
  int64_t ns;
  const int32_t *sn;
  const double *nrm;
  TMSF_CALL(tmsf_mesh_get_scalp(mesh, &ns, &sn, &nrm));
  int64_t best = -1;
  double bd = DBL_MAX;
  for (int64_t i = 0; i < ns; i++) {
    const double *x = mesh->nodes + 3 * (int64_t)sn[i];
    double d = (x[0] - centre_m[0]) * (x[0] - centre_m[0]) + (x[1] - centre_m[1]) * (x[1] - centre_m[1]) +
               (x[2] - centre_m[2]) * (x[2] - centre_m[2]);
    if (d < bd) bd = d, best = i;
  }
  const double *c = mesh->nodes + 3 * (int64_t)sn[best];
  const double *n = nrm + 3 * best;
  double z[3] = {-n[0], -n[1], -n[2]};
  double yl = sqrt(ydir[0] * ydir[0] + ydir[1] * ydir[1] + ydir[2] * ydir[2]);
  if (!(yl > 0.0)) return TMSF_ERROR(ctx, TMSF_ERR_POSE, "coil y direction is zero");
  double y[3] = {ydir[0] / yl, ydir[1] / yl, ydir[2] / yl};
  double yz = y[0] * z[0] + y[1] * z[1] + y[2] * z[2];
  if (fabs(yz) > 1.0 - 1e-6)
    return TMSF_ERROR(ctx, TMSF_ERR_POSE,
                      "coil y direction (%g, %g, %g) is parallel to the scalp normal (%g, %g, %g) at "
                      "the coil centre; expected a direction along the scalp",
                      ydir[0], ydir[1], ydir[2], n[0], n[1], n[2]);
  for (int k = 0; k < 3; k++) y[k] -= yz * z[k];
  yl = sqrt(y[0] * y[0] + y[1] * y[1] + y[2] * y[2]);
  for (int k = 0; k < 3; k++) y[k] /= yl;
  double x[3] = {y[1] * z[2] - y[2] * z[1], y[2] * z[0] - y[0] * z[2], y[0] * z[1] - y[1] * z[0]};
  for (int r = 0; r < 3; r++) {
    P[4 * r + 0] = x[r];
    P[4 * r + 1] = y[r];
    P[4 * r + 2] = z[r];
    P[4 * r + 3] = c[r] + distance_m * n[r];
  }
  P[12] = P[13] = P[14] = 0.0;
  P[15] = 1.0;
  return TMSF_SUCCESS;
}

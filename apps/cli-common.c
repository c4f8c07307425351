/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cli-common.c: helpers shared by the tmsfield subcommands.
 */
#include "cli-common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_vec(const char *s, double *v, int n) {
  const char *p = s;
  for (int i = 0; i < n; i++) {
    char *end;
    errno = 0;
    v[i] = strtod(p, &end);
    if (end == p || errno || !isfinite(v[i])) return 0;
    p = end;
    while (*p == ' ') p++;
    if (i < n - 1) {
      if (*p != ',') return 0;
      p++;
    }
  }
  while (*p == ' ') p++;
  return *p == '\0';
}

int parse_double(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end != s && *end == '\0' && !errno && isfinite(*v);
}

void cli_pose_init(cli_pose *p) {
  memset(p, 0, sizeof(*p));
  p->distance_mm = 4.0;
}

/* "--" prefix name */
static int is_opt(const char *arg, const char *prefix, const char *name) {
  size_t lp = strlen(prefix);
  return !strncmp(arg, "--", 2) && !strncmp(arg + 2, prefix, lp) && !strcmp(arg + 2 + lp, name);
}

int cli_pose_option(int argc, char **argv, int *i, const char *prefix, cli_pose *p, char *err, size_t errlen) {
  const char *a = argv[*i];
  const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
  int which = is_opt(a, prefix, "pose") ? 1
              : is_opt(a, prefix, "centre") || is_opt(a, prefix, "center") ? 2
              : is_opt(a, prefix, "ydir") ? 3
              : is_opt(a, prefix, "distance") ? 4
                                              : 0;
  if (!which) return 0;
  if (!val) {
    snprintf(err, errlen, "option %s needs a value", a);
    return -1;
  }
  (*i)++;
  switch (which) {
  case 1:
    if (strchr(val, ',')) {
      if (!parse_vec(val, p->pose_mm, 16)) {
        snprintf(err, errlen, "%s expects 16 comma-separated numbers, got '%s'", a, val);
        return -1;
      }
    } else {
      for (int k = 0; k < 16; k++)
        if (*i + k >= argc || !parse_double(argv[*i + k], &p->pose_mm[k])) {
          snprintf(err, errlen, "%s expects 16 numbers; number %d is %s", a, k + 1,
                   *i + k < argc ? argv[*i + k] : "missing");
          return -1;
        }
      *i += 15;
    }
    p->have_pose = 1;
    break;
  case 2:
    if (!parse_vec(val, p->centre_mm, 3)) {
      snprintf(err, errlen, "%s expects X,Y,Z in mm, got '%s'", a, val);
      return -1;
    }
    p->have_centre = 1;
    break;
  case 3:
    if (!parse_vec(val, p->ydir, 3)) {
      snprintf(err, errlen, "%s expects X,Y,Z, got '%s'", a, val);
      return -1;
    }
    p->have_ydir = 1;
    break;
  default:
    if (!parse_double(val, &p->distance_mm)) {
      snprintf(err, errlen, "%s expects mm, got '%s'", a, val);
      return -1;
    }
  }
  return 1;
}

const char *cli_pose_complete(const cli_pose *p, const char *prefix, char *err, size_t errlen) {
  if (p->have_pose == p->have_centre)
    snprintf(err, errlen, "give the coil pose either as --%spose (16 numbers) or as --%scentre with --%sydir",
             prefix, prefix, prefix);
  else if (p->have_centre && !p->have_ydir)
    snprintf(err, errlen, "--%scentre needs --%sydir", prefix, prefix);
  else if (p->have_pose && p->have_ydir)
    snprintf(err, errlen, "--%sydir goes with --%scentre, not with --%spose", prefix, prefix, prefix);
  else
    return NULL;
  return err;
}

int cli_pose_resolve(tmsf_context *ctx, const tmsf_mesh *mesh, const cli_pose *p, double P[16]) {
  int ierr;
  if (p->have_pose) {
    tmsf_pose_from_mm(p->pose_mm, P);
  } else {
    double c[3] = {p->centre_mm[0] * 1e-3, p->centre_mm[1] * 1e-3, p->centre_mm[2] * 1e-3};
    if ((ierr = tmsf_pose_from_centre(mesh, c, p->ydir, p->distance_mm * 1e-3, P))) return ierr;
  }
  return tmsf_pose_check(ctx, P);
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-pose.c: one coil pose from a file (pose.h, tmsf_pose_read): a placement
 * report (JSON with "pose": 4 rows of 4 numbers, millimetres), a Localite
 * InstrumentMarker XML or a Brainsight target export (navigator.h; their
 * first pose), or a text file of 16 numbers in millimetres (row-major,
 * separated by white space or commas; '#' starts a comment).
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "pose-impl.h"
#include "tmsf-impl.h"

#include <tmsfield/navigator.h>

#define POSE_FILE_MAX (16 << 20)

/* "pose" of a JSON object: 4 arrays of 4 numbers, mm. */
static int parse_json(tmsf_context *ctx, const char *name, const char *buf, size_t len, double mm[16]) {
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
  if (!root) {
    size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
    int line = 1;
    for (size_t k = 0; k < off && k < len; k++) line += buf[k] == '\n';
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: line %d: not valid JSON", name, line);
  }
  int ierr = TMSF_SUCCESS;
  const cJSON *pose = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "pose") : NULL;
  if (!cJSON_IsArray(pose) || cJSON_GetArraySize(pose) != 4) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: expected an object with \"pose\": 4 rows of 4 numbers (mm)", name);
    goto done;
  }
  for (int r = 0; r < 4 && !ierr; r++) {
    const cJSON *row = cJSON_GetArrayItem(pose, r);
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 4) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: \"pose\" row %d: expected 4 numbers", name, r + 1);
      break;
    }
    for (int c = 0; c < 4; c++) {
      const cJSON *v = cJSON_GetArrayItem(row, c);
      if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: \"pose\" row %d, column %d: expected a finite number", name,
                          r + 1, c + 1);
        break;
      }
      mm[4 * r + c] = v->valuedouble;
    }
  }
done:
  cJSON_Delete(root);
  return ierr;
}

/* 16 numbers of a text file, mm. */
static int parse_text(tmsf_context *ctx, const char *name, const char *buf, size_t len, double mm[16]) {
  int k = 0, line = 1;
  size_t i = 0;
  while (i < len) {
    char ch = buf[i];
    if (ch == '\n') {
      line++, i++;
    } else if (ch == '#') {
      while (i < len && buf[i] != '\n') i++;
    } else if (isspace((unsigned char)ch) || ch == ',') {
      i++;
    } else {
      char num[64];
      size_t n = 0;
      while (i < len && !isspace((unsigned char)buf[i]) && buf[i] != ',' && buf[i] != '#' && n < sizeof(num) - 1)
        num[n++] = buf[i++];
      num[n] = '\0';
      char *e;
      errno = 0;
      double v = strtod(num, &e);
      if (e == num || *e || !isfinite(v) || errno == ERANGE)
        return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: line %d: expected a number, got '%.40s'", name, line, num);
      if (k == 16)
        return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: line %d: more than 16 numbers (a 4x4 pose in mm)", name, line);
      mm[k++] = v;
    }
  }
  if (k < 16)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: %d numbers, expected 16 (a 4x4 pose in mm, row-major)", name, k);
  return TMSF_SUCCESS;
}

int tmsf_pose_parse_buffer(tmsf_context *ctx, const char *name, const char *buf, size_t len,
                           double head_from_coil_m[16]) {
  double mm[16];
  size_t i = 0;
  while (i < len && isspace((unsigned char)buf[i])) i++;
  int ierr = i < len && buf[i] == '{' ? parse_json(ctx, name, buf, len, mm) : parse_text(ctx, name, buf, len, mm);
  if (ierr) return ierr;
  tmsf_pose_from_mm(mm, head_from_coil_m);
  ierr = tmsf_pose_check(ctx, head_from_coil_m);
  if (ierr) return TMSF_ERROR(ctx, ierr, "%s: %s", name, tmsf_context_last_error(ctx));
  return TMSF_SUCCESS;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcasecmp(s + a - b, suffix);
}

int tmsf_pose_read(tmsf_context *ctx, const char *path, double head_from_coil_m[16]) {
  if (!ctx || !path || !head_from_coil_m) return TMSF_ERR_ARGUMENT;
  if (ends_with(path, ".xml")) {
    int n = 0;
    double *poses = NULL;
    TMSF_CALL(tmsf_nnav_read_localite(ctx, path, &n, &poses, NULL, NULL));
    int ierr = n < 1 ? TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: no instrument marker", path) : TMSF_SUCCESS;
    if (!ierr) memcpy(head_from_coil_m, poses, 16 * sizeof(double));
    tmsf_nnav_free(n, &poses, NULL);
    return ierr;
  }
  FILE *f = fopen(path, "rb");
  if (!f) return TMSF_ERROR(ctx, TMSF_ERR_IO, "cannot open the pose file %s: %s", path, strerror(errno));
  char *buf = tmsf_malloc_array(POSE_FILE_MAX + 1, 1);
  if (!buf) {
    fclose(f);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  size_t len = fread(buf, 1, POSE_FILE_MAX + 1, f);
  int rerr = ferror(f);
  fclose(f);
  int ierr = TMSF_SUCCESS;
  if (rerr) ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "cannot read the pose file %s", path);
  else if (len > POSE_FILE_MAX)
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: larger than %d MiB: not a pose file", path, POSE_FILE_MAX >> 20);
  else {
    buf[len] = '\0';
    if (strstr(buf, "# Coordinate system") || strstr(buf, "# Target Name")) { /* Brainsight */
      free(buf);
      int n = 0;
      double *poses = NULL;
      TMSF_CALL(tmsf_nnav_read_brainsight(ctx, path, TMSF_NNAV_TARGETS, &n, &poses, NULL, NULL));
      ierr = n < 1 ? TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: no Brainsight target", path) : TMSF_SUCCESS;
      if (!ierr) memcpy(head_from_coil_m, poses, 16 * sizeof(double));
      tmsf_nnav_free(n, &poses, NULL);
      return ierr;
    }
    ierr = tmsf_pose_parse_buffer(ctx, path, buf, len, head_from_coil_m);
  }
  free(buf);
  return ierr;
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-output-gifti.c: GIfTI surfaces with |E|, read back with nibabel, and the
 * HDF5 file read with h5py (tests/check-outputs.py, run with /usr/bin/python3).
 *
 * The sphere's surface 1003 (the boundary of the inner ball, tag 3) is
 * written in both modes; check-outputs.py recomputes, from the HDF5 file
 * written alongside, the vertex set, the coordinates (bitwise as float32),
 * the triangles and the area-weighted |E| per vertex (relative 1e-5: float32
 * storage), and checks the HDF5 layout (shapes, dtypes, units, magnE = |E|,
 * conductivities, nodal E NaN exactly off its tissue).  Errors: an absent
 * surface tag, a missing directory; no file or temporary left behind.
 */
#include <sys/wait.h>

#include "output-test.h"
#include "tmsf-impl.h" /* tmsf_wtime */

static int run_python(const char *args) {
  char cmd[16384];
  snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", test_path("tests/check-outputs.py"), args);
  printf("$ %s\n", cmd);
  fflush(stdout);
  int rc = system(cmd);
  return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int main(void) {
  out_case c;
  out_case_solve(&c);
  tmsf_context *ctx = c.ctx;
  const char *dir = scratch_dir("t-output-gifti");
  char h5[4200], pe[4200], pr[4200], p[4400], args[14000];
  snprintf(h5, sizeof(h5), "%s/field.h5", dir);
  snprintf(pe, sizeof(pe), "%s/inner", dir);
  snprintf(pr, sizeof(pr), "%s/inner_rec", dir);
  const int32_t nodal[2] = {3, 5};
  CHECK_OK(ctx, tmsf_field_write_hdf5(c.field, c.coil, c.pose, nodal, 2, h5));
  double t0 = tmsf_wtime();
  CHECK_OK(ctx, tmsf_field_write_gifti(c.field, TMSF_SAMPLE_ELEMENT, 1003, pe));
  printf("GIfTI written in %.3f s\n", tmsf_wtime() - t0);
  CHECK_OK(ctx, tmsf_field_write_gifti(c.field, TMSF_SAMPLE_RECOVERED, 1003, pr));
  snprintf(p, sizeof(p), "%s.surf.gii", pe);
  CHECK(file_exists(p), "%s written", p);
  snprintf(p, sizeof(p), "%s.func.gii", pe);
  CHECK(file_exists(p), "%s written", p);

  snprintf(args, sizeof(args), "--h5 %s --gifti %s --surface-tag 1003", h5, pe);
  CHECK(run_python(args) == 0, "h5py/nibabel checks of the HDF5 file and the element-mode GIfTI");
  snprintf(args, sizeof(args), "--h5 %s --gifti %s --surface-tag 1003 --recovered", h5, pr);
  CHECK(run_python(args) == 0, "nibabel checks of the recovered-mode GIfTI");

  /* errors */
  snprintf(p, sizeof(p), "%s/none", dir);
  CHECK(tmsf_field_write_gifti(c.field, TMSF_SAMPLE_ELEMENT, 1002, p) == TMSF_ERR_NOT_FOUND, "no 1002 on the sphere");
  CHECK(strstr(tmsf_context_last_error(ctx), "1002") != NULL, "names the tag: %s", tmsf_context_last_error(ctx));
  snprintf(p, sizeof(p), "%s/no/dir/x", dir);
  CHECK(tmsf_field_write_gifti(c.field, TMSF_SAMPLE_ELEMENT, 1003, p) == TMSF_ERR_IO, "missing directory");
  CHECK(strstr(tmsf_context_last_error(ctx), "no/dir/x.surf.gii") != NULL, "names the path: %s",
        tmsf_context_last_error(ctx));
  CHECK(count_temporaries(dir) == 0, "no temporary files left (%d)", count_temporaries(dir));
  snprintf(p, sizeof(p), "%s/none.surf.gii", dir);
  CHECK(!file_exists(p), "no file for a failed call");
  remove_dir(dir);
  out_case_free(&c);
  return test_summary("t-output-gifti");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-catalogue.c: the coil catalogue — all 25 shipped Drakaki et al. (2022)
 * coils with their header values, lookup by file name, coilname and loose
 * spelling, near matches for unknown names, TMSF_COIL_PATH and added
 * directories (precedence, skipped files with reasons, ambiguity), opening
 * coils by name or path.  Meson sets TMSF_DATA_DIR to the source tree's data/.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "test-common.h"

/* The 25 coils: name, brand, stimulator, dIdtmax (A/us) and dipole count,
 * read from line 1 and line 2 of each file with Python (data/README.md). */
static const struct {
  const char *name, *coilname, *brand, *stimulator;
  double didt_A_per_us;
  int64_t dipoles;
} DRAKAKI[25] = {
  {"Deymed_120BFV", "120BFV", "Deymed", "DuoMAG XT", 102.93, 1697},
  {"Deymed_50BF", "50BF", "Deymed", "DuoMAG XT", 97.59, 840},
  {"Deymed_70BF", "70BF", "Deymed", "DuoMAG XT", 101.06, 1053},
  {"MagMore_PMD25-decentral", "PMD25-decentral", "Mag&More", "PowerMAG", 220.77, 1095},
  {"MagMore_PMD45-EEG", "PMD45-EEG", "Mag&More", "PowerMAG", 249.55, 1123},
  {"MagMore_PMD70", "PMD70", "Mag&More", "PowerMAG", 241.28, 824},
  {"MagStim_D70", "D70", "Magstim", "Magstim Rapid", 114.73, 964},
  {"MagStim_DCC", "DCC", "Magstim", "Magstim Rapid", 84.37, 2000},
  {"MagVenture_C-100", "C-100", "MagVenture", "MagPro X100", 168.28, 1187},
  {"MagVenture_C-B60", "C-B60", "MagVenture", "MagPro X100", 155.40, 1960},
  {"MagVenture_C-B70", "C-B70", "MagVenture", "MagPro X100", 146.52, 1596},
  {"MagVenture_Cool-B35", "Cool-B35", "MagVenture", "MagPro X100", 141.28, 1001},
  {"MagVenture_Cool-B65", "Cool-B65", "MagVenture", "MagPro X100", 149.77, 1000},
  {"MagVenture_Cool-B70", "Cool-B70", "MagVenture", "MagPro X100", 143.77, 1712},
  {"MagVenture_Cool-D-B80", "Cool-D-B80", "MagVenture", "MagPro X100", 146.44, 2495},
  {"MagVenture_MC-125", "MC-125", "MagVenture", "MagPro X100", 151.67, 1074},
  {"MagVenture_MC-125_new", "MC-125_new", "MagVenture", "MagPro X100", 146.92, 1037},
  {"MagVenture_MC-B70", "MC-B70", "MagVenture", "MagPro X100", 155.33, 1447},
  {"MagVenture_MCF-75", "MCF-75", "MagVenture", "MagPro X100", 160.02, 1105},
  {"MagVenture_MCF-B65", "MCF-B65", "MagVenture", "MagPro X100", 147.86, 1024},
  {"MagVenture_MCF-B65_new", "MCF-B65_new", "MagVenture", "MagPro X100", 153.72, 1008},
  {"MagVenture_MC_B65_HO8", "MC_B65_HO8", "MagVenture", "MagPro X100", 128.97, 1251},
  {"MagVenture_MMC-140-II", "MMC-140-II", "MagVenture", "MagPro X100", 124.39, 912},
  {"MagVenture_MRI-B91", "MRI-B91", "MagVenture", "MagPro X100", 194.30, 2018},
  {"MagVenture_MST_Twin", "MST-Twin", "MagVenture", "MagPro XP", 200.08, 2036},
};

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) {
    CHECK(0, "cannot write %s", path);
    return;
  }
  fputs(text, f);
  fclose(f);
}

/* A 2-dipole .ccd with the given header fields. */
static void write_ccd(const char *path, const char *header) {
  char text[512];
  snprintf(text, sizeof(text), "# %s\n2\n0 0 0.01 0 0 1e-6\n0 0.01 0.01 0 0 -1e-6\n", header);
  write_file(path, text);
}

static int find(tmsf_catalogue *cat, const char *name) {
  int i = -1;
  if (tmsf_catalogue_find(cat, name, &i)) return -1;
  return i;
}

static int has_skipped(const tmsf_catalogue *cat, const char *path_part, const char *reason_part) {
  int ns = 0;
  tmsf_catalogue_get_num_skipped(cat, &ns);
  for (int i = 0; i < ns; i++) {
    const char *p, *r;
    tmsf_catalogue_get_skipped(cat, i, &p, &r);
    if (strstr(p, path_part) && strstr(r, reason_part)) return 1;
  }
  return 0;
}

int main(void) {
  tmsf_context *ctx;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  unsetenv("TMSF_COIL_PATH");

  const char *data_dir;
  tmsf_get_data_dir(&data_dir);
  CHECK(getenv("TMSF_DATA_DIR") && strcmp(data_dir, getenv("TMSF_DATA_DIR")) == 0,
        "data dir follows TMSF_DATA_DIR: %s", data_dir);

  /* 1. The shipped coils. */
  tmsf_catalogue *cat;
  REQUIRE_OK(ctx, tmsf_catalogue_create(ctx, &cat));
  int n = 0, ns = -1;
  tmsf_catalogue_get_num_coils(cat, &n);
  tmsf_catalogue_get_num_skipped(cat, &ns);
  CHECK(n >= 26, "at least the 25 measured coils and the legacy Magstim 70 mm, got %d", n);
  CHECK(ns == 0, "no shipped file skipped, got %d", ns);
  for (int i = 0; i < ns; i++) {
    const char *p, *r;
    tmsf_catalogue_get_skipped(cat, i, &p, &r);
    fprintf(stderr, "  skipped %s: %s\n", p, r);
  }
  for (int k = 0; k < 25; k++) {
    int i = find(cat, DRAKAKI[k].name);
    CHECK(i >= 0, "%s listed: %s", DRAKAKI[k].name, tmsf_context_last_error(ctx));
    if (i < 0) continue;
    tmsf_coil_info info;
    CHECK_OK(ctx, tmsf_catalogue_get_coil_info(cat, i, &info));
    CHECK(strcmp(info.name, DRAKAKI[k].name) == 0 && strcmp(info.coilname, DRAKAKI[k].coilname) == 0 &&
              strcmp(info.brand, DRAKAKI[k].brand) == 0 &&
              strcmp(info.stimulator, DRAKAKI[k].stimulator) == 0,
          "%s: '%s' '%s' '%s' '%s'", DRAKAKI[k].name, info.name, info.coilname, info.brand,
          info.stimulator);
    /* A/us in the file -> A/s: exact up to the decimal's rounding */
    CHECK_REL(info.didt_max_A_per_s, DRAKAKI[k].didt_A_per_us * 1e6, 1e-15, DRAKAKI[k].name);
    CHECK(info.num_elements == DRAKAKI[k].dipoles, "%s: %lld dipoles, header line 2 says %lld",
          DRAKAKI[k].name, (long long)info.num_elements, (long long)DRAKAKI[k].dipoles);
    CHECK(strcmp(info.format, "ccd") == 0 && strcmp(info.source, "data") == 0 &&
              strstr(info.path, "coils/drakaki2022/") != NULL,
          "%s: format %s source %s path %s", DRAKAKI[k].name, info.format, info.source, info.path);
    /* the coilname finds the same coil */
    CHECK(find(cat, DRAKAKI[k].coilname) == i, "%s by coilname %s", DRAKAKI[k].name, DRAKAKI[k].coilname);
  }
  /* measured waveforms beside three of the coils */
  {
    static const char *const with[3][2] = {{"MagVenture_MC-B70", "/drakaki2022/MagVenture_MC-B70.tsv"},
                                           {"MagStim_D70", "/drakaki2022/Magstim_D70.tsv"},
                                           {"MagStim_DCC", "/drakaki2022/Magstim_DCC.tsv"}};
    int nw = 0;
    for (int i = 0; i < n; i++) {
      tmsf_coil_info info;
      tmsf_catalogue_get_coil_info(cat, i, &info);
      if (info.waveform_path[0]) nw++;
    }
    CHECK(nw == 3, "3 coils with a waveform, got %d", nw);
    for (int k = 0; k < 3; k++) {
      int i = find(cat, with[k][0]);
      tmsf_coil_info info = {0};
      if (i >= 0) tmsf_catalogue_get_coil_info(cat, i, &info);
      size_t lw = info.waveform_path ? strlen(info.waveform_path) : 0, ls = strlen(with[k][1]);
      CHECK(i >= 0 && lw > ls && strcmp(info.waveform_path + lw - ls, with[k][1]) == 0 &&
                access(info.waveform_path, R_OK) == 0,
            "%s: waveform '%s'", with[k][0], info.waveform_path ? info.waveform_path : "(null)");
    }
  }
  /* the numbers, A/us at 100 % MSO */
  {
    static const struct {
      const char *name;
      double A_per_us;
    } want[] = {{"MagVenture_MC-B70", 155.33}, {"MagStim_D70", 114.73}, {"MagStim_DCC", 84.37},
                {"Deymed_70BF", 101.06},       {"MagMore_PMD70", 241.28}};
    for (int k = 0; k < 5; k++) {
      int i = find(cat, want[k].name);
      tmsf_coil_info info = {0};
      if (i >= 0) tmsf_catalogue_get_coil_info(cat, i, &info);
      CHECK(i >= 0 && fabs(info.didt_max_A_per_s / 1e6 - want[k].A_per_us) < 1e-9, "%s: %.2f A/us",
            want[k].name, info.didt_max_A_per_s / 1e6);
    }
  }
  /* spellings */
  int mcb70 = find(cat, "MagVenture_MC-B70");
  CHECK(mcb70 >= 0 && find(cat, "magventure_mc-b70") == mcb70 && find(cat, "mc-b70") == mcb70 &&
            find(cat, "MagVenture MC B70") == mcb70 && find(cat, "MC_B70") == mcb70,
        "MC-B70 by name, coilname, case and separators");
  CHECK(find(cat, "Magstim_70mm_Fig8") >= 0, "the legacy Magstim 70 mm figure-8 is listed");
  /* unknown names name near matches */
  {
    int i = 7;
    int ierr = tmsf_catalogue_find(cat, "MagVenture_MC-B71", &i);
    const char *msg = tmsf_context_last_error(ctx);
    CHECK(ierr == TMSF_ERR_NOT_FOUND && i == -1, "unknown name: %d", ierr);
    CHECK(strstr(msg, "'MagVenture_MC-B71'") && strstr(msg, "near matches") &&
              strstr(msg, "MagVenture_MC-B70"),
          "message names near matches: %s", msg);
    ierr = tmsf_catalogue_find(cat, "Cool", &i);
    msg = tmsf_context_last_error(ctx);
    CHECK(ierr == TMSF_ERR_NOT_FOUND && strstr(msg, "MagVenture_Cool-B35") && strstr(msg, "MagVenture_Cool-B65"),
          "a fragment lists the coils containing it: %s", msg);
    ierr = tmsf_catalogue_find(cat, "qqqqqqqqqqqqqqqq", &i);
    msg = tmsf_context_last_error(ctx);
    CHECK(ierr == TMSF_ERR_NOT_FOUND && strstr(msg, "no near matches"), "no near match: %s", msg);
  }
  /* open by name and by path */
  {
    tmsf_coil *coil;
    REQUIRE_OK(ctx, tmsf_coil_open(ctx, "MagVenture_MC-B70", &coil));
    int64_t nd;
    double dmax;
    tmsf_coil_get_num_dipoles(coil, &nd);
    CHECK_OK(ctx, tmsf_coil_get_didt_max(coil, &dmax));
    CHECK(nd == 1447 && fabs(dmax - 155.33e6) < 1e-3, "MC-B70 opened by name: %lld dipoles, %g A/s",
          (long long)nd, dmax);
    tmsf_coil_destroy(&coil);
    REQUIRE_OK(ctx, tmsf_catalogue_open_coil(cat, mcb70, &coil));
    tmsf_coil_get_num_dipoles(coil, &nd);
    CHECK(nd == 1447, "open_coil: %lld", (long long)nd);
    tmsf_coil_destroy(&coil);
    REQUIRE_OK(ctx, tmsf_coil_open(ctx, test_path("tests/data/testcoil.ccd"), &coil));
    tmsf_coil_get_num_dipoles(coil, &nd);
    CHECK(nd == 4, "open by path: %lld", (long long)nd);
    tmsf_coil_destroy(&coil);
    int ierr = tmsf_coil_open(ctx, "MagStim_D71", &coil);
    const char *msg = tmsf_context_last_error(ctx);
    CHECK(ierr == TMSF_ERR_NOT_FOUND && coil == NULL && strstr(msg, "MagStim_D70") &&
              strstr(msg, "neither a coil file nor a coil name"),
          "unknown coil: %d %s", ierr, msg);
  }
  tmsf_catalogue_destroy(&cat);
  CHECK(cat == NULL, "destroy clears the pointer");

  /* 2. Directories of the caller and of TMSF_COIL_PATH. */
  char dir1[] = "/tmp/t-catalogue-XXXXXX", dir2[] = "/tmp/t-catalogue-XXXXXX";
  if (!mkdtemp(dir1) || !mkdtemp(dir2)) {
    fprintf(stderr, "FATAL: mkdtemp\n");
    return 1;
  }
  char p[8][512];
  snprintf(p[0], sizeof(p[0]), "%s/My_Coil.ccd", dir1);
  write_ccd(p[0], "mine version 1.0; dIdtmax=42.5; brand=Acme; stimulator=Box 1; coilname=MyCoil");
  snprintf(p[1], sizeof(p[1]), "%s/MagVenture_MC-B70.CCD", dir1); /* shadows the shipped one */
  write_ccd(p[1], "shadow; dIdtmax=1.5; coilname=MC-B70");
  snprintf(p[2], sizeof(p[2]), "%s/broken.ccd", dir1);
  write_file(p[2], "# broken; dIdtmax=100\n# only comments\n");
  snprintf(p[3], sizeof(p[3]), "%s/notes.txt", dir1);
  write_file(p[3], "not a coil\n");
  snprintf(p[4], sizeof(p[4]), "%s/sub", dir1);
  mkdir(p[4], 0700);
  snprintf(p[5], sizeof(p[5]), "%s/sub/Garbage.tcd", dir1);
  write_file(p[5], "{ this is not a coil");
  snprintf(p[6], sizeof(p[6]), "%s/Twin_A.ccd", dir2);
  write_ccd(p[6], "a; coilname=Twin");
  snprintf(p[7], sizeof(p[7]), "%s/Twin_B.ccd", dir2);
  write_ccd(p[7], "b; coilname=Twin; dIdtmax=0");

  REQUIRE_OK(ctx, tmsf_catalogue_create_empty(ctx, &cat));
  tmsf_catalogue_get_num_coils(cat, &n);
  CHECK(n == 0, "empty catalogue: %d", n);
  REQUIRE_OK(ctx, tmsf_catalogue_add_directory(cat, dir1));
  tmsf_catalogue_get_num_coils(cat, &n);
  tmsf_catalogue_get_num_skipped(cat, &ns);
  CHECK(n == 2 && ns == 2, "dir1: 2 coils and 2 skipped, got %d and %d", n, ns);
  CHECK(has_skipped(cat, "broken.ccd", "broken.ccd:2: no dipole count"), "broken.ccd skipped with file and line");
  CHECK(has_skipped(cat, "sub/Garbage.tcd", "Garbage.tcd"), "a bad .tcd in a subdirectory skipped with a reason");
  int mine = find(cat, "mycoil");
  tmsf_coil_info info = {0};
  if (mine >= 0) tmsf_catalogue_get_coil_info(cat, mine, &info);
  CHECK(mine >= 0 && strcmp(info.name, "My_Coil") == 0 && strcmp(info.brand, "Acme") == 0 &&
            strcmp(info.stimulator, "Box 1") == 0 && info.didt_max_A_per_s == 42.5e6 &&
            info.num_elements == 2 && strcmp(info.source, "directory") == 0,
        "My_Coil: %s %s %s %g %lld %s", info.name, info.brand, info.stimulator,
        info.didt_max_A_per_s, (long long)info.num_elements, info.source);
  /* tests/data has testcoil.ccd and testcoil.nii.gz: the name means the .ccd,
   * the file name picks either */
  REQUIRE_OK(ctx, tmsf_catalogue_add_directory(cat, test_path("tests/data")));
  int tc = find(cat, "testcoil");
  if (tc >= 0) tmsf_catalogue_get_coil_info(cat, tc, &info);
  CHECK(tc >= 0 && strcmp(info.format, "ccd") == 0 && info.num_elements == 4,
        "testcoil: the .ccd is preferred to the grid: %s", tmsf_context_last_error(ctx));
  CHECK(find(cat, "TESTCOIL.CCD") == tc, "by file name with extension");
#if TMSF_HAVE_NIFTI
  int tg = find(cat, "testcoil.nii.gz");
  if (tg >= 0) tmsf_catalogue_get_coil_info(cat, tg, &info);
  CHECK(tg >= 0 && tg != tc && strcmp(info.format, "nifti") == 0, "the grid by its file name");
#endif
  int ierr = tmsf_catalogue_add_directory(cat, "/nonexistent/coils");
  CHECK(ierr == TMSF_ERR_IO && strstr(tmsf_context_last_error(ctx), "/nonexistent/coils"),
        "missing directory: %d %s", ierr, tmsf_context_last_error(ctx));
  tmsf_catalogue_destroy(&cat);

  /* TMSF_COIL_PATH (a missing entry is recorded), added directories first,
   * then the path, then the shipped data */
  char envpath[1100];
  snprintf(envpath, sizeof(envpath), "/nonexistent/a::%s", dir2);
  setenv("TMSF_COIL_PATH", envpath, 1);
  REQUIRE_OK(ctx, tmsf_catalogue_create(ctx, &cat));
  CHECK(has_skipped(cat, "/nonexistent/a", "TMSF_COIL_PATH"), "missing TMSF_COIL_PATH entry recorded");
  CHECK(has_skipped(cat, "Twin_B.ccd", "Twin_B.ccd:1: dIdtmax='0'"), "dIdtmax=0 rejected with file and line");
  int twin = find(cat, "twin_a");
  if (twin >= 0) tmsf_catalogue_get_coil_info(cat, twin, &info);
  CHECK(twin >= 0 && strcmp(info.source, "TMSF_COIL_PATH") == 0 && isnan(info.didt_max_A_per_s),
        "Twin_A from TMSF_COIL_PATH without dIdtmax");
  int shipped = find(cat, "MagVenture_MC-B70");
  if (shipped >= 0) tmsf_catalogue_get_coil_info(cat, shipped, &info);
  CHECK(shipped >= 0 && strcmp(info.source, "data") == 0, "MC-B70 from the data before adding dir1");
  REQUIRE_OK(ctx, tmsf_catalogue_add_directory(cat, dir1));
  int shadow = find(cat, "MagVenture_MC-B70");
  if (shadow >= 0) tmsf_catalogue_get_coil_info(cat, shadow, &info);
  CHECK(shadow >= 0 && strcmp(info.source, "directory") == 0 && info.didt_max_A_per_s == 1.5e6,
        "an added directory shadows the shipped MC-B70 (%s, %g)", info.source, info.didt_max_A_per_s);
  CHECK(find(cat, "MC-B70") == shadow, "and its coilname too");
  CHECK(tmsf_catalogue_get_coil_info(cat, 0, &info) == TMSF_SUCCESS && strcmp(info.source, "directory") == 0,
        "added directories come first in the listing");
  tmsf_catalogue_destroy(&cat);
  /* two coils with the same coilname from one source: ambiguous */
  write_ccd(p[7], "b; coilname=Twin; dIdtmax=3");
  REQUIRE_OK(ctx, tmsf_catalogue_create(ctx, &cat));
  int i = 0;
  ierr = tmsf_catalogue_find(cat, "Twin", &i);
  CHECK(ierr == TMSF_ERR_ARGUMENT && strstr(tmsf_context_last_error(ctx), "ambiguous") &&
            strstr(tmsf_context_last_error(ctx), "Twin_A.ccd") &&
            strstr(tmsf_context_last_error(ctx), "Twin_B.ccd"),
        "ambiguous coilname: %d %s", ierr, tmsf_context_last_error(ctx));
  CHECK(find(cat, "Twin_B") >= 0, "the file name still finds it");
  tmsf_catalogue_destroy(&cat);
  unsetenv("TMSF_COIL_PATH");

  /* 3. No shipped data where TMSF_DATA_DIR points: an empty, not failing, catalogue. */
  char *saved = getenv("TMSF_DATA_DIR") ? strdup(getenv("TMSF_DATA_DIR")) : NULL;
  setenv("TMSF_DATA_DIR", dir2, 1);
  REQUIRE_OK(ctx, tmsf_catalogue_create(ctx, &cat));
  tmsf_catalogue_get_num_coils(cat, &n);
  CHECK(n == 0 && has_skipped(cat, "/coils", "TMSF_DATA_DIR"), "no data: %d coils", n);
  tmsf_catalogue_destroy(&cat);
  if (saved) setenv("TMSF_DATA_DIR", saved, 1);
  free(saved);

  for (int k = 0; k < 8; k++)
    if (k != 4) unlink(p[k]);
  rmdir(p[4]);
  rmdir(dir1);
  rmdir(dir2);
  tmsf_context_destroy(&ctx);
  return test_summary("catalogue");
}

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * gmsh-run.h: running the gmsh program from tests — its path (env TMSF_GMSH,
 * set by tests/meson.build), whether it is required (env TMSF_REQUIRE_GMSH=1:
 * a missing gmsh fails the test instead of skipping it), and a fork/exec
 * runner that needs no shell quoting.
 */
#ifndef TMSF_TEST_GMSH_RUN_H
#define TMSF_TEST_GMSH_RUN_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit status that meson reports as a skipped test. */
#define TEST_SKIP 77

/* The gmsh executable, or NULL when TMSF_GMSH is unset, empty or not executable. */
static inline const char *test_gmsh_path(void) {
  const char *g = getenv("TMSF_GMSH");
  if (!g || !*g || access(g, X_OK) != 0) return NULL;
  return g;
}

static inline int test_gmsh_required(void) {
  const char *r = getenv("TMSF_REQUIRE_GMSH");
  return r && strcmp(r, "1") == 0;
}

/*
 * No gmsh: exit with TEST_SKIP, or with 1 when TMSF_REQUIRE_GMSH=1.  `what`
 * names the check that needs it.
 */
static inline void test_gmsh_missing(const char *what) {
  if (test_gmsh_required()) {
    fprintf(stderr, "FAIL: %s needs gmsh, and TMSF_REQUIRE_GMSH=1 but TMSF_GMSH ('%s') is not an "
                    "executable (install gmsh: ./bootstrap test installs it)\n",
            what, getenv("TMSF_GMSH") ? getenv("TMSF_GMSH") : "unset");
    exit(1);
  }
  printf("SKIP: %s needs gmsh (env TMSF_GMSH unset)\n", what);
  exit(TEST_SKIP);
}

/*
 * Run argv[0] with arguments argv[1..] (NULL-terminated), stdout and stderr
 * to log_path (NULL: inherited).  Returns the exit status, or -1 when the
 * program could not be started or was killed by a signal.
 */
static inline int test_run(const char *const argv[], const char *log_path) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (log_path) {
      int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  if (!WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

#endif

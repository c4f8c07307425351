/*
 * SPDX-License-Identifier: BSD-3-Clause
 * bench-treecode: the treecode of the reciprocity fields (lib/treecode.c) on
 * a head-like geometry: time to build the tree and to evaluate A and B at M
 * targets, with 1 and 2 threads, and the error against the direct sum on a
 * random subset of the targets (which also gives the direct cost per target).
 *
 *   bench-treecode [--head default|FILE.msh] [--sources N] [--targets M]
 *                  [--check K] [--repeat R] [--threads 1,2] [--tolerance T ...]
 *                  [--config THETA:DEGREE ...]
 *                  [--theta TH --degree P] [--leaf L] [--batch B]
 *                  [--clearance MM] [--net] [--json OUT.json] [--smoke]
 *
 * Geometry.  With --head: the sources are the mesh nodes, weighted by their
 * share of the tetrahedra's volume (V_e / 4 from each), and the targets lie
 * 5-30 mm out along the scalp normals of random scalp nodes with an upward
 * or sideways normal (n_z > -0.3), kept when no source is nearer than the
 * clearance (default 5 mm; positions are redrawn until one is).  Without: N nodes spread at random
 * through an ellipsoid of semi-axes 75, 90, 100 mm, unit volumes, targets
 * 5-30 mm out along its normals.  Weights, both cases: Q_n = V_n J(x_n) with
 * J the current of a dipole p (unit, tangential) 20 mm under the top of the
 * scalp in an infinite medium, (3 (p.u) u - p) / (4 pi d^3) with d clamped
 * at 5 mm, plus p / V_ball within 5 mm: largest in a small region, decaying
 * as a dipole field, non-zero in the scalp.  Then, unless --net, the mean
 * current is taken off (Q_n -= V_n sum Q / sum V) so that sum Q = 0, as for
 * the adjoint weights of a closed conductor (reciprocity.md: they are the
 * total current of a source in R).
 *
 * Error: RMS over the checked targets of |treecode - direct| over the RMS of
 * |direct|, for A and B, and the largest |treecode - direct| over that RMS.
 *
 * Each --tolerance or --config is one configuration (--theta, --degree,
 * --leaf, --batch and --single override them all);
 * per configuration and thread count the build and the evaluation are timed
 * R times (median, min, max; wall and CPU time).  --smoke: the ellipsoid
 * with 20,000 sources and 5000 targets, once.  Exit status 1 when an error
 * is not finite or a --tolerance configuration misses its tolerance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "treecode.h"

#ifndef TMSF_GIT_COMMIT
#define TMSF_GIT_COMMIT "unknown"
#endif

#define MAXCONF 16
#define MAXREP 32

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(int n, const double *v) {
  double t[MAXREP];
  memcpy(t, v, sizeof(double) * (size_t)n);
  qsort(t, (size_t)n, sizeof(double), cmp_double);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static double vmin(int n, const double *v) {
  double m = v[0];
  for (int i = 1; i < n; i++) m = fmin(m, v[i]);
  return m;
}

static double vmax(int n, const double *v) {
  double m = v[0];
  for (int i = 1; i < n; i++) m = fmax(m, v[i]);
  return m;
}

static void cpu_model(char *buf, size_t cap) {
  snprintf(buf, cap, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, "model name", 10) == 0) {
      char *c = strchr(line, ':');
      if (c) {
        c++;
        while (*c == ' ') c++;
        c[strcspn(c, "\n\"\\")] = '\0';
        snprintf(buf, cap, "%s", c);
      }
      break;
    }
  fclose(f);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* Q = V J(x) for the dipole p at x0 (see the header comment). */
static void dipole_weights(int64_t n, const double *x, const double *vol, const double x0[3], const double p[3],
                           double *q) {
  const double a = 0.005, vball = 4.0 / 3.0 * 3.14159265358979323846 * a * a * a;
  for (int64_t k = 0; k < n; k++) {
    double d[3] = {x[3 * k] - x0[0], x[3 * k + 1] - x0[1], x[3 * k + 2] - x0[2]};
    double dist = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]), dc = fmax(dist, a), pu = 0;
    double u[3] = {0, 0, 0};
    if (dist > 0)
      for (int c = 0; c < 3; c++) u[c] = d[c] / dist;
    for (int c = 0; c < 3; c++) pu += p[c] * u[c];
    for (int c = 0; c < 3; c++)
      q[3 * k + c] = vol[k] * ((3 * pu * u[c] - p[c]) / (4 * 3.14159265358979323846 * dc * dc * dc) +
                               (dist < a ? p[c] / vball : 0.0));
  }
}

/* Tangential unit vector to n. */
static void tangent(const double n[3], double t[3]) {
  double a[3] = {1, 0, 0};
  if (fabs(n[0]) > 0.9) a[0] = 0, a[1] = 1;
  double an = a[0] * n[0] + a[1] * n[1] + a[2] * n[2];
  double s = 0;
  for (int c = 0; c < 3; c++) {
    t[c] = a[c] - an * n[c];
    s += t[c] * t[c];
  }
  for (int c = 0; c < 3; c++) t[c] /= sqrt(s);
}


/* Sources binned on a grid of cubes of side h, to reject targets closer than
 * h to a source (the 27 cells around a target hold every such source). */
typedef struct grid {
  double lo[3], h;
  int64_t dim[3];
  int64_t *start, *item;
} grid;

static int grid_build(grid *g, int64_t n, const double *x, double h) {
  double hi[3];
  for (int c = 0; c < 3; c++) g->lo[c] = INFINITY, hi[c] = -INFINITY;
  for (int64_t k = 0; k < n; k++)
    for (int c = 0; c < 3; c++) g->lo[c] = fmin(g->lo[c], x[3 * k + c]), hi[c] = fmax(hi[c], x[3 * k + c]);
  g->h = h;
  int64_t cells = 1;
  for (int c = 0; c < 3; c++) {
    g->dim[c] = (int64_t)((hi[c] - g->lo[c]) / h) + 1;
    cells *= g->dim[c];
  }
  g->start = calloc((size_t)cells + 1, sizeof(int64_t));
  g->item = malloc(sizeof(int64_t) * (size_t)n);
  if (!g->start || !g->item) return 1;
  int64_t *cell = malloc(sizeof(int64_t) * (size_t)n);
  if (!cell) return 1;
  for (int64_t k = 0; k < n; k++) {
    int64_t i[3];
    for (int c = 0; c < 3; c++) i[c] = (int64_t)((x[3 * k + c] - g->lo[c]) / h);
    cell[k] = (i[2] * g->dim[1] + i[1]) * g->dim[0] + i[0];
    g->start[cell[k] + 1]++;
  }
  for (int64_t c = 0; c < cells; c++) g->start[c + 1] += g->start[c];
  int64_t *fill = malloc(sizeof(int64_t) * (size_t)cells);
  if (!fill) return 1;
  memcpy(fill, g->start, sizeof(int64_t) * (size_t)cells);
  for (int64_t k = 0; k < n; k++) g->item[fill[cell[k]]++] = k;
  free(fill);
  free(cell);
  return 0;
}

/* Distance from y to the nearest source if below g->h, else g->h. */
static double grid_near(const grid *g, const double *x, const double y[3]) {
  int64_t i[3];
  for (int c = 0; c < 3; c++) i[c] = (int64_t)floor((y[c] - g->lo[c]) / g->h);
  double best = g->h * g->h;
  for (int64_t a = i[2] - 1; a <= i[2] + 1; a++)
    for (int64_t b = i[1] - 1; b <= i[1] + 1; b++)
      for (int64_t c = i[0] - 1; c <= i[0] + 1; c++) {
        if (a < 0 || b < 0 || c < 0 || a >= g->dim[2] || b >= g->dim[1] || c >= g->dim[0]) continue;
        int64_t cell = (a * g->dim[1] + b) * g->dim[0] + c;
        for (int64_t j = g->start[cell]; j < g->start[cell + 1]; j++) {
          const double *s = x + 3 * g->item[j];
          double d2 = (s[0] - y[0]) * (s[0] - y[0]) + (s[1] - y[1]) * (s[1] - y[1]) + (s[2] - y[2]) * (s[2] - y[2]);
          best = fmin(best, d2);
        }
      }
  return sqrt(best);
}

typedef struct conf {
  tmsf_treecode_params p;
  double build[2][MAXREP], eval[2][MAXREP], build_cpu[2][MAXREP], eval_cpu[2][MAXREP];
  double errA, errB, maxA, maxB;
  int64_t boxes, proxy_boxes;
  double near, far; /* interactions per target */
} conf;

#define CHECKED(call)                                                                              \
  do {                                                                                             \
    int ierr_ = (call);                                                                            \
    if (ierr_) {                                                                                   \
      fprintf(stderr, "bench-treecode: %s failed: %s\n", #call, tmsf_context_last_error(ctx));     \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

static double rms_err(int64_t k, const int64_t *sel, const double *got, const double *want, double *mx) {
  double e = 0, s = 0, m = 0;
  for (int64_t i = 0; i < k; i++) {
    double ei = 0;
    for (int c = 0; c < 3; c++) {
      double g = got[3 * sel[i] + c], w = want[3 * i + c];
      ei += (g - w) * (g - w);
      s += w * w;
    }
    e += ei;
    m = fmax(m, ei);
  }
  *mx = sqrt(m / (s / (double)k));
  return sqrt(e / s);
}

int main(int argc, char **argv) {
  const char *head = NULL, *json_path = NULL;
  int64_t nsrc = 230000, m = 200000, ncheck = 2000;
  int repeat = 5, net = 0, single = 0, nthr = 0, thr[2] = {1, 2}, nconf = 0, leaf = 0, batch = 0, degree = 0, smoke = 0;
  double tols[MAXCONF], cth[MAXCONF] = {0}, theta = 0, clearance = 0.005;
  int cdeg[MAXCONF] = {0};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--head") && i + 1 < argc) head = argv[++i];
    else if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
    else if (!strcmp(argv[i], "--sources") && i + 1 < argc) nsrc = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--targets") && i + 1 < argc) m = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--check") && i + 1 < argc) ncheck = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      char *s = argv[++i], *end;
      nthr = 0;
      while (*s && nthr < 2) {
        thr[nthr++] = (int)strtol(s, &end, 10);
        s = *end == ',' ? end + 1 : end;
        if (end == s && *s) break;
      }
    } else if (!strcmp(argv[i], "--tolerance") && i + 1 < argc && nconf < MAXCONF) tols[nconf++] = atof(argv[++i]);
    else if (!strcmp(argv[i], "--config") && i + 1 < argc && nconf < MAXCONF) {
      tols[nconf] = 1e-4;
      if (sscanf(argv[++i], "%lf:%d", &cth[nconf], &cdeg[nconf]) != 2) {
        fprintf(stderr, "bench-treecode: --config THETA:DEGREE\n");
        return 2;
      }
      nconf++;
    } else if (!strcmp(argv[i], "--theta") && i + 1 < argc) theta = atof(argv[++i]);
    else if (!strcmp(argv[i], "--degree") && i + 1 < argc) degree = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--leaf") && i + 1 < argc) leaf = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--clearance") && i + 1 < argc) clearance = 1e-3 * atof(argv[++i]);
    else if (!strcmp(argv[i], "--single") && i + 1 < argc) single = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--net")) net = 1;
    else if (!strcmp(argv[i], "--smoke")) smoke = 1;
    else {
      fprintf(stderr, "usage: bench-treecode [--head default|FILE.msh] [--sources N] [--targets M] [--check K] "
                      "[--repeat R] [--threads 1,2] [--tolerance T ...] [--config THETA:DEGREE ...] [--theta TH --degree P] [--leaf L] "
                      "[--batch B] [--clearance MM] [--net] [--json OUT.json] [--smoke]\n");
      return 2;
    }
  }
  if (nthr == 0) nthr = 2;
  if (smoke) nsrc = 20000, m = 5000, ncheck = 200, repeat = 1;
  if (nconf == 0) tols[nconf++] = 1e-4;
  if (repeat < 1 || repeat > MAXREP || m < 1 || nsrc < 1 || ncheck < 1) {
    fprintf(stderr, "bench-treecode: --repeat 1..%d, positive sizes\n", MAXREP);
    return 2;
  }
  if (ncheck > m) ncheck = m;

  tmsf_context *ctx;
  if (tmsf_context_create(&ctx)) return 1;
  double *x = NULL, *vol = NULL, *r = malloc(sizeof(double) * 3 * (size_t)m);
  double x0[3], p[3], *surf = NULL; /* surface points and outward normals, 6 each */
  int64_t nsurf = 0;
  char geometry[512];
  if (head) {
    tmsf_mesh *mesh;
    CHECKED(tmsf_head_open(ctx, head, &mesh));
    int64_t nn, ne, ns;
    const double *nodes, *normals;
    const int32_t *tets, *tags, *snodes;
    tmsf_mesh_get_sizes(mesh, &nn, &ne, NULL);
    tmsf_mesh_get_nodes(mesh, &nodes);
    tmsf_mesh_get_tetrahedra(mesh, &tets, &tags);
    CHECKED(tmsf_mesh_get_scalp(mesh, &ns, &snodes, &normals));
    nsrc = nn;
    x = malloc(sizeof(double) * 3 * (size_t)nn);
    vol = calloc((size_t)nn, sizeof(double));
    double *tv = malloc(sizeof(double) * (size_t)ne);
    memcpy(x, nodes, sizeof(double) * 3 * (size_t)nn);
    CHECKED(tmsf_mesh_get_volumes(mesh, tv));
    for (int64_t e = 0; e < ne; e++)
      for (int v = 0; v < 4; v++) vol[tets[4 * e + v]] += 0.25 * fabs(tv[e]);
    free(tv);
    /* the dipole 20 mm under the highest scalp node, tangential */
    int64_t top = 0;
    for (int64_t s = 1; s < ns; s++)
      if (nodes[3 * snodes[s] + 2] > nodes[3 * snodes[top] + 2]) top = s;
    for (int c = 0; c < 3; c++) x0[c] = nodes[3 * snodes[top] + c] - 0.020 * normals[3 * top + c];
    tangent(normals + 3 * top, p);
    surf = malloc(sizeof(double) * 6 * (size_t)ns);
    for (int64_t k = 0; k < ns; k++)
      if (normals[3 * k + 2] >= -0.3) {
        for (int c = 0; c < 3; c++) {
          surf[6 * nsurf + c] = nodes[3 * snodes[k] + c];
          surf[6 * nsurf + 3 + c] = normals[3 * k + c];
        }
        nsurf++;
      }
    snprintf(geometry, sizeof(geometry), "head %s: %lld nodes, %lld tetrahedra, %lld scalp nodes", head,
             (long long)nn, (long long)ne, (long long)ns);
    tmsf_mesh_destroy(&mesh);
  } else {
    const double ax[3] = {0.075, 0.090, 0.100};
    x = malloc(sizeof(double) * 3 * (size_t)nsrc);
    vol = malloc(sizeof(double) * (size_t)nsrc);
    for (int64_t k = 0; k < nsrc; k++) {
      double u[3], s2;
      do {
        s2 = 0;
        for (int c = 0; c < 3; c++) u[c] = 2 * urand() - 1, s2 += u[c] * u[c];
      } while (s2 > 1);
      for (int c = 0; c < 3; c++) x[3 * k + c] = ax[c] * u[c];
      vol[k] = 1e-9;
    }
    const double ntop[3] = {0, 0, 1};
    for (int c = 0; c < 3; c++) x0[c] = (c == 2 ? ax[2] - 0.020 : 0.0);
    tangent(ntop, p);
    surf = malloc(sizeof(double) * 6 * 100000);
    for (nsurf = 0; nsurf < 100000; nsurf++) {
      double u[3], s2 = 0, nrm[3], nn2 = 0;
      do {
        s2 = 0;
        for (int c = 0; c < 3; c++) u[c] = 2 * urand() - 1, s2 += u[c] * u[c];
      } while (s2 > 1 || s2 < 1e-6 || u[2] / sqrt(s2) < -0.3);
      for (int c = 0; c < 3; c++) {
        u[c] /= sqrt(s2);
        nrm[c] = u[c] / ax[c];
        nn2 += nrm[c] * nrm[c];
      }
      for (int c = 0; c < 3; c++) {
        surf[6 * nsurf + c] = ax[c] * u[c];
        surf[6 * nsurf + 3 + c] = nrm[c] / sqrt(nn2);
      }
    }
    snprintf(geometry, sizeof(geometry), "ellipsoid 75 x 90 x 100 mm, %lld random nodes", (long long)nsrc);
  }
  /* targets: 5-30 mm out along the normal of a random surface point, kept
   * when no source is nearer than the clearance */
  grid g;
  if (grid_build(&g, nsrc, x, clearance)) {
    fprintf(stderr, "bench-treecode: out of memory\n");
    return 1;
  }
  int64_t rejected = 0;
  for (int64_t i = 0; i < m; i++) {
    double y[3];
    do {
      const double *sp = surf + 6 * (int64_t)(urand() * (double)nsurf);
      double h = 0.005 + 0.025 * urand();
      for (int c = 0; c < 3; c++) y[c] = sp[c] + h * sp[3 + c];
    } while (grid_near(&g, x, y) < clearance && ++rejected < 1000 * m);
    if (rejected >= 1000 * m) {
      fprintf(stderr, "bench-treecode: no target position clears %g mm\n", clearance * 1e3);
      return 1;
    }
    memcpy(r + 3 * i, y, sizeof(y));
  }
  free(g.start);
  free(g.item);
  free(surf);
  printf("targets: %lld candidates nearer than %.1f mm to a source rejected\n", (long long)rejected, clearance * 1e3);
  double *q = malloc(sizeof(double) * 3 * (size_t)nsrc);
  dipole_weights(nsrc, x, vol, x0, p, q);
  if (!net) { /* closed currents, as the adjoint weights are: sum Q = 0 */
    double sq[3] = {0, 0, 0}, sv = 0;
    for (int64_t k = 0; k < nsrc; k++) {
      sv += vol[k];
      for (int c = 0; c < 3; c++) sq[c] += q[3 * k + c];
    }
    for (int64_t k = 0; k < nsrc; k++)
      for (int c = 0; c < 3; c++) q[3 * k + c] -= vol[k] * sq[c] / sv;
  }
  free(vol);
  printf("%s; %lld targets, %lld checked against the direct sum\n", geometry, (long long)m, (long long)ncheck);

  /* the reference on a random subset */
  int64_t *sel = malloc(sizeof(int64_t) * (size_t)ncheck);
  double *rc = malloc(sizeof(double) * 3 * (size_t)ncheck);
  double *Ad = malloc(sizeof(double) * 3 * (size_t)ncheck), *Bd = malloc(sizeof(double) * 3 * (size_t)ncheck);
  for (int64_t i = 0; i < ncheck; i++) {
    sel[i] = (int64_t)(urand() * (double)m);
    memcpy(rc + 3 * i, r + 3 * sel[i], sizeof(double) * 3);
  }
  double dmin = INFINITY;
  for (int64_t i = 0; i < ncheck; i++)
    for (int64_t k = 0; k < nsrc; k++) {
      double d2 = 0;
      for (int c = 0; c < 3; c++) d2 += (rc[3 * i + c] - x[3 * k + c]) * (rc[3 * i + c] - x[3 * k + c]);
      dmin = fmin(dmin, d2);
    }
  dmin = sqrt(dmin);
  double direct_s[2];
  for (int ti = 0; ti < nthr; ti++) {
    CHECKED(tmsf_context_set_threads(ctx, thr[ti]));
    double t0 = now();
    CHECKED(tmsf_treecode_direct(ctx, nsrc, x, q, ncheck, rc, Ad, Bd));
    direct_s[ti] = (now() - t0) / (double)ncheck;
    printf("direct sum, %d thread(s): %.3g s per target (%.1f s for all %lld)\n", thr[ti], direct_s[ti],
           direct_s[ti] * (double)m, (long long)m);
  }
  printf("nearest source to a checked target: %.2f mm\n", dmin * 1e3);

  conf *cf = calloc((size_t)nconf, sizeof(conf));
  double *A = malloc(sizeof(double) * 3 * (size_t)m), *B = malloc(sizeof(double) * 3 * (size_t)m);
  for (int ci = 0; ci < nconf; ci++) {
    conf *c = &cf[ci];
    CHECKED(tmsf_treecode_params_for_tolerance(ctx, tols[ci], &c->p));
    if (cth[ci] > 0) c->p.theta = cth[ci], c->p.degree = cdeg[ci];
    if (theta > 0) c->p.theta = theta;
    if (degree > 0) c->p.degree = degree;
    if (leaf > 0) c->p.leaf_size = leaf;
    if (batch > 0) c->p.batch_size = batch;
    if (single) c->p.single = single;
    for (int ti = 0; ti < nthr; ti++) {
      CHECKED(tmsf_context_set_threads(ctx, thr[ti]));
      for (int rep = 0; rep < repeat; rep++) {
        tmsf_treecode *tree;
        double t0 = now(), c0 = cpu_now();
        CHECKED(tmsf_treecode_create(ctx, nsrc, x, q, &c->p, &tree));
        c->build_cpu[ti][rep] = cpu_now() - c0;
        double t1 = now(), c1 = cpu_now();
        CHECKED(tmsf_treecode_eval(tree, m, r, A, B));
        double t2 = now();
        c->eval_cpu[ti][rep] = cpu_now() - c1;
        c->build[ti][rep] = t1 - t0;
        c->eval[ti][rep] = t2 - t1;
        tmsf_treecode_get_info(tree, NULL, &c->boxes, &c->proxy_boxes);
        if (rep == 0 && ti == 0) CHECKED(tmsf_treecode_count(tree, m, r, &c->near, &c->far));
        tmsf_treecode_destroy(&tree);
      }
    }
    c->errA = rms_err(ncheck, sel, A, Ad, &c->maxA);
    c->errB = rms_err(ncheck, sel, B, Bd, &c->maxB);
    printf("tol %.0e theta %.2f degree %d leaf %d batch %d single %d (%lld boxes, %lld with proxies; per target %.0f "
           "direct + %.0f proxy interactions): A %.2e (max %.2e), B %.2e (max %.2e)\n",
           c->p.tolerance, c->p.theta, c->p.degree, c->p.leaf_size, c->p.batch_size, c->p.single, (long long)c->boxes,
           (long long)c->proxy_boxes, c->near, c->far, c->errA, c->maxA, c->errB, c->maxB);
    for (int ti = 0; ti < nthr; ti++)
      printf("  %d thread(s): build %.3f s (CPU %.3f s), eval %.3f s (median of %d; eval min %.3f max %.3f; CPU %.3f s), "
             "total %.3f s\n",
             thr[ti], median(repeat, c->build[ti]), median(repeat, c->build_cpu[ti]), median(repeat, c->eval[ti]), repeat,
             vmin(repeat, c->eval[ti]), vmax(repeat, c->eval[ti]), median(repeat, c->eval_cpu[ti]),
             median(repeat, c->build[ti]) + median(repeat, c->eval[ti]));
  }

  if (json_path) {
    FILE *f = fopen(json_path, "w");
    if (!f) {
      fprintf(stderr, "bench-treecode: cannot write %s\n", json_path);
      return 1;
    }
    time_t now_t = time(NULL);
    char date[64], cpu[256];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now_t));
    cpu_model(cpu, sizeof(cpu));
    fprintf(f, "{\n  \"benchmark\": \"treecode\",\n  \"commit\": \"%s\",\n  \"version\": \"%s\",\n", TMSF_GIT_COMMIT,
            tmsf_version());
    fprintf(f, "  \"build\": \"%s\",\n  \"date\": \"%s\",\n  \"cpu\": \"%s\",\n", tmsf_build_info(), date, cpu);
    fprintf(f, "  \"zero_sum_weights\": %s,\n", net ? "false" : "true");
    fprintf(f, "  \"geometry\": \"%s\",\n  \"sources\": %lld,\n  \"targets\": %lld,\n  \"checked_targets\": %lld,\n",
            geometry, (long long)nsrc, (long long)m, (long long)ncheck);
    fprintf(f, "  \"nearest_source_mm\": %.4f,\n  \"repeat\": %d,\n  \"direct\": [", dmin * 1e3, repeat);
    for (int ti = 0; ti < nthr; ti++)
      fprintf(f, "%s{\"threads\": %d, \"s_per_target\": %.6g, \"estimated_total_s\": %.6g}", ti ? ", " : "",
              thr[ti], direct_s[ti], direct_s[ti] * (double)m);
    fprintf(f, "],\n  \"runs\": [\n");
    for (int ci = 0; ci < nconf; ci++) {
      conf *c = &cf[ci];
      fprintf(f, "    {\"tolerance\": %g, \"theta\": %g, \"degree\": %d, \"leaf_size\": %d, \"batch_size\": %d, "
                 "\"single\": %d,\n",
              c->p.tolerance, c->p.theta, c->p.degree, c->p.leaf_size, c->p.batch_size, c->p.single);
      fprintf(f, "     \"boxes\": %lld, \"proxy_boxes\": %lld, \"direct_per_target\": %.1f, \"proxy_per_target\": %.1f,\n",
              (long long)c->boxes, (long long)c->proxy_boxes, c->near, c->far);
      fprintf(f, "     \"error_A_rms\": %.4g, \"error_A_max\": %.4g, \"error_B_rms\": %.4g, \"error_B_max\": %.4g,\n",
              c->errA, c->maxA, c->errB, c->maxB);
      fprintf(f, "     \"timings\": [");
      for (int ti = 0; ti < nthr; ti++) {
        fprintf(f, "%s\n       {\"threads\": %d, \"build_median_s\": %.6g, \"eval_median_s\": %.6g, "
                   "\"total_median_s\": %.6g, \"eval_samples_s\": [",
                ti ? "," : "", thr[ti], median(repeat, c->build[ti]), median(repeat, c->eval[ti]),
                median(repeat, c->build[ti]) + median(repeat, c->eval[ti]));
        for (int rep = 0; rep < repeat; rep++) fprintf(f, "%s%.6g", rep ? ", " : "", c->eval[ti][rep]);
        fprintf(f, "], \"eval_cpu_median_s\": %.6g, \"build_cpu_median_s\": %.6g, \"build_samples_s\": [",
                median(repeat, c->eval_cpu[ti]), median(repeat, c->build_cpu[ti]));
        for (int rep = 0; rep < repeat; rep++) fprintf(f, "%s%.6g", rep ? ", " : "", c->build[ti][rep]);
        fprintf(f, "]}");
      }
      fprintf(f, "]}%s\n", ci + 1 < nconf ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    fclose(f);
    printf("wrote %s\n", json_path);
  }
  int bad = 0;
  for (int ci = 0; ci < nconf; ci++) {
    const conf *c = &cf[ci];
    /* a --tolerance configuration must meet its tolerance */
    if (!(isfinite(c->errA) && isfinite(c->errB)) ||
        (!cth[ci] && theta == 0 && degree == 0 && fmax(c->errA, c->errB) > c->p.tolerance)) {
      fprintf(stderr, "bench-treecode: tolerance %g: errors A %.3g, B %.3g\n", c->p.tolerance, c->errA, c->errB);
      bad = 1;
    }
  }
  free(cf);
  free(A);
  free(B);
  free(sel);
  free(rc);
  free(Ad);
  free(Bd);
  free(x);
  free(q);
  free(r);
  tmsf_context_destroy(&ctx);
  return bad;
}

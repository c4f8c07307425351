/*
 * SPDX-License-Identifier: BSD-3-Clause
 * treecode.h: fast sums of the reciprocity fields (internal, never installed).
 *
 * For N sources x_n with vector weights Q_n and M targets r_m:
 *
 *   A(r) = sum_n Q_n / |r - x_n|                      (3 components)
 *   B(r) = sum_n Q_n x (r - x_n) / |r - x_n|^3        (= curl A)
 *
 * without the mu0 / (4 pi) factor (the caller multiplies).  A target closer
 * than tiny = 1e-12 S to a source skips that source, S being the sources'
 * size (the largest extent of their bounding box, or of their coordinates
 * when that is 0).
 *
 * Method: a barycentric Lagrange treecode (Wang, Tlupova and Krasny,
 * "A kernel-independent treecode based on barycentric Lagrange
 * interpolation", Commun. Comput. Phys. 28 (2020) 1415-1436).  The sources
 * are sorted into a tree of boxes (each box split at its midpoint along every
 * side longer than 1/sqrt(2) of its longest side, into 2, 4 or 8 children).
 * The weights of a box are interpolated onto a tensor grid of (p+1)^3
 * Chebyshev points of the second kind over the box (proxy charges
 * Qhat_k = sum_n L_k(x_n) Q_n, L_k the Lagrange basis in barycentric form).
 * The targets are sorted into batches (the leaves of a tree built the same
 * way); a box of radius r_c (half its diagonal) is used through its proxy
 * charges for a batch of radius r_b whose centre is at distance d when
 * r_c < theta (d - r_b), i.e. every target of the batch is farther than
 * r_c / theta from the box centre (and the box holds more sources than
 * proxies; a smaller box is summed directly), else its children are tried,
 * and leaves are summed directly.  Proxy and direct sums are the same kernel,
 * so B is exactly the curl of the approximated A.
 *
 * Determinism: the tree, the batches and each batch's interaction list are
 * built serially; threads share out whole batches, and each target's sum is
 * accumulated in the list's order, so results are bitwise independent of the
 * thread count (on one machine and build).
 *
 * Why this method: the same SIMD kernel serves near and far sums, B comes
 * out as the exact curl of the approximated A, the proxy charges of the
 * three components are built in one pass, and the error is set by two
 * numbers (theta, p) with a measured table; unlike a Cartesian multipole
 * code there are no per-order derivative recurrences to get right.  Far sums
 * run in single precision where the tolerance allows: about 1.7x faster,
 * and their rounding stays near 1e-7 (measured with theta 0.45, p = 12 on
 * the head below: 1.7e-7 for A, 5e-8 for B, against 5e-12 and 3e-11 in
 * double precision).
 *
 * Accuracy: relative error = RMS over targets of |error| / RMS over targets
 * of |exact| (max: the largest |error| over that RMS).  Measured by
 * benchmarks/bench-treecode.c with 200,000 targets 5-30 mm out along the
 * surface normals and >= 5 mm from every source, 2000 of them checked
 * against the direct sum, dipole-like weights with sum Q = 0
 * (benchmarks/results/treecode-{head,ellipsoid}-accuracy.json), with the
 * tolerance table of tmsf_treecode_params_for_tolerance:
 *
 *   head: the built-in head's 225,651 nodes as sources
 *   tolerance theta p  far     interactions/target  A: RMS (max)        B: RMS (max)
 *   1e-2      0.7   4  single    931 + 5202         6.7e-4 (5.7e-3)     1.9e-3 (1.8e-2)
 *   1e-3      0.55  4  single   1937 + 8621         1.2e-4 (8.3e-4)     3.2e-4 (2.6e-3)
 *   1e-4      0.65  7  single   4597 + 18035        2.6e-6 (2.2e-5)     1.3e-5 (1.8e-4)
 *   1e-5      0.6   8  single   8313 + 27122        4.5e-7 (4.7e-6)     2.0e-6 (2.6e-5)
 *   1e-6      0.5   8  double  13644 + 38920        5.0e-8 (4.0e-7)     2.1e-7 (2.1e-6)
 *   1e-7      0.5  10  double  40052 + 34109        1.0e-9 (1.6e-8)     5.9e-9 (9.0e-8)
 *   1e-9      0.4  10  double  70804 + 39697        5.8e-11 (9.4e-10)   2.5e-10 (2.8e-9)
 *
 *   ellipsoid: 230,000 random points in an ellipsoid of 75 x 90 x 100 mm
 *   1e-2      0.7   4  single   1239 + 5623         8.9e-4 (1.1e-2)     4.0e-3 (4.9e-2)
 *   1e-3      0.55  4  single   2837 + 9134         2.0e-4 (1.3e-3)     7.6e-4 (6.2e-3)
 *   1e-4      0.65  7  single   3579 + 21980        6.1e-6 (4.8e-5)     2.7e-5 (2.9e-4)
 *   1e-5      0.6   8  single   7749 + 32693        1.5e-6 (1.1e-5)     7.6e-6 (6.6e-5)
 *   1e-6      0.5   8  double  12272 + 47349        1.6e-7 (1.1e-6)     7.4e-7 (8.9e-6)
 *   1e-7      0.5  10  double  36225 + 48449        3.8e-9 (5.7e-8)     2.1e-8 (2.6e-7)
 *   1e-9      0.4  10  double  66618 + 56305        1.2e-10 (1.3e-9)    7.1e-10 (6.9e-9)
 *
 * (interactions: with sources + with proxies, the proxy blocks padded to a
 * multiple of 16; the direct sum has all N.)
 * The largest error over the targets is about 10 times the RMS, and that of
 * B 3-5 times that of A (a derivative).  On the sphere3 and random-ball
 * geometries of tests/t-treecode.c the errors are lower still.  The cost is
 * about proportional to the interactions, a single-precision one costing
 * about half a double one.
 */
#ifndef TMSF_TREECODE_H
#define TMSF_TREECODE_H

#include "tmsf-impl.h"

/* Parameters; a zeroed struct means "defaults" (tolerance 1e-4). */
typedef struct tmsf_treecode_params {
  double tolerance; /* wanted relative error of A and B (definition above); 0: 1e-4.
                       Sets theta and degree where they are 0. */
  double theta;     /* opening parameter in (0, 1): r_c < theta (d - r_b); 0: from tolerance */
  int degree;       /* Chebyshev degree p per axis, 1..16 ((p+1)^3 proxies); 0: from tolerance */
  int leaf_size;    /* most sources in a leaf box; 0: default */
  int batch_size;   /* most targets in a batch; 0: default */
  int single;       /* proxy (far-field) sums in single precision: 1 yes, -1 no,
                       0: yes when tolerance >= 1e-5 (their rounding is ~2e-7, see below) */
} tmsf_treecode_params;

/* The tree of the sources with their proxy charges (build once, evaluate many). */
typedef struct tmsf_treecode tmsf_treecode;

/* theta, degree and the far-field precision for a wanted relative error
 * tol (> 0) from the measured table; leaf and batch sizes are the defaults.  Tolerances below the table's
 * smallest entry get its most accurate entry (TMSF_ERR_ARGUMENT for tol <= 0
 * or not finite). */
int tmsf_treecode_params_for_tolerance(tmsf_context *ctx, double tol, tmsf_treecode_params *params);

/* Build the tree of n >= 0 sources x (3n, m) with weights q (3n); both are
 * copied.  params may be NULL (defaults).  Non-finite input fails with
 * TMSF_ERR_ARGUMENT naming the first bad source. */
int tmsf_treecode_create(tmsf_context *ctx, int64_t n, const double *x, const double *q,
                         const tmsf_treecode_params *params, tmsf_treecode **tree);

/* A and/or B (3m each; either may be NULL) at m >= 0 targets r (3m, m).
 * Threads: the context's.  Safe to call from several threads at once. */
int tmsf_treecode_eval(const tmsf_treecode *tree, int64_t m, const double *r, double *A, double *B);

/* Frees the tree; accepts NULL and *tree == NULL, sets *tree to NULL. */
void tmsf_treecode_destroy(tmsf_treecode **tree);

/* The parameters in use (defaults and tolerance resolved), the number of
 * boxes and the number with proxy charges (any may be NULL). */
int tmsf_treecode_get_info(const tmsf_treecode *tree, tmsf_treecode_params *params,
                           int64_t *num_boxes, int64_t *num_proxy_boxes);

/* Mean number of source-target interactions per target for these targets:
 * with sources (near) and with proxies (far); the cost model. */
int tmsf_treecode_count(const tmsf_treecode *tree, int64_t m, const double *r, double *near, double *far);

/* One call: create, eval, destroy. */
int tmsf_treecode_evaluate(tmsf_context *ctx, int64_t n, const double *x, const double *q, int64_t m,
                           const double *r, const tmsf_treecode_params *params, double *A, double *B);

/* The direct O(n m) sum (same conventions, same coincidence rule), threaded
 * over targets; the reference for tests and benchmarks. */
int tmsf_treecode_direct(tmsf_context *ctx, int64_t n, const double *x, const double *q, int64_t m,
                         const double *r, double *A, double *B);

#endif /* TMSF_TREECODE_H */

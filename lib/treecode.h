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
 * way); a box of radius r_c is used through its proxy charges for a batch of
 * radius r_b whose centre is at distance d when r_b + r_c <= theta d (and the
 * box holds more sources than proxies), else its children are tried, and
 * leaves are summed directly.  Proxy and direct sums are the same kernel,
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
 * benchmarks/bench-treecode.c on the built-in head (225,651 nodes as
 * sources, dipole-like weights with sum Q = 0, 200,000 targets 5-30 mm above
 * the scalp and >= 5 mm from every node, 2000 of them checked against the
 * direct sum; benchmarks/results/treecode-head-accuracy.json), with the
 * tolerance table of tmsf_treecode_params_for_tolerance:
 *
 *   tolerance theta p  far    interactions/target   A: RMS (max)        B: RMS (max)
 *   1e-2      0.7   4  single   931 + 5080           6.7e-4 (5.7e-3)     1.9e-3 (1.8e-2)
 *   1e-3      0.6   4  single  1482 + 6966           2.3e-4 (2.2e-3)     5.9e-4 (5.6e-3)
 *   1e-4      0.6   6  single  3621 + 15767          7.7e-6 (9.7e-5)     3.3e-5 (5.4e-4)
 *   1e-5      0.6   7  single  5659 + 21045          1.2e-6 (1.4e-5)     5.1e-6 (6.8e-5)
 *   1e-6      0.5   8  double 13644 + 38550          5.0e-8 (4.0e-7)     2.1e-7 (2.1e-6)
 *   1e-8      0.5  10  double 40052 + 33779          1.0e-9 (1.6e-8)     5.9e-9 (9.0e-8)
 *   1e-9      0.4  10  double 70804 + 39313          5.8e-11 (9.4e-10)   2.5e-10 (2.8e-9)
 *
 * (interactions: with sources + with proxies; the direct sum has 225,651.)
 * The largest error over targets is about 10 times the RMS.  On the
 * sphere3 and random-ball geometries of tests/t-treecode.c the errors are
 * lower still.  The error of B exceeds that of A by 3-5x (a derivative).
 */
#ifndef TMSF_TREECODE_H
#define TMSF_TREECODE_H

#include "tmsf-impl.h"

/* Parameters; a zeroed struct means "defaults" (tolerance 1e-4). */
typedef struct tmsf_treecode_params {
  double tolerance; /* wanted relative error of A and B (definition above); 0: 1e-4.
                       Sets theta and degree where they are 0. */
  double theta;     /* opening parameter in (0, 1): r_b + r_c <= theta d; 0: from tolerance */
  int degree;       /* Chebyshev degree p per axis, 1..16 ((p+1)^3 proxies); 0: from tolerance */
  int leaf_size;    /* most sources in a leaf box; 0: default */
  int batch_size;   /* most targets in a batch; 0: default */
  int single;       /* proxy (far-field) sums in single precision: 1 yes, -1 no,
                       0: yes when tolerance >= 1e-5 (their rounding is ~2e-7, see below) */
} tmsf_treecode_params;

/* The tree of the sources with their proxy charges (build once, evaluate many). */
typedef struct tmsf_treecode tmsf_treecode;

/* theta and degree for a wanted relative error tol (> 0) from the measured
 * table; leaf and batch sizes are the defaults.  Tolerances below the table's
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

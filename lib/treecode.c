/*
 * SPDX-License-Identifier: BSD-3-Clause
 * treecode.c: barycentric Lagrange treecode for the reciprocity fields
 * A = sum Q / |r - x| and B = sum Q x (r - x) / |r - x|^3 (see treecode.h).
 *
 * Layout: the sources are copied in tree order as six blocks of n doubles
 * (x, y, z, qx, qy, qz), and each box with proxy charges owns a block of
 * 6 * proxy_len doubles laid out the same way, so that near (direct) and far
 * (proxy) interactions are one SIMD kernel over a structure of arrays.  In
 * single-precision mode a float copy of each proxy block, points relative to
 * the box centre, feeds the float version of that kernel.
 */
#include "treecode.h"

#include <string.h>

#define TC_MAX_DEGREE 16
#define TC_MAX_DEPTH 96
#define TC_STACK (8 * TC_MAX_DEPTH + 8)
/* A target closer than TC_TINY * size to a source skips it. */
#define TC_TINY 1e-12
/* A box side shorter than TC_FLAT * size is flat: degree 0 along it, and a
 * box flat along every side is a leaf. */
#define TC_FLAT 1e-10
#define TC_DEFAULT_TOLERANCE 1e-4
#define TC_DEFAULT_LEAF 128
#define TC_DEFAULT_BATCH 32
/* Far field in single precision from this tolerance up (see treecode.h). */
#define TC_SINGLE_TOLERANCE 1e-5

/* The hot loops are built for AVX-512, AVX2 and plain x86-64, chosen at run time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define TC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TC_CLONES
#endif

typedef struct tc_node {
  int64_t begin, end; /* points [begin, end) in tree order */
  double lo[3], hi[3]; /* tight bounding box */
  double centre[3], radius; /* of the box (radius: half its diagonal) */
  int32_t first_child, num_children; /* children are consecutive nodes */
  int32_t deg[3];      /* interpolation degree per axis (0 along flat sides) */
  int32_t num_proxy;   /* prod (deg + 1) */
  int32_t proxy_len;   /* num_proxy rounded up to a multiple of TC_LANES (the block's stride) */
  int64_t proxy;       /* offset of the proxy block in tree->proxy, -1: none */
} tc_node;

struct tmsf_treecode {
  tmsf_context *ctx;
  tmsf_treecode_params params; /* resolved */
  int64_t n;
  double *src; /* 6n: x, y, z, qx, qy, qz in tree order */
  tc_node *nodes;
  int64_t num_nodes;
  double *proxy;   /* proxy blocks, 6 * proxy_len doubles per box */
  float *proxyf;   /* the same in single precision, points relative to the box centre (or NULL),
                      points divided by fx and charges by fq (so that float neither overflows
                      nor underflows whatever the units) */
  double fx, fq;
  int64_t num_proxy_boxes;
  double tiny, tiny2; /* coincidence distance and its square */
};

/* ------------------------------------------------------------------------- */
/* Parameters                                                                */
/* ------------------------------------------------------------------------- */

/* Measured with benchmarks/bench-treecode.c on the built-in head and on a
 * random ellipsoid (treecode.h has the numbers): the larger of the RMS
 * relative errors of A and B stays below tol by a factor 1.3 or more on
 * both (3 or more on the head) with these theta and degree.  Ordered from
 * loose to tight; a tolerance gets the first entry at or below it. */
static const struct {
  double tol, theta;
  int degree;
} tc_table[] = {
    {1e-2, 0.7, 4}, {1e-3, 0.55, 4}, {1e-4, 0.65, 7}, {1e-5, 0.6, 8}, {1e-6, 0.5, 8}, {1e-7, 0.5, 10}, {1e-9, 0.4, 10},
};
#define TC_TABLE_LEN ((int)(sizeof(tc_table) / sizeof(tc_table[0])))

static void table_lookup(double tol, double *theta, int *degree) {
  int i = 0;
  while (i < TC_TABLE_LEN - 1 && tc_table[i].tol > tol) i++;
  *theta = tc_table[i].theta;
  *degree = tc_table[i].degree;
}

int tmsf_treecode_params_for_tolerance(tmsf_context *ctx, double tol, tmsf_treecode_params *params) {
  if (!params) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: params is NULL");
  if (!(tol > 0.0) || !isfinite(tol))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: tolerance %g is not a positive finite number", tol);
  memset(params, 0, sizeof(*params));
  params->tolerance = tol;
  table_lookup(tol, &params->theta, &params->degree);
  params->leaf_size = TC_DEFAULT_LEAF;
  params->batch_size = TC_DEFAULT_BATCH;
  params->single = tol >= TC_SINGLE_TOLERANCE ? 1 : -1;
  return TMSF_SUCCESS;
}

static int resolve_params(tmsf_context *ctx, const tmsf_treecode_params *in, tmsf_treecode_params *out) {
  tmsf_treecode_params p;
  memset(&p, 0, sizeof(p));
  if (in) p = *in;
  if (p.tolerance == 0.0) p.tolerance = TC_DEFAULT_TOLERANCE;
  if (!(p.tolerance > 0.0) || !isfinite(p.tolerance))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: tolerance %g is not a positive finite number",
                      p.tolerance);
  double theta;
  int degree;
  table_lookup(p.tolerance, &theta, &degree);
  if (p.theta == 0.0) p.theta = theta;
  if (p.degree == 0) p.degree = degree;
  if (p.leaf_size == 0) p.leaf_size = TC_DEFAULT_LEAF;
  if (p.batch_size == 0) p.batch_size = TC_DEFAULT_BATCH;
  if (p.single == 0) p.single = p.tolerance >= TC_SINGLE_TOLERANCE ? 1 : -1;
  if (p.single != 1 && p.single != -1)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: single %d is not -1, 0 or 1", p.single);
  if (!(p.theta > 0.0 && p.theta < 1.0))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: theta %g is not in (0, 1)", p.theta);
  if (p.degree < 1 || p.degree > TC_MAX_DEGREE)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: degree %d is not in 1..%d", p.degree, TC_MAX_DEGREE);
  if (p.leaf_size < 1 || p.leaf_size > (1 << 24))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: leaf size %d is not in 1..%d", p.leaf_size, 1 << 24);
  if (p.batch_size < 1 || p.batch_size > 4096)
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: batch size %d is not in 1..4096", p.batch_size);
  *out = p;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Trees                                                                     */
/* ------------------------------------------------------------------------- */

typedef struct tc_builder {
  const double *pts; /* 3 per point, caller's order */
  int64_t *idx;      /* permutation, sorted into tree order */
  int64_t *tmp;
  int64_t leaf;
  double flat; /* absolute flat side length */
  tc_node *nodes;
  int64_t num, cap;
} tc_builder;

static void node_box(const tc_builder *b, tc_node *nd) {
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int64_t i = nd->begin; i < nd->end; i++) {
    const double *p = b->pts + 3 * b->idx[i];
    for (int d = 0; d < 3; d++) {
      if (p[d] < lo[d]) lo[d] = p[d];
      if (p[d] > hi[d]) hi[d] = p[d];
    }
  }
  double r2 = 0.0;
  for (int d = 0; d < 3; d++) {
    nd->lo[d] = lo[d];
    nd->hi[d] = hi[d];
    nd->centre[d] = 0.5 * (lo[d] + hi[d]);
    r2 += 0.25 * (hi[d] - lo[d]) * (hi[d] - lo[d]);
  }
  nd->radius = sqrt(r2);
}

/* Append a node for points [begin, end); its index, or -1 out of memory. */
static int64_t add_node(tc_builder *b, int64_t begin, int64_t end) {
  if (b->num == b->cap) {
    int64_t cap = b->cap ? 2 * b->cap : 64;
    tc_node *v = realloc(b->nodes, (size_t)cap * sizeof(tc_node));
    if (!v) return -1;
    b->nodes = v;
    b->cap = cap;
  }
  tc_node *nd = &b->nodes[b->num];
  memset(nd, 0, sizeof(*nd));
  nd->begin = begin;
  nd->end = end;
  nd->proxy = -1;
  node_box(b, nd);
  return b->num++;
}

/* Split node k (and its children) unless it is a leaf; 0, or -1 out of memory. */
static int split_node(tc_builder *b, int64_t k, int depth) {
  const tc_node nd = b->nodes[k];
  int64_t count = nd.end - nd.begin;
  double ext[3], maxe = 0.0;
  for (int d = 0; d < 3; d++) {
    ext[d] = nd.hi[d] - nd.lo[d];
    if (ext[d] > maxe) maxe = ext[d];
  }
  if (count <= b->leaf || maxe <= b->flat || depth >= TC_MAX_DEPTH) return 0;
  int cut[3];
  double mid[3];
  for (int d = 0; d < 3; d++) {
    cut[d] = ext[d] > b->flat && ext[d] >= maxe * 0.70710678118654752;
    mid[d] = nd.centre[d];
  }
  /* stable counting sort by child code (bit d: at or above the midpoint along d) */
  int64_t cnt[8] = {0};
  for (int64_t i = nd.begin; i < nd.end; i++) {
    const double *p = b->pts + 3 * b->idx[i];
    int c = 0;
    for (int d = 0; d < 3; d++)
      if (cut[d] && p[d] >= mid[d]) c |= 1 << d;
    cnt[c]++;
  }
  int64_t start[8], pos = nd.begin;
  int nonempty = 0;
  for (int c = 0; c < 8; c++) {
    start[c] = pos;
    pos += cnt[c];
    nonempty += cnt[c] > 0;
  }
  if (nonempty < 2) return 0;
  int64_t fill[8];
  memcpy(fill, start, sizeof(fill));
  for (int64_t i = nd.begin; i < nd.end; i++) {
    const double *p = b->pts + 3 * b->idx[i];
    int c = 0;
    for (int d = 0; d < 3; d++)
      if (cut[d] && p[d] >= mid[d]) c |= 1 << d;
    b->tmp[fill[c]++] = b->idx[i];
  }
  memcpy(b->idx + nd.begin, b->tmp + nd.begin, (size_t)count * sizeof(int64_t));
  int64_t first = b->num;
  for (int c = 0; c < 8; c++)
    if (cnt[c] > 0 && add_node(b, start[c], start[c] + cnt[c]) < 0) return -1;
  b->nodes[k].first_child = (int32_t)first;
  b->nodes[k].num_children = nonempty;
  for (int j = 0; j < nonempty; j++)
    if (split_node(b, first + j, depth + 1)) return -1;
  return 0;
}

/* Build the tree of n >= 1 points; b->pts, leaf set by the caller.  flat is
 * TC_FLAT times the root's longest side.  0, or -1 out of memory. */
static int build_tree(tc_builder *b, int64_t n) {
  b->idx = tmsf_malloc_array((size_t)n, sizeof(int64_t));
  b->tmp = tmsf_malloc_array((size_t)n, sizeof(int64_t));
  if (!b->idx || !b->tmp) return -1;
  for (int64_t i = 0; i < n; i++) b->idx[i] = i;
  b->flat = 0.0;
  if (add_node(b, 0, n) < 0) return -1;
  double maxe = 0.0;
  for (int d = 0; d < 3; d++)
    if (b->nodes[0].hi[d] - b->nodes[0].lo[d] > maxe) maxe = b->nodes[0].hi[d] - b->nodes[0].lo[d];
  b->flat = TC_FLAT * maxe;
  return split_node(b, 0, 0);
}

static void builder_free(tc_builder *b) {
  free(b->idx);
  free(b->tmp);
  free(b->nodes);
}

/* ------------------------------------------------------------------------- */
/* Proxy charges                                                             */
/* ------------------------------------------------------------------------- */

/* Chebyshev points of the second kind over [lo, hi] (first hi, last lo) and
 * their barycentric weights (-1)^k, halved at both ends (Berrut and
 * Trefethen, SIAM Review 46 (2004) 501-517, eq. 5.4). */
static void cheb_points(int deg, double lo, double hi, double *pt, double *w) {
  if (deg == 0) {
    pt[0] = 0.5 * (lo + hi);
    w[0] = 1.0;
    return;
  }
  double c = 0.5 * (lo + hi), h = 0.5 * (hi - lo);
  for (int k = 0; k <= deg; k++) {
    pt[k] = c + h * cos(3.14159265358979323846 * k / deg);
    w[k] = (k & 1) ? -1.0 : 1.0;
  }
  pt[0] = hi;
  pt[deg] = lo;
  w[0] *= 0.5;
  w[deg] *= 0.5;
}

/* Lagrange basis at x (barycentric form of the second kind). */
static void cheb_basis(int deg, const double *pt, const double *w, double x, double *L) {
  if (deg == 0) {
    L[0] = 1.0;
    return;
  }
  double s = 0.0;
  for (int k = 0; k <= deg; k++) {
    double dx = x - pt[k];
    if (dx == 0.0) {
      for (int j = 0; j <= deg; j++) L[j] = j == k;
      return;
    }
    L[k] = w[k] / dx;
    s += L[k];
  }
  double is = 1.0 / s;
  for (int k = 0; k <= deg; k++) L[k] *= is;
}

/* The proxy block of one box: points and charges Qhat_k = sum_n L_k(x_n) Q_n.
 * work: 3 num_proxy + 12 (deg[1] + 1) (deg[2] + 1) doubles.  For four
 * sources at a time, the products L_b(y) L_c(z) Q are formed once and added
 * to each plane a with weights L_a(x): a long contiguous loop that
 * vectorises and loads and stores the sums once per four sources. */
#define TC_GROUP 4
TC_CLONES static void node_proxies(const tmsf_treecode *t, const tc_node *nd, double *blk, double *work) {
  const int64_t n = t->n;
  const int n0 = nd->deg[0] + 1, n1 = nd->deg[1] + 1, n2 = nd->deg[2] + 1;
  const int64_t np = nd->num_proxy, m12 = 3 * (int64_t)n1 * n2;
  double pt[3][TC_MAX_DEGREE + 1], w[3][TC_MAX_DEGREE + 1], L[3][TC_MAX_DEGREE + 1];
  double La[TC_GROUP][TC_MAX_DEGREE + 1];
  for (int d = 0; d < 3; d++) cheb_points(nd->deg[d], nd->lo[d], nd->hi[d], pt[d], w[d]);
  double *restrict acc = work;        /* [a][b][c][component] */
  double *restrict T = work + 3 * np; /* [source of the group][b][c][component] */
  memset(acc, 0, (size_t)(3 * np) * sizeof(double));
  const double *sx = t->src, *sy = t->src + n, *sz = t->src + 2 * n;
  const double *sqx = t->src + 3 * n, *sqy = t->src + 4 * n, *sqz = t->src + 5 * n;
  for (int64_t i0 = nd->begin; i0 < nd->end; i0 += TC_GROUP) {
    for (int g = 0; g < TC_GROUP; g++) {
      const int64_t i = i0 + g;
      double *tg = T + g * m12;
      if (i >= nd->end) { /* a short last group: zero weights */
        for (int a = 0; a < n0; a++) La[g][a] = 0.0;
        for (int64_t k = 0; k < m12; k++) tg[k] = 0.0;
        continue;
      }
      cheb_basis(nd->deg[0], pt[0], w[0], sx[i], La[g]);
      cheb_basis(nd->deg[1], pt[1], w[1], sy[i], L[1]);
      cheb_basis(nd->deg[2], pt[2], w[2], sz[i], L[2]);
      const double ax = sqx[i], ay = sqy[i], az = sqz[i];
      for (int b = 0; b < n1; b++)
        for (int c = 0; c < n2; c++) {
          const double l = L[1][b] * L[2][c];
          double *tt = tg + 3 * (b * n2 + c);
          tt[0] = l * ax;
          tt[1] = l * ay;
          tt[2] = l * az;
        }
    }
    const double *restrict T0 = T, *restrict T1 = T + m12, *restrict T2 = T + 2 * m12,
                           *restrict T3 = T + 3 * m12;
    for (int a = 0; a < n0; a++) {
      const double l0 = La[0][a], l1 = La[1][a], l2 = La[2][a], l3 = La[3][a];
      double *restrict row = acc + a * m12;
      for (int64_t k = 0; k < m12; k++) row[k] += (l0 * T0[k] + l1 * T1[k]) + (l2 * T2[k] + l3 * T3[k]);
    }
  }
  const int64_t st = nd->proxy_len; /* padding: zero charges at the centre */
  double *px = blk, *py = blk + st, *pz = blk + 2 * st;
  double *qx = blk + 3 * st, *qy = blk + 4 * st, *qz = blk + 5 * st;
  for (int64_t k = np; k < st; k++) {
    px[k] = nd->centre[0];
    py[k] = nd->centre[1];
    pz[k] = nd->centre[2];
    qx[k] = qy[k] = qz[k] = 0.0;
  }
  for (int a = 0; a < n0; a++)
    for (int b = 0; b < n1; b++)
      for (int c = 0; c < n2; c++) {
        int64_t k = ((int64_t)a * n1 + b) * n2 + c;
        px[k] = pt[0][a];
        py[k] = pt[1][b];
        pz[k] = pt[2][c];
        qx[k] = acc[3 * k];
        qy[k] = acc[3 * k + 1];
        qz[k] = acc[3 * k + 2];
      }
}

/* ------------------------------------------------------------------------- */
/* Kernels                                                                   */
/* ------------------------------------------------------------------------- */

/* A block of sources: six arrays of len doubles, stride apart. */
typedef struct tc_entry {
  const double *base;
  int64_t stride, len;
} tc_entry;

/* A proxy block in single precision: points relative to centre. */
typedef struct tc_fentry {
  const float *base;
  const double *centre;
  int64_t len;
} tc_fentry;


/* The kernels accumulate into lanes: per target, 6 x TC_LANES doubles (A
 * then B, one row of TC_LANES per component).  The SIMD loops run over
 * TC_LANES sources at a time, lane l taking sources l, l + TC_LANES, ...,
 * so that the sums are reduced across lanes once per target (lanes_reduce)
 * rather than once per block, and the order of every sum is fixed by the
 * list alone.  Proxy blocks are padded to a multiple of TC_LANES (zero
 * charges at the box centre); runs of sources end with a scalar tail. */
#define TC_LANES 16
#define TC_LANE_VALUES (6 * TC_LANES)

/* Near kernel, double precision; coincident sources (r^2 <= tiny2) are skipped. */
#define TC_NEAR_KERNEL(NAME, WA, WB)                                                                 \
  TC_CLONES static void NAME(int nent, const tc_entry *ent, int64_t nt, const double *restrict tp,     \
                             double tiny2, double *restrict lanes) {                                 \
    for (int e = 0; e < nent; e++) {                                                                 \
      const int64_t len = ent[e].len, st = ent[e].stride, body = len - len % TC_LANES;               \
      const double *restrict x = ent[e].base, *restrict y = x + st, *restrict z = x + 2 * st;        \
      const double *restrict qx = x + 3 * st, *restrict qy = x + 4 * st, *restrict qz = x + 5 * st;  \
      for (int64_t t = 0; t < nt; t++) {                                                             \
        const double px = tp[3 * t], py = tp[3 * t + 1], pz = tp[3 * t + 2];                         \
        double *restrict ln = lanes + t * TC_LANE_VALUES;                                            \
        double f[6][TC_LANES];                                                                       \
        for (int l = 0; l < TC_LANES; l++) f[0][l] = f[1][l] = f[2][l] = f[3][l] = f[4][l] = f[5][l] = 0.0; \
        for (int64_t k0 = 0; k0 < body; k0 += TC_LANES) {                                            \
          _Pragma("omp simd")                                                                        \
          for (int l = 0; l < TC_LANES; l++) {                                                       \
            const int64_t k = k0 + l;                                                                \
            const double dx = px - x[k], dy = py - y[k], dz = pz - z[k];                             \
            const double r2 = dx * dx + dy * dy + dz * dz;                                           \
            const double ir = r2 > tiny2 ? 1.0 / sqrt(r2) : 0.0;                                     \
            if (WA) {                                                                                \
              f[0][l] += qx[k] * ir;                                                                 \
              f[1][l] += qy[k] * ir;                                                                 \
              f[2][l] += qz[k] * ir;                                                                 \
            }                                                                                        \
            if (WB) {                                                                                \
              const double ir3 = ir * ir * ir;                                                       \
              f[3][l] += (qy[k] * dz - qz[k] * dy) * ir3;                                            \
              f[4][l] += (qz[k] * dx - qx[k] * dz) * ir3;                                            \
              f[5][l] += (qx[k] * dy - qy[k] * dx) * ir3;                                            \
            }                                                                                        \
          }                                                                                          \
        }                                                                                            \
        _Pragma("omp simd")                                                                          \
        for (int l = 0; l < TC_LANES; l++) {                                                         \
          ln[l] += f[0][l];                                                                          \
          ln[TC_LANES + l] += f[1][l];                                                               \
          ln[2 * TC_LANES + l] += f[2][l];                                                           \
          ln[3 * TC_LANES + l] += f[3][l];                                                           \
          ln[4 * TC_LANES + l] += f[4][l];                                                           \
          ln[5 * TC_LANES + l] += f[5][l];                                                           \
        }                                                                                            \
        for (int64_t k = body; k < len; k++) {                                                       \
          const int l = (int)(k - body);                                                             \
          const double dx = px - x[k], dy = py - y[k], dz = pz - z[k];                               \
          const double r2 = dx * dx + dy * dy + dz * dz;                                             \
          const double ir = r2 > tiny2 ? 1.0 / sqrt(r2) : 0.0;                                       \
          if (WA) {                                                                                  \
            ln[l] += qx[k] * ir;                                                                     \
            ln[TC_LANES + l] += qy[k] * ir;                                                          \
            ln[2 * TC_LANES + l] += qz[k] * ir;                                                      \
          }                                                                                          \
          if (WB) {                                                                                  \
            const double ir3 = ir * ir * ir;                                                         \
            ln[3 * TC_LANES + l] += (qy[k] * dz - qz[k] * dy) * ir3;                                 \
            ln[4 * TC_LANES + l] += (qz[k] * dx - qx[k] * dz) * ir3;                                 \
            ln[5 * TC_LANES + l] += (qx[k] * dy - qy[k] * dx) * ir3;                                 \
          }                                                                                          \
        }                                                                                            \
      }                                                                                              \
    }                                                                                                \
  }

TC_NEAR_KERNEL(near_ab, 1, 1)
TC_NEAR_KERNEL(near_a, 1, 0)
TC_NEAR_KERNEL(near_b, 0, 1)

static void sum_list(int nent, const tc_entry *ent, int64_t nt, const double *tp, double tiny2, double *lanes,
                     int want_a, int want_b) {
  if (want_a && want_b)
    near_ab(nent, ent, nt, tp, tiny2, lanes);
  else if (want_a)
    near_a(nent, ent, nt, tp, tiny2, lanes);
  else
    near_b(nent, ent, nt, tp, tiny2, lanes);
}

/* Far kernel, single precision: the target relative to the box centre (and
 * divided by fx) is rounded to float once (the MAC keeps it within about
 * (1 + 1/theta) r_c of the centre and at least r_c / theta from every proxy
 * point, so float resolves the distances to ~1e-7 relative); each block's
 * float lane sums (at most len / TC_LANES terms each) are scaled back
 * (sa = fq / fx for A, sb = fq / fx^2 for B) and added to the double lanes. */
#define TC_FAR_KERNEL(NAME, WA, WB)                                                                  \
  TC_CLONES static void NAME(int nent, const tc_fentry *ent, int64_t nt, const double *restrict tp,    \
                             double ifx, double sa, double sb, double *restrict lanes) {             \
    for (int e = 0; e < nent; e++) {                                                                 \
      const int64_t len = ent[e].len;                                                                \
      const float *restrict x = ent[e].base, *restrict y = x + len, *restrict z = x + 2 * len;       \
      const float *restrict qx = x + 3 * len, *restrict qy = x + 4 * len, *restrict qz = x + 5 * len; \
      const double *c = ent[e].centre;                                                               \
      for (int64_t t = 0; t < nt; t++) {                                                             \
        const float px = (float)((tp[3 * t] - c[0]) * ifx), py = (float)((tp[3 * t + 1] - c[1]) * ifx), \
                    pz = (float)((tp[3 * t + 2] - c[2]) * ifx);                                      \
        float f[6][TC_LANES];                                                                        \
        for (int l = 0; l < TC_LANES; l++) f[0][l] = f[1][l] = f[2][l] = f[3][l] = f[4][l] = f[5][l] = 0.0f; \
        for (int64_t k0 = 0; k0 < len; k0 += TC_LANES) {                                             \
          _Pragma("omp simd")                                                                        \
          for (int l = 0; l < TC_LANES; l++) {                                                       \
            const int64_t k = k0 + l;                                                                \
            const float dx = px - x[k], dy = py - y[k], dz = pz - z[k];                              \
            const float ir = 1.0f / sqrtf(dx * dx + dy * dy + dz * dz);                              \
            if (WA) {                                                                                \
              f[0][l] += qx[k] * ir;                                                                 \
              f[1][l] += qy[k] * ir;                                                                 \
              f[2][l] += qz[k] * ir;                                                                 \
            }                                                                                        \
            if (WB) {                                                                                \
              const float ir3 = ir * ir * ir;                                                        \
              f[3][l] += (qy[k] * dz - qz[k] * dy) * ir3;                                            \
              f[4][l] += (qz[k] * dx - qx[k] * dz) * ir3;                                            \
              f[5][l] += (qx[k] * dy - qy[k] * dx) * ir3;                                            \
            }                                                                                        \
          }                                                                                          \
        }                                                                                            \
        double *restrict ln = lanes + t * TC_LANE_VALUES;                                            \
        _Pragma("omp simd")                                                                          \
        for (int l = 0; l < TC_LANES; l++) {                                                         \
          if (WA) {                                                                                  \
            ln[l] += sa * f[0][l];                                                                   \
            ln[TC_LANES + l] += sa * f[1][l];                                                        \
            ln[2 * TC_LANES + l] += sa * f[2][l];                                                    \
          }                                                                                          \
          if (WB) {                                                                                  \
            ln[3 * TC_LANES + l] += sb * f[3][l];                                                    \
            ln[4 * TC_LANES + l] += sb * f[4][l];                                                    \
            ln[5 * TC_LANES + l] += sb * f[5][l];                                                    \
          }                                                                                          \
        }                                                                                            \
      }                                                                                              \
    }                                                                                                \
  }

TC_FAR_KERNEL(far_ab, 1, 1)
TC_FAR_KERNEL(far_a, 1, 0)
TC_FAR_KERNEL(far_b, 0, 1)

static void sum_flist(const tmsf_treecode *t, int nent, const tc_fentry *ent, int64_t nt, const double *tp,
                      double *lanes, int want_a, int want_b) {
  const double ifx = 1.0 / t->fx, sa = t->fq / t->fx, sb = t->fq / (t->fx * t->fx);
  if (want_a && want_b)
    far_ab(nent, ent, nt, tp, ifx, sa, sb, lanes);
  else if (want_a)
    far_a(nent, ent, nt, tp, ifx, sa, sb, lanes);
  else
    far_b(nent, ent, nt, tp, ifx, sa, sb, lanes);
}

/* The six sums of one target from its lanes (pairwise, a fixed order). */
static void lanes_reduce(const double *ln, double out[6]) {
  for (int c = 0; c < 6; c++) {
    double v[TC_LANES];
    memcpy(v, ln + c * TC_LANES, sizeof(v));
    for (int w = TC_LANES / 2; w > 0; w /= 2)
      for (int l = 0; l < w; l++) v[l] += v[l + w];
    out[c] = v[0];
  }
}

/* ------------------------------------------------------------------------- */
/* Create and destroy                                                        */
/* ------------------------------------------------------------------------- */

static int check_points(tmsf_context *ctx, const char *what, int64_t n, const double *v) {
  for (int64_t i = 0; i < 3 * n; i++)
    if (!isfinite(v[i]))
      return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: %s %lld, component %d, is not finite", what,
                        (long long)(i / 3), (int)(i % 3));
  return TMSF_SUCCESS;
}

/* Coincidence distance: TC_TINY times the largest side of the bounding box,
 * or of the coordinates' magnitude when the box is a point. */
static double coincidence_distance(const tc_node *root) {
  double s = 0.0;
  for (int d = 0; d < 3; d++) s = fmax(s, root->hi[d] - root->lo[d]);
  if (s == 0.0)
    for (int d = 0; d < 3; d++) s = fmax(s, fabs(root->lo[d]));
  if (s == 0.0) s = 1.0;
  return TC_TINY * s;
}

/* Proxy blocks of the listed boxes (threads share out whole boxes);
 * 0, or -1 out of memory. */
static int build_proxies(tmsf_treecode *t, int64_t nboxes, const int64_t *list) {
  const int deg = t->params.degree;
  const int64_t wlen = 3 * (int64_t)(deg + 1) * (deg + 1) * (deg + 1 + TC_GROUP);
  int failed = 0;
#if TMSF_HAVE_OPENMP
#pragma omp parallel num_threads(tmsf_threads(t->ctx))
#endif
  {
    double *work = tmsf_malloc_array((size_t)wlen, sizeof(double));
    if (!work) {
#if TMSF_HAVE_OPENMP
#pragma omp atomic write
#endif
      failed = 1;
    }
#if TMSF_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int64_t i = 0; i < nboxes; i++) {
      if (!work) continue;
      const tc_node *nd = &t->nodes[list[i]];
      node_proxies(t, nd, t->proxy + nd->proxy, work);
      if (t->proxyf) {
        const int64_t np = nd->proxy_len;
        const double *src = t->proxy + nd->proxy, ifx = 1.0 / t->fx, ifq = 1.0 / t->fq;
        float *dst = t->proxyf + nd->proxy;
        for (int c = 0; c < 3; c++)
          for (int64_t k = 0; k < np; k++) dst[c * np + k] = (float)((src[c * np + k] - nd->centre[c]) * ifx);
        for (int64_t k = 3 * np; k < 6 * np; k++) dst[k] = (float)(src[k] * ifq);
      }
    }
    free(work);
  }
  return failed ? -1 : 0;
}

int tmsf_treecode_create(tmsf_context *ctx, int64_t n, const double *x, const double *q,
                         const tmsf_treecode_params *params, tmsf_treecode **tree) {
  if (!tree) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: tree is NULL");
  *tree = NULL;
  if (n < 0) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: %lld sources", (long long)n);
  if (n > 0 && (!x || !q)) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: source positions or weights NULL");
  if (n > INT64_MAX / 6) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: too many sources");
  tmsf_treecode_params p;
  TMSF_CALL(resolve_params(ctx, params, &p));
  if (n > 0) {
    TMSF_CALL(check_points(ctx, "source position", n, x));
    TMSF_CALL(check_points(ctx, "source weight", n, q));
  }
  tmsf_treecode *t = calloc(1, sizeof(*t));
  if (!t) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "treecode: out of memory");
  t->ctx = ctx;
  t->params = p;
  t->n = n;
  if (n == 0) {
    *tree = t;
    return TMSF_SUCCESS;
  }
  tc_builder b;
  memset(&b, 0, sizeof(b));
  b.pts = x;
  b.leaf = p.leaf_size;
  t->src = tmsf_malloc_array((size_t)n * 6, sizeof(double));
  if (!t->src || build_tree(&b, n)) {
    builder_free(&b);
    tmsf_treecode_destroy(&t);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "treecode: out of memory for %lld sources", (long long)n);
  }
  for (int64_t i = 0; i < n; i++) {
    int64_t j = b.idx[i];
    for (int d = 0; d < 3; d++) {
      t->src[d * n + i] = x[3 * j + d];
      t->src[(3 + d) * n + i] = q[3 * j + d];
    }
  }
  t->nodes = b.nodes;
  t->num_nodes = b.num;
  b.nodes = NULL;
  builder_free(&b);
  t->tiny = coincidence_distance(&t->nodes[0]);
  t->tiny2 = t->tiny * t->tiny;
  /* float scales: the sources' size and the largest weight component */
  t->fx = t->tiny / TC_TINY;
  t->fq = 0.0;
  for (int64_t i = 0; i < 3 * n; i++) t->fq = fmax(t->fq, fabs(q[i]));
  if (t->fq == 0.0) t->fq = 1.0;

  /* degrees and proxy blocks (only where a box has more sources than proxies) */
  int64_t total = 0, nboxes = 0;
  double flat = 0.0;
  for (int d = 0; d < 3; d++) flat = fmax(flat, t->nodes[0].hi[d] - t->nodes[0].lo[d]);
  flat *= TC_FLAT; /* as in build_tree */
  for (int64_t k = 0; k < t->num_nodes; k++) {
    tc_node *nd = &t->nodes[k];
    int64_t np = 1;
    for (int d = 0; d < 3; d++) {
      nd->deg[d] = nd->hi[d] - nd->lo[d] > flat ? p.degree : 0;
      np *= nd->deg[d] + 1;
    }
    nd->num_proxy = (int32_t)np;
    nd->proxy_len = (int32_t)((np + TC_LANES - 1) / TC_LANES * TC_LANES);
    if (nd->end - nd->begin > np) {
      nd->proxy = total;
      total += 6 * (int64_t)nd->proxy_len;
      nboxes++;
    }
  }
  t->num_proxy_boxes = nboxes;
  int64_t *list = tmsf_malloc_array((size_t)(nboxes ? nboxes : 1), sizeof(int64_t));
  t->proxy = tmsf_malloc_array((size_t)(total ? total : 1), sizeof(double));
  if (p.single == 1) t->proxyf = tmsf_malloc_array((size_t)(total ? total : 1), sizeof(float));
  if (!list || !t->proxy || (p.single == 1 && !t->proxyf)) {
    free(list);
    tmsf_treecode_destroy(&t);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "treecode: out of memory for %lld proxy values", (long long)total);
  }
  int64_t j = 0;
  for (int64_t k = 0; k < t->num_nodes; k++)
    if (t->nodes[k].proxy >= 0) list[j++] = k;
  int failed = build_proxies(t, nboxes, list);
  free(list);
  if (failed) {
    tmsf_treecode_destroy(&t);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "treecode: out of memory");
  }
  *tree = t;
  return TMSF_SUCCESS;
}

void tmsf_treecode_destroy(tmsf_treecode **tree) {
  if (!tree || !*tree) return;
  tmsf_treecode *t = *tree;
  free(t->src);
  free(t->nodes);
  free(t->proxy);
  free(t->proxyf);
  free(t);
  *tree = NULL;
}

int tmsf_treecode_get_info(const tmsf_treecode *tree, tmsf_treecode_params *params, int64_t *num_boxes,
                           int64_t *num_proxy_boxes) {
  if (!tree) return TMSF_ERR_ARGUMENT;
  if (params) *params = tree->params;
  if (num_boxes) *num_boxes = tree->num_nodes;
  if (num_proxy_boxes) *num_proxy_boxes = tree->num_proxy_boxes;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Evaluation                                                                */
/* ------------------------------------------------------------------------- */

typedef struct tc_work {
  tc_entry *ent; /* double precision: sources, and proxies unless single */
  int nent, cap;
  tc_fentry *fent; /* single-precision proxies */
  int nfent, fcap;
  int64_t stack[TC_STACK];
  double *tp;  /* 3 * batch */
  double *acc; /* TC_LANE_VALUES * batch */
} tc_work;

static int push_entry(tc_work *w, const double *base, int64_t stride, int64_t len) {
  if (w->nent > 0) { /* extend a run of consecutive sources */
    tc_entry *l = &w->ent[w->nent - 1];
    if (l->stride == stride && l->base + l->len == base) {
      l->len += len;
      return 0;
    }
  }
  if (w->nent == w->cap) {
    int cap = w->cap ? 2 * w->cap : 256;
    tc_entry *v = realloc(w->ent, (size_t)cap * sizeof(tc_entry));
    if (!v) return -1;
    w->ent = v;
    w->cap = cap;
  }
  w->ent[w->nent++] = (tc_entry){base, stride, len};
  return 0;
}

static int push_fentry(tc_work *w, const float *base, const double *centre, int64_t len) {
  if (w->nfent == w->fcap) {
    int cap = w->fcap ? 2 * w->fcap : 256;
    tc_fentry *v = realloc(w->fent, (size_t)cap * sizeof(tc_fentry));
    if (!v) return -1;
    w->fent = v;
    w->fcap = cap;
  }
  w->fent[w->nfent++] = (tc_fentry){base, centre, len};
  return 0;
}

/* The interaction lists of a batch with centre bc and radius rb. */
static int batch_list(const tmsf_treecode *t, const double bc[3], double rb, tc_work *w) {
  const double theta = t->params.theta;
  /* a far box keeps every target of the batch beyond the coincidence
   * distance, with a margin for the rounding of dist and rb */
  const double reach = rb * (1.0 + 1e-12) + t->tiny;
  int sp = 0;
  w->nent = w->nfent = 0;
  w->stack[sp++] = 0;
  while (sp > 0) {
    const tc_node *nd = &t->nodes[w->stack[--sp]];
    double dx = bc[0] - nd->centre[0], dy = bc[1] - nd->centre[1], dz = bc[2] - nd->centre[2];
    double dist = sqrt(dx * dx + dy * dy + dz * dz);
    /* every target of the batch sees the box within theta: r_c < theta (d - r_b) */
    const int far = nd->radius < theta * (dist - reach);
    int r;
    if (far && nd->proxy >= 0 && t->proxyf)
      r = push_fentry(w, t->proxyf + nd->proxy, nd->centre, nd->proxy_len);
    else if (far && nd->proxy >= 0)
      r = push_entry(w, t->proxy + nd->proxy, nd->proxy_len, nd->proxy_len);
    else if (far || nd->num_children == 0)
      r = push_entry(w, t->src + nd->begin, t->n, nd->end - nd->begin);
    else {
      for (int c = nd->num_children - 1; c >= 0; c--) w->stack[sp++] = nd->first_child + c;
      r = 0;
    }
    if (r) return -1;
  }
  return 0;
}

/* Collect the leaves of a target tree in depth-first order. */
static void collect_leaves(const tc_node *nodes, int64_t k, int64_t *out, int64_t *nout) {
  if (nodes[k].num_children == 0) {
    out[(*nout)++] = k;
    return;
  }
  for (int c = 0; c < nodes[k].num_children; c++) collect_leaves(nodes, nodes[k].first_child + c, out, nout);
}

int tmsf_treecode_eval(const tmsf_treecode *tree, int64_t m, const double *r, double *A, double *B) {
  if (!tree) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = tree->ctx;
  if (m < 0) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: %lld targets", (long long)m);
  if (m == 0 || (!A && !B)) return TMSF_SUCCESS;
  if (!r) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: target positions NULL");
  if (m > INT64_MAX / 6) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: too many targets");
  TMSF_CALL(check_points(ctx, "target", m, r));
  if (tree->n == 0) {
    if (A) memset(A, 0, (size_t)m * 3 * sizeof(double));
    if (B) memset(B, 0, (size_t)m * 3 * sizeof(double));
    return TMSF_SUCCESS;
  }
  tc_builder b;
  memset(&b, 0, sizeof(b));
  b.pts = r;
  b.leaf = tree->params.batch_size;
  int64_t *leaves = NULL, nleaves = 0;
  if (build_tree(&b, m) || !(leaves = tmsf_malloc_array((size_t)b.num, sizeof(int64_t)))) {
    builder_free(&b);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "treecode: out of memory for %lld targets", (long long)m);
  }
  collect_leaves(b.nodes, 0, leaves, &nleaves);
  int64_t maxbatch = 0;
  for (int64_t i = 0; i < nleaves; i++)
    if (b.nodes[leaves[i]].end - b.nodes[leaves[i]].begin > maxbatch)
      maxbatch = b.nodes[leaves[i]].end - b.nodes[leaves[i]].begin;
  const int want_a = A != NULL, want_b = B != NULL;
  int failed = 0;
#if TMSF_HAVE_OPENMP
#pragma omp parallel num_threads(tmsf_threads(ctx))
#endif
  {
    tc_work w;
    memset(&w, 0, sizeof(w));
    w.tp = tmsf_malloc_array((size_t)maxbatch * 3, sizeof(double));
    w.acc = tmsf_malloc_array((size_t)maxbatch * TC_LANE_VALUES, sizeof(double));
    int ok = w.tp && w.acc;
#if TMSF_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int64_t i = 0; i < nleaves; i++) {
      if (!ok) continue;
      const tc_node *bn = &b.nodes[leaves[i]];
      if (batch_list(tree, bn->centre, bn->radius, &w)) {
        ok = 0;
        continue;
      }
      const int64_t nt = bn->end - bn->begin;
      for (int64_t j = 0; j < nt; j++)
        for (int d = 0; d < 3; d++) w.tp[3 * j + d] = r[3 * b.idx[bn->begin + j] + d];
      memset(w.acc, 0, (size_t)nt * TC_LANE_VALUES * sizeof(double));
      if (w.nfent) sum_flist(tree, w.nfent, w.fent, nt, w.tp, w.acc, want_a, want_b);
      sum_list(w.nent, w.ent, nt, w.tp, tree->tiny2, w.acc, want_a, want_b);
      for (int64_t j = 0; j < nt; j++) {
        const int64_t o = b.idx[bn->begin + j];
        double v[6];
        lanes_reduce(w.acc + j * TC_LANE_VALUES, v);
        for (int d = 0; d < 3; d++) {
          if (A) A[3 * o + d] = v[d];
          if (B) B[3 * o + d] = v[3 + d];
        }
      }
    }
    if (!ok) {
#if TMSF_HAVE_OPENMP
#pragma omp atomic write
#endif
      failed = 1;
    }
    free(w.ent);
    free(w.fent);
    free(w.tp);
    free(w.acc);
  }
  free(leaves);
  builder_free(&b);
  if (failed) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "treecode: out of memory in the evaluation");
  return TMSF_SUCCESS;
}

int tmsf_treecode_count(const tmsf_treecode *tree, int64_t m, const double *r, double *near, double *far) {
  if (!tree) return TMSF_ERR_ARGUMENT;
  tmsf_context *ctx = tree->ctx;
  *near = *far = 0.0;
  if (m <= 0 || tree->n == 0) return TMSF_SUCCESS;
  if (!r) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: target positions NULL");
  TMSF_CALL(check_points(ctx, "target", m, r));
  tc_builder b;
  memset(&b, 0, sizeof(b));
  b.pts = r;
  b.leaf = tree->params.batch_size;
  int64_t *leaves = NULL, nleaves = 0;
  tc_work w;
  memset(&w, 0, sizeof(w));
  int ierr = build_tree(&b, m) || !(leaves = tmsf_malloc_array((size_t)b.num, sizeof(int64_t)));
  if (!ierr) collect_leaves(b.nodes, 0, leaves, &nleaves);
  for (int64_t i = 0; i < nleaves && !ierr; i++) {
    const tc_node *bn = &b.nodes[leaves[i]];
    ierr = batch_list(tree, bn->centre, bn->radius, &w);
    for (int e = 0; e < w.nent && !ierr; e++)
      *(w.ent[e].stride == tree->n ? near : far) += (double)(w.ent[e].len * (bn->end - bn->begin));
    for (int e = 0; e < w.nfent && !ierr; e++) *far += (double)(w.fent[e].len * (bn->end - bn->begin));
  }
  free(w.ent);
  free(w.fent);
  free(leaves);
  builder_free(&b);
  if (ierr) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "treecode: out of memory for %lld targets", (long long)m);
  *near /= (double)m;
  *far /= (double)m;
  return TMSF_SUCCESS;
}

int tmsf_treecode_evaluate(tmsf_context *ctx, int64_t n, const double *x, const double *q, int64_t m,
                           const double *r, const tmsf_treecode_params *params, double *A, double *B) {
  tmsf_treecode *t = NULL;
  TMSF_CALL(tmsf_treecode_create(ctx, n, x, q, params, &t));
  int ierr = tmsf_treecode_eval(t, m, r, A, B);
  tmsf_treecode_destroy(&t);
  return ierr;
}

/* ------------------------------------------------------------------------- */
/* Direct sum                                                                */
/* ------------------------------------------------------------------------- */

int tmsf_treecode_direct(tmsf_context *ctx, int64_t n, const double *x, const double *q, int64_t m,
                         const double *r, double *A, double *B) {
  if (n < 0 || m < 0) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: negative size");
  if (m == 0 || (!A && !B)) return TMSF_SUCCESS;
  if (!r || (n > 0 && (!x || !q)))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: NULL positions or weights");
  if (n > INT64_MAX / 6 || m > INT64_MAX / 6) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "treecode: too many points");
  if (n > 0) {
    TMSF_CALL(check_points(ctx, "source position", n, x));
    TMSF_CALL(check_points(ctx, "source weight", n, q));
  }
  TMSF_CALL(check_points(ctx, "target", m, r));
  double *src = tmsf_malloc_array((size_t)(n ? n : 1) * 6, sizeof(double));
  if (!src) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "treecode: out of memory for %lld sources", (long long)n);
  tc_node root;
  memset(&root, 0, sizeof(root));
  for (int d = 0; d < 3; d++) root.lo[d] = root.hi[d] = 0.0;
  for (int64_t i = 0; i < n; i++)
    for (int d = 0; d < 3; d++) {
      double v = x[3 * i + d];
      if (i == 0 || v < root.lo[d]) root.lo[d] = v;
      if (i == 0 || v > root.hi[d]) root.hi[d] = v;
      src[d * n + i] = v;
      src[(3 + d) * n + i] = q[3 * i + d];
    }
  double tiny = coincidence_distance(&root), tiny2 = tiny * tiny;
  const tc_entry ent = {src, n, n};
  const int want_a = A != NULL, want_b = B != NULL;
#if TMSF_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 16) num_threads(tmsf_threads(ctx))
#endif
  for (int64_t i = 0; i < m; i++) {
    double lanes[TC_LANE_VALUES] = {0.0}, acc[6];
    sum_list(1, &ent, 1, r + 3 * i, tiny2, lanes, want_a, want_b);
    lanes_reduce(lanes, acc);
    for (int d = 0; d < 3; d++) {
      if (A) A[3 * i + d] = acc[d];
      if (B) B[3 * i + d] = acc[3 + d];
    }
  }
  free(src);
  return TMSF_SUCCESS;
}

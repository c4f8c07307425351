/*
 * SPDX-License-Identifier: BSD-3-Clause
 * t-surface.c: pial / white surfaces of a concentric-shell mesh, nearest
 * points against brute force, and depth sampling of analytic fields.
 */
#include "shell-mesh.h"
#include "../lib/surface-impl.h"

/* Brute-force nearest point over all triangles of a surface. */
static double brute_nearest(const tmsf_surface *s, const double p[3], double q[3]) {
  int64_t nv, nt;
  const double *x;
  const int32_t *t;
  tmsf_surface_get_sizes(s, &nv, &nt);
  tmsf_surface_get_vertices(s, &x);
  tmsf_surface_get_triangles(s, &t);
  double best = INFINITY;
  for (int64_t f = 0; f < nt; f++) {
    double qq[3];
    double d2 = tmsf_closest_on_triangle(p, x + 3 * (int64_t)t[3 * f], x + 3 * (int64_t)t[3 * f + 1],
                                         x + 3 * (int64_t)t[3 * f + 2], qq);
    if (d2 < best) best = d2, memcpy(q, qq, sizeof(qq));
  }
  return sqrt(best);
}

/* The primitive against dense sampling of the triangle (s, t on a 400 x 400
 * grid): the exact distance is never above the sampled minimum and within
 * the grid's spacing of it. */
static void test_closest_primitive(void) {
  const double a[3] = {0, 0, 0}, b[3] = {1, 0, 0}, c[3] = {0.3, 0.8, 0.1};
  const double pts[][3] = {{0.2, 0.2, 0.5}, {-1, -1, 0}, {2, 0.1, -0.3}, {0.5, 2, 0}, {0.9, 0.5, 0.2}, {-0.5, 0.5, 0}};
  for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
    double q[3];
    double d = sqrt(tmsf_closest_on_triangle(pts[i], a, b, c, q));
    double dmin = INFINITY;
    int n = 400;
    for (int u = 0; u <= n; u++)
      for (int v = 0; u + v <= n; v++) {
        double s = (double)u / n, t = (double)v / n, y[3];
        for (int k = 0; k < 3; k++) y[k] = a[k] + s * (b[k] - a[k]) + t * (c[k] - a[k]);
        double dd[3] = {pts[i][0] - y[0], pts[i][1] - y[1], pts[i][2] - y[2]};
        dmin = fmin(dmin, norm3(dd));
      }
    CHECK(d <= dmin + 1e-12 && d >= dmin - 3.0 / n, "point %zu: exact %.9g, sampled %.9g", i, d, dmin);
  }
}

static void test_surfaces(tmsf_context *ctx, tmsf_mesh *mesh, const char *what) {
  const int32_t tags[2] = {TMSF_SURFACE_PIAL, TMSF_SURFACE_WHITE};
  const double radii[2] = {SHELL_R_PIAL, SHELL_R_WHITE};
  for (int s = 0; s < 2; s++) {
    tmsf_surface *surf = NULL;
    REQUIRE_OK(ctx, tmsf_surface_create(mesh, tags[s], &surf));
    int64_t nv, nt;
    const double *x, *vn, *tn;
    tmsf_surface_get_sizes(surf, &nv, &nt);
    tmsf_surface_get_vertices(surf, &x);
    tmsf_surface_get_vertex_normals(surf, &vn);
    tmsf_surface_get_triangle_normals(surf, &tn);
    CHECK(nv > 100 && nt == 2 * nv - 4, "%s %d: %lld vertices, %lld triangles (closed sphere: nt = 2 nv - 4)", what,
          (int)tags[s], (long long)nv, (long long)nt);
    /* vertices on the sphere (sphere3's surface nodes lie on it to 1e-6 mm) */
    double maxdev = 0, mincos = 1;
    for (int64_t i = 0; i < nv; i++) {
      double r = norm3(x + 3 * i);
      maxdev = fmax(maxdev, fabs(r - radii[s]));
      double c = (x[3 * i] * vn[3 * i] + x[3 * i + 1] * vn[3 * i + 1] + x[3 * i + 2] * vn[3 * i + 2]) / r;
      mincos = fmin(mincos, c);
    }
    CHECK(maxdev < 1e-6, "%s %d: vertex off the sphere by %g m", what, (int)tags[s], maxdev);
    /* smoothed normals outward and radial: on a sphere of ~5 mm facets within a few degrees */
    CHECK(mincos > 0.99, "%s %d: smallest cos(normal, radial) %g", what, (int)tags[s], mincos);
    double area;
    tmsf_surface_get_area(surf, &area);
    /* an inscribed polyhedron has less area than the sphere, by O(h^2 / R^2) (~1 %) */
    double sph = 4 * 3.14159265358979323846 * radii[s] * radii[s];
    CHECK(area < sph && area > 0.97 * sph, "%s %d: area %g vs sphere %g", what, (int)tags[s], area, sph);
    /* nearest points: grid vs brute force, 200 random points in and around the head */
    uint64_t seed = 12345;
    double maxerr = 0;
    for (int i = 0; i < 200; i++) {
      double p[3];
      for (int k = 0; k < 3; k++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        p[k] = ((double)(seed >> 11) / 9007199254740992.0 - 0.5) * 0.24;
      }
      double q[3], qb[3], d;
      int64_t tri;
      CHECK_OK(ctx, tmsf_surface_nearest(surf, 1, p, q, &tri, &d));
      double db = brute_nearest(surf, p, qb);
      maxerr = fmax(maxerr, fabs(d - db));
      CHECK(tri >= 0 && tri < nt, "triangle index %lld", (long long)tri);
    }
    CHECK(maxerr < 1e-12, "%s %d: grid nearest differs from brute force by %g m", what, (int)tags[s], maxerr);
    tmsf_surface_destroy(&surf);
  }
}

/* Derived surfaces (no triangles in the mesh) have the same vertices. */
static void test_derived(tmsf_context *ctx, tmsf_mesh *with, tmsf_mesh *without) {
  for (int32_t tag = 1001; tag <= 1002; tag++) {
    tmsf_surface *a = NULL, *b = NULL;
    REQUIRE_OK(ctx, tmsf_surface_create(with, tag, &a));
    REQUIRE_OK(ctx, tmsf_surface_create(without, tag, &b));
    int64_t na, nb, ta, tb;
    const int32_t *ma, *mb;
    tmsf_surface_get_sizes(a, &na, &ta);
    tmsf_surface_get_sizes(b, &nb, &tb);
    tmsf_surface_get_mesh_nodes(a, &ma);
    tmsf_surface_get_mesh_nodes(b, &mb);
    CHECK(na == nb && ta == tb, "surface %d: %lld/%lld vertices, %lld/%lld triangles (file vs derived)", (int)tag,
          (long long)na, (long long)nb, (long long)ta, (long long)tb);
    int same = na == nb;
    for (int64_t i = 0; same && i < na; i++) same = ma[i] == mb[i];
    CHECK(same, "surface %d: derived vertices differ from the file's", (int)tag);
    tmsf_surface_destroy(&a);
    tmsf_surface_destroy(&b);
  }
  tmsf_surface *none = NULL;
  int ierr = tmsf_surface_create(without, 1007, &none);
  CHECK(ierr == TMSF_ERR_NOT_FOUND && none == NULL, "surface 1007: status %d", ierr);
  CHECK(strstr(tmsf_context_last_error(ctx), "1007") != NULL, "message: %s", tmsf_context_last_error(ctx));
}

/* Depth sampling.  Constant E: exact at every depth in both modes.  Linear
 * E(x) = G x + e0 given per element at its centroid: the recovered field
 * reproduces a linear field (least-squares fit of exact linear data), so
 * the sample equals G x + e0 at the point used, up to rounding, wherever
 * the patch fit is used; tolerance 1e-6 relative to |E| covers the rounding
 * and the fallback (mean of a patch, exact only to O(h |G|)) is reported. */
static void test_depth(tmsf_context *ctx, tmsf_mesh *mesh) {
  tmsf_surface *pial = NULL, *white = NULL;
  REQUIRE_OK(ctx, tmsf_surface_create(mesh, TMSF_SURFACE_PIAL, &pial));
  REQUIRE_OK(ctx, tmsf_surface_create(mesh, TMSF_SURFACE_WHITE, &white));
  int64_t nv, ne;
  tmsf_surface_get_sizes(pial, &nv, NULL);
  tmsf_mesh_get_sizes(mesh, NULL, &ne, NULL);
  const double *x;
  const int32_t *tets, *tags;
  tmsf_mesh_get_nodes(mesh, &x);
  tmsf_mesh_get_tetrahedra(mesh, &tets, &tags);
  const double G[3][3] = {{10, 2, 0}, {-3, 5, 1}, {0, 4, -8}}; /* V/m per m */
  const double e0[3] = {50, -20, 30};                          /* V/m */
  /* the white surface is a polyhedron inscribed in r = 85 mm: its points lie
   * between sqrt(R^2 - rho^2) and R, rho the largest facet circumradius */
  double sag = 0;
  {
    int64_t wn, wt;
    const double *wx;
    const int32_t *wtri;
    tmsf_surface_get_sizes(white, &wn, &wt);
    tmsf_surface_get_vertices(white, &wx);
    tmsf_surface_get_triangles(white, &wtri);
    for (int64_t f = 0; f < wt; f++) {
      const double *a = wx + 3 * (int64_t)wtri[3 * f], *b = wx + 3 * (int64_t)wtri[3 * f + 1],
                   *c = wx + 3 * (int64_t)wtri[3 * f + 2];
      double ab[3], ac[3], bc[3], n[3];
      for (int k = 0; k < 3; k++) ab[k] = b[k] - a[k], ac[k] = c[k] - a[k], bc[k] = c[k] - b[k];
      n[0] = ab[1] * ac[2] - ab[2] * ac[1], n[1] = ab[2] * ac[0] - ab[0] * ac[2], n[2] = ab[0] * ac[1] - ab[1] * ac[0];
      double rho = norm3(ab) * norm3(ac) * norm3(bc) / (2 * norm3(n));
      sag = fmax(sag, SHELL_R_WHITE - sqrt(SHELL_R_WHITE * SHELL_R_WHITE - rho * rho));
    }
    printf("white surface sag bound %.3g mm\n", 1e3 * sag);
  }
  for (int linear = 0; linear < 2; linear++) {
    tmsf_field *field = NULL;
    REQUIRE_OK(ctx, tmsf_field_alloc(ctx, mesh, &field));
    for (int64_t e = 0; e < ne; e++) {
      double c[3] = {0, 0, 0};
      for (int j = 0; j < 4; j++)
        for (int k = 0; k < 3; k++) c[k] += 0.25 * x[3 * (int64_t)tets[4 * e + j] + k];
      for (int r = 0; r < 3; r++)
        field->E[3 * e + r] = e0[r] + (linear ? G[r][0] * c[0] + G[r][1] * c[1] + G[r][2] * c[2] : 0.0);
      field->sigma[e] = 1;
    }
    field->didt = 1;
    const double depths[5] = {0, 0.25, 0.5, 0.75, 1};
    double *pts = malloc(sizeof(double) * 3 * (size_t)nv), *E = malloc(sizeof(double) * 3 * (size_t)nv);
    double *th = malloc(sizeof(double) * (size_t)nv);
    int64_t *tet = malloc(sizeof(int64_t) * (size_t)nv);
    for (int di = 0; di < 5; di++) {
      double d = depths[di];
      tmsf_sample_mode mode = linear ? TMSF_SAMPLE_RECOVERED : TMSF_SAMPLE_ELEMENT;
      CHECK_OK(ctx, tmsf_surface_sample_depth(field, pial, white, d, mode, pts, E, th));
      CHECK_OK(ctx, tmsf_mesh_locate(mesh, nv, pts, tet));
      double maxerr = 0, maxr = 0, maxth = 0;
      int64_t not_gm = 0, nan = 0, big = 0;
      for (int64_t i = 0; i < nv; i++) {
        double want[3], *p = pts + 3 * i;
        for (int r = 0; r < 3; r++) want[r] = e0[r] + (linear ? G[r][0] * p[0] + G[r][1] * p[1] + G[r][2] * p[2] : 0);
        double diff[3] = {E[3 * i] - want[0], E[3 * i + 1] - want[1], E[3 * i + 2] - want[2]};
        double err = norm3(diff) / norm3(want);
        if (isnan(err)) nan++;
        else maxerr = fmax(maxerr, err);
        if (err > 1e-6) big++;
        if (tet[i] < 0 || tags[tet[i]] != 2) not_gm++;
        /* the point lies between the spheres at the expected relative depth:
         * pial vertices are on r = 90 mm, the nearest white point within the
         * polyhedral sag (< 0.3 mm) of r = 85 mm along the radius */
        double t = 0.001 + 0.998 * d, rwant = SHELL_R_PIAL - t * (SHELL_R_PIAL - SHELL_R_WHITE);
        double rmin = SHELL_R_PIAL - t * (SHELL_R_PIAL - SHELL_R_WHITE + sag);
        maxr = fmax(maxr, norm3(p) > rwant ? norm3(p) - rwant : (rmin - norm3(p)) / (1 + 1e-12));
        maxth = fmax(maxth, th[i] < SHELL_R_PIAL - SHELL_R_WHITE ? SHELL_R_PIAL - SHELL_R_WHITE - th[i]
                                                                 : th[i] - (SHELL_R_PIAL - SHELL_R_WHITE + sag));
      }
      CHECK(nan == 0 && not_gm == 0, "%s depth %g: %lld NaN samples, %lld points outside grey matter",
            linear ? "linear" : "constant", d, (long long)nan, (long long)not_gm);
      /* radius within [pial - t (thickness + sag), pial - t thickness], thickness within [5 mm, 5 mm + sag]
       * (1e-9 m for rounding) */
      CHECK(maxr < 1e-9 && maxth < 1e-9, "depth %g: radius outside its bounds by %g m, thickness by %g m", d, maxr,
            maxth);
      if (linear) {
        /* the fallback (patches too flat for a linear fit) is not exact: allow at most 2 % of points */
        CHECK(big <= nv / 50, "linear depth %g: %lld of %lld samples off by > 1e-6 (max %g)", d, (long long)big,
              (long long)nv, maxerr);
        printf("linear field, depth %.2f: max rel. error %.3g, %lld / %lld samples above 1e-6\n", d, maxerr,
               (long long)big, (long long)nv);
      } else {
        CHECK(maxerr < 1e-13, "constant depth %g: max rel. error %g", d, maxerr);
      }
    }
    int ierr = tmsf_surface_sample_depth(field, pial, white, 1.5, TMSF_SAMPLE_ELEMENT, NULL, E, NULL);
    CHECK(ierr == TMSF_ERR_ARGUMENT, "depth 1.5 accepted (%d)", ierr);
    free(pts);
    free(E);
    free(th);
    free(tet);
    tmsf_field_destroy(&field);
  }
  tmsf_surface_destroy(&pial);
  tmsf_surface_destroy(&white);
}

/* The scalp surface 1005 agrees with the mesh's own scalp (tmsf_mesh_get_scalp:
 * the same nodes and area-weighted normals, computed separately). */
static void test_scalp(tmsf_context *ctx) {
  tmsf_mesh *mesh = NULL;
  REQUIRE_OK(ctx, tmsf_mesh_read(ctx, test_path("data/spheres/sphere3.msh"), &mesh));
  tmsf_surface *s = NULL;
  REQUIRE_OK(ctx, tmsf_surface_create(mesh, TMSF_SURFACE_SCALP, &s));
  int64_t nv, ns;
  const int32_t *sn, *vn;
  const double *snorm, *vnorm;
  tmsf_surface_get_sizes(s, &nv, NULL);
  tmsf_surface_get_mesh_nodes(s, &vn);
  tmsf_surface_get_vertex_normals(s, &vnorm);
  CHECK_OK(ctx, tmsf_mesh_get_scalp(mesh, &ns, &sn, &snorm));
  CHECK(ns == nv, "scalp: %lld nodes, surface %lld", (long long)ns, (long long)nv);
  double maxd = 0;
  int same = ns == nv;
  for (int64_t i = 0; same && i < nv; i++) {
    int64_t j = 0; /* both sorted by mesh node?  search to be safe */
    while (j < ns && sn[j] != vn[i]) j++;
    if (j == ns) {
      same = 0;
      break;
    }
    for (int k = 0; k < 3; k++) maxd = fmax(maxd, fabs(snorm[3 * j + k] - vnorm[3 * i + k]));
  }
  CHECK(same && maxd < 1e-12, "scalp surface vs tmsf_mesh_get_scalp: same nodes %d, normals differ by %g", same, maxd);
  tmsf_surface_destroy(&s);
  tmsf_mesh_destroy(&mesh);
}

int main(void) {
  tmsf_context *ctx = NULL;
  REQUIRE_OK(NULL, tmsf_context_create(&ctx));
  tmsf_mesh *with = NULL, *without = NULL;
  REQUIRE_OK(ctx, shell_mesh(ctx, 1, &with));
  REQUIRE_OK(ctx, shell_mesh(ctx, 0, &without));
  test_closest_primitive();
  test_surfaces(ctx, with, "file");
  test_surfaces(ctx, without, "derived");
  test_derived(ctx, with, without);
  test_depth(ctx, with);
  test_scalp(ctx);
  tmsf_mesh_destroy(&with);
  tmsf_mesh_destroy(&without);
  tmsf_context_destroy(&ctx);
  return test_summary("t-surface");
}

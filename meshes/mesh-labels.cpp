// SPDX-License-Identifier: BSD-3-Clause
// mesh-labels.cpp: multi-material tetrahedral meshing with CGAL's 3D mesh
// generator (Mesh_3) behind the C interface of meshing-impl.h.
//
// Label images: CGAL::Labeled_mesh_domain_3::create_labeled_image_mesh_domain on
// an in-memory CGAL::Image_3 holding tissue tags; CGAL samples it with its
// label-wise trilinear interpolation, so tissue interfaces are smooth and
// conforming.  Spheres: a labeled implicit function.  Refinement is followed by
// the optional quality passes (ODT, Lloyd, sliver perturbation and exudation).
#include <cstdio>
#include <cstdlib>

#include "meshing-impl.h"

#if TMSF_HAVE_CGAL

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#if TMSF_HAVE_TBB
#define CGAL_CONCURRENT_MESH_3 1
#ifndef CGAL_LINKED_WITH_TBB
#define CGAL_LINKED_WITH_TBB 1
#endif
#include <tbb/global_control.h>
#endif

#include <CGAL/Exact_predicates_inexact_constructions_kernel.h>
#include <CGAL/Image_3.h>
#include <CGAL/ImageIO.h>
#include <CGAL/Labeled_mesh_domain_3.h>
#include <CGAL/Mesh_complex_3_in_triangulation_3.h>
#include <CGAL/Mesh_criteria_3.h>
#include <CGAL/Mesh_triangulation_3.h>
#include <CGAL/Random.h>
#include <CGAL/make_mesh_3.h>

namespace {

typedef CGAL::Exact_predicates_inexact_constructions_kernel K;
typedef CGAL::Labeled_mesh_domain_3<K> Mesh_domain;
#if TMSF_HAVE_TBB
typedef CGAL::Parallel_tag Concurrency_tag;
#else
typedef CGAL::Sequential_tag Concurrency_tag;
#endif
typedef CGAL::Mesh_triangulation_3<Mesh_domain, CGAL::Default, Concurrency_tag>::type Tr;
typedef CGAL::Mesh_complex_3_in_triangulation_3<Tr> C3t3;
typedef CGAL::Mesh_criteria_3<Tr> Mesh_criteria;
typedef K::Point_3 Point_3;
typedef K::FT FT;

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Sizing field on a per-voxel size map: the smallest size among the 8 voxels
// around the point (so a fine tissue is fine up to its boundary).
struct Image_size_field {
  typedef K::FT FT;
  typedef Mesh_domain::Index Index;
  int64_t nx, ny, nz;
  double vx, vy, vz;
  const float *size;
  FT operator()(const Point_3 &p, const int, const Index &) const {
    double x = p.x() / vx, y = p.y() / vy, z = p.z() / vz;
    int64_t i0 = (int64_t)std::floor(x), j0 = (int64_t)std::floor(y), k0 = (int64_t)std::floor(z);
    double s = 1e300;
    for (int d = 0; d < 8; d++) {
      int64_t i = std::min(std::max(i0 + (d & 1), (int64_t)0), nx - 1);
      int64_t j = std::min(std::max(j0 + ((d >> 1) & 1), (int64_t)0), ny - 1);
      int64_t k = std::min(std::max(k0 + ((d >> 2) & 1), (int64_t)0), nz - 1);
      s = std::min(s, (double)size[(size_t)i + (size_t)nx * ((size_t)j + (size_t)ny * (size_t)k)]);
    }
    return s;
  }
};

template <class T> T *copy_out(const std::vector<T> &v) {
  T *p = (T *)std::malloc(std::max<size_t>(1, v.size()) * sizeof(T));
  if (!p) throw std::bad_alloc();
  if (!v.empty()) std::memcpy(p, v.data(), v.size() * sizeof(T));
  return p;
}

int rank_of(int tag) { return tmsf_tissue_rank(tag); }

// Extract tetrahedra, interface triangles (1000 + the inner tissue, normal from
// inner to outer) and compact nodes.  Without a labeler, cells keep CGAL's
// subdomain index (the label at the cell's circumcentre) and the triangles are
// the complex's facets.  With a labeler, the cells of the complex are
// relabelled by the label image at their centroid (circumcentres of the flat
// cells along thin tissue sheets lie outside the cell, so their label misplaces
// volume: sulcal CSF went to GM), cells whose centroid is outside every tissue
// are dropped, and the triangles are the faces between cells of different
// labels (still conforming: they are faces of the mesh).
void extract(const C3t3 &c3t3, tmsf_cgal_result *res, const std::function<int(const Point_3 &)> *labeler) {
  typedef Tr::Vertex_handle Vh;
  typedef Tr::Cell_handle Ch;
  const Tr &tr = c3t3.triangulation();
  std::unordered_map<Vh, int32_t> vmap;
  std::unordered_map<Ch, int> cell_label;
  std::vector<double> nodes;
  std::vector<int32_t> tets, tet_tags, tris, tri_tags;
  auto index_of = [&](Vh v) -> int32_t {
    auto it = vmap.find(v);
    if (it != vmap.end()) return it->second;
    int32_t id = (int32_t)(nodes.size() / 3);
    const auto &wp = v->point();
    nodes.push_back(CGAL::to_double(wp.x()));
    nodes.push_back(CGAL::to_double(wp.y()));
    nodes.push_back(CGAL::to_double(wp.z()));
    vmap.emplace(v, id);
    return id;
  };
  auto label_of = [&](Ch c) -> int {
    if (!labeler) return c3t3.is_in_complex(c) ? (int)c3t3.subdomain_index(c) : 0;
    if (tr.is_infinite(c)) return 0;
    auto it = cell_label.find(c);
    return it == cell_label.end() ? 0 : it->second;
  };
  if (labeler) {
    for (auto c = c3t3.cells_in_complex_begin(); c != c3t3.cells_in_complex_end(); ++c) {
      double g[3] = {0, 0, 0};
      for (int i = 0; i < 4; i++) {
        const auto &wp = c->vertex(i)->point();
        g[0] += 0.25 * CGAL::to_double(wp.x());
        g[1] += 0.25 * CGAL::to_double(wp.y());
        g[2] += 0.25 * CGAL::to_double(wp.z());
      }
      int l = (*labeler)(Point_3(g[0], g[1], g[2]));
      if (l != 0) cell_label.emplace(Ch(c), l);
    }
    for (auto c = tr.finite_cells_begin(); c != tr.finite_cells_end(); ++c) {
      int l = label_of(c);
      if (l == 0) continue;
      for (int i = 0; i < 4; i++) tets.push_back(index_of(c->vertex(i)));
      tet_tags.push_back((int32_t)l);
    }
  } else {
    for (auto c = c3t3.cells_in_complex_begin(); c != c3t3.cells_in_complex_end(); ++c) {
      for (int i = 0; i < 4; i++) tets.push_back(index_of(c->vertex(i)));
      tet_tags.push_back((int32_t)c3t3.subdomain_index(c));
    }
  }
  auto emit = [&](Ch inner, int opp, int tin) {
    int32_t v[3];
    for (int k = 0; k < 3; k++) v[k] = index_of(inner->vertex((opp + 1 + k) & 3));
    const auto &po = inner->vertex(opp)->point();
    const double *a = &nodes[3 * (size_t)v[0]], *b = &nodes[3 * (size_t)v[1]], *d = &nodes[3 * (size_t)v[2]];
    double e1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    double e2[3] = {d[0] - a[0], d[1] - a[1], d[2] - a[2]};
    double n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
    double w[3] = {CGAL::to_double(po.x()) - a[0], CGAL::to_double(po.y()) - a[1], CGAL::to_double(po.z()) - a[2]};
    if (n[0] * w[0] + n[1] * w[1] + n[2] * w[2] > 0) std::swap(v[1], v[2]);
    tris.insert(tris.end(), v, v + 3);
    tri_tags.push_back(1000 + tin);
  };
  if (labeler) {
    for (auto c = tr.finite_cells_begin(); c != tr.finite_cells_end(); ++c) {
      int a = label_of(c);
      if (a == 0) continue;
      for (int i = 0; i < 4; i++) {
        Ch m = c->neighbor(i);
        int b = label_of(m);
        if (b == a || rank_of(b) < rank_of(a) || (rank_of(b) == rank_of(a) && b < a)) continue;
        emit(c, i, a);
      }
    }
  } else {
    for (auto f = c3t3.facets_in_complex_begin(); f != c3t3.facets_in_complex_end(); ++f) {
      Ch c = f->first;
      int i = f->second;
      Ch m = c->neighbor(i);
      int ta = label_of(c), tb = label_of(m);
      if (ta == tb) continue;
      if (rank_of(tb) < rank_of(ta)) emit(m, m->index(c), tb);
      else emit(c, i, ta);
    }
  }
  res->num_nodes = (int64_t)(nodes.size() / 3);
  res->num_tets = (int64_t)tet_tags.size();
  res->num_tris = (int64_t)tri_tags.size();
  res->nodes = copy_out(nodes);
  res->tets = copy_out(tets);
  res->tet_tags = copy_out(tet_tags);
  res->tris = copy_out(tris);
  res->tri_tags = copy_out(tri_tags);
}

// Progress after a phase; a cancel request unwinds to tmsf_cgal_mesh_image.
struct Cancelled {};
void report(const tmsf_cgal_settings *s, double fraction) {
  if (s->progress && s->progress(s->progress_user, fraction)) throw Cancelled();
}

void optimize(C3t3 &c3t3, const Mesh_domain &domain, const Mesh_criteria &criteria,
              const tmsf_cgal_settings *s, tmsf_cgal_result *res) {
  double t0 = now();
  double tl = s->optimize_time_s > 0 ? s->optimize_time_s : 0.0;
  if (s->odt) CGAL::odt_optimize_mesh_3(c3t3, domain, CGAL::parameters::time_limit = tl);
  if (s->lloyd) CGAL::lloyd_optimize_mesh_3(c3t3, domain, CGAL::parameters::time_limit = tl);
  if (s->perturb)
    CGAL::perturb_mesh_3(c3t3, domain, CGAL::parameters::time_limit = tl,
                         CGAL::parameters::sliver_bound = s->perturb_min_angle_deg);
  double t1 = now();
  report(s, TMSF_CGAL_F_OPTIMIZE);
  if (s->exude)
    CGAL::exude_mesh_3(c3t3, CGAL::parameters::time_limit = tl,
                       CGAL::parameters::sliver_bound = s->exude_min_angle_deg);
  double t2 = now();
  report(s, TMSF_CGAL_F_EXUDE);
  res->time_s[1] = t1 - t0;
  res->time_s[2] = t2 - t1;
  (void)criteria;
}

// CGAL's default failure handlers print to std::cerr before throwing; the
// library never prints, so failures only throw (caught below) while meshing.
void silent_handler(const char *, const char *, const char *, int, const char *) {}
struct Quiet_cgal {
  CGAL::Failure_function old_error, old_warning;
  Quiet_cgal()
      : old_error(CGAL::set_error_handler(silent_handler)), old_warning(CGAL::set_warning_handler(silent_handler)) {}
  ~Quiet_cgal() {
    CGAL::set_error_handler(old_error);
    CGAL::set_warning_handler(old_warning);
  }
};

struct Threads {
#if TMSF_HAVE_TBB
  std::unique_ptr<tbb::global_control> gc;
  explicit Threads(int n) {
    if (n > 0) gc.reset(new tbb::global_control(tbb::global_control::max_allowed_parallelism, (size_t)n));
  }
#else
  explicit Threads(int) {}
#endif
};

} // namespace

extern "C" int tmsf_cgal_available(void) { return 1; }

extern "C" int tmsf_cgal_mesh_image(const uint8_t *tags, const int64_t dims[3], const double vox_mm[3],
                                    const tmsf_cgal_settings *s, tmsf_cgal_result *res) {
  std::memset(res, 0, sizeof(*res));
  try {
    Quiet_cgal quiet;
    Threads threads(s->num_threads);
    CGAL::get_default_random() = CGAL::Random(s->seed);
    _image *im = _createImage((size_t)dims[0], (size_t)dims[1], (size_t)dims[2], 1, vox_mm[0], vox_mm[1],
                              vox_mm[2], 1, WK_FIXED, SGN_UNSIGNED);
    if (!im || !im->data) throw std::bad_alloc();
    std::memcpy(im->data, tags, (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2]);
    CGAL::Image_3 image(im);
    CGAL::Random rng(s->seed);
    Mesh_domain domain = Mesh_domain::create_labeled_image_mesh_domain(
        image, CGAL::parameters::relative_error_bound = 1e-6, CGAL::parameters::p_rng = &rng);
    Image_size_field cell{dims[0], dims[1], dims[2], vox_mm[0], vox_mm[1], vox_mm[2], s->cell_size_mm};
    Image_size_field facet{dims[0], dims[1], dims[2], vox_mm[0], vox_mm[1], vox_mm[2], s->facet_size_mm};
    namespace p = CGAL::parameters;
    Mesh_criteria criteria(p::facet_angle = s->facet_angle_deg, p::facet_size = facet,
                           p::facet_distance = s->facet_distance_mm,
                           p::cell_radius_edge_ratio = s->cell_radius_edge, p::cell_size = cell);
    double t0 = now();
    C3t3 c3t3 = CGAL::make_mesh_3<C3t3>(domain, criteria, p::no_perturb(), p::no_exude());
    res->time_s[0] = now() - t0;
    report(s, TMSF_CGAL_F_REFINE);
    optimize(c3t3, domain, criteria, s, res);
    double t1 = now();
    if (s->relabel) {
      std::function<int(const Point_3 &)> lab = [&image](const Point_3 &q) -> int {
        return (int)image.labellized_trilinear_interpolation<unsigned char>(
            CGAL::to_double(q.x()), CGAL::to_double(q.y()), CGAL::to_double(q.z()), (unsigned char)0);
      };
      extract(c3t3, res, &lab);
    } else {
      extract(c3t3, res, nullptr);
    }
    res->time_s[3] = now() - t1;
    report(s, TMSF_CGAL_F_EXTRACT);
    if (res->num_tets == 0) {
      std::snprintf(res->message, sizeof(res->message), "the mesher produced no tetrahedra");
      return -1;
    }
    return 0;
  } catch (const Cancelled &) {
    tmsf_cgal_result_free(res);
    std::snprintf(res->message, sizeof(res->message), "cancelled by the progress callback");
    return -2;
  } catch (const std::bad_alloc &) {
    tmsf_cgal_result_free(res);
    std::snprintf(res->message, sizeof(res->message), "out of memory in the mesher");
  } catch (const std::exception &e) {
    tmsf_cgal_result_free(res);
    std::snprintf(res->message, sizeof(res->message), "mesher failed: %s", e.what());
  } catch (...) {
    tmsf_cgal_result_free(res);
    std::snprintf(res->message, sizeof(res->message), "mesher failed (unknown exception)");
  }
  return -1;
}

extern "C" int tmsf_cgal_mesh_spheres(int n, const double *radii_mm, const int32_t *tags, double edge_mm,
                                      int num_threads, tmsf_cgal_result *res) {
  std::memset(res, 0, sizeof(*res));
  try {
    Quiet_cgal quiet;
    Threads threads(num_threads);
    CGAL::get_default_random() = CGAL::Random(1);
    std::vector<double> r2(radii_mm, radii_mm + n);
    for (double &x : r2) x *= x;
    std::vector<int> tg(tags, tags + n);
    std::function<int(const Point_3 &)> f = [r2, tg](const Point_3 &q) -> int {
      double d = CGAL::to_double(q.x() * q.x() + q.y() * q.y() + q.z() * q.z());
      for (size_t i = 0; i < r2.size(); i++)
        if (d < r2[i]) return tg[i];
      return 0;
    };
    double R = radii_mm[n - 1] * 1.05;
    CGAL::Random rng(1);
    Mesh_domain domain(CGAL::parameters::function = f,
                       CGAL::parameters::bounding_object = K::Sphere_3(CGAL::ORIGIN, R * R),
                       CGAL::parameters::relative_error_bound = 1e-7, CGAL::parameters::p_rng = &rng);
    namespace p = CGAL::parameters;
    double cs = edge_mm * 0.62; // circumradius of a regular tetrahedron of this edge
    Mesh_criteria criteria(p::facet_angle = 25.0, p::facet_size = cs, p::facet_distance = edge_mm * 0.05,
                           p::cell_radius_edge_ratio = 2.5, p::cell_size = cs);
    double t0 = now();
    C3t3 c3t3 = CGAL::make_mesh_3<C3t3>(domain, criteria, p::no_perturb(), p::no_exude());
    res->time_s[0] = now() - t0;
    tmsf_cgal_settings s{};
    s.perturb = 1;
    s.exude = 1;
    s.optimize_time_s = 10;
    s.perturb_min_angle_deg = 10;
    s.exude_min_angle_deg = 12;
    optimize(c3t3, domain, criteria, &s, res);
    extract(c3t3, res, nullptr);
    if (res->num_tets == 0) {
      std::snprintf(res->message, sizeof(res->message), "the mesher produced no tetrahedra");
      return -1;
    }
    return 0;
  } catch (const std::bad_alloc &) {
    tmsf_cgal_result_free(res);
    std::snprintf(res->message, sizeof(res->message), "out of memory in the mesher");
  } catch (const std::exception &e) {
    tmsf_cgal_result_free(res);
    std::snprintf(res->message, sizeof(res->message), "mesher failed: %s", e.what());
  } catch (...) {
    tmsf_cgal_result_free(res);
    std::snprintf(res->message, sizeof(res->message), "mesher failed (unknown exception)");
  }
  return -1;
}

#else

#include <cstring>

extern "C" int tmsf_cgal_available(void) { return 0; }

extern "C" int tmsf_cgal_mesh_image(const uint8_t *, const int64_t *, const double *, const tmsf_cgal_settings *,
                                    tmsf_cgal_result *res) {
  std::memset(res, 0, sizeof(*res));
  std::snprintf(res->message, sizeof(res->message), "this build has no CGAL (Debian: libcgal-dev)");
  return -1;
}

extern "C" int tmsf_cgal_mesh_spheres(int, const double *, const int32_t *, double, int, tmsf_cgal_result *res) {
  std::memset(res, 0, sizeof(*res));
  std::snprintf(res->message, sizeof(res->message), "this build has no CGAL (Debian: libcgal-dev)");
  return -1;
}

#endif

extern "C" void tmsf_cgal_result_free(tmsf_cgal_result *res) {
  std::free(res->nodes);
  std::free(res->tets);
  std::free(res->tet_tags);
  std::free(res->tris);
  std::free(res->tri_tags);
  res->nodes = nullptr;
  res->tets = res->tet_tags = res->tris = res->tri_tags = nullptr;
  res->num_nodes = res->num_tets = res->num_tris = 0;
}

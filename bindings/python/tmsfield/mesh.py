# SPDX-License-Identifier: BSD-3-Clause
"""Head meshes (mesh.h, head.h), tissue surfaces (surface.h) and the target
projection onto the grey matter (targets.h)."""
from __future__ import annotations

import os
from ctypes import byref, c_double, c_int, c_int64, c_void_p, create_string_buffer
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import numpy as np

from . import _lib
from ._core import (Context, _ctx, _Object, as_array, call_noctx, ptr, vec3, view)
from ._lib import lib

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Field

@dataclass(frozen=True)
class HeadInfo:
    """How a head was (or would be) opened (head.h: tmsf_head_info)."""
    kind: str            #: "mesh" (a .msh file) or "labels" (a label volume, meshed)
    builtin: bool        #: the spec was "default"
    source: str          #: the .msh or label file
    preset: str          #: label preset ("" for .msh)
    cache_path: str      #: the cache file ("" when not cached)
    cache_exists: bool   #: (query) a cache file is present
    from_cache: bool     #: (open) the mesh was read from the cache
    cache_rebuilt: bool  #: a corrupt cache file was replaced
    cache_written: bool  #: a new cache file was written
    mesh_time_s: float   #: seconds spent meshing (0 on a cache hit)

    @classmethod
    def _from_c(cls, s: _lib.tmsf_head_info) -> "HeadInfo":
        return cls("labels" if s.kind == 1 else "mesh", bool(s.builtin), _lib.decode(s.source),
                   _lib.decode(s.preset), _lib.decode(s.cache_path), bool(s.cache_exists),
                   bool(s.from_cache), bool(s.cache_rebuilt), bool(s.cache_written),
                   float(s.mesh_time_s))


def head_query(spec: str = "default", preset: Optional[str] = None,
               ctx: Optional[Context] = None) -> HeadInfo:
    """Resolve a head spec without meshing or reading (tmsf_head_query): the
    source file, preset, cache path and whether the cache exists, so that a
    caller can announce a first-use meshing (~15-30 s for the built-in head)."""
    c = _ctx(ctx)
    info = _lib.tmsf_head_info()
    c._call("tmsf_head_query", c._ptr, _lib.encode(spec), _lib.encode(preset), byref(info))
    return HeadInfo._from_c(info)


def head_cache_dir() -> str:
    """The head-mesh cache directory in use ("" when caching is off)."""
    buf = create_string_buffer(8192)
    call_noctx("tmsf_head_get_cache_dir", buf, len(buf))
    return _lib.decode(buf.value)


def default_conductivity(tag: int) -> float:
    """SimNIBS's default conductivity of a tissue tag in S/m (tags 1..10 and
    1001..1010); Error ERR_NOT_FOUND for other tags."""
    s = c_double()
    call_noctx("tmsf_conductivity_default", int(tag), byref(s))
    return s.value


class Mesh(_Object):
    """A tetrahedral head mesh: nodes in metres, tetrahedra and triangles with
    SimNIBS tissue tags (1 WM, 2 GM, 3 CSF, 4 bone, 5 scalp, ...; surfaces tag +
    1000), conductivities (SimNIBS defaults, overridable).

    Create one with :meth:`read` (Gmsh .msh), :meth:`open_head` (``"default"``:
    the built-in Colin27 head, meshed once and cached; a .msh; a label volume)
    or :meth:`create` (arrays).  Array properties (:attr:`nodes`,
    :attr:`tetrahedra`, :attr:`tet_tags`, ...) are read-only numpy views of the
    library's memory (no copy); they keep the mesh's memory alive.
    """

    _kind = "mesh"
    head_info: Optional[HeadInfo]

    def _init_extra(self) -> None:
        self.head_info = None
        self.path: Optional[str] = None

    # -- construction --------------------------------------------------------
    @classmethod
    def read(cls, path: "str | os.PathLike[str]", ctx: Optional[Context] = None) -> "Mesh":
        """Read a Gmsh mesh (2.2 or 4.1, ASCII or binary; millimetres in the
        file).  Errors name the file, section, line or byte offset."""
        c = _ctx(ctx)
        p = c_void_p()
        c._call("tmsf_mesh_read", c._ptr, _lib.encode(path), byref(p))
        m = cls._adopt(p.value, c, lib.tmsf_mesh_destroy)
        m.path = os.fspath(path)
        return m

    @classmethod
    def open_head(cls, spec: str = "default", preset: Optional[str] = None,
                  ctx: Optional[Context] = None) -> "Mesh":
        """Open a head (tmsf_head_open_ex): ``"default"`` (the built-in
        Colin27 head in MNI space, meshed from its label volume on first use
        and cached), a .msh file, or a label volume (.nii/.nii.gz, meshed with
        the preset).  :attr:`head_info` tells what happened."""
        c = _ctx(ctx)
        p = c_void_p()
        info = _lib.tmsf_head_info()
        c._call("tmsf_head_open_ex", c._ptr, _lib.encode(spec), _lib.encode(preset), byref(info),
                byref(p))
        m = cls._adopt(p.value, c, lib.tmsf_mesh_destroy)
        m.head_info = HeadInfo._from_c(info)
        m.path = m.head_info.source
        return m

    @classmethod
    def create(cls, nodes_m: Any, tetrahedra: Any, tet_tags: Any = None,
               triangles: Any = None, tri_tags: Any = None,
               ctx: Optional[Context] = None) -> "Mesh":
        """A mesh from arrays (copied): nodes (n, 3) in metres, tetrahedra
        (m, 4) 0-based, tags (m,) (None: all 1), triangles (k, 3) and their
        tags.  Inverted or degenerate tetrahedra are rejected (Error)."""
        c = _ctx(ctx)
        X = as_array(nodes_m, np.float64, (3,), "nodes_m")
        T = as_array(tetrahedra, np.int32, (4,), "tetrahedra")
        tt = None if tet_tags is None else as_array(tet_tags, np.int32, name="tet_tags")
        if tt is not None and tt.shape != (T.shape[0],):
            raise ValueError(f"tet_tags: expected shape ({T.shape[0]},), got {tt.shape}")
        F = None if triangles is None else as_array(triangles, np.int32, (3,), "triangles")
        nf = 0 if F is None else F.shape[0]
        ft = None
        if F is not None:
            ft = (np.ones(nf, np.int32) if tri_tags is None
                  else as_array(tri_tags, np.int32, name="tri_tags"))
            if ft.shape != (nf,):
                raise ValueError(f"tri_tags: expected shape ({nf},), got {ft.shape}")
        p = c_void_p()
        c._call("tmsf_mesh_create", c._ptr, X.shape[0], ptr(X), T.shape[0], ptr(T), ptr(tt),
                nf, ptr(F), ptr(ft), byref(p))
        return cls._adopt(p.value, c, lib.tmsf_mesh_destroy)

    # -- sizes and arrays ----------------------------------------------------
    @property
    def sizes(self) -> Tuple[int, int, int]:
        """(num_nodes, num_tets, num_triangles)."""
        a, b, t = c_int64(), c_int64(), c_int64()
        self._call("tmsf_mesh_get_sizes", self._ptr, byref(a), byref(b), byref(t))
        return a.value, b.value, t.value

    @property
    def num_nodes(self) -> int:
        """Number of nodes."""
        return self.sizes[0]

    @property
    def num_tets(self) -> int:
        """Number of tetrahedra."""
        return self.sizes[1]

    @property
    def num_triangles(self) -> int:
        """Number of surface triangles."""
        return self.sizes[2]

    @property
    def nodes(self) -> np.ndarray:
        """Node coordinates, (num_nodes, 3) float64, metres (read-only view)."""
        p = c_void_p()
        self._call("tmsf_mesh_get_nodes", self._ptr, byref(p))
        return view(p.value, (self.num_nodes, 3), np.float64, self._h)

    def _tets(self) -> Tuple[np.ndarray, np.ndarray]:
        t, g = c_void_p(), c_void_p()
        self._call("tmsf_mesh_get_tetrahedra", self._ptr, byref(t), byref(g))
        n = self.num_tets
        return (view(t.value, (n, 4), np.int32, self._h), view(g.value, (n,), np.int32, self._h))

    @property
    def tetrahedra(self) -> np.ndarray:
        """Tetrahedra, (num_tets, 4) int32 node indices, 0-based, positively
        oriented (read-only view)."""
        return self._tets()[0]

    @property
    def tet_tags(self) -> np.ndarray:
        """Tissue tag of each tetrahedron, (num_tets,) int32 (read-only view)."""
        return self._tets()[1]

    def _tris(self) -> Tuple[np.ndarray, np.ndarray]:
        t, g = c_void_p(), c_void_p()
        self._call("tmsf_mesh_get_triangles", self._ptr, byref(t), byref(g))
        n = self.num_triangles
        return (view(t.value, (n, 3), np.int32, self._h), view(g.value, (n,), np.int32, self._h))

    @property
    def triangles(self) -> np.ndarray:
        """Surface triangles, (num_triangles, 3) int32, 0-based (read-only view)."""
        return self._tris()[0]

    @property
    def tri_tags(self) -> np.ndarray:
        """Tag of each triangle, (num_triangles,) int32 (read-only view)."""
        return self._tris()[1]

    @property
    def tags(self) -> np.ndarray:
        """Distinct tetrahedron tags, increasing (copy)."""
        n, p = c_int(), c_void_p()
        self._call("tmsf_mesh_get_tags", self._ptr, byref(n), byref(p))
        return np.array(view(p.value, (n.value,), np.int32, self._h))

    @property
    def volumes(self) -> np.ndarray:
        """Volume of every tetrahedron, m^3 (new array)."""
        out = np.empty(self.num_tets, np.float64)
        self._call("tmsf_mesh_get_volumes", self._ptr, ptr(out))
        return out

    @property
    def bounds(self) -> Tuple[np.ndarray, np.ndarray]:
        """Bounding box (min xyz, max xyz), metres."""
        lo, hi = np.empty(3), np.empty(3)
        self._call("tmsf_mesh_get_bounds", self._ptr, ptr(lo), ptr(hi))
        return lo, hi

    @property
    def mean_edge(self) -> float:
        """Mean edge length of the tetrahedra, metres."""
        e = c_double()
        self._call("tmsf_mesh_get_mean_edge", self._ptr, byref(e))
        return e.value

    @property
    def centroids(self) -> np.ndarray:
        """Centroid of every tetrahedron, (num_tets, 3) metres (new array)."""
        return self.nodes[self.tetrahedra].mean(axis=1)

    # -- conductivities ------------------------------------------------------
    def conductivity(self, tag: int) -> float:
        """Conductivity in use for a tag, S/m (an override, else the default)."""
        s = c_double()
        self._call("tmsf_mesh_get_conductivity", self._ptr, int(tag), byref(s))
        return s.value

    def set_conductivity(self, tag: int, sigma_S_per_m: float) -> None:
        """Override the conductivity of a volume tag (finite, > 0).  A
        Simulation set up before must call setup() again to use it."""
        self._call("tmsf_mesh_set_conductivity", self._ptr, int(tag), float(sigma_S_per_m))

    @property
    def conductivities(self) -> Dict[int, float]:
        """{tag: S/m} for every tetrahedron tag."""
        return {int(t): self.conductivity(int(t)) for t in self.tags}

    # -- geometry ------------------------------------------------------------
    def scalp(self) -> Tuple[np.ndarray, np.ndarray]:
        """The outer scalp used for placement: node indices (int32) and their
        smoothed outward unit normals (n, 3); read-only views."""
        n, nodes, normals = c_int64(), c_void_p(), c_void_p()
        self._call("tmsf_mesh_get_scalp", self._ptr, byref(n), byref(nodes), byref(normals))
        return (view(nodes.value, (n.value,), np.int32, self._h),
                view(normals.value, (n.value, 3), np.float64, self._h))

    def locate(self, points_m: Any) -> np.ndarray:
        """Index of the tetrahedron containing each point (n, 3) in metres,
        -1 outside the mesh."""
        P = as_array(points_m, np.float64, (3,), "points_m").reshape(-1, 3)
        out = np.empty(P.shape[0], np.int64)
        self._call("tmsf_mesh_locate", self._ptr, P.shape[0], ptr(P), ptr(out))
        return out

    def project_to_tissue(self, point_m: Any, tag: int = 2) -> Tuple[np.ndarray, float, int]:
        """The nearest point of the tissue volume of a tag (grey matter, 2, by
        default) to a point (tmsf_target_project): (projected point in m,
        distance in m (0 inside), a tetrahedron holding it)."""
        P = vec3(point_m, "point_m")
        out = np.empty(3)
        d, t = c_double(), c_int64()
        self._call("tmsf_target_project", self._ptr, ptr(P), int(tag), ptr(out), byref(d),
                   byref(t))
        return out, d.value, t.value

    def pose_from_centre(self, centre_m: Any, ydir: Any = (0.0, 1.0, 0.0),
                         distance_m: float = 0.004) -> np.ndarray:
        """A coil pose with SimNIBS semantics (tmsf_pose_from_centre): centre
        snapped to the nearest scalp node, z into the head along the scalp
        normal, y along ydir made orthogonal, the coil distance_m out along the
        normal.  Returns the 4x4 head-from-coil matrix, translation in metres."""
        c = vec3(centre_m, "centre_m")
        y = vec3(ydir, "ydir")
        P = np.empty(16)
        self._call("tmsf_pose_from_centre", self._ptr, ptr(c), ptr(y), float(distance_m), ptr(P))
        return P.reshape(4, 4)

    def surface(self, tag: int = 1002) -> "Surface":
        """The tissue surface of a triangle tag (1002 grey matter, 1005 scalp;
        derived from the tetrahedra when the mesh has no such triangles)."""
        return Surface(self, tag)

    # -- output --------------------------------------------------------------
    def write(self, path: "str | os.PathLike[str]", field: "Optional[Field]" = None) -> None:
        """Write Gmsh 2.2 binary (mm); with a field, its E, magnE, J and magnJ
        as element data (SimNIBS names)."""
        fp = None if field is None else field._ptr
        self._call("tmsf_mesh_write", self._ptr, fp, _lib.encode(path))

    def __repr__(self) -> str:
        if self.closed:
            return "<tmsfield.Mesh closed>"
        n, t, f = self.sizes
        return f"<tmsfield.Mesh {n} nodes, {t} tetrahedra, {f} triangles, tags {list(self.tags)}>"


class Surface(_Object):
    """A tissue boundary surface of a mesh (surface.h): its own vertices
    (m), triangles, the mesh node of each vertex and unit normals oriented
    outward from the tissue (read-only views).  Keeps its mesh alive."""

    _kind = "surface"

    def __init__(self, mesh: Mesh, tag: int = 1002) -> None:
        p = c_void_p()
        mesh._call("tmsf_surface_create", mesh._ptr, int(tag), byref(p))
        self._own(p.value, mesh.context, lib.tmsf_surface_destroy, [mesh._h])
        self.mesh = mesh
        self.tag = int(tag)

    @property
    def sizes(self) -> Tuple[int, int]:
        """(num_vertices, num_triangles)."""
        a, b = c_int64(), c_int64()
        self._call("tmsf_surface_get_sizes", self._ptr, byref(a), byref(b))
        return a.value, b.value

    def _get(self, fname: str, cols: int, dtype: Any, n: int) -> np.ndarray:
        p = c_void_p()
        self._call(fname, self._ptr, byref(p))
        return view(p.value, (n, cols), dtype, self._h)

    @property
    def vertices(self) -> np.ndarray:
        """(num_vertices, 3) metres."""
        return self._get("tmsf_surface_get_vertices", 3, np.float64, self.sizes[0])

    @property
    def triangles(self) -> np.ndarray:
        """(num_triangles, 3) int32 indices into :attr:`vertices`."""
        return self._get("tmsf_surface_get_triangles", 3, np.int32, self.sizes[1])

    @property
    def mesh_nodes(self) -> np.ndarray:
        """Mesh node index of each vertex, (num_vertices,) int32."""
        return self._get("tmsf_surface_get_mesh_nodes", 1, np.int32, self.sizes[0]).reshape(-1)

    @property
    def vertex_normals(self) -> np.ndarray:
        """Smoothed unit normals per vertex, (num_vertices, 3)."""
        return self._get("tmsf_surface_get_vertex_normals", 3, np.float64, self.sizes[0])

    @property
    def triangle_normals(self) -> np.ndarray:
        """Unit normals per triangle, (num_triangles, 3)."""
        return self._get("tmsf_surface_get_triangle_normals", 3, np.float64, self.sizes[1])

    @property
    def area(self) -> float:
        """Total area, m^2."""
        a = c_double()
        self._call("tmsf_surface_get_area", self._ptr, byref(a))
        return a.value

    def nearest(self, points_m: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact nearest surface points of points (n, 3): (closest (n, 3) m,
        triangle index (n,), distance (n,) m)."""
        P = as_array(points_m, np.float64, (3,), "points_m").reshape(-1, 3)
        n = P.shape[0]
        cl, tri, d = np.empty((n, 3)), np.empty(n, np.int64), np.empty(n)
        self._call("tmsf_surface_nearest", self._ptr, n, ptr(P), ptr(cl), ptr(tri), ptr(d))
        return cl, tri, d

    def __repr__(self) -> str:
        if self.closed:
            return "<tmsfield.Surface closed>"
        v, t = self.sizes
        return f"<tmsfield.Surface tag {self.tag}: {v} vertices, {t} triangles>"


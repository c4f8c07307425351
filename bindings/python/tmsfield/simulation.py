# SPDX-License-Identifier: BSD-3-Clause
"""The FEM problem of one head (simulation.h) and its fields (field.h,
output.h)."""
from __future__ import annotations

import enum
import math
import os
from ctypes import byref, c_char_p, c_double, c_int64, c_void_p
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import _lib
from ._core import (Context, _ctx, _Object, as_array, pose16, poses16, ptr, view)
from ._lib import lib
from .coil import Coil
from .mesh import Mesh

if TYPE_CHECKING:  # pragma: no cover
    from .region import Metric, Region


class SimInfo(enum.IntEnum):
    """Quantities a simulation reports (simulation.h: tmsf_simulation_info)."""
    ASSEMBLY_SECONDS = 0
    SETUP_SECONDS = 1
    PRIMARY_SECONDS = 2
    RHS_SECONDS = 3
    SOLVE_SECONDS = 4
    FIELD_SECONDS = 5
    ITERATIONS = 6
    RESIDUAL = 7
    NODES_OUTSIDE_COIL_GRID = 8
    MATRIX_NONZEROS = 9
    MEMORY_BYTES = 10
    ENERGY_TOLERANCE = 11
    PRIMARY_METHOD = 12
    PRIMARY_GRID_SECONDS = 13
    PRIMARY_GRID_ERROR = 14


_PRIMARY = {"auto": 0, "direct": 1, "grid": 2}
_SAMPLE = {"element": 0, "recovered": 1}
_QUANTITY = {"magnE": 0, "E": 1}


def _mode(mode: str) -> int:
    try:
        return _SAMPLE[mode]
    except KeyError:
        raise ValueError(f"mode: expected 'element' or 'recovered', got {mode!r}") from None


def _tags(tags: Optional[Sequence[int]]) -> Tuple[Optional[np.ndarray], int]:
    if tags is None or len(tags) == 0:
        return None, 0
    t = np.ascontiguousarray(tags, dtype=np.int32).reshape(-1)
    return t, t.shape[0]


class Simulation(_Object):
    """The FEM problem for one head: set up once (assembly + solver setup),
    then solve per coil pose.  Keeps its mesh alive.

    Args:
        mesh: the head.
        solver: "auto" (default: cholmod up to 20,000 unknowns, else amg),
            "cg", "amg", "cholmod", "petsc".
        field_tolerance: the iterative solvers stop when E is within this of the
            converged field (relative L2; the library's default 1e-4).
        tolerance: the residual rule instead (rtol), as SimNIBS.
        primary: "auto", "direct" or "grid" (how dipole coils reach the nodes).
    """

    _kind = "simulation"

    def __init__(self, mesh: Mesh, solver: str = "auto", field_tolerance: Optional[float] = None,
                 tolerance: Optional[float] = None, primary: str = "auto") -> None:
        c = mesh.context
        p = c_void_p()
        c._call("tmsf_simulation_create", c._ptr, mesh._ptr, byref(p))
        self._own(p.value, c, lib.tmsf_simulation_destroy, [mesh._h])
        self.mesh = mesh
        self._mesh_h = mesh._h  # fields borrow the mesh even if its wrapper is closed
        self._is_setup = False
        if solver != "auto":
            self._call("tmsf_simulation_set_solver", self._ptr, _lib.encode(solver))
        if field_tolerance is not None:
            self._call("tmsf_simulation_set_field_tolerance", self._ptr, float(field_tolerance))
        if tolerance is not None:
            self._call("tmsf_simulation_set_tolerance", self._ptr, float(tolerance))
        if primary != "auto":
            if primary not in _PRIMARY:
                raise ValueError(f"primary: expected one of {list(_PRIMARY)}, got {primary!r}")
            self._call("tmsf_simulation_set_primary_method", self._ptr, _PRIMARY[primary])

    def setup(self) -> "Simulation":
        """Assemble with the mesh's current conductivities and set up the
        solver (again after conductivity changes).  Returns self."""
        self._call("tmsf_simulation_setup", self._ptr)
        self._is_setup = True
        return self

    def _ensure_setup(self) -> None:
        if not self._is_setup:
            self.setup()

    @property
    def solver(self) -> str:
        """The solver in use after setup (what "auto" chose), or the one requested."""
        s = c_char_p()
        self._call("tmsf_simulation_get_solver", self._ptr, byref(s))
        return _lib.decode(s.value)

    def solve(self, coil: Coil, pose_m: Any, didt_A_per_s: float = 1e6) -> "Field":
        """The field of one coil pose (4x4 head-from-coil, translation in
        metres) at dI/dt (A/s; default 1 A/us).  Sets up on first use."""
        self._ensure_setup()
        P = pose16(pose_m)
        f = c_void_p()
        self._call("tmsf_simulation_solve", self._ptr, coil._ptr, ptr(P), float(didt_A_per_s),
                   byref(f))
        return Field._new(f.value, self.mesh, self._mesh_h, coil=coil,
                          pose_m=P.reshape(4, 4).copy())

    def solve_many(self, coil: Coil, poses_m: Any, didt_A_per_s: Any = 1e6) -> List["Field"]:
        """Fields of several poses (n, 4, 4) in one block solve; dI/dt a
        number or one per pose."""
        self._ensure_setup()
        P = poses16(poses_m)
        n = P.shape[0]
        D = np.ascontiguousarray(np.broadcast_to(np.asarray(didt_A_per_s, np.float64), (n,)))
        out = (c_void_p * n)()
        self._call("tmsf_simulation_solve_many", self._ptr, coil._ptr, n, ptr(P), ptr(D), out)
        return [Field._new(out[i], self.mesh, self._mesh_h, coil=coil,
                           pose_m=P[i].reshape(4, 4).copy()) for i in range(n)]

    def info(self, what: "SimInfo | int") -> float:
        """A reported quantity (see :class:`SimInfo`)."""
        v = c_double()
        self._call("tmsf_simulation_get_info", self._ptr, int(what), byref(v))
        return v.value

    @property
    def stats(self) -> Dict[str, float]:
        """Every :class:`SimInfo` quantity by lower-case name."""
        return {w.name.lower(): self.info(w) for w in SimInfo}

    def __repr__(self) -> str:
        return "<tmsfield.Simulation closed>" if self.closed else \
            f"<tmsfield.Simulation solver {self.solver!r}" \
            f"{'' if self._is_setup else ' (not set up)'}>"


@dataclass(frozen=True)
class Hdf5Metadata:
    """Metadata of an HDF5 field file (output.h: tmsf_hdf5_metadata)."""
    coil_name: str
    pose_m: Optional[np.ndarray]   #: 4x4, metres (None when the file has none)
    didt_A_per_s: float
    library_version: str
    date: str


class Field(_Object):
    """The induced electric field of one solve: E constant per tetrahedron
    (V/m).  Keeps its mesh alive (not the simulation).

    :attr:`E` is a read-only (num_tets, 3) view of the library's memory; the
    other arrays are computed into new numpy arrays.
    """

    _kind = "field"
    mesh: Mesh  #: the Mesh wrapper the field lives on
    coil: Optional[Coil]
    pose_m: Optional[np.ndarray]

    @classmethod
    def _new(cls, p: int, mesh: Mesh, mesh_h: Any, coil: Optional[Coil] = None,
             pose_m: Optional[np.ndarray] = None) -> "Field":
        f = cls._adopt(p, mesh.context, lib.tmsf_field_destroy, [mesh_h])
        f.mesh = mesh
        f._mesh_h = mesh_h
        n = c_int64()
        t = c_int64()
        lib.tmsf_mesh_get_sizes(mesh_h.ptr, byref(n), byref(t), None)
        f._num_nodes, f._num_tets = n.value, t.value
        f.coil = coil
        f.pose_m = pose_m
        return f

    @classmethod
    def read_hdf5(cls, path: "str | os.PathLike[str]",
                  ctx: Optional[Context] = None) -> Tuple["Field", Hdf5Metadata]:
        """Read a file written by :meth:`write_hdf5`: a new field on a new
        mesh (``field.mesh``), and the metadata."""
        c = _ctx(ctx)
        m, f = c_void_p(), c_void_p()
        meta = _lib.tmsf_hdf5_metadata()
        c._call("tmsf_hdf5_read", c._ptr, _lib.encode(path), byref(m), byref(f), byref(meta))
        mesh = Mesh._adopt(m.value, c, lib.tmsf_mesh_destroy)
        field = cls._new(f.value, mesh, mesh._h)
        pose = np.array(meta.head_from_coil_m, np.float64).reshape(4, 4) if meta.have_pose else None
        field.pose_m = pose
        md = Hdf5Metadata(_lib.decode(meta.coil_name), pose, float(meta.didt_A_per_s),
                          _lib.decode(meta.library_version), _lib.decode(meta.date))
        return field, md

    @property
    def didt(self) -> float:
        """dI/dt the field was computed for, A/s."""
        d = c_double()
        self._call("tmsf_field_get_didt", self._ptr, byref(d))
        return d.value

    @property
    def E(self) -> np.ndarray:
        """E per tetrahedron, (num_tets, 3) V/m (read-only view, no copy)."""
        p = c_void_p()
        self._call("tmsf_field_get_E", self._ptr, byref(p))
        return view(p.value, (self._num_tets, 3), np.float64, self._h)

    @property
    def potential(self) -> np.ndarray:
        """Electric potential at the nodes, (num_nodes,) V (read-only view)."""
        p = c_void_p()
        self._call("tmsf_field_get_potential", self._ptr, byref(p))
        return view(p.value, (self._num_nodes,), np.float64, self._h)

    @property
    def conductivity(self) -> np.ndarray:
        """Conductivity of each tetrahedron, S/m (read-only view)."""
        p = c_void_p()
        self._call("tmsf_field_get_conductivity", self._ptr, byref(p))
        return view(p.value, (self._num_tets,), np.float64, self._h)

    @property
    def magnE(self) -> np.ndarray:
        """|E| per tetrahedron, (num_tets,) V/m (new array)."""
        out = np.empty(self._num_tets)
        self._call("tmsf_field_get_magnE", self._ptr, ptr(out))
        return out

    @property
    def J(self) -> np.ndarray:
        """J = sigma E per tetrahedron, (num_tets, 3) A/m^2 (new array)."""
        out = np.empty((self._num_tets, 3))
        self._call("tmsf_field_get_J", self._ptr, ptr(out))
        return out

    @property
    def magnJ(self) -> np.ndarray:
        """|J| per tetrahedron, A/m^2 (new array)."""
        out = np.empty(self._num_tets)
        self._call("tmsf_field_get_magnJ", self._ptr, ptr(out))
        return out

    def recover_nodal(self, tag: int) -> np.ndarray:
        """E at the nodes of one tissue by superconvergent patch recovery,
        (num_nodes, 3) V/m, NaN outside the tissue."""
        out = np.empty((self._num_nodes, 3))
        self._call("tmsf_field_recover_nodal", self._ptr, int(tag), ptr(out))
        return out

    def sample(self, points_m: Any, mode: str = "element") -> Tuple[np.ndarray, np.ndarray]:
        """E at points (n, 3) in metres: (E (n, 3) V/m, NaN outside; the
        containing tetrahedron (n,), -1 outside).  mode "element" (the
        element's constant E) or "recovered" (patch-recovered, interpolated)."""
        X = as_array(points_m, np.float64, (3,), "points_m").reshape(-1, 3)
        E = np.empty_like(X)
        t = np.empty(X.shape[0], np.int64)
        self._call("tmsf_field_sample", self._ptr, _mode(mode), X.shape[0], ptr(X), ptr(E), ptr(t))
        return E, t

    def percentiles(self, pct: Any, tag: int = 0) -> np.ndarray:
        """Volume-weighted percentiles (0..100) of |E| over the tetrahedra of
        a tag (0: all), V/m."""
        p = np.ascontiguousarray(np.atleast_1d(pct), np.float64)
        out = np.empty_like(p)
        self._call("tmsf_field_magnE_percentiles", self._ptr, int(tag), p.shape[0], ptr(p),
                   ptr(out))
        return out

    def metric(self, metric: "Metric | str", region: "Region") -> float:
        """A metric ("mean", "p99", "meanvec", "dir:x,y,z", "normal", or a
        :class:`~tmsfield.Metric`) of this field on a region, V/m."""
        from .region import Metric
        return Metric.coerce(metric, self._ctx).evaluate(self, region)

    # -- output --------------------------------------------------------------
    def write_msh(self, path: "str | os.PathLike[str]") -> None:
        """Write the mesh with E, magnE, J and magnJ (Gmsh 2.2 binary, mm)."""
        self._call("tmsf_mesh_write", self._mesh_h.ptr, self._ptr, _lib.encode(path))

    def write_nifti(self, path: "str | os.PathLike[str]",
                    reference: "Optional[str | os.PathLike[str]]" = None,
                    dims: Optional[Sequence[int]] = None, affine_mm: Any = None,
                    tags: Optional[Sequence[int]] = None, quantity: str = "magnE",
                    mode: str = "element") -> None:
        """Write |E| ("magnE") or E ("E", 4-D) as NIfTI on the grid of a
        reference image, or on a grid given by dims (nx, ny, nz) and a 4x4
        voxel-to-mm affine.  tags: keep only these tissues (others 0)."""
        t, nt = _tags(tags)
        if quantity not in _QUANTITY:
            raise ValueError(f"quantity: expected 'magnE' or 'E', got {quantity!r}")
        q = _QUANTITY[quantity]
        if reference is not None:
            self._call("tmsf_field_write_nifti", self._ptr, _mode(mode), _lib.encode(reference),
                       ptr(t), nt, q, _lib.encode(path))
            return
        if dims is None or affine_mm is None:
            raise ValueError("write_nifti needs a reference image, or dims and affine_mm")
        d = np.ascontiguousarray(dims, np.int64).reshape(3)
        A = pose16(affine_mm, "affine_mm")
        self._call("tmsf_field_write_nifti_grid", self._ptr, _mode(mode), ptr(d), ptr(A), ptr(t),
                   nt, q, _lib.encode(path))

    def resample_grid(self, dims: Sequence[int], affine_mm: Any,
                      tags: Optional[Sequence[int]] = None, quantity: str = "magnE",
                      mode: str = "element") -> np.ndarray:
        """E or |E| on a voxel grid (dims, voxel-to-mm affine): an array
        (nz, ny, nx) for magnE, (3, nz, ny, nx) for E (float32, V/m; voxels
        outside the mesh or the tags 0)."""
        t, nt = _tags(tags)
        d = np.ascontiguousarray(dims, np.int64).reshape(3)
        A = pose16(affine_mm, "affine_mm")
        q = _QUANTITY[quantity]
        shape = (int(d[2]), int(d[1]), int(d[0]))
        out = np.empty(((3,) if q else ()) + shape, np.float32)
        self._call("tmsf_field_resample_grid", self._ptr, _mode(mode), ptr(d), ptr(A), ptr(t), nt,
                   q, ptr(out))
        return out

    def write_gifti(self, prefix: "str | os.PathLike[str]", surface_tag: int = 1002,
                    mode: str = "element") -> None:
        """PREFIX.surf.gii + PREFIX.func.gii: |E| on a surface (1002 cortex)."""
        self._call("tmsf_field_write_gifti", self._ptr, _mode(mode), int(surface_tag),
                   _lib.encode(prefix))

    def write_hdf5(self, path: "str | os.PathLike[str]", coil: Optional[Coil] = None,
                   pose_m: Any = None, nodal_tags: Sequence[int] = ()) -> None:
        """One HDF5 file with mesh, fields and metadata (docs/hdf5-layout.md);
        coil and pose default to those of the solve."""
        coil = coil if coil is not None else self.coil
        pose = pose_m if pose_m is not None else self.pose_m
        P = None if pose is None else pose16(pose)
        t, nt = _tags(nodal_tags)
        self._call("tmsf_field_write_hdf5", self._ptr, None if coil is None else coil._ptr, ptr(P),
                   ptr(t), nt, _lib.encode(path))

    def __repr__(self) -> str:
        if self.closed:
            return "<tmsfield.Field closed>"
        m = self.magnE
        return (f"<tmsfield.Field {m.shape[0]} tetrahedra, dI/dt {self.didt:g} A/s, "
                f"max |E| {m.max() if m.size else math.nan:.4g} V/m>")

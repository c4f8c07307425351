# SPDX-License-Identifier: BSD-3-Clause
"""Coil placement: the search space of poses (search.h) and the pose that
maximises an objective on target regions (placement.h)."""
from __future__ import annotations

import dataclasses
import enum
from ctypes import byref, c_double, c_int, c_int64, c_void_p
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

from . import _lib
from ._core import Error, Status, _Object, as_array, pose16, poses16, ptr, vec3, view
from ._lib import lib
from .coil import Casing, Coil
from .mesh import Mesh
from .region import Metric, Region
from .simulation import Simulation


def _search_defaults() -> _lib.tmsf_search_params:
    p = _lib.tmsf_search_params()
    lib.tmsf_search_params_default(byref(p))
    return p


_D = _search_defaults()


@dataclass
class SearchParams:
    """Parameters of the search space (search.h: tmsf_search_params), SI
    units.  Defaults are the library's (tmsf_search_params_default)."""
    radius_m: float = _D.radius_m                       #: positions within this of P0
    spacing_m: float = _D.spacing_m                     #: position grid spacing
    angle_min_deg: float = _D.angle_min_deg             #: first handle angle
    angle_max_deg: float = _D.angle_max_deg             #: last handle angle
    angle_step_deg: float = _D.angle_step_deg           #: angle step
    distance_m: float = _D.distance_m                   #: coil centre to scalp
    normal_smoothing_m: float = _D.normal_smoothing_m   #: sigma of the normal smoothing
    reference_direction: Tuple[float, float, float] = tuple(_D.reference_direction)  # type: ignore
    margin_m: float = _D.margin_m                       #: least clearance from the scalp
    casing_spacing_m: float = _D.casing_spacing_m       #: largest gap of casing test points

    def _to_c(self) -> _lib.tmsf_search_params:
        p = _lib.tmsf_search_params()
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "reference_direction":
                p.reference_direction[:] = [float(x) for x in vec3(v, f.name)]
            else:
                setattr(p, f.name, float(v))
        return p

    @classmethod
    def _from_c(cls, p: _lib.tmsf_search_params) -> "SearchParams":
        kw = {f.name: getattr(p, f.name) for f in dataclasses.fields(cls)}
        kw["reference_direction"] = tuple(p.reference_direction)
        return cls(**kw)


del _D


class Search(_Object):
    """The search space of coil poses around a target (search.h): scalp
    positions on a grid in the tangent plane at the target's scalp projection,
    handle angles, the coil distance_m out along the smoothed normal, and the
    collision test of a casing (or the coil's elements).  Keeps its mesh alive.

    Args:
        mesh: the head.
        target_m: the target (head frame, metres), on or under the scalp.
        params: a :class:`SearchParams`; keyword arguments override its fields
            (e.g. ``radius_m=0.008, spacing_m=0.004, angle_step_deg=30``).
        casing: the coil casing for the collision test (None: the coil's
            elements, or only the coil origin without a coil).
        coil: used for the collision test when there is no casing.
    """

    _kind = "search"

    def __init__(self, mesh: Mesh, target_m: Any, params: Optional[SearchParams] = None,
                 casing: Optional[Casing] = None, coil: Optional[Coil] = None,
                 **overrides: Any) -> None:
        prm = dataclasses.replace(params or SearchParams(), **overrides)
        cp = prm._to_c()
        t = vec3(target_m, "target_m")
        p = c_void_p()
        mesh._call("tmsf_search_create", mesh._ptr, ptr(t), byref(cp),
                   None if casing is None else casing._ptr, None if coil is None else coil._ptr,
                   byref(p))
        self._own(p.value, mesh.context, lib.tmsf_search_destroy, [mesh._h])
        self.mesh = mesh
        self.target_m = t.copy()

    @property
    def params(self) -> SearchParams:
        """The parameters used."""
        cp = _lib.tmsf_search_params()
        self._call("tmsf_search_get_params", self._ptr, byref(cp))
        return SearchParams._from_c(cp)

    @property
    def projection(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(P0, n0, e_u, e_v): the target's scalp projection (m), the
        smoothed outward normal there and the tangent basis."""
        a, b, c, d = (np.empty(3) for _ in range(4))
        self._call("tmsf_search_get_projection", self._ptr, ptr(a), ptr(b), ptr(c), ptr(d))
        return a, b, c, d

    def _count(self, fname: str) -> int:
        n = c_int64()
        self._call(fname, self._ptr, byref(n))
        return n.value

    @property
    def num_positions(self) -> int:
        """Grid positions within the radius (usable or not)."""
        return self._count("tmsf_search_get_num_positions")

    @property
    def num_angles(self) -> int:
        """Handle angles."""
        return self._count("tmsf_search_get_num_angles")

    @property
    def num_poses(self) -> int:
        """Valid poses (after the collision test)."""
        return self._count("tmsf_search_get_num_poses")

    def __len__(self) -> int:
        return self.num_poses

    @property
    def num_dropped(self) -> Tuple[int, int]:
        """Poses dropped (for collision, at positions without a scalp point)."""
        a, b = c_int64(), c_int64()
        self._call("tmsf_search_get_num_dropped", self._ptr, byref(a), byref(b))
        return a.value, b.value

    @property
    def angles_deg(self) -> np.ndarray:
        """The handle angles, degrees (read-only view)."""
        p = c_void_p()
        self._call("tmsf_search_get_angles", self._ptr, byref(p))
        return view(p.value, (self.num_angles,), np.float64, self._h)

    @property
    def positions(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(uv (n, 2) m, scalp points (n, 3) m, normals (n, 3)); NaN where a
        position has no scalp point (read-only views)."""
        a, b, c = c_void_p(), c_void_p(), c_void_p()
        self._call("tmsf_search_get_positions", self._ptr, byref(a), byref(b), byref(c))
        n = self.num_positions
        return (view(a.value, (n, 2), np.float64, self._h),
                view(b.value, (n, 3), np.float64, self._h),
                view(c.value, (n, 3), np.float64, self._h))

    @property
    def poses(self) -> np.ndarray:
        """The valid poses, (num_poses, 4, 4) head-from-coil, metres
        (read-only view)."""
        p = c_void_p()
        self._call("tmsf_search_get_poses", self._ptr, byref(p), None, None, None)
        return view(p.value, (self.num_poses, 4, 4), np.float64, self._h)

    @property
    def u_v_angle(self) -> np.ndarray:
        """(u_m, v_m, angle_deg) of each valid pose, (num_poses, 3) (read-only view)."""
        p = c_void_p()
        self._call("tmsf_search_get_poses", self._ptr, None, byref(p), None, None)
        return view(p.value, (self.num_poses, 3), np.float64, self._h)

    def pose_at(self, u_m: float, v_m: float, angle_deg: float) -> np.ndarray:
        """The pose at tangent-plane coordinates and handle angle (no
        collision test), 4x4 metres."""
        P = np.empty(16)
        self._call("tmsf_search_pose_at", self._ptr, float(u_m), float(v_m), float(angle_deg),
                   ptr(P))
        return P.reshape(4, 4)

    def clearance(self, pose_m: Any) -> Tuple[float, bool]:
        """(clearance m, valid): the smallest signed distance of the test
        points from the scalp for a pose (> 0 outside the head), and whether
        the pose passes the collision test."""
        P = pose16(pose_m)
        d, ok = c_double(), c_int()
        self._call("tmsf_search_pose_clearance", self._ptr, ptr(P), byref(d), byref(ok))
        return d.value, bool(ok.value)

    def signed_distance(self, points_m: Any) -> np.ndarray:
        """Signed distance of points (n, 3) from the scalp, m (> 0 outside)."""
        X = as_array(points_m, np.float64, (3,), "points_m").reshape(-1, 3)
        out = np.empty(X.shape[0])
        self._call("tmsf_search_signed_distance", self._ptr, X.shape[0], ptr(X), ptr(out))
        return out

    def __repr__(self) -> str:
        if self.closed:
            return "<tmsfield.Search closed>"
        return (f"<tmsfield.Search {self.num_positions} positions x {self.num_angles} angles: "
                f"{self.num_poses} valid poses>")


class Method(enum.IntEnum):
    """How placement poses are evaluated (placement.h)."""
    FAST = 0    #: reciprocity (one adjoint solve per functional, then a grid interpolation)
    DIRECT = 1  #: one FEM solve per pose
    NODAL = 2   #: the exact reciprocity sum over the nodes (reference for FAST)


def _method(m: "Method | str | int") -> int:
    if isinstance(m, str):
        try:
            return int(Method[m.upper()])
        except KeyError:
            raise ValueError(f"method: expected 'fast', 'direct' or 'nodal', got {m!r}") from None
    return int(Method(m))


class PlacementInfo(enum.IntEnum):
    """Quantities of the last prepare (placement.h: tmsf_placement_info)."""
    ADJOINT_SECONDS = 0
    GRID_SECONDS = 1
    GRID_POINTS = 2
    GRID_BYTES = 3
    NUM_FUNCTIONALS = 4
    LAST_OUTSIDE = 5


@dataclass
class PlacementResult:
    """Result of :meth:`Placement.run` (placement.h: tmsf_placement_result).

    Objectives are V/m at 1 A/us (the metric's value at dI/dt = 1e6 A/s).
    """
    pose: np.ndarray             #: best pose, 4x4 head-from-coil, translation in metres
    u_m: float                   #: its search coordinates
    v_m: float
    angle_deg: float
    objective: float             #: its objective by the method used
    objective_direct: float      #: the same from a direct solve
    top_poses: np.ndarray        #: (num_top, 4, 4) best grid poses, metres, best first
    top_objectives: np.ndarray   #: (num_top,)
    num_evaluated: int           #: grid poses evaluated
    num_refine_evaluations: int
    num_direct_solves: int
    time_prepare_s: float
    time_search_s: float
    time_refine_s: float
    time_rerank_s: float
    poses_per_second: float
    method: str = "fast"
    extra: dict = field(default_factory=dict)

    @property
    def pose_mm(self) -> np.ndarray:
        """The best pose with the translation in millimetres (SimNIBS matsimnibs)."""
        P = self.pose.copy()
        P[:3, 3] *= 1e3
        return P

    @property
    def centre_m(self) -> np.ndarray:
        """The coil centre, metres."""
        return self.pose[:3, 3].copy()

    @property
    def centre_mm(self) -> np.ndarray:
        """The coil centre, millimetres."""
        return self.pose[:3, 3] * 1e3

    @classmethod
    def _from_c(cls, r: _lib.tmsf_placement_result, method: str) -> "PlacementResult":
        n = int(r.num_top)
        top = np.ctypeslib.as_array(r.top_pose)[:n].reshape(n, 4, 4).copy()
        return cls(np.array(r.pose[:]).reshape(4, 4), r.u_m, r.v_m, r.angle_deg, r.objective,
                   r.objective_direct, top, np.array(r.top_objective[:n]), int(r.num_evaluated),
                   int(r.num_refine_evaluations), int(r.num_direct_solves), r.time_prepare_s,
                   r.time_search_s, r.time_refine_s, r.time_rerank_s, r.poses_per_second, method)


ProgressFn = Callable[[str, float], Optional[bool]]


class Placement(_Object):
    """The coil pose maximising an objective on target regions (placement.h):

        J(pose) = sum_t w_t metric_t(E; region_t) - sum_a w_a |mean E|_a - w_f focality

    at 1 A/us, evaluated fast (reciprocity) or directly (a FEM solve per
    pose).  Keeps the simulation, the coil and the added regions alive.

    Example::

        pl = Placement(sim, coil)
        pl.add_target(Region.target(mesh, target_m, 0.005), "meanvec")
        res = pl.run(Search(mesh, target_m, casing=coil.casing(), coil=coil))
    """

    _kind = "placement"

    def __init__(self, simulation: Simulation, coil: Coil) -> None:
        simulation._ensure_setup()
        p = c_void_p()
        simulation._call("tmsf_placement_create", simulation._ptr, coil._ptr, byref(p))
        self._own(p.value, simulation.context, lib.tmsf_placement_destroy,
                  [simulation._h, coil._h])
        self.simulation = simulation
        self.coil = coil
        self.targets: List[Tuple[Region, Metric, float]] = []
        self.avoids: List[Tuple[Region, float]] = []

    def add_target(self, region: Region, metric: "Metric | str" = "meanvec",
                   weight: float = 1.0) -> None:
        """Add weight x metric(E on region) to the objective."""
        m = Metric.coerce(metric, self._ctx)
        self._call("tmsf_placement_add_target", self._ptr, region._ptr, byref(m._m), float(weight))
        assert self._h is not None
        self._h.parents.append(region._h)  # the C placement borrows the region
        self.targets.append((region, m, float(weight)))

    def add_avoid(self, region: Region, weight: float = 1.0) -> None:
        """Subtract weight x |mean E| on a region to spare."""
        self._call("tmsf_placement_add_avoid", self._ptr, region._ptr, float(weight))
        assert self._h is not None
        self._h.parents.append(region._h)
        self.avoids.append((region, float(weight)))

    def add_focality(self, fraction: float, weight: float) -> None:
        """Subtract weight x the grey-matter volume (cm^3) where |E| >=
        fraction x its 99.9th percentile (direct solves only)."""
        self._call("tmsf_placement_add_focality", self._ptr, float(fraction), float(weight))

    @property
    def num_terms(self) -> int:
        """Terms of the objective (targets, avoids, focality)."""
        n = c_int()
        self._call("tmsf_placement_get_num_terms", self._ptr, byref(n))
        return n.value

    def prepare(self, poses_m: Any, margin_m: float = 0.0, spacing_m: float = 0.0) -> None:
        """Prepare the fast evaluation for poses (n, 4, 4) near these (the
        adjoint solves and the reciprocity grid, dilated by margin_m)."""
        P = poses16(poses_m)
        self._call("tmsf_placement_prepare", self._ptr, P.shape[0], ptr(P), float(margin_m),
                   float(spacing_m))

    def prepare_search(self, search: Search, grid_spacing_m: float = 0.0) -> None:
        """Prepare the fast evaluation for the poses of a search space."""
        self._call("tmsf_placement_prepare_search", self._ptr, search._ptr, float(grid_spacing_m))

    def evaluate(self, poses_m: Any, method: "Method | str" = "direct"
                 ) -> Tuple[np.ndarray, np.ndarray]:
        """Objective (n,) of poses (n, 4, 4) at 1 A/us and every term's value
        (n, num_terms), unweighted.  "fast" needs :meth:`prepare` first
        (poses outside its grid give NaN)."""
        P = poses16(poses_m)
        n = P.shape[0]
        obj = np.empty(n)
        terms = np.empty((n, self.num_terms))
        self._call("tmsf_placement_evaluate", self._ptr, _method(method), n, ptr(P), ptr(obj),
                   ptr(terms))
        return obj, terms

    def info(self, what: "PlacementInfo | int") -> float:
        """A quantity of the last prepare (see :class:`PlacementInfo`)."""
        v = c_double()
        self._call("tmsf_placement_get_info", self._ptr, int(what), byref(v))
        return v.value

    def run(self, search: Search, method: "Method | str" = "fast", top_n: int = 10,
            refine: bool = True, refine_starts: int = 3, rerank: int = 10,
            grid_spacing_m: float = 0.0, progress: Optional[ProgressFn] = None
            ) -> PlacementResult:
        """Evaluate every valid pose of the search, refine the best continuously
        (GSL Nelder-Mead), re-rank non-linear objectives by direct solves and
        check the winner by a direct solve.

        progress(stage, fraction) is called with "adjoint", "grid", "search",
        "refine", "rerank"; return True to cancel (Error ERR_CANCELLED).  An
        exception raised in it cancels the run and is re-raised.
        """
        o = _lib.tmsf_placement_options()
        lib.tmsf_placement_options_default(byref(o))
        o.method = _method(method)
        o.top_n = int(top_n)
        o.refine = 1 if refine else 0
        o.refine_starts = int(refine_starts)
        o.rerank = int(rerank)
        o.grid_spacing_m = float(grid_spacing_m)
        raised: List[BaseException] = []
        cb = None
        if progress is not None:
            def _cb(user: Any, stage: bytes, frac: float) -> int:
                try:
                    return 1 if progress(_lib.decode(stage), frac) else 0
                except BaseException as e:  # noqa: BLE001 - re-raised below
                    raised.append(e)
                    return 1
            cb = _lib.PROGRESS_FN(_cb)
            o.progress = cb
        r = _lib.tmsf_placement_result()
        try:
            self._call("tmsf_placement_run", self._ptr, search._ptr, byref(o), byref(r))
        except Error as e:
            if raised and e.status == Status.ERR_CANCELLED:
                raise raised[0] from e
            raise
        finally:
            del cb
        return PlacementResult._from_c(r, Method(o.method).name.lower())

    def __repr__(self) -> str:
        return "<tmsfield.Placement closed>" if self.closed else \
            f"<tmsfield.Placement {self.num_terms} terms, coil {self.coil.name!r}>"


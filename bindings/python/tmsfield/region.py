# SPDX-License-Identifier: BSD-3-Clause
"""Target regions (region.h, targets.h) and field metrics (dose.h)."""
from __future__ import annotations

import enum
from ctypes import byref, c_double, c_int, c_int64, c_void_p, create_string_buffer
from typing import TYPE_CHECKING, Any, Optional, Sequence, Tuple

import numpy as np

from . import _lib
from ._core import Context, _ctx, _Object, as_array, ptr, vec3, view
from ._lib import lib
from .mesh import Mesh

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Field


class MetricKind(enum.IntEnum):
    """What a metric measures (dose.h: tmsf_metric_kind)."""
    MEAN = 0         #: mean |E|
    PERCENTILE = 1   #: a percentile of |E|
    DIRECTION = 2    #: mean of E . d for a fixed direction d
    NORMAL = 3       #: mean of E . n, n the local cortical normal (outward)
    MEAN_VECTOR = 4  #: |mean E|


class Metric:
    """A field metric on a region, all volume-weighted (a plain value; dose.h).

    Build one with :meth:`parse` ("mean", "p99", "dir:0,1,0", "normal",
    "normal:1002", "meanvec") or the class methods :meth:`mean`,
    :meth:`percentile_of`, :meth:`along`, :meth:`normal`, :meth:`meanvec`.
    """

    __slots__ = ("_m",)

    def __init__(self, kind: "MetricKind | int" = MetricKind.MEAN_VECTOR, percentile: float = 0.0,
                 direction: Sequence[float] = (0.0, 0.0, 0.0), surface_tag: int = 0,
                 ctx: Optional[Context] = None) -> None:
        m = _lib.tmsf_metric()
        m.kind = int(kind)
        m.percentile = float(percentile)
        m.direction[:] = [float(x) for x in vec3(direction, "direction")]
        m.surface_tag = int(surface_tag)
        c = _ctx(ctx)
        c._call("tmsf_metric_check", c._ptr, byref(m))
        self._m = m

    @classmethod
    def parse(cls, text: str, ctx: Optional[Context] = None) -> "Metric":
        """Parse "mean", "pNN", "dir:X,Y,Z", "normal[:TAG]" or "meanvec"
        (Error ERR_ARGUMENT quoting the text otherwise)."""
        c = _ctx(ctx)
        m = _lib.tmsf_metric()
        c._call("tmsf_metric_parse", c._ptr, _lib.encode(text), byref(m))
        obj = cls.__new__(cls)
        obj._m = m
        return obj

    @classmethod
    def coerce(cls, metric: "Metric | str", ctx: Optional[Context] = None) -> "Metric":
        """A Metric, or one parsed from text."""
        return metric if isinstance(metric, Metric) else cls.parse(str(metric), ctx)

    @classmethod
    def mean(cls) -> "Metric":
        """Mean |E|."""
        return cls(MetricKind.MEAN)

    @classmethod
    def percentile_of(cls, pct: float) -> "Metric":
        """A percentile (0..100) of |E|."""
        return cls(MetricKind.PERCENTILE, percentile=pct)

    @classmethod
    def along(cls, d: Sequence[float]) -> "Metric":
        """Mean of E along a direction (head frame; normalised when evaluated)."""
        return cls(MetricKind.DIRECTION, direction=d)

    @classmethod
    def normal(cls, surface_tag: int = 0) -> "Metric":
        """Mean of E along the local surface normal (0: the grey-matter surface 1002)."""
        return cls(MetricKind.NORMAL, surface_tag=surface_tag)

    @classmethod
    def meanvec(cls) -> "Metric":
        """|mean E| (exact in the fast placement)."""
        return cls(MetricKind.MEAN_VECTOR)

    @property
    def kind(self) -> MetricKind:
        """The metric's kind."""
        return MetricKind(self._m.kind)

    @property
    def percentile(self) -> float:
        """PERCENTILE: the percentile."""
        return float(self._m.percentile)

    @property
    def direction(self) -> np.ndarray:
        """DIRECTION: the direction."""
        return np.array(self._m.direction[:])

    @property
    def surface_tag(self) -> int:
        """NORMAL: the surface tag (0: 1002)."""
        return int(self._m.surface_tag)

    @property
    def name(self) -> str:
        """Text that :meth:`parse` reads back, e.g. "p99"."""
        buf = create_string_buffer(_lib.METRIC_NAME_LEN)
        lib.tmsf_metric_name(byref(self._m), buf, len(buf))
        return _lib.decode(buf.value)

    @property
    def description(self) -> str:
        """A sentence, e.g. "99th percentile of |E| (volume-weighted)"."""
        buf = create_string_buffer(_lib.METRIC_DESCRIPTION_LEN)
        lib.tmsf_metric_describe(byref(self._m), buf, len(buf))
        return _lib.decode(buf.value)

    def evaluate(self, field: "Field", region: "Region") -> float:
        """The metric of a field on a region (same mesh), V/m."""
        v = c_double()
        field._call("tmsf_metric_evaluate", byref(self._m), region._ptr, field._ptr, byref(v))
        return v.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Metric) and self.name == other.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Metric({self.name!r})"

    def __str__(self) -> str:
        return self.name


class Region(_Object):
    """A set of tetrahedra on which a metric is evaluated (region.h).  Never
    empty (creation fails instead).  Keeps its mesh alive.

    Create with :meth:`sphere` (tissues within a radius of a point),
    :meth:`from_elements` (explicit indices) or :meth:`target` (the grey
    matter around a point's grey-matter projection, as the CLI does).
    """

    _kind = "region"
    mesh: Mesh
    projected_m: Optional[np.ndarray]

    @classmethod
    def _new(cls, p: int, mesh: Mesh) -> "Region":
        r = cls._adopt(p, mesh.context, lib.tmsf_region_destroy, [mesh._h])
        r.mesh = mesh
        r.projected_m = None
        return r

    @classmethod
    def sphere(cls, mesh: Mesh, centre_m: Any, radius_m: float,
               tags: Optional[Sequence[int]] = None) -> "Region":
        """Tetrahedra of some tags (None: grey matter, 2) whose centroid lies
        within radius_m of centre_m.  Error ERR_NOT_FOUND when empty (the
        message says how far the nearest centroid is, or which tags exist)."""
        c = vec3(centre_m, "centre_m")
        t = None if not tags else np.ascontiguousarray(tags, np.int32).reshape(-1)
        p = c_void_p()
        mesh._call("tmsf_region_create_sphere", mesh._ptr, ptr(c), float(radius_m),
                   0 if t is None else t.shape[0], ptr(t), byref(p))
        return cls._new(p.value, mesh)

    @classmethod
    def from_elements(cls, mesh: Mesh, elements: Any) -> "Region":
        """A region from tetrahedron indices (copied, sorted; no repeats)."""
        e = as_array(elements, np.int64, name="elements").reshape(-1)
        p = c_void_p()
        mesh._call("tmsf_region_create_elements", mesh._ptr, e.shape[0], ptr(e), byref(p))
        return cls._new(p.value, mesh)

    @classmethod
    def target(cls, mesh: Mesh, point_m: Any, radius_m: float = 0.005,
               tags: Optional[Sequence[int]] = None) -> "Region":
        """The target region of a point, as ``tmsfield place`` builds it: the
        point projected onto the tissue of tags[0] (grey matter, 2, by
        default), then the tetrahedra of the tags within radius_m of that
        projection.  :attr:`projected_m` holds the projection."""
        first = int(tags[0]) if tags else 2
        proj, _, _ = mesh.project_to_tissue(point_m, first)
        r = cls.sphere(mesh, proj, radius_m, tags)
        r.projected_m = proj
        return r

    @property
    def kind(self) -> str:
        """"sphere" or "elements"."""
        k = c_int()
        self._call("tmsf_region_get_kind", self._ptr, byref(k))
        return "elements" if k.value == 1 else "sphere"

    @property
    def centre_radius(self) -> Tuple[np.ndarray, float]:
        """(centre m, radius m) as given (sphere) or derived (elements)."""
        c = np.empty(3)
        r = c_double()
        self._call("tmsf_region_get_sphere", self._ptr, ptr(c), byref(r))
        return c, r.value

    @property
    def centre_m(self) -> np.ndarray:
        """The region's centre, metres."""
        return self.centre_radius[0]

    @property
    def radius_m(self) -> float:
        """The region's radius, metres."""
        return self.centre_radius[1]

    @property
    def tags(self) -> np.ndarray:
        """Tissue tags (copy)."""
        n, p = c_int(), c_void_p()
        self._call("tmsf_region_get_tags", self._ptr, byref(n), byref(p))
        return np.array(view(p.value, (n.value,), np.int32, self._h))

    @property
    def elements(self) -> np.ndarray:
        """Tetrahedron indices, increasing (read-only view, int64)."""
        n, p = c_int64(), c_void_p()
        self._call("tmsf_region_get_elements", self._ptr, byref(n), byref(p))
        return view(p.value, (n.value,), np.int64, self._h)

    def __len__(self) -> int:
        return int(self.elements.shape[0])

    @property
    def volume_m3(self) -> float:
        """Total volume, m^3."""
        v = c_double()
        self._call("tmsf_region_get_volume", self._ptr, byref(v))
        return v.value

    def normals(self, surface_tag: int = 0) -> np.ndarray:
        """The local surface normal at each element (len, 3), outward from
        the tissue surface_tag - 1000 (0: 1002, cortex to CSF); copy."""
        p = c_void_p()
        self._call("tmsf_region_get_normals", self._ptr, int(surface_tag), byref(p))
        return np.array(view(p.value, (len(self), 3), np.float64, self._h))

    def __repr__(self) -> str:
        if self.closed:
            return "<tmsfield.Region closed>"
        c, r = self.centre_radius
        return (f"<tmsfield.Region {self.kind}: {len(self)} tetrahedra, tags {list(self.tags)}, "
                f"centre {np.round(c * 1e3, 2).tolist()} mm, radius {r * 1e3:.3g} mm>")

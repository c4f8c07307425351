# SPDX-License-Identifier: BSD-3-Clause
"""TMS coils (coil.h), the coil catalogue (catalogue.h) and coil casings for
the collision test (search.h)."""
from __future__ import annotations

import math
import os
from ctypes import byref, c_char_p, c_double, c_int, c_int64, c_void_p
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from . import _lib
from ._core import Context, Error, Status, _ctx, _Object, as_array, pose16, ptr, view
from ._lib import lib

_KINDS = {1: "dipoles", 2: "segments", 3: "grid", 4: "mixed"}


def data_dir() -> str:
    """The directory of the shipped data (coils, heads, spheres):
    $TMSF_DATA_DIR, else the installation's, else the source tree's data/."""
    s = c_char_p()
    st = lib.tmsf_get_data_dir(byref(s))
    if st:
        raise Error(st, "cannot find the data directory", "tmsf_get_data_dir")
    return _lib.decode(s.value)


@dataclass(frozen=True)
class CoilInfo:
    """A catalogue entry (catalogue.h: tmsf_coil_info)."""
    name: str               #: file name without extension, e.g. "MagVenture_MC-B70"
    coilname: str           #: header coilname, e.g. "MC-B70"
    brand: str
    stimulator: str
    didt_max_A_per_s: float  #: dI/dt at 100 % MSO, A/s (NaN if unknown)
    num_elements: int       #: dipoles and segments (0 for grid coils)
    path: str
    format: str             #: "ccd", "tcd" or "nifti"
    source: str             #: "directory", "TMSF_COIL_PATH" or "data"
    waveform_path: str      #: measured pulse waveform beside the file ("" if none)

    @classmethod
    def _from_c(cls, s: _lib.tmsf_coil_info) -> "CoilInfo":
        d = _lib.decode
        return cls(d(s.name), d(s.coilname), d(s.brand), d(s.stimulator),
                   float(s.didt_max_A_per_s), int(s.num_elements), d(s.path), d(s.format),
                   d(s.source), d(s.waveform_path))


class Catalogue(_Object):
    """Coils found by name (catalogue.h): the shipped models (Drakaki et al.
    2022), the directories of $TMSF_COIL_PATH and directories you add.

    ``len(cat)``, ``cat[i]`` (a :class:`CoilInfo`), iteration, ``cat.find(name)``
    and ``cat.open(name)``.
    """

    _kind = "catalogue"

    def __init__(self, empty: bool = False, ctx: Optional[Context] = None) -> None:
        c = _ctx(ctx)
        p = c_void_p()
        c._call("tmsf_catalogue_create_empty" if empty else "tmsf_catalogue_create", c._ptr,
                byref(p))
        self._own(p.value, c, lib.tmsf_catalogue_destroy)

    def add_directory(self, directory: "str | os.PathLike[str]") -> None:
        """Add the coils of a directory (they take precedence)."""
        self._call("tmsf_catalogue_add_directory", self._ptr, _lib.encode(directory))

    def __len__(self) -> int:
        n = c_int()
        self._call("tmsf_catalogue_get_num_coils", self._ptr, byref(n))
        return n.value

    def __getitem__(self, index: int) -> CoilInfo:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"catalogue index {index} out of range (0..{n - 1})")
        info = _lib.tmsf_coil_info()
        self._call("tmsf_catalogue_get_coil_info", self._ptr, int(index), byref(info))
        return CoilInfo._from_c(info)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def find(self, name: str) -> int:
        """Index of a coil by name (file name, coilname; case and -_ insensitive).
        Error ERR_NOT_FOUND names near matches."""
        i = c_int()
        self._call("tmsf_catalogue_find", self._ptr, _lib.encode(name), byref(i))
        return i.value

    def open(self, name_or_index: "str | int") -> "Coil":
        """Read the coil of an entry (by index or name)."""
        idx = name_or_index if isinstance(name_or_index, int) else self.find(name_or_index)
        p = c_void_p()
        self._call("tmsf_catalogue_open_coil", self._ptr, int(idx), byref(p))
        coil = Coil._adopt(p.value, self._ctx, lib.tmsf_coil_destroy)
        coil.path = self[idx].path
        return coil

    @property
    def skipped(self) -> List[Tuple[str, str]]:
        """Files left out, with the reason: [(path, reason), ...]."""
        n = c_int()
        self._call("tmsf_catalogue_get_num_skipped", self._ptr, byref(n))
        out = []
        for i in range(n.value):
            p, r = c_char_p(), c_char_p()
            self._call("tmsf_catalogue_get_skipped", self._ptr, i, byref(p), byref(r))
            out.append((_lib.decode(p.value), _lib.decode(r.value)))
        return out

    def __repr__(self) -> str:
        return "<tmsfield.Catalogue closed>" if self.closed else \
            f"<tmsfield.Catalogue {len(self)} coils>"


def coils(ctx: Optional[Context] = None) -> List[CoilInfo]:
    """The coils found by name (shipped, $TMSF_COIL_PATH)."""
    with Catalogue(ctx=ctx) as cat:
        return list(cat)


@dataclass(frozen=True)
class CoilElement:
    """One element of a coil: kind ("dipoles", "segments", "grid"), its
    stimulator index, count and name."""
    kind: str
    stimulator: int
    count: int
    name: str


class Coil(_Object):
    """A TMS coil: magnetic dipoles (.ccd, .tcd), line segments (.tcd) or
    sampled A-field grids (NIfTI, .tcd), driven by one or more stimulators.

    Create with :meth:`read` (a file), :meth:`open` (a file or a catalogue
    name such as ``"MagVenture_MC-B70"``), :meth:`from_dipoles` or
    :meth:`from_segments`.  :attr:`dipole_positions` and
    :attr:`dipole_moments` are read-only views (coil frame: metres and
    A m^2 per ampere).
    """

    _kind = "coil"
    path: Optional[str]

    def _init_extra(self) -> None:
        self.path = None

    @classmethod
    def read(cls, path: "str | os.PathLike[str]", ctx: Optional[Context] = None) -> "Coil":
        """Read a coil file (.ccd, .tcd, .nii/.nii.gz); errors name the file and line."""
        c = _ctx(ctx)
        p = c_void_p()
        c._call("tmsf_coil_read", c._ptr, _lib.encode(path), byref(p))
        coil = cls._adopt(p.value, c, lib.tmsf_coil_destroy)
        coil.path = os.fspath(path)
        return coil

    @classmethod
    def open(cls, name_or_path: str, ctx: Optional[Context] = None) -> "Coil":
        """A coil by file or by catalogue name (tmsf_coil_open); errors name
        near matches.  :attr:`path` is the file that was read."""
        if os.path.isfile(name_or_path):
            return cls.read(name_or_path, ctx)
        with Catalogue(ctx=ctx) as cat:
            return cat.open(name_or_path)

    @classmethod
    def from_dipoles(cls, positions_m: Any, moments_A_m2: Any,
                     ctx: Optional[Context] = None) -> "Coil":
        """A dipole coil from arrays (n, 3) (copied): positions in metres,
        moments in A m^2 per ampere, coil frame."""
        c = _ctx(ctx)
        P = as_array(positions_m, np.float64, (3,), "positions_m").reshape(-1, 3)
        M = as_array(moments_A_m2, np.float64, (3,), "moments_A_m2").reshape(-1, 3)
        if P.shape != M.shape:
            raise ValueError(f"positions {P.shape} and moments {M.shape} differ")
        p = c_void_p()
        c._call("tmsf_coil_create_dipoles", c._ptr, P.shape[0], ptr(P), ptr(M), byref(p))
        return cls._adopt(p.value, c, lib.tmsf_coil_destroy)

    @classmethod
    def from_segments(cls, midpoints_m: Any, dl_m: Any, ctx: Optional[Context] = None) -> "Coil":
        """A line-segment coil from arrays (n, 3) (copied): midpoints and dl
        vectors (direction times length), metres, coil frame."""
        c = _ctx(ctx)
        P = as_array(midpoints_m, np.float64, (3,), "midpoints_m").reshape(-1, 3)
        L = as_array(dl_m, np.float64, (3,), "dl_m").reshape(-1, 3)
        if P.shape != L.shape:
            raise ValueError(f"midpoints {P.shape} and dl {L.shape} differ")
        p = c_void_p()
        c._call("tmsf_coil_create_segments", c._ptr, P.shape[0], ptr(P), ptr(L), byref(p))
        return cls._adopt(p.value, c, lib.tmsf_coil_destroy)

    # -- properties ----------------------------------------------------------
    @property
    def name(self) -> str:
        """The coil's name (header coilname, .tcd name, or the file name)."""
        s = c_char_p()
        self._call("tmsf_coil_get_name", self._ptr, byref(s))
        return _lib.decode(s.value)

    @property
    def kind(self) -> str:
        """"dipoles", "segments", "grid" or "mixed"."""
        k = c_int()
        self._call("tmsf_coil_get_kind", self._ptr, byref(k))
        return _KINDS.get(k.value, str(k.value))

    @property
    def didt_max(self) -> float:
        """dI/dt at 100 % MSO on stimulator 0, A/s (NaN when the file gives none)."""
        d = c_double()
        st = lib.tmsf_coil_get_didt_max(self._ptr, byref(d))
        if st == Status.ERR_NOT_FOUND:
            self._ctx.clear_error()
            return math.nan
        if st:
            self._ctx._call("tmsf_coil_get_didt_max", self._ptr, byref(d))
        return d.value

    @didt_max.setter
    def didt_max(self, didt_max_A_per_s: float) -> None:
        self._call("tmsf_coil_set_didt_max", self._ptr, float(didt_max_A_per_s))

    def set_precision(self, double: bool) -> None:
        """Arithmetic of the dipole sum: double (reference) or single (the
        default, ~3x faster, relative error ~1e-6)."""
        self._call("tmsf_coil_set_precision", self._ptr, 1 if double else 0)

    @property
    def num_dipoles(self) -> int:
        """Dipoles over all elements (0 without dipoles)."""
        n = c_int64()
        self._call("tmsf_coil_get_num_dipoles", self._ptr, byref(n))
        return n.value

    def _dipoles(self) -> Tuple[np.ndarray, np.ndarray]:
        p, m = c_void_p(), c_void_p()
        self._call("tmsf_coil_get_dipoles", self._ptr, byref(p), byref(m))
        n = self.num_dipoles
        return (view(p.value, (n, 3), np.float64, self._h),
                view(m.value, (n, 3), np.float64, self._h))

    @property
    def dipole_positions(self) -> np.ndarray:
        """Dipole positions (n, 3), metres, coil frame (read-only view; a coil
        of one dipole element, else Error ERR_STATE: use :meth:`element_data`)."""
        return self._dipoles()[0]

    @property
    def dipole_moments(self) -> np.ndarray:
        """Dipole moments (n, 3), A m^2 per ampere (read-only view)."""
        return self._dipoles()[1]

    @property
    def elements(self) -> List[CoilElement]:
        """The coil's elements."""
        n = c_int()
        self._call("tmsf_coil_get_num_elements", self._ptr, byref(n))
        out = []
        for i in range(n.value):
            k, s, cnt, nm = c_int(), c_int(), c_int64(), c_char_p()
            self._call("tmsf_coil_get_element", self._ptr, i, byref(k), byref(s), byref(cnt),
                       byref(nm))
            out.append(CoilElement(_KINDS.get(k.value, str(k.value)), s.value, cnt.value,
                                   _lib.decode(nm.value)))
        return out

    def element_data(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Positions (n, 3) m and vectors (moments A m^2 per A, or dl in m) of
        a dipole or segment element (read-only views)."""
        p, v = c_void_p(), c_void_p()
        self._call("tmsf_coil_get_element_data", self._ptr, int(index), byref(p), byref(v))
        n = self.elements[index].count
        return (view(p.value, (n, 3), np.float64, self._h),
                view(v.value, (n, 3), np.float64, self._h))

    @property
    def stimulators(self) -> List[Dict[str, Any]]:
        """[{"name", "brand", "didt_max_A_per_s"}, ...] per stimulator."""
        n = c_int()
        self._call("tmsf_coil_get_num_stimulators", self._ptr, byref(n))
        out = []
        for i in range(n.value):
            a, b, d = c_char_p(), c_char_p(), c_double()
            self._call("tmsf_coil_get_stimulator", self._ptr, i, byref(a), byref(b), byref(d))
            out.append({"name": _lib.decode(a.value), "brand": _lib.decode(b.value),
                        "didt_max_A_per_s": d.value})
        return out

    @property
    def header(self) -> Dict[str, str]:
        """Header keys of the file, in file order."""
        n = c_int()
        self._call("tmsf_coil_get_num_header_keys", self._ptr, byref(n))
        out: Dict[str, str] = {}
        for i in range(n.value):
            k, v = c_char_p(), c_char_p()
            self._call("tmsf_coil_get_header_key", self._ptr, i, byref(k), byref(v))
            out[_lib.decode(k.value)] = _lib.decode(v.value)
        return out

    # -- fields and output ---------------------------------------------------
    def primary_field(self, pose_m: Any, didt_A_per_s: float, points_m: Any) -> np.ndarray:
        """dA/dt (V/m) at points (n, 3) in the head frame for the coil at a
        pose (4x4, metres) with dI/dt in A/s.  The primary field is -dA/dt."""
        P = pose16(pose_m)
        X = as_array(points_m, np.float64, (3,), "points_m").reshape(-1, 3)
        out = np.empty_like(X)
        self._call("tmsf_coil_primary_field", self._ptr, ptr(P), float(didt_A_per_s), X.shape[0],
                   ptr(X), ptr(out), None)
        return out

    def write_ccd(self, path: "str | os.PathLike[str]") -> None:
        """Write a dipole coil as a SimNIBS .ccd file."""
        self._call("tmsf_coil_write_ccd", self._ptr, _lib.encode(path))

    def casing(self) -> "Optional[Casing]":
        """The casing beside the coil's file (its name with .stl, in mm), or
        None when there is none or the coil was not read from a file."""
        if not self.path:
            return None
        return Casing.for_coil(self.path, self._ctx)

    def __repr__(self) -> str:
        if self.closed:
            return "<tmsfield.Coil closed>"
        return f"<tmsfield.Coil {self.name!r} {self.kind}, dI/dt max {self.didt_max:g} A/s>"


class Casing(_Object):
    """A coil casing (triangle mesh in the coil frame, metres) for the
    collision test of a :class:`~tmsfield.Search`."""

    _kind = "casing"

    @classmethod
    def read_stl(cls, path: "str | os.PathLike[str]", scale_to_m: float = 1e-3,
                 ctx: Optional[Context] = None) -> "Casing":
        """Read an STL file (binary or ASCII); scale_to_m 1e-3 for files in mm."""
        c = _ctx(ctx)
        p = c_void_p()
        c._call("tmsf_casing_read_stl", c._ptr, _lib.encode(path), float(scale_to_m), byref(p))
        return cls._adopt(p.value, c, lib.tmsf_casing_destroy)

    @classmethod
    def for_coil(cls, coil_path: "str | os.PathLike[str]",
                 ctx: Optional[Context] = None) -> "Optional[Casing]":
        """The casing file beside a coil file (same name, .stl, mm), or None."""
        c = _ctx(ctx)
        p = c_void_p()
        c._call("tmsf_casing_find_for_coil", c._ptr, _lib.encode(coil_path), byref(p))
        return cls._adopt(p.value, c, lib.tmsf_casing_destroy) if p.value else None

    @classmethod
    def create(cls, vertices_m: Any, triangles: Any, ctx: Optional[Context] = None) -> "Casing":
        """A casing from arrays (copied): vertices (n, 3) m, triangles (k, 3)."""
        c = _ctx(ctx)
        V = as_array(vertices_m, np.float64, (3,), "vertices_m").reshape(-1, 3)
        T = as_array(triangles, np.int32, (3,), "triangles").reshape(-1, 3)
        p = c_void_p()
        c._call("tmsf_casing_create", c._ptr, V.shape[0], ptr(V), T.shape[0], ptr(T), byref(p))
        return cls._adopt(p.value, c, lib.tmsf_casing_destroy)

    @property
    def sizes(self) -> Tuple[int, int]:
        """(num_vertices, num_triangles)."""
        a, b = c_int64(), c_int64()
        self._call("tmsf_casing_get_sizes", self._ptr, byref(a), byref(b))
        return a.value, b.value

    @property
    def vertices(self) -> np.ndarray:
        """(n, 3) metres, coil frame (read-only view)."""
        p = c_void_p()
        self._call("tmsf_casing_get_vertices", self._ptr, byref(p))
        return view(p.value, (self.sizes[0], 3), np.float64, self._h)

    @property
    def triangles(self) -> np.ndarray:
        """(k, 3) int32 vertex indices (read-only view)."""
        p = c_void_p()
        self._call("tmsf_casing_get_triangles", self._ptr, byref(p))
        return view(p.value, (self.sizes[1], 3), np.int32, self._h)

    def __repr__(self) -> str:
        if self.closed:
            return "<tmsfield.Casing closed>"
        v, t = self.sizes
        return f"<tmsfield.Casing {v} vertices, {t} triangles>"

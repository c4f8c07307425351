# SPDX-License-Identifier: BSD-3-Clause
"""Coil poses to and from neuronavigation systems (navigator.h): Localite
InstrumentMarker XML and Brainsight target files.  Poses are 4x4
head-from-coil matrices (SimNIBS matsimnibs) with the translation in metres;
the files hold millimetres (docs/navigator.md has the axis conventions)."""
from __future__ import annotations

import os
from ctypes import POINTER, byref, c_char_p, c_int, c_void_p, cast
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from . import _lib
from ._core import Context, _ctx, poses16, ptr
from ._lib import lib

#: Frames of navigator files (tmsf_nnav_space)
SPACES = {"RAS": 0, "LPS": 1, "NIfTI:Aligned": 2, "NIfTI:Scanner": 3}
_SPACE_NAMES = {v: k for k, v in SPACES.items()}


def _space(space: "str | int") -> int:
    if isinstance(space, int):
        return space
    for k, v in SPACES.items():
        if k.lower() == space.lower():
            return v
    raise ValueError(f"space: expected one of {list(SPACES)}, got {space!r}")


@dataclass
class NavigatorPoses:
    """Poses read from a navigator file."""
    poses: np.ndarray   #: (n, 4, 4) head-from-coil, translation in metres
    names: List[str]    #: marker descriptions / target names
    space: str          #: "RAS", "LPS", "NIfTI:Aligned" or "NIfTI:Scanner"

    def __len__(self) -> int:
        return len(self.names)


def _names(names: Optional[Sequence[str]], n: int) -> Tuple[Any, Any]:
    if names is None:
        return None, None
    if len(names) != n:
        raise ValueError(f"names: expected {n} names, got {len(names)}")
    arr = (c_char_p * n)(*[_lib.encode(s) for s in names])
    return arr, arr


def _read(ctx: Context, fname: str, path: Any, *table: int) -> NavigatorPoses:
    n = c_int()
    poses = c_void_p()
    names = c_void_p()
    sp = c_int()
    ctx._call(fname, ctx._ptr, _lib.encode(path), *table, byref(n), byref(poses),
              byref(names), byref(sp))
    try:
        count = n.value
        P = (np.ctypeslib.as_array((_lib.c_double * (16 * count)).from_address(poses.value))
             .reshape(count, 4, 4).copy() if count else np.zeros((0, 4, 4)))
        arr = cast(names, POINTER(c_char_p))
        nm = [_lib.decode(arr[i]) for i in range(count)] if count else []
    finally:
        lib.tmsf_nnav_free(n.value, byref(poses), byref(names))
    return NavigatorPoses(P, nm, _SPACE_NAMES.get(sp.value, str(sp.value)))


def read_localite(path: "str | os.PathLike[str]", ctx: Optional[Context] = None
                  ) -> NavigatorPoses:
    """Read the markers of a Localite InstrumentMarker XML file (RAS or LPS)."""
    return _read(_ctx(ctx), "tmsf_nnav_read_localite", path)


def read_brainsight(path: "str | os.PathLike[str]", table: str = "targets",
                    ctx: Optional[Context] = None) -> NavigatorPoses:
    """Read the "targets" or "samples" table of a Brainsight export
    (NIfTI:Aligned or NIfTI:Scanner)."""
    if table not in ("targets", "samples"):
        raise ValueError(f"table: expected 'targets' or 'samples', got {table!r}")
    return _read(_ctx(ctx), "tmsf_nnav_read_brainsight", path, 0 if table == "targets" else 1)


def write_localite(path: "str | os.PathLike[str]", poses_m: Any,
                   names: Optional[Sequence[str]] = None, space: str = "RAS",
                   ctx: Optional[Context] = None) -> None:
    """Write poses (n, 4, 4), metres, as a Localite InstrumentMarker XML file
    (space "RAS" for a NIfTI T1, "LPS" for DICOM)."""
    c = _ctx(ctx)
    P = poses16(poses_m)
    arr, keep = _names(names, P.shape[0])
    c._call("tmsf_nnav_write_localite", c._ptr, _lib.encode(path), P.shape[0], ptr(P), arr,
            _space(space))
    del keep


def write_brainsight(path: "str | os.PathLike[str]", poses_m: Any,
                     names: Optional[Sequence[str]] = None, space: str = "NIfTI:Aligned",
                     ctx: Optional[Context] = None) -> None:
    """Write poses (n, 4, 4), metres, as a Brainsight target file."""
    c = _ctx(ctx)
    P = poses16(poses_m)
    arr, keep = _names(names, P.shape[0])
    c._call("tmsf_nnav_write_brainsight", c._ptr, _lib.encode(path), P.shape[0], ptr(P), arr,
            _space(space))
    del keep

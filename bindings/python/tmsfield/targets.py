# SPDX-License-Identifier: BSD-3-Clause
"""Named stimulation targets in MNI space (targets.h) and the MNI-to-head
mapping."""
from __future__ import annotations

import os
from ctypes import byref, c_int
from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np

from . import _lib
from ._core import Context, _ctx, call_noctx, pose16, ptr, vec3


@dataclass(frozen=True)
class Target:
    """A named target (targets.h: tmsf_target_info)."""
    name: str            #: e.g. "M1", "DLPFC", "F3"
    description: str
    mni_mm: np.ndarray   #: MNI coordinates, mm
    citation: str

    def head_m(self, head_from_mni_mm: Any = None) -> np.ndarray:
        """The target in head metres through an MNI-to-head affine (mm; None:
        identity, right for the built-in head)."""
        return mni_to_head(self.mni_mm, head_from_mni_mm)


def _target(index: int) -> Target:
    info = _lib.tmsf_target_info()
    call_noctx("tmsf_target_get_info", int(index), byref(info))
    return Target(_lib.decode(info.name), _lib.decode(info.description),
                  np.array(info.mni_mm[:]), _lib.decode(info.citation))


def targets() -> List[Target]:
    """The table of named targets."""
    n = c_int()
    call_noctx("tmsf_target_get_num", byref(n))
    return [_target(i) for i in range(n.value)]


def find_target(name: str, ctx: Optional[Context] = None) -> Target:
    """A target by name (case-insensitive; aliases such as "M1-left");
    Error ERR_NOT_FOUND lists the names."""
    c = _ctx(ctx)
    i = c_int()
    c._call("tmsf_target_find", c._ptr, _lib.encode(name), byref(i))
    return _target(i.value)


def mni_to_head(mni_mm: Any, head_from_mni_mm: Any = None) -> np.ndarray:
    """MNI mm to head metres (head_mm = A [mni; 1] / 1000; A None: identity)."""
    m = vec3(mni_mm, "mni_mm")
    A = None if head_from_mni_mm is None else pose16(head_from_mni_mm, "head_from_mni_mm")
    out = np.empty(3)
    call_noctx("tmsf_target_mni_to_head", ptr(A), ptr(m), ptr(out))
    return out


def nifti_affine(path: "str | os.PathLike[str]", ctx: Optional[Context] = None) -> np.ndarray:
    """The sform (else qform) of a NIfTI file, 4x4 mm."""
    c = _ctx(ctx)
    out = np.empty(16)
    c._call("tmsf_nifti_get_affine", c._ptr, _lib.encode(path), ptr(out))
    return out.reshape(4, 4)

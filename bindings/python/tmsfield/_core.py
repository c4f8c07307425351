# SPDX-License-Identifier: BSD-3-Clause
"""Core machinery: status codes, the Error exception, handle ownership, the
Context, and zero-copy numpy views of borrowed C arrays.

Ownership model
---------------
Every C object lives in a :class:`_Handle`, a tiny object that calls the C
destroy function when the last Python reference to it goes away.  A handle
holds strong references to the handles of the objects the C object borrows
(a field's mesh, a placement's simulation, coil and regions, every object's
context), so a parent is never destroyed before a child: the C rule "destroy
children first" holds by construction, whatever order Python collects in.

The public wrapper classes hold one reference to their handle.  ``close()``
(or leaving a ``with`` block) drops it: the C object is destroyed at once
unless something still depends on it (a child object, or a numpy view of its
memory), in which case it is destroyed when the last dependent goes.  So a
numpy view such as ``field.E`` can never point to freed memory: the array's
``base`` keeps the handle alive.  After ``close()`` the wrapper itself
refuses further calls (ValueError, as a closed Python file does).
"""
from __future__ import annotations

import enum
import threading
from ctypes import byref, c_int, c_void_p
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from . import _lib
from ._lib import lib


class Status(enum.IntEnum):
    """Status codes of the C API (common.h, TMSF_STATUS_LIST)."""
    SUCCESS = 0
    ERR_ARGUMENT = 1
    ERR_MEMORY = 2
    ERR_IO = 3
    ERR_FORMAT = 4
    ERR_MESH = 5
    ERR_POSE = 6
    ERR_CONVERGENCE = 7
    ERR_NUMERIC = 8
    ERR_UNSUPPORTED = 9
    ERR_NOT_FOUND = 10
    ERR_STATE = 11
    ERR_CONDUCTIVITY = 12
    ERR_LIMIT = 13
    ERR_CANCELLED = 14


def status_string(status: int) -> str:
    """The library's text for a status code (tmsf_status_string)."""
    return _lib.decode(lib.tmsf_status_string(int(status)))


class Error(Exception):
    """A failed call of the C library.

    Attributes:
        status: the C status code (a :class:`Status` when known, else int).
        message: the library's message (tmsf_context_last_error: it names
            the file, line or record and what was expected), or the status
            text for calls that have no context.
        function: the C function that failed.
    """

    def __init__(self, status: int, message: str, function: str = "") -> None:
        try:
            st: int = Status(status)
        except ValueError:
            st = int(status)
        self.status = st
        self.message = message
        self.function = function
        super().__init__(message)

    @property
    def status_name(self) -> str:
        """Name of the status, e.g. "ERR_IO"."""
        return self.status.name if isinstance(self.status, Status) else str(self.status)

    def __str__(self) -> str:
        return f"{self.message} [{self.status_name}]"


# ---------------------------------------------------------------------------
# Handles
# ---------------------------------------------------------------------------
_live_lock = threading.Lock()
_live: dict = {}


def live_handles() -> dict:
    """Number of C objects alive through this package, by kind (for tests
    and leak hunting): e.g. {"mesh": 1, "context": 1}."""
    with _live_lock:
        return {k: v for k, v in _live.items() if v}


class _Handle:
    """Owns one C object: calls destroy(&ptr) when collected.  ``parents``
    are the handles this object borrows (kept alive until it is gone)."""

    __slots__ = ("ptr", "kind", "_destroy", "parents", "__weakref__")

    def __init__(self, ptr: Optional[int], kind: str, destroy: Callable[..., int],
                 parents: Iterable["_Handle"] = ()) -> None:
        self.ptr = ptr
        self.kind = kind
        self._destroy = destroy
        self.parents: List[_Handle] = [p for p in parents if p is not None]
        with _live_lock:
            _live[kind] = _live.get(kind, 0) + 1

    def __del__(self, _byref: Any = byref, _vp: Any = c_void_p, _lock: Any = _live_lock,
                _count: Any = _live) -> None:
        # (globals bound as defaults: __del__ may run at interpreter shutdown)
        ptr, self.ptr = self.ptr, None
        if ptr:
            try:
                self._destroy(_byref(_vp(ptr)))
            finally:
                with _lock:
                    _count[self.kind] = _count.get(self.kind, 0) - 1
        # parents are released after the child is destroyed
        self.parents = []


class _Object:
    """Base of the wrappers: one _Handle, the owning Context, close(),
    context-manager support."""

    _kind = "object"
    _h: Optional[_Handle]

    def __init__(self) -> None:  # pragma: no cover - subclasses use _adopt
        raise TypeError(f"use the class methods of {type(self).__name__} to create one")

    def _own(self, ptr: int, ctx: "Context", destroy: Callable[..., int],
             parents: Sequence[Optional[_Handle]] = ()) -> None:
        """Take ownership of a new C object (borrowing ctx and parents)."""
        self._ctx = ctx
        self._h = _Handle(ptr, self._kind, destroy, [ctx._h] + list(parents))

    @classmethod
    def _adopt(cls, ptr: int, ctx: "Context", destroy: Callable[..., int],
               parents: Sequence[Optional[_Handle]] = ()) -> Any:
        obj = cls.__new__(cls)
        obj._own(ptr, ctx, destroy, parents)
        obj._init_extra()
        return obj

    def _init_extra(self) -> None:
        """Hook for subclasses (attributes set after adoption)."""

    @property
    def _ptr(self) -> int:
        h = self._h
        if h is None or not h.ptr:
            raise ValueError(f"operation on a closed {type(self).__name__}")
        return h.ptr

    @property
    def context(self) -> "Context":
        """The Context this object was created in (its errors are reported there)."""
        return self._ctx

    @property
    def closed(self) -> bool:
        """True after close()."""
        return self._h is None

    def close(self) -> None:
        """Release this object.  The C object is destroyed now, or as soon
        as the objects and numpy views that depend on it are gone."""
        self._h = None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, fname: str, *args: Any) -> None:
        self._ctx._call(fname, *args)


class Context(_Object):
    """A library context: the last error message and the thread count of the
    calls made on its objects.  Use one context per Python thread (the C rule);
    the functions of the package default to a per-thread context
    (:func:`default_context`).

    Args:
        threads: OpenMP threads inside calls (0: OpenMP's default, e.g.
            OMP_NUM_THREADS or all cores).
    """

    _kind = "context"

    def __init__(self, threads: int = 0) -> None:
        p = c_void_p()
        st = lib.tmsf_context_create(byref(p))
        if st:
            raise Error(st, status_string(st), "tmsf_context_create")
        self._ctx = self
        self._h = _Handle(p.value, "context", lib.tmsf_context_destroy)
        if threads:
            self.threads = threads

    @property
    def threads(self) -> int:
        """Threads used inside calls (0: OpenMP's default)."""
        n = c_int()
        self._call("tmsf_context_get_threads", self._ptr, byref(n))
        return n.value

    @threads.setter
    def threads(self, n: int) -> None:
        self._call("tmsf_context_set_threads", self._ptr, int(n))

    @property
    def last_error(self) -> str:
        """Message of the last failed call in this context ("" if none)."""
        return _lib.decode(lib.tmsf_context_last_error(self._ptr))

    @property
    def last_status(self) -> int:
        """Status of the last failed call in this context (0 if none)."""
        return int(lib.tmsf_context_last_status(self._ptr))

    def clear_error(self) -> None:
        """Forget the last error."""
        lib.tmsf_context_clear_error(self._ptr)

    def _call(self, fname: str, *args: Any) -> None:
        h = self._h
        if h is not None and h.ptr:
            # so that a message left by an earlier failure is never reported again
            lib.tmsf_context_clear_error(h.ptr)
        st = getattr(lib, fname)(*args)
        if st:
            msg = ""
            if h is not None and h.ptr:
                msg = _lib.decode(lib.tmsf_context_last_error(h.ptr))
            raise Error(st, msg or status_string(st), fname)

    def __repr__(self) -> str:
        return f"<tmsfield.Context threads={self.threads if not self.closed else '?'}" \
               f"{' closed' if self.closed else ''}>"


_tls = threading.local()


def default_context() -> Context:
    """This thread's default Context (created on first use)."""
    ctx = getattr(_tls, "ctx", None)
    if ctx is None or ctx.closed:
        ctx = Context()
        _tls.ctx = ctx
    return ctx


def _ctx(ctx: Optional[Context]) -> Context:
    return default_context() if ctx is None else ctx


def call_noctx(fname: str, *args: Any) -> None:
    """Call a C function that has no context: errors carry the status text."""
    st = getattr(lib, fname)(*args)
    if st:
        raise Error(st, status_string(st), fname)


# ---------------------------------------------------------------------------
# numpy views and conversions
# ---------------------------------------------------------------------------
class _ViewBase:
    """The ``base`` of a zero-copy numpy view: exposes the C memory through
    the array interface and keeps the owning handle alive."""

    __slots__ = ("__array_interface__", "_keep")

    def __init__(self, address: int, shape: Tuple[int, ...], dtype: np.dtype,
                 keep: _Handle, writeable: bool) -> None:
        self.__array_interface__ = {"data": (address, not writeable), "shape": shape,
                                    "typestr": np.dtype(dtype).str, "version": 3}
        self._keep = keep


def view(address: Optional[int], shape: Tuple[int, ...], dtype: Any, keep: _Handle,
         writeable: bool = False) -> np.ndarray:
    """A numpy array over C memory owned by ``keep`` (no copy).  Read-only
    unless writeable (borrowed const pointers are read-only)."""
    n = int(np.prod(shape)) if shape else 1
    if n == 0:
        return np.zeros(shape, dtype=dtype)
    if not address:
        raise ValueError(f"the library returned no array for shape {shape}")
    arr = np.asarray(_ViewBase(address, tuple(int(s) for s in shape), np.dtype(dtype), keep,
                               writeable))
    return arr


def as_array(x: Any, dtype: Any, shape_tail: Tuple[int, ...] = (), name: str = "array",
             ndim: Optional[int] = None) -> np.ndarray:
    """x as a C-contiguous array of dtype whose trailing dimensions are
    shape_tail (e.g. (3,) for points): no copy when it already is one."""
    a = np.ascontiguousarray(x, dtype=dtype)
    if shape_tail:
        k = len(shape_tail)
        if a.ndim == 1 and k == 1 and a.shape[0] == shape_tail[0] and ndim != 1:
            a = a.reshape(1, shape_tail[0])
        if a.ndim < k or tuple(a.shape[-k:]) != tuple(shape_tail):
            raise ValueError(f"{name}: expected shape (..., {', '.join(map(str, shape_tail))}),"
                             f" got {a.shape}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {a.shape}")
    return a


def vec3(x: Any, name: str = "vector") -> np.ndarray:
    """A 3-vector of float64."""
    a = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    if a.shape != (3,):
        raise ValueError(f"{name}: expected 3 numbers, got shape {np.shape(x)}")
    return a


def pose16(pose: Any, name: str = "pose") -> np.ndarray:
    """A 4x4 pose (head from coil, translation in metres) as 16 contiguous
    float64 values, row-major."""
    a = np.ascontiguousarray(pose, dtype=np.float64)
    if a.shape not in ((4, 4), (16,)):
        raise ValueError(f"{name}: expected a 4x4 matrix, got shape {a.shape}")
    return a.reshape(16)


def poses16(poses: Any, name: str = "poses") -> np.ndarray:
    """One or more 4x4 poses as an (n, 16) contiguous float64 array."""
    a = np.ascontiguousarray(poses, dtype=np.float64)
    if a.shape == (4, 4):
        a = a.reshape(1, 16)
    elif a.ndim == 3 and a.shape[1:] == (4, 4):
        a = a.reshape(a.shape[0], 16)
    elif not (a.ndim == 2 and a.shape[1] == 16):
        raise ValueError(f"{name}: expected shape (n, 4, 4), got {a.shape}")
    return np.ascontiguousarray(a)


def ptr(a: Optional[np.ndarray]) -> Optional[int]:
    """Data address of an array (None for None)."""
    return None if a is None else a.ctypes.data


def pose_to_mm(pose_m: Any) -> np.ndarray:
    """A 4x4 pose with the translation in metres (the C API's) to millimetres
    (SimNIBS's matsimnibs, navigator files)."""
    P = np.array(pose16(pose_m).reshape(4, 4))
    P[:3, 3] *= 1e3
    return P


def pose_from_mm(pose_mm: Any) -> np.ndarray:
    """A 4x4 pose with the translation in millimetres to metres."""
    P = np.array(pose16(pose_mm).reshape(4, 4))
    P[:3, 3] *= 1e-3
    return P


def check_pose(pose_m: Any, ctx: Optional[Context] = None) -> None:
    """Raise Error (ERR_POSE) unless the pose is a proper rigid motion
    (tmsf_pose_check: finite, bottom row 0 0 0 1, R^T R = I, det R = +1)."""
    c = _ctx(ctx)
    P = pose16(pose_m)
    c._call("tmsf_pose_check", c._ptr, ptr(P))

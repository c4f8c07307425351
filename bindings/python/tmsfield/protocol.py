# SPDX-License-Identifier: BSD-3-Clause
"""Stimulation protocols (protocol.h): rTMS, iTBS/cTBS, paired pulse — pulse
times, per-pulse %MSO, dI/dt and field at the target, JSON export
(docs/protocol-json.md)."""
from __future__ import annotations

import dataclasses
import enum
import json
import os
from ctypes import POINTER, byref, c_char_p, c_double, c_int, c_int64, c_void_p
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from . import _lib
from ._core import Context, _ctx, _Object, ptr, view
from ._lib import lib
from .coil import Coil


class DurationRule(enum.IntEnum):
    """How the nominal session duration is counted (tmsf_duration_rule)."""
    TRAIN_CYCLES = 1  #: num_trains x (on-time + inter-train interval)
    TRAIN_ONSETS = 2  #: (num_trains - 1) x (on-time + inter-train interval)


class IntensityUnit(enum.IntEnum):
    """Units of :meth:`Protocol.set_intensity` (tmsf_intensity_unit)."""
    PERCENT_MSO = 1  #: % of the stimulator's maximum output
    PERCENT_MT = 2   #: % of the motor threshold
    DIDT = 3         #: dI/dt in A/s
    FIELD = 4        #: field at the target, V/m


@dataclass
class ProtocolTiming:
    """Timing of a protocol (protocol.h: tmsf_protocol_timing): trains of
    bursts of pulses."""
    pulses_per_burst: int = 1
    pulse_interval_s: float = 0.0
    bursts_per_train: int = 1
    burst_interval_s: float = 1.0
    num_trains: int = 1
    inter_train_interval_s: float = 0.0
    duration_rule: DurationRule = DurationRule.TRAIN_CYCLES

    def _to_c(self) -> _lib.tmsf_protocol_timing:
        t = _lib.tmsf_protocol_timing()
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            setattr(t, f.name, int(v) if f.type in ("int", "DurationRule") else float(v))
        return t

    @classmethod
    def _from_c(cls, t: _lib.tmsf_protocol_timing) -> "ProtocolTiming":
        return cls(int(t.pulses_per_burst), t.pulse_interval_s, int(t.bursts_per_train),
                   t.burst_interval_s, int(t.num_trains), t.inter_train_interval_s,
                   DurationRule(t.duration_rule))


def protocol_presets() -> List[str]:
    """Names of the built-in presets (itbs, ctbs, rtms10, sici, ...)."""
    n = c_int()
    names = POINTER(c_char_p)()
    lib.tmsf_protocol_preset_list(byref(n), byref(names))
    return [_lib.decode(names[i]) for i in range(n.value)]


class Protocol(_Object):
    """A stimulation protocol (protocol.h).

    Create with :meth:`preset` (e.g. ``"itbs"``) or ``Protocol(name,
    timing)``; set the intensity (and what it needs: a motor threshold, the
    coil's dI/dt max, the field per %MSO), :meth:`build`, then read
    :attr:`times_s`, :attr:`percent_mso`, :attr:`didt_A_per_s`,
    :attr:`field_V_per_m`, :attr:`duration_s`, :meth:`to_json`.
    """

    _kind = "protocol"

    def __init__(self, name: str, timing: ProtocolTiming, ctx: Optional[Context] = None) -> None:
        c = _ctx(ctx)
        t = timing._to_c()
        p = c_void_p()
        c._call("tmsf_protocol_create", c._ptr, _lib.encode(name), byref(t), byref(p))
        self._own(p.value, c, lib.tmsf_protocol_destroy)

    @classmethod
    def preset(cls, name: str, ctx: Optional[Context] = None) -> "Protocol":
        """A built-in preset (case-insensitive); Error ERR_NOT_FOUND lists them."""
        c = _ctx(ctx)
        p = c_void_p()
        c._call("tmsf_protocol_create_preset", c._ptr, _lib.encode(name), byref(p))
        return cls._adopt(p.value, c, lib.tmsf_protocol_destroy)

    # -- settings ------------------------------------------------------------
    @property
    def timing(self) -> ProtocolTiming:
        """The timing (assign a ProtocolTiming to change it)."""
        t = _lib.tmsf_protocol_timing()
        self._call("tmsf_protocol_get_timing", self._ptr, byref(t))
        return ProtocolTiming._from_c(t)

    @timing.setter
    def timing(self, timing: ProtocolTiming) -> None:
        t = timing._to_c()
        self._call("tmsf_protocol_set_timing", self._ptr, byref(t))

    @property
    def info(self) -> Dict[str, str]:
        """{"name", "preset", "description", "source"}."""
        a, b, c, d = c_char_p(), c_char_p(), c_char_p(), c_char_p()
        self._call("tmsf_protocol_get_info", self._ptr, byref(a), byref(b), byref(c), byref(d))
        return {"name": _lib.decode(a.value), "preset": _lib.decode(b.value),
                "description": _lib.decode(c.value), "source": _lib.decode(d.value)}

    @property
    def name(self) -> str:
        """The protocol's name."""
        return self.info["name"]

    @name.setter
    def name(self, name: str) -> None:
        self._call("tmsf_protocol_set_name", self._ptr, _lib.encode(name))

    def set_description(self, text: str) -> None:
        """Set the free-text description."""
        self._call("tmsf_protocol_set_description", self._ptr, _lib.encode(text))

    def set_source(self, text: str) -> None:
        """Set the literature source."""
        self._call("tmsf_protocol_set_source", self._ptr, _lib.encode(text))

    def set_intensity(self, values: "float | Sequence[float]",
                      unit: "IntensityUnit | str" = IntensityUnit.PERCENT_MSO) -> None:
        """Intensity of every pulse (one value) or per position in a burst;
        unit "percent_mso", "percent_mt", "didt" (A/s) or "field" (V/m)."""
        u = IntensityUnit[unit.upper()] if isinstance(unit, str) else IntensityUnit(unit)
        v = np.ascontiguousarray(np.atleast_1d(values), np.float64)
        self._call("tmsf_protocol_set_intensity", self._ptr, int(u), v.shape[0], ptr(v))

    def set_motor_threshold(self, percent_mso: float, kind: str = "RMT") -> None:
        """Motor threshold in %MSO and its kind ("RMT", "AMT")."""
        self._call("tmsf_protocol_set_motor_threshold", self._ptr, _lib.encode(kind),
                   float(percent_mso))

    def set_didt_max(self, didt_max_A_per_s: float) -> None:
        """The coil's dI/dt at 100 % MSO, A/s."""
        self._call("tmsf_protocol_set_didt_max", self._ptr, float(didt_max_A_per_s))

    def set_coil(self, coil: Coil) -> None:
        """Take the dI/dt max and name of a coil."""
        self._call("tmsf_protocol_set_coil", self._ptr, coil._ptr)

    def set_field_per_mso(self, field_V_per_m_per_percent_mso: float,
                          metric: Optional[str] = None) -> None:
        """Field at the target per %MSO (e.g. from a Dose: target_V_per_m /
        mso_percent) and the label of its metric."""
        self._call("tmsf_protocol_set_field_per_mso", self._ptr,
                   float(field_V_per_m_per_percent_mso), _lib.encode(metric))

    def set_limits(self, max_percent_mso: float = 100.0, min_pulse_interval_s: float = 0.0,
                   clamp: bool = False) -> None:
        """Stimulator limits: highest output, shortest pulse interval, clamp."""
        self._call("tmsf_protocol_set_limits", self._ptr, float(max_percent_mso),
                   float(min_pulse_interval_s), 1 if clamp else 0)

    # -- build and results ---------------------------------------------------
    def build(self) -> "Protocol":
        """Compute the pulses and check the limits (Error naming the first
        offending pulse).  Returns self."""
        self._call("tmsf_protocol_build", self._ptr)
        return self

    @property
    def num_pulses(self) -> int:
        """Pulses of the timing."""
        n = c_int64()
        self._call("tmsf_protocol_get_num_pulses", self._ptr, byref(n))
        return n.value

    def _pulses(self, k: int) -> Optional[np.ndarray]:
        ps = [c_void_p() for _ in range(4)]
        self._call("tmsf_protocol_get_pulses", self._ptr, *(byref(p) for p in ps))
        p = ps[k].value
        if not p:
            return None
        # copied: a later build replaces the arrays
        return np.array(view(p, (self.num_pulses,), np.float64, self._h))

    @property
    def times_s(self) -> np.ndarray:
        """Pulse times from the first pulse, s (built protocol)."""
        return self._pulses(0)  # type: ignore[return-value]

    @property
    def percent_mso(self) -> np.ndarray:
        """Per-pulse output, % MSO."""
        return self._pulses(1)  # type: ignore[return-value]

    @property
    def didt_A_per_s(self) -> Optional[np.ndarray]:
        """Per-pulse dI/dt, A/s (None without a dI/dt max)."""
        return self._pulses(2)

    @property
    def field_V_per_m(self) -> Optional[np.ndarray]:
        """Per-pulse field at the target, V/m (None without a field per %MSO)."""
        return self._pulses(3)

    @property
    def duration_s(self) -> float:
        """Nominal session duration by the protocol's rule, s."""
        a, b = c_double(), c_double()
        self._call("tmsf_protocol_get_duration", self._ptr, byref(a), byref(b))
        return a.value

    @property
    def span_s(self) -> float:
        """First to last pulse, s."""
        a, b = c_double(), c_double()
        self._call("tmsf_protocol_get_duration", self._ptr, byref(a), byref(b))
        return b.value

    @property
    def num_clamped(self) -> int:
        """Pulses clamped to the output limit by the last build."""
        n = c_int64()
        self._call("tmsf_protocol_get_num_clamped", self._ptr, byref(n))
        return n.value

    def to_json(self) -> str:
        """The built protocol as JSON (schema "tmsfield-protocol" version 1)."""
        s = c_char_p()
        self._call("tmsf_protocol_get_json", self._ptr, byref(s))
        return _lib.decode(s.value)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON as a dict."""
        return json.loads(self.to_json())

    def write_json(self, path: "str | os.PathLike[str]") -> None:
        """Write the JSON of the built protocol to a file."""
        self._call("tmsf_protocol_write_json", self._ptr, _lib.encode(path))

    def __repr__(self) -> str:
        return "<tmsfield.Protocol closed>" if self.closed else \
            f"<tmsfield.Protocol {self.name!r}: {self.num_pulses} pulses>"

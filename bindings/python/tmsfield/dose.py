# SPDX-License-Identifier: BSD-3-Clause
"""Dosing (dose.h): %MSO <-> dI/dt, the stimulator output that reaches a
target field, and the transfer of a motor threshold to another pose or coil
(E-field-matched dosing)."""
from __future__ import annotations

import json
from ctypes import byref, c_double, c_int, c_size_t, create_string_buffer
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _lib
from ._core import pose16, ptr
from ._lib import lib
from .coil import Coil
from .region import Metric, Region
from .simulation import Field, Simulation


class DoseResult:
    """A dose (dose.h: tmsf_dose_result): the metric, region, coil and
    stimulator limit used, and the setting that gives the stated field.
    Plain data, made by the :class:`Dose` functions: the fields are
    read-only properties; :meth:`to_json` writes the library's JSON,
    :meth:`to_dict` parses it."""

    __slots__ = ("_r",)

    def __init__(self, r: _lib.tmsf_dose_result) -> None:
        self._r = r

    @property
    def metric(self) -> Metric:
        """The metric the dose is stated in."""
        m = Metric.__new__(Metric)
        m._m = _lib.tmsf_metric.from_buffer_copy(self._r.metric)
        return m

    @property
    def metric_name(self) -> str:
        """e.g. "meanvec", "p99"."""
        return _lib.decode(self._r.metric_name)

    @property
    def metric_description(self) -> str:
        """A sentence describing the metric."""
        return _lib.decode(self._r.metric_description)

    @property
    def region_kind(self) -> str:
        """"sphere" or "elements"."""
        return "elements" if self._r.region_kind == 1 else "sphere"

    @property
    def region_centre_m(self) -> np.ndarray:
        """Centre of the region, metres."""
        return np.array(self._r.region_centre_m[:])

    @property
    def region_radius_m(self) -> float:
        """Radius of the region, metres."""
        return float(self._r.region_radius_m)

    @property
    def region_tags(self) -> list:
        """Tissue tags of the region."""
        return list(self._r.region_tags[:self._r.region_num_tags])

    @property
    def region_num_elements(self) -> int:
        """Tetrahedra in the region."""
        return int(self._r.region_num_elements)

    @property
    def region_volume_m3(self) -> float:
        """Volume of the region, m^3."""
        return float(self._r.region_volume_m3)

    @property
    def coil_name(self) -> str:
        """The coil's name."""
        return _lib.decode(self._r.coil_name)

    @property
    def pose(self) -> np.ndarray:
        """The pose (4x4, metres; NaN when not known)."""
        return np.array(self._r.head_from_coil_m[:]).reshape(4, 4)

    @property
    def pose_mm(self) -> np.ndarray:
        """The pose with the translation in millimetres."""
        P = self.pose
        P[:3, 3] *= 1e3
        return P

    @property
    def didt_max_A_per_s(self) -> float:
        """The coil's dI/dt at 100 % MSO (NaN when unknown)."""
        return float(self._r.didt_max_A_per_s)

    @property
    def metric_per_A_per_us_V_per_m(self) -> float:
        """The metric at dI/dt = 1 A/us, V/m."""
        return float(self._r.metric_per_A_per_us_V_per_m)

    @property
    def target_V_per_m(self) -> float:
        """The field the setting gives (the metric's value), V/m."""
        return float(self._r.target_V_per_m)

    @property
    def didt_A_per_s(self) -> float:
        """dI/dt that gives target_V_per_m, A/s."""
        return float(self._r.didt_A_per_s)

    @property
    def mso_percent(self) -> float:
        """The same as % of the stimulator's maximum output (may exceed 100,
        see beyond_limit; NaN without a dI/dt max)."""
        return float(self._r.mso_percent)

    @property
    def beyond_limit(self) -> bool:
        """The stimulator cannot deliver it (mso_percent > 100)."""
        return bool(self._r.beyond_limit)

    def to_json(self) -> str:
        """The dose as one JSON object (tmsf_dose_result_to_json)."""
        n = c_size_t()
        lib.tmsf_dose_result_to_json(byref(self._r), None, 0, byref(n))
        buf = create_string_buffer(n.value + 1)
        lib.tmsf_dose_result_to_json(byref(self._r), buf, len(buf), byref(n))
        return _lib.decode(buf.value)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON as a dict."""
        return json.loads(self.to_json())

    def __repr__(self) -> str:
        return (f"<tmsfield.DoseResult {self.metric_name} {self.target_V_per_m:.4g} V/m: "
                f"{self.mso_percent:.2f} %MSO, {self.didt_A_per_s * 1e-6:.4g} A/us"
                f"{' BEYOND LIMIT' if self.beyond_limit else ''}>")


class Dose:
    """Dosing functions (dose.h), as static methods:

    * :meth:`mso_to_didt`, :meth:`didt_to_mso`: dI/dt = %MSO / 100 x dI/dt max;
    * :meth:`for_target`: the %MSO at which a metric on a region reaches a field;
    * :meth:`from_field`: the same from a field already computed;
    * :meth:`transfer`: a motor threshold at one pose carried to another pose
      or coil (the same metric value on the target region).
    """

    @staticmethod
    def mso_to_didt(coil: Coil, mso_percent: float, clamp: bool = False) -> Tuple[float, bool]:
        """(dI/dt A/s, clamped) for a stimulator output in % MSO.  Beyond
        [0, 100]: Error ERR_LIMIT, unless clamp."""
        d, c = c_double(), c_int()
        coil._call("tmsf_dose_mso_to_didt", coil._ptr, float(mso_percent), 1 if clamp else 0,
                   byref(d), byref(c))
        return d.value, bool(c.value)

    @staticmethod
    def didt_to_mso(coil: Coil, didt_A_per_s: float, clamp: bool = False) -> Tuple[float, bool]:
        """(% MSO, clamped) for a dI/dt in A/s; limits as :meth:`mso_to_didt`."""
        m, c = c_double(), c_int()
        coil._call("tmsf_dose_didt_to_mso", coil._ptr, float(didt_A_per_s), 1 if clamp else 0,
                   byref(m), byref(c))
        return m.value, bool(c.value)

    @staticmethod
    def for_target(simulation: Simulation, coil: Coil, pose_m: Any, region: Region,
                   metric: "Metric | str" = "meanvec", target_V_per_m: float = 100.0
                   ) -> DoseResult:
        """The dI/dt and %MSO at which the metric on the region reaches
        target_V_per_m (one solve at 1 A/us, then scaling).  Not clamped:
        beyond the stimulator gives mso_percent > 100 and beyond_limit."""
        simulation._ensure_setup()
        m = Metric.coerce(metric, simulation.context)
        P = pose16(pose_m)
        r = _lib.tmsf_dose_result()
        simulation._call("tmsf_dose_for_target", simulation._ptr, coil._ptr, ptr(P), region._ptr,
                         byref(m._m), float(target_V_per_m), byref(r))
        return DoseResult(r)

    @staticmethod
    def from_field(field: Field, coil: Coil, region: Region, metric: "Metric | str" = "meanvec",
                   target_V_per_m: float = 100.0, pose_m: Any = None) -> DoseResult:
        """The same from a field computed for this coil (no solve); the pose
        defaults to the field's."""
        m = Metric.coerce(metric, field.context)
        pose = pose_m if pose_m is not None else field.pose_m
        P = None if pose is None else pose16(pose)
        r = _lib.tmsf_dose_result()
        field._call("tmsf_dose_from_field", field._ptr, coil._ptr, ptr(P), region._ptr,
                    byref(m._m), float(target_V_per_m), byref(r))
        return DoseResult(r)

    @staticmethod
    def transfer(simulation: Simulation, coil_a: Coil, pose_a_m: Any, region_a: Region,
                 rmt_mso_percent: float, pose_b_m: Any, region_b: Region,
                 coil_b: Optional[Coil] = None, metric: "Metric | str" = "meanvec"
                 ) -> Tuple[DoseResult, DoseResult]:
        """Motor-threshold transfer: the threshold rmt_mso_percent of coil_a
        at pose_a gives a metric value on region_a; returns (at_a, at_b) where
        at_b is the %MSO of coil_b (default coil_a) at pose_b that gives the
        same value on region_b."""
        simulation._ensure_setup()
        m = Metric.coerce(metric, simulation.context)
        cb = coil_a if coil_b is None else coil_b
        PA, PB = pose16(pose_a_m, "pose_a_m"), pose16(pose_b_m, "pose_b_m")
        ra, rb = _lib.tmsf_dose_result(), _lib.tmsf_dose_result()
        simulation._call("tmsf_dose_transfer", simulation._ptr, coil_a._ptr, ptr(PA), region_a._ptr,
                         float(rmt_mso_percent), cb._ptr, ptr(PB), region_b._ptr, byref(m._m),
                         byref(ra), byref(rb))
        return DoseResult(ra), DoseResult(rb)

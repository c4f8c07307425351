# SPDX-License-Identifier: BSD-3-Clause
"""The ctypes mirrors of the C structs match the C compiler's layout, and the
constants copied into Python match the headers.

Reference: bindings/python/layout.c, built by meson with the public headers,
prints sizeof and offsetof/sizeof of every field of every mirrored struct and
the enum values.  A field added, removed, reordered or retyped in a header
without the mirror following it changes an offset or a size and fails here.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

import tmsfield as tf
from tmsfield import _lib
from conftest import tool


@pytest.fixture(scope="module")
def layout() -> dict:
    exe = tool("TMSF_PY_LAYOUT", "bindings/python/python-layout")
    if not exe.exists():
        if os.environ.get("TMSF_PY_LAYOUT"):
            pytest.fail(f"layout printer {exe} missing")
        pytest.skip(f"layout printer {exe} not built")
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_every_mirrored_struct_is_checked(layout: dict) -> None:
    assert set(layout["structs"]) == set(_lib.STRUCTS)


@pytest.mark.parametrize("name", sorted(_lib.STRUCTS))
def test_struct_layout(layout: dict, name: str) -> None:
    import ctypes
    cls = _lib.STRUCTS[name]
    c = layout["structs"][name]
    assert ctypes.sizeof(cls) == c["size"], f"sizeof({name})"
    py_fields = [f[0] for f in cls._fields_]
    assert py_fields == list(c["fields"]), f"{name}: fields or their order differ"
    for fname, (off, size) in c["fields"].items():
        d = getattr(cls, fname)
        assert (d.offset, d.size) == (off, size), f"{name}.{fname}: offset/size"


def test_enums_are_int_sized(layout: dict) -> None:
    assert layout["constants"]["enum_size"] == 4  # mirrored as c_int


def test_constants(layout: dict) -> None:
    c = layout["constants"]
    expect = {
        "TMSF_REGION_MAX_TAGS": _lib.REGION_MAX_TAGS,
        "TMSF_METRIC_NAME_LEN": _lib.METRIC_NAME_LEN,
        "TMSF_METRIC_DESCRIPTION_LEN": _lib.METRIC_DESCRIPTION_LEN,
        "TMSF_DOSE_NAME_LEN": _lib.DOSE_NAME_LEN,
        "TMSF_PLACEMENT_TOP_MAX": _lib.PLACEMENT_TOP_MAX,
        "TMSF_HEAD_PATH_MAX": _lib.HEAD_PATH_MAX,
        "TMSF_PLACEMENT_DIDT": _lib.PLACEMENT_DIDT,
        "TMSF_PLACEMENT_GRID_SPACING": _lib.PLACEMENT_GRID_SPACING,
        "TMSF_SURFACE_GM": _lib.SURFACE_GM,
        "TMSF_METRIC_MEAN": tf.MetricKind.MEAN,
        "TMSF_METRIC_PERCENTILE": tf.MetricKind.PERCENTILE,
        "TMSF_METRIC_DIRECTION": tf.MetricKind.DIRECTION,
        "TMSF_METRIC_NORMAL": tf.MetricKind.NORMAL,
        "TMSF_METRIC_MEAN_VECTOR": tf.MetricKind.MEAN_VECTOR,
        "TMSF_PLACEMENT_FAST": tf.Method.FAST,
        "TMSF_PLACEMENT_DIRECT": tf.Method.DIRECT,
        "TMSF_PLACEMENT_NODAL": tf.Method.NODAL,
        "TMSF_PLACEMENT_ADJOINT_SECONDS": tf.PlacementInfo.ADJOINT_SECONDS,
        "TMSF_PLACEMENT_LAST_OUTSIDE": tf.PlacementInfo.LAST_OUTSIDE,
        "TMSF_SIM_ASSEMBLY_SECONDS": tf.SimInfo.ASSEMBLY_SECONDS,
        "TMSF_SIM_ITERATIONS": tf.SimInfo.ITERATIONS,
        "TMSF_SIM_PRIMARY_GRID_ERROR": tf.SimInfo.PRIMARY_GRID_ERROR,
        "TMSF_PRIMARY_AUTO": 0, "TMSF_PRIMARY_DIRECT": 1, "TMSF_PRIMARY_GRID": 2,
        "TMSF_SAMPLE_ELEMENT": 0, "TMSF_SAMPLE_RECOVERED": 1,
        "TMSF_OUTPUT_MAGNE": 0, "TMSF_OUTPUT_E": 1,
        "TMSF_REGION_SPHERE": 0, "TMSF_REGION_ELEMENTS": 1,
        "TMSF_HEAD_MESH": 0, "TMSF_HEAD_LABELS": 1,
        "TMSF_COIL_DIPOLES": 1, "TMSF_COIL_SEGMENTS": 2, "TMSF_COIL_GRID": 3,
        "TMSF_COIL_MIXED": 4, "TMSF_PRECISION_SINGLE": 0, "TMSF_PRECISION_DOUBLE": 1,
        "TMSF_DOSE_STRICT": 0, "TMSF_DOSE_CLAMP": 1,
        "TMSF_DURATION_TRAIN_CYCLES": tf.DurationRule.TRAIN_CYCLES,
        "TMSF_DURATION_TRAIN_ONSETS": tf.DurationRule.TRAIN_ONSETS,
        "TMSF_INTENSITY_PERCENT_MSO": tf.IntensityUnit.PERCENT_MSO,
        "TMSF_INTENSITY_PERCENT_MT": tf.IntensityUnit.PERCENT_MT,
        "TMSF_INTENSITY_DIDT": tf.IntensityUnit.DIDT,
        "TMSF_INTENSITY_FIELD": tf.IntensityUnit.FIELD,
        "TMSF_NNAV_SPACE_RAS": tf.navigator.SPACES["RAS"],
        "TMSF_NNAV_SPACE_LPS": tf.navigator.SPACES["LPS"],
        "TMSF_NNAV_SPACE_NIFTI_ALIGNED": tf.navigator.SPACES["NIfTI:Aligned"],
        "TMSF_NNAV_SPACE_NIFTI_SCANNER": tf.navigator.SPACES["NIfTI:Scanner"],
        "TMSF_NNAV_TARGETS": 0, "TMSF_NNAV_SAMPLES": 1,
    }
    for st in tf.Status:
        expect["TMSF_" + ("SUCCESS" if st == 0 else st.name)] = int(st)
    missing = set(c) - set(expect) - {"enum_size"}
    assert not missing, f"constants printed by layout.c but not checked: {missing}"
    for k, v in expect.items():
        assert c[k] == float(v), k
    # every status code the C list has is a Status member
    assert {k for k in c if k.startswith("TMSF_ERR_") or k == "TMSF_SUCCESS"} == \
        {"TMSF_" + ("SUCCESS" if s == 0 else s.name) for s in tf.Status}

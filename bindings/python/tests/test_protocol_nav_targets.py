# SPDX-License-Identifier: BSD-3-Clause
"""Protocol (timing, intensities, limits, JSON), navigator files (Localite,
Brainsight: real files and round trips) and the target table."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import tmsfield as tf
from conftest import ROOT

NNAV = ROOT / "tests" / "data" / "nnav"


# ---------------------------------------------------------------------------
# Protocol
# ---------------------------------------------------------------------------
def test_itbs_preset(tmp_path: Path, b70: "tf.Coil") -> None:
    """Huang et al. 2005 iTBS at 80 % of RMT 50 %MSO with the MC-B70: 600
    pulses, 190 s (onset rule), last pulse at 191.84 s, 40 %MSO = 62.132 A/us,
    50 V/m at 1.25 V/m per %MSO (the C tests' numbers)."""
    assert {"itbs", "ctbs", "rtms10", "sici"} <= set(tf.protocol_presets())
    p = tf.Protocol.preset("iTBS")
    assert p.num_pulses == 600
    p.set_intensity(80.0, "percent_mt")
    p.set_motor_threshold(50.0)
    p.set_coil(b70)
    p.set_field_per_mso(1.25, "mean |E| in ROI")
    p.build()
    assert p.duration_s == pytest.approx(190.0, abs=1e-9)
    assert p.span_s == pytest.approx(191.84, abs=1e-9)
    t = p.times_s
    tr, b, k = np.meshgrid(np.arange(20), np.arange(10), np.arange(3), indexing="ij")
    np.testing.assert_allclose(t, (10.0 * tr + 0.2 * b + 0.02 * k).ravel(), atol=1e-12)
    np.testing.assert_allclose(p.percent_mso, 40.0, rtol=1e-12)
    np.testing.assert_allclose(p.didt_A_per_s, 0.4 * 155.33e6, rtol=1e-12)
    np.testing.assert_allclose(p.field_V_per_m, 50.0, rtol=1e-12)
    assert p.num_clamped == 0
    info = p.info
    assert info["preset"] == "itbs" and "Huang" in info["source"]
    timing = p.timing
    assert (timing.pulses_per_burst, timing.bursts_per_train, timing.num_trains) == (3, 10, 20)
    assert timing.duration_rule == tf.DurationRule.TRAIN_ONSETS
    d = p.to_dict()
    assert d == json.loads(p.to_json())
    out = tmp_path / "itbs.json"
    p.write_json(out)
    assert json.loads(out.read_text()) == d
    assert len(re.findall(r"600", out.read_text())) >= 1


def test_protocol_limits_and_custom() -> None:
    p = tf.Protocol.preset("itbs")
    p.set_intensity(120.0, tf.IntensityUnit.PERCENT_MT)
    p.set_motor_threshold(90.0)
    p.set_didt_max(155.33e6)
    with pytest.raises(tf.Error) as ei:
        p.build()
    m = ei.value.message
    assert "'itbs'" in m and "pulse 1 of 600" in m and "108 %MSO" in m
    p.set_limits(100.0, 0.0, clamp=True)
    p.build()
    assert p.num_clamped == 600 and p.percent_mso.max() == 100.0
    assert p.field_V_per_m is None  # no field per %MSO given
    # a custom paired-pulse protocol: 2 pulses 3 ms apart every 5 s, 10 pairs
    timing = tf.ProtocolTiming(pulses_per_burst=2, pulse_interval_s=0.003, bursts_per_train=10,
                               burst_interval_s=5.0, num_trains=1)
    q = tf.Protocol("pairs", timing)
    q.set_intensity([30.0, 60.0])
    q.build()
    assert q.name == "pairs" and q.num_pulses == 20
    np.testing.assert_allclose(q.times_s[:4], [0, 0.003, 5, 5.003], atol=1e-12)
    np.testing.assert_array_equal(q.percent_mso[:4], [30, 60, 30, 60])
    assert q.didt_A_per_s is None
    timing.num_trains = 2
    timing.inter_train_interval_s = 10.0
    q.timing = timing
    assert q.num_pulses == 40
    with pytest.raises(tf.Error):
        tf.Protocol.preset("nosuch")
    with pytest.raises(tf.Error) as ei:
        tf.Protocol("bad", tf.ProtocolTiming(pulses_per_burst=0))
    assert ei.value.status == tf.Status.ERR_ARGUMENT


# ---------------------------------------------------------------------------
# Navigator files
# ---------------------------------------------------------------------------
def test_read_localite_real_file() -> None:
    """SimNIBS's Localite test file: head_from_coil = L F with F = [e_z,
    -e_y, e_x] (docs/navigator.md), centre mm -> m."""
    r = tf.read_localite(NNAV / "localite" / "RAS_InstrumentMarker.xml")
    assert r.space == "RAS" and r.names[:3] == ["M0", "M+45", "M-45"] and len(r) == 6
    L = np.array([[0.7265942667645653, -0.5155009532533439, -0.4542808568975744, -41.837674747395575],
                  [0.04949249463932184, -0.6201864008744066, 0.782924568134545, -34.1115598830028],
                  [-0.685319504116932, -0.5913367514447083, -0.425099496484739, 88.60916741149502]])
    P = r.poses[0]
    np.testing.assert_allclose(P[:3, 0], L[:, 2], atol=1e-4)
    np.testing.assert_allclose(P[:3, 1], -L[:, 1], atol=1e-4)
    np.testing.assert_allclose(P[:3, 2], L[:, 0], atol=1e-4)
    np.testing.assert_allclose(P[:3, 3], L[:, 3] * 1e-3, rtol=1e-14)
    for Q in r.poses:
        tf.check_pose(Q)
    lps = tf.read_localite(NNAV / "localite" / "LPS_InstrumentMarker.xml")
    assert lps.space == "LPS" and len(lps) == 4
    with pytest.raises(tf.Error) as ei:
        tf.read_localite(NNAV / "localite" / "TriggerMarkers_Coil0.xml")
    assert ei.value.status == tf.Status.ERR_UNSUPPORTED and "TriggerMarkers_Coil0.xml" in ei.value.message


def test_read_brainsight_real_file() -> None:
    t = tf.read_brainsight(NNAV / "brainsight" / "niiImage_niftialignedcoord.txt")
    s = tf.read_brainsight(NNAV / "brainsight" / "niiImage_niftialignedcoord.txt", "samples")
    assert t.space == "NIfTI:Aligned" and len(t) == 7 and len(s) == 101
    sc = tf.read_brainsight(NNAV / "brainsight" / "niiImage_nifticoord.txt")
    assert sc.space == "NIfTI:Scanner"
    np.testing.assert_array_equal(sc.poses, t.poses)  # the same numbers in both exports


def test_navigator_round_trips(tmp_path: Path, mesh: "tf.Mesh") -> None:
    poses = np.stack([mesh.pose_from_centre([0.02, 0, 0.09], [0, 1, 0], 0.004),
                      mesh.pose_from_centre([0, 0.03, 0.09], [1, 1, 0], 0.006)])
    names = ["hotspot", "DLPFC é"]
    for write, read, space in [(tf.write_localite, tf.read_localite, "RAS"),
                               (tf.write_localite, tf.read_localite, "LPS"),
                               (tf.write_brainsight, tf.read_brainsight, "NIfTI:Aligned")]:
        p = tmp_path / f"poses-{space.replace(':', '')}"
        write(p, poses, names, space)
        back = read(p)
        assert back.names == names and back.space == space
        # every digit written: back to rounding (navigator.h: 4.4e-16 measured)
        np.testing.assert_allclose(back.poses, poses, rtol=0, atol=1e-14)
    tf.write_localite(tmp_path / "one.xml", poses[0])
    assert tf.read_localite(tmp_path / "one.xml").names == ["Pose 1"]
    with pytest.raises(tf.Error) as ei:
        tf.write_localite(tmp_path / "bad.xml", np.diag([1.0, 1.0, 2.0, 1.0]))
    assert ei.value.status == tf.Status.ERR_POSE
    with pytest.raises(ValueError):
        tf.write_localite(tmp_path / "x.xml", poses, ["only one"])
    bad = tmp_path / "broken.xml"
    bad.write_text('<InstrumentMarkerList coordinateSpace="RAS"><InstrumentMarker>')
    with pytest.raises(tf.Error) as ei:
        tf.read_localite(bad)
    assert ei.value.status == tf.Status.ERR_FORMAT and str(bad) in ei.value.message


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------
def test_targets() -> None:
    table = {t.name: t for t in tf.targets()}
    assert {"M1", "DLPFC", "F3"} <= set(table)
    m1 = table["M1"]
    np.testing.assert_array_equal(m1.mni_mm, [-37, -21, 58])
    assert "Yousry" in m1.citation and m1.description
    assert tf.find_target("m1-left").name == "M1"
    np.testing.assert_allclose(m1.head_m(), [-0.037, -0.021, 0.058])
    A = np.eye(4)
    A[:3, 3] = [1, 2, 3]
    np.testing.assert_allclose(tf.mni_to_head(m1.mni_mm, A), [-0.036, -0.019, 0.061])
    with pytest.raises(tf.Error) as ei:
        tf.find_target("V9")
    assert ei.value.status == tf.Status.ERR_NOT_FOUND and "DLPFC" in ei.value.message
    B = A.copy()
    B[3, 0] = 1
    with pytest.raises(tf.Error):
        tf.mni_to_head(m1.mni_mm, B)


def test_nifti_affine(tmp_path: Path, mesh: "tf.Mesh", fig8: "tf.Coil", sim: "tf.Simulation") -> None:
    A = np.array([[2.0, 0, 0, -20], [0, 2, 0, -20], [0, 0, 2, 60], [0, 0, 0, 1]])
    f = sim.solve(fig8, mesh.pose_from_centre([0, 0, 0.095], [0, 1, 0], 0.004))
    f.write_nifti(tmp_path / "a.nii.gz", dims=(4, 4, 4), affine_mm=A)
    np.testing.assert_allclose(tf.nifti_affine(tmp_path / "a.nii.gz"), A)
    with pytest.raises(tf.Error) as ei:
        tf.nifti_affine(tmp_path / "missing.nii")
    assert "missing.nii" in ei.value.message

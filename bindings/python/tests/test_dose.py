# SPDX-License-Identifier: BSD-3-Clause
"""Dose: %MSO <-> dI/dt, the dose for a target field checked by a new solve,
the motor-threshold transfer round trip, the result as JSON."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tmsfield as tf

DIDT_MAX = 155.33e6  # MC-B70 on a MagPro X100 (Drakaki et al. 2022), A/s


@pytest.fixture(scope="module")
def poses(mesh: "tf.Mesh"):
    a = mesh.pose_from_centre([0.02, 0, 0.093], [0, 1, 0], 0.004)
    b = mesh.pose_from_centre([0.0, 0.03, 0.09], [1, 0, 0], 0.004)
    return a, b


def test_mso_didt(b70: "tf.Coil", fig8: "tf.Coil") -> None:
    d, clamped = tf.Dose.mso_to_didt(b70, 50.0)
    assert d == pytest.approx(0.5 * DIDT_MAX, rel=1e-15) and not clamped
    m, _ = tf.Dose.didt_to_mso(b70, d)
    assert m == pytest.approx(50.0, rel=1e-15)
    with pytest.raises(tf.Error) as ei:
        tf.Dose.mso_to_didt(b70, 120.0)
    e = ei.value
    assert e.status == tf.Status.ERR_LIMIT and "MC-B70" in e.message and "120" in e.message
    d, clamped = tf.Dose.mso_to_didt(b70, 120.0, clamp=True)
    assert clamped and d == pytest.approx(DIDT_MAX)
    with pytest.raises(tf.Error) as ei:
        tf.Dose.mso_to_didt(fig8, 50.0)  # no dIdtmax in the file
    assert ei.value.status == tf.Status.ERR_NOT_FOUND


def test_for_target_reaches_the_field(sim: "tf.Simulation", b70: "tf.Coil", poses,
                                      m1_region: "tf.Region") -> None:
    P = poses[0]
    d = tf.Dose.for_target(sim, b70, P, m1_region, "p99", 100.0)
    assert d.metric_name == "p99" and d.target_V_per_m == 100.0
    assert d.didt_max_A_per_s == pytest.approx(DIDT_MAX)
    assert d.mso_percent == pytest.approx(d.didt_A_per_s / DIDT_MAX * 100, rel=1e-14)
    assert d.didt_A_per_s * d.metric_per_A_per_us_V_per_m / 1e6 == pytest.approx(100.0, rel=1e-12)
    assert not d.beyond_limit and 0 < d.mso_percent < 100
    # a new solve at that dI/dt gives 100 V/m
    f = sim.solve(b70, P, d.didt_A_per_s)
    assert f.metric("p99", m1_region) == pytest.approx(100.0, rel=1e-9)
    # the same without a solve, from a field at 1 A/us
    f1 = sim.solve(b70, P, 1e6)
    d2 = tf.Dose.from_field(f1, b70, m1_region, "p99", 100.0)
    assert d2.mso_percent == pytest.approx(d.mso_percent, rel=1e-12)
    np.testing.assert_array_equal(d2.pose, P)
    # the record: region, coil, pose, metric
    assert d.region_num_elements == len(m1_region) and d.region_tags == [3]
    assert d.region_volume_m3 == pytest.approx(m1_region.volume_m3)
    np.testing.assert_allclose(d.region_centre_m, m1_region.centre_m)
    assert d.region_radius_m == 0.010 and d.region_kind == "sphere"
    assert d.coil_name == "MC-B70" and d.metric.kind == tf.MetricKind.PERCENTILE
    np.testing.assert_array_equal(d.pose, P)
    np.testing.assert_allclose(d.pose_mm[:3, 3], P[:3, 3] * 1e3)
    js = d.to_dict()
    assert js["mso_percent"] == pytest.approx(d.mso_percent) and "p99" in d.to_json()
    # beyond the stimulator: reported, not an error
    hi = tf.Dose.for_target(sim, b70, P, m1_region, "p99", 1000.0)
    assert hi.beyond_limit and hi.mso_percent > 100
    # along minus the mean field: negative at any positive output
    e = m1_region.elements
    w = f1.mesh.volumes[e]
    mean = (f1.E[e] * w[:, None]).sum(0)
    with pytest.raises(tf.Error) as ei:
        tf.Dose.for_target(sim, b70, P, m1_region, tf.Metric.along(-mean), 100.0)
    assert ei.value.status == tf.Status.ERR_NUMERIC


def test_transfer_round_trip(sim: "tf.Simulation", b70: "tf.Coil", poses, mesh: "tf.Mesh",
                             m1_region: "tf.Region") -> None:
    A, B = poses
    rb = tf.Region.target(mesh, [0.0, 0.03, 0.075], 0.010, [3])
    at_a, at_b = tf.Dose.transfer(sim, b70, A, m1_region, 45.0, B, rb, metric="meanvec")
    assert at_a.mso_percent == 45.0
    assert at_b.target_V_per_m == pytest.approx(at_a.target_V_per_m, rel=1e-14)
    # transferred back, the threshold returns (the C tests: within 1e-6)
    back_a, back_b = tf.Dose.transfer(sim, b70, B, rb, at_b.mso_percent, A, m1_region,
                                      metric="meanvec")
    assert back_b.mso_percent == pytest.approx(45.0, rel=1e-9)
    # the same field at both poses, by new solves
    fa = sim.solve(b70, A, at_a.didt_A_per_s)
    fb = sim.solve(b70, B, at_b.didt_A_per_s)
    assert fb.metric("meanvec", rb) == pytest.approx(fa.metric("meanvec", m1_region), rel=1e-9)
    # the same pose and region: the same output
    _, same = tf.Dose.transfer(sim, b70, A, m1_region, 45.0, A, m1_region)
    assert same.mso_percent == pytest.approx(45.0, rel=1e-12)
    with pytest.raises(tf.Error) as ei:
        tf.Dose.transfer(sim, b70, A, m1_region, 140.0, B, rb)
    assert ei.value.status == tf.Status.ERR_LIMIT
    assert not math.isnan(at_b.didt_max_A_per_s)

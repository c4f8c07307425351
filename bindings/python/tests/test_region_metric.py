# SPDX-License-Identifier: BSD-3-Clause
"""Region and Metric: the selection and every metric against numpy
computations from the field's arrays."""
from __future__ import annotations

import numpy as np
import pytest

import tmsfield as tf
from conftest import M1_SPHERE_M


@pytest.fixture(scope="module")
def field(sim: "tf.Simulation", b70: "tf.Coil", mesh: "tf.Mesh") -> "tf.Field":
    return sim.solve(b70, mesh.pose_from_centre([0.02, 0, 0.093], [0, 1, 0], 0.004), 1e6)


def test_sphere_region(mesh: "tf.Mesh", m1_region: "tf.Region") -> None:
    c = mesh.centroids
    ref = np.flatnonzero((mesh.tet_tags == 3) & (np.linalg.norm(c - M1_SPHERE_M, axis=1) <= 0.010))
    np.testing.assert_array_equal(m1_region.elements, ref)
    assert len(m1_region) == len(ref) == 20
    assert m1_region.kind == "sphere" and list(m1_region.tags) == [3]
    np.testing.assert_allclose(m1_region.centre_m, M1_SPHERE_M)  # inside tag 3: no move
    assert m1_region.radius_m == 0.010
    assert m1_region.volume_m3 == pytest.approx(mesh.volumes[ref].sum(), rel=1e-14)
    np.testing.assert_allclose(m1_region.projected_m, M1_SPHERE_M)
    # more tags, a larger ball
    r2 = tf.Region.sphere(mesh, [0, 0, 0.09], 0.02, [3, 4])
    assert set(mesh.tet_tags[r2.elements]) == {3, 4}


def test_element_region_and_errors(mesh: "tf.Mesh") -> None:
    r = tf.Region.from_elements(mesh, [5, 1, 3])
    np.testing.assert_array_equal(r.elements, [1, 3, 5])
    assert r.kind == "elements"
    cen = mesh.centroids[[1, 3, 5]]
    w = mesh.volumes[[1, 3, 5]]
    np.testing.assert_allclose(r.centre_m, (cen * w[:, None]).sum(0) / w.sum(), rtol=1e-12)
    with pytest.raises(tf.Error) as ei:
        tf.Region.from_elements(mesh, [1, 1])
    assert ei.value.status == tf.Status.ERR_ARGUMENT
    with pytest.raises(tf.Error) as ei:
        tf.Region.sphere(mesh, [0, 0, 0.08], 0.005, [2])   # the sphere has no tag 2
    assert ei.value.status == tf.Status.ERR_NOT_FOUND and "tag" in ei.value.message
    with pytest.raises(tf.Error) as ei:
        tf.Region.sphere(mesh, [0, 0, 0.08], -1.0)
    assert ei.value.status == tf.Status.ERR_ARGUMENT


def test_metric_parse_and_names() -> None:
    for text, kind in [("mean", tf.MetricKind.MEAN), ("p99", tf.MetricKind.PERCENTILE),
                       ("dir:0,1,0", tf.MetricKind.DIRECTION), ("normal", tf.MetricKind.NORMAL),
                       ("meanvec", tf.MetricKind.MEAN_VECTOR)]:
        m = tf.Metric.parse(text)
        assert m.kind == kind
        assert tf.Metric.parse(m.name) == m   # the name reads back
        assert m.description
    assert tf.Metric.parse("p99.9").percentile == 99.9
    assert tf.Metric.parse("normal:1003").surface_tag == 1003
    np.testing.assert_array_equal(tf.Metric.parse("dir:0,2,0").direction, [0, 2, 0])
    assert tf.Metric.percentile_of(50).name == tf.Metric.parse("p50").name
    assert tf.Metric.along([1, 0, 0]).kind == tf.MetricKind.DIRECTION
    assert tf.Metric.meanvec() == tf.Metric.parse("meanvec")
    assert tf.Metric.normal().kind == tf.MetricKind.NORMAL and tf.Metric.mean().name == "mean"
    with pytest.raises(tf.Error) as ei:
        tf.Metric.parse("maximum")
    assert "'maximum'" in ei.value.message and ei.value.status == tf.Status.ERR_ARGUMENT
    with pytest.raises(tf.Error):
        tf.Metric.percentile_of(120.0)


def test_metrics_against_numpy(mesh: "tf.Mesh", field: "tf.Field", m1_region: "tf.Region") -> None:
    e = m1_region.elements
    E, w = field.E[e], mesh.volumes[e]
    mean_abs = np.sum(np.linalg.norm(E, axis=1) * w) / w.sum()
    mean_vec = np.linalg.norm((E * w[:, None]).sum(0) / w.sum())
    along_y = np.sum(E[:, 1] * w) / w.sum()
    assert field.metric("mean", m1_region) == pytest.approx(mean_abs, rel=1e-12)
    assert field.metric("meanvec", m1_region) == pytest.approx(mean_vec, rel=1e-12)
    assert field.metric(tf.Metric.along([0, 3, 0]), m1_region) == pytest.approx(along_y, rel=1e-12)
    assert tf.Metric.meanvec().evaluate(field, m1_region) <= field.metric("mean", m1_region)
    # normal metric on the inner ball's surface (1003): n is radial there
    n = m1_region.normals(1003)
    radial = mesh.centroids[e] / np.linalg.norm(mesh.centroids[e], axis=1)[:, None]
    assert np.min(np.sum(n * radial, axis=1)) > 0.95
    along_n = np.sum(np.sum(E * n, axis=1) * w) / w.sum()
    assert field.metric("normal:1003", m1_region) == pytest.approx(along_n, rel=1e-12)
    # percentile on the region: the volume-weighted definition
    m = np.linalg.norm(E, axis=1)
    o = np.argsort(m)
    cum = np.cumsum(w[o]) / w.sum()
    assert field.metric("p50", m1_region) == pytest.approx(m[o][np.searchsorted(cum, 0.5)],
                                                          rel=1e-12)

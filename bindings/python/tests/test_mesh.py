# SPDX-License-Identifier: BSD-3-Clause
"""Mesh and Surface: sizes, zero-copy views, arrays in, geometry, I/O."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tmsfield as tf
from conftest import ROOT, SPHERE


def test_sizes_and_views(mesh: "tf.Mesh") -> None:
    # sphere3.msh: numbers of the file (also checked by the C tests)
    assert mesh.sizes == (4556, 22704, 7826)
    assert list(mesh.tags) == [3, 4, 5]
    nodes, tets, tags = mesh.nodes, mesh.tetrahedra, mesh.tet_tags
    assert nodes.shape == (4556, 3) and nodes.dtype == np.float64
    assert tets.shape == (22704, 4) and tets.dtype == np.int32
    assert tags.shape == (22704,) and set(np.unique(tags)) == {3, 4, 5}
    # views of the library's memory: no copy, read-only, the same memory each time
    assert not nodes.flags.writeable and not nodes.flags.owndata
    assert mesh.nodes.__array_interface__["data"][0] == nodes.__array_interface__["data"][0]
    with pytest.raises(ValueError):
        nodes[0, 0] = 1.0
    # metres: the outer sphere has radius 95 mm
    assert np.linalg.norm(nodes, axis=1).max() == pytest.approx(0.095, abs=1e-12)
    assert mesh.triangles.shape == (7826, 3)
    assert set(np.unique(mesh.tri_tags)) == {1003, 1004, 1005}
    lo, hi = mesh.bounds
    np.testing.assert_allclose(hi, 0.095, atol=1e-12)
    np.testing.assert_allclose(lo, -0.095, atol=1e-12)
    # volumes: the sum is the polyhedral volume, just under the ball's
    V = mesh.volumes
    assert (V > 0).all()
    assert 0.97 < V.sum() / (4 / 3 * np.pi * 0.095 ** 3) < 1.0
    # mean edge 10.8 mm (the C tests' value)
    assert mesh.mean_edge == pytest.approx(0.0108166, rel=1e-4)


def test_conductivities(mesh: "tf.Mesh") -> None:
    assert tf.default_conductivity(2) == 0.275 and tf.default_conductivity(1005) == 0.465
    assert mesh.conductivities == {3: 1.654, 4: 0.010, 5: 0.465}
    with pytest.raises(tf.Error) as ei:
        tf.default_conductivity(77)
    assert ei.value.status == tf.Status.ERR_NOT_FOUND
    m = tf.Mesh.read(SPHERE)
    m.set_conductivity(3, 0.3)
    assert m.conductivity(3) == 0.3
    with pytest.raises(tf.Error):
        m.set_conductivity(3, -1.0)


def test_create_from_arrays(mesh: "tf.Mesh", tmp_path: Path) -> None:
    # the sphere rebuilt from its own arrays (numpy in) is the same mesh
    m = tf.Mesh.create(mesh.nodes, mesh.tetrahedra, mesh.tet_tags, mesh.triangles,
                       mesh.tri_tags)
    assert m.sizes == mesh.sizes
    np.testing.assert_array_equal(m.nodes, mesh.nodes)
    np.testing.assert_array_equal(m.tetrahedra, mesh.tetrahedra)
    # one tetrahedron: volume 1/6 of the unit cube (scaled to 1 cm)
    X = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float) * 0.01
    one = tf.Mesh.create(X, [[0, 1, 2, 3]])
    assert one.volumes[0] == pytest.approx(1e-6 / 6, rel=1e-14)
    assert list(one.tags) == [1]
    # inverted tetrahedron: rejected naming the element
    with pytest.raises(tf.Error) as ei:
        tf.Mesh.create(X, [[0, 2, 1, 3]])
    assert ei.value.status == tf.Status.ERR_MESH and "0" in ei.value.message
    with pytest.raises(ValueError):
        tf.Mesh.create(X, [[0, 1, 2]])
    # write and read back: bitwise the same (Gmsh 2.2 binary)
    p = tmp_path / "copy.msh"
    m.write(p)
    back = tf.Mesh.read(p)
    np.testing.assert_array_equal(back.nodes, mesh.nodes)
    np.testing.assert_array_equal(back.tet_tags, mesh.tet_tags)


def test_geometry(mesh: "tf.Mesh") -> None:
    cen = mesh.centroids
    idx = mesh.locate(cen[:100])
    np.testing.assert_array_equal(idx, np.arange(100))
    assert mesh.locate([[0, 0, 0.2]])[0] == -1
    nodes, normals = mesh.scalp()
    X = mesh.nodes[nodes]
    # outward unit normals on the 95 mm sphere: close to the radial direction
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)
    radial = X / np.linalg.norm(X, axis=1)[:, None]
    assert np.min(np.sum(normals * radial, axis=1)) > 0.99
    # a point outside tag 3 projects onto the 85 mm ball
    p, d, t = mesh.project_to_tissue([0, 0, 0.09], 3)
    assert np.linalg.norm(p) == pytest.approx(0.085, abs=2e-4) and d == pytest.approx(0.005, abs=2e-4)
    assert mesh.tet_tags[t] == 3
    p, d, _ = mesh.project_to_tissue([0.01, 0, 0.05], 3)
    assert d == 0.0 and np.allclose(p, [0.01, 0, 0.05])
    # a pose on the top: centre 4 mm above the scalp, z down, a rotation
    P = mesh.pose_from_centre([0, 0, 0.095], [0, 1, 0], 0.004)
    assert P.shape == (4, 4)
    assert np.linalg.norm(P[:3, 3]) == pytest.approx(0.099, abs=1e-6)
    np.testing.assert_allclose(P[:3, :3].T @ P[:3, :3], np.eye(3), atol=1e-12)
    assert P[2, 2] < -0.999


def test_surface(mesh: "tf.Mesh") -> None:
    s = mesh.surface(1005)
    nv, nt = s.sizes
    assert s.vertices.shape == (nv, 3) and s.triangles.shape == (nt, 3)
    assert nt == int(np.sum(mesh.tri_tags == 1005))
    # the scalp: a closed triangulated sphere of radius 95 mm (Euler: V - E + F = 2)
    assert nv - 3 * nt // 2 + nt == 2
    assert s.area == pytest.approx(4 * np.pi * 0.095 ** 2, rel=0.02)
    np.testing.assert_array_equal(s.vertices, mesh.nodes[s.mesh_nodes])
    radial = s.vertices / np.linalg.norm(s.vertices, axis=1)[:, None]
    assert np.min(np.sum(s.vertex_normals * radial, axis=1)) > 0.99
    assert np.min(np.sum(s.triangle_normals * radial[s.triangles[:, 0]], axis=1)) > 0.95
    cl, tri, d = s.nearest([[0, 0, 0.2], [0, 0, 0]])
    assert d[0] == pytest.approx(0.105, abs=1e-3) and d[1] == pytest.approx(0.095, abs=1e-3)
    with pytest.raises(tf.Error) as ei:
        mesh.surface(1002)  # no grey matter on the sphere: neither triangles nor tag 2
    assert ei.value.status == tf.Status.ERR_NOT_FOUND


def test_head_query_default_does_not_mesh() -> None:
    info = tf.head_query("default")
    assert info.kind == "labels" and info.builtin and info.source.endswith(".nii.gz")
    assert info.preset == "colin27"
    info = tf.head_query(str(SPHERE))
    assert info.kind == "mesh" and info.cache_path == ""
    m = tf.Mesh.open_head(str(SPHERE))
    assert m.head_info is not None and m.head_info.kind == "mesh" and m.num_tets == 22704
    assert isinstance(tf.head_cache_dir(), str)


def test_data_dir() -> None:
    assert Path(tf.data_dir()).resolve() == (ROOT / "data").resolve()

# SPDX-License-Identifier: BSD-3-Clause
"""Coil, Catalogue, Casing: reading by file and name, dipoles as numpy,
dI/dt max, the primary field against an independent numpy sum."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tmsfield as tf
from conftest import B70, FIG8, ROOT


def test_read_dipoles(fig8: "tf.Coil") -> None:
    assert fig8.name == "Magstim_70mm_Fig8" and fig8.kind == "dipoles"
    assert fig8.num_dipoles == 2712
    P, M = fig8.dipole_positions, fig8.dipole_moments
    assert P.shape == M.shape == (2712, 3) and not P.flags.writeable
    assert not P.flags.owndata  # a view of the coil's memory
    # figure-8: two wings mirrored in x; moments along z (|m_z| dominant)
    assert P[:, 0].min() < -0.03 and P[:, 0].max() > 0.03
    assert np.abs(M[:, 2]).sum() > 10 * np.abs(M[:, :2]).sum()
    assert np.isnan(fig8.didt_max)
    assert [e.kind for e in fig8.elements] == ["dipoles"]
    pe, me = fig8.element_data(0)
    np.testing.assert_array_equal(pe, P)


def test_open_by_name_and_didt_max(b70: "tf.Coil") -> None:
    c = tf.Coil.open("MagVenture_MC-B70")
    assert Path(c.path).resolve() == B70.resolve()
    assert c.name == "MC-B70"
    # dIdtmax = 155.33 A/us in the file (Drakaki et al. 2022), A/s here
    assert c.didt_max == pytest.approx(155.33e6, rel=1e-12)
    assert c.stimulators[0]["didt_max_A_per_s"] == pytest.approx(155.33e6, rel=1e-12)
    assert c.header["brand"] == "MagVenture"
    np.testing.assert_array_equal(c.dipole_positions, b70.dipole_positions)
    c.didt_max = 100e6
    assert c.didt_max == 100e6
    assert isinstance(c.casing(), tf.Casing)
    with pytest.raises(tf.Error) as ei:
        tf.Coil.open("MagVenture_MC-B7O")   # a typo: near matches named
    assert ei.value.status == tf.Status.ERR_NOT_FOUND and "MC-B70" in ei.value.message


def test_primary_field_against_numpy(fig8: "tf.Coil") -> None:
    """dA/dt = dI/dt mu0/4pi sum m x (r - r_k) / |r - r_k|^3 (double precision)."""
    c = tf.Coil.from_dipoles(fig8.dipole_positions, fig8.dipole_moments)
    c.set_precision(double=True)
    P = np.eye(4)
    P[:3, 3] = [0.0, 0.0, 0.1]
    P[:3, :3] = np.diag([1.0, -1.0, -1.0])  # z into the head
    pts = np.array([[0.0, 0.0, 0.08], [0.01, -0.02, 0.07], [0.03, 0.01, 0.06]])
    got = c.primary_field(P, 1e6, pts)
    rk = fig8.dipole_positions @ P[:3, :3].T + P[:3, 3]
    mk = fig8.dipole_moments @ P[:3, :3].T
    d = pts[:, None, :] - rk[None, :, :]
    ref = 1e6 * 1e-7 * np.sum(np.cross(mk[None], d) / np.linalg.norm(d, axis=2)[..., None] ** 3,
                              axis=1)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def test_segments_and_ccd_round_trip(fig8: "tf.Coil", tmp_path: Path) -> None:
    s = tf.Coil.from_segments([[0, 0, 0.01]], [[0.001, 0, 0]])
    assert s.kind == "segments" and s.elements[0].count == 1
    # A of one short segment: mu0/4pi dl / |r - r_k|
    A = s.primary_field(np.eye(4), 1.0, [[0, 0, 0.11]])
    np.testing.assert_allclose(A[0], [1e-7 * 0.001 / 0.1, 0, 0], rtol=1e-12)
    p = tmp_path / "copy.ccd"
    fig8.write_ccd(p)
    back = tf.Coil.read(p)
    np.testing.assert_array_equal(back.dipole_positions, fig8.dipole_positions)
    np.testing.assert_array_equal(back.dipole_moments, fig8.dipole_moments)
    with pytest.raises(ValueError):
        tf.Coil.from_dipoles(np.zeros((3, 3)), np.zeros((2, 3)))


def test_catalogue() -> None:
    with tf.Catalogue() as cat:
        names = [c.name for c in cat]
        assert len(cat) >= 26 and "MagVenture_MC-B70" in names
        i = cat.find("mc-b70")              # case-insensitive, by coilname
        info = cat[i]
        assert info.name == "MagVenture_MC-B70" and info.format == "ccd"
        assert info.source == "data" and info.brand == "MagVenture"
        assert info.didt_max_A_per_s == pytest.approx(155.33e6)
        assert info.waveform_path.endswith("MagVenture_MC-B70.tsv")
        assert cat.open(i).num_dipoles == info.num_elements
        with pytest.raises(IndexError):
            cat[len(cat)]
    empty = tf.Catalogue(empty=True)
    assert len(empty) == 0
    empty.add_directory(ROOT / "tests" / "data")
    assert len(empty) >= 1 and empty.find("testcoil") >= 0
    with pytest.raises(tf.Error) as ei:
        empty.add_directory("/nonexistent/dir")
    assert ei.value.status == tf.Status.ERR_IO and "/nonexistent/dir" in ei.value.message
    assert len(tf.coils()) >= 26


def test_casing(tmp_path: Path) -> None:
    c = tf.Casing.for_coil(B70)
    assert c is not None and c.sizes == (128, 252)
    V = c.vertices
    assert V.shape == (128, 3) and not V.flags.writeable
    # the MC-B70 casing (mm in the file, metres here): 17 cm wide, 20 cm with the handle
    ext = V.max(axis=0) - V.min(axis=0)
    assert 0.15 < ext[0] < 0.19 and 0.18 < ext[1] < 0.23
    assert tf.Casing.for_coil(FIG8) is None
    tri = tf.Casing.create([[0, 0, 0], [0.01, 0, 0], [0, 0.01, 0]], [[0, 1, 2]])
    assert tri.sizes == (3, 1)
    bad = tmp_path / "bad.stl"
    bad.write_text("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0\n")
    with pytest.raises(tf.Error) as ei:
        tf.Casing.read_stl(bad)
    assert str(bad) in ei.value.message and "line" in ei.value.message

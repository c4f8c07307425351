# SPDX-License-Identifier: BSD-3-Clause
"""tmsfield.plot: plot_cortex and plot_slices write PNGs from the files
'tmsfield place --out' / 'simulate --gifti --nifti' write.

plot.py is loaded from its file, so these tests need neither the C library nor
the rest of the package: numpy, nibabel and matplotlib (Debian python3-numpy,
python3-nibabel, python3-matplotlib).  The real-field test runs the CLI
(TMSF_CLI, or TMSF_BUILD_DIR/apps/tmsfield) and is skipped without it.

Checks: on a sphere with |E| peaked on the coil axis, the hotspot in the
picture lies at the coil centre's projection (synthetic: within one vertex
spacing; a real FEM field on the test sphere: within 0.8 surface edges, the
tolerance of the C test t-render.c); the target, on the coil axis, projects
onto the coil centre; slices cross at the largest voxel or the given point;
the PNGs read back with the figure's size and varied colours.
"""
import importlib.util
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
nib = pytest.importorskip("nibabel")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
SRC = pathlib.Path(os.environ.get("TMSF_SOURCE_DIR", HERE.parents[2]))
_spec = importlib.util.spec_from_file_location("tmsfield_plot", HERE.parent / "tmsfield" / "plot.py")
plot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plot)


def icosphere(radius, levels):
    """Vertices and outward triangles of a subdivided icosahedron."""
    t = (1 + 5 ** 0.5) / 2
    v = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
         (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    f = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
         (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11),
         (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    v = [np.array(p, float) / np.linalg.norm(p) for p in v]
    for _ in range(levels):
        mid, nf = {}, []

        def m(a, b):
            k = (min(a, b), max(a, b))
            if k not in mid:
                p = v[a] + v[b]
                v.append(p / np.linalg.norm(p))
                mid[k] = len(v) - 1
            return mid[k]
        for a, b, c in f:
            ab, bc, ca = m(a, b), m(b, c), m(c, a)
            nf += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        f = nf
    X, T = np.array(v) * radius, np.array(f, np.int32)
    n = np.cross(X[T[:, 1]] - X[T[:, 0]], X[T[:, 2]] - X[T[:, 0]])
    flip = (n * X[T].mean(1)).sum(1) < 0
    T[flip] = T[flip][:, ::-1]
    return X, T


def pose_over(direction, ydir, distance_mm):
    """Head-from-coil 4x4 (mm): centre at distance along direction, z pointing in."""
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    z = -d
    y = np.asarray(ydir, float) - (np.asarray(ydir, float) @ z) * z
    y /= np.linalg.norm(y)
    P = np.eye(4)
    P[:3, 0], P[:3, 1], P[:3, 2], P[:3, 3] = np.cross(y, z), y, z, distance_mm * d
    return P


def write_gifti(prefix, X, T, values):
    s = nib.gifti.GiftiImage()
    s.add_gifti_data_array(nib.gifti.GiftiDataArray(X.astype(np.float32), intent="NIFTI_INTENT_POINTSET"))
    s.add_gifti_data_array(nib.gifti.GiftiDataArray(T.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE"))
    nib.save(s, str(prefix) + ".surf.gii")
    f = nib.gifti.GiftiImage()
    f.add_gifti_data_array(nib.gifti.GiftiDataArray(values.astype(np.float32), intent="NIFTI_INTENT_NONE"))
    nib.save(f, str(prefix) + ".func.gii")


def check_png(path, size_px):
    img = matplotlib.image.imread(str(path))
    # the figure's inches x dpi, to the pixel (matplotlib truncates)
    assert abs(img.shape[1] - size_px[0]) <= 1 and abs(img.shape[0] - size_px[1]) <= 1, (img.shape, size_px)
    colours = np.unique((img[::3, ::3, :3] * 255).round().astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 100, "only %d colours" % len(colours)


@pytest.fixture()
def placement_dir(tmp_path):
    """A synthetic 'place --out' directory: |E| a Gaussian (sigma 15 mm) around
    the point where the coil axis meets an 85 mm sphere."""
    X, T = icosphere(85.0, 4)
    d = np.array([0.35, 0.25, 0.9])
    d /= np.linalg.norm(d)
    P = pose_over(d, [-0.3, 1, 0], 99.0)
    axis_pt = 85.0 * d
    values = 100.0 * np.exp(-((X - axis_pt) ** 2).sum(1) / (2 * 15.0 ** 2))
    write_gifti(tmp_path / "cortex", X, T, values)
    coil = SRC / "data" / "coils" / "Magstim_70mm_Fig8.ccd"
    json.dump({"target": "T", "coil": "Magstim_70mm_Fig8", "coil_file": str(coil), "mso_percent": float("nan"),
               "pose": P.tolist(), "target_gm_mm": axis_pt.tolist()},
              open(tmp_path / "placement.json", "w"), allow_nan=True)
    # the NIfTI: the same Gaussian on a 3 mm grid, 0 outside the sphere
    A = np.diag([3.0, 3.0, 3.0, 1.0])
    A[:3, 3] = -99.0
    ijk = np.stack(np.meshgrid(*[np.arange(67)] * 3, indexing="ij"), -1)
    xyz = ijk * 3.0 - 99.0
    vol = 100.0 * np.exp(-((xyz - axis_pt) ** 2).sum(-1) / (2 * 15.0 ** 2)) + 1.0
    vol[np.linalg.norm(xyz, axis=-1) > 95.0] = 0.0
    img = nib.Nifti1Image(vol.astype(np.float32), A)
    img.set_sform(A, code=2)
    nib.save(img, str(tmp_path / "magnE.nii.gz"))
    return tmp_path, P, axis_pt, X


def test_plot_cortex_placement_dir(placement_dir):
    d, P, axis_pt, X = placement_dir
    out = d / "cortex.png"
    r = plot.plot_cortex(d, out=out, dpi=80)
    w, h = r.figure.get_size_inches() * 80
    check_png(out, (int(round(w)), int(round(h))))
    spacing = np.linalg.norm(X[0] - X[1:], axis=1).min()
    assert np.allclose(r.direction, P[:3, 2]) and np.allclose(r.up, P[:3, 1])
    assert np.linalg.norm(r.target_xy - r.coil_centre_xy) < 1e-9, "the axis point projects onto the coil centre"
    assert np.linalg.norm(r.hotspot_xy - r.coil_centre_xy) <= spacing, (r.hotspot_xy, r.coil_centre_xy)
    assert np.linalg.norm(r.hotspot_mm - axis_pt) <= spacing
    assert r.vmin == 0.0 and 90.0 < r.vmax <= 100.0
    assert "Magstim_70mm_Fig8" in r.ax.get_title() and "view coil" in r.ax.get_title()
    plt.close(r.figure)


def test_plot_cortex_views_and_errors(placement_dir):
    d, P, axis_pt, X = placement_dir
    r = plot.plot_cortex(surface=d / "cortex.surf.gii", values=d / "cortex.func.gii", view="top",
                         vmax=50.0, shading=False, out=d / "top.png", dpi=60)
    assert np.allclose(r.direction, [0, 0, -1]) and r.coil_centre_xy is None and r.vmax == 50.0
    assert np.allclose(r.hotspot_xy, [r.hotspot_mm[0], r.hotspot_mm[1]]), "top view: x right, y anterior up"
    plt.close(r.figure)
    fig, ax = plt.subplots()
    r = plot.plot_cortex(d, view="left", ax=ax)
    assert r.ax is ax and np.allclose(r.direction, [1, 0, 0])
    plt.close(fig)
    with pytest.raises(ValueError, match="unknown view"):
        plot.plot_cortex(d, view="sideways")
    with pytest.raises(ValueError, match="values"):
        plot.plot_cortex(surface=d / "cortex.surf.gii", values=np.zeros(3))
    with pytest.raises(ValueError, match="pose"):
        plot.view_axes("coil")


def test_plot_slices(placement_dir):
    d, P, axis_pt, X = placement_dir
    out = d / "slices.png"
    s = plot.plot_slices(d, out=out, dpi=70)
    w, h = s.figure.get_size_inches() * 70
    check_png(out, (int(round(w)), int(round(h))))
    assert np.allclose(s.point_mm, axis_pt), "through the placement's target"
    assert s.max_V_per_m == pytest.approx(101.0, abs=1.0)
    assert [a.get_title().split()[0] for a in s.axes] == ["axial", "coronal", "sagittal"]
    plt.close(s.figure)
    s = plot.plot_slices(d / "magnE.nii.gz")  # no placement: the largest voxel
    img = nib.load(str(d / "magnE.nii.gz"))
    k = np.unravel_index(np.argmax(img.get_fdata()), img.shape)
    assert np.allclose(s.point_mm, img.affine[:3, :3] @ k + img.affine[:3, 3])
    plt.close(s.figure)
    s = plot.plot_slices(d / "magnE.nii.gz", point_mm=[1.0, 2.0, 3.0], vmin=5.0, vmax=60.0)
    assert np.allclose(s.point_mm, [1, 2, 3]) and (s.vmin, s.vmax) == (5.0, 60.0)
    assert s.axes[0].get_title() == "axial z = 3.0 mm"
    plt.close(s.figure)


def _cli():
    exe = os.environ.get("TMSF_CLI")
    if not exe and os.environ.get("TMSF_BUILD_DIR"):
        exe = os.path.join(os.environ["TMSF_BUILD_DIR"], "apps", "tmsfield")
    return exe if exe and os.access(exe, os.X_OK) else None


@pytest.mark.skipif(_cli() is None, reason="the tmsfield executable (TMSF_CLI) is not available")
def test_real_field_on_the_sphere(tmp_path):
    """'simulate --gifti --nifti' on the test sphere (surface 1003 as the cortex), then both plots."""
    P = pose_over([0.35, 0.25, 0.9], [0, 1, 0], 99.0)
    ref = tmp_path / "ref.nii.gz"
    A = np.diag([2.0, 2.0, 2.0, 1.0])
    A[:3, 3] = -100.0
    g = nib.Nifti1Image(np.zeros((101, 101, 101), np.uint8), A)
    g.set_sform(A, code=4)
    nib.save(g, str(ref))
    coil = SRC / "data" / "coils" / "Magstim_70mm_Fig8.ccd"
    subprocess.run([_cli(), "simulate", "--mesh", str(SRC / "data" / "spheres" / "sphere3.msh"), "--coil", str(coil),
                    "--pose", ",".join("%.12g" % x for x in P.ravel()), "--didt", "1e8",
                    "--out", str(tmp_path / "E.msh"), "--gifti", str(tmp_path / "inner"), "--gifti-tag", "1003",
                    "--nifti", str(tmp_path / "magnE.nii.gz"), "--nifti-ref", str(ref), "--quiet"], check=True)
    r = plot.plot_cortex(tmp_path / "inner", pose_mm=P, coil_file=coil, out=tmp_path / "c.png", dpi=80)
    # mean edge of the sphere's surface 1003: 9.5 mm; the brightest vertex within 0.8 edges of the axis
    assert np.linalg.norm(r.hotspot_xy - r.coil_centre_xy) <= 7.6, (r.hotspot_xy, r.coil_centre_xy)
    assert r.hotspot_V_per_m > 50.0
    plt.close(r.figure)
    s = plot.plot_slices(tmp_path / "magnE.nii.gz", out=tmp_path / "s.png", dpi=70)
    assert s.max_V_per_m > 50.0
    plt.close(s.figure)
    for name in ("c.png", "s.png"):
        assert (tmp_path / name).stat().st_size > 10000

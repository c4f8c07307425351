# SPDX-License-Identifier: BSD-3-Clause
"""Context, Error, object lifetimes (close, with, garbage collector, parents
kept alive by children and by numpy views), the library's location, poses."""
from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import tmsfield as tf
from conftest import BUILD, FIG8, ROOT, SPHERE


def test_version_and_build_info() -> None:
    assert tf.version() == tf.__version__
    assert len(tf.version().split(".")) == 3
    assert "openmp=" in tf.build_info()
    assert os.path.isfile(tf.LIBRARY_PATH)


def test_status_strings() -> None:
    assert tf.status_string(0) == "success"
    assert tf.status_string(tf.Status.ERR_IO) == "cannot read or write file"
    assert tf.status_string(999) == "unknown status"


def test_context_threads_and_errors() -> None:
    with tf.Context(threads=3) as ctx:
        assert ctx.threads == 3
        ctx.threads = 1
        assert ctx.threads == 1
        assert ctx.last_error == "" and ctx.last_status == 0
        with pytest.raises(tf.Error) as ei:
            tf.Mesh.read("/nonexistent/head.msh", ctx=ctx)
        e = ei.value
        assert e.status == tf.Status.ERR_IO and e.status_name == "ERR_IO"
        assert "/nonexistent/head.msh" in e.message and e.function == "tmsf_mesh_read"
        assert "/nonexistent/head.msh" in str(e) and "[ERR_IO]" in str(e)
        # the context keeps the message until cleared
        assert ctx.last_status == tf.Status.ERR_IO and "/nonexistent" in ctx.last_error
        ctx.clear_error()
        assert ctx.last_error == ""
    assert ctx.closed
    with pytest.raises(ValueError, match="closed Context"):
        ctx.threads


def test_error_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.msh"
    bad.write_text("$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Nodes\n3\n1 0 0 0\n2 x 0 0\n")
    with pytest.raises(tf.Error) as ei:
        tf.Mesh.read(bad)
    assert ei.value.status == tf.Status.ERR_FORMAT
    assert str(bad) in ei.value.message and "line" in ei.value.message
    badcoil = tmp_path / "coil.ccd"
    badcoil.write_text("# bad.ccd version 1.0; dIdtmax=100\n2\n0 0 0 0 0 1\nfoo\n")
    with pytest.raises(tf.Error) as ei:
        tf.Coil.read(badcoil)
    assert str(badcoil) in ei.value.message


def test_default_context_is_per_thread() -> None:
    main = tf.default_context()
    assert tf.default_context() is main
    other = []
    t = threading.Thread(target=lambda: other.append(tf.default_context()))
    t.start()
    t.join()
    assert other[0] is not main


def _count(kind: str) -> int:
    return tf.live_handles().get(kind, 0)


def test_close_destroys_at_once() -> None:
    n0 = _count("mesh")
    m = tf.Mesh.read(SPHERE)
    assert _count("mesh") == n0 + 1
    m.close()
    assert m.closed and _count("mesh") == n0
    with pytest.raises(ValueError, match="closed Mesh"):
        m.nodes
    m.close()  # twice is harmless
    with tf.Mesh.read(SPHERE) as m2:
        assert m2.num_tets == 22704
    assert _count("mesh") == n0


def test_garbage_collector_frees() -> None:
    n0 = _count("coil")
    c = tf.Coil.read(FIG8)
    assert _count("coil") == n0 + 1
    del c
    gc.collect()
    assert _count("coil") == n0


def test_views_keep_memory_alive() -> None:
    n0 = _count("mesh")
    m = tf.Mesh.read(SPHERE)
    nodes = m.nodes
    first = nodes[0].copy()
    m.close()                      # the view still holds the C mesh
    assert _count("mesh") == n0 + 1
    np.testing.assert_array_equal(nodes[0], first)
    assert abs(np.linalg.norm(nodes, axis=1).max() - 0.095) < 1e-12
    del nodes
    gc.collect()
    assert _count("mesh") == n0


def test_children_keep_parents_alive(mesh: "tf.Mesh", fig8: "tf.Coil", top_pose) -> None:
    n0 = {k: _count(k) for k in ("mesh", "simulation", "field", "context")}
    ctx = tf.Context()
    m = tf.Mesh.read(SPHERE, ctx=ctx)
    c = tf.Coil.read(FIG8, ctx=ctx)
    sim = tf.Simulation(m)
    m.close()                       # the simulation holds the mesh
    f = sim.solve(c, top_pose, 1e6)
    sim.close()                     # the field holds the mesh, not the simulation
    del sim
    gc.collect()
    assert f.E.shape == (22704, 3) and f.magnE.shape == (22704,)
    E = f.E
    ref = E.copy()
    # drop everything but the field's view: the field, its mesh and the context live
    ctx.close(), f.close()
    del f, m
    gc.collect()
    assert _count("field") == n0["field"] + 1 and _count("mesh") == n0["mesh"] + 1
    assert _count("simulation") == n0["simulation"]  # fields do not need it
    assert _count("context") >= n0["context"] + 1
    np.testing.assert_array_equal(E, ref)
    del E
    c.close()
    gc.collect()
    assert _count("field") == n0["field"] and _count("mesh") == n0["mesh"]
    assert _count("context") == n0["context"]


def test_shutdown_with_live_objects_is_clean() -> None:
    """Objects alive at interpreter exit are destroyed in a valid order (no
    crash, nothing printed)."""
    code = ("import tmsfield as tf\n"
            f"m = tf.Mesh.read({str(SPHERE)!r}); c = tf.Coil.read({str(FIG8)!r})\n"
            "s = tf.Simulation(m).setup()\n"
            "f = s.solve(c, m.pose_from_centre([0,0,0.095],[0,1,0],0.004))\n"
            "E = f.E; r = tf.Region.sphere(m, [0,0,0.08], 0.01, [3])\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python")))
    assert p.returncode == 0 and p.stderr == "", p.stderr


def test_library_location(tmp_path: Path) -> None:
    """TMSF_LIBRARY wins; without it an install's _install.py, then a copy
    beside the package; a wrong TMSF_LIBRARY is an ImportError naming it."""
    env = {k: v for k, v in os.environ.items() if k != "TMSF_LIBRARY"}
    lib = Path(tf.LIBRARY_PATH).resolve()
    pkg = tmp_path / "site" / "tmsfield"
    shutil.copytree(ROOT / "bindings" / "python" / "tmsfield", pkg,
                    ignore=shutil.ignore_patterns("__pycache__", "_install.py", "*.so*"))
    code = "import tmsfield; print(tmsfield.LIBRARY_PATH)"
    run = lambda e: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,  # noqa: E731
                                   env=dict(e, PYTHONPATH=str(tmp_path / "site")))
    # 1. meson install's record
    (pkg / "_install.py").write_text(f"LIBRARY = {str(lib)!r}\n")
    p = run(env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(lib)
    # 2. a copy next to the package comes first
    shutil.copy(lib, pkg / "libtmsfield.so.0")
    p = run(env)
    assert p.stdout.strip() == str(pkg / "libtmsfield.so.0"), p.stderr
    # 3. TMSF_LIBRARY overrides both; a wrong one fails clearly
    p = run(dict(env, TMSF_LIBRARY=str(lib)))
    assert p.stdout.strip() == str(lib)
    p = run(dict(env, TMSF_LIBRARY=str(tmp_path / "nope.so")))
    assert p.returncode != 0 and "ImportError" in p.stderr and "nope.so" in p.stderr


def test_meson_installs_the_package() -> None:
    """meson install puts the package and _install.py (the installed
    library's path) in the same directory of Python's site packages."""
    import json
    if not (BUILD / "meson-info").exists():
        pytest.skip("no meson build directory")
    out = subprocess.run(["meson", "introspect", "--install-plan", str(BUILD)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("meson introspect unavailable")
    plan = {src: d["destination"] for sect in json.loads(out.stdout).values()
            for src, d in sect.items()}
    pkg = str(ROOT / "bindings" / "python" / "tmsfield")
    inst = str(BUILD / "bindings" / "python" / "_install.py")
    assert plan.get(pkg) == "{py_purelib}/tmsfield"
    assert plan.get(inst) == "{py_purelib}/tmsfield/_install.py"
    text = open(inst).read()
    assert "LIBRARY = " in text and "libtmsfield.so" in text


def test_poses() -> None:
    P = np.eye(4)
    P[:3, 3] = [0.01, 0.02, 0.03]
    mm = tf.pose_to_mm(P)
    assert mm[2, 3] == pytest.approx(30.0) and mm[0, 0] == 1.0
    np.testing.assert_allclose(tf.pose_from_mm(mm), P, rtol=0, atol=1e-15)
    tf.check_pose(P)
    S = P.copy()
    S[0, 0] = 1.1  # scaling
    with pytest.raises(tf.Error) as ei:
        tf.check_pose(S)
    assert ei.value.status == tf.Status.ERR_POSE
    with pytest.raises(ValueError):
        tf.check_pose(np.eye(3))


def test_threads_give_the_same_field(top_pose: np.ndarray) -> None:
    """OpenMP threads inside calls (Context.threads) and Python threads with
    a context each (the GIL is released during C calls) give the same E."""
    def solve(threads: int) -> np.ndarray:
        ctx = tf.Context(threads=threads)
        m = tf.Mesh.read(SPHERE, ctx=ctx)
        f = tf.Simulation(m).solve(tf.Coil.read(FIG8, ctx=ctx), top_pose, 1e6)
        return np.array(f.E)

    one, two = solve(1), solve(2)
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-12 * np.abs(one).max())
    out: dict = {}
    ts = [threading.Thread(target=lambda k=k: out.__setitem__(k, solve(1))) for k in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k in range(2):
        np.testing.assert_allclose(out[k], one, rtol=0, atol=1e-12 * np.abs(one).max())

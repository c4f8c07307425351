# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the Python test suite.

Run by ``meson test -C build --suite python`` (bindings/python/run-tests.sh),
which sets PYTHONPATH, TMSF_LIBRARY (the build's libtmsfield.so),
TMSF_PY_LAYOUT (the struct-layout printer), TMSF_CLI (the tmsfield program)
and TMSF_DATA_DIR.  By hand, from the repository root after a build:

    PYTHONPATH=bindings/python /usr/bin/python3 -m pytest bindings/python/tests -q

(the library is then found in build/lib; the tests that need the layout
printer or the CLI look for them in build/ too).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("TMSF_BUILD_DIR", ROOT / "build"))
os.environ.setdefault("TMSF_DATA_DIR", str(ROOT / "data"))
os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(ROOT / "bindings" / "python"))

import tmsfield as tf  # noqa: E402

SPHERE = ROOT / "data" / "spheres" / "sphere3.msh"
FIG8 = ROOT / "data" / "coils" / "Magstim_70mm_Fig8.ccd"
B70 = ROOT / "data" / "coils" / "drakaki2022" / "MagVenture_MC-B70.ccd"
EXAMPLES = ROOT / "bindings" / "python" / "examples"
#: stand-in for M1 on the sphere, inside the inner ball (tag 3, radius 85 mm)
M1_SPHERE_M = np.array([0.020, 0.0, 0.078])


def tool(env: str, rel: str) -> Path:
    """A built program: $env, else build/rel."""
    return Path(os.environ.get(env, BUILD / rel))


@pytest.fixture(scope="session")
def mesh() -> "tf.Mesh":
    """The test sphere (4,556 nodes, 22,704 tetrahedra, tags 3/4/5)."""
    return tf.Mesh.read(SPHERE)


@pytest.fixture(scope="session")
def fig8() -> "tf.Coil":
    """The Magstim 70 mm figure-8 (2,712 dipoles, no dI/dt max)."""
    return tf.Coil.read(FIG8)


@pytest.fixture(scope="session")
def b70() -> "tf.Coil":
    """The MagVenture MC-B70 (dI/dt max 155.33 A/us, with a casing)."""
    return tf.Coil.read(B70)


@pytest.fixture(scope="session")
def sim(mesh: "tf.Mesh") -> "tf.Simulation":
    """A simulation on the sphere, set up."""
    return tf.Simulation(mesh).setup()


@pytest.fixture(scope="session")
def top_pose(mesh: "tf.Mesh") -> np.ndarray:
    """The validation pose: coil over the top of the sphere, y towards +y, 4 mm."""
    return mesh.pose_from_centre([0, 0, 0.095], [0, 1, 0], 0.004)


@pytest.fixture(scope="session")
def m1_region(mesh: "tf.Mesh") -> "tf.Region":
    """Tag 3 within 10 mm of the sphere's M1 stand-in."""
    return tf.Region.target(mesh, M1_SPHERE_M, 0.010, [3])


def analytic_sphere_E(pos_m: np.ndarray, mom: np.ndarray, didt: float,
                      r: np.ndarray) -> np.ndarray:
    """E (V/m) inside a spherically symmetric conductor centred at the origin
    for dipoles (head frame) driven with dI/dt: Heller & van Hulsteyn,
    Biophys J 1992 (the formula of DESIGN.md), summed over the dipoles.
    Independent of the C code."""
    out = np.zeros_like(r)
    for k0 in range(0, pos_m.shape[0], 256):
        r0 = pos_m[k0:k0 + 256][None, :, :]        # (1, K, 3)
        m = mom[k0:k0 + 256][None, :, :]
        rr = r[:, None, :]                          # (N, 1, 3)
        a = r0 - rr
        an = np.linalg.norm(a, axis=2)[..., None]
        r0n = np.linalg.norm(r0, axis=2)[..., None]
        r0a = np.sum(r0 * a, axis=2)[..., None]
        F = an * (r0n * an + r0a)
        gradF = (an ** 2 / r0n + 2 * an + 2 * r0n + r0a / an) * r0 - (an + 2 * r0n + r0a / an) * rr
        mg = np.sum(m * gradF, axis=2)[..., None]
        E = -(didt * 1e-7 / F ** 2) * (F * np.cross(rr, m) - mg * np.cross(rr, r0))
        out += E.sum(axis=1)
    return out


def place_dipoles(coil: "tf.Coil", pose: np.ndarray):
    """The coil's dipoles in the head frame."""
    R, t = pose[:3, :3], pose[:3, 3]
    return coil.dipole_positions @ R.T + t, coil.dipole_moments @ R.T


def run_example(name: str, *args: str) -> Dict[str, Any]:
    """Run an example script as a program with --json and parse its output."""
    cmd: List[str] = [sys.executable, str(EXAMPLES / name), "--json", *args]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "bindings" / "python") + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, f"{name} failed ({p.returncode}):\n{p.stderr}"
    return json.loads(p.stdout)

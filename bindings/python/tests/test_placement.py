# SPDX-License-Identifier: BSD-3-Clause
"""Search and Placement on the test sphere: the search space's geometry,
fast (reciprocity) against direct (FEM per pose) evaluation, the result's
pose against a new solve, progress and cancellation."""
from __future__ import annotations

import numpy as np
import pytest

import tmsfield as tf
from conftest import M1_SPHERE_M

COARSE = dict(radius_m=0.008, spacing_m=0.004, angle_step_deg=30.0)


@pytest.fixture(scope="module")
def search(mesh: "tf.Mesh", b70: "tf.Coil") -> "tf.Search":
    return tf.Search(mesh, M1_SPHERE_M, casing=b70.casing(), coil=b70, **COARSE)


@pytest.fixture(scope="module")
def placement(sim: "tf.Simulation", b70: "tf.Coil", m1_region: "tf.Region") -> "tf.Placement":
    pl = tf.Placement(sim, b70)
    pl.add_target(m1_region, "meanvec")
    return pl


def test_search_params_defaults() -> None:
    p = tf.SearchParams()
    # search.h defaults
    assert (p.radius_m, p.spacing_m, p.angle_min_deg, p.angle_max_deg, p.angle_step_deg,
            p.distance_m) == (0.020, 0.002, 0.0, 360.0, 5.0, 0.004)
    assert tuple(p.reference_direction) == (0.0, 1.0, 0.0)


def test_search_space(search: "tf.Search", mesh: "tf.Mesh") -> None:
    # 4 mm grid within 8 mm: 13 positions; 0..330 by 30: 12 angles
    assert (search.num_positions, search.num_angles) == (13, 12)
    assert search.num_poses + sum(search.num_dropped) == 13 * 12
    assert search.params.spacing_m == 0.004 and len(search) == search.num_poses
    np.testing.assert_array_equal(search.angles_deg, np.arange(0, 360, 30))
    P = search.poses
    assert P.shape == (search.num_poses, 4, 4) and not P.flags.writeable
    R = P[:, :3, :3]
    np.testing.assert_allclose(np.einsum("nji,njk->nik", R, R), np.broadcast_to(np.eye(3), R.shape),
                               atol=1e-12)
    # the coil centre 4 mm outside the 95 mm scalp, z into the head
    c = P[:, :3, 3]
    assert np.allclose(np.linalg.norm(c, axis=1), 0.099, atol=3e-4)
    assert np.all(np.sum(P[:, :3, 2] * c, axis=1) / np.linalg.norm(c, axis=1) < -0.99)
    # grid poses equal pose_at bit for bit
    u, v, a = search.u_v_angle[7]
    np.testing.assert_array_equal(search.pose_at(u, v, a), P[7])
    p0, n0, eu, ev = search.projection
    assert np.linalg.norm(p0) == pytest.approx(0.095, abs=2e-4)
    np.testing.assert_allclose(np.cross(eu, ev), n0, atol=1e-12)
    d, ok = search.clearance(P[0])
    assert ok and d >= 0.0
    sd = search.signed_distance([[0, 0, 0.105], [0, 0, 0]])
    # (the faceted scalp lies up to ~0.4 mm inside the 95 mm sphere between its nodes)
    assert sd[0] == pytest.approx(0.010, abs=2e-4) and sd[1] == pytest.approx(-0.095, abs=5e-4)
    uv, s, nrm = search.positions
    assert uv.shape == (13, 2) and s.shape == (13, 3)
    with pytest.raises(tf.Error) as ei:
        tf.Search(mesh, [0, 0, 0.15])
    assert "outside the head" in ei.value.message


@pytest.fixture(scope="module")
def small_search(mesh: "tf.Mesh", b70: "tf.Coil") -> "tf.Search":
    """5 positions (4 mm grid within 4 mm) x 12 angles: cheap for direct solves."""
    return tf.Search(mesh, M1_SPHERE_M, casing=b70.casing(), coil=b70, radius_m=0.004,
                     spacing_m=0.004, angle_step_deg=30.0)


def test_fast_and_direct_agree(placement: "tf.Placement", small_search: "tf.Search") -> None:
    """The grid search by reciprocity and by a FEM solve per pose find the
    same optimum (as tests/t-cli-place.sh: 0.5 % of the objective)."""
    fast = placement.run(small_search, method="fast", refine=False)
    direct = placement.run(small_search, method="direct", refine=False)
    assert fast.num_evaluated == direct.num_evaluated == small_search.num_poses == 60
    assert fast.objective_direct == pytest.approx(direct.objective_direct, rel=0.005)
    assert fast.objective == pytest.approx(direct.objective, rel=0.01)
    assert direct.objective == direct.objective_direct
    # per pose: fast within 1 % of direct, and the exact nodal sum equals direct
    poses = small_search.poses[::5]
    placement.prepare(poses, margin_m=0.0)
    f, terms = placement.evaluate(poses, "fast")
    d, _ = placement.evaluate(poses, "direct")
    n, _ = placement.evaluate(poses, "nodal")
    np.testing.assert_allclose(f, d, rtol=0.01)
    np.testing.assert_allclose(n, d, rtol=1e-9)
    assert terms.shape == (12, 1) and placement.num_terms == 1
    np.testing.assert_array_equal(terms[:, 0], f)
    assert placement.info(tf.PlacementInfo.NUM_FUNCTIONALS) == 3  # |mean E|: x, y, z
    assert placement.info(tf.PlacementInfo.GRID_POINTS) > 0


def test_result_matches_a_new_solve(placement: "tf.Placement", search: "tf.Search",
                                    sim: "tf.Simulation", b70: "tf.Coil",
                                    m1_region: "tf.Region") -> None:
    res = placement.run(search)
    assert res.method == "fast"
    assert res.top_poses.shape == (10, 4, 4) and res.top_objectives.shape == (10,)
    assert np.all(np.diff(res.top_objectives) <= 0)
    # refinement does not lose: at least the best grid pose
    assert res.objective >= res.top_objectives[0] - 1e-12
    # the objective is |mean E| at 1 A/us at the pose: a new solve says the same
    f = sim.solve(b70, res.pose, 1e6)
    assert f.metric("meanvec", m1_region) == pytest.approx(res.objective_direct, rel=1e-9)
    np.testing.assert_allclose(res.pose_mm[:3, 3], res.pose[:3, 3] * 1e3)
    np.testing.assert_allclose(res.centre_mm, res.pose[:3, 3] * 1e3)
    # above the target: the centre within 10 degrees of the target's direction
    c = res.centre_m / np.linalg.norm(res.centre_m)
    t = M1_SPHERE_M / np.linalg.norm(M1_SPHERE_M)
    assert np.degrees(np.arccos(c @ t)) < 10
    assert res.time_search_s >= 0 and res.poses_per_second > 0


def test_progress_and_cancel(placement: "tf.Placement", small_search: "tf.Search") -> None:
    stages = []
    placement.run(small_search, progress=lambda s, f: stages.append((s, f)) and None)
    names = [s for s, _ in stages]
    assert names[0] == "adjoint" and ("search", 1.0) in stages and ("refine", 1.0) in stages
    assert all(0.0 <= f <= 1.0 for _, f in stages)
    with pytest.raises(tf.Error) as ei:
        placement.run(small_search, progress=lambda s, f: s == "adjoint")
    assert ei.value.status == tf.Status.ERR_CANCELLED

    class Boom(Exception):
        pass

    def bad(stage: str, frac: float) -> None:
        raise Boom(stage)

    with pytest.raises(Boom):
        placement.run(small_search, progress=bad)


def test_placement_keeps_regions_alive(sim: "tf.Simulation", b70: "tf.Coil",
                                       mesh: "tf.Mesh", search: "tf.Search") -> None:
    import gc
    pl = tf.Placement(sim, b70)
    r = tf.Region.target(mesh, M1_SPHERE_M, 0.010, [3])
    n = tf.live_handles()["region"]
    pl.add_target(r, "meanvec", 2.0)
    pl.add_avoid(tf.Region.sphere(mesh, [0, 0.03, 0.078], 0.01, [3]), 0.5)
    r.close()
    del r
    gc.collect()
    assert tf.live_handles()["region"] == n + 1  # both regions held by the placement
    obj, terms = pl.evaluate(search.poses[:2], "direct")
    assert terms.shape == (2, 2) and (terms > 0).all()
    np.testing.assert_allclose(obj, 2.0 * terms[:, 0] - 0.5 * terms[:, 1], rtol=1e-12)
    del pl
    gc.collect()
    assert tf.live_handles()["region"] == n - 1

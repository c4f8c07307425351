#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Example 4: the field on the target as the coil moves away from the scalp.

The coil sits over the target's scalp projection with the handle at --angle
(degrees from posterior, the search space's convention) and its centre at
each --distances (mm) from the scalp along the smoothed scalp normal (hair,
an EEG cap or a cooling plate add such distances).  All poses are solved in
one block; for each distance: the metric on the target (V/m at 1 A/us), the
%MSO for --field V/m, and the loss relative to the first distance.

    python3 examples/distance_sweep.py
    python3 examples/distance_sweep.py --head default --distances 0,2,4,6,8,10
"""
from __future__ import annotations

import argparse
from typing import Any, Dict, Optional, Sequence

import numpy as np

import common
from common import tf


def run(args: argparse.Namespace) -> Dict[str, Any]:
    """Poses at every distance, one block solve, the metric and dose per distance."""
    s = common.setup(args)
    coil = tf.Coil.open(args.coil)
    sim = tf.Simulation(s.mesh).setup()
    target = s.target_m(args.target)
    region = tf.Region.target(s.mesh, target, s.radius_m, s.tags)
    # the pose geometry of the search space (no collision test needed here)
    search = tf.Search(s.mesh, target, s.search)
    d0 = search.params.distance_m
    base = search.pose_at(0.0, 0.0, args.angle)
    z = base[:3, 2]  # into the head: the centre moves out along -z
    dist_mm = [float(d) for d in args.distances.split(",")]
    poses = []
    for d in dist_mm:
        P = base.copy()
        P[:3, 3] = base[:3, 3] - (d * 1e-3 - d0) * z
        poses.append(P)
    fields = sim.solve_many(coil, np.array(poses), 1e6)
    rows = []
    for d, P, f in zip(dist_mm, poses, fields):
        v = f.metric(args.objective, region)
        mso = tf.Dose.from_field(f, coil, region, args.objective, args.field).mso_percent
        clear = float(search.signed_distance(P[:3, 3])[0])
        rows.append({"distance_mm": d, "centre_to_scalp_mm": clear * 1e3,
                     "pose_mm": tf.pose_to_mm(P),
                     "per_A_per_us_V_per_m": v, "mso_percent": mso})
    v0 = rows[0]["per_A_per_us_V_per_m"]
    for r in rows:
        r["relative"] = r["per_A_per_us_V_per_m"] / v0
    return {"head": s.spec, "coil": coil.name, "target": args.target,
            "target_mm": common.mm(target), "angle_deg": args.angle,
            "objective_metric": tf.Metric.coerce(args.objective).name,
            "field_V_per_m": args.field, "sweep": rows}


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Command line: see the module docstring and --help."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_arguments(ap)
    ap.add_argument("--target", default="M1", help="target name or X,Y,Z head mm (M1)")
    ap.add_argument("--angle", type=float, default=45.0, help="handle angle, degrees (45)")
    ap.add_argument("--distances", default="0,2,4,8,12,16,20",
                    help="coil centre to scalp, mm, comma-separated (0,2,4,8,12,16,20)")
    ap.add_argument("--field", type=float, default=100.0, help="field for the dose, V/m (100)")
    args = ap.parse_args(argv)
    r = run(args)
    lines = [f"{r['coil']} over {r['target']} {r['target_mm']} mm, handle {r['angle_deg']:g} deg, "
             f"{r['objective_metric']} ({r['head']})",
             f"{'distance mm':>11} {'V/m per A/us':>13} {'relative':>9} "
             f"{'%MSO for ' + format(r['field_V_per_m'], 'g') + ' V/m':>18}"]
    for row in r["sweep"]:
        lines.append(f"{row['distance_mm']:>11.1f} {row['per_A_per_us_V_per_m']:>13.4f} "
                     f"{row['relative']:>9.3f} {row['mso_percent']:>18.2f}")
    common.emit(args, r, lines)
    return r


if __name__ == "__main__":
    main()

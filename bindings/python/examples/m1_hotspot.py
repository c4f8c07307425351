#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Example 1: the M1 hotspot and the stimulator output for 100 V/m.

Places the coil over the hand knob of the left primary motor cortex (M1): the
pose that maximises |mean E| (or --objective) in the grey matter around the
target, found by the fast reciprocity search and refined; then the %MSO at
which that pose gives --field V/m there, a check solve at that output, and
the element of largest |E| in the target tissue.

    python3 examples/m1_hotspot.py                 # the test sphere, seconds
    python3 examples/m1_hotspot.py --head default  # the built-in Colin27 head
    python3 examples/m1_hotspot.py --json          # machine-readable
"""
from __future__ import annotations

import argparse
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

import common
from common import tf


def run(args: argparse.Namespace) -> Dict[str, Any]:
    """The M1 placement and dose; returns the numbers main() prints."""
    s = common.setup(args)
    coil = tf.Coil.open(args.coil)
    sim = tf.Simulation(s.mesh).setup()
    target = s.target_m(args.target)
    p = common.place(s, sim, coil, target, args.objective)
    res: tf.PlacementResult = p["result"]
    region: tf.Region = p["region"]
    dose = tf.Dose.for_target(sim, coil, res.pose, region, args.objective, args.field)
    # check: the field at that output, from a new solve
    field = sim.solve(coil, res.pose, dose.didt_A_per_s)
    achieved = field.metric(args.objective, region)
    # the peak: the element of the target tissue with the largest |E| (on a head a
    # single element on a gyral crown can lie away from the target)
    mask = np.isin(s.mesh.tet_tags, s.tags)
    magn = np.where(mask, field.magnE, -np.inf)
    hot = int(np.argmax(magn))
    hot_c = s.mesh.centroids[hot]
    return {
        "head": s.spec, "coil": coil.name, "target": args.target,
        "target_mm": common.mm(target),
        "region_elements": len(region), "region_volume_mm3": region.volume_m3 * 1e9,
        "objective_metric": tf.Metric.coerce(args.objective).name,
        "objective": res.objective, "objective_direct": res.objective_direct,
        "pose_mm": res.pose_mm, "centre_mm": res.centre_mm,
        "poses_evaluated": res.num_evaluated,
        "didt_max_A_per_s": coil.didt_max,
        "field_V_per_m": args.field, "mso_percent": dose.mso_percent,
        "didt_A_per_s": dose.didt_A_per_s, "beyond_limit": dose.beyond_limit,
        "check_field_V_per_m": achieved,
        "peak_mm": common.mm(hot_c), "peak_magnE_V_per_m": float(magn[hot]),
        "peak_to_target_mm": float(np.linalg.norm(hot_c - target) * 1e3),
    }


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Command line: see the module docstring and --help."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_arguments(ap)
    ap.add_argument("--target", default="M1", help="target name or X,Y,Z head mm (default M1)")
    ap.add_argument("--field", type=float, default=100.0, help="field to reach, V/m (100)")
    args = ap.parse_args(argv)
    r = run(args)
    lines: List[str] = [
        f"coil       {r['coil']} over {r['target']} {r['target_mm']} mm ({r['head']})",
        f"pose       centre {np.round(r['centre_mm'], 2).tolist()} mm, "
        f"{r['poses_evaluated']} poses searched",
        f"objective  {r['objective_metric']} = {r['objective']:.4f} V/m at 1 A/us "
        f"(direct solve {r['objective_direct']:.4f})",
        f"dose       {r['mso_percent']:.2f} %MSO = {r['didt_A_per_s'] * 1e-6:.2f} A/us for "
        f"{r['field_V_per_m']:g} V/m{'  BEYOND 100 %MSO' if r['beyond_limit'] else ''}",
        f"check      a solve at that output gives {r['check_field_V_per_m']:.4f} V/m",
        f"peak       max |E| in the target tissue {r['peak_magnE_V_per_m']:.1f} V/m at "
        f"{r['peak_mm']} mm, {r['peak_to_target_mm']:.1f} mm from the target",
    ]
    common.emit(args, r, lines)
    return r


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Example 3: one target, three coils compared.

Each coil is placed over the target (its own optimal pose), then compared
by: the field on the target per unit dI/dt (V/m at 1 A/us, the coil's
efficiency), the %MSO for --field V/m on its stimulator (lower leaves more
headroom; above 100 the stimulator cannot reach it), and the focality: the
volume of the target tissue where |E| is at least half of its 99.9th
percentile (smaller is more focal).  Coils are ranked by efficiency.

    python3 examples/compare_coils.py
    python3 examples/compare_coils.py --coils MagVenture_MC-B70,MagStim_D70 --head default
"""
from __future__ import annotations

import argparse
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

import common
from common import tf

DEFAULT_COILS = "MagVenture_MC-B70,MagStim_D70,MagVenture_Cool-B65"


def focality_cm3(field: "tf.Field", mesh: "tf.Mesh", tags: Sequence[int],
                 fraction: float = 0.5) -> float:
    """Volume (cm^3) of the tissue of tags where |E| >= fraction x its 99.9th
    percentile (volume-weighted)."""
    mask = np.isin(mesh.tet_tags, tags)
    magn = field.magnE[mask]
    vol = mesh.volumes[mask]
    order = np.argsort(magn)
    cum = np.cumsum(vol[order]) / vol.sum()
    p999 = magn[order][np.searchsorted(cum, 0.999)]
    return float(vol[magn >= fraction * p999].sum() * 1e6)


def run(args: argparse.Namespace) -> Dict[str, Any]:
    """Place every coil, dose it, measure focality, rank."""
    s = common.setup(args)
    sim = tf.Simulation(s.mesh).setup()
    target = s.target_m(args.target)
    rows: List[Dict[str, Any]] = []
    for name in args.coils.split(","):
        coil = tf.Coil.open(name)
        p = common.place(s, sim, coil, target, args.objective)
        res: tf.PlacementResult = p["result"]
        dose = tf.Dose.for_target(sim, coil, res.pose, p["region"], args.objective, args.field)
        field = sim.solve(coil, res.pose, dose.didt_A_per_s)
        rows.append({
            "coil": name, "coil_name": coil.name, "didt_max_A_per_s": coil.didt_max,
            "casing": coil.casing() is not None,
            "objective": res.objective, "objective_direct": res.objective_direct,
            "pose_mm": res.pose_mm,
            "mso_percent": dose.mso_percent, "didt_A_per_s": dose.didt_A_per_s,
            "beyond_limit": dose.beyond_limit,
            "focality_cm3": focality_cm3(field, s.mesh, s.tags),
        })
    ranking = [r["coil"] for r in sorted(rows, key=lambda r: -r["objective"])]
    return {"head": s.spec, "target": args.target, "target_mm": common.mm(target),
            "objective_metric": tf.Metric.coerce(args.objective).name,
            "field_V_per_m": args.field, "coils": rows, "ranking": ranking}


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Command line: see the module docstring and --help."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_arguments(ap, coil=False)
    ap.add_argument("--coils", default=DEFAULT_COILS, help=f"comma-separated ({DEFAULT_COILS})")
    ap.add_argument("--target", default="M1", help="target name or X,Y,Z head mm (M1)")
    ap.add_argument("--field", type=float, default=100.0, help="field for the dose, V/m (100)")
    args = ap.parse_args(argv)
    r = run(args)
    lines = [f"target {r['target']} {r['target_mm']} mm, {r['objective_metric']}, "
             f"dose for {r['field_V_per_m']:g} V/m ({r['head']})",
             f"{'coil':<24} {'V/m per A/us':>12} {'%MSO':>8} {'focal cm3':>10}"]
    for c in r["coils"]:
        lines.append(f"{c['coil']:<24} {c['objective']:>12.4f} {c['mso_percent']:>8.2f} "
                     f"{c['focality_cm3']:>10.2f}{'  beyond limit' if c['beyond_limit'] else ''}")
    lines.append("ranking (efficiency): " + " > ".join(r["ranking"]))
    common.emit(args, r, lines)
    return r


if __name__ == "__main__":
    main()

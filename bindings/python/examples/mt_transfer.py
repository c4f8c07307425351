#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Example 2: a motor threshold measured at M1, transferred to the DLPFC.

The resting motor threshold (--rmt, %MSO) is measured with the coil at its
M1 hotspot.  E-field-matched dosing gives the DLPFC the same field: the coil
is placed over the DLPFC, and the output there is the one at which the metric
on the DLPFC region equals the metric on the M1 region at threshold
(tmsf_dose_transfer).  Two check solves confirm it: M1 at the threshold and
the DLPFC at the transferred output give the same field.

    python3 examples/mt_transfer.py --rmt 45
    python3 examples/mt_transfer.py --head default --rmt 45 --percent-mt 120
"""
from __future__ import annotations

import argparse
from typing import Any, Dict, Optional, Sequence

import common
from common import tf


def run(args: argparse.Namespace) -> Dict[str, Any]:
    """Both placements, the transfer and the checks."""
    s = common.setup(args)
    coil = tf.Coil.open(args.coil)
    sim = tf.Simulation(s.mesh).setup()
    m1 = common.place(s, sim, coil, s.target_m(args.from_target), args.objective)
    dl = common.place(s, sim, coil, s.target_m(args.to_target), args.objective)
    pose_a, pose_b = m1["result"].pose, dl["result"].pose
    at_a, at_b = tf.Dose.transfer(sim, coil, pose_a, m1["region"], args.rmt, pose_b,
                                  dl["region"], metric=args.objective)
    # the treatment output: a percentage of the transferred threshold
    treat_mso = at_b.mso_percent * args.percent_mt / 100.0
    # checks by new solves: M1 at the threshold, the DLPFC at the transferred threshold
    didt_a, _ = tf.Dose.mso_to_didt(coil, args.rmt)
    f_a = sim.solve(coil, pose_a, didt_a)
    f_b = sim.solve(coil, pose_b, at_b.didt_A_per_s)
    return {
        "head": s.spec, "coil": coil.name, "objective_metric": at_a.metric_name,
        "rmt_percent_mso": args.rmt,
        "m1_pose_mm": m1["result"].pose_mm, "dlpfc_pose_mm": dl["result"].pose_mm,
        "m1_per_A_per_us_V_per_m": at_a.metric_per_A_per_us_V_per_m,
        "dlpfc_per_A_per_us_V_per_m": at_b.metric_per_A_per_us_V_per_m,
        "m1_field_at_rmt_V_per_m": at_a.target_V_per_m,
        "dlpfc_rmt_percent_mso": at_b.mso_percent,
        "dlpfc_didt_A_per_s": at_b.didt_A_per_s,
        "dlpfc_beyond_limit": at_b.beyond_limit,
        "percent_mt": args.percent_mt, "treatment_percent_mso": treat_mso,
        "check_m1_field_V_per_m": f_a.metric(args.objective, m1["region"]),
        "check_dlpfc_field_V_per_m": f_b.metric(args.objective, dl["region"]),
    }


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Command line: see the module docstring and --help."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_arguments(ap)
    ap.add_argument("--rmt", type=float, default=45.0, help="motor threshold at M1, %%MSO (45)")
    ap.add_argument("--percent-mt", type=float, default=120.0,
                    help="treatment intensity in %% of the threshold (120)")
    ap.add_argument("--from-target", default="M1", help="where the threshold was measured")
    ap.add_argument("--to-target", default="DLPFC", help="the treatment target")
    args = ap.parse_args(argv)
    r = run(args)
    lines = [
        f"coil        {r['coil']}, metric {r['objective_metric']} ({r['head']})",
        f"M1          threshold {r['rmt_percent_mso']:g} %MSO gives "
        f"{r['m1_field_at_rmt_V_per_m']:.2f} V/m ({r['m1_per_A_per_us_V_per_m']:.4f} V/m per A/us)",
        f"DLPFC       the same field at {r['dlpfc_rmt_percent_mso']:.2f} %MSO "
        f"({r['dlpfc_per_A_per_us_V_per_m']:.4f} V/m per A/us)"
        f"{'  BEYOND 100 %MSO' if r['dlpfc_beyond_limit'] else ''}",
        f"treatment   {r['percent_mt']:g} % MT at the DLPFC = "
        f"{r['treatment_percent_mso']:.2f} %MSO",
        f"check       M1 at threshold {r['check_m1_field_V_per_m']:.4f} V/m, DLPFC at the "
        f"transferred output {r['check_dlpfc_field_V_per_m']:.4f} V/m",
    ]
    common.emit(args, r, lines)
    return r


if __name__ == "__main__":
    main()

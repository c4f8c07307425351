#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Plot and tabulate the solver benchmark (bench-solvers JSON results).

    /usr/bin/python3 benchmarks/plot-solvers.py [RESULTS_DIR]

Reads every RESULTS_DIR/solvers-*.json (default benchmarks/results), writes
RESULTS_DIR/solvers.png (seconds per additional pose and first-pose seconds per
solver against mesh size, log scales; one line per solver and threads x ranks) and
RESULTS_DIR/solvers.md (a markdown table for the README), and prints the table.
The plot needs matplotlib (Debian python3-matplotlib); without it the table is
still written and the plot is skipped with a message.
"""
import glob
import json
import math
import os
import sys

BASELINE = "petsc-baseline"


def load(results_dir):
    runs = []
    for path in sorted(glob.glob(os.path.join(results_dir, "solvers-*.json"))):
        with open(path, encoding="utf-8") as f:
            try:
                run = json.load(f)
            except json.JSONDecodeError as e:
                print(f"plot-solvers: skipping {path}: {e}", file=sys.stderr)
                continue
        if run.get("benchmark") == "solvers":
            run["_path"] = path
            runs.append(run)
    return runs


def fmt(v, digits=3):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def mesh_label(run):
    tets = run["tetrahedra"]
    size = f"{tets / 1e6:.2f}M" if tets >= 1e6 else f"{tets / 1e3:.0f}k"
    name = os.path.splitext(os.path.basename(run["mesh"]))[0]
    return f"{name} ({size} tets)"


def solver_ranks(run, s):
    """Ranks a solver ran on (older files: the baseline used all, the rest one)."""
    if "ranks" in s:
        return s["ranks"]
    return run["ranks"] if s["name"] == BASELINE else 1


def rows(runs):
    out = []
    for run in runs:
        for s in run["solvers"]:
            threads = run["threads"]
            if solver_ranks(run, s) == run["ranks"]:
                ranks = str(run["ranks"])
            else:  # a shared-memory solver: rank 0 of a multi-rank run
                ranks = f"1 (rank 0 of {run['ranks']})"
            out.append((run, s, threads, ranks))

    def key(r):
        run, s, threads, ranks = r
        return (run["tetrahedra"], run["ranks"], run["threads"], s["name"] != BASELINE, s["name"])

    return sorted(out, key=key)


def iterations(s):
    it = [v for v in s.get("iterations", []) if v is not None]
    if not it:
        return "–"
    later = sorted(it[1:]) or it
    mid = later[len(later) // 2] if len(later) % 2 else 0.5 * (later[len(later) // 2 - 1] + later[len(later) // 2])
    return f"{it[0]:.0f} / {mid:.0f}"


def table(runs):
    lines = []
    n_poses = sorted({run["poses"] for run in runs})
    batch = "/".join(str(n) for n in n_poses)
    lines.append(
        "| mesh | solver | threads | ranks | setup s | first pose s | per pose s (1 at a time) "
        f"| per pose s (batch of {batch}) | iterations | peak MB | E rel. diff |"
    )
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run, s, threads, ranks in rows(runs):
        if s["status"] != "ok":
            err = s.get("error", "").replace("|", "/")
            cells = [mesh_label(run), s["name"], str(threads), str(ranks), f"failed: {err}"] + [""] * 6
            lines.append("| " + " | ".join(cells) + " |")
            continue
        peak = s.get("peak_rss_bytes")
        lines.append(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                mesh_label(run), s["name"], threads, ranks, fmt(s.get("setup_s")), fmt(s.get("first_pose_s")),
                fmt(s.get("per_pose_s")), fmt(s.get("batch_per_pose_s")), iterations(s),
                fmt(peak / 1048576 if peak else None, 4), fmt(s.get("e_rel_diff_max"), 2)))
    ref = sorted({str(run["reference"].get("rtol")) for run in runs})
    rules = sorted({run.get("tmsfield_stopping_rule", "?") for run in runs})
    loads = sorted({run.get("loadavg_start", "?") for run in runs})
    lines.append("")
    lines.append(
        "Seconds are wall clock; per pose = primary field + right-hand side + solve + E, the median "
        "over poses 2..N solved one at a time (tmsfield solvers start from a guess built from the "
        "earlier poses' solutions, the baseline from zero); batch = all N together (tmsfield: one "
        "solve_many call on a freshly set up simulation). tmsfield solvers: stopping rule "
        f"{', '.join(rules)}. {BASELINE}: PETSc CG + hypre "
        "BoomerAMG (HMIS), rtol 1e-10, from the same matrix and right-hand side; with 2 ranks the "
        "baseline and the distributed solvers run on both, the shared-memory solvers on rank 0 "
        "alone. Iterations: pose 1 / "
        "median of the rest. Peak MB: resident-set high-water mark of rank 0 during setup and the "
        "poses one at a time (includes the mesh). E rel. diff: max over poses (one at a time and "
        "batch) of the volume-weighted relative L2 difference of E to the baseline at rtol "
        f"{', '.join(ref)}. Load average at the start of the runs: {', '.join(loads)}."
    )
    return "\n".join(lines) + "\n"


def plot(runs, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot-solvers: matplotlib not available, no plot written", file=sys.stderr)
        return False
    series = {}
    for run, s, threads, ranks in rows(runs):
        if s["status"] != "ok" or solver_ranks(run, s) != run["ranks"]:
            continue  # shared-memory solvers of multi-rank runs repeat the 1-thread case
        key = (s["name"], run["threads"], run["ranks"])
        series.setdefault(key, []).append((run["tetrahedra"], s.get("per_pose_s"), s.get("first_pose_s")))
    names = sorted({k[0] for k in series}, key=lambda n: (n != BASELINE, n))
    colours = {n: f"C{i}" for i, n in enumerate(names)}
    styles = {(1, 1): "-", (2, 1): "--", (1, 2): ":"}
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharex=True)
    for (name, threads, ranks), pts in sorted(series.items()):
        pts.sort()
        x = [p[0] for p in pts]
        for ax, col in ((axes[0], 1), (axes[1], 2)):
            y = [p[col] if p[col] is not None else float("nan") for p in pts]
            ax.plot(x, y, styles.get((threads, ranks), "-."), marker="o", color=colours[name],
                    label=f"{name}, {threads} thread{'s' if threads > 1 else ''} x {ranks} "
                    f"rank{'s' if ranks > 1 else ''}")
    for ax, title in ((axes[0], "seconds per additional pose (1 at a time)"),
                      (axes[1], "first pose seconds (setup included)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("tetrahedra")
        ax.set_ylabel("seconds")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=7, loc="upper left")
    cpu = runs[0].get("cpu", "")
    fig.suptitle(f"tmsfield solvers vs PETSc CG + BoomerAMG (HMIS, rtol 1e-10) - {cpu}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main():
    results_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results")
    runs = load(results_dir)
    if not runs:
        print(f"plot-solvers: no solvers-*.json in {results_dir}", file=sys.stderr)
        return 1
    md = table(runs)
    md_path = os.path.join(results_dir, "solvers.md")
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(md)
    print(md)
    png = os.path.join(results_dir, "solvers.png")
    if plot(runs, png):
        print(f"wrote {png}")
    print(f"wrote {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

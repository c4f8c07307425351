#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# One pose end to end, as a user runs it: `tmsfield simulate` reads the mesh,
# reads the coil, assembles, sets the solver up, solves one pose and writes E
# (.msh with E, magnE, J, magnJ), in a fresh process each time; wall seconds
# and peak resident memory from /usr/bin/time, the median over RUNS runs.
#
#   benchmarks/run-pipeline.sh [BUILD_DIR] [H_MM] [RUNS]
#
# Default: the ~1.1M-tetrahedron sphere (h 2.5, generated with gmsh from
# meshes/sphere3.geo and cached in BUILD_DIR/bench-meshes), 2 threads, 5 runs;
# writes benchmarks/results/pipeline-sphere-h<H>.json.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
H=${2:-2.5}
RUNS=${3:-5}
mesh="$BUILD/bench-meshes/sphere3_h$H.msh"
mkdir -p "$BUILD/bench-meshes" benchmarks/results
if [ ! -s "$mesh" ]; then
  gmsh -3 -setnumber h "$H" -format msh22 -bin -nt 2 -v 1 meshes/sphere3.geo -o "$mesh.tmp.msh"
  mv "$mesh.tmp.msh" "$mesh"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)
walls="" rss="" phases=""
i=0
while [ "$i" -lt "$RUNS" ]; do
  /usr/bin/time -f "%e %M" -o "$out/time" "$BUILD/apps/tmsfield" simulate --threads 2 \
    --mesh "$mesh" --coil data/coils/Magstim_70mm_Fig8.ccd --centre 0,0,95 --ydir 0,1,0 \
    --distance 4 --didt 1e6 --out "$out/E.msh" > "$out/log"
  read -r w m < "$out/time"
  walls="$walls $w"
  rss="$rss $m"
  p=$(tr '\n' ' ' < "$out/log" | sed -n 's/.*time *\(read.*\) |E|.*/\1/p' | tr -s ' ')
  phases="$phases|$p"
  i=$((i + 1))
done
/usr/bin/python3 - "$walls" "$rss" "$phases" "$mesh" "$load" "$H" <<'PY'
import json, statistics, sys, subprocess
walls = [float(x) for x in sys.argv[1].split()]
rss = [int(x) for x in sys.argv[2].split()]
phases = [p.strip() for p in sys.argv[3].split('|') if p.strip()]
commit = subprocess.run(['git', 'rev-parse', '--short=12', 'HEAD'], capture_output=True, text=True).stdout.strip()
res = {
    "benchmark": "pipeline",
    "what": "tmsfield simulate in a fresh process: read mesh, coil, assembly, solver setup, "
            "one pose (primary field, rhs, solve, E), write .msh with E/magnE/J/magnJ",
    "commit": commit, "mesh": sys.argv[4], "h_mm": float(sys.argv[6]), "threads": 2,
    "coil": "data/coils/Magstim_70mm_Fig8.ccd", "load_average_at_start": sys.argv[5],
    "wall_s": walls, "wall_median_s": statistics.median(walls),
    "peak_rss_kB": rss, "peak_rss_max_MB": max(rss) / 1024.0,
    "phases_per_run": phases,
}
path = "benchmarks/results/pipeline-sphere-h%s.json" % sys.argv[6]
with open(path, "w") as f:
    json.dump(res, f, indent=2)
    f.write("\n")
print("wall median %.3f s (%s), peak RSS %.0f MB; wrote %s" %
      (res["wall_median_s"], ", ".join("%.2f" % w for w in walls), res["peak_rss_max_MB"], path))
PY

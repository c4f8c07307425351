#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run the solver benchmark (bench-solvers: every tmsfield solver against PETSc CG +
# hypre BoomerAMG HMIS, rtol 1e-10) on generated spheres, then plot and tabulate.
#
#   benchmarks/run-solvers.sh [BUILD_DIR] [H_MM ...]
#
# Generates three-layer spheres (radii 85/90/95 mm, SimNIBS tags) with gmsh from
# meshes/sphere3.geo at the given target sizes (default 6 2.5: ~0.1M and ~1.1M
# tetrahedra; 1.5 gives ~5M and takes ~10 min of gmsh once), caches them in
# BUILD_DIR/bench-meshes, and runs bench-solvers with 1 and 2 threads on one rank and
# with 2 MPI ranks x 1 thread, writing
# benchmarks/results/solvers-sphere-h<H>-t<threads>-r<ranks>.json and .csv; then
# benchmarks/plot-solvers.py writes benchmarks/results/solvers.png and solvers.md.
#
# Environment: POSES (default 8), MPIRUN (default mpirun), MPIRUN_FLAGS (default:
# --allow-run-as-root when run as root; add --oversubscribe on a 1-core machine),
# SOLVERS (default all), PYTHON (default /usr/bin/python3, which needs numpy and
# matplotlib).  One-rank runs start the program directly (no mpirun, no binding).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
[ $# -gt 0 ] && shift
SIZES=${*:-6 2.5}
POSES=${POSES:-8}
SOLVERS=${SOLVERS:-all}
MPIRUN=${MPIRUN:-mpirun}
PYTHON=${PYTHON:-/usr/bin/python3}
if [ -z "${MPIRUN_FLAGS+x}" ]; then
  MPIRUN_FLAGS=""
  [ "$(id -u)" = 0 ] && MPIRUN_FLAGS="--allow-run-as-root"
fi
BENCH="$BUILD/benchmarks/bench-solvers"
if [ ! -x "$BENCH" ]; then
  echo "run-solvers: $BENCH not built (it needs PETSc with hypre and MPI: Debian petsc-dev)" >&2
  exit 1
fi
mkdir -p "$BUILD/bench-meshes" benchmarks/results
for h in $SIZES; do
  mesh="$BUILD/bench-meshes/sphere3_h$h.msh"
  if [ ! -s "$mesh" ]; then
    gmsh -3 -setnumber h "$h" -format msh22 -bin -nt 2 -v 1 meshes/sphere3.geo -o "$mesh.tmp.msh"
    mv "$mesh.tmp.msh" "$mesh"
  fi
  out="benchmarks/results/solvers-sphere-h$h"
  for t in 1 2; do
    echo "== sphere h $h: $t thread(s), 1 rank  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    OMP_NUM_THREADS=$t "$BENCH" --mesh "$mesh" --poses "$POSES" --threads "$t" --solvers "$SOLVERS" \
      --json "$out-t$t-r1.json" --csv "$out-t$t-r1.csv"
  done
  echo "== sphere h $h: 2 ranks x 1 thread  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=1 "$MPIRUN" $MPIRUN_FLAGS -np 2 --bind-to none -x OMP_NUM_THREADS \
    "$BENCH" --mesh "$mesh" --poses "$POSES" --threads 1 --solvers "$SOLVERS" \
    --json "$out-t1-r2.json" --csv "$out-t1-r2.csv"
done
"$PYTHON" benchmarks/plot-solvers.py benchmarks/results

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run the core benchmark on generated spheres and record JSON results.
#
#   benchmarks/run-core.sh [BUILD_DIR] [H_MM ...]
#
# Generates three-layer spheres (radii 85/90/95 mm, SimNIBS tags) with gmsh from
# meshes/sphere3.geo at the given target sizes (default 2.5: ~1.1M tetrahedra,
# mean edge ~3.3 mm), caches them in BUILD_DIR/bench-meshes, and runs
# bench-core with 1 and 2 threads, writing
# benchmarks/results/core-sphere-h<H>-t<threads>.json.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
[ $# -gt 0 ] && shift
SIZES=${*:-2.5}
mkdir -p "$BUILD/bench-meshes" benchmarks/results
for h in $SIZES; do
  mesh="$BUILD/bench-meshes/sphere3_h$h.msh"
  if [ ! -s "$mesh" ]; then
    gmsh -3 -setnumber h "$h" -format msh22 -bin -nt 2 -v 1 meshes/sphere3.geo -o "$mesh.tmp.msh"
    mv "$mesh.tmp.msh" "$mesh"
  fi
  for t in 1 2; do
    "$BUILD/benchmarks/bench-core" --mesh "$mesh" --threads "$t" --repeat 5 \
      --json "benchmarks/results/core-sphere-h$h-t$t.json"
  done
done

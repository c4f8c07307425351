#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run the treecode benchmark and record JSON results:
#
#   benchmarks/run-treecode.sh [BUILD_DIR]
#
# - treecode-head-t12.json: the built-in head (its 225,651 nodes as sources,
#   meshed and cached on first use), 200,000 targets 5-30 mm above the scalp,
#   default tolerance 1e-4, build and evaluation timed 5 times with 1 and 2
#   threads (wall and CPU time);
# - treecode-{head,ellipsoid}-accuracy.json: every row of the tolerance table
#   (lib/treecode.h) on the head and on a random ellipsoid of 230,000 points.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
B="$BUILD/benchmarks/bench-treecode"
mkdir -p benchmarks/results
TOLS="--tolerance 1e-2 --tolerance 1e-3 --tolerance 1e-4 --tolerance 1e-5 --tolerance 1e-6 --tolerance 1e-7 --tolerance 1e-9"
"$B" --head default --targets 200000 --check 2000 --repeat 5 --threads 1,2 --tolerance 1e-4 \
  --json benchmarks/results/treecode-head-t12.json
# shellcheck disable=SC2086
"$B" --head default --targets 200000 --check 2000 --repeat 1 --threads 2 $TOLS \
  --json benchmarks/results/treecode-head-accuracy.json
# shellcheck disable=SC2086
"$B" --targets 200000 --check 2000 --repeat 1 --threads 2 $TOLS \
  --json benchmarks/results/treecode-ellipsoid-accuracy.json

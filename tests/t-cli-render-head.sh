#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-render-head.sh: the done-when of issue 7 part 4 on the built-in head — one command
# renders |E| on the cortex for the M1 optimum, and the hotspot sits under the coil centre:
#   tmsfield place --head default --target M1 --out DIR        (about a minute on 2 cores)
#   tmsfield render --placement DIR --out m1.png --slices m1-slices.png --json
# The brightest pixel of the cortex picture, and the centroid of the pixels showing >= 90 % of
# its value, must lie within 10 mm of the coil centre's projection (the figure-8's maximum is
# under its centre; on a folded cortex the gyral crown nearest to the coil carries it, so a few
# mm off the axis); the target is marked; both PNGs decode (tests/check-png.py).
#
#   t-cli-render-head.sh PATH/TO/tmsfield        (TMSF_SOURCE_DIR: the source tree)
set -u
exe=${1:?usage: t-cli-render-head.sh TMSFIELD}
src=${TMSF_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tmsf-cli-render-head.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
py=/usr/bin/python3

start=$(date +%s)
"$exe" place --head default --target M1 --out "$tmp/m1" --quiet || { echo "FAIL: place" >&2; exit 1; }
echo "place: $(($(date +%s) - start)) s"
start=$(date +%s)
"$exe" render --placement "$tmp/m1" --out "$tmp/m1.png" --slices "$tmp/m1-slices.png" --json >"$tmp/r.json" ||
  fail "render --placement"
echo "render: $(($(date +%s) - start)) s"
cat "$tmp/r.json"
"$py" "$src/tests/check-png.py" "$tmp/m1.png" 900 700 || fail "m1.png"
"$py" "$src/tests/check-png.py" "$tmp/m1-slices.png" || fail "m1-slices.png"
"$py" - "$tmp/r.json" "$tmp/m1/placement.json" <<'PYEOF' || fail "hotspot under the coil centre"
import json, re, sys
r = json.load(open(sys.argv[1]))
p = json.loads(re.sub(r'\bnan\b', 'NaN', open(sys.argv[2]).read()))
c, s = r['cortex'], r['slices']
d, d90 = c['hotspot_to_coil_centre_mm'], c['hot_region_to_coil_centre_mm']
print('M1: hotspot %.1f V/m at %s mm, %.2f mm from the coil centre projection; >= 90 %% region %.2f mm'
      % (c['hotspot_V_per_m'], c['hotspot_mm'], d, d90))
assert d <= 10.0, 'brightest pixel %.2f mm from the coil centre projection (> 10 mm)' % d
assert d90 <= 10.0, 'hot region %.2f mm from the coil centre projection (> 10 mm)' % d90
assert 'target_px' in c, 'target marked'
assert c['max_V_per_m'] > 100.0, 'the dose gives 100 V/m at the target: the surface maximum exceeds it'
assert max(abs(a - b) for a, b in zip(s['point_mm'], p['target_gm_mm'])) < 1e-3, 'slices through the target'
PYEOF
if [ $fails -ne 0 ]; then
  echo "t-cli-render-head: $fails failure(s)" >&2
  exit 1
fi
echo "t-cli-render-head: all checks passed"

#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-place.sh: `tmsfield place` on SimNIBS's three-layer sphere (tag 3 is
# the inner ball: the "grey matter" here) — the JSON report holds the keys the
# issue names with consistent values, the pose sits over the target, the fast
# and direct methods agree, --out writes the field and navigator files that
# read back (as --rmt-pose) to the same dose, and bad input fails clearly:
# usage errors exit 2, a target outside the head, an empty region and a
# search space without a valid pose exit 1 with a message saying so.
set -u
TMSFIELD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=${TMSF_SOURCE_DIR:-.}
PY=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; [ -f "$tmp/u.txt" ] && sed "s/^/    | /" "$tmp/u.txt"; fail=1; fi; }

MESH=$SRC/data/spheres/sphere3.msh
B70=$SRC/data/coils/drakaki2022/MagVenture_MC-B70.ccd
# a coarse search keeps the test short: 4 mm positions within 8 mm, 30 degree steps
COMMON=(--mesh "$MESH" --coil "$B70" --tags 3 --radius 10 --search-radius 8 --spacing 4 --angle-step 30)

# 1. help lists the command and shows examples
"$TMSFIELD" --help | grep -q "^  place "
check '[ $? -eq 0 ]' "tmsfield --help lists place"
"$TMSFIELD" place --help > "$tmp/help.txt"
check '[ $? -eq 0 ] && grep -q "^examples" "$tmp/help.txt" && grep -q "tmsfield place --head default --target M1" "$tmp/help.txt"' \
  "place --help exits 0 with examples"

# 2. a placement over a target 15 mm off the pole, JSON on stdout
"$TMSFIELD" place "${COMMON[@]}" --target 20,0,78 --json --out "$tmp/out" > "$tmp/a.json" 2> "$tmp/u.txt"
check '[ $? -eq 0 ]' "place --json runs"
"$PY" - "$tmp/a.json" > "$tmp/u.txt" 2>&1 <<'EOF'
import json, math, sys
r = json.load(open(sys.argv[1]))
for k in ("pose", "objective", "mso_percent", "didt_A_per_s", "target_mm", "region_radius_mm"):
    assert k in r, "missing key " + k
P = r["pose"]
assert len(P) == 4 and all(len(row) == 4 for row in P), "pose is 4x4"
R = [[P[i][j] for j in range(3)] for i in range(3)]
for i in range(3):
    for j in range(3):
        d = sum(R[k][i] * R[k][j] for k in range(3))
        assert abs(d - (i == j)) < 1e-9, "pose axes orthonormal"
c = [P[0][3], P[1][3], P[2][3]]
rc = math.sqrt(sum(x * x for x in c))
assert abs(rc - 99.0) < 1.0, "coil centre 4 mm above the 95 mm scalp, got r = %g" % rc
z = [P[0][2], P[1][2], P[2][2]]
assert sum(z[k] * c[k] for k in range(3)) / rc < -0.99, "z points into the head"
t = r["target_mm"]
cos = sum(c[k] * t[k] for k in range(3)) / rc / math.sqrt(sum(x * x for x in t))
assert cos > math.cos(math.radians(8.0 / 95 * 180 / math.pi * 1.5 + 1)), "coil above the target (cos %g)" % cos
assert r["region_radius_mm"] == 10
assert r["objective"] > 0 and abs(r["objective"] - r["objective_direct"]) <= 0.01 * r["objective_direct"], \
    "fast objective within 1 %% of the direct solve: %g vs %g" % (r["objective"], r["objective_direct"])
# dose: 100 V/m by default, linear in dI/dt
assert abs(r["didt_A_per_s"] * r["objective_direct"] / 1e6 - 100.0) < 0.5, "dI/dt x objective = 100 V/m"
assert abs(r["mso_percent"] - r["didt_A_per_s"] / r["didt_max_A_per_s"] * 100) < 1e-6 * r["mso_percent"]
assert r["search"]["valid_poses"] > 0 and len(r["top"]) >= 1
print("ok", r["objective"], r["mso_percent"])
EOF
check '[ $? -eq 0 ]' "JSON report consistent"
check '[ -s "$tmp/out/field.msh" ] && [ -s "$tmp/out/placement.json" ] && [ -s "$tmp/out/localite.xml" ] && [ -s "$tmp/out/brainsight.txt" ]' \
  "--out writes field.msh, placement.json, localite.xml, brainsight.txt"
check 'grep -q "magnE" "$tmp/out/field.msh"' "field.msh holds magnE"

# 3. the direct method finds the same optimum (within 0.5 % of its objective)
"$TMSFIELD" place "${COMMON[@]}" --target 20,0,78 --method direct --no-refine --json > "$tmp/d.json" 2> "$tmp/u.txt"
check '[ $? -eq 0 ]' "place --method direct runs"
"$TMSFIELD" place "${COMMON[@]}" --target 20,0,78 --no-refine --json > "$tmp/f.json" 2> "$tmp/u.txt"
"$PY" - "$tmp/f.json" "$tmp/d.json" > "$tmp/u.txt" 2>&1 <<'EOF'
import json, sys
f = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
assert abs(f["objective_direct"] - d["objective_direct"]) <= 0.005 * d["objective_direct"], \
    "fast and direct optima: %g vs %g" % (f["objective_direct"], d["objective_direct"])
assert abs(f["objective"] - d["objective"]) <= 0.01 * d["objective"]
EOF
check '[ $? -eq 0 ]' "fast and direct grid searches agree"

# 4. the motor threshold from a navigator file written by --out
for nav in localite.xml brainsight.txt placement.json; do
  "$TMSFIELD" place "${COMMON[@]}" --target 20,0,78 --rmt 50 --rmt-pose "$tmp/out/$nav" --rmt-target 20,0,78 \
    --json > "$tmp/r.json" 2> "$tmp/u.txt"
  check '[ $? -eq 0 ]' "--rmt-pose $nav runs"
  "$PY" -c "
import json, sys
r = json.load(open('$tmp/r.json')); a = json.load(open('$tmp/a.json'))
# same pose, same region: the same output as the threshold
assert abs(r['mso_percent'] - 50.0) < 0.05, r['mso_percent']
" > "$tmp/u.txt" 2>&1
  check '[ $? -eq 0 ]' "--rmt 50 at the optimum itself gives 50 % MSO ($nav)"
done

# 5. errors
"$TMSFIELD" place --mesh "$MESH" > /dev/null 2> "$tmp/u.txt"
check '[ $? -eq 2 ] && grep -q -- "--target" "$tmp/u.txt"' "no --target: usage error"
"$TMSFIELD" place "${COMMON[@]}" --target 0,0,150 > /dev/null 2> "$tmp/u.txt"
check '[ $? -eq 1 ] && grep -qi "outside the head" "$tmp/u.txt"' "target outside the head"
"$TMSFIELD" place "${COMMON[@]}" --target 20,0,78 --tags 7 > /dev/null 2> "$tmp/u.txt"
check '[ $? -eq 1 ] && grep -qi "tag" "$tmp/u.txt"' "a region of a tag the mesh lacks"
"$TMSFIELD" place "${COMMON[@]}" --target 20,0,78 --distance 0 --casing "$tmp/box.stl" > /dev/null 2> "$tmp/u.txt"
check '[ $? -eq 1 ]' "a missing casing file fails"
# a casing reaching 30 mm into the head: every pose collides
cat > "$tmp/box.stl" <<'EOF'
solid probe
facet normal 0 0 1
outer loop
vertex -5 -5 30
vertex 5 -5 30
vertex 0 5 30
endloop
endfacet
endsolid probe
EOF
"$TMSFIELD" place "${COMMON[@]}" --target 20,0,78 --casing "$tmp/box.stl" > /dev/null 2> "$tmp/u.txt"
check '[ $? -eq 1 ] && grep -qi "no valid" "$tmp/u.txt"' "no valid pose: clear error"

exit $fail

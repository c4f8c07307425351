#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-dose.sh: `tmsfield dose` — the examples of --help run as printed, the
# text and JSON results agree with the library's arithmetic (%MSO = dI/dt /
# dIdtmax x 100), a target beyond the stimulator is flagged, usage errors
# exit 2 and library errors exit 1 with clear messages.
set -u
TMSFIELD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: the examples run in the source tree
SRC=${TMSF_SOURCE_DIR:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; [ -f "$tmp/u.txt" ] && sed "s/^/    | /" "$tmp/u.txt"; fail=1; fi; }

MESH=$SRC/data/spheres/sphere3.msh
B70=$SRC/data/coils/drakaki2022/MagVenture_MC-B70.ccd
FIG8=$SRC/data/coils/Magstim_70mm_Fig8.ccd
POSE=(--centre 0,0,95 --ydir 0,1,0 --target 0,0,80 --radius 10 --tags 3)

# 1. the main usage lists the command; --help's examples run as printed
"$TMSFIELD" --help | grep -q "^  dose "
check '[ $? -eq 0 ]' "tmsfield --help lists dose"
"$TMSFIELD" dose --help > "$tmp/help.txt"
check '[ $? -eq 0 ] && grep -q "^examples" "$tmp/help.txt"' "dose --help exits 0 with examples"
# each example: the lines from one starting "  tmsfield dose" to the first without a trailing backslash
awk '/^examples/ {on=1; next} on && /^  tmsfield dose/ {cmd=""; inside=1}
     on && inside {line=$0; cont = sub(/\\$/, "", line); cmd = cmd line; if (!cont) {print cmd; inside=0}}' \
  "$tmp/help.txt" > "$tmp/examples.txt"
check '[ $(wc -l < "$tmp/examples.txt") -eq 2 ]' "two examples found in --help"
k=0
while read -r line; do
  k=$((k + 1))
  args=${line#*tmsfield dose}
  (cd "$SRC" && eval "\"$TMSFIELD\" dose $args") > "$tmp/ex$k.txt" 2>&1
  rc=$?
  check '[ $rc -eq 0 ]' "example $k runs: $(head -3 "$tmp/ex$k.txt")"
done < "$tmp/examples.txt"
check 'grep -q "output    38\.5[89] % MSO" "$tmp/ex1.txt"' "example 1: p99 of 100 V/m is ~38.59 % MSO ($(grep output "$tmp/ex1.txt"))"
check 'grep -q "\"motor_threshold\"" "$tmp/ex2.txt"' "example 2 prints the transfer as JSON"

# 2. text result: %MSO and dI/dt agree with dIdtmax 155.33 A/us
"$TMSFIELD" dose --mesh "$MESH" --coil "$B70" "${POSE[@]}" --metric mean --field-vpm 60 > "$tmp/t.txt" 2>&1
check '[ $? -eq 0 ]' "dose --field-vpm exits 0"
read -r mso didt <<< "$(awk '/^  output/ {print $2, $6}' "$tmp/t.txt")"
check '[ -n "$mso" ] && awk -v m="$mso" -v d="$didt" "BEGIN {exit !(m > 0 && m < 100 && (d - m / 100 * 155.33)^2 < 1e-4)}"' \
  "printed %MSO ($mso) and dI/dt ($didt A/us) agree with 155.33 A/us at 100 %"
check 'grep -q "MC-B70, dI/dt max 155.33 A/us" "$tmp/t.txt" && grep -q "24 tetrahedra" "$tmp/t.txt" && grep -q "mean |E|" "$tmp/t.txt"' \
  "the result states coil, limit, region and metric"

# 3. JSON
"$TMSFIELD" dose --mesh "$MESH" --coil "$B70" "${POSE[@]}" --metric p99 --field-vpm 100 --json > "$tmp/j.json" 2> "$tmp/j.err"
check '[ $? -eq 0 ] && [ ! -s "$tmp/j.err" ]' "--json exits 0 and prints nothing on stderr"
if command -v python3 > /dev/null; then
  python3 - "$tmp/j.json" "$tmp/ex2.txt" <<'PY' > "$tmp/py.txt" 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["metric"]["name"] == "p99" and r["metric"]["percentile"] == 99, r["metric"]
assert r["coil"]["name"] == "MC-B70" and r["coil"]["didt_max_A_per_s"] == 155.33e6
assert r["region"]["tags"] == [3] and r["region"]["num_elements"] == 24 and abs(r["region"]["radius_m"] - 0.01) < 1e-15
assert abs(r["didt_A_per_s"] - r["mso_percent"] / 100 * 155.33e6) < 1e-6 * r["didt_A_per_s"]
assert abs(r["target_V_per_m"] - 100) < 1e-9 and r["beyond_limit"] is False
assert abs(r["didt_A_per_s"] * 1e-6 * r["metric_per_A_per_us_V_per_m"] - 100) < 1e-6
assert len(r["matsimnibs_mm"]) == 4 and abs(r["matsimnibs_mm"][2][3] - 99.0) < 0.01
t = json.load(open(sys.argv[2]))
a, b = t["motor_threshold"], t["dose"]
assert a["mso_percent"] == 45 and abs(a["target_V_per_m"] - b["target_V_per_m"]) < 1e-12 * a["target_V_per_m"]
assert abs(b["didt_A_per_s"] * 1e-6 * b["metric_per_A_per_us_V_per_m"] - a["target_V_per_m"]) < 1e-6
print("json ok")
PY
  check 'grep -q "json ok" "$tmp/py.txt"' "JSON content: $(cat "$tmp/py.txt")"
fi

# 4. beyond the stimulator: reported, flagged, warned, exit 0
"$TMSFIELD" dose --mesh "$MESH" --coil "$B70" "${POSE[@]}" --field-vpm 1000 > "$tmp/b.txt" 2> "$tmp/b.err"
check '[ $? -eq 0 ] && grep -q "BEYOND THE STIMULATOR" "$tmp/b.txt" && grep -q "warning: .* beyond the stimulator" "$tmp/b.err"' \
  "a target beyond the stimulator is flagged"
"$TMSFIELD" dose --mesh "$MESH" --coil "$B70" "${POSE[@]}" --field-vpm 1000 --json > "$tmp/b.json" 2> /dev/null
check 'grep -q "\"beyond_limit\": true" "$tmp/b.json"' "JSON flags beyond_limit"

# 5. usage errors: exit 2
usage() { "$TMSFIELD" dose "$@" > "$tmp/u.txt" 2>&1; echo $?; }
check '[ $(usage --mesh "$MESH" --coil "$B70" --centre 0,0,95 --ydir 0,1,0 --field-vpm 50) -eq 2 ] && grep -q "target" "$tmp/u.txt"' "missing --target"
check '[ $(usage --mesh "$MESH" --coil "$B70" "${POSE[@]}") -eq 2 ] && grep -q "exactly one of --field-vpm" "$tmp/u.txt"' "neither --field-vpm nor --rmt"
check '[ $(usage --mesh "$MESH" --coil "$B70" "${POSE[@]}" --field-vpm 50 --rmt 40) -eq 2 ]' "both --field-vpm and --rmt"
check '[ $(usage --mesh "$MESH" --coil "$B70" "${POSE[@]}" --metric max --field-vpm 50) -eq 2 ] && grep -q "unknown metric .max." "$tmp/u.txt"' "unknown metric"
check '[ $(usage --mesh "$MESH" --coil "$B70" "${POSE[@]}" --rmt 40 --rmt-target 0,0,80) -eq 2 ] && grep -q "rmt-centre" "$tmp/u.txt"' "--rmt without its pose"
check '[ $(usage --mesh "$MESH" --coil "$B70" "${POSE[@]}" --rmt 40 --rmt-centre 0,0,95 --rmt-ydir 0,1,0) -eq 2 ] && grep -q "rmt-target" "$tmp/u.txt"' "--rmt without --rmt-target"
check '[ $(usage --mesh "$MESH" --coil "$B70" "${POSE[@]}" --field-vpm 50 --rmt-target 0,0,80) -eq 2 ]' "--rmt-* without --rmt"
check '[ $(usage --mesh "$MESH" --coil "$B70" "${POSE[@]}" --field-vpm -5) -eq 2 ]' "negative field"
check '[ $(usage --mesh "$MESH" --coil "$B70" --centre 0,0,95 --ydir 0,1,0 --target 0,0,80 --tags 3,x --field-vpm 5) -eq 2 ]' "bad --tags"
check '[ $(usage --mesh "$MESH" --coil "$B70" --centre 0,0,95 --target 0,0,80 --field-vpm 5) -eq 2 ]' "--centre without --ydir"

# 6. library errors: exit 1, message names the problem
check '[ $(usage --mesh "$MESH" --coil "$B70" --centre 0,0,95 --ydir 0,1,0 --target 0,0,80 --field-vpm 50) -eq 1 ] && grep -q "no tetrahedra with tag 2" "$tmp/u.txt"' \
  "default grey matter on the sphere"
check '[ $(usage --mesh "$MESH" --coil "$B70" --centre 0,0,95 --ydir 0,1,0 --target 0,0,200 --tags 3 --field-vpm 50) -eq 1 ] && grep -q "empty" "$tmp/u.txt"' \
  "empty region"
check '[ $(usage --mesh "$MESH" --coil "$B70" "${POSE[@]}" --rmt 101 --rmt-centre 0,0,95 --rmt-ydir 0,1,0 --rmt-target 0,0,80) -eq 1 ] && grep -q "101 % MSO is beyond" "$tmp/u.txt"' \
  "RMT beyond 100 %"
check '[ $(usage --mesh "$MESH" --coil "$FIG8" "${POSE[@]}" --rmt 40 --rmt-centre 0,0,95 --rmt-ydir 0,1,0 --rmt-target 0,0,80) -eq 1 ] && grep -q "dIdtmax" "$tmp/u.txt"' \
  "coil without dIdtmax"
check '[ $(usage --mesh "$MESH" --coil "$B70" "${POSE[@]}" --metric normal --field-vpm 5) -eq 1 ] && grep -q "no triangles with tag 1002" "$tmp/u.txt"' \
  "no GM surface on the sphere"

exit $fail

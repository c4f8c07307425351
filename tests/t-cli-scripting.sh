#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-scripting.sh: the command line for scripts (docs/cli.md).
#  1. --json prints one JSON document on stdout with the values the run had
#     (simulate: sizes, dI/dt = %MSO x the coil's dIdtmax, the files written;
#     mesh: the quality report; version, coils, targets, dose, place);
#  2. --quiet prints nothing on stdout (with --json: only the JSON) and nothing
#     on stderr for a run without warnings;
#  3. progress bars: drawn on a terminal (script(1) gives one) and with
#     TMSF_PROGRESS=1, never when stderr is a file or with --quiet;
#  4. exit codes: 2 for a usage error and 1 for a library error, every command;
#  5. TMSF_CLI_PARSE_ONLY=1 checks the options and does nothing.
set -u
TMSFIELD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "${TMSF_SOURCE_DIR:-.}" && pwd)
PY=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tmsf-cli-scripting.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }
# json FILE PYTHON-ASSERTIONS: the file is one JSON document r satisfying them
json() {
  "$PY" - "$1" > "$tmp/py.txt" 2>&1 <<EOF
import json, sys
r = json.load(open(sys.argv[1]))
$2
EOF
  local rc=$?
  [ $rc -eq 0 ] || sed 's/^/    | /' "$tmp/py.txt"
  return $rc
}

MESH=$SRC/data/spheres/sphere3.msh
B70=$SRC/data/coils/drakaki2022/MagVenture_MC-B70.ccd
LABELS=$SRC/tests/fuzz/corpus-labels/uint8-sform.nii
SIM=(simulate --mesh "$MESH" --centre 0,0,95 --ydir 0,1,0)
TINY=(--cell-size 1 --cell-size-fine 1 --facet-size 1 --facet-size-fine 1 --facet-distance 0.2 --threads 1)
# builds without CGAL (-Dcgal=disabled) cannot mesh: the mesh checks are skipped there
cgal=1
"$TMSFIELD" mesh "$LABELS" --out "$tmp/probe.msh" "${TINY[@]}" --quiet 2> "$tmp/probe.err" ||
  { grep -q CGAL "$tmp/probe.err" && cgal=0 && echo "cli-scripting: no CGAL in this build: mesh checks skipped"; }
rm -f "$tmp/probe.msh" "$tmp/probe.err"

# 1. --json
"$TMSFIELD" "${SIM[@]}" --mso 50 --out "$tmp/a.msh" --json > "$tmp/a.json" 2> "$tmp/a.err"
check '[ $? -eq 0 ]' "simulate --json exits 0"
# MC-B70 (the default coil): dIdtmax 155.33 A/us in its .ccd header
check 'json "$tmp/a.json" "
assert r[\"tool\"] == \"tmsfield simulate\"
assert r[\"mesh\"][\"nodes\"] == 4556 and r[\"mesh\"][\"tetrahedra\"] == 22704, r[\"mesh\"]
assert r[\"coil\"] == \"MC-B70\", r[\"coil\"]
assert abs(r[\"didt_A_per_s\"] - 0.5 * 155.33e6) < 1e-3 and r[\"mso_percent\"] == 50
assert abs(r[\"centre_mm\"][2] - 99.0) < 0.01, r[\"centre_mm\"]
assert r[\"outputs\"] == [{\"path\": sys.argv[1][:-4] + \"msh\", \"format\": \"gmsh\"}], r[\"outputs\"]
assert r[\"solver\"][\"name\"] and r[\"solver\"][\"stopping_rule\"] in (\"field\", \"residual\", \"direct\")
for k in (\"read\", \"setup\", \"solve\", \"write\", \"total\"):
    assert r[\"timings_s\"][k] >= 0
tags = [t[\"tag\"] for t in r[\"magnE_V_per_m\"]]
assert tags == [3, 4, 5], tags
for t in r[\"magnE_V_per_m\"]:
    assert 0 < t[\"p50\"] <= t[\"p95\"] <= t[\"p99\"] <= t[\"p99.9\"] <= t[\"max\"], t
"' "simulate --json: sizes, dI/dt from %MSO, the default coil, outputs, percentiles"
check '[ -s "$tmp/a.msh" ]' "simulate --json writes --out"
# the same run as text: the JSON's maxima are the table's
max_txt=$("$TMSFIELD" "${SIM[@]}" --mso 50 2> /dev/null | awk '$1 == 3 {print $NF}')
check 'json "$tmp/a.json" "assert \"%.2f\" % r[\"magnE_V_per_m\"][0][\"max\"] == \"$max_txt\", r[\"magnE_V_per_m\"][0]"' \
  "JSON max |E| in tag 3 equals the table's ($max_txt)"
# no --out: nothing written, said so
(cd "$tmp" && "$TMSFIELD" "${SIM[@]}" --didt 1e6 --json > "$tmp/b.json" 2> /dev/null)
check '[ $? -eq 0 ] && json "$tmp/b.json" "assert r[\"outputs\"] == [] and r[\"mso_percent\"] is None"' \
  "simulate without --out: no outputs"
check '[ -z "$(ls "$tmp" | grep -v "^a\.\|^b\.json\|^py\.txt")" ]' "simulate without --out writes no file"

[ $cgal -eq 1 ] && "$TMSFIELD" mesh "$LABELS" --out "$tmp/m.msh" "${TINY[@]}" --json > "$tmp/m.json" 2> "$tmp/m.err"
[ $cgal -eq 1 ] && check '[ $? -eq 0 ] && json "$tmp/m.json" "
assert r[\"tool\"] == \"tmsfield mesh\" and r[\"inverted_tetrahedra\"] == 0
assert r[\"tetrahedra\"] == sum(t[\"tetrahedra\"] for t in r[\"tissues\"]) > 0
assert [t[\"tag\"] for t in r[\"tissues\"]] == [2, 5], r[\"tissues\"]
assert {s[\"tag\"] for s in r[\"surfaces\"]} >= {1002, 1005}, r[\"surfaces\"]
assert all(abs(t[\"volume_rel_error\"]) < 0.5 for t in r[\"tissues\"])
"' "mesh --json: the quality report"
"$TMSFIELD" version --json > "$tmp/v.json"
check '[ $? -eq 0 ] && json "$tmp/v.json" "assert r[\"version\"].count(\".\") == 2 and \"amg\" in r[\"solvers\"]"' \
  "version --json"
"$TMSFIELD" coils --json > "$tmp/c.json"
check '[ $? -eq 0 ] && json "$tmp/c.json" "assert any(c[\"name\"] == \"MagVenture_MC-B70\" for c in r[\"coils\"])"' \
  "coils --json"
"$TMSFIELD" targets M1 --json > "$tmp/t.json"
check '[ $? -eq 0 ] && json "$tmp/t.json" "assert r[0][\"name\"] == \"M1\" and len(r[0][\"mni_mm\"]) == 3"' \
  "targets --json"
"$TMSFIELD" protocol --preset itbs --rmt 50 --percent-mt 80 --didt-max 155.33 --json > "$tmp/p.json"
check '[ $? -eq 0 ] && json "$tmp/p.json" "assert isinstance(r, dict)"' "protocol --json"
DOSE=(dose --mesh "$MESH" --coil "$B70" --centre 0,0,95 --ydir 0,1,0 --target 0,0,80 --tags 3 --field-vpm 100)
"$TMSFIELD" "${DOSE[@]}" --json > "$tmp/d.json" 2> /dev/null
check '[ $? -eq 0 ] && json "$tmp/d.json" "assert isinstance(r, dict)"' "dose --json"

# 2. --quiet
QUIET_CASES=("${SIM[*]} --mso 50 --out $tmp/q.msh" "coils" "targets M1"
             "protocol --preset itbs --rmt 50 --percent-mt 80 --didt-max 155.33" "${DOSE[*]}")
[ $cgal -eq 1 ] && QUIET_CASES+=("mesh $LABELS --out $tmp/q2.msh ${TINY[*]}")
for args in "${QUIET_CASES[@]}"; do
  # shellcheck disable=SC2086
  TMSF_PROGRESS=1 "$TMSFIELD" $args --quiet > "$tmp/q.out" 2> "$tmp/q.err"
  rc=$?
  check '[ $rc -eq 0 ] && [ ! -s "$tmp/q.out" ] && [ ! -s "$tmp/q.err" ]' \
    "--quiet: exit 0 (got $rc), nothing on stdout or stderr (even with TMSF_PROGRESS=1): ${args%% *}"
  # shellcheck disable=SC2086
  "$TMSFIELD" $args --quiet --json > "$tmp/qj.json" 2> "$tmp/q.err"
  case "$args" in
  coils* | targets* | simulate* | mesh* | protocol* | dose*)
    check 'json "$tmp/qj.json" "pass" && [ ! -s "$tmp/q.err" ]' "--quiet --json prints only the JSON: ${args%% *}" ;;
  esac
done
check '[ -s "$tmp/q.msh" ] && { [ $cgal -eq 0 ] || [ -s "$tmp/q2.msh" ]; }' "--quiet still writes the outputs"
"$TMSFIELD" targets NOSUCHTARGET --quiet > "$tmp/q.out" 2> "$tmp/q.err"
check '[ $? -eq 1 ] && [ ! -s "$tmp/q.out" ] && grep -q NOSUCHTARGET "$tmp/q.err"' \
  "targets --quiet: an unknown name exits 1 with the error"

# 3. progress bars
"$TMSFIELD" "${SIM[@]}" --mso 50 > /dev/null 2> "$tmp/np.err"
check '! grep -q "$(printf "\r")" "$tmp/np.err" && ! grep -q "\[###" "$tmp/np.err"' \
  "no progress bar when stderr is a file"
TMSF_PROGRESS=1 "$TMSFIELD" "${SIM[@]}" --mso 50 > /dev/null 2> "$tmp/p.err"
check 'grep -q "$(printf "\r")setup" "$tmp/p.err" && grep -q "solve    \[#*\] 100 %" "$tmp/p.err"' \
  "TMSF_PROGRESS=1: setup and solve bars, the solve reaching 100 %"
if [ $cgal -eq 1 ]; then
  TMSF_PROGRESS=1 "$TMSFIELD" mesh "$LABELS" --out "$tmp/pm.msh" "${TINY[@]}" > /dev/null 2> "$tmp/pm.err"
  check 'grep -q "mesh     \[#*\] 100 %" "$tmp/pm.err"' "TMSF_PROGRESS=1: a meshing bar reaching 100 %"
fi
TMSF_PROGRESS=0 "$TMSFIELD" "${DOSE[@]}" > /dev/null 2> "$tmp/p0.err"
check '! grep -q "\[###" "$tmp/p0.err"' "TMSF_PROGRESS=0: no bar"
if command -v script > /dev/null 2>&1; then
  # a pseudo-terminal: stdout and stderr both go to the typescript
  script -qec "'$TMSFIELD' ${SIM[*]} --mso 50" "$tmp/tty.txt" > /dev/null 2>&1
  check 'grep -q "solve    \[#*\] 100 %" "$tmp/tty.txt" && grep -q "^|E| V/m" "$tmp/tty.txt"' \
    "on a terminal: progress bars and the summary"
  script -qec "'$TMSFIELD' ${SIM[*]} --mso 50 --quiet" "$tmp/ttyq.txt" > /dev/null 2>&1
  check '! grep -q "\[###" "$tmp/ttyq.txt"' "on a terminal with --quiet: no bar"
fi

# 4. exit codes: usage errors 2, library errors 1
for cmd in simulate dose place mesh coils targets protocol version; do
  "$TMSFIELD" $cmd --no-such-option > /dev/null 2> "$tmp/u.err"
  rc=$?
  check '[ $rc -eq 2 ] && [ -s "$tmp/u.err" ]' "$cmd --no-such-option exits 2 with a message (got $rc)"
done
"$TMSFIELD" > /dev/null 2>&1
check '[ $? -eq 2 ]' "no command exits 2"
for args in "simulate --mesh $tmp/none.msh --centre 0,0,95 --ydir 0,1,0 --didt 1e6" \
            "dose --mesh $tmp/none.msh --coil $B70 --centre 0,0,95 --ydir 0,1,0 --target 0,0,80 --field-vpm 100" \
            "place --mesh $tmp/none.msh --target M1" "mesh $tmp/none.nii --out $tmp/none.msh" \
            "coils --dir $tmp/none" "targets --mesh $tmp/none.msh" "protocol --preset nosuchpreset --mso 50"; do
  # shellcheck disable=SC2086
  "$TMSFIELD" $args > /dev/null 2> "$tmp/l.err"
  rc=$?
  check '[ $rc -eq 1 ] && [ -s "$tmp/l.err" ]' "library error exits 1 with a message (got $rc): $args"
done

# 5. TMSF_CLI_PARSE_ONLY: options checked, nothing done
TMSF_CLI_PARSE_ONLY=1 "$TMSFIELD" simulate --mesh "$tmp/none.msh" --centre 0,0,95 --ydir 0,1,0 --didt 1e6 \
  --out "$tmp/po.msh" > "$tmp/po.out" 2>&1
check '[ $? -eq 0 ] && [ ! -s "$tmp/po.out" ] && [ ! -e "$tmp/po.msh" ]' "parse-only: exit 0, nothing done"
TMSF_CLI_PARSE_ONLY=1 "$TMSFIELD" place --head default > /dev/null 2>&1
check '[ $? -eq 2 ]' "parse-only: a usage error still exits 2"

[ $fail -eq 0 ] && echo "cli-scripting: all checks passed"
exit $fail

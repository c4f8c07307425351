#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-coils.sh: `tmsfield coils` — the 25 shipped Drakaki et al. (2022) coils
# with their header values, --json, --dir and TMSF_COIL_PATH, skipped files
# named with file and line, usage errors; `simulate --coil NAME`.
set -u
TMSFIELD=$1
SRC=${TMSF_SOURCE_DIR:-.}
export TMSF_DATA_DIR=${TMSF_DATA_DIR:-$SRC/data}
unset TMSF_COIL_PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }

# 1. the listing: every shipped .ccd of drakaki2022 by name, with dI/dt max
#    (A/us, header line 1) and the dipole count (header line 2) of its file
"$TMSFIELD" coils > "$tmp/list.txt" 2> "$tmp/list.err"
check '[ $? -eq 0 ]' "coils exits 0"
check '[ ! -s "$tmp/list.err" ]' "nothing skipped in the shipped data: $(head -3 "$tmp/list.err")"
n=0
for f in "$SRC"/data/coils/drakaki2022/*.ccd; do
  name=$(basename "$f" .ccd)
  didt=$(head -1 "$f" | sed -n 's/.*dIdtmax=\([0-9.]*\).*/\1/p')
  count=$(sed -n 2p "$f" | tr -d '[:space:]')
  check 'awk -v n="$name" -v d="$didt" -v c="$count" '"'"'$1 == n && $(NF-2) + 0 == d + 0 && $(NF-1) == c {ok=1} END {exit !ok}'"'"' "$tmp/list.txt"' \
    "$name listed with $didt A/us and $count dipoles"
  n=$((n + 1))
done
check '[ $n -eq 25 ]' "25 shipped measured coils (found $n)"
check 'grep -qE "^MagVenture_MC-B70 +MagVenture +MagPro X100 +155\.33 +1447 " "$tmp/list.txt"' "MC-B70 row"
n0=$(sed -n 's/^\([0-9]*\) coils.*/\1/p' "$tmp/list.txt")
check '[ "${n0:-0}" -ge 26 ]' "count line: at least 26 coils (${n0:-none})"

# 2. JSON
"$TMSFIELD" coils --json > "$tmp/list.json"
check '[ $? -eq 0 ]' "coils --json exits 0"
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 - "$tmp/list.json" > "$tmp/json.txt" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = {x["name"]: x for x in d["coils"]}
m = c["MagVenture_MC-B70"]
assert abs(m["didt_max_A_per_us"] - 155.33) < 1e-9 and m["didt_max_A_per_s"] == 155.33e6, m
assert m["dipoles"] == 1447 and m["brand"] == "MagVenture" and m["coilname"] == "MC-B70", m
assert c["Magstim_70mm_Fig8"]["didt_max_A_per_us"] is None
assert sum(1 for x in d["coils"] if "/drakaki2022/" in x["path"]) == 25
assert d["skipped"] == []
assert m["waveform"].endswith("/drakaki2022/MagVenture_MC-B70.tsv"), m
assert sum(1 for x in d["coils"] if x["waveform"]) == 3
print("json ok")
PY
  check 'grep -q "json ok" "$tmp/json.txt"' "JSON content: $(tail -2 "$tmp/json.txt")"
else
  check 'grep -q "\"didt_max_A_per_us\": 155.33" "$tmp/list.json"' "JSON has MC-B70's dI/dt"
fi

# 3. --dir and TMSF_COIL_PATH: listed first; bad files reported with file and line
mkdir -p "$tmp/mine" "$tmp/env"
printf '# mine; dIdtmax=42.5; brand=Acme; stimulator=Box 1; coilname=MyCoil\n2\n0 0 0.01 0 0 1e-6\n0 0.01 0.01 0 0 -1e-6\n' > "$tmp/mine/My_Coil.ccd"
printf '# bad; dIdtmax=100\nabc\n' > "$tmp/mine/bad.ccd"
printf '# env coil; coilname=EnvCoil\n1\n0 0 0.01 0 0 1e-6\n' > "$tmp/env/Env_Coil.ccd"
TMSF_COIL_PATH="$tmp/env" "$TMSFIELD" coils --dir "$tmp/mine" > "$tmp/dir.txt" 2> "$tmp/dir.err"
check '[ $? -eq 0 ]' "coils --dir exits 0"
check 'sed -n 2p "$tmp/dir.txt" | grep -qE "^My_Coil +Acme +Box 1 +42\.50 +2 "' "--dir coil listed first: $(sed -n 2p "$tmp/dir.txt")"
check 'sed -n 3p "$tmp/dir.txt" | grep -qE "^Env_Coil +- +- +- +1 "' "TMSF_COIL_PATH coil next: $(sed -n 3p "$tmp/dir.txt")"
check 'grep -q "^$((n0 + 2)) coils" "$tmp/dir.txt"' "two more coils with --dir and TMSF_COIL_PATH"
check 'grep -q "skipped .*bad.ccd: .*bad.ccd:2: expected the number of dipoles" "$tmp/dir.err"' "bad file named with its line: $(cat "$tmp/dir.err")"

# 4. usage and errors
"$TMSFIELD" coils --help > "$tmp/h.txt"
check '[ $? -eq 0 ] && grep -q "example" "$tmp/h.txt" && grep -q -- "--dir" "$tmp/h.txt"' "coils --help"
"$TMSFIELD" --help | grep -q "coils"
check '[ $? -eq 0 ]' "main help names coils"
"$TMSFIELD" coils --bogus > /dev/null 2>&1
check '[ $? -eq 2 ]' "unknown option exits 2"
"$TMSFIELD" coils --dir > /dev/null 2>&1
check '[ $? -eq 2 ]' "--dir without a value exits 2"
"$TMSFIELD" coils --dir "$tmp/nosuch" > /dev/null 2> "$tmp/e.txt"
check '[ $? -eq 1 ] && grep -q "$tmp/nosuch" "$tmp/e.txt"' "missing --dir exits 1 naming it"

# 5. simulate with a coil name: --mso uses the catalogue coil's dIdtmax
MESH=$SRC/data/spheres/sphere3.msh
"$TMSFIELD" simulate --mesh "$MESH" --coil MagVenture_MC-B70 --centre 0,0,95 --ydir 0,1,0 --mso 50 \
  --out "$tmp/s.msh" > "$tmp/s.txt" 2>&1
check '[ $? -eq 0 ] && [ -s "$tmp/s.msh" ] && grep -q "77.66 A/us (50.0 % MSO)" "$tmp/s.txt"' \
  "simulate --coil MagVenture_MC-B70 --mso 50: 155.33 / 2 = 77.665 A/us, printed 77.66 ($(grep -m1 "A/us" "$tmp/s.txt"))"
"$TMSFIELD" simulate --mesh "$MESH" --coil MagVenture_MC-B71 --centre 0,0,95 --ydir 0,1,0 --mso 50 \
  --out "$tmp/u.msh" > "$tmp/u.txt" 2>&1
check '[ $? -eq 1 ] && [ ! -e "$tmp/u.msh" ] && grep -q "near matches: MagVenture_MC-B70" "$tmp/u.txt"' \
  "unknown coil name: exit 1, near matches, no output"

[ $fail -eq 0 ] && echo "cli-coils: all checks passed"
exit $fail

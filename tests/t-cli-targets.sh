#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-targets.sh: `tmsfield targets` (table, JSON, one name, errors) and the
# --head option of simulate and dose (a .msh spec gives the same result as
# --mesh; conflicting or incomplete head options are usage errors; a bad spec
# is a library error naming it).
set -u
TMSFIELD=$1
SRC=${TMSF_SOURCE_DIR:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; [ -f "$tmp/u.txt" ] && sed "s/^/    | /" "$tmp/u.txt"; fail=1; fi; }
MESH=$SRC/data/spheres/sphere3.msh
B70=$SRC/data/coils/drakaki2022/MagVenture_MC-B70.ccd
export TMSF_CACHE_DIR=$tmp/cache

"$TMSFIELD" --help | grep -q "^  targets "
check '[ $? -eq 0 ]' "tmsfield --help lists targets"
"$TMSFIELD" targets --help > "$tmp/help.txt"
check '[ $? -eq 0 ] && grep -q "affine" "$tmp/help.txt"' "targets --help"

# the table: the coordinates
"$TMSFIELD" targets > "$tmp/t.txt"
check '[ $? -eq 0 ]' "targets exits 0"
for row in "M1 -37,-21,58" "M1-right 37,-21,58" "DLPFC -41,16,54" "F3 -37,26,49" "BA9 -36,39,43" \
           "BA46 -44,40,29" "Fox -38,44,26"; do
  name=${row% *} coords=${row#* }
  check 'grep -Eq "^$name +$coords " "$tmp/t.txt"' "table row $name at $coords"
done
check 'grep -q "Fox MD" "$tmp/t.txt" && grep -q "Beam W" "$tmp/t.txt" && grep -q "Yousry" "$tmp/t.txt"' "citations listed"

# JSON: parses, all entries, M1 values
"$TMSFIELD" targets --json > "$tmp/t.json"
check 'python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
m = {t[\"name\"]: t for t in d}
assert len(d) >= 11, len(d)
assert m[\"M1\"][\"mni_mm\"] == [-37, -21, 58]
assert m[\"DLPFC\"][\"mni_mm\"] == [-41, 16, 54]
assert all(t[\"citation\"] for t in d)
" "$tmp/t.json"' "targets --json"

# one target, case-insensitive
"$TMSFIELD" targets dlpfc > "$tmp/one.txt"
check '[ $? -eq 0 ] && [ $(grep -c "^DLPFC " "$tmp/one.txt") -eq 1 ] && ! grep -q "^M1 " "$tmp/one.txt"' "targets dlpfc"

usage() { "$TMSFIELD" "$@" > "$tmp/u.txt" 2>&1; echo $?; }
check '[ $(usage targets hippocampus) -eq 1 ] && grep -q "no target named .hippocampus.; the targets are M1, M1-right, DLPFC" "$tmp/u.txt"' "unknown target"
check '[ $(usage targets --bogus) -eq 2 ]' "unknown option"
check '[ $(usage targets M1 DLPFC) -eq 2 ]' "two names"
check '[ $(usage targets M1 --affine 1,0,0) -eq 2 ]' "short affine"
check '[ $(usage targets M1 --affine 1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1) -eq 2 ] && grep -q "needs --head" "$tmp/u.txt"' "affine without head"
# sphere3 has no grey matter: a library error naming the tag
check '[ $(usage targets M1 --mesh "$MESH") -eq 1 ] && grep -q "no tetrahedra of tag 2" "$tmp/u.txt"' "projection without GM"

# --head on simulate: a .msh spec gives what --mesh gives
SIM=(--coil "$B70" --centre 0,0,95 --ydir 0,1,0 --mso 50 --quiet)
"$TMSFIELD" simulate --mesh "$MESH" "${SIM[@]}" --out "$tmp/a.msh" > "$tmp/u.txt" 2>&1
check '[ $? -eq 0 ]' "simulate --mesh"
"$TMSFIELD" simulate --head "$MESH" "${SIM[@]}" --out "$tmp/b.msh" > "$tmp/u.txt" 2>&1
check '[ $? -eq 0 ] && cmp -s "$tmp/a.msh" "$tmp/b.msh"' "simulate --head FILE.msh equals --mesh FILE.msh"
check '[ $(usage simulate --mesh "$MESH" --head "$MESH" "${SIM[@]}" --out "$tmp/c.msh") -eq 2 ] && grep -q "not both" "$tmp/u.txt" && [ ! -e "$tmp/c.msh" ]' "simulate: --mesh and --head"
check '[ $(usage simulate "${SIM[@]}" --out "$tmp/c.msh") -eq 2 ] && grep -q -- "--head default" "$tmp/u.txt"' "simulate: no head"
check '[ $(usage simulate --mesh "$MESH" --head-preset colin27 "${SIM[@]}" --out "$tmp/c.msh") -eq 2 ]' "simulate: --head-preset without --head"
check '[ $(usage simulate --head "$tmp/head.stl" "${SIM[@]}" --out "$tmp/c.msh") -eq 1 ] && grep -q "head.stl" "$tmp/u.txt" && [ ! -e "$tmp/c.msh" ]' "simulate: bad head spec"
check '[ $(usage simulate --head "$tmp/missing.nii.gz" "${SIM[@]}" --out "$tmp/c.msh") -eq 1 ] && grep -q "missing.nii.gz" "$tmp/u.txt"' "simulate: missing label volume"

# --head on dose
DOSE=(--coil "$B70" --centre 0,0,95 --ydir 0,1,0 --target 0,0,80 --radius 10 --tags 3 --metric p99 --field-vpm 100)
"$TMSFIELD" dose --mesh "$MESH" "${DOSE[@]}" > "$tmp/d1.txt" 2>&1
"$TMSFIELD" dose --head "$MESH" "${DOSE[@]}" > "$tmp/d2.txt" 2>&1
check '[ $? -eq 0 ] && grep -q "% MSO" "$tmp/d2.txt" && diff -q <(grep output "$tmp/d1.txt") <(grep output "$tmp/d2.txt") > /dev/null' "dose --head FILE.msh equals --mesh"
check '[ $(usage dose --mesh "$MESH" --head default "${DOSE[@]}") -eq 2 ]' "dose: --mesh and --head"

exit $fail

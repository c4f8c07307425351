#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli.sh: the tmsfield command line — simulate with a centre or a pose gives
# the same field, --mso scales by the coil's dIdtmax and fails clearly without
# one, --help and version work, usage errors exit with 2.
set -u
TMSFIELD=$1
SRC=${TMSF_SOURCE_DIR:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }

MESH=$SRC/data/spheres/sphere3.msh
COIL=$SRC/data/coils/Magstim_70mm_Fig8.ccd
TCOIL=$SRC/tests/data/testcoil.ccd

# 1. centre + ydir: output written, summary printed
"$TMSFIELD" simulate --mesh "$MESH" --coil "$COIL" --centre 0,0,95 --ydir 0,1,0 --distance 4 \
  --didt 1e6 --out "$tmp/a.msh" > "$tmp/a.txt" 2>&1
check '[ $? -eq 0 ]' "simulate with --centre exits 0"
check '[ -s "$tmp/a.msh" ]' "output written"
check 'grep -q "4556 nodes, 22704 tetrahedra" "$tmp/a.txt"' "summary names the sizes"
check 'grep -q "^|E| V/m" "$tmp/a.txt"' "percentile table printed"
check 'grep -qE "^ +3 +CSF" "$tmp/a.txt"' "per-tissue row for tag 3"
check 'grep -q "solve" "$tmp/a.txt"' "phase times printed"

# 2. the same pose as 16 numbers (read back from the summary's axes would lose
#    digits, so build it: sphere3's top scalp node is at (0.01, 0.01, 95) mm)
pose=$(awk '/^pose/ {gsub(/[(),]/," "); print $3, $4, $5, $8, $9, $10, $12, $13, $14}' "$tmp/a.txt")
check '[ -n "$pose" ]' "pose line parsed"
read -r cx cy cz zx zy zz yx yy yz <<< "$pose"
# x = y cross z
xx=$(awk -v a="$yy" -v b="$zz" -v c="$yz" -v d="$zy" 'BEGIN{print a*b-c*d}')
xy=$(awk -v a="$yz" -v b="$zx" -v c="$yx" -v d="$zz" 'BEGIN{print a*b-c*d}')
xz=$(awk -v a="$yx" -v b="$zy" -v c="$yy" -v d="$zx" 'BEGIN{print a*b-c*d}')
"$TMSFIELD" simulate --mesh "$MESH" --coil "$COIL" \
  --pose "$xx,$yx,$zx,$cx,$xy,$yy,$zy,$cy,$xz,$yz,$zz,$cz,0,0,0,1" --didt 1e6 --out "$tmp/b.msh" > "$tmp/b.txt" 2>&1
rc=$?
# printed axes have 3 decimals: the pose is orthonormal only to ~1e-3, which
# the library must reject as a shear -- a real user gives full precision
check '[ $rc -eq 1 ] && grep -q "not orthonormal" "$tmp/b.txt"' "a rounded pose is rejected as not a rotation"
"$TMSFIELD" simulate --mesh "$MESH" --coil "$COIL" \
  --pose 1 0 0 0  0 1 0 0  0 0 1 -99  0 0 0 1 --didt 1e6 --out "$tmp/c.msh" > "$tmp/c.txt" 2>&1
check '[ $? -eq 0 ] && [ -s "$tmp/c.msh" ]' "space-separated --pose works"

# 3. --mso with a coil that has dIdtmax (testcoil: 100 A/us): 50 % = 50 A/us
"$TMSFIELD" simulate --mesh "$MESH" --coil "$TCOIL" --centre 0,0,95 --ydir 0,1,0 --mso 50 \
  --out "$tmp/m.msh" > "$tmp/m.txt" 2>&1
check '[ $? -eq 0 ] && grep -q "50.00 A/us (50.0 % MSO)" "$tmp/m.txt"' "--mso 50 gives 50 A/us"
"$TMSFIELD" simulate --mesh "$MESH" --coil "$TCOIL" --centre 0,0,95 --ydir 0,1,0 --didt 5e7 \
  --out "$tmp/d.msh" > "$tmp/d.txt" 2>&1
max_m=$(awk '$1==3 {print $NF}' "$tmp/m.txt"); max_d=$(awk '$1==3 {print $NF}' "$tmp/d.txt")
check '[ -n "$max_m" ] && [ "$max_m" = "$max_d" ]' "--mso 50 equals --didt 5e7 ($max_m vs $max_d)"

# 4. --mso without dIdtmax fails clearly and writes nothing
"$TMSFIELD" simulate --mesh "$MESH" --coil "$COIL" --centre 0,0,95 --ydir 0,1,0 --mso 50 \
  --out "$tmp/x.msh" > "$tmp/x.txt" 2>&1
rc=$?
check '[ $rc -eq 1 ]' "--mso without dIdtmax exits 1 (got $rc)"
check 'grep -q "dIdtmax" "$tmp/x.txt" && grep -q "Magstim_70mm_Fig8.ccd" "$tmp/x.txt"' "message names dIdtmax and the coil file"
check '[ ! -e "$tmp/x.msh" ]' "nothing written"

# 5. usage errors exit 2
for args in "" "--mesh $MESH" "--mesh $MESH --coil $COIL --out $tmp/u.msh --didt 1e6" \
            "--mesh $MESH --coil $COIL --out $tmp/u.msh --centre 0,0,95 --ydir 0,1,0" \
            "--mesh $MESH --coil $COIL --out $tmp/u.msh --centre 0,0 --ydir 0,1,0 --didt 1" \
            "--mesh $MESH --coil $COIL --out $tmp/u.msh --centre 0,0,95 --ydir 0,1,0 --didt 1 --mso 5" \
            "--bogus"; do
  # shellcheck disable=SC2086
  "$TMSFIELD" simulate $args > "$tmp/u.txt" 2>&1
  rc=$?
  check '[ $rc -eq 2 ]' "usage error for '$args' exits 2 (got $rc)"
done
check '[ ! -e "$tmp/u.msh" ]' "no output on usage errors"

# 6. help and version
"$TMSFIELD" simulate --help > "$tmp/h.txt"
check '[ $? -eq 0 ] && grep -q "example" "$tmp/h.txt" && grep -q -- "--mso" "$tmp/h.txt"' "simulate --help"
"$TMSFIELD" --help > "$tmp/h2.txt"
check '[ $? -eq 0 ] && grep -q simulate "$tmp/h2.txt"' "--help"
"$TMSFIELD" version | grep -q "tmsfield 0"
check '[ $? -eq 0 ]' "version"
"$TMSFIELD" frobnicate > /dev/null 2>&1
check '[ $? -eq 2 ]' "unknown command exits 2"

[ $fail -eq 0 ] && echo "cli: all checks passed"
exit $fail

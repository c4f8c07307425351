#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-mesh.sh: `tmsfield mesh` on a tiny label volume (the fuzz seed
# uint8-sform.nii: a 6^3 grid of 2 mm voxels, labels 2 inside 5), the report,
# the tags written, and usage/library errors that leave --out alone.
set -u
tool=$1
src=${TMSF_SOURCE_DIR:?}
work=$(mktemp -d "${TMPDIR:-/tmp}/tmsf-cli-mesh.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
in=$src/tests/fuzz/corpus-labels/uint8-sform.nii
"$tool" mesh "$in" --out "$work/m.msh" --cell-size 1 --cell-size-fine 1 --facet-size 1 \
  --facet-size-fine 1 --facet-distance 0.2 --threads 1 > "$work/out.txt" 2> "$work/err.txt"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: mesh exit $rc: $(cat "$work/err.txt")"; fail=1; }
[ -s "$work/m.msh" ] || { echo "FAIL: no mesh written"; fail=1; }
grep -q "inverted tetrahedra: 0" "$work/out.txt" || { echo "FAIL: report lacks 0 inverted"; cat "$work/out.txt"; fail=1; }
grep -Eq "^ +2 GM " "$work/out.txt" || { echo "FAIL: no GM row"; fail=1; }
grep -Eq "^ +5 scalp " "$work/out.txt" || { echo "FAIL: no scalp row"; fail=1; }
grep -q "1002" "$work/out.txt" && grep -q "1005" "$work/out.txt" || { echo "FAIL: surfaces"; fail=1; }
# usage errors: exit 2, --out untouched
"$tool" mesh "$in" > /dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: missing --out not exit 2"; fail=1; }
"$tool" mesh "$in" --out "$work/x.msh" --cell-size -1 > /dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: negative cell size"; fail=1; }
# library errors: exit 1, message names the file, --out not created
"$tool" mesh "$in" --out "$work/y.msh" --preset 1=1 > /dev/null 2> "$work/e2.txt"
[ $? -eq 1 ] || { echo "FAIL: unmapped label not exit 1"; fail=1; }
grep -q "label 2\|label 5" "$work/e2.txt" && grep -q "uint8-sform.nii" "$work/e2.txt" || { echo "FAIL: message: $(cat "$work/e2.txt")"; fail=1; }
[ -e "$work/y.msh" ] && { echo "FAIL: --out created on error"; fail=1; }
"$tool" mesh "$work/none.nii" --out "$work/z.msh" > /dev/null 2>&1; [ $? -eq 1 ] || { echo "FAIL: missing file"; fail=1; }
"$tool" mesh --help | grep -q "preset" || { echo "FAIL: help"; fail=1; }
[ $fail -eq 0 ] && echo "t-cli-mesh: all checks passed"
exit $fail

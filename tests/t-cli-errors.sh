#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-errors.sh: `tmsfield simulate` on bad input exits non-zero, names the bad file, and never creates or alters --out.
#
#   t-cli-errors.sh PATH/TO/tmsfield        (TMSF_SOURCE_DIR: the source tree)
set -u
exe=${1:?usage: t-cli-errors.sh TMSFIELD}
src=${TMSF_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tmsf-cli-errors.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

mesh="$src/data/spheres/sphere3.msh"
coil="$src/tests/data/testcoil.ccd"
pose="1,0,0,0,0,1,0,0,0,0,1,150,0,0,0,1"

# Bad inputs, derived from the real files.
head -c 60000 "$mesh" > "$tmp/cut.msh"
sed '2s/.*/27x2/' "$src/data/coils/Magstim_70mm_Fig8.ccd" > "$tmp/badcount.ccd"
head -c 40000 "$src/tests/data/testcoil.nii.gz" > "$tmp/cut.nii.gz"
# one tetrahedron tagged 42, which has no conductivity
cat > "$tmp/tag42.msh" <<'EOF'
$MeshFormat
2.2 0 8
$EndMeshFormat
$Nodes
4
1 0 0 0
2 10 0 0
3 0 10 0
4 0 0 10
$EndNodes
$Elements
1
1 4 2 42 42 1 2 3 4
$EndElements
EOF
sed 's/ 42 42 / 5 5 /' "$tmp/tag42.msh" > "$tmp/tet.msh"

# run NAME WANT_RC WANT_TEXT OUT ARGS...: runs `tmsfield simulate ARGS --out OUT`
# with OUT absent, then with OUT present, checking the exit code, the message
# and that OUT is never created or changed.
run() {
  local name=$1 want_rc=$2 want_text=$3 out=$4
  shift 4
  for pre in absent present; do
    # an --out in a directory that does not exist can only be absent
    if [ "$pre" = present ] && [ ! -d "$(dirname "$out")" ]; then continue; fi
    rm -f "$out"
    if [ "$pre" = present ]; then
      printf 'precious %s\n' "$name" > "$out"
      cp "$out" "$tmp/expected"
    fi
    "$exe" simulate "$@" --out "$out" > "$tmp/stdout" 2> "$tmp/stderr"
    local rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
      fail "$name ($pre): exit code $rc, want $want_rc; stderr: $(head -c 500 "$tmp/stderr")"
    fi
    if ! grep -qF -- "$want_text" "$tmp/stderr"; then
      fail "$name ($pre): stderr does not contain '$want_text': $(head -c 500 "$tmp/stderr")"
    fi
    if [ "$pre" = absent ] && [ -e "$out" ]; then
      fail "$name: $out was created"
    fi
    if [ "$pre" = present ] && ! cmp -s "$out" "$tmp/expected"; then
      fail "$name: existing $out was changed"
    fi
    if compgen -G "$out.tmp.*" > /dev/null; then
      fail "$name ($pre): temporary files left: $(ls "$out".tmp.*)"
    fi
  done
  rm -f "$out"
}

out="$tmp/out.msh"
run cut-mesh 1 "$tmp/cut.msh" "$out" --mesh "$tmp/cut.msh" --coil "$coil" --pose "$pose" --didt 1e6
run missing-mesh 1 "$tmp/nosuch.msh" "$out" --mesh "$tmp/nosuch.msh" --coil "$coil" --pose "$pose" --didt 1e6
run bad-ccd 1 "$tmp/badcount.ccd:2:" "$out" --mesh "$tmp/tet.msh" --coil "$tmp/badcount.ccd" --pose "$pose" --didt 1e6
run cut-nifti 1 "$tmp/cut.nii.gz" "$out" --mesh "$tmp/tet.msh" --coil "$tmp/cut.nii.gz" --pose "$pose" --didt 1e6
run shear-pose 1 "not orthonormal" "$out" --mesh "$tmp/tet.msh" --coil "$coil" \
  --pose "1,0.2,0,0,0,1,0,0,0,0,1,150,0,0,0,1" --didt 1e6
run reflected-pose 1 "determinant" "$out" --mesh "$tmp/tet.msh" --coil "$coil" \
  --pose "-1,0,0,0,0,1,0,0,0,0,1,150,0,0,0,1" --didt 1e6
run tag42 1 "tag 42" "$out" --mesh "$tmp/tag42.msh" --coil "$coil" --pose "$pose" --didt 1e6
run no-didt 2 "--didt" "$out" --mesh "$tmp/tet.msh" --coil "$coil" --pose "$pose"
# The output directory does not exist: the simulation succeeds, the write fails.
run no-dir 1 "$tmp/nodir/out.msh" "$tmp/nodir/out.msh" --mesh "$tmp/tet.msh" --coil "$coil" \
  --pose "$pose" --didt 1e6

# Control: the same small case with a writable --out succeeds and writes a mesh.
if "$exe" simulate --mesh "$tmp/tet.msh" --coil "$coil" --pose "$pose" --didt 1e6 \
  --out "$out" --quiet > "$tmp/stdout" 2> "$tmp/stderr"; then
  head -c 11 "$out" | grep -q '^\$MeshFormat' || fail "control: $out is not a Gmsh file"
else
  fail "control: simulate failed: $(head -c 500 "$tmp/stderr")"
fi

if [ "$fails" -ne 0 ]; then
  echo "cli-errors: $fails check(s) failed" >&2
  exit 1
fi
echo "cli-errors: all checks passed"

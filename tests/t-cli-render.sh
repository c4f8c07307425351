#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-render.sh: `tmsfield render` on the test sphere (surface 1003 as the "cortex"): the cortex
# picture solved on the fly, from a field file and from a placement directory, the slice picture
# of a NIfTI field; the PNGs are decoded with Python's zlib (signature, chunk CRCs, IHDR size,
# inflated scanlines with the five PNG filters undone, colours that vary) and the --json report
# is checked: by symmetry the |E| maximum on a sphere under a figure-8 lies on the coil axis, so
# the brightest pixel must lie within 0.8 surface edges (7.6 mm; mean edge 9.5 mm) of the coil
# centre's projection and the centroid of the pixels >= 90 % of it within 3.5 mm (t-render.c
# explains the tolerances).  Usage errors exit 2, library errors exit 1 and write nothing.
#
#   t-cli-render.sh PATH/TO/tmsfield        (TMSF_SOURCE_DIR: the source tree)
set -u
exe=${1:?usage: t-cli-render.sh TMSFIELD}
src=${TMSF_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tmsf-cli-render.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
py=/usr/bin/python3
mesh="$src/data/spheres/sphere3.msh"
coil="$src/data/coils/Magstim_70mm_Fig8.ccd"
pose=(--coil "$coil" --centre 30,20,90 --ydir 0,1,0)

# check_png FILE [WIDTH HEIGHT]: a valid 8-bit RGB PNG of that size with varied colours
check_png() { "$py" "$src/tests/check-png.py" "$@"; }

# check-json FILE KEY... : the report's cortex hotspot near the coil centre's projection
check_hotspot() {
  "$py" - "$1" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))['cortex']
d, d90 = r['hotspot_to_coil_centre_mm'], r['hot_region_to_coil_centre_mm']
print('hotspot %.2f mm (>= 90 %% region %.2f mm) from the coil centre projection, %.1f V/m, range %g..%g' %
      (d, d90, r['hotspot_V_per_m'], r['vmin_V_per_m'], r['vmax_V_per_m']))
assert d < 7.6, 'hotspot %.2f mm from the coil centre projection (> 7.6 mm)' % d
assert d90 < 3.5, 'hot region %.2f mm from the coil centre projection (> 3.5 mm)' % d90
assert 0 < r['vmax_V_per_m'] <= r['max_V_per_m'], 'colour range within the surface values'
PYEOF
}

# 1. solved on the fly
"$exe" render --mesh "$mesh" --surface 1003 "${pose[@]}" --didt 1e8 --out "$tmp/a.png" --json \
  --size 640x480 >"$tmp/a.json" || fail "render --mesh ... --json"
check_png "$tmp/a.png" 640 480 || fail "a.png"
check_hotspot "$tmp/a.json" || fail "hotspot of a.png"

# 2. from a field file and a NIfTI (a 2 mm grid made with nibabel)
"$py" - "$tmp/ref.nii.gz" <<'PYEOF' || fail "cannot make the reference grid with nibabel"
import sys, numpy as np, nibabel as nib
A = np.diag([2.0, 2.0, 2.0, 1.0]); A[:3, 3] = -100
img = nib.Nifti1Image(np.zeros((101, 101, 101), np.uint8), A)
img.set_sform(A, code=4)
nib.save(img, sys.argv[1])
PYEOF
"$exe" simulate --mesh "$mesh" "${pose[@]}" --didt 1e8 --out "$tmp/E.msh" --nifti "$tmp/magnE.nii.gz" \
  --nifti-ref "$tmp/ref.nii.gz" --quiet || fail "simulate"
"$exe" render --field "$tmp/E.msh" --surface 1003 "${pose[@]}" --view top --out "$tmp/b.png" --size 480x360 \
  --nifti "$tmp/magnE.nii.gz" --point max --slices "$tmp/c.png" >"$tmp/b.txt" || fail "render --field --slices"
grep -q "^cortex .*b.png" "$tmp/b.txt" && grep -q "^slices .*c.png" "$tmp/b.txt" || fail "summary lines: $(cat "$tmp/b.txt")"
check_png "$tmp/b.png" 480 360 || fail "b.png"
check_png "$tmp/c.png" || fail "c.png"

# 3. a placement on the sphere ('place --out DIR': field.msh, placement.json), then render from it
"$exe" place --mesh "$mesh" --target 30,20,75 --tags 3 --coil "$coil" --search-radius 6 --spacing 3 \
  --angle-step 30 --out "$tmp/pl" --quiet || fail "place on the sphere"
cp "$tmp/magnE.nii.gz" "$tmp/pl/magnE.nii.gz" # a .msh head gets no NIfTI from place
"$exe" render --placement "$tmp/pl" --surface 1003 --size 480x360 --out "$tmp/d.png" --slices "$tmp/e.png" \
  --json >"$tmp/d.json" || fail "render --placement"
check_png "$tmp/d.png" || fail "d.png"
check_png "$tmp/e.png" || fail "e.png"
check_hotspot "$tmp/d.json" || fail "hotspot of d.png"
"$py" -c "
import json, re, sys
r = json.load(open(sys.argv[1]))
p = json.loads(re.sub(r'\bnan\b', 'NaN', open(sys.argv[2]).read()))  # place writes nan without a dI/dt max
s, c = r['slices'], r['cortex']
assert max(abs(a - b) for a, b in zip(s['point_mm'], p['target_gm_mm'])) < 1e-3, 'slices through the target'
assert 'target_px' in c and 'coil_centre_px' in c, 'target and coil marked'
" "$tmp/d.json" "$tmp/pl/placement.json" || fail "the placement's pose and target used"

# 4. help, usage errors (exit 2)
"$exe" render --help >"$tmp/help" || fail "--help exit 0"
grep -q "examples" "$tmp/help" && grep -q "tmsfield render --placement" "$tmp/help" || fail "--help shows examples"
"$exe" --help | grep -q "render" || fail "render listed in tmsfield --help"
for bad in "" "--field $tmp/E.msh" "--out $tmp/u.png" "--field $tmp/E.msh --out $tmp/u.png --view sideways" \
           "--field $tmp/E.msh --out $tmp/u.png --size 10x10" "--field $tmp/E.msh --out $tmp/u.png --range 5,1" \
           "--slices $tmp/u.png" "--field $tmp/E.msh --out $tmp/u.png --bogus"; do
  # shellcheck disable=SC2086
  "$exe" render $bad 2>"$tmp/err" >/dev/null
  rc=$?
  [ $rc -eq 2 ] || fail "render $bad: exit $rc, expected 2"
  grep -q "render --help" "$tmp/err" || fail "render $bad: points to --help"
done
[ ! -e "$tmp/u.png" ] || fail "a usage error wrote a file"

# 5. library errors (exit 1), nothing written
for bad in "--field $tmp/missing.msh --out $tmp/v.png" "--field $mesh --surface 1003 --out $tmp/v.png" \
           "--nifti $tmp/missing.nii.gz --slices $tmp/v.png" "--field $tmp/E.msh --surface 1002 --out $tmp/v.png" \
           "--placement $tmp/nowhere --out $tmp/v.png"; do
  # shellcheck disable=SC2086
  "$exe" render $bad 2>"$tmp/err" >/dev/null
  rc=$?
  [ $rc -eq 1 ] || fail "render $bad: exit $rc, expected 1 ($(cat "$tmp/err"))"
  grep -q "error" "$tmp/err" || fail "render $bad: a message"
done
"$exe" render --field "$tmp/E.msh" --surface 1003 --out "$tmp/no/dir/v.png" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "no/dir/v.png" "$tmp/err" || fail "unwritable output: exit 1 naming it"
[ ! -e "$tmp/v.png" ] || fail "a failed render wrote a file"
ls "$tmp"/*.tmp.* >/dev/null 2>&1 && fail "temporary files left"

# 6. --quiet
out=$("$exe" render --field "$tmp/E.msh" --surface 1003 --out "$tmp/q.png" --quiet 2>&1)
[ -z "$out" ] && [ -s "$tmp/q.png" ] || fail "--quiet prints nothing and writes the picture"

if [ $fails -ne 0 ]; then
  echo "t-cli-render: $fails failure(s)" >&2
  exit 1
fi
echo "t-cli-render: all checks passed"

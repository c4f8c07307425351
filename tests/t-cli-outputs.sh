#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-outputs.sh: `tmsfield simulate --nifti/--hdf5/--gifti` on the test sphere; the files are
# checked with h5py and nibabel (tests/check-outputs.py, /usr/bin/python3); a bad output path
# fails with exit 1, names the path, and leaves neither --out nor a temporary file.
#
#   t-cli-outputs.sh PATH/TO/tmsfield        (TMSF_SOURCE_DIR: the source tree)
set -u
exe=${1:?usage: t-cli-outputs.sh TMSFIELD}
src=${TMSF_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tmsf-cli-outputs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
py=/usr/bin/python3

mesh="$src/data/spheres/sphere3.msh"
coil="$src/data/coils/Magstim_70mm_Fig8.ccd"
common=(simulate --mesh "$mesh" --coil "$coil" --centre 0,0,95 --ydir 0,1,0 --didt 1e6 --quiet)

# a reference grid: 3 mm voxels, oblique sform (MNI code), qform from it (scanner code)
"$py" - "$tmp/ref.nii.gz" <<'PYEOF' || fail "cannot make the reference grid with nibabel"
import sys, numpy as np, nibabel as nib
a = np.deg2rad(15.0)
R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
A = np.eye(4)
A[:3, :3] = R * 3.0
A[:3, 3] = -A[:3, :3] @ np.array([33.0, 33.0, 33.0])
img = nib.Nifti1Image(np.zeros((67, 67, 67), np.uint8), A)
img.set_sform(A, code=4)
img.set_qform(A, code=1)
nib.save(img, sys.argv[1])
PYEOF

"$exe" "${common[@]}" --out "$tmp/E.msh" --nifti "$tmp/magnE.nii.gz" --nifti-ref "$tmp/ref.nii.gz" \
  --nifti-tags 3 --hdf5 "$tmp/E.h5" --gifti "$tmp/inner" --gifti-tag 1003 ||
  fail "simulate with --nifti --hdf5 --gifti"
for f in E.msh magnE.nii.gz E.h5 inner.surf.gii inner.func.gii; do
  [ -s "$tmp/$f" ] || fail "$f not written"
done
"$py" "$src/tests/check-outputs.py" --h5 "$tmp/E.h5" --gifti "$tmp/inner" --surface-tag 1003 \
  --nifti "$tmp/magnE.nii.gz" --ref "$tmp/ref.nii.gz" || fail "check-outputs.py"

"$exe" "${common[@]}" --out "$tmp/E2.msh" --nifti "$tmp/E.nii" --nifti-ref "$tmp/ref.nii.gz" --nifti-vector \
  --output-sampling recovered || fail "simulate --nifti-vector --output-sampling recovered"
"$py" "$src/tests/check-outputs.py" --nifti "$tmp/E.nii" --ref "$tmp/ref.nii.gz" --vector || fail "vector image"

# usage errors: exit 2
"$exe" "${common[@]}" --out "$tmp/u.msh" --nifti "$tmp/u.nii.gz" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "--nifti-ref" "$tmp/err" || fail "--nifti without --nifti-ref: exit 2 naming --nifti-ref"
"$exe" "${common[@]}" --out "$tmp/u.msh" --output-sampling nearest 2>"$tmp/err"
[ $? -eq 2 ] || fail "--output-sampling nearest: exit 2"
# library errors: exit 1, the path named, nothing written
for bad in "--hdf5 $tmp/no/dir/x.h5" "--nifti $tmp/no/dir/x.nii.gz --nifti-ref $tmp/ref.nii.gz" \
           "--gifti $tmp/no/dir/x" "--nifti $tmp/x.nii.gz --nifti-ref $tmp/missing.nii.gz" \
           "--gifti $tmp/x --gifti-tag 1002"; do
  # shellcheck disable=SC2086
  "$exe" "${common[@]}" --out "$tmp/bad.msh" $bad 2>"$tmp/err"
  rc=$?
  [ $rc -eq 1 ] || fail "$bad: exit $rc, expected 1"
  grep -q "error:" "$tmp/err" || fail "$bad: no error message"
  [ -e "$tmp/bad.msh" ] && fail "$bad: --out written"
done
grep -q "1002" "$tmp/err" || fail "the missing surface tag is named: $(cat "$tmp/err")"
ls "$tmp" | grep -q '\.tmp\.' && fail "temporary files left: $(ls "$tmp")"
[ -e "$tmp/x.nii.gz" ] && fail "x.nii.gz written from a missing reference"

[ $fails -eq 0 ] && echo "t-cli-outputs: all checks passed"
exit $((fails > 0))

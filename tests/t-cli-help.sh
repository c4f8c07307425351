#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-help.sh: `tmsfield --help` and every subcommand's --help exit 0, state
# the exit codes and show an "examples" block; every example in it runs from
# a copy of the source tree (data/ and tests/ linked into a fresh directory,
# the examples of a command in order, so one may use the files of another)
# and exits 0, and the examples printing --json print one valid JSON document.
#
#   t-cli-help.sh TMSFIELD [fast|full] [CACHE_DIR]
#
# fast (the cli suite): examples that need the built-in head or a minute of
# meshing (SLOW below) only have their command line checked
# (TMSF_CLI_PARSE_ONLY=1: options parsed and validated, nothing run).
# full (the slow suite): every example runs; the built-in head is meshed once
# into CACHE_DIR (TMSF_CACHE_DIR) or taken from there.
#
# Conventions this test relies on (docs/cli.md): the examples block starts at
# a line beginning with "example" and runs to the end of the help; an example
# is a line starting with "  tmsfield ", continued while a line ends in "\".
set -u
TMSFIELD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
MODE=${2:-fast}
SRC=$(cd "${TMSF_SOURCE_DIR:-.}" && pwd)
PY=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/tmsf-cli-help.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
nrun=0
nparse=0

# the examples' relative paths resolve as in the source tree; outputs land in $work
ln -s "$SRC/data" "$work/data"
ln -s "$SRC/tests" "$work/tests"
mkdir "$work/bin"
ln -s "$TMSFIELD" "$work/bin/tmsfield"
export PATH="$work/bin:$PATH"
[ "$MODE" = full ] && [ -n "${3:-}" ] && export TMSF_CACHE_DIR="$3"
cd "$work" || exit 1

# examples that are slow: the built-in head (meshed at first use, ~35 s per
# placement) and the full-resolution Colin27 mesh
SLOW=('--head default' '--out colin27.msh')
# a build without CGAL (-Dcgal=disabled) cannot mesh: its mesh examples are checked like the slow ones
if ! tmsfield mesh "$SRC/tests/fuzz/corpus-labels/uint8-sform.nii" --out "$work/probe.msh" --cell-size 1 \
  --cell-size-fine 1 --facet-size 1 --facet-size-fine 1 --facet-distance 0.2 --threads 1 --quiet 2> "$work/probe.err" &&
  grep -q CGAL "$work/probe.err"; then
  echo "cli-help: no CGAL in this build: mesh examples checked for their options only"
  SLOW+=('tmsfield mesh ')
fi
rm -f "$work/probe.msh" "$work/probe.err"
is_slow() {
  local p
  for p in "${SLOW[@]}"; do
    case "$1" in *"$p"*) return 0 ;; esac
  done
  return 1
}

# examples EXTRACTED from help text on stdin, one per line (continuations joined)
extract() {
  awk '
    /^example/ { inex = 1; next }
    !inex { next }
    cont { line = line " " $0; }
    !cont && /^  tmsfield / { line = $0; cont = 1 }
    cont {
      if (line ~ /\\$/) { sub(/\\$/, "", line); next }
      gsub(/[ \t]+/, " ", line); sub(/^ /, "", line); print line; cont = 0
    }'
}

for cmd in "" place simulate coils targets protocol dose mesh version; do
  name=${cmd:-"(main)"}
  # shellcheck disable=SC2086
  tmsfield $cmd --help > "$work/help.txt" 2> "$work/help.err"
  rc=$?
  if [ $rc -ne 0 ] || [ -s "$work/help.err" ]; then
    echo "FAIL: tmsfield $cmd --help exits $rc (want 0, nothing on stderr)"
    fail=1
    continue
  fi
  grep -q "^Exit codes: 0 success" "$work/help.txt" && grep -q "1 library error" "$work/help.txt" &&
    grep -q "2 usage error" "$work/help.txt" ||
    { echo "FAIL: $name --help does not state the exit codes"; fail=1; }
  grep -q "^example" "$work/help.txt" || { echo "FAIL: $name --help has no examples block"; fail=1; }
  extract < "$work/help.txt" > "$work/examples.txt"
  n=$(wc -l < "$work/examples.txt")
  if [ "$n" -lt 1 ]; then
    echo "FAIL: $name --help: no example found"
    fail=1
    continue
  fi
  # the examples of a subcommand run that subcommand (others may follow)
  if [ -n "$cmd" ] && ! head -1 "$work/examples.txt" | grep -q "^tmsfield $cmd\b"; then
    echo "FAIL: $name --help: the first example does not run 'tmsfield $cmd'"
    fail=1
  fi
  k=0
  while IFS= read -r ex; do
    k=$((k + 1))
    if [ "$MODE" != full ] && is_slow "$ex"; then
      TMSF_CLI_PARSE_ONLY=1 bash -c "$ex" > "$work/ex.out" 2> "$work/ex.err" < /dev/null
      rc=$?
      nparse=$((nparse + 1))
      what="command line of"
    else
      bash -c "$ex" > "$work/ex.out" 2> "$work/ex.err" < /dev/null
      rc=$?
      nrun=$((nrun + 1))
      what=""
    fi
    if [ $rc -ne 0 ]; then
      echo "FAIL: $name example $k ($what$ex) exits $rc"
      sed 's/^/    | /' "$work/ex.err" | tail -5
      fail=1
      continue
    fi
    if [ -z "$what" ]; then
      case "$ex" in
      *--json*)
        "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/ex.out" 2> "$work/py.err" ||
          { echo "FAIL: $name example $k: --json output is not one JSON document: $(tail -1 "$work/py.err")"; fail=1; }
        ;;
      esac
    fi
  done < "$work/examples.txt"
done

echo "cli-help: $nrun examples run, $nparse (built-in head, long meshing) checked for their options only"
[ $fail -eq 0 ] && echo "cli-help: all checks passed"
exit $fail

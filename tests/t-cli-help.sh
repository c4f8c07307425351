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
# is a line starting with "  tmsfield ", continued while a line ends in "\";
# blank lines separate groups, and an example after a slow one in its group
# counts as slow (it may use the slow one's files).  The commands are those
# `tmsfield --help` lists.
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

# examples EXTRACTED from help text on stdin, one per line (continuations
# joined); an empty line between groups of examples (a blank line in the help)
extract() {
  awk '
    /^example/ { inex = 1; next }
    !inex { next }
    !cont && /^[ \t]*$/ { print ""; next }
    cont { line = line " " $0; }
    !cont && /^  tmsfield / { line = $0; cont = 1 }
    cont {
      if (line ~ /\\$/) { sub(/\\$/, "", line); next }
      gsub(/[ \t]+/, " ", line); sub(/^ /, "", line); print line; cont = 0
    }'
}

# every command `tmsfield --help` lists, and the main help itself
commands=$(tmsfield --help | awk '/^commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 } c && /^$/ { exit }')
[ "$(echo "$commands" | wc -w)" -ge 8 ] || { echo "FAIL: tmsfield --help lists $(echo $commands | wc -w) commands"; fail=1; }
for cmd in "" $commands; do
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
  n=$(grep -c . "$work/examples.txt")
  if [ "$n" -lt 1 ]; then
    echo "FAIL: $name --help: no example found"
    fail=1
    continue
  fi
  # the examples of a subcommand run that subcommand (others may follow)
  if [ -n "$cmd" ] && ! grep -q "^tmsfield $cmd\b" "$work/examples.txt"; then
    echo "FAIL: $name --help: no example runs 'tmsfield $cmd'"
    fail=1
  fi
  k=0
  group_slow=0 # an example after a slow one in its group may need its files: slow too
  while IFS= read -r ex; do
    if [ -z "$ex" ]; then
      group_slow=0
      continue
    fi
    k=$((k + 1))
    slow=0
    is_slow "$ex" && slow=1 && group_slow=1
    if [ "$MODE" != full ] && [ $slow -eq 1 ]; then
      TMSF_CLI_PARSE_ONLY=1 bash -c "$ex" > "$work/ex.out" 2> "$work/ex.err" < /dev/null
      rc=$?
      nparse=$((nparse + 1))
      what="command line of "
    elif [ "$MODE" != full ] && [ $group_slow -eq 1 ]; then
      # it needs what a skipped slow example writes: its subcommand must exist
      sub=$(echo "$ex" | awk '{print $2}')
      tmsfield "$sub" --help > "$work/ex.out" 2> "$work/ex.err" < /dev/null
      rc=$?
      nparse=$((nparse + 1))
      what="the subcommand of "
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

echo "cli-help: $nrun examples run, $nparse (built-in head, long meshing, and what follows them) checked for their options or command only"
[ $fail -eq 0 ] && echo "cli-help: all checks passed"
exit $fail

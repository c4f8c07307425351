#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# smoke.sh: bounded libFuzzer run of one target over its seed corpus, for the 'fuzz' test suite.
#
#   smoke.sh FUZZER SEED_DIR DICT RUNS SECONDS
#
# New corpus entries go to a temporary directory that is removed afterwards, so
# the seed corpus in the source tree is only read.
set -eu
fuzzer=$1 seeds=$2 dict=$3 runs=$4 secs=$5
work=$(mktemp -d "${TMPDIR:-/tmp}/tmsf-fuzz-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
rc=0
"$fuzzer" -runs="$runs" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -seed=1 \
  -dict="$dict" -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
  "$work/corpus" "$seeds" || rc=$?
if [ "$rc" -ne 0 ]; then
  for f in "$work"/artifacts/*; do
    [ -f "$f" ] || continue
    echo "smoke: crashing input $(basename "$f") (base64):"
    base64 "$f" | head -c 20000
    echo
  done
fi
exit "$rc"

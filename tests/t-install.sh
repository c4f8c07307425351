#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-install.sh: the installed library is usable: headers, shared and static
# libraries and the generated pkg-config file, from a staged `meson install`.
set -u
BUILD=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
meson install -C "$BUILD" --destdir "$tmp/stage" --no-rebuild > "$tmp/install.log" 2>&1 ||
  { echo "FAIL: meson install: $(tail -5 "$tmp/install.log")"; exit 1; }
pc=$(find "$tmp/stage" -name tmsfield.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no tmsfield.pc installed"; exit 1; }
for h in tmsfield.h common.h config.h context.h mesh.h coil.h pose.h solver.h simulation.h field.h catalogue.h waveform.h; do
  [ -n "$(find "$tmp/stage" -path "*include/tmsfield/$h")" ] || { echo "FAIL: header $h not installed"; fail=1; }
done
# shipped data: <datadir>/tmsfield (the 25 measured coils, waveforms, licence and provenance)
share=$(find "$tmp/stage" -type d -path "*/share/tmsfield" | head -1)
[ -n "$share" ] && [ "$(ls "$share"/coils/drakaki2022/*.ccd 2> /dev/null | wc -l)" -eq 25 ] &&
  [ -f "$share/coils/drakaki2022/Magstim_DCC.tsv" ] && [ -f "$share/README.md" ] && [ -f "$share/LICENSE-GPL3.txt" ] ||
  { echo "FAIL: data not installed in <datadir>/tmsfield (found '$share')"; fail=1; }
ls "$(dirname "$(dirname "$pc")")"/libtmsfield.so* > /dev/null 2>&1 || { echo "FAIL: no shared library"; fail=1; }
ls "$(dirname "$(dirname "$pc")")"/libtmsfield.a > /dev/null 2>&1 || { echo "FAIL: no static library"; fail=1; }
cat > "$tmp/use.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <tmsfield/tmsfield.h>
int main(void) {
  tmsf_context *ctx;
  if (tmsf_context_create(&ctx)) return 1;
  double s;
  int ok = tmsf_conductivity_default(3, &s) == TMSF_SUCCESS && s == 1.654 &&
           strcmp(tmsf_version(), TMSF_VERSION_STRING) == 0;
  tmsf_context_destroy(&ctx);
  printf("%s\n", ok ? "ok" : "wrong");
  return ok ? 0 : 1;
}
C
export PKG_CONFIG_SYSROOT_DIR="$tmp/stage" PKG_CONFIG_PATH="$(dirname "$pc")"
flags=$(pkg-config --cflags --libs tmsfield) || { echo "FAIL: pkg-config tmsfield"; exit 1; }
# shellcheck disable=SC2086
cc -std=c17 -Wall -Werror "$tmp/use.c" $flags -o "$tmp/use" 2> "$tmp/cc.log" ||
  { echo "FAIL: compiling against the installed library: $(head -5 "$tmp/cc.log")"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
LD_LIBRARY_PATH="$libdir" "$tmp/use" > "$tmp/run.log" 2>&1
grep -q '^ok$' "$tmp/run.log" || { echo "FAIL: program linked to the installed library: $(head -3 "$tmp/run.log")"; fail=1; }
# the compiled-in data directory is where the data were installed (the staged
# tree is not at its prefix, so the tool falls back to the source tree's data/
# here: check the string in the installed library), and the installed tool
# lists the shipped coils from there
exe=$(find "$tmp/stage" -type f -name tmsfield -path "*/bin/*" | head -1)
if [ -n "$exe" ] && [ -n "$share" ]; then
  want=${share#"$tmp/stage"}
  lib=$(find "$tmp/stage" -name 'libtmsfield.so*' -type f | head -1)
  grep -aq "$want" "$lib" || { echo "FAIL: the installed library does not name the installed data directory '$want'"; fail=1; }
  compiled=$(env -u TMSF_DATA_DIR -u TMSF_COIL_PATH LD_LIBRARY_PATH="$libdir" "$exe" coils --json 2> /dev/null |
    sed -n 's/^ *"data_dir": "\(.*\)",$/\1/p')
  [ "$compiled" = "$TMSF_SOURCE_DIR/data" ] || [ "$tmp/stage$compiled" = "$share" ] ||
    { echo "FAIL: data directory '$compiled' is neither the installed '$want' nor the source tree's"; fail=1; }
  ncoils=$(env -u TMSF_COIL_PATH TMSF_DATA_DIR="$share" LD_LIBRARY_PATH="$libdir" "$exe" coils | sed -n 's/^\([0-9]*\) coils.*/\1/p')
  [ "${ncoils:-0}" -ge 26 ] || { echo "FAIL: the installed tool lists ${ncoils:-no} coils from $share"; fail=1; }
else
  echo "FAIL: no installed tmsfield program"; fail=1
fi
[ $fail -eq 0 ] && echo "install: all checks passed"
exit $fail

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Runs the Python test suite (meson test --suite python) with Debian's python3:
#   /usr/bin/python3 -m pytest bindings/python/tests -q
# Exit 77 (meson: skipped) only when python3, numpy or pytest is missing.
PY=${TMSF_PYTHON:-/usr/bin/python3}
if [ ! -x "$PY" ]; then
  echo "skip: $PY not found"
  exit 77
fi
if ! "$PY" -c "import numpy, pytest" 2> /dev/null; then
  echo "skip: $PY lacks numpy or pytest (Debian: apt-get install python3-numpy python3-pytest)"
  exit 77
fi
cd "${TMSF_SOURCE_DIR:?TMSF_SOURCE_DIR not set}" || exit 1
exec "$PY" -m pytest bindings/python/tests -q -p no:cacheprovider "$@"

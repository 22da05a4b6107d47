#!/usr/bin/env bash
# Runs the loader and config unit tests under valgrind (memcheck); any
# error or definite leak fails. Expects the in-tree build of ./quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
export top_builddir=$PWD top_srcdir=$PWD SWITCHYARD_PLUGIN_PATH=
status=0
for t in ${VALGRIND_TESTS:-test_loader test_config test_options test_ini test_flow test_conformance test_job}; do
  [ -x "tests/unit/$t" ] || { echo "missing tests/unit/$t"; status=1; continue; }
  echo "valgrind: $t"
  if ! ./libtool --mode=execute valgrind -q --leak-check=full \
      --errors-for-leak-kinds=definite --error-exitcode=99 \
      "tests/unit/$t" >"tests/unit/$t.valgrind.log" 2>&1; then
    tail -50 "tests/unit/$t.valgrind.log"
    status=1
  fi
done
exit $status

# common.sh - what an end-to-end script needs, sourced at its top: the
# paths of the build ($sy, $ex), a private temporary folder that is the
# current folder and $HOME (no user config leaks in), and the counters
# with ok, bad, expect and same. The script ends with
#   echo "NAME: $passed passed, $failed failed"; [ "$failed" -eq 0 ]
# shellcheck shell=bash
set -uo pipefail
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$top_builddir}
sy=$top_builddir/switchyard
ex=$top_srcdir/examples
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home XDG_CONFIG_HOME= SWITCHYARD_PLUGIN_PATH=
mkdir -p "$HOME"
cd "$tmp" || exit 1
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect() { # expect CODE PATTERN -- command...
  local code=$1 pattern=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ]; then
    bad "'$*' exited $rc, expected $code; output: $out"
  elif ! grep -qE -- "$pattern" <<<"$out"; then
    bad "'$*' output lacks /$pattern/: $out"
  else
    ok
  fi
}
same() { cmp -s "$1" "$2" && ok || bad "$3: $1 and $2 differ"; }

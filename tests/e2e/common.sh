# common.sh - what an end-to-end script needs, sourced at its top: the
# paths of the build ($sy, $ex), a private temporary folder that is the
# current folder and $HOME (no user config leaks in), the counters with
# ok, bad, expect and same, and for servers free_port, serve_start and
# bg_pids (killed at exit; a script with an EXIT trap of its own calls
# bg_stop in it). The script ends with
#   echo "NAME: $passed passed, $failed failed"; [ "$failed" -eq 0 ]
# shellcheck shell=bash
set -uo pipefail
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$top_builddir}
sy=$top_builddir/switchyard
ex=$top_srcdir/examples
tmp=$(mktemp -d)
# Background processes the script started: killed, then reaped, at exit.
bg_pids=()
bg_stop() {
  local p
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap 'bg_stop; rm -rf "$tmp"' EXIT
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
# A TCP port nobody listens on now (the kernel's pick).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# serve_start NAME COMMAND...: runs COMMAND --listen 127.0.0.1:PORT in the
# background on a free port ($port; pid in $pid and bg_pids, stderr in
# NAME.err) and waits until its /readyz answers 200; 1 (and a failure
# counted) when it does not.
serve_start() {
  local name=$1
  shift
  port=$(free_port)
  "$@" --listen "127.0.0.1:$port" 2>"$name.err" &
  pid=$!
  bg_pids+=("$pid")
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port/readyz")" = 200 ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  bad "$name: server did not become ready: $(cat "$name.err")"
  return 1
}

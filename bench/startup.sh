#!/usr/bin/env bash
# bench/startup - what a start costs: `switchyard version`, `switchyard
# providers` and a `run` of a one-step flow with the inline runner, each
# against /bin/true, measured in one run (bench/startup.c: interleaved
# spawns, median wall time).
#
#   bench/startup.sh [RUNS] [BASE_TREE]
#
# RUNS defaults to 200. BASE_TREE, another built tree (an older commit,
# say), adds its `run` and `providers` to the same table, so that a
# before/after comparison shares the machine's load. Run from the built
# tree (./quickstart builds it); the goal is a run at most 1 ms more than
# /bin/true.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
base=${2:-}
top=$PWD
[ -x bench/startup ] || { echo "build first: make bench/startup" >&2; exit 2; }
# libtool's wrapper script would be timed too: run the real binary (whose
# parent folder holds plugins.d: the same tree).
real() {
  if [ -x "$1/.libs/switchyard" ]; then echo "$1/.libs/switchyard"; else echo "$1/switchyard"; fi
}
sy=$(real "$top")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private home: no user config, and the result cache goes here.
export HOME=$work/home XDG_CONFIG_HOME= XDG_CACHE_HOME= SWITCHYARD_PLUGIN_PATH=
mkdir -p "$HOME"
cd "$work"
printf 'x,y\n1,2\n3,4\n' > t.csv
cat > tiny.flow <<'EOF'
name = "tiny";
source = { feed = "data"; table = "t"; };
actors = ( { id = "h"; actor = "std.head"; params = { n = 1; }; } );
sink = "out";
EOF
printf '[FEED.data]\nprovider = csv\npath = .\n' > switchyard.ini

add() { # add LABEL TREE: version, providers and run of that tree
  local s=$(real "$2") e="/usr/bin/env LD_LIBRARY_PATH=$2/core/.libs"
  # Warm: the manifest is written and the result cached at the first start.
  $e "$s" -q run tiny.flow > /dev/null
  cmds+=("$1 version=$e $s version" "$1 providers=$e $s -q providers"
         "$1 run tiny.flow=$e $s -q run tiny.flow")
}
# Each tree finds its own library through env(1), so the yardstick is
# /usr/bin/env /bin/true: the table's last column is what switchyard
# costs of its own.
cmds=("env /bin/true=/usr/bin/env /bin/true")
[ -n "$base" ] && add "base" "$base"
add "this" "$top"
nprov=$(/usr/bin/env LD_LIBRARY_PATH=$top/core/.libs "$sy" -q providers | tail -n +2 | wc -l)
echo "switchyard providers lists $nprov providers; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$top/bench/startup" "$runs" "${cmds[@]}"

#!/usr/bin/env bash
# The runner SDK from a third party's side (docs/provider-guide.md, "A
# complete runner"): the guide's code block is examples/runner-min/
# runner-min.c, under 60 lines; it builds as an out-of-tree plugin against
# the public headers alone; its runs match the inline runner's output; and
# the SDK's failure policy reaches its users (keep_going's summary,
# retries). tests/e2e/install.sh builds the same file against an installed
# prefix with pkg-config.
. "$(dirname "$0")/common.sh"
src=$top_srcdir/examples/runner-min/runner-min.c

# The guide shows exactly the file.
awk '/^## A complete runner/ { f = 1 } f && /^```c$/ { p = 1; next }
     p && /^```$/ { exit } p' "$top_srcdir/docs/provider-guide.md" > guide.c
if cmp -s guide.c "$src"; then ok; else
  bad "the guide's runner differs from $src: $(diff guide.c "$src" | head -5)"; fi
n=$(wc -l < "$src")
[ "$n" -lt 60 ] && ok || bad "runner-min.c has $n lines, not under 60"

# It builds from the public headers alone (no core header, no -I core).
mkdir -p plug
if cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
  -I "$top_srcdir/include" -I "$top_builddir/include" \
  -o plug/runner-min.so "$src" 2> cc.err; then ok; else
  bad "runner-min.c does not build: $(head -5 cc.err)"; fi
chmod 0755 plug plug/runner-min.so 2> /dev/null
export SWITCHYARD_PLUGIN_PATH=$tmp/plug
expect 0 "runner +min" -- "$sy" providers

# Its output is the inline runner's (iris: a labelled feed, GETs, trains).
cp -r "$ex/iris" iris
"$sy" -q run iris/pipeline.flow > inline.out 2> inline.err || bad "inline: $(cat inline.err)"
"$sy" -q -o RUNNER.m.provider=min run iris/pipeline.flow -R m --log min.jsonl \
  > min.out 2> min.err || bad "min: $(cat min.err)"
[ -s inline.out ] && same inline.out min.out "iris, min vs inline"
grep -q '"event":"done"' min.jsonl && ok || bad "min emitted no DONE: $(head -c 300 min.jsonl)"

# The policy: keep_going skips what needs the failure and says so; a
# retry makes a flaky step pass.
cat > kg.flow <<'FLOW'
name = "kg";
source = { feed = "data"; table = "points"; };
actors = (
  { id = "bad"; actor = "sys.exec"; inputs = ["source"]; params = { command = "exit 3"; }; },
  { id = "dep"; actor = "std.head"; inputs = ["bad"]; },
  { id = "ind"; actor = "std.head"; inputs = ["source"]; },
  { id = "all"; actor = "std.concat"; inputs = ["dep", "ind"]; params = { axis = "rows"; }; }
);
sink = "res";
FLOW
printf 'x,y\n1,2\n3,4\n' > points.csv
cfg=(-o FEED.data.provider=csv -o FEED.data.path=. -o SINK.res.provider=csv
  -o SINK.res.path=kg.csv -o RUNNER.m.provider=min)
expect 1 "\(1 step failed, 3 skipped\)" -- "$sy" "${cfg[@]}" -o RUNNER.m.keep_going=true \
  run kg.flow -R m --cache off
sed -i 's/command = "exit 3"/command = "if [ -e flaked ]; then cat; else touch flaked; exit 3; fi"/' kg.flow
expect 0 "" -- "$sy" -q "${cfg[@]}" -o RUNNER.m.retries=1 \
  run kg.flow -R m --cache off
[ -e flaked ] && [ -s kg.csv ] && ok || bad "the retried run wrote no output"

echo "sdk-runner.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

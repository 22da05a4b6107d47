#!/usr/bin/env bash
# End-to-end tests of runner-graphviz ([RUNNER.draw] in etc/switchyard.ini):
# the program of each mode is drawn with one node per step, the shapes and
# labels the legend in providers/runner-graphviz/graphviz.c promises, in
# every format; a run log colours the nodes; a malformed log names
# file:line; a file output is written atomically; and drawing runs nothing
# (no sink output, no state file). Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
iris=$ex/iris/pipeline.flow
# libgvc and fontconfig keep caches for the life of the process, and the
# core dlclose()s the plugin (and with it libgvc) before exit, so LSan
# reports them as lost; none is allocated by the plugin's own code (see
# "Memory" at the top of providers/runner-graphviz/graphviz.c).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# attr FILE LABEL NAME DEFAULT: the value of attribute NAME of the node
# whose label starts with LABEL in a dot-format drawing (DEFAULT when the
# node does not set it, "missing" when there is no such node). Graphviz
# ends every statement with ';', which no label here contains.
attr() {
  awk -v RS=';' -v want="label=\"$2\\\\n" -v name="$3" -v def="$4" '
    index($0, want) { found = 1
      if (match($0, name "=[^,\n\\]]+")) print substr($0, RSTART + length(name) + 1, RLENGTH - length(name) - 1)
      else print def }
    END { if (!found) print "missing" }' "$1" | head -1
}
# is FILE LABEL NAME DEFAULT WANT: the attribute has the value WANT.
is() {
  local got
  got=$(attr "$1" "$2" "$3" "$4")
  [ "$got" = "$5" ] && ok || bad "$1: node '$2' has $3=$got, expected $5"
}
shapes() { # shapes FILE LABEL=SHAPE...
  local f=$1 pair
  shift
  for pair in "$@"; do is "$f" "${pair%=*}" shape box "${pair##*=}"; done
}
draw() { "$sy" -R draw "$@"; }

# ---- run mode: every step, with its shape, in dot -------------------------
draw -o RUNNER.draw.format=dot run "$iris" > run.dot 2>run.err || bad "draw run failed: $(cat run.err)"
[ "$(grep -c 'label="[^\\]' run.dot)" -eq 8 ] && ok || bad "run.dot: expected 8 nodes: $(cat run.dot)"
shapes run.dot 'feed data:iris=invhouse' 'get source[0]=ellipse' \
  'get source[1]=ellipse' 'train scale (std.scaler)=box3d' \
  'apply scale (std.scaler)=box' 'train model (std.logreg)=box3d' \
  'apply model (std.logreg)=box' 'sink out=house'
# the label carries the first 8 hex digits of the step's key
key5=$("$sy" compile "$iris" --explain | awk '$1 == 5 { print $6 }')
grep -qF "label=\"train model (std.logreg)\\n${key5:0:8}\"" run.dot && ok || bad "run.dot lacks key ${key5:0:8}: $(grep 'train model' run.dot)"
[ "$(grep -c -- ' -> ' run.dot)" -eq 10 ] && ok || bad "run.dot: expected 10 edges"
# a state edge (train -> apply) is dashed, a data edge is not
is run.dot 'apply model (std.logreg)' style '' ''
grep -A1 -- '^	s5 -> s6' run.dot | grep -q 'style=dashed' && ok || bad "train -> apply edge is not dashed"
grep -A1 -- '^	s4 -> s6' run.dot | grep -q 'style=dashed' && bad "data edge is dashed" || ok
draw -o RUNNER.draw.format=dot -o RUNNER.draw.rankdir=LR run "$iris" | grep -q 'rankdir=LR' && ok || bad "rankdir=LR not in the graph"

# ---- svg (the default): a text element for every step label --------------
draw run "$iris" > run.svg 2>svg.err || bad "draw run (svg) failed: $(cat svg.err)"
head -1 run.svg | grep -q '^<?xml' && tail -1 run.svg | grep -q '^</svg>$' && ok || bad "run.svg is not an SVG document"
for l in 'feed data:iris' 'get source[0]' 'train scale (std.scaler)' 'apply scale (std.scaler)' \
  'train model (std.logreg)' 'apply model (std.logreg)' 'sink out'; do
  grep -qF ">$l</text>" run.svg && ok || bad "run.svg lacks '$l'"
done

# ---- train and apply modes ------------------------------------------------
draw -o RUNNER.draw.format=dot train "$iris" --state never.state > train.dot 2>train.err || bad "draw train failed: $(cat train.err)"
shapes train.dot 'train model (std.logreg)=box3d' 'dump states=cylinder' 'commit states=cylinder'
is train.dot 'apply model (std.logreg)' shape box missing
[ -e never.state ] && bad "drawing train wrote the state file" || ok
"$sy" -q train "$iris" --state iris.state 2>/dev/null || bad "train iris failed"
draw -o RUNNER.draw.format=dot apply "$iris" --state iris.state > apply.dot 2>apply.err || bad "draw apply failed: $(cat apply.err)"
shapes apply.dot 'load scale (std.scaler)=cylinder' 'load model (std.logreg)=cylinder' \
  'apply model (std.logreg)=box' 'sink out=house'
is apply.dot 'train model (std.logreg)' shape box missing

# ---- binary formats: the right magic, refused on a terminal --------------
draw -o RUNNER.draw.format=png run "$iris" > run.png 2>png.err || bad "png failed: $(cat png.err)"
[ "$(head -c 8 run.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && ok || bad "run.png is not a PNG"
draw -o RUNNER.draw.format=pdf run "$iris" > run.pdf 2>pdf.err || bad "pdf failed: $(cat pdf.err)"
[ "$(head -c 5 run.pdf)" = "%PDF-" ] && ok || bad "run.pdf is not a PDF"
if command -v script >/dev/null; then
  out=$(script -qec "$sy -R draw -o RUNNER.draw.format=png run $iris" /dev/null 2>&1)
  rc=$?
  [ "$rc" -eq 2 ] && grep -q 'png is binary and stdout is a terminal' <<<"$out" && ok ||
    bad "png on a terminal: exit $rc: $out"
fi

# ---- output to a file: atomic, nothing left behind -----------------------
mkdir out
echo old > out/flow.svg
draw -o RUNNER.draw.output="$tmp/out/flow.svg" run "$iris" > stdout.txt 2>out.err || bad "output= failed: $(cat out.err)"
[ ! -s stdout.txt ] && ok || bad "output= also wrote to stdout"
head -1 out/flow.svg | grep -q '^<?xml' && ok || bad "out/flow.svg was not replaced: $(head -2 out/flow.svg)"
[ "$(ls out)" = flow.svg ] && ok || bad "temporary files left: $(ls out)"
expect 1 "nowhere/flow.pdf: cannot write the drawing" -- \
  "$sy" -R draw -o RUNNER.draw.format=pdf -o RUNNER.draw.output="$tmp/nowhere/flow.pdf" run "$iris"
# a relative output in a config file is relative to that file
mkdir -p proj
printf '[RUNNER.draw]\nprovider = graphviz\noutput = drawn.dot\nformat = dot\n' > proj/draw.ini
"$sy" -c proj/draw.ini -R draw run "$iris" 2>/dev/null && [ -s proj/drawn.dot ] && ok || bad "output relative to its config file"

# ---- nothing runs: no sink output, no sys.exec ---------------------------
draw run "$ex/cleaning/pipeline.flow" > clean.out 2>clean.err || bad "draw cleaning failed: $(cat clean.err)"
head -1 clean.out | grep -q '^<?xml' && tail -1 clean.out | grep -q '^</svg>$' && ok || bad "cleaning: stdout is not only SVG"
grep -q 'station' clean.out && bad "cleaning: the sink wrote rows" || ok
[ ! -s clean.err ] && ok || bad "cleaning: stderr not empty: $(cat clean.err)"
draw -o SINK.out.provider=csv -o SINK.out.path="$tmp/sunk.csv" run "$ex/cleaning/pipeline.flow" > /dev/null 2>&1
[ -e sunk.csv ] && bad "a csv sink was written by a drawing" || ok

# ---- a run log colours the steps -----------------------------------------
"$sy" run "$iris" --cache off --log run.jsonl > /dev/null 2>&1 || bad "iris run --log failed"
draw -o RUNNER.draw.format=dot -o RUNNER.draw.log=run.jsonl run "$iris" > logged.dot 2>logged.err || bad "draw with log failed: $(cat logged.err)"
for l in 'feed data:iris' 'train model (std.logreg)' 'apply model (std.logreg)' 'sink out'; do
  is logged.dot "$l" fillcolor white palegreen
done
grep -qE 'label="train model \(std.logreg\)\\n[0-9a-f]{8}\\n[0-9.]+ (us|ms|s)"' logged.dot && ok ||
  bad "no duration on a done step: $(grep 'train model' logged.dot)"
grep -q 'style=filled' logged.dot && ok || bad "nodes are not filled with a log"
# the same log on the train program: the steps they share match by key,
# the ones only train has were never started
draw -o RUNNER.draw.format=dot -o RUNNER.draw.log=run.jsonl train "$iris" --state t.state > tlogged.dot 2>&1
is tlogged.dot 'train model (std.logreg)' fillcolor white palegreen
is tlogged.dot 'dump states' fillcolor white white
is tlogged.dot 'commit states' fillcolor white white

# a failed run: the failing step is salmon with its duration and error,
# what follows it never started
mkdir -p failing
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$ex/cleaning" > failing/switchyard.ini
cat > failing/fail.flow <<'F'
name = "fail";
source = { feed = "data"; table = "readings"; };
actors = (
  { id = "boom"; actor = "sys.exec"; params = { command = "echo broken >&2; exit 3"; }; },
  { id = "trim"; actor = "std.head"; params = { n = 2; }; }
);
sink = "out";
F
"$sy" run failing/fail.flow --cache off --log fail.jsonl > /dev/null 2>&1 && bad "the failing flow did not fail"
draw -o RUNNER.draw.format=dot -o RUNNER.draw.log=fail.jsonl run failing/fail.flow > fail.dot 2>fail.err || bad "draw failed run: $(cat fail.err)"
is fail.dot 'feed data:readings' fillcolor white palegreen
is fail.dot 'apply boom (sys.exec)' fillcolor white salmon
is fail.dot 'apply trim (std.head)' fillcolor white white
is fail.dot 'sink out' fillcolor white white
grep -qE 'label="apply boom \(sys.exec\)\\n[0-9a-f]{8}\\n[0-9.]+ (us|ms|s)"' fail.dot && ok || bad "no duration on the failed step"
grep -A8 'apply boom' fail.dot | grep -q 'tooltip="step 1, key [0-9a-f]*.*: .*exit' && ok || bad "no error in the failed step's tooltip: $(grep -A8 'apply boom' fail.dot)"

# every status, from a hand-written log (retried, then failed again;
# skipped; started but never finished; cached; unknown events and keys)
k() { grep -m1 "\"step\":$1," run.jsonl | sed 's/.*"key":"\([0-9a-f]*\)".*/\1/'; }
{
  echo "{\"event\":\"cached\",\"step\":0,\"key\":\"$(k 0)\",\"dur\":0.001,\"extra\":true,\"n\":null}"
  echo "{\"event\":\"done\",\"step\":1,\"key\":\"$(k 1)\",\"dur\":0.0125}"
  echo "{\"event\":\"started\",\"step\":5,\"key\":\"$(k 5)\",\"worker\":2}"
  echo "{\"event\":\"failed\",\"step\":5,\"key\":\"$(k 5)\",\"dur\":0.5,\"error\":\"first\"}"
  echo "{\"event\":\"retried\",\"step\":5,\"key\":\"$(k 5)\"}"
  echo
  echo "{\"event\":\"failed\",\"step\":5,\"key\":\"$(k 5)\",\"dur\":1.5,\"worker\":3,\"error\":\"again \\\"q\\\" \\u00e9\"}"
  echo "{ \"event\" : \"skipped\" , \"step\" : 6 , \"key\" : \"$(k 6)\" }"
  echo "{\"event\":\"started\",\"step\":7,\"key\":\"$(k 7)\"}"
  echo "{\"event\":\"teleported\",\"step\":2,\"key\":\"$(k 2)\"}"
  echo "{\"event\":\"done\",\"step\":3,\"key\":\"00000000000000000000000000000000\"}"
} > hand.jsonl
draw -o RUNNER.draw.format=dot -o RUNNER.draw.log=hand.jsonl run "$iris" > hand.dot 2>hand.err || bad "hand log: $(cat hand.err)"
is hand.dot 'feed data:iris' fillcolor white lightblue
is hand.dot 'get source[0]' fillcolor white palegreen
is hand.dot 'get source[1]' fillcolor white white
is hand.dot 'train scale (std.scaler)' fillcolor white white
is hand.dot 'train model (std.logreg)' fillcolor white salmon
is hand.dot 'apply model (std.logreg)' fillcolor white lightgrey
is hand.dot 'sink out' fillcolor white khaki
grep -qF 'label="get source[0]\n'"$(k 1 | cut -c1-8)"'\n12.5 ms"' hand.dot && ok || bad "12.5 ms: $(grep 'source\[0\]' hand.dot)"
grep -qF '\n1.50 s"' hand.dot && ok || bad "1.50 s: $(grep 'train model' hand.dot)"
grep -qF 'worker 3: again \"q\" é' hand.dot && ok || bad "decoded error in tooltip: $(grep -A8 'train model' hand.dot)"
grep -q 'matched by number' hand.dot && bad "fell back to step numbers" || ok
# no key matches (the flow changed since): lines match by step number
sed 's/"key" *: *"[0-9a-f]*"/"key":"ffffffffffffffffffffffffffffffff"/' hand.jsonl > stale.jsonl
draw -o RUNNER.draw.format=dot -o RUNNER.draw.log=stale.jsonl run "$iris" > stale.dot 2>&1
grep -q 'matched by number' stale.dot && ok || bad "no note on matching by number"
is stale.dot 'feed data:iris' fillcolor white lightblue
is stale.dot 'train scale (std.scaler)' fillcolor white palegreen

# ---- a malformed log names file:line -------------------------------------
bad_log() { # bad_log LINE3 PATTERN
  { sed -n 1,2p run.jsonl; printf '%s\n' "$1"; sed -n '3,$p' run.jsonl; } > bad.jsonl
  expect 1 "bad.jsonl:3: malformed run log line: $2" -- \
    "$sy" -R draw -o RUNNER.draw.log=bad.jsonl run "$iris"
}
bad_log '{"event":"done","step":1' "expected ',' or '}'"
bad_log '{"event":"done","step":1,"key":"ab\q"}' 'bad escape'
bad_log '{"event":"done","step":1,"key":"abc}' 'unterminated string'
bad_log '{"event":"done","step":{"n":1}}' 'nested objects'
bad_log '{"event":"done","step":1.5}' '"step" is not a step number'
bad_log '{"event":"done","step":-1}' '"step" is not a step number'
bad_log '{"event":"done","step":1,"dur":"fast"}' '"dur" is not a duration'
bad_log '{"event":"done","step":1,"dur":01}' 'bad number'
bad_log '{"step":1}' 'no "event"'
bad_log '{"event":"done"}' 'no "step"'
bad_log '{"event":"done","step":1} trailing' 'text after the object'
bad_log 'not json' "expected '\{'"
bad_log '{"event":"done","step":1,"error":"\ud800"}' 'unpaired surrogate'
expect 1 "missing.jsonl: cannot read the run log" -- \
  "$sy" -R draw -o RUNNER.draw.log=missing.jsonl run "$iris"
expect 2 "format: expected one of dot, svg, png, pdf" -- \
  "$sy" -R draw -o RUNNER.draw.format=gif run "$iris"

echo "graphviz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

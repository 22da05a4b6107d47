#!/usr/bin/env bash
# End-to-end tests of flows through the command line: the examples run
# and agree across run / train+apply / the embedding API, `check` reports
# every kind of flow error with file:line, and failures exit as documented.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

# ---- the examples ---------------------------------------------------------
"$sy" run "$ex/iris/pipeline.flow" > run.csv 2>run.err || bad "iris run failed: $(cat run.err)"
"$sy" train "$ex/iris/pipeline.flow" --state iris.state 2>train.err || bad "iris train failed: $(cat train.err)"
"$sy" apply "$ex/iris/pipeline.flow" --state iris.state > apply.csv 2>apply.err || bad "iris apply failed: $(cat apply.err)"
if cmp -s run.csv apply.csv && [ "$(wc -l < run.csv)" -eq 151 ]; then ok; else bad "iris: run and train+apply differ"; fi
head -1 run.csv | grep -q '^prediction,p_setosa,p_versicolor,p_virginica$' && ok || bad "iris header: $(head -1 run.csv)"
right=$(paste -d, "$ex/iris/iris.csv" run.csv | awk -F, 'NR > 1 && $5 == $6 { n++ } END { print n + 0 }')
[ "$right" -ge 140 ] && ok || bad "iris: only $right of 150 training rows classified right"

"$sy" run "$ex/cleaning/pipeline.flow" > clean.csv 2>clean.err || bad "cleaning failed: $(cat clean.err)"
[ "$(head -1 clean.csv)" = "station,time,temp_c,humidity" ] && ok || bad "cleaning header: $(head -1 clean.csv)"
[ "$(wc -l < clean.csv)" -eq 14 ] && ok || bad "cleaning: expected 13 rows, got $(($(wc -l < clean.csv) - 1))"
grep -qE 'fault|NORTH|^ |537\.' clean.csv && bad "cleaning kept dirty rows: $(cat clean.csv)" || ok

# the embedding API gives the same prediction as apply for row 1
embed=$top_builddir/examples/embed/embed
if [ -x "$embed" ]; then
  out=$(SWITCHYARD_PLUGIN_PATH=$top_builddir/plugins.d "$embed" "$ex/iris/pipeline.flow" iris.state 5.1 3.5 1.4 0.2 2>&1)
  want=$(sed -n 2p apply.csv | cut -d, -f2)
  grep -q "^prediction = setosa$" <<<"$out" && grep -q "^p_setosa = $want$" <<<"$out" && ok ||
    bad "embed disagrees with apply (p_setosa $want): $out"
else
  bad "examples/embed/embed was not built"
fi

# the same flow, compiled: run / train programs explain themselves
expect 0 "train scale \(std\.scaler\)" -- "$sy" compile "$ex/iris/pipeline.flow" --mode train --explain
expect 0 "commit states" -- "$sy" compile "$ex/iris/pipeline.flow" --mode train
expect 0 "load model \(std\.logreg\)" -- "$sy" compile "$ex/iris/pipeline.flow" --mode apply --state iris.state
expect 0 "" -- "$sy" compile "$ex/iris/pipeline.flow" -o iris.program
[ -s iris.program ] && head -c 4 iris.program | grep -q SYPG && ok || bad "no program file written"
expect 2 "--mode must be run, train or apply" -- "$sy" compile "$ex/iris/pipeline.flow" --mode fit
expect 2 "apply needs trained states" -- "$sy" compile "$ex/iris/pipeline.flow" --mode apply
expect 2 "no release of project .iris. in registry .local. holds this flow; release it first" -- "$sy" train "$ex/iris/pipeline.flow"
expect 0 "ok" -- "$sy" check "$ex/iris/pipeline.flow"

# ---- flow errors: file:line, what, a hint --------------------------------
mkdir -p data
printf 'x,y\n1,2\n3,4\n' > data/t.csv
printf '[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini
flow() { cat > "$1"; }

flow syntax.flow <<'F'
name = "s";
actors = ( { id = "a"; actor = "std.head" }
F
expect 2 "syntax\.flow:[0-9]+: syntax error" -- "$sy" check syntax.flow

flow dup.flow <<'F'
name = "d";
source = { table = "t"; };
actors = (
  { id = "a"; actor = "std.head"; },
  { id = "a"; actor = "std.head"; }
);
F
expect 2 "dup\.flow:5: duplicate id 'a' \(first defined at .*dup\.flow:4\)" -- "$sy" check dup.flow

flow actor.flow <<'F'
name = "u";
source = { table = "t"; };
actors = ( { id = "a"; actor = "std.haed"; } );
F
expect 2 "actor\.flow:3: a: unknown actor 'std\.haed' \(did you mean 'std\.head'\?\)" -- "$sy" check actor.flow

flow input.flow <<'F'
name = "i";
source = { table = "t"; };
actors = (
  { id = "first"; actor = "std.head"; },
  { id = "b"; actor = "std.head"; inputs = ["frist"]; }
);
F
expect 2 "input\.flow:5: b: unknown input 'frist' \(did you mean 'first'\?\)" -- "$sy" check input.flow

flow cycle.flow <<'F'
name = "c";
source = { table = "t"; };
actors = (
  { id = "a"; actor = "std.head"; inputs = ["c"]; },
  { id = "b"; actor = "std.head"; inputs = ["a"]; },
  { id = "c"; actor = "std.head"; inputs = ["b"]; }
);
F
expect 2 "cycle\.flow:[0-9]+: cycle: a -> b -> c -> a" -- "$sy" check cycle.flow

flow arity.flow <<'F'
name = "a";
source = { table = "t"; };
actors = (
  { id = "a"; actor = "std.head"; },
  { id = "b"; actor = "std.head"; inputs = ["a", "source"]; }
);
F
expect 2 "arity\.flow:5: b: actor std\.head takes 1 input, got 2" -- "$sy" check arity.flow

flow param.flow <<'F'
name = "p";
source = { table = "t"; };
actors = ( { id = "h"; actor = "std.head"; params = { m = 3; }; } );
F
expect 2 "param\.flow:3: h\.params\.m: unknown parameter of std\.head.*(did you mean 'n'\?)?.*try: switchyard providers help actor\.std\.head" -- "$sy" check param.flow

flow type.flow <<'F'
name = "t";
source = { table = "t"; };
actors = ( { id = "h"; actor = "std.head"; params = { n = "three"; }; } );
F
expect 2 "type\.flow:3: h\.params\.n: expected an int, got a string" -- "$sy" check type.flow

flow range.flow <<'F'
name = "r";
source = { table = "t"; };
actors = ( { id = "h"; actor = "std.head"; params = { n = -4; }; } );
F
expect 2 "range\.flow:3: h\.params\.n: expected an int" -- "$sy" check range.flow

flow required.flow <<'F'
name = "q";
source = { table = "t"; };
actors = ( { id = "s"; actor = "std.select"; } );
F
expect 2 "required\.flow:3: s: missing required parameter 'columns'" -- "$sy" check required.flow

flow many.flow <<'F'
name = "m";
source = { table = "t"; };
actors = (
  { id = "a"; actor = "std.haed"; },
  { id = "b"; actor = "std.head"; inputs = ["zz"]; }
);
F
out=$("$sy" check many.flow 2>&1)
[ "$(grep -c 'many\.flow:' <<<"$out")" -ge 2 ] && ok || bad "check does not report every problem: $out"

# ---- run failures ----------------------------------------------------------
flow fails.flow <<'F'
name = "f";
source = { table = "t"; };
actors = ( { id = "boom"; actor = "sys.exec"; params = { command = "echo oh no >&2; exit 3"; }; } );
F
expect 1 "boom \(sys\.exec\).*exited with status 3: oh no" -- "$sy" run fails.flow
flow notable.flow <<'F'
name = "n";
source = { table = "nope"; };
actors = ( { id = "h"; actor = "std.head"; } );
F
expect 2 "no table 'nope'.*tables: t" -- "$sy" run notable.flow
expect 2 "cannot open flow" -- "$sy" run missing.flow
expect 2 "unknown runner instance 'warp'" -- "$sy" -R warp run "$ex/cleaning/pipeline.flow"

# a state trained for another flow is refused, nothing is written
printf 'name = "other";\nsource = { table = "t"; label = "y"; };\nactors = ( { id = "model"; actor = "std.linreg"; } );\n' > other.flow
"$sy" -q train other.flow --state other.state >/dev/null 2>&1 || bad "train other.flow failed"
expect 1 "no trained state for this actor|trained by" -- "$sy" apply "$ex/iris/pipeline.flow" --state other.state

echo "flows: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

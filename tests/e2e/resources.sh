#!/usr/bin/env bash
# End-to-end tests of per-step resources, retries and timeouts in flows
# (issue 12, section 1): `check` refuses bad keys and units with
# file:line; `compile --explain`, `exec --list` and the Graphviz drawing
# show them; they are no part of any cache key (changing them reruns
# nothing); runner-dask threads holds max(cpus, 1) worker slots per step
# (two steps asking cpus = 2 on 2 workers never overlap); runner-inline
# warns after a step that ran past its timeout; a node's retries
# override the runner's option both ways; runner-mpi places a step only
# on a rank offering its cpus (when $MPIRUN is there); `providers help`
# says what each runner does; the README's commands run verbatim.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

mkdir -p data
printf 'a,b\n1,2\n3,4\n5,6\n' > data/points.csv
cat > switchyard.ini <<'INI'
[FEED.data]
provider = csv
path = data

[STORAGE.cache]
path = store

[RUNNER.par]
provider = dask
workers = 2
backoff = 0
INI

# ---- check: keys and units, with file:line and a hint ----
bad_flow() { # bad_flow NAME LINE: a flow whose actor carries LINE
  {
    echo 'name = "bad";'
    echo 'source = { feed = "data"; table = "points"; };'
    echo 'actors = ( { id = "a"; actor = "sys.exec"; params = { command = "cat"; };'
    echo "  $2 } );"
  } > "$1.flow"
}
bad_flow cpu 'resources = { cpu = 2; };'
expect 2 "cpu.flow:4: a.resources: unknown key 'cpu' \(did you mean 'cpus'\?\); allowed: cpus, memory, gpus" -- "$sy" check cpu.flow
bad_flow mem 'resources = { memory = "4 lots"; };'
expect 2 "mem.flow:4: a.resources.memory: expected a size such as \"512M\" or \"4G\" .*got '4 lots'" -- "$sy" check mem.flow
bad_flow zero 'resources = { cpus = 0; };'
expect 2 "zero.flow:4: a.resources.cpus: expected a positive integer \(CPU cores" -- "$sy" check zero.flow
bad_flow tmo 'timeout = "soon";'
expect 2 "tmo.flow:4: a.timeout: expected a duration such as \"90s\", \"10m\", \"1h30m\"" -- "$sy" check tmo.flow
bad_flow rty 'retries = "3";'
expect 2 "rty.flow:4: a.retries: expected a number of extra attempts 0..1000 \(e.g. retries = 3;\), got a string" -- "$sy" check rty.flow
bad_flow key 'resource = { cpus = 1; };'
expect 2 "key.flow:4: actors\[0\]: unknown key 'resource' \(did you mean 'resources'\?\)" -- "$sy" check key.flow
printf 'name = "d";\ndefaults = { resources = { gpus = -1; }; };\nactors = ( { id = "a"; actor = "std.head"; } );\n' > dflt.flow
expect 2 "dflt.flow:2: defaults.resources.gpus: expected a positive integer \(GPUs" -- "$sy" check dflt.flow
# The run command loads the flow the same way: the same error.
expect 2 "mem.flow:4: a.resources.memory" -- "$sy" run mem.flow

# ---- shown by compile --explain, exec --list and the drawing ----
two() { # two NAME RES_X RES_Y: two independent sleeping steps, joined
  cat > "$1.flow" << FLOW
name = "two";
source = { feed = "data"; table = "points"; };
defaults = { timeout = "1h"; };
actors = (
  { id = "x"; actor = "sys.exec"; inputs = ["source"];
    params = { command = "sleep 0.6; cat"; }; $2 },
  { id = "y"; actor = "sys.exec"; inputs = ["source"];
    params = { command = "sleep 0.6; cat"; }; $3 },
  { id = "xy"; actor = "std.concat"; inputs = ["x", "y"]; params = { axis = "rows"; }; }
);
sink = "out";
FLOW
}
two plain '' ''
two wide 'resources = { cpus = 2; memory = "1536M"; gpus = 1; }; retries = 2;' \
  'resources = { cpus = 2; }; timeout = "90s";'
"$sy" compile wide.flow --explain > explain.txt || bad "compile --explain"
grep -qx '        resources: cpus=2 memory=1536M gpus=1 retries=2 timeout=1h' explain.txt &&
  grep -qx '        resources: cpus=2 timeout=1m30s' explain.txt &&
  grep -qx '        resources: timeout=1h' explain.txt && ok ||
  bad "explain lacks the resources: $(cat explain.txt)"
# Only steps that run actor code carry them: the feed and sink do not.
[ "$(grep -c 'resources:' explain.txt)" -eq 3 ] && ok || bad "explain: $(cat explain.txt)"
"$sy" compile wide.flow -o wide.prog && "$sy" compile plain.flow -o plain.prog || bad "compile -o"
"$sy" exec wide.prog --list > wide.tsv || bad "exec --list"
awk -F'\t' '$3 ~ /^apply x / { print $6 }' wide.tsv | grep -qx 'cpus=2 memory=1536M gpus=1 retries=2 timeout=1h' &&
  awk -F'\t' '$2 == "feed" { exit (NF == 5 ? 0 : 1) }' wide.tsv && ok ||
  bad "exec --list: $(cat wide.tsv)"
# Not in any key: the two programs list the same keys.
"$sy" exec plain.prog --list > plain.tsv || bad "exec --list plain"
[ "$(cut -f4 wide.tsv)" = "$(cut -f4 plain.tsv)" ] && ok || bad "keys differ: $(paste plain.tsv wide.tsv)"
"$sy" -o RUNNER.draw.provider=graphviz -o RUNNER.draw.format=dot run wide.flow -R draw > wide.dot 2> draw.err &&
  grep -q 'cpus=2 memory=1536M gpus=1 retries=2 timeout=1h' wide.dot && ok ||
  bad "graphviz label: $(cat draw.err; grep -m3 label wide.dot)"

# ---- not part of the cache: changing them reruns nothing ----
"$sy" -q -o SINK.out.format=csv run plain.flow --cache readwrite > plain.out || bad "run plain"
"$sy" -q -o SINK.out.format=csv run wide.flow --cache readwrite --log cached.jsonl > wide.out || bad "run wide"
same plain.out wide.out "output with resources"
[ -z "$(jq -r 'select(.event == "done" and (.label | startswith("apply"))) | .label' cached.jsonl)" ] &&
  [ "$(jq -r 'select(.event == "cached") | .label' cached.jsonl | grep -c '^apply')" -eq 3 ] && ok ||
  bad "resources changed a key: $(cat cached.jsonl)"

# ---- dask threads: a step holds max(cpus, 1) of the workers' slots ----
# From a run log: whether steps x and y ran at the same time ("overlap")
# or one after the other ("apart").
overlap() {
  jq -rs '
    def t(ev; lbl): map(select(.event == ev and (.label | startswith(lbl)))) | .[0].t;
    (t("started"; "apply x ")) as $xs | (t("done"; "apply x ")) as $xe |
    (t("started"; "apply y ")) as $ys | (t("done"; "apply y ")) as $ye |
    if ($xs < $ye and $ys < $xe) then "overlap" else "apart" end' "$1"
}
"$sy" -q -o SINK.out.format=csv run wide.flow -R par --cache off --log slots.jsonl > slots.out ||
  bad "dask run with cpus"
[ "$(overlap slots.jsonl)" = apart ] && ok || bad "cpus = 2 steps overlapped on 2 workers: $(cat slots.jsonl)"
same plain.out slots.out "dask output"
# The control: without cpus the two steps do run at once on 2 workers.
"$sy" -q run plain.flow -R par --cache off --log free.jsonl > /dev/null || bad "dask run"
[ "$(overlap free.jsonl)" = overlap ] && ok || bad "plain steps did not overlap: $(cat free.jsonl)"
# More cpus than workers: all of them, with a warning naming the step.
two big 'resources = { cpus = 4; };' ''
expect 0 "warning: step [0-9]+ \(apply x \(sys.exec\)\): asks for cpus = 4; runner dask has 2 workers: it holds all 2" -- \
  "$sy" -q run big.flow -R par --cache off

# ---- inline: a step past its timeout is reported after it ----
cat > slow.flow << 'FLOW'
name = "slow";
source = { feed = "data"; table = "points"; };
actors = ( { id = "nap"; actor = "sys.exec"; timeout = "1s";
             params = { command = "sleep 1.4; cat"; }; } );
sink = "out";
FLOW
"$sy" -q -o SINK.out.format=csv run slow.flow --cache off --log slow.jsonl > slow.out 2> slow.err
rc=$?
[ $rc -eq 0 ] &&
  grep -qE "^switchyard: warning: step 1 \(apply nap \(sys.exec\)\): ran 1\.[0-9]+s, past its timeout of 1s \(runner inline cannot interrupt a step: its result is kept\)$" slow.err &&
  cmp -s slow.out data/points.csv &&
  [ "$(jq -r 'select(.event == "warning") | .warning' slow.jsonl | grep -c 'past its timeout of 1s')" -eq 1 ] && ok ||
  bad "inline overrun: rc=$rc $(cat slow.err)"

# ---- retries: a node's value overrides the runner's option ----
cat > flaky.flow << 'FLOW'
name = "flaky";
source = { feed = "data"; table = "points"; };
actors = ( { id = "flaky"; actor = "sys.exec"; retries = 2;
             params = { command = "n=$(cat tries 2>/dev/null || echo 0); echo $((n+1)) > tries; [ $n -ge 2 ] && cat || exit 3"; }; } );
sink = "out";
FLOW
for r in inline par; do
  rm -f tries
  # dask's own option says no retries, and inline has none: the node's 2.
  if "$sy" -q -o RUNNER.par.retries=0 -o SINK.out.format=csv run flaky.flow -R $r --cache off \
    --log flaky-$r.jsonl > flaky-$r.out 2> flaky-$r.err && cmp -s flaky-$r.out data/points.csv &&
    [ "$(jq -r 'select(.event == "retried") | .step' flaky-$r.jsonl | wc -l)" -eq 2 ]; then ok; else
    bad "retries = 2 on $r: $(cat flaky-$r.err)"; fi
done
# And the other way: retries = 0 on the node beats the runner's 3.
sed 's/retries = 2;/retries = 0;/' flaky.flow > once.flow
rm -f tries
expect 1 "flaky \(sys.exec\)" -- "$sy" -q -o RUNNER.par.retries=3 run once.flow -R par --cache off
[ "$(cat tries)" = 1 ] && ok || bad "retries = 0 ran the step $(cat tries) times"

# ---- providers help: what each runner does with each key ----
for r in inline dask mpi graphviz; do
  "$sy" providers list | grep -q "^runner *$r " || continue
  out=$("$sy" providers help runner.$r 2>&1)
  missing=
  for k in cpus memory gpus retries timeout; do
    grep -qE "^  ([a-z, ]*, )?$k[:,]" <<<"$out" || missing="$missing $k"
  done
  if grep -q "^Per-step resources (a flow node's resources, retries, timeout):" <<<"$out" &&
    [ -z "$missing" ]; then ok; else bad "providers help runner.$r lacks$missing: $out"; fi
done
expect 0 "timeout: cannot interrupt a step" -- "$sy" providers help runner.inline

# ---- mpi: a step runs only on a rank offering its cpus ----
if [ -n "${MPIRUN:-}" ] && command -v "$MPIRUN" > /dev/null &&
  "$sy" providers list | grep -q '^runner *mpi '; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
  if [ -n "${ASAN_OPTIONS:-}" ]; then export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"; fi
  printf '\n[RUNNER.cluster]\nprovider = mpi\n' >> switchyard.ini
  two four 'resources = { cpus = 4; };' 'resources = { cpus = 1; };'
  # One rank of an MPMD launch, offering $1 cpus.
  rank() { echo "-np 1 $sy -q -o RUNNER.cluster.cpus=$1 -o SINK.out.format=csv run $2 -R cluster --cache off"; }
  # Three ranks: 0 and 1 offer 1 cpu, 2 offers 4; x asks for 4.
  # shellcheck disable=SC2046
  if timeout 90 "$MPIRUN" $(rank 1 four.flow) --log mpi.jsonl : $(rank 1 four.flow) : $(rank 4 four.flow) \
    > mpi.out 2> mpi.err && cmp -s plain.out mpi.out &&
    [ "$(jq -r 'select(.event == "done" and (.label | startswith("apply x "))) | .worker' mpi.jsonl)" = 2 ]; then ok; else
    bad "mpi placement: $(head -c 800 mpi.err) $(cat mpi.jsonl 2> /dev/null)"; fi
  # A step no rank can take is refused before anything runs.
  two eight 'resources = { cpus = 8; };' ''
  # shellcheck disable=SC2046
  timeout 90 "$MPIRUN" $(rank 2 eight.flow) : $(rank 4 eight.flow) > /dev/null 2> eight.err
  rc=$?
  [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
    grep -q "step [0-9]* (apply x (sys.exec)) asks for cpus = 8, and no rank offers that many (the most is 4)" eight.err && ok ||
    bad "mpi refusal: rc=$rc $(head -c 800 eight.err)"
else
  echo "resources: no mpirun or runner-mpi: the mpi placement checks are skipped"
fi

# ---- the README's commands, verbatim, from a tree-like folder ----
awk '
  /^### /                       { in_s = ($0 == "### Per-step resources, retries and timeouts"); next }
  /^## /                        { in_s = 0 }
  in_s && /^```sh[[:space:]]*$/ { in_sh = 1; next }
  in_sh && /^```/               { in_sh = 0; next }
  in_s && in_sh                 { print }
' "$top_srcdir/README.md" | sed -e 's/[[:space:]]\{1,\}#[^"'\'']*$//' | grep -v '^$' > readme.txt
[ "$(wc -l < readme.txt)" -ge 3 ] && ok || bad "README section has $(wc -l < readme.txt) commands"
mkdir tree
printf '#!/bin/sh\nexec "%s" "$@"\n' "$sy" > tree/switchyard
chmod +x tree/switchyard
ln -s "$top_srcdir/examples" tree/examples
while IFS= read -r line; do
  (cd tree && bash -c "$line") > readme.out 2>&1 && ok || bad "README: '$line': $(head -c 400 readme.out)"
done < readme.txt

echo "resources: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# End-to-end test of a flow without a `source` group (issue 16, item 5):
# actors that make their own data (inputs = []) compile and run on every
# local runner (inline, dask threads, dask processes) with the same
# output, the FEED step is left out, and a flow without a source whose
# actor still reads it (the first actor's default input, or an explicit
# "source") is refused with exit 2, naming file:line and the actor.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

cat >gen.flow <<'FLOW'
name = "gen";
actors = (
  { id = "a"; actor = "sys.exec"; inputs = [];
    params = { command = "printf 'x,y\\n1,2\\n'"; }; },
  { id = "b"; actor = "sys.exec"; inputs = [];
    params = { command = "printf '3,4\\n'"; }; },
  { id = "both"; actor = "sys.exec"; inputs = ["a", "b"];
    params = { command = "cat {in0} {in1}"; }; }
);
FLOW
printf 'x,y\n1,2\n3,4\n' >want.txt
for r in inline parallel isolated; do
  if "$sy" -q run gen.flow -R "$r" --cache off >"out-$r.txt" 2>err.txt; then
    same want.txt "out-$r.txt" "sourceless flow on $r"
  else
    bad "sourceless flow on $r failed: $(cat err.txt)"
  fi
done
# The program has no FEED step: three applies and the sink.
out=$("$sy" -q run gen.flow --explain --cache off 2>&1)
if grep -q '^4 steps' <<<"$out" && ! grep -qiE 'feed|source' <<<"$out"; then
  ok
else
  bad "explain of the sourceless flow: $out"
fi

# Reading a source the flow does not have: exit 2, file:line, the actor.
cat >reads.flow <<'FLOW'
name = "reads";
actors = (
  { id = "first"; actor = "sys.exec";
    params = { command = "echo x"; }; }
);
FLOW
expect 2 "reads\.flow:3: actor 'first' reads 'source' \(the first actor's default input\), but the flow has no .source. group.*inputs = \[\]" \
  -- "$sy" -q run reads.flow --cache off
cat >explicit.flow <<'FLOW'
name = "explicit";
actors = (
  { id = "a"; actor = "sys.exec"; inputs = [];
    params = { command = "echo x"; }; },
  { id = "b"; actor = "sys.exec"; inputs = ["a", "source"];
    params = { command = "cat {in0}"; }; }
);
FLOW
expect 2 "explicit\.flow:5: actor 'b' reads 'source', but the flow has no" \
  -- "$sy" -q run explicit.flow --cache off -R parallel
# A flow with a source still runs as before.
cp "$ex/iris/iris.csv" .
expect 0 'setosa' -- "$sy" -q -o FEED.data.path="$tmp" run "$ex/iris/pipeline.flow" --cache off

echo "sourceless.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

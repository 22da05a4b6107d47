#!/usr/bin/env bash
# End-to-end tests of `switchyard exec`: a compiled program run one step
# per process, as a batch or cluster engine runs it, with values moving
# only through the storage. The sink output (and a train program's states)
# must be byte-identical to `switchyard run` / `train`; steps run out of
# order, out of range or failing give the documented exit codes.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
# exec with the storage in folder $1
sx() { local store=$1; shift; "$sy" -q -o "STORAGE.cache.path=$tmp/$store" exec "$@"; }

iris=$ex/iris/pipeline.flow
"$sy" -q run "$iris" --cache off > run.csv || bad "iris run"
"$sy" -q compile "$iris" -o iris.prog || bad "compile iris"

# ---- --list: one line per step, tab-separated, inputs before the step ----
"$sy" exec iris.prog --list > list.tsv || bad "exec --list"
n=$(wc -l < list.tsv)
[ "$n" -ge 5 ] && ok || bad "exec --list printed $n lines"
i=0
while IFS=$'\t' read -r num op label key inputs rest; do
  if [ "$num" != "$i" ] || [ -z "$op" ] || [ -z "$label" ] ||
    ! [[ $key =~ ^[0-9a-f]{32}$ ]] || ! [[ $inputs =~ ^(-|[0-9]+(,[0-9]+)*)$ ]] ||
    [ -n "$rest" ]; then
    bad "exec --list line $i: $num|$op|$label|$key|$inputs|$rest"
  else
    for d in ${inputs//,/ }; do
      [ "$d" = - ] || [ "$d" -lt "$num" ] || bad "step $num reads a later step $d"
    done
    ok
  fi
  i=$((i + 1))
done < list.tsv
grep -qP '^0\tfeed\tfeed data:iris\t[0-9a-f]{32}\t-$' list.tsv && ok ||
  bad "exec --list: step 0 is not the feed: $(head -1 list.tsv)"
last=$((n - 1))
grep -qP "^$last\tsink\t" list.tsv && ok || bad "exec --list: the last step is not the sink"

# ---- every step in its own process, in order: the same output as run ----
for s in $(seq 0 $last); do
  sx seq iris.prog --step "$s" > "out.$s" || bad "exec --step $s"
done
same run.csv "out.$last" "exec step by step vs run"
for s in $(seq 0 $((last - 1))); do
  [ -s "out.$s" ] && bad "step $s wrote to stdout" || ok
done
# a step run again: its stored result is used (cached), exit 0
step=$(awk -F'\t' '$2 == "apply" { s = $1 } END { print s }' list.tsv)
sx seq iris.prog --step "$step" --log again.jsonl || bad "exec step $step again"
grep -q '"event":"started"' again.jsonl && grep -q '"event":"cached"' again.jsonl &&
  ok || bad "exec again did not log started+cached: $(cat again.jsonl)"

# ---- waves: the steps of one level of the DAG run at the same time ----
level=()
while IFS=$'\t' read -r num op label key inputs; do
  l=0
  for d in ${inputs//,/ }; do
    [ "$d" = - ] || [ $((level[$d] + 1)) -le $l ] || l=$((level[$d] + 1))
  done
  level[$num]=$l
done < list.tsv
top=0
for s in "${!level[@]}"; do [ "${level[$s]}" -le $top ] || top=${level[$s]}; done
wave_ok=1
for l in $(seq 0 $top); do
  pids=()
  for s in $(seq 0 $last); do
    [ "${level[$s]}" -eq "$l" ] || continue
    sx waves iris.prog --step "$s" --log "wave.$s.jsonl" > "wave.$s" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || wave_ok=0; done
done
[ "$wave_ok" = 1 ] && ok || bad "a step of a wave failed"
same run.csv "wave.$last" "exec in waves vs run"
grep -q '"event":"done"' "wave.$last.jsonl" && ok || bad "--log of the sink step lacks done"

# ---- a step before its input: exit 2, says which step to run first ----
scale=$(awk -F'\t' '$3 ~ /^train scale/ { print $1 }' list.tsv)
expect 2 "step $scale .*is not in the storage; run .switchyard exec PROGRAM --step [0-9]+. first" \
  -- sx empty iris.prog --step "$scale"
out=$(sx empty iris.prog --step "$last" 2>&1)
[ $? -eq 2 ] && grep -q "run \`switchyard exec PROGRAM --step $((last - 1))\` first" <<<"$out" &&
  ok || bad "sink before its input: $out"

# ---- usage and bad programs: exit 2 ----
expect 2 "out of range.*$n steps" -- "$sy" exec iris.prog --step "$n"
expect 2 "step number" -- "$sy" exec iris.prog --step 99999999999999999999999
expect 2 "step number.*'x'" -- "$sy" exec iris.prog --step x
expect 2 "step number.*'-1'" -- "$sy" exec iris.prog --step -1
expect 2 "step number.*''" -- "$sy" exec iris.prog --step ''
expect 2 "either --step N or --list" -- "$sy" exec iris.prog
expect 2 "either --step N or --list" -- "$sy" exec iris.prog --list --step 1
expect 2 "expected one PROGRAM" -- "$sy" exec --step 0
expect 2 "unknown option '--explain'" -- "$sy" exec iris.prog --step 0 --explain
expect 2 "nope.prog" -- "$sy" exec nope.prog --step 0
echo 'not a program' > bad.prog
expect 2 "bad.prog: not a switchyard program" -- "$sy" exec bad.prog --step 0
expect 2 "storage.*--cache off" -- "$sy" exec iris.prog --step 0 --cache off
expect 0 "exec PROGRAM --step N\[,N\.\.\.\] \| --list" -- "$sy" exec --help

# ---- a failing step: exit 1; what reads it cannot run (2) ----
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$ex/cleaning" > switchyard.ini
cat > fails.flow <<'EOF'
name    = "fails";
source  = { feed = "data"; table = "readings"; };
actors  = ( { id = "boom"; actor = "sys.exec"; params = { command = "false"; }; } );
sink    = "out";
EOF
"$sy" -q compile fails.flow -o fails.prog || bad "compile fails.flow"
expect 0 "" -- sx fail fails.prog --step 0
expect 1 "step 1 \(apply boom \(sys.exec\)\).*status 1" -- sx fail fails.prog --step 1
sx fail fails.prog --step 1 --log fail.jsonl 2>/dev/null
grep -q '"event":"failed".*"error":"step 1' fail.jsonl && ok || bad "--log lacks the failure: $(cat fail.jsonl)"
expect 2 "step 1 .*not in the storage" -- sx fail fails.prog --step 2
rm switchyard.ini

# ---- train and apply programs, step by step ----
"$sy" -q train "$iris" --state direct.state --cache off || bad "train --state"
"$sy" -q compile "$iris" --mode train -o train.prog || bad "compile --mode train"
nt=$("$sy" exec train.prog --list | wc -l)
for s in $(seq 0 $((nt - 1))); do
  sx train train.prog --step "$s" --state exec.state || bad "train step $s"
done
same direct.state exec.state "states trained by exec vs train"
"$sy" -q compile "$iris" --mode apply --state "$tmp/exec.state" -o apply.prog ||
  bad "compile --mode apply"
na=$("$sy" exec apply.prog --list | wc -l)
for s in $(seq 0 $((na - 1))); do
  sx train apply.prog --step "$s" > "apply.$s" || bad "apply step $s"
done
same run.csv "apply.$((na - 1))" "apply by exec vs run"

echo "exec: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

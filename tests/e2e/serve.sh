#!/usr/bin/env bash
# End-to-end tests of `switchyard serve` with curl: predictions equal
# `apply` through the three request forms and both answer forms, every
# error status, the model/health/metrics endpoints, hot reload under
# load, a failed reload, 503 past the connection limit, slow clients,
# SIGTERM draining, and the README's serve commands. Every server runs
# on a free port of its own and is stopped by the EXIT trap.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

# start NAME ARGS...: `switchyard serve ARGS...` (serve_start, common.sh)
start() {
  local name=$1
  shift
  serve_start "$name" "$sy" serve "$@"
}
# stop: SIGTERM, and the exit status must be 0.
stop() {
  kill -TERM "$1"
  wait "$1"
  local rc=$?
  [ "$rc" -eq 0 ] && ok || bad "server $1 exited $rc after SIGTERM"
}
post() { # post URL CONTENT-TYPE FILE [curl args]: prints the body, then the code
  local url=$1 ct=$2 file=$3
  shift 3
  curl -s -w '%{http_code}' -X POST -H "Content-Type: $ct" --data-binary "@$file" "$@" "$url"
}
check() { # check CODE PATTERN -- curl args...
  local code=$1 pattern=$2
  shift 3
  local out
  out=$(curl -s -w '\n%{http_code}' "$@")
  if [ "$(tail -1 <<<"$out")" != "$code" ]; then
    bad "curl $* answered $(tail -1 <<<"$out"), expected $code: $out"
  elif ! sed '$d' <<<"$out" | grep -qE -- "$pattern"; then
    bad "curl $*: answer lacks /$pattern/: $out"
  else
    ok
  fi
}
# The answer's JSON rows as CSV, the number tokens as they were written.
json_to_csv() {
  python3 -c '
import json, sys
d = json.load(sys.stdin, parse_float=str, parse_int=str)
rows = d["rows"]
cols = list(rows[0].keys())
print(",".join(cols))
for r in rows:
    print(",".join("" if r[c] is None else r[c] for c in cols))'
}

iris=$ex/iris/pipeline.flow
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$ex/iris" > switchyard.ini
"$sy" -q release "$iris" --version 1.0 || bad "release"
"$sy" -q train iris || bad "train"
"$sy" -q apply iris > apply.csv || bad "apply"
tail -n +2 apply.csv > apply.rows

# The request bodies, from the training table (its cells as written).
python3 - "$ex/iris/iris.csv" <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
feats = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
num = lambda s: json.loads(s)
with open("rows.json", "w") as f:
    json.dump({"rows": [{k: num(r[k]) for k in reversed(feats)} for r in rows]}, f)
with open("columns.json", "w") as f:
    json.dump({"columns": {k: [num(r[k]) for r in rows] for k in feats}}, f)
with open("body.csv", "w") as f:
    f.write(",".join(feats + ["species"]) + "\n")
    for r in rows:
        f.write(",".join(r[k] for k in feats + ["species"]) + "\n")
for i, r in enumerate(rows):
    with open("one-%d.json" % i, "w") as f:
        json.dump({"rows": [{k: num(r[k]) for k in feats}]}, f)
EOF

# ---- predictions equal apply --------------------------------------------
start main iris --poll 0.2 --log access.jsonl --max-body 200000 || exit 1
u=127.0.0.1:$port
for form in rows.json:application/json columns.json:application/json body.csv:text/csv; do
  f=${form%%:*} ct=${form#*:}
  out=$(post "$u/v1/predict" "$ct" "$f" -H 'Accept: text/csv')
  [ "$(tail -1 <<<"$out")" = 200 ] && ok || bad "$f as CSV: $out"
  sed '$d' <<<"$out" > "got-$f.csv"
  same apply.csv "got-$f.csv" "$f answered as CSV vs apply"
  out=$(post "$u/v1/predict" "$ct" "$f")
  [ "$(tail -1 <<<"$out")" = 200 ] && ok || bad "$f as JSON: $out"
  sed '$d' <<<"$out" | json_to_csv > "got-$f.json.csv"
  same apply.csv "got-$f.json.csv" "$f answered as JSON vs apply"
done
# One row per request (the one-row path), each equal to apply's row.
: > one.rows
for i in $(seq 0 149); do
  curl -s -X POST -H 'Content-Type: application/json' -H 'Accept: text/csv' \
    --data-binary "@one-$i.json" "$u/v1/predict" | tail -n +2 >> one.rows
done
same apply.rows one.rows "150 one-row requests vs apply"

# ---- a numbers-only flow: the bound-row fast path, same bytes as apply ---
mkdir lin
python3 -c '
import random
r = random.Random(7)
print("x1,x2,y")
for i in range(40):
    a = round(r.uniform(-5, 5), 3); b = round(r.uniform(0, 10), 3) + 0.5
    print("%s,%s,%s" % (a + 0.25, b, round(2 * a - 0.5 * b + 1 + r.gauss(0, 0.1), 4)))' > lin/points.csv
printf 'name = "lin";\nsource = { feed = "data"; table = "points"; label = "y"; };\nactors = (\n  { id = "scale"; actor = "std.scaler"; },\n  { id = "model"; actor = "std.linreg"; inputs = ["scale"]; }\n);\nsink = "out";\n' > lin/lin.flow
printf '[FEED.data]\nprovider = csv\npath = .\n' > lin/switchyard.ini
"$sy" -q train lin/lin.flow --state lin.state || bad "train lin"
"$sy" -q apply lin/lin.flow --state lin.state > lin-apply.csv || bad "apply lin"
main=$pid
start lin lin/lin.flow --state lin.state || exit 1
check 200 '"fast_path":true' -- "127.0.0.1:$port/v1/model"
: > lin-one.csv
tail -n +2 lin/points.csv | while IFS=, read -r x1 x2 _; do
  curl -s -X POST -H 'Content-Type: application/json' -H 'Accept: text/csv' \
    -d "{\"rows\":[{\"x1\":$x1,\"x2\":$x2}]}" "127.0.0.1:$port/v1/predict" | tail -n +2
done >> lin-one.csv
tail -n +2 lin-apply.csv > lin-apply.rows
same lin-apply.rows lin-one.csv "one-row fast path vs apply"
out=$(post "127.0.0.1:$port/v1/predict" text/csv lin/points.csv -H 'Accept: text/csv')
sed '$d' <<<"$out" > lin-batch.csv
same lin-apply.csv lin-batch.csv "a batch on the frame path vs apply"
stop "$pid"
pid=$main

# ---- errors: status, JSON {"error", "detail"} ---------------------------
J=(-X POST -H 'Content-Type: application/json' "$u/v1/predict")
check 400 '"error":"malformed_json".*line 1, column 1[0-9]' -- "${J[@]}" -d '{"rows": [{,}]}'
check 400 '"error":"bad_request"' -- "${J[@]}" -d '[1, 2]'
check 422 "missing.*petal_width|petal_width.*missing" -- "${J[@]}" \
  -d '{"rows":[{"sepal_length":1,"sepal_width":2,"petal_length":3}]}'
check 422 "'colour' is not an input" -- "${J[@]}" \
  -d '{"rows":[{"sepal_length":1,"sepal_width":2,"petal_length":3,"petal_width":4,"colour":1}]}'
check 422 "rows\[0\]: column 'sepal_width': expected a number" -- "${J[@]}" \
  -d '{"rows":[{"sepal_length":1,"sepal_width":"wide","petal_length":3,"petal_width":4}]}'
check 422 "missing column 'petal_width'" -- -X POST -H 'Content-Type: text/csv' \
  "$u/v1/predict" --data-binary $'sepal_length,sepal_width,petal_length\n1,2,3\n'
check 400 'request:2:' -- -X POST -H 'Content-Type: text/csv' "$u/v1/predict" \
  --data-binary $'sepal_length,sepal_width,petal_length,petal_width\n1,"2,3,4\n'
head -c 300000 /dev/zero | tr '\0' ' ' > big.json
check 413 '"error":"too_large"' -- -X POST -H 'Content-Type: application/json' \
  --data-binary @big.json "$u/v1/predict"
check 413 '"error":"too_large"' -- -X POST -H 'Content-Type: application/json' \
  -H 'Transfer-Encoding: chunked' --data-binary @big.json "$u/v1/predict"
check 415 unsupported_media_type -- -X POST -H 'Content-Type: text/plain' -d x "$u/v1/predict"
check 404 not_found -- "$u/v2/nothing"
check 405 method_not_allowed -- "$u/v1/predict"
# HEAD is answered as GET where GET is allowed (headers only), not on predict
for ep in /healthz /readyz /v1/model /metrics; do
  h=$(curl -s -I -o /dev/null -w '%{http_code} %{content_type} %{size_download}' "$u$ep")
  case $h in "200 "*" 0") ok ;; *) bad "HEAD $ep answered '$h', expected 200 and no body" ;; esac
done
h=$(curl -s -I -o /dev/null -w '%{http_code}' "$u/v1/predict")
[ "$h" = 405 ] && ok || bad "HEAD /v1/predict answered $h, expected 405"
# --threads defaults to the number of online cores
cores=$(getconf _NPROCESSORS_ONLN)
if [ "$cores" -eq 1 ]; then want="(1 thread"; else want="($cores threads"; fi
grep -qF "$want" main.err && ok || bad "serve without --threads: want '$want' in $(head -3 main.err)"

# ---- model, health, metrics ---------------------------------------------
check 200 '"project":"iris","release":"1.0","generation":1' -- "$u/v1/model"
check 200 '"flow_hash":"[0-9a-f]{32}".*"input":\[\{"name":"sepal_length","type":"f64"\}' -- "$u/v1/model"
check 200 '"output":\[\{"name":"prediction","type":"string"\}.*"loaded_at":"20' -- "$u/v1/model"
# iris (scaler, then logreg's class as a row label: ABI 1.5) takes the
# bound-row path, for batches too (both steps are row-wise); the batch
# predictions below are compared with apply's
check 200 '"fast_path":true,"fast_path_batch":true' -- "$u/v1/model"
check 200 '"status":"ok"' -- "$u/healthz"
check 200 '"status":"ready"' -- "$u/readyz"
curl -s "$u/metrics" > metrics.txt
for pat in 'switchyard_serve_requests_total\{code="200"\} [1-9]' \
  'switchyard_serve_requests_total\{code="422"\} [1-9]' \
  'switchyard_serve_requests_total\{code="413"\} 2' \
  'switchyard_serve_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]' \
  'switchyard_serve_request_duration_seconds_count [1-9]' \
  'switchyard_serve_rows_total 1050' \
  'switchyard_serve_in_flight 1' \
  'switchyard_serve_reloads_total\{result="ok"\} 0' \
  '# TYPE switchyard_serve_request_duration_seconds histogram'; do
  grep -qE "$pat" metrics.txt && ok || bad "metrics lack /$pat/: $(cat metrics.txt)"
done
grep -q '"path":"/v1/predict","status":422' access.jsonl && ok || bad "access log: $(head -3 access.jsonl)"
python3 -c 'import json,sys; [json.loads(l) for l in open("access.jsonl")]' && ok || bad "access log is not JSON lines"

# ---- hot reload under load ----------------------------------------------
( while [ ! -f stop-loop ]; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
      --data-binary @one-0.json "$u/v1/predict" >> codes.txt
  done ) &
loop=$!
sleep 0.5
"$sy" -q train iris || bad "train generation 2"
for _ in $(seq 1 50); do
  curl -s "$u/v1/model" | grep -q '"generation":2' && break
  sleep 0.1
done
sleep 0.3
touch stop-loop
wait "$loop"
n=$(wc -l < codes.txt)
[ "$n" -ge 10 ] && ok || bad "only $n requests ran during the reload"
grep -vqx 200 codes.txt && bad "requests failed during the reload: $(sort codes.txt | uniq -c)" || ok
check 200 '"generation":2' -- "$u/v1/model"
out=$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @one-0.json "$u/v1/predict")
grep -qi '^X-Switchyard-Model: iris:1.0:2' <<<"$out" && ok || bad "generation 2 not served: $out"
grep -q 'reloads_total{result="ok"} 1' <(curl -s "$u/metrics") && ok || bad "reload not counted"
# A generation that cannot be loaded (damaged states, published as the
# file registry publishes: a rename) is logged once, and generation 2
# keeps serving.
g=$HOME/.local/share/switchyard/registry/iris/1.0
cp -r "$g/2" "$g/3.tmp" && echo garbage > "$g/3.tmp/states" && mv "$g/3.tmp" "$g/3"
for _ in $(seq 1 50); do grep -q "reload of iris:1.0:3 failed" main.err && break; sleep 0.1; done
grep -q "reload of iris:1.0:3 failed, the previous generation keeps serving" main.err && ok || bad "damaged generation 3: $(cat main.err)"
sleep 1
[ "$(grep -c "reload of iris:1.0:3 failed" main.err)" -eq 1 ] && ok || bad "generation 3 was tried more than once: $(cat main.err)"
check 200 '"generation":2' -- "$u/v1/model"
out=$(post "$u/v1/predict" text/csv body.csv -H 'Accept: text/csv')
sed '$d' <<<"$out" > got-after-gen3.csv
same apply.csv got-after-gen3.csv "predictions after a damaged generation"
grep -q 'reloads_total{result="failed"} 1' <(curl -s "$u/metrics") && ok || bad "failed reload not counted"
rm -rf "$g/3"
stop "$pid"

# ---- FLOW --state: a failed reload keeps the old model; SIGHUP --------
"$sy" -q train "$iris" --state iris.state || bad "train --state"
cp iris.state served.state
start flow "$iris" --state served.state || exit 1
u=127.0.0.1:$port
echo garbage > served.state
kill -HUP "$pid"
for _ in $(seq 1 50); do grep -q "reload of .* failed" flow.err && break; sleep 0.1; done
grep -q "reload of .* failed, the previous generation keeps serving" flow.err && ok || bad "failed reload not logged: $(cat flow.err)"
out=$(post "$u/v1/predict" text/csv body.csv -H 'Accept: text/csv')
sed '$d' <<<"$out" > got-after-failed.csv
same apply.csv got-after-failed.csv "predictions after a failed reload"
grep -q 'reloads_total{result="failed"} 1' <(curl -s "$u/metrics") && ok || bad "failed reload not counted"
cp iris.state served.state
kill -HUP "$pid"
for _ in $(seq 1 50); do grep -q "serving .*loaded in" flow.err && break; sleep 0.1; done
grep -q "serving .*loaded in" flow.err && ok || bad "SIGHUP did not reload: $(cat flow.err)"
stop "$pid"

# ---- 503 past the connection limit; SIGTERM drains ----------------------
export SWITCHYARD_SERVE_TEST_DELAY_MS=1500
start slow iris --max-connections 1 --no-follow || exit 1
u=127.0.0.1:$port
unset SWITCHYARD_SERVE_TEST_DELAY_MS
post "$u/v1/predict" application/json one-0.json > slow1.out &
slow=$!
sleep 0.4
check 503 '"error":"overloaded"' -- -X POST -H 'Content-Type: application/json' \
  --data-binary @one-0.json "$u/v1/predict"
wait "$slow"
[ "$(tail -1 slow1.out)" = 200 ] && ok || bad "slow request: $(cat slow1.out)"
# SIGTERM while a request is in flight: it completes, the server exits 0
post "$u/v1/predict" application/json one-0.json > slow2.out &
slow=$!
sleep 0.4
kill -TERM "$pid"
wait "$slow"
[ "$(tail -1 slow2.out)" = 200 ] && grep -q setosa slow2.out && ok || bad "in-flight request during SIGTERM: $(cat slow2.out)"
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "SIGTERM exit status $rc"
grep -q "every request in flight was answered" slow.err && ok || bad "drain not logged: $(cat slow.err)"
curl -s -m 2 "$u/healthz" >/dev/null && bad "still accepting after SIGTERM" || ok

# ---- slow clients are disconnected --------------------------------------
start timeout iris:1.0:1 --timeout 1 || exit 1
t0=$(date +%s)
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"ro' >&3
timeout 10 cat <&3 >/dev/null
exec 3<&-
t1=$(date +%s)
[ $((t1 - t0)) -le 5 ] && ok || bad "a stalled client was kept $((t1 - t0)) s (timeout 1 s)"
check 200 '"generation":1' -- "127.0.0.1:$port/v1/model"
stop "$pid"

# ---- the address from the config; anything but loopback needs --listen ----
port=$(free_port)
"$sy" -o "PLATFORM.serve_listen=127.0.0.1:$port" serve iris 2>config.err &
pid=$!
bg_pids+=("$pid")
for _ in $(seq 1 100); do
  curl -s "127.0.0.1:$port/healthz" | grep -q ok && break
  sleep 0.1
done
check 200 '"status":"ok"' -- "127.0.0.1:$port/healthz"
stop "$pid"
expect 2 "serve_listen = 0\.0\.0\.0:$port .*not a loopback address.*--listen 0\.0\.0\.0:$port" -- \
  "$sy" -o "PLATFORM.serve_listen=0.0.0.0:$port" serve iris
port=$(free_port)
"$sy" serve iris --listen "0.0.0.0:$port" 2>any.err &
pid=$!
bg_pids+=("$pid")
for _ in $(seq 1 100); do
  curl -s "127.0.0.1:$port/healthz" | grep -q ok && break
  sleep 0.1
done
grep -q "NOT loopback: no authentication" any.err && ok || bad "no warning for 0.0.0.0: $(cat any.err)"
stop "$pid"

# ---- the README's "Serving over HTTP" commands ----------------------------
# Run as written, from a folder that looks like the tree root, one line at
# a time in one subshell (so `kill %1` finds the server); only when port
# 8080 is taken (tests run in parallel) is it swapped for a free one.
awk '
  /^## / { in_s = ($0 == "## Serving over HTTP"); next }
  in_s && /^```sh[[:space:]]*$/ { in_sh = 1; next }
  in_sh && /^```/ { in_sh = 0; next }
  in_s && in_sh { print }
' "$top_srcdir/README.md" | sed -e 's/[[:space:]]\{1,\}#[^"'\'']*$//' > readme-serve.txt
[ "$(wc -l < readme-serve.txt)" -ge 4 ] && ok || bad "README serve commands: $(cat readme-serve.txt)"
if curl -s -o /dev/null 127.0.0.1:8080/ || ! python3 -c 'import socket; socket.socket().bind(("127.0.0.1", 8080))' 2>/dev/null; then
  p=$(free_port)
  sed -i "s/127\.0\.0\.1:8080/127.0.0.1:$p/g; s/serve iris &/serve iris --listen 127.0.0.1:$p \&/" readme-serve.txt
fi
mkdir tree
printf '#!/bin/sh\nexec "%s" "$@"\n' "$sy" > tree/switchyard
chmod +x tree/switchyard
ln -s "$top_srcdir/examples" tree/examples
(
cd tree || exit 1
while IFS= read -r line; do
  # not in $(...): a server started with & must outlive its line, and
  # `kill %1` must find it among this shell's jobs
  eval "$line" >> ../readme-serve.out 2>&1 < /dev/null
  rc=$?
  case $line in *"&") echo "$!" >> ../readme-pids ;; esac
  [ "$rc" -eq 0 ] || echo "FAIL: README line '$line' exited $rc" >> ../readme-serve.log
done < ../readme-serve.txt
wait
)
touch readme-serve.log
while read -r p; do bg_pids+=("$p"); done < <(cat readme-pids 2>/dev/null)
grep FAIL readme-serve.log && bad "README serve commands failed" || ok
grep -q '"prediction":"setosa"' readme-serve.out && ok || bad "README predict: $(cat readme-serve.out)"
[ "$(grep -c '^[a-z]*,[0-9.e-]*,[0-9.e-]*,[0-9.e-]*$' readme-serve.out)" -ge 150 ] && ok || bad "README CSV predict: $(cat readme-serve.out)"

# ---- usage errors ---------------------------------------------------------
expect 2 "--listen takes HOST:PORT" -- "$sy" serve iris --listen localhost
expect 2 "neither a flow file nor" -- "$sy" serve 'iris:1.0:x'
expect 2 "--follow follows" -- "$sy" serve iris:1.0:1 --follow
expect 2 "no trained generation|not found|no release|no project" -- "$sy" serve nosuch
expect 2 "unknown option" -- "$sy" serve iris --bogus

echo "serve: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

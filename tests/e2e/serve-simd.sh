#!/usr/bin/env bash
# serve's two JSON decoders give the same answers: simdjson's fast path
# (serve-simdjson.so, loaded from the build tree) and yajl alone
# (SWITCHYARD_SERVE_NO_SIMD=1). The same bodies go to both servers: iris
# by rows, by columns, as CSV, one row and the bench's 100-row batch, and
# every JSON error of tests/e2e/serve.sh; status and answer must be the
# same bytes. /metrics says the fast path decoded the good JSON bodies
# (and nothing with it off). A copy of the executable that finds no
# module says so in one line and still answers the same.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

# start NAME COMMAND...: `COMMAND serve iris` (serve_start, common.sh)
start() {
  local name=$1
  shift
  serve_start "$name" "$@" serve iris
}

printf '[FEED.data]\nprovider = csv\npath = %s\n' "$ex/iris" > switchyard.ini
"$sy" -q release "$ex/iris/pipeline.flow" --version 1.0 || bad "release"
"$sy" -q train iris || bad "train"

mkdir bodies
python3 - "$ex/iris/iris.csv" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
feats = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
num = json.loads
def put(name, text):
    open("bodies/" + name, "w").write(text)
# taken by the fast path
put("ok-rows.json", json.dumps({"rows": [{k: num(r[k]) for k in reversed(feats)} for r in rows]}))
put("ok-columns.json", json.dumps({"columns": {k: [num(r[k]) for r in rows] for k in feats}}))
put("ok-one.json", json.dumps({"rows": [{k: num(rows[0][k]) for k in feats}]}))
put("ok-batch.json", json.dumps({"rows": [{k: num(rows[i % len(rows)][k]) for k in feats} for i in range(100)]}))
put("ok-label.json", json.dumps({"rows": [dict({k: num(r[k]) for k in feats}, species=r["species"]) for r in rows[:5]]}))
put("ok-ints.json", '{"rows":[{"sepal_length":5,"sepal_width":-0,"petal_length":1e-400,"petal_width":0.25},{"sepal_length":6.5,"sepal_width":3,"petal_length":5.5,"petal_width":2}]}')
# declined: yajl answers
put("bad-syntax.json", '{"rows": [{,}]}')
put("bad-array.json", '[1, 2]')
put("bad-missing.json", '{"rows":[{"sepal_length":1,"sepal_width":2,"petal_length":3}]}')
put("bad-unknown.json", '{"rows":[{"sepal_length":1,"sepal_width":2,"petal_length":3,"petal_width":4,"colour":1}]}')
put("bad-type.json", '{"rows":[{"sepal_length":1,"sepal_width":"wide","petal_length":3,"petal_width":4}]}')
put("bad-dup.json", '{"rows":[{"sepal_length":1,"sepal_length":1,"sepal_width":2,"petal_length":3,"petal_width":4}]}')
put("bad-big.json", '{"rows":[{"sepal_length":1e999,"sepal_width":2,"petal_length":3,"petal_width":4}]}')
put("bad-nul.json", '{"rows":[{"sepal_length":1,"sepal_width":2,"petal_length":3,"petal_width":4,"species":"\\u0000"}]}')
put("bad-ragged.json", '{"columns":{"sepal_length":[1,2],"sepal_width":[2],"petal_length":[3],"petal_width":[4]}}')
put("bad-none.json", '{"rows":[]}')
put("bad-trail.json", '{"rows":[{"sepal_length":1,"sepal_width":2,"petal_length":3,"petal_width":4}]} x')
put("escaped.json", '{"rows":[{"sepal_length":1,"sepal_width":2,"petal_length":3,"petal_width":4,"species":"set\\u006fsa"}]}')
with open("bodies/body.csv", "w") as f:
    f.write(",".join(feats + ["species"]) + "\n")
    for r in rows:
        f.write(",".join(r[k] for k in feats + ["species"]) + "\n")
PY

start fast "$sy" || exit 1
fast=127.0.0.1:$port
SWITCHYARD_SERVE_NO_SIMD=1 start yajl "$sy" || exit 1
slow=127.0.0.1:$port

answer() { # answer HOST FILE ACCEPT: status line, then the body
  local ct=application/json
  case $2 in *.csv) ct=text/csv ;; esac
  curl -s -w '\n%{http_code}\n' -X POST -H "Content-Type: $ct" \
    -H "Accept: $3" --data-binary "@bodies/$2" "$1/v1/predict"
}
good=0
for f in $(cd bodies && ls); do
  for acc in application/json text/csv; do
    a=${acc#*/}-$f
    answer "$fast" "$f" "$acc" > "fast-$a"
    answer "$slow" "$f" "$acc" > "yajl-$a"
    same "yajl-$a" "fast-$a" "$f ($acc): fast path vs yajl"
    case $f in
      ok-*) [ "$(tail -1 "fast-$a")" = 200 ] && ok || bad "$f: $(cat "fast-$a")"
        good=$((good + 1)) ;;
      bad-*) [ "$(tail -1 "fast-$a")" != 200 ] && ok || bad "$f answered 200" ;;
    esac
  done
done
# the good JSON bodies went through simdjson, the rest did not
n=$(curl -s "$fast/metrics" | awk '$1 == "switchyard_serve_json_fast_total" {print $2}')
[ "$n" = "$good" ] && ok || bad "fast path decoded $n bodies, expected $good"
n=$(curl -s "$slow/metrics" | awk '$1 == "switchyard_serve_json_fast_total" {print $2}')
[ "$n" = 0 ] && ok || bad "SWITCHYARD_SERVE_NO_SIMD=1: fast path decoded $n bodies"
! grep -q "yajl alone" fast.err && ok || bad "fast: $(cat fast.err)"

# An executable whose tree has no module: one line, then yajl.
real=$top_builddir/.libs/lt-switchyard
[ -x "$real" ] || real=$top_builddir/.libs/switchyard
mkdir -p alt/plugins.d alt/etc
cp "$real" alt/switchyard
cp "$top_builddir/etc/switchyard.ini" alt/etc/
LD_LIBRARY_PATH=$top_builddir/core/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
  SWITCHYARD_PLUGIN_PATH=$top_builddir/plugins.d start alt alt/switchyard || exit 1
answer "127.0.0.1:$port" ok-batch.json application/json > a-alt
same yajl-json-ok-batch.json a-alt "no module: answer vs yajl"
[ "$(grep -c 'JSON bodies are decoded by yajl alone: cannot load .*alt/cli/.libs/serve-simdjson.so' alt.err)" = 1 ] &&
  ok || bad "no module: $(cat alt.err)"
echo "serve-simd: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

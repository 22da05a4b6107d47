#!/bin/sh
# bench/serve.sh - `switchyard serve` under wrk, against the floor of this
# stack on this machine: bench/serve-floor, a libmicrohttpd server set up
# the same way that answers a fixed JSON body. Cases, in one run:
#   floor      1-row iris body posted, the fixed answer back
#   predict-1  1-row iris predict (JSON rows)
#   predict-100  100-row iris batch (JSON rows)
# The server and wrk share the machine's cores: the server is pinned to
# CPU 0 (taskset) with --threads 1, wrk to CPU 1 (-t1). serve runs with -q
# (no access log). Prints requests/s, p50 and p99 latency, rows/s and the
# server's CPU time per request (user + system, from /proc: what a case
# costs whatever else the machine runs) per case, then the ratios the
# goals name.
#   bench/serve.sh [SECONDS] [CONNECTIONS] [ROUNDS]   defaults: 15 s, 8, 5
# The servers start once and stay up; the cases run in ROUNDS rounds, one
# after another within a round (SECONDS / ROUNDS each), so that drift in
# the machine's speed over a run (the floor alone moved by 25% between
# runs) falls on every case alike. Each round's rows are printed; the
# ratios are taken per round, and their median is the run's figure.
# With SERVE_BEFORE="COMMAND" (another build's switchyard, as a command
# line), predict-1 and predict-100 also run against it first, as rows
# predict_1_before and predict_100_before: before and after in one run.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s switchyard cli/serve-simdjson.la bench/serve-floor plugins-dir >/dev/null
total=${1:-15}
rounds=${3:-5}
secs=$(( (total + rounds - 1) / rounds ))
conns=${2:-8}
command -v wrk >/dev/null || { echo "bench/serve: wrk not installed (apt-get install wrk)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home
mkdir -p "$HOME"
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$top/examples/iris" > "$tmp/b.ini"
S="$top/switchyard -q -c $tmp/b.ini"
$S release examples/iris/pipeline.flow --version 1.0
$S train iris
python3 - "$top/examples/iris/iris.csv" "$tmp" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
feats = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
def body(n):
    return json.dumps({"rows": [{k: json.loads(rows[i % len(rows)][k]) for k in feats} for i in range(n)]})
for n in (1, 100):
    with open("%s/post-%d.lua" % (sys.argv[2], n), "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        f.write("wrk.body = %s\n" % json.dumps(body(n)))
PY
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 100); do curl -s -o /dev/null "127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }
# The server's CPU time so far (user + system), in clock ticks: per
# request it says what a case costs whatever else the machine runs.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# run NAME ROWS PID PORT SCRIPT: one wrk run against the server PID
# listening on PORT, one table row
run() {
  c0=$(ticks "$3")
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$5" "http://127.0.0.1:$4/v1/predict")
  c1=$(ticks "$3")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  cpu=$(awk -v a="$c0" -v b="$c1" -v n="$reqs" -v hz="$hz" 'BEGIN {printf "%.1f", (b - a) / hz * 1e6 / n}')
  rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-18s %12s %10s %10s %14.0f %12s %s\n' "$1" "$rps" "$p50" "$p99" \
    "$(awk -v r="$rps" -v n="$2" 'BEGIN {print r * n}')" "$cpu" "${non2xx:+(non-2xx: $non2xx)}"
  eval "rps_$1=$rps p99_$1=$(us "$p99") cpu_$1=$cpu"
}
# wrk's "1.23ms", "456.00us", "1.02s" in microseconds
us() { awk -v t="$1" 'BEGIN { m = 1; if (t ~ /us$/) m = 1; else if (t ~ /ms$/) m = 1000; else if (t ~ /s$/) m = 1000000; sub(/[a-z]+$/, "", t); print t * m }'; }
# The servers, all on CPU 0 (only the one under wrk is busy)
pids=""
trap 'kill $pids 2>/dev/null; rm -rf "$tmp"' EXIT
pf=$(port)
taskset -c 0 ./bench/serve-floor "$pf" 1 & pids="$pids $!"; fpid=$!
wait_up "$pf"
start_serve() { # CMD -> sets spid, sport
  sport=$(port)
  taskset -c 0 $1 -q -c "$tmp/b.ini" serve iris --listen "127.0.0.1:$sport" --threads 1 --no-follow & spid=$!
  pids="$pids $spid"
  wait_up "$sport"
}
if [ -n "$SERVE_BEFORE" ]; then
  start_serve "$SERVE_BEFORE"; bpid=$spid; bport=$sport
fi
start_serve "$top/switchyard"; apid=$spid; aport=$sport
: > "$tmp/ratios"
for r in $(seq 1 "$rounds"); do
  echo "round $r of $rounds (${secs} s a case)"
  printf '%-18s %12s %10s %10s %14s %12s\n' case requests/s p50 p99 rows/s cpu_us/req
  run floor 1 "$fpid" "$pf" "$tmp/post-1.lua"
  if [ -n "$SERVE_BEFORE" ]; then
    run predict_1_before 1 "$bpid" "$bport" "$tmp/post-1.lua"
    run predict_100_before 100 "$bpid" "$bport" "$tmp/post-100.lua"
  fi
  run predict_1 1 "$apid" "$aport" "$tmp/post-1.lua"
  run predict_100 100 "$apid" "$aport" "$tmp/post-100.lua"
  awk -v a="$rps_predict_1" -v f="$rps_floor" -v b="$rps_predict_100" \
    -v pa="$p99_predict_1" -v pf="$p99_floor" -v ca="$cpu_predict_1" \
    -v cf="$cpu_floor" -v cb="$cpu_predict_100" 'BEGIN {
    printf "%.3f %.3f %.2f %.3f %.2f\n", a / f, pa / pf, b * 100 / a, cf / ca, ca * 100 / cb }' >> "$tmp/ratios"
done
echo
# the median of each ratio over the rounds (and the rounds' range)
med() { cut -d' ' -f"$1" "$tmp/ratios" | sort -g | awk '{v[NR] = $1} END {
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "%.2f (rounds %.2f-%.2f)", m, v[1], v[NR] }'; }
echo "predict-1 / floor, requests/s:   $(med 1) (goal >= 0.8)"
echo "predict-1 / floor, p99:          $(med 2) (goal <= 1.5)"
echo "rows/s, predict-100 / predict-1: $(med 3) (goal >= 20)"
echo "server CPU per request, floor / predict-1: $(med 4) (the throughput ratio with the load taken out)"
echo "server CPU per row, predict-1 / predict-100: $(med 5) (the batch ratio with the load taken out)"
echo "$(uptime | sed 's/.*load/load/')"

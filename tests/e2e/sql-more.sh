#!/usr/bin/env bash
# sql-more.sh - issue 15 leftovers (wave 7): a PostgreSQL connection lost
# while the feed reads fails the run (exit 1) naming the instance; a
# serving callable applies the source's `columns` and `where` to each
# request as apply through the feed would (serve, curl on a free port).
# PostgreSQL is a real server of the test's own (pg-server.sh).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/pg-server.sh"

if ! pg_start; then
  echo "sql-more: cannot start PostgreSQL (initdb/pg_ctl from Debian's postgresql)"
  exit 1
fi
cleanup() {
  exec 9>&- 2>/dev/null
  bg_stop
  pg_stop
  rm -rf "$tmp"
}
trap cleanup EXIT

cp "$ex/iris/iris.csv" .
cat >switchyard.ini <<INI
[FEED.csv]
provider = csv
path = .
[FEED.pg]
provider = postgres
conninfo = $PGCONN
[SINK.pg]
provider = postgres
conninfo = $PGCONN
[SINK.file]
provider = csv
path = out-{name}.csv
INI

# ---- a connection lost while the feed reads ---------------------------
cat >build.flow <<'FLOW'
name = "build";
source = { feed = "csv"; table = "iris"; };
actors = ( { id = "iris"; actor = "std.concat"; } );
sink = "pg";
FLOW
expect 0 '' -- "$sy" run build.flow -q
cat >read.flow <<'FLOW'
name = "read";
source = { feed = "pg"; table = "iris";
  where = { column = "sepal_length"; op = ">"; value = 5.0; }; };
actors = ( { id = "read"; actor = "std.concat"; } );
sink = "file";
FLOW
# Another session holds the table locked, so the feed's SELECT is sent
# and waits for its rows; its backend is then terminated, as a server
# going away would.
mkfifo locker.in
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$PGCONN" <locker.in >locker.out 2>&1 &
bg_pids+=($!)
exec 9>locker.in
echo "BEGIN; LOCK TABLE iris IN ACCESS EXCLUSIVE MODE; SELECT 'locked';" >&9
"$sy" run read.flow >lost.txt 2>&1 &
reader=$!
bg_pids+=($reader)
waiting=
for _ in $(seq 1 200); do
  waiting=$(pg_sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'switchyard' AND state = 'active' AND wait_event_type = 'Lock' AND query LIKE 'SELECT%FROM \"iris\"%'")
  [ -n "$waiting" ] && break
  sleep 0.05
done
if [ -n "$waiting" ]; then
  pg_sql "SELECT pg_terminate_backend($waiting)" >/dev/null
  wait "$reader"
  rc=$?
  [ "$rc" = 1 ] && grep -qE "feed\.pg: .*lost the connection to PostgreSQL while reading table 'iris'" lost.txt &&
    ok || bad "lost while reading: exit $rc: $(cat lost.txt)"
else
  wait "$reader"
  bad "lost while reading: the feed's SELECT never ran: $(cat lost.txt)"
fi
echo "ROLLBACK;" >&9
exec 9>&-
[ -e out-read.csv ] && bad "lost while reading: a result was written" || ok

# The same while the rows stream: a big table, the reader stopped
# (SIGSTOP) once its SELECT runs, so the server blocks sending rows to
# it; the backend is terminated, the reader continued.
pg_sql "CREATE TABLE big AS SELECT g AS a, g * 0.5 AS b, 'row' || g AS c FROM generate_series(1, 2000000) g" >/dev/null
sed 's/table = "iris";/table = "big";/; s/"sepal_length"/"a"/; s/id = "read"/id = "big"/' read.flow >big.flow
"$sy" run big.flow >lostbig.txt 2>&1 &
reader=$!
bg_pids+=($reader)
seen=
for _ in $(seq 1 400); do
  seen=$(pg_sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'switchyard' AND state = 'active' AND query LIKE 'SELECT%FROM \"big\"%'")
  [ -n "$seen" ] && break
  kill -0 "$reader" 2>/dev/null || break
  sleep 0.02
done
if [ -n "$seen" ] && kill -STOP "$reader" 2>/dev/null; then
  for _ in $(seq 1 100); do
    [ "$(pg_sql "SELECT wait_event FROM pg_stat_activity WHERE pid = $seen")" = ClientWrite ] && break
    sleep 0.05
  done
  pg_sql "SELECT pg_terminate_backend($seen)" >/dev/null
  kill -CONT "$reader"
  wait "$reader"
  rc=$?
  [ "$rc" = 1 ] && grep -qE "feed\.pg: .*lost the connection to PostgreSQL while reading table 'big'.*check the server and run again" lostbig.txt &&
    ok || bad "lost while streaming: exit $rc: $(cat lostbig.txt)"
else
  wait "$reader"
  bad "lost while streaming: the feed's SELECT was not seen: $(cat lostbig.txt)"
fi
[ -e out-big.csv ] && bad "lost while streaming: a result was written" || ok

# ---- serve: the source's columns and where meet each request ----------
start() { # start NAME ARGS...: `switchyard serve ARGS... --no-follow`
  local name=$1
  shift
  serve_start "$name" "$sy" serve "$@" --no-follow
}
post() { # post FILE: the answer into resp.txt; prints the status code
  curl -s -o resp.txt -w '%{http_code}' -X POST -H 'Content-Type: text/csv' \
    -H 'Accept: text/csv' --data-binary "@$1" "127.0.0.1:$port/v1/predict"
}
answer() { # answer CODE PATTERN FILE: a request's status and answer
  local code
  code=$(post "$3")
  if [ "$code" != "$1" ]; then
    bad "$3: answered $code, expected $1: $(cat resp.txt)"
  elif ! grep -qE -- "$2" resp.txt; then
    bad "$3: answer lacks /$2/: $(cat resp.txt)"
  else
    ok
  fi
}
# Two petal columns, in the order columns gives them, from rows with long
# sepals that are not setosa; the request needs sepal_length (the where
# reads it) but not sepal_width.
cat >srv.flow <<'FLOW'
name = "srv";
source = { feed = "csv"; table = "iris"; label = "species";
  columns = ["petal_width", "petal_length", "species"];
  where = ( { column = "sepal_length"; op = ">"; value = 5.0; },
            { column = "species"; op = "!="; value = "setosa"; } ); };
actors = ( { id = "scale"; actor = "std.scaler"; },
  { id = "model"; actor = "std.logreg"; inputs = ["scale"];
    params = { epochs = 200; rate = 0.5; }; } );
sink = "out";
FLOW
expect 0 '' -- "$sy" train srv.flow --state srv.state -q
"$sy" apply srv.flow --state srv.state >apply.csv 2>apply.err || bad "apply srv: $(cat apply.err)"
# The rows apply's feed reads, as a request without the label, columns
# in the table's order (serve puts them in the flow's).
awk -F, 'NR == 1 { print "sepal_length,petal_length,petal_width"; next }
  $1 > 5.0 && $5 != "setosa" { print $1 "," $3 "," $4 }' iris.csv >good.csv
[ "$(wc -l <good.csv)" = "$(wc -l <apply.csv)" ] && ok ||
  bad "good.csv and apply.csv differ in rows"
start srv srv.flow --state srv.state || exit 1
[ "$(post good.csv)" = 200 ] && ok || bad "good rows: $(cat resp.txt)"
same apply.csv resp.txt "serve vs apply through the feed"
curl -s "127.0.0.1:$port/v1/model" | grep -q '"input":\[{"name":"petal_width","type":"f64"},{"name":"petal_length","type":"f64"},{"name":"sepal_length","type":"f64"}\]' &&
  ok || bad "serve's input is not the source's columns: $(curl -s "127.0.0.1:$port/v1/model")"
# A column outside columns and where is not an input.
{ echo "sepal_length,sepal_width,petal_length,petal_width"; echo "6.1,2.8,4.7,1.2"; } >extra.csv
answer 422 "sepal_width" extra.csv
# A row the where excludes is refused, named, not dropped: the second.
{ echo "sepal_length,petal_length,petal_width"; echo "6.1,4.7,1.2"; echo "4.9,4.5,1.7"; } >short.csv
answer 422 "request row 2 does not match the source's where \(sepal_length > 5, srv.flow\)" short.csv
# A condition on the label holds when the request carries it.
{ echo "sepal_length,petal_length,petal_width,species"; echo "6.1,4.7,1.2,versicolor"; echo "5.4,1.7,0.4,setosa"; } >label.csv
answer 422 "request row 2 does not match the source's where \(species <> 'setosa'" label.csv
{ echo "sepal_length,petal_length,petal_width,species"; echo "6.1,4.7,1.2,versicolor"; } >labelok.csv
answer 200 "^prediction" labelok.csv
# One row (serve's bound-row path) gets the where too.
{ echo "sepal_length,petal_length,petal_width"; echo "4.0,4.7,1.2"; } >one.csv
answer 422 "request row 1 does not match" one.csv
sed -n 2p good.csv >row1
{ head -1 good.csv; cat row1; } >oneok.csv
post oneok.csv >/dev/null
[ "$(sed -n 2p resp.txt)" = "$(sed -n 2p apply.csv)" ] && ok ||
  bad "one good row: $(cat resp.txt) vs $(sed -n 2p apply.csv)"

# Columns alone: the bound-row path still serves one-row requests, with
# the request's columns put in the source's order.
sed '/where/d; /sepal_length.*op/d; /species.*op/d' srv.flow >cols.flow
sed -i 's/"species"\];/"species"]; };/' cols.flow
expect 0 '' -- "$sy" train cols.flow --state cols.state -q
"$sy" apply cols.flow --state cols.state >apply2.csv 2>apply2.err || bad "apply cols: $(cat apply2.err)"
start cols cols.flow --state cols.state || exit 1
cut -d, -f3,4 iris.csv | sed -n 2p >row1
{ echo "petal_length,petal_width"; cat row1; } >c1.csv
post c1.csv >/dev/null
[ "$(sed -n 2p resp.txt)" = "$(sed -n 2p apply2.csv)" ] && ok ||
  bad "columns, one row: $(cat resp.txt) vs $(sed -n 2p apply2.csv)"
answer 422 "sepal_length" good.csv

echo "sql-more: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

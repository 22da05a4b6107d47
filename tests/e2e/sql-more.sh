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
pids=()
cleanup() {
  exec 9>&- 2>/dev/null
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
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
pids+=($!)
exec 9>locker.in
echo "BEGIN; LOCK TABLE iris IN ACCESS EXCLUSIVE MODE; SELECT 'locked';" >&9
"$sy" run read.flow >lost.txt 2>&1 &
reader=$!
pids+=($reader)
waiting=
for _ in $(seq 1 200); do
  waiting=$(pg_sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'switchyard' AND state = 'active' AND query LIKE 'SELECT%'")
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
pids+=($reader)
seen=
for _ in $(seq 1 400); do
  seen=$(pg_sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'switchyard' AND state = 'active' AND query LIKE 'SELECT%'")
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

echo "sql-more: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

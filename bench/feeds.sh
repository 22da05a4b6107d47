#!/usr/bin/env bash
# bench/feeds.sh - rows/s of each feed reading a ROWS-row, 10-column table
# (default 1e6: c0 i64 0..ROWS-1, c1..c4 f64, c5..c9 text), against the
# database's own export of the same table, the floor on this machine:
# `sqlite3 -csv DB 'SELECT * FROM t'` and `psql -c '\copy t TO STDOUT'`;
# for the csv feed, awk splitting every field of the file. Then pushdown:
# `where` (c0 < 100000: a tenth of the rows) and `columns` (2 of 10)
# should read proportionally less; each has its own floor, the same
# query through the same tool (sqlite3 ... WHERE, \copy (SELECT ...),
# awk with the condition). A fingerprint's floor is the read floor
# (sqlite: it reads every cell) or `cat` of the file (csv: it hashes the
# bytes). Every time is the best of 3; the PostgreSQL server is a private
# one (tests/e2e/pg-server.sh) on a Unix socket.
#   bench/feeds.sh [ROWS]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
make -s switchyard bench/feeds plugins-dir >/dev/null || exit 1
rows=${1:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home SWITCHYARD_PLUGIN_PATH=$top/plugins.d
mkdir -p "$HOME"
. "$top/tests/e2e/pg-server.sh"
pg_start >/dev/null || { echo "bench/feeds: cannot start PostgreSQL"; exit 1; }

awk -v n="$rows" 'BEGIN { srand(1);
  print "c0,c1,c2,c3,c4,c5,c6,c7,c8,c9"
  for (i = 0; i < n; i++)
    printf "%d,%.6f,%.3f,%.9f,%d.25,name%d,w%d,x%d,y%d,z%d\n", i, rand(),
      rand() * 1000, rand(), i % 97, i, i % 13, i % 7, i * 3, i % 101 }' >"$tmp/t.csv"
schema='c0 BIGINT, c1 DOUBLE PRECISION, c2 DOUBLE PRECISION, c3 DOUBLE PRECISION, c4 DOUBLE PRECISION, c5 TEXT, c6 TEXT, c7 TEXT, c8 TEXT, c9 TEXT'
sqlite3 "$tmp/t.db" "CREATE TABLE t (${schema//BIGINT/INTEGER})" \
  ".import --csv --skip 1 $tmp/t.csv t"
pg_sql "CREATE TABLE t ($schema)"
"$PGBIN/psql" -X -q "$PGCONN" -c "\\copy t FROM '$tmp/t.csv' WITH (FORMAT csv, HEADER)"
pg_sql "VACUUM ANALYZE t"
cat >"$tmp/b.ini" <<INI
[FEED.csv]
provider = csv
path = $tmp
types = t.c0:i64
[FEED.lite]
provider = sqlite
path = $tmp/t.db
[FEED.pg]
provider = postgres
conninfo = $PGCONN
INI

best() { # best of 3 wall times of a command, in seconds
  local b=1e9 t0 t1
  for _ in 1 2 3; do
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    b=$(awk -v a="$t0" -v b="$t1" -v m="$b" 'BEGIN { d = b - a; print (d < m ? d : m) }')
  done
  echo "$b"
}
declare -A floor
floor[lite.read]=$(best sqlite3 -csv "$tmp/t.db" 'SELECT * FROM t')
floor[lite.where]=$(best sqlite3 -csv "$tmp/t.db" 'SELECT * FROM t WHERE c0 < 100000')
floor[lite.columns]=$(best sqlite3 -csv "$tmp/t.db" 'SELECT c0, c5 FROM t')
floor[lite.fingerprint]=${floor[lite.read]}
floor[pg.read]=$(best "$PGBIN/psql" -X -q "$PGCONN" -c '\copy t TO STDOUT')
floor[pg.where]=$(best "$PGBIN/psql" -X -q "$PGCONN" -c '\copy (SELECT * FROM t WHERE c0 < 100000) TO STDOUT')
floor[pg.columns]=$(best "$PGBIN/psql" -X -q "$PGCONN" -c '\copy (SELECT c0, c5 FROM t) TO STDOUT')
floor[csv.read]=$(best awk -F, '{ n += NF } END { print n }' "$tmp/t.csv")
floor[csv.where]=$(best awk -F, 'NR > 1 && $1 + 0 < 100000 { n += NF } END { print n }' "$tmp/t.csv")
floor[csv.columns]=$(best awk -F, '{ print $1 "," $6 }' "$tmp/t.csv")
floor[csv.fingerprint]=$(best cat "$tmp/t.csv")

printf '%-34s %9s %8s %12s %9s\n' "what" rows seconds rows/s vs_floor
line() { # line LABEL ROWS SECONDS FLOOR_SECONDS
  awk -v l="$1" -v r="$2" -v s="$3" -v f="$4" 'BEGIN {
    printf "%-34s %9d %8.3f %12.0f %9s\n", l, r, s, r / s,
      f == "" ? "" : sprintf("%.2fx", f / s) }'
}
line "floor: sqlite3 -csv" "$rows" "${floor[lite.read]}" ""
line "floor: psql \\copy TO STDOUT" "$rows" "${floor[pg.read]}" ""
line "floor: awk -F, (every field)" "$rows" "${floor[csv.read]}" ""
for feed in lite pg csv; do
  for mode in read where columns fingerprint; do
    [ "$feed" = pg ] && [ "$mode" = fingerprint ] && continue
    out=$(./bench/feeds "$tmp/b.ini" "$feed" t "$mode") || {
      echo "bench/feeds $feed $mode failed"
      continue
    }
    set -- $out
    r=$1
    [ "$mode" = fingerprint ] && r=$rows
    line "feed.$feed $mode" "$r" "$2" "${floor[$feed.$mode]}"
  done
done
pg_stop
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

#!/usr/bin/env bash
# sql.sh - feed/sink sqlite and postgres (issue 15) end to end: the same
# flows with pushdown read through the csv, sqlite and postgres feeds give
# byte-identical results; values with quotes and ';' are bound, never
# spliced; cache keys follow the table's content (sqlite) or are volatile
# unless told (postgres); sinks write all rows or none; bad input gets a
# clear error naming the instance, exit 2 before the run and 1 during it.
# PostgreSQL is a real server of the test's own (pg-server.sh).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/pg-server.sh"

if ! pg_start; then
  echo "sql: cannot start PostgreSQL (initdb/pg_ctl from Debian's postgresql)"
  exit 1
fi

cp "$ex/iris/iris.csv" .
# A feed built against ABI 1.0 (no query op): the core applies the
# pushdown for it. Plugin folders must not be group/world writable.
mkdir -m 0755 oldfeed
install -m 0755 "$top_builddir/tests/providers/.libs/fx_oldfeed.so" oldfeed/
export SWITCHYARD_PLUGIN_PATH=$tmp/oldfeed
# Values that would break a query built by concatenation.
cat >people.csv <<'CSV'
name,age,score
alice,31,1.5
"O'Brien""; DROP TABLE people; --",44,2.25
bob,,3.0
"x'); DELETE FROM people; --",27,
carol,31,0.5
CSV
cat >switchyard.ini <<INI
[FEED.csv]
provider = csv
path = .
types = people.age:i64, people.score:f64
[FEED.old]
provider = old
path = .
[FEED.lite]
provider = sqlite
path = data.db
busy_timeout = 200ms
[FEED.pg]
provider = postgres
conninfo = $PGCONN
[FEED.pgv]
provider = postgres
conninfo = $PGCONN
version_column = age
[FEED.pgpass]
provider = postgres
conninfo = host=$pg_dir dbname=postgres user=tester
password = \${SY_TEST_PGPASS}
[SINK.lite]
provider = sqlite
path = data.db
busy_timeout = 200ms
[SINK.liteadd]
provider = sqlite
path = data.db
mode = append
[SINK.pg]
provider = postgres
conninfo = $PGCONN
[SINK.pgadd]
provider = postgres
conninfo = $PGCONN
mode = append
[SINK.file]
provider = csv
path = out-{name}.csv
INI

# Building both databases from the CSV files through the sinks.
for t in iris people; do
  for s in lite pg; do
    cat >"build-$t-$s.flow" <<FLOW
name = "build";
source = { feed = "csv"; table = "$t"; };
actors = ( { id = "$t"; actor = "std.concat"; } );
sink = "$s";
FLOW
    expect 0 '' -- "$sy" run "build-$t-$s.flow" -q
  done
done
[ "$(sqlite3 data.db 'select count(*) from iris')" = 150 ] && ok ||
  bad "sqlite iris has not 150 rows"
[ "$(pg_sql 'select count(*) from iris')" = 150 ] && ok ||
  bad "postgres iris has not 150 rows"
[ "$(pg_sql "select data_type from information_schema.columns where table_name='people' and column_name='age'")" = bigint ] &&
  ok || bad "sink.postgres: people.age is not bigint"

# One flow per query; each runs through every feed into a CSV file.
query() { # query NAME TABLE SOURCE-KEYS
  local f
  for f in csv lite pg old; do
    cat >"q-$1-$f.flow" <<FLOW
name = "q";
source = { feed = "$f"; table = "$2"; $3 };
actors = ( { id = "$1-$f"; actor = "std.concat"; } );
sink = "file";
FLOW
    expect 0 '' -- "$sy" run "q-$1-$f.flow" -q
  done
  same "out-$1-csv.csv" "out-$1-lite.csv" "$1: sqlite vs csv"
  same "out-$1-csv.csv" "out-$1-pg.csv" "$1: postgres vs csv"
  same "out-$1-csv.csv" "out-$1-old.csv" "$1: core-applied vs csv"
}
query all iris ''
query where iris 'columns = ["species", "sepal_length"];
  where = ( { column = "species"; op = "!="; value = "setosa"; },
            { column = "sepal_length"; op = ">="; value = 6.5; } );
  order = ["sepal_length desc", "species"]; limit = 12;'
query strings iris 'where = { column = "species"; op = "<"; value = "versicolor"; };
  order = ["petal_width desc"];'
query nulls people 'order = ["age", "score desc"];'
query int people 'where = { column = "age"; op = ">"; value = 30; }; columns = ["name"];'
query limit0 iris 'limit = 0;'
[ "$(wc -l <out-where-csv.csv)" = 13 ] && ok || bad "where: not 12 rows"
[ "$(wc -l <out-int-csv.csv)" = 4 ] && ok || bad "int: not 3 rows"
head -2 out-nulls-csv.csv | grep -q '^x.*,27,$' && ok ||
  bad "nulls: order by age should start with 27: $(cat out-nulls-csv.csv)"
tail -1 out-nulls-csv.csv | grep -q '^bob,,3' && ok ||
  bad "nulls: a null age sorts last: $(cat out-nulls-csv.csv)"

# Injection: the literal value matches its one row exactly, and the
# tables survive.
evil="O'Brien\\\"; DROP TABLE people; --"
query inject people "where = { column = \"name\"; op = \"=\"; value = \"$evil\"; };"
[ "$(wc -l <out-inject-pg.csv)" = 2 ] && grep -q '^"O.Brien""; DROP TABLE people; --",44,2.25$' out-inject-pg.csv &&
  ok || bad "injection: not the one row: $(cat out-inject-pg.csv)"
[ "$(pg_sql 'select count(*) from people')" = 5 ] && ok ||
  bad "postgres: people lost rows"
[ "$(sqlite3 data.db 'select count(*) from people')" = 5 ] && ok ||
  bad "sqlite: people lost rows"

# compile --explain shows the pushdown readably.
expect 0 "pushdown: columns species, sepal_length; where species <> 'setosa' AND sepal_length >= 6.5; order sepal_length desc, species; limit 12" -- "$sy" compile --explain q-where-lite.flow

# check: names and types against the table, with file:line.
for f in lite pg; do
  cat >"bad-$f.flow" <<FLOW
name = "bad";
source = { feed = "$f"; table = "iris";
  columns = ["species", "petal"];
  where = { column = "species"; op = ">"; value = 3; };
};
actors = ( { id = "a"; actor = "std.concat"; } );
FLOW
  expect 2 "bad-$f.flow:3: source.columns: table 'iris' of feed '$f' has no column 'petal'" -- "$sy" check "bad-$f.flow"
  expect 2 "bad-$f.flow:4: source.where: column 'species' of table 'iris' is string" -- "$sy" check "bad-$f.flow"
  sed 's/table = "iris"/table = "irises"/' "bad-$f.flow" >"missing-$f.flow"
  expect 2 "feed '$f', table 'irises': no table 'irises' in database .*tables: .*iris" -- "$sy" check "missing-$f.flow"
done
# A missing table: sqlite finds it before the run (its cache key needs
# the table), postgres (volatile) when the run reads it.
sed 's/"lite"; table = "iris"/"lite"; table = "irises"/' q-all-lite.flow >m1.flow
expect 2 "before the run \(the feed step's cache key\): feed.lite: no table 'irises'" -- "$sy" run m1.flow
sed 's/"pg"; table = "iris"/"pg"; table = "irises"/' q-all-pg.flow >m2.flow
expect 1 "feed.pg: no table 'irises'" -- "$sy" run m2.flow

# Cache keys: sqlite follows the table's rows; postgres is volatile unless
# version_column is set.
key() { # the feed step's line of --explain (key and why it runs)
  "$sy" run --explain "$1" >explain.txt 2>&1
  grep -m1 ' feed ' explain.txt
}
k1=$(key q-all-lite.flow)
sqlite3 data.db "update people set age = 45 where age = 44"
[ "$(key q-all-lite.flow)" = "$k1" ] && ok ||
  bad "sqlite: a change to another table changed iris's key"
sqlite3 data.db "update iris set sepal_length = 5.2 where rowid = 1"
[ "$(key q-all-lite.flow)" != "$k1" ] && ok ||
  bad "sqlite: the key did not change with the table's rows"
key q-all-pg.flow | grep -q "no content fingerprint" && ok ||
  bad "postgres feed should be volatile: $(key q-all-pg.flow)"
sed 's/"pg"/"pgv"/' q-int-pg.flow >v.flow
kv=$(key v.flow)
grep -q "no content fingerprint" <<<"$kv" && bad "pgv is volatile: $kv" || ok
pg_sql "update people set age = 99 where name = 'alice'" >/dev/null
[ "$(key v.flow)" != "$kv" ] && ok || bad "pgv: key did not follow the version column"

# Secrets: ${VAR} for the password; config redacts it.
export SY_TEST_PGPASS=s3cret
sed 's/"pg"/"pgpass"/' q-int-pg.flow >p.flow
expect 0 '' -- "$sy" run p.flow -q
"$sy" config >config.txt 2>&1
grep -q s3cret config.txt && bad "config shows the password" || ok
grep -A3 'FEED.pgpass' config.txt | grep -q '^password = (secret)' && ok ||
  bad "config: no (secret): $(cat config.txt)"
export SY_TEST_PGPASS=wrong
expect 2 "feed 'pgpass'.*cannot connect to PostgreSQL.*password" -- "$sy" check p.flow
expect 1 "feed.pgpass: cannot connect to PostgreSQL.*check the user in conninfo and the password" -- "$sy" run p.flow

# Sinks: append adds, a mismatched append fails and changes nothing.
cat >add.flow <<'FLOW'
name = "add";
source = { feed = "csv"; table = "people"; };
actors = ( { id = "people"; actor = "std.concat"; } );
sink = "liteadd";
FLOW
expect 0 '' -- "$sy" run add.flow -q
[ "$(sqlite3 data.db 'select count(*) from people')" = 10 ] && ok ||
  bad "append: not 10 rows"
sqlite3 data.db "create table wrong (name INTEGER)"
expect 1 "sink.liteadd.*column 'name' is INTEGER, but the result's column is string" -- "$sy" run add.flow -o SINK.liteadd.table=wrong
[ "$(sqlite3 data.db 'select count(*) from wrong')" = 0 ] && ok ||
  bad "a failed append left rows"

pg_sql "CREATE TABLE wrongpg (name INTEGER)" >/dev/null
sed 's/"liteadd"/"pgadd"/' add.flow >addpg.flow
expect 1 "sink.pgadd.*table 'wrongpg': column 'name' is integer, but the result's column is string" -- "$sy" run addpg.flow -o SINK.pgadd.table=wrongpg
[ "$(pg_sql 'SELECT count(*) FROM wrongpg')" = 0 ] && ok ||
  bad "a failed postgres append left rows"
# An unknown column found during the run (postgres reads at run time).
sed 's/columns = \["name"\]/columns = ["nope"]/' q-int-pg.flow >nope.flow
expect 1 "feed.pg: columns: table 'people' has no column 'nope' \(columns: name, age, score\)" -- "$sy" run nope.flow

# A locked database: busy_timeout, then a clear error, table unchanged.
( echo "BEGIN EXCLUSIVE; INSERT INTO people VALUES ('z', 1, 1.0);"; sleep 4; echo "ROLLBACK;" ) | sqlite3 data.db &
locker=$!
sleep 0.5
expect 1 "sink.lite: database '(./)?data.db' is locked by another connection \(waited 200 ms\)" -- "$sy" run build-people-lite.flow
expect 2 "before the run \(the feed step's cache key\): feed.lite: database '(./)?data.db' is locked" -- "$sy" run q-all-lite.flow
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null
[ "$(sqlite3 data.db 'select count(*) from people')" = 10 ] && ok ||
  bad "locked: people changed"

# kill -9 in the middle of a big write leaves the table as it was.
awk 'BEGIN { print "a,b,c"; for (i = 0; i < 1500000; i++) printf "%d,%d.5,row%d\n", i, i, i }' >big.csv
sed 's/table = "people"/table = "big"/; s/id = "people"/id = "big"/; s/"liteadd"/"lite"/' add.flow >big.flow
sqlite3 data.db "CREATE TABLE big (a INTEGER, b REAL, c TEXT); INSERT INTO big VALUES (1, 1.5, 'old')"
"$sy" run big.flow -q &
writer=$!
for _ in $(seq 1 400); do
  [ -e data.db-journal ] && break
  sleep 0.05
done
if [ -e data.db-journal ]; then
  sleep 0.2
  kill -9 "$writer"
  wait "$writer" 2>/dev/null
  [ "$(sqlite3 data.db 'select count(*) from big')" = 1 ] && ok ||
    bad "kill -9: table big changed"
  [ "$(sqlite3 data.db 'select c from big')" = old ] && ok ||
    bad "kill -9: table big changed"
else
  wait "$writer"
  bad "kill -9: the write never started a transaction"
fi

# PostgreSQL: a connection lost in the middle of a big COPY fails the run
# (exit 1) naming the instance; a kill -9 of the writer leaves nothing
# either. Both leave the table as it was.
pg_sql "CREATE TABLE big (a BIGINT, b DOUBLE PRECISION, c TEXT)" >/dev/null
pg_sql "INSERT INTO big VALUES (1, 1.5, 'old')" >/dev/null
sed 's/"lite"/"pg"/' big.flow >bigpg.flow
copying() { # waits until a switchyard COPY runs on the server
  for _ in $(seq 1 600); do
    [ -n "$(pg_sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'switchyard' AND query LIKE 'COPY%'")" ] &&
      return 0
    sleep 0.05
  done
  return 1
}
"$sy" run bigpg.flow >lost.txt 2>&1 &
writer=$!
if copying; then
  pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'switchyard'" >/dev/null
  wait "$writer"
  rc=$?
  [ "$rc" = 1 ] && grep -q "sink.pg.*lost the connection to PostgreSQL.*the table is unchanged" lost.txt &&
    ok || bad "lost connection: exit $rc: $(cat lost.txt)"
else
  wait "$writer"
  bad "lost connection: the COPY never started: $(cat lost.txt)"
fi
[ "$(pg_sql 'SELECT count(*) FROM big')" = 1 ] && ok ||
  bad "lost connection: table big changed"
"$sy" run bigpg.flow -q &
writer=$!
if copying; then
  kill -9 "$writer"
  wait "$writer" 2>/dev/null
  sleep 0.5
  [ "$(pg_sql 'SELECT count(*) FROM big')" = 1 ] && ok ||
    bad "kill -9: postgres table big changed"
else
  wait "$writer"
  bad "kill -9 (postgres): the COPY never started"
fi

# The README's "Databases" commands, verbatim, in a copy of the tree
# (build.flow writes examples/sqlite/iris.db); the SQLite example
# predicts what the CSV one does.
mkdir -p tree/examples
cp -R "$ex/sqlite" "$ex/iris" tree/examples/
chmod -R u+w tree/examples # distcheck's sources are read-only
rm -f tree/examples/sqlite/iris.db
printf '#!/bin/sh\nexec "%s" "$@"\n' "$sy" >tree/switchyard
chmod +x tree/switchyard
awk '
  /^## / { in_s = ($0 == "## Databases: SQLite and PostgreSQL"); next }
  in_s && /^```sh[[:space:]]*$/ { in_sh = 1; next }
  in_sh && /^```/ { in_sh = 0; next }
  in_s && in_sh { print }
' "$top_srcdir/README.md" >readme-db.txt
[ "$(wc -l <readme-db.txt)" -ge 4 ] && ok || bad "README: no Databases commands"
while IFS= read -r line; do
  (cd tree && bash -c "$line") >readme-out.txt 2>&1 && ok ||
    bad "README command '$line' failed: $(cat readme-out.txt)"
done <readme-db.txt
(cd tree && ./switchyard run examples/sqlite/pipeline.flow >../lite.csv &&
  ./switchyard run examples/iris/pipeline.flow >../iris-csv.csv)
same lite.csv iris-csv.csv "examples/sqlite vs examples/iris predictions"

echo "sql: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

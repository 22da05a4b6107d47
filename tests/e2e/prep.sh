#!/usr/bin/env bash
# The actors users reach for first (issue 14): std.impute, std.onehot,
# std.split, and the sinks' passthrough of source columns. Run by
# `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

mkdir data out
printf 'x,c,y\n1,a,1\n,b,2\n3,a,3\n4,c,4\n5,b,5\n,a,6\n7,c,7\n10,b,8\n' > data/t.csv
printf '[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini
cat > prep.flow <<'F'
name = "prep";
source = { feed = "data"; table = "t"; };
actors = (
  { id = "fill"; actor = "std.impute"; params = { strategy = "median"; columns = ["x"]; }; },
  { id = "enc"; actor = "std.onehot"; inputs = ["fill"]; }
);
sink = "out";
F
"$sy" run prep.flow --cache off > prep.csv 2> prep.err || bad "run prep: $(cat prep.err)"
# median of 1 3 4 5 7 10 is 4.5; c becomes c_a c_b c_c in place
cat > want.csv <<'W'
x,c_a,c_b,c_c,y
1.0,1.0,0.0,0.0,1
4.5,0.0,1.0,0.0,2
3.0,1.0,0.0,0.0,3
4.0,0.0,0.0,1.0,4
5.0,0.0,1.0,0.0,5
4.5,1.0,0.0,0.0,6
7.0,0.0,0.0,1.0,7
10.0,0.0,1.0,0.0,8
W
same want.csv prep.csv "impute median + onehot"
sed 's/strategy = "median"/strategy = "mean"/' prep.flow > mean.flow
"$sy" -q run mean.flow --cache off | awk -F, 'NR==3 {print $1}' > mean.txt
[ "$(cat mean.txt)" = "5.0" ] && ok || bad "mean fill: $(cat mean.txt)"
sed 's/strategy = "median"/strategy = "constant"; value = -1.0/' prep.flow > const.flow
[ "$("$sy" -q run const.flow --cache off | awk -F, 'NR==3 {print $1}')" = "-1.0" ] && ok || bad "constant fill"

# states: impute and onehot describe theirs
"$sy" train prep.flow --state prep.state 2> /dev/null || bad "train prep"
j=$("$sy" state show prep.state | jq -c '[.fill.state, .enc.state]')
[ "$j" = '[{"strategy":"median","fill":{"x":4.5}},{"categories":{"c":["a","b","c"]}}]' ] && ok || bad "states: $j"
# apply with a category not seen at train: an error naming it, or zeros
printf 'x,c,y\n1,a,1\n2,z,2\n' > data/t.csv
expect 1 "std\.onehot: column 'c' has 'z' at row 1 \(rows count from 0\), a category not seen at train.*unknown = \"ignore\"" -- "$sy" apply prep.flow --state prep.state
sed 's/inputs = \["fill"\]; }/inputs = ["fill"]; params = { unknown = "ignore"; }; }/' prep.flow > ignore.flow
printf 'x,c,y\n1,a,1\n,b,2\n3,a,3\n4,c,4\n5,b,5\n,a,6\n7,c,7\n10,b,8\n' > data/t.csv
"$sy" train ignore.flow --state ignore.state 2> /dev/null || bad "train ignore"
printf 'x,c,y\n1,a,1\n2,z,2\n' > data/t.csv
[ "$("$sy" -q apply ignore.flow --state ignore.state | sed -n 3p)" = "2.0,0.0,0.0,0.0,2" ] && ok || bad "unknown = ignore: not a row of zeros"
# a column with no value at all has no median
printf 'x,c,y\n,a,1\n,b,2\n' > data/t.csv
printf '[FEED.data]\nprovider = csv\npath = data\ntypes = t.x:f64\n' > typed.ini
expect 1 "std\.impute: column 'x' has no value at all to take the median of" -- "$sy" -c typed.ini run prep.flow --cache off

# ---- std.split: fraction and seed, disjoint and complete --------------
seq 0 99 | awk 'BEGIN {print "id,v"} {print $1 "," $1 * 2}' > data/rows.csv
split_flow() { # NAME OUTPUT SEED
  cat > "$1.flow" <<F
name = "$1";
source = { feed = "data"; table = "rows"; };
actors = ( { id = "split"; actor = "std.split"; params = { fraction = 0.2; seed = $3; }; } );
sink = { instance = "out"; input = "split:$2"; };
F
}
split_flow tr 0 7; split_flow te 1 7; split_flow te2 1 8
"$sy" -q run tr.flow --cache off > tr.csv && "$sy" -q run te.flow --cache off > te.csv && "$sy" -q run te2.flow --cache off > te2.csv || bad "split runs"
[ "$(tail -n +2 te.csv | wc -l)" -eq 20 ] && [ "$(tail -n +2 tr.csv | wc -l)" -eq 80 ] && ok || bad "split sizes: $(wc -l te.csv tr.csv)"
[ "$(tail -n +2 tr.csv te.csv -q | cut -d, -f1 | sort -n | uniq | wc -l)" -eq 100 ] && ok || bad "train and test rows overlap or miss some"
tail -n +2 te.csv | cut -d, -f1 | sort -nc && ok || bad "test rows are not in input order"
"$sy" -q run te.flow --cache off | cmp -s - te.csv && ok || bad "same seed, other rows"
cmp -s te.csv te2.csv && bad "another seed gave the same rows" || ok
cat > badsplit.flow <<'F'
name = "b";
source = { feed = "data"; table = "rows"; };
actors = ( { id = "split"; actor = "std.split"; params = { fraction = 1.5; }; } );
sink = "out";
F
expect 2 "fraction" -- "$sy" check badsplit.flow

# ---- passthrough: the label and the row number beside predictions -----
cd "$top_srcdir" || exit 1
"$sy" -o SINK.out.passthrough=species,_row run examples/iris/pipeline.flow > "$tmp/pt.csv" || bad "passthrough run (README command)"
cd "$tmp" || exit 1
[ "$(head -1 pt.csv)" = "prediction,p_setosa,p_versicolor,p_virginica,species,_row" ] && ok || bad "passthrough header: $(head -1 pt.csv)"
# the species column is the data's, row by row; _row counts from 0
paste -d, <(tail -n +2 "$ex/iris/iris.csv" | awk -F, '{print $NF}') <(tail -n +2 pt.csv | awk -F, '{print $5 "," $6}') |
  awk -F, '$1 != $2 || $3 != NR - 1 {bad = 1} END {exit bad}' && ok || bad "passthrough columns do not match the source"
# without passthrough the output is as before
"$sy" -q run "$ex/iris/pipeline.flow" > plain.csv
[ "$(head -1 plain.csv)" = "prediction,p_setosa,p_versicolor,p_virginica" ] && ok || bad "plain header changed"
cut -d, -f1-4 pt.csv | cmp -s - plain.csv && ok || bad "passthrough changed the predictions"
# the csv sink too
printf '[FEED.data]\nprovider = csv\npath = %s\n[SINK.file]\nprovider = csv\npath = %s/out/{name}.csv\npassthrough = species\n' "$ex/iris" "$tmp" > pt.ini
sed 's/sink    = "out";/sink = "file";/' "$ex/iris/pipeline.flow" > ptf.flow
"$sy" -c pt.ini run ptf.flow --cache off 2> ptf.err && [ "$(head -1 out/model.csv)" = "prediction,p_setosa,p_versicolor,p_virginica,species" ] && ok || bad "csv sink passthrough: $(cat ptf.err; head -1 out/model.csv)"
# a name the source lacks, or rows that no longer match: an error
expect 1 "passthrough: the source has no column 'nope'" -- "$sy" -c pt.ini -o SINK.file.passthrough=nope run ptf.flow --cache off
printf '[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini
expect 1 "passthrough: the results have 20 rows but the source has 100" -- "$sy" -o SINK.out.passthrough=id run te.flow --cache off

echo "prep: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

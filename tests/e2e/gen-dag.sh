#!/usr/bin/env bash
# gen-dag.sh SEED NODES - prints a random flow (a DAG of std and sys
# actors that all keep the schema a,b,c of f64) for the equivalence suite.
# The same seed gives the same flow. Table "points" (see equivalence.sh).
set -eu
seed=$1 nodes=$2
awk -v seed="$seed" -v n="$nodes" 'BEGIN {
  srand(seed);
  print "name = \"dag" seed "\";";
  print "source = { feed = \"data\"; table = \"points\"; };";
  print "actors = (";
  for (i = 1; i <= n; i++) {
    # inputs: 1 to 3 earlier nodes (or the source)
    k = (i > 2 && rand() < 0.35) ? 2 + int(rand() * 2) : 1;
    ins = "";
    for (j = 0; j < k; j++) {
      p = int(rand() * i);   # 0 = source
      name = (p == 0) ? "source" : "n" p;
      ins = ins (j ? ", " : "") "\"" name "\"";
      used[p] = 1;
    }
    if (k > 1) {
      printf "  { id = \"n%d\"; actor = \"std.concat\"; inputs = [%s]; params = { axis = \"rows\"; }; },\n", i, ins;
    } else {
      r = rand();
      if (r < 0.35)
        printf "  { id = \"n%d\"; actor = \"std.head\"; inputs = [%s]; params = { n = %d; }; },\n", i, ins, 5 + int(rand() * 40);
      else if (r < 0.75)
        printf "  { id = \"n%d\"; actor = \"std.scaler\"; inputs = [%s]; },\n", i, ins;
      else
        printf "  { id = \"n%d\"; actor = \"sys.exec\"; inputs = [%s]; params = { command = \"cat\"; }; },\n", i, ins;
    }
  }
  # every node nobody reads feeds the final concat
  ends = "";
  for (i = 1; i <= n; i++)
    if (!used[i]) ends = ends (ends == "" ? "" : ", ") "\"n" i "\"";
  printf "  { id = \"all\"; actor = \"std.concat\"; inputs = [%s]; params = { axis = \"rows\"; }; }\n", ends;
  print ");";
  print "sink = \"out\";";
}'

#!/bin/sh
# Regenerates iris.csv (Fisher's iris data, 150 rows) from the copy that
# Debian's python3-sklearn package ships, adding a header and the species
# names. The result is committed, so nothing needs this script to run.
#
#   cd examples/iris && ./make-data.sh
set -eu
src=/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv
if [ ! -f "$src" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download python3-sklearn >/dev/null && dpkg-deb -x python3-sklearn_*.deb root)
  src="$tmp/root$src"
fi
awk -F, 'NR == 1 { n[0] = $3; n[1] = $4; n[2] = $5;
                   print "sepal_length,sepal_width,petal_length,petal_width,species"; next }
         { print $1 "," $2 "," $3 "," $4 "," n[$5] }' "$src" > iris.csv
echo "wrote iris.csv ($(($(wc -l < iris.csv) - 1)) rows)"

#!/bin/sh
# bench/registry.sh - import and export of one release with N generations:
# an archive file (made by bench/registry) imported into a fresh file
# registry (`local`'s provider), and that release exported back to an
# archive. Prints one row per N; the seconds are wall time of one
# `switchyard registry import` / `export` each. Linear means the last
# column (microseconds per generation) stays flat as N grows.
#   bench/registry.sh                 N = 300 1000 3000 10000
#   bench/registry.sh 100 3000        those N only
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s switchyard bench/registry plugins-dir >/dev/null
sizes=${*:-300 1000 3000 10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home
mkdir -p "$HOME"
now() { date +%s.%N; }
printf '%-8s %10s %10s %14s %14s\n' N import_s export_s import_us/gen export_us/gen
for n in $sizes; do
  src=$tmp/src-$n.tar
  ./bench/registry "$src" "$n" 256
  printf '[REGISTRY.fresh]\nprovider = file\npath = %s/fresh-%s\n' "$tmp" "$n" > "$tmp/b.ini"
  t0=$(now)
  ./switchyard -q -c "$tmp/b.ini" registry import "$src" --registry fresh
  t1=$(now)
  ./switchyard -q -c "$tmp/b.ini" registry export bench:1.0 "$tmp/out-$n.tar" --registry fresh
  t2=$(now)
  got=$(./switchyard -c "$tmp/b.ini" registry list bench:1.0 --registry fresh | tail -n +3 | wc -l)
  [ "$got" -eq "$n" ] || { echo "imported $got generations, not $n" >&2; exit 1; }
  awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
    printf "%-8d %10.2f %10.2f %14.0f %14.0f\n", n, b - a, c - b,
      (b - a) * 1e6 / n, (c - b) * 1e6 / n }'
  rm -rf "$tmp/fresh-$n" "$src" "$tmp/out-$n.tar"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

#!/usr/bin/env bash
# Builds every libFuzzer target under tests/fuzz/ with clang and runs each
# for N seconds (default 15). Longer by hand:  tests/fuzz/run.sh 600
# Each target lists the core sources it needs on a line "// sources: ...".
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-15}
out=tests/fuzz/bin
mkdir -p "$out"
status=0
for src in tests/fuzz/fuzz_*.c; do
  [ -f "$src" ] || continue
  name=$(basename "$src" .c)
  deps=$(sed -n 's|^// sources: ||p' "$src")
  libs=$(sed -n 's|^// libs: ||p' "$src")
  echo "fuzz: $name (${secs}s)"
  clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -Iinclude -Icore $src $deps $libs -o "$out/$name"
  corpus="$out/$name.corpus"
  mkdir -p "$corpus"
  seeds="tests/fuzz/seeds/$name"
  [ -d "$seeds" ] || seeds=""
  if ! "$out/$name" -max_total_time="$secs" -print_final_stats=0 \
      -artifact_prefix="$out/$name-" "$corpus" $seeds >"$out/$name.log" 2>&1; then
    tail -40 "$out/$name.log"
    status=1
  else
    grep -E '^#[0-9]+.*DONE' "$out/$name.log" | tail -1 || true
  fi
done
exit $status

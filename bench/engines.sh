#!/usr/bin/env bash
# bench/engines.sh [--reps R] [LENGTH...] - the overhead of `-R batch`
# (providers/runner-slurm) per Slurm job, on a one-node Slurm started here
# for the run (tests/e2e/slurm-cluster.sh: needs slurm-wlm and munge).
#
# For each chain length L (default 4 8 16) it times, best of R (default
# 3), wall clock from the first submission to the last job's end:
#   floor  L jobs `sbatch --wrap true`, each --dependency=afterok on the one
#          before, submitted at once: the engine's own cost per job;
#   step   `switchyard run` of a chain of L actor steps with -R batch,
#          granularity = step: L jobs, plus compiling, the feed and the
#          sink in this process;
#   chain  the same flow with granularity = chain: one job.
# The runner and the floor both look at the queue every 50 ms. Prints a
# table; "x floor" is the time over the floor's for the same L (the goal
# for step: at most 1.2).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
reps=3
if [ "${1:-}" = --reps ]; then
  reps=$2
  shift 2
fi
lengths=("$@")
[ ${#lengths[@]} -gt 0 ] || lengths=(4 8 16)
make -s -C "$top" all >/dev/null || exit 1
sy=$top/switchyard
tmp=$(mktemp -d)
export HOME=$tmp/home XDG_CONFIG_HOME= SWITCHYARD_PLUGIN_PATH=
mkdir -p "$HOME"
cd "$tmp" || exit 1
# shellcheck source=../tests/e2e/slurm-cluster.sh
. "$top/tests/e2e/slurm-cluster.sh"
slurm_start

now() { date +%s.%N; }
# Waits until every job has ended (the runner, too, returns once Slurm
# has let its last job go).
drain() { while [ -n "$(squeue -h -o %i)" ]; do sleep 0.05; done; }
best() { tr ' ' '\n' | grep . | sort -g | head -1; }

mkdir -p data
printf 'a,b\n1,2\n3,4\n5,6\n' > data/points.csv
printf '[FEED.data]\nprovider = csv\npath = data\n[SINK.null]\nprovider = csv\npath = out.csv\n' > switchyard.ini
chain_flow() { # chain_flow L: a chain of L actor steps
  echo 'name = "bench";'
  echo 'source = { feed = "data"; table = "points"; };'
  echo 'actors = ('
  for i in $(seq 1 "$1"); do
    printf '  { id = "s%d"; actor = "std.head"; params = { n = %d; }; }%s\n' "$i" $((100 - i)) \
      "$([ "$i" -lt "$1" ] && echo ,)"
  done
  echo ');'
  echo 'sink = "null";'
}

echo "engines: $(uptime | sed 's/.*load average: /load /')"
printf '%6s %9s %9s %9s %9s %7s %9s %5s %7s\n' L floor_s floor/job step_s step/job "x floor" chain_s jobs "x floor"
for L in "${lengths[@]}"; do
  chain_flow "$L" > "c$L.flow"
  floor="" step="" chain=""
  for r in $(seq "$reps"); do
    drain
    t0=$(now)
    dep=
    for _ in $(seq "$L"); do
      dep=$(sbatch --parsable ${dep:+--dependency=afterok:$dep} -o /dev/null --wrap true)
    done
    drain
    floor="$floor $(echo "$(now) - $t0" | bc)"

    t0=$(now)
    "$sy" -q -o "STORAGE.cache.path=$tmp/st-s$L-$r" -o RUNNER.batch.poll=50ms \
      run "c$L.flow" -R batch || exit 1
    step="$step $(echo "$(now) - $t0" | bc)"
    drain

    before=$(squeue -h -t all -o %i | wc -l)
    t0=$(now)
    "$sy" -q -o "STORAGE.cache.path=$tmp/st-c$L-$r" -o RUNNER.batch.poll=50ms \
      -o RUNNER.batch.granularity=chain run "c$L.flow" -R batch || exit 1
    chain="$chain $(echo "$(now) - $t0" | bc)"
    jobs=$(($(squeue -h -t all -o %i | wc -l) - before))
  done
  f=$(echo "$floor" | best) s=$(echo "$step" | best) c=$(echo "$chain" | best)
  printf '%6d %9.2f %9.3f %9.2f %9.3f %7.2f %9.2f %5d %7.2f\n' "$L" "$f" \
    "$(echo "$f / $L" | bc -l)" "$s" "$(echo "$s / $L" | bc -l)" \
    "$(echo "$s / $f" | bc -l)" "$c" "$jobs" "$(echo "$c / $f" | bc -l)"
done
echo "engines: $(uptime | sed 's/.*load average: /load /')"

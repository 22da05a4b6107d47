#!/bin/sh
# bench/mpi.sh - builds bench/mpi and runs it on 2 ranks from the top of the
# built tree, passing its arguments on (--steps N, --reps R).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s bench/mpi bench/actor-bench.la plugins-dir >/dev/null
# Root in containers, and more ranks than cores on small machines.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
exec mpirun -np "${RANKS:-2}" ./bench/mpi "$@"

/*
 * bench/common.h - the set-up that the bench programs (bench/runners,
 * bench/mpi) share: a private plugin folder for the bench actors, a
 * one-row table for a flow's feed, and flow files of chained actors.
 *
 * Run the programs from the top of the built tree: bench_setup() copies
 * bench/.libs/actor-bench.so, which is never installed, into a folder of
 * its own, because the loader only trusts plugin files in folders that
 * are not group or world writable.
 */
#ifndef SY_BENCH_COMMON_H
#define SY_BENCH_COMMON_H

#include <stddef.h>

/* Makes dir, a mkdtemp() template that is filled in place, with mode
 * 0755, holding plugins/actor-bench.so (a copy of bench/.libs/
 * actor-bench.so, in a 0755 folder) and t.csv (a table with column a and
 * one row), and points SWITCHYARD_PLUGIN_PATH at dir/plugins and
 * ./plugins.d. Returns 0, or -1 after saying why on stderr, prefixed with
 * prog; on failure nothing is left behind. */
int bench_setup(const char *prog, char *dir);

/* Removes dir and everything in it (rm -rf); 0 or -1. */
int bench_cleanup(const char *dir);

/* Writes a flow file of n chained bench.empty actors reading table t;
 * 0 or -1. */
int bench_write_flow(const char *path, size_t n);

/* The same chain of bench.spin actors spinning `us` microseconds each
 * (bench.empty when us is 0); 0 or -1. */
int bench_write_spin_flow(const char *path, size_t n, long us);

/* Writes a flow file without a source of about n steps in layers of
 * width w ~ sqrt(n): the first layer bench.source actors (inputs = []),
 * each later one bench.empty actors reading 2 or 3 random actors of the
 * layer before (a fixed seed, so every run writes the same file), and
 * one bench.empty joining the last layer, which the sink reads. Sets
 * *steps to the number of actors; 0 or -1. */
int bench_write_layered_flow(const char *path, size_t n, size_t *steps);

/* The same layers with bench.spin bodies of `us` microseconds (the
 * bench.source roots and the joining step stay as they are; bench.empty
 * bodies when us is 0); 0 or -1. */
int bench_write_layered_spin_flow(const char *path, size_t n, long us,
                                  size_t *steps);

/* Writes a flow file of n actors, a fan-out: n - 1 independent
 * bench.spin actors of `us` microseconds (bench.empty when us is 0), each
 * reading table t (the source), and one bench.empty reading them all,
 * which the sink reads; 0 or -1. */
int bench_write_wide_flow(const char *path, size_t n, long us);

#endif /* SY_BENCH_COMMON_H */

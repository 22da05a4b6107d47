/*
 * test_abi.c - pins the binary layout of the public headers.
 *
 * Plugins built against one switchyard are loaded by another, so the size
 * and offset of every member of every public struct, the enum values and
 * the error codes are part of the ABI. This test writes them down for
 * x86_64 LP64 (the platform the numbers were taken on); a change that
 * moves any of them fails here and must come with an ABI major bump (or,
 * for ops structs, growth at the end and a minor bump). On other data
 * models only the order of members is checked.
 *
 * Adding a struct to the public headers (include/switchyard/) means adding
 * it here, member by member.
 */
#include "internal.h"

#include <CUnit/Basic.h>
#include <stddef.h>
#include <string.h>
#include "fixture.h"

#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8 &&                  \
    defined(__x86_64__)
#define PIN_LP64 1
#else
#define PIN_LP64 0
#endif

/* Pins one member's offset on LP64; elsewhere only that members keep
 * their order (checked by the callers with ASSERT_ORDER). */
#define ASSERT_OFFSET(type, member, lp64)                                      \
  do {                                                                         \
    if (PIN_LP64)                                                              \
      CU_ASSERT_EQUAL(offsetof(type, member), (size_t)(lp64));                 \
  } while (0)
#define ASSERT_ORDER(type, a, b)                                               \
  CU_ASSERT(offsetof(type, a) < offsetof(type, b))
#define ASSERT_SIZE(type, lp64)                                                \
  do {                                                                         \
    if (PIN_LP64)                                                              \
      CU_ASSERT_EQUAL(sizeof(type), (size_t)(lp64));                           \
  } while (0)

static void test_abi_sy_error_layout(void) {
  ASSERT_SIZE(sy_error, 1028);
  ASSERT_OFFSET(sy_error, code, 0);
  ASSERT_OFFSET(sy_error, message, 4);
  ASSERT_ORDER(sy_error, code, message);
  CU_ASSERT_EQUAL(SY_ERROR_MAX, 1024);
  CU_ASSERT_EQUAL(sizeof(((sy_error *)0)->message), (size_t)SY_ERROR_MAX);
}

static void test_abi_sy_option_layout(void) {
  ASSERT_SIZE(sy_option, 64);
  ASSERT_OFFSET(sy_option, name, 0);
  ASSERT_OFFSET(sy_option, type, 8);
  ASSERT_OFFSET(sy_option, flags, 12);
  ASSERT_OFFSET(sy_option, def, 16);
  ASSERT_OFFSET(sy_option, min, 24);
  ASSERT_OFFSET(sy_option, max, 32);
  ASSERT_OFFSET(sy_option, choices, 40);
  ASSERT_OFFSET(sy_option, offset, 48);
  ASSERT_OFFSET(sy_option, help, 56);
  ASSERT_ORDER(sy_option, name, type);
  ASSERT_ORDER(sy_option, type, flags);
  ASSERT_ORDER(sy_option, flags, def);
  ASSERT_ORDER(sy_option, def, min);
  ASSERT_ORDER(sy_option, min, max);
  ASSERT_ORDER(sy_option, max, choices);
  ASSERT_ORDER(sy_option, choices, offset);
  ASSERT_ORDER(sy_option, offset, help);
}

static void test_abi_sy_provider_layout(void) {
  ASSERT_SIZE(sy_provider, 72);
  ASSERT_OFFSET(sy_provider, size, 0);
  ASSERT_OFFSET(sy_provider, kind, 4);
  ASSERT_OFFSET(sy_provider, name, 8);
  ASSERT_OFFSET(sy_provider, version, 16);
  ASSERT_OFFSET(sy_provider, description, 24);
  ASSERT_OFFSET(sy_provider, options, 32);
  ASSERT_OFFSET(sy_provider, config_size, 40);
  ASSERT_OFFSET(sy_provider, create, 48);
  ASSERT_OFFSET(sy_provider, destroy, 56);
  ASSERT_OFFSET(sy_provider, ops, 64);
  /* The leading size is what the loader reads first, on every platform. */
  CU_ASSERT_EQUAL(offsetof(sy_provider, size), 0);
  CU_ASSERT_EQUAL(sizeof(((sy_provider *)0)->size), 4);
  ASSERT_ORDER(sy_provider, size, kind);
  ASSERT_ORDER(sy_provider, kind, name);
  ASSERT_ORDER(sy_provider, name, version);
  ASSERT_ORDER(sy_provider, version, description);
  ASSERT_ORDER(sy_provider, description, options);
  ASSERT_ORDER(sy_provider, options, config_size);
  ASSERT_ORDER(sy_provider, config_size, create);
  ASSERT_ORDER(sy_provider, create, destroy);
  ASSERT_ORDER(sy_provider, destroy, ops);
}

static void test_abi_sy_plugin_layout(void) {
  ASSERT_SIZE(sy_plugin, 48);
  ASSERT_OFFSET(sy_plugin, abi_major, 0);
  ASSERT_OFFSET(sy_plugin, abi_minor, 4);
  ASSERT_OFFSET(sy_plugin, size, 8);
  ASSERT_OFFSET(sy_plugin, build, 16);
  ASSERT_OFFSET(sy_plugin, name, 24);
  ASSERT_OFFSET(sy_plugin, version, 32);
  ASSERT_OFFSET(sy_plugin, providers, 40);
  /* The three leading fields must be readable from any descriptor, however
   * small: they are the first 12 bytes everywhere. */
  CU_ASSERT_EQUAL(offsetof(sy_plugin, abi_major), 0);
  CU_ASSERT_EQUAL(offsetof(sy_plugin, abi_minor), 4);
  CU_ASSERT_EQUAL(offsetof(sy_plugin, size), 8);
  ASSERT_ORDER(sy_plugin, size, build);
  ASSERT_ORDER(sy_plugin, build, name);
  ASSERT_ORDER(sy_plugin, name, version);
  ASSERT_ORDER(sy_plugin, version, providers);
}

static void test_abi_ops_layouts(void) {
  ASSERT_SIZE(sy_runner_ops, 24);
  ASSERT_OFFSET(sy_runner_ops, size, 0);
  ASSERT_OFFSET(sy_runner_ops, run, 8);

  ASSERT_SIZE(sy_feed_ops, 40);
  ASSERT_OFFSET(sy_feed_ops, size, 0);
  ASSERT_OFFSET(sy_feed_ops, read, 8);
  ASSERT_OFFSET(sy_feed_ops, fingerprint, 16);
  ASSERT_OFFSET(sy_feed_ops, describe, 24); /* 1.3 */
  ASSERT_OFFSET(sy_feed_ops, query, 32);    /* 1.4 */
  ASSERT_ORDER(sy_feed_ops, read, fingerprint);
  ASSERT_ORDER(sy_feed_ops, fingerprint, describe);
  ASSERT_ORDER(sy_feed_ops, describe, query);
  /* The pushdown a query op receives (1.4). */
  ASSERT_SIZE(sy_feed_cond, 40);
  ASSERT_OFFSET(sy_feed_cond, column, 0);
  ASSERT_OFFSET(sy_feed_cond, op, 8);
  ASSERT_OFFSET(sy_feed_cond, type, 12);
  ASSERT_OFFSET(sy_feed_cond, f64, 16);
  ASSERT_OFFSET(sy_feed_cond, i64, 24);
  ASSERT_OFFSET(sy_feed_cond, str, 32);
  ASSERT_SIZE(sy_feed_order, 16);
  ASSERT_OFFSET(sy_feed_order, column, 0);
  ASSERT_OFFSET(sy_feed_order, desc, 8);
  ASSERT_SIZE(sy_feed_query, 64);
  ASSERT_OFFSET(sy_feed_query, size, 0);
  ASSERT_OFFSET(sy_feed_query, columns, 8);
  ASSERT_OFFSET(sy_feed_query, n_columns, 16);
  ASSERT_OFFSET(sy_feed_query, where, 24);
  ASSERT_OFFSET(sy_feed_query, n_where, 32);
  ASSERT_OFFSET(sy_feed_query, order, 40);
  ASSERT_OFFSET(sy_feed_query, n_order, 48);
  ASSERT_OFFSET(sy_feed_query, limit, 56);
  CU_ASSERT_EQUAL(SY_CMP_EQ, 1);
  CU_ASSERT_EQUAL(SY_CMP_NE, 2);
  CU_ASSERT_EQUAL(SY_CMP_LT, 3);
  CU_ASSERT_EQUAL(SY_CMP_LE, 4);
  CU_ASSERT_EQUAL(SY_CMP_GT, 5);
  CU_ASSERT_EQUAL(SY_CMP_GE, 6);

  ASSERT_SIZE(sy_sink_ops, 16);
  ASSERT_OFFSET(sy_sink_ops, size, 0);
  ASSERT_OFFSET(sy_sink_ops, write, 8);

  ASSERT_SIZE(sy_actor_ops, 88); /* 1.4: describe_state */
  ASSERT_OFFSET(sy_actor_ops, size, 0);
  ASSERT_OFFSET(sy_actor_ops, min_inputs, 4);
  ASSERT_OFFSET(sy_actor_ops, max_inputs, 8);
  ASSERT_OFFSET(sy_actor_ops, n_outputs, 12);
  ASSERT_OFFSET(sy_actor_ops, flags, 16);
  ASSERT_OFFSET(sy_actor_ops, apply, 24);
  ASSERT_OFFSET(sy_actor_ops, train, 32);
  ASSERT_OFFSET(sy_actor_ops, state_save, 40);
  ASSERT_OFFSET(sy_actor_ops, state_load, 48);
  ASSERT_OFFSET(sy_actor_ops, apply_into, 56);     /* since 1.1 */
  ASSERT_OFFSET(sy_actor_ops, prepare_row, 64);    /* since 1.2 */
  ASSERT_OFFSET(sy_actor_ops, fingerprint, 72);    /* since 1.3 */
  ASSERT_OFFSET(sy_actor_ops, describe_state, 80); /* since 1.4 */
  ASSERT_ORDER(sy_actor_ops, fingerprint, describe_state);
  ASSERT_SIZE(sy_row_kernel, 120); /* since 1.2; labels since 1.5 */
  ASSERT_OFFSET(sy_row_kernel, size, 0);
  ASSERT_OFFSET(sy_row_kernel, n_in, 4);
  ASSERT_OFFSET(sy_row_kernel, in_names, 8);
  ASSERT_OFFSET(sy_row_kernel, cap, 16);
  ASSERT_OFFSET(sy_row_kernel, n_out, 20);
  ASSERT_OFFSET(sy_row_kernel, out_names, 24);
  ASSERT_OFFSET(sy_row_kernel, kind, 32);
  ASSERT_OFFSET(sy_row_kernel, n_terms, 36);
  ASSERT_OFFSET(sy_row_kernel, map, 40);
  ASSERT_OFFSET(sy_row_kernel, mode, 48);
  ASSERT_OFFSET(sy_row_kernel, a, 56);
  ASSERT_OFFSET(sy_row_kernel, b, 64);
  ASSERT_OFFSET(sy_row_kernel, c0, 72);
  ASSERT_OFFSET(sy_row_kernel, fn, 80);
  ASSERT_OFFSET(sy_row_kernel, ctx, 88);
  ASSERT_OFFSET(sy_row_kernel, release, 96);
  ASSERT_OFFSET(sy_row_kernel, labels, 104);   /* 1.5 */
  ASSERT_OFFSET(sy_row_kernel, n_labels, 112); /* 1.5 */
  {
    /* A 1.4 core's kernel ends before the labels: a plugin must not
     * write them. */
    const char *const *lab[1] = {NULL};
    uint32_t nlab[1] = {0};
    sy_row_kernel k = {.size = (uint32_t)offsetof(sy_row_kernel, labels),
                       .labels = lab,
                       .n_labels = nlab};
    CU_ASSERT_FALSE(SY_ROW_HAS_LABELS(&k));
    k.size = sizeof k;
    CU_ASSERT_TRUE(SY_ROW_HAS_LABELS(&k));
    k.labels = NULL;
    CU_ASSERT_FALSE(SY_ROW_HAS_LABELS(&k));
  }
  CU_ASSERT_EQUAL(SY_ROW_MAP, 0);
  CU_ASSERT_EQUAL(SY_ROW_SCALE, 1);
  CU_ASSERT_EQUAL(SY_ROW_DOT, 2);
  CU_ASSERT_EQUAL(SY_ROW_FN, 3);
  CU_ASSERT_EQUAL(SY_ROW_PASS, 0);
  CU_ASSERT_EQUAL(SY_ROW_CENTER, 1);
  CU_ASSERT_EQUAL(SY_ROW_STANDARD, 2);
  CU_ASSERT_EQUAL(SY_ROW_ZERO, 3);
  ASSERT_ORDER(sy_actor_ops, apply, train);
  ASSERT_ORDER(sy_actor_ops, state_save, state_load);
  ASSERT_ORDER(sy_actor_ops, state_load, apply_into);
  ASSERT_ORDER(sy_actor_ops, apply_into, prepare_row);
  ASSERT_ORDER(sy_actor_ops, prepare_row, fingerprint);
  /* Every ops struct starts with its own size. */
  CU_ASSERT_EQUAL(offsetof(sy_runner_ops, size), 0);
  CU_ASSERT_EQUAL(offsetof(sy_feed_ops, size), 0);
  CU_ASSERT_EQUAL(offsetof(sy_sink_ops, size), 0);
  CU_ASSERT_EQUAL(offsetof(sy_actor_ops, size), 0);
  /* The loader asks for the whole 1.0 struct of each kind. */
  /* The runner ops grew in 1.4 (resources): a 1.0 runner's struct ends
   * before it and must still load. */
  CU_ASSERT_EQUAL(sy__ops_min_size(SY_KIND_RUNNER),
                  offsetof(sy_runner_ops, resources));
  /* The feed ops grew in 1.3 (describe): a 1.0 feed's struct ends
   * before it and must still load. */
  CU_ASSERT_EQUAL(sy__ops_min_size(SY_KIND_FEED),
                  offsetof(sy_feed_ops, describe));
  CU_ASSERT_EQUAL(sy__ops_min_size(SY_KIND_SINK), sizeof(sy_sink_ops));
  /* ... except the actor ops, which grew in 1.1 (apply_into): a 1.0
   * actor's struct ends before it and must still load. */
  CU_ASSERT_EQUAL(sy__ops_min_size(SY_KIND_ACTOR),
                  offsetof(sy_actor_ops, apply_into));
  CU_ASSERT_EQUAL(SY_ACTOR_STATEFUL, 0x1u);
  CU_ASSERT_EQUAL(SY_ACTOR_SUPERVISED, 0x2u);
  CU_ASSERT_EQUAL(SY_ACTOR_INCREMENTAL, 0x4u);
  CU_ASSERT_EQUAL(SY_ARITY_MANY, UINT32_MAX);
}

/* The plugin-author helpers of 1.3: the state codec's writer and reader
 * live in the plugin's memory, and the codec's constants are wire
 * format. */
static void test_abi_helpers_1_3(void) {
  ASSERT_SIZE(sy_state_writer, 32);
  ASSERT_OFFSET(sy_state_writer, data, 0);
  ASSERT_OFFSET(sy_state_writer, len, 8);
  ASSERT_OFFSET(sy_state_writer, cap, 16);
  ASSERT_OFFSET(sy_state_writer, failed, 24);
  ASSERT_ORDER(sy_state_writer, data, len);
  ASSERT_ORDER(sy_state_writer, len, cap);
  ASSERT_ORDER(sy_state_writer, cap, failed);

  ASSERT_SIZE(sy_state_reader, 40);
  ASSERT_OFFSET(sy_state_reader, data, 0);
  ASSERT_OFFSET(sy_state_reader, len, 8);
  ASSERT_OFFSET(sy_state_reader, pos, 16);
  ASSERT_OFFSET(sy_state_reader, version, 24);
  ASSERT_OFFSET(sy_state_reader, failed, 28);
  ASSERT_OFFSET(sy_state_reader, actor, 32);
  ASSERT_ORDER(sy_state_reader, data, len);
  ASSERT_ORDER(sy_state_reader, len, pos);
  ASSERT_ORDER(sy_state_reader, pos, version);
  ASSERT_ORDER(sy_state_reader, version, failed);
  ASSERT_ORDER(sy_state_reader, failed, actor);

  /* switchyard/buf.h: the buffer lives in the caller's memory. */
  ASSERT_SIZE(sy_buf, 32);
  ASSERT_OFFSET(sy_buf, data, 0);
  ASSERT_OFFSET(sy_buf, len, 8);
  ASSERT_OFFSET(sy_buf, cap, 16);
  ASSERT_OFFSET(sy_buf, failed, 24);

  CU_ASSERT_STRING_EQUAL(SY_STATE_MEDIA, "application/x-switchyard-state");
  CU_ASSERT_EQUAL(SY_STATE_HEADER_SIZE, 16);
  CU_ASSERT_EQUAL(SY_STATE_TRAILER_SIZE, 8);
  CU_ASSERT_EQUAL(SY_STATE_MAGIC_MAX, 8);
  CU_ASSERT_EQUAL(SY_HASH_SIZE, 16);
  CU_ASSERT_EQUAL(SY_FRAME_GROW, SIZE_MAX);
}

static void test_abi_options_structs_layout(void) {
  ASSERT_SIZE(sy_platform_options, 40);
  ASSERT_OFFSET(sy_platform_options, size, 0);
  ASSERT_OFFSET(sy_platform_options, config_files, 8);
  ASSERT_OFFSET(sy_platform_options, overrides, 16);
  ASSERT_OFFSET(sy_platform_options, no_default_files, 24);
  ASSERT_OFFSET(sy_platform_options, no_builtin_plugins, 28);
  ASSERT_OFFSET(sy_platform_options, project_dir, 32);

  ASSERT_SIZE(sy_compile_options, 16);
  ASSERT_OFFSET(sy_compile_options, size, 0);
  ASSERT_OFFSET(sy_compile_options, state_file, 8);

  ASSERT_SIZE(sy_job_options, 24);
  ASSERT_OFFSET(sy_job_options, size, 0);
  ASSERT_OFFSET(sy_job_options, state_file, 8);
  ASSERT_OFFSET(sy_job_options, cache, 16);

  ASSERT_SIZE(sy_target_options, 24);
  ASSERT_OFFSET(sy_target_options, size, 0);
  ASSERT_OFFSET(sy_target_options, registry, 8);
  ASSERT_OFFSET(sy_target_options, from, 16);
  ASSERT_OFFSET(sy_target_options, branch, 20); /* ABI 1.4, in padding */

  /* ABI 1.4: eval. */
  ASSERT_SIZE(sy_eval_options, 40);
  ASSERT_OFFSET(sy_eval_options, size, 0);
  ASSERT_OFFSET(sy_eval_options, folds, 4);
  ASSERT_OFFSET(sy_eval_options, holdout, 8);
  ASSERT_OFFSET(sy_eval_options, seed, 16);
  ASSERT_OFFSET(sy_eval_options, metrics, 24);
  ASSERT_OFFSET(sy_eval_options, sink, 32);

  ASSERT_SIZE(sy_event, 48);
  ASSERT_OFFSET(sy_event, size, 0);
  ASSERT_OFFSET(sy_event, type, 4);
  ASSERT_OFFSET(sy_event, step, 8);
  ASSERT_OFFSET(sy_event, worker, 12);
  ASSERT_OFFSET(sy_event, time_ns, 16);
  ASSERT_OFFSET(sy_event, duration_ns, 24);
  ASSERT_OFFSET(sy_event, code, 32);
  ASSERT_OFFSET(sy_event, attempt, 36);
  ASSERT_OFFSET(sy_event, message, 40);
  /* Event numbers are ABI: appended only (NOTE since 1.3). */
  CU_ASSERT_EQUAL(SY_EVENT_SKIPPED, 7);
  CU_ASSERT_EQUAL(SY_EVENT_NOTE, 8);
  CU_ASSERT_STRING_EQUAL(sy_event_name(SY_EVENT_NOTE), "note");
  CU_ASSERT_EQUAL(SY_EVENT_WARNING, 9); /* since 1.4 */
  CU_ASSERT_STRING_EQUAL(sy_event_name(SY_EVENT_WARNING), "warning");

  ASSERT_SIZE(sy_storage_ops, 56);
  ASSERT_OFFSET(sy_storage_ops, get, 8);
  ASSERT_OFFSET(sy_storage_ops, put, 16);
  ASSERT_OFFSET(sy_storage_ops, list, 24);
  ASSERT_OFFSET(sy_storage_ops, remove, 32);
  /* since 1.3 */
  ASSERT_OFFSET(sy_storage_ops, temporaries, 40);
  ASSERT_OFFSET(sy_storage_ops, sweep, 48);
  /* A 1.0 storage (no temporaries, sweep) still loads. */
  CU_ASSERT_EQUAL(sy__ops_min_size(SY_KIND_STORAGE),
                  offsetof(sy_storage_ops, temporaries));
  ASSERT_SIZE(sy_storage_entry, 48);
  ASSERT_OFFSET(sy_storage_entry, key, 8);
  ASSERT_OFFSET(sy_storage_entry, label, 16);
  ASSERT_OFFSET(sy_storage_entry, bytes, 24);
  ASSERT_OFFSET(sy_storage_entry, mtime, 32);
  ASSERT_OFFSET(sy_storage_entry, outputs, 40);

  ASSERT_SIZE(sy_registry_ops, 88); /* put/get/list_note(s): ABI 1.4 */
  ASSERT_SIZE(sy_registry_ref, 32);
  ASSERT_OFFSET(sy_registry_ref, project, 8);
  ASSERT_OFFSET(sy_registry_ref, release, 16);
  ASSERT_OFFSET(sy_registry_ref, generation, 24);
  ASSERT_OFFSET(sy_registry_ops, put_release, 8);
  ASSERT_OFFSET(sy_registry_ops, get_release, 16);
  ASSERT_OFFSET(sy_registry_ops, put_generation, 24);
  ASSERT_OFFSET(sy_registry_ops, get_generation, 32);
  ASSERT_OFFSET(sy_registry_ops, put_note, 64);
  ASSERT_OFFSET(sy_registry_ops, get_note, 72);
  ASSERT_OFFSET(sy_registry_ops, list_notes, 80);
  ASSERT_OFFSET(sy_registry_ops, list, 40);
  /* ABI 1.3, optional: appended, so 1.0 registries (48 bytes) still load. */
  ASSERT_OFFSET(sy_registry_ops, remove, 48);
  ASSERT_OFFSET(sy_registry_ops, put_release_all, 56);
  ASSERT_ORDER(sy_registry_ops, list, remove);
  ASSERT_ORDER(sy_registry_ops, remove, put_release_all);
  ASSERT_SIZE(sy_registry_entry, 40);
  ASSERT_OFFSET(sy_registry_entry, project, 8);
  ASSERT_OFFSET(sy_registry_entry, release, 16);
  ASSERT_OFFSET(sy_registry_entry, generation, 24);
  ASSERT_OFFSET(sy_registry_entry, mtime, 32);
  CU_ASSERT_EQUAL(sy__ops_min_size(SY_KIND_REGISTRY),
                  offsetof(sy_registry_ops, remove));

  ASSERT_SIZE(sy_csv_options, 32);
  ASSERT_OFFSET(sy_csv_options, size, 0);
  ASSERT_OFFSET(sy_csv_options, delimiter, 4);
  ASSERT_OFFSET(sy_csv_options, no_header, 8);
  ASSERT_OFFSET(sy_csv_options, types, 16);
  ASSERT_OFFSET(sy_csv_options, name, 24);

  CU_ASSERT_EQUAL(SY_OP_FEED, 1);
  CU_ASSERT_EQUAL(SY_OP_GET, 8);
  CU_ASSERT_EQUAL(SY_MODE_RUN, 1);
  CU_ASSERT_EQUAL(SY_MODE_APPLY, 3);
  CU_ASSERT_EQUAL(SY_VALUE_BYTES, 1);
  CU_ASSERT_EQUAL(SY_VALUE_FRAME, 2);
  CU_ASSERT_EQUAL(SY_COL_F64, 1);
  CU_ASSERT_EQUAL(SY_COL_STR, 3);

  /* The runner SDK's policy (ABI 1.3). */
  ASSERT_SIZE(sy_sched_policy, 40);
  ASSERT_OFFSET(sy_sched_policy, size, 0);
  ASSERT_OFFSET(sy_sched_policy, flags, 4);
  ASSERT_OFFSET(sy_sched_policy, keep_going, 8);
  ASSERT_OFFSET(sy_sched_policy, retries, 12);
  ASSERT_OFFSET(sy_sched_policy, backoff_ns, 16);
  ASSERT_OFFSET(sy_sched_policy, clock, 24);
  ASSERT_OFFSET(sy_sched_policy, clock_ud, 32);
  ASSERT_ORDER(sy_sched_policy, backoff_ns, clock);
  ASSERT_ORDER(sy_sched_policy, clock, clock_ud);

  /* What a runner does with them (ABI 1.4), appended to its ops. */
  ASSERT_OFFSET(sy_runner_ops, resources, 16);

  /* Per-step resources (ABI 1.4): size first, then the fields. */
  ASSERT_SIZE(sy_step_resources, 32);
  ASSERT_OFFSET(sy_step_resources, size, 0);
  ASSERT_OFFSET(sy_step_resources, cpus, 4);
  ASSERT_OFFSET(sy_step_resources, gpus, 8);
  ASSERT_OFFSET(sy_step_resources, retries, 12);
  ASSERT_OFFSET(sy_step_resources, memory, 16);
  ASSERT_OFFSET(sy_step_resources, timeout, 24);
}

/* The option and result structs added with the layers (ABI 1.3). */
static void test_abi_layers_structs_layout(void) {
  ASSERT_SIZE(sy_flow_compile_options, 40);
  ASSERT_OFFSET(sy_flow_compile_options, size, 0);
  ASSERT_OFFSET(sy_flow_compile_options, states, 8);
  ASSERT_OFFSET(sy_flow_compile_options, states_hash, 16);
  ASSERT_OFFSET(sy_flow_compile_options, commit_to, 24);
  ASSERT_OFFSET(sy_flow_compile_options, incremental, 32);
  ASSERT_OFFSET(sy_flow_compile_options, no_feed, 36);
  ASSERT_ORDER(sy_flow_compile_options, incremental, no_feed);

  ASSERT_SIZE(sy_cache_gc_options, 32);
  ASSERT_OFFSET(sy_cache_gc_options, size, 0);
  ASSERT_OFFSET(sy_cache_gc_options, max_bytes, 8);
  ASSERT_OFFSET(sy_cache_gc_options, older_than_ns, 16);
  ASSERT_OFFSET(sy_cache_gc_options, grace_ns, 24);

  ASSERT_SIZE(sy_cache_gc_result, 32);
  ASSERT_OFFSET(sy_cache_gc_result, removed, 0);
  ASSERT_OFFSET(sy_cache_gc_result, freed, 8);
  ASSERT_OFFSET(sy_cache_gc_result, temporaries, 16);
  ASSERT_OFFSET(sy_cache_gc_result, temporary_bytes, 24);
}

static void test_abi_enums(void) {
  CU_ASSERT_EQUAL(sizeof(sy_kind), sizeof(int));
  CU_ASSERT_EQUAL(sizeof(sy_opt_type), sizeof(int));
  CU_ASSERT_EQUAL(SY_KIND_RUNNER, 1);
  CU_ASSERT_EQUAL(SY_KIND_FEED, 2);
  CU_ASSERT_EQUAL(SY_KIND_SINK, 3);
  CU_ASSERT_EQUAL(SY_KIND_REGISTRY, 4);
  CU_ASSERT_EQUAL(SY_KIND_STORAGE, 5);
  CU_ASSERT_EQUAL(SY_KIND_ACTOR, 6);
  CU_ASSERT_EQUAL(SY_KIND_COUNT, 6);
  CU_ASSERT_EQUAL(SY_OPT_STRING, 1);
  CU_ASSERT_EQUAL(SY_OPT_BOOL, 2);
  CU_ASSERT_EQUAL(SY_OPT_INT, 3);
  CU_ASSERT_EQUAL(SY_OPT_DOUBLE, 4);
  CU_ASSERT_EQUAL(SY_OPT_SIZE, 5);
  CU_ASSERT_EQUAL(SY_OPT_DURATION, 6);
  CU_ASSERT_EQUAL(SY_OPT_ENUM, 7);
  CU_ASSERT_EQUAL(SY_OPT_PATH, 8);
  CU_ASSERT_EQUAL(SY_OPT_LIST, 9);
  CU_ASSERT_EQUAL(SY_OPT_REQUIRED, 0x1u);
  CU_ASSERT_EQUAL(SY_OPT_SECRET, 0x2u);
  /* The runner SDK (ABI 1.3). */
  CU_ASSERT_EQUAL(SY_STEP_PURE, 1);
  CU_ASSERT_EQUAL(SY_STEP_LOCAL, 2);
  CU_ASSERT_EQUAL(SY_STEP_ROUTE, 3);
  CU_ASSERT_EQUAL(SY_STEP_WAITING, 0);
  CU_ASSERT_EQUAL(SY_STEP_READY, 1);
  CU_ASSERT_EQUAL(SY_STEP_RUNNING, 2);
  CU_ASSERT_EQUAL(SY_STEP_DELAYED, 3);
  CU_ASSERT_EQUAL(SY_STEP_DONE, 4);
  CU_ASSERT_EQUAL(SY_STEP_FAILED, 5);
  CU_ASSERT_EQUAL(SY_STEP_SKIPPED, 6);
  CU_ASSERT_EQUAL(SY_SCHED_OWN_READINESS, 1u);
  CU_ASSERT_EQUAL(SY_SCHED_CLASS(SY_STEP_PURE), 2u);
}

static void test_abi_version_and_signature(void) {
  CU_ASSERT_EQUAL(SY_ABI_MAJOR, 1);
  /* 1.2: prepare_row, sy_row_call; 1.4: this wave; 1.3: actor fingerprint,
   * sy_feed_ops.describe, sy_csv_read_header, sy_note, storage
   * temporaries/sweep, sy_job_skip_run_check, file.h
   * (sy_output, sy_file_read), registry remove and
   * put_release_all */
  CU_ASSERT_EQUAL(SY_ABI_MINOR, 5);
  CU_ASSERT_STRING_EQUAL(SY_PLUGIN_ENTRY_SYMBOL, "sy_plugin_entry");
  if (PIN_LP64)
    CU_ASSERT_STRING_EQUAL(SY_BUILD_SIGNATURE, "sy1:p8:l8:z8:d8:le");

  /* The loader accepts exactly this signature, and refuses any other. */
  static const sy_provider *const none[] = {NULL};
  sy_plugin pl = {SY_ABI_MAJOR,
                  SY_ABI_MINOR,
                  sizeof(sy_plugin),
                  SY_BUILD_SIGNATURE,
                  "abi-test",
                  "1.0.0",
                  none};
  sy_error err;
  CU_ASSERT_EQUAL(sy__plugin_check(&pl, "abi-test", &err), 0);
  pl.build = "sy1:p4:l4:z4:d8:le";
  CU_ASSERT_EQUAL(sy__plugin_check(&pl, "abi-test", &err), SY_EABI);
  CU_ASSERT(strstr(err.message, SY_BUILD_SIGNATURE) != NULL);
}

/* An actor built against ABI 1.0 has an ops struct that ends before
 * apply_into (1.1): it must still load, and the core must see it as having
 * no apply_into; one shorter than 1.0's is refused. */
static int abi_apply(void *self, const sy_value *const *in, size_t n_in,
                     sy_value **out, sy_error *err) {
  (void)self, (void)in, (void)n_in, (void)out, (void)err;
  return 0;
}

static int abi_fingerprint(const void *self, uint8_t key[16], sy_error *err) {
  (void)self, (void)key;
  return sy_error_set(err, SY_ENOTSUP, "never called");
}

static int abi_prepare_row(const void *self, sy_row_kernel *k, sy_error *err) {
  (void)self, (void)k;
  return sy_error_set(err, SY_ENOTSUP, "never called");
}

static void test_abi_actor_ops_from_1_0_load(void) {
  /* The 1.0 struct, laid out as a 1.0 plugin compiled it; the trailing
   * apply_into member here only pads the array, and holds garbage the
   * core must not look at. */
  sy_actor_ops ops = {.size = (uint32_t)offsetof(sy_actor_ops, apply_into),
                      .min_inputs = 1,
                      .max_inputs = 1,
                      .n_outputs = 1,
                      .apply = abi_apply,
                      .apply_into =
                          (int (*)(void *, const sy_value *const *, size_t,
                                   sy_value **, sy_error *))abi_apply};
  CU_ASSERT_FALSE(SY_ACTOR_HAS_APPLY_INTO(&ops));
  sy_provider pr = {sizeof(sy_provider),
                    SY_KIND_ACTOR,
                    "abi.old",
                    "1.0.0",
                    "An actor built against 1.0.",
                    NULL,
                    0,
                    NULL,
                    NULL,
                    &ops};
  const sy_provider *const list[] = {&pr, NULL};
  sy_plugin pl = {
      SY_ABI_MAJOR, 0,   sizeof(sy_plugin), SY_BUILD_SIGNATURE, "abi-old",
      "1.0.0",      list};
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(sy__plugin_check(&pl, "abi-old", &err), 0);
  ops.size -= 8;
  CU_ASSERT_EQUAL(sy__plugin_check(&pl, "abi-old", &err), SY_EABI);
  ops.size = sizeof ops;
  CU_ASSERT_TRUE(SY_ACTOR_HAS_APPLY_INTO(&ops));
  /* A 1.1 actor's struct ends before prepare_row. */
  CU_ASSERT_FALSE(SY_ACTOR_HAS_PREPARE_ROW(&ops));
  ops.size = (uint32_t)offsetof(sy_actor_ops, prepare_row);
  ops.prepare_row = abi_prepare_row;
  CU_ASSERT_FALSE(SY_ACTOR_HAS_PREPARE_ROW(&ops));
  CU_ASSERT_EQUAL(sy__plugin_check(&pl, "abi-old", &err), 0);
  ops.size = sizeof ops;
  CU_ASSERT_TRUE(SY_ACTOR_HAS_PREPARE_ROW(&ops));
  /* A 1.2 actor's struct ends before fingerprint (1.3). */
  CU_ASSERT_FALSE(SY_ACTOR_HAS_FINGERPRINT(&ops));
  ops.size = (uint32_t)offsetof(sy_actor_ops, fingerprint);
  ops.fingerprint = abi_fingerprint;
  CU_ASSERT_FALSE(SY_ACTOR_HAS_FINGERPRINT(&ops));
  CU_ASSERT_EQUAL(sy__plugin_check(&pl, "abi-old", &err), 0);
  ops.size = sizeof ops;
  CU_ASSERT_TRUE(SY_ACTOR_HAS_FINGERPRINT(&ops));
  ops.fingerprint = NULL;
  ops.prepare_row = NULL;
  ops.apply_into = NULL;
  CU_ASSERT_FALSE(SY_ACTOR_HAS_APPLY_INTO(&ops));
}

/* The numbers are part of the ABI: a code never changes its number. */
static void test_abi_error_numbers(void) {
  CU_ASSERT_EQUAL(SY_ENOMEM, -1);
  CU_ASSERT_EQUAL(SY_EINVAL, -2);
  CU_ASSERT_EQUAL(SY_EIO, -3);
  CU_ASSERT_EQUAL(SY_ENOENT, -4);
  CU_ASSERT_EQUAL(SY_ESYNTAX, -5);
  CU_ASSERT_EQUAL(SY_ECONFIG, -6);
  CU_ASSERT_EQUAL(SY_EABI, -7);
  CU_ASSERT_EQUAL(SY_EPLUGIN, -8);
  CU_ASSERT_EQUAL(SY_EEXIST, -9);
  CU_ASSERT_EQUAL(SY_EPERM, -10);
  CU_ASSERT_EQUAL(SY_ERANGE, -11);
  CU_ASSERT_EQUAL(SY_ETYPE, -12);
  CU_ASSERT_EQUAL(SY_ENOTSUP, -13);
  CU_ASSERT_EQUAL(SY_ECORRUPT, -14);
  CU_ASSERT_EQUAL(SY_ECYCLE, -15);
  CU_ASSERT_EQUAL(SY_EFAILED, -16);
  CU_ASSERT_EQUAL(SY_ECANCELED, -17);
  CU_ASSERT_EQUAL(SY_ETIMEOUT, -18);
  CU_ASSERT_EQUAL(SY_ECRASHED, -19);
  CU_ASSERT_EQUAL(SY_ESTATE, -20);
  CU_ASSERT_EQUAL(SY_EUSAGE, -21);
  CU_ASSERT_EQUAL(SY_ETOOBIG, -22);
}

/* Every code in the map: negative, distinct, with its own text and name. */
static void test_abi_error_codes_distinct(void) {
  static const struct {
    int code;
    const char *name;
  } codes[] = {
#define SY__ERR_ROW(name, num, msg) {SY_E##name, "SY_E" #name},
      SY_ERRNO_MAP(SY__ERR_ROW)
#undef SY__ERR_ROW
  };
  const size_t n = sizeof codes / sizeof codes[0];
  CU_ASSERT(n >= 22);
  for (size_t i = 0; i < n; i++) {
    CU_ASSERT(codes[i].code < 0);
    for (size_t j = 0; j < i; j++)
      CU_ASSERT_NOT_EQUAL(codes[i].code, codes[j].code);
    CU_ASSERT_STRING_NOT_EQUAL(sy_strerror(codes[i].code), "unknown error");
    CU_ASSERT_STRING_EQUAL(sy_err_name(codes[i].code), codes[i].name);
  }
  /* And the fallbacks really are what the checks above exclude. */
  CU_ASSERT_STRING_EQUAL(sy_strerror(-9999), "unknown error");
  CU_ASSERT_STRING_EQUAL(sy_err_name(-9999), "SY_EUNKNOWN");
}

int main(void) {
  static const CU_TestInfo tests[] = {
#define T(fn) {#fn, fn}
      T(test_abi_sy_error_layout),
      T(test_abi_sy_option_layout),
      T(test_abi_sy_provider_layout),
      T(test_abi_sy_plugin_layout),
      T(test_abi_ops_layouts),
      T(test_abi_options_structs_layout),
      T(test_abi_helpers_1_3),
      T(test_abi_layers_structs_layout),
      T(test_abi_enums),
      T(test_abi_version_and_signature),
      T(test_abi_actor_ops_from_1_0_load),
      T(test_abi_error_numbers),
      T(test_abi_error_codes_distinct),
#undef T
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("abi", NULL, NULL, tests);
}

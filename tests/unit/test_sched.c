/*
 * test_sched.c - the runner SDK (switchyard/runner.h): step classes, where
 * a GET's value lives, and the scheduler's ready set and failure policy
 * (fail-fast, keep-going skips, retries with their backoff on an injected
 * clock, cancel, the summary), driven by hand on a compiled job: the
 * scheduler never runs a step, it only hands them out and hears back.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/switchyard.h>

#include "fixture.h"

/* ---- a job to schedule --------------------------------------------------- */

typedef struct events {
  unsigned skipped, retried;
  unsigned skipped_at[64];
} events;

static void on_event(void *ud, const sy_job *job, const sy_event *ev) {
  (void)job;
  events *e = ud;
  if (ev->type == SY_EVENT_SKIPPED) {
    e->skipped++;
    if (ev->step < 64)
      e->skipped_at[ev->step]++;
  } else if (ev->type == SY_EVENT_RETRIED) {
    e->retried++;
  }
}

typedef struct fixture {
  sy_platform *p;
  sy_program *prog;
  sy_job *job;
  events ev;
} fixture;

/* dag.flow (fx_write_dag_fixture), compiled for a run and bound, not run. */
static void open_job(fixture *f) {
  memset(f, 0, sizeof *f);
  char o1[600], o2[600];
  fx_use_built_plugins();
  snprintf(o1, sizeof o1, "FEED.data.path=%s", fx_tmpdir);
  snprintf(o2, sizeof o2, "SINK.out.path=%s", fx_tmp_path("out.csv"));
  const char *overrides[] = {"FEED.data.provider=csv", o1,
                             "SINK.out.provider=csv", o2, NULL};
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(fx_platform_open(overrides, &f->p, &err), 0);
  int rc = sy_program_compile(f->p, fx_tmp_path("dag.flow"), SY_MODE_RUN, NULL,
                              stderr, &f->prog, &err);
  if (rc == 0)
    rc = sy_job_new(f->p, f->prog, NULL, &f->job, &err);
  if (rc)
    fprintf(stderr, "job: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_FATAL(sy_job_size(f->job) <= 64);
  CU_ASSERT_EQUAL_FATAL(sy_job_listen(f->job, on_event, &f->ev), 0);
}

static void close_job(fixture *f) {
  sy_job_free(f->job);
  sy_program_free(f->prog);
  sy_platform_close(f->p);
}

/* The first step whose node is `node` and op `op`. */
static size_t step_of(const sy_job *job, const char *node, sy_op op) {
  for (size_t s = 0; s < sy_job_size(job); s++)
    if (strcmp(sy_job_step_node(job, s), node) == 0 &&
        sy_job_step_op(job, s) == op)
      return s;
  CU_FAIL_FATAL("no such step");
  return 0;
}

/* Whether step d is downstream of step u (or is u). */
static int downstream(const sy_job *job, size_t u, size_t d) {
  if (u == d)
    return 1;
  const uint32_t *cons;
  size_t nc = sy_job_step_consumers(job, u, &cons);
  for (size_t i = 0; i < nc; i++)
    if (downstream(job, cons[i], d))
      return 1;
  return 0;
}

static int64_t fake_now;
static int64_t fake_clock(void *ud) {
  (void)ud;
  return fake_now;
}

/* Hands out and completes every ready step, failing `bad` with SY_EFAILED
 * each time it runs; returns how many steps ran (attempts). */
static size_t drain(sy_sched *S, size_t bad) {
  size_t s, ran = 0;
  while (sy_sched_next(S, 0, &s)) {
    ran++;
    if (s == bad)
      sy_sched_failed(S, s, SY_EFAILED, "boom");
    else
      sy_sched_done(S, s);
  }
  return ran;
}

static int suite_init(void) {
  if (fx_tmpdir_make("/tmp/sy-test-sched-XXXXXX") != 0)
    return -1;
  return fx_write_dag_fixture();
}

static int suite_clean(void) {
  return fx_tmpdir_remove();
}

/* ---- what a step is ---------------------------------------------------------
 */

static void test_sched_step_classes(void) {
  fixture f;
  open_job(&f);
  size_t gets = 0;
  for (size_t s = 0; s < sy_job_size(f.job); s++) {
    sy_op op = sy_job_step_op(f.job, s);
    sy_step_class c = sy_job_step_class(f.job, s);
    sy_step_class want = op == SY_OP_APPLY || op == SY_OP_TRAIN ? SY_STEP_PURE
                         : op == SY_OP_GET                      ? SY_STEP_ROUTE
                                                                : SY_STEP_LOCAL;
    CU_ASSERT_EQUAL(c, want);
    uint32_t k = 99;
    if (op == SY_OP_GET) {
      /* A GET of the labelled feed: its value is one of the feed's. */
      gets++;
      const uint32_t *in;
      CU_ASSERT_EQUAL(sy_job_step_inputs(f.job, s, &in), 1);
      CU_ASSERT_EQUAL(sy_job_output_source(f.job, s, 0, &k), in[0]);
      CU_ASSERT_EQUAL(k, sy_job_step_index(f.job, s));
      CU_ASSERT_EQUAL(sy_job_step_op(f.job, in[0]), SY_OP_FEED);
    } else {
      CU_ASSERT_EQUAL(sy_job_output_source(f.job, s, 1, &k), s);
      CU_ASSERT_EQUAL(k, 1);
    }
  }
  CU_ASSERT(gets >= 1); /* dag.flow's feed has a label */
  close_job(&f);
}

/* ---- the ready set ----------------------------------------------------------
 */

/* One step at a time, all succeeding: program order, then finished. */
static void test_sched_program_order(void) {
  fixture f;
  open_job(&f);
  sy_sched *S;
  sy_error err;
  /* Nothing but next and done: the scheduler never builds its countdowns
   * (its in-order mode), and still ends right. */
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, NULL, &S, &err), 0);
  size_t s, want = 0;
  while (sy_sched_next(S, 0, &s)) {
    CU_ASSERT_EQUAL(s, want);
    CU_ASSERT(!sy_sched_finished(S));
    sy_sched_done(S, want++);
  }
  CU_ASSERT_EQUAL(want, sy_job_size(f.job));
  CU_ASSERT(sy_sched_finished(S));
  CU_ASSERT_EQUAL(sy_sched_result(S, &err), 0);
  sy_sched_free(S);
  /* Leaving that mode after the feed: its two GETs are what is ready. */
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, NULL, &S, &err), 0);
  CU_ASSERT_TRUE_FATAL(sy_sched_next(S, 0, &s));
  CU_ASSERT_EQUAL(sy_job_step_op(f.job, s), SY_OP_FEED);
  sy_sched_done(S, s);
  CU_ASSERT_EQUAL(sy_sched_ready(S, 0), 2);
  CU_ASSERT_EQUAL(sy_sched_ready(S, SY_SCHED_CLASS(SY_STEP_ROUTE)), 2);
  CU_ASSERT_EQUAL(sy_sched_ready(S, SY_SCHED_CLASS(SY_STEP_PURE)), 0);
  sy_sched_free(S);
  /* A second step asked for while one runs: what is ready, no more. */
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, NULL, &S, &err), 0);
  size_t get1, get2, a = step_of(f.job, "a", SY_OP_APPLY);
  CU_ASSERT_TRUE_FATAL(sy_sched_next(S, 0, &s));
  sy_sched_done(S, s);
  CU_ASSERT_TRUE_FATAL(sy_sched_next(S, 0, &get1));
  CU_ASSERT_TRUE_FATAL(sy_sched_next(S, 0, &get2));
  CU_ASSERT_EQUAL(sy_job_step_op(f.job, get1), SY_OP_GET);
  CU_ASSERT_EQUAL(sy_job_step_op(f.job, get2), SY_OP_GET);
  CU_ASSERT_EQUAL(sy_sched_running(S), 2);
  CU_ASSERT_FALSE(sy_sched_next(S, 0, &s)); /* a and b read get1 */
  sy_sched_done(S, get2);
  sy_sched_done(S, get1);
  CU_ASSERT_TRUE(sy_sched_next(S, 0, &s));
  CU_ASSERT_EQUAL(s, a);
  sy_sched_free(S);
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, NULL, &S, &err), 0);
  want = 0;
  CU_ASSERT(!sy_sched_finished(S));
  while (sy_sched_next(S, 0, &s)) {
    CU_ASSERT_EQUAL(s, want);
    CU_ASSERT_EQUAL(sy_sched_state(S, s), SY_STEP_RUNNING);
    CU_ASSERT_EQUAL(sy_sched_running(S), 1);
    sy_sched_done(S, s);
    CU_ASSERT_EQUAL(sy_sched_state(S, s), SY_STEP_DONE);
    want++;
  }
  CU_ASSERT_EQUAL(want, sy_job_size(f.job));
  CU_ASSERT(sy_sched_finished(S));
  CU_ASSERT_EQUAL(sy_sched_result(S, &err), 0);
  CU_ASSERT_EQUAL(f.ev.skipped + f.ev.retried, 0);
  sy_sched_free(S);
  close_job(&f);
}

/* The class mask: PURE steps only; a step whose inputs are not done is
 * never handed out; take and untake. */
static void test_sched_mask_take_untake(void) {
  fixture f;
  open_job(&f);
  sy_sched *S;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, NULL, &S, NULL), 0);
  size_t s;
  /* Only the feed is ready at first, and it is LOCAL. */
  CU_ASSERT_EQUAL(sy_sched_ready(S, 0), 1);
  CU_ASSERT_EQUAL(sy_sched_ready(S, SY_SCHED_CLASS(SY_STEP_LOCAL)), 1);
  CU_ASSERT_FALSE(sy_sched_next(S, SY_SCHED_CLASS(SY_STEP_PURE), &s));
  CU_ASSERT_TRUE_FATAL(sy_sched_next(S, 0, &s));
  CU_ASSERT_EQUAL(sy_job_step_op(f.job, s), SY_OP_FEED);
  size_t feed = s;
  /* Take `sa` early (its input `a` is not done), give it back. */
  size_t a = step_of(f.job, "a", SY_OP_APPLY);
  size_t sa = step_of(f.job, "sa", SY_OP_TRAIN); /* reads a alone */
  CU_ASSERT_EQUAL(sy_sched_take(S, sa), 0);
  CU_ASSERT_EQUAL(sy_sched_take(S, sa), SY_ESTATE);
  CU_ASSERT_EQUAL(sy_sched_state(S, sa), SY_STEP_RUNNING);
  sy_sched_untake(S, sa);
  CU_ASSERT_EQUAL(sy_sched_state(S, sa), SY_STEP_WAITING);
  sy_sched_done(S, feed);
  /* The GETs are ROUTE steps: a PURE mask walks past them. */
  while (sy_sched_next(S, SY_SCHED_CLASS(SY_STEP_ROUTE), &s))
    sy_sched_done(S, s);
  CU_ASSERT_TRUE(sy_sched_next(S, SY_SCHED_CLASS(SY_STEP_PURE), &s));
  CU_ASSERT_EQUAL(s, a); /* the lowest-numbered ready PURE step */
  /* Taken early, then its input finished: back READY at once. */
  CU_ASSERT_EQUAL(sy_sched_take(S, sa), 0);
  sy_sched_done(S, a);
  CU_ASSERT_EQUAL(sy_sched_state(S, sa), SY_STEP_RUNNING);
  sy_sched_untake(S, sa);
  CU_ASSERT_EQUAL(sy_sched_state(S, sa), SY_STEP_READY);
  sy_sched_free(S);
  close_job(&f);
}

/* ---- the failure policy -----------------------------------------------------
 */

/* Fail-fast: after the failure nothing more is handed out; the error is
 * the failure's own, with no summary and no SKIPPED. */
static void test_sched_fail_fast(void) {
  fixture f;
  open_job(&f);
  sy_sched *S;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, NULL, &S, &err), 0);
  size_t a = step_of(f.job, "a", SY_OP_APPLY);
  size_t b = step_of(f.job, "b", SY_OP_APPLY);
  size_t ran = drain(S, a);
  CU_ASSERT_EQUAL(ran, a + 1); /* program order up to the failure */
  CU_ASSERT_EQUAL(sy_sched_state(S, a), SY_STEP_FAILED);
  /* b was ready and stays so, but nothing is handed out any more, and a
   * loop that asks what is ready hears so (runner-dask's processes mode
   * would spin otherwise). */
  CU_ASSERT_EQUAL(sy_sched_state(S, b), SY_STEP_READY);
  CU_ASSERT_EQUAL(sy_sched_ready(S, 0), 0);
  CU_ASSERT_EQUAL(sy_sched_ready(S, SY_SCHED_CLASS(SY_STEP_PURE)), 0);
  CU_ASSERT(sy_sched_stopping(S));
  CU_ASSERT(sy_sched_finished(S));
  CU_ASSERT_EQUAL(sy_sched_result(S, &err), SY_EFAILED);
  CU_ASSERT_STRING_EQUAL(err.message, "boom");
  CU_ASSERT_EQUAL(f.ev.skipped, 0);
  char sum[64];
  CU_ASSERT_EQUAL(sy_sched_summary(S, sum, sizeof sum), 1);
  CU_ASSERT_STRING_EQUAL(sum, "1 step failed, 0 skipped");
  sy_sched_free(S);
  close_job(&f);
}

/* keep_going: everything not downstream of the failure runs, everything
 * downstream is SKIPPED (once each), and the summary counts them. */
static void test_sched_keep_going(void) {
  fixture f;
  open_job(&f);
  sy_sched_policy pol = {.size = sizeof pol, .keep_going = 1};
  sy_sched *S;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, &pol, &S, &err), 0);
  size_t a = step_of(f.job, "a", SY_OP_APPLY);
  size_t n = sy_job_size(f.job), below = 0;
  for (size_t s = 0; s < n; s++)
    below += s != a && downstream(f.job, a, s);
  CU_ASSERT(below >= 3); /* sa, both, the model, the sink */
  size_t ran = drain(S, a);
  CU_ASSERT_EQUAL(ran, n - below);
  CU_ASSERT(sy_sched_finished(S));
  CU_ASSERT_EQUAL(f.ev.skipped, below);
  for (size_t s = 0; s < n; s++) {
    int d = s != a && downstream(f.job, a, s);
    CU_ASSERT_EQUAL(f.ev.skipped_at[s], (unsigned)d);
    CU_ASSERT_EQUAL(sy_sched_state(S, s), s == a ? SY_STEP_FAILED
                                          : d    ? SY_STEP_SKIPPED
                                                 : SY_STEP_DONE);
  }
  char want[128], sum[64];
  snprintf(want, sizeof want, "boom (1 step failed, %zu skipped)", below);
  CU_ASSERT_EQUAL(sy_sched_result(S, &err), SY_EFAILED);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  snprintf(want, sizeof want, "1 step failed, %zu skipped", below);
  sy_sched_summary(S, sum, sizeof sum);
  CU_ASSERT_STRING_EQUAL(sum, want);
  const char *first = NULL;
  CU_ASSERT_EQUAL(sy_sched_first_failure(S, &first), SY_EFAILED);
  CU_ASSERT_STRING_EQUAL(first, "boom");
  sy_sched_free(S);
  close_job(&f);
}

/* keep_going, a step taken early whose input then fails for good: given
 * back, it is SKIPPED with its downstream. */
static void test_sched_untake_after_failure_skips(void) {
  fixture f;
  open_job(&f);
  sy_sched_policy pol = {.size = sizeof pol, .keep_going = 1};
  sy_sched *S;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, &pol, &S, NULL), 0);
  size_t a = step_of(f.job, "a", SY_OP_APPLY);
  size_t sa = step_of(f.job, "sa", SY_OP_TRAIN); /* reads a alone */
  size_t s;
  while (sy_sched_next(S, 0, &s) && s != a)
    sy_sched_done(S, s);
  CU_ASSERT_EQUAL_FATAL(s, a);
  CU_ASSERT_EQUAL(sy_sched_take(S, sa), 0);
  CU_ASSERT_EQUAL(sy_sched_failed(S, a, SY_EFAILED, "boom"), 0);
  CU_ASSERT_EQUAL(f.ev.skipped_at[sa], 0); /* RUNNING, not WAITING */
  sy_sched_untake(S, sa);
  CU_ASSERT_EQUAL(sy_sched_state(S, sa), SY_STEP_SKIPPED);
  CU_ASSERT_EQUAL(f.ev.skipped_at[sa], 1);
  CU_ASSERT(f.ev.skipped >= 3); /* sa and what reads it */
  sy_sched_free(S);
  close_job(&f);
}

/* Retries: each failed attempt is DELAYED until its due time, which
 * doubles (on the injected clock); the last attempt fails for good. */
static void test_sched_retries_backoff(void) {
  fixture f;
  open_job(&f);
  fake_now = 1000;
  sy_sched_policy pol = {
      .size = sizeof pol, .retries = 2, .backoff_ns = 100, .clock = fake_clock};
  sy_sched *S;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, &pol, &S, &err), 0);
  size_t a = step_of(f.job, "a", SY_OP_APPLY);
  size_t s;
  while (sy_sched_next(S, 0, &s) && s != a)
    sy_sched_done(S, s);
  CU_ASSERT_EQUAL_FATAL(s, a);
  /* Attempt 1 fails: due in 100 ns. */
  CU_ASSERT_EQUAL(sy_sched_failed(S, a, SY_EFAILED, "boom"), 1);
  CU_ASSERT_EQUAL(sy_sched_state(S, a), SY_STEP_DELAYED);
  CU_ASSERT_EQUAL(sy_sched_due(S), 1100);
  CU_ASSERT_EQUAL(f.ev.retried, 1);
  CU_ASSERT(!sy_sched_finished(S));
  /* Not before it is due (other steps may still be handed out). */
  fake_now = 1099;
  while (sy_sched_next(S, 0, &s)) {
    CU_ASSERT_NOT_EQUAL(s, a);
    sy_sched_done(S, s);
  }
  CU_ASSERT_EQUAL(sy_sched_state(S, a), SY_STEP_DELAYED);
  fake_now = 1100;
  CU_ASSERT_TRUE_FATAL(sy_sched_next(S, 0, &s));
  CU_ASSERT_EQUAL(s, a);
  /* Attempt 2 fails: due in 200 ns. */
  CU_ASSERT_EQUAL(sy_sched_failed(S, a, SY_EFAILED, "boom"), 1);
  CU_ASSERT_EQUAL(sy_sched_due(S), 1300);
  fake_now = 1300;
  CU_ASSERT_TRUE_FATAL(sy_sched_next(S, 0, &s));
  CU_ASSERT_EQUAL(s, a);
  /* Attempt 3 succeeds: the rest runs. */
  sy_sched_done(S, a);
  CU_ASSERT_EQUAL(sy_sched_due(S), 0);
  drain(S, SIZE_MAX);
  CU_ASSERT(sy_sched_finished(S));
  CU_ASSERT_EQUAL(sy_sched_result(S, &err), 0);
  CU_ASSERT_EQUAL(f.ev.retried, 2);
  sy_sched_free(S);

  /* Retries used up: the third failure is final. */
  f.ev.retried = 0;
  fake_now = 0;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, &pol, &S, &err), 0);
  size_t attempts = 0;
  for (;;) {
    if (!sy_sched_next(S, 0, &s)) {
      if (sy_sched_finished(S))
        break;
      fake_now = sy_sched_due(S);
      continue;
    }
    if (s == a) {
      attempts++;
      sy_sched_failed(S, s, SY_EFAILED, "boom");
    } else {
      sy_sched_done(S, s);
    }
  }
  CU_ASSERT_EQUAL(attempts, 3);
  CU_ASSERT_EQUAL(f.ev.retried, 2);
  CU_ASSERT_EQUAL(sy_sched_result(S, &err), SY_EFAILED);
  CU_ASSERT_STRING_EQUAL(err.message, "boom");
  sy_sched_free(S);
  close_job(&f);
}

/* A cancelled failure (SY_ECANCELED) is never retried, and the backoff
 * doubles up to 10 s and stays there. */
static void test_sched_retry_policy(void) {
  fixture f;
  open_job(&f);
  sy_sched_policy pol = {.size = sizeof pol,
                         .flags = SY_SCHED_OWN_READINESS,
                         .keep_going = 1,
                         .retries = 6,
                         .backoff_ns = 3000000000LL};
  sy_sched *S;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, &pol, &S, &err), 0);
  size_t next = 0;
  CU_ASSERT_FALSE(sy_sched_next(S, 0, &next)); /* no ready set here */
  const int64_t want[] = {3000000000LL,  6000000000LL,  10000000000LL,
                          10000000000LL, 10000000000LL, 10000000000LL};
  for (unsigned i = 0; i < 6; i++)
    CU_ASSERT_EQUAL(sy_sched_retry(S, 1, i + 1, SY_EFAILED, "x"), want[i]);
  CU_ASSERT_EQUAL(sy_sched_retry(S, 1, 7, SY_EFAILED, "x"), -1);
  CU_ASSERT_EQUAL(sy_sched_retry(S, 1, 1, SY_ECANCELED, "x"), -1);
  CU_ASSERT_EQUAL(f.ev.retried, 6);
  /* The pool's own bookkeeping: two failures, three skips, the rest done. */
  size_t n = sy_job_size(f.job);
  CU_ASSERT_EQUAL(sy_sched_fail(S, 1, SY_ETIMEOUT, "slow"), 1);
  CU_ASSERT_EQUAL(sy_sched_fail(S, 2, SY_EFAILED, "bad"), 1);
  for (size_t s = 3; s < 6; s++)
    sy_sched_skip(S, s);
  sy_sched_count_done(S, n - 5);
  CU_ASSERT_EQUAL(f.ev.skipped, 3);
  CU_ASSERT_EQUAL(sy_sched_result(S, &err), SY_ETIMEOUT);
  CU_ASSERT_STRING_EQUAL(err.message, "slow (2 steps failed, 3 skipped)");
  sy_sched_free(S);
  close_job(&f);
}

/* Cancel: nothing more is handed out, the result says how far it got. */
static void test_sched_cancel(void) {
  fixture f;
  open_job(&f);
  sy_sched *S;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, NULL, &S, &err), 0);
  size_t s;
  CU_ASSERT_TRUE_FATAL(sy_sched_next(S, 0, &s));
  sy_sched_done(S, s);
  CU_ASSERT_TRUE_FATAL(sy_sched_next(S, 0, &s));
  sy_job_cancel(f.job);
  CU_ASSERT(sy_sched_stopping(S));
  CU_ASSERT_FALSE(sy_sched_next(S, 0, &s));
  CU_ASSERT(!sy_sched_finished(S)); /* one step still running */
  sy_sched_done(S, s);
  CU_ASSERT(sy_sched_finished(S));
  char want[64];
  snprintf(want, sizeof want, "canceled: 2 of %zu steps done",
           sy_job_size(f.job));
  CU_ASSERT_EQUAL(sy_sched_result(S, &err), SY_ECANCELED);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  sy_sched_free(S);
  close_job(&f);
}

/* A policy struct from a newer caller is fine; a too-small one is not. */
static void test_sched_policy_size(void) {
  fixture f;
  open_job(&f);
  sy_sched_policy pol = {.size = 8};
  sy_sched *S = (sy_sched *)1;
  sy_error err;
  CU_ASSERT_EQUAL(sy_sched_new(f.job, &pol, &S, &err), SY_EINVAL);
  CU_ASSERT_PTR_NULL(S);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "sizeof(sy_sched_policy)"));
  /* Steps left over: SY_ESTATE. */
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(f.job, NULL, &S, &err), 0);
  CU_ASSERT_EQUAL(sy_sched_result(S, &err), SY_ESTATE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "ran 0 of"));
  sy_sched_free(S);
  close_job(&f);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"step classes and GET sources", test_sched_step_classes},
      {"program order", test_sched_program_order},
      {"mask, take, untake", test_sched_mask_take_untake},
      {"fail-fast", test_sched_fail_fast},
      {"keep_going skips downstream", test_sched_keep_going},
      {"untake after a failure skips", test_sched_untake_after_failure_skips},
      {"retries and backoff", test_sched_retries_backoff},
      {"retry policy and the pool's calls", test_sched_retry_policy},
      {"cancel", test_sched_cancel},
      {"policy size", test_sched_policy_size},
      CU_TEST_INFO_NULL};
  return fx_run_suite("sched", suite_init, suite_clean, tests);
}

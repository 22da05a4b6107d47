/*
 * policy.c - the failure policy shared by runner-dask (processes) and
 * runner-mpi; see policy.h.
 */
#include "policy.h"

#include <switchyard/event.h>
#include <switchyard/runner.h>

#include <stdlib.h>
#include <time.h>

#define BACKOFF_CAP_NS 10000000000LL

int64_t policy_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t policy_backoff_ns(int64_t backoff, unsigned attempt) {
  int64_t ns = backoff;
  for (unsigned i = 1; i < attempt && ns < BACKOFF_CAP_NS; i++)
    ns *= 2;
  return ns > BACKOFF_CAP_NS ? BACKOFF_CAP_NS : ns;
}

void policy_skip_downstream(policy *P, size_t s) {
  /* A step is pushed once (when it turns SKIPPED), so n slots suffice. */
  size_t *stack = malloc(P->n * sizeof *stack), top = 0;
  if (!stack)
    return; /* the steps stay unrun, and the run still ends failed */
  stack[top++] = s;
  sy_job_set_worker(-1);
  while (top > 0) {
    const uint32_t *cons;
    size_t nc = sy_job_step_consumers(P->job, stack[--top], &cons);
    for (size_t i = 0; i < nc; i++) {
      size_t c = cons[i];
      if (P->st[c] != ST_WAIT)
        continue;
      P->st[c] = ST_SKIPPED;
      P->n_skipped++;
      sy_job_emit(P->job, SY_EVENT_SKIPPED, c, 0, NULL);
      stack[top++] = c;
    }
  }
  free(stack);
}

void policy_step_failed(policy *P, size_t s, int code, const char *message) {
  if (P->retries[s] < (uint64_t)P->max_retries && !P->stop &&
      code != SY_ECANCELED && !sy_job_cancelled(P->job)) {
    P->retries[s]++;
    sy_job_set_worker(-1);
    sy_job_emit(P->job, SY_EVENT_RETRIED, s, code, message);
    P->st[s] = ST_DELAYED;
    P->retry_at[s] =
        policy_now_ns() + policy_backoff_ns(P->backoff, P->retries[s]);
    if (P->retry_at[s] == 0) /* 0 means none */
      P->retry_at[s] = 1;
    P->n_delayed++;
    return;
  }
  P->st[s] = ST_FAILED;
  P->n_failed++;
  if (P->rc == 0) {
    P->rc = code;
    sy_error_set(&P->first, code, "%s", message);
  }
  if (P->keep_going)
    policy_skip_downstream(P, s);
  else
    P->stop = true;
}

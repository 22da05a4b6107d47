/*
 * callable.c - compile once, apply many times: the serving path.
 *
 * The flow is compiled for apply and bound as a job once; LOAD steps run
 * once and their states stay loaded in the per-step actor instances. Each
 * call resets the other steps, puts the request where the feed's output
 * would be, runs the apply chain in program order (already topological)
 * and returns what the sink would have received. Nothing is read from a
 * feed and nothing is written to a sink.
 */
#include "job.h"
#include "program.h"

#include <stdlib.h>
#include <string.h>

struct sy_callable {
  sy_program *prog;
  sy_job *job;
  uint32_t feed;     /* the FEED step */
  uint32_t result;   /* the step whose output the sink would get */
  uint8_t *keep;     /* steps whose values persist across calls */
  uint32_t *run;     /* steps to run per call, in order */
  uint32_t n_run;
};

void sy_callable_free(sy_callable *c) {
  if (!c)
    return;
  sy_job_free(c->job);
  sy_program_free(c->prog);
  free(c->keep);
  free(c->run);
  free(c);
}

int sy_callable_new(sy_platform *p, const char *flow_path,
                    const char *state_file, sy_callable **out,
                    sy_error *err) {
  *out = NULL;
  sy_callable *c = calloc(1, sizeof *c);
  if (!c)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  sy_compile_options copts = {sizeof copts, state_file};
  sy__compile_ctx ctx = {.no_feed = 1};
  int rc = sy__program_compile(p, flow_path, SY_MODE_APPLY, &copts, NULL,
                               &ctx, &c->prog, err);
  if (rc)
    goto fail;
  rc = sy__job_new(p, c->prog, NULL, 0, &c->job, err);
  if (rc)
    goto fail;
  uint32_t n = c->prog->n;
  c->keep = calloc(n ? n : 1, 1);
  c->run = malloc((n ? n : 1) * sizeof *c->run);
  if (!c->keep || !c->run) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto fail;
  }
  int have_feed = 0, have_sink = 0;
  for (uint32_t s = 0; s < n; s++) {
    const sy_instr *in = &c->prog->code[s];
    switch (in->op) {
    case SY_OP_FEED:
      c->feed = s;
      have_feed = 1;
      break;
    case SY_OP_LOAD:
      c->keep[s] = 1;
      if ((rc = sy_job_run_step(c->job, s, err)) != 0)
        goto fail;
      break;
    case SY_OP_SINK:
      c->result = in->args[0];
      have_sink = 1;
      break;
    default:
      c->run[c->n_run++] = s;
    }
  }
  if (!have_feed || !have_sink) {
    rc = sy_error_set(err, SY_ESTATE, "%s: nothing to call", flow_path);
    goto fail;
  }
  *out = c;
  return 0;
fail:
  sy_callable_free(c);
  return rc;
}

int sy_callable_call(sy_callable *c, const sy_value *input, sy_value **output,
                     sy_error *err) {
  *output = NULL;
  if (!input || sy_value_type_of(input) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_ETYPE, "a call takes a frame");
  sy__job_reset(c->job, c->keep);
  const sy_instr *feed = &c->prog->code[c->feed];
  sy_value *outs[2] = {NULL, NULL};
  int rc = 0;
  if (feed->n_outputs == 2)
    rc = sy__split_label(input, feed->label, &outs[0], &outs[1], err);
  else
    outs[0] = sy_value_ref((sy_value *)input);
  if (rc == 0)
    rc = sy_job_step_done(c->job, c->feed, outs);
  for (uint32_t i = 0; rc == 0 && i < c->n_run; i++)
    rc = sy_job_run_step(c->job, c->run[i], err);
  if (rc == 0) {
    sy_value *v = sy__job_output(c->job, c->result, 0);
    *output = v ? sy_value_ref(v) : NULL;
    if (!v)
      rc = sy_error_set(err, SY_ESTATE, "the call produced no result");
  }
  return rc;
}

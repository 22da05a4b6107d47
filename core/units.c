/*
 * units.c - what a runner asks about steps beyond their meaning (ABI
 * 1.4): each step's resources (from the program's side table) and the
 * partition of the steps into units, maximal linear chains of PURE steps,
 * for engines that submit one cluster job per unit. The rules are in
 * include/switchyard/runner.h; the partition is made on first use and
 * kept by the job (published with a compare-and-swap, as the labels are).
 */
#include "job.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct sy__units {
  uint32_t n;         /* units */
  uint32_t *of_step;  /* per step: its unit */
  uint32_t *start;    /* CSR: steps of unit u are */
  uint32_t *steps;    /*   steps[start[u] .. start[u + 1]) */
  uint32_t *dstart;   /* CSR: deps of unit u are */
  uint32_t *deps;     /*   deps[dstart[u] .. dstart[u + 1]) */
  sy_step_class *cls; /* per unit */
};

int sy_job_step_resources(const sy_job *job, size_t step,
                          sy_step_resources *out) {
  if (!out || out->size < offsetof(sy_step_resources, cpus) + 4)
    return SY_EINVAL;
  if (!job || step >= job->n)
    return SY_ERANGE;
  sy_step_resources r;
  sy__node_res_public(sy__step_res(job->prog, (uint32_t)step), &r);
  if (out->size >= sizeof r) {
    /* Today's layout or a newer one (every runner of this tree, once a
     * step): the whole struct, with no per-field walk. */
    r.size = out->size;
    memcpy(out, &r, sizeof r);
    return 0;
  }
  size_t size = out->size;
  /* Only whole fields within the caller's size; size stays the caller's. */
  const size_t ends[] = {
      offsetof(sy_step_resources, cpus) + 4,
      offsetof(sy_step_resources, gpus) + 4,
      offsetof(sy_step_resources, retries) + 4,
      offsetof(sy_step_resources, memory) + 8,
      offsetof(sy_step_resources, timeout) + 8,
  };
  size_t copy = offsetof(sy_step_resources, cpus);
  for (size_t k = 0; k < sizeof ends / sizeof *ends; k++)
    if (ends[k] <= size)
      copy = ends[k];
  memcpy((char *)out + offsetof(sy_step_resources, cpus),
         (const char *)&r + offsetof(sy_step_resources, cpus),
         copy - offsetof(sy_step_resources, cpus));
  return 0;
}

void sy__units_free(struct sy__units *u) {
  if (!u)
    return;
  free(u->of_step);
  free(u->start);
  free(u->steps);
  free(u->dstart);
  free(u->deps);
  free(u->cls);
  free(u);
}

static struct sy__units *units_make(const sy_job *job) {
  const sy_program *prog = job->prog;
  uint32_t n = job->n;
  struct sy__units *u = calloc(1, sizeof *u);
  if (!u)
    return NULL;
  u->of_step = malloc((n ? n : 1) * sizeof *u->of_step);
  u->steps = malloc((n ? n : 1) * sizeof *u->steps);
  u->start = calloc((size_t)n + 2, sizeof *u->start);
  u->dstart = calloc((size_t)n + 2, sizeof *u->dstart);
  u->cls = malloc((n ? n : 1) * sizeof *u->cls);
  if (!u->of_step || !u->steps || !u->start || !u->dstart || !u->cls)
    goto oom;
  /* Each step, in order: a GET joins its input's unit; a PURE step joins
   * its one input's unit when that input is PURE and this step is its
   * only consumer; anything else starts a unit. Units are numbered in
   * the order of their first step: a topological order. */
  for (uint32_t s = 0; s < n; s++) {
    const sy_instr *in = &prog->code[s];
    sy_step_class c = sy__op_class(in->op);
    uint32_t join = UINT32_MAX;
    if (c == SY_STEP_ROUTE && in->n_args == 1) {
      join = u->of_step[in->args[0]];
    } else if (c == SY_STEP_PURE && in->n_args == 1) {
      uint32_t p = in->args[0];
      if (sy__op_class(prog->code[p].op) == SY_STEP_PURE &&
          job->cons_start[p + 1] - job->cons_start[p] == 1)
        join = u->of_step[p];
    }
    if (join == UINT32_MAX) {
      join = u->n++;
      u->cls[join] = c == SY_STEP_ROUTE ? SY_STEP_LOCAL : c;
    }
    u->of_step[s] = join;
    u->start[join + 1]++;
  }
  for (uint32_t k = 0; k < u->n; k++)
    u->start[k + 1] += u->start[k];
  /* Steps in increasing order within each unit (filled in step order). */
  uint32_t *fill = malloc(((size_t)u->n + 1) * sizeof *fill);
  if (!fill)
    goto oom;
  memcpy(fill, u->start, ((size_t)u->n + 1) * sizeof *fill);
  for (uint32_t s = 0; s < n; s++)
    u->steps[fill[u->of_step[s]]++] = s;
  free(fill);
  /* Dependencies: only a unit's first step reads other units; its
   * inputs' units, distinct and increasing (a unit reads few). */
  size_t cap = 0, nd = 0;
  for (uint32_t k = 0; k < u->n; k++) {
    const sy_instr *in = &prog->code[u->steps[u->start[k]]];
    u->dstart[k] = (uint32_t)nd;
    for (uint32_t a = 0; a < in->n_args; a++) {
      uint32_t d = u->of_step[in->args[a]];
      if (d == k)
        continue;
      /* Insert d sorted, unless already there. */
      size_t lo = u->dstart[k], at = nd;
      int dup = 0;
      for (size_t i = lo; i < nd; i++) {
        if (u->deps[i] == d) {
          dup = 1;
          break;
        }
        if (u->deps[i] > d) {
          at = i;
          break;
        }
      }
      if (dup)
        continue;
      if (nd == cap) {
        size_t nc = cap ? cap * 2 : 64;
        uint32_t *grown = realloc(u->deps, nc * sizeof *grown);
        if (!grown)
          goto oom;
        u->deps = grown;
        cap = nc;
      }
      memmove(u->deps + at + 1, u->deps + at, (nd - at) * sizeof *u->deps);
      u->deps[at] = d;
      nd++;
    }
  }
  u->dstart[u->n] = (uint32_t)nd;
  return u;
oom:
  sy__units_free(u);
  return NULL;
}

/* The job's partition, made by the first caller; NULL when memory ran
 * out. */
static const struct sy__units *units_of(const sy_job *job) {
  sy_job *j = (sy_job *)job;
  struct sy__units *u = atomic_load_explicit(&j->units, memory_order_acquire);
  if (u)
    return u;
  u = units_make(job);
  if (!u)
    return NULL;
  struct sy__units *none = NULL;
  if (!atomic_compare_exchange_strong_explicit(
          &j->units, &none, u, memory_order_acq_rel, memory_order_acquire)) {
    sy__units_free(u);
    return none;
  }
  return u;
}

size_t sy_job_units(const sy_job *job, uint32_t *unit_of_step) {
  const struct sy__units *u = job ? units_of(job) : NULL;
  if (!u)
    return 0;
  if (unit_of_step)
    memcpy(unit_of_step, u->of_step, (size_t)job->n * sizeof *unit_of_step);
  return u->n;
}

size_t sy_job_unit_steps(const sy_job *job, size_t unit,
                         const uint32_t **steps) {
  const struct sy__units *u = job ? units_of(job) : NULL;
  if (steps)
    *steps = NULL;
  if (!u || unit >= u->n)
    return 0;
  if (steps)
    *steps = u->steps + u->start[unit];
  return u->start[unit + 1] - u->start[unit];
}

size_t sy_job_unit_deps(const sy_job *job, size_t unit, const uint32_t **deps) {
  const struct sy__units *u = job ? units_of(job) : NULL;
  if (deps)
    *deps = NULL;
  if (!u || unit >= u->n)
    return 0;
  if (deps)
    *deps = u->deps ? u->deps + u->dstart[unit] : NULL;
  return u->dstart[unit + 1] - u->dstart[unit];
}

sy_step_class sy_job_unit_class(const sy_job *job, size_t unit) {
  const struct sy__units *u = job ? units_of(job) : NULL;
  if (!u || unit >= u->n)
    return (sy_step_class)0;
  return u->cls[unit];
}

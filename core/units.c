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

/* Min-heap of unit ids (smaller id: earlier first step). */
static void heap_push(uint32_t *h, size_t *n, uint32_t v) {
  size_t i = (*n)++;
  while (i > 0 && h[(i - 1) / 2] > v) {
    h[i] = h[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h[i] = v;
}

static uint32_t heap_pop(uint32_t *h, size_t *n) {
  uint32_t top = h[0], v = h[--*n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= *n)
      break;
    if (c + 1 < *n && h[c + 1] < h[c])
      c++;
    if (h[c] >= v)
      break;
    h[i] = h[c];
    i = c;
  }
  if (*n)
    h[i] = v;
  return top;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Scratch of units_make, freed in one place. */
typedef struct umake {
  uint32_t *pu;      /* per step: its base unit */
  sy_step_class *pc; /* per base unit: class */
  uint32_t *pfirst;  /* per base unit: first step */
  uint32_t *bstart;  /* CSR per base unit: its steps */
  uint32_t *bsteps;
  uint8_t *after;   /* per step: a PURE step is it or upstream of it */
  uint32_t *rstart; /* CSR per base unit: its PURE readers, distinct */
  uint32_t *rd;
  uint32_t *parent; /* per base unit: what it joined (itself: a root) */
  uint32_t *last;   /* per root: the base unit that joined it last */
  uint32_t *mark;   /* per base unit: stamp */
  uint32_t *cid;    /* per base unit: its unit before numbering */
  uint32_t *cstart; /* CSR per unit before numbering: its steps */
  uint32_t *csteps;
  uint32_t *dstart; /* CSR per unit before numbering: its deps */
  uint32_t *deps;
  uint32_t *ustart; /* CSR: the units that read it */
  uint32_t *users;
  uint32_t *indeg;
  uint32_t *heap;
  uint32_t *num; /* unit before numbering -> its number */
} umake;

static void umake_free(umake *m) {
  free(m->pu), free(m->pc), free(m->pfirst), free(m->after);
  free(m->bstart), free(m->bsteps);
  free(m->rstart), free(m->rd), free(m->parent), free(m->last);
  free(m->mark), free(m->cid), free(m->cstart), free(m->csteps);
  free(m->dstart), free(m->deps), free(m->ustart), free(m->users);
  free(m->indeg), free(m->heap), free(m->num);
}

static uint32_t root_of(const uint32_t *parent, uint32_t x) {
  while (parent[x] != x)
    x = parent[x];
  return x;
}

/* The rule is in runner.h. Base units first: a PURE step starts one, a
 * GET joins its input's, any other step starts a LOCAL one. Then each
 * PURE base unit V, in order, joins the (grown) unit F it reads when
 * every value V reads from outside itself is F's or a LOCAL value no
 * PURE step is upstream of, and every other PURE unit reading F also
 * reads V. Last the units are numbered: in the order of their first
 * step, except that a unit comes after every unit it reads. */
static struct sy__units *units_make(const sy_job *job) {
  const sy_program *prog = job->prog;
  uint32_t n = job->n;
  size_t n1 = n ? n : 1;
  umake m = {0};
  struct sy__units *u = calloc(1, sizeof *u);
  if (!u)
    return NULL;
  u->of_step = malloc(n1 * sizeof *u->of_step);
  u->steps = malloc(n1 * sizeof *u->steps);
  u->start = calloc((size_t)n + 2, sizeof *u->start);
  u->dstart = calloc((size_t)n + 2, sizeof *u->dstart);
  u->cls = malloc(n1 * sizeof *u->cls);
  m.pu = malloc(n1 * sizeof *m.pu);
  m.pc = malloc(n1 * sizeof *m.pc);
  m.pfirst = malloc(n1 * sizeof *m.pfirst);
  m.after = calloc(n1, 1);
  m.bstart = calloc((size_t)n + 2, sizeof *m.bstart);
  m.bsteps = malloc(n1 * sizeof *m.bsteps);
  m.rstart = calloc((size_t)n + 2, sizeof *m.rstart);
  m.parent = malloc(n1 * sizeof *m.parent);
  m.last = malloc(n1 * sizeof *m.last);
  m.mark = calloc(n1, sizeof *m.mark);
  m.cid = malloc(n1 * sizeof *m.cid);
  m.cstart = calloc((size_t)n + 2, sizeof *m.cstart);
  m.csteps = malloc(n1 * sizeof *m.csteps);
  m.dstart = calloc((size_t)n + 2, sizeof *m.dstart);
  m.ustart = calloc((size_t)n + 2, sizeof *m.ustart);
  m.indeg = calloc(n1, sizeof *m.indeg);
  m.heap = malloc(n1 * sizeof *m.heap);
  m.num = malloc(n1 * sizeof *m.num);
  if (!u->of_step || !u->steps || !u->start || !u->dstart || !u->cls || !m.pu ||
      !m.pc || !m.pfirst || !m.after || !m.bstart || !m.bsteps || !m.rstart ||
      !m.parent || !m.last || !m.mark || !m.cid || !m.cstart || !m.csteps ||
      !m.dstart || !m.ustart || !m.indeg || !m.heap || !m.num)
    goto oom;
  /* Base units, numbered in the order of their first step. */
  uint32_t np = 0;
  for (uint32_t s = 0; s < n; s++) {
    const sy_instr *in = &prog->code[s];
    sy_step_class c = sy__op_class(in->op);
    if (c == SY_STEP_ROUTE && in->n_args == 1) {
      m.pu[s] = m.pu[in->args[0]];
    } else {
      m.pu[s] = np;
      m.pc[np] = c == SY_STEP_PURE ? SY_STEP_PURE : SY_STEP_LOCAL;
      m.pfirst[np++] = s;
    }
    m.after[s] = m.pc[m.pu[s]] == SY_STEP_PURE;
    for (uint32_t a = 0; a < in->n_args && !m.after[s]; a++)
      m.after[s] = m.after[in->args[a]];
  }
  for (uint32_t s = 0; s < n; s++)
    m.bstart[m.pu[s] + 1]++;
  for (uint32_t p = 0; p < np; p++)
    m.bstart[p + 1] += m.bstart[p];
  for (uint32_t s = 0, *fill = m.indeg; s < n; s++)
    m.bsteps[m.bstart[m.pu[s]] + fill[m.pu[s]]++] = s;
  memset(m.indeg, 0, n1 * sizeof *m.indeg);
  /* Each base unit's PURE readers, distinct (a reader's number is above
   * the unit's: it reads with its first step). */
  size_t nr = 0, rcap = 0;
  for (uint32_t p = 0; p < np; p++) {
    m.rstart[p] = (uint32_t)nr;
    for (uint32_t i = m.bstart[p]; i < m.bstart[p + 1]; i++) {
      uint32_t s = m.bsteps[i];
      for (uint32_t k = job->cons_start[s]; k < job->cons_start[s + 1]; k++) {
        uint32_t r = m.pu[job->cons[k]];
        if (r == p || m.pc[r] != SY_STEP_PURE || m.mark[r] == p + 1)
          continue;
        m.mark[r] = p + 1;
        uint32_t *grown = sy__grow_array(m.rd, &rcap, nr + 1, sizeof *m.rd);
        if (!grown)
          goto oom;
        m.rd = grown;
        m.rd[nr++] = r;
      }
    }
  }
  m.rstart[np] = (uint32_t)nr;
  /* Joins. mark[] now stamps V's readers with V + 1 + np. */
  for (uint32_t p = 0; p < np; p++)
    m.parent[p] = m.last[p] = p;
  for (uint32_t v = 0; v < np; v++) {
    if (m.pc[v] != SY_STEP_PURE)
      continue;
    uint32_t from = UINT32_MAX;
    int ok = 1;
    for (uint32_t i = m.bstart[v]; i < m.bstart[v + 1] && ok; i++) {
      const sy_instr *in = &prog->code[m.bsteps[i]];
      for (uint32_t a = 0; a < in->n_args && ok; a++) {
        uint32_t x = in->args[a], p = m.pu[x];
        if (p == v)
          continue;
        if (m.pc[p] != SY_STEP_PURE) {
          ok = !m.after[x]; /* made before any PURE step: ready early */
          continue;
        }
        p = root_of(m.parent, p);
        if (from != UINT32_MAX && from != p)
          ok = 0;
        from = p;
      }
    }
    if (!ok || from == UINT32_MAX)
      continue;
    /* The PURE units outside F reading F are the readers of the base
     * unit that joined F last (each join keeps this true). Each of them
     * but V must read V too: it waits for V anyway. */
    uint32_t w = m.last[from], stamp = v + 1 + np;
    for (uint32_t k = m.rstart[v]; k < m.rstart[v + 1]; k++)
      m.mark[m.rd[k]] = stamp;
    for (uint32_t k = m.rstart[w]; k < m.rstart[w + 1] && ok; k++)
      ok = m.rd[k] == v || m.mark[m.rd[k]] == stamp;
    if (ok) {
      m.parent[v] = from;
      m.last[from] = v;
    }
  }
  /* Units before numbering: the roots, in order. */
  uint32_t nc = 0;
  for (uint32_t p = 0; p < np; p++)
    m.cid[p] = m.parent[p] == p ? nc++ : m.cid[root_of(m.parent, p)];
  for (uint32_t s = 0; s < n; s++)
    m.cstart[m.cid[m.pu[s]] + 1]++;
  for (uint32_t c = 0; c < nc; c++)
    m.cstart[c + 1] += m.cstart[c];
  for (uint32_t s = 0, *fill = m.indeg; s < n; s++) {
    uint32_t c = m.cid[m.pu[s]];
    m.csteps[m.cstart[c] + fill[c]++] = s;
  }
  memset(m.indeg, 0, n1 * sizeof *m.indeg);
  /* Each unit's deps: the units of its steps' inputs from outside it,
   * distinct. mark[] stamps with c + 1 + 2 np. */
  size_t nd = 0, dcap = 0;
  for (uint32_t c = 0; c < nc; c++) {
    m.dstart[c] = (uint32_t)nd;
    uint32_t stamp = c + 1 + 2 * np;
    for (uint32_t k = m.cstart[c]; k < m.cstart[c + 1]; k++) {
      const sy_instr *in = &prog->code[m.csteps[k]];
      for (uint32_t a = 0; a < in->n_args; a++) {
        uint32_t d = m.cid[m.pu[in->args[a]]];
        if (d == c || m.mark[d] == stamp)
          continue;
        m.mark[d] = stamp;
        uint32_t *grown = sy__grow_array(m.deps, &dcap, nd + 1, sizeof *m.deps);
        if (!grown)
          goto oom;
        m.deps = grown;
        m.deps[nd++] = d;
        m.ustart[d + 1]++;
      }
    }
    m.indeg[c] = (uint32_t)(nd - m.dstart[c]);
  }
  m.dstart[nc] = (uint32_t)nd;
  for (uint32_t c = 0; c < nc; c++)
    m.ustart[c + 1] += m.ustart[c];
  m.users = malloc((nd ? nd : 1) * sizeof *m.users);
  if (!m.users)
    goto oom;
  {
    uint32_t *fill = m.num; /* scratch until numbering */
    memcpy(fill, m.ustart, nc * sizeof *fill);
    for (uint32_t c = 0; c < nc; c++)
      for (uint32_t k = m.dstart[c]; k < m.dstart[c + 1]; k++)
        m.users[fill[m.deps[k]]++] = c;
  }
  /* Numbering: the ready unit with the earliest first step next. */
  size_t nh = 0;
  for (uint32_t c = 0; c < nc; c++)
    if (m.indeg[c] == 0)
      heap_push(m.heap, &nh, c);
  uint32_t done = 0;
  while (nh) {
    uint32_t c = heap_pop(m.heap, &nh);
    m.num[c] = done++;
    for (uint32_t k = m.ustart[c]; k < m.ustart[c + 1]; k++)
      if (--m.indeg[m.users[k]] == 0)
        heap_push(m.heap, &nh, m.users[k]);
  }
  if (done != nc) /* a cycle: the rule above makes none */
    goto oom;
  /* The partition, by number. */
  u->n = nc;
  uint32_t *order = m.heap; /* number -> unit before numbering */
  for (uint32_t c = 0; c < nc; c++)
    order[m.num[c]] = c;
  size_t at = 0, dat = 0;
  u->deps = malloc((nd ? nd : 1) * sizeof *u->deps);
  if (!u->deps)
    goto oom;
  for (uint32_t k = 0; k < nc; k++) {
    uint32_t c = order[k];
    u->start[k] = (uint32_t)at;
    u->dstart[k] = (uint32_t)dat;
    u->cls[k] = m.pc[m.pu[m.csteps[m.cstart[c]]]];
    for (uint32_t i = m.cstart[c]; i < m.cstart[c + 1]; i++) {
      u->steps[at++] = m.csteps[i];
      u->of_step[m.csteps[i]] = k;
    }
    for (uint32_t i = m.dstart[c]; i < m.dstart[c + 1]; i++)
      u->deps[dat++] = m.num[m.deps[i]];
    qsort(u->deps + u->dstart[k], dat - u->dstart[k], sizeof *u->deps, cmp_u32);
  }
  u->start[nc] = (uint32_t)at;
  u->dstart[nc] = (uint32_t)dat;
  umake_free(&m);
  return u;
oom:
  umake_free(&m);
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

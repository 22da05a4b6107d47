/*
 * cmd_serve.c - `switchyard serve`: a generation (or a flow and its state
 * file) answering predictions over HTTP/1.1.
 *
 *   serve PROJECT[:RELEASE[:GEN]] | FLOW --state FILE
 *         [--listen HOST:PORT] [--follow | --no-follow] ...
 *
 * The HTTP server is libmicrohttpd in thread pool mode: --threads polling
 * threads, each answering the requests of its connections one at a time.
 * Requests are decoded and answers encoded by cli/serve_req.c.
 *
 * The model. A loaded generation is a `model`: its own platform, the
 * input schema (its feed's table less the label), and one serving
 * callable per server thread (a callable serves one call at a time), so
 * requests never wait for each other. The current model is a pointer
 * read under a mutex that takes a reference (an atomic count); a request
 * holds its reference until it has answered, so a swap lets requests in
 * flight finish on the old model, which is freed by the last one.
 *
 * Reloading. A thread follows the registry (--follow: every --poll
 * seconds it lists the release's generations) and loads a newer one
 * beside the current; only a model that loaded and answered a first
 * call is swapped in, a failure is logged and the old one keeps serving.
 * SIGHUP makes it reload now. SIGTERM and SIGINT stop accepting
 * (MHD_quiesce_daemon), let the requests in flight finish for up to
 * --grace seconds (new requests on open connections get 503), and exit 0.
 *
 * Limits. libmicrohttpd refuses connections beyond its connection limit
 * at accept() (the client sees a reset, not an answer), so the server
 * counts its open connections itself and answers 503 to a request on a
 * connection past --max-connections; libmicrohttpd's own limit is set a
 * little higher, where refusing is all that is left. A body over
 * --max-body is 413, a client that sends nothing for --timeout seconds
 * is disconnected.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "serve_req.h"
#include "switchyard/buf.h"
#include "switchyard/config.h"
#include "switchyard/flow.h"
#include "switchyard/io.h"
#include "switchyard/lifecycle.h"
#include "switchyard/registry.h"

/* ---- options ---------------------------------------------------------- */

typedef struct serve_opts {
  const char *target;
  const char *state;
  const char *registry;
  const char *listen;
  const char *log;
  int follow; /* -1: default */
  unsigned threads;
  size_t max_body;
  unsigned max_conns;
  unsigned timeout;
  double grace;
  double poll;
} serve_opts;

/* ---- the model -------------------------------------------------------- */

typedef struct slot {
  sy_callable *c;
  sy_row_call *row; /* bound to the schema's columns, or NULL */
  atomic_int busy;
} slot;

typedef struct model {
  atomic_int refs;
  sy_platform *p;
  char origin[512];
  char project[160], release[160];
  uint32_t generation;
  char flow_hash[33];
  serve_schema schema;
  char **out_names; /* learned from the warm-up call; NULL: unknown */
  sy_col_type *out_types;
  size_t n_out;
  /* The row fast path serves one-row all-f64 requests (every slot then
   * has its row call), and batches when every step is row-wise. */
  int row_ok;
  int row_batch;
  serve_row_enc row_enc; /* its JSON answer's layout (when row_ok) */
  char loaded_at[32];
  pthread_mutex_t mu; /* with cv: waiting for a slot */
  pthread_cond_t cv;
  atomic_int waiting; /* threads in slot_take's slow path */
  slot *slots;
  size_t n_slots;
} model;

static void model_free(model *m) {
  for (size_t i = 0; m->slots && i < m->n_slots; i++) {
    sy_row_call_free(m->slots[i].row);
    sy_callable_free(m->slots[i].c);
  }
  free(m->slots);
  for (size_t i = 0; i < m->n_out; i++)
    free(m->out_names[i]);
  free(m->out_names);
  free(m->out_types);
  serve_row_enc_free(&m->row_enc);
  serve_schema_free(&m->schema);
  sy_platform_close(m->p);
  pthread_mutex_destroy(&m->mu);
  pthread_cond_destroy(&m->cv);
  free(m);
}

static void model_unref(model *m) {
  if (m && atomic_fetch_sub(&m->refs, 1) == 1)
    model_free(m);
}

/* A free slot, taken with a compare-and-swap (no lock while one is
 * free: there are as many slots as server threads); else wait for one. */
static slot *slot_try(model *m) {
  for (size_t i = 0; i < m->n_slots; i++) {
    int free_ = 0;
    if (atomic_compare_exchange_strong(&m->slots[i].busy, &free_, 1))
      return &m->slots[i];
  }
  return NULL;
}

static slot *slot_take(model *m) {
  slot *s = slot_try(m);
  if (s)
    return s;
  pthread_mutex_lock(&m->mu);
  atomic_fetch_add(&m->waiting, 1);
  /* slot_give clears busy, then signals when anyone is waiting: a slot
   * given before the count went up is found by this try */
  while (!(s = slot_try(m)))
    pthread_cond_wait(&m->cv, &m->mu);
  atomic_fetch_sub(&m->waiting, 1);
  pthread_mutex_unlock(&m->mu);
  return s;
}

static void slot_give(model *m, slot *s) {
  atomic_store(&s->busy, 0);
  if (atomic_load(&m->waiting)) {
    pthread_mutex_lock(&m->mu);
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
  }
}

/* ---- server state ------------------------------------------------------ */

static const int statuses[] = {200, 400, 404, 405, 413, 415, 422, 500, 503};
#define N_STATUS (sizeof statuses / sizeof *statuses)
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                 0.005,  0.01,    0.025,  0.05,  0.1,
                                 0.25,   0.5,     1,      2.5,   10};
#define N_BUCKET (sizeof buckets / sizeof *buckets)

static struct {
  serve_opts o;
  cli_ctx *ctx;
  pthread_mutex_t cur_mu;
  model *cur;
  atomic_int draining;
  atomic_long open_conns;
  atomic_long in_flight;
  atomic_ulong by_status[N_STATUS + 1];
  atomic_ulong hist[N_BUCKET + 1];
  atomic_ulong lat_sum_us;
  atomic_ulong rows;
  atomic_ulong reloads_ok, reloads_failed;
  pthread_mutex_t log_mu;
  FILE *log; /* --log: JSON lines; NULL: text lines on stderr */
  int quiet;
  /* the reloader */
  pthread_mutex_t rl_mu;
  pthread_cond_t rl_cv;
  int rl_now, rl_stop;
  long delay_ms; /* SWITCHYARD_SERVE_TEST_DELAY_MS: tests hold requests */
} S = {.cur_mu = PTHREAD_MUTEX_INITIALIZER,
       .log_mu = PTHREAD_MUTEX_INITIALIZER,
       .rl_mu = PTHREAD_MUTEX_INITIALIZER,
       .rl_cv = PTHREAD_COND_INITIALIZER};

static model *current(void) {
  pthread_mutex_lock(&S.cur_mu);
  model *m = S.cur;
  if (m)
    atomic_fetch_add(&m->refs, 1);
  pthread_mutex_unlock(&S.cur_mu);
  return m;
}

static void logf_(const char *fmt, ...) SY_PRINTF(1, 2);
static void logf_(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&S.log_mu);
  fprintf(stderr, "switchyard: serve: %s\n", line);
  pthread_mutex_unlock(&S.log_mu);
}

static void now_iso(char out[32]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- loading a model ------------------------------------------------- */

typedef struct colacc {
  serve_schema *s;
  int unknown; /* a column's type needs the rows */
} colacc;

static int take_column(void *ud, const char *name, sy_col_type type) {
  colacc *a = ud;
  if (a->s->label && strcmp(name, a->s->label) == 0)
    return 0;
  if (type == 0)
    a->unknown = 1;
  return serve_schema_add(a->s, name, type) ? SY_ENOMEM : 0;
}

/* With a source's columns or where (pushdown), a request carries what
 * the flow reads of the table, not the whole table: its columns (less the
 * label) in their order, then the other columns its where reads. 0, or
 * SY_ENOMEM. */
static int schema_pushdown(serve_schema *s, const sy_feed_query *q) {
  if (!q || (q->n_columns == 0 && q->n_where == 0) || s->open)
    return 0;
  serve_schema t = {0};
  size_t n_names = q->n_columns + q->n_where;
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < n_names; k++) {
    const char *name =
        k < q->n_columns ? q->columns[k] : q->where[k - q->n_columns].column;
    if (k >= q->n_columns && q->n_columns == 0)
      break; /* no columns: every column stays */
    int have = 0;
    for (size_t j = 0; j < t.n && !have; j++)
      have = strcmp(t.names[j], name) == 0;
    for (size_t j = 0; j < s->n && !have; j++)
      if (strcmp(s->names[j], name) == 0) {
        rc = serve_schema_add(&t, name, s->types[j]);
        have = 1;
      }
  }
  if (rc || q->n_columns == 0) {
    serve_schema_free(&t);
    return rc;
  }
  for (size_t i = 0; i < s->n; i++)
    free(s->names[i]);
  free(s->names);
  free(s->types);
  s->names = t.names;
  s->types = t.types;
  s->n = t.n;
  return 0;
}

/* The input schema: the columns of the feed's table less the label, named
 * by the feed's describe, typed by it or (for inferred types) by reading
 * the table once. Any failure leaves the schema open (a note says why). */
static void learn_schema(model *m, sy_callable *c) {
  const char *feed = NULL, *table = NULL, *label = NULL;
  sy_callable_source(c, &feed, &table, &label);
  serve_schema *s = &m->schema;
  s->open = 1;
  if (label && *label)
    s->label = strdup(label);
  sy_instance *inst = NULL;
  sy_error err;
  sy_error_clear(&err);
  sy_value *t = NULL;
  if (!feed || !*feed || !table || !*table) {
    logf_("%s: the flow names no table: any input columns are passed on",
          m->origin);
    return;
  }
  if (sy_instance_create(sy_platform_config(m->p), sy_platform_catalog(m->p),
                         SY_KIND_FEED, feed, &inst, &err) != 0)
    goto open;
  const sy_feed_ops *ops = sy_instance_provider(inst)->ops;
  colacc acc = {s, 0};
  int rc = SY_ENOTSUP;
  if (SY_FEED_HAS_DESCRIBE(ops)) {
    rc = ops->describe(sy_instance_self(inst), table, take_column, &acc, &err);
    if (rc == 0 && !acc.unknown) {
      s->open = 0;
      if (schema_pushdown(s, sy_callable_query(c)))
        goto open;
      goto done;
    }
  }
  /* Types the header cannot tell: read the table once. */
  for (size_t i = 0; i < s->n; i++)
    free(s->names[i]);
  s->n = 0;
  if ((rc = ops->read(sy_instance_self(inst), table, &t, &err)) != 0)
    goto open;
  for (size_t i = 0; i < sy_frame_cols(t); i++)
    if (take_column(&acc, sy_frame_col_name(t, i), sy_frame_col_type(t, i)))
      goto open;
  s->open = 0;
  if (schema_pushdown(s, sy_callable_query(c)))
    goto open;
  goto done;
open:
  for (size_t i = 0; i < s->n; i++)
    free(s->names[i]);
  s->n = 0;
  s->open = 1;
  logf_("%s: input columns unknown (feed '%s', table '%s': %s): any "
        "input columns are passed on",
        m->origin, feed, table, err.message[0] ? err.message : "unreadable");
done:
  sy_value_unref(t);
  sy_instance_destroy(inst);
}

/* A one-row frame of the schema's columns (zeros, ""): the warm-up call
 * that proves a generation answers and names its output columns. */
static int warm_up(model *m, sy_error *err) {
  if (m->schema.open)
    return 0;
  /* A row of zeros may not match the source's where (it would be
   * refused): then no row at all. */
  const sy_feed_query *q = sy_callable_query(m->slots[0].c);
  size_t rows = q && q->n_where ? 0 : 1;
  sy_frame_builder *b = NULL;
  int rc = sy_frame_builder_new(rows, &b);
  for (size_t i = 0; rc == 0 && i < m->schema.n; i++) {
    int col =
        sy_frame_builder_column(b, m->schema.names[i], m->schema.types[i]);
    if (col < 0)
      rc = col;
    else if (rows == 0)
      continue;
    else if (m->schema.types[i] == SY_COL_F64)
      rc = sy_frame_builder_f64(b, (size_t)col, 0.0);
    else if (m->schema.types[i] == SY_COL_I64)
      rc = sy_frame_builder_i64(b, (size_t)col, 0);
    else
      rc = sy_frame_builder_str(b, (size_t)col, "");
  }
  sy_value *in = NULL, *out = NULL;
  if (rc == 0)
    rc = sy_frame_builder_finish(b, &in, err);
  else
    sy_frame_builder_free(b);
  if (rc)
    return rc;
  rc = sy_callable_call(m->slots[0].c, in, &out, err);
  if (rc == 0 && sy_value_type_of(out) == SY_VALUE_FRAME) {
    size_t n = sy_frame_cols(out);
    m->out_names = calloc(n ? n : 1, sizeof *m->out_names);
    m->out_types = calloc(n ? n : 1, sizeof *m->out_types);
    if (!m->out_names || !m->out_types)
      rc = SY_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
      if (!(m->out_names[i] = strdup(sy_frame_col_name(out, i))))
        rc = SY_ENOMEM;
      m->out_types[i] = sy_frame_col_type(out, i);
      m->n_out = i + 1;
    }
  }
  sy_value_unref(in);
  sy_value_unref(out);
  return rc;
}

/* The most rows a request may have to take the bound-row path (its
 * results are kept whole before they are written). */
#define ROW_BATCH_MAX 65536

/* The row path's answer layout, from the first slot's row call (every
 * slot's is bound to the same flow and columns). */
static int row_layout(model *m) {
  const sy_row_call *r = m->slots[0].row;
  size_t w = sy_row_call_width(r), n_lab[64];
  const char *names[64];
  const char *const *labels[64];
  for (size_t i = 0; i < w; i++) {
    names[i] = sy_row_call_name(r, i);
    labels[i] = sy_row_call_labels(r, i, &n_lab[i]);
  }
  return serve_row_enc_init(&m->row_enc, w, names, labels, n_lab);
}

/* The one-row frame a row call's result stands for (label cells as their
 * strings), for the answers the row encoder does not write (CSV). */
static int row_frame(const sy_row_call *r, const double *y, sy_value **out) {
  int rc = sy_frame_new(1, out);
  for (size_t i = 0; rc == 0 && i < sy_row_call_width(r); i++) {
    size_t n;
    const char *const *lab = sy_row_call_labels(r, i, &n);
    if (!lab) {
      rc = sy_frame_add_f64(*out, sy_row_call_name(r, i), &y[i], NULL);
      continue;
    }
    size_t at;
    rc = serve_label_index(y[i], n, &at)
             ? sy_frame_add_str(*out, sy_row_call_name(r, i), &lab[at])
             : SY_ERANGE;
  }
  return rc;
}

static int open_platform(sy_platform **p, sy_error *err) {
  cli_ctx *ctx = S.ctx;
  sy_platform_options opts = {sizeof opts, ctx->config_files, ctx->overrides, 0,
                              0,           ctx->project_dir};
  return sy_platform_open(&opts, p, err);
}

/* Loads target (a flow file with S.o.state, or a registry reference) as
 * a new model, with one callable per server thread. */
static int model_load(const char *target, model **out, sy_error *err) {
  *out = NULL;
  model *m = calloc(1, sizeof *m);
  if (!m)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  atomic_init(&m->refs, 1);
  pthread_mutex_init(&m->mu, NULL);
  pthread_cond_init(&m->cv, NULL);
  int rc = open_platform(&m->p, err);
  m->n_slots = S.o.threads;
  m->slots = calloc(m->n_slots, sizeof *m->slots);
  if (rc == 0 && !m->slots)
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
  sy_target_options topts = {.size = sizeof topts, .registry = S.o.registry};
  for (size_t i = 0; rc == 0 && i < m->n_slots; i++)
    rc = S.o.state
             ? sy_callable_new(m->p, target, S.o.state, &m->slots[i].c, err)
             : sy_callable_new_target(m->p, target, &topts, NULL,
                                      &m->slots[i].c, err);
  if (rc)
    goto fail;
  const sy_program *prog = sy_callable_program(m->slots[0].c);
  sy_program_flow_hash_hex(prog, m->flow_hash);
  const char *origin = sy_program_origin(prog);
  if (origin && *origin) {
    snprintf(m->origin, sizeof m->origin, "%s", origin);
    sy_registry_ref ref;
    sy_error perr;
    if (sy_registry_ref_parse(origin, 3, 3, &ref, &perr) == 0) {
      snprintf(m->project, sizeof m->project, "%s", ref.project);
      snprintf(m->release, sizeof m->release, "%s", ref.release);
      m->generation = ref.generation;
      sy_registry_ref_free(&ref);
    }
  } else {
    snprintf(m->origin, sizeof m->origin, "%s", target);
    snprintf(m->project, sizeof m->project, "%s", sy_program_name(prog));
  }
  learn_schema(m, m->slots[0].c);
  if ((rc = warm_up(m, err)) != 0) {
    sy_error_prefix(err, "%s: a first call failed", m->origin);
    goto fail;
  }
  /* The row fast path: one row of f64 cells in; out, f64 cells and
   * labels (a classifier's class: an index into its strings). */
  int all_f64 = !m->schema.open && m->schema.n > 0;
  for (size_t i = 0; all_f64 && i < m->schema.n; i++)
    all_f64 = m->schema.types[i] == SY_COL_F64;
  if (all_f64) {
    /* Batches too when every step is row-wise; else one-row requests. */
    m->row_ok = m->row_batch = 1;
    for (size_t i = 0; m->row_ok && i < m->n_slots; i++) {
      sy_error e;
      sy_error_clear(&e);
      const char *const *names = (const char *const *)m->schema.names;
      sy_row_call **row = &m->slots[i].row;
      if (m->row_batch && sy_callable_bind_row_flags(
                              m->slots[i].c, names, m->schema.n,
                              SY_ROW_LABELS | SY_ROW_BATCH, row, &e) != 0)
        m->row_batch = 0;
      if (!m->row_batch && !*row &&
          sy_callable_bind_row_flags(m->slots[i].c, names, m->schema.n,
                                     SY_ROW_LABELS, row, &e) != 0)
        m->row_ok = 0;
      if (m->row_ok && sy_row_call_width(*row) > 64)
        m->row_ok = 0;
    }
    m->row_batch &= m->row_ok;
    if (m->row_ok && (rc = row_layout(m)) != 0) {
      sy_error_set(err, rc, "out of memory");
      goto fail;
    }
  }
  now_iso(m->loaded_at);
  *out = m;
  return 0;
fail:
  model_free(m);
  return rc;
}

/* ---- following the registry ------------------------------------------- */

typedef struct latest {
  const char *release; /* NULL: any */
  char best_rel[160];
  uint32_t best_gen;
} latest;

static int visit(void *ud, const sy_registry_entry *e) {
  latest *l = ud;
  if (e->generation == 0 || (l->release && strcmp(e->release, l->release)))
    return 0;
  int cmp =
      l->best_gen ? sy_release_version_compare(e->release, l->best_rel) : 1;
  if (cmp > 0 || (cmp == 0 && e->generation > l->best_gen)) {
    snprintf(l->best_rel, sizeof l->best_rel, "%s", e->release);
    l->best_gen = e->generation;
  }
  return 0;
}

/* The newest generation the target follows: "PROJECT:RELEASE:GEN" in out,
 * or an error. */
static int newest(sy_platform *p, const sy_registry_ref *ref, char *out,
                  size_t cap, sy_error *err) {
  sy_instance *inst = NULL;
  int rc = sy_platform_registry(p, S.o.registry, &inst, NULL, err);
  if (rc)
    return rc;
  const sy_registry_ops *ops = sy_instance_provider(inst)->ops;
  latest l = {ref->release, "", 0};
  rc = ops->list(sy_instance_self(inst), ref->project, ref->release, visit, &l,
                 err);
  sy_instance_destroy(inst);
  if (rc == 0 && !l.best_gen)
    rc =
        sy_error_set(err, SY_ENOENT, "%s: no trained generation", ref->project);
  if (rc == 0)
    snprintf(out, cap, "%s:%s:%" PRIu32, ref->project, l.best_rel, l.best_gen);
  return rc;
}

static void swap_in(model *m) {
  pthread_mutex_lock(&S.cur_mu);
  model *old = S.cur;
  S.cur = m;
  pthread_mutex_unlock(&S.cur_mu);
  model_unref(old);
}

static void *reloader(void *arg) {
  sy_registry_ref *ref = arg; /* NULL: not following the registry */
  char failed[512] = "";      /* the last generation that failed to load */
  sy_platform *p = NULL;
  sy_error err;
  sy_error_clear(&err);
  if (ref && open_platform(&p, &err) != 0) {
    logf_("cannot follow the registry: %s", err.message);
    ref = NULL;
  }
  pthread_mutex_lock(&S.rl_mu);
  while (!S.rl_stop) {
    if (!S.rl_now) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      double poll = ref ? S.o.poll : 3600;
      ts.tv_sec += (time_t)poll;
      ts.tv_nsec += (long)((poll - (double)(time_t)poll) * 1e9);
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&S.rl_cv, &S.rl_mu, &ts);
    }
    if (S.rl_stop)
      break;
    int forced = S.rl_now;
    S.rl_now = 0;
    if (!forced && !ref)
      continue;
    pthread_mutex_unlock(&S.rl_mu);
    char target[512];
    sy_error_clear(&err);
    int rc = 0;
    model *cur = current();
    if (ref) {
      rc = newest(p, ref, target, sizeof target, &err);
      if (rc == 0 && !forced &&
          ((cur && strcmp(cur->origin, target) == 0) ||
           strcmp(failed, target) == 0))
        rc = -1; /* nothing new (a failed one is tried again on SIGHUP) */
    } else {
      snprintf(target, sizeof target, "%s", S.o.target);
    }
    model_unref(cur);
    if (rc == 0) {
      model *m = NULL;
      double t0 = mono();
      if ((rc = model_load(target, &m, &err)) == 0) {
        failed[0] = '\0';
        swap_in(m);
        atomic_fetch_add(&S.reloads_ok, 1);
        logf_("serving %s (loaded in %.0f ms)", target, (mono() - t0) * 1e3);
      } else {
        atomic_fetch_add(&S.reloads_failed, 1);
        snprintf(failed, sizeof failed, "%s", target);
        logf_("reload of %s failed, the previous generation keeps "
              "serving: %s",
              target, err.message);
      }
    } else if (rc > 0 || rc < -1) {
      logf_("following the registry: %s", err.message);
    }
    pthread_mutex_lock(&S.rl_mu);
  }
  pthread_mutex_unlock(&S.rl_mu);
  sy_platform_close(p);
  return NULL;
}

/* ---- HTTP ------------------------------------------------------------ */

typedef struct req {
  double t0;
  sy_buf body;
  int kept;   /* the connection's own: kept for its next request */
  int active; /* a request is using it */
  int too_big;
  int counted; /* in S.in_flight */
  size_t rows;
  int status;
  char method[8];
  char path[128];
} req;

static void count_status(int status) {
  size_t i = 0;
  while (i < N_STATUS && statuses[i] != status)
    i++;
  atomic_fetch_add(&S.by_status[i], 1);
}

static enum MHD_Result send_buf(struct MHD_Connection *con, req *r, int status,
                                sy_buf *b, const char *type, const model *m) {
  /* The answer's buffer is handed over, not copied: MHD free()s it. */
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    sy_buf_free(b);
    return MHD_NO;
  }
  *b = (sy_buf)SY_BUF_INIT;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (m && m->origin[0])
    MHD_add_response_header(resp, "X-Switchyard-Model", m->origin);
  if (status == 503 || status == 413)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  r->status = status;
  enum MHD_Result ret = MHD_queue_response(con, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *con, req *r,
                                  int status, const char *error,
                                  const char *detail) {
  sy_buf b = SY_BUF_INIT;
  serve_error_json(&b, error, detail);
  return send_buf(con, r, status, &b, "application/json", NULL);
}

static int wants_csv(struct MHD_Connection *con) {
  const char *a =
      MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
  return a && strstr(a, "text/csv") != NULL;
}

/* The rows of a frame path request for the bound-row path: in's columns
 * gathered row-major into x (k cells a row); 0, or 1 when a cell is
 * null or a column is not f64 (the frame path then). */
static int gather_rows(const sy_value *in, size_t k, size_t n, double *x) {
  const double *col[64];
  for (size_t i = 0; i < k; i++)
    if (sy_frame_valid(in, i) || !(col[i] = sy_frame_f64(in, i)))
      return 1;
  for (size_t r = 0; r < n; r++)
    for (size_t i = 0; i < k; i++)
      x[r * k + i] = col[i][r];
  return 0;
}

/* The bound-row path: s's row call on n rows x[0 .. n * k), then the
 * answer, JSON rows into b or (csv, one row) the frame *out. 0, or an
 * SY_E* code with err set (every one the server's fault). */
static int run_rows(slot *s, const model *m, const double *x, size_t n, int csv,
                    sy_buf *b, sy_value **out, sy_error *err) {
  size_t k = m->schema.n, w = sy_row_call_width(s->row);
  double y1[64], *y = y1;
  if (n > 1 && !(y = malloc(n * w * sizeof *y)))
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (size_t r = 0; r < n; r++)
    sy_row_call_run(s->row, x + r * k, y + r * w);
  int rc = csv ? row_frame(s->row, y, out)
               : serve_encode_row_json(&m->row_enc, y, n, b);
  if (y != y1)
    free(y);
  if (rc)
    sy_error_set(err, rc,
                 rc == SY_ENOMEM ? "out of memory"
                                 : "a row kernel gave a label index out of "
                                   "its table");
  return rc;
}

/* The answer of one predict call: the bound-row path (JSON numbers
 * decoded straight into rows, or a frame's cells gathered into them) or
 * the frame path, encoded. */
static enum MHD_Result predict(struct MHD_Connection *con, req *r) {
  const char *ct = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_TYPE);
  int kind = SERVE_BODY_JSON;
  if (ct && strncasecmp(ct, "text/csv", 8) == 0)
    kind = SERVE_BODY_CSV;
  else if (ct && strncasecmp(ct, "application/json", 16) != 0)
    return send_error(con, r, 415, "unsupported_media_type",
                      "send application/json or text/csv");
  model *m = current();
  if (!m)
    return send_error(con, r, 503, "not_ready", "no model is loaded yet");
  int csv = wants_csv(con);
  /* A CSV answer of many rows is the frame path's: no row batch then. */
  size_t row_max = csv || !m->row_batch ? 1 : ROW_BATCH_MAX;
  const char *body = r->body.data ? r->body.data : "";
  const double *x = NULL;
  size_t n = 0;
  sy_value *in = NULL, *out = NULL;
  int rc = SERVE_FAST_DECLINED;
  if (kind == SERVE_BODY_JSON && m->row_ok)
    rc = serve_decode_rows(body, r->body.len, &m->schema, row_max, &x, &n);
  if (rc == SY_ENOMEM) {
    model_unref(m);
    return send_error(con, r, 500, "internal", "out of memory");
  }
  if (rc) { /* declined: the frame */
    serve_fail f;
    rc = serve_decode(body, r->body.len, kind, &m->schema, &in, &f);
    if (rc) {
      model_unref(m);
      if (rc == SY_ENOMEM)
        return send_error(con, r, 500, "internal", "out of memory");
      return send_error(con, r, f.status, f.error, f.detail);
    }
    n = sy_frame_rows(in);
  }
  r->rows = n;
  if (S.delay_ms > 0)
    usleep((useconds_t)S.delay_ms * 1000);
  slot *s = slot_take(m);
  sy_error err;
  sy_error_clear(&err);
  sy_buf b = SY_BUF_INIT;
  int rows_path = s->row && n <= row_max;
  int internal = 0; /* the row path failed: the server's fault */
  double x1[64], *xg = NULL;
  if (rows_path && !x) { /* a frame's cells, when they fit */
    size_t k = m->schema.n;
    rows_path = k <= 64 && sy_frame_cols(in) == k;
    xg = n == 1 ? x1 : rows_path ? malloc(n * k * sizeof *xg) : NULL;
    if (rows_path && !xg)
      rc = sy_error_set(&err, SY_ENOMEM, "out of memory");
    else if (rows_path)
      rows_path = (rc = gather_rows(in, k, n, xg)) == 0;
    x = xg;
  }
  if (rc == 0 && rows_path)
    internal = (rc = run_rows(s, m, x, n, csv, &b, &out, &err)) != 0;
  else if (rc == 0 || rc == 1)
    rc = sy_callable_call(s->c, in, &out, &err);
  slot_give(m, s);
  if (xg != x1)
    free(xg);
  sy_value_unref(in);
  int json_done = rc == 0 && rows_path && !csv;
  if (rc == 0 && !json_done && sy_value_type_of(out) != SY_VALUE_FRAME)
    rc = sy_error_set(&err, SY_ETYPE, "the flow's result is not a table");
  enum MHD_Result ret;
  if (rc) {
    /* What the actors refuse is about the request's data; a bad label
     * index is the server's (a plugin's) fault. */
    int st = internal || rc == SY_ENOMEM ? 500 : 422;
    ret = send_error(con, r, st, st == 500 ? "internal" : "bad_input",
                     err.message);
  } else {
    if (!json_done)
      rc = csv ? serve_encode_csv(out, &b) : serve_encode_json(out, &b);
    ret = rc ? send_error(con, r, 500, "internal", "out of memory")
             : send_buf(con, r, 200, &b, csv ? "text/csv" : "application/json",
                        m);
    if (rc == 0)
      atomic_fetch_add(&S.rows, r->rows);
  }
  sy_buf_free(&b);
  sy_value_unref(out);
  model_unref(m);
  return ret;
}

static enum MHD_Result describe_model(struct MHD_Connection *con, req *r) {
  model *m = current();
  if (!m)
    return send_error(con, r, 503, "not_ready", "no model is loaded yet");
  sy_buf b = SY_BUF_INIT;
  sy_buf_puts(&b, "{\"project\":");
  serve_json_str(&b, m->project);
  sy_buf_puts(&b, ",\"release\":");
  if (m->release[0])
    serve_json_str(&b, m->release);
  else
    sy_buf_puts(&b, "null");
  sy_buf_printf(&b, ",\"generation\":");
  if (m->generation)
    sy_buf_printf(&b, "%" PRIu32, m->generation);
  else
    sy_buf_puts(&b, "null");
  sy_buf_puts(&b, ",\"origin\":");
  serve_json_str(&b, m->origin);
  sy_buf_printf(&b, ",\"flow_hash\":\"%s\",\"input\":", m->flow_hash);
  if (m->schema.open) {
    sy_buf_puts(&b, "null");
  } else {
    sy_buf_puts(&b, "[");
    for (size_t i = 0; i < m->schema.n; i++) {
      sy_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
      serve_json_str(&b, m->schema.names[i]);
      sy_buf_printf(&b, ",\"type\":\"%s\"}",
                    serve_type_name(m->schema.types[i]));
    }
    sy_buf_puts(&b, "]");
  }
  sy_buf_puts(&b, ",\"label\":");
  if (m->schema.label)
    serve_json_str(&b, m->schema.label);
  else
    sy_buf_puts(&b, "null");
  sy_buf_puts(&b, ",\"output\":");
  if (!m->out_names) {
    sy_buf_puts(&b, "null");
  } else {
    sy_buf_puts(&b, "[");
    for (size_t i = 0; i < m->n_out; i++) {
      sy_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
      serve_json_str(&b, m->out_names[i]);
      sy_buf_printf(&b, ",\"type\":\"%s\"}", serve_type_name(m->out_types[i]));
    }
    sy_buf_puts(&b, "]");
  }
  sy_buf_printf(&b,
                ",\"fast_path\":%s,\"fast_path_batch\":%s,"
                "\"loaded_at\":\"%s\"}\n",
                m->row_ok ? "true" : "false", m->row_batch ? "true" : "false",
                m->loaded_at);
  enum MHD_Result ret = send_buf(con, r, 200, &b, "application/json", m);
  model_unref(m);
  return ret;
}

static enum MHD_Result metrics(struct MHD_Connection *con, req *r) {
  sy_buf b = SY_BUF_INIT;
  sy_buf_puts(&b, "# HELP switchyard_serve_requests_total Requests answered, "
                  "by HTTP status.\n"
                  "# TYPE switchyard_serve_requests_total counter\n");
  for (size_t i = 0; i <= N_STATUS; i++) {
    unsigned long n = atomic_load(&S.by_status[i]);
    if (i < N_STATUS)
      sy_buf_printf(&b, "switchyard_serve_requests_total{code=\"%d\"} %lu\n",
                    statuses[i], n);
    else
      sy_buf_printf(&b, "switchyard_serve_requests_total{code=\"other\"} %lu\n",
                    n);
  }
  sy_buf_puts(&b, "# HELP switchyard_serve_request_duration_seconds Time "
                  "from a request's first byte to its answer.\n"
                  "# TYPE switchyard_serve_request_duration_seconds "
                  "histogram\n");
  unsigned long cum = 0;
  for (size_t i = 0; i <= N_BUCKET; i++) {
    cum += atomic_load(&S.hist[i]);
    if (i < N_BUCKET)
      sy_buf_printf(
          &b,
          "switchyard_serve_request_duration_seconds_bucket{le=\"%g\"}"
          " %lu\n",
          buckets[i], cum);
    else
      sy_buf_printf(
          &b,
          "switchyard_serve_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n",
          cum);
  }
  sy_buf_printf(&b,
                "switchyard_serve_request_duration_seconds_sum %.6f\n"
                "switchyard_serve_request_duration_seconds_count %lu\n",
                (double)atomic_load(&S.lat_sum_us) / 1e6, cum);
  sy_buf_printf(&b,
                "# HELP switchyard_serve_json_fast_total JSON bodies decoded "
                "by simdjson (the rest: by yajl).\n"
                "# TYPE switchyard_serve_json_fast_total counter\n"
                "switchyard_serve_json_fast_total %lu\n",
                serve_fast_count());
  model *m = current();
  sy_buf_printf(
      &b,
      "# HELP switchyard_serve_rows_total Rows predicted.\n"
      "# TYPE switchyard_serve_rows_total counter\n"
      "switchyard_serve_rows_total %lu\n"
      "# HELP switchyard_serve_in_flight Requests being answered.\n"
      "# TYPE switchyard_serve_in_flight gauge\n"
      "switchyard_serve_in_flight %ld\n"
      "# HELP switchyard_serve_connections Open connections.\n"
      "# TYPE switchyard_serve_connections gauge\n"
      "switchyard_serve_connections %ld\n"
      "# HELP switchyard_serve_reloads_total Generations loaded after the "
      "first, by result.\n"
      "# TYPE switchyard_serve_reloads_total counter\n"
      "switchyard_serve_reloads_total{result=\"ok\"} %lu\n"
      "switchyard_serve_reloads_total{result=\"failed\"} %lu\n"
      "# HELP switchyard_serve_generation The generation being served (0: "
      "a flow file).\n"
      "# TYPE switchyard_serve_generation gauge\n"
      "switchyard_serve_generation %" PRIu32 "\n",
      atomic_load(&S.rows), atomic_load(&S.in_flight),
      atomic_load(&S.open_conns), atomic_load(&S.reloads_ok),
      atomic_load(&S.reloads_failed), m ? m->generation : 0);
  model_unref(m);
  return send_buf(con, r, 200, &b, "text/plain; version=0.0.4", NULL);
}

static enum MHD_Result route(struct MHD_Connection *con, req *r) {
  /* HEAD is answered as GET (libmicrohttpd sends the headers only) */
  int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
  int post = strcmp(r->method, "POST") == 0;
  const char *p = r->path;
  if (strcmp(p, "/v1/predict") == 0) {
    if (!post)
      return send_error(con, r, 405, "method_not_allowed", "POST /v1/predict");
    if (r->too_big) {
      char d[128];
      snprintf(d, sizeof d, "the body is over max_body (%zu bytes)",
               S.o.max_body);
      return send_error(con, r, 413, "too_large", d);
    }
    return predict(con, r);
  }
  int known = strcmp(p, "/v1/model") == 0 || strcmp(p, "/healthz") == 0 ||
              strcmp(p, "/readyz") == 0 || strcmp(p, "/metrics") == 0;
  if (!known)
    return send_error(con, r, 404, "not_found",
                      "endpoints: POST /v1/predict, GET /v1/model, /healthz, "
                      "/readyz, /metrics");
  if (!get)
    return send_error(con, r, 405, "method_not_allowed", "use GET or HEAD");
  if (strcmp(p, "/v1/model") == 0)
    return describe_model(con, r);
  if (strcmp(p, "/metrics") == 0)
    return metrics(con, r);
  sy_buf b = SY_BUF_INIT;
  if (strcmp(p, "/healthz") == 0) {
    sy_buf_puts(&b, "{\"status\":\"ok\"}\n");
    return send_buf(con, r, 200, &b, "application/json", NULL);
  }
  model *m = current();
  int ready = m && !atomic_load(&S.draining);
  model_unref(m);
  if (!ready)
    return send_error(con, r, 503, "not_ready",
                      atomic_load(&S.draining) ? "shutting down"
                                               : "no model is loaded yet");
  sy_buf_puts(&b, "{\"status\":\"ready\"}\n");
  return send_buf(con, r, 200, &b, "application/json", NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)cls;
  (void)version;
  req *r = *con_cls;
  if (!r) {
    /* The connection's request state (on_connection) when it has one,
     * with its body's buffer; else one for this request alone. */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    req *kept = ci ? ci->socket_context : NULL;
    if (kept && !kept->active) {
      sy_buf body = kept->body;
      memset(kept, 0, sizeof *kept);
      r = kept;
      r->kept = 1;
      r->body = body;
      r->body.len = 0;
      r->body.failed = 0;
      if (body.data)
        body.data[0] = '\0';
    } else if (!(r = calloc(1, sizeof *r))) {
      return MHD_NO;
    } else {
      r->body = (sy_buf)SY_BUF_INIT;
    }
    r->active = 1;
    *con_cls = r;
    r->t0 = mono();
    size_t n = strnlen(method, sizeof r->method - 1);
    memcpy(r->method, method, n); /* calloc: NUL-terminated */
    n = strnlen(url, sizeof r->path - 1);
    memcpy(r->path, url, n);
    r->counted = 1;
    atomic_fetch_add(&S.in_flight, 1);
    if (atomic_load(&S.draining))
      return send_error(con, r, 503, "shutting_down",
                        "the server is shutting down");
    if (atomic_load(&S.open_conns) > (long)S.o.max_conns) {
      char d[128];
      snprintf(d, sizeof d, "more than %u open connections; retry later",
               S.o.max_conns);
      return send_error(con, r, 503, "overloaded", d);
    }
    const char *cl = MHD_lookup_connection_value(
        con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long want = cl ? strtoull(cl, NULL, 10) : 0;
    if (want > S.o.max_body) {
      r->too_big = 1;
      return route(con, r); /* 413 before reading the body */
    }
    if (want && sy_buf_reserve(&r->body, (size_t)want))
      return MHD_NO; /* the body in one block */
    return MHD_YES;
  }
  if (*upload_size) {
    if (!r->too_big && r->body.len + *upload_size > S.o.max_body) {
      r->too_big = 1;
      sy_buf_free(&r->body);
      r->body = (sy_buf)SY_BUF_INIT;
    }
    if (!r->too_big && sy_buf_add(&r->body, upload, *upload_size))
      return MHD_NO;
    *upload_size = 0;
    return MHD_YES;
  }
  return route(con, r);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls;
  req *r = *con_cls;
  if (!r)
    return;
  *con_cls = NULL;
  double dt = mono() - r->t0;
  int status = r->status ? r->status : 0;
  if (status) {
    count_status(status);
    size_t i = 0;
    while (i < N_BUCKET && dt > buckets[i])
      i++;
    atomic_fetch_add(&S.hist[i], 1);
    atomic_fetch_add(&S.lat_sum_us, (unsigned long)(dt * 1e6));
  }
  if (!S.quiet || S.log) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[64] = "-";
    if (ci && ci->client_addr)
      getnameinfo(ci->client_addr,
                  ci->client_addr->sa_family == AF_INET6
                      ? sizeof(struct sockaddr_in6)
                      : sizeof(struct sockaddr_in),
                  host, sizeof host, NULL, 0, NI_NUMERICHOST);
    char when[32];
    now_iso(when);
    pthread_mutex_lock(&S.log_mu);
    if (S.log) {
      sy_buf b = SY_BUF_INIT;
      sy_buf_printf(&b, "{\"time\":\"%s\",\"remote\":\"%s\",\"method\":", when,
                    host);
      serve_json_str(&b, r->method);
      sy_buf_puts(&b, ",\"path\":");
      serve_json_str(&b, r->path);
      sy_buf_printf(&b,
                    ",\"status\":%d,\"rows\":%zu,\"ms\":%.3f,\"completed\":%s}"
                    "\n",
                    status, r->rows, dt * 1e3,
                    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "true"
                                                               : "false");
      if (!b.failed)
        fwrite(b.data, 1, b.len, S.log);
      fflush(S.log);
      sy_buf_free(&b);
    } else {
      fprintf(stderr, "%s %s \"%s %s\" %d rows=%zu %.3fms%s\n", when, host,
              r->method, r->path, status, r->rows, dt * 1e3,
              toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    }
    pthread_mutex_unlock(&S.log_mu);
  }
  if (r->counted)
    atomic_fetch_sub(&S.in_flight, 1);
  if (!r->kept) {
    sy_buf_free(&r->body);
    free(r);
    return;
  }
  r->active = 0; /* the next request's; a big body's buffer goes now */
  if (r->body.cap > 65536) {
    sy_buf_free(&r->body);
    r->body = (sy_buf)SY_BUF_INIT;
  }
}

static void on_connection(void *cls, struct MHD_Connection *con,
                          void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code) {
  (void)cls;
  (void)con;
  /* Each connection keeps one request state (MHD answers a connection's
   * requests one after another; a request's on_completed comes before
   * its connection's CLOSED): no allocation per request. NULL when out
   * of memory: then each request makes its own. */
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    atomic_fetch_add(&S.open_conns, 1);
    req *r = calloc(1, sizeof *r);
    if (r)
      r->body = (sy_buf)SY_BUF_INIT;
    *socket_ctx = r;
  } else {
    atomic_fetch_sub(&S.open_conns, 1);
    req *r = *socket_ctx;
    *socket_ctx = NULL;
    if (r) {
      sy_buf_free(&r->body);
      free(r);
    }
  }
}

/* ---- the command ----------------------------------------------------- */

/* HOST:PORT ([v6]:PORT) into a socket address; loopback says whether it
 * is 127.0.0.0/8 or ::1. */
static int parse_listen(const char *text, struct sockaddr_storage *ss,
                        socklen_t *len, int *loopback) {
  char host[256];
  const char *colon = strrchr(text, ':');
  if (!colon || colon == text || !colon[1] ||
      (size_t)(colon - text) >= sizeof host)
    return -1;
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = '\0';
  char *h = host;
  if (h[0] == '[') {
    size_t n = strlen(h);
    if (n < 3 || h[n - 1] != ']')
      return -1;
    h[n - 1] = '\0';
    h++;
  }
  char *end;
  unsigned long port = strtoul(colon + 1, &end, 10);
  if (*end || port > 65535)
    return -1;
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(h, colon + 1, &hints, &ai) != 0 || !ai)
    return -1;
  memcpy(ss, ai->ai_addr, ai->ai_addrlen);
  *len = ai->ai_addrlen;
  freeaddrinfo(ai);
  *loopback = 0;
  if (ss->ss_family == AF_INET) {
    const unsigned char *a =
        (const unsigned char *)&((struct sockaddr_in *)ss)->sin_addr;
    *loopback = a[0] == 127;
  } else if (ss->ss_family == AF_INET6) {
    const struct in6_addr *a = &((struct sockaddr_in6 *)ss)->sin6_addr;
    *loopback = IN6_IS_ADDR_LOOPBACK(a);
  }
  return 0;
}

static int parse_num(const char *opt, const char *v, double lo, double hi,
                     double *out) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (errno || end == v || *end || !(d >= lo && d <= hi)) {
    cli_errorf("serve: %s takes a number from %g to %g, not '%s'", opt, lo, hi,
               v);
    return CLI_USAGE;
  }
  *out = d;
  return 0;
}

static int cmd_serve(cli_ctx *ctx, int argc, char **argv) {
  static const struct option longopts[] = {
      {"state", required_argument, NULL, 's'},
      {"registry", required_argument, NULL, 'r'},
      {"listen", required_argument, NULL, 'L'},
      {"log", required_argument, NULL, 'l'},
      {"follow", no_argument, NULL, 'F'},
      {"no-follow", no_argument, NULL, 'N'},
      {"threads", required_argument, NULL, 'T'},
      {"max-body", required_argument, NULL, 'B'},
      {"max-connections", required_argument, NULL, 'C'},
      {"timeout", required_argument, NULL, 'O'},
      {"grace", required_argument, NULL, 'G'},
      {"poll", required_argument, NULL, 'P'},
      {NULL, 0, NULL, 0}};
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  serve_opts o = {.follow = -1,
                  .threads = cores < 1     ? 1
                             : cores > 256 ? 256
                                           : (unsigned)cores,
                  .max_body = 8u << 20,
                  .max_conns = 256,
                  .timeout = 30,
                  .grace = 10,
                  .poll = 2};
  int c;
  double d;
  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
    case 's':
      o.state = optarg;
      break;
    case 'r':
      o.registry = optarg;
      break;
    case 'L':
      o.listen = optarg;
      break;
    case 'l':
      o.log = optarg;
      break;
    case 'F':
      o.follow = 1;
      break;
    case 'N':
      o.follow = 0;
      break;
    case 'T':
      if (parse_num("--threads", optarg, 1, 256, &d))
        return CLI_USAGE;
      o.threads = (unsigned)d;
      break;
    case 'B':
      if (parse_num("--max-body", optarg, 1, 1 << 30, &d))
        return CLI_USAGE;
      o.max_body = (size_t)d;
      break;
    case 'C':
      if (parse_num("--max-connections", optarg, 1, 60000, &d))
        return CLI_USAGE;
      o.max_conns = (unsigned)d;
      break;
    case 'O':
      if (parse_num("--timeout", optarg, 1, 86400, &d))
        return CLI_USAGE;
      o.timeout = (unsigned)d;
      break;
    case 'G':
      if (parse_num("--grace", optarg, 0, 86400, &o.grace))
        return CLI_USAGE;
      break;
    case 'P':
      if (parse_num("--poll", optarg, 0.05, 86400, &o.poll))
        return CLI_USAGE;
      break;
    default:
      cli_errorf("serve: unknown option '%s'", argv[optind - 1]);
      fprintf(stderr, "try: switchyard serve --help\n");
      return CLI_USAGE;
    }
  }
  if (optind != argc - 1) {
    cli_errorf("serve: takes one PROJECT[:RELEASE[:GENERATION]] or FLOW");
    fprintf(stderr, "try: switchyard serve --help\n");
    return CLI_USAGE;
  }
  o.target = argv[optind];
  struct stat st;
  int is_file = stat(o.target, &st) == 0 && S_ISREG(st.st_mode);
  if (o.state && !is_file) {
    cli_errorf("serve: --state needs a flow file, and '%s' is not one",
               o.target);
    return CLI_USAGE;
  }
  if (o.state && o.registry) {
    cli_errorf("serve: --state and --registry exclude each other");
    return CLI_USAGE;
  }
  sy_registry_ref ref = {0};
  int have_ref = 0;
  if (!is_file) {
    sy_error perr;
    sy_error_clear(&perr);
    if (sy_registry_ref_parse(o.target, 1, 3, &ref, &perr) != 0) {
      cli_errorf("serve: '%s' is neither a flow file nor "
                 "PROJECT[:RELEASE[:GENERATION]] (%s)",
                 o.target, perr.message);
      return CLI_USAGE;
    }
    have_ref = 1;
  }
  if (o.follow == 1 && (!have_ref || ref.generation)) {
    cli_errorf("serve: --follow follows a registry's generations: give "
               "PROJECT or PROJECT:RELEASE (no generation)");
    sy_registry_ref_free(&ref);
    return CLI_USAGE;
  }
  if (o.follow == -1)
    o.follow = have_ref && !ref.generation;
  if (is_file) {
    const char *slash = strrchr(o.target, '/');
    free(ctx->project_dir);
    ctx->project_dir = slash ? strndup(o.target, (size_t)(slash - o.target +
                                                          (slash == o.target)))
                             : strdup(".");
  }
  /* Without --listen, [PLATFORM] serve_listen, which may only name a
   * loopback address: listening elsewhere is said on the command line. */
  const char *listen = o.listen, *origin = "--listen";
  if (!listen) {
    sy_platform *cp = cli_platform(ctx);
    if (!cp) {
      sy_registry_ref_free(&ref);
      return CLI_USAGE;
    }
    listen = sy_config_get(sy_platform_config(cp), "PLATFORM", "serve_listen",
                           &origin);
    if (!listen || !*listen)
      listen = "127.0.0.1:8080";
  }
  struct sockaddr_storage addr;
  socklen_t alen;
  int loopback = 0;
  if (parse_listen(listen, &addr, &alen, &loopback) != 0) {
    cli_errorf("serve: %s%s takes HOST:PORT with a numeric address "
               "(127.0.0.1:8080, [::1]:8080, 0.0.0.0:80), not '%s'",
               o.listen ? "" : "[PLATFORM] serve_listen from ",
               origin ? origin : "", listen);
    sy_registry_ref_free(&ref);
    return CLI_USAGE;
  }
  if (!loopback && !o.listen) {
    cli_errorf("serve: [PLATFORM] serve_listen = %s (%s) is not a loopback "
               "address, and serve has no authentication: say so with "
               "--listen %s (and put a proxy in front)",
               listen, origin ? origin : "config", listen);
    sy_registry_ref_free(&ref);
    return CLI_USAGE;
  }
  S.o = o;
  S.ctx = ctx;
  S.quiet = ctx->verbosity < 0;
  const char *delay = getenv("SWITCHYARD_SERVE_TEST_DELAY_MS");
  S.delay_ms = delay ? atol(delay) : 0;
  if (o.log && !(S.log = fopen(o.log, "a"))) {
    cli_errorf("serve: --log %s: %s", o.log, strerror(errno));
    sy_registry_ref_free(&ref);
    return CLI_USAGE;
  }
  int status = CLI_OK;
  sy_error err;
  sy_error_clear(&err);
  /* The first model: what the target names now. */
  model *m = NULL;
  char first[512];
  snprintf(first, sizeof first, "%s", o.target);
  sy_platform *p = NULL;
  int rc = 0;
  if (o.follow) {
    rc = open_platform(&p, &err);
    if (rc == 0)
      rc = newest(p, &ref, first, sizeof first, &err);
    sy_platform_close(p);
  }
  if (rc == 0)
    rc = model_load(first, &m, &err);
  if (rc) {
    cli_error(&err);
    if (S.log)
      fclose(S.log);
    sy_registry_ref_free(&ref);
    return rc == SY_ENOMEM ? CLI_FAILED : CLI_USAGE;
  }
  swap_in(m);
  serve_fast_load(NULL, 0); /* simdjson first, else yajl alone (said) */
  /* Signals go to the main thread only, which waits for them. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  pthread_t rl;
  int rl_started =
      pthread_create(&rl, NULL, reloader, o.follow ? (void *)&ref : NULL) == 0;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG |
                   (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
    flags |= MHD_USE_EPOLL;
  else
    flags |= MHD_USE_POLL;
  /* A pool of one is no pool: libmicrohttpd then wants no pool size. */
  struct MHD_OptionItem mopts[] = {
      {MHD_OPTION_SOCK_ADDR, 0, &addr},
      {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)o.max_conns + 16, NULL},
      {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)o.timeout, NULL},
      {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
      {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL},
      {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
      {o.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
       (intptr_t)o.threads, NULL},
      {MHD_OPTION_END, 0, NULL}};
  struct MHD_Daemon *daemon =
      MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_ARRAY,
                       mopts, MHD_OPTION_END);
  if (!daemon) {
    cli_errorf("serve: cannot listen on %s (in use, or not an address of "
               "this host?)",
               listen);
    status = CLI_FAILED;
    goto stop;
  }
  {
    model *cm = current();
    logf_("serving %s on http://%s%s (%u thread%s%s)", cm->origin, listen,
          loopback ? ""
                   : " - NOT loopback: no authentication, put a proxy "
                     "in front",
          o.threads, o.threads == 1 ? "" : "s",
          o.follow ? ", following the registry" : "");
    model_unref(cm);
  }
  for (;;) {
    int sig = sigwaitinfo(&set, NULL);
    if (sig == SIGHUP) {
      pthread_mutex_lock(&S.rl_mu);
      S.rl_now = 1;
      pthread_cond_signal(&S.rl_cv);
      pthread_mutex_unlock(&S.rl_mu);
      continue;
    }
    if (sig == SIGTERM || sig == SIGINT)
      break;
  }
  atomic_store(&S.draining, 1);
  MHD_socket lfd = MHD_quiesce_daemon(daemon);
  if (lfd != MHD_INVALID_SOCKET)
    close(lfd);
  {
    double until = mono() + o.grace;
    while (atomic_load(&S.in_flight) > 0 && mono() < until)
      usleep(10000);
    long left = atomic_load(&S.in_flight);
    logf_("stopped%s", left > 0 ? " with requests still in flight after the "
                                  "grace period"
                                : "; every request in flight was answered");
  }
  MHD_stop_daemon(daemon);
stop:
  pthread_mutex_lock(&S.rl_mu);
  S.rl_stop = 1;
  pthread_cond_signal(&S.rl_cv);
  pthread_mutex_unlock(&S.rl_mu);
  if (rl_started)
    pthread_join(rl, NULL);
  swap_in(NULL);
  if (S.log)
    fclose(S.log);
  sy_registry_ref_free(&ref);
  return status;
}

const cli_command cli_cmd_serve = {
    "serve", "answer predictions over HTTP, following the registry",
    "serve PROJECT[:RELEASE[:GENERATION]] | FLOW --state FILE "
    "[--listen HOST:PORT] [--follow|--no-follow] [options]",
    "Serves a trained generation (or a flow with its state file) over "
    "HTTP/1.1:\n"
    "  POST /v1/predict   {\"rows\":[{...}]}, {\"columns\":{...}} or text/csv\n"
    "                     with a header; answers JSON rows, or CSV when the\n"
    "                     request accepts text/csv\n"
    "  GET  /v1/model     what is served; /healthz, /readyz, /metrics\n"
    "There is no authentication: keep the default loopback address or put\n"
    "a proxy in front.\n\n"
    "  --listen HOST:PORT     numeric address (default [PLATFORM]\n"
    "                         serve_listen, 127.0.0.1:8080; a config may\n"
    "                         name only loopback, any other needs --listen)\n"
    "  --registry R           the registry instance\n"
    "  --state FILE           serve FLOW with these trained states\n"
    "  --follow, --no-follow  load newer generations as they are committed\n"
    "                         (default: on unless a generation is pinned)\n"
    "  --poll S               seconds between looks at the registry (2)\n"
    "  --threads N            server threads, one callable each (default:\n"
    "                         the number of online cores)\n"
    "  --max-body BYTES       larger bodies get 413 (8388608)\n"
    "  --max-connections N    requests past N open connections get 503 "
    "(256)\n"
    "  --timeout S            idle connections are closed after S seconds "
    "(30)\n"
    "  --grace S              SIGTERM waits S seconds for requests in "
    "flight (10)\n"
    "  --log FILE             access log as JSON lines (default: text on "
    "stderr)\n"
    "SIGHUP reloads now; SIGTERM drains and exits 0.\n",
    cmd_serve};

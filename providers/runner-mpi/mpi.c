/*
 * runner-mpi - runs a job across the ranks of an MPI job (Open MPI or
 * MPICH):
 *
 *   mpirun -np 4 switchyard run FLOW -R cluster
 *
 * Design note.
 *
 * Every rank runs the same command, so every rank compiles the same
 * program and binds the same job (same plugins, config, storage and
 * registry; a shared file system is assumed for the last two). Inside
 * run() the ranks first compare a digest of their programs' step keys,
 * so a node with a different flow, config or plugin set is refused by
 * name instead of computing something else. Then rank 0, the root,
 * schedules and the others serve.
 *
 * Who runs what. The job says (sy_job_step_class): LOCAL steps (side
 * effects, registry access) run on the root, once. A ROUTE step (a GET)
 * runs nowhere: the root reads its value where the job says it lives
 * (sy_job_output_source), so no value moves for it. PURE steps go to the
 * executors: every other
 * rank, and the root too when `ranks_execute_on_root` is set (it then
 * takes a step only when no other executor is idle, so that scheduling
 * is not held up by long steps on the root). Executors run steps with
 * sy_step_execute(), the core's step meaning, storage cache included.
 *
 * Where values live. An output stays on the rank that produced it. The
 * activation message (RUN) names, for each input, the rank holding it;
 * the executor fetches what it does not hold straight from that rank
 * (FETCH, answered by DATA), never through the root. A value whose
 * encoding is at most `eager_limit` bytes is also copied to the root
 * with the step's DONE message, and rides inside later RUN messages, so
 * small values cost no extra round trip. Only outputs that rank 0 itself
 * reads or that fan out to several steps are copied back this way; an
 * output read by one actor step (a chain) is not even encoded unless
 * another rank asks for it. The root places a ready step on the idle
 * executor that already holds most of its input bytes (each held input
 * counts one byte more than its known size, so that inputs whose size is
 * not known yet still attract their consumer). When the
 * last consumer of a value is done the root tells its holder to drop it
 * (piggybacked on the holder's next RUN, or on STOP).
 *
 * Messages are byte strings in host byte order (every rank runs the same
 * binary on the same kind of machine; values themselves use the core's
 * portable encoding):
 *
 *   RUN   root->exec  u32 step, u8 eager (whether small outputs should
 *                     come back with DONE), u32 n_drop, u32 drop[n_drop],
 *                     u32 n_in,
 *                     per input: u32 src, u32 k, i32 holder, u64 len,
 *                     len bytes when holder is EAGER (-1)
 *   DONE  exec->root  u32 step, i32 code, u32 n_out; code 0: per output
 *                     u64 len (0 when not encoded), u8 eager, len bytes
 *                     when eager; else
 *                     u32 len + a message
 *   FETCH any->holder u32 src, u32 k
 *   DATA  holder->any u32 src, u32 k, i32 code, the encoded value
 *   STOP  root->exec  (empty)
 *
 * RUN and DONE are batches: u32 count, then per step u32 len and the
 * step's entry above (len bytes). The root sends each rank the steps it
 * placed there in one RUN before it waits (a step and the successors it
 * prefetches go together); an executor answers a chain's steps in one
 * DONE (see serve()). With `stats` the root prints the counts at the end.
 *
 * Deadlock freedom. Every send is MPI_Isend with a buffer kept until the
 * request completes, so no rank ever blocks in a send. A rank that waits
 * (for DATA, or the root for DONE) keeps receiving everything and answers
 * FETCH requests meanwhile; other messages that arrive during a wait are
 * queued and handled afterwards. A step that runs never waits on another
 * rank, so two ranks fetching from each other both make progress.
 *
 * Prefetch. A rank runs the steps it is sent in order, so rank 0 may send
 * a step before it is ready when every input it lacks is made by a step
 * already sent to that same rank (up to `prefetch` behind the one it
 * runs). In a chain the next step then waits in the rank's mailbox, and
 * the round trip to rank 0 overlaps the work instead of adding to it. If
 * a step fails, the steps queued behind it that read it (directly or
 * through each other) are marked doomed: they come back failed for want
 * of their input, which is no attempt of theirs, and simply wait for the
 * retry (or are skipped with keep_going). Only actor steps are queued
 * this way, never behind a GET or a rank-0 step. Batching (issue 16): a
 * chain costs one RUN and one DONE per half a prefetch window of steps,
 * not per step, so rank 0 wakes (and takes a core from the executor)
 * that much less often; the executor holds back only DONEs that no one
 * waits for before a step queued behind it has run (a chain's next link,
 * a fan-in that also reads a queued sibling; on 2 ranks with the root
 * not executing, any step whose readers are all actor steps: they can run
 * nowhere else), and none for longer than HOLD_MAX_NS. Since that halves
 * the window that hides rank 0's latency, `prefetch` is 64 (issue 16,
 * round 3: with 16 the executor still ran dry whenever rank 0 waited for
 * a core), but past FANOUT_PREFETCH (4) queued steps only a chain's next
 * link is queued (or, when one rank executes, a step of at most 4
 * inputs), so that a fan-out's branches still spread over idle ranks.
 * When no executor is idle, a
 * ready step is queued behind a busy one (queue_behind(): up to
 * FANOUT_PREFETCH, or the whole window when that rank is the only one
 * that executes), so that a wide graph's steps, too, follow each other
 * on a rank without a round trip to rank 0 between them.
 *
 * Waiting. Executors block in MPI_Probe (set OMPI_MCA_mpi_yield_when_idle
 * when ranks outnumber cores). The root polls with MPI_Iprobe, spinning
 * for SPIN_NS (30 us; 2 us once its waits average longer than that) and
 * (a DONE batch of n steps counts as n waits of a 1/n share each)
 * then sleeping in slices of 50 us (1 ms after 2 ms), so that it leaves
 * the cores to the executors while real step bodies run (prefetched
 * steps wait in their mailboxes meanwhile), and notices a cancel
 * (Ctrl-C, or the SIGTERM mpirun sends when a rank died) and step
 * timeouts while steps run elsewhere.
 *
 * Failures. A step that fails on an executor is reported in its DONE and
 * follows the runner SDK's policy (fail-fast, keep_going, retries with a
 * doubling backoff): the root schedules with sy_sched, taking steps
 * early for prefetch (sy_sched_take) and giving back the ones that come
 * back unattempted (sy_sched_untake).
 * A rank that dies takes the MPI job with it (MPI has no recovery in the
 * versions Debian ships): mpirun sends the survivors SIGTERM, the CLI
 * turns that into a cancel, and the root names the steps that were in
 * flight and where before mpirun kills it, so no rank hangs and the user
 * sees which step was lost. A step that runs past `timeout` cannot be
 * stopped on another rank: the root reports it and aborts the MPI job
 * (MPI_Abort), which is the only way to free that rank.
 *
 * Resources (a flow node's `resources`, `retries`, `timeout`). A rank
 * runs one step at a time, so its cpus are all free whenever it is idle:
 * each rank offers `cpus` (0: the CPUs its affinity mask allows, counted
 * on that rank and gathered at the start with the program digest), and
 * the root places (and prefetches) a step asking for N cpus only on a
 * rank that offers N or more. A step that no executing rank can take is
 * refused before anything runs, naming the step, what it asks for and
 * the largest offer. A node's `retries` and `timeout` override the
 * options for its steps. memory and gpus are not enforced.
 *
 * MPI is process-wide: the plugin initializes it on first use (unless
 * the host did) and finalizes it at process exit, once, so a host can run
 * several jobs on the cluster in one process. The plugin is linked with
 * -z nodelete: dlclose() leaves it (and so libmpi) mapped, because MPI's
 * signal handlers and hooks stay installed after MPI_Finalize and must
 * not point into unmapped code.
 */
/* _GNU_SOURCE (config.h) gives sched_getaffinity and CPU_COUNT. */
#include <mpi.h>
#include <sched.h>

#include <switchyard/buf.h>
#include <switchyard/endian.h>
#include <switchyard/event.h>
#include <switchyard/runner.h>
#include <switchyard/switchyard.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { T_RUN = 101, T_DONE, T_FETCH, T_DATA, T_STOP };
#define EAGER (-1)
#define ROOT 0

/* ---- configuration ------------------------------------------------------ */

typedef struct mpi_config {
  bool on_root;         /* ranks_execute_on_root */
  uint64_t eager_limit; /* bytes */
  bool keep_going;
  int64_t retries;
  int64_t timeout;  /* ns; 0 = none */
  int64_t backoff;  /* ns */
  int64_t prefetch; /* steps queued on a rank behind the one it runs */
  int64_t cpus;     /* offered to steps; 0 = the affinity mask's count */
  bool stats;       /* rank 0 says how many messages carried the steps */
} mpi_config;

static const sy_option mpi_options[] = {
    {"ranks_execute_on_root", SY_OPT_BOOL, 0, "true", NULL, NULL, NULL,
     offsetof(mpi_config, on_root),
     "Rank 0 also executes actor steps (when no other rank is idle), not "
     "only schedules."},
    {"eager_limit", SY_OPT_SIZE, 0, "64KiB", "0", "1GiB", NULL,
     offsetof(mpi_config, eager_limit),
     "Values up to this encoded size travel with the step messages; "
     "larger ones go straight from producer to consumer on request."},
    {"prefetch", SY_OPT_INT, 0, "64", "0", "256", NULL,
     offsetof(mpi_config, prefetch),
     "Steps a rank may hold queued behind the one it runs, when their "
     "inputs are made on that rank or are ready and no rank is idle "
     "(beyond 4, only a chain's next steps, unless the rank is the only "
     "one that executes): hides the round trip to rank 0, and finished "
     "steps are then reported about prefetch/2 at a time (at most 2 ms "
     "late); 0 = one step at a time."},
    {"keep_going", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(mpi_config, keep_going),
     "After a failure, still run every step that does not depend on it."},
    {"retries", SY_OPT_INT, 0, "0", "0", "100", NULL,
     offsetof(mpi_config, retries),
     "How many times a failed step is run again before it counts as "
     "failed."},
    {"timeout", SY_OPT_DURATION, 0, "0", "0", NULL, NULL,
     offsetof(mpi_config, timeout),
     "Longest a step may run (e.g. 30s); a step past it aborts the MPI "
     "job; 0 = no limit."},
    {"backoff", SY_OPT_DURATION, 0, "100ms", "0", "1h", NULL,
     offsetof(mpi_config, backoff),
     "Delay before the first retry; doubled for each further one."},
    {"cpus", SY_OPT_INT, 0, "0", "0", "65536", NULL, offsetof(mpi_config, cpus),
     "CPUs each rank offers to a step (a flow node's resources.cpus): a "
     "step runs only on a rank offering at least what it asks; 0 = the "
     "CPUs the rank's affinity mask allows."},
    {"stats", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(mpi_config, stats),
     "At the end of the run, rank 0 prints (on stderr) how many steps ran "
     "on other ranks and how many RUN and DONE messages carried them."},
    SY_OPTION_END};

/* Set when this plugin called MPI_Init, so that it finalizes MPI when it
 * is unloaded. MPI is one per process, so this is process state by
 * nature, not instance state. */
static bool we_initialized;

__attribute__((destructor)) static void mpi_plugin_fini(void) {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (we_initialized && init && !fin)
    MPI_Finalize();
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* How long the root polls for a message before it sleeps between polls,
 * and its shortest sleep (the first is half of node.nap_max, at least
 * this; later ones double, up to nap_max). */
#define SPIN_NS 30000
#define NAP_NS 50000

static void sleep_ns(int64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
  nanosleep(&ts, NULL);
}

/* ---- byte strings ---------------------------------------------------------
 */

/* Messages are written into an sy_buf, whose failure is sticky: post()
 * checks it once. */
static void put(sy_buf *b, const void *d, size_t n) {
  sy_buf_add(b, d, n);
}
/* Integers little-endian, as in every switchyard format. */
static void put_u32(sy_buf *b, uint32_t v) {
  uint8_t x[4];
  sy_le32_put(x, v);
  put(b, x, sizeof x);
}
static void put_i32(sy_buf *b, int32_t v) {
  put_u32(b, (uint32_t)v);
}
static void put_u64(sy_buf *b, uint64_t v) {
  uint8_t x[8];
  sy_le64_put(x, v);
  put(b, x, sizeof x);
}
static void put_u8(sy_buf *b, uint8_t v) {
  put(b, &v, sizeof v);
}

/* Batches: a RUN or DONE message carries one or more steps, as u32
 * count, then per step u32 len and len bytes. batch_open() starts a step's
 * entry in b (and the message, when count is 0), batch_close() ends it;
 * the caller posts b once count entries are in. */
static size_t batch_open(sy_buf *b, uint32_t count) {
  if (count == 0)
    put_u32(b, 0); /* the count, set when it is posted */
  size_t at = b->len;
  put_u32(b, 0); /* the entry's length, set by batch_close() */
  return at;
}

static void batch_close(sy_buf *b, uint32_t *count, size_t at) {
  if (!b->failed)
    sy_le32_put((uint8_t *)b->data + at, (uint32_t)(b->len - at - 4));
  ++*count;
}

static void batch_seal(sy_buf *b, uint32_t count) {
  if (!b->failed && b->len >= 4)
    sy_le32_put((uint8_t *)b->data, count);
}

typedef struct rbuf {
  const uint8_t *p;
  size_t len, off;
  bool bad;
} rbuf;

static const void *get(rbuf *r, size_t n) {
  if (r->bad || n > r->len - r->off) {
    r->bad = true;
    return NULL;
  }
  const void *q = r->p + r->off;
  r->off += n;
  return q;
}
static uint32_t get_u32(rbuf *r) {
  const uint8_t *q = get(r, 4);
  return q ? sy_le32_get(q) : 0;
}
static int32_t get_i32(rbuf *r) {
  return (int32_t)get_u32(r);
}
static uint64_t get_u64(rbuf *r) {
  const uint8_t *q = get(r, 8);
  return q ? sy_le64_get(q) : 0;
}
static uint8_t get_u8(rbuf *r) {
  const uint8_t *q = get(r, 1);
  return q ? *q : 0;
}

/* ---- values a rank holds ---------------------------------------------------
 */

/* One output: the value, its encoding, or both (each made on demand). */
typedef struct held {
  sy_value *v;
  void *enc;
  size_t len;
} held;

static void held_clear(held *h) {
  sy_value_unref(h->v);
  free(h->enc);
  *h = (held){0};
}

static int held_encode(held *h) {
  if (h->enc)
    return 0;
  if (!h->v)
    return SY_ESTATE;
  return sy_value_encode(h->v, &h->enc, &h->len);
}

/* A borrowed value; decodes the encoding on first use. */
static int held_value(held *h, const sy_value **out, sy_error *err) {
  if (!h->v) {
    if (!h->enc)
      return sy_error_set(err, SY_ESTATE, "runner mpi: value not held");
    int rc = sy_value_decode(h->enc, h->len, &h->v, err);
    if (rc)
      return rc;
  }
  *out = h->v;
  return 0;
}

/* ---- messages ---------------------------------------------------------------
 */

typedef struct msg {
  int src, tag;
  uint8_t *p;
  size_t len;
  size_t off;     /* executors, a RUN: where its next step starts */
  uint32_t nleft; /* executors, a RUN: steps in it not run yet */
  struct msg *next;
} msg;

static void msg_free(msg *m) {
  if (m) {
    free(m->p);
    free(m);
  }
}

typedef struct node {
  const mpi_config *cfg;
  sy_job *job;
  int64_t wait_avg; /* root: how long it waited for a message, on average */
  unsigned waits;   /* root: how many times it waited */
  int64_t nap_max;  /* root: longest sleep between polls (0: NAP_NS) */
  int rank, size;
  size_t n;
  int64_t *cpus; /* per rank: cpus it offers (gathered at the start) */
  /* Per output (step s's at out_at[s]): the value, when this rank holds
   * it. One array for the run, not one allocation per step (a calloc
   * and a free per step on the executor, issue 16 round 5). */
  held *hv;
  size_t *out_at;
  uint32_t *n_out; /* per step */
  /* sends in flight: each request owns its buffer until it completes */
  MPI_Request *req;
  void **reqbuf;
  int nreq, capreq;
  /* messages that arrived while waiting for something else */
  msg *later, *later_tail;
  /* executors: RUN messages with steps not run yet, in order, and how
   * many steps they hold; the DONE batch being written (dones entries) */
  msg *runq, *runq_tail;
  size_t queued;
  uint32_t *inq; /* per step: its entries in runq (see waits_here()) */
  /* executors, per step, worked out before the first step (see
   * hold_table()): whether it has 1-64 consumers, all actor steps */
  uint8_t *pure_cons;
  bool alone; /* the only rank that executes (2 ranks, root not) */
  /* the last input carried eagerly, decoded (see eager_value()) */
  uint32_t ec_src, ec_k;
  void *ec_bytes;
  size_t ec_len;
  sy_value *ec_v;
  sy_buf done;
  uint32_t dones;
  size_t done_last;   /* bytes of the last DONE batch sent */
  bool told;          /* DONEs went out since the last RUN came in */
  int64_t held_since; /* when the oldest DONE of nd->done was written */
  /* root: what went over the wire for executors' steps (`stats`) */
  unsigned long st_steps, st_runs, st_dones;
  sy_error tmp;
} node;

/* Output k of step s as this rank holds it (all empty when it does not). */
static held *held_at(const node *nd, size_t s, uint32_t k) {
  return &nd->hv[nd->out_at[s] + k];
}

static void reap_sends(node *nd) {
  int j = 0;
  for (int i = 0; i < nd->nreq; i++) {
    int done = 0;
    MPI_Test(&nd->req[i], &done, MPI_STATUS_IGNORE);
    if (done) {
      free(nd->reqbuf[i]);
    } else {
      nd->req[j] = nd->req[i];
      nd->reqbuf[j++] = nd->reqbuf[i];
    }
  }
  nd->nreq = j;
}

static void drain_sends(node *nd) {
  if (nd->nreq > 0)
    MPI_Waitall(nd->nreq, nd->req, MPI_STATUSES_IGNORE);
  for (int i = 0; i < nd->nreq; i++)
    free(nd->reqbuf[i]);
  nd->nreq = 0;
}

/* Sends b (taking its buffer) without blocking. */
static int post(node *nd, int dst, int tag, sy_buf *b) {
  if (b->failed) {
    sy_buf_free(b);
    *b = (sy_buf)SY_BUF_INIT;
    return SY_ENOMEM;
  }
  if (nd->nreq >= 64)
    reap_sends(nd);
  if (nd->nreq == nd->capreq) {
    int cap = nd->capreq ? nd->capreq * 2 : 64;
    MPI_Request *r = realloc(nd->req, (size_t)cap * sizeof *r);
    if (r)
      nd->req = r;
    void **q = r ? realloc(nd->reqbuf, (size_t)cap * sizeof *q) : NULL;
    if (q)
      nd->reqbuf = q;
    if (!r || !q) {
      sy_buf_free(b);
      *b = (sy_buf)SY_BUF_INIT;
      return SY_ENOMEM;
    }
    nd->capreq = cap;
  }
  if (b->len > (size_t)INT32_MAX) {
    sy_buf_free(b);
    *b = (sy_buf)SY_BUF_INIT;
    return SY_ETOOBIG;
  }
  MPI_Isend(b->data, (int)b->len, MPI_BYTE, dst, tag, MPI_COMM_WORLD,
            &nd->req[nd->nreq]);
  nd->reqbuf[nd->nreq++] = b->data;
  *b = (sy_buf)SY_BUF_INIT;
  return 0;
}

/* Receives the message a matched probe (MPI_Mprobe, MPI_Improbe) found:
 * matched, so no other receive can take it first, and matched once. */
static msg *take(MPI_Message *mh, const MPI_Status *st) {
  int count = 0;
  MPI_Get_count(st, MPI_BYTE, &count);
  msg *m = calloc(1, sizeof *m);
  uint8_t *p = malloc(count > 0 ? (size_t)count : 1);
  if (!m || !p) {
    /* A message that cannot be kept breaks the protocol for every rank;
     * ending the job is the only clean way out. */
    fprintf(stderr,
            "switchyard: runner mpi: out of memory for a %d-byte "
            "message from rank %d\n",
            count, st->MPI_SOURCE);
    MPI_Abort(MPI_COMM_WORLD, 1);
    free(m);
    free(p);
    return NULL;
  }
  MPI_Mrecv(p, count, MPI_BYTE, mh, MPI_STATUS_IGNORE);
  *m = (msg){st->MPI_SOURCE,
             st->MPI_TAG,
             p,
             (size_t)(count > 0 ? count : 0),
             0,
             0,
             NULL};
  return m;
}

/* The next message: blocking on executors; on the root, polling until
 * `until` (ns, 0 = no limit) or a cancel, and then NULL. */
static msg *next_msg(node *nd, int64_t until) {
  MPI_Status st;
  MPI_Message mh;
  if (nd->rank != ROOT) {
    MPI_Mprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &mh, &st);
    return take(&mh, &st);
  }
  /* Spin, then sleep in slices. A count of polls (2000, as before) spun
   * for as long as a real step body runs, so the root took a core from
   * the executors for nothing (issue 16: with 50 us bodies on two cores a
   * chain took up to 2.9x inline's wall). The root spins SPIN_NS while
   * messages have been coming quickly (empty steps), and only briefly
   * once its waits average more than that (real bodies): prefetched
   * steps wait in the executors' mailboxes meanwhile, so a chain does not
   * wait on a sleeping root. */
  int64_t t0 = now_ns(), waited = 0;
  int64_t nap = nd->nap_max / 2 > NAP_NS ? nd->nap_max / 2 : NAP_NS;
  /* Every 8th wait spins in full: a wait that ends in a sleep measures
   * the sleep too, so only these tell that messages come quickly again. */
  int64_t spin_for =
      nd->wait_avg > SPIN_NS && (++nd->waits & 7) ? SPIN_NS / 16 : SPIN_NS;
  for (unsigned spin = 0;; spin++) {
    int flag = 0;
    MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &mh, &st);
    if (flag) {
      /* Per step: a DONE batch of n steps counts as n waits, so that
       * batches of short steps keep the root spinning. */
      msg *m = take(&mh, &st);
      int64_t n = m && m->tag == T_DONE && m->len >= 4 ? sy_le32_get(m->p) : 1;
      nd->wait_avg += ((now_ns() - t0) / (n > 0 ? n : 1) - nd->wait_avg) / 4;
      return m;
    }
    if ((spin & 15) != 15)
      continue;
    int64_t now = now_ns();
    waited = now - t0;
    if ((spin & 63) == 63) {
      if (sy_job_cancelled(nd->job) || (until && now >= until))
        return NULL;
      reap_sends(nd);
    }
    if (waited > spin_for) {
      sleep_ns(waited > 2000000 ? 1000000 : nap);
      if (nap < nd->nap_max)
        nap = nap * 2 < nd->nap_max ? nap * 2 : nd->nap_max;
    }
  }
}

static void defer(node *nd, msg *m) {
  m->next = NULL;
  if (nd->later_tail)
    nd->later_tail->next = m;
  else
    nd->later = m;
  nd->later_tail = m;
}

static msg *undefer(node *nd) {
  msg *m = nd->later;
  if (m) {
    nd->later = m->next;
    if (!nd->later)
      nd->later_tail = NULL;
  }
  return m;
}

/* Answers a FETCH with the value, or with an error code. */
static void serve_fetch(node *nd, msg *m) {
  rbuf r = {m->p, m->len, 0, false};
  uint32_t src = get_u32(&r), k = get_u32(&r);
  sy_buf b = SY_BUF_INIT;
  put_u32(&b, src);
  put_u32(&b, k);
  held *h =
      !r.bad && src < nd->n && k < nd->n_out[src] ? held_at(nd, src, k) : NULL;
  int rc = h && (h->v || h->enc) ? held_encode(h) : SY_ESTATE;
  put_i32(&b, rc);
  if (rc == 0)
    put(&b, h->enc, h->len);
  (void)post(nd, m->src, T_DATA, &b);
}

/* ---- gathering a step's inputs ------------------------------------------ */

/* Where one input comes from. */
typedef struct input {
  uint32_t src, k;
  int holder;          /* a rank, or EAGER */
  const uint8_t *data; /* EAGER: the encoding inside the RUN message */
  uint64_t len;
  sy_value *own;     /* decoded or fetched here; released after the step */
  const sy_value *v; /* what the step reads */
} input;

/* Eager inputs up to this size are remembered, decoded, for the next
 * step that gets the same bytes. */
#define EAGER_CACHE_MAX 4096

/* Decodes an input carried eagerly (len bytes at data, output k of step
 * src) into *out (a reference of the caller's). The last one decoded is
 * kept: on a wide graph every branch reads the root's value, and decoding
 * it again per step cost rank 1 more than its own bookkeeping (issue 16).
 * A hit needs the same step, output and bytes, so a retried step's new
 * value is decoded afresh. */
static int eager_value(node *nd, uint32_t src, uint32_t k, const void *data,
                       size_t len, sy_value **out, sy_error *err) {
  if (nd->ec_v && nd->ec_src == src && nd->ec_k == k && nd->ec_len == len &&
      memcmp(nd->ec_bytes, data, len) == 0) {
    *out = sy_value_ref(nd->ec_v);
    return 0;
  }
  int rc = sy_value_decode(data, len, out, err);
  if (rc || len > EAGER_CACHE_MAX)
    return rc;
  void *copy = malloc(len ? len : 1);
  if (!copy)
    return 0; /* not remembered */
  memcpy(copy, data, len);
  sy_value_unref(nd->ec_v);
  free(nd->ec_bytes);
  nd->ec_src = src;
  nd->ec_k = k;
  nd->ec_bytes = copy;
  nd->ec_len = len;
  nd->ec_v = sy_value_ref(*out);
  return 0;
}

/* Resolves every input to a value: held here, carried eagerly, or fetched
 * from its holder (all fetches are sent first, then awaited together).
 * While waiting, FETCH requests are answered and anything else is
 * deferred. */
static int gather(node *nd, input *in, size_t n_in, sy_error *err) {
  size_t waiting = 0;
  for (size_t i = 0; i < n_in; i++) {
    input *x = &in[i];
    if (x->holder == EAGER) {
      int rc =
          eager_value(nd, x->src, x->k, x->data, (size_t)x->len, &x->own, err);
      if (rc)
        return sy_error_prefix(err, "runner mpi: input %zu", i), rc;
      x->v = x->own;
    } else if (x->holder == nd->rank) {
      held *h = x->src < nd->n && x->k < nd->n_out[x->src]
                    ? held_at(nd, x->src, x->k)
                    : NULL;
      if (!h || (!h->v && !h->enc))
        return sy_error_set(err, SY_ESTATE,
                            "runner mpi: rank %d does not hold output %u of "
                            "step %u",
                            nd->rank, x->k, x->src);
      int rc = held_value(h, &x->v, err);
      if (rc)
        return rc;
    } else {
      /* One request per distinct value. */
      bool asked = false;
      for (size_t j = 0; j < i && !asked; j++)
        asked =
            in[j].holder == x->holder && in[j].src == x->src && in[j].k == x->k;
      if (!asked) {
        sy_buf b = SY_BUF_INIT;
        put_u32(&b, x->src);
        put_u32(&b, x->k);
        int rc = post(nd, x->holder, T_FETCH, &b);
        if (rc)
          return sy_error_set(err, rc, "runner mpi: cannot send a request");
        waiting++;
      }
    }
  }
  int rc = 0;
  while (waiting > 0) {
    msg *m = next_msg(nd, 0);
    if (!m) {
      if (nd->rank == ROOT && sy_job_cancelled(nd->job))
        return sy_error_set(err, SY_ECANCELED, "canceled");
      continue;
    }
    if (m->tag == T_FETCH) {
      serve_fetch(nd, m);
      msg_free(m);
      continue;
    }
    if (m->tag != T_DATA) {
      defer(nd, m);
      continue;
    }
    rbuf r = {m->p, m->len, 0, false};
    uint32_t src = get_u32(&r), k = get_u32(&r);
    int32_t code = get_i32(&r);
    sy_value *v = NULL;
    int drc = r.bad  ? SY_ECORRUPT
              : code ? code
                     : sy_value_decode(r.p + r.off, r.len - r.off, &v, NULL);
    bool used = false;
    for (size_t i = 0; i < n_in; i++) {
      input *x = &in[i];
      if (x->holder != m->src || x->src != src || x->k != k || x->v)
        continue;
      if (drc == 0) {
        x->own = used ? sy_value_ref(v) : v;
        x->v = x->own;
        used = true;
      }
    }
    if (!used)
      sy_value_unref(v);
    if (drc && rc == 0)
      rc = sy_error_set(err, drc,
                        "runner mpi: rank %d could not deliver output %u of "
                        "step %u (%s)",
                        m->src, k, src, sy_strerror(drc));
    waiting--;
    msg_free(m);
  }
  return rc;
}

static void release_inputs(input *in, size_t n_in) {
  for (size_t i = 0; i < n_in; i++)
    sy_value_unref(in[i].own);
}

/* Runs step s on inputs `in`, keeps its outputs in held_at(nd, s, k). */
static int execute(node *nd, size_t s, input *in, size_t n_in, sy_error *err) {
  int rc = gather(nd, in, n_in, err);
  uint32_t n_out = nd->n_out[s];
  const sy_value *vin_small[16];
  sy_value *out_small[16];
  const sy_value **vin = n_in <= 16 ? vin_small : malloc(n_in * sizeof *vin);
  sy_value **out =
      n_out <= 16 ? out_small : calloc(n_out ? n_out : 1, sizeof *out);
  if (rc == 0 && (!vin || !out))
    rc = sy_error_set(err, SY_ENOMEM, "runner mpi: out of memory");
  if (rc == 0) {
    for (size_t i = 0; i < n_in; i++)
      vin[i] = in[i].v;
    for (uint32_t k = 0; k < n_out; k++)
      out[k] = NULL;
    rc = sy_step_execute(nd->job, s, vin, n_in, out, err);
  }
  if (rc == 0) {
    for (uint32_t k = 0; k < n_out; k++) {
      held *h = held_at(nd, s, k);
      held_clear(h); /* a retry that ran here before */
      h->v = out[k];
    }
  }
  release_inputs(in, n_in);
  if (vin != vin_small)
    free(vin);
  if (out != out_small)
    free(out);
  return rc;
}

static void drop(node *nd, size_t s) {
  if (s >= nd->n)
    return;
  for (uint32_t k = 0; k < nd->n_out[s]; k++) {
    held *h = held_at(nd, s, k);
    if (h->v || h->enc)
      held_clear(h);
  }
}

/* ---- executors ---------------------------------------------------------- */

/* Adds step s's DONE entry (see the top: u32 step, i32 code, then the
 * outputs or the message) to the batch nd->done, in one reservation and
 * with plain stores: written a field at a time through sy_buf_add it was
 * ~0.1 us of rank 1's bookkeeping per step (issue 16, round 5). A buffer
 * that cannot grow is marked failed, and post() reports it. */
static void done_entry(node *nd, uint32_t s, int rc, const char *why) {
  sy_buf *b = &nd->done;
  /* A batch starts with room for as much as the last one took (one
   * allocation, not a doubling per few entries). */
  if (nd->dones == 0 && nd->done_last)
    (void)sy_buf_reserve(b, nd->done_last);
  uint32_t n_out = rc == 0 ? nd->n_out[s] : 0;
  size_t ml = why ? strlen(why) : 0;
  size_t need = (nd->dones ? 0 : 4) + 4 + 12 + (rc ? 4 + ml : 0);
  for (uint32_t k = 0; k < n_out; k++) {
    const held *h = held_at(nd, s, k);
    need += 9 + (h->enc && h->len <= nd->cfg->eager_limit ? h->len : 0);
  }
  if (need > UINT32_MAX || sy_buf_reserve(b, need) != 0) {
    b->failed = 1;
    nd->dones++;
    return;
  }
  uint8_t *w = (uint8_t *)b->data + b->len;
  if (nd->dones == 0) {
    sy_le32_put(w, 0); /* the count, set by flush_dones() */
    w += 4;
  }
  uint8_t *entry = w + 4;
  uint8_t *e = entry;
  sy_le32_put(e, s);
  sy_le32_put(e + 4, (uint32_t)rc);
  sy_le32_put(e + 8, n_out);
  e += 12;
  if (rc == 0) {
    for (uint32_t k = 0; k < n_out; k++) {
      const held *h = held_at(nd, s, k);
      bool eager = h->enc && h->len <= nd->cfg->eager_limit;
      sy_le64_put(e, h->enc ? h->len : 0);
      e[8] = eager;
      e += 9;
      if (eager) {
        memcpy(e, h->enc, h->len);
        e += h->len;
      }
    }
  } else {
    sy_le32_put(e, (uint32_t)ml);
    memcpy(e + 4, why, ml);
    e += 4 + ml;
  }
  sy_le32_put(w, (uint32_t)(e - entry));
  b->len = (size_t)((char *)e - b->data);
  b->data[b->len] = '\0';
  nd->dones++;
}

/* Runs one step of a RUN batch (its entry's len bytes at p), and adds
 * its DONE entry to nd->done; returns the step, or -1 when it failed. */
static long exec_step(node *nd, const uint8_t *p, size_t len) {
  rbuf r = {p, len, 0, false};
  uint32_t s = get_u32(&r);
  bool want_eager = get_u8(&r) != 0;
  uint32_t n_drop = get_u32(&r);
  for (uint32_t i = 0; i < n_drop && !r.bad; i++)
    drop(nd, get_u32(&r));
  uint32_t n_in = get_u32(&r);
  sy_error err;
  sy_error_clear(&err);
  int rc = 0;
  input in_small[8], *in = NULL;
  if (r.bad || s >= nd->n || n_in > (r.len - r.off) / 20)
    rc = sy_error_set(&err, SY_ECORRUPT, "runner mpi: bad RUN message");
  else if (n_in <= 8)
    in = memset(in_small, 0, n_in * sizeof *in);
  else if (!(in = calloc(n_in, sizeof *in)))
    rc = sy_error_set(&err, SY_ENOMEM, "runner mpi: out of memory");
  for (uint32_t i = 0; rc == 0 && i < n_in; i++) {
    in[i].src = get_u32(&r);
    in[i].k = get_u32(&r);
    in[i].holder = get_i32(&r);
    in[i].len = get_u64(&r);
    if (in[i].holder == EAGER)
      in[i].data = get(&r, (size_t)in[i].len);
    if (r.bad)
      rc = sy_error_set(&err, SY_ECORRUPT, "runner mpi: bad RUN message");
  }
  if (rc == 0)
    rc = execute(nd, s, in, n_in, &err);
  if (in != in_small)
    free(in);

  if (rc == 0 && want_eager) {
    for (uint32_t k = 0; k < nd->n_out[s] && rc == 0; k++)
      if ((rc = held_encode(held_at(nd, s, k))) != 0)
        sy_error_set(&err, rc, "runner mpi: cannot encode output %u (%s)", k,
                     sy_strerror(rc));
    if (rc)
      drop(nd, s);
  }
  done_entry(nd, s, rc, rc ? err.message : NULL);
  return rc == 0 ? (long)s : -1;
}

/* Sends the DONE entries written so far, as one message. */
static void flush_dones(node *nd) {
  if (nd->dones == 0)
    return;
  batch_seal(&nd->done, nd->dones);
  nd->done_last = nd->done.len;
  nd->dones = 0;
  nd->told = true;
  if (post(nd, ROOT, T_DONE, &nd->done) != 0) {
    /* The root would wait for these steps forever. */
    fprintf(stderr,
            "switchyard: runner mpi: rank %d: out of memory for a "
            "DONE message\n",
            nd->rank);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

/* Takes a message in: a RUN's steps join the queue, a FETCH is answered
 * at once; returns whether it was STOP. */
static bool absorb(node *nd, msg *m) {
  int tag = m->tag;
  if (tag == T_RUN && m->src == ROOT) {
    rbuf r = {m->p, m->len, 0, false};
    m->nleft = get_u32(&r);
    m->off = r.off;
    m->next = NULL;
    if (!r.bad && m->nleft > 0) {
      /* Each entry starts with its step (see exec_step()). Counted for
       * waits_here(), which a rank that executes alone never asks. */
      for (uint32_t i = 0; i < m->nleft && !r.bad && !nd->alone; i++) {
        uint32_t len = get_u32(&r);
        size_t at = r.off;
        uint32_t x = get_u32(&r);
        if (!r.bad && x < nd->n)
          nd->inq[x]++;
        r.off = at;
        (void)get(&r, len);
      }
      r.off = m->off;
      r.bad = false;
      if (nd->runq_tail)
        nd->runq_tail->next = m;
      else
        nd->runq = m;
      nd->runq_tail = m;
      nd->queued += m->nleft;
      nd->told = false;
      return false;
    }
  } else if (tag == T_FETCH) {
    serve_fetch(nd, m);
  }
  msg_free(m);
  return tag == T_STOP;
}

/* Steps shorter than this report at once: rank 0's own work per step
 * then sets the pace, and holding DONEs back only idles it (measured:
 * empty steps cost 5 us more per step when batched). */
#define HOLD_MIN_NS 10000

/* A DONE is held back at most about this long (the next step is assumed
 * to take as long as the last), so that rank 0's events (and its view of
 * what runs where) stay within that of the steps' ends even when steps
 * are long. */
#define HOLD_MAX_NS 2000000

/* An executor with more than POLL_QUEUED steps queued looks for messages
 * (FETCH requests, more steps, STOP) only every POLL_NS; when it is the
 * only rank that executes (only rank 0 can ask it for a value, and rank 0
 * sends more steps before its queue runs low), the interval doubles with
 * each poll that finds nothing, up to POLL_ALONE_NS. */
#define POLL_QUEUED 2
#define POLL_NS 100000
#define POLL_ALONE_NS 1000000

/* Whether step c cannot start before a step queued here has run: c is
 * queued here itself (a rank runs its steps in order), or reads a step
 * queued here. nd->inq counts each step's queued entries, so this looks
 * at c's inputs (it walked the whole queue per consumer: on a layered
 * graph up to 64 entries for each of a step's 2-3 consumers, every step,
 * issue 16), or, for a fan-in of more inputs than steps are queued, at
 * the queued steps' consumers. */
static bool waits_here(const node *nd, uint32_t c) {
  if (c >= nd->n)
    return false;
  if (nd->inq[c])
    return true;
  const uint32_t *a;
  size_t na = sy_job_step_inputs(nd->job, c, &a);
  if (na <= nd->queued) {
    for (size_t i = 0; i < na; i++)
      if (a[i] < nd->n && nd->inq[a[i]])
        return true;
    return false;
  }
  for (const msg *q = nd->runq; q; q = q->next) {
    rbuf r = {q->p, q->len, q->off, false};
    for (uint32_t i = 0; i < q->nleft; i++) {
      uint32_t len = get_u32(&r);
      size_t at = r.off;
      uint32_t x = get_u32(&r);
      if (r.bad)
        return false;
      const uint32_t *cons;
      size_t nc = sy_job_step_consumers(nd->job, x, &cons);
      for (size_t j = 0; j < nc && j < 64; j++)
        if (cons[j] == c)
          return true;
      r.off = at;
      (void)get(&r, len);
    }
  }
  return false;
}

/* Whether step s's DONE may be held at all: 1-64 consumers, every one an
 * actor step (a rank-0 step or a GET needs it at once). Worked out per
 * step before the first step runs, while this rank waits for rank 0's
 * first RUN anyway: looking up every consumer's class as each step ended
 * was part of the ~0.6 us of bookkeeping per step left (issue 16, round
 * 5). */
static int hold_table(node *nd) {
  nd->alone = nd->size == 2 && !nd->cfg->on_root;
  nd->pure_cons = malloc(nd->n ? nd->n : 1);
  if (!nd->pure_cons)
    return SY_ENOMEM;
  for (size_t s = 0; s < nd->n; s++) {
    const uint32_t *cons;
    size_t nc = sy_job_step_consumers(nd->job, s, &cons);
    bool ok = nc > 0 && nc <= 64;
    for (size_t i = 0; ok && i < nc; i++)
      ok = sy_job_step_class(nd->job, cons[i]) == SY_STEP_PURE;
    nd->pure_cons[s] = ok;
  }
  return 0;
}

/* Whether nobody can use step s's DONE before a step queued here has run:
 * every consumer of s waits for such a step (a chain's next link, or a
 * fan-in that also reads a sibling queued here), so the DONE may wait.
 * Two ranks and the root does not execute (nd->alone): this rank is the
 * only one that runs steps other than the root's own, so a consumer that
 * is not queued here yet has nowhere else to start earlier while this
 * rank is busy; the DONE goes when the queue runs low. Without it a
 * layered graph's layer reported one DONE a step once its later
 * consumers no longer fit the window (issue 16). */
static bool may_hold(const node *nd, long s) {
  if (s < 0 || !nd->pure_cons[s])
    return false;
  if (nd->alone)
    return true;
  const uint32_t *cons;
  size_t nc = sy_job_step_consumers(nd->job, (size_t)s, &cons);
  for (size_t i = 0; i < nc; i++)
    if (!waits_here(nd, cons[i]))
      return false;
  return true;
}

/* Executors run the steps they are sent in order. DONE entries are
 * batched: a step whose consumers all wait for a step queued here (see
 * may_hold()) keeps its DONE, for at most HOLD_MAX_NS, while more than
 * half of `prefetch` steps are
 * still queued (the rank has work, and rank 0 nothing to send it yet);
 * the DONEs go in one message once the queue runs that low (and then
 * not again until rank 0 has answered with more steps, unless the queue
 * runs empty), or with the first step that someone else may wait for
 * (another consumer, rank 0, a failure), or of a step that took less
 * than HOLD_MIN_NS. A chain of real bodies then costs one RUN and one
 * DONE message per half a prefetch window of steps instead of per step, and
 * rank 0 wakes that much less often on a core the executor needs. */
static int serve(node *nd) {
  size_t low = (size_t)(nd->cfg->prefetch + 1) / 2;
  bool stop = false;
  /* The last poll, its interval, and the last step's end (also the next
   * step's start, unless this rank waited for a message in between). */
  int64_t polled = 0, every = POLL_NS, ended = now_ns();
  for (;;) {
    /* Everything that is already here first, without waiting. */
    msg *m;
    while ((m = undefer(nd)) != NULL)
      stop |= absorb(nd, m);
    /* With steps queued, the mailbox is polled every POLL_NS (or less
     * often, see POLL_ALONE_NS) or once the queue runs low (each poll
     * runs MPI's progress engine: a third of what a chain step cost here
     * besides its body, issue 16; and every other step of 50 us still
     * paid ~0.3 us for it, round 5). */
    bool poll = nd->queued <= POLL_QUEUED || ended - polled >= every;
    if (poll) {
      polled = ended;
      if (nd->alone && every < POLL_ALONE_NS)
        every *= 2;
    }
    while (poll) {
      int flag = 0;
      MPI_Status st;
      MPI_Message mh;
      MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &mh, &st);
      if (!flag)
        break;
      every = POLL_NS;
      stop |= absorb(nd, take(&mh, &st));
    }
    if (nd->queued == 0) {
      flush_dones(nd);
      if (stop)
        return 0;
      if ((m = next_msg(nd, 0)) == NULL)
        return SY_ENOMEM;
      stop |= absorb(nd, m);
      ended = now_ns();
      continue;
    }
    /* The next step: the head RUN's next entry. */
    msg *q = nd->runq;
    rbuf r = {q->p, q->len, q->off, false};
    uint32_t len = get_u32(&r);
    const uint8_t *p = get(&r, len);
    q->off = r.off;
    nd->queued--;
    if (!nd->alone && p && len >= 4 && sy_le32_get(p) < nd->n &&
        nd->inq[sy_le32_get(p)])
      nd->inq[sy_le32_get(p)]--;
    if (--q->nleft == 0 || r.bad) {
      if (r.bad)
        nd->queued -= q->nleft; /* a broken message: its other steps too */
      nd->runq = q->next;
      if (!nd->runq)
        nd->runq_tail = NULL;
    }
    int64_t t0 = ended;
    long done = p ? exec_step(nd, p, len) : -1;
    ended = now_ns();
    bool quick = ended - t0 < HOLD_MIN_NS;
    if (q->nleft == 0 || r.bad)
      msg_free(q);
    if (nd->dones == 1)
      nd->held_since = ended;
    if (quick || (nd->queued <= low && !nd->told) ||
        ended + (ended - t0) - nd->held_since >= HOLD_MAX_NS ||
        !may_hold(nd, done))
      flush_dones(nd);
  }
}

/* ---- the root ------------------------------------------------------------ */

typedef struct root {
  node *nd;
  size_t n;
  sy_sched *S;    /* step states, retries, the first failure */
  uint32_t *left; /* consumers not done yet (values are dropped at 0) */
  int *loc;       /* the rank holding the step's outputs */
  /* per output (step s's at nd->out_at[s]): encoded size, when known;
   * one array, not one per step (a malloc and a free per step at the
   * start and the end of a run, issue 16 round 5) */
  uint64_t *size;
  /* Per rank, the steps sent to it and not done, in order: the head runs,
   * the others (prefetched) wait in its mailbox. */
  size_t *outq; /* P rings of qcap */
  int *oh, *on; /* head index and count per rank */
  int *settled; /* per rank: queued steps from the head with no consumer
                   left to prefetch (prefetch() starts after them) */
  int qcap;
  int *where;        /* per step: the rank it was sent to */
  uint8_t *doomed;   /* per step: queued behind a step that failed */
  int64_t *deadline; /* per rank: for its head step */
  size_t **drops;    /* per rank: values to drop on its next message */
  size_t *ndrops, *capdrops;
  sy_buf *outb;   /* per rank: the RUN batch not sent yet */
  uint32_t *outn; /* per rank: steps in it */
  int n_exec_busy;
  int n_exec;  /* ranks that execute */
  unsigned rr; /* round-robin start among idle ranks */
  /* scratch for planning a step's inputs (as long as the widest step) */
  input *in;
  size_t *src;
  uint32_t *k;
} root;

/* What the root runs (or, for a ROUTE, marks done), and what executors
 * run. */
#define ROOT_STEPS                                                             \
  (SY_SCHED_CLASS(SY_STEP_LOCAL) | SY_SCHED_CLASS(SY_STEP_ROUTE))
#define EXEC_STEPS SY_SCHED_CLASS(SY_STEP_PURE)

static bool root_only(const sy_job *job, size_t s) {
  return sy_job_step_class(job, s) != SY_STEP_PURE;
}

static bool is_route(const sy_job *job, size_t s) {
  return sy_job_step_class(job, s) == SY_STEP_ROUTE;
}

/* The cpus step s asks for (0: none said). */
static uint32_t step_cpus(const sy_job *job, size_t s) {
  sy_step_resources r = {.size = sizeof r};
  return sy_job_step_resources(job, s, &r) == 0 ? r.cpus : 0;
}

/* Whether rank r offers the cpus step s asks for. */
static bool fits(const root *R, int r, size_t s) {
  uint32_t c = step_cpus(R->nd->job, s);
  return c <= 1 || R->nd->cpus[r] >= (int64_t)c;
}

static bool is_done(const root *R, size_t s) {
  return sy_sched_state(R->S, s) == SY_STEP_DONE;
}

static bool executes(const root *R, int r) {
  return r != ROOT || R->nd->cfg->on_root || R->nd->size == 1;
}

static long head_of(const root *R, int r) {
  return R->on[r]
             ? (long)R->outq[(size_t)r * (size_t)R->qcap + (size_t)R->oh[r]]
             : -1;
}

static long nth_of(const root *R, int r, int i) {
  return (long)
      R->outq[(size_t)r * (size_t)R->qcap + (size_t)((R->oh[r] + i) % R->qcap)];
}

/* Whether every input of s is done (on the root's books). */
static bool inputs_done(const root *R, size_t s) {
  const uint32_t *a;
  size_t na = sy_job_step_inputs(R->nd->job, s, &a);
  for (size_t i = 0; i < na; i++)
    if (!is_done(R, a[i]))
      return false;
  return true;
}

/* The value references step s reads, in argument order, where the job
 * says they live. ROUTE steps never get here; every other step reads
 * output 0 of each input. */
static size_t step_refs(const sy_job *job, size_t s, size_t *src, uint32_t *k) {
  const uint32_t *a;
  size_t na = sy_job_step_inputs(job, s, &a);
  for (size_t i = 0; i < na; i++)
    src[i] = sy_job_output_source(job, a[i], 0, &k[i]);
  return na;
}

static void add_drop(root *R, int rank, size_t s) {
  if (R->ndrops[rank] == R->capdrops[rank]) {
    size_t cap = R->capdrops[rank] ? R->capdrops[rank] * 2 : 16;
    size_t *d = realloc(R->drops[rank], cap * sizeof *d);
    if (!d)
      return; /* the value stays until STOP */
    R->drops[rank] = d;
    R->capdrops[rank] = cap;
  }
  R->drops[rank][R->ndrops[rank]++] = s;
}

/* One consumer of step a is done: at the last one, a's values are freed
 * (on the root, and on their holder at its next message). A ROUTE holds
 * its source until its own last consumer is done. */
static void release(root *R, size_t a) {
  if (R->left[a] == 0 || --R->left[a] > 0)
    return;
  node *nd = R->nd;
  if (is_route(nd->job, a)) {
    const uint32_t *in;
    sy_job_step_inputs(nd->job, a, &in);
    release(R, in[0]);
    return;
  }
  drop(nd, a);
  if (R->loc[a] > ROOT)
    add_drop(R, R->loc[a], a);
}

static void step_done(root *R, size_t s) {
  node *nd = R->nd;
  const uint32_t *in;
  size_t na = sy_job_step_inputs(nd->job, s, &in);
  if (is_route(nd->job, s)) {
    /* A ROUTE holds its source for its consumers (see release()). */
    if (R->left[s] == 0)
      release(R, in[0]);
  } else {
    for (size_t i = 0; i < na; i++)
      release(R, in[i]);
    if (R->left[s] == 0) { /* nobody reads it: drop it at once */
      drop(nd, s);
      if (R->loc[s] > ROOT)
        add_drop(R, R->loc[s], s);
    }
  }
  sy_sched_done(R->S, s);
}

/* The job keeps what it reports after the run from a LOCAL step's
 * outputs (values otherwise live in node.have, not in the job). */
static void tell_job(root *R, size_t s) {
  node *nd = R->nd;
  uint32_t n_out = nd->n_out[s];
  if (n_out > 16)
    return; /* a LOCAL step has one output, or two (a labelled feed) */
  const sy_value *out[16];
  for (uint32_t k = 0; k < n_out; k++)
    out[k] = held_at(nd, s, k)->v;
  sy_job_step_result(nd->job, s, out);
}

/* Fills in[] for step s as seen from `rank`, which will run it. */
static int plan_inputs(root *R, size_t s, int rank, input *in, size_t *n_in,
                       size_t *src, uint32_t *k) {
  node *nd = R->nd;
  size_t na = step_refs(nd->job, s, src, k);
  for (size_t i = 0; i < na; i++) {
    in[i] =
        (input){(uint32_t)src[i], k[i], R->loc[src[i]], NULL, 0, NULL, NULL};
    if (!is_done(R, src[i])) { /* prefetched: made on `rank` first */
      in[i].holder = rank;
      continue;
    }
    held *h = held_at(nd, src[i], k[i]);
    if (rank == ROOT && h && (h->v || h->enc))
      in[i].holder = ROOT; /* the root keeps a copy */
    else if (rank != ROOT && in[i].holder != rank && h && (h->v || h->enc)) {
      int rc = held_encode(h);
      if (rc)
        return rc;
      R->size[R->nd->out_at[src[i]] + k[i]] = h->len;
      if (h->len <= nd->cfg->eager_limit) {
        in[i].holder = EAGER;
        in[i].data = h->enc;
        in[i].len = h->len;
      }
    }
  }
  *n_in = na;
  return 0;
}

/* Input bytes that rank r already holds, of the na inputs in src/k (as
 * step_refs() resolved them). */
static uint64_t local_bytes(const root *R, size_t na, int r, const size_t *src,
                            const uint32_t *k) {
  uint64_t sum = 0;
  for (size_t i = 0; i < na; i++)
    if (R->loc[src[i]] == r)
      sum += R->size[R->nd->out_at[src[i]] + k[i]] + 1;
  return sum;
}

static void emit(root *R, sy_event_type type, size_t s, int worker, int code,
                 const char *message) {
  sy_job_set_worker(worker);
  sy_job_emit(R->nd->job, type, s, code, message);
}

/* Runs step s here, on the root. */
static void run_here(root *R, size_t s, input *in, size_t *src, uint32_t *k) {
  node *nd = R->nd;
  size_t n_in = 0;
  emit(R, SY_EVENT_STARTED, s, ROOT, 0, NULL);
  sy_error_clear(&nd->tmp);
  if (is_route(nd->job, s)) {
    R->loc[s] = -1;
    emit(R, SY_EVENT_DONE, s, ROOT, 0, NULL);
    step_done(R, s);
    return;
  }
  int rc = plan_inputs(R, s, ROOT, in, &n_in, src, k);
  if (rc == 0)
    rc = execute(nd, s, in, n_in, &nd->tmp);
  else
    sy_error_set(&nd->tmp, rc, "runner mpi: %s", sy_strerror(rc));
  if (rc) {
    sy_error_prefix(&nd->tmp, "step %zu (%s)", s,
                    sy_job_step_label(nd->job, s));
    emit(R, SY_EVENT_FAILED, s, ROOT, rc, nd->tmp.message);
    sy_sched_failed(R->S, s, rc, nd->tmp.message);
    return;
  }
  R->loc[s] = ROOT;
  emit(R, SY_EVENT_DONE, s, ROOT, 0, NULL);
  if (!is_route(nd->job, s) && root_only(nd->job, s))
    tell_job(R, s);
  step_done(R, s);
}

static void head_started(root *R, int r);

/* Whether rank 0 should get a copy of s's small outputs with its DONE:
 * when rank 0 reads them itself (sink, dump, commit), or when several
 * steps read them (they may run on different ranks; not when `one`
 * executor other than rank 0 runs every step that is not rank 0's own:
 * then rank 1 encoded each output of a layered graph for nothing,
 * issue 16). */
static bool wants_copy(const sy_job *job, size_t s, bool one) {
  const uint32_t *cons;
  size_t nc = sy_job_step_consumers(job, s, &cons);
  if (nc > 1 && !one)
    return true;
  for (size_t i = 0; i < nc; i++)
    if (root_only(job, cons[i]) &&
        (!is_route(job, cons[i]) || wants_copy(job, cons[i], one)))
      return true;
  return false;
}

/* Sends step s to executor rank r. */
static int dispatch(root *R, size_t s, int r, input *in, size_t *src,
                    uint32_t *k) {
  node *nd = R->nd;
  size_t n_in = 0;
  int rc = plan_inputs(R, s, r, in, &n_in, src, k);
  if (rc)
    return rc;
  /* Into rank r's batch, sent by flush_runs() before rank 0 waits. */
  sy_buf *b = &R->outb[r];
  size_t at = batch_open(b, R->outn[r]);
  put_u32(b, (uint32_t)s);
  put_u8(b, wants_copy(R->nd->job, s, R->n_exec == 1 && !executes(R, ROOT)));
  put_u32(b, (uint32_t)R->ndrops[r]);
  for (size_t i = 0; i < R->ndrops[r]; i++)
    put_u32(b, (uint32_t)R->drops[r][i]);
  put_u32(b, (uint32_t)n_in);
  for (size_t i = 0; i < n_in; i++) {
    put_u32(b, in[i].src);
    put_u32(b, in[i].k);
    put_i32(b, in[i].holder);
    put_u64(b, in[i].len);
    if (in[i].holder == EAGER)
      put(b, in[i].data, (size_t)in[i].len);
  }
  if (b->failed)
    return SY_ENOMEM; /* flush_runs() ends the job */
  batch_close(b, &R->outn[r], at);
  nd->st_steps++;
  R->ndrops[r] = 0;
  if (sy_sched_state(R->S, s) == SY_STEP_WAITING)
    (void)sy_sched_take(R->S, s); /* prefetched before it is ready */
  R->where[s] = r;
  R->outq[(size_t)r * (size_t)R->qcap +
          (size_t)((R->oh[r] + R->on[r]) % R->qcap)] = s;
  if (R->on[r]++ == 0)
    head_started(R, r);
  R->n_exec_busy++;
  return 0;
}

/* Sends every rank its RUN batch, one message each. */
static void flush_runs(root *R) {
  node *nd = R->nd;
  for (int r = 1; r < nd->size; r++) {
    if (R->outn[r] == 0 && !R->outb[r].failed)
      continue;
    batch_seal(&R->outb[r], R->outn[r]);
    R->outn[r] = 0;
    if (post(nd, r, T_RUN, &R->outb[r]) != 0) {
      /* Steps rank 0 counts as sent would never come back. */
      fprintf(stderr,
              "switchyard: runner mpi: out of memory for a RUN message "
              "to rank %d\n",
              r);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    nd->st_runs++;
  }
}

/* Rank r's head step starts now (as far as rank 0 can tell). A step whose
 * inputs failed will not run: it gets no STARTED. */
static void head_started(root *R, int r) {
  size_t s = (size_t)head_of(R, r);
  int64_t timeout = R->nd->cfg->timeout;
  sy_step_resources res = {.size = sizeof res};
  if (sy_job_step_resources(R->nd->job, s, &res) == 0 && res.timeout)
    timeout = (int64_t)res.timeout * 1000000000;
  R->deadline[r] = timeout ? now_ns() + timeout : 0;
  if (!R->doomed[s] && inputs_done(R, s))
    emit(R, SY_EVENT_STARTED, s, r, 0, NULL);
}

/* Whether consumer c may be queued on rank r before it is ready: every
 * input is done, or is an actor step already sent to r (so its value will
 * be made there first: a rank runs its steps in the order it got them). */
static bool prefetchable(const root *R, size_t c, int r) {
  const sy_job *job = R->nd->job;
  if (sy_sched_state(R->S, c) != SY_STEP_WAITING || root_only(job, c) ||
      !fits(R, r, c))
    return false;
  const uint32_t *a;
  size_t na = sy_job_step_inputs(job, c, &a);
  for (size_t i = 0; i < na; i++) {
    size_t x = a[i];
    sy_step_state st = sy_sched_state(R->S, x);
    if (st == SY_STEP_DONE)
      continue;
    if (st != SY_STEP_RUNNING || R->where[x] != r || root_only(job, x))
      return false;
  }
  return true;
}

/* Steps queued behind a rank's head beyond which only chain links are
 * prefetched: a fan-out's branches queued on one rank would run one
 * after another while other ranks may be idle when they become ready. */
#define FANOUT_PREFETCH 4

/* Whether c is the only consumer of q and reads nothing else: the next
 * link of a chain. */
static bool chain_link(const sy_job *job, size_t q, size_t nc, size_t c) {
  const uint32_t *a;
  return nc == 1 && sy_job_step_inputs(job, c, &a) == 1 && a[0] == q;
}

/* Whether c may be prefetched past FANOUT_PREFETCH on a rank that is the
 * only one executing (no other rank to keep branches for): it reads at
 * most FANOUT_PREFETCH steps, as a layered graph's do. Then its DONE-
 * holding readers find it queued (see may_hold()); without it a layer's
 * steps reported one DONE each (issue 16). A wide fan-in is left out:
 * prefetchable() walks all its inputs, per queued step that it reads. */
static bool few_inputs(const root *R, size_t c) {
  const uint32_t *a;
  return R->n_exec == 1 &&
         sy_job_step_inputs(R->nd->job, c, &a) <= FANOUT_PREFETCH;
}

/* Fills rank r's mailbox with the consumers of its steps that depend only
 * on work done or queued there, up to `prefetch` behind its head
 * (FANOUT_PREFETCH for other than a chain's links). */
static void prefetch(root *R, int r) {
  if (r == ROOT || sy_sched_stopping(R->S))
    return;
  const sy_job *job = R->nd->job;
  int wide = R->qcap < FANOUT_PREFETCH + 1 ? R->qcap : FANOUT_PREFETCH + 1;
  for (int i = R->settled[r]; i < R->on[r] && R->on[r] < R->qcap; i++) {
    size_t q = (size_t)nth_of(R, r, i);
    const uint32_t *cons;
    size_t nc = sy_job_step_consumers(job, q, &cons), j;
    bool open = false; /* a consumer that may still be prefetched */
    for (j = 0; j < nc && R->on[r] < R->qcap; j++) {
      if (sy_sched_state(R->S, cons[j]) != SY_STEP_WAITING ||
          (R->on[r] >= wide && !chain_link(job, q, nc, cons[j]) &&
           !few_inputs(R, cons[j])))
        continue;
      if (prefetchable(R, cons[j], r) &&
          dispatch(R, cons[j], r, R->in, R->src, R->k) != 0)
        return; /* it stays WAIT and runs when ready */
      open |= sy_sched_state(R->S, cons[j]) == SY_STEP_WAITING;
    }
    /* Consumers only leave WAITING while q is queued (but for a failure
     * here, which starts the scan over), so a settled step stays so: a
     * chain's window is refilled without walking it. A consumer that the
     * window is too full for counts as settled too: it is sent when it is
     * ready (or found through a later input queued here), so that a deep
     * queue of a wide graph's steps is not walked per step either. */
    if (!open && j == nc && i == R->settled[r])
      R->settled[r]++;
  }
}

/* The idle executor that holds most of step s's input bytes; other ranks
 * before the root; -1 when none is idle. */
static int place(root *R, size_t s, size_t *src, uint32_t *k) {
  node *nd = R->nd;
  int best = -1;
  uint64_t best_bytes = 0;
  size_t na = step_refs(nd->job, s, src, k);
  for (int i = 0; i < nd->size - 1; i++) {
    int r = 1 + (int)((R->rr + (unsigned)i) % (unsigned)(nd->size - 1));
    if (R->on[r] > 0 || !fits(R, r, s))
      continue;
    uint64_t b = local_bytes(R, na, r, src, k);
    if (best < 0 || b > best_bytes) {
      best = r;
      best_bytes = b;
    }
  }
  if (best > 0) {
    R->rr = (unsigned)best; /* the next search starts after it */
    return best;
  }
  return executes(R, ROOT) && fits(R, ROOT, s) ? ROOT : -1;
}

/* When no executor is idle: the busy rank (that offers what s asks) with
 * the fewest steps sent to it, fewer than FANOUT_PREFETCH + 1 (or
 * `prefetch` + 1 when it is the only rank that executes), most of s's
 * input bytes first; -1 when none. A ready step then waits in that
 * rank's mailbox, so that the rank goes on to it without a round trip to
 * the root (issue 16: on a wide graph every step otherwise waited for the
 * root to wake, notice its sibling's DONE and send it: 160 us a 50 us
 * step). The bound keeps a fan-out's branches for ranks that free up. */
static int queue_behind(root *R, size_t s, size_t *src, uint32_t *k) {
  node *nd = R->nd;
  int best = -1,
      depth = R->qcap < FANOUT_PREFETCH + 1 ? R->qcap : FANOUT_PREFETCH + 1;
  if (R->n_exec == 1)
    depth = R->qcap;
  uint64_t best_bytes = 0;
  size_t na = step_refs(nd->job, s, src, k);
  for (int r = 1; r < nd->size; r++) {
    if (R->on[r] == 0 || R->on[r] >= depth || !fits(R, r, s))
      continue;
    uint64_t b = local_bytes(R, na, r, src, k);
    if (best < 0 || R->on[r] < R->on[best] ||
        (R->on[r] == R->on[best] && b > best_bytes)) {
      best = r;
      best_bytes = b;
    }
  }
  return best;
}

/* Step s failed on rank r: the steps queued there that read it, directly
 * or through each other, will fail for want of it. */
static void doom_queued(root *R, int r, size_t s) {
  for (int i = 0; i < R->on[r]; i++) {
    size_t q = (size_t)nth_of(R, r, i);
    const uint32_t *a;
    size_t na = sy_job_step_inputs(R->nd->job, q, &a);
    for (size_t j = 0; j < na && !R->doomed[q]; j++)
      R->doomed[q] = a[j] == s || R->doomed[a[j]];
  }
}

/* Rank r finished its head step: the next one starts, more may queue. */
static void next_in_line(root *R, int r) {
  if (R->on[r] > 0)
    head_started(R, r);
  prefetch(R, r);
}

/* One step's entry (len bytes at p) of a DONE from rank `from`. */
static void on_done(root *R, int from, const uint8_t *entry, size_t n) {
  node *nd = R->nd;
  rbuf r = {entry, n, 0, false};
  uint32_t s = get_u32(&r);
  int32_t code = get_i32(&r);
  uint32_t n_out = get_u32(&r);
  if (r.bad || s >= R->n || head_of(R, from) != (long)s) {
    fprintf(stderr,
            "switchyard: runner mpi: ignoring a stray message from "
            "rank %d\n",
            from);
    return;
  }
  R->oh[from] = (R->oh[from] + 1) % R->qcap;
  if (R->settled[from] > 0)
    R->settled[from]--;
  R->on[from]--;
  R->n_exec_busy--;
  R->where[s] = -1;
  if (code != 0 && (R->doomed[s] || !inputs_done(R, s))) {
    /* Prefetched behind a step that failed: it did not run (its input was
     * never made there), so this is no attempt of its own. It runs when
     * its inputs are done (perhaps already, by a retry elsewhere), or is
     * skipped if one of them failed for good. */
    R->doomed[s] = 0;
    sy_sched_untake(R->S, s);
    R->settled[from] = 0;
    next_in_line(R, from);
    return;
  }
  if (code == 0 && n_out != nd->n_out[s])
    code = SY_ECORRUPT;
  held h_small[4] = {{0}}, *h = h_small;
  if (code == 0 && n_out > 4 && !(h = calloc(n_out, sizeof *h)))
    code = SY_ENOMEM;
  for (uint32_t i = 0; code == 0 && i < n_out; i++) {
    uint64_t len = get_u64(&r);
    uint8_t eager = get_u8(&r);
    R->size[R->nd->out_at[s] + i] = len;
    if (eager) {
      const void *p = get(&r, (size_t)len);
      if (p && (h[i].enc = malloc(len ? (size_t)len : 1)) != NULL) {
        memcpy(h[i].enc, p, (size_t)len);
        h[i].len = (size_t)len;
      } else if (p) {
        code = SY_ENOMEM;
      }
    }
    if (r.bad)
      code = SY_ECORRUPT;
  }
  if (code == 0) {
    drop(nd, s); /* an earlier attempt's leftovers, if any */
    for (uint32_t i = 0; i < n_out; i++)
      *held_at(nd, s, i) = h[i];
    if (h != h_small)
      free(h);
    R->loc[s] = from;
    emit(R, SY_EVENT_DONE, s, from, 0, NULL);
    step_done(R, s);
    next_in_line(R, from);
    return;
  }
  for (uint32_t i = 0; h && i < (h == h_small && n_out > 4 ? 4 : n_out); i++)
    held_clear(&h[i]);
  if (h != h_small)
    free(h);
  char text[SY_ERROR_MAX];
  uint32_t ml = r.bad ? 0 : get_u32(&r);
  const char *mp = r.bad ? NULL : get(&r, ml);
  if (mp)
    snprintf(text, sizeof text, "%.*s", (int)ml, mp);
  else
    snprintf(text, sizeof text, "%s", sy_strerror(code));
  char message[SY_ERROR_MAX];
  snprintf(message, sizeof message, "step %u (%.200s) on rank %d: %.700s", s,
           sy_job_step_label(nd->job, s), from, text);
  emit(R, SY_EVENT_FAILED, s, from, code, message);
  doom_queued(R, from, s);
  R->settled[from] = 0;
  sy_sched_failed(R->S, s, code, message);
  next_in_line(R, from);
}

/* What is running where, for the user when the run cannot finish. */
static void say_in_flight(root *R, const char *why) {
  node *nd = R->nd;
  if (R->n_exec_busy == 0)
    return;
  fprintf(stderr, "switchyard: runner mpi: %s; steps in flight:\n", why);
  for (int r = 0; r < nd->size; r++)
    for (int i = 0; i < R->on[r]; i++)
      fprintf(stderr, "  step %ld (%s) on rank %d%s\n", nth_of(R, r, i),
              sy_job_step_label(nd->job, (size_t)nth_of(R, r, i)), r,
              i ? " (queued)" : "");
  fflush(stderr);
}

static void handle(root *R, msg *m) {
  if (m->tag == T_DONE) {
    R->nd->st_dones++;
    rbuf r = {m->p, m->len, 0, false};
    uint32_t n = get_u32(&r);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
      uint32_t len = get_u32(&r);
      const uint8_t *p = get(&r, len);
      if (p)
        on_done(R, m->src, p, len);
    }
    if (r.bad)
      fprintf(stderr,
              "switchyard: runner mpi: ignoring a broken message from "
              "rank %d\n",
              m->src);
  } else if (m->tag == T_FETCH)
    serve_fetch(R->nd, m);
  msg_free(m);
}

/* A message that is already there (deferred first), or NULL. */
static msg *poll_msg(node *nd) {
  msg *m = undefer(nd);
  if (m)
    return m;
  int flag = 0;
  MPI_Status st;
  MPI_Message mh;
  MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &mh, &st);
  return flag ? take(&mh, &st) : NULL;
}

static int64_t earliest(const root *R) {
  int64_t until = 0;
  for (int r = 0; r < R->nd->size; r++)
    if (R->on[r] > 0 && R->deadline[r] && (!until || R->deadline[r] < until))
      until = R->deadline[r];
  int64_t due = sy_sched_due(R->S);
  if (due && (!until || due < until))
    until = due;
  return until;
}

/* How long rank 0 may sleep between polls while executors work: half of
 * what the shortest queue holds behind its head, at the average step's
 * length (node.wait_avg), between NAP_NS and 1 ms. Sleeping 50 us at a
 * time cost rank 0 11 us of CPU per 50-us step of a chain (bench/mpi),
 * a fifth of a core taken from the executors on a busy machine; a chain's
 * queue of 64 holds 1.6 ms of such steps past its DONE. */
static int64_t nap_max(const root *R) {
  int least = 0;
  for (int r = 1; r < R->nd->size; r++)
    if (R->on[r] > 0 && (least == 0 || R->on[r] < least))
      least = R->on[r];
  int64_t nap = least > 1 ? (least - 1) * R->nd->wait_avg / 2 : 0;
  return nap < NAP_NS ? NAP_NS : nap > 1000000 ? 1000000 : nap;
}

static int root_loop(root *R, input *in, size_t *src, uint32_t *k) {
  node *nd = R->nd;
  bool told_cancel = false;
  for (;;) {
    bool ran_here = false;
    if (sy_job_cancelled(nd->job)) {
      if (!told_cancel)
        say_in_flight(R, "canceled (Ctrl-C, or mpirun ending the job "
                         "because a rank died)");
      told_cancel = true;
    }
    size_t s;
    flush_runs(R); /* before a root step, which may take a while */
    while (sy_sched_next(R->S, ROOT_STEPS, &s))
      run_here(R, s, in, src, k);
    while (sy_sched_next(R->S, EXEC_STEPS, &s)) {
      int r = place(R, s, src, k);
      if (r < 0 && !sy_sched_stopping(R->S))
        r = queue_behind(R, s, src, k);
      if (r < 0 || (r == ROOT && sy_sched_ready(R->S, ROOT_STEPS) > 0)) {
        sy_sched_untake(R->S, s); /* not placed: ready again */
        break;
      }
      if (r == ROOT) {
        flush_runs(R); /* the other ranks' steps before this one */
        run_here(R, s, in, src, k);
        ran_here = true;
        break; /* the root steps it made ready go first */
      }
      int rc = dispatch(R, s, r, in, src, k);
      if (rc == 0)
        prefetch(R, r);
      if (rc) {
        char message[256];
        snprintf(message, sizeof message,
                 "step %zu (%s): runner mpi: cannot send it to rank %d (%s)", s,
                 sy_job_step_label(nd->job, s), r, sy_strerror(rc));
        emit(R, SY_EVENT_FAILED, s, r, rc, message);
        sy_sched_failed(R->S, s, rc, message);
      }
    }
    if (sy_sched_ready(R->S, ROOT_STEPS) > 0 && !sy_sched_stopping(R->S))
      continue;
    flush_runs(R);
    if (ran_here) {
      /* Results that came in meanwhile, without waiting, then on. */
      msg *m;
      while ((m = poll_msg(nd)) != NULL)
        handle(R, m);
      continue;
    }
    if (R->n_exec_busy == 0 && sy_sched_finished(R->S))
      break;
    /* Anything that arrived during a wait first. */
    msg *m = undefer(nd);
    nd->nap_max = nap_max(R);
    if (!m)
      m = next_msg(nd, earliest(R));
    nd->nap_max = 0;
    if (m)
      handle(R, m);
    /* And whatever else is here already, so that the steps they free go
     * out together. */
    while (m && (m = poll_msg(nd)) != NULL)
      handle(R, m);
    int64_t now = now_ns();
    for (int r = 0; r < nd->size; r++)
      if (R->on[r] > 0 && R->deadline[r] && now >= R->deadline[r]) {
        size_t h = (size_t)head_of(R, r);
        char message[256];
        snprintf(message, sizeof message,
                 "step %zu (%s) on rank %d ran past its timeout; a step on "
                 "another rank cannot be stopped, so the MPI job is aborted",
                 h, sy_job_step_label(nd->job, h), r);
        emit(R, SY_EVENT_FAILED, h, r, SY_ETIMEOUT, message);
        fprintf(stderr, "switchyard: %s\n", message);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
  }
  return 0;
}

/* FNV-1a's step over 8 bytes at a time (a byte at a time it was ~50 ns
 * a step before every run, issue 16 round 5): each step of the chain is
 * a bijection, so keys that differ in one place always give different
 * digests. Every rank runs the same binary, so byte order agrees. */
static uint64_t program_digest(const sy_job *job) {
  uint64_t h = 1469598103934665603ULL;
  size_t n = sy_job_size(job);
  for (size_t s = 0; s < n; s++) {
    const char *key = sy_job_step_key(job, s);
    size_t len = strlen(key);
    for (size_t i = 0; i < len; i += 8) {
      uint64_t w = 0;
      memcpy(&w, key + i, len - i < 8 ? len - i : 8);
      h = (h ^ w) * 1099511628211ULL;
    }
    h = (h ^ len) * 1099511628211ULL;
  }
  return h ^ n;
}

static void stop_all(node *nd) {
  for (int r = 1; r < nd->size; r++) {
    sy_buf b = SY_BUF_INIT;
    (void)post(nd, r, T_STOP, &b);
  }
}

static int root_run(node *nd, sy_error *err) {
  size_t n = nd->n, m = n ? n : 1;
  int P = nd->size;
  root R = {.nd = nd, .n = n};
  sy_sched_policy pol = {.size = sizeof pol,
                         .keep_going = nd->cfg->keep_going,
                         .retries = (uint32_t)nd->cfg->retries,
                         .backoff_ns = nd->cfg->backoff};
  int rc = sy_sched_new(nd->job, &pol, &R.S, err);
  if (rc) {
    stop_all(nd);
    return rc;
  }
  size_t max_in = 1;
  for (size_t s = 0; s < n; s++) {
    const uint32_t *a;
    size_t na = sy_job_step_inputs(nd->job, s, &a);
    if (na > max_in)
      max_in = na;
  }
  input *in = calloc(max_in, sizeof *in);
  size_t *src = calloc(max_in, sizeof *src);
  uint32_t *k = calloc(max_in, sizeof *k);
  R.left = calloc(m, sizeof *R.left);
  R.loc = calloc(m, sizeof *R.loc);
  R.size = calloc(nd->out_at[n] ? nd->out_at[n] : 1, sizeof *R.size);
  R.in = in;
  R.src = src;
  R.k = k;
  R.qcap = (int)nd->cfg->prefetch + 1;
  R.outq = calloc((size_t)P * (size_t)R.qcap, sizeof *R.outq);
  R.oh = calloc((size_t)P, sizeof *R.oh);
  R.settled = calloc((size_t)P, sizeof *R.settled);
  R.on = calloc((size_t)P, sizeof *R.on);
  R.where = calloc(m, sizeof *R.where);
  R.doomed = calloc(m, 1);
  R.deadline = calloc((size_t)P, sizeof *R.deadline);
  R.drops = calloc((size_t)P, sizeof *R.drops);
  R.ndrops = calloc((size_t)P, sizeof *R.ndrops);
  R.capdrops = calloc((size_t)P, sizeof *R.capdrops);
  R.outb = calloc((size_t)P, sizeof *R.outb);
  R.outn = calloc((size_t)P, sizeof *R.outn);
  if (!in || !src || !k || !R.left || !R.loc || !R.size || !R.outq || !R.oh ||
      !R.settled || !R.on || !R.where || !R.doomed || !R.deadline || !R.drops ||
      !R.ndrops || !R.capdrops || !R.outb || !R.outn) {
    rc = sy_error_set(err, SY_ENOMEM, "runner mpi: out of memory");
    goto done;
  }
  for (size_t s = 0; s < n; s++) {
    const uint32_t *a;
    R.left[s] = (uint32_t)sy_job_step_consumers(nd->job, s, &a);
    R.loc[s] = -1;
  }

  /* A step no executing rank can take would wait forever: refuse it. */
  int64_t most = 0;
  for (int r = 0; r < P; r++) {
    R.n_exec += executes(&R, r);
    if (executes(&R, r) && nd->cpus[r] > most)
      most = nd->cpus[r];
  }
  for (size_t s = 0; s < n; s++) {
    uint32_t c = step_cpus(nd->job, s);
    if (root_only(nd->job, s) || c <= 1 || (int64_t)c <= most)
      continue;
    rc = sy_error_set(err, SY_ECONFIG,
                      "step %zu (%s) asks for cpus = %u, and no rank offers "
                      "that many (the most is %lld); give the ranks more "
                      "cores (mpirun --bind-to none, or [RUNNER.NAME] cpus "
                      "= N) or ask for fewer",
                      s, sy_job_step_label(nd->job, s), c, (long long)most);
    goto done;
  }

  rc = root_loop(&R, in, src, k);
  if (rc == 0)
    rc = sy_sched_result(R.S, err); /* a cancel, the failures, or 0 */
done:
  if (R.outb && R.outn)
    flush_runs(&R);
  stop_all(nd); /* whatever happened here */
  if (nd->cfg->stats) {
    fprintf(stderr,
            "switchyard: runner mpi: %lu steps ran on other ranks, sent in "
            "%lu RUN messages and answered in %lu DONE messages\n",
            nd->st_steps, nd->st_runs, nd->st_dones);
    fflush(stderr);
  }
  if (R.drops)
    for (int r = 0; r < P; r++)
      free(R.drops[r]);
  free(in);
  free(src);
  free(k);
  free(R.left);
  free(R.loc);
  free(R.size);
  free(R.outq);
  free(R.oh);
  free(R.settled);
  free(R.on);
  free(R.where);
  free(R.doomed);
  free(R.deadline);
  free(R.drops);
  free(R.ndrops);
  free(R.capdrops);
  if (R.outb)
    for (int r = 0; r < P; r++)
      sy_buf_free(&R.outb[r]);
  free(R.outb);
  free(R.outn);
  sy_job_set_worker(-1);
  return rc;
}

/* ---- the provider ----------------------------------------------------------
 */

static int mpi_create(const void *config, void **self, sy_error *err) {
  mpi_config *c = malloc(sizeof *c);
  if (!c)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  *c = *(const mpi_config *)config;
  *self = c;
  return 0;
}

static void mpi_destroy(void *self) {
  free(self);
}

static int start_mpi(sy_error *err) {
  int init = 0, fin = 0;
  MPI_Finalized(&fin);
  if (fin)
    return sy_error_set(err, SY_ESTATE,
                        "runner mpi: MPI was already finalized in this "
                        "process; it cannot be started again");
  MPI_Initialized(&init);
  if (init)
    return 0;
  int provided = 0;
  if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) !=
      MPI_SUCCESS)
    return sy_error_set(err, SY_EIO,
                        "runner mpi: MPI_Init failed; start the command "
                        "with mpirun");
  we_initialized = true;
  return 0;
}

static int mpi_run(void *self, sy_job *job, sy_error *err) {
  int rc = start_mpi(err);
  if (rc)
    return rc;
  node nd = {.cfg = self, .job = job, .n = sy_job_size(job)};
  sy_error_clear(&nd.tmp);
  MPI_Comm_rank(MPI_COMM_WORLD, &nd.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nd.size);
  /* The root sees every step's DONE and the core checks its run; the
   * other ranks execute only what they are sent, and report nothing. */
  if (nd.rank != ROOT)
    sy_job_skip_run_check(job);

  /* Every rank must have compiled the same program; each says the cpus
   * it offers. */
  uint64_t mine[2] = {program_digest(job), (uint64_t)nd.cfg->cpus};
  if (mine[1] == 0) {
    cpu_set_t set;
    mine[1] = sched_getaffinity(0, sizeof set, &set) == 0
                  ? (uint64_t)CPU_COUNT(&set)
                  : 1;
  }
  uint64_t *all = calloc((size_t)nd.size * 2, sizeof *all);
  nd.cpus = calloc((size_t)nd.size, sizeof *nd.cpus);
  if (!all || !nd.cpus) {
    free(all);
    free(nd.cpus);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  MPI_Allgather(mine, 2, MPI_UINT64_T, all, 2, MPI_UINT64_T, MPI_COMM_WORLD);
  char bad[200] = "";
  size_t used = 0;
  uint64_t roots = all[0];
  for (int r = 0; r < nd.size; r++)
    nd.cpus[r] = (int64_t)all[2 * r + 1];
  for (int r = 1; r < nd.size; r++)
    if (all[2 * r] != roots && used < sizeof bad - 16)
      used += (size_t)snprintf(bad + used, sizeof bad - used, "%s%d",
                               used ? ", " : "", r);
  free(all);
  if (used) {
    free(nd.cpus);
    if (nd.rank != ROOT && mine[0] == roots)
      return 0; /* the root reports it */
    return sy_error_set(err, SY_ECONFIG,
                        "runner mpi: rank %s compiled a different program "
                        "than rank 0; every node needs the same flow, "
                        "config and plugins",
                        bad);
  }

  nd.out_at = calloc(nd.n + 1, sizeof *nd.out_at);
  nd.n_out = calloc(nd.n ? nd.n : 1, sizeof *nd.n_out);
  nd.inq = calloc(nd.n ? nd.n : 1, sizeof *nd.inq);
  for (size_t s = 0; nd.out_at && nd.n_out && s < nd.n; s++) {
    nd.n_out[s] = (uint32_t)sy_job_step_outputs(job, s);
    nd.out_at[s + 1] = nd.out_at[s] + nd.n_out[s];
  }
  if (nd.out_at && nd.n_out)
    nd.hv = calloc(nd.out_at[nd.n] ? nd.out_at[nd.n] : 1, sizeof *nd.hv);
  if (!nd.out_at || !nd.hv || !nd.n_out || !nd.inq ||
      (nd.rank != ROOT && hold_table(&nd) != 0))
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
  if (rc && nd.rank != ROOT) {
    /* The root would wait for this rank forever. */
    fprintf(stderr, "switchyard: runner mpi: rank %d: %s\n", nd.rank,
            err->message);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  if (nd.rank == ROOT && rc)
    stop_all(&nd);
  else if (nd.rank == ROOT)
    rc = root_run(&nd, err);
  else
    (void)serve(&nd);
  drain_sends(&nd);
  for (size_t s = 0; nd.hv && s < nd.n; s++)
    drop(&nd, s);
  for (msg *m = undefer(&nd); m; m = undefer(&nd))
    msg_free(m);
  while (nd.runq) {
    msg *m = nd.runq;
    nd.runq = m->next;
    msg_free(m);
  }
  sy_buf_free(&nd.done);
  free(nd.hv);
  free(nd.out_at);
  free(nd.n_out);
  free(nd.inq);
  free(nd.pure_cons);
  sy_value_unref(nd.ec_v);
  free(nd.ec_bytes);
  free(nd.cpus);
  free(nd.req);
  free(nd.reqbuf);
  return nd.rank == ROOT ? rc : 0;
}

static const sy_runner_ops mpi_ops = {
    .size = sizeof(sy_runner_ops),
    .run = mpi_run,
    .resources =
        "cpus: the step runs only on a rank offering that many (option "
        "`cpus`); refused before the run when no rank does\n"
        "memory: not enforced\n"
        "gpus: ignored\n"
        "retries: overrides the `retries` option for the node's steps\n"
        "timeout: overrides the `timeout` option for the node's steps (past "
        "it, the MPI job is aborted)\n",
};

static const sy_provider mpi_provider = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_RUNNER,
    .name = "mpi",
    .version = "1.0.0",
    .description = "runs steps across the ranks of an MPI job (start with "
                   "mpirun); values move straight between ranks",
    .options = mpi_options,
    .config_size = sizeof(mpi_config),
    .create = mpi_create,
    .destroy = mpi_destroy,
    .ops = &mpi_ops,
};

SY_PLUGIN_DEFINE("runner-mpi", "1.0.0", &mpi_provider)

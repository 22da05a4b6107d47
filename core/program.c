/*
 * program.c - the program type: its instructions (emit, interned names,
 * keys, labels), building one by hand, and its file: save, load, explain.
 * The compiler (compile.c) decides what to emit; this file owns what an
 * instruction is.
 *
 * Layout (all integers little-endian; str = u32 length + bytes, no NUL):
 *
 *   "SYPG" u16 version(=3) u16 reserved(=0)
 *   u8 mode  str flow_name  str flow_file  str state_file  str commit_to
 *   16B flow_hash
 *   u32 n, then n instructions:
 *     u8 op  u32 flags  str node  str target  str version  str table
 *     str label  u32 n_params (str key, str text)*  u32 n_args (u32 arg)*
 *     u32 index  u32 n_outputs  16B key
 *   u32 n_codes, then per distinct actor target: str target  16B hash of
 *     the plugin file it was compiled against (zero: no file)
 *   (version 3) u32 n_res, then per node that sets resources, sorted by
 *     node: str node  u32 cpus  u32 gpus  u32 retries (0xffffffff: unset)
 *     u64 memory  u64 timeout
 *   u64 XXH3-64 of every byte before it
 *
 * Version 2 had no resources: it still loads, with every step's unset.
 *
 * Version 1 had no code hashes; such a file is refused (recompile), as a
 * program that cannot tell a rebuilt plugin from the one its keys name.
 *
 * The reader trusts nothing: every count is checked against the bytes that
 * remain before anything is allocated, every argument must name an
 * earlier instruction, and the checksum must match. A damaged or hostile
 * file is SY_ECORRUPT with the offset, never a crash (fuzz_program).
 */
#include "program.h"
#include "query.h"
#include "key.h"
#include "switchyard/endian.h"
#include "switchyard/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROGRAM_MAGIC "SYPG"
#define PROGRAM_VERSION 3
#define PROGRAM_VERSION_MIN 2 /* version 2: no resources */
#define MAX_STR (1u << 20)
#define MAX_OUTPUTS 1024u

/* ---- writing -------------------------------------------------------- */

/* An encoder appends to an sy_buf; its failure is sticky (checked once,
 * at the end). */
static void put(sy_buf *b, const void *p, size_t n) {
  sy_buf_add(b, p, n);
}
static void put_u8(sy_buf *b, uint8_t v) {
  put(b, &v, 1);
}
static void put_u16(sy_buf *b, uint16_t v) {
  uint8_t x[2];
  sy_le16_put(x, v);
  put(b, x, 2);
}
static void put_u32(sy_buf *b, uint32_t v) {
  uint8_t x[4];
  sy_le32_put(x, v);
  put(b, x, 4);
}
static void put_u64(sy_buf *b, uint64_t v) {
  uint8_t x[8];
  sy_le64_put(x, v);
  put(b, x, 8);
}
static void put_str(sy_buf *b, const char *s) {
  size_t n = s ? strlen(s) : 0;
  put_u32(b, (uint32_t)n);
  put(b, s, n);
}

int sy__program_encode(const sy_program *prog, void **buf, size_t *len) {
  sy_buf b = SY_BUF_INIT;
  put(&b, PROGRAM_MAGIC, 4);
  put_u16(&b, PROGRAM_VERSION);
  put_u16(&b, 0);
  put_u8(&b, (uint8_t)prog->mode);
  put_str(&b, prog->flow_name);
  put_str(&b, prog->flow_file);
  put_str(&b, prog->state_file);
  put_str(&b, prog->commit_to);
  put(&b, prog->flow_hash, 16);
  put_u32(&b, prog->n);
  for (uint32_t i = 0; i < prog->n; i++) {
    const sy_instr *in = &prog->code[i];
    put_u8(&b, (uint8_t)in->op);
    put_u32(&b, in->flags);
    put_str(&b, in->node);
    put_str(&b, in->target);
    put_str(&b, in->version);
    put_str(&b, in->table);
    put_str(&b, in->label);
    put_u32(&b, in->n_params);
    for (uint32_t p = 0; p < in->n_params; p++) {
      put_str(&b, in->params[p].key);
      put_str(&b, in->params[p].text);
    }
    put_u32(&b, in->n_args);
    for (uint32_t a = 0; a < in->n_args; a++)
      put_u32(&b, in->args[a]);
    put_u32(&b, in->index);
    put_u32(&b, in->n_outputs);
    put(&b, in->key, 16);
  }
  put_u32(&b, prog->n_codes);
  for (uint32_t i = 0; i < prog->n_codes; i++) {
    put_str(&b, prog->codes[i].target);
    put(&b, prog->codes[i].hash, 16);
  }
  put_u32(&b, prog->n_res);
  for (uint32_t i = 0; i < prog->n_res; i++) {
    const sy__node_res *r = &prog->res[i];
    put_str(&b, r->node);
    put_u32(&b, r->cpus);
    put_u32(&b, r->gpus);
    put_u32(&b, (uint32_t)r->retries);
    put_u64(&b, r->memory);
    put_u64(&b, r->timeout);
  }
  if (!b.failed)
    put_u64(&b, XXH3_64bits((const uint8_t *)b.data, b.len));
  if (b.failed) {
    free(b.data);
    return SY_ENOMEM;
  }
  *buf = b.data;
  *len = b.len;
  return 0;
}

/* ---- reading -------------------------------------------------------- */

typedef struct rbuf {
  const uint8_t *data;
  size_t len, pos;
  sy_error *err;
  int rc;
} rbuf;

static int bad(rbuf *r, const char *what) {
  if (r->rc == 0)
    r->rc = sy_error_set(r->err, SY_ECORRUPT,
                         "corrupt program: %s at offset %zu", what, r->pos);
  return r->rc;
}

static int get(rbuf *r, void *out, size_t n, const char *what) {
  if (r->rc)
    return r->rc;
  if (n > r->len - r->pos)
    return bad(r, what);
  memcpy(out, r->data + r->pos, n);
  r->pos += n;
  return 0;
}

static uint32_t get_u32(rbuf *r, const char *what) {
  uint8_t x[4] = {0};
  get(r, x, 4, what);
  return sy_le32_get(x);
}

static uint64_t get_u64(rbuf *r, const char *what) {
  uint8_t x[8] = {0};
  get(r, x, 8, what);
  return sy_le64_get(x);
}

static uint8_t get_u8(rbuf *r, const char *what) {
  uint8_t v = 0;
  get(r, &v, 1, what);
  return v;
}

/* A string into the arena, or (arena NULL) on the heap. */
static char *get_str_in(rbuf *r, const char *what, sy__arena *arena) {
  uint32_t n = get_u32(r, what);
  if (r->rc)
    return NULL;
  if (n > MAX_STR || n > r->len - r->pos) {
    bad(r, what);
    return NULL;
  }
  if (memchr(r->data + r->pos, 0, n)) {
    bad(r, what);
    return NULL;
  }
  char *s = arena ? sy__arena_strndup(arena, (const char *)r->data + r->pos, n)
                  : malloc((size_t)n + 1);
  if (!s) {
    if (!r->rc)
      r->rc = sy_error_set(r->err, SY_ENOMEM, "out of memory");
    return NULL;
  }
  if (!arena) {
    memcpy(s, r->data + r->pos, n);
    s[n] = '\0';
  }
  r->pos += n;
  return s;
}

static char *get_str(rbuf *r, const char *what) {
  return get_str_in(r, what, NULL);
}

/* Counts must fit in what is left, at `unit` bytes each at least. */
static int count_ok(rbuf *r, uint32_t n, size_t unit, const char *what) {
  if (r->rc)
    return 0;
  if ((size_t)n > (r->len - r->pos) / unit) {
    bad(r, what);
    return 0;
  }
  return 1;
}

int sy__program_decode(const void *buf, size_t len, sy_program **out,
                       sy_error *err) {
  rbuf r = {buf, len, 0, err, 0};
  *out = NULL;
  if (len < 4 + 4 + 8 || memcmp(buf, PROGRAM_MAGIC, 4) != 0)
    return sy_error_set(err, SY_ECORRUPT,
                        "not a switchyard program (bad magic)");
  const uint8_t *tail = (const uint8_t *)buf + len - 8;
  if (sy_le64_get(tail) != XXH3_64bits(buf, len - 8))
    return sy_error_set(err, SY_ECORRUPT, "corrupt program: checksum mismatch");
  r.len = len - 8;
  r.pos = 4;
  uint8_t ver[2];
  get(&r, ver, 2, "version");
  unsigned version = sy_le16_get(ver);
  if (version < PROGRAM_VERSION_MIN || version > PROGRAM_VERSION)
    return sy_error_set(err, SY_ECORRUPT,
                        "program format version %u; this switchyard reads "
                        "versions %d to %d: recompile the flow",
                        version, PROGRAM_VERSION_MIN, PROGRAM_VERSION);
  get(&r, ver, 2, "reserved");
  if (ver[0] || ver[1])
    return sy_error_set(err, SY_ECORRUPT,
                        "corrupt program: reserved header bytes are not zero");
  sy_program *prog = calloc(1, sizeof *prog);
  if (!prog)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  uint8_t mode = get_u8(&r, "mode");
  if (!r.rc && (mode < SY_MODE_RUN || mode > SY_MODE_APPLY))
    bad(&r, "mode");
  prog->mode = (sy_mode)mode;
  prog->flow_name = get_str(&r, "flow name");
  prog->flow_file = get_str(&r, "flow file");
  prog->state_file = get_str(&r, "state file");
  prog->commit_to = get_str(&r, "commit target");
  get(&r, prog->flow_hash, 16, "flow hash");
  uint32_t n = get_u32(&r, "instruction count");
  /* An instruction takes at least 1+4+5*4+4+4+4+4+16 bytes. */
  if (count_ok(&r, n, 57, "instruction count")) {
    prog->code = calloc(n ? n : 1, sizeof *prog->code);
    if (!prog->code)
      r.rc = sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  for (uint32_t i = 0; i < n && !r.rc; i++) {
    sy_instr *in = &prog->code[i];
    prog->n = i + 1;
    uint8_t op = get_u8(&r, "op");
    if (!r.rc && (op < SY_OP_FEED || op > SY_OP_GET))
      bad(&r, "op");
    in->op = (sy_op)op;
    in->flags = get_u32(&r, "flags");
    in->node = get_str_in(&r, "node", &prog->mem);
    in->target = get_str_in(&r, "target", &prog->mem);
    in->version = get_str_in(&r, "version", &prog->mem);
    in->table = get_str_in(&r, "table", &prog->mem);
    in->label = get_str_in(&r, "label", &prog->mem);
    uint32_t np = get_u32(&r, "parameter count");
    if (count_ok(&r, np, 8, "parameter count") && np) {
      in->params = sy__arena_alloc(&prog->mem, np * sizeof *in->params);
      if (in->params)
        memset(in->params, 0, np * sizeof *in->params);
      if (!in->params)
        r.rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      for (uint32_t p = 0; p < np && !r.rc; p++) {
        in->n_params = p + 1;
        in->params[p].key = get_str_in(&r, "parameter", &prog->mem);
        in->params[p].text = get_str_in(&r, "parameter", &prog->mem);
      }
    }
    uint32_t na = get_u32(&r, "argument count");
    if (count_ok(&r, na, 4, "argument count") && na) {
      in->args = sy__arena_alloc(&prog->mem, na * sizeof *in->args);
      if (!in->args)
        r.rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      for (uint32_t a = 0; a < na && !r.rc; a++) {
        in->n_args = a + 1;
        in->args[a] = get_u32(&r, "argument");
        if (!r.rc && in->args[a] >= i)
          bad(&r, "argument names a later step");
      }
    }
    in->index = get_u32(&r, "index");
    in->n_outputs = get_u32(&r, "output count");
    if (!r.rc && (in->n_outputs == 0 || in->n_outputs > MAX_OUTPUTS))
      bad(&r, "output count");
    get(&r, in->key, 16, "key");
    if (r.rc)
      break;
    /* Shape checks the executor relies on. */
    int shape_ok = 1;
    switch (in->op) {
    case SY_OP_GET:
      shape_ok = in->n_args == 1 &&
                 in->index < prog->code[in->args[0]].n_outputs &&
                 in->n_outputs == 1;
      break;
    case SY_OP_FEED:
    case SY_OP_LOAD:
      shape_ok =
          in->n_args == 0 && (in->op == SY_OP_FEED || in->n_outputs == 1);
      break;
    case SY_OP_SINK: /* results [, source features [, label]] */
      shape_ok = in->n_args >= 1 && in->n_args <= 3 && in->n_outputs == 1;
      break;
    case SY_OP_COMMIT:
      shape_ok = in->n_args == 1 && in->n_outputs == 1;
      break;
    case SY_OP_TRAIN:
    case SY_OP_DUMP:
      shape_ok = in->n_outputs == 1;
      break;
    case SY_OP_APPLY:
      break;
    }
    if ((in->flags & SY_INSTR_STATE_IN) && in->n_args == 0)
      shape_ok = 0;
    if ((in->flags & SY_INSTR_LABEL) && in->n_args == 0)
      shape_ok = 0;
    for (uint32_t a = 0; a < in->n_args && shape_ok; a++) {
      const sy_instr *src = &prog->code[in->args[a]];
      /* Only GET reads a multi-output step. */
      if (src->n_outputs != 1 && in->op != SY_OP_GET)
        shape_ok = 0;
    }
    if (!shape_ok)
      bad(&r, "instruction shape");
  }
  uint32_t nc = get_u32(&r, "code hash count");
  if (count_ok(&r, nc, 4 + 16, "code hash count") && nc) {
    prog->codes = calloc(nc, sizeof *prog->codes);
    if (!prog->codes)
      r.rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < nc && !r.rc; i++) {
      sy__code_pin *pin = &prog->codes[i];
      pin->target = get_str_in(&r, "code hash target", &prog->mem);
      get(&r, pin->hash, 16, "code hash");
      if (!r.rc && !*pin->target)
        bad(&r, "code hash target");
      prog->n_codes = i + 1;
    }
  }
  uint32_t nr = version >= 3 ? get_u32(&r, "resource count") : 0;
  if (count_ok(&r, nr, 4 + 4 * 3 + 16, "resource count") && nr) {
    prog->res = calloc(nr, sizeof *prog->res);
    if (!prog->res)
      r.rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < nr && !r.rc; i++) {
      sy__node_res *res = &prog->res[i];
      res->node = get_str_in(&r, "resource node", &prog->mem);
      res->cpus = get_u32(&r, "cpus");
      res->gpus = get_u32(&r, "gpus");
      res->retries = (int32_t)get_u32(&r, "retries");
      res->memory = get_u64(&r, "memory");
      res->timeout = get_u64(&r, "timeout");
      prog->n_res = i + 1;
      /* sy__step_res searches them: sorted, distinct, and sane. */
      if (!r.rc && (!*res->node || res->retries < -1 ||
                    (i && strcmp(prog->res[i - 1].node, res->node) >= 0)))
        bad(&r, "resources");
    }
  }
  if (!r.rc && r.pos != r.len)
    bad(&r, "trailing bytes");
  if (!r.rc && (!prog->flow_name || !prog->flow_file || !prog->state_file ||
                !prog->commit_to))
    bad(&r, "header");
  if (r.rc) {
    sy_program_free(prog);
    return r.rc;
  }
  *out = prog;
  return 0;
}

/* ---- files ---------------------------------------------------------- */

int sy__write_file_atomic(const char *path, const void *data, size_t len,
                          sy_error *err) {
  return sy_file_write(path, data, len, err);
}

int sy_program_save(const sy_program *prog, const char *path, sy_error *err) {
  void *buf = NULL;
  size_t len = 0;
  int rc = sy__program_encode(prog, &buf, &len);
  if (rc != 0)
    return sy_error_set(err, rc, "out of memory");
  rc = sy__write_file_atomic(path, buf, len, err);
  free(buf);
  return rc;
}

int sy_program_load(const char *path, sy_program **out, sy_error *err) {
  void *data = NULL;
  size_t len = 0;
  int rc = sy_file_read(path, (size_t)1 << 30, &data, &len, err);
  if (rc != 0)
    return rc;
  rc = sy__program_decode(data, len, out, err);
  if (rc != 0)
    sy_error_prefix(err, "%s", path);
  free(data);
  return rc;
}

int sy_program_explain(const sy_program *prog, FILE *out) {
  fprintf(out, "program %s (flow %s), mode %s, %u steps\n", prog->flow_name,
          prog->flow_file, sy_mode_name(prog->mode), prog->n);
  if (prog->state_file && *prog->state_file)
    fprintf(out, "states: %s\n", prog->state_file);
  if (prog->commit_to && *prog->commit_to)
    fprintf(out, "commit to: %s\n", prog->commit_to);
  for (uint32_t i = 0; i < prog->n; i++) {
    const sy_instr *in = &prog->code[i];
    fprintf(out, "%4u  %-40s key %.12s", i, sy__instr_text(prog, i),
            sy__instr_key_hex(prog, i));
    if (in->n_args) {
      fputs("  args", out);
      for (uint32_t a = 0; a < in->n_args; a++)
        fprintf(out, "%s%u", a ? "," : " ", in->args[a]);
    }
    if (in->flags & SY_INSTR_STATE_IN)
      fputs("  (state first)", out);
    if (in->flags & SY_INSTR_LABEL)
      fputs("  (label last)", out);
    if (in->flags & SY_INSTR_VOLATILE)
      fputs("  (not cached)", out);
    if (in->op == SY_OP_FEED && in->label[0])
      fprintf(out, "  label %s", in->label);
    fputc('\n', out);
    for (uint32_t p = 0; p < in->n_params; p++) {
      /* The FEED step's pushdown reads as SQL-like text for humans. */
      if (in->op == SY_OP_FEED &&
          strcmp(in->params[p].key, SY__PUSHDOWN_PARAM) == 0 &&
          sy__query_print(in->params[p].text, out) == 0)
        continue;
      fprintf(out, "        %s = %s\n", in->params[p].key, in->params[p].text);
    }
    const sy__node_res *res = sy__step_res(prog, i);
    if (res) {
      sy_step_resources r;
      char text[160];
      sy__node_res_public(res, &r);
      sy_step_resources_format(&r, text, sizeof text);
      fprintf(out, "        resources: %s\n", text);
    }
  }
  return ferror(out) ? SY_EIO : 0;
}

/* ---- resources ------------------------------------------------------ */

const sy__node_res *sy__step_res(const sy_program *prog, uint32_t i) {
  if (prog->n_res == 0 || i >= prog->n)
    return NULL;
  const sy_instr *in = &prog->code[i];
  if (in->op != SY_OP_APPLY && in->op != SY_OP_TRAIN)
    return NULL;
  size_t lo = 0, hi = prog->n_res;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(prog->res[mid].node, in->node);
    if (c == 0)
      return &prog->res[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* "4G", "1536M", "100": the largest unit that divides the size. */
static void size_text(uint64_t v, char *buf, size_t cap) {
  static const char units[] = "KMGT";
  int u = -1;
  while (u < 3 && v >= 1024 && v % 1024 == 0) {
    v /= 1024;
    u++;
  }
  if (u < 0)
    snprintf(buf, cap, "%llu", (unsigned long long)v);
  else
    snprintf(buf, cap, "%llu%c", (unsigned long long)v, units[u]);
}

/* "1h30m", "90s" -> "1m30s", "2d". */
static void duration_text(uint64_t v, char *buf, size_t cap) {
  static const struct {
    uint64_t secs;
    char unit;
  } parts[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  size_t used = 0;
  buf[0] = '\0';
  for (size_t k = 0; k < 4 && used < cap; k++) {
    if (v < parts[k].secs)
      continue;
    int w = snprintf(buf + used, cap - used, "%llu%c",
                     (unsigned long long)(v / parts[k].secs), parts[k].unit);
    if (w < 0)
      break;
    used += (size_t)w;
    v %= parts[k].secs;
  }
}

size_t sy_step_resources_format(const sy_step_resources *r, char *buf,
                                size_t cap) {
  char num[32];
  size_t used = 0;
  if (!cap)
    return 0;
  buf[0] = '\0';
  if (!r)
    return 0;
#define RES_PUT(...)                                                           \
  do {                                                                         \
    int w_ = snprintf(buf + used, used < cap ? cap - used : 0, __VA_ARGS__);   \
    if (w_ > 0)                                                                \
      used += (size_t)w_;                                                      \
  } while (0)
  if (r->size >= offsetof(sy_step_resources, cpus) + 4 && r->cpus)
    RES_PUT("%scpus=%u", used ? " " : "", r->cpus);
  if (r->size >= offsetof(sy_step_resources, memory) + 8 && r->memory) {
    size_text(r->memory, num, sizeof num);
    RES_PUT("%smemory=%s", used ? " " : "", num);
  }
  if (r->size >= offsetof(sy_step_resources, gpus) + 4 && r->gpus)
    RES_PUT("%sgpus=%u", used ? " " : "", r->gpus);
  if (r->size >= offsetof(sy_step_resources, retries) + 4 && r->retries >= 0)
    RES_PUT("%sretries=%d", used ? " " : "", r->retries);
  if (r->size >= offsetof(sy_step_resources, timeout) + 8 && r->timeout) {
    duration_text(r->timeout, num, sizeof num);
    RES_PUT("%stimeout=%s", used ? " " : "", num);
  }
#undef RES_PUT
  if (used >= cap)
    used = cap - 1;
  return used;
}

void sy__node_res_public(const sy__node_res *in, sy_step_resources *out) {
  out->size = sizeof *out;
  out->cpus = in ? in->cpus : 0;
  out->gpus = in ? in->gpus : 0;
  out->retries = in ? in->retries : -1;
  out->memory = in ? in->memory : 0;
  out->timeout = in ? in->timeout : 0;
}

/* ---- the program type: names, keys, labels, building ----------------- */

const char *sy_op_name(sy_op op) {
  static const char *const names[] = {
      NULL, "feed", "apply", "train", "load", "dump", "commit", "sink", "get"};
  return (op >= SY_OP_FEED && op <= SY_OP_GET) ? names[op] : "?";
}

const char *sy_mode_name(sy_mode mode) {
  switch (mode) {
  case SY_MODE_RUN:
    return "run";
  case SY_MODE_TRAIN:
    return "train";
  case SY_MODE_APPLY:
    return "apply";
  }
  return "?";
}

int sy_mode_parse(const char *text, sy_mode *mode) {
  for (int m = SY_MODE_RUN; m <= SY_MODE_APPLY; m++)
    if (text && strcmp(text, sy_mode_name((sy_mode)m)) == 0) {
      *mode = (sy_mode)m;
      return 0;
    }
  return SY_EINVAL;
}

void sy__hex(const uint8_t *bytes, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * n] = '\0';
}

void sy__instr_finish(sy_program *prog, uint32_t i, const uint8_t *extra,
                      size_t extra_len) {
  sy_instr *in = &prog->code[i];
  /* On the stack: XXH3_createState() was a 576-byte aligned malloc and
   * free per instruction. */
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  keybuf k;
  k.st = NULL;
  k.spare = &state;
  k.len = 0;
  k_str(&k, "switchyard-key-1");
  k_str(&k, sy_op_name(in->op));
  k_u32(&k, in->flags & ~SY_INSTR_VOLATILE);
  k_str(&k, in->target);
  k_str(&k, in->version);
  k_str(&k, in->table);
  k_str(&k, in->label);
  k_u32(&k, in->index);
  k_u32(&k, in->n_outputs);
  k_u32(&k, in->n_params);
  for (uint32_t p = 0; p < in->n_params; p++) {
    k_str(&k, in->params[p].key);
    k_str(&k, in->params[p].text);
  }
  k_u32(&k, in->n_args);
  for (uint32_t a = 0; a < in->n_args; a++)
    k_put(&k, prog->code[in->args[a]].key, 16);
  if (extra && extra_len)
    k_put(&k, extra, extra_len);
  if (k.st) {
    k_flush(&k);
    digest(k.st, in->key);
  } else {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(k.buf, k.len));
    memcpy(in->key, c.digest, 16);
  }
}

/* Step i's label into buf. */
static void format_label(const sy_program *prog, uint32_t i, char *buf,
                         size_t cap) {
  const sy_instr *in = &prog->code[i];
  switch (in->op) {
  case SY_OP_FEED:
    snprintf(buf, cap, "feed %s:%s", in->target, in->table);
    break;
  case SY_OP_GET:
    snprintf(buf, cap, "get %s[%u]", prog->code[in->args[0]].node, in->index);
    break;
  case SY_OP_DUMP:
  case SY_OP_COMMIT:
    snprintf(buf, cap, "%s states", sy_op_name(in->op));
    break;
  case SY_OP_SINK:
    snprintf(buf, cap, "sink %s", in->target);
    break;
  default:
    snprintf(buf, cap, "%s %s (%s)", sy_op_name(in->op), in->node, in->target);
  }
}

static void labels_free(sy__labels *l) {
  if (!l)
    return;
  free(l->text);
  sy__arena_free(&l->mem);
  free(l);
}

/* The program's labels, made now if no reader made them yet; NULL on
 * OOM. Two threads may both make them: one wins, the other frees its. */
static const sy__labels *labels_of(const sy_program *prog) {
  /* The field is atomic and the program was allocated writable. */
  _Atomic(sy__labels *) *slot = (_Atomic(sy__labels *) *)&prog->labels;
  sy__labels *l = atomic_load_explicit(slot, memory_order_acquire);
  if (l)
    return l;
  size_t n = prog->n ? prog->n : 1;
  l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  l->text = sy__big_malloc(n * sizeof *l->text);
  if (!l->text) {
    labels_free(l);
    return NULL;
  }
  char buf[512];
  for (uint32_t i = 0; i < prog->n; i++) {
    format_label(prog, i, buf, sizeof buf);
    l->text[i] = sy__arena_strdup(&l->mem, buf);
  }
  sy__labels *none = NULL;
  if (!atomic_compare_exchange_strong_explicit(
          slot, &none, l, memory_order_acq_rel, memory_order_acquire)) {
    labels_free(l);
    return none; /* the winner's */
  }
  return l;
}

const char *sy__instr_text(const sy_program *prog, uint32_t i) {
  const sy__labels *l = i < prog->n ? labels_of(prog) : NULL;
  return l && l->text[i] ? l->text[i] : "?";
}

/* The program's keys in hex, as labels_of() makes the labels. */
static const char *hexes_of(const sy_program *prog) {
  _Atomic(char *) *slot = (_Atomic(char *) *)&prog->hexes;
  char *h = atomic_load_explicit(slot, memory_order_acquire);
  if (h)
    return h;
  h = sy__big_malloc((prog->n ? prog->n : 1) * (size_t)33);
  if (!h)
    return NULL;
  for (uint32_t i = 0; i < prog->n; i++)
    sy__hex(prog->code[i].key, 16, h + 33 * (size_t)i);
  char *none = NULL;
  if (!atomic_compare_exchange_strong_explicit(
          slot, &none, h, memory_order_acq_rel, memory_order_acquire)) {
    free(h);
    return none; /* the winner's */
  }
  return h;
}

const char *sy__instr_key_hex(const sy_program *prog, uint32_t i) {
  const char *h = i < prog->n ? hexes_of(prog) : NULL;
  return h ? h + 33 * (size_t)i : "";
}

/* The program's one copy of s ("" for NULL), from a hash set of the
 * strings interned so far; NULL on OOM. */
char *sy__program_intern(sy_program *prog, const char *s) {
  if (!s)
    s = "";
  size_t len = strlen(s);
  if (2 * (prog->n_names + 1) > prog->cap_names) {
    uint32_t cap = prog->cap_names ? prog->cap_names * 2 : 16;
    const char **names = calloc(cap, sizeof *names);
    if (!names)
      return NULL;
    for (uint32_t k = 0; k < prog->cap_names; k++) {
      const char *t = prog->names[k];
      if (!t)
        continue;
      size_t j = (size_t)XXH3_64bits(t, strlen(t)) & (cap - 1);
      while (names[j])
        j = (j + 1) & (cap - 1);
      names[j] = t;
    }
    free(prog->names);
    prog->names = names;
    prog->cap_names = cap;
  }
  size_t mask = prog->cap_names - 1;
  size_t j = (size_t)XXH3_64bits(s, len) & mask;
  for (; prog->names[j]; j = (j + 1) & mask)
    if (strcmp(prog->names[j], s) == 0)
      return (char *)prog->names[j];
  char *copy = sy__arena_strndup(&prog->mem, s, len);
  if (copy) {
    prog->names[j] = copy;
    prog->n_names++;
  }
  return copy;
}

int sy__program_emit(sy_program *prog, const sy_instr *tmpl) {
  if (prog->n >= UINT32_MAX / 2)
    return SY_ETOOBIG;
  /* Grow geometrically: one realloc per emit made building a large
   * program quadratic in copies and fragmented the heap. */
  if (prog->n >= prog->cap) {
    uint32_t cap = prog->n < 8 ? 16 : prog->n * 2;
    sy_instr *code = realloc(prog->code, (size_t)cap * sizeof *code);
    if (!code)
      return SY_ENOMEM;
    prog->code = code;
    prog->cap = cap;
  }
  sy_instr *code = prog->code;
  sy_instr *in = &code[prog->n];
  memset(in, 0, sizeof *in);
  in->op = tmpl->op;
  in->flags = tmpl->flags;
  in->index = tmpl->index;
  in->n_outputs = tmpl->n_outputs ? tmpl->n_outputs : 1;
  in->node = sy__arena_strdup(&prog->mem, tmpl->node ? tmpl->node : "");
  in->target = sy__program_intern(prog, tmpl->target);
  in->version = sy__program_intern(prog, tmpl->version);
  in->table = sy__program_intern(prog, tmpl->table);
  in->label = sy__program_intern(prog, tmpl->label);
  int rc =
      (!in->node || !in->target || !in->version || !in->table || !in->label)
          ? SY_ENOMEM
          : 0;
  if (rc == 0 && tmpl->n_args) {
    in->args = sy__arena_alloc(&prog->mem, tmpl->n_args * sizeof *in->args);
    if (in->args) {
      memcpy(in->args, tmpl->args, tmpl->n_args * sizeof *in->args);
      in->n_args = tmpl->n_args;
    } else {
      rc = SY_ENOMEM;
    }
  }
  if (rc == 0 && tmpl->n_params) {
    in->params =
        sy__arena_alloc(&prog->mem, tmpl->n_params * sizeof *in->params);
    if (!in->params)
      rc = SY_ENOMEM;
    for (uint32_t p = 0; rc == 0 && p < tmpl->n_params; p++) {
      in->params[p].key = sy__program_intern(prog, tmpl->params[p].key);
      in->params[p].text = sy__arena_strdup(&prog->mem, tmpl->params[p].text);
      in->n_params = p + 1;
      if (!in->params[p].key || !in->params[p].text)
        rc = SY_ENOMEM;
    }
  }
  prog->n++; /* freed with the program even when incomplete */
  return rc == 0 ? (int)(prog->n - 1) : rc;
}

void sy_program_free(sy_program *prog) {
  if (!prog)
    return;
  free(prog->code);
  free(prog->codes);
  free(prog->res);
  sy__arena_free(&prog->mem);
  free(prog->names);
  labels_free(atomic_load_explicit(&prog->labels, memory_order_acquire));
  free(atomic_load_explicit(&prog->hexes, memory_order_acquire));
  free(prog->flow_name);
  free(prog->flow_file);
  free(prog->state_file);
  free(prog->commit_to);
  free(prog);
}

sy_mode sy_program_mode(const sy_program *prog) {
  return prog->mode;
}
void sy_program_flow_hash_hex(const sy_program *prog, char out[33]) {
  sy__hex(prog->flow_hash, 16, out);
}

const char *sy_program_name(const sy_program *prog) {
  return prog->flow_name ? prog->flow_name : "";
}
const char *sy_program_flow_file(const sy_program *prog) {
  return prog->flow_file ? prog->flow_file : "";
}

/* ---- building a program by hand (flow.h, ABI 1.3) --------------------- */

int sy_program_new(sy_mode mode, const char *name, sy_program **out,
                   sy_error *err) {
  *out = NULL;
  sy_program *prog = calloc(1, sizeof *prog);
  if (!prog)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  prog->mode = mode;
  prog->flow_name = strdup(name ? name : "");
  prog->flow_file = strdup("");
  prog->state_file = strdup("");
  if (!prog->flow_name || !prog->flow_file || !prog->state_file) {
    sy_program_free(prog);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  *out = prog;
  return 0;
}

int sy_program_add_apply(sy_program *prog, const char *node, const char *actor,
                         const char *version, const uint32_t *args,
                         uint32_t n_args, const char *const *param_keys,
                         const char *const *param_values, uint32_t n_params,
                         uint32_t n_outputs) {
  if (!prog || !actor || !version || (n_args && !args) ||
      (n_params && (!param_keys || !param_values)))
    return SY_EINVAL;
  for (uint32_t a = 0; a < n_args; a++)
    if (args[a] >= prog->n)
      return SY_EINVAL;
  sy_param small[8], *params = small;
  if (n_params > 8 && !(params = malloc(n_params * sizeof *params)))
    return SY_ENOMEM;
  int rc = 0;
  for (uint32_t p = 0; p < n_params; p++) {
    if (rc == 0 && (!param_keys[p] || !param_values[p] ||
                    (p && strcmp(param_keys[p - 1], param_keys[p]) >= 0)))
      rc = SY_EINVAL;
    params[p] = (sy_param){(char *)param_keys[p], (char *)param_values[p]};
  }
  if (rc == 0) {
    sy_instr t = {.op = SY_OP_APPLY,
                  .node = (char *)(node ? node : ""),
                  .target = (char *)actor,
                  .version = (char *)version,
                  .args = (uint32_t *)args,
                  .n_args = n_args,
                  .n_outputs = n_outputs ? n_outputs : 1,
                  .params = params,
                  .n_params = n_params};
    rc = sy__program_emit(prog, &t);
    if (rc >= 0)
      sy__instr_finish(prog, (uint32_t)rc, NULL, 0);
  }
  if (params != small)
    free(params);
  return rc;
}

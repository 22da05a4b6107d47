/*
 * program.c - the program file: save, load, explain.
 *
 * Layout (all integers little-endian; str = u32 length + bytes, no NUL):
 *
 *   "SYPG" u16 version(=2) u16 reserved(=0)
 *   u8 mode  str flow_name  str flow_file  str state_file  str commit_to
 *   16B flow_hash
 *   u32 n, then n instructions:
 *     u8 op  u32 flags  str node  str target  str version  str table
 *     str label  u32 n_params (str key, str text)*  u32 n_args (u32 arg)*
 *     u32 index  u32 n_outputs  16B key
 *   u32 n_codes, then per distinct actor target: str target  16B hash of
 *     the plugin file it was compiled against (zero: no file)
 *   u64 XXH3-64 of every byte before it
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
#include "switchyard/endian.h"
#include "switchyard/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define PROGRAM_MAGIC "SYPG"
#define PROGRAM_VERSION 2
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
    return sy_error_set(err, SY_ECORRUPT,
                        "corrupt program: checksum mismatch");
  r.len = len - 8;
  r.pos = 4;
  uint8_t ver[2];
  get(&r, ver, 2, "version");
  unsigned version = sy_le16_get(ver);
  if (version != PROGRAM_VERSION)
    return sy_error_set(err, SY_ECORRUPT,
                        "program format version %u; this switchyard reads "
                        "version %d: recompile the flow",
                        version, PROGRAM_VERSION);
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
      shape_ok = in->n_args == 0 && (in->op == SY_OP_FEED || in->n_outputs == 1);
      break;
    case SY_OP_SINK:
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
    for (uint32_t p = 0; p < in->n_params; p++)
      fprintf(out, "        %s = %s\n", in->params[p].key, in->params[p].text);
  }
  return ferror(out) ? SY_EIO : 0;
}

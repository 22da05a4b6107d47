/*
 * flow_write.c - a validated flow written back as flow-file text
 * (sy_flow_text): the inverse of flow.c's reader, whole (includes
 * resolved), so that a release does not depend on files that may change.
 */
#include "flow.h"

#include <inttypes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quoted(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if (*s == '\n')
      fputs("\\n", f);
    else if (*s == '\t')
      fputs("\\t", f);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

/* A node's resources, defaults applied (the text has no `defaults`):
 * memory in bytes and the timeout in seconds, as strings. */
static void write_res(FILE *f, const sy_flow_res *r) {
  if (r->cpus || r->gpus || r->memory) {
    fputs("\n    resources = { ", f);
    if (r->cpus)
      fprintf(f, "cpus = %u; ", r->cpus);
    if (r->memory)
      fprintf(f, "memory = \"%llu\"; ", (unsigned long long)r->memory);
    if (r->gpus)
      fprintf(f, "gpus = %u; ", r->gpus);
    fputs("};", f);
  }
  if (r->retries >= 0)
    fprintf(f, " retries = %d;", r->retries);
  if (r->timeout)
    fprintf(f, " timeout = \"%llus\";", (unsigned long long)r->timeout);
}

static void write_input(FILE *f, const sy_flow_input *in) {
  char ref[300];
  if (in->output)
    snprintf(ref, sizeof ref, "%s:%u", in->node, in->output);
  else
    snprintf(ref, sizeof ref, "%s", in->node);
  quoted(f, ref);
}

/* One scalar as libconfig reads it back with the same type. */
static void write_scalar(FILE *f, sy_flow_ptype type, const char *text) {
  if (type == SY_FLOW_PFLOAT)
    fprintf(f, "%s%s", text, strpbrk(text, ".eEn") ? "" : ".0");
  else if (type == SY_FLOW_PSTRING)
    quoted(f, text);
  else
    fputs(text, f);
}

static int write_param(FILE *f, const sy_flow_param *p) {
  fprintf(f, "%s = ", p->key);
  if (p->ref) {
    fputs("{ param = ", f);
    quoted(f, p->ref);
    fputs("; }; ", f);
    return 0;
  }
  switch (p->type) {
  case SY_FLOW_PINT:
  case SY_FLOW_PBOOL:
    fputs(p->text, f);
    break;
  case SY_FLOW_PFLOAT:
    /* libconfig needs a '.' or an exponent to read a float back. */
    fprintf(f, "%s%s", p->text, strpbrk(p->text, ".eEn") ? "" : ".0");
    break;
  case SY_FLOW_PSTRING:
    quoted(f, p->text);
    break;
  case SY_FLOW_PLIST: {
    /* Lists are kept as comma-joined text; as strings they mean the same
     * to every list option. */
    fputc('[', f);
    const char *s = p->text;
    int first = 1;
    while (*s) {
      const char *comma = strchr(s, ',');
      size_t n = comma ? (size_t)(comma - s) : strlen(s);
      char *item = strndup(s, n);
      if (!item)
        return SY_ENOMEM;
      fputs(first ? "" : ", ", f);
      quoted(f, item);
      free(item);
      first = 0;
      s += n + (comma != NULL);
    }
    fputc(']', f);
    break;
  }
  }
  fputs("; ", f);
  return 0;
}

/* The source's pushdown keys (ABI 1.4), as the loader reads them. */
static void write_pushdown(FILE *out, const sy_flow *f) {
  const sy_feed_query *q = &f->source.query;
  if (!f->source.has_query)
    return;
  if (q->n_columns) {
    fputs("columns = [", out);
    for (size_t i = 0; i < q->n_columns; i++) {
      fputs(i ? ", " : "", out);
      quoted(out, q->columns[i]);
    }
    fputs("]; ", out);
  }
  if (q->n_where) {
    fputs("where = (", out);
    for (size_t i = 0; i < q->n_where; i++) {
      const sy_feed_cond *c = &q->where[i];
      fputs(i ? ", { column = " : " { column = ", out);
      quoted(out, c->column);
      fputs("; op = ", out);
      quoted(out, sy_cmp_sql(c->op));
      fputs("; value = ", out);
      if (c->type == SY_COL_STR) {
        quoted(out, c->str);
      } else if (c->type == SY_COL_I64) {
        /* libconfig reads an int beyond 32 bits only with an L. */
        fprintf(out, "%" PRId64 "%s", c->i64,
                c->i64 > INT32_MAX || c->i64 < INT32_MIN ? "L" : "");
      } else {
        char num[64];
        snprintf(num, sizeof num, "%.17g", c->f64);
        fprintf(out, "%s%s", num, strpbrk(num, ".eEn") ? "" : ".0");
      }
      fputs("; }", out);
    }
    fputs(" ); ", out);
  }
  if (q->n_order) {
    fputs("order = [", out);
    for (size_t i = 0; i < q->n_order; i++) {
      char *key = NULL;
      fputs(i ? ", " : "", out);
      if (asprintf(&key, "%s %s", q->order[i].column,
                   q->order[i].desc ? "desc" : "asc") < 0)
        key = NULL;
      quoted(out, key ? key : q->order[i].column);
      free(key);
    }
    fputs("]; ", out);
  }
  if (q->limit >= 0)
    fprintf(out, "limit = %" PRId64 "%s; ", q->limit,
            q->limit > INT32_MAX ? "L" : "");
}

static int write_flow(FILE *out, const sy_flow *f) {
  int rc = 0;
  fputs("name = ", out);
  quoted(out, f->name);
  fputs(";\nsource = { ", out);
  if (f->source.feed) {
    fputs("feed = ", out);
    quoted(out, f->source.feed);
    fputs("; ", out);
  }
  fputs("table = ", out);
  quoted(out, f->source.table);
  fputs("; ", out);
  if (f->source.label) {
    fputs("label = ", out);
    quoted(out, f->source.label);
    fputs("; ", out);
  }
  write_pushdown(out, f);
  fputs("};\n", out);
  if (f->n_decls) {
    /* The values in use (-p, --params or the defaults) become the
     * defaults: a release records the values it was made with. */
    fputs("params = {\n", out);
    for (size_t i = 0; i < f->n_decls; i++) {
      const sy_flow_decl *d = &f->decls[i];
      fprintf(out, "  %s = { type = \"%s\"; ", d->name,
              sy__ptype_name(d->type));
      if (d->text) {
        fputs("default = ", out);
        write_scalar(out, d->type, d->text);
        fputs("; ", out);
      }
      if (d->help) {
        fputs("help = ", out);
        quoted(out, d->help);
        fputs("; ", out);
      }
      fputs("};\n", out);
    }
    fputs("};\n", out);
  }
  fputs("actors = (\n", out);
  for (size_t i = 0; i < f->n_nodes && rc == 0; i++) {
    const sy_flow_node *n = &f->nodes[i];
    fputs("  { id = ", out);
    quoted(out, n->id);
    fputs("; actor = ", out);
    quoted(out, n->actor);
    fputs("; inputs = [", out);
    for (size_t k = 0; k < n->n_inputs; k++) {
      fputs(k ? ", " : "", out);
      write_input(out, &n->inputs[k]);
    }
    fputs("];", out);
    if (n->n_params) {
      fputs("\n    params = { ", out);
      for (size_t k = 0; k < n->n_params && rc == 0; k++)
        rc = write_param(out, &n->params[k]);
      fputs("};", out);
    }
    write_res(out, n->res);
    if (n->n_sweeps) {
      fputs("\n    sweep = { ", out);
      for (size_t k = 0; k < n->n_sweeps; k++) {
        const sy_flow_sweep *w = &n->sweeps[k];
        fprintf(out, "%s = (", w->key);
        for (size_t v = 0; v < w->n_values; v++) {
          fputs(v ? ", " : "", out);
          write_scalar(out, w->types[v], w->values[v]);
        }
        fputs("); ", out);
      }
      fputs("};", out);
    }
    fprintf(out, " }%s\n", i + 1 < f->n_nodes ? "," : "");
  }
  fputs(");\n", out);
  if (f->sink.instance) {
    fputs("sink = { instance = ", out);
    quoted(out, f->sink.instance);
    if (f->sink.input.node) {
      fputs("; input = ", out);
      write_input(out, &f->sink.input);
    }
    fputs("; };\n", out);
  }
  return rc;
}

int sy_flow_text(const sy_flow *flow, char **text, size_t *len) {
  *text = NULL;
  size_t n = 0;
  FILE *f = open_memstream(text, &n);
  if (!f)
    return SY_ENOMEM;
  int rc = write_flow(f, flow);
  if (ferror(f))
    rc = SY_ENOMEM;
  if (fclose(f) != 0 || !*text)
    rc = SY_ENOMEM;
  if (rc) {
    free(*text);
    *text = NULL;
    return rc;
  }
  if (len)
    *len = n;
  return 0;
}

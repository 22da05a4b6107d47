/*
 * states.c - a job's states in a registry: what an apply program's LOAD
 * steps read (a generation) and what a train program's COMMIT writes (a
 * new generation, with its tag). Programs name the registry by a text
 * reference, "registry:INSTANCE:PROJECT:RELEASE[:GENERATION]"; making
 * those references (releases, compiling against a registry) is
 * services/lifecycle.c's.
 */
#include "job.h"
#include "switchyard/buf.h"
#include "switchyard/lifecycle.h"
#include "switchyard/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct reg {
  sy_instance *inst;
  const sy_registry_ops *ops;
  void *self;
  const char *name;
} reg;

/* Splits "a:b:c" into at most max parts (in place); returns the count. */
static int split_ref(char *s, char **parts, int max) {
  int n = 0;
  while (n < max) {
    parts[n++] = s;
    char *colon = strchr(s, ':');
    if (!colon)
      break;
    *colon = '\0';
    s = colon + 1;
  }
  return n;
}

/* Parses "registry:INST:PROJECT:RELEASE[:GEN]" and opens INST. */
static int open_ref(sy_platform *p, const char *ref, reg *r, char **copy,
                    char **project, char **release, uint32_t *gen,
                    sy_error *err) {
  char *parts[5];
  memset(r, 0, sizeof *r);
  *copy = strdup(ref);
  if (!*copy)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  int n = split_ref(*copy, parts, 5);
  *gen = 0;
  if (n < 4 || strcmp(parts[0], "registry") != 0 ||
      (n == 5 && sy_registry_generation_parse(parts[4], gen) != 0))
    return sy_error_set(err, SY_ECORRUPT, "bad registry reference '%s'", ref);
  *project = parts[2];
  *release = parts[3];
  int rc = sy_platform_registry(p, parts[1], &r->inst, &r->name, err);
  if (rc)
    return rc;
  r->ops = sy_instance_provider(r->inst)->ops;
  r->self = sy_instance_self(r->inst);
  return 0;
}

int sy__registry_states(sy_job *job, sy_value **bundle, sy_error *err) {
  reg r;
  char *copy = NULL, *project, *release;
  uint32_t gen;
  sy_value *tag = NULL;
  int rc = open_ref(job->platform, job->prog->state_file, &r, &copy, &project,
                    &release, &gen, err);
  if (rc == 0) {
    uint32_t found = 0;
    rc = r.ops->get_generation(r.self, project, release, gen, bundle, &tag,
                               &found, err);
    if (rc)
      sy_error_prefix(err, "registry.%s", r.name);
    sy_instance_destroy(r.inst);
  }
  sy_value_unref(tag);
  free(copy);
  return rc;
}

int sy__registry_commit(sy_job *job, const sy_value *bundle, sy_error *err) {
  reg r;
  char *copy = NULL, *project, *release;
  uint32_t gen;
  int rc = open_ref(job->platform, job->prog->commit_to, &r, &copy, &project,
                    &release, &gen, err);
  if (rc) {
    free(copy);
    return rc;
  }
  char flow_hex[33], when[64] = "";
  sy__hex(job->prog->flow_hash, 16, flow_hex);
  time_t now = time(NULL);
  struct tm tm;
  if (gmtime_r(&now, &tm))
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const char *data_key = "";
  for (uint32_t s = 0; s < job->n; s++)
    if (job->prog->code[s].op == SY_OP_FEED) {
      data_key = sy__instr_key_hex(job->prog, s);
      break;
    }
  /* The flow parameters' values, which the compiler put on the COMMIT
   * step: one "param.NAME: VALUE (ORIGIN)" line each, control characters
   * of a string value written as '?' so that a line stays one line. */
  sy_buf pb = SY_BUF_INIT;
  for (uint32_t s = 0; s < job->n; s++) {
    const sy_instr *in = &job->prog->code[s];
    if (in->op != SY_OP_COMMIT)
      continue;
    for (uint32_t i = 0; i < in->n_params; i++) {
      sy_buf_printf(&pb, "param.%s: ", in->params[i].key);
      for (const char *c = in->params[i].text; *c; c++)
        sy_buf_printf(&pb, "%c",
                      (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c);
      sy_buf_printf(&pb, "\n");
    }
    break;
  }
  char *text = NULL;
  int len = pb.failed
                ? -1
                : asprintf(&text,
                           "switchyard-tag 1\nproject: %s\nrelease: %s\n"
                           "time: %s\ndata_key: %s\nrows: %llu\n"
                           "flow_hash: %s\n%s",
                           project, release, when, data_key,
                           (unsigned long long)atomic_load(&job->feed_rows),
                           flow_hex, pb.data ? pb.data : "");
  free(pb.data);
  sy_value *tag = NULL;
  if (len < 0 || sy_bytes_new(text, (size_t)len, "text/plain", &tag) != 0) {
    if (len < 0)
      text = NULL;
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
  } else {
    uint32_t generation = 0;
    rc = r.ops->put_generation(r.self, project, release, bundle, tag,
                               &generation, err);
    if (rc)
      sy_error_prefix(err, "registry.%s", r.name);
    else
      job->generation = generation;
  }
  sy_value_unref(tag);
  free(text);
  sy_instance_destroy(r.inst);
  free(copy);
  return rc;
}

const char *sy_program_origin(const sy_program *prog) {
  const char *ref = prog->commit_to[0] ? prog->commit_to : prog->state_file;
  if (strncmp(ref, "registry:", 9) != 0)
    return "";
  const char *instance_end = strchr(ref + 9, ':');
  return instance_end ? instance_end + 1 : "";
}

uint32_t sy_job_generation(const sy_job *job) {
  return job->generation;
}

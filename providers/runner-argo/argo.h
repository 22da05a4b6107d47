/*
 * argo.h - pieces of runner-argo shared between its files: the YAML
 * writer (yaml.c) and the submitter (submit.c). See argo.c for the whole.
 */
#ifndef SWITCHYARD_RUNNER_ARGO_H
#define SWITCHYARD_RUNNER_ARGO_H

#include <stddef.h>
#include <stdint.h>

#include <switchyard/switchyard.h>

/* ---- yaml.c: emitting YAML text (never parsing it) ---------------------- */

/* Appends s as a YAML double-quoted scalar: '"' and '\' escaped, control
 * characters and DEL as \xNN, line and paragraph separators as \L and
 * \P; other bytes (UTF-8) as they are. Sticky failure (sy_buf). */
void argo_yaml_str(sy_buf *b, const char *s);
/* Appends `depth` levels of two spaces. */
void argo_yaml_indent(sy_buf *b, int depth);
/* "key: "value"\n" at depth. */
void argo_yaml_kv(sy_buf *b, int depth, const char *key, const char *value);
/* A DNS-1123 label made from text: lower case letters, digits and '-',
 * starting with a letter, at most max bytes (>= 2), never ending in '-';
 * written to out (max + 1 bytes). "" becomes "x". */
void argo_dns_name(const char *text, char *out, size_t max);
/* Appends the base64 (RFC 4648, no line breaks) of data. */
void argo_base64(sy_buf *b, const void *data, size_t len);

/* ---- submit.c: handing the Workflow to the cluster ---------------------- */

/* The Workflow's step tasks, for following them: task k is named
 * name[k] and runs the steps s with unit_of[s] == k. */
typedef struct argo_tasks {
  size_t n;
  char *const *name;
  const uint32_t *unit_of;
} argo_tasks;

/* Looks `name` up on PATH: 1 with a malloc()ed path in *out, else 0. */
int argo_which(const char *name, char **out);
/* Submits the Workflow in `file`: `argo submit --wait FILE` when argo is
 * on PATH, else `kubectl create -f FILE -o name` and a `kubectl get NAME
 * -o json` every poll_ns until the phase is Succeeded, Failed or Error;
 * the status's nodes (parsed with jansson) become the steps' STARTED,
 * DONE, FAILED and SKIPPED events, task by task. A cancel of job (Ctrl-C)
 * stops the polling and deletes the Workflow (SY_ECANCELED). 0 when it
 * succeeded; SY_ECONFIG when neither command is found; SY_EIO when one
 * fails or the Workflow does. */
int argo_submit(sy_job *job, const char *file, int64_t poll_ns,
                const argo_tasks *tasks, sy_error *err);

#endif

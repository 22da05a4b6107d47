/*
 * job.h - what the callable (and tests) need from job.c beyond runner.h.
 */
#ifndef SY_CORE_JOB_H
#define SY_CORE_JOB_H

#include "program.h"

/* sy_job_new, with bind_io = 0 to skip creating the feed and sink
 * instances (the callable replaces both). */
int sy__job_new(sy_platform *p, const sy_program *prog,
                const sy_job_options *opts, int bind_io, sy_job **out,
                sy_error *err);
/* Forgets every step's values except those marked in keep. */
void sy__job_reset(sy_job *job, const uint8_t *keep);
/* Output k of step s, borrowed, or NULL when not computed (or released). */
sy_value *sy__job_output(const sy_job *job, size_t s, size_t k);
/* Splits a table into features and the label column. */
int sy__split_label(const sy_value *table, const char *label,
                    sy_value **features, sy_value **lab, sy_error *err);

#endif /* SY_CORE_JOB_H */

/* procs.c - placeholder until the process pool lands. */
#include "dask.h"

int dask_procs_run(dask *d, sy_job *job, sy_error *err) {
  (void)d;
  (void)job;
  return sy_error_set(err, SY_ENOTSUP,
                      "runner dask: mode processes is not built yet");
}

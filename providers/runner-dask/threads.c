/* threads.c - placeholder until the work-stealing pool lands: runs the
 * steps in order so the plugin loads and passes conformance. */
#include "dask.h"

int dask_threads_run(dask *d, sy_job *job, sy_error *err) {
  (void)d;
  for (size_t s = 0; s < sy_job_size(job); s++) {
    int rc = sy_job_run_step(job, s, err);
    if (rc)
      return rc;
  }
  return 0;
}

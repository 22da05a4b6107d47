/*
 * fuzz_archive.c - libFuzzer target for the registry-archive provider's
 * read path (and, for what it accepts, its copying write path).
 *
 * Built and run by tests/fuzz/run.sh from the two lines below, after an
 * in-tree ./configure (error.c needs the generated version.h).
 *
 * Each input is written as the registry's archive file. The target lists
 * everything and reads back every release and generation listed (and the
 * latest of each), which must never crash, leak or read out of bounds,
 * whatever the bytes. When the listing succeeds, it also commits one
 * release on top: an archive the reader accepted must be copied into a
 * new archive that reads back with one more entry, or refused with an
 * error, never half-written.
 */
// clang-format off
// sources: providers/registry-archive/registry_archive.c core/value.c core/error.c services/release_version.c
// libs: -larchive -lxxhash -lm
// clang-format on
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../providers/registry-archive/registry_archive.h"

#define MAX_SEEN 32

typedef struct seen {
  char project[MAX_SEEN][128];
  char release[MAX_SEEN][128];
  uint32_t gen[MAX_SEEN];
  size_t n, total;
} seen;

static int visit(void *ud, const sy_registry_entry *e) {
  seen *s = ud;
  s->total++;
  if (s->n < MAX_SEEN && strlen(e->project) < 128 && strlen(e->release) < 128) {
    strcpy(s->project[s->n], e->project);
    strcpy(s->release[s->n], e->release);
    s->gen[s->n] = e->generation;
    s->n++;
  }
  return 0;
}

static char dir[64], path[96];
static void *reg;

static void cleanup(void) {
  char p[128];
  registry_archive_provider.destroy(reg);
  unlink(path);
  snprintf(p, sizeof p, "%s.lock", path);
  unlink(p);
  rmdir(dir);
}

static const sy_registry_ops *ops(void) {
  return registry_archive_provider.ops;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sy_error err;
  if (!reg) {
    /* tmpfs where there is one: every commit fsync()s. */
    snprintf(dir, sizeof dir, "%s/sy-fuzz-archive-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir))
      abort();
    snprintf(path, sizeof path, "%s/registry.tar", dir);
    /* 1 MiB per entry keeps each run quick; the limit logic is the same. */
    registry_archive_config c = {path, RA_FORMAT_TAR, RA_COMPRESS_NONE,
                                 1 << 20};
    if (registry_archive_provider.create(&c, &reg, &err) != 0)
      abort();
    atexit(cleanup);
  }
  FILE *f = fopen(path, "wb");
  if (!f)
    abort();
  if (size && fwrite(data, 1, size, f) != size)
    abort();
  fclose(f);

  seen s;
  memset(&s, 0, sizeof s);
  if (ops()->list(reg, NULL, NULL, visit, &s, &err) != 0)
    return 0;
  for (size_t i = 0; i < s.n; i++) {
    sy_value *a = NULL, *b = NULL;
    char *found = NULL;
    uint32_t g = 0;
    if (s.gen[i] == 0) {
      ops()->get_release(reg, s.project[i], s.release[i], &a, &found, &err);
      sy_value_unref(a);
      free(found);
      found = NULL;
      ops()->get_release(reg, s.project[i], NULL, &a, &found, &err);
      sy_value_unref(a);
      free(found);
      ops()->get_generation(reg, s.project[i], s.release[i], 0, &a, &b, &g,
                            &err);
    } else {
      ops()->get_generation(reg, s.project[i], s.release[i], s.gen[i], &a, &b,
                            &g, &err);
    }
    sy_value_unref(a);
    sy_value_unref(b);
  }

  /* What reads must copy: commit one more release and list again. */
  sy_value *m = NULL;
  if (sy_bytes_new("m", 1, NULL, &m) != 0)
    abort();
  int rc = ops()->put_release(reg, "fuzz", "99999999", m, &err);
  sy_value_unref(m);
  if (rc == 0) {
    seen after;
    memset(&after, 0, sizeof after);
    if (ops()->list(reg, NULL, NULL, visit, &after, &err) != 0 ||
        after.total != s.total + 1) {
      fprintf(stderr, "copy lost entries: %zu -> %zu: %s\n", s.total,
              after.total, err.message);
      abort();
    }
  }
  return 0;
}

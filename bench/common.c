/*
 * bench/common.c - the set-up the bench programs share; see common.h.
 */
#include "common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  if (!in)
    return -1;
  FILE *out = fopen(to, "wb");
  int rc = out ? 0 : -1;
  char buf[65536];
  size_t n;
  while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n)
      rc = -1;
  if (ferror(in))
    rc = -1;
  fclose(in);
  if (out && fclose(out) != 0)
    rc = -1;
  return rc == 0 ? chmod(to, 0755) : -1;
}

int bench_setup(const char *prog, char *dir) {
  char path[4096], cwd[2048], env[8192];
  if (!mkdtemp(dir)) {
    fprintf(stderr, "%s: cannot create %s: ", prog, dir);
    perror(NULL);
    return -1;
  }
  if (chmod(dir, 0755) != 0 || !getcwd(cwd, sizeof cwd)) {
    perror(prog);
    goto fail;
  }
  snprintf(path, sizeof path, "%s/plugins", dir);
  if (mkdir(path, 0755) != 0 || chmod(path, 0755) != 0) {
    fprintf(stderr, "%s: cannot create %s: ", prog, path);
    perror(NULL);
    goto fail;
  }
  snprintf(path, sizeof path, "%s/plugins/actor-bench.so", dir);
  if (copy_file("bench/.libs/actor-bench.so", path) != 0) {
    fprintf(stderr,
            "%s: cannot copy bench/.libs/actor-bench.so (run from "
            "the top of the built tree after make)\n",
            prog);
    goto fail;
  }
  snprintf(env, sizeof env, "%s/plugins:%s/plugins.d", dir, cwd);
  if (setenv("SWITCHYARD_PLUGIN_PATH", env, 1) != 0) {
    perror(prog);
    goto fail;
  }
  snprintf(path, sizeof path, "%s/t.csv", dir);
  FILE *t = fopen(path, "w");
  int bad = !t || fputs("a\n1\n", t) == EOF;
  if ((t && fclose(t) != 0) || bad) {
    fprintf(stderr, "%s: cannot write %s\n", prog, path);
    goto fail;
  }
  return 0;
fail:
  (void)bench_cleanup(dir);
  return -1;
}

int bench_cleanup(const char *dir) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

int bench_write_layered_flow(const char *path, size_t n, size_t *steps) {
  return bench_write_layered_spin_flow(path, n, 0, steps);
}

/* A body: bench.spin of `us` microseconds, or bench.empty when us is 0. */
static void body(FILE *f, long us) {
  if (us > 0)
    fprintf(f, "actor = \"bench.spin\"; params = { us = %ld; };", us);
  else
    fprintf(f, "actor = \"bench.empty\";");
}

int bench_write_layered_spin_flow(const char *path, size_t n, long us,
                                  size_t *steps) {
  size_t w = 2;
  while ((w + 1) * (w + 1) <= n)
    w++;
  size_t layers = n / w < 2 ? 2 : n / w;
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  uint64_t seed = 42;
  fprintf(f, "name = \"layered\";\nactors = (\n");
  for (size_t i = 0; i < w; i++)
    fprintf(f, "  { id = \"s%zu\"; actor = \"bench.source\"; inputs = []; },\n",
            i);
  for (size_t l = 1; l < layers; l++)
    for (size_t i = 0; i < w; i++) {
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      unsigned k = 2 + (unsigned)(seed >> 33) % 2;
      fprintf(f, "  { id = \"n%zu\"; ", l * w + i);
      body(f, us);
      fprintf(f, " inputs = [");
      for (unsigned j = 0; j < k; j++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t a = (l - 1) * w + (size_t)(seed >> 33) % w;
        fprintf(f, "%s\"%s%zu\"", j ? ", " : "", l == 1 ? "s" : "n", a);
      }
      fprintf(f, "]; },\n");
    }
  fprintf(f, "  { id = \"end\"; actor = \"bench.empty\"; inputs = [");
  for (size_t i = 0; i < w; i++)
    fprintf(f, "%s\"%s%zu\"", i ? ", " : "", layers == 1 ? "s" : "n",
            (layers - 1) * w + i);
  fprintf(f, "]; }\n);\n");
  *steps = layers * w + 1;
  return fclose(f) == 0 ? 0 : -1;
}

int bench_write_flow(const char *path, size_t n) {
  return bench_write_spin_flow(path, n, 0);
}

int bench_write_spin_flow(const char *path, size_t n, long us) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f, "name = \"chain\";\nsource = { table = \"t\"; };\n"
             "actors = (\n");
  for (size_t i = 0; i < n; i++) {
    if (us > 0)
      fprintf(f,
              "  { id = \"a%zu\"; actor = \"bench.spin\"; params = { us = "
              "%ld; }; }%s\n",
              i, us, i + 1 < n ? "," : "");
    else
      fprintf(f, "  { id = \"a%zu\"; actor = \"bench.empty\"; }%s\n", i,
              i + 1 < n ? "," : "");
  }
  fprintf(f, ");\n");
  return fclose(f) == 0 ? 0 : -1;
}

int bench_write_wide_flow(const char *path, size_t n, long us) {
  if (n < 3)
    n = 3;
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f, "name = \"wide\";\nsource = { table = \"t\"; };\n"
             "actors = (\n");
  for (size_t i = 0; i < n - 1; i++) {
    fprintf(f, "  { id = \"a%zu\"; ", i);
    body(f, us);
    fprintf(f, " inputs = [\"source\"]; },\n");
  }
  fprintf(f, "  { id = \"end\"; actor = \"bench.empty\"; inputs = [");
  for (size_t i = 0; i < n - 1; i++)
    fprintf(f, "%s\"a%zu\"", i ? ", " : "", i);
  fprintf(f, "]; }\n);\n");
  return fclose(f) == 0 ? 0 : -1;
}

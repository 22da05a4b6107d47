/*
 * bench/registry - makes an archive registry file holding one release
 * with N generations, quickly (one write), for bench/registry.sh and the
 * registry end-to-end test to export and import.
 *
 *   bench/registry PATH N [BYTES]     (run from the top of the built tree)
 *
 * Writes release bench:1.0 (a manifest that is a valid release of a
 * one-actor flow) with generations 1..N, each a states bundle of BYTES
 * bytes (default 256) and a tag, to the archive file PATH (which must not
 * exist), through the archive provider's put_release_all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <switchyard/switchyard.h>

typedef struct src {
  unsigned long n, at;
  size_t bytes;
} src;

static int next(void *ud, sy_value **states, sy_value **tag, sy_error *err) {
  src *s = ud;
  if (s->at == s->n)
    return 0;
  s->at++;
  char *b = malloc(s->bytes ? s->bytes : 1);
  if (!b)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (size_t i = 0; i < s->bytes; i++)
    b[i] = (char)('a' + (s->at * 7 + i) % 26);
  char t[128];
  int tl = snprintf(t, sizeof t,
                    "switchyard-tag 1\nproject: bench\nrelease: 1.0\n"
                    "generation: %lu\n",
                    s->at);
  if (sy_bytes_new(b, s->bytes, "application/octet-stream", states) != 0 ||
      sy_bytes_new(t, (size_t)tl, "text/plain", tag) != 0) {
    free(b);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  free(b);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: bench/registry PATH N [BYTES]\n");
    return 2;
  }
  struct stat st;
  if (stat(argv[1], &st) == 0) {
    fprintf(stderr, "bench/registry: '%s' exists\n", argv[1]);
    return 2;
  }
  src s = {strtoul(argv[2], NULL, 10), 0,
           argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 256};
  char plugins[4096], path[4200];
  if (!getcwd(plugins, 4000))
    return 1;
  strcat(plugins, "/plugins.d");
  setenv("SWITCHYARD_PLUGIN_PATH", plugins, 0);
  snprintf(path, sizeof path, "REGISTRY.out.path=%s", argv[1]);
  const char *overrides[] = {"REGISTRY.out.provider=archive", path, NULL};
  sy_platform_options opts = {sizeof opts, NULL, overrides, 1, 1, NULL};
  sy_platform *p = NULL;
  sy_instance *inst = NULL;
  sy_value *m = NULL;
  sy_error err;
  sy_error_clear(&err);
  static const char manifest[] =
      "# switchyard release manifest 1\n# project: bench\n# release: 1.0\n"
      "# flow-hash: 00000000000000000000000000000000\n"
      "# actors: std.head 1.0.0\n"
      "name = \"bench\";\nsource = { feed = \"data\"; table = \"t\"; };\n"
      "actors = (\n  { id = \"h\"; actor = \"std.head\"; inputs = "
      "[\"source\"]; }\n);\n";
  uint32_t count = 0;
  int rc = sy_platform_open(&opts, &p, &err);
  if (rc == 0)
    rc = sy_instance_create(sy_platform_config(p), sy_platform_catalog(p),
                            SY_KIND_REGISTRY, "out", &inst, &err);
  if (rc == 0)
    rc = sy_bytes_new(manifest, sizeof manifest - 1,
                      "application/x-switchyard-release", &m);
  if (rc == 0) {
    const sy_registry_ops *ops = sy_instance_provider(inst)->ops;
    rc = ops->put_release_all(sy_instance_self(inst), "bench", "1.0", m, next,
                              &s, &count, &err);
  }
  sy_value_unref(m);
  sy_instance_destroy(inst);
  sy_platform_close(p);
  if (rc) {
    fprintf(stderr, "bench/registry: %s\n",
            err.message[0] ? err.message : sy_strerror(rc));
    return 1;
  }
  return 0;
}

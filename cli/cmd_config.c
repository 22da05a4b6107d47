/*
 * cmd_config.c - `switchyard config [--check]`.
 *
 * Without --check it prints the effective configuration as INI, every value
 * followed by its origin (file:line, -o, or default), secrets replaced by
 * "(secret)". With --check it validates the whole config against the
 * loaded providers and then creates and destroys every configured instance,
 * so that a provider's own checks (a folder that must exist, say) run too.
 */
#include "cli.h"

#include <string.h>

static const char *const platform_refs[][2] = {
    {"runner", "RUNNER"},     {"feed", "FEED"},       {"sink", "SINK"},
    {"registry", "REGISTRY"}, {"storage", "STORAGE"},
};

static void print_value(const char *key, const char *value, const char *origin,
                        unsigned flags) {
  char line[512];
  if (flags & SY_OPT_SECRET)
    value = (value && *value) ? "(secret)" : "";
  snprintf(line, sizeof line, "%s = %s", key, value ? value : "");
  printf("%-40s ; %s\n", line, origin ? origin : "default");
}

/* Splits "RUNNER.parallel" into kind and instance name. */
static int split_section(const char *section, sy_kind *kind,
                         const char **name) {
  return cli_parse_ref(section, kind, name);
}

static void print_section(const sy_config *cfg, const sy_catalog *cat,
                          const char *section) {
  printf("[%s]\n", section);
  const sy_option *opts = NULL;
  sy_kind kind;
  const char *name = NULL;
  if (strcmp(section, "PLATFORM") == 0) {
    opts = sy_config_platform_options();
  } else if (split_section(section, &kind, &name) == 0) {
    const char *prov = sy_config_get(cfg, section, "provider", NULL);
    const sy_provider *pr = sy_catalog_find(cat, kind, prov ? prov : name);
    const char *origin = NULL;
    sy_config_get(cfg, section, "provider", &origin);
    print_value("provider", prov ? prov : name, origin, 0);
    if (pr)
      opts = pr->options;
    else
      printf("; no %s provider '%s' is loaded\n", sy_kind_name(kind),
             prov ? prov : name);
  }
  for (const sy_option *o = opts; o && o->name; o++) {
    const char *origin = NULL;
    const char *v = sy_config_get(cfg, section, o->name, &origin);
    print_value(o->name, v ? v : o->def, v ? origin : "default", o->flags);
  }
  /* Keys no option declares: shown so the user sees them, and flagged. */
  for (size_t i = 0; i < sy_config_key_count(cfg, section); i++) {
    const char *key = sy_config_key_at(cfg, section, i);
    if (strcmp(key, "provider") == 0 || (opts && sy_option_find(opts, key)))
      continue;
    const char *origin = NULL;
    const char *v = sy_config_get(cfg, section, key, &origin);
    print_value(key, opts ? "(unknown key)" : v, origin, 0);
  }
  putchar('\n');
}

static int check_instances(const sy_config *cfg, const sy_catalog *cat) {
  int failures = 0;
  sy_error err;
  for (size_t i = 0; i < sy_config_section_count(cfg); i++) {
    const char *section = sy_config_section_at(cfg, i);
    sy_kind kind;
    const char *name;
    if (split_section(section, &kind, &name) != 0)
      continue;
    sy_instance *inst = NULL;
    sy_error_clear(&err);
    if (sy_instance_create(cfg, cat, kind, name, &inst, &err) != 0) {
      cli_error(&err);
      failures++;
      continue;
    }
    sy_instance_destroy(inst);
    printf("ok: [%s]\n", section);
  }
  /* [PLATFORM] runner = x etc. must name an instance or a provider. */
  for (size_t i = 0; i < sizeof platform_refs / sizeof *platform_refs; i++) {
    const char *origin = NULL;
    const char *v =
        sy_config_get(cfg, "PLATFORM", platform_refs[i][0], &origin);
    /* A built-in default may name an instance no provider backs yet. */
    if (!v || !*v || !origin || strcmp(origin, "default") == 0)
      continue;
    char section[256];
    snprintf(section, sizeof section, "%s.%s", platform_refs[i][1], v);
    sy_kind kind;
    sy_kind_parse(platform_refs[i][0], &kind);
    if (sy_config_key_count(cfg, section) > 0 || sy_catalog_find(cat, kind, v))
      continue;
    int listed = 0;
    for (size_t s = 0; s < sy_config_section_count(cfg); s++)
      listed |= strcmp(sy_config_section_at(cfg, s), section) == 0;
    if (listed)
      continue;
    cli_errorf("%s: [PLATFORM] %s = %s names no [%s] section and no %s "
               "provider '%s'; try: switchyard providers list",
               origin ? origin : "default", platform_refs[i][0], v, section,
               platform_refs[i][0], v);
    failures++;
  }
  return failures;
}

static int run(cli_ctx *ctx, int argc, char **argv) {
  int check = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--check") == 0) {
      check = 1;
    } else {
      cli_errorf("config: unknown argument '%s'", argv[i]);
      fputs("try: switchyard config --help\n", stderr);
      return CLI_USAGE;
    }
  }
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  const sy_config *cfg = sy_platform_config(p);
  const sy_catalog *cat = sy_platform_catalog(p);
  sy_error err;
  sy_error_clear(&err);
  int valid = sy_config_validate(cfg, cat, &err) == 0;
  if (!check) {
    printf("; effective configuration; files read, later wins:\n");
    for (const char *const *f = sy_platform_config_files(p); *f; f++)
      printf(";   %s\n", *f);
    putchar('\n');
    print_section(cfg, cat, "PLATFORM");
    for (size_t i = 0; i < sy_config_section_count(cfg); i++) {
      const char *section = sy_config_section_at(cfg, i);
      if (strcmp(section, "PLATFORM") != 0)
        print_section(cfg, cat, section);
    }
    if (!valid) {
      cli_error(&err);
      return CLI_USAGE;
    }
    return CLI_OK;
  }
  if (!valid) {
    cli_error(&err);
    return CLI_USAGE;
  }
  int failures = check_instances(cfg, cat);
  if (failures) {
    cli_errorf("config check failed: %d problem%s", failures,
               failures == 1 ? "" : "s");
    return CLI_USAGE;
  }
  if (ctx->verbosity >= 0)
    puts("config ok");
  return CLI_OK;
}

const cli_command cli_cmd_config = {
    "config",
    "print the effective configuration, or check it",
    "config [--check]",
    "  (no option)  print every section and value with its origin\n"
    "               (file:line, -o, or default); secrets are redacted\n"
    "  --check      validate the config against the loaded providers, then\n"
    "               create and destroy every configured instance; exit 0\n"
    "               only when all are valid, 2 otherwise\n",
    run,
};

static int run_version(cli_ctx *ctx, int argc, char **argv) {
  (void)ctx;
  (void)argc;
  (void)argv;
  printf("switchyard %s (plugin ABI %d.%d, build %s)\n", sy_version(),
         SY_ABI_MAJOR, SY_ABI_MINOR, SY_BUILD_SIGNATURE);
  return CLI_OK;
}

const cli_command cli_cmd_version = {
    "version", "print the version and plugin ABI", "version", "", run_version,
};

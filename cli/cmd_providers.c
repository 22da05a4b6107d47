/*
 * cmd_providers.c - `switchyard providers [list | help REF | schema --json]`.
 *
 * Everything printed here comes from the descriptors the plugins export:
 * the option tables are the single source of the help text, the JSON
 * schema and the config errors' hints.
 */
#include "cli.h"

#include <string.h>

/* Bump when the JSON layout changes incompatibly. */
#define SCHEMA_VERSION 1

static const char *plugin_name(const sy_plugin *pl) {
  return pl && pl->name ? pl->name : "-";
}

static int cmd_list(cli_ctx *ctx) {
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  /* Listed from what the catalog knows: a plugin known through its
   * folder's manifest is not loaded for this. */
  const sy_catalog *cat = sy_platform_catalog(p);
  size_t n = sy_catalog_known_count(cat);
  if (n == 0) {
    cli_errorf("no providers found; searched:");
    for (const char *const *d = sy_platform_plugin_dirs(p); *d; d++)
      fprintf(stderr, "  %s\n", *d);
    fputs("try: set SWITCHYARD_PLUGIN_PATH or [PLATFORM] plugin_path\n",
          stderr);
    return CLI_FAILED;
  }
  printf("%-9s %-14s %-8s %-52s %s\n", "KIND", "NAME", "VERSION", "DESCRIPTION",
         "FILE");
  for (size_t i = 0; i < n; i++) {
    const char *file = NULL, *version = NULL, *description = NULL;
    sy_kind kind = SY_KIND_RUNNER;
    const char *name =
        sy_catalog_known_at(cat, i, &kind, &version, &description, &file);
    if (!name)
      break; /* a file refused while listing took its providers away */
    printf("%-9s %-14s %-8s %-52s %s\n", sy_kind_name(kind), name, version,
           description, file ? file : "-");
  }
  return CLI_OK;
}

/* Text shown for an option's accepted values: range or choices. */
static void print_accepts(FILE *out, const sy_option *o) {
  if (o->type == SY_OPT_ENUM && o->choices) {
    fputs("one of: ", out);
    for (const char *const *c = o->choices; *c; c++)
      fprintf(out, "%s%s", c == o->choices ? "" : ", ", *c);
  } else if (o->min || o->max) {
    fprintf(out, "range: %s .. %s", o->min ? o->min : "", o->max ? o->max : "");
  }
}

/* A runner's word on a flow node's resources, retries and timeout. */
static void print_resources(const sy_provider *pr) {
  if (pr->kind != SY_KIND_RUNNER || !pr->ops)
    return;
  const sy_runner_ops *ops = pr->ops;
  const char *text =
      ops->size >= offsetof(sy_runner_ops, resources) + sizeof ops->resources
          ? ops->resources
          : NULL;
  puts("Per-step resources (a flow node's resources, retries, timeout):");
  if (!text) {
    puts("  not described by this runner (it may ignore them)\n");
    return;
  }
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    printf("  %.*s\n", (int)len, p);
    p += len + (nl != NULL);
  }
  putchar('\n');
}

static int print_help(const sy_catalog *cat, const sy_config *cfg,
                      const char *ref) {
  sy_kind kind;
  const char *name;
  if (cli_parse_ref(ref, &kind, &name) != 0) {
    cli_errorf("'%s' is not KIND.NAME (kinds: runner, feed, sink, registry, "
               "storage, actor)",
               ref);
    return CLI_USAGE;
  }
  /* NAME may be an instance: [RUNNER.parallel] provider = dask. */
  char section[256];
  snprintf(section, sizeof section, "%s.%s", sy_kind_name(kind), name);
  for (char *s = section; *s && *s != '.'; s++)
    *s = (char)(*s - 32 * (*s >= 'a' && *s <= 'z'));
  const char *via = NULL;
  const char *prov = cfg ? sy_config_get(cfg, section, "provider", NULL) : NULL;
  const sy_provider *pr = sy_catalog_find(cat, kind, name);
  if (prov && (!pr || strcmp(prov, name) != 0)) {
    const sy_provider *alt = sy_catalog_find(cat, kind, prov);
    if (alt) {
      via = name;
      pr = alt;
    }
  }
  if (!pr) {
    cli_errorf("no %s provider or instance named '%s'", sy_kind_name(kind),
               name);
    fputs("try: switchyard providers list\n", stderr);
    return CLI_USAGE;
  }
  const char *file = NULL;
  const sy_plugin *plugin = NULL;
  sy_catalog_origin(cat, pr, &file, &plugin);
  printf("%s.%s %s - %s\n", sy_kind_name(kind), pr->name, pr->version,
         pr->description);
  if (via)
    printf("instance: [%s] uses provider '%s'\n", section, pr->name);
  printf("plugin: %s %s (%s)\n\n", plugin_name(plugin),
         plugin && plugin->version ? plugin->version : "", file ? file : "-");
  print_resources(pr);
  if (!pr->options || !pr->options[0].name) {
    puts("Options: none");
    return CLI_OK;
  }
  puts("Options:");
  for (const sy_option *o = pr->options; o->name; o++) {
    printf("  %-16s %-9s", o->name, sy_opt_type_name(o->type));
    if (o->flags & SY_OPT_REQUIRED)
      fputs("required", stdout);
    else
      printf("default: %s", o->def && *o->def ? o->def : "(none)");
    if ((o->type == SY_OPT_ENUM && o->choices) || o->min || o->max) {
      fputs("  ", stdout);
      print_accepts(stdout, o);
    }
    if (o->flags & SY_OPT_SECRET)
      fputs("  [secret]", stdout);
    printf("\n      %s\n", o->help);
  }
  return CLI_OK;
}

static void json_option(FILE *out, const sy_option *o) {
  fputs("{\"name\":", out);
  cli_json_string(out, o->name);
  fputs(",\"type\":", out);
  cli_json_string(out, sy_opt_type_name(o->type));
  fputs(",\"default\":", out);
  cli_json_string(out, o->def);
  fputs(",\"min\":", out);
  cli_json_string(out, o->min);
  fputs(",\"max\":", out);
  cli_json_string(out, o->max);
  fputs(",\"choices\":", out);
  if (o->type == SY_OPT_ENUM && o->choices) {
    fputc('[', out);
    for (const char *const *c = o->choices; *c; c++) {
      if (c != o->choices)
        fputc(',', out);
      cli_json_string(out, *c);
    }
    fputc(']', out);
  } else {
    fputs("null", out);
  }
  fprintf(out, ",\"required\":%s,\"secret\":%s,\"help\":",
          (o->flags & SY_OPT_REQUIRED) ? "true" : "false",
          (o->flags & SY_OPT_SECRET) ? "true" : "false");
  cli_json_string(out, o->help);
  fputc('}', out);
}

static int print_schema(const sy_catalog *cat) {
  FILE *out = stdout;
  fprintf(out,
          "{\"schema\":\"switchyard.providers\",\"schema_version\":%d,"
          "\"switchyard\":",
          SCHEMA_VERSION);
  cli_json_string(out, sy_version());
  fprintf(out, ",\"abi\":{\"major\":%d,\"minor\":%d},\"providers\":[",
          SY_ABI_MAJOR, SY_ABI_MINOR);
  for (size_t i = 0; i < sy_catalog_count(cat); i++) {
    const char *file = NULL;
    const sy_plugin *plugin = NULL;
    const sy_provider *pr = sy_catalog_at(cat, i, &file, &plugin);
    fputs(i ? ",\n{" : "\n{", out);
    fputs("\"kind\":", out);
    cli_json_string(out, sy_kind_name(pr->kind));
    fputs(",\"name\":", out);
    cli_json_string(out, pr->name);
    fputs(",\"version\":", out);
    cli_json_string(out, pr->version);
    fputs(",\"description\":", out);
    cli_json_string(out, pr->description);
    fputs(",\"plugin\":", out);
    cli_json_string(out, plugin ? plugin->name : NULL);
    fputs(",\"file\":", out);
    cli_json_string(out, file);
    fputs(",\"options\":[", out);
    for (const sy_option *o = pr->options; o && o->name; o++) {
      if (o != pr->options)
        fputc(',', out);
      json_option(out, o);
    }
    fputs("]}", out);
  }
  fputs("\n]}\n", out);
  return ferror(out) ? CLI_FAILED : CLI_OK;
}

static int run(cli_ctx *ctx, int argc, char **argv) {
  const char *sub = argc > 1 ? argv[1] : "list";
  if (strcmp(sub, "list") == 0) {
    if (argc > 2) {
      cli_errorf("providers list takes no arguments");
      return CLI_USAGE;
    }
    return cmd_list(ctx);
  }
  if (strcmp(sub, "help") == 0) {
    if (argc != 3) {
      cli_errorf("usage: switchyard providers help KIND.NAME");
      return CLI_USAGE;
    }
    sy_platform *p = cli_platform(ctx);
    if (!p)
      return CLI_USAGE;
    return print_help(sy_platform_catalog(p), sy_platform_config(p), argv[2]);
  }
  if (strcmp(sub, "schema") == 0) {
    if (argc != 3 || strcmp(argv[2], "--json") != 0) {
      cli_errorf("usage: switchyard providers schema --json");
      return CLI_USAGE;
    }
    sy_platform *p = cli_platform(ctx);
    if (!p)
      return CLI_USAGE;
    return print_schema(sy_platform_catalog(p));
  }
  cli_errorf("unknown subcommand 'providers %s'", sub);
  fputs("try: switchyard providers --help\n", stderr);
  return CLI_USAGE;
}

const cli_command cli_cmd_providers = {
    "providers",
    "list every provider found, or show one's options",
    "providers [list | help KIND.NAME | schema --json]",
    "  list              kind, name, version, description and file of every\n"
    "                    provider found (the default)\n"
    "  help KIND.NAME    every option of a provider (or of the provider a\n"
    "                    configured instance uses): type, default, range or\n"
    "                    values, flags and help text\n"
    "  schema --json     the same for all providers as versioned JSON\n\n"
    "Plugins are searched in $SWITCHYARD_PLUGIN_PATH, then [PLATFORM]\n"
    "plugin_path, then the built-in plugins.d. A plugin that is refused is\n"
    "reported on stderr with the reason and does not hide the others.\n"
    "The list is read from each folder's manifest: only help and schema\n"
    "load plugins (help just the one it shows).\n",
    run,
};

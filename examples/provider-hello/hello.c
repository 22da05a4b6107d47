/*
 * hello.c - a third-party switchyard provider, built out of tree.
 *
 * It offers one actor, `hello.greet`, which adds a string column that
 * greets the value of another column:
 *
 *   { id = "greet"; actor = "hello.greet";
 *     params = { column = "name"; greeting = "hi"; }; }
 *
 * Build it against an installed switchyard and drop the .so where
 * switchyard looks for plugins:
 *
 *   cc -shared -fPIC -fvisibility=hidden -o hello.so hello.c \
 *      $(pkg-config --cflags --libs switchyard)
 *   SWITCHYARD_PLUGIN_PATH=$PWD switchyard providers
 *
 * Everything a provider needs is in <switchyard/switchyard.h>: the option
 * table declares the parameters (the core parses and checks them and fills
 * struct greet_config), SY_PLUGIN_DEFINE writes the descriptor's fixed
 * fields, and the ops struct says what the actor does.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/switchyard.h>
#include <switchyard/actor.h>

struct greet_config {
  const char *column;   /* the column to greet */
  const char *greeting; /* the word before it */
  const char *output;   /* the new column's name */
};

static const sy_option greet_options[] = {
    {"column", SY_OPT_STRING, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(struct greet_config, column), "the column whose values to greet"},
    {"greeting", SY_OPT_STRING, 0, "hello", NULL, NULL, NULL,
     offsetof(struct greet_config, greeting), "the word put before each value"},
    {"output", SY_OPT_STRING, 0, "greeting", NULL, NULL, NULL,
     offsetof(struct greet_config, output), "name of the column added"},
    SY_OPTION_END};

/* The instance is just the config, which the core keeps alive until
 * destroy; apply only reads it, so concurrent applies are safe. */
static int greet_create(const void *config, void **self, sy_error *err) {
  (void)err;
  *self = (void *)config;
  return 0;
}

static void greet_destroy(void *self) {
  (void)self;
}

static int greet_apply(void *self, const sy_value *const *in, size_t n_in,
                       sy_value **out, sy_error *err) {
  const struct greet_config *cfg = self;
  const sy_value *frame = in[0];
  (void)n_in;
  if (sy_value_type_of(frame) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_ETYPE, "hello.greet: expected a table");
  int col = sy_frame_col_index(frame, cfg->column);
  if (col < 0)
    return sy_error_set(err, SY_EINVAL, "hello.greet: no column '%s'",
                        cfg->column);
  size_t rows = sy_frame_rows(frame);
  sy_value *result = NULL;
  char **cells = calloc(rows ? rows : 1, sizeof *cells);
  int rc = cells ? sy_frame_new(rows, &result) : SY_ENOMEM;
  for (size_t c = 0; rc == 0 && c < sy_frame_cols(frame); c++)
    rc = sy_frame_add_column_from(result, NULL, frame, c);
  for (size_t r = 0; rc == 0 && r < rows; r++) {
    char text[256];
    if (sy_frame_format_cell(frame, (size_t)col, r, text, sizeof text) < 0)
      text[0] = '\0';
    size_t len = strlen(cfg->greeting) + strlen(text) + 3;
    if (!(cells[r] = malloc(len)))
      rc = SY_ENOMEM;
    else
      snprintf(cells[r], len, "%s, %s", cfg->greeting, text);
  }
  if (rc == 0)
    rc = sy_frame_add_str(result, cfg->output, (const char *const *)cells);
  for (size_t r = 0; cells && r < rows; r++)
    free(cells[r]);
  free(cells);
  if (rc != 0) {
    sy_value_unref(result);
    return sy_error_set(err, rc, "hello.greet: %s", sy_strerror(rc));
  }
  out[0] = result;
  return 0;
}

static const sy_actor_ops greet_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .flags = 0,
    .apply = greet_apply,
};

static const sy_provider greet = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "hello.greet",
    .version = "1.0.0",
    .description = "adds a column greeting the values of another column",
    .options = greet_options,
    .config_size = sizeof(struct greet_config),
    .create = greet_create,
    .destroy = greet_destroy,
    .ops = &greet_ops,
};

SY_PLUGIN_DEFINE("provider-hello", "1.0.0", &greet)

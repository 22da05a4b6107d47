/*
 * fx_code.c - a fixture actor built twice from this one source, as
 * fx_code_a (FX_VARIANT 'A') and fx_code_b (FX_VARIANT 'B'): same plugin
 * name, same actor name, same version, different behaviour. `fx.mark`
 * copies its input frame and adds a column "mark" holding the variant's
 * letter, so a test can tell which build computed a result. Swapping one
 * build for the other must change the cache key of every step that runs
 * fx.mark (tests/e2e/plugins.sh).
 */
#include <stddef.h>
#include <stdlib.h>

#include <switchyard/switchyard.h>
#include <switchyard/actor.h>

#ifndef FX_VARIANT
#define FX_VARIANT "A"
#endif

static int fx_mark_apply(void *self, const sy_value *const *in, size_t n_in,
                         sy_value **out, sy_error *err) {
  (void)self;
  (void)n_in;
  const sy_value *frame = in[0];
  if (sy_value_type_of(frame) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_ETYPE, "fx.mark: expected a table");
  size_t rows = sy_frame_rows(frame);
  const char **cells = calloc(rows ? rows : 1, sizeof *cells);
  sy_value *result = NULL;
  int rc = cells ? sy_frame_new(rows, &result) : SY_ENOMEM;
  for (size_t c = 0; rc == 0 && c < sy_frame_cols(frame); c++)
    rc = sy_frame_add_column_from(result, NULL, frame, c);
  for (size_t r = 0; cells && r < rows; r++)
    cells[r] = FX_VARIANT;
  if (rc == 0)
    rc = sy_frame_add_str(result, "mark", cells);
  free(cells);
  if (rc != 0) {
    sy_value_unref(result);
    return sy_error_set(err, rc, "fx.mark: %s", sy_strerror(rc));
  }
  out[0] = result;
  return 0;
}

static const sy_actor_ops fx_mark_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .apply = fx_mark_apply,
};

static const sy_provider fx_mark = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "fx.mark",
    .version = "1.0.0",
    .description = "Adds a column naming the build that computed it; a test "
                   "fixture.",
    .ops = &fx_mark_ops,
};

SY_PLUGIN_DEFINE("fx-code", "1.0.0", &fx_mark)

/*
 * fx_clash.c - a third-party fixture plugin that offers `std.head`, which
 * the built-in actor-std also offers, plus an actor of its own,
 * `fx.other`. Whichever of the two files is loaded first keeps std.head;
 * the other file loses only that one provider, never the rest of its
 * actors (tests/e2e/plugins.sh).
 */
#include <stddef.h>

#include <switchyard/switchyard.h>
#include <switchyard/actor.h>

/* Both actors hand their input on unchanged. */
static int fx_pass(void *self, const sy_value *const *in, size_t n_in,
                   sy_value **out, sy_error *err) {
  (void)self;
  (void)n_in;
  (void)err;
  /* A reference to the borrowed input: values are shared, never copied. */
  out[0] = sy_value_ref((sy_value *)in[0]);
  return 0;
}

static const sy_actor_ops fx_pass_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .apply = fx_pass,
};

static const sy_provider fx_head = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "std.head",
    .version = "9.9.9",
    .description = "A second std.head; a loader test fixture.",
    .ops = &fx_pass_ops,
};

static const sy_provider fx_other = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "fx.other",
    .version = "1.0.0",
    .description = "Hands its input on; a loader test fixture.",
    .ops = &fx_pass_ops,
};

SY_PLUGIN_DEFINE("fx-clash", "1.0.0", &fx_head, &fx_other)

/*
 * fx_stateful.c - a fixture plugin with an actor that says it is stateful
 * (SY_ACTOR_STATEFUL) but has no train, next to a sound actor. The loader
 * refuses the first on its own, naming this file, and loads the second
 * (tests/unit/test_loader.c). With -DFX_STATEFUL_ONLY the plugin holds
 * the unsound actor alone and is refused as a whole.
 */
#include <stddef.h>

#include <switchyard/switchyard.h>
#include <switchyard/actor.h>

static int fx_pass(void *self, const sy_value *const *in, size_t n_in,
                   sy_value **out, sy_error *err) {
  (void)self;
  (void)n_in;
  (void)err;
  out[0] = sy_value_ref((sy_value *)in[0]);
  return 0;
}

static int fx_save(void *self, sy_value **state, sy_error *err) {
  (void)self;
  (void)err;
  return sy_bytes_new("x", 1, NULL, state);
}

static int fx_load(void *self, const sy_value *state, sy_error *err) {
  (void)self;
  (void)state;
  (void)err;
  return 0;
}

/* Stateful, with apply and a state, but nothing that trains it. */
static const sy_actor_ops fx_untrainable_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .flags = SY_ACTOR_STATEFUL,
    .apply = fx_pass,
    .state_save = fx_save,
    .state_load = fx_load,
};

static const sy_provider fx_untrainable = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "fx.untrainable",
    .version = "1.0.0",
    .description = "Stateful without train; a loader test fixture.",
    .ops = &fx_untrainable_ops,
};

#ifdef FX_STATEFUL_ONLY
SY_PLUGIN_DEFINE("fx-stateful-only", "1.0.0", &fx_untrainable)
#else
static const sy_actor_ops fx_pass_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .apply = fx_pass,
};

static const sy_provider fx_sound = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "fx.sound",
    .version = "1.0.0",
    .description = "Hands its input on; a loader test fixture.",
    .ops = &fx_pass_ops,
};

SY_PLUGIN_DEFINE("fx-stateful", "1.0.0", &fx_untrainable, &fx_sound)
#endif

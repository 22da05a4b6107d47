/*
 * fuzz_state.c - libFuzzer target for actor states: the public state
 * codec (services/state.c) as std.scaler, std.linreg, std.logreg,
 * std.impute and std.onehot use it in state_load, and their
 * describe_state, which must say the same yes or no as state_load.
 *
 * Built and run by tests/fuzz/run.sh (from the lines below).
 *
 * The first byte picks the actor; the rest is the state. Each input is
 * loaded twice: as given, which mostly exercises the framing checks
 * (media type, magic, version, length, checksum), and "resealed", with
 * the magic and version made right, the payload length matching and the
 * checksum recomputed, so that mutations reach the field checks. A load
 * either fails with SY_ECORRUPT (or SY_ENOMEM) naming the actor, or
 * succeeds; then, for a state of the version the actor writes, saving
 * it again must give back the very bytes that were loaded (every field
 * is kept exactly; an older version loads and is saved as the new one).
 */
// clang-format off
// sources: services/state.c core/value.c core/error.c core/buf.c providers/actor-std/common.c providers/actor-std/scaler.c providers/actor-std/linreg.c providers/actor-std/logreg.c providers/actor-std/prep.c
// libs: -lxxhash -lm
// clang-format on
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../providers/actor-std/std.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The plugin's notes go to the core's listeners, which are not linked. */
void sy_note(const char *fmt, ...) {
  (void)fmt;
}
void sy_warn(const char *fmt, ...) {
  (void)fmt;
}

static const struct {
  const sy_provider *prov;
  const char *magic;
  uint8_t version; /* the one state_save writes */
} actors[] = {
    {&std_scaler_provider, "SYSCALER", 1},
    {&std_linreg_provider, "SYLINREG", 2},
    {&std_logreg_provider, "SYLOGREG", 2},
    {&std_impute_provider, "SYIMPUTE", 1},
    {&std_onehot_provider, "SYONEHOT", 1},
};
#define N_ACTORS (sizeof actors / sizeof *actors)

static void load(size_t which, const uint8_t *p, size_t n) {
  const sy_provider *prov = actors[which].prov;
  const sy_actor_ops *ops = prov->ops;
  std_scaler_config scfg = {true, true, NULL};
  std_impute_config icfg = {STD_IMPUTE_MEAN, 0, NULL};
  std_onehot_config ocfg = {NULL, STD_UNKNOWN_ERROR};
  std_linreg_config lcfg = {0, true, "prediction"};
  std_logreg_config gcfg = {1, 0.1,  0,  "prediction", STD_SOLVER_GD,
                            0, 1e-4, 100};
  const void *cfgs[N_ACTORS] = {&scfg, &lcfg, &gcfg, &icfg, &ocfg};
  const void *cfg = cfgs[which];
  void *self = NULL;
  sy_value *st = NULL, *again = NULL;
  sy_error err;
  if (prov->create(cfg, &self, &err) != 0)
    abort();
  if (sy_bytes_new(p, n, STD_STATE_MEDIA, &st) != 0)
    abort();
  int rc = ops->state_load(self, st, &err);
  sy_buf text = SY_BUF_INIT;
  sy_error derr;
  if ((ops->describe_state(st, &text, &derr) == 0) != (rc == 0))
    abort(); /* describe accepts exactly what load accepts */
  sy_buf_free(&text);
  if (rc != 0) {
    if (rc != SY_ECORRUPT && rc != SY_ENOMEM)
      abort();
    if (strncmp(err.message, prov->name, strlen(prov->name)) != 0)
      abort(); /* every refusal names the actor */
  } else {
    if (ops->state_save(self, &again, &err) != 0)
      abort();
    if (n > 8 && p[8] == actors[which].version && !sy_value_equal(st, again))
      abort();
  }
  sy_value_unref(again);
  sy_value_unref(st);
  prov->destroy(self);
}

static void seal(uint8_t *b, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len - 8; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  for (int i = 0; i < 8; i++)
    b[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t which = data[0] % N_ACTORS;
  load(which, data + 1, size - 1);
  size_t n = size - 1;
  if (n >= SY_STATE_HEADER_SIZE + SY_STATE_TRAILER_SIZE && n < UINT32_MAX) {
    uint8_t *copy = malloc(n);
    if (!copy)
      return 0;
    memcpy(copy, data + 1, n);
    memcpy(copy, actors[which].magic, 8);
    copy[8] = actors[which].version;
    copy[9] = copy[10] = copy[11] = 0;
    uint32_t payload = (uint32_t)(n - 24);
    for (int i = 0; i < 4; i++)
      copy[12 + i] = (uint8_t)(payload >> (8 * i));
    seal(copy, n);
    load(which, copy, n);
    free(copy);
  }
  return 0;
}

/*
 * switchyard/option.h - typed, documented options.
 *
 * A provider (and an actor, for its flow parameters) declares its options in
 * a static table of sy_option, terminated by SY_OPTION_END. The core reads
 * the user's text (INI value, -o override, flow parameter), validates it
 * against the table and writes the result into the provider's own config
 * struct at `offset`; the provider never parses configuration. The same
 * table drives `switchyard providers help KIND.NAME`, the JSON schema and
 * the hints that end every configuration error.
 *
 * Where each type lands in the config struct, and what text it accepts:
 *
 *   SY_OPT_STRING    const char *   any text
 *   SY_OPT_PATH      const char *   a path; "~" and "${VAR}" expanded
 *   SY_OPT_BOOL      bool           true/false, yes/no, on/off, 1/0
 *   SY_OPT_INT       int64_t        decimal, optional sign
 *   SY_OPT_DOUBLE    double         a finite decimal number
 *   SY_OPT_SIZE      uint64_t       bytes; suffix B, k/K/KiB, M/MiB, G/GiB,
 *                                   T/TiB (powers of 1024)
 *   SY_OPT_DURATION  int64_t        nanoseconds; "250ms", "1.5s", "2m",
 *                                   "1h", "1d", "us", "ns"; bare = seconds
 *   SY_OPT_ENUM      int            index into `choices`
 *   SY_OPT_LIST      const char *const *  NULL-terminated; comma-separated
 *                                   text, items trimmed
 *
 * `def`, `min` and `max` are written as text in the same syntax, so help
 * can print them as the author wrote them. Strings the core writes into a
 * config struct are owned by the core and live until the instance is
 * destroyed.
 *
 * ABI: sy_option is frozen for ABI major 1 (tables are arrays, so its size
 * cannot grow without a major bump). Since ABI 1.0.
 */
#ifndef SWITCHYARD_OPTION_H
#define SWITCHYARD_OPTION_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sy_opt_type {
  SY_OPT_STRING = 1,
  SY_OPT_BOOL = 2,
  SY_OPT_INT = 3,
  SY_OPT_DOUBLE = 4,
  SY_OPT_SIZE = 5,
  SY_OPT_DURATION = 6,
  SY_OPT_ENUM = 7,
  SY_OPT_PATH = 8,
  SY_OPT_LIST = 9
} sy_opt_type;

/* Option flags. */
#define SY_OPT_REQUIRED 0x1u /* no default; the user must set it */
#define SY_OPT_SECRET 0x2u   /* never printed: `config` shows "(secret)" */

typedef struct sy_option {
  const char *name;           /* lower_case_with_underscores */
  sy_opt_type type;           /* SY_OPT_* */
  unsigned flags;             /* SY_OPT_REQUIRED | SY_OPT_SECRET */
  const char *def;            /* default as text, NULL = none */
  const char *min;            /* inclusive bound as text, NULL = none */
  const char *max;            /* inclusive bound as text, NULL = none */
  const char *const *choices; /* SY_OPT_ENUM: NULL-terminated values */
  size_t offset;              /* where the value goes in the config */
  const char *help;           /* one sentence; mandatory */
} sy_option;

#define SY_OPTION_END                                                          \
  { NULL, (sy_opt_type)0, 0, NULL, NULL, NULL, NULL, 0, NULL }

/* Name of a type as users see it ("int", "duration"). */
SY_API const char *sy_opt_type_name(sy_opt_type type);

/* The option named `name` in a SY_OPTION_END-terminated table, or NULL.
 * Borrowed from the table. Thread-safe. Since ABI 1.3. */
SY_API const sy_option *sy_option_find(const sy_option *opts, const char *name);
/* Parses a size as a SY_OPT_SIZE option does ("512M", "1.5G", "4096"):
 * 0 and *out, or SY_ETYPE / SY_ERANGE (out untouched). Thread-safe. Since
 * ABI 1.3. */
SY_API int sy_parse_size(const char *text, uint64_t *out);
/* Parses a duration as a SY_OPT_DURATION option does ("7d", "1h", "0s")
 * into nanoseconds: 0, or SY_ETYPE / SY_ERANGE (out untouched). Thread-safe.
 * Since ABI 1.3. */
SY_API int sy_parse_duration(const char *text, int64_t *ns);
/* The candidate nearest to `name` by edit distance (one of candidates,
 * borrowed), or NULL when none is close enough to be a plausible typo:
 * for "did you mean" hints. Thread-safe. Since ABI 1.3. */
SY_API const char *sy_suggest(const char *name, const char *const *candidates,
                              size_t n);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_OPTION_H */

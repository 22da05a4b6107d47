/*
 * kind.c - provider kinds and option type names.
 */
#include "internal.h"

#include <strings.h>

static const char *const kind_names[SY_KIND_COUNT + 1] = {
    NULL, "runner", "feed", "sink", "registry", "storage", "actor"};

const char *sy_kind_name(sy_kind kind) {
  if ((int)kind < 1 || (int)kind > SY_KIND_COUNT)
    return NULL;
  return kind_names[kind];
}

int sy_kind_parse(const char *text, sy_kind *kind) {
  if (!text)
    return SY_EINVAL;
  for (int k = 1; k <= SY_KIND_COUNT; k++) {
    if (strcasecmp(text, kind_names[k]) == 0) {
      if (kind)
        *kind = (sy_kind)k;
      return 0;
    }
  }
  return SY_EINVAL;
}

const char *sy_opt_type_name(sy_opt_type type) {
  switch (type) {
  case SY_OPT_STRING:
    return "string";
  case SY_OPT_BOOL:
    return "bool";
  case SY_OPT_INT:
    return "int";
  case SY_OPT_DOUBLE:
    return "double";
  case SY_OPT_SIZE:
    return "size";
  case SY_OPT_DURATION:
    return "duration";
  case SY_OPT_ENUM:
    return "enum";
  case SY_OPT_PATH:
    return "path";
  case SY_OPT_LIST:
    return "list";
  }
  return NULL;
}

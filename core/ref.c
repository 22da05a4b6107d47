/*
 * ref.c - registry references, PROJECT[:RELEASE[:GENERATION]]: the one
 * parser the CLI, the lifecycle (services/) and the job's registry states
 * (states.c) share, so that every command accepts exactly the same
 * references and refuses the rest the same way (registry.h).
 */
#include "switchyard/registry.h"

#include <stdlib.h>
#include <string.h>

int sy_registry_name_valid(const char *s) {
  if (!s || !*s || *s == '.' || strlen(s) > 128)
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
      return 0;
  return 1;
}

int sy_registry_generation_parse(const char *s, uint32_t *gen) {
  uint64_t v = 0;
  if (!s || !*s || *s == '0' || strlen(s) > 10)
    return SY_EINVAL;
  for (const char *c = s; *c; c++) {
    if (*c < '0' || *c > '9')
      return SY_EINVAL;
    v = v * 10 + (uint64_t)(*c - '0');
  }
  if (v > UINT32_MAX)
    return SY_EINVAL;
  *gen = (uint32_t)v;
  return 0;
}

int sy_registry_ref_parse(const char *text, int min_parts, int max_parts,
                          sy_registry_ref *out, sy_error *err) {
  static const char *const forms[] = {"", "PROJECT", "PROJECT:RELEASE",
                                      "PROJECT:RELEASE:GENERATION"};
  memset(out, 0, sizeof *out);
  if (max_parts < 1 || max_parts > 3 || min_parts < 1 ||
      min_parts > max_parts || !text)
    return sy_error_set(err, SY_EINVAL, "bad arguments to parse a reference");
  char *copy = strdup(text);
  if (!copy)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  char *p[3] = {copy, NULL, NULL};
  int n = 1, extra = 0;
  for (char *c = copy; *c; c++)
    if (*c == ':') {
      if (n == 3) {
        extra = 1;
        break;
      }
      *c = '\0';
      p[n++] = c + 1;
    }
  uint32_t gen = 0;
  const char *why = NULL;
  if (extra || n > max_parts)
    why = "too many ':' parts";
  else if (n < min_parts)
    why = min_parts == 2 ? "a release is needed" : "a generation is needed";
  else if (!sy_registry_name_valid(p[0]))
    why = "the project must be 1 to 128 letters, digits, '_', '.', '-' "
          "(not starting with '.')";
  else if (n > 1 && !sy_registry_name_valid(p[1]))
    why = "the release must be 1 to 128 letters, digits, '_', '.', '-' "
          "(not starting with '.')";
  else if (n > 2 && sy_registry_generation_parse(p[2], &gen) != 0)
    why = "the generation must be a number from 1 to 4294967295";
  if (why) {
    free(copy);
    return sy_error_set(err, SY_EUSAGE, "'%s' is not a valid %s reference: %s",
                        text, forms[max_parts], why);
  }
  out->text = copy;
  out->project = p[0];
  out->release = n > 1 ? p[1] : NULL;
  out->generation = gen;
  return 0;
}

void sy_registry_ref_free(sy_registry_ref *ref) {
  if (!ref)
    return;
  free(ref->text);
  memset(ref, 0, sizeof *ref);
}

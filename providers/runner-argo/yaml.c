/*
 * yaml.c - the YAML that runner-argo writes: every string a double-quoted
 * scalar with escapes, so no value (a path, a flow name, an image) can end
 * a line, open a mapping or be read as a number or a boolean. The runner
 * only emits YAML; it never parses any (the tests parse it with
 * python3-yaml).
 */
#include "argo.h"

#include <string.h>

void argo_yaml_str(sy_buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  sy_buf_add(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      char esc[2] = {'\\', (char)*p};
      sy_buf_add(b, esc, 2);
    } else if (*p < 0x20 || *p == 0x7f) {
      char esc[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
      sy_buf_add(b, esc, 4);
    } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
      /* U+2028 and U+2029 are line breaks to YAML */
      sy_buf_puts(b, p[2] == 0xa8 ? "\\L" : "\\P");
      p += 2;
    } else {
      sy_buf_add(b, p, 1);
    }
  }
  sy_buf_add(b, "\"", 1);
}

void argo_yaml_indent(sy_buf *b, int depth) {
  for (int i = 0; i < depth; i++)
    sy_buf_add(b, "  ", 2);
}

void argo_yaml_kv(sy_buf *b, int depth, const char *key, const char *value) {
  argo_yaml_indent(b, depth);
  sy_buf_printf(b, "%s: ", key);
  argo_yaml_str(b, value);
  sy_buf_add(b, "\n", 1);
}

void argo_dns_name(const char *text, char *out, size_t max) {
  size_t n = 0;
  int dash = 0;
  for (const char *c = text; *c && n < max; c++) {
    char ch = *c;
    if (ch >= 'A' && ch <= 'Z')
      ch = (char)(ch - 'A' + 'a');
    int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
    if (!alnum) {
      dash = n > 0;
      continue;
    }
    if (n == 0 && !(ch >= 'a' && ch <= 'z')) {
      out[n++] = 'x';
      if (n < max)
        out[n++] = '-';
    }
    if (dash && n + 1 < max) {
      out[n++] = '-';
    }
    dash = 0;
    if (n < max)
      out[n++] = ch;
  }
  while (n > 0 && out[n - 1] == '-')
    n--;
  if (n == 0)
    out[n++] = 'x';
  out[n] = '\0';
}

void argo_base64(sy_buf *b, const void *data, size_t len) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *p = data;
  if (sy_buf_reserve(b, (len + 2) / 3 * 4) != 0)
    return;
  char *w = b->data + b->len;
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    *w++ = tab[v >> 18];
    *w++ = tab[(v >> 12) & 63];
    *w++ = tab[(v >> 6) & 63];
    *w++ = tab[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < len)
      v |= (uint32_t)p[i + 1] << 8;
    *w++ = tab[v >> 18];
    *w++ = tab[(v >> 12) & 63];
    *w++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
    *w++ = '=';
  }
  b->len = (size_t)(w - b->data);
  b->data[b->len] = '\0';
}

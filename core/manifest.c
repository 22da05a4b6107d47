/*
 * manifest.c - reads and writes a plugin folder's manifest.
 *
 * Design note.
 *
 * The manifest is INI, read with the core's own strict reader (ini.c,
 * fuzzed), so there is no second parser to trust:
 *
 *   [switchyard-manifest]
 *   format = 1
 *   core = "0.9.0 sy1:p8:l8:z8:d8:le abi 1.3"
 *
 *   [plugin actor-std.so]          ; one per plugin file, in folder order
 *   size = 203408
 *   mtime = 1765061100123456789    ; nanoseconds
 *   ctime = 1765061100123456789
 *   inode = 1234
 *   code = 0123...cdef             ; optional: the content hash, 32 hex
 *   providers = 12                 ; how many [provider] sections follow
 *
 *   [provider actor std.scaler]
 *   version = "1.0.0"
 *   description = "Standardises columns"
 *
 * Reading is all or nothing: a key, section or value out of place, a
 * count that does not match, a manifest of another core build or a cut
 * one makes the whole manifest invalid, and the caller rebuilds it by
 * loading the plugins. The content hash spares a start from reading a
 * plugin file whole to hash it (cache keys include it): the loader uses a
 * recorded hash only when the opened file's size, inode, mtime and ctime
 * are still the record's (ctime changes with every write and cannot be
 * set back), and hashes the file otherwise. Nothing read here decides what code
 * runs: the loader still opens, checks and validates each file it loads, and
 * uses the manifest only to know which file offers a name before loading it.
 */
#include "manifest.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define FORMAT "1"

/* What a manifest written by this core says in its `core` key. */
static void core_id(char *buf, size_t cap) {
  snprintf(buf, cap, "%s %s abi %d.%d", sy_version(), SY_BUILD_SIGNATURE,
           SY_ABI_MAJOR, SY_ABI_MINOR);
}

/* ---- records -------------------------------------------------------- */

static void file_free(sy__man_file *f) {
  for (size_t i = 0; i < f->nprovs; i++) {
    free(f->provs[i].name);
    free(f->provs[i].version);
    free(f->provs[i].description);
  }
  free(f->provs);
  free(f->name);
  memset(f, 0, sizeof *f);
}

void sy__manifest_free(sy__manifest *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->nfiles; i++)
    file_free(&m->files[i]);
  free(m->files);
  memset(m, 0, sizeof *m);
}

const sy__man_file *sy__manifest_find(const sy__manifest *m, const char *name) {
  for (size_t i = 0; m && i < m->nfiles; i++)
    if (strcmp(m->files[i].name, name) == 0)
      return &m->files[i];
  return NULL;
}

void sy__manifest_remove(sy__manifest *m, const char *name) {
  for (size_t i = 0; m && i < m->nfiles; i++) {
    if (strcmp(m->files[i].name, name) != 0)
      continue;
    file_free(&m->files[i]);
    memmove(&m->files[i], &m->files[i + 1],
            (m->nfiles - i - 1) * sizeof *m->files);
    m->nfiles--;
    return;
  }
}

/* A new, zeroed record at the end of m, or NULL when out of memory. */
static sy__man_file *append(sy__manifest *m) {
  if (m->nfiles == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    sy__man_file *grown = realloc(m->files, cap * sizeof *grown);
    if (!grown)
      return NULL;
    m->files = grown;
    m->cap = cap;
  }
  sy__man_file *f = &m->files[m->nfiles++];
  memset(f, 0, sizeof *f);
  return f;
}

static int good_file_name(const char *s);
static int good_provider_name(const char *s);

int sy__manifest_add_copy(sy__manifest *m, const sy__man_file *src) {
  if (!good_file_name(src->name) || src->nprovs == 0 ||
      src->nprovs > SY__MANIFEST_MAX_PROVIDERS ||
      m->nfiles >= SY__MANIFEST_MAX_FILES)
    return 1;
  for (size_t i = 0; i < src->nprovs; i++)
    if (!sy_kind_name(src->provs[i].kind) ||
        !good_provider_name(src->provs[i].name) ||
        !sy__manifest_storable(src->provs[i].version) ||
        !sy__manifest_storable(src->provs[i].description))
      return 1;
  sy__man_file *f = append(m);
  if (!f)
    return -1;
  f->size = src->size;
  f->ino = src->ino;
  f->mtime_ns = src->mtime_ns;
  f->ctime_ns = src->ctime_ns;
  f->has_code = src->has_code;
  memcpy(f->code, src->code, sizeof f->code);
  f->name = strdup(src->name);
  f->provs = calloc(src->nprovs ? src->nprovs : 1, sizeof *f->provs);
  if (!f->name || !f->provs)
    goto oom;
  for (size_t i = 0; i < src->nprovs; i++) {
    sy__man_prov *p = &f->provs[f->nprovs++];
    p->kind = src->provs[i].kind;
    p->name = strdup(src->provs[i].name);
    p->version = strdup(src->provs[i].version);
    p->description = strdup(src->provs[i].description);
    if (!p->name || !p->version || !p->description)
      goto oom;
  }
  return 0;
oom:
  file_free(f);
  m->nfiles--;
  return -1;
}

/* Whether the 8 bytes of w hold one below 0x20 or equal to 0x7f. Both
 * tests are exact about presence (bit-twiddling "hasless" for n <= 128,
 * and "haszero" of w ^ 0x7f7f...), though not about which byte. */
static int word_has_control(uint64_t w) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t below = (w - ones * 0x20) & ~w & highs;
  uint64_t del = w ^ (ones * 0x7f);
  return (below | ((del - ones) & ~del & highs)) != 0;
}

/* A start reads every description in the manifest (and copies it into
 * the catalog): this runs over some 10 KB per start, so it looks at eight
 * bytes a step and lets memchr look for the quotes. */
int sy__manifest_storable(const char *s) {
  if (!s || !*s)
    return 0;
  size_t n = strlen(s), i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, sizeof w);
    if (word_has_control(w))
      return 0;
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f)
      return 0;
  }
  return !(memchr(s, '"', n) && memchr(s, '\'', n));
}

/* A plugin file name as it may appear in a [plugin NAME] header: what the
 * folder scan would load ("*.so", not hidden, no '/'), storable, without
 * brackets or blanks at either end. */
static int good_file_name(const char *s) {
  size_t n = strlen(s);
  if (n < 4 || n > NAME_MAX || s[0] == '.' || strcmp(s + n - 3, ".so") != 0)
    return 0;
  if (strchr(s, '/') || strchr(s, '[') || strchr(s, ']') || s[0] == ' ' ||
      s[n - 1] == ' ')
    return 0;
  return sy__manifest_storable(s);
}

static int good_provider_name(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
          *s == '.' || *s == '-'))
      return 0;
  return 1;
}

/* ---- reading -------------------------------------------------------- */

enum {
  F_SIZE = 1,
  F_MTIME = 2,
  F_CTIME = 4,
  F_INODE = 8,
  F_PROVIDERS = 16,
  F_CODE = 32 /* optional */
};
#define F_ALL (F_SIZE | F_MTIME | F_CTIME | F_INODE | F_PROVIDERS)

typedef struct reader {
  sy__manifest *m;
  int where;       /* 0 nothing yet, 1 header, 2 plugin, 3 provider */
  int header;      /* 1 format, 2 core seen */
  unsigned seen;   /* F_* of the current plugin */
  size_t declared; /* its `providers` */
  int prov_keys;   /* 1 version, 2 description of the current provider */
} reader;

/* Strict decimal: digits only, no sign, no overflow. */
static int parse_u64(const char *s, uint64_t *out) {
  if (!*s)
    return -1;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

static sy__man_file *current(reader *r) {
  return r->m->nfiles ? &r->m->files[r->m->nfiles - 1] : NULL;
}

/* Whether the section being left is complete. */
static int section_done(reader *r) {
  switch (r->where) {
  case 1:
    return r->header == 3 ? 0 : -1;
  case 2:
    return (r->seen & F_ALL) == F_ALL ? 0 : -1;
  case 3:
    return r->prov_keys == 3 ? 0 : -1;
  }
  return 0;
}

/* Whether the plugin being left has all its providers. */
static int plugin_done(reader *r) {
  sy__man_file *f = current(r);
  return !f || ((r->seen & F_ALL) == F_ALL && f->nprovs == r->declared) ? 0
                                                                        : -1;
}

static int on_section(reader *r, const char *name) {
  if (section_done(r) != 0)
    return -1;
  if (strcmp(name, "switchyard-manifest") == 0) {
    if (r->where != 0)
      return -1;
    r->where = 1;
    return 0;
  }
  if (r->header != 3)
    return -1;
  if (strncmp(name, "plugin ", 7) == 0) {
    const char *file = name + 7;
    if (plugin_done(r) != 0 || !good_file_name(file) ||
        sy__manifest_find(r->m, file) || r->m->nfiles >= SY__MANIFEST_MAX_FILES)
      return -1;
    sy__man_file *f = append(r->m);
    if (!f || !(f->name = strdup(file)))
      return -1;
    r->where = 2;
    r->seen = 0;
    r->declared = 0;
    return 0;
  }
  if (strncmp(name, "provider ", 9) == 0) {
    sy__man_file *f = current(r);
    if (!f || (r->seen & F_ALL) != F_ALL || f->nprovs >= r->declared)
      return -1;
    const char *kind = name + 9, *space = strchr(kind, ' ');
    if (!space)
      return -1;
    sy_kind k = 0;
    for (int i = 1; i <= SY_KIND_COUNT; i++) {
      const char *kn = sy_kind_name((sy_kind)i);
      if (kn && strlen(kn) == (size_t)(space - kind) &&
          memcmp(kn, kind, (size_t)(space - kind)) == 0)
        k = (sy_kind)i;
    }
    const char *pname = space + 1;
    if (!k || !good_provider_name(pname))
      return -1;
    for (size_t i = 0; i < f->nprovs; i++)
      if (f->provs[i].kind == k && strcmp(f->provs[i].name, pname) == 0)
        return -1;
    sy__man_prov *p = &f->provs[f->nprovs];
    memset(p, 0, sizeof *p);
    p->kind = k;
    if (!(p->name = strdup(pname)))
      return -1;
    f->nprovs++;
    r->where = 3;
    r->prov_keys = 0;
    return 0;
  }
  return -1;
}

/* A lower-case hex digit's value, or -1. */
static int hex_digit(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : -1;
}

static int on_key(reader *r, const char *key, const char *value) {
  if (r->where == 1) {
    char id[256];
    core_id(id, sizeof id);
    if (strcmp(key, "format") == 0 && !(r->header & 1) &&
        strcmp(value, FORMAT) == 0) {
      r->header |= 1;
      return 0;
    }
    if (strcmp(key, "core") == 0 && !(r->header & 2) &&
        strcmp(value, id) == 0) {
      r->header |= 2;
      return 0;
    }
    return -1;
  }
  if (r->where == 2) {
    static const struct {
      const char *key;
      unsigned bit;
    } keys[] = {{"size", F_SIZE},
                {"mtime", F_MTIME},
                {"ctime", F_CTIME},
                {"inode", F_INODE},
                {"providers", F_PROVIDERS}};
    sy__man_file *f = current(r);
    if (strcmp(key, "code") == 0) {
      /* Before providers (which starts the provider sections), once. */
      if ((r->seen & (F_CODE | F_PROVIDERS)) || strlen(value) != 32)
        return -1;
      for (int i = 0; i < 16; i++) {
        int hi = hex_digit(value[2 * i]), lo = hex_digit(value[2 * i + 1]);
        if (hi < 0 || lo < 0)
          return -1;
        f->code[i] = (uint8_t)(hi << 4 | lo);
      }
      r->seen |= F_CODE;
      f->has_code = 1;
      return 0;
    }
    uint64_t v;
    if (parse_u64(value, &v) != 0)
      return -1;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
      if (strcmp(key, keys[i].key) != 0)
        continue;
      if (r->seen & keys[i].bit)
        return -1;
      r->seen |= keys[i].bit;
      switch (keys[i].bit) {
      case F_SIZE:
        f->size = v;
        return 0;
      case F_INODE:
        f->ino = v;
        return 0;
      case F_MTIME:
      case F_CTIME:
        if (v > (uint64_t)INT64_MAX)
          return -1;
        *(keys[i].bit == F_MTIME ? &f->mtime_ns : &f->ctime_ns) = (int64_t)v;
        return 0;
      default:
        if (v == 0 || v > SY__MANIFEST_MAX_PROVIDERS)
          return -1;
        r->declared = (size_t)v;
        if (!(f->provs = calloc(r->declared, sizeof *f->provs)))
          return -1;
        return 0;
      }
    }
    return -1;
  }
  if (r->where == 3) {
    sy__man_prov *p = &current(r)->provs[current(r)->nprovs - 1];
    if (!sy__manifest_storable(value))
      return -1;
    if (strcmp(key, "version") == 0 && !(r->prov_keys & 1)) {
      r->prov_keys |= 1;
      return (p->version = strdup(value)) ? 0 : -1;
    }
    if (strcmp(key, "description") == 0 && !(r->prov_keys & 2)) {
      r->prov_keys |= 2;
      return (p->description = strdup(value)) ? 0 : -1;
    }
    return -1;
  }
  return -1;
}

static int on_line(void *ud, const char *section, const char *key,
                   const char *value, int line, sy_error *err) {
  (void)line;
  (void)err;
  reader *r = ud;
  int rc = key ? on_key(r, key, value) : on_section(r, section);
  return rc ? SY_ESYNTAX : 0;
}

int sy__manifest_parse(const char *text, size_t len, sy__manifest *out) {
  memset(out, 0, sizeof *out);
  if (!text || len > SY__MANIFEST_MAX_BYTES)
    return -1;
  reader r = {out, 0, 0, 0, 0, 0};
  sy_error err;
  sy_error_clear(&err);
  if (sy__ini_parse(text, len, SY__MANIFEST_NAME, on_line, &r, &err) != 0)
    return -1;
  /* A cut manifest ends inside a section: the counts catch it. */
  if (r.where == 0 || section_done(&r) != 0 || plugin_done(&r) != 0)
    return -1;
  return 0;
}

int sy__manifest_read(const char *path, sy__manifest *out) {
  memset(out, 0, sizeof *out);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return -1;
  struct stat st;
  char *text = NULL;
  int rc = -1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (st.st_uid != 0 && st.st_uid != getuid()) ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) || st.st_size < 0 ||
      (uint64_t)st.st_size > SY__MANIFEST_MAX_BYTES)
    goto done;
  size_t size = (size_t)st.st_size, got = 0;
  sy_error ignored;
  void *data = NULL;
  if (sy_file_read_fd(fd, path, SY__MANIFEST_MAX_BYTES, &data, &got,
                      &ignored) != 0)
    goto done; /* failed or grew: rebuild */
  text = data;
  if (got != size)
    goto done; /* changed while read: rebuild */
  rc = sy__manifest_parse(text, size, out);
done:
  free(text);
  close(fd);
  return rc;
}

/* ---- writing -------------------------------------------------------- */

/* A value in the quotes it does not contain (storable: not both). */
static void put_quoted(FILE *f, const char *key, const char *s) {
  char q = strchr(s, '"') ? '\'' : '"';
  fprintf(f, "%s = %c%s%c\n", key, q, s, q);
}

int sy__manifest_write(const char *path, const sy__manifest *m) {
  size_t n = strlen(path);
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
  char *tmp = malloc(n + 32);
  if (!tmp) {
    errno = ENOMEM;
    return -1;
  }
  /* Hidden, so a folder scan never takes it for a plugin. */
  snprintf(tmp, n + 32, "%.*s.%s.XXXXXX", (int)dirlen, path,
           path + dirlen + (path[dirlen] == '.'));
  int fd = mkstemp(tmp);
  if (fd < 0) {
    free(tmp);
    return -1;
  }
  FILE *f = fdopen(fd, "w");
  if (!f) {
    int e = errno;
    close(fd);
    unlink(tmp);
    free(tmp);
    errno = e;
    return -1;
  }
  char id[256];
  core_id(id, sizeof id);
  fputs("; switchyard plugin manifest: what each plugin of this folder\n"
        "; provides, so that a start loads only the plugins it uses. Written\n"
        "; by switchyard; safe to delete (it is rebuilt).\n"
        "[switchyard-manifest]\nformat = " FORMAT "\n",
        f);
  put_quoted(f, "core", id);
  for (size_t i = 0; i < m->nfiles; i++) {
    const sy__man_file *r = &m->files[i];
    fprintf(f,
            "\n[plugin %s]\nsize = %llu\nmtime = %lld\nctime = %lld\n"
            "inode = %llu\n",
            r->name, (unsigned long long)r->size, (long long)r->mtime_ns,
            (long long)r->ctime_ns, (unsigned long long)r->ino);
    if (r->has_code) {
      fputs("code = ", f);
      for (int k = 0; k < 16; k++)
        fprintf(f, "%02x", r->code[k]);
      fputc('\n', f);
    }
    fprintf(f, "providers = %zu\n", r->nprovs);
    for (size_t j = 0; j < r->nprovs; j++) {
      const sy__man_prov *p = &r->provs[j];
      fprintf(f, "[provider %s %s]\n", sy_kind_name(p->kind), p->name);
      put_quoted(f, "version", p->version);
      put_quoted(f, "description", p->description);
    }
  }
  int rc = 0;
  if (fchmod(fd, 0644) != 0 || ferror(f))
    rc = -1;
  if (fclose(f) != 0)
    rc = -1;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -1;
  if (rc != 0) {
    int e = errno;
    unlink(tmp);
    errno = e;
  }
  free(tmp);
  return rc;
}

/* ---- the user's cache ------------------------------------------------- */

char *sy__manifest_cache_path(const char *dir) {
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  char base[PATH_MAX];
  if (xdg && xdg[0] == '/')
    snprintf(base, sizeof base, "%s", xdg);
  else if (home && home[0] == '/')
    snprintf(base, sizeof base, "%s/.cache", home);
  else
    return NULL;
  char *real = realpath(dir, NULL);
  if (!real)
    return NULL;
  unsigned long long h = XXH3_64bits(real, strlen(real));
  free(real);
  size_t len = strlen(base) + 64;
  char *path = malloc(len);
  if (path)
    snprintf(path, len, "%s/switchyard-plugins/%016llx.manifest", base, h);
  return path;
}

int sy__manifest_cache_prepare(const char *path) {
  char *dir = strdup(path);
  if (!dir)
    return -1;
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) {
    free(dir);
    return -1;
  }
  *slash = '\0';
  /* mkdir -p, each missing level 0700. */
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
      free(dir);
      return -1;
    }
    *p = '/';
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    free(dir);
    return -1;
  }
  struct stat st;
  int ok = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
           st.st_uid == getuid() && !(st.st_mode & (S_IWGRP | S_IWOTH));
  free(dir);
  return ok ? 0 : -1;
}

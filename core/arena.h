/*
 * arena.h - memory for large models (internal to the core): arrays on
 * transparent huge pages, and a bump allocator. The flow model (flow.h)
 * and the program (program.h) both keep their strings in an arena; each
 * owns its own type and includes this.
 */
#ifndef SY_CORE_ARENA_H
#define SY_CORE_ARENA_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* Large arrays (a 1e6-step flow touches ~600 MB of fresh memory between
 * its text, tree, model, program and job) ask for transparent huge
 * pages where the kernel offers them on request (THP "madvise" mode): a
 * fault then maps 2 MiB instead of 4 KiB, and the faults, not the work,
 * were a third of the time (perf: page-fault entry ~20%, TLB misses in
 * user time besides). Only whole 2 MiB pages inside the allocation are
 * advised, so nothing outside it changes; it stays a malloc block, freed
 * with free(). Small arrays are left alone. */
#define SY__HUGE ((uintptr_t)2 << 20)
static inline void sy__advise_huge(void *p, size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (!p || n < 2 * SY__HUGE)
    return;
  uintptr_t lo = ((uintptr_t)p + SY__HUGE - 1) & ~(SY__HUGE - 1);
  uintptr_t hi = ((uintptr_t)p + n) & ~(SY__HUGE - 1);
  if (hi > lo)
    (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)n;
#endif
}
static inline void *sy__big_malloc(size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  /* Aligned, and rounded up to whole huge pages, so that no 4 KiB pages
   * are left at either end (the rounding is address space, not memory:
   * pages are only mapped as they are touched). */
  if (n >= 2 * SY__HUGE && n <= SIZE_MAX - SY__HUGE) {
    size_t m = (n + SY__HUGE - 1) & ~(size_t)(SY__HUGE - 1);
    void *p = NULL;
    if (posix_memalign(&p, SY__HUGE, m) != 0)
      return NULL;
    sy__advise_huge(p, m);
    return p;
  }
#endif
  return malloc(n);
}
static inline void *sy__big_calloc(size_t k, size_t n) {
  void *p = calloc(k, n);
  if (p)
    sy__advise_huge(p, k * n); /* calloc checked k * n */
  return p;
}

/* A bump allocator: many small allocations carved from large blocks and
 * freed all at once. The flow model (flow.c) and the program keep their
 * strings and small arrays in one, which saves the malloc header and the
 * per-string free of each (a 1e6-step flow has millions of them). */
typedef struct sy__arena_blk sy__arena_blk;
typedef struct sy__arena {
  sy__arena_blk *top;
  size_t max; /* largest block, header included; 0: SY__ARENA_MAX */
} sy__arena;
/* Inline here, so that every unit (and fuzzer) that uses it links alone.
 * sy__arena_alloc: n bytes aligned to 8, or NULL on OOM;
 * sy__arena_strndup: the first n bytes of s, NUL-terminated.
 * Blocks double from 4 KiB to 8 MiB (or the arena's `max`, which the
 * flow loader sets for the tree it gives back as it goes), so a small
 * flow costs a page and a large one a few dozen mallocs (the large
 * blocks on huge pages). An allocation larger than a quarter block gets
 * a block of its own. */
#define SY__ARENA_FIRST ((size_t)4096)
#define SY__ARENA_MAX ((size_t)8 << 20)

struct sy__arena_blk {
  sy__arena_blk *prev;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
};

static inline void *sy__arena_take(sy__arena *a, size_t n, size_t align) {
  sy__arena_blk *b = a->top;
  if (n > SIZE_MAX / 2)
    return NULL;
  size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
  if (b && at <= b->cap && b->cap - at >= n) {
    b->used = at + n;
    return b->data + at;
  }
  size_t cap = b ? b->cap * 2 : SY__ARENA_FIRST;
  size_t max = a->max ? a->max : SY__ARENA_MAX;
  if (cap > max - sizeof *b)
    cap = max - sizeof *b; /* the block, header included */
  int own = n > cap / 4;
  if (own)
    cap = n ? n : 1;
  sy__arena_blk *nb = sy__big_malloc(sizeof *nb + cap);
  if (!nb)
    return NULL;
  nb->cap = cap;
  nb->used = n;
  if (own && b) {
    /* Under the top block, whose free space stays in use. */
    nb->prev = b->prev;
    b->prev = nb;
  } else {
    nb->prev = b;
    a->top = nb;
  }
  return nb->data;
}

static inline void *sy__arena_alloc(sy__arena *a, size_t n) {
  return sy__arena_take(a, n, 8);
}

static inline char *sy__arena_strndup(sy__arena *a, const char *s, size_t n) {
  char *p = sy__arena_take(a, n + 1, 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static inline char *sy__arena_strdup(sy__arena *a, const char *s) {
  return sy__arena_strndup(a, s, strlen(s));
}

static inline void sy__arena_free(sy__arena *a) {
  sy__arena_blk *b = a->top;
  while (b) {
    sy__arena_blk *prev = b->prev;
    free(b);
    b = prev;
  }
  a->top = NULL;
}

#endif /* SY_CORE_ARENA_H */

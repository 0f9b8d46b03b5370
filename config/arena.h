/*
 * arena.h - a bump allocator for data that lives and dies together.
 *
 * A loaded configuration is immutable and freed as one unit, so every
 * string and array inside it comes from one arena: no per-field ownership,
 * no partial-free paths on errors. Internal to config/.
 */
#ifndef TW_ARENA_H
#define TW_ARENA_H

#include <stddef.h>

typedef struct tw_arena tw_arena;

/* Returns an empty arena, or NULL when out of memory. */
tw_arena *tw_arena_new(void);

/* Frees the arena and everything allocated from it. NULL-safe. */
void tw_arena_free(tw_arena *a);

/* Zeroed memory aligned for any object type, valid until tw_arena_free.
 * Returns NULL when out of memory. size 0 returns a valid unique pointer. */
void *tw_arena_alloc(tw_arena *a, size_t size);

/* n elements of size bytes; NULL on overflow or when out of memory. */
void *tw_arena_array(tw_arena *a, size_t n, size_t size);

/* Copy of the n bytes at s plus a terminating NUL; NULL when out of memory. */
char *tw_arena_strndup(tw_arena *a, const char *s, size_t n);

#endif /* TW_ARENA_H */

/* arena.c - chunked bump allocator (see arena.h). */
#include "arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK_SIZE = 16384 };

struct chunk {
	struct chunk *next;
	size_t used, cap; /* in bytes of data[] */
	max_align_t data[];
};

struct tw_arena {
	struct chunk *head;
};

tw_arena *tw_arena_new(void)
{
	return calloc(1, sizeof(tw_arena));
}

void tw_arena_free(tw_arena *a)
{
	if (!a)
		return;
	struct chunk *c = a->head;
	while (c) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}

static struct chunk *chunk_new(size_t cap)
{
	if (cap > SIZE_MAX - sizeof(struct chunk))
		return NULL;
	struct chunk *c = calloc(1, sizeof(struct chunk) + cap);
	if (!c)
		return NULL;
	c->cap = cap;
	return c;
}

void *tw_arena_alloc(tw_arena *a, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	if (size > SIZE_MAX - align)
		return NULL;
	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	struct chunk *c = a->head;
	if (!c || c->cap - c->used < size) {
		/* Large requests get a chunk of their own behind the current one,
		 * so the space left in the current chunk is not wasted. */
		bool big = size > CHUNK_SIZE / 4;
		struct chunk *n = chunk_new(big ? size : CHUNK_SIZE);
		if (!n)
			return NULL;
		if (big && c) {
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			a->head = n;
		}
		c = n;
	}
	void *p = (unsigned char *)c->data + c->used;
	c->used += size;
	return p;
}

void *tw_arena_array(tw_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return tw_arena_alloc(a, n * size);
}

char *tw_arena_strndup(tw_arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = tw_arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/*
 * buf.h - a growable byte buffer with a hard cap, reused between scrapes.
 *
 * The buffer keeps its allocation across tw_buf_clear() so steady-state
 * scrapes allocate nothing; its content never exceeds max bytes: an append
 * or commit that would exceed the cap fails with -ENOBUFS and marks the
 * buffer failed (sticky) so a renderer can check once at the end.
 */
#ifndef TW_BUF_H
#define TW_BUF_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct tw_buf {
	char *data;   /* owned; NULL until the first append */
	size_t len;
	size_t cap;   /* allocated bytes */
	size_t max;   /* hard limit on len */
	int err;      /* sticky: first error of an append since the last clear */
} tw_buf;

/* Initialises an empty buffer that may grow to max bytes (0 = 1 GiB). */
void tw_buf_init(tw_buf *b, size_t max);
/* Releases the storage (NULL-safe); b may be re-initialised afterwards. */
void tw_buf_fini(tw_buf *b);
/* Empties the buffer and its sticky error, keeping the allocation. */
void tw_buf_clear(tw_buf *b);

/* Makes room to write n more bytes past len (the allocation may exceed the
 * cap by up to n so that callers can write a bounded over-estimate and then
 * commit what they wrote; commits enforce the cap exactly). Returns 0 or
 * -ENOMEM; a sticky error is returned as is. */
int tw_buf_reserve(tw_buf *b, size_t n);
/* Appends n bytes / a C string. Returns 0, -ENOBUFS when len would exceed
 * max, or -ENOMEM; errors are also recorded in b->err. */
int tw_buf_append(tw_buf *b, const void *p, size_t n);
int tw_buf_puts(tw_buf *b, const char *s);

/* Direct writes after a successful tw_buf_reserve(b, n): the caller copies
 * up to n bytes to tw_buf_tail(b), then commits them. */
static inline char *tw_buf_tail(tw_buf *b)
{
	return b->data + b->len;
}

/* Makes n written bytes part of the content. Returns 0, or -ENOBUFS (also
 * recorded in b->err; the bytes are dropped) when len would exceed max. */
static inline int tw_buf_commit(tw_buf *b, size_t n)
{
	if (n > b->max - b->len) {
		if (!b->err)
			b->err = -ENOBUFS;
		return -ENOBUFS;
	}
	b->len += n;
	return 0;
}

#endif /* TW_BUF_H */

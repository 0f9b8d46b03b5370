/* buf.c - capped growable buffer (see buf.h). */
#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX ((size_t)1 << 30)
#define MIN_ALLOC 4096

void tw_buf_init(tw_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : DEFAULT_MAX;
}

void tw_buf_fini(tw_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void tw_buf_clear(tw_buf *b)
{
	b->len = 0;
	b->err = 0;
}

static int fail(tw_buf *b, int err)
{
	if (!b->err)
		b->err = err;
	return err;
}

static int grow(tw_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : MIN_ALLOC;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return fail(b, -ENOMEM);
	b->data = p;
	b->cap = cap;
	return 0;
}

int tw_buf_reserve(tw_buf *b, size_t n)
{
	if (b->err)
		return b->err;
	if (n > SIZE_MAX - b->len)
		return fail(b, -ENOMEM);
	if (b->len + n <= b->cap)
		return 0;
	return grow(b, b->len + n);
}

int tw_buf_append(tw_buf *b, const void *p, size_t n)
{
	if (!b->err && n > b->max - b->len)
		return fail(b, -ENOBUFS);
	int rc = tw_buf_reserve(b, n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int tw_buf_puts(tw_buf *b, const char *s)
{
	return tw_buf_append(b, s, strlen(s));
}

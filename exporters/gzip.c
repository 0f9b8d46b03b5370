/* gzip.c - gzip compression with a reusable zlib stream (see gzip.h). */
#include "gzip.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#define GZIP_WINDOW (15 + 16) /* 32 KiB window, gzip wrapper */
#define MEM_LEVEL 8
#define CHUNK ((size_t)64 * 1024)

struct tw_gzip {
	z_stream zs;
};

tw_gzip *tw_gzip_new(int level)
{
	if (level == 0)
		level = 1;
	if (level < 1 || level > 9)
		return NULL;
	tw_gzip *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	if (deflateInit2(&g->zs, level, Z_DEFLATED, GZIP_WINDOW, MEM_LEVEL,
		    Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return NULL;
	}
	return g;
}

void tw_gzip_free(tw_gzip *g)
{
	if (!g)
		return;
	deflateEnd(&g->zs);
	free(g);
}

/* Hands zlib the next slice of input once it has used up the last one. */
static void feed(z_stream *zs, const unsigned char **in, size_t *left)
{
	if (zs->avail_in > 0 || *left == 0)
		return;
	size_t n = *left < UINT_MAX ? *left : UINT_MAX;
	zs->next_in = (unsigned char *)(uintptr_t)*in; /* zlib never writes input */
	zs->avail_in = (uInt)n;
	*in += n;
	*left -= n;
}

int tw_gzip_compress(tw_gzip *g, const void *in, size_t n, tw_buf *out)
{
	z_stream *zs = &g->zs;
	if (deflateReset(zs) != Z_OK)
		return -EIO;
	const unsigned char *p = in;
	size_t left = n;
	zs->avail_in = 0;
	int zrc;
	do {
		int rc = tw_buf_reserve(out, CHUNK);
		if (rc < 0)
			return rc;
		feed(zs, &p, &left);
		zs->next_out = (unsigned char *)tw_buf_tail(out);
		zs->avail_out = (uInt)CHUNK;
		zrc = deflate(zs, left == 0 ? Z_FINISH : Z_NO_FLUSH);
		if ((rc = tw_buf_commit(out, CHUNK - zs->avail_out)) < 0)
			return rc;
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
			return -EIO;
	} while (zrc != Z_STREAM_END);
	return 0;
}

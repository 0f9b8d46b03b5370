/*
 * gzip.h - gzip (RFC 1952) compression of a scrape body with zlib, keeping
 * one deflate state alive between scrapes so each response costs no
 * allocation once warmed up.
 */
#ifndef TW_GZIP_H
#define TW_GZIP_H

#include <stddef.h>

#include "buf.h"

typedef struct tw_gzip tw_gzip;

/* level 1 (fast) .. 9 (small); 0 picks 1. Returns NULL on ENOMEM or a bad
 * level. tw_gzip_free is NULL-safe. */
tw_gzip *tw_gzip_new(int level);
void tw_gzip_free(tw_gzip *g);

/* Appends one complete gzip member holding in[0..n) to out. Returns 0,
 * -ENOBUFS when out's cap is exceeded, -ENOMEM, or -EIO on a zlib error. */
int tw_gzip_compress(tw_gzip *g, const void *in, size_t n, tw_buf *out);

#endif /* TW_GZIP_H */

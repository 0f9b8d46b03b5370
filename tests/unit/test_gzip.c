/* test_gzip.c - gzip bodies inflate (with zlib, independently) back to the
 * input; the deflate state is reused; the output cap holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gzip.h"

/* Inflates a gzip member with zlib; returns the length or -1. */
static long gunzip(const void *in, size_t n, unsigned char *out, size_t cap)
{
	z_stream zs = { 0 };
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -1;
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	int rc = inflate(&zs, Z_FINISH);
	long len = rc == Z_STREAM_END && zs.avail_in == 0 ? (long)zs.total_out : -1;
	inflateEnd(&zs);
	return len;
}

static char *metrics_text(size_t lines, size_t *len)
{
	char *t = malloc(lines * 96);
	size_t n = 0;
	for (size_t i = 0; i < lines; i++)
		n += (size_t)snprintf(t + n, lines * 96 - n,
			"twamp_rtt_seconds_bucket{target=\"pop-%zu\",le=\"0.001\"} %zu\n", i / 19, i * 7);
	*len = n;
	return t;
}

static void round_trip(tw_gzip *g, const char *text, size_t len)
{
	tw_buf out;
	tw_buf_init(&out, 0);
	assert_int_equal(tw_gzip_compress(g, text, len, &out), 0);
	assert_true(out.len >= 18);
	assert_int_equal((unsigned char)out.data[0], 0x1f); /* gzip magic */
	assert_int_equal((unsigned char)out.data[1], 0x8b);
	unsigned char *back = malloc(len + 1);
	assert_int_equal(gunzip(out.data, out.len, back, len + 1), (long)len);
	assert_memory_equal(back, text, len);
	free(back);
	tw_buf_fini(&out);
}

static void test_round_trip(void **state)
{
	(void)state;
	tw_gzip *g = tw_gzip_new(0);
	assert_non_null(g);
	size_t len;
	char *text = metrics_text(40000, &len); /* ~2.5 MB: many 64 KiB chunks */
	assert_true(len > 2000000);
	round_trip(g, text, len);
	round_trip(g, text, 100); /* the stream is reset between bodies */
	round_trip(g, "", 0);
	free(text);
	tw_gzip_free(g);
	tw_gzip_free(NULL);
}

static void test_deterministic_and_small(void **state)
{
	(void)state;
	tw_gzip *g = tw_gzip_new(6);
	size_t len;
	char *text = metrics_text(5000, &len);
	tw_buf a, b;
	tw_buf_init(&a, 0);
	tw_buf_init(&b, 0);
	assert_int_equal(tw_gzip_compress(g, text, len, &a), 0);
	assert_int_equal(tw_gzip_compress(g, text, len, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_true(a.len * 5 < len); /* metrics text compresses well */
	tw_buf_fini(&a);
	tw_buf_fini(&b);
	free(text);
	tw_gzip_free(g);
	assert_null(tw_gzip_new(10));
	assert_null(tw_gzip_new(-3));
}

static void test_cap(void **state)
{
	(void)state;
	tw_gzip *g = tw_gzip_new(1);
	unsigned char noise[20000];
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < sizeof(noise); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		noise[i] = (unsigned char)x;
	}
	tw_buf out;
	tw_buf_init(&out, 1000);
	assert_int_equal(tw_gzip_compress(g, noise, sizeof(noise), &out), -ENOBUFS);
	assert_true(out.len <= 1000);
	tw_buf_fini(&out);
	tw_gzip_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_deterministic_and_small),
		cmocka_unit_test(test_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_wire.c - bounded cursor: round trips and sticky errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wire.h"

static void test_roundtrip(void **state)
{
	(void)state;
	uint8_t buf[32];
	tw_wr w = tw_wr_make(buf, sizeof(buf));
	tw_wr_u8(&w, 0x01);
	tw_wr_u16(&w, 0x0203);
	tw_wr_u32(&w, 0x04050607);
	tw_wr_u64(&w, 0x08090a0b0c0d0e0fULL);
	tw_wr_zero(&w, 2);
	tw_wr_copy(&w, "xy", 2);
	assert_true(tw_wr_ok(&w));
	assert_int_equal(tw_wr_len(&w), 19);
	static const uint8_t expect[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 'x', 'y' };
	assert_memory_equal(buf, expect, sizeof(expect));

	tw_rd r = tw_rd_make(buf, 19);
	assert_int_equal(tw_rd_u8(&r), 1);
	assert_int_equal(tw_rd_u16(&r), 0x0203);
	assert_int_equal(tw_rd_u32(&r), 0x04050607);
	assert_true(tw_rd_u64(&r) == 0x08090a0b0c0d0e0fULL);
	tw_rd_skip(&r, 2);
	char xy[2];
	tw_rd_copy(&r, xy, 2);
	assert_memory_equal(xy, "xy", 2);
	assert_true(tw_rd_ok(&r));
	assert_int_equal(tw_rd_left(&r), 0);
}

static void test_reader_sticky_error(void **state)
{
	(void)state;
	const uint8_t buf[3] = { 0xff, 0xff, 0xff };
	tw_rd r = tw_rd_make(buf, sizeof(buf));
	assert_int_equal(tw_rd_u16(&r), 0xffff);
	assert_int_equal(tw_rd_u32(&r), 0); /* only 1 octet left */
	assert_false(tw_rd_ok(&r));
	assert_int_equal(tw_rd_u8(&r), 0); /* stays failed even though 1 octet remains */
	assert_null(tw_rd_take(&r, 0));
	assert_int_equal(tw_rd_left(&r), 0);
	uint8_t dst[4] = { 9, 9, 9, 9 };
	tw_rd_copy(&r, dst, 4);
	assert_int_equal(dst[0] | dst[1] | dst[2] | dst[3], 0);
}

static void test_reader_huge_length(void **state)
{
	(void)state;
	const uint8_t buf[4] = { 0 };
	tw_rd r = tw_rd_make(buf, sizeof(buf));
	tw_rd_skip(&r, 2);
	assert_null(tw_rd_take(&r, SIZE_MAX)); /* no wrap-around in the bounds check */
	assert_false(tw_rd_ok(&r));
}

static void test_writer_sticky_error(void **state)
{
	(void)state;
	uint8_t buf[5] = { 0 };
	tw_wr w = tw_wr_make(buf, 4);
	tw_wr_u32(&w, 0x01020304);
	tw_wr_u8(&w, 0xee);
	assert_false(tw_wr_ok(&w));
	assert_int_equal(buf[4], 0); /* nothing written past cap */
	tw_wr_u8(&w, 0xee);
	assert_int_equal(tw_wr_len(&w), 4);
}

static void test_put_get(void **state)
{
	(void)state;
	uint8_t b[8];
	tw_put_u64(b, 0x1122334455667788ULL);
	assert_true(tw_get_u64(b) == 0x1122334455667788ULL);
	assert_int_equal(tw_get_u32(b + 4), 0x55667788);
	tw_put_u16(b, 0xabcd);
	assert_int_equal(tw_get_u16(b), 0xabcd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_reader_sticky_error),
		cmocka_unit_test(test_reader_huge_length),
		cmocka_unit_test(test_writer_sticky_error),
		cmocka_unit_test(test_put_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_process.c - /proc parsing for the process_* collector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "process.h"

static void test_parse_stat(void **state)
{
	(void)state;
	/* a command name with spaces and parentheses */
	static const char line[] =
		"4242 (tw (a) b) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 1 0 "
		"123456 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";
	tw_proc_stat st;
	assert_int_equal(tw_process_parse_stat(line, sizeof(line) - 1, &st), 0);
	assert_int_equal(st.utime, 250);
	assert_int_equal(st.stime, 75);
	assert_int_equal(st.starttime, 123456);
	assert_int_equal(st.vsize, 104857600);
	assert_int_equal(st.rss, 2560);

	static const char *const bad[] = {
		"4242 tw S 1",                               /* no ')' */
		"4242 (tw) S 1 2 3",                         /* truncated */
		"4242 (tw) S 1 4242 4242 0 -1 4194560 1000 0 0 0 2x0 75 0 0 20 0 1 0 1 2 3",
		"4242 (tw) S 1 4242 4242 0 -1 4194560 1000 0 0 0 99999999999999999999 75 0 0 20 0 1 0 1 2 3",
	};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(tw_process_parse_stat(bad[i], strlen(bad[i]), &st), -EINVAL);
	/* not NUL-terminated: the length bounds the parse */
	assert_int_equal(tw_process_parse_stat(line, 60, &st), -EINVAL);
}

static void test_parse_btime(void **state)
{
	(void)state;
	static const char text[] = "cpu  1 2 3\nintr 5 6 7\nbtime 1700000000\nprocesses 9\n";
	uint64_t bt = 0;
	assert_int_equal(tw_process_parse_btime(text, sizeof(text) - 1, &bt), 0);
	assert_true(bt == 1700000000u);
	assert_int_equal(tw_process_parse_btime("cpu 1\nbtimes 5\n", 16, &bt), -EINVAL);
	assert_int_equal(tw_process_parse_btime("btime \n", 7, &bt), -EINVAL);
	assert_int_equal(tw_process_parse_btime("btime 12", 8, &bt), 0);
	assert_true(bt == 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_parse_btime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

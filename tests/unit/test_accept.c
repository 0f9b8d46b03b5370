/* test_accept.c - Accept-Encoding q-values and the gzip decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

#include "accept.h"

static void test_gzip_decision(void **state)
{
	(void)state;
	static const struct {
		const char *header;
		bool gzip;
	} cases[] = {
		{ "gzip", true },
		{ "GZip", true },
		{ "x-gzip", true },
		{ "gzip, deflate, br", true },
		{ "deflate, gzip;q=1.0, *;q=0.5", true },
		{ "gzip;q=0", false },
		{ "gzip;q=0.000", false },
		{ "gzip;q=0.001", true },
		{ "gzip ; q=0.5 ", true },
		{ "gzip;Q=0", false },
		{ "*", true },
		{ "*;q=0", false },
		{ "*;q=0, gzip", true },
		{ "gzip;q=0, *", false },          /* explicit beats wildcard */
		{ "identity", false },
		{ "identity;q=1, gzip;q=0.5", false }, /* identity preferred */
		{ "identity;q=0.5, gzip;q=0.5", true },
		{ "", false },
		{ "deflate", false },
		{ "gzipx", false },
		{ "gzip;q=1.5", false },           /* invalid q: element ignored */
		{ "gzip;q=0.1234", false },
		{ "gzip;q=", false },
		{ "gzip;q=\"0.5\"", false },
		{ "gzip;level=\"a,b\";q=0.5", true }, /* a quoted comma does not split */
		{ "gzip;level=\"a,b;q=0.5", false },  /* unterminated quote: malformed */
		{ "gzip;foo=bar;q=0.8", true },
		{ ",,gzip,,", true },
		{ "@@, gzip", true },
		{ "gzip;q=0.5;q", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (tw_accept_gzip(cases[i].header) != cases[i].gzip)
			fail_msg("Accept-Encoding \"%s\": expected gzip=%d", cases[i].header,
				cases[i].gzip);
	}
	assert_false(tw_accept_gzip(NULL));
}

static void test_qvalues(void **state)
{
	(void)state;
	assert_int_equal(tw_accept_qvalue("gzip;q=0.5", "gzip"), 500);
	assert_int_equal(tw_accept_qvalue("gzip;q=0.5, gzip;q=0.7", "gzip"), 700);
	assert_int_equal(tw_accept_qvalue("br", "gzip"), -1);
	assert_int_equal(tw_accept_qvalue("br, *;q=0.2", "gzip"), 200);
	assert_int_equal(tw_accept_qvalue("gzip;q=1.", "gzip"), 1000);
	assert_int_equal(tw_accept_qvalue("gzip;q=1.000", "gzip"), 1000);
	assert_int_equal(tw_accept_qvalue("gzip;q=1.001", "gzip"), -1);
	assert_int_equal(tw_accept_qvalue("gzip;q=0.05", "gzip"), 50);
	assert_int_equal(tw_accept_qvalue(NULL, "gzip"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzip_decision),
		cmocka_unit_test(test_qvalues),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

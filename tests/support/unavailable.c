/* unavailable.c - skip or fail when a test dependency is missing (see
 * unavailable.h). */
#include "unavailable.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

static bool set(const char *name)
{
	const char *v = getenv(name);
	return v && *v;
}

bool tw_test_strict(void)
{
	return set("TW_REQUIRE_TOOLS") || set("CI");
}

void tw_test_unavailable(const char *what)
{
	if (tw_test_strict())
		fail_msg("%s, but this run requires it (TW_REQUIRE_TOOLS or CI is set; tests/run-all.sh "
			 "installs every dependency)", what);
	print_message("%s; skipping\n", what);
	skip();
}

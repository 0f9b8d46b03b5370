/*
 * unavailable.h - what a cmocka test does when something it needs is not
 * on this machine (a tool, a locale, the IPv6 loopback): skip, except
 * where every dependency is required - TW_REQUIRE_TOOLS or CI set, as
 * tests/run-all.sh and CI do - since a check that cannot run there must
 * not pass (the same rule as twamplib.unavailable in integration/).
 */
#ifndef TW_UNAVAILABLE_H
#define TW_UNAVAILABLE_H

#include <stdbool.h>

/* True when TW_REQUIRE_TOOLS or CI is set (and not empty). */
bool tw_test_strict(void);

/* Ends the running test: a failure naming what under tw_test_strict(),
 * else a skip with what printed. Free what the test holds first: it does
 * not return. */
void tw_test_unavailable(const char *what);

#endif

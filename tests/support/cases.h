/*
 * cases.h - table-driven cmocka tests: one test function serves several
 * registered tests that differ only by data. Each row keeps its own test
 * name, so what cmocka lists and reports is the same as with one function
 * per case. Header only: a macro over struct CMUnitTest.
 */
#ifndef TW_CASES_H
#define TW_CASES_H

#include <stdint.h>

/* TW_CASE(name, fn, row): a cmocka test called name that runs fn with
 * *state == row. row points to data that outlives the test run (a static
 * table, a string literal or a compound literal in main; variadic so the
 * commas of a compound literal pass through); fn reads it through *state. */
#define TW_CASE(name, fn, ...) { (name), (fn), NULL, NULL, (void *)(uintptr_t)(__VA_ARGS__) }

#endif

/*
 * fuzz_procstat.c - the /proc/self/stat and /proc/stat parsers of the
 * process collector. Input: file text, not NUL-terminated (the parsers take
 * a length, so ASan catches any read past it).
 */
#include <stdint.h>
#include <stdlib.h>

#include "process.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tw_proc_stat st;
	uint64_t bt;
	(void)tw_process_parse_stat((const char *)data, size, &st);
	(void)tw_process_parse_btime((const char *)data, size, &bt);
	return 0;
}

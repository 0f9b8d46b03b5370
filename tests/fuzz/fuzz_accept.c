/*
 * fuzz_accept.c - Accept-Encoding parsing (untrusted request header).
 * Input: the header value (a NUL ends it early, as in a C string).
 * Checks: q-values stay in [-1, 1000]; choosing gzip implies some element
 * that admits gzip (gzip, x-gzip or *) has q > 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	static const char *const codings[] = { "gzip", "x-gzip", "*", "identity", "br" };
	int q[5];
	for (size_t i = 0; i < 5; i++) {
		q[i] = tw_accept_qvalue(h, codings[i]);
		if (q[i] < -1 || q[i] > 1000)
			abort();
	}
	if (tw_accept_gzip(h) && q[0] <= 0 && q[1] <= 0 && q[2] <= 0)
		abort();
	free(h);
	return 0;
}

/*
 * fuzz_listen.c - --web.listen-address parsing (tw_listen_parse).
 * Input: the address text (a NUL ends it early). Checks: an accepted
 * address has a bounded host of allowed characters, and printing the spec
 * back in canonical form parses to the same spec.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	tw_listen_spec sp;
	if (tw_listen_parse(s, &sp) == 0) {
		size_t hl = strnlen(sp.host, sizeof(sp.host));
		if (hl > TW_LISTEN_HOST_MAX || (sp.kind == TW_LISTEN_ANY) != (hl == 0))
			abort();
		char again[TW_LISTEN_HOST_MAX + 16];
		if (sp.kind == TW_LISTEN_IPV6)
			snprintf(again, sizeof(again), "[%s]:%u", sp.host, (unsigned)sp.port);
		else
			snprintf(again, sizeof(again), "%s:%u", sp.host, (unsigned)sp.port);
		tw_listen_spec sp2;
		if (tw_listen_parse(again, &sp2) != 0 || sp2.kind != sp.kind || sp2.port != sp.port ||
		    strcmp(sp2.host, sp.host) != 0)
			abort();
	}
	free(s);
	return 0;
}

/*
 * fuzz_dns.c - proto/dns: the response decoder and the resolv.conf and
 * hosts parsers on arbitrary input.
 *
 * Input: one selector octet, then the payload.
 *   bits 0-1  0 decode as an A response, 1 as an AAAA response,
 *             2 parse as resolv.conf, 3 look up in as hosts text
 *   bits 2-3  the name queried / looked up (NAMES below)
 * The response's own first two octets serve as the expected ID, so inputs
 * get past the ID check. Results are checked against the contracts in
 * dns.h (counts, capacities, ranges); any violation aborts.
 * Seed corpus: `test_dns --write-corpus tests/fuzz/corpus/dns`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const NAMES[4] = {
	"example.com",
	"web.default.svc.cluster.local",
	"www.example.net",
	"t.test",
};

enum { CAP = 8 };

static void check_decode(const uint8_t *msg, size_t len, const char *name, uint16_t qtype)
{
	uint16_t id = len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;
	tw_dns_addr addrs[CAP];
	tw_dns_answer ans = { addrs, CAP };
	int rc = tw_dns_response_decode(msg, len, id, name, qtype, &ans);
	tw_dns_answer count = { NULL, 0 };
	if (tw_dns_response_decode(msg, len, id, name, qtype, &count) != rc)
		abort(); /* the capacity must not change the verdict */
	if (rc == 0) {
		if (ans.total == 0 || ans.n != (ans.total < CAP ? ans.total : CAP) ||
		    count.total != ans.total || count.ttl != ans.ttl || ans.ttl > 0x7FFFFFFF)
			abort();
		for (size_t i = 0; i < ans.n; i++) {
			if (addrs[i].type != qtype)
				abort();
		}
	} else if (ans.n != 0 || (rc != -EBADMSG && rc != -EPROTO && rc != -EMSGSIZE &&
				   rc != -ENOENT && rc != -EIO && rc != -ENODATA)) {
		abort();
	}
}

static void check_conf(const char *text, size_t len)
{
	tw_resolv_conf c;
	tw_resolv_conf_parse(text, len, &c);
	if (c.n_ns > TW_RESOLV_MAX_NS || c.n_search > TW_RESOLV_MAX_SEARCH ||
	    c.ndots > TW_RESOLV_NDOTS_MAX || c.timeout_s < 1 || c.timeout_s > TW_RESOLV_TIMEOUT_MAX ||
	    c.attempts < 1 || c.attempts > TW_RESOLV_ATTEMPTS_MAX)
		abort();
	for (size_t i = 0; i < c.n_ns; i++) {
		if ((c.ns[i].ipvn != 4 && c.ns[i].ipvn != 6) ||
		    strnlen(c.ns[i].scope, TW_RESOLV_SCOPE_MAX) == TW_RESOLV_SCOPE_MAX)
			abort();
	}
	for (size_t i = 0; i < c.n_search; i++) {
		if (tw_dns_name_check(c.search[i]) != (int)strlen(c.search[i]))
			abort();
	}
}

static void check_hosts(const char *text, size_t len, const char *name)
{
	tw_dns_addr out[CAP];
	size_t all = tw_hosts_lookup(text, len, name, 0, out, CAP);
	size_t a = tw_hosts_lookup(text, len, name, TW_DNS_TYPE_A, out, CAP);
	size_t aaaa = tw_hosts_lookup(text, len, name, TW_DNS_TYPE_AAAA, out, CAP);
	if (a + aaaa != all)
		abort();
	for (size_t i = 0; i < aaaa && i < CAP; i++) {
		if (out[i].type != TW_DNS_TYPE_AAAA)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > TW_DNS_TCP_MAX)
		return 0;
	unsigned sel = data[0];
	const char *name = NAMES[(sel >> 2) & 3];
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	switch (sel & 3) {
	case 0:
		check_decode(p, len, name, TW_DNS_TYPE_A);
		break;
	case 1:
		check_decode(p, len, name, TW_DNS_TYPE_AAAA);
		break;
	case 2:
		check_conf((const char *)p, len);
		break;
	default:
		check_hosts((const char *)p, len, name);
		break;
	}
	return 0;
}

/*
 * test_dns.c - proto/dns: query bytes against hand-checked hex, responses
 * (hand-written hex and built ones: headless-service answers, CNAME chains
 * with compression, every RCODE, TC, mismatches, malformed and hostile
 * compression), and tables for resolv.conf and hosts text.
 *
 * `test_dns --write-corpus DIR` writes the responses and texts used here as
 * the seed corpus of fuzz_dns (format: see tests/fuzz/fuzz_dns.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "dnsmsg.h"
#include "testutil.h"

/* ---- messages: the support/dnsmsg.h writer ---- */

typedef tw_dnsmsg mb;

enum { F_RESP = 0x8180, F_AA = 0x0400, F_TC = 0x0200, QNAME_OFF = 12 };

static void resp_start(mb *m, uint16_t id, unsigned flags, const char *name, uint16_t qtype,
		       unsigned ancount)
{
	m->n = 0;
	tw_dnsmsg_u16(m, id);
	tw_dnsmsg_u16(m, flags);
	tw_dnsmsg_u16(m, 1);
	tw_dnsmsg_u16(m, ancount);
	tw_dnsmsg_u16(m, 0);
	tw_dnsmsg_u16(m, 0);
	tw_dnsmsg_name(m, name);
	tw_dnsmsg_u16(m, qtype);
	tw_dnsmsg_u16(m, TW_DNS_CLASS_IN);
}

static const char *fmt_addr(const tw_dns_addr *a, char *buf)
{
	return inet_ntop(a->type == TW_DNS_TYPE_A ? AF_INET : AF_INET6, a->addr, buf,
			 INET6_ADDRSTRLEN);
}

static int decode(const mb *m, uint16_t id, const char *name, uint16_t qtype, tw_dns_answer *ans)
{
	return tw_dns_response_decode(m->b, m->n, id, name, qtype, ans);
}

/* ---- fixtures shared with the corpus writer ---- */

static const char HEADLESS[] = "web.default.svc.cluster.local";

/* 3 A records for the name, plus records the decoder must ignore. */
static void build_headless_a(mb *m)
{
	resp_start(m, 0x4a11, F_RESP | F_AA, HEADLESS, TW_DNS_TYPE_A, 5);
	tw_dnsmsg_ptr(m, QNAME_OFF);
	tw_dnsmsg_rr_addr(m, 30, "10.244.0.5");
	tw_dnsmsg_ptr(m, QNAME_OFF);
	tw_dnsmsg_rr_addr(m, 1, "fd00::5"); /* wrong type for this question */
	tw_dnsmsg_ptr(m, QNAME_OFF);
	tw_dnsmsg_rr_addr(m, 5, "10.244.1.7");
	tw_dnsmsg_labels(m, "other");
	tw_dnsmsg_ptr(m, QNAME_OFF + 4); /* other.default.svc.cluster.local */
	tw_dnsmsg_rr_addr(m, 1, "10.244.9.9");
	tw_dnsmsg_ptr(m, QNAME_OFF);
	tw_dnsmsg_rr_addr(m, 30, "10.244.2.9");
}

static void build_headless_aaaa(mb *m)
{
	resp_start(m, 0x4a12, F_RESP | F_AA, HEADLESS, TW_DNS_TYPE_AAAA, 2);
	tw_dnsmsg_ptr(m, QNAME_OFF);
	tw_dnsmsg_rr_addr(m, 30, "fd00:10:244::5");
	tw_dnsmsg_ptr(m, QNAME_OFF);
	tw_dnsmsg_rr_addr(m, 30, "fd00:10:244:1::7");
}

/*
 * www.example.net CNAME cdn.example.net CNAME edge.cdn.example.org, with
 * the A records first: order must not matter. Names are compressed into
 * the question and into the first owner.
 */
static void build_cname_chain(mb *m)
{
	resp_start(m, 0x0c0c, F_RESP, "www.example.net", TW_DNS_TYPE_A, 4);
	size_t edge = m->n;
	tw_dnsmsg_name(m, "edge.cdn.example.org");
	tw_dnsmsg_rr_addr(m, 600, "192.0.2.10");
	tw_dnsmsg_ptr(m, edge);
	tw_dnsmsg_rr_addr(m, 600, "192.0.2.11");
	tw_dnsmsg_labels(m, "cdn");
	tw_dnsmsg_ptr(m, QNAME_OFF + 4); /* cdn.example.net */
	size_t rd = tw_dnsmsg_cname_begin(m, 60);
	tw_dnsmsg_labels(m, "edge");
	tw_dnsmsg_ptr(m, edge + 5); /* cdn.example.org */
	tw_dnsmsg_cname_end(m, rd);
	tw_dnsmsg_ptr(m, QNAME_OFF); /* www.example.net */
	rd = tw_dnsmsg_cname_begin(m, 120);
	tw_dnsmsg_labels(m, "cdn");
	tw_dnsmsg_ptr(m, QNAME_OFF + 4);
	tw_dnsmsg_cname_end(m, rd);
}

/* c0.test -> c1.test -> ... -> c<hops>.test, then an A record. */
static void build_chain(mb *m, int hops)
{
	char owner[32], alias[32];
	resp_start(m, 7, F_RESP, "c0.test", TW_DNS_TYPE_A, (unsigned)hops + 1);
	for (int i = 0; i < hops; i++) {
		snprintf(owner, sizeof(owner), "c%d.test", i);
		snprintf(alias, sizeof(alias), "c%d.test", i + 1);
		tw_dnsmsg_name(m, owner);
		size_t rd = tw_dnsmsg_cname_begin(m, 100);
		tw_dnsmsg_name(m, alias);
		tw_dnsmsg_cname_end(m, rd);
	}
	snprintf(owner, sizeof(owner), "c%d.test", hops);
	tw_dnsmsg_name(m, owner);
	tw_dnsmsg_rr_addr(m, 100, "198.51.100.1");
}

/* ---- names and queries ---- */

static void test_query_bytes(void **state)
{
	(void)state;
	uint8_t buf[TW_DNS_QUERY_MAX], want[64];
	/* ID 1234, RD, QDCOUNT 1, "example" "com" root, A, IN */
	long wl = tw_hex_decode("1234 0100 0001 0000 0000 0000"
				"07 6578616d706c65 03 636f6d 00 0001 0001",
				want, sizeof(want));
	int n = tw_dns_query_encode(0x1234, "example.com", TW_DNS_TYPE_A, buf, sizeof(buf));
	assert_int_equal(n, wl);
	assert_memory_equal(buf, want, (size_t)wl);
	assert_int_equal(tw_dns_query_encode(0x1234, "example.com.", TW_DNS_TYPE_A, buf, sizeof(buf)),
			 wl);
	assert_memory_equal(buf, want, (size_t)wl);

	wl = tw_hex_decode("beef 0100 0001 0000 0000 0000 01 61 01 62 00 001c 0001", want,
			   sizeof(want));
	n = tw_dns_query_encode(0xbeef, "a.b.", TW_DNS_TYPE_AAAA, buf, sizeof(buf));
	assert_int_equal(n, wl);
	assert_memory_equal(buf, want, (size_t)wl);

	assert_int_equal(tw_dns_query_encode(1, "example.com", TW_DNS_TYPE_A, buf, 28), -ENOSPC);
	assert_int_equal(tw_dns_query_encode(1, "example.com", TW_DNS_TYPE_A, buf, 29), 29);
	assert_int_equal(tw_dns_query_encode(1, "example.com", TW_DNS_TYPE_CNAME, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(tw_dns_query_encode(1, "a..b", TW_DNS_TYPE_A, buf, sizeof(buf)), -EINVAL);
}

static void test_query_max_name(void **state)
{
	(void)state;
	char name[300];
	/* 63+1+63+1+63+1+61 = 253 */
	memset(name, 'x', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	uint8_t buf[TW_DNS_QUERY_MAX];
	int n = tw_dns_query_encode(9, name, TW_DNS_TYPE_A, buf, sizeof(buf));
	assert_int_equal(n, TW_DNS_QUERY_MAX);
	assert_int_equal(buf[12], 63);
	assert_int_equal(buf[12 + 64 * 3], 61);
	assert_int_equal(buf[12 + 254], 0);
}

typedef struct name_case {
	const char *name;
	int want;
} name_case;

static void test_name_check(void **state)
{
	(void)state;
	char l63[80], l64[80], n253[300], n254[300];
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	memset(n253, 'b', 253);
	memset(n254, 'b', 254);
	for (int i = 50; i < 253; i += 50)
		n253[i] = n254[i] = '.';
	n253[253] = '\0';
	n254[254] = '\0';
	const name_case cases[] = {
		{ "localhost", 9 },
		{ "localhost.", 9 },
		{ "Web-1.default.svc.cluster.local", 31 },
		{ "_twamp._udp.example", 19 },
		{ "1.2.3.4", 7 },
		{ l63, 63 },
		{ n253, 253 },
		{ "", -EINVAL },
		{ ".", -EINVAL },
		{ "..", -EINVAL },
		{ ".a", -EINVAL },
		{ "a..b", -EINVAL },
		{ "a.b..", -EINVAL },
		{ l64, -EINVAL },
		{ n254, -EINVAL },
		{ "a b", -EINVAL },
		{ "a/b", -EINVAL },
		{ "caf\xc3\xa9", -EINVAL },
		{ "x*", -EINVAL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = tw_dns_name_check(cases[i].name);
		if (got != cases[i].want)
			fail_msg("name %zu \"%.40s\": got %d want %d", i, cases[i].name, got,
				 cases[i].want);
	}
}

/* ---- responses ---- */

static void test_decode_hand_hex(void **state)
{
	(void)state;
	uint8_t msg[128];
	long n = tw_hex_decode("1234 8180 0001 0002 0000 0000"
			       "07 6578616d706c65 03 636f6d 00 0001 0001"
			       "c00c 0001 0001 00000e10 0004 5db8d822"
			       "c00c 0001 0001 0000012c 0004 c0000201",
			       msg, sizeof(msg));
	tw_dns_addr addrs[4];
	tw_dns_answer ans = { addrs, 4 };
	assert_int_equal(tw_dns_response_decode(msg, (size_t)n, 0x1234, "example.com", TW_DNS_TYPE_A,
						&ans),
			 0);
	assert_int_equal(ans.n, 2);
	assert_int_equal(ans.total, 2);
	assert_int_equal(ans.ttl, 300);
	assert_int_equal(ans.rcode, 0);
	char buf[INET6_ADDRSTRLEN];
	assert_string_equal(fmt_addr(&addrs[0], buf), "93.184.216.34");
	assert_string_equal(fmt_addr(&addrs[1], buf), "192.0.2.1");
	/* case-insensitive question match (0x20-style answers) */
	assert_int_equal(tw_dns_response_decode(msg, (size_t)n, 0x1234, "EXAMPLE.Com.",
						TW_DNS_TYPE_A, &ans),
			 0);
}

static void test_decode_headless(void **state)
{
	(void)state;
	mb m;
	tw_dns_addr addrs[8];
	tw_dns_answer ans = { addrs, 8 };
	char buf[INET6_ADDRSTRLEN];
	build_headless_a(&m);
	assert_int_equal(decode(&m, 0x4a11, HEADLESS, TW_DNS_TYPE_A, &ans), 0);
	assert_int_equal(ans.n, 3);
	assert_int_equal(ans.ttl, 5); /* ignored records' TTL 1 does not count */
	assert_string_equal(fmt_addr(&addrs[0], buf), "10.244.0.5");
	assert_string_equal(fmt_addr(&addrs[1], buf), "10.244.1.7");
	assert_string_equal(fmt_addr(&addrs[2], buf), "10.244.2.9");
	for (size_t i = 0; i < ans.n; i++)
		assert_int_equal(addrs[i].type, TW_DNS_TYPE_A);

	build_headless_aaaa(&m);
	assert_int_equal(decode(&m, 0x4a12, HEADLESS, TW_DNS_TYPE_AAAA, &ans), 0);
	assert_int_equal(ans.n, 2);
	assert_int_equal(ans.ttl, 30);
	assert_string_equal(fmt_addr(&addrs[0], buf), "fd00:10:244::5");
	assert_string_equal(fmt_addr(&addrs[1], buf), "fd00:10:244:1::7");
	assert_int_equal(addrs[1].type, TW_DNS_TYPE_AAAA);
}

static void test_decode_capacity(void **state)
{
	(void)state;
	mb m;
	tw_dns_addr addrs[2];
	tw_dns_answer ans = { addrs, 2 };
	build_headless_a(&m);
	assert_int_equal(decode(&m, 0x4a11, HEADLESS, TW_DNS_TYPE_A, &ans), 0);
	assert_int_equal(ans.n, 2);
	assert_int_equal(ans.total, 3);
	tw_dns_answer count = { NULL, 0 };
	assert_int_equal(decode(&m, 0x4a11, HEADLESS, TW_DNS_TYPE_A, &count), 0);
	assert_int_equal(count.n, 0);
	assert_int_equal(count.total, 3);
	assert_int_equal(count.ttl, 5);
}

static void test_decode_cname_chain(void **state)
{
	(void)state;
	mb m;
	tw_dns_addr addrs[4];
	tw_dns_answer ans = { addrs, 4 };
	char buf[INET6_ADDRSTRLEN];
	build_cname_chain(&m);
	assert_int_equal(decode(&m, 0x0c0c, "www.example.net", TW_DNS_TYPE_A, &ans), 0);
	assert_int_equal(ans.n, 2);
	assert_int_equal(ans.ttl, 60); /* the chain's shortest TTL */
	assert_string_equal(fmt_addr(&addrs[0], buf), "192.0.2.10");
	assert_string_equal(fmt_addr(&addrs[1], buf), "192.0.2.11");

	build_chain(&m, TW_DNS_CNAME_MAX);
	assert_int_equal(decode(&m, 7, "c0.test", TW_DNS_TYPE_A, &ans), 0);
	assert_int_equal(ans.n, 1);
	build_chain(&m, TW_DNS_CNAME_MAX + 1);
	assert_int_equal(decode(&m, 7, "c0.test", TW_DNS_TYPE_A, &ans), -EBADMSG);

	/* a.test -> b.test -> a.test */
	resp_start(&m, 8, F_RESP, "a.test", TW_DNS_TYPE_A, 2);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	size_t rd = tw_dnsmsg_cname_begin(&m, 10);
	tw_dnsmsg_name(&m, "b.test");
	tw_dnsmsg_cname_end(&m, rd);
	tw_dnsmsg_ptr(&m, rd);
	rd = tw_dnsmsg_cname_begin(&m, 10);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_cname_end(&m, rd);
	assert_int_equal(decode(&m, 8, "a.test", TW_DNS_TYPE_A, &ans), -EBADMSG);

	/* a CNAME whose target has no record of the type: NODATA */
	resp_start(&m, 9, F_RESP, "alias.test", TW_DNS_TYPE_AAAA, 2);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	rd = tw_dnsmsg_cname_begin(&m, 10);
	tw_dnsmsg_name(&m, "v4only.test");
	tw_dnsmsg_cname_end(&m, rd);
	tw_dnsmsg_ptr(&m, rd);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.1");
	assert_int_equal(decode(&m, 9, "alias.test", TW_DNS_TYPE_AAAA, &ans), -ENODATA);
	assert_int_equal(ans.total, 0);
}

typedef struct rcode_case {
	unsigned flags;
	int want;
	unsigned rcode;
	bool tc;
} rcode_case;

static void test_decode_rcodes(void **state)
{
	(void)state;
	static const rcode_case cases[] = {
		{ F_RESP | TW_DNS_RCODE_NXDOMAIN, -ENOENT, 3, false },
		{ F_RESP | TW_DNS_RCODE_SERVFAIL, -EIO, 2, false },
		{ F_RESP | TW_DNS_RCODE_REFUSED, -EIO, 5, false },
		{ F_RESP | TW_DNS_RCODE_FORMERR, -EIO, 1, false },
		{ F_RESP | TW_DNS_RCODE_NOTIMP, -EIO, 4, false },
		{ F_RESP | F_TC, -EMSGSIZE, 0, true },
		{ F_RESP | F_TC | TW_DNS_RCODE_SERVFAIL, -EMSGSIZE, 2, true },
		{ F_RESP, -ENODATA, 0, false },
	};
	mb m;
	tw_dns_addr addrs[2];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tw_dns_answer ans = { addrs, 2 };
		resp_start(&m, 0x5151, cases[i].flags, "gone.example", TW_DNS_TYPE_A, 0);
		assert_int_equal(decode(&m, 0x5151, "gone.example", TW_DNS_TYPE_A, &ans),
				 cases[i].want);
		assert_int_equal(ans.rcode, cases[i].rcode);
		assert_int_equal(ans.truncated, cases[i].tc);
		assert_int_equal(ans.n, 0);
	}
}

static void test_decode_mismatch(void **state)
{
	(void)state;
	mb m;
	tw_dns_answer ans = { NULL, 0 };
	build_headless_a(&m);
	assert_int_equal(decode(&m, 0x4a12, HEADLESS, TW_DNS_TYPE_A, &ans), -EPROTO);
	assert_int_equal(decode(&m, 0x4a11, HEADLESS, TW_DNS_TYPE_AAAA, &ans), -EPROTO);
	assert_int_equal(decode(&m, 0x4a11, "web.default.svc.cluster", TW_DNS_TYPE_A, &ans), -EPROTO);
	assert_int_equal(decode(&m, 0x4a11, "xweb.default.svc.cluster.local", TW_DNS_TYPE_A, &ans),
			 -EPROTO);
	assert_int_equal(decode(&m, 0x4a11, "bad..name", TW_DNS_TYPE_A, &ans), -EINVAL);

	static const struct {
		size_t off;
		uint8_t val;
	} patches[] = {
		{ 2, 0x01 },             /* QR clear */
		{ 2, 0x81 | 2 << 3 },    /* opcode STATUS */
		{ 5, 0 },                /* QDCOUNT 0 */
		{ 5, 2 },                /* QDCOUNT 2 */
		{ QNAME_OFF + 1, 'x' },  /* name differs in one letter */
	};
	for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
		build_headless_a(&m);
		m.b[patches[i].off] = patches[i].val;
		assert_int_equal(decode(&m, 0x4a11, HEADLESS, TW_DNS_TYPE_A, &ans), -EPROTO);
	}
	build_headless_a(&m);
	m.b[QNAME_OFF + 31 + 3] = 3; /* QCLASS CH */
	assert_int_equal(decode(&m, 0x4a11, HEADLESS, TW_DNS_TYPE_A, &ans), -EPROTO);
	build_headless_a(&m);
	m.b[QNAME_OFF + 1] = 'W'; /* case differs: still ours */
	assert_int_equal(decode(&m, 0x4a11, HEADLESS, TW_DNS_TYPE_A, &ans), 0);
}

static void test_decode_truncated_everywhere(void **state)
{
	(void)state;
	mb m;
	tw_dns_addr addrs[8];
	build_cname_chain(&m);
	for (size_t len = 0; len < m.n; len++) {
		tw_dns_answer ans = { addrs, 8 };
		int rc = tw_dns_response_decode(m.b, len, 0x0c0c, "www.example.net", TW_DNS_TYPE_A,
						&ans);
		if (rc != -EBADMSG)
			fail_msg("prefix %zu of %zu: rc %d", len, m.n, rc);
	}
	/* extra octets after the records (unparsed sections) are fine */
	tw_dnsmsg_u32(&m, 0xdeadbeef);
	tw_dns_answer ans = { addrs, 8 };
	assert_int_equal(decode(&m, 0x0c0c, "www.example.net", TW_DNS_TYPE_A, &ans), 0);
}

/* One answer record with a crafted owner for "t.test" A. */
static void hostile_owner(mb *m, int kind)
{
	resp_start(m, 3, F_RESP, "t.test", TW_DNS_TYPE_A, 1);
	size_t here = m->n;
	switch (kind) {
	case 0: /* pointer to itself */
		tw_dnsmsg_ptr(m, here);
		break;
	case 1: /* pointer forward, to a valid name after the record */
		tw_dnsmsg_ptr(m, here + 2 + 14);
		break;
	case 2: /* label then a pointer back to that label: a loop */
		tw_dnsmsg_labels(m, "t");
		tw_dnsmsg_ptr(m, here);
		break;
	case 3: /* pointer into the header */
		tw_dnsmsg_ptr(m, 2);
		break;
	case 4: /* extended label type 0x40 */
		tw_dnsmsg_u8(m, 0x41);
		tw_dnsmsg_u8(m, 't');
		tw_dnsmsg_u8(m, 0);
		break;
	case 5: /* reserved label type 0x80 */
		tw_dnsmsg_u8(m, 0x81);
		tw_dnsmsg_u8(m, 't');
		tw_dnsmsg_u8(m, 0);
		break;
	default: /* pointer into the middle of a label ('t' reads as type 0x40) */
		tw_dnsmsg_ptr(m, QNAME_OFF + 1);
		break;
	}
	tw_dnsmsg_rr_addr(m, 10, "192.0.2.1");
	tw_dnsmsg_name(m, "t.test");
}

static void test_decode_hostile_compression(void **state)
{
	(void)state;
	mb m;
	tw_dns_addr addrs[2];
	for (int kind = 0; kind <= 6; kind++) {
		tw_dns_answer ans = { addrs, 2 };
		hostile_owner(&m, kind);
		int rc = decode(&m, 3, "t.test", TW_DNS_TYPE_A, &ans);
		if (rc != -EBADMSG)
			fail_msg("kind %d: rc %d", kind, rc);
	}
	/* a pointer in the question can only point forward or into the header */
	resp_start(&m, 4, F_RESP, "t.test", TW_DNS_TYPE_A, 0);
	m.n = QNAME_OFF;
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_u16(&m, TW_DNS_TYPE_A);
	tw_dnsmsg_u16(&m, TW_DNS_CLASS_IN);
	tw_dns_answer ans = { addrs, 2 };
	assert_int_equal(decode(&m, 4, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
}

/* 4 labels of 63 need 257 octets once expanded: over the 255 limit. */
static void test_decode_name_too_long(void **state)
{
	(void)state;
	char l63[64], half[200];
	memset(l63, 'q', 63);
	l63[63] = '\0';
	snprintf(half, sizeof(half), "%s.%s", l63, l63);
	mb m;
	resp_start(&m, 5, F_RESP, "t.test", TW_DNS_TYPE_A, 2);
	size_t first = m.n;
	tw_dnsmsg_name(&m, half);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.1");
	tw_dnsmsg_labels(&m, half);
	tw_dnsmsg_ptr(&m, first);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.2");
	tw_dns_answer ans = { NULL, 0 };
	assert_int_equal(decode(&m, 5, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
	/* the same with only three labels (193 octets) is well-formed */
	m.n = first;
	m.b[7] = 2;
	tw_dnsmsg_name(&m, half);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.1");
	tw_dnsmsg_labels(&m, l63);
	tw_dnsmsg_ptr(&m, first);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.2");
	assert_int_equal(decode(&m, 5, "t.test", TW_DNS_TYPE_A, &ans), -ENODATA);
}

static void test_decode_bad_records(void **state)
{
	(void)state;
	mb m;
	tw_dns_answer ans = { NULL, 0 };
	/* A with RDLENGTH 5 (and 5 octets present) */
	resp_start(&m, 6, F_RESP, "t.test", TW_DNS_TYPE_A, 1);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr(&m, TW_DNS_TYPE_A, 10, 5);
	tw_dnsmsg_u32(&m, 0xc0000201);
	tw_dnsmsg_u8(&m, 0);
	assert_int_equal(decode(&m, 6, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
	/* AAAA with RDLENGTH 4 */
	resp_start(&m, 6, F_RESP, "t.test", TW_DNS_TYPE_AAAA, 1);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.1");
	m.b[m.n - 4 - 2 - 4 - 2 - 2 + 1] = TW_DNS_TYPE_AAAA; /* retype the A record */
	assert_int_equal(decode(&m, 6, "t.test", TW_DNS_TYPE_AAAA, &ans), -EBADMSG);
	/* a good record, then a bad one: nothing is reported */
	tw_dns_addr two[2];
	tw_dns_answer part = { two, 2 };
	resp_start(&m, 6, F_RESP, "t.test", TW_DNS_TYPE_A, 2);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.1");
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr(&m, TW_DNS_TYPE_A, 10, 2);
	tw_dnsmsg_u16(&m, 0);
	assert_int_equal(decode(&m, 6, "t.test", TW_DNS_TYPE_A, &part), -EBADMSG);
	assert_int_equal(part.n, 0);
	assert_int_equal(part.total, 0);
	/* RDLENGTH past the end of the message */
	resp_start(&m, 6, F_RESP, "t.test", TW_DNS_TYPE_A, 1);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr(&m, TW_DNS_TYPE_A, 10, 40);
	tw_dnsmsg_u32(&m, 0xc0000201);
	assert_int_equal(decode(&m, 6, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
	/* ANCOUNT larger than the records present */
	resp_start(&m, 6, F_RESP, "t.test", TW_DNS_TYPE_A, 2);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.1");
	assert_int_equal(decode(&m, 6, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
	/* a record for another owner with a broken RDLENGTH still breaks framing */
	resp_start(&m, 6, F_RESP, "t.test", TW_DNS_TYPE_A, 2);
	tw_dnsmsg_name(&m, "other.test");
	tw_dnsmsg_rr(&m, 99, 10, 300);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.1");
	assert_int_equal(decode(&m, 6, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
	/* CNAME RDATA with an octet after the name */
	resp_start(&m, 6, F_RESP, "t.test", TW_DNS_TYPE_A, 2);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	size_t rd = tw_dnsmsg_cname_begin(&m, 10);
	tw_dnsmsg_name(&m, "u.test");
	tw_dnsmsg_u8(&m, 0);
	tw_dnsmsg_cname_end(&m, rd);
	tw_dnsmsg_ptr(&m, rd);
	tw_dnsmsg_rr_addr(&m, 10, "192.0.2.1");
	assert_int_equal(decode(&m, 6, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
	/* CNAME RDATA shorter than its name */
	resp_start(&m, 6, F_RESP, "t.test", TW_DNS_TYPE_A, 1);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr(&m, TW_DNS_TYPE_CNAME, 10, 3);
	tw_dnsmsg_name(&m, "u.test");
	assert_int_equal(decode(&m, 6, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
	/* a header alone, and less than a header */
	resp_start(&m, 6, F_RESP, "t.test", TW_DNS_TYPE_A, 0);
	assert_int_equal(tw_dns_response_decode(m.b, 12, 6, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
	assert_int_equal(tw_dns_response_decode(m.b, 11, 6, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
	assert_int_equal(tw_dns_response_decode(m.b, 0, 6, "t.test", TW_DNS_TYPE_A, &ans), -EBADMSG);
}

static void test_decode_ttl_and_class(void **state)
{
	(void)state;
	mb m;
	tw_dns_addr addrs[4];
	tw_dns_answer ans = { addrs, 4 };
	resp_start(&m, 2, F_RESP, "t.test", TW_DNS_TYPE_A, 3);
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr_addr(&m, 0x7fffffff, "192.0.2.1");
	tw_dnsmsg_ptr(&m, QNAME_OFF);
	tw_dnsmsg_rr_addr(&m, 0x7fffffff, "192.0.2.2");
	tw_dnsmsg_ptr(&m, QNAME_OFF); /* class CH: ignored */
	tw_dnsmsg_rr_addr(&m, 1, "192.0.2.3");
	m.b[m.n - 4 - 2 - 4 - 1] = 3;
	assert_int_equal(decode(&m, 2, "t.test", TW_DNS_TYPE_A, &ans), 0);
	assert_int_equal(ans.n, 2);
	assert_int_equal(ans.ttl, 0x7fffffff);
	/* RFC 2181: a TTL with the top bit set means 0 */
	m.b[m.n - 4 - 2 - 4] = 0x80;
	m.b[m.n - 4 - 2 - 4 - 1] = 1;
	assert_int_equal(decode(&m, 2, "t.test", TW_DNS_TYPE_A, &ans), 0);
	assert_int_equal(ans.n, 3);
	assert_int_equal(ans.ttl, 0);
}

/* ---- resolv.conf ---- */

static const char CONF_K8S[] =
	"# generated by kubelet\n"
	"search default.svc.cluster.local svc.cluster.local cluster.local\n"
	"nameserver 10.96.0.10\n"
	"options ndots:5\n";

static const char CONF_MIXED[] =
	"; comment with a semicolon\r\n"
	"domain first.example\r\n"
	"nameserver\t192.0.2.53   # the main one\r\n"
	"nameserver bogus\n"
	"nameserver 192.0.2.54%eth0\n"
	"nameserver fe80::53%eth0\n"
	"nameserver 2001:db8::53\n"
	"nameserver 2001:db8::54\n"
	"sortlist 130.155.160.0/255.255.240.0\n"
	"search a..b Good.Example. other.example\n"
	"options rotate timeout:2 attempts:3 edns0 ndots:x\n"
	"   \n"
	"nameserver 192.0.2.99"; /* no final newline; a fifth server: ignored */

static const char CONF_CLAMP[] =
	"options ndots:99 timeout:0 attempts:9\n"
	"search s1.x s2.x s3.x s4.x s5.x s6.x s7.x s8.x\n"
	"domain\n"
	"options timeout:100 attempts:0 ndots:007\n";

static void test_resolv_conf(void **state)
{
	(void)state;
	tw_resolv_conf c;
	assert_int_equal(tw_resolv_conf_parse(CONF_K8S, strlen(CONF_K8S), &c), 0);
	assert_int_equal(c.n_ns, 1);
	assert_int_equal(c.ns[0].ipvn, 4);
	static const uint8_t ns0[4] = { 10, 96, 0, 10 };
	assert_memory_equal(c.ns[0].addr, ns0, 4);
	assert_string_equal(c.ns[0].scope, "");
	assert_int_equal(c.n_search, 3);
	assert_string_equal(c.search[0], "default.svc.cluster.local");
	assert_string_equal(c.search[2], "cluster.local");
	assert_int_equal(c.ndots, 5);
	assert_int_equal(c.timeout_s, 5);
	assert_int_equal(c.attempts, 2);

	/* bogus, 192.0.2.54%eth0, sortlist */
	assert_int_equal(tw_resolv_conf_parse(CONF_MIXED, strlen(CONF_MIXED), &c), 3);
	assert_int_equal(c.n_ns, 3);
	char buf[INET6_ADDRSTRLEN];
	assert_string_equal(inet_ntop(AF_INET, c.ns[0].addr, buf, sizeof(buf)), "192.0.2.53");
	assert_int_equal(c.ns[1].ipvn, 6);
	assert_string_equal(inet_ntop(AF_INET6, c.ns[1].addr, buf, sizeof(buf)), "fe80::53");
	assert_string_equal(c.ns[1].scope, "eth0");
	assert_string_equal(inet_ntop(AF_INET6, c.ns[2].addr, buf, sizeof(buf)), "2001:db8::53");
	assert_int_equal(c.n_search, 2); /* search replaced domain; a..b skipped */
	assert_string_equal(c.search[0], "Good.Example");
	assert_string_equal(c.search[1], "other.example");
	assert_int_equal(c.timeout_s, 2);
	assert_int_equal(c.attempts, 3);
	assert_int_equal(c.ndots, 1);

	assert_int_equal(tw_resolv_conf_parse(CONF_CLAMP, strlen(CONF_CLAMP), &c), 1);
	assert_int_equal(c.ndots, 7);
	assert_int_equal(c.timeout_s, 30);
	assert_int_equal(c.attempts, 1);
	assert_int_equal(c.n_search, 0); /* the empty domain line cleared it */
	tw_resolv_conf_parse(CONF_CLAMP, 38, &c); /* only the first line */
	assert_int_equal(c.ndots, 15);
	assert_int_equal(c.timeout_s, 1);
	assert_int_equal(c.attempts, 5);
	tw_resolv_conf_parse(CONF_CLAMP, 38 + 47, &c);
	assert_int_equal(c.n_search, TW_RESOLV_MAX_SEARCH);
	assert_string_equal(c.search[5], "s6.x");

	assert_int_equal(tw_resolv_conf_parse("", 0, &c), 0);
	assert_int_equal(c.n_ns, 0);
	assert_int_equal(c.ndots, 1);
	assert_int_equal(c.timeout_s, 5);
	assert_int_equal(c.attempts, 2);
}

/* ---- hosts ---- */

static const char HOSTS[] =
	"127.0.0.1\tlocalhost\n"
	"::1     localhost ip6-localhost ip6-loopback\n"
	"# 10.0.0.9 commented\n"
	"10.0.0.1 Node-A.example.  node-a   # trailing comment node-z\n"
	"10.0.0.2 node-b.example node-b\r\n"
	"fe80::1%eth0 scoped\n"
	"bogus node-c\n"
	"10.0.0.3 # node-d\n"
	"2001:db8::2 node-b.example\n"
	"10.0.0.4 node-a"; /* no final newline */

typedef struct hosts_case {
	const char *name;
	uint16_t qtype;
	size_t want;
	const char *first;
	const char *second;
} hosts_case;

static void test_hosts(void **state)
{
	(void)state;
	static const hosts_case cases[] = {
		{ "localhost", TW_DNS_TYPE_A, 1, "127.0.0.1", NULL },
		{ "localhost", TW_DNS_TYPE_AAAA, 1, "::1", NULL },
		{ "localhost", 0, 2, "127.0.0.1", "::1" },
		{ "LOCALHOST.", 0, 2, "127.0.0.1", "::1" },
		{ "ip6-loopback", 0, 1, "::1", NULL },
		{ "node-a.example", 0, 1, "10.0.0.1", NULL },
		{ "node-a", TW_DNS_TYPE_A, 2, "10.0.0.1", "10.0.0.4" },
		{ "node-b", 0, 1, "10.0.0.2", NULL },
		{ "node-b.example", 0, 2, "10.0.0.2", "2001:db8::2" },
		{ "node-b.example", TW_DNS_TYPE_AAAA, 1, "2001:db8::2", NULL },
		{ "scoped", 0, 0, NULL, NULL },
		{ "node-c", 0, 0, NULL, NULL },
		{ "node-d", 0, 0, NULL, NULL },
		{ "node-z", 0, 0, NULL, NULL },
		{ "10.0.0.1", 0, 0, NULL, NULL },
		{ "", 0, 0, NULL, NULL },
		{ "node", 0, 0, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const hosts_case *c = &cases[i];
		tw_dns_addr out[4];
		char buf[INET6_ADDRSTRLEN];
		size_t n = tw_hosts_lookup(HOSTS, strlen(HOSTS), c->name, c->qtype, out, 4);
		if (n != c->want)
			fail_msg("case %zu (%s): %zu matches, want %zu", i, c->name, n, c->want);
		if (c->first)
			assert_string_equal(fmt_addr(&out[0], buf), c->first);
		if (c->second)
			assert_string_equal(fmt_addr(&out[1], buf), c->second);
	}
	tw_dns_addr one;
	assert_int_equal(tw_hosts_lookup(HOSTS, strlen(HOSTS), "localhost", 0, &one, 1), 2);
	assert_int_equal(one.type, TW_DNS_TYPE_A);
	assert_int_equal(tw_hosts_lookup(HOSTS, strlen(HOSTS), "localhost", 0, NULL, 0), 2);
	/* the length bounds the text: the last line cut to "10.0.0.4 node" */
	assert_int_equal(tw_hosts_lookup(HOSTS, strlen(HOSTS) - 2, "node-a", 0, NULL, 0), 1);
}

/* ---- seed corpus for fuzz_dns ---- */

/* Selector octet of fuzz_dns.c: bits 0-1 mode (0 decode A, 1 decode AAAA,
 * 2 resolv.conf, 3 hosts), bits 2-3 the name (see NAMES there). */
enum { SEL_A = 0, SEL_AAAA = 1, SEL_CONF = 2, SEL_HOSTS = 3 };

static int write_seed(const char *dir, const char *name, unsigned sel, const void *data, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	uint8_t s = (uint8_t)sel;
	int rc = fwrite(&s, 1, 1, f) == 1 && fwrite(data, 1, len, f) == len ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

/* Name indices of fuzz_dns.c: 0 example.com, 1 the headless name,
 * 2 www.example.net, 3 t.test. */
static int write_corpus(const char *dir)
{
	mb m;
	int rc = 0;
	char name[64];
	build_headless_a(&m);
	rc |= write_seed(dir, "headless-a", SEL_A | 1 << 2, m.b, m.n);
	build_headless_aaaa(&m);
	rc |= write_seed(dir, "headless-aaaa", SEL_AAAA | 1 << 2, m.b, m.n);
	build_cname_chain(&m);
	rc |= write_seed(dir, "cname-chain", SEL_A | 2 << 2, m.b, m.n);
	for (int kind = 0; kind <= 6; kind++) {
		hostile_owner(&m, kind);
		snprintf(name, sizeof(name), "hostile-%d", kind);
		rc |= write_seed(dir, name, SEL_A | 3 << 2, m.b, m.n);
	}
	resp_start(&m, 0x5151, F_RESP | TW_DNS_RCODE_NXDOMAIN, "example.com", TW_DNS_TYPE_A, 0);
	rc |= write_seed(dir, "nxdomain", SEL_A, m.b, m.n);
	resp_start(&m, 0x5151, F_RESP | F_TC, "example.com", TW_DNS_TYPE_AAAA, 0);
	rc |= write_seed(dir, "truncated", SEL_AAAA, m.b, m.n);
	rc |= write_seed(dir, "conf-k8s", SEL_CONF, CONF_K8S, strlen(CONF_K8S));
	rc |= write_seed(dir, "conf-mixed", SEL_CONF, CONF_MIXED, strlen(CONF_MIXED));
	rc |= write_seed(dir, "conf-clamp", SEL_CONF, CONF_CLAMP, strlen(CONF_CLAMP));
	rc |= write_seed(dir, "hosts", SEL_HOSTS | 3 << 2, HOSTS, strlen(HOSTS));
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]) == 0 ? 0 : 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_bytes),
		cmocka_unit_test(test_query_max_name),
		cmocka_unit_test(test_name_check),
		cmocka_unit_test(test_decode_hand_hex),
		cmocka_unit_test(test_decode_headless),
		cmocka_unit_test(test_decode_capacity),
		cmocka_unit_test(test_decode_cname_chain),
		cmocka_unit_test(test_decode_rcodes),
		cmocka_unit_test(test_decode_mismatch),
		cmocka_unit_test(test_decode_truncated_everywhere),
		cmocka_unit_test(test_decode_hostile_compression),
		cmocka_unit_test(test_decode_name_too_long),
		cmocka_unit_test(test_decode_bad_records),
		cmocka_unit_test(test_decode_ttl_and_class),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

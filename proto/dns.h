/*
 * dns.h - the pure half of the agent's DNS stub resolver: the RFC 1035
 * query/response codec for A and AAAA lookups, and parsers for the text of
 * resolv.conf(5) and hosts(5). Buffers in, values out: no I/O, no clocks,
 * no allocation. The I/O half lives in agent/resolver.h.
 *
 * Names are host names in presentation form: labels of 1-63 letters,
 * digits, '-' or '_', separated by dots, at most 253 characters, with an
 * optional trailing dot. Comparisons are ASCII case-insensitive.
 */
#ifndef TW_DNS_H
#define TW_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	TW_DNS_PORT = 53,
	TW_DNS_NAME_MAX = 253,      /* presentation form without the trailing dot */
	TW_DNS_WIRE_NAME_MAX = 255, /* wire form: length octets + labels + root */
	TW_DNS_LABEL_MAX = 63,
	TW_DNS_HDR_LEN = 12,
	TW_DNS_UDP_MAX = 512, /* RFC 1035 §4.2.1: no EDNS, so no larger answers */
	TW_DNS_TCP_MAX = 65535,
	TW_DNS_QUERY_MAX = TW_DNS_HDR_LEN + TW_DNS_WIRE_NAME_MAX + 4,
	TW_DNS_CNAME_MAX = 8, /* CNAME hops followed inside one answer */
};

enum {
	TW_DNS_TYPE_A = 1,
	TW_DNS_TYPE_CNAME = 5,
	TW_DNS_TYPE_AAAA = 28,
	TW_DNS_CLASS_IN = 1,
};

enum {
	TW_DNS_RCODE_NOERROR = 0,
	TW_DNS_RCODE_FORMERR = 1,
	TW_DNS_RCODE_SERVFAIL = 2,
	TW_DNS_RCODE_NXDOMAIN = 3,
	TW_DNS_RCODE_NOTIMP = 4,
	TW_DNS_RCODE_REFUSED = 5,
};

/* One address: TW_DNS_TYPE_A uses addr[0..3], TW_DNS_TYPE_AAAA all 16. */
typedef struct tw_dns_addr {
	uint16_t type;
	uint8_t addr[16];
} tw_dns_addr;

/* Validates a host name (rules above). Returns its length without a
 * trailing dot, or -EINVAL. */
int tw_dns_name_check(const char *name);

/* Encodes a recursive (RD=1) query for name, qtype (A or AAAA), class IN,
 * with the given ID. Returns the message length (at most TW_DNS_QUERY_MAX),
 * -EINVAL for a bad name or qtype, or -ENOSPC when cap is too small. */
int tw_dns_query_encode(uint16_t id, const char *name, uint16_t qtype, uint8_t *buf, size_t cap)
	__attribute__((warn_unused_result));

/* Decoder output. The caller sets addrs/cap (addrs may be NULL with cap 0
 * to count only); the decoder fills the rest. */
typedef struct tw_dns_answer {
	tw_dns_addr *addrs;
	size_t cap;
	size_t n;       /* addresses stored, <= cap */
	size_t total;   /* matching records in the answer (may exceed cap) */
	uint32_t ttl;   /* minimum TTL over the CNAMEs and records used */
	unsigned rcode; /* RCODE, valid once the ID and question matched */
	bool truncated; /* TC bit, valid once the ID and question matched */
} tw_dns_answer;

/*
 * Decodes a response to the query (id, name, qtype). The answer section is
 * walked for records of qtype, class IN, owned by name or by the end of a
 * CNAME chain starting at name (at most TW_DNS_CNAME_MAX hops, in any
 * record order); records for other owners are ignored. TTLs with the top
 * bit set count as 0 (RFC 2181 §8). Compressed names may only point
 * backwards, before the start of the labels being read, so no loop is
 * possible; every read is bounded by len.
 *
 * Returns (in order of checking):
 *   -EBADMSG   shorter than a header, or malformed after the ID matched
 *   -EPROTO    not an answer to this query: ID, QR, opcode, question
 *              count, name, type or class differ (a resolver keeps
 *              waiting: it may be spoofed or late)
 *   -EMSGSIZE  TC set: the answer did not fit (retry over TCP)
 *   -ENOENT    NXDOMAIN
 *   -EIO       any other non-zero RCODE (SERVFAIL, REFUSED, ...)
 *   -EBADMSG   a malformed answer record, A/AAAA RDLENGTH not 4/16, or a
 *              CNAME chain longer than TW_DNS_CNAME_MAX
 *   -ENODATA   NOERROR without a matching record
 *   0          at least one matching record (ans->total >= 1)
 */
int tw_dns_response_decode(const uint8_t *msg, size_t len, uint16_t id, const char *name,
			   uint16_t qtype, tw_dns_answer *ans) __attribute__((warn_unused_result));

/* ---- resolv.conf(5) ---- */

enum {
	TW_RESOLV_MAX_NS = 3,     /* glibc MAXNS: later nameservers are ignored */
	TW_RESOLV_MAX_SEARCH = 6, /* search domains kept, in order */
	TW_RESOLV_SCOPE_MAX = 16, /* IFNAMSIZ */
	TW_RESOLV_NDOTS_MAX = 15,
	TW_RESOLV_TIMEOUT_MAX = 30,
	TW_RESOLV_ATTEMPTS_MAX = 5,
};

typedef struct tw_resolv_ns {
	uint8_t ipvn; /* 4 or 6 */
	uint8_t addr[16];
	char scope[TW_RESOLV_SCOPE_MAX]; /* IPv6 zone after '%', "" when none */
} tw_resolv_ns;

typedef struct tw_resolv_conf {
	tw_resolv_ns ns[TW_RESOLV_MAX_NS];
	size_t n_ns;
	char search[TW_RESOLV_MAX_SEARCH][TW_DNS_NAME_MAX + 1]; /* no trailing dot */
	size_t n_search;
	unsigned ndots;     /* default 1, at most 15 */
	unsigned timeout_s; /* per try, default 5, 1..30 */
	unsigned attempts;  /* rounds over the servers, default 2, 1..5 */
} tw_resolv_conf;

/* Sets the defaults: no servers, no search list, ndots 1, timeout 5,
 * attempts 2. */
void tw_resolv_conf_defaults(tw_resolv_conf *c);

/*
 * Parses resolv.conf text (not NUL-terminated) into out, starting from the
 * defaults. Understood: "nameserver ADDR[%zone]" (IPv4 or IPv6, the first
 * three kept), "search D..." and "domain D" (the last such line wins,
 * invalid domains are skipped), "options" with ndots:N timeout:N
 * attempts:N (clamped to the ranges above; other options ignored). '#' or
 * ';' starts a comment anywhere on a line. Lines that are neither blank,
 * comments, nor valid are skipped, like the C library does. An empty
 * server list is left empty: the caller picks the fallback.
 * Returns the number of lines skipped as invalid.
 */
size_t tw_resolv_conf_parse(const char *text, size_t len, tw_resolv_conf *out); /* text may be NULL */

/* ---- hosts(5) ---- */

/*
 * Looks name up in hosts text (not NUL-terminated): lines "ADDR NAME
 * [ALIAS...]" with '#' comments; name matches the canonical name or an
 * alias, case-insensitively, trailing dots ignored. qtype selects
 * TW_DNS_TYPE_A, TW_DNS_TYPE_AAAA, or 0 for both (file order). Lines with
 * an invalid address or an IPv6 zone ("%eth0") are skipped. Stores up to
 * cap addresses in out (NULL with cap 0 counts only) and returns the
 * number of matches, which may exceed cap. text may be NULL (no entries).
 */
size_t tw_hosts_lookup(const char *text, size_t len, const char *name, uint16_t qtype,
		       tw_dns_addr *out, size_t cap);

#endif /* TW_DNS_H */

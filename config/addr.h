/*
 * addr.h - address strings shared by the configuration and the command
 * line: HOST:PORT splitting, host-name and IP-literal checks, CIDR allow
 * lists. Pure string and byte work: no resolution, no sockets.
 */
#ifndef TW_ADDR_H
#define TW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest host text tw_addr_split can return (a DNS name), plus NUL. */
#define TW_ADDR_HOST_MAX 254

/*
 * Splits "HOST:PORT", "[IPV6]:PORT" or ":PORT" into host (without
 * brackets; "" for ":PORT", meaning every local address) and port. HOST
 * must be an IPv4 literal, a DNS name, or, only inside brackets, an IPv6
 * literal (optionally with a %zone). A bare IPv6 literal without brackets
 * is rejected: its last group cannot be told from a port. PORT is decimal
 * 0-65535 (callers range-check further).
 * Returns 0; -EINVAL bad syntax or host; -ERANGE port above 65535;
 * -ENAMETOOLONG host does not fit host_cap. Outputs untouched on error.
 */
int tw_addr_split(const char *s, char *host, size_t host_cap, uint16_t *port);

/* True for an IPv4/IPv6 literal (IPv6 optionally with %zone, no brackets)
 * or a syntactically valid DNS name (labels of letters, digits, '-', '_',
 * at most 63 octets each, 253 in all, last label not all digits). */
bool tw_addr_host_valid(const char *host);

/* AF_INET or AF_INET6 when host is an IP literal (zone allowed), else 0. */
int tw_addr_literal_family(const char *host);

/* An address prefix. addr holds 4 (AF_INET) or 16 (AF_INET6) octets in
 * network order; bits beyond prefix are zero. */
typedef struct tw_addr_cidr {
	int family;
	uint8_t prefix;
	uint8_t addr[16];
} tw_addr_cidr;

/*
 * Parses "A.B.C.D/N", "IPV6/N" or a bare address (a /32 or /128).
 * Returns 0; -EINVAL syntax; -ERANGE prefix too long for the family;
 * -EDOM host bits set beyond the prefix (*out then holds the masked
 * network, so the caller can suggest it).
 */
int tw_addr_cidr_parse(const char *s, tw_addr_cidr *out);

/* Formats c as "network/prefix" into buf (at least 50 octets needed). */
void tw_addr_cidr_format(const tw_addr_cidr *c, char *buf, size_t cap);

/* True when the raw address (4 or 16 octets of the given family) is in c.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d), as a dual-stack socket
 * reports IPv4 peers, match IPv4 prefixes. */
bool tw_addr_cidr_match(const tw_addr_cidr *c, int family, const uint8_t *addr);

/* True when sa (AF_INET or AF_INET6) is in any of the n prefixes, or when
 * n is 0 (an absent allow list admits everyone). Other families: false. */
bool tw_addr_allowed(const tw_addr_cidr *list, size_t n, const struct sockaddr *sa);

#endif /* TW_ADDR_H */

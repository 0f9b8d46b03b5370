/* addr.c - HOST:PORT strings, host names, CIDR prefixes (see addr.h). */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

enum { DNS_NAME_MAX = 253, DNS_LABEL_MAX = 63, IFNAME_MAX = 15 };

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
		c == '_';
}

/* Checks one DNS label of n octets; sets *numeric when all digits. */
static bool label_valid(const char *s, size_t n, bool *numeric)
{
	if (n == 0 || n > DNS_LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	*numeric = true;
	for (size_t i = 0; i < n; i++) {
		if (!is_label_char(s[i]))
			return false;
		*numeric &= is_digit(s[i]);
	}
	return true;
}

static bool dns_name_valid(const char *s)
{
	size_t len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--; /* fully qualified */
	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	bool numeric = false;
	for (size_t start = 0; start <= len;) {
		const char *dot = memchr(s + start, '.', len - start);
		size_t end = dot ? (size_t)(dot - s) : len;
		if (!label_valid(s + start, end - start, &numeric))
			return false;
		start = end + 1;
	}
	/* "1.2.3.256" is neither an address nor a name; refuse it here
	 * rather than let the resolver guess. */
	return !numeric;
}

/* IPv6 literal with an optional %zone (an interface name). */
static bool ipv6_valid(const char *s)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	const char *pct = strchr(s, '%');
	size_t n = pct ? (size_t)(pct - s) : strlen(s);
	if (n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (pct) {
		size_t zl = strlen(pct + 1);
		if (zl == 0 || zl > IFNAME_MAX || strpbrk(pct + 1, "/ \t%"))
			return false;
	}
	struct in6_addr a;
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

int tw_addr_literal_family(const char *host)
{
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return AF_INET;
	return ipv6_valid(host) ? AF_INET6 : 0;
}

bool tw_addr_host_valid(const char *host)
{
	return tw_addr_literal_family(host) != 0 || dns_name_valid(host);
}

/* Decimal 0-65535, no sign, at most 5 digits. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned v;
	int rc = tw_text_decimal(s, strlen(s), 5, 65535, &v);
	if (rc == 0)
		*port = (uint16_t)v;
	return rc;
}

static int copy_host(const char *s, size_t n, char *host, size_t cap)
{
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

int tw_addr_split(const char *s, char *host, size_t host_cap, uint16_t *port)
{
	char h[TW_ADDR_HOST_MAX + 2];
	const char *colon;
	uint16_t p = 0;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(h))
			return -EINVAL;
		copy_host(s + 1, (size_t)(close - s - 1), h, sizeof(h));
		if (!ipv6_valid(h))
			return -EINVAL;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		if ((size_t)(colon - s) >= sizeof(h))
			return -EINVAL;
		copy_host(s, (size_t)(colon - s), h, sizeof(h));
		if (h[0] && (tw_addr_literal_family(h) == AF_INET6 || !tw_addr_host_valid(h)))
			return -EINVAL;
	}
	int rc = parse_port(colon + 1, &p);
	if (rc < 0)
		return rc;
	rc = copy_host(h, strlen(h), host, host_cap);
	if (rc < 0)
		return rc;
	*port = p;
	return 0;
}

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Clears the bits beyond prefix; returns true when any was set. */
static bool mask_host_bits(uint8_t *addr, int len, unsigned prefix)
{
	bool had = false;
	for (int i = 0; i < len; i++) {
		unsigned bit0 = (unsigned)i * 8;
		unsigned kept = prefix >= bit0 + 8 ? 8 : prefix <= bit0 ? 0 : prefix - bit0;
		uint8_t keep = (uint8_t)(0xFF00u >> kept); /* top `kept` bits of the octet */
		had |= (addr[i] & ~keep) != 0;
		addr[i] = (uint8_t)(addr[i] & keep);
	}
	return had;
}

int tw_addr_cidr_parse(const char *s, tw_addr_cidr *out)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, n);
	a[n] = '\0';
	tw_addr_cidr c = { 0 };
	if (inet_pton(AF_INET, a, c.addr) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, a, c.addr) == 1)
		c.family = AF_INET6;
	else
		return -EINVAL;
	unsigned max = (unsigned)addr_len(c.family) * 8, prefix = max;
	if (slash) {
		int rc = tw_text_decimal(slash + 1, strlen(slash + 1), 3, max, &prefix);
		if (rc < 0)
			return rc;
	}
	c.prefix = (uint8_t)prefix;
	bool host_bits = mask_host_bits(c.addr, addr_len(c.family), prefix);
	*out = c;
	return host_bits ? -EDOM : 0;
}

void tw_addr_cidr_format(const tw_addr_cidr *c, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, cap, "%s/%u", a, (unsigned)c->prefix);
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xFF << (8 - rest));
	return (a[whole] & m) == (b[whole] & m);
}

bool tw_addr_cidr_match(const tw_addr_cidr *c, int family, const uint8_t *addr)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
	if (family == AF_INET6 && c->family == AF_INET && memcmp(addr, v4mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family != c->family)
		return false;
	return prefix_equal(c->addr, addr, c->prefix);
}

bool tw_addr_allowed(const tw_addr_cidr *list, size_t n, const struct sockaddr *sa)
{
	const uint8_t *addr;
	if (sa->sa_family == AF_INET)
		addr = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	else
		return false;
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (tw_addr_cidr_match(&list[i], sa->sa_family, addr))
			return true;
	return false;
}

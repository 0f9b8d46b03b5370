/* listen.c - parse and open listen addresses (see listen.h). */
#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PORT_DIGITS_MAX 5
#define FLAG "--web.listen-address"

static int parse_port(const char *s, uint16_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > PORT_DIGITS_MAX)
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > UINT16_MAX)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static bool host_char(char c, bool v6)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	if (c == '.' || c == '-')
		return true;
	return v6 ? c == ':' || c == '%' || c == '_' : c == '_';
}

static int set_host(tw_listen_spec *sp, const char *h, size_t n, bool v6)
{
	if (n > TW_LISTEN_HOST_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!host_char(h[i], v6))
			return -EINVAL;
	memcpy(sp->host, h, n);
	sp->host[n] = '\0';
	return 0;
}

int tw_listen_parse(const char *s, tw_listen_spec *out)
{
	tw_listen_spec sp = { 0 };
	const char *port;
	int rc;
	if (!s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close == s + 1 || close[1] != ':')
			return -EINVAL;
		sp.kind = TW_LISTEN_IPV6;
		rc = set_host(&sp, s + 1, (size_t)(close - s - 1), true);
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL; /* no port, or an unbracketed IPv6 address */
		sp.kind = colon == s ? TW_LISTEN_ANY : TW_LISTEN_HOST;
		rc = set_host(&sp, s, (size_t)(colon - s), false);
		port = colon + 1;
	}
	if (rc == 0)
		rc = parse_port(port, &sp.port);
	if (rc == 0)
		*out = sp;
	return rc;
}

static int open_bound(const struct sockaddr *sa, socklen_t len, int v6only, int backlog)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	int rc = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rc == 0 && sa->sa_family == AF_INET6)
		rc = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (rc == 0)
		rc = bind(fd, sa, len);
	if (rc == 0)
		rc = listen(fd, backlog);
	if (rc < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int open_any(uint16_t port, int backlog)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	a6.sin6_addr = in6addr_any;
	int fd = open_bound((struct sockaddr *)&a6, sizeof(a6), 0, backlog);
	if (fd != -EAFNOSUPPORT)
		return fd;
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	a4.sin_addr.s_addr = htonl(INADDR_ANY);
	return open_bound((struct sockaddr *)&a4, sizeof(a4), 0, backlog);
}

/* Resolves sp (numeric only for bracketed IPv6); returns the socket or a
 * negative errno, or -EADDRNOTAVAIL with *gai set on resolution failure. */
static int open_host(const tw_listen_spec *sp, int backlog, int *gai)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	if (sp->kind == TW_LISTEN_IPV6) {
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	}
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)sp->port);
	struct addrinfo *res = NULL;
	*gai = getaddrinfo(sp->host, port, &hints, &res);
	if (*gai != 0)
		return -EADDRNOTAVAIL;
	int fd = open_bound(res->ai_addr, res->ai_addrlen, 1, backlog);
	freeaddrinfo(res);
	return fd;
}

int tw_listen_open(const char *s, int backlog, char *err, size_t errlen)
{
	tw_listen_spec sp;
	if (tw_listen_parse(s, &sp) < 0) {
		snprintf(err, errlen, FLAG " '%s': expected HOST:PORT, [IPv6]:PORT or :PORT", s ? s : "");
		return -EINVAL;
	}
	int gai = 0;
	int fd = sp.kind == TW_LISTEN_ANY ? open_any(sp.port, backlog) : open_host(&sp, backlog, &gai);
	if (gai != 0)
		snprintf(err, errlen, FLAG " '%s': cannot resolve '%s': %s", s, sp.host, gai_strerror(gai));
	else if (fd < 0)
		snprintf(err, errlen, FLAG " '%s': %s", s, strerror(-fd));
	return fd;
}

int tw_listen_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

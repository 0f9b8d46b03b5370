/*
 * resolver.h - a non-blocking DNS stub resolver inside the tw_loop: what
 * the agent uses instead of getaddrinfo (which blocks) to re-resolve
 * targets and to expand discovery names to all their A and AAAA records.
 *
 * Order of lookup for a name: IP literal (with an optional IPv6 %zone),
 * then the hosts file, then ("localhost" and "*.localhost" only) built-in
 * loopback addresses, then the cache, then DNS over UDP to the configured
 * nameservers. Names with fewer dots than ndots get the search list first
 * and the bare name last; others the bare name first, then the search
 * list; a trailing dot disables the search list (glibc's order). The
 * search goes on after NXDOMAIN, NODATA and SERVFAIL; it stops at a
 * timeout.
 *
 * DNS: one connected, non-blocking UDP socket per query and try (a fresh
 * kernel-chosen source port each time) with a random ID from getrandom;
 * an answer counts only when it comes from the server asked, carries the
 * ID and echoes the question (name case-insensitive, type, class), so
 * spoofed or late datagrams are ignored. A try times out after the
 * resolv.conf timeout; tries cycle over the servers for `attempts` rounds;
 * SERVFAIL/REFUSED and ICMP port unreachable move to the next try at once.
 * A truncated (TC) answer is retried over TCP to the same server within
 * the same try. No EDNS, no DNSSEC, no thread, fork or getaddrinfo.
 *
 * AF_UNSPEC queries A and AAAA in parallel and returns the IPv4 addresses
 * first, then the IPv6 ones, each in answer order (no RFC 6724 sorting);
 * it succeeds when either family has an address.
 *
 * Files: resolv.conf and hosts are read at creation and re-read when their
 * mtime, size or inode changed, checked on a query at most every
 * TW_RESOLVER_RELOAD_CHECK_S seconds (small local files, read with plain
 * read(2)). Without a nameserver line 127.0.0.1 is used, like glibc. The
 * hostname's domain is not used as a default search list, and
 * LOCALDOMAIN/RES_OPTIONS are not read.
 */
#ifndef TW_RESOLVER_H
#define TW_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "net.h"

enum {
	TW_RESOLVER_MAX_ADDRS = 1024,     /* per family and answer; more are dropped */
	TW_RESOLVER_DEFAULT_REQUESTS = 256,
	TW_RESOLVER_DEFAULT_CACHE = 256,  /* entries */
	TW_RESOLVER_DEFAULT_CACHE_TTL = 300,
	TW_RESOLVER_RELOAD_CHECK_S = 5,
	TW_RESOLVER_HOSTS_TTL = 5,        /* TTL reported for hosts-file answers */
};

typedef struct tw_resolver tw_resolver;
typedef struct tw_resolve_req tw_resolve_req;

/*
 * Result of one query. err is 0 with n >= 1 addresses (port 0; IPv6 ones
 * keep a literal's zone), or:
 *   -ENOENT     NXDOMAIN or no address of the family asked for (also an
 *               IP literal of the other family)
 *   -ETIMEDOUT  no server answered within all tries
 *   -EIO        the servers failed (SERVFAIL, REFUSED, bad answers over
 *               TCP) and no name of the search list had an answer
 *   -ENOMEM
 * ttl is the seconds the answer may be reused: the minimum TTL of the DNS
 * records (the remaining time for a cache hit), TW_RESOLVER_HOSTS_TTL for
 * hosts and built-in answers, UINT32_MAX for literals. addrs is valid only
 * during the call.
 */
typedef void (*tw_resolve_cb)(void *arg, int err, const tw_sockaddr *addrs, size_t n,
			      uint32_t ttl);

typedef struct tw_resolver_opts {
	const char *resolv_conf; /* NULL = "/etc/resolv.conf" */
	const char *hosts;       /* NULL = "/etc/hosts" */
	/* Replaces resolv.conf's nameservers (its options and search list
	 * still apply); port 0 means 53. At most TW_RESOLV_MAX_NS are used. */
	const tw_sockaddr *servers;
	size_t n_servers;
	unsigned timeout_ms;   /* per try; 0 = resolv.conf timeout */
	unsigned attempts;     /* rounds over the servers; 0 = resolv.conf */
	size_t max_requests;   /* outstanding queries; 0 = default */
	size_t cache_entries;  /* 0 = default */
	uint32_t cache_max_ttl; /* seconds an answer is cached at most; 0 = default */
	bool no_cache;
} tw_resolver_opts;

/* Creates a resolver on loop (which must outlive it). opts may be NULL.
 * Missing files are not an error (defaults, no hosts entries). Returns
 * NULL with errno set on failure. */
tw_resolver *tw_resolver_new(tw_loop *loop, const tw_resolver_opts *opts);

/* Cancels every outstanding query without calling its callback and frees
 * everything. NULL-safe; may be called from inside a resolver callback. */
void tw_resolver_free(tw_resolver *r);

/*
 * Starts resolving name for family AF_UNSPEC (A and AAAA), AF_INET or
 * AF_INET6. cb(arg, ...) then runs exactly once, always later from the
 * loop (never inside this call), unless the query is cancelled first.
 * *handle (if handle is not NULL) identifies the query until its callback
 * starts; the caller must forget it then.
 * Returns 0, or without any callback: -EINVAL (NULL name or cb, a name
 * that is neither an IP literal nor a valid host name, a bad family),
 * -EBUSY (max_requests outstanding), -ENOMEM.
 */
int tw_resolver_query(tw_resolver *r, const char *name, int family, tw_resolve_cb cb, void *arg,
		      tw_resolve_req **handle);

/* Cancels a query: its callback will not run and its sockets are closed.
 * Safe from anywhere, including any resolver callback; NULL and a query
 * whose callback is running are ignored. */
void tw_resolver_cancel(tw_resolver *r, tw_resolve_req *req);

/* Copies the nameservers new queries use (as of the last reload check)
 * into out, up to cap; returns how many there are. For logging. */
size_t tw_resolver_servers(const tw_resolver *r, tw_sockaddr *out, size_t cap);

/* Outstanding queries (callbacks not yet run). */
size_t tw_resolver_pending(const tw_resolver *r);

/* Drops every cached answer. */
void tw_resolver_flush_cache(tw_resolver *r);

#endif /* TW_RESOLVER_H */

/* resolver.c - non-blocking DNS stub resolver in the event loop (see
 * resolver.h; wire format and file parsing in proto/dns.c). */
#include "resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns.h"
#include "rng.h"
#include "wire.h"

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)

/* A request's timers stay in the loop's heap for its whole life, parked
 * here when idle: re-arming an armed timer never allocates, so once
 * tw_resolver_query() has returned no step of a query can fail for want
 * of a timer. */
#define PARKED (INT64_MAX / 2)

enum {
	CONF_MAX_BYTES = 64 << 10,
	HOSTS_MAX_BYTES = 1 << 20, /* a larger hosts file is read up to here */
	HOSTS_MAX_ANSWER = 64,
	UDP_RX_MAX = 4096,         /* lenient: servers should stay within 512 */
	UDP_RX_BURST = 16,         /* datagrams read per wake-up */
	MAX_CANDIDATES = TW_RESOLV_MAX_SEARCH + 1,
	KEY_MAX = TW_DNS_NAME_MAX + 2, /* name as given, maybe a trailing dot, NUL */
};

/* ---- configuration snapshots: queries keep the one they started with ---- */

typedef struct conf {
	unsigned refs;
	tw_resolv_conf rc;
	tw_sockaddr servers[TW_RESOLV_MAX_NS];
	size_t n_servers;
	int64_t timeout_ns;
	unsigned attempts;
} conf;

typedef struct file_id {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
} file_id;

typedef struct cache_ent {
	char key[KEY_MAX]; /* "" when the slot is free */
	int family;
	tw_sockaddr *addrs;
	size_t n;
	int64_t expires;
} cache_ent;

struct tw_resolver {
	tw_loop *loop;
	char *conf_path;
	char *hosts_path;
	tw_sockaddr servers[TW_RESOLV_MAX_NS]; /* opts override */
	size_t n_servers;
	unsigned timeout_ms;
	unsigned attempts;
	size_t max_requests;
	uint32_t cache_max_ttl;
	conf *conf;
	file_id conf_id;
	file_id hosts_id;
	char *hosts;
	size_t hosts_len;
	int64_t next_check;
	tw_resolve_req *head;
	size_t pending;
	cache_ent *cache;
	size_t cache_cap;
};

enum { TCP_CONNECTING, TCP_SENDING, TCP_READING };

/* One record type of one query: tries over the servers, maybe over TCP. */
typedef struct subq {
	tw_resolve_req *req;
	uint16_t qtype;
	bool active;
	int err;
	int fd;
	tw_io io;
	tw_timer timer;
	unsigned try_no;
	bool servfail;
	uint16_t id;
	uint8_t query[TW_DNS_QUERY_MAX];
	size_t qlen;
	uint8_t tcp_phase;
	size_t tcp_off;
	uint8_t tcp_hdr[2];
	uint8_t *tcp_buf;
	size_t tcp_len;
	tw_dns_addr *addrs;
	size_t n;
	uint32_t ttl;
} subq;

struct tw_resolve_req {
	tw_resolver *r; /* not used once the callback runs */
	tw_loop *loop;
	tw_resolve_req *prev;
	tw_resolve_req *next;
	tw_resolve_cb cb;
	void *arg;
	int family;
	bool in_cb;
	char key[KEY_MAX];                /* lower-cased name as given */
	char name[TW_DNS_NAME_MAX + 1];   /* without a trailing dot */
	char qname[TW_DNS_NAME_MAX + 1];  /* the candidate being asked */
	conf *conf;
	int cand[MAX_CANDIDATES];         /* -1 the bare name, else a search index */
	size_t n_cand;
	size_t cand_idx;
	bool saw_eio;
	bool saw_nodata;
	subq q[2];
	size_t nq;
	tw_timer step; /* candidate evaluation and delivery, always from the loop */
	bool ready;
	int err;
	tw_sockaddr *res;
	size_t n_res;
	uint32_t ttl;
};

static void conf_unref(conf *c)
{
	if (c && --c->refs == 0)
		free(c);
}

static conf *conf_ref(conf *c)
{
	c->refs++;
	return c;
}

/* ---- files ---- */

static file_id stat_id(const char *path)
{
	file_id id = { 0 };
	struct stat st;
	if (stat(path, &st) == 0) {
		id.present = true;
		id.dev = st.st_dev;
		id.ino = st.st_ino;
		id.size = st.st_size;
		id.mtime = st.st_mtim;
	}
	return id;
}

static bool id_same(const file_id *a, const file_id *b)
{
	if (a->present != b->present)
		return false;
	return !a->present || (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
			       a->mtime.tv_sec == b->mtime.tv_sec &&
			       a->mtime.tv_nsec == b->mtime.tv_nsec);
}

/* Reads up to max octets of a small local file. Returns the malloc'd text
 * (NULL when absent or unreadable) and records what was read. */
static char *slurp(const char *path, size_t max, size_t *len, file_id *id)
{
	*id = stat_id(path);
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = malloc(max);
	while (buf && *len < max) {
		ssize_t n = read(fd, buf + *len, max - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return buf;
}

/* An IPv6 zone: an interface name or index; 0 when unknown. */
static uint32_t zone_index(const char *zone)
{
	uint32_t v = 0;
	const char *p = zone;
	while (*p >= '0' && *p <= '9' && v < UINT32_MAX / 10)
		v = v * 10 + (uint32_t)(*p++ - '0');
	if (p != zone && *p == '\0')
		return v;
	return if_nametoindex(zone);
}

static void sa_set_zone(tw_sockaddr *a, uint32_t zone)
{
	struct sockaddr_in6 v6;
	memcpy(&v6, &a->ss, sizeof(v6));
	v6.sin6_scope_id = zone;
	memcpy(&a->ss, &v6, sizeof(v6));
}

static void ns_to_sa(const tw_resolv_ns *ns, tw_sockaddr *out)
{
	tw_sa_from_wire(ns->ipvn, ns->addr, TW_DNS_PORT, out);
	if (ns->ipvn == 6 && ns->scope[0])
		sa_set_zone(out, zone_index(ns->scope));
}

static conf *conf_load(tw_resolver *r)
{
	conf *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->refs = 1;
	size_t len;
	char *text = slurp(r->conf_path, CONF_MAX_BYTES, &len, &r->conf_id);
	tw_resolv_conf_parse(text, len, &c->rc);
	free(text);
	if (r->n_servers) {
		memcpy(c->servers, r->servers, sizeof(c->servers));
		c->n_servers = r->n_servers;
	}
	for (size_t i = 0; !r->n_servers && i < c->rc.n_ns; i++)
		ns_to_sa(&c->rc.ns[i], &c->servers[c->n_servers++]);
	if (c->n_servers == 0) {
		tw_sa_from_numeric("127.0.0.1", TW_DNS_PORT, &c->servers[0]);
		c->n_servers = 1;
	}
	c->timeout_ns = r->timeout_ms ? r->timeout_ms * NS_PER_MS : c->rc.timeout_s * NS_PER_S;
	c->attempts = r->attempts ? r->attempts : c->rc.attempts;
	return c;
}

static void hosts_load(tw_resolver *r)
{
	free(r->hosts);
	r->hosts = slurp(r->hosts_path, HOSTS_MAX_BYTES, &r->hosts_len, &r->hosts_id);
	if (!r->hosts)
		r->hosts_len = 0;
}

/* ---- cache ---- */

static void cache_clear(cache_ent *e)
{
	free(e->addrs);
	memset(e, 0, sizeof(*e));
}

void tw_resolver_flush_cache(tw_resolver *r)
{
	for (size_t i = 0; r && i < r->cache_cap; i++)
		cache_clear(&r->cache[i]);
}

static cache_ent *cache_find(tw_resolver *r, const char *key, int family)
{
	for (size_t i = 0; i < r->cache_cap; i++) {
		cache_ent *e = &r->cache[i];
		if (e->family == family && strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

/* The slot for a new entry: the key's own, a free one, or the one that
 * expires first. */
static cache_ent *cache_slot(tw_resolver *r, const char *key, int family)
{
	cache_ent *e = cache_find(r, key, family);
	for (size_t i = 0; !e && i < r->cache_cap; i++) {
		if (r->cache[i].key[0] == '\0')
			e = &r->cache[i];
	}
	if (e || r->cache_cap == 0)
		return e;
	e = &r->cache[0];
	for (size_t i = 1; i < r->cache_cap; i++) {
		if (r->cache[i].expires < e->expires)
			e = &r->cache[i];
	}
	return e;
}

static void cache_store(tw_resolver *r, const tw_resolve_req *req)
{
	if (r->cache_cap == 0 || req->ttl == 0)
		return;
	tw_sockaddr *copy = malloc(req->n_res * sizeof(*copy));
	cache_ent *e = cache_slot(r, req->key, req->family);
	if (!copy || !e) {
		free(copy);
		return;
	}
	uint32_t ttl = req->ttl < r->cache_max_ttl ? req->ttl : r->cache_max_ttl;
	cache_clear(e);
	memcpy(copy, req->res, req->n_res * sizeof(*copy));
	memcpy(e->key, req->key, sizeof(e->key));
	e->family = req->family;
	e->addrs = copy;
	e->n = req->n_res;
	e->expires = tw_loop_mono(req->loop) + ttl * NS_PER_S;
}

/* ---- the request list ---- */

static void req_link(tw_resolver *r, tw_resolve_req *req)
{
	req->next = r->head;
	if (r->head)
		r->head->prev = req;
	r->head = req;
	r->pending++;
}

static void req_unlink(tw_resolver *r, tw_resolve_req *req)
{
	if (req->prev)
		req->prev->next = req->next;
	else
		r->head = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
	r->pending--;
}

size_t tw_resolver_pending(const tw_resolver *r)
{
	return r ? r->pending : 0;
}

size_t tw_resolver_servers(const tw_resolver *r, tw_sockaddr *out, size_t cap)
{
	const conf *c = r->conf;
	for (size_t i = 0; i < c->n_servers && i < cap; i++)
		out[i] = c->servers[i];
	return c->n_servers;
}

/* ---- sub-queries: one record type, tries over the servers ---- */

static void q_close(subq *q)
{
	tw_io_del(q->req->loop, &q->io);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	free(q->tcp_buf);
	q->tcp_buf = NULL;
}

/* Re-arms one of a request's (always armed) timers: cannot fail. */
static void rearm(tw_loop *l, tw_timer *t, int64_t delay_ns)
{
	(void)tw_timer_at(l, t, delay_ns == PARKED ? PARKED : tw_loop_mono(l) + delay_ns);
}

static void q_done(subq *q, int err)
{
	tw_resolve_req *req = q->req;
	q_close(q);
	rearm(req->loop, &q->timer, PARKED);
	q->active = false;
	q->err = err;
	for (size_t i = 0; i < req->nq; i++) {
		if (req->q[i].active)
			return;
	}
	/* evaluated on the next pass, never inside tw_resolver_query() */
	rearm(req->loop, &req->step, 0);
}

/* This try failed: go on with the next one from the loop. */
static void q_next_now(subq *q)
{
	q_close(q);
	rearm(q->req->loop, &q->timer, 0);
}

static const tw_sockaddr *q_server(const subq *q)
{
	const conf *c = q->req->conf;
	return &c->servers[q->try_no % c->n_servers];
}

static int udp_connect(const tw_sockaddr *server)
{
	int fd = socket(server->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* connected: the kernel drops datagrams from other sources and
	 * reports ICMP port unreachable, so a dead server fails fast */
	if (connect(fd, (const struct sockaddr *)(const void *)&server->ss, server->len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Keeps the addresses of an accepted answer. */
static int q_store(subq *q, const uint8_t *msg, size_t len, size_t total)
{
	size_t cap = total < TW_RESOLVER_MAX_ADDRS ? total : TW_RESOLVER_MAX_ADDRS;
	free(q->addrs);
	q->addrs = malloc(cap * sizeof(*q->addrs));
	if (!q->addrs)
		return -ENOMEM;
	tw_dns_answer ans = { q->addrs, cap };
	if (tw_dns_response_decode(msg, len, q->id, q->req->qname, q->qtype, &ans) != 0)
		return -EIO; /* decoded once already: cannot happen */
	q->n = ans.n;
	q->ttl = ans.ttl;
	return 0;
}

static void q_start_tcp(subq *q);

/* Acts on a datagram or TCP message from the server asked. Returns false
 * when it was ignored (UDP only: spoofed, late or garbled). */
static bool q_answer(subq *q, const uint8_t *msg, size_t len, bool tcp)
{
	tw_dns_answer ans = { NULL, 0 };
	int rc = tw_dns_response_decode(msg, len, q->id, q->req->qname, q->qtype, &ans);
	switch (rc) {
	case 0:
		q_done(q, q_store(q, msg, len, ans.total));
		return true;
	case -ENOENT:
	case -ENODATA:
		q_done(q, rc);
		return true;
	case -EIO:
		q->servfail = true;
		q_next_now(q);
		return true;
	case -EMSGSIZE:
		if (!tcp) {
			q_start_tcp(q);
			return true;
		}
		break;
	default:
		break;
	}
	if (tcp)
		q_next_now(q); /* a TCP stream carries one answer: no waiting */
	return tcp;
}

static bool from_server(const subq *q, const struct sockaddr_storage *from, socklen_t len)
{
	tw_sockaddr a;
	memset(&a, 0, sizeof(a));
	memcpy(&a.ss, from, len < sizeof(a.ss) ? len : sizeof(a.ss));
	a.len = len;
	return tw_sa_equal(&a, q_server(q));
}

static void on_udp(void *arg, uint32_t events)
{
	subq *q = arg;
	uint8_t buf[UDP_RX_MAX];
	(void)events;
	for (int i = 0; i < UDP_RX_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(q->fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from,
				     &fl);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			q_next_now(q); /* ECONNREFUSED and friends */
			return;
		}
		if ((size_t)n > sizeof(buf) || !from_server(q, &from, fl))
			continue;
		if (q_answer(q, buf, (size_t)n, false))
			return;
	}
}

static void q_start_try(subq *q)
{
	const conf *c = q->req->conf;
	tw_loop *l = q->req->loop;
	if (q->try_no >= c->attempts * c->n_servers) {
		q_done(q, q->servfail ? -EIO : -ETIMEDOUT);
		return;
	}
	if (tw_rng_secure(&q->id, sizeof(q->id)) < 0) {
		q_next_now(q);
		return;
	}
	tw_put_u16(q->query, q->id);
	q->fd = udp_connect(q_server(q));
	if (q->fd < 0 || send(q->fd, q->query, q->qlen, 0) < 0 ||
	    tw_io_add(l, &q->io, q->fd, EPOLLIN, on_udp, q) < 0) {
		q_next_now(q); /* e.g. no route to this server's family */
		return;
	}
	rearm(l, &q->timer, c->timeout_ns);
}

static void on_q_timer(void *arg)
{
	subq *q = arg;
	q_close(q);
	q->try_no++;
	q_start_try(q);
}

/* ---- TCP fallback after a truncated answer: same server, same try ---- */

static int tcp_connected(subq *q)
{
	int rc = tw_net_connect_result(q->fd);
	if (rc < 0)
		return rc;
	q->tcp_phase = TCP_SENDING;
	q->tcp_off = 0;
	return 0;
}

/* RFC 1035 §4.2.2: each message is prefixed with a two-octet length. */
static int tcp_send(subq *q)
{
	uint8_t frame[2 + TW_DNS_QUERY_MAX];
	size_t total = 2 + q->qlen;
	tw_put_u16(frame, (uint16_t)q->qlen);
	memcpy(frame + 2, q->query, q->qlen);
	while (q->tcp_off < total) {
		ssize_t n = send(q->fd, frame + q->tcp_off, total - q->tcp_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		q->tcp_off += (size_t)n;
	}
	q->tcp_phase = TCP_READING;
	q->tcp_off = 0;
	return tw_io_mod(q->req->loop, &q->io, EPOLLIN);
}

/* Reads into the length prefix, then into the message it announces. */
static int tcp_recv_some(subq *q)
{
	bool hdr = q->tcp_off < 2;
	uint8_t *dst = hdr ? q->tcp_hdr + q->tcp_off : q->tcp_buf + (q->tcp_off - 2);
	size_t want = hdr ? 2 - q->tcp_off : q->tcp_len - (q->tcp_off - 2);
	ssize_t n;
	do {
		n = recv(q->fd, dst, want, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		return -ECONNRESET;
	q->tcp_off += (size_t)n;
	if (hdr && q->tcp_off == 2) {
		q->tcp_len = tw_get_u16(q->tcp_hdr);
		if (q->tcp_len < TW_DNS_HDR_LEN)
			return -EBADMSG;
		q->tcp_buf = malloc(q->tcp_len);
		if (!q->tcp_buf)
			return -ENOMEM;
	}
	return 0;
}

static int tcp_read(subq *q)
{
	for (;;) {
		int rc = tcp_recv_some(q);
		if (rc < 0)
			return rc;
		if (q->tcp_off >= 2 && q->tcp_off - 2 == q->tcp_len)
			break;
	}
	uint8_t *msg = q->tcp_buf;
	q->tcp_buf = NULL; /* q_answer closes the connection */
	q_answer(q, msg, q->tcp_len, true);
	free(msg);
	return 1;
}

static void on_tcp(void *arg, uint32_t events)
{
	subq *q = arg;
	int rc = 0;
	(void)events;
	if (q->tcp_phase == TCP_CONNECTING)
		rc = tcp_connected(q);
	if (rc == 0 && q->tcp_phase == TCP_SENDING)
		rc = tcp_send(q);
	if (rc == 0 && q->tcp_phase == TCP_READING)
		rc = tcp_read(q);
	if (rc < 0 && rc != -EAGAIN)
		q_next_now(q);
}

static void q_start_tcp(subq *q)
{
	tw_loop *l = q->req->loop;
	q_close(q);
	q->fd = tw_net_tcp_connect(q_server(q), NULL, NULL);
	q->tcp_phase = TCP_CONNECTING;
	q->tcp_off = 0;
	if (q->fd < 0 || tw_io_add(l, &q->io, q->fd, EPOLLOUT, on_tcp, q) < 0) {
		q_next_now(q);
		return;
	}
	rearm(l, &q->timer, q->req->conf->timeout_ns);
}

/* ---- candidates: the search list ---- */

static void build_candidates(tw_resolve_req *req, bool absolute)
{
	const tw_resolv_conf *rc = &req->conf->rc;
	size_t nlen = strlen(req->name), dots = 0;
	for (size_t i = 0; i < nlen; i++)
		dots += req->name[i] == '.';
	req->n_cand = 0;
	bool bare_first = absolute || dots >= rc->ndots;
	if (bare_first)
		req->cand[req->n_cand++] = -1;
	for (size_t i = 0; !absolute && i < rc->n_search; i++) {
		if (nlen + 1 + strlen(rc->search[i]) <= TW_DNS_NAME_MAX)
			req->cand[req->n_cand++] = (int)i;
	}
	if (!bare_first)
		req->cand[req->n_cand++] = -1;
}

static void q_reset(subq *q)
{
	free(q->addrs);
	q->addrs = NULL;
	q->n = 0;
	q->ttl = 0;
	q->err = 0;
	q->try_no = 0;
	q->servfail = false;
	q->active = true;
}

static void start_candidate(tw_resolve_req *req)
{
	int c = req->cand[req->cand_idx];
	size_t nl = strlen(req->name);
	memcpy(req->qname, req->name, nl + 1);
	if (c >= 0) { /* build_candidates checked that it fits */
		const char *domain = req->conf->rc.search[c];
		size_t dl = strlen(domain);
		if (nl + 1 + dl < sizeof(req->qname)) {
			req->qname[nl] = '.';
			memcpy(req->qname + nl + 1, domain, dl + 1);
		}
	}
	for (size_t i = 0; i < req->nq; i++)
		q_reset(&req->q[i]);
	for (size_t i = 0; i < req->nq; i++) {
		subq *q = &req->q[i];
		int n = tw_dns_query_encode(0, req->qname, q->qtype, q->query, sizeof(q->query));
		if (n < 0) {
			q_done(q, -EINVAL); /* validated before: cannot happen */
			continue;
		}
		q->qlen = (size_t)n;
		q_start_try(q);
	}
}

/* ---- results ---- */

static void deliver(tw_resolve_req *req);

static int dns_to_sa(const tw_dns_addr *a, tw_sockaddr *out)
{
	return tw_sa_from_wire(a->type == TW_DNS_TYPE_A ? 4 : 6, a->addr, 0, out);
}

/* Makes the result from the sub-queries: IPv4 first (q[0] asks A unless
 * only AAAA was wanted), then IPv6. */
static int build_result(tw_resolve_req *req)
{
	size_t total = 0;
	uint32_t ttl = UINT32_MAX;
	for (size_t i = 0; i < req->nq; i++) {
		total += req->q[i].n;
		if (req->q[i].n && req->q[i].ttl < ttl)
			ttl = req->q[i].ttl;
	}
	req->res = malloc(total * sizeof(*req->res));
	if (!req->res)
		return -ENOMEM;
	for (size_t i = 0; i < req->nq; i++) {
		for (size_t k = 0; k < req->q[i].n; k++)
			dns_to_sa(&req->q[i].addrs[k], &req->res[req->n_res++]);
	}
	req->ttl = ttl;
	return 0;
}

/* One candidate's outcome over both record types. */
static int combine(const tw_resolve_req *req)
{
	static const int order[] = { -ENOMEM, -ETIMEDOUT, -EIO, -ENODATA };
	for (size_t i = 0; i < req->nq; i++) {
		if (req->q[i].err == 0 && req->q[i].n > 0)
			return 0;
	}
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (size_t i = 0; i < req->nq; i++) {
			if (req->q[i].err == order[k])
				return order[k];
		}
	}
	return -ENOENT;
}

static void finish(tw_resolve_req *req, int err)
{
	req->err = err;
	if (err == 0)
		cache_store(req->r, req);
	deliver(req);
}

static void candidate_done(tw_resolve_req *req)
{
	int rc = combine(req);
	if (rc == 0) {
		rc = build_result(req);
		finish(req, rc);
		return;
	}
	if (rc == -ETIMEDOUT || rc == -ENOMEM) {
		finish(req, rc);
		return;
	}
	req->saw_eio |= rc == -EIO;
	req->saw_nodata |= rc == -ENODATA;
	if (++req->cand_idx < req->n_cand) {
		start_candidate(req);
		return;
	}
	/* glibc's precedence: a name that exists (NODATA) beats SERVFAIL */
	finish(req, req->saw_eio && !req->saw_nodata ? -EIO : -ENOENT);
}

static void on_step(void *arg)
{
	tw_resolve_req *req = arg;
	if (req->ready)
		deliver(req);
	else
		candidate_done(req);
}

/* Sets an answer found without DNS; it is delivered on the next pass. */
static int answer_now(tw_resolve_req *req, int err, tw_sockaddr *addrs, size_t n, uint32_t ttl)
{
	req->ready = true;
	req->err = err;
	req->res = addrs;
	req->n_res = n;
	req->ttl = ttl;
	rearm(req->loop, &req->step, 0);
	return 0;
}

/* ---- lookups without DNS ---- */

static bool family_ok(int want, int have)
{
	return want == AF_UNSPEC || want == have;
}

static bool parse_literal(const char *name, tw_sockaddr *out)
{
	if (tw_sa_from_numeric(name, 0, out) == 0)
		return true;
	const char *pct = strchr(name, '%');
	char buf[INET6_ADDRSTRLEN];
	size_t n = pct ? (size_t)(pct - name) : 0;
	if (!pct || n >= sizeof(buf))
		return false;
	memcpy(buf, name, n);
	buf[n] = '\0';
	uint32_t zone = zone_index(pct + 1);
	if (tw_sa_from_numeric(buf, 0, out) != 0 || tw_sa_family(out) != AF_INET6 || zone == 0)
		return false;
	sa_set_zone(out, zone);
	return true;
}

static int answer_literal(tw_resolve_req *req, const tw_sockaddr *lit)
{
	if (!family_ok(req->family, tw_sa_family(lit)))
		return answer_now(req, -ENOENT, NULL, 0, 0);
	tw_sockaddr *a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	*a = *lit;
	return answer_now(req, 0, a, 1, UINT32_MAX);
}

static int answer_addrs(tw_resolve_req *req, const tw_dns_addr *found, size_t n, uint32_t ttl)
{
	tw_sockaddr *a = malloc(n * sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		dns_to_sa(&found[i], &a[i]);
	return answer_now(req, 0, a, n, ttl);
}

/* hosts file: IPv4 lines first, then IPv6 ones. Returns 1 when answered. */
static int answer_hosts(tw_resolve_req *req)
{
	const tw_resolver *r = req->r;
	tw_dns_addr found[HOSTS_MAX_ANSWER];
	size_t n = 0;
	if (req->family != AF_INET6)
		n = tw_hosts_lookup(r->hosts, r->hosts_len, req->name, TW_DNS_TYPE_A, found,
				    HOSTS_MAX_ANSWER);
	if (n > HOSTS_MAX_ANSWER)
		n = HOSTS_MAX_ANSWER;
	if (req->family != AF_INET)
		n += tw_hosts_lookup(r->hosts, r->hosts_len, req->name, TW_DNS_TYPE_AAAA, found + n,
				     HOSTS_MAX_ANSWER - n);
	if (n > HOSTS_MAX_ANSWER)
		n = HOSTS_MAX_ANSWER;
	if (n == 0)
		return 0;
	int rc = answer_addrs(req, found, n, TW_RESOLVER_HOSTS_TTL);
	return rc < 0 ? rc : 1;
}

/* RFC 6761 §6.3: localhost names are loopback even without a hosts entry. */
static int answer_localhost(tw_resolve_req *req)
{
	static const char suffix[] = ".localhost";
	size_t n = strlen(req->key), sl = sizeof(suffix) - 1;
	if (n > 0 && req->key[n - 1] == '.')
		n--;
	bool local = (n == sl - 1 && memcmp(req->key, suffix + 1, n) == 0) ||
		     (n > sl && memcmp(req->key + n - sl, suffix, sl) == 0);
	if (!local)
		return 0;
	tw_dns_addr lo[2] = { { TW_DNS_TYPE_A, { 127, 0, 0, 1 } },
			      { TW_DNS_TYPE_AAAA, { [15] = 1 } } };
	const tw_dns_addr *first = req->family == AF_INET6 ? &lo[1] : &lo[0];
	size_t count = req->family == AF_UNSPEC ? 2 : 1;
	int rc = answer_addrs(req, first, count, TW_RESOLVER_HOSTS_TTL);
	return rc < 0 ? rc : 1;
}

static int answer_cache(tw_resolve_req *req)
{
	tw_resolver *r = req->r;
	if (r->cache_cap == 0)
		return 0;
	cache_ent *e = cache_find(r, req->key, req->family);
	int64_t now = tw_loop_mono(r->loop);
	if (!e || e->expires <= now) {
		if (e)
			cache_clear(e);
		return 0;
	}
	tw_sockaddr *a = malloc(e->n * sizeof(*a));
	if (!a)
		return -ENOMEM;
	memcpy(a, e->addrs, e->n * sizeof(*a));
	uint32_t left = (uint32_t)((e->expires - now + NS_PER_S - 1) / NS_PER_S);
	int rc = answer_now(req, 0, a, e->n, left);
	return rc < 0 ? rc : 1;
}

/* ---- requests ---- */

static void req_close(tw_resolve_req *req)
{
	for (size_t i = 0; i < 2; i++) {
		q_close(&req->q[i]);
		tw_timer_stop(req->loop, &req->q[i].timer);
	}
	tw_timer_stop(req->loop, &req->step);
}

/* Frees a request whose sockets and timers are closed. Touches neither
 * the resolver nor the loop: the callback may have freed the resolver. */
static void req_destroy(tw_resolve_req *req)
{
	for (size_t i = 0; i < 2; i++)
		free(req->q[i].addrs);
	free(req->res);
	conf_unref(req->conf);
	free(req);
}

static void deliver(tw_resolve_req *req)
{
	req_close(req);
	req_unlink(req->r, req);
	req->r = NULL;
	req->in_cb = true;
	req->cb(req->arg, req->err, req->res, req->n_res, req->ttl);
	req_destroy(req);
}

static tw_resolve_req *req_new(tw_resolver *r, int family, tw_resolve_cb cb, void *arg)
{
	tw_resolve_req *req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	req->r = r;
	req->loop = r->loop;
	req->cb = cb;
	req->arg = arg;
	req->family = family;
	tw_timer_init(&req->step, on_step, req);
	for (size_t i = 0; i < 2; i++) {
		subq *q = &req->q[i];
		q->req = req;
		q->fd = -1;
		tw_io_init(&q->io);
		tw_timer_init(&q->timer, on_q_timer, q);
	}
	if (tw_timer_at(r->loop, &req->step, PARKED) < 0 ||
	    tw_timer_at(r->loop, &req->q[0].timer, PARKED) < 0 ||
	    tw_timer_at(r->loop, &req->q[1].timer, PARKED) < 0) {
		req_close(req);
		free(req);
		return NULL;
	}
	req->nq = family == AF_UNSPEC ? 2 : 1;
	req->q[0].qtype = family == AF_INET6 ? TW_DNS_TYPE_AAAA : TW_DNS_TYPE_A;
	req->q[1].qtype = TW_DNS_TYPE_AAAA;
	return req;
}

static int start_dns(tw_resolve_req *req, bool absolute)
{
	req->conf = conf_ref(req->r->conf);
	build_candidates(req, absolute);
	start_candidate(req);
	return 0;
}

/* Answers from a literal, hosts, localhost or the cache, else asks DNS. */
static int req_start(tw_resolve_req *req, const char *name)
{
	tw_sockaddr lit;
	if (parse_literal(name, &lit))
		return answer_literal(req, &lit);
	int nl = tw_dns_name_check(name);
	if (nl < 0)
		return nl;
	size_t kl = strlen(name);
	for (size_t i = 0; i < kl; i++)
		req->key[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	memcpy(req->name, req->key, (size_t)nl);
	int rc = answer_hosts(req);
	if (rc == 0)
		rc = answer_localhost(req);
	if (rc == 0)
		rc = answer_cache(req);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	return start_dns(req, kl > (size_t)nl);
}

static void maybe_reload(tw_resolver *r)
{
	int64_t now = tw_loop_mono(r->loop);
	if (now < r->next_check)
		return;
	r->next_check = now + TW_RESOLVER_RELOAD_CHECK_S * NS_PER_S;
	file_id id = stat_id(r->conf_path);
	if (!id_same(&id, &r->conf_id)) {
		conf *c = conf_load(r);
		if (c) {
			conf_unref(r->conf);
			r->conf = c;
			tw_resolver_flush_cache(r);
		}
	}
	id = stat_id(r->hosts_path);
	if (!id_same(&id, &r->hosts_id))
		hosts_load(r);
}

int tw_resolver_query(tw_resolver *r, const char *name, int family, tw_resolve_cb cb, void *arg,
		      tw_resolve_req **handle)
{
	if (!r || !name || !cb || (family != AF_UNSPEC && family != AF_INET && family != AF_INET6))
		return -EINVAL;
	if (r->pending >= r->max_requests)
		return -EBUSY;
	maybe_reload(r);
	tw_resolve_req *req = req_new(r, family, cb, arg);
	if (!req)
		return -ENOMEM;
	int rc = req_start(req, name);
	if (rc < 0) {
		req_close(req);
		req_destroy(req);
		return rc;
	}
	req_link(r, req);
	if (handle)
		*handle = req;
	return 0;
}

void tw_resolver_cancel(tw_resolver *r, tw_resolve_req *req)
{
	if (!r || !req || req->in_cb)
		return;
	req_close(req);
	req_unlink(r, req);
	req_destroy(req);
}

/* ---- life cycle ---- */

static int copy_opts(tw_resolver *r, const tw_resolver_opts *o)
{
	r->conf_path = strdup(o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf");
	r->hosts_path = strdup(o->hosts ? o->hosts : "/etc/hosts");
	if (!r->conf_path || !r->hosts_path)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_servers && i < TW_RESOLV_MAX_NS; i++) {
		r->servers[i] = o->servers[i];
		if (tw_sa_port(&r->servers[i]) == 0)
			tw_sa_set_port(&r->servers[i], TW_DNS_PORT);
		r->n_servers++;
	}
	r->timeout_ms = o->timeout_ms;
	r->attempts = o->attempts;
	r->max_requests = o->max_requests ? o->max_requests : TW_RESOLVER_DEFAULT_REQUESTS;
	r->cache_max_ttl = o->cache_max_ttl ? o->cache_max_ttl : TW_RESOLVER_DEFAULT_CACHE_TTL;
	r->cache_cap = o->no_cache ? 0 : o->cache_entries ? o->cache_entries : TW_RESOLVER_DEFAULT_CACHE;
	return 0;
}

tw_resolver *tw_resolver_new(tw_loop *loop, const tw_resolver_opts *opts)
{
	static const tw_resolver_opts none = { 0 };
	tw_resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->loop = loop;
	if (copy_opts(r, opts ? opts : &none) < 0)
		goto fail;
	if (r->cache_cap && !(r->cache = calloc(r->cache_cap, sizeof(*r->cache))))
		goto fail;
	if (!(r->conf = conf_load(r)))
		goto fail;
	hosts_load(r);
	r->next_check = tw_loop_mono(loop) + TW_RESOLVER_RELOAD_CHECK_S * NS_PER_S;
	return r;
fail:
	tw_resolver_free(r);
	errno = ENOMEM;
	return NULL;
}

void tw_resolver_free(tw_resolver *r)
{
	if (!r)
		return;
	while (r->head)
		tw_resolver_cancel(r, r->head);
	tw_resolver_flush_cache(r);
	free(r->cache);
	conf_unref(r->conf);
	free(r->hosts);
	free(r->conf_path);
	free(r->hosts_path);
	free(r);
}

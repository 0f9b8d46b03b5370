/* light.c - TWAMP Light and STAMP reflectors (see light.h). */
#include "light.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "crypto.h"
#include "errest.h"
#include "log.h"
#include "stamp.h"
#include "tlv.h"

#define RX_BATCH 64
#define RX_BUF TW_NET_RX_BUF
#define DEFAULT_MAX_SENDERS 1024
#define DEFAULT_IDLE_NS (300LL * 1000000000LL)

/* ---- per-sender state (stateful mode) ---- */

/* Hashed and compared as bytes (key_hash, memcmp), so no padding octet,
 * whose value C leaves unspecified, may sit in it: family is 16 bits and
 * last. */
typedef struct peer_key {
	uint8_t addr[16];
	uint16_t port;
	uint16_t ssid;
	uint16_t family; /* IPVN: 4 or 6 */
} peer_key;
_Static_assert(sizeof(peer_key) == 22, "peer_key must have no padding");

typedef struct peer {
	peer_key key;
	uint32_t seq;      /* next reflected sequence number */
	uint32_t rx, tx;   /* STAMP Direct Measurement counters */
	tw_tlv_follow_up prev; /* STAMP Follow-Up: our previous reply */
	int64_t last_seen; /* monotonic ns */
	uint32_t next;     /* hash chain: index + 1, 0 = end */
	bool used;
} peer;

typedef struct peer_table {
	peer *v;
	uint32_t cap;      /* entries */
	uint32_t *bucket;  /* index + 1 of the chain head, 0 = empty */
	uint32_t nbuckets; /* power of two */
	uint32_t used;
	uint32_t *free;    /* stack of unused entry indexes */
	uint32_t nfree;
} peer_table;

typedef struct listener {
	struct tw_light *owner;
	int fd;
	tw_io io;
	tw_sockaddr addr;
} listener;

struct tw_light {
	tw_loop *loop;
	tw_light_params p;
	tw_test_fmt fmt;
	tw_test_crypto *crypto;
	listener *ls;
	size_t nls;
	peer_table peers;
	tw_timer sweep;
};

static const char *const drop_names[TW_LIGHT_DROP_COUNT] = {
	"not_allowed", "short", "auth", "truncated", "send_error", "sender_limit",
};

const char *tw_light_drop_name(tw_light_drop d)
{
	return (unsigned)d < TW_LIGHT_DROP_COUNT ? drop_names[d] : "unknown";
}

static void drop(tw_light *l, tw_light_drop why)
{
	l->p.stats->dropped[why]++;
}

static peer_key key_of(const tw_sockaddr *from, uint16_t ssid)
{
	peer_key k = { .port = tw_sa_port(from), .ssid = ssid };
	uint8_t ipvn;
	tw_sa_to_wire(from, &ipvn, k.addr);
	k.family = ipvn;
	return k;
}

static uint32_t key_hash(const peer_key *k)
{
	uint32_t h = 2166136261u; /* FNV-1a over the fields */
	const uint8_t *p = (const uint8_t *)k;
	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int table_init(peer_table *t, uint32_t cap)
{
	t->cap = cap;
	t->nbuckets = 1;
	while (t->nbuckets < 2 * cap)
		t->nbuckets <<= 1;
	t->v = calloc(cap, sizeof(*t->v));
	t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
	t->free = calloc(cap, sizeof(*t->free));
	if (!t->v || !t->bucket || !t->free)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++)
		t->free[i] = cap - 1 - i; /* entry 0 first */
	t->nfree = cap;
	return 0;
}

static void table_unlink(peer_table *t, uint32_t idx)
{
	uint32_t *pp = &t->bucket[key_hash(&t->v[idx].key) & (t->nbuckets - 1)];
	while (*pp && *pp != idx + 1)
		pp = &t->v[*pp - 1].next;
	if (*pp)
		*pp = t->v[idx].next;
	t->v[idx].used = false;
	t->used--;
	t->free[t->nfree++] = idx;
}

/* The sender's entry, created when missing; NULL when the table is full
 * (the sweep frees the entries of idle senders). Constant time: a flood of
 * new senders must not cost a scan of the table each. */
static peer *table_get(peer_table *t, const peer_key *k, int64_t now)
{
	uint32_t b = key_hash(k) & (t->nbuckets - 1);
	for (uint32_t i = t->bucket[b]; i; i = t->v[i - 1].next)
		if (memcmp(&t->v[i - 1].key, k, sizeof(*k)) == 0)
			return &t->v[i - 1];
	if (!t->nfree)
		return NULL;
	uint32_t slot = t->free[--t->nfree];
	t->v[slot] = (peer){ .key = *k, .last_seen = now, .next = t->bucket[b], .used = true };
	t->bucket[b] = slot + 1;
	t->used++;
	return &t->v[slot];
}

static void on_sweep(void *arg)
{
	tw_light *l = arg;
	int64_t now = tw_loop_mono(l->loop);
	for (uint32_t i = 0; i < l->peers.cap; i++)
		if (l->peers.v[i].used && now - l->peers.v[i].last_seen > l->p.sender_idle_ns)
			table_unlink(&l->peers, i);
	l->p.stats->senders = l->peers.used;
	tw_timer_in(l->loop, &l->sweep, l->p.sender_idle_ns / 2);
}

/* The reflected sequence number: the sender's own (stateless) or the
 * sender's counter. Returns false when a new sender does not fit; *pe is
 * the sender's entry (NULL when stateless). */
static bool next_seq(tw_light *l, const tw_sockaddr *from, uint16_t ssid, uint32_t sender_seq, uint32_t *out,
		     peer **pe)
{
	*pe = NULL;
	if (l->p.stateless) {
		*out = sender_seq;
		return true;
	}
	int64_t now = tw_loop_mono(l->loop);
	peer_key k = key_of(from, ssid);
	peer *e = table_get(&l->peers, &k, now);
	if (!e) {
		drop(l, TW_LIGHT_DROP_SENDER_LIMIT);
		return false;
	}
	e->last_seen = now;
	*out = e->seq++;
	*pe = e;
	l->p.stats->senders = l->peers.used;
	return true;
}

/* ---- reflecting ---- */

static int reply_tos(const tw_light *l, const tw_rx_meta *m)
{
	if (l->p.reply_dscp >= 0)
		return l->p.reply_dscp << 2;
	return tw_rx_meta_tos(m) & 0xFC; /* copy the DSCP, ECN Not-ECT */
}

/* proc_ns: T3 - T2 from the nanosecond readings, not the wire format. */
static void sent(tw_light *l, int64_t proc_ns)
{
	l->p.stats->reflected++;
	if (l->p.stats->observe_processing)
		l->p.stats->observe_processing(l->p.stats->observe_arg, proc_ns);
}

/* TWAMP Light: RFC 5357 formats, reply length max(request, header). */
static void reflect_twamp(tw_light *l, listener *ls, const uint8_t *pkt, size_t len, const tw_rx_meta *m)
{
	tw_sender_fields sf;
	int rc = tw_sender_parse(&l->fmt, l->crypto, pkt, len, &sf);
	if (rc < 0) {
		drop(l, rc == -EBADMSG ? TW_LIGHT_DROP_AUTH : TW_LIGHT_DROP_SHORT);
		return;
	}
	tw_reflector_fields f = {
		.rx_ts = tw_ts_from_unix_ns(m->rx_real_ns),
		.sender_ttl = tw_rx_meta_ttl(m),
		.sender_tos = tw_rx_meta_tos(m),
	};
	peer *e;
	if (!next_seq(l, &m->from, 0, sf.seq, &f.seq, &e))
		return;
	uint8_t out[RX_BUF];
	int n = tw_reflector_build(&l->fmt, l->crypto, pkt, len, &f, out, sizeof(out));
	if (n < 0) {
		drop(l, TW_LIGHT_DROP_SHORT);
		return;
	}
	int64_t t3_ns = tw_loop_real(l->loop);
	tw_reflector_stamp(&l->fmt, l->crypto, out, (size_t)n, tw_ts_from_unix_ns(t3_ns), *l->p.errest);
	if (tw_net_send_tos(ls->fd, out, (size_t)n, &m->from, reply_tos(l, m)) < 0)
		drop(l, TW_LIGHT_DROP_SEND);
	else
		sent(l, t3_ns - m->rx_real_ns);
}


/* ---- STAMP ---- */

static tw_tlv_addr tlv_addr(const tw_sockaddr *a)
{
	tw_tlv_addr t = { .family = TW_TLV_AF_NONE };
	uint8_t ipvn;
	if (a->ss.ss_family != AF_INET && a->ss.ss_family != AF_INET6)
		return t;
	tw_sa_to_wire(a, &ipvn, t.octets);
	t.family = ipvn == 4 ? TW_TLV_AF_INET : TW_TLV_AF_INET6;
	return t;
}

/* What RFC 8972 TLVs learn about this reflector and this packet. */
static void tlv_context(const tw_light *l, const listener *ls, const tw_rx_meta *m, const peer *e, tw_tlv_ctx *ctx)
{
	bool synced = (*l->p.errest & TW_ERREST_S) != 0;
	tw_sockaddr to = m->to.ss.ss_family ? m->to : ls->addr;
	*ctx = (tw_tlv_ctx){
		.ds_byte = tw_rx_meta_tos(m),
		.allow_dscp1 = l->p.allow_cos_dscp,
		.src = tlv_addr(&m->from),
		.dst = tlv_addr(&to),
		.src_port = tw_sa_port(&m->from),
		.dst_port = tw_sa_port(&ls->addr),
		.tsinfo = { .sync_in = synced ? 1 : 5, .method_in = m->ts_source == TW_TS_KERNEL ? 2 : 3,
			    .sync_out = synced ? 1 : 5, .method_out = 2 },
		.stateless = e == NULL,
	};
	if (e) {
		ctx->rx_count = e->rx;
		ctx->tx_count = e->tx + 1;
		ctx->prev = e->prev;
	}
}

/* Octets 16-43 of an unauthenticated STAMP sender packet are MBZ (test.md
 * §9.2). A TWAMP Light sender padded to 44 octets or more fills them, and
 * the SSID octets 14-15, with its padding - pseudo-random with most
 * senders. Taken as an SSID, that padding would open a new stateful
 * session per packet (sequence numbers always 0) and soon fill the sender
 * table, locking every new sender out until the entries expire. Such a
 * packet is answered as TWAMP Light: one session per address and port,
 * its padding returned untouched instead of being parsed as TLVs. */
#define STAMP_OPEN_MBZ_OFF 16

static bool is_light_sender(tw_stamp_sec sec, const uint8_t *pkt, size_t len, const tw_stamp_sender_fields *sf)
{
	if (sf->light || sec != TW_STAMP_OPEN)
		return sf->light;
	for (size_t i = STAMP_OPEN_MBZ_OFF; i < TW_STAMP_BASE_OPEN && i < len; i++)
		if (pkt[i])
			return true;
	return false;
}

static void reflect_stamp(tw_light *l, listener *ls, const uint8_t *pkt, size_t len, const tw_rx_meta *m)
{
	tw_stamp_sec sec = l->p.sec == TW_TEST_OPEN ? TW_STAMP_OPEN : TW_STAMP_AUTH;
	tw_stamp_sender_fields sf;
	int rc = tw_stamp_sender_parse(sec, l->crypto, pkt, len, &sf);
	if (rc < 0) {
		drop(l, rc == -EBADMSG ? TW_LIGHT_DROP_AUTH : TW_LIGHT_DROP_SHORT);
		return;
	}
	tw_stamp_reply in = {
		.rx_ts = tw_ts_from_unix_ns(m->rx_real_ns),
		.ttl = tw_rx_meta_ttl(m),
	};
	bool light = is_light_sender(sec, pkt, len, &sf);
	peer *e;
	if (!next_seq(l, &m->from, light ? 0 : sf.ssid, sf.seq, &in.seq, &e))
		return;
	if (e)
		e->rx++;
	tw_tlv_ctx ctx;
	tlv_context(l, ls, m, e, &ctx);
	in.tlv = light ? NULL : &ctx;
	tw_tlv_result res = { 0 };
	uint8_t out[RX_BUF];
	int n = tw_stamp_reflector_build(sec, l->crypto, pkt, len, &in, &res, out, sizeof(out));
	if (n < 0) {
		drop(l, TW_LIGHT_DROP_SHORT);
		return;
	}
	int64_t t3_ns = tw_loop_real(l->loop);
	tw_ts t3 = tw_ts_from_unix_ns(t3_ns);
	tw_stamp_reflector_stamp(sec, l->crypto, out, (size_t)n, t3, *l->p.errest);
	int tos = res.cos ? res.reply_dscp << 2 : reply_tos(l, m);
	if (tw_net_send_tos(ls->fd, out, (size_t)n, &m->from, tos) < 0) {
		drop(l, TW_LIGHT_DROP_SEND);
		return;
	}
	if (e) {
		e->tx++;
		e->prev = (tw_tlv_follow_up){ .seq = in.seq, .ts = t3, .mode = 2 };
	}
	if (res.malformed)
		l->p.stats->tlv_malformed++;
	if (res.integrity_failed)
		l->p.stats->tlv_integrity_failed++;
	sent(l, t3_ns - m->rx_real_ns);
}

static void on_datagram(void *arg, const uint8_t *buf, long n, const tw_rx_meta *meta)
{
	listener *ls = arg;
	tw_light *l = ls->owner;
	tw_rx_meta m = *meta;
	l->p.stats->received++;
	tw_sa_unmap(&m.from);
	if (n < 0)
		drop(l, TW_LIGHT_DROP_TRUNCATED);
	else if (l->p.allow && !l->p.allow(l->p.allow_arg, &m.from))
		drop(l, TW_LIGHT_DROP_NOT_ALLOWED);
	else if (l->p.proto == TW_LIGHT_STAMP)
		reflect_stamp(l, ls, buf, (size_t)n, &m);
	else
		reflect_twamp(l, ls, buf, (size_t)n, &m);
}

static void on_readable(void *arg, uint32_t events)
{
	listener *ls = arg;
	(void)events;
	tw_net_recv_each(ls->fd, RX_BATCH, tw_loop_clock(ls->owner->loop), on_datagram, ls);
}

/* ---- lifecycle ---- */

static int open_listener(tw_light *l, listener *ls, const tw_sockaddr *a, char *err, size_t errcap)
{
	char s[80];
	tw_udp_opts o = { .tos = -1, .ttl = 255, .recv_meta = true };
	ls->owner = l;
	tw_io_init(&ls->io);
	ls->fd = tw_net_udp_open(a, &o);
	if (ls->fd < 0) {
		snprintf(err, errcap, "cannot listen on UDP %s: %s", tw_sa_format(a, s, sizeof(s)), strerror(-ls->fd));
		return ls->fd;
	}
	tw_net_local_addr(ls->fd, &ls->addr);
	int rc = tw_io_add(l->loop, &ls->io, ls->fd, EPOLLIN, on_readable, ls);
	if (rc < 0) {
		snprintf(err, errcap, "cannot watch UDP %s: %s", tw_sa_format(a, s, sizeof(s)), strerror(-rc));
		close(ls->fd);
		ls->fd = -1;
		return rc;
	}
	tw_info(l->p.proto == TW_LIGHT_STAMP ? "STAMP reflector listening" : "TWAMP Light reflector listening",
		"address=%s mode=%s", tw_sa_format(&ls->addr, s, sizeof(s)), l->p.stateless ? "stateless" : "stateful");
	return 0;
}

static int setup_crypto(tw_light *l)
{
	if (l->p.sec == TW_TEST_OPEN)
		return 0;
	if (!l->p.hmac_key || (l->p.proto == TW_LIGHT_TWAMP && !l->p.aes_key))
		return -EINVAL;
	tw_mac_alg alg = l->p.proto == TW_LIGHT_STAMP ? TW_MAC_HMAC_SHA256 : TW_MAC_HMAC_SHA1;
	const uint8_t *aes = l->p.proto == TW_LIGHT_STAMP ? NULL : l->p.aes_key;
	l->crypto = tw_test_crypto_new(aes, l->p.hmac_key, l->p.hmac_key_len, alg);
	return l->crypto ? 0 : -ENOMEM;
}

tw_light *tw_light_new(tw_loop *loop, const tw_light_params *p, char *err, size_t errcap)
{
	tw_light *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	l->loop = loop;
	l->p = *p;
	l->p.listen = NULL; /* not kept */
	if (!l->p.max_senders)
		l->p.max_senders = DEFAULT_MAX_SENDERS;
	if (l->p.sender_idle_ns <= 0)
		l->p.sender_idle_ns = DEFAULT_IDLE_NS;
	l->fmt.sec = p->proto == TW_LIGHT_STAMP ? TW_TEST_OPEN : p->sec;
	tw_timer_init(&l->sweep, on_sweep, l);
	l->ls = calloc(p->nlisten ? p->nlisten : 1, sizeof(*l->ls));
	int rc = l->ls ? setup_crypto(l) : -ENOMEM;
	if (rc == 0 && !p->stateless)
		rc = table_init(&l->peers, l->p.max_senders);
	if (rc < 0)
		snprintf(err, errcap, rc == -EINVAL ? "keyed mode without keys" : "out of memory");
	for (size_t i = 0; i < p->nlisten && rc == 0; i++, l->nls++)
		rc = open_listener(l, &l->ls[i], &p->listen[i], err, errcap);
	if (rc < 0) {
		tw_light_free(l);
		return NULL;
	}
	if (!p->stateless)
		tw_timer_in(loop, &l->sweep, l->p.sender_idle_ns / 2);
	return l;
}

void tw_light_free(tw_light *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nls; i++) {
		if (l->ls[i].fd < 0)
			continue;
		tw_io_del(l->loop, &l->ls[i].io);
		close(l->ls[i].fd);
	}
	tw_timer_stop(l->loop, &l->sweep);
	tw_test_crypto_free(l->crypto);
	l->p.stats->senders = 0;
	free(l->peers.v);
	free(l->peers.bucket);
	free(l->peers.free);
	free(l->ls);
	free(l);
}

int tw_light_listen_addr(const tw_light *l, size_t i, tw_sockaddr *out)
{
	if (i >= l->nls)
		return -EINVAL;
	*out = l->ls[i].addr;
	return 0;
}

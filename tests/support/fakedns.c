/* fakedns.c - a fake DNS server on the test's loop (see fakedns.h). */
#include "fakedns.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

#define MS INT64_C(1000000)

static int64_t wall_ms(void)
{
	return tw_clock_mono(&tw_clock_system) / MS;
}

/* ---- answers ---- */

void tw_fakedns_reply_start(tw_dnsmsg *out, const tw_fakedns_query *q, unsigned flags)
{
	out->n = 0;
	tw_dnsmsg_u16(out, q->id);
	tw_dnsmsg_u16(out, 0x8180 | flags);
	tw_dnsmsg_u16(out, 1);
	tw_dnsmsg_u16(out, 0); /* ANCOUNT, counted by the answers */
	tw_dnsmsg_u16(out, 0);
	tw_dnsmsg_u16(out, 0);
	for (size_t i = TW_DNS_HDR_LEN; i < q->qend; i++)
		tw_dnsmsg_u8(out, q->msg[i]);
}

void tw_fakedns_count_answer(tw_dnsmsg *out)
{
	tw_dnsmsg_set_u16(out, 6, (unsigned)(out->b[6] << 8 | out->b[7]) + 1);
}

void tw_fakedns_answer_addr(tw_dnsmsg *out, size_t owner_off, uint32_t ttl, const char *text)
{
	tw_dnsmsg_ptr(out, owner_off);
	tw_dnsmsg_rr_addr(out, ttl, text);
	tw_fakedns_count_answer(out);
}

void tw_fakedns_send(tw_fakedns *f, const uint8_t *buf, size_t len, const tw_sockaddr *to, bool spoofed)
{
	assert_int_equal(tw_net_send(spoofed ? f->spoofer : f->udp, buf, len, to), 0);
}

/* ---- queries ---- */

static bool parse_query(const uint8_t *m, size_t len, tw_fakedns_query *q)
{
	size_t p = TW_DNS_HDR_LEN, o = 0;
	if (len < p + 5)
		return false;
	q->msg = m;
	q->id = (uint16_t)(m[0] << 8 | m[1]);
	while (p < len && m[p] != 0) {
		size_t l = m[p++];
		if (l > 63 || p + l > len || o + l + 1 >= sizeof(q->name))
			return false;
		if (o)
			q->name[o++] = '.';
		memcpy(q->name + o, m + p, l);
		o += l;
		p += l;
	}
	q->name[o] = '\0';
	if (p + 5 > len)
		return false;
	q->qtype = (uint16_t)(m[p + 1] << 8 | m[p + 2]);
	q->qend = p + 5;
	return true;
}

static void log_query(tw_fakedns *f, const tw_fakedns_query *q)
{
	if (f->nlog < TW_FAKEDNS_LOG_MAX)
		snprintf(f->log[f->nlog++], sizeof(f->log[0]), "%s/%s", q->name,
			 q->qtype == TW_DNS_TYPE_A ? "A" : "AAAA");
}

/* ---- delayed UDP answers ---- */

static void on_later(void *arg)
{
	tw_fakedns *f = arg;
	int64_t now = wall_ms(), next = INT64_MAX;
	for (int i = 0; i < TW_FAKEDNS_DELAYED_MAX; i++) {
		tw_fakedns_delayed *d = &f->later[i];
		if (d->len && d->when_ms <= now) {
			tw_fakedns_send(f, d->buf, d->len, &d->to, false);
			d->len = 0;
		} else if (d->len && d->when_ms < next) {
			next = d->when_ms;
		}
	}
	if (next != INT64_MAX)
		tw_timer_in(f->l, &f->later_timer, (next - now) * MS);
}

static void send_later(tw_fakedns *f, const tw_dnsmsg *o, const tw_sockaddr *to, int delay_ms)
{
	for (int i = 0; i < TW_FAKEDNS_DELAYED_MAX; i++) {
		tw_fakedns_delayed *d = &f->later[i];
		if (d->len == 0) {
			assert_true(o->n <= sizeof(d->buf));
			memcpy(d->buf, o->b, o->n);
			d->len = o->n;
			d->to = *to;
			d->when_ms = wall_ms() + delay_ms;
			if (!tw_timer_armed(&f->later_timer))
				tw_timer_in(f->l, &f->later_timer, delay_ms * MS);
			return;
		}
	}
	fail_msg("fake DNS server: too many delayed answers");
}

static void on_udp_query(void *arg, uint32_t ev)
{
	tw_fakedns *f = arg;
	uint8_t m[1024];
	tw_rx_meta meta;
	long n;
	(void)ev;
	while ((n = tw_net_recv(f->udp, m, sizeof(m), &meta, &tw_clock_system)) >= 0) {
		tw_fakedns_query q;
		tw_dnsmsg o;
		f->queries++;
		if (!parse_query(m, (size_t)n, &q))
			continue;
		log_query(f, &q);
		if (f->silent)
			continue;
		int delay = f->zone(f->zone_arg, f, &q, false, &meta.from, &o);
		if (delay > 0)
			send_later(f, &o, &meta.from, delay);
		else if (delay == 0)
			tw_fakedns_send(f, o.b, o.n, &meta.from, false);
	}
}

/* ---- TCP: one query per connection, then close ---- */

static void conn_close(tw_fakedns_conn *c)
{
	tw_io_del(c->srv->l, &c->io);
	close(c->fd);
	c->fd = -1;
}

static void answer_tcp(tw_fakedns_conn *c)
{
	tw_fakedns_query q;
	tw_dnsmsg o;
	uint8_t frame[2 + sizeof(o.b)];
	tw_sockaddr from;
	c->srv->tcp_queries++;
	assert_int_equal(tw_net_peer_addr(c->fd, &from), 0);
	if (!parse_query(c->buf + 2, c->len - 2, &q) || c->srv->zone(c->srv->zone_arg, c->srv, &q, true, &from, &o) < 0)
		return;
	frame[0] = (uint8_t)(o.n >> 8);
	frame[1] = (uint8_t)o.n;
	memcpy(frame + 2, o.b, o.n);
	assert_int_equal(send(c->fd, frame, o.n + 2, MSG_NOSIGNAL), (ssize_t)(o.n + 2));
}

static void on_conn(void *arg, uint32_t ev)
{
	tw_fakedns_conn *c = arg;
	(void)ev;
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			conn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (c->len < 2 || c->len < 2 + (size_t)(c->buf[0] << 8 | c->buf[1]))
		return;
	answer_tcp(c);
	conn_close(c);
}

static void on_accept(void *arg, uint32_t ev)
{
	tw_fakedns *f = arg;
	(void)ev;
	int fd = accept4(f->tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < TW_FAKEDNS_CONN_MAX; i++) {
		tw_fakedns_conn *c = &f->conns[i];
		if (c->fd < 0) {
			c->fd = fd;
			c->len = 0;
			c->srv = f;
			tw_io_init(&c->io);
			assert_int_equal(tw_io_add(f->l, &c->io, fd, EPOLLIN, on_conn, c), 0);
			return;
		}
	}
	close(fd);
}

/* ---- start and stop ---- */

/* UDP and TCP on one port number: the ephemeral UDP port's TCP twin may
 * be taken by someone else, so try a few ports (bounded). */
static bool open_sockets(tw_fakedns *f, const tw_sockaddr *any)
{
	f->tcp = -1;
	for (int attempt = 0; attempt < 50 && f->tcp < 0; attempt++) {
		f->udp = tw_net_udp_open(any, NULL);
		if (f->udp < 0)
			return false;
		assert_int_equal(tw_net_local_addr(f->udp, &f->addr), 0);
		f->tcp = tw_net_tcp_listen(&f->addr, 8);
		if (f->tcp < 0)
			close(f->udp);
	}
	assert_true(f->tcp >= 0);
	f->spoofer = tw_net_udp_open(any, NULL);
	assert_true(f->spoofer >= 0);
	return true;
}

bool tw_fakedns_start(tw_fakedns *f, tw_loop *l, const char *host, tw_fakedns_zone_fn zone, void *arg)
{
	memset(f, 0, sizeof(*f));
	f->l = l;
	f->zone = zone;
	f->zone_arg = arg;
	tw_sockaddr any;
	assert_int_equal(tw_sa_from_numeric(host, 0, &any), 0);
	if (!open_sockets(f, &any))
		return false;
	tw_io_init(&f->udp_io);
	tw_io_init(&f->tcp_io);
	assert_int_equal(tw_io_add(l, &f->udp_io, f->udp, EPOLLIN, on_udp_query, f), 0);
	assert_int_equal(tw_io_add(l, &f->tcp_io, f->tcp, EPOLLIN, on_accept, f), 0);
	tw_timer_init(&f->later_timer, on_later, f);
	for (int i = 0; i < TW_FAKEDNS_CONN_MAX; i++)
		f->conns[i].fd = -1;
	return true;
}

void tw_fakedns_stop(tw_fakedns *f)
{
	tw_io_del(f->l, &f->udp_io);
	tw_io_del(f->l, &f->tcp_io);
	tw_timer_stop(f->l, &f->later_timer);
	for (int i = 0; i < TW_FAKEDNS_CONN_MAX; i++) {
		if (f->conns[i].fd >= 0)
			conn_close(&f->conns[i]);
	}
	close(f->udp);
	close(f->tcp);
	close(f->spoofer);
}

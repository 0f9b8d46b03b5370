/* server.c - TWAMP Server: listeners, control connections, sessions (see server.h). */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "ctrl_server.h"
#include "log.h"
#include "rng.h"
#include "wire.h"

#define OUT_CAP 8192 /* control replies are small (Start-N-Ack <= 32 + 16 * 256); more means a stuck peer */
#define READ_CHUNK 2048
#define ERREST_REFRESH_NS 1000000000LL
#define ACCEPT_BACKOFF_MS 100 /* out of descriptors: wait before accepting again */

typedef struct conn conn;

/* A reflector session; outlives its control connection while it drains
 * its post-stop Timeout. */
typedef struct sess {
	struct sess *next, *prev;
	tw_server *srv;
	conn *owner; /* NULL once the connection closed */
	tw_refl_session *rs;
	uint8_t sid[TW_SID_LEN];
} sess;

struct conn {
	conn *next, *prev;
	tw_server *srv;
	int fd;
	tw_io io;
	tw_timer idle; /* SERVWAIT */
	tw_srv *fsm;
	tw_sockaddr peer, local;
	char peer_str[64];
	uint8_t out[OUT_CAP];
	size_t out_len;
	bool closing; /* close once out is flushed */
	sess **sessions;
	uint32_t nsessions;
	uint32_t max_sessions; /* sizes sessions[] and fsm; a reload cannot raise it */
};

typedef struct listener {
	tw_server *srv;
	int fd;
	tw_io io;
	tw_timer backoff; /* accept paused while descriptors are exhausted */
	tw_sockaddr want; /* as configured (port may be 0) */
	tw_sockaddr addr; /* as bound */
} listener;

struct tw_server {
	tw_loop *loop;
	tw_server_params p;
	listener **listeners;
	size_t nlisteners;
	conn *conns;
	sess *sessions;
	tw_server_stats stats;
	tw_ts start_time;
	uint16_t errest;
	tw_timer errest_timer;
};

static const char *const reject_names[TW_REJECT_COUNT] = {
	"not_allowed", "connection_limit", "session_limit", "mode", "unknown_identity",
	"bad_secret", "unsupported_request", "resources", "protocol", "timeout",
};

const char *tw_server_reject_name(tw_server_reject r)
{
	return (unsigned)r < TW_REJECT_COUNT ? reject_names[r] : "unknown";
}

static void count_reject(conn *c, tw_server_reject why)
{
	c->srv->stats.rejections[why]++;
}

/* ---- sessions ---- */

static void sess_unlink(sess *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		x->srv->sessions = x->next;
	if (x->next)
		x->next->prev = x->prev;
	if (x->owner) {
		conn *c = x->owner;
		for (uint32_t i = 0; i < c->nsessions; i++) {
			if (c->sessions[i] == x)
				c->sessions[i] = NULL;
		}
	}
}

static void sess_free(sess *x)
{
	sess_unlink(x);
	tw_refl_session_free(x->rs);
	free(x);
}

static void on_session_done(void *arg, tw_refl_session *rs)
{
	(void)rs;
	sess_free(arg); /* runs from the session's timer: safe to free */
}

/* ---- output ---- */

static void conn_close(conn *c);

static void update_events(conn *c)
{
	uint32_t ev = EPOLLIN | (c->out_len ? EPOLLOUT : 0);
	tw_io_mod(c->srv->loop, &c->io, ev);
}

/* Writes what the socket takes; returns false when the connection died. */
static bool flush(conn *c)
{
	if (tw_net_stream_flush(c->fd, c->out, &c->out_len) < 0) {
		conn_close(c);
		return false;
	}
	if (c->closing && c->out_len == 0) {
		conn_close(c);
		return false;
	}
	update_events(c);
	return true;
}

/* Queues a reply built by the state machine (len < 0: an internal error). */
static bool send_msg(conn *c, const uint8_t *msg, int len)
{
	if (len < 0 || (size_t)len > OUT_CAP - c->out_len) {
		tw_warn("control connection dropped", "peer=%s reason=%s", c->peer_str,
			len < 0 ? "encode_error" : "output_stalled");
		conn_close(c);
		return false;
	}
	memcpy(c->out + c->out_len, msg, (size_t)len);
	c->out_len += (size_t)len;
	return true;
}

static void close_after_flush(conn *c)
{
	c->closing = true;
}

/* ---- SERVWAIT ---- */

static void on_idle(void *arg)
{
	conn *c = arg;
	tw_info("control connection closed", "peer=%s reason=servwait", c->peer_str);
	count_reject(c, TW_REJECT_TIMEOUT);
	conn_close(c);
}

static void touch_idle(conn *c)
{
	if (!c->srv->p.servwait_ns)
		return;
	/* Monitoring is suspended while sessions run (RFC 5357 §3.5). */
	if (tw_srv_get_state(c->fsm) == TW_SRV_TESTING)
		tw_timer_stop(c->srv->loop, &c->idle);
	else
		tw_timer_in(c->srv->loop, &c->idle, (int64_t)c->srv->p.servwait_ns);
}

/* ---- event handlers ---- */

static void keyid_to_identity(const uint8_t keyid[TW_KEYID_LEN], char *out, size_t cap)
{
	size_t n = 0;
	for (; n < TW_KEYID_LEN && n + 1 < cap && keyid[n]; n++)
		out[n] = (keyid[n] >= 0x20 && keyid[n] < 0x7f) ? (char)keyid[n] : '?';
	out[n] = '\0';
}

static uint8_t authenticate(conn *c, const tw_setup *m)
{
	if (tw_mode_security(m->mode) == TW_MODE_OPEN)
		return tw_srv_authenticate(c->fsm, NULL, 0);
	char identity[TW_KEYID_LEN + 1], q[200];
	keyid_to_identity(m->keyid, identity, sizeof(identity));
	size_t len = 0;
	const uint8_t *secret = c->srv->p.secret ? c->srv->p.secret(c->srv->p.secret_arg, identity, &len) : NULL;
	uint8_t accept = tw_srv_authenticate(c->fsm, secret, len);
	if (accept != TW_ACCEPT_OK) {
		tw_server_reject why = secret ? TW_REJECT_BAD_SECRET : TW_REJECT_UNKNOWN_IDENTITY;
		count_reject(c, why);
		tw_warn("authentication failed", "peer=%s identity=%s reason=%s", c->peer_str,
			tw_log_quote(q, sizeof(q), identity), tw_server_reject_name(why));
	}
	return accept;
}

static void on_setup(conn *c, const tw_srv_event *ev)
{
	uint8_t accept = ev->u.setup.accept;
	if (accept != TW_ACCEPT_OK) {
		count_reject(c, TW_REJECT_MODE);
		tw_info("control connection refused", "peer=%s reason=mode mode=0x%x", c->peer_str,
			ev->u.setup.msg.mode);
	} else {
		accept = authenticate(c, &ev->u.setup.msg);
	}
	uint8_t iv[TW_IV_LEN], out[TW_SERVER_START_LEN];
	tw_rng_secure(iv, sizeof(iv));
	int n = tw_srv_server_start(c->fsm, accept, iv, accept ? 0 : c->srv->start_time, out, sizeof(out));
	if (send_msg(c, out, n) && accept != TW_ACCEPT_OK)
		close_after_flush(c);
}

/* RFC 5357 §4.2 SID: an IPv4 address of ours, an NTP timestamp, 4 random
 * octets. IPv6-only connections use the last 4 octets of the address. */
static void make_sid(conn *c, uint8_t sid[TW_SID_LEN])
{
	uint8_t ipvn, addr[16];
	tw_sa_to_wire(&c->local, &ipvn, addr);
	memcpy(sid, ipvn == 4 ? addr : addr + 12, 4);
	tw_put_u64(sid + 4, tw_ts_from_unix_ns(tw_loop_real(c->srv->loop)));
	tw_rng_secure(sid + 12, 4);
}

/* Zero Sender/Receiver Address means "the control connection's". */
static void session_addrs(conn *c, const tw_request *r, tw_sockaddr *local, tw_sockaddr *peer)
{
	if (tw_wire_addr_is_zero(r->receiver_addr) ||
	    tw_sa_from_wire(r->ipvn, r->receiver_addr, r->receiver_port, local) < 0) {
		*local = c->local;
		tw_sa_set_port(local, r->receiver_port);
	}
	if (tw_wire_addr_is_zero(r->sender_addr) || tw_sa_from_wire(r->ipvn, r->sender_addr, r->sender_port, peer) < 0) {
		*peer = c->peer;
		tw_sa_set_port(peer, r->sender_port);
	}
	tw_sa_unmap(local);
	tw_sa_unmap(peer);
}

static tw_refl_session *open_session(conn *c, const tw_request *r, const uint8_t sid[TW_SID_LEN], sess *x, int *err)
{
	tw_refl_params p = {
		.port_min = c->srv->p.port_min,
		.port_max = c->srv->p.port_max,
		.fmt = tw_test_fmt_for_mode(tw_srv_mode(c->fsm)),
		.crypto = tw_srv_test_crypto(c->fsm, sid),
		.dscp = (int)tw_type_p_dscp(r->type_p),
		.timeout_ns = tw_ts_interval_to_ns(r->timeout),
		.refwait_ns = c->srv->p.refwait_ns,
		.errest = &c->srv->errest,
		.ptp = (tw_srv_mode(c->fsm) & TW_MODE_PTP) != 0,
		.reply_to_source = c->srv->p.reflect_to_source,
		.stats = &c->srv->stats.refl,
		.on_done = on_session_done,
		.arg = x,
	};
	session_addrs(c, r, &p.local, &p.peer);
	tw_refl_session *rs = tw_refl_session_new(c->srv->loop, &p, err);
	if (!rs && *err == -EADDRNOTAVAIL) {
		/* A Receiver Address that is not ours (NAT): use the connection's. */
		p.local = c->local;
		tw_sa_set_port(&p.local, r->receiver_port);
		rs = tw_refl_session_new(c->srv->loop, &p, err);
	}
	if (!rs)
		tw_test_crypto_free(p.crypto);
	return rs;
}

/* RFC 6038 Reflect Octets: the reflected part must survive the reply's
 * truncation, i.e. padding >= L + (reflector header - sender header). */
static bool reflect_octets_ok(conn *c, const tw_request *r, const tw_test_fmt *f)
{
	if (!(tw_srv_mode(c->fsm) & TW_MODE_REFLECT_OCTETS) || r->pad_reflect_len == 0)
		return true;
	size_t cut = tw_test_reflector_hdr_len(f) - tw_test_sender_hdr_len(f);
	return r->padding >= r->pad_reflect_len + cut;
}

/* Requests we can serve: packets that fit our buffers, reflectable octets. */
static uint8_t check_request(conn *c, const tw_request *r)
{
	tw_test_fmt f = tw_test_fmt_for_mode(tw_srv_mode(c->fsm));
	const char *why = NULL;
	if (tw_test_sender_hdr_len(&f) + r->padding > TW_REFL_MAX_PACKET)
		why = "padding";
	else if (!reflect_octets_ok(c, r, &f))
		why = "reflect_octets";
	if (!why)
		return TW_ACCEPT_OK;
	count_reject(c, TW_REJECT_REQUEST);
	tw_info("session request refused", "peer=%s reason=%s padding=%u reflect_len=%u max_packet=%u", c->peer_str,
		why, r->padding, r->pad_reflect_len, TW_REFL_MAX_PACKET);
	return TW_ACCEPT_NOT_SUPPORTED;
}

/* Per connection, and over the whole server (sessions still draining after
 * their connection closed count too, so reconnecting cannot pile them up). */
static uint8_t check_limits(conn *c)
{
	tw_server *s = c->srv;
	uint32_t limit = s->p.max_sessions < c->max_sessions ? s->p.max_sessions : c->max_sessions;
	uint64_t total = (uint64_t)s->p.max_connections * s->p.max_sessions;
	if (c->nsessions >= limit) {
		count_reject(c, TW_REJECT_SESSION_LIMIT);
		tw_warn("session request refused", "peer=%s reason=session_limit limit=%u", c->peer_str, limit);
		return TW_ACCEPT_PERMANENT;
	}
	if ((uint64_t)s->stats.refl.sessions >= total) {
		count_reject(c, TW_REJECT_SESSION_LIMIT);
		tw_warn("session request refused", "peer=%s reason=server_session_limit limit=%llu", c->peer_str,
			(unsigned long long)total);
		return TW_ACCEPT_TEMPORARY;
	}
	return TW_ACCEPT_OK;
}

/* Creates the session; returns the Accept value for the reply. */
static uint8_t create_session(conn *c, const tw_request *r, tw_accept_session *a)
{
	uint8_t accept = check_request(c, r);
	if (accept == TW_ACCEPT_OK)
		accept = check_limits(c);
	if (accept != TW_ACCEPT_OK)
		return accept;
	sess *x = calloc(1, sizeof(*x));
	int err = -ENOMEM;
	make_sid(c, a->sid);
	tw_refl_session *rs = x ? open_session(c, r, a->sid, x, &err) : NULL;
	if (!rs) {
		free(x);
		count_reject(c, TW_REJECT_RESOURCES);
		tw_warn("session request refused", "peer=%s reason=resources error=%s", c->peer_str, strerror(-err));
		return TW_ACCEPT_TEMPORARY;
	}
	*x = (sess){ .next = c->srv->sessions, .srv = c->srv, .owner = c, .rs = rs };
	memcpy(x->sid, a->sid, TW_SID_LEN);
	if (x->next)
		x->next->prev = x;
	c->srv->sessions = x;
	c->sessions[c->nsessions++] = x;
	a->port = tw_refl_session_port(rs);
	if (tw_srv_mode(c->fsm) & TW_MODE_REFLECT_OCTETS)
		a->reflected_octets = r->octets_reflected; /* RFC 6038: echoed; no Server octets */
	c->srv->stats.sessions_accepted++;
	return TW_ACCEPT_OK;
}

static void on_request(conn *c, const tw_srv_event *ev)
{
	tw_accept_session a = { .accept = ev->u.request.accept };
	if (a.accept != TW_ACCEPT_OK) {
		count_reject(c, TW_REJECT_REQUEST);
		tw_info("session request refused", "peer=%s reason=unsupported_request accept=%u", c->peer_str, a.accept);
	} else {
		a.accept = create_session(c, &ev->u.request.msg, &a);
	}
	if (a.accept != TW_ACCEPT_OK) {
		memset(a.sid, 0, sizeof(a.sid));
		a.port = 0; /* a refusal never suggests a port */
	}
	uint8_t out[TW_ACCEPT_LEN];
	send_msg(c, out, tw_srv_accept(c->fsm, &a, out, sizeof(out)));
}

static void for_each_session(conn *c, void (*fn)(tw_refl_session *))
{
	for (uint32_t i = 0; i < c->nsessions; i++) {
		if (c->sessions[i])
			fn(c->sessions[i]->rs);
	}
}

static void on_start(conn *c)
{
	uint8_t out[TW_START_ACK_LEN];
	if (send_msg(c, out, tw_srv_start_ack(c->fsm, TW_ACCEPT_OK, out, sizeof(out))))
		for_each_session(c, tw_refl_session_start);
}

static void on_stop(conn *c, const tw_srv_event *ev)
{
	for_each_session(c, tw_refl_session_stop);
	if (!ev->u.stop.count_ok) {
		count_reject(c, TW_REJECT_PROTOCOL);
		tw_warn("control connection closed", "peer=%s reason=stop_count_mismatch sessions=%u", c->peer_str,
			ev->u.stop.msg.nsessions);
		close_after_flush(c);
	}
}

static sess *find_sid(conn *c, const uint8_t *sid)
{
	for (uint32_t i = 0; i < c->nsessions; i++) {
		if (c->sessions[i] && memcmp(c->sessions[i]->sid, sid, TW_SID_LEN) == 0)
			return c->sessions[i];
	}
	return NULL;
}

/* ISC: start or stop the listed sessions, acknowledging them all. */
static void on_sids(conn *c, const tw_srv_event *ev, bool start)
{
	const tw_sids_msg *m = &ev->u.sids;
	/* The machine already checked every SID belongs to this connection. */
	for (uint32_t i = 0; i < m->n && m->accept == TW_ACCEPT_OK; i++) {
		sess *x = find_sid(c, m->sids + (size_t)i * TW_SID_LEN);
		if (x && start)
			tw_refl_session_start(x->rs);
		else if (x)
			tw_refl_session_stop(x->rs);
	}
	uint8_t out[TW_SIDS_BASE_LEN + TW_SID_LEN * TW_SERVER_MAX_SESSIONS];
	int n = tw_srv_sids_ack(c->fsm, start ? TW_CMD_START_N_ACK : TW_CMD_STOP_N_ACK, m->accept, m->n, m->sids, out,
				sizeof(out));
	send_msg(c, out, n);
}

static void on_error(conn *c, const tw_srv_event *ev)
{
	count_reject(c, TW_REJECT_PROTOCOL);
	tw_info("control connection closed", "peer=%s reason=protocol_error detail=\"%s\"", c->peer_str,
		ev->u.error.reason ? ev->u.error.reason : "");
	if (ev->u.error.reply_len)
		send_msg(c, ev->u.error.reply, (int)ev->u.error.reply_len);
	close_after_flush(c);
}

static void dispatch(conn *c, const tw_srv_event *ev)
{
	switch (ev->type) {
	case TW_SRV_EV_SETUP:
		on_setup(c, ev);
		break;
	case TW_SRV_EV_REQUEST:
		on_request(c, ev);
		break;
	case TW_SRV_EV_START:
		on_start(c);
		break;
	case TW_SRV_EV_STOP:
		on_stop(c, ev);
		break;
	case TW_SRV_EV_START_N:
	case TW_SRV_EV_STOP_N:
		on_sids(c, ev, ev->type == TW_SRV_EV_START_N);
		break;
	case TW_SRV_EV_ERROR:
		on_error(c, ev);
		break;
	case TW_SRV_EV_NONE:
		break;
	}
}

/* Feeds received octets to the state machine, one event at a time.
 * Returns false when the connection is gone. */
static bool consume(conn *c, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off < len && !c->closing) {
		tw_srv_event ev;
		off += tw_srv_feed(c->fsm, buf + off, len - off, &ev);
		if (ev.type == TW_SRV_EV_NONE)
			continue;
		dispatch(c, &ev);
		if (c->fd < 0)
			return false;
		touch_idle(c);
	}
	return flush(c);
}

static void on_conn_io(void *arg, uint32_t events)
{
	conn *c = arg;
	if (events & EPOLLOUT && !flush(c))
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	uint8_t buf[READ_CHUNK];
	for (int i = 0; i < 16 && !c->closing; i++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			tw_debug("control connection closed", "peer=%s reason=%s", c->peer_str, n == 0 ? "eof" : "error");
			conn_close(c);
			return;
		}
		if (!consume(c, buf, (size_t)n))
			return;
	}
}

/* ---- connection lifecycle ---- */

static void conn_reap(void *arg)
{
	conn *c = arg;
	tw_srv_free(c->fsm);
	free(c->sessions);
	free(c);
}

static void conn_close(conn *c)
{
	tw_server *s = c->srv;
	if (c->fd < 0)
		return;
	/* Started sessions drain their Timeout; unstarted ones end at once. */
	for (uint32_t i = 0; i < c->nsessions; i++) {
		sess *x = c->sessions[i];
		if (!x)
			continue;
		x->owner = NULL;
		tw_refl_session_stop(x->rs);
	}
	tw_timer_stop(s->loop, &c->idle);
	tw_io_del(s->loop, &c->io);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->stats.active_connections--;
	/* Callers up the stack may still look at c (c->fd < 0 tells them it is
	 * gone): free it from the loop, not here. */
	tw_timer_init(&c->idle, conn_reap, c);
	tw_timer_at(s->loop, &c->idle, 0);
}

/* Refuses politely: a Greeting with Modes 0 means "will not talk". */
static void refuse(int fd)
{
	uint8_t g[TW_GREETING_LEN];
	tw_greeting m = { .modes = 0, .count = 0 };
	if (tw_greeting_encode(&m, g, sizeof(g)) == TW_GREETING_LEN)
		(void)!send(fd, g, sizeof(g), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static bool admit(tw_server *s, int fd, const tw_sockaddr *peer, const char *peer_str)
{
	tw_server_reject why = TW_REJECT_COUNT;
	if (s->p.allow && !s->p.allow(s->p.allow_arg, peer))
		why = TW_REJECT_NOT_ALLOWED;
	else if ((uint64_t)s->stats.active_connections >= s->p.max_connections)
		why = TW_REJECT_CONN_LIMIT;
	if (why == TW_REJECT_COUNT)
		return true;
	s->stats.rejections[why]++;
	if (why == TW_REJECT_CONN_LIMIT)
		tw_warn("control connection refused", "peer=%s reason=connection_limit limit=%u", peer_str,
			s->p.max_connections);
	else
		tw_info("control connection refused", "peer=%s reason=not_allowed", peer_str);
	refuse(fd);
	return false;
}

static int send_greeting(conn *c)
{
	tw_greeting g = { .modes = c->srv->p.modes | c->srv->p.features, .count = c->srv->p.kdf_count };
	tw_rng_secure(g.challenge, sizeof(g.challenge));
	tw_rng_secure(g.salt, sizeof(g.salt));
	uint8_t out[TW_GREETING_LEN];
	return send_msg(c, out, tw_srv_greeting(c->fsm, &g, out, sizeof(out))) ? 0 : -EIO;
}

static conn *conn_new(tw_server *s, int fd, const tw_sockaddr *peer)
{
	conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = s;
	c->fd = fd;
	c->peer = *peer;
	tw_net_local_addr(fd, &c->local);
	tw_sa_unmap(&c->peer);
	tw_sa_unmap(&c->local);
	tw_sa_format(&c->peer, c->peer_str, sizeof(c->peer_str));
	tw_io_init(&c->io);
	tw_timer_init(&c->idle, on_idle, c);
	c->max_sessions = s->p.max_sessions;
	c->fsm = tw_srv_new(c->max_sessions);
	c->sessions = calloc(c->max_sessions ? c->max_sessions : 1, sizeof(*c->sessions));
	if (!c->fsm || !c->sessions || tw_io_add(s->loop, &c->io, fd, EPOLLIN, on_conn_io, c) < 0) {
		conn_reap(c);
		return NULL;
	}
	c->next = s->conns;
	if (c->next)
		c->next->prev = c;
	s->conns = c;
	s->stats.connections++;
	s->stats.active_connections++;
	return c;
}

static void accept_one(tw_server *s, int fd, const tw_sockaddr *peer)
{
	char peer_str[64];
	tw_sockaddr p = *peer;
	tw_sa_unmap(&p);
	tw_sa_format(&p, peer_str, sizeof(peer_str));
	if (!admit(s, fd, &p, peer_str))
		return;
	conn *c = conn_new(s, fd, &p);
	if (!c) {
		tw_error("control connection dropped", "peer=%s reason=out_of_memory", peer_str);
		close(fd);
		return;
	}
	tw_debug("control connection accepted", "peer=%s", peer_str);
	touch_idle(c);
	if (send_greeting(c) == 0)
		flush(c);
}

static void on_backoff_end(void *arg)
{
	listener *l = arg;
	tw_io_mod(l->srv->loop, &l->io, EPOLLIN);
}

/* The refused connection stays queued and the socket readable: stop
 * watching it for a while instead of spinning on accept(). */
static void pause_accepting(listener *l, int err)
{
	tw_warn("accept failed, pausing the listener", "error=\"%s\" retry_ms=%d", strerror(err), ACCEPT_BACKOFF_MS);
	tw_io_mod(l->srv->loop, &l->io, 0);
	tw_timer_in(l->srv->loop, &l->backoff, ACCEPT_BACKOFF_MS * 1000000LL);
}

static void on_listener(void *arg, uint32_t events)
{
	listener *l = arg;
	(void)events;
	for (int i = 0; i < 64; i++) {
		tw_sockaddr peer = { .len = sizeof(peer.ss) };
		int fd = accept4(l->fd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
			pause_accepting(l, errno);
			return;
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				tw_warn("accept failed", "error=\"%s\"", strerror(errno));
			return;
		}
		accept_one(l->srv, fd, &peer);
	}
}

/* ---- server lifecycle ---- */

static void refresh_errest(void *arg)
{
	tw_server *s = arg;
	tw_sync_state st = tw_clock_sync_state();
	s->errest = tw_clock_errest_word(&st);
	tw_timer_in(s->loop, &s->errest_timer, ERREST_REFRESH_NS);
}

static listener *listener_open(tw_server *s, const tw_sockaddr *want, char *err, size_t errcap)
{
	char a[64];
	listener *l = calloc(1, sizeof(*l));
	int fd = l ? tw_net_tcp_listen(want, 128) : -ENOMEM;
	if (fd < 0) {
		snprintf(err, errcap, "cannot listen on %s: %s", tw_sa_format(want, a, sizeof(a)), strerror(-fd));
		free(l);
		return NULL;
	}
	*l = (listener){ .srv = s, .fd = fd, .want = *want };
	tw_io_init(&l->io);
	tw_timer_init(&l->backoff, on_backoff_end, l);
	tw_net_local_addr(fd, &l->addr);
	int rc = tw_io_add(s->loop, &l->io, fd, EPOLLIN, on_listener, l);
	if (rc < 0) {
		snprintf(err, errcap, "cannot watch %s: %s", tw_sa_format(want, a, sizeof(a)), strerror(-rc));
		close(fd);
		free(l);
		return NULL;
	}
	tw_info("TWAMP server listening", "address=%s", tw_sa_format(&l->addr, a, sizeof(a)));
	return l;
}

static void listener_close(tw_server *s, listener *l)
{
	char a[64];
	tw_timer_stop(s->loop, &l->backoff);
	tw_io_del(s->loop, &l->io);
	close(l->fd);
	tw_info("TWAMP server stopped listening", "address=%s", tw_sa_format(&l->addr, a, sizeof(a)));
	free(l);
}

/* Index of the kept listener configured as want, or -1. */
static long find_listener(const tw_server *s, const bool *taken, const tw_sockaddr *want)
{
	for (size_t i = 0; i < s->nlisteners; i++)
		if (!taken[i] && tw_sa_equal(&s->listeners[i]->want, want))
			return (long)i;
	return -1;
}

/* Makes the listener set equal to addrs: keeps the sockets of addresses
 * that stay (their clients are not disturbed), opens the new ones first and
 * closes the others only when every new one could be opened. */
static int set_listeners(tw_server *s, const tw_sockaddr *addrs, size_t n, char *err, size_t errcap)
{
	listener **next = calloc(n ? n : 1, sizeof(*next));
	bool *taken = calloc(s->nlisteners ? s->nlisteners : 1, sizeof(*taken));
	bool *fresh = calloc(n ? n : 1, sizeof(*fresh));
	int rc = next && taken && fresh ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		long k = find_listener(s, taken, &addrs[i]);
		if (k >= 0) {
			taken[k] = true;
			next[i] = s->listeners[k];
		} else if ((next[i] = listener_open(s, &addrs[i], err, errcap)) != NULL) {
			fresh[i] = true;
		} else {
			rc = -EADDRINUSE;
		}
	}
	for (size_t i = 0; rc < 0 && next && fresh && i < n; i++)
		if (fresh[i] && next[i])
			listener_close(s, next[i]);
	for (size_t i = 0; rc == 0 && i < s->nlisteners; i++)
		if (!taken[i])
			listener_close(s, s->listeners[i]);
	if (rc == 0) {
		free(s->listeners);
		s->listeners = next;
		s->nlisteners = n;
		next = NULL;
	}
	free(next);
	free(taken);
	free(fresh);
	return rc;
}

/* The parameters kept after creation (the listen array is not). */
static void set_params(tw_server *s, const tw_server_params *p)
{
	s->p = *p;
	if (s->p.max_sessions > TW_SERVER_MAX_SESSIONS)
		s->p.max_sessions = TW_SERVER_MAX_SESSIONS;
	s->p.listen = NULL;
}

int tw_server_reconfigure(tw_server *s, const tw_server_params *p, char *err, size_t errcap)
{
	int rc = set_listeners(s, p->listen, p->nlisten, err, errcap);
	if (rc == 0)
		set_params(s, p);
	return rc;
}

tw_server *tw_server_new(tw_loop *loop, const tw_server_params *p, char *err, size_t errcap)
{
	tw_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	s->loop = loop;
	set_params(s, p);
	s->start_time = tw_ts_from_unix_ns(tw_loop_real(loop));
	tw_timer_init(&s->errest_timer, refresh_errest, s);
	refresh_errest(s);
	int rc = set_listeners(s, p->listen, p->nlisten, err, errcap);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errcap, "out of memory");
		tw_server_free(s);
		return NULL;
	}
	return s;
}

void tw_server_free(tw_server *s)
{
	if (!s)
		return;
	while (s->conns) {
		conn *c = s->conns;
		conn_close(c);
		tw_timer_stop(s->loop, &c->idle);
		conn_reap(c);
	}
	while (s->sessions)
		sess_free(s->sessions);
	for (size_t i = 0; i < s->nlisteners; i++)
		listener_close(s, s->listeners[i]);
	tw_timer_stop(s->loop, &s->errest_timer);
	free(s->listeners);
	free(s);
}

const tw_server_stats *tw_server_stats_get(const tw_server *s)
{
	return &s->stats;
}

tw_server_stats *tw_server_stats_mut(tw_server *s)
{
	return &s->stats;
}

int tw_server_listen_addr(const tw_server *s, size_t i, tw_sockaddr *out)
{
	if (i >= s->nlisteners)
		return -EINVAL;
	*out = s->listeners[i]->addr;
	return 0;
}

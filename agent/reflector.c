/* reflector.c - per-session TWAMP Session-Reflector (see reflector.h). */
#include "reflector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "errest.h"
#include "rng.h"

#define RX_BATCH 64           /* datagrams handled per readiness event */
#define RX_BUF TW_REFL_MAX_PACKET
#define PORT_TRIES 4096 /* binds tried in the port range per session */

typedef enum refl_state {
	REFL_BOUND,    /* accepted, not started: drop */
	REFL_RUNNING,
	REFL_STOPPING, /* Stop-Sessions seen: reflect until the deadline */
	REFL_DONE,
} refl_state;

struct tw_refl_session {
	tw_loop *loop;
	tw_refl_params p;
	int fd;
	uint16_t port;
	tw_io io;
	tw_timer timer; /* REFWAIT check or the post-stop deadline */
	refl_state state;
	bool was_started;
	uint32_t seq;   /* our own counter: +1 per reflected packet */
	int64_t last_rx_mono;
	int64_t stop_deadline;
};

static const char *const drop_names[TW_REFL_DROP_COUNT] = {
	"not_started", "wrong_source", "short", "auth", "truncated", "send_error",
};

const char *tw_refl_drop_name(tw_refl_drop r)
{
	return (unsigned)r < TW_REFL_DROP_COUNT ? drop_names[r] : "unknown";
}

static void drop(tw_refl_session *s, tw_refl_drop why)
{
	s->p.stats->dropped[why]++;
}

/* ---- the reflect path: receive, timestamp, validate, build, stamp, send ---- */

static bool source_ok(const tw_refl_session *s, const tw_sockaddr *from)
{
	if (s->p.reply_to_source)
		return true;
	tw_sockaddr f = *from;
	tw_sa_unmap(&f);
	return tw_sa_equal(&f, &s->p.peer);
}

/* Our timestamps in the negotiated format (RFC 8186: PTP when agreed). */
static tw_ts stamp_time(const tw_refl_session *s, int64_t real_ns)
{
	return s->p.ptp ? tw_ts_ptp_from_unix_ns(real_ns) : tw_ts_from_unix_ns(real_ns);
}

/* T3 - T2 from the nanosecond readings the timestamps were made of: no
 * round trip through the wire format (NTP or PTP) per packet. */
static void note_processing(tw_refl_session *s, int64_t ns)
{
	tw_refl_stats *st = s->p.stats;
	st->processing_count++;
	st->processing_sum_ns += ns;
	if (st->observe_processing)
		st->observe_processing(st->observe_arg, ns);
}

static void reflect_one(tw_refl_session *s, const uint8_t *pkt, size_t len, const tw_rx_meta *m)
{
	tw_sender_fields sf;
	int rc = tw_sender_parse(&s->p.fmt, s->p.crypto, pkt, len, &sf);
	if (rc < 0) {
		drop(s, rc == -EBADMSG ? TW_REFL_DROP_AUTH : TW_REFL_DROP_SHORT);
		return;
	}
	tw_reflector_fields f = {
		.seq = s->seq,
		.rx_ts = stamp_time(s, m->rx_real_ns),
		.sender_seq = sf.seq,
		.sender_ts = sf.ts,
		.sender_errest = sf.errest,
		.sender_ttl = tw_rx_meta_ttl(m),
		.sender_tos = tw_rx_meta_tos(m),
	};
	uint8_t out[RX_BUF];
	int n = tw_reflector_build(&s->p.fmt, s->p.crypto, pkt, len, &f, out, sizeof(out));
	if (n < 0) {
		drop(s, TW_REFL_DROP_SHORT);
		return;
	}
	/* T3 as late as possible: right before the send. */
	int64_t t3_ns = tw_loop_real(s->loop);
	uint16_t errest = (uint16_t)(*s->p.errest | (s->p.ptp ? TW_ERREST_Z : 0));
	tw_reflector_stamp(&s->p.fmt, s->p.crypto, out, (size_t)n, stamp_time(s, t3_ns), errest);
	const tw_sockaddr *to = s->p.reply_to_source ? &m->from : &s->p.peer;
	if (tw_net_send(s->fd, out, (size_t)n, to) < 0) {
		drop(s, TW_REFL_DROP_SEND);
		return;
	}
	s->seq++;
	s->p.stats->reflected++;
	note_processing(s, t3_ns - m->rx_real_ns);
}

static bool accepting(const tw_refl_session *s)
{
	if (s->state == REFL_RUNNING)
		return true;
	return s->state == REFL_STOPPING && s->was_started && tw_loop_mono(s->loop) <= s->stop_deadline;
}

static void on_datagram(void *arg, const uint8_t *buf, long n, const tw_rx_meta *m)
{
	tw_refl_session *s = arg;
	s->p.stats->received++;
	if (n < 0)
		drop(s, TW_REFL_DROP_TRUNCATED);
	else if (!accepting(s))
		drop(s, TW_REFL_DROP_NOT_STARTED);
	else if (!source_ok(s, &m->from))
		drop(s, TW_REFL_DROP_SOURCE);
	else {
		s->last_rx_mono = tw_loop_mono(s->loop);
		reflect_one(s, buf, (size_t)n, m);
	}
}

static void on_readable(void *arg, uint32_t events)
{
	tw_refl_session *s = arg;
	(void)events;
	tw_net_recv_each(s->fd, RX_BATCH, tw_loop_clock(s->loop), on_datagram, s);
}

/* ---- lifecycle ---- */

static void finish(tw_refl_session *s)
{
	if (s->state == REFL_DONE)
		return;
	s->state = REFL_DONE;
	tw_timer_stop(s->loop, &s->timer);
	tw_io_del(s->loop, &s->io);
	if (s->p.on_done)
		s->p.on_done(s->p.arg, s);
}

/* When the session ends unless a packet comes: the post-stop deadline or
 * REFWAIT after the last packet, whichever is first. REFWAIT also bounds a
 * stopping session, or a peer's huge Timeout would hold the socket. */
static int64_t end_time(const tw_refl_session *s)
{
	int64_t end = s->state == REFL_STOPPING ? s->stop_deadline : INT64_MAX;
	if (s->p.refwait_ns && s->was_started) {
		int64_t idle_until = s->last_rx_mono + (int64_t)s->p.refwait_ns;
		if (idle_until < end)
			end = idle_until;
	}
	return end;
}

static void on_timer(void *arg)
{
	tw_refl_session *s = arg;
	int64_t end = end_time(s);
	if (tw_loop_mono(s->loop) >= end) {
		finish(s);
		return;
	}
	tw_timer_at(s->loop, &s->timer, end);
}

static int try_bind(tw_refl_session *s, uint16_t port)
{
	tw_sockaddr local = s->p.local;
	tw_sa_set_port(&local, port);
	tw_udp_opts o = { .tos = s->p.dscp << 2, .ttl = 255, .recv_meta = true };
	return tw_net_udp_open(&local, &o);
}

/* The requested port when free, else one from the range, else ephemeral. */
static int open_socket(tw_refl_session *s)
{
	uint16_t want = tw_sa_port(&s->p.local);
	int fd = want ? try_bind(s, want) : -EADDRINUSE;
	if (fd != -EADDRINUSE && fd != -EACCES)
		return fd;
	if (s->p.port_min && s->p.port_max >= s->p.port_min) {
		uint32_t span = (uint32_t)(s->p.port_max - s->p.port_min) + 1;
		uint32_t start;
		tw_rng_secure(&start, sizeof(start));
		for (uint32_t i = 0; i < span && i < PORT_TRIES; i++) {
			fd = try_bind(s, (uint16_t)(s->p.port_min + (start + i) % span));
			if (fd != -EADDRINUSE && fd != -EACCES)
				return fd;
		}
		return -EADDRINUSE;
	}
	return try_bind(s, 0);
}

tw_refl_session *tw_refl_session_new(tw_loop *loop, const tw_refl_params *p, int *err)
{
	tw_refl_session *s = calloc(1, sizeof(*s));
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->loop = loop;
	s->p = *p;
	tw_io_init(&s->io);
	tw_timer_init(&s->timer, on_timer, s);
	s->fd = open_socket(s);
	*err = s->fd < 0 ? s->fd : tw_io_add(loop, &s->io, s->fd, EPOLLIN, on_readable, s);
	if (*err < 0) {
		if (s->fd >= 0)
			close(s->fd);
		free(s); /* p.crypto stays the caller's on failure */
		return NULL;
	}
	tw_sockaddr bound;
	tw_net_local_addr(s->fd, &bound);
	s->port = tw_sa_port(&bound);
	s->p.stats->sessions++;
	return s;
}

void tw_refl_session_free(tw_refl_session *s)
{
	if (!s)
		return;
	tw_timer_stop(s->loop, &s->timer);
	tw_io_del(s->loop, &s->io);
	close(s->fd);
	tw_test_crypto_free(s->p.crypto);
	s->p.stats->sessions--;
	free(s);
}

uint16_t tw_refl_session_port(const tw_refl_session *s)
{
	return s->port;
}

void tw_refl_session_start(tw_refl_session *s)
{
	if (s->state != REFL_BOUND)
		return;
	s->state = REFL_RUNNING;
	s->was_started = true;
	s->last_rx_mono = tw_loop_mono(s->loop);
	if (s->p.refwait_ns)
		tw_timer_at(s->loop, &s->timer, s->last_rx_mono + (int64_t)s->p.refwait_ns);
}

void tw_refl_session_stop(tw_refl_session *s)
{
	if (s->state == REFL_STOPPING || s->state == REFL_DONE)
		return;
	/* A session that never started has nothing to wait for. */
	int64_t grace = s->was_started ? (int64_t)s->p.timeout_ns : 0;
	s->state = REFL_STOPPING;
	s->stop_deadline = tw_loop_mono(s->loop) + grace;
	tw_timer_at(s->loop, &s->timer, end_time(s));
}

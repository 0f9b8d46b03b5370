/* sender.c - Session-Sender: schedule, send, receive, classify (see sender.h). */
#include "sender.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "rng.h"
#include "stamp.h"
#include "wire.h"

#define RX_BATCH 64
#define RX_BUF TW_SENDER_MAX_PACKET
#define RING_MARGIN 64

struct tw_sender {
	tw_loop *loop;
	tw_sender_params p;
	int fd;
	tw_sockaddr local;
	tw_io io;
	tw_timer send_timer;
	tw_timer loss_timer;
	tw_stats *stats;
	tw_prng prng;
	uint8_t *pad;     /* padding of the next packet */
	uint64_t sent;    /* its low 32 bits are the next sequence number */
	int64_t next_send; /* planned monotonic time of the next packet */
	bool running;      /* schedule active */
	bool started;
	bool done;
	tw_sender_counters ctr;
};

/* ---- completion ---- */

static bool all_decided(const tw_sender *s)
{
	tw_stats_counters c;
	tw_stats_get(s->stats, &c);
	return c.in_flight == 0;
}

static void check_done(tw_sender *s)
{
	if (s->running || s->done || !all_decided(s))
		return;
	s->done = true;
	tw_timer_stop(s->loop, &s->loss_timer);
	if (s->p.on_done)
		s->p.on_done(s->p.arg);
}

/* ---- loss timeouts ---- */

static void arm_loss_timer(tw_sender *s)
{
	int64_t d = tw_stats_next_deadline(s->stats);
	if (d == INT64_MAX)
		tw_timer_stop(s->loop, &s->loss_timer);
	else
		tw_timer_at(s->loop, &s->loss_timer, d);
}

static void on_loss_timer(void *arg)
{
	tw_sender *s = arg;
	uint64_t n = tw_stats_expire(s->stats, tw_loop_mono(s->loop));
	if (n && s->p.on_lost)
		s->p.on_lost(s->p.arg, n);
	arm_loss_timer(s);
	check_done(s);
}

/* ---- sending ---- */

/* The sequence number of the next packet: from 0, +1 per packet, wrapping. */
static uint32_t next_seq(const tw_sender *s)
{
	return (uint32_t)s->sent;
}

/* STAMP TLVs of packet seq, written into area; returns their length. In
 * authenticated mode an HMAC TLV covers them (RFC 8972 §4.8). */
static int stamp_tlvs(tw_sender *s, uint8_t *area, size_t cap)
{
	tw_wr w = tw_wr_make(area, cap);
	uint32_t t = s->p.stamp_tlvs;
	if (t & TW_SENDER_TLV_LOCATION)
		tw_tlv_put_location_request(&w, TW_LOC_REQ_DST_IP | TW_LOC_REQ_SRC_IP);
	if (t & TW_SENDER_TLV_TIMESTAMP_INFO)
		tw_tlv_put_timestamp_info(&w);
	if (t & TW_SENDER_TLV_COS)
		tw_tlv_put_cos(&w, s->p.cos_dscp);
	if (t & TW_SENDER_TLV_DIRECT_MEASUREMENT)
		tw_tlv_put_direct_measurement(&w, (uint32_t)(s->sent + 1));
	if (t & TW_SENDER_TLV_FOLLOW_UP)
		tw_tlv_put_follow_up(&w);
	size_t covered = tw_wr_len(&w);
	if (s->p.crypto && covered)
		tw_tlv_put_hmac(&w, s->p.crypto, next_seq(s), area, covered);
	if (s->p.padding >= 4) /* padding after the HMAC TLV, as RFC 8972 allows */
		tw_tlv_put_padding(&w, s->pad, (uint16_t)(s->p.padding - 4));
	return tw_wr_ok(&w) ? (int)tw_wr_len(&w) : -EMSGSIZE;
}

static int build_packet(tw_sender *s, uint8_t *pkt, size_t cap)
{
	if (!s->p.stamp)
		return tw_sender_build(&s->p.fmt, s->p.crypto, next_seq(s), s->pad, s->p.padding, pkt, cap);
	tw_stamp_sec sec = s->p.crypto ? TW_STAMP_AUTH : TW_STAMP_OPEN;
	size_t base = tw_stamp_base_len(sec);
	int n = stamp_tlvs(s, pkt + base, cap - base);
	if (n < 0)
		return n;
	return tw_stamp_sender_build(sec, next_seq(s), s->p.ssid, pkt + base, (size_t)n, pkt, cap);
}

static void stamp_packet(tw_sender *s, uint8_t *pkt, size_t len, tw_ts t1)
{
	if (s->p.stamp)
		tw_stamp_sender_stamp(s->p.crypto ? TW_STAMP_AUTH : TW_STAMP_OPEN, s->p.crypto, pkt, len, t1,
				      *s->p.errest);
	else
		tw_sender_stamp(&s->p.fmt, s->p.crypto, pkt, len, t1, *s->p.errest);
}

static int send_one(tw_sender *s)
{
	uint8_t pkt[RX_BUF + 256];
	if (!s->p.zero_padding)
		tw_prng_fill(&s->prng, s->pad, s->p.padding);
	int n = build_packet(s, pkt, sizeof(pkt));
	if (n < 0)
		return n;
	/* T1 as late as possible: just before sendto. */
	int64_t now = tw_loop_real(s->loop);
	tw_ts t1 = tw_ts_from_unix_ns(now);
	if (!s->sent)
		s->ctr.first_send_real_ns = now;
	s->ctr.last_send_real_ns = now;
	stamp_packet(s, pkt, (size_t)n, t1);
	if (tw_net_send(s->fd, pkt, (size_t)n, &s->p.reflector) < 0)
		s->ctr.send_errors++; /* still sent as far as sequencing goes: it will be lost */
	tw_stats_on_sent(s->stats, next_seq(s), t1, tw_loop_mono(s->loop));
	s->sent++;
	return 0;
}

static int64_t next_gap(tw_sender *s)
{
	return s->p.poisson ? tw_prng_exponential(&s->prng, s->p.interval_ns) : s->p.interval_ns;
}

static void on_send_timer(void *arg)
{
	tw_sender *s = arg;
	int64_t now = tw_loop_mono(s->loop);
	int rc = send_one(s);
	if (rc == 0 && s->p.on_sent)
		s->p.on_sent(s->p.arg, now - s->next_send);
	if (rc < 0 || (s->p.count && s->sent >= s->p.count)) {
		tw_sender_finish(s);
		return;
	}
	if (!tw_timer_armed(&s->loss_timer))
		arm_loss_timer(s);
	/* Planned times advance from the plan, not from now, so the rate does
	 * not drift; after a long stall (beyond the loss timeout) start over. */
	s->next_send += next_gap(s);
	if (now - s->next_send > s->p.loss_timeout_ns)
		s->next_send = now;
	tw_timer_at(s->loop, &s->send_timer, s->next_send);
}

/* ---- receiving ---- */

/* A STAMP reply as TWAMP reflector fields plus its TLV report. */
static int parse_stamp(tw_sender *s, const uint8_t *buf, size_t len, tw_reflector_fields *rf, tw_sender_reply *x)
{
	tw_stamp_reflector_fields f;
	int rc = tw_stamp_reflector_parse(s->p.crypto ? TW_STAMP_AUTH : TW_STAMP_OPEN, s->p.crypto, buf, len, &f);
	if (rc < 0)
		return rc;
	*rf = (tw_reflector_fields){
		.seq = f.seq, .ts = f.ts, .errest = f.errest, .rx_ts = f.rx_ts, .sender_seq = f.sender_seq,
		.sender_ts = f.sender_ts, .sender_errest = f.sender_errest, .sender_ttl = f.sender_ttl,
	};
	x->stamp = true;
	tw_tlv_read_reflected(buf + f.tlv_off, f.tlv_len, s->p.crypto, f.seq, &x->tlv);
	if (x->tlv.seen & (1u << TW_TLV_COS))
		rf->sender_tos = (uint8_t)(x->tlv.cos.dscp2 << 2 | x->tlv.cos.ecn);
	return 0;
}

static void handle_reply(tw_sender *s, const uint8_t *buf, size_t len, const tw_rx_meta *m)
{
	tw_sockaddr from = m->from;
	tw_sa_unmap(&from);
	if (!tw_sa_equal(&from, &s->p.reflector)) {
		s->ctr.wrong_source++;
		return;
	}
	tw_reflector_fields rf;
	tw_sender_reply x = { .rx_tos = m->tos };
	int rc = s->p.stamp ? parse_stamp(s, buf, len, &rf, &x) : tw_reflector_parse(&s->p.fmt, s->p.crypto, buf, len, &rf);
	if (rc < 0) {
		s->ctr.invalid++;
		return;
	}
	s->ctr.ts_source = m->ts_source;
	tw_stats_result r;
	if (tw_stats_on_reply(s->stats, &rf, tw_ts_from_unix_ns(m->rx_real_ns), tw_rx_meta_ttl(m), tw_loop_mono(s->loop),
			      &r) < 0)
		return;
	if (s->p.on_result)
		s->p.on_result(s->p.arg, &r, &rf, &x);
}

static void on_datagram(void *arg, const uint8_t *buf, long n, const tw_rx_meta *m)
{
	tw_sender *s = arg;
	if (n < 0)
		s->ctr.invalid++;
	else if (s->started)
		handle_reply(s, buf, (size_t)n, m);
}

static void on_readable(void *arg, uint32_t events)
{
	tw_sender *s = arg;
	(void)events;
	tw_net_recv_each(s->fd, RX_BATCH, tw_loop_clock(s->loop), on_datagram, s);
	if (s->started) {
		arm_loss_timer(s);
		check_done(s);
	}
}

/* ---- lifecycle ---- */

tw_sender *tw_sender_open(tw_loop *loop, const tw_sockaddr *local, int dscp, const char *ifname, int *err)
{
	tw_sender *s = calloc(1, sizeof(*s));
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->loop = loop;
	tw_io_init(&s->io);
	tw_timer_init(&s->send_timer, on_send_timer, s);
	tw_timer_init(&s->loss_timer, on_loss_timer, s);
	tw_prng_seed(&s->prng, 0);
	tw_udp_opts o = { .tos = (dscp & 0x3f) << 2, .ttl = 255, .recv_meta = true, .ifname = ifname };
	s->fd = tw_net_udp_open(local, &o);
	*err = s->fd < 0 ? s->fd : tw_io_add(loop, &s->io, s->fd, EPOLLIN, on_readable, s);
	if (*err < 0) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return NULL;
	}
	tw_net_local_addr(s->fd, &s->local);
	return s;
}

void tw_sender_free(tw_sender *s)
{
	if (!s)
		return;
	tw_timer_stop(s->loop, &s->send_timer);
	tw_timer_stop(s->loop, &s->loss_timer);
	tw_io_del(s->loop, &s->io);
	close(s->fd);
	tw_stats_free(s->stats);
	tw_test_crypto_free(s->p.crypto);
	free(s->pad);
	free(s);
}

uint16_t tw_sender_port(const tw_sender *s)
{
	return tw_sa_port(&s->local);
}

const tw_sockaddr *tw_sender_local(const tw_sender *s)
{
	return &s->local;
}

/* Enough ring slots for every packet that can be in flight at once. */
static uint32_t ring_capacity(const tw_sender_params *p)
{
	int64_t per_timeout = p->loss_timeout_ns / (p->interval_ns > 0 ? p->interval_ns : 1);
	int64_t cap = (p->poisson ? 2 * per_timeout : per_timeout) + RING_MARGIN;
	if (p->count && (int64_t)p->count < cap)
		cap = (int64_t)p->count + 1;
	return cap > TW_STATS_MAX_CAPACITY ? TW_STATS_MAX_CAPACITY : (uint32_t)cap;
}

int tw_sender_start(tw_sender *s, const tw_sender_params *p)
{
	if (s->started || p->interval_ns <= 0 || p->loss_timeout_ns <= 0 || !p->errest)
		return -EINVAL;
	/* STAMP: the authenticated base plus room for every TLV we send */
	size_t hdr = p->stamp ? TW_STAMP_BASE_AUTH + 128 : tw_test_sender_hdr_len(&p->fmt);
	if (hdr + p->padding > TW_SENDER_MAX_PACKET)
		return -EMSGSIZE; /* every packet would fail to build */
	s->p = *p;
	s->stats = tw_stats_new(ring_capacity(p), p->loss_timeout_ns);
	s->pad = calloc(p->padding ? p->padding : 1, 1);
	if (!s->stats || !s->pad)
		return -ENOMEM;
	s->started = true;
	s->running = true;
	s->next_send = tw_loop_mono(s->loop) + (p->start_delay_ns > 0 ? p->start_delay_ns : 0);
	return tw_timer_at(s->loop, &s->send_timer, s->next_send);
}

void tw_sender_finish(tw_sender *s)
{
	if (!s->started || !s->running)
		return;
	s->running = false;
	tw_timer_stop(s->loop, &s->send_timer);
	arm_loss_timer(s);
	check_done(s);
}

void tw_sender_retarget(tw_sender *s,
			void (*on_result)(void *, const tw_stats_result *, const tw_reflector_fields *,
					  const tw_sender_reply *),
			void (*on_lost)(void *, uint64_t), void (*on_done)(void *), void *arg)
{
	s->p.on_result = on_result;
	s->p.on_lost = on_lost;
	s->p.on_done = on_done;
	s->p.on_sent = NULL;
	s->p.arg = arg;
}

bool tw_sender_running(const tw_sender *s)
{
	return s->running;
}

const tw_stats *tw_sender_stats(const tw_sender *s)
{
	return s->stats;
}

const tw_sender_counters *tw_sender_counters_get(const tw_sender *s)
{
	return &s->ctr;
}

/*
 * stats.h - Session-Sender statistics for one test session (spec
 * metrics.md; metric contract guides/metrics-and-ops.md).
 *
 * Pure: no I/O, no clock reads (every time is passed in), and memory fixed
 * at creation: a ring of slots indexed by sender sequence number, so a
 * long-running session never grows per packet. Used by the one-shot `ping`
 * command and by the agent's long-running senders alike.
 *
 * Time bases: "mono" values are CLOCK_MONOTONIC nanoseconds (loss timeout
 * bookkeeping); T1 and T4 are NTP-format tw_ts of the sender clock; T2/T3
 * come from the reply in NTP or PTP format (Z bit of the reflector Error
 * Estimate) and are normalised before any difference is taken.
 *
 * Life of a packet: on_sent() puts it in flight with deadline = sent +
 * loss_timeout. A reply received strictly before the deadline is "new"
 * (counted received, sample returned). expire(now) turns every in-flight
 * packet whose deadline is <= now into exactly one lost packet; a reply
 * whose rx time is >= its deadline is "late": the packet is (or becomes)
 * lost and is never also counted received. So at any time
 *     sent == received + lost + in_flight.
 *
 * Ring overflow: the ring holds the last `capacity` sequence numbers
 * (capacity rounded up to a power of two). If the caller sends faster than
 * capacity / loss_timeout, on_sent() of seq finds seq - capacity still in
 * flight: that packet is evicted, counted lost (and in `evicted`, which
 * should stay 0 with a correctly sized ring), and a later reply to it is
 * "unknown". Replies for sequence numbers older than the ring are unknown.
 */
#ifndef TW_STATS_H
#define TW_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "testpkt.h"
#include "timestamp.h"

enum {
	TW_STATS_MAX_CAPACITY = 1u << 20,
	/* Forward reordering looks for (sender seq, reflector seq) inversions
	 * with packets at most this many sequence numbers away. */
	TW_STATS_REORDER_WINDOW = 64,
};

typedef enum tw_stats_dir {
	TW_STATS_FWD = 0, /* sender -> reflector */
	TW_STATS_BWD = 1, /* reflector -> sender */
} tw_stats_dir;

typedef enum tw_stats_class {
	TW_STATS_NEW = 0,      /* first reply, before the loss timeout: a sample */
	TW_STATS_DUP_FORWARD,  /* the reflector received the test packet twice */
	TW_STATS_DUP_BACKWARD, /* one reflected packet arrived twice */
	TW_STATS_LATE,         /* first reply after the loss timeout: counted lost */
	TW_STATS_UNKNOWN,      /* seq never sent, or older than the ring */
} tw_stats_class;

/* Delay variation against a neighbour in sender sequence order (RFC 3393 /
 * RFC 5481 IPDV, "consecutive sequence numbers" selection): the later
 * sequence number's delay minus the earlier one's. */
typedef struct tw_stats_ipdv {
	bool valid;
	int64_t rtt_ns, fwd_ns, bwd_ns;
} tw_stats_ipdv;

/* What one reply meant. Sample fields are set for TW_STATS_NEW only. */
typedef struct tw_stats_result {
	tw_stats_class cls;
	uint32_t seq; /* sender sequence number of the reply */
	/* ---- sample (NEW) ---- */
	int64_t rtt_ns;  /* (T4 - T1) - (T3 - T2) */
	int64_t fwd_ns;  /* T2 - T1 (needs synchronised clocks) */
	int64_t bwd_ns;  /* T4 - T3 (needs synchronised clocks) */
	int64_t proc_ns; /* T3 - T2, reflector processing */
	bool synced;     /* both Error Estimates valid and with S = 1 */
	/* one-way delay fit for a histogram: synced and >= 0 (otherwise the
	 * matching owd_skipped_* counter was incremented) */
	bool usable[2];
	bool suspect;    /* RTT < 0 or T3 < T2: clock step or broken reflector */
	bool t1_mismatch; /* the reply's Sender Timestamp differs from ours */
	uint8_t hops[2]; /* 255 - Sender TTL, 255 - received TTL */
	bool ttl_changed[2];
	tw_stats_ipdv ipdv;      /* this packet vs seq - 1 */
	tw_stats_ipdv ipdv_next; /* seq + 1 (already arrived) vs this packet */
	bool reordered_rt;       /* RFC 4737 on sender seq, arrival order */
	bool reordered[2];       /* forward: inversion; backward: reflector seq */
} tw_stats_result;

typedef struct tw_stats_counters {
	uint64_t sent, received, lost, late, in_flight, unknown;
	uint64_t evicted;        /* ring overflow losses (also in lost) */
	uint64_t duplicates[2];  /* by direction, see tw_stats_class */
	uint64_t reordered_rt;
	uint64_t reordered[2];
	uint64_t ttl_changes[2];
	uint64_t owd_skipped_unsync[2];
	uint64_t owd_skipped_negative[2];
	uint64_t suspect;
	uint64_t t1_mismatch;
	/* RFC 3550 smoothed jitter (arrival order, gain 1/16), ns */
	int64_t jitter_rtt_ns;
	int64_t jitter_ns[2];
	/* last received TTLs (Sender TTL forward, IP TTL backward); -1: none */
	int last_ttl[2];
} tw_stats_counters;

/* Per-direction loss estimate from the reflector's own sequence numbers
 * (metrics.md §5.2). Only meaningful with a stateful reflector (TWAMP
 * twampd; not TWAMP Light/STAMP stateless, whose reflector seq == sender
 * seq: then "forward" is only the tail after the last reply). Replies lost
 * after the highest reflector seq received look like forward loss. Only
 * packets whose fate is decided (received or lost) are counted. */
typedef struct tw_stats_dir_loss {
	bool valid;             /* at least one reply carried a reflector seq */
	uint64_t reflected;     /* highest reflector seq + 1 */
	uint64_t forward_lost;  /* decided - (reflected - forward duplicates) */
	uint64_t backward_lost; /* reflected - distinct reflector seqs received */
} tw_stats_dir_loss;

typedef struct tw_stats tw_stats;

/* capacity: packets tracked at once, 1..TW_STATS_MAX_CAPACITY, rounded up
 * to a power of two (size it as loss_timeout / interval + margin);
 * loss_timeout_ns > 0. Returns NULL on bad arguments or out of memory. */
tw_stats *tw_stats_new(uint32_t capacity, int64_t loss_timeout_ns);
void tw_stats_free(tw_stats *s); /* NULL-safe */
uint32_t tw_stats_capacity(const tw_stats *s);

/* Records packet seq sent with timestamp t1 (NTP format) at sent_mono_ns.
 * The first call fixes the starting number; after that seq must be the
 * previous one + 1 (mod 2^32; TWAMP senders never skip). Returns 0, 1 when
 * an older in-flight packet was evicted (see above), or -EINVAL. */
int tw_stats_on_sent(tw_stats *s, uint32_t seq, tw_ts t1, int64_t sent_mono_ns);

/* Classifies a verified reply (tw_reflector_parse output) received at T4
 * (NTP) / rx_mono_ns with IP TTL rx_ttl, updates the counters and fills
 * *out. Call it for pending replies before expire() with a later time.
 * Returns 0 or -EINVAL. */
int tw_stats_on_reply(tw_stats *s, const tw_reflector_fields *rf, tw_ts t4, uint8_t rx_ttl,
		      int64_t rx_mono_ns, tw_stats_result *out);

/* Declares lost every in-flight packet whose deadline <= now_mono_ns;
 * returns how many. */
uint64_t tw_stats_expire(tw_stats *s, int64_t now_mono_ns);

/* Deadline of the oldest in-flight packet (to arm a timer), or INT64_MAX
 * when nothing is in flight. */
int64_t tw_stats_next_deadline(const tw_stats *s);

void tw_stats_get(const tw_stats *s, tw_stats_counters *out);
tw_stats_dir_loss tw_stats_direction_loss(const tw_stats *s);

/* One RFC 3550 §6.4.1 step on a jitter kept scaled by 16 (j16, ns * 16):
 * J += (|D| - J) / 16 in integers, j16 += |d| - ((j16 + 8) >> 4). The
 * jitter in ns is j16 >> 4. |d| saturates at 2^58 ns (9 years). */
int64_t tw_stats_jitter_step(int64_t j16, int64_t d_ns);

#endif /* TW_STATS_H */

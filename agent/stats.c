/* stats.c - Session-Sender statistics (see stats.h; spec metrics.md). */
#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errest.h"

#define JITTER_D_MAX (INT64_C(1) << 58)

enum slot_state {
	SLOT_EMPTY = 0,
	SLOT_IN_FLIGHT,
	SLOT_RECEIVED,  /* first copy before the deadline */
	SLOT_LOST,      /* deadline passed, no copy yet */
	SLOT_LOST_LATE, /* lost, then a copy arrived */
};

typedef struct slot {
	uint32_t seq;
	uint8_t state;
	bool fwd_reordered; /* so each packet is counted once */
	uint32_t rseq;      /* reflector seq of the first copy */
	tw_ts t1;           /* as sent */
	tw_ts t2;           /* normalised T2 of the first copy */
	int64_t deadline;   /* mono ns */
	int64_t rtt, fwd, bwd; /* first copy's delays, for IPDV */
} slot;

struct tw_stats {
	slot *ring;
	uint32_t mask;
	int64_t timeout;
	bool started;
	uint32_t next_seq; /* what on_sent expects next */
	uint32_t oldest;   /* every seq before it is resolved */
	uint32_t next_exp_rt; /* RFC 4737 NextExp, sender seq */
	bool have_r;
	uint32_t next_exp_r;  /* RFC 4737 NextExp, reflector seq */
	bool have_prev;       /* previous new reply in arrival order */
	int64_t prev_rtt, prev_fwd, prev_bwd;
	int64_t j16_rtt, j16[2];
	int64_t max_r; /* highest reflector seq seen, unwrapped; -1: none */
	uint64_t distinct_r, dup_fwd_new_r;
	tw_stats_counters c;
};

/* ---- small helpers ---- */

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static tw_ts normalize(tw_ts ts, uint16_t errest)
{
	return tw_ts_normalize(ts, (errest & TW_ERREST_Z) != 0);
}

static uint32_t ring_len(const tw_stats *s)
{
	return s->mask + 1;
}

static slot *slot_of(const tw_stats *s, uint32_t seq)
{
	return &s->ring[seq & s->mask];
}

/* The slot of a sequence number sent within the last ring_len() packets,
 * or NULL (never sent, not sent yet, or overwritten). */
static slot *find(const tw_stats *s, uint32_t seq)
{
	if (!s->started)
		return NULL;
	uint64_t age = (uint32_t)(s->next_seq - 1u - seq); /* 0 = newest */
	uint64_t window = s->c.sent < ring_len(s) ? s->c.sent : ring_len(s);
	return age < window ? slot_of(s, seq) : NULL;
}

static void mark_lost(tw_stats *s, slot *sl)
{
	sl->state = SLOT_LOST;
	s->c.lost++;
	s->c.in_flight--;
}

static void advance_oldest(tw_stats *s)
{
	while (s->oldest != s->next_seq && slot_of(s, s->oldest)->state != SLOT_IN_FLIGHT)
		s->oldest++;
}

/* ---- life cycle ---- */

tw_stats *tw_stats_new(uint32_t capacity, int64_t loss_timeout_ns)
{
	if (capacity == 0 || capacity > TW_STATS_MAX_CAPACITY || loss_timeout_ns <= 0)
		return NULL;
	uint32_t len = 1;
	while (len < capacity)
		len <<= 1;
	tw_stats *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ring = calloc(len, sizeof(*s->ring));
	if (!s->ring) {
		free(s);
		return NULL;
	}
	s->mask = len - 1;
	s->timeout = loss_timeout_ns;
	s->max_r = -1;
	s->c.last_ttl[TW_STATS_FWD] = -1;
	s->c.last_ttl[TW_STATS_BWD] = -1;
	return s;
}

void tw_stats_free(tw_stats *s)
{
	if (!s)
		return;
	free(s->ring);
	free(s);
}

uint32_t tw_stats_capacity(const tw_stats *s)
{
	return s ? ring_len(s) : 0;
}

int tw_stats_on_sent(tw_stats *s, uint32_t seq, tw_ts t1, int64_t sent_mono_ns)
{
	if (!s)
		return -EINVAL;
	if (!s->started) {
		s->started = true;
		s->next_seq = s->oldest = s->next_exp_rt = seq;
	} else if (seq != s->next_seq) {
		return -EINVAL;
	}
	slot *sl = slot_of(s, seq);
	int rc = 0;
	if (sl->state == SLOT_IN_FLIGHT) { /* seq - ring_len(): ring overflow */
		mark_lost(s, sl);
		s->c.evicted++;
		rc = 1;
	}
	memset(sl, 0, sizeof(*sl));
	sl->seq = seq;
	sl->state = SLOT_IN_FLIGHT;
	sl->t1 = t1;
	sl->deadline = sat_add(sent_mono_ns, s->timeout);
	s->next_seq = seq + 1u;
	s->c.sent++;
	s->c.in_flight++;
	if ((uint32_t)(s->next_seq - s->oldest) > ring_len(s))
		s->oldest = s->next_seq - ring_len(s);
	advance_oldest(s);
	return rc;
}

uint64_t tw_stats_expire(tw_stats *s, int64_t now_mono_ns)
{
	uint64_t n = 0;
	if (!s)
		return 0;
	while (s->oldest != s->next_seq) {
		slot *sl = slot_of(s, s->oldest);
		if (sl->state == SLOT_IN_FLIGHT) {
			if (sl->deadline > now_mono_ns)
				break;
			mark_lost(s, sl);
			n++;
		}
		s->oldest++;
	}
	return n;
}

int64_t tw_stats_next_deadline(const tw_stats *s)
{
	if (!s || s->oldest == s->next_seq)
		return INT64_MAX;
	const slot *sl = slot_of(s, s->oldest);
	return sl->state == SLOT_IN_FLIGHT ? sl->deadline : INT64_MAX;
}

/* ---- reflector sequence numbers (per-direction loss) ---- */

static void note_r(tw_stats *s, uint32_t r)
{
	s->distinct_r++;
	if (s->max_r < 0) {
		s->max_r = r; /* the reflector counts from 0 */
		return;
	}
	int32_t delta = (int32_t)(r - (uint32_t)s->max_r);
	if (delta > 0)
		s->max_r += delta;
}

tw_stats_dir_loss tw_stats_direction_loss(const tw_stats *s)
{
	tw_stats_dir_loss d = { 0 };
	if (!s || s->max_r < 0)
		return d;
	d.valid = true;
	d.reflected = (uint64_t)s->max_r + 1;
	uint64_t decided = s->c.received + s->c.lost;
	uint64_t delivered = d.reflected > s->dup_fwd_new_r ? d.reflected - s->dup_fwd_new_r : 0;
	d.forward_lost = decided > delivered ? decided - delivered : 0;
	d.backward_lost = d.reflected > s->distinct_r ? d.reflected - s->distinct_r : 0;
	return d;
}

/* ---- replies ---- */

static void on_late(tw_stats *s, slot *sl, const tw_reflector_fields *rf, tw_ts t2, tw_stats_result *out)
{
	out->cls = TW_STATS_LATE;
	s->c.late++;
	sl->state = SLOT_LOST_LATE;
	sl->rseq = rf->seq;
	sl->t2 = t2;
	note_r(s, rf->seq);
}

/* A later copy of an answered packet. A stateful reflector numbers a
 * second reflection anew (different reflector seq); a stateless one copies
 * the sender seq, so there a different T2 tells the reflector received two
 * copies. Same reflector seq and same T2: one reply duplicated on the way
 * back. Compared with the first copy. */
static void on_dup(tw_stats *s, slot *sl, const tw_reflector_fields *rf, tw_ts t2, tw_stats_result *out)
{
	tw_stats_dir dir = TW_STATS_BWD;
	if (rf->seq != sl->rseq) {
		dir = TW_STATS_FWD;
		s->dup_fwd_new_r++; /* it consumed a reflector number */
		note_r(s, rf->seq);
	} else if (t2 != sl->t2) {
		dir = TW_STATS_FWD;
	}
	out->cls = dir == TW_STATS_FWD ? TW_STATS_DUP_FORWARD : TW_STATS_DUP_BACKWARD;
	s->c.duplicates[dir]++;
}

static void sample_delays(tw_stats *s, slot *sl, const tw_reflector_fields *rf, tw_ts t2, tw_ts t4,
			  tw_stats_result *out)
{
	tw_ts t3 = normalize(rf->ts, rf->errest);
	int64_t proc = tw_ts_diff_ns(t3, t2);
	out->proc_ns = proc;
	out->rtt_ns = sat_sub(tw_ts_diff_ns(t4, sl->t1), proc);
	out->fwd_ns = tw_ts_diff_ns(t2, sl->t1);
	out->bwd_ns = tw_ts_diff_ns(t4, t3);
	sl->rtt = out->rtt_ns;
	sl->fwd = out->fwd_ns;
	sl->bwd = out->bwd_ns;
	out->suspect = out->rtt_ns < 0 || proc < 0;
	if (out->suspect)
		s->c.suspect++;
	/* A PTP-format copy of T1 would not round-trip exactly: compare only
	 * NTP-format copies. */
	out->t1_mismatch = !(rf->sender_errest & TW_ERREST_Z) && rf->sender_ts != sl->t1;
	if (out->t1_mismatch)
		s->c.t1_mismatch++;
}

/* One-way delays count only with both clocks synchronised (S bits) and a
 * non-negative value; otherwise the caller skips them (metrics-and-ops). */
static void classify_one_way(tw_stats *s, const tw_reflector_fields *rf, tw_stats_result *out)
{
	out->synced = tw_errest_valid(rf->errest) && tw_errest_valid(rf->sender_errest) &&
		      (rf->errest & TW_ERREST_S) && (rf->sender_errest & TW_ERREST_S);
	for (int d = TW_STATS_FWD; d <= TW_STATS_BWD; d++) {
		int64_t v = d == TW_STATS_FWD ? out->fwd_ns : out->bwd_ns;
		if (!out->synced)
			s->c.owd_skipped_unsync[d]++;
		else if (v < 0)
			s->c.owd_skipped_negative[d]++;
		else
			out->usable[d] = true;
	}
}

static void track_ttl(tw_stats *s, uint8_t sender_ttl, uint8_t rx_ttl, tw_stats_result *out)
{
	const uint8_t ttl[2] = { sender_ttl, rx_ttl };
	for (int d = TW_STATS_FWD; d <= TW_STATS_BWD; d++) {
		out->hops[d] = (uint8_t)(255u - ttl[d]);
		if (s->c.last_ttl[d] >= 0 && s->c.last_ttl[d] != ttl[d]) {
			out->ttl_changed[d] = true;
			s->c.ttl_changes[d]++;
		}
		s->c.last_ttl[d] = ttl[d];
	}
}

static tw_stats_ipdv ipdv_between(const slot *earlier, const slot *later)
{
	tw_stats_ipdv v = { true, sat_sub(later->rtt, earlier->rtt), sat_sub(later->fwd, earlier->fwd),
			    sat_sub(later->bwd, earlier->bwd) };
	return v;
}

/* IPDV pairs consecutive sequence numbers that both arrived in time (gaps
 * are skipped, RFC 5481 §4.1); a reordered packet also completes the pair
 * with its successor. */
static void sample_ipdv(const tw_stats *s, const slot *sl, tw_stats_result *out)
{
	const slot *prev = find(s, sl->seq - 1u);
	if (prev && prev->state == SLOT_RECEIVED)
		out->ipdv = ipdv_between(prev, sl);
	const slot *next = find(s, sl->seq + 1u);
	if (next && next->state == SLOT_RECEIVED)
		out->ipdv_next = ipdv_between(sl, next);
}

static void flag_forward_reordered(tw_stats *s, slot *sl)
{
	if (!sl->fwd_reordered) {
		sl->fwd_reordered = true;
		s->c.reordered[TW_STATS_FWD]++;
	}
}

/* The reflector numbers packets in its arrival order, so RFC 4737 on the
 * forward path means: a packet is reordered if a higher sender seq got a
 * lower reflector seq. Replies arrive in backward order, so each new reply
 * is checked against its neighbours both ways and may flag an earlier one. */
static void reorder_forward(tw_stats *s, slot *sl)
{
	uint32_t window = s->mask < TW_STATS_REORDER_WINDOW ? s->mask : TW_STATS_REORDER_WINDOW;
	for (uint32_t k = 1; k <= window; k++) {
		slot *later = find(s, sl->seq + k);
		if (later && later->state == SLOT_RECEIVED && (int32_t)(later->rseq - sl->rseq) < 0)
			flag_forward_reordered(s, sl);
		slot *earlier = find(s, sl->seq - k);
		if (earlier && earlier->state == SLOT_RECEIVED && (int32_t)(earlier->rseq - sl->rseq) > 0)
			flag_forward_reordered(s, earlier);
	}
}

/* RFC 4737 next-expected test (wrap-aware). */
static bool in_order(uint32_t *next_exp, uint32_t seq)
{
	if ((int32_t)(seq - *next_exp) >= 0) {
		*next_exp = seq + 1u;
		return true;
	}
	return false;
}

static void track_reordering(tw_stats *s, slot *sl, uint32_t rseq, tw_stats_result *out)
{
	if (!in_order(&s->next_exp_rt, sl->seq)) {
		out->reordered_rt = true;
		s->c.reordered_rt++;
	}
	if (!s->have_r) {
		s->have_r = true;
		s->next_exp_r = rseq + 1u;
	} else if (!in_order(&s->next_exp_r, rseq)) {
		out->reordered[TW_STATS_BWD] = true;
		s->c.reordered[TW_STATS_BWD]++;
	}
	reorder_forward(s, sl);
	out->reordered[TW_STATS_FWD] = sl->fwd_reordered;
}

int64_t tw_stats_jitter_step(int64_t j16, int64_t d_ns)
{
	int64_t d = d_ns < 0 ? sat_sub(0, d_ns) : d_ns;
	if (d > JITTER_D_MAX)
		d = JITTER_D_MAX;
	return j16 + d - ((j16 + 8) >> 4);
}

/* RFC 3550 jitter in arrival order: D is the difference of the transit
 * times of this and the previous new reply. */
static void track_jitter(tw_stats *s, const tw_stats_result *out)
{
	if (s->have_prev) {
		s->j16_rtt = tw_stats_jitter_step(s->j16_rtt, sat_sub(out->rtt_ns, s->prev_rtt));
		s->j16[TW_STATS_FWD] = tw_stats_jitter_step(s->j16[TW_STATS_FWD], sat_sub(out->fwd_ns, s->prev_fwd));
		s->j16[TW_STATS_BWD] = tw_stats_jitter_step(s->j16[TW_STATS_BWD], sat_sub(out->bwd_ns, s->prev_bwd));
	}
	s->have_prev = true;
	s->prev_rtt = out->rtt_ns;
	s->prev_fwd = out->fwd_ns;
	s->prev_bwd = out->bwd_ns;
}

static void on_new(tw_stats *s, slot *sl, const tw_reflector_fields *rf, tw_ts t2, tw_ts t4, uint8_t rx_ttl,
		   tw_stats_result *out)
{
	out->cls = TW_STATS_NEW;
	sl->state = SLOT_RECEIVED;
	sl->rseq = rf->seq;
	sl->t2 = t2;
	s->c.received++;
	s->c.in_flight--;
	note_r(s, rf->seq);
	sample_delays(s, sl, rf, t2, t4, out);
	classify_one_way(s, rf, out);
	track_ttl(s, rf->sender_ttl, rx_ttl, out);
	sample_ipdv(s, sl, out);
	track_reordering(s, sl, rf->seq, out);
	track_jitter(s, out);
}

int tw_stats_on_reply(tw_stats *s, const tw_reflector_fields *rf, tw_ts t4, uint8_t rx_ttl,
		      int64_t rx_mono_ns, tw_stats_result *out)
{
	if (!s || !rf || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->seq = rf->sender_seq;
	slot *sl = find(s, rf->sender_seq);
	if (!sl || sl->state == SLOT_EMPTY) {
		out->cls = TW_STATS_UNKNOWN;
		s->c.unknown++;
		return 0;
	}
	tw_ts t2 = normalize(rf->rx_ts, rf->errest);
	switch (sl->state) {
	case SLOT_IN_FLIGHT:
		if (rx_mono_ns < sl->deadline) {
			on_new(s, sl, rf, t2, t4, rx_ttl, out);
			break;
		}
		mark_lost(s, sl); /* expire() has not run yet: same verdict */
		on_late(s, sl, rf, t2, out);
		break;
	case SLOT_LOST:
		on_late(s, sl, rf, t2, out);
		break;
	default:
		on_dup(s, sl, rf, t2, out);
		break;
	}
	advance_oldest(s);
	return 0;
}

void tw_stats_get(const tw_stats *s, tw_stats_counters *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	*out = s->c;
	out->jitter_rtt_ns = s->j16_rtt >> 4;
	out->jitter_ns[TW_STATS_FWD] = s->j16[TW_STATS_FWD] >> 4;
	out->jitter_ns[TW_STATS_BWD] = s->j16[TW_STATS_BWD] >> 4;
}

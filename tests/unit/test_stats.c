/* test_stats.c - Session-Sender statistics: samples (V15), loss timeout
 * boundary, late/duplicate/unknown classification, reordering in three
 * directions, IPDV, RFC 3550 jitter (V15), TTL changes, per-direction loss,
 * sequence wrap, ring overflow and PTP-format reflector timestamps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "errest.h"
#include "stats.h"

#define SEC INT64_C(1000000000)
#define BASE_NS (INT64_C(1700000000) * SEC)
/* 1e9 / 2^9 ns: multiples convert to NTP fractions exactly, so every
 * expected difference below is exact. TK is the time step of the scripts. */
#define U INT64_C(1953125)
#define TK U

static tw_ts ntp(int64_t ns)
{
	return tw_ts_from_unix_ns(BASE_NS + ns);
}

/* A scripted exchange: times in ns since BASE, mono = the same numbers. */
typedef struct ex {
	uint32_t seq, rseq;
	int64_t t1, t2, t3, t4;
	uint16_t errest, sender_errest;
	uint8_t sender_ttl, rx_ttl;
} ex;

static ex exch(uint32_t seq, uint32_t rseq, int64_t t1, int64_t fwd, int64_t proc, int64_t bwd)
{
	ex e = { seq, rseq, t1, t1 + fwd, t1 + fwd + proc, t1 + fwd + proc + bwd, 0x8001, 0x8001, 255, 255 };
	return e;
}

static tw_reflector_fields fields_of(const ex *e)
{
	tw_reflector_fields rf = { .seq = e->rseq,
				   .ts = ntp(e->t3),
				   .errest = e->errest,
				   .rx_ts = ntp(e->t2),
				   .sender_seq = e->seq,
				   .sender_ts = ntp(e->t1),
				   .sender_errest = e->sender_errest,
				   .sender_ttl = e->sender_ttl };
	return rf;
}

static void sent(tw_stats *s, uint32_t seq, int64_t t1)
{
	assert_int_equal(tw_stats_on_sent(s, seq, ntp(t1), t1), 0);
}

static tw_stats_result reply(tw_stats *s, const ex *e)
{
	tw_reflector_fields rf = fields_of(e);
	tw_stats_result r;
	assert_int_equal(tw_stats_on_reply(s, &rf, ntp(e->t4), e->rx_ttl, e->t4, &r), 0);
	assert_int_equal(r.seq, e->seq);
	return r;
}

static tw_stats_counters counters(const tw_stats *s)
{
	tw_stats_counters c;
	tw_stats_get(s, &c);
	assert_true(c.sent == c.received + c.lost + c.in_flight);
	return c;
}

/* ---- samples ---- */

/* V15: T4-T1 = 250000000, T3-T2 = 244140, RTT = 249755860, fwd 244140,
 * back 249511718 (floor arithmetic on the raw 32.32 values). */
static void test_v15_sample(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(8, 2 * SEC);
	tw_ts t1 = (tw_ts)3908988802u << 32 | 0x40000000u;
	assert_int_equal(tw_stats_on_sent(s, 1, t1, 0), 0);
	tw_reflector_fields rf = { .seq = 0,
				   .ts = (tw_ts)3908988802u << 32 | 0x40200000u,
				   .errest = 0x8001,
				   .rx_ts = (tw_ts)3908988802u << 32 | 0x40100000u,
				   .sender_seq = 1,
				   .sender_ts = t1,
				   .sender_errest = 0x8001,
				   .sender_ttl = 64 };
	tw_stats_result r;
	assert_int_equal(tw_stats_on_reply(s, &rf, (tw_ts)3908988802u << 32 | 0x80000000u, 250, 1000, &r), 0);
	assert_int_equal(r.cls, TW_STATS_NEW);
	assert_int_equal(r.rtt_ns, 249755860);
	assert_int_equal(r.fwd_ns, 244140);
	assert_int_equal(r.bwd_ns, 249511718);
	assert_int_equal(r.proc_ns, 244140);
	assert_true(r.synced);
	assert_true(r.usable[TW_STATS_FWD] && r.usable[TW_STATS_BWD]);
	assert_int_equal(r.hops[TW_STATS_FWD], 191);
	assert_int_equal(r.hops[TW_STATS_BWD], 5);
	assert_false(r.suspect || r.t1_mismatch || r.ipdv.valid || r.reordered_rt);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.sent, 1);
	assert_int_equal(c.received, 1);
	assert_int_equal(c.in_flight, 0);
	tw_stats_free(s);
}

/* Unsynchronised clocks (S = 0, as in every capture) or a negative one-way
 * value: sample returned, one-way delay flagged and counted as skipped. */
static void test_one_way_skips(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(8, 2 * SEC);
	sent(s, 0, 0);
	ex e = exch(0, 0, 0, 100 * U, U, 100 * U);
	e.errest = 0x0001; /* reflector not synchronised */
	tw_stats_result r = reply(s, &e);
	assert_false(r.synced);
	assert_false(r.usable[TW_STATS_FWD] || r.usable[TW_STATS_BWD]);
	assert_int_equal(r.rtt_ns, 200 * U);

	sent(s, 1, 10 * TK);
	e = exch(1, 1, 10 * TK, -5 * U, U, 300 * U); /* reflector clock behind */
	r = reply(s, &e);
	assert_true(r.synced);
	assert_false(r.usable[TW_STATS_FWD]);
	assert_true(r.usable[TW_STATS_BWD]);
	assert_int_equal(r.fwd_ns, -5 * U);
	assert_int_equal(r.rtt_ns, 295 * U);

	sent(s, 2, 20 * TK);
	e = exch(2, 2, 20 * TK, 10 * U, U, 10 * U);
	e.sender_errest = 0x8000; /* multiplier 0: invalid, not synchronised */
	r = reply(s, &e);
	assert_false(r.synced);

	tw_stats_counters c = counters(s);
	assert_int_equal(c.owd_skipped_unsync[TW_STATS_FWD], 2);
	assert_int_equal(c.owd_skipped_unsync[TW_STATS_BWD], 2);
	assert_int_equal(c.owd_skipped_negative[TW_STATS_FWD], 1);
	assert_int_equal(c.owd_skipped_negative[TW_STATS_BWD], 0);
	tw_stats_free(s);
}

static void test_suspect_and_t1_mismatch(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(8, 2 * SEC);
	sent(s, 0, 0);
	ex e = exch(0, 0, 0, 10 * U, -2 * U, 10 * U); /* T3 < T2 */
	tw_stats_result r = reply(s, &e);
	assert_true(r.suspect);
	sent(s, 1, 10 * TK);
	e = exch(1, 1, 10 * TK, 10 * U, U, 10 * U);
	tw_reflector_fields rf = fields_of(&e);
	rf.sender_ts += 1; /* reflector mangled the copy (clear in auth mode) */
	assert_int_equal(tw_stats_on_reply(s, &rf, ntp(e.t4), 255, e.t4, &r), 0);
	assert_true(r.t1_mismatch);
	assert_false(r.suspect);
	assert_int_equal(r.rtt_ns, 20 * U); /* our own T1 is used */
	tw_stats_counters c = counters(s);
	assert_int_equal(c.suspect, 1);
	assert_int_equal(c.t1_mismatch, 1);
	tw_stats_free(s);
}

/* ---- loss timeout ---- */

static void test_loss_boundary(void **state)
{
	(void)state;
	const int64_t T = 1000 * TK;
	tw_stats *s = tw_stats_new(16, T);
	assert_true(tw_stats_next_deadline(s) == INT64_MAX);
	sent(s, 0, 0);
	sent(s, 1, 10 * TK);
	sent(s, 2, 20 * TK);
	assert_true(tw_stats_next_deadline(s) == T);

	/* one nanosecond before the deadline: received */
	ex e = exch(0, 0, 0, 0, 0, T - 1);
	assert_int_equal(reply(s, &e).cls, TW_STATS_NEW);
	assert_true(tw_stats_next_deadline(s) == 10 * TK + T);

	/* exactly at the deadline, before expire() ran: late and lost */
	e = exch(1, 1, 10 * TK, 0, 0, T);
	assert_int_equal(reply(s, &e).cls, TW_STATS_LATE);
	assert_true(tw_stats_next_deadline(s) == 20 * TK + T);

	/* expire() boundary: deadline <= now loses the packet */
	assert_int_equal(tw_stats_expire(s, 20 * TK + T - 1), 0);
	assert_int_equal(counters(s).in_flight, 1);
	assert_int_equal(tw_stats_expire(s, 20 * TK + T), 1);
	assert_int_equal(tw_stats_expire(s, 20 * TK + T + 5), 0); /* exactly once */
	assert_true(tw_stats_next_deadline(s) == INT64_MAX);

	tw_stats_counters c = counters(s);
	assert_int_equal(c.sent, 3);
	assert_int_equal(c.received, 1);
	assert_int_equal(c.lost, 2);
	assert_int_equal(c.late, 1);
	assert_int_equal(c.in_flight, 0);
	tw_stats_free(s);
}

static void test_late_after_lost(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(16, 100 * TK);
	for (uint32_t i = 0; i < 3; i++)
		sent(s, i, (int64_t)i * 10 * TK);
	assert_int_equal(tw_stats_expire(s, 115 * TK), 2); /* seq 0 and 1 */
	ex e = exch(1, 1, 10 * TK, 60 * TK, 0, 60 * TK);
	tw_stats_result r = reply(s, &e);
	assert_int_equal(r.cls, TW_STATS_LATE);
	assert_int_equal(r.rtt_ns, 0); /* no sample for late replies */
	/* a second copy of the late reply is a duplicate, still not received */
	assert_int_equal(reply(s, &e).cls, TW_STATS_DUP_BACKWARD);
	e = exch(2, 2, 20 * TK, U, 0, U);
	assert_int_equal(reply(s, &e).cls, TW_STATS_NEW);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.lost, 2);
	assert_int_equal(c.late, 1);
	assert_int_equal(c.received, 1);
	assert_int_equal(c.duplicates[TW_STATS_BWD], 1);
	tw_stats_free(s);
}

/* ---- duplicates and unknown replies ---- */

static void test_duplicates_stateful(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(8, 2 * SEC);
	sent(s, 0, 0);
	ex first = exch(0, 0, 0, 10 * U, U, 10 * U);
	assert_int_equal(reply(s, &first).cls, TW_STATS_NEW);
	/* the reflector got the test packet twice: numbered anew */
	ex again = exch(0, 1, 0, 12 * U, U, 10 * U);
	assert_int_equal(reply(s, &again).cls, TW_STATS_DUP_FORWARD);
	/* one reflected packet arrived twice */
	assert_int_equal(reply(s, &first).cls, TW_STATS_DUP_BACKWARD);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.received, 1);
	assert_int_equal(c.duplicates[TW_STATS_FWD], 1);
	assert_int_equal(c.duplicates[TW_STATS_BWD], 1);
	tw_stats_free(s);
}

/* Stateless reflector: reflector seq == sender seq, so T2 decides. */
static void test_duplicates_stateless(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(8, 2 * SEC);
	sent(s, 7, 0);
	ex first = exch(7, 7, 0, 10 * U, U, 10 * U);
	assert_int_equal(reply(s, &first).cls, TW_STATS_NEW);
	ex second_rx = exch(7, 7, 0, 11 * U, U, 10 * U);
	assert_int_equal(reply(s, &second_rx).cls, TW_STATS_DUP_FORWARD);
	assert_int_equal(reply(s, &first).cls, TW_STATS_DUP_BACKWARD);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.duplicates[TW_STATS_FWD], 1);
	assert_int_equal(c.duplicates[TW_STATS_BWD], 1);
	assert_int_equal(c.received, 1);
	tw_stats_free(s);
}

static void test_unknown(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(4, 2 * SEC);
	ex e = exch(0, 0, 0, U, U, U);
	assert_int_equal(reply(s, &e).cls, TW_STATS_UNKNOWN); /* nothing sent yet */
	for (uint32_t i = 10; i < 20; i++) {
		sent(s, i, (int64_t)(i - 10) * TK);
		tw_stats_result r;
		ex ok = exch(i, i - 10, (int64_t)(i - 10) * TK, U, U, U);
		r = reply(s, &ok);
		assert_int_equal(r.cls, TW_STATS_NEW);
	}
	e = exch(20, 0, 0, U, U, U); /* not sent yet */
	assert_int_equal(reply(s, &e).cls, TW_STATS_UNKNOWN);
	e = exch(9, 0, 0, U, U, U); /* before the first */
	assert_int_equal(reply(s, &e).cls, TW_STATS_UNKNOWN);
	e = exch(12, 0, 0, U, U, U); /* sent, but older than the 4-slot ring */
	assert_int_equal(reply(s, &e).cls, TW_STATS_UNKNOWN);
	e = exch(16, 6, 6 * TK, U, U, U); /* in the ring: a duplicate */
	assert_int_equal(reply(s, &e).cls, TW_STATS_DUP_BACKWARD);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.unknown, 4);
	assert_int_equal(c.received, 10);
	tw_stats_free(s);
}

/* ---- reordering ---- */

/* Replies come back as (sender seq, reflector seq) in the given order. */
static tw_stats *run_order(const uint32_t (*pairs)[2], size_t n, tw_stats_result *res)
{
	tw_stats *s = tw_stats_new(16, 2 * SEC);
	for (uint32_t i = 0; i < n; i++)
		sent(s, i, (int64_t)i * TK);
	for (size_t k = 0; k < n; k++) {
		ex e = exch(pairs[k][0], pairs[k][1], (int64_t)pairs[k][0] * TK, 10 * U, U, 10 * U + (int64_t)k * U);
		res[k] = reply(s, &e);
		assert_int_equal(res[k].cls, TW_STATS_NEW);
	}
	return s;
}

/* Reflector received 0,1,2 in order; the replies of 1 and 2 swapped on
 * the way back: round trip and backward reordered, forward not. */
static void test_reorder_backward(void **state)
{
	(void)state;
	static const uint32_t p[][2] = { { 0, 0 }, { 2, 2 }, { 1, 1 }, { 3, 3 } };
	tw_stats_result r[4];
	tw_stats *s = run_order(p, 4, r);
	assert_true(r[2].reordered_rt && r[2].reordered[TW_STATS_BWD]);
	assert_false(r[2].reordered[TW_STATS_FWD]);
	assert_false(r[1].reordered_rt || r[3].reordered_rt || r[3].reordered[TW_STATS_BWD]);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.reordered_rt, 1);
	assert_int_equal(c.reordered[TW_STATS_BWD], 1);
	assert_int_equal(c.reordered[TW_STATS_FWD], 0);
	tw_stats_free(s);
}

/* Reflector received 0,2,1 (reflector seqs 0,1,2 in that order) and the
 * replies kept that order: forward and round trip reordered, backward not. */
static void test_reorder_forward(void **state)
{
	(void)state;
	static const uint32_t p[][2] = { { 0, 0 }, { 2, 1 }, { 1, 2 }, { 3, 3 } };
	tw_stats_result r[4];
	tw_stats *s = run_order(p, 4, r);
	assert_true(r[2].reordered[TW_STATS_FWD]);
	assert_true(r[2].reordered_rt);
	assert_false(r[2].reordered[TW_STATS_BWD]);
	assert_false(r[1].reordered[TW_STATS_FWD]);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.reordered[TW_STATS_FWD], 1);
	assert_int_equal(c.reordered_rt, 1);
	assert_int_equal(c.reordered[TW_STATS_BWD], 0);
	tw_stats_free(s);
}

/* Both paths swapped the same pair: the replies arrive in sender order,
 * so the round trip looks in order while each direction reordered once.
 * The forward inversion is found when the second reply arrives and flags
 * the first one (counted once). */
static void test_reorder_both_cancel(void **state)
{
	(void)state;
	static const uint32_t p[][2] = { { 0, 0 }, { 1, 2 }, { 2, 1 }, { 3, 3 } };
	tw_stats_result r[4];
	tw_stats *s = run_order(p, 4, r);
	assert_false(r[1].reordered[TW_STATS_FWD]); /* not known yet */
	assert_false(r[2].reordered[TW_STATS_FWD]);
	assert_true(r[2].reordered[TW_STATS_BWD]);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.reordered_rt, 0);
	assert_int_equal(c.reordered[TW_STATS_FWD], 1);
	assert_int_equal(c.reordered[TW_STATS_BWD], 1);
	tw_stats_free(s);
}

/* RFC 4737: one late packet behind several is one reordered packet. */
static void test_reorder_next_expected(void **state)
{
	(void)state;
	static const uint32_t p[][2] = { { 1, 1 }, { 2, 2 }, { 3, 3 }, { 0, 0 }, { 4, 4 } };
	tw_stats_result r[5];
	tw_stats *s = run_order(p, 5, r);
	assert_true(r[3].reordered_rt);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.reordered_rt, 1);
	assert_int_equal(c.reordered[TW_STATS_BWD], 1);
	tw_stats_free(s);
}

/* ---- IPDV and jitter ---- */

static void test_ipdv_skips_gaps(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(16, 2 * SEC);
	for (uint32_t i = 0; i < 5; i++)
		sent(s, i, (int64_t)i * 100 * TK);
	/* per-seq forward / backward delays, seq 2 lost */
	static const int64_t fwd[5] = { 10, 14, 0, 11, 20 }, bwd[5] = { 10, 9, 0, 10, 7 };
	tw_stats_result r[5];
	static const uint32_t order[] = { 0, 1, 3, 4 };
	for (size_t k = 0; k < 4; k++) {
		uint32_t i = order[k];
		ex e = exch(i, (uint32_t)k, (int64_t)i * 100 * TK, fwd[i] * U, U, bwd[i] * U);
		r[i] = reply(s, &e);
	}
	assert_false(r[0].ipdv.valid);
	assert_true(r[1].ipdv.valid);
	assert_int_equal(r[1].ipdv.fwd_ns, 4 * U);
	assert_int_equal(r[1].ipdv.bwd_ns, -1 * U);
	assert_int_equal(r[1].ipdv.rtt_ns, 3 * U);
	assert_false(r[3].ipdv.valid); /* seq 2 missing: no pairing across the gap */
	assert_true(r[4].ipdv.valid);
	assert_int_equal(r[4].ipdv.fwd_ns, 9 * U);
	assert_int_equal(r[4].ipdv.bwd_ns, -3 * U);
	assert_int_equal(r[4].ipdv.rtt_ns, 6 * U);
	tw_stats_free(s);
}

/* A reordered packet completes both of its pairs. */
static void test_ipdv_reordered(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(16, 2 * SEC);
	for (uint32_t i = 0; i < 3; i++)
		sent(s, i, (int64_t)i * 100 * TK);
	ex e0 = exch(0, 0, 0, 10 * U, U, 10 * U);
	ex e2 = exch(2, 1, 200 * TK, 15 * U, U, 10 * U);
	ex e1 = exch(1, 2, 100 * TK, 12 * U, U, 10 * U);
	reply(s, &e0);
	tw_stats_result r2 = reply(s, &e2);
	assert_false(r2.ipdv.valid);
	tw_stats_result r1 = reply(s, &e1);
	assert_true(r1.ipdv.valid);
	assert_int_equal(r1.ipdv.fwd_ns, 2 * U);
	assert_true(r1.ipdv_next.valid);
	assert_int_equal(r1.ipdv_next.fwd_ns, 3 * U);
	assert_int_equal(r1.ipdv_next.rtt_ns, 3 * U);
	tw_stats_free(s);
}

/* V15: |D| = 1000, 500, 2000 from J = 0 gives 62.5, 89.84375,
 * 209.228515625; the integer form stays within one unit of it. */
static void test_jitter_v15_step(void **state)
{
	(void)state;
	int64_t j16 = 0;
	j16 = tw_stats_jitter_step(j16, 1000);
	assert_int_equal(j16 >> 4, 62);
	j16 = tw_stats_jitter_step(j16, -500);
	assert_int_equal(j16 >> 4, 89);
	j16 = tw_stats_jitter_step(j16, 2000);
	assert_int_equal(j16 >> 4, 209);
	assert_true(llabs(j16 - 3348) <= 16); /* exact: 209.228515625 * 16 */
	/* saturation keeps the state finite */
	int64_t big = 0;
	for (int i = 0; i < 200; i++)
		big = tw_stats_jitter_step(big, INT64_MIN);
	assert_true(big > 0 && (big >> 4) <= (INT64_C(1) << 58));
}

/* The same sequence through on_reply: transit differences of 1000, -500
 * and 2000 units in arrival order. RTT and backward see them; forward sees
 * none (constant T2 - T1). */
static void test_jitter_v15_replies(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(16, 100 * SEC);
	static const int64_t bwd[4] = { 5000, 6000, 5500, 7500 };
	for (uint32_t i = 0; i < 4; i++) {
		int64_t t1 = (int64_t)i * SEC;
		sent(s, i, t1);
		ex e = exch(i, i, t1, 100 * U, U, bwd[i] * U);
		reply(s, &e);
	}
	tw_stats_counters c = counters(s);
	/* exact 209.228515625 * U = 408649444.58 ns */
	assert_true(llabs(c.jitter_rtt_ns - 408649444) <= 2);
	assert_int_equal(c.jitter_ns[TW_STATS_BWD], c.jitter_rtt_ns);
	assert_int_equal(c.jitter_ns[TW_STATS_FWD], 0);
	tw_stats_free(s);
}

/* ---- TTL ---- */

static void test_ttl_changes(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(16, 2 * SEC);
	static const uint8_t sttl[4] = { 255, 255, 250, 250 }, rttl[4] = { 64, 63, 63, 63 };
	tw_stats_result r[4];
	for (uint32_t i = 0; i < 4; i++) {
		sent(s, i, (int64_t)i * TK);
		ex e = exch(i, i, (int64_t)i * TK, U, U, U);
		e.sender_ttl = sttl[i];
		e.rx_ttl = rttl[i];
		r[i] = reply(s, &e);
	}
	assert_false(r[0].ttl_changed[TW_STATS_FWD] || r[0].ttl_changed[TW_STATS_BWD]);
	assert_true(r[1].ttl_changed[TW_STATS_BWD]);
	assert_true(r[2].ttl_changed[TW_STATS_FWD]);
	assert_int_equal(r[2].hops[TW_STATS_FWD], 5);
	assert_int_equal(r[2].hops[TW_STATS_BWD], 192);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.ttl_changes[TW_STATS_FWD], 1);
	assert_int_equal(c.ttl_changes[TW_STATS_BWD], 1);
	assert_int_equal(c.last_ttl[TW_STATS_FWD], 250);
	assert_int_equal(c.last_ttl[TW_STATS_BWD], 63);
	tw_stats_free(s);
}

/* ---- per-direction loss (metrics.md §5.2) ---- */

static void test_direction_loss(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(16, 100 * TK);
	assert_false(tw_stats_direction_loss(s).valid);
	for (uint32_t i = 0; i < 10; i++)
		sent(s, i, (int64_t)i * TK);
	/* seq 3 lost forward (the reflector numbers 0-2, then 3-8 for seq
	 * 4-9); the reply to seq 6 (reflector seq 5) lost backward */
	for (uint32_t i = 0; i < 10; i++) {
		if (i == 3 || i == 6)
			continue;
		ex e = exch(i, i < 3 ? i : i - 1, (int64_t)i * TK, U, U, U);
		assert_int_equal(reply(s, &e).cls, TW_STATS_NEW);
	}
	assert_int_equal(tw_stats_expire(s, SEC), 2);
	tw_stats_dir_loss d = tw_stats_direction_loss(s);
	assert_true(d.valid);
	assert_int_equal(d.reflected, 9);
	assert_int_equal(d.forward_lost, 1);
	assert_int_equal(d.backward_lost, 1);
	tw_stats_free(s);
}

/* A forward duplicate consumes a reflector number without being a new
 * packet; it must not hide a forward loss. */
static void test_direction_loss_forward_dup(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(16, 100 * TK);
	for (uint32_t i = 0; i < 4; i++)
		sent(s, i, (int64_t)i * TK);
	/* seq 1 reflected twice (r 1 and 2), seq 2 lost forward, seq 3 -> r 3 */
	static const uint32_t p[][2] = { { 0, 0 }, { 1, 1 }, { 1, 2 }, { 3, 3 } };
	for (size_t k = 0; k < 4; k++) {
		ex e = exch(p[k][0], p[k][1], (int64_t)p[k][0] * TK, U + (int64_t)k, U, U);
		reply(s, &e);
	}
	assert_int_equal(tw_stats_expire(s, SEC), 1);
	tw_stats_dir_loss d = tw_stats_direction_loss(s);
	assert_int_equal(d.reflected, 4);
	assert_int_equal(d.forward_lost, 1);
	assert_int_equal(d.backward_lost, 0);
	assert_int_equal(counters(s).duplicates[TW_STATS_FWD], 1);
	tw_stats_free(s);
}

/* ---- sequence wrap at 2^32 ---- */

static void test_seq_wrap(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(8, 2 * SEC);
	const uint32_t first = UINT32_MAX - 2;
	for (uint32_t k = 0; k < 6; k++)
		sent(s, first + k, (int64_t)k * TK);
	tw_stats_result r[6];
	/* replies in order except UINT32_MAX and 0 swapped (reflector seq
	 * wraps too: it started near the top as well) */
	static const uint32_t order[6] = { 0, 1, 3, 2, 4, 5 };
	for (size_t k = 0; k < 6; k++) {
		uint32_t seq = first + order[k];
		ex e = exch(seq, seq, (int64_t)order[k] * TK, (10 + order[k]) * U, U, 10 * U);
		r[k] = reply(s, &e);
		assert_int_equal(r[k].cls, TW_STATS_NEW);
	}
	assert_false(r[2].reordered_rt); /* 0 after 0xFFFFFFFE: in order */
	assert_true(r[3].reordered_rt);  /* 0xFFFFFFFF after 0 */
	assert_true(r[3].reordered[TW_STATS_BWD]);
	assert_true(r[2].ipdv.valid == false); /* 0xFFFFFFFF not there yet */
	assert_true(r[3].ipdv.valid && r[3].ipdv_next.valid);
	assert_int_equal(r[3].ipdv_next.fwd_ns, U); /* 0 vs 0xFFFFFFFF */
	assert_true(r[4].ipdv.valid);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.received, 6);
	assert_int_equal(c.reordered_rt, 1);
	assert_int_equal(c.unknown, 0);
	assert_int_equal(tw_stats_on_sent(s, 4, ntp(0), 0), -EINVAL); /* not consecutive */
	assert_int_equal(tw_stats_on_sent(s, 3, ntp(7 * TK), 7 * TK), 0);
	tw_stats_free(s);
}

/* ---- ring overflow ---- */

static void test_ring_overflow(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(3, 10 * SEC);
	assert_int_equal(tw_stats_capacity(s), 4); /* rounded up to 2^k */
	for (uint32_t i = 0; i < 4; i++)
		sent(s, i, (int64_t)i * TK);
	ex e = exch(1, 0, TK, U, U, U);
	assert_int_equal(reply(s, &e).cls, TW_STATS_NEW);
	/* seq 4 needs seq 0's slot while 0 is still in flight: evicted */
	assert_int_equal(tw_stats_on_sent(s, 4, ntp(4 * TK), 4 * TK), 1);
	/* seq 5 reuses seq 1's slot, already answered: no eviction */
	assert_int_equal(tw_stats_on_sent(s, 5, ntp(5 * TK), 5 * TK), 0);
	tw_stats_counters c = counters(s);
	assert_int_equal(c.evicted, 1);
	assert_int_equal(c.lost, 1);
	assert_int_equal(c.in_flight, 4);
	/* its reply comes back: no longer tracked */
	e = exch(0, 1, 0, U, U, U);
	assert_int_equal(reply(s, &e).cls, TW_STATS_UNKNOWN);
	assert_true(tw_stats_next_deadline(s) == 2 * TK + 10 * SEC);
	assert_int_equal(tw_stats_expire(s, 100 * SEC), 4);
	c = counters(s);
	assert_int_equal(c.lost, 5);
	assert_int_equal(c.received, 1);
	assert_int_equal(c.unknown, 1);
	tw_stats_free(s);
}

/* ---- PTP-format reflector timestamps (Z = 1) ---- */

static void test_ptp_reflector(void **state)
{
	(void)state;
	tw_stats *s = tw_stats_new(8, 2 * SEC);
	sent(s, 0, 0);
	ex e = exch(0, 0, 0, 300 * U, 2 * U, 400 * U);
	tw_reflector_fields rf = fields_of(&e);
	rf.errest = 0xC001; /* S = 1, Z = 1 */
	rf.rx_ts = tw_ts_ptp_from_unix_ns(BASE_NS + e.t2);
	rf.ts = tw_ts_ptp_from_unix_ns(BASE_NS + e.t3);
	tw_stats_result r;
	assert_int_equal(tw_stats_on_reply(s, &rf, ntp(e.t4), 255, e.t4, &r), 0);
	assert_int_equal(r.cls, TW_STATS_NEW);
	assert_int_equal(r.fwd_ns, 300 * U);
	assert_int_equal(r.proc_ns, 2 * U);
	assert_int_equal(r.bwd_ns, 400 * U);
	assert_int_equal(r.rtt_ns, 700 * U);
	assert_true(r.synced && r.usable[TW_STATS_FWD]);
	/* read as NTP the same words would be ~37 s and 70 years off */
	rf.errest = 0x8001;
	sent(s, 1, TK);
	rf.sender_seq = 1;
	rf.sender_ts = ntp(TK);
	assert_int_equal(tw_stats_on_reply(s, &rf, ntp(e.t4 + TK), 255, e.t4 + TK, &r), 0);
	assert_true(llabs(r.fwd_ns) > 1000 * SEC);
	tw_stats_free(s);
}

static void test_bad_args(void **state)
{
	(void)state;
	assert_null(tw_stats_new(0, SEC));
	assert_null(tw_stats_new(8, 0));
	assert_null(tw_stats_new(TW_STATS_MAX_CAPACITY + 1, SEC));
	tw_stats_free(NULL);
	tw_stats *s = tw_stats_new(1, SEC);
	assert_int_equal(tw_stats_capacity(s), 1);
	tw_stats_result r;
	assert_int_equal(tw_stats_on_reply(s, NULL, 0, 0, 0, &r), -EINVAL);
	assert_int_equal(tw_stats_on_sent(NULL, 0, 0, 0), -EINVAL);
	/* a one-slot ring still works for strictly alternating send/reply */
	for (uint32_t i = 0; i < 3; i++) {
		sent(s, i, (int64_t)i * TK);
		ex e = exch(i, i, (int64_t)i * TK, U, U, U);
		assert_int_equal(reply(s, &e).cls, TW_STATS_NEW);
	}
	assert_int_equal(counters(s).received, 3);
	tw_stats_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v15_sample),
		cmocka_unit_test(test_one_way_skips),
		cmocka_unit_test(test_suspect_and_t1_mismatch),
		cmocka_unit_test(test_loss_boundary),
		cmocka_unit_test(test_late_after_lost),
		cmocka_unit_test(test_duplicates_stateful),
		cmocka_unit_test(test_duplicates_stateless),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_reorder_backward),
		cmocka_unit_test(test_reorder_forward),
		cmocka_unit_test(test_reorder_both_cancel),
		cmocka_unit_test(test_reorder_next_expected),
		cmocka_unit_test(test_ipdv_skips_gaps),
		cmocka_unit_test(test_ipdv_reordered),
		cmocka_unit_test(test_jitter_v15_step),
		cmocka_unit_test(test_jitter_v15_replies),
		cmocka_unit_test(test_ttl_changes),
		cmocka_unit_test(test_direction_loss),
		cmocka_unit_test(test_direction_loss_forward_dup),
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_ring_overflow),
		cmocka_unit_test(test_ptp_reflector),
		cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

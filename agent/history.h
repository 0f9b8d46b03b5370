/*
 * history.h - a session's recent past in fixed memory: a ring of
 * per-period summaries (one a minute in the agent) for the status page's
 * smokeping-style chart.
 *
 * Each snapshot takes the session's cumulative RTT histogram and its
 * sent/received/lost counters, subtracts what the previous snapshot saw
 * and keeps only a summary of the difference: a few RTT quantiles (the
 * band and the median) and the packet counts of the period. No per-packet
 * data is kept; memory is fixed when the history is created.
 *
 * A histogram or counter that went down (the histogram is re-created when
 * a reload changes the buckets) restarted from zero since the previous
 * snapshot: the period then counts what it holds now and the point is
 * flagged TW_HISTORY_RESET. A period without RTT samples has no quantiles
 * (a gap); one without decided packets has no loss figure either.
 *
 * Pure: no clock, no I/O, no allocation after tw_history_new.
 */
#ifndef TW_HISTORY_H
#define TW_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

#define TW_HISTORY_DEFAULT_POINTS 60
#define TW_HISTORY_MAX_POINTS 1440

/* The quantiles of each point, in this order (tw_history_quantiles). */
enum {
	TW_HISTORY_P05 = 0,
	TW_HISTORY_P10,
	TW_HISTORY_P25,
	TW_HISTORY_P50,
	TW_HISTORY_P75,
	TW_HISTORY_P90,
	TW_HISTORY_P95,
	TW_HISTORY_P99,
	TW_HISTORY_NQ
};

extern const double tw_history_quantiles[TW_HISTORY_NQ];

/* Point flags. */
#define TW_HISTORY_HAS_RTT 0x1u /* q[] holds the period's RTT quantiles */
#define TW_HISTORY_RESET 0x2u   /* a counter or the histogram restarted */

typedef struct tw_history_point {
	int64_t q[TW_HISTORY_NQ]; /* RTT ns, estimated like histogram_quantile */
	uint32_t sent, received, lost; /* increase during the period (saturated) */
	uint32_t flags;
} tw_history_point;

/* What a snapshot reads: the session's cumulative series. */
typedef struct tw_history_input {
	const tw_hist *rtt; /* may be NULL: no RTT samples */
	uint64_t sent, received, lost;
} tw_history_input;

typedef struct tw_history tw_history;

/* A history of up to capacity points (1..TW_HISTORY_MAX_POINTS) whose
 * first snapshot counts from zero, so create it no later than one period
 * after the session's series were created. Returns NULL for a bad
 * capacity or ENOMEM. tw_history_free is NULL-safe. */
tw_history *tw_history_new(size_t capacity);
void tw_history_free(tw_history *h);

/* Appends the summary of what changed since the previous snapshot (the
 * oldest point drops out when full). Never fails or allocates. */
void tw_history_snapshot(tw_history *h, const tw_history_input *in);

size_t tw_history_capacity(const tw_history *h);
/* Points held (0..capacity). */
size_t tw_history_len(const tw_history *h);
/* Point i, 0 being the oldest held and len - 1 the newest; NULL when i is
 * out of range. Valid until the next snapshot. */
const tw_history_point *tw_history_at(const tw_history *h, size_t i);
/* The newest point or NULL. */
const tw_history_point *tw_history_last(const tw_history *h);

/* Loss in hundredths of a percent of the decided packets (received +
 * lost), rounded to nearest but at least 1 when anything was lost; -1 when
 * nothing was decided. For a point: (p->received, p->lost). */
int tw_history_loss_bp(uint64_t received, uint64_t lost);

#endif /* TW_HISTORY_H */

/*
 * histogram.h - fixed-memory Prometheus histograms in integer nanoseconds.
 *
 * A tw_hist_bounds is the sorted list of finite upper bounds ("le") shared
 * by every histogram of a family; a tw_hist holds one non-cumulative count
 * per bound plus the +Inf overflow, the observation count and the sum.
 * Observing is a binary search and two additions: no allocation, no
 * floating point, no per-sample history (the memory growth that per-packet
 * history causes in long-running probers).
 *
 * Values are int64 (nanoseconds for delays); negative values and negative
 * bounds are allowed (IPDV). A value equal to a bound counts in that
 * bound's bucket, since "le" means less than or equal.
 */
#ifndef TW_HISTOGRAM_H
#define TW_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define TW_HIST_MAX_BOUNDS 64

typedef struct tw_hist_bounds {
	size_t n;                        /* 1..TW_HIST_MAX_BOUNDS finite bounds */
	int64_t le[TW_HIST_MAX_BOUNDS];  /* strictly increasing */
} tw_hist_bounds;

/* A histogram: allocate tw_hist_size(bounds) bytes (tw_hist_new does) so the
 * flexible bucket array has n + 1 slots. The bounds are borrowed and must
 * outlive the histogram. */
typedef struct tw_hist {
	const tw_hist_bounds *bounds;
	uint64_t count;
	int64_t sum;           /* saturates at INT64_MIN/INT64_MAX */
	uint64_t bucket[];     /* bucket[i]: bounds->le[i-1] < v <= le[i]; [n]: +Inf */
} tw_hist;

/* Copies n bounds into b after checking them: 1 <= n <= TW_HIST_MAX_BOUNDS,
 * strictly increasing. Returns 0 or -EINVAL (b untouched on error). */
int tw_hist_bounds_init(tw_hist_bounds *b, const int64_t *le, size_t n);

/* Presets (always valid):
 * delay:      25us 50us 100us 250us 500us 1ms 2.5ms 5ms 10ms 25ms 50ms 100ms
 *             250ms 500ms 1s 2.5s
 * processing: 1us 2.5us 5us 10us ... 2.5ms 5ms 10ms (1-2.5-5 steps; also
 *             used for the scheduler's send lag)
 * smokeping:  50us * 2^k for k = 0..15 (50us .. 1.6384s), the buckets of
 *             smokeping_prober, so its dashboards work unchanged. */
void tw_hist_bounds_delay(tw_hist_bounds *b);
void tw_hist_bounds_processing(tw_hist_bounds *b);
void tw_hist_bounds_smokeping(tw_hist_bounds *b);

/* Bytes needed for a histogram over b (struct plus n + 1 buckets). */
size_t tw_hist_size(const tw_hist_bounds *b);

/* Initialises memory of tw_hist_size(b) bytes to an empty histogram. */
void tw_hist_init(tw_hist *h, const tw_hist_bounds *b);
/* Allocates an empty histogram; NULL on ENOMEM. tw_hist_free is NULL-safe. */
tw_hist *tw_hist_new(const tw_hist_bounds *b);
void tw_hist_free(tw_hist *h);
void tw_hist_reset(tw_hist *h);

/* Index of the bucket v falls in: the first i with v <= le[i], or n. */
size_t tw_hist_bucket_index(const tw_hist_bounds *b, int64_t v);

/* Records one value. Never allocates or fails. */
void tw_hist_observe(tw_hist *h, int64_t v);

/* Cumulative count of bucket i (0..n; i == n gives count). */
uint64_t tw_hist_cumulative(const tw_hist *h, size_t i);

/* Estimates the q-quantile (0 <= q <= 1) the way Prometheus'
 * histogram_quantile does: linear interpolation inside the bucket holding
 * rank q * count, the lower edge of the first bucket being 0 (or its bound
 * when that is <= 0), and the highest finite bound when the rank falls in
 * +Inf. Writes *out and returns 0; -EINVAL for q outside [0, 1] or NaN;
 * -ENODATA when the histogram is empty. */
int tw_hist_quantile(const tw_hist *h, double q, int64_t *out);

#endif /* TW_HISTOGRAM_H */

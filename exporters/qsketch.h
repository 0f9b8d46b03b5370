/*
 * qsketch.h - a fixed-memory log-linear quantile sketch for one-shot ping
 * summaries (min / median / p95 / max of a run of samples).
 *
 * Values are int64 (nanoseconds). Magnitudes below 128 are counted
 * exactly; above that each power-of-two octave is split into 64 linear
 * sub-buckets, so a bucket is at most 1/64 of its lower edge wide and the
 * value reported for it (its midpoint) is within 1/128 (< 0.8 %) of any
 * value in it. Magnitudes from 2^40 ns (~18 min) up share the last bucket.
 * Negative values use a mirrored set of buckets. Count, min, max and sum
 * are exact (the sum saturates). About 36 KiB, allocated once; adding is
 * O(1) and never allocates.
 *
 * Quantiles use the nearest-rank definition: the q-quantile of n samples is
 * the sample of rank ceil(q * n) (rank 1 for q = 0) in sorted order; the
 * sketch returns its bucket's midpoint clamped to [min, max], so q = 0 and
 * q = 1 give the exact min and max.
 */
#ifndef TW_QSKETCH_H
#define TW_QSKETCH_H

#include <stdint.h>

typedef struct tw_qsketch tw_qsketch;

/* Bound on |estimate - exact| / |exact| for |exact| >= 128 (exact below). */
#define TW_QSKETCH_REL_ERROR (1.0 / 128.0)

/* Returns an empty sketch, or NULL on ENOMEM. tw_qsketch_free is NULL-safe. */
tw_qsketch *tw_qsketch_new(void);
void tw_qsketch_free(tw_qsketch *s);
void tw_qsketch_reset(tw_qsketch *s);

void tw_qsketch_add(tw_qsketch *s, int64_t v);

uint64_t tw_qsketch_count(const tw_qsketch *s);
/* Exact extremes and sum; 0 when empty. */
int64_t tw_qsketch_min(const tw_qsketch *s);
int64_t tw_qsketch_max(const tw_qsketch *s);
int64_t tw_qsketch_sum(const tw_qsketch *s);

/* Writes the estimated q-quantile (0 <= q <= 1) to *out. Returns 0,
 * -EINVAL for q outside [0, 1] or NaN, -ENODATA when empty. */
int tw_qsketch_quantile(const tw_qsketch *s, double q, int64_t *out);

#endif /* TW_QSKETCH_H */

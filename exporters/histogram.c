/* histogram.c - fixed-memory histograms (see histogram.h). */
#include "histogram.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define US INT64_C(1000)
#define MS INT64_C(1000000)
#define S INT64_C(1000000000)

static const int64_t delay_bounds[] = {
	25 * US, 50 * US, 100 * US, 250 * US, 500 * US,
	1 * MS, 2500 * US, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS,
	1 * S, 2500 * MS,
};

static const int64_t processing_bounds[] = {
	1 * US, 2500, 5 * US, 10 * US, 25 * US, 50 * US, 100 * US, 250 * US, 500 * US,
	1 * MS, 2500 * US, 5 * MS, 10 * MS,
};

#define SMOKEPING_BASE (50 * US)
#define SMOKEPING_STEPS 16

int tw_hist_bounds_init(tw_hist_bounds *b, const int64_t *le, size_t n)
{
	if (n == 0 || n > TW_HIST_MAX_BOUNDS || !le)
		return -EINVAL;
	for (size_t i = 1; i < n; i++)
		if (le[i] <= le[i - 1])
			return -EINVAL;
	b->n = n;
	memcpy(b->le, le, n * sizeof(le[0]));
	return 0;
}

void tw_hist_bounds_delay(tw_hist_bounds *b)
{
	(void)tw_hist_bounds_init(b, delay_bounds, sizeof(delay_bounds) / sizeof(delay_bounds[0]));
}

void tw_hist_bounds_processing(tw_hist_bounds *b)
{
	(void)tw_hist_bounds_init(b, processing_bounds,
		sizeof(processing_bounds) / sizeof(processing_bounds[0]));
}

void tw_hist_bounds_smokeping(tw_hist_bounds *b)
{
	int64_t le[SMOKEPING_STEPS];
	for (size_t k = 0; k < SMOKEPING_STEPS; k++)
		le[k] = SMOKEPING_BASE << k;
	(void)tw_hist_bounds_init(b, le, SMOKEPING_STEPS);
}

size_t tw_hist_size(const tw_hist_bounds *b)
{
	return sizeof(tw_hist) + (b->n + 1) * sizeof(uint64_t);
}

void tw_hist_init(tw_hist *h, const tw_hist_bounds *b)
{
	h->bounds = b;
	tw_hist_reset(h);
}

tw_hist *tw_hist_new(const tw_hist_bounds *b)
{
	tw_hist *h = malloc(tw_hist_size(b));
	if (h)
		tw_hist_init(h, b);
	return h;
}

void tw_hist_free(tw_hist *h)
{
	free(h);
}

void tw_hist_reset(tw_hist *h)
{
	h->count = 0;
	h->sum = 0;
	memset(h->bucket, 0, (h->bounds->n + 1) * sizeof(uint64_t));
}

size_t tw_hist_bucket_index(const tw_hist_bounds *b, int64_t v)
{
	size_t lo = 0, hi = b->n; /* answer in [lo, hi] */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v <= b->le[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void tw_hist_observe(tw_hist *h, int64_t v)
{
	h->bucket[tw_hist_bucket_index(h->bounds, v)]++;
	h->count++;
	int64_t s;
	if (__builtin_add_overflow(h->sum, v, &s))
		s = v > 0 ? INT64_MAX : INT64_MIN;
	h->sum = s;
}

uint64_t tw_hist_cumulative(const tw_hist *h, size_t i)
{
	uint64_t c = 0;
	for (size_t k = 0; k <= i && k <= h->bounds->n; k++)
		c += h->bucket[k];
	return c;
}

/* Linear interpolation inside bucket i at rank (rank - below) / in. */
static int64_t interpolate(const tw_hist_bounds *b, size_t i, double frac)
{
	if (i == b->n)
		return b->le[b->n - 1];
	if (i == 0 && b->le[0] <= 0)
		return b->le[0];
	double lo = i == 0 ? 0.0 : (double)b->le[i - 1];
	double hi = (double)b->le[i];
	return (int64_t)llround(lo + (hi - lo) * frac);
}

int tw_hist_quantile(const tw_hist *h, double q, int64_t *out)
{
	if (!(q >= 0.0 && q <= 1.0))
		return -EINVAL;
	if (h->count == 0)
		return -ENODATA;
	double rank = q * (double)h->count;
	uint64_t below = 0;
	size_t i = 0;
	for (; i < h->bounds->n; i++) {
		uint64_t in = h->bucket[i];
		if (in > 0 && (double)(below + in) >= rank)
			break;
		below += in;
	}
	double in = (double)h->bucket[i];
	double frac = in > 0 ? (rank - (double)below) / in : 1.0;
	if (frac < 0.0)
		frac = 0.0;
	*out = interpolate(h->bounds, i, frac);
	return 0;
}

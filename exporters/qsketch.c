/* qsketch.c - log-linear quantile sketch (see qsketch.h). */
#include "qsketch.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_BITS 6
#define SUB (UINT64_C(1) << SUB_BITS)          /* sub-buckets per octave */
#define LINEAR (2 * SUB)                        /* magnitudes counted exactly */
#define MAX_BITS 40                             /* magnitudes >= 2^40 clamp */
#define NBUCKETS (LINEAR + (MAX_BITS - 1 - SUB_BITS) * SUB)

struct tw_qsketch {
	uint64_t count;
	int64_t min, max, sum;
	uint64_t pos[NBUCKETS]; /* v >= 0 by magnitude */
	uint64_t neg[NBUCKETS]; /* v < 0 by magnitude */
};

tw_qsketch *tw_qsketch_new(void)
{
	tw_qsketch *s = malloc(sizeof(*s));
	if (s)
		tw_qsketch_reset(s);
	return s;
}

void tw_qsketch_free(tw_qsketch *s)
{
	free(s);
}

void tw_qsketch_reset(tw_qsketch *s)
{
	memset(s, 0, sizeof(*s));
}

static size_t index_of(uint64_t mag)
{
	if (mag < LINEAR)
		return (size_t)mag;
	if (mag >> MAX_BITS)
		mag = (UINT64_C(1) << MAX_BITS) - 1;
	unsigned msb = 63u - (unsigned)__builtin_clzll(mag);
	unsigned e = msb - SUB_BITS; /* >= 1: sub-bucket width is 2^e */
	return (size_t)(LINEAR + (e - 1) * SUB + ((mag >> e) - SUB));
}

/* Midpoint magnitude of bucket idx. */
static uint64_t midpoint_of(size_t idx)
{
	if (idx < LINEAR)
		return idx;
	uint64_t j = idx - LINEAR;
	unsigned e = (unsigned)(j / SUB) + 1;
	uint64_t lo = (SUB + j % SUB) << e;
	return lo + ((UINT64_C(1) << e) >> 1);
}

void tw_qsketch_add(tw_qsketch *s, int64_t v)
{
	if (v >= 0)
		s->pos[index_of((uint64_t)v)]++;
	else
		s->neg[index_of((uint64_t)(-(v + 1)) + 1)]++;
	if (s->count == 0 || v < s->min)
		s->min = v;
	if (s->count == 0 || v > s->max)
		s->max = v;
	s->count++;
	int64_t sum;
	if (__builtin_add_overflow(s->sum, v, &sum))
		sum = v > 0 ? INT64_MAX : INT64_MIN;
	s->sum = sum;
}

uint64_t tw_qsketch_count(const tw_qsketch *s)
{
	return s->count;
}

int64_t tw_qsketch_min(const tw_qsketch *s)
{
	return s->min;
}

int64_t tw_qsketch_max(const tw_qsketch *s)
{
	return s->max;
}

int64_t tw_qsketch_sum(const tw_qsketch *s)
{
	return s->sum;
}

/* The signed midpoint of the bucket holding the sample of 1-based rank. */
static int64_t value_at_rank(const tw_qsketch *s, uint64_t rank)
{
	uint64_t seen = 0;
	for (size_t i = NBUCKETS; i-- > 0;) {
		seen += s->neg[i];
		if (seen >= rank) {
			uint64_t m = midpoint_of(i);
			return m > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)m;
		}
	}
	for (size_t i = 0; i < NBUCKETS; i++) {
		seen += s->pos[i];
		if (seen >= rank) {
			uint64_t m = midpoint_of(i);
			return m > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)m;
		}
	}
	return s->max; /* unreachable while the counts add up to count */
}

int tw_qsketch_quantile(const tw_qsketch *s, double q, int64_t *out)
{
	if (!(q >= 0.0 && q <= 1.0))
		return -EINVAL;
	if (s->count == 0)
		return -ENODATA;
	uint64_t rank = (uint64_t)ceil(q * (double)s->count);
	if (rank < 1)
		rank = 1;
	if (rank > s->count)
		rank = s->count;
	if (rank == 1 || rank == s->count) {
		*out = rank == 1 ? s->min : s->max; /* the extremes are exact */
		return 0;
	}
	int64_t v = value_at_rank(s, rank);
	if (v < s->min)
		v = s->min;
	if (v > s->max)
		v = s->max;
	*out = v;
	return 0;
}

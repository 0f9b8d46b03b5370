/* history.c - per-period summaries of a session (see history.h). */
#include "history.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const double tw_history_quantiles[TW_HISTORY_NQ] = { 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99 };

struct tw_history {
	size_t cap, len, next; /* next: ring slot the next point goes to */
	uint64_t sent, received, lost; /* counters at the previous snapshot */
	uint64_t layout;       /* fingerprint of the previous histogram's bounds; 0 = none */
	tw_hist *prev;         /* previous histogram counts, room for any layout */
	tw_history_point pts[];
};

#define PREV_BYTES (sizeof(tw_hist) + (TW_HIST_MAX_BOUNDS + 1) * sizeof(uint64_t))

tw_history *tw_history_new(size_t capacity)
{
	if (capacity < 1 || capacity > TW_HISTORY_MAX_POINTS)
		return NULL;
	tw_history *h = calloc(1, sizeof(*h) + capacity * sizeof(h->pts[0]));
	if (!h)
		return NULL;
	h->prev = calloc(1, PREV_BYTES);
	if (!h->prev) {
		free(h);
		return NULL;
	}
	h->cap = capacity;
	return h;
}

void tw_history_free(tw_history *h)
{
	if (!h)
		return;
	free(h->prev);
	free(h);
}

/* Identifies a bucket layout, so that a re-created histogram with other
 * buckets is not subtracted bucket by bucket from the old one. */
static uint64_t layout_of(const tw_hist_bounds *b)
{
	uint64_t x = 1469598103934665603ULL ^ b->n;
	for (size_t i = 0; i < b->n; i++) {
		x ^= (uint64_t)b->le[i];
		x *= 1099511628211ULL;
	}
	return x | 1; /* never 0, which means "no previous layout" */
}

static uint32_t sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint32_t counter_delta(uint64_t now, uint64_t *prev, bool *reset)
{
	uint64_t d = now - *prev;
	if (now < *prev) {
		*reset = true;
		d = now;
	}
	*prev = now;
	return sat32(d);
}

static bool went_down(const tw_hist *cur, const tw_hist *prev, size_t nb)
{
	for (size_t i = 0; i < nb; i++)
		if (cur->bucket[i] < prev->bucket[i])
			return true;
	return false;
}

/* Turns h->prev into the difference cur - prev (or cur after a restart),
 * fills the point's quantiles from it, then keeps cur as the new prev. */
static void rtt_delta(tw_history *h, const tw_hist *cur, tw_history_point *pt)
{
	tw_hist *d = h->prev;
	if (!cur) {
		h->layout = 0;
		memset(d, 0, PREV_BYTES);
		return;
	}
	size_t nb = cur->bounds->n + 1;
	uint64_t layout = layout_of(cur->bounds);
	bool restarted = h->layout != 0 && (layout != h->layout || went_down(cur, d, nb));
	d->count = 0;
	for (size_t i = 0; i < nb; i++) {
		d->bucket[i] = restarted ? cur->bucket[i] : cur->bucket[i] - d->bucket[i];
		d->count += d->bucket[i];
	}
	d->bounds = cur->bounds;
	if (restarted)
		pt->flags |= TW_HISTORY_RESET;
	if (d->count > 0) {
		pt->flags |= TW_HISTORY_HAS_RTT;
		for (size_t k = 0; k < TW_HISTORY_NQ; k++)
			tw_hist_quantile(d, tw_history_quantiles[k], &pt->q[k]);
	}
	memcpy(d->bucket, cur->bucket, nb * sizeof(d->bucket[0]));
	d->count = cur->count;
	h->layout = layout;
}

void tw_history_snapshot(tw_history *h, const tw_history_input *in)
{
	tw_history_point *pt = &h->pts[h->next];
	bool reset = false;
	memset(pt, 0, sizeof(*pt));
	pt->sent = counter_delta(in->sent, &h->sent, &reset);
	pt->received = counter_delta(in->received, &h->received, &reset);
	pt->lost = counter_delta(in->lost, &h->lost, &reset);
	if (reset)
		pt->flags |= TW_HISTORY_RESET;
	rtt_delta(h, in->rtt, pt);
	h->next = (h->next + 1) % h->cap;
	if (h->len < h->cap)
		h->len++;
}

size_t tw_history_capacity(const tw_history *h)
{
	return h->cap;
}

size_t tw_history_len(const tw_history *h)
{
	return h->len;
}

const tw_history_point *tw_history_at(const tw_history *h, size_t i)
{
	if (i >= h->len)
		return NULL;
	size_t oldest = (h->next + h->cap - h->len) % h->cap;
	return &h->pts[(oldest + i) % h->cap];
}

const tw_history_point *tw_history_last(const tw_history *h)
{
	return h->len ? tw_history_at(h, h->len - 1) : NULL;
}

int tw_history_loss_bp(uint64_t received, uint64_t lost)
{
	bool any = lost > 0;
	/* halve both until lost * 10000 and the sum fit: the ratio stays */
	while (lost > UINT64_MAX / 10000 || received > UINT64_MAX / 2) {
		lost >>= 1;
		received >>= 1;
	}
	uint64_t decided = received + lost;
	if (decided == 0)
		return any ? 10000 : -1;
	uint64_t bp = (lost * 10000 + decided / 2) / decided;
	if (bp == 0 && any)
		bp = 1;
	return (int)bp;
}

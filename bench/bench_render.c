/*
 * bench_render.c - /metrics rendering cost for agent-shaped registries.
 *
 * Each session has the series the agent exposes per target (72: the RTT
 * and both one-way delay histograms with 16 buckets, 8 counters, 7 gauges;
 * labels target, dscp, direction). For 1,000 and 10,000 sessions the
 * exporter's render and gzip are timed (best of several runs) next to
 * baselines measured in the same run on the same machine:
 *
 *   memcpy  copying as many bytes as the rendering produces (a floor)
 *   naive   formatting the same lines with snprintf("%s{...} %g"), labels
 *           and numbers rebuilt every time, as simple exporters do
 *
 * Only ratios and sizes are meaningful across machines; nothing here
 * asserts a time. Usage: bench_render [--quick|--full] (quick by default).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gzip.h"
#include "prom.h"
#include "registry.h"

#define NCOUNTERS 8
#define NGAUGES 7
#define NHIST 3
#define SERIES_PER_SESSION (NCOUNTERS + NGAUGES + NHIST * (16 + 3))

struct family_def {
	tw_metric_type type;
	const char *name;
	const char *dir; /* direction label value, or NULL */
};

/* One family per entry; families with a direction appear twice (same name,
 * different direction) and are registered once. */
static const struct family_def defs[] = {
	{ TW_METRIC_COUNTER, "twamp_test_packets_sent_total", NULL },
	{ TW_METRIC_COUNTER, "twamp_test_packets_received_total", NULL },
	{ TW_METRIC_COUNTER, "twamp_test_packets_lost_total", NULL },
	{ TW_METRIC_COUNTER, "twamp_test_packets_late_total", NULL },
	{ TW_METRIC_COUNTER, "twamp_test_packets_duplicated_total", "forward" },
	{ TW_METRIC_COUNTER, "twamp_test_packets_duplicated_total", "backward" },
	{ TW_METRIC_COUNTER, "twamp_test_packets_reordered_total", "forward" },
	{ TW_METRIC_COUNTER, "twamp_test_packets_reordered_total", "backward" },
	{ TW_METRIC_GAUGE, "twamp_rtt_jitter_seconds", NULL },
	{ TW_METRIC_GAUGE, "twamp_one_way_jitter_seconds", "forward" },
	{ TW_METRIC_GAUGE, "twamp_one_way_jitter_seconds", "backward" },
	{ TW_METRIC_GAUGE, "twamp_received_ttl", "forward" },
	{ TW_METRIC_GAUGE, "twamp_received_ttl", "backward" },
	{ TW_METRIC_GAUGE, "twamp_session_up", NULL },
	{ TW_METRIC_GAUGE, "twamp_error_estimate_seconds", NULL },
	{ TW_METRIC_HISTOGRAM, "twamp_rtt_seconds", NULL },
	{ TW_METRIC_HISTOGRAM, "twamp_one_way_delay_seconds", "forward" },
	{ TW_METRIC_HISTOGRAM, "twamp_one_way_delay_seconds", "backward" },
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

struct session {
	char target[48];
	const char *dscp;
	void *h[NDEFS]; /* tw_counter / tw_gauge / tw_hist per def */
};

struct bench {
	tw_registry *r;
	tw_family *fam[NDEFS];
	tw_hist_bounds bounds;
	struct session *s;
	size_t n;
};

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_render: %s failed (%d)\n", what, rc);
	exit(1);
}

static void register_families(struct bench *b)
{
	static const char *const l2[] = { "target", "dscp" };
	static const char *const l3[] = { "target", "dscp", "direction" };
	for (size_t i = 0; i < NDEFS; i++) {
		b->fam[i] = tw_registry_find(b->r, defs[i].name);
		if (b->fam[i])
			continue;
		tw_family_spec spec = { defs[i].type, defs[i].name, "Benchmark family.",
			defs[i].dir ? l3 : l2, defs[i].dir ? 3 : 2, &b->bounds, TW_HIST_NS_AS_SECONDS };
		int rc = tw_registry_add(b->r, &spec, &b->fam[i]);
		if (rc < 0)
			die("tw_registry_add", rc);
	}
}

static void fill(const struct family_def *d, void *h)
{
	if (d->type == TW_METRIC_COUNTER) {
		tw_counter_add(h, rng() % 10000000);
	} else if (d->type == TW_METRIC_GAUGE) {
		tw_gauge_set_ns(h, (int64_t)(rng() % 5000000));
	} else {
		for (int k = 0; k < 200; k++)
			tw_hist_observe(h, (int64_t)(rng() % 300000000));
	}
}

static void add_session(struct bench *b, struct session *s, size_t i)
{
	snprintf(s->target, sizeof(s->target), "node-%05zu.mesh.example.net", i);
	s->dscp = i % 4 ? "0" : "46";
	for (size_t k = 0; k < NDEFS; k++) {
		const char *v[] = { s->target, s->dscp, defs[k].dir };
		tw_counter *c = NULL;
		tw_gauge *g = NULL;
		tw_hist *h = NULL;
		int rc = defs[k].type == TW_METRIC_COUNTER ? tw_registry_counter(b->fam[k], v, &c)
			: defs[k].type == TW_METRIC_GAUGE ? tw_registry_gauge(b->fam[k], v, &g)
			: tw_registry_hist(b->fam[k], v, &h);
		s->h[k] = c ? (void *)c : g ? (void *)g : (void *)h;
		if (rc < 0)
			die("series creation", rc);
		fill(&defs[k], s->h[k]);
	}
}

static void bench_build(struct bench *b, size_t n)
{
	memset(b, 0, sizeof(*b));
	b->r = tw_registry_new();
	b->s = calloc(n, sizeof(*b->s));
	if (!b->r || !b->s)
		die("allocation", -12);
	tw_hist_bounds_delay(&b->bounds);
	register_families(b);
	b->n = n;
	for (size_t i = 0; i < n; i++)
		add_session(b, &b->s[i], i);
}

/* ---- the naive baseline: every line rebuilt with snprintf ---- */

static size_t naive_line(char *o, size_t cap, const struct family_def *d, const struct session *s,
	const char *suffix, const char *le, double v)
{
	char labels[160];
	if (d->dir)
		snprintf(labels, sizeof(labels), "target=\"%s\",dscp=\"%s\",direction=\"%s\"", s->target,
			s->dscp, d->dir);
	else
		snprintf(labels, sizeof(labels), "target=\"%s\",dscp=\"%s\"", s->target, s->dscp);
	int w = le ? snprintf(o, cap, "%s%s{%s,le=\"%s\"} %.17g\n", d->name, suffix, labels, le, v)
		   : snprintf(o, cap, "%s%s{%s} %.17g\n", d->name, suffix, labels, v);
	return w > 0 && (size_t)w < cap ? (size_t)w : 0;
}

static size_t naive_hist(char *o, size_t cap, const struct family_def *d, const struct session *s,
	const tw_hist *h)
{
	size_t n = 0;
	uint64_t cum = 0;
	for (size_t i = 0; i <= h->bounds->n; i++) {
		char le[32];
		cum += h->bucket[i];
		if (i < h->bounds->n)
			snprintf(le, sizeof(le), "%g", (double)h->bounds->le[i] / 1e9);
		else
			snprintf(le, sizeof(le), "+Inf");
		n += naive_line(o + n, cap - n, d, s, "_bucket", le, (double)cum);
	}
	n += naive_line(o + n, cap - n, d, s, "_sum", NULL, (double)h->sum / 1e9);
	n += naive_line(o + n, cap - n, d, s, "_count", NULL, (double)h->count);
	return n;
}

static size_t naive_render(const struct bench *b, char *o, size_t cap)
{
	size_t n = 0;
	for (size_t k = 0; k < NDEFS; k++) {
		n += (size_t)snprintf(o + n, cap - n, "# HELP %s Benchmark family.\n# TYPE %s x\n",
			defs[k].name, defs[k].name);
		for (size_t i = 0; i < b->n; i++) {
			const struct session *s = &b->s[i];
			void *h = s->h[k];
			if (defs[k].type == TW_METRIC_HISTOGRAM)
				n += naive_hist(o + n, cap - n, &defs[k], s, h);
			else
				n += naive_line(o + n, cap - n, &defs[k], s, "", NULL,
					defs[k].type == TW_METRIC_COUNTER ? (double)((tw_counter *)h)->v
									  : ((tw_gauge *)h)->v);
		}
	}
	return n;
}

/* ---- measurement ---- */

struct timing {
	double render, gzip, memcpy_, naive;
	size_t bytes, gz_bytes, naive_bytes;
};

static double best(double a, double b)
{
	return a < b ? a : b;
}

static void measure(struct bench *b, int reps, struct timing *t)
{
	tw_buf text, gz;
	tw_buf_init(&text, 0);
	tw_buf_init(&gz, 0);
	tw_gzip *g = tw_gzip_new(1);
	t->render = t->gzip = t->memcpy_ = t->naive = 1e9;
	char *copy = NULL, *naive = NULL;
	size_t naive_cap = 0;
	for (int r = 0; r < reps; r++) {
		tw_buf_clear(&text);
		double t0 = now_s();
		int rc = tw_prom_render(b->r, &text);
		t->render = best(t->render, now_s() - t0);
		if (rc < 0)
			die("tw_prom_render", rc);
		t->bytes = text.len;
		tw_buf_clear(&gz);
		t0 = now_s();
		if ((rc = tw_gzip_compress(g, text.data, text.len, &gz)) < 0)
			die("tw_gzip_compress", rc);
		t->gzip = best(t->gzip, now_s() - t0);
		t->gz_bytes = gz.len;
		if (!copy) {
			naive_cap = text.len * 2;
			copy = malloc(text.len);
			naive = malloc(naive_cap);
			if (!copy || !naive)
				die("allocation", -12);
			memset(copy, 1, text.len); /* fault the pages in before timing */
			memset(naive, 1, naive_cap);
		}
		t0 = now_s();
		memcpy(copy, text.data, text.len);
		t->memcpy_ = best(t->memcpy_, now_s() - t0);
		if (copy[text.len / 2] != text.data[text.len / 2])
			die("memcpy check", -1);
		t0 = now_s();
		t->naive_bytes = naive_render(b, naive, naive_cap);
		t->naive = best(t->naive, now_s() - t0);
	}
	free(copy);
	free(naive);
	tw_gzip_free(g);
	tw_buf_fini(&text);
	tw_buf_fini(&gz);
}

static void report(size_t sessions, const struct bench *b, size_t base_mem, const struct timing *t,
	int reps)
{
	size_t mem = tw_registry_memory(b->r) - base_mem;
	printf("\n%zu sessions, %zu series (%d per session), best of %d\n", sessions,
		sessions * SERIES_PER_SESSION, SERIES_PER_SESSION, reps);
	printf("  registry memory       %10.1f KiB total, %7.0f bytes/session, %5.1f bytes/series\n",
		(double)mem / 1024, (double)mem / (double)sessions,
		(double)mem / (double)(sessions * SERIES_PER_SESSION));
	printf("  text                  %10.2f MiB (%.0f bytes/session); gzip %.2f MiB (%.1fx smaller)\n",
		(double)t->bytes / 1048576, (double)t->bytes / (double)sessions,
		(double)t->gz_bytes / 1048576, (double)t->bytes / (double)t->gz_bytes);
	printf("  render   / memcpy     %10.1fx   (render %.1f ms; memcpy of the same bytes %.2f ms)\n",
		t->render / t->memcpy_, t->render * 1e3, t->memcpy_ * 1e3);
	printf("  render   / naive      %10.2fx   (naive snprintf of the same lines %.1f ms, %.2f MiB)\n",
		t->render / t->naive, t->naive * 1e3, (double)t->naive_bytes / 1048576);
	printf("  gzip -1  / render     %10.2fx   (gzip %.1f ms; gzip / memcpy %.0fx)\n",
		t->gzip / t->render, t->gzip * 1e3, t->gzip / t->memcpy_);
}

int main(int argc, char **argv)
{
	int full = argc > 1 && strcmp(argv[1], "--full") == 0;
	if (argc > 1 && !full && strcmp(argv[1], "--quick") != 0) {
		fprintf(stderr, "usage: bench_render [--quick|--full]\n");
		return 2;
	}
	static const size_t sizes[] = { 1000, 10000 };
	printf("bench_render (%s): /metrics rendering vs baselines measured in this run\n",
		full ? "full" : "quick");
	for (size_t i = 0; i < 2; i++) {
		int reps = full ? 10 : (sizes[i] >= 10000 ? 2 : 5);
		struct bench b;
		tw_registry *empty = tw_registry_new();
		size_t base_mem = tw_registry_memory(empty);
		tw_registry_free(empty);
		bench_build(&b, sizes[i]);
		struct timing t;
		measure(&b, reps, &t);
		report(sizes[i], &b, base_mem, &t, reps);
		tw_registry_free(b.r);
		free(b.s);
	}
	return 0;
}

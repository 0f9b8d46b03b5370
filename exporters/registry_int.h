/*
 * registry_int.h - the registry's internals, shared with the renderer
 * (prom.c) only. Not part of the public API.
 */
#ifndef TW_REGISTRY_INT_H
#define TW_REGISTRY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "registry.h"

#define TW_LE_TEXT_MAX 40 /* le="<number>" plus NUL */

/* One bucket layout of a histogram family: its bounds and their rendered
 * le="..." texts. A family has its default layout first, then one per
 * distinct bounds a series asked for. */
typedef struct tw_hist_layout {
	struct tw_hist_layout *next;
	tw_hist_bounds bounds;
	char (*le)[TW_LE_TEXT_MAX];    /* bounds.n + 1 texts, the last "+Inf" */
	size_t *le_len;
	size_t le_max;                 /* longest le text */
} tw_hist_layout;

typedef struct tw_series {
	struct tw_family *fam;
	const tw_hist_layout *layout;  /* histograms only */
	struct tw_series *prev, *next; /* family order (creation order) */
	struct tw_series *hnext;       /* hash chain */
	uint64_t hash;
	const char *labels;            /* escaped a="x",b="y"; "" when none */
	size_t labels_len;
	size_t alloc;                  /* bytes allocated, for accounting */
	union {
		tw_counter c;
		tw_gauge g;
	} v;
} tw_series;

/* Histogram series keep their tw_hist at this offset in the allocation. */
#define TW_SERIES_HIST_OFFSET ((sizeof(tw_series) + 15) & ~(size_t)15)

static inline tw_hist *tw_series_hist(tw_series *s)
{
	return (tw_hist *)(void *)((char *)s + TW_SERIES_HIST_OFFSET);
}

struct tw_family {
	tw_registry *reg;
	struct tw_family *next;        /* registration order */
	tw_metric_type type;
	char *name;
	size_t name_len;
	char *header;                  /* "# HELP ...\n# TYPE ...\n" */
	size_t header_len;
	char **label_names;
	size_t nlabels;
	tw_hist_unit unit;
	tw_hist_layout *layouts;       /* histograms: default layout first */
	tw_series *head, *tail;
	size_t nseries;
	tw_series **table;             /* hash buckets, power-of-two size */
	size_t table_size;
};

struct tw_collector {
	tw_collector_fn fn;
	void *arg;
};

struct tw_registry {
	struct tw_family *families, *last;
	struct tw_collector *collectors;
	size_t ncollectors;
	size_t memory;
	tw_buf scratch;                /* label text under construction */
};

#endif /* TW_REGISTRY_INT_H */

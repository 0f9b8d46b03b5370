/*
 * scrape.h - the ready-made /metrics handler: renders a registry into a
 * reusable capped buffer, gzips it when the scraper's Accept-Encoding
 * allows, and answers with Content-Type "text/plain; version=0.0.4;
 * charset=utf-8" (and Vary: Accept-Encoding).
 *
 *   tw_scrape *s = tw_scrape_new(reg, NULL);
 *   tw_http_route(http, "GET", "/metrics", tw_scrape_handler, s);
 */
#ifndef TW_SCRAPE_H
#define TW_SCRAPE_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "registry.h"

typedef struct tw_scrape tw_scrape;

typedef struct tw_scrape_options {
	size_t max_bytes;   /* cap on the rendered text; 0 = 256 MiB */
	int gzip_level;     /* 1..9; 0 = 1 (fast: metrics text compresses well) */
} tw_scrape_options;

typedef struct tw_scrape_stats {
	uint64_t scrapes;        /* responses produced */
	uint64_t errors;         /* renders that failed (cap exceeded, collector) */
	size_t last_bytes;       /* size of the last rendered text */
	size_t last_gzip_bytes;  /* size of the last gzip body, 0 if none */
} tw_scrape_stats;

/* r is borrowed and must outlive the handler. opts may be NULL. Returns
 * NULL on ENOMEM. tw_scrape_free is NULL-safe. */
tw_scrape *tw_scrape_new(tw_registry *r, const tw_scrape_options *opts);
void tw_scrape_free(tw_scrape *s);

/* tw_http_handler (arg: the tw_scrape). A failed render answers 500 with
 * the reason in the body. */
int tw_scrape_handler(void *arg, const tw_http_request *req, tw_http_response *resp);

tw_scrape_stats tw_scrape_get_stats(const tw_scrape *s);

#endif /* TW_SCRAPE_H */

/*
 * status.h - the status page at "/": the agent's version, uptime and
 * configuration state, links to the telemetry and health endpoints, one
 * table row per session (RTT p50/p99, loss, jitter, state, last error) and
 * per session a smokeping-style chart of the last hour as inline SVG:
 * shaded RTT percentile bands (p5-p95, p10-p90, p25-p75) per period, the
 * median coloured by that period's loss, and a loss strip under the plot.
 *
 * The page is plain HTML with a small inline style sheet: no script, no
 * external resource. Every text from the configuration or discovery is
 * escaped, and invalid UTF-8 or control characters become U+FFFD, so the
 * output is valid UTF-8 whatever the names. Its size is bounded: at most
 * max_rows table rows and max_charts charts, with a note about the rest.
 *
 * Two layers: tw_status_render() is pure (values in, bytes out) and is
 * what the tests drive; the tw_status object below it keeps one history
 * (history.h) per probe of the agent, snapshots them on a timer and
 * serves the page.
 */
#ifndef TW_STATUS_H
#define TW_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "histogram.h"
#include "history.h"
#include "http.h"

#define TW_STATUS_MAX_ROWS 1000
#define TW_STATUS_MAX_CHARTS 50
#define TW_STATUS_PAGE_MAX (16u << 20) /* bytes; the rows and charts caps keep well below */

/* Loss colouring of a period: none (green), some (yellow), heavy (red,
 * from this many hundredths of a percent), and grey without packets. */
#define TW_STATUS_HEAVY_LOSS_BP 1000

/* ---- the page (pure) ---- */

typedef struct tw_status_session {
	const char *name, *host; /* from the configuration; any bytes */
	const char *address;     /* resolved address, "" before */
	const char *state;       /* tw_probe_state_name() */
	const char *last_error;  /* NULL or "" when none */
	const tw_hist *rtt;      /* cumulative since the start; may be NULL */
	uint64_t sent, received, lost; /* cumulative */
	int64_t jitter_ns;       /* current RTT jitter (smoothed IPDV) */
	const tw_history *history; /* NULL before the first snapshot */
} tw_status_session;

typedef struct tw_status_page {
	const char *version, *revision;
	int64_t now_real_ns, start_real_ns; /* wall clock: uptime */
	const char *config_source;
	const char *reload_error;   /* NULL or "": the last reload succeeded */
	int64_t reload_real_ns;     /* wall clock of the last good load; 0 unknown */
	const char *telemetry_path;
	int64_t period_ns;          /* one history point covers this long */
	const tw_status_session *sessions;
	size_t nsessions;
	size_t nsessions_total;     /* sessions in all, when only the first
	                             * nsessions are passed (0: nsessions) */
	size_t max_rows, max_charts; /* 0: TW_STATUS_MAX_ROWS / TW_STATUS_MAX_CHARTS */
} tw_status_page;

/* Appends the whole page to b. Returns 0, or b's sticky error (-ENOBUFS
 * when the page exceeds b's cap, -ENOMEM). */
int tw_status_render(tw_buf *b, const tw_status_page *p);

/* Appends s as HTML text or attribute value: & < > " ' escaped, invalid
 * UTF-8 and C0 controls other than tab/newline replaced by U+FFFD. NULL
 * appends nothing. Returns 0 or b's error. */
int tw_status_escape(tw_buf *b, const char *s);

/* ---- the agent's histories and page ---- */

typedef struct tw_agent tw_agent;
typedef struct tw_status tw_status;

/* Default period of one history point; the environment variable
 * TW_HISTORY_PERIOD_MS (100 .. 3600000) overrides it, for tests only. */
#define TW_STATUS_PERIOD_NS (60LL * 1000000000LL)

/* Creates a->status and arms its timer on a->loop: every period each of
 * a->probes gets a snapshot in its history (created at its first tick,
 * dropped once the probe is gone). Returns 0 or -ENOMEM. */
int tw_status_start(tw_agent *a);
/* Stops the timer and frees everything; call before the loop is freed.
 * NULL-safe. */
void tw_status_free(tw_status *s);

/* The HTTP handler of "/" (arg: the tw_agent). The body lives in a buffer
 * of a->status, reused between requests. */
int tw_status_handler(void *arg, const tw_http_request *req, tw_http_response *resp);

/* ---- the keyed history table (used by the above; exposed for tests) ---- */

/* One session at a tick: key identifies the probe (its pointer), ident
 * tells a new session at a reused address apart (e.g. a hash of its
 * name). */
typedef struct tw_status_sample {
	const void *key;
	uint64_t ident;
	tw_history_input in;
} tw_status_sample;

/* A table with histories of points points each, one point per period_ns.
 * NULL on ENOMEM or bad arguments. */
tw_status *tw_status_new(size_t points, int64_t period_ns);
int64_t tw_status_period_ns(const tw_status *s);
/* Snapshots every sample into its history (new keys get a new history,
 * keys absent from v lose theirs). Returns 0, or -ENOMEM when a new
 * history could not be created (that session is skipped this time). */
int tw_status_tick(tw_status *s, const tw_status_sample *v, size_t n);
/* The history of key (with ident), or NULL. */
const tw_history *tw_status_history(const tw_status *s, const void *key, uint64_t ident);
size_t tw_status_count(const tw_status *s);

#endif /* TW_STATUS_H */

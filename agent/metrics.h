/*
 * metrics.h - the agent's metric vocabulary: every family it exports
 * (names, help, labels, buckets) and the series bundle of one configured
 * target. Contract: ../shared/guides/metrics-and-ops.md; README "Metrics".
 *
 * A target's series are created when it is configured (all zero, so
 * dashboards see it before its first reply) and removed at once when it
 * leaves the configuration. Labels: target, dscp, then direction/reason/
 * side where the family has them, then the target's user labels.
 */
#ifndef TW_METRICS_H
#define TW_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "registry.h"

enum { TW_DIR_FWD = 0, TW_DIR_BWD = 1 };
enum { TW_SIDE_LOCAL = 0, TW_SIDE_REMOTE = 1 };
enum { TW_SKIP_UNSYNC = 0, TW_SKIP_NEGATIVE = 1 };

/* STAMP TLV outcomes in replies (RFC 8972 flags). */
enum {
	TW_TLV_RESULT_PROCESSED = 0,  /* answered by the reflector (U clear) */
	TW_TLV_RESULT_UNRECOGNIZED,   /* U set: the reflector does not know it */
	TW_TLV_RESULT_MALFORMED,      /* M set */
	TW_TLV_RESULT_INTEGRITY,      /* I set or the HMAC TLV failed */
	TW_TLV_RESULT_COUNT
};

/* Why a target's session could not be established or was lost. */
typedef enum tw_fail_reason {
	TW_FAIL_RESOLVE = 0,
	TW_FAIL_CONNECT,
	TW_FAIL_REFUSED,
	TW_FAIL_AUTH,
	TW_FAIL_SERVER,
	TW_FAIL_KDF_COUNT,
	TW_FAIL_PROTOCOL,
	TW_FAIL_TIMEOUT,
	TW_FAIL_CLOSED,
	TW_FAIL_SESSION_REFUSED,
	TW_FAIL_SOCKET,
	TW_FAIL_KEYS,
	TW_FAIL_COUNT
} tw_fail_reason;

const char *tw_fail_reason_name(tw_fail_reason r);

typedef struct tw_target_series {
	tw_counter *sent, *received, *lost, *late;
	tw_counter *duplicated[2], *reordered[2], *ttl_changes[2];
	tw_counter *owd_skipped[2][2]; /* [direction][TW_SKIP_*] */
	tw_counter *attempts, *failures[TW_FAIL_COUNT];
	tw_hist *rtt, *owd[2], *proc;
	tw_hist *ipdv[2]; /* NULL unless ipdv_histogram */
	tw_gauge *rtt_jitter, *owd_jitter[2], *ttl[2], *up;
	tw_gauge *clock_sync[2], *errest[2]; /* [TW_SIDE_*] */
	tw_counter *remarked[2];       /* DSCP seen differs from the one asked for */
	tw_gauge *rx_dscp[2], *rx_ecn[2]; /* last DSCP / ECN seen per direction */
	tw_counter *tlv[TW_TLV_RESULT_COUNT]; /* STAMP: what replies said of our TLVs */
} tw_target_series;

/* Agent-wide series. */
typedef struct tw_agent_series {
	tw_gauge *reload_ok, *reload_ts;
	tw_hist *send_lag;
	tw_hist *refl_proc;
	tw_counter *dns_lookups[2]; /* [0] ok, [1] failed */
} tw_agent_series;

typedef struct tw_metrics tw_metrics;

/* Registers every family in r (which must outlive the result). Returns NULL
 * on ENOMEM or a registry error. */
tw_metrics *tw_metrics_new(tw_registry *r);
void tw_metrics_free(tw_metrics *m); /* NULL-safe; the families stay in r */

const tw_agent_series *tw_metrics_agent(const tw_metrics *m);
tw_registry *tw_metrics_registry(const tw_metrics *m);

/* Creates (or finds) every series of target t. Returns 0 or a negative
 * errno (then nothing was created). */
int tw_metrics_target_add(tw_metrics *m, const tw_config_target *t, tw_target_series *out);
/* Removes every series of the bundle. */
void tw_metrics_target_remove(tw_target_series *s);
/* Re-creates the delay histograms with t's buckets (they restart from
 * zero; counters keep their values). Returns 0 or a negative errno. */
int tw_metrics_target_rebucket(tw_metrics *m, const tw_config_target *t, tw_target_series *s);

/* Delay histogram bounds of a target's settings (default, smokeping or
 * custom). */
void tw_metrics_delay_bounds(const tw_config_settings *s, tw_hist_bounds *out);

#endif /* TW_METRICS_H */

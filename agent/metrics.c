/* metrics.c - the agent's families and per-target series (see metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Label sets: target + dscp, then the family's own. */
enum { L_T, L_TD, L_TDR, L_TR, L_TS, L_R, L_NONE, L_TRES };

static const char *const label_sets[][4] = {
	[L_T] = { "target", "dscp" },
	[L_TD] = { "target", "dscp", "direction" },
	[L_TDR] = { "target", "dscp", "direction", "reason" },
	[L_TR] = { "target", "dscp", "reason" },
	[L_TS] = { "target", "dscp", "side" },
	[L_R] = { "result" },
	[L_NONE] = { 0 },
	[L_TRES] = { "target", "dscp", "result" },
};
static const size_t label_counts[] = { 2, 3, 4, 3, 3, 1, 0, 3 };

/* Which bucket layout a histogram family starts with. */
enum { B_NONE, B_DELAY, B_PROC, B_IPDV };

enum fam_id {
	F_SENT, F_RECEIVED, F_LOST, F_LATE, F_DUP, F_REORD, F_SKIPPED, F_TTL_CHANGES, F_ATTEMPTS, F_FAILURES,
	F_RTT, F_OWD, F_PROC, F_IPDV, F_RTT_JITTER, F_OWD_JITTER, F_TTL, F_UP, F_CLOCK_SYNC, F_ERREST,
	F_REMARKED, F_RX_DSCP, F_RX_ECN, F_TLV,
	F_RELOAD_OK, F_RELOAD_TS, F_SEND_LAG, F_REFL_PROC, F_DNS,
	F_COUNT
};

static const struct fam_def {
	tw_metric_type type;
	const char *name;
	const char *help;
	int labels;
	int buckets;
} defs[F_COUNT] = {
	[F_SENT] = { TW_METRIC_COUNTER, "twamp_test_packets_sent_total", "Test packets sent.", L_T, B_NONE },
	[F_RECEIVED] = { TW_METRIC_COUNTER, "twamp_test_packets_received_total",
			 "Unique replies received before the loss timeout.", L_T, B_NONE },
	[F_LOST] = { TW_METRIC_COUNTER, "twamp_test_packets_lost_total",
		     "Test packets whose loss timeout expired without a reply.", L_T, B_NONE },
	[F_LATE] = { TW_METRIC_COUNTER, "twamp_test_packets_late_total",
		     "Replies that arrived after their packet was counted lost.", L_T, B_NONE },
	[F_DUP] = { TW_METRIC_COUNTER, "twamp_test_packets_duplicated_total",
		    "Duplicated packets: forward = the reflector received a test packet twice, backward = a reply "
		    "arrived twice.", L_TD, B_NONE },
	[F_REORD] = { TW_METRIC_COUNTER, "twamp_test_packets_reordered_total",
		      "Reordered packets per direction (RFC 4737).", L_TD, B_NONE },
	[F_SKIPPED] = { TW_METRIC_COUNTER, "twamp_one_way_delay_skipped_total",
			"One-way delays left out of the histogram: unsynchronized clocks or a negative value.",
			L_TDR, B_NONE },
	[F_TTL_CHANGES] = { TW_METRIC_COUNTER, "twamp_received_ttl_changes_total",
			    "Changes of the received TTL / hop limit (path changes).", L_TD, B_NONE },
	[F_ATTEMPTS] = { TW_METRIC_COUNTER, "twamp_control_connection_attempts_total",
			 "TWAMP-Control sessions attempted.", L_T, B_NONE },
	[F_FAILURES] = { TW_METRIC_COUNTER, "twamp_control_connection_failures_total",
			 "TWAMP-Control sessions that failed or were lost, by reason.", L_TR, B_NONE },
	[F_RTT] = { TW_METRIC_HISTOGRAM, "twamp_rtt_seconds",
		    "Round-trip time without the reflector's processing time, (T4-T1)-(T3-T2).", L_T, B_DELAY },
	[F_OWD] = { TW_METRIC_HISTOGRAM, "twamp_one_way_delay_seconds",
		    "One-way delay (T2-T1 forward, T4-T3 backward), only when both clocks report synchronized.",
		    L_TD, B_DELAY },
	[F_PROC] = { TW_METRIC_HISTOGRAM, "twamp_remote_processing_seconds",
		     "Reflector processing time T3-T2 reported by the reflector.", L_T, B_PROC },
	[F_IPDV] = { TW_METRIC_HISTOGRAM, "twamp_ipdv_seconds",
		     "Inter-packet delay variation of consecutive packets (RFC 3393).", L_TD, B_IPDV },
	[F_RTT_JITTER] = { TW_METRIC_GAUGE, "twamp_rtt_jitter_seconds",
			   "Round-trip jitter, RFC 3550 smoothed interarrival jitter.", L_T, B_NONE },
	[F_OWD_JITTER] = { TW_METRIC_GAUGE, "twamp_one_way_jitter_seconds",
			   "One-way jitter, RFC 3550 smoothed (needs no clock synchronization).", L_TD, B_NONE },
	[F_TTL] = { TW_METRIC_GAUGE, "twamp_received_ttl",
		    "Last received TTL / hop limit: forward = seen by the reflector, backward = seen here.", L_TD,
		    B_NONE },
	[F_UP] = { TW_METRIC_GAUGE, "twamp_session_up", "1 when the test session is established.", L_T, B_NONE },
	[F_CLOCK_SYNC] = { TW_METRIC_GAUGE, "twamp_clock_synchronized",
			   "1 when the clock reports synchronization (local: adjtimex, remote: Error Estimate S bit).",
			   L_TS, B_NONE },
	[F_ERREST] = { TW_METRIC_GAUGE, "twamp_error_estimate_seconds",
		       "Timestamp error bound (local: adjtimex, remote: the reflector's Error Estimate).", L_TS,
		       B_NONE },
	[F_REMARKED] = { TW_METRIC_COUNTER, "twamp_dscp_remarked_total",
			 "Replies showing a DSCP other than the one asked for: forward as the reflector received it "
			 "(RFC 7750 monitoring or the STAMP Class of Service TLV), backward as received here.",
			 L_TD, B_NONE },
	[F_RX_DSCP] = { TW_METRIC_GAUGE, "twamp_received_dscp",
			"Last DSCP seen: forward by the reflector (when it reports it), backward here.", L_TD,
			B_NONE },
	[F_RX_ECN] = { TW_METRIC_GAUGE, "twamp_received_ecn",
		       "Last ECN codepoint seen: forward by the reflector (when it reports it), backward here.",
		       L_TD, B_NONE },
	[F_TLV] = { TW_METRIC_COUNTER, "twamp_stamp_tlv_results_total",
		    "STAMP TLVs in replies by outcome: processed, unrecognized (U), malformed (M), integrity (I).",
		    L_TRES, B_NONE },
	[F_RELOAD_OK] = { TW_METRIC_GAUGE, "twamp_agent_config_last_reload_successful",
			  "1 when the last configuration load succeeded.", L_NONE, B_NONE },
	[F_RELOAD_TS] = { TW_METRIC_GAUGE, "twamp_agent_config_last_reload_success_timestamp_seconds",
			  "Time of the last successful configuration load.", L_NONE, B_NONE },
	[F_SEND_LAG] = { TW_METRIC_HISTOGRAM, "twamp_agent_send_lag_seconds",
			 "Actual minus scheduled send time of test packets (scheduler overload).", L_NONE, B_PROC },
	[F_REFL_PROC] = { TW_METRIC_HISTOGRAM, "twamp_reflector_processing_seconds",
			  "Time from receiving a test packet to reflecting it (T3-T2).", L_NONE, B_PROC },
	[F_DNS] = { TW_METRIC_COUNTER, "twamp_agent_dns_lookups_total", "Name resolutions of targets, by result.",
		    L_R, B_NONE },
};

static const char *const fail_names[TW_FAIL_COUNT] = {
	"resolve", "connect", "refused", "authentication", "server_refused", "kdf_count",
	"protocol", "timeout", "closed", "session_refused", "socket", "keys",
};

static const char *const dir_names[2] = { "forward", "backward" };
static const char *const side_names[2] = { "local", "remote" };
static const char *const skip_names[2] = { "unsynchronized", "negative" };
static const char *const tlv_result_names[TW_TLV_RESULT_COUNT] = { "processed", "unrecognized", "malformed",
								     "integrity" };

struct tw_metrics {
	tw_registry *reg;
	tw_family *fam[F_COUNT];
	tw_agent_series agent;
};

const char *tw_fail_reason_name(tw_fail_reason r)
{
	return (unsigned)r < TW_FAIL_COUNT ? fail_names[r] : "unknown";
}

/* ---- bucket layouts ---- */

void tw_metrics_delay_bounds(const tw_config_settings *s, tw_hist_bounds *out)
{
	if (s->buckets.preset == TW_CONFIG_BUCKETS_SMOKEPING)
		tw_hist_bounds_smokeping(out);
	else if (s->buckets.preset == TW_CONFIG_BUCKETS_CUSTOM && s->buckets.n &&
		 tw_hist_bounds_init(out, s->buckets.le_ns, s->buckets.n) == 0)
		return;
	else
		tw_hist_bounds_delay(out);
}

/* IPDV is signed: the delay bounds mirrored around 0. */
static void ipdv_bounds(const tw_hist_bounds *delay, tw_hist_bounds *out)
{
	int64_t le[TW_HIST_MAX_BOUNDS];
	size_t half = delay->n > (TW_HIST_MAX_BOUNDS - 1) / 2 ? (TW_HIST_MAX_BOUNDS - 1) / 2 : delay->n;
	size_t skip = delay->n - half; /* keep the largest bounds when too many */
	size_t n = 0;
	for (size_t i = delay->n; i-- > skip;)
		le[n++] = -delay->le[i];
	le[n++] = 0;
	for (size_t i = skip; i < delay->n; i++)
		le[n++] = delay->le[i];
	if (tw_hist_bounds_init(out, le, n) < 0)
		tw_hist_bounds_delay(out);
}

static void family_bounds(int kind, tw_hist_bounds *out)
{
	tw_hist_bounds d;
	if (kind == B_PROC) {
		tw_hist_bounds_processing(out);
	} else if (kind == B_IPDV) {
		tw_hist_bounds_delay(&d);
		ipdv_bounds(&d, out);
	} else {
		tw_hist_bounds_delay(out);
	}
}

/* ---- registration ---- */

static int register_family(tw_metrics *m, int id)
{
	const struct fam_def *d = &defs[id];
	tw_hist_bounds b;
	tw_family_spec spec = {
		.type = d->type,
		.name = d->name,
		.help = d->help,
		.labels = label_sets[d->labels],
		.nlabels = label_counts[d->labels],
		.unit = TW_HIST_NS_AS_SECONDS,
	};
	if (d->type == TW_METRIC_HISTOGRAM) {
		family_bounds(d->buckets, &b);
		spec.bounds = &b;
	}
	return tw_registry_add(m->reg, &spec, &m->fam[id]);
}

static int agent_series(tw_metrics *m)
{
	tw_agent_series *a = &m->agent;
	const char *ok[] = { "ok" }, *failed[] = { "failed" };
	int rc = tw_registry_gauge(m->fam[F_RELOAD_OK], NULL, &a->reload_ok);
	if (rc == 0)
		rc = tw_registry_gauge(m->fam[F_RELOAD_TS], NULL, &a->reload_ts);
	if (rc == 0)
		rc = tw_registry_hist(m->fam[F_SEND_LAG], NULL, &a->send_lag);
	if (rc == 0)
		rc = tw_registry_hist(m->fam[F_REFL_PROC], NULL, &a->refl_proc);
	if (rc == 0)
		rc = tw_registry_counter(m->fam[F_DNS], ok, &a->dns_lookups[0]);
	if (rc == 0)
		rc = tw_registry_counter(m->fam[F_DNS], failed, &a->dns_lookups[1]);
	return rc;
}

tw_metrics *tw_metrics_new(tw_registry *r)
{
	tw_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->reg = r;
	for (int i = 0; i < F_COUNT; i++) {
		if (register_family(m, i) < 0) {
			free(m);
			return NULL;
		}
	}
	if (agent_series(m) < 0) {
		free(m);
		return NULL;
	}
	return m;
}

void tw_metrics_free(tw_metrics *m)
{
	free(m);
}

const tw_agent_series *tw_metrics_agent(const tw_metrics *m)
{
	return &m->agent;
}

tw_registry *tw_metrics_registry(const tw_metrics *m)
{
	return m->reg;
}

/* ---- per-target series ---- */

/* The label values and user labels of one target. */
typedef struct tlabels {
	char dscp[4];
	const char *v[4]; /* target, dscp, then the family's own */
	tw_label extra[TW_CONFIG_MAX_LABELS];
	size_t nextra;
} tlabels;

static void tlabels_init(tlabels *l, const tw_config_target *t)
{
	snprintf(l->dscp, sizeof(l->dscp), "%u", t->s.dscp);
	l->v[0] = t->name;
	l->v[1] = l->dscp;
	l->nextra = t->s.labels.n;
	for (size_t i = 0; i < l->nextra; i++) {
		l->extra[i].name = t->s.labels.v[i].name;
		l->extra[i].value = t->s.labels.v[i].value;
	}
}

static int counter(tw_metrics *m, int id, tlabels *l, const char *a, const char *b, tw_counter **out)
{
	l->v[2] = a;
	l->v[3] = b;
	return tw_registry_counter_x(m->fam[id], l->v, l->extra, l->nextra, out);
}

static int gauge(tw_metrics *m, int id, tlabels *l, const char *a, tw_gauge **out)
{
	l->v[2] = a;
	return tw_registry_gauge_x(m->fam[id], l->v, l->extra, l->nextra, out);
}

static int hist(tw_metrics *m, int id, tlabels *l, const char *a, const tw_hist_bounds *b, tw_hist **out)
{
	l->v[2] = a;
	return tw_registry_hist_x(m->fam[id], l->v, l->extra, l->nextra, b, out);
}

static int add_counters(tw_metrics *m, tlabels *l, tw_target_series *s)
{
	int rc = 0;
	rc |= counter(m, F_SENT, l, NULL, NULL, &s->sent);
	rc |= counter(m, F_RECEIVED, l, NULL, NULL, &s->received);
	rc |= counter(m, F_LOST, l, NULL, NULL, &s->lost);
	rc |= counter(m, F_LATE, l, NULL, NULL, &s->late);
	rc |= counter(m, F_ATTEMPTS, l, NULL, NULL, &s->attempts);
	for (int d = 0; d < 2 && rc == 0; d++) {
		rc |= counter(m, F_DUP, l, dir_names[d], NULL, &s->duplicated[d]);
		rc |= counter(m, F_REORD, l, dir_names[d], NULL, &s->reordered[d]);
		rc |= counter(m, F_TTL_CHANGES, l, dir_names[d], NULL, &s->ttl_changes[d]);
		for (int k = 0; k < 2; k++)
			rc |= counter(m, F_SKIPPED, l, dir_names[d], skip_names[k], &s->owd_skipped[d][k]);
	}
	for (int r = 0; r < TW_FAIL_COUNT && rc == 0; r++)
		rc |= counter(m, F_FAILURES, l, fail_names[r], NULL, &s->failures[r]);
	for (int d = 0; d < 2 && rc == 0; d++)
		rc |= counter(m, F_REMARKED, l, dir_names[d], NULL, &s->remarked[d]);
	for (int r = 0; r < TW_TLV_RESULT_COUNT && rc == 0; r++)
		rc |= counter(m, F_TLV, l, tlv_result_names[r], NULL, &s->tlv[r]);
	return rc ? -ENOMEM : 0;
}

static int add_gauges(tw_metrics *m, tlabels *l, tw_target_series *s)
{
	int rc = 0;
	rc |= gauge(m, F_RTT_JITTER, l, NULL, &s->rtt_jitter);
	rc |= gauge(m, F_UP, l, NULL, &s->up);
	for (int d = 0; d < 2 && rc == 0; d++) {
		rc |= gauge(m, F_OWD_JITTER, l, dir_names[d], &s->owd_jitter[d]);
		rc |= gauge(m, F_TTL, l, dir_names[d], &s->ttl[d]);
		rc |= gauge(m, F_CLOCK_SYNC, l, side_names[d], &s->clock_sync[d]);
		rc |= gauge(m, F_ERREST, l, side_names[d], &s->errest[d]);
		rc |= gauge(m, F_RX_DSCP, l, dir_names[d], &s->rx_dscp[d]);
		rc |= gauge(m, F_RX_ECN, l, dir_names[d], &s->rx_ecn[d]);
	}
	return rc ? -ENOMEM : 0;
}

static int add_hists(tw_metrics *m, const tw_config_target *t, tlabels *l, tw_target_series *s)
{
	tw_hist_bounds delay, ipdv;
	tw_metrics_delay_bounds(&t->s, &delay);
	int rc = hist(m, F_RTT, l, NULL, &delay, &s->rtt);
	if (rc == 0)
		rc = hist(m, F_PROC, l, NULL, NULL, &s->proc);
	for (int d = 0; d < 2 && rc == 0; d++)
		rc = hist(m, F_OWD, l, dir_names[d], &delay, &s->owd[d]);
	ipdv_bounds(&delay, &ipdv);
	for (int d = 0; d < 2 && rc == 0 && t->s.ipdv_histogram; d++)
		rc = hist(m, F_IPDV, l, dir_names[d], &ipdv, &s->ipdv[d]);
	return rc;
}

int tw_metrics_target_add(tw_metrics *m, const tw_config_target *t, tw_target_series *out)
{
	tlabels l;
	tlabels_init(&l, t);
	memset(out, 0, sizeof(*out));
	int rc = add_counters(m, &l, out);
	if (rc == 0)
		rc = add_gauges(m, &l, out);
	if (rc == 0)
		rc = add_hists(m, t, &l, out);
	if (rc < 0)
		tw_metrics_target_remove(out);
	return rc;
}

static void remove_hists(tw_target_series *s)
{
	tw_registry_remove_hist(s->rtt);
	tw_registry_remove_hist(s->proc);
	for (int d = 0; d < 2; d++) {
		tw_registry_remove_hist(s->owd[d]);
		tw_registry_remove_hist(s->ipdv[d]);
		s->owd[d] = s->ipdv[d] = NULL;
	}
	s->rtt = s->proc = NULL;
}

void tw_metrics_target_remove(tw_target_series *s)
{
	tw_counter *counters[] = { s->sent, s->received, s->lost, s->late, s->attempts };
	tw_gauge *gauges[] = { s->rtt_jitter, s->up };
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		tw_registry_remove_counter(counters[i]);
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		tw_registry_remove_gauge(gauges[i]);
	for (int d = 0; d < 2; d++) {
		tw_registry_remove_counter(s->duplicated[d]);
		tw_registry_remove_counter(s->reordered[d]);
		tw_registry_remove_counter(s->ttl_changes[d]);
		tw_registry_remove_counter(s->owd_skipped[d][0]);
		tw_registry_remove_counter(s->owd_skipped[d][1]);
		tw_registry_remove_gauge(s->owd_jitter[d]);
		tw_registry_remove_gauge(s->ttl[d]);
		tw_registry_remove_gauge(s->clock_sync[d]);
		tw_registry_remove_gauge(s->errest[d]);
		tw_registry_remove_counter(s->remarked[d]);
		tw_registry_remove_gauge(s->rx_dscp[d]);
		tw_registry_remove_gauge(s->rx_ecn[d]);
	}
	for (int r = 0; r < TW_TLV_RESULT_COUNT; r++)
		tw_registry_remove_counter(s->tlv[r]);
	for (int r = 0; r < TW_FAIL_COUNT; r++)
		tw_registry_remove_counter(s->failures[r]);
	remove_hists(s);
	memset(s, 0, sizeof(*s));
}

int tw_metrics_target_rebucket(tw_metrics *m, const tw_config_target *t, tw_target_series *s)
{
	tlabels l;
	tlabels_init(&l, t);
	remove_hists(s);
	return add_hists(m, t, &l, s);
}

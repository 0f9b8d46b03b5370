/* collect.c - metric families computed at scrape time (see agent_int.h). */
#include "agent_int.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "args.h"
#include "control.h"
#include "prom.h"
#include "process.h"
#include "version.h"

static int build_info(void *arg, tw_prom_collect *c)
{
	(void)arg;
	static const char *const names[] = { "version", "revision", "openssl", "libmicrohttpd" };
	const char *values[] = { TW_VERSION, TW_REVISION, OpenSSL_version(OPENSSL_VERSION), MHD_get_version() };
	tw_prom_collect_family(c, "twamp_agent_build_info", "Build information (value 1).", TW_METRIC_GAUGE);
	return tw_prom_collect_sample(c, names, values, 4, 1);
}

static int sessions_by_state(void *arg, tw_prom_collect *c)
{
	tw_agent *a = arg;
	static const char *const names[] = { "state" };
	double n[TW_PROBE_STATE_COUNT] = { 0 };
	for (size_t i = 0; i < a->nprobes; i++)
		n[tw_probe_get_info(a->probes[i]).state]++;
	tw_prom_collect_family(c, "twamp_agent_sessions", "Configured sessions by state.", TW_METRIC_GAUGE);
	for (int s = 0; s < TW_PROBE_STATE_COUNT; s++) {
		const char *values[] = { tw_probe_state_name((tw_probe_state)s) };
		tw_prom_collect_sample(c, names, values, 1, n[s]);
	}
	return 0;
}

/* One twamp_session_info sample: what may change without changing the
 * series identity (resolved address, ports, negotiated mode). */
static int session_info_one(tw_prom_collect *c, const tw_probe *p)
{
	enum { FIXED = 10 };
	const tw_config_target *t = tw_probe_target(p);
	tw_probe_info info = tw_probe_get_info(p);
	const char *names[FIXED + TW_CONFIG_MAX_LABELS];
	const char *values[FIXED + TW_CONFIG_MAX_LABELS];
	char dscp[4], target_ip[64] = "", source_ip[64] = "", port[8], padding[12], features[80];
	snprintf(dscp, sizeof(dscp), "%u", t->s.dscp);
	snprintf(port, sizeof(port), "%u", info.test_port);
	snprintf(padding, sizeof(padding), "%u", info.padding);
	if (info.target.ss.ss_family)
		tw_sa_format_host(&info.target, target_ip, sizeof(target_ip));
	if (info.source.ss.ss_family && !tw_sa_is_any(&info.source)) /* a wildcard bind: unknown */
		tw_sa_format_host(&info.source, source_ip, sizeof(source_ip));
	const char *fixed_names[FIXED] = { "target", "dscp", "target_ip", "source_ip", "port", "mode", "padding_bytes",
					   "timestamping", "protocol", "features" };
	const char *fixed_values[FIXED] = { t->name, dscp, target_ip, source_ip, port, tw_mode_name(info.mode), padding,
					    info.timestamping == TW_TS_KERNEL ? "kernel" : "user",
					    tw_probe_protocol_name(info.protocol),
					    tw_features_format(info.mode & ~TW_MODES_SECURITY, features, sizeof(features)) };
	memcpy(names, fixed_names, sizeof(fixed_names));
	memcpy(values, fixed_values, sizeof(fixed_values));
	for (size_t i = 0; i < t->s.labels.n; i++) {
		names[FIXED + i] = t->s.labels.v[i].name;
		values[FIXED + i] = t->s.labels.v[i].value;
	}
	return tw_prom_collect_sample(c, names, values, FIXED + t->s.labels.n, 1);
}

static int session_info(void *arg, tw_prom_collect *c)
{
	tw_agent *a = arg;
	tw_prom_collect_family(c, "twamp_session_info",
			       "Session details that may change without changing the series (value 1).",
			       TW_METRIC_GAUGE);
	for (size_t i = 0; i < a->nprobes; i++)
		session_info_one(c, a->probes[i]);
	return 0;
}

/* The reflector counters of one protocol (TWAMP sessions, TWAMP Light,
 * STAMP) in a common shape. */
typedef struct refl_view {
	const char *protocol;
	uint64_t received, reflected, sessions;
	const char *const *drop_names;
	const uint64_t *dropped;
	size_t ndrop;
} refl_view;

static const char *const twamp_drops[TW_REFL_DROP_COUNT] = {
	"not_started", "wrong_source", "short", "auth", "truncated", "send_error",
};
static const char *const light_drops[TW_LIGHT_DROP_COUNT] = {
	"not_allowed", "short", "auth", "truncated", "send_error", "sender_limit",
};

static void views(const tw_server_stats *st, const tw_agent *a, refl_view v[3])
{
	v[0] = (refl_view){ "twamp", st->refl.received, st->refl.reflected, (uint64_t)st->refl.sessions,
			    twamp_drops, st->refl.dropped, TW_REFL_DROP_COUNT };
	for (int i = 0; i < 2; i++) {
		const tw_light_stats *l = &a->udp_stats[i];
		v[1 + i] = (refl_view){ i ? "stamp" : "light", l->received, l->reflected, l->senders, light_drops,
					l->dropped, TW_LIGHT_DROP_COUNT };
	}
}

static void per_protocol(tw_prom_collect *c, const refl_view v[3], size_t off, const char *name, const char *help,
			 tw_metric_type type)
{
	static const char *const names[] = { "protocol" };
	tw_prom_collect_family(c, name, help, type);
	for (int i = 0; i < 3; i++) {
		const char *values[] = { v[i].protocol };
		uint64_t x;
		memcpy(&x, (const char *)&v[i] + off, sizeof(x));
		tw_prom_collect_sample(c, names, values, 1, (double)x);
	}
}

static void reflector_drops(tw_prom_collect *c, const refl_view v[3])
{
	static const char *const names[] = { "protocol", "reason" };
	tw_prom_collect_family(c, "twamp_reflector_test_packets_dropped_total",
			       "Test packets received but not reflected, by protocol and reason.", TW_METRIC_COUNTER);
	for (int i = 0; i < 3; i++) {
		for (size_t r = 0; r < v[i].ndrop; r++) {
			const char *values[] = { v[i].protocol, v[i].drop_names[r] };
			tw_prom_collect_sample(c, names, values, 2, (double)v[i].dropped[r]);
		}
	}
}

static void reflector_rejections(tw_prom_collect *c, const tw_server_stats *st)
{
	static const char *const names[] = { "reason" };
	tw_prom_collect_family(c, "twamp_reflector_control_rejections_total",
			       "Control connections or requests refused, by reason.", TW_METRIC_COUNTER);
	for (int r = 0; r < TW_REJECT_COUNT; r++) {
		const char *values[] = { tw_server_reject_name((tw_server_reject)r) };
		tw_prom_collect_sample(c, names, values, 1, (double)st->rejections[r]);
	}
}

static void counter1(tw_prom_collect *c, const char *name, const char *help, uint64_t v)
{
	tw_prom_collect_family(c, name, help, TW_METRIC_COUNTER);
	tw_prom_collect_sample(c, NULL, NULL, 0, (double)v);
}

/* RFC 8972 flags the STAMP reflector set in its replies. */
static int stamp_tlv_flags(tw_prom_collect *c, const tw_light_stats *st)
{
	static const char *const names[] = { "flag" };
	const char *m[] = { "malformed" }, *i[] = { "integrity" };
	tw_prom_collect_family(c, "twamp_reflector_stamp_tlv_flags_total",
			       "STAMP replies whose TLVs were flagged: malformed (M) or integrity failed (I).",
			       TW_METRIC_COUNTER);
	tw_prom_collect_sample(c, names, m, 1, (double)st->tlv_malformed);
	return tw_prom_collect_sample(c, names, i, 1, (double)st->tlv_integrity_failed);
}

/* Reflector families, present (zero) even when a reflector is off. */
static int reflector(void *arg, tw_prom_collect *c)
{
	tw_agent *a = arg;
	tw_server_stats totals = tw_agent_server_totals(a);
	const tw_server_stats *st = &totals;
	refl_view v[3];
	views(st, a, v);
	per_protocol(c, v, offsetof(refl_view, received), "twamp_reflector_test_packets_received_total",
		     "Test packets received by the reflectors, by protocol (twamp, light, stamp).", TW_METRIC_COUNTER);
	per_protocol(c, v, offsetof(refl_view, reflected), "twamp_reflector_test_packets_reflected_total",
		     "Test packets reflected, by protocol.", TW_METRIC_COUNTER);
	reflector_drops(c, v);
	counter1(c, "twamp_reflector_control_connections_total", "TWAMP-Control connections accepted.",
		 st->connections);
	reflector_rejections(c, st);
	tw_prom_collect_family(c, "twamp_reflector_control_connections", "Open TWAMP-Control connections.",
			       TW_METRIC_GAUGE);
	tw_prom_collect_sample(c, NULL, NULL, 0, (double)st->active_connections);
	per_protocol(c, v, offsetof(refl_view, sessions), "twamp_reflector_sessions",
		     "Test sessions served: TWAMP sessions, and the senders a stateful Light/STAMP reflector "
		     "tracks.", TW_METRIC_GAUGE);
	return stamp_tlv_flags(c, &a->udp_stats[1]);
}

static int discovery(void *arg, tw_prom_collect *c)
{
	tw_agent *a = arg;
	static const char *const rnames[] = { "group", "source", "result" }, *tnames[] = { "group" };
	tw_prom_collect_family(c, "twamp_discovery_refreshes_total", "Target discovery refreshes by result.",
			       TW_METRIC_COUNTER);
	for (size_t i = 0; i < a->ndisc; i++) {
		const tw_config_group *g = tw_discovery_group(a->disc[i]);
		tw_discovery_stats st = tw_discovery_get_stats(a->disc[i]);
		const char *src = tw_discovery_source_name(g->discovery->kind);
		const char *ok[] = { g->name, src, "success" }, *bad[] = { g->name, src, "failure" };
		tw_prom_collect_sample(c, rnames, ok, 3, (double)st.refreshes_ok);
		tw_prom_collect_sample(c, rnames, bad, 3, (double)st.refreshes_failed);
	}
	tw_prom_collect_family(c, "twamp_discovery_targets", "Targets the group's discovery currently yields.",
			       TW_METRIC_GAUGE);
	for (size_t i = 0; i < a->ndisc; i++) {
		const char *v[] = { tw_discovery_group(a->disc[i])->name };
		tw_prom_collect_sample(c, tnames, v, 1, (double)tw_discovery_get_stats(a->disc[i]).targets);
	}
	return 0;
}

int tw_collect_register(tw_agent *a)
{
	int rc = tw_registry_add_collector(a->reg, build_info, a);
	if (rc == 0)
		rc = tw_registry_add_collector(a->reg, sessions_by_state, a);
	if (rc == 0)
		rc = tw_registry_add_collector(a->reg, session_info, a);
	if (rc == 0)
		rc = tw_registry_add_collector(a->reg, reflector, a);
	if (rc == 0)
		rc = tw_registry_add_collector(a->reg, discovery, a);
	if (rc == 0)
		rc = tw_registry_add_collector(a->reg, tw_process_collect, NULL);
	return rc;
}

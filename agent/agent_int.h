/*
 * agent_int.h - the agent's state, shared by agent.c (lifecycle, reload),
 * web.c (HTTP endpoints) and collect.c (scrape-time metric families).
 * Not a public interface.
 */
#ifndef TW_AGENT_INT_H
#define TW_AGENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "clock.h"
#include "config.h"
#include "discovery.h"
#include "http.h"
#include "keystore.h"
#include "light.h"
#include "loop.h"
#include "metrics.h"
#include "probe.h"
#include "registry.h"
#include "resolver.h"
#include "scrape.h"
#include "server.h"
#include "status.h"

/* A key file the configuration names, loaded once per configuration. */
typedef struct tw_keyfile {
	char *path;
	tw_keystore *ks;
} tw_keyfile;

/* Every key file of one configuration, each read once however many times
 * it is named (a mesh usually gives the reflector and the targets the
 * same file). */
typedef struct tw_keys {
	tw_keyfile *v;
	size_t n;
	const tw_keystore *refl; /* the reflector's (one of v), or NULL */
} tw_keys;

typedef struct tw_agent {
	const tw_agent_opts *opts;
	tw_loop *loop;
	tw_registry *reg;
	tw_metrics *metrics;
	tw_resolver *resolver;
	tw_http *http;
	tw_scrape *scrape;
	tw_config *cfg;
	tw_server *server;      /* NULL when the reflector is disabled */
	tw_server_stats refl_base; /* counters of servers already freed (stay monotonic) */
	tw_light *udp[2];       /* TWAMP Light [0] and STAMP [1] reflectors, or NULL */
	tw_light_stats udp_stats[2]; /* kept across reloads */
	tw_keys keys;           /* of cfg */
	tw_probe **probes;      /* sorted by target identity */
	size_t nprobes;
	tw_discovery **disc;    /* one per target group with a discovery source */
	size_t ndisc;
	tw_sync_state sync;
	uint16_t errest;
	tw_timer clock_timer;
	tw_status *status;      /* histories and page for / (status.h) */
	bool ready;
	int64_t start_real_ns;
	char last_reload_error[1024];
} tw_agent;

/* Loads the configured file (or the embedded default) and applies it.
 * Returns 0, or a negative errno with the reason in a->last_reload_error;
 * the running configuration is untouched then. */
int tw_agent_reload(tw_agent *a);
/* The same for SIGHUP and POST /-/reload: logs the trigger and tells
 * systemd (RELOADING=1 ... READY=1). */
int tw_agent_reload_notify(tw_agent *a, const char *trigger);

/* The reflector's counters: the running server's plus those of the servers
 * reloads stopped (so they never go back); the gauges (open connections,
 * live sessions) are the running server's, 0 without one. */
tw_server_stats tw_agent_server_totals(const tw_agent *a);

/* web.c: mounts /, /-/healthy, /-/ready, /-/reload and the telemetry path. */
int tw_web_routes(tw_agent *a, const char *telemetry_path);

/* collect.c: registers the scrape-time families (build info, sessions by
 * state, session info, reflector counters, process metrics). */
int tw_collect_register(tw_agent *a);

#endif /* TW_AGENT_INT_H */

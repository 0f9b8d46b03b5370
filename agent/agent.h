/*
 * agent.h - the long-running agent ("run", the default command): one event
 * loop driving the TWAMP server/reflector for peers, one probe per
 * configured target, the resolver and the HTTP exporter. SIGHUP or
 * POST /-/reload swaps in a new configuration when it is valid; SIGTERM
 * and SIGINT stop it.
 */
#ifndef TW_AGENT_H
#define TW_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#define TW_AGENT_MAX_WEB 16

typedef struct tw_agent_opts {
	const char *config_file;                 /* NULL: the embedded default */
	const char *web_listen[TW_AGENT_MAX_WEB]; /* --web.listen-address */
	size_t nweb;                             /* 0: ":9862" */
	const char *telemetry_path;              /* NULL: "/metrics" */
	int64_t dns_refresh_ns;                  /* 0: 5 minutes */
} tw_agent_opts;

/* Runs until SIGTERM/SIGINT. Returns the process exit status: 0 after a
 * clean stop, 1 when start-up failed (message on stderr). */
int tw_agent_run(const tw_agent_opts *o);

/* --config.check: loads and validates the configuration and its key
 * files, prints a one-line summary (or the error) and returns 0 or 1. */
int tw_agent_check_config(const char *config_file);

#endif /* TW_AGENT_H */

/*
 * probe.h - continuous measurement of one configured target: keeps one
 * long TWAMP-Control session with one test session streaming packets, and
 * turns everything it observes into the target's metric series.
 *
 *   STARTING (random offset inside the interval, so targets never fire
 *   together) -> RESOLVING -> CONNECTING -> UP
 *   any failure -> BACKOFF (1 s doubling to 60 s, +-20 % jitter) -> RESOLVING
 *
 * While UP the name is re-resolved periodically; a new address, or a
 * reload that changes a session setting, restarts the session in place.
 * A session that ends keeps its sender until the packets in flight are
 * decided, so every packet sent is eventually counted received or lost.
 */
#ifndef TW_PROBE_H
#define TW_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "loop.h"
#include "metrics.h"
#include "net.h"
#include "resolver.h"

typedef enum tw_probe_state {
	TW_PROBE_STARTING = 0,
	TW_PROBE_RESOLVING,
	TW_PROBE_CONNECTING,
	TW_PROBE_UP,
	TW_PROBE_BACKOFF,
	TW_PROBE_STATE_COUNT
} tw_probe_state;

const char *tw_probe_state_name(tw_probe_state s);
/* "twamp", "light" or "stamp". */
const char *tw_probe_protocol_name(tw_config_test_mode m);

/* What the probe needs from the agent; everything outlives every probe. */
typedef struct tw_probe_env {
	tw_loop *loop;
	tw_resolver *resolver;
	const uint16_t *errest;       /* our Error Estimate word */
	const tw_sync_state *sync;    /* our clock's sync state */
	const tw_agent_series *agent; /* send lag, DNS counters */
	/* The secret of identity in key_file (a cached key store), or NULL
	 * with a reason in err. */
	const uint8_t *(*secret)(void *arg, const char *key_file, const char *identity, size_t *len, char *err,
				 size_t errcap);
	void *secret_arg;
	int64_t dns_refresh_ns;       /* re-resolve names this often while up */
} tw_probe_env;

/* What twamp_session_info and the status page show. */
typedef struct tw_probe_info {
	tw_probe_state state;
	tw_sockaddr target;     /* resolved control address (family 0 before) */
	tw_sockaddr source;     /* our test socket */
	uint16_t test_port;     /* reflector port from Accept-Session */
	uint32_t mode;          /* negotiated Mode (0 for Light/STAMP) */
	tw_config_test_mode protocol;
	uint32_t padding;
	tw_ts_source timestamping;
	const char *last_error; /* static text, or NULL */
} tw_probe_info;

typedef struct tw_probe tw_probe;

/* Creates the probe and its series (zero) and schedules its start.
 * t must stay valid until the next tw_probe_reconfigure or free. Returns
 * NULL with *err set. */
tw_probe *tw_probe_new(const tw_probe_env *env, tw_metrics *m, const tw_config_target *t, int *err);
/* Stops at once (Stop-Sessions best effort) and removes the series.
 * NULL-safe. */
void tw_probe_free(tw_probe *p);

/* Points the probe at t, an entry of a new configuration with the same
 * identity: restarts the session when a session setting changed and
 * re-creates the histograms when the buckets changed. Counters remain. */
void tw_probe_reconfigure(tw_probe *p, const tw_config_target *t);

const tw_config_target *tw_probe_target(const tw_probe *p);
tw_probe_info tw_probe_get_info(const tw_probe *p);
const tw_target_series *tw_probe_series(const tw_probe *p);

#endif /* TW_PROBE_H */

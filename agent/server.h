/*
 * server.h - the TWAMP Server: TCP listeners, one tw_srv state machine per
 * control connection, and the Session-Reflector sessions they set up.
 *
 * Limits are enforced with a log line and a counted rejection reason: the
 * allow list and the connection limit refuse a client with a Greeting
 * whose Modes is 0 (RFC 4656: "server refuses to talk") and close; the
 * per-connection session limit answers Accept 4. A misbehaving client only
 * ever loses its own connection.
 */
#ifndef TW_SERVER_H
#define TW_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "net.h"
#include "reflector.h"

/* Upper bound of tw_server_params.max_sessions (keeps every reply small). */
#define TW_SERVER_MAX_SESSIONS 256

typedef enum tw_server_reject {
	TW_REJECT_NOT_ALLOWED = 0, /* client address outside the allow list */
	TW_REJECT_CONN_LIMIT,      /* max control connections reached */
	TW_REJECT_SESSION_LIMIT,   /* max sessions per connection reached */
	TW_REJECT_MODE,            /* Set-Up-Response chose an unusable mode */
	TW_REJECT_UNKNOWN_IDENTITY,
	TW_REJECT_BAD_SECRET,
	TW_REJECT_REQUEST,         /* Request-TW-Session not supported (Accept 3) */
	TW_REJECT_RESOURCES,       /* no port/socket for the session */
	TW_REJECT_PROTOCOL,        /* malformed or out-of-state message, bad HMAC */
	TW_REJECT_TIMEOUT,         /* SERVWAIT expired */
	TW_REJECT_COUNT
} tw_server_reject;

const char *tw_server_reject_name(tw_server_reject r);

typedef struct tw_server_stats {
	uint64_t connections;                 /* accepted TCP connections */
	int64_t active_connections;
	uint64_t rejections[TW_REJECT_COUNT];
	uint64_t sessions_accepted;
	tw_refl_stats refl;
} tw_server_stats;

typedef struct tw_server_params {
	const tw_sockaddr *listen; /* addresses to listen on (port 0 = ephemeral) */
	size_t nlisten;
	uint32_t modes;            /* security modes offered (TW_MODE_* bits 0-3) */
	uint32_t features;         /* optional features offered: TW_MODE_ISC, _REFLECT_OCTETS,
	                            * _SYMMETRIC, _DSCP_ECN, _PTP */
	bool reflect_to_source;    /* answer test packets where they come from (NAT) */
	uint32_t max_connections;
	uint32_t max_sessions;     /* per control connection, <= TW_SERVER_MAX_SESSIONS */
	uint64_t servwait_ns;      /* idle control connection limit (0 = none) */
	uint64_t refwait_ns;       /* idle started session limit (0 = none) */
	uint32_t kdf_count;        /* PBKDF2 Count offered in the Greeting */
	uint16_t port_min, port_max; /* test-port range; 0,0 = ephemeral */
	/* Allow list; NULL = allow everyone. */
	bool (*allow)(void *arg, const tw_sockaddr *peer);
	void *allow_arg;
	/* Shared secret of an identity (keyed modes); NULL when unknown. The
	 * returned bytes stay valid until the server is freed. */
	const uint8_t *(*secret)(void *arg, const char *identity, size_t *len);
	void *secret_arg;
} tw_server_params;

typedef struct tw_server tw_server;

/* Binds every listen address. On failure returns NULL and writes a message
 * naming the address and the reason into err. */
tw_server *tw_server_new(tw_loop *loop, const tw_server_params *p, char *err, size_t errcap);
/* Applies new parameters (configuration reload): listeners whose address
 * stays are kept, new ones are opened before removed ones are closed, and
 * on failure (err says which address) nothing changes. Running control
 * connections and sessions continue; new limits apply to what comes next.
 * Returns 0 or a negative errno. */
int tw_server_reconfigure(tw_server *s, const tw_server_params *p, char *err, size_t errcap);
/* Closes listeners, connections and sessions at once. NULL-safe. */
void tw_server_free(tw_server *s);

const tw_server_stats *tw_server_stats_get(const tw_server *s);
tw_server_stats *tw_server_stats_mut(tw_server *s); /* for histogram hooks */
/* The bound address of listener i (its real port when 0 was asked). */
int tw_server_listen_addr(const tw_server *s, size_t i, tw_sockaddr *out);

#endif /* TW_SERVER_H */

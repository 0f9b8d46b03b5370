/*
 * client.h - the TWAMP Control-Client: a non-blocking TCP connection driven
 * by the tw_cli state machine. It connects, picks the security mode,
 * answers the Greeting, and then lets its owner request, start and stop
 * test sessions, reporting each answer through callbacks.
 *
 * Callbacks run from the event loop. The owner must not free the client
 * from inside one of them; defer (e.g. with a zero-delay timer).
 */
#ifndef TW_CLIENT_H
#define TW_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "crypto.h"
#include "loop.h"
#include "net.h"

typedef enum tw_client_fail {
	TW_CLIENT_FAIL_CONNECT = 0, /* TCP connect failed */
	TW_CLIENT_FAIL_REFUSED,     /* Greeting Modes 0 or no acceptable mode */
	TW_CLIENT_FAIL_AUTH,        /* keyed mode refused by Server-Start */
	TW_CLIENT_FAIL_SERVER,      /* Server-Start Accept != 0 (open mode) */
	TW_CLIENT_FAIL_KDF_COUNT,   /* greeting Count above our cap */
	TW_CLIENT_FAIL_PROTOCOL,    /* malformed/unexpected message, bad HMAC */
	TW_CLIENT_FAIL_TIMEOUT,     /* no answer in time */
	TW_CLIENT_FAIL_CLOSED,      /* the server closed the connection */
	TW_CLIENT_FAIL_COUNT
} tw_client_fail;

const char *tw_client_fail_name(tw_client_fail f);

typedef struct tw_client tw_client;

typedef struct tw_client_cbs {
	/* Server-Start accepted: sessions can be requested. */
	void (*ready)(void *arg, tw_client *c);
	/* The answer to the outstanding Request-TW-Session. */
	void (*accepted)(void *arg, tw_client *c, const tw_accept_session *a);
	/* Start-Ack with Accept 0. */
	void (*started)(void *arg, tw_client *c);
	/* The connection is unusable (it is already closed when this runs). */
	void (*failed)(void *arg, tw_client *c, tw_client_fail why, const char *detail);
	void *arg;
} tw_client_cbs;

typedef struct tw_client_params {
	tw_sockaddr server;
	const tw_sockaddr *local; /* source address, or NULL */
	const char *ifname;       /* SO_BINDTODEVICE, or NULL */
	uint32_t modes;           /* acceptable security modes (bits 0-3) */
	uint32_t features;        /* optional features to use when offered (TW_MODE_ISC ...);
	                           * PTP is always echoed when offered (RFC 8186) */
	const char *identity;     /* keyed modes: KeyID (copied) */
	const uint8_t *secret;    /* keyed modes: passphrase (copied, wiped on free) */
	size_t secret_len;
	uint32_t max_kdf_count;   /* refuse a greeting Count above this */
	int64_t timeout_ns;       /* connect and per-reply timeout */
	tw_client_cbs cbs;
} tw_client_params;

/* Starts connecting. Returns NULL with *err set (negative errno) when the
 * socket cannot even be created. */
tw_client *tw_client_new(tw_loop *loop, const tw_client_params *p, int *err);
void tw_client_free(tw_client *c); /* NULL-safe; closes the connection */

/* Request one session (state IDLE, nothing outstanding); the answer comes
 * through cbs.accepted. Returns 0 or a negative errno. */
int tw_client_request(tw_client *c, const tw_request *req);
/* Start every accepted session; cbs.started follows. */
int tw_client_start(tw_client *c);
/* Stop-Sessions (no reply). */
int tw_client_stop(tw_client *c, uint8_t accept);

uint32_t tw_client_mode(const tw_client *c);
const tw_sockaddr *tw_client_local(const tw_client *c); /* valid once ready */
const tw_sockaddr *tw_client_peer(const tw_client *c);
/* Keyed modes: a test-crypto context for an accepted SID (caller frees);
 * NULL in open and mixed modes. */
tw_test_crypto *tw_client_test_crypto(const tw_client *c, const uint8_t sid[TW_SID_LEN]);

#endif /* TW_CLIENT_H */

/*
 * reflector.h - Session-Reflector for sessions negotiated over TWAMP-Control
 * (RFC 5357 §4.2). Each session owns one UDP socket bound to its Receiver
 * Address:Port and answers the registered Sender Address:Port.
 *
 * Lifecycle: new (socket bound, packets dropped) -> start (reflecting) ->
 * stop (keeps reflecting for the request's Timeout, then ends) -> done.
 * REFWAIT ends a started session that has received nothing for that long.
 * When a session ends by itself the owner's on_done callback runs; the
 * owner then frees it (never from inside the callback's caller chain:
 * on_done is invoked from a timer, so freeing there is allowed).
 */
#ifndef TW_REFLECTOR_H
#define TW_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "net.h"
#include "testpkt.h"

/* Largest test packet handled (jumbo frames); larger requests are refused. */
#define TW_REFL_MAX_PACKET TW_NET_RX_BUF

/* Why a received test packet was not reflected. */
typedef enum tw_refl_drop {
	TW_REFL_DROP_NOT_STARTED = 0, /* before Start-Sessions or after Timeout */
	TW_REFL_DROP_SOURCE,          /* not from the registered sender */
	TW_REFL_DROP_SHORT,           /* shorter than the sender header */
	TW_REFL_DROP_AUTH,            /* HMAC verification failed */
	TW_REFL_DROP_TRUNCATED,       /* larger than our receive buffer */
	TW_REFL_DROP_SEND,            /* the reply could not be sent */
	TW_REFL_DROP_COUNT
} tw_refl_drop;

const char *tw_refl_drop_name(tw_refl_drop r);

/* Counters shared by every session of one server (read by the exporter). */
typedef struct tw_refl_stats {
	uint64_t received;
	uint64_t reflected;
	uint64_t dropped[TW_REFL_DROP_COUNT];
	int64_t sessions; /* sessions currently alive */
	/* processing time T3 - T2 of reflected packets, ns */
	uint64_t processing_count;
	int64_t processing_sum_ns;
	void (*observe_processing)(void *arg, int64_t ns); /* optional histogram hook */
	void *observe_arg;
} tw_refl_stats;

typedef struct tw_refl_session tw_refl_session;

typedef struct tw_refl_params {
	tw_sockaddr local;        /* Receiver Address:Port (port 0 = choose) */
	tw_sockaddr peer;         /* Sender Address:Port, where replies go */
	uint16_t port_min, port_max; /* alternate-port range; 0,0 = ephemeral */
	tw_test_fmt fmt;
	tw_test_crypto *crypto;   /* keyed modes; ownership passes to the session */
	int dscp;                 /* from Type-P; replies carry it */
	uint64_t timeout_ns;      /* keep reflecting this long after stop */
	uint64_t refwait_ns;      /* end after this much silence (0 = never) */
	const uint16_t *errest;   /* the host's current Error Estimate word */
	bool ptp;                 /* RFC 8186 negotiated: PTPv2 timestamps, Z bit set */
	bool reply_to_source;     /* answer where packets come from (NAT), any source */
	tw_refl_stats *stats;     /* shared counters (required) */
	void (*on_done)(void *arg, tw_refl_session *s);
	void *arg;
} tw_refl_params;

/* Opens the session socket on the requested port when free, else on
 * another one (from the range, else ephemeral). Returns NULL with *err set
 * to a negative errno. The session does not reflect until started. */
tw_refl_session *tw_refl_session_new(tw_loop *loop, const tw_refl_params *p, int *err);
void tw_refl_session_free(tw_refl_session *s); /* NULL-safe */

uint16_t tw_refl_session_port(const tw_refl_session *s);

void tw_refl_session_start(tw_refl_session *s);
/* Keeps reflecting for the Timeout, then ends (on_done). Idempotent. */
void tw_refl_session_stop(tw_refl_session *s);

#endif /* TW_REFLECTOR_H */

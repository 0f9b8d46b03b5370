/*
 * light.h - reflectors without TWAMP-Control: TWAMP Light (RFC 5357
 * Appendix I) and STAMP (RFC 8762 with RFC 8972 TLVs) on configured UDP
 * ports. They answer any sender the allow list admits, to the address and
 * port the packet came from.
 *
 * Stateless: the reply carries the sender's sequence number. Stateful: a
 * per-sender counter (per address, port and, for STAMP, SSID) from 0, kept
 * in a fixed-size table whose idle entries expire; when the table is full
 * new senders are dropped and counted. A port serving STAMP also answers
 * TWAMP Light senders (a STAMP reply to a 14-octet packet is the 44-octet
 * base, whose first 41 octets are TWAMP's reflector layout). A packet of 44
 * octets or more whose MBZ octets 16-43 are not zero is a padded TWAMP
 * Light packet: answered with SSID 0 as its session key and its padding
 * returned unparsed.
 */
#ifndef TW_LIGHT_H
#define TW_LIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "net.h"
#include "testpkt.h"

typedef enum tw_light_proto {
	TW_LIGHT_TWAMP = 0, /* TWAMP Light: TWAMP-Test packet formats */
	TW_LIGHT_STAMP = 1, /* STAMP, RFC 8762/8972 */
} tw_light_proto;

typedef enum tw_light_drop {
	TW_LIGHT_DROP_NOT_ALLOWED = 0,
	TW_LIGHT_DROP_SHORT,
	TW_LIGHT_DROP_AUTH,
	TW_LIGHT_DROP_TRUNCATED,
	TW_LIGHT_DROP_SEND,
	TW_LIGHT_DROP_SENDER_LIMIT,
	TW_LIGHT_DROP_COUNT
} tw_light_drop;

const char *tw_light_drop_name(tw_light_drop d);

typedef struct tw_light_stats {
	uint64_t received;
	uint64_t reflected;
	uint64_t dropped[TW_LIGHT_DROP_COUNT];
	uint64_t senders; /* tracked senders now (stateful) */
	uint64_t tlv_malformed;        /* STAMP: replies with a TLV flagged M */
	uint64_t tlv_integrity_failed; /* STAMP: HMAC TLV failed, TLVs flagged I */
	void (*observe_processing)(void *arg, int64_t ns); /* optional */
	void *observe_arg;
} tw_light_stats;

typedef struct tw_light_params {
	tw_light_proto proto;
	const tw_sockaddr *listen;
	size_t nlisten;
	bool stateless;
	uint32_t max_senders;     /* stateful table size (0 = 1024) */
	int64_t sender_idle_ns;   /* forget a sender silent this long (0 = 5 min; a sweep
	                           * every sender_idle_ns / 2 frees its entry) */
	int reply_dscp;           /* -1: copy the received DSCP, else 0-63 */
	bool allow_cos_dscp;      /* STAMP: honour a Class of Service TLV's DSCP1 */
	/* TWAMP Light keyed modes: sec AUTH/ENC with raw test keys; STAMP
	 * authenticated: sec AUTH with an HMAC-SHA-256 key (aes_key NULL). */
	tw_test_sec sec;
	const uint8_t *aes_key;   /* 16 octets (TWAMP Light keyed) */
	const uint8_t *hmac_key;  /* TWAMP: 32 octets; STAMP: hmac_key_len */
	size_t hmac_key_len;
	bool (*allow)(void *arg, const tw_sockaddr *peer); /* NULL = everyone */
	void *allow_arg;
	const uint16_t *errest;   /* our Error Estimate word */
	tw_light_stats *stats;    /* required; the caller keeps it across restarts */
} tw_light_params;

typedef struct tw_light tw_light;

/* Binds every listen address. On failure returns NULL with a message
 * naming the address in err. */
tw_light *tw_light_new(tw_loop *loop, const tw_light_params *p, char *err, size_t errcap);
void tw_light_free(tw_light *l); /* NULL-safe */

/* The bound address of listener i (port 0 resolved), or -EINVAL. */
int tw_light_listen_addr(const tw_light *l, size_t i, tw_sockaddr *out);

#endif /* TW_LIGHT_H */

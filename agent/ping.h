/*
 * ping.h - the one-shot `twamp-agent ping`: one TWAMP session against one
 * server, then a twping-like summary (text or JSON).
 *
 * Exit status (also in --help and the README):
 *   0  the session ran and at least one reply came back
 *   1  the session ran but every packet was lost
 *   2  bad command line
 *   3  network failure: name not resolved, connect failed, connection lost,
 *      no answer in time
 *   4  the server refused or broke the protocol (Modes 0, no common mode,
 *      Accept != 0, malformed messages)
 *   5  authentication failed (keyed modes: unknown identity, wrong secret,
 *      KDF Count above the limit) or the key file could not be used
 */
#ifndef TW_PING_H
#define TW_PING_H

#include <stdbool.h>
#include <stdint.h>

enum {
	TW_PING_OK = 0,
	TW_PING_ALL_LOST = 1,
	TW_PING_USAGE = 2,
	TW_PING_NETWORK = 3,
	TW_PING_REFUSED = 4,
	TW_PING_AUTH = 5,
};

typedef enum tw_ping_protocol {
	TW_PING_TWAMP = 0, /* full TWAMP: TWAMP-Control, then TWAMP-Test */
	TW_PING_LIGHT = 1, /* TWAMP Light: test packets straight to HOST:PORT */
	TW_PING_STAMP = 2, /* STAMP (RFC 8762) */
} tw_ping_protocol;

typedef struct tw_ping_opts {
	tw_ping_protocol protocol;
	uint16_t ssid;            /* STAMP: 0 = random */
	uint32_t tlvs;            /* STAMP: TW_SENDER_TLV_* */
	uint32_t features;        /* TWAMP optional features (TW_MODE_* bits) */
	const char *host;
	uint16_t port;
	int family;               /* AF_UNSPEC, AF_INET, AF_INET6 */
	uint64_t count;
	int64_t interval_ns;
	bool poisson;
	int64_t padding;          /* -1: the size-symmetric default for the mode */
	bool zero_padding;
	int dscp;
	int64_t loss_timeout_ns;
	int64_t session_timeout_ns; /* Request-TW-Session Timeout; 0 = loss timeout */
	bool json;
	uint32_t modes;           /* acceptable security modes (TW_MODE_* bits) */
	const char *identity;
	const char *key_file;
	uint32_t max_kdf_count;
	const char *source;       /* source address, or NULL */
	const char *ifname;       /* source interface, or NULL */
	int64_t connect_timeout_ns;
} tw_ping_opts;

/* Runs the session and prints the summary on stdout (errors on stderr).
 * Returns one of the exit statuses above. */
int tw_ping_run(const tw_ping_opts *o);

#endif /* TW_PING_H */

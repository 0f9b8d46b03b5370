/*
 * captures.h - what shared/interop/captures/README.md lists for each of
 * the seven twping<->twampd captures, as one table for every test that
 * replays them (TWAMP-Control in test_captures_control.c, TWAMP-Test in
 * test_captures_test.c). Hex fields are text for hexvec.h; a NULL field
 * is one the README does not list for that capture.
 */
#ifndef TW_CAPTURES_H
#define TW_CAPTURES_H

#include <stddef.h>
#include <stdint.h>

#include "pcap.h"
#include "testpkt.h"
#include "timestamp.h"

typedef struct tw_capture {
	const char *file;
	uint32_t mode;      /* the Mode twping chose */
	unsigned dscp;
	/* Greeting, Set-Up-Response, Server-Start */
	const char *challenge, *salt, *keyid, *token, *client_iv, *server_iv;
	/* keyed captures: the KDF key, the Token's session keys, every HMAC */
	const char *kdf_key, *aes_key, *hmac_key;
	const char *h_request, *h_start, *h_stop, *h_accept, *h_start_ack;
	/* the one session: Accept-Session and Request-TW-Session */
	uint16_t port;      /* the reflector's test port */
	const char *sid;
	uint8_t ipvn;
	uint16_t sender_port, receiver_port;
	uint32_t padding;
	tw_ts start_time, timeout;
	uint32_t type_p;
	const char *addr;   /* sender = receiver address (loopback) */
	const char *request_clear;
	/* TWAMP-Test: its security, sender and reflector packet lengths;
	 * authenticated/encrypted: the test keys and the cleartext of the
	 * first sender (frame 14) and reflector (frame 15) packets */
	tw_test_sec test_sec;
	size_t snd_len, refl_len;
	const char *test_aes, *test_hmac, *clear14, *clear15;
} tw_capture;

enum {
	TW_CAP_OPEN,
	TW_CAP_OPEN_NOPAD,
	TW_CAP_OPEN_PAD64_EF,
	TW_CAP_IPV6_OPEN,
	TW_CAP_AUTHENTICATED, /* the keyed ones last: from here on */
	TW_CAP_ENCRYPTED,
	TW_CAP_MIXED,
	TW_NCAPTURES
};

extern const tw_capture tw_captures[TW_NCAPTURES];

/* Loads k's pcap file from the directory dir (tw_pcap_load); 0 or -1. */
int tw_capture_load(const tw_capture *k, const char *dir, tw_pcap *out);

#endif

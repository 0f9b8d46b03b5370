/* fuzz_control_msgs.c - every TWAMP-Control decoder on the input (whole,
 * and on the prefix of its exact length), plus decode -> encode -> decode
 * round trips that must reproduce the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#define CHECK(x)                                                                                                       \
	do {                                                                                                           \
		if (!(x))                                                                                              \
			abort();                                                                                       \
	} while (0)

static void greeting(const uint8_t *d, size_t n)
{
	tw_greeting a, b;
	uint8_t buf[TW_GREETING_LEN];
	if (tw_greeting_decode(d, n, &a) != 0)
		return;
	CHECK(tw_greeting_encode(&a, buf, sizeof(buf)) == TW_GREETING_LEN);
	CHECK(tw_greeting_decode(buf, sizeof(buf), &b) == 0);
	CHECK(a.modes == b.modes && a.count == b.count && !memcmp(a.challenge, b.challenge, 16) &&
	      !memcmp(a.salt, b.salt, 16));
}

static void setup(const uint8_t *d, size_t n)
{
	tw_setup a, b;
	uint8_t buf[TW_SETUP_LEN];
	if (tw_setup_decode(d, n, &a) != 0)
		return;
	CHECK(tw_setup_encode(&a, buf, sizeof(buf)) == TW_SETUP_LEN);
	CHECK(memcmp(buf, d, TW_SETUP_LEN) == 0); /* no MBZ: identical */
	CHECK(tw_setup_decode(buf, sizeof(buf), &b) == 0 && a.mode == b.mode);
	(void)tw_mode_security(a.mode);
}

static void server_start(const uint8_t *d, size_t n)
{
	tw_server_start a, b;
	uint8_t buf[TW_SERVER_START_LEN];
	if (tw_server_start_decode(d, n, &a) != 0)
		return;
	CHECK(tw_server_start_encode(&a, buf, sizeof(buf)) == TW_SERVER_START_LEN);
	CHECK(tw_server_start_decode(buf, sizeof(buf), &b) == 0);
	CHECK(a.accept == b.accept && a.start_time == b.start_time && !memcmp(a.server_iv, b.server_iv, 16));
	(void)tw_accept_str(a.accept);
}

static void request(const uint8_t *d, size_t n)
{
	tw_request a, b;
	uint8_t buf[TW_REQUEST_LEN];
	if (tw_request_decode(d, n, &a) != 0)
		return;
	CHECK(tw_request_encode(&a, buf, sizeof(buf)) == TW_REQUEST_LEN);
	CHECK(tw_request_decode(buf, sizeof(buf), &b) == 0);
	CHECK(a.ipvn == b.ipvn && a.padding == b.padding && a.timeout == b.timeout && a.type_p == b.type_p &&
	      a.sender_port == b.sender_port && a.receiver_port == b.receiver_port && !memcmp(a.sid, b.sid, 16) &&
	      !memcmp(a.hmac, b.hmac, 16));
	unsigned acc = tw_request_check(&a);
	CHECK(acc == TW_ACCEPT_OK || acc == TW_ACCEPT_NOT_SUPPORTED);
	CHECK(tw_type_p_from_dscp(tw_type_p_dscp(a.type_p)) == (a.type_p & 0x3F000000u));
}

static void accept_session(const uint8_t *d, size_t n)
{
	tw_accept_session a, b;
	uint8_t buf[TW_ACCEPT_LEN];
	if (tw_accept_decode(d, n, &a) != 0)
		return;
	CHECK(tw_accept_encode(&a, buf, sizeof(buf)) == TW_ACCEPT_LEN);
	CHECK(tw_accept_decode(buf, sizeof(buf), &b) == 0);
	CHECK(a.accept == b.accept && a.port == b.port && !memcmp(a.sid, b.sid, 16) &&
	      a.reflected_octets == b.reflected_octets && a.server_octets == b.server_octets);
}

static void short_msgs(const uint8_t *d, size_t n)
{
	uint8_t mac[16], buf[32];
	tw_start_ack sa;
	tw_stop st, st2;
	if (tw_start_decode(d, n, mac) == 0)
		CHECK(tw_start_encode(mac, buf, sizeof(buf)) == TW_START_LEN);
	if (tw_start_ack_decode(d, n, &sa) == 0)
		CHECK(tw_start_ack_encode(&sa, buf, sizeof(buf)) == TW_START_ACK_LEN);
	if (tw_stop_decode(d, n, &st) == 0) {
		CHECK(tw_stop_encode(&st, buf, sizeof(buf)) == TW_STOP_LEN);
		CHECK(tw_stop_decode(buf, sizeof(buf), &st2) == 0 && st.nsessions == st2.nsessions &&
		      st.accept == st2.accept);
	}
}

static void sids(const uint8_t *d, size_t n)
{
	tw_sids_msg a, b;
	static uint8_t buf[32 + 16 * 4096];
	if (n >= TW_BLOCK_LEN) {
		long len = tw_sids_msg_len(d, 4096);
		long clen = tw_client_msg_len(d, 4096);
		CHECK(len < 0 || (len >= 48 && (len - 32) % 16 == 0));
		CHECK(clen < 0 || clen == 32 || clen == 112 || clen == len);
	}
	if (tw_sids_decode(d, n, &a) != 0)
		return;
	CHECK(a.n >= 1 && n == 32 + (size_t)a.n * 16 && a.sids == d + 16);
	if (n > sizeof(buf))
		return;
	CHECK(tw_sids_encode(&a, buf, sizeof(buf)) == (int)n);
	CHECK(tw_sids_decode(buf, n, &b) == 0);
	CHECK(a.cmd == b.cmd && a.accept == b.accept && a.n == b.n && !memcmp(a.sids, b.sids, 16 * (size_t)a.n));
}

static void all(const uint8_t *d, size_t n)
{
	greeting(d, n);
	setup(d, n);
	server_start(d, n);
	request(d, n);
	accept_session(d, n);
	short_msgs(d, n);
	sids(d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t lens[] = { TW_START_LEN, TW_GREETING_LEN, TW_ACCEPT_LEN, TW_REQUEST_LEN, TW_SETUP_LEN };
	all(data, size);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		if (size > lens[i])
			all(data, lens[i]);
	return 0;
}

/* fuzz_ctrl_client.c - the Control-Client state machine fed arbitrary
 * server octets, driving the conversation as a client would (Set-Up-
 * Response, requests, Start/Stop or Start-N/Stop-N) so that deep states
 * are reachable.
 *
 * Input: octet 0 = profile, the rest = server->client stream.
 *   profile & 3   mode and session keys: open (0), or the authenticated
 *                 (1), encrypted (2), mixed (3) capture's keys recovered
 *                 from its Token, so the captured server streams decrypt
 *                 and their HMACs verify
 *   profile & 16  add Individual Session Control to the mode
 *   profile & 32  request two sessions before starting */
#include <stdint.h>
#include <string.h>

#include "ctrl_client.h"

enum { MAXS = 4 };
_Static_assert(TW_SIDS_BASE_LEN + 16 * MAXS <= TW_SETUP_LEN, "output buffer");

static const uint8_t SECRET[] = "twamp-interop-secret";
static const uint32_t MODES[4] = { TW_MODE_OPEN, TW_MODE_AUTH, TW_MODE_ENC, TW_MODE_MIXED };

/* aes key, hmac key, client IV of the authenticated, encrypted and mixed
 * captures (README: "Token plaintext", "client_iv") */
static const uint8_t KEYS[3][64] = {
	{ 0xd5, 0x95, 0x25, 0x8c, 0x93, 0x92, 0x4b, 0xe7, 0x7b, 0x1f, 0x46, 0xb4, 0xb2, 0x52, 0x8c, 0x05,
	  0x00, 0xc7, 0x22, 0x8e, 0x07, 0x56, 0xfc, 0x92, 0xa1, 0xfe, 0x92, 0xd5, 0x67, 0xe5, 0xa1, 0x49,
	  0x56, 0x0e, 0xdd, 0x15, 0x19, 0x38, 0x1f, 0xa1, 0x51, 0xe0, 0x01, 0x9c, 0x6f, 0xd6, 0x67, 0xe1,
	  0xb8, 0x30, 0x77, 0xf5, 0x41, 0x9c, 0x41, 0x2b, 0x18, 0xe7, 0x11, 0x49, 0xc9, 0xcc, 0x98, 0xcd },
	{ 0x79, 0xa9, 0xfc, 0x59, 0xfa, 0x75, 0xd1, 0x34, 0x64, 0x2f, 0x0a, 0xe2, 0xe5, 0x78, 0x3c, 0xe6,
	  0x35, 0x29, 0x1c, 0xde, 0xfd, 0xb0, 0x8c, 0x68, 0x71, 0x5a, 0xb3, 0x30, 0xbd, 0xa7, 0x4c, 0x74,
	  0x46, 0xce, 0x21, 0x57, 0x6d, 0x4a, 0xec, 0x99, 0x76, 0xca, 0x84, 0x4d, 0xcf, 0x4d, 0xcd, 0x84,
	  0xe1, 0x73, 0xef, 0xcb, 0x66, 0xa0, 0xc7, 0x9d, 0xfd, 0x9e, 0x1d, 0x54, 0xc6, 0x9a, 0xde, 0xf1 },
	{ 0x39, 0x01, 0x6d, 0x31, 0x32, 0xea, 0xf2, 0x5f, 0x26, 0xb0, 0x59, 0x7a, 0xf3, 0x24, 0x95, 0xf4,
	  0x59, 0x3c, 0x96, 0x3a, 0x6c, 0x86, 0x85, 0xaf, 0x23, 0xc4, 0xc4, 0xbd, 0x75, 0x0d, 0x4d, 0x8a,
	  0x5a, 0x8f, 0xf9, 0x95, 0x9c, 0x95, 0x4e, 0xc7, 0xa1, 0xe2, 0x26, 0xb5, 0x75, 0x07, 0x34, 0x52,
	  0x97, 0xbe, 0x10, 0x7e, 0x70, 0x92, 0xbc, 0x08, 0xf0, 0x40, 0x42, 0x36, 0xea, 0xa2, 0x68, 0x5c },
};

typedef struct drive {
	uint8_t profile;
	unsigned requests;
	uint8_t sid[TW_SID_LEN];
	uint8_t out[TW_SETUP_LEN]; /* the longest message we send */
} drive;

static int on_greeting(tw_cli *c, drive *d, const tw_greeting *g)
{
	unsigned k = d->profile & 3u;
	uint32_t mode = MODES[k] | ((d->profile & 16) ? TW_MODE_ISC : 0u);
	if (mode & ~g->modes)
		mode = tw_mode_choose(g->modes, 0xf) | (g->modes & (mode & TW_MODE_ISC));
	tw_cli_random rnd;
	memcpy(rnd.aes_key, KEYS[k ? k - 1 : 0], 16);
	memcpy(rnd.hmac_key, KEYS[k ? k - 1 : 0] + 16, 32);
	memcpy(rnd.client_iv, KEYS[k ? k - 1 : 0] + 48, 16);
	return tw_cli_setup(c, mode, "testuser", SECRET, sizeof(SECRET) - 1, &rnd, 0, d->out, sizeof(d->out));
}

static int send_request(tw_cli *c, drive *d)
{
	tw_request r = { .ipvn = 4, .sender_port = 9056, .receiver_port = 9056, .padding = 64,
			 .timeout = 0x0000000200000000ULL };
	r.sender_addr[0] = r.receiver_addr[0] = 127;
	r.sender_addr[3] = r.receiver_addr[3] = 1;
	d->requests++;
	return tw_cli_request(c, &r, d->out, sizeof(d->out));
}

static int on_accept(tw_cli *c, drive *d, const tw_accept_session *a)
{
	bool isc = (tw_cli_mode(c) & TW_MODE_ISC) != 0;
	if (a->accept == 0)
		memcpy(d->sid, a->sid, TW_SID_LEN);
	if ((d->profile & 32) && d->requests < 2)
		return send_request(c, d);
	if (isc)
		return a->accept == 0 ? tw_cli_start_n(c, 1, d->sid, d->out, sizeof(d->out)) : 0;
	return tw_cli_start(c, d->out, sizeof(d->out));
}

static int answer(tw_cli *c, drive *d, const tw_cli_event *ev)
{
	switch (ev->type) {
	case TW_CLI_EV_GREETING:
		return on_greeting(c, d, &ev->u.greeting);
	case TW_CLI_EV_SERVER_START:
		return tw_cli_get_state(c) == TW_CLI_IDLE ? send_request(c, d) : 0;
	case TW_CLI_EV_ACCEPT:
		return on_accept(c, d, &ev->u.accept);
	case TW_CLI_EV_START_ACK:
		return tw_cli_get_state(c) == TW_CLI_TESTING ? tw_cli_stop(c, 0, d->out, sizeof(d->out)) : 0;
	case TW_CLI_EV_N_ACK:
		if (ev->u.sids.cmd == TW_CMD_START_N_ACK && tw_cli_sessions_running(c) > 0)
			return tw_cli_stop_n(c, 1, d->sid, d->out, sizeof(d->out));
		return 0;
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	drive d = { .profile = data[0] };
	tw_cli *c = tw_cli_new(MAXS);
	if (!c)
		return 0;
	size_t off = 1;
	while (off < size) {
		tw_cli_event ev;
		size_t used = tw_cli_feed(c, data + off, size - off, &ev);
		off += used;
		if (ev.type == TW_CLI_EV_ERROR || answer(c, &d, &ev) < 0)
			break;
		if (used == 0 && ev.type == TW_CLI_EV_NONE)
			break;
	}
	tw_test_crypto_free(tw_cli_test_crypto(c, d.sid));
	(void)tw_cli_state_name(tw_cli_get_state(c));
	tw_cli_free(c);
	return 0;
}

/* fuzz_ctrl_server.c - the Server state machine after its greeting, fed
 * arbitrary client octets and answering every event the way a server
 * would (authenticate, Server-Start, accept sessions, acks), so that deep
 * states are reachable.
 *
 * Input: octet 0 = profile, the rest = client->server stream.
 *   profile & 3   greeting Challenge/Salt of the authenticated (0 or 3),
 *                 encrypted (1) or mixed (2) capture, so the captured
 *                 keyed streams pass the Token and HMAC checks; open-mode
 *                 streams work with any of them
 *   profile & 16  offer Individual Session Control as well (Modes 0x1f)
 * Accepted sessions get SID 7f000001 00000000 00000000 <index + 1>
 * (test_captures_control writes ISC seeds with the same SIDs). */
#include <stdint.h>
#include <string.h>

#include "ctrl_server.h"

enum { MAXS = 4 };

static const uint8_t SECRET[] = "twamp-interop-secret";

static const uint8_t CHALLENGE_SALT[3][32] = {
	{ 0x57, 0xaa, 0xa7, 0x0e, 0x4a, 0x78, 0x52, 0x1c, 0x8b, 0x36, 0x0d, 0xc1, 0x9b, 0xb5, 0xa4, 0xf2,
	  0x30, 0x14, 0x77, 0xbc, 0x1c, 0x35, 0x4f, 0x33, 0xed, 0xde, 0xf0, 0x84, 0x08, 0x9f, 0xf0, 0xb5 },
	{ 0x85, 0xf5, 0xb0, 0xba, 0xd5, 0x85, 0xb2, 0xe5, 0x4c, 0x58, 0x3f, 0x36, 0xd0, 0xfb, 0xc3, 0x64,
	  0x30, 0x37, 0x73, 0x3c, 0x24, 0xf9, 0x2c, 0xf2, 0x78, 0x45, 0x99, 0x61, 0x02, 0x7c, 0x62, 0xca },
	{ 0x94, 0x53, 0x7e, 0x37, 0xa4, 0xd4, 0x31, 0x6b, 0x91, 0xb1, 0xa2, 0x8e, 0xc1, 0x5c, 0x75, 0xc9,
	  0xd9, 0x1a, 0x3a, 0xb2, 0x70, 0x8f, 0x1a, 0x32, 0xee, 0xca, 0x5d, 0xea, 0x0c, 0xb0, 0xa8, 0x5b },
};

static void sid_for(uint32_t i, uint8_t sid[TW_SID_LEN])
{
	memset(sid, 0, TW_SID_LEN);
	sid[0] = 0x7f;
	sid[3] = 0x01;
	sid[12] = (uint8_t)((i + 1) >> 24);
	sid[13] = (uint8_t)((i + 1) >> 16);
	sid[14] = (uint8_t)((i + 1) >> 8);
	sid[15] = (uint8_t)(i + 1);
}

static int on_setup(tw_srv *s, const tw_srv_event *ev, uint8_t *out, size_t cap)
{
	static const uint8_t iv[TW_IV_LEN] = { 0x2c, 0xf7, 0x18, 0x47 };
	uint8_t acc = ev->u.setup.accept;
	if (acc == 0)
		acc = tw_srv_authenticate(s, SECRET, sizeof(SECRET) - 1);
	return tw_srv_server_start(s, acc, iv, 0xeeadbbbb00000000ULL, out, cap);
}

static int on_request(tw_srv *s, const tw_srv_event *ev, uint8_t *out, size_t cap)
{
	tw_accept_session a = { .accept = ev->u.request.accept, .port = 18816 };
	if (a.accept == 0 && tw_srv_sessions_accepted(s) >= MAXS)
		a.accept = TW_ACCEPT_PERMANENT;
	sid_for(tw_srv_sessions_accepted(s), a.sid);
	return tw_srv_accept(s, &a, out, cap);
}

static int answer(tw_srv *s, const tw_srv_event *ev, uint8_t *out, size_t cap)
{
	const tw_sids_msg *m = &ev->u.sids;
	switch (ev->type) {
	case TW_SRV_EV_SETUP:
		return on_setup(s, ev, out, cap);
	case TW_SRV_EV_REQUEST:
		return on_request(s, ev, out, cap);
	case TW_SRV_EV_START:
		return tw_srv_start_ack(s, 0, out, cap);
	case TW_SRV_EV_START_N:
	case TW_SRV_EV_STOP_N:
		return tw_srv_sids_ack(s, (uint8_t)(m->cmd + 1), m->accept, m->n, m->sids, out, cap);
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t profile = data[0];
	tw_srv *s = tw_srv_new(MAXS);
	if (!s)
		return 0;
	tw_greeting g = { .modes = (profile & 16) ? 0x1fu : 0x0fu, .count = 2048 };
	unsigned gi = (profile & 3u) % 3u;
	memcpy(g.challenge, CHALLENGE_SALT[gi], 16);
	memcpy(g.salt, CHALLENGE_SALT[gi] + 16, 16);
	uint8_t out[TW_SIDS_BASE_LEN + 16 * MAXS];
	(void)tw_srv_greeting(s, &g, out, sizeof(out));

	size_t off = 1;
	while (off < size) {
		tw_srv_event ev;
		size_t used = tw_srv_feed(s, data + off, size - off, &ev);
		off += used;
		if (ev.type == TW_SRV_EV_ERROR || answer(s, &ev, out, sizeof(out)) < 0)
			break;
		if (used == 0 && ev.type == TW_SRV_EV_NONE)
			break;
	}
	uint8_t sid[TW_SID_LEN];
	sid_for(0, sid);
	tw_test_crypto_free(tw_srv_test_crypto(s, sid));
	(void)tw_srv_state_name(tw_srv_get_state(s));
	(void)tw_srv_sessions_running(s);
	(void)tw_srv_mode(s);
	tw_srv_free(s);
	return 0;
}

/*
 * control.c - TWAMP-Control message codecs (see control.h; layouts from
 * ../shared/spec/control.md §3-§7). Every message sits under its byte
 * table; field offsets are named constants and each gap between two
 * offsets is an MBZ/unused run: zero on encode, skipped on decode.
 */
#include "control.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "wire.h"

/* ---- small helpers ---- */

const char *tw_accept_str(unsigned accept)
{
	switch (accept) {
	case TW_ACCEPT_OK:
		return "ok";
	case TW_ACCEPT_INTERNAL:
		return "internal error";
	case TW_ACCEPT_NOT_SUPPORTED:
		return "not supported";
	case TW_ACCEPT_PERMANENT:
		return "permanent resource limitation";
	case TW_ACCEPT_TEMPORARY:
		return "temporary resource limitation";
	case TW_ACCEPT_NO_IKEV2_SA:
		return "no IKEv2 SA";
	default: /* 1 and every value we do not know read as failure */
		return "failure";
	}
}

uint32_t tw_mode_security(uint32_t mode)
{
	uint32_t sec = mode & TW_MODES_SECURITY;
	/* exactly one bit set: non-zero and a power of two */
	if (sec == 0 || (sec & (sec - 1)) != 0)
		return 0;
	return sec;
}

const char *tw_mode_name(uint32_t mode)
{
	switch (tw_mode_security(mode)) {
	case TW_MODE_OPEN:
		return "unauthenticated";
	case TW_MODE_AUTH:
		return "authenticated";
	case TW_MODE_ENC:
		return "encrypted";
	case TW_MODE_MIXED:
		return "mixed";
	default:
		return "";
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Ends an encode: the length was checked up front, so the cursor cannot
 * have overflowed; the check keeps that promise explicit. */
static int wr_done(const tw_wr *w, size_t expect)
{
	if (!tw_wr_ok(w) || tw_wr_len(w) != expect)
		return -ENOSPC;
	return (int)expect;
}

static int rd_done(const tw_rd *r)
{
	return tw_rd_ok(r) && tw_rd_left(r) == 0 ? 0 : -EMSGSIZE;
}

/*
 * ---- Server Greeting (Server -> Client, 64 octets, §3) ----
 *
 *   Off Len  Field
 *    0   12  Unused
 *   12    4  Modes
 *   16   16  Challenge
 *   32   16  Salt
 *   48    4  Count
 *   52   12  MBZ
 */
enum {
	GR_OFF_MODES = 12,
	GR_OFF_CHALLENGE = 16,
	GR_OFF_SALT = 32,
	GR_OFF_COUNT = 48,
	GR_OFF_MBZ = 52,
};

int tw_greeting_encode(const tw_greeting *m, uint8_t *buf, size_t cap)
{
	if (cap < TW_GREETING_LEN)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_zero(&w, GR_OFF_MODES);
	tw_wr_u32(&w, m->modes);
	tw_wr_copy(&w, m->challenge, GR_OFF_SALT - GR_OFF_CHALLENGE);
	tw_wr_copy(&w, m->salt, GR_OFF_COUNT - GR_OFF_SALT);
	tw_wr_u32(&w, m->count);
	tw_wr_zero(&w, TW_GREETING_LEN - GR_OFF_MBZ);
	return wr_done(&w, TW_GREETING_LEN);
}

int tw_greeting_decode(const uint8_t *buf, size_t len, tw_greeting *m)
{
	if (len != TW_GREETING_LEN)
		return -EMSGSIZE;
	tw_rd r = tw_rd_make(buf, len);
	tw_rd_skip(&r, GR_OFF_MODES);
	m->modes = tw_rd_u32(&r);
	tw_rd_copy(&r, m->challenge, GR_OFF_SALT - GR_OFF_CHALLENGE);
	tw_rd_copy(&r, m->salt, GR_OFF_COUNT - GR_OFF_SALT);
	m->count = tw_rd_u32(&r);
	tw_rd_skip(&r, TW_GREETING_LEN - GR_OFF_MBZ);
	return rd_done(&r);
}

/*
 * ---- Set-Up-Response (Client -> Server, 164 octets, §5.1) ----
 *
 *   Off Len  Field
 *    0    4  Mode
 *    4   80  KeyID (zero padded)
 *   84   64  Token
 *  148   16  Client-IV
 */
enum {
	SU_OFF_MODE = 0,
	SU_OFF_KEYID = 4,
	SU_OFF_TOKEN = SU_OFF_KEYID + TW_KEYID_LEN,
	SU_OFF_CLIENT_IV = SU_OFF_TOKEN + TW_TOKEN_LEN,
};
_Static_assert(SU_OFF_CLIENT_IV + TW_IV_LEN == TW_SETUP_LEN, "Set-Up-Response layout");

int tw_setup_encode(const tw_setup *m, uint8_t *buf, size_t cap)
{
	if (cap < TW_SETUP_LEN)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_u32(&w, m->mode);
	tw_wr_copy(&w, m->keyid, TW_KEYID_LEN);
	tw_wr_copy(&w, m->token, TW_TOKEN_LEN);
	tw_wr_copy(&w, m->client_iv, TW_IV_LEN);
	return wr_done(&w, TW_SETUP_LEN);
}

int tw_setup_decode(const uint8_t *buf, size_t len, tw_setup *m)
{
	if (len != TW_SETUP_LEN)
		return -EMSGSIZE;
	tw_rd r = tw_rd_make(buf, len);
	m->mode = tw_rd_u32(&r);
	tw_rd_copy(&r, m->keyid, TW_KEYID_LEN);
	tw_rd_copy(&r, m->token, TW_TOKEN_LEN);
	tw_rd_copy(&r, m->client_iv, TW_IV_LEN);
	return rd_done(&r);
}

/*
 * ---- Server-Start (Server -> Client, 48 octets, §5.2) ----
 *
 *   Off Len  Field
 *    0   15  MBZ
 *   15    1  Accept
 *   16   16  Server-IV
 *   32    8  Start-Time      \ one block, encrypted in keyed
 *   40    8  MBZ             / modes when Accept = 0
 */
enum {
	SS_OFF_ACCEPT = 15,
	SS_OFF_SERVER_IV = 16,
	SS_OFF_START_TIME = 32,
	SS_OFF_MBZ = 40,
};

int tw_server_start_encode(const tw_server_start *m, uint8_t *buf, size_t cap)
{
	if (cap < TW_SERVER_START_LEN)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_zero(&w, SS_OFF_ACCEPT);
	tw_wr_u8(&w, m->accept);
	tw_wr_copy(&w, m->server_iv, TW_IV_LEN);
	tw_wr_u64(&w, m->start_time);
	tw_wr_zero(&w, TW_SERVER_START_LEN - SS_OFF_MBZ);
	return wr_done(&w, TW_SERVER_START_LEN);
}

int tw_server_start_decode(const uint8_t *buf, size_t len, tw_server_start *m)
{
	if (len != TW_SERVER_START_LEN)
		return -EMSGSIZE;
	tw_rd r = tw_rd_make(buf, len);
	tw_rd_skip(&r, SS_OFF_ACCEPT);
	m->accept = tw_rd_u8(&r);
	tw_rd_copy(&r, m->server_iv, TW_IV_LEN);
	m->start_time = tw_rd_u64(&r);
	tw_rd_skip(&r, TW_SERVER_START_LEN - SS_OFF_MBZ);
	return rd_done(&r);
}

/*
 * ---- Request-TW-Session (command 5, 112 octets, §7.2) ----
 *
 *   Off Len  Field
 *    0    1  Command = 5
 *    1    1  MBZ (high nibble) | IPVN (low nibble)
 *    2    1  Conf-Sender
 *    3    1  Conf-Receiver
 *    4    4  Number of Schedule Slots
 *    8    4  Number of Packets
 *   12    2  Sender Port
 *   14    2  Receiver Port
 *   16   16  Sender Address
 *   32   16  Receiver Address
 *   48   16  SID
 *   64    4  Padding Length
 *   68    8  Start Time
 *   76    8  Timeout
 *   84    4  Type-P Descriptor
 *   88    2  Octets to be reflected     (RFC 6038)
 *   90    2  Length of padding to reflect (RFC 6038)
 *   92    4  MBZ
 *   96   16  HMAC
 */
enum {
	RQ_OFF_IPVN = 1,
	RQ_OFF_SENDER_ADDR = 16,
	RQ_OFF_RECEIVER_ADDR = 32,
	RQ_OFF_SID = 48,
	RQ_OFF_PADDING = 64,
	RQ_OFF_TYPE_P = 84,
	RQ_OFF_PAD_REFLECT = 90,
	RQ_OFF_MBZ = 92,
	RQ_OFF_HMAC = 96,
	RQ_IPVN_MASK = 0x0F,
};
_Static_assert(RQ_OFF_HMAC + TW_HMAC_LEN == TW_REQUEST_LEN, "Request-TW-Session layout");

int tw_request_encode(const tw_request *m, uint8_t *buf, size_t cap)
{
	if (cap < TW_REQUEST_LEN)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_u8(&w, TW_CMD_REQUEST);
	tw_wr_u8(&w, (uint8_t)(m->ipvn & RQ_IPVN_MASK));
	tw_wr_u8(&w, m->conf_sender);
	tw_wr_u8(&w, m->conf_receiver);
	tw_wr_u32(&w, m->slots);
	tw_wr_u32(&w, m->packets);
	tw_wr_u16(&w, m->sender_port);
	tw_wr_u16(&w, m->receiver_port);
	tw_wr_copy(&w, m->sender_addr, RQ_OFF_RECEIVER_ADDR - RQ_OFF_SENDER_ADDR);
	tw_wr_copy(&w, m->receiver_addr, RQ_OFF_SID - RQ_OFF_RECEIVER_ADDR);
	tw_wr_copy(&w, m->sid, TW_SID_LEN);
	tw_wr_u32(&w, m->padding);
	tw_wr_u64(&w, m->start_time);
	tw_wr_u64(&w, m->timeout);
	tw_wr_u32(&w, m->type_p);
	tw_wr_u16(&w, m->octets_reflected);
	tw_wr_u16(&w, m->pad_reflect_len);
	tw_wr_zero(&w, RQ_OFF_HMAC - RQ_OFF_MBZ);
	tw_wr_copy(&w, m->hmac, TW_HMAC_LEN);
	return wr_done(&w, TW_REQUEST_LEN);
}

int tw_request_decode(const uint8_t *buf, size_t len, tw_request *m)
{
	if (len != TW_REQUEST_LEN)
		return -EMSGSIZE;
	tw_rd r = tw_rd_make(buf, len);
	if (tw_rd_u8(&r) != TW_CMD_REQUEST)
		return -EBADMSG;
	m->ipvn = tw_rd_u8(&r) & RQ_IPVN_MASK;
	m->conf_sender = tw_rd_u8(&r);
	m->conf_receiver = tw_rd_u8(&r);
	m->slots = tw_rd_u32(&r);
	m->packets = tw_rd_u32(&r);
	m->sender_port = tw_rd_u16(&r);
	m->receiver_port = tw_rd_u16(&r);
	tw_rd_copy(&r, m->sender_addr, RQ_OFF_RECEIVER_ADDR - RQ_OFF_SENDER_ADDR);
	tw_rd_copy(&r, m->receiver_addr, RQ_OFF_SID - RQ_OFF_RECEIVER_ADDR);
	tw_rd_copy(&r, m->sid, TW_SID_LEN);
	m->padding = tw_rd_u32(&r);
	m->start_time = tw_rd_u64(&r);
	m->timeout = tw_rd_u64(&r);
	m->type_p = tw_rd_u32(&r);
	m->octets_reflected = tw_rd_u16(&r);
	m->pad_reflect_len = tw_rd_u16(&r);
	tw_rd_skip(&r, RQ_OFF_HMAC - RQ_OFF_MBZ);
	tw_rd_copy(&r, m->hmac, TW_HMAC_LEN);
	return rd_done(&r);
}

/* Type-P: only the DSCP form ("00" + 6-bit DSCP + zeros) is usable. */
#define TW_TYPE_P_DSCP_MASK 0x3F000000u

unsigned tw_request_check(const tw_request *m)
{
	if (m->conf_sender != 0 || m->conf_receiver != 0)
		return TW_ACCEPT_NOT_SUPPORTED;
	if (m->slots != 0 || m->packets != 0)
		return TW_ACCEPT_NOT_SUPPORTED;
	if (m->ipvn != 4 && m->ipvn != 6)
		return TW_ACCEPT_NOT_SUPPORTED;
	if ((m->type_p & ~TW_TYPE_P_DSCP_MASK) != 0)
		return TW_ACCEPT_NOT_SUPPORTED;
	if (!all_zero(m->sid, TW_SID_LEN))
		return TW_ACCEPT_NOT_SUPPORTED;
	return TW_ACCEPT_OK;
}

/*
 * ---- Accept-Session (Server -> Client, 48 octets, §7.3) ----
 *
 *   Off Len  Field
 *    0    1  Accept
 *    1    1  MBZ
 *    2    2  Port
 *    4   16  SID
 *   20    2  Reflected octets (RFC 6038)
 *   22    2  Server octets    (RFC 6038)
 *   24    8  MBZ
 *   32   16  HMAC
 */
enum {
	AS_OFF_MBZ1 = 1,
	AS_OFF_PORT = 2,
	AS_OFF_SID = 4,
	AS_OFF_REFLECTED = 20,
	AS_OFF_MBZ2 = 24,
	AS_OFF_HMAC = 32,
};
_Static_assert(AS_OFF_HMAC + TW_HMAC_LEN == TW_ACCEPT_LEN, "Accept-Session layout");

int tw_accept_encode(const tw_accept_session *m, uint8_t *buf, size_t cap)
{
	if (cap < TW_ACCEPT_LEN)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_u8(&w, m->accept);
	tw_wr_zero(&w, AS_OFF_PORT - AS_OFF_MBZ1);
	tw_wr_u16(&w, m->port);
	tw_wr_copy(&w, m->sid, TW_SID_LEN);
	tw_wr_u16(&w, m->reflected_octets);
	tw_wr_u16(&w, m->server_octets);
	tw_wr_zero(&w, AS_OFF_HMAC - AS_OFF_MBZ2);
	tw_wr_copy(&w, m->hmac, TW_HMAC_LEN);
	return wr_done(&w, TW_ACCEPT_LEN);
}

int tw_accept_decode(const uint8_t *buf, size_t len, tw_accept_session *m)
{
	if (len != TW_ACCEPT_LEN)
		return -EMSGSIZE;
	tw_rd r = tw_rd_make(buf, len);
	m->accept = tw_rd_u8(&r);
	tw_rd_skip(&r, AS_OFF_PORT - AS_OFF_MBZ1);
	m->port = tw_rd_u16(&r);
	tw_rd_copy(&r, m->sid, TW_SID_LEN);
	m->reflected_octets = tw_rd_u16(&r);
	m->server_octets = tw_rd_u16(&r);
	tw_rd_skip(&r, AS_OFF_HMAC - AS_OFF_MBZ2);
	tw_rd_copy(&r, m->hmac, TW_HMAC_LEN);
	return rd_done(&r);
}

/*
 * ---- Start-Sessions (command 2, 32 octets, §7.4) ----
 *
 *   Off Len  Field
 *    0    1  Command = 2
 *    1   15  MBZ
 *   16   16  HMAC
 */
enum {
	ST_OFF_MBZ = 1,
	ST_OFF_HMAC = 16,
};

int tw_start_encode(const uint8_t hmac[TW_HMAC_LEN], uint8_t *buf, size_t cap)
{
	if (cap < TW_START_LEN)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_u8(&w, TW_CMD_START);
	tw_wr_zero(&w, ST_OFF_HMAC - ST_OFF_MBZ);
	tw_wr_copy(&w, hmac, TW_HMAC_LEN);
	return wr_done(&w, TW_START_LEN);
}

int tw_start_decode(const uint8_t *buf, size_t len, uint8_t hmac[TW_HMAC_LEN])
{
	if (len != TW_START_LEN)
		return -EMSGSIZE;
	tw_rd r = tw_rd_make(buf, len);
	if (tw_rd_u8(&r) != TW_CMD_START)
		return -EBADMSG;
	tw_rd_skip(&r, ST_OFF_HMAC - ST_OFF_MBZ);
	tw_rd_copy(&r, hmac, TW_HMAC_LEN);
	return rd_done(&r);
}

/*
 * ---- Start-Ack (Server -> Client, 32 octets, §7.4) ----
 *
 *   Off Len  Field
 *    0    1  Accept
 *    1   15  MBZ
 *   16   16  HMAC
 */
enum {
	SA_OFF_MBZ = 1,
	SA_OFF_HMAC = 16,
};

int tw_start_ack_encode(const tw_start_ack *m, uint8_t *buf, size_t cap)
{
	if (cap < TW_START_ACK_LEN)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_u8(&w, m->accept);
	tw_wr_zero(&w, SA_OFF_HMAC - SA_OFF_MBZ);
	tw_wr_copy(&w, m->hmac, TW_HMAC_LEN);
	return wr_done(&w, TW_START_ACK_LEN);
}

int tw_start_ack_decode(const uint8_t *buf, size_t len, tw_start_ack *m)
{
	if (len != TW_START_ACK_LEN)
		return -EMSGSIZE;
	tw_rd r = tw_rd_make(buf, len);
	m->accept = tw_rd_u8(&r);
	tw_rd_skip(&r, SA_OFF_HMAC - SA_OFF_MBZ);
	tw_rd_copy(&r, m->hmac, TW_HMAC_LEN);
	return rd_done(&r);
}

/*
 * ---- Stop-Sessions (command 3, 32 octets, §7.5) ----
 *
 *   Off Len  Field
 *    0    1  Command = 3
 *    1    1  Accept
 *    2    2  MBZ
 *    4    4  Number of Sessions
 *    8    8  MBZ
 *   16   16  HMAC
 */
enum {
	SP_OFF_ACCEPT = 1,
	SP_OFF_MBZ1 = 2,
	SP_OFF_NSESSIONS = 4,
	SP_OFF_MBZ2 = 8,
	SP_OFF_HMAC = 16,
};

int tw_stop_encode(const tw_stop *m, uint8_t *buf, size_t cap)
{
	if (cap < TW_STOP_LEN)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_u8(&w, TW_CMD_STOP);
	tw_wr_u8(&w, m->accept);
	tw_wr_zero(&w, SP_OFF_NSESSIONS - SP_OFF_MBZ1);
	tw_wr_u32(&w, m->nsessions);
	tw_wr_zero(&w, SP_OFF_HMAC - SP_OFF_MBZ2);
	tw_wr_copy(&w, m->hmac, TW_HMAC_LEN);
	return wr_done(&w, TW_STOP_LEN);
}

int tw_stop_decode(const uint8_t *buf, size_t len, tw_stop *m)
{
	if (len != TW_STOP_LEN)
		return -EMSGSIZE;
	tw_rd r = tw_rd_make(buf, len);
	if (tw_rd_u8(&r) != TW_CMD_STOP)
		return -EBADMSG;
	m->accept = tw_rd_u8(&r);
	tw_rd_skip(&r, SP_OFF_NSESSIONS - SP_OFF_MBZ1);
	m->nsessions = tw_rd_u32(&r);
	tw_rd_skip(&r, SP_OFF_HMAC - SP_OFF_MBZ2);
	tw_rd_copy(&r, m->hmac, TW_HMAC_LEN);
	return rd_done(&r);
}

/*
 * ---- Start-N-Sessions (7), Start-N-Ack (8), Stop-N-Sessions (9),
 *      Stop-N-Ack (10) (RFC 5938, 32 + 16 N octets, §7.6) ----
 *
 *   Off     Len  Field
 *    0       1   Command
 *    1       1   Accept (acks; MBZ in the two requests)
 *    2      10   MBZ
 *   12       4   Number of Sessions N (>= 1)
 *   16    16 N   SID 1 .. SID N
 *   16+16N  16   HMAC
 */
enum {
	SN_OFF_ACCEPT = 1,
	SN_OFF_MBZ = 2,
	SN_OFF_N = 12,
	SN_OFF_SIDS = 16,
};

static bool sids_cmd_valid(uint8_t cmd)
{
	return cmd == TW_CMD_START_N || cmd == TW_CMD_START_N_ACK || cmd == TW_CMD_STOP_N ||
	       cmd == TW_CMD_STOP_N_ACK;
}

static bool sids_cmd_is_ack(uint8_t cmd)
{
	return cmd == TW_CMD_START_N_ACK || cmd == TW_CMD_STOP_N_ACK;
}

/* 32 + 16 N without overflow; 0 when it does not fit a size_t/long. */
static size_t sids_len(uint32_t n)
{
	uint64_t total = (uint64_t)TW_SIDS_BASE_LEN + (uint64_t)n * TW_SID_LEN;
	if (total > (uint64_t)LONG_MAX || total > (uint64_t)SIZE_MAX)
		return 0;
	return (size_t)total;
}

int tw_sids_encode(const tw_sids_msg *m, uint8_t *buf, size_t cap)
{
	if (!sids_cmd_valid(m->cmd) || m->n == 0 || !m->sids)
		return -EINVAL;
	size_t total = sids_len(m->n);
	if (total == 0 || total > INT32_MAX)
		return -EINVAL;
	if (cap < total)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_u8(&w, m->cmd);
	tw_wr_u8(&w, sids_cmd_is_ack(m->cmd) ? m->accept : 0);
	tw_wr_zero(&w, SN_OFF_N - SN_OFF_MBZ);
	tw_wr_u32(&w, m->n);
	tw_wr_copy(&w, m->sids, (size_t)m->n * TW_SID_LEN);
	tw_wr_copy(&w, m->hmac, TW_HMAC_LEN);
	return wr_done(&w, total);
}

int tw_sids_decode(const uint8_t *buf, size_t len, tw_sids_msg *m)
{
	if (len < TW_BLOCK_LEN)
		return -EMSGSIZE;
	tw_rd r = tw_rd_make(buf, len);
	m->cmd = tw_rd_u8(&r);
	if (!sids_cmd_valid(m->cmd))
		return -EBADMSG;
	uint8_t accept = tw_rd_u8(&r);
	m->accept = sids_cmd_is_ack(m->cmd) ? accept : 0;
	tw_rd_skip(&r, SN_OFF_N - SN_OFF_MBZ);
	m->n = tw_rd_u32(&r);
	if (m->n == 0)
		return -EBADMSG;
	if (len != sids_len(m->n))
		return -EMSGSIZE;
	m->sids = tw_rd_take(&r, (size_t)m->n * TW_SID_LEN);
	tw_rd_copy(&r, m->hmac, TW_HMAC_LEN);
	return rd_done(&r);
}

long tw_sids_msg_len(const uint8_t first_block[TW_BLOCK_LEN], uint32_t max_n)
{
	tw_rd r = tw_rd_make(first_block, TW_BLOCK_LEN);
	if (!sids_cmd_valid(tw_rd_u8(&r)))
		return -EBADMSG;
	tw_rd_skip(&r, SN_OFF_N - 1);
	uint32_t n = tw_rd_u32(&r);
	if (!tw_rd_ok(&r) || n == 0 || n > max_n)
		return -EMSGSIZE;
	size_t total = sids_len(n);
	return total ? (long)total : -EMSGSIZE;
}

long tw_client_msg_len(const uint8_t first_block[TW_BLOCK_LEN], uint32_t max_n)
{
	tw_rd r = tw_rd_make(first_block, TW_BLOCK_LEN);
	switch (tw_rd_u8(&r)) {
	case TW_CMD_START:
		return TW_START_LEN;
	case TW_CMD_STOP:
		return TW_STOP_LEN;
	case TW_CMD_REQUEST:
		return TW_REQUEST_LEN;
	case TW_CMD_START_N:
	case TW_CMD_STOP_N:
		return tw_sids_msg_len(first_block, max_n);
	default:
		return -EBADMSG;
	}
}

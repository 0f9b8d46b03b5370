/* script.c - the scripted TWAMP peer for tests (see script.h). */
#include "script.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "peer.h"
#include "pump.h"

/* Reads a len-octet message into raw, or into scratch when raw is NULL;
 * returns where it is. */
static const uint8_t *read_msg(tw_loop *l, int fd, uint8_t *raw, uint8_t *scratch, size_t len)
{
	uint8_t *buf = raw ? raw : scratch;
	tw_peer_tcp_read(l, fd, buf, len, TW_PUMP_WAIT_NS);
	return buf;
}

void tw_script_greeting(tw_loop *l, int fd, tw_greeting *g, uint8_t raw[TW_GREETING_LEN])
{
	uint8_t scratch[TW_GREETING_LEN];
	const uint8_t *m = read_msg(l, fd, raw, scratch, TW_GREETING_LEN);
	assert_int_equal(tw_greeting_decode(m, TW_GREETING_LEN, g), 0);
}

void tw_script_setup(int fd, uint32_t mode)
{
	tw_setup s = { .mode = mode };
	uint8_t buf[TW_SETUP_LEN];
	assert_int_equal(tw_setup_encode(&s, buf, sizeof(buf)), TW_SETUP_LEN);
	tw_peer_tcp_send(fd, buf, sizeof(buf));
}

void tw_script_server_start(tw_loop *l, int fd, tw_server_start *m, uint8_t raw[TW_SERVER_START_LEN])
{
	uint8_t scratch[TW_SERVER_START_LEN];
	const uint8_t *msg = read_msg(l, fd, raw, scratch, TW_SERVER_START_LEN);
	assert_int_equal(tw_server_start_decode(msg, TW_SERVER_START_LEN, m), 0);
}

int tw_script_open(tw_loop *l, const tw_sockaddr *server, const char *src, uint32_t mode)
{
	int fd = tw_peer_tcp_connect(server, src);
	tw_greeting g;
	tw_script_greeting(l, fd, &g, NULL);
	assert_int_equal(g.modes & mode, mode);
	tw_script_setup(fd, mode);
	tw_server_start ss;
	tw_script_server_start(l, fd, &ss, NULL);
	assert_int_equal(ss.accept, TW_ACCEPT_OK);
	return fd;
}

tw_accept_session tw_script_accept(tw_loop *l, int fd)
{
	uint8_t buf[TW_ACCEPT_LEN];
	tw_accept_session a;
	assert_int_equal(tw_accept_decode(read_msg(l, fd, NULL, buf, sizeof(buf)), sizeof(buf), &a), 0);
	return a;
}

tw_accept_session tw_script_request(tw_loop *l, int fd, const tw_request *r)
{
	uint8_t buf[TW_REQUEST_LEN];
	assert_int_equal(tw_request_encode(r, buf, sizeof(buf)), TW_REQUEST_LEN);
	tw_peer_tcp_send(fd, buf, sizeof(buf));
	return tw_script_accept(l, fd);
}

void tw_script_send_start(int fd)
{
	uint8_t buf[TW_START_LEN], mac[TW_HMAC_LEN] = { 0 };
	assert_int_equal(tw_start_encode(mac, buf, sizeof(buf)), TW_START_LEN);
	tw_peer_tcp_send(fd, buf, sizeof(buf));
}

void tw_script_start(tw_loop *l, int fd)
{
	tw_script_send_start(fd);
	uint8_t buf[TW_START_ACK_LEN];
	tw_start_ack ack;
	assert_int_equal(tw_start_ack_decode(read_msg(l, fd, NULL, buf, sizeof(buf)), sizeof(buf), &ack), 0);
	assert_int_equal(ack.accept, TW_ACCEPT_OK);
}

void tw_script_stop(int fd, uint32_t nsessions)
{
	tw_stop s = { .nsessions = nsessions };
	uint8_t buf[TW_STOP_LEN];
	assert_int_equal(tw_stop_encode(&s, buf, sizeof(buf)), TW_STOP_LEN);
	tw_peer_tcp_send(fd, buf, sizeof(buf));
}

size_t tw_script_sender_packet(const tw_test_fmt *fmt, tw_test_crypto *c, uint32_t seq, const uint8_t *pad,
			       size_t padlen, uint16_t errest, uint8_t *out, size_t cap, tw_ts *t1)
{
	int n = tw_sender_build(fmt, c, seq, pad, padlen, out, cap);
	assert_true(n > 0);
	*t1 = tw_ts_from_unix_ns(tw_pump_real_ns());
	assert_int_equal(tw_sender_stamp(fmt, c, out, (size_t)n, *t1, errest), 0);
	return (size_t)n;
}

long tw_script_exchange(tw_loop *l, const tw_peer_udp *u, const tw_sockaddr *dst, const tw_test_fmt *fmt,
			uint32_t seq, const uint8_t *pad, size_t padlen, uint16_t errest, int tos, uint8_t *out,
			size_t cap, tw_rx_meta *m)
{
	uint8_t pkt[2048];
	tw_ts t1;
	size_t n = tw_script_sender_packet(fmt, NULL, seq, pad, padlen, errest, pkt, sizeof(pkt), &t1);
	return tw_peer_udp_exchange(l, u, dst, pkt, n, tos, out, cap, m);
}

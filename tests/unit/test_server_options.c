/* test_server_options.c - the optional TWAMP features through tw_server
 * (agent/server.c + reflector.c) against a scripted Control-Client in the
 * same process: features offered in the Greeting only when configured,
 * Reflect Octets (RFC 6038: echo, reflected padding, Accept 3 when the
 * padding cannot hold the octets), Symmetrical Size, DSCP and ECN
 * monitoring (RFC 7750), PTP timestamps (RFC 8186, Z bit), Individual
 * Session Control (RFC 5938 Start-N/Stop-N per SID) and reflect_to_source
 * (answers to the observed source instead of the registered Sender Port).
 * The loop is pumped in bounded steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "control.h"
#include "errest.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "peer.h"
#include "pump.h"
#include "script.h"
#include "server.h"
#include "serverfx.h"
#include "testpkt.h"

#define MS 1000000LL
#define WAIT_NS TW_PUMP_WAIT_NS
#define QUIET_NS TW_PUMP_QUIET_NS
#define SENDER_ERREST 0x0789u
#define ALL_FEATURES (TW_MODE_ISC | TW_MODE_REFLECT_OCTETS | TW_MODE_SYMMETRIC | TW_MODE_DSCP_ECN | TW_MODE_PTP)

typedef tw_serverfx fx; /* support/serverfx.h */

static void fx_start(fx *f, const char *host, uint32_t features, bool to_source)
{
	tw_server_params p = {
		.modes = TW_MODE_OPEN,
		.features = features,
		.reflect_to_source = to_source,
		.max_connections = 4,
		.max_sessions = 8,
		.kdf_count = 1024,
	};
	tw_serverfx_start(f, host, &p);
}

static const tw_server_stats *stats(const fx *f)
{
	return tw_server_stats_get(f->srv);
}

/* ---- the scripted Control-Client (support/script.h) ---- */

/* Connects and reads the Greeting; returns the fd. */
static int peer_connect(fx *f, tw_greeting *g)
{
	int fd = tw_peer_tcp_connect(&f->addr, NULL);
	tw_script_greeting(f->loop, fd, g, NULL);
	return fd;
}

/* Set-Up-Response with mode; returns the Server-Start Accept. */
static uint8_t peer_setup(fx *f, int fd, uint32_t mode)
{
	tw_script_setup(fd, mode);
	tw_server_start ss;
	tw_script_server_start(f->loop, fd, &ss, NULL);
	return ss.accept;
}

/* Start-N-Sessions / Stop-N-Sessions for n SIDs; checks the Ack. */
static void peer_sids(fx *f, int fd, uint8_t cmd, uint32_t n, const uint8_t *sids)
{
	uint8_t buf[TW_SIDS_BASE_LEN + 4 * TW_SID_LEN];
	tw_sids_msg m = { .cmd = cmd, .n = n, .sids = sids };
	int len = tw_sids_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, TW_SIDS_BASE_LEN + (int)n * TW_SID_LEN);
	tw_peer_tcp_send(fd, buf, (size_t)len);
	tw_peer_tcp_read(f->loop, fd, buf, (size_t)len, WAIT_NS);
	tw_sids_msg ack;
	assert_int_equal(tw_sids_decode(buf, (size_t)len, &ack), 0);
	assert_int_equal(ack.cmd, cmd == TW_CMD_START_N ? TW_CMD_START_N_ACK : TW_CMD_STOP_N_ACK);
	assert_int_equal(ack.accept, TW_ACCEPT_OK);
	assert_int_equal(ack.n, n);
	assert_memory_equal(ack.sids, sids, n * TW_SID_LEN);
}

/* ---- the scripted Session-Sender ---- */

static tw_peer_udp udp_open(const fx *f)
{
	return tw_peer_udp_open(f->host, 0);
}

static tw_request make_request(const fx *f, uint16_t sender_port, uint32_t padding)
{
	tw_request r;
	memset(&r, 0, sizeof(r));
	tw_sockaddr local = f->addr;
	tw_sa_to_wire(&local, &r.ipvn, r.sender_addr);
	tw_sa_to_wire(&f->addr, &r.ipvn, r.receiver_addr);
	r.sender_port = sender_port;
	r.padding = padding;
	r.timeout = tw_ts_interval_from_ns(200 * MS);
	return r;
}

static tw_sockaddr port_addr(const fx *f, uint16_t port)
{
	tw_sockaddr a = f->addr;
	tw_sa_set_port(&a, port);
	return a;
}

static long udp_reply(fx *f, const tw_peer_udp *u, uint8_t *buf, size_t cap, tw_rx_meta *m, int64_t max_ns)
{
	return tw_peer_udp_recv(f->loop, u, buf, cap, m, max_ns);
}

/* Sends a sender packet in format fmt (padding pad[0..padlen)) with DS
 * byte tos; returns its length. */
static size_t send_pkt(const tw_peer_udp *u, const tw_sockaddr *dst, const tw_test_fmt *fmt, uint32_t seq,
		       const uint8_t *pad, size_t padlen, int tos)
{
	uint8_t pkt[2048];
	tw_ts t1;
	size_t n = tw_script_sender_packet(fmt, NULL, seq, pad, padlen, SENDER_ERREST, pkt, sizeof(pkt), &t1);
	tw_peer_udp_send(u, dst, pkt, n, tos);
	return n;
}

static long exchange(fx *f, const tw_peer_udp *u, const tw_sockaddr *dst, const tw_test_fmt *fmt, uint32_t seq,
		     size_t padlen, int tos, uint8_t *out, size_t cap, tw_rx_meta *m)
{
	uint8_t pad[512];
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = (uint8_t)(0x30 + i);
	return tw_script_exchange(f->loop, u, dst, fmt, seq, pad, padlen, SENDER_ERREST, tos, out, cap, m);
}

static bool no_reply(fx *f, const tw_peer_udp *u)
{
	return tw_peer_udp_silent(f->loop, u, QUIET_NS);
}

/* ------------------------------------------------------------------ */

static void test_greeting_offers_only_configured(void **state)
{
	(void)state;
	static const uint32_t sets[] = { 0, TW_MODE_ISC, TW_MODE_PTP | TW_MODE_DSCP_ECN, ALL_FEATURES };
	for (size_t i = 0; i < 4; i++) {
		fx f;
		fx_start(&f, "127.0.0.1", sets[i], false);
		tw_greeting g;
		int fd = peer_connect(&f, &g);
		assert_int_equal(g.modes, TW_MODE_OPEN | sets[i]);
		close(fd);
		tw_serverfx_stop(&f);
	}
}

/* A feature the server did not offer: Set-Up-Response refused. */
static void test_unoffered_feature_refused(void **state)
{
	(void)state;
	fx f;
	fx_start(&f, "127.0.0.1", TW_MODE_DSCP_ECN, false);
	tw_greeting g;
	int fd = peer_connect(&f, &g);
	assert_int_not_equal(peer_setup(&f, fd, TW_MODE_OPEN | TW_MODE_ISC), TW_ACCEPT_OK);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_MODE], 1);
	close(fd);
	tw_serverfx_stop(&f);
}

/* RFC 6038: Reflected octets echoed, the first L padding octets come back
 * after the reflector header; padding < L + 27 is refused with Accept 3.
 * *state: the host (test_reflect_octets_v4, _v6). */
static void test_reflect_octets(void **state)
{
	const char *host = *state;
	fx f;
	fx_start(&f, host, ALL_FEATURES, false);
	int fd = tw_script_open(f.loop, &f.addr, NULL, TW_MODE_OPEN | TW_MODE_REFLECT_OCTETS);
	tw_peer_udp u = udp_open(&f);
	tw_request r = make_request(&f, tw_sa_port(&u.local), 27 + 8);
	r.pad_reflect_len = 8;
	r.octets_reflected = 0xBEEF;
	tw_accept_session a = tw_script_request(f.loop, fd, &r);
	assert_int_equal(a.accept, TW_ACCEPT_OK);
	assert_int_equal(a.reflected_octets, 0xBEEF);
	assert_int_equal(a.server_octets, 0);
	/* one octet short of L + truncation: refused, Port 0 */
	r.padding = 27 + 8 - 1;
	tw_accept_session no = tw_script_request(f.loop, fd, &r);
	assert_int_equal(no.accept, TW_ACCEPT_NOT_SUPPORTED);
	assert_int_equal(no.port, 0);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_REQUEST], 1);
	r.padding = 4; /* not even L */
	assert_int_equal(tw_script_request(f.loop, fd, &r).accept, TW_ACCEPT_NOT_SUPPORTED);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_REQUEST], 2);
	tw_script_start(f.loop, fd);
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	uint8_t out[256];
	tw_sockaddr dst = port_addr(&f, a.port);
	long n = exchange(&f, &u, &dst, &open, 0, 35, -1, out, sizeof(out), NULL);
	assert_int_equal(n, 49);
	for (int k = 0; k < 8; k++)
		assert_int_equal(out[41 + k], 0x30 + k); /* the octets to be reflected */
	close(u.fd);
	close(fd);
	tw_serverfx_stop(&f);
}

/* Without Reflect Octets negotiated the fields are MBZ: ignored. */
static void test_reflect_octets_not_negotiated(void **state)
{
	(void)state;
	fx f;
	fx_start(&f, "127.0.0.1", ALL_FEATURES, false);
	int fd = tw_script_open(f.loop, &f.addr, NULL, TW_MODE_OPEN);
	tw_request r = make_request(&f, 40000, 0);
	r.pad_reflect_len = 8;
	r.octets_reflected = 0xBEEF;
	tw_accept_session a = tw_script_request(f.loop, fd, &r);
	assert_int_equal(a.accept, TW_ACCEPT_OK);
	assert_int_equal(a.reflected_octets, 0);
	close(fd);
	tw_serverfx_stop(&f);
}

/* One started session on a connection of mode; returns the test port. */
static uint16_t session(fx *f, int fd, const tw_peer_udp *u, uint32_t padding, unsigned dscp, bool start)
{
	tw_request r = make_request(f, tw_sa_port(&u->local), padding);
	r.type_p = tw_type_p_from_dscp(dscp);
	tw_accept_session a = tw_script_request(f->loop, fd, &r);
	assert_int_equal(a.accept, TW_ACCEPT_OK);
	if (start)
		tw_script_start(f->loop, fd);
	return a.port;
}

/* RFC 6038 Symmetrical Size: 41-octet sender header, equal sizes. */
static void test_symmetric_size(void **state)
{
	(void)state;
	fx f;
	fx_start(&f, "127.0.0.1", ALL_FEATURES, false);
	int fd = tw_script_open(f.loop, &f.addr, NULL, TW_MODE_OPEN | TW_MODE_SYMMETRIC);
	tw_peer_udp u = udp_open(&f);
	tw_sockaddr dst = port_addr(&f, session(&f, fd, &u, 0, 0, true));
	tw_test_fmt fmt = tw_test_fmt_for_mode(TW_MODE_OPEN | TW_MODE_SYMMETRIC);
	assert_true(fmt.symmetric);
	static const size_t pads[] = { 0, 20 };
	for (uint32_t i = 0; i < 2; i++) {
		uint8_t out[256];
		long n = exchange(&f, &u, &dst, &fmt, i, pads[i], -1, out, sizeof(out), NULL);
		assert_int_equal(n, 41 + (long)pads[i]);
		for (size_t k = 0; k < pads[i]; k++)
			assert_int_equal(out[41 + k], 0x30 + k);
		tw_reflector_fields rf;
		assert_int_equal(tw_reflector_parse(&fmt, NULL, out, (size_t)n, &rf), 0);
		assert_int_equal(rf.sender_seq, i);
	}
	/* a 14-octet packet is too short for the symmetric format */
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	send_pkt(&u, &dst, &open, 9, NULL, 0, -1);
	assert_true(no_reply(&f, &u));
	assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_SHORT], 1);
	close(u.fd);
	close(fd);
	tw_serverfx_stop(&f);
}

/* RFC 7750: the reflector header grows to 44 octets, S-DSCP-ECN carries
 * the whole received DS byte; replies go out with the Type-P DSCP.
 * *state: the host (test_dscp_ecn_v4, _v6). */
static void test_dscp_ecn(void **state)
{
	const char *host = *state;
	fx f;
	fx_start(&f, host, ALL_FEATURES, false);
	int fd = tw_script_open(f.loop, &f.addr, NULL, TW_MODE_OPEN | TW_MODE_DSCP_ECN);
	tw_peer_udp u = udp_open(&f);
	tw_sockaddr dst = port_addr(&f, session(&f, fd, &u, 30, 46, true));
	tw_test_fmt fmt = tw_test_fmt_for_mode(TW_MODE_OPEN | TW_MODE_DSCP_ECN);
	static const int tos[] = { 46 << 2, 46 << 2 | 1, 10 << 2 | 2, 0 };
	for (uint32_t i = 0; i < 4; i++) {
		uint8_t out[256];
		tw_rx_meta m;
		long n = exchange(&f, &u, &dst, &fmt, i, 30, tos[i], out, sizeof(out), &m);
		assert_int_equal(n, 44);
		tw_reflector_fields rf;
		assert_int_equal(tw_reflector_parse(&fmt, NULL, out, (size_t)n, &rf), 0);
		assert_int_equal(rf.sender_tos, tos[i]);
		assert_int_equal(out[41], tos[i]);
		assert_int_equal(out[42] | out[43], 0);
		assert_int_equal(m.tos >> 2, 46);
	}
	close(u.fd);
	close(fd);
	tw_serverfx_stop(&f);
}

/* RFC 8186: with PTP negotiated the reflector's timestamps are PTPv2
 * truncated and its Error Estimate has Z = 1; without it, NTP and Z = 0. */
static void test_ptp_timestamps(void **state)
{
	(void)state;
	for (int ptp = 0; ptp < 2; ptp++) {
		fx f;
		fx_start(&f, "127.0.0.1", ALL_FEATURES, false);
		int fd = tw_script_open(f.loop, &f.addr, NULL, TW_MODE_OPEN | (ptp ? TW_MODE_PTP : 0));
		tw_peer_udp u = udp_open(&f);
		tw_sockaddr dst = port_addr(&f, session(&f, fd, &u, 27, 0, true));
		static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
		uint8_t out[256];
		int64_t before = tw_pump_real_ns();
		long n = exchange(&f, &u, &dst, &open, 0, 27, -1, out, sizeof(out), NULL);
		int64_t after = tw_pump_real_ns();
		assert_int_equal(n, 41);
		tw_reflector_fields rf;
		assert_int_equal(tw_reflector_parse(&open, NULL, out, (size_t)n, &rf), 0);
		assert_int_equal((rf.errest & TW_ERREST_Z) != 0, ptp);
		int64_t t2 = ptp ? tw_ts_ptp_to_unix_ns(rf.rx_ts) : tw_ts_to_unix_ns(rf.rx_ts);
		int64_t t3 = ptp ? tw_ts_ptp_to_unix_ns(rf.ts) : tw_ts_to_unix_ns(rf.ts);
		/* PTP counts TAI seconds: up to 37 s ahead of UTC (plus leap smear) */
		int64_t slack = ptp ? 40000 * MS : 10 * MS;
		assert_true(t2 >= before - slack && t2 <= after + slack);
		assert_true(t3 >= t2 && t3 - t2 < 1000 * MS);
		/* the normalised T2 is close to the sender's clock either way */
		int64_t norm = tw_ts_to_unix_ns(tw_ts_normalize(rf.rx_ts, ptp));
		assert_true(norm >= before - 10 * MS && norm <= after + 10 * MS);
		close(u.fd);
		close(fd);
		tw_serverfx_stop(&f);
	}
}

/* RFC 5938: Start-N/Stop-N start and stop the listed sessions only;
 * Start-Sessions is not for an ISC connection.
 * *state: the host (test_isc_v4, _v6). */
static void test_isc(void **state)
{
	const char *host = *state;
	fx f;
	fx_start(&f, host, ALL_FEATURES, false);
	int fd = tw_script_open(f.loop, &f.addr, NULL, TW_MODE_OPEN | TW_MODE_ISC);
	tw_peer_udp u[2] = { udp_open(&f), udp_open(&f) };
	uint8_t sids[2][TW_SID_LEN];
	tw_sockaddr dst[2];
	for (int i = 0; i < 2; i++) {
		tw_request r = make_request(&f, tw_sa_port(&u[i].local), 27);
		tw_accept_session a = tw_script_request(f.loop, fd, &r);
		assert_int_equal(a.accept, TW_ACCEPT_OK);
		memcpy(sids[i], a.sid, TW_SID_LEN);
		dst[i] = port_addr(&f, a.port);
	}
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	uint8_t out[256];
	peer_sids(&f, fd, TW_CMD_START_N, 1, sids[0]);
	assert_int_equal(exchange(&f, &u[0], &dst[0], &open, 1, 27, -1, out, sizeof(out), NULL), 41);
	send_pkt(&u[1], &dst[1], &open, 1, NULL, 27, -1);
	assert_true(no_reply(&f, &u[1]));
	assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_NOT_STARTED], 1);
	peer_sids(&f, fd, TW_CMD_START_N, 1, sids[1]);
	assert_int_equal(exchange(&f, &u[1], &dst[1], &open, 2, 27, -1, out, sizeof(out), NULL), 41);
	/* stop the first: it reflects for its Timeout (200 ms), then not */
	peer_sids(&f, fd, TW_CMD_STOP_N, 1, sids[0]);
	assert_int_equal(exchange(&f, &u[0], &dst[0], &open, 3, 27, -1, out, sizeof(out), NULL), 41);
	tw_pump_for(f.loop, 300 * MS);
	send_pkt(&u[0], &dst[0], &open, 4, NULL, 27, -1);
	assert_true(no_reply(&f, &u[0]));
	assert_int_equal(exchange(&f, &u[1], &dst[1], &open, 5, 27, -1, out, sizeof(out), NULL), 41);
	/* Start-Sessions on an ISC connection is a protocol error */
	tw_script_send_start(fd);
	assert_true(tw_peer_tcp_closed(f.loop, fd, WAIT_NS));
	assert_int_equal(stats(&f)->rejections[TW_REJECT_PROTOCOL], 1);
	close(u[0].fd);
	close(u[1].fd);
	close(fd);
	tw_serverfx_stop(&f);
}

/* A sender behind port translation: registered Sender Port X, packets
 * from port Y. Answered at Y only with reflect_to_source; without it the
 * packets are dropped as wrong_source and X gets nothing either.
 * *state: the host (test_reflect_to_source_v4, _v6). */
static void test_reflect_to_source(void **state)
{
	const char *host = *state;
	for (int to_source = 0; to_source < 2; to_source++) {
		fx f;
		fx_start(&f, host, 0, to_source);
		int fd = tw_script_open(f.loop, &f.addr, NULL, TW_MODE_OPEN);
		tw_peer_udp registered = udp_open(&f), actual = udp_open(&f);
		tw_sockaddr dst = port_addr(&f, session(&f, fd, &registered, 27, 0, true));
		static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
		for (uint32_t i = 0; i < 3; i++) {
			uint8_t out[256];
			send_pkt(&actual, &dst, &open, i, NULL, 27, -1);
			long n = udp_reply(&f, &actual, out, sizeof(out), NULL, to_source ? WAIT_NS : QUIET_NS);
			if (to_source) {
				assert_int_equal(n, 41);
				tw_reflector_fields rf;
				assert_int_equal(tw_reflector_parse(&open, NULL, out, 41, &rf), 0);
				assert_int_equal(rf.seq, i);
				assert_int_equal(rf.sender_seq, i);
			} else {
				assert_true(n < 0);
			}
		}
		assert_true(no_reply(&f, &registered));
		assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_SOURCE], to_source ? 0 : 3);
		assert_int_equal(stats(&f)->refl.reflected, to_source ? 3 : 0);
		close(registered.fd);
		close(actual.fd);
		close(fd);
		tw_serverfx_stop(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting_offers_only_configured),
		cmocka_unit_test(test_unoffered_feature_refused),
		TW_CASE("test_reflect_octets_v4", test_reflect_octets, "127.0.0.1"),
		TW_CASE("test_reflect_octets_v6", test_reflect_octets, "::1"),
		cmocka_unit_test(test_reflect_octets_not_negotiated),
		cmocka_unit_test(test_symmetric_size),
		TW_CASE("test_dscp_ecn_v4", test_dscp_ecn, "127.0.0.1"),
		TW_CASE("test_dscp_ecn_v6", test_dscp_ecn, "::1"),
		cmocka_unit_test(test_ptp_timestamps),
		TW_CASE("test_isc_v4", test_isc, "127.0.0.1"),
		TW_CASE("test_isc_v6", test_isc, "::1"),
		TW_CASE("test_reflect_to_source_v4", test_reflect_to_source, "127.0.0.1"),
		TW_CASE("test_reflect_to_source_v6", test_reflect_to_source, "::1"),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

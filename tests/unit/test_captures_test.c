/* test_captures_test.c - the TWAMP-Test packets of the seven twping<->twampd
 * captures (shared/interop/captures/README.md): every packet decodes with
 * the values the README lists, and tw_sender_build/stamp and
 * tw_reflector_build/stamp reproduce every captured packet byte for byte,
 * keyed HMACs and encryption included. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "captures.h"
#include "cases.h"
#include "pcap.h"
#include "testpkt.h"
#include "hexvec.h"
#include "testutil.h"

enum { NPKT = 10, BUF = 256 };

/* Derives the test keys from the session keys and SID and checks them
 * against the values the README prints. */
static tw_test_crypto *capture_crypto(const tw_capture *cap)
{
	if (cap->test_sec == TW_TEST_OPEN)
		return NULL;
	uint8_t aes[16], hmac[32], sid[16], taes[16], thmac[32], want_aes[16], want_hmac[32];
	tw_hexvec_exact(cap->aes_key, aes, sizeof(aes));
	tw_hexvec_exact(cap->hmac_key, hmac, sizeof(hmac));
	tw_hexvec_exact(cap->sid, sid, sizeof(sid));
	assert_int_equal(tw_test_keys_derive(sid, aes, hmac, taes, thmac), 0);
	tw_hexvec_exact(cap->test_aes, want_aes, sizeof(want_aes));
	tw_hexvec_exact(cap->test_hmac, want_hmac, sizeof(want_hmac));
	assert_memory_equal(taes, want_aes, sizeof(taes));
	assert_memory_equal(thmac, want_hmac, sizeof(thmac));
	tw_test_crypto *c = tw_test_crypto_new(taes, thmac, sizeof(thmac), TW_MAC_HMAC_SHA1);
	assert_non_null(c);
	return c;
}

/* Splits the UDP datagrams by direction, in capture order. */
static void split(const tw_capture *cap, const tw_pcap *p, const tw_pcap_udp **snd, const tw_pcap_udp **refl)
{
	size_t ns = 0, nr = 0;
	assert_int_equal(p->nudp, 2 * NPKT);
	for (size_t i = 0; i < p->nudp; i++) {
		const tw_pcap_udp *u = &p->udp[i];
		if (u->dport == cap->port) {
			assert_true(ns < NPKT);
			assert_int_equal(u->frame, 14 + 2 * ns);
			snd[ns++] = u;
		} else {
			assert_int_equal(u->sport, cap->port);
			assert_true(nr < NPKT);
			assert_int_equal(u->frame, 15 + 2 * nr);
			refl[nr++] = u;
		}
	}
	assert_int_equal(ns, NPKT);
	assert_int_equal(nr, NPKT);
}

static void check_ip(const tw_capture *cap, const tw_pcap_udp *u)
{
	assert_int_equal(u->ttl, 255);
	assert_int_equal(u->tos >> 2, cap->dscp);
}

/* Frames 14/15 "clear=": decrypt independently of testpkt.c. */
static void check_clear(const tw_capture *cap, tw_test_crypto *c, const uint8_t *pkt, size_t n, const char *hex)
{
	uint8_t clear[96], want[96];
	tw_hexvec_exact(hex, want, n);
	memcpy(clear, pkt, n);
	if (cap->test_sec == TW_TEST_AUTH)
		assert_int_equal(tw_test_ecb_decrypt(c, clear, 16), 0);
	else
		assert_int_equal(tw_test_cbc_decrypt(c, clear, n), 0);
	assert_memory_equal(clear, want, n);
}

static void check_sender(const tw_capture *cap, tw_test_crypto *c, const tw_pcap_udp *u, uint32_t i)
{
	tw_test_fmt f = { cap->test_sec, false, false };
	size_t shdr = tw_test_sender_hdr_len(&f);
	tw_sender_fields s;
	check_ip(cap, u);
	assert_int_equal(u->len, cap->snd_len);
	assert_int_equal(tw_sender_parse(&f, c, u->payload, u->len, &s), 0);
	assert_int_equal(s.seq, i);
	assert_int_equal(s.errest, 0x0001);
	/* byte-exact reproduction from seq, T1 and the captured padding */
	uint8_t out[BUF];
	int n = tw_sender_build(&f, c, s.seq, u->payload + shdr, u->len - shdr, out, sizeof(out));
	assert_int_equal(n, (int)u->len);
	assert_int_equal(tw_sender_stamp(&f, c, out, u->len, s.ts, s.errest), 0);
	assert_memory_equal(out, u->payload, u->len);
	if (i == 0 && cap->clear14)
		check_clear(cap, c, u->payload, 32, cap->clear14);
}

static void check_reflector(const tw_capture *cap, tw_test_crypto *c, const tw_pcap_udp *req,
			    const tw_pcap_udp *u, uint32_t i)
{
	tw_test_fmt f = { cap->test_sec, false, false };
	size_t shdr = tw_test_sender_hdr_len(&f), rhdr = tw_test_reflector_hdr_len(&f);
	tw_reflector_fields r;
	tw_sender_fields s;
	check_ip(cap, u);
	assert_int_equal(u->len, cap->refl_len);
	assert_int_equal(tw_reflector_parse(&f, c, u->payload, u->len, &r), 0);
	assert_int_equal(tw_sender_parse(&f, c, req->payload, req->len, &s), 0);
	assert_int_equal(r.seq, i);
	assert_int_equal(r.sender_seq, i);
	assert_true(r.sender_ts == s.ts);
	assert_int_equal(r.errest, 0x0001);
	assert_int_equal(r.sender_errest, 0x0001);
	assert_int_equal(r.sender_ttl, 255);
	/* twampd's padding: the first (len - 41/112) octets of the sender's */
	assert_memory_equal(u->payload + rhdr, req->payload + shdr, u->len - rhdr);
	/* byte-exact reproduction from the request and T2, T3, seq, TTL */
	tw_reflector_fields in = { .seq = r.seq, .rx_ts = r.rx_ts, .sender_ttl = r.sender_ttl };
	uint8_t out[BUF];
	int n = tw_reflector_build(&f, c, req->payload, req->len, &in, out, sizeof(out));
	assert_int_equal(n, (int)u->len);
	assert_int_equal(tw_reflector_stamp(&f, c, out, u->len, r.ts, r.errest), 0);
	assert_memory_equal(out, u->payload, u->len);
	if (i == 0 && cap->clear15)
		check_clear(cap, c, u->payload, 96, cap->clear15);
}

/* *state: the capture (test_open ... test_mixed). */
static void test_capture(void **state)
{
	const tw_capture *cap = *state;
	tw_pcap p;
	assert_int_equal(tw_capture_load(cap, TW_CAPTURES_DIR, &p), 0);
	const tw_pcap_udp *snd[NPKT], *refl[NPKT];
	split(cap, &p, snd, refl);
	tw_test_crypto *c = capture_crypto(cap);
	for (uint32_t i = 0; i < NPKT; i++) {
		check_sender(cap, c, snd[i], i);
		check_reflector(cap, c, snd[i], refl[i], i);
	}
	tw_test_crypto_free(c);
	tw_pcap_free(&p);
}

/* A keyed capture packet with one flipped ciphertext bit fails to verify. */
static void test_tampered_capture(void **state)
{
	(void)state;
	const tw_capture *cap = &tw_captures[TW_CAP_ENCRYPTED];
	tw_pcap p;
	assert_int_equal(tw_capture_load(cap, TW_CAPTURES_DIR, &p), 0);
	const tw_pcap_udp *snd[NPKT], *refl[NPKT];
	split(cap, &p, snd, refl);
	tw_test_crypto *c = capture_crypto(cap);
	tw_test_fmt f = { cap->test_sec, false, false };
	uint8_t buf[BUF];
	tw_reflector_fields r;
	memcpy(buf, refl[3]->payload, refl[3]->len);
	buf[50] ^= 0x10;
	assert_int_equal(tw_reflector_parse(&f, c, buf, refl[3]->len, &r), -EBADMSG);
	tw_test_crypto_free(c);
	tw_pcap_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TW_CASE("test_open", test_capture, &tw_captures[TW_CAP_OPEN]),
		TW_CASE("test_authenticated", test_capture, &tw_captures[TW_CAP_AUTHENTICATED]),
		TW_CASE("test_encrypted", test_capture, &tw_captures[TW_CAP_ENCRYPTED]),
		TW_CASE("test_ipv6_open", test_capture, &tw_captures[TW_CAP_IPV6_OPEN]),
		TW_CASE("test_open_pad64_dscp_ef", test_capture, &tw_captures[TW_CAP_OPEN_PAD64_EF]),
		TW_CASE("test_open_nopad", test_capture, &tw_captures[TW_CAP_OPEN_NOPAD]),
		TW_CASE("test_mixed", test_capture, &tw_captures[TW_CAP_MIXED]),
		cmocka_unit_test(test_tampered_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

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

#include "pcap.h"
#include "testpkt.h"
#include "hexvec.h"
#include "testutil.h"

enum { NPKT = 10, BUF = 256 };

typedef struct capture {
	const char *file;
	tw_test_sec sec;
	uint16_t refl_port;
	size_t snd_len, refl_len;
	uint8_t dscp;
	/* keyed captures: session keys and SID from the README, the test keys
	 * it prints, and the cleartext of frames 14 and 15 */
	const char *aes, *hmac, *sid, *test_aes, *test_hmac, *clear14, *clear15;
} capture;

static const capture CAPS[] = {
	{ "twping-twampd-open.pcap", TW_TEST_OPEN, 18799, 41, 41, 0 },
	{ "twping-twampd-authenticated.pcap", TW_TEST_AUTH, 18816, 112, 112, 0,
	  "d595258c93924be77b1f46b4b2528c05",
	  "00c7228e0756fc92a1fe92d567e5a149560edd1519381fa151e0019c6fd667e1",
	  "7f000001eeadbbba23f83382dc552ed8", "125e0add300eb1138db1898fe5e2788f",
	  "d95cd68c0d1aa492ae68545de5e9ed8ca5e7272cd1441f3e61cf8498f83f28ba",
	  "00000000000000000000000000000000eeadbbbb3eac215b0001000000000000",
	  "00000000000000000000000000000000eeadbbbb3eb65a9a0001000000000000"
	  "eeadbbbb3eb46349000000000000000000000000000000000000000000000000"
	  "eeadbbbb3eac215b0001000000000000ff000000000000000000000000000000" },
	{ "twping-twampd-encrypted.pcap", TW_TEST_ENC, 18991, 112, 112, 34,
	  "79a9fc59fa75d134642f0ae2e5783ce6",
	  "35291cdefdb08c68715ab330bda74c7446ce21576d4aec9976ca844dcf4dcd84",
	  "7f000001eeadbbc5aa9a91101a7835c0", "5ed062d3c14225c23962b05d70dd5c94",
	  "2b6fa2f0c634f2efd665000745eb21d105a57cbc939e9d3a19cc3e086c46b48f",
	  "00000000000000000000000000000000eeadbbc6c5a9b8cb0001000000000000",
	  "00000000000000000000000000000000eeadbbc6c5b4edb20001000000000000"
	  "eeadbbc6c5b328b6000000000000000000000000000000000000000000000000"
	  "eeadbbc6c5a9b8cb0001000000000000ff000000000000000000000000000000" },
	{ "twping-twampd-ipv6-open.pcap", TW_TEST_OPEN, 18893, 41, 41, 8 },
	{ "twping-twampd-open-pad64-dscp-ef.pcap", TW_TEST_OPEN, 18886, 78, 78, 46 },
	{ "twping-twampd-open-nopad.pcap", TW_TEST_OPEN, 18822, 14, 41, 0 },
	{ "twping-twampd-mixed.pcap", TW_TEST_OPEN, 18987, 41, 41, 0 },
};

/* Derives the test keys from the session keys and SID and checks them
 * against the values the README prints. */
static tw_test_crypto *capture_crypto(const capture *cap)
{
	if (cap->sec == TW_TEST_OPEN)
		return NULL;
	uint8_t aes[16], hmac[32], sid[16], taes[16], thmac[32], want_aes[16], want_hmac[32];
	tw_hexvec_exact(cap->aes, aes, sizeof(aes));
	tw_hexvec_exact(cap->hmac, hmac, sizeof(hmac));
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
static void split(const capture *cap, const tw_pcap *p, const tw_pcap_udp **snd, const tw_pcap_udp **refl)
{
	size_t ns = 0, nr = 0;
	assert_int_equal(p->nudp, 2 * NPKT);
	for (size_t i = 0; i < p->nudp; i++) {
		const tw_pcap_udp *u = &p->udp[i];
		if (u->dport == cap->refl_port) {
			assert_true(ns < NPKT);
			assert_int_equal(u->frame, 14 + 2 * ns);
			snd[ns++] = u;
		} else {
			assert_int_equal(u->sport, cap->refl_port);
			assert_true(nr < NPKT);
			assert_int_equal(u->frame, 15 + 2 * nr);
			refl[nr++] = u;
		}
	}
	assert_int_equal(ns, NPKT);
	assert_int_equal(nr, NPKT);
}

static void check_ip(const capture *cap, const tw_pcap_udp *u)
{
	assert_int_equal(u->ttl, 255);
	assert_int_equal(u->tos >> 2, cap->dscp);
}

/* Frames 14/15 "clear=": decrypt independently of testpkt.c. */
static void check_clear(const capture *cap, tw_test_crypto *c, const uint8_t *pkt, size_t n, const char *hex)
{
	uint8_t clear[96], want[96];
	tw_hexvec_exact(hex, want, n);
	memcpy(clear, pkt, n);
	if (cap->sec == TW_TEST_AUTH)
		assert_int_equal(tw_test_ecb_decrypt(c, clear, 16), 0);
	else
		assert_int_equal(tw_test_cbc_decrypt(c, clear, n), 0);
	assert_memory_equal(clear, want, n);
}

static void check_sender(const capture *cap, tw_test_crypto *c, const tw_pcap_udp *u, uint32_t i)
{
	tw_test_fmt f = { cap->sec, false, false };
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

static void check_reflector(const capture *cap, tw_test_crypto *c, const tw_pcap_udp *req,
			    const tw_pcap_udp *u, uint32_t i)
{
	tw_test_fmt f = { cap->sec, false, false };
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

static void run_capture(const capture *cap)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", TW_CAPTURES_DIR, cap->file);
	tw_pcap p;
	assert_int_equal(tw_pcap_load(path, &p), 0);
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

static void test_open(void **state)
{
	(void)state;
	run_capture(&CAPS[0]);
}

static void test_authenticated(void **state)
{
	(void)state;
	run_capture(&CAPS[1]);
}

static void test_encrypted(void **state)
{
	(void)state;
	run_capture(&CAPS[2]);
}

static void test_ipv6_open(void **state)
{
	(void)state;
	run_capture(&CAPS[3]);
}

static void test_open_pad64_dscp_ef(void **state)
{
	(void)state;
	run_capture(&CAPS[4]);
}

static void test_open_nopad(void **state)
{
	(void)state;
	run_capture(&CAPS[5]);
}

static void test_mixed(void **state)
{
	(void)state;
	run_capture(&CAPS[6]);
}

/* A keyed capture packet with one flipped ciphertext bit fails to verify. */
static void test_tampered_capture(void **state)
{
	(void)state;
	const capture *cap = &CAPS[2];
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", TW_CAPTURES_DIR, cap->file);
	tw_pcap p;
	assert_int_equal(tw_pcap_load(path, &p), 0);
	const tw_pcap_udp *snd[NPKT], *refl[NPKT];
	split(cap, &p, snd, refl);
	tw_test_crypto *c = capture_crypto(cap);
	tw_test_fmt f = { cap->sec, false, false };
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
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_authenticated),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_ipv6_open),
		cmocka_unit_test(test_open_pad64_dscp_ef),
		cmocka_unit_test(test_open_nopad),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_tampered_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * specvec.h - the TWAMP-Control vectors of spec/vectors.md (V4-V9) as hex
 * text, pasted verbatim once (spaces and line breaks are ignored by the
 * decoders: tw_hexvec_*, tw_hex_decode), for every test that checks
 * against them: a typo shows up as a failing test, not as a value computed
 * the same wrong way twice. PLAIN is a message before encryption, WIRE on
 * the wire in authenticated/encrypted mode.
 */
#ifndef TW_SPECVEC_H
#define TW_SPECVEC_H

/* the Session Identifier of V7 (and V13) */
#define TW_VEC_SID "c0000202e8fe6f8180000000deadbeef"

/* V4: the Token and the Set-Up-Response (identity alice) */
#define TW_VEC_V4_TOKEN \
	"f2 27 b7 3d a3 c6 d8 b5 78 ae 4c f8 62 e6 5a 47\n" \
	"56 f6 ab e0 c9 83 5a f8 be d8 56 d7 7c f8 3d 75\n" \
	"f3 5c 9f 7f 59 f8 b4 2a cc a5 74 aa 0c 9f e1 d3\n" \
	"59 d3 b3 84 aa 97 1a 55 0e 5e d0 bd 53 b1 75 1f\n"

#define TW_VEC_V4_SETUP \
	"00 00 00 02 61 6c 69 63 65 00 00 00 00 00 00 00\n" \
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"00 00 00 00 f2 27 b7 3d a3 c6 d8 b5 78 ae 4c f8\n" \
	"62 e6 5a 47 56 f6 ab e0 c9 83 5a f8 be d8 56 d7\n" \
	"7c f8 3d 75 f3 5c 9f 7f 59 f8 b4 2a cc a5 74 aa\n" \
	"0c 9f e1 d3 59 d3 b3 84 aa 97 1a 55 0e 5e d0 bd\n" \
	"53 b1 75 1f a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab\n" \
	"ac ad ae af\n"

/* V5: Server-Start */
#define TW_VEC_V5_PLAIN \
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ba bb bc bd be bf\n" \
	"e8 fe 6f 80 00 00 00 00 00 00 00 00 00 00 00 00\n"

#define TW_VEC_V5_WIRE \
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ba bb bc bd be bf\n" \
	"2e b4 7a 0c e3 1f 9c 2e 4f d3 a6 4b 32 ca de 0c\n"

/* V6: Request-TW-Session: its first 96 octets, the HMAC, the plaintext
 * with the HMAC field zero (the unauthenticated form) and the wire form */
#define TW_VEC_V6_HEAD \
	"05 04 00 00 00 00 00 00 00 00 00 00 4e 20 4e 21\n" \
	"c0 00 02 01 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"c0 00 02 02 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"00 00 00 1b 00 00 00 00 00 00 00 00 00 00 00 02\n" \
	"00 00 00 00 2e 00 00 00 00 00 00 00 00 00 00 00\n"
#define TW_VEC_V6_MAC "5570aef0a7c4e4f28b2699e0bf95c0f2"
#define TW_VEC_V6_PLAIN TW_VEC_V6_HEAD "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
#define TW_VEC_V6_WIRE \
	"0c 0f ba e3 f9 8b 63 9e 88 a6 65 f2 25 93 50 ee\n" \
	"ea aa 2f d4 26 ba b7 e4 1a a8 a4 3f 46 92 12 13\n" \
	"6c 7b 65 86 61 6d f9 46 40 55 a6 c6 f5 b2 40 0b\n" \
	"58 6a 79 3c f3 b9 5c f3 3c ef ea cd a8 3d 3a 22\n" \
	"60 2e 6a 0f f5 da 47 15 fb b7 27 d4 02 c6 7e c6\n" \
	"5e b3 37 db 92 cd c8 1a 54 1d bd e9 a3 cd 05 1d\n" \
	"2f 7a 46 65 55 f2 63 c1 19 76 c4 55 d0 62 ca 5c\n"

/* V7: Accept-Session (the first server HMAC in owamp's reading) */
#define TW_VEC_V7_PLAIN \
	"00 00 4e 21 c0 00 02 02 e8 fe 6f 81 80 00 00 00\n" \
	"de ad be ef 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"18 04 e0 1f d1 1d 41 e2 84 da a5 84 6e 3a 11 e5\n"

#define TW_VEC_V7_WIRE \
	"41 05 eb 42 08 5a b9 5c 36 3e 62 fb fe 52 fb 7f\n" \
	"92 9e e2 0b f7 09 71 0e b9 1c bb 60 f4 65 86 da\n" \
	"9d 76 2a 43 f6 cc b7 c9 72 93 1f f0 7d 49 5f 6c\n"

/* V8: Start-Sessions, Start-Ack, Stop-Sessions */
#define TW_VEC_V8_START_PLAIN \
	"02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"5e f9 36 e5 53 5b ea be 97 c6 cf 77 22 65 dd da\n"
#define TW_VEC_V8_START_WIRE \
	"b0 24 a3 1a 54 d2 47 d6 8e 6f 53 f9 7e f2 96 7e\n" \
	"fe 47 95 ae a3 8f 8f f7 6e 15 c7 41 c7 d7 33 f9\n"
#define TW_VEC_V8_ACK_PLAIN \
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
	"4d 26 f7 d2 14 59 6a 97 4f ae c4 22 f5 0a b2 ee\n"
#define TW_VEC_V8_ACK_WIRE \
	"e8 99 4b 71 74 82 6d c7 4b c1 59 29 17 98 1a 25\n" \
	"32 60 b4 07 cf dd 5b fb 04 73 56 6f d7 6b b5 1e\n"
#define TW_VEC_V8_STOP_PLAIN \
	"03 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00\n" \
	"76 90 97 65 3d 96 57 31 a5 6b 4f aa ad 92 ae e5\n"
#define TW_VEC_V8_STOP_WIRE \
	"57 2f b3 e4 5d d7 3f 04 00 5e 0b b9 b2 82 7b 7d\n" \
	"21 6f 2a 5e 6d 51 26 75 fd fa f7 2e 6a 56 d4 4c\n"

/* V9: the test-packet AES-128 and HMAC-SHA-1 keys */
#define TW_VEC_V9_AES "bb3339a673b44c0e79952815da27690d"
#define TW_VEC_V9_HMAC "3ee232f9e7870a70ce8eca5ad9e30ba14c14772544fe6ae17840c8fb4581daf2"

#endif

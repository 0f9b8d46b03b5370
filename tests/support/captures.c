/* captures.c - the README's values for the seven interop captures (see
 * captures.h). */
#include "captures.h"

#include <stdio.h>

#define ZERO16 "00000000000000000000000000000000"
/* open mode: no KeyID, an all-zero Token and IVs */
#define OPEN_SETUP .keyid = "", .token = ZERO16 ZERO16 ZERO16 ZERO16, .client_iv = ZERO16, .server_iv = ZERO16
#define V4_LOOPBACK "7f000001000000000000000000000000"

const tw_capture tw_captures[TW_NCAPTURES] = {
	[TW_CAP_OPEN] = {
		.file = "twping-twampd-open.pcap",
		.mode = 1, .dscp = 0,
		.challenge = "87983bf705cd8930f94dda5d3bd6e181", .salt = "708705fb09bca410d4b363b53a5bd6b3",
		OPEN_SETUP,
		.port = 18799, .sid = "7f000001eeadbb8ee969c23bb393a6cf",
		.ipvn = 4, .sender_port = 9552, .receiver_port = 9552, .padding = 27,
		.start_time = 0xeeadbb8fe96cb534ULL, .timeout = 0x000000020007bbb6ULL, .type_p = 0x00000000,
		.addr = V4_LOOPBACK,
		.request_clear = "050400000000000000000000255025507f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "00000000000000000000001beeadbb8fe96cb534000000020007bbb600000000000000000000000000000000000000000000000000000000",
		.test_sec = TW_TEST_OPEN, .snd_len = 41, .refl_len = 41,
	},
	[TW_CAP_OPEN_NOPAD] = {
		.file = "twping-twampd-open-nopad.pcap",
		.mode = 1, .dscp = 0,
		.challenge = "5e3fb992af4351c3c6013846033a00fc", .salt = "8810e105efdd35eaee25c4cdfda30ccf",
		OPEN_SETUP,
		.port = 18822, .sid = "7f000001eeadbbdb4eb862b2502a53cf",
		.ipvn = 4, .sender_port = 9739, .receiver_port = 9739, .padding = 0,
		.start_time = 0xeeadbbdc4eb10ba6ULL, .timeout = 0x000000020003eea2ULL, .type_p = 0x00000000,
		.addr = V4_LOOPBACK,
		.request_clear = "050400000000000000000000260b260b7f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "000000000000000000000000eeadbbdc4eb10ba6000000020003eea200000000000000000000000000000000000000000000000000000000",
		.test_sec = TW_TEST_OPEN, .snd_len = 14, .refl_len = 41,
	},
	[TW_CAP_OPEN_PAD64_EF] = {
		.file = "twping-twampd-open-pad64-dscp-ef.pcap",
		.mode = 1, .dscp = 46,
		.challenge = "eef95695aa34ff2141290f0e941aafb4", .salt = "22b6371a693ad21688851d84b9970d7b",
		OPEN_SETUP,
		.port = 18886, .sid = "7f000001eeadbbb39836651691070aa0",
		.ipvn = 4, .sender_port = 9544, .receiver_port = 9544, .padding = 64,
		.start_time = 0xeeadbbb4982ff8ebULL, .timeout = 0x000000020007ee0bULL, .type_p = 0x2e000000,
		.addr = V4_LOOPBACK,
		.request_clear = "050400000000000000000000254825487f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "000000000000000000000040eeadbbb4982ff8eb000000020007ee0b2e000000000000000000000000000000000000000000000000000000",
		.test_sec = TW_TEST_OPEN, .snd_len = 78, .refl_len = 78,
	},
	[TW_CAP_IPV6_OPEN] = {
		.file = "twping-twampd-ipv6-open.pcap",
		.mode = 1, .dscp = 8,
		.challenge = "ec4e503a0bb0a88e0c9102443228bec9", .salt = "0191bed2789a26feb92f7c42e7aa02ca",
		OPEN_SETUP,
		.port = 18893, .sid = "00000001eeadbbd4c377f27f12ea4d5e",
		.ipvn = 6, .sender_port = 9909, .receiver_port = 9909, .padding = 27,
		.start_time = 0xeeadbbd5c36188b0ULL, .timeout = 0x0000000200079a28ULL, .type_p = 0x08000000,
		.addr = "00000000000000000000000000000001",
		.request_clear = "05060000000000000000000026b526b500000000000000000000000000000001000000000000000000000000000000010000000000000000"
				 "00000000000000000000001beeadbbd5c36188b00000000200079a2808000000000000000000000000000000000000000000000000000000",
		.test_sec = TW_TEST_OPEN, .snd_len = 41, .refl_len = 41,
	},
	[TW_CAP_AUTHENTICATED] = {
		.file = "twping-twampd-authenticated.pcap",
		.mode = 2, .dscp = 0,
		.challenge = "57aaa70e4a78521c8b360dc19bb5a4f2", .salt = "301477bc1c354f33eddef084089ff0b5",
		.keyid = "testuser",
		.token = "064ebc59ce3481844d463511e2b7d0643bdaf08caac9c94e3217a6175aa196cb"
			 "0ebbc732e0040797cf33080856c5f2206f9d915036dcdecc76361033c979e876",
		.client_iv = "b83077f5419c412b18e71149c9cc98cd", .server_iv = "2cf7184740145c335825ad3ee2ef258e",
		.kdf_key = "65db54d87ceba1abc163f40b3041a452", .aes_key = "d595258c93924be77b1f46b4b2528c05",
		.hmac_key = "00c7228e0756fc92a1fe92d567e5a149560edd1519381fa151e0019c6fd667e1",
		.h_request = "14466a0445b0586d1ff83d0aa24de71f", .h_start = "9c2a51323fd8725745e7f256282055f0",
		.h_stop = "d87267d5afdb73bfec453c4679a14bfd", .h_accept = "aa181294a06a2bf194967fa800700f4b",
		.h_start_ack = "30da84687762aa24f7ee6caf26d8c3f5",
		.port = 18816, .sid = "7f000001eeadbbba23f83382dc552ed8",
		.ipvn = 4, .sender_port = 9056, .receiver_port = 9056, .padding = 64,
		.start_time = 0xeeadbbbb2507314dULL, .timeout = 0x000000020064a9ceULL, .type_p = 0x00000000,
		.addr = V4_LOOPBACK,
		.request_clear = "050400000000000000000000236023607f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "000000000000000000000040eeadbbbb2507314d000000020064a9ce00000000000000000000000014466a0445b0586d1ff83d0aa24de71f",
		.test_aes = "125e0add300eb1138db1898fe5e2788f",
		.test_hmac = "d95cd68c0d1aa492ae68545de5e9ed8ca5e7272cd1441f3e61cf8498f83f28ba",
		.clear14 = "00000000000000000000000000000000eeadbbbb3eac215b0001000000000000",
		.test_sec = TW_TEST_AUTH, .snd_len = 112, .refl_len = 112,
		.clear15 = "00000000000000000000000000000000eeadbbbb3eb65a9a0001000000000000"
			   "eeadbbbb3eb46349000000000000000000000000000000000000000000000000"
			   "eeadbbbb3eac215b0001000000000000ff000000000000000000000000000000",
	},
	[TW_CAP_ENCRYPTED] = {
		.file = "twping-twampd-encrypted.pcap",
		.mode = 4, .dscp = 34,
		.challenge = "85f5b0bad585b2e54c583f36d0fbc364", .salt = "3037733c24f92cf278459961027c62ca",
		.keyid = "testuser",
		.token = "61635dd30a3706ce28e4770a93c788690b410212b14ca7754685b479a3a0cbaf"
			 "af8d7f185fb1c201227a11934aebd1eb16def3737626fab0c016414a5f61f5c2",
		.client_iv = "e173efcb66a0c79dfd9e1d54c69adef1", .server_iv = "10f79819340dddf6e5a0a523158cf22a",
		.kdf_key = "8943cd5aabce1ef975cb902f8e79f716", .aes_key = "79a9fc59fa75d134642f0ae2e5783ce6",
		.hmac_key = "35291cdefdb08c68715ab330bda74c7446ce21576d4aec9976ca844dcf4dcd84",
		.h_request = "1b4788cdf92e4533fde43452f6bf70db", .h_start = "49087f5ca71478c92971d6a32f58bb28",
		.h_stop = "c12860607c93948f827978973064df85", .h_accept = "cfe151241c88da0c8c0c1c099499fc14",
		.h_start_ack = "fd90508e2f5eee4d68040392f75fae68",
		.port = 18991, .sid = "7f000001eeadbbc5aa9a91101a7835c0",
		.ipvn = 4, .sender_port = 9196, .receiver_port = 9196, .padding = 64,
		.start_time = 0xeeadbbc6ac07fed0ULL, .timeout = 0x00000002007f77afULL, .type_p = 0x22000000,
		.addr = V4_LOOPBACK,
		.request_clear = "05040000000000000000000023ec23ec7f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "000000000000000000000040eeadbbc6ac07fed000000002007f77af2200000000000000000000001b4788cdf92e4533fde43452f6bf70db",
		.test_aes = "5ed062d3c14225c23962b05d70dd5c94",
		.test_hmac = "2b6fa2f0c634f2efd665000745eb21d105a57cbc939e9d3a19cc3e086c46b48f",
		.clear14 = "00000000000000000000000000000000eeadbbc6c5a9b8cb0001000000000000",
		.test_sec = TW_TEST_ENC, .snd_len = 112, .refl_len = 112,
		.clear15 = "00000000000000000000000000000000eeadbbc6c5b4edb20001000000000000"
			   "eeadbbc6c5b328b6000000000000000000000000000000000000000000000000"
			   "eeadbbc6c5a9b8cb0001000000000000ff000000000000000000000000000000",
	},
	[TW_CAP_MIXED] = {
		.file = "twping-twampd-mixed.pcap",
		.mode = 8, .dscp = 0,
		.challenge = "94537e37a4d4316b91b1a28ec15c75c9", .salt = "d91a3ab2708f1a32eeca5dea0cb0a85b",
		.keyid = "testuser",
		.token = "cfc193d7e09dc8fd82b351bb581098df4e459b72a780e390fd2e80871d0b820d"
			 "2f7960184ef8c9024e1f21d9237c2e673e386d2e57ec128672c359f39531c0b5",
		.client_iv = "97be107e7092bc08f0404236eaa2685c", .server_iv = "9cd0d67708dfcac398b637773c78aa3c",
		.kdf_key = "8c4ed7a77cf0591e6f24af71e16c1b28", .aes_key = "39016d3132eaf25f26b0597af32495f4",
		.hmac_key = "593c963a6c8685af23c4c4bd750d4d8a5a8ff9959c954ec7a1e226b575073452",
		.h_request = "df4b714cbd0cd2044ffde113738b48b7", .h_start = "ea80772137a3ab21598a07f483d8854f",
		.h_stop = "a9f3848ba8c0ea0bd34ba50531386c89", .h_accept = "63c71d7b6dbed8b5b12b2f4b2767b245",
		.h_start_ack = "a45c0bc76c835bc854695ce92add2a2e",
		.port = 18987, .sid = "7f000001eeadbbcc3845baf540af8eb0",
		.ipvn = 4, .sender_port = 9605, .receiver_port = 9605, .padding = 27,
		.start_time = 0xeeadbbcd399ee88bULL, .timeout = 0x00000002007ad080ULL, .type_p = 0x00000000,
		.addr = V4_LOOPBACK,
		.request_clear = "050400000000000000000000258525857f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "00000000000000000000001beeadbbcd399ee88b00000002007ad080000000000000000000000000df4b714cbd0cd2044ffde113738b48b7",
		.test_sec = TW_TEST_OPEN, .snd_len = 41, .refl_len = 41,
	},
};

int tw_capture_load(const tw_capture *k, const char *dir, tw_pcap *out)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, k->file);
	return tw_pcap_load(path, out);
}

/*
 * pcap.h - reads the classic-pcap interop captures for tests: Ethernet
 * (the loopback shows up as DLT_EN10MB) carrying IPv4/IPv6 with TCP or UDP.
 * TCP payload is concatenated per direction (the captures are loopback,
 * in order, no retransmissions) so each side's control stream can be fed
 * to a decoder; UDP datagrams are kept with their IP TTL and DS byte.
 */
#ifndef TW_PCAP_H
#define TW_PCAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_pcap_udp {
	unsigned frame;       /* 1-based frame number, as tshark shows it */
	int ipv;              /* 4 or 6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t ttl;          /* IPv4 TTL / IPv6 hop limit */
	uint8_t tos;          /* IPv4 TOS / IPv6 traffic class (DSCP << 2 | ECN) */
	const uint8_t *payload;
	size_t len;
} tw_pcap_udp;

typedef struct tw_pcap {
	uint8_t *file;        /* whole file; payload pointers point into it */
	size_t file_len;
	uint16_t ctrl_port;   /* server's TCP port (destination of the SYN) */
	uint8_t *to_server;   /* concatenated client -> server TCP payload */
	size_t to_server_len;
	uint8_t *to_client;   /* concatenated server -> client TCP payload */
	size_t to_client_len;
	tw_pcap_udp *udp;
	size_t nudp;
	unsigned nframes;
} tw_pcap;

/* Loads path; returns 0 or -1 (message on stderr). */
int tw_pcap_load(const char *path, tw_pcap *out);
void tw_pcap_free(tw_pcap *p);

#endif

/*
 * script.h - a scripted TWAMP Control-Client and Session-Sender for tests
 * of the server and reflectors: hand-built messages (proto/control.h,
 * proto/testpkt.h) over peer.h sockets, every read bounded by
 * TW_PUMP_WAIT_NS. Each function fails the test when a message does not
 * encode, arrive or decode.
 */
#ifndef TW_SCRIPT_H
#define TW_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "loop.h"
#include "net.h"
#include "peer.h"
#include "testpkt.h"

/* Reads and decodes the Greeting on fd; raw (may be NULL) gets its octets. */
void tw_script_greeting(tw_loop *l, int fd, tw_greeting *g, uint8_t raw[TW_GREETING_LEN]);

/* Sends a Set-Up-Response choosing mode (no key material). */
void tw_script_setup(int fd, uint32_t mode);

/* Reads and decodes the Server-Start; raw (may be NULL) gets its octets. */
void tw_script_server_start(tw_loop *l, int fd, tw_server_start *m, uint8_t raw[TW_SERVER_START_LEN]);

/* Connects to server from the numeric address src (NULL: any), requires
 * mode among the Greeting's modes, sets it up and requires Server-Start
 * Accept 0. Returns the connection's fd. */
int tw_script_open(tw_loop *l, const tw_sockaddr *server, const char *src, uint32_t mode);

/* Reads and decodes one Accept-Session. */
tw_accept_session tw_script_accept(tw_loop *l, int fd);

/* Sends Request-TW-Session r and returns the Accept-Session answering it. */
tw_accept_session tw_script_request(tw_loop *l, int fd, const tw_request *r);

/* Sends Start-Sessions (zero HMAC) without waiting for the answer. */
void tw_script_send_start(int fd);

/* Sends Start-Sessions and requires a Start-Ack with Accept 0. */
void tw_script_start(tw_loop *l, int fd);

/* Sends Stop-Sessions (Accept 0) announcing nsessions. */
void tw_script_stop(int fd, uint32_t nsessions);

/* Builds a sender packet in format fmt (c: its keys, NULL when open) with
 * padlen octets of padding taken from pad (NULL: zeros), timestamped with
 * the real clock now (returned in *t1) and Error Estimate errest. Returns
 * its length. */
size_t tw_script_sender_packet(const tw_test_fmt *fmt, tw_test_crypto *c, uint32_t seq, const uint8_t *pad,
			       size_t padlen, uint16_t errest, uint8_t *out, size_t cap, tw_ts *t1);

/* Sends such a packet without keys (tw_script_sender_packet with c NULL,
 * then DS byte tos, -1: the socket's) from u to dst and requires an answer on u within
 * TW_PUMP_WAIT_NS (fails the test otherwise). Returns the answer's length;
 * its meta goes to *m unless m is NULL. */
long tw_script_exchange(tw_loop *l, const tw_peer_udp *u, const tw_sockaddr *dst, const tw_test_fmt *fmt,
			uint32_t seq, const uint8_t *pad, size_t padlen, uint16_t errest, int tos, uint8_t *out,
			size_t cap, tw_rx_meta *m);

#endif

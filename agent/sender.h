/*
 * sender.h - the Session-Sender: one UDP socket per test session, packets
 * on a fixed or Poisson schedule, replies matched and classified by
 * tw_stats, unanswered packets turned into exact losses when their loss
 * timeout expires.
 *
 * The socket is opened first (its port goes into Request-TW-Session), the
 * schedule starts when the session is accepted and started. Callbacks run
 * from the loop; do not free the sender inside one of them.
 */
#ifndef TW_SENDER_H
#define TW_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "net.h"
#include "stats.h"
#include "testpkt.h"
#include "tlv.h"

/* Largest test packet (header + padding) sent and received, the size of
 * the reflector's buffers too (jumbo frames). */
#define TW_SENDER_MAX_PACKET TW_NET_RX_BUF

typedef struct tw_sender tw_sender;

/* STAMP TLVs the sender adds (TW_CONFIG_TLV_* values). */
enum {
	TW_SENDER_TLV_LOCATION = 1,
	TW_SENDER_TLV_TIMESTAMP_INFO = 2,
	TW_SENDER_TLV_COS = 4,
	TW_SENDER_TLV_DIRECT_MEASUREMENT = 8,
	TW_SENDER_TLV_FOLLOW_UP = 16,
};

/* What a reply says beyond the TWAMP fields. */
typedef struct tw_sender_reply {
	int rx_tos;             /* DS byte the reply arrived with, -1 unknown */
	bool stamp;             /* a STAMP reply: tlv is valid */
	tw_tlv_report tlv;      /* RFC 8972 TLVs read from the reply */
} tw_sender_reply;

typedef struct tw_sender_params {
	tw_test_fmt fmt;          /* TWAMP-Test format (ignored for STAMP) */
	tw_test_crypto *crypto;   /* keyed modes; ownership passes to the sender */
	bool stamp;               /* STAMP (RFC 8762) packets; crypto = HMAC-SHA-256 key */
	uint16_t ssid;            /* STAMP Session-Sender Identifier (0 = none) */
	uint32_t stamp_tlvs;      /* TW_SENDER_TLV_* */
	uint8_t cos_dscp;         /* DSCP1 of the Class of Service TLV */
	tw_sockaddr reflector;    /* address and the port from Accept-Session */
	uint32_t padding;         /* octets after the sender header */
	bool zero_padding;        /* all-zero instead of pseudo-random padding */
	int64_t interval_ns;      /* mean packet spacing */
	bool poisson;             /* exponential spacing instead of fixed */
	uint64_t count;           /* packets to send; 0 = until finish() */
	int64_t loss_timeout_ns;  /* a packet unanswered this long is lost */
	int64_t start_delay_ns;   /* first packet after this delay */
	const uint16_t *errest;   /* our current Error Estimate word */
	/* A reply was classified (every class; samples only for TW_STATS_NEW);
	 * rf is the decoded reply, x what else it said. */
	void (*on_result)(void *arg, const tw_stats_result *r, const tw_reflector_fields *rf,
			  const tw_sender_reply *x);
	/* n packets were declared lost. */
	void (*on_lost)(void *arg, uint64_t n);
	/* A packet was sent; lag_ns = actual minus planned send time. */
	void (*on_sent)(void *arg, int64_t lag_ns);
	/* Every packet has been sent and decided (count reached or finish()). */
	void (*on_done)(void *arg);
	void *arg;
} tw_sender_params;

/* Counters the stats module does not see. */
typedef struct tw_sender_counters {
	uint64_t send_errors; /* sendto failed (still counted sent, then lost) */
	uint64_t invalid;     /* replies that failed to parse or authenticate */
	uint64_t wrong_source;
	tw_ts_source ts_source; /* receive timestamping of the last reply */
	int64_t first_send_real_ns; /* CLOCK_REALTIME of the first / last packet */
	int64_t last_send_real_ns;
} tw_sender_counters;

/* Opens the UDP socket on local (port 0 = ephemeral) with TTL 255 and the
 * DS byte dscp << 2. Returns NULL with *err (negative errno). */
tw_sender *tw_sender_open(tw_loop *loop, const tw_sockaddr *local, int dscp, const char *ifname, int *err);
void tw_sender_free(tw_sender *s); /* NULL-safe; frees the crypto context */

uint16_t tw_sender_port(const tw_sender *s);
const tw_sockaddr *tw_sender_local(const tw_sender *s);

/* Starts the schedule. Returns 0 or a negative errno (bad parameters,
 * -EMSGSIZE when header + padding exceed TW_SENDER_MAX_PACKET, no memory). */
int tw_sender_start(tw_sender *s, const tw_sender_params *p);
/* Stops sending; on_done follows once the packets in flight are decided. */
void tw_sender_finish(tw_sender *s);
/* Replaces the result, loss and done callbacks (and drops on_sent), e.g. to
 * hand a finishing sender to whoever accounts for its last packets. */
void tw_sender_retarget(tw_sender *s,
			void (*on_result)(void *, const tw_stats_result *, const tw_reflector_fields *,
					  const tw_sender_reply *),
			void (*on_lost)(void *, uint64_t), void (*on_done)(void *), void *arg);
bool tw_sender_running(const tw_sender *s);

const tw_stats *tw_sender_stats(const tw_sender *s);
const tw_sender_counters *tw_sender_counters_get(const tw_sender *s);

#endif /* TW_SENDER_H */

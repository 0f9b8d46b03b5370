/*
 * fakedns.h - a fake DNS server for tests, living in the test's event
 * loop: UDP and TCP on one port of a loopback address, answers written by
 * a zone callback (possibly delayed, or none at all), every query counted
 * and logged. The struct is public so tests embed it and read its
 * counters.
 */
#ifndef TW_FAKEDNS_H
#define TW_FAKEDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "dnsmsg.h"
#include "loop.h"
#include "net.h"

enum { TW_FAKEDNS_LOG_MAX = 512, TW_FAKEDNS_DELAYED_MAX = 8, TW_FAKEDNS_CONN_MAX = 4 };

/* One question as the server parsed it. */
typedef struct tw_fakedns_query {
	const uint8_t *msg; /* the query's octets */
	uint16_t id;
	char name[TW_DNS_NAME_MAX + 2]; /* dotted, as asked */
	uint16_t qtype;
	size_t qend; /* end of the question in msg */
} tw_fakedns_query;

typedef struct tw_fakedns tw_fakedns;

/* Writes the answer to q (asked over TCP when tcp, by from) into out,
 * usually starting with tw_fakedns_reply_start. Returns how many ms to
 * hold a UDP answer back (0: send at once), or -1 to send none. */
typedef int (*tw_fakedns_zone_fn)(void *arg, tw_fakedns *f, const tw_fakedns_query *q, bool tcp,
				  const tw_sockaddr *from, tw_dnsmsg *out);

typedef struct tw_fakedns_delayed {
	uint8_t buf[512];
	size_t len; /* 0: a free slot */
	tw_sockaddr to;
	int64_t when_ms;
} tw_fakedns_delayed;

typedef struct tw_fakedns_conn {
	int fd; /* -1: a free slot */
	tw_io io;
	uint8_t buf[600];
	size_t len;
	tw_fakedns *srv;
} tw_fakedns_conn;

struct tw_fakedns {
	tw_loop *l;
	tw_sockaddr addr; /* where it serves (UDP and TCP) */
	bool silent;      /* count and log UDP queries, answer none */
	int queries;      /* UDP datagrams received */
	int tcp_queries;  /* TCP queries answered or refused */
	char log[TW_FAKEDNS_LOG_MAX][TW_DNS_NAME_MAX + 8]; /* UDP: "name/A" or "name/AAAA" */
	int nlog;
	/* internals */
	tw_fakedns_zone_fn zone;
	void *zone_arg;
	int udp, tcp;
	int spoofer; /* a second socket: answers from the wrong source port */
	tw_io udp_io, tcp_io;
	tw_fakedns_delayed later[TW_FAKEDNS_DELAYED_MAX];
	tw_timer later_timer;
	tw_fakedns_conn conns[TW_FAKEDNS_CONN_MAX];
};

/* Serves on the numeric host (port 0: one free for both UDP and TCP,
 * searched a bounded number of times) in l, answering through zone(arg).
 * Returns false when host cannot be bound at all (no IPv6 loopback);
 * other failures fail the test. */
bool tw_fakedns_start(tw_fakedns *f, tw_loop *l, const char *host, tw_fakedns_zone_fn zone, void *arg);

/* Unregisters and closes everything, pending delayed answers included. */
void tw_fakedns_stop(tw_fakedns *f);

/* Starts a response to q in out: its ID, QR RD RA plus flags (an RCODE,
 * TC, ...), one question copied from the query, no records yet. */
void tw_fakedns_reply_start(tw_dnsmsg *out, const tw_fakedns_query *q, unsigned flags);

/* Appends an A or AAAA answer (by the text) owned by the name at
 * owner_off and counts it in the header. */
void tw_fakedns_answer_addr(tw_dnsmsg *out, size_t owner_off, uint32_t ttl, const char *text);

/* Counts one more answer record in out's header (for records written by
 * hand). */
void tw_fakedns_count_answer(tw_dnsmsg *out);

/* Sends a UDP datagram to `to` from the server's port, or (spoofed) from
 * another port of the same address. */
void tw_fakedns_send(tw_fakedns *f, const uint8_t *buf, size_t len, const tw_sockaddr *to, bool spoofed);

#endif

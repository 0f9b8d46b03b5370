/*
 * dnsmsg.h - writes DNS messages byte by byte for tests: answers of fake
 * servers and hand-made responses for the decoder (RFC 1035 wire format,
 * big-endian, names as labels). Running past the buffer fails the test.
 */
#ifndef TW_DNSMSG_H
#define TW_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_dnsmsg {
	uint8_t b[8192];
	size_t n; /* octets written */
} tw_dnsmsg;

void tw_dnsmsg_u8(tw_dnsmsg *m, unsigned v);
void tw_dnsmsg_u16(tw_dnsmsg *m, unsigned v);
void tw_dnsmsg_u32(tw_dnsmsg *m, uint32_t v);

/* The labels of a dotted name, without the root octet. */
void tw_dnsmsg_labels(tw_dnsmsg *m, const char *dotted);

/* A whole name: its labels and the root octet. */
void tw_dnsmsg_name(tw_dnsmsg *m, const char *dotted);

/* A compression pointer to offset off. */
void tw_dnsmsg_ptr(tw_dnsmsg *m, size_t off);

/* What follows a record's owner name: TYPE, CLASS IN, TTL, RDLENGTH. */
void tw_dnsmsg_rr(tw_dnsmsg *m, uint16_t type, uint32_t ttl, unsigned rdlen);

/* An A record (text with no ':') or AAAA record after an owner name:
 * type, class, ttl and the address. */
void tw_dnsmsg_rr_addr(tw_dnsmsg *m, uint32_t ttl, const char *text);

/* A CNAME record after an owner name: begin writes its fixed part with
 * RDLENGTH 0 and returns where its data starts; end patches RDLENGTH to
 * what was written since (the target name). */
size_t tw_dnsmsg_cname_begin(tw_dnsmsg *m, uint32_t ttl);
void tw_dnsmsg_cname_end(tw_dnsmsg *m, size_t rd);

/* Overwrites the 16-bit value at off (off + 2 <= m->n). */
void tw_dnsmsg_set_u16(tw_dnsmsg *m, size_t off, unsigned v);

#endif

/* dnsmsg.c - a DNS message writer for tests (see dnsmsg.h). */
#include "dnsmsg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "dns.h"

void tw_dnsmsg_u8(tw_dnsmsg *m, unsigned v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

void tw_dnsmsg_u16(tw_dnsmsg *m, unsigned v)
{
	tw_dnsmsg_u8(m, v >> 8 & 0xff);
	tw_dnsmsg_u8(m, v & 0xff);
}

void tw_dnsmsg_u32(tw_dnsmsg *m, uint32_t v)
{
	tw_dnsmsg_u16(m, v >> 16);
	tw_dnsmsg_u16(m, v & 0xffff);
}

void tw_dnsmsg_labels(tw_dnsmsg *m, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);
		tw_dnsmsg_u8(m, (unsigned)n);
		for (size_t i = 0; i < n; i++)
			tw_dnsmsg_u8(m, (uint8_t)dotted[i]);
		dotted += n + (dot ? 1 : 0);
	}
}

void tw_dnsmsg_name(tw_dnsmsg *m, const char *dotted)
{
	tw_dnsmsg_labels(m, dotted);
	tw_dnsmsg_u8(m, 0);
}

void tw_dnsmsg_ptr(tw_dnsmsg *m, size_t off)
{
	tw_dnsmsg_u16(m, 0xC000 | (unsigned)off);
}

void tw_dnsmsg_rr(tw_dnsmsg *m, uint16_t type, uint32_t ttl, unsigned rdlen)
{
	tw_dnsmsg_u16(m, type);
	tw_dnsmsg_u16(m, TW_DNS_CLASS_IN);
	tw_dnsmsg_u32(m, ttl);
	tw_dnsmsg_u16(m, rdlen);
}

void tw_dnsmsg_rr_addr(tw_dnsmsg *m, uint32_t ttl, const char *text)
{
	uint8_t a[16];
	bool v6 = strchr(text, ':') != NULL;
	size_t len = v6 ? 16 : 4;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, text, a), 1);
	tw_dnsmsg_rr(m, v6 ? TW_DNS_TYPE_AAAA : TW_DNS_TYPE_A, ttl, (unsigned)len);
	for (size_t i = 0; i < len; i++)
		tw_dnsmsg_u8(m, a[i]);
}

size_t tw_dnsmsg_cname_begin(tw_dnsmsg *m, uint32_t ttl)
{
	tw_dnsmsg_rr(m, TW_DNS_TYPE_CNAME, ttl, 0);
	return m->n;
}

void tw_dnsmsg_cname_end(tw_dnsmsg *m, size_t rd)
{
	tw_dnsmsg_set_u16(m, rd - 2, (unsigned)(m->n - rd));
}

void tw_dnsmsg_set_u16(tw_dnsmsg *m, size_t off, unsigned v)
{
	assert_true(off + 2 <= m->n);
	m->b[off] = (uint8_t)(v >> 8);
	m->b[off + 1] = (uint8_t)v;
}

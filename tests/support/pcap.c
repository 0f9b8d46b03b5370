/* pcap.c - classic pcap reader for the interop captures (see pcap.h). */
#include "pcap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wire.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define LINKTYPE_ETHERNET 1
#define ETH_HDR 14

struct frame {
	unsigned no;
	const uint8_t *p;
	size_t len;
};

static int append(uint8_t **buf, size_t *len, const uint8_t *p, size_t n)
{
	uint8_t *nb = realloc(*buf, *len + n + 1);
	if (!nb)
		return -1;
	memcpy(nb + *len, p, n);
	*buf = nb;
	*len += n;
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Parses one Ethernet frame; fills the IP-level view. Returns the L4
 * protocol (6 TCP, 17 UDP) or -1. */
static int parse_ip(const uint8_t *p, size_t len, tw_pcap_udp *ip, const uint8_t **l4, size_t *l4len)
{
	if (len < ETH_HDR)
		return -1;
	uint16_t ethertype = tw_get_u16(p + 12);
	p += ETH_HDR;
	len -= ETH_HDR;
	if (ethertype == 0x0800 && len >= 20) {
		size_t ihl = (size_t)(p[0] & 15) * 4;
		size_t total = tw_get_u16(p + 2);
		if (ihl < 20 || total > len || total < ihl)
			return -1;
		ip->ipv = 4;
		ip->tos = p[1];
		ip->ttl = p[8];
		memcpy(ip->src, p + 12, 4);
		memcpy(ip->dst, p + 16, 4);
		*l4 = p + ihl;
		*l4len = total - ihl;
		return p[9];
	}
	if (ethertype == 0x86dd && len >= 40) {
		size_t plen = tw_get_u16(p + 4);
		if (40 + plen > len)
			return -1;
		ip->ipv = 6;
		ip->tos = (uint8_t)((tw_get_u32(p) >> 20) & 0xff);
		ip->ttl = p[7];
		memcpy(ip->src, p + 8, 16);
		memcpy(ip->dst, p + 24, 16);
		*l4 = p + 40;
		*l4len = plen;
		return p[6];
	}
	return -1;
}

static int handle_tcp(tw_pcap *pc, const uint8_t *l4, size_t len)
{
	if (len < 20)
		return -1;
	uint16_t sport = tw_get_u16(l4), dport = tw_get_u16(l4 + 2);
	size_t off = (size_t)(l4[12] >> 4) * 4;
	uint8_t flags = l4[13];
	if (off < 20 || off > len)
		return -1;
	if ((flags & 0x12) == 0x02) /* SYN without ACK: learn the server port */
		pc->ctrl_port = dport;
	if (len == off)
		return 0;
	if (dport == pc->ctrl_port)
		return append(&pc->to_server, &pc->to_server_len, l4 + off, len - off);
	if (sport == pc->ctrl_port)
		return append(&pc->to_client, &pc->to_client_len, l4 + off, len - off);
	return 0;
}

static int handle_udp(tw_pcap *pc, tw_pcap_udp *ip, const uint8_t *l4, size_t len)
{
	if (len < 8 || tw_get_u16(l4 + 4) > len || tw_get_u16(l4 + 4) < 8)
		return -1;
	ip->sport = tw_get_u16(l4);
	ip->dport = tw_get_u16(l4 + 2);
	ip->payload = l4 + 8;
	ip->len = tw_get_u16(l4 + 4) - 8u;
	tw_pcap_udp *n = realloc(pc->udp, (pc->nudp + 1) * sizeof(*n));
	if (!n)
		return -1;
	pc->udp = n;
	pc->udp[pc->nudp++] = *ip;
	return 0;
}

static int handle_frame(tw_pcap *pc, const struct frame *f)
{
	tw_pcap_udp ip = { .frame = f->no };
	const uint8_t *l4;
	size_t l4len;
	int proto = parse_ip(f->p, f->len, &ip, &l4, &l4len);
	if (proto == 6)
		return handle_tcp(pc, l4, l4len);
	if (proto == 17)
		return handle_udp(pc, &ip, l4, l4len);
	return 0;
}

int tw_pcap_load(const char *path, tw_pcap *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->file = tw_read_file(path, &pc->file_len);
	if (!pc->file) {
		fprintf(stderr, "pcap: cannot read %s\n", path);
		return -1;
	}
	if (pc->file_len < 24 || le32(pc->file) != PCAP_MAGIC_US || le32(pc->file + 20) != LINKTYPE_ETHERNET) {
		fprintf(stderr, "pcap: %s is not a little-endian classic Ethernet pcap\n", path);
		tw_pcap_free(pc);
		return -1;
	}
	size_t off = 24;
	while (off + 16 <= pc->file_len) {
		size_t incl = le32(pc->file + off + 8);
		if (off + 16 + incl > pc->file_len)
			break;
		struct frame f = { ++pc->nframes, pc->file + off + 16, incl };
		if (handle_frame(pc, &f) < 0) {
			fprintf(stderr, "pcap: %s: malformed frame %u\n", path, f.no);
			tw_pcap_free(pc);
			return -1;
		}
		off += 16 + incl;
	}
	return 0;
}

void tw_pcap_free(tw_pcap *p)
{
	free(p->file);
	free(p->to_server);
	free(p->to_client);
	free(p->udp);
	memset(p, 0, sizeof(*p));
}

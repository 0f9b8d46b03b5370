/*
 * dns.c - DNS query/response codec and resolv.conf/hosts parsers (see
 * dns.h). Message layouts from RFC 1035 §4.1, each above its code.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "wire.h"

/* ---- names ---- */

/* Compressed names are followed at most this many pointers deep; the
 * backwards-only rule already excludes loops, this bounds the work. */
enum { NAME_MAX_JUMPS = 64 };

enum {
	LABEL_KIND_MASK = 0xC0,
	LABEL_KIND_PLAIN = 0x00,
	LABEL_KIND_POINTER = 0xC0, /* 14-bit offset from the message start */
	POINTER_HIGH_MASK = 0x3F,
};

/* A name in uncompressed wire form: length-prefixed labels, then 0. */
typedef struct dns_name {
	uint8_t w[TW_DNS_WIRE_NAME_MAX];
	size_t len;
} dns_name;

static uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

static bool label_char_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Presentation -> wire form. Returns the wire length or -EINVAL. */
static int name_to_wire(const char *name, dns_name *out)
{
	size_t len = strnlen(name, TW_DNS_NAME_MAX + 2);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > TW_DNS_NAME_MAX)
		return -EINVAL;
	size_t lab = 0, o = 1;
	out->w[0] = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)name[i];
		if (c == '.') {
			if (out->w[lab] == 0)
				return -EINVAL; /* empty label */
			lab = o;
			out->w[o++] = 0;
		} else if (label_char_ok(c) && out->w[lab] < TW_DNS_LABEL_MAX) {
			out->w[lab]++;
			out->w[o++] = c;
		} else {
			return -EINVAL;
		}
	}
	if (out->w[lab] == 0)
		return -EINVAL;
	out->w[o++] = 0;
	out->len = o;
	return (int)o;
}

int tw_dns_name_check(const char *name)
{
	dns_name n;
	int rc = name_to_wire(name, &n);
	return rc < 0 ? rc : rc - 2;
}

/* Equal label structure makes bytewise comparison sound: length octets
 * (< 64) line up and are never changed by folding letters (>= 65). */
static bool name_eq(const dns_name *a, const dns_name *b)
{
	if (a->len != b->len)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		if (ascii_lower(a->w[i]) != ascii_lower(b->w[i]))
			return false;
	}
	return true;
}

/* Offset of a cursor that was made over the whole message. */
static size_t rd_pos(const tw_rd *r, size_t msg_len)
{
	return msg_len - tw_rd_left(r);
}

/*
 * Reads the possibly compressed name at r (a cursor over the whole
 * message msg/len) into out; r ends after the name as it sits there (after
 * its first pointer). A pointer must land before the start of the labels
 * currently being read, so every jump goes strictly backwards.
 */
static bool name_unpack(const uint8_t *msg, size_t len, tw_rd *r, dns_name *out)
{
	tw_rd cur = *r;
	size_t run = rd_pos(r, len);
	unsigned jumps = 0;
	bool jumped = false;
	out->len = 0;
	for (;;) {
		uint8_t c = tw_rd_u8(&cur);
		if (!tw_rd_ok(&cur))
			return false;
		if ((c & LABEL_KIND_MASK) == LABEL_KIND_POINTER) {
			size_t target = (size_t)(c & POINTER_HIGH_MASK) << 8 | tw_rd_u8(&cur);
			if (!tw_rd_ok(&cur) || target < TW_DNS_HDR_LEN || target >= run ||
			    ++jumps > NAME_MAX_JUMPS)
				return false;
			if (!jumped)
				*r = cur;
			jumped = true;
			cur = tw_rd_make(msg, len);
			tw_rd_skip(&cur, target);
			run = target;
			continue;
		}
		if ((c & LABEL_KIND_MASK) != LABEL_KIND_PLAIN)
			return false; /* 0x40 extended and 0x80 reserved label types */
		size_t need = c == 0 ? 1 : (size_t)c + 2; /* keep room for the root */
		if (out->len + need > TW_DNS_WIRE_NAME_MAX)
			return false;
		out->w[out->len++] = c;
		if (c == 0)
			break;
		tw_rd_copy(&cur, out->w + out->len, c);
		out->len += c;
	}
	if (!jumped)
		*r = cur;
	return tw_rd_ok(&cur);
}

/*
 * ---- Header (12 octets, RFC 1035 §4.1.1) ----
 *
 *   Off Len  Field
 *    0    2  ID
 *    2    2  flags: QR(15) Opcode(14-11) AA(10) TC(9) RD(8) RA(7) Z(6-4)
 *              RCODE(3-0)
 *    4    2  QDCOUNT
 *    6    2  ANCOUNT
 *    8    2  NSCOUNT
 *   10    2  ARCOUNT
 *
 * ---- Question (§4.1.2), right after the header ----
 *
 *   QNAME (wire name) | QTYPE (2) | QCLASS (2)
 */
enum {
	FLAG_QR = 0x8000,
	FLAG_TC = 0x0200,
	FLAG_RD = 0x0100,
	OPCODE_SHIFT = 11,
	OPCODE_MASK = 0xF,
	RCODE_MASK = 0xF,
	QUESTION_FIXED_LEN = 4, /* QTYPE + QCLASS */
};

int tw_dns_query_encode(uint16_t id, const char *name, uint16_t qtype, uint8_t *buf, size_t cap)
{
	if (qtype != TW_DNS_TYPE_A && qtype != TW_DNS_TYPE_AAAA)
		return -EINVAL;
	dns_name qn;
	int rc = name_to_wire(name, &qn);
	if (rc < 0)
		return rc;
	size_t total = TW_DNS_HDR_LEN + qn.len + QUESTION_FIXED_LEN;
	if (cap < total)
		return -ENOSPC;
	tw_wr w = tw_wr_make(buf, cap);
	tw_wr_u16(&w, id);
	tw_wr_u16(&w, FLAG_RD);
	tw_wr_u16(&w, 1); /* QDCOUNT */
	tw_wr_u16(&w, 0); /* ANCOUNT */
	tw_wr_u16(&w, 0); /* NSCOUNT */
	tw_wr_u16(&w, 0); /* ARCOUNT */
	tw_wr_copy(&w, qn.w, qn.len);
	tw_wr_u16(&w, qtype);
	tw_wr_u16(&w, TW_DNS_CLASS_IN);
	if (!tw_wr_ok(&w) || tw_wr_len(&w) != total)
		return -ENOSPC;
	return (int)total;
}

/*
 * ---- Resource record (§4.1.3) ----
 *
 *   NAME (wire name) | TYPE (2) | CLASS (2) | TTL (4) | RDLENGTH (2) |
 *   RDATA (RDLENGTH octets: A 4, AAAA 16, CNAME one wire name)
 */
enum {
	A_RDLEN = 4,
	AAAA_RDLEN = 16,
	TTL_MAX = 0x7FFFFFFF, /* RFC 2181 §8: larger values mean 0 */
};

typedef struct dns_rr {
	dns_name owner;
	uint16_t type;
	uint16_t klass;
	uint32_t ttl;
	size_t rd_off;
	uint16_t rd_len;
} dns_rr;

/* The answer section of a response whose header and question passed. */
typedef struct answer_sec {
	const uint8_t *msg;
	size_t len;
	tw_rd start;
	uint16_t count;
} answer_sec;

static bool rr_read(const answer_sec *s, tw_rd *r, dns_rr *rr)
{
	if (!name_unpack(s->msg, s->len, r, &rr->owner))
		return false;
	rr->type = tw_rd_u16(r);
	rr->klass = tw_rd_u16(r);
	rr->ttl = tw_rd_u32(r);
	if (rr->ttl > TTL_MAX)
		rr->ttl = 0;
	rr->rd_len = tw_rd_u16(r);
	rr->rd_off = rd_pos(r, s->len);
	tw_rd_skip(r, rr->rd_len);
	return tw_rd_ok(r);
}

/* Frames every answer record once, so the later passes only match. */
static bool answers_framed(const answer_sec *s)
{
	tw_rd r = s->start;
	dns_rr rr;
	for (unsigned i = 0; i < s->count; i++) {
		if (!rr_read(s, &r, &rr))
			return false;
	}
	return true;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Replaces target by the alias its CNAME record names. Returns 1 when one
 * was found, 0 when none, -EBADMSG when its RDATA is not exactly a name. */
static int cname_step(const answer_sec *s, dns_name *target, uint32_t *ttl)
{
	tw_rd r = s->start;
	dns_rr rr;
	for (unsigned i = 0; i < s->count; i++) {
		if (!rr_read(s, &r, &rr))
			return -EBADMSG;
		if (rr.type != TW_DNS_TYPE_CNAME || rr.klass != TW_DNS_CLASS_IN ||
		    !name_eq(&rr.owner, target))
			continue;
		tw_rd d = tw_rd_make(s->msg, s->len);
		tw_rd_skip(&d, rr.rd_off);
		if (!name_unpack(s->msg, s->len, &d, target) ||
		    rd_pos(&d, s->len) != rr.rd_off + rr.rd_len)
			return -EBADMSG;
		*ttl = min_u32(*ttl, rr.ttl);
		return 1;
	}
	return 0;
}

static int collect(const answer_sec *s, const dns_name *target, uint16_t qtype, tw_dns_answer *ans,
		   uint32_t *ttl)
{
	size_t want = qtype == TW_DNS_TYPE_A ? A_RDLEN : AAAA_RDLEN;
	tw_rd r = s->start;
	dns_rr rr;
	for (unsigned i = 0; i < s->count; i++) {
		if (!rr_read(s, &r, &rr))
			return -EBADMSG;
		if (rr.type != qtype || rr.klass != TW_DNS_CLASS_IN || !name_eq(&rr.owner, target))
			continue;
		if (rr.rd_len != want)
			return -EBADMSG;
		if (ans->n < ans->cap) {
			tw_dns_addr *a = &ans->addrs[ans->n++];
			tw_rd d = tw_rd_make(s->msg, s->len);
			a->type = qtype;
			memset(a->addr, 0, sizeof(a->addr));
			tw_rd_skip(&d, rr.rd_off);
			tw_rd_copy(&d, a->addr, want);
		}
		ans->total++;
		*ttl = min_u32(*ttl, rr.ttl);
	}
	return 0;
}

static int answer_walk(const answer_sec *s, dns_name *target, uint16_t qtype, tw_dns_answer *ans)
{
	if (!answers_framed(s))
		return -EBADMSG;
	uint32_t ttl = UINT32_MAX;
	unsigned hops = 0;
	int rc;
	while ((rc = cname_step(s, target, &ttl)) == 1) {
		if (++hops > TW_DNS_CNAME_MAX)
			return -EBADMSG;
	}
	if (rc == 0)
		rc = collect(s, target, qtype, ans, &ttl);
	if (rc < 0) {
		ans->n = ans->total = 0; /* a bad record after good ones voids them */
		return rc;
	}
	if (ans->total == 0)
		return -ENODATA;
	ans->ttl = ttl;
	return 0;
}

static int rcode_error(unsigned rcode)
{
	if (rcode == TW_DNS_RCODE_NOERROR)
		return 0;
	return rcode == TW_DNS_RCODE_NXDOMAIN ? -ENOENT : -EIO;
}

int tw_dns_response_decode(const uint8_t *msg, size_t len, uint16_t id, const char *name,
			   uint16_t qtype, tw_dns_answer *ans)
{
	ans->n = ans->total = 0;
	ans->ttl = 0;
	ans->rcode = 0;
	ans->truncated = false;
	dns_name want;
	if (name_to_wire(name, &want) < 0)
		return -EINVAL;
	if (len < TW_DNS_HDR_LEN)
		return -EBADMSG;
	tw_rd r = tw_rd_make(msg, len);
	uint16_t rid = tw_rd_u16(&r);
	uint16_t flags = tw_rd_u16(&r);
	uint16_t qdcount = tw_rd_u16(&r);
	uint16_t ancount = tw_rd_u16(&r);
	tw_rd_skip(&r, 4); /* NSCOUNT, ARCOUNT: those sections are not used */
	if (rid != id || !(flags & FLAG_QR) || ((flags >> OPCODE_SHIFT) & OPCODE_MASK) != 0 ||
	    qdcount != 1)
		return -EPROTO;
	dns_name qn;
	if (!name_unpack(msg, len, &r, &qn))
		return -EBADMSG;
	uint16_t qt = tw_rd_u16(&r);
	uint16_t qc = tw_rd_u16(&r);
	if (!tw_rd_ok(&r))
		return -EBADMSG;
	if (!name_eq(&qn, &want) || qt != qtype || qc != TW_DNS_CLASS_IN)
		return -EPROTO;
	ans->rcode = flags & RCODE_MASK;
	ans->truncated = (flags & FLAG_TC) != 0;
	if (ans->truncated)
		return -EMSGSIZE;
	int rc = rcode_error(ans->rcode);
	if (rc < 0)
		return rc;
	answer_sec s = { msg, len, r, ancount };
	return answer_walk(&s, &want, qtype, ans);
}

/* ---- text files: lines, comments, tokens ---- */

typedef struct text_cur {
	const char *p;
	const char *end;
} text_cur;

/* The next line, cut at its comment; false at the end of the text. */
static bool next_line(text_cur *t, text_cur *line)
{
	if (t->p >= t->end)
		return false;
	const char *nl = memchr(t->p, '\n', (size_t)(t->end - t->p));
	const char *stop = nl ? nl : t->end;
	line->p = t->p;
	line->end = line->p;
	while (line->end < stop && *line->end != '#' && *line->end != ';')
		line->end++;
	t->p = nl ? nl + 1 : t->end;
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next whitespace-separated token of line, or false when none. */
static bool next_token(text_cur *line, text_cur *tok)
{
	while (line->p < line->end && is_space(*line->p))
		line->p++;
	if (line->p >= line->end)
		return false;
	tok->p = line->p;
	while (line->p < line->end && !is_space(*line->p))
		line->p++;
	tok->end = line->p;
	return true;
}

static size_t tok_len(const text_cur *t)
{
	return (size_t)(t->end - t->p);
}

static bool tok_is(const text_cur *t, const char *word)
{
	size_t n = strlen(word);
	return tok_len(t) == n && memcmp(t->p, word, n) == 0;
}

/* Copies a token into a NUL-terminated buffer; false when it does not fit. */
static bool tok_copy(const text_cur *t, char *buf, size_t cap)
{
	size_t n = tok_len(t);
	if (n >= cap)
		return false;
	memcpy(buf, t->p, n);
	buf[n] = '\0';
	return true;
}

/* Numeric address without a zone -> type and octets. */
static bool parse_addr(const char *s, tw_dns_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->type = TW_DNS_TYPE_A;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->type = TW_DNS_TYPE_AAAA;
		return true;
	}
	return false;
}

/* ---- resolv.conf ---- */

enum { ADDR_TEXT_MAX = 64 };

void tw_resolv_conf_defaults(tw_resolv_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->ndots = 1;
	c->timeout_s = 5;
	c->attempts = 2;
}

static bool parse_ns(const text_cur *tok, tw_resolv_ns *ns)
{
	char buf[ADDR_TEXT_MAX];
	if (!tok_copy(tok, buf, sizeof(buf)))
		return false;
	memset(ns, 0, sizeof(*ns));
	char *pct = strchr(buf, '%');
	if (pct) {
		*pct = '\0';
		size_t zl = strlen(pct + 1);
		if (zl == 0 || zl >= sizeof(ns->scope))
			return false;
		memcpy(ns->scope, pct + 1, zl + 1);
	}
	tw_dns_addr a;
	if (!parse_addr(buf, &a) || (pct && a.type != TW_DNS_TYPE_AAAA))
		return false;
	ns->ipvn = a.type == TW_DNS_TYPE_A ? 4 : 6;
	memcpy(ns->addr, a.addr, sizeof(ns->addr));
	return true;
}

/* A search domain, stored without its trailing dot. */
static bool parse_domain(const text_cur *tok, char out[TW_DNS_NAME_MAX + 1])
{
	char buf[TW_DNS_NAME_MAX + 2];
	if (!tok_copy(tok, buf, sizeof(buf)))
		return false;
	int n = tw_dns_name_check(buf);
	if (n < 0)
		return false;
	memcpy(out, buf, (size_t)n);
	out[n] = '\0';
	return true;
}

static bool line_search(text_cur *line, tw_resolv_conf *c, bool single)
{
	text_cur tok;
	c->n_search = 0;
	while (c->n_search < TW_RESOLV_MAX_SEARCH && next_token(line, &tok)) {
		if (parse_domain(&tok, c->search[c->n_search]))
			c->n_search++;
		if (single)
			break;
	}
	return c->n_search > 0;
}

/* "key:N" with N decimal digits, clamped to [lo, hi]. */
static bool option_value(const text_cur *tok, const char *key, unsigned lo, unsigned hi,
			 unsigned *out)
{
	size_t kl = strlen(key);
	if (tok_len(tok) <= kl || memcmp(tok->p, key, kl) != 0)
		return false;
	unsigned v = 0;
	for (const char *p = tok->p + kl; p < tok->end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (v <= hi)
			v = v * 10 + (unsigned)(*p - '0');
	}
	*out = v < lo ? lo : v > hi ? hi : v;
	return true;
}

static void line_options(text_cur *line, tw_resolv_conf *c)
{
	text_cur tok;
	while (next_token(line, &tok)) {
		/* other options (rotate, edns0, ...) do not apply to this stub */
		if (!option_value(&tok, "ndots:", 0, TW_RESOLV_NDOTS_MAX, &c->ndots) &&
		    !option_value(&tok, "timeout:", 1, TW_RESOLV_TIMEOUT_MAX, &c->timeout_s))
			(void)option_value(&tok, "attempts:", 1, TW_RESOLV_ATTEMPTS_MAX, &c->attempts);
	}
}

/* One resolv.conf line; false when it is not understood. */
static bool resolv_line(text_cur *line, tw_resolv_conf *c)
{
	text_cur kw, tok;
	if (!next_token(line, &kw))
		return true; /* blank or comment */
	if (tok_is(&kw, "nameserver")) {
		tw_resolv_ns ns;
		if (!next_token(line, &tok) || !parse_ns(&tok, &ns))
			return false;
		if (c->n_ns < TW_RESOLV_MAX_NS)
			c->ns[c->n_ns++] = ns;
		return true;
	}
	if (tok_is(&kw, "search"))
		return line_search(line, c, false);
	if (tok_is(&kw, "domain"))
		return line_search(line, c, true);
	if (tok_is(&kw, "options")) {
		line_options(line, c);
		return true;
	}
	return false;
}

size_t tw_resolv_conf_parse(const char *text, size_t len, tw_resolv_conf *out)
{
	tw_resolv_conf_defaults(out);
	if (!text)
		return 0;
	text_cur t = { text, text + len }, line;
	size_t skipped = 0;
	while (next_line(&t, &line)) {
		if (!resolv_line(&line, out))
			skipped++;
	}
	return skipped;
}

/* ---- hosts ---- */

/* Case-insensitive equality of a token and a name, trailing dots ignored. */
static bool host_matches(const text_cur *tok, const char *name, size_t nlen)
{
	size_t tl = tok_len(tok);
	if (tl > 0 && tok->p[tl - 1] == '.')
		tl--;
	if (tl != nlen)
		return false;
	for (size_t i = 0; i < tl; i++) {
		if (ascii_lower((uint8_t)tok->p[i]) != ascii_lower((uint8_t)name[i]))
			return false;
	}
	return true;
}

/* Whether the hosts line names `name`; *a gets its address. */
static bool hosts_line(text_cur *line, const char *name, size_t nlen, uint16_t qtype,
		       tw_dns_addr *a)
{
	text_cur tok;
	char buf[ADDR_TEXT_MAX];
	if (!next_token(line, &tok) || !tok_copy(&tok, buf, sizeof(buf)) || !parse_addr(buf, a))
		return false;
	if (qtype != 0 && a->type != qtype)
		return false;
	while (next_token(line, &tok)) {
		if (host_matches(&tok, name, nlen))
			return true;
	}
	return false;
}

size_t tw_hosts_lookup(const char *text, size_t len, const char *name, uint16_t qtype,
		       tw_dns_addr *out, size_t cap)
{
	size_t nlen = strnlen(name, TW_DNS_NAME_MAX + 2);
	if (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	if (!text || nlen == 0 || nlen > TW_DNS_NAME_MAX)
		return 0;
	text_cur t = { text, text + len }, line;
	size_t found = 0;
	tw_dns_addr a;
	while (next_line(&t, &line)) {
		if (!hosts_line(&line, name, nlen, qtype, &a))
			continue;
		if (found < cap)
			out[found] = a;
		found++;
	}
	return found;
}

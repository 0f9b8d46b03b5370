/*
 * wire.h - bounded big-endian cursors for decoding and encoding packets.
 *
 * Every protocol message is read through a tw_rd and written through a
 * tw_wr, never through a pointer cast. Both carry a sticky error flag:
 * reading or writing past the end sets it, reads then yield zeros and
 * writes are dropped, so a codec performs all its field accesses and checks
 * the flag once at the end of the message (the knot wire_ctx pattern).
 *
 * The structs are public so that cursors live on the stack; treat the
 * fields as private and use the functions.
 */
#ifndef TW_WIRE_H
#define TW_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct tw_rd {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool err;
} tw_rd;

typedef struct tw_wr {
	uint8_t *buf;
	size_t cap;
	size_t pos;
	bool err;
} tw_wr;

/* ---- reader ---- */

static inline tw_rd tw_rd_make(const void *buf, size_t len)
{
	tw_rd r = { (const uint8_t *)buf, len, 0, false };
	return r;
}

static inline size_t tw_rd_left(const tw_rd *r)
{
	return r->err ? 0 : r->len - r->pos;
}

static inline bool tw_rd_ok(const tw_rd *r)
{
	return !r->err;
}

/* Returns a pointer to the next n octets and advances, or NULL (and sets
 * the sticky error) when fewer than n octets remain. */
static inline const uint8_t *tw_rd_take(tw_rd *r, size_t n)
{
	if (r->err || n > r->len - r->pos) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static inline void tw_rd_skip(tw_rd *r, size_t n)
{
	(void)tw_rd_take(r, n);
}

static inline void tw_rd_copy(tw_rd *r, void *dst, size_t n)
{
	const uint8_t *p = tw_rd_take(r, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

static inline uint8_t tw_rd_u8(tw_rd *r)
{
	const uint8_t *p = tw_rd_take(r, 1);
	return p ? p[0] : 0;
}

static inline uint16_t tw_rd_u16(tw_rd *r)
{
	const uint8_t *p = tw_rd_take(r, 2);
	return p ? (uint16_t)((unsigned)p[0] << 8 | p[1]) : 0;
}

static inline uint32_t tw_rd_u32(tw_rd *r)
{
	const uint8_t *p = tw_rd_take(r, 4);
	if (!p)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t tw_rd_u64(tw_rd *r)
{
	uint64_t hi = tw_rd_u32(r);
	return hi << 32 | tw_rd_u32(r);
}

/* ---- writer ---- */

static inline tw_wr tw_wr_make(void *buf, size_t cap)
{
	tw_wr w = { (uint8_t *)buf, cap, 0, false };
	return w;
}

static inline bool tw_wr_ok(const tw_wr *w)
{
	return !w->err;
}

static inline size_t tw_wr_len(const tw_wr *w)
{
	return w->pos;
}

/* Reserves n octets and returns them, or NULL (sticky error) if full. */
static inline uint8_t *tw_wr_take(tw_wr *w, size_t n)
{
	if (w->err || n > w->cap - w->pos) {
		w->err = true;
		return NULL;
	}
	uint8_t *p = w->buf + w->pos;
	w->pos += n;
	return p;
}

static inline void tw_wr_copy(tw_wr *w, const void *src, size_t n)
{
	uint8_t *p = tw_wr_take(w, n);
	if (p && n)
		memcpy(p, src, n);
}

static inline void tw_wr_zero(tw_wr *w, size_t n)
{
	uint8_t *p = tw_wr_take(w, n);
	if (p)
		memset(p, 0, n);
}

static inline void tw_wr_u8(tw_wr *w, uint8_t v)
{
	uint8_t *p = tw_wr_take(w, 1);
	if (p)
		p[0] = v;
}

static inline void tw_wr_u16(tw_wr *w, uint16_t v)
{
	uint8_t *p = tw_wr_take(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static inline void tw_wr_u32(tw_wr *w, uint32_t v)
{
	uint8_t *p = tw_wr_take(w, 4);
	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static inline void tw_wr_u64(tw_wr *w, uint64_t v)
{
	tw_wr_u32(w, (uint32_t)(v >> 32));
	tw_wr_u32(w, (uint32_t)v);
}

/* ---- fixed-offset helpers for patching fields inside a built packet ---- */

static inline void tw_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void tw_put_u64(uint8_t *p, uint64_t v)
{
	tw_put_u32(p, (uint32_t)(v >> 32));
	tw_put_u32(p + 4, (uint32_t)v);
}

static inline void tw_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t tw_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t tw_get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint64_t tw_get_u64(const uint8_t *p)
{
	return (uint64_t)tw_get_u32(p) << 32 | tw_get_u32(p + 4);
}

#endif /* TW_WIRE_H */

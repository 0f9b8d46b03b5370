/* errest.c - Error Estimate encoding (see errest.h). */
#include "errest.h"

#define NS_PER_SEC UINT64_C(1000000000)

uint16_t tw_errest_pack(tw_errest e)
{
	uint16_t w = (uint16_t)((unsigned)(e.scale & 0x3Fu) << 8 | e.mult);
	if (e.sync)
		w |= TW_ERREST_S;
	if (e.ptp)
		w |= TW_ERREST_Z;
	return w;
}

tw_errest tw_errest_unpack(uint16_t word)
{
	tw_errest e = {
		.sync = (word & TW_ERREST_S) != 0,
		.ptp = (word & TW_ERREST_Z) != 0,
		.scale = (uint8_t)((word >> 8) & 0x3Fu),
		.mult = (uint8_t)(word & 0xFFu),
	};
	return e;
}

/* floor(ns * 2^32 / 1e9) without overflowing 64 bits. */
static uint64_t ns_to_fixed32(uint64_t ns)
{
	uint64_t sec = ns / NS_PER_SEC;
	uint64_t rem = ns % NS_PER_SEC;
	if (sec >= (UINT64_C(1) << 32))
		return UINT64_MAX;
	return (sec << 32) + (rem << 32) / NS_PER_SEC;
}

tw_errest tw_errest_from_ns(uint64_t err_ns, bool sync, bool ptp)
{
	uint64_t x = ns_to_fixed32(err_ns);
	unsigned scale = 0;
	while (x >= 0xFF) {
		x >>= 1;
		scale++;
	}
	tw_errest e = { .sync = sync, .ptp = ptp, .scale = (uint8_t)scale, .mult = (uint8_t)(x + 1) };
	if (scale > 0x3F) {
		e.scale = 0x3F;
		e.mult = 0xFF;
	}
	return e;
}

uint64_t tw_errest_to_ns(tw_errest e)
{
	if (e.mult == 0)
		return UINT64_MAX;
	/* mult * 2^(scale-32) s = mult * 1e9 * 2^scale / 2^32 ns, rounded up. */
	uint64_t v = (uint64_t)e.mult * NS_PER_SEC; /* < 2^38 */
	if (e.scale >= 32) {
		unsigned sh = e.scale - 32u;
		return sh >= 26 ? UINT64_MAX : v << sh;
	}
	unsigned down = 32u - e.scale;
	uint64_t q = v >> down;
	return (v & ((UINT64_C(1) << down) - 1)) ? q + 1 : q;
}

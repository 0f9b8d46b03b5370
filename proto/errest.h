/*
 * errest.h - the 16-bit Error Estimate that follows every TWAMP timestamp.
 *
 *    0                   1
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |S|Z|   Scale   |   Multiplier  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * error = Multiplier * 2^(Scale - 32) seconds. S = clock synchronised to
 * UTC, Z = PTPv2 timestamp format. A Multiplier of 0 is invalid and is
 * never produced here.
 */
#ifndef TW_ERREST_H
#define TW_ERREST_H

#include <stdbool.h>
#include <stdint.h>

#define TW_ERREST_S 0x8000u
#define TW_ERREST_Z 0x4000u
/* "Unknown error": S = 0 and the largest representable bound. */
#define TW_ERREST_UNKNOWN 0x3FFFu

typedef struct tw_errest {
	bool sync;     /* S */
	bool ptp;      /* Z */
	uint8_t scale; /* 6 bits */
	uint8_t mult;  /* 8 bits, never 0 when valid */
} tw_errest;

uint16_t tw_errest_pack(tw_errest e);
tw_errest tw_errest_unpack(uint16_t word);

/* Encodes a bound of err_ns nanoseconds, rounding up (owamp's algorithm:
 * x = floor(err * 2^32), halve until below 255, Multiplier = x + 1), so the
 * result is never smaller than err_ns and the Multiplier never 0. Bounds
 * beyond the range saturate at Scale 63, Multiplier 255. */
tw_errest tw_errest_from_ns(uint64_t err_ns, bool sync, bool ptp);

/* The bound in nanoseconds, rounded up, saturating at UINT64_MAX. Returns
 * UINT64_MAX for Multiplier 0 (invalid: treat the bound as unknown). */
uint64_t tw_errest_to_ns(tw_errest e);

/* True when the word is usable: Multiplier != 0 (RFC 4656 says discard). */
static inline bool tw_errest_valid(uint16_t word)
{
	return (word & 0xFFu) != 0;
}

#endif /* TW_ERREST_H */

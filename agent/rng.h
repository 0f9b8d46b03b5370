/*
 * rng.h - randomness for the agent. Key material, challenges, salts, IVs
 * and SID tails come from the kernel CSPRNG (getrandom); padding and
 * Poisson schedules use a fast seeded PRNG (xoshiro256**), never the
 * CSPRNG, so the hot path makes no system calls.
 */
#ifndef TW_RNG_H
#define TW_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf from getrandom(); returns 0 or a negative errno. */
int tw_rng_secure(void *buf, size_t len);

typedef struct tw_prng {
	uint64_t s[4];
} tw_prng;

/* Seeds from the CSPRNG (seed 0) or deterministically (tests). */
void tw_prng_seed(tw_prng *r, uint64_t seed);
uint64_t tw_prng_next(tw_prng *r);
void tw_prng_fill(tw_prng *r, uint8_t *buf, size_t len);
/* Exponentially distributed integer with the given mean, capped at
 * 16 x mean so a single draw cannot stall a schedule. */
int64_t tw_prng_exponential(tw_prng *r, int64_t mean);

#endif

/* rng.c - getrandom() and xoshiro256** (see rng.h). */
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/random.h>

int tw_rng_secure(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void tw_prng_seed(tw_prng *r, uint64_t seed)
{
	if (seed == 0 && tw_rng_secure(&seed, sizeof(seed)) < 0)
		seed = 0x5eed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t tw_prng_next(tw_prng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

void tw_prng_fill(tw_prng *r, uint8_t *buf, size_t len)
{
	while (len >= 8) {
		uint64_t v = tw_prng_next(r);
		memcpy(buf, &v, 8);
		buf += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = tw_prng_next(r);
		memcpy(buf, &v, len);
	}
}

int64_t tw_prng_exponential(tw_prng *r, int64_t mean)
{
	/* u in (0, 1]: 53 random bits, never 0 so log() stays finite */
	double u = (double)((tw_prng_next(r) >> 11) + 1) / 9007199254740992.0;
	double v = -log(u) * (double)mean;
	double cap = 16.0 * (double)mean;
	return (int64_t)(v > cap ? cap : v);
}

/*
 * clock.h - the injectable time source and the local clock's sync state.
 *
 * Everything that reads time goes through a tw_clock so tests can run the
 * event loop and the schedulers on a fake clock. Values are int64
 * nanoseconds: "mono" is CLOCK_MONOTONIC (timers, intervals), "real" is
 * CLOCK_REALTIME since the Unix epoch (wire timestamps).
 */
#ifndef TW_CLOCK_H
#define TW_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tw_clock {
	int64_t (*mono_ns)(void *ctx);
	int64_t (*real_ns)(void *ctx);
	void *ctx;
} tw_clock;

/* CLOCK_MONOTONIC / CLOCK_REALTIME. */
extern const tw_clock tw_clock_system;

static inline int64_t tw_clock_mono(const tw_clock *c)
{
	return c->mono_ns(c->ctx);
}

static inline int64_t tw_clock_real(const tw_clock *c)
{
	return c->real_ns(c->ctx);
}

/* A manually advanced clock for tests: both readings come from ctx. */
typedef struct tw_fake_clock {
	int64_t mono;
	int64_t real;
} tw_fake_clock;
tw_clock tw_fake_clock_make(tw_fake_clock *fc);

/* Local clock synchronisation as the kernel reports it (adjtimex): synced
 * when STA_UNSYNC is clear and maxerror is below 16 s; error_ns is the
 * kernel's estimated error (esterror), or a large bound when unsynced. */
typedef struct tw_sync_state {
	bool synced;
	uint64_t error_ns;
} tw_sync_state;

tw_sync_state tw_clock_sync_state(void);

/* The Error Estimate word this host puts in its packets: S set only when
 * synchronised, multiplier never 0, the bound never below 1 µs of timestamp
 * resolution. Cached by the caller; cheap enough to refresh per second. */
uint16_t tw_clock_errest_word(const tw_sync_state *st);

#endif /* TW_CLOCK_H */

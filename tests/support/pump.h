/*
 * pump.h - runs a tw_loop in bounded steps for tests that drive real
 * sockets on the loop: every wait ends at a deadline on the monotonic
 * clock, so a missing event fails the test instead of hanging it.
 */
#ifndef TW_PUMP_H
#define TW_PUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"

#define TW_PUMP_MS 1000000LL
#define TW_PUMP_STEP_NS (2 * TW_PUMP_MS)    /* longest wait of one loop iteration */
#define TW_PUMP_WAIT_NS (3000 * TW_PUMP_MS) /* generous bound for "should happen" */
#define TW_PUMP_QUIET_NS (150 * TW_PUMP_MS) /* how long "nothing happens" is watched */

/* A condition polled between loop iterations; arg is the caller's. */
typedef bool (*tw_pump_cond)(void *arg);

/* Runs l one iteration (at most TW_PUMP_STEP_NS of waiting) at a time
 * until cond(arg) holds, checked before every iteration, or max_ns of
 * monotonic time have passed. Fails the test when an iteration returns an
 * error. Returns whether cond held. */
bool tw_pump_until(tw_loop *l, tw_pump_cond cond, void *arg, int64_t max_ns);

/* tw_pump_until for a quantity that callbacks on l raise: runs until
 * read(arg) >= want or max_ns passed; returns whether it got there. */
bool tw_pump_until_at_least(tw_loop *l, uint64_t (*read)(const void *arg), const void *arg, uint64_t want,
			    int64_t max_ns);

/* The same for an int counter: until *value >= want (want >= 0). */
bool tw_pump_until_count(tw_loop *l, const int *value, int want, int64_t max_ns);

/* Runs l for ns of monotonic time (tw_pump_until with a condition that
 * never holds). */
void tw_pump_for(tw_loop *l, int64_t ns);

/* The system clock now, in nanoseconds: CLOCK_MONOTONIC (the pump's
 * deadlines) and CLOCK_REALTIME since the Unix epoch (wire timestamps). */
int64_t tw_pump_mono_ns(void);
int64_t tw_pump_real_ns(void);

#endif

/*
 * loop.h - the one event loop: epoll for file descriptors, a binary heap
 * of timers on the monotonic clock, signals through signalfd. Every socket
 * and timer of the process is owned by one loop; nothing blocks and no
 * thread or fork is ever started per session (redis ae, libuv heap, chrony
 * sched).
 *
 * Handles (tw_io, tw_timer) are embedded in the owner's struct, so the loop
 * allocates nothing per registration except when its timer heap grows.
 * A handle may be removed from inside any callback, including its own; the
 * loop then never calls it again, even for events already fetched.
 */
#ifndef TW_LOOP_H
#define TW_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

typedef struct tw_loop tw_loop;

typedef void (*tw_io_fn)(void *arg, uint32_t events); /* EPOLLIN | EPOLLOUT | ... */
typedef void (*tw_timer_fn)(void *arg);

typedef struct tw_io {
	int fd; /* -1 when not registered */
	uint32_t events;
	tw_io_fn fn;
	void *arg;
} tw_io;

typedef struct tw_timer {
	int64_t when;   /* monotonic ns */
	uint64_t order; /* FIFO among equal deadlines */
	size_t idx;     /* heap slot + 1; 0 when not armed */
	tw_timer_fn fn;
	void *arg;
} tw_timer;

/* Creates a loop reading time from clock (copied; NULL = system clock).
 * Returns NULL with errno set on failure. */
tw_loop *tw_loop_new(const tw_clock *clock);
void tw_loop_free(tw_loop *l); /* NULL-safe; handles must be removed first */

const tw_clock *tw_loop_clock(const tw_loop *l);
int64_t tw_loop_mono(const tw_loop *l); /* reads the clock now */
int64_t tw_loop_real(const tw_loop *l);

/* ---- file descriptors ---- */

void tw_io_init(tw_io *io);
/* Registers fd (which should be non-blocking) for events. Returns 0 or a
 * negative errno. */
int tw_io_add(tw_loop *l, tw_io *io, int fd, uint32_t events, tw_io_fn fn, void *arg);
int tw_io_mod(tw_loop *l, tw_io *io, uint32_t events);
/* Unregisters (does not close the fd). Safe on an unregistered handle. */
void tw_io_del(tw_loop *l, tw_io *io);

/* ---- timers ---- */

void tw_timer_init(tw_timer *t, tw_timer_fn fn, void *arg);
/* Arms (or re-arms) t for the absolute monotonic time when_ns. Returns 0 or
 * -ENOMEM. */
int tw_timer_at(tw_loop *l, tw_timer *t, int64_t when_ns);
int tw_timer_in(tw_loop *l, tw_timer *t, int64_t delay_ns);
void tw_timer_stop(tw_loop *l, tw_timer *t); /* safe when not armed */

static inline bool tw_timer_armed(const tw_timer *t)
{
	return t->idx != 0;
}

size_t tw_loop_timer_count(const tw_loop *l);
/* Deadline of the earliest timer, or INT64_MAX when none is armed. */
int64_t tw_loop_next_deadline(const tw_loop *l);

/* ---- signals ---- */

/* Delivers signo through the loop (blocks it and reads a signalfd). */
int tw_loop_signal(tw_loop *l, int signo, void (*fn)(void *arg, int signo), void *arg);

/* ---- running ---- */

/* One iteration: waits at most max_wait_ns (0 = poll, <0 = until the next
 * timer) for I/O, dispatches ready descriptors, then every due timer.
 * Returns the number of callbacks run, or a negative errno. */
int tw_loop_run_once(tw_loop *l, int64_t max_wait_ns);
/* Iterates until tw_loop_stop(). Returns 0 or a negative errno. */
int tw_loop_run(tw_loop *l);
void tw_loop_stop(tw_loop *l);

/* Runs every timer due at the clock's current time (fake-clock tests). */
int tw_loop_run_timers(tw_loop *l);

#endif /* TW_LOOP_H */

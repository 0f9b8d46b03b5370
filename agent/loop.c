/* loop.c - epoll + timer heap + signalfd event loop (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define MAX_EVENTS 64
#define MAX_SIGNALS 65

struct sig_handler {
	void (*fn)(void *arg, int signo);
	void *arg;
};

struct tw_loop {
	tw_clock clock;
	int epfd;
	bool stop;
	bool no_pwait2; /* kernel before 5.11: epoll_wait, ms timeouts */
	/* events fetched by the current epoll_wait, so tw_io_del can forget a
	 * handle whose event is still pending */
	struct epoll_event events[MAX_EVENTS];
	int nevents;
	int cursor;
	/* timer min-heap ordered by (when, order) */
	tw_timer **heap;
	size_t nheap;
	size_t capheap;
	uint64_t next_order;
	/* signals */
	int sigfd;
	sigset_t sigmask;
	tw_io sigio;
	struct sig_handler sig[MAX_SIGNALS];
};

tw_loop *tw_loop_new(const tw_clock *clock)
{
	tw_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->clock = clock ? *clock : tw_clock_system;
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	tw_io_init(&l->sigio);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int e = errno;
		free(l);
		errno = e;
		return NULL;
	}
	return l;
}

void tw_loop_free(tw_loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0) {
		tw_io_del(l, &l->sigio);
		close(l->sigfd);
		sigprocmask(SIG_UNBLOCK, &l->sigmask, NULL);
	}
	close(l->epfd);
	free(l->heap);
	free(l);
}

const tw_clock *tw_loop_clock(const tw_loop *l)
{
	return &l->clock;
}

int64_t tw_loop_mono(const tw_loop *l)
{
	return tw_clock_mono(&l->clock);
}

int64_t tw_loop_real(const tw_loop *l)
{
	return tw_clock_real(&l->clock);
}

/* ---- file descriptors ---- */

void tw_io_init(tw_io *io)
{
	memset(io, 0, sizeof(*io));
	io->fd = -1;
}

int tw_io_add(tw_loop *l, tw_io *io, int fd, uint32_t events, tw_io_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };
	io->fd = fd;
	io->events = events;
	io->fn = fn;
	io->arg = arg;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		io->fd = -1;
		return -e;
	}
	return 0;
}

int tw_io_mod(tw_loop *l, tw_io *io, uint32_t events)
{
	if (io->fd < 0)
		return -EBADF;
	if (events == io->events)
		return 0;
	struct epoll_event ev = { .events = events, .data.ptr = io };
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

void tw_io_del(tw_loop *l, tw_io *io)
{
	if (io->fd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	for (int i = l->cursor; i < l->nevents; i++) {
		if (l->events[i].data.ptr == io)
			l->events[i].data.ptr = NULL;
	}
	io->fd = -1;
}

/* ---- timer heap ---- */

static bool timer_before(const tw_timer *a, const tw_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->order < b->order);
}

static void heap_set(tw_loop *l, size_t i, tw_timer *t)
{
	l->heap[i] = t;
	t->idx = i + 1;
}

static void sift_up(tw_loop *l, size_t i)
{
	tw_timer *t = l->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!timer_before(t, l->heap[parent]))
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void sift_down(tw_loop *l, size_t i)
{
	tw_timer *t = l->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= l->nheap)
			break;
		if (child + 1 < l->nheap && timer_before(l->heap[child + 1], l->heap[child]))
			child++;
		if (!timer_before(l->heap[child], t))
			break;
		heap_set(l, i, l->heap[child]);
		i = child;
	}
	heap_set(l, i, t);
}

static int heap_reserve(tw_loop *l)
{
	if (l->nheap < l->capheap)
		return 0;
	size_t cap = l->capheap ? l->capheap * 2 : 64;
	tw_timer **h = realloc(l->heap, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	l->heap = h;
	l->capheap = cap;
	return 0;
}

void tw_timer_init(tw_timer *t, tw_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

void tw_timer_stop(tw_loop *l, tw_timer *t)
{
	if (!t->idx)
		return;
	size_t i = t->idx - 1;
	t->idx = 0;
	l->nheap--;
	if (i == l->nheap)
		return;
	heap_set(l, i, l->heap[l->nheap]);
	if (i > 0 && timer_before(l->heap[i], l->heap[(i - 1) / 2]))
		sift_up(l, i);
	else
		sift_down(l, i);
}

int tw_timer_at(tw_loop *l, tw_timer *t, int64_t when_ns)
{
	tw_timer_stop(l, t);
	if (heap_reserve(l) < 0)
		return -ENOMEM;
	t->when = when_ns;
	t->order = l->next_order++;
	l->heap[l->nheap++] = t;
	sift_up(l, l->nheap - 1);
	return 0;
}

int tw_timer_in(tw_loop *l, tw_timer *t, int64_t delay_ns)
{
	return tw_timer_at(l, t, tw_loop_mono(l) + delay_ns);
}

size_t tw_loop_timer_count(const tw_loop *l)
{
	return l->nheap;
}

int64_t tw_loop_next_deadline(const tw_loop *l)
{
	return l->nheap ? l->heap[0]->when : INT64_MAX;
}

int tw_loop_run_timers(tw_loop *l)
{
	int64_t now = tw_loop_mono(l);
	/* Timers re-armed for "now" from a callback wait for the next
	 * iteration, so a zero-delay timer cannot starve I/O. */
	uint64_t horizon = l->next_order;
	int ran = 0;
	while (l->nheap && l->heap[0]->when <= now && l->heap[0]->order < horizon) {
		tw_timer *t = l->heap[0];
		tw_timer_stop(l, t);
		t->fn(t->arg);
		ran++;
	}
	return ran;
}

/* ---- signals ---- */

static void on_signalfd(void *arg, uint32_t events)
{
	tw_loop *l = arg;
	struct signalfd_siginfo si;
	(void)events;
	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int signo = (int)si.ssi_signo;
		if (signo > 0 && signo < MAX_SIGNALS && l->sig[signo].fn)
			l->sig[signo].fn(l->sig[signo].arg, signo);
	}
}

int tw_loop_signal(tw_loop *l, int signo, void (*fn)(void *arg, int signo), void *arg)
{
	if (signo <= 0 || signo >= MAX_SIGNALS)
		return -EINVAL;
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return -errno;
	int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		int rc = tw_io_add(l, &l->sigio, fd, EPOLLIN, on_signalfd, l);
		if (rc < 0)
			return rc;
	}
	l->sig[signo].fn = fn;
	l->sig[signo].arg = arg;
	return 0;
}

/* ---- running ---- */

/* epoll_pwait2 (nanosecond timeout, wait < 0: none) where the kernel has
 * it (5.11+), else epoll_wait with the timeout rounded up to ms. */
static int epoll_wait_ns(tw_loop *l, int64_t wait)
{
	if (!l->no_pwait2) {
		struct timespec ts = { (time_t)(wait / 1000000000), (long)(wait % 1000000000) };
		int n = epoll_pwait2(l->epfd, l->events, MAX_EVENTS, wait >= 0 ? &ts : NULL, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		l->no_pwait2 = true; /* found out once, not by a failing call per iteration */
	}
	int ms = wait < 0 ? -1 : (int)((wait + 999999) / 1000000);
	return epoll_wait(l->epfd, l->events, MAX_EVENTS, ms);
}

static int wait_events(tw_loop *l, int64_t max_wait_ns)
{
	int64_t wait = max_wait_ns;
	int64_t deadline = tw_loop_next_deadline(l);
	if (deadline != INT64_MAX) {
		int64_t until = deadline - tw_loop_mono(l);
		if (until < 0)
			until = 0;
		if (wait < 0 || until < wait)
			wait = until;
	}
	int n = epoll_wait_ns(l, wait);
	return n < 0 ? (errno == EINTR ? 0 : -errno) : n;
}

int tw_loop_run_once(tw_loop *l, int64_t max_wait_ns)
{
	int n = wait_events(l, max_wait_ns);
	if (n < 0)
		return n;
	int ran = 0;
	l->nevents = n;
	for (l->cursor = 0; l->cursor < l->nevents; l->cursor++) {
		struct epoll_event *ev = &l->events[l->cursor];
		tw_io *io = ev->data.ptr;
		if (!io)
			continue; /* removed by an earlier callback of this batch */
		io->fn(io->arg, ev->events);
		ran++;
	}
	l->nevents = 0;
	l->cursor = 0;
	return ran + tw_loop_run_timers(l);
}

int tw_loop_run(tw_loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int rc = tw_loop_run_once(l, -1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void tw_loop_stop(tw_loop *l)
{
	l->stop = true;
}

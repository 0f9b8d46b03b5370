/* test_loop.c - event loop: timer heap order, re-arming, removal during
 * dispatch, fd events and signals, on a fake clock where possible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

struct rec {
	int order[64];
	int n;
};

struct tmr {
	tw_timer t;
	struct rec *rec;
	int id;
};

static void on_timer(void *arg)
{
	struct tmr *x = arg;
	x->rec->order[x->rec->n++] = x->id;
}

static void test_timer_order(void **state)
{
	(void)state;
	tw_fake_clock fc = { 1000, 0 };
	tw_clock c = tw_fake_clock_make(&fc);
	tw_loop *l = tw_loop_new(&c);
	struct rec rec = { 0 };
	struct tmr t[6];
	static const int64_t when[6] = { 50, 10, 30, 10, 40, 20 };
	for (int i = 0; i < 6; i++) {
		t[i].rec = &rec;
		t[i].id = i;
		tw_timer_init(&t[i].t, on_timer, &t[i]);
		assert_int_equal(tw_timer_at(l, &t[i].t, 1000 + when[i]), 0);
	}
	tw_timer_stop(l, &t[4].t); /* remove from the middle of the heap */
	assert_int_equal(tw_loop_timer_count(l), 5);
	assert_true(tw_loop_next_deadline(l) == 1010);
	fc.mono = 1025;
	assert_int_equal(tw_loop_run_timers(l), 3);
	fc.mono = 2000;
	assert_int_equal(tw_loop_run_timers(l), 2);
	static const int expect[] = { 1, 3, 5, 2, 0 }; /* equal deadlines keep FIFO order */
	assert_int_equal(rec.n, 5);
	assert_memory_equal(rec.order, expect, sizeof(expect));
	assert_int_equal(tw_loop_timer_count(l), 0);
	tw_loop_free(l);
}

struct rearm {
	tw_loop *l;
	tw_timer t;
	int fired;
};

static void on_rearm(void *arg)
{
	struct rearm *r = arg;
	r->fired++;
	tw_timer_at(r->l, &r->t, 0); /* already due: must wait for the next pass */
}

static void test_rearm_due_timer_does_not_spin(void **state)
{
	(void)state;
	tw_fake_clock fc = { 100, 0 };
	tw_clock c = tw_fake_clock_make(&fc);
	struct rearm r = { 0 };
	r.l = tw_loop_new(&c);
	tw_timer_init(&r.t, on_rearm, &r);
	tw_timer_at(r.l, &r.t, 50);
	assert_int_equal(tw_loop_run_timers(r.l), 1);
	assert_int_equal(tw_loop_run_timers(r.l), 1);
	assert_int_equal(r.fired, 2);
	tw_timer_stop(r.l, &r.t);
	tw_loop_free(r.l);
}

static void test_many_timers_random(void **state)
{
	(void)state;
	tw_fake_clock fc = { 0, 0 };
	tw_clock c = tw_fake_clock_make(&fc);
	tw_loop *l = tw_loop_new(&c);
	enum { N = 500 };
	static tw_timer t[N];
	uint32_t x = 12345;
	for (int i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		tw_timer_init(&t[i], NULL, NULL);
		tw_timer_at(l, &t[i], (int64_t)(x % 10000));
	}
	for (int i = 0; i < N; i += 3)
		tw_timer_stop(l, &t[i]);
	int64_t prev = -1;
	size_t left = tw_loop_timer_count(l);
	while (tw_loop_timer_count(l)) {
		int64_t d = tw_loop_next_deadline(l);
		assert_true(d >= prev);
		prev = d;
		/* pop the minimum by stopping whichever timer holds it */
		for (int i = 0; i < N; i++) {
			if (tw_timer_armed(&t[i]) && t[i].when == d) {
				tw_timer_stop(l, &t[i]);
				left--;
				break;
			}
		}
		assert_int_equal(tw_loop_timer_count(l), left);
	}
	tw_loop_free(l);
}

struct pipes {
	tw_loop *l;
	int fds[2][2];
	tw_io io[2];
	int calls[2];
};

static void on_readable(void *arg, uint32_t ev)
{
	struct pipes **pp = arg;
	struct pipes *p = pp[0];
	int me = (int)(intptr_t)pp[1];
	(void)ev;
	p->calls[me]++;
	/* whichever runs first removes the other, whose event is pending */
	tw_io_del(p->l, &p->io[1 - me]);
	tw_io_del(p->l, &p->io[me]);
}

static void test_io_delete_pending(void **state)
{
	(void)state;
	struct pipes p = { 0 };
	p.l = tw_loop_new(NULL);
	void *args[2][2];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pipe(p.fds[i]), 0);
		tw_io_init(&p.io[i]);
		args[i][0] = &p;
		args[i][1] = (void *)(intptr_t)i;
		assert_int_equal(tw_io_add(p.l, &p.io[i], p.fds[i][0], EPOLLIN, on_readable, args[i]), 0);
		assert_int_equal(write(p.fds[i][1], "x", 1), 1);
	}
	assert_int_equal(tw_loop_run_once(p.l, 1000000000), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 1);
	for (int i = 0; i < 2; i++) {
		close(p.fds[i][0]);
		close(p.fds[i][1]);
	}
	tw_loop_free(p.l);
}

static void on_sig(void *arg, int signo)
{
	*(int *)arg = signo;
	(void)signo;
}

static void test_signal(void **state)
{
	(void)state;
	tw_loop *l = tw_loop_new(NULL);
	int got = 0;
	assert_int_equal(tw_loop_signal(l, SIGUSR1, on_sig, &got), 0);
	raise(SIGUSR1);
	for (int i = 0; i < 10 && !got; i++)
		tw_loop_run_once(l, 100000000);
	assert_int_equal(got, SIGUSR1);
	tw_loop_free(l);
}

static void on_stop(void *arg)
{
	tw_loop_stop(arg);
}

static void test_run_until_stop_real_clock(void **state)
{
	(void)state;
	tw_loop *l = tw_loop_new(NULL);
	tw_timer t;
	tw_timer_init(&t, on_stop, l);
	int64_t start = tw_loop_mono(l);
	tw_timer_in(l, &t, 20000000); /* 20 ms */
	assert_int_equal(tw_loop_run(l), 0);
	assert_true(tw_loop_mono(l) - start >= 20000000);
	tw_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_rearm_due_timer_does_not_spin),
		cmocka_unit_test(test_many_timers_random),
		cmocka_unit_test(test_io_delete_pending),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_run_until_stop_real_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* pump.c - bounded loop pumping for tests (see pump.h). */
#include "pump.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "clock.h"

int64_t tw_pump_mono_ns(void)
{
	return tw_clock_mono(&tw_clock_system);
}

int64_t tw_pump_real_ns(void)
{
	return tw_clock_real(&tw_clock_system);
}

bool tw_pump_until(tw_loop *l, tw_pump_cond cond, void *arg, int64_t max_ns)
{
	int64_t end = tw_pump_mono_ns() + max_ns;
	while (!cond(arg)) {
		if (tw_pump_mono_ns() >= end)
			return false;
		assert_true(tw_loop_run_once(l, TW_PUMP_STEP_NS) >= 0);
	}
	return true;
}

typedef struct goal {
	uint64_t (*read)(const void *arg);
	const void *arg;
	uint64_t want;
} goal;

static bool goal_reached(void *arg)
{
	const goal *g = arg;
	return g->read(g->arg) >= g->want;
}

bool tw_pump_until_at_least(tw_loop *l, uint64_t (*read)(const void *arg), const void *arg, uint64_t want,
			    int64_t max_ns)
{
	goal g = { read, arg, want };
	return tw_pump_until(l, goal_reached, &g, max_ns);
}

static uint64_t read_int(const void *arg)
{
	int v = *(const int *)arg;
	return v > 0 ? (uint64_t)v : 0;
}

bool tw_pump_until_count(tw_loop *l, const int *value, int want, int64_t max_ns)
{
	return tw_pump_until_at_least(l, read_int, value, want > 0 ? (uint64_t)want : 0, max_ns);
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

void tw_pump_for(tw_loop *l, int64_t ns)
{
	(void)tw_pump_until(l, never, NULL, ns);
}

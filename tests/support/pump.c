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

typedef struct counter {
	const int *value;
	int want;
} counter;

static bool counter_reached(void *arg)
{
	const counter *c = arg;
	return *c->value >= c->want;
}

bool tw_pump_until_count(tw_loop *l, const int *value, int want, int64_t max_ns)
{
	counter c = { value, want };
	return tw_pump_until(l, counter_reached, &c, max_ns);
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

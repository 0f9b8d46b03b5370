/* clock.c - system and fake clocks, adjtimex sync state (see clock.h). */
#include "clock.h"

#include <sys/timex.h>
#include <time.h>

#include "errest.h"

#define MIN_ERROR_NS UINT64_C(1000)                 /* timestamp resolution floor */
#define UNSYNC_MAXERROR_US 16000000L                /* kernel "unsynchronised" limit */
#define UNSYNC_ERROR_NS (UINT64_C(1) << 40)         /* ~18 min: "don't trust me" */

static int64_t read_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t sys_mono(void *ctx)
{
	(void)ctx;
	return read_clock(CLOCK_MONOTONIC);
}

static int64_t sys_real(void *ctx)
{
	(void)ctx;
	return read_clock(CLOCK_REALTIME);
}

const tw_clock tw_clock_system = { sys_mono, sys_real, 0 };

static int64_t fake_mono(void *ctx)
{
	return ((tw_fake_clock *)ctx)->mono;
}

static int64_t fake_real(void *ctx)
{
	return ((tw_fake_clock *)ctx)->real;
}

tw_clock tw_fake_clock_make(tw_fake_clock *fc)
{
	tw_clock c = { fake_mono, fake_real, fc };
	return c;
}

tw_sync_state tw_clock_sync_state(void)
{
	struct timex tx = { 0 };
	tw_sync_state st = { false, UNSYNC_ERROR_NS };
	int state = adjtimex(&tx);
	if (state < 0 || state == TIME_ERROR || (tx.status & STA_UNSYNC) || tx.maxerror >= UNSYNC_MAXERROR_US)
		return st;
	st.synced = true;
	st.error_ns = tx.esterror > 0 ? (uint64_t)tx.esterror * 1000u : MIN_ERROR_NS;
	return st;
}

uint16_t tw_clock_errest_word(const tw_sync_state *st)
{
	uint64_t err = st->error_ns < MIN_ERROR_NS ? MIN_ERROR_NS : st->error_ns;
	return tw_errest_pack(tw_errest_from_ns(err, st->synced, false));
}

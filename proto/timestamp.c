/* timestamp.c - NTP / PTP 64-bit timestamp conversions (see timestamp.h). */
#include "timestamp.h"

#define ERA_PIVOT UINT32_C(0x80000000)

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

tw_ts tw_ts_from_unix_ns(int64_t unix_ns)
{
	int64_t sec = floor_div(unix_ns, TW_NS_PER_SEC);
	uint64_t nsec = (uint64_t)(unix_ns - sec * TW_NS_PER_SEC);
	uint32_t ntp_sec = (uint32_t)(uint64_t)(sec + TW_NTP_UNIX_OFFSET);
	uint32_t frac = (uint32_t)((nsec << 32) / (uint64_t)TW_NS_PER_SEC);
	return (tw_ts)ntp_sec << 32 | frac;
}

int64_t tw_ts_to_unix_ns(tw_ts ts)
{
	uint32_t ntp_sec = (uint32_t)(ts >> 32);
	int64_t sec = (int64_t)ntp_sec - TW_NTP_UNIX_OFFSET;
	if (ntp_sec < ERA_PIVOT)
		sec += INT64_C(1) << 32;
	uint64_t nsec = ((ts & 0xFFFFFFFFu) * (uint64_t)TW_NS_PER_SEC) >> 32;
	return sec * TW_NS_PER_SEC + (int64_t)nsec;
}

int64_t tw_ts_diff_ns(tw_ts a, tw_ts b)
{
	int64_t d = (int64_t)(a - b);
	/* Arithmetic shift: floor of the seconds part, fraction stays >= 0. */
	int64_t whole = d >> 32;
	uint64_t frac = (uint64_t)d & 0xFFFFFFFFu;
	return whole * TW_NS_PER_SEC + (int64_t)((frac * (uint64_t)TW_NS_PER_SEC) >> 32);
}

tw_ts tw_ts_interval_from_ns(uint64_t ns)
{
	uint64_t sec = ns / (uint64_t)TW_NS_PER_SEC;
	uint64_t rem = ns % (uint64_t)TW_NS_PER_SEC;
	uint64_t frac = ((rem << 32) + (uint64_t)TW_NS_PER_SEC / 2) / (uint64_t)TW_NS_PER_SEC;
	if (sec > UINT32_MAX)
		return UINT64_MAX;
	return (sec << 32) + frac; /* frac may carry into the seconds */
}

uint64_t tw_ts_interval_to_ns(tw_ts interval)
{
	uint64_t sec = interval >> 32;
	uint64_t frac = interval & 0xFFFFFFFFu;
	return sec * (uint64_t)TW_NS_PER_SEC + ((frac * (uint64_t)TW_NS_PER_SEC) >> 32);
}

tw_ts tw_ts_ptp_from_unix_ns(int64_t unix_ns)
{
	int64_t sec = floor_div(unix_ns, TW_NS_PER_SEC);
	int64_t nsec = unix_ns - sec * TW_NS_PER_SEC;
	uint32_t tai = (uint32_t)(uint64_t)(sec + TW_TAI_UTC_OFFSET);
	return (tw_ts)tai << 32 | (uint32_t)nsec;
}

int64_t tw_ts_ptp_to_unix_ns(tw_ts ptp)
{
	int64_t sec = (int64_t)(ptp >> 32) - TW_TAI_UTC_OFFSET;
	uint32_t nsec = (uint32_t)ptp;
	if (nsec >= TW_NS_PER_SEC)
		nsec = (uint32_t)(TW_NS_PER_SEC - 1); /* malformed: clamp, never overflow */
	return sec * TW_NS_PER_SEC + nsec;
}

tw_ts tw_ts_normalize(tw_ts wire, int ptp)
{
	return ptp ? tw_ts_from_unix_ns(tw_ts_ptp_to_unix_ns(wire)) : wire;
}

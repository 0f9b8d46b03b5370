/*
 * timestamp.h - NTP 64-bit (32.32) and PTPv2-truncated timestamps.
 *
 * Inside the program time is int64 nanoseconds since the Unix epoch
 * (CLOCK_REALTIME) or int64 nanoseconds of CLOCK_MONOTONIC; these 64-bit
 * wire formats exist only at encode/decode time. Differences are always
 * taken on the raw 32.32 values as (int64_t)(a - b), which is correct
 * across the 2036 NTP era wrap for intervals under 68 years.
 */
#ifndef TW_TIMESTAMP_H
#define TW_TIMESTAMP_H

#include <stdint.h>

/* NTP timestamp or interval: seconds in the high 32 bits, binary fraction
 * in the low 32 bits. */
typedef uint64_t tw_ts;

#define TW_NS_PER_SEC INT64_C(1000000000)
#define TW_NTP_UNIX_OFFSET INT64_C(2208988800) /* 1900-01-01 -> 1970-01-01 */
#define TW_TAI_UTC_OFFSET 37                   /* seconds, since 2017-01-01 */

/* Unix nanoseconds -> NTP timestamp; the fraction is truncated (never
 * rounds up into the next second) and the seconds wrap mod 2^32. */
tw_ts tw_ts_from_unix_ns(int64_t unix_ns);

/* NTP timestamp -> Unix nanoseconds (fraction floored). Seconds values
 * below 2^31 are taken to be in NTP era 1 (after 2036-02-07), since no
 * measurement carries a 1900-1968 date. */
int64_t tw_ts_to_unix_ns(tw_ts ts);

/* a - b in nanoseconds, wrap-safe, rounded towards minus infinity
 * (metrics.md §1). */
int64_t tw_ts_diff_ns(tw_ts a, tw_ts b);

/* 32.32 interval (e.g. the Request-TW-Session Timeout) <-> nanoseconds.
 * from_ns rounds to the nearest 2^-32 s; to_ns floors. */
tw_ts tw_ts_interval_from_ns(uint64_t ns);
uint64_t tw_ts_interval_to_ns(tw_ts interval);

/* PTPv2 truncated format (RFC 8186, Error Estimate Z = 1): low 32 bits of
 * TAI seconds since 1970 followed by 32-bit nanoseconds. */
tw_ts tw_ts_ptp_from_unix_ns(int64_t unix_ns);
int64_t tw_ts_ptp_to_unix_ns(tw_ts ptp);

/* Convert a wire timestamp of either format (ptp != 0 for Z = 1) into an
 * NTP-format value so that mixed-format differences are meaningful. */
tw_ts tw_ts_normalize(tw_ts wire, int ptp);

#endif /* TW_TIMESTAMP_H */

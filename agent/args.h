/*
 * args.h - parsers for command-line option values. Each prints a message
 * naming the command, the option, the bad value and what was expected
 * (e.g. "twamp-agent ping: -D 'EFF': expected a DSCP 0-63 or a name such
 * as EF, AF41, CS1") on stderr and returns -EINVAL; 0 on success.
 */
#ifndef TW_ARGS_H
#define TW_ARGS_H

#include <stddef.h>
#include <stdint.h>

int tw_arg_u64(const char *cmd, const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out);

/* A duration: "10ms", "1.5s", "2m" (config syntax) or a plain decimal
 * number of seconds like twping's "-i 0.01". Must be >= min_ns. */
int tw_arg_duration(const char *cmd, const char *opt, const char *val, int64_t min_ns, int64_t *out);

/* 0-63, or CS0-CS7, AF11-AF43, EF, VA (case-insensitive). */
int tw_arg_dscp(const char *cmd, const char *opt, const char *val, int *out);

/* HOST, HOST:PORT, IPv4, [IPv6] or [IPv6]:PORT; default_port when absent. */
int tw_arg_hostport(const char *cmd, const char *opt, const char *val, uint16_t default_port, char *host,
		    size_t cap, uint16_t *port);

/* A comma-separated list of security modes: unauthenticated (or open),
 * authenticated, encrypted, mixed; "auto" means all four. */
int tw_arg_modes(const char *cmd, const char *opt, const char *val, uint32_t *modes);

/* "MIN-MAX" port range, 1 <= MIN <= MAX <= 65535. */
int tw_arg_port_range(const char *cmd, const char *opt, const char *val, uint16_t *min, uint16_t *max);

/* The TWAMP Modes bits of configured features (TW_CONFIG_FEATURE_* bits:
 * isc, reflect_octets, symmetric_size, dscp_ecn, ptp). */
uint32_t tw_features_to_modes(uint32_t config_bits);

/* A comma-separated feature list (isc, reflect_octets, symmetric_size,
 * dscp_ecn, ptp) as TWAMP Modes bits. */
int tw_arg_features(const char *cmd, const char *opt, const char *val, uint32_t *modes);

/* A comma-separated list of STAMP TLVs (location, timestamp_info, cos,
 * direct_measurement, follow_up) as TW_SENDER_TLV_* bits. */
int tw_arg_tlvs(const char *cmd, const char *opt, const char *val, uint32_t *tlvs);

/* "isc,symmetric_size" for Modes feature bits (buf returned; "" if none). */
const char *tw_features_format(uint32_t modes, char *buf, size_t cap);

#endif

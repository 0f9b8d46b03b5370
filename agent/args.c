/* args.c - command-line value parsers with precise errors (see args.h). */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "control.h"
#include "duration.h"

static int bad(const char *cmd, const char *opt, const char *val, const char *expected)
{
	fprintf(stderr, "twamp-agent %s: %s '%s': expected %s\n", cmd, opt, val, expected);
	return -EINVAL;
}

/* Strict unsigned decimal: digits only, no sign, no spaces, no overflow. */
static int parse_decimal(const char *val, uint64_t *out)
{
	if (!*val)
		return -EINVAL;
	uint64_t v = 0;
	for (const char *p = val; *p; p++) {
		if (!isdigit((unsigned char)*p) || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int tw_arg_u64(const char *cmd, const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	char expected[96];
	snprintf(expected, sizeof(expected), "an integer from %llu to %llu", (unsigned long long)min,
		 (unsigned long long)max);
	if (parse_decimal(val, &v) < 0 || v < min || v > max)
		return bad(cmd, opt, val, expected);
	*out = v;
	return 0;
}

static bool plain_number(const char *s)
{
	bool dot = false, digit = false;
	for (; *s; s++) {
		if (*s == '.' && !dot)
			dot = true;
		else if (isdigit((unsigned char)*s))
			digit = true;
		else
			return false;
	}
	return digit;
}

int tw_arg_duration(const char *cmd, const char *opt, const char *val, int64_t min_ns, int64_t *out)
{
	char buf[64];
	const char *text = val;
	if (plain_number(val) && strlen(val) + 2 <= sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%ss", val); /* twping style: seconds */
		text = buf;
	}
	int64_t ns;
	if (tw_duration_parse(text, &ns) < 0 || ns < min_ns) {
		char expected[128], minbuf[32];
		tw_duration_format(min_ns, minbuf, sizeof(minbuf));
		snprintf(expected, sizeof(expected), "seconds (0.01) or a duration (10ms, 1.5s, 2m) of at least %s",
			 minbuf);
		return bad(cmd, opt, val, expected);
	}
	*out = ns;
	return 0;
}

static const struct {
	const char *name;
	int dscp;
} dscp_names[] = {
	{ "CS0", 0 },   { "CS1", 8 },   { "CS2", 16 },  { "CS3", 24 },  { "CS4", 32 },  { "CS5", 40 },
	{ "CS6", 48 },  { "CS7", 56 },  { "AF11", 10 }, { "AF12", 12 }, { "AF13", 14 }, { "AF21", 18 },
	{ "AF22", 20 }, { "AF23", 22 }, { "AF31", 26 }, { "AF32", 28 }, { "AF33", 30 }, { "AF41", 34 },
	{ "AF42", 36 }, { "AF43", 38 }, { "EF", 46 },   { "VA", 44 },   { "BE", 0 },    { "LE", 1 },
};

int tw_arg_dscp(const char *cmd, const char *opt, const char *val, int *out)
{
	uint64_t v;
	if (parse_decimal(val, &v) == 0 && v <= 63) {
		*out = (int)v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(dscp_names) / sizeof(dscp_names[0]); i++) {
		if (strcasecmp(val, dscp_names[i].name) == 0) {
			*out = dscp_names[i].dscp;
			return 0;
		}
	}
	return bad(cmd, opt, val, "a DSCP 0-63 or a name such as EF, AF41, CS1");
}

int tw_arg_hostport(const char *cmd, const char *opt, const char *val, uint16_t default_port, char *host,
		    size_t cap, uint16_t *port)
{
	char buf[TW_ADDR_HOST_MAX + 16];
	const char *text = val;
	size_t len = strlen(val);
	/* HOST or [IPv6] without a port: add the default before splitting. */
	bool bracketed = len > 1 && val[0] == '[' && val[len - 1] == ']';
	if ((bracketed || !strchr(val, ':')) && len + 8 < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%s:%u", val, default_port);
		text = buf;
	}
	if (tw_addr_split(text, host, cap, port) < 0 || !host[0])
		return bad(cmd, opt, val, "HOST, HOST:PORT, an IPv4 address or [IPv6]:PORT (IPv6 in brackets)");
	return 0;
}

/* Bit i of *bits for each names[i] in the comma-separated val; -EINVAL at
 * a word not in names (the caller says what was expected). */
static int word_list(const char *val, const char *const *names, size_t n, uint32_t *bits)
{
	char buf[128];
	uint32_t m = 0;
	snprintf(buf, sizeof(buf), "%s", val);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < n && strcmp(tok, names[i]) != 0)
			i++;
		if (i == n)
			return -EINVAL;
		m |= 1u << i;
	}
	*bits = m;
	return 0;
}

int tw_arg_modes(const char *cmd, const char *opt, const char *val, uint32_t *modes)
{
	/* bits 0-3 are the TWAMP Modes bits TW_MODE_OPEN .. TW_MODE_MIXED */
	static const char *const words[] = { "unauthenticated", "authenticated", "encrypted", "mixed", "open",
					     "auto" };
	enum { OPEN_WORD = 1u << 4, AUTO_WORD = 1u << 5 };
	uint32_t w;
	if (word_list(val, words, sizeof(words) / sizeof(words[0]), &w) < 0)
		return bad(cmd, opt, val, "open|unauthenticated, authenticated, encrypted, mixed or auto");
	uint32_t m = (w & TW_MODES_SECURITY) | (w & OPEN_WORD ? TW_MODE_OPEN : 0) |
		     (w & AUTO_WORD ? TW_MODES_SECURITY : 0);
	if (!m)
		return bad(cmd, opt, val, "at least one mode");
	*modes = m;
	return 0;
}

int tw_arg_port_range(const char *cmd, const char *opt, const char *val, uint16_t *min, uint16_t *max)
{
	char lo[16], hi[16];
	const char *dash = strchr(val, '-');
	uint64_t a, b;
	if (dash && (size_t)(dash - val) < sizeof(lo) && strlen(dash + 1) < sizeof(hi)) {
		snprintf(lo, sizeof(lo), "%.*s", (int)(dash - val), val);
		snprintf(hi, sizeof(hi), "%s", dash + 1);
		if (parse_decimal(lo, &a) == 0 && parse_decimal(hi, &b) == 0 && a >= 1 && a <= b && b <= 65535) {
			*min = (uint16_t)a;
			*max = (uint16_t)b;
			return 0;
		}
	}
	return bad(cmd, opt, val, "a port range MIN-MAX with 1 <= MIN <= MAX <= 65535");
}

/* Config bit i (TW_CONFIG_FEATURE_*) <-> feature_names[i] <-> TWAMP Modes bit. */
static const char *const feature_names[] = { "isc", "reflect_octets", "symmetric_size", "dscp_ecn", "ptp" };
static const uint32_t feature_modes[] = { TW_MODE_ISC, TW_MODE_REFLECT_OCTETS, TW_MODE_SYMMETRIC, TW_MODE_DSCP_ECN,
					  TW_MODE_PTP };
#define NFEATURES (sizeof(feature_names) / sizeof(feature_names[0]))

uint32_t tw_features_to_modes(uint32_t config_bits)
{
	uint32_t m = 0;
	for (size_t i = 0; i < NFEATURES; i++)
		if (config_bits & (1u << i))
			m |= feature_modes[i];
	return m;
}

int tw_arg_features(const char *cmd, const char *opt, const char *val, uint32_t *modes)
{
	uint32_t bits;
	if (word_list(val, feature_names, NFEATURES, &bits) < 0)
		return bad(cmd, opt, val, "a list of isc, reflect_octets, symmetric_size, dscp_ecn, ptp");
	*modes = tw_features_to_modes(bits);
	return 0;
}

const char *tw_features_format(uint32_t modes, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NFEATURES && n < cap; i++)
		if (modes & feature_modes[i])
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "", feature_names[i]);
	return buf;
}

int tw_arg_tlvs(const char *cmd, const char *opt, const char *val, uint32_t *tlvs)
{
	/* bit i = TW_SENDER_TLV_* = TW_CONFIG_TLV_* */
	static const char *const names[] = { "location", "timestamp_info", "cos", "direct_measurement",
					     "follow_up" };
	if (word_list(val, names, sizeof(names) / sizeof(names[0]), tlvs) < 0)
		return bad(cmd, opt, val, "a list of location, timestamp_info, cos, direct_measurement, follow_up");
	return 0;
}

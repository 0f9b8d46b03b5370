/*
 * fuzz_config.c - arbitrary bytes as a configuration file: the loader must
 * return a config or an error naming the file, never crash or leak. Loaded
 * configs are read end to end (summary, identity order) so every pointer
 * in them is touched. Short inputs also go through the public helpers
 * (durations, HOST:PORT, CIDR) with round-trip checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_config(const tw_config *cfg)
{
	char line[256];
	if (tw_config_summary(cfg, line, sizeof(line)) <= 0)
		abort();
	size_t sum = 0;
	for (size_t i = 0; i < cfg->n_targets; i++) {
		const tw_config_target *t = &cfg->targets[i];
		sum += strlen(t->name) + strlen(t->host) + t->s.buckets.n;
		for (size_t j = 0; j < t->s.labels.n; j++)
			sum += strlen(t->s.labels.v[j].name) + strlen(t->s.labels.v[j].value);
		/* The loader refuses clashing identities. */
		if (i > 0 && tw_config_target_identity_cmp(t, &cfg->targets[i - 1]) == 0)
			abort();
		if (t->s.interval_ns < 1000000 || t->s.dscp > 63)
			abort();
	}
	for (size_t i = 0; i < cfg->reflector.listen.n; i++)
		sum += strlen(cfg->reflector.listen.v[i].host);
	if (sum == SIZE_MAX)
		abort(); /* keeps the reads from being optimised away */
}

static void helpers(const char *s)
{
	int64_t ns, back;
	char buf[64];
	if (tw_duration_parse(s, &ns) == 0) {
		tw_duration_format(ns, buf, sizeof(buf));
		if (tw_duration_parse(buf, &back) != 0 || back != ns)
			abort();
	}
	char host[TW_ADDR_HOST_MAX + 1];
	uint16_t port;
	if (tw_addr_split(s, host, sizeof(host), &port) == 0 && host[0] &&
	    !tw_addr_host_valid(host))
		abort();
	tw_addr_cidr c, again;
	if (tw_addr_cidr_parse(s, &c) == 0) {
		tw_addr_cidr_format(&c, buf, sizeof(buf));
		if (tw_addr_cidr_parse(buf, &again) != 0 || memcmp(&c, &again, sizeof(c)) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tw_config *cfg = NULL;
	tw_config_error err;
	int rc = tw_config_load_buffer("fuzz.yml", "/base", (const char *)data, size, &cfg, &err);
	if (rc == 0) {
		read_config(cfg);
		tw_config_free(cfg);
	} else if (cfg || strncmp(err.msg, "fuzz.yml", 8) != 0) {
		abort();
	}
	if (size < 512) {
		char s[512];
		memcpy(s, data, size);
		s[size] = '\0';
		helpers(s);
	}
	return 0;
}

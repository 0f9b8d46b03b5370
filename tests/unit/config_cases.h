/*
 * config_cases.h - the two checks every configuration test makes: a good
 * YAML text loads, and a bad one fails with exactly the expected message.
 * Include after <cmocka.h> and "config.h".
 */
#ifndef TW_TEST_CONFIG_CASES_H
#define TW_TEST_CONFIG_CASES_H

#include <errno.h>
#include <string.h>

/* Loads yaml as "good.yml" (relative paths against /etc/twamp); any error
 * fails the test with its message. */
static tw_config *load_ok(const char *yaml)
{
	tw_config *cfg = NULL;
	tw_config_error err;
	int rc = tw_config_load_buffer("good.yml", "/etc/twamp", yaml, strlen(yaml), &cfg, &err);
	if (rc != 0) {
		print_error("unexpected error %d: %s\n", rc, err.msg);
		fail();
	}
	assert_non_null(cfg);
	return cfg;
}

/* Returns 0 when yaml, loaded as "agent.yml", fails with -EINVAL, no
 * configuration and exactly msg; otherwise prints the difference under
 * the name what and returns 1 (callers count, then assert none failed). */
static int check_bad(const char *what, const char *yaml, const char *msg)
{
	tw_config *cfg = (tw_config *)1;
	tw_config_error err;
	int rc = tw_config_load_buffer("agent.yml", NULL, yaml, strlen(yaml), &cfg, &err);
	if (rc == 0)
		tw_config_free(cfg);
	if (rc != -EINVAL || cfg != NULL || strcmp(err.msg, msg) != 0) {
		print_error("case \"%s\":\n  rc %d\n  got      %s\n  expected %s\n", what, rc,
			    rc == 0 ? "(loaded)" : err.msg, msg);
		return 1;
	}
	return 0;
}

#endif

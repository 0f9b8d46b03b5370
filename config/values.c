/*
 * values.c - one parser per kind of value in the schema. Scalar parsers
 * turn text into a field and, on failure, say what was expected; the node
 * parsers (lists, labels, buckets, sections) walk the YAML structure and
 * report errors at the offending element.
 */
#include "schema.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "duration.h"
#include "text.h"

enum { PATH_MAX_LEN = 4095, IFNAME_MAX_LEN = 15, LABEL_VALUE_MAX = 1024 };

/* Every list field of config.h is { const T *v; size_t n; }. */
typedef struct gen_list {
	const void *v;
	size_t n;
} gen_list;
_Static_assert(sizeof(tw_config_hostports) == sizeof(gen_list), "list layout");
_Static_assert(offsetof(tw_config_hostports, n) == offsetof(gen_list, n), "list layout");
_Static_assert(sizeof(tw_config_cidrs) == sizeof(gen_list), "list layout");
_Static_assert(offsetof(tw_config_cidrs, n) == offsetof(gen_list, n), "list layout");
_Static_assert(sizeof(tw_config_paths) == sizeof(gen_list), "list layout");
_Static_assert(offsetof(tw_config_paths, n) == offsetof(gen_list, n), "list layout");
/* Enum fields are written as int. */
_Static_assert(sizeof(tw_config_schedule) == sizeof(int), "enum size");
_Static_assert(sizeof(tw_config_ip) == sizeof(int), "enum size");
_Static_assert(sizeof(tw_config_test_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(tw_config_security) == sizeof(int), "enum size");

typedef int (*scalar_fn)(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why,
			 size_t cap);

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_digit(*s))
			return false;
	return true;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int store_str(tw_ld *ld, const char *s, void *dst)
{
	const char *p = tw_arena_strndup(ld->perm, s, strlen(s));
	if (!p)
		return -ENOMEM;
	memcpy(dst, &p, sizeof(p));
	return 0;
}

/* ---- scalar kinds ---- */

static int scalar_bool(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why, size_t cap)
{
	(void)ld, (void)k, (void)why, (void)cap;
	bool v;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		v = true;
	else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		v = false;
	else
		return -EINVAL;
	memcpy(dst, &v, sizeof(v));
	return 0;
}

static void store_uint(void *dst, size_t size, uint64_t v)
{
	if (size == 1) {
		uint8_t x = (uint8_t)v;
		memcpy(dst, &x, 1);
	} else if (size == 2) {
		uint16_t x = (uint16_t)v;
		memcpy(dst, &x, 2);
	} else if (size == 4) {
		uint32_t x = (uint32_t)v;
		memcpy(dst, &x, 4);
	} else {
		memcpy(dst, &v, 8);
	}
}

static int scalar_uint(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why, size_t cap)
{
	(void)ld;
	if (!all_digits(s) || strlen(s) > 19)
		return -EINVAL;
	if (s[0] == '0' && s[1]) {
		/* YAML 1.1 readers take 046 as octal: refuse the ambiguity. */
		snprintf(why, cap, "an integer from %" PRId64 " to %" PRId64 " without leading zeros",
			 k->min, k->max);
		return -EINVAL;
	}
	uint64_t v = strtoull(s, NULL, 10);
	if (v < (uint64_t)k->min || v > (uint64_t)k->max)
		return -EINVAL;
	if ((k->flags & TW_KEY_POW2) && (v & (v - 1)) != 0)
		return -EINVAL;
	store_uint(dst, k->size, v);
	return 0;
}

static int scalar_duration(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why,
			   size_t cap)
{
	(void)ld;
	int64_t v;
	int rc = tw_duration_parse(s, &v);
	if (rc == -EINVAL) {
		snprintf(why, cap, "a duration such as 100ms, 1s or 2m30s%s",
			 all_digits(s) ? " (a number needs a unit)" : "");
		return rc;
	}
	if (rc < 0 || v < k->min || v > k->max) {
		char lo[32], hi[32];
		tw_duration_format(k->min, lo, sizeof(lo));
		tw_duration_format(k->max, hi, sizeof(hi));
		snprintf(why, cap, "a duration from %s to %s", lo, hi);
		return -EINVAL;
	}
	memcpy(dst, &v, sizeof(v));
	return 0;
}

static int enum_index(const tw_key *k, const char *s)
{
	for (int i = 0; k->names[i]; i++)
		if (strcmp(k->names[i], s) == 0)
			return i;
	return -1;
}

static int scalar_enum(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why, size_t cap)
{
	(void)ld, (void)why, (void)cap;
	int i = enum_index(k, s);
	if (i < 0)
		return -EINVAL;
	memcpy(dst, &i, sizeof(i));
	return 0;
}

/* An element of TW_K_ENUM_SET: sets its bit in the uint32 mask. */
static int scalar_enum_bit(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why,
			   size_t cap)
{
	(void)ld;
	int i = enum_index(k, s);
	if (i < 0) {
		char names[200];
		size_t w = 0;
		for (int j = 0; k->names[j] && w < sizeof(names); j++)
			w += (size_t)snprintf(names + w, sizeof(names) - w, "%s%s", j ? ", " : "",
					      k->names[j]);
		snprintf(why, cap, "one of %s", names);
		return -EINVAL;
	}
	uint32_t mask;
	memcpy(&mask, dst, sizeof(mask));
	mask |= 1u << i;
	memcpy(dst, &mask, sizeof(mask));
	return 0;
}

static int scalar_string(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why,
			 size_t cap)
{
	size_t n = strlen(s);
	bool token = k->flags & TW_KEY_TOKEN;
	bool bad = has_control(s);
	for (const char *p = s; token && *p; p++)
		bad |= (unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f;
	if (bad || n < (size_t)k->min || n > (size_t)k->max) {
		snprintf(why, cap, "%" PRId64 " to %" PRId64 " %s", k->min, k->max,
			 token ? "printable ASCII characters without spaces" :
				 "octets without control characters");
		return -EINVAL;
	}
	return store_str(ld, s, dst);
}

static int scalar_host(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why, size_t cap)
{
	(void)k, (void)why, (void)cap;
	char tmp[TW_ADDR_HOST_MAX + 2];
	size_t n = strlen(s);
	/* "[2001:db8::1]" is accepted too: people copy it from URLs. */
	if (n >= 2 && n < sizeof(tmp) && s[0] == '[' && s[n - 1] == ']') {
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		if (tw_addr_literal_family(tmp) != AF_INET6)
			return -EINVAL;
		s = tmp;
	}
	if (!tw_addr_host_valid(s))
		return -EINVAL;
	return store_str(ld, s, dst);
}

static int scalar_ipaddr(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why,
			 size_t cap)
{
	(void)k, (void)why, (void)cap;
	if (tw_addr_literal_family(s) == 0)
		return -EINVAL;
	return store_str(ld, s, dst);
}

static int scalar_ifname(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why,
			 size_t cap)
{
	(void)k, (void)why, (void)cap;
	size_t n = strlen(s);
	if (n == 0 || n > IFNAME_MAX_LEN || has_control(s) || strpbrk(s, "/: \t") ||
	    !strcmp(s, ".") || !strcmp(s, ".."))
		return -EINVAL;
	return store_str(ld, s, dst);
}

static int scalar_path(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why, size_t cap)
{
	(void)k, (void)why, (void)cap;
	size_t n = strlen(s);
	if (n == 0 || n > PATH_MAX_LEN || has_control(s))
		return -EINVAL;
	if (s[0] == '/' || !ld->base_dir)
		return store_str(ld, s, dst);
	/* Relative to the config file, as Prometheus does, not to the cwd
	 * of whoever started the agent. */
	size_t bl = strlen(ld->base_dir);
	char *p = tw_arena_alloc(ld->perm, bl + n + 2);
	if (!p)
		return -ENOMEM;
	memcpy(p, ld->base_dir, bl);
	p[bl] = '/';
	memcpy(p + bl + 1, s, n + 1);
	memcpy(dst, &p, sizeof(p));
	return 0;
}

/* 1-65535: a port range never includes port 0. */
static int parse_port_text(const char *s, size_t n, uint16_t *out)
{
	unsigned v;
	if (tw_text_decimal(s, n, 5, 65535, &v) < 0 || v == 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int scalar_port_range(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why,
			     size_t cap)
{
	(void)ld, (void)k, (void)why, (void)cap;
	tw_config_port_range r;
	const char *dash = strchr(s, '-');
	size_t n = strlen(s);
	size_t lo_len = dash ? (size_t)(dash - s) : n;
	if (parse_port_text(s, lo_len, &r.min) < 0)
		return -EINVAL;
	r.max = r.min;
	if (dash && parse_port_text(dash + 1, n - lo_len - 1, &r.max) < 0)
		return -EINVAL;
	if (r.max < r.min)
		return -EINVAL;
	memcpy(dst, &r, sizeof(r));
	return 0;
}

static int scalar_hostport(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why,
			   size_t cap)
{
	char host[TW_ADDR_HOST_MAX + 1];
	tw_config_hostport hp;
	int rc = tw_addr_split(s, host, sizeof(host), &hp.port);
	if (rc == -ERANGE || (rc == 0 && (hp.port < k->min || hp.port > k->max))) {
		snprintf(why, cap, "HOST:PORT with a port from %" PRId64 " to %" PRId64, k->min, k->max);
		return -EINVAL;
	}
	if (rc < 0) {
		snprintf(why, cap, "HOST:PORT such as 0.0.0.0:862, [::]:862 or localhost:862 "
				   "(IPv6 in brackets)");
		return -EINVAL;
	}
	hp.host = tw_arena_strndup(ld->perm, host, strlen(host));
	if (!hp.host)
		return -ENOMEM;
	memcpy(dst, &hp, sizeof(hp));
	return 0;
}

static int scalar_cidr(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why, size_t cap)
{
	(void)ld, (void)k;
	tw_addr_cidr c;
	int rc = tw_addr_cidr_parse(s, &c);
	if (rc == -EDOM) {
		char net[64];
		tw_addr_cidr_format(&c, net, sizeof(net));
		snprintf(why, cap, "%s (no address bits may be set beyond the prefix length)", net);
	} else if (rc == -ERANGE) {
		snprintf(why, cap, "a prefix length of at most 32 (IPv4) or 128 (IPv6)");
	} else if (rc < 0) {
		snprintf(why, cap, "an address or prefix such as 10.0.0.0/8 or 2001:db8::/32");
	}
	if (rc < 0)
		return -EINVAL;
	memcpy(dst, &c, sizeof(c));
	return 0;
}

/* ---- bucket presets ---- */

#define US INT64_C(1000)
#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)
static const int64_t buckets_default[] = { 25 * US, 50 * US, 100 * US, 250 * US, 500 * US, 1 * MS,
	2500 * US, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS, 1 * SEC,
	2500 * MS };
/* smokeping_prober's default: 50us doubling 20 times (up to ~26s). */
#define SP(k) (50 * US << (k))
static const int64_t buckets_smokeping[] = { SP(0), SP(1), SP(2), SP(3), SP(4), SP(5), SP(6),
	SP(7), SP(8), SP(9), SP(10), SP(11), SP(12), SP(13), SP(14), SP(15), SP(16), SP(17),
	SP(18), SP(19) };

static int scalar_bucket_preset(tw_ld *ld, const tw_key *k, const char *s, void *dst, char *why,
				size_t cap)
{
	(void)ld, (void)k, (void)why, (void)cap;
	tw_config_buckets b;
	if (strcmp(s, "default") == 0)
		b = (tw_config_buckets){ buckets_default, sizeof(buckets_default) / sizeof(int64_t),
			TW_CONFIG_BUCKETS_DEFAULT };
	else if (strcmp(s, "smokeping") == 0)
		b = (tw_config_buckets){ buckets_smokeping, sizeof(buckets_smokeping) / sizeof(int64_t),
			TW_CONFIG_BUCKETS_SMOKEPING };
	else
		return -EINVAL;
	memcpy(dst, &b, sizeof(b));
	return 0;
}

/* ---- the kind table ---- */

static const struct kind_info {
	const char *type;
	scalar_fn fn;  /* the scalar, or a list's element */
	size_t elem;   /* list element size (0: elements share dst) */
	bool list;
} kinds[TW_K__COUNT] = {
	[TW_K_BOOL] = { "bool", scalar_bool, 0, false },
	[TW_K_UINT] = { "integer", scalar_uint, 0, false },
	[TW_K_DURATION] = { "duration", scalar_duration, 0, false },
	[TW_K_ENUM] = { "enum", scalar_enum, 0, false },
	[TW_K_STRING] = { "string", scalar_string, 0, false },
	[TW_K_HOST] = { "host", scalar_host, 0, false },
	[TW_K_IPADDR] = { "IP address", scalar_ipaddr, 0, false },
	[TW_K_IFNAME] = { "interface", scalar_ifname, 0, false },
	[TW_K_PATH] = { "path", scalar_path, 0, false },
	[TW_K_PORT_RANGE] = { "port range", scalar_port_range, 0, false },
	[TW_K_HOSTPORT_LIST] = { "list of HOST:PORT", scalar_hostport, sizeof(tw_config_hostport),
		true },
	[TW_K_CIDR_LIST] = { "list of CIDR", scalar_cidr, sizeof(tw_addr_cidr), true },
	[TW_K_ENUM_SET] = { "list of enum", scalar_enum_bit, 0, true },
	[TW_K_LABELS] = { "map of labels", NULL, 0, false },
	[TW_K_BUCKETS] = { "buckets", scalar_bucket_preset, 0, false },
	[TW_K_SECTION] = { "mapping", NULL, 0, false },
	[TW_K_SECTION_LIST] = { "list", NULL, 0, false },
	[TW_K_PATH_LIST] = { "list of paths", scalar_path, sizeof(const char *), true },
};

const char *tw_value_type_name(const tw_key *k)
{
	return kinds[k->kind].type;
}

static void join_names(const tw_key *k, const char *sep, char *buf, size_t cap)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int i = 0; k->names[i] && w < cap; i++) {
		const char *s = !k->names[i + 1] && i > 0 ? " or " : i ? sep : "";
		w += (size_t)snprintf(buf + w, cap - w, "%s%s", s, k->names[i]);
	}
}

void tw_value_describe(const tw_key *k, char *buf, size_t cap)
{
	char names[200];
	switch (k ? k->kind : TW_K__COUNT) {
	case TW_K_BOOL: snprintf(buf, cap, "true or false"); break;
	case TW_K_UINT:
		snprintf(buf, cap, "%s from %" PRId64 " to %" PRId64,
			 (k->flags & TW_KEY_POW2) ? "a power of two" : "an integer", k->min, k->max);
		break;
	case TW_K_DURATION: snprintf(buf, cap, "a duration such as 100ms, 1s or 2m30s"); break;
	case TW_K_ENUM:
		join_names(k, ", ", names, sizeof(names));
		snprintf(buf, cap, "%s", names);
		break;
	case TW_K_STRING: snprintf(buf, cap, "a string"); break;
	case TW_K_HOST:
		snprintf(buf, cap, "a host name or IP address such as fra.example.net, 192.0.2.1 "
				   "or 2001:db8::1");
		break;
	case TW_K_IPADDR: snprintf(buf, cap, "an IP address such as 192.0.2.1 or 2001:db8::1"); break;
	case TW_K_IFNAME:
		snprintf(buf, cap, "a network interface name such as eth0 (1 to 15 characters, "
				   "no '/', ':' or spaces)");
		break;
	case TW_K_PATH: snprintf(buf, cap, "a file path"); break;
	case TW_K_PATH_LIST: snprintf(buf, cap, "a list of file paths"); break;
	case TW_K_PORT_RANGE:
		snprintf(buf, cap, "a port range such as 18760-18999 (ports 1-65535, low-high)");
		break;
	case TW_K_HOSTPORT_LIST:
		snprintf(buf, cap, "a list of HOST:PORT addresses such as [\"[::]:862\", \"0.0.0.0:862\"]");
		break;
	case TW_K_CIDR_LIST:
		snprintf(buf, cap, "a list of addresses or prefixes such as [10.0.0.0/8, "
				   "\"2001:db8::/32\"] (omit the key to allow everyone)");
		break;
	case TW_K_ENUM_SET:
		join_names(k, ", ", names, sizeof(names));
		snprintf(buf, cap, "a list of one or more of %s", names);
		break;
	case TW_K_LABELS:
		snprintf(buf, cap, "a mapping of label names to values such as {site: fra}");
		break;
	case TW_K_BUCKETS:
		snprintf(buf, cap, "default, smokeping or a list of durations such as [1ms, 10ms, 100ms]");
		break;
	case TW_K_SECTION: snprintf(buf, cap, "%s", k->sub->what); break;
	case TW_K_SECTION_LIST: snprintf(buf, cap, "%s", k->sub->list_what); break;
	default: snprintf(buf, cap, "a value"); break;
	}
}

/* ---- node parsers ---- */

/* The text of a scalar node, or an error for anything else. */
static int scalar_text(tw_ld *ld, const tw_key *k, const yaml_node_t *node, const char **out)
{
	if (node->type != YAML_SCALAR_NODE || tw_walk_is_null(node))
		return tw_ld_fail_found(ld, node, k, NULL);
	const char *s = (const char *)node->data.scalar.value;
	if (strlen(s) != node->data.scalar.length)
		return tw_ld_fail(ld, &node->start_mark, "found a string containing a NUL character");
	*out = s;
	return 0;
}

static int parse_scalar(tw_ld *ld, const tw_key *k, const yaml_node_t *node, void *dst)
{
	const char *s;
	int rc = scalar_text(ld, k, node, &s);
	if (rc < 0)
		return rc;
	char why[256] = "";
	rc = kinds[k->kind].fn(ld, k, s, dst, why, sizeof(why));
	if (rc == -EINVAL)
		return tw_ld_fail_found(ld, node, k, why);
	return rc;
}

static size_t seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* A sequence node with 1..max_n elements. */
static int check_seq(tw_ld *ld, const tw_key *k, const yaml_node_t *node, size_t max_n)
{
	if (node->type != YAML_SEQUENCE_NODE || seq_len(node) == 0)
		return tw_ld_fail_found(ld, node, k, NULL);
	if (seq_len(node) > max_n)
		return tw_ld_fail(ld, &node->start_mark, "found a list of %zu items, expected at most %zu",
				  seq_len(node), max_n);
	return 0;
}

static int parse_list(tw_ld *ld, const tw_key *k, const yaml_node_t *node, void *dst)
{
	const struct kind_info *ki = &kinds[k->kind];
	int rc = check_seq(ld, k, node, k->max_n);
	if (rc < 0)
		return rc;
	size_t n = seq_len(node);
	char *arr = NULL;
	if (ki->elem) {
		arr = tw_arena_array(ld->perm, n, ki->elem);
		if (!arr)
			return -ENOMEM;
	} else {
		memset(dst, 0, k->size); /* replace the default, don't add to it */
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const yaml_node_t *item = tw_walk_node(ld, node->data.sequence.items.start[i]);
		size_t old = tw_ld_push_index(ld, i);
		rc = tw_walk_count(ld, item);
		if (rc == 0) /* kinds[k->kind].fn is ki->fn: the element's parser */
			rc = parse_scalar(ld, k, item, ki->elem ? arr + i * ki->elem : dst);
		tw_ld_pop(ld, old);
	}
	if (rc == 0 && ki->elem) {
		gen_list g = { arr, n };
		memcpy(dst, &g, sizeof(g));
	}
	return rc;
}

static int parse_buckets(tw_ld *ld, const tw_key *k, const yaml_node_t *node, void *dst)
{
	if (node->type == YAML_SCALAR_NODE)
		return parse_scalar(ld, k, node, dst);
	int rc = check_seq(ld, k, node, k->max_n);
	if (rc < 0)
		return rc;
	size_t n = seq_len(node);
	int64_t *le = tw_arena_array(ld->perm, n, sizeof(int64_t));
	if (!le)
		return -ENOMEM;
	const tw_key elem = { .kind = TW_K_DURATION, .min = k->min, .max = k->max };
	for (size_t i = 0; i < n && rc == 0; i++) {
		const yaml_node_t *item = tw_walk_node(ld, node->data.sequence.items.start[i]);
		size_t old = tw_ld_push_index(ld, i);
		rc = tw_walk_count(ld, item);
		if (rc == 0)
			rc = parse_scalar(ld, &elem, item, &le[i]);
		if (rc == 0 && i > 0 && le[i] <= le[i - 1]) {
			char prev[32], why[80];
			tw_duration_format(le[i - 1], prev, sizeof(prev));
			snprintf(why, sizeof(why), "a bound above %s (bounds must increase)", prev);
			rc = tw_ld_fail_found(ld, item, k, why);
		}
		tw_ld_pop(ld, old);
	}
	tw_config_buckets b = { le, n, TW_CONFIG_BUCKETS_CUSTOM };
	if (rc == 0)
		memcpy(dst, &b, sizeof(b));
	return rc;
}

static int parse_section_list(tw_ld *ld, const tw_key *k, const yaml_node_t *node, void *dst)
{
	static const size_t limits[TW_COUNT__N] = { SIZE_MAX, TW_CONFIG_MAX_TARGETS,
		TW_CONFIG_MAX_GROUPS };
	tw_raw_list list = { NULL, 0 };
	const tw_section *sub = k->sub;
	if (tw_walk_is_null(node)) {
		memcpy(dst, &list, sizeof(list));
		return 0;
	}
	if (node->type != YAML_SEQUENCE_NODE)
		return tw_ld_fail_found(ld, node, k, NULL);
	list.n = seq_len(node);
	ld->counts[sub->count] += list.n;
	if (ld->counts[sub->count] > limits[sub->count])
		return tw_ld_fail(ld, &node->start_mark, "too many entries: %zu in all, at most %zu",
				  ld->counts[sub->count], limits[sub->count]);
	list.v = tw_arena_array(ld->tmp, list.n, sub->obj_size);
	if (!list.v && list.n)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < list.n && rc == 0; i++) {
		const yaml_node_t *item = tw_walk_node(ld, node->data.sequence.items.start[i]);
		size_t old = tw_ld_push_index(ld, i);
		rc = tw_walk_count(ld, item);
		if (rc == 0 && item->type != YAML_MAPPING_NODE)
			rc = tw_ld_fail_found(ld, item, NULL, sub->what);
		if (rc == 0)
			rc = tw_walk_section(ld, sub, item, (char *)list.v + i * sub->obj_size);
		tw_ld_pop(ld, old);
	}
	memcpy(dst, &list, sizeof(list));
	return rc;
}

/* ---- labels ---- */

/* Label names the agent's own series use, or Prometheus reserves. */
static const char *const reserved_labels[] = { "le", "quantile", "instance", "job", "target",
	"dscp", "direction", "reason", "side", "target_ip", "source_ip", "port", "mode",
	"padding_bytes", "timestamping", "protocol", "features", "result", NULL };

bool tw_config_label_reserved(const char *name)
{
	if (strncmp(name, "__", 2) == 0)
		return true;
	for (int i = 0; reserved_labels[i]; i++)
		if (strcmp(reserved_labels[i], name) == 0)
			return true;
	return false;
}

bool tw_config_label_name_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		if (!alpha && !(i > 0 && is_digit(c)))
			return false;
	}
	return n > 0;
}

static int label_name(tw_ld *ld, const yaml_node_t *key, const char **out)
{
	const tw_key k = { .kind = TW_K_STRING };
	const char *s;
	int rc = scalar_text(ld, &k, key, &s);
	if (rc < 0)
		return rc;
	if (!tw_config_label_name_valid(s, strlen(s)))
		return tw_ld_fail_found(ld, key, NULL, "a label name: a letter or '_', then letters, "
						       "digits or '_'");
	if (tw_config_label_reserved(s)) {
		char list[300];
		size_t w = 0;
		for (int i = 0; reserved_labels[i] && w < sizeof(list); i++)
			w += (size_t)snprintf(list + w, sizeof(list) - w, "%s, ", reserved_labels[i]);
		char why[400];
		snprintf(why, sizeof(why), "a label name that is not reserved (%s__*)", list);
		return tw_ld_fail_found(ld, key, NULL, why);
	}
	*out = s;
	return 0;
}

static int label_value(tw_ld *ld, const yaml_node_t *val, const char **out)
{
	const tw_key k = { .kind = TW_K_STRING };
	if (tw_walk_is_null(val)) {
		*out = "";
		return 0;
	}
	int rc = scalar_text(ld, &k, val, out);
	if (rc == 0 && strlen(*out) > LABEL_VALUE_MAX)
		rc = tw_ld_fail(ld, &val->start_mark, "found a label value of %zu octets, expected at "
						      "most %d", strlen(*out), LABEL_VALUE_MAX);
	return rc;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const tw_config_label *)a)->name, ((const tw_config_label *)b)->name);
}

static int parse_label_pair(tw_ld *ld, const yaml_node_t *map, const yaml_node_pair_t *p,
			    tw_config_label *out)
{
	const yaml_node_t *key = tw_walk_node(ld, p->key), *val = tw_walk_node(ld, p->value);
	const char *name = NULL, *value;
	int rc = tw_walk_count(ld, key);
	if (rc == 0)
		rc = label_name(ld, key, &name);
	if (rc < 0)
		return rc;
	size_t old = tw_ld_push_key(ld, name);
	rc = tw_walk_unique_key(ld, map, p);
	if (rc == 0)
		rc = label_value(ld, val, &value);
	tw_ld_pop(ld, old);
	if (rc < 0)
		return rc;
	out->name = tw_arena_strndup(ld->perm, name, strlen(name));
	out->value = tw_arena_strndup(ld->perm, value, strlen(value));
	return out->name && out->value ? 0 : -ENOMEM;
}

static int parse_labels(tw_ld *ld, const tw_key *k, const yaml_node_t *node, void *dst)
{
	tw_config_labels set = { NULL, 0 };
	if (tw_walk_is_null(node)) {
		memcpy(dst, &set, sizeof(set));
		return 0;
	}
	if (node->type != YAML_MAPPING_NODE)
		return tw_ld_fail_found(ld, node, k, NULL);
	size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
	if (n > k->max_n)
		return tw_ld_fail(ld, &node->start_mark, "found %zu labels, expected at most %zu", n,
				  k->max_n);
	tw_config_label *v = tw_arena_array(ld->perm, n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = parse_label_pair(ld, node, node->data.mapping.pairs.start + i, &v[i]);
		if (rc < 0)
			return rc;
	}
	qsort(v, n, sizeof(*v), cmp_label);
	set = (tw_config_labels){ v, n };
	memcpy(dst, &set, sizeof(set));
	return 0;
}

int tw_value_labels_merge(tw_ld *ld, const tw_config_labels *a, const tw_config_labels *b,
			  tw_config_labels *out)
{
	if (b->n == 0 || a->n == 0) {
		*out = b->n ? *b : *a;
		return 0;
	}
	tw_config_label *v = tw_arena_array(ld->perm, a->n + b->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t i = 0, j = 0, w = 0;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].name, b->v[j].name);
		if (c < 0)
			v[w++] = a->v[i++];
		else if (c > 0)
			v[w++] = b->v[j++];
		else {
			v[w++] = b->v[j++]; /* the nearer level wins */
			i++;
		}
	}
	*out = (tw_config_labels){ v, w };
	return 0;
}

/* ---- entry points ---- */

int tw_value_parse(tw_ld *ld, const tw_key *k, const yaml_node_t *node, void *dst)
{
	int rc = tw_walk_count(ld, node);
	if (rc < 0)
		return rc;
	switch (k->kind) {
	case TW_K_SECTION: return tw_walk_section(ld, k->sub, node, dst);
	case TW_K_SECTION_LIST: return parse_section_list(ld, k, node, dst);
	case TW_K_LABELS: return parse_labels(ld, k, node, dst);
	case TW_K_BUCKETS: return parse_buckets(ld, k, node, dst);
	default: break;
	}
	if (kinds[k->kind].list)
		return parse_list(ld, k, node, dst);
	return parse_scalar(ld, k, node, dst);
}

/* A list default is its elements separated by spaces. */
static int default_list(tw_ld *ld, const tw_key *k, void *dst, char *why, size_t cap)
{
	const struct kind_info *ki = &kinds[k->kind];
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", k->def);
	size_t n = 1;
	for (const char *p = buf; *p; p++)
		n += *p == ' ';
	char *arr = ki->elem ? tw_arena_array(ld->perm, n, ki->elem) : NULL;
	if (ki->elem && !arr)
		return -ENOMEM;
	if (!ki->elem)
		memset(dst, 0, k->size);
	char *s = buf;
	for (size_t i = 0; i < n; i++) {
		char *sp = strchr(s, ' ');
		if (sp)
			*sp = '\0';
		int rc = ki->fn(ld, k, s, ki->elem ? arr + i * ki->elem : dst, why, cap);
		if (rc < 0)
			return rc;
		s = sp ? sp + 1 : s;
	}
	if (ki->elem) {
		gen_list g = { arr, n };
		memcpy(dst, &g, sizeof(g));
	}
	return 0;
}

int tw_value_default(tw_ld *ld, const tw_key *k, void *dst)
{
	char why[256] = "";
	int rc;
	if (!k->def)
		return 0;
	if (kinds[k->kind].list)
		rc = default_list(ld, k, dst, why, sizeof(why));
	else if (kinds[k->kind].fn)
		rc = kinds[k->kind].fn(ld, k, k->def, dst, why, sizeof(why));
	else
		rc = -EINVAL;
	if (rc == -EINVAL)
		return tw_ld_fail(ld, NULL, "internal error: the schema default \"%s\" of %s is invalid",
				  k->def, k->name);
	return rc;
}

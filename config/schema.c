/*
 * schema.c - every configuration key: name, type, range, default, unit and
 * description. The walker (walk.c) reads the YAML document against these
 * tables; nothing else knows key names, except the cross-key checks.
 */
#include "schema.h"

#include <errno.h>
#include <string.h>

#define NS_MS INT64_C(1000000)
#define NS_S INT64_C(1000000000)
#define NS_H (3600 * NS_S)

/* Destination of a row: offset and size of a field inside type. */
#define FIELD(type, field) .off = offsetof(type, field), .size = sizeof(((type *)0)->field)
#define SETTING(field) FIELD(tw_config_settings, field)
#define REFLECTOR(field)                                                                       \
	.off = offsetof(tw_raw_reflector, v) + offsetof(tw_config_reflector, field),            \
	.size = sizeof(((tw_config_reflector *)0)->field)

static const char *const schedule_names[] = { "fixed", "poisson", NULL };
static const char *const ip_names[] = { "any", "4", "6", NULL };
static const char *const test_mode_names[] = { "full", "light", "stamp", NULL };
static const char *const security_names[] = { "auto", "unauthenticated", "authenticated",
	"encrypted", "mixed", NULL };
/* Bit i of the mask is names[i]: 1, 2, 4, 8 = the TWAMP Modes bits. */
static const char *const modes_names[] = { "unauthenticated", "authenticated", "encrypted",
	"mixed", NULL };
/* Bit i = TW_CONFIG_FEATURE_* and TW_CONFIG_TLV_* in config.h. */
static const char *const feature_names[] = { "isc", "reflect_octets", "symmetric_size", "dscp_ecn",
	"ptp", NULL };
static const char *const tlv_names[] = { "location", "timestamp_info", "cos", "direct_measurement",
	"follow_up", NULL };
static const char *const light_security_names[] = { "auto", "unauthenticated", "authenticated",
	"encrypted", NULL };

/* ---- inheritable settings: defaults, target_groups[], targets[] ---- */

static const tw_key settings_keys[] = {
	{ .name = "port", .kind = TW_K_UINT, SETTING(port), .min = 1, .max = 65535, .def = "862",
		.unit = "port", .help = "TWAMP-Control TCP port of the target (test port for light/stamp)" },
	{ .name = "interval", .kind = TW_K_DURATION, SETTING(interval_ns), .min = NS_MS, .max = NS_H,
		.def = "1s", .unit = "duration", .help = "spacing between test packets (the mean for poisson)" },
	{ .name = "padding", .kind = TW_K_UINT, SETTING(padding), .min = 0, .max = 9104, .def = "27",
		.unit = "bytes", .help = "padding octets in each test packet" },
	{ .name = "dscp", .kind = TW_K_UINT, SETTING(dscp), .min = 0, .max = 63, .def = "0",
		.unit = "codepoint", .help = "DSCP of the test packets (and of the requested Type-P)" },
	{ .name = "loss_timeout", .kind = TW_K_DURATION, SETTING(loss_timeout_ns), .min = NS_MS,
		.max = NS_H, .def = "2s", .unit = "duration",
		.help = "a packet unanswered this long is counted lost" },
	/* No static default: resolve.c copies the resolved loss_timeout. */
	{ .name = "session_timeout", .kind = TW_K_DURATION, SETTING(session_timeout_ns), .min = 0,
		.max = NS_H, .unit = "duration",
		.help = "Request-TW-Session Timeout: how long the reflector keeps answering after "
			"Stop-Sessions (default: loss_timeout)" },
	{ .name = "schedule", .kind = TW_K_ENUM, SETTING(schedule), .names = schedule_names,
		.def = "fixed", .help = "packet spacing: fixed, or poisson (exponential gaps)" },
	{ .name = "labels", .kind = TW_K_LABELS, SETTING(labels), .max_n = TW_CONFIG_MAX_LABELS,
		.help = "extra labels on every series of the target (merged by name; \"\" removes one)" },
	{ .name = "source_address", .kind = TW_K_IPADDR, SETTING(source_address),
		.help = "local IP address to send from" },
	{ .name = "source_interface", .kind = TW_K_IFNAME, SETTING(source_interface),
		.help = "network interface to send through (SO_BINDTODEVICE)" },
	{ .name = "ip_version", .kind = TW_K_ENUM, SETTING(ip_version), .names = ip_names,
		.def = "any", .help = "address family used for host names: 4, 6 or any" },
	{ .name = "buckets", .kind = TW_K_BUCKETS, SETTING(buckets), .min = 1, .max = NS_H,
		.max_n = TW_CONFIG_MAX_BUCKETS, .def = "default", .unit = "duration",
		.help = "delay histogram bounds: default (25us..2.5s), smokeping (50us*2^k) or a list" },
	{ .name = "ipdv_histogram", .kind = TW_K_BOOL, SETTING(ipdv_histogram), .def = "false",
		.help = "also export an IP delay variation histogram" },
	{ .name = "mode", .kind = TW_K_ENUM, SETTING(mode), .names = test_mode_names,
		.def = "full", .help = "protocol: full TWAMP, TWAMP light or stamp" },
	{ .name = "security", .kind = TW_K_ENUM, SETTING(security), .names = security_names,
		.def = "auto", .help = "TWAMP mode; auto = the strongest both sides allow" },
	{ .name = "identity", .kind = TW_K_STRING, SETTING(identity), .min = 1, .max = 80,
		.flags = TW_KEY_TOKEN, .help = "KeyID to authenticate with (an identity in key_file)" },
	{ .name = "key_file", .kind = TW_K_PATH, SETTING(key_file), .unit = "path",
		.help = "shared secrets: a pfs file (\"identity hex-secret\" lines) or a directory "
			"with one file per identity (a Kubernetes Secret)" },
	{ .name = "max_kdf_count", .kind = TW_K_UINT, SETTING(max_kdf_count), .min = 1024,
		.max = INT64_C(0xFFFFFFFF), .def = "32768", .unit = "iterations",
		.help = "refuse servers asking for more PBKDF2 iterations than this" },
	{ .name = "features", .kind = TW_K_ENUM_SET, SETTING(features), .names = feature_names,
		.max_n = 8, .help = "optional TWAMP features to use when the server offers them: isc, "
			"reflect_octets, symmetric_size, dscp_ecn, ptp (full mode)" },
	{ .name = "ssid", .kind = TW_K_UINT, SETTING(ssid), .min = 0, .max = 65535, .def = "0",
		.help = "STAMP Session-Sender Identifier (0 = a random non-zero one)" },
	{ .name = "stamp_tlvs", .kind = TW_K_ENUM_SET, SETTING(stamp_tlvs), .names = tlv_names,
		.max_n = 8, .help = "RFC 8972 TLVs a STAMP sender adds: location, timestamp_info, cos, "
			"direct_measurement, follow_up" },
};

const tw_section tw_schema_settings = {
	.what = "a mapping of target settings such as {interval: 1s, dscp: 46}",
	.keys = settings_keys,
	.n_keys = sizeof(settings_keys) / sizeof(settings_keys[0]),
};

/* ---- reflector.light / reflector.stamp ---- */

#define UDP(field) .off = offsetof(tw_raw_udp, v) + offsetof(tw_config_udp_reflector, field), \
	.size = sizeof(((tw_config_udp_reflector *)0)->field)

static int udp_check(tw_ld *ld, const yaml_node_t *map, void *obj);

#define UDP_KEYS(listen_help, security_names_, security_help)                                          \
	{ .name = "listen", .kind = TW_K_HOSTPORT_LIST, UDP(listen), .min = 0, .max = 65535, .max_n = 64,   \
		.flags = TW_KEY_REQUIRED, .help = listen_help },                                            \
	{ .name = "stateless", .kind = TW_K_BOOL, UDP(stateless), .def = "false",                           \
		.help = "reply with the sender's sequence number instead of a per-sender counter" },        \
	{ .name = "max_senders", .kind = TW_K_UINT, UDP(max_senders), .min = 1, .max = 1000000,             \
		.def = "1024", .unit = "senders", .help = "stateful: senders tracked at once; more are dropped" }, \
	{ .name = "sender_idle", .kind = TW_K_DURATION, UDP(sender_idle_ns), .min = NS_S, .max = 24 * NS_H, \
		.def = "5m", .unit = "duration", .help = "stateful: forget a sender silent this long" },   \
	{ .name = "security", .kind = TW_K_ENUM, UDP(security), .names = security_names_, .def = "auto",    \
		.help = security_help },                                                                     \
	{ .name = "identity", .kind = TW_K_STRING, UDP(identity), .min = 1, .max = 80, .flags = TW_KEY_TOKEN, \
		.help = "keyed modes: the identity in reflector.key_file whose secret is the key" },        \
	{ .name = "copy_dscp", .kind = TW_K_BOOL, UDP(copy_dscp), .def = "true",                           \
		.help = "reply with the DSCP the packet arrived with (false: reply_dscp)" },                \
	{ .name = "reply_dscp", .kind = TW_K_UINT, UDP(reply_dscp), .min = 0, .max = 63, .def = "0",       \
		.unit = "codepoint", .help = "DSCP of the replies when copy_dscp is false" }

static const char *const stamp_security_names[] = { "auto", "unauthenticated", "authenticated", NULL };

static const tw_key light_keys[] = {
	UDP_KEYS("UDP addresses of the TWAMP Light reflector, e.g. [\":862\"]", light_security_names,
		 "unauthenticated, authenticated or encrypted TWAMP-Test (keyed: a 48-octet secret = "
		 "AES key || HMAC key); auto = unauthenticated"),
};

static const tw_key stamp_keys[] = {
	UDP_KEYS("UDP addresses of the STAMP reflector (it answers TWAMP Light senders too)",
		 stamp_security_names,
		 "unauthenticated or authenticated (HMAC-SHA-256 with the secret as key); "
		 "auto = unauthenticated"),
	{ .name = "allow_cos_dscp", .kind = TW_K_BOOL, UDP(allow_cos_dscp), .def = "true",
		.help = "reply with the DSCP a Class of Service TLV asks for" },
};

const tw_section tw_schema_light = {
	.what = "a mapping such as {listen: [\":862\"], stateless: false}",
	.keys = light_keys,
	.n_keys = sizeof(light_keys) / sizeof(light_keys[0]),
	.obj_size = sizeof(tw_raw_udp),
	.check = udp_check,
};

const tw_section tw_schema_stamp = {
	.what = "a mapping such as {listen: [\":862\"], stateless: false}",
	.keys = stamp_keys,
	.n_keys = sizeof(stamp_keys) / sizeof(stamp_keys[0]),
	.obj_size = sizeof(tw_raw_udp),
	.check = udp_check,
};

/* ---- reflector: ---- */

static int reflector_check(tw_ld *ld, const yaml_node_t *map, void *obj);

static const tw_key reflector_keys[] = {
	{ .name = "enabled", .kind = TW_K_BOOL, REFLECTOR(enabled), .def = "true",
		.help = "serve TWAMP for peers (an absent reflector section means false)" },
	{ .name = "listen", .kind = TW_K_HOSTPORT_LIST, REFLECTOR(listen), .min = 0, .max = 65535,
		.max_n = 64, .def = "[::]:862",
		.help = "TWAMP-Control addresses to listen on (HOST:PORT, IPv6 in brackets)" },
	{ .name = "allow", .kind = TW_K_CIDR_LIST, REFLECTOR(allow), .max_n = 4096,
		.help = "client prefixes allowed to connect (default: everyone)" },
	{ .name = "max_control_connections", .kind = TW_K_UINT, REFLECTOR(max_control_connections),
		.min = 1, .max = 65535, .def = "64", .unit = "connections",
		.help = "concurrent TWAMP-Control connections" },
	{ .name = "max_sessions_per_connection", .kind = TW_K_UINT,
		REFLECTOR(max_sessions_per_connection), .min = 1, .max = 256, .def = "16",
		.unit = "sessions", .help = "test sessions one control connection may request" },
	{ .name = "servwait", .kind = TW_K_DURATION, REFLECTOR(servwait_ns), .min = NS_S,
		.max = 24 * NS_H, .def = "900s", .unit = "duration",
		.help = "SERVWAIT: idle time before an unused control connection is closed" },
	{ .name = "refwait", .kind = TW_K_DURATION, REFLECTOR(refwait_ns), .min = NS_S,
		.max = 24 * NS_H, .def = "900s", .unit = "duration",
		.help = "REFWAIT: idle time before a test session is stopped" },
	{ .name = "modes", .kind = TW_K_ENUM_SET, REFLECTOR(modes), .names = modes_names,
		.max_n = 16, .def = "unauthenticated", .help = "TWAMP modes offered to clients" },
	{ .name = "key_file", .kind = TW_K_PATH, REFLECTOR(key_file), .unit = "path",
		.help = "shared secrets for the keyed modes: a pfs file or a Secret directory" },
	{ .name = "pbkdf2_count", .kind = TW_K_UINT, REFLECTOR(pbkdf2_count), .min = 1024,
		.max = INT64_C(0x80000000), .def = "2048", .unit = "iterations", .flags = TW_KEY_POW2,
		.help = "PBKDF2 Count offered in the greeting (clients refuse > 32768 by default)" },
	{ .name = "test_port_range", .kind = TW_K_PORT_RANGE, REFLECTOR(test_ports), .unit = "ports",
		.help = "UDP ports offered when a session's requested port is taken, e.g. 18760-18999 "
			 "(a free requested port is granted as asked; default: an ephemeral port)" },
	{ .name = "features", .kind = TW_K_ENUM_SET, REFLECTOR(features), .names = feature_names,
		.max_n = 8, .help = "optional TWAMP features offered: isc, reflect_octets, symmetric_size, "
			"dscp_ecn, ptp" },
	{ .name = "reflect_to_source", .kind = TW_K_BOOL, REFLECTOR(reflect_to_source), .def = "false",
		.help = "answer test packets at the address and port they came from (NAT) instead of the "
			"registered Sender Address and Port" },
	{ .name = "light", .kind = TW_K_SECTION, FIELD(tw_raw_reflector, light), .sub = &tw_schema_light,
		.help = "a TWAMP Light reflector (no TWAMP-Control) on UDP ports" },
	{ .name = "stamp", .kind = TW_K_SECTION, FIELD(tw_raw_reflector, stamp), .sub = &tw_schema_stamp,
		.help = "a STAMP reflector (RFC 8762, RFC 8972 TLVs) on UDP ports" },
};

const tw_section tw_schema_reflector = {
	.what = "a mapping of reflector settings such as {listen: [\"[::]:862\"]}",
	.keys = reflector_keys,
	.n_keys = sizeof(reflector_keys) / sizeof(reflector_keys[0]),
	.obj_size = sizeof(tw_raw_reflector),
	.check = reflector_check,
};

/* ---- targets[] ---- */

static const tw_key target_keys[] = {
	{ .name = "name", .kind = TW_K_STRING, FIELD(tw_raw_target, name), .min = 1, .max = 128,
		.flags = TW_KEY_REQUIRED, .help = "the target label; unique with dscp and labels" },
	{ .name = "host", .kind = TW_K_HOST, FIELD(tw_raw_target, host), .flags = TW_KEY_REQUIRED,
		.help = "DNS name or IP address of the reflector" },
};

const tw_section tw_schema_target = {
	.what = "a target such as {name: fra, host: fra.example.net}",
	.list_what = "a list of targets such as [{name: fra, host: fra.example.net}]",
	.keys = target_keys,
	.n_keys = sizeof(target_keys) / sizeof(target_keys[0]),
	.settings = true,
	.layer_off = offsetof(tw_raw_target, layer),
	.obj_size = sizeof(tw_raw_target),
	.count = TW_COUNT_TARGETS,
};

/* ---- target_groups[] (a `discovery:` source would be one more row) ---- */

static const tw_key group_keys[] = {
	{ .name = "name", .kind = TW_K_STRING, FIELD(tw_raw_group, name), .min = 1, .max = 128,
		.flags = TW_KEY_REQUIRED, .help = "group name, unique" },
	{ .name = "targets", .kind = TW_K_SECTION_LIST, FIELD(tw_raw_group, targets),
		.sub = &tw_schema_target, .help = "the group's targets; they inherit its settings" },
	{ .name = "discovery", .kind = TW_K_SECTION, FIELD(tw_raw_group, discovery),
		.sub = &tw_schema_discovery, .help = "where more targets come from (schema_sd.c)" },
	{ .name = "exclude_self", .kind = TW_K_BOOL, FIELD(tw_raw_group, exclude_self), .def = "true",
		.help = "never probe this host's own addresses or node name among discovered targets" },
};

const tw_section tw_schema_group = {
	.what = "a target group such as {name: wan, dscp: 46, targets: [...]}",
	.list_what = "a list of target groups such as [{name: wan, targets: [...]}]",
	.keys = group_keys,
	.n_keys = sizeof(group_keys) / sizeof(group_keys[0]),
	.settings = true,
	.layer_off = offsetof(tw_raw_group, layer),
	.obj_size = sizeof(tw_raw_group),
	.count = TW_COUNT_GROUPS,
};

/* ---- the top level ---- */

static const tw_section defaults_section = {
	.what = "a mapping of target settings such as {interval: 1s, dscp: 46}",
	.settings = true,
	.layer_off = offsetof(tw_raw_defaults, layer),
	.obj_size = sizeof(tw_raw_defaults),
};

static const tw_key root_keys[] = {
	{ .name = "reflector", .kind = TW_K_SECTION, FIELD(tw_raw_root, reflector),
		.sub = &tw_schema_reflector, .help = "serve TWAMP for peers" },
	{ .name = "defaults", .kind = TW_K_SECTION, FIELD(tw_raw_root, defaults),
		.sub = &defaults_section, .help = "settings every target inherits" },
	{ .name = "targets", .kind = TW_K_SECTION_LIST, FIELD(tw_raw_root, targets),
		.sub = &tw_schema_target, .help = "targets outside any group" },
	{ .name = "target_groups", .kind = TW_K_SECTION_LIST, FIELD(tw_raw_root, groups),
		.sub = &tw_schema_group, .help = "groups of targets sharing settings" },
};

const tw_section tw_schema_root = {
	.what = "a mapping with the keys reflector, defaults, targets and target_groups",
	.keys = root_keys,
	.n_keys = sizeof(root_keys) / sizeof(root_keys[0]),
	.obj_size = sizeof(tw_raw_root),
};

/* ---- lookups ---- */

int tw_schema_key_index(const tw_section *sec, const char *name)
{
	for (size_t i = 0; i < sec->n_keys; i++)
		if (strcmp(sec->keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

int tw_schema_settings_index(const char *name)
{
	return tw_schema_key_index(&tw_schema_settings, name);
}

/* ---- cross-key checks ---- */

static bool hostport_equal(const tw_config_hostport *a, const tw_config_hostport *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

static bool udp_keyed(const tw_raw_udp *u)
{
	return u->v.security == TW_CONFIG_SECURITY_AUTHENTICATED || u->v.security == TW_CONFIG_SECURITY_ENCRYPTED;
}

/* Keyed light/stamp need an identity (its secret is in reflector.key_file,
 * checked by reflector_check). */
static int udp_check(tw_ld *ld, const yaml_node_t *map, void *obj)
{
	const tw_raw_udp *u = obj;
	if (!udp_keyed(u) || u->v.identity)
		return 0;
	const yaml_node_t *at = tw_walk_find(ld, map, "security");
	size_t old = tw_ld_push_key(ld, "security");
	tw_ld_fail(ld, at ? &at->start_mark : &map->start_mark,
		   "a keyed mode needs identity (an identity in reflector.key_file)");
	tw_ld_pop(ld, old);
	return -EINVAL;
}

static int reflector_check(tw_ld *ld, const yaml_node_t *map, void *obj)
{
	const tw_raw_reflector *raw = obj;
	const tw_config_reflector *r = &raw->v;
	if ((udp_keyed(&raw->light) || udp_keyed(&raw->stamp)) && !r->key_file) {
		size_t old = tw_ld_push_key(ld, udp_keyed(&raw->light) ? "light" : "stamp");
		tw_ld_fail(ld, udp_keyed(&raw->light) ? &raw->light.h.mark : &raw->stamp.h.mark,
			   "a keyed mode needs reflector.key_file (a pfs file or a Secret directory)");
		tw_ld_pop(ld, old);
		return -EINVAL;
	}
	const uint32_t keyed = TW_CONFIG_MODE_AUTHENTICATED | TW_CONFIG_MODE_ENCRYPTED |
		TW_CONFIG_MODE_MIXED;
	if ((r->modes & keyed) && !r->key_file) {
		const yaml_node_t *at = tw_walk_find(ld, map, "modes");
		size_t old = tw_ld_push_key(ld, "modes");
		tw_ld_fail(ld, at ? &at->start_mark : &map->start_mark,
			   "keyed modes (authenticated, encrypted, mixed) need reflector.key_file "
			   "(a pfs file or a Secret directory)");
		tw_ld_pop(ld, old);
		return -EINVAL;
	}
	const yaml_node_t *listen = tw_walk_find(ld, map, "listen");
	for (size_t i = 1; listen && i < r->listen.n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!hostport_equal(&r->listen.v[i], &r->listen.v[j]))
				continue;
			const yaml_node_t *item = tw_walk_node(ld, listen->data.sequence.items.start[i]);
			size_t old = tw_ld_push_key(ld, "listen");
			tw_ld_push_index(ld, i);
			tw_ld_fail(ld, &item->start_mark, "the same address as listen[%zu]", j);
			tw_ld_pop(ld, old);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- documentation ---- */

static void print_section(FILE *f, const char *prefix, const tw_section *sec)
{
	for (size_t i = 0; i < sec->n_keys; i++) {
		const tw_key *k = &sec->keys[i];
		if (k->kind == TW_K_SECTION || k->kind == TW_K_SECTION_LIST)
			continue;
		char key[64], type[96];
		snprintf(key, sizeof(key), "%s%s", prefix, k->name);
		if (k->names) {
			size_t w = 0;
			for (int j = 0; k->names[j] && w < sizeof(type); j++)
				w += (size_t)snprintf(type + w, sizeof(type) - w, "%s%s", j ? "|" : "",
						      k->names[j]);
		} else if (k->unit && strcmp(k->unit, tw_value_type_name(k)) != 0) {
			snprintf(type, sizeof(type), "%s [%s]", tw_value_type_name(k), k->unit);
		} else {
			snprintf(type, sizeof(type), "%s", tw_value_type_name(k));
		}
		const char *def = k->def ? k->def : (k->flags & TW_KEY_REQUIRED) ? "(required)" : "-";
		fprintf(f, "%-36s %-22s %-16s %s\n", key, type, def, k->help);
	}
}

void tw_config_schema_print(FILE *f)
{
	fprintf(f, "%-36s %-22s %-16s %s\n", "KEY", "TYPE", "DEFAULT", "DESCRIPTION");
	print_section(f, "reflector.", &tw_schema_reflector);
	print_section(f, "reflector.light.", &tw_schema_light);
	print_section(f, "reflector.stamp.", &tw_schema_stamp);
	print_section(f, "targets[].", &tw_schema_target);
	print_section(f, "target_groups[].", &tw_schema_group);
	fprintf(f, "%-36s %-22s %-16s %s\n", "target_groups[].targets", "list of targets", "-",
		"the group's targets; they inherit its settings");
	print_section(f, "target_groups[].discovery.dns.", &tw_schema_sd_dns);
	print_section(f, "target_groups[].discovery.file_sd.", &tw_schema_sd_file);
	print_section(f, "target_groups[].discovery.http_sd.", &tw_schema_sd_http);
	fprintf(f, "\nTarget settings, allowed in defaults, target_groups[] and targets[]:\n");
	print_section(f, "", &tw_schema_settings);
}

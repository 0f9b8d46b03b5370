/*
 * schema_sd.c - the rows of target_groups[].discovery: one source per
 * group (dns, file_sd or http_sd), each a small section of its own, and
 * the cross-key checks the rows cannot express (exactly one source, glob
 * and extension rules of file_sd patterns, URL schemes).
 */
#include "schema.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define NS_MS INT64_C(1000000)
#define NS_S INT64_C(1000000000)
#define NS_H (3600 * NS_S)

#define SD(field) .off = offsetof(tw_raw_sd, v) + offsetof(tw_config_discovery, field), \
	.size = sizeof(((tw_config_discovery *)0)->field)
#define DISC(field) .off = offsetof(tw_raw_discovery, field), .size = sizeof(tw_raw_sd)

enum { SD_MAX_FILES = 64, SD_URL_MAX = 2048 };

/* ---- dns ---- */

static const tw_key dns_keys[] = {
	{ .name = "name", .kind = TW_K_HOST, SD(dns_name), .flags = TW_KEY_REQUIRED,
		.help = "DNS name whose every A and AAAA record is a target (a headless Service)" },
	{ .name = "refresh", .kind = TW_K_DURATION, SD(refresh_ns), .min = NS_S, .max = 24 * NS_H,
		.def = "30s", .unit = "duration", .help = "query the name again this often" },
	{ .name = "port", .kind = TW_K_UINT, SD(dns_port), .min = 1, .max = 65535, .unit = "port",
		.help = "port of the discovered targets (default: the group's port)" },
};

const tw_section tw_schema_sd_dns = {
	.what = "a mapping such as {name: twamp.monitoring.svc.cluster.local, refresh: 30s}",
	.keys = dns_keys,
	.n_keys = sizeof(dns_keys) / sizeof(dns_keys[0]),
	.obj_size = sizeof(tw_raw_sd),
};

/* ---- file_sd ---- */

static int file_sd_check(tw_ld *ld, const yaml_node_t *map, void *obj);

static const tw_key file_keys[] = {
	{ .name = "files", .kind = TW_K_PATH_LIST, SD(files), .max_n = SD_MAX_FILES,
		.flags = TW_KEY_REQUIRED, .unit = "path",
		.help = "Prometheus file_sd files (*.json, *.yml, *.yaml); '*' etc. in the last "
			"path segment only; the directories are watched" },
	{ .name = "refresh", .kind = TW_K_DURATION, SD(refresh_ns), .min = NS_S, .max = 24 * NS_H,
		.def = "5m", .unit = "duration", .help = "re-read the files this often (besides inotify)" },
};

const tw_section tw_schema_sd_file = {
	.what = "a mapping such as {files: [\"/etc/twamp/targets/*.json\"], refresh: 5m}",
	.keys = file_keys,
	.n_keys = sizeof(file_keys) / sizeof(file_keys[0]),
	.obj_size = sizeof(tw_raw_sd),
	.check = file_sd_check,
};

/* ---- http_sd ---- */

static int http_sd_check(tw_ld *ld, const yaml_node_t *map, void *obj);

static const tw_key http_keys[] = {
	{ .name = "url", .kind = TW_K_STRING, SD(url), .min = 1, .max = SD_URL_MAX,
		.flags = TW_KEY_REQUIRED | TW_KEY_TOKEN,
		.help = "Prometheus http_sd URL (http:// or https://; TLS certificates are verified)" },
	{ .name = "refresh", .kind = TW_K_DURATION, SD(refresh_ns), .min = NS_S, .max = 24 * NS_H,
		.def = "1m", .unit = "duration", .help = "fetch the URL again this often" },
	{ .name = "timeout", .kind = TW_K_DURATION, SD(timeout_ns), .min = 10 * NS_MS,
		.max = 10 * 60 * NS_S, .def = "10s", .unit = "duration",
		.help = "a fetch taking longer than this fails" },
	{ .name = "tls_ca_file", .kind = TW_K_PATH, SD(tls_ca_file), .unit = "path",
		.help = "CA certificates (PEM) to verify the server with instead of the system's" },
	{ .name = "bearer_token_file", .kind = TW_K_PATH, SD(bearer_token_file), .unit = "path",
		.help = "file holding a bearer token sent as Authorization (read on every fetch)" },
};

const tw_section tw_schema_sd_http = {
	.what = "a mapping such as {url: \"https://cmdb.example/twamp\", refresh: 1m}",
	.keys = http_keys,
	.n_keys = sizeof(http_keys) / sizeof(http_keys[0]),
	.obj_size = sizeof(tw_raw_sd),
	.check = http_sd_check,
};

/* ---- discovery: ---- */

static int discovery_check(tw_ld *ld, const yaml_node_t *map, void *obj);

static const tw_key discovery_keys[] = {
	{ .name = "dns", .kind = TW_K_SECTION, DISC(dns), .sub = &tw_schema_sd_dns,
		.help = "targets from every A/AAAA record of a DNS name" },
	{ .name = "file_sd", .kind = TW_K_SECTION, DISC(file_sd), .sub = &tw_schema_sd_file,
		.help = "targets from Prometheus file_sd files" },
	{ .name = "http_sd", .kind = TW_K_SECTION, DISC(http_sd), .sub = &tw_schema_sd_http,
		.help = "targets from a Prometheus http_sd URL" },
};

const tw_section tw_schema_discovery = {
	.what = "a mapping with one discovery source: dns, file_sd or http_sd",
	.keys = discovery_keys,
	.n_keys = sizeof(discovery_keys) / sizeof(discovery_keys[0]),
	.obj_size = sizeof(tw_raw_discovery),
	.check = discovery_check,
};

/* ---- checks ---- */

static bool has_glob(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

static int bad_pattern(tw_ld *ld, const yaml_node_t *map, size_t i, const char *why)
{
	const yaml_node_t *list = tw_walk_find(ld, map, "files");
	const yaml_node_t *item = tw_walk_node(ld, list->data.sequence.items.start[i]);
	size_t old = tw_ld_push_key(ld, "files");
	tw_ld_push_index(ld, i);
	int rc = tw_ld_fail_found(ld, item, NULL, why);
	tw_ld_pop(ld, old);
	return rc;
}

static int file_sd_check(tw_ld *ld, const yaml_node_t *map, void *obj)
{
	const tw_config_paths *f = &((const tw_raw_sd *)obj)->v.files;
	for (size_t i = 0; i < f->n; i++) {
		const char *p = f->v[i], *slash = strrchr(p, '/');
		if (slash && has_glob(p, (size_t)(slash - p)))
			return bad_pattern(ld, map, i, "a path with wildcards in the file name only "
						       "(directories are watched, not matched)");
		if (!ends_with(p, ".json") && !ends_with(p, ".yml") && !ends_with(p, ".yaml"))
			return bad_pattern(ld, map, i, "a file name ending in .json, .yml or .yaml");
	}
	return 0;
}

static int http_sd_check(tw_ld *ld, const yaml_node_t *map, void *obj)
{
	const char *url = ((const tw_raw_sd *)obj)->v.url;
	size_t skip = strncasecmp(url, "http://", 7) == 0 ? 7 :
		strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
	if (skip && url[skip] && url[skip] != '/' && url[skip] != '?' && url[skip] != '#')
		return 0;
	const yaml_node_t *node = tw_walk_find(ld, map, "url");
	size_t old = tw_ld_push_key(ld, "url");
	int rc = tw_ld_fail_found(ld, node, NULL, "an http:// or https:// URL with a host, such as "
						  "https://cmdb.example/twamp");
	tw_ld_pop(ld, old);
	return rc;
}

static int discovery_check(tw_ld *ld, const yaml_node_t *map, void *obj)
{
	tw_raw_discovery *d = obj;
	const tw_raw_sd *src[] = { &d->dns, &d->file_sd, &d->http_sd };
	const tw_config_discovery_kind kinds[] = { TW_CONFIG_DISCOVERY_DNS,
		TW_CONFIG_DISCOVERY_FILE_SD, TW_CONFIG_DISCOVERY_HTTP_SD };
	int first = -1;
	for (int i = 0; i < 3; i++) {
		const tw_key *k = &discovery_keys[i];
		if (!(d->h.seen & (UINT64_C(1) << i)))
			continue;
		const yaml_node_t *node = tw_walk_find(ld, map, k->name);
		size_t old = tw_ld_push_key(ld, k->name);
		int rc = 0;
		if (first >= 0)
			rc = tw_ld_fail(ld, &node->start_mark, "found a second discovery source (%s is "
					"given too), expected exactly one of dns, file_sd or http_sd",
					discovery_keys[first].name);
		else if (tw_walk_is_null(node))
			rc = tw_ld_fail_found(ld, node, NULL, k->sub->what);
		tw_ld_pop(ld, old);
		if (rc < 0)
			return rc;
		first = i;
		d->v = src[i]->v;
		d->v.kind = kinds[i];
	}
	if (first < 0)
		return tw_ld_fail(ld, &map->start_mark, "found no discovery source, expected one of "
				  "dns, file_sd or http_sd");
	return 0;
}

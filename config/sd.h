/*
 * sd.h - Prometheus service-discovery documents: the target-group lists of
 * file_sd files (JSON or YAML) and http_sd responses (JSON):
 *
 *   [{"targets": ["10.0.0.1:862", "b.example:862"], "labels": {"site": "x"}}]
 *
 * Pure parsing: bytes in, an immutable document or a positioned error out.
 * No file or network access, no logging. The JSON parser (sdjson.c) is a
 * small bounded recursive-descent parser written for this format; the YAML
 * one (sdyaml.c) walks a libyaml document. Both accept the same shapes and
 * apply the same checks (sd.c):
 *
 * - the document is a list of target groups; a group is a mapping whose
 *   "targets" is a list of strings and "labels" a mapping of strings (other
 *   keys are ignored, as Prometheus does; duplicate keys are errors);
 * - a target is HOST, HOST:PORT or [IPV6]:PORT (a bare IPv6 literal is
 *   taken as a host without port); HOST is a DNS name or an IP literal,
 *   PORT 1-65535;
 * - label names are Prometheus names that the agent does not reserve
 *   (tw_config_label_reserved); names beginning with "__" (Prometheus meta
 *   labels) are dropped; an empty (or null) value means "remove the label
 *   the group's configuration gives";
 * - limits: TW_SD_MAX_SIZE octets, TW_SD_MAX_TARGETS targets in all,
 *   TW_SD_MAX_LABELS labels per group, TW_SD_MAX_DEPTH nesting levels, and
 *   string lengths below; strings must be valid UTF-8 without NUL.
 */
#ifndef TW_SD_H
#define TW_SD_H

#include <stddef.h>
#include <stdint.h>

enum {
	TW_SD_MAX_SIZE = 16 << 20,
	TW_SD_MAX_TARGETS = 100000,
	TW_SD_MAX_LABELS = 64,
	TW_SD_MAX_DEPTH = 64,
	TW_SD_MAX_TARGET_LEN = 262,   /* "[" 253-octet host "]:65535" */
	TW_SD_MAX_LABEL_NAME = 128,
	TW_SD_MAX_LABEL_VALUE = 1024,
};

typedef struct tw_sd_label {
	const char *name;
	const char *value; /* "" = remove the configured label of this name */
} tw_sd_label;

typedef struct tw_sd_target {
	const char *text; /* as written: the target's name */
	const char *host; /* without brackets */
	uint16_t port;    /* 0 when not written */
} tw_sd_target;

typedef struct tw_sd_group {
	const tw_sd_target *targets;
	size_t n_targets;
	const tw_sd_label *labels; /* sorted by name, names unique */
	size_t n_labels;
	uint32_t line, col;        /* where the group starts (1-based) */
} tw_sd_group;

typedef struct tw_sd_doc {
	const tw_sd_group *groups;
	size_t n_groups;
	size_t n_targets; /* over all groups */
	struct tw_arena *mem; /* private */
} tw_sd_doc;

/* The first problem of a failed parse: msg is "LINE:COL: text" (or just
 * the text when line is 0), for the caller to prefix with a file name or
 * URL. */
typedef struct tw_sd_error {
	char msg[320];
	uint32_t line, col; /* 1-based; 0 when without position */
} tw_sd_error;

/*
 * Parse len octets at data (need not be NUL-terminated). On success *out
 * owns a new document (free with tw_sd_doc_free) and 0 is returned; on
 * failure *out is NULL, err (may be NULL) says why, and the result is
 * -EINVAL (malformed or invalid), -EFBIG (above TW_SD_MAX_SIZE) or
 * -ENOMEM. An empty YAML stream is an empty list; empty JSON is an error.
 */
int tw_sd_parse_json(const char *data, size_t len, tw_sd_doc **out, tw_sd_error *err);
int tw_sd_parse_yaml(const char *data, size_t len, tw_sd_doc **out, tw_sd_error *err);

/* By the name's extension: ".json" -> JSON, ".yml"/".yaml" -> YAML;
 * anything else is -EINVAL with a message. */
int tw_sd_parse_named(const char *name, const char *data, size_t len, tw_sd_doc **out,
		      tw_sd_error *err);

void tw_sd_doc_free(tw_sd_doc *doc); /* NULL-safe */

/* Splits a target string as described above into host (without brackets,
 * NUL-terminated, at most cap-1 octets) and port (0 when absent).
 * Returns 0 or -EINVAL. */
int tw_sd_target_split(const char *s, char *host, size_t cap, uint16_t *port);

#endif /* TW_SD_H */

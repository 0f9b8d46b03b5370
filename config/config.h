/*
 * config.h - the agent's configuration: YAML (libyaml) checked against a
 * declarative schema (schema.c: one table row per key, with its type,
 * range, default, unit and description) into an immutable struct.
 *
 * Life cycle: tw_config_load_file() (or _buffer / _default) builds a new,
 * fully resolved and validated tw_config or reports the first error as
 * "FILE:LINE:COL: KEY.PATH: found X, expected Y". The caller swaps the new
 * struct in only when loading succeeded (reload), and frees the old one
 * with tw_config_free() when nothing references it any more. Everything a
 * tw_config points to (strings, arrays) lives and dies with it. The structs
 * below are public so the agent can read them directly: treat every field
 * as read-only.
 *
 * Layout of the file (see config/examples/agent.yml for every key):
 *   reflector:       serve TWAMP for peers (absent: no reflector)
 *   defaults:        settings inherited by every target
 *   targets:         [{name, host, settings...}]
 *   target_groups:   [{name, settings..., targets: [...]}]
 * Inheritance: built-in default < defaults < target group < target. Every
 * resolved target carries every setting. Labels merge by name (the nearer
 * level wins; an empty value removes an inherited label); every other
 * setting, lists included, is replaced as a whole.
 */
#ifndef TW_CONFIG_H
#define TW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

/* Bits of tw_config_reflector.modes: equal to the TWAMP Modes field bits. */
#define TW_CONFIG_MODE_UNAUTHENTICATED 1u
#define TW_CONFIG_MODE_AUTHENTICATED 2u
#define TW_CONFIG_MODE_ENCRYPTED 4u
#define TW_CONFIG_MODE_MIXED 8u

/* Limits the loader enforces (counts, not bytes). */
#define TW_CONFIG_MAX_TARGETS 100000
#define TW_CONFIG_MAX_GROUPS 10000
#define TW_CONFIG_MAX_LABELS 64
#define TW_CONFIG_MAX_BUCKETS 64
#define TW_CONFIG_MAX_FILE_SIZE (16u << 20)

typedef enum tw_config_schedule {
	TW_CONFIG_SCHEDULE_FIXED = 0,   /* one packet every interval */
	TW_CONFIG_SCHEDULE_POISSON = 1, /* exponential gaps, mean = interval */
} tw_config_schedule;

typedef enum tw_config_ip {
	TW_CONFIG_IP_ANY = 0, /* whatever the name resolves to first */
	TW_CONFIG_IP_V4 = 1,
	TW_CONFIG_IP_V6 = 2,
} tw_config_ip;

typedef enum tw_config_test_mode {
	TW_CONFIG_TEST_FULL = 0,  /* TWAMP-Control + TWAMP-Test */
	TW_CONFIG_TEST_LIGHT = 1, /* TWAMP Light (RFC 5357 App. I) */
	TW_CONFIG_TEST_STAMP = 2, /* STAMP (RFC 8762) */
} tw_config_test_mode;

typedef enum tw_config_security {
	TW_CONFIG_SECURITY_AUTO = 0, /* strongest mode both sides allow */
	TW_CONFIG_SECURITY_UNAUTHENTICATED = 1,
	TW_CONFIG_SECURITY_AUTHENTICATED = 2,
	TW_CONFIG_SECURITY_ENCRYPTED = 3,
	TW_CONFIG_SECURITY_MIXED = 4,
} tw_config_security;

typedef enum tw_config_buckets_preset {
	TW_CONFIG_BUCKETS_DEFAULT = 0,   /* 25us .. 2.5s in 1-2.5-5 steps */
	TW_CONFIG_BUCKETS_SMOKEPING = 1, /* 50us * 2^k, k = 0..19 */
	TW_CONFIG_BUCKETS_CUSTOM = 2,
} tw_config_buckets_preset;

/* Where something was written; file points into the owning tw_config. */
typedef struct tw_config_loc {
	const char *file;
	uint32_t line, col; /* 1-based */
} tw_config_loc;

typedef struct tw_config_hostport {
	const char *host; /* no brackets; "" = every local address */
	uint16_t port;
} tw_config_hostport;

typedef struct tw_config_hostports {
	const tw_config_hostport *v;
	size_t n;
} tw_config_hostports;

typedef struct tw_config_cidrs {
	const tw_addr_cidr *v;
	size_t n; /* 0 = no restriction (tw_addr_allowed admits everyone) */
} tw_config_cidrs;

typedef struct tw_config_label {
	const char *name;  /* valid Prometheus name, not reserved */
	const char *value; /* non-empty in resolved settings */
} tw_config_label;

typedef struct tw_config_labels {
	const tw_config_label *v; /* sorted by name, names unique */
	size_t n;
} tw_config_labels;

typedef struct tw_config_buckets {
	const int64_t *le_ns; /* upper bounds in ns, strictly increasing, > 0 */
	size_t n;             /* 1..TW_CONFIG_MAX_BUCKETS; +Inf is implicit */
	tw_config_buckets_preset preset;
} tw_config_buckets;

typedef struct tw_config_port_range {
	uint16_t min, max; /* 0, 0 = any ephemeral port */
} tw_config_port_range;

/* Per-target settings (inheritable). Durations are int64 nanoseconds. */
typedef struct tw_config_settings {
	uint16_t port;                /* TWAMP-Control port (or test port for light/stamp) */
	int64_t interval_ns;          /* packet spacing (mean spacing for poisson) */
	uint32_t padding;             /* octets of padding in each test packet */
	uint8_t dscp;                 /* 0-63 */
	int64_t loss_timeout_ns;      /* unanswered this long = lost */
	int64_t session_timeout_ns;   /* Request-TW-Session Timeout (default loss_timeout) */
	tw_config_schedule schedule;
	tw_config_labels labels;      /* user labels on every series of the target */
	const char *source_address;   /* IP literal, or NULL (kernel's choice) */
	const char *source_interface; /* SO_BINDTODEVICE name, or NULL */
	tw_config_ip ip_version;
	tw_config_buckets buckets;    /* delay histogram bounds */
	bool ipdv_histogram;
	tw_config_test_mode mode;
	tw_config_security security;
	const char *identity;         /* KeyID, <= 80 octets, or NULL */
	const char *key_file;         /* NULL, or a path (relative ones resolved against
	                               * the config file's directory); not opened here */
	uint32_t max_kdf_count;       /* refuse a server greeting Count above this */
	uint32_t features;            /* full mode: TW_CONFIG_FEATURE_* to use when offered */
	uint16_t ssid;                /* stamp: Session-Sender Identifier (0 = random) */
	uint32_t stamp_tlvs;          /* stamp: TW_CONFIG_TLV_* to send */
} tw_config_settings;

typedef struct tw_config_target {
	const char *name;  /* the `target` label */
	const char *host;  /* DNS name or IP literal (no brackets), resolved by the agent */
	const char *group; /* owning target_groups[].name, or NULL */
	tw_config_settings s;
	tw_config_loc loc; /* the target's entry in the file */
} tw_config_target;

/* ---- target discovery (target_groups[].discovery) ---- */

typedef enum tw_config_discovery_kind {
	TW_CONFIG_DISCOVERY_DNS = 1,     /* every A/AAAA record of a name */
	TW_CONFIG_DISCOVERY_FILE_SD = 2, /* Prometheus file_sd files (JSON/YAML) */
	TW_CONFIG_DISCOVERY_HTTP_SD = 3, /* Prometheus http_sd URL (JSON) */
} tw_config_discovery_kind;

typedef struct tw_config_paths {
	const char *const *v;
	size_t n;
} tw_config_paths;

typedef struct tw_config_discovery {
	tw_config_discovery_kind kind;
	int64_t refresh_ns;      /* re-query / re-read / re-fetch this often */
	/* dns */
	const char *dns_name;    /* a host name (a headless Service) */
	uint16_t dns_port;       /* 0 = the group's port */
	/* file_sd: glob patterns (in the last path segment only), each ending
	 * in .json, .yml or .yaml; relative ones joined to the config's dir */
	tw_config_paths files;
	/* http_sd */
	const char *url;         /* http:// or https:// */
	int64_t timeout_ns;      /* the whole fetch */
	const char *tls_ca_file; /* NULL = the system CAs */
	const char *bearer_token_file; /* NULL = no Authorization */
	tw_config_loc loc;       /* the discovery: mapping in the file */
} tw_config_discovery;

typedef struct tw_config_group {
	const char *name;
	tw_config_settings s; /* built-in < defaults < group: what a target of
	                       * this group (or one discovered later) starts from */
	size_t first, n;      /* its static targets: cfg->targets[first .. first+n) */
	tw_config_loc loc;
	const tw_config_discovery *discovery; /* NULL: static targets only */
	bool exclude_self;    /* discovered targets that are this host are dropped */
} tw_config_group;

/* Bits of reflector.features and the targets' features: the optional
 * TWAMP features negotiated through the Modes field. */
#define TW_CONFIG_FEATURE_ISC 1u            /* RFC 5938 individual session control */
#define TW_CONFIG_FEATURE_REFLECT_OCTETS 2u /* RFC 6038 */
#define TW_CONFIG_FEATURE_SYMMETRIC 4u      /* RFC 6038 symmetrical size */
#define TW_CONFIG_FEATURE_DSCP_ECN 8u       /* RFC 7750 DSCP and ECN monitoring */
#define TW_CONFIG_FEATURE_PTP 16u           /* RFC 8186 PTPv2 timestamps */

/* Bits of stamp_tlvs: the RFC 8972 TLVs a STAMP sender adds. */
#define TW_CONFIG_TLV_LOCATION 1u
#define TW_CONFIG_TLV_TIMESTAMP_INFO 2u
#define TW_CONFIG_TLV_COS 4u
#define TW_CONFIG_TLV_DIRECT_MEASUREMENT 8u
#define TW_CONFIG_TLV_FOLLOW_UP 16u

/* reflector.light / reflector.stamp: reflectors without TWAMP-Control. */
typedef struct tw_config_udp_reflector {
	bool enabled;                /* the section is present */
	tw_config_hostports listen;  /* UDP addresses */
	bool stateless;              /* copy the sender's sequence number */
	uint32_t max_senders;        /* stateful: senders tracked at once */
	int64_t sender_idle_ns;      /* stateful: forget a sender silent this long */
	tw_config_security security; /* unauthenticated, authenticated (light: or encrypted) */
	const char *identity;        /* keyed: the identity in reflector.key_file holding the key */
	bool copy_dscp;              /* reply with the received DSCP */
	uint8_t reply_dscp;          /* ... else with this one */
	bool allow_cos_dscp;         /* STAMP: honour a Class of Service TLV's DSCP1 */
} tw_config_udp_reflector;

typedef struct tw_config_reflector {
	bool enabled; /* false when the section is absent or says enabled: false */
	tw_config_hostports listen;
	tw_config_cidrs allow;
	uint32_t max_control_connections;
	uint32_t max_sessions_per_connection;
	int64_t servwait_ns;
	int64_t refwait_ns;
	uint32_t modes;        /* TW_CONFIG_MODE_* bits, at least one */
	const char *key_file;  /* required when a keyed mode is listed; not opened here */
	uint32_t pbkdf2_count; /* power of two >= 1024 */
	tw_config_port_range test_ports;
	uint32_t features;     /* TW_CONFIG_FEATURE_* offered to clients */
	bool reflect_to_source; /* answer the observed source (NAT), not the registered one */
	tw_config_udp_reflector light, stamp;
} tw_config_reflector;

typedef struct tw_config {
	const char *source; /* file name as given, or "<embedded default>" */
	tw_config_reflector reflector;
	/* Targets in file order: the top-level `targets` first, then each
	 * group's targets, group by group. */
	const tw_config_target *targets;
	size_t n_targets;
	const tw_config_group *groups;
	size_t n_groups;
	struct tw_arena *mem; /* private */
} tw_config;

/* The first error of a failed load. line/col are 1-based, 0 when the error
 * has no position (unreadable file). msg is the complete text, including
 * "FILE:LINE:COL: " when there is a position. */
typedef struct tw_config_error {
	char msg[768];
	uint32_t line, col;
} tw_config_error;

/*
 * Loads path (read whole, at most TW_CONFIG_MAX_FILE_SIZE octets). On
 * success *out owns a new config (free with tw_config_free) and 0 is
 * returned. On failure *out is NULL, err (may be NULL) describes the first
 * problem, and the result is -EINVAL (invalid configuration), -EFBIG (file
 * too large), -ENOMEM, or the negative errno of open/read.
 */
int tw_config_load_file(const char *path, tw_config **out, tw_config_error *err);

/*
 * As tw_config_load_file, from len octets at data (need not be
 * NUL-terminated). name is used in messages and as cfg->source; base_dir
 * (may be NULL) is what relative key_file paths are resolved against.
 */
int tw_config_load_buffer(const char *name, const char *base_dir, const char *data, size_t len,
			  tw_config **out, tw_config_error *err);

/* Loads the embedded default (tw_config_default_yaml()), named
 * "<embedded default>": a reflector on 127.0.0.1:18620 and [::1]:18620 and
 * one target "self" measuring it every 100ms. Same results as above. */
int tw_config_load_default(tw_config **out, tw_config_error *err);

/* The embedded default configuration text (static storage). */
const char *tw_config_default_yaml(void);

/* Frees cfg and everything it points to. NULL-safe. */
void tw_config_free(tw_config *cfg);

/*
 * One line for --config.check, e.g. "config OK: 3 targets in 2 groups,
 * reflector on 2 addresses (unauthenticated)". Returns the length needed
 * (snprintf semantics: truncated when >= cap).
 */
int tw_config_summary(const tw_config *cfg, char *buf, size_t cap);

/*
 * Orders targets by series identity: name, dscp, then labels. Targets
 * comparing equal would produce the same time series (the loader refuses
 * such configs); across reloads, equal identity means "the same session,
 * keep its counters". Returns <0, 0, >0.
 */
int tw_config_target_identity_cmp(const tw_config_target *a, const tw_config_target *b);

/* True when name may not be a user label: reserved by Prometheus (`__*`,
 * le, quantile, instance, job) or used by the agent's own series. */
bool tw_config_label_reserved(const char *name);

/* True when the n octets at s are a Prometheus label name: a letter or
 * '_', then letters, digits or '_' (reserved or not). */
bool tw_config_label_name_valid(const char *s, size_t n);

/* Writes the schema (every key with type, default, unit, description) as a
 * plain-text table, e.g. for --help or the README. */
void tw_config_schema_print(FILE *f);

#endif /* TW_CONFIG_H */

/*
 * schema.h - internal to config/: the declarative schema (schema.c), the
 * schema-driven walk over a libyaml document (walk.c), the value parsers
 * (values.c) and inheritance/cross-checks (resolve.c).
 *
 * Adding a key = one row in a table of schema.c + one field in the struct
 * of config.h the row points at (plus a parser in values.c only when the
 * key needs a new kind of value).
 */
#ifndef TW_SCHEMA_H
#define TW_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "arena.h"
#include "config.h"

typedef enum tw_kind {
	TW_K_BOOL,
	TW_K_UINT,     /* min..max; size 1/2/4/8; TW_KEY_POW2 */
	TW_K_DURATION, /* int64 ns, min..max */
	TW_K_ENUM,     /* int index into names */
	TW_K_STRING,   /* min..max octets, printable */
	TW_K_HOST,     /* DNS name or IP literal */
	TW_K_IPADDR,   /* IP literal */
	TW_K_IFNAME,   /* network interface name */
	TW_K_PATH,     /* file path; relative ones joined to the config's dir */
	TW_K_PORT_RANGE,
	TW_K_HOSTPORT_LIST, /* ports min..max */
	TW_K_CIDR_LIST,
	TW_K_ENUM_SET, /* list of names -> uint32 bitmask, bit = 1 << index */
	TW_K_LABELS,
	TW_K_BUCKETS, /* preset name or list of durations min..max */
	TW_K_SECTION,
	TW_K_SECTION_LIST,
	TW_K_PATH_LIST, /* list of TW_K_PATH -> tw_config_paths */
	TW_K__COUNT
} tw_kind;

#define TW_KEY_REQUIRED 1u
#define TW_KEY_POW2 2u
#define TW_KEY_TOKEN 4u /* TW_K_STRING: printable ASCII, no spaces */

typedef struct tw_section tw_section;

typedef struct tw_key {
	const char *name;
	tw_kind kind;
	size_t off, size;  /* destination inside the section's object */
	int64_t min, max;  /* value range (meaning depends on kind) */
	size_t max_n;      /* list kinds: most elements */
	const char *const *names; /* TW_K_ENUM / TW_K_ENUM_SET, NULL-terminated */
	const tw_section *sub;    /* TW_K_SECTION / TW_K_SECTION_LIST */
	const char *def;   /* default in config syntax (lists: space-separated); NULL: none */
	const char *unit;
	const char *help;
	unsigned flags;
} tw_key;

/* What a TW_K_SECTION_LIST element counts towards (limits in tw_ld). */
enum tw_count { TW_COUNT_NONE, TW_COUNT_TARGETS, TW_COUNT_GROUPS, TW_COUNT__N };

typedef struct tw_ld tw_ld;

struct tw_section {
	const char *what;      /* expected text when the node is not a mapping */
	const char *list_what; /* expected text for a list of these */
	const tw_key *keys;
	size_t n_keys;
	bool settings;         /* also takes the inheritable settings keys */
	size_t layer_off;      /* ... stored in the tw_layer at this offset */
	size_t obj_size;       /* raw object size (lists allocate these) */
	enum tw_count count;
	/* Cross-key checks once the mapping is walked (NULL: none). */
	int (*check)(tw_ld *ld, const yaml_node_t *map, void *obj);
};

/* ---- raw objects: what the walk fills before inheritance ---- */

/* Every raw object starts with this header. */
typedef struct tw_raw_hdr {
	uint64_t seen;    /* bit i: keys[i] was present */
	yaml_mark_t mark; /* start of the mapping */
} tw_raw_hdr;

/* The settings one level wrote; bit i of given = settings row i. */
typedef struct tw_layer {
	tw_config_settings v;
	uint64_t given;
} tw_layer;

typedef struct tw_raw_list {
	void *v;
	size_t n;
} tw_raw_list;

typedef struct tw_raw_target {
	tw_raw_hdr h;
	const char *name, *host;
	tw_layer layer;
} tw_raw_target;

/* One discovery source (schema_sd.c): its rows write into v. */
typedef struct tw_raw_sd {
	tw_raw_hdr h;
	tw_config_discovery v;
} tw_raw_sd;

/* target_groups[].discovery: the check keeps the one source given in v. */
typedef struct tw_raw_discovery {
	tw_raw_hdr h;
	tw_raw_sd dns, file_sd, http_sd;
	tw_config_discovery v; /* kind 0 until a source was given */
} tw_raw_discovery;

typedef struct tw_raw_group {
	tw_raw_hdr h;
	const char *name;
	tw_layer layer;
	tw_raw_list targets; /* of tw_raw_target */
	tw_raw_discovery discovery;
	bool exclude_self;
} tw_raw_group;

/* reflector.light / reflector.stamp (schema.c). */
typedef struct tw_raw_udp {
	tw_raw_hdr h;
	tw_config_udp_reflector v;
} tw_raw_udp;

typedef struct tw_raw_reflector {
	tw_raw_hdr h;
	tw_config_reflector v;
	tw_raw_udp light, stamp; /* copied into v.light / v.stamp by resolve.c */
} tw_raw_reflector;

typedef struct tw_raw_defaults {
	tw_raw_hdr h;
	tw_layer layer;
} tw_raw_defaults;

typedef struct tw_raw_root {
	tw_raw_hdr h;
	tw_raw_reflector reflector;
	tw_raw_defaults defaults;
	tw_raw_list targets; /* of tw_raw_target */
	tw_raw_list groups;  /* of tw_raw_group */
} tw_raw_root;

/* ---- the schema (schema.c) ---- */

extern const tw_section tw_schema_root;
extern const tw_section tw_schema_settings; /* the inheritable keys */
extern const tw_section tw_schema_reflector;
extern const tw_section tw_schema_target;
extern const tw_section tw_schema_group;
extern const tw_section tw_schema_discovery; /* schema_sd.c */
extern const tw_section tw_schema_light, tw_schema_stamp;
extern const tw_section tw_schema_sd_dns, tw_schema_sd_file, tw_schema_sd_http;

/* Index of the settings row called name, or -1. */
int tw_schema_settings_index(const char *name);
/* Index of the row called name in sec, or -1. */
int tw_schema_key_index(const tw_section *sec, const char *name);

/* ---- loader context ---- */

/* One step of a key path: a mapping key, or a list index when key is
 * NULL. The key must stay valid until it is popped. */
typedef struct tw_ld_step {
	const char *key;
	size_t index;
} tw_ld_step;

enum { TW_LD_PATH_STEPS = 16 }; /* the deepest schema path has 6 steps */

struct tw_ld {
	const char *file;     /* display name (perm) */
	const char *base_dir; /* for relative paths, or NULL */
	yaml_document_t *doc;
	tw_arena *perm;       /* ends up owned by the tw_config */
	tw_arena *tmp;        /* raw objects, freed after loading */
	tw_config_error *err;
	/* Key path of the node being read, kept as steps and written out
	 * only when an error names it (most loads never need it). */
	tw_ld_step path[TW_LD_PATH_STEPS];
	size_t depth;         /* steps pushed; beyond TW_LD_PATH_STEPS not kept */
	unsigned long visits; /* node visits; bounds alias expansion */
	size_t counts[TW_COUNT__N];
	bool failed;
};

/* Most node visits one load may make (aliases can multiply them). */
#define TW_LD_MAX_VISITS 4000000ul

/* Records the first error as "FILE:L:C: PATH: message" (mark may be NULL:
 * no position) and returns -EINVAL. Later errors are ignored. */
int tw_ld_fail(tw_ld *ld, const yaml_mark_t *mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "found X, expected <describe(k) or why>" at node. */
int tw_ld_fail_found(tw_ld *ld, const yaml_node_t *node, const tw_key *k, const char *why);

/* Path stack: push returns the previous depth for tw_ld_pop. */
size_t tw_ld_push_key(tw_ld *ld, const char *key);
size_t tw_ld_push_index(tw_ld *ld, size_t i);
void tw_ld_pop(tw_ld *ld, size_t len);

/* Describes node for "found ..." ("\"10x\"", "a mapping", "nothing"). */
void tw_ld_found_text(const yaml_node_t *node, char *buf, size_t cap);

/* ---- walking (walk.c) ---- */

/* Fills obj (sec->obj_size octets, zeroed) from the mapping node: defaults
 * first, then every key. A null node leaves the defaults. */
int tw_walk_section(tw_ld *ld, const tw_section *sec, const yaml_node_t *node, void *obj);

/* Applies the defaults of sec's own rows (not the settings) to obj. */
int tw_walk_defaults(tw_ld *ld, const tw_section *sec, void *obj);

/* Fails with "duplicate key (first at ...)" at pair's key (a scalar) when
 * an earlier pair of map has a key of the same name; 0 otherwise. */
int tw_walk_unique_key(tw_ld *ld, const yaml_node_t *map, const yaml_node_pair_t *pair);

/* Value node of key name in map, or NULL. */
const yaml_node_t *tw_walk_find(tw_ld *ld, const yaml_node_t *map, const char *name);

yaml_node_t *tw_walk_node(tw_ld *ld, int index);

/* Counts one node visit; fails once TW_LD_MAX_VISITS is exceeded. */
int tw_walk_count(tw_ld *ld, const yaml_node_t *node);

/* True for a plain empty, "~" or "null" scalar. */
bool tw_walk_is_null(const yaml_node_t *n);

/* ---- values (values.c) ---- */

/* Parses node as key k into dst (the field k points at). */
int tw_value_parse(tw_ld *ld, const tw_key *k, const yaml_node_t *node, void *dst);
/* Parses k->def into dst; an unparsable default is an internal error. */
int tw_value_default(tw_ld *ld, const tw_key *k, void *dst);
/* "an integer from 0 to 63" etc. */
void tw_value_describe(const tw_key *k, char *buf, size_t cap);
/* Short type name for the schema table ("duration", "list of CIDR"). */
const char *tw_value_type_name(const tw_key *k);
/* Merges two label sets (b wins; empty values kept as removals). */
int tw_value_labels_merge(tw_ld *ld, const tw_config_labels *a, const tw_config_labels *b,
			  tw_config_labels *out);

/* ---- resolution (resolve.c) ---- */

/* Applies inheritance and cross-target checks; fills *cfg from root. */
int tw_resolve(tw_ld *ld, const tw_raw_root *root, tw_config *cfg);

#endif /* TW_SCHEMA_H */

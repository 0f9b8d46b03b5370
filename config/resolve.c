/*
 * resolve.c - from the walked document to the final tw_config: settings
 * inheritance (built-in < defaults < group < target), checks that span
 * keys or levels, and the series-identity check across all targets.
 */
#include "schema.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { LVL_BUILTIN, LVL_DEFAULTS, LVL_GROUP, LVL_TARGET };

/* Settings being resolved, with the level each one came from. */
typedef struct resolved {
	tw_config_settings s;
	uint8_t origin[64];
	size_t group; /* index for messages, when origin is LVL_GROUP */
} resolved;

/* Where a final target was written: group index (SIZE_MAX: top level)
 * and index in its list. */
typedef struct where {
	size_t g, i;
} where;

static int apply_layer(tw_ld *ld, resolved *r, const tw_layer *l, uint8_t lvl)
{
	for (size_t i = 0; i < tw_schema_settings.n_keys; i++) {
		if (!(l->given & (UINT64_C(1) << i)))
			continue;
		const tw_key *k = &tw_schema_settings.keys[i];
		if (k->kind == TW_K_LABELS) {
			int rc = tw_value_labels_merge(ld, &r->s.labels, &l->v.labels, &r->s.labels);
			if (rc < 0)
				return rc;
		} else {
			memcpy((char *)&r->s + k->off, (const char *)&l->v + k->off, k->size);
		}
		r->origin[i] = lvl;
	}
	return 0;
}

/* Derived defaults, and label removals ("" values) dropped. */
static int finish(tw_ld *ld, const resolved *r, tw_config_settings *out)
{
	*out = r->s;
	if (r->origin[tw_schema_settings_index("session_timeout")] == LVL_BUILTIN)
		out->session_timeout_ns = out->loss_timeout_ns;
	size_t keep = 0;
	for (size_t i = 0; i < r->s.labels.n; i++)
		keep += r->s.labels.v[i].value[0] != '\0';
	if (keep == r->s.labels.n)
		return 0;
	tw_config_label *v = tw_arena_array(ld->perm, keep, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t w = 0;
	for (size_t i = 0; i < r->s.labels.n; i++)
		if (r->s.labels.v[i].value[0])
			v[w++] = r->s.labels.v[i];
	out->labels = (tw_config_labels){ v, w };
	return 0;
}

/* " (from defaults)" etc., naming where an inherited setting was set. */
static const char *origin_text(const resolved *r, const char *key, char *buf, size_t cap)
{
	switch (r->origin[tw_schema_settings_index(key)]) {
	case LVL_DEFAULTS: snprintf(buf, cap, " (from defaults)"); break;
	case LVL_GROUP: snprintf(buf, cap, " (from target_groups[%zu])", r->group); break;
	default: buf[0] = '\0'; break;
	}
	return buf;
}

static int check_keys(tw_ld *ld, const resolved *r, const tw_config_settings *s,
		      const yaml_mark_t *m)
{
	char o1[48], o2[48];
	int keyed = s->security == TW_CONFIG_SECURITY_AUTHENTICATED ||
		s->security == TW_CONFIG_SECURITY_ENCRYPTED || s->security == TW_CONFIG_SECURITY_MIXED;
	if (keyed && (!s->identity || !s->key_file)) {
		const tw_key *k = &tw_schema_settings.keys[tw_schema_settings_index("security")];
		return tw_ld_fail(ld, m, "security %s%s needs identity and key_file",
				  k->names[s->security], origin_text(r, "security", o1, sizeof(o1)));
	}
	if (s->identity && !s->key_file)
		return tw_ld_fail(ld, m, "identity%s needs key_file as well",
				  origin_text(r, "identity", o1, sizeof(o1)));
	if (s->key_file && !s->identity)
		return tw_ld_fail(ld, m, "key_file%s needs identity as well",
				  origin_text(r, "key_file", o2, sizeof(o2)));
	return 0;
}

static const char *family_name(int af)
{
	return af == AF_INET ? "IPv4" : "IPv6";
}

/* Address literals must agree with each other and with ip_version. */
static int check_families(tw_ld *ld, const resolved *r, const tw_config_settings *s,
			  const char *host, const yaml_mark_t *m)
{
	char o1[48], o2[48];
	int want = s->ip_version == TW_CONFIG_IP_V4 ? AF_INET :
		s->ip_version == TW_CONFIG_IP_V6 ? AF_INET6 : 0;
	int src = s->source_address ? tw_addr_literal_family(s->source_address) : 0;
	int dst = tw_addr_literal_family(host);
	origin_text(r, "ip_version", o2, sizeof(o2));
	if (want && src && src != want)
		return tw_ld_fail(ld, m, "source_address %s%s is %s but ip_version%s is %s",
				  s->source_address, origin_text(r, "source_address", o1, sizeof(o1)),
				  family_name(src), o2, want == AF_INET ? "4" : "6");
	if (want && dst && dst != want)
		return tw_ld_fail(ld, m, "host %s is %s but ip_version%s is %s", host,
				  family_name(dst), o2, want == AF_INET ? "4" : "6");
	if (src && dst && src != dst)
		return tw_ld_fail(ld, m, "host %s is %s but source_address %s%s is %s", host,
				  family_name(dst), s->source_address,
				  origin_text(r, "source_address", o1, sizeof(o1)), family_name(src));
	return 0;
}

static void path_of(tw_ld *ld, where w)
{
	tw_ld_pop(ld, 0);
	if (w.g != SIZE_MAX) {
		tw_ld_push_key(ld, "target_groups");
		tw_ld_push_index(ld, w.g);
	}
	tw_ld_push_key(ld, "targets");
	tw_ld_push_index(ld, w.i);
}

static int resolve_target(tw_ld *ld, const resolved *inherited, const tw_raw_target *raw,
			  const char *group, where w, tw_config_target *out)
{
	resolved r = *inherited;
	int rc = apply_layer(ld, &r, &raw->layer, LVL_TARGET);
	if (rc == 0)
		rc = finish(ld, &r, &out->s);
	if (rc < 0)
		return rc;
	out->name = raw->name;
	out->host = raw->host;
	out->group = group;
	out->loc = (tw_config_loc){ ld->file, (uint32_t)raw->h.mark.line + 1,
		(uint32_t)raw->h.mark.column + 1 };
	path_of(ld, w);
	rc = check_keys(ld, &r, &out->s, &raw->h.mark);
	if (rc == 0)
		rc = check_families(ld, &r, &out->s, out->host, &raw->h.mark);
	tw_ld_pop(ld, 0);
	return rc;
}

/* ---- series identity ---- */

int tw_config_target_identity_cmp(const tw_config_target *a, const tw_config_target *b)
{
	int c = strcmp(a->name, b->name);
	if (c)
		return c;
	if (a->s.dscp != b->s.dscp)
		return a->s.dscp < b->s.dscp ? -1 : 1;
	const tw_config_labels *la = &a->s.labels, *lb = &b->s.labels;
	for (size_t i = 0; i < la->n && i < lb->n; i++) {
		c = strcmp(la->v[i].name, lb->v[i].name);
		if (!c)
			c = strcmp(la->v[i].value, lb->v[i].value);
		if (c)
			return c;
	}
	return la->n < lb->n ? -1 : la->n > lb->n ? 1 : 0;
}

static int cmp_target(const void *pa, const void *pb)
{
	return tw_config_target_identity_cmp(*(const tw_config_target *const *)pa,
					     *(const tw_config_target *const *)pb);
}

static int cmp_group(const void *pa, const void *pb)
{
	return strcmp((*(const tw_raw_group *const *)pa)->name, (*(const tw_raw_group *const *)pb)->name);
}

/* Among the n elements of size octets at base, the clash whose second
 * element comes first in the file: *second is its index and *first the
 * earliest element equal to it under cmp (a qsort comparator of pointers
 * to elements); both SIZE_MAX when all differ. Sorting keeps this
 * O(n log n) for the 100,000 targets and 10,000 groups a file may hold. */
static int first_clash(const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
		       size_t *first, size_t *second)
{
	*first = *second = SIZE_MAX;
	if (n < 2)
		return 0;
	const char **p = malloc(n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		p[i] = (const char *)base + i * size;
	qsort(p, n, sizeof(*p), cmp);
	for (size_t i = 0, j; i < n; i = j) {
		size_t lo = SIZE_MAX, lo2 = SIZE_MAX; /* the two earliest of this run */
		for (j = i; j < n && cmp(&p[i], &p[j]) == 0; j++) {
			size_t k = (size_t)(p[j] - (const char *)base) / size;
			if (k < lo) {
				lo2 = lo;
				lo = k;
			} else if (k < lo2) {
				lo2 = k;
			}
		}
		if (lo2 < *second) {
			*second = lo2;
			*first = lo;
		}
	}
	free(p);
	return 0;
}

static void where_text(where w, char *buf, size_t cap)
{
	if (w.g == SIZE_MAX)
		snprintf(buf, cap, "targets[%zu]", w.i);
	else
		snprintf(buf, cap, "target_groups[%zu].targets[%zu]", w.g, w.i);
}

static int check_identities(tw_ld *ld, const tw_config_target *t, const where *wh, size_t n)
{
	size_t first, second;
	int rc = first_clash(t, n, sizeof(*t), cmp_target, &first, &second);
	if (rc < 0 || second == SIZE_MAX)
		return rc;
	char other[80];
	where_text(wh[first], other, sizeof(other));
	path_of(ld, wh[second]);
	yaml_mark_t m = { 0, t[second].loc.line - 1, t[second].loc.col - 1 };
	rc = tw_ld_fail(ld, &m, "same series as %s at line %u, column %u (target \"%s\", dscp %u "
			"and the same labels); change the name, dscp or labels of one of them",
			other, t[first].loc.line, t[first].loc.col, t[second].name,
			(unsigned)t[second].s.dscp);
	tw_ld_pop(ld, 0);
	return rc;
}

static int check_group_names(tw_ld *ld, const tw_raw_group *g, size_t n)
{
	size_t j, i;
	int rc = first_clash(g, n, sizeof(*g), cmp_group, &j, &i);
	if (rc < 0 || i == SIZE_MAX)
		return rc;
	tw_ld_push_key(ld, "target_groups");
	tw_ld_push_index(ld, i);
	rc = tw_ld_fail(ld, &g[i].h.mark, "duplicate group name \"%s\" (first at target_groups[%zu], "
			"line %zu)", g[i].name, j, g[j].h.mark.line + 1);
	tw_ld_pop(ld, 0);
	return rc;
}

/* ---- assembly ---- */

/* The group's discovery source (schema_sd.c checked it), or NULL. */
static int resolve_discovery(tw_ld *ld, const tw_raw_group *raw, size_t gi, tw_config_group *out)
{
	int di = tw_schema_key_index(&tw_schema_group, "discovery");
	out->exclude_self = raw->exclude_self;
	if (!(raw->h.seen & (UINT64_C(1) << di)))
		return 0;
	const tw_raw_discovery *d = &raw->discovery;
	if (d->v.kind == 0) { /* "discovery:" with nothing after it */
		tw_ld_push_key(ld, "target_groups");
		tw_ld_push_index(ld, gi);
		tw_ld_push_key(ld, "discovery");
		int rc = tw_ld_fail(ld, &d->h.mark, "found nothing, expected %s", tw_schema_discovery.what);
		tw_ld_pop(ld, 0);
		return rc;
	}
	tw_config_discovery *v = tw_arena_alloc(ld->perm, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*v = d->v;
	v->loc = (tw_config_loc){ ld->file, (uint32_t)d->h.mark.line + 1, (uint32_t)d->h.mark.column + 1 };
	out->discovery = v;
	return 0;
}

static int resolve_group(tw_ld *ld, const resolved *base, const tw_raw_group *raw, size_t gi,
			 tw_config_group *out, tw_config_target *targets, where *wh, size_t *next)
{
	resolved r = *base;
	r.group = gi;
	int rc = apply_layer(ld, &r, &raw->layer, LVL_GROUP);
	if (rc == 0)
		rc = finish(ld, &r, &out->s);
	if (rc < 0)
		return rc;
	out->name = raw->name;
	out->loc = (tw_config_loc){ ld->file, (uint32_t)raw->h.mark.line + 1,
		(uint32_t)raw->h.mark.column + 1 };
	out->first = *next;
	out->n = raw->targets.n;
	rc = resolve_discovery(ld, raw, gi, out);
	const tw_raw_target *t = raw->targets.v;
	for (size_t i = 0; i < raw->targets.n && rc == 0; i++, (*next)++) {
		wh[*next] = (where){ gi, i };
		rc = resolve_target(ld, &r, &t[i], raw->name, wh[*next], &targets[*next]);
	}
	return rc;
}

static int resolve_targets(tw_ld *ld, const tw_raw_root *root, const resolved *base, tw_config *cfg)
{
	const tw_raw_group *g = root->groups.v;
	size_t total = root->targets.n;
	for (size_t i = 0; i < root->groups.n; i++)
		total += g[i].targets.n;
	tw_config_target *t = tw_arena_array(ld->perm, total, sizeof(*t));
	tw_config_group *groups = tw_arena_array(ld->perm, root->groups.n, sizeof(*groups));
	where *wh = tw_arena_array(ld->tmp, total, sizeof(*wh));
	if (!t || !groups || !wh)
		return -ENOMEM;
	size_t next = 0;
	int rc = 0;
	const tw_raw_target *top = root->targets.v;
	for (; next < root->targets.n && rc == 0; next++) {
		wh[next] = (where){ SIZE_MAX, next };
		rc = resolve_target(ld, base, &top[next], NULL, wh[next], &t[next]);
	}
	for (size_t i = 0; i < root->groups.n && rc == 0; i++)
		rc = resolve_group(ld, base, &g[i], i, &groups[i], t, wh, &next);
	if (rc == 0)
		rc = check_group_names(ld, g, root->groups.n);
	if (rc == 0)
		rc = check_identities(ld, t, wh, total);
	cfg->targets = t;
	cfg->n_targets = total;
	cfg->groups = groups;
	cfg->n_groups = root->groups.n;
	return rc;
}

/* reflector.light / reflector.stamp: enabled when the section is present
 * (and the reflector is). */
static void resolve_udp(const tw_raw_reflector *r, const char *key, const tw_raw_udp *raw,
			tw_config_udp_reflector *out)
{
	int i = tw_schema_key_index(&tw_schema_reflector, key);
	*out = raw->v;
	out->enabled = r->v.enabled && (r->h.seen & (UINT64_C(1) << i)) != 0;
}

int tw_resolve(tw_ld *ld, const tw_raw_root *root, tw_config *cfg)
{
	resolved base;
	memset(&base, 0, sizeof(base));
	int rc = tw_walk_defaults(ld, &tw_schema_settings, &base.s);
	if (rc == 0)
		rc = apply_layer(ld, &base, &root->defaults.layer, LVL_DEFAULTS);
	if (rc < 0)
		return rc;
	cfg->source = ld->file;
	cfg->reflector = root->reflector.v;
	int ri = tw_schema_key_index(&tw_schema_root, "reflector");
	if (!(root->h.seen & (UINT64_C(1) << ri)))
		cfg->reflector.enabled = false;
	resolve_udp(&root->reflector, "light", &root->reflector.light, &cfg->reflector.light);
	resolve_udp(&root->reflector, "stamp", &root->reflector.stamp, &cfg->reflector.stamp);
	return resolve_targets(ld, root, &base, cfg);
}

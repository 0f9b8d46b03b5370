/*
 * walk.c - reads a libyaml document against the schema tables: mapping
 * keys are looked up in the section's rows (then in the inheritable
 * settings), unknown and duplicate keys are errors, values go to the row's
 * parser. Also the error and key-path helpers every parser uses.
 */
#include "schema.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- errors and key paths ---- */

/* snprintf that appends at *w and never runs past cap (cuts instead). */
static void appendf(char *buf, size_t cap, size_t *w, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t cap, size_t *w, const char *fmt, ...)
{
	if (*w >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *w, cap - *w, fmt, ap);
	va_end(ap);
	if (n > 0)
		*w = *w + (size_t)n < cap ? *w + (size_t)n : cap - 1;
}

static size_t push(tw_ld *ld, const char *key, size_t index)
{
	size_t old = ld->depth;
	if (old < TW_LD_PATH_STEPS)
		ld->path[old] = (tw_ld_step){ key, index };
	ld->depth++;
	return old;
}

size_t tw_ld_push_key(tw_ld *ld, const char *key)
{
	return push(ld, key, 0);
}

size_t tw_ld_push_index(tw_ld *ld, size_t i)
{
	return push(ld, NULL, i);
}

void tw_ld_pop(tw_ld *ld, size_t depth)
{
	ld->depth = depth;
}

/* Appends text to the path being written out; past cap the path ends in
 * "..." (a visible marker rather than a silently cut path). */
static void path_append(char *buf, size_t cap, size_t *w, const char *text)
{
	size_t room = cap - *w;
	int n = snprintf(buf + *w, room, "%s", text);
	if (n < 0 || (size_t)n >= room) {
		memcpy(buf + cap - 4, "...", 4);
		*w = cap - 1;
	} else {
		*w += (size_t)n;
	}
}

/* The key path as "target_groups[0].targets[2].labels" ("" at the top). */
static void path_text(const tw_ld *ld, char *buf, size_t cap)
{
	size_t w = 0;
	buf[0] = '\0';
	size_t kept = ld->depth < TW_LD_PATH_STEPS ? ld->depth : TW_LD_PATH_STEPS;
	for (size_t i = 0; i < kept; i++) {
		const tw_ld_step *st = &ld->path[i];
		char idx[32];
		if (!st->key) {
			snprintf(idx, sizeof(idx), "[%zu]", st->index);
			path_append(buf, cap, &w, idx);
			continue;
		}
		if (w)
			path_append(buf, cap, &w, ".");
		path_append(buf, cap, &w, st->key);
	}
	if (ld->depth > kept)
		path_append(buf, cap, &w, "...");
}

int tw_ld_fail(tw_ld *ld, const yaml_mark_t *mark, const char *fmt, ...)
{
	if (ld->failed || !ld->err)
		goto out;
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tw_config_error *e = ld->err;
	size_t w = 0;
	e->msg[0] = '\0';
	appendf(e->msg, sizeof(e->msg), &w, "%s:", ld->file);
	if (mark) {
		e->line = (uint32_t)mark->line + 1;
		e->col = (uint32_t)mark->column + 1;
		appendf(e->msg, sizeof(e->msg), &w, "%u:%u:", e->line, e->col);
	} else {
		e->line = e->col = 0;
	}
	char path[256];
	path_text(ld, path, sizeof(path));
	if (path[0])
		appendf(e->msg, sizeof(e->msg), &w, " %s:", path);
	appendf(e->msg, sizeof(e->msg), &w, " %s", text);
out:
	ld->failed = true;
	return -EINVAL;
}

int tw_ld_fail_found(tw_ld *ld, const yaml_node_t *node, const tw_key *k, const char *why)
{
	char found[96], expected[256];
	tw_ld_found_text(node, found, sizeof(found));
	if (why && *why)
		snprintf(expected, sizeof(expected), "%s", why);
	else
		tw_value_describe(k, expected, sizeof(expected));
	return tw_ld_fail(ld, &node->start_mark, "found %s, expected %s", found, expected);
}

void tw_ld_found_text(const yaml_node_t *node, char *buf, size_t cap)
{
	if (node->type == YAML_MAPPING_NODE)
		snprintf(buf, cap, "a mapping");
	else if (node->type == YAML_SEQUENCE_NODE)
		snprintf(buf, cap, node->data.sequence.items.top == node->data.sequence.items.start ?
				"an empty list" : "a list");
	else if (tw_walk_is_null(node))
		snprintf(buf, cap, "nothing");
	else
		tw_text_quote((const char *)node->data.scalar.value, node->data.scalar.length, buf, cap);
}

/* ---- document access ---- */

yaml_node_t *tw_walk_node(tw_ld *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

bool tw_walk_is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
		strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const yaml_node_t *tw_walk_find(tw_ld *ld, const yaml_node_t *map, const char *name)
{
	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = tw_walk_node(ld, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, name) == 0)
			return tw_walk_node(ld, p->value);
	}
	return NULL;
}

/* ---- unknown keys ---- */

/* Optimal string alignment distance (edits incl. transpositions), capped
 * at 9 for long strings: only small distances matter here. */
static size_t edit_distance(const char *a, const char *b)
{
	enum { N = 40 };
	size_t la = strlen(a), lb = strlen(b);
	if (la >= N || lb >= N)
		return 9;
	size_t d[N][N];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

static void suggest_in(const tw_section *sec, const char *name, const char **best, size_t *dist)
{
	for (size_t i = 0; sec && i < sec->n_keys; i++) {
		size_t d = edit_distance(name, sec->keys[i].name);
		if (d < *dist) {
			*dist = d;
			*best = sec->keys[i].name;
		}
	}
}

static void list_keys(const tw_section *sec, char *buf, size_t cap, size_t *w)
{
	for (size_t i = 0; sec && i < sec->n_keys && *w < cap; i++) {
		int n = snprintf(buf + *w, cap - *w, "%s%s", *w ? ", " : "", sec->keys[i].name);
		*w += n > 0 ? (size_t)n : 0;
	}
}

static int unknown_key(tw_ld *ld, const tw_section *sec, const yaml_node_t *key)
{
	const char *name = (const char *)key->data.scalar.value;
	const tw_section *settings = sec->settings ? &tw_schema_settings : NULL;
	const char *best = NULL;
	size_t dist = 99, len = strlen(name);
	suggest_in(sec, name, &best, &dist);
	suggest_in(settings, name, &best, &dist);
	size_t old = tw_ld_push_key(ld, name);
	int rc;
	if (best && dist <= (len >= 6 ? 2u : 1u)) {
		rc = tw_ld_fail(ld, &key->start_mark, "unknown key, did you mean \"%s\"?", best);
	} else {
		char keys[400];
		size_t w = 0;
		keys[0] = '\0';
		list_keys(sec, keys, sizeof(keys), &w);
		list_keys(settings, keys, sizeof(keys), &w);
		rc = tw_ld_fail(ld, &key->start_mark, "unknown key; valid keys here: %s", keys);
	}
	tw_ld_pop(ld, old);
	return rc;
}

/* ---- the walk ---- */

int tw_walk_defaults(tw_ld *ld, const tw_section *sec, void *obj)
{
	for (size_t i = 0; i < sec->n_keys; i++) {
		const tw_key *k = &sec->keys[i];
		void *dst = (char *)obj + k->off;
		int rc = 0;
		if (k->kind == TW_K_SECTION)
			rc = tw_walk_defaults(ld, k->sub, dst);
		else if (k->def)
			rc = tw_value_default(ld, k, dst);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tw_walk_unique_key(tw_ld *ld, const yaml_node_t *map, const yaml_node_pair_t *pair)
{
	const yaml_node_t *key = tw_walk_node(ld, pair->key);
	const char *name = (const char *)key->data.scalar.value;
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		const yaml_node_t *k = tw_walk_node(ld, p->key);
		if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, name) == 0)
			return tw_ld_fail(ld, &key->start_mark, "duplicate key (first at line %zu, column %zu)",
					  k->start_mark.line + 1, k->start_mark.column + 1);
	}
	return 0;
}

int tw_walk_count(tw_ld *ld, const yaml_node_t *node)
{
	if (++ld->visits <= TW_LD_MAX_VISITS)
		return 0;
	return tw_ld_fail(ld, &node->start_mark,
			  "document too complex (aliases expand it beyond %lu nodes)", TW_LD_MAX_VISITS);
}

/* One "key: value" pair of a section's mapping. */
static int walk_pair(tw_ld *ld, const tw_section *sec, const yaml_node_t *map,
		     const yaml_node_pair_t *p, void *obj)
{
	const yaml_node_t *key = tw_walk_node(ld, p->key);
	const yaml_node_t *val = tw_walk_node(ld, p->value);
	int rc = tw_walk_count(ld, key);
	if (rc < 0)
		return rc;
	if (key->type != YAML_SCALAR_NODE || tw_walk_is_null(key)) {
		char found[96];
		tw_ld_found_text(key, found, sizeof(found));
		return tw_ld_fail(ld, &key->start_mark, "found %s as a key, expected a key name", found);
	}
	const char *name = (const char *)key->data.scalar.value;
	if (strlen(name) != key->data.scalar.length)
		return tw_ld_fail(ld, &key->start_mark, "found a key containing a NUL character");
	tw_raw_hdr *h = obj;
	const tw_section *table = sec;
	uint64_t *seen = &h->seen;
	char *base = obj;
	int i = tw_schema_key_index(sec, name);
	if (i < 0 && sec->settings) {
		table = &tw_schema_settings;
		tw_layer *layer = (tw_layer *)(void *)((char *)obj + sec->layer_off);
		seen = &layer->given;
		base = (char *)&layer->v;
		i = tw_schema_key_index(table, name);
	}
	if (i < 0)
		return unknown_key(ld, sec, key);
	size_t old = tw_ld_push_key(ld, name);
	if (*seen & (UINT64_C(1) << i)) {
		/* The row's bit was set by an earlier pair with this very name. */
		rc = tw_walk_unique_key(ld, map, p);
	} else {
		*seen |= UINT64_C(1) << i;
		rc = tw_value_parse(ld, &table->keys[i], val, base + table->keys[i].off);
	}
	tw_ld_pop(ld, old);
	return rc;
}

static int check_required(tw_ld *ld, const tw_section *sec, const yaml_node_t *map, const void *obj)
{
	const tw_raw_hdr *h = obj;
	for (size_t i = 0; i < sec->n_keys; i++) {
		if ((sec->keys[i].flags & TW_KEY_REQUIRED) && !(h->seen & (UINT64_C(1) << i)))
			return tw_ld_fail(ld, &map->start_mark, "missing required key \"%s\"",
					  sec->keys[i].name);
	}
	return 0;
}

int tw_walk_section(tw_ld *ld, const tw_section *sec, const yaml_node_t *node, void *obj)
{
	int rc = tw_walk_defaults(ld, sec, obj);
	((tw_raw_hdr *)obj)->mark = node->start_mark;
	if (rc < 0 || tw_walk_is_null(node))
		return rc;
	if (node->type != YAML_MAPPING_NODE)
		return tw_ld_fail_found(ld, node, NULL, sec->what);
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
		rc = walk_pair(ld, sec, node, p, obj);
		if (rc < 0)
			return rc;
	}
	rc = check_required(ld, sec, node, obj);
	if (rc == 0 && sec->check)
		rc = sec->check(ld, node, obj);
	return rc;
}

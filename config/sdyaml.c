/*
 * sdyaml.c - the YAML form of service-discovery documents (file_sd *.yml),
 * read with libyaml's document API into the same builder as the JSON form.
 * Aliases are followed, but every node visited counts against a budget so
 * that a few aliases cannot multiply the work.
 */
#include "sd_int.h"
#include "schema.h" /* tw_walk_is_null: the configuration's idea of null */
#include "text.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <yaml.h>

enum { MAX_VISITS = 4000000 };

typedef struct yp {
	yaml_document_t *doc;
	sd_builder *b;
	tw_sd_error *err;
	unsigned long visits;
} yp;

static sd_pos mark_pos(const yaml_mark_t *m)
{
	return (sd_pos){ (uint32_t)m->line + 1, (uint32_t)m->column + 1 };
}

static int visit(yp *p, const yaml_node_t *n)
{
	if (++p->visits <= MAX_VISITS)
		return 0;
	return sd_fail(p->err, mark_pos(&n->start_mark), "document too complex (aliases expand it "
		       "beyond %d nodes)", MAX_VISITS);
}

static int found(yp *p, const yaml_node_t *n, const char *what)
{
	char f[80];
	if (n->type == YAML_MAPPING_NODE)
		snprintf(f, sizeof(f), "a mapping");
	else if (n->type == YAML_SEQUENCE_NODE)
		snprintf(f, sizeof(f), "a list");
	else if (tw_walk_is_null(n))
		snprintf(f, sizeof(f), "nothing");
	else
		tw_text_quote((const char *)n->data.scalar.value, n->data.scalar.length, f, sizeof(f));
	return sd_fail(p->err, mark_pos(&n->start_mark), "found %s, expected %s", f, what);
}

/* The text of a scalar without NUL octets, else an error. */
static int scalar(yp *p, const yaml_node_t *n, const char *what, const char **s, size_t *len)
{
	if (n->type != YAML_SCALAR_NODE || tw_walk_is_null(n))
		return found(p, n, what);
	*s = (const char *)n->data.scalar.value;
	*len = n->data.scalar.length;
	if (strlen(*s) != *len)
		return sd_fail(p->err, mark_pos(&n->start_mark), "found a string containing a NUL "
			       "character, expected %s", what);
	return 0;
}

static yaml_node_t *node(yp *p, int index)
{
	return yaml_document_get_node(p->doc, index);
}

static int targets(yp *p, const yaml_node_t *list)
{
	if (list->type != YAML_SEQUENCE_NODE)
		return tw_walk_is_null(list) ? 0 : found(p, list, sd_what_targets);
	for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		const yaml_node_t *t = node(p, *it);
		const char *s;
		size_t n;
		int rc = visit(p, t);
		if (rc == 0)
			rc = scalar(p, t, sd_what_target, &s, &n);
		if (rc == 0)
			rc = sd_target(p->b, s, n, mark_pos(&t->start_mark));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int labels(yp *p, const yaml_node_t *map)
{
	if (map->type != YAML_MAPPING_NODE)
		return tw_walk_is_null(map) ? 0 : found(p, map, sd_what_labels);
	for (yaml_node_pair_t *kv = map->data.mapping.pairs.start; kv < map->data.mapping.pairs.top; kv++) {
		const yaml_node_t *k = node(p, kv->key), *v = node(p, kv->value);
		const char *name, *value = NULL;
		size_t nn, vn = 0;
		int rc = visit(p, k);
		if (rc == 0)
			rc = scalar(p, k, "a label name", &name, &nn);
		if (rc == 0 && !tw_walk_is_null(v))
			rc = scalar(p, v, sd_what_value, &value, &vn);
		if (rc == 0)
			rc = sd_label(p->b, name, nn, value, vn, mark_pos(&k->start_mark));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The value of key in map, failing on a second occurrence. */
static int lookup(yp *p, const yaml_node_t *map, const char *key, const yaml_node_t **out)
{
	const yaml_node_t *first = NULL;
	*out = NULL;
	for (yaml_node_pair_t *kv = map->data.mapping.pairs.start; kv < map->data.mapping.pairs.top; kv++) {
		const yaml_node_t *k = node(p, kv->key);
		if (k->type != YAML_SCALAR_NODE || strcmp((const char *)k->data.scalar.value, key) != 0)
			continue;
		if (first)
			return sd_fail(p->err, mark_pos(&k->start_mark), "duplicate key \"%s\" (first at line "
				       "%zu, column %zu)", key, first->start_mark.line + 1,
				       first->start_mark.column + 1);
		first = k;
		*out = node(p, kv->value);
	}
	return 0;
}

static int group(yp *p, const yaml_node_t *g)
{
	const yaml_node_t *t, *l;
	int rc = visit(p, g);
	if (rc < 0)
		return rc;
	if (g->type != YAML_MAPPING_NODE)
		return found(p, g, sd_what_group);
	rc = lookup(p, g, "targets", &t);
	if (rc == 0)
		rc = lookup(p, g, "labels", &l);
	if (rc == 0)
		rc = sd_group_begin(p->b, mark_pos(&g->start_mark));
	if (rc == 0 && t)
		rc = targets(p, t);
	if (rc == 0 && l)
		rc = labels(p, l);
	return rc < 0 ? rc : sd_group_end(p->b);
}

static int document(yp *p, const yaml_node_t *root)
{
	if (!root || tw_walk_is_null(root))
		return 0; /* an empty file: no targets */
	if (root->type != YAML_SEQUENCE_NODE)
		return found(p, root, sd_what_list);
	for (yaml_node_item_t *it = root->data.sequence.items.start; it < root->data.sequence.items.top; it++) {
		int rc = group(p, node(p, *it));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Line and column of a byte offset: reader errors give only the offset. */
static sd_pos offset_pos(const char *data, size_t len, size_t off)
{
	sd_pos at = { 1, 1 };
	for (size_t i = 0; i < off && i < len; i++) {
		if (data[i] == '\n') {
			at.line++;
			at.col = 1;
		} else {
			at.col += ((unsigned char)data[i] & 0xC0) != 0x80;
		}
	}
	return at;
}

static int syntax_error(const yaml_parser_t *ps, const char *data, size_t len, tw_sd_error *err)
{
	if (ps->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (ps->error == YAML_READER_ERROR)
		return sd_fail(err, offset_pos(data, len, ps->problem_offset), "YAML syntax error: %s",
			       ps->problem ? ps->problem : "unreadable input");
	return sd_fail(err, mark_pos(&ps->problem_mark), "YAML syntax error: %s",
		       ps->problem ? ps->problem : "malformed document");
}

/* Loads the one document of the stream into *doc. */
static int load(yaml_parser_t *ps, yaml_document_t *doc, const char *data, size_t len,
		tw_sd_error *err)
{
	if (!yaml_parser_load(ps, doc))
		return syntax_error(ps, data, len, err);
	yaml_document_t extra;
	if (!yaml_parser_load(ps, &extra)) {
		yaml_document_delete(doc);
		return syntax_error(ps, data, len, err);
	}
	int rc = 0;
	if (yaml_document_get_root_node(&extra))
		rc = sd_fail(err, mark_pos(&extra.start_mark), "found a second YAML document, expected "
			     "one document");
	yaml_document_delete(&extra);
	if (rc < 0)
		yaml_document_delete(doc);
	return rc;
}

int tw_sd_parse_yaml(const char *data, size_t len, tw_sd_doc **out, tw_sd_error *err)
{
	int rc = sd_parse_begin(len, out, err);
	if (rc < 0)
		return rc;
	yaml_parser_t ps;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&ps))
		return -ENOMEM;
	yaml_parser_set_input_string(&ps, (const unsigned char *)data, len);
	rc = load(&ps, &doc, data, len, err);
	yaml_parser_delete(&ps);
	if (rc < 0)
		return rc;
	yp p = { &doc, sd_builder_new(err), err, 0 };
	rc = p.b ? document(&p, yaml_document_get_root_node(&doc)) : -ENOMEM;
	if (rc == 0)
		rc = sd_builder_finish(p.b, out);
	sd_builder_free(p.b);
	yaml_document_delete(&doc);
	return rc;
}

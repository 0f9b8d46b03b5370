/*
 * config.c - loading entry points: file reading, libyaml parsing and its
 * syntax errors, the embedded default, freeing, the one-line summary.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "arena.h"
#include "schema.h"
#include "text.h"

static const char default_yaml[] =
	"# The embedded default: reflect on loopback and measure yourself, so a\n"
	"# first run shows live metrics without any configuration.\n"
	"reflector:\n"
	"  listen: [\"127.0.0.1:18620\", \"[::1]:18620\"]\n"
	"  allow: [127.0.0.0/8, \"::1/128\"]\n"
	"  modes: [unauthenticated]\n"
	"targets:\n"
	"  - name: self\n"
	"    host: 127.0.0.1\n"
	"    port: 18620\n"
	"    interval: 100ms\n";

#define DEFAULT_NAME "<embedded default>"

const char *tw_config_default_yaml(void)
{
	return default_yaml;
}

void tw_config_free(tw_config *cfg)
{
	if (cfg)
		tw_arena_free(cfg->mem); /* cfg itself lives in the arena */
}

/* Line and column (0-based) of a byte offset: libyaml's reader errors
 * only give the offset. */
static yaml_mark_t offset_mark(const char *data, size_t len, size_t off)
{
	yaml_mark_t m = { off, 0, 0 };
	for (size_t i = 0; i < off && i < len; i++) {
		if (data[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	return m;
}

static int syntax_error(tw_ld *ld, const yaml_parser_t *p, const char *data, size_t len)
{
	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		yaml_mark_t m = offset_mark(data, len, p->problem_offset);
		if (p->problem_value != -1)
			return tw_ld_fail(ld, &m, "YAML syntax error: %s (octet 0x%02x)", p->problem,
					  (unsigned)p->problem_value & 0xFFu);
		return tw_ld_fail(ld, &m, "YAML syntax error: %s", p->problem);
	}
	const char *problem = p->problem ? p->problem : "malformed document";
	if (p->context)
		return tw_ld_fail(ld, &p->problem_mark, "YAML syntax error: %s (%s at line %zu, column %zu)",
				  problem, p->context, p->context_mark.line + 1,
				  p->context_mark.column + 1);
	return tw_ld_fail(ld, &p->problem_mark, "YAML syntax error: %s", problem);
}

/* A stream must hold exactly one document. */
static int second_document(tw_ld *ld, yaml_parser_t *p, const char *data, size_t len)
{
	yaml_document_t extra;
	if (!yaml_parser_load(p, &extra))
		return syntax_error(ld, p, data, len);
	int rc = 0;
	yaml_node_t *root = yaml_document_get_root_node(&extra);
	if (root)
		rc = tw_ld_fail(ld, &extra.start_mark, "found a second YAML document, expected one "
						   "document per file");
	yaml_document_delete(&extra);
	return rc;
}

static int check_root(tw_ld *ld, const yaml_node_t *root)
{
	yaml_mark_t start = { 0, 0, 0 };
	if (!root || tw_walk_is_null(root))
		return tw_ld_fail(ld, root ? &root->start_mark : &start,
				  "the configuration is empty, expected %s", tw_schema_root.what);
	if (root->type != YAML_MAPPING_NODE)
		return tw_ld_fail_found(ld, root, NULL, tw_schema_root.what);
	return 0;
}

/* Parses the document and walks it into *cfg. */
static int load_document(tw_ld *ld, const char *data, size_t len, tw_config *cfg)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = syntax_error(ld, &parser, data, len);
		goto out_parser;
	}
	ld->doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	rc = check_root(ld, root);
	if (rc == 0)
		rc = second_document(ld, &parser, data, len);
	tw_raw_root *raw = tw_arena_alloc(ld->tmp, sizeof(*raw));
	if (rc == 0 && !raw)
		rc = -ENOMEM;
	if (rc == 0)
		rc = tw_walk_section(ld, &tw_schema_root, root, raw);
	if (rc == 0)
		rc = tw_resolve(ld, raw, cfg);
	yaml_document_delete(&doc);
	ld->doc = NULL;
out_parser:
	yaml_parser_delete(&parser);
	return rc;
}

int tw_config_load_buffer(const char *name, const char *base_dir, const char *data, size_t len,
			  tw_config **out, tw_config_error *err)
{
	tw_ld ld;
	memset(&ld, 0, sizeof(ld));
	ld.err = err;
	if (err)
		memset(err, 0, sizeof(*err));
	*out = NULL;
	int rc = -ENOMEM;
	ld.perm = tw_arena_new();
	ld.tmp = tw_arena_new();
	tw_config *cfg = ld.perm ? tw_arena_alloc(ld.perm, sizeof(*cfg)) : NULL;
	ld.file = ld.perm ? tw_arena_strndup(ld.perm, name, strlen(name)) : NULL;
	if (base_dir && ld.perm)
		ld.base_dir = tw_arena_strndup(ld.perm, base_dir, strlen(base_dir));
	if (!ld.tmp || !cfg || !ld.file || (base_dir && !ld.base_dir))
		goto fail;
	rc = load_document(&ld, data, len, cfg);
	if (rc < 0)
		goto fail;
	cfg->mem = ld.perm;
	tw_arena_free(ld.tmp);
	*out = cfg;
	return 0;
fail:
	if (rc == -ENOMEM && err && !ld.failed)
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
	tw_arena_free(ld.tmp);
	tw_arena_free(ld.perm);
	return rc;
}

static void io_error(tw_config_error *err, const char *path, const char *what, int e)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	snprintf(err->msg, sizeof(err->msg), "%s: %s: %s", path, what, strerror(e));
}

int tw_config_load_file(const char *path, tw_config **out, tw_config_error *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		io_error(err, path, "cannot open", e);
		return -e;
	}
	char *data = NULL;
	size_t len = 0;
	int rc = tw_text_read_fd(fd, TW_CONFIG_MAX_FILE_SIZE, &data, &len);
	close(fd);
	if (rc < 0) {
		io_error(err, path, rc == -EFBIG ? "file too large" : "cannot read", -rc);
		return rc;
	}
	char *dir = tw_text_dirname(path);
	if (dir)
		rc = tw_config_load_buffer(path, dir, data, len, out, err);
	else
		rc = -ENOMEM;
	free(dir);
	free(data);
	return rc;
}

int tw_config_load_default(tw_config **out, tw_config_error *err)
{
	return tw_config_load_buffer(DEFAULT_NAME, NULL, default_yaml, sizeof(default_yaml) - 1, out,
				     err);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int tw_config_summary(const tw_config *cfg, char *buf, size_t cap)
{
	char groups[48] = "", refl[160];
	if (cfg->n_groups)
		snprintf(groups, sizeof(groups), " in %zu %s", cfg->n_groups,
			 plural(cfg->n_groups, "group", "groups"));
	const tw_config_reflector *r = &cfg->reflector;
	if (r->enabled) {
		/* Bit i of the mask is the schema's names[i]. */
		const char *const *names =
			tw_schema_reflector.keys[tw_schema_key_index(&tw_schema_reflector, "modes")].names;
		char modes[80] = "";
		size_t w = 0;
		for (unsigned i = 0; names[i] && w < sizeof(modes); i++)
			if (r->modes & (1u << i))
				w += (size_t)snprintf(modes + w, sizeof(modes) - w, "%s%s", w ? ", " : "",
						      names[i]);
		snprintf(refl, sizeof(refl), "reflector on %zu %s (%s)", r->listen.n,
			 plural(r->listen.n, "address", "addresses"), modes);
	} else {
		snprintf(refl, sizeof(refl), "no reflector");
	}
	return snprintf(buf, cap, "config OK: %zu %s%s, %s", cfg->n_targets,
			plural(cfg->n_targets, "target", "targets"), groups, refl);
}

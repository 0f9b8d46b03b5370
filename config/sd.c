/*
 * sd.c - what both service-discovery parsers share: the document builder
 * with the target, label and limit checks, messages, target splitting, and
 * the choice of parser by file name (see sd.h).
 */
#include "sd_int.h"
#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "arena.h"
#include "config.h"

const char *const sd_what_list =
	"a list of target groups such as [{\"targets\": [\"10.0.0.1:862\"], \"labels\": {\"site\": \"x\"}}]";
const char *const sd_what_group =
	"a target group such as {\"targets\": [\"10.0.0.1:862\"], \"labels\": {\"site\": \"x\"}}";
const char *const sd_what_targets = "a list of targets such as [\"10.0.0.1:862\", \"b.example:862\"]";
const char *const sd_what_target = "a target such as \"10.0.0.1:862\" or \"[2001:db8::1]:862\"";
const char *const sd_what_labels = "a mapping of label names to values such as {\"site\": \"x\"}";
const char *const sd_what_value = "a label value (a string)";

/* A group being built: grows with realloc, copied to the arena at its end. */
typedef struct pending_label {
	tw_sd_label l;
	sd_pos at;
} pending_label;

struct sd_builder {
	tw_sd_error *err;
	tw_arena *mem;
	tw_sd_group *groups;
	size_t n_groups, cap_groups;
	tw_sd_target *targets;
	size_t n_targets, cap_targets; /* of the open group */
	pending_label *labels;
	size_t n_labels, cap_labels;
	size_t total_targets;
	sd_pos group_at;
};

int sd_fail(tw_sd_error *err, sd_pos at, const char *fmt, ...)
{
	if (!err || err->msg[0])
		return -EINVAL;
	int w = 0;
	err->line = at.line;
	err->col = at.col;
	if (at.line)
		w = snprintf(err->msg, sizeof(err->msg), "%u:%u: ", at.line, at.col);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg + w, sizeof(err->msg) - (size_t)w, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int sd_parse_begin(size_t len, tw_sd_doc **out, tw_sd_error *err)
{
	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	if (len > TW_SD_MAX_SIZE) {
		sd_fail(err, (sd_pos){ 0, 0 }, "document of %zu octets, expected at most %d", len,
			TW_SD_MAX_SIZE);
		return -EFBIG;
	}
	return 0;
}

/* Length of the UTF-8 sequence starting at s[0] (n octets available), or
 * 0 when it is malformed. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0; /* overlong */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

size_t sd_utf8_check(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq(s + i, n - i);
		if (l == 0)
			return i;
		i += l;
	}
	return n;
}

/* ---- targets ---- */

int tw_sd_target_split(const char *s, char *host, size_t cap, uint16_t *port)
{
	char h[TW_ADDR_HOST_MAX + 2];
	uint16_t p = 0;
	size_t n = strlen(s);
	if (!strchr(s, ':') || tw_addr_literal_family(s) == AF_INET6) {
		if (!tw_addr_host_valid(s) || n >= cap)
			return -EINVAL;
		memcpy(host, s, n + 1);
		*port = 0;
		return 0;
	}
	if (tw_addr_split(s, h, sizeof(h), &p) < 0 || !h[0] || p == 0 || strlen(h) >= cap)
		return -EINVAL;
	memcpy(host, h, strlen(h) + 1);
	*port = p;
	return 0;
}

/* ---- the builder ---- */

sd_builder *sd_builder_new(tw_sd_error *err)
{
	sd_builder *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->err = err;
	b->mem = tw_arena_new();
	if (!b->mem) {
		free(b);
		return NULL;
	}
	return b;
}

void sd_builder_free(sd_builder *b)
{
	if (!b)
		return;
	tw_arena_free(b->mem);
	free(b->groups);
	free(b->targets);
	free(b->labels);
	free(b);
}

/* Makes room for one more element of size in *v. */
static int grow(void **v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 8;
	void *nv = realloc(*v, nc * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

int sd_group_begin(sd_builder *b, sd_pos at)
{
	b->n_targets = 0;
	b->n_labels = 0;
	b->group_at = at;
	return grow((void **)&b->groups, b->n_groups, &b->cap_groups, sizeof(*b->groups));
}

int sd_target(sd_builder *b, const char *s, size_t n, sd_pos at)
{
	char q[80], host[TW_ADDR_HOST_MAX + 2], text[TW_SD_MAX_TARGET_LEN + 1];
	if (n > TW_SD_MAX_TARGET_LEN)
		return sd_fail(b->err, at, "found a target of %zu octets, expected at most %d", n,
			       TW_SD_MAX_TARGET_LEN);
	if (++b->total_targets > TW_SD_MAX_TARGETS)
		return sd_fail(b->err, at, "found more than %d targets", TW_SD_MAX_TARGETS);
	memcpy(text, s, n);
	text[n] = '\0';
	tw_sd_target t = { 0 };
	if (tw_sd_target_split(text, host, sizeof(host), &t.port) < 0) {
		tw_text_quote(s, n, q, sizeof(q));
		return sd_fail(b->err, at, "found %s, expected a target HOST or HOST:PORT: a host name "
			       "or IP address (IPv6 in brackets when a port follows) and a port from 1 "
			       "to 65535", q);
	}
	t.text = tw_arena_strndup(b->mem, text, n);
	t.host = tw_arena_strndup(b->mem, host, strlen(host));
	if (!t.text || !t.host ||
	    grow((void **)&b->targets, b->n_targets, &b->cap_targets, sizeof(t)) < 0)
		return -ENOMEM;
	b->targets[b->n_targets++] = t;
	return 0;
}

static int check_label_name(sd_builder *b, const char *name, size_t nn, sd_pos at)
{
	char q[80];
	tw_text_quote(name, nn, q, sizeof(q));
	if (!tw_config_label_name_valid(name, nn))
		return sd_fail(b->err, at, "found %s, expected a label name: a letter or '_', then "
			       "letters, digits or '_'", q);
	if (tw_config_label_reserved(name))
		return sd_fail(b->err, at, "found %s, expected a label name the agent does not "
			       "reserve for its own series", q);
	for (size_t i = 0; i < b->n_labels; i++) {
		if (strcmp(b->labels[i].l.name, name) == 0)
			return sd_fail(b->err, at, "duplicate label %s (first at line %u, column %u)", q,
				       b->labels[i].at.line, b->labels[i].at.col);
	}
	if (b->n_labels >= TW_SD_MAX_LABELS)
		return sd_fail(b->err, at, "found more than %d labels in one group", TW_SD_MAX_LABELS);
	return 0;
}

int sd_label(sd_builder *b, const char *name, size_t nn, const char *value, size_t vn, sd_pos at)
{
	if (nn >= 2 && name[0] == '_' && name[1] == '_')
		return 0; /* Prometheus meta labels never reach a series */
	if (vn > TW_SD_MAX_LABEL_VALUE)
		return sd_fail(b->err, at, "found a label value of %zu octets, expected at most %d", vn,
			       TW_SD_MAX_LABEL_VALUE);
	if (nn > TW_SD_MAX_LABEL_NAME)
		return sd_fail(b->err, at, "found a label name of %zu octets, expected at most %d", nn,
			       TW_SD_MAX_LABEL_NAME);
	char nbuf[TW_SD_MAX_LABEL_NAME + 1];
	memcpy(nbuf, name, nn);
	nbuf[nn] = '\0';
	int rc = check_label_name(b, nbuf, nn, at);
	if (rc < 0)
		return rc;
	pending_label p = { { tw_arena_strndup(b->mem, name, nn),
			      tw_arena_strndup(b->mem, value ? value : "", value ? vn : 0) }, at };
	if (!p.l.name || !p.l.value ||
	    grow((void **)&b->labels, b->n_labels, &b->cap_labels, sizeof(p)) < 0)
		return -ENOMEM;
	b->labels[b->n_labels++] = p;
	return 0;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const tw_sd_label *)a)->name, ((const tw_sd_label *)b)->name);
}

int sd_group_end(sd_builder *b)
{
	tw_sd_group *g = &b->groups[b->n_groups];
	tw_sd_target *t = tw_arena_array(b->mem, b->n_targets, sizeof(*t));
	tw_sd_label *l = tw_arena_array(b->mem, b->n_labels, sizeof(*l));
	if (!t || !l)
		return -ENOMEM;
	if (b->n_targets)
		memcpy(t, b->targets, b->n_targets * sizeof(*t));
	for (size_t i = 0; i < b->n_labels; i++)
		l[i] = b->labels[i].l;
	qsort(l, b->n_labels, sizeof(*l), cmp_label);
	*g = (tw_sd_group){ t, b->n_targets, l, b->n_labels, b->group_at.line, b->group_at.col };
	b->n_groups++;
	return 0;
}

int sd_builder_finish(sd_builder *b, tw_sd_doc **out)
{
	tw_sd_doc *d = tw_arena_alloc(b->mem, sizeof(*d));
	tw_sd_group *g = tw_arena_array(b->mem, b->n_groups, sizeof(*g));
	if (!d || !g)
		return -ENOMEM;
	if (b->n_groups)
		memcpy(g, b->groups, b->n_groups * sizeof(*g));
	*d = (tw_sd_doc){ g, b->n_groups, b->total_targets, b->mem };
	b->mem = NULL;
	*out = d;
	return 0;
}

void tw_sd_doc_free(tw_sd_doc *doc)
{
	if (doc)
		tw_arena_free(doc->mem); /* doc itself lives in the arena */
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int tw_sd_parse_named(const char *name, const char *data, size_t len, tw_sd_doc **out,
		      tw_sd_error *err)
{
	if (has_suffix(name, ".json"))
		return tw_sd_parse_json(data, len, out, err);
	if (has_suffix(name, ".yml") || has_suffix(name, ".yaml"))
		return tw_sd_parse_yaml(data, len, out, err);
	sd_parse_begin(0, out, err);
	return sd_fail(err, (sd_pos){ 0, 0 }, "unknown format: the name must end in .json, .yml or .yaml");
}

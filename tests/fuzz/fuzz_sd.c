/*
 * fuzz_sd.c - arbitrary bytes as a service-discovery document: the first
 * octet picks the parser ('y' YAML, anything else JSON), the rest is the
 * document. A parse must give a document or a positioned error, never
 * crash or leak; every parsed document is read end to end and its
 * invariants checked (targets split back to their host and port, labels
 * sorted, unique, not meta labels).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_group(const tw_sd_group *g)
{
	for (size_t i = 0; i < g->n_targets; i++) {
		char host[300];
		uint16_t port;
		const tw_sd_target *t = &g->targets[i];
		if (tw_sd_target_split(t->text, host, sizeof(host), &port) != 0 ||
		    strcmp(host, t->host) != 0 || port != t->port)
			abort();
	}
	for (size_t i = 0; i < g->n_labels; i++) {
		const tw_sd_label *l = &g->labels[i];
		if (!l->name[0] || strncmp(l->name, "__", 2) == 0 || strlen(l->value) > TW_SD_MAX_LABEL_VALUE)
			abort();
		if (i > 0 && strcmp(g->labels[i - 1].name, l->name) >= 0)
			abort();
	}
	if (g->line == 0 || g->col == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *doc = (const char *)data + 1;
	size_t len = size - 1;
	tw_sd_doc *d = NULL;
	tw_sd_error err;
	int rc = data[0] == 'y' ? tw_sd_parse_yaml(doc, len, &d, &err) : tw_sd_parse_json(doc, len, &d, &err);
	if (rc == 0) {
		size_t n = 0;
		for (size_t i = 0; i < d->n_groups; i++) {
			check_group(&d->groups[i]);
			n += d->groups[i].n_targets;
		}
		if (n != d->n_targets || n > TW_SD_MAX_TARGETS)
			abort();
		tw_sd_doc_free(d);
	} else if (d || rc != -22 || !err.msg[0]) {
		abort();
	}
	if (len < 300) {
		char s[300], host[300];
		uint16_t port;
		memcpy(s, doc, len);
		s[len] = '\0';
		if (tw_sd_target_split(s, host, sizeof(host), &port) == 0 && !host[0])
			abort();
	}
	return 0;
}

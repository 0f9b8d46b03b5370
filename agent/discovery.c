/*
 * discovery.c - the core of target discovery (see discovery.h): refresh
 * scheduling, turning a source's candidates into the sorted target list
 * (labels merged, this host and duplicates dropped), change detection,
 * counters; and the DNS source, small enough to live here.
 */
#include "discovery_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"

#define JITTER_DIV 10 /* up to +10 % of the refresh interval */

const char *tw_discovery_source_name(tw_config_discovery_kind k)
{
	switch (k) {
	case TW_CONFIG_DISCOVERY_DNS: return "dns";
	case TW_CONFIG_DISCOVERY_FILE_SD: return "file_sd";
	case TW_CONFIG_DISCOVERY_HTTP_SD: return "http_sd";
	}
	return "unknown";
}

const char *disc_group_name(const tw_discovery *d)
{
	return d->g->name;
}

/* ---- candidates ---- */

/* free() for the const pointers of the public structs, which this module
 * allocated. */
static void free_const(const void *p)
{
	void *q;
	memcpy(&q, &p, sizeof(q));
	free(q);
}

static void cand_free(disc_cand *c)
{
	free(c->name);
	free(c->host);
	for (size_t i = 0; i < c->n_labels; i++) {
		free_const(c->labels[i].name);
		free_const(c->labels[i].value);
	}
	free(c->labels);
}

void disc_cands_clear(disc_cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		cand_free(&c->v[i]);
	free(c->v);
	*c = (disc_cands){ 0 };
}

static int copy_labels(const tw_sd_label *l, size_t n, tw_sd_label **out)
{
	*out = NULL;
	if (n == 0)
		return 0;
	tw_sd_label *v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*out = v;
	for (size_t i = 0; i < n; i++) {
		v[i].name = strdup(l[i].name);
		v[i].value = strdup(l[i].value);
		if (!v[i].name || !v[i].value)
			return -ENOMEM; /* the caller frees what was copied */
	}
	return 0;
}

void disc_cands_add(disc_cands *c, const char *name, const char *host, uint16_t port,
		    const tw_sd_label *labels, size_t n_labels)
{
	if (c->err)
		return;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		disc_cand *nv = realloc(c->v, nc * sizeof(*nv));
		if (!nv) {
			c->err = -ENOMEM;
			return;
		}
		c->v = nv;
		c->cap = nc;
	}
	disc_cand *e = &c->v[c->n];
	*e = (disc_cand){ strdup(name), strdup(host), port, NULL, n_labels };
	int rc = copy_labels(labels, n_labels, &e->labels);
	if (rc < 0 || !e->name || !e->host) {
		if (!e->labels)
			e->n_labels = 0;
		cand_free(e);
		c->err = -ENOMEM;
		return;
	}
	c->n++;
}

void disc_cands_add_doc(disc_cands *c, const tw_sd_doc *doc)
{
	for (size_t i = 0; i < doc->n_groups; i++) {
		const tw_sd_group *g = &doc->groups[i];
		for (size_t j = 0; j < g->n_targets; j++)
			disc_cands_add(c, g->targets[j].text, g->targets[j].host, g->targets[j].port, g->labels,
				       g->n_labels);
	}
}

/* ---- self ---- */

int disc_self_load(disc_self *s, bool ignore_env, const char *pod_ip, const char *node_name)
{
	memset(s, 0, sizeof(*s));
	const char *pip = pod_ip ? pod_ip : ignore_env ? NULL : getenv("POD_IP");
	const char *node = node_name ? node_name : ignore_env ? NULL : getenv("NODE_NAME");
	const char *host = ignore_env ? NULL : getenv("HOSTNAME");
	if (pip && tw_sa_from_numeric(pip, 0, &s->pod_ip) < 0)
		memset(&s->pod_ip, 0, sizeof(s->pod_ip));
	snprintf(s->node_name, sizeof(s->node_name), "%s", node ? node : "");
	snprintf(s->hostname, sizeof(s->hostname), "%s", host ? host : "");
	struct ifaddrs *ifa;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	size_t n = 0;
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next)
		n++;
	s->addrs = calloc(n ? n : 1, sizeof(*s->addrs));
	for (struct ifaddrs *p = ifa; p && s->addrs; p = p->ifa_next) {
		if (!p->ifa_addr || (p->ifa_addr->sa_family != AF_INET && p->ifa_addr->sa_family != AF_INET6))
			continue;
		tw_sockaddr *a = &s->addrs[s->n++];
		a->len = p->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
							     sizeof(struct sockaddr_in6);
		memcpy(&a->ss, p->ifa_addr, a->len);
	}
	freeifaddrs(ifa);
	return s->addrs ? 0 : -ENOMEM;
}

void disc_self_free(disc_self *s)
{
	free(s->addrs);
	s->addrs = NULL;
	s->n = 0;
}

/* Address bytes of a (4 or 16), ignoring port and IPv6 scope. */
static size_t addr_bytes(const tw_sockaddr *a, const uint8_t **out)
{
	if (tw_sa_family(a) == AF_INET) {
		*out = (const uint8_t *)&((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr;
		return 4;
	}
	if (tw_sa_family(a) == AF_INET6) {
		*out = ((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr.s6_addr;
		return 16;
	}
	return 0;
}

static bool same_addr(const tw_sockaddr *a, const tw_sockaddr *b)
{
	const uint8_t *x, *y;
	size_t n = addr_bytes(a, &x);
	return n && n == addr_bytes(b, &y) && memcmp(x, y, n) == 0;
}

static bool is_loopback(const tw_sockaddr *a)
{
	static const uint8_t v6_loop[16] = { [15] = 1 };
	const uint8_t *x;
	size_t n = addr_bytes(a, &x);
	return (n == 4 && x[0] == 127) || (n == 16 && memcmp(x, v6_loop, 16) == 0);
}

bool disc_self_match(const disc_self *s, const char *name, const char *host)
{
	const char *names[] = { s->node_name, s->hostname };
	for (size_t i = 0; i < 2; i++) {
		if (names[i][0] && (strcasecmp(names[i], name) == 0 || strcasecmp(names[i], host) == 0))
			return true;
	}
	tw_sockaddr a;
	if (tw_sa_from_numeric(host, 0, &a) < 0)
		return false;
	tw_sa_unmap(&a);
	if (is_loopback(&a) || same_addr(&a, &s->pod_ip))
		return true;
	for (size_t i = 0; i < s->n; i++)
		if (same_addr(&a, &s->addrs[i]))
			return true;
	return false;
}

/* ---- the list ---- */

static void entry_free(tw_discovered *e)
{
	free_const(e->name);
	free_const(e->host);
	for (size_t i = 0; i < e->labels.n; i++) {
		free_const(e->labels.v[i].name);
		free_const(e->labels.v[i].value);
	}
	free_const(e->labels.v);
}

static void list_free(tw_discovered *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		entry_free(&v[i]);
	free(v);
}

/* Group labels with the candidate's over them; "" values remove. */
static int merge_labels(const tw_config_labels *g, const disc_cand *c, tw_config_labels *out)
{
	tw_config_label *v = calloc(g->n + c->n_labels + 1, sizeof(*v));
	size_t i = 0, j = 0, w = 0;
	if (!v)
		return -ENOMEM;
	out->v = v;
	while (i < g->n || j < c->n_labels) {
		int cmp = i == g->n ? 1 : j == c->n_labels ? -1 : strcmp(g->v[i].name, c->labels[j].name);
		const char *name = cmp < 0 ? g->v[i].name : c->labels[j].name;
		const char *value = cmp < 0 ? g->v[i].value : c->labels[j].value;
		i += cmp <= 0;
		j += cmp >= 0;
		if (!value[0])
			continue;
		v[w].name = strdup(name);
		v[w].value = strdup(value);
		out->n = ++w;
		if (!v[w - 1].name || !v[w - 1].value)
			return -ENOMEM;
	}
	return 0;
}

/* A literal of a family the group's settings cannot use. */
static bool family_conflict(const tw_config_settings *s, const char *host)
{
	int fam = tw_addr_literal_family(host);
	int want = s->ip_version == TW_CONFIG_IP_V4 ? AF_INET : s->ip_version == TW_CONFIG_IP_V6 ? AF_INET6 : 0;
	int src = s->source_address ? tw_addr_literal_family(s->source_address) : 0;
	return fam && ((want && fam != want) || (src && fam != src));
}

static uint16_t default_port(const tw_discovery *d)
{
	const tw_config_discovery *cd = d->g->discovery;
	if (cd->kind == TW_CONFIG_DISCOVERY_DNS && cd->dns_port)
		return cd->dns_port;
	return d->g->s.port;
}

static void fill_target(const tw_discovery *d, tw_discovered *e)
{
	e->target = (tw_config_target){ .name = e->name, .host = e->host, .group = d->g->name,
		.s = d->g->s, .loc = d->g->discovery->loc };
	e->target.s.port = e->port;
	e->target.s.labels = e->labels;
}

static int cmp_entry(const void *pa, const void *pb)
{
	const tw_discovered *a = pa, *b = pb;
	int c = tw_config_target_identity_cmp(&a->target, &b->target);
	if (!c)
		c = strcmp(a->host, b->host);
	return c ? c : a->port < b->port ? -1 : a->port > b->port;
}

/* Sorts v and drops entries whose identity repeats an earlier one. */
static size_t sort_unique(const tw_discovery *d, tw_discovered *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fill_target(d, &v[i]);
	qsort(v, n, sizeof(*v), cmp_entry);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w > 0 && tw_config_target_identity_cmp(&v[w - 1].target, &v[i].target) == 0) {
			entry_free(&v[i]);
			continue;
		}
		v[w++] = v[i];
	}
	for (size_t i = 0; i < w; i++)
		fill_target(d, &v[i]); /* the moves above invalidated the pointers */
	return w;
}

static int build_list(tw_discovery *d, const disc_cands *c, tw_discovered **out, size_t *nout,
		      size_t *excluded)
{
	disc_self self;
	int rc = 0;
	bool check_self = d->g->exclude_self;
	if (check_self && disc_self_load(&self, d->opts.ignore_env, d->opts.pod_ip, d->opts.node_name) < 0)
		tw_warn("cannot list this host's addresses", "group=%s", disc_group_name(d));
	tw_discovered *v = calloc(c->n ? c->n : 1, sizeof(*v));
	size_t n = 0;
	*excluded = 0;
	for (size_t i = 0; v && rc == 0 && i < c->n; i++) {
		const disc_cand *k = &c->v[i];
		if (check_self && disc_self_match(&self, k->name, k->host)) {
			(*excluded)++;
			continue;
		}
		if (family_conflict(&d->g->s, k->host))
			continue;
		tw_discovered *e = &v[n++];
		e->name = strdup(k->name);
		e->host = strdup(k->host);
		e->port = k->port ? k->port : default_port(d);
		rc = merge_labels(&d->g->s.labels, k, &e->labels);
		if (rc == 0 && (!e->name || !e->host))
			rc = -ENOMEM;
	}
	if (check_self)
		disc_self_free(&self);
	if (!v || rc < 0) {
		list_free(v, n);
		return -ENOMEM;
	}
	*nout = sort_unique(d, v, n);
	*out = v;
	return 0;
}

static bool labels_equal(const tw_config_labels *a, const tw_config_labels *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) || strcmp(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

static bool lists_equal(const tw_discovered *a, size_t na, const tw_discovered *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (strcmp(a[i].name, b[i].name) || strcmp(a[i].host, b[i].host) || a[i].port != b[i].port ||
		    !labels_equal(&a[i].labels, &b[i].labels))
			return false;
	}
	return true;
}

static void failed(tw_discovery *d, const char *error)
{
	char q[300];
	d->st.refreshes_failed++;
	snprintf(d->st.last_error, sizeof(d->st.last_error), "%s", error);
	tw_warn("discovery refresh failed, keeping the last good targets", "group=%s source=%s targets=%zu error=%s",
		disc_group_name(d), tw_discovery_source_name(d->g->discovery->kind), d->n,
		tw_log_quote(q, sizeof(q), error));
}

void disc_result(tw_discovery *d, disc_cands *cands, const char *error)
{
	tw_discovered *v = NULL;
	size_t n = 0, excluded = 0;
	if (cands && (cands->err || build_list(d, cands, &v, &n, &excluded) < 0)) {
		failed(d, "out of memory");
		disc_cands_clear(cands);
		return;
	}
	if (error)
		failed(d, error);
	if (!cands)
		return;
	if (!error) {
		d->st.refreshes_ok++;
		d->st.last_error[0] = '\0';
		d->st.last_success_real_ns = tw_loop_real(d->loop);
	}
	disc_cands_clear(&d->last);
	d->last = *cands;
	*cands = (disc_cands){ 0 };
	d->st.excluded_self = excluded;
	if (lists_equal(d->list, d->n, v, n)) {
		list_free(v, n);
		return;
	}
	tw_info("discovered targets changed", "group=%s source=%s targets=%zu before=%zu excluded_self=%zu",
		disc_group_name(d), tw_discovery_source_name(d->g->discovery->kind), n, d->n, excluded);
	tw_discovered *old = d->list;
	size_t nold = d->n;
	d->list = v;
	d->n = n;
	d->on_update(d->arg, v, n);
	list_free(old, nold);
}

/* ---- DNS ---- */

const char *disc_dns_error_text(int err)
{
	switch (err) {
	case -ENOENT: return "no such name, or no address";
	case -ETIMEDOUT: return "no DNS server answered";
	case -EIO: return "the DNS servers failed (SERVFAIL, REFUSED or bad answers)";
	default: return strerror(-err);
	}
}

static void dns_done(void *arg, int err, const tw_sockaddr *addrs, size_t n, uint32_t ttl)
{
	tw_discovery *d = arg;
	(void)ttl;
	d->dns_req = NULL;
	if (err < 0) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s: %s", d->g->discovery->dns_name, disc_dns_error_text(err));
		disc_result(d, NULL, msg);
		return;
	}
	disc_cands c = { 0 };
	for (size_t i = 0; i < n; i++) {
		char host[64];
		tw_sa_format_host(&addrs[i], host, sizeof(host));
		disc_cands_add(&c, host, host, 0, NULL, 0);
	}
	disc_result(d, &c, NULL);
}

static int dns_init(tw_discovery *d)
{
	(void)d;
	return 0;
}

static void dns_refresh(tw_discovery *d)
{
	static const int fam[] = { [TW_CONFIG_IP_ANY] = AF_UNSPEC, [TW_CONFIG_IP_V4] = AF_INET,
		[TW_CONFIG_IP_V6] = AF_INET6 };
	if (d->dns_req)
		return; /* the previous query is still out: its answer will do */
	int rc = tw_resolver_query(d->resolver, d->g->discovery->dns_name, fam[d->g->s.ip_version],
				   dns_done, d, &d->dns_req);
	if (rc < 0) {
		char msg[300];
		d->dns_req = NULL;
		snprintf(msg, sizeof(msg), "%s: cannot query: %s", d->g->discovery->dns_name, strerror(-rc));
		disc_result(d, NULL, msg);
	}
}

static void dns_fini(tw_discovery *d)
{
	tw_resolver_cancel(d->resolver, d->dns_req);
	d->dns_req = NULL;
}

static const disc_ops dns_ops = { dns_init, dns_refresh, dns_fini };

/* ---- scheduling ---- */

static int64_t next_delay(tw_discovery *d)
{
	int64_t r = d->g->discovery->refresh_ns;
	if (d->opts.no_jitter || r < JITTER_DIV)
		return r;
	return r + (int64_t)(tw_prng_next(&d->prng) % (uint64_t)(r / JITTER_DIV));
}

static void on_tick(void *arg)
{
	tw_discovery *d = arg;
	tw_timer_in(d->loop, &d->tick, next_delay(d));
	d->ops->refresh(d);
}

void tw_discovery_refresh_now(tw_discovery *d)
{
	tw_timer_stop(d->loop, &d->tick);
	tw_timer_in(d->loop, &d->soon, 0);
}

static const disc_ops *ops_for(tw_config_discovery_kind k)
{
	switch (k) {
	case TW_CONFIG_DISCOVERY_DNS: return &dns_ops;
	case TW_CONFIG_DISCOVERY_FILE_SD: return &disc_file_ops;
	case TW_CONFIG_DISCOVERY_HTTP_SD: return &disc_http_ops;
	}
	return NULL;
}

tw_discovery *tw_discovery_new(tw_loop *loop, tw_resolver *resolver, const tw_config_group *g,
			       const tw_discovery_opts *opts, tw_discovery_update_fn on_update,
			       void *arg, int *err)
{
	const disc_ops *ops = g && g->discovery ? ops_for(g->discovery->kind) : NULL;
	if (!ops || !on_update) {
		*err = -EINVAL;
		return NULL;
	}
	tw_discovery *d = calloc(1, sizeof(*d));
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	*d = (tw_discovery){ .loop = loop, .resolver = resolver, .g = g, .on_update = on_update,
		.arg = arg, .ops = ops };
	if (opts)
		d->opts = *opts;
	tw_prng_seed(&d->prng, 0);
	tw_timer_init(&d->tick, on_tick, d);
	tw_timer_init(&d->soon, on_tick, d); /* the same work, out of schedule */
	int rc = ops->init(d);
	if (rc == 0)
		rc = tw_timer_in(loop, &d->soon, 0);
	if (rc < 0) {
		tw_discovery_free(d);
		*err = rc;
		return NULL;
	}
	return d;
}

void tw_discovery_free(tw_discovery *d)
{
	if (!d)
		return;
	d->ops->fini(d);
	tw_timer_stop(d->loop, &d->tick);
	tw_timer_stop(d->loop, &d->soon);
	disc_cands_clear(&d->last);
	list_free(d->list, d->n);
	list_free(d->stale, d->nstale);
	free(d);
}

void tw_discovery_release(tw_discovery *d)
{
	list_free(d->stale, d->nstale);
	d->stale = NULL;
	d->nstale = 0;
}

/* ---- reload ---- */

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_source(const tw_config_discovery *a, const tw_config_discovery *b)
{
	if (a->kind != b->kind || a->refresh_ns != b->refresh_ns || a->dns_port != b->dns_port ||
	    !str_eq(a->dns_name, b->dns_name) || !str_eq(a->url, b->url) || a->timeout_ns != b->timeout_ns ||
	    !str_eq(a->tls_ca_file, b->tls_ca_file) || !str_eq(a->bearer_token_file, b->bearer_token_file) ||
	    a->files.n != b->files.n)
		return false;
	for (size_t i = 0; i < a->files.n; i++)
		if (strcmp(a->files.v[i], b->files.v[i]) != 0)
			return false;
	return true;
}

int tw_discovery_reconfigure(tw_discovery *d, const tw_config_group *g)
{
	if (!g || !g->discovery || strcmp(g->name, d->g->name) != 0 ||
	    !same_source(g->discovery, d->g->discovery))
		return -EINVAL;
	const tw_config_group *old = d->g;
	tw_discovered *v = NULL;
	size_t n = 0, excluded = 0;
	d->g = g;
	if (build_list(d, &d->last, &v, &n, &excluded) < 0) {
		d->g = old;
		return -ENOMEM;
	}
	/* The old entries stay valid (probes point at them) until released. */
	tw_discovery_release(d);
	d->stale = d->list;
	d->nstale = d->n;
	d->list = v;
	d->n = n;
	d->st.excluded_self = excluded;
	return 0;
}

const tw_discovered *tw_discovery_targets(const tw_discovery *d, size_t *n)
{
	*n = d->n;
	return d->list;
}

const tw_config_group *tw_discovery_group(const tw_discovery *d)
{
	return d->g;
}

tw_discovery_stats tw_discovery_get_stats(const tw_discovery *d)
{
	tw_discovery_stats st = d->st;
	st.targets = d->n; /* the list's length, not kept twice */
	return st;
}

/* agent.c - the long-running agent: start-up, reload, shutdown (see agent.h). */
#include "agent_int.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "args.h"
#include "log.h"
#include "net.h"
#include "notify.h"

#define CLOCK_REFRESH_NS 1000000000LL
#define DNS_REFRESH_DEFAULT_NS (300LL * 1000000000LL)

/* ---- key files ---- */

static void keys_free(tw_keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].path);
		tw_keystore_free(k->v[i].ks);
	}
	free(k->v);
	*k = (tw_keys){ 0 };
}

/* The store of path: the one already loaded, else read now. */
static int keys_get(tw_keys *k, const char *path, const tw_keystore **out, char *err, size_t errcap)
{
	for (size_t i = 0; i < k->n; i++) {
		if (strcmp(k->v[i].path, path) == 0) {
			*out = k->v[i].ks;
			return 0;
		}
	}
	tw_keyfile *f = &k->v[k->n++];
	f->path = strdup(path);
	int rc = f->path ? tw_keystore_load(path, &f->ks, err, errcap) : -ENOMEM;
	*out = f->ks;
	return rc;
}

/* A target whose identity is not in its key file could never
 * authenticate (and with security auto would quietly measure
 * unauthenticated): reject the configuration instead. */
static int check_identities(const tw_config *cfg, const tw_keys *k, char *err, size_t errcap)
{
	for (size_t i = 0; i < cfg->n_targets; i++) {
		const tw_config_target *t = &cfg->targets[i];
		const uint8_t *secret;
		size_t len;
		if (!t->s.identity || !t->s.key_file || t->s.security == TW_CONFIG_SECURITY_UNAUTHENTICATED)
			continue;
		for (size_t j = 0; j < k->n; j++) {
			if (strcmp(k->v[j].path, t->s.key_file) != 0 ||
			    tw_keystore_lookup(k->v[j].ks, t->s.identity, &secret, &len))
				continue;
			snprintf(err, errcap, "target '%s' (line %u, column %u): identity '%s' not found in %s", t->name,
				 t->loc.line, t->loc.col, t->s.identity, t->s.key_file);
			return -ENOENT;
		}
	}
	return 0;
}

/* Loads the reflector's key file and every distinct one the targets name,
 * so a missing or world-readable file (or an identity it lacks) rejects
 * the configuration at load time. */
static int load_keys(const tw_config *cfg, tw_keys *out, char *err, size_t errcap)
{
	tw_keys k = { .v = calloc(cfg->n_targets + 1, sizeof(*k.v)) };
	const tw_keystore *ks;
	int rc = k.v ? 0 : -ENOMEM;
	if (rc == 0 && cfg->reflector.enabled && cfg->reflector.key_file)
		rc = keys_get(&k, cfg->reflector.key_file, &k.refl, err, errcap);
	for (size_t i = 0; i < cfg->n_targets && rc == 0; i++)
		if (cfg->targets[i].s.key_file)
			rc = keys_get(&k, cfg->targets[i].s.key_file, &ks, err, errcap);
	if (rc == 0)
		rc = check_identities(cfg, &k, err, errcap);
	if (rc < 0)
		keys_free(&k);
	*out = k;
	return rc;
}

static const uint8_t *target_secret(void *arg, const char *key_file, const char *identity, size_t *len, char *err,
				    size_t errcap)
{
	tw_agent *a = arg;
	const uint8_t *secret = NULL;
	for (size_t i = 0; i < a->keys.n; i++) {
		if (strcmp(a->keys.v[i].path, key_file) != 0)
			continue;
		if (tw_keystore_lookup(a->keys.v[i].ks, identity, &secret, len))
			return secret;
		snprintf(err, errcap, "identity '%s' not found in %s", identity, key_file);
		return NULL;
	}
	snprintf(err, errcap, "key file %s is not loaded", key_file);
	return NULL;
}

/* ---- reflector ---- */

static bool allow_cb(void *arg, const tw_sockaddr *peer)
{
	tw_agent *a = arg;
	const tw_config_cidrs *allow = &a->cfg->reflector.allow;
	return tw_addr_allowed(allow->v, allow->n, (const struct sockaddr *)&peer->ss);
}

static const uint8_t *reflector_secret(void *arg, const char *identity, size_t *len)
{
	tw_agent *a = arg;
	const uint8_t *secret = NULL;
	return a->keys.refl && tw_keystore_lookup(a->keys.refl, identity, &secret, len) ? secret : NULL;
}

/* Listen addresses: "" is every IPv4 and IPv6 address; names are
 * resolved here (start-up and reload only). */
static int listen_addrs(const tw_config_hostports *l, tw_sockaddr **out, size_t *n, char *err, size_t errcap)
{
	tw_sockaddr *v = calloc(2 * l->n + 1, sizeof(*v));
	size_t k = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const tw_config_hostport *hp = &l->v[i];
		int gai = 0;
		if (!hp->host[0]) {
			tw_sa_from_numeric("0.0.0.0", hp->port, &v[k++]);
			tw_sa_from_numeric("::", hp->port, &v[k++]);
		} else if (tw_sa_from_numeric(hp->host, hp->port, &v[k]) == 0 ||
			   tw_net_resolve(hp->host, hp->port, AF_UNSPEC, &v[k], &gai) == 0) {
			k++;
		} else {
			snprintf(err, errcap, "reflector.listen: cannot resolve '%s': %s", hp->host, gai_strerror(gai));
			free(v);
			return -ENOENT;
		}
	}
	*out = v;
	*n = k;
	return 0;
}

static void server_params(tw_agent *a, const tw_config_reflector *r, tw_server_params *p)
{
	*p = (tw_server_params){
		.modes = r->modes,
		.features = tw_features_to_modes(r->features),
		.reflect_to_source = r->reflect_to_source,
		.max_connections = r->max_control_connections,
		.max_sessions = r->max_sessions_per_connection,
		.servwait_ns = (uint64_t)r->servwait_ns,
		.refwait_ns = (uint64_t)r->refwait_ns,
		.kdf_count = r->pbkdf2_count,
		.port_min = r->test_ports.min,
		.port_max = r->test_ports.max,
		.allow = allow_cb,
		.allow_arg = a,
		.secret = reflector_secret,
		.secret_arg = a,
	};
}

static void observe_refl_processing(void *arg, int64_t ns)
{
	tw_agent *a = arg;
	tw_hist_observe(tw_metrics_agent(a->metrics)->refl_proc, ns);
}

tw_server_stats tw_agent_server_totals(const tw_agent *a)
{
	tw_server_stats t = a->refl_base;
	if (!a->server)
		return t;
	const tw_server_stats *st = tw_server_stats_get(a->server);
	t.connections += st->connections;
	t.active_connections = st->active_connections;
	t.sessions_accepted += st->sessions_accepted;
	t.refl.received += st->refl.received;
	t.refl.reflected += st->refl.reflected;
	t.refl.sessions = st->refl.sessions;
	for (int i = 0; i < TW_REJECT_COUNT; i++)
		t.rejections[i] += st->rejections[i];
	for (int i = 0; i < TW_REFL_DROP_COUNT; i++)
		t.refl.dropped[i] += st->refl.dropped[i];
	return t;
}

/* Keeps a stopped server's counters, so the exported ones never go back. */
static void retire_server(tw_agent *a)
{
	if (!a->server)
		return;
	a->refl_base = tw_agent_server_totals(a);
	a->refl_base.active_connections = 0; /* gauges: nothing of it stays open */
	a->refl_base.refl.sessions = 0;
	tw_server_free(a->server);
	a->server = NULL;
}

/* Starts, reconfigures or stops the server for r. */
static int apply_reflector(tw_agent *a, const tw_config_reflector *r, char *err, size_t errcap)
{
	if (!r->enabled) {
		retire_server(a);
		return 0;
	}
	tw_server_params p;
	server_params(a, r, &p);
	tw_sockaddr *addrs;
	int rc = listen_addrs(&r->listen, &addrs, &p.nlisten, err, errcap);
	if (rc < 0)
		return rc;
	p.listen = addrs;
	if (a->server) {
		rc = tw_server_reconfigure(a->server, &p, err, errcap);
	} else if ((a->server = tw_server_new(a->loop, &p, err, errcap)) != NULL) {
		tw_server_stats_mut(a->server)->refl.observe_processing = observe_refl_processing;
		tw_server_stats_mut(a->server)->refl.observe_arg = a;
	} else {
		rc = -EADDRINUSE;
	}
	free(addrs);
	return rc;
}

/* ---- TWAMP Light and STAMP reflectors ---- */

static bool same_hostports(const tw_config_hostports *a, const tw_config_hostports *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].port != b->v[i].port || strcmp(a->v[i].host, b->v[i].host) != 0)
			return false;
	return true;
}

static bool same_udp(const tw_config_udp_reflector *a, const tw_config_udp_reflector *b)
{
	return a->enabled == b->enabled && same_hostports(&a->listen, &b->listen) && a->stateless == b->stateless &&
	       a->max_senders == b->max_senders && a->sender_idle_ns == b->sender_idle_ns &&
	       a->security == b->security && a->copy_dscp == b->copy_dscp && a->reply_dscp == b->reply_dscp &&
	       a->allow_cos_dscp == b->allow_cos_dscp && (a->identity == NULL) == (b->identity == NULL) &&
	       (!a->identity || strcmp(a->identity, b->identity) == 0);
}

/* The key of a keyed Light/STAMP reflector: TWAMP Light needs 48 octets
 * (AES-128 key || HMAC key), STAMP takes the secret as its HMAC key. */
static int udp_keys(const tw_config_udp_reflector *u, const tw_keystore *ks, tw_light_params *p, char *err,
		    size_t errcap)
{
	const uint8_t *secret = NULL;
	size_t len = 0;
	if (u->security != TW_CONFIG_SECURITY_AUTHENTICATED && u->security != TW_CONFIG_SECURITY_ENCRYPTED)
		return 0;
	if (!ks || !tw_keystore_lookup(ks, u->identity, &secret, &len)) {
		snprintf(err, errcap, "reflector: identity '%s' not found in reflector.key_file", u->identity);
		return -ENOENT;
	}
	p->sec = u->security == TW_CONFIG_SECURITY_ENCRYPTED ? TW_TEST_ENC : TW_TEST_AUTH;
	if (p->proto == TW_LIGHT_STAMP) {
		p->hmac_key = secret;
		p->hmac_key_len = len;
	} else if (len == TW_AES_KEY_LEN + TW_HMAC_KEY_LEN) {
		p->aes_key = secret;
		p->hmac_key = secret + TW_AES_KEY_LEN;
		p->hmac_key_len = TW_HMAC_KEY_LEN;
	} else {
		snprintf(err, errcap, "reflector.light: the secret of '%s' must be 48 octets (AES-128 key || HMAC key)",
			 u->identity);
		return -EINVAL;
	}
	return 0;
}

static tw_light *start_udp(tw_agent *a, int i, const tw_config_udp_reflector *u, const tw_keystore *ks, char *err,
			   size_t errcap)
{
	tw_light_params p = {
		.proto = i ? TW_LIGHT_STAMP : TW_LIGHT_TWAMP,
		.stateless = u->stateless,
		.max_senders = u->max_senders,
		.sender_idle_ns = u->sender_idle_ns,
		.reply_dscp = u->copy_dscp ? -1 : u->reply_dscp,
		.allow_cos_dscp = u->allow_cos_dscp,
		.allow = allow_cb,
		.allow_arg = a,
		.errest = &a->errest,
		.stats = &a->udp_stats[i],
	};
	a->udp_stats[i].observe_processing = observe_refl_processing;
	a->udp_stats[i].observe_arg = a;
	tw_sockaddr *addrs = NULL;
	tw_light *l = NULL;
	if (udp_keys(u, ks, &p, err, errcap) == 0 && listen_addrs(&u->listen, &addrs, &p.nlisten, err, errcap) == 0) {
		p.listen = addrs;
		l = tw_light_new(a->loop, &p, err, errcap);
	}
	free(addrs);
	return l;
}

static const tw_config_udp_reflector *udp_of(const tw_config_reflector *r, int i)
{
	return i ? &r->stamp : &r->light;
}

/* Restarts a Light/STAMP reflector whose settings changed. On failure the
 * previous one is brought back and the reload is rejected. */
static int apply_udp(tw_agent *a, int i, const tw_config_reflector *r, const tw_keystore *ks, char *err,
		     size_t errcap)
{
	const tw_config_udp_reflector *u = udp_of(r, i);
	/* what a->udp[i] runs with: the running configuration's */
	const tw_config_udp_reflector *run = a->cfg ? udp_of(&a->cfg->reflector, i) : NULL;
	bool keyed = u->security == TW_CONFIG_SECURITY_AUTHENTICATED || u->security == TW_CONFIG_SECURITY_ENCRYPTED;
	if (a->udp[i] && run && same_udp(u, run) && !keyed)
		return 0;
	tw_light_free(a->udp[i]);
	a->udp[i] = NULL;
	if (!u->enabled)
		return 0;
	a->udp[i] = start_udp(a, i, u, ks, err, errcap);
	if (a->udp[i])
		return 0;
	char ignored[256];
	if (run && run->enabled)
		a->udp[i] = start_udp(a, i, run, a->keys.refl, ignored, sizeof(ignored));
	return -EADDRINUSE;
}

/* ---- targets ---- */

static tw_probe_env probe_env(tw_agent *a)
{
	tw_probe_env env = {
		.loop = a->loop,
		.resolver = a->resolver,
		.errest = &a->errest,
		.sync = &a->sync,
		.agent = tw_metrics_agent(a->metrics),
		.secret = target_secret,
		.secret_arg = a,
		.dns_refresh_ns = a->opts->dns_refresh_ns > 0 ? a->opts->dns_refresh_ns : DNS_REFRESH_DEFAULT_NS,
	};
	return env;
}

static void add_probe(tw_agent *a, const tw_config_target *t, tw_probe **out, size_t *n)
{
	tw_probe_env env = probe_env(a);
	int err;
	tw_probe *p = tw_probe_new(&env, a->metrics, t, &err);
	if (p)
		out[(*n)++] = p;
	else
		tw_error("cannot start target", "target=%s error=\"%s\"", t->name, strerror(-err));
}

typedef struct target_ref {
	const tw_config_target *t;
	bool is_static; /* from the configuration file, not discovered */
} target_ref;

static int cmp_refs(const void *x, const void *y)
{
	const target_ref *a = x, *b = y;
	int c = tw_config_target_identity_cmp(a->t, b->t);
	return c ? c : (int)b->is_static - (int)a->is_static; /* static first */
}

/* Every target of the running configuration: the static ones and the
 * discovered ones, sorted by identity, each identity once (a discovered
 * target that clashes with a static or an earlier one is left out). */
static const tw_config_target **all_targets(tw_agent *a, size_t *nout)
{
	size_t total = a->cfg->n_targets, n = 0, k;
	for (size_t i = 0; i < a->ndisc; i++)
		total += (tw_discovery_targets(a->disc[i], &k), k);
	target_ref *refs = calloc(total ? total : 1, sizeof(*refs));
	const tw_config_target **t = calloc(total ? total : 1, sizeof(*t));
	if (!refs || !t) {
		free(refs);
		free(t);
		return NULL;
	}
	for (size_t i = 0; i < a->cfg->n_targets; i++)
		refs[n++] = (target_ref){ &a->cfg->targets[i], true };
	for (size_t i = 0; i < a->ndisc; i++) {
		const tw_discovered *v = tw_discovery_targets(a->disc[i], &k);
		for (size_t j = 0; j < k; j++)
			refs[n++] = (target_ref){ &v[j].target, false };
	}
	qsort(refs, n, sizeof(*refs), cmp_refs);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && tw_config_target_identity_cmp(t[w - 1], refs[i].t) == 0)
			tw_debug("duplicate target left out", "target=%s", refs[i].t->name);
		else
			t[w++] = refs[i].t;
	}
	free(refs);
	*nout = w;
	return t;
}

/* Merges the sorted probes with the sorted targets: equal identity keeps
 * the probe (and its counters), the rest come and go. */
static int apply_targets(tw_agent *a)
{
	size_t nt = 0;
	const tw_config_target **t = all_targets(a, &nt);
	tw_probe **next = calloc(nt ? nt : 1, sizeof(*next));
	if (!t || !next) {
		free(t);
		free(next);
		tw_error("cannot apply targets", "error=\"out of memory\"");
		return -ENOMEM;
	}
	size_t i = 0, j = 0, n = 0;
	while (i < a->nprobes || j < nt) {
		int c = i == a->nprobes ? 1 : j == nt ? -1
			: tw_config_target_identity_cmp(tw_probe_target(a->probes[i]), t[j]);
		if (c < 0) {
			tw_info("target removed", "target=%s", tw_probe_target(a->probes[i])->name);
			tw_probe_free(a->probes[i++]);
		} else if (c > 0) {
			add_probe(a, t[j++], next, &n);
		} else {
			tw_probe_reconfigure(a->probes[i], t[j++]);
			next[n++] = a->probes[i++];
		}
	}
	free(t);
	free(a->probes);
	a->probes = next;
	a->nprobes = n;
	return 0;
}

/* ---- discovery ---- */

static void on_discovered(void *arg, const tw_discovered *v, size_t n)
{
	tw_agent *a = arg;
	(void)v;
	(void)n;
	apply_targets(a); /* the previous list is still valid during this call */
}

static tw_discovery *reuse_discovery(tw_agent *a, bool *used, const tw_config_group *g)
{
	for (size_t k = 0; k < a->ndisc; k++) {
		if (used[k] || strcmp(tw_discovery_group(a->disc[k])->name, g->name) != 0)
			continue;
		if (tw_discovery_reconfigure(a->disc[k], g) == 0) {
			used[k] = true;
			return a->disc[k];
		}
	}
	return NULL;
}

/* One discovery per group of the new configuration: the running one when
 * its source is unchanged (keeping its last good list and counters), else
 * a new one. The ones no longer needed are returned in *dead (freed by the
 * caller once the probes have moved). */
static int reconcile_discovery(tw_agent *a, const tw_config *cfg, tw_discovery ***dead, size_t *ndead)
{
	tw_discovery **next = calloc(cfg->n_groups + 1, sizeof(*next));
	bool *used = calloc(a->ndisc + 1, sizeof(*used));
	if (!next || !used) {
		free(next);
		free(used);
		return -ENOMEM;
	}
	size_t n = 0, nd = 0;
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const tw_config_group *g = &cfg->groups[i];
		int err = 0;
		if (!g->discovery)
			continue;
		tw_discovery *d = reuse_discovery(a, used, g);
		if (!d)
			d = tw_discovery_new(a->loop, a->resolver, g, NULL, on_discovered, a, &err);
		if (d)
			next[n++] = d;
		else
			tw_error("cannot start discovery", "group=%s error=\"%s\"", g->name, strerror(-err));
	}
	for (size_t k = 0; k < a->ndisc; k++)
		if (!used[k])
			a->disc[nd++] = a->disc[k]; /* reuse the old array for the dead */
	*dead = a->disc;
	*ndead = nd;
	free(used);
	a->disc = next;
	a->ndisc = n;
	return 0;
}

static void bury_discovery(tw_agent *a, tw_discovery **dead, size_t ndead)
{
	for (size_t i = 0; i < a->ndisc; i++)
		tw_discovery_release(a->disc[i]);
	for (size_t i = 0; i < ndead; i++)
		tw_discovery_free(dead[i]);
	free(dead);
}

/* ---- reload ---- */

static int load_config(const char *file, tw_config **cfg, char *err, size_t errcap)
{
	tw_config_error e;
	int rc = file ? tw_config_load_file(file, cfg, &e) : tw_config_load_default(cfg, &e);
	if (rc < 0)
		snprintf(err, errcap, "%s", e.msg);
	return rc;
}

static void reload_failed(tw_agent *a, int rc)
{
	tw_gauge_set(tw_metrics_agent(a->metrics)->reload_ok, 0);
	if (a->cfg)
		tw_error("configuration rejected, keeping the running one", "error=\"%s\" code=%d", a->last_reload_error,
			 rc);
	else
		tw_error("configuration rejected", "error=\"%s\" code=%d", a->last_reload_error, rc);
}

/* The reflectors of cfg (keys: its key files); on failure the running
 * configuration's server is put back. */
static int apply_reflectors(tw_agent *a, const tw_config *cfg, const tw_keys *keys, char *err, size_t errcap)
{
	int rc = apply_reflector(a, &cfg->reflector, err, errcap);
	bool server_applied = rc == 0;
	for (int i = 0; i < 2 && rc == 0; i++)
		rc = apply_udp(a, i, &cfg->reflector, keys->refl, err, errcap);
	if (rc < 0 && server_applied && a->cfg) {
		char ignored[256];
		apply_reflector(a, &a->cfg->reflector, ignored, sizeof(ignored));
	}
	return rc;
}

/* Swaps in cfg and its keys (cannot fail) and moves discovery and the
 * probes over to it. */
static void swap_in(tw_agent *a, tw_config *cfg, tw_keys *keys)
{
	keys_free(&a->keys);
	a->keys = *keys;
	tw_config *old = a->cfg;
	a->cfg = cfg;
	tw_discovery **dead = NULL;
	size_t ndead = 0;
	reconcile_discovery(a, cfg, &dead, &ndead);
	apply_targets(a);
	bury_discovery(a, dead, ndead);
	tw_config_free(old);
}

int tw_agent_reload(tw_agent *a)
{
	tw_config *cfg = NULL;
	tw_keys keys = { 0 };
	char *err = a->last_reload_error;
	size_t errcap = sizeof(a->last_reload_error);
	int rc = load_config(a->opts->config_file, &cfg, err, errcap);
	if (rc == 0)
		rc = load_keys(cfg, &keys, err, errcap);
	if (rc == 0)
		rc = apply_reflectors(a, cfg, &keys, err, errcap);
	if (rc < 0) {
		tw_config_free(cfg);
		keys_free(&keys);
		reload_failed(a, rc);
		return rc;
	}
	swap_in(a, cfg, &keys);
	a->last_reload_error[0] = '\0';
	const tw_agent_series *s = tw_metrics_agent(a->metrics);
	tw_gauge_set(s->reload_ok, 1);
	tw_gauge_set_ns(s->reload_ts, tw_loop_real(a->loop));
	char summary[256];
	tw_config_summary(cfg, summary, sizeof(summary));
	tw_info("configuration loaded", "source=%s summary=\"%s\"", cfg->source, summary);
	return 0;
}

/* ---- lifecycle ---- */

static void refresh_clock(void *arg)
{
	tw_agent *a = arg;
	a->sync = tw_clock_sync_state();
	a->errest = tw_clock_errest_word(&a->sync);
	tw_timer_in(a->loop, &a->clock_timer, CLOCK_REFRESH_NS);
}

static void on_stop_signal(void *arg, int signo)
{
	tw_agent *a = arg;
	tw_info("shutting down", "signal=%s", signo == SIGINT ? "SIGINT" : "SIGTERM");
	tw_notify("STOPPING=1");
	tw_loop_stop(a->loop);
}

int tw_agent_reload_notify(tw_agent *a, const char *trigger)
{
	tw_info("reloading configuration", "trigger=%s", trigger);
	tw_notify_reloading();
	int rc = tw_agent_reload(a);
	/* A reload also re-reads every discovery source now (an unchanged one
	 * would otherwise wait for its next refresh). */
	for (size_t i = 0; i < a->ndisc; i++)
		tw_discovery_refresh_now(a->disc[i]);
	tw_notify("READY=1"); /* a rejected config leaves the old one running */
	return rc;
}

static void on_hup(void *arg, int signo)
{
	(void)signo;
	tw_agent_reload_notify(arg, "SIGHUP");
}

static void http_log(void *arg, const char *msg)
{
	(void)arg;
	tw_debug("http", "detail=\"%s\"", msg);
}

static int start_web(tw_agent *a)
{
	tw_http_options ho = { .log = http_log };
	char err[256];
	a->http = tw_http_new(a->loop, &ho);
	if (!a->http || tw_web_routes(a, a->opts->telemetry_path ? a->opts->telemetry_path : "/metrics") < 0)
		return -ENOMEM;
	size_t n = a->opts->nweb;
	for (size_t i = 0; i < (n ? n : 1); i++) {
		const char *addr = n ? a->opts->web_listen[i] : ":9862";
		if (tw_http_listen(a->http, addr, err, sizeof(err)) < 0) {
			fprintf(stderr, "twamp-agent: %s\n", err);
			return -EADDRINUSE;
		}
		tw_info("metrics endpoint listening", "address=%s port=%d", addr, tw_http_listener_port(a->http, i));
	}
	return 0;
}

/* TEST ONLY: TW_TEST_NAMESERVER=ADDR:PORT (a numeric address) replaces
 * resolv.conf's nameservers, so integration tests can serve DNS discovery
 * from a fake server on loopback. Not a supported setting. */
static tw_resolver *new_resolver(tw_loop *loop)
{
	const char *ns = getenv("TW_TEST_NAMESERVER");
	char host[TW_ADDR_HOST_MAX];
	uint16_t port;
	tw_sockaddr sa;
	char q[300];
	if (!ns)
		return tw_resolver_new(loop, NULL);
	if (tw_addr_split(ns, host, sizeof(host), &port) < 0 || tw_sa_from_numeric(host, port, &sa) < 0) {
		tw_warn("ignoring invalid TW_TEST_NAMESERVER (test-only setting)", "value=%s",
			tw_log_quote(q, sizeof(q), ns));
		return tw_resolver_new(loop, NULL);
	}
	tw_warn("test override active: DNS goes to TW_TEST_NAMESERVER only", "nameserver=%s", ns);
	tw_resolver_opts o = { .servers = &sa, .n_servers = 1 };
	return tw_resolver_new(loop, &o);
}

static int start(tw_agent *a)
{
	a->loop = tw_loop_new(NULL);
	a->reg = a->loop ? tw_registry_new() : NULL;
	a->metrics = a->reg ? tw_metrics_new(a->reg) : NULL;
	a->resolver = a->metrics ? new_resolver(a->loop) : NULL;
	if (!a->resolver || tw_collect_register(a) < 0 || tw_status_start(a) < 0) {
		fprintf(stderr, "twamp-agent: cannot initialise (out of memory or no resolver)\n");
		return -ENOMEM;
	}
	a->start_real_ns = tw_loop_real(a->loop);
	tw_timer_init(&a->clock_timer, refresh_clock, a);
	refresh_clock(a);
	if (tw_agent_reload(a) < 0) {
		fprintf(stderr, "twamp-agent: %s\n", a->last_reload_error);
		return -EINVAL;
	}
	int rc = start_web(a);
	if (rc < 0)
		return rc;
	tw_loop_signal(a->loop, SIGINT, on_stop_signal, a);
	tw_loop_signal(a->loop, SIGTERM, on_stop_signal, a);
	tw_loop_signal(a->loop, SIGHUP, on_hup, a);
	signal(SIGPIPE, SIG_IGN);
	a->ready = true;
	tw_notify("READY=1");
	return 0;
}

static void stop(tw_agent *a)
{
	for (size_t i = 0; i < a->nprobes; i++)
		tw_probe_free(a->probes[i]);
	free(a->probes);
	for (size_t i = 0; i < a->ndisc; i++)
		tw_discovery_free(a->disc[i]);
	free(a->disc);
	tw_server_free(a->server);
	tw_light_free(a->udp[0]);
	tw_light_free(a->udp[1]);
	tw_http_free(a->http);
	tw_scrape_free(a->scrape);
	tw_resolver_free(a->resolver);
	keys_free(&a->keys);
	tw_config_free(a->cfg);
	tw_metrics_free(a->metrics);
	tw_registry_free(a->reg);
	if (a->loop)
		tw_timer_stop(a->loop, &a->clock_timer);
	tw_status_free(a->status);
	tw_loop_free(a->loop);
}

int tw_agent_run(const tw_agent_opts *o)
{
	static tw_agent a;
	memset(&a, 0, sizeof(a));
	a.opts = o;
	int rc = start(&a);
	if (rc == 0)
		rc = tw_loop_run(a.loop);
	stop(&a);
	return rc < 0 ? 1 : 0;
}

int tw_agent_check_config(const char *config_file)
{
	tw_config *cfg = NULL;
	tw_keys keys = { 0 };
	char err[1024];
	if (load_config(config_file, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int rc = load_keys(cfg, &keys, err, sizeof(err));
	for (int i = 0; i < 2 && rc == 0; i++) {
		const tw_config_udp_reflector *u = udp_of(&cfg->reflector, i);
		tw_light_params p = { .proto = i ? TW_LIGHT_STAMP : TW_LIGHT_TWAMP };
		if (u->enabled)
			rc = udp_keys(u, keys.refl, &p, err, sizeof(err));
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", cfg->source, err);
	} else {
		tw_config_summary(cfg, err, sizeof(err));
		printf("%s: %s\n", cfg->source, err);
	}
	keys_free(&keys);
	tw_config_free(cfg);
	return rc < 0 ? 1 : 0;
}

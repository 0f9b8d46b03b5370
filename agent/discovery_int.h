/*
 * discovery_int.h - internal to the discovery module: the core
 * (discovery.c: scheduling, list building, self-exclusion, DNS) and the
 * file_sd (discovery_file.c) and http_sd (discovery_http.c) sources.
 * Not a public interface; tests include it for the self-exclusion check.
 */
#ifndef TW_DISCOVERY_INT_H
#define TW_DISCOVERY_INT_H

#include "discovery.h"
#include "net.h"
#include "rng.h"
#include "sd.h"

/* A target as a source reports it, before labels are merged, self and
 * duplicates are dropped. Strings and labels are owned (heap). */
typedef struct disc_cand {
	char *name, *host;
	uint16_t port; /* 0 = the default port */
	tw_sd_label *labels; /* sorted by name; "" values remove group labels */
	size_t n_labels;
} disc_cand;

/* Start from { 0 }. err is sticky: once an append ran out of memory the
 * later ones do nothing and disc_result reports the refresh failed, so a
 * source builds its list without checking each append. */
typedef struct disc_cands {
	disc_cand *v;
	size_t n, cap;
	int err; /* 0 or -ENOMEM */
} disc_cands;

/* Appends copies of the arguments (or sets c->err). */
void disc_cands_add(disc_cands *c, const char *name, const char *host, uint16_t port,
		    const tw_sd_label *labels, size_t n_labels);
/* Appends every target of doc (or sets c->err). */
void disc_cands_add_doc(disc_cands *c, const tw_sd_doc *doc);
void disc_cands_clear(disc_cands *c); /* frees the entries, keeps nothing */

/* A source: init when the discovery starts, refresh on every tick (may
 * complete later), fini when it stops. */
typedef struct disc_ops {
	int (*init)(tw_discovery *d);
	void (*refresh)(tw_discovery *d);
	void (*fini)(tw_discovery *d);
} disc_ops;

extern const disc_ops disc_file_ops, disc_http_ops;

struct tw_discovery {
	tw_loop *loop;
	tw_resolver *resolver;
	const tw_config_group *g;
	tw_discovery_opts opts;
	tw_discovery_update_fn on_update;
	void *arg;
	const disc_ops *ops;
	void *src; /* the source's state */
	tw_timer tick, soon;
	tw_prng prng;
	disc_cands last; /* the latest good candidates (for reconfigure) */
	tw_discovered *list;
	size_t n;
	tw_discovered *stale; /* the list before a reconfigure, until released */
	size_t nstale;
	tw_discovery_stats st;
	tw_resolve_req *dns_req;
};

/*
 * The outcome of one refresh. cands (may be NULL: nothing new) is moved
 * into the discovery (left empty); a non-NULL error counts the refresh as
 * failed and is logged, but cands, when given, still replace the list
 * (file_sd: the other files' news, the bad file's last good contents).
 * cands with err set fail the refresh as "out of memory" and are dropped.
 */
void disc_result(tw_discovery *d, disc_cands *cands, const char *error);

const char *disc_group_name(const tw_discovery *d);

/* A resolver error (tw_resolve_cb's err) in words. */
const char *disc_dns_error_text(int err);

/* ---- self-exclusion (pure enough to test) ---- */

typedef struct disc_self {
	tw_sockaddr *addrs; /* this host's interface addresses */
	size_t n;
	tw_sockaddr pod_ip; /* family 0 when unset */
	char node_name[256], hostname[256]; /* "" when unset */
} disc_self;

/* Reads getifaddrs and (unless ignore_env) POD_IP, NODE_NAME, HOSTNAME;
 * pod_ip/node_name override the environment when not NULL. Returns 0 or a
 * negative errno (the addresses are then empty). */
int disc_self_load(disc_self *s, bool ignore_env, const char *pod_ip, const char *node_name);
void disc_self_free(disc_self *s);
/* True when a target named name on host is this host (see discovery.h). */
bool disc_self_match(const disc_self *s, const char *name, const char *host);

#endif /* TW_DISCOVERY_INT_H */

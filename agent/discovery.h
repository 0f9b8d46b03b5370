/*
 * discovery.h - the targets of one target group that come from outside the
 * configuration file: every A/AAAA record of a DNS name (a Kubernetes
 * headless Service gives a DaemonSet mesh), Prometheus file_sd files, or a
 * Prometheus http_sd URL (config: target_groups[].discovery).
 *
 * Everything runs inside the tw_loop: DNS through the in-loop tw_resolver,
 * file_sd through an inotify descriptor on each pattern's directory (so a
 * Kubernetes ConfigMap's symlink swap is seen) plus the periodic re-read,
 * http_sd through libcurl's multi socket interface whose sockets and timer
 * are loop handles (no thread, no blocking call; TLS verification on).
 *
 * Each source refreshes every discovery.refresh (+0-10 % jitter). A refresh
 * that fails keeps the last good list (logged, counted); for file_sd a file
 * that fails to parse keeps its own last good contents while the others
 * update. Whenever the resulting list differs from the previous one,
 * on_update runs (always from a loop callback, never inside a call of this
 * API).
 *
 * The list: one entry per distinct series identity (name, labels; all
 * entries of a group share its dscp), sorted by tw_config_target_identity_cmp,
 * with the group's settings, the source's port (else the group's) and the
 * source's labels merged over the group's (an empty source value removes a
 * group label). Entries whose address family contradicts the group's
 * ip_version or source_address are dropped. With exclude_self (the
 * default) entries that are this host are dropped too: an address literal
 * that is a loopback address, one of this host's interface addresses
 * (getifaddrs, re-read on every refresh) or $POD_IP, or a name or host
 * equal (case-insensitively) to $NODE_NAME or $HOSTNAME.
 */
#ifndef TW_DISCOVERY_H
#define TW_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "resolver.h"

typedef struct tw_discovery tw_discovery;

/* One discovered target. Every string and the label array belong to the
 * list (not to the configuration); target.s's other pointers (buckets,
 * key_file, ...) and target.group point into the group's configuration. */
typedef struct tw_discovered {
	const char *name;  /* the `target` label: "host:port" or "host" as the
	                    * source wrote it; DNS: the address */
	const char *host;  /* IP literal or DNS name, no brackets */
	uint16_t port;     /* the source's port, else the group's (or dns.port) */
	tw_config_labels labels; /* merged, sorted, non-empty values */
	/* The same as a resolved target of the group: name, host, port and
	 * labels above, every other setting the group's; loc is the group's
	 * discovery: entry. Ready for tw_probe_new. */
	tw_config_target target;
} tw_discovered;

/* Called when the list changed. targets (n entries, sorted) stays valid
 * until the next on_update, tw_discovery_reconfigure or tw_discovery_free,
 * whichever comes first; a probe may point at &targets[i].target until
 * then. The callback must not free the tw_discovery. */
typedef void (*tw_discovery_update_fn)(void *arg, const tw_discovered *targets, size_t n);

typedef struct tw_discovery_stats {
	uint64_t refreshes_ok;     /* -> twamp_discovery_refreshes_total{result="success"} */
	uint64_t refreshes_failed; /* -> ...{result="failure"} */
	size_t targets;            /* -> twamp_discovery_targets: the current list */
	size_t excluded_self;      /* dropped as this host in the latest list */
	int64_t last_success_real_ns; /* 0 before the first */
	char last_error[256];      /* the latest failure's reason; "" after a success */
} tw_discovery_stats;

/* Knobs for tests; NULL or zero fields mean the production defaults. */
typedef struct tw_discovery_opts {
	size_t http_max_body;    /* response size cap, default 16 MiB */
	int64_t file_debounce_ns; /* wait after an inotify event, default 100 ms */
	bool no_jitter;          /* refresh exactly every refresh interval */
	bool ignore_env;         /* do not read POD_IP, NODE_NAME, HOSTNAME */
	const char *pod_ip, *node_name; /* used instead of the environment's when set */
	const char *http_ca_path; /* CURLOPT_CAPATH override (tests); NULL = libcurl's */
} tw_discovery_opts;

/* "dns", "file_sd" or "http_sd" (the `source` metric label). */
const char *tw_discovery_source_name(tw_config_discovery_kind k);

/*
 * Starts discovery for group g (g->discovery must not be NULL); g must stay
 * valid until tw_discovery_reconfigure or tw_discovery_free. loop and
 * resolver (used by dns, and by http_sd for the URL's host) must outlive
 * it. The first refresh runs as soon as the loop runs. Returns NULL with
 * *err set: -EINVAL (no discovery in g), -ENOMEM, or a setup failure
 * (inotify, libcurl) as a negative errno.
 */
tw_discovery *tw_discovery_new(tw_loop *loop, tw_resolver *resolver, const tw_config_group *g,
			       const tw_discovery_opts *opts, tw_discovery_update_fn on_update,
			       void *arg, int *err);

/* Stops every refresh (pending DNS queries and HTTP transfers are
 * cancelled, descriptors closed) and frees the lists. NULL-safe. */
void tw_discovery_free(tw_discovery *d);

/*
 * For a reload: when g (from the new configuration) has the same group
 * name and the same discovery source (kind, name/files/url, ports, files,
 * options) as the running one, rebuilds the current list against g's
 * settings at once, keeping the last good results, counters and timers,
 * and returns 0; on_update does NOT run, the caller reads the list with
 * tw_discovery_targets. The previous list stays valid (whoever points into
 * it can still compare) until tw_discovery_release(). Otherwise returns
 * -EINVAL and changes nothing: free it and create a new one. -ENOMEM keeps
 * the old state.
 */
int tw_discovery_reconfigure(tw_discovery *d, const tw_config_group *g);

/* Frees the list a reconfigure replaced (no-op when there is none). */
void tw_discovery_release(tw_discovery *d);

/* The current list (see tw_discovery_update_fn for its lifetime). */
const tw_discovered *tw_discovery_targets(const tw_discovery *d, size_t *n);

const tw_config_group *tw_discovery_group(const tw_discovery *d);

tw_discovery_stats tw_discovery_get_stats(const tw_discovery *d);

/* Refreshes as soon as the loop runs (e.g. on SIGHUP), then on the usual
 * schedule. A refresh already under way is not restarted. */
void tw_discovery_refresh_now(tw_discovery *d);

#endif /* TW_DISCOVERY_H */

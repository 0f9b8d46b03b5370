/* probe.c - continuous TWAMP measurement of one target (see probe.h). */
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "args.h"
#include "client.h"
#include "control.h"
#include "errest.h"
#include "log.h"
#include "rng.h"
#include "sender.h"
#include "stats.h"

#define BACKOFF_MIN_NS 1000000000LL
#define BACKOFF_MAX_NS 60000000000LL
#define CONTROL_TIMEOUT_NS 10000000000LL

static const char *const state_names[TW_PROBE_STATE_COUNT] = {
	"starting", "resolving", "connecting", "up", "backoff",
};

struct tw_probe {
	tw_probe_env env;
	tw_metrics *metrics;
	const tw_config_target *t;
	tw_target_series s;
	tw_probe_state state;
	tw_timer timer;      /* start offset, backoff, DNS refresh */
	tw_timer reaper;     /* frees the old control connection outside its callbacks */
	tw_prng prng;
	tw_resolve_req *dns;
	bool refreshing;     /* the current lookup is a refresh while up */
	tw_sockaddr addr;
	tw_client *client;
	tw_client *dead_client;
	tw_sender *sender;
	tw_sender *draining; /* previous session's sender deciding its in-flight packets */
	bool drain_finished; /* draining has decided everything: free it */
	tw_stats_counters seen;       /* of sender: what the series already contain */
	tw_stats_counters seen_drain; /* of draining */
	tw_accept_session acc;
	unsigned failures_in_row;
	uint16_t ssid; /* STAMP: configured, or random non-zero, for the probe's life */
	bool fwd_tos_known; /* the reflector reports the DS byte it received (RFC 7750) */
	uint32_t udp_mode;  /* Light/STAMP: the security mode bit in use */
	const char *last_error;
	char log_target[128];
};

const char *tw_probe_state_name(tw_probe_state s)
{
	return (unsigned)s < TW_PROBE_STATE_COUNT ? state_names[s] : "unknown";
}

static void start_resolve(tw_probe *p, bool refresh);
static void on_timer(void *arg);

/* ---- counters: series += what the stats module counted since last time ---- */

static void add_delta(tw_counter *c, uint64_t now, uint64_t *seen)
{
	if (now > *seen)
		tw_counter_add(c, now - *seen);
	*seen = now;
}

/* Copies the sender's counters into the series as deltas (no double count
 * across sessions: each sender starts from zero). */
static void sync_counters(tw_probe *p, const tw_sender *snd, tw_stats_counters *seen)
{
	tw_stats_counters c;
	tw_stats_get(tw_sender_stats(snd), &c);
	tw_target_series *s = &p->s;
	add_delta(s->sent, c.sent, &seen->sent);
	add_delta(s->received, c.received, &seen->received);
	add_delta(s->lost, c.lost, &seen->lost);
	add_delta(s->late, c.late, &seen->late);
	for (int d = 0; d < 2; d++) {
		add_delta(s->duplicated[d], c.duplicates[d], &seen->duplicates[d]);
		add_delta(s->reordered[d], c.reordered[d], &seen->reordered[d]);
		add_delta(s->ttl_changes[d], c.ttl_changes[d], &seen->ttl_changes[d]);
		add_delta(s->owd_skipped[d][TW_SKIP_UNSYNC], c.owd_skipped_unsync[d], &seen->owd_skipped_unsync[d]);
		add_delta(s->owd_skipped[d][TW_SKIP_NEGATIVE], c.owd_skipped_negative[d],
			  &seen->owd_skipped_negative[d]);
		if (c.last_ttl[d] >= 0)
			tw_gauge_set(s->ttl[d], c.last_ttl[d]);
		tw_gauge_set_ns(s->owd_jitter[d], c.jitter_ns[d]);
	}
	tw_gauge_set_ns(s->rtt_jitter, c.jitter_rtt_ns);
}

/* A sender that is dropped before its packets were decided: those packets
 * can no longer be answered, so they are lost. */
static void write_off_in_flight(tw_probe *p, const tw_sender *snd, tw_stats_counters *seen)
{
	tw_stats_counters c;
	sync_counters(p, snd, seen);
	tw_stats_get(tw_sender_stats(snd), &c);
	tw_counter_add(p->s.lost, c.in_flight);
}

/* ---- sender callbacks ---- */

static void observe_sample(tw_probe *p, const tw_stats_result *r)
{
	tw_target_series *s = &p->s;
	tw_hist_observe(s->rtt, r->rtt_ns);
	tw_hist_observe(s->proc, r->proc_ns);
	if (r->usable[TW_DIR_FWD])
		tw_hist_observe(s->owd[TW_DIR_FWD], r->fwd_ns);
	if (r->usable[TW_DIR_BWD])
		tw_hist_observe(s->owd[TW_DIR_BWD], r->bwd_ns);
	if (!s->ipdv[0])
		return;
	const tw_stats_ipdv *v[2] = { &r->ipdv, &r->ipdv_next };
	for (int i = 0; i < 2; i++) {
		if (!v[i]->valid)
			continue;
		tw_hist_observe(s->ipdv[TW_DIR_FWD], v[i]->fwd_ns);
		tw_hist_observe(s->ipdv[TW_DIR_BWD], v[i]->bwd_ns);
	}
}

static void observe_clocks(tw_probe *p, const tw_reflector_fields *rf)
{
	tw_errest remote = tw_errest_unpack(rf->errest);
	tw_gauge_set(p->s.clock_sync[TW_SIDE_REMOTE], remote.sync && remote.mult ? 1 : 0);
	tw_gauge_set_ns(p->s.errest[TW_SIDE_REMOTE], (int64_t)(tw_errest_to_ns(remote) > INT64_MAX
								     ? INT64_MAX : tw_errest_to_ns(remote)));
	tw_gauge_set(p->s.clock_sync[TW_SIDE_LOCAL], p->env.sync->synced ? 1 : 0);
	tw_gauge_set_ns(p->s.errest[TW_SIDE_LOCAL], (int64_t)p->env.sync->error_ns);
}

/* DSCP/ECN as seen on each leg: forward when the reflector reports it
 * (RFC 7750, STAMP Class of Service TLV), backward from the reply. */
static void observe_marking(tw_probe *p, const tw_reflector_fields *rf, const tw_sender_reply *x)
{
	tw_target_series *s = &p->s;
	uint8_t want = p->t->s.dscp;
	bool cos = x->stamp && (x->tlv.seen & (1u << TW_TLV_COS));
	if (p->fwd_tos_known || cos) {
		tw_gauge_set(s->rx_dscp[TW_DIR_FWD], rf->sender_tos >> 2);
		tw_gauge_set(s->rx_ecn[TW_DIR_FWD], rf->sender_tos & 3);
		if ((rf->sender_tos >> 2) != want)
			tw_counter_inc(s->remarked[TW_DIR_FWD]);
	}
	if (x->rx_tos < 0)
		return;
	tw_gauge_set(s->rx_dscp[TW_DIR_BWD], x->rx_tos >> 2);
	tw_gauge_set(s->rx_ecn[TW_DIR_BWD], x->rx_tos & 3);
	/* RP = 1: the reflector declined our DSCP1, so the reply was not asked
	 * to carry it. */
	if ((x->rx_tos >> 2) != want && !(cos && x->tlv.cos.rp))
		tw_counter_inc(s->remarked[TW_DIR_BWD]);
}

static void observe_tlvs(tw_probe *p, const tw_sender_reply *x)
{
	if (!x->stamp)
		return;
	tw_target_series *s = &p->s;
	tw_counter_add(s->tlv[TW_TLV_RESULT_PROCESSED], (uint64_t)__builtin_popcount(x->tlv.seen));
	tw_counter_add(s->tlv[TW_TLV_RESULT_UNRECOGNIZED], x->tlv.unrecognized);
	tw_counter_add(s->tlv[TW_TLV_RESULT_MALFORMED], x->tlv.malformed);
	tw_counter_add(s->tlv[TW_TLV_RESULT_INTEGRITY], x->tlv.integrity_failed);
}

static void on_result(void *arg, const tw_stats_result *r, const tw_reflector_fields *rf, const tw_sender_reply *x)
{
	tw_probe *p = arg;
	if (r->cls == TW_STATS_NEW) {
		observe_sample(p, r);
		observe_clocks(p, rf);
		observe_marking(p, rf, x);
		observe_tlvs(p, x);
	}
	sync_counters(p, p->sender, &p->seen);
}

static void on_lost(void *arg, uint64_t n)
{
	tw_probe *p = arg;
	(void)n;
	sync_counters(p, p->sender, &p->seen);
}

static void on_sent(void *arg, int64_t lag_ns)
{
	tw_probe *p = arg;
	tw_hist_observe(p->env.agent->send_lag, lag_ns);
	tw_counter_inc(p->s.sent);
	p->seen.sent++;
}

/* Callbacks of the previous session's sender while it drains. */
static void drain_result(void *arg, const tw_stats_result *r, const tw_reflector_fields *rf,
			 const tw_sender_reply *x)
{
	(void)x;
	tw_probe *p = arg;
	if (r->cls == TW_STATS_NEW)
		observe_sample(p, r);
	(void)rf;
	sync_counters(p, p->draining, &p->seen_drain);
}

static void drain_lost(void *arg, uint64_t n)
{
	tw_probe *p = arg;
	(void)n;
	sync_counters(p, p->draining, &p->seen_drain);
}

/* Frees what may not be freed inside its own callbacks: the finished
 * drain and the previous control connection. */
static void reap(void *arg)
{
	tw_probe *p = arg;
	if (p->draining && p->drain_finished) {
		sync_counters(p, p->draining, &p->seen_drain);
		tw_sender_free(p->draining);
		p->draining = NULL;
	}
	if (p->dead_client) {
		tw_client_free(p->dead_client);
		p->dead_client = NULL;
	}
}

static void drain_done(void *arg)
{
	tw_probe *p = arg;
	p->drain_finished = true;
	tw_timer_at(p->env.loop, &p->reaper, 0);
}

/* ---- tearing a session down ---- */

/* Moves the running sender aside to decide its in-flight packets. */
static void drain_sender(tw_probe *p)
{
	if (!p->sender)
		return;
	if (!tw_sender_running(p->sender)) {
		tw_sender_free(p->sender); /* never started: nothing in flight */
		p->sender = NULL;
		return;
	}
	if (p->draining) {
		write_off_in_flight(p, p->draining, &p->seen_drain);
		tw_sender_free(p->draining);
	}
	sync_counters(p, p->sender, &p->seen);
	p->draining = p->sender;
	p->drain_finished = false;
	p->seen_drain = p->seen;
	p->sender = NULL;
	tw_sender_retarget(p->draining, drain_result, drain_lost, drain_done, p);
	tw_sender_finish(p->draining);
}

/* Ends the current session: Stop-Sessions when it was up, the control
 * connection freed from the loop (we may be inside its callback). */
static void teardown(tw_probe *p)
{
	if (p->dns) {
		tw_resolver_cancel(p->env.resolver, p->dns);
		p->dns = NULL;
	}
	if (p->client && p->state == TW_PROBE_UP)
		tw_client_stop(p->client, TW_ACCEPT_OK);
	drain_sender(p);
	if (p->client) {
		if (p->dead_client)
			tw_client_free(p->dead_client);
		p->dead_client = p->client;
		p->client = NULL;
		tw_timer_at(p->env.loop, &p->reaper, 0);
	}
	tw_gauge_set(p->s.up, 0);
	p->fwd_tos_known = false;
	memset(&p->seen, 0, sizeof(p->seen));
}

static int64_t backoff_ns(tw_probe *p)
{
	int64_t d = BACKOFF_MIN_NS;
	for (unsigned i = 1; i < p->failures_in_row && d < BACKOFF_MAX_NS; i++)
		d *= 2;
	if (d > BACKOFF_MAX_NS)
		d = BACKOFF_MAX_NS;
	/* +-20 % so many targets failing together do not retry together */
	int64_t jitter = (int64_t)(tw_prng_next(&p->prng) % (uint64_t)(d / 5 * 2 + 1)) - d / 5;
	return d + jitter;
}

static void fail(tw_probe *p, tw_fail_reason why, const char *detail)
{
	tw_counter_inc(p->s.failures[why]);
	p->failures_in_row++;
	p->last_error = tw_fail_reason_name(why);
	teardown(p);
	int64_t delay = backoff_ns(p);
	p->state = TW_PROBE_BACKOFF;
	tw_timer_in(p->env.loop, &p->timer, delay);
	char q[256];
	tw_warn("session failed", "target=%s reason=%s detail=%s retry_in_ms=%lld", p->log_target,
		tw_fail_reason_name(why), tw_log_quote(q, sizeof(q), detail), (long long)(delay / 1000000));
}

/* ---- control client callbacks ---- */

static void build_request(tw_probe *p, tw_request *r)
{
	const tw_config_settings *s = &p->t->s;
	const tw_sockaddr *local = tw_sender_local(p->sender);
	memset(r, 0, sizeof(*r));
	tw_sa_to_wire(local, &r->ipvn, r->sender_addr);
	tw_sa_to_wire(&p->addr, &r->ipvn, r->receiver_addr);
	r->sender_port = tw_sa_port(local);
	r->receiver_port = r->sender_port; /* like twping; we use Accept's port */
	r->padding = s->padding;
	r->timeout = tw_ts_interval_from_ns((uint64_t)s->session_timeout_ns);
	r->type_p = tw_type_p_from_dscp(s->dscp);
}

static void on_ready(void *arg, tw_client *c)
{
	tw_probe *p = arg;
	tw_sockaddr local = *tw_client_local(c);
	tw_sa_set_port(&local, 0);
	int err;
	p->sender = tw_sender_open(p->env.loop, &local, p->t->s.dscp, p->t->s.source_interface, &err);
	if (!p->sender) {
		fail(p, TW_FAIL_SOCKET, strerror(-err));
		return;
	}
	tw_request r;
	build_request(p, &r);
	if (tw_client_request(c, &r) < 0)
		fail(p, TW_FAIL_CLOSED, "cannot send Request-TW-Session");
}

static void on_accepted(void *arg, tw_client *c, const tw_accept_session *a)
{
	tw_probe *p = arg;
	p->acc = *a;
	if (a->accept != TW_ACCEPT_OK) {
		char detail[64];
		snprintf(detail, sizeof(detail), "Accept %u (%s)", a->accept, tw_accept_str(a->accept));
		fail(p, TW_FAIL_SESSION_REFUSED, detail);
		return;
	}
	if (tw_client_start(c) < 0)
		fail(p, TW_FAIL_CLOSED, "cannot send Start-Sessions");
}

/* Sender settings every protocol shares. */
static tw_sender_params sender_params(tw_probe *p)
{
	const tw_config_settings *s = &p->t->s;
	tw_sender_params sp = {
		.reflector = p->addr,
		.padding = s->padding,
		.interval_ns = s->interval_ns,
		.poisson = s->schedule == TW_CONFIG_SCHEDULE_POISSON,
		.loss_timeout_ns = s->loss_timeout_ns,
		.errest = p->env.errest,
		.on_result = on_result,
		.on_lost = on_lost,
		.on_sent = on_sent,
		.arg = p,
	};
	return sp;
}

static void became_up(tw_probe *p, uint16_t port)
{
	p->state = TW_PROBE_UP;
	p->failures_in_row = 0;
	p->last_error = NULL;
	tw_gauge_set(p->s.up, 1);
	tw_timer_in(p->env.loop, &p->timer, p->env.dns_refresh_ns);
	tw_info("session up", "target=%s protocol=%s test_port=%u", p->log_target,
		tw_probe_protocol_name(p->t->s.mode), port);
}

static void start_sending(tw_probe *p, tw_sender_params *sp)
{
	int rc = tw_sender_start(p->sender, sp);
	if (rc < 0)
		fail(p, TW_FAIL_SOCKET, strerror(-rc));
	else
		became_up(p, tw_sa_port(&sp->reflector));
}

static void on_started(void *arg, tw_client *c)
{
	tw_probe *p = arg;
	tw_sender_params sp = sender_params(p);
	sp.fmt = tw_test_fmt_for_mode(tw_client_mode(c));
	sp.crypto = tw_client_test_crypto(c, p->acc.sid);
	p->fwd_tos_known = sp.fmt.dscp_ecn;
	tw_sa_set_port(&sp.reflector, p->acc.port);
	start_sending(p, &sp);
}

static tw_fail_reason map_client_fail(tw_client_fail why)
{
	static const tw_fail_reason map[TW_CLIENT_FAIL_COUNT] = {
		[TW_CLIENT_FAIL_CONNECT] = TW_FAIL_CONNECT,   [TW_CLIENT_FAIL_REFUSED] = TW_FAIL_REFUSED,
		[TW_CLIENT_FAIL_AUTH] = TW_FAIL_AUTH,         [TW_CLIENT_FAIL_SERVER] = TW_FAIL_SERVER,
		[TW_CLIENT_FAIL_KDF_COUNT] = TW_FAIL_KDF_COUNT, [TW_CLIENT_FAIL_PROTOCOL] = TW_FAIL_PROTOCOL,
		[TW_CLIENT_FAIL_TIMEOUT] = TW_FAIL_TIMEOUT,   [TW_CLIENT_FAIL_CLOSED] = TW_FAIL_CLOSED,
	};
	return (unsigned)why < TW_CLIENT_FAIL_COUNT ? map[why] : TW_FAIL_PROTOCOL;
}

static void on_client_failed(void *arg, tw_client *c, tw_client_fail why, const char *detail)
{
	tw_probe *p = arg;
	(void)c;
	fail(p, map_client_fail(why), detail);
}

/* ---- connecting ---- */

static uint32_t allowed_modes(tw_config_security sec, bool have_keys)
{
	switch (sec) {
	case TW_CONFIG_SECURITY_UNAUTHENTICATED:
		return TW_MODE_OPEN;
	case TW_CONFIG_SECURITY_AUTHENTICATED:
		return TW_MODE_AUTH;
	case TW_CONFIG_SECURITY_ENCRYPTED:
		return TW_MODE_ENC;
	case TW_CONFIG_SECURITY_MIXED:
		return TW_MODE_MIXED;
	default:
		return have_keys ? TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED : TW_MODE_OPEN;
	}
}

/* The secret for a keyed mode; *ok false when required and missing. */
static const uint8_t *find_secret(tw_probe *p, size_t *len, bool *ok)
{
	const tw_config_settings *s = &p->t->s;
	char err[256] = "no identity/key_file configured";
	const uint8_t *secret = NULL;
	if (s->identity && s->key_file && p->env.secret)
		secret = p->env.secret(p->env.secret_arg, s->key_file, s->identity, len, err, sizeof(err));
	bool needed = s->security != TW_CONFIG_SECURITY_AUTO && s->security != TW_CONFIG_SECURITY_UNAUTHENTICATED;
	*ok = secret || !needed;
	if (!*ok)
		fail(p, TW_FAIL_KEYS, err);
	return secret;
}

static int source_address(tw_probe *p, tw_sockaddr *out)
{
	const char *src = p->t->s.source_address;
	return src ? tw_sa_from_numeric(src, 0, out) : -ENOENT;
}

static void connect_now(tw_probe *p)
{
	size_t len = 0;
	bool ok;
	const uint8_t *secret = find_secret(p, &len, &ok);
	if (!ok)
		return;
	tw_sockaddr src;
	tw_client_params cp = {
		.server = p->addr,
		.local = source_address(p, &src) == 0 ? &src : NULL,
		.ifname = p->t->s.source_interface,
		.modes = allowed_modes(p->t->s.security, secret != NULL),
		.features = tw_features_to_modes(p->t->s.features),
		.identity = p->t->s.identity,
		.secret = secret,
		.secret_len = len,
		.max_kdf_count = p->t->s.max_kdf_count,
		.timeout_ns = CONTROL_TIMEOUT_NS,
		.cbs = { on_ready, on_accepted, on_started, on_client_failed, p },
	};
	int err;
	tw_counter_inc(p->s.attempts);
	p->state = TW_PROBE_CONNECTING;
	p->client = tw_client_new(p->env.loop, &cp, &err);
	if (!p->client)
		fail(p, TW_FAIL_SOCKET, strerror(-err));
}

/* ---- TWAMP Light and STAMP: no control connection ---- */

const char *tw_probe_protocol_name(tw_config_test_mode m)
{
	return m == TW_CONFIG_TEST_LIGHT ? "light" : m == TW_CONFIG_TEST_STAMP ? "stamp" : "twamp";
}

/* Test keys from the key file: STAMP authenticated uses the secret as the
 * HMAC-SHA-256 key; keyed TWAMP Light needs 48 octets, AES key || HMAC key
 * (the keys a TWAMP-Control session would have derived). */
static bool udp_crypto(tw_probe *p, tw_test_crypto **out)
{
	size_t len = 0;
	bool ok;
	const uint8_t *secret = find_secret(p, &len, &ok);
	tw_config_security sec = p->t->s.security;
	*out = NULL;
	if (!ok)
		return false;
	if (sec != TW_CONFIG_SECURITY_AUTHENTICATED && sec != TW_CONFIG_SECURITY_ENCRYPTED)
		return true;
	if (p->t->s.mode == TW_CONFIG_TEST_STAMP) {
		*out = tw_test_crypto_new(NULL, secret, len, TW_MAC_HMAC_SHA256);
	} else if (len != TW_AES_KEY_LEN + TW_HMAC_KEY_LEN) {
		fail(p, TW_FAIL_KEYS, "a keyed TWAMP Light secret must be 48 octets: AES-128 key || HMAC key");
		return false;
	} else {
		*out = tw_test_crypto_new(secret, secret + TW_AES_KEY_LEN, TW_HMAC_KEY_LEN, TW_MAC_HMAC_SHA1);
	}
	if (!*out)
		fail(p, TW_FAIL_KEYS, "cannot set up the test keys");
	return *out != NULL;
}

static void start_udp(tw_probe *p)
{
	const tw_config_settings *s = &p->t->s;
	tw_test_crypto *crypto;
	if (!udp_crypto(p, &crypto))
		return;
	tw_sockaddr local;
	if (source_address(p, &local) < 0)
		tw_sa_from_numeric(tw_sa_family(&p->addr) == AF_INET6 ? "::" : "0.0.0.0", 0, &local);
	int err;
	tw_counter_inc(p->s.attempts);
	p->sender = tw_sender_open(p->env.loop, &local, s->dscp, s->source_interface, &err);
	if (!p->sender) {
		tw_test_crypto_free(crypto);
		fail(p, TW_FAIL_SOCKET, strerror(-err));
		return;
	}
	tw_sender_params sp = sender_params(p);
	sp.crypto = crypto;
	sp.fmt.sec = !crypto ? TW_TEST_OPEN : s->security == TW_CONFIG_SECURITY_ENCRYPTED ? TW_TEST_ENC : TW_TEST_AUTH;
	p->udp_mode = sp.fmt.sec == TW_TEST_OPEN ? TW_MODE_OPEN : sp.fmt.sec == TW_TEST_ENC ? TW_MODE_ENC : TW_MODE_AUTH;
	sp.stamp = s->mode == TW_CONFIG_TEST_STAMP;
	sp.ssid = p->ssid;
	sp.stamp_tlvs = s->stamp_tlvs;
	sp.cos_dscp = s->dscp;
	start_sending(p, &sp);
}

/* ---- resolving ---- */

static int family_of(tw_config_ip v)
{
	return v == TW_CONFIG_IP_V4 ? AF_INET : v == TW_CONFIG_IP_V6 ? AF_INET6 : AF_UNSPEC;
}

/* The resolver's errors in words: strerror(ENOENT) would call NXDOMAIN
 * "No such file or directory". */
static const char *resolve_error_text(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such name, or no address of the family asked for";
	case -ETIMEDOUT:
		return "no DNS server answered";
	case -EIO:
		return "the DNS servers failed (SERVFAIL, REFUSED or bad answers)";
	default:
		return strerror(-err);
	}
}

static void on_resolved(void *arg, int err, const tw_sockaddr *addrs, size_t n, uint32_t ttl)
{
	tw_probe *p = arg;
	(void)ttl;
	p->dns = NULL;
	tw_counter_inc(p->env.agent->dns_lookups[err < 0 || n == 0]);
	if (err < 0 || n == 0) {
		if (p->refreshing) { /* keep measuring the address we have */
			tw_timer_in(p->env.loop, &p->timer, p->env.dns_refresh_ns);
			return;
		}
		fail(p, TW_FAIL_RESOLVE, err < 0 ? resolve_error_text(err) : "no addresses");
		return;
	}
	tw_sockaddr a = addrs[0];
	tw_sa_set_port(&a, p->t->s.port);
	if (p->refreshing) {
		tw_timer_in(p->env.loop, &p->timer, p->env.dns_refresh_ns);
		if (tw_sa_equal(&a, &p->addr))
			return;
		char old[80], new[80];
		tw_info("target address changed", "target=%s old=%s new=%s", p->log_target,
			tw_sa_format(&p->addr, old, sizeof(old)), tw_sa_format(&a, new, sizeof(new)));
		teardown(p);
	}
	p->addr = a;
	if (p->t->s.mode == TW_CONFIG_TEST_FULL)
		connect_now(p);
	else
		start_udp(p);
}

static void start_resolve(tw_probe *p, bool refresh)
{
	p->refreshing = refresh;
	if (!refresh)
		p->state = TW_PROBE_RESOLVING;
	int rc = tw_resolver_query(p->env.resolver, p->t->host, family_of(p->t->s.ip_version), on_resolved, p,
				   &p->dns);
	if (rc < 0) {
		p->dns = NULL;
		if (refresh)
			tw_timer_in(p->env.loop, &p->timer, p->env.dns_refresh_ns);
		else
			fail(p, TW_FAIL_RESOLVE, strerror(-rc));
	}
}

static void on_timer(void *arg)
{
	tw_probe *p = arg;
	start_resolve(p, p->state == TW_PROBE_UP);
}

/* ---- public ---- */

static void set_log_target(tw_probe *p)
{
	tw_log_quote(p->log_target, sizeof(p->log_target), p->t->name);
}

/* STAMP: the configured SSID, else a random non-zero one. */
static uint16_t pick_ssid(tw_probe *p, const tw_config_target *t)
{
	return t->s.ssid ? t->s.ssid : (uint16_t)(1 + tw_prng_next(&p->prng) % 65535);
}

tw_probe *tw_probe_new(const tw_probe_env *env, tw_metrics *m, const tw_config_target *t, int *err)
{
	tw_probe *p = calloc(1, sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->env = *env;
	p->metrics = m;
	p->t = t;
	set_log_target(p);
	*err = tw_metrics_target_add(m, t, &p->s);
	if (*err < 0) {
		free(p);
		return NULL;
	}
	tw_prng_seed(&p->prng, 0);
	p->ssid = pick_ssid(p, t);
	tw_timer_init(&p->timer, on_timer, p);
	tw_timer_init(&p->reaper, reap, p);
	/* A random offset inside the interval spreads many targets out. */
	int64_t offset = (int64_t)(tw_prng_next(&p->prng) % (uint64_t)t->s.interval_ns);
	tw_timer_in(env->loop, &p->timer, offset);
	return p;
}

void tw_probe_free(tw_probe *p)
{
	if (!p)
		return;
	teardown(p);
	tw_timer_stop(p->env.loop, &p->timer);
	tw_timer_stop(p->env.loop, &p->reaper);
	tw_sender_free(p->draining);
	tw_client_free(p->dead_client);
	tw_metrics_target_remove(&p->s);
	free(p);
}

/* Optional strings (NULL = unset) that differ. */
static bool str_differ(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) != 0 : a != b;
}

/* Settings that need a new TWAMP session when they change. */
static bool session_changed(const tw_config_target *a, const tw_config_target *b)
{
	const tw_config_settings *x = &a->s, *y = &b->s;
	return strcmp(a->host, b->host) != 0 || x->port != y->port || x->interval_ns != y->interval_ns ||
	       x->padding != y->padding || x->loss_timeout_ns != y->loss_timeout_ns ||
	       x->session_timeout_ns != y->session_timeout_ns || x->schedule != y->schedule ||
	       x->ip_version != y->ip_version || x->mode != y->mode || x->security != y->security ||
	       x->max_kdf_count != y->max_kdf_count || x->features != y->features || x->ssid != y->ssid ||
	       x->stamp_tlvs != y->stamp_tlvs || str_differ(x->source_address, y->source_address) ||
	       str_differ(x->source_interface, y->source_interface) || str_differ(x->identity, y->identity) ||
	       str_differ(x->key_file, y->key_file);
}

static bool buckets_changed(const tw_config_target *a, const tw_config_target *b)
{
	const tw_config_buckets *x = &a->s.buckets, *y = &b->s.buckets;
	return x->preset != y->preset || x->n != y->n || a->s.ipdv_histogram != b->s.ipdv_histogram ||
	       (x->n && memcmp(x->le_ns, y->le_ns, x->n * sizeof(x->le_ns[0])) != 0);
}

void tw_probe_reconfigure(tw_probe *p, const tw_config_target *t)
{
	const tw_config_target *old = p->t;
	bool restart = session_changed(old, t);
	bool rebucket = buckets_changed(old, t);
	p->t = t;
	set_log_target(p);
	if (rebucket && tw_metrics_target_rebucket(p->metrics, t, &p->s) < 0)
		tw_error("cannot re-create histograms", "target=%s", p->log_target);
	if (!restart)
		return;
	tw_info("session settings changed, restarting", "target=%s", p->log_target);
	teardown(p);
	if (old->s.ssid != t->s.ssid)
		p->ssid = pick_ssid(p, t);
	p->failures_in_row = 0;
	p->state = TW_PROBE_STARTING;
	tw_timer_in(p->env.loop, &p->timer, 0);
}

const tw_config_target *tw_probe_target(const tw_probe *p)
{
	return p->t;
}

const tw_target_series *tw_probe_series(const tw_probe *p)
{
	return &p->s;
}

tw_probe_info tw_probe_get_info(const tw_probe *p)
{
	tw_probe_info i = {
		.state = p->state,
		.target = p->addr,
		.test_port = p->state != TW_PROBE_UP ? 0 : p->client ? p->acc.port : p->t->s.port,
		.padding = p->t->s.padding,
		.last_error = p->last_error,
		.protocol = p->t->s.mode,
	};
	if (p->client)
		i.mode = tw_client_mode(p->client);
	else if (p->sender)
		i.mode = p->udp_mode;
	if (p->sender) {
		i.source = *tw_sender_local(p->sender);
		i.timestamping = tw_sender_counters_get(p->sender)->ts_source;
	}
	return i;
}

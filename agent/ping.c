/* ping.c - one TWAMP session and a twping-like summary (see ping.h). */
#include "ping.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "args.h"
#include "client.h"
#include "clock.h"
#include "control.h"
#include "keystore.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "qsketch.h"
#include "rng.h"
#include "sender.h"

enum { Q_RTT, Q_FWD, Q_BWD, Q_PROC, Q_COUNT };

typedef struct ping {
	const tw_ping_opts *o;
	tw_loop *loop;
	tw_client *client;
	tw_sender *sender;
	tw_keystore *keys;
	tw_qsketch *q[Q_COUNT];
	uint16_t errest;
	tw_sockaddr server;
	tw_accept_session acc;
	tw_test_fmt fmt;
	uint32_t padding;
	uint16_t ssid;
	int exit_code;
	bool finished; /* the session ran to the end */
	char error[256];
	uint64_t unsynced;
	int hops_min[2], hops_max[2];
	int rx_tos[2]; /* last DS byte seen forward (reflector's report) / backward; -1 unknown */
} ping;

/* ---- ending ---- */

static void stop_with(ping *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void stop_with(ping *p, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	p->exit_code = code;
	tw_loop_stop(p->loop);
}

static int fail_code(tw_client_fail why)
{
	switch (why) {
	case TW_CLIENT_FAIL_CONNECT:
	case TW_CLIENT_FAIL_TIMEOUT:
	case TW_CLIENT_FAIL_CLOSED:
		return TW_PING_NETWORK;
	case TW_CLIENT_FAIL_AUTH:
	case TW_CLIENT_FAIL_KDF_COUNT:
		return TW_PING_AUTH;
	default:
		return TW_PING_REFUSED;
	}
}

static void on_failed(void *arg, tw_client *c, tw_client_fail why, const char *detail)
{
	ping *p = arg;
	char a[80];
	(void)c;
	if (p->finished)
		return; /* the server closing after Stop-Sessions is normal */
	const char *what = why == TW_CLIENT_FAIL_AUTH ? "authentication failed" : tw_client_fail_name(why);
	const char *hint = why == TW_CLIENT_FAIL_KDF_COUNT ? "; raise the limit with --max-kdf-count" : "";
	stop_with(p, fail_code(why), "%s: %s (%s)%s", tw_sa_format(&p->server, a, sizeof(a)), what, detail, hint);
}

/* ---- session ---- */

static void build_request(ping *p, const tw_sockaddr *local, tw_request *r)
{
	const tw_ping_opts *o = p->o;
	int64_t timeout = o->session_timeout_ns > 0 ? o->session_timeout_ns : o->loss_timeout_ns;
	memset(r, 0, sizeof(*r));
	tw_sa_to_wire(local, &r->ipvn, r->sender_addr);
	tw_sa_to_wire(&p->server, &r->ipvn, r->receiver_addr);
	r->sender_port = tw_sa_port(local);
	/* Like twping: ask for our own port number; a server on this host
	 * finds it busy and returns another one (always use Accept's port). */
	r->receiver_port = r->sender_port;
	r->padding = p->padding;
	r->timeout = tw_ts_interval_from_ns((uint64_t)timeout);
	r->type_p = tw_type_p_from_dscp((unsigned)o->dscp);
}

static void on_ready(void *arg, tw_client *c)
{
	ping *p = arg;
	p->fmt = tw_test_fmt_for_mode(tw_client_mode(c));
	p->padding = p->o->padding >= 0 ? (uint32_t)p->o->padding : (uint32_t)tw_test_symmetric_padding(&p->fmt);
	tw_sockaddr local = *tw_client_local(c);
	tw_sa_set_port(&local, 0);
	int err;
	p->sender = tw_sender_open(p->loop, &local, p->o->dscp, p->o->ifname, &err);
	if (!p->sender) {
		stop_with(p, TW_PING_NETWORK, "cannot open the test socket: %s", strerror(-err));
		return;
	}
	tw_request r;
	build_request(p, tw_sender_local(p->sender), &r);
	if (tw_client_request(c, &r) < 0)
		stop_with(p, TW_PING_NETWORK, "cannot send Request-TW-Session");
}

static void on_result(void *arg, const tw_stats_result *r, const tw_reflector_fields *rf, const tw_sender_reply *x)
{
	ping *p = arg;
	if (r->cls != TW_STATS_NEW)
		return;
	/* forward: what the reflector reports (RFC 7750, STAMP Class of Service) */
	if (p->fmt.dscp_ecn || (x->stamp && (x->tlv.seen & (1u << TW_TLV_COS))))
		p->rx_tos[TW_STATS_FWD] = rf->sender_tos;
	if (x->rx_tos >= 0)
		p->rx_tos[TW_STATS_BWD] = x->rx_tos;
	tw_qsketch_add(p->q[Q_RTT], r->rtt_ns);
	tw_qsketch_add(p->q[Q_FWD], r->fwd_ns);
	tw_qsketch_add(p->q[Q_BWD], r->bwd_ns);
	tw_qsketch_add(p->q[Q_PROC], r->proc_ns);
	p->unsynced += !r->synced;
	for (int d = 0; d < 2; d++) {
		if (p->hops_min[d] < 0 || r->hops[d] < p->hops_min[d])
			p->hops_min[d] = r->hops[d];
		if (r->hops[d] > p->hops_max[d])
			p->hops_max[d] = r->hops[d];
	}
}

static void on_done(void *arg)
{
	ping *p = arg;
	p->finished = true;
	if (p->client)
		tw_client_stop(p->client, TW_ACCEPT_OK);
	tw_loop_stop(p->loop);
}

static void on_accepted(void *arg, tw_client *c, const tw_accept_session *a)
{
	ping *p = arg;
	p->acc = *a;
	if (a->accept != TW_ACCEPT_OK) {
		stop_with(p, TW_PING_REFUSED, "the server refused the session: Accept %u (%s)", a->accept,
			  tw_accept_str(a->accept));
		return;
	}
	if (tw_client_start(c) < 0)
		stop_with(p, TW_PING_NETWORK, "cannot send Start-Sessions");
}

static tw_sender_params sender_params(ping *p)
{
	const tw_ping_opts *o = p->o;
	tw_sender_params sp = {
		.fmt = p->fmt,
		.reflector = p->server,
		.padding = p->padding,
		.zero_padding = o->zero_padding,
		.interval_ns = o->interval_ns,
		.poisson = o->poisson,
		.count = o->count,
		.loss_timeout_ns = o->loss_timeout_ns,
		.errest = &p->errest,
		.on_result = on_result,
		.on_done = on_done,
		.arg = p,
	};
	return sp;
}

static void start_sending(ping *p, tw_sender_params *sp)
{
	int rc = tw_sender_start(p->sender, sp);
	if (rc < 0)
		stop_with(p, TW_PING_NETWORK, "cannot start sending: %s", strerror(-rc));
}

static void on_started(void *arg, tw_client *c)
{
	ping *p = arg;
	tw_sender_params sp = sender_params(p);
	sp.crypto = tw_client_test_crypto(c, p->acc.sid);
	tw_sa_set_port(&sp.reflector, p->acc.port);
	start_sending(p, &sp);
}

static void on_sigint(void *arg, int signo)
{
	ping *p = arg;
	(void)signo;
	if (p->sender && tw_sender_running(p->sender))
		tw_sender_finish(p->sender); /* summary after the packets in flight */
	else
		stop_with(p, TW_PING_NETWORK, "interrupted");
}

/* ---- output ---- */

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static void quantiles(const tw_qsketch *q, int64_t v[4])
{
	static const double qs[4] = { 0.0, 0.5, 0.95, 1.0 };
	for (int i = 0; i < 4; i++)
		tw_qsketch_quantile(q, qs[i], &v[i]);
}

static void print_line(const char *label, const tw_qsketch *q, const char *note)
{
	int64_t v[4];
	if (tw_qsketch_count(q) == 0)
		return;
	quantiles(q, v);
	printf("%-22s min/median/p95/max = %.3f/%.3f/%.3f/%.3f ms%s\n", label, ms(v[0]), ms(v[1]), ms(v[2]), ms(v[3]),
	       note);
}

/* A session that never negotiated a mode ran unauthenticated (Light). */
static const char *mode_name(uint32_t mode)
{
	const char *s = tw_mode_name(mode);
	return *s ? s : "unauthenticated";
}

/* "unauthenticated", "light", "stamp authenticated", ... */
static const char *session_mode(const ping *p, char *buf, size_t cap)
{
	if (p->client)
		return mode_name(tw_client_mode(p->client));
	const char *proto = p->o->protocol == TW_PING_STAMP ? "stamp" : "light";
	if (p->fmt.sec == TW_TEST_OPEN)
		return proto;
	snprintf(buf, cap, "%s %s", proto, p->fmt.sec == TW_TEST_ENC ? "encrypted" : "authenticated");
	return buf;
}

/* The SID (TWAMP), SSID (STAMP) or nothing (Light). */
static const char *session_id(const ping *p, char *buf, size_t cap)
{
	if (p->o->protocol == TW_PING_STAMP)
		snprintf(buf, cap, "ssid %u", p->ssid);
	else if (p->o->protocol == TW_PING_LIGHT)
		snprintf(buf, cap, "-");
	else
		for (int i = 0; i < TW_SID_LEN && 2 * (size_t)i + 2 < cap; i++)
			snprintf(buf + 2 * i, 3, "%02x", p->acc.sid[i]);
	return buf;
}

/* Where the test packets went: the server, on the accepted port (TWAMP). */
static tw_sockaddr reflector_addr(const ping *p)
{
	tw_sockaddr to = p->server;
	if (p->client)
		tw_sa_set_port(&to, p->acc.port);
	return to;
}

/* The optional features negotiated (none without TWAMP-Control). */
static uint32_t features(const ping *p)
{
	return p->client ? tw_client_mode(p->client) & ~TW_MODES_SECURITY : 0;
}

static void print_hops(const ping *p, int d, const char *label)
{
	if (p->hops_min[d] < 0)
		return;
	if (p->hops_min[d] == p->hops_max[d])
		printf("%s hops = %d (consistently)\n", label, p->hops_min[d]);
	else
		printf("%s hops takes %d values; min hops = %d, max hops = %d\n", label,
		       p->hops_max[d] - p->hops_min[d] + 1, p->hops_min[d], p->hops_max[d]);
}

static void print_text(const ping *p, const tw_stats_counters *c)
{
	char src[80], dst[80], sid[40], t0[40], t1[40], mode[40], feat[80];
	tw_sockaddr to = reflector_addr(p);
	printf("--- twamp-agent ping statistics from %s to %s ---\n",
	       tw_sa_format(tw_sender_local(p->sender), src, sizeof(src)), tw_sa_format(&to, dst, sizeof(dst)));
	printf("mode: %s, SID: %s, padding: %u, DSCP: %d\n", session_mode(p, mode, sizeof(mode)),
	       session_id(p, sid, sizeof(sid)), p->padding, p->o->dscp);
	if (features(p))
		printf("features: %s\n", tw_features_format(features(p), feat, sizeof(feat)));
	const tw_sender_counters *sc = tw_sender_counters_get(p->sender);
	printf("first: %s\nlast:  %s\n", tw_log_format_time(sc->first_send_real_ns, t0, sizeof(t0)),
	       tw_log_format_time(sc->last_send_real_ns, t1, sizeof(t1)));
	double loss = c->sent ? 100.0 * (double)c->lost / (double)c->sent : 0.0;
	printf("%llu sent, %llu received, %llu lost (%.3f%%), %llu late, %llu send duplicates, %llu reflect "
	       "duplicates, %llu reordered\n",
	       (unsigned long long)c->sent, (unsigned long long)c->received, (unsigned long long)c->lost, loss,
	       (unsigned long long)c->late, (unsigned long long)c->duplicates[TW_STATS_FWD],
	       (unsigned long long)c->duplicates[TW_STATS_BWD], (unsigned long long)c->reordered_rt);
	const char *note = p->unsynced ? "  (clocks not synchronised: may be inaccurate)" : "";
	print_line("round-trip time", p->q[Q_RTT], "");
	print_line("send time", p->q[Q_FWD], note);
	print_line("reflect time", p->q[Q_BWD], note);
	print_line("reflector processing", p->q[Q_PROC], "");
	if (c->received)
		printf("jitter (RFC 3550): round-trip %.3f ms, send %.3f ms, reflect %.3f ms\n", ms(c->jitter_rtt_ns),
		       ms(c->jitter_ns[TW_STATS_FWD]), ms(c->jitter_ns[TW_STATS_BWD]));
	print_hops(p, TW_STATS_FWD, "send");
	print_hops(p, TW_STATS_BWD, "reflect");
}

/* "name":{...} or "name":null, then a comma (never the last member). */
static void json_quantiles(const char *name, const tw_qsketch *q)
{
	int64_t v[4];
	if (tw_qsketch_count(q) == 0) {
		printf("\"%s\":null,", name);
		return;
	}
	quantiles(q, v);
	printf("\"%s\":{\"min\":%.9f,\"p50\":%.9f,\"p95\":%.9f,\"max\":%.9f},", name, (double)v[0] / 1e9,
	       (double)v[1] / 1e9, (double)v[2] / 1e9, (double)v[3] / 1e9);
}

/* "received_dscp":{"forward":46,"backward":null} */
static void json_dscp(const ping *p)
{
	printf("\"received_dscp\":{");
	for (int d = 0; d < 2; d++) {
		printf("\"%s\":", d == TW_STATS_FWD ? "forward" : "backward");
		if (p->rx_tos[d] < 0)
			printf("null");
		else
			printf("%d", p->rx_tos[d] >> 2);
		printf(d == TW_STATS_FWD ? "," : "},");
	}
}

static void print_json(const ping *p, const tw_stats_counters *c)
{
	char src[80], dst[80], sid[40], mode[40], feat[80];
	static const char *const protocols[] = { "twamp", "light", "stamp" };
	tw_sockaddr to = reflector_addr(p);
	printf("{\"protocol\":\"%s\",\"source\":\"%s\",\"reflector\":\"%s\",\"mode\":\"%s\",\"sid\":\"%s\","
	       "\"padding\":%u,\"dscp\":%d,",
	       protocols[p->o->protocol], tw_sa_format(tw_sender_local(p->sender), src, sizeof(src)),
	       tw_sa_format(&to, dst, sizeof(dst)), session_mode(p, mode, sizeof(mode)), session_id(p, sid, sizeof(sid)),
	       p->padding, p->o->dscp);
	printf("\"features\":\"%s\",", tw_features_format(features(p), feat, sizeof(feat)));
	json_dscp(p);
	printf("\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"late\":%llu,", (unsigned long long)c->sent,
	       (unsigned long long)c->received, (unsigned long long)c->lost, (unsigned long long)c->late);
	printf("\"duplicates\":{\"forward\":%llu,\"backward\":%llu},\"reordered\":%llu,",
	       (unsigned long long)c->duplicates[TW_STATS_FWD], (unsigned long long)c->duplicates[TW_STATS_BWD],
	       (unsigned long long)c->reordered_rt);
	printf("\"clocks_synchronized\":%s,", p->unsynced || !c->received ? "false" : "true");
	json_quantiles("rtt", p->q[Q_RTT]);
	json_quantiles("forward", p->q[Q_FWD]);
	json_quantiles("backward", p->q[Q_BWD]);
	json_quantiles("processing", p->q[Q_PROC]);
	printf("\"jitter\":{\"rtt\":%.9f,\"forward\":%.9f,\"backward\":%.9f},", (double)c->jitter_rtt_ns / 1e9,
	       (double)c->jitter_ns[TW_STATS_FWD] / 1e9, (double)c->jitter_ns[TW_STATS_BWD] / 1e9);
	printf("\"hops\":{\"forward\":%d,\"backward\":%d}}\n", p->hops_max[TW_STATS_FWD], p->hops_max[TW_STATS_BWD]);
}

/* ---- set-up ---- */

static int load_keys(ping *p, tw_client_params *cp)
{
	const tw_ping_opts *o = p->o;
	bool keyed = (o->modes & (TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED)) != 0;
	if (!keyed)
		return 0;
	if (!o->key_file || !o->identity) {
		if (o->modes & TW_MODE_OPEN) {
			cp->modes = TW_MODE_OPEN; /* "auto" without keys: open only */
			return 0;
		}
		fprintf(stderr, "twamp-agent ping: --mode %s needs --identity NAME and --key-file FILE\n",
			mode_name(o->modes));
		return TW_PING_USAGE;
	}
	char err[TW_KEYSTORE_ERR_LEN];
	if (tw_keystore_load(o->key_file, &p->keys, err, sizeof(err)) < 0) {
		fprintf(stderr, "twamp-agent ping: %s\n", err);
		return TW_PING_AUTH;
	}
	if (!tw_keystore_lookup(p->keys, o->identity, &cp->secret, &cp->secret_len)) {
		fprintf(stderr, "twamp-agent ping: identity '%s' not found in %s\n", o->identity, o->key_file);
		return TW_PING_AUTH;
	}
	cp->identity = o->identity;
	return 0;
}

static int resolve(ping *p)
{
	const tw_ping_opts *o = p->o;
	int gai = 0;
	if (tw_net_resolve(o->host, o->port, o->family, &p->server, &gai) < 0) {
		fprintf(stderr, "twamp-agent ping: cannot resolve '%s': %s\n", o->host, gai_strerror(gai));
		return TW_PING_NETWORK;
	}
	return 0;
}

static int source_addr(const tw_ping_opts *o, tw_sockaddr *out)
{
	if (tw_sa_from_numeric(o->source, 0, out) == 0)
		return 0;
	fprintf(stderr, "twamp-agent ping: --source '%s': expected an IPv4 or IPv6 address\n", o->source);
	return TW_PING_USAGE;
}

/* ---- TWAMP Light and STAMP: no control connection ---- */

/* --mode with one keyed mode picks keyed Light/STAMP; the default (auto)
 * and open are unauthenticated: there is nothing to negotiate. */
static int udp_security(ping *p, tw_test_sec *sec)
{
	uint32_t m = p->o->modes;
	*sec = m == TW_MODE_AUTH ? TW_TEST_AUTH : m == TW_MODE_ENC ? TW_TEST_ENC : TW_TEST_OPEN;
	if (m == TW_MODE_MIXED || (m == TW_MODE_ENC && p->o->protocol == TW_PING_STAMP)) {
		fprintf(stderr, "twamp-agent ping: --mode %s is not available with %s\n", mode_name(m),
			p->o->protocol == TW_PING_STAMP ? "--stamp" : "--light");
		return TW_PING_USAGE;
	}
	return 0;
}

static int udp_crypto(ping *p, tw_test_sec sec, tw_test_crypto **out)
{
	tw_client_params cp = { .modes = p->o->modes };
	*out = NULL;
	if (sec == TW_TEST_OPEN)
		return 0;
	int rc = load_keys(p, &cp);
	if (rc != 0)
		return rc;
	if (p->o->protocol == TW_PING_STAMP) {
		*out = tw_test_crypto_new(NULL, cp.secret, cp.secret_len, TW_MAC_HMAC_SHA256);
	} else if (cp.secret_len == TW_AES_KEY_LEN + TW_HMAC_KEY_LEN) {
		*out = tw_test_crypto_new(cp.secret, cp.secret + TW_AES_KEY_LEN, TW_HMAC_KEY_LEN, TW_MAC_HMAC_SHA1);
	} else {
		fprintf(stderr, "twamp-agent ping: the TWAMP Light secret of '%s' must be 48 octets "
				"(AES-128 key || HMAC key)\n", p->o->identity);
		return TW_PING_AUTH;
	}
	return *out ? 0 : TW_PING_AUTH;
}

static int start_udp(ping *p)
{
	const tw_ping_opts *o = p->o;
	tw_test_sec sec;
	tw_test_crypto *crypto = NULL;
	int rc = udp_security(p, &sec);
	if (rc == 0)
		rc = udp_crypto(p, sec, &crypto);
	tw_sockaddr local;
	if (rc == 0 && o->source)
		rc = source_addr(o, &local);
	else if (rc == 0)
		tw_sa_from_numeric(tw_sa_family(&p->server) == AF_INET6 ? "::" : "0.0.0.0", 0, &local);
	int err = 0;
	if (rc == 0 && !(p->sender = tw_sender_open(p->loop, &local, o->dscp, o->ifname, &err))) {
		fprintf(stderr, "twamp-agent ping: cannot open the test socket: %s\n", strerror(-err));
		rc = TW_PING_NETWORK;
	}
	if (rc != 0) {
		tw_test_crypto_free(crypto);
		return rc;
	}
	p->fmt.sec = sec;
	bool stamp = o->protocol == TW_PING_STAMP;
	p->padding = o->padding >= 0 ? (uint32_t)o->padding : stamp ? 0 : (uint32_t)tw_test_symmetric_padding(&p->fmt);
	if (stamp && !(p->ssid = o->ssid)) {
		tw_rng_secure(&p->ssid, sizeof(p->ssid));
		p->ssid = p->ssid ? p->ssid : 1; /* SSID 0 means "none" */
	}
	tw_sender_params sp = sender_params(p);
	sp.crypto = crypto;
	sp.padding = p->padding;
	sp.stamp = stamp;
	sp.ssid = p->ssid;
	sp.stamp_tlvs = o->tlvs;
	sp.cos_dscp = (uint8_t)o->dscp;
	start_sending(p, &sp);
	return p->exit_code;
}

static int start(ping *p)
{
	if (p->o->protocol != TW_PING_TWAMP)
		return start_udp(p);
	tw_client_params cp = {
		.server = p->server,
		.ifname = p->o->ifname,
		.modes = p->o->modes,
		.features = p->o->features,
		.max_kdf_count = p->o->max_kdf_count,
		.timeout_ns = p->o->connect_timeout_ns,
		.cbs = { on_ready, on_accepted, on_started, on_failed, p },
	};
	tw_sockaddr src;
	int rc = load_keys(p, &cp);
	if (rc == 0 && p->o->source && (rc = source_addr(p->o, &src)) == 0)
		cp.local = &src;
	if (rc != 0)
		return rc;
	int err;
	p->client = tw_client_new(p->loop, &cp, &err);
	if (!p->client) {
		fprintf(stderr, "twamp-agent ping: cannot connect: %s\n", strerror(-err));
		return TW_PING_NETWORK;
	}
	return 0;
}

static int report(ping *p)
{
	if (!p->finished) {
		fprintf(stderr, "twamp-agent ping: %s\n", p->error[0] ? p->error : "session did not complete");
		return p->exit_code ? p->exit_code : TW_PING_NETWORK;
	}
	tw_stats_counters c;
	tw_stats_get(tw_sender_stats(p->sender), &c);
	if (p->o->json)
		print_json(p, &c);
	else
		print_text(p, &c);
	fflush(stdout);
	return c.received ? TW_PING_OK : TW_PING_ALL_LOST;
}

static void cleanup(ping *p)
{
	tw_sender_free(p->sender);
	tw_client_free(p->client);
	tw_keystore_free(p->keys);
	for (int i = 0; i < Q_COUNT; i++)
		tw_qsketch_free(p->q[i]);
	tw_loop_free(p->loop);
}

int tw_ping_run(const tw_ping_opts *o)
{
	ping p = { .o = o, .hops_min = { -1, -1 }, .rx_tos = { -1, -1 } };
	tw_sync_state st = tw_clock_sync_state();
	p.errest = tw_clock_errest_word(&st);
	p.loop = tw_loop_new(NULL);
	bool ok = p.loop != NULL;
	for (int i = 0; i < Q_COUNT; i++)
		ok = (p.q[i] = tw_qsketch_new()) != NULL && ok;
	int rc = ok ? resolve(&p) : TW_PING_NETWORK;
	if (rc == 0)
		rc = start(&p);
	if (rc == 0) {
		tw_loop_signal(p.loop, SIGINT, on_sigint, &p);
		tw_loop_signal(p.loop, SIGTERM, on_sigint, &p);
		tw_loop_run(p.loop);
		rc = report(&p);
	}
	cleanup(&p);
	return rc;
}

/*
 * discovery_http.c - the http_sd source: GET the URL, expect a Prometheus
 * http_sd JSON array, within the loop.
 *
 * libcurl's multi socket interface: CURLMOPT_SOCKETFUNCTION adds, changes
 * and removes loop handles for the transfer's sockets, CURLMOPT_TIMERFUNCTION
 * arms one loop timer, and both call curl_multi_socket_action. The URL's
 * host is resolved first with the in-loop tw_resolver and handed to curl
 * through CURLOPT_RESOLVE, so libcurl never starts its threaded resolver
 * (a redirect to another host would). TLS peer and host verification stay
 * on; the body is capped (Content-Length and while receiving); non-2xx is a
 * failure; at most MAX_REDIRS redirects, over http and https only. The
 * bearer token is read from its file on every fetch and never logged.
 */
#include "discovery_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "version.h"

enum { MAX_REDIRS = 5, TOKEN_MAX = 16384, ADDRS_MAX = 16 };
#define BODY_MAX_DEFAULT ((size_t)16 << 20)
#define NS_PER_MS INT64_C(1000000)

typedef struct http_src http_src;

/* One socket libcurl asked us to watch. */
typedef struct http_sock {
	tw_io io;
	curl_socket_t fd;
	http_src *s;
	struct http_sock *next;
} http_sock;

struct http_src {
	tw_discovery *d;
	CURLM *multi;
	CURL *easy; /* the transfer under way, or NULL */
	tw_timer timer;
	http_sock *socks;
	tw_resolve_req *req;
	char host[TW_ADDR_HOST_MAX + 1]; /* the URL's, no brackets */
	long port;
	bool literal;
	char display[512]; /* the URL without user and password, for messages */
	char *body;
	size_t len, max;
	bool too_big;
	struct curl_slist *headers, *resolve;
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- finishing a transfer ---- */

static void transfer_end(http_src *s)
{
	if (s->easy) {
		curl_multi_remove_handle(s->multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->headers);
	curl_slist_free_all(s->resolve);
	s->headers = s->resolve = NULL;
	free(s->body);
	s->body = NULL;
	s->len = 0;
	s->too_big = false;
}

static void fail(http_src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(http_src *s, const char *fmt, ...)
{
	char msg[1024];
	int w = snprintf(msg, sizeof(msg), "%.511s: ", s->display);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + w, sizeof(msg) - (size_t)w, fmt, ap);
	va_end(ap);
	transfer_end(s);
	disc_result(s->d, NULL, msg);
}

static void parse_body(http_src *s)
{
	tw_sd_doc *doc = NULL;
	tw_sd_error err;
	int rc = tw_sd_parse_json(s->body ? s->body : "", s->len, &doc, &err);
	if (rc < 0) {
		fail(s, "%s", rc == -ENOMEM ? "out of memory" : err.msg);
		return;
	}
	disc_cands c = { 0 };
	disc_cands_add_doc(&c, doc);
	tw_sd_doc_free(doc);
	transfer_end(s);
	disc_result(s->d, &c, NULL);
}

static void done(http_src *s, CURLcode res)
{
	long status = 0;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	if (s->too_big || res == CURLE_FILESIZE_EXCEEDED)
		fail(s, "response larger than %zu octets", s->max);
	else if (res != CURLE_OK)
		fail(s, "%s%s%s", curl_easy_strerror(res), s->errbuf[0] ? ": " : "", s->errbuf);
	else if (status < 200 || status > 299)
		fail(s, "HTTP status %ld", status);
	else
		parse_body(s);
}

static void check_done(http_src *s)
{
	CURLMsg *m;
	int left;
	while (s->easy && (m = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (m->msg == CURLMSG_DONE && m->easy_handle == s->easy) {
			done(s, m->data.result);
			return; /* done() may have started the next refresh's state */
		}
	}
}

/* ---- libcurl <-> loop ---- */

static void on_sock(void *arg, uint32_t events)
{
	http_sock *hs = arg;
	http_src *s = hs->s;
	int flags = (events & EPOLLIN ? CURL_CSELECT_IN : 0) | (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
		(events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
	int running;
	curl_multi_socket_action(s->multi, hs->fd, flags, &running); /* may free hs */
	check_done(s);
}

static void on_timer(void *arg)
{
	http_src *s = arg;
	int running;
	curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(s);
}

static void sock_remove(http_src *s, http_sock *hs)
{
	for (http_sock **p = &s->socks; *p; p = &(*p)->next) {
		if (*p == hs) {
			*p = hs->next;
			break;
		}
	}
	tw_io_del(s->d->loop, &hs->io);
	free(hs);
}

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	http_src *s = userp;
	http_sock *hs = socketp;
	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (hs)
			sock_remove(s, hs);
		curl_multi_assign(s->multi, fd, NULL);
		return 0;
	}
	uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (hs)
		return tw_io_mod(s->d->loop, &hs->io, ev) < 0 ? -1 : 0;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -1;
	*hs = (http_sock){ .fd = fd, .s = s, .next = s->socks };
	tw_io_init(&hs->io);
	if (tw_io_add(s->d->loop, &hs->io, fd, ev, on_sock, hs) < 0) {
		free(hs);
		return -1;
	}
	s->socks = hs;
	curl_multi_assign(s->multi, fd, hs);
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	http_src *s = userp;
	(void)m;
	if (timeout_ms < 0)
		tw_timer_stop(s->d->loop, &s->timer);
	else if (tw_timer_in(s->d->loop, &s->timer, (int64_t)timeout_ms * NS_PER_MS) < 0)
		return -1;
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t n, void *userp)
{
	http_src *s = userp;
	size_t len = size * n;
	if (len > s->max - s->len) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	char *nb = realloc(s->body, s->len + len + 1);
	if (!nb)
		return 0;
	s->body = nb;
	memcpy(s->body + s->len, data, len);
	s->len += len;
	return len;
}

/* ---- starting a transfer ---- */

/* The bearer token: the file's first line, trailing white space cut. */
static int read_token(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ssize_t r = read(fd, buf, cap - 1);
	int e = errno;
	close(fd);
	if (r < 0)
		return -e;
	size_t n = (size_t)r;
	buf[n] = '\0';
	char *nl = strpbrk(buf, "\r\n");
	if (nl)
		*nl = '\0';
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	return n > 0 ? 0 : -ENODATA;
}

static bool set_headers(http_src *s)
{
	char h[96];
	snprintf(h, sizeof(h), "X-Prometheus-Refresh-Interval-Seconds: %lld",
		 (long long)(s->d->g->discovery->refresh_ns / 1000000000));
	s->headers = curl_slist_append(NULL, "Accept: application/json");
	struct curl_slist *l = s->headers ? curl_slist_append(s->headers, h) : NULL;
	if (l)
		s->headers = l;
	return l != NULL;
}

/* "HOST:PORT:ADDR[,ADDR...]" for CURLOPT_RESOLVE. */
static bool set_resolve(http_src *s, const tw_sockaddr *addrs, size_t n)
{
	char entry[TW_ADDR_HOST_MAX + 16 + ADDRS_MAX * 50];
	size_t w = (size_t)snprintf(entry, sizeof(entry), "%s:%ld:", s->host, s->port);
	for (size_t i = 0; i < n && i < ADDRS_MAX && w < sizeof(entry); i++) {
		char a[64];
		tw_sa_format_host(&addrs[i], a, sizeof(a));
		bool v6 = tw_sa_family(&addrs[i]) == AF_INET6;
		w += (size_t)snprintf(entry + w, sizeof(entry) - w, "%s%s%s%s", i ? "," : "", v6 ? "[" : "",
				      a, v6 ? "]" : "");
	}
	s->resolve = curl_slist_append(NULL, entry);
	return s->resolve != NULL;
}

static bool configure(http_src *s, const char *token)
{
	const tw_config_discovery *cd = s->d->g->discovery;
	CURL *e = s->easy;
	long timeout_ms = (long)(cd->timeout_ns / NS_PER_MS);
	bool ok = curl_easy_setopt(e, CURLOPT_URL, cd->url) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)MAX_REDIRS) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_USERAGENT, "twamp-agent/" TW_VERSION) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
	if (cd->tls_ca_file)
		ok &= curl_easy_setopt(e, CURLOPT_CAINFO, cd->tls_ca_file) == CURLE_OK;
	if (s->d->opts.http_ca_path)
		ok &= curl_easy_setopt(e, CURLOPT_CAPATH, s->d->opts.http_ca_path) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_WRITEDATA, s) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf) == CURLE_OK;
	if (s->resolve)
		ok &= curl_easy_setopt(e, CURLOPT_RESOLVE, s->resolve) == CURLE_OK;
	if (token) {
		ok &= curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BEARER) == CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, token) == CURLE_OK;
	}
	return ok;
}

static void start(http_src *s, const tw_sockaddr *addrs, size_t n)
{
	char token[TOKEN_MAX];
	const char *bearer = s->d->g->discovery->bearer_token_file;
	if (bearer) {
		int rc = read_token(bearer, token, sizeof(token));
		if (rc < 0) {
			fail(s, "cannot read bearer_token_file %s: %s", bearer,
			     rc == -ENODATA ? "empty" : strerror(-rc));
			return;
		}
	}
	s->errbuf[0] = '\0';
	s->easy = curl_easy_init();
	bool ok = s->easy && set_headers(s) && (!n || set_resolve(s, addrs, n)) &&
		configure(s, bearer ? token : NULL);
	explicit_bzero(token, sizeof(token));
	if (!ok || curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
		fail(s, "cannot set up the transfer");
}

static void on_resolved(void *arg, int err, const tw_sockaddr *addrs, size_t n, uint32_t ttl)
{
	http_src *s = arg;
	(void)ttl;
	s->req = NULL;
	if (err < 0)
		fail(s, "cannot resolve %s: %s", s->host, disc_dns_error_text(err));
	else
		start(s, addrs, n);
}

static void http_refresh(tw_discovery *d)
{
	http_src *s = d->src;
	if (s->easy || s->req)
		return; /* the previous fetch is still under way */
	if (s->literal) {
		start(s, NULL, 0);
		return;
	}
	int rc = tw_resolver_query(d->resolver, s->host, AF_UNSPEC, on_resolved, s, &s->req);
	if (rc < 0) {
		s->req = NULL;
		fail(s, "cannot resolve %s: %s", s->host, strerror(-rc));
	}
}

/* ---- life cycle ---- */

/* Host, port and the display form of the URL. */
static int parse_url(http_src *s, const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *shown = NULL;
	int rc = -EINVAL;
	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		size_t n = strlen(host);
		bool br = n >= 2 && host[0] == '[';
		snprintf(s->host, sizeof(s->host), "%.*s", (int)(br ? n - 2 : n), host + br);
		s->port = strtol(port, NULL, 10);
		s->literal = tw_addr_literal_family(s->host) != 0;
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		if (curl_url_get(u, CURLUPART_URL, &shown, 0) == CURLUE_OK)
			snprintf(s->display, sizeof(s->display), "%s", shown);
		rc = 0;
	}
	curl_free(host);
	curl_free(port);
	curl_free(shown);
	curl_url_cleanup(u);
	return rc;
}

static void http_fini(tw_discovery *d)
{
	http_src *s = d->src;
	if (!s)
		return;
	tw_resolver_cancel(d->resolver, s->req);
	transfer_end(s);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	while (s->socks)
		sock_remove(s, s->socks);
	tw_timer_stop(d->loop, &s->timer);
	free(s);
	d->src = NULL;
}

static int http_init(tw_discovery *d)
{
	static bool global_done;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		global_done = true;
	}
	http_src *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	d->src = s;
	s->d = d;
	s->max = d->opts.http_max_body ? d->opts.http_max_body : BODY_MAX_DEFAULT;
	tw_timer_init(&s->timer, on_timer, s);
	int rc = parse_url(s, d->g->discovery->url);
	s->multi = rc == 0 ? curl_multi_init() : NULL;
	if (rc == 0 && !s->multi)
		rc = -ENOMEM;
	if (rc == 0) {
		curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
		curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
		curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
		curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	}
	if (rc < 0)
		http_fini(d);
	return rc;
}

const disc_ops disc_http_ops = { http_init, http_refresh, http_fini };

/* client.c - TWAMP Control-Client over a non-blocking socket (see client.h). */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctrl_client.h"
#include "rng.h"

#define OUT_CAP 1024
#define READ_CHUNK 1024
#define MAX_SIDS 16 /* sessions per connection (the state machine's limit too) */

struct tw_client {
	tw_loop *loop;
	tw_client_params p;
	int fd;
	tw_io io;
	tw_timer timer; /* connect / reply timeout */
	bool connected;
	bool failed;
	tw_cli *fsm;
	tw_sockaddr local;
	uint8_t *secret; /* our copy: the caller's key store may be replaced */
	uint8_t sids[MAX_SIDS][TW_SID_LEN]; /* accepted sessions, for Start-N/Stop-N */
	uint32_t nsids;
	char identity[TW_KEYID_LEN + 1];
	uint8_t out[OUT_CAP];
	size_t out_len;
};

static const char *const fail_names[TW_CLIENT_FAIL_COUNT] = {
	"connect", "refused", "authentication", "server_refused", "kdf_count", "protocol", "timeout", "closed",
};

const char *tw_client_fail_name(tw_client_fail f)
{
	return (unsigned)f < TW_CLIENT_FAIL_COUNT ? fail_names[f] : "unknown";
}

/* Tears the connection down and tells the owner once. */
static void fail(tw_client *c, tw_client_fail why, const char *detail)
{
	if (c->failed)
		return;
	c->failed = true;
	tw_timer_stop(c->loop, &c->timer);
	tw_io_del(c->loop, &c->io);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->p.cbs.failed)
		c->p.cbs.failed(c->p.cbs.arg, c, why, detail);
}

static void on_timeout(void *arg)
{
	tw_client *c = arg;
	fail(c, c->connected ? TW_CLIENT_FAIL_TIMEOUT : TW_CLIENT_FAIL_CONNECT,
	     c->connected ? "no answer from the server" : "connect timed out");
}

/* A reply is due: (re)arm the timeout. */
static void expect_reply(tw_client *c)
{
	if (c->p.timeout_ns > 0)
		tw_timer_in(c->loop, &c->timer, c->p.timeout_ns);
}

static int flush(tw_client *c)
{
	int rc = tw_net_stream_flush(c->fd, c->out, &c->out_len);
	if (rc < 0)
		return rc;
	return tw_io_mod(c->loop, &c->io, EPOLLIN | (c->out_len ? EPOLLOUT : 0));
}

static int queue(tw_client *c, const uint8_t *msg, int len)
{
	if (len < 0)
		return len;
	if ((size_t)len > OUT_CAP - c->out_len)
		return -ENOBUFS;
	memcpy(c->out + c->out_len, msg, (size_t)len);
	c->out_len += (size_t)len;
	int rc = flush(c);
	if (rc < 0)
		fail(c, TW_CLIENT_FAIL_CLOSED, "write failed");
	return rc;
}

/* ---- server messages ---- */

static void on_greeting(tw_client *c, const tw_greeting *g)
{
	uint32_t mode = tw_mode_choose(g->modes, c->p.modes);
	uint8_t out[TW_SETUP_LEN];
	char detail[96];
	if (g->modes == 0 || mode == 0) {
		/* We close rather than answer Mode 0 (both allowed, RFC 4656 §3.1). */
		snprintf(detail, sizeof(detail), g->modes ? "no common mode: server offers 0x%x, we allow 0x%x"
							  : "server refuses to talk (Modes 0)",
			 g->modes, c->p.modes);
		fail(c, TW_CLIENT_FAIL_REFUSED, detail);
		return;
	}
	/* Feature bits only when offered: twampd refuses any it does not know. */
	mode |= c->p.features & g->modes & ~TW_MODES_SECURITY;
	mode |= g->modes & TW_MODE_PTP;
	tw_cli_random rnd;
	tw_rng_secure(&rnd, sizeof(rnd));
	int n = tw_cli_setup(c->fsm, mode, c->p.identity, c->p.secret, c->p.secret_len, &rnd, c->p.max_kdf_count, out,
			     sizeof(out));
	tw_wipe(&rnd, sizeof(rnd));
	if (n == -E2BIG) {
		snprintf(detail, sizeof(detail), "greeting Count %u exceeds the limit %u", g->count, c->p.max_kdf_count);
		fail(c, TW_CLIENT_FAIL_KDF_COUNT, detail);
		return;
	}
	if (n < 0) {
		fail(c, TW_CLIENT_FAIL_PROTOCOL, "cannot build Set-Up-Response");
		return;
	}
	if (queue(c, out, n) == 0)
		expect_reply(c);
}

static void on_server_start(tw_client *c, const tw_server_start *m)
{
	tw_timer_stop(c->loop, &c->timer);
	if (m->accept != TW_ACCEPT_OK) {
		bool keyed = tw_mode_security(tw_cli_mode(c->fsm)) != TW_MODE_OPEN;
		char detail[96];
		snprintf(detail, sizeof(detail), "Server-Start Accept %u (%s)", m->accept, tw_accept_str(m->accept));
		fail(c, keyed ? TW_CLIENT_FAIL_AUTH : TW_CLIENT_FAIL_SERVER, detail);
		return;
	}
	if (c->p.cbs.ready)
		c->p.cbs.ready(c->p.cbs.arg, c);
}

/* ISC: a Start-N-Ack answers tw_client_start; Stop-N-Acks need nothing. */
static void on_n_ack(tw_client *c, const tw_sids_msg *m)
{
	if (m->cmd != TW_CMD_START_N_ACK)
		return;
	tw_timer_stop(c->loop, &c->timer);
	if (m->accept != TW_ACCEPT_OK)
		fail(c, TW_CLIENT_FAIL_SERVER, "Start-N-Ack refused the sessions");
	else if (c->p.cbs.started)
		c->p.cbs.started(c->p.cbs.arg, c);
}

static void dispatch(tw_client *c, const tw_cli_event *ev)
{
	switch (ev->type) {
	case TW_CLI_EV_GREETING:
		on_greeting(c, &ev->u.greeting);
		break;
	case TW_CLI_EV_SERVER_START:
		on_server_start(c, &ev->u.server_start);
		break;
	case TW_CLI_EV_ACCEPT:
		tw_timer_stop(c->loop, &c->timer);
		if (ev->u.accept.accept == TW_ACCEPT_OK && c->nsids < MAX_SIDS)
			memcpy(c->sids[c->nsids++], ev->u.accept.sid, TW_SID_LEN);
		if (c->p.cbs.accepted)
			c->p.cbs.accepted(c->p.cbs.arg, c, &ev->u.accept);
		break;
	case TW_CLI_EV_START_ACK:
		tw_timer_stop(c->loop, &c->timer);
		if (ev->u.start_ack.accept != TW_ACCEPT_OK)
			fail(c, TW_CLIENT_FAIL_SERVER, "Start-Ack refused the sessions");
		else if (c->p.cbs.started)
			c->p.cbs.started(c->p.cbs.arg, c);
		break;
	case TW_CLI_EV_ERROR:
		if (ev->u.error.code == -ECONNREFUSED)
			fail(c, TW_CLIENT_FAIL_REFUSED, "server refuses to talk (Greeting Modes 0)");
		else
			fail(c, TW_CLIENT_FAIL_PROTOCOL, ev->u.error.reason ? ev->u.error.reason : "protocol error");
		break;
	case TW_CLI_EV_N_ACK:
		on_n_ack(c, &ev->u.sids);
		break;
	case TW_CLI_EV_NONE:
		break;
	}
}

static void consume(tw_client *c, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off < len && !c->failed) {
		tw_cli_event ev;
		off += tw_cli_feed(c->fsm, buf + off, len - off, &ev);
		if (ev.type != TW_CLI_EV_NONE)
			dispatch(c, &ev);
	}
}

static void on_connected(tw_client *c)
{
	int rc = tw_net_connect_result(c->fd);
	if (rc < 0) {
		char detail[96];
		snprintf(detail, sizeof(detail), "%s", strerror(-rc));
		fail(c, TW_CLIENT_FAIL_CONNECT, detail);
		return;
	}
	c->connected = true;
	tw_net_local_addr(c->fd, &c->local);
	tw_sa_unmap(&c->local);
	tw_io_mod(c->loop, &c->io, EPOLLIN);
	expect_reply(c); /* the Greeting */
}

static void on_io(void *arg, uint32_t events)
{
	tw_client *c = arg;
	if (!c->connected) {
		on_connected(c);
		return;
	}
	if ((events & EPOLLOUT) && flush(c) < 0) {
		fail(c, TW_CLIENT_FAIL_CLOSED, "write failed");
		return;
	}
	uint8_t buf[READ_CHUNK];
	for (int i = 0; i < 16 && !c->failed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)); i++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			fail(c, TW_CLIENT_FAIL_CLOSED, n == 0 ? "server closed the connection" : strerror(errno));
			return;
		}
		consume(c, buf, (size_t)n);
	}
}

/* ---- public ---- */

static int copy_credentials(tw_client *c)
{
	if (c->p.identity) {
		snprintf(c->identity, sizeof(c->identity), "%s", c->p.identity);
		c->p.identity = c->identity;
	}
	if (!c->p.secret || !c->p.secret_len)
		return 0;
	c->secret = malloc(c->p.secret_len);
	if (!c->secret)
		return -ENOMEM;
	memcpy(c->secret, c->p.secret, c->p.secret_len);
	c->p.secret = c->secret;
	return 0;
}

static void wipe_credentials(tw_client *c)
{
	if (c->secret) {
		tw_wipe(c->secret, c->p.secret_len);
		free(c->secret);
	}
}

tw_client *tw_client_new(tw_loop *loop, const tw_client_params *p, int *err)
{
	tw_client *c = calloc(1, sizeof(*c));
	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	c->loop = loop;
	c->p = *p;
	c->fd = -1;
	tw_io_init(&c->io);
	tw_timer_init(&c->timer, on_timeout, c);
	*err = copy_credentials(c);
	if (*err == 0) {
		c->fsm = tw_cli_new(MAX_SIDS);
		c->fd = c->fsm ? tw_net_tcp_connect(&p->server, p->local, p->ifname) : -ENOMEM;
		*err = c->fd < 0 ? c->fd : tw_io_add(loop, &c->io, c->fd, EPOLLOUT, on_io, c);
	}
	if (*err < 0) {
		tw_client_free(c);
		return NULL;
	}
	expect_reply(c);
	return c;
}

void tw_client_free(tw_client *c)
{
	if (!c)
		return;
	tw_timer_stop(c->loop, &c->timer);
	tw_io_del(c->loop, &c->io);
	if (c->fd >= 0)
		close(c->fd);
	tw_cli_free(c->fsm);
	wipe_credentials(c);
	free(c);
}

int tw_client_request(tw_client *c, const tw_request *req)
{
	uint8_t out[TW_REQUEST_LEN];
	if (c->failed)
		return -ENOTCONN;
	int rc = queue(c, out, tw_cli_request(c->fsm, req, out, sizeof(out)));
	if (rc == 0)
		expect_reply(c);
	return rc;
}

int tw_client_start(tw_client *c)
{
	uint8_t out[TW_SIDS_BASE_LEN + MAX_SIDS * TW_SID_LEN];
	if (c->failed)
		return -ENOTCONN;
	int n = tw_cli_mode(c->fsm) & TW_MODE_ISC ? tw_cli_start_n(c->fsm, c->nsids, c->sids[0], out, sizeof(out))
						   : tw_cli_start(c->fsm, out, sizeof(out));
	int rc = queue(c, out, n);
	if (rc == 0)
		expect_reply(c);
	return rc;
}

int tw_client_stop(tw_client *c, uint8_t accept)
{
	uint8_t out[TW_SIDS_BASE_LEN + MAX_SIDS * TW_SID_LEN];
	if (c->failed)
		return -ENOTCONN;
	if (tw_cli_mode(c->fsm) & TW_MODE_ISC)
		return c->nsids ? queue(c, out, tw_cli_stop_n(c->fsm, c->nsids, c->sids[0], out, sizeof(out))) : 0;
	return queue(c, out, tw_cli_stop(c->fsm, accept, out, sizeof(out)));
}

uint32_t tw_client_mode(const tw_client *c)
{
	return tw_cli_mode(c->fsm);
}

const tw_sockaddr *tw_client_local(const tw_client *c)
{
	return &c->local;
}

const tw_sockaddr *tw_client_peer(const tw_client *c)
{
	return &c->p.server;
}

tw_test_crypto *tw_client_test_crypto(const tw_client *c, const uint8_t sid[TW_SID_LEN])
{
	return tw_cli_test_crypto(c->fsm, sid);
}

/* web.c - the agent's HTTP endpoints: landing page, health, readiness,
 * reload and the telemetry path (see agent_int.h). */
#include "agent_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "version.h"

static int healthy(void *arg, const tw_http_request *req, tw_http_response *resp)
{
	(void)arg;
	(void)req;
	tw_http_response_text(resp, 200, "Healthy\n");
	return 0;
}

static int ready(void *arg, const tw_http_request *req, tw_http_response *resp)
{
	tw_agent *a = arg;
	(void)req;
	if (a->ready)
		tw_http_response_text(resp, 200, "Ready\n");
	else
		tw_http_response_text(resp, 503, "Not ready\n");
	return 0;
}

static int reload(void *arg, const tw_http_request *req, tw_http_response *resp)
{
	tw_agent *a = arg;
	static char body[1200];
	(void)req;
	tw_info("reloading configuration", "trigger=http");
	if (tw_agent_reload(a) == 0) {
		tw_http_response_text(resp, 200, "configuration reloaded\n");
		return 0;
	}
	snprintf(body, sizeof(body), "configuration rejected, the running one is kept: %s\n", a->last_reload_error);
	tw_http_response_text(resp, 400, body);
	return 0;
}

/* Appends text with &, <, >, " escaped. */
static void html_escape(tw_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			tw_buf_puts(b, "&amp;");
			break;
		case '<':
			tw_buf_puts(b, "&lt;");
			break;
		case '>':
			tw_buf_puts(b, "&gt;");
			break;
		case '"':
			tw_buf_puts(b, "&quot;");
			break;
		default:
			tw_buf_append(b, s, 1);
		}
	}
}

static void target_rows(tw_agent *a, tw_buf *b)
{
	for (size_t i = 0; i < a->nprobes; i++) {
		const tw_config_target *t = tw_probe_target(a->probes[i]);
		tw_probe_info info = tw_probe_get_info(a->probes[i]);
		char addr[80] = "";
		if (info.target.ss.ss_family)
			tw_sa_format(&info.target, addr, sizeof(addr));
		tw_buf_puts(b, "<tr><td>");
		html_escape(b, t->name);
		tw_buf_puts(b, "</td><td>");
		html_escape(b, t->host);
		tw_buf_puts(b, "</td><td>");
		html_escape(b, addr);
		tw_buf_puts(b, "</td><td>");
		tw_buf_puts(b, tw_probe_state_name(info.state));
		tw_buf_puts(b, "</td><td>");
		tw_buf_puts(b, info.last_error ? info.last_error : "");
		tw_buf_puts(b, "</td></tr>\n");
	}
}

static int landing(void *arg, const tw_http_request *req, tw_http_response *resp)
{
	tw_agent *a = arg;
	static tw_buf b; /* reused between requests; the server copies the body */
	(void)req;
	if (!b.data)
		tw_buf_init(&b, 1u << 24);
	tw_buf_clear(&b);
	tw_buf_puts(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>twamp-agent</title></head>\n"
			"<body><h1>twamp-agent</h1>\n<p>Version " TW_VERSION " (revision " TW_REVISION ")</p>\n"
			"<ul><li><a href=\"");
	html_escape(&b, a->opts->telemetry_path ? a->opts->telemetry_path : "/metrics");
	tw_buf_puts(&b, "\">Metrics</a></li><li><a href=\"/-/healthy\">Health</a></li>"
			"<li><a href=\"/-/ready\">Readiness</a></li></ul>\n"
			"<h2>Targets</h2>\n<table border=\"1\"><tr><th>target</th><th>host</th><th>address</th>"
			"<th>state</th><th>last error</th></tr>\n");
	target_rows(a, &b);
	tw_buf_puts(&b, "</table>\n</body></html>\n");
	if (b.err)
		return b.err;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = b.data;
	resp->body_len = b.len;
	return 0;
}

int tw_web_routes(tw_agent *a, const char *telemetry_path)
{
	a->scrape = tw_scrape_new(a->reg, NULL);
	if (!a->scrape)
		return -ENOMEM;
	int rc = tw_http_route(a->http, "GET", telemetry_path, tw_scrape_handler, a->scrape);
	if (rc == 0)
		rc = tw_http_route(a->http, "GET", "/", landing, a);
	if (rc == 0)
		rc = tw_http_route(a->http, "GET", "/-/healthy", healthy, a);
	if (rc == 0)
		rc = tw_http_route(a->http, "GET", "/-/ready", ready, a);
	if (rc == 0)
		rc = tw_http_route(a->http, "POST", "/-/reload", reload, a);
	if (rc == 0)
		rc = tw_http_route(a->http, "PUT", "/-/reload", reload, a);
	return rc;
}

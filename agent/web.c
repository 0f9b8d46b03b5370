/* web.c - the agent's HTTP endpoints: landing page, health, readiness,
 * reload and the telemetry path (see agent_int.h). */
#include "agent_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	if (tw_agent_reload_notify(a, "http") == 0) {
		tw_http_response_text(resp, 200, "configuration reloaded\n");
		return 0;
	}
	snprintf(body, sizeof(body), "configuration rejected, the running one is kept: %s\n", a->last_reload_error);
	tw_http_response_text(resp, 400, body);
	return 0;
}

int tw_web_routes(tw_agent *a, const char *telemetry_path)
{
	a->scrape = tw_scrape_new(a->reg, NULL);
	if (!a->scrape)
		return -ENOMEM;
	int rc = tw_http_route(a->http, "GET", telemetry_path, tw_scrape_handler, a->scrape);
	if (rc == 0)
		rc = tw_http_route(a->http, "GET", "/", tw_status_handler, a); /* status.h */
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

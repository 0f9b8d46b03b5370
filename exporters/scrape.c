/* scrape.c - the /metrics handler (see scrape.h). */
#include "scrape.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "buf.h"
#include "gzip.h"
#include "prom.h"

#define DEFAULT_MAX ((size_t)256 << 20)
#define ERROR_MAX 160

struct tw_scrape {
	tw_registry *reg;
	tw_buf text;
	tw_buf gz;
	tw_gzip *gzip;
	tw_scrape_stats stats;
	char error[ERROR_MAX];
};

tw_scrape *tw_scrape_new(tw_registry *r, const tw_scrape_options *opts)
{
	tw_scrape *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	size_t max = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX;
	s->reg = r;
	tw_buf_init(&s->text, max);
	tw_buf_init(&s->gz, max);
	s->gzip = tw_gzip_new(opts ? opts->gzip_level : 0);
	if (!s->gzip) {
		free(s);
		return NULL;
	}
	return s;
}

void tw_scrape_free(tw_scrape *s)
{
	if (!s)
		return;
	tw_buf_fini(&s->text);
	tw_buf_fini(&s->gz);
	tw_gzip_free(s->gzip);
	free(s);
}

static void render_failed(tw_scrape *s, int rc, tw_http_response *resp)
{
	s->stats.errors++;
	snprintf(s->error, sizeof(s->error), "error rendering metrics: %s\n",
		rc == -ENOBUFS ? "larger than the configured size cap" : strerror(-rc));
	tw_http_response_text(resp, 500, s->error);
}

/* Points resp at the gzip body when the client takes it and it compresses;
 * otherwise the text is sent as is. */
static void maybe_gzip(tw_scrape *s, const tw_http_request *req, tw_http_response *resp)
{
	s->stats.last_gzip_bytes = 0;
	if (!tw_accept_gzip(tw_http_request_header(req, "Accept-Encoding")))
		return;
	tw_buf_clear(&s->gz);
	if (tw_gzip_compress(s->gzip, s->text.data, s->text.len, &s->gz) < 0)
		return;
	resp->body = s->gz.data;
	resp->body_len = s->gz.len;
	s->stats.last_gzip_bytes = s->gz.len;
	tw_http_response_header(resp, "Content-Encoding", "gzip");
}

int tw_scrape_handler(void *arg, const tw_http_request *req, tw_http_response *resp)
{
	tw_scrape *s = arg;
	s->stats.scrapes++;
	tw_buf_clear(&s->text);
	int rc = tw_prom_render(s->reg, &s->text);
	if (rc < 0) {
		render_failed(s, rc, resp);
		return 0;
	}
	s->stats.last_bytes = s->text.len;
	resp->status = 200;
	resp->content_type = TW_PROM_CONTENT_TYPE;
	resp->body = s->text.data;
	resp->body_len = s->text.len;
	tw_http_response_header(resp, "Vary", "Accept-Encoding");
	maybe_gzip(s, req, resp);
	return 0;
}

tw_scrape_stats tw_scrape_get_stats(const tw_scrape *s)
{
	return s->stats;
}

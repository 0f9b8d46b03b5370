/* serverfx.c - one loop, one tw_server for tests (see serverfx.h). */
#include "serverfx.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "log.h"

void tw_serverfx_start(tw_serverfx *f, const char *host, const tw_server_params *params)
{
	tw_log_setup(TW_LOG_ERROR, TW_LOG_LOGFMT);
	memset(f, 0, sizeof(*f));
	f->host = host;
	f->loop = tw_loop_new(NULL);
	assert_non_null(f->loop);
	assert_int_equal(tw_sa_from_numeric(host, 0, &f->listen), 0);
	tw_server_params p = *params;
	p.listen = &f->listen;
	p.nlisten = 1;
	char err[256] = "";
	f->srv = tw_server_new(f->loop, &p, err, sizeof(err));
	if (!f->srv)
		fail_msg("tw_server_new: %s", err);
	assert_int_equal(tw_server_listen_addr(f->srv, 0, &f->addr), 0);
	assert_int_not_equal(tw_sa_port(&f->addr), 0);
}

void tw_serverfx_stop(tw_serverfx *f)
{
	for (int i = 0; i < 3; i++)
		tw_loop_run_once(f->loop, 0);
	tw_server_free(f->srv);
	tw_loop_free(f->loop);
}

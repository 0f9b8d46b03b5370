/*
 * serverfx.h - the fixture of the tests that talk to tw_server through
 * script.h: one loop and one server listening on a loopback address,
 * port 0.
 */
#ifndef TW_SERVERFX_H
#define TW_SERVERFX_H

#include "loop.h"
#include "net.h"
#include "server.h"

typedef struct tw_serverfx {
	tw_loop *loop;
	tw_server *srv;
	tw_sockaddr addr;   /* the bound listener */
	tw_sockaddr listen; /* as configured (port 0) */
	const char *host;
} tw_serverfx;

/* Logs errors only, makes a loop and starts a server on the numeric
 * host, port 0, with params (its listen/nlisten are set here). Fails the
 * test when the server does not start or gets no port. */
void tw_serverfx_start(tw_serverfx *f, const char *host, const tw_server_params *params);

/* Lets deferred frees (closed connections, ended sessions) run, then
 * frees the server and the loop. */
void tw_serverfx_stop(tw_serverfx *f);

#endif

/*
 * notify.h - service manager notifications (the sd_notify datagram
 * protocol) without a libsystemd dependency.
 *
 * A unit with Type=notify starts the agent with $NOTIFY_SOCKET naming an
 * AF_UNIX datagram socket: an absolute path, or "@name" for a name in the
 * abstract namespace. The agent sends newline-separated VAR=VALUE
 * assignments to it: READY=1 once it serves, RELOADING=1 ... READY=1
 * around a reload, STOPPING=1 when it shuts down. Without $NOTIFY_SOCKET
 * every call is a no-op, so the agent behaves the same outside systemd.
 */
#ifndef TW_NOTIFY_H
#define TW_NOTIFY_H

/*
 * Sends state (e.g. "READY=1"; not NULL) as one datagram to
 * $NOTIFY_SOCKET. Returns 1 when it was sent, 0 when $NOTIFY_SOCKET is
 * unset or empty, -EINVAL when it is neither an absolute path nor
 * "@name" or too long for sockaddr_un, or the negative errno of
 * socket()/sendto(). Never blocks (MSG_DONTWAIT); does not raise SIGPIPE.
 */
int tw_notify(const char *state);

/* "RELOADING=1" plus MONOTONIC_USEC= (CLOCK_MONOTONIC now), as systemd
 * expects before a reload. Same results as tw_notify(). */
int tw_notify_reloading(void);

#endif /* TW_NOTIFY_H */

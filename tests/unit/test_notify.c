/* test_notify.c - sd_notify datagrams to path and abstract sockets, and
 * the values of $NOTIFY_SOCKET that must be refused or ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"

typedef struct sink {
	int fd;
	char env[128]; /* the $NOTIFY_SOCKET value naming it */
	char path[108];
} sink;

/* A datagram socket standing in for systemd; abstract or in /tmp. */
static void sink_open(sink *s, int abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	if (abstract) {
		int n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "tw-notify-test-%ld", (long)getpid());
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
		snprintf(s->env, sizeof(s->env), "@%s", sa.sun_path + 1);
		s->path[0] = '\0';
	} else {
		snprintf(s->path, sizeof(s->path), "/tmp/tw-notify-test-%ld.sock", (long)getpid());
		unlink(s->path);
		memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
		len = sizeof(sa);
		snprintf(s->env, sizeof(s->env), "%s", s->path);
	}
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", s->env, 1), 0);
}

static void sink_close(sink *s)
{
	close(s->fd);
	if (s->path[0])
		unlink(s->path);
	unsetenv("NOTIFY_SOCKET");
}

/* Receives one datagram (bounded wait) as a NUL-terminated string. */
static void sink_recv(sink *s, char *buf, size_t cap)
{
	struct timeval tv = { .tv_sec = 2 };
	assert_int_equal(setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	ssize_t n = recv(s->fd, buf, cap - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
}

static void test_path_socket(void **state)
{
	(void)state;
	sink s;
	char buf[256];
	sink_open(&s, 0);
	assert_int_equal(tw_notify("READY=1"), 1);
	sink_recv(&s, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1");
	assert_int_equal(tw_notify("STOPPING=1"), 1);
	sink_recv(&s, buf, sizeof(buf));
	assert_string_equal(buf, "STOPPING=1");
	sink_close(&s);
}

static void test_abstract_socket(void **state)
{
	(void)state;
	sink s;
	char buf[256];
	sink_open(&s, 1);
	assert_int_equal(tw_notify("READY=1"), 1);
	sink_recv(&s, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1");
	sink_close(&s);
}

static void test_reloading_has_monotonic_usec(void **state)
{
	(void)state;
	sink s;
	char buf[256];
	struct timespec ts;
	sink_open(&s, 0);
	assert_int_equal(tw_notify_reloading(), 1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sink_recv(&s, buf, sizeof(buf));
	const char *prefix = "RELOADING=1\nMONOTONIC_USEC=";
	assert_memory_equal(buf, prefix, strlen(prefix));
	char *end;
	unsigned long long usec = strtoull(buf + strlen(prefix), &end, 10);
	assert_true(*end == '\0' && end != buf + strlen(prefix));
	unsigned long long now = (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
	assert_true(usec <= now && now - usec < 2000000ull);
	sink_close(&s);
}

static void test_unset_or_empty_is_a_noop(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(tw_notify("READY=1"), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(tw_notify("READY=1"), 0);
	unsetenv("NOTIFY_SOCKET");
}

static void test_invalid_addresses(void **state)
{
	(void)state;
	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	const char *bad[] = { "relative/notify.sock", "@", "/", longpath, "vsock:2:1234" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(setenv("NOTIFY_SOCKET", bad[i], 1), 0);
		assert_int_equal(tw_notify("READY=1"), -EINVAL);
	}
	/* Well formed, but nobody listens: the send error comes back. */
	assert_int_equal(setenv("NOTIFY_SOCKET", "/tmp/tw-notify-test-nobody.sock", 1), 0);
	assert_true(tw_notify("READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_reloading_has_monotonic_usec),
		cmocka_unit_test(test_unset_or_empty_is_a_noop),
		cmocka_unit_test(test_invalid_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

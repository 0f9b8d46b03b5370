/*
 * test_discovery.c - agent/discovery: self-exclusion, the file_sd source
 * (files in a temporary directory: changes, a broken file keeping its last
 * good list, glob matching, a Kubernetes-style "..data" symlink swap seen
 * through inotify within a bounded time), the DNS source against a fake
 * DNS server in the same loop (3 A + 2 AAAA = 5 targets, a changed answer,
 * a failing server keeping the list), label merging and reconfigure.
 * Every wait is bounded by a wall-clock deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "discovery.h"
#include "discovery_int.h"
#include "dns.h"
#include "fakedns.h"
#include "loop.h"
#include "net.h"
#include "pump.h"
#include "resolver.h"

#define MS INT64_C(1000000)

static int64_t wall_ms(void)
{
	return tw_pump_mono_ns() / MS;
}

/* ---- update recorder ---- */

typedef struct rec {
	int updates;
	size_t n;
	char names[64][300]; /* "name host port labels..." of the last update */
} rec;

static void on_update(void *arg, const tw_discovered *t, size_t n)
{
	rec *r = arg;
	r->updates++;
	r->n = n;
	for (size_t i = 0; i < n && i < 64; i++) {
		size_t w = (size_t)snprintf(r->names[i], sizeof(r->names[i]), "%s %s %u", t[i].name, t[i].host,
					    t[i].port);
		for (size_t j = 0; j < t[i].labels.n && w < sizeof(r->names[i]); j++)
			w += (size_t)snprintf(r->names[i] + w, sizeof(r->names[i]) - w, " %s=%s",
					      t[i].labels.v[j].name, t[i].labels.v[j].value);
		/* The embedded target agrees with the entry. */
		assert_ptr_equal(t[i].target.name, t[i].name);
		assert_ptr_equal(t[i].target.host, t[i].host);
		assert_int_equal(t[i].target.s.port, t[i].port);
		assert_ptr_equal(t[i].target.s.labels.v, t[i].labels.v);
		if (i > 0)
			assert_true(tw_config_target_identity_cmp(&t[i - 1].target, &t[i].target) < 0);
	}
}

/* Runs l until r has seen `updates` updates or max_ms passed. */
static bool wait_updates(tw_loop *l, rec *r, int updates, int max_ms)
{
	return tw_pump_until_count(l, &r->updates, updates, max_ms * MS);
}

/* Runs l for ms milliseconds. */
static void run_for(tw_loop *l, int ms)
{
	tw_pump_for(l, ms * MS);
}

static tw_config *load(const char *yaml)
{
	tw_config *cfg = NULL;
	tw_config_error err;
	if (tw_config_load_buffer("t.yml", NULL, yaml, strlen(yaml), &cfg, &err) != 0)
		fail_msg("config: %s", err.msg);
	return cfg;
}

static void write_text(const char *path, const char *text)
{
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp~", path);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0); /* atomic, as config tools write */
}

static const tw_discovery_opts quiet_opts = { .ignore_env = true, .no_jitter = true,
	.file_debounce_ns = 20 * MS };

/* ---- self-exclusion ---- */

static void test_self_match(void **state)
{
	(void)state;
	disc_self s;
	assert_int_equal(disc_self_load(&s, true, "192.0.2.77", "node-a"), 0);
	assert_true(disc_self_match(&s, "127.0.0.1", "127.0.0.1"));
	assert_true(disc_self_match(&s, "127.3.0.1:862", "127.3.0.1"));
	assert_true(disc_self_match(&s, "::1", "::1"));
	assert_true(disc_self_match(&s, "x", "::ffff:127.0.0.1"));
	assert_true(disc_self_match(&s, "192.0.2.77:862", "192.0.2.77")); /* POD_IP */
	assert_true(disc_self_match(&s, "node-a", "10.1.1.1"));         /* NODE_NAME as name */
	assert_true(disc_self_match(&s, "x:862", "NODE-A"));            /* ... or host */
	assert_false(disc_self_match(&s, "192.0.2.78", "192.0.2.78"));
	assert_false(disc_self_match(&s, "node-b", "node-b"));
	assert_false(disc_self_match(&s, "2001:db8::1", "2001:db8::1"));
	/* Every interface address of this host. */
	struct ifaddrs *ifa;
	assert_int_equal(getifaddrs(&ifa), 0);
	int checked = 0;
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr || (p->ifa_addr->sa_family != AF_INET && p->ifa_addr->sa_family != AF_INET6))
			continue;
		tw_sockaddr a = { .len = sizeof(struct sockaddr_in6) };
		memcpy(&a.ss, p->ifa_addr, p->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
									       sizeof(struct sockaddr_in6));
		char host[64];
		tw_sa_format_host(&a, host, sizeof(host));
		char *pct = strchr(host, '%');
		if (pct)
			*pct = '\0'; /* the zone does not matter */
		assert_true(disc_self_match(&s, host, host));
		checked++;
	}
	freeifaddrs(ifa);
	assert_true(checked >= 1);
	disc_self_free(&s);

	/* From the environment. */
	setenv("POD_IP", "198.51.100.9", 1);
	setenv("NODE_NAME", "worker-7", 1);
	setenv("HOSTNAME", "twamp-agent-xyz", 1);
	assert_int_equal(disc_self_load(&s, false, NULL, NULL), 0);
	assert_true(disc_self_match(&s, "198.51.100.9", "198.51.100.9"));
	assert_true(disc_self_match(&s, "worker-7:862", "worker-7"));
	assert_true(disc_self_match(&s, "twamp-agent-xyz", "twamp-agent-xyz"));
	disc_self_free(&s);
	assert_int_equal(disc_self_load(&s, true, NULL, NULL), 0);
	assert_false(disc_self_match(&s, "198.51.100.9", "198.51.100.9"));
	assert_false(disc_self_match(&s, "worker-7", "worker-7"));
	disc_self_free(&s);
	unsetenv("POD_IP");
	unsetenv("NODE_NAME");
	unsetenv("HOSTNAME");
}

/* ---- file_sd ---- */

typedef struct tmpdir {
	char dir[96];
} tmpdir;

static void tmp_make(tmpdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/tw-disc-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
}

static void tmp_remove(tmpdir *t)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

static tw_config *file_config(const tmpdir *t, const char *extra)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "target_groups:\n"
		 "  - name: fleet\n"
		 "    port: 8620\n"
		 "    labels: {team: net, site: default}\n"
		 "%s"
		 "    discovery:\n"
		 "      file_sd: {files: [\"%s/*.json\", \"%s/*.yml\"], refresh: 1h}\n",
		 extra, t->dir, t->dir);
	return load(yaml);
}

static void test_file_sd(void **state)
{
	(void)state;
	tmpdir t;
	tmp_make(&t);
	char a[128], b[128], txt[128];
	snprintf(a, sizeof(a), "%s/a.json", t.dir);
	snprintf(b, sizeof(b), "%s/b.yml", t.dir);
	snprintf(txt, sizeof(txt), "%s/c.txt", t.dir);
	write_text(a, "[{\"targets\": [\"10.0.0.1:862\", \"b.example\"], \"labels\": {\"site\": \"x\", "
		      "\"team\": \"\"}}]");
	write_text(b, "- targets: [\"10.0.0.2\"]\n");
	write_text(txt, "[{\"targets\": [\"10.9.9.9\"]}]"); /* matches no pattern */
	tw_config *cfg = file_config(&t, "");
	tw_loop *l = tw_loop_new(NULL);
	rec r = { 0 };
	int err = 0;
	tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &quiet_opts, on_update, &r, &err);
	assert_non_null(d);
	assert_int_equal(r.updates, 0); /* never inside the call */
	assert_true(wait_updates(l, &r, 1, 2000));
	assert_int_equal(r.n, 3);
	assert_string_equal(r.names[0], "10.0.0.1:862 10.0.0.1 862 site=x");
	assert_string_equal(r.names[1], "10.0.0.2 10.0.0.2 8620 site=default team=net");
	assert_string_equal(r.names[2], "b.example b.example 8620 site=x");
	tw_discovery_stats st = tw_discovery_get_stats(d);
	assert_int_equal(st.refreshes_ok, 1);
	assert_int_equal(st.refreshes_failed, 0);
	assert_int_equal(st.targets, 3);
	assert_true(st.last_success_real_ns > 0);

	/* A change is seen through inotify, long before the 1h refresh. */
	int64_t t0 = wall_ms();
	write_text(b, "- targets: [\"10.0.0.2\", \"10.0.0.3:9\"]\n  labels: {rack: r1}\n");
	assert_true(wait_updates(l, &r, 2, 2000));
	assert_true(wall_ms() - t0 < 1000);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.names[2], "10.0.0.3:9 10.0.0.3 9 rack=r1 site=default team=net");

	/* A broken file keeps its last good list; the failure is counted. */
	write_text(a, "[{\"targets\": [\"10.0.0.1:862\"");
	run_for(l, 300);
	assert_int_equal(r.updates, 2);
	st = tw_discovery_get_stats(d);
	assert_true(st.refreshes_failed >= 1);
	assert_non_null(strstr(st.last_error, "/a.json:1:29: found the end of the input"));
	/* ... while another file still updates. */
	write_text(b, "- targets: [\"10.0.0.2\"]\n");
	assert_true(wait_updates(l, &r, 3, 2000));
	assert_int_equal(r.n, 3);
	assert_string_equal(r.names[0], "10.0.0.1:862 10.0.0.1 862 site=x");
	/* Unchanged contents rewritten: no update. */
	write_text(b, "- targets: [\"10.0.0.2\"]\n");
	run_for(l, 200);
	assert_int_equal(r.updates, 3);
	/* A deleted file's targets go. */
	assert_int_equal(unlink(a), 0);
	assert_true(wait_updates(l, &r, 4, 2000));
	assert_int_equal(r.n, 1);
	st = tw_discovery_get_stats(d);
	assert_string_equal(st.last_error, "");

	tw_discovery_free(d);
	assert_int_equal(tw_loop_timer_count(l), 0);
	tw_loop_free(l);
	tw_config_free(cfg);
	tmp_remove(&t);
}

/* The kubelet's ConfigMap layout: dir/..2024_x/targets.json, dir/..data ->
 * ..2024_x, dir/targets.json -> ..data/targets.json; an update writes a new
 * timestamped directory and renames a fresh symlink over ..data. */
static void k8s_publish(const tmpdir *t, int gen, const char *json)
{
	char d[160], f[200], tmp[160], data[160];
	snprintf(d, sizeof(d), "%s/..2024_01_0%d", t->dir, gen);
	assert_int_equal(mkdir(d, 0755), 0);
	snprintf(f, sizeof(f), "%s/targets.json", d);
	FILE *fp = fopen(f, "w");
	assert_non_null(fp);
	fputs(json, fp);
	assert_int_equal(fclose(fp), 0);
	snprintf(tmp, sizeof(tmp), "%s/..data_tmp", t->dir);
	snprintf(data, sizeof(data), "%s/..data", t->dir);
	snprintf(d, sizeof(d), "..2024_01_0%d", gen);
	assert_int_equal(symlink(d, tmp), 0);
	assert_int_equal(rename(tmp, data), 0);
}

static void test_file_sd_k8s_swap(void **state)
{
	(void)state;
	tmpdir t;
	tmp_make(&t);
	k8s_publish(&t, 1, "[{\"targets\": [\"10.1.0.1:862\"]}]");
	char link[160];
	snprintf(link, sizeof(link), "%s/targets.json", t.dir);
	assert_int_equal(symlink("..data/targets.json", link), 0);
	tw_config *cfg = file_config(&t, "");
	tw_loop *l = tw_loop_new(NULL);
	rec r = { 0 };
	int err;
	tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &quiet_opts, on_update, &r, &err);
	assert_non_null(d);
	assert_true(wait_updates(l, &r, 1, 2000));
	assert_int_equal(r.n, 1);
	assert_string_equal(r.names[0], "10.1.0.1:862 10.1.0.1 862 site=default team=net");

	int64_t t0 = wall_ms();
	k8s_publish(&t, 2, "[{\"targets\": [\"10.1.0.1:862\", \"10.1.0.2:862\"]}]");
	assert_true(wait_updates(l, &r, 2, 2000));
	assert_true(wall_ms() - t0 < 1000);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.names[1], "10.1.0.2:862 10.1.0.2 862 site=default team=net");
	/* And again (the watch survives swaps). */
	k8s_publish(&t, 3, "[]");
	assert_true(wait_updates(l, &r, 3, 2000));
	assert_int_equal(r.n, 0);

	tw_discovery_free(d);
	tw_loop_free(l);
	tw_config_free(cfg);
	tmp_remove(&t);
}

static void test_file_sd_missing_dir(void **state)
{
	(void)state;
	tmpdir t;
	tmp_make(&t);
	tmpdir sub;
	snprintf(sub.dir, sizeof(sub.dir), "%.60s/later", t.dir);
	tw_config *cfg = file_config(&sub, "");
	tw_loop *l = tw_loop_new(NULL);
	rec r = { 0 };
	int err;
	tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &quiet_opts, on_update, &r, &err);
	assert_non_null(d);
	run_for(l, 100);
	/* No directory: nothing matches, an empty list is no change. */
	assert_int_equal(r.updates, 0);
	tw_discovery_stats st = tw_discovery_get_stats(d);
	assert_int_equal(st.refreshes_ok, 1);
	/* It appears; the periodic (here: forced) refresh finds it. */
	assert_int_equal(mkdir(sub.dir, 0755), 0);
	char f[160];
	snprintf(f, sizeof(f), "%s/x.json", sub.dir);
	write_text(f, "[{\"targets\": [\"10.2.0.1\"]}]");
	tw_discovery_refresh_now(d);
	assert_true(wait_updates(l, &r, 1, 2000));
	assert_int_equal(r.n, 1);
	/* From now on the directory is watched. */
	write_text(f, "[{\"targets\": [\"10.2.0.1\", \"10.2.0.2\"]}]");
	assert_true(wait_updates(l, &r, 2, 2000));
	assert_int_equal(r.n, 2);
	tw_discovery_free(d);
	tw_loop_free(l);
	tw_config_free(cfg);
	tmp_remove(&t);
}

static void test_exclude_self(void **state)
{
	(void)state;
	tmpdir t;
	tmp_make(&t);
	char f[128];
	snprintf(f, sizeof(f), "%s/a.json", t.dir);
	write_text(f, "[{\"targets\": [\"127.0.0.1:862\", \"[::1]:862\", \"192.0.2.5\", \"node-x:862\", "
		      "\"198.51.100.1\", \"2001:db8::5\"]}]");
	for (int keep = 0; keep < 2; keep++) {
		tw_config *cfg = file_config(&t, keep ? "    exclude_self: false\n" : "");
		tw_loop *l = tw_loop_new(NULL);
		rec r = { 0 };
		int err;
		tw_discovery_opts o = quiet_opts;
		o.pod_ip = "198.51.100.1";
		o.node_name = "node-x";
		tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &o, on_update, &r, &err);
		assert_non_null(d);
		assert_true(wait_updates(l, &r, 1, 2000));
		tw_discovery_stats st = tw_discovery_get_stats(d);
		if (keep) {
			assert_int_equal(r.n, 6);
			assert_int_equal(st.excluded_self, 0);
		} else {
			assert_int_equal(r.n, 2);
			assert_string_equal(r.names[0], "192.0.2.5 192.0.2.5 8620 site=default team=net");
			assert_string_equal(r.names[1], "2001:db8::5 2001:db8::5 8620 site=default team=net");
			assert_int_equal(st.excluded_self, 4);
		}
		tw_discovery_free(d);
		tw_loop_free(l);
		tw_config_free(cfg);
	}
	tmp_remove(&t);
}

static void test_family_and_duplicates(void **state)
{
	(void)state;
	tmpdir t;
	tmp_make(&t);
	char f[128], g[128];
	snprintf(f, sizeof(f), "%s/a.json", t.dir);
	snprintf(g, sizeof(g), "%s/b.json", t.dir);
	write_text(f, "[{\"targets\": [\"192.0.2.5\", \"2001:db8::5\", \"v6.example\"]}]");
	write_text(g, "[{\"targets\": [\"192.0.2.5\"]}, {\"targets\": [\"192.0.2.5\"], \"labels\": {\"a\": \"b\"}}]");
	tw_config *cfg = file_config(&t, "    ip_version: 4\n");
	tw_loop *l = tw_loop_new(NULL);
	rec r = { 0 };
	int err;
	tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &quiet_opts, on_update, &r, &err);
	assert_non_null(d);
	assert_true(wait_updates(l, &r, 1, 2000));
	/* The IPv6 literal is dropped (ip_version 4), the repeated 192.0.2.5
	 * without labels collapses; with another label it is another series. */
	assert_int_equal(r.n, 3);
	assert_string_equal(r.names[0], "192.0.2.5 192.0.2.5 8620 a=b site=default team=net");
	assert_string_equal(r.names[1], "192.0.2.5 192.0.2.5 8620 site=default team=net");
	assert_string_equal(r.names[2], "v6.example v6.example 8620 site=default team=net");
	tw_discovery_free(d);
	tw_loop_free(l);
	tw_config_free(cfg);
	tmp_remove(&t);
}

static void test_reconfigure(void **state)
{
	(void)state;
	tmpdir t;
	tmp_make(&t);
	char f[128];
	snprintf(f, sizeof(f), "%s/a.json", t.dir);
	write_text(f, "[{\"targets\": [\"192.0.2.5\"], \"labels\": {\"x\": \"1\"}}]");
	tw_config *cfg = file_config(&t, "");
	tw_loop *l = tw_loop_new(NULL);
	rec r = { 0 };
	int err;
	tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &quiet_opts, on_update, &r, &err);
	assert_non_null(d);
	assert_true(wait_updates(l, &r, 1, 2000));
	/* Same source, other settings: rebuilt at once, no callback. */
	tw_config *cfg2 = file_config(&t, "    dscp: 46\n    interval: 250ms\n");
	assert_int_equal(tw_discovery_reconfigure(d, &cfg2->groups[0]), 0);
	tw_config_free(cfg);
	size_t n;
	const tw_discovered *v = tw_discovery_targets(d, &n);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].target.s.dscp, 46);
	assert_int_equal(v[0].target.s.interval_ns, 250 * MS);
	assert_string_equal(v[0].target.group, "fleet");
	assert_ptr_equal(tw_discovery_group(d), &cfg2->groups[0]);
	assert_int_equal(r.updates, 1);
	/* Another source is refused. */
	tmpdir other;
	tmp_make(&other);
	tw_config *cfg3 = file_config(&other, "");
	assert_int_equal(tw_discovery_reconfigure(d, &cfg3->groups[0]), -EINVAL);
	assert_ptr_equal(tw_discovery_group(d), &cfg2->groups[0]);
	tw_config_free(cfg3);
	tmp_remove(&other);
	/* It keeps working on the new group. */
	write_text(f, "[{\"targets\": [\"192.0.2.5\", \"192.0.2.6\"]}]");
	assert_true(wait_updates(l, &r, 2, 2000));
	v = tw_discovery_targets(d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(v[1].target.s.dscp, 46);
	tw_discovery_free(d);
	tw_loop_free(l);
	tw_config_free(cfg2);
	tmp_remove(&t);
}

/* Refreshes come every refresh interval plus 0-10 % jitter (fake clock). */
static void test_schedule(void **state)
{
	(void)state;
	tmpdir t;
	tmp_make(&t);
	char yaml[512];
	snprintf(yaml, sizeof(yaml), "target_groups:\n  - name: g\n    discovery:\n"
		 "      file_sd: {files: [\"%s/*.json\"], refresh: 10s}\n", t.dir);
	tw_config *cfg = load(yaml);
	tw_fake_clock fc = { .mono = 1000 * MS, .real = 1000 * MS };
	tw_clock clock = tw_fake_clock_make(&fc);
	tw_loop *l = tw_loop_new(&clock);
	rec r = { 0 };
	int err;
	tw_discovery_opts o = { .ignore_env = true };
	tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &o, on_update, &r, &err);
	assert_non_null(d);
	int64_t last = -1, at[16];
	int n = 0;
	for (int step = 0; step < 1200 && n < 16; step++) { /* 120 s in 100 ms steps */
		tw_loop_run_timers(l);
		uint64_t done = tw_discovery_get_stats(d).refreshes_ok;
		if ((int64_t)done != last) {
			at[n++] = fc.mono;
			last = (int64_t)done;
		}
		fc.mono += 100 * MS;
	}
	assert_true(n >= 10);
	assert_int_equal(at[0], 1000 * MS); /* the first one at once */
	bool jittered = false;
	for (int i = 1; i < n; i++) {
		int64_t gap = at[i] - at[i - 1];
		assert_true(gap >= 10000 * MS && gap <= 11100 * MS);
		jittered |= gap > 10100 * MS;
	}
	assert_true(jittered);
	tw_discovery_free(d);
	assert_int_equal(tw_loop_timer_count(l), 0);
	tw_loop_free(l);
	tw_config_free(cfg);
	tmp_remove(&t);
}

static void test_new_errors(void **state)
{
	(void)state;
	tw_config *cfg = load("target_groups: [{name: g, targets: [{name: a, host: b}]}]\n");
	tw_loop *l = tw_loop_new(NULL);
	rec r;
	int err = 0;
	assert_null(tw_discovery_new(l, NULL, &cfg->groups[0], NULL, on_update, &r, &err));
	assert_int_equal(err, -EINVAL);
	tw_discovery_free(NULL);
	assert_string_equal(tw_discovery_source_name(TW_CONFIG_DISCOVERY_DNS), "dns");
	assert_string_equal(tw_discovery_source_name(TW_CONFIG_DISCOVERY_FILE_SD), "file_sd");
	assert_string_equal(tw_discovery_source_name(TW_CONFIG_DISCOVERY_HTTP_SD), "http_sd");
	tw_loop_free(l);
	tw_config_free(cfg);
}

/* ---- DNS ---- */

/* The fake DNS server (support/fakedns.h) and what it answers: the A and
 * AAAA lists (NULL-terminated), or SERVFAIL. */
typedef struct fake_dns {
	tw_fakedns srv;
	const char *const *a;
	const char *const *aaaa;
	bool servfail;
} fake_dns;

static int dns_zone(void *arg, tw_fakedns *srv, const tw_fakedns_query *q, bool tcp, const tw_sockaddr *from,
		    tw_dnsmsg *o)
{
	fake_dns *f = arg;
	(void)srv;
	(void)tcp;
	(void)from;
	tw_fakedns_reply_start(o, q, f->servfail ? TW_DNS_RCODE_SERVFAIL : 0);
	const char *const *list = q->qtype == TW_DNS_TYPE_A ? f->a : f->aaaa;
	for (size_t i = 0; !f->servfail && list && list[i]; i++)
		tw_fakedns_answer_addr(o, TW_DNS_HDR_LEN, 30, list[i]);
	return 0;
}

/* A loop, the fake DNS server and a resolver that asks only it (no cache,
 * an empty hosts file) in a temporary directory. */
typedef struct dns_fx {
	tmpdir t;
	char conf[128], hosts[128];
	tw_loop *l;
	fake_dns f;
	tw_resolver *res;
} dns_fx;

static void dns_fx_start(dns_fx *x, unsigned timeout_ms, unsigned attempts)
{
	tmp_make(&x->t);
	snprintf(x->conf, sizeof(x->conf), "%s/resolv.conf", x->t.dir);
	snprintf(x->hosts, sizeof(x->hosts), "%s/hosts", x->t.dir);
	write_text(x->conf, "options timeout:1 attempts:1\n");
	write_text(x->hosts, "");
	x->l = tw_loop_new(NULL);
	memset(&x->f, 0, sizeof(x->f));
	assert_true(tw_fakedns_start(&x->f.srv, x->l, "127.0.0.1", dns_zone, &x->f));
	tw_resolver_opts ro = { .resolv_conf = x->conf, .hosts = x->hosts, .servers = &x->f.srv.addr,
		.n_servers = 1, .no_cache = true, .timeout_ms = timeout_ms, .attempts = attempts };
	x->res = tw_resolver_new(x->l, &ro);
	assert_non_null(x->res);
}

/* Frees the resolver and the server; nothing may be left armed. */
static void dns_fx_stop(dns_fx *x)
{
	tw_resolver_free(x->res);
	tw_fakedns_stop(&x->f.srv);
	assert_int_equal(tw_loop_timer_count(x->l), 0);
	tw_loop_free(x->l);
	tmp_remove(&x->t);
}

static bool refresh_failed(void *arg)
{
	return tw_discovery_get_stats(arg).refreshes_failed >= 1;
}

static void test_dns(void **state)
{
	(void)state;
	dns_fx x;
	dns_fx_start(&x, 300, 1);
	tw_loop *l = x.l;
	fake_dns *f = &x.f;
	static const char *const a3[] = { "10.244.0.5", "10.244.1.7", "10.244.2.9", NULL };
	static const char *const a6[] = { "fd00::5", "fd00::7", NULL };
	static const char *const a2[] = { "10.244.0.5", "10.244.3.3", NULL };
	f->a = a3;
	f->aaaa = a6;
	tw_config *cfg = load("target_groups:\n"
			      "  - name: mesh\n"
			      "    labels: {mesh: k8s}\n"
			      "    discovery:\n"
			      "      dns: {name: twamp-agent.monitoring.svc.cluster.local, refresh: 1s, port: 8620}\n");
	rec r = { 0 };
	int err;
	tw_discovery *d = tw_discovery_new(l, x.res, &cfg->groups[0], &quiet_opts, on_update, &r, &err);
	assert_non_null(d);
	assert_true(wait_updates(l, &r, 1, 3000));
	assert_int_equal(r.n, 5);
	assert_string_equal(r.names[0], "10.244.0.5 10.244.0.5 8620 mesh=k8s");
	assert_string_equal(r.names[2], "10.244.2.9 10.244.2.9 8620 mesh=k8s");
	assert_string_equal(r.names[3], "fd00::5 fd00::5 8620 mesh=k8s");
	assert_string_equal(r.names[4], "fd00::7 fd00::7 8620 mesh=k8s");

	/* The answer changes: the next refresh (1s + no jitter) reports it. */
	f->a = a2;
	f->aaaa = NULL;
	assert_true(wait_updates(l, &r, 2, 3000));
	assert_int_equal(r.n, 2);
	assert_string_equal(r.names[1], "10.244.3.3 10.244.3.3 8620 mesh=k8s");

	/* The server fails: the list stays, failures are counted. */
	f->servfail = true;
	(void)tw_pump_until(l, refresh_failed, d, 3000 * MS);
	tw_discovery_stats st = tw_discovery_get_stats(d);
	assert_int_equal(st.refreshes_failed, 1);
	assert_true(st.refreshes_ok >= 2);
	assert_int_equal(st.targets, 2);
	assert_string_equal(st.last_error, "twamp-agent.monitoring.svc.cluster.local: the DNS servers failed "
					    "(SERVFAIL, REFUSED or bad answers)");
	assert_int_equal(r.updates, 2);
	size_t n;
	tw_discovery_targets(d, &n);
	assert_int_equal(n, 2);

	/* It recovers; refresh_now does not wait for the interval. */
	f->servfail = false;
	f->a = a3;
	f->aaaa = a6;
	tw_discovery_refresh_now(d);
	assert_true(wait_updates(l, &r, 3, 3000));
	assert_int_equal(r.n, 5);
	assert_string_equal(tw_discovery_get_stats(d).last_error, "");

	/* A query under way is cancelled by free. */
	tw_discovery_refresh_now(d);
	tw_loop_run_once(l, 0);
	tw_discovery_free(d);
	assert_int_equal(tw_resolver_pending(x.res), 0);
	dns_fx_stop(&x);
	tw_config_free(cfg);
}

static void test_dns_exclude_self(void **state)
{
	(void)state;
	dns_fx x;
	dns_fx_start(&x, 0, 0);
	static const char *const a[] = { "127.0.0.1", "10.244.0.5", "10.244.0.6", NULL };
	static const char *const a6[] = { "::1", NULL };
	x.f.a = a;
	x.f.aaaa = a6;
	tw_config *cfg = load("target_groups:\n  - name: mesh\n    discovery: {dns: {name: mesh.test}}\n");
	rec r = { 0 };
	int err;
	tw_discovery_opts o = quiet_opts;
	o.pod_ip = "10.244.0.6";
	tw_discovery *d = tw_discovery_new(x.l, x.res, &cfg->groups[0], &o, on_update, &r, &err);
	assert_true(wait_updates(x.l, &r, 1, 3000));
	assert_int_equal(r.n, 1);
	assert_string_equal(r.names[0], "10.244.0.5 10.244.0.5 862");
	assert_int_equal(tw_discovery_get_stats(d).excluded_self, 3);
	tw_discovery_free(d);
	dns_fx_stop(&x);
	tw_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_match),
		cmocka_unit_test(test_file_sd),
		cmocka_unit_test(test_file_sd_k8s_swap),
		cmocka_unit_test(test_file_sd_missing_dir),
		cmocka_unit_test(test_exclude_self),
		cmocka_unit_test(test_family_and_duplicates),
		cmocka_unit_test(test_reconfigure),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_dns_exclude_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#!/usr/bin/env python3
"""http_sd target discovery in a running agent (issue 6, target discovery).

A Python http.server on loopback serves the http_sd JSON (a list of target
groups) that the agent fetches every second with a 500 ms timeout; the
agent reflects on three loopback ports and measures itself through the
discovered targets. Asserted from live scrapes, the server's request log
and the agent's log:
  1. the listed targets are measured with the response's labels; the
     agent sends GET to the URL's path with a User-Agent starting with
     "twamp-agent/", Accept: application/json,
     X-Prometheus-Refresh-Interval-Seconds: 1 and the bearer token file's
     content as Authorization (re-read on every fetch: a new token is sent
     after the file changes; never logged); successes are counted under
     source="http_sd".
  2. a changed response is followed: the new target appears, the dropped
     one's series vanish, the kept one keeps its session and counters.
  3. HTTP 500, a server that hangs past the timeout, and a 200 with a
     body that is not http_sd JSON each count failures (several, one per
     refresh) without a success, keep the last good list (still measured,
     same sessions), and are logged; the agent stays scrapeable.
  4. afterwards a good response applies again; an empty list is a valid
     answer that removes every discovered target.
"""
import os
import shutil
import tempfile
import time

import twamplib as t

WAIT = 15


def config(ports, url, token_file):
    return "\n".join([
        "reflector:",
        "  listen: [%s]" % ", ".join('"127.0.0.1:%d"' % p for p in ports),
        "defaults:",
        "  interval: 50ms",
        "  loss_timeout: 1s",
        "target_groups:",
        "  - name: cmdb",
        "    exclude_self: false",
        "    labels: {team: net}",
        "    discovery:",
        "      http_sd: {url: \"%s\", refresh: 1s, timeout: 500ms, bearer_token_file: \"%s\"}" % (url, token_file),
    ]) + "\n"


def hp(port):
    return "127.0.0.1:%d" % port


def main():
    args = t.parse_args()
    work = tempfile.mkdtemp(prefix="discovery_http-")
    srv = t.SdHttpServer()
    token_file = t.write_file(os.path.join(work, "token"), "tok-first-1234\n", 0o600)

    def make(_udp, tcp):
        srv.body = t.sd_json([([hp(tcp[0]), hp(tcp[1])], {"src": "http"})]).encode()
        return config(tcp, srv.url, token_file)
    agent, web, _, _, ports = t.start_agent_on_free_ports(args.agent, work, make, ntcp=3)
    p1, p2, p3 = ports
    ctx = (agent,)

    def wait(fn, what, timeout=WAIT):
        return t.wait_samples(web, fn, what, timeout, *ctx)

    def stats(s):
        return t.discovery_stats(s, "cmdb")

    # ---- 1. measured, labelled, User-Agent ----
    s = wait(lambda s: t.received(s, hp(p1), src="http", team="net") >= 5 and t.received(s, hp(p2), src="http") >= 5,
             "both http_sd targets measured with the response's labels")
    ok, bad, n = stats(s)
    t.check(ok >= 1 and bad == 0 and n == 2, "stats after the first fetch: %r" % ((ok, bad, n),), *ctx)
    t.check(t.select(s, "twamp_discovery_refreshes_total", group="cmdb", source="http_sd", result="success"),
            "no success series with source=http_sd", *ctx)
    t.check(srv.requests, "the server saw no request", *ctx)
    for method, path, headers in list(srv.requests):
        ua = headers.get("User-Agent", "")
        t.check(method == "GET" and path == "/sd" and ua.startswith("twamp-agent/"),
                "request %s %s User-Agent %r" % (method, path, ua), *ctx)
        t.check(headers.get("Accept") == "application/json" and
                headers.get("X-Prometheus-Refresh-Interval-Seconds") == "1" and
                headers.get("Authorization") == "Bearer tok-first-1234", "request headers %r" % headers, *ctx)
    ok0 = ok
    wait(lambda s: stats(s)[0] >= ok0 + 2, "refreshes every second")
    nreq = len(srv.requests)
    t.write_atomic(token_file, "tok-second-5678\n", 0o600)
    t.wait_until(lambda: any(h.get("Authorization") == "Bearer tok-second-5678" for _, _, h in srv.requests[nreq:]),
                 10, "the new bearer token sent", *ctx)
    t.check("tok-first" not in agent.output() and "tok-second" not in agent.output(), "a token in the log", *ctx)

    # ---- 2. follow a change ----
    before = t.sent_now(t.try_samples(web) or s, [hp(p2)])
    srv.body = t.sd_json([([hp(p2), hp(p3)], {"src": "http"})]).encode()
    wait(lambda s: t.received(s, hp(p3)) >= 5, "the new target p3 measured")
    s = wait(lambda s: not t.series_of(s, hp(p1)), "every series of the dropped p1 gone")
    t.check_kept(s, before, *ctx)
    t.check(stats(s)[2] == 2, "targets after the change: %r" % (stats(s),), *ctx)

    # ---- 3. failures keep the last good list ----
    cases = [("HTTP 500", dict(status=500), "HTTP status 500"),
             ("a hang past the timeout", dict(delay=3.0), "imeout"),
             ("a body that is not http_sd JSON", dict(body=b"{\"targets\": oops"), srv.url)]
    for what, change, logged in cases:
        s = t.try_samples(web)
        ok0, bad0, _ = stats(s)
        before = t.sent_now(s, [hp(p2), hp(p3)])
        log_len = len(agent.output())
        saved = (srv.body, srv.status, srv.delay)
        srv.body = change.get("body", srv.body)
        srv.status = change.get("status", 200)
        srv.delay = change.get("delay", 0.0)
        time.sleep(0.05)
        # one fetch may have been under way with the good answer
        s = wait(lambda s: stats(s)[1] >= bad0 + 3, "three failed refreshes with %s" % what, timeout=20)
        ok1, bad1, n1 = stats(s)
        t.check(ok1 <= ok0 + 1 and n1 == 2, "%s: success %s -> %s, targets %s" % (what, ok0, ok1, n1), *ctx)
        for x in (hp(p2), hp(p3)):
            t.check(t.received(s, x) > 0, "%s: %s not measured" % (what, x), *ctx)
        t.check_kept(s, before, *ctx)
        wait(lambda s: t.received(s, hp(p2)) >= before[hp(p2)] + 10, "p2 still measuring during %s" % what)
        new_log = agent.output()[log_len:]
        fails = [ln for ln in new_log.splitlines() if "discovery refresh failed" in ln]
        t.check(fails and all("group=cmdb" in ln and "source=http_sd" in ln for ln in fails) and
                any(logged in ln for ln in fails),
                "%s: failures not logged with %r: %r" % (what, logged, fails[:3]), *ctx)
        print("%s: %s" % (what, fails[0]))
        srv.body, srv.status, srv.delay = saved

    # ---- 4. good answers apply again; an empty list is valid ----
    srv.body = t.sd_json([([hp(p1)], {"src": "again"})]).encode()
    wait(lambda s: t.received(s, hp(p1), src="again") >= 5, "p1 back after the failures")
    s = wait(lambda s: not t.series_of(s, hp(p2)) and not t.series_of(s, hp(p3)), "p2 and p3 gone")
    ok0, bad0, _ = stats(s)
    srv.body = b"[]"
    s = wait(lambda s: not t.series_of(s, hp(p1)), "every discovered target gone after an empty list")
    ok1, bad1, n1 = stats(s)
    t.check(n1 == 0 and ok1 > ok0, "empty list: targets %s, success %s -> %s" % (n1, ok0, ok1), *ctx)
    t.check(not [x for x in s if x[0] == "twamp_test_packets_sent_total"], "series left after an empty list", *ctx)

    t.check(agent.stop() == 0, "agent exit status", *ctx)
    srv.close()
    shutil.rmtree(work)
    print("discovery_http: OK")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A real Prometheus server scrapes the agent (issue 3).

The test starts the Debian package's /usr/bin/prometheus with a temporary
configuration (scrape_interval 1s, the agent as the only target) and a
temporary TSDB directory on a free loopback port, and the agent with three
targets (its own reflector over IPv4 and IPv6, and a closed port). Through
Prometheus' HTTP API it waits (bounded) until:
  - up{job="twamp"} is 1 and the target reports no scrape error (a bad
    Content-Type or exposition would show here: Prometheus 2.42 parses
    the text format strictly);
  - twamp_rtt_seconds_count has a sample for every configured target,
    positive for the reachable ones, 0 for the closed port, with the
    user label and the target label intact;
  - rate(twamp_test_packets_sent_total[...]) is about 1/interval, so the
    counters are seen as counters and never reset between scrapes.
Exits 77 (skip) only when the prometheus binary is missing, and never
under tests/run-all.sh or CI (twamplib.strict()).
"""
import json
import os
import shutil
import sys
import tempfile
import urllib.parse

import twamplib as t

JOB = "twamp"


def prometheus_config(web_port):
    return """global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: ["127.0.0.1:%d"]
""" % (JOB, web_port)


def query(prom_port, q):
    url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (prom_port, urllib.parse.quote(q))
    try:
        st, _, body = t.http_get(url, timeout=3)
    except OSError:
        return None
    if st != 200:
        return None
    d = json.loads(body)
    return d["data"]["result"] if d.get("status") == "success" else None


def main():
    args = t.parse_args()
    prom_bin = shutil.which("prometheus") or ("/usr/bin/prometheus" if os.path.exists("/usr/bin/prometheus")
                                              else None)
    if not prom_bin:
        t.unavailable("prometheus is not installed", whole=True)
    work = tempfile.mkdtemp(prefix="agent_prometheus-")
    refl4, refl6 = t.free_port(), t.free_port()
    closed = t.free_port()
    cfg = """reflector:
  listen: ["127.0.0.1:%d", "[::1]:%d"]
defaults:
  interval: 100ms
  labels: {site: ci}
targets:
  - {name: self-v4, host: 127.0.0.1, port: %d}
  - {name: self-v6, host: "::1", port: %d}
  - {name: closed, host: 127.0.0.1, port: %d}
""" % (refl4, refl6, refl4, refl6, closed)
    agent, web, _ = t.start_agent(args.agent, work, cfg)
    prom_port = t.free_port()
    cfg_path = t.write_file(os.path.join(work, "prometheus.yml"), prometheus_config(web), 0o644)
    os.mkdir(os.path.join(work, "tsdb"))
    prom = t.Proc([prom_bin, "--config.file=" + cfg_path, "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
                   "--web.listen-address=127.0.0.1:%d" % prom_port, "--log.level=warn"], name="prometheus")
    ctx = (prom, agent)

    t.wait_http_ok(prom_port, "/-/ready", 30, "prometheus ready", *ctx, interval=0.25)

    def up():
        r = query(prom_port, 'up{job="%s"}' % JOB)
        return r if r and r[0]["value"][1] == "1" else None
    t.wait_until(up, 20, 'up{job="%s"} == 1' % JOB, *ctx, interval=0.5)

    targets = ("self-v4", "self-v6", "closed")

    def all_targets():
        r = query(prom_port, 'twamp_rtt_seconds_count{job="%s"}' % JOB)
        if not r:
            return None
        by = {x["metric"].get("target"): float(x["value"][1]) for x in r}
        ok = all(k in by for k in targets) and by["self-v4"] > 0 and by["self-v6"] > 0
        return (r, by) if ok else None
    r, by = t.wait_until(all_targets, 20, "twamp_rtt_seconds_count for every target", *ctx, interval=0.5)
    t.check(len(r) == 3 and by["closed"] == 0, "rtt counts %s" % by, *ctx)
    for x in r:
        m = x["metric"]
        t.check(m.get("site") == "ci" and m.get("dscp") == "0" and m.get("instance") == "127.0.0.1:%d" % web,
                "series labels %s" % m, *ctx)

    # the scrape itself is clean
    st, _, body = t.http_get("http://127.0.0.1:%d/api/v1/targets" % prom_port)
    active = json.loads(body)["data"]["activeTargets"]
    t.check(st == 200 and len(active) == 1 and active[0]["health"] == "up" and active[0]["lastError"] == "",
            "scrape target state %s" % active, *ctx)

    # counters behave as counters: a rate of about 10/s per reachable target
    def rates():
        n = query(prom_port, 'count_over_time(twamp_test_packets_sent_total{job="%s",target="self-v4"}[5s])' % JOB)
        if not n or float(n[0]["value"][1]) < 5:
            return None  # too few samples in the window for a stable rate
        res = query(prom_port, 'rate(twamp_test_packets_sent_total{job="%s"}[5s])' % JOB)
        by = {x["metric"]["target"]: float(x["value"][1]) for x in res or []}
        ok = all(k in by for k in targets) and by["self-v4"] > 0 and by["self-v6"] > 0
        return by if ok else None
    by = t.wait_until(rates, 20, "rate(twamp_test_packets_sent_total)", *ctx, interval=0.5)
    for k in ("self-v4", "self-v6"):
        t.check(5 <= by[k] <= 15, "%s: sent rate %.2f/s, expected about 10/s" % (k, by[k]), *ctx)
    t.check(by["closed"] == 0, "closed: sent rate %s" % by["closed"], *ctx)
    r = query(prom_port, 'resets(twamp_test_packets_sent_total{job="%s"}[1m])' % JOB)
    t.check(r and all(float(x["value"][1]) == 0 for x in r), "counter resets: %s" % r, *ctx)

    t.check(agent.alive(), "agent died", *ctx)
    rc = agent.stop()
    prom.stop()
    t.check(rc == 0, "agent exited %s on SIGTERM" % rc, agent)
    shutil.rmtree(work, ignore_errors=True)  # kept when a check failed
    print("ok: prometheus sees %s" % sorted(by))
    return 0


if __name__ == "__main__":
    sys.exit(main())

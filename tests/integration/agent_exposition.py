#!/usr/bin/env python3
"""The agent's live /metrics and HTTP endpoints (issue 3, exporter).

One agent measures itself (a target whose user label holds a quote, a
backslash and a newline, with an IPDV histogram of negative and positive
bounds) and a closed port. Asserted on live scrapes:
  - `promtool check metrics` (stdin) exits 0 with no complaint;
  - Content-Type exactly `text/plain; version=0.0.4; charset=utf-8`;
    gzip with `Accept-Encoding: gzip` decodes to the same families;
  - HELP and TYPE for every family, families contiguous, no timestamps,
    final newline; histograms: buckets in increasing le, cumulative,
    +Inf == _count, _sum present; canonical le spelling;
  - label values escaped (\\\\, \\", \\n) and parsed back exactly;
  - /, /-/healthy, /-/ready, an unknown path (404), HEAD, POST (405);
  - `--web.telemetry-path /m` moves the endpoint (and the landing link);
    a second `--web.listen-address [::1]:PORT` serves it too;
    `--log.format json --log.level warn` writes JSON records, none below
    warn;
  - twamp_agent_build_info and process_* present;
  - three scrapes a second apart: no counter (or histogram count/bucket/
    sum) ever decreases and the self target's counters grow.
"""
import gzip
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import twamplib as t

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WEIRD = 'a"b\\c\nd'          # the label value: quote, backslash, newline
WEIRD_RENDERED = 'weird="a\\"b\\\\c\\nd"'


def config(refl_port, closed):
    return """reflector:
  listen: ["127.0.0.1:%d"]
defaults:
  interval: 50ms
  loss_timeout: 1s
targets:
  - name: self
    host: 127.0.0.1
    port: %d
    ipdv_histogram: true
    labels: {weird: "a\\"b\\\\c\\nd", site: lab}
  - {name: dead, host: 127.0.0.1, port: %d}
""" % (refl_port, refl_port, closed)


def check_exposition(body, *ctx):
    text = body.decode()
    try:
        fams, samples = t.parse_exposition(text)
        nhist = t.check_histograms(fams, samples)
    except (ValueError, AssertionError) as e:
        t.check(False, "bad exposition: %s" % e, *ctx)
    for name, f in fams.items():
        t.check(f["help"] and f["type"] in ("counter", "gauge", "histogram"),
                "family %s: help %r type %r" % (name, f["help"], f["type"]), *ctx)
        if f["type"] == "counter":
            t.check(name.endswith("_total"), "counter %s does not end in _total" % name, *ctx)
    t.check(nhist >= 10, "only %d histogram series" % nhist, *ctx)
    # le spelled canonically (Prometheus' own formatting)
    les = {s[1]["le"] for s in samples if "le" in s[1]}
    for want in ("2.5e-05", "0.001", "1.0", "+Inf", "-0.001"):
        t.check(want in les, "le=%r not rendered (have %s)" % (want, sorted(les)[:40]), *ctx)
    t.check(not any(x.startswith("0") and x not in ("0.0",) and not x.startswith("0.") for x in les),
            "non-canonical le values %s" % sorted(les), *ctx)
    return fams, samples


def promtool(body, *ctx):
    cp = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, timeout=30)
    t.check(cp.returncode == 0 and not cp.stdout.strip() and not cp.stderr.strip(),
            "promtool check metrics exit %d: %s %s" % (cp.returncode, cp.stdout.decode(), cp.stderr.decode()),
            *ctx)


def monotonic(prev, cur, fams, *ctx):
    """Counters and histogram counts/buckets/sums never decrease (except
    the sum of a signed histogram)."""
    def key(s):
        return (s[0], tuple(sorted(s[1].items())))
    old = {key(s): s[2] for s in prev}
    checked = 0
    for s in cur:
        fam = next((f for f in fams if s[0] == f or (fams[f]["type"] == "histogram" and s[0].startswith(f))), None)
        if fam is None or fams[fam]["type"] not in ("counter", "histogram") or key(s) not in old:
            continue
        if s[0] == "twamp_ipdv_seconds_sum":  # IPDV is signed: its sum may fall
            continue
        t.check(s[2] >= old[key(s)], "%s decreased: %s -> %s" % (key(s), old[key(s)], s[2]), *ctx)
        checked += 1
    t.check(checked > 100, "only %d counter samples compared" % checked, *ctx)


def endpoints(base, path, *ctx):
    st, hdr, body = t.http_get(base + "/")
    t.check(st == 200 and hdr.get("Content-Type", "").startswith("text/html"), "/: %d %s" % (st, hdr), *ctx)
    page = body.decode()
    t.check('href="%s"' % path in page and "self" in page and "dead" in page and "backoff" in page,
            "landing page lacks the metrics link or the targets:\n%s" % page, *ctx)
    for p, want in (("/-/healthy", "Healthy"), ("/-/ready", "Ready")):
        st, _, body = t.http_get(base + p)
        t.check(st == 200 and want in body.decode(), "%s: %d %r" % (p, st, body), *ctx)
    st, _, _ = t.http_get(base + "/no/such/path")
    t.check(st == 404, "unknown path: %d" % st, *ctx)
    st, hdr, body = t.http_get(base + path, method="HEAD")
    t.check(st == 200 and body == b"" and hdr.get("Content-Type") == CONTENT_TYPE,
            "HEAD %s: %d %s %r" % (path, st, hdr, body[:50]), *ctx)
    st, _, _ = t.http_get(base + path, method="POST", data=b"x")
    t.check(st == 405, "POST %s: %d" % (path, st), *ctx)


def main():
    args = t.parse_args()
    work = tempfile.mkdtemp(prefix="agent_exposition-")
    refl_port, closed = t.free_port(), t.free_port()
    a, web, _ = t.start_agent(args.agent, work, config(refl_port, closed))
    base = "http://127.0.0.1:%d" % web
    ctx = (a,)

    def measuring():
        return t.value(t.scrape_samples(web), "twamp_test_packets_received_total", target="self") >= 10
    t.wait_until(measuring, 15, "self target measuring", *ctx)

    st, hdr, body = t.http_get(base + "/metrics")
    t.check(st == 200 and hdr.get("Content-Type") == CONTENT_TYPE, "GET /metrics: %d %s" % (st, hdr), *ctx)
    t.check("Content-Encoding" not in hdr, "compressed without Accept-Encoding", *ctx)
    promtool(body, *ctx)
    fams, samples = check_exposition(body, *ctx)
    text = body.decode()

    # label escaping, raw and parsed back
    t.check(WEIRD_RENDERED in text, "escaped label %s not in the exposition" % WEIRD_RENDERED, *ctx)
    sent = t.select(samples, "twamp_test_packets_sent_total", target="self")
    t.check(len(sent) == 1 and sent[0][1]["weird"] == WEIRD and sent[0][1]["site"] == "lab",
            "user labels did not round-trip: %s" % sent, *ctx)

    # self-metrics
    bi = t.select(samples, "twamp_agent_build_info")
    t.check(len(bi) == 1 and bi[0][2] == 1 and bi[0][1].get("version") and bi[0][1].get("revision"),
            "build_info %s" % bi, *ctx)
    for name, typ in (("process_cpu_seconds_total", "counter"), ("process_resident_memory_bytes", "gauge"),
                      ("process_start_time_seconds", "gauge"), ("process_open_fds", "gauge")):
        t.check(fams.get(name, {}).get("type") == typ and t.select(samples, name),
                "%s missing or not a %s" % (name, typ), *ctx)
    t.check(t.value(samples, "twamp_agent_config_last_reload_successful") == 1, "reload_successful != 1", *ctx)
    ipdv = t.select(samples, "twamp_ipdv_seconds_count", target="self")
    t.check(len(ipdv) == 2 and all(s[2] > 0 for s in ipdv), "ipdv histograms %s" % ipdv, *ctx)

    # gzip
    st, hdr, zbody = t.http_get(base + "/metrics", headers={"Accept-Encoding": "gzip"})
    t.check(st == 200 and hdr.get("Content-Encoding") == "gzip" and hdr.get("Content-Type") == CONTENT_TYPE,
            "gzip scrape: %d %s" % (st, hdr), *ctx)
    unz = gzip.decompress(zbody)
    t.check(len(zbody) < len(unz) / 3, "gzip did not compress: %d -> %d" % (len(unz), len(zbody)), *ctx)
    zfams, _ = check_exposition(unz, *ctx)
    t.check(set(zfams) == set(fams), "gzip body has other families", *ctx)

    endpoints(base, "/metrics", *ctx)

    # three scrapes a second apart: nothing decreases, self keeps counting
    prev = samples
    for _ in range(3):
        time.sleep(1.0)
        f2, cur = t.scrape(web)
        monotonic(prev, cur, f2, *ctx)
        t.check(t.value(cur, "twamp_test_packets_sent_total", target="self")
                > t.value(prev, "twamp_test_packets_sent_total", target="self"), "self stopped sending", *ctx)
        prev = cur

    # --web.telemetry-path moves the endpoint
    web6 = t.free_port(socket.AF_INET6)
    b, web2, _ = t.start_agent(args.agent, work, config(t.free_port(), closed), name="agent-m",
                               extra=["--web.telemetry-path", "/m", "--web.listen-address", "[::1]:%d" % web6,
                                      "--log.format", "json", "--log.level", "warn"])
    base2 = "http://127.0.0.1:%d" % web2
    # a second, IPv6 listen address serves the same
    st, hdr, body6 = t.http_get("http://[::1]:%d/m" % web6)
    t.check(st == 200 and hdr.get("Content-Type") == CONTENT_TYPE, "[::1]:%d/m: %d" % (web6, st), b)
    st, hdr, body2 = t.http_get(base2 + "/m")
    t.check(st == 200 and hdr.get("Content-Type") == CONTENT_TYPE, "/m: %d" % st, b)
    promtool(body2, b)
    check_exposition(body2, b)
    t.check(t.http_get(base2 + "/metrics")[0] == 404, "/metrics still served with --web.telemetry-path /m", b)
    st, _, page = t.http_get(base2 + "/")
    t.check(st == 200 and 'href="/m"' in page.decode(), "landing page does not link /m", b)

    # --log.format json --log.level warn: JSON objects only, nothing below warn
    t.wait_until(lambda: "session failed" in b.output(), 10, "agent-m logging the dead target", b)
    for line in b.output().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            t.check(False, "not a JSON log line: %r" % line, b)
        t.check(rec.get("level") in ("warn", "error") and rec.get("msg") and rec.get("ts"),
                "log record below warn or incomplete: %r" % line, b)

    for p in (a, b):
        t.check(p.alive(), "%s died" % p.name, p)
        rc = p.stop()
        t.check(rc == 0, "%s exited %s on SIGTERM" % (p.name, rc), p)
    shutil.rmtree(work, ignore_errors=True)  # kept when a check failed
    print("ok: %d families, %d samples" % (len(fams), len(samples)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""DNS target discovery in a running agent (issue 6, target discovery).

A tiny DNS server (twamplib.FakeDns, UDP on 127.0.0.1, TTL 0 answers) is
the agent's only nameserver through the test-only TW_TEST_NAMESERVER
variable. The agent reflects on port P of 127.0.0.1-4, ::1 and (when the
host has one) its own outward address, and measures every A/AAAA record
of mesh.test at port P (exclude_self: false: every 127/8 address is this
host). Asserted from live scrapes, the queries and the log:
  1. the override is announced in the log; the agent asks A and AAAA;
     one target per address (named by the address, group labels, dns.port)
     and each is measured; twamp_discovery_targets 3, source="dns".
  2. an address dropped from the answer: its every series vanishes; the
     others keep their sessions and counters.
  3. SERVFAIL: failures counted (one per refresh), the list kept and still
     measured, the failure logged.
  4. a good answer again, with the dropped address back and (IPv6 loopback
     permitting) AAAA ::1: the new targets are measured.
  5. self-exclusion (exclude_self defaults to true) for self.test, whose
     records are 127.0.0.1, ::1, this host's outward address and
     198.51.100.7 (TEST-NET-2, not this host) and $POD_IP (198.51.100.9,
     set in the agent's environment): only 198.51.100.7 becomes a target;
     the log counts the excluded ones.
  6. (checked right after 1, before SERVFAIL) http_sd whose URL names a
     host (sd.test, answered by the fake server) is fetched through the
     agent's resolver (Host header sd.test:PORT);
     of its targets, those named $NODE_NAME and $HOSTNAME (compared
     case-insensitively) are left out, and other.test:P, a DNS name the
     probe resolves through the same server, is measured.
  7. SIGHUP with exclude_self: false for self.test's group: the same
     discovery (no new query needed) now keeps 127.0.0.1, ::1, the
     outward address and $POD_IP too, and the local ones are measured;
     mesh.test's targets keep their counters across the reload.
"""
import os
import re
import shutil
import signal
import socket
import tempfile

import twamplib as t

WAIT = 15
OTHER = "198.51.100.7"
POD_IP = "198.51.100.9"
ENV = {"NODE_NAME": "node-self.test", "HOSTNAME": "host-self.test", "POD_IP": POD_IP}


def outward_address():
    """This host's source address towards OTHER (no packet is sent), or
    None without a route or when it is a loopback address."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((OTHER, 9))
            a = s.getsockname()[0]
    except OSError:
        return None
    return None if a.startswith("127.") else a


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def config(listen, port, self_exclude, sd_url):
    lines = [
        "reflector:",
        "  listen: [%s]" % ", ".join('"%s"' % t.hostport(h, port) for h in listen),
        "defaults:",
        "  interval: 50ms",
        "  loss_timeout: 1s",
        "target_groups:",
        "  - name: mesh",
        "    exclude_self: false",
        "    labels: {g: mesh}",
        "    discovery: {dns: {name: mesh.test, refresh: 1s, port: %d}}" % port,
        "  - name: selfx",
        "    labels: {g: selfx}",
        "    discovery: {dns: {name: self.test, refresh: 1s, port: %d}}" % port,
    ]
    if not self_exclude:
        lines.append("    exclude_self: false")
    lines += ["  - name: named",
              "    labels: {g: named}",
              "    discovery: {http_sd: {url: \"%s\", refresh: 1s, timeout: 2s}}" % sd_url]
    return "\n".join(lines) + "\n"


def main():
    args = t.parse_args()
    work = tempfile.mkdtemp(prefix="discovery_dns-")
    v6 = have_ipv6_loopback()
    own = outward_address()
    listen = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"] + (["::1"] if v6 else []) + ([own] if own else [])
    dns = t.FakeDns()
    dns.records["mesh.test"] = {"A": ["127.0.0.2", "127.0.0.3", "127.0.0.4"]}
    self_a = ["127.0.0.1", OTHER, POD_IP] + ([own] if own else [])
    dns.records["self.test"] = {"A": self_a, "AAAA": ["::1"] if v6 else []}
    n_self = len(self_a) - 1 + (1 if v6 else 0)
    dns.records["sd.test"] = {"A": ["127.0.0.1"]}
    dns.records["other.test"] = {"A": ["127.0.0.4"]}
    srv = t.SdHttpServer()
    sd_url = "http://sd.test:%d/sd" % srv.port
    # the agent inherits this environment
    os.environ.update(ENV, TW_TEST_NAMESERVER="127.0.0.1:%d" % dns.port)

    def make(_udp, tcp):
        srv.body = t.sd_json([(["node-self.test:%d" % tcp[0], "HOST-SELF.test:%d" % tcp[0],
                                "other.test:%d" % tcp[0]], {})]).encode()
        return config(listen, tcp[0], True, sd_url)
    agent, web, path, _, (port,) = t.start_agent_on_free_ports(args.agent, work, make, ntcp=1)
    ctx = (agent,)
    print("own outward address: %s, IPv6 loopback: %s" % (own, v6))

    def wait(fn, what):
        return t.wait_samples(web, fn, what, WAIT, *ctx)

    def stats(s, group="mesh"):
        return t.discovery_stats(s, group)

    def sent_now(s, targets):
        return t.sent_now(s, targets, g="mesh")

    def kept(s, before):
        t.check_kept(s, before, *ctx, g="mesh")

    # ---- 1. one target per A record, all measured ----
    mesh = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    s = wait(lambda s: all(t.received(s, a, g="mesh") >= 5 for a in mesh), "every mesh.test address measured")
    ok, bad, n = stats(s)
    t.check(n == 3 and ok >= 1 and bad == 0, "mesh stats %r" % ((ok, bad, n),), *ctx)
    t.check(t.select(s, "twamp_discovery_refreshes_total", group="mesh", source="dns", result="success"),
            "no success series with source=dns", *ctx)
    t.check("test override active" in agent.output() and str(dns.port) in agent.output(),
            "TW_TEST_NAMESERVER not announced in the log", *ctx)
    qs = set(dns.queries)
    t.check(("mesh.test", 1) in qs and ("mesh.test", 28) in qs, "queries seen: %r" % sorted(qs), *ctx)

    # ---- 1b. http_sd by name; self by $NODE_NAME / $HOSTNAME (item 6) ----
    s = wait(lambda s: t.received(s, "other.test:%d" % port, g="named") >= 5, "other.test measured through http_sd")
    ok, bad, n = stats(s, "named")
    t.check(n == 1 and bad == 0, "named stats %r" % ((ok, bad, n),), *ctx)
    t.check(not t.series_of(s, "node-self.test:%d" % port) and not t.series_of(s, "HOST-SELF.test:%d" % port),
            "a target named like this node discovered", *ctx)
    hosts = {h.get("Host") for _, _, h in srv.requests}
    t.check(hosts == {"sd.test:%d" % srv.port}, "Host headers %r" % hosts, *ctx)
    t.check(("sd.test", 1) in dns.queries and ("other.test", 1) in dns.queries, "queries %r" % sorted(set(dns.queries)),
            *ctx)
    m = re.findall(r'discovered targets changed" group=named .* excluded_self=(\d+)', agent.output())
    t.check(m and int(m[0]) == 2, "named: excluded_self logged %r, expected 2" % m, *ctx)

    # ---- 2. an address leaves the answer ----
    before = sent_now(s, ["127.0.0.2", "127.0.0.4"])
    dns.records["mesh.test"] = {"A": ["127.0.0.2", "127.0.0.4"]}
    s = wait(lambda s: not t.series_of(s, "127.0.0.3"), "every series of 127.0.0.3 gone")
    kept(s, before)
    t.check(stats(s)[2] == 2, "mesh targets after dropping .3: %r" % (stats(s),), *ctx)

    # ---- 3. SERVFAIL keeps the list ----
    ok0, bad0, _ = stats(s)
    before = sent_now(s, ["127.0.0.2", "127.0.0.4"])
    log_len = len(agent.output())
    dns.mode = "servfail"
    s = wait(lambda s: stats(s)[1] >= bad0 + 3, "three failed mesh.test refreshes")
    ok1, _, n1 = stats(s)
    t.check(n1 == 2 and ok1 <= ok0 + 1, "during SERVFAIL: success %s -> %s, targets %s" % (ok0, ok1, n1), *ctx)
    wait(lambda s: all(t.received(s, a, g="mesh") >= before[a] + 10 for a in before), "mesh measuring during SERVFAIL")
    kept(t.try_samples(web) or s, before)
    fails = [ln for ln in agent.output()[log_len:].splitlines()
             if "discovery refresh failed" in ln and "group=mesh" in ln]
    t.check(fails and "SERVFAIL" in fails[0] and "source=dns" in fails[0], "SERVFAIL not logged: %r" % fails[:2],
            *ctx)
    print("SERVFAIL: %s" % fails[0])
    dns.mode = "ok"

    # ---- 4. back, plus AAAA ::1 ----
    dns.records["mesh.test"] = {"A": mesh, "AAAA": ["::1"] if v6 else []}
    want = mesh + (["::1"] if v6 else [])
    s = wait(lambda s: all(t.received(s, a, g="mesh") >= 5 for a in want), "mesh.test measured again: %s" % want)
    kept(s, before)
    t.check(stats(s)[2] == len(want), "mesh targets %r, expected %d" % (stats(s), len(want)), *ctx)

    # ---- 5. self-exclusion by default ----
    s = wait(lambda s: stats(s, "selfx")[2] == 1 and t.series_of(s, OTHER, g="selfx"), "self.test gives one target")
    for a in ["127.0.0.1"] + (["::1"] if v6 else []) + ([own] if own else []):
        t.check(not t.series_of(s, a, g="selfx"), "%s (this host) discovered with exclude_self" % a, *ctx)
    m = re.findall(r'discovered targets changed" group=selfx .* excluded_self=(\d+)', agent.output())
    t.check(m and int(m[0]) == n_self, "excluded_self logged %r, expected %d" % (m, n_self), *ctx)

    # ---- 7. SIGHUP: exclude_self false keeps this host's addresses ----
    before = sent_now(s, want)
    ok0 = stats(s, "selfx")[0]
    t.write_file(path, config(listen, port, False, sd_url), 0o644)
    agent.signal(signal.SIGHUP)
    mine = ["127.0.0.1"] + (["::1"] if v6 else []) + ([own] if own else [])
    s = wait(lambda s: all(t.received(s, a, g="selfx") >= 5 for a in mine), "this host's addresses measured: %s" % mine)
    ok1, _, n1 = stats(s, "selfx")
    t.check(n1 == n_self + 1 and ok1 >= ok0, "selfx after the reload: targets %s, success %s -> %s" % (n1, ok0, ok1),
            *ctx)
    kept(s, before)

    t.check(agent.stop() == 0, "agent exit status", *ctx)
    dns.close()
    srv.close()
    shutil.rmtree(work)
    print("discovery_dns: OK")


if __name__ == "__main__":
    main()

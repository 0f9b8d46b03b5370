#!/usr/bin/env python3
"""Two long-running agents on loopback measuring each other (issue 3).

Agent A reflects on one port and measures B, an unreachable target (a
closed port) and a plain `reflect` process R; agent B reflects on another
port and measures A. Asserted from live /metrics scrapes:
  - reachable targets: packets sent and received, none lost, session up,
    RTT histogram count == received and a plausible sum, every reply's
    one-way delays either in the histogram or skipped with a reason,
    reflector counters on the peer; B also measures A from source address
    127.0.0.2 with DSCP 46 and a Poisson schedule (session_info shows
    both), and A's test_port_range provides the port B's session gets;
    A reaches B by the name localhost, re-resolved every second without
    restarting the session;
  - B's reflector limits from its config: a client outside `allow` and
    a connection over max_control_connections get a Modes-0 greeting and
    are counted by reason, while A's session carries on;
  - the unreachable target: session down, connect failures and attempts
    counted, every series present with zeros from configuration on;
  - loss: R is stopped (SIGSTOP) for longer than the loss timeout; the
    lost counter rises by the packets sent while it could not answer, the
    invariant sent == received + lost + in flight holds with in flight
    bounded by loss_timeout / interval, and after SIGCONT the target
    recovers (received grows again, the queued replies count as late);
  - R is killed and restarted on its port: A's session fails once with
    reason closed, reconnects after its backoff, keeps its counters, and
    only packets in flight at the crash are lost.
"""
import shutil
import signal
import socket
import sys
import tempfile
import time

import twamplib as t

INTERVAL_S = 0.05
LOSS_TIMEOUT_S = 1.0
IN_FLIGHT_MAX = int(LOSS_TIMEOUT_S / INTERVAL_S) + 2


def config(listen_port, targets, reflector_extra=()):
    """targets: (name, port[, extra settings text[, host]])."""
    lines = ["reflector:", '  listen: ["127.0.0.1:%d"]' % listen_port] + list(reflector_extra) + ["defaults:",
             "  interval: %dms" % int(INTERVAL_S * 1000), "  loss_timeout: %dms" % int(LOSS_TIMEOUT_S * 1000),
             "targets:"]
    for tg in targets:
        extra = ", " + tg[2] if len(tg) > 2 and tg[2] else ""
        host = tg[3] if len(tg) > 3 else "127.0.0.1"
        lines.append("  - {name: %s, host: %s, port: %d, labels: {mesh: test}%s}" % (tg[0], host, tg[1], extra))
    return "\n".join(lines) + "\n"


def free_udp_range(n):
    """n consecutive UDP ports free on 127.0.0.1 right now."""
    for _ in range(50):
        base = t.free_port(kind=socket.SOCK_DGRAM)
        if base + n > 65535:
            continue
        socks = []
        try:
            for p in range(base, base + n):
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(u)
                u.bind(("127.0.0.1", p))
            return base, base + n - 1
        except OSError:
            continue
        finally:
            for u in socks:
                u.close()
    raise RuntimeError("no free UDP port range")


def counters(samples, target):
    g = lambda n: t.value(samples, n, target=target)
    return {"sent": g("twamp_test_packets_sent_total"), "received": g("twamp_test_packets_received_total"),
            "lost": g("twamp_test_packets_lost_total"), "late": g("twamp_test_packets_late_total"),
            "up": g("twamp_session_up")}


def check_reachable(samples, target, *ctx):
    c = counters(samples, target)
    t.check(c["sent"] > 0 and c["received"] > 0, "%s: sent/received %s" % (target, c), *ctx)
    t.check(c["lost"] == 0 and c["late"] == 0, "%s: loss on loopback: %s" % (target, c), *ctx)
    t.check(c["up"] == 1, "%s: session not up" % target, *ctx)
    in_flight = c["sent"] - c["received"] - c["lost"]
    t.check(0 <= in_flight <= IN_FLIGHT_MAX, "%s: in flight %s" % (target, in_flight), *ctx)
    n = t.value(samples, "twamp_rtt_seconds_count", target=target)
    s = t.value(samples, "twamp_rtt_seconds_sum", target=target)
    t.check(n == c["received"], "%s: rtt count %s != received %s" % (target, n, c["received"]), *ctx)
    t.check(0 < s / n < 0.05, "%s: mean loopback RTT %.6fs implausible" % (target, s / n), *ctx)
    # one session that never dropped (B's first tries may find A not yet started)
    # every reply's one-way delays: in the histogram or skipped with a reason
    for d in ("forward", "backward"):
        owd = t.value(samples, "twamp_one_way_delay_seconds_count", target=target, direction=d)
        skipped = sum(x[2] for x in t.select(samples, "twamp_one_way_delay_skipped_total", target=target,
                                             direction=d))
        t.check(owd + skipped == c["received"], "%s %s: %s in the histogram + %s skipped != %s received" % (
            target, d, owd, skipped, c["received"]), *ctx)
    attempts = t.value(samples, "twamp_control_connection_attempts_total", target=target)
    fails = t.select(samples, "twamp_control_connection_failures_total", target=target)
    t.check(attempts == 1 + sum(f[2] for f in fails) and all(f[2] == 0 or f[1]["reason"] == "connect" for f in fails),
            "%s: %s control attempts, failures %s" % (target, attempts, [f for f in fails if f[2]]), *ctx)
    info = t.select(samples, "twamp_session_info", target=target)
    t.check(len(info) == 1 and info[0][1]["target_ip"] == "127.0.0.1" and info[0][1]["mode"] == "unauthenticated"
            and info[0][1]["port"] != "0" and info[0][1]["mesh"] == "test",
            "%s: session_info %s" % (target, info), *ctx)
    return info[0][1]


def check_unreachable(samples, target, *ctx):
    c = counters(samples, target)
    t.check(c["up"] == 0, "%s: session up" % target, *ctx)
    t.check(c["sent"] == 0 and c["received"] == 0 and c["lost"] == 0,
            "%s: series should exist with zeros: %s" % (target, c), *ctx)
    fails = t.value(samples, "twamp_control_connection_failures_total", target=target, reason="connect")
    attempts = t.value(samples, "twamp_control_connection_attempts_total", target=target)
    t.check(fails > 0 and attempts >= fails, "%s: connect failures %s attempts %s" % (target, fails, attempts), *ctx)
    others = [s for s in t.select(samples, "twamp_control_connection_failures_total", target=target)
              if s[1]["reason"] != "connect" and s[2] != 0]
    t.check(not others, "%s: unexpected failure reasons %s" % (target, others), *ctx)
    for fam in ("twamp_rtt_seconds_count", "twamp_rtt_seconds_sum", "twamp_remote_processing_seconds_count"):
        t.check(t.value(samples, fam, target=target) == 0, "%s: %s not zero" % (target, fam), *ctx)
    t.check(len(t.select(samples, "twamp_rtt_seconds_bucket", target=target)) == 17,
            "%s: rtt buckets missing" % target, *ctx)
    info = t.select(samples, "twamp_session_info", target=target)
    t.check(len(info) == 1 and info[0][1]["port"] == "0", "%s: session_info %s" % (target, info), *ctx)


def reflector_limits(agent, port_b, web_b, *ctx):
    """B's allow list and connection limit, while it keeps serving A."""
    rc, _, cp = t.ping_json(agent, "127.0.0.1:%d" % port_b, ["-c", "2", "-S", "127.0.0.2"], timeout=30)
    t.check(rc == 4 and "Modes 0" in cp.stderr, "ping from 127.0.0.2 (not allowed): %s" % t.describe(cp), *ctx)
    socks = []
    try:
        for _ in range(2):  # A holds one connection: the first is the 2nd, the next is over the limit
            socks.append(socket.create_connection(("127.0.0.1", port_b), timeout=5))
        greetings = [t.recv_exact(x, 64) for x in socks]
        modes = [int.from_bytes(g[12:16], "big") if len(g) == 64 else None for g in greetings]
        t.check(modes == [1, 0], "greeting modes %s: want [1, 0] (the 3rd connection refused)" % modes, *ctx)
        sb = t.scrape_samples(web_b)
        for reason, n in (("not_allowed", 1), ("connection_limit", 1)):
            got = t.value(sb, "twamp_reflector_control_rejections_total", reason=reason)
            t.check(got == n, "B rejections{reason=%s} = %s, want %d" % (reason, got, n), *ctx)
    finally:
        for x in socks:
            x.close()
    t.wait_until(lambda: t.value(t.scrape_samples(web_b), "twamp_reflector_control_connections") == 1, 10,
                 "B back to A's one control connection", *ctx)


def restart_reflector(agent, refl, port_r, web_a, *ctx):
    """SIGKILLs R and starts a new reflector on its port: A's session to it
    fails with reason closed, comes back after a backoff, and its counters
    carry on; the packets R never answered are lost, none is unaccounted."""
    before = counters(t.scrape_samples(web_a), "r")
    refl.p.kill()
    refl.wait(5)
    new = t.Proc([agent, "reflect", "--listen", "127.0.0.1:%d" % port_r], name="reflect-r2")
    t.wait_tcp("127.0.0.1", port_r, proc=new)
    ctx = tuple(x for x in ctx if x is not refl) + (new,)

    def back():
        s = t.scrape_samples(web_a)
        c = counters(s, "r")
        ok = (c["up"] == 1 and c["received"] >= before["received"] + 20
              and t.value(s, "twamp_control_connection_attempts_total", target="r") >= 2)
        return (s, c) if ok else None
    s, c = t.wait_until(back, 15, "A's session to the restarted R", *ctx)
    closed = t.value(s, "twamp_control_connection_failures_total", target="r", reason="closed")
    attempts = t.value(s, "twamp_control_connection_attempts_total", target="r")
    t.check(closed == 1 and attempts == 2, "after R's crash: %s closed failures, %s attempts" % (closed, attempts),
            *ctx)
    t.check(c["sent"] >= before["sent"] and c["late"] >= before["late"], "counters reset: %s -> %s" % (before, c),
            *ctx)
    in_flight = c["sent"] - c["received"] - c["lost"]
    t.check(0 <= in_flight <= IN_FLIGHT_MAX, "after R's restart: in flight %s (%s)" % (in_flight, c), *ctx)
    t.check(c["lost"] - before["lost"] <= IN_FLIGHT_MAX, "lost %s across a crash" % (c["lost"] - before["lost"]),
            *ctx)
    return new


def main():
    args = t.parse_args()
    work = tempfile.mkdtemp(prefix="agent_mesh-")
    port_a, port_b, closed = t.free_port(), t.free_port(), t.free_port()
    refl, port_r = t.start_reflector(args.agent, "127.0.0.1", name="reflect-r")
    lo, hi = free_udp_range(8)
    # A reaches B by name, re-resolved every second
    a_cfg = config(port_a, [("b", port_b, "ip_version: 4", "localhost"), ("dead", closed), ("r", port_r)],
                   ["  test_port_range: %d-%d" % (lo, hi)])
    # B reflects only for 127.0.0.1 and for at most 2 control connections
    b_cfg = config(port_b, [("a", port_a), ("src", port_a, "source_address: 127.0.0.2, dscp: 46, schedule: poisson")],
                   ['  allow: ["127.0.0.1/32"]', "  max_control_connections: 2"])
    # B first, so A's first attempt finds it; B's may find A not yet there.
    b, web_b, _ = t.start_agent(args.agent, work, b_cfg, name="agent-b")
    a, web_a, _ = t.start_agent(args.agent, work, a_cfg, name="agent-a", extra=["--dns.refresh-interval", "1s"])
    ctx = (a, b, refl)

    # Series exist from configuration on, whatever the session state.
    _, s = t.scrape(web_a)
    for target in ("b", "dead", "r"):
        t.check(len(t.select(s, "twamp_test_packets_sent_total", target=target)) == 1,
                "no sent series for %s right after start" % target, *ctx)

    def settled():
        sa, sb = t.scrape_samples(web_a), t.scrape_samples(web_b)
        ok = (t.value(sa, "twamp_test_packets_received_total", target="b") >= 20
              and t.value(sa, "twamp_test_packets_received_total", target="r") >= 20
              and t.value(sb, "twamp_test_packets_received_total", target="a") >= 20
              and t.value(sb, "twamp_test_packets_received_total", target="src") >= 10
              and t.value(sa, "twamp_control_connection_failures_total", target="dead", reason="connect") >= 1)
        return (sa, sb) if ok else None
    sa, sb = t.wait_until(settled, 20, "both agents measuring", *ctx)
    check_reachable(sa, "b", *ctx)
    check_reachable(sa, "r", *ctx)
    info = check_reachable(sb, "a", *ctx)
    # B's sender holds the port it requests on 127.0.0.1: A offers one of its range
    t.check(lo <= int(info["port"]) <= hi, "A's test port %s outside test_port_range %d-%d" % (
        info["port"], lo, hi), *ctx)
    info = check_reachable(sb, "src", *ctx)
    t.check(info["source_ip"] == "127.0.0.2" and info["dscp"] == "46", "src: session_info %s" % info, *ctx)
    check_unreachable(sa, "dead", *ctx)
    # Each agent reflected the other's packets.
    for samples, who in ((sa, "A"), (sb, "B")):
        refl_n = t.value(samples, "twamp_reflector_test_packets_reflected_total", protocol="twamp")
        t.check(refl_n > 0, "%s reflected nothing" % who, *ctx)
        want = 2 if who == "A" else 1
        t.check(t.value(samples, "twamp_reflector_sessions", protocol="twamp") == want, "%s: reflector sessions != %d" % (who, want),
                *ctx)
        drops = [x for x in t.select(samples, "twamp_reflector_test_packets_dropped_total") if x[2] != 0]
        t.check(not drops, "%s dropped test packets: %s" % (who, drops), *ctx)
    t.check(t.value(sa, "twamp_agent_sessions", state="up") == 2, "A: sessions up != 2", *ctx)

    reflector_limits(args.agent, port_b, web_b, *ctx)
    dns0 = t.value(sa, "twamp_agent_dns_lookups_total", result="ok")

    # ---- loss: R stops answering for longer than the loss timeout ----
    before = counters(t.scrape_samples(web_a), "r")
    refl.signal(signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        def losing():
            c = counters(t.scrape_samples(web_a), "r")
            return c if c["lost"] - before["lost"] >= 20 else None
        mid = t.wait_until(losing, 15, "lost packets while R is stopped", *ctx)
        t.check(mid["up"] == 1, "session down while the reflector is only silent", *ctx)
        in_flight = mid["sent"] - mid["received"] - mid["lost"]
        t.check(0 <= in_flight <= IN_FLIGHT_MAX,
                "sent %s != received %s + lost %s + in flight (<= %d)" % (
                    mid["sent"], mid["received"], mid["lost"], IN_FLIGHT_MAX), *ctx)
        time.sleep(max(0.0, 2.5 - (time.monotonic() - stopped_at)))
    finally:
        refl.signal(signal.SIGCONT)
    stop_s = time.monotonic() - stopped_at
    after_cont = counters(t.scrape_samples(web_a), "r")

    def recovered():
        c = counters(t.scrape_samples(web_a), "r")
        return c if c["received"] >= after_cont["received"] + 20 else None
    end = t.wait_until(recovered, 15, "R answering again", *ctx)
    lost = end["lost"] - before["lost"]
    # Every packet sent during the silence minus those still answerable
    # within their loss timeout when R resumed; +-3 for the edges.
    want = (stop_s - LOSS_TIMEOUT_S) / INTERVAL_S
    t.check(want - 3 - 0.2 * want <= lost <= stop_s / INTERVAL_S + 3,
            "lost %d packets in a %.2fs stop (expected about %.0f)" % (lost, stop_s, want), *ctx)
    in_flight = end["sent"] - end["received"] - end["lost"]
    t.check(0 <= in_flight <= IN_FLIGHT_MAX, "after recovery: in flight %s" % in_flight, *ctx)
    # R's socket kept the packets: once resumed it reflected them, too late.
    late = end["late"] - before["late"]
    t.check(0 < late <= lost, "late %s for %s lost" % (late, lost), *ctx)
    t.check(end["up"] == 1, "session not up after recovery", *ctx)
    t.check(t.value(t.scrape_samples(web_a), "twamp_control_connection_attempts_total", target="r") == 1,
            "the control session to R was re-established although it never failed", *ctx)
    # b's name was re-resolved while up (same address: the session stays)
    sa = t.scrape_samples(web_a)
    dns1 = t.value(sa, "twamp_agent_dns_lookups_total", result="ok")
    t.check(dns1 >= dns0 + 2, "DNS lookups %s -> %s over several refresh intervals" % (dns0, dns1), *ctx)
    t.check(t.value(sa, "twamp_agent_dns_lookups_total", result="failed") == 0, "failed lookups", *ctx)
    t.check(t.value(sa, "twamp_control_connection_attempts_total", target="b") == 1,
            "b's session restarted by an unchanged re-resolution", *ctx)

    # ---- R crashes and comes back on the same port ----
    refl = restart_reflector(args.agent, refl, port_r, web_a, *ctx)
    ctx = (a, b, refl)

    for p in (a, b, refl):
        t.check(p.alive(), "%s died" % p.name, *ctx)
    for p in (a, b, refl):
        rc = p.stop()
        t.check(rc == 0, "%s exited %s on SIGTERM" % (p.name, rc), *ctx)
    shutil.rmtree(work, ignore_errors=True)  # kept when a check failed
    print("ok: A->b %d received, A->r lost %d / late %d in %.1fs stop" % (
        t.value(sa, "twamp_test_packets_received_total", target="b"), lost, late, stop_s))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Configuration reload of the running agent (issue 3, reload semantics).

The agent reflects on its own port and measures itself under several
target names. Asserted from live scrapes, the log and the reload endpoint:
  1. SIGHUP with X unchanged, Y dropped, Z added: X keeps its counters
     (no reset, same control session), every series of Y is gone at once,
     Z starts from zero; config_last_reload_successful 1 and its
     timestamp advances.
  2. A user label change is a new identity: the old series vanish, the
     new ones start from zero.
  2b. New histogram buckets for a target re-create its histograms (from
     zero, new le set) while its counters and session carry on.
  3. Broken files (a YAML syntax error; an unknown key; dscp: 99), by
     POST /-/reload (400 with FILE:LINE:COL in the body) and by SIGHUP:
     the error is logged, config_last_reload_successful is 0, X keeps
     measuring; a fixed file reloads again (1).
  4. Moving the reflector onto a port another process holds is rejected
     (the old listener keeps answering); moving it to a free port (and X
     with it): pings succeed on the new port and fail on the old one; X's
     counters carry on across its restarted session, with no packet lost.
  5. Add/remove cycles leave process_open_fds where it was.
  6. A Kubernetes-ConfigMap-style symlink swap (..data -> new directory)
     followed by SIGHUP loads the new content.
"""
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

import twamplib as t


def config(listen, targets):
    lines = ["reflector:", '  listen: ["127.0.0.1:%d"]' % listen, "defaults:", "  interval: 50ms",
             "  loss_timeout: 1s", "targets:"]
    for name, port, label in targets:
        lines.append("  - {name: %s, host: 127.0.0.1, port: %d, labels: {v: \"%s\"}}" % (name, port, label))
    return "\n".join(lines) + "\n"


def sent(samples, target, **labels):
    m = t.select(samples, "twamp_test_packets_sent_total", target=target, **labels)
    return m[0][2] if len(m) == 1 else None


def reload_state(samples):
    return (t.value(samples, "twamp_agent_config_last_reload_successful"),
            t.value(samples, "twamp_agent_config_last_reload_success_timestamp_seconds"))


def wait_growing(web, target, base, what, *ctx, by=10, **labels):
    """Waits until target's sent counter exceeds base + by; returns the samples."""
    def grown():
        s = t.scrape_samples(web)
        v = sent(s, target, **labels)
        return s if v is not None and v >= base + by else None
    return t.wait_until(grown, 15, what, *ctx)


def post_reload(web):
    return t.http_get("http://127.0.0.1:%d/-/reload" % web, method="POST", data=b"")


def broken_reload(web, agent, path, text, expect, via, *ctx):
    """Writes a broken config, reloads it via 'http' or 'sighup', and checks
    the rejection; returns the error line."""
    before = t.scrape_samples(web)
    x0 = sent(before, "x")
    ts0 = reload_state(before)[1]
    log_len = len(agent.output())
    t.write_file(path, text, 0o644)
    if via == "http":
        st, _, body = post_reload(web)
        body = body.decode()
        t.check(400 <= st < 600, "POST /-/reload of a broken file: status %d" % st, *ctx)
        t.check(expect in body and path + ":" in body, "reload body lacks %r / FILE:LINE:COL:\n%s" % (expect, body),
                *ctx)
    else:
        agent.signal(signal.SIGHUP)

    def logged():
        new = agent.output()[log_len:]
        return [ln for ln in new.splitlines() if "configuration rejected" in ln] or None
    lines = t.wait_until(logged, 10, "the rejection in the log", *ctx)
    t.check(expect in lines[0] and path + ":" in lines[0], "log line lacks %r: %s" % (expect, lines[0]), *ctx)
    s = wait_growing(web, "x", x0, "x measuring after a rejected reload", *ctx)
    ok, ts = reload_state(s)
    t.check(ok == 0 and ts == ts0, "after a rejected reload: successful %s, timestamp %s (was %s)" % (ok, ts, ts0),
            *ctx)
    t.check(t.value(s, "twamp_session_up", target="x") == 1, "x down after a rejected reload", *ctx)
    t.check(t.value(s, "twamp_control_connection_attempts_total", target="x") == 1,
            "x reconnected after a rejected reload", *ctx)
    return lines[0]


def ping(agent, port, count=5):
    return t.ping_json(agent, "127.0.0.1:%d" % port, ["-c", str(count), "-i", "0.01", "--connect-timeout", "2s"],
                       timeout=30)


def configmap_swap(agent, work):
    """A Kubernetes ConfigMap volume updates by swapping the ..data symlink:
    the file the agent was given changes its target inode. SIGHUP must load
    the new content."""
    cm = os.path.join(work, "configmap")
    port = t.free_port()
    for v, name in (("..v1", "one"), ("..v2", "two")):
        os.makedirs(os.path.join(cm, v))
        t.write_file(os.path.join(cm, v, "agent.yml"), config(port, [(name, port, "1")]), 0o644)
    os.symlink("..v1", os.path.join(cm, "..data"))
    os.symlink(os.path.join("..data", "agent.yml"), os.path.join(cm, "agent.yml"))
    web = t.free_port()
    pr = t.Proc([agent, "run", "--config.file", os.path.join(cm, "agent.yml"),
                 "--web.listen-address", "127.0.0.1:%d" % web], name="agent-cm")
    t.wait_until(lambda: _try_sent(web, "one"), 15, "target one measuring", pr)
    os.symlink("..v2", os.path.join(cm, "..data_tmp"))
    os.rename(os.path.join(cm, "..data_tmp"), os.path.join(cm, "..data"))
    pr.signal(signal.SIGHUP)
    t.wait_until(lambda: _try_sent(web, "two"), 10, "target two after the symlink swap", pr)
    s = t.scrape_samples(web)
    t.check(not t.select(s, "twamp_test_packets_sent_total", target="one"), "target one remains", pr)
    t.check(pr.stop() == 0, "agent-cm exit status", pr)


def _try_sent(web, target):
    try:
        v = sent(t.scrape_samples(web), target)
    except (OSError, AssertionError):
        return None
    return v is not None and v > 0


def main():
    args = t.parse_args()
    work = tempfile.mkdtemp(prefix="agent_reload-")
    p1 = t.free_port()
    agent, web, path = t.start_agent(args.agent, work, config(p1, [("x", p1, "1"), ("y", p1, "1")]))
    ctx = (agent,)

    # ---- 1. keep X, drop Y, add Z ----
    s = wait_growing(web, "y", 0, "x and y measuring", *ctx, by=20)
    s = wait_growing(web, "x", 0, "x measuring", *ctx, by=20)
    x_before = sent(s, "x")
    ok0, ts0 = reload_state(s)
    t.check(ok0 == 1 and ts0 > 0, "initial reload state %s %s" % (ok0, ts0), *ctx)
    t.write_file(path, config(p1, [("x", p1, "1"), ("z", p1, "1")]), 0o644)
    agent.signal(signal.SIGHUP)

    def swapped():
        s = t.scrape_samples(web)
        return s if sent(s, "z") is not None else None
    s = t.wait_until(swapped, 10, "z configured after SIGHUP", *ctx)
    x_after, z_start = sent(s, "x"), sent(s, "z")
    t.check(x_after >= x_before, "x was reset by the reload: %s -> %s" % (x_before, x_after), *ctx)
    t.check(z_start < x_after / 2, "z did not start from zero: %s (x %s)" % (z_start, x_after), *ctx)
    t.check(not [x for x in s if x[1].get("target") == "y"], "series of the removed target y remain", *ctx)
    ok1, ts1 = reload_state(s)
    t.check(ok1 == 1 and ts1 > ts0, "after SIGHUP: successful %s, timestamp %s (was %s)" % (ok1, ts1, ts0), *ctx)
    s = wait_growing(web, "z", z_start, "z measuring", *ctx)
    t.check(t.value(s, "twamp_control_connection_attempts_total", target="x") == 1,
            "x's session was restarted although unchanged", *ctx)
    t.check(sent(s, "x") > x_after, "x stopped after the reload", *ctx)
    t.check(t.value(s, "twamp_test_packets_lost_total", target="x") == 0, "x lost packets over the reload", *ctx)

    # ---- 2. a label change is a new identity ----
    x_old = sent(s, "x")
    t.write_file(path, config(p1, [("x", p1, "2"), ("z", p1, "1")]), 0o644)
    st, _, body = post_reload(web)
    t.check(st == 200, "POST /-/reload: %d %r" % (st, body), *ctx)
    s = t.scrape_samples(web)
    t.check(not t.select(s, "twamp_test_packets_sent_total", target="x", v="1"),
            "x{v=1} series remain after the label change", *ctx)
    x_new = sent(s, "x", v="2")
    t.check(x_new is not None and x_new < x_old / 2, "x{v=2} did not start from zero: %s (old %s)" % (x_new, x_old),
            *ctx)
    t.check(not [x for x in s if x[1].get("target") == "x" and x[1].get("v") == "1"],
            "some x{v=1} series remain", *ctx)
    s = wait_growing(web, "x", x_new, "x{v=2} measuring", *ctx, v="2")
    good = config(p1, [("x", p1, "2"), ("z", p1, "1")])
    # from here on X is x{v=2}

    # ---- 2b. new buckets: z's histograms restart, its counters and session stay ----
    z0 = sent(s, "z")
    rebucketed = good.replace('labels: {v: "1"}}', 'labels: {v: "1"}, buckets: [1ms, 2ms]}')
    t.check(rebucketed != good, "test bug: no z line to rebucket", *ctx)
    t.write_file(path, rebucketed, 0o644)
    st, _, body = post_reload(web)
    t.check(st == 200, "reload with new buckets: %d %r" % (st, body), *ctx)
    s = wait_growing(web, "z", z0, "z measuring after new buckets", *ctx)
    les = [x[1]["le"] for x in t.select(s, "twamp_rtt_seconds_bucket", target="z")]
    t.check(les == ["0.001", "0.002", "+Inf"], "z buckets %s" % les, *ctx)
    rtt_n = t.value(s, "twamp_rtt_seconds_count", target="z")
    received = t.value(s, "twamp_test_packets_received_total", target="z")
    t.check(0 < rtt_n < received and sent(s, "z") > z0, "z after rebucketing: rtt count %s, received %s, sent %s"
            " (was %s)" % (rtt_n, received, sent(s, "z"), z0), *ctx)
    t.check(t.value(s, "twamp_control_connection_attempts_total", target="z") == 1, "z restarted by new buckets",
            *ctx)
    t.write_file(path, good, 0o644)
    t.check(post_reload(web)[0] == 200, "reload back to the default buckets", *ctx)

    # ---- 3. broken files are rejected, the running config keeps going ----
    syntax = good.replace("targets:\n", "targets:\n  - {name: broken, host: [\n")
    line = broken_reload(web, agent, path, syntax, "YAML syntax error", "http", *ctx)
    t.check(re.search(re.escape(path) + r":\d+:\d+: YAML syntax error", line),
            "syntax error without FILE:LINE:COL: %s" % line, *ctx)
    unknown = good.replace("  interval: 50ms\n", "  interval: 50ms\n  intervall: 10ms\n")
    line = broken_reload(web, agent, path, unknown, "intervall", "http", *ctx)
    t.check("%s:%d:3:" % (path, unknown.splitlines().index("  intervall: 10ms") + 1) in line,
            "unknown key error at the wrong place: %s" % line, *ctx)
    dscp = good.replace("  interval: 50ms\n", "  interval: 50ms\n  dscp: 99\n")
    line = broken_reload(web, agent, path, dscp, "dscp", "sighup", *ctx)
    t.check("%s:%d:9:" % (path, dscp.splitlines().index("  dscp: 99") + 1) in line and "99" in line,
            "dscp error lacks FILE:LINE:COL or the value: %s" % line, *ctx)
    # fixed again
    t.write_file(path, good, 0o644)
    st, _, body = post_reload(web)
    s = t.scrape_samples(web)
    t.check(st == 200 and reload_state(s)[0] == 1, "valid file after broken ones: %d %r" % (st, body), *ctx)

    # ---- 4. the reflector moves; X follows ----
    rc, d, cp = ping(args.agent, p1)
    t.check(rc == 0 and d and d["received"] == 5, "ping on the first port: %s" % t.describe(cp), *ctx)
    # a new listen address that is taken: rejected, the old listener stays
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        t.write_file(path, config(taken, [("x", p1, "2"), ("z", p1, "1")]), 0o644)
        st, _, body = post_reload(web)
        t.check(st == 400 and b"127.0.0.1:%d" % taken in body, "reload onto a taken port: %d %r" % (st, body), *ctx)
    rc, d, cp = ping(args.agent, p1)
    t.check(rc == 0 and d and d["received"] == 5, "old listener after a failed move: %s" % t.describe(cp), *ctx)
    s = t.scrape_samples(web)
    t.check(reload_state(s)[0] == 0, "reload_successful after a failed move", *ctx)
    t.check(t.value(s, "twamp_control_connection_attempts_total", target="x") == 1, "x restarted", *ctx)
    p2 = t.free_port()
    x_before = sent(s, "x")
    t.write_file(path, config(p2, [("x", p2, "2"), ("z", p2, "1")]), 0o644)
    agent.signal(signal.SIGHUP)

    def moved():
        s = t.scrape_samples(web)
        return s if t.value(s, "twamp_control_connection_attempts_total", target="x") >= 2 else None
    t.wait_until(moved, 10, "x restarted on the new port", *ctx)
    s = wait_growing(web, "x", x_before, "x measuring through the new port", *ctx)
    t.check(t.value(s, "twamp_session_up", target="x") == 1, "x not up on the new port", *ctx)
    info = t.select(s, "twamp_session_info", target="x")
    t.check(len(info) == 1, "session_info %s" % info, *ctx)
    rc, d, cp = ping(args.agent, p2)
    t.check(rc == 0 and d and d["received"] == 5, "ping on the new port: %s" % t.describe(cp), *ctx)
    rc, d, cp = ping(args.agent, p1, count=1)
    t.check(rc == 3 and "connect" in cp.stderr, "ping on the old port should fail to connect: %s" % t.describe(cp),
            *ctx)
    t.check(reload_state(s)[0] == 1, "reload state after moving the reflector", *ctx)
    failures = [x for x in t.select(s, "twamp_control_connection_failures_total", target="x") if x[2] != 0]
    t.check(not failures, "x failures over the move: %s" % failures, *ctx)
    # the old session's packets in flight were still answered (drained)
    t.check(t.value(s, "twamp_test_packets_lost_total", target="x") == 0, "x lost packets over the move", *ctx)

    # ---- 5. reloads do not leak descriptors ----
    cfg_a = config(p2, [("x", p2, "2"), ("z", p2, "1")])
    cfg_b = config(p2, [("x", p2, "2"), ("w", p2, "1")])

    def quiet_fds():
        """process_open_fds once nothing is in transition: both targets up,
        the reflector serving exactly their two sessions, and the count
        unchanged over 1.2 s (old senders drain for up to loss_timeout)."""
        def once():
            s = t.scrape_samples(web)
            ok = (t.value(s, "twamp_agent_sessions", state="up") == 2
                  and t.value(s, "twamp_reflector_sessions", protocol="twamp") == 2
                  and t.value(s, "twamp_reflector_control_connections") == 2)
            return t.value(s, "process_open_fds") if ok else None
        a = once()
        time.sleep(1.2)
        b = once()
        return a if a is not None and a == b else None
    fds0 = t.wait_until(quiet_fds, 15, "a quiet agent before the cycles", *ctx)
    for i in range(4):
        t.write_file(path, cfg_b if i % 2 == 0 else cfg_a, 0o644)
        st, _, body = post_reload(web)
        t.check(st == 200, "reload %d: %d %r" % (i, st, body), *ctx)
        time.sleep(0.3)
    fds1 = t.wait_until(quiet_fds, 15, "a quiet agent after the cycles", *ctx)
    t.check(fds1 == fds0, "open descriptors %d after 4 add/remove cycles, %d before" % (fds1, fds0), *ctx)

    t.check(agent.alive(), "agent died", *ctx)
    rc = agent.stop()
    t.check(rc == 0, "agent exited %s on SIGTERM" % rc, *ctx)
    configmap_swap(args.agent, work)
    shutil.rmtree(work, ignore_errors=True)  # kept when a check failed
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

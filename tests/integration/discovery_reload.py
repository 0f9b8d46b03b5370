#!/usr/bin/env python3
"""Configuration reloads of an agent with target discovery (issue 6).

The agent reflects on four loopback ports and measures itself through a
file_sd group (re-read interval 10 minutes, so nothing but the watch and
the reload can change the list). Asserted from live scrapes and the log:
  1. SIGHUP with the same discovery source (the file gains a comment and a
     static target elsewhere): the discovered targets keep their sessions
     and counters, the discovery its refresh counters; nothing is removed.
  2. SIGHUP with the same source and a new group padding: the discovered
     targets follow the group's settings (their sessions restart, logged)
     while their counters carry on.
  3. SIGHUP with a group label change: a new identity, so the old series
     vanish and the targets start again under the new label.
  4. SIGHUP with another file pattern: the new source's targets replace
     the old ones (a target only the old source listed vanishes, a new
     one is measured).
  5. A rejected reload (YAML syntax error) leaves discovery and the
     discovered targets running.
  6. SIGHUP without the group: its discovered targets and its
     twamp_discovery_* series vanish.
"""
import os
import shutil
import signal
import tempfile

import twamplib as t

WAIT = 15


def config(ports, pattern, padding=27, team="a", static=None, group=True, comment=""):
    lines = [
        "# " + comment,
        "reflector:",
        "  listen: [%s]" % ", ".join('"127.0.0.1:%d"' % p for p in ports),
        "defaults:",
        "  interval: 50ms",
        "  loss_timeout: 1s",
    ]
    if static:
        lines += ["targets:", "  - {name: s, host: 127.0.0.1, port: %d}" % static]
    if group:
        lines += [
            "target_groups:",
            "  - name: g",
            "    exclude_self: false",
            "    padding: %d" % padding,
            "    labels: {team: %s}" % team,
            "    discovery: {file_sd: {files: [\"%s\"], refresh: 10m}}" % pattern,
        ]
    return "\n".join(lines) + "\n"


def hp(port):
    return "127.0.0.1:%d" % port


def main():
    args = t.parse_args()
    work = tempfile.mkdtemp(prefix="discovery_reload-")
    d1, d2 = os.path.join(work, "one"), os.path.join(work, "two")
    os.mkdir(d1)
    os.mkdir(d2)
    pat1, pat2 = os.path.join(d1, "*.json"), os.path.join(d2, "*.json")

    def make(_udp, tcp):
        p1, p2, p3, _ = tcp
        t.write_atomic(os.path.join(d1, "a.json"), t.sd_json([([hp(p1), hp(p2)], {"src": "sd"})]))
        t.write_atomic(os.path.join(d2, "b.json"), t.sd_json([([hp(p1), hp(p3)], {"src": "sd"})]))
        return config(tcp, pat1)
    agent, web, path, _, ports = t.start_agent_on_free_ports(args.agent, work, make, ntcp=4)
    p1, p2, p3, p4 = ports
    ctx = (agent,)

    def wait(fn, what):
        return t.wait_samples(web, fn, what, WAIT, *ctx)

    def attempts(s, target, **labels):
        return t.counter_of(s, "twamp_control_connection_attempts_total", target, **labels)

    def sent(s, target, **labels):
        return t.counter_of(s, "twamp_test_packets_sent_total", target, **labels)

    def reload(text, what):
        """Writes the config, sends SIGHUP, waits until the reload is
        logged; returns the log written since."""
        log_len = len(agent.output())
        t.write_file(path, text, 0o644)
        agent.signal(signal.SIGHUP)

        def done():
            new = agent.output()[log_len:]
            return new if ("configuration loaded" in new or "configuration rejected" in new) else None
        return t.wait_until(done, 10, "the reload (%s) logged" % what, *ctx)

    # ---- 1. the same source: counters kept ----
    s = wait(lambda s: t.received(s, hp(p1)) >= 10 and t.received(s, hp(p2)) >= 10, "p1 and p2 measured")
    before = {x: sent(s, x) for x in (hp(p1), hp(p2))}
    ok0, bad0, n0 = t.discovery_stats(s, "g")
    t.check(n0 == 2 and ok0 >= 1 and bad0 == 0, "initial stats %r" % ((ok0, bad0, n0),), *ctx)
    log = reload(config(ports, pat1, static=p4, comment="same source"), "same source")
    t.check("configuration loaded" in log and "target removed" not in log, "reload log:\n" + log, *ctx)
    s = wait(lambda s: t.received(s, "s") >= 5, "the new static target measured")
    s = wait(lambda s: all(t.received(s, x) >= before[x] + 10 for x in before), "p1 and p2 measuring on")
    for x in before:
        t.check(attempts(s, x) == 1 and sent(s, x) >= before[x],
                "%s after a same-source reload: attempts %s, sent %s (was %s)" % (x, attempts(s, x), sent(s, x),
                                                                                  before[x]), *ctx)
    ok1, bad1, n1 = t.discovery_stats(s, "g")
    t.check(ok1 >= ok0 and bad1 == 0 and n1 == 2, "refresh counters after a same-source reload: %r (were %r)" %
            ((ok1, bad1, n1), (ok0, bad0, n0)), *ctx)

    # ---- 2. same source, new group padding: sessions restart, counters kept ----
    before = {x: sent(s, x) for x in before}
    log = reload(config(ports, pat1, padding=64, static=p4), "padding 64")
    t.check(log.count("session settings changed, restarting") >= 2, "no session restart logged:\n" + log, *ctx)
    s = wait(lambda s: all(attempts(s, x) == 2 and t.received(s, x) > before[x] for x in before),
             "p1 and p2 in a second session")
    for x in before:
        t.check(sent(s, x) >= before[x], "%s counters reset by a padding change" % x, *ctx)

    # ---- 3. group label change: new identities ----
    reload(config(ports, pat1, padding=64, team="b", static=p4), "team b")
    s = wait(lambda s: t.received(s, hp(p1), team="b") >= 5 and t.received(s, hp(p2), team="b") >= 5,
             "p1 and p2 under team=b")
    t.check(not [x for x in s if x[1].get("team") == "a"], "team=a series left after the label change", *ctx)

    # ---- 4. another pattern: the new source replaces the old ----
    # p1's identity is the same in both sources, but the new source has not
    # run when the reload applies the targets: p1 restarts from zero (a
    # known gap, printed for the record, not asserted).
    s = wait(lambda s: t.received(s, hp(p1), team="b") >= 20, "p1 measured under team=b")
    p1_before = (attempts(s, hp(p1), team="b"), sent(s, hp(p1), team="b"))
    reload(config(ports, pat2, padding=64, team="b", static=p4), "pattern two")
    s = wait(lambda s: t.received(s, hp(p3)) >= 5 and not t.series_of(s, hp(p2)), "p3 in, p2 out")
    s = wait(lambda s: t.received(s, hp(p1)) >= 5, "p1 (listed by both sources) measured")
    ok, bad, n = t.discovery_stats(s, "g")
    t.check(n == 2 and bad == 0 and ok >= 1, "stats of the new source %r" % ((ok, bad, n),), *ctx)
    print("p1 before the source change: attempts %s sent %s; after: attempts %s sent %s" %
          (p1_before + (attempts(s, hp(p1)), sent(s, hp(p1)))))
    t.check(t.received(s, "s") > 0 and attempts(s, "s") == 1, "the static target disturbed by a source change", *ctx)

    # ---- 5. a rejected reload keeps discovery ----
    before = {x: sent(s, x) for x in (hp(p1), hp(p3))}
    att = {x: attempts(s, x) for x in before}
    log = reload("target_groups: [\n  - {name: g\n", "broken")
    t.check("configuration rejected" in log, "broken file not rejected:\n" + log, *ctx)
    t.write_atomic(os.path.join(d2, "b.json"), t.sd_json([([hp(p1), hp(p3), hp(p2)], {"src": "sd"})]))
    s = wait(lambda s: t.received(s, hp(p2)) >= 5, "the running discovery still follows its files")
    for x in before:
        t.check(attempts(s, x) == att[x] and sent(s, x) >= before[x], "%s disturbed by a rejected reload" % x, *ctx)

    # ---- 6. the group removed ----
    reload(config(ports, pat2, static=p4, group=False), "no group")
    s = wait(lambda s: not any(t.series_of(s, hp(p)) for p in (p1, p2, p3)), "every discovered series gone")
    t.check(not [x for x in s if x[0].startswith("twamp_discovery_") and x[1].get("group") == "g"],
            "discovery series of the removed group remain", *ctx)
    t.check(t.received(s, "s") > 0, "the static target stopped", *ctx)

    t.check(agent.stop() == 0, "agent exit status", *ctx)
    shutil.rmtree(work)
    print("discovery_reload: OK")


if __name__ == "__main__":
    main()

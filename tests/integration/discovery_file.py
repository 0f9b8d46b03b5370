#!/usr/bin/env python3
"""file_sd target discovery in a running agent (issue 6, target discovery).

One agent reflects on five loopback ports and measures itself through a
target group whose targets come from Prometheus file_sd files: a JSON and
a YAML file in a plain directory and a JSON file in a Kubernetes-ConfigMap
style directory (files are links into ..data, ..data links to a stamped
directory). The re-read interval is 10 minutes, so every change below must
be seen through the directory watch (inotify), not the timer. Asserted from
live scrapes and the log:
  1. every listed target is measured (received > 0) with the file's labels
     merged over the group's (a file label overrides a group label, an
     empty value removes one); twamp_discovery_targets counts them and no
     refresh failed.
  2. replacing a file by an atomic rename: an added target appears and is
     measured, kept targets keep their session and counters, a removed
     target's every series vanishes.
  3. a ConfigMap-style ..data symlink swap: the new contents take effect.
  4. a file that stops parsing keeps its last good targets (still
     measured, same session) while another file's change still applies;
     twamp_discovery_refreshes_total{result="failure"} increments and the
     log names the file; repairing it counts a success again.
  5. a discovered target with the identity (name, dscp, labels) of a
     static one is left out: one series, the static target's session
     (which points at a live reflector port while the discovered entry's
     port has nothing listening) carries on untouched, also after the
     entry is removed again.
  6. deleting a file removes its targets.
  7. a second group reads a relative pattern (joined to the config file's
     directory) of *.yaml files: its target is measured with its labels.
"""
import os
import shutil
import tempfile

import twamplib as t

WAIT = 15


def config(ports, plain, cm, static_name, static_port):
    return "\n".join([
        "reflector:",
        "  listen: [%s]" % ", ".join('"127.0.0.1:%d"' % p for p in ports),
        "defaults:",
        "  interval: 50ms",
        "  loss_timeout: 1s",
        "target_groups:",
        "  - name: fsd",
        "    exclude_self: false",
        "    labels: {team: net, rack: r0}",
        "    discovery:",
        "      file_sd:",
        '        files: ["%s/*.json", "%s/*.yml", "%s/*.json"]' % (plain, plain, cm),
        "        refresh: 10m",
        "    targets:",
        '      - {name: "%s", host: 127.0.0.1, port: %d, labels: {site: clash}}' % (static_name, static_port),
        "  - name: rel",
        "    exclude_self: false",
        '    discovery: {file_sd: {files: ["rel/*.yaml"], refresh: 10m}}',
    ]) + "\n"


def hp(port):
    return "127.0.0.1:%d" % port


class Checker:
    def __init__(self, web, agent):
        self.web = web
        self.agent = agent
        self.ctx = (agent,)

    def samples(self):
        return t.wait_until(lambda: t.try_samples(self.web), 5, "a scrape", *self.ctx)

    def wait(self, fn, what):
        """Waits until fn(samples) is truthy; returns the samples."""
        return t.wait_samples(self.web, fn, what, WAIT, *self.ctx)

    def measured(self, target, by=1, base=0, **labels):
        def ok(s):
            v = t.counter_of(s, "twamp_test_packets_received_total", target, **labels)
            return v is not None and v >= base + by
        return self.wait(ok, "%s measured (received >= %d) %s" % (target, base + by, labels))

    def gone(self, target):
        return self.wait(lambda s: not t.series_of(s, target), "every series of %s gone" % target)

    def check(self, cond, msg):
        t.check(cond, msg, *self.ctx)


def check_labels(c, s, target, want):
    """The target's received series carries exactly want's user labels."""
    m = t.select(s, "twamp_test_packets_received_total", target=target)
    c.check(len(m) == 1, "%d received series for %s: %r" % (len(m), target, m))
    user = {k: v for k, v in m[0][1].items() if k not in ("target", "dscp")}
    c.check(user == want, "labels of %s: %r, expected %r" % (target, user, want))


def session_kept(c, s, target, sent_before):
    """Same control session as before (one connection attempt) and the
    counters carried on (no reset)."""
    att = t.counter_of(s, "twamp_control_connection_attempts_total", target)
    sent = t.counter_of(s, "twamp_test_packets_sent_total", target)
    c.check(att == 1, "%s: %s connection attempts, expected its first session to carry on" % (target, att))
    c.check(sent is not None and sent >= sent_before, "%s: sent %s after %s (reset?)" % (target, sent, sent_before))


def main():
    args = t.parse_args()
    work = tempfile.mkdtemp(prefix="discovery_file-")
    plain = os.path.join(work, "plain")
    os.mkdir(plain)
    a_json = os.path.join(plain, "a.json")
    b_yml = os.path.join(plain, "b.yml")
    # a non-matching file in the same directory is ignored
    t.write_file(os.path.join(plain, "notes.txt"), "not a target list\n", 0o644)
    os.mkdir(os.path.join(work, "rel"))
    made = {}

    def make(_udp, tcp):
        """The files for ports p1..p6 and dead (nothing listens there)."""
        p1, p2, p3, _, _, p6, dead = tcp
        t.write_atomic(a_json, t.sd_json([([hp(p1)], {"site": "json", "rack": "r1", "team": ""})]))
        t.write_atomic(b_yml, t.sd_yaml([([hp(p2)], {"site": "yaml"})]))
        t.write_atomic(os.path.join(work, "rel", "r.yaml"), t.sd_yaml([([hp(p6)], {"site": "rel"})]))
        k = {"k.json": t.sd_json([([hp(p3)], {"site": "cm"})])}
        if "cm" in made:
            made["cm"].update(k)
        else:
            made["cm"] = t.ConfigMapDir(os.path.join(work, "cm"), k)
        return config(tcp[:6], plain, made["cm"].path, hp(dead), tcp[3])
    agent, web, _, _, tcp = t.start_agent_on_free_ports(args.agent, work, make, ntcp=7)
    p1, p2, p3, p4, p5, p6 = tcp[:6]
    static_name = hp(tcp[6])
    cm = made["cm"]
    c = Checker(web, agent)

    # ---- 1. every listed target measured, labels merged ----
    for p in (p1, p2, p3):
        c.measured(hp(p), by=5)
    c.measured(static_name, by=5)
    s = c.samples()
    check_labels(c, s, hp(p1), {"site": "json", "rack": "r1"})
    check_labels(c, s, hp(p2), {"site": "yaml", "rack": "r0", "team": "net"})
    check_labels(c, s, hp(p3), {"site": "cm", "rack": "r0", "team": "net"})
    ok, bad, n = t.discovery_stats(s, "fsd")
    c.check(n == 3 and ok is not None and ok >= 1 and bad == 0,
            "discovery stats success=%s failure=%s targets=%s" % (ok, bad, n))
    fam = [x for x in s if x[0] == "twamp_discovery_refreshes_total" and x[1].get("group") == "fsd"]
    c.check(all(x[1].get("source") == "file_sd" for x in fam) and len(fam) == 2,
            "refresh counter series: %r" % fam)

    # ---- 2. atomic rename: add p4 (under its own name), then drop p1 ----
    sent2 = t.counter_of(s, "twamp_test_packets_sent_total", hp(p2))
    t.write_atomic(a_json, t.sd_json([([hp(p1), hp(p4)], {"site": "json"})]))
    c.measured(hp(p4), by=5)
    s = c.samples()
    session_kept(c, s, hp(p2), sent2)
    # p1's labels changed ({rack: r1, team: ""} gone): a new identity
    check_labels(c, s, hp(p1), {"site": "json", "rack": "r0", "team": "net"})
    c.check(t.discovery_stats(s, "fsd")[2] == 4, "targets gauge after adding p4: %r" % (t.discovery_stats(s, "fsd"),))
    t.write_atomic(a_json, t.sd_json([([hp(p4)], {"site": "json"})]))
    s = c.gone(hp(p1))
    session_kept(c, s, hp(p2), sent2)
    c.check(t.discovery_stats(s, "fsd")[2] == 3, "targets gauge after dropping p1: %r" % (t.discovery_stats(s, "fsd"),))
    c.check("target removed" in agent.output(), "no 'target removed' in the log")

    # ---- 3. ConfigMap ..data swap: p3 -> p5 ----
    cm.update({"k.json": t.sd_json([([hp(p5)], {"site": "cm2"})])})
    c.measured(hp(p5), by=5, site="cm2")
    s = c.gone(hp(p3))
    session_kept(c, s, hp(p2), sent2)

    # ---- 4. a broken file keeps its last good targets ----
    s = c.samples()
    ok0, bad0, _ = t.discovery_stats(s, "fsd")
    sent2 = t.counter_of(s, "twamp_test_packets_sent_total", hp(p2))
    t.write_atomic(b_yml, "- targets: ['127.0.0.1:1'\n  labels: {site: [broken\n")
    s = c.wait(lambda x: t.discovery_stats(x, "fsd")[1] >= bad0 + 1, "a failed refresh counted")
    c.check(t.discovery_stats(s, "fsd")[2] == 3, "targets after the broken file: %r" % (t.discovery_stats(s, "fsd"),))
    c.measured(hp(p2), base=sent2, by=10)
    session_kept(c, c.samples(), hp(p2), sent2)
    log = agent.output()
    c.check("discovery refresh failed" in log and "b.yml" in log, "the failure (naming b.yml) is not logged")
    # another file still updates while b.yml is broken: p1 comes back
    t.write_atomic(a_json, t.sd_json([([hp(p1), hp(p4)], {"site": "json"})]))
    c.measured(hp(p1), by=5)
    s = c.samples()
    c.check(t.series_of(s, hp(p2)), "p2 lost while b.yml is broken")
    c.check(t.discovery_stats(s, "fsd")[1] >= bad0 + 2, "the second refresh with a broken b.yml was not a failure")
    t.write_atomic(b_yml, t.sd_yaml([([hp(p2)], {"site": "yaml"})]))
    s = c.wait(lambda x: t.discovery_stats(x, "fsd")[0] > ok0, "a successful refresh after repairing b.yml")
    session_kept(c, s, hp(p2), sent2)

    # ---- 5. a discovered twin of the static target is left out ----
    s = c.samples()
    st_sent = t.counter_of(s, "twamp_test_packets_sent_total", static_name)
    ok0 = t.discovery_stats(s, "fsd")[0]
    twin = ([static_name], {"site": "clash"})
    t.write_atomic(a_json, t.sd_json([([hp(p1), hp(p4)], {"site": "json"}), twin]))
    s = c.wait(lambda x: t.discovery_stats(x, "fsd")[0] > ok0, "the refresh listing the twin")
    c.measured(static_name, base=st_sent, by=10)
    s = c.samples()
    for name in ("twamp_test_packets_received_total", "twamp_control_connection_attempts_total"):
        m = t.select(s, name, target=static_name)
        c.check(len(m) == 1, "%d %s series for the static target: %r" % (len(m), name, m))
    session_kept(c, s, static_name, st_sent)
    refused = t.counter_of(s, "twamp_control_connection_failures_total", static_name, reason="refused")
    c.check(refused == 0, "the discovered twin (dead port) was probed: refused=%s" % refused)
    ok0 = t.discovery_stats(s, "fsd")[0]
    t.write_atomic(a_json, t.sd_json([([hp(p1), hp(p4)], {"site": "json"})]))
    c.wait(lambda x: t.discovery_stats(x, "fsd")[0] > ok0, "the refresh without the twin")
    st_sent = t.counter_of(c.samples(), "twamp_test_packets_sent_total", static_name)
    c.measured(static_name, base=st_sent, by=10)
    session_kept(c, c.samples(), static_name, st_sent)

    # ---- 6. a deleted file's targets go ----
    os.unlink(b_yml)
    s = c.gone(hp(p2))
    c.check(t.discovery_stats(s, "fsd")[2] == 3, "targets after deleting b.yml: %r" % (t.discovery_stats(s, "fsd"),))
    for p in (p1, p4, p5):
        c.check(t.counter_of(s, "twamp_test_packets_received_total", hp(p)), "%s no longer measured" % hp(p))

    # ---- 7. the relative *.yaml pattern of group rel ----
    s = c.measured(hp(p6), by=5)
    check_labels(c, s, hp(p6), {"site": "rel"})
    c.check(t.discovery_stats(s, "rel")[1:] == (0, 1), "rel stats %r" % (t.discovery_stats(s, "rel"),))

    c.check(agent.stop() == 0, "agent exit status")
    shutil.rmtree(work)
    print("discovery_file: OK")


if __name__ == "__main__":
    main()

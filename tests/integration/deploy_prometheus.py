#!/usr/bin/env python3
"""deploy_prometheus: deploy/prometheus/twamp-rules.yml and its unit tests.

1. `promtool check rules` and `promtool test rules` pass.
2. The unit tests cover every rule: with any one alert or recording rule
   removed from a copy of the rules, `promtool test rules` fails; every
   alert has a test where it fires and one where it does not.
3. Every alert has a severity label and a summary; the required alerts
   and recordings exist.
4. Every metric the rules read is one a live agent exports (its /metrics).
5. A real Prometheus (when installed) scraping a self-measuring agent
   with these rules loaded records loss 0 and RTT p50/p99 below 50ms for
   both targets, and raises no alert, pending or firing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_common as dc  # noqa: E402
import twamplib as tl  # noqa: E402

RULE_START = re.compile(r"^(\s*)- (record|alert): (\S+)\s*$")
ALERTS = {"TwampPacketLossHigh", "TwampRttP99High", "TwampPathChanged", "TwampTargetDown",
          "TwampAgentConfigReloadFailed", "TwampReflectorRejectionsSpike"}
RECORDS = {"target:twamp_test_packets_loss:ratio_rate5m", "target:twamp_rtt_seconds:p50_5m",
           "target:twamp_rtt_seconds:p99_5m"}


def promtool(*args, cwd=None):
    return subprocess.run(["promtool"] + list(args), capture_output=True, text=True, timeout=120, cwd=cwd)


def rule_blocks(lines):
    """[(kind, name, first line, end line)] of the rules file, by indentation."""
    blocks = []
    for i, line in enumerate(lines):
        m = RULE_START.match(line)
        if not m:
            continue
        indent = len(m.group(1))
        end = i + 1
        while end < len(lines):
            s = lines[end]
            if s.strip() and not s.lstrip().startswith("#") and len(s) - len(s.lstrip()) <= indent:
                break
            end += 1
        blocks.append((m.group(2), m.group(3), i, end))
    return blocks


def check_blocks(lines, blocks):
    names = {k: {n for kk, n, _, _ in blocks if kk == k} for k in ("alert", "record")}
    assert names["alert"] >= ALERTS, "missing alerts: %s" % sorted(ALERTS - names["alert"])
    assert names["record"] >= RECORDS, "missing recording rules: %s" % sorted(RECORDS - names["record"])
    for kind, name, a, b in blocks:
        body = "\n".join(lines[a:b])
        if kind == "alert":
            sev = re.search(r"severity:\s*(\S+)", body)
            assert sev and sev.group(1) in ("critical", "warning", "info"), "%s: no valid severity" % name
            assert re.search(r"summary:\s*\S", body), "%s: no summary annotation" % name
    return names


def mutation_check(rules_path, test_path, lines, blocks):
    """Each rule removed in turn must make the unit tests fail."""
    with tempfile.TemporaryDirectory(prefix="deploy-rules-") as tmp:
        shutil.copy(test_path, tmp)
        for kind, name, a, b in blocks:
            with open(os.path.join(tmp, os.path.basename(rules_path)), "w") as f:
                f.write("\n".join(lines[:a] + lines[b:]) + "\n")
            cp = promtool("check", "rules", os.path.basename(rules_path), cwd=tmp)
            assert cp.returncode == 0, "removing %s broke the file itself:\n%s" % (name, cp.stdout + cp.stderr)
            cp = promtool("test", "rules", os.path.basename(test_path), cwd=tmp)
            assert cp.returncode != 0, "the unit tests still pass without %s %s: it is untested" % (kind, name)


def coverage_check(test_path, alerts):
    """Every alert has a firing case and a not-firing case."""
    cases = {}
    with open(test_path) as f:
        text = f.read()
    for m in re.finditer(r"- alertname: (\S+)\s*\n\s*eval_time: \S+\s*\n\s*exp_alerts:(.*)", text):
        cases.setdefault(m.group(1), set()).add("silent" if m.group(2).strip() == "[]" else "firing")
    for a in alerts:
        assert cases.get(a) == {"silent", "firing"}, "%s: tests cover %s, need firing and silent" % (
            a, sorted(cases.get(a, [])))


def metrics_check(rules_text, exported):
    """Metric names anywhere outside comments (expressions and the
    annotations that point at metrics) exist live; recordings (with ':')
    are the rules' own."""
    used = set()
    for line in rules_text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for tok in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line):
            if tok.startswith("twamp_") and ":" not in tok:
                used.add(tok)
    assert used, "no metric names found in the rules"
    unknown = sorted(used - exported)
    assert not unknown, "the rules read metrics the agent does not export: %s" % unknown
    return used


def live_check(args, tmp, rules, text):
    """A real Prometheus evaluates the rules against a healthy loopback
    agent: every recording yields both targets, the values are sane, and
    no alert is pending or firing."""
    stack = dc.LiveStack(args.agent, tmp, rule_files=[rules])
    try:
        used = metrics_check(text, dc.sample_names(dc.scrape(stack.web)))
        targets = {"self", "self-v4"}
        for rec in sorted(RECORDS):
            stack.wait_for("count(%s >= 0) >= 2" % rec)
            res = stack.query(rec)
            got = {r["metric"].get("target") for r in res}
            assert got == targets, "%s: targets %s, expected %s" % (rec, got, targets)
            for r in res:
                v = float(r["value"][1])
                limit = 0.0 if "loss" in rec else 0.05
                assert 0 <= v <= limit, "%s{target=%s} = %g on loopback" % (rec, r["metric"]["target"], v)
                assert r["metric"].get("job") == "twamp-agent" and r["metric"].get("dscp"), r["metric"]
        time.sleep(3)
        alerts = stack.query("ALERTS")
        assert not alerts, "alerts on a healthy loopback agent: %s" % [a["metric"] for a in alerts]
        return used
    finally:
        stack.stop()


def main():
    args = tl.parse_args()
    tl.tool("promtool", "the rules and their unit tests", whole=True)
    d = os.path.join(args.source_dir, "deploy", "prometheus")
    rules = os.path.join(d, "twamp-rules.yml")
    tests = os.path.join(d, "twamp-rules_test.yml")
    cp = promtool("check", "rules", rules)
    assert cp.returncode == 0, "promtool check rules:\n%s%s" % (cp.stdout, cp.stderr)
    cp = promtool("test", "rules", os.path.basename(tests), cwd=d)
    assert cp.returncode == 0, "promtool test rules:\n%s%s" % (cp.stdout, cp.stderr)
    with open(rules) as f:
        text = f.read()
    lines = text.split("\n")
    blocks = rule_blocks(lines)
    names = check_blocks(lines, blocks)
    coverage_check(tests, names["alert"])
    mutation_check(rules, tests, lines, blocks)
    with tempfile.TemporaryDirectory(prefix="deploy-prom-") as tmp:
        if tl.tool("prometheus", "the rules evaluated live"):
            used = live_check(args, tmp, rules, text)
        else:
            used = metrics_check(text, dc.sample_names(dc.live_exposition(args.agent, tmp)))
    print("deploy_prometheus: OK (%d alerts, %d recordings, %d metrics checked live)" % (
        len(names["alert"]), len(names["record"]), len(used)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""deploy_grafana: deploy/grafana/twamp-agent.json is an importable
dashboard whose every query works against a live agent.

1. Valid JSON, schemaVersion >= 38, a uid, no numeric id; a `datasource`
   variable of type datasource/prometheus, `target` from
   label_values(twamp_test_packets_sent_total..., target); every panel and
   query uses ${datasource}; panel ids unique; panels inside the 24-column
   grid without overlapping.
2. The required panels exist: RTT heatmap (format heatmap, rate over
   $__rate_interval), RTT p50/p99, loss ratio, jitter (round trip and one
   way), one-way delay p50, TTL and its changes, reflector load, sessions
   and rejections by reason, session up and failures by reason; every
   range uses $__rate_interval.
3. promtool parses every expression (as recording rules).
4. Every metric name the queries use is one the agent exports, and every
   query, run by a real Prometheus scraping a self-measuring agent, returns
   data (a trailing "> 0" filter removed), the variables too.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_common as dc  # noqa: E402
import twamplib as tl  # noqa: E402

DS_UID = "${datasource}"
RATE_WINDOW = "10s"  # stands for $__rate_interval with a 1s scrape interval

REQUIRED = [
    ("RTT heatmap", lambda p, t: p["type"] == "heatmap" and t.get("format") == "heatmap"
     and re.search(r"rate\(twamp_rtt_seconds_bucket\{[^}]*\}\[\$__rate_interval\]\)", t["expr"])),
    ("RTT p50", lambda p, t: re.search(r"histogram_quantile\(0\.5,[\s\S]*twamp_rtt_seconds_bucket", t["expr"])),
    ("RTT p99", lambda p, t: re.search(r"histogram_quantile\(0\.99,[\s\S]*twamp_rtt_seconds_bucket", t["expr"])),
    ("loss ratio", lambda p, t: re.search(r"rate\(twamp_test_packets_lost_total[\s\S]*/[\s\S]*"
                                          r"rate\(twamp_test_packets_sent_total", t["expr"])),
    ("RTT jitter", lambda p, t: "twamp_rtt_jitter_seconds" in t["expr"]),
    ("one-way jitter", lambda p, t: "twamp_one_way_jitter_seconds" in t["expr"]),
    ("one-way delay p50", lambda p, t: re.search(r"histogram_quantile\(0\.5,[\s\S]*twamp_one_way_delay_seconds_bucket",
                                                 t["expr"])),
    ("received TTL", lambda p, t: re.search(r"twamp_received_ttl\{", t["expr"])),
    ("TTL changes", lambda p, t: "twamp_received_ttl_changes_total" in t["expr"]),
    ("reflected rate", lambda p, t: "rate(twamp_reflector_test_packets_reflected_total" in t["expr"]),
    ("reflector sessions", lambda p, t: "twamp_reflector_sessions" in t["expr"]),
    ("rejections by reason", lambda p, t: "twamp_reflector_control_rejections_total" in t["expr"]
     and re.search(r"by \([^)]*reason", t["expr"])),
    ("session up", lambda p, t: "twamp_session_up" in t["expr"]),
    ("failures by reason", lambda p, t: "twamp_control_connection_failures_total" in t["expr"]
     and re.search(r"by \([^)]*reason", t["expr"])),
]


def flat_panels(dash):
    out = []
    for p in dash["panels"]:
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def check_variables(dash):
    vs = {v["name"]: v for v in dash["templating"]["list"]}
    ds = vs.get("datasource")
    assert ds and ds["type"] == "datasource" and ds["query"] == "prometheus", "no prometheus datasource variable"
    t = vs.get("target")
    assert t and t["type"] == "query", "no target query variable"
    q = t["query"]["query"] if isinstance(t["query"], dict) else t["query"]
    assert re.fullmatch(r"label_values\(twamp_test_packets_sent_total(\{[^}]*\})?, target\)", q), q
    for v in vs.values():
        if v["type"] == "query":
            assert v["datasource"]["uid"] == DS_UID, "variable %s: datasource %s" % (v["name"], v["datasource"])
    return vs


def check_layout(panels):
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "duplicate panel ids: %s" % ids
    cells = {}
    for p in panels:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24 and g["h"] > 0, "%s: gridPos %s" % (p["title"], g)
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, "panels %r and %r overlap" % (cells[(x, y)], p["title"])
                cells[(x, y)] = p["title"]


def queries(panels):
    """[(panel, target)] of every non-row panel; checks data sources."""
    out = []
    for p in panels:
        if p["type"] == "row":
            continue
        assert p["datasource"]["uid"] == DS_UID, "%s: datasource %s" % (p["title"], p["datasource"])
        assert p.get("targets"), "%s: no queries" % p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] == DS_UID, "%s/%s: datasource" % (p["title"], t["refId"])
            assert t["expr"].strip(), "%s/%s: empty expr" % (p["title"], t["refId"])
            for w in re.findall(r"\[([^\]]+)\]", t["expr"]):
                assert w == "$__rate_interval", "%s: range [%s], expected [$__rate_interval]" % (p["title"], w)
            out.append((p, t))
    return out


def check_required(qs):
    for what, pred in REQUIRED:
        assert any(pred(p, t) for p, t in qs), "no panel shows %s" % what


def concrete(expr):
    """The expression with Grafana's variables replaced as Grafana would."""
    e = expr.replace("$__rate_interval", RATE_WINDOW)
    return re.sub(r"\$\{?(instance|target|dscp)\}?", ".*", e)


def promtool_parse(exprs, tmp):
    path = os.path.join(tmp, "dashboard-rules.yml")
    with open(path, "w") as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, e in enumerate(exprs):
            f.write("      - record: dashboard:expr_%d\n        expr: %s\n" % (i, json.dumps(concrete(e))))
    cp = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, "promtool rejects a dashboard query:\n%s%s" % (cp.stdout, cp.stderr)


def metric_names(expr):
    names = set()
    for tok in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", re.sub(r'"[^"]*"', '""', expr)):
        if tok.startswith(("twamp_", "process_")):
            names.add(tok)
    return names


def live_check(args, tmp, exprs, vs):
    stack = dc.LiveStack(args.agent, tmp)
    try:
        exported = dc.sample_names(dc.scrape(stack.web))
        used = set().union(*(metric_names(e) for e in exprs))
        unknown = sorted(used - exported)
        assert not unknown, "the dashboard queries metrics the agent does not export: %s" % unknown
        # Enough samples for rate() over the window.
        stack.wait_for("count(rate(twamp_test_packets_sent_total[%s]) > 0) >= 2" % RATE_WINDOW)
        time.sleep(3)
        for e in exprs:
            q = re.sub(r"\s*>\s*0\s*$", "", concrete(e))
            res = stack.query(q)
            tl.check(res, "dashboard query returns nothing on a live agent: %s" % q, stack.agent)
        for name in ("instance", "target", "dscp"):
            q = vs[name]["query"]["query"]
            m = re.fullmatch(r"label_values\((.*), (\w+)\)", q)
            assert m, q
            res = stack.query("count by (%s) (%s)" % (m.group(2), concrete(m.group(1))))
            got = {r["metric"].get(m.group(2)) for r in res}
            if name == "target":
                assert got == {"self", "self-v4"}, "target variable values %s" % got
            assert got and None not in got, "variable %s values %s" % (name, got)
        return len(used)
    finally:
        stack.stop()


def main():
    args = tl.parse_args()
    path = os.path.join(args.source_dir, "deploy", "grafana", "twamp-agent.json")
    with open(path) as f:
        dash = json.load(f)
    assert dash.get("schemaVersion", 0) >= 38, "schemaVersion %s < 38" % dash.get("schemaVersion")
    assert dash.get("uid") and dash.get("title"), "uid and title needed"
    assert dash.get("id") is None, "a numeric id makes the import overwrite another dashboard"
    vs = check_variables(dash)
    panels = flat_panels(dash)
    check_layout(panels)
    qs = queries(panels)
    check_required(qs)
    exprs = [t["expr"] for _, t in qs]
    with tempfile.TemporaryDirectory(prefix="deploy-grafana-") as tmp:
        if tl.tool("promtool", "the dashboard's expressions parsed"):
            promtool_parse(exprs, tmp)
        if tl.tool("prometheus", "the dashboard's queries run live"):
            n = live_check(args, tmp, exprs, vs)
            print("live: %d queries returned data; %d metric names, all exported" % (len(exprs), n))
        else:
            exported = dc.sample_names(dc.live_exposition(args.agent, tmp))
            unknown = sorted(set().union(*(metric_names(e) for e in exprs)) - exported)
            assert not unknown, "the dashboard queries metrics the agent does not export: %s" % unknown
    print("deploy_grafana: OK (%d panels, %d queries)" % (len(panels), len(exprs)))


if __name__ == "__main__":
    main()

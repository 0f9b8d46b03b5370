#!/usr/bin/env python3
"""deploy_manpage: deploy/man/twamp-agent.8 matches the binary's help.

1. groff formats it without a single warning (-ww), lexgrog finds its
   NAME line, and its .TH names the version `twamp-agent --version` prints.
2. For `--help` (global), `run --help`, `reflect --help` and `ping --help`:
   every option the help text prints is documented in the man page's
   subsection for that command, and every option documented there is one
   the help prints (so removed options do not linger).
3. Every HTTP endpoint `run --help` lists has an entry under HTTP
   ENDPOINTS.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twamplib as tl  # noqa: E402

OPT_RE = re.compile(r"(?<![\w/-])(--[a-z][a-z0-9.-]*[a-z0-9]|-[a-zA-Z0-9])(?![\w-])")


def plain(roff):
    """roff source -> text: escapes resolved, requests kept as text."""
    t = roff.replace("\\-", "-").replace("\\(en", "-").replace("\\~", " ").replace("\\(dq", '"')
    return re.sub(r"\\f[BIRP]", "", t)


def sections(roff):
    """{'SH name' or 'SS name': text} of the page."""
    out, cur = {}, None
    for line in roff.splitlines():
        m = re.match(r"^\.(SH|SS)\s+\"?([^\"]*)\"?\s*$", line)
        if m:
            cur = "%s %s" % (m.group(1), m.group(2).strip())
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def documented(text):
    """Options defined in a subsection: those on the line after each .TP."""
    opts = set()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == ".TP" and i + 1 < len(lines):
            opts |= set(OPT_RE.findall(plain(lines[i + 1])))
    return opts


def help_options(text):
    """Options a help text defines: on lines that start with an option
    (usage line and prose excluded)."""
    opts = set()
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("-"):
            head = re.split(r"\s{2,}", s, maxsplit=1)[0]  # the option column
            opts |= set(OPT_RE.findall(head))
    return opts


def run_help(agent, *cmd):
    cp = tl.run([agent] + list(cmd) + ["--help"])
    assert cp.returncode == 0 and cp.stdout, "%s --help: %s" % (" ".join(cmd), tl.describe(cp))
    return cp.stdout


def main():
    args = tl.parse_args()
    page = os.path.join(args.source_dir, "deploy", "man", "twamp-agent.8")
    with open(page) as f:
        roff = f.read()
    if tl.tool("groff", "the man page formatted without warnings"):
        cp = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], capture_output=True, text=True,
                            timeout=60)
        assert cp.returncode == 0 and not cp.stderr.strip(), "groff warnings:\n%s" % cp.stderr
    if tl.tool("lexgrog", "the man page's NAME section"):
        cp = subprocess.run(["lexgrog", page], capture_output=True, text=True, timeout=60)
        assert cp.returncode == 0 and "twamp-agent - " in cp.stdout, "lexgrog: %s%s" % (cp.stdout, cp.stderr)
    version = tl.run([args.agent, "--version"]).stdout.split()[1]
    th = re.search(r"^\.TH .*$", roff, re.M).group(0)
    assert "twamp-agent %s" % version in th, ".TH %r does not name version %s" % (th, version)

    secs = sections(roff)
    checks = [("global", run_help(args.agent), "SS Global"),
              ("run", run_help(args.agent, "run"), "SS run"),
              ("reflect", run_help(args.agent, "reflect"), "SS reflect"),
              ("ping", run_help(args.agent, "ping"), "SS ping")]
    total = 0
    for name, text, sec in checks:
        assert sec in secs, "the man page has no '%s' subsection" % sec
        want = help_options(text) if name != "global" else set(OPT_RE.findall(text.splitlines()[0]))
        have = documented(secs[sec])
        if name != "global":
            have |= documented(secs["SS Global"])  # -h/--help apply to every command
            want.discard("-h")
        missing = sorted(want - have)
        assert not missing, "%s --help prints %s, undocumented in the man page (%s)" % (name, missing, sec)
        stale = sorted(documented(secs[sec]) - want - {"-h", "--help"})
        assert not stale, "the man page documents %s under %s, which %s --help does not print" % (stale, sec, name)
        total += len(want)

    run_text = run_help(args.agent, "run")
    m = re.search(r"Endpoints:(.*?)\.\s*\n", run_text, re.S)
    assert m, "run --help lists no endpoints"
    endpoints = re.findall(r"/[\w/.-]*", m.group(1))
    man_ep = plain(secs.get("SH HTTP ENDPOINTS", ""))
    for ep in endpoints:
        assert re.search(r"^\.B (POST )?%s\s*$" % re.escape(ep), man_ep, re.M), "endpoint %s undocumented" % ep
    print("deploy_manpage: OK (%d options, %d endpoints)" % (total, len(endpoints)))


if __name__ == "__main__":
    main()

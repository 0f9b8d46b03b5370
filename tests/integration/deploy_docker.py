#!/usr/bin/env python3
"""deploy_docker: deploy/docker/Dockerfile, checked without a Docker engine.

1. It parses: a parser directive, instructions with continuations; two
   stages, both FROM debian:bookworm-slim (ARG defaults resolved); every
   COPY --from names an earlier stage.
2. Every context COPY source exists in the repository and is not excluded
   by Dockerfile.dockerignore.
3. The build stage works: the context (as COPY and .dockerignore shape
   it) is assembled in a temporary /src and the stage's RUN commands run
   there, /src, /build and /stage mapped to temporary directories; the
   staged binary runs, and every COPY --from source exists in the stage.
4. Build packages: the package owning each pkg-config module the
   top-level CMakeLists.txt requires (dpkg -S of its .pc file) is
   installed, with cmake, pkg-config and a C compiler.
5. Runtime packages are exactly the packages owning the shared libraries
   of those modules, plus ca-certificates (libcurl verifies TLS); every
   library the built binary links (NEEDED, objdump -p) belongs to one of
   them or to libc6; tools installed in the runtime stage are purged in
   the same RUN.
6. The final stage: numeric non-root USER equal to the useradd uid and to
   the DaemonSet's runAsUser; EXPOSE 862/tcp and 9862/tcp; HEALTHCHECK
   NONE; exec-form ENTRYPOINT at the copied binary; CMD's --config.file is
   a file the image copies, and it passes --config.check; the setcap the
   image applies gives the binary cap_net_bind_service=ep.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twamplib as tl  # noqa: E402

BASE = "debian:bookworm-slim"
ALWAYS_THERE = {"libc6"}            # Essential in every Debian image
RUNTIME_EXTRA = {"ca-certificates"}  # libcurl verifies TLS (http_sd)


# ---- parsing ----

def parse_dockerfile(path):
    """[(INSTRUCTION, args text, line number)] with continuations joined."""
    out, buf, start = [], "", 0
    with open(path) as f:
        lines = f.read().split("\n")
    assert lines[0].startswith("# syntax=docker/dockerfile:"), "no syntax directive on line 1"
    for n, raw in enumerate(lines, 1):
        s = raw.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped
        if not buf:
            start = n
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip(), start))
        buf = ""
    assert not buf, "dangling continuation at the end"
    return out


def stages(instrs):
    """[{name, base, instrs}] with ARG defaults before the first FROM applied."""
    args, result = {}, []
    for ins, rest, n in instrs:
        if ins == "ARG" and not result:
            k, _, v = rest.partition("=")
            args[k] = v
        elif ins == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            assert m, "line %d: FROM %s" % (n, rest)
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda g: args[g.group(1) or g.group(2)], m.group(1))
            result.append({"name": m.group(2), "base": base, "instrs": []})
        else:
            assert result or ins == "ARG", "line %d: %s before FROM" % (n, ins)
            result[-1]["instrs"].append((ins, rest, n))
    return result


def apt_installs(run):
    """Packages of every `apt-get install` in a RUN command."""
    pkgs = set()
    for m in re.finditer(r"apt-get install ([^&;|]*)", run):
        pkgs |= {w for w in m.group(1).split() if not w.startswith("-")}
    return pkgs


def apt_purges(run):
    pkgs = set()
    for m in re.finditer(r"apt-get (?:purge|remove) ([^&;|]*)", run):
        pkgs |= {w for w in m.group(1).split() if not w.startswith("-")}
    return pkgs


def copies(stage):
    """[(from stage or None, [sources], dest)] of a stage's COPY/ADD."""
    out = []
    for ins, rest, n in stage["instrs"]:
        if ins in ("COPY", "ADD"):
            words = shlex.split(rest)
            frm = None
            while words and words[0].startswith("--"):
                if words[0].startswith("--from="):
                    frm = words[0][len("--from="):]
                words.pop(0)
            assert len(words) >= 2, "line %d: COPY needs a source and a destination" % n
            out.append((frm, words[:-1], words[-1]))
    return out


# ---- .dockerignore ----

def ignore_rules(path):
    rules = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                s = line.strip()
                if not s or s.startswith("#"):
                    continue
                neg = s.startswith("!")
                pat = os.path.normpath(s.lstrip("!").strip("/"))
                rx = ""
                i = 0
                while i < len(pat):
                    if pat.startswith("**", i):
                        rx += ".*"
                        i += 2
                    elif pat[i] == "*":
                        rx += "[^/]*"
                        i += 1
                    elif pat[i] == "?":
                        rx += "[^/]"
                        i += 1
                    else:
                        rx += re.escape(pat[i])
                        i += 1
                rules.append((re.compile(rx + r"\Z"), neg))
    return rules


def ignored(rules, rel):
    """Docker's semantics: the last rule matching the path or one of its
    parent directories decides."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    verdict = False
    for rx, neg in rules:
        if any(rx.match(p) for p in prefixes):
            verdict = not neg
    return verdict


# ---- packages ----

def dpkg_owner(path):
    real = os.path.realpath(path)
    # the file itself (merged /usr: dpkg may know it under /lib or /usr/lib),
    # then the name given (a symlink belongs to another package)
    for p in (real, re.sub(r"^/usr/lib/", "/lib/", real), re.sub(r"^/lib/", "/usr/lib/", real), path):
        cp = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if cp.returncode == 0:
            return cp.stdout.split(":")[0].strip()
    raise AssertionError("no package owns %s" % path)


def cmake_modules(source_dir):
    with open(os.path.join(source_dir, "CMakeLists.txt")) as f:
        text = f.read()
    mods = []
    for m in re.finditer(r"pkg_check_modules\(\s*\w+\s+REQUIRED\s+IMPORTED_TARGET\s+([^)\s]+)", text):
        mods.append(re.split(r"[<>=]", m.group(1))[0])
    assert len(mods) >= 4, "pkg_check_modules not found in CMakeLists.txt: %s" % mods
    return mods


def pkgconfig(*args):
    cp = subprocess.run(["pkg-config"] + list(args), capture_output=True, text=True)
    assert cp.returncode == 0, "pkg-config %s: %s" % (" ".join(args), cp.stderr)
    return cp.stdout.strip()


def module_packages(mod):
    """(dev package, runtime packages) of a pkg-config module."""
    dev = dpkg_owner(os.path.join(pkgconfig("--variable=pcfiledir", mod), mod + ".pc"))
    libdir = pkgconfig("--variable=libdir", mod)
    runtime = set()
    for flag in pkgconfig("--libs-only-l", mod).split():
        so = os.path.join(libdir, "lib%s.so" % flag[2:])
        if os.path.exists(so):
            runtime.add(dpkg_owner(so))
    assert runtime, "no shared library found for %s" % mod
    return dev, runtime


def needed_packages(binary):
    out = subprocess.run(["objdump", "-p", binary], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"^\s*NEEDED\s+(\S+)", out, re.M)
    assert needed, "objdump found no NEEDED entries"
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    owners = {}
    for lib in needed:
        m = re.search(r"^\s*%s \(.*x86-64.*\) => (\S+)" % re.escape(lib), cache, re.M) or \
            re.search(r"^\s*%s \(.*\) => (\S+)" % re.escape(lib), cache, re.M)
        assert m, "%s not in the linker cache" % lib
        owners[lib] = dpkg_owner(m.group(1))
    return owners


# ---- emulated build ----

def map_paths(cmd, mapping):
    for k, v in mapping.items():
        cmd = re.sub(r"(?<![\w./-])%s(?=[/\s\"']|$)" % re.escape(k), v, cmd)
    return cmd


def assemble_context(source_dir, stage, rules, dst):
    """Copies what the stage's context COPYs would send into dst (its /src)."""
    for frm, srcs, dest in copies(stage):
        if frm:
            continue
        for src in srcs:
            full = os.path.join(source_dir, src)
            assert os.path.exists(full), "COPY source %s does not exist" % src
            rel = os.path.normpath(src)
            assert not ignored(rules, rel), "COPY source %s is excluded by the .dockerignore" % src
            target = os.path.join(dst, rel)
            if os.path.isdir(full):
                for root, dirs, files in os.walk(full):
                    dirs[:] = [d for d in dirs if not ignored(rules, os.path.relpath(os.path.join(root, d),
                                                                                      source_dir))]
                    for fn in files:
                        r = os.path.relpath(os.path.join(root, fn), source_dir)
                        if not ignored(rules, r):
                            os.makedirs(os.path.dirname(os.path.join(dst, r)), exist_ok=True)
                            shutil.copy2(os.path.join(root, fn), os.path.join(dst, r))
            else:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(full, target)


def run_build_stage(source_dir, stage, rules, tmp):
    mapping = {"/src": os.path.join(tmp, "src"), "/build": os.path.join(tmp, "build"),
               "/stage": os.path.join(tmp, "stage")}
    assemble_context(source_dir, stage, rules, mapping["/src"])
    ran = 0
    for ins, rest, n in stage["instrs"]:
        if ins != "RUN" or "apt-get" in rest:
            continue
        cmd = map_paths(rest, mapping).replace('"$(nproc)"', "2")
        cp = subprocess.run(["bash", "-ec", cmd], capture_output=True, text=True, timeout=900,
                            cwd=mapping["/src"])
        assert cp.returncode == 0, "build stage RUN (line %d) failed:\n%s\n%s%s" % (n, cmd, cp.stdout[-4000:],
                                                                                  cp.stderr[-4000:])
        ran += 1
    assert ran, "the build stage runs no build command"
    return mapping["/stage"]


# ---- checks ----

def check_final(final, build_name, staged, source_dir, tmp):
    ins = {}
    for i, rest, n in final["instrs"]:
        ins.setdefault(i, []).append(rest)
    user = ins["USER"][-1]
    assert re.fullmatch(r"\d+(:\d+)?", user), "USER %s: use a numeric uid so runAsNonRoot can check it" % user
    uid = int(user.split(":")[0])
    assert uid != 0, "USER is root"
    runs = " ".join(ins.get("RUN", []))
    m = re.search(r"useradd\b[^&]*--uid (\d+)", runs)
    assert m and int(m.group(1)) == uid, "USER %d is not the user the image creates" % uid
    with open(os.path.join(source_dir, "deploy", "kubernetes", "daemonset.yaml")) as f:
        ds_uids = {int(u) for u in re.findall(r"runAsUser:\s*(\d+)", f.read())}
    assert ds_uids == {uid}, "the DaemonSet runs as %s, the image as %d" % (sorted(ds_uids), uid)
    exposed = " ".join(ins.get("EXPOSE", [])).split()
    for port in ("862/tcp", "9862/tcp"):
        assert port in exposed, "EXPOSE lacks %s" % port
    assert ins.get("HEALTHCHECK") == ["NONE"], "HEALTHCHECK %s, expected NONE" % ins.get("HEALTHCHECK")
    entry = json.loads(ins["ENTRYPOINT"][-1])
    cmd = json.loads(ins["CMD"][-1])

    dests = {}
    for frm, srcs, dest in copies(final):
        for src in srcs:
            if frm:
                assert frm == build_name, "COPY --from=%s: no such stage" % frm
                path = os.path.join(staged, os.path.relpath(src, "/stage"))
                assert src.startswith("/stage/") and os.path.exists(path), "COPY --from source %s missing" % src
            else:
                path = os.path.join(source_dir, src)
            dests[dest] = path
    assert entry[0] in dests, "ENTRYPOINT %s is not a file the image copies" % entry[0]
    binary = dests[entry[0]]
    assert "--config.file" in cmd, "CMD %s names no --config.file" % cmd
    cfg = cmd[cmd.index("--config.file") + 1]
    assert cfg in dests, "CMD's config %s is not a file the image copies" % cfg
    cp = tl.run([binary, "run", "--config.file", dests[cfg], "--config.check"])
    assert cp.returncode == 0, "the image's configuration fails --config.check:\n%s" % tl.describe(cp)

    m = re.search(r"setcap (\S+) (\S+)", runs)
    assert m and m.group(2) == entry[0], "the image does not setcap its binary"
    if os.geteuid() != 0:
        tl.unavailable("not root: the image's setcap not tried", privileged=True)
    elif tl.tool("setcap", "the image's setcap tried"):
        copy = os.path.join(tmp, "capcheck")
        shutil.copy(binary, copy)
        subprocess.run(["setcap", m.group(1), copy], check=True)
        got = subprocess.run(["getcap", copy], capture_output=True, text=True).stdout
        assert "cap_net_bind_service=ep" in got, "getcap: %s" % got
    return binary, runs


def check_packages(build, final, binary, source_dir):
    build_runs = " ".join(r for i, r, n in build["instrs"] if i == "RUN")
    build_pkgs = apt_installs(build_runs)
    for tool in ("cmake", "pkg-config"):
        assert tool in build_pkgs, "the build stage does not install %s" % tool
    assert build_pkgs & {"gcc", "build-essential", "clang"}, "the build stage installs no C compiler"
    expected_rt = set(RUNTIME_EXTRA)
    for mod in cmake_modules(source_dir):
        dev, rt = module_packages(mod)
        assert dev in build_pkgs, "pkg-config module %s needs %s in the build stage" % (mod, dev)
        expected_rt |= rt
    runtime, transient = set(), set()
    for i, rest, n in final["instrs"]:
        if i != "RUN":
            continue
        inst, purged = apt_installs(rest), apt_purges(rest)
        runtime |= inst - purged
        transient |= inst & purged
    assert runtime == expected_rt, "runtime packages %s, expected %s (extra %s, missing %s)" % (
        sorted(runtime), sorted(expected_rt), sorted(runtime - expected_rt), sorted(expected_rt - runtime))
    owners = needed_packages(binary)
    missing = {lib: p for lib, p in owners.items() if p not in runtime | ALWAYS_THERE}
    assert not missing, "the binary links libraries of packages the image lacks: %s" % missing
    return sorted(runtime), owners, sorted(transient)


def main():
    args = tl.parse_args()
    d = os.path.join(args.source_dir, "deploy", "docker")
    st = stages(parse_dockerfile(os.path.join(d, "Dockerfile")))
    assert len(st) == 2, "expected a build and a runtime stage, found %d" % len(st)
    build, final = st
    for s in st:
        assert s["base"] == BASE, "stage based on %s, expected %s" % (s["base"], BASE)
    assert build["name"], "the build stage needs a name for COPY --from"
    rules = ignore_rules(os.path.join(d, "Dockerfile.dockerignore"))
    assert rules and ignored(rules, "build-deploy/twamp-agent") and ignored(rules, ".git/config"), \
        "the .dockerignore lets build trees or .git into the context"
    with tempfile.TemporaryDirectory(prefix="deploy-docker-") as tmp:
        staged = run_build_stage(args.source_dir, build, rules, tmp)
        binary, _ = check_final(final, build["name"], staged, args.source_dir, tmp)
        cp = tl.run([binary, "--version"])
        assert cp.returncode == 0, tl.describe(cp)
        if tl.tool("dpkg", "the runtime package list") and tl.tool("objdump", "the runtime package list"):
            runtime, owners, transient = check_packages(build, final, binary, args.source_dir)
            print("runtime packages %s; binary links %s; transient %s" % (
                runtime, sorted(set(owners.values())), transient))
    print("deploy_docker: OK")


if __name__ == "__main__":
    main()

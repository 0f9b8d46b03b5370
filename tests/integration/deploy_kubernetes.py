#!/usr/bin/env python3
"""deploy_kubernetes: `kubectl kustomize deploy/kubernetes` renders a
DaemonSet mesh with the required fields, and its settings work.

1. Rendering (offline) and conversion to JSON (`kubectl patch --local`):
   Namespace, ConfigMap, Secret, DaemonSet, Service, PodMonitor, all but
   the Namespace in it.
2. DaemonSet: hostNetwork, dnsPolicy ClusterFirstWithHostNet, a
   toleration of every taint, no service account token; non-root with a
   fixed uid/gid/fsGroup, RuntimeDefault seccomp, read-only root FS, no
   privilege escalation, capabilities drop ALL add only NET_BIND_SERVICE
   (the Pod Security "restricted" rules but hostNetwork); liveness
   /-/healthy and readiness /-/ready on the port the agent's
   --web.listen-address serves; NODE_NAME and POD_IP from the downward
   API; requests and limits for CPU and memory, requests <= limits; the
   ConfigMap and Secret volumes resolve to rendered objects, the Secret
   with defaultMode 0400; --config.file inside the ConfigMap mount.
3. Service: headless (clusterIP None), publishNotReadyAddresses, selects
   the DaemonSet's pods, port 862 to the container's twamp port.
4. PodMonitor (monitoring.coreos.com/v1): selects the pods, scrapes the
   named metrics port, relabels __meta_kubernetes_pod_node_name into a
   `node` target label.
5. The ConfigMap's agent.yml: its DNS discovery name is the headless
   Service's cluster name, the reflector listens on the container's twamp
   port, key files lie in the Secret mount; with the mounts laid out in a
   temporary root (the Secret's pfs file root:fsGroup 0440 as the kubelet
   makes it), the agent accepts it (--config.check).
6. As root (setpriv, setcap): the agent, run with the pod's uid/gid/
   groups, only the added capabilities in its bounding set,
   no-new-privileges and the file capability the image sets, serves the
   ConfigMap's configuration with the reflector on a port below 1024 and
   the Secret's key (a keyed ping through it succeeds); without the file
   capability it cannot bind the port (so the check can fail).
7. Resources: an agent measuring 50 targets at 1 s in the mesh's security
   mode (deploy/kubernetes/measure-resources.py) stays within the
   requests (skipped in sanitizer builds).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_common as dc  # noqa: E402
import deploy_docker as dd  # noqa: E402
import twamplib as tl  # noqa: E402

KINDS = ["Namespace", "ConfigMap", "Secret", "DaemonSet", "Service", "PodMonitor"]


def render(kdir):
    cp = subprocess.run(["kubectl", "kustomize", kdir], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, "kubectl kustomize failed:\n%s" % cp.stderr
    objs = dc.kubectl_json(["patch", "--local", "-f", "-", "-o", "json", "--type", "merge", "-p", "{}"],
                           stdin=cp.stdout)
    by_kind = {}
    for o in objs:
        by_kind.setdefault(o["kind"], []).append(o)
    for k in KINDS:
        assert len(by_kind.get(k, [])) == 1, "expected one %s, got %d" % (k, len(by_kind.get(k, [])))
    return {k: v[0] for k, v in by_kind.items()}


def yaml_to_json(text):
    """Parses YAML text with kubectl (wrapped as an object's spec)."""
    doc = "apiVersion: v1\nkind: Wrapped\nmetadata:\n  name: x\nspec:\n"
    doc += "".join("  " + l + "\n" for l in text.splitlines())
    return dc.kubectl_json(["patch", "--local", "-f", "-", "-o", "json", "--type", "merge", "-p", "{}"],
                           stdin=doc)[0]["spec"]


def cpu_millis(v):
    v = str(v)
    return float(v[:-1]) if v.endswith("m") else float(v) * 1000


def mem_bytes(v):
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "K": 1e3, "M": 1e6, "G": 1e9}
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(v))
    return float(m.group(1)) * units.get(m.group(2), 1)


def arg_value(args, name):
    for i, a in enumerate(args):
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
        if a == name and i + 1 < len(args):
            return args[i + 1]
    return None


def check_namespaces(objs):
    ns = objs["Namespace"]["metadata"]["name"]
    for k in KINDS[1:]:
        assert objs[k]["metadata"].get("namespace") == ns, "%s not in namespace %s" % (k, ns)
    return ns


def check_pod(ds):
    spec = ds["spec"]["template"]["spec"]
    assert spec.get("hostNetwork") is True, "hostNetwork is not true"
    assert spec.get("dnsPolicy") == "ClusterFirstWithHostNet", "dnsPolicy %s" % spec.get("dnsPolicy")
    assert any(t.get("operator") == "Exists" and not t.get("key") and not t.get("effect")
               for t in spec.get("tolerations", [])), "no toleration of every taint (operator Exists, no key)"
    assert spec.get("automountServiceAccountToken") is False, "the service account token is mounted"
    for bad in ("hostPID", "hostIPC"):
        assert not spec.get(bad), "%s set" % bad
    psc = spec.get("securityContext", {})
    assert psc.get("runAsNonRoot") is True, "pod runAsNonRoot is not true"
    assert isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0, "no fixed non-root runAsUser"
    assert isinstance(psc.get("runAsGroup"), int) and psc["runAsGroup"] > 0, "no fixed runAsGroup"
    assert isinstance(psc.get("fsGroup"), int), "no fsGroup: the 0400 Secret would be unreadable"
    assert psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "seccompProfile is not RuntimeDefault"
    assert len(spec["containers"]) == 1, "expected one container"
    return spec, spec["containers"][0], psc


def check_container(c, psc):
    sc = c.get("securityContext", {})
    assert sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem is not true"
    assert sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false"
    assert not sc.get("privileged"), "privileged container"
    assert sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True
    assert sc.get("runAsUser", psc["runAsUser"]) == psc["runAsUser"], "container and pod uids differ"
    caps = sc.get("capabilities", {})
    assert caps.get("drop") == ["ALL"], "capabilities.drop %s, expected [ALL]" % caps.get("drop")
    assert caps.get("add") == ["NET_BIND_SERVICE"], "capabilities.add %s" % caps.get("add")
    assert not c["image"].endswith(":latest") and ":" in c["image"], "image %s: pin a tag" % c["image"]
    ports = {p["name"]: p for p in c.get("ports", [])}
    web = arg_value(c["args"], "--web.listen-address")
    assert web, "no --web.listen-address in the container args"
    web_port = int(web.rsplit(":", 1)[1])
    assert ports.get("metrics", {}).get("containerPort") == web_port, "metrics port != %s" % web
    for probe, path in (("livenessProbe", "/-/healthy"), ("readinessProbe", "/-/ready")):
        g = c.get(probe, {}).get("httpGet", {})
        assert g.get("path") == path, "%s path %s, expected %s" % (probe, g.get("path"), path)
        port = g.get("port")
        assert port == web_port or ports.get(port, {}).get("containerPort") == web_port, \
            "%s probes port %s, the agent serves %d" % (probe, port, web_port)
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in c.get("env", [])}
    assert env.get("NODE_NAME") == "spec.nodeName", "NODE_NAME not from spec.nodeName"
    assert env.get("POD_IP") == "status.podIP", "POD_IP not from status.podIP"
    res = c.get("resources", {})
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            assert r in res.get(kind, {}), "no %s.%s" % (kind, r)
    assert cpu_millis(res["requests"]["cpu"]) <= cpu_millis(res["limits"]["cpu"])
    assert mem_bytes(res["requests"]["memory"]) <= mem_bytes(res["limits"]["memory"])
    return ports, res


def check_volumes(spec, c, objs):
    """{mountPath: (kind, object, volume)} of the ConfigMap and Secret mounts."""
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {}
    for m in c.get("volumeMounts", []):
        v = vols[m["name"]]
        if "configMap" in v:
            assert v["configMap"]["name"] == objs["ConfigMap"]["metadata"]["name"], "ConfigMap name mismatch"
            mounts[m["mountPath"]] = ("configMap", objs["ConfigMap"], v)
        elif "secret" in v:
            assert v["secret"]["secretName"] == objs["Secret"]["metadata"]["name"], "Secret name mismatch"
            mode = v["secret"].get("defaultMode")
            assert mode == 0o400, "Secret defaultMode %s, expected 0400" % (oct(mode) if mode else mode)
            mounts[m["mountPath"]] = ("secret", objs["Secret"], v)
        assert m.get("readOnly") is True, "mount %s is not read-only" % m["mountPath"]
    kinds = sorted(k for k, _, _ in mounts.values())
    assert kinds == ["configMap", "secret"], "expected a ConfigMap and a Secret mount, got %s" % kinds
    cfg = arg_value(c["args"], "--config.file")
    assert cfg, "no --config.file in the container args"
    cm_mount = [p for p, (k, _, _) in mounts.items() if k == "configMap"][0]
    key = os.path.relpath(cfg, cm_mount)
    assert not key.startswith("..") and key in objs["ConfigMap"]["data"], \
        "--config.file %s is not a key of the ConfigMap mounted at %s" % (cfg, cm_mount)
    return mounts, cfg


def check_service(svc, ds, ports):
    s = svc["spec"]
    assert s.get("clusterIP") == "None", "the Service is not headless"
    assert s.get("publishNotReadyAddresses") is True, "publishNotReadyAddresses is not true"
    labels = ds["spec"]["template"]["metadata"]["labels"]
    assert s["selector"] and all(labels.get(k) == v for k, v in s["selector"].items()), "selector misses the pods"
    sp = {p["port"]: p for p in s["ports"]}
    assert 862 in sp and sp[862].get("targetPort") in ("twamp", 862), "no port 862 to the twamp port"
    assert ports.get("twamp", {}).get("containerPort") == 862, "the container has no twamp port 862"


def check_podmonitor(pm, ds, ports):
    assert pm["apiVersion"] == "monitoring.coreos.com/v1", pm["apiVersion"]
    labels = ds["spec"]["template"]["metadata"]["labels"]
    sel = pm["spec"]["selector"]["matchLabels"]
    assert sel and all(labels.get(k) == v for k, v in sel.items()), "the PodMonitor misses the pods"
    eps = pm["spec"]["podMetricsEndpoints"]
    assert eps and eps[0]["port"] in ports, "PodMonitor port %s is not a named container port" % eps[0]["port"]
    assert eps[0].get("path", "/metrics") == "/metrics"
    assert any(r.get("sourceLabels") == ["__meta_kubernetes_pod_node_name"] and r.get("targetLabel") == "node"
               and r.get("action", "replace") == "replace" for r in eps[0].get("relabelings") or []), \
        "no relabeling of the node name into a `node` target label"


def secret_files(sec):
    import base64
    out = {k: v.encode() for k, v in sec.get("stringData", {}).items()}
    out.update({k: base64.b64decode(v) for k, v in sec.get("data", {}).items()})
    return out


def check_agent_config(objs, ns, mounts, cfg_key):
    cfg = yaml_to_json(objs["ConfigMap"]["data"][cfg_key])
    svc = objs["Service"]["metadata"]["name"]
    want = "%s.%s.svc.cluster.local" % (svc, ns)
    dns = [g["discovery"]["dns"] for g in cfg.get("target_groups", []) if "dns" in g.get("discovery", {})]
    assert dns, "no target group discovers by DNS"
    assert all(d["name"] == want for d in dns), "discovery names %s, the Service is %s" % (dns, want)
    assert all(d.get("refresh") == "30s" for d in dns), "discovery refresh %s" % dns
    listen = cfg["reflector"]["listen"]
    assert any(l.rsplit(":", 1)[1] == "862" for l in listen), "the reflector does not listen on 862: %s" % listen
    secret_mount = [p for p, (k, _, _) in mounts.items() if k == "secret"][0]
    paths = [cfg["reflector"].get("key_file")] + [g.get("key_file") for g in cfg["target_groups"]]
    for p in filter(None, paths):
        assert p.startswith(secret_mount + "/"), "key file %s is not in the Secret mount %s" % (p, secret_mount)
        assert os.path.basename(p) in secret_files(objs["Secret"]), "the Secret has no %s" % os.path.basename(p)
    return cfg


# ---- the pod's file system, laid out in a temporary root ----

def lay_out_pod(root, objs, mounts, psc, replace=()):
    """Writes the mounts as the kubelet would; returns a function mapping
    pod paths to host paths."""
    for mpath, (kind, obj, vol) in mounts.items():
        d = root + mpath
        os.makedirs(d, exist_ok=True)
        files = secret_files(obj) if kind == "secret" else {k: v.encode() for k, v in obj["data"].items()}
        for name, data in files.items():
            path = os.path.join(d, name)
            text = data
            for a, b in replace:
                text = text.replace(a.encode(), b.encode())
            with open(path, "wb") as f:
                f.write(text)
            mode = vol.get(kind, {}).get("defaultMode", 0o644)
            if kind == "secret" and psc.get("fsGroup") is not None:
                mode |= 0o440  # the kubelet's fsGroup handling of read-only volumes
                os.chown(path, 0, psc["fsGroup"]) if os.geteuid() == 0 else None
            os.chmod(path, mode)
    for dirpath, dirs, _ in os.walk(root):
        os.chmod(dirpath, 0o755)
    return lambda p: root + p


def config_check(agent, objs, mounts, psc, cfg_path, tmp):
    root = os.path.join(tmp, "pod-check")
    repl = [(m, root + m) for m in mounts]
    lay_out_pod(root, objs, mounts, psc, repl)
    cp = tl.run([agent, "run", "--config.file", root + cfg_path, "--config.check"])
    assert cp.returncode == 0, "the ConfigMap's configuration fails --config.check:\n%s" % tl.describe(cp)
    return cp.stdout.strip()


def dockerfile_setcap(source_dir):
    """The capabilities the image's final stage setcaps on the binary."""
    final = dd.stages(dd.parse_dockerfile(os.path.join(source_dir, "deploy", "docker", "Dockerfile")))[-1]
    runs = " ".join(rest for ins, rest, _ in final["instrs"] if ins == "RUN")
    m = re.search(r"\bsetcap (\S+) (\S+)", runs)
    assert m, "the Dockerfile sets no file capability"
    return m.group(1)


def run_as_pod(binary, c, psc, root, cfg_path, web_port, env_extra):
    sc = c["securityContext"]
    uid = sc.get("runAsUser", psc["runAsUser"])
    gid = sc.get("runAsGroup", psc["runAsGroup"])
    caps = ",".join("+" + x.lower() for x in sc["capabilities"]["add"])
    cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid,
           "--groups=%d" % psc["fsGroup"], "--inh-caps=-all", "--bounding-set=-all," + caps]
    if sc.get("allowPrivilegeEscalation") is False:
        cmd.append("--no-new-privs")
    args = [a for a in c["args"] if not a.startswith(("--config.file", "--web.listen-address"))]
    cmd += [binary] + args + ["--config.file=" + root + cfg_path, "--web.listen-address=127.0.0.1:%d" % web_port]
    env = dict(os.environ, NODE_NAME="test-node", POD_IP="127.0.0.1", **env_extra)
    return tl.Proc(cmd, name="pod-agent", env=env)


def privilege_check(agent, objs, mounts, psc, c, cfg_path, source_dir, tmp):
    """Binds a privileged port as the pod's user with the pod's capabilities."""
    port = dc.privileged_free_port()
    root = os.path.join(tmp, "pod-run")
    # Loopback stands in for the node: listen there, and let it in.
    repl = [(m, root + m) for m in mounts] + [('"[::]:862"', '"127.0.0.1:%d"' % port),
                                              ("allow: [", "allow: [127.0.0.0/8, ")]
    lay_out_pod(root, objs, mounts, psc, repl)
    os.makedirs(root + "/usr/bin", exist_ok=True)
    plain_bin, cap_bin = root + "/usr/bin/plain", root + "/usr/bin/twamp-agent"
    shutil.copy(agent, plain_bin)
    shutil.copy(agent, cap_bin)
    os.chmod(plain_bin, 0o755)
    os.chmod(cap_bin, 0o755)
    subprocess.run(["setcap", dockerfile_setcap(source_dir), cap_bin], check=True)

    web = tl.free_port()
    pr = run_as_pod(cap_bin, c, psc, root, cfg_path, web, {})
    tl.wait_ready(web, pr, timeout=20)
    secret_mount = [p for p, (k, _, _) in mounts.items() if k == "secret"][0]
    keys = [k for k in secret_files(objs["Secret"])][0]
    key_file = os.path.join(tmp, "client.pfs")
    shutil.copy(root + secret_mount + "/" + keys, key_file)
    os.chmod(key_file, 0o600)
    rc, data, cp = tl.ping_json(agent, "127.0.0.1:%d" % port, ["-c", "5", "-i", "10ms", "--mode", "authenticated",
                                                               "--identity", "mesh", "--key-file", key_file])
    tl.check(rc == 0 and data, "keyed ping to the pod's reflector failed:\n%s" % tl.describe(cp), pr)
    pr.p.send_signal(signal.SIGTERM)
    tl.check(pr.wait(10) == 0, "the pod's agent did not stop cleanly", pr)

    web = tl.free_port()
    pr = run_as_pod(plain_bin, c, psc, root, cfg_path, web, {})
    rc = pr.wait(15)
    tl.check(rc != 0 and "Permission denied" in pr.output(),
             "without the file capability the agent should not bind port %d (exit %s)" % (port, rc), pr)
    return port


def resources_check(args, res, cfg):
    if dc.sanitizer_build(args.build_dir):
        print("sanitizer build: resource use not comparable, skipped")
        return None
    sec = [g.get("security", "auto") for g in cfg["target_groups"]][0]
    script = os.path.join(args.source_dir, "deploy", "kubernetes", "measure-resources.py")
    cp = tl.run([sys.executable, script, "--agent", args.agent, "--targets", "50", "--interval", "1s",
                 "--seconds", "10", "--warmup", "3", "--security", sec], timeout=120)
    assert cp.returncode == 0, "measure-resources.py failed:\n%s" % tl.describe(cp)
    m = json.loads(cp.stdout)
    assert m["sessions_up"] == 50, "only %d of 50 sessions up: %s" % (m["sessions_up"], m)
    req_cpu, req_mem = cpu_millis(res["requests"]["cpu"]), mem_bytes(res["requests"]["memory"])
    assert m["cpu_millicores"] <= req_cpu, "50 targets use %.1fm CPU > request %s" % (m["cpu_millicores"],
                                                                                     res["requests"]["cpu"])
    assert m["rss_peak_bytes"] <= req_mem, "50 targets use %d bytes > request %s" % (m["rss_peak_bytes"],
                                                                                     res["requests"]["memory"])
    return m


def main():
    args = tl.parse_args()
    tl.tool("kubectl", "rendering deploy/kubernetes", whole=True)
    kdir = os.path.join(args.source_dir, "deploy", "kubernetes")
    objs = render(kdir)
    ns = check_namespaces(objs)
    ds = objs["DaemonSet"]
    spec, c, psc = check_pod(ds)
    ports, res = check_container(c, psc)
    mounts, cfg_path = check_volumes(spec, c, objs)
    check_service(objs["Service"], ds, ports)
    check_podmonitor(objs["PodMonitor"], ds, ports)
    cfg_key = os.path.basename(cfg_path)
    cfg = check_agent_config(objs, ns, mounts, cfg_key)
    with tempfile.TemporaryDirectory(prefix="deploy-k8s-") as tmp:
        os.chmod(tmp, 0o755)
        print("config check: %s" % config_check(args.agent, objs, mounts, psc, cfg_path, tmp))
        if os.geteuid() != 0:
            tl.unavailable("not root: the pod's uid, capabilities and Secret not tried", privileged=True)
        elif tl.tool("setpriv", "the pod's privileges") and tl.tool("setcap", "the pod's privileges"):
            port = privilege_check(args.agent, objs, mounts, psc, c, cfg_path, args.source_dir, tmp)
            print("uid %d with %s bound port %d, keyed ping through the Secret's key OK" % (
                psc["runAsUser"], c["securityContext"]["capabilities"]["add"], port))
    m = resources_check(args, res, cfg)
    if m:
        print("50 targets: %.1fm CPU, %.1f MiB RSS peak (requests %s, %s)" % (
            m["cpu_millicores"], m["rss_peak_bytes"] / 2**20, res["requests"]["cpu"], res["requests"]["memory"]))
    print("deploy_kubernetes: OK")


if __name__ == "__main__":
    main()

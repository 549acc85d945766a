#!/usr/bin/env python3
"""Checks resources/deploy/kubernetes: usage: check_k8s_manifests.py DIR EGRESS_AGENT

1. `kubectl apply --dry-run=client --validate=false -f DIR` accepts every object. kubectl needs an
   API server for discovery (the REST mapping of each kind) even in a client dry run, so it talks
   to a stub here that serves the discovery documents of the kinds we use and answers 404 to
   every object GET (nothing exists yet). Without kubectl on PATH this step is reported and left
   out; the structural checks below still run.
2. Structure: the DaemonSets run on the host network with only NET_ADMIN/NET_RAW, probe /readyz
   and /livez on the port every config's listen.metrics uses, mount the ConfigMap, the Secret and
   the state dir where the configs expect them, and start the agent with the per-node key (egress
   nodes) or the one shared key (workers: a config without node.name).
3. Every agent config in the ConfigMap passes `egress-agent --config KEY --check` (a shared one
   as a worker would run it, its name and address given), is named for its node, and all configs
   agree on the voters.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import yaml

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


# ---- stub API server for kubectl's discovery --------------------------------------------------
CORE = [("namespaces", "Namespace", False), ("serviceaccounts", "ServiceAccount", True),
        ("configmaps", "ConfigMap", True), ("secrets", "Secret", True)]
GROUPS = {"apps": [("daemonsets", "DaemonSet", True)]}


def resource_list(gv, resources):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [{"name": n, "singularName": k.lower(), "namespaced": ns, "kind": k,
                           "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
                          for n, k, ns in resources]}


class Stub(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/api":
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if path == "/api/v1":
            return self.send_json(200, resource_list("v1", CORE))
        if path == "/apis":
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": g + "/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": g + "/v1", "version": "v1"}} for g in GROUPS]})
        for g, res in GROUPS.items():
            if path == "/apis/%s/v1" % g:
                return self.send_json(200, resource_list(g + "/v1", res))
        if path == "/version":
            return self.send_json(200, {"major": "1", "minor": "28", "gitVersion": "v1.28.0"})
        # Any object: not there yet, so apply computes a create.
        self.send_json(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                             "message": "not found"})


def kubectl_dry_run(directory, objects):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        print("kubectl not on PATH: client dry run left out (structural checks only)")
        return
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, HOME=home, KUBECONFIG=os.path.join(home, "none"))
            r = subprocess.run([kubectl, "--server", "http://127.0.0.1:%d" % server.server_address[1],
                                "apply", "--dry-run=client", "--validate=false", "-f", directory],
                               capture_output=True, text=True, env=env, timeout=120)
    finally:
        server.shutdown()
    print(r.stdout + r.stderr)
    if not check(r.returncode == 0, "kubectl apply --dry-run=client exited %d" % r.returncode):
        return
    lines = [l for l in r.stdout.splitlines() if "(dry run)" in l]
    check(len(lines) == len(objects), "kubectl dry run: %d objects reported, %d in the manifests" % (len(lines), len(objects)))


# ---- structure -----------------------------------------------------------------------------
def load(directory):
    objects = []
    for name in sorted(os.listdir(directory)):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(directory, name)) as f:
                objects += [d for d in yaml.safe_load_all(f) if d]
    return objects


def port_of(endpoint):
    return int(endpoint.rsplit(":", 1)[1])


def check_daemonset(ds, by_kind, configs):
    name = ds["metadata"]["name"]
    spec = ds["spec"]["template"]["spec"]
    check(ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(),
          name + ": selector does not match the pod labels")
    check(spec.get("hostNetwork") is True, name + ": hostNetwork must be true")
    check(spec.get("dnsPolicy") == "ClusterFirstWithHostNet", name + ": dnsPolicy ClusterFirstWithHostNet")
    check(spec.get("priorityClassName") == "system-node-critical", name + ": priorityClassName system-node-critical")
    check(spec.get("serviceAccountName") in by_kind.get("ServiceAccount", {}), name + ": unknown serviceAccountName")
    selector = spec.get("nodeSelector", {})
    check(len(selector) == 1, name + ": selects nodes by one label")
    for key in selector:
        check(any(t.get("key") == key for t in spec.get("tolerations", [])), name + ": no toleration for " + key)
    (c,) = spec["containers"]
    sc = c.get("securityContext", {})
    caps = sc.get("capabilities", {})
    check(caps.get("drop") == ["ALL"], name + ": capabilities.drop must be [ALL]")
    check(sorted(caps.get("add", [])) == ["NET_ADMIN", "NET_RAW"], name + ": capabilities.add must be NET_ADMIN, NET_RAW only")
    check(sc.get("privileged") in (None, False), name + ": must not be privileged")
    check(sc.get("allowPrivilegeEscalation") is False, name + ": allowPrivilegeEscalation false")
    env = {e["name"]: e for e in c.get("env", [])}
    check(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName",
          name + ": NODE_NAME from the downward API (spec.nodeName)")
    args = c.get("command", []) + c.get("args", [])
    check("--config" in args, name + ": no --config")
    config_path = args[args.index("--config") + 1] if "--config" in args else ""
    shared = [n for n, cfg in configs.items() if not cfg["node"].get("name")]
    if shared:
        check(config_path.endswith("/" + shared[0] + ".yaml") and len(configs) == 1,
              name + ": --config must be the one shared key " + shared[0] + ".yaml")
    else:
        check("$(NODE_NAME)" in config_path, name + ": --config must select the per-node key with $(NODE_NAME)")
    check("--no-datapath" not in args, name + ": --no-datapath in a deployment")

    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    check(set(mounts) <= set(volumes), name + ": a volumeMount without a volume")
    cm_mount = [m for n, m in mounts.items() if "configMap" in volumes.get(n, {})]
    if check(len(cm_mount) == 1, name + ": mounts one ConfigMap"):
        cm_name = volumes[cm_mount[0]["name"]]["configMap"]["name"]
        check(cm_name in by_kind.get("ConfigMap", {}), name + ": ConfigMap " + cm_name + " not in the manifests")
        check(os.path.dirname(config_path) == cm_mount[0]["mountPath"].rstrip("/"),
              name + ": --config is not in the ConfigMap's mountPath")
    secret_mounts = [(m, volumes[n]["secret"]["secretName"]) for n, m in mounts.items() if "secret" in volumes.get(n, {})]
    state = [m for n, m in mounts.items() if "hostPath" in volumes.get(n, {})]
    check(len(state) == 1 and volumes[state[0]["name"]]["hostPath"]["path"] == "/var/lib/egress-gateway",
          name + ": the state dir is a hostPath /var/lib/egress-gateway")

    probes = {}
    for kind, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
        g = c.get(kind, {}).get("httpGet", {})
        check(g.get("path") == path, "%s: %s must GET %s" % (name, kind, path))
        probes[kind] = g
    # Every config this DaemonSet may start must serve the probes where they look, and find its
    # state dir and TLS files where the pod mounts them.
    for node, cfg in configs.items():
        metrics = cfg.get("listen", {}).get("metrics")
        if not check(metrics, "%s.yaml: no listen.metrics: the probes would fail" % node):
            continue
        host, port = metrics.rsplit(":", 1)
        for kind, g in probes.items():
            check(int(g.get("port", -1)) == int(port), "%s: %s port %s, %s.yaml listens on %s" % (name, kind, g.get("port"), node, port))
            # With hostNetwork the kubelet probes the pod IP (the node's) unless host is given.
            check(g.get("host", "<pod ip>") == host or host in ("0.0.0.0", "::"),
                  "%s: %s host %s, %s.yaml listens on %s" % (name, kind, g.get("host", "<pod ip>"), node, host))
        check(cfg.get("state_dir", "/var/lib/egress-gateway") == state[0]["mountPath"] if state else False,
              "%s.yaml: state_dir is not the mounted state dir" % node)
        for key in ("ca", "cert", "key"):
            path = cfg.get("tls", {}).get(key)
            if not check(path, "%s.yaml: tls.%s missing" % (node, key)):
                continue
            ok = False
            for m, secret in secret_mounts:
                if os.path.dirname(path) == m["mountPath"].rstrip("/"):
                    data = by_kind.get("Secret", {}).get(secret, {})
                    keys = set(data.get("data", {})) | set(data.get("stringData", {}))
                    ok = os.path.basename(path) in keys
            check(ok, "%s.yaml: tls.%s %s is not a key of a mounted Secret" % (node, key, path))


def main():
    directory, agent = sys.argv[1], sys.argv[2]
    objects = load(directory)
    by_kind = {}
    for o in objects:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
        if o["kind"] != "Namespace":
            check(o["metadata"].get("namespace") == "egress-gateway", "%s/%s: not in namespace egress-gateway" % (o["kind"], o["metadata"]["name"]))
    for kind in ("Namespace", "ServiceAccount", "ConfigMap", "Secret", "DaemonSet"):
        check(kind in by_kind, "no " + kind + " in " + directory)

    kubectl_dry_run(directory, objects)

    configs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cm in by_kind.get("ConfigMap", {}).values():
            for key, text in cm.get("data", {}).items():
                if not key.endswith(".yaml"):
                    continue
                path = os.path.join(tmp, key)
                with open(path, "w") as f:
                    f.write(text)
                cfg = yaml.safe_load(text)
                args = [agent, "--config", path, "--check"]
                if not cfg["node"].get("name"):
                    # A shared worker config: as one worker would run it (there is no route to
                    # the voters here, so its address is given).
                    args += ["--node-name", "worker-check", "--address", "10.0.0.99"]
                r = subprocess.run(args, capture_output=True, text=True, timeout=30)
                print(r.stdout.strip() or r.stderr.strip())
                if not check(r.returncode == 0, "%s: egress-agent --check exited %d:\n%s" % (key, r.returncode, r.stderr)):
                    continue
                node = key[:-len(".yaml")]
                check(cfg["node"].get("name", node) == node, "%s: node.name %s differs from the key (the pod picks the key by node name)" % (key, cfg["node"].get("name")))
                configs[node] = cfg
    voters = {json.dumps(c.get("voters"), sort_keys=True) for c in configs.values()}
    check(len(voters) == 1, "the configs disagree on the voters")

    for ds in by_kind.get("DaemonSet", {}).values():
        selector = list(ds["spec"]["template"]["spec"].get("nodeSelector", {}))
        # Egress nodes run candidates, the observer DaemonSet the rest.
        mine = {n: c for n, c in configs.items()
                if bool(c["node"].get("candidate")) == ("egress" in selector[0].split("/")[-1] if selector else False)}
        check(mine, ds["metadata"]["name"] + ": no config in the ConfigMap for its nodes")
        check_daemonset(ds, by_kind, mine)

    if FAILURES:
        print("%d problem(s)" % len(FAILURES))
        return 1
    print("ok: %d objects, %d agent configs" % (len(objects), len(configs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Checks the deployment kit under deploy/ (CI runs it after the build):
#
#   bash Scripts/check-deploy.sh [HERD]     # HERD: a built herd binary, e.g. .build/debug/herd
#
#   1. systemd: `systemd-analyze verify` on deploy/systemd/herd@.service, as the instance herd@Alford.service.
#   2. YAML: every .yml/.yaml file under deploy/ parses; the compose file and the Kubernetes manifest agree
#      with the herd configs they carry (server names, hosts, ports, secret paths); with HERD, every herd config
#      under deploy/ passes `herd check` (the ConfigMap's included), with its secret file and data_dir pointed
#      at temporary ones, since those exist only on a host or in a container.
#   3. Grafana: the dashboard JSON parses and every metric its queries use is in deploy/grafana/metric-names.txt.
#   4. Docker: the Dockerfile keeps what the image needs (read, not built: there is no daemon or registry here).
#
# Not checked here: `kubectl apply --dry-run=client` needs a cluster's API to map kinds, and `docker compose config`
# and `docker build` need the compose plugin and a daemon; see deploy/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

herd="${1:-}"
if [ -n "$herd" ]; then
    [ -x "$herd" ] || { echo "check-deploy: $herd is not an executable" >&2; exit 2; }
    herd="$(cd "$(dirname "$herd")" && pwd)/$(basename "$herd")"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# PyYAML: the machine's python3, or Debian's (python3-yaml).
python=""
for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" > /dev/null && "$candidate" -c 'import yaml' 2> /dev/null; then
        python="$candidate"
        break
    fi
done
[ -n "$python" ] || { echo "check-deploy: needs python3 with PyYAML (apt-get install python3-yaml)" >&2; exit 2; }

echo "-- systemd unit"
if command -v systemd-analyze > /dev/null; then
    # verify wants ExecStart's binary to exist, and an instance name for the template.
    exe="${herd:-/bin/true}"
    mkdir "$tmp/systemd"
    unit="$tmp/systemd/herd@Alford.service"
    sed "s#/usr/local/bin/herd#$exe#g" deploy/systemd/herd@.service > "$unit"
    status=0
    output="$(systemd-analyze verify "$unit" 2>&1)" || status=$?
    [ -z "$output" ] || echo "$output" | sed 's/^/   /'
    # Warnings about other units (dependencies on this machine) and about the herd user, which exists only on a
    # host that installed herd, do not count; anything else said about our unit does (verify only warns about
    # an unknown key or a bad value, and still exits 0).
    ours="$(echo "$output" | grep -F 'herd@Alford.service' | grep -v -i -E "user|group" || true)"
    if [ -n "$ours" ]; then
        fail "systemd-analyze verify found problems in deploy/systemd/herd@.service"
    elif [ "$status" -ne 0 ] && ! echo "$output" | grep -q -i -E "user|group"; then
        fail "systemd-analyze verify exited $status"
    else
        echo "ok   deploy/systemd/herd@.service (verified as herd@Alford.service, ExecStart=$exe)"
    fi
else
    echo "SKIP systemd-analyze is not installed"
fi

echo "-- YAML, and the herd configs the files carry"
mkdir "$tmp/configs"
echo "0123456789abcdef0123456789abcdef" > "$tmp/peer.secret"
"$python" - "$tmp" << 'EOF' || failures=$((failures + 1))
import os, re, sys, yaml

tmp = sys.argv[1]
problems = []

def problem(file, text):
    problems.append(f"{file}: {text}")

def servers(config):
    return [s["name"] for s in config["servers"]]

def extract(name, text):
    """Writes a herd config for `herd check`, its secret file and data_dir pointed at temporary ones."""
    text = re.sub(r"(secret_file:\s*)\S+", r"\g<1>" + os.path.join(tmp, "peer.secret"), text)
    text = re.sub(r"(data_dir:\s*)\S+", r"\g<1>" + os.path.join(tmp, "data"), text)
    with open(os.path.join(tmp, "configs", name), "w") as f:
        f.write(text)

documents = {}
for root, _, files in os.walk("deploy"):
    for file in sorted(files):
        if file.endswith((".yml", ".yaml")):
            path = os.path.join(root, file)
            try:
                with open(path) as f:
                    documents[path] = [d for d in yaml.safe_load_all(f) if d is not None]
                print(f"ok   {path} ({len(documents[path])} document(s))")
            except yaml.YAMLError as error:
                problem(path, f"does not parse: {error}")
if problems:
    print("\n".join("FAIL: " + p for p in problems)); sys.exit(1)

# The herd configs beside the units that run them.
for path in ["deploy/systemd/herd.yaml", "deploy/docker/herd.yaml"]:
    extract(path.replace("/", "-"), open(path).read())

# compose: one service per server, host = service name, the secret at the path the config reads.
compose_file, config_file = "deploy/docker/compose.yaml", "deploy/docker/herd.yaml"
compose, config = documents[compose_file][0], documents[config_file][0]
hosts = {s["name"]: s["host"] for s in config["servers"]}
seen = []
for service, spec in compose["services"].items():
    command = spec.get("command", [])
    if len(command) != 4 or command[0] != "serve" or command[2:] != ["--config", "/etc/herd/herd.yaml"]:
        problem(compose_file, f"{service}: command is not [serve, NAME, --config, /etc/herd/herd.yaml]")
        continue
    seen.append(command[1])
    if hosts.get(command[1]) != service:
        problem(compose_file, f"{service} runs {command[1]}, whose host in {config_file} is {hosts.get(command[1])}")
if sorted(seen) != sorted(hosts):
    problem(compose_file, f"services run {sorted(seen)}, the config has {sorted(hosts)}")
for secret in compose.get("secrets", {}):
    if config["peer_links"]["secret_file"] != f"/run/secrets/{secret}":
        problem(config_file, f"peer_links.secret_file is not /run/secrets/{secret}, where compose mounts it")

# Kubernetes: pod herd-N runs the N-th server, whose host is herd-N.<service>, on the ports the pod declares.
kube_file = "deploy/kubernetes/herd.yaml"
kinds = {(d["kind"], d["metadata"]["name"]): d for d in documents[kube_file]}
for d in documents[kube_file]:
    if not d.get("apiVersion") or not d.get("kind") or not d.get("metadata", {}).get("name"):
        problem(kube_file, "a document without apiVersion, kind or metadata.name")
config_text = kinds[("ConfigMap", "herd-config")]["data"]["herd.yaml"]
extract("kubernetes-configmap.yaml", config_text)
config = yaml.safe_load(config_text)
sts = kinds[("StatefulSet", "herd")]
pod = sts["spec"]["template"]["spec"]
container = pod["containers"][0]
script = container["args"][0]
names = re.search(r"set -- (.*)", script).group(1).split()
if names != servers(config):
    problem(kube_file, f"the pod script's servers {names} are not the config's, in order: {servers(config)}")
if sts["spec"]["replicas"] != len(names):
    problem(kube_file, f"replicas {sts['spec']['replicas']} for {len(names)} servers")
for ordinal, server in enumerate(config["servers"]):
    if server["host"] != f"herd-{ordinal}.{sts['spec']['serviceName']}":
        problem(kube_file, f"{server['name']}'s host {server['host']} is not pod herd-{ordinal}'s name")
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
for key, port in [("client_port", "client"), ("peer_port", "peer"), ("admin_port", "admin")]:
    if any(s[key] != ports[port] for s in config["servers"]):
        problem(kube_file, f"a server's {key} is not the container port {port} ({ports[port]})")
if container["readinessProbe"]["httpGet"] != {"path": "/readyz", "port": "admin"}:
    problem(kube_file, "readiness is not GET /readyz on the admin port")
if container["livenessProbe"]["httpGet"] != {"path": "/healthz", "port": "admin"}:
    problem(kube_file, "liveness is not GET /healthz on the admin port")
mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
if os.path.dirname(config["peer_links"]["secret_file"]) != mounts["peer-secret"]:
    problem(kube_file, f"peer_links.secret_file is not in the secret's mount {mounts['peer-secret']}")
if not pod["securityContext"].get("runAsNonRoot"):
    problem(kube_file, "the pod may run as root")
if kinds[("Service", "herd")]["spec"].get("clusterIP") != "None":
    problem(kube_file, "the Service herd is not headless")

if problems:
    print("\n".join("FAIL: " + p for p in problems)); sys.exit(1)
print(f"ok   {compose_file} and {kube_file} agree with their herd configs")
EOF

if [ -n "$herd" ]; then
    # Until the admin endpoint's keys exist in the binary, it refuses them as unknown: skip, and say so.
    new_keys='(servers\[[0-9]+\]\.(bind|admin_port)|admin|admin\.bind|log_format): unknown key'
    for config in "$tmp"/configs/*.yaml; do
        name="$(basename "$config")"
        status=0
        output="$("$herd" check --config "$config" 2>&1)" || status=$?
        if [ "$status" -eq 0 ]; then
            echo "ok   herd check $name"
        elif echo "$output" | grep -q -E "$new_keys"; then
            echo "SKIP herd check $name: this herd does not know the admin endpoint's keys yet:"
            echo "$output" | grep -E "$new_keys" | sed 's/^/     /'
        else
            echo "$output" | sed 's/^/   /'
            fail "herd check $name (from deploy/) exited $status"
        fi
    done
else
    echo "SKIP herd check (no herd binary given)"
fi

echo "-- Grafana dashboard"
"$python" - << 'EOF' || failures=$((failures + 1))
import json, re, sys

dashboard_file, names_file = "deploy/grafana/herd-dashboard.json", "deploy/grafana/metric-names.txt"
known = {line.strip() for line in open(names_file) if line.strip() and not line.startswith("#")}
try:
    dashboard = json.load(open(dashboard_file))
except json.JSONDecodeError as error:
    print(f"FAIL: {dashboard_file} does not parse: {error}"); sys.exit(1)

KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}

def metrics(expr):
    """The metric names a PromQL expression selects: identifiers that are not functions, keywords or labels."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)                                  # strings
    e = re.sub(r"\{[^}]*\}", "", e)                                               # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                                              # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)  # label lists
    found = []
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        before = e[m.start() - 1] if m.start() else " "
        if before.isdigit() or before in ".$":                                    # 1e3, 0.5e-1, $variable
            continue
        if e[m.end():].lstrip().startswith("(") or m.group(0).lower() in KEYWORDS:
            continue
        found.append(m.group(0))
    return found

def known_name(name):
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    return name in known or (base != name and base in known)

def panels(items):
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))

problems, used, queries = [], set(), 0
ids = [p["id"] for p in panels(dashboard["panels"])]
if len(ids) != len(set(ids)):
    problems.append("panel ids are not unique")
for panel in panels(dashboard["panels"]):
    for target in panel.get("targets", []):
        queries += 1
        names = metrics(target["expr"])
        if not names:
            problems.append(f"panel '{panel['title']}': no metric in {target['expr']}")
        for name in names:
            used.add(re.sub(r"_(bucket|sum|count)$", "", name))
            if not known_name(name):
                problems.append(f"panel '{panel['title']}': {name} is not in {names_file}")
for variable in dashboard.get("templating", {}).get("list", []):
    query = variable.get("query")
    query = query.get("query", "") if isinstance(query, dict) else query or ""
    for name in re.findall(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,", query):
        queries += 1
        if not known_name(name):
            problems.append(f"variable '{variable['name']}': {name} is not in {names_file}")
if problems:
    print("\n".join("FAIL: " + p for p in problems)); sys.exit(1)
unused = sorted(known - used)
print(f"ok   {dashboard_file}: {queries} queries, every metric in {names_file}"
      + (f" (not shown: {', '.join(unused)})" if unused else ", and every one of those shown"))
EOF

echo "-- Dockerfile (read; it cannot be built here)"
dockerfile=deploy/docker/Dockerfile
before=$failures
for needed in 'AS build' 'swift build -c release --product herd' 'libssl-dev' 'herd_Providers.resources' \
    'USER 10001' 'ENTRYPOINT \["herd"\]' 'COPY deploy/docker/herd.yaml'; do
    grep -q -E "^[^#]*$needed" "$dockerfile" || fail "$dockerfile has no '$needed'"
done
grep -q -x -F '**/.build*' .dockerignore || fail ".dockerignore does not exclude **/.build*"
[ "$failures" -ne "$before" ] || echo "ok   $dockerfile has its build stage, release build, libssl, fixture data, non-root user and entrypoint"

if [ "$failures" -ne 0 ]; then
    echo "check-deploy: $failures check(s) failed"
    exit 1
fi
echo "check-deploy: passed"

#!/usr/bin/env bash
# Checks docker/compose.yaml and docker/Dockerfile without a Docker engine (none runs on the
# project's machines): `docker compose config` where the client has it, otherwise a YAML parse;
# then the promises the files make (services, health checks, named volume, non-root user).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p "${CHOSO_TEST_TMP:-/tmp}"
if docker compose version >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp -r docker "$tmp/"
    mkdir -p "$tmp/docker/secrets"
    : >"$tmp/docker/secrets/db_password"; : >"$tmp/docker/secrets/data.key"
    docker compose -f "$tmp/docker/compose.yaml" config -q
    docker compose -f "$tmp/docker/compose.cluster.yaml" config -q
    echo "docker compose config: ok"
fi
py=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import yaml' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then echo "test_docker: no YAML parser (python3-yaml) and no docker compose" >&2; exit 1; fi
"$py" - <<'PY'
import os, re, sys, yaml
c = yaml.safe_load(open("docker/compose.yaml"))
svcs = c["services"]
for name in ("db", "serve", "worker", "sandbox", "migrate"):
    assert name in svcs, f"service {name} missing"
for name in ("db", "serve", "sandbox"):
    assert "healthcheck" in svcs[name], f"service {name} has no health check"
assert "dbdata" in c["volumes"], "named volume for MariaDB missing"
assert svcs["serve"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
assert svcs["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
for name in ("serve", "worker", "migrate"):
    env = svcs[name]["environment"]
    assert not any(k.endswith("PASSWORD") for k in env), "secrets must come from files"
    assert env["CHOSO_DB_PASSWORD_FILE"].startswith("/run/secrets/")

df = open("docker/Dockerfile").read()
known = {"FROM","RUN","COPY","ENV","USER","WORKDIR","EXPOSE","HEALTHCHECK","ENTRYPOINT","CMD","ARG","LABEL"}
logical, cont = [], ""
for line in df.splitlines():
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    cont += line.rstrip("\\") + " "
    if not line.endswith("\\"):
        logical.append(cont.strip()); cont = ""
assert not cont, "Dockerfile ends inside a continued line"
for l in logical:
    kw = l.split()[0]
    assert kw in known, f"unknown Dockerfile instruction {kw}"
froms = [l for l in logical if l.startswith("FROM")]
assert len(froms) >= 2 and all("debian:12" in f for f in froms), "multi-stage on Debian 12"
users = [l.split()[1] for l in logical if l.startswith("USER")]
assert users and users[-1] not in ("root", "0"), "the final image must run as a non-root user"
final = df.split("FROM debian:12-slim\n")[-1]
assert "-dev" not in final, "the final stage must hold runtime libraries only"
print("compose.yaml and Dockerfile: ok")

# compose.cluster.yaml: 3 Galera nodes (one bootstraps only on an empty volume), 2 serve and 2
# workers that list every node, nginx in front of both serves, nothing shared on disk.
c = yaml.safe_load(open("docker/compose.cluster.yaml"))
svcs = c["services"]
for name in ("db1", "db2", "db3", "migrate", "serve1", "serve2", "worker1", "worker2", "nginx"):
    assert name in svcs, f"cluster: service {name} missing"
wsrep = c["configs"]["wsrep"]["content"]
for opt in ("--wsrep-on=ON", "--wsrep-cluster-address=gcomm://db1,db2,db3", "--binlog-format=ROW",
            "--innodb-autoinc-lock-mode=2", "--wsrep-sst-method=mariabackup"):
    assert opt in wsrep, f"cluster: wsrep option {opt} missing"
boots = [n for n in ("db1", "db2", "db3") if "--wsrep-new-cluster" in " ".join(svcs[n]["command"])]
assert boots == ["db1"], "exactly one node may bootstrap"
assert "grastate.dat" in " ".join(svcs["db1"]["command"]), "bootstrap only on an empty volume"
for n in ("db1", "db2", "db3"):
    cmd = " ".join(svcs[n]["command"])
    assert f"--wsrep-node-name={n}" in cmd and "$$(cat /etc/choso-wsrep)" in cmd, n
    assert "--galera_online" in svcs[n]["healthcheck"]["test"], f"{n}: health check must ask Galera"
    assert re.search(r"(?<!\$)\$\((?!\()", cmd) is None, f"{n}: '$(' must be written '$$(' in compose"
vols = set()
for name in ("serve1", "serve2", "worker1", "worker2", "migrate"):
    env = svcs[name]["environment"]
    assert env["CHOSO_DB_NODES"] == "db1:3306,db2:3306,db3:3306", f"{name}: every node listed"
    assert env["CHOSO_DB_PASSWORD_FILE"].startswith("/run/secrets/")
    assert not any(k.endswith("PASSWORD") for k in env), "secrets must come from files"
    for v in svcs[name].get("volumes", []):
        assert v not in vols, f"{name}: media caches are per container, never shared ({v})"
        vols.add(v)
assert svcs["serve1"]["environment"]["CHOSO_DB_SYNC_WAIT"] == "1", "read-your-writes across nodes"
conf = open("docker/nginx-cluster.conf").read()
assert "server serve1:8080" in conf and "server serve2:8080" in conf, "nginx balances both serves"
assert svcs["nginx"]["depends_on"]["serve1"]["condition"] == "service_healthy"
for cfg in c["configs"].values():
    if "file" in cfg:
        assert os.path.exists(os.path.join("docker", cfg["file"])), cfg["file"]
print("compose.cluster.yaml: ok")

# compose.yaml's services reach the simulators on loopback (choso sends plain http nowhere else)
c = yaml.safe_load(open("docker/compose.yaml"))
for name in ("serve", "worker"):
    assert c["services"][name]["network_mode"] == "service:sandbox", name
    for k, v in c["services"][name]["environment"].items():
        if k.endswith("_URL") and v.startswith("http://") and k != "CHOSO_HTTP_PUBLIC_URL":
            assert v.startswith("http://127.0.0.1:"), f"{k}: plain http only on loopback"
PY
# ... and the simulators accept the command line compose.yaml gives them (`config` parses every
# flag and exits without listening)
sbx="${BUILD:-build}/choso-sandbox"
if [ -x "$sbx" ]; then
    args=$(mktemp)
    SBX_ARGS_OUT=$args "$py" - <<'PY'
import os, yaml
c = yaml.safe_load(open("docker/compose.yaml"))
open(os.environ["SBX_ARGS_OUT"], "w").write("\n".join(c["services"]["sandbox"]["command"]) + "\n")
PY
    mapfile -t a <"$args"
    rm -f "$args"
    [ "${a[0]}" = serve ] || { echo "test_docker: the sandbox command must start with serve" >&2; exit 1; }
    "$sbx" config "${a[@]:1}" >/dev/null || { echo "test_docker: choso-sandbox refuses compose.yaml's flags: ${a[*]}" >&2; exit 1; }
    echo "compose.yaml's sandbox flags: accepted by $sbx"
fi

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
    echo "docker compose config: ok"
fi
py=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import yaml' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then echo "test_docker: no YAML parser (python3-yaml) and no docker compose" >&2; exit 1; fi
"$py" - <<'PY'
import re, sys, yaml
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
PY

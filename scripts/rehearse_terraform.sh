#!/usr/bin/env bash
# Rehearse a deployment of terraform/envs/dev against moto (an AWS API
# emulator on a loopback port): init, plan, apply, a second plan that must
# be empty, destroy. Twice: the env's defaults (us-east-1), then with every
# optional part on (EKS, bastion, alarm e-mail, Route 53 records, weighted
# EKS routing, a previous X-Origin-Verify secret).
#
# What it proves beyond `terraform validate`: the AWS API accepts every
# resource as configured (names, name collisions such as two modules making
# the same KMS alias, cross-resource references, IAM managed policy ARNs),
# the graph applies and destroys in order, and the state reads back without
# drift. What it cannot prove: anything moto does not model (quotas, IAM
# evaluation, CloudFront deployment, real RDS/ElastiCache behaviour), and
# the resources listed under EMULATOR LIMITS below.
#
# Runs in a copy of terraform/ in a temp dir (nothing in the repo changes),
# with the providers from the filesystem mirror TF_PROVIDER_MIRROR (default
# /opt/tf-plugins) when it is a directory, fake credentials, a local
# backend. moto comes from scripts/requirements-moto.txt, installed into
# MOTO_VENV (default ~/.cache/expense-tracker/moto-venv) and reused while
# that file is unchanged. No stdin, no network beyond the package index on
# the first run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source scripts/lib/venv.sh

# ------------------------------------------------------- EMULATOR LIMITS
# What moto 5.2.1 cannot do, each seen failing (error text in
# terraform/README.md, "Rehearsal against an emulator"). Everything else must
# apply, re-plan empty and destroy; any other error fails the script.
#
# Left out of every run with -target (the script targets every other
# resource of `terraform graph`, minus whatever depends on these, which it
# prints):
excluded=(
  # ListCachePolicies / ListOriginRequestPolicies: 404, moto has no
  # CloudFront cache or origin request policies at all. The distribution
  # needs both, and the Route 53 alias records need the distribution.
  module.stack.module.edge.data.aws_cloudfront_cache_policy.caching_disabled
  module.stack.module.edge.data.aws_cloudfront_origin_request_policy.all_viewer_except_host
  # CreateResponseHeadersPolicy: not implemented either.
  module.stack.module.edge.aws_cloudfront_response_headers_policy.security
  # CreateCacheParameterGroup: HTTP 500 (not implemented). In the copy only,
  # the replication group uses default.redis7 instead (override below), so
  # that Redis and everything that reads its endpoint is still rehearsed.
  module.stack.module.cache.aws_elasticache_parameter_group.this
)
# Removed from the state before destroy (not destroyed by Terraform):
abandoned=(
  module.stack.module.cache.aws_elasticache_replication_group.this
  module.stack.module.cache.aws_elasticache_subnet_group.this
)
# Worked around (and not left out):
#   - DeleteReplicationGroup leaves the group "deleting" for ever ("Still
#     destroying... [id=expense-dev-redis, 2m10s elapsed]" until the 45 min
#     timeout). Before destroy the script deletes it through the API and
#     removes it from the state.
#   - DeleteCacheSubnetGroup: HTTP 500 (not implemented): "deleting
#     ElastiCache Subnet Group (expense-dev-redis): ... StatusCode: 500".
#     Removed from the state before destroy as well.
#   - CreateReplicationGroup makes no member clusters, and the provider then
#     fails reading the group: "DescribeCacheClusters ... CacheClusterNotFound:
#     Cache cluster expense-dev-redis-001 not found". The script creates that
#     cluster in the emulator first.
#   - CreateAddon: not implemented ("creating EKS Add-On
#     (expense-dev-eks:vpc-cni): operation error EKS: CreateAddon, https
#     response error StatusCode: 404 ... invalid character '<' looking for
#     beginning of value"; the same for kube-proxy). In the copy only,
#     aws_eks_addon.before_nodes has for_each = {} and aws_eks_addon.coredns
#     count = 0 (override below): no add-on is rehearsed, the cluster, node
#     group, OIDC provider and IRSA roles are. (Not left out with -target:
#     the node group depends on the add-ons, and a resource address in the
#     counted module.stack.module.eks would match no instance.)
#   - DescribeCluster returns no accessConfig and no upgradePolicy, so the
#     second plan replaced the cluster ("+ access_config { ... +
#     bootstrap_cluster_creator_admin_permissions = true # forces
#     replacement }", "+ upgrade_policy { + support_type = "STANDARD" }"),
#     and with it the OIDC provider ("~ url ... -> (known after apply) #
#     forces replacement") and the IRSA roles' trust policies. In the copy
#     only, the cluster ignores changes to those two blocks (override
#     below), so that the OIDC provider and the roles are still checked.
#   - MonitorInstances: not implemented ("updating Instance monitoring:
#     operation error EC2: MonitorInstances, ... StatusCode: 500"; moto:
#     "Monitoring.monitor_instances is not yet implemented"), which the
#     provider calls for monitoring = true. In the copy only, the bastion
#     has monitoring = false (override below).
#   - AWS managed IAM policies exist in moto only with
#     MOTO_IAM_LOAD_MANAGED_POLICIES=true ("NoSuchEntity: Policy
#     arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole
#     does not exist or is not attachable" otherwise).
# Changes tolerated in the second plan (attributes moto does not round-trip),
# by resource address, each seen:
tolerated=(
  # GetFunctionConfiguration returns no KMSKeyArn, Environment or
  # DeadLetterConfig as set: "+ kms_key_arn", "~ environment", "+
  # dead_letter_config", so every function is updated (and its alias follows
  # the new version).
  module.stack.module.api.aws_lambda_function.this
  module.stack.module.api.aws_lambda_alias.live
  # Security group rules that reference a group or a prefix list (9 in the
  # defaults run, 32 with the optional parts): moto returns no description
  # and the group as "<account>/sg-..." ("+ description = ...", "~
  # referenced_security_group_id = "123456789012/sg-..." -> "sg-...""). Not
  # listed by address: any aws_vpc_security_group_{ingress,egress}_rule
  # whose update changes exactly these (description from none to the
  # configured one, the group id from "<account>/<id>" to "<id>") is
  # tolerated, any other change to a rule is not.
  # The inline policy document reads back reformatted ("~ policy").
  module.stack.module.database.aws_iam_role_policy.proxy
  # DescribeDBParameters returns none of the set parameters ("+ parameter").
  module.stack.module.database.aws_db_parameter_group.this
  # Enhanced monitoring and Performance Insights are not returned
  # ("~ monitoring_interval", "+ monitoring_role_arn",
  # "~ performance_insights_enabled").
  module.stack.module.database.aws_db_instance.this
  # Encryption, auth token and endpoints are not returned, so the group is
  # replaced ("~ at_rest_encryption_enabled", "~ transit_encryption_enabled",
  # "+ auth_token"; delete/create).
  module.stack.module.cache.aws_elasticache_replication_group.this
  # (optional run) DescribeNodegroup returns a remoteAccess block moto makes
  # up and no updateConfig, so the group is replaced ("- remote_access { #
  # forces replacement - ec2_ssh_key = "eksKeypair" -> null }", "+
  # update_config { + max_unavailable = 1 }").
  module.stack.module.eks.aws_eks_node_group.this
  # (optional run) The launch template's data comes back with an extra
  # tag_specifications block for resource type "launch-template" holding
  # the provider's default tags ("- tag_specifications { - resource_type =
  # "launch-template" ... }"), so a new version is made.
  module.stack.module.eks.aws_launch_template.node
  # (optional run) An instance launched with a network interface
  # specification (associate_public_ip_address) is described without its
  # security groups ("~ vpc_security_group_ids = [ + "sg-..." ]").
  module.stack.module.network.aws_instance.bastion
)
# -----------------------------------------------------------------------

log() { printf '%s\n' "rehearse_terraform: $*" >&2; }
die() { log "$*"; exit 1; }

venv=${MOTO_VENV:-$HOME/.cache/expense-tracker/moto-venv}
ensure_venv "$venv" scripts/requirements-moto.txt
py=$venv/bin/python

work=$(mktemp -d)
moto_pids=() run_pids=()
cleanup() {
  local p
  # Runs still going (only when this script is stopped or failed early):
  # each is its own process group, with its terraform in it.
  for p in "${run_pids[@]}"; do
    kill -TERM -- "-$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  for p in "${moto_pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [[ -n ${REHEARSE_LOGS:-} ]]; then
    # Every run's logs (init, plans, apply, destroy, moto) kept for a look.
    mkdir -p "$REHEARSE_LOGS"
    (cd "$work" && find . \( -name '*.log' -o -name '*.txt' -o -name '*.changes' -o -name targets -o -name dependents \) \
      -not -path '*/.terraform/*' -exec cp --parents {} "$REHEARSE_LOGS/" \;) || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------- emulator
moto_version=$("$venv/bin/pip" show moto 2>/dev/null | sed -n 's/^Version: //p')
start_moto() { # name: a fresh moto_server for one run; sets endpoint and moto_pid
  local name=$1 port
  mkdir -p "$work/$name"
  port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  endpoint=http://127.0.0.1:$port
  # AWS managed IAM policies (e.g. AmazonRDSEnhancedMonitoringRole) exist
  # only when asked for.
  MOTO_IAM_LOAD_MANAGED_POLICIES=true "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/$name/moto.log" 2>&1 &
  moto_pid=$!
  moto_pids+=("$moto_pid")
  "$py" - "$endpoint" "$moto_pid" <<'PY' || { cat "$work/$name/moto.log" >&2; die "$name: moto_server did not start"; }
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
for _ in range(300):
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        urllib.request.urlopen(url + "/moto-api/", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
  log "$name: moto_server $moto_version on $endpoint (pid $moto_pid)"
}
stop_moto() { # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# --------------------------------------------------------------- terraform
# CHECKPOINT_DISABLE, TF_IN_AUTOMATION, TF_INPUT and the provider mirror's
# CLI configuration (shared with scripts/validate_terraform.sh).
source scripts/terraform_env.sh
terraform_env "$work"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
parallelism=${REHEARSE_PARALLELISM:-10}

# Every service the modules call (provider "endpoints" keys).
services=(acm cloudfront cloudwatch ec2 eks elasticache elbv2 events iam kms lambda logs rds route53 s3 secretsmanager sns sqs ssm sts wafv2)

provider_block() { # [alias]
  printf 'provider "aws" {\n'
  if [[ -n ${1:-} ]]; then printf '  alias = "%s"\n\n' "$1"; fi
  cat <<HCL
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  # An unimplemented call answers 500, which the SDK would retry 25 times
  # with backoff (an hour): fail within seconds instead. Not 1 (no retry):
  # the emulator sometimes drops a kept-alive connection mid-answer ("use of
  # closed network connection" in GetWebACL failed a CI run), which one
  # retry absorbs.
  max_retries = 3

  endpoints {
HCL
  for s in "${services[@]}"; do printf '    %s = "%s"\n' "$s" "$endpoint"; done
  printf '  }\n}\n\n'
}

tf() { # dir log args...: terraform, its output to log, shown on failure
  local dir=$1 out=$2 t0=$SECONDS
  shift 2
  if ! terraform -chdir="$dir" "$@" -no-color >"$out" 2>&1; then
    tail -n 60 "$out" >&2
    return 1
  fi
  log "  terraform $1: $((SECONDS - t0))s"
}

rehearse() { # name optional(0|1) endpoint: one run, its summary line in $work/<name>/summary
  local name=$1 optional=$2 endpoint=$3 start=$SECONDS
  local root=$work/$name env_dir=$work/$name/terraform/envs/dev
  log "=== run $name: envs/dev, aws_region us-east-1, optional parts $([[ $optional == 1 ]] && echo on || echo off)"
  mkdir -p "$root/target/lambda/bootstrap"
  cp -r terraform "$root/"
  # modules/api reads <repo>/routes.json and <repo>/target/lambda/bootstrap/bootstrap.zip
  # relative to the env: the copy gets both (the zip a placeholder).
  cp routes.json "$root/"
  "$py" -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z: z.writestr("bootstrap", "#!/bin/sh\nexit 0\n")' \
    "$root/target/lambda/bootstrap/bootstrap.zip"

  { provider_block; provider_block us_east_1
    printf 'terraform {\n  backend "local" {}\n}\n'; } >"$env_dir/rehearsal_override.tf"
  # See EMULATOR LIMITS: no ElastiCache parameter groups in moto.
  cat >"$root/terraform/modules/cache/rehearsal_override.tf" <<'HCL'
resource "aws_elasticache_replication_group" "this" {
  parameter_group_name = "default.redis7"
}
HCL
  # See EMULATOR LIMITS: no EKS add-ons in moto (none are made in the copy;
  # the node group still waits for the empty before_nodes set), no
  # access_config or upgrade_policy read back from an EKS cluster, and no
  # MonitorInstances (the bastion has basic monitoring in the copy).
  cat >"$root/terraform/modules/eks/rehearsal_override.tf" <<'HCL'
resource "aws_eks_addon" "before_nodes" {
  for_each = {}
}

resource "aws_eks_addon" "coredns" {
  count = 0
}

resource "aws_eks_cluster" "this" {
  lifecycle {
    ignore_changes = [access_config, upgrade_policy]
  }
}
HCL
  cat >"$root/terraform/modules/network/rehearsal_override.tf" <<'HCL'
resource "aws_instance" "bastion" {
  monitoring = false
}
HCL

  # Inputs: two ACM certificates (and with the optional parts a hosted zone)
  # made in the emulator first, as they would be outside Terraform.
  "$py" - "$endpoint" "$optional" >"$env_dir/rehearsal.auto.tfvars" <<'PY'
import sys, boto3
endpoint, optional = sys.argv[1], sys.argv[2] == "1"
kw = dict(region_name="us-east-1", endpoint_url=endpoint,
          aws_access_key_id="test", aws_secret_access_key="test")
acm = boto3.client("acm", **kw)
cert = lambda name: acm.request_certificate(DomainName=name, ValidationMethod="DNS")["CertificateArn"]
print(f'domain_name                = "dev.api.example.com"')
print(f'origin_domain_name         = "origin.dev.api.example.com"')
print(f'cloudfront_certificate_arn = "{cert("dev.api.example.com")}"')
print(f'alb_certificate_arn        = "{cert("origin.dev.api.example.com")}"')
print(f'jwt_jwks_url               = "https://issuer.example.com/.well-known/jwks.json"')
print(f'jwt_issuer                 = "https://issuer.example.com"')
print(f'origin_verify_secret       = "{"0123456789abcdef" * 4}"')
# See EMULATOR LIMITS: moto's CreateReplicationGroup makes no member
# clusters, which the provider reads back (<group>-001, ...; dev has one).
boto3.client("elasticache", **kw).create_cache_cluster(
    CacheClusterId="expense-dev-redis-001", Engine="redis", CacheNodeType="cache.t4g.micro", NumCacheNodes=1,
    EngineVersion="7.1")
if optional:
    zone = boto3.client("route53", **kw).create_hosted_zone(
        Name="dev.api.example.com", CallerReference="rehearsal")["HostedZone"]["Id"]
    print(f'route53_zone_id               = "{zone.split("/")[-1]}"')
    print(f'origin_verify_secret_previous = "{"fedcba9876543210" * 4}"')
    print('alarm_email                   = "oncall@example.com"')
    print('enable_bastion                = true')
    print('enable_eks                    = true')
    print('eks_weight                    = 50')
PY

  tf "$env_dir" "$root/init.log" init -input=false || die "$name: terraform init failed"
  tf "$env_dir" "$root/graph.dot" graph || die "$name: terraform graph failed"
  "$py" - "$root/graph.dot" "${excluded[@]}" >"$root/targets" 2>"$root/dependents" <<'PY' || { cat "$root/dependents" >&2; die "$name: target list"; }
# Every managed resource of the graph except the excluded ones and all that
# depend on them, one per line; the dependents left out on stderr.
import re, sys
dot, excluded = sys.argv[1], set(sys.argv[2:])
nodes, deps = set(), {}
for line in open(dot):
    m = re.match(r'\s*"([^"]+)" -> "([^"]+)";', line)
    if m:
        deps.setdefault(m[1], set()).add(m[2])
        nodes |= {m[1], m[2]}
        continue
    m = re.match(r'\s*"([^"]+)" \[label=', line)
    if m:
        nodes.add(m[1])
missing = sorted(excluded - nodes)
if missing:
    sys.exit(f"excluded but not in the configuration any more (update the list): {missing}")
out, grew = set(excluded), True
while grew:
    grew = False
    for n in nodes - out:
        if deps.get(n, set()) & out:
            out.add(n)
            grew = True
for n in sorted(out - excluded):
    print(n, file=sys.stderr)
# A module with nothing left out is targeted whole: a resource address under
# a module with count (module.stack.module.eks) would match no instance.
def modpath(n):
    return re.findall(r'module\.[\w-]+', n)
targets = set()
for n in nodes - out:
    if re.search(r'(^|\.)data\.', n):
        continue
    mods, chosen = modpath(n), n
    for i in range(1, len(mods) + 1):
        prefix = ".".join(mods[:i]) + "."
        if not any(o.startswith(prefix) for o in out):
            chosen = prefix[:-1]
            break
    targets.add(chosen)
for t in sorted(targets):
    print(t)
PY
  local targets=() t
  while IFS= read -r t; do targets+=("-target=$t"); done <"$root/targets"
  log "$name: ${#targets[@]} modules and resource blocks targeted; left out: ${#excluded[@]} excluded + $(wc -l <"$root/dependents") dependent:"
  sed 's/^/    /' "$root/dependents" >&2

  tf "$env_dir" "$root/plan1.log" plan -input=false -parallelism="$parallelism" -out=tfplan "${targets[@]}" ||
    die "$name: plan failed"
  local planned applied state second destroyed rc=0
  planned=$(sed -n 's/^Plan: \([0-9]*\) to add.*/\1/p' "$root/plan1.log")
  tf "$env_dir" "$root/apply.log" apply -input=false -auto-approve -parallelism="$parallelism" tfplan ||
    die "$name: apply failed"
  applied=$(sed -n 's/^Apply complete! Resources: \([0-9]*\) added.*/\1/p' "$root/apply.log")
  terraform -chdir="$env_dir" state list >"$root/state.txt"
  state=$(wc -l <"$root/state.txt")

  local t0=$SECONDS
  terraform -chdir="$env_dir" plan -input=false -no-color -parallelism="$parallelism" -detailed-exitcode \
    -out=tfplan2 "${targets[@]}" >"$root/plan2.log" 2>&1 || rc=$?
  log "  terraform plan (second): $((SECONDS - t0))s"
  case $rc in
    0) second="empty" ;;
    2)
      terraform -chdir="$env_dir" show -json tfplan2 >"$root/plan2.json"
      "$py" - "$root/plan2.json" "${tolerated[@]}" >"$root/plan2.changes" <<'PY' || rc=1
import json, re, sys
plan, tolerated = json.load(open(sys.argv[1])), set(sys.argv[2:])
bad = 0
for rc in plan.get("resource_changes", []):
    actions = rc["change"]["actions"]
    if actions in (["no-op"], ["read"]):
        continue
    # By address without instance keys: module.stack.module.eks[0].x["k"]
    # is listed as module.stack.module.eks.x.
    ok = re.sub(r'\[[^\]]*\]', '', rc["address"]) in tolerated
    if not ok and actions == ["update"] and rc["type"] in (
            "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        before, after = rc["change"]["before"], rc["change"]["after"]
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        ok = bool(changed) and changed <= {"description", "referenced_security_group_id"} and \
            (not before.get("description") or "description" not in changed) and \
            ("referenced_security_group_id" not in changed or
             str(before.get("referenced_security_group_id")).split("/")[-1] == after.get("referenced_security_group_id"))
    bad += not ok
    print(f'{"tolerated" if ok else "UNEXPECTED"} {"/".join(actions)} {rc["address"]}')
sys.exit(1 if bad else 0)
PY
      cat "$root/plan2.changes" >&2
      [[ $rc == 1 ]] && { grep -E '^  # |^      [~+-] ' "$root/plan2.log" >&2 || true; die "$name: the second plan is not empty"; }
      second="$(wc -l <"$root/plan2.changes") tolerated changes"
      ;;
    *) tail -n 60 "$root/plan2.log" >&2; die "$name: second plan failed" ;;
  esac

  # See EMULATOR LIMITS: a deleted replication group stays "deleting" in
  # moto, so the provider would wait out its 45-minute timeout. Delete it
  # through the API directly (that call must succeed) and drop it from the
  # state; Terraform destroys the rest.
  # DeleteCacheSubnetGroup is not implemented (500): its subnet group is
  # dropped from the state too.
  terraform -chdir="$env_dir" state rm "${abandoned[@]}" >"$root/state-rm.log" 2>&1 ||
    { cat "$root/state-rm.log" >&2; die "$name: state rm ${abandoned[*]}"; }
  "$py" -c 'import sys, boto3
boto3.client("elasticache", region_name="us-east-1", endpoint_url=sys.argv[1], aws_access_key_id="test",
             aws_secret_access_key="test").delete_replication_group(ReplicationGroupId="expense-dev-redis")' "$endpoint"
  # -refresh=false: the second plan has just read every resource back.
  tf "$env_dir" "$root/destroy.log" destroy -input=false -auto-approve -refresh=false -parallelism="$parallelism" \
    "${targets[@]}" ||
    die "$name: destroy failed"
  destroyed="$(sed -n 's/^Destroy complete! Resources: \([0-9]*\) destroyed.*/\1/p' "$root/destroy.log") + 1 deleted through the API, 1 abandoned"
  # A destroy with -target leaves the data sources it read in the state
  # (Terraform's doing, not the emulator's: data sources are never
  # "destroyed"); any managed resource left is a failure.
  terraform -chdir="$env_dir" state list >"$root/state-after.txt"
  grep -Ev '(^|\.)data\.' "$root/state-after.txt" >"$root/state-left.txt" || true
  [[ -s $root/state-left.txt ]] && { cat "$root/state-left.txt" >&2; die "$name: resources left in the state after destroy"; }

  local line
  line=$(printf '%-9s planned %s, applied %s (state %s), second plan %s, destroyed %s, %ss' \
    "$name" "$planned" "$applied" "$state" "$second" "$destroyed" "$((SECONDS - start))")
  log "$line"
  printf '%s\n' "$line" >"$root/summary"
}

# REHEARSE_RUNS: which runs (default both). REHEARSE_PARALLEL=1 (the
# default) runs them at the same time, each against its own moto_server (the
# runs are mostly waits on the provider's polling, e.g. a minute before the
# first look at a new RDS instance, so two overlap well on two cores);
# REHEARSE_PARALLEL=0 one after the other, output as it comes.
runs=() opts=()
for run in ${REHEARSE_RUNS:-defaults optional}; do
  case $run in
    defaults) runs+=(defaults) opts+=(0) ;;
    optional) runs+=(optional) opts+=(1) ;;
    *) die "REHEARSE_RUNS: unknown run $run (defaults, optional)" ;;
  esac
done
[[ ${#runs[@]} -gt 0 ]] || die "REHEARSE_RUNS: no run given"
parallel=${REHEARSE_PARALLEL:-1}
[[ ${#runs[@]} -gt 1 ]] || parallel=0

launch() { # index [log]: start run <index> against a new emulator, in the background
  local run=${runs[$1]}
  start_moto "$run"
  # Its own process group (job control), so that cleanup stops the run and
  # its terraform by the run's PID. (Started in the background and waited
  # for even when alone: a subshell whose status is tested with || would
  # run without set -e.)
  set -m
  if [[ -n ${2:-} ]]; then
    (trap - EXIT INT TERM; rehearse "$run" "${opts[$1]}" "$endpoint") >"$2" 2>&1 &
  else
    (trap - EXIT INT TERM; rehearse "$run" "${opts[$1]}" "$endpoint") &
  fi
  run_pid[$run]=$!
  set +m
  run_moto[$run]=$moto_pid
  run_pids+=("${run_pid[$run]}")
}
finish() { # name: wait for the run, stop its emulator; 0 if it passed
  local run=$1 rc=0 p left=()
  wait "${run_pid[$run]}" || rc=$?
  for p in "${run_pids[@]}"; do [[ $p == "${run_pid[$run]}" ]] || left+=("$p"); done
  run_pids=("${left[@]}")
  stop_moto "${run_moto[$run]}"
  if [[ -f $work/$run/run.log ]]; then cat "$work/$run/run.log" >&2; fi
  [[ $rc == 0 ]] || { log "$run: FAILED (exit $rc)"; failed+=("$run"); }
}

declare -A run_moto=() run_pid=()
total=$SECONDS failed=()
if [[ $parallel == 1 ]]; then
  for i in "${!runs[@]}"; do launch "$i" "$work/${runs[i]}/run.log"; done
  log "runs ${runs[*]} started at the same time; each one's output follows when it ends"
  for run in "${runs[@]}"; do finish "$run"; done
else
  for i in "${!runs[@]}"; do
    launch "$i"
    finish "${runs[i]}"
  done
fi
[[ ${#failed[@]} == 0 ]] || die "emulator rehearsal of envs/dev FAILED: ${failed[*]} (after $((SECONDS - total))s)"
printf '\nrehearse_terraform: emulator rehearsal of envs/dev passed in %ss (runs: %s, %s)\n' "$((SECONDS - total))" \
  "${runs[*]}" "$([[ $parallel == 1 ]] && echo "at the same time" || echo "one after the other")"
for run in "${runs[@]}"; do printf '  %s\n' "$(cat "$work/$run/summary")"; done

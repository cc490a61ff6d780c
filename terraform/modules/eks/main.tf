# EKS: the `server` binary as pods, behind the SAME ALB as the Lambda
# functions (CloudFront + WAF -> ALB -> pods).
#
#   - control plane: private API endpoint (public off unless asked for),
#     Kubernetes Secrets envelope-encrypted with a KMS key, api / audit /
#     authenticator logs in a KMS-encrypted log group;
#   - one managed node group in the private subnets of the three AZs, from a
#     launch template: IMDSv2 only with a hop limit of 1, encrypted gp3 root
#     volume, and the node security group made here (no EKS-created group);
#   - IRSA (the cluster's OIDC provider) and one role per ServiceAccount:
#     expense-tracker/expense-api (the app), expense-tracker/expense-migrate
#     (the migration Job), kube-system/aws-load-balancer-controller and
#     kube-system/aws-node (VPC CNI);
#   - the add-ons vpc-cni and kube-proxy before the nodes, coredns after.
#
# The two security groups are created here EMPTY; every rule between them,
# the ALB and the data tier is in modules/security (which owns all rules),
# fed through its eks_* hook.
#
# No Kubernetes Ingress or Service of type LoadBalancer: either would make
# the controller create a second load balancer outside CloudFront and WAF.
# The ALB, its listener rules and the pods' target group belong to
# modules/api; a TargetGroupBinding (deploy/k8s) only registers pod IPs in
# that target group, and the controller's role can do nothing more.
#
# Migrations run as a Kubernetes Job with the expense-migrate
# ServiceAccount (the `migrate` binary, run once from a shell); the `server`
# pods must not migrate on start (MIGRATE_ON_START=false: their MySQL user
# cannot change the schema). The migration lock (MySQL GET_LOCK) makes a
# Job that overlaps the migrate Lambda function, or another Job, safe.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  cluster_name = "${var.name_prefix}-eks"

  # The issuer without its scheme: the prefix of the IRSA trust conditions.
  oidc_issuer_host = trimprefix(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://")

  # Installed before the node group: without a CNI the nodes never become
  # Ready. EKS adds nothing itself (bootstrap_self_managed_addons = false).
  # Add-on name => IRSA role of its ServiceAccount (null: none).
  addons_before_nodes = {
    for name, role in {
      "vpc-cni"                = aws_iam_role.irsa["vpc_cni"].arn
      "kube-proxy"             = null
      "eks-pod-identity-agent" = null
    } : name => role if name != "eks-pod-identity-agent" || var.enable_pod_identity_agent
  }
}

# ---------------------------------------------------------------------- KMS

# Envelope encryption of Kubernetes Secrets and the control plane log group.
module "kms" {
  source = "../kms_key"

  description           = "${var.name_prefix} EKS secrets and control plane logs"
  name_prefix           = var.name_prefix
  owner                 = "eks"
  purpose               = "cluster"
  allow_cloudwatch_logs = true
}

# Created before the cluster, or EKS creates it unencrypted and unbounded.
resource "aws_cloudwatch_log_group" "cluster" {
  #checkov:skip=CKV_AWS_338:Retention comes from var.log_retention_days: 365 in prod, shorter in dev/staging to bound cost.

  name              = "/aws/eks/${local.cluster_name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.arn
}

# ---------------------------------------------------------- security groups

# Attached to the control plane ENIs (besides the group EKS creates itself).
# Rules: modules/security (443 from the nodes; to the nodes on 443, 10250
# and the webhook ports).
resource "aws_security_group" "cluster" {
  name        = "${var.name_prefix}-eks-cluster"
  description = "EKS control plane ENIs; rules are added by the security module"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-eks-cluster" }
}

# The only group on the nodes and, with the VPC CNI, on every pod IP.
# Rules: modules/security (ALB -> 8080, node <-> node, control plane,
# RDS Proxy, Redis, HTTPS out). The cluster tag marks it as the one group
# the Load Balancer Controller would edit, should it ever be allowed to.
resource "aws_security_group" "node" {
  name        = "${var.name_prefix}-eks-node"
  description = "EKS nodes and pods; rules are added by the security module"
  vpc_id      = var.vpc_id

  tags = {
    Name                                          = "${var.name_prefix}-eks-node"
    "kubernetes.io/cluster/${local.cluster_name}" = "owned"
  }
}

# ------------------------------------------------------------------ cluster

resource "aws_eks_cluster" "this" {
  #checkov:skip=CKV_AWS_37:api, audit and authenticator logs are on (var.cluster_log_types); controllerManager and scheduler are left out for their volume and cost, and can be added through the variable.

  name     = local.cluster_name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  enabled_cluster_log_types = var.cluster_log_types

  # vpc-cni, kube-proxy and coredns come from aws_eks_addon below, so EKS
  # must not install unmanaged copies first.
  bootstrap_self_managed_addons = false

  # Access entries only (no aws-auth ConfigMap); whoever runs this apply
  # (the pipeline's role) is cluster admin. Grant others with
  # `aws eks create-access-entry` / `associate-access-policy`.
  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = true
  }

  vpc_config {
    subnet_ids              = var.private_subnet_ids
    security_group_ids      = [aws_security_group.cluster.id]
    endpoint_private_access = true
    endpoint_public_access  = var.endpoint_public_access
    public_access_cidrs     = var.endpoint_public_access ? var.endpoint_public_access_cidrs : null
  }

  encryption_config {
    provider {
      key_arn = module.kms.arn
    }
    resources = ["secrets"]
  }

  upgrade_policy {
    support_type = var.support_type
  }

  lifecycle {
    precondition {
      condition     = !var.endpoint_public_access || (length(var.endpoint_public_access_cidrs) > 0 && !contains(var.endpoint_public_access_cidrs, "0.0.0.0/0"))
      error_message = "A public API endpoint needs endpoint_public_access_cidrs, without 0.0.0.0/0."
    }
  }

  # The role's permissions must exist before the cluster and outlive it
  # (EKS deletes its ENIs with them); the log group must exist first.
  depends_on = [
    aws_iam_role_policy_attachment.cluster,
    aws_iam_role_policy.cluster_kms,
    aws_cloudwatch_log_group.cluster,
  ]
}

# --------------------------------------------------------------------- IRSA

# No thumbprint_list: IAM trusts the EKS OIDC issuer's certificate through
# its own root CAs, and the provider leaves the list to AWS.
resource "aws_iam_openid_connect_provider" "this" {
  url            = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]

  tags = { Name = "${local.cluster_name}-irsa" }
}

# -------------------------------------------------------------------- nodes

resource "aws_launch_template" "node" {
  name_prefix            = "${var.name_prefix}-eks-node-"
  description            = "EKS managed nodes of ${local.cluster_name}"
  update_default_version = true
  ebs_optimized          = true

  # Only this group: EKS then does not add its own cluster security group.
  vpc_security_group_ids = [aws_security_group.node.id]

  # IMDSv2 only, and a hop limit of 1: the extra hop from a pod's network
  # namespace to the host drops IMDS responses, so pods cannot take the
  # node role's credentials. Pods get their own through IRSA (a projected
  # token exchanged with STS), which needs no IMDS; the host-network agents
  # (aws-node, kube-proxy) are one hop away and unaffected. Consequence: the
  # Load Balancer Controller must be given --aws-region and --aws-vpc-id
  # (Helm values region and vpcId) instead of reading them from IMDS.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda" # root volume of the AL2023 EKS AMIs

    ebs {
      volume_size           = var.node_disk_size_gb
      volume_type           = "gp3"
      encrypted             = true # the account's default EBS key
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name_prefix}-eks-node" }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = "${var.name_prefix}-eks-node" }
  }
}

# Makes the node group wait for the security module's rules (another
# module, so there is no reference to depend on otherwise).
resource "terraform_data" "node_network" {
  input = var.security_group_rule_ids
}

resource "aws_eks_node_group" "this" {
  cluster_name           = aws_eks_cluster.this.name
  node_group_name_prefix = "${var.name_prefix}-nodes-"
  node_role_arn          = aws_iam_role.node.arn
  subnet_ids             = var.private_subnet_ids # one per AZ: EKS spreads the nodes
  version                = aws_eks_cluster.this.version

  ami_type       = var.node_ami_type
  capacity_type  = var.node_capacity_type
  instance_types = var.node_instance_types

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  scaling_config {
    min_size     = var.node_min_size
    desired_size = var.node_desired_size
    max_size     = var.node_max_size
  }

  # Rolling updates (new launch template version, AMI, Kubernetes version)
  # replace one node at a time; the pods' PodDisruptionBudget holds.
  update_config {
    max_unavailable = 1
  }

  lifecycle {
    # Changing instance types, AMI type or capacity type replaces the group:
    # the new one first (hence the name prefix), so the pods always have
    # somewhere to go.
    create_before_destroy = true
  }

  depends_on = [
    aws_iam_role_policy_attachment.node,
    aws_eks_addon.before_nodes,
    terraform_data.node_network,
  ]
}

# ------------------------------------------------------------------ add-ons

resource "aws_eks_addon" "before_nodes" {
  for_each = local.addons_before_nodes

  cluster_name             = aws_eks_cluster.this.name
  addon_name               = each.key
  addon_version            = lookup(var.addon_versions, each.key, null)
  service_account_role_arn = each.value # vpc-cni: its own IRSA role, so the node role needs no ENI permissions
  # The VPC CNI enforces the NetworkPolicies in deploy/k8s only when told to.
  configuration_values        = each.key == "vpc-cni" ? jsonencode({ enableNetworkPolicy = "true" }) : null
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  depends_on = [aws_iam_role_policy_attachment.vpc_cni]
}

# CoreDNS is a Deployment: it needs nodes to become ACTIVE.
resource "aws_eks_addon" "coredns" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "coredns"
  addon_version               = lookup(var.addon_versions, "coredns", null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  depends_on = [aws_eks_node_group.this]
}

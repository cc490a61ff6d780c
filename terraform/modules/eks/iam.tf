# IAM: the cluster and node roles, and one IRSA role per ServiceAccount.
#
# The IRSA roles trust the cluster's OIDC provider for exactly one
# ServiceAccount (sub) and the STS audience (aud), and grant what the
# matching Lambda function's role grants in modules/api (same ARN formats):
#
#   app            rds-db:connect as expense_app; the Redis AUTH secret
#   migrate        rds-db:connect as expense_migrator and the master user;
#                  the three database user secrets
#   lb_controller  target registration in the one EKS target group
#   vpc_cni        AmazonEKS_CNI_Policy (pod IPs on node ENIs)

locals {
  service_accounts = {
    app           = { namespace = var.app_namespace, name = var.app_service_account }
    migrate       = { namespace = var.app_namespace, name = var.migrate_service_account }
    lb_controller = { namespace = "kube-system", name = "aws-load-balancer-controller" }
    vpc_cni       = { namespace = "kube-system", name = "aws-node" }
  }

  dbuser_arn_prefix = "arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${var.db_proxy_resource_id}"

  # Secrets Manager decrypts on the caller's behalf: kms:Decrypt is granted
  # only through it.
  secretsmanager_service = "secretsmanager.${local.region}.amazonaws.com"
}

# ------------------------------------------------------------- cluster role

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${var.name_prefix}-eks-cluster"
  description        = "EKS control plane of ${local.cluster_name}"
  assume_role_policy = data.aws_iam_policy_document.cluster_assume.json
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

# Envelope encryption of Secrets: EKS uses the key as the cluster role.
data "aws_iam_policy_document" "cluster_kms" {
  statement {
    sid       = "SecretsEnvelopeEncryption"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]
    resources = [module.kms.arn]
  }
}

resource "aws_iam_role_policy" "cluster_kms" {
  name   = "secrets-encryption"
  role   = aws_iam_role.cluster.id
  policy = data.aws_iam_policy_document.cluster_kms.json
}

# ---------------------------------------------------------------- node role

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.name_prefix}-eks-node"
  description        = "EKS managed nodes of ${local.cluster_name} (kubelet, image pulls)"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json
}

# What the kubelet needs, nothing for the pods: no CNI policy (aws-node has
# its IRSA role) and no application access (the pods have theirs; the
# launch template keeps them away from the node's credentials).
resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset(["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"])

  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.key}"
}

# -------------------------------------------------------------- IRSA roles

data "aws_iam_policy_document" "irsa_assume" {
  for_each = local.service_accounts

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.this.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer_host}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.name}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "irsa" {
  for_each = local.service_accounts

  name               = "${var.name_prefix}-eks-${replace(each.key, "_", "-")}"
  description        = "IRSA role of ${each.value.namespace}/${each.value.name} in ${local.cluster_name}"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume[each.key].json
}

# --------------------------------------------------------------------- app

data "aws_iam_policy_document" "app" {
  statement {
    sid       = "ConnectThroughRdsProxy"
    actions   = ["rds-db:connect"]
    resources = ["${local.dbuser_arn_prefix}/${var.db_app_username}"]
  }

  statement {
    sid       = "ReadRedisAuthToken"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.redis_auth_secret_arn]
  }

  statement {
    sid       = "DecryptRedisAuthToken"
    actions   = ["kms:Decrypt"]
    resources = [var.redis_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.secretsmanager_service]
    }
  }
}

resource "aws_iam_role_policy" "app" {
  name   = "least-privilege"
  role   = aws_iam_role.irsa["app"].id
  policy = data.aws_iam_policy_document.app.json
}

# ----------------------------------------------------------------- migrate

# Like the migrate function: creates/re-passwords expense_app and
# expense_migrator as the master user (passwords from their secrets, the
# ones RDS Proxy logs in with), then migrates as expense_migrator.
data "aws_iam_policy_document" "migrate" {
  statement {
    sid     = "ConnectThroughRdsProxy"
    actions = ["rds-db:connect"]
    resources = [
      "${local.dbuser_arn_prefix}/${var.db_migrator_username}",
      "${local.dbuser_arn_prefix}/${var.db_master_username}",
    ]
  }

  statement {
    sid     = "ReadDatabaseUserSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      var.db_app_secret_arn,
      var.db_migrator_secret_arn,
      var.db_master_secret_arn,
    ]
  }

  statement {
    sid       = "DecryptDatabaseUserSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.db_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.secretsmanager_service]
    }
  }
}

resource "aws_iam_role_policy" "migrate" {
  name   = "least-privilege"
  role   = aws_iam_role.irsa["migrate"].id
  policy = data.aws_iam_policy_document.migrate.json
}

# -------------------------------------------------- load balancer controller

# Only what a TargetGroupBinding needs: the ALB, its listeners, rules and
# target groups are Terraform's (modules/api). Unlike the controller's
# reference policy there is no elasticloadbalancing:Create*/Modify*/Delete*,
# no ec2:CreateSecurityGroup, no WAF/Shield/ACM/Cognito: an Ingress or a
# Service of type LoadBalancer fails to reconcile instead of creating a
# load balancer outside CloudFront and WAF.
data "aws_iam_policy_document" "lb_controller" {
  # Reads: the target group and its health (readiness gates), the VPC,
  # subnets, instances, ENIs and security groups the pod IPs belong to.
  statement {
    sid       = "DescribeLoadBalancing"
    actions   = ["elasticloadbalancing:Describe*"]
    resources = ["*"]
  }

  statement {
    sid = "DescribeNetwork"
    actions = [
      "ec2:DescribeAccountAttributes",
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInstances",
      "ec2:DescribeInternetGateways",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeTags",
      "ec2:DescribeVpcs",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "RegisterPodsInTheEksTargetGroup"
    actions   = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
    resources = [var.target_group_arn]
  }

  # Only for a TargetGroupBinding with spec.networking (off by default: the
  # security module already allows the ALB to reach the nodes on 8080, and
  # two owners of one rule conflict). Even then only ingress rules of the
  # node security group.
  dynamic "statement" {
    for_each = var.lb_controller_manages_node_ingress ? [1] : []

    content {
      sid       = "NodeSecurityGroupIngress"
      actions   = ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]
      resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${aws_security_group.node.id}"]
    }
  }
}

resource "aws_iam_role_policy" "lb_controller" {
  name   = "target-group-binding-only"
  role   = aws_iam_role.irsa["lb_controller"].id
  policy = data.aws_iam_policy_document.lb_controller.json
}

# ------------------------------------------------------------------ VPC CNI

resource "aws_iam_role_policy_attachment" "vpc_cni" {
  role       = aws_iam_role.irsa["vpc_cni"].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonEKS_CNI_Policy"
}

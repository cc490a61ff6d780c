# Security groups and every rule between them. The data path is
#
#   CloudFront --443--> ALB ..(Lambda invoke API, no network)..> Lambda
#   Lambda --3306--> RDS Proxy --3306--> RDS MySQL
#   Lambda --6379--> ElastiCache Redis
#   Lambda --443---> VPC interface endpoints, and JWKS (Cognito) via NAT
#
# and nothing else is open. Rules are separate aws_vpc_security_group_*_rule
# resources (one rule each, with a description). A security group created by
# Terraform starts with NO egress rule (Terraform removes AWS's default
# allow-all), so a group without egress rules here cannot send anything.
#
# Hooks:
#   - eks_node_security_group_id (may be null): the optional EKS `server`
#     pods get the same access as Lambda (proxy 3306, Redis 6379, endpoints
#     443), and the ALB may reach them on var.eks_node_port. With
#     eks_cluster_security_group_id as well (modules/eks), also what the
#     cluster itself needs between the control plane and the nodes (see
#     "EKS cluster" below).
#   - the bastion (network module, off by default): SSM port forwarding to the
#     proxy and Redis.

data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

locals {
  # Whether the EKS rules exist must be known at plan time. With the SG id
  # coming from a variable (or null) the null check is enough; when
  # modules/eks creates the group in the same apply (the envs' enable_eks),
  # also pass enable_eks_access = true, since its id is then unknown during
  # the plan.
  eks_enabled     = var.enable_eks_access != null ? var.enable_eks_access : var.eks_node_security_group_id != null
  bastion_enabled = var.enable_bastion_access

  # The cluster-internal rules need the cluster SG too. With
  # enable_eks_access set (modules/eks in the same apply) it decides; else
  # they exist only when both ids are given, so a node SG passed alone (an
  # EKS managed elsewhere, whose own rules cover this) gets no more than
  # before.
  eks_cluster_rules = var.enable_eks_access != null ? var.enable_eks_access : (
    var.eks_node_security_group_id != null && var.eks_cluster_security_group_id != null
  )
}

# ------------------------------------------------------------------- groups

# The CloudFront origin-facing prefix list has a weight of 55 rules, and a
# security group holds 60 inbound rules by default: two references (443 and
# 80) do not fit in one group. So HTTPS and HTTP get one group each, both
# attached to the ALB.
resource "aws_security_group" "alb_https" {
  #checkov:skip=CKV2_AWS_5:Attached in another module through this module's outputs (the ALB in the api module), which checkov's graph does not follow across modules.

  name        = "${var.name_prefix}-alb-https"
  description = "ALB: HTTPS from CloudFront origin-facing servers only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-alb-https" }
}

resource "aws_security_group" "alb_http" {
  #checkov:skip=CKV2_AWS_5:Attached in another module through this module's outputs (the ALB in the api module), which checkov's graph does not follow across modules.

  name        = "${var.name_prefix}-alb-http"
  description = "ALB: HTTP (redirected to HTTPS) from CloudFront origin-facing servers only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-alb-http" }
}

resource "aws_security_group" "lambda" {
  #checkov:skip=CKV2_AWS_5:Attached in another module through this module's outputs (every function in the api module), which checkov's graph does not follow across modules.

  name        = "${var.name_prefix}-lambda"
  description = "Lambda functions: egress to RDS Proxy, Redis and HTTPS only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-lambda" }
}

resource "aws_security_group" "rds_proxy" {
  #checkov:skip=CKV2_AWS_5:Attached in another module through this module's outputs (the RDS Proxy in the database module), which checkov's graph does not follow across modules.

  name        = "${var.name_prefix}-rds-proxy"
  description = "RDS Proxy: MySQL from the application tier, MySQL to the DB instance"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-rds-proxy" }
}

resource "aws_security_group" "rds" {
  #checkov:skip=CKV2_AWS_5:Attached in another module through this module's outputs (the DB instance in the database module), which checkov's graph does not follow across modules.

  name        = "${var.name_prefix}-rds"
  description = "RDS MySQL: only from the RDS Proxy"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-rds" }
}

resource "aws_security_group" "redis" {
  #checkov:skip=CKV2_AWS_5:Attached in another module through this module's outputs (the replication group in the cache module), which checkov's graph does not follow across modules.

  name        = "${var.name_prefix}-redis"
  description = "ElastiCache Redis: only from the application tier"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-redis" }
}

# ---------------------------------------------------------------------- ALB

resource "aws_vpc_security_group_ingress_rule" "alb_https_from_cloudfront" {
  security_group_id = aws_security_group.alb_https.id
  description       = "HTTPS from CloudFront origin-facing servers"
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "alb_http_from_cloudfront" {
  #checkov:skip=CKV_AWS_260:The source is the CloudFront origin-facing prefix list, not 0.0.0.0/0; checkov reads prefix_list_ids (aws_security_group_rule) and misses prefix_list_id of this resource type.
  security_group_id = aws_security_group.alb_http.id
  description       = "HTTP from CloudFront origin-facing servers (listener redirects to HTTPS)"
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

# Lambda targets are invoked through the Lambda API, not over the VPC, so
# the ALB needs no egress for them. Only EKS pods (ip targets) need one.
resource "aws_vpc_security_group_egress_rule" "alb_to_eks" {
  count = local.eks_enabled ? 1 : 0

  security_group_id            = aws_security_group.alb_https.id
  description                  = "ALB to EKS server pods"
  referenced_security_group_id = var.eks_node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.eks_node_port
  to_port                      = var.eks_node_port
}

resource "aws_vpc_security_group_ingress_rule" "eks_from_alb" {
  count = local.eks_enabled ? 1 : 0

  security_group_id            = var.eks_node_security_group_id
  description                  = "EKS server pods from the ALB"
  referenced_security_group_id = aws_security_group.alb_https.id
  ip_protocol                  = "tcp"
  from_port                    = var.eks_node_port
  to_port                      = var.eks_node_port
}

# ------------------------------------------------------------------- Lambda

resource "aws_vpc_security_group_egress_rule" "lambda_to_proxy" {
  security_group_id            = aws_security_group.lambda.id
  description                  = "MySQL to the RDS Proxy"
  referenced_security_group_id = aws_security_group.rds_proxy.id
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}

resource "aws_vpc_security_group_egress_rule" "lambda_to_redis" {
  security_group_id            = aws_security_group.lambda.id
  description                  = "Redis (TLS) to ElastiCache"
  referenced_security_group_id = aws_security_group.redis.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_vpc_security_group_egress_rule" "lambda_https" {
  security_group_id = aws_security_group.lambda.id
  description       = "HTTPS to the VPC endpoints and, through NAT, the JWKS endpoint"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# ---------------------------------------------------------------- RDS Proxy

resource "aws_vpc_security_group_ingress_rule" "proxy_from_lambda" {
  security_group_id            = aws_security_group.rds_proxy.id
  description                  = "MySQL from Lambda"
  referenced_security_group_id = aws_security_group.lambda.id
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}

resource "aws_vpc_security_group_ingress_rule" "proxy_from_eks" {
  count = local.eks_enabled ? 1 : 0

  security_group_id            = aws_security_group.rds_proxy.id
  description                  = "MySQL from EKS nodes"
  referenced_security_group_id = var.eks_node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}

resource "aws_vpc_security_group_ingress_rule" "proxy_from_bastion" {
  count = local.bastion_enabled ? 1 : 0

  security_group_id            = aws_security_group.rds_proxy.id
  description                  = "MySQL from the SSM bastion (port forwarding)"
  referenced_security_group_id = var.bastion_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}

resource "aws_vpc_security_group_egress_rule" "proxy_to_rds" {
  security_group_id            = aws_security_group.rds_proxy.id
  description                  = "MySQL to the DB instance"
  referenced_security_group_id = aws_security_group.rds.id
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}

# ---------------------------------------------------------------------- RDS

resource "aws_vpc_security_group_ingress_rule" "rds_from_proxy" {
  security_group_id            = aws_security_group.rds.id
  description                  = "MySQL from the RDS Proxy only"
  referenced_security_group_id = aws_security_group.rds_proxy.id
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}

# -------------------------------------------------------------------- Redis

resource "aws_vpc_security_group_ingress_rule" "redis_from_lambda" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from Lambda"
  referenced_security_group_id = aws_security_group.lambda.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_eks" {
  count = local.eks_enabled ? 1 : 0

  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from EKS nodes"
  referenced_security_group_id = var.eks_node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_bastion" {
  count = local.bastion_enabled ? 1 : 0

  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from the SSM bastion (port forwarding)"
  referenced_security_group_id = var.bastion_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

# ------------------------------------------------------------ VPC endpoints

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_lambda" {
  security_group_id            = var.endpoint_security_group_id
  description                  = "HTTPS to AWS APIs from Lambda"
  referenced_security_group_id = aws_security_group.lambda.id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_eks" {
  count = local.eks_enabled ? 1 : 0

  security_group_id            = var.endpoint_security_group_id
  description                  = "HTTPS to AWS APIs from EKS nodes"
  referenced_security_group_id = var.eks_node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_bastion" {
  count = local.bastion_enabled ? 1 : 0

  security_group_id            = var.endpoint_security_group_id
  description                  = "HTTPS to AWS APIs from the bastion"
  referenced_security_group_id = var.bastion_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
}

# EKS nodes reach the data tier: their own SG needs matching egress rules
# (the group is created by modules/eks; its cluster rules are in the "EKS
# cluster" section below).
resource "aws_vpc_security_group_egress_rule" "eks_to_proxy" {
  count = local.eks_enabled ? 1 : 0

  security_group_id            = var.eks_node_security_group_id
  description                  = "MySQL to the RDS Proxy"
  referenced_security_group_id = aws_security_group.rds_proxy.id
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}

resource "aws_vpc_security_group_egress_rule" "eks_to_redis" {
  count = local.eks_enabled ? 1 : 0

  security_group_id            = var.eks_node_security_group_id
  description                  = "Redis (TLS) to ElastiCache"
  referenced_security_group_id = aws_security_group.redis.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

# -------------------------------------------------------------- EKS cluster
#
# Between the control plane (its ENIs in the private subnets carry
# eks_cluster_security_group_id) and the nodes (eks_node_security_group_id;
# with the VPC CNI every pod IP is on a node ENI, so this group is the pods'
# too). Managed nodes launched with their own security group do not get the
# EKS-created cluster security group, so all of this is explicit:
#
#   nodes <-> nodes         all      pod-to-pod traffic across nodes, incl. DNS
#                                    to CoreDNS (53 tcp/udp) and Services
#   control plane -> nodes  443, 10250 and var.eks_control_plane_node_ports
#                           (kubelet: logs/exec; webhooks served by pods)
#   nodes -> control plane  443      kubelet and pods to the API server
#   nodes -> anywhere       443      ECR (via NAT and the S3 gateway), STS and
#                                    the other interface endpoints, the EC2
#                                    API (VPC CNI), the JWKS endpoint
#
# Plus, from the data-tier section above: ALB -> nodes on eks_node_port,
# nodes -> RDS Proxy 3306 and Redis 6379. Nothing else reaches the nodes.
# Not listed because security groups do not filter it: the VPC resolver
# (CoreDNS forwards to it), instance metadata, Amazon Time Sync.

resource "aws_vpc_security_group_ingress_rule" "eks_node_from_nodes" {
  count = local.eks_cluster_rules ? 1 : 0

  security_group_id            = var.eks_node_security_group_id
  description                  = "Pod and node traffic between EKS nodes (VPC CNI), DNS included"
  referenced_security_group_id = var.eks_node_security_group_id
  ip_protocol                  = "-1"
}

resource "aws_vpc_security_group_egress_rule" "eks_node_to_nodes" {
  count = local.eks_cluster_rules ? 1 : 0

  security_group_id            = var.eks_node_security_group_id
  description                  = "Pod and node traffic between EKS nodes (VPC CNI), DNS included"
  referenced_security_group_id = var.eks_node_security_group_id
  ip_protocol                  = "-1"
}

resource "aws_vpc_security_group_ingress_rule" "eks_node_from_control_plane" {
  for_each = local.eks_cluster_rules ? var.eks_control_plane_node_ports : {}

  security_group_id            = var.eks_node_security_group_id
  description                  = "From the EKS control plane: ${each.value}"
  referenced_security_group_id = var.eks_cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.key)
  to_port                      = tonumber(each.key)
}

resource "aws_vpc_security_group_egress_rule" "eks_control_plane_to_nodes" {
  for_each = local.eks_cluster_rules ? var.eks_control_plane_node_ports : {}

  security_group_id            = var.eks_cluster_security_group_id
  description                  = "To the EKS nodes: ${each.value}"
  referenced_security_group_id = var.eks_node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.key)
  to_port                      = tonumber(each.key)
}

resource "aws_vpc_security_group_ingress_rule" "eks_control_plane_from_nodes" {
  count = local.eks_cluster_rules ? 1 : 0

  security_group_id            = var.eks_cluster_security_group_id
  description                  = "Kubernetes API from the EKS nodes (kubelet, pods)"
  referenced_security_group_id = var.eks_node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443

  lifecycle {
    precondition {
      condition     = var.eks_node_security_group_id != null && var.eks_cluster_security_group_id != null
      error_message = "enable_eks_access = true needs both eks_node_security_group_id and eks_cluster_security_group_id."
    }
  }
}

resource "aws_vpc_security_group_egress_rule" "eks_node_to_control_plane" {
  count = local.eks_cluster_rules ? 1 : 0

  security_group_id            = var.eks_node_security_group_id
  description                  = "Kubernetes API (kubelet, pods)"
  referenced_security_group_id = var.eks_cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
}

resource "aws_vpc_security_group_egress_rule" "eks_node_https" {
  count = local.eks_cluster_rules ? 1 : 0

  security_group_id = var.eks_node_security_group_id
  description       = "HTTPS to ECR, the VPC endpoints, the EC2 API (VPC CNI) and the JWKS endpoint"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# The API endpoint is private by default: the SSM bastion (when enabled) is
# one way for operators to reach it (port forwarding to the endpoint).
resource "aws_vpc_security_group_ingress_rule" "eks_control_plane_from_bastion" {
  count = local.eks_cluster_rules && local.bastion_enabled ? 1 : 0

  security_group_id            = var.eks_cluster_security_group_id
  description                  = "Kubernetes API from the SSM bastion (port forwarding)"
  referenced_security_group_id = var.bastion_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
}

# ------------------------------------------------------------------ bastion

resource "aws_vpc_security_group_egress_rule" "bastion_https" {
  count = local.bastion_enabled ? 1 : 0

  security_group_id = var.bastion_security_group_id
  description       = "HTTPS to SSM (Session Manager) and AWS APIs"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "bastion_to_proxy" {
  count = local.bastion_enabled ? 1 : 0

  security_group_id            = var.bastion_security_group_id
  description                  = "MySQL to the RDS Proxy"
  referenced_security_group_id = aws_security_group.rds_proxy.id
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}

resource "aws_vpc_security_group_egress_rule" "bastion_to_redis" {
  count = local.bastion_enabled ? 1 : 0

  security_group_id            = var.bastion_security_group_id
  description                  = "Redis (TLS) to ElastiCache"
  referenced_security_group_id = aws_security_group.redis.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

# Network: one VPC over three Availability Zones with three tiers of subnets.
#
#   public   (/24 per AZ)  the ALB, the NAT gateways, the optional bastion
#   private  (/20 per AZ)  Lambda ENIs and (later) EKS nodes; internet via NAT
#   database (/24 per AZ)  RDS, RDS Proxy, ElastiCache; NO route out of the VPC
#
# Lambda reaches AWS APIs (Secrets Manager, STS, KMS, CloudWatch Logs, X-Ray)
# through interface endpoints and S3 through a gateway endpoint, so only the
# JWKS fetch (Cognito) leaves through NAT. VPC flow logs go to a KMS-encrypted
# CloudWatch log group.

# The zones are pinned by name (var.availability_zones), so the subnet
# layout never shifts when AWS adds a zone to the region; the data source
# fails the plan if one of them is not available to this account.
data "aws_availability_zones" "selected" {
  state = "available"

  filter {
    name   = "zone-name"
    values = var.availability_zones
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) == length(var.availability_zones)
      error_message = "Some of var.availability_zones are not available in this region/account."
    }
  }
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  azs      = var.availability_zones
  az_count = length(var.availability_zones)

  # 10.x.0.0/24, 10.x.1.0/24, 10.x.2.0/24
  public_cidrs = [for i in range(local.az_count) : cidrsubnet(var.vpc_cidr, 8, i)]
  # 10.x.10.0/24, 10.x.11.0/24, 10.x.12.0/24
  database_cidrs = [for i in range(local.az_count) : cidrsubnet(var.vpc_cidr, 8, 10 + i)]
  # 10.x.16.0/20, 10.x.32.0/20, 10.x.48.0/20: room for Lambda ENIs and EKS pods
  private_cidrs = [for i in range(local.az_count) : cidrsubnet(var.vpc_cidr, 4, 1 + i)]

  nat_count = var.single_nat_gateway ? 1 : local.az_count

  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # required for private DNS on interface endpoints

  tags = { Name = "${var.name_prefix}-vpc" }
}

# Lock down the default security group: no rules at all, so nothing that is
# accidentally launched into it can talk to anything.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name_prefix}-default-deny-all" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name_prefix}-igw" }
}

# ---------------------------------------------------------------- subnets

resource "aws_subnet" "public" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  availability_zone = local.azs[count.index]
  cidr_block        = local.public_cidrs[count.index]
  # Nothing gets a public IP by accident; the NAT gateways use Elastic IPs
  # and the bastion asks for one explicitly.
  map_public_ip_on_launch = false

  tags = { Name = "${var.name_prefix}-public-${local.azs[count.index]}", Tier = "public" }
}

resource "aws_subnet" "private" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  availability_zone = local.azs[count.index]
  cidr_block        = local.private_cidrs[count.index]

  tags = { Name = "${var.name_prefix}-private-${local.azs[count.index]}", Tier = "private" }
}

resource "aws_subnet" "database" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  availability_zone = local.azs[count.index]
  cidr_block        = local.database_cidrs[count.index]

  tags = { Name = "${var.name_prefix}-database-${local.azs[count.index]}", Tier = "database" }
}

# ------------------------------------------------------------ NAT gateways

resource "aws_eip" "nat" {
  count  = local.nat_count
  domain = "vpc"

  tags = { Name = "${var.name_prefix}-nat-${local.azs[count.index]}" }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id

  tags = { Name = "${var.name_prefix}-nat-${local.azs[count.index]}" }

  depends_on = [aws_internet_gateway.this]
}

# ------------------------------------------------------------ route tables

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name_prefix}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = local.az_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

# One private route table per AZ, each pointing at the NAT gateway of its own
# AZ (or at the single one when single_nat_gateway = true).
resource "aws_route_table" "private" {
  count  = local.az_count
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name_prefix}-private-${local.azs[count.index]}" }
}

resource "aws_route" "private_nat" {
  count = local.az_count

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
}

resource "aws_route_table_association" "private" {
  count = local.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# The database tier gets a route table with only the implicit local route:
# no internet gateway, no NAT, so nothing in it can reach the internet.
resource "aws_route_table" "database" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name_prefix}-database-isolated" }
}

resource "aws_route_table_association" "database" {
  count = local.az_count

  subnet_id      = aws_subnet.database[count.index].id
  route_table_id = aws_route_table.database.id
}

# ----------------------------------------------------------- VPC endpoints

# S3 is a (free) gateway endpoint on the private route tables.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id

  tags = { Name = "${var.name_prefix}-s3" }
}

# The interface endpoints share one security group. Its ingress rules (443
# from the Lambda SG, the EKS node SG, ...) are added by the security module,
# which owns every rule; here it is created empty.
resource "aws_security_group" "endpoints" {
  name        = "${var.name_prefix}-vpc-endpoints"
  description = "Interface VPC endpoints; ingress rules are added by the security module"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name_prefix}-vpc-endpoints" }
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_endpoint_services)

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true

  tags = { Name = "${var.name_prefix}-${each.value}" }
}

# --------------------------------------------------------------- flow logs

module "logs_kms" {
  source = "../kms_key"

  description           = "${var.name_prefix} VPC flow logs"
  name_prefix           = var.name_prefix
  owner                 = "network"
  purpose               = "flow-logs"
  allow_cloudwatch_logs = true
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  #checkov:skip=CKV_AWS_338:Retention comes from var.log_retention_days: 365 in prod, shorter in dev/staging to bound cost.

  name              = "/aws/vpc/${var.name_prefix}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.logs_kms.arn
}

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${var.name_prefix}-vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_logs.arn,
      "${aws_cloudwatch_log_group.flow_logs.arn}:*",
    ]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 60

  tags = { Name = "${var.name_prefix}-flow-logs" }
}

# ------------------------------------------------------------------ bastion
#
# Off by default. When enabled it is reached ONLY through SSM Session Manager
# (port forwarding to the RDS Proxy / Redis): its security group has no
# ingress rule at all, so no SSH port is open. It sits in a public subnet
# with a public IP so it needs neither NAT nor SSM endpoints.

resource "aws_security_group" "bastion" {
  count = var.enable_bastion ? 1 : 0

  name        = "${var.name_prefix}-bastion"
  description = "SSM-managed bastion: no ingress; egress rules are added by the security module"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name_prefix}-bastion" }
}

data "aws_ssm_parameter" "bastion_ami" {
  count = var.enable_bastion ? 1 : 0
  name  = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
}

data "aws_iam_policy_document" "bastion_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "bastion" {
  count = var.enable_bastion ? 1 : 0

  name               = "${var.name_prefix}-bastion"
  assume_role_policy = data.aws_iam_policy_document.bastion_assume.json
}

resource "aws_iam_role_policy_attachment" "bastion_ssm" {
  count = var.enable_bastion ? 1 : 0

  role       = aws_iam_role.bastion[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "bastion" {
  count = var.enable_bastion ? 1 : 0

  name = "${var.name_prefix}-bastion"
  role = aws_iam_role.bastion[0].name
}

resource "aws_instance" "bastion" {
  #checkov:skip=CKV_AWS_88:The bastion (off by default) sits in a public subnet and needs a public IP to reach SSM without NAT; its security group has no ingress rules.

  count = var.enable_bastion ? 1 : 0

  ami                         = data.aws_ssm_parameter.bastion_ami[0].value
  instance_type               = var.bastion_instance_type
  subnet_id                   = aws_subnet.public[0].id
  vpc_security_group_ids      = [aws_security_group.bastion[0].id]
  iam_instance_profile        = aws_iam_instance_profile.bastion[0].name
  associate_public_ip_address = true
  monitoring                  = true
  ebs_optimized               = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required" # IMDSv2 only
  }

  root_block_device {
    encrypted   = true
    volume_type = "gp3"
    volume_size = 8
  }

  tags = { Name = "${var.name_prefix}-bastion" }

  lifecycle {
    ignore_changes = [ami] # patch in place via SSM; don't replace on every new AMI
  }
}

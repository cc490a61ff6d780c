# KMS key: a customer managed key with automatic yearly rotation and an
# alias, alias/<name_prefix>/<owner>/<purpose> (variables.tf): the one naming
# rule of every key alias, so aliases are unique per account and region by
# construction as long as each module passes its own name as owner. Its policy delegates administration and use to IAM in this account
# (the account root; AWS services that use the key through grants made on
# behalf of the caller, such as RDS or Secrets Manager, need nothing more)
# and adds, when asked:
#   - CloudWatch Logs of this region, for log groups of this account
#     (allow_cloudwatch_logs), and
#   - further AWS service principals, each limited to this account by
#     aws:SourceAccount (service_principals).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  alias_name = "alias/${var.name_prefix}/${var.owner}/${var.purpose}"

  account_administration = {
    Sid       = "AccountAdministration"
    Effect    = "Allow"
    Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
    Action    = "kms:*"
    Resource  = "*"
  }

  cloudwatch_logs_use = {
    Sid       = "CloudWatchLogsUse"
    Effect    = "Allow"
    Principal = { Service = "logs.${local.region}.amazonaws.com" }
    Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    Resource  = "*"
    Condition = {
      ArnLike = {
        "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
      }
    }
  }

  service_statements = [
    for sid, p in var.service_principals : {
      Sid       = sid
      Effect    = "Allow"
      Principal = { Service = p.service }
      Action    = p.actions
      Resource  = "*"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
      }
    }
  ]
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [local.account_administration],
      var.allow_cloudwatch_logs ? [local.cloudwatch_logs_use] : [],
      local.service_statements,
    )
  })
}

resource "aws_kms_alias" "this" {
  name          = local.alias_name
  target_key_id = aws_kms_key.this.key_id
}

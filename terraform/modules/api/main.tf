# API: one Lambda function per operation behind an internet-facing ALB.
#
# The function list and the listener rules come from routes.json, generated
# from the route table in shared/src/http/routes.rs (the single source of
# truth): one function per route's `function`, plus the `fallback_function`
# (unknown routes: 404/405) and the `direct_functions` (`migrate`, invoked by
# the deploy pipeline; `purge-idempotency`, invoked hourly by EventBridge).
#
# Every function:
#   - runs the ONE cargo-lambda build output <package_dir>/bootstrap/bootstrap.zip
#     (`cargo lambda build --release --arm64 --output-format zip -p bootstrap`,
#     see scripts/package.sh) on provided.al2023 / arm64, with its own name as
#     the handler (`_HANDLER` chooses the operation the binary serves),
#     publishes a version, and is reached only
#     through its `live` alias;
#   - runs in the private subnets with the Lambda security group (egress to
#     the RDS Proxy, Redis and HTTPS only);
#   - has its OWN IAM role: ENIs, X-Ray, its own log group, rds-db:connect as
#     exactly one MySQL user, and the Redis AUTH secret, nothing more.
#
# The ALB accepts traffic only from CloudFront (security group on the
# CloudFront prefix list) AND only with CloudFront's secret header
# X-Origin-Verify: every listener rule requires it, and the default action
# (which cannot have conditions) is a fixed 403. The fallback function is a
# last rule (priority 50000) that requires only the header.
#
# Optional EKS (var.eks_enabled): the `server` pods serve the same API
# behind the same rules. Each rule then forwards to a weighted pair, the
# route's Lambda target group (100 - eks_weight) and the pods' target group
# (eks_weight), so traffic moves between the two per environment without
# changing a path or a condition.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_elb_service_account" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  routes_file = coalesce(var.routes_file, "${path.root}/../../../routes.json")
  package_dir = coalesce(var.package_dir, "${path.root}/../../../target/lambda")

  routes_doc = jsondecode(file(local.routes_file))

  # One route per function (one function per operation); a function listed
  # twice makes this a duplicate-key error at plan time.
  routes = { for r in local.routes_doc.routes : r.function => r }

  fallback_function = local.routes_doc.fallback_function
  migrate_function  = "migrate"
  purge_function    = "purge-idempotency"

  alb_functions    = concat(distinct([for r in local.routes_doc.routes : r.function]), [local.fallback_function])
  direct_functions = local.routes_doc.direct_functions
  function_keys    = concat(local.alb_functions, local.direct_functions)

  # ----------------------------------------------------------- environment

  db_url_base = "${var.db_proxy_endpoint}:3306/${var.database_name}?require_ssl=true"

  common_env = {
    DB_IAM_AUTH  = "true"
    LOG_FORMAT   = "json"
    RUST_LOG     = var.log_level
    JWT_JWKS_URL = var.jwt_jwks_url
    JWT_ISSUER   = var.jwt_issuer
    JWT_AUDIENCE = var.jwt_audience
  }

  app_env = merge(local.common_env, {
    DATABASE_URL          = "mysql://${var.db_app_username}@${local.db_url_base}"
    REDIS_URL             = "rediss://${var.redis_primary_endpoint}:6379"
    REDIS_AUTH_SECRET_ARN = var.redis_auth_secret_arn
  })

  migrate_env = merge(local.common_env, {
    DATABASE_URL           = "mysql://${var.db_migrator_username}@${local.db_url_base}"
    APP_DB_SECRET_ARN      = var.db_app_secret_arn
    MIGRATOR_DB_SECRET_ARN = var.db_migrator_secret_arn
    DB_MASTER_SECRET_ARN   = var.db_master_secret_arn
    DB_MASTER_USERNAME     = var.db_master_username
  })

  functions = {
    for name in local.function_keys : name => {
      is_migrate = name == local.migrate_function
      is_purge   = name == local.purge_function
      # Every function runs the same artifact; the handler picks its job.
      package = "${local.package_dir}/bootstrap/bootstrap.zip"
      timeout = name == local.migrate_function ? var.migrate_timeout_seconds : var.lambda_timeout_seconds
      # One migration (and one purge) at a time; the request functions share
      # var.reserved_concurrency each (-1: no reservation).
      reserved = contains([local.migrate_function, local.purge_function], name) ? 1 : var.reserved_concurrency
      # MySQL users this function may connect as through the proxy.
      db_users = name == local.migrate_function ? [var.db_migrator_username, var.db_master_username] : [var.db_app_username]
      # Lambda rejects null values: drop the unset optional variables.
      env = { for k, v in(name == local.migrate_function ? tomap(local.migrate_env) : tomap(local.app_env)) : k => v if v != null }
    }
  }

  # ALB rules match either the current secret or, during a rotation, the
  # previous one (see the edge module for the procedure).
  origin_verify_values = compact([var.origin_verify_secret, var.origin_verify_secret_previous])

  # Target group names: 32 characters at most.
  target_group_names = { for name in local.alb_functions : name => trimsuffix(substr("${var.name_prefix}-${name}", 0, 32), "-") }

  lambda_weight = 100 - var.eks_weight
}

# ---------------------------------------------------------------------- KMS

module "kms" {
  source = "../kms_key"

  description           = "${var.name_prefix} Lambda environment variables and log groups"
  name_prefix           = var.name_prefix
  owner                 = "api"
  purpose               = "lambda"
  allow_cloudwatch_logs = true
}

# ---------------------------------------------------------------- log groups

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_338:Retention comes from var.log_retention_days: 365 in prod, shorter in dev/staging to bound cost.

  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.arn
}

# ------------------------------------------------------------ IAM per function

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "lambda" {
  for_each = local.functions

  name               = "${var.name_prefix}-fn-${each.key}"
  description        = "Execution role of the ${each.key} function (least privilege)"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "lambda" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_111:Only the ENI and X-Ray statements use "*": ec2:CreateNetworkInterface/Describe*/DeleteNetworkInterface and xray:PutTraceSegments support no resource-level permissions (same as AWSLambdaVPCAccessExecutionRole and AWSXRayDaemonWriteAccess).
  #checkov:skip=CKV_AWS_356:Only the ENI and X-Ray statements use "*": those actions support no resource-level permissions (same as AWSLambdaVPCAccessExecutionRole and AWSXRayDaemonWriteAccess).

  # What AWSLambdaVPCAccessExecutionRole grants, inline. These EC2 actions
  # do not support resource-level permissions, so the resource must be "*";
  # Lambda calls them to attach the function to the private subnets.
  statement {
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["*"]
  }

  # Active tracing: X-Ray's write actions take no resource ARN either.
  statement {
    sid       = "XRayTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "OwnLogGroupOnly"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  # IAM authentication to the RDS Proxy as exactly the MySQL user(s) this
  # function needs.
  statement {
    sid     = "ConnectThroughRdsProxy"
    actions = ["rds-db:connect"]
    resources = [
      for user in each.value.db_users :
      "arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${var.db_proxy_resource_id}/${user}"
    ]
  }

  dynamic "statement" {
    for_each = each.value.is_migrate ? [] : [1]

    content {
      sid       = "ReadRedisAuthToken"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [var.redis_auth_secret_arn]
    }
  }

  dynamic "statement" {
    for_each = each.value.is_migrate ? [] : [1]

    content {
      sid       = "DecryptRedisAuthToken"
      actions   = ["kms:Decrypt"]
      resources = [var.redis_kms_key_arn]
    }
  }

  # migrate creates/re-passwords expense_app and expense_migrator with the
  # passwords RDS Proxy uses, and needs the master secret to do so.
  dynamic "statement" {
    for_each = each.value.is_migrate ? [1] : []

    content {
      sid     = "ReadDatabaseUserSecrets"
      actions = ["secretsmanager:GetSecretValue"]
      resources = [
        var.db_app_secret_arn,
        var.db_migrator_secret_arn,
        var.db_master_secret_arn,
      ]
    }
  }

  dynamic "statement" {
    for_each = each.value.is_migrate ? [1] : []

    content {
      sid       = "DecryptDatabaseUserSecrets"
      actions   = ["kms:Decrypt"]
      resources = [var.db_kms_key_arn]
    }
  }

  # Asynchronous invocations (EventBridge) that fail land in the DLQ.
  dynamic "statement" {
    for_each = each.value.is_purge ? [1] : []

    content {
      sid       = "DeadLetterQueue"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.dlq.arn]
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.functions

  name   = "least-privilege"
  role   = aws_iam_role.lambda[each.key].id
  policy = data.aws_iam_policy_document.lambda[each.key].json
}

# --------------------------------------------------------------------- DLQ

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name_prefix}-lambda-dlq"
  message_retention_seconds = 1209600 # 14 days
  sqs_managed_sse_enabled   = true
}

# ---------------------------------------------------------------- functions

resource "aws_lambda_function" "this" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_116:Only purge-idempotency is invoked asynchronously (EventBridge) and it has a DLQ (dynamic block); the ALB targets and migrate are invoked synchronously, and Lambda sends only failed asynchronous invocations to a DLQ.
  #checkov:skip=CKV_AWS_272:The zips are built by cargo lambda in the same pipeline that runs terraform; no AWS Signer profile exists for this project yet.

  function_name = "${var.name_prefix}-${each.key}"
  description   = "expense tracker: ${each.key}"
  role          = aws_iam_role.lambda[each.key].arn

  runtime       = "provided.al2023"
  architectures = ["arm64"]
  handler       = each.key
  filename      = each.value.package
  # try(): plan works before the packages are built (the apply needs them).
  source_code_hash = try(filebase64sha256(each.value.package), null)
  publish          = true

  memory_size                    = var.lambda_memory_mb
  timeout                        = each.value.timeout
  reserved_concurrent_executions = each.value.reserved
  kms_key_arn                    = module.kms.arn

  vpc_config {
    subnet_ids         = var.private_subnet_ids
    security_group_ids = [var.lambda_security_group_id]
  }

  tracing_config {
    mode = "Active"
  }

  environment {
    variables = each.value.env
  }

  dynamic "dead_letter_config" {
    for_each = each.value.is_purge ? [1] : []

    content {
      target_arn = aws_sqs_queue.dlq.arn
    }
  }

  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}

resource "aws_lambda_alias" "live" {
  for_each = local.functions

  name          = "live"
  description   = "The version the ALB / EventBridge / deploy pipeline invoke"
  function_name = aws_lambda_function.this[each.key].function_name
  # scripts/deploy.sh pins the aliases to the running versions while new
  # ones are published, then applies again without pins to move them.
  function_version = lookup(var.pinned_versions, each.key, aws_lambda_function.this[each.key].version)
}

# ------------------------------------------------- ALB access log bucket

resource "aws_s3_bucket" "alb_logs" {
  #checkov:skip=CKV_AWS_18:This bucket is the access-log sink itself; logging it would need yet another bucket.
  #checkov:skip=CKV_AWS_144:Access logs are kept in the region they describe; cross-region replication is not needed for them.
  #checkov:skip=CKV_AWS_145:ALB access log delivery supports only SSE-S3 (AES256), not SSE-KMS.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of log objects.

  bucket        = "${var.name_prefix}-alb-logs-${local.account_id}"
  force_destroy = var.force_destroy_log_bucket
}

resource "aws_s3_bucket_ownership_controls" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256" # the only option ALB log delivery supports
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "alb_logs" {
  # Regions older than August 2022 (us-east-1 among them) deliver as the
  # regional ELB account; newer ones as the log delivery service principal.
  statement {
    sid       = "ElbLogDeliveryAccount"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.alb_logs.arn}/alb/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }

  statement {
    sid       = "ElbLogDeliveryService"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.alb_logs.arn}/alb/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.alb_logs.arn,
      "${aws_s3_bucket.alb_logs.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id
  policy = data.aws_iam_policy_document.alb_logs.json

  depends_on = [aws_s3_bucket_public_access_block.alb_logs]
}

# ---------------------------------------------------------------------- ALB

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:The regional WAFv2 web ACL is associated with this ALB in the edge module (aws_wafv2_web_acl_association.alb, through the alb_arn output), which checkov's graph does not follow across modules.
  #checkov:skip=CKV_AWS_150:enable_deletion_protection comes from var.alb_deletion_protection: true in staging and prod, false in dev so it can be torn down.

  name                       = "${var.name_prefix}-alb"
  internal                   = false # CloudFront reaches it over the internet; the SGs admit only CloudFront
  load_balancer_type         = "application"
  security_groups            = var.alb_security_group_ids
  subnets                    = var.public_subnet_ids
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "defensive"
  enable_deletion_protection = var.alb_deletion_protection
  idle_timeout               = 60

  access_logs {
    bucket  = aws_s3_bucket.alb_logs.id
    prefix  = "alb"
    enabled = true
  }

  depends_on = [aws_s3_bucket_policy.alb_logs]
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  # Anything that did not come through CloudFront (no or wrong
  # X-Origin-Verify header) gets a 403 without invoking a function.
  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      status_code  = "403"
      message_body = jsonencode({ type = "about:blank", title = "Forbidden", status = 403 })
    }
  }
}

resource "aws_lb_target_group" "fn" {
  for_each = toset(local.alb_functions)

  name                               = local.target_group_names[each.key]
  target_type                        = "lambda"
  lambda_multi_value_headers_enabled = true

  lifecycle {
    precondition {
      condition     = length(distinct(values(local.target_group_names))) == length(local.target_group_names)
      error_message = "Target group names collide after truncation to 32 characters; shorten name_prefix."
    }
  }
}

resource "aws_lambda_permission" "alb" {
  for_each = toset(local.alb_functions)

  statement_id  = "AllowInvokeFromAlbTargetGroup"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.key].function_name
  qualifier     = aws_lambda_alias.live[each.key].name
  principal     = "elasticloadbalancing.amazonaws.com"
  source_arn    = aws_lb_target_group.fn[each.key].arn
}

resource "aws_lb_target_group_attachment" "fn" {
  for_each = toset(local.alb_functions)

  target_group_arn = aws_lb_target_group.fn[each.key].arn
  target_id        = aws_lambda_alias.live[each.key].arn

  depends_on = [aws_lambda_permission.alb]
}

# The `server` pods (EKS). Registered by the AWS Load Balancer Controller
# through a TargetGroupBinding (pod IPs: target type ip), reached on the
# port the security module opens from the ALB to the nodes. The health
# check is the API's own deep check; the 30 s deregistration delay lets
# requests in flight finish within the pods' 30 s termination grace period
# (the server drains in SHUTDOWN_DELAY_SECONDS + SHUTDOWN_TIMEOUT_SECONDS).
resource "aws_lb_target_group" "eks" {
  #checkov:skip=CKV_AWS_378:Viewers use TLS to CloudFront and CloudFront to the HTTPS listener, whose rules are the only way to this group; the hop from the ALB to the pods stays inside the VPC, open only from the ALB's security group to the nodes on 8080, and the server binary has no TLS listener. The check accepts an HTTP group only when attached to a listener directly, not through listener rules.
  count = var.eks_enabled ? 1 : 0

  name                 = trimsuffix(substr("${var.name_prefix}-eks", 0, 32), "-")
  target_type          = "ip"
  vpc_id               = var.vpc_id
  port                 = var.eks_port
  protocol             = "HTTP"
  protocol_version     = "HTTP1"
  deregistration_delay = 30

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = "/health"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = { Name = "${var.name_prefix}-eks" }

  lifecycle {
    precondition {
      condition     = var.vpc_id != null
      error_message = "eks_enabled = true needs vpc_id."
    }
  }
}

resource "aws_lb_listener_rule" "route" {
  for_each = local.routes

  listener_arn = aws_lb_listener.https.arn
  priority     = each.value.priority

  # The function alone; with EKS, the weighted pair instead.
  action {
    type             = "forward"
    target_group_arn = var.eks_enabled ? null : aws_lb_target_group.fn[each.value.function].arn

    dynamic "forward" {
      for_each = var.eks_enabled ? [1] : []

      content {
        target_group {
          arn    = aws_lb_target_group.fn[each.value.function].arn
          weight = local.lambda_weight
        }

        target_group {
          arn    = aws_lb_target_group.eks[0].arn
          weight = var.eks_weight
        }
      }
    }
  }

  condition {
    path_pattern {
      # A route's own path and its form under /v1/ledgers/*: one rule.
      values = each.value.alb_path_patterns
    }
  }

  condition {
    http_request_method {
      values = [each.value.method]
    }
  }

  condition {
    http_header {
      http_header_name = "X-Origin-Verify"
      values           = local.origin_verify_values
    }
  }

  tags = { Name = "${var.name_prefix}-${each.key}" }

  lifecycle {
    precondition {
      # ALB's quota: five condition values per rule.
      condition     = length(each.value.alb_path_patterns) + 1 + length(local.origin_verify_values) <= 5
      error_message = "A listener rule carries at most five condition values (paths, method, origin-secret values)."
    }
  }
}

# Everything else that came through CloudFront goes to the fallback function
# (problem+json 404, or 405 with Allow).
# With EKS, weighted like the routes (the server answers unknown routes the
# same way), so eks_weight = 100 leaves no request on Lambda.
resource "aws_lb_listener_rule" "fallback" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 50000

  action {
    type             = "forward"
    target_group_arn = var.eks_enabled ? null : aws_lb_target_group.fn[local.fallback_function].arn

    dynamic "forward" {
      for_each = var.eks_enabled ? [1] : []

      content {
        target_group {
          arn    = aws_lb_target_group.fn[local.fallback_function].arn
          weight = local.lambda_weight
        }

        target_group {
          arn    = aws_lb_target_group.eks[0].arn
          weight = var.eks_weight
        }
      }
    }
  }

  condition {
    http_header {
      http_header_name = "X-Origin-Verify"
      values           = local.origin_verify_values
    }
  }

  tags = { Name = "${var.name_prefix}-${local.fallback_function}" }

  lifecycle {
    precondition {
      condition     = var.eks_enabled || var.eks_weight == 0
      error_message = "eks_weight > 0 needs eks_enabled = true."
    }
  }
}

# ------------------------------------------------- purge-idempotency schedule

resource "aws_cloudwatch_event_rule" "purge" {
  name                = "${var.name_prefix}-purge-idempotency"
  description         = "Deletes idempotency keys older than 24 h"
  schedule_expression = var.purge_schedule

  lifecycle {
    precondition {
      condition     = contains(local.direct_functions, local.purge_function)
      error_message = "routes.json direct_functions must list purge-idempotency."
    }
  }
}

resource "aws_cloudwatch_event_target" "purge" {
  rule      = aws_cloudwatch_event_rule.purge.name
  target_id = local.purge_function
  arn       = aws_lambda_alias.live[local.purge_function].arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 2
  }
}

resource "aws_lambda_permission" "purge" {
  statement_id  = "AllowInvokeFromEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[local.purge_function].function_name
  qualifier     = aws_lambda_alias.live[local.purge_function].name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.purge.arn
}

# Observability: CloudWatch alarms on every part of the request path, all
# notifying one KMS-encrypted SNS topic (optionally e-mailed).
#
#   Lambda        Errors and Throttles of every function
#   ALB           HTTPCode_ELB_5XX_Count (the ALB itself failed: no healthy
#                 target, Lambda invoke error...) and HTTPCode_Target_5XX_Count
#                 (the functions answered 5xx: 503 on a database timeout...)
#   RDS           CPUUtilization, DatabaseConnections
#   RDS Proxy     ClientConnections
#   ElastiCache   DatabaseMemoryUsagePercentage of every node
#   SQS           messages in the dead-letter queue (failed purges)

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]
}

# ---------------------------------------------------------------- SNS topic

module "sns_kms" {
  source = "../kms_key"

  description = "${var.name_prefix} alarm topic"
  name_prefix = var.name_prefix
  owner       = "observability"
  purpose     = "alarms"
  service_principals = {
    # CloudWatch alarms publish to the encrypted topic.
    CloudWatchAlarmsPublish = {
      service = "cloudwatch.amazonaws.com"
      actions = ["kms:Decrypt", "kms:GenerateDataKey*"]
    }
  }
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = module.sns_kms.arn
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# ------------------------------------------------------------------- Lambda

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = var.function_names

  alarm_name          = "${each.value}-errors"
  alarm_description   = "${each.key}: invocations that ended in an error (crash, timeout, unhandled error)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.lambda_error_threshold
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  for_each = var.function_names

  alarm_name          = "${each.value}-throttles"
  alarm_description   = "${each.key}: invocations refused for lack of (reserved) concurrency"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# ---------------------------------------------------------------------- ALB

resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  for_each = toset(["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"])

  alarm_name          = "${var.name_prefix}-alb-${each.key}"
  alarm_description   = "ALB ${each.key} over ${var.alb_5xx_threshold} in 5 minutes"
  namespace           = "AWS/ApplicationELB"
  metric_name         = each.key
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alb_5xx_threshold
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# ---------------------------------------------------------------------- RDS

resource "aws_cloudwatch_metric_alarm" "rds_cpu" {
  alarm_name          = "${var.name_prefix}-rds-cpu"
  alarm_description   = "RDS CPU above ${var.rds_cpu_threshold}% for 15 minutes"
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = { DBInstanceIdentifier = var.db_instance_identifier }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.rds_cpu_threshold
  treat_missing_data  = "breaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "rds_connections" {
  alarm_name          = "${var.name_prefix}-rds-connections"
  alarm_description   = "Connections to the DB instance above ${var.rds_connections_threshold} (the proxy multiplexes; growth means pinning or leaks)"
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  dimensions          = { DBInstanceIdentifier = var.db_instance_identifier }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.rds_connections_threshold
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "proxy_client_connections" {
  alarm_name          = "${var.name_prefix}-rds-proxy-client-connections"
  alarm_description   = "Client connections to the RDS Proxy above ${var.proxy_client_connections_threshold}"
  namespace           = "AWS/RDS"
  metric_name         = "ClientConnections"
  dimensions          = { ProxyName = var.db_proxy_name }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.proxy_client_connections_threshold
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# -------------------------------------------------------------- ElastiCache

resource "aws_cloudwatch_metric_alarm" "redis_memory" {
  for_each = toset(var.redis_member_cluster_ids)

  alarm_name          = "${each.value}-memory"
  alarm_description   = "Redis node ${each.value} memory above ${var.redis_memory_threshold}% (volatile-lru evicts cached entries; generation counters have no TTL and are never evicted)"
  namespace           = "AWS/ElastiCache"
  metric_name         = "DatabaseMemoryUsagePercentage"
  dimensions          = { CacheClusterId = each.value }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.redis_memory_threshold
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# ---------------------------------------------------------------------- SQS

resource "aws_cloudwatch_metric_alarm" "dlq" {
  alarm_name          = "${var.name_prefix}-lambda-dlq-not-empty"
  alarm_description   = "Failed asynchronous invocations (purge-idempotency) in the dead-letter queue"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.dead_letter_queue_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

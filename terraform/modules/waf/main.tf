# A WAFv2 web ACL with AWS managed rules and a per-IP rate limit, logging to
# a KMS-encrypted CloudWatch log group. Used twice by the edge module: scope
# CLOUDFRONT (provider in us-east-1) for the distribution, scope REGIONAL for
# the ALB.
#
# Managed rule groups, in order:
#   10 AWSManagedRulesCommonRuleSet        (OWASP-style generic protections)
#   20 AWSManagedRulesKnownBadInputsRuleSet (Log4j/Log4Shell, exploitable paths)
#   30 AWSManagedRulesSQLiRuleSet           (SQL injection)
#
# A few BODY rules are set to Count instead of Block (they still label and
# show in metrics and logs). Request bodies of this API are JSON or CSV
# records whose free text (merchant, description, tags, CSV cells) the API
# validates itself (types, lengths, 422 on anything malformed) and stores
# exactly as sent with parameterised SQL only, never concatenated into a
# query, never used as a path or URL, and never rendered as HTML (responses
# are application/json, problem+json or text/csv). So text that looks like
# an attack is legal data here and must not be refused:
#
#   SizeRestrictions_BODY (common)  blocks bodies over 8 KB. POST
#       /v1/expenses/import takes CSV up to 1 MiB, and one expense with a
#       2000-character description in a non-Latin script exceeds 8 KB. The
#       API answers 413 over 1 MiB itself (and the ALB caps Lambda bodies at
#       1 MB).
#   CrossSiteScripting_BODY (common)  "<b>team lunch</b>" or "<script>" in a
#       description is text the API stores and returns as a JSON string; it
#       never produces HTML.
#   SQLi_BODY, SQLiExtendedPatterns_BODY (SQLi)  a merchant called
#       "Bobby'); DROP TABLE expenses;--" or "O'Brien's -- bar" is legal text;
#       every statement is parameterised (DESIGN.md: "SQL is parameterised,
#       always").
#
# Everything else stays Block, including the SQLi/XSS rules on query
# arguments, cookies and the URI path (the only free-text query parameter is
# the `q` search filter, where an injection-looking search can be retried).

locals {
  # The web ACL's name, e.g. expense-prod-cloudfront.
  name          = "${var.name_prefix}-${var.instance}"
  metric_prefix = replace(local.name, "/[^A-Za-z0-9_-]/", "-")
}

resource "aws_wafv2_web_acl" "this" {
  name        = local.name
  description = "${local.name}: AWS managed rules and a per-IP rate limit"
  scope       = var.scope

  default_action {
    allow {}
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 0

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit                 = var.rate_limit
        evaluation_window_sec = 300
        aggregate_key_type    = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.metric_prefix}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-common"
    priority = 10

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesCommonRuleSet"
        vendor_name = "AWS"

        # CSV import up to 1 MiB and long multi-byte descriptions; see above.
        rule_action_override {
          name = "SizeRestrictions_BODY"

          action_to_use {
            count {}
          }
        }

        # Markup in free text is data, returned only inside JSON; see above.
        rule_action_override {
          name = "CrossSiteScripting_BODY"

          action_to_use {
            count {}
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.metric_prefix}-common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-known-bad-inputs"
    priority = 20

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.metric_prefix}-known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-sqli"
    priority = 30

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesSQLiRuleSet"
        vendor_name = "AWS"

        # SQL-looking text in a JSON/CSV body is legal data stored through
        # parameterised statements; see above.
        rule_action_override {
          name = "SQLi_BODY"

          action_to_use {
            count {}
          }
        }

        rule_action_override {
          name = "SQLiExtendedPatterns_BODY"

          action_to_use {
            count {}
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.metric_prefix}-sqli"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = local.metric_prefix
    sampled_requests_enabled   = true
  }
}

# ------------------------------------------------------------------ logging

module "logs_kms" {
  source = "../kms_key"

  description           = "${local.name} WAF logs"
  name_prefix           = var.name_prefix
  owner                 = "waf-${var.instance}"
  purpose               = "logs"
  allow_cloudwatch_logs = true
}

# WAF requires the aws-waf-logs- prefix. WAF adds the statement it needs to
# the account's CloudWatch Logs resource policy itself when logging is
# enabled, so no aws_cloudwatch_log_resource_policy is created here (the
# account has only 10 of those per region).
resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention comes from var.log_retention_days: 365 in prod, shorter in dev/staging to bound cost.

  name              = "aws-waf-logs-${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.logs_kms.arn
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.this.arn]

  # Never log bearer tokens or the origin secret.
  dynamic "redacted_fields" {
    for_each = var.redacted_headers

    content {
      single_header {
        name = redacted_fields.value
      }
    }
  }
}

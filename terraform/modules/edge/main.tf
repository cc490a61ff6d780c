# Edge: CloudFront in front of the ALB, a WAFv2 web ACL on each.
#
#   viewer --TLS 1.2+--> CloudFront (WAF, scope CLOUDFRONT, per-IP rate limit)
#          --TLS 1.2, X-Origin-Verify: <secret>--> ALB (WAF, scope REGIONAL)
#
# The ALB's security groups admit only CloudFront's origin-facing prefix list,
# but any CloudFront distribution (someone else's too) comes from those
# addresses, so the ALB also requires the secret X-Origin-Verify header that
# only this distribution adds (api module: every listener rule matches it,
# the default action is a 403).
#
# CloudFront connects to the origin by var.origin_domain_name (e.g.
# origin.api.example.com, an alias record to the ALB) and validates the ALB
# certificate against that name, so the ALB certificate must cover it. Set
# route53_zone_id to have the alias records created here.
#
# Rotating the X-Origin-Verify secret without dropping requests:
#   1. set origin_verify_secret_previous = <current value> and
#      origin_verify_secret = <new value>, apply: the ALB now accepts both,
#      CloudFront starts sending the new one as its update deploys;
#   2. when the distribution shows Deployed (aws cloudfront wait
#      distribution-deployed --id <id>), set origin_verify_secret_previous =
#      null and apply again: the old value stops working.
# Generate values with e.g. `openssl rand -hex 32`; keep them in the
# pipeline's secret store (TF_VAR_origin_verify_secret), never in a file.
#
# Caching is disabled everywhere: every response is per user and behind a
# bearer token. With CachingDisabled, the AllViewerExceptHostHeader origin
# request policy forwards every viewer header including Authorization (Host
# is the origin's own name, which the TLS check needs).

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  origin_id  = "alb"
}

# ---------------------------------------------------------------------- WAF

# The ALB sees CloudFront edge servers as its clients, so its rate limit is a
# per-edge backstop (var.alb_rate_limit); the per-viewer-IP limit is the one
# in the CloudFront ACL.
module "waf_regional" {
  source = "../waf"

  name_prefix        = var.name_prefix
  instance           = "alb"
  scope              = "REGIONAL"
  rate_limit         = var.alb_rate_limit
  redacted_headers   = ["authorization", "x-origin-verify"]
  log_retention_days = var.log_retention_days
}

resource "aws_wafv2_web_acl_association" "alb" {
  resource_arn = var.alb_arn
  web_acl_arn  = module.waf_regional.web_acl_arn
}

module "waf_cloudfront" {
  source = "../waf"
  providers = {
    aws = aws.us_east_1
  }

  name_prefix        = var.name_prefix
  instance           = "cloudfront"
  scope              = "CLOUDFRONT"
  rate_limit         = var.rate_limit
  redacted_headers   = ["authorization"]
  log_retention_days = var.log_retention_days
}

# ------------------------------------------------------- managed policies

data "aws_cloudfront_cache_policy" "caching_disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

resource "aws_cloudfront_response_headers_policy" "security" {
  name    = "${var.name_prefix}-security-headers"
  comment = "Security headers for a JSON API"

  security_headers_config {
    # preload only takes effect once the apex domain is submitted to the
    # browsers' preload list; on the API host alone it is harmless.
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "no-referrer"
      override        = true
    }

    # An API never needs to load anything in a browser.
    content_security_policy {
      content_security_policy = "default-src 'none'; frame-ancestors 'none'"
      override                = true
    }
  }

  remove_headers_config {
    items {
      header = "Server"
    }
  }
}

# ------------------------------------------------- access log bucket (S3)

module "logs_kms" {
  source = "../kms_key"

  description = "${var.name_prefix} CloudFront access logs"
  name_prefix = var.name_prefix
  owner       = "edge"
  purpose     = "cloudfront-logs"
  service_principals = {
    # CloudFront standard logging writes through the log delivery service.
    CloudFrontLogDelivery = {
      service = "delivery.logs.amazonaws.com"
      actions = ["kms:GenerateDataKey*", "kms:Decrypt"]
    }
  }
}

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This bucket is the access-log sink itself; logging it would need yet another bucket.
  #checkov:skip=CKV_AWS_144:Access logs are kept in one region; cross-region replication is not needed for them.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of log objects.

  bucket        = "${var.name_prefix}-cloudfront-logs-${local.account_id}"
  force_destroy = var.force_destroy_log_bucket
}

# CloudFront standard logging writes with an ACL grant to its log delivery
# account, so ACLs must stay enabled on this bucket (BucketOwnerPreferred:
# this account still owns every object).
resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard logging requires ACLs on the target bucket (it grants its awslogsdelivery account through an ACL).

  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket = aws_s3_bucket.logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.logs_kms.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

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

data "aws_iam_policy_document" "logs_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.logs.arn,
      "${aws_s3_bucket.logs.arn}/*",
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

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# ------------------------------------------------------------- distribution

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_310:There is a single origin (the ALB, itself spread over three AZs); an origin group needs a second origin to fail over to.
  #checkov:skip=CKV_AWS_305:An API has no root document; GET / is answered by the fallback function (404 problem+json).
  #checkov:skip=CKV2_AWS_46:The only origin is the ALB (custom_origin_config); the S3 bucket linked to this distribution is its access-log target, not an origin.
  #checkov:skip=CKV_AWS_374:The API serves users in every country; no geo restriction by design.

  enabled         = true
  is_ipv6_enabled = true
  http_version    = "http2and3"
  comment         = "${var.name_prefix} expense tracker API"
  aliases         = var.aliases
  price_class     = var.price_class
  web_acl_id      = module.waf_cloudfront.web_acl_arn

  origin {
    origin_id   = local.origin_id
    domain_name = var.origin_domain_name

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_read_timeout      = 30 # above the 15 s Lambda timeout
      origin_keepalive_timeout = 5
    }

    custom_header {
      name  = "X-Origin-Verify"
      value = var.origin_verify_secret
    }
  }

  default_cache_behavior {
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "https-only" # an API client must not follow a redirect with its token over plain HTTP
    allowed_methods            = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_disabled.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
  }

  # Explicit for the API paths, so a future cached path (e.g. /openapi.json)
  # can get its own behavior without touching /v1/*.
  ordered_cache_behavior {
    path_pattern               = "/v1/*"
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_disabled.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
      locations        = []
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.cloudfront_certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  logging_config {
    bucket          = aws_s3_bucket.logs.bucket_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  depends_on = [
    aws_s3_bucket_ownership_controls.logs,
    aws_s3_bucket_policy.logs,
  ]
}

# ------------------------------------------------------------ DNS (optional)

resource "aws_route53_record" "alias_a" {
  for_each = var.route53_zone_id == null ? toset([]) : toset(var.aliases)

  zone_id = var.route53_zone_id
  name    = each.value
  type    = "A"

  alias {
    name                   = aws_cloudfront_distribution.this.domain_name
    zone_id                = aws_cloudfront_distribution.this.hosted_zone_id
    evaluate_target_health = false
  }
}

resource "aws_route53_record" "alias_aaaa" {
  for_each = var.route53_zone_id == null ? toset([]) : toset(var.aliases)

  zone_id = var.route53_zone_id
  name    = each.value
  type    = "AAAA"

  alias {
    name                   = aws_cloudfront_distribution.this.domain_name
    zone_id                = aws_cloudfront_distribution.this.hosted_zone_id
    evaluate_target_health = false
  }
}

resource "aws_route53_record" "origin" {
  count = var.route53_zone_id == null ? 0 : 1

  zone_id = var.route53_zone_id
  name    = var.origin_domain_name
  type    = "A"

  alias {
    name                   = var.alb_dns_name
    zone_id                = var.alb_zone_id
    evaluate_target_health = true
  }
}

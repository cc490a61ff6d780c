variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"expense-prod\"."
  type        = string
}

variable "alb_arn" {
  description = "ARN of the ALB (regional WAF association)."
  type        = string
}

variable "alb_dns_name" {
  description = "DNS name of the ALB (target of the origin alias record)."
  type        = string
}

variable "alb_zone_id" {
  description = "Route 53 zone id of the ALB (for the origin alias record)."
  type        = string
}

variable "origin_domain_name" {
  description = "Host name CloudFront connects to: resolves to the ALB and is covered by the ALB's certificate (e.g. origin.api.example.com)."
  type        = string
}

variable "aliases" {
  description = "Public host names of the API (CNAMEs of the distribution), covered by cloudfront_certificate_arn."
  type        = list(string)

  validation {
    condition     = length(var.aliases) > 0
    error_message = "At least one alias is needed (the distribution uses the ACM certificate, SNI only)."
  }
}

variable "cloudfront_certificate_arn" {
  description = "ACM certificate in us-east-1 covering var.aliases."
  type        = string

  validation {
    condition     = can(regex("^arn:[^:]+:acm:us-east-1:", var.cloudfront_certificate_arn))
    error_message = "CloudFront needs an ACM certificate in us-east-1."
  }
}

variable "origin_verify_secret" {
  description = "Value of the X-Origin-Verify header CloudFront sends to the ALB (see the rotation procedure in main.tf)."
  type        = string
  sensitive   = true
}

variable "rate_limit" {
  description = "Requests per 5 minutes from one viewer IP before CloudFront's WAF blocks it."
  type        = number
  default     = 2000
}

variable "alb_rate_limit" {
  description = "Requests per 5 minutes from one CloudFront edge server before the ALB's WAF blocks it (a backstop)."
  type        = number
  default     = 20000
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"
}

variable "log_retention_days" {
  description = "Retention of the WAF log groups."
  type        = number
  default     = 365
}

variable "access_log_retention_days" {
  description = "Days CloudFront access logs are kept in S3."
  type        = number
  default     = 90
}

variable "force_destroy_log_bucket" {
  description = "Let terraform destroy the access log bucket with its objects (dev only)."
  type        = bool
  default     = false
}

variable "route53_zone_id" {
  description = "Hosted zone in which to create the alias records (aliases -> CloudFront, origin_domain_name -> ALB); null to manage DNS elsewhere."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "The environment's name prefix, e.g. \"expense-prod\"."
  type        = string
}

variable "instance" {
  description = "What this web ACL protects, unique within the environment (\"alb\", \"cloudfront\"): the ACL is named <name_prefix>-<instance>, its log group aws-waf-logs-<name_prefix>-<instance>, its log key alias/<name_prefix>/waf-<instance>/logs."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.instance))
    error_message = "instance must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "scope" {
  description = "REGIONAL (ALB, any region) or CLOUDFRONT (provider must be us-east-1)."
  type        = string

  validation {
    condition     = contains(["REGIONAL", "CLOUDFRONT"], var.scope)
    error_message = "scope must be REGIONAL or CLOUDFRONT."
  }
}

variable "rate_limit" {
  description = "Requests per 5 minutes from one source IP before it is blocked (behind CloudFront, the regional ACL sees CloudFront edge servers as sources)."
  type        = number
  default     = 2000

  validation {
    condition     = var.rate_limit >= 10
    error_message = "rate_limit must be at least 10 (the WAF minimum)."
  }
}

variable "redacted_headers" {
  description = "Request headers (lower case) replaced by REDACTED in the logs."
  type        = list(string)
  default     = ["authorization"]
}

variable "log_retention_days" {
  description = "Retention of the WAF log group."
  type        = number
  default     = 365
}

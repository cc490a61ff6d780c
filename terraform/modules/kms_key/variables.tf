variable "description" {
  description = "Description of the key: what it encrypts."
  type        = string
}

variable "alias_name" {
  description = "Alias of the key without the \"alias/\" prefix, e.g. \"expense-prod-database\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_-]{1,250}$", var.alias_name)) && !startswith(var.alias_name, "aws/") && !startswith(var.alias_name, "alias/")
    error_message = "alias_name must be letters, digits, /, _ and -, without the alias/ prefix, and not start with aws/."
  }
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs of this region use the key for the log groups of this account (statement CloudWatchLogsUse)."
  type        = bool
  default     = false
}

variable "service_principals" {
  description = "Statement Sid => AWS service principal (e.g. \"cloudwatch.amazonaws.com\") and the KMS actions it may perform, on behalf of this account only (aws:SourceAccount)."
  type = map(object({
    service = string
    actions = list(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for sid, p in var.service_principals : can(regex("^[A-Za-z0-9]+$", sid)) && endswith(p.service, ".amazonaws.com") && length(p.actions) > 0 && alltrue([for a in p.actions : startswith(a, "kms:") && a != "kms:*"])])
    error_message = "service_principals: alphanumeric Sids, *.amazonaws.com services and at least one kms: action each (not kms:*)."
  }
}

variable "deletion_window_in_days" {
  description = "Days a deleted key can still be restored (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

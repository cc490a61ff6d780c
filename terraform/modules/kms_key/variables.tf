variable "description" {
  description = "Description of the key: what it encrypts."
  type        = string
}

# The alias is built here, never by the caller: alias/<name_prefix>/<owner>/<purpose>.
# Each module passes its own name as owner (a module used more than once
# passes its instance too, e.g. "waf-cloudfront") and a purpose unique within
# it, so two modules can only meet on an alias if they claim the same owner.

variable "name_prefix" {
  description = "The environment's name prefix (modules/stack var.name_prefix), e.g. \"expense-prod\": first segment of the alias."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,26}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-28 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "owner" {
  description = "The module that owns the key, as named under terraform/modules (e.g. \"database\"); a module instantiated more than once adds its instance (e.g. \"waf-cloudfront\"). Second segment of the alias."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.owner))
    error_message = "owner must be lowercase letters, digits and hyphens (no /), starting with a letter."
  }
}

variable "purpose" {
  description = "What the key encrypts, unique within its owner (e.g. \"logs\", \"data\"). Last segment of the alias."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.purpose))
    error_message = "purpose must be lowercase letters, digits and hyphens (no /), starting with a letter."
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

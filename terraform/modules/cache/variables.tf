variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"expense-prod\" (the replication group id is \"<prefix>-redis\", 40 characters at most)."
  type        = string
}

variable "database_subnet_ids" {
  description = "Database subnets (network module) for the cache subnet group."
  type        = list(string)
}

variable "redis_security_group_id" {
  description = "Security group of the replication group (ingress 6379 from the application tier only)."
  type        = string
}

variable "engine_version" {
  description = "Redis engine version (7.x)."
  type        = string
  default     = "7.1"

  validation {
    condition     = startswith(var.engine_version, "7.")
    error_message = "engine_version must be a Redis 7.x version (parameter group family redis7)."
  }
}

variable "node_type" {
  description = "Cache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "num_cache_clusters" {
  description = "Nodes in the replication group: 1 primary + (n-1) replicas (2+ with automatic_failover)."
  type        = number
  default     = 2
}

variable "automatic_failover" {
  description = "Automatic failover and Multi-AZ (true in staging/prod; needs 2+ nodes)."
  type        = bool
  default     = true
}

variable "auth_token_update_strategy" {
  description = "How a new AUTH token is applied: ROTATE (old and new both valid) or SET (only the new one). See the rotation note in main.tf."
  type        = string
  default     = "ROTATE"

  validation {
    condition     = contains(["ROTATE", "SET"], var.auth_token_update_strategy)
    error_message = "auth_token_update_strategy must be ROTATE or SET."
  }
}

variable "snapshot_retention_days" {
  description = "Days of daily snapshots kept (0 disables)."
  type        = number
  default     = 7
}

variable "apply_immediately" {
  description = "Apply modifications now instead of in the maintenance window."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the slow-log and engine-log groups."
  type        = number
  default     = 365
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once)."
  type        = number
  default     = 7
}

variable "auth_token_version" {
  description = "Generation of the AUTH token: raising it makes a new token (see the rotation note in main.tf)."
  type        = number
  default     = 1
}

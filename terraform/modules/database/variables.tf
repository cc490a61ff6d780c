variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"expense-prod\"."
  type        = string
}

variable "database_subnet_ids" {
  description = "Database subnets (network module) for the DB subnet group and the proxy."
  type        = list(string)
}

variable "rds_security_group_id" {
  description = "Security group of the DB instance (ingress only from the proxy)."
  type        = string
}

variable "rds_proxy_security_group_id" {
  description = "Security group of the RDS Proxy."
  type        = string
}

variable "instance_class" {
  description = "DB instance class (Performance Insights needs db.t4g.medium or larger)."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20
}

variable "max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 100
}

variable "multi_az" {
  description = "Standby in a second AZ (true in staging/prod)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Protect the instance from deletion (true in staging/prod)."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Skip the final snapshot on destroy (dev only)."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days of automated backups (7+ in prod)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35."
  }
}

variable "monitoring_interval" {
  description = "Enhanced monitoring interval in seconds (1, 5, 10, 15, 30 or 60)."
  type        = number
  default     = 60
}

variable "apply_immediately" {
  description = "Apply modifications now instead of in the maintenance window."
  type        = bool
  default     = false
}

variable "database_name" {
  description = "Schema created with the instance."
  type        = string
  default     = "expenses"
}

variable "master_username" {
  description = "Master user name (its password is managed by RDS in Secrets Manager)."
  type        = string
  default     = "expense_admin"
}

variable "app_username" {
  description = "Data-only MySQL user of the application."
  type        = string
  default     = "expense_app"
}

variable "migrator_username" {
  description = "MySQL user that applies schema migrations."
  type        = string
  default     = "expense_migrator"
}

variable "proxy_max_connections_percent" {
  description = "Share of max_connections the proxy may open."
  type        = number
  default     = 90
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once)."
  type        = number
  default     = 7
}

variable "password_version" {
  description = "Generation of the app and migrator users' passwords: raising it writes new ones to their secrets; then run migrate, which sets them on the MySQL users."
  type        = number
  default     = 1
}

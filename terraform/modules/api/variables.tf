variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"expense-prod\"."
  type        = string
}

variable "routes_file" {
  description = "Path of routes.json (generated from the route table); null means <repo>/routes.json as seen from terraform/envs/<env>."
  type        = string
  default     = null
}

variable "package_dir" {
  description = "Directory of cargo lambda's output: every function runs <package_dir>/bootstrap/bootstrap.zip; null means <repo>/target/lambda as seen from terraform/envs/<env>."
  type        = string
  default     = null
}

# ------------------------------------------------------------------ network

variable "public_subnet_ids" {
  description = "Public subnets of the ALB."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Private subnets of the Lambda ENIs."
  type        = list(string)
}

variable "vpc_id" {
  description = "VPC of the EKS target group (ip targets); needed when eks_enabled = true."
  type        = string
  default     = null
}

variable "alb_security_group_ids" {
  description = "Security groups of the ALB (security module)."
  type        = list(string)
}

variable "lambda_security_group_id" {
  description = "Security group of the functions (security module)."
  type        = string
}

# ----------------------------------------------------------------- database

variable "db_proxy_endpoint" {
  description = "Host name of the RDS Proxy."
  type        = string
}

variable "db_proxy_resource_id" {
  description = "Resource id of the RDS Proxy (prx-...), for rds-db:connect ARNs."
  type        = string
}

variable "database_name" {
  description = "MySQL schema of the application."
  type        = string
  default     = "expenses"
}

variable "db_app_username" {
  description = "MySQL user of the request functions (data only)."
  type        = string
  default     = "expense_app"
}

variable "db_migrator_username" {
  description = "MySQL user of the migrate function (schema changes)."
  type        = string
  default     = "expense_migrator"
}

variable "db_master_username" {
  description = "MySQL master user (the migrate function's bootstrap only)."
  type        = string
}

variable "db_app_secret_arn" {
  description = "Secret of the application MySQL user (read by migrate only)."
  type        = string
}

variable "db_migrator_secret_arn" {
  description = "Secret of the migration MySQL user (read by migrate only)."
  type        = string
}

variable "db_master_secret_arn" {
  description = "RDS-managed secret of the master user (read by migrate only)."
  type        = string
}

variable "db_kms_key_arn" {
  description = "KMS key of the database secrets."
  type        = string
}

# -------------------------------------------------------------------- cache

variable "redis_primary_endpoint" {
  description = "Primary endpoint host name of the Redis replication group."
  type        = string
}

variable "redis_auth_secret_arn" {
  description = "Secret holding the Redis AUTH token."
  type        = string
}

variable "redis_kms_key_arn" {
  description = "KMS key of the Redis AUTH secret."
  type        = string
}

# --------------------------------------------------------------------- auth

variable "jwt_jwks_url" {
  description = "JWKS URL of the token issuer, e.g. https://cognito-idp.us-east-1.amazonaws.com/<pool-id>/.well-known/jwks.json."
  type        = string

  validation {
    condition     = startswith(var.jwt_jwks_url, "https://")
    error_message = "jwt_jwks_url must be an https:// URL."
  }
}

variable "jwt_issuer" {
  description = "Expected `iss` of tokens (e.g. https://cognito-idp.us-east-1.amazonaws.com/<pool-id>), or null to skip the check."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Expected `aud` of tokens (e.g. the Cognito app client id), or null to skip the check."
  type        = string
  default     = null
}

# ---------------------------------------------------------------- functions

variable "lambda_memory_mb" {
  description = "Memory of every function in MB."
  type        = number
  default     = 256
}

variable "lambda_timeout_seconds" {
  description = "Timeout of the request functions: above the 2 s connect + 5 s statement budget."
  type        = number
  default     = 15
}

variable "migrate_timeout_seconds" {
  description = "Timeout of the migrate function (schema changes can take longer than a request)."
  type        = number
  default     = 300
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of each request function (-1: none). migrate and purge-idempotency always get 1."
  type        = number
  default     = 10
}

variable "log_level" {
  description = "RUST_LOG of every function."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups."
  type        = number
  default     = 365
}

variable "purge_schedule" {
  description = "EventBridge schedule of purge-idempotency."
  type        = string
  default     = "rate(1 hour)"
}

# ---------------------------------------------------------------------- ALB

variable "certificate_arn" {
  description = "ACM certificate (in this region) of the HTTPS listener; must cover domain_name."
  type        = string
}

variable "domain_name" {
  description = "Host name CloudFront uses to reach the ALB (an alias record to the ALB, e.g. origin.api.example.com), covered by certificate_arn."
  type        = string
}

variable "origin_verify_secret" {
  description = "Value of the X-Origin-Verify header CloudFront adds; every listener rule requires it. Letters and digits only (ALB treats * and ? as wildcards), 32-128 characters."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9]{32,128}$", var.origin_verify_secret))
    error_message = "origin_verify_secret must be 32-128 letters and digits."
  }
}

variable "origin_verify_secret_previous" {
  description = "During a rotation only: the previous header value, still accepted until CloudFront sends the new one everywhere. Null otherwise."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.origin_verify_secret_previous == null || can(regex("^[A-Za-z0-9]{32,128}$", coalesce(var.origin_verify_secret_previous, "x")))
    error_message = "origin_verify_secret_previous must be null or 32-128 letters and digits."
  }
}

variable "alb_deletion_protection" {
  description = "Protect the ALB from deletion (true in staging/prod)."
  type        = bool
  default     = true
}

variable "access_log_retention_days" {
  description = "Days ALB access logs are kept in S3."
  type        = number
  default     = 90
}

variable "force_destroy_log_bucket" {
  description = "Let terraform destroy the access log bucket with its objects (dev only)."
  type        = bool
  default     = false
}

variable "pinned_versions" {
  description = "Function name => version the live alias keeps (scripts/deploy.sh sets it while new versions are published); functions not named follow their latest version."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------- EKS

variable "eks_enabled" {
  description = "Create the target group of the EKS `server` pods and forward every listener rule to a weighted pair (Lambda / EKS)."
  type        = bool
  default     = false
}

variable "eks_weight" {
  description = "Percentage (0-100) of each rule's requests sent to the EKS target group; the rest goes to the route's Lambda function. Only with eks_enabled = true."
  type        = number
  default     = 0

  validation {
    condition     = var.eks_weight >= 0 && var.eks_weight <= 100 && floor(var.eks_weight) == var.eks_weight
    error_message = "eks_weight must be a whole number from 0 to 100."
  }
}

variable "eks_port" {
  description = "Port of the `server` pods (the security module's eks_node_port)."
  type        = number
  default     = 8080
}

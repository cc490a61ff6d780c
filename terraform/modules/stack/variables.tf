# ------------------------------------------------------------ user inputs
# Filled per environment from its terraform.tfvars (envs/<env>/variables.tf
# declares the same names and passes them through unchanged).

variable "domain_name" {
  description = "Public host name of the API, served by CloudFront (e.g. api.example.com)."
  type        = string
}

variable "origin_domain_name" {
  description = "Host name CloudFront uses to reach the ALB (e.g. origin.api.example.com); an alias record to the ALB, covered by alb_certificate_arn."
  type        = string
}

variable "alb_certificate_arn" {
  description = "ACM certificate in aws_region covering origin_domain_name (the ALB's HTTPS listener)."
  type        = string
}

variable "cloudfront_certificate_arn" {
  description = "ACM certificate in us-east-1 covering domain_name (may be the same as alb_certificate_arn, e.g. a wildcard)."
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone to create the alias records in (domain_name -> CloudFront, origin_domain_name -> ALB); null if DNS is managed elsewhere."
  type        = string
  default     = null
}

variable "origin_verify_secret" {
  description = "Secret X-Origin-Verify header value shared by CloudFront and the ALB: 32-128 letters and digits (openssl rand -hex 32). Pass as TF_VAR_origin_verify_secret."
  type        = string
  sensitive   = true
}

variable "origin_verify_secret_previous" {
  description = "Only while rotating origin_verify_secret: the previous value, still accepted by the ALB (see modules/edge/main.tf)."
  type        = string
  default     = null
  sensitive   = true
}

variable "jwt_jwks_url" {
  description = "JWKS URL of the token issuer, e.g. https://cognito-idp.us-east-1.amazonaws.com/<user-pool-id>/.well-known/jwks.json."
  type        = string
}

variable "jwt_issuer" {
  description = "Expected token issuer, e.g. https://cognito-idp.us-east-1.amazonaws.com/<user-pool-id>."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Expected token audience (e.g. the Cognito app client id)."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "E-mail address that receives the CloudWatch alarms, or null."
  type        = string
  default     = null
}

variable "enable_bastion" {
  description = "Create the SSM-only bastion (port forwarding to the RDS Proxy and Redis)."
  type        = bool
  default     = false
}

variable "enable_eks" {
  description = "Also run the API on EKS (modules/eks): the cluster, its node security group rules and a target group on the ALB. Off: none of it exists."
  type        = bool
  default     = false
}

variable "eks_weight" {
  description = "With enable_eks: percentage (0-100) of requests the ALB sends to the EKS pods instead of the Lambda functions. Raise it only once the TargetGroupBinding shows healthy targets."
  type        = number
  default     = 0
}

variable "pinned_versions" {
  description = "Passed to the api module: function name => version its live alias keeps during a deployment (scripts/deploy.sh)."
  type        = map(string)
  default     = {}
}

# ----------------------------------------------------- environment choices
# What differs between dev, staging and prod. Each envs/<env>/main.tf passes
# every one of them literally; the sizing and safety ones have no default,
# so an environment can never get them by omission.

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"expense-prod\" (the ALB is \"<prefix>-alb\", at most 32 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,26}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-28 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC, a /16 distinct per environment (dev 10.0.0.0/16, staging 10.1.0.0/16, prod 10.2.0.0/16; deploy/k8s NetworkPolicies name it too)."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && endswith(var.vpc_cidr, "/16")
    error_message = "vpc_cidr must be a valid /16 CIDR block."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway shared by all AZs (cheap; an AZ outage cuts the others' way out) instead of one per AZ."
  type        = bool
}

variable "log_retention_days" {
  description = "Retention of every CloudWatch log group: VPC flow logs, Lambda, Redis, WAF, EKS control plane."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "access_log_retention_days" {
  description = "Days the ALB and CloudFront access logs are kept in their S3 buckets."
  type        = number

  validation {
    condition     = var.access_log_retention_days >= 1 && floor(var.access_log_retention_days) == var.access_log_retention_days
    error_message = "access_log_retention_days must be a whole number of days, 1 or more."
  }
}

variable "force_destroy_log_buckets" {
  description = "Let terraform destroy the ALB and CloudFront access log buckets with their objects (disposable environments only)."
  type        = bool
}

variable "deletion_protection" {
  description = "Deletion protection on the RDS instance and the ALB."
  type        = bool
}

variable "apply_immediately" {
  description = "Apply RDS and ElastiCache modifications at once instead of in the maintenance window."
  type        = bool
}

variable "secret_recovery_window_days" {
  description = "Days a deleted Secrets Manager secret (database users, Redis AUTH token) can still be restored; 0 deletes at once."
  type        = number

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or 7-30."
  }
}

# RDS MySQL

variable "db_instance_class" {
  description = "RDS instance class (Performance Insights needs db.t4g.medium or larger)."
  type        = string

  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class must be an RDS instance class (db.*)."
  }
}

variable "db_multi_az" {
  description = "RDS standby in a second AZ."
  type        = bool
}

variable "db_skip_final_snapshot" {
  description = "Skip the final RDS snapshot on destroy (disposable environments only)."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups."
  type        = number

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

# ElastiCache Redis

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string

  validation {
    condition     = startswith(var.redis_node_type, "cache.")
    error_message = "redis_node_type must be an ElastiCache node type (cache.*)."
  }
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes: 1 primary + (n-1) replicas (2 or more with redis_automatic_failover)."
  type        = number

  validation {
    condition     = var.redis_num_cache_clusters >= 1 && var.redis_num_cache_clusters <= 6 && floor(var.redis_num_cache_clusters) == var.redis_num_cache_clusters
    error_message = "redis_num_cache_clusters must be a whole number from 1 to 6."
  }
}

variable "redis_automatic_failover" {
  description = "Redis automatic failover and Multi-AZ (needs redis_num_cache_clusters >= 2)."
  type        = bool
}

variable "redis_snapshot_retention_days" {
  description = "Days of daily Redis snapshots kept (0 disables them)."
  type        = number

  validation {
    condition     = var.redis_snapshot_retention_days >= 0 && var.redis_snapshot_retention_days <= 35
    error_message = "redis_snapshot_retention_days must be between 0 and 35."
  }
}

# Lambda

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of each request function (-1: none); migrate and purge-idempotency always get 1."
  type        = number

  validation {
    condition     = var.lambda_reserved_concurrency >= -1 && floor(var.lambda_reserved_concurrency) == var.lambda_reserved_concurrency
    error_message = "lambda_reserved_concurrency must be -1 (none) or a whole number, 0 or more."
  }
}

# EKS node group (used only with enable_eks)

variable "eks_node_instance_types" {
  description = "Instance types of the EKS managed node group (arm64 for the default AMI type)."
  type        = list(string)

  validation {
    condition     = length(var.eks_node_instance_types) > 0
    error_message = "eks_node_instance_types must name at least one instance type."
  }
}

variable "eks_node_min_size" {
  description = "Minimum number of EKS nodes."
  type        = number

  validation {
    condition     = var.eks_node_min_size >= 0 && floor(var.eks_node_min_size) == var.eks_node_min_size
    error_message = "eks_node_min_size must be a whole number, 0 or more."
  }
}

variable "eks_node_desired_size" {
  description = "EKS nodes at creation and after each apply (between eks_node_min_size and eks_node_max_size)."
  type        = number

  validation {
    condition     = var.eks_node_desired_size >= 0 && floor(var.eks_node_desired_size) == var.eks_node_desired_size
    error_message = "eks_node_desired_size must be a whole number, 0 or more."
  }
}

variable "eks_node_max_size" {
  description = "Maximum number of EKS nodes."
  type        = number

  validation {
    condition     = var.eks_node_max_size >= 1 && floor(var.eks_node_max_size) == var.eks_node_max_size
    error_message = "eks_node_max_size must be a whole number, 1 or more."
  }
}

# Credential rotation (set in an env's module "stack" block when rotating)

variable "db_password_version" {
  description = "Raise to give the MySQL app and migrator users new passwords (then run migrate)."
  type        = number
  default     = 1
}

variable "redis_auth_token_version" {
  description = "Raise to make a new Redis AUTH token (see modules/cache/main.tf)."
  type        = number
  default     = 1
}

variable "redis_auth_token_update_strategy" {
  description = "ROTATE: the old and the new AUTH token both work; SET: only the new one."
  type        = string
  default     = "ROTATE"
}

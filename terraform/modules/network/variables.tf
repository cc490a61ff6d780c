variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"expense-prod\"."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC (a /16: dev 10.0.0.0/16, staging 10.1.0.0/16, prod 10.2.0.0/16)."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && endswith(var.vpc_cidr, "/16")
    error_message = "vpc_cidr must be a valid /16 CIDR block."
  }
}

variable "availability_zones" {
  description = "Availability Zones (by name) of the three subnet tiers, e.g. [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "Give 2 or 3 distinct zones (RDS subnet groups need at least 2; the CIDR layout has room for 3)."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (cheap, dev) instead of one per AZ (prod)."
  type        = bool
  default     = false
}

variable "interface_endpoint_services" {
  description = "AWS services reached through interface VPC endpoints (S3 always gets a gateway endpoint)."
  type        = list(string)
  default     = ["secretsmanager", "sts", "kms", "logs", "xray"]
}

variable "log_retention_days" {
  description = "Retention of the VPC flow log group."
  type        = number
  default     = 365
}

variable "enable_bastion" {
  description = "Create an SSM-only bastion host in a public subnet (no inbound rules)."
  type        = bool
  default     = false
}

variable "bastion_instance_type" {
  description = "Instance type of the bastion (arm64)."
  type        = string
  default     = "t4g.nano"
}

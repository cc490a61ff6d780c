# The user inputs of this environment, filled by terraform.tfvars (see
# terraform.tfvars.example). project and aws_region configure the providers;
# the rest go to modules/stack unchanged, whose variables.tf describes them
# in full (types, defaults and `sensitive` match it).

variable "project" {
  description = "Value of the Project tag on every resource."
  type        = string
  default     = "expense-tracker"
}

variable "aws_region" {
  description = "Region of everything but the CloudFront-scoped resources (which are always in us-east-1)."
  type        = string
  default     = "us-east-1"
}

variable "domain_name" {
  description = "Public host name of the API (CloudFront), e.g. api.example.com."
  type        = string
}

variable "origin_domain_name" {
  description = "Host name CloudFront uses to reach the ALB, e.g. origin.api.example.com."
  type        = string
}

variable "alb_certificate_arn" {
  description = "ACM certificate in aws_region covering origin_domain_name."
  type        = string
}

variable "cloudfront_certificate_arn" {
  description = "ACM certificate in us-east-1 covering domain_name."
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone for the alias records, or null if DNS is managed elsewhere."
  type        = string
  default     = null
}

variable "origin_verify_secret" {
  description = "CloudFront -> ALB X-Origin-Verify value, 32-128 letters and digits. Pass as TF_VAR_origin_verify_secret."
  type        = string
  sensitive   = true
}

variable "origin_verify_secret_previous" {
  description = "Only while rotating origin_verify_secret: its previous value."
  type        = string
  default     = null
  sensitive   = true
}

variable "jwt_jwks_url" {
  description = "JWKS URL of the token issuer."
  type        = string
}

variable "jwt_issuer" {
  description = "Expected token issuer, or null."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Expected token audience, or null."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "E-mail address that receives the CloudWatch alarms, or null."
  type        = string
  default     = null
}

variable "enable_bastion" {
  description = "Create the SSM-only bastion."
  type        = bool
  default     = false
}

variable "enable_eks" {
  description = "Also run the API on EKS (modules/eks)."
  type        = bool
  default     = false
}

variable "eks_weight" {
  description = "With enable_eks: percentage (0-100) of requests sent to EKS instead of Lambda."
  type        = number
  default     = 0
}

variable "pinned_versions" {
  description = "Function name => version its live alias keeps during a deployment (scripts/deploy.sh)."
  type        = map(string)
  default     = {}
}

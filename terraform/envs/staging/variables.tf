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

# Environment "prod".
#
# Production: NAT gateway per AZ, Multi-AZ database, Redis with a replica
# per AZ and automatic failover, deletion protection, 14 days of backups, a
# year of logs.
#
# Everything is in modules/stack (the composition of the other modules,
# shared by dev, staging and prod); this root configures the providers and
# passes the environment's choices below. Region var.aws_region (3 AZs);
# CloudFront-scoped resources use the aws.us_east_1 alias. Every resource
# carries the Project and Environment tags through the providers'
# default_tags.

locals {
  environment = "prod"
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project     = var.project
      Environment = local.environment
      ManagedBy   = "terraform"
    }
  }
}

# CloudFront, its WAF web ACL and its ACM certificate live in us-east-1
# whatever the region of the rest.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = {
      Project     = var.project
      Environment = local.environment
      ManagedBy   = "terraform"
    }
  }
}

module "stack" {
  source = "../../modules/stack"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  # ---- the environment's choices (modules/stack/variables.tf)
  name_prefix                 = "expense-prod"
  vpc_cidr                    = "10.2.0.0/16"
  single_nat_gateway          = false
  log_retention_days          = 365
  access_log_retention_days   = 365
  force_destroy_log_buckets   = false
  deletion_protection         = true
  apply_immediately           = false
  secret_recovery_window_days = 30

  db_instance_class        = "db.m7g.large"
  db_multi_az              = true
  db_skip_final_snapshot   = false
  db_backup_retention_days = 14

  redis_node_type               = "cache.r7g.large"
  redis_num_cache_clusters      = 3
  redis_automatic_failover      = true
  redis_snapshot_retention_days = 7

  # 31 request-serving functions each hold up to this many proxy
  # connections: 31 x 19 + 2 = 591, within the proxy's budget of
  # about 610 (90% of a db.m7g.large's default max_connections, about 680).
  lambda_reserved_concurrency = 19

  eks_node_instance_types = ["m7g.large"]
  eks_node_min_size       = 3
  eks_node_desired_size   = 3
  eks_node_max_size       = 9

  # ---- user inputs (variables.tf, filled by terraform.tfvars)
  domain_name                   = var.domain_name
  origin_domain_name            = var.origin_domain_name
  alb_certificate_arn           = var.alb_certificate_arn
  cloudfront_certificate_arn    = var.cloudfront_certificate_arn
  route53_zone_id               = var.route53_zone_id
  origin_verify_secret          = var.origin_verify_secret
  origin_verify_secret_previous = var.origin_verify_secret_previous
  jwt_jwks_url                  = var.jwt_jwks_url
  jwt_issuer                    = var.jwt_issuer
  jwt_audience                  = var.jwt_audience
  alarm_email                   = var.alarm_email
  enable_bastion                = var.enable_bastion
  enable_eks                    = var.enable_eks
  eks_weight                    = var.eks_weight
  pinned_versions               = var.pinned_versions
}

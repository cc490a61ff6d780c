# Environment "staging".
#
# Staging: shaped like prod (NAT per AZ, Multi-AZ database, Redis failover,
# deletion protection) on smaller instances.
#
# Composition: network -> security -> database, cache -> api -> edge,
# observability; with enable_eks also eks (its security groups feed the
# security module's rules; the api module's EKS target group feeds it).
# Region us-east-1 (3 AZs); CloudFront-scoped resources use the
# aws.us_east_1 alias. Every resource carries the Project and Environment
# tags through the providers' default_tags.

locals {
  environment = "staging"
  name_prefix = "expense-staging"

  # Pinned by name so the layout never shifts when the region gains a zone.
  availability_zones = [for suffix in ["a", "b", "c"] : "${var.aws_region}${suffix}"]
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

module "network" {
  source = "../../modules/network"

  name_prefix        = local.name_prefix
  availability_zones = local.availability_zones
  vpc_cidr           = "10.1.0.0/16"
  single_nat_gateway = false
  log_retention_days = 90
  enable_bastion     = var.enable_bastion
}

module "security" {
  source = "../../modules/security"

  name_prefix                = local.name_prefix
  vpc_id                     = module.network.vpc_id
  endpoint_security_group_id = module.network.endpoint_security_group_id
  enable_bastion_access      = var.enable_bastion
  bastion_security_group_id  = module.network.bastion_security_group_id

  # The EKS groups are created in the same apply, so their ids are unknown
  # at plan time: enable_eks_access decides whether the rules exist.
  enable_eks_access             = var.enable_eks
  eks_node_security_group_id    = var.enable_eks ? module.eks[0].node_security_group_id : null
  eks_cluster_security_group_id = var.enable_eks ? module.eks[0].cluster_security_group_id : null
}

module "database" {
  source = "../../modules/database"

  name_prefix                 = local.name_prefix
  database_subnet_ids         = module.network.database_subnet_ids
  rds_security_group_id       = module.security.rds_security_group_id
  rds_proxy_security_group_id = module.security.rds_proxy_security_group_id
  instance_class              = "db.t4g.medium"
  multi_az                    = true
  deletion_protection         = true
  skip_final_snapshot         = false
  backup_retention_days       = 7
  apply_immediately           = false
  secret_recovery_window_days = 7
}

module "cache" {
  source = "../../modules/cache"

  name_prefix                 = local.name_prefix
  database_subnet_ids         = module.network.database_subnet_ids
  redis_security_group_id     = module.security.redis_security_group_id
  node_type                   = "cache.t4g.small"
  num_cache_clusters          = 2
  automatic_failover          = true
  snapshot_retention_days     = 3
  apply_immediately           = false
  log_retention_days          = 90
  secret_recovery_window_days = 7
}

module "api" {
  source = "../../modules/api"

  pinned_versions = var.pinned_versions

  name_prefix              = local.name_prefix
  vpc_id                   = module.network.vpc_id
  public_subnet_ids        = module.network.public_subnet_ids
  private_subnet_ids       = module.network.private_subnet_ids
  alb_security_group_ids   = module.security.alb_security_group_ids
  lambda_security_group_id = module.security.lambda_security_group_id

  # EKS target group, and the share of each rule's requests it gets.
  eks_enabled = var.enable_eks
  eks_weight  = var.eks_weight

  db_proxy_endpoint      = module.database.proxy_endpoint
  db_proxy_resource_id   = module.database.proxy_resource_id
  database_name          = module.database.database_name
  db_app_username        = module.database.app_username
  db_migrator_username   = module.database.migrator_username
  db_master_username     = module.database.master_username
  db_app_secret_arn      = module.database.app_secret_arn
  db_migrator_secret_arn = module.database.migrator_secret_arn
  db_master_secret_arn   = module.database.master_secret_arn
  db_kms_key_arn         = module.database.kms_key_arn

  redis_primary_endpoint = module.cache.primary_endpoint
  redis_auth_secret_arn  = module.cache.auth_secret_arn
  redis_kms_key_arn      = module.cache.kms_key_arn

  jwt_jwks_url = var.jwt_jwks_url
  jwt_issuer   = var.jwt_issuer
  jwt_audience = var.jwt_audience

  certificate_arn               = var.alb_certificate_arn
  domain_name                   = var.origin_domain_name
  origin_verify_secret          = var.origin_verify_secret
  origin_verify_secret_previous = var.origin_verify_secret_previous
  alb_deletion_protection       = true
  reserved_concurrency          = 10
  log_retention_days            = 90
  access_log_retention_days     = 90
  force_destroy_log_bucket      = false
}

# The `server` binary on EKS, behind the same ALB (off unless enable_eks).
module "eks" {
  source = "../../modules/eks"
  count  = var.enable_eks ? 1 : 0

  name_prefix             = local.name_prefix
  vpc_id                  = module.network.vpc_id
  private_subnet_ids      = module.network.private_subnet_ids
  security_group_rule_ids = module.security.eks_cluster_rule_ids

  node_instance_types = ["t4g.large"]
  node_min_size       = 3
  node_desired_size   = 3
  node_max_size       = 6
  log_retention_days  = 90

  db_proxy_resource_id   = module.database.proxy_resource_id
  db_app_username        = module.database.app_username
  db_migrator_username   = module.database.migrator_username
  db_master_username     = module.database.master_username
  db_app_secret_arn      = module.database.app_secret_arn
  db_migrator_secret_arn = module.database.migrator_secret_arn
  db_master_secret_arn   = module.database.master_secret_arn
  db_kms_key_arn         = module.database.kms_key_arn

  redis_auth_secret_arn = module.cache.auth_secret_arn
  redis_kms_key_arn     = module.cache.kms_key_arn

  target_group_arn = module.api.eks_target_group_arn
}

module "edge" {
  source = "../../modules/edge"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name_prefix                = local.name_prefix
  alb_arn                    = module.api.alb_arn
  alb_dns_name               = module.api.alb_dns_name
  alb_zone_id                = module.api.alb_zone_id
  origin_domain_name         = module.api.origin_domain_name
  aliases                    = [var.domain_name]
  cloudfront_certificate_arn = var.cloudfront_certificate_arn
  origin_verify_secret       = var.origin_verify_secret
  rate_limit                 = 2000
  route53_zone_id            = var.route53_zone_id
  log_retention_days         = 90
  access_log_retention_days  = 90
  force_destroy_log_bucket   = false
}

module "observability" {
  source = "../../modules/observability"

  name_prefix              = local.name_prefix
  function_names           = module.api.function_names
  alb_arn_suffix           = module.api.alb_arn_suffix
  db_instance_identifier   = module.database.db_instance_identifier
  db_proxy_name            = module.database.proxy_name
  redis_member_cluster_ids = module.cache.member_cluster_ids
  dead_letter_queue_name   = module.api.dead_letter_queue_name
  alarm_email              = var.alarm_email
}

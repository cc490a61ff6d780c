# Stack: the whole expense tracker in one environment, composed from the
# other modules. Each terraform/envs/<env> is a thin root that configures
# the providers and calls this module once with its own choices (sizing,
# deletion protection, retention: the variables without a default).
#
# Composition: network -> security -> database, cache -> api -> edge,
# observability; with enable_eks also eks (its security groups feed the
# security module's rules; the api module's EKS target group feeds it).
# Three AZs of the provider's region; CloudFront-scoped resources use the
# aws.us_east_1 alias. Every resource carries the Project and Environment
# tags through the providers' default_tags (set by the env).

data "aws_region" "current" {}

locals {
  # Pinned by name so the layout never shifts when the region gains a zone.
  availability_zones = [for suffix in ["a", "b", "c"] : "${data.aws_region.current.name}${suffix}"]
}

module "network" {
  source = "../network"

  name_prefix        = var.name_prefix
  availability_zones = local.availability_zones
  vpc_cidr           = var.vpc_cidr
  single_nat_gateway = var.single_nat_gateway
  log_retention_days = var.log_retention_days
  enable_bastion     = var.enable_bastion
}

module "security" {
  source = "../security"

  name_prefix                = var.name_prefix
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
  source = "../database"

  name_prefix                 = var.name_prefix
  database_subnet_ids         = module.network.database_subnet_ids
  rds_security_group_id       = module.security.rds_security_group_id
  rds_proxy_security_group_id = module.security.rds_proxy_security_group_id
  instance_class              = var.db_instance_class
  multi_az                    = var.db_multi_az
  deletion_protection         = var.deletion_protection
  skip_final_snapshot         = var.db_skip_final_snapshot
  backup_retention_days       = var.db_backup_retention_days
  apply_immediately           = var.apply_immediately
  secret_recovery_window_days = var.secret_recovery_window_days
  password_version            = var.db_password_version
}

module "cache" {
  source = "../cache"

  name_prefix                 = var.name_prefix
  database_subnet_ids         = module.network.database_subnet_ids
  redis_security_group_id     = module.security.redis_security_group_id
  node_type                   = var.redis_node_type
  num_cache_clusters          = var.redis_num_cache_clusters
  automatic_failover          = var.redis_automatic_failover
  snapshot_retention_days     = var.redis_snapshot_retention_days
  apply_immediately           = var.apply_immediately
  log_retention_days          = var.log_retention_days
  secret_recovery_window_days = var.secret_recovery_window_days
  auth_token_version          = var.redis_auth_token_version
  auth_token_update_strategy  = var.redis_auth_token_update_strategy
}

module "api" {
  source = "../api"

  pinned_versions = var.pinned_versions

  name_prefix              = var.name_prefix
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
  alb_deletion_protection       = var.deletion_protection
  reserved_concurrency          = var.lambda_reserved_concurrency
  log_retention_days            = var.log_retention_days
  access_log_retention_days     = var.access_log_retention_days
  force_destroy_log_bucket      = var.force_destroy_log_buckets
}

# The `server` binary on EKS, behind the same ALB (off unless enable_eks).
module "eks" {
  source = "../eks"
  count  = var.enable_eks ? 1 : 0

  name_prefix             = var.name_prefix
  vpc_id                  = module.network.vpc_id
  private_subnet_ids      = module.network.private_subnet_ids
  security_group_rule_ids = module.security.eks_cluster_rule_ids

  node_instance_types = var.eks_node_instance_types
  node_min_size       = var.eks_node_min_size
  node_desired_size   = var.eks_node_desired_size
  node_max_size       = var.eks_node_max_size
  log_retention_days  = var.log_retention_days

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
  source = "../edge"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name_prefix                = var.name_prefix
  alb_arn                    = module.api.alb_arn
  alb_dns_name               = module.api.alb_dns_name
  alb_zone_id                = module.api.alb_zone_id
  origin_domain_name         = module.api.origin_domain_name
  aliases                    = [var.domain_name]
  cloudfront_certificate_arn = var.cloudfront_certificate_arn
  origin_verify_secret       = var.origin_verify_secret
  rate_limit                 = 2000
  route53_zone_id            = var.route53_zone_id
  log_retention_days         = var.log_retention_days
  access_log_retention_days  = var.access_log_retention_days
  force_destroy_log_bucket   = var.force_destroy_log_buckets
}

module "observability" {
  source = "../observability"

  name_prefix              = var.name_prefix
  function_names           = module.api.function_names
  alb_arn_suffix           = module.api.alb_arn_suffix
  db_instance_identifier   = module.database.db_instance_identifier
  db_proxy_name            = module.database.proxy_name
  redis_member_cluster_ids = module.cache.member_cluster_ids
  dead_letter_queue_name   = module.api.dead_letter_queue_name
  alarm_email              = var.alarm_email
}

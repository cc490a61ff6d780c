# Cache: ElastiCache for Redis (cluster mode disabled: one primary, optional
# replicas), encrypted at rest with this module's KMS key and in transit
# (TLS, `rediss://`), with an AUTH token kept in Secrets Manager.
#
# Eviction: volatile-lru. The app keeps one generation counter per user with
# NO TTL and every cached entry WITH a TTL (at most 60 s); volatile-lru only
# ever evicts keys that have a TTL, so a counter is never evicted (evicting
# one would let a reader put an old row back under a live key).

locals {
  replication_group_id = "${var.name_prefix}-redis"
}

# ---------------------------------------------------------------------- KMS

module "kms" {
  source = "../kms_key"

  description           = "${var.name_prefix} ElastiCache at rest, its AUTH secret and its logs"
  name_prefix           = var.name_prefix
  owner                 = "cache"
  purpose               = "data"
  allow_cloudwatch_logs = true
}

# ------------------------------------------------------------- AUTH token

# ElastiCache AUTH tokens: 16-128 printable characters without / " @.
# Alphanumeric only keeps it safe in a rediss:// URL as well. Secrets
# Manager makes the token during apply; it reaches the secret through a
# write-only argument, and the replication group reads it back from there.
#
# Rotation: raise auth_token_version and apply. With
# auth_token_update_strategy = "ROTATE" the replication group accepts the
# old AND the new token, and the secret holds the new one; functions read
# the secret when a container starts, so old containers keep working. Once
# they have all been recycled (e.g. after the next deployment), apply once
# more with auth_token_update_strategy = "SET" to drop the old token.
ephemeral "aws_secretsmanager_random_password" "auth" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "auth" {
  #checkov:skip=CKV2_AWS_57:The token must change on the replication group and in the secret together (auth_token_update_strategy ROTATE); done by raising auth_token_version and applying, not by a rotation Lambda.

  name        = "${var.name_prefix}/redis/auth-token"
  description = "AUTH token of the ${local.replication_group_id} replication group (the plain token string)"
  kms_key_id  = module.kms.arn

  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "auth" {
  secret_id        = aws_secretsmanager_secret.auth.id
  secret_string_wo = ephemeral.aws_secretsmanager_random_password.auth.random_password
  # Written again (with a new token) only when this number changes.
  secret_string_wo_version = var.auth_token_version
}

# The replication group has no write-only argument for its token, so it
# reads the stored one; like any auth_token, it is then in the state.
data "aws_secretsmanager_secret_version" "auth" {
  secret_id  = aws_secretsmanager_secret.auth.id
  version_id = aws_secretsmanager_secret_version.auth.version_id
}

# ----------------------------------------------------- subnets, parameters

resource "aws_elasticache_subnet_group" "this" {
  name        = "${var.name_prefix}-redis"
  description = "Database subnets (no route to the internet)"
  subnet_ids  = var.database_subnet_ids
}

resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.name_prefix}-redis7"
  family      = "redis7"
  description = "${var.name_prefix} Redis 7: volatile-lru (never evict keys without a TTL)"

  parameter {
    name  = "maxmemory-policy"
    value = "volatile-lru"
  }
}

# ------------------------------------------------------------------- logs

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(["slow-log", "engine-log"])
  #checkov:skip=CKV_AWS_338:Retention comes from var.log_retention_days: 365 in prod, shorter in dev/staging to bound cost.

  name              = "/aws/elasticache/${local.replication_group_id}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.arn
}

# -------------------------------------------------------- replication group

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV2_AWS_50:automatic_failover_enabled comes from var.automatic_failover: true with 2+ nodes in staging and prod, off in dev's single node.

  replication_group_id = local.replication_group_id
  description          = "${var.name_prefix} cache (cache-aside, per-user generations)"

  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  num_cache_clusters   = var.num_cache_clusters
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [var.redis_security_group_id]

  at_rest_encryption_enabled = true
  kms_key_id                 = module.kms.arn
  transit_encryption_enabled = true
  auth_token                 = data.aws_secretsmanager_secret_version.auth.secret_string
  auth_token_update_strategy = var.auth_token_update_strategy

  automatic_failover_enabled = var.automatic_failover
  multi_az_enabled           = var.automatic_failover

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = "03:00-04:00"
  maintenance_window         = "sun:05:00-sun:06:00"
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.this["slow-log"].name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.this["engine-log"].name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "engine-log"
  }

  lifecycle {
    precondition {
      condition     = !var.automatic_failover || var.num_cache_clusters >= 2
      error_message = "automatic_failover needs num_cache_clusters >= 2 (a primary and a replica)."
    }
  }
}

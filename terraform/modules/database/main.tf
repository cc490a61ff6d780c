# Database: RDS for MySQL 8.4 behind an RDS Proxy.
#
# Nobody connects to the instance directly: its security group admits only the
# proxy. Clients (Lambda, EKS pods, the bastion) authenticate to the proxy
# with IAM (rds-db:connect on the proxy's resource id, TLS required); the proxy
# logs in to MySQL with the username/password kept in Secrets Manager:
#
#   expense_app       data only (SELECT/INSERT/UPDATE/DELETE); every request
#   expense_migrator  schema changes; the `migrate` function
#   <master>          RDS-managed secret; used by `migrate` only to create or
#                     re-password the two users above (bootstrap)
#
# The `migrate` function creates both users with the passwords stored in
# their secrets (it may read the secrets; see the api module), so the proxy's
# credentials and MySQL's always agree.
#
# Time budget (DESIGN.md): the app allows 2 s to connect and 5 s per
# statement, and the Lambda timeout is 15 s; the proxy gives up borrowing a
# connection after 3 s, inside that budget, so a saturated database answers a
# quick 503 instead of a hang.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # MySQL 8's default sql_mode, set explicitly so that RDS and the test
  # MariaDB (which gets it through DATABASE_SQL_MODE) agree.
  sql_mode = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

  db_users = {
    app = {
      username    = var.app_username
      description = "Application user (data only)"
    }
    migrator = {
      username    = var.migrator_username
      description = "Migration user (schema changes)"
    }
  }
}

# ---------------------------------------------------------------------- KMS

# Key administration and use are delegated to IAM policies in this account
# (RDS, Secrets Manager and Performance Insights use the key through grants
# made on behalf of the calling principal).
module "kms" {
  source = "../kms_key"

  description = "${var.name_prefix} RDS storage, Performance Insights and database secrets"
  name_prefix = var.name_prefix
  owner       = "database"
  purpose     = "data"
}

# ------------------------------------------------------------ DB user secrets

# Each user's password is made by Secrets Manager during apply and written
# to the secret through a write-only argument: it never appears in a plan or
# in the state. Alphanumeric only: safe in any connection string or shell.
ephemeral "aws_secretsmanager_random_password" "db_user" {
  for_each = local.db_users

  password_length     = 40
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "db_user" {
  for_each = local.db_users
  #checkov:skip=CKV2_AWS_57:Rotation needs a rotation Lambda that also re-passwords the MySQL user; not built yet. Clients never see this password (they use IAM tokens to the proxy); rotate by raising db_password_version and re-running migrate.

  name        = "${var.name_prefix}/rds/${each.value.username}"
  description = "${each.value.description}: credentials RDS Proxy uses to log in to MySQL"
  kms_key_id  = module.kms.arn

  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "db_user" {
  for_each = local.db_users

  secret_id = aws_secretsmanager_secret.db_user[each.key].id
  # The layout RDS Proxy (and Secrets Manager's RDS rotation templates) expect.
  secret_string_wo = jsonencode({
    engine   = "mysql"
    host     = aws_db_instance.this.address
    port     = aws_db_instance.this.port
    dbname   = var.database_name
    username = each.value.username
    password = ephemeral.aws_secretsmanager_random_password.db_user[each.key].random_password
  })
  # Written again (with new passwords) only when this number changes.
  secret_string_wo_version = var.password_version
}

# --------------------------------------------------------------- networking

resource "aws_db_subnet_group" "this" {
  name        = "${var.name_prefix}-mysql"
  description = "Database subnets (no route to the internet)"
  subnet_ids  = var.database_subnet_ids
}

# --------------------------------------------------------- parameter group

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.name_prefix}-mysql84-"
  family      = "mysql8.4"
  description = "${var.name_prefix} MySQL 8.4: TLS only, MySQL 8 default sql_mode, slow query log"

  # 1 = ON: the server refuses any connection that is not TLS.
  parameter {
    name         = "require_secure_transport"
    value        = "1"
    apply_method = "immediate"
  }

  parameter {
    name         = "sql_mode"
    value        = local.sql_mode
    apply_method = "immediate"
  }

  parameter {
    name         = "slow_query_log"
    value        = "1"
    apply_method = "immediate"
  }

  parameter {
    name         = "long_query_time"
    value        = "1"
    apply_method = "immediate"
  }

  parameter {
    name         = "log_output"
    value        = "FILE" # needed to publish logs to CloudWatch
    apply_method = "immediate"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# ------------------------------------------------------ enhanced monitoring

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.name_prefix}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# ----------------------------------------------------------------- instance

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_157:multi_az comes from var.multi_az: true in staging and prod, false in dev to halve its cost.
  #checkov:skip=CKV_AWS_293:deletion_protection comes from var.deletion_protection: true in staging and prod, false in dev so it can be torn down.

  identifier     = "${var.name_prefix}-mysql"
  engine         = "mysql"
  engine_version = "8.4"
  instance_class = var.instance_class

  db_name  = var.database_name
  username = var.master_username
  # The master password is generated, stored and rotated by RDS in Secrets
  # Manager (encrypted with this module's key); it never appears in state.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = module.kms.arn

  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = module.kms.arn

  multi_az               = var.multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [var.rds_security_group_id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  iam_database_authentication_enabled = true

  backup_retention_period   = var.backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = var.skip_final_snapshot
  final_snapshot_identifier = "${var.name_prefix}-mysql-final"

  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  apply_immediately           = var.apply_immediately

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = module.kms.arn
  performance_insights_retention_period = 7 # days; the free tier
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  enabled_cloudwatch_logs_exports       = ["error", "slowquery"]

  depends_on = [aws_iam_role_policy_attachment.monitoring]
}

# ---------------------------------------------------------------- RDS Proxy

data "aws_iam_policy_document" "proxy_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["rds.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "proxy" {
  name               = "${var.name_prefix}-rds-proxy"
  assume_role_policy = data.aws_iam_policy_document.proxy_assume.json
}

# The proxy reads exactly the three secrets it logs in with, and decrypts
# them only through Secrets Manager.
data "aws_iam_policy_document" "proxy" {
  statement {
    sid     = "ReadLoginSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = concat(
      [for s in aws_secretsmanager_secret.db_user : s.arn],
      [aws_db_instance.this.master_user_secret[0].secret_arn],
    )
  }

  statement {
    sid       = "DecryptLoginSecrets"
    actions   = ["kms:Decrypt"]
    resources = [module.kms.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "proxy" {
  name   = "read-db-secrets"
  role   = aws_iam_role.proxy.id
  policy = data.aws_iam_policy_document.proxy.json
}

resource "aws_db_proxy" "this" {
  name                   = "${var.name_prefix}-mysql"
  engine_family          = "MYSQL"
  role_arn               = aws_iam_role.proxy.arn
  vpc_subnet_ids         = var.database_subnet_ids
  vpc_security_group_ids = [var.rds_proxy_security_group_id]
  require_tls            = true
  idle_client_timeout    = 1800
  debug_logging          = false

  dynamic "auth" {
    for_each = local.db_users

    content {
      auth_scheme = "SECRETS"
      iam_auth    = "REQUIRED"
      description = auth.value.description
      secret_arn  = aws_secretsmanager_secret.db_user[auth.key].arn
    }
  }

  # The master user, for the migrate function's bootstrap only (it alone may
  # rds-db:connect as this user).
  auth {
    auth_scheme = "SECRETS"
    iam_auth    = "REQUIRED"
    description = "Master user (bootstrap of the application users)"
    secret_arn  = aws_db_instance.this.master_user_secret[0].secret_arn
  }

  depends_on = [aws_iam_role_policy.proxy]
}

resource "aws_db_proxy_default_target_group" "this" {
  db_proxy_name = aws_db_proxy.this.name

  connection_pool_config {
    # Seconds; inside the 2 s connect + 5 s statement budget and far below
    # the 15 s Lambda timeout.
    connection_borrow_timeout    = 3
    max_connections_percent      = var.proxy_max_connections_percent
    max_idle_connections_percent = 50
  }
}

resource "aws_db_proxy_target" "this" {
  db_proxy_name          = aws_db_proxy.this.name
  target_group_name      = aws_db_proxy_default_target_group.this.name
  db_instance_identifier = aws_db_instance.this.identifier
}

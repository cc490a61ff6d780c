output "proxy_endpoint" {
  description = "Host name of the RDS Proxy (clients connect here on 3306, TLS + IAM token)."
  value       = aws_db_proxy.this.endpoint
}

output "proxy_name" {
  description = "Name of the RDS Proxy (CloudWatch dimension ProxyName)."
  value       = aws_db_proxy.this.name
}

output "proxy_resource_id" {
  description = "Resource id of the proxy (prx-...), the part of rds-db:connect ARNs: arn:PARTITION:rds-db:REGION:ACCOUNT:dbuser:prx-.../USER."
  # The proxy ARN is arn:PARTITION:rds:REGION:ACCOUNT:db-proxy:prx-...
  value = element(split(":", aws_db_proxy.this.arn), 6)
}

output "db_instance_identifier" {
  description = "Identifier of the DB instance (CloudWatch dimension DBInstanceIdentifier)."
  value       = aws_db_instance.this.identifier
}

output "database_name" {
  description = "Name of the application schema."
  value       = var.database_name
}

output "app_username" {
  description = "MySQL user of the application."
  value       = var.app_username
}

output "migrator_username" {
  description = "MySQL user of the migrate function."
  value       = var.migrator_username
}

output "master_username" {
  description = "MySQL master user."
  value       = var.master_username
}

output "app_secret_arn" {
  description = "Secrets Manager secret of the application user."
  value       = aws_secretsmanager_secret.db_user["app"].arn
}

output "migrator_secret_arn" {
  description = "Secrets Manager secret of the migration user."
  value       = aws_secretsmanager_secret.db_user["migrator"].arn
}

output "master_secret_arn" {
  description = "RDS-managed Secrets Manager secret of the master user."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the storage, Performance Insights and the secrets."
  value       = module.kms.arn
}

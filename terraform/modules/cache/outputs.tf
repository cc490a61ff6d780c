output "primary_endpoint" {
  description = "Primary endpoint host name (clients use rediss://HOST:6379)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "reader_endpoint" {
  description = "Reader endpoint host name."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = aws_elasticache_replication_group.this.port
}

output "replication_group_id" {
  description = "Replication group id."
  value       = aws_elasticache_replication_group.this.id
}

output "member_cluster_ids" {
  description = "Cache cluster (node) ids, known at plan time: ElastiCache names them <group>-001, -002, ... (CloudWatch dimension CacheClusterId)."
  value       = [for i in range(var.num_cache_clusters) : format("%s-%03d", local.replication_group_id, i + 1)]
}

output "auth_secret_arn" {
  description = "Secrets Manager secret holding the AUTH token (the plain string)."
  value       = aws_secretsmanager_secret.auth.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the cache at rest, its AUTH secret and its logs."
  value       = module.kms.arn
}

output "api_url" {
  description = "Public base URL of the API."
  value       = "https://${var.domain_name}"
}

output "cloudfront_domain_name" {
  description = "CloudFront domain name (point domain_name here if route53_zone_id is null)."
  value       = module.edge.distribution_domain_name
}

output "cloudfront_distribution_id" {
  description = "CloudFront distribution id."
  value       = module.edge.distribution_id
}

output "alb_dns_name" {
  description = "ALB DNS name (point origin_domain_name here if route53_zone_id is null)."
  value       = module.api.alb_dns_name
}

output "migrate_function_name" {
  description = "Invoke after each deployment: aws lambda invoke --function-name <name> --qualifier live out.json"
  value       = module.api.migrate_function_name
}

output "function_names" {
  description = "Every Lambda function, keyed by its routes.json name."
  value       = module.api.function_names
}

output "db_proxy_endpoint" {
  description = "RDS Proxy endpoint."
  value       = module.database.proxy_endpoint
}

output "redis_primary_endpoint" {
  description = "Redis primary endpoint."
  value       = module.cache.primary_endpoint
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.observability.alarm_topic_arn
}

output "bastion_instance_id" {
  description = "Bastion instance (aws ssm start-session --target <id>), or null."
  value       = module.network.bastion_instance_id
}

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

# ---------------------------------------------------------- EKS (enable_eks)
# null without EKS. deploy/k8s fills its placeholders from these.

output "eks_cluster_name" {
  description = "EKS cluster (aws eks update-kubeconfig --name <name>), or null."
  value       = var.enable_eks ? module.eks[0].cluster_name : null
}

output "eks_cluster_endpoint" {
  description = "Kubernetes API endpoint (private: reachable from inside the VPC), or null."
  value       = var.enable_eks ? module.eks[0].cluster_endpoint : null
}

output "eks_oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster (IRSA), or null."
  value       = var.enable_eks ? module.eks[0].oidc_provider_arn : null
}

output "eks_node_security_group_id" {
  description = "Security group of the EKS nodes and pods, or null."
  value       = var.enable_eks ? module.eks[0].node_security_group_id : null
}

output "eks_app_role_arn" {
  description = "IRSA role for ServiceAccount expense-tracker/expense-api, or null."
  value       = var.enable_eks ? module.eks[0].app_role_arn : null
}

output "eks_migrate_role_arn" {
  description = "IRSA role for ServiceAccount expense-tracker/expense-migrate (the migration Job), or null."
  value       = var.enable_eks ? module.eks[0].migrate_role_arn : null
}

output "eks_lb_controller_role_arn" {
  description = "IRSA role for kube-system/aws-load-balancer-controller, or null."
  value       = var.enable_eks ? module.eks[0].lb_controller_role_arn : null
}

output "eks_target_group_arn" {
  description = "ALB target group of the EKS pods (the TargetGroupBinding's targetGroupARN), or null."
  value       = module.api.eks_target_group_arn
}

# ------------------------------------------- not forwarded by the envs
# Read with `terraform console` in envs/<env> (module.stack.NAME); deploy/k8s
# overlays need them (api.env, migrate.env).

output "redis_auth_secret_arn" {
  description = "Secrets Manager secret holding the Redis AUTH token."
  value       = module.cache.auth_secret_arn
}

output "db_master_secret_arn" {
  description = "RDS-managed Secrets Manager secret of the master user."
  value       = module.database.master_secret_arn
}

output "db_app_secret_arn" {
  description = "Secrets Manager secret of the application database user."
  value       = module.database.app_secret_arn
}

output "db_migrator_secret_arn" {
  description = "Secrets Manager secret of the migration database user."
  value       = module.database.migrator_secret_arn
}

# The stack's outputs under the same names (scripts/deploy.sh and deploy/k8s
# read them with `terraform output`); descriptions: modules/stack/outputs.tf.

output "api_url" { value = module.stack.api_url }
output "cloudfront_domain_name" { value = module.stack.cloudfront_domain_name }
output "cloudfront_distribution_id" { value = module.stack.cloudfront_distribution_id }
output "alb_dns_name" { value = module.stack.alb_dns_name }
output "migrate_function_name" { value = module.stack.migrate_function_name }
output "function_names" { value = module.stack.function_names }
output "db_proxy_endpoint" { value = module.stack.db_proxy_endpoint }
output "redis_primary_endpoint" { value = module.stack.redis_primary_endpoint }
output "alarm_topic_arn" { value = module.stack.alarm_topic_arn }
output "bastion_instance_id" { value = module.stack.bastion_instance_id }

# EKS (enable_eks): null without it.
output "eks_cluster_name" { value = module.stack.eks_cluster_name }
output "eks_cluster_endpoint" { value = module.stack.eks_cluster_endpoint }
output "eks_oidc_provider_arn" { value = module.stack.eks_oidc_provider_arn }
output "eks_node_security_group_id" { value = module.stack.eks_node_security_group_id }
output "eks_app_role_arn" { value = module.stack.eks_app_role_arn }
output "eks_migrate_role_arn" { value = module.stack.eks_migrate_role_arn }
output "eks_lb_controller_role_arn" { value = module.stack.eks_lb_controller_role_arn }
output "eks_target_group_arn" { value = module.stack.eks_target_group_arn }
output "redis_auth_secret_arn" { value = module.stack.redis_auth_secret_arn }
output "db_master_secret_arn" { value = module.stack.db_master_secret_arn }
output "db_app_secret_arn" { value = module.stack.db_app_secret_arn }
output "db_migrator_secret_arn" { value = module.stack.db_migrator_secret_arn }

output "alb_security_group_ids" {
  description = "Security groups to attach to the ALB (HTTPS and HTTP, both from CloudFront only)."
  value       = [aws_security_group.alb_https.id, aws_security_group.alb_http.id]
}

output "lambda_security_group_id" {
  description = "Security group of the Lambda functions."
  value       = aws_security_group.lambda.id
}

output "rds_proxy_security_group_id" {
  description = "Security group of the RDS Proxy."
  value       = aws_security_group.rds_proxy.id
}

output "rds_security_group_id" {
  description = "Security group of the RDS DB instance."
  value       = aws_security_group.rds.id
}

output "redis_security_group_id" {
  description = "Security group of the ElastiCache replication group."
  value       = aws_security_group.redis.id
}

output "eks_cluster_rule_ids" {
  description = "Ids of the rules EKS nodes need to join the cluster (empty without EKS); modules/eks makes its node group wait for them."
  value = concat(
    aws_vpc_security_group_ingress_rule.eks_node_from_nodes[*].id,
    aws_vpc_security_group_egress_rule.eks_node_to_nodes[*].id,
    [for r in aws_vpc_security_group_ingress_rule.eks_node_from_control_plane : r.id],
    [for r in aws_vpc_security_group_egress_rule.eks_control_plane_to_nodes : r.id],
    aws_vpc_security_group_ingress_rule.eks_control_plane_from_nodes[*].id,
    aws_vpc_security_group_egress_rule.eks_node_to_control_plane[*].id,
    aws_vpc_security_group_egress_rule.eks_node_https[*].id,
  )
}

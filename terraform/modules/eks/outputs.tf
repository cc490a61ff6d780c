# None of these may depend on the node group: the security module reads the
# security group ids, and the node group waits for the security module.

output "cluster_name" {
  description = "Name of the EKS cluster (aws eks update-kubeconfig --name <name>)."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint (private unless endpoint_public_access)."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_security_group_id" {
  description = "Security group of the control plane ENIs (rules: security module)."
  value       = aws_security_group.cluster.id
}

output "node_security_group_id" {
  description = "Security group of the nodes and pods (rules: security module)."
  value       = aws_security_group.node.id
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster (IRSA)."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "app_role_arn" {
  description = "IRSA role of the `server` pods: annotate ServiceAccount expense-tracker/expense-api with eks.amazonaws.com/role-arn."
  value       = aws_iam_role.irsa["app"].arn
}

output "migrate_role_arn" {
  description = "IRSA role of the migration Job: annotate ServiceAccount expense-tracker/expense-migrate."
  value       = aws_iam_role.irsa["migrate"].arn
}

output "lb_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller (ServiceAccount kube-system/aws-load-balancer-controller)."
  value       = aws_iam_role.irsa["lb_controller"].arn
}

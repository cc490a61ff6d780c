output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "azs" {
  description = "Availability Zones in use."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnets (ALB, NAT gateways, bastion)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets (Lambda ENIs, EKS nodes)."
  value       = aws_subnet.private[*].id
}

output "database_subnet_ids" {
  description = "Database subnets (RDS, RDS Proxy, ElastiCache); no route to the internet."
  value       = aws_subnet.database[*].id
}

output "nat_gateway_ids" {
  description = "NAT gateways (one, or one per AZ)."
  value       = aws_nat_gateway.this[*].id
}

output "endpoint_security_group_id" {
  description = "Security group of the interface VPC endpoints (rules added by the security module)."
  value       = aws_security_group.endpoints.id
}

output "bastion_security_group_id" {
  description = "Security group of the bastion, or null when enable_bastion = false."
  value       = var.enable_bastion ? aws_security_group.bastion[0].id : null
}

output "bastion_instance_id" {
  description = "Instance id of the bastion (for `aws ssm start-session`), or null."
  value       = var.enable_bastion ? aws_instance.bastion[0].id : null
}

output "flow_log_group_name" {
  description = "CloudWatch log group of the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

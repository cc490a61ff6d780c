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

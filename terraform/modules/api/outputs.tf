output "alb_arn" {
  description = "ARN of the ALB (the regional WAF web ACL is associated with it)."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the ALB (CloudWatch dimension LoadBalancer)."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the ALB (the target of the origin alias record)."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Route 53 hosted zone id of the ALB (for alias records)."
  value       = aws_lb.this.zone_id
}

output "https_listener_arn" {
  description = "ARN of the HTTPS listener (EKS rules can be added to it)."
  value       = aws_lb_listener.https.arn
}

output "eks_target_group_arn" {
  description = "Target group of the EKS `server` pods (the TargetGroupBinding's targetGroupARN), or null without EKS."
  value       = var.eks_enabled ? aws_lb_target_group.eks[0].arn : null
}

output "origin_domain_name" {
  description = "Host name CloudFront uses to reach the ALB."
  value       = var.domain_name
}

output "lambda_security_group_id" {
  description = "Security group of the functions (passed through from the security module)."
  value       = var.lambda_security_group_id
}

output "function_names" {
  description = "Function name of every function, keyed by its routes.json name."
  value       = { for k, f in aws_lambda_function.this : k => f.function_name }
}

output "migrate_function_name" {
  description = "Function to invoke (qualifier live) after each deployment: aws lambda invoke --function-name NAME --qualifier live out.json"
  value       = aws_lambda_function.this[local.migrate_function].function_name
}

output "dead_letter_queue_arn" {
  description = "SQS queue receiving failed asynchronous invocations of purge-idempotency."
  value       = aws_sqs_queue.dlq.arn
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue (CloudWatch dimension QueueName)."
  value       = aws_sqs_queue.dlq.name
}

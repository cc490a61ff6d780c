output "distribution_id" {
  description = "CloudFront distribution id."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_domain_name" {
  description = "CloudFront domain name (target of the public CNAME/alias records)."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "distribution_hosted_zone_id" {
  description = "Route 53 zone id of CloudFront (for alias records)."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "cloudfront_web_acl_arn" {
  description = "WAFv2 web ACL (scope CLOUDFRONT) of the distribution."
  value       = module.waf_cloudfront.web_acl_arn
}

output "alb_web_acl_arn" {
  description = "WAFv2 web ACL (scope REGIONAL) of the ALB."
  value       = module.waf_regional.web_acl_arn
}

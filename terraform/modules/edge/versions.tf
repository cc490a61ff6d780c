terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.90"
      # aws: the deployment region (regional WAF for the ALB, log bucket);
      # aws.us_east_1: CloudFront-scoped resources, which must live in us-east-1.
      configuration_aliases = [aws.us_east_1]
    }
  }
}

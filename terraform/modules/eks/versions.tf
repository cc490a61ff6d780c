terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    # data "tls_certificate": the thumbprint of the cluster's OIDC issuer.
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }
}

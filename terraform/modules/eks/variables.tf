variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"expense-prod\"; the cluster is <name_prefix>-eks."
  type        = string
}

# ------------------------------------------------------------------ network

variable "vpc_id" {
  description = "VPC of the cluster (network module)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets, one per AZ (network module): the control plane ENIs and the nodes."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "EKS needs subnets in at least two Availability Zones."
  }
}

variable "security_group_rule_ids" {
  description = "Ids of the security module's EKS cluster rules (its eks_cluster_rule_ids output). Only makes the node group wait for them: nodes cannot join before the control plane and the nodes may talk."
  type        = list(string)
  default     = []
}

# ------------------------------------------------------------------ cluster

variable "kubernetes_version" {
  description = "Kubernetes version of the control plane and the nodes. Raise one minor version at a time."
  type        = string
  default     = "1.33"
}

variable "support_type" {
  description = "EKS upgrade policy: STANDARD (EKS upgrades the cluster when standard support ends) or EXTENDED (paid extended support)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXTENDED"], var.support_type)
    error_message = "support_type must be STANDARD or EXTENDED."
  }
}

variable "endpoint_public_access" {
  description = "Also expose the Kubernetes API endpoint publicly (to endpoint_public_access_cidrs only). Off: the API is reachable from inside the VPC only."
  type        = bool
  default     = false
}

variable "endpoint_public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public API endpoint when endpoint_public_access = true; must not include 0.0.0.0/0."
  type        = list(string)
  default     = []
}

variable "cluster_log_types" {
  description = "Control plane logs sent to CloudWatch. controllerManager and scheduler are left out by default (volume, little use for an application cluster)."
  type        = list(string)
  default     = ["api", "audit", "authenticator"]
}

variable "log_retention_days" {
  description = "Retention of the control plane log group."
  type        = number
  default     = 365
}

variable "addon_versions" {
  description = "EKS add-on name => version to pin (e.g. { \"vpc-cni\" = \"v1.19.2-eksbuild.1\" }); add-ons not named get EKS's default version for the cluster version."
  type        = map(string)
  default     = {}
}

variable "enable_pod_identity_agent" {
  description = "Install the eks-pod-identity-agent add-on (EKS Pod Identity). The roles here use IRSA, which does not need it."
  type        = bool
  default     = false
}

# -------------------------------------------------------------------- nodes

variable "node_instance_types" {
  description = "Instance types of the managed node group (arm64 for the default AMI type; the image must be built for the same architecture)."
  type        = list(string)
  default     = ["m7g.large"]
}

variable "node_ami_type" {
  description = "AMI type of the managed node group, e.g. AL2023_ARM_64_STANDARD or AL2023_x86_64_STANDARD."
  type        = string
  default     = "AL2023_ARM_64_STANDARD"
}

variable "node_capacity_type" {
  description = "ON_DEMAND or SPOT."
  type        = string
  default     = "ON_DEMAND"
}

variable "node_min_size" {
  description = "Minimum number of nodes (3: one per AZ)."
  type        = number
  default     = 3
}

variable "node_desired_size" {
  description = "Number of nodes at creation and after each apply."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Maximum number of nodes."
  type        = number
  default     = 6
}

variable "node_disk_size_gb" {
  description = "Size of each node's encrypted gp3 root volume."
  type        = number
  default     = 20
}

# --------------------------------------------------------- service accounts

variable "app_namespace" {
  description = "Kubernetes namespace of the application's ServiceAccounts."
  type        = string
  default     = "expense-tracker"
}

variable "app_service_account" {
  description = "ServiceAccount of the `server` pods (IRSA role: data access as the app user)."
  type        = string
  default     = "expense-api"
}

variable "migrate_service_account" {
  description = "ServiceAccount of the migration Job (IRSA role: the migrator and master users)."
  type        = string
  default     = "expense-migrate"
}

# ----------------------------------------------------------------- database

variable "db_proxy_resource_id" {
  description = "Resource id of the RDS Proxy (prx-...), for rds-db:connect ARNs."
  type        = string
}

variable "db_app_username" {
  description = "MySQL user of the `server` pods."
  type        = string
}

variable "db_migrator_username" {
  description = "MySQL user of the migration Job (schema changes)."
  type        = string
}

variable "db_master_username" {
  description = "MySQL master user (the migration Job's bootstrap of the users only)."
  type        = string
}

variable "db_app_secret_arn" {
  description = "Secret of the application MySQL user (read by the migration Job only)."
  type        = string
}

variable "db_migrator_secret_arn" {
  description = "Secret of the migration MySQL user (read by the migration Job only)."
  type        = string
}

variable "db_master_secret_arn" {
  description = "RDS-managed secret of the master user (read by the migration Job only)."
  type        = string
}

variable "db_kms_key_arn" {
  description = "KMS key of the database secrets."
  type        = string
}

# -------------------------------------------------------------------- cache

variable "redis_auth_secret_arn" {
  description = "Secret holding the Redis AUTH token (read by the `server` pods)."
  type        = string
}

variable "redis_kms_key_arn" {
  description = "KMS key of the Redis AUTH secret."
  type        = string
}

# ---------------------------------------------------------------------- ALB

variable "target_group_arn" {
  description = "The ALB target group of the `server` pods (api module's eks_target_group_arn): the AWS Load Balancer Controller registers pod IPs in it through a TargetGroupBinding."
  type        = string
}

variable "lb_controller_manages_node_ingress" {
  description = "Let the AWS Load Balancer Controller add/remove ingress rules on the node security group (a TargetGroupBinding with spec.networking). Off: the security module owns the ALB -> nodes rule, and the controller needs no write access to security groups."
  type        = bool
  default     = false
}

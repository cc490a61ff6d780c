variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"expense-prod\"."
  type        = string
}

variable "vpc_id" {
  description = "VPC the security groups belong to."
  type        = string
}

variable "endpoint_security_group_id" {
  description = "Security group of the interface VPC endpoints (from the network module); ingress rules are added here."
  type        = string
}

variable "eks_node_security_group_id" {
  description = "Hook for the optional EKS deployment: security group of the EKS nodes, or null for none. Gets the same data-tier access as Lambda."
  type        = string
  default     = null
}

variable "enable_eks_access" {
  description = "Whether to create the EKS rules; null means `eks_node_security_group_id != null`. Set true when the EKS node SG is created in the same apply."
  type        = bool
  default     = null
}

variable "eks_cluster_security_group_id" {
  description = "Security group of the EKS control plane ENIs (modules/eks), or null. With it, the module also writes the rules between the control plane and the nodes and among the nodes."
  type        = string
  default     = null
}

variable "eks_control_plane_node_ports" {
  description = "Ports the EKS control plane may open to the nodes (port => why). 443 and 10250 are what EKS needs; add the ports of other admission webhooks served by pods (e.g. 4443 metrics-server) here."
  type        = map(string)
  default = {
    "443"   = "HTTPS (extension API servers)"
    "10250" = "kubelet (logs, exec, port-forward)"
    "9443"  = "AWS Load Balancer Controller webhook"
  }

  validation {
    condition     = alltrue([for p in keys(var.eks_control_plane_node_ports) : can(tonumber(p)) && tonumber(p) >= 1 && tonumber(p) <= 65535])
    error_message = "eks_control_plane_node_ports keys must be port numbers."
  }
}

variable "eks_node_port" {
  description = "Port of the `server` pods the ALB forwards to when EKS is enabled."
  type        = number
  default     = 8080
}

variable "enable_bastion_access" {
  description = "Create the bastion's egress rules and let it reach the RDS Proxy, Redis and the endpoints."
  type        = bool
  default     = false
}

variable "bastion_security_group_id" {
  description = "Security group of the bastion (network module), or null; used when enable_bastion_access = true."
  type        = string
  default     = null
}

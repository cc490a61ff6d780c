variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"expense-prod\"."
  type        = string
}

variable "function_names" {
  description = "Lambda function names keyed by their routes.json name (api module output)."
  type        = map(string)
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (dimension LoadBalancer)."
  type        = string
}

variable "db_instance_identifier" {
  description = "RDS instance identifier."
  type        = string
}

variable "db_proxy_name" {
  description = "RDS Proxy name."
  type        = string
}

variable "redis_member_cluster_ids" {
  description = "ElastiCache node ids (cache module output member_cluster_ids)."
  type        = list(string)
}

variable "dead_letter_queue_name" {
  description = "SQS dead-letter queue of the asynchronously invoked functions."
  type        = string
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (confirm the subscription mail), or null."
  type        = string
  default     = null
}

variable "lambda_error_threshold" {
  description = "Errors of one function in 5 minutes that raise its alarm."
  type        = number
  default     = 5
}

variable "alb_5xx_threshold" {
  description = "5xx responses in 5 minutes that raise the ALB alarms."
  type        = number
  default     = 10
}

variable "rds_cpu_threshold" {
  description = "RDS CPU percentage that raises the alarm."
  type        = number
  default     = 80
}

variable "rds_connections_threshold" {
  description = "Connections to the DB instance that raise the alarm."
  type        = number
  default     = 200
}

variable "proxy_client_connections_threshold" {
  description = "Client connections to the RDS Proxy that raise the alarm."
  type        = number
  default     = 1000
}

variable "redis_memory_threshold" {
  description = "Redis memory percentage that raises the alarm."
  type        = number
  default     = 80
}

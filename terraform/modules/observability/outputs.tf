output "alarm_topic_arn" {
  description = "SNS topic receiving every alarm (subscribe pagers/chat here)."
  value       = aws_sns_topic.alarms.arn
}

output "url" {
  description = "Public base URL of the broker (API under /v1)."
  value       = "https://${var.public_hostname}"
}

output "release_config_parameter" {
  description = "SSM parameter the release workflow reads (secret RELEASE_CONFIG_PARAMETER if not the default name)."
  value       = aws_ssm_parameter.release_config.name
}

output "alb_dns_name" {
  description = "DNS name of the load balancer (point the certificate's host name at it)."
  value       = aws_lb.main.dns_name
}

output "alb_zone_id" {
  description = "Hosted zone of the load balancer, for an alias record."
  value       = aws_lb.main.zone_id
}

output "ecr_repository_url" {
  description = "Where the release workflow pushes images."
  value       = aws_ecr_repository.app.repository_url
}

output "image_tag_parameter" {
  description = "SSM parameter holding the deployed image tag (written by the release workflow)."
  value       = aws_ssm_parameter.image_tag.name
}

output "ecs_cluster_name" {
  value = aws_ecs_cluster.main.name
}

output "ecs_service_name" {
  value = aws_ecs_service.app.name
}

output "task_definition_family" {
  value = aws_ecs_task_definition.app.family
}

output "container_name" {
  description = "Name of the broker container in the task definition (the release workflow swaps its image)."
  value       = local.container_name
}

output "table_name" {
  value = aws_dynamodb_table.pool.name
}

output "table_arn" {
  value = aws_dynamodb_table.pool.arn
}

output "log_group_name" {
  value = aws_cloudwatch_log_group.app.name
}

output "alarm_topic_arn" {
  value = aws_sns_topic.alarms.arn
}

output "token_secret_arns" {
  description = "Secrets to fill with aws secretsmanager put-secret-value before the first deploy, by the variable each becomes."
  value       = local.app_secrets
}

output "github_release_role_arn" {
  description = "Role for the release workflow (environment secret AWS_RELEASE_ROLE_ARN)."
  value       = one(aws_iam_role.github_release[*].arn)
}

output "vpc_id" {
  value = aws_vpc.main.id
}

output "private_subnet_ids" {
  value = aws_subnet.private[*].id
}

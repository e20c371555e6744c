resource "aws_ecr_repository" "app" {
  name                 = local.name
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep the last 50 images (rollback targets)"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = 50
        }
        action = { type = "expire" }
      }
    ]
  })
}

# The image tag that is deployed. The release workflow writes it after pushing an image; Terraform creates the
# parameter once and then only reads it, so an apply never rolls the service back to an older image.
resource "aws_ssm_parameter" "image_tag" {
  name           = "/${local.name}/image-tag"
  description    = "Image tag of ${aws_ecr_repository.app.name} that the service runs (written by the release workflow)"
  type           = "String"
  insecure_value = var.initial_image_tag

  lifecycle {
    ignore_changes = [insecure_value]
  }
}

# What the release workflow needs to know about this environment, so it never drifts from the infrastructure.
resource "aws_ssm_parameter" "release_config" {
  name        = "/${local.name}/release-config"
  description = "Release workflow configuration of ${local.name} (written by Terraform)"
  type        = "String"
  insecure_value = jsonencode({
    ecr_repository_url  = aws_ecr_repository.app.repository_url
    cluster             = aws_ecs_cluster.main.name
    service             = aws_ecs_service.app.name
    task_family         = aws_ecs_task_definition.app.family
    container_name      = local.container_name
    image_tag_parameter = aws_ssm_parameter.image_tag.name
    url                 = "https://${var.public_hostname}"
  })
}

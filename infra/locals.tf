locals {
  name = "${var.name_prefix}-${var.environment}"
  azs  = slice(data.aws_availability_zones.available.names, 0, 2)

  # The container contract (Dockerfile, SPEC section 5): Kestrel on 8080, liveness on /healthz.
  container_name    = "broker"
  container_port    = 8080
  health_check_path = "/healthz"

  # CloudWatch namespace and dimension of the broker's own metrics (shipped by the metrics sidecar as EMF).
  metrics_namespace = "SandboxBroker"
  metrics_service   = local.name

  # Environment of the broker container. Keys are configuration keys of SPEC section 8 in environment form
  # (":" written as "__"); a deploy test checks every key against the options classes of the code.
  app_environment = {
    ASPNETCORE_ENVIRONMENT       = "Production"
    ASPNETCORE_HTTP_PORTS        = local.container_port
    Storage__Provider            = "DynamoDb"
    Storage__DynamoDb__TableName = aws_dynamodb_table.pool.name
    Storage__DynamoDb__Region    = var.region
    Csp__Mode                    = var.csp_mode
    Csp__BaseUrl                 = var.csp_base_url
    Broker__LabDuration          = var.lab_duration
    Broker__GracePeriod          = var.grace_period
    Broker__AllocationEnabled    = tostring(var.allocation_enabled) # false while a restored table is reconciled
    Edge__KnownNetworks__0       = var.vpc_cidr                     # the ALB's nodes: their X-Forwarded-For names the client
    Jobs__Cleanup__BatchSize     = var.cleanup_batch_size
    Jobs__Cleanup__BatchDelay    = var.cleanup_batch_delay
    NiosXaas__Enabled            = var.niosxaas_enabled
    NiosXaas__ShadowMode         = var.niosxaas_shadow_mode
    Telemetry__OtlpEndpoint      = "http://localhost:4317" # traces to the ADOT sidecar (otel-collector.yaml), which sends them to X-Ray
  }

  # Secrets Manager values injected by ECS as environment variables (the process never calls Secrets Manager).
  app_secrets_current = {
    Broker__TrackTokens__0 = aws_secretsmanager_secret.track_token.arn
    Broker__AdminTokens__0 = aws_secretsmanager_secret.admin_token.arn
    Broker__CursorKey      = aws_secretsmanager_secret.cursor_key.arn
    Csp__Token             = aws_secretsmanager_secret.csp_token.arn
  }

  # Second token slots for rotation without downtime (docs/runbooks.md): both tokens are accepted while clients move.
  app_secrets_next = {
    Broker__TrackTokens__1 = one(aws_secretsmanager_secret.track_token_next[*].arn)
    Broker__AdminTokens__1 = one(aws_secretsmanager_secret.admin_token_next[*].arn)
  }

  # The NIOSXaaS pre-delete step's credentials (SPEC 12), only while the step is enabled.
  app_secrets_niosxaas = {
    NiosXaas__Email    = one(aws_secretsmanager_secret.niosxaas_email[*].arn)
    NiosXaas__Password = one(aws_secretsmanager_secret.niosxaas_password[*].arn)
  }

  app_secrets = merge(
    local.app_secrets_current,
    { for k, v in local.app_secrets_next : k => v if var.enable_next_tokens },
    { for k, v in local.app_secrets_niosxaas : k => v if var.niosxaas_enabled },
  )

  # Liveness inside the task: the image has no shell or curl (chiseled), so the app probes itself; the port comes
  # from ASPNETCORE_HTTP_PORTS in the task's environment.
  container_health_command = ["CMD", "dotnet", "/app/SandboxBroker.Api.dll", "--probe", local.health_check_path]

  sidecar_cpu    = 128
  sidecar_memory = 256

  container_definitions = [
    {
      name              = local.container_name
      image             = "${aws_ecr_repository.app.repository_url}:${aws_ssm_parameter.image_tag.insecure_value}"
      essential         = true
      cpu               = var.task_cpu - local.sidecar_cpu
      memoryReservation = var.task_memory - local.sidecar_memory
      portMappings = [
        {
          name          = "http"
          containerPort = local.container_port
          protocol      = "tcp"
        }
      ]
      environment = [for k, v in local.app_environment : { name = k, value = tostring(v) }]
      secrets     = [for k, v in local.app_secrets : { name = k, valueFrom = v }]
      healthCheck = {
        command     = local.container_health_command
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 60
      }
      # Graceful shutdown (SPEC section 7): SIGTERM, in-flight requests and the current job step finish.
      stopTimeout            = 45
      readonlyRootFilesystem = true
      mountPoints = [
        {
          sourceVolume  = "tmp"
          containerPath = "/tmp"
          readOnly      = false
        }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.app.name
          awslogs-region        = var.region
          awslogs-stream-prefix = "broker"
        }
      }
    },
    {
      # Scrapes the broker's /metrics on localhost and writes the gauges the alarms need as CloudWatch EMF.
      name              = "metrics"
      image             = var.otel_collector_image
      essential         = false
      cpu               = local.sidecar_cpu
      memoryReservation = local.sidecar_memory
      environment = [
        {
          name = "AOT_CONFIG_CONTENT"
          value = templatefile("${path.module}/otel-collector.yaml", {
            port       = local.container_port
            service    = local.metrics_service
            namespace  = local.metrics_namespace
            log_group  = aws_cloudwatch_log_group.metrics.name
            region     = var.region
            scrape_sec = 30
          })
        }
      ]
      dependsOn = [{ containerName = local.container_name, condition = "START" }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.app.name
          awslogs-region        = var.region
          awslogs-stream-prefix = "metrics"
        }
      }
    },
  ]
}


# ---------------------------------------------------------------------------------------------------------------
# Where and what
# ---------------------------------------------------------------------------------------------------------------
variable "region" {
  description = "AWS region for every resource (the Secrets Manager endpoint name is derived from it)."
  type        = string
}

variable "environment" {
  description = "Environment name, part of every resource name (dev, staging, prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 lower-case letters, digits or dashes."
  }
}

variable "name_prefix" {
  description = "Prefix of resource names; the full name is <name_prefix>-<environment>."
  type        = string
  default     = "sandbox-broker"
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------------------------
variable "vpc_cidr" {
  description = "CIDR of the VPC; public subnets take /24s 0-1, private subnets /24s 10-11."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR of /20 or larger (the subnets are /24s 0-1 and 10-11), e.g. 10.40.0.0/16."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper, one EIP; an AZ outage cuts CSP calls) instead of one per AZ."
  type        = bool
  default     = false
}

variable "metrics_scrape_cidrs" {
  description = "CIDRs (inside the VPC) of a Prometheus that scrapes the tasks on the container port directly. /metrics is never served through the ALB."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.metrics_scrape_cidrs : can(cidrnetmask(cidr))])
    error_message = "metrics_scrape_cidrs must hold IPv4 CIDRs, e.g. 10.40.10.0/24."
  }
}

# ---------------------------------------------------------------------------------------------------------------
# Edge
# ---------------------------------------------------------------------------------------------------------------
variable "public_hostname" {
  description = "Host name clients use (covered by certificate_arn; point a DNS alias at output alb_dns_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", var.public_hostname))
    error_message = "public_hostname must be a DNS name such as sandbox-broker.example.com."
  }
}

variable "certificate_arn" {
  description = "ACM certificate ARN for the HTTPS listener (same region as the ALB)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "alb_deletion_protection" {
  description = "Protect the load balancer from deletion."
  type        = bool
  default     = true
}

variable "waf_rate_limit" {
  description = "Requests per client IP per 5 minutes before WAF blocks it. A lab class often shares a few egress IPs: 200 participants x ~5 calls must stay far below this."
  type        = number
  default     = 3000

  validation {
    condition     = var.waf_rate_limit >= 100
    error_message = "waf_rate_limit must be at least 100 (the WAF minimum)."
  }
}

variable "waf_rate_limit_action" {
  description = "block or count (count only records matches; use it to measure a new limit before enforcing)."
  type        = string
  default     = "block"

  validation {
    condition     = contains(["block", "count"], var.waf_rate_limit_action)
    error_message = "waf_rate_limit_action must be block or count."
  }
}

# ---------------------------------------------------------------------------------------------------------------
# Service
# ---------------------------------------------------------------------------------------------------------------
variable "initial_image_tag" {
  description = "Image tag used until the release workflow records one in the SSM parameter <name>/image-tag (Terraform ignores later changes to it)."
  type        = string
  default     = "bootstrap"
}

variable "otel_collector_image" {
  description = "AWS Distro for OpenTelemetry collector image of the metrics sidecar."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"
}

variable "task_cpu" {
  description = "Fargate task CPU units (the broker container gets all but what the metrics sidecar takes)."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.task_cpu)
    error_message = "task_cpu must be a Fargate CPU value: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "task_memory" {
  description = "Fargate task memory (MiB)."
  type        = number
  default     = 2048

  # The Fargate CPU/memory pairs (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html).
  validation {
    condition = contains(lookup({
      256   = [512, 1024, 2048]
      512   = [for gib in range(1, 5) : gib * 1024]
      1024  = [for gib in range(2, 9) : gib * 1024]
      2048  = [for gib in range(4, 17) : gib * 1024]
      4096  = [for gib in range(8, 31) : gib * 1024]
      8192  = [for gib in range(16, 61, 4) : gib * 1024]
      16384 = [for gib in range(32, 121, 8) : gib * 1024]
    }, var.task_cpu, []), var.task_memory)
    error_message = "task_memory is not a Fargate memory size for this task_cpu (e.g. 1024 CPU takes 2048-8192 MiB in 1024 steps)."
  }
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64; must match the image the release workflow builds."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "min_capacity" {
  description = "Minimum number of tasks (at least 2: one per AZ)."
  type        = number
  default     = 2

  validation {
    condition     = var.min_capacity >= 2
    error_message = "min_capacity must be at least 2 so a task or AZ loss never takes the broker down."
  }
}

variable "max_capacity" {
  description = "Maximum number of tasks for autoscaling."
  type        = number
  default     = 10

  validation {
    condition     = var.max_capacity >= var.min_capacity
    error_message = "max_capacity must be at least min_capacity."
  }
}

variable "cpu_target_percent" {
  description = "Target average CPU utilisation for autoscaling."
  type        = number
  default     = 60
}

variable "requests_per_target" {
  description = "Target ALB requests per task per minute for autoscaling."
  type        = number
  default     = 1200
}

variable "enable_execute_command" {
  description = "Allow ECS Exec into the tasks (adds ssmmessages permissions to the task role)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for the application log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

# ---------------------------------------------------------------------------------------------------------------
# Application configuration (names of SPEC section 8; values as the options classes parse them)
# ---------------------------------------------------------------------------------------------------------------
variable "edge_log_retention_days" {
  description = "Days the ALB access logs (S3) and the WAF logs (CloudWatch) are kept."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.edge_log_retention_days)
    error_message = "edge_log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "table_name" {
  description = "DynamoDB table name (Storage:DynamoDb:TableName). The code's default is SandboxPool."
  type        = string
  default     = "SandboxPool"
}

variable "table_deletion_protection" {
  description = "Protect the DynamoDB table from deletion."
  type        = bool
  default     = true
}

variable "csp_mode" {
  description = "Csp:Mode, Live or Simulated. Production on DynamoDB requires it to be explicit."
  type        = string
  default     = "Live"

  validation {
    condition     = contains(["Live", "Simulated"], var.csp_mode)
    error_message = "csp_mode must be Live or Simulated."
  }
}

variable "csp_base_url" {
  description = "Csp:BaseUrl."
  type        = string
  default     = "https://csp.infoblox.com/v2"
}

variable "allocation_enabled" {
  description = "Broker:AllocationEnabled. false = maintenance: new allocations answer 503 MAINTENANCE, everything else works (docs/runbooks.md, restoring the table)."
  type        = bool
  default     = true
}

variable "lab_duration" {
  description = "Broker:LabDuration as a TimeSpan (d.hh:mm:ss): 2.00:00:00 is 48 hours."
  type        = string
  default     = "04:00:00"

  validation {
    condition     = can(regex("^([0-9]+\\.)?([01]?[0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$", var.lab_duration))
    error_message = "lab_duration must be a TimeSpan as the broker parses it: [d.]hh:mm:ss, e.g. 04:00:00 or 2.00:00:00 (48 hours)."
  }
}

variable "grace_period" {
  description = "Broker:GracePeriod as a TimeSpan: how long past expires_at auto-expiry waits."
  type        = string
  default     = "00:30:00"

  validation {
    condition     = can(regex("^([0-9]+\\.)?([01]?[0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$", var.grace_period))
    error_message = "grace_period must be a TimeSpan as the broker parses it: [d.]hh:mm:ss, e.g. 04:00:00 or 2.00:00:00 (48 hours)."
  }
}

variable "cleanup_batch_size" {
  description = "Jobs:Cleanup:BatchSize: CSP deletions per batch."
  type        = number
  default     = 10

  validation {
    condition     = var.cleanup_batch_size >= 1 && var.cleanup_batch_size <= 100
    error_message = "cleanup_batch_size must be 1-100."
  }
}

variable "cleanup_batch_delay" {
  description = "Jobs:Cleanup:BatchDelay as a TimeSpan: pause between deletion batches (production used 30 s after the CSP 500 incident)."
  type        = string
  default     = "00:00:30"

  validation {
    condition     = can(regex("^([0-9]+\\.)?([01]?[0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$", var.cleanup_batch_delay))
    error_message = "cleanup_batch_delay must be a TimeSpan as the broker parses it: [d.]hh:mm:ss, e.g. 04:00:00 or 2.00:00:00 (48 hours)."
  }
}

variable "niosxaas_enabled" {
  description = "Run the NIOSXaaS pre-delete step in cleanup (NiosXaas:Enabled); creates the niosxaas-email and niosxaas-password secrets, which must be given values before the task starts."
  type        = bool
  default     = false
}

variable "niosxaas_shadow_mode" {
  description = "NIOSXaaS step in shadow mode: list and record what would be deleted, delete nothing (NiosXaas:ShadowMode)."
  type        = bool
  default     = true
}

variable "enable_next_tokens" {
  description = "Create a second track-token and admin-token secret and pass them as Broker__TrackTokens__1 / Broker__AdminTokens__1 (token rotation, see docs/runbooks.md)."
  type        = bool
  default     = false
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored (0 deletes at once)."
  type        = number
  default     = 7
}

# ---------------------------------------------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------------------------------------------
variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "pool_available_threshold" {
  description = "Alarm when fewer sandboxes than this are available (whole pool)."
  type        = number
  default     = 25
}

variable "error_rate_threshold_percent" {
  description = "Alarm when more than this percentage of ALB requests end in a 5xx."
  type        = number
  default     = 2
}

variable "p99_latency_threshold_seconds" {
  description = "Alarm when the target p99 response time exceeds this."
  type        = number
  default     = 1.5
}

variable "job_max_age_seconds" {
  description = "Alarm when a job has not succeeded for this long (keys: the job_name label of broker_job_last_success_timestamp_seconds)."
  type        = map(number)
  default = {
    sync         = 3600
    cleanup      = 1800
    expiry       = 1800
    invariants   = 1800
    stale_purge  = 180000
    reservations = 600
  }
}

variable "runbook_base_url" {
  description = "Absolute URL of docs/runbooks.md; alarm descriptions link to <url>#<section>. Same default as deploy/prometheus/prometheus.yml's runbook_base."
  type        = string
  default     = "https://github.com/your-org/sandbox-broker/blob/main/docs/runbooks.md"

  validation {
    condition     = can(regex("^https?://[^#\\s]+$", var.runbook_base_url))
    error_message = "runbook_base_url must be an absolute http(s) URL without a #fragment."
  }
}

# ---------------------------------------------------------------------------------------------------------------
# Release pipeline (GitHub Actions OIDC)
# ---------------------------------------------------------------------------------------------------------------
variable "github_repository" {
  description = "owner/name of the GitHub repository whose release workflow may deploy this environment; empty creates no role."
  type        = string
  default     = ""
}

variable "github_environment" {
  description = "GitHub deployment environment the release job runs in (part of the OIDC subject)."
  type        = string
  default     = ""
}

variable "create_github_oidc_provider" {
  description = "Create the token.actions.githubusercontent.com OIDC provider (only one may exist per account)."
  type        = bool
  default     = false
}

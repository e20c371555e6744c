resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
}

# Embedded-metric-format records of the metrics sidecar (CloudWatch turns them into metrics).
resource "aws_cloudwatch_log_group" "metrics" {
  name              = "/ecs/${local.name}/metrics"
  retention_in_days = 7
}

# Not encrypted with the AWS managed key alias/aws/sns: its key policy does not let CloudWatch alarms publish.
# Alarm notifications carry no secrets; use a customer managed key that grants cloudwatch.amazonaws.com if required.
resource "aws_sns_topic" "alarms" {
  name = "${local.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]
  runbooks      = var.runbook_base_url
}

# --- Edge: ALB metrics -------------------------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "http_5xx_rate" {
  alarm_name          = "${local.name}-5xx-rate"
  alarm_description   = "More than ${var.error_rate_threshold_percent}% of requests end in a 5xx (target or ALB). Runbook: ${local.runbooks}#elevated-errors-or-latency."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / IF(requests > 0, requests, 1)"
    label       = "5xx percent"
    return_data = true
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = { LoadBalancer = aws_lb.main.arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "target5xx"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = aws_lb.main.arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "elb5xx"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = { LoadBalancer = aws_lb.main.arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "p99_latency" {
  alarm_name          = "${local.name}-p99-latency"
  alarm_description   = "Target p99 response time above ${var.p99_latency_threshold_seconds} s for 5 minutes. Runbook: ${local.runbooks}#elevated-errors-or-latency."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = { LoadBalancer = aws_lb.main.arn_suffix, TargetGroup = aws_lb_target_group.app.arn_suffix }
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.p99_latency_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_targets" {
  alarm_name          = "${local.name}-unhealthy-targets"
  alarm_description   = "A broker task fails its /healthz check on the ALB. Runbook: ${local.runbooks}#elevated-errors-or-latency."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = aws_lb.main.arn_suffix, TargetGroup = aws_lb_target_group.app.arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- Broker metrics (SPEC section 9), shipped by the metrics sidecar ---------------------------------------------
# Every task reports the same pool gauges; Minimum/Maximum over the tasks make one series of them.
resource "aws_cloudwatch_metric_alarm" "pool_available_low" {
  alarm_name          = "${local.name}-pool-available-low"
  alarm_description   = "Fewer than ${var.pool_available_threshold} sandboxes available: allocations will soon answer 409. Runbook: ${local.runbooks}#pool-exhaustion-during-an-event."
  namespace           = local.metrics_namespace
  metric_name         = "broker_pool_available"
  dimensions          = { service = local.metrics_service }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = var.pool_available_threshold
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "deletion_failed" {
  alarm_name          = "${local.name}-deletion-failed"
  alarm_description   = "Sandboxes in deletion_failed: CSP deletions exhausted their attempts. Runbook: ${local.runbooks}#deletion-failures."
  namespace           = local.metrics_namespace
  metric_name         = "broker_pool_deletion_failed"
  dimensions          = { service = local.metrics_service }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "csp_circuit_open" {
  alarm_name          = "${local.name}-csp-circuit-open"
  alarm_description   = "The CSP circuit breaker has been open or half-open (state >= 1) for 5 minutes. Runbook: ${local.runbooks}#csp-outage."
  namespace           = local.metrics_namespace
  metric_name         = "broker_csp_circuit_state"
  dimensions          = { service = local.metrics_service }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "invariant_violations" {
  alarm_name          = "${local.name}-invariant-violations"
  alarm_description   = "The invariant check found violations (two holders, two sandboxes per key, or inconsistent counts). See GET /v1/admin/invariants and ${local.runbooks}#invariant-violations."
  namespace           = local.metrics_namespace
  metric_name         = "broker_invariant_violations"
  dimensions          = { service = local.metrics_service }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Seconds since a job last succeeded anywhere in the cluster: EPOCH(m) is the time of each data point, m the
# newest success timestamp any task reports. A value of 0 (no success seen by any task yet) does not alarm;
# missing data does (no metrics at all means the broker or its sidecar is down).
resource "aws_cloudwatch_metric_alarm" "job_stale" {
  for_each = var.job_max_age_seconds

  alarm_name          = "${local.name}-job-stale-${each.key}"
  alarm_description   = "Job ${each.key} has not succeeded for more than ${each.value} s. Runbook: ${local.runbooks}#job-not-succeeding."
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "age"
    expression  = "IF(last > 0, EPOCH(last) - last, 0)"
    label       = "seconds since ${each.key} succeeded"
    return_data = true
  }

  metric_query {
    id = "last"
    metric {
      namespace   = local.metrics_namespace
      metric_name = "broker_job_last_success_timestamp_seconds"
      dimensions  = { service = local.metrics_service, job_name = each.key }
      period      = 300
      stat        = "Maximum"
    }
  }
}

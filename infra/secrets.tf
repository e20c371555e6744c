# Token secrets. Terraform creates the containers only; values are set out of band so they never enter the
# state (infra/README.md: aws secretsmanager put-secret-value). ECS injects them into the broker container as
# Broker__TrackTokens__0, Broker__AdminTokens__0, Broker__CursorKey and Csp__Token (locals.tf), and the NIOSXaaS
# credentials when the pre-delete step is enabled.
resource "aws_secretsmanager_secret" "track_token" {
  name                    = "${local.name}/track-token"
  description             = "Bearer token of the lab tracks (Broker:TrackTokens:0)"
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "admin_token" {
  name                    = "${local.name}/admin-token"
  description             = "Bearer token of the operators (Broker:AdminTokens:0)"
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "cursor_key" {
  name                    = "${local.name}/cursor-key"
  description             = "Key that signs admin list cursors, the same on every replica (Broker:CursorKey)"
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "csp_token" {
  name                    = "${local.name}/csp-token"
  description             = "ENG CSP API token (Csp:Token)"
  recovery_window_in_days = var.secret_recovery_window_days
}

# Rotation slots (enable_next_tokens): a second accepted token while clients switch over.
resource "aws_secretsmanager_secret" "track_token_next" {
  count = var.enable_next_tokens ? 1 : 0

  name                    = "${local.name}/track-token-next"
  description             = "Second track token during a rotation (Broker:TrackTokens:1)"
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "admin_token_next" {
  count = var.enable_next_tokens ? 1 : 0

  name                    = "${local.name}/admin-token-next"
  description             = "Second admin token during a rotation (Broker:AdminTokens:1)"
  recovery_window_in_days = var.secret_recovery_window_days
}

# NIOSXaaS pre-delete step credentials (niosxaas_enabled): injected as NiosXaas__Email and NiosXaas__Password.
# Created only when the step is on, because ECS cannot start a task whose secret has no value yet.
resource "aws_secretsmanager_secret" "niosxaas_email" {
  count = var.niosxaas_enabled ? 1 : 0

  name                    = "${local.name}/niosxaas-email"
  description             = "NIOSXaaS sign-in email of the pre-delete step (NiosXaas:Email)"
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "niosxaas_password" {
  count = var.niosxaas_enabled ? 1 : 0

  name                    = "${local.name}/niosxaas-password"
  description             = "NIOSXaaS sign-in password of the pre-delete step (NiosXaas:Password)"
  recovery_window_in_days = var.secret_recovery_window_days
}

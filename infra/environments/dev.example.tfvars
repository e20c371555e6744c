# Development: one NAT gateway, simulated CSP, short retention, no deletion protection.
# Copy to dev.tfvars, fill in the certificate, then:
#   terraform init -backend-config=environments/dev.example.s3.tfbackend
#   terraform apply -var-file=environments/dev.tfvars
region      = "eu-central-1"
environment = "dev"

public_hostname = "sandbox-broker-dev.example.com"
certificate_arn = "arn:aws:acm:eu-central-1:111122223333:certificate/00000000-0000-0000-0000-000000000000"

single_nat_gateway      = true
alb_deletion_protection = false
vpc_cidr                = "10.41.0.0/16"

table_name                  = "SandboxPool-dev"
table_deletion_protection   = false
secret_recovery_window_days = 0

min_capacity = 2
max_capacity = 3
task_cpu     = 512
task_memory  = 1024

# Simulated: the broker invents its pool in-process, no CSP token needed (the secret still exists).
csp_mode     = "Simulated"
lab_duration = "04:00:00"

log_retention_days       = 7
pool_available_threshold = 5
waf_rate_limit_action    = "count"
enable_execute_command   = true

github_repository  = "example-org/sandbox-broker"
github_environment = "dev"

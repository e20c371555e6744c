#!/usr/bin/env bash
# Refreshes docs/openapi.json, the committed copy of the OpenAPI document the build generates
# (Microsoft.Extensions.ApiDescription.Server writes src/SandboxBroker.Api/obj/openapi/openapi.json on every build),
# and lints it. A deploy test fails while the two differ.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/SandboxBroker.Api -c Release --nologo -v quiet
cp src/SandboxBroker.Api/obj/openapi/openapi.json docs/openapi.json
[ -d tools/node_modules/@redocly/cli ] || npm ci --prefix tools --no-audit --no-fund
node tools/node_modules/@redocly/cli/bin/cli.js lint docs/openapi.json --format stylish
echo "docs/openapi.json updated"

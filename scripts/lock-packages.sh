#!/usr/bin/env bash
# Regenerates every project's packages.lock.json after a package is added or a version changes in
# Directory.Packages.props (CI restores with --locked-mode and fails while a lock file is stale). Commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet restore SandboxBroker.sln --force-evaluate
git status --short -- '**/packages.lock.json'

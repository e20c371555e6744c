#!/usr/bin/env bash
# Smoke test of a built broker image (CI's image job): non-root, the container's own health check turns healthy,
# /healthz and /readyz answer on 127.0.0.1. Usage: bash scripts/image-smoke-test.sh <image>
set -euo pipefail
image="$1"
test "$(docker image inspect "$image" --format '{{.Config.User}}')" != ""
# Fresh secrets each run: Production refuses short tokens and every placeholder that ships in this repository.
docker run -d --name broker -p 127.0.0.1:8080:8080 \
  -e Storage__Provider=Sqlite -e Storage__Sqlite__Path=/tmp/broker.db -e Csp__Mode=Simulated \
  -e Broker__TrackTokens__0="$(openssl rand -hex 24)" -e Broker__AdminTokens__0="$(openssl rand -hex 24)" \
  "$image"
trap 'docker rm -f broker >/dev/null' EXIT
for _ in $(seq 1 60); do
  [ "$(docker inspect broker --format '{{.State.Health.Status}}')" = healthy ] && break
  sleep 2
done
docker logs broker | tail -20
test "$(docker inspect broker --format '{{.State.Health.Status}}')" = healthy
curl -fsS http://127.0.0.1:8080/healthz
curl -fsS http://127.0.0.1:8080/readyz

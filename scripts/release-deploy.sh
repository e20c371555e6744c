#!/usr/bin/env bash
# Release step: register a revision of the task family with the broker container on $IMAGE (a digest), roll the
# service onto it, wait until it is stable, and fail when the deployment circuit breaker rolled it back.
# Environment: CLUSTER SERVICE TASK_FAMILY CONTAINER IMAGE.
set -euo pipefail
aws ecs describe-task-definition --task-definition "$TASK_FAMILY" --query taskDefinition > task-definition.json
jq --arg c "$CONTAINER" --arg i "$IMAGE" '
  .containerDefinitions |= map(if .name == $c then .image = $i else . end)
  | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities, .registeredAt, .registeredBy, .deregisteredAt)' \
  task-definition.json > task-definition.next.json
arn=$(aws ecs register-task-definition --cli-input-json file://task-definition.next.json \
  --query taskDefinition.taskDefinitionArn --output text)
echo "registered $arn"
aws ecs update-service --cluster "$CLUSTER" --service "$SERVICE" --task-definition "$arn" >/dev/null
# One wait gives up after 10 minutes; a rollout may take up to 20.
aws ecs wait services-stable --cluster "$CLUSTER" --services "$SERVICE" \
  || aws ecs wait services-stable --cluster "$CLUSTER" --services "$SERVICE"
primary=$(aws ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" \
  --query 'services[0].deployments[?status==`PRIMARY`].taskDefinition | [0]' --output text)
if [ "$primary" != "$arn" ]; then
  echo "::error::the service runs $primary, not $arn: the deployment circuit breaker rolled the release back"
  exit 1
fi

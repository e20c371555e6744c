#!/usr/bin/env bash
# Release step: copy the image CI pushed for a commit (ghcr.io/<repo>:<commit>) to ECR under the same tag, without
# rebuilding, and print "image=<ecr repository>@<digest>" for the deploy step. ECR tags are immutable, so an
# existing tag (a re-run) is reused. Usage: release-promote.sh <source image> <ecr repository url> <commit>
set -euo pipefail
source_image="$1" repository_url="$2" commit="$3"
repository="${repository_url#*/}"
if ! aws ecr describe-images --repository-name "$repository" --image-ids imageTag="$commit" >/dev/null 2>&1; then
  docker buildx imagetools create --tag "$repository_url:$commit" "$source_image" >&2
fi
digest=$(aws ecr describe-images --repository-name "$repository" --image-ids imageTag="$commit" \
  --query 'imageDetails[0].imageDigest' --output text)
case "$digest" in sha256:*) ;; *) echo "no digest for $repository_url:$commit" >&2; exit 1 ;; esac
echo "image=$repository_url@$digest"

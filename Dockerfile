# syntax=docker/dockerfile:1
# SandboxBroker container image.
#   Port:   8080 (ASPNETCORE_HTTP_PORTS); TLS ends at the load balancer.
#   Probes: GET /healthz (liveness, no dependencies), GET /readyz (store reachable, first sync attempted).
#   Metrics: GET /metrics (Prometheus text; keep it off the internet).
#   User:   non-root ($APP_UID from the .NET base image).
#   Health: `dotnet SandboxBroker.Api.dll --probe [path]` exits 0 when GET path (default /healthz) answers 200.
# A deploy test (tests/SandboxBroker.DeployTests) replays this file's COPY layout and its dotnet restore and
# publish commands, so the layout is proven even where no Docker engine is available.
#
# Base images are pinned by digest (the tag stays for readers and Dependabot, which bumps tag and digest together).
# Both digests are the ones quoted for exactly these tags in public Dockerfiles (search corpus find_string ids
# 55457336194 and 56010373054 for the SDK, 70185442263, 70786343338 and 70475833663 for the runtime); none was
# resolved against the registry from here. Refresh: docker buildx imagetools inspect <image:tag> --format '{{json .Manifest.Digest}}'.
#
# Multi-arch: the SDK stage runs on the build machine's platform ($BUILDPLATFORM) and publishes portable IL
# (UseAppHost=false), so one build serves every target; only the runtime stage is per platform. The workflows build
# linux/amd64 and linux/arm64, the two values infra's cpu_architecture allows (a deploy test compares them).

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0@sha256:ea8bde36c11b6e7eec2656d0e59101d4462f6bd630730f2c8201ed0572b295d5 AS build
WORKDIR /src

# Restore first, from the project and the central build files only, so the package layer is cached until a
# project file or package version changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/SandboxBroker.Api/SandboxBroker.Api.csproj src/SandboxBroker.Api/packages.lock.json src/SandboxBroker.Api/
RUN dotnet restore src/SandboxBroker.Api/SandboxBroker.Api.csproj --locked-mode

COPY src/ src/
RUN dotnet publish src/SandboxBroker.Api/SandboxBroker.Api.csproj --configuration Release --no-restore --output /app/publish -p:UseAppHost=false -p:OpenApiGenerateDocumentsOnBuild=false

# Chiseled (distroless) runtime: no shell, no package manager, non-root by default; the health check is the app itself.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled@sha256:48e51f2f6798897be7ac4e775c049ed8fe60d3190f637e1f9c9dc7513efa659c AS final
WORKDIR /app
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_NOLOGO=1
COPY --from=build --chown=root:root /app/publish ./
USER $APP_UID
EXPOSE 8080
# No shell or curl in the runtime image: the app probes itself (dotnet SandboxBroker.Api.dll --probe: GET /healthz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["dotnet", "SandboxBroker.Api.dll", "--probe", "/healthz"]
ENTRYPOINT ["dotnet", "SandboxBroker.Api.dll"]

# syntax=docker/dockerfile:1
# SandboxBroker container image.
#   Port:   8080 (ASPNETCORE_HTTP_PORTS); TLS ends at the load balancer.
#   Probes: GET /healthz (liveness, no dependencies), GET /readyz (store reachable, first sync attempted).
#   Metrics: GET /metrics (Prometheus text; keep it off the internet).
#   User:   non-root ($APP_UID from the .NET base image).
#   Health: `dotnet SandboxBroker.Api.dll --probe [path]` exits 0 when GET path (default /healthz) answers 200.
# A deploy test (tests/SandboxBroker.DeployTests) replays this file's COPY layout and its dotnet restore and
# publish commands, so the layout is proven even where no Docker engine is available.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore first, from the project and the central build files only, so the package layer is cached until a
# project file or package version changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/SandboxBroker.Api/SandboxBroker.Api.csproj src/SandboxBroker.Api/
RUN dotnet restore src/SandboxBroker.Api/SandboxBroker.Api.csproj

COPY src/ src/
RUN dotnet publish src/SandboxBroker.Api/SandboxBroker.Api.csproj --configuration Release --no-restore --output /app/publish -p:UseAppHost=false -p:OpenApiGenerateDocumentsOnBuild=false

# Chiseled (distroless) runtime: no shell, no package manager, non-root by default; the health check is the app itself.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS final
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

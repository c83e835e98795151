# EchoHost: TCP/UDP echo and chat server with Prometheus metrics.
#   docker build -t echohost .
#   docker run --rm -p 65432:65432 -p 65433:65433 -p 6667:6667 -p 8081:8081 -p 65400:65400/udp -p 8080:8080 echohost
# Shaped like dotnet-docker's samples/aspnetapp: restore as its own cached layer, publish, run on the chiseled
# ASP.NET runtime (no shell, no package manager) as a non-root user.

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
# The release passes the tag's version (--build-arg VERSION=1.2.3): `EchoHost --version` and the metrics' target_info
# say which release runs; a local build keeps the project's own 1.0.0.
ARG VERSION=1.0.0
WORKDIR /source

# Project files only: this layer and the restore below are reused until they change.
COPY Directory.Build.props ./
COPY src/EchoHost/EchoHost.csproj src/EchoHost/
RUN dotnet restore src/EchoHost/EchoHost.csproj -a $TARGETARCH

# Sources and the root appsettings.json, which the project links in and ships next to the binary.
COPY appsettings.json ./
COPY src/EchoHost/ src/EchoHost/
RUN dotnet publish src/EchoHost/EchoHost.csproj -a $TARGETARCH --no-restore -c Release -p:Version=$VERSION -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled
WORKDIR /app
COPY --from=build /app .

# Listen on every interface inside the container; anything else in appsettings.json is an env var away
# (EchoHost__Listeners__Echo__Port=7000, Serilog__MinimumLevel__Default=Debug, ...).
# The base image's ASPNETCORE_HTTP_PORTS=8080 means nothing to EchoHost (its HTTP port is EchoHost__Http__Port);
# cleared, so a default start says nothing about it.
ENV EchoHost__Address="*" ASPNETCORE_HTTP_PORTS=""

# echo, chat, IRC, HTTP (/metrics, /healthz, /readyz), web (chat page, WebSockets, HTTP echo), UDP echo
EXPOSE 65432 65433 6667 8080 8081 65400/udp

USER $APP_UID

# The app probes its own /readyz: no shell or curl in a chiseled image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["./EchoHost", "--health"]

ENTRYPOINT ["./EchoHost"]

#!/usr/bin/env bash
# The benchmark in one command: builds EchoHost, the bare baseline and the load client in Release, then runs
# `echohost-load benchmark` with the arguments given (see `echohost-load --help`), for example:
#   src/EchoHost.Load/benchmark.sh                 # 3 rounds, 10 s per load: docs/performance.md's table
#   src/EchoHost.Load/benchmark.sh --quick         # a smoke test of every row, a few seconds each
# --prebuilt DIR (first argument) skips the build and runs the binaries in DIR (EchoHost.dll, EchoHost.Baseline.dll
# and echohost-load.dll side by side, as a test build's output folder has them).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "${1:-}" = "--prebuilt" ]; then
  [ $# -ge 2 ] || { echo "benchmark.sh: --prebuilt needs a folder" >&2; exit 2; }
  bin="$(cd "$2" && pwd)"; shift 2
  exec dotnet "$bin/echohost-load.dll" benchmark --echohost "$bin/EchoHost.dll" --baseline "$bin/EchoHost.Baseline.dll" "$@"
fi

for project in EchoHost EchoHost.Baseline EchoHost.Load; do
  dotnet build "$root/src/$project" -c Release -nologo -v q >&2
done
out() { echo "$root/src/$1/bin/Release/net10.0"; }
exec dotnet "$(out EchoHost.Load)/echohost-load.dll" benchmark \
  --echohost "$(out EchoHost)/EchoHost.dll" --baseline "$(out EchoHost.Baseline)/EchoHost.Baseline.dll" "$@"

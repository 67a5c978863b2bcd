#!/usr/bin/env bash
# Soak the Release standalone host: 60 s of mixed traffic at saturation (track/config/analytics, ~5% client aborts,
# ~5% upstream 503/429), then a report of unexpected statuses, proxy error logs, and RSS/sockets/upstream connections
# per 5 s. Not run in CI. Options go to the driver: --seconds N, --concurrency N (default 64), --server-gc.
# REPLAYPROXY_HEAVY=1 bench/soak.sh --integrity also runs the heavy integrity variant of the test project.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/replayproxy-soak"
if [ "${1:-}" = "--integrity" ]; then
  shift
  REPLAYPROXY_HEAVY=1 dotnet test tests/ReplayProxy.Tests -c Release --filter "FullyQualifiedName~Reliability.IntegrityAtScaleTests" \
    --logger "console;verbosity=detailed"
fi
dotnet publish src/ReplayProxy.Server -c Release -o "$out/proxy" --nologo -v quiet
dotnet build bench/soak -c Release -o "$out/driver" --nologo -v quiet
exec dotnet "$out/driver/Soak.dll" --proxy-dir "$out/proxy" "$@"

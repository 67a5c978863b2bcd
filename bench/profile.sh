#!/usr/bin/env bash
# Profiles the ReplayProxy standalone host under wrk load on loopback: allocations per request and GC
# counts (from a startup hook, bench/probe), and with --perf a CPU profile of the hottest frames.
#
#   bench/profile.sh [--scenario replay20k|analytics2k|config] [--conns 32] [--duration 10] [--perf]
# Environment: BENCH_PUBLISH_DIR (an existing publish output), PROBE_DIR (a built bench/probe),
#   PROFILE_WARMUP (seconds, 5), PROFILE_KEEP (copy perf.data there), and any DOTNET_* setting to try, e.g.
#   DOTNET_gcServer=0 bench/profile.sh      DOTNET_TieredPGO=0 bench/profile.sh
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SCENARIO=replay20k CONNS=32 DURATION=10 PERF=0 WARMUP=${PROFILE_WARMUP:-5}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scenario) SCENARIO=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --perf) PERF=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

TMP=$(mktemp -d /tmp/replayprofile.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PUBLISH_DIR=${BENCH_PUBLISH_DIR:-$TMP/publish}
if [[ -z ${BENCH_PUBLISH_DIR:-} ]]; then
  dotnet publish "$REPO/src/ReplayProxy.Server" -c Release -o "$PUBLISH_DIR" --artifacts-path "$TMP/artifacts" -nologo -v q >/dev/null
fi
PROBE_DIR=${PROBE_DIR:-$TMP/probe}
[[ -f $PROBE_DIR/AllocProbe.dll ]] ||
  dotnet build "$BENCH_DIR/probe/AllocProbe.csproj" -c Release -o "$PROBE_DIR" --artifacts-path "$TMP/probe-artifacts" -nologo -v q >/dev/null

UP=18900 PX=18901
user_line=""; [[ $(id -u) == 0 ]] && user_line="user $(id -un) $(id -gn);"
mkdir -p "$TMP/up"/{client_body,proxy,fastcgi,uwsgi,scgi,empty}
sed -e "s|@PORT@|$UP|g" -e "s|@PREFIX@|$TMP/up|g" -e "s|@BODY_TEMP@|$TMP/up/client_body|g" -e "s|@USER_LINE@|$user_line|" \
  "$BENCH_DIR/conf/upstream.conf" >"$TMP/up/nginx.conf"
nginx -p "$TMP/up" -e "$TMP/up/error.log" -c "$TMP/up/nginx.conf" &
PIDS+=($!)

ALLOC_PROBE_OUT=$TMP/probe.log DOTNET_STARTUP_HOOKS=$PROBE_DIR/AllocProbe.dll DOTNET_PerfMapEnabled=$PERF \
ReplayProxy__Upstreams__Replay=http://127.0.0.1:$UP ReplayProxy__Upstreams__Config=http://127.0.0.1:$UP \
ReplayProxy__Upstreams__Analytics=http://127.0.0.1:$UP Logging__LogLevel__Default=Warning \
  dotnet "$PUBLISH_DIR/ReplayProxy.Server.dll" --urls "http://127.0.0.1:$PX" >"$TMP/proxy.log" 2>&1 &
PX_PID=$!
PIDS+=($PX_PID)
for _ in $(seq 1 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PX/config/x?config_group=browser") == 200 ]] && break
  sleep 0.1
done

head -c 20480 /dev/urandom >"$TMP/replay20k"
head -c 2048 /dev/urandom | base64 -w0 | head -c 2000 | sed 's/^/{"api_key":"k","events":["/; s/$/"]}/' >"$TMP/analytics2k"
case "$SCENARIO" in
  replay20k) M=POST P='/sessions/v2/track?device_id=d&session_id=1&type=replay' K=replay B=$TMP/replay20k ;;
  analytics2k) M=POST P=/2/httpapi K=analytics B=$TMP/analytics2k ;;
  config) M=GET P='/config/0123456789abcdef?config_group=browser' K=config B="" ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac
load() {
  BENCH_METHOD=$M BENCH_PATH=$P BENCH_KIND=$K BENCH_BODY=$B \
    wrk -t2 -c"$CONNS" -d"${1}s" --timeout 10s -s "$BENCH_DIR/lua/request.lua" "http://127.0.0.1:$PX" | grep '^RESULT'
}
load "$WARMUP" >/dev/null
sleep 1.2
before=$(tail -1 "$TMP/probe.log")
t0=$(awk '{print $12 + $13}' <(sed 's/^.*) //' "/proc/$PX_PID/stat"))
if [[ $PERF == 1 ]]; then
  perf record -F 499 -g -p "$PX_PID" -o "$TMP/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
  PERF_PID=$!
fi
result=$(load "$DURATION")
[[ $PERF == 1 ]] && wait "$PERF_PID" || true
sleep 1.2
after=$(tail -1 "$TMP/probe.log")
t1=$(awk '{print $12 + $13}' <(sed 's/^.*) //' "/proc/$PX_PID/stat"))
echo "$result"
awk -v b="$before" -v a="$after" -v r="$result" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
  split(b, x, " "); split(a, y, " "); match(r, /requests=[0-9]+/); n = substr(r, RSTART + 9, RLENGTH - 9)
  match(r, /duration_us=[0-9]+/); secs = substr(r, RSTART + 12, RLENGTH - 12) / 1e6
  printf "requests %d in %.1f s = %.0f req/s\n", n, secs, n / secs
  printf "allocated %.1f MB = %.0f bytes/request\n", (y[2] - x[2]) / 1048576, (y[2] - x[2]) / n
  printf "GCs gen0/1/2 %d/%d/%d = %.2f gen0 per 1000 requests; GC pause %d ms (%.1f%% of the run)\n", y[3] - x[3], y[4] - x[4], y[5] - x[5], 1000 * (y[3] - x[3]) / n, y[6] - x[6], 100 * (y[6] - x[6]) / 1000 / secs
  printf "CPU %.2f s = %.0f us/request; heap %.1f MB, thread pool %d threads, working set %.0f MB\n", ticks / hz, 1e6 * ticks / hz / n, y[7] / 1048576, y[8], y[9] / 1048576
}'
if [[ $PERF == 1 ]]; then
  set +e +o pipefail
  [[ -n ${PROFILE_KEEP:-} ]] && cp "$TMP/perf.data" "$PROFILE_KEEP" && cp "/tmp/perf-$PX_PID.map" "$PROFILE_KEEP.map"
  echo "--- CPU by binary, perf:"
  perf report -i "$TMP/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -12
  echo "--- hottest frames (self time):"
  perf report -i "$TMP/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -50
  echo "--- hottest frames (including callees):"
  perf report -i "$TMP/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -70
fi

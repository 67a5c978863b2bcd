#!/usr/bin/env bash
# Profiles the ReplayProxy standalone host, or the Functions worker behind the test host, under wrk load on
# loopback: allocations per request and GC counts (from a startup hook, bench/probe), and with --perf a CPU
# profile of the hottest frames and of who owns the CPU (ours, the worker framework, Kestrel, ...).
#
#   bench/profile.sh [--host server|functions] [--scenario replay20k|analytics2k|config] [--conns 32] [--duration 10] [--perf]
# --host functions profiles the worker (src/ReplayProxy.Functions) that tests/ReplayProxy.FunctionsHost runs;
#   the test host's own CPU per request is printed apart.
# Environment: BENCH_PUBLISH_DIR (an existing publish output of the server), BENCH_HOST_DIR and BENCH_WORKER_DIR
#   (of the test host and the worker, for --host functions), PROBE_DIR (a built bench/probe),
#   PROFILE_WARMUP (seconds, 5), PROFILE_KEEP (copy perf.data there), and any DOTNET_* setting to try, e.g.
#   DOTNET_gcServer=0 bench/profile.sh      DOTNET_TieredPGO=0 bench/profile.sh
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SCENARIO=replay20k CONNS=32 DURATION=10 PERF=0 WARMUP=${PROFILE_WARMUP:-5} HOST=server
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scenario) SCENARIO=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --perf) PERF=1; shift ;;
    --host) HOST=$2; shift 2 ;;
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

publish() {  # project -> prints the publish directory
  dotnet publish "$REPO/$1" -c Release -o "$TMP/$(basename "$1")" --artifacts-path "$TMP/artifacts" -nologo -v q >/dev/null
  echo "$TMP/$(basename "$1")"
}
case "$HOST" in
  server) PUBLISH_DIR=${BENCH_PUBLISH_DIR:-$(publish src/ReplayProxy.Server)} ;;
  functions)
    HOST_DIR=${BENCH_HOST_DIR:-$(publish tests/ReplayProxy.FunctionsHost)}
    WORKER_DIR=${BENCH_WORKER_DIR:-$(publish src/ReplayProxy.Functions)} ;;
  *) echo "unknown host $HOST" >&2; exit 2 ;;
esac
PROBE_DIR=${PROBE_DIR:-$TMP/probe}
[[ -f $PROBE_DIR/AllocProbe.dll ]] ||
  dotnet build "$BENCH_DIR/probe/AllocProbe.csproj" -c Release -o "$PROBE_DIR" --artifacts-path "$TMP/probe-artifacts" -nologo -v q >/dev/null

free_port() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }
UP=$(free_port 18900); PX=$(free_port $((UP + 1)))
user_line=""; [[ $(id -u) == 0 ]] && user_line="user $(id -un) $(id -gn);"
mkdir -p "$TMP/up"/{client_body,proxy,fastcgi,uwsgi,scgi,empty}
sed -e "s|@PORT@|$UP|g" -e "s|@PREFIX@|$TMP/up|g" -e "s|@BODY_TEMP@|$TMP/up/client_body|g" -e "s|@USER_LINE@|$user_line|" \
  "$BENCH_DIR/conf/upstream.conf" >"$TMP/up/nginx.conf"
nginx -p "$TMP/up" -e "$TMP/up/error.log" -c "$TMP/up/nginx.conf" &
PIDS+=($!)

# ALLOC_PROBE_OUT: the test host passes its environment to the worker, so each process writes its own file
# with --perf, W^X off: perf cannot name JIT code in its double-mapped pages otherwise
export ALLOC_PROBE_OUT="$TMP/probe-{pid}.log" DOTNET_STARTUP_HOOKS=$PROBE_DIR/AllocProbe.dll DOTNET_PerfMapEnabled=$PERF \
  DOTNET_EnableWriteXorExecute=${DOTNET_EnableWriteXorExecute:-$((1 - PERF))} \
  ReplayProxy__Upstreams__Replay=http://127.0.0.1:$UP ReplayProxy__Upstreams__Config=http://127.0.0.1:$UP \
  ReplayProxy__Upstreams__Analytics=http://127.0.0.1:$UP Logging__LogLevel__Default=Warning
if [[ $HOST == server ]]; then
  dotnet "$PUBLISH_DIR/ReplayProxy.Server.dll" --urls "http://127.0.0.1:$PX" >"$TMP/proxy.log" 2>&1 &
else
  dotnet "$HOST_DIR/ReplayProxy.FunctionsHost.dll" --urls "http://127.0.0.1:$PX" --WorkerDirectory "$WORKER_DIR" >"$TMP/proxy.log" 2>&1 &
fi
PX_PID=$!
PIDS+=($PX_PID)
for _ in $(seq 1 600); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PX/config/x?config_group=browser") == 200 ]] && break
  sleep 0.1
done
HOST_PID=""
if [[ $HOST == functions ]]; then
  # the proxy is the worker; the test host in front of it is measured apart
  HOST_PID=$PX_PID
  PX_PID=$(sed -n 's/.*started worker process \([0-9]*\).*/\1/p' "$TMP/proxy.log" | head -1)
  [[ -n $PX_PID ]] || { cat "$TMP/proxy.log" >&2; exit 1; }
fi
ticks() { awk '{print $12 + $13}' <(sed 's/^.*) //' "/proc/$1/stat"); }

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
before=$(tail -1 "$TMP/probe-$PX_PID.log")
t0=$(ticks "$PX_PID"); h0=0; [[ -n $HOST_PID ]] && h0=$(ticks "$HOST_PID")
if [[ $PERF == 1 ]]; then
  perf record -F 499 -g -p "$PX_PID" -o "$TMP/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
  PERF_PID=$!
fi
result=$(load "$DURATION")
[[ $PERF == 1 ]] && wait "$PERF_PID" || true
sleep 1.2
after=$(tail -1 "$TMP/probe-$PX_PID.log")
t1=$(ticks "$PX_PID"); h1=0; [[ -n $HOST_PID ]] && h1=$(ticks "$HOST_PID")
echo "$result"
awk -v b="$before" -v a="$after" -v r="$result" -v ticks=$((t1 - t0)) -v hticks=$((h1 - h0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
  split(b, x, " "); split(a, y, " "); match(r, /requests=[0-9]+/); n = substr(r, RSTART + 9, RLENGTH - 9)
  match(r, /duration_us=[0-9]+/); secs = substr(r, RSTART + 12, RLENGTH - 12) / 1e6
  printf "requests %d in %.1f s = %.0f req/s\n", n, secs, n / secs
  printf "allocated %.1f MB = %.0f bytes/request\n", (y[2] - x[2]) / 1048576, (y[2] - x[2]) / n
  printf "GCs gen0/1/2 %d/%d/%d = %.2f gen0 per 1000 requests; GC pause %d ms (%.1f%% of the run)\n", y[3] - x[3], y[4] - x[4], y[5] - x[5], 1000 * (y[3] - x[3]) / n, y[6] - x[6], 100 * (y[6] - x[6]) / 1000 / secs
  printf "CPU %.2f s = %.0f us/request; heap %.1f MB, thread pool %d threads, working set %.0f MB\n", ticks / hz, 1e6 * ticks / hz / n, y[7] / 1048576, y[8], y[9] / 1048576
  if (hticks > 0) printf "test host in front: CPU %.2f s = %.0f us/request\n", hticks / hz, 1e6 * hticks / hz / n
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
  # Who owns the CPU: each sample goes to the innermost frame of its stack that belongs to a known component
  # (the .NET base library, System.*, counts for the caller that used it, except HttpClient and sockets, and a stack
  # with no such frame goes to its innermost binary). "in stack" is inclusive: samples with any frame of it.
  echo "--- CPU by owner (innermost owned frame; in stack = any frame):"
  perf script -i "$TMP/perf.data" -F ip,sym,dso 2>/dev/null | awk '
    function owner(line) {
      # the executor and metadata provider that the worker SDK generates into our assembly belong to the framework
      if (line ~ /ReplayProxy\.Functions\.(DirectFunctionExecutor|GeneratedFunctionMetadataProvider|FunctionExecutor)/) return "Functions worker"
      if (line ~ /ReplayProxy\./) return "ours: ReplayProxy"
      if (line ~ /Microsoft\.Azure\.Functions\.Worker/) return "Functions worker"
      if (line ~ /Grpc\.|Google\.Protobuf/) return "gRPC + protobuf"
      if (line ~ /Yarp\./) return "YARP forwarder"
      if (line ~ /OpenTelemetry|Azure\.Monitor|Azure\.Core/) return "OpenTelemetry + Azure Monitor"
      if (line ~ /Microsoft\.AspNetCore/) return "ASP.NET Core + Kestrel"
      if (line ~ /Microsoft\.Extensions/) return "Microsoft.Extensions (DI, logging, options)"
      if (line ~ /System\.Net\.Http/) return "HttpClient (SocketsHttpHandler)"
      if (line ~ /System\.Net\.Sockets/) return "sockets"
      return ""
    }
    function flush(   o, k) {
      if (nf == 0) return
      total++; o = ""
      for (k = 1; k <= nf && o == ""; k++) o = owner(fr[k])
      if (o == "") { o = fr[1]; sub(/.*\(/, "", o); sub(/\).*/, "", o); sub(/.*\//, "", o); if (o ~ /^perf-[0-9]+\.map$/) o = "JIT code, unnamed"; o = "unowned: " o }
      self[o]++
      delete seen
      for (k = 1; k <= nf; k++) { x = owner(fr[k]); if (x != "" && !(x in seen)) { seen[x] = 1; incl[x]++ } }
      nf = 0
    }
    /^[[:space:]]*$/ { flush(); next }
    /^[[:space:]]+[0-9a-f]+ / { fr[++nf] = $0; next }
    END { flush(); for (o in self) printf "%6.1f%%  self  %6.1f%% in stack  %s\n", 100 * self[o] / total, 100 * incl[o] / total, o }
  ' | sort -rn
fi

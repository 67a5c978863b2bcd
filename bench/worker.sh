#!/usr/bin/env bash
# The Functions worker's own figures, next to the standalone host's (issue 18):
#   cold start   process start to the first proxied replay POST answered 200, through the test host
#                (tests/ReplayProxy.FunctionsHost running the real isolated worker), and for src/ReplayProxy.Server;
#                the variants' starts alternate, so drift on this shared machine hits them alike
#   cpu          CPU µs per 20 KB replay upload (user + sys from /proc) of the worker, of the test host in front
#                of it, and of the standalone host, after a warm-up, rounds rotated; peak RSS (VmHWM) per cell;
#                the worker with and without the Azure Monitor export (to a fake ingestion endpoint on loopback)
#
#   bench/worker.sh                 10 starts per variant, 5 rounds x 8 s at 16 connections; writes raw/worker-*.tsv
#   bench/worker.sh --smoke         1 start per variant and 1 s of load (CI), writes bench/out/worker-smoke/
# Options: --starts N  --rounds N  --duration S  --warmup S  --conns N  --parts coldstart,cpu  --out DIR
#          --variants server,worker,worker-ai,worker-b,worker-c   (worker-b/-c only with their _DIR or _ENV set)
# Environment: BENCH_SERVER_DIR, BENCH_HOST_DIR, BENCH_WORKER_DIR  existing publish outputs (else built here)
#              BENCH_WORKER_B_DIR  another worker build for variant worker-b (e.g. PublishReadyToRun)
#              BENCH_WORKER_B_ENV="DOTNET_TieredPGO=0 ..."  settings for worker-b's processes (host and worker)
#              BENCH_WORKER_C_DIR, BENCH_WORKER_C_ENV  the same for a third worker variant, worker-c
#              BENCH_WORKER_B_AI=1, BENCH_WORKER_C_AI=1  that variant with the Azure Monitor export on, as worker-ai
# Every process runs with its logging as deployed (no Logging__* override; add one with BENCH_WORKER_B_ENV to try it).
#              BENCH_PORT_BASE=19700;  BENCH_KEEP_TMP=1 keeps the temp dir (logs)
# Needs: nginx, wrk, curl, dotnet (as bench/run.sh). Loopback only.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

SMOKE=0 STARTS=10 ROUNDS=5 DURATION=8 WARMUP=15 CONNS=16 PARTS=coldstart,cpu OUT="" VARIANTS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) SMOKE=1; shift ;;
    --starts) STARTS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --parts) PARTS=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
if [[ $SMOKE == 1 ]]; then
  STARTS=1 ROUNDS=1 DURATION=1 WARMUP=1
  OUT=${OUT:-$BENCH_DIR/out/worker-smoke}
fi
OUT=${OUT:-$BENCH_DIR}
if [[ -z $VARIANTS ]]; then
  VARIANTS=server,worker,worker-ai
  [[ -n ${BENCH_WORKER_B_DIR:-}${BENCH_WORKER_B_ENV:-} ]] && VARIANTS+=,worker-b
  [[ -n ${BENCH_WORKER_C_DIR:-}${BENCH_WORKER_C_ENV:-} ]] && VARIANTS+=,worker-c
fi
IFS=',' read -r -a VARS <<<"$VARIANTS"
part() { [[ ,$PARTS, == *,$1,* ]]; }
log() { printf '[worker-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for tool in nginx wrk curl awk dotnet; do command -v "$tool" >/dev/null || die "$tool not found"; done

TMP=$(mktemp -d /tmp/replayworker.XXXXXX)
STARTED=()
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${STARTED[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

NEXT_PORT=${BENCH_PORT_BASE:-19700}
free_port() {
  while (exec 3<>"/dev/tcp/127.0.0.1/$NEXT_PORT") 2>/dev/null; do NEXT_PORT=$((NEXT_PORT + 1)); done
  FREE_PORT=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1))
}
cpu_ticks() { local p f; p=$1; [[ -r /proc/$p/stat ]] || { echo 0; return; }; f=$(sed 's/^.*) //' "/proc/$p/stat"); awk '{print $12 + $13}' <<<"$f"; }
reset_peak() { local p; for p in "$@"; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done; }
peak_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- builds
publish() {  # project outdir [extra args...]
  local project=$1 dir=$2; shift 2
  log "publishing $project -> $dir $*"
  dotnet publish "$REPO/$project" -c Release -o "$dir" --artifacts-path "$TMP/artifacts-$(basename "$dir")" \
    -nologo -v q "$@" >"$TMP/publish-$(basename "$dir").log" 2>&1 ||
    { tail -30 "$TMP/publish-$(basename "$dir").log" >&2; die "dotnet publish $project failed"; }
}
SERVER_DIR=${BENCH_SERVER_DIR:-}
HOST_DIR=${BENCH_HOST_DIR:-}
WORKER_DIR=${BENCH_WORKER_DIR:-}
[[ -n $SERVER_DIR ]] || { SERVER_DIR=$TMP/server; publish src/ReplayProxy.Server "$SERVER_DIR"; }
[[ -n $HOST_DIR ]] || { HOST_DIR=$TMP/host; publish tests/ReplayProxy.FunctionsHost "$HOST_DIR"; }
[[ -n $WORKER_DIR ]] || { WORKER_DIR=$TMP/worker; publish src/ReplayProxy.Functions "$WORKER_DIR"; }
WORKER_B_DIR=${BENCH_WORKER_B_DIR:-$WORKER_DIR}
WORKER_C_DIR=${BENCH_WORKER_C_DIR:-$WORKER_DIR}
[[ -f $SERVER_DIR/ReplayProxy.Server.dll ]] || die "no ReplayProxy.Server.dll in $SERVER_DIR"
[[ -f $HOST_DIR/ReplayProxy.FunctionsHost.dll ]] || die "no ReplayProxy.FunctionsHost.dll in $HOST_DIR"
for d in "$WORKER_DIR" "$WORKER_B_DIR" "$WORKER_C_DIR"; do [[ -f $d/worker.config.json ]] || die "no worker.config.json in $d"; done

# ---------------------------------------------------------------- fake upstream and fake ingestion endpoint
user_line=""; [[ $(id -u) == 0 ]] && user_line="user $(id -un) $(id -gn);"
start_nginx() {  # name port access_log(0|1) -> sets NGINX_PID
  local prefix=$TMP/$1
  mkdir -p "$prefix"/{client_body,proxy,fastcgi,uwsgi,scgi,empty}
  sed -e "s|@PORT@|$2|g" -e "s|@PREFIX@|$prefix|g" -e "s|@BODY_TEMP@|$prefix/client_body|g" -e "s|@USER_LINE@|$user_line|" \
    "$BENCH_DIR/conf/upstream.conf" >"$prefix/nginx.conf"
  # the ingestion endpoint logs each request, so the run can show the export really ran
  [[ $3 == 1 ]] && sed -i "s|access_log off;|access_log $prefix/access.log;|" "$prefix/nginx.conf"
  nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" >"$prefix/stdout.log" 2>&1 &
  NGINX_PID=$!
  STARTED+=("$NGINX_PID")
}
free_port; UP_PORT=$FREE_PORT; start_nginx upstream "$UP_PORT" 0
free_port; INGEST_PORT=$FREE_PORT; start_nginx ingestion "$INGEST_PORT" 1
UPSTREAM=http://127.0.0.1:$UP_PORT
# What Application Insights gives, pointed at the fake: traces, metrics and logs go to IngestionEndpoint/v2.1/track.
AI_CONNECTION="InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:$INGEST_PORT/;LiveEndpoint=http://127.0.0.1:$INGEST_PORT/"

head -c 20480 /dev/urandom >"$TMP/replay20k"
REPLAY_PATH='/sessions/v2/track?device_id=bench-device&session_id=1700000000000&type=replay'

# ---------------------------------------------------------------- variants
declare -A PID=() WPID=() PORTOF=()
start_variant() {  # variant port -> sets PID[variant] (and WPID[variant], the worker, for worker variants)
  local v=$1 port=$2 pid
  local -a extra=() common=(
    ReplayProxy__Upstreams__Replay=$UPSTREAM ReplayProxy__Upstreams__Config=$UPSTREAM
    ReplayProxy__Upstreams__Analytics=$UPSTREAM)
  case "$v" in
    server)
      env "${common[@]}" dotnet "$SERVER_DIR/ReplayProxy.Server.dll" --urls "http://127.0.0.1:$port" >"$TMP/$v-$port.log" 2>&1 &
      pid=$! ;;
    worker|worker-ai|worker-b|worker-c)
      local dir=$WORKER_DIR
      [[ $v == worker-ai ]] && extra+=("APPLICATIONINSIGHTS_CONNECTION_STRING=$AI_CONNECTION")
      if [[ $v == worker-b ]]; then dir=$WORKER_B_DIR; read -r -a extra <<<"${BENCH_WORKER_B_ENV:-}"; fi
      if [[ $v == worker-c ]]; then dir=$WORKER_C_DIR; read -r -a extra <<<"${BENCH_WORKER_C_ENV:-}"; fi
      if [[ $v == worker-b && ${BENCH_WORKER_B_AI:-0} == 1 || $v == worker-c && ${BENCH_WORKER_C_AI:-0} == 1 ]]; then
        extra+=("APPLICATIONINSIGHTS_CONNECTION_STRING=$AI_CONNECTION")
      fi
      # each output line stamped with the time it arrived: the cold start splits into host, worker and first request
      env -u APPLICATIONINSIGHTS_CONNECTION_STRING "${common[@]}" ${extra[@]+"${extra[@]}"} \
        dotnet "$HOST_DIR/ReplayProxy.FunctionsHost.dll" --urls "http://127.0.0.1:$port" --WorkerDirectory "$dir" \
        > >(stamp >"$TMP/$v-$port.log") 2>&1 &
      pid=$! ;;
    *) die "unknown variant $v" ;;
  esac
  STARTED+=("$pid")
  PID[$v]=$pid
  PORTOF[$v]=$port
}
stop_variant() {
  local p=${PID[$1]}
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 80); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  # the test host ends its worker on SIGTERM; make sure no worker outlives a try
  if [[ -n ${WPID[$1]:-} ]]; then kill -KILL "${WPID[$1]}" 2>/dev/null || true; fi
}
stamp() { local line; while IFS= read -r line; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$line"; done; }
stamp_of() {  # log pattern -> microseconds since the epoch of the first line matching
  awk -v pat="$2" '$0 ~ pat {print $1; exit}' "$1"
}
worker_pid() {  # variant: the worker's pid from the test host's "started worker process N" line
  sed -n 's/.*started worker process \([0-9]*\).*/\1/p' "$TMP/$1-${PORTOF[$1]}.log" | head -1
}
upload() {  # port -> http status of one replay POST, as the session replay SDK sends it
  curl -s -o /dev/null -m 5 -w '%{http_code}' --data-binary "@$TMP/replay20k" -H 'Content-Type: application/json' \
    -H 'Content-Encoding: gzip' "http://127.0.0.1:$1$REPLAY_PATH" || true
}

mkdir -p "$OUT/raw"
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
START_TS=$(date +%s)

# ---------------------------------------------------------------- cold start
COLD_TSV=$TMP/worker-coldstart.tsv
# host_ms: start to the test host launching the worker; worker_ms: from there to the worker's functions loaded (the
# host's front listening); first_ms: from there to the first upload answered (first request through cold code).
# proxy_cpu_ms: CPU (user + sys) the proxy process (the worker, or the server) had used when that answer came, and
# host_cpu_ms the test host's: on a busy machine wall time mostly measures waiting for a core, CPU time the work.
printf 'try\tvariant\tms\thost_ms\tworker_ms\tfirst_ms\tproxy_cpu_ms\thost_cpu_ms\tloadavg1\n' >"$COLD_TSV"
if part coldstart; then
  n=${#VARS[@]}
  for t in $(seq 1 "$STARTS"); do
    for i in $(seq 0 $((n - 1))); do
      v=${VARS[$(((i + t) % n))]}
      free_port; port=$FREE_PORT
      t0=$(date +%s%N)
      start_variant "$v" "$port"
      ms="" t1=""
      for _ in $(seq 1 6000); do
        if [[ $(upload "$port") == 200 ]]; then t1=$(date +%s%N); ms=$(((t1 - t0) / 1000000)); break; fi
        kill -0 "${PID[$v]}" 2>/dev/null || break
        sleep 0.01
      done
      split="NA\tNA\tNA"
      cpu="$((10#$(cpu_ticks "${PID[$v]}") * 1000 / CLK_TCK))\tNA"
      if [[ $v != server ]]; then
        WPID[$v]=$(worker_pid "$v")
        [[ -n ${WPID[$v]} ]] && cpu="$(($(cpu_ticks "${WPID[$v]}") * 1000 / CLK_TCK))\t$(($(cpu_ticks "${PID[$v]}") * 1000 / CLK_TCK))"
        f="$TMP/$v-$port.log" a=$(stamp_of "$f" 'started worker process') b=$(stamp_of "$f" 'listening on')
        [[ -n $a && -n $b && -n $t1 ]] && split="$(((a - t0 / 1000) / 1000))\t$(((b - a) / 1000))\t$(((t1 / 1000 - b) / 1000))"
      fi
      stop_variant "$v"
      unset "WPID[$v]"
      printf '%s\t%s\t%s\t%b\t%b\t%s\n' "$t" "$v" "${ms:-NA}" "$split" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)" >>"$COLD_TSV"
      log "cold start $v try $t: ${ms:-failed} ms ($(cut -f7,8 <(tail -1 "$COLD_TSV") | tr '\t' ' ') CPU ms proxy, host)"
      [[ -n $ms ]] || { tail -20 "$TMP/$v-$port.log" >&2; die "$v did not proxy an upload after start"; }
    done
  done
fi

# ---------------------------------------------------------------- CPU per upload
CPU_TSV=$TMP/worker-cpu.tsv
printf 'round\tvariant\tuploads\tseconds\tuploads_per_s\terrors\tproxy_cpu_us\thost_cpu_us\tproxy_peak_rss_kb\thost_peak_rss_kb\tingestion_requests\tloadavg1\n' >"$CPU_TSV"
if part cpu; then
  for v in "${VARS[@]}"; do free_port; start_variant "$v" "$FREE_PORT"; done
  for v in "${VARS[@]}"; do
    for _ in $(seq 1 900); do [[ $(upload "${PORTOF[$v]}") == 200 ]] && break; kill -0 "${PID[$v]}" 2>/dev/null || die "$v exited"; sleep 0.1; done
    [[ $v == server ]] || WPID[$v]=$(worker_pid "$v")
  done
  load() {  # variant seconds -> wrk RESULT line
    BENCH_METHOD=POST BENCH_PATH=$REPLAY_PATH BENCH_KIND=replay BENCH_BODY=$TMP/replay20k \
      timeout $(($2 + 60)) wrk -t 2 -c "$CONNS" -d "${2}s" --timeout 30s -s "$BENCH_DIR/lua/request.lua" \
      "http://127.0.0.1:${PORTOF[$1]}" 2>&1 | grep '^RESULT ' || true
  }
  log "warm-up: ${WARMUP} s per variant"
  for v in "${VARS[@]}"; do load "$v" "$WARMUP" >/dev/null; done
  n=${#VARS[@]}
  for r in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
      v=${VARS[$(((i + r) % n))]}
      # the proxy is the worker for worker variants (the test host in front is reported apart), else the server
      proxy=${WPID[$v]:-${PID[$v]}}; host=""; [[ $v == server ]] || host=${PID[$v]}
      reset_peak "$proxy" ${host:+"$host"}
      ing0=$(wc -l <"$TMP/ingestion/access.log" 2>/dev/null || echo 0)
      p0=$(cpu_ticks "$proxy"); h0=0; [[ -n $host ]] && h0=$(cpu_ticks "$host")
      line=$(load "$v" "$DURATION")
      p1=$(cpu_ticks "$proxy"); h1=0; [[ -n $host ]] && h1=$(cpu_ticks "$host")
      ing1=$(wc -l <"$TMP/ingestion/access.log" 2>/dev/null || echo 0)
      [[ -n $line ]] || die "wrk failed against $v"
      row=$(awk -v line="$line" -v pt=$((p1 - p0)) -v ht=$((h1 - h0)) -v hz="$CLK_TCK" \
        -v prss="$(peak_kb "$proxy")" -v hrss="$([[ -n $host ]] && peak_kb "$host" || echo 0)" 'BEGIN {
        n = split(line, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
        secs = v["duration_us"] / 1e6; req = v["requests"]
        err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_status"] + v["err_timeout"]
        printf "%d\t%.2f\t%.0f\t%d\t%.0f\t%.0f\t%d\t%d", req, secs, req / secs, err,
          (req > 0 ? 1e6 * pt / hz / req : 0), (req > 0 ? 1e6 * ht / hz / req : 0), prss, hrss }')
      printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$v" "$row" "$((ing1 - ing0))" "$(cut -d' ' -f1 /proc/loadavg)" >>"$CPU_TSV"
      log "round $r $v: $(awk -F'\t' '{printf "%s uploads/s, %s CPU us/upload (+%s in the test host), peak RSS %.0f MB, errors %s", $3, $5, $6, $7 / 1024, $4}' <<<"$row")"
    done
  done
fi

# ---------------------------------------------------------------- summary
{
  echo "date=$(date -u +'%Y-%m-%d %H:%M UTC')"
  echo "mode=$([[ $SMOKE == 1 ]] && echo smoke || echo full)"
  echo "variants=$VARIANTS"
  echo "worker_b_dir=${BENCH_WORKER_B_DIR:+set}"
  echo "worker_b_env=${BENCH_WORKER_B_ENV:-}"
  echo "worker_c_dir=${BENCH_WORKER_C_DIR:+set}"
  echo "worker_c_env=${BENCH_WORKER_C_ENV:-}"
  echo "worker_b_ai=${BENCH_WORKER_B_AI:-0} worker_c_ai=${BENCH_WORKER_C_AI:-0}"
  echo "starts=$STARTS rounds=$ROUNDS duration=$DURATION warmup=$WARMUP conns=$CONNS"
  echo "loadavg_start=$LOADAVG_START"
  echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo '+uncommitted src')"
  echo "elapsed_s=$(($(date +%s) - START_TS))"
} >"$TMP/worker-meta.env"
cp "$COLD_TSV" "$CPU_TSV" "$TMP/worker-meta.env" "$OUT/raw/"

# min / median / max per variant
stats() {  # file column-name -> variant min median max n
  awk -F'\t' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    $c != "NA" { print $2 "\t" $c }' "$1" | sort -t$'\t' -k1,1 -k2,2n |
    awk -F'\t' '{ v[$1] = v[$1] " " $2 } END { for (k in v) { n = split(v[k], a, " ")
      med = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      printf "%s\t%s\t%s\t%s\t%d\n", k, a[1], med, a[n], n } }' | sort
}
echo "== worker benchmark ($(cat "$TMP/worker-meta.env" | tr '\n' ' '))"
if part coldstart; then
  echo "cold start ms: variant min median max n"
  stats "$COLD_TSV" ms
  for c in host_ms worker_ms first_ms; do echo "  of which $c: variant min median max n"; stats "$COLD_TSV" "$c" | grep -v '^server' || true; done
  echo "CPU ms used by the proxy process (worker or server) until the first answer: variant min median max n"
  stats "$COLD_TSV" proxy_cpu_ms
  echo "CPU ms used by the test host until then: variant min median max n"
  stats "$COLD_TSV" host_cpu_ms | grep -v '^server' || true
fi
if part cpu; then
  echo "CPU us per upload (proxy process): variant min median max n"
  stats "$CPU_TSV" proxy_cpu_us
  echo "CPU us per upload (test host in front of the worker): variant min median max n"
  stats "$CPU_TSV" host_cpu_us
  echo "peak RSS KB (proxy process): variant min median max n"
  stats "$CPU_TSV" proxy_peak_rss_kb
  echo "uploads/s: variant min median max n"
  stats "$CPU_TSV" uploads_per_s
  echo "ingestion requests per cell: variant min median max n"
  stats "$CPU_TSV" ingestion_requests
fi

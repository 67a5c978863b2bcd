#!/usr/bin/env bash
# One-command benchmark: ReplayProxy standalone host vs nginx (guide and tuned), Express 5 +
# http-proxy-middleware, and the upstream direct, all in front of one fake upstream on 127.0.0.1.
#
#   bench/run.sh            full run (about 12 minutes), writes bench/RESULTS.md and bench/results.png
#   bench/run.sh --smoke    everything for about a second each (CI), writes bench/out/smoke/
#
# Options: --rounds N  --duration SECONDS  --only c1,c2 (proxy,nginx-tuned,nginx-guide,express,direct)
#          --scenarios replay20k,config,analytics2k,post1m  --conns 32,128
#          --parts throughput,paced,memory,startup  --out DIR (where RESULTS.md, results.png, raw/ go)
# Environment: BENCH_PUBLISH_DIR=dir  use an existing `dotnet publish` output instead of building
#              BENCH_PORT_BASE=18700  first port tried;  BENCH_KEEP_TMP=1  keep the temp dir
#              BENCH_PROXY_B_ENV="DOTNET_gcServer=0 ..."  settings for contender proxy-b (an A/B of proxy)
#              BENCH_PROXY_B_PUBLISH_DIR=dir  another build for proxy-b (a code change against the same run)
# Needs: nginx, wrk, gnuplot, node + npm, dotnet, curl (README.md, "Benchmarks"). Loopback only.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

SMOKE=0
ROUNDS=2
DURATION=6          # seconds per measured cell
WARMUP=1            # seconds per contender and scenario before round 1
PACED_DURATION=6
MEM_DURATION=8
STARTUP_TRIES=${BENCH_STARTUP_TRIES:-5}
ONLY="proxy,nginx-tuned,nginx-guide,express,direct"
SCEN_LIST="replay20k,config,analytics2k,post1m"
CONN_LIST="32,128"
PARTS="throughput,paced,memory,startup"
OUT=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) SMOKE=1; shift ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; PACED_DURATION=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --scenarios) SCEN_LIST=$2; shift 2 ;;
    --conns) CONN_LIST=$2; shift 2 ;;
    --parts) PARTS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
if [[ $SMOKE == 1 ]]; then
  ROUNDS=1; DURATION=1; WARMUP=0; PACED_DURATION=1; MEM_DURATION=2; STARTUP_TRIES=1; CONN_LIST=32
  OUT=${OUT:-$BENCH_DIR/out/smoke}
fi
OUT=${OUT:-$BENCH_DIR}
IFS=',' read -r -a CONTENDERS <<<"$ONLY"
IFS=',' read -r -a SCENARIOS <<<"$SCEN_LIST"
IFS=',' read -r -a CONNS <<<"$CONN_LIST"
THREADS=2

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
has() { local x; for x in "${CONTENDERS[@]}"; do [[ $x == "$1" ]] && return 0; done; return 1; }
part() { [[ ,$PARTS, == *,$1,* ]]; }

for tool in nginx wrk gnuplot curl awk; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y nginx wrk gnuplot curl)"
done
has express && { command -v node >/dev/null || die "node not found"; }
{ has proxy || has proxy-b; } && { command -v dotnet >/dev/null || die "dotnet not found"; }

TMP=$(mktemp -d /tmp/replaybench.XXXXXX)
# the fake upstream's temp dir for large bodies: memory-backed when possible
if [[ -d /dev/shm && -w /dev/shm ]]; then BODY_TEMP=$(mktemp -d /dev/shm/replaybench.XXXXXX); else BODY_TEMP=$TMP/upstream-body; fi
RAW="$TMP/raw"
mkdir -p "$RAW"
declare -A PID=()     # contender -> main pid
declare -A PORT=()    # contender -> listen port
STARTED=()            # every pid we started, killed on exit

cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${STARTED[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$BODY_TEMP"
  if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- ports, processes, /proc
NEXT_PORT=${BENCH_PORT_BASE:-18700}
free_port() {  # sets FREE_PORT (no subshell, so NEXT_PORT advances)
  while (exec 3<>"/dev/tcp/127.0.0.1/$NEXT_PORT") 2>/dev/null; do NEXT_PORT=$((NEXT_PORT + 1)); done
  FREE_PORT=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1))
}

# the pids that make up a contender: the main process and its children (nginx workers)
proc_pids() {
  local main=$1
  echo "$main"
  pgrep -P "$main" 2>/dev/null || true
}
cpu_ticks() {  # utime + stime of the given pids, in clock ticks
  local total=0 p f
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    f=$(sed 's/^.*) //' "/proc/$p/stat")
    total=$((total + $(awk '{print $12 + $13}' <<<"$f")))
  done
  echo "$total"
}
reset_peak() { local p; for p in "$@"; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done; }
peak_kb() {    # sum of VmHWM (peak RSS since reset_peak)
  local p; for p in "$@"; do awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || true; done |
    awk '{s += $1} END {print s + 0}'
}
rss_kb() {
  local p; for p in "$@"; do awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || true; done |
    awk '{s += $1} END {print s + 0}'
}
CLK_TCK=$(getconf CLK_TCK)

render_nginx_conf() {  # template port upstream_port prefix
  local user_line=""
  [[ $(id -u) == 0 ]] && user_line="user $(id -un) $(id -gn);"
  sed -e "s|@PORT@|$2|g" -e "s|@UPSTREAM_PORT@|$3|g" -e "s|@PREFIX@|$4|g" -e "s|@USER_LINE@|$user_line|" \
    -e "s|@BODY_TEMP@|$BODY_TEMP|g" \
    "$BENCH_DIR/conf/$1"
}
start_nginx() {  # name template port upstream_port -> prints pid (own prefix and temp dirs per instance)
  local prefix="$TMP/$1-$3"
  mkdir -p "$prefix"/{client_body,proxy,fastcgi,uwsgi,scgi,empty}
  render_nginx_conf "$2" "$3" "$4" "$prefix" >"$prefix/nginx.conf"
  nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" >"$prefix/stdout.log" 2>&1 &
  echo $!
}

UPSTREAM_URL=""
start_contender() {  # name port -> sets PID[name]
  local name=$1 port=$2 pid
  case "$name" in
    upstream) pid=$(start_nginx upstream upstream.conf "$port" 0) ;;
    nginx-guide) pid=$(start_nginx nginx-guide nginx-guide.conf "$port" "${PORT[upstream]}") ;;
    nginx-tuned) pid=$(start_nginx nginx-tuned nginx-tuned.conf "$port" "${PORT[upstream]}") ;;
    express)
      node "$BENCH_DIR/express-proxy.js" "$port" "$UPSTREAM_URL" >"$TMP/express.log" 2>&1 &
      pid=$! ;;
    proxy|proxy-b)
      local -a extra=()
      local dir=$PUBLISH_DIR
      if [[ $name == proxy-b ]]; then
        read -r -a extra <<<"${BENCH_PROXY_B_ENV:-}"
        dir=${BENCH_PROXY_B_PUBLISH_DIR:-$PUBLISH_DIR}
      fi
      env ${extra[@]+"${extra[@]}"} \
      ReplayProxy__Upstreams__Replay=$UPSTREAM_URL \
      ReplayProxy__Upstreams__Config=$UPSTREAM_URL \
      ReplayProxy__Upstreams__Analytics=$UPSTREAM_URL \
      ReplayProxy__MaxRequestBodyBytes=${BENCH_MAX_BODY:-20971520} \
      Logging__LogLevel__Default=Warning \
        dotnet "$dir/ReplayProxy.Server.dll" --urls "http://127.0.0.1:$port" >"$TMP/proxy-$port.log" 2>&1 &
      pid=$! ;;
    *) die "unknown contender $name" ;;
  esac
  STARTED+=("$pid")
  PID[$name]=$pid
}

# A request that goes all the way to the upstream: the readiness check and the startup probe.
probe() {  # port -> http status of one proxied config GET
  curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/config/bench?config_group=browser" || true
}
wait_ready() {  # name port
  local i
  for i in $(seq 1 300); do
    [[ $(probe "$2") == 200 ]] && return 0
    if ! kill -0 "${PID[$1]}" 2>/dev/null; then
      cat "$TMP"/*/error.log "$TMP"/*.log 2>/dev/null | tail -20 >&2
      die "$1 exited during startup"
    fi
    sleep 0.1
  done
  die "$1 not ready on port $2 after 30 s"
}

# ---------------------------------------------------------------- bodies and scenarios
BODIES="$TMP/bodies"
mkdir -p "$BODIES"
head -c 20480 /dev/urandom >"$BODIES/replay20k"        # gzip output looks like random bytes
head -c 1048576 /dev/urandom >"$BODIES/post1m"
head -c 20000000 /dev/urandom >"$BODIES/upload20m"     # memory scenario (fits the 20 MiB default limit)
{
  printf '{"api_key":"0123456789abcdef0123456789abcdef","events":[{"event_type":"[Amplitude] Page Viewed","device_id":"bench-device","session_id":1700000000000,"event_properties":{"pad":"'
  head -c 4000 /dev/zero | tr '\0' 'x'
} | head -c 2044 >"$BODIES/analytics2k"
printf '"}}]}' >>"$BODIES/analytics2k"                 # 2048 bytes of well-formed JSON

REPLAY_PATH='/sessions/v2/track?device_id=bench-device&session_id=1700000000000&type=replay'
scenario_env() {  # scenario -> sets S_METHOD S_PATH S_KIND S_BODY
  case "$1" in
    replay20k) S_METHOD=POST; S_PATH=$REPLAY_PATH; S_KIND=replay; S_BODY=$BODIES/replay20k ;;
    config) S_METHOD=GET; S_PATH='/config/0123456789abcdef0123456789abcdef?config_group=browser'; S_KIND=config; S_BODY="" ;;
    analytics2k) S_METHOD=POST; S_PATH=/2/httpapi; S_KIND=analytics; S_BODY=$BODIES/analytics2k ;;
    post1m) S_METHOD=POST; S_PATH=$REPLAY_PATH; S_KIND=replay; S_BODY=$BODIES/post1m ;;
    upload20m) S_METHOD=POST; S_PATH=$REPLAY_PATH; S_KIND=replay; S_BODY=$BODIES/upload20m ;;
  esac
}

# run wrk against a contender; prints "rps p50 p99 max cpu_pct cpu_us_per_req peak_rss_kb errors requests"
measure() {  # contender scenario conns duration [delay_ms]
  local name=$1 scenario=$2 conns=$3 dur=$4 pause=${5:-0} target_pid pids t0 t1 out line
  scenario_env "$scenario"
  if [[ $name == direct ]]; then target_pid=${PID[upstream]}; else target_pid=${PID[$name]}; fi
  mapfile -t pids < <(proc_pids "$target_pid")
  reset_peak "${pids[@]}"
  t0=$(cpu_ticks "${pids[@]}")
  out=$(BENCH_METHOD=$S_METHOD BENCH_PATH=$S_PATH BENCH_KIND=$S_KIND BENCH_BODY=$S_BODY BENCH_DELAY_MS=$pause \
    timeout $((dur + 90)) wrk -t "$THREADS" -c "$conns" -d "${dur}s" --timeout 30s \
      -s "$BENCH_DIR/lua/request.lua" "http://127.0.0.1:${PORT[$name]}" 2>&1) || true
  t1=$(cpu_ticks "${pids[@]}")
  line=$(grep '^RESULT ' <<<"$out" || true)
  if [[ -z $line ]]; then
    log "wrk failed for $name/$scenario/c$conns: $(tail -3 <<<"$out" | tr '\n' ' ')"
    echo "0 0 0 0 0 0 0 1 0"; return
  fi
  awk -v line="$line" -v ticks=$((t1 - t0)) -v hz="$CLK_TCK" -v peak="$(peak_kb "${pids[@]}")" 'BEGIN {
    n = split(line, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
    secs = v["duration_us"] / 1e6; cpu = ticks / hz
    rps = secs > 0 ? v["requests"] / secs : 0
    errors = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_status"] + v["err_timeout"]
    printf "%.1f %d %d %d %.1f %.1f %d %d %d\n", rps, v["p50_us"], v["p99_us"], v["max_us"],
      (secs > 0 ? 100 * cpu / secs : 0), (v["requests"] > 0 ? 1e6 * cpu / v["requests"] : 0), peak, errors, v["requests"]
  }'
}

# ---------------------------------------------------------------- build and start
START_TS=$(date +%s)
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
if has proxy || has proxy-b; then
  if [[ -n ${BENCH_PUBLISH_DIR:-} ]]; then
    PUBLISH_DIR=$BENCH_PUBLISH_DIR
  else
    PUBLISH_DIR="$TMP/publish"
    log "publishing src/ReplayProxy.Server (Release)"
    dotnet publish "$REPO/src/ReplayProxy.Server" -c Release -o "$PUBLISH_DIR" --artifacts-path "$TMP/artifacts" \
      -nologo -v q >"$TMP/publish.log" 2>&1 || { tail -30 "$TMP/publish.log" >&2; die "dotnet publish failed"; }
  fi
  [[ -f $PUBLISH_DIR/ReplayProxy.Server.dll ]] || die "no ReplayProxy.Server.dll in $PUBLISH_DIR"
fi
if has express && [[ ! -d $BENCH_DIR/node_modules/http-proxy-middleware ]]; then
  log "npm ci (bench/)"
  (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error >"$TMP/npm.log" 2>&1) || { cat "$TMP/npm.log" >&2; die "npm ci failed"; }
fi

free_port; PORT[upstream]=$FREE_PORT
UPSTREAM_URL="http://127.0.0.1:${PORT[upstream]}"
start_contender upstream "${PORT[upstream]}"
wait_ready upstream "${PORT[upstream]}"
PORT[direct]=${PORT[upstream]}
for c in "${CONTENDERS[@]}"; do
  [[ $c == direct ]] && continue
  free_port; PORT[$c]=$FREE_PORT
  start_contender "$c" "${PORT[$c]}"
done
for c in "${CONTENDERS[@]}"; do [[ $c == direct ]] || wait_ready "$c" "${PORT[$c]}"; done
log "up: $(for c in upstream "${CONTENDERS[@]}"; do printf '%s=%s ' "$c" "${PORT[$c]}"; done)"

# Sanity: every contender answers every scenario with 200, and the upstream keeps a connection
# usable after a POST body (one curl, two POSTs on one connection).
for c in "${CONTENDERS[@]}"; do
  for s in "${SCENARIOS[@]}"; do
    scenario_env "$s"
    args=(-s -o /dev/null -w '%{http_code}' -m 10 -X "$S_METHOD")
    [[ -n $S_BODY ]] && args+=(--data-binary "@$S_BODY" -H 'Content-Type: application/json')
    code=$(curl "${args[@]}" "http://127.0.0.1:${PORT[$c]}$S_PATH" || true)
    [[ $code == 200 ]] || die "$c answered $code to $s"
  done
done
reuse=$(curl -s -v --data-binary "@$BODIES/replay20k" "$UPSTREAM_URL$REPLAY_PATH" \
  --next --data-binary "@$BODIES/replay20k" "$UPSTREAM_URL$REPLAY_PATH" 2>&1 | grep -c 'Re-using existing connection' || true)
[[ $reuse -ge 1 ]] || die "fake upstream does not keep the connection after a POST"

# ---------------------------------------------------------------- throughput matrix
printf 'round\tcontender\tscenario\tconns\trps\tp50_us\tp99_us\tmax_us\tcpu_pct\tcpu_us_per_req\tpeak_rss_kb\terrors\trequests\n' >"$RAW/throughput.tsv"
n=${#CONTENDERS[@]}
if part throughput; then
  if [[ $WARMUP -gt 0 ]]; then
    log "warm-up: ${WARMUP}s per contender and scenario"
    for s in "${SCENARIOS[@]}"; do for c in "${CONTENDERS[@]}"; do measure "$c" "$s" 32 "$WARMUP" >/dev/null; done; done
  fi
  cell=0
  for round in $(seq 1 "$ROUNDS"); do
    for s in "${SCENARIOS[@]}"; do
      for conns in "${CONNS[@]}"; do
        # rotate the order every cell so no contender always runs first or last (drift cancels)
        for i in $(seq 0 $((n - 1))); do
          c=${CONTENDERS[$(((i + cell) % n))]}
          r=$(measure "$c" "$s" "$conns" "$DURATION")
          printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$c" "$s" "$conns" "$(tr ' ' '\t' <<<"$r")" >>"$RAW/throughput.tsv"
          log "round $round $s c$conns $c: $(awk '{printf "%.0f req/s p99 %.2f ms cpu %.0f%% err %d", $1, $3/1000, $5, $8}' <<<"$r")"
        done
        cell=$((cell + 1))
      done
    done
  done
fi

# ---------------------------------------------------------------- paced latency (half of peak)
# Every contender gets the same offered load: half the replay 20 KB / 32-connection peak of
# ReplayProxy (tuned nginx if the proxy is not in this run). Each connection pauses 10 ms between
# requests, so the pace is set by the connection count.
ref=proxy; has proxy || ref=nginx-tuned; has "$ref" || ref=${CONTENDERS[0]}
peak=$(awk -F'\t' -v c="$ref" '$2 == c && $3 == "replay20k" && $4 == 32 {s += $5; k++} END {print k ? s / k : 0}' "$RAW/throughput.tsv")
target=${BENCH_PACED_RPS:-$(awk -v p="$peak" 'BEGIN {printf "%d", p / 2}')}
pconns=$(awk -v t="$target" 'BEGIN {c = int(t * 0.0105 / 2 + 0.5) * 2; if (c < 2) c = 2; print c}')
printf 'round\tcontender\ttarget_rps\tconns\trps\tp50_us\tp99_us\tmax_us\tcpu_pct\tcpu_us_per_req\tpeak_rss_kb\terrors\trequests\n' >"$RAW/paced.tsv"
if part paced; then
  log "paced: $target req/s offered ($pconns connections x 10 ms pause), reference $ref peak $peak"
  for round in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
      c=${CONTENDERS[$(((i + round) % n))]}
      r=$(measure "$c" replay20k "$pconns" "$PACED_DURATION" 10)
      printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$c" "$target" "$pconns" "$(tr ' ' '\t' <<<"$r")" >>"$RAW/paced.tsv"
      log "paced round $round $c: $(awk '{printf "%.0f req/s p99 %.2f ms", $1, $3/1000}' <<<"$r")"
    done
  done
fi

# ---------------------------------------------------------------- memory: 50 x 20 MB uploads
printf 'contender\trps\tp50_us\tp99_us\tmax_us\tcpu_pct\tcpu_us_per_req\tpeak_rss_kb\terrors\trequests\tidle_rss_kb\n' >"$RAW/memory.tsv"
if part memory; then
  for c in "${CONTENDERS[@]}"; do
    [[ $c == direct ]] && continue
    idle=$(rss_kb $(proc_pids "${PID[$c]}"))
    r=$(measure "$c" upload20m 50 "$MEM_DURATION")
    printf '%s\t%s\t%s\n' "$c" "$(tr ' ' '\t' <<<"$r")" "$idle" >>"$RAW/memory.tsv"
    log "memory $c: $(awk '{printf "%d uploads done, peak RSS %.0f MB, errors %d", $9, $7/1024, $8}' <<<"$r")"
  done
fi

# ---------------------------------------------------------------- startup to first proxied request
printf 'contender\ttry\tms\n' >"$RAW/startup.tsv"
if part startup; then
  for c in "${CONTENDERS[@]}"; do
    [[ $c == direct ]] && continue
    main_pid=${PID[$c]}
    for t in $(seq 1 "$STARTUP_TRIES"); do
      free_port; sp=$FREE_PORT
      t0=$(date +%s%N)
      start_contender "$c" "$sp"
      ms=""
      for _ in $(seq 1 3000); do
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' --data-binary "@$BODIES/replay20k" \
          -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' "http://127.0.0.1:$sp$REPLAY_PATH" || true)
        if [[ $code == 200 ]]; then ms=$((($(date +%s%N) - t0) / 1000000)); break; fi
        kill -0 "${PID[$c]}" 2>/dev/null || break
      done
      kill -TERM "${PID[$c]}" 2>/dev/null || true
      wait "${PID[$c]}" 2>/dev/null || true
      printf '%s\t%s\t%s\n' "$c" "$t" "${ms:-NA}" >>"$RAW/startup.tsv"
      log "startup $c try $t: ${ms:-failed} ms"
      [[ -n $ms ]] || die "$c did not proxy a request after start"
    done
    PID[$c]=$main_pid
  done
fi

# ---------------------------------------------------------------- metadata and report
{
  echo "date=$(date -u +'%Y-%m-%d %H:%M UTC')"
  echo "mode=$([[ $SMOKE == 1 ]] && echo smoke || echo full)"
  echo "rounds=$ROUNDS"
  echo "duration=$DURATION"
  echo "paced_duration=$PACED_DURATION"
  echo "mem_duration=$MEM_DURATION"
  echo "startup_tries=$STARTUP_TRIES"
  echo "contenders=$ONLY"
  echo "cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo) x $(nproc)"
  echo "memory=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "loadavg_start=$LOADAVG_START"
  echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "nginx=$(nginx -v 2>&1 | sed 's/.*nginx\///')"
  echo "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  echo "node=$(node -v 2>/dev/null || echo none)"
  echo "express=$(node -p "require('$BENCH_DIR/node_modules/express/package.json').version" 2>/dev/null || echo none)"
  echo "hpm=$(node -p "require('$BENCH_DIR/node_modules/http-proxy-middleware/package.json').version" 2>/dev/null || echo none)"
  echo "dotnet=$(dotnet --list-runtimes 2>/dev/null | awk '/Microsoft.AspNetCore.App/ {v = $2} END {print v}')"
  echo "commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo '+uncommitted src')"
  echo "elapsed_s=$(($(date +%s) - START_TS))"
} >"$RAW/meta.env"

mkdir -p "$OUT/raw"
cp "$RAW"/*.tsv "$RAW/meta.env" "$OUT/raw/"
"$BENCH_DIR/report.sh" "$OUT"
log "done in $(($(date +%s) - START_TS)) s: $OUT/RESULTS.md, $OUT/results.png"

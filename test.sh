#!/usr/bin/env bash
# Runs every test suite: the .NET tests (unit, integration, reliability, hostile input, Functions, infrastructure) and
# the browser suite (Amplitude's SDKs in Chromium through the proxy), then prints passed/failed/skipped per suite and
# in total. Exit code 0 only when every suite ran and nothing failed.
set -uo pipefail
cd "$(dirname "$0")"

# What a fresh Debian or Ubuntu machine lacks: installed with apt-get when running as root or with password-less
# sudo; otherwise the script stops before running anything and prints the command to run.
need_apt=()
[ -n "${CHROMIUM_PATH:-}" ] || type -P chromium >/dev/null || need_apt+=(chromium)   # the browser suite's browser
type -P kill >/dev/null || need_apt+=(procps)                                       # the tests stop hosts with kill -TERM
{ type -P node >/dev/null && type -P npm >/dev/null; } || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if ! type -P apt-get >/dev/null; then
    echo "test.sh: missing ${need_apt[*]} and no apt-get to install them with; install them (CHROMIUM_PATH may name the browser)" >&2
    exit 2
  elif [ "$(id -u)" -eq 0 ]; then
    apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  elif type -P sudo >/dev/null && sudo -n true 2>/dev/null; then
    apt=(sudo -n env DEBIAN_FRONTEND=noninteractive apt-get)
  else
    echo "test.sh: missing ${need_apt[*]}; install with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${need_apt[*]}" >&2
    exit 2
  fi
  echo "== installing ${need_apt[*]} (apt-get)"
  "${apt[@]}" update -qq && "${apt[@]}" install -y -qq "${need_apt[@]}" >/dev/null || {
    echo "test.sh: apt-get install ${need_apt[*]} failed" >&2
    exit 2
  }
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "test.sh: the browser suite needs Node.js 20 or later, found $(node --version); see https://nodejs.org/en/download" >&2
  exit 2
fi
if ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
  echo "test.sh: the .NET 10 SDK is missing; install it with:" >&2
  echo '  curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0 && export PATH="$HOME/.dotnet:$PATH"' >&2
  exit 2
fi
if [ ! -d tests/tools/node_modules ]; then
  echo "== npm ci (tests/tools: Azurite, the Blob endpoint the spool tests start)"
  (cd tests/tools && npm ci --no-audit --no-fund) || { echo "test.sh: npm ci in tests/tools failed" >&2; exit 2; }
fi
if [ ! -d tests/browser/node_modules ]; then
  echo "== npm ci (tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund) || { echo "test.sh: npm ci in tests/browser failed" >&2; exit 2; }
fi

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
declare -a names=() passed=() failed=() skipped=() notes=()

# dotnet test prints one "Passed!/Failed!  - Failed: F, Passed: P, Skipped: S, Total: T" line per test assembly.
count_dotnet() {
  grep -E '^(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$1" \
    | sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\2 \1 \3/' \
    | awk '{p+=$1; f+=$2; s+=$3; n++} END {if (n) print p, f, s}'
}

# node --test ends with "ℹ pass N", "ℹ fail N", "ℹ cancelled N", "ℹ skipped N" lines; a cancelled test failed.
count_node() {
  local p f c s
  p=$(sed -nE 's/^ℹ pass ([0-9]+)$/\1/p' "$1" | tail -1)
  f=$(sed -nE 's/^ℹ fail ([0-9]+)$/\1/p' "$1" | tail -1)
  c=$(sed -nE 's/^ℹ cancelled ([0-9]+)$/\1/p' "$1" | tail -1)
  s=$(sed -nE 's/^ℹ skipped ([0-9]+)$/\1/p' "$1" | tail -1)
  [ -n "$p" ] && [ -n "$f" ] && echo "$p $((f + ${c:-0})) ${s:-0}"
}

run_suite() { # name counter command...
  local name=$1 counter=$2 log="$log_dir/${#names[@]}.log" status counts
  shift 2
  echo "== $name: $*"
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  counts=$($counter "$log")
  names+=("$name")
  if [ -z "$counts" ]; then
    passed+=(0) failed+=(0) skipped+=(0) notes+=("did not run to the end (exit code $status)")
    return
  fi
  read -r p f s <<<"$counts"
  passed+=("$p") failed+=("$f") skipped+=("$s")
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then notes+=("exit code $status"); else notes+=(""); fi
}

run_suite ".NET tests" count_dotnet dotnet test ReplayFunctions.sln -c Release
run_suite "browser tests" count_node npm test --prefix tests/browser

echo
printf '%-16s %8s %8s %8s\n' suite passed failed skipped
ok=1 tp=0 tf=0 ts=0
for i in "${!names[@]}"; do
  printf '%-16s %8s %8s %8s  %s\n' "${names[$i]}" "${passed[$i]}" "${failed[$i]}" "${skipped[$i]}" "${notes[$i]}"
  tp=$((tp + passed[i])) tf=$((tf + failed[i])) ts=$((ts + skipped[i]))
  if [ "${failed[$i]}" -ne 0 ] || [ -n "${notes[$i]}" ]; then ok=0; fi
done
printf '%-16s %8s %8s %8s\n' total "$tp" "$tf" "$ts"
if [ "$ok" -eq 1 ]; then echo "all suites passed"; exit 0; fi
echo "FAILED"
exit 1

#!/usr/bin/env bash
# Flotilla's KV vs etcd, driven by the same load generator (`flotilla bench kv`), on loopback.
#
#   bench/kv-vs-etcd.sh                      # 10 s per run
#   BENCH_DURATION=2s BENCH_WARMUP=500ms bench/kv-vs-etcd.sh
#
# Env: BENCH_DURATION (10s), BENCH_WARMUP (1s per run), BENCH_PRIME (5s: one unmeasured run per system before its
#      first measured run; a freshly started .NET process runs unoptimized code for its first ~3 s under load while the
#      JIT tiers up, which a 1 s warmup does not cover; etcd gets the same), BENCH_KEYS (1000), BENCH_VALUE_SIZE (100), BENCH_REQUEST_TIMEOUT (2s),
#      BENCH_BASE_PORT (32379; etcd uses it and the next 5 ports), FLOTILLA_BIN (a flotilla command to use instead of
#      building src/Flotilla.Cli in Release), FLOTILLA_CLUSTER (endpoints or cluster.json of an already running Flotilla
#      cluster: the script then starts no Flotilla process).
# Flotilla runs as `flotilla cluster start --nodes 3 --dir DIR` (3 server processes, free ports) in the background; the
# script waits for DIR/cluster.json and a Leader in `flotilla cluster status`, and stops it with SIGTERM on exit.
# Runs, for each system: put-only (read ratio 0) at 1, 16 and 64 clients, and read-only at 64 clients. Prints a table
# and, as its last line, Flotilla/etcd ratios. CPU per operation is summed over each system's 3 server processes
# (`bench kv --cpu-pids`: /proc/PID/stat at the start and end of the measured window, so warmup is not counted; the
# load generator's own CPU is not in it), and peak RSS is the sum of their VmHWM. Every process it starts is stopped on exit (trap EXIT).
# Details and measured numbers: docs/bench-kv.md.
set -euo pipefail

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-1s}
PRIME=${BENCH_PRIME:-5s}
KEYS=${BENCH_KEYS:-1000}
VALUE_SIZE=${BENCH_VALUE_SIZE:-100}
REQUEST_TIMEOUT=${BENCH_REQUEST_TIMEOUT:-2s}
BASE_PORT=${BENCH_BASE_PORT:-32379}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d -t flotilla-kv-vs-etcd.XXXXXX)
PIDS=()
MEMBER_PIDS=""

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    # Give each process 10 s to stop on SIGTERM, then make sure.
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # `cluster start` stops its members on SIGTERM; if it had to be killed, its members would be orphans: stop them too.
  for pid in ${MEMBER_PIDS:-}; do
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "== $*" >&2; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds or the time is up.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "kv-vs-etcd: $what not ready after ${seconds}s" >&2; return 1; fi
    sleep 0.2
  done
}

# --- tools -----------------------------------------------------------------------------------------------------------
for tool in jq curl awk; do command -v "$tool" >/dev/null || { echo "kv-vs-etcd: needs $tool" >&2; exit 1; }; done
if ! command -v etcd >/dev/null; then
  say "installing etcd-server with apt"
  apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server >/dev/null
fi
say "etcd: $(etcd --version | head -1)"

if [[ -n ${FLOTILLA_BIN:-} ]]; then
  read -r -a FLOTILLA <<<"$FLOTILLA_BIN"
else
  say "building src/Flotilla.Cli (Release)"
  dotnet build "$ROOT/src/Flotilla.Cli" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
  FLOTILLA=(dotnet "$ROOT/src/Flotilla.Cli/bin/Release/net10.0/flotilla.dll")
fi

# --- etcd: 3 members on loopback, default durability (fsync per commit) ------------------------------------------------
ETCD_CLUSTER=""
ETCD_ENDPOINTS=""
ETCD_PIDS=""
for i in 1 2 3; do
  peer=$((BASE_PORT + 2 * i - 1))
  ETCD_CLUSTER+="${ETCD_CLUSTER:+,}m$i=http://127.0.0.1:$peer"
done
for i in 1 2 3; do
  client=$((BASE_PORT + 2 * i - 2)) peer=$((BASE_PORT + 2 * i - 1))
  etcd --name "m$i" --data-dir "$WORK/etcd$i" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$ETCD_CLUSTER" --initial-cluster-state new --initial-cluster-token flotilla-bench \
    --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) >"$WORK/etcd$i.log" 2>&1 &
  PIDS+=($!)
  ETCD_PIDS+="${ETCD_PIDS:+,}$!"
  ETCD_ENDPOINTS+="${ETCD_ENDPOINTS:+,}127.0.0.1:$client"
done
for i in 1 2 3; do
  client=$((BASE_PORT + 2 * i - 2))
  wait_for "etcd member m$i" 30 sh -c "curl -fsS http://127.0.0.1:$client/health | grep -q '\"health\":\"true\"'" \
    || { tail -20 "$WORK/etcd$i.log" >&2; exit 1; }
done
say "etcd: 3 members at $ETCD_ENDPOINTS"

# --- Flotilla: `flotilla cluster start --nodes 3` (3 separate server processes) in the background ------------------
FLOTILLA_NOTE="3-node cluster (flotilla cluster start --nodes 3)"
FLOTILLA_PIDS=""
if [[ -n ${FLOTILLA_CLUSTER:-} ]]; then
  FLOTILLA_ENDPOINTS=$FLOTILLA_CLUSTER
  FLOTILLA_NOTE="cluster given by FLOTILLA_CLUSTER"
  # A cluster.json names its members' pids; bare endpoints do not, and then CPU is not measured.
  [[ -f $FLOTILLA_CLUSTER ]] && FLOTILLA_PIDS=$(jq -r '[.members[]?.pid // empty] | map(tostring) | join(",")' "$FLOTILLA_CLUSTER" 2>/dev/null || true)
else
  "${FLOTILLA[@]}" cluster start --nodes 3 --dir "$WORK/flotilla" >"$WORK/flotilla.log" 2>&1 &
  CLUSTER_PID=$!
  PIDS+=("$CLUSTER_PID")
  FLOTILLA_ENDPOINTS="$WORK/flotilla/cluster.json"
  wait_for "flotilla cluster.json" 60 jq -e '.members | length == 3' "$FLOTILLA_ENDPOINTS" || { tail -20 "$WORK/flotilla.log" >&2; exit 1; }
  # The members' pids: stopped by `cluster start` on SIGTERM; killed here only if it had to be killed itself.
  MEMBER_PIDS=$(jq -r '.members[].pid' "$FLOTILLA_ENDPOINTS")
  FLOTILLA_PIDS=$(echo $MEMBER_PIDS | tr ' ' ',')
  wait_for "a flotilla leader" 60 sh -c "$(printf '%q ' "${FLOTILLA[@]}") cluster status --json --cluster '$FLOTILLA_ENDPOINTS' | jq -e 'any(.[]; .role == \"Leader\")'" \
    || { "${FLOTILLA[@]}" cluster status --cluster "$FLOTILLA_ENDPOINTS" >&2 || true; tail -20 "$WORK/flotilla.log" >&2; exit 1; }
fi
say "flotilla: $FLOTILLA_ENDPOINTS ($FLOTILLA_NOTE)"

# --- runs --------------------------------------------------------------------------------------------------------------
run() { # run SYSTEM ENDPOINTS CLIENTS READ_RATIO NAME
  say "$1: $5 ($3 clients, read ratio $4, $DURATION)"
  local pids
  pids=$([[ $1 == flotilla ]] && echo "$FLOTILLA_PIDS" || echo "$ETCD_PIDS")
  "${FLOTILLA[@]}" bench kv --target "$1" --cluster "$2" --clients "$3" --read-ratio "$4" --duration "$DURATION" ${pids:+--cpu-pids "$pids"} \
    --warmup "$WARMUP" --keys "$KEYS" --value-size "$VALUE_SIZE" --request-timeout "$REQUEST_TIMEOUT" --json >"$WORK/$1-$5.json"
}
prime() { # prime SYSTEM ENDPOINTS: unmeasured load so the first measured run sees a warm system
  say "$1: priming ($PRIME of 16 clients, half reads, not measured)"
  "${FLOTILLA[@]}" bench kv --target "$1" --cluster "$2" --clients 16 --read-ratio 0.5 --duration "$PRIME" \
    --warmup 0s --keys "$KEYS" --value-size "$VALUE_SIZE" --request-timeout "$REQUEST_TIMEOUT" --json >/dev/null
}
for system in flotilla etcd; do
  endpoints=$([[ $system == flotilla ]] && echo "$FLOTILLA_ENDPOINTS" || echo "$ETCD_ENDPOINTS")
  prime "$system" "$endpoints"
  for clients in 1 16 64; do run "$system" "$endpoints" "$clients" 0 "put-c$clients"; done
  run "$system" "$endpoints" 64 1 "read-c64"
done

# --- table -------------------------------------------------------------------------------------------------------------
get() { jq -r "$3" "$WORK/$1-$2.json"; } # get SYSTEM RUN JQ_PATH
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
errors() { jq -r "[.all.errors | to_entries[] | \"\(.key)=\(.value)\"] | join(\",\") | if . == \"\" then \"-\" else . end" "$WORK/$1-$2.json"; }

echo
echo "Flotilla KV vs etcd: $DURATION per run after $WARMUP warmup (each system primed with $PRIME of load first), $KEYS keys, $VALUE_SIZE-byte values, $(nproc) cores, loopback"
echo "Flotilla: $FLOTILLA_NOTE. etcd: 3 members, $(etcd --version | head -1)."
printf '%-22s %14s %14s %8s   %s\n' "metric" "flotilla" "etcd" "f/e" "errors (flotilla | etcd)"
row() { # row LABEL RUN JQ_PATH
  local f e
  f=$(get flotilla "$2" "$3") e=$(get etcd "$2" "$3")
  printf '%-22s %14.3f %14.3f %8s   %s | %s\n' "$1" "$f" "$e" "$(ratio "$f" "$e")" "$(errors flotilla "$2")" "$(errors etcd "$2")"
}
for clients in 1 16 64; do
  row "put c$clients ops/s" "put-c$clients" .writes.opsPerSecond
  row "put c$clients p50 ms" "put-c$clients" .writes.latencyMs.p50
  row "put c$clients p99 ms" "put-c$clients" .writes.latencyMs.p99
done
row "read c64 ops/s" read-c64 .reads.opsPerSecond
row "read c64 p50 ms" read-c64 .reads.latencyMs.p50
row "read c64 p99 ms" read-c64 .reads.latencyMs.p99
cpu_row() { # cpu_row LABEL RUN JQ_PATH: a serverCpu number, n/a when a system's processes were not watched
  local f e
  f=$(get flotilla "$2" "$3 // \"n/a\"") e=$(get etcd "$2" "$3 // \"n/a\"")
  printf '%-22s %14s %14s %8s\n' "$1" "$f" "$e" "$( [[ $f == n/a || $e == n/a ]] && echo n/a || ratio "$f" "$e")"
}
for run_name in put-c1 put-c16 put-c64 read-c64; do cpu_row "$run_name cpu us/op" "$run_name" .serverCpu.cpuUsPerOp; done
cpu_row "peak RSS bytes (3)" read-c64 .serverCpu.peakRssBytes

r() { ratio "$(get flotilla "$1" "$2")" "$(get etcd "$1" "$2")"; }
echo "flotilla/etcd put_ops_c1=$(r put-c1 .writes.opsPerSecond) put_ops_c16=$(r put-c16 .writes.opsPerSecond)" \
  "put_ops_c64=$(r put-c64 .writes.opsPerSecond) put_p99_c1=$(r put-c1 .writes.latencyMs.p99) put_p99_c64=$(r put-c64 .writes.latencyMs.p99)" \
  "read_ops_c64=$(r read-c64 .reads.opsPerSecond)" \
  "cpu_put_c16=$(r put-c16 '.serverCpu.cpuUsPerOp // 0')" "cpu_put_c64=$(r put-c64 '.serverCpu.cpuUsPerOp // 0')"

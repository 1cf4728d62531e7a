#!/usr/bin/env bash
# Sharded KV put throughput against the number of replica groups, on one machine, driven by `flotilla bench kv`.
#
#   bench/shardkv-groups.sh                         # 1, 2, 3 groups; 10 s per run at 64 clients
#   BENCH_DURATION=3s BENCH_GROUPS="1 2" bench/shardkv-groups.sh
#
# Env: BENCH_GROUPS ("1 2 3"), BENCH_CLIENTS (64), BENCH_DURATION (10s), BENCH_WARMUP (1s), BENCH_PRIME (5s of unmeasured
#      load first, so the JIT has tiered up), BENCH_KEYS (1000), BENCH_VALUE_SIZE (100), BENCH_REQUEST_TIMEOUT (2s),
#      BENCH_NODES (3 processes), BENCH_SHARDS (16), FLOTILLA_BIN (a flotilla command to use instead of building
#      src/Flotilla.Cli in Release).
# Each run starts `flotilla cluster start --groups G --nodes 3` in a fresh directory (3 processes, each hosting a
# replica of the controller and of every group: docs/shardkv-design.md, "Processes"), waits for its sharded
# cluster.json and for every shard to be Serving, runs put-only load (read ratio 0) through the sharded client, and
# stops it. Prints one line per group count and a summary table. Every process it starts is stopped on exit.
set -euo pipefail

GROUPS_LIST=${BENCH_GROUPS:-1 2 3}
CLIENTS=${BENCH_CLIENTS:-64}
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-1s}
PRIME=${BENCH_PRIME:-5s}
KEYS=${BENCH_KEYS:-1000}
VALUE_SIZE=${BENCH_VALUE_SIZE:-100}
REQUEST_TIMEOUT=${BENCH_REQUEST_TIMEOUT:-2s}
NODES=${BENCH_NODES:-3}
SHARDS=${BENCH_SHARDS:-16}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d -t flotilla-shardkv-groups.XXXXXX)
CLUSTER_PID=""
MEMBER_PIDS=""

stop_cluster() {
  local pid
  if [[ -n $CLUSTER_PID ]]; then
    kill -TERM "$CLUSTER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$CLUSTER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CLUSTER_PID" 2>/dev/null || true
    wait "$CLUSTER_PID" 2>/dev/null || true
  fi
  # If `cluster start` had to be killed its members would be orphans: stop them too.
  for pid in ${MEMBER_PIDS:-}; do
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  CLUSTER_PID="" MEMBER_PIDS=""
}
cleanup() { stop_cluster; rm -rf "$WORK"; }
trap cleanup EXIT

say() { echo "== $*" >&2; }

wait_for() { # wait_for DESCRIPTION SECONDS COMMAND...
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "shardkv-groups: $what not ready after ${seconds}s" >&2; return 1; fi
    sleep 0.2
  done
}

command -v jq >/dev/null || { echo "shardkv-groups: needs jq" >&2; exit 1; }
if [[ -n ${FLOTILLA_BIN:-} ]]; then
  read -r -a FLOTILLA <<<"$FLOTILLA_BIN"
else
  say "building src/Flotilla.Cli (Release)"
  dotnet build "$ROOT/src/Flotilla.Cli" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
  FLOTILLA=(dotnet "$ROOT/src/Flotilla.Cli/bin/Release/net10.0/flotilla.dll")
fi
F=$(printf '%q ' "${FLOTILLA[@]}")

RESULTS=()
for groups in $GROUPS_LIST; do
  dir="$WORK/g$groups"
  "${FLOTILLA[@]}" cluster start --groups "$groups" --nodes "$NODES" --shards "$SHARDS" --dir "$dir" >"$WORK/g$groups.log" 2>&1 &
  CLUSTER_PID=$!
  file="$dir/cluster.json"
  wait_for "the $groups-group store's cluster.json" 90 jq -e '.kind == "sharded-kv"' "$file" || { tail -20 "$WORK/g$groups.log" >&2; exit 1; }
  MEMBER_PIDS=$(jq -r '.members[].pid' "$file")
  wait_for "every shard Serving ($groups groups)" 90 sh -c "$F shard status --json --cluster '$file' | jq -e '[.shards[].state] | all(. == \"Serving\")'" \
    || { "${FLOTILLA[@]}" shard status --cluster "$file" >&2 || true; exit 1; }
  say "$groups group(s): priming ($PRIME, not measured)"
  "${FLOTILLA[@]}" bench kv --cluster "$file" --clients 16 --read-ratio 0 --duration "$PRIME" --warmup 0s --keys "$KEYS" \
    --value-size "$VALUE_SIZE" --request-timeout "$REQUEST_TIMEOUT" --json >/dev/null
  say "$groups group(s): put-only, $CLIENTS clients, $DURATION"
  "${FLOTILLA[@]}" bench kv --cluster "$file" --clients "$CLIENTS" --read-ratio 0 --duration "$DURATION" --warmup "$WARMUP" \
    --keys "$KEYS" --value-size "$VALUE_SIZE" --request-timeout "$REQUEST_TIMEOUT" --json >"$WORK/g$groups.json"
  line=$(jq -r --arg g "$groups" '"\($g)\t\(.writes.opsPerSecond | floor)\t\(.writes.latencyMs.p50)\t\(.writes.latencyMs.p99)"' "$WORK/g$groups.json")
  echo "$line"
  RESULTS+=("$line")
  stop_cluster
done

echo
printf '%-7s %10s %9s %9s\n' groups "puts/s" "p50 ms" "p99 ms"
for line in "${RESULTS[@]}"; do IFS=$'\t' read -r g ops p50 p99 <<<"$line"; printf '%-7s %10s %9s %9s\n' "$g" "$ops" "$p50" "$p99"; done

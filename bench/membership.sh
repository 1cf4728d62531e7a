#!/usr/bin/env bash
# Membership changes under load (issue 11): how long `flotilla cluster add` takes to catch a new member up with a
# 3-member cluster holding N MiB of state, and what adding and removing members costs the puts running meanwhile.
#
#   bench/membership.sh                      # 1 GiB of state (needs several GiB of RAM: see below)
#   BENCH_STATE_MB=64 bench/membership.sh    # a quick run
#
# Env: BENCH_STATE_MB (1024: MiB of state loaded before the add), BENCH_VALUE_KIB (64: KiB per loaded value, so the
#      state is STATE_MB*1024/VALUE_KIB keys), BENCH_LOAD_CLIENTS (8: parallel loaders), BENCH_CLIENTS (8: clients of
#      the put windows), BENCH_PUT_KEYS (100: keys the put windows write, 100-byte values; the load writes that many
#      keys more than the state needs, so once the windows have rewritten them small the state is still STATE_MB), BENCH_QUIET (20s: the quiet window), BENCH_CHANGE_WINDOW
#      (auto: 2 catch-ups + 10 s, at least 20 s, so at least one add and remove fall in it), BENCH_CATCH_UP_TIMEOUT (900:
#      seconds a new member has to catch up), BENCH_SNAPSHOT_MB (half the state, at least 8: `cluster start
#      --snapshot-threshold`, so the log is compacted a few times while loading and the new member gets a snapshot of
#      the whole state, then the log after it), FLOTILLA_BIN (a flotilla command to use instead of building
#      src/Flotilla.Cli in Release), BENCH_KEEP (1: keep the work directory, with every member's log), BENCH_FORCE (1: run
#      even when the state looks too big for the memory available, see below).
# Steps: `flotilla cluster start --nodes 3 --dir DIR` in the background (waits for DIR/cluster.json and a leader);
# load the state with `flotilla bench kv` (its preload creates every key once; closed loop, LOAD_CLIENTS in parallel);
# (a) quiet window: `bench kv` put-only, no change; (b) catch-up: time `flotilla cluster add` (start the member, add it
# as a learner, wait until it is within 100 entries of the leader, promote it: the whole command, as an operator sees
# it), then remove it again; (c) change window: `bench kv` put-only while a loop adds a member and removes it again.
# The members' summed RSS is sampled every second (peak printed).
# Prints the steps on stderr and, as its last line:
#   membership: catchup_1gib_s=X catchup_mb_s=Y put_p99_quiet_ms=A put_p99_change_ms=B ...
# (catchup_<N>mib_s when BENCH_STATE_MB is not 1024). Every process it starts is stopped on exit (trap EXIT).
# Method and measured numbers: docs/benchmarks.md "Membership changes".
set -euo pipefail

STATE_MB=${BENCH_STATE_MB:-1024}
VALUE_KIB=${BENCH_VALUE_KIB:-64}
LOAD_CLIENTS=${BENCH_LOAD_CLIENTS:-8}
CLIENTS=${BENCH_CLIENTS:-8}
PUT_KEYS=${BENCH_PUT_KEYS:-100}
QUIET=${BENCH_QUIET:-20s}
CHANGE_WINDOW=${BENCH_CHANGE_WINDOW:-auto}
CATCH_UP_TIMEOUT=${BENCH_CATCH_UP_TIMEOUT:-900}
# The default threshold (8 MiB of Raft log) would snapshot the whole state every 128 puts of 64 KiB while loading.
SNAPSHOT_MB=${BENCH_SNAPSHOT_MB:-$(( STATE_MB / 2 > 8 ? STATE_MB / 2 : 8 ))}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d -t flotilla-membership.XXXXXX)
CLUSTER_PID=""
SAMPLER_PID=""

for v in STATE_MB VALUE_KIB LOAD_CLIENTS CLIENTS PUT_KEYS CATCH_UP_TIMEOUT SNAPSHOT_MB; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "membership: BENCH_$v must be a positive integer, not '${!v}'" >&2; exit 2; }
done
((VALUE_KIB <= 1024)) || { echo "membership: BENCH_VALUE_KIB must be at most 1024 (the KV's value limit is 1 MiB)" >&2; exit 2; }

# Memory: the members' summed peak RSS is ~18x the state (4.6 GiB for 256 MiB, 2026-12-04, after snapshot streaming;
# it was ~57x while snapshots were held in memory): each member keeps the state as UTF-16 strings, the Raft log since
# the last snapshot (up to BENCH_SNAPSHOT_MB) and GC headroom. Refuse a state that would not fit rather than let the
# kernel's OOM killer pick processes on a shared machine.
NEED_MB=$((STATE_MB * 18))
AVAIL_MB=$(awk '/^MemAvailable:/ { printf "%d", $2 / 1024 }' /proc/meminfo 2>/dev/null || echo 0)
if ((AVAIL_MB > 0 && NEED_MB > AVAIL_MB)) && [[ ${BENCH_FORCE:-0} != 1 ]]; then
  echo "membership: ${STATE_MB} MiB of state needs about $((NEED_MB / 1024)) GiB of RAM (measured ~18x the state); $((AVAIL_MB / 1024)) GiB available: set BENCH_STATE_MB lower, or BENCH_FORCE=1" >&2
  rmdir "$WORK"
  exit 1
fi

cleanup() {
  [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null || true
  local pids=""
  [[ -f $WORK/flotilla/cluster.json ]] && pids=$(jq -r '.members[].pid' "$WORK/flotilla/cluster.json" 2>/dev/null || true)
  if [[ -n $CLUSTER_PID ]]; then
    kill -TERM "$CLUSTER_PID" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$CLUSTER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CLUSTER_PID" 2>/dev/null || true
    wait "$CLUSTER_PID" 2>/dev/null || true
  fi
  # `cluster start` stops its members on SIGTERM; any it had to leave (killed itself) are stopped here.
  for pid in $pids $(cat "$WORK/added.pids" 2>/dev/null || true); do
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "membership: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

say() { echo "== $(date -u +%H:%M:%S) $*" >&2; }

wait_for() { # wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds or the time is up.
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "membership: $what not ready after ${seconds}s" >&2; return 1; fi
    sleep 0.2
  done
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

for tool in jq awk; do command -v "$tool" >/dev/null || { echo "membership: needs $tool" >&2; exit 1; }; done
if [[ -n ${FLOTILLA_BIN:-} ]]; then
  read -r -a FLOTILLA <<<"$FLOTILLA_BIN"
else
  say "building src/Flotilla.Cli (Release)"
  dotnet build "$ROOT/src/Flotilla.Cli" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
  FLOTILLA=(dotnet "$ROOT/src/Flotilla.Cli/bin/Release/net10.0/flotilla.dll")
fi

# --- a 3-member cluster in the background ------------------------------------------------------------------------------
"${FLOTILLA[@]}" cluster start --nodes 3 --dir "$WORK/flotilla" --snapshot-threshold $((SNAPSHOT_MB * 1024 * 1024)) >"$WORK/cluster.log" 2>&1 &
CLUSTER_PID=$!
CLUSTER="$WORK/flotilla/cluster.json"
wait_for "cluster.json" 60 jq -e '.members | length == 3' "$CLUSTER" || { tail -20 "$WORK/cluster.log" >&2; exit 1; }
status_has_leader() { "${FLOTILLA[@]}" cluster status --json --cluster "$CLUSTER" | jq -e 'any(.[]; .role == "Leader")'; }
wait_for "a leader" 60 status_has_leader || { "${FLOTILLA[@]}" cluster status --cluster "$CLUSTER" >&2 || true; exit 1; }
say "cluster: $CLUSTER"

# Peak of the members' summed resident memory (whatever members cluster.json lists at each second).
(
  peak=0
  while true; do
    sum=0
    for pid in $(jq -r '.members[].pid' "$CLUSTER" 2>/dev/null); do
      kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
      sum=$((sum + ${kb:-0}))
    done
    ((sum > peak)) && peak=$sum && echo "$peak" >"$WORK/rss.peak"
    sleep 1
  done
) &
SAMPLER_PID=$!

# --- load the state: keys PUT_KEYS.. get VALUE_KIB each --------------------------------------------------------------
STATE_KEYS=$((STATE_MB * 1024 / VALUE_KIB))
say "loading ${STATE_MB} MiB: $STATE_KEYS keys of $VALUE_KIB KiB with $LOAD_CLIENTS clients"
started=$(now)
# bench kv's preload (run when the load reads at all: hence a read ratio above 0) creates every key 0..KEYS-1 that is
# missing, LOAD_CLIENTS in parallel; the 1 s run after it rewrites a few of them. A put whose outcome is unknown (an
# election under this load: seen on the shared 2-core VM) stops the preload; run again, it skips the keys that exist,
# so a run that finishes means every key is there.
created=0 attempts=0
until "${FLOTILLA[@]}" bench kv --cluster "$CLUSTER" --keys $((PUT_KEYS + STATE_KEYS)) --value-size $((VALUE_KIB * 1024)) \
  --clients "$LOAD_CLIENTS" --read-ratio 0.01 --duration 1s --warmup 0s --request-timeout 30s --json >"$WORK/load.json"; do
  attempts=$((attempts + 1))
  ((attempts < 10)) || { echo "membership: loading failed $attempts times" >&2; exit 1; }
  say "loading stopped (see above); resuming"
done
created=$(jq -r .preloadedKeys "$WORK/load.json")
LOAD_S=$(elapsed "$started" "$(now)")
LOAD_MB_S=$(awk -v mb="$STATE_MB" -v s="$LOAD_S" 'BEGIN { printf "%.1f", mb / s }')
say "loaded in ${LOAD_S} s (${LOAD_MB_S} MiB/s; $attempts resumptions)"

put_window() { # put_window NAME DURATION: put-only load on the first PUT_KEYS keys (100-byte values)
  "${FLOTILLA[@]}" bench kv --cluster "$CLUSTER" --keys "$PUT_KEYS" --value-size 100 --clients "$CLIENTS" --read-ratio 0 \
    --duration "$2" --warmup 1s --request-timeout 10s --json >"$WORK/$1.json"
}

# --- (a) quiet window ------------------------------------------------------------------------------------------------
say "quiet window: $QUIET of puts, $CLIENTS clients"
put_window quiet "$QUIET"

# --- (b) catch-up: one `cluster add`, timed, then its member removed again --------------------------------------------
add_member() { # add_member OUT: cluster add --json into OUT, its member's pid kept for cleanup
  "${FLOTILLA[@]}" cluster add --cluster "$CLUSTER" --json --catch-up-timeout-seconds "$CATCH_UP_TIMEOUT" --lock-timeout-seconds 60 >"$1"
  jq -r .pid "$1" >>"$WORK/added.pids"
}
say "catch-up: cluster add with ${STATE_MB} MiB of state"
started=$(now)
add_member "$WORK/add.json" || { echo "membership: cluster add failed" >&2; exit 1; }
CATCHUP_S=$(elapsed "$started" "$(now)")
CATCHUP_MB_S=$(awk -v mb="$STATE_MB" -v s="$CATCHUP_S" 'BEGIN { printf "%.1f", mb / s }')
ADDED=$(jq -r .added "$WORK/add.json")
say "n$ADDED caught up and promoted in ${CATCHUP_S} s (${CATCHUP_MB_S} MiB/s); membership $(jq -r .membership "$WORK/add.json")"
"${FLOTILLA[@]}" cluster remove "$ADDED" --cluster "$CLUSTER" --lock-timeout-seconds 60 >&2

# --- (c) change window: puts while members are added and removed -------------------------------------------------------
if [[ $CHANGE_WINDOW == auto ]]; then
  CHANGE_WINDOW="$(awk -v s="$CATCHUP_S" 'BEGIN { w = 2 * s + 10; if (w < 20) w = 20; printf "%d", w }')s"
fi
say "change window: $CHANGE_WINDOW of puts while a member is added and removed in a loop"
put_window change "$CHANGE_WINDOW" &
BENCH_PID=$!
changes=0
failed=0
while kill -0 "$BENCH_PID" 2>/dev/null; do
  # A failed add leaves the cluster as it was (its learner is removed again): count it and go on.
  if ! add_member "$WORK/loop-add.json"; then failed=$((failed + 1)); continue; fi
  id=$(jq -r .added "$WORK/loop-add.json")
  "${FLOTILLA[@]}" cluster remove "$id" --cluster "$CLUSTER" --lock-timeout-seconds 60 >/dev/null \
    || { echo "membership: cluster remove $id failed during the change window" >&2; break; }
  changes=$((changes + 1))
done
wait "$BENCH_PID"
say "change window: $changes add+remove pairs completed, $failed adds failed"

# --- results -----------------------------------------------------------------------------------------------------------
get() { jq -r "$2" "$WORK/$1.json"; }
errors() { jq -r "[.all.errors | to_entries[] | \"\(.key)=\(.value)\"] | join(\",\") | if . == \"\" then \"-\" else . end" "$WORK/$1.json"; }
PEAK_MB=$(awk '{ printf "%d", $1 / 1024 }' "$WORK/rss.peak" 2>/dev/null || echo 0)
echo
echo "Membership changes: ${STATE_MB} MiB of state ($STATE_KEYS x $VALUE_KIB KiB), 3 members + 1 added, $(nproc) cores, loopback"
printf '%-34s %12s\n' "load (s, MiB/s, resumptions)" "$LOAD_S, $LOAD_MB_S, $attempts"
printf '%-34s %12s\n' "cluster add: catch-up + promote (s)" "$CATCHUP_S"
printf '%-34s %12s\n' "cluster add: MiB/s" "$CATCHUP_MB_S"
for w in quiet change; do
  printf '%-34s %12.0f   errors %s\n' "puts/s ($w, $CLIENTS clients)" "$(get $w .writes.opsPerSecond)" "$(errors $w)"
  printf '%-34s %12.2f\n' "put p50 ms ($w)" "$(get $w .writes.latencyMs.p50)"
  printf '%-34s %12.2f\n' "put p99 ms ($w)" "$(get $w .writes.latencyMs.p99)"
  printf '%-34s %12.2f\n' "put max ms ($w)" "$(get $w .writes.latencyMs.max)"
done
printf '%-34s %12s\n' "add+remove pairs in change window" "$changes ($failed adds failed)"
printf '%-34s %12s\n' "peak RSS, members summed (MiB)" "$PEAK_MB"
KEY=$([[ $STATE_MB == 1024 ]] && echo catchup_1gib_s || echo "catchup_${STATE_MB}mib_s")
echo "membership: $KEY=$CATCHUP_S catchup_mb_s=$CATCHUP_MB_S put_p99_quiet_ms=$(get quiet .writes.latencyMs.p99)" \
  "put_p99_change_ms=$(get change .writes.latencyMs.p99) put_p50_quiet_ms=$(get quiet .writes.latencyMs.p50)" \
  "put_p50_change_ms=$(get change .writes.latencyMs.p50) changes=$changes failed_adds=$failed snapshot_threshold_mb=$SNAPSHOT_MB peak_rss_mb=$PEAK_MB"

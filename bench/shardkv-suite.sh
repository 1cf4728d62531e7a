#!/usr/bin/env bash
# Issue #10's benchmark criteria for the sharded KV in ONE run, on one machine, driven by `flotilla bench kv`:
#   A. put throughput at 64 clients: etcd (3 members), the single-group replicated store (`cluster start --nodes 3`)
#      and the sharded store with 1, 2 and 3 groups (`cluster start --groups G`, 16 shards), one after the other;
#   B. put p50/p99 during a live move of a third of the shards (5 of 16, group 1 -> group 2, 2 groups) vs the quiet
#      rest of the same load run (windowed from the run's --history);
#   C. the time of `shard move SHARD GID --wait` for one shard holding ~10k keys (4 shards, 40k keys preloaded), with
#      100-byte values and with BENCH_BIG_VALUE-byte values (past the 4 MiB peer message limit, to show what happens).
#
#   bench/shardkv-suite.sh          # ~6 minutes on 2 cores
#
# Env: BENCH_DURATION (5s), BENCH_WARMUP (1s), BENCH_PRIME (3s), BENCH_CLIENTS (64), BENCH_KEYS (1000),
#      BENCH_VALUE_SIZE (100), BENCH_MOVE_RUN (14: seconds of load in B), BENCH_MOVE_AT (4: seconds into B's load when
#      the moves start), BENCH_BIG_VALUE (1000), BENCH_BASE_PORT (32379, etcd's 6 ports), FLOTILLA_BIN, BENCH_SKIP ("":
#      any of A B C to skip). Every process it starts is stopped on exit. Results: docs/benchmarks.md, "Sharded KV".
set -euo pipefail

DURATION=${BENCH_DURATION:-5s}
WARMUP=${BENCH_WARMUP:-1s}
PRIME=${BENCH_PRIME:-3s}
CLIENTS=${BENCH_CLIENTS:-64}
KEYS=${BENCH_KEYS:-1000}
VALUE_SIZE=${BENCH_VALUE_SIZE:-100}
MOVE_RUN=${BENCH_MOVE_RUN:-14}
MOVE_AT=${BENCH_MOVE_AT:-4}
BIG_VALUE=${BENCH_BIG_VALUE:-1000}
BASE_PORT=${BENCH_BASE_PORT:-32379}
SKIP=${BENCH_SKIP:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d -t flotilla-shardkv-suite.XXXXXX)
PIDS=() MEMBER_PIDS=""

stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # `cluster start` stops its members on SIGTERM; if it had to be killed they would be orphans: stop them too.
  for pid in ${MEMBER_PIDS:-}; do
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=() MEMBER_PIDS=""
}
cleanup() { stop_all; [[ -n ${BENCH_KEEP:-} ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT
say() { echo "== $(date -u +%H:%M:%S) $*" >&2; }
load() { say "uptime: $(uptime)"; }
wait_for() { # wait_for DESCRIPTION SECONDS COMMAND...
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "shardkv-suite: $what not ready after ${seconds}s" >&2; return 1; fi
    sleep 0.2
  done
}
now_ns() { date +%s%N; }
skip() { [[ " $SKIP " == *" $1 "* ]]; }

for tool in jq curl python3; do command -v "$tool" >/dev/null || { echo "shardkv-suite: needs $tool" >&2; exit 1; }; done
if ! skip A && ! command -v etcd >/dev/null; then
  say "installing etcd-server with apt"
  apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server >/dev/null
fi
if [[ -n ${FLOTILLA_BIN:-} ]]; then
  read -r -a FLOTILLA <<<"$FLOTILLA_BIN"
else
  say "building src/Flotilla.Cli (Release)"
  dotnet build "$ROOT/src/Flotilla.Cli" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
  FLOTILLA=(dotnet "$ROOT/src/Flotilla.Cli/bin/Release/net10.0/flotilla.dll")
fi
F=$(printf '%q ' "${FLOTILLA[@]}")

start_replicated() { # -> $WORK/rep/cluster.json
  "${FLOTILLA[@]}" cluster start --nodes 3 --dir "$WORK/rep" >"$WORK/rep.log" 2>&1 &
  PIDS+=($!)
  wait_for "replicated cluster.json" 90 jq -e '.members | length == 3' "$WORK/rep/cluster.json" || { tail -20 "$WORK/rep.log" >&2; exit 1; }
  MEMBER_PIDS=$(jq -r '.members[].pid' "$WORK/rep/cluster.json")
  wait_for "a replicated leader" 90 sh -c "$F cluster status --json --cluster '$WORK/rep/cluster.json' | jq -e 'any(.[]; .role == \"Leader\")'"
}
start_sharded() { # start_sharded NAME GROUPS SHARDS -> $WORK/NAME/cluster.json
  "${FLOTILLA[@]}" cluster start --groups "$2" --nodes 3 --shards "$3" --dir "$WORK/$1" >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  local file="$WORK/$1/cluster.json"
  wait_for "$1 cluster.json" 90 jq -e '.kind == "sharded-kv"' "$file" || { tail -20 "$WORK/$1.log" >&2; exit 1; }
  MEMBER_PIDS=$(jq -r '.members[].pid' "$file")
  wait_for "$1: every shard Serving" 90 sh -c "$F shard status --json --cluster '$file' | jq -e '[.shards[].state] | all(. == \"Serving\")'" \
    || { "${FLOTILLA[@]}" shard status --cluster "$file" >&2 || true; exit 1; }
}
start_etcd() { # -> ETCD_ENDPOINTS
  local i client peer cluster=""
  ETCD_ENDPOINTS=""
  for i in 1 2 3; do cluster+="${cluster:+,}m$i=http://127.0.0.1:$((BASE_PORT + 2 * i - 1))"; done
  for i in 1 2 3; do
    client=$((BASE_PORT + 2 * i - 2)) peer=$((BASE_PORT + 2 * i - 1))
    etcd --name "m$i" --data-dir "$WORK/etcd$i" \
      --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
      --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token flotilla-bench \
      --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) >"$WORK/etcd$i.log" 2>&1 &
    PIDS+=($!)
    ETCD_ENDPOINTS+="${ETCD_ENDPOINTS:+,}127.0.0.1:$client"
  done
  for i in 1 2 3; do
    wait_for "etcd member m$i" 30 sh -c "curl -fsS http://127.0.0.1:$((BASE_PORT + 2 * i - 2))/health | grep -q '\"health\":\"true\"'" \
      || { tail -20 "$WORK/etcd$i.log" >&2; exit 1; }
  done
}
bench() { # bench TARGET ENDPOINTS OUT.json [extra bench options...]: prime, then the measured put-only run
  local target=$1 endpoints=$2 out=$3; shift 3
  say "$out: priming ($PRIME, 16 clients, not measured)"
  "${FLOTILLA[@]}" bench kv --target "$target" --cluster "$endpoints" --clients 16 --read-ratio 0 --duration "$PRIME" \
    --warmup 0s --keys "$KEYS" --value-size "$VALUE_SIZE" --request-timeout 10s --json >/dev/null
  say "$out: put-only, $CLIENTS clients, $DURATION after $WARMUP warmup"
  "${FLOTILLA[@]}" bench kv --target "$target" --cluster "$endpoints" --clients "$CLIENTS" --read-ratio 0 --duration "$DURATION" \
    --warmup "$WARMUP" --keys "$KEYS" --value-size "$VALUE_SIZE" --json "$@" >"$WORK/$out"
}
row() { jq -r --arg n "$1" '"\($n)\t\(.writes.opsPerSecond * 10 | floor / 10)\t\(.writes.latencyMs.p50 * 100 | round / 100)\t\(.writes.latencyMs.p99 * 100 | round / 100)\t\([.all.errors | to_entries[] | "\(.key)=\(.value)"] | join(",") | if . == "" then "-" else . end)"' "$WORK/$2"; }

# --- A: throughput ------------------------------------------------------------------------------------------------------
if ! skip A; then
  say "A: throughput at $CLIENTS clients; etcd: $(etcd --version | head -1)"; load
  A_ROWS=()
  start_etcd; bench etcd "$ETCD_ENDPOINTS" a-etcd.json; stop_all; A_ROWS+=("$(row "etcd 3.4 (3 members)" a-etcd.json)"); load
  start_replicated; bench flotilla "$WORK/rep/cluster.json" a-rep.json; stop_all; A_ROWS+=("$(row "replicated, 1 group (--nodes 3)" a-rep.json)"); load
  for g in 1 2 3; do
    start_sharded "g$g" "$g" 16; bench flotilla "$WORK/g$g/cluster.json" "a-g$g.json"; stop_all
    A_ROWS+=("$(row "sharded, $g group(s), 16 shards" "a-g$g.json")"); load
  done
  echo; echo "A. put-only, $CLIENTS clients, $DURATION after $WARMUP warmup (primed $PRIME), $KEYS keys, $VALUE_SIZE-byte values"
  printf '%-34s %10s %9s %9s  %s\n' system "puts/s" "p50 ms" "p99 ms" errors
  for line in "${A_ROWS[@]}"; do IFS=$'\t' read -r n ops p50 p99 err <<<"$line"; printf '%-34s %10s %9s %9s  %s\n' "$n" "$ops" "$p50" "$p99" "$err"; done
fi

# --- B: latency during a live move of 5 of 16 shards --------------------------------------------------------------------
if ! skip B; then
  say "B: live move"; load
  start_sharded gb 2 16
  file="$WORK/gb/cluster.json"
  # Priming with a long request deadline also waits out a slow first answer on a loaded machine (the probe's deadline).
  "${FLOTILLA[@]}" bench kv --cluster "$file" --clients 16 --read-ratio 0 --duration "$PRIME" --warmup 0s --keys "$KEYS" \
    --request-timeout 10s --json >/dev/null
  read -r -a MOVE <<<"$("${FLOTILLA[@]}" shard status --json --cluster "$file" | jq -r '[.shards[] | select(.gid == 1) | .shard][:5] | join(" ")')"
  # The history's times are ns since the bench process created its recorder; the bench process is launched at
  # T0 (wall clock) and the recorder exists about one process start-up later. That start-up is measured here with the
  # same binary (`flotilla --version`), so the move times can be placed on the history's clock (error ~ +-0.2 s).
  s0=$(now_ns); "${FLOTILLA[@]}" --version >/dev/null 2>&1 || true; STARTUP_NS=$(( $(now_ns) - s0 ))
  T0=$(now_ns)
  "${FLOTILLA[@]}" bench kv --cluster "$file" --clients "$CLIENTS" --read-ratio 0 --duration "${MOVE_RUN}s" --warmup 0s \
    --keys "$KEYS" --value-size "$VALUE_SIZE" --history "$WORK/b-history.json" --json >"$WORK/b.json" &
  BENCH_PID=$!
  sleep "$MOVE_AT"
  # The moves are issued at once (5 concurrent `shard move` commands, no --wait; the controller orders them, one
  # configuration each, and the groups apply them one after another), then the window lasts until every moved shard
  # is Serving in group 2.
  m0=$(now_ns)
  MOVERS=()
  for s in "${MOVE[@]}"; do
    timeout 30 "${FLOTILLA[@]}" shard move "$s" 2 --cluster "$file" >>"$WORK/b-moves.log" 2>&1 &
    MOVERS+=($!)
  done
  for pid in "${MOVERS[@]}"; do wait "$pid" || echo "a shard move failed: $(cat "$WORK/b-moves.log")" >&2; done
  m1=$(now_ns)
  moved=$(printf '%s,' "${MOVE[@]}"); moved="[${moved%,}]"
  wait_for "moved shards Serving in group 2" 60 sh -c "$F shard status --json --cluster '$file' | jq -e --argjson m '$moved' '[.shards[] | select(.shard as \$s | \$m | index(\$s))] | all(.gid == 2 and .state == \"Serving\")'" \
    || echo "moves not settled within 60 s" >&2
  echo "${MOVE[*]} $m0 $(now_ns) $m1" >"$WORK/b-moves.txt"
  wait "$BENCH_PID"
  "${FLOTILLA[@]}" shard status --cluster "$file" >"$WORK/b-status.txt" 2>&1 || true
  stop_all
  echo; echo "B. 2 groups, 16 shards, put-only, $CLIENTS clients, ${MOVE_RUN}s of load; shards ${MOVE[*]} moved group 1 -> 2 from ~${MOVE_AT}s"
  python3 - "$WORK/b-history.json" "$WORK/b-moves.txt" "$T0" "$STARTUP_NS" <<'PY'
import json, sys
hist, moves, t0, startup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
origin = t0 + startup  # wall-clock ns of the history's time 0 (approximately)
f = open(moves).read().split()
shards, m0, m1, issued = f[:-3], int(f[-3]), int(f[-2]), int(f[-1])
ms, me = m0 - origin, m1 - origin
ops = [o for o in json.load(open(hist))["operations"]
       if o["input"]["op"] == "put" and o.get("return") is not None and o.get("output") and not o["output"].get("error")]
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, max(0, int(-(-p * len(xs) // 100)) - 1))] / 1e6 if xs else float("nan")
first = min(o["call"] for o in ops)
def window(pred):
    xs = [o["return"] - o["call"] for o in ops if pred(o["call"])]
    return xs
before = window(lambda c: first + 1e9 <= c < ms)  # the first second is skipped (connections, JIT)
during = window(lambda c: ms <= c <= me)
last = max(o["call"] for o in ops)
after = window(lambda c: c > me)
print(f"  moves of shards {' '.join(shards)} issued in {(issued - m0) / 1e9:.2f} s; all Serving in group 2 after {(m1 - m0) / 1e9:.2f} s")
print(f"  move window {ms / 1e9:.2f}-{me / 1e9:.2f} s on the history's clock (start-up offset {startup / 1e9:.2f} s)")
print(f"  {'window':<28} {'puts':>7} {'puts/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
for name, xs, span in (("quiet, before the moves", before, ms - first - 1e9), ("during the moves", during, me - ms),
                       ("quiet, after the moves", after, max(1, last - me))):
    if xs: print(f"  {name:<28} {len(xs):>7} {len(xs) / (span / 1e9):>8.0f} {pct(xs, 50):>8.2f} {pct(xs, 99):>8.2f} {max(xs) / 1e6 if xs else 0:>8.1f}")
print("  per second (s: puts p50 p99):", "; ".join(
    f"{i}: {len(xs)} {pct(xs, 50):.1f} {pct(xs, 99):.1f}" for i in range(int((max(o['call'] for o in ops) - first) // 1e9) + 1)
    for xs in [[o["return"] - o["call"] for o in ops if first + i * 1e9 <= o["call"] < first + (i + 1) * 1e9]]))
PY
  jq -c '{ok: .writes.ok, opsPerSecond: .writes.opsPerSecond, p50: .writes.latencyMs.p50, p99: .writes.latencyMs.p99, max: .writes.latencyMs.max, errors: .all.errors}' "$WORK/b.json"
  grep -c Serving "$WORK/b-status.txt" | sed 's/^/  shards Serving afterwards: /'
  load
fi

# --- C: moving one shard of ~10k keys -----------------------------------------------------------------------------------
if ! skip C; then
  COUNTS=($(python3 "$ROOT/bench/shard_of.py" 4 40000))
  echo; echo "C. one shard of 4 (2 groups), 40000 keys preloaded: shard 0 holds ${COUNTS[0]} keys"
  for vs in "$VALUE_SIZE" "$BIG_VALUE"; do
    say "C: $vs-byte values"; load
    start_sharded "gc$vs" 2 4
    file="$WORK/gc$vs/cluster.json"
    p0=$(now_ns)
    # A read ratio above 0 makes the load tool preload (create if absent) every key first; the 1 s of load after it is
    # noise. On a loaded machine a put may time out and come back ErrMaybe, which stops the preload: run it again
    # (it only creates the keys still absent), up to 3 times.
    for attempt in 1 2 3; do
      "${FLOTILLA[@]}" bench kv --cluster "$file" --clients 16 --read-ratio 0.01 --duration 1s --warmup 0s --keys 40000 \
        --value-size "$vs" --request-timeout 30s --json >"$WORK/c$vs.json" && break
      say "C: preload attempt $attempt failed; again"
    done
    pre=$(( ($(now_ns) - p0) / 1000000 ))
    from=$("${FLOTILLA[@]}" shard status --json --cluster "$file" | jq -r '.shards[] | select(.shard == 0) | .gid')
    to=$((3 - from))
    m0=$(now_ns)
    if timeout 120 "${FLOTILLA[@]}" shard move 0 "$to" --cluster "$file" --wait >"$WORK/c$vs-move.log" 2>&1; then rc=0; else rc=$?; fi
    took=$(( ($(now_ns) - m0) / 1000000 ))
    echo "  ${vs}-byte values: preloaded $(jq -r .preloadedKeys "$WORK/c$vs.json") keys in ${pre} ms; shard move 0 $from->$to --wait: exit $rc after ${took} ms: $(tail -1 "$WORK/c$vs-move.log")"
    "${FLOTILLA[@]}" shard status --cluster "$file" 2>&1 | sed 's/^/    /' | head -8 || true
    grep -h -i -E "limit|too large|exceed|RESOURCE_EXHAUSTED|message" "$WORK/gc$vs"/*/server.log "$WORK/gc$vs"/*/*/server.log 2>/dev/null | sort | uniq -c | sort -rn | head -5 | cut -c1-400 | sed 's/^/    log: /' || true
    stop_all
  done
  load
fi

#!/usr/bin/env bash
# Raft commit latency and throughput: Flotilla vs DotNext.Net.Cluster 6.12.0, 3 members each on loopback, fsync on.
#
#   bench/raft/run.sh                                   # 5 s windows, 1 s warmup, 1/16/64 proposers, both systems
#   bench/raft/run.sh --seconds 10 --warmup 2
#   bench/raft/run.sh --systems flotilla --proposers 1,16
#
# Options (passed to the benchmark): --seconds S, --warmup S, --prime S (one unmeasured 16-proposer run per system
# first, default 3), --proposers LIST, --command-bytes N, --protocol tcp|grpc (Flotilla peers, default tcp),
# --systems flotilla,dotnext. Env BENCH_KEEP=1 keeps the temp dir (node logs, data).
# Builds bench/raft/Flotilla.Bench.Raft in Release, then runs it: it measures the disk (4 KiB write + fsync, appending
# and preallocated) and the loopback TCP round trip, starts 3 Flotilla node processes (RealNodeHost + gRPC +
# ReplicatedStateMachine over RaftNode/WAL), measures, stops them, then does the same with 3 DotNext processes (TCP
# transport, persistent WriteAheadLog), measures the disk again and prints one table. Every node process it starts
# exits when the benchmark exits (their stdin is the benchmark's pipe). Results: docs/benchmarks.md, "Raft".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROJECT="$ROOT/bench/raft/Flotilla.Bench.Raft"
LOG=$(mktemp -t flotilla-bench-raft-build.XXXXXX)
trap 'rm -f "$LOG"' EXIT
echo "== building $PROJECT (Release)" >&2
dotnet build "$PROJECT" -c Release -nologo -v q >"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }
echo "== $(date -u +%FT%TZ) $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
dotnet "$PROJECT/bin/Release/net10.0/Flotilla.Bench.Raft.dll" "$@"
echo "== $(date -u +%FT%TZ) load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

#!/usr/bin/env bash
# Word-count benchmark of the MapReduce engine beside a single-threaded C# loop and a coreutils pipeline,
# all in the same run, on the Gutenberg set and on a corpus of SIZE_MIB MiB made by repeating it (in /tmp).
# Usage: bench/mapreduce/run.sh [SIZE_MIB=1024] [REDUCE=10]
# Prints one line per measurement: wall-clock MiB/s, and MiB per CPU-second (user+sys, children included),
# which is the fairer number when the machine is shared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
size_mib=${1:-1024}
reduce=${2:-10}
books=${FLOTILLA_BOOKS:-/work/shared/data/gutenberg}
corpus=/tmp/flotilla-mr-corpus-${size_mib}m
bin=/tmp/flotilla-wcbench

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(uname -sr), dotnet $(dotnet --version)"
dotnet build -c Release -o "$bin" "$here/wcbench.cs" > /tmp/flotilla-wcbench-build.log
"$here/make-corpus.sh" "$size_mib" "$corpus" > /dev/null

measure() { # name bytes command...
  local name=$1 bytes=$2; shift 2
  local t0 t1 cpu
  t0=$(date +%s.%N)
  local times; times=$( { TIMEFORMAT='%U %S'; time "$@" > /tmp/flotilla-wcbench.out 2>&1; } 2>&1 )
  t1=$(date +%s.%N)
  cpu=$(echo "$times" | awk '{print $1 + $2}')
  awk -v n="$name" -v b="$bytes" -v w="$(echo "$t1 - $t0" | bc)" -v c="$cpu" \
    'BEGIN { m = b / 1048576; printf "%-34s %8.1f MiB  %7.2f s  %7.1f MiB/s  %7.1f MiB/cpu-s\n", n, m, w, m / w, m / c }'
}

coreutils_wc() { LC_ALL=C cat "$@" | LC_ALL=C tr -cs A-Za-z '\n' | LC_ALL=C sort | LC_ALL=C uniq -c > /dev/null; }

for set in gutenberg corpus; do
  if [[ $set == gutenberg ]]; then files=("$books"/*.txt); else files=("$corpus"/*.txt); fi
  bytes=$(cat "${files[@]}" | wc -c)
  echo "## $set: ${#files[@]} files"
  measure "single-threaded C# loop"     "$bytes" dotnet "$bin/wcbench.dll" loop "${files[@]}"
  measure "flotilla mapreduce, 1 worker"  "$bytes" dotnet "$bin/wcbench.dll" mr 1 "$reduce" "${files[@]}"
  measure "flotilla mapreduce, 2 workers" "$bytes" dotnet "$bin/wcbench.dll" mr 2 "$reduce" "${files[@]}"
  measure "tr | sort | uniq -c"           "$bytes" coreutils_wc "${files[@]}"
done

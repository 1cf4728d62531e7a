#!/usr/bin/env bash
# Flotilla MapReduce (2 worker processes) against DuckDB (in process, SET threads=2), same inputs, same run:
# word count and inverted index on a SIZE_MIB MiB corpus (make-corpus.sh: the Gutenberg books repeated), and a sort
# of SORT_MIB MiB of 100-byte records (10-byte key + 90-byte payload, the MapReduce paper's / TeraSort's sort, made
# by `mrbench gen`) with GNU sort (LC_ALL=C, --parallel=2) alongside. Everything generated goes to /tmp.
# Usage: bench/mapreduce/vs-duckdb.sh [SIZE_MIB=512] [SORT_MIB=1024] [REDUCE=10]
#        bench/mapreduce/vs-duckdb.sh --small     4 MiB corpus, 4 MiB of records, 4 reducers, no separate Gutenberg
#                                                 check (the corpus is the books): proves it all works, ~30 s
# One line per measurement: wall time, MiB/s of input over wall time, MiB per CPU-second (user+sys, children
# included) and peak memory (VmHWM of every process of the run summed; GNU sort: its max RSS). Outputs are checked
# equal across systems. Last line: flotilla/duckdb wc=R indexer=R sort=R, R = DuckDB's wall time / Flotilla's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
small=0
if [[ ${1:-} == --small ]]; then small=1; shift; set -- 4 4 4; fi
size_mib=${1:-512}
sort_mib=${2:-1024}
reduce=${3:-10}
books=${FLOTILLA_BOOKS:-/work/shared/data/gutenberg}
corpus=/tmp/flotilla-mr-corpus-${size_mib}m
records=/tmp/flotilla-mr-sort-${sort_mib}m
bin=/tmp/flotilla-mrbench
out=/tmp/flotilla-mrbench-out
bench=(dotnet "$bin/mrbench.dll")

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(uname -sr), dotnet $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build -c Release -o "$bin" "$here/mrbench.cs" > /tmp/flotilla-mrbench-build.log
"$here/make-corpus.sh" "$size_mib" "$corpus" > /dev/null
[[ -f $records/done ]] || { rm -rf "$records"; "${bench[@]}" gen "$sort_mib" "$records" > /dev/null; touch "$records/done"; }
rm -rf "$out"; mkdir -p "$out"

declare -A wall
measure() { # key bytes command...: runs it, prints one line, remembers the wall time under key
  local key=$1 bytes=$2; shift 2
  local t0 t1 times peak
  t0=$(date +%s.%N)
  times=$( { TIMEFORMAT='%U %S'; time "$@" > "$out/$key.log" 2>&1; } 2>&1 ) || { echo "$key failed:"; cat "$out/$key.log"; exit 1; }
  t1=$(date +%s.%N)
  wall[$key]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  peak=$(grep -o 'peak [0-9]* MiB.*' "$out/$key.log" | tail -1)
  awk -v n="$key" -v b="$bytes" -v w="${wall[$key]}" -v c="$(echo "$times" | awk '{print $1 + $2}')" -v p="$peak" \
    'BEGIN { m = b / 1048576; printf "%-22s %7.1f MiB %8.2f s %7.1f MiB/s %7.1f MiB/cpu-s   %s\n", n, m, w, m / w, m / c, p }'
}
# GNU sort's peak memory needs GNU time (Debian package "time"); without it the sort still runs and its peak is n/a.
gnu_sort() {
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f 'peak %M' -o "$out/gnu-sort.rss" env LC_ALL=C sort --parallel=2 -o "$out/gnu-sort.txt" "$@"
    echo "peak $(( $(cut -d' ' -f2 "$out/gnu-sort.rss") / 1024 )) MiB"
  else
    LC_ALL=C sort --parallel=2 -o "$out/gnu-sort.txt" "$@"
    echo "peak n/a (no /usr/bin/time)"
  fi
}
same() { # label file-a file-b: equal content or stop
  cmp -s "$2" "$3" || { echo "MISMATCH: $1 ($2 vs $3)"; exit 1; }
}
sorted_output() { cat "$1"/mr-out-* | LC_ALL=C sort; }

# Same words in both systems: on the Gutenberg books, the full outputs must be equal (the issue's 22,107 words).
for job in wc indexer; do
  (( small )) && break
  "${bench[@]}" mr "$job" 2 "$reduce" "$out/check-$job" "$books"/*.txt > /dev/null
  "${bench[@]}" duckdb "$job" 2 "$out/check-$job.duckdb" "$books"/*.txt > /dev/null
  same "gutenberg $job" <(sorted_output "$out/check-$job") <(LC_ALL=C sort "$out/check-$job.duckdb")
  echo "## check on the Gutenberg books: $job outputs equal, $(wc -l < "$out/check-$job.duckdb") distinct words"
done

files=("$corpus"/*.txt)
bytes=$(cat "${files[@]}" | wc -c)
echo "## corpus: ${#files[@]} files; sort input: $(ls "$records"/*.txt | wc -l) files, $(( $(cat "$records"/*.txt | wc -c) / 100 )) records"
for job in wc indexer; do
  measure "flotilla-$job" "$bytes" "${bench[@]}" mr "$job" 2 "$reduce" "$out/flotilla-$job" "${files[@]}"
  measure "duckdb-$job" "$bytes" "${bench[@]}" duckdb "$job" 2 "$out/duckdb-$job.txt" "${files[@]}"
  same "$job" <(sorted_output "$out/flotilla-$job") <(LC_ALL=C sort "$out/duckdb-$job.txt")
  rm -rf "$out/flotilla-$job" "$out/duckdb-$job.txt"
done
sort_files=("$records"/*.txt)
sort_bytes=$(cat "${sort_files[@]}" | wc -c)
measure flotilla-sort "$sort_bytes" "${bench[@]}" mr sort 2 "$reduce" "$out/flotilla-sort" "${sort_files[@]}"
measure duckdb-sort "$sort_bytes" "${bench[@]}" duckdb sort 2 "$out/duckdb-sort.txt" "${sort_files[@]}"
measure gnu-sort "$sort_bytes" gnu_sort "${sort_files[@]}"
same "sort, flotilla vs GNU sort" <(for r in $(seq 0 $((reduce - 1))); do cat "$out/flotilla-sort/mr-out-$r"; done) "$out/gnu-sort.txt"
same "sort, duckdb vs GNU sort" "$out/duckdb-sort.txt" "$out/gnu-sort.txt"
echo "## outputs equal: wc, indexer (sorted lines), sort (byte for byte: flotilla's mr-out-0..$((reduce - 1)) concatenated, duckdb, GNU sort)"
echo "# load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$out"
ratio() { awk -v d="${wall[duckdb-$1]}" -v f="${wall[flotilla-$1]}" 'BEGIN { printf "%.2f", d / f }'; }
echo "flotilla/duckdb wc=$(ratio wc) indexer=$(ratio indexer) sort=$(ratio sort)"

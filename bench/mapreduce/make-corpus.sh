#!/usr/bin/env bash
# Builds a word-count corpus of about SIZE_MIB MiB by repeating the Gutenberg books, as files of about 16 MiB
# (one map task each). Usage: make-corpus.sh SIZE_MIB OUT_DIR [BOOKS_DIR]. Generate into /tmp, never the repo.
set -euo pipefail
size_mib=${1:?size in MiB}
out=${2:?output directory}
books=${3:-/work/shared/data/gutenberg}
mkdir -p "$out"
rm -f "$out"/part-*.txt
one_set=$(cat "$books"/*.txt | wc -c)
per_file=$(( 16 * 1048576 / one_set ))                      # copies of the book set per 16 MiB file
total_sets=$(( (size_mib * 1048576 + one_set - 1) / one_set ))
i=0
while (( total_sets > 0 )); do
  n=$(( total_sets < per_file ? total_sets : per_file ))
  for (( k = 0; k < n; k++ )); do cat "$books"/*.txt; done > "$(printf '%s/part-%03d.txt' "$out" "$i")"
  total_sets=$(( total_sets - n ))
  i=$(( i + 1 ))
done
du -sh "$out"

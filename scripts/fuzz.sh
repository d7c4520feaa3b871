#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of the core for a bounded time each, then prints
# the figures of each: executions, coverage (libFuzzer's cov = edges, ft = features),
# corpus size.
#   native/fuzz/go_map_fuzz.cc        GoMap (single-threaded), seeds native/fuzz/corpus/*
#   native/fuzz/concurrent_map_fuzz.cc ConcurrentMap from 2-3 threads, seeds
#                                      native/fuzz/corpus/concurrent_map/
#   scripts/fuzz.sh [seconds] [concurrent-seconds]
#     defaults 120 (FUZZ_SECONDS) and 60 (FUZZ_CONCURRENT_SECONDS); 0 skips a target,
#     e.g. `scripts/fuzz.sh 0 30` runs only the concurrent target for 30 s.
# Needs clang (Debian: clang, libclang-rt-14-dev). Builds into build-fuzz/ (CMake targets
# gomap_fuzz and gomap_concurrent_fuzz, -DGOMAP_BUILD_FUZZ=ON, ASan + UBSan + libFuzzer).
# The committed seed corpora are read, never written: new inputs go to
# build-fuzz/corpus/ and build-fuzz/corpus-concurrent/. A finding (crash, leak, timeout,
# out-of-memory, failed model check) stops that run, saves the input under
# build-fuzz/artifacts/ (ignored by git) and fails this script. Replay one with:
# build-fuzz/gomap_fuzz build-fuzz/artifacts/crash-<sha1> (or gomap_concurrent_fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${FUZZ_SECONDS:-120}}"
concurrent_seconds="${2:-${FUZZ_CONCURRENT_SECONDS:-60}}"
dir=build-fuzz
jobs="${JOBS:-2}"
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
export CXX=clang++ CC=clang
if [[ -f "$dir/CMakeCache.txt" ]] && ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=$(command -v clang++)\$" "$dir/CMakeCache.txt"; then
  rm -rf "$dir"
fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOMAP_SANITIZE=address,undefined \
  -DGOMAP_BUILD_TESTS=OFF -DGOMAP_BUILD_FUZZ=ON >/dev/null
cmake --build "$dir" --target gomap_fuzz gomap_concurrent_fuzz --parallel "$jobs"

mkdir -p "$dir/artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0

# run_target NAME BINARY SECONDS WORK_CORPUS SEEDS: one bounded run and its figures.
run_target() {
  local name="$1" bin="$2" secs="$3" work="$4" seeds="$5"
  ((secs > 0)) || return 0
  mkdir -p "$work"
  local log="$dir/fuzz-$name.log" status=0
  echo "fuzz[$name]: running $bin for ${secs}s (seeds: $seeds, $(find "$seeds" -maxdepth 1 -type f | wc -l) files)"
  "$bin" -max_total_time="$secs" -print_final_stats=1 -max_len=4096 -timeout=20 \
    -rss_limit_mb=2048 -artifact_prefix="$dir/artifacts/" "$work" "$seeds" 2>&1 |
    grep --line-buffered -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE)|^"|^###### ' | tee "$log" || status=$?
  # (status of the pipeline: the fuzzer's, thanks to pipefail; NEW/REDUCE lines and the
  # recommended dictionary are dropped from the console only to keep the CI log short.)
  local last execs cov ft corp rate
  last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  cov="$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")"
  corp="$(sed -n 's/.*corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")"
  rate="$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$last")"
  echo
  echo "fuzz figures [$name]: ${execs:-?} executions in ${secs}s (${rate:-?} exec/s), cov: ${cov:-?}, ft: ${ft:-?}, corpus: ${corp:-?}"
  if ((status != 0)); then
    echo "fuzz[$name]: FAILED (exit $status); inputs saved in $dir/artifacts/:" >&2
    ls -l "$dir/artifacts/" >&2 || true
    failed=1
  else
    echo "fuzz[$name]: no findings"
  fi
}

# libFuzzer reads corpus directories recursively: GoMap's seeds are the files at the top
# of native/fuzz/corpus only (not the concurrent target's subdirectory), copied flat.
rm -rf "$dir/seeds-gomap" && mkdir -p "$dir/seeds-gomap"
find native/fuzz/corpus -maxdepth 1 -type f -exec cp {} "$dir/seeds-gomap/" \;
run_target gomap "$dir/gomap_fuzz" "$seconds" "$dir/corpus" "$dir/seeds-gomap"
run_target concurrent "$dir/gomap_concurrent_fuzz" "$concurrent_seconds" "$dir/corpus-concurrent" native/fuzz/corpus/concurrent_map
exit "$failed"

#!/usr/bin/env bash
# Builds and runs the libFuzzer target of the core (native/fuzz/go_map_fuzz.cc) for a
# bounded time, then prints the figures: executions, coverage (libFuzzer's cov = edges,
# ft = features), corpus size.
#   scripts/fuzz.sh [seconds]        # default 120 (FUZZ_SECONDS), e.g. 30 while developing
# Needs clang (Debian: clang, libclang-rt-14-dev). Builds into build-fuzz/ (CMake target
# gomap_fuzz, -DGOMAP_BUILD_FUZZ=ON, ASan + UBSan + libFuzzer). The committed seed corpus
# native/fuzz/corpus/ is read, never written: new inputs go to build-fuzz/corpus/. A
# finding (crash, leak, timeout, out-of-memory, failed model check) stops the run, saves
# the input under build-fuzz/artifacts/ (ignored by git) and fails this script. Replay
# one with: build-fuzz/gomap_fuzz build-fuzz/artifacts/crash-<sha1>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${FUZZ_SECONDS:-120}}"
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
cmake --build "$dir" --target gomap_fuzz --parallel "$jobs"

mkdir -p "$dir/corpus" "$dir/artifacts"
log="$dir/fuzz.log"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
echo "fuzz: running $dir/gomap_fuzz for ${seconds}s (seeds: native/fuzz/corpus, $(ls native/fuzz/corpus | wc -l) files)"
status=0
"$dir/gomap_fuzz" -max_total_time="$seconds" -print_final_stats=1 -max_len=4096 -timeout=20 \
  -rss_limit_mb=2048 -artifact_prefix="$dir/artifacts/" "$dir/corpus" native/fuzz/corpus 2>&1 |
  grep --line-buffered -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE)|^"|^###### ' | tee "$log" || status=$?
# (status of the pipeline: the fuzzer's, thanks to pipefail; NEW/REDUCE lines and the
# recommended dictionary are dropped from the console only to keep the CI log short.)

last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
cov="$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")"
ft="$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")"
corp="$(sed -n 's/.*corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")"
rate="$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$last")"
echo
echo "fuzz figures: ${execs:-?} executions in ${seconds}s (${rate:-?} exec/s), cov: ${cov:-?}, ft: ${ft:-?}, corpus: ${corp:-?}"
if ((status != 0)); then
  echo "fuzz: FAILED (exit $status); inputs saved in $dir/artifacts/:" >&2
  ls -l "$dir/artifacts/" >&2 || true
  exit "$status"
fi
echo "fuzz: no findings"

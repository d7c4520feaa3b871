#!/usr/bin/env bash
# Configure, build and run the C++ GoogleTest tests (native/test) under sanitizers.
#   scripts/test-native.sh asan   # AddressSanitizer + UndefinedBehaviorSanitizer -> build-asan/
#   scripts/test-native.sh tsan   # ThreadSanitizer                               -> build-tsan/
#   scripts/test-native.sh plain  # no sanitizer                                  -> build-plain/
# Extra arguments go to ctest (e.g. -R GoMap --verbose). JOBS sets the parallelism
# (default 2). The compiler is clang++ when installed (it builds the sanitized tests
# about twice as fast as g++ 12), else the system default; set CXX/CC to choose.
set -euo pipefail
cd "$(dirname "$0")/.."

kind="${1:-asan}"
shift || true
case "$kind" in
  asan)  sanitize="address,undefined" ;;
  tsan)  sanitize="thread" ;;
  plain) sanitize="" ;;
  *) echo "usage: $0 asan|tsan|plain [ctest args...]" >&2; exit 2 ;;
esac
dir="build-$kind"
jobs="${JOBS:-2}"

if [[ -z "${CXX:-}" ]] && command -v clang++ >/dev/null 2>&1 && command -v clang >/dev/null 2>&1; then
  export CXX=clang++ CC=clang
fi
if [[ -f "$dir/CMakeCache.txt" ]] && ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=$(command -v "${CXX:-c++}")\$" "$dir/CMakeCache.txt"; then
  rm -rf "$dir" # configured with another compiler: start over
fi

cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOMAP_SANITIZE="$sanitize" -DGOMAP_BUILD_TESTS=ON
cmake --build "$dir" --target gomap_tests --parallel "$jobs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

ctest --test-dir "$dir" --output-on-failure --no-tests=error --parallel "$jobs" "$@"

#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (clang). Builds build-fuzz/ — every library
# instrumented for coverage (-fsanitize=fuzzer-no-link) and run under ASan + UBSan —
# then runs each fuzz target on a copy of its seed corpus (tests/fuzz/corpus/NAME),
# printing the coverage it started and ended with.
#
#   bash scripts/fuzz.sh                 every target, 1,000,000 executions each
#   bash scripts/fuzz.sh --short         every target, 10 seconds each (the test command)
#   bash scripts/fuzz.sh RUNS [NAME...]  RUNS executions of the named targets
#
# A crash or failed invariant stops the run; its input is written to
# build-fuzz/crashes/. Fix it, then add the input to tests/fuzz/corpus/NAME/, where
# ctest replays it in every build from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(job query colormap npy ranges url configfile muxers uploads)
limit=(-runs=1000000)
if [ "${1:-}" = "--short" ]; then
    limit=(-max_total_time=10)
    shift
elif [ -n "${1:-}" ]; then
    limit=(-runs="$1")
    shift
fi
if [ "$#" -gt 0 ]; then
    targets=("$@")
fi
command -v clang > /dev/null || { echo "fuzz: clang is missing (scripts/setup.sh installs it)" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRC_SANITIZE=address,undefined -DRC_FUZZ=ON > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}" > /dev/null
mkdir -p build-fuzz/crashes
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
    mkdir -p "$work/$t"
    cp tests/fuzz/corpus/"$t"/* "$work/$t/"
    log="build-fuzz/fuzz_$t.log"
    if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1 \
        build-fuzz/tests/fuzz_"$t" "${limit[@]}" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix=build-fuzz/crashes/"$t"- "$work/$t" > "$log" 2>&1; then
        echo "fuzz: $t FAILED; the input is in build-fuzz/crashes/, the log in $log" >&2
        grep -E "ERROR|SUMMARY" "$log" | head -5 >&2
        status=1
        continue
    fi
    start=$(grep -m1 "INITED" "$log" | grep -o "cov: [0-9]*" || true)
    end=$(grep "DONE" "$log" | grep -o "cov: [0-9]*" || true)
    runs=$(grep -o "stat::number_of_executed_units: [0-9]*" "$log" | grep -o "[0-9]*$" || true)
    echo "fuzz: $t: ${runs:-?} executions, coverage ${start#cov: } -> ${end#cov: } edges"
done
exit "$status"

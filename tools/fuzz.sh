#!/usr/bin/env bash
# Builds and runs the libFuzzer targets in Fuzz/ (see Fuzz/README.md).
#
#   tools/fuzz.sh [--time SECONDS] [TARGET...]    run each target (default: all) for SECONDS (default 60)
#   tools/fuzz.sh --seed [TARGET...]              rebuild Fuzz/corpus/ from the spec vectors (-merge=1)
#   tools/fuzz.sh --replay FILE... -- TARGET      run a target once on the given inputs (e.g. a reproducer)
#
# One target at a time, one process. Each starts from the committed corpus Fuzz/corpus/<target>/, the
# inputs that once found a bug (Fuzz/reproducers/<target>/, so a regression fails at once) and what
# earlier runs found (.build-fuzz/corpus/<target>/, not committed). Crashes, leaks, timeouts and
# out-of-memory inputs are written to Fuzz/crashes/<target>/ (git-ignored). Prints a summary and exits
# non-zero if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${FUZZ_OUT:-.build-fuzz}      # FUZZ_OUT and FUZZ_SOURCES: see Fuzz/build.sh
export FUZZ_OUT=$OUT

seconds=60
mode=run
targets=()
replay=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --time) seconds=$2; shift 2 ;;
        --time=*) seconds=${1#--time=}; shift ;;
        --seed) mode=seed; shift ;;
        --replay) mode=replay; shift
                  while [[ $# -gt 0 && $1 != -- ]]; do replay+=("$1"); shift; done
                  [[ $# -gt 0 ]] && shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if [[ ${#targets[@]} -eq 0 ]]; then
    for file in Fuzz/Targets/*.swift; do targets+=("$(basename "$file" .swift)"); done
fi

Fuzz/build.sh "${targets[@]}"

# Swift's own crash backtracer fights AddressSanitizer for the signal; libFuzzer prints the trace.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
# Bounded memory is one of the invariants: an input that makes a target use more fails as oom-*.
LIMITS=(-rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=20 -max_len=4096)
# Programs need length: let the length limit grow ten times faster than libFuzzer's default.
GROWTH=(-len_control=10)

case $mode in
seed)
    python3 Fuzz/make-seeds.py
    for target in "${targets[@]}"; do
        mkdir -p "Fuzz/corpus/$target"
        "$OUT/bin/$target" -merge=1 "${LIMITS[@]}" "Fuzz/corpus/$target" ".build-fuzz/seeds/$target" \
            2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
    done
    exit 0 ;;
replay)
    [[ ${#targets[@]} -eq 1 ]] || { echo "fuzz.sh: --replay FILE... -- TARGET (one target)" >&2; exit 2; }
    exec "$OUT/bin/${targets[0]}" "${LIMITS[@]}" "${replay[@]}" ;;
esac

summary=()
failed=0
for target in "${targets[@]}"; do
    work=$OUT/corpus/$target
    crashes=Fuzz/crashes/$target
    mkdir -p "$work" "$crashes" "Fuzz/corpus/$target"
    before=$(find "$crashes" -type f | wc -l)
    log=$OUT/$target.log
    echo "==> fuzzing $target for ${seconds}s (log: $log)"
    start=$(date +%s)
    status=0
    # Inputs that once found a bug run first, every time, as regression checks.
    corpora=("$work" "Fuzz/corpus/$target")
    [[ -d Fuzz/reproducers/$target ]] && corpora+=("Fuzz/reproducers/$target")
    "$OUT/bin/$target" -max_total_time="$seconds" -print_final_stats=1 "${LIMITS[@]}" "${GROWTH[@]}" \
        -artifact_prefix="$crashes/" "${corpora[@]}" >"$log" 2>&1 || status=$?
    elapsed=$(( $(date +%s) - start ))
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
    [[ -n $runs ]] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    found=$(( $(find "$crashes" -type f | wc -l) - before ))
    if [[ $status -ne 0 || $found -gt 0 ]]; then
        failed=1
        grep -E 'fuzz invariant|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY|^    #[0-9]+ .* in \$s' "$log" | head -15 | sed 's/^/    /'
        echo "    input: $(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //')"
    fi
    summary+=("$(printf '%-16s %12s %7ss %8s' "$target" "${runs:-0}" "$elapsed" "$found")")
done

echo
printf '%-16s %12s %8s %8s\n' target runs time crashes
printf '%s\n' "${summary[@]}"
if [[ $failed -ne 0 ]]; then
    echo "fuzz.sh: a target crashed; inputs are in Fuzz/crashes/ (replay: tools/fuzz.sh --replay FILE -- TARGET)"
    exit 1
fi

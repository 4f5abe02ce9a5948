#!/usr/bin/env bash
# Model-checks the reliability protocol (Specs/model/datagram.pml) with spin.
#
# Runs: the safety search (assertions and end states), the liveness search (the LTL property
# eventuallyComplete, acceptance cycles), the deliberately broken variants that must FAIL, and a
# witness that the fault budget is really spent. pan exits 0 whether or not it finds an error,
# so this script reads what pan prints and decides. Exit status: 0 when every expectation held,
# 1 otherwise, 2 when spin or a C compiler is missing.
#
# Usage: tools/check-model.sh [-v] [--deep]
#   -v       print pan's full output
#   --deep   larger fault budgets (2 duplicates, 2 reorderings): 3.0 and 10.2 million states,
#            about 5 minutes and 3 GB; the default bounds take about 30 seconds
# Bounds can also be set for an experiment with SPIN_DEFINES, e.g. SPIN_DEFINES='-DMESSAGES=5'.
set -u

root="$(cd "$(dirname "$0")/.." && pwd)"
model="$root/Specs/model/datagram.pml"
verbose=0
optimize=-O1        # for the searches that explore everything; the failing ones stop early: -O0
defines=(${SPIN_DEFINES:-})
for argument in "$@"; do
    case "$argument" in
        -v) verbose=1 ;;
        --deep) defines+=(-DMAX_DUPLICATE=2 -DMAX_REORDER=2); optimize=-O2 ;;
        *) echo "Error: unknown argument '$argument'" >&2
           echo "Usage: tools/check-model.sh [-v] [--deep]" >&2
           exit 64 ;;
    esac
done

for tool in spin gcc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "Error: '$tool' not found (apt-get install -y spin gcc)" >&2
        exit 2
    fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$model" "$work/"
cd "$work" || exit 2

failures=0
started=$SECONDS
printf '%-34s %-10s %10s %7s  %s\n' "check" "expect" "states" "depth" "result"
printf '%s\n' "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -"

# run NAME EXPECT KIND [spin -D flags...]
#   EXPECT: pass, or the pan message that must appear (assertion violated, invalid end state,
#           acceptance cycle). KIND: safety, liveness, or witness (a safety search, depth first).
run() {
    local name="$1" expect="$2" kind="$3"; shift 3
    local out="$work/$name.out" cflags=(-O0 -w) panflags=(-m50000)
    [ "$expect" = pass ] && cflags=("$optimize" -w)
    rm -f pan pan.* ./*.trail
    if ! spin "${defines[@]}" "$@" -a datagram.pml >"$work/$name.spin" 2>&1; then
        cat "$work/$name.spin"
        report "$name" "$expect" "-" "-" "FAIL (spin could not generate the verifier)"
        return
    fi
    if [ "$kind" = safety ] || [ "$kind" = witness ]; then
        cflags+=(-DSAFETY -DNOCLAIM)
        # A broken variant is searched breadth first: it fails sooner, with a shortest counterexample.
        # The witness lies deep, where depth first gets sooner.
        [ "$kind" = safety ] && [ "$expect" != pass ] && cflags+=(-DBFS)
    else
        panflags+=(-a -N eventuallyComplete)
    fi
    if ! gcc "${cflags[@]}" -o pan pan.c >"$work/$name.gcc" 2>&1; then
        cat "$work/$name.gcc"
        report "$name" "$expect" "-" "-" "FAIL (pan did not compile)"
        return
    fi
    ./pan "${panflags[@]}" >"$out" 2>&1
    [ $verbose = 1 ] && cat "$out"

    local errors states depth found=""
    errors="$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | head -1)"
    states="$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$out" | head -1)"
    depth="$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$out" | head -1)"
    for message in "assertion violated" "invalid end state" "acceptance cycle" "non-progress cycle"; do
        grep -Eq "^pan:[0-9]+: $message" "$out" && found="$message"
    done
    if [ -z "$errors" ]; then
        cat "$out"
        report "$name" "$expect" "${states:--}" "${depth:--}" "FAIL (pan printed no result)"
    elif [ "$expect" = pass ]; then
        if [ "$errors" = 0 ] && [ -z "$found" ] && ! grep -q "max search depth too small" "$out"; then
            report "$name" "$expect" "$states" "$depth" "ok, errors: 0"
        else
            grep -E "^pan|violated|cycle|end state" "$out"
            report "$name" "$expect" "$states" "$depth" "FAIL (errors: $errors ${found:+- $found})"
        fi
    else
        if [ "$errors" != 0 ] && [ "$found" = "$expect" ]; then
            local line
            line="$(grep -Em1 "^pan:[0-9]+: $found" "$out" | sed 's/^pan:[0-9]*: //; s/ (at depth.*//')"
            report "$name" "$expect" "$states" "$depth" "ok, fails as it must: $line"
        else
            report "$name" "$expect" "$states" "$depth" "FAIL (expected '$expect', got errors: $errors ${found:+- $found})"
        fi
    fi
}

report() {
    local expect="$2"
    [ "$expect" != pass ] && expect="fail"
    printf '%-34s %-10s %10s %7s  %s\n' "$1" "$expect" "$3" "$4" "$5"
    case "$5" in FAIL*) failures=$((failures + 1)) ;; esac
}

early=(-DMESSAGES=3 -DMAX_EARLY_PROBE=1)
run "safety (assertions, end states)"  pass                 safety
run "liveness <>(all delivered)"       pass                 liveness
run "safety, premature probe timeout"  pass                 safety   "${early[@]}"
run "liveness, premature probe timeout" pass                liveness "${early[@]}"
run "broken: no duplicate suppression" "assertion violated" safety   -DBROKEN_NO_DEDUP
run "broken: no probe timeout"         "invalid end state"  safety   -DBROKEN_NO_PROBE
run "broken: no probe timeout (LTL)"   "acceptance cycle"   liveness -DBROKEN_NO_PROBE
run "broken: no send window"           "assertion violated" safety   -DBROKEN_NO_WINDOW
run "witness: every fault used"        "assertion violated" witness  -DWITNESS_ALL_FAULTS

bounds="$(sed -n 's/^#define \(MESSAGES\|WINDOW\|ACK_BITS\|DEDUP_BITS\|MAX_LOSS\|MAX_DUPLICATE\|MAX_REORDER\|MAX_EARLY_PROBE\|PACKET_THRESHOLD\) *\([0-9]*\).*/\1=\2/p' datagram.pml | tr '\n' ' ')"
echo
echo "bounds: ${bounds}${defines[*]:+overridden: ${defines[*]}}"
echo "premature probe timeout rows: ${early[*]}"
if [ $failures = 0 ]; then
    echo "model check passed: 9 of 9 expectations held in $((SECONDS - started)) s"
    exit 0
fi
echo "model check FAILED: $failures expectation(s) did not hold (rerun with -v for pan's output)"
exit 1

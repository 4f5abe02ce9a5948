#!/usr/bin/env bash
# Kill soak (issue 11): runs the end-to-end kill test N times (default 200). Each run starts a relay
# on a fresh data directory, two UDP clients (one with 20 % simulated loss) and a TCP client, kills
# the relay with SIGKILL at random moments of their conversation and starts it again on the same
# directory, KILL_ROUNDS times (default 20), inside a private network namespace (`unshare -rn`) where
# nftables drops KERNEL_LOSS percent (default 5) of the packets arriving on loopback; every message
# must arrive exactly once, in order, at every other client. Prints each run's totals and how many
# runs failed; failed runs keep their output in $SOAK_DIR (default: a new directory under /tmp).
#
#   tools/kill-soak.sh [N]
#   KILL_ROUNDS=5 KERNEL_LOSS=0 tools/kill-soak.sh 10
set -euo pipefail

runs=${1:-200}
rounds=${KILL_ROUNDS:-20}
loss=${KERNEL_LOSS:-5}
if ! [[ "$runs" =~ ^[0-9]+$ ]] || (( runs < 1 )); then
    echo "usage: tools/kill-soak.sh [N]" >&2
    exit 64
fi
for tool in unshare ip nft; do
    command -v "$tool" >/dev/null 2>&1 || { echo "Error: '$tool' not found (apt-get install util-linux iproute2 nftables)" >&2; exit 2; }
done
unshare -rn true 2>/dev/null || { echo "Error: 'unshare -rn' failed: run as root or enable user namespaces" >&2; exit 2; }

cd "$(dirname "$0")/.."
swift build --build-tests >&2
dir=${SOAK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/kill-soak.XXXXXX")}
mkdir -p "$dir"
failed=0
for ((i = 1; i <= runs; i++)); do
    out="$dir/run-$i.out"
    if KILL_ROUNDS=$rounds KILL_SEED=$i unshare -rn bash -c "
        ip link set lo up &&
        nft add table inet soak &&
        nft 'add chain inet soak input { type filter hook input priority 0; }' &&
        { [ $loss -eq 0 ] || nft add rule inet soak input iifname lo numgen random mod 100 '<' $loss drop; } &&
        swift test --skip-build --filter aRelayKilledMidConversationLosesNothingAndDoublesNothing" >"$out" 2>&1 \
       && grep -q "passed after" "$out"; then
        echo "run $i: $(grep -o 'kill test.*checked' "$out" || echo passed)"
        rm -f "$out"
    else
        failed=$((failed + 1))
        echo "run $i: FAILED (output in $out)"
    fi
done
echo "kill soak: $runs runs of $rounds kills each, $loss % kernel loss: $((runs - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# File transfer at 5 % kernel loss (issue 12): in a private network namespace (unshare -rn) whose
# loopback drops 5 % of incoming packets (nftables), the real relay and two chat clients, alice over
# UDP and carol over TCP, send each other 50 MiB of random bytes (and 0 B, 1 B, 16 KiB, 16 KiB + 1 B);
# every file must arrive with the same SHA-256. Exit 0 when all did, 1 when one did not, 69 when the
# namespace or nft cannot be set up here.
#
#   tools/file-transfer-check.sh [SIZE_MIB]      (default 50; uses the debug build, builds it first)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-50}
if [[ -z "${FILE_CHECK_INSIDE:-}" ]]; then
    swift build --product relay >&2
    swift build --product chat >&2
    for tool in unshare nft ip sha256sum; do
        command -v "$tool" >/dev/null 2>&1 || { echo "Error: '$tool' is missing (apt-get install nftables iproute2)" >&2; exit 69; }
    done
    exec unshare -rn env FILE_CHECK_INSIDE=1 "$0" "$@"
fi

bin=$(swift build --show-bin-path)
ip link set lo up || exit 69
nft add table inet filecheck || exit 69
nft 'add chain inet filecheck input { type filter hook input priority 0; }' || exit 69
nft 'add rule inet filecheck input iifname lo numgen random mod 100 < 5 drop' || exit 69

work=$(mktemp -d "${TMPDIR:-/tmp}/file-check.XXXXXX")
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
head -c 0 /dev/urandom > "$work/zero.bin"
head -c 1 /dev/urandom > "$work/one.bin"
head -c 16384 /dev/urandom > "$work/chunk.bin"
head -c 16385 /dev/urandom > "$work/chunk-plus-one.bin"
head -c $((size_mib << 20)) /dev/urandom > "$work/big.bin"
files=(zero.bin one.bin chunk.bin chunk-plus-one.bin big.bin)

"$bin/relay" --port 9600 > "$work/relay.out" 2> "$work/relay.err" &
pids+=($!)
sleep 1
# Each client reads its commands from a FIFO kept open until the check is done.
mkfifo "$work/alice.in" "$work/carol.in"
"$bin/chat" --name carol --mode tcp --relay 127.0.0.1:9600 --accept-files --download-dir "$work/carol" \
    < "$work/carol.in" > "$work/carol.out" 2> "$work/carol.err" &
pids+=($!)
exec 4> "$work/carol.in"
"$bin/chat" --name alice --mode udp --relay 127.0.0.1:9600 --accept-files --download-dir "$work/alice" \
    < "$work/alice.in" > "$work/alice.out" 2> "$work/alice.err" &
pids+=($!)
exec 3> "$work/alice.in"
sleep 3
for file in "${files[@]}"; do echo "/send $work/$file carol" >&3; done
echo "/send $work/big.bin alice" >&4
started=$(date +%s)
while (( $(grep -c -- "-!- Received " "$work/carol.out" || true) < ${#files[@]} )) \
    || ! grep -q "^.*Received .*big.bin" "$work/alice.out"; do
    if (( $(date +%s) - started > 900 )); then echo "FAIL: not every file arrived within 15 minutes (see $work)"; exit 1; fi
    sleep 1
done
elapsed=$(( $(date +%s) - started ))
failures=0
for file in "${files[@]}"; do
    if [[ "$(sha256sum < "$work/$file")" == "$(sha256sum < "$work/carol/$file")" ]]; then
        echo "ok   udp -> tcp $file ($(stat -c %s "$work/$file") bytes)"
    else
        echo "FAIL udp -> tcp $file"; failures=$((failures + 1))
    fi
done
if [[ "$(sha256sum < "$work/big.bin")" == "$(sha256sum < "$work/alice/big.bin")" ]]; then
    echo "ok   tcp -> udp big.bin"
else
    echo "FAIL tcp -> udp big.bin"; failures=$((failures + 1))
fi
echo "all transfers finished in ${elapsed} s at 5 % kernel loss"
exec 3>&- 4>&-
if (( failures > 0 )); then echo "see $work"; exit 1; fi
rm -rf "$work"

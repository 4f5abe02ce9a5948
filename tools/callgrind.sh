#!/bin/sh
# Instructions per message, counted by valgrind's callgrind (stable on a noisy machine):
#   (a) p2p:   Datagram point-to-point send + receive of N chat messages, in process, over the simulator
#   direct:    the same without the simulator: two Connections handing datagrams to each other
#   (b) relay: RelayCore forwarding N chat messages between two in-process Datagram clients
# Each workload runs twice, with N and with 0 messages; (Ir(N) - Ir(0)) / N is printed, so start-up and
# the handshake cancel out. Usage: tools/callgrind.sh [N]   (default 2000; needs valgrind)
set -eu
cd "$(dirname "$0")/.."
n=${1:-2000}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
swift build -c release --product bench >&2
bench=.build/release/bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

instructions() { # workload count -> total Ir
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1.$2" "$bench" workload "$1" "$2" >/dev/null 2>"$out/log.$1.$2" \
        || { cat "$out/log.$1.$2" >&2; exit 1; }
    sed -n 's/^summary: *//p; s/^totals: *//p' "$out/cg.$1.$2" | head -n 1 | cut -d' ' -f1
}

echo "Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); valgrind --tool=callgrind, N = $n"
for workload in ${WORKLOADS:-p2p direct relay relay-bulk relay-sealed relay-idle}; do
    base=$(instructions "$workload" 0)
    full=$(instructions "$workload" "$n")
    echo "$workload: $(( (full - base) / n )) instructions per message ($full - $base over $n messages)"
done

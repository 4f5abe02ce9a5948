#!/bin/sh
# Builds the release products and runs both relay benchmarks with their defaults, after a line
# naming the machine. Extra arguments go to relay-scale (for example: --peers 1000 --duration 10).
set -eu
cd "$(dirname "$0")/.."

echo "Machine: $(nproc) cores, Linux $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "Commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo

swift build -c release --product relay >&2
swift build -c release --product bench >&2
bench=.build/release/bench

echo "\$ bench relay-scale${*:+ $*}"
"$bench" relay-scale "$@"
echo
echo "\$ bench fanout"
"$bench" fanout

#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/Targets against the package's real sources, outside SwiftPM:
# Noise, Datagram, CommandLineSupport, Chat and Relay are each compiled once as a module (whole-module, -O, with the fuzzer's
# coverage instrumentation and AddressSanitizer), then each target links them.
#
#   Fuzz/build.sh [TARGET...]        (default: every target; binaries in .build-fuzz/bin/)
#
# Rebuilds only what changed (by comparing source timestamps with the outputs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
OUT=${FUZZ_OUT:-.build-fuzz}
SRC=${FUZZ_SOURCES:-Sources}   # another copy of Sources/, e.g. with a fix not yet merged
mkdir -p "$OUT/modules" "$OUT/bin"
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O -wmo -swift-version 6 -g -I "$OUT/modules")

all_targets() { for file in Fuzz/Targets/*.swift; do basename "$file" .swift; done; }

# newer OUTPUT INPUT... : true when OUTPUT is missing or older than any input.
stale() {
    local output=$1; shift
    [[ -e $output ]] || return 0
    for input in "$@"; do [[ $input -nt $output ]] && return 0; done
    return 1
}

build_module() {
    local name=$1; shift
    local sources; mapfile -t sources < <(find "$SRC/$name" -name '*.swift' | sort)
    local object="$OUT/modules/$name.o"
    if stale "$object" "${sources[@]}" "$@" Fuzz/build.sh; then
        echo "fuzz build: module $name (${#sources[@]} files)" >&2
        swiftc "${FLAGS[@]}" -module-name "$name" -emit-module -emit-module-path "$OUT/modules/$name.swiftmodule" \
            -emit-object -o "$object" "${sources[@]}"
    fi
}

build_module Noise
build_module Datagram "$OUT/modules/Noise.o"
build_module CommandLineSupport
build_module Chat "$OUT/modules/Datagram.o"
build_module Relay "$OUT/modules/Datagram.o" "$OUT/modules/Chat.o" "$OUT/modules/CommandLineSupport.o"

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || mapfile -t targets < <(all_targets)
for target in "${targets[@]}"; do
    source="Fuzz/Targets/$target.swift"
    [[ -f $source ]] || { echo "fuzz build: no target $target (expected $source)" >&2; exit 2; }
    binary="$OUT/bin/$target"
    if stale "$binary" "$source" Fuzz/Support/*.swift "$OUT"/modules/*.o; then
        echo "fuzz build: target $target" >&2
        module=Fuzz_$(tr -c 'A-Za-z0-9\n' _ <<<"$target")
        swiftc "${FLAGS[@]}" -use-ld=lld -module-name "$module" -o "$binary" \
            "$source" Fuzz/Support/*.swift "$OUT"/modules/{Noise,Datagram,CommandLineSupport,Chat,Relay}.o
    fi
done

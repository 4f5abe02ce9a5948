#!/usr/bin/env bash
# Checks the Wireshark dissector tools/datagram-chat.lua with tshark.
#
#  (a) always: writes a synthetic capture of known bytes (tools/dissector-fixture.py: every
#      Datagram packet type, every chat message type over UDP and TCP, retransmission, duplicate,
#      fragments, bad checksum, split and packed TCP frames), dissects it and asserts on the fields.
#  (b) when the `relay` and `chat` executables build: captures a real session on loopback (relay,
#      one UDP client with --loss 20, one TCP client, messages piped on stdin), dissects it and
#      asserts that chat text shows on both transports, that retransmitted message numbers appear
#      in more than one packet number, that acknowledgements decode and nothing is malformed.
#      Skipped with a message when the executables or capture rights are missing.
#
# tshark exits 0 even when a Lua script fails to load, so this script looks for Lua errors in
# its output and checks that the expected fields really appear. Exit status 0 when every
# assertion held, 1 otherwise, 2 when tshark or python3 is missing.
#
# Usage: tools/check-dissector.sh [--synthetic-only] [--keep DIR]
#   --synthetic-only   skip part (b)
#   --keep DIR         keep the captures and the clients' output in DIR (to open in Wireshark)
set -u

root="$(cd "$(dirname "$0")/.." && pwd)"
script="$root/tools/datagram-chat.lua"
fixture="$root/tools/dissector-fixture.py"
synthetic_only=0
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --synthetic-only) synthetic_only=1 ;;
        --keep) keep="${2:-}"; shift
                [ -n "$keep" ] || { echo "Error: --keep needs a directory" >&2; exit 64; } ;;
        *) echo "Error: unknown argument '$1'" >&2
           echo "Usage: tools/check-dissector.sh [--synthetic-only] [--keep DIR]" >&2
           exit 64 ;;
    esac
    shift
done

for tool in tshark python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "Error: '$tool' not found (apt-get install -y tshark python3)" >&2
        exit 2
    fi
done

work="$(mktemp -d)"
cleanup() {
    for pid in ${started_pids:-}; do kill "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
started_pids=""
failures=0
summary=()

fail() { echo "FAIL $*"; failures=$((failures + 1)); }

tshark_lua() { tshark -X "lua_script:$script" "$@"; }

# Lua errors show up on stderr at load time and as "Lua Error" items in the tree.
check_lua_errors() {
    local where="$1"; shift
    if grep -qiE "lua error|lua: |\.lua:[0-9]+:" "$@"; then
        grep -hiE "lua error|lua: |\.lua:[0-9]+:" "$@" | sort | uniq -c | head -5
        fail "$where: Lua errors in tshark's output"
        return 1
    fi
    return 0
}

# ------------------------------------------------------------------------------ (a) synthetic
echo "== (a) synthetic capture"
tshark -G fields -X "lua_script:$script" >"$work/fields.txt" 2>"$work/load.err"
check_lua_errors "loading the script" "$work/load.err"
for field in dgram.packet_number dgram.acknowledged dgram.checksum.status dgramtcp.length dgchat.text; do
    grep -q $'\t'"$field"$'\t' "$work/fields.txt" || fail "field $field is not registered (script not loaded?)"
done

python3 "$fixture" write "$work/synthetic.pcap" || fail "could not write the synthetic capture"
fields=()
while IFS= read -r field; do fields+=(-e "$field"); done < <(python3 -c "
import importlib.util, sys
spec = importlib.util.spec_from_file_location('fixture', '$fixture')
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
print('\n'.join(module.FIELDS))")
tshark_lua -r "$work/synthetic.pcap" -T fields -E occurrence=a -E aggregator='|' "${fields[@]}" \
    >"$work/synthetic.tsv" 2>"$work/synthetic.err"
tshark_lua -r "$work/synthetic.pcap" -V >"$work/synthetic.txt" 2>>"$work/synthetic.err"
check_lua_errors "synthetic capture" "$work/synthetic.err" "$work/synthetic.txt"
if python3 "$fixture" check "$work/synthetic.tsv" >"$work/synthetic.result"; then
    cat "$work/synthetic.result"
else
    cat "$work/synthetic.result"
    fail "synthetic capture assertions"
fi
summary+=("(a) $(tail -1 "$work/synthetic.result")")

# ------------------------------------------------------------------------------ (b) live
live_skip() { echo "SKIP (b): $*"; summary+=("(b) skipped: $*"); }

live() {
    echo "== (b) live session on loopback"
    if [ ! -f "$root/Package.swift" ] || ! command -v swift >/dev/null 2>&1; then
        live_skip "no Swift package or toolchain"; return
    fi
    if ! (cd "$root" && swift build --product relay >"$work/build.log" 2>&1 &&
          swift build --product chat >>"$work/build.log" 2>&1); then
        live_skip "the relay and chat products do not build yet (see swift build)"; return
    fi
    local bin
    bin="$(cd "$root" && swift build --show-bin-path)"
    if ! "$bin/relay" --help 2>/dev/null | grep -q -- "--port" ||
       ! "$bin/chat" --help 2>/dev/null | grep -q -- "--loss"; then
        live_skip "relay/chat are still placeholders (no --port / --loss in --help)"; return
    fi
    if ! tshark -i lo -a duration:1 -w "$work/probe.pcapng" >"$work/probe.log" 2>&1; then
        live_skip "cannot capture on lo here ($(grep -m1 -i error "$work/probe.log"))"; return
    fi
    run_live_session "$bin" sealed
    run_live_session "$bin" plaintext
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_live_session() {
    local bin="$1" mode="$2" port capture="$work/live-$2.pcapng"
    local relay_flags=() chat_flags=()
    if [ "$mode" = plaintext ]; then relay_flags=(--allow-plaintext); chat_flags=(--plaintext); fi
    echo "-- $mode session"
    port="$(free_port)"
    tshark -i lo -f "port $port" -w "$capture" >"$work/capture.log" 2>&1 &
    local capture_pid=$!
    started_pids="$started_pids $capture_pid"
    for _ in $(seq 50); do grep -q "Capturing on" "$work/capture.log" && break; sleep 0.1; done

    "$bin/relay" "${relay_flags[@]}" --data :memory: --port "$port" >"$work/relay.log" 2>&1 &
    local relay_pid=$!
    started_pids="$started_pids $relay_pid"
    sleep 1

    # Two clients in line mode; at end of input each waits until what it sent is acknowledged, then
    # quits. The UDP client simulates its loss inside the process: a datagram it "loses" on the way
    # out never reaches the wire, so the retransmissions a capture shows are mostly the relay's,
    # resending what the client dropped on the way in. Hence the TCP client talks a lot: every
    # line becomes a MESSAGE the relay sends the UDP client. With 30 of them at 20 % loss, a run
    # without a visible retransmission is about as likely as 1 in 10^3.
    {
        sleep 1.5; for n in $(seq 30); do echo "tcp line $n"; sleep 0.05; done; sleep 6
    } | "$bin/chat" "${chat_flags[@]}" --mode tcp --name tina --relay "127.0.0.1:$port" >"$work/tcp.log" 2>&1 &
    local tcp_pid=$!
    started_pids="$started_pids $tcp_pid"
    {
        sleep 2; for n in $(seq 20); do echo "udp line $n"; sleep 0.05; done
        echo "/me waves"; echo "/msg tina private words"; sleep 1
    } | "$bin/chat" "${chat_flags[@]}" --mode udp --loss 20 --seed 7 --name ursula --relay "127.0.0.1:$port" \
        >"$work/udp.log" 2>&1 &
    local udp_pid=$!
    started_pids="$started_pids $udp_pid"

    for _ in $(seq 250); do
        kill -0 "$tcp_pid" 2>/dev/null || kill -0 "$udp_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "clients: tcp $(wc -l <"$work/tcp.log") lines of output, udp $(wc -l <"$work/udp.log")"
    kill "$tcp_pid" "$udp_pid" 2>/dev/null
    kill "$relay_pid" 2>/dev/null
    sleep 1
    kill "$capture_pid" 2>/dev/null
    wait "$capture_pid" 2>/dev/null

    if [ ! -s "$capture" ]; then
        cat "$work/capture.log"
        fail "live capture is empty"
        return
    fi
    if [ "$mode" = sealed ]; then check_sealed_live "$capture" "$port"; else check_live "$capture" "$port"; fi
}

# A sealed session (the default): the capture holds none of the chat text, anywhere in its bytes,
# and the dissector shows the handshake (FINISH, the Noise messages) and sealed packets and frames.
check_sealed_live() {
    local capture="$1" port="$2" passed=0 before=$failures
    local prefs=(-o "dgram.port:$port")
    tshark_lua "${prefs[@]}" -r "$capture" -V >"$work/sealed.txt" 2>"$work/sealed.err"
    check_lua_errors "sealed live capture" "$work/sealed.err" "$work/sealed.txt" && passed=$((passed + 1))
    tshark_lua "${prefs[@]}" -r "$capture" -T fields -E occurrence=a -E aggregator='|' \
        -e frame.number -e dgram.type -e dgram.sealed -e dgram.noise.index -e dgramtcp.noise.index \
        -e dgramtcp.sealed -e dgchat.text -e _ws.malformed -e dgram.checksum.status \
        >"$work/sealed.tsv" 2>>"$work/sealed.err"
    local clear finishes sealed udp_noise tcp_noise tcp_sealed texts malformed
    clear="$(python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
print(sum(data.count(word) for word in (b"udp line", b"tcp line", b"private words", b"waves")))' "$capture")"
    finishes="$(awk -F'\t' '$2 ~ /0x13/' "$work/sealed.tsv" | wc -l)"
    sealed="$(awk -F'\t' '$3 ~ /1/' "$work/sealed.tsv" | wc -l)"
    udp_noise="$(awk -F'\t' '$4 != ""' "$work/sealed.tsv" | wc -l)"
    tcp_noise="$(awk -F'\t' '$5 != ""' "$work/sealed.tsv" | wc -l)"
    tcp_sealed="$(awk -F'\t' '$6 != ""' "$work/sealed.tsv" | wc -l)"
    texts="$(awk -F'\t' '$7 != ""' "$work/sealed.tsv" | wc -l)"
    malformed="$(awk -F'\t' '$8 != ""' "$work/sealed.tsv" | wc -l)"
    [ "$clear" -eq 0 ] && passed=$((passed + 1)) || fail "the sealed capture holds chat text in clear ($clear times)"
    [ "$finishes" -gt 0 ] && passed=$((passed + 1)) || fail "no FINISH in the sealed capture"
    [ "$sealed" -gt 0 ] && passed=$((passed + 1)) || fail "no sealed UDP packet recognised"
    [ "$udp_noise" -gt 0 ] && passed=$((passed + 1)) || fail "no Noise message shown on UDP"
    [ "$tcp_noise" -gt 0 ] && passed=$((passed + 1)) || fail "no Noise message shown on TCP"
    [ "$tcp_sealed" -gt 0 ] && passed=$((passed + 1)) || fail "no sealed TCP frame shown"
    [ "$texts" -eq 0 ] && passed=$((passed + 1)) || fail "chat text decoded from a sealed session ($texts frames)"
    [ "$malformed" -eq 0 ] && passed=$((passed + 1)) || fail "$malformed malformed items in the sealed capture"
    local line="sealed live capture: $(wc -l <"$work/sealed.tsv") frames, chat text in clear $clear times, FINISH in $finishes, sealed UDP packets $sealed, Noise messages UDP $udp_noise TCP $tcp_noise, sealed TCP frames $tcp_sealed; $passed assertions passed, $((failures - before)) failed"
    echo "$line"
    summary+=("(b) $line")
}

check_live() {
    local capture="$1" port="$2" passed=0 before=$failures
    local prefs=(-o "dgram.port:$port")
    tshark_lua "${prefs[@]}" -r "$capture" -V >"$work/live.txt" 2>"$work/live.err"
    check_lua_errors "live capture" "$work/live.err" "$work/live.txt" && passed=$((passed + 1))
    tshark_lua "${prefs[@]}" -r "$capture" -T fields -E occurrence=a -E aggregator='|' \
        -e frame.number -e udp.srcport -e tcp.srcport -e dgram.type -e dgram.packet_number \
        -e dgram.data.channel -e dgram.data.message_number -e dgram.acknowledged -e dgchat.text \
        -e _ws.malformed -e dgram.checksum.status -e dgram.data.retransmission \
        >"$work/live.tsv" 2>>"$work/live.err"
    local udp_text tcp_text retransmitted marked acknowledgements malformed bad_checksums
    udp_text="$(awk -F'\t' '$2 != "" && $9 ~ /(udp|tcp) line/' "$work/live.tsv" | wc -l)"
    tcp_text="$(awk -F'\t' '$3 != "" && $9 ~ /(udp|tcp) line/' "$work/live.tsv" | wc -l)"
    # Message numbers sent by one UDP source port on the reliable channel, seen in more than one
    # packet number: retransmissions.
    retransmitted="$(awk -F'\t' '$4 == "0x01" && $6 == "0" { key = $2 "/" $7; if (!((key, $5) in seen)) { seen[key, $5] = 1; count[key]++ } }
        END { n = 0; for (k in count) if (count[k] > 1) n++; print n }' "$work/live.tsv")"
    marked="$(awk -F'\t' '$12 ~ /1/' "$work/live.tsv" | wc -l)"
    acknowledgements="$(awk -F'\t' '$8 != ""' "$work/live.tsv" | wc -l)"
    malformed="$(awk -F'\t' '$10 != ""' "$work/live.tsv" | wc -l)"
    bad_checksums="$(awk -F'\t' '$11 ~ /(^|\|)0($|\|)/' "$work/live.tsv" | wc -l)"
    malformed=$((malformed + $(grep -c "Expert Info (Error/Malformed)" "$work/live.txt")))
    local frames
    frames="$(wc -l <"$work/live.tsv")"
    [ "$udp_text" -gt 0 ] && passed=$((passed + 1)) || fail "no chat text decoded in UDP DATA"
    [ "$tcp_text" -gt 0 ] && passed=$((passed + 1)) || fail "no chat text decoded in TCP frames"
    [ "$retransmitted" -gt 0 ] && passed=$((passed + 1)) || fail "no message number seen in two packet numbers (no retransmission with --loss 20?)"
    [ "$marked" -gt 0 ] && passed=$((passed + 1)) || fail "the dissector marked no packet as a retransmission"
    [ "$acknowledgements" -gt 0 ] && passed=$((passed + 1)) || fail "no acknowledgements decoded"
    [ "$malformed" -eq 0 ] && passed=$((passed + 1)) || fail "$malformed malformed items"
    [ "$bad_checksums" -eq 0 ] && passed=$((passed + 1)) || fail "$bad_checksums bad checksums"
    local line="live capture: $frames frames, UDP text in $udp_text, TCP text in $tcp_text, $retransmitted message numbers in several packet numbers, $marked packets marked retransmission, acks in $acknowledgements, $malformed malformed; $passed assertions passed, $((failures - before)) failed"
    echo "$line"
    summary+=("(b) $line")
}

if [ $synthetic_only = 1 ]; then
    live_skip "--synthetic-only"
else
    live
fi

if [ -n "$keep" ]; then
    mkdir -p "$keep" && cp "$work"/*.pcap* "$work"/*.log "$keep"/ 2>/dev/null
    echo "kept the captures and logs in $keep"
fi

echo
printf '%s\n' "${summary[@]}"
if [ $failures = 0 ]; then
    echo "dissector check passed"
    exit 0
fi
echo "dissector check FAILED: $failures failure(s)"
exit 1

#!/usr/bin/env bash
# Opens the README's demo in tmux: the relay on top, three clients below
# (alice and bob over UDP with Datagram, carol over TCP).
#
#   tools/demo.sh [--port PORT] [--session NAME] [--detach]
#
# Then, in alice's pane: /loss 30, /trace on, type a line, /stats, /loss 0.
# Leave with /quit in each client and Ctrl-C in the relay, or: tmux kill-session -t datagram-demo
set -euo pipefail

port=9000
session=datagram-demo
attach=1
usage() { echo "Usage: tools/demo.sh [--port PORT] [--session NAME] [--detach]"; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --port) port="${2:?missing value for --port}"; shift 2 ;;
        --port=*) port="${1#*=}"; shift ;;
        --session) session="${2:?missing value for --session}"; shift 2 ;;
        --session=*) session="${1#*=}"; shift ;;
        --detach) attach=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "Error: unexpected argument '$1'" >&2; usage >&2; echo "See 'tools/demo.sh --help'" >&2; exit 64 ;;
    esac
done

command -v tmux >/dev/null || { echo "Error: tmux is not installed" >&2; exit 1; }
cd "$(dirname "$0")/.."
echo "building relay and chat…"
swift build --product relay | tail -1
swift build --product chat | tail -1
bin="$(swift build --show-bin-path)"

if tmux has-session -t "$session" 2>/dev/null; then
    echo "Error: a tmux session named '$session' exists; kill it or pass --session NAME" >&2
    exit 1
fi

relay="$bin/relay --port $port --data :memory:"
chat="$bin/chat --relay 127.0.0.1:$port"
tmux new-session -d -s "$session" -x 200 -y 50 -n demo "$relay"
tmux set-option -t "$session" remain-on-exit on >/dev/null
sleep 0.5
tmux split-window -t "$session:demo.0" -v -l 75% "$chat --name alice --mode udp"
sleep 0.3
tmux split-window -t "$session:demo.1" -h -l 66% "$chat --name bob --mode udp"
sleep 0.3
tmux split-window -t "$session:demo.2" -h -l 50% "$chat --name carol --mode tcp"
tmux select-pane -t "$session:demo.1"

echo "tmux session '$session': relay on 127.0.0.1:$port; alice (udp), bob (udp), carol (tcp)"
if [[ $attach == 1 && -t 0 ]]; then
    exec tmux attach -t "$session"
fi
echo "attach with: tmux attach -t $session"

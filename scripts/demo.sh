#!/usr/bin/env bash
# `make demo`: the whole loop on a laptop, no Hugging Face account, no network.
# Starts the local emulator, applies the example specs, shows the fleet, proves the next plan
# is empty, stops the emulator. Every command it runs is printed, so you can run them yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DIR=${DIR:-endpoints}
SPEED=${SPEED:-10}
LOG=$(mktemp -t provisioner-emulator.XXXXXX)
STATE=$(mktemp -d -t provisioner-state.XXXXXX)   # the demo's fleet is gone when it ends: so is its state

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD='' PLAIN=''; fi
step() { printf '\n%s$ %s%s\n' "$BOLD" "$*" "$PLAIN"; "$@"; }

"$BIN/provisioner" emulator --port 0 --speed "$SPEED" >"$LOG" 2>&1 &
EMULATOR=$!
trap 'kill "$EMULATOR" 2>/dev/null || true; wait "$EMULATOR" 2>/dev/null || true; rm -rf "$LOG" "$STATE"' EXIT
for _ in $(seq 1 100); do
  URL=$(head -n 1 "$LOG" 2>/dev/null || true)
  case "$URL" in http://*) break ;; esac
  if ! kill -0 "$EMULATOR" 2>/dev/null; then cat "$LOG" >&2; exit 1; fi
  sleep 0.1
done
case "${URL:-}" in http://*) ;; *) echo "the emulator did not start:" >&2; cat "$LOG" >&2; exit 1 ;; esac

echo "Emulator of the Inference Endpoints API at $URL (time runs ${SPEED}x faster)."
export PROVISIONER_API_URL="$URL"
export HF_TOKEN=hf_demo                               # the emulator's demo user
export SUPPORT_ASSISTANT_API_KEY=demo-secret-value    # a secret the LLM example reads from the environment
export PROVISIONER_BACKEND="local:$STATE"             # lock, secret fingerprints, history
export PROVISIONER_NOW=2027-03-24T10:00:00Z           # schedules read this clock: Wed 11:00 in Madrid

step "$BIN/provisioner" validate --dir "$DIR"
step "$BIN/provisioner" apply --dir "$DIR" --auto-approve
step "$BIN/provisioner" status --dir "$DIR"
step "$BIN/provisioner" smoke --dir "$DIR"
echo
echo "The summarizer's smoke test (smoke: in its spec) ran after apply and again on demand."
step "$BIN/provisioner" plan --dir "$DIR" --detailed-exitcode
echo
echo "The second plan is empty: what was applied is exactly what the specs say."
step "$BIN/provisioner" history --dir "$DIR"
export SUPPORT_ASSISTANT_API_KEY=rotated-demo-secret
step "$BIN/provisioner" plan --dir "$DIR" --detailed-exitcode || [ $? -eq 2 ]
echo
echo "Only a secret's value changed: the state's fingerprint of it shows the update, never the value."
export SUPPORT_ASSISTANT_API_KEY=demo-secret-value
echo
echo "flan-t5-summarizer runs mon-fri 08:00-20:00 Madrid time. On Friday at 20:00 its schedule pauses it:"
step env PROVISIONER_NOW=2027-03-26T19:00:00Z "$BIN/provisioner" plan --dir "$DIR" --detailed-exitcode || [ $? -eq 2 ]

#!/usr/bin/env bash
# Runs the whole test suite with the system clock shifted far from today,
# to prove that no verdict depends on the day it runs (time is an input:
# every "now" comes from a clock passed in, and tests derive recent data
# from that clock, never from a literal date).
#   scripts/clock-shift-tests.sh            # one year ahead, then one year back
#   scripts/clock-shift-tests.sh +30d -2y   # any faketime offsets
# Needs Debian's faketime package (installed if missing, with root).
#
# Cargo builds with the real clock (its freshness checks compare file
# times, and outputs dated a year back would look stale forever); then each
# test binary `cargo test --workspace` would run is run under faketime,
# from its package's folder as Cargo runs it. Children inherit the shifted
# clock (the local Lambda passes libfaketime's variables on to functions,
# which share the host's clock as on AWS).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null 2>&1; then
  echo "installing faketime (needs root)..." >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq faketime >/dev/null
  else sudo apt-get install -y -qq faketime >/dev/null; fi
fi
offsets=("$@")
[ ${#offsets[@]} -gt 0 ] || offsets=(+365d -365d)
# "<package folder> <executable>" per test binary, as Cargo reports them.
list=$(cargo test --workspace --no-run -q --message-format=json | python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(os.path.dirname(m["manifest_path"]), m["executable"])
')
# The supervisor and scar-tui binaries the tests run must be current too.
export CARGO="${CARGO:-$(command -v cargo)}"
failed=0
for off in "${offsets[@]}"; do
  echo "== the suite with the clock at $off ($(faketime -f "$off" date -u +%F))" >&2
  while read -r dir exe; do
    # Only the wall clock moves: timers and timeouts keep real time, as
    # they would on a machine whose date is that day.
    if ! (cd "$dir" && FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "$off" "$exe"); then
      echo "FAILED at $off: $exe" >&2
      failed=1
    fi
  done <<< "$list"
done
exit $failed

#!/usr/bin/env bash
# The offline demo: build a busybox image as an OCI layout, then run the
# paper's Figure 3 script shape on a text file with scar-supervisor, twice
# (cold: pull + unpack; warm: cache hit). Needs Debian's busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s busybox-static >/dev/null 2>&1; then
  echo "installing busybox-static (needs root)..." >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq busybox-static >/dev/null
  else sudo apt-get install -y -qq busybox-static >/dev/null; fi
fi
cargo build --release -q -p scar-supervisor
bin="${CARGO_TARGET_DIR:-/var/tmp/scar-tui-target}/release/scar-supervisor"
demo=$(mktemp -d /tmp/scar-demo.XXXX)
scripts/demo-image.sh "$demo/image" >/dev/null
printf 'the quick brown fox\njumps over the lazy dog\n' > "$demo/fox.txt"
for run in cold warm; do
  echo "== $run run"
  "$bin" run --image "oci:$demo/image:demo" --script assets/scripts/demo-upper.sh \
    --input "$demo/fox.txt" --output-dir "$demo/out" --cache-dir "$demo/cache"
done
echo "== outputs in $demo/out"
for f in "$demo"/out/*; do echo "--- $(basename "$f")"; cat "$f"; done

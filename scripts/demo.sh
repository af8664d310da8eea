#!/usr/bin/env bash
# The offline demo of scar-tui on its embedded local cloud:
#   1. build scar-tui and the supervisor, and a busybox image (OCI layout);
#   2. serve the local cloud (S3, Lambda, CloudWatch) on loopback;
#   3. create a function from the image and the paper's Figure 3 script
#      shape (busybox `tr` in place of ffmpeg), triggered by an input bucket;
#   4. upload 10 files (cold starts), then 10 more (warm, cache hits);
#   5. download the outputs and show the per-invocation metrics.
# Needs Debian's busybox-static (installed if missing, with root).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s busybox-static >/dev/null 2>&1; then
  echo "installing busybox-static (needs root)..." >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq busybox-static >/dev/null
  else sudo apt-get install -y -qq busybox-static >/dev/null; fi
fi
echo "== building (the first build takes a few minutes)"
cargo build -q -p scar-tui -p scar-supervisor
# Where Cargo put them: this clone's target/ unless CARGO_TARGET_DIR says otherwise.
target="$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)/debug"
scar="$target/scar-tui"
demo=$(mktemp -d /tmp/scar-demo.XXXX)
export SCAR_SUPERVISOR="$target/scar-supervisor"
"$scar" local demo-image "$demo/image" >/dev/null

echo "== serving the local cloud (data in $demo/cloud)"
"$scar" --data-dir "$demo/cloud" local serve --port 0 > "$demo/serve.env" 2> "$demo/serve.log" &
server=$!
trap 'st=$?; kill $server 2>/dev/null; wait $server 2>/dev/null || true; exit $st' EXIT
for _ in $(seq 100); do [ -s "$demo/cloud/endpoint.json" ] && break; sleep 0.1; done
cat "$demo/serve.env" | sed 's/SECRET_ACCESS_KEY=.*/SECRET_ACCESS_KEY=<in the data folder>/'
s() { "$scar" --data-dir "$demo/cloud" "$@"; }

echo "== creating function 'demo' (input bucket demo-in, outputs to demo-out)"
s init --name demo --image "oci:$demo/image:demo" --script assets/scripts/demo-upper.sh \
  --input demo-in --output demo-out --memory 256 --timeout 60

wait_for() {
  for _ in $(seq 600); do
    done_count=$(s --json metrics demo 2>/dev/null | grep -o '"status": *"succeeded"' | wc -l || true)
    [ "$done_count" -ge "$1" ] && return 0
    sleep 0.2
  done
  echo "timed out waiting for $1 runs" >&2; return 1
}
mkdir -p "$demo/files"
echo "== uploading 10 files: each upload triggers one invocation (cold: every environment pulls the image)"
for i in $(seq -w 1 10); do
  printf 'file %s: the quick brown fox jumps over the lazy dog\n' "$i" > "$demo/files/fox-$i.txt"
done
s put demo-in "$demo/files"/fox-0*.txt "$demo/files/fox-10.txt"
wait_for 10
echo "== 10 more: the warm environments find the image in their /tmp (cache hits)"
for i in $(seq 11 20); do
  printf 'file %s: the quick brown fox jumps over the lazy dog\n' "$i" > "$demo/files/fox-$i.txt"
done
s put demo-in "$demo/files"/fox-1[1-9].txt "$demo/files/fox-20.txt"
wait_for 20
s metrics demo

echo "== outputs"
s get demo-out "$demo/out" >/dev/null
for f in $(ls "$demo/out" | head -4); do printf '%s: ' "$f"; cat "$demo/out/$f"; done
echo "(all outputs in $demo/out; try: $scar --data-dir $demo/cloud logs demo)"

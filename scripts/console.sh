#!/usr/bin/env bash
# The main job: the scar-tui console on its embedded local cloud, offline.
# On the first start (no functions yet) it offers the demo function: an
# image built from Debian's static busybox, the paper's Figure 3 script
# shape, and 5 sample files processed while you watch (panes 3 and 4).
# Then: u uploads files, r runs a batch over the inputs, ? shows the keys.
#   scripts/console.sh [scar-tui options]   (e.g. --data-dir /tmp/scar-demo)
# Needs Debian's busybox-static for the demo (installed if missing, with root).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s busybox-static >/dev/null 2>&1; then
  echo "installing busybox-static (needs root)..." >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq busybox-static >/dev/null
  else sudo apt-get install -y -qq busybox-static >/dev/null; fi
fi
echo "== building scar-tui and the supervisor (the first build takes a few minutes)" >&2
cargo build -q -p scar-tui -p scar-supervisor
# Where Cargo put them: this clone's target/ unless CARGO_TARGET_DIR says otherwise.
target="$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)/debug"
# The supervisor is found beside scar-tui; SCAR_SUPERVISOR says it anyway.
export SCAR_SUPERVISOR="$target/scar-supervisor"
exec "$target/scar-tui" "$@"

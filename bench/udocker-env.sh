#!/bin/sh
# shellcheck disable=SC2015,SC2016,SC2086,SC2317  # sourced-or-run idioms, intended
# udocker 1.3.17 (PyPI), fully offline, as the peer in the supervisor benchmark.
#
# Debian 12 packages needed: python3 python3-venv curl proot fakechroot
# patchelf (udocker downloads through the curl executable; pycurl is not
# installed). The benchmark also wants: docker-registry busybox-static
# hyperfine time.
# Network: only PyPI, once, for `pip install udocker==1.3.17`. udocker's own
# tools tarball (github/incd.pt) is never fetched: lib/VERSION says 1.2.11.
#
# Usage (idempotent, silent on success; a second call takes ~0.1 s):
#   . bench/udocker-env.sh DIR      # bash: install if needed, export env
#   eval "$(bench/udocker-env.sh DIR)"   # any sh: prints `export` lines
#   UDOCKER_BENCH_DIR=DIR; . bench/udocker-env.sh   # dash (`.` takes no args)
# DIR holds venv/ (udocker), udocker/ (the default UDOCKER_DIR: repos/,
# layers/, containers/, lib/VERSION) and proot-nok (the proot wrapper).
# Afterwards `udocker` is on PATH. A UDOCKER_DIR set before the call is kept
# (and gets its lib/VERSION); for a cold run either use a new UDOCKER_DIR and
# call this again, or keep it and `rm -rf "$UDOCKER_DIR"/repos
# "$UDOCKER_DIR"/layers "$UDOCKER_DIR"/containers` (lib/VERSION must stay).
# Env knobs: PYTHON (default python3), UDOCKER_PIP_ARGS (extra pip args).
#
# Command lines verified as root (Debian 12, udocker 1.3.17, Debian
# docker-registry 2.8 on 127.0.0.1, plain http, no auth; OCI and Docker
# schema 2 manifests both pull):
#   udocker --allow-root pull --registry=http://127.0.0.1:PORT REPO:TAG
#   udocker --allow-root create --name=X REPO:TAG
#   udocker --allow-root setup --execmode=P1 X
#   udocker --allow-root run --hostauth --workdir=/ X /bin/sh -c true
# Quiet variants for timing: `udocker --allow-root -q ...` and
# `run --nobanner` (otherwise run prints a 6-line banner). The global options
# (--allow-root, -q) must come before the command.
#
# Pitfalls:
#   - without $UDOCKER_DIR/lib/VERSION = 1.2.11, create/setup/run first try to
#     download udockertools ("Error: installation of udockertools failed");
#   - Debian's proot 5.1 breaks dynamically linked guests when given
#     `-k RELEASE` (ld.so: "cannot stat shared object: Invalid argument");
#     udocker always passes -k in P1/P2, hence the wrapper (static busybox
#     happens to survive -k, so a busybox-only test does not show it);
#   - as root, every command needs --allow-root ("Error: do not run as
#     root !"), and run needs --hostauth ("invalid host volume path:
#     /tmp/udocker-...-group" without it);
#   - run's default working directory is the image's WorkingDir, else the
#     user's home from passwd (/root with --hostauth): an image with neither
#     fails "invalid working directory: /root", hence --workdir=/;
#   - --registry must be a full URL with http://; `pull 127.0.0.1:PORT/REPO`
#     goes to Docker Hub, and `--registry=127.0.0.1:PORT` is tried as https;
#   - F1 (fakechroot) with a static busybox does not isolate (LD_PRELOAD is
#     ignored: the guest sees the host's /): compare against P1 (proot).

_ude_dir=${1:-${UDOCKER_BENCH_DIR:-}}
if [ -z "$_ude_dir" ]; then
    echo "usage: udocker-env.sh DIR" >&2
    return 2 2>/dev/null || exit 2
fi
mkdir -p "$_ude_dir" && _ude_dir=$(cd "$_ude_dir" && pwd) || {
    return 1 2>/dev/null || exit 1
}

# (a) udocker in a venv
if [ ! -x "$_ude_dir/venv/bin/udocker" ] \
   || ! "$_ude_dir/venv/bin/python" -c 'import importlib.metadata as m,sys; sys.exit(m.version("udocker")!="1.3.17")' 2>/dev/null; then
    "${PYTHON:-python3}" -m venv "$_ude_dir/venv" >/dev/null \
    && "$_ude_dir/venv/bin/pip" install -q --disable-pip-version-check \
        ${UDOCKER_PIP_ARGS:-} udocker==1.3.17 >/dev/null \
    || { echo "udocker-env.sh: pip install udocker==1.3.17 into $_ude_dir/venv failed" >&2
         return 1 2>/dev/null || exit 1; }
fi

# (b) offline environment
UDOCKER_DIR=${UDOCKER_DIR:-$_ude_dir/udocker}
mkdir -p "$UDOCKER_DIR/lib"
[ "$(cat "$UDOCKER_DIR/lib/VERSION" 2>/dev/null)" = 1.2.11 ] \
    || printf '1.2.11\n' > "$UDOCKER_DIR/lib/VERSION"

_ude_proot=$_ude_dir/proot-nok
_ude_body='#!/bin/sh
# /usr/bin/proot minus udocker'"'"'s "-k RELEASE" (Debian proot'"'"'s kernel
# emulation makes dynamically linked guests fail: "cannot stat shared object").
# Only the options before -r are scanned; the guest command is left untouched.
n=$#; seen=0
while [ "$n" -gt 0 ]; do
    a=$1; shift; n=$((n - 1))
    if [ "$seen" = 0 ]; then
        case $a in
            -k) seen=1; [ "$n" -gt 0 ] && { shift; n=$((n - 1)); }; continue ;;
            -r|--rootfs|--rootfs=*|-R|-S) seen=1 ;;
        esac
    fi
    set -- "$@" "$a"
done
exec /usr/bin/proot "$@"
'
if [ "$(cat "$_ude_proot" 2>/dev/null)
" != "$_ude_body" ] || [ ! -x "$_ude_proot" ]; then
    printf '%s' "$_ude_body" > "$_ude_proot" && chmod 755 "$_ude_proot"
fi

export UDOCKER_DIR
export UDOCKER_USE_PROOT_EXECUTABLE="$_ude_proot"
export UDOCKER_FAKECHROOT_SO=/usr/lib/x86_64-linux-gnu/fakechroot/libfakechroot.so
export UDOCKER_USE_PATCHELF_EXECUTABLE=/usr/bin/patchelf
case ":$PATH:" in *":$_ude_dir/venv/bin:"*) ;; *) PATH="$_ude_dir/venv/bin:$PATH" ;; esac
export PATH

# Run (not sourced): print the environment for eval.
case ${0##*/} in
    udocker-env.sh)
        for _v in UDOCKER_DIR UDOCKER_USE_PROOT_EXECUTABLE UDOCKER_FAKECHROOT_SO \
                  UDOCKER_USE_PATCHELF_EXECUTABLE PATH; do
            eval "printf 'export %s=%s\n' \"\$_v\" \"'\$$_v'\""
        done ;;
esac
unset _ude_dir _ude_proot _ude_body _v

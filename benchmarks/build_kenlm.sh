#!/usr/bin/env bash
# Build KenLM's command-line tools (lmplz, query, build_binary, ...) from the
# PyPI `kenlm` source distribution, for use as a benchmark / cross-check peer.
#
# Nothing is vendored: the sdist is fetched with pip into a cache folder outside
# the repository and built there with cmake. Safe to re-run: every step that is
# already done is skipped. Progress goes to stderr; the last line on stdout is
# the folder holding the binaries, so a caller can do:
#
#     KENLM_BIN=$(bash benchmarks/build_kenlm.sh | tail -n 1)
#
# Environment (all optional):
#   KENLM_PREFIX     cache folder            (default: $HOME/.cache/lmlab/kenlm)
#   KENLM_VERSION    PyPI kenlm version      (default: 0.3.0)
#   KENLM_MAX_ORDER  highest n-gram order    (default: 6, KenLM's own default)
#   KENLM_JOBS       parallel compile jobs   (default: 2)
#   KENLM_SKIP_APT   1 = don't touch apt (build deps already present)
#   PYTHON           interpreter whose pip downloads the sdist (default: python3)
#
# Build deps (Debian): cmake g++ libboost-{program-options,system,thread,test}-dev
# zlib1g-dev libbz2-dev liblzma-dev. Eigen3 is not installed, so KenLM's
# optional `interpolate` tool is not built. Cost on a 2-core machine: apt
# about 15 s, download about 7 s, compile about 80 s with -j2.
set -euo pipefail

KENLM_PREFIX=${KENLM_PREFIX:-$HOME/.cache/lmlab/kenlm}
KENLM_VERSION=${KENLM_VERSION:-0.3.0}
KENLM_MAX_ORDER=${KENLM_MAX_ORDER:-6}
KENLM_JOBS=${KENLM_JOBS:-2}
KENLM_SKIP_APT=${KENLM_SKIP_APT:-0}
PYTHON=${PYTHON:-python3}

# sha256 of the sdist, checked when building the pinned version.
KENLM_030_SHA256=c4628bb9fb63c8a6f9240035b8b037385cfc404cb72e933cf48878291edac1e8

SRC_ROOT="$KENLM_PREFIX/src"
TARBALL="$SRC_ROOT/kenlm-$KENLM_VERSION.tar.gz"
SRC_DIR="$SRC_ROOT/kenlm-$KENLM_VERSION"
BUILD_DIR="$KENLM_PREFIX/build-$KENLM_VERSION-o$KENLM_MAX_ORDER"
BIN_DIR="$BUILD_DIR/bin"
TOOLS=(lmplz query build_binary)

log() { printf '[build_kenlm] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

have_tools() {
    local t
    for t in "${TOOLS[@]}"; do
        [[ -x "$BIN_DIR/$t" ]] || return 1
    done
}

if have_tools; then
    log "already built: $BIN_DIR"
    echo "$BIN_DIR"
    exit 0
fi

# --- 1. Debian build dependencies ------------------------------------------
APT_PKGS=(cmake g++ make libboost-program-options-dev libboost-system-dev
          libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev)

if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    APT_PKGS+=(python3-pip)
fi

if [[ "$KENLM_SKIP_APT" != 1 ]]; then
    missing=()
    for p in "${APT_PKGS[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    if ((${#missing[@]})); then
        SUDO=()
        if [[ $(id -u) -ne 0 ]]; then
            command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install: ${missing[*]}"
            SUDO=(sudo)
        fi
        log "apt-get install ${missing[*]}"
        "${SUDO[@]}" apt-get update -q >&2
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    else
        log "apt packages already installed"
    fi
fi

command -v cmake >/dev/null 2>&1 || die "cmake not found"
command -v g++ >/dev/null 2>&1 || die "g++ not found"

# --- 2. source distribution --------------------------------------------------
mkdir -p "$SRC_ROOT"
if [[ ! -f "$TARBALL" ]]; then
    log "downloading kenlm==$KENLM_VERSION sdist into $SRC_ROOT"
    # Only kenlm itself must come as source: `--no-binary :all:` would also
    # force pip to compile its build requirements (the `cmake` PyPI package,
    # i.e. all of CMake) from source just to prepare metadata.
    "$PYTHON" -m pip download --no-deps --no-binary kenlm \
        "kenlm==$KENLM_VERSION" -d "$SRC_ROOT" >&2
fi
[[ -f "$TARBALL" ]] || die "pip did not produce $TARBALL"

if [[ "$KENLM_VERSION" == 0.3.0 ]]; then
    echo "$KENLM_030_SHA256  $TARBALL" | sha256sum -c --quiet - >&2 \
        || die "checksum mismatch for $TARBALL"
fi

if [[ ! -f "$SRC_DIR/CMakeLists.txt" ]]; then
    log "unpacking $TARBALL"
    rm -rf "$SRC_DIR"
    tar -xzf "$TARBALL" -C "$SRC_ROOT"
fi
[[ -f "$SRC_DIR/CMakeLists.txt" ]] || die "no CMakeLists.txt in $SRC_DIR"

# --- 3. build ----------------------------------------------------------------
log "building into $BUILD_DIR (KENLM_MAX_ORDER=$KENLM_MAX_ORDER, -j$KENLM_JOBS)"
cmake -S "$SRC_DIR" -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DKENLM_MAX_ORDER="$KENLM_MAX_ORDER" >&2
cmake --build "$BUILD_DIR" -j "$KENLM_JOBS" >&2

have_tools || die "build finished but ${TOOLS[*]} are not all in $BIN_DIR"
log "done"
echo "$BIN_DIR"

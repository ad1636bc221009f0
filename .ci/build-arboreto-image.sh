#!/usr/bin/env bash
# Build grn-bench's local arboreto image: BEELINE's GENIE3/GRNBoost2 image made from parts that need no Docker Hub.
#
#   bash .ci/build-arboreto-image.sh                    # -> grnbeeline/arboreto:base (the name the executor uses)
#   bash .ci/build-arboreto-image.sh my/arboreto:local  # another tag (then: BENCH_IMAGE_GENIE3/_GRNBOOST2 or --image)
#   FORCE=1 bash .ci/build-arboreto-image.sh            # rebuild even if the same build is present
#
# What is in it: a minimal Debian bookworm root filesystem made by debootstrap (variant minbase, plus Python 3.11
# from Debian), the original arboreto 0.1.6 from PyPI with the period-correct pins of
# methods/beeline/images/arboreto/requirements.txt (downloaded as wheels on the host, installed offline into the
# root filesystem, checked by importing them in a chroot), and grn-bench's own runner runArboreto.py, which takes
# BEELINE's command line (`python runArboreto.py --algo=GENIE3|GRNBoost2 --inFile=IN --outFile=OUT`). Docs, man
# pages, locales, apt lists, caches and the packages' test suites are removed, and byte code is kept only for the
# modules a run imports; `docker import` makes the image, labelled with a content hash of this script, the runner
# and the pins.
#
# Cached: when the image already carries the same hash, nothing is done ("reusing"). Downloads (Debian packages,
# wheels) and the Debian base are kept in $GRN_BENCH_BUILD_CACHE (default ~/.cache/grn-bench/arboreto-image), so
# a rebuild after an edit downloads nothing and skips debootstrap. Needs: root (debootstrap, chroot), a docker
# daemon, the Debian mirror ($DEBIAN_MIRROR, default http://deb.debian.org/debian) and PyPI (pip's usual
# configuration) on the host; the container itself needs no network.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$REPO/methods/beeline/images/arboreto"
IMAGE="${1:-${BENCH_ARBORETO_IMAGE:-grnbeeline/arboreto:base}}"
SUITE=bookworm                       # Python 3.11: the interpreter the pinned wheels are built for
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${GRN_BENCH_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/grn-bench/arboreto-image}"
PY=python3.11
SITE=usr/local/lib/$PY/dist-packages   # on Debian's sys.path for local installs

say() { echo "build-arboreto-image: $*"; }
die() { say "$*" >&2; exit 1; }

BUILD="$(cat "$0" "$SRC/runArboreto.py" "$SRC/requirements.txt" | sha256sum | cut -c1-16)"
LABEL=grn-bench.build

docker info >/dev/null 2>&1 || die "no docker daemon answers (as root: bash .ci/docker-setup.sh)"
have="$(docker image inspect "$IMAGE" --format "{{ index .Config.Labels \"$LABEL\" }}" 2>/dev/null || true)"
if [ "$have" = "$BUILD" ] && [ -z "${FORCE:-}" ]; then
  say "reusing $IMAGE (build $BUILD already present; FORCE=1 rebuilds)"
  exit 0
fi
[ "$(id -u)" = "0" ] || die "building needs root (debootstrap and chroot); run it as root or with sudo"

T0=$(date +%s)
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q debootstrap >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q debootstrap >/dev/null; }
fi

# Pip: a Python >= 3.8 with pip on the host; the wheels are chosen for the image's Python, not the host's.
PIP=()
for cand in "$REPO/.venv/bin/python" python3; do
  if "$cand" -m pip --version >/dev/null 2>&1; then PIP=("$cand" -m pip); break; fi
done
[ ${#PIP[@]} -gt 0 ] || die "no pip on the host (install python3-pip)"
# pip's output only when it fails.
pip_quiet() {
  local log; log="$(mktemp)"
  if "${PIP[@]}" "$1" -q --disable-pip-version-check "${@:2}" >"$log" 2>&1; then rm -f "$log"; return 0; fi
  grep -v "is ignored" "$log" | tail -20 >&2; rm -f "$log"; return 1
}
WHEEL_TAGS=(--only-binary=:all: --python-version 3.11 --implementation cp --abi cp311
            --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform any)

ROOT="$(mktemp -d /tmp/grn-bench-arboreto-root.XXXXXX)"
cleanup() {
  umount "$ROOT/proc" 2>/dev/null || umount -l "$ROOT/proc" 2>/dev/null || true
  mountpoint -q "$ROOT/proc" || rm -rf "$ROOT"   # never delete through a mounted /proc
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # so that a killed build (a CI timeout) still cleans up
chmod 755 "$ROOT"   # mktemp makes it 0700: the image's / must be reachable by a non-root user
mkdir -p "$CACHE/debs" "$CACHE/wheels"

say "downloading the pinned wheels (cache: $CACHE/wheels)"
pip_quiet download --no-deps "${WHEEL_TAGS[@]}" -d "$CACHE/wheels" -r "$SRC/requirements.txt" \
  || die "pip download failed (is PyPI reachable?)"

# The Debian base is kept as a tarball in the cache: a rebuild after an edit of the runner or the pins skips
# debootstrap (delete the cache to take newer Debian packages).
BASE="$CACHE/base-$SUITE-minbase-python3.tar"
if [ -s "$BASE" ]; then
  say "unpacking the cached Debian base ($BASE)"
  tar -C "$ROOT" --numeric-owner -xpf "$BASE"
else
  say "debootstrap $SUITE (minbase + python3) from $MIRROR"
  debootstrap --variant=minbase --include=python3 --cache-dir="$CACHE/debs" "$SUITE" "$ROOT" "$MIRROR" \
    >"$ROOT.debootstrap.log" 2>&1 || { tail -20 "$ROOT.debootstrap.log" >&2; die "debootstrap failed (log: $ROOT.debootstrap.log)"; }
  rm -f "$ROOT.debootstrap.log"
  tar -C "$ROOT" --numeric-owner -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
fi

say "installing arboreto and its pins offline into the root filesystem"
pip_quiet install --no-deps --no-index --find-links "$CACHE/wheels" "${WHEEL_TAGS[@]}" --no-compile \
  --target "$ROOT/$SITE" -r "$SRC/requirements.txt" || die "installing the wheels failed"
rm -rf "$ROOT/$SITE/bin"   # console scripts of --target installs point at the host's interpreter

mkdir -p "$ROOT/arboreto"
install -m 0644 "$SRC/runArboreto.py" "$ROOT/arboreto/runArboreto.py"
ln -sf /usr/bin/python3 "$ROOT/usr/local/bin/python"   # BEELINE's command says `python`

say "stripping docs, caches, byte code and test suites"
find "$ROOT/usr/share/doc" -type f ! -name copyright -delete   # the copyright files stay
rm -rf "$ROOT"/usr/share/{man,info,locale,lintian,bug}/* "$ROOT"/var/lib/apt/lists/* \
       "$ROOT"/var/cache/apt/* "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/log/* "$ROOT"/tmp/* "$ROOT"/root/.cache
find "$ROOT" -xdev \( -name __pycache__ -o -name '*.pyc' \) -prune -exec rm -rf {} +
find "$ROOT/$SITE" -depth -type d \( -name tests -o -name testing_tests \) -exec rm -rf {} +
find "$ROOT/$SITE" \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.c' -o -name '*.cpp' \
                      -o -name '*.h' \) -delete
rm -rf "$ROOT/$SITE/numpy/core/include" "$ROOT"/usr/lib/$PY/{test,idlelib,lib2to3,tkinter}

# The check doubles as a warm-up: both algorithms on a tiny input, with byte code written, so the image keeps
# the .pyc files of exactly the modules a run imports (~10 s less start-up per container than none at all,
# for a fraction of the size of compiling everything).
say "checking the image's runner in a chroot (GENIE3 and GRNBoost2 on a tiny input, no network)"
mount -t proc proc "$ROOT/proc"
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp "$@"; }
in_root python -c '
import sys, arboreto, dask, distributed, numpy, pandas, scipy, sklearn
print("  python", sys.version.split()[0], "numpy", numpy.__version__, "pandas", pandas.__version__,
      "scipy", scipy.__version__, "scikit-learn", sklearn.__version__, "dask", dask.__version__,
      "distributed", distributed.__version__)
rng = numpy.random.default_rng(0)
pandas.DataFrame(rng.gamma(2.0, 1.0, (40, 4)), index=[f"c{i}" for i in range(40)],
                 columns=["g0", "g1", "g2", "g3"]).to_csv("/tmp/warm.tsv", sep="\t")' \
  || die "the installed packages do not import"
for algo in GENIE3 GRNBoost2; do
  in_root ARBORETO_SEED=0 python /arboreto/runArboreto.py --algo=$algo --inFile=/tmp/warm.tsv \
    --outFile=/tmp/warm.out >/dev/null 2>&1 || die "runArboreto.py --algo=$algo fails in the chroot"
  [ "$(wc -l < "$ROOT/tmp/warm.out")" -gt 1 ] || die "runArboreto.py --algo=$algo wrote no links"
done
umount "$ROOT/proc"
rm -rf "$ROOT"/tmp/* "$ROOT"/tmp/.[!.]* "$ROOT"/dev/* "$ROOT"/proc/* "$ROOT"/sys/*

say "importing $IMAGE"
tar -C "$ROOT" --numeric-owner -c . | docker import \
  --change 'WORKDIR /arboreto' \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1 HOME=/tmp' \
  --change "ENV GRN_BENCH_IMAGE_BUILD=$BUILD" \
  --change "LABEL $LABEL=$BUILD org.opencontainers.image.description=arboreto-0.1.6-beeline-runner" \
  --change 'CMD ["python", "runArboreto.py", "--help"]' - "$IMAGE" >/dev/null
size="$(docker image inspect "$IMAGE" --format '{{.Size}}')"
say "built $IMAGE (build $BUILD, $((size / 1000000)) MB) in $(( $(date +%s) - T0 )) s"

#!/usr/bin/env bash
# Make a Docker engine available for the docker-executor tests, and import the small local test image.
#
# Idempotent: every step checks first and does nothing when already done. Needs root for the install and the
# daemon; as a normal user it only uses a daemon that already answers. Docker Hub is not needed: the test image
# is imported from a root filesystem built here from Debian's busybox-static binary plus a toy script that
# follows BEELINE's PPCOR input/output contract (`Rscript runPPCOR.R <ExpressionData.csv> <outFile.txt>`).
#
#   bash .ci/docker-setup.sh            # install + start dockerd (vfs storage, no iptables, no bridge) + image
#   BENCH_TEST_IMAGE=name:tag bash .ci/docker-setup.sh    # another name for the test image
#
# The toy honours TOY_MODE=ok|fail|hang (environment of the container) so the tests can exercise a failing and
# a hanging container.
set -euo pipefail

IMAGE="${BENCH_TEST_IMAGE:-grn-bench/toy-ppcor:local}"
TOY_VERSION=2   # bump when the toy script below changes, so a stale image is rebuilt
LOG="${DOCKERD_LOG:-/tmp/grn-bench-dockerd.log}"

say() { echo "docker-setup: $*"; }

daemon_up() { docker info >/dev/null 2>&1; }

if ! daemon_up; then
  if [ "$(id -u)" != "0" ]; then
    say "no docker daemon answers and this is not root; nothing to do (docker tests will skip)."
    exit 1
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    say "installing docker.io"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q docker.io >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q docker.io >/dev/null; }
  fi
  say "starting dockerd (log: $LOG)"
  # setsid + nohup: the daemon outlives this script and the CI step that ran it.
  setsid nohup dockerd --storage-driver vfs --iptables=false --bridge=none >"$LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    daemon_up && break
    sleep 1
  done
  daemon_up || { say "dockerd did not answer within 60 s; see $LOG"; exit 1; }
fi
say "daemon answers: $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"

have="$(docker image inspect "$IMAGE" --format '{{ index .Config.Labels "grn-bench.toy-version" }}' 2>/dev/null || true)"
if [ "$have" = "$TOY_VERSION" ]; then
  say "test image $IMAGE (toy version $TOY_VERSION) already present"
  exit 0
fi

# A statically linked busybox is the whole userland of the test image (Debian: package busybox-static).
BUSYBOX=/bin/busybox
is_static() { [ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1; }
if ! is_static "$BUSYBOX"; then
  if [ "$(id -u)" != "0" ]; then say "no static busybox at $BUSYBOX and not root; install busybox-static"; exit 1; fi
  say "installing busybox-static"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q busybox-static >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q busybox-static >/dev/null; }
  is_static "$BUSYBOX" || { say "busybox-static did not provide a static $BUSYBOX"; exit 1; }
fi

ROOT="$(mktemp -d)"
trap 'rm -rf "$ROOT"' EXIT
chmod 755 "$ROOT"  # mktemp makes it 0700: a non-root container user could not even reach /bin
mkdir -p "$ROOT/bin" "$ROOT/usr/local/bin" "$ROOT/toy" "$ROOT/tmp" "$ROOT/data"
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in sh awk cat sleep id ls echo tr head tail sort mkdir rm env wc cut sed printf true false; do
  ln -s busybox "$ROOT/bin/$applet"
done

# `Rscript SCRIPT ARGS...`: the toy "R" runs its scripts with the busybox shell.
cat > "$ROOT/usr/local/bin/Rscript" <<'SH'
#!/bin/sh
script="$1"; shift
exec /bin/sh "$script" "$@"
SH

# The PPCOR contract: read genes x cells CSV (first column gene names), write a tab-separated table
# Gene1 Gene2 corVal pValue over every ordered gene pair (diagonal included), sorted by corVal descending.
# The toy computes Pearson correlations and pValue = 1 - |r| (no t distribution in awk); it also records the
# user id and the network interfaces it can see, so the tests can check the sandbox.
cat > "$ROOT/toy/runPPCOR.R" <<'SH'
#!/bin/sh
in="$1"; out="$2"
dir="$(dirname "$out")"
id -u > "$dir/toy_uid.txt"
ls /sys/class/net > "$dir/toy_net.txt" 2>/dev/null || true
case "${TOY_MODE:-ok}" in
  fail) echo "toy: failing on purpose (TOY_MODE=fail)" >&2; exit 3 ;;
  hang) echo "toy: hanging on purpose (TOY_MODE=hang)" >&2; sleep 3600 ;;
esac
awk -F, '
  # busybox awk is built without math support: square root by Newton iterations.
  function root(v,   r, k) { if (v <= 0) return 0; r = v < 1 ? 1 : v; for (k = 0; k < 100; k++) r = (r + v / r) / 2; return r }
  NR == 1 { next }
  { g[NR-1] = $1; n = NF - 1
    for (c = 2; c <= NF; c++) x[NR-1, c-1] = $c + 0 }
  END {
    G = NR - 1
    for (i = 1; i <= G; i++) {
      s = 0; for (c = 1; c <= n; c++) s += x[i, c]; m[i] = s / n
      v = 0; for (c = 1; c <= n; c++) v += (x[i, c] - m[i]) * (x[i, c] - m[i]); sd[i] = root(v)
    }
    print "Gene1\tGene2\tcorVal\tpValue"
    for (i = 1; i <= G; i++) for (j = 1; j <= G; j++) {
      if (sd[i] == 0 || sd[j] == 0) { r = 0 } else {
        s = 0; for (c = 1; c <= n; c++) s += (x[i, c] - m[i]) * (x[j, c] - m[j]); r = s / (sd[i] * sd[j]) }
      a = r < 0 ? -r : r
      printf "%s\t%s\t%.10f\t%.10f\n", g[i], g[j], r, 1 - a
    }
  }' "$in" > "$out.unsorted"
head -n 1 "$out.unsorted" > "$out"
tail -n +2 "$out.unsorted" | sort -t "$(printf '\t')" -k3,3 -g -r >> "$out"
rm -f "$out.unsorted"
SH
chmod 755 "$ROOT/usr/local/bin/Rscript" "$ROOT/toy/runPPCOR.R"

say "importing test image $IMAGE"
tar -C "$ROOT" -c . | docker import \
  --change 'WORKDIR /toy' \
  --change "LABEL grn-bench.toy-version=$TOY_VERSION" \
  --change 'ENV PATH=/usr/local/bin:/bin' \
  --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
docker image inspect "$IMAGE" >/dev/null
say "test image $IMAGE ready"

#!/usr/bin/env bash
# Headless Chromium for the report/site browser tests (Debian's package; the tests skip without it).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "browser-setup: not root, cannot install chromium"; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium >/dev/null
command -v chromium

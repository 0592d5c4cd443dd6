#!/bin/bash
# maillab quick start, on a Debian 12 machine, as root:
#
#   ./setup.sh            install everything, bring the lab box up and
#                         apply the whole chapter to it
#   ./setup.sh --no-up    install only
#
# It installs the host tools the lab box needs (mmdebstrap, systemd-nspawn,
# iproute2, ssh), makes a virtual environment in .venv with maillab and its
# dependencies, links /usr/local/bin/maillab, runs `maillab up`, then
# `maillab provision --until all`, `maillab status` and `maillab check`.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run it as root (sudo ./setup.sh): the lab box needs root" >&2
  exit 1
fi

HOST_PACKAGES=(
  python3 python3-venv python3-pip
  mmdebstrap systemd-container iproute2 util-linux mount
  openssh-client ca-certificates
  chromium   # tests/webmail drive Roundcube in it, through Playwright
)
echo "[setup] Debian packages: ${HOST_PACKAGES[*]}"
apt-get update -q > /dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${HOST_PACKAGES[@]}" > /dev/null

echo "[setup] Python environment in .venv"
[ -x .venv/bin/python ] || /usr/bin/python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev,notebooks]'
ln -sf "$PWD/.venv/bin/maillab" /usr/local/bin/maillab

if [ "${1:-}" != --no-up ]; then
  echo "[setup] maillab up"
  .venv/bin/maillab up > /dev/null
  echo "[setup] maillab provision --until all (the chapter's reference solution)"
  .venv/bin/maillab provision --until all
  .venv/bin/maillab status
  echo "[setup] maillab check (the graded report of the whole chapter)"
  .venv/bin/maillab check
fi

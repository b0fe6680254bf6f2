#!/usr/bin/env bash
# Headless Chromium for the browser tests: Debian's `chromium` package (not a Playwright
# download, which needs network access to Google's CDN). Usage: scripts/chromium.sh install
# Exit 0 when /usr/bin/chromium is there afterwards, 1 when it cannot be installed.
set -euo pipefail
PACKAGES="chromium"
[ -x /usr/bin/chromium ] && exit 0
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null && sudo -n true 2>/dev/null || { echo "chromium: need root or sudo to install: $PACKAGES" >&2; exit 1; }
  sudo="sudo"
fi
command -v apt-get >/dev/null || { echo "chromium: no apt-get here to install $PACKAGES" >&2; exit 1; }
echo "chromium: installing $PACKAGES" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $PACKAGES >/dev/null
[ -x /usr/bin/chromium ]

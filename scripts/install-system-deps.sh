#!/usr/bin/env bash
# Debian packages the project needs beyond PyPI. Installed only when missing, only as root
# (or with password-less sudo); otherwise says plainly what is missing and what it affects.
#   chromium    the browser test of the HTML reports (skipped, with a reason, without it)
set -u
want=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || want+=(chromium)
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "note: not root; missing Debian packages: ${want[*]} (the browser test will be skipped)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no apt-get; missing packages: ${want[*]} (the browser test will be skipped)" >&2
  exit 0
fi
echo "installing Debian packages: ${want[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
if ! $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null 2>&1; then
  echo "note: could not install ${want[*]} (the browser test will be skipped)" >&2
fi
exit 0

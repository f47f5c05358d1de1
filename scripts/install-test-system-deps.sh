#!/usr/bin/env bash
# The browser and database the tests drive are Debian packages: Chromium for Playwright (a
# downloaded browser cannot be had here) and PostgreSQL for the PostgreSQL variant of the suite.
# Installs them when missing and when we may (root with apt-get); otherwise the tests that need
# them are skipped with the reason shown.
set -u
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Not installing ${missing[*]} (needs root and apt-get): their tests will be skipped." >&2
  exit 0
fi
echo "Installing ${missing[*]} from Debian's packages..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null \
  || echo "Could not install ${missing[*]}: their tests will be skipped." >&2
exit 0

#!/usr/bin/env bash
# Install the Debian packages the integration tests need, when root and they are missing;
# as a normal user, say what to install (the tests that need them then skip with that reason).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t wanted < <(grep -vE '^\s*(#|$)' "$here/system-packages.txt")
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "presence: integration tests need: ${missing[*]} (no apt-get here: install them your way)" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "presence: installing system packages for the integration tests: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "presence: the integration tests need: sudo apt-get install ${missing[*]}" >&2
  echo "presence: without them those tests are skipped with that reason." >&2
fi

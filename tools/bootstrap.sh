#!/usr/bin/env bash
# What `make run` and `make test` need before a virtual environment can be built on Debian:
# venv support, and a C compiler with the Python headers (pynput depends on evdev, which is
# published as source only). Installs them with apt-get when root; otherwise says what to run.
set -euo pipefail
python=${1:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "presence: $python not found: install Python 3.11 or newer (sudo apt-get install python3)" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "presence: needs Python >= 3.11, $python is $("$python" -V 2>&1)" >&2
  exit 1
fi
version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
missing=()
"$python" -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=("python${version}-venv")
include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$include/Python.h" ] || missing+=("python${version}-dev")
command -v gcc >/dev/null 2>&1 || missing+=("gcc")
[ -f /usr/include/linux/input.h ] || missing+=("linux-libc-dev")
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "presence: installing build prerequisites: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "presence: first install: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

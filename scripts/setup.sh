#!/usr/bin/env bash
# Installs the operating-system packages the host, its samples and its tests need, when they are missing
# (or the packages named as arguments: scripts/compare.sh names its own). Safe to run again; run by ./run.sh,
# ./test.sh and scripts/compare.sh. Debian/Ubuntu (apt) only; refreshes the package lists first, which a fresh
# machine does not have.
set -euo pipefail

packages=(python3 python3-django systemd prometheus prometheus-alertmanager chromium)
if [ $# -gt 0 ]; then
    packages=("$@")
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    apt_get=(apt-get)
elif command -v sudo >/dev/null 2>&1; then
    apt_get=(sudo apt-get)
else
    echo "setup: cannot install ${missing[*]} (not root, no sudo); install them and run again" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${apt_get[@]}" update -qq
"${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# The main job: the host with the two sample apps (Django on /usr/bin/python3, a stdlib app on the newest
# CPython found). Extra arguments go to the host, e.g. ./run.sh --urls http://0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
exec dotnet run --project src/Host -c Release -- "$@"

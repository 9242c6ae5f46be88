#!/usr/bin/env bash
# Side-by-side comparison (issue 4): PyPE.Exec against nginx + gunicorn, nginx + uWSGI, gunicorn alone and
# uWSGI alone, on the Django sample and a static file, with the same number of Python workers; prints the
# table of medians and the PyPE.Exec/peer ratios. Options go to scripts/compare.py (--rounds, --seconds, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh python3 python3-django nginx gunicorn uwsgi-core uwsgi-plugin-python3 wrk gcc libc6-dev
dotnet build src/Host -c Release -v quiet -nologo >/dev/null
dotnet build loadtests -c Release -v quiet -nologo >/dev/null
mkdir -p artifacts && gcc -O2 -o artifacts/round_trip scripts/round_trip.c
exec python3 scripts/compare.py "$@"

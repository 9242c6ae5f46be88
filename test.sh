#!/usr/bin/env bash
# Runs every test (unit and functional: real Kestrel, real Python workers) and ends with one line:
# "N passed, N failed, N skipped", counted from the test result files.
set -uo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh || exit 1

results=artifacts/test-results
rm -rf "$results"
dotnet test PyPE.Exec.sln -c Release --logger trx --results-directory "$results" "$@"
status=$?

python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    counters = ET.parse(path).getroot().find(".//{*}ResultSummary/{*}Counters")
    if counters is None:
        continue
    n = lambda key: int(counters.get(key, "0"))
    passed += n("passed")
    failed += n("failed") + n("error") + n("timeout") + n("aborted")
    skipped += n("notExecuted")
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
PY
exit $status

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

python3 - "$results" "$status" <<'PY'
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
if int(sys.argv[2]) != 0 and failed == 0:
    # A test project that did not build (or a test host that crashed) leaves no failed test behind.
    print("dotnet test failed without a failing test: a test project did not build or its run broke off (see above)", file=sys.stderr)
    failed += 1
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
PY
exit $status

#!/usr/bin/env bash
# Runs one end-to-end test file N times in a row, each run under the machine's e2e lock, and
# prints how many passed. A flaky test shows itself here, not in CI: the output of every failed
# run is kept in OUT_DIR for reading afterwards.
#   e2e/repeat-e2e.sh e2e/src/sidekiq-pods.e2e.test.ts 20 [OUT_DIR]
# Stops at the first failure when STOP_ON_FAILURE=1.
set -uo pipefail

file=${1:?usage: repeat-e2e.sh TEST_FILE RUNS [OUT_DIR]}
runs=${2:?usage: repeat-e2e.sh TEST_FILE RUNS [OUT_DIR]}
out=${3:-$(mktemp -d -t repeat-e2e-XXXXXX)}
lock=${E2E_LOCK:-/tmp/e2e.lock}
mkdir -p "$out"
cd "$(dirname "$0")/.." || exit 2

passed=0
for ((i = 1; i <= runs; i++)); do
  started=$(date +%s)
  if flock "$lock" npx vitest run --project e2e "$file" >"$out/run-$i.log" 2>&1; then
    passed=$((passed + 1))
    result=pass
    rm -f "$out/run-$i.log"
  else
    result=FAIL
  fi
  echo "run $i/$runs: $result in $(($(date +%s) - started)) s (passed $passed of $i)"
  if [[ $result == FAIL && ${STOP_ON_FAILURE:-0} == 1 ]]; then break; fi
done
echo "passed $passed of $runs; logs of failed runs in $out"
[[ $passed == "$runs" ]]

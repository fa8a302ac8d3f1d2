#!/usr/bin/env bash
# Runs tap with the real MAAS kit warmed before and stopped after, whatever the outcome. A kit that
# fails to warm up does not stop the other tests: the real-MAAS files then skip saying why, and
# the run still ends non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."
warm=0
if ! bash test/helpers/real-maas-kit.sh warm; then
  warm=1
  export REAL_MAAS_UNAVAILABLE="the real MAAS kit failed to warm up (see the line above)"
fi
trap 'bash test/helpers/real-maas-kit.sh stop' EXIT
# tap's per-file limit (package.json) scales with the same factor as the tests' own deadlines.
base=$(node -p 'require("./package.json").tap.timeout')
timeout=$(awk -v b="$base" -v f="${TEST_TIME_FACTOR:-1}" 'BEGIN { printf "%d", b * f }')
# TEST_JOBS: files at a time (default: package.json's tap.jobs, 2). CI sets 3 with TEST_TIME_FACTOR=2.
npx tap --timeout "$timeout" ${TEST_JOBS:+--jobs "$TEST_JOBS"} "$@"
status=$?
exit $((status != 0 ? status : warm))

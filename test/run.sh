#!/usr/bin/env bash
# Runs tap with the real MAAS kit warmed before and stopped after, whatever the outcome.
set -uo pipefail
cd "$(dirname "$0")/.."
bash test/helpers/real-maas-kit.sh warm || exit 1
trap 'bash test/helpers/real-maas-kit.sh stop' EXIT
# tap's per-file limit scales with the same factor as the tests' own deadlines.
timeout=$(awk -v f="${TEST_TIME_FACTOR:-1}" 'BEGIN { printf "%d", 120 * f }')
npx tap --timeout "$timeout" "$@"

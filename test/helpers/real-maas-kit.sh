#!/usr/bin/env bash
# The real MAAS kit around a test run: `warm` builds its template database once (about a minute
# the first time, so no test file pays for it), `stop` stops every instance and its PostgreSQL.
# Where the kit is absent it says so in one line and does nothing; the real-MAAS tests then skip.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
kit=${REAL_MAAS_KIT:-$repo/../shared/real-maas}
state=${REAL_MAAS_STATE:-/var/tmp/maas-sidecar-real-maas}
command=$kit/bin/real-maas

if [ ! -x "$command" ]; then
  echo "real MAAS: kit not found at $kit (set REAL_MAAS_KIT); real-MAAS tests will skip"
  exit 0
fi
if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
  echo "real MAAS: dependencies missing (run $kit/bin/install-deps); real-MAAS tests will skip"
  exit 0
fi

case "${1:-}" in
  warm)
    started=$(date +%s)
    out=$("$command" up --port 0 --state "$state" 2>"$state.warm.log") || {
      echo "real MAAS: warm-up failed, see $state.warm.log"
      exit 1
    }
    port=$(sed -nE 's|^url=http://127\.0\.0\.1:([0-9]+)/MAAS$|\1|p' <<<"$out")
    "$command" down --port "$port" --state "$state" 2>>"$state.warm.log" >/dev/null
    echo "real MAAS: kit ready in $(($(date +%s) - started)) s ($kit, state $state)"
    ;;
  stop)
    [ -d "$state" ] && "$command" down --all --state "$state" >/dev/null 2>&1
    exit 0
    ;;
  *)
    echo "usage: $0 warm|stop" >&2
    exit 2
    ;;
esac

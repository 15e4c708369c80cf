#!/usr/bin/env bash
# Fault-injection run of the hybrid lock (tests/Coordination.Nemesis): worker processes on one key against the
# 3-member ensemble and Redis while the servers and the workers are faulted; judged from the workers' logs.
# Starts the test servers (eng/servers.sh) when they are not running and stops what it started. It stops ensemble
# members and Redis, so nothing else may use these servers meanwhile.
#   eng/nemesis.sh [short|long]       short: under 3 minutes (run by eng/test.sh); long: about 10-15 minutes
# Environment (all optional): the COORD_* variables of eng/servers.sh, and
#   COORD_NEMESIS_REFEREE_PORT   port of the referee Redis the harness starts (default COORD_REDIS_PORT + 9)
#   COORD_NEMESIS_OUT            log directory (default .artifacts/nemesis/<profile>-<UTC time>)
#   COORD_NEMESIS_NO_BUILD=1     use the existing Release build (eng/test.sh has just built the solution)
#   COORD_NEMESIS_ARGS           extra options for 'Coordination.Nemesis run' (e.g. "--wedge-bound-s 30")
# Exit code: 0 pass, 1 a safety violation or a wedged key, other = the harness could not run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
profile="${1:-short}"
case "$profile" in
  short|long) ;;
  *) echo "error: unknown profile '$profile'; use short or long" >&2; exit 2 ;;
esac

servers_dir="${COORD_SERVERS_DIR:-$PWD/.servers}"
if ! eng/servers.sh status >/dev/null 2>&1; then trap 'eng/servers.sh stop || true' EXIT; fi
eng/servers.sh start
set -a
# shellcheck disable=SC1091
. "$servers_dir/endpoints.env"
set +a

if [[ "${COORD_NEMESIS_NO_BUILD:-0}" != 1 ]]; then
  dotnet build tests/Coordination.Nemesis -c Release -nologo -v:q
fi

out="${COORD_NEMESIS_OUT:-$PWD/.artifacts/nemesis/$profile-$(date -u +%Y%m%dT%H%M%SZ)}"
# shellcheck disable=SC2086 # COORD_NEMESIS_ARGS is a list of options
dotnet tests/Coordination.Nemesis/bin/Release/net10.0/Coordination.Nemesis.dll run --profile "$profile" --out "$out" \
  --referee-port "${COORD_NEMESIS_REFEREE_PORT:-$((COORD_REDIS_PORT + 9))}" ${COORD_NEMESIS_ARGS:-}

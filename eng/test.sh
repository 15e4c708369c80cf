#!/usr/bin/env bash
# The project's test command: installs and starts the test servers (eng/servers.sh), builds the solution,
# runs every test project against the servers, then (for the whole solution) the packages' consumer smoke test
# eng/consumer-smoke.sh and the short fault-injection run eng/nemesis.sh short, stops the servers it started, and
# exits non-zero on any failure.
#   eng/test.sh [solution-or-project]     (default Coordination.sln)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target="${1:-Coordination.sln}"

servers_dir="${COORD_SERVERS_DIR:-$PWD/.servers}"
# Servers already running (e.g. started by hand) are left running; servers this script starts are stopped.
already_running=0
if eng/servers.sh status >/dev/null 2>&1; then already_running=1; fi
if (( ! already_running )); then trap 'eng/servers.sh stop || true' EXIT; fi
eng/servers.sh start

# Tests read these variables (the same lines are in $servers_dir/endpoints.env).
set -a
# shellcheck disable=SC1091
. "$servers_dir/endpoints.env"
set +a

dotnet build "$target" -c Release -nologo -v:q

results="$(mktemp -d)"
rc=0
# One test assembly at a time (-m:1): fault tests stop and restart the shared servers, and xunit only keeps
# them apart from the other tests of their own assembly.
dotnet test "$target" -c Release --no-build -nologo -m:1 \
  --blame-hang-timeout 5m --blame-hang-dump-type none \
  --logger "console;verbosity=normal" --logger trx --results-directory "$results" || rc=$?

# One plain closing line summing the counters of every assembly's TRX file.
attr() { local v; v="$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<< "$counters")"; echo "${v:-0}"; }
passed=0 failed=0 skipped=0 assemblies=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  passed=$((passed + $(attr passed)))
  failed=$((failed + $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
  skipped=$((skipped + $(attr notExecuted)))
  assemblies=$((assemblies + 1))
  # The names of failed tests and the start of their messages, so the run's last lines say which ones and why
  # (the console log above may be cut).
  python3 - "$trx" >> "$results/failed-names" <<'PY' || true
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if r.get("outcome") in ("Failed", "Error", "Timeout", "Aborted"):
        m = r.find(".//t:ErrorInfo/t:Message", ns)
        text = " ".join((m.text or "").split()) if m is not None else ""
        print(r.get("testName"), "--", text[:600])
PY
done
failed_names="$(cat "$results/failed-names" 2>/dev/null || true)"
rm -rf "$results"

# The packages as a team would consume them: packed, then a fresh app outside the repository restores them from a
# local feed, builds with warnings as errors and answers requests (eng/consumer-smoke.sh); it counts as one test.
# The nemesis stops ensemble members and Redis, so it runs after every other test; it counts as one test too.
if [[ "$target" == Coordination.sln ]]; then
  if COORD_SMOKE_NO_BUILD=1 eng/consumer-smoke.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_names+=$'\n'"eng/consumer-smoke.sh"
  fi
  if COORD_NEMESIS_NO_BUILD=1 eng/nemesis.sh short; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_names+=$'\n'"eng/nemesis.sh short"
  fi
fi
if [[ -n "${failed_names//$'\n'/}" ]]; then
  echo "failed tests:"
  sed -e '/^$/d' -e 's/^/  /' <<< "$failed_names"
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
if (( rc == 0 && assemblies == 0 )); then
  echo "error: dotnet test ran no test assembly" >&2
  exit 1
fi
if (( rc == 0 && failed > 0 )); then rc=1; fi
exit "$rc"

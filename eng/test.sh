#!/usr/bin/env bash
# The project's test command: installs and starts the test servers (eng/servers.sh), builds the solution,
# runs every test project against the servers, stops the servers it started, and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

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

dotnet build Coordination.sln -c Release -nologo -v:q

log="$(mktemp)"
rc=0
# One test assembly at a time (-m:1): fault tests stop and restart the shared servers, and xunit only keeps
# them apart from the other tests of their own assembly.
dotnet test Coordination.sln -c Release --no-build -nologo -m:1 \
  --blame-hang-timeout 5m --blame-hang-dump-type none \
  --logger "console;verbosity=normal" 2>&1 | tee "$log" || rc=$?

# One plain closing line summing every assembly's "Passed!/Failed!  - Failed: n, Passed: n, Skipped: n" line.
read -r passed failed skipped assemblies < <(awk '
  /^(Passed|Failed)!  - Failed:/ {
    line = $0; gsub(/,/, "", line); n = split(line, w, /[ \t]+/)
    for (i = 1; i < n; i++) {
      if (w[i] == "Failed:") f += w[i + 1]
      if (w[i] == "Passed:") p += w[i + 1]
      if (w[i] == "Skipped:") s += w[i + 1]
    }
    a++
  }
  END { printf "%d %d %d %d\n", p, f, s, a }' "$log")
rm -f "$log"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if (( rc == 0 && assemblies == 0 )); then
  echo "error: dotnet test reported no test assembly" >&2
  exit 1
fi
exit "$rc"

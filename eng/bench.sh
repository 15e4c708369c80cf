#!/usr/bin/env bash
# The lock benchmarks in one command: starts the test servers (eng/servers.sh, ports from the COORD_* variables),
# builds the benchmark and plot projects, runs the lock suites of benchmarks/Coordination.Benchmarks (every
# implementation and peer against the same servers), keeps the raw results in .artifacts/bench/locks.json, and writes
# docs/benchmarks.md with its plots under docs/benchmarks/ (ScottPlot, headless). Servers it started are stopped again.
#   eng/bench.sh                                  every suite (about 10 minutes on 2 cores)
#   eng/bench.sh --only uncontended --merge       one suite, its tables replacing theirs in the last results
#   any other option of the `locks` mode too (dotnet .../Coordination.Benchmarks.dll help), e.g. --n 4000 --seconds 8
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

servers_dir="${COORD_SERVERS_DIR:-$PWD/.servers}"
already_running=0
if eng/servers.sh status >/dev/null 2>&1; then already_running=1; fi
if (( ! already_running )); then trap 'eng/servers.sh stop || true' EXIT; fi
eng/servers.sh start
set -a
# shellcheck disable=SC1091
. "$servers_dir/endpoints.env"
set +a

dotnet build benchmarks/Coordination.Benchmarks -c Release -nologo -v:q
dotnet build benchmarks/Coordination.Benchmarks.Plots -c Release -nologo -v:q

results="$PWD/.artifacts/bench/locks.json"
mkdir -p "$(dirname "$results")"
echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores before the run"
dotnet benchmarks/Coordination.Benchmarks/bin/Release/net10.0/Coordination.Benchmarks.dll locks \
  --redis "$COORD_REDIS" --zk "$COORD_ZK" --out "$results" "$@"
dotnet benchmarks/Coordination.Benchmarks.Plots/bin/Release/net10.0/Coordination.Benchmarks.Plots.dll "$results" docs
echo "bench: results in $results; report in docs/benchmarks.md"

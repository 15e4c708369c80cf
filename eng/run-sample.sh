#!/usr/bin/env bash
# Runs samples/WebApp against real Redis and ZooKeeper on 127.0.0.1.
#
#   eng/run-sample.sh [--port 5080] [--secure]        (or PORT=5080 eng/run-sample.sh)
#
# --secure runs it against the secure servers instead: ZooKeeper over TLS with the client certificate (an x509
# identity) and digest credentials, so every node it creates is creator-all + world-read; Redis over TLS as the ACL
# user; both trusting the test CA in <state>/secure. Passwords appear masked in its logs and on /api/coordination.
#
# Installs what is missing and starts the test servers (eng/servers.sh start), builds the sample, runs it on
# http://127.0.0.1:<port> and prints where to look. Ctrl+C stops the app and the servers this script started.
# A second instance in another terminal (eng/run-sample.sh --port 5081) reuses the running servers and leaves
# them running when it stops. Servers state: COORD_SERVERS_DIR (default <repo>/.servers).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

die() { echo "error: $*" >&2; exit 1; }

port="${PORT:-5080}"
secure=0
while (( $# > 0 )); do
  case "$1" in
    --port) [[ $# -ge 2 ]] || die "--port needs a value"; port="$2"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    --secure) secure=1; shift ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'; usage: eng/run-sample.sh [--port 5080] [--secure]" ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] && (( port >= 1 && port <= 65535 )) || die "port '$port' is not a port number"
if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
  die "port $port is already in use; pick another with --port"
fi
command -v dotnet >/dev/null 2>&1 || die "dotnet not found on PATH; install the .NET 10 SDK"

servers_dir="$(realpath -m "${COORD_SERVERS_DIR:-$repo/.servers}")"
export COORD_SERVERS_DIR="$servers_dir"

# Servers that already run (another instance, a test run, started by hand) are reused and left running.
started_servers=0
if ! eng/servers.sh status >/dev/null 2>&1; then started_servers=1; fi

app_pid=""
cleanup() {
  trap - INT TERM EXIT
  if [[ -n "$app_pid" ]] && kill -0 "$app_pid" 2>/dev/null; then
    echo "sample: stopping the app (pid $app_pid)..."
    kill -TERM "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  if (( started_servers )); then
    eng/servers.sh stop || true
  else
    echo "sample: leaving the servers running (they were running before; eng/servers.sh stop stops them)."
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

eng/servers.sh start
set -a
# shellcheck disable=SC1091
. "$servers_dir/endpoints.env"
set +a
if (( secure )); then
  export Coordination__Redis="${Coordination__Redis:-$COORD_REDIS_TLS,ssl=true,user=$COORD_REDIS_ACL_USER,password=$COORD_REDIS_ACL_PASSWORD}"
  export Coordination__RedisTls__CaFile="${Coordination__RedisTls__CaFile:-$COORD_TLS_CA}"
  export Coordination__ZooKeeper="${Coordination__ZooKeeper:-$COORD_ZK_TLS}"
  export Coordination__ZooKeeperAuth="${Coordination__ZooKeeperAuth:-$COORD_ZK_AUTH}"
  export Coordination__ZooKeeperTls__Enabled=true
  export Coordination__ZooKeeperTls__CaFile="${Coordination__ZooKeeperTls__CaFile:-$COORD_TLS_CA}"
  export Coordination__ZooKeeperTls__ClientCertificateFile="${Coordination__ZooKeeperTls__ClientCertificateFile:-$COORD_TLS_CLIENT_CERT}"
  export Coordination__ZooKeeperTls__ClientKeyFile="${Coordination__ZooKeeperTls__ClientKeyFile:-$COORD_TLS_CLIENT_KEY}"
  echo "sample: secure mode (ZooKeeper TLS $COORD_ZK_TLS with client certificate and digest user ${COORD_ZK_AUTH%%:*}; Redis TLS $COORD_REDIS_TLS as ACL user $COORD_REDIS_ACL_USER)"
else
  export Coordination__Redis="${Coordination__Redis:-$COORD_REDIS}"
  export Coordination__ZooKeeper="${Coordination__ZooKeeper:-$COORD_ZK}"
fi

echo "sample: building samples/WebApp (Release)..."
build_log="$(mktemp)"
if ! dotnet build samples/WebApp/WebApp.csproj -c Release -nologo -v:q >"$build_log" 2>&1; then
  cat "$build_log" >&2; rm -f "$build_log"
  die "building samples/WebApp failed (output above)"
fi
rm -f "$build_log"
dll="$repo/samples/WebApp/bin/Release/net10.0/WebApp.dll"
[[ -f "$dll" ]] || die "$dll was not built"

url="http://127.0.0.1:$port"
dotnet "$dll" --urls "$url" &
app_pid=$!

deadline=$((SECONDS + 60))
until timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; do
  kill -0 "$app_pid" 2>/dev/null || { wait "$app_pid" || true; app_pid=""; die "the sample exited while starting (see its log above)"; }
  (( SECONDS < deadline )) || die "the sample did not listen on $url within 60 s"
  sleep 0.3
done

cat <<MSG

  Coordination sample running on $url  (Redis $(sed 's/password=[^,]*/password=*****/g' <<< "$Coordination__Redis"), ZooKeeper $Coordination__ZooKeeper)

    $url/                     start page
    $url/coordination         live dashboard: held locks, waiters, session, degraded mode, config, instances
    $url/hangfire             Hangfire dashboard (local requests only)
    $url/health               health checks as JSON
    $url/api/config           live configuration from ZooKeeper /config/webapp
    $url/api/discovery/webapp registered instances

    curl -X POST '$url/api/orders/42/process?holdMs=8000'   # holds orders:42; a second call meanwhile gets 409
    curl -X POST $url/api/counters/visits/increment         # waits for counters:visits, then increments

  Second instance: eng/run-sample.sh --port $((port + 1))$( (( secure )) && echo " --secure")   (in another terminal; shares the servers)
  Ctrl+C stops the app$( (( started_servers )) && echo " and the servers this script started" || echo "; the servers keep running").

MSG

wait "$app_pid" || rc=$?
app_pid=""
exit "${rc:-0}"

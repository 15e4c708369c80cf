#!/usr/bin/env bash
# Regenerates docs/dashboard.png: two instances of the built sample (Release) on the test servers, some traffic
# (held lock, semaphore permit, reader-writer lock, contended counters, a configuration change), then headless
# Chromium photographs the second instance's /coordination (the library's dashboard).
#   eng/dashboard-screenshot.sh [output.png]      (the test servers must run: eng/servers.sh start)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/docs/dashboard.png}"
set -a
# shellcheck disable=SC1091
. "${COORD_SERVERS_DIR:-$repo/.servers}/endpoints.env"
set +a
dll="$repo/samples/WebApp/bin/Release/net10.0/WebApp.dll"
[[ -f "$dll" ]] || { echo "build the sample first: dotnet build samples/WebApp -c Release" >&2; exit 1; }
root="/dashboard-shot-$$"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
for port in 5180 5181; do
  Coordination__Redis="$COORD_REDIS" Coordination__ZooKeeper="$COORD_ZK" Coordination__ZooKeeperRoot="$root" \
    Coordination__RedisPrefix="shot$$:" Sample__HangfirePrefix="shot$$:hangfire:" \
    dotnet "$dll" --urls "http://127.0.0.1:$port" >"/tmp/dashboard-shot-$port.log" 2>&1 &
  pids+=($!)
done
for port in 5180 5181; do
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
done
a=http://127.0.0.1:5180 b=http://127.0.0.1:5181
# A minute of traffic, so the charts have several buckets: contended counters and a refused try-once per round.
for round in 1 2 3 4 5 6 7; do
  increments=()
  for i in $(seq 1 $((4 + round * 2))); do
    curl -s -o /dev/null -X POST "$([[ $((i % 2)) == 0 ]] && echo $a || echo $b)/api/counters/visits/increment" &
    increments+=($!)
  done
  curl -s -o /dev/null -X POST "$a/api/orders/$round/process?holdMs=1500" &
  sleep 0.5
  curl -s -o /dev/null -X POST "$b/api/orders/$round/process"        # 409: a contention
  wait "${increments[@]}" || true
  sleep 8
done
curl -s -o /dev/null -X PUT "$a/api/config/Greeting" -d "Hello at $(date +%T)"   # a new value: an unchanged one is no change
curl -s -o /dev/null -X POST "$a/api/orders/42/process?holdMs=20000" &
curl -s -o /dev/null -X POST "$b/api/orders/7/process?holdMs=20000" &
curl -s -o /dev/null -X POST "$a/api/exports/acme?holdMs=20000" &
curl -s -o /dev/null "$b/api/tenants/acme/settings?holdMs=20000" &
curl -s -o /dev/null "$a/api/tenants/acme/settings?holdMs=20000" &
sleep 1
for _ in 1 2 3; do curl -s -o /dev/null -X POST "$b/api/orders/42/process"; done     # 409: contentions on the chart
sleep 3
chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars \
  --user-data-dir="$(mktemp -d)" --window-size=1280,1600 --virtual-time-budget=4000 --screenshot="$out" "$b/coordination" 2>/dev/null
echo "wrote $out"

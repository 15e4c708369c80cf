#!/usr/bin/env bash
# Consumer smoke test of the packages: packs Coordination, Coordination.ZooKeeper, Coordination.AspNetCore,
# Coordination.Hangfire and Coordination.Aspects into a local folder feed, creates a fresh `dotnet new web` app in a
# temporary directory outside the repository, adds the packages with `dotnet add package` (from the feed, never the
# projects; everything else from the machine's NuGet sources), uses AddHybridCoordination, [DistributedLock] on a
# minimal API, the Hangfire job filter, the [Singleton] aspect and MapCoordinationDashboard, builds it with warnings
# as errors, starts it against the test servers and checks that it answers. Exits non-zero on any failure.
#   eng/consumer-smoke.sh                 (the test servers must run: eng/servers.sh start)
# COORD_SMOKE_NO_BUILD=1 packs the Release build already on disk (eng/test.sh builds the solution first).
# COORD_SMOKE_KEEP=1 keeps the temporary directory (its path is printed).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [[ -z "${COORD_REDIS:-}" || -z "${COORD_ZK:-}" ]]; then
  env_file="${COORD_SERVERS_DIR:-$repo/.servers}/endpoints.env"
  [[ -f "$env_file" ]] || { echo "consumer-smoke: no $env_file; run eng/servers.sh start first" >&2; exit 1; }
  set -a
  # shellcheck disable=SC1090
  . "$env_file"
  set +a
fi

machine_packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
work="$(mktemp -d "${TMPDIR:-/tmp}/coord-consumer.XXXXXX")"
app_pid=""
cleanup() {
  if [[ -n "$app_pid" ]]; then kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
  if [[ "${COORD_SMOKE_KEEP:-0}" == 1 ]]; then echo "consumer-smoke: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "consumer-smoke: FAILED: $*" >&2; [[ -f "$work/app.log" ]] && tail -n 40 "$work/app.log" >&2; exit 1; }
step() { echo "consumer-smoke: $*"; }
start=$SECONDS

# 1. Pack (one version for every package, from Directory.Build.props).
feed="$work/feed"
version="$(dotnet msbuild src/Coordination/Coordination.csproj -nologo -getProperty:Version -p:Configuration=Release)"
packages=(Coordination.ZooKeeper Coordination Coordination.AspNetCore Coordination.Hangfire Coordination.Aspects)
no_build=()
[[ "${COORD_SMOKE_NO_BUILD:-0}" == 1 ]] && no_build=(--no-build)
step "packing ${packages[*]} $version into $feed"
for p in "${packages[@]}"; do
  dotnet pack "src/$p/$p.csproj" -c Release -o "$feed" -nologo -v:q "${no_build[@]}" >"$work/pack-$p.log" 2>&1 \
    || { cat "$work/pack-$p.log" >&2; fail "dotnet pack $p"; }
  [[ -f "$feed/$p.$version.nupkg" && -f "$feed/$p.$version.snupkg" ]] || fail "$p.$version.nupkg or .snupkg missing"
done

# 2. A fresh app outside the repository; NuGet: the local feed for Coordination*, the machine's sources for the rest,
#    its own packages folder (so a stale Coordination package from an earlier run is never used) with the machine's
#    folder as fallback (dependencies are not downloaded again).
mkdir -p "$work/app"
cd "$work/app"
dotnet new web -n SmokeApp -o . --no-restore >/dev/null || fail "dotnet new web"
upstream=()
while read -r url; do upstream+=("$url"); done < <(cd "$repo" && dotnet nuget list source --format short 2>/dev/null | awk '$1 ~ /^E/ {print $2}')
(( ${#upstream[@]} > 0 )) || upstream=(https://api.nuget.org/v3/index.json)
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<configuration>'
  echo "  <config><add key=\"globalPackagesFolder\" value=\"$work/packages\" /></config>"
  echo '  <packageSources>'
  echo '    <clear />'
  echo "    <add key=\"coordination-local\" value=\"$feed\" />"
  for i in "${!upstream[@]}"; do echo "    <add key=\"upstream$i\" value=\"${upstream[$i]}\" />"; done
  echo '  </packageSources>'
  echo "  <fallbackPackageFolders><add key=\"machine\" value=\"$machine_packages\" /></fallbackPackageFolders>"
  echo '  <packageSourceMapping>'
  echo '    <packageSource key="coordination-local"><package pattern="Coordination" /><package pattern="Coordination.*" /></packageSource>'
  for i in "${!upstream[@]}"; do echo "    <packageSource key=\"upstream$i\"><package pattern=\"*\" /></packageSource>"; done
  echo '  </packageSourceMapping>'
  echo '</configuration>'
} > nuget.config

step "dotnet add package (the README's quick start)"
for p in Coordination.AspNetCore Coordination.Hangfire Coordination.Aspects; do
  dotnet add package "$p" --version "$version" --no-restore >/dev/null || fail "dotnet add package $p"
done
dotnet add package Hangfire.AspNetCore --version 1.8.25 --no-restore >/dev/null || fail "dotnet add package Hangfire.AspNetCore"
dotnet add package Hangfire.InMemory --version 1.0.0 --no-restore >/dev/null || fail "dotnet add package Hangfire.InMemory"

cat > Program.cs <<'CS'
using Coordination;
using Coordination.AspNetCore;
using Coordination.Hangfire;
using Hangfire;
using Microsoft.AspNetCore.Http.Features;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddHybridCoordination(o =>
    {
        o.Redis = builder.Configuration["Smoke:Redis"] ?? throw new InvalidOperationException("Smoke:Redis is not set.");
        o.ZooKeeper = builder.Configuration["Smoke:ZooKeeper"] ?? throw new InvalidOperationException("Smoke:ZooKeeper is not set.");
        o.RedisPrefix = builder.Configuration["Smoke:Prefix"] ?? "smoke:";
        o.ZooKeeperRoot = builder.Configuration["Smoke:Root"] ?? "/smoke";
    })
    .AddDistributedLockEndpoints()
    .AddSingletonAspects();
builder.Services.AddHangfire((sp, cfg) => cfg.UseInMemoryStorage().UseHybridCoordination(sp));
builder.Services.AddHangfireServer(o => o.SchedulePollingInterval = TimeSpan.FromSeconds(1));
builder.Services.AddSingleton<Reports>();

var app = builder.Build();
app.UseRouting();
app.UseDistributedLocks();

// [DistributedLock] on a minimal API (try once: 409 while another request holds orders:{id}).
app.MapPost("/orders/{id}", [DistributedLock("orders:{id}")] async (string id, int? holdMs, HttpContext http) =>
{
    var held = http.Features.GetRequiredFeature<IDistributedLockFeature>();
    await Task.Delay(holdMs ?? 0, http.RequestAborted);
    return Results.Ok(new { key = held.Key, fencingToken = held.FencingToken });
});

// The compile-time [Singleton] aspect: a second call while the first runs is refused.
app.MapPost("/reports/{tenant}", async (string tenant, int? holdMs, Reports reports) =>
{
    try
    {
        return Results.Ok(new { result = await reports.RebuildAsync(tenant, holdMs ?? 0) });
    }
    catch (SingletonContentionException ex)
    {
        return Results.Problem(statusCode: 409, detail: ex.Message);
    }
});

// A Hangfire job run by the global filter inside its lock.
app.MapPost("/jobs/{name}", (string name, IBackgroundJobClient jobs) => Results.Ok(new { id = jobs.Enqueue<Jobs>(j => j.RunAsync(name, CancellationToken.None)) }));
app.MapGet("/jobs/{id}", (string id, JobStorage storage) => Results.Ok(new { state = storage.GetMonitoringApi().JobDetails(id)?.History.FirstOrDefault()?.StateName }));
app.MapGet("/jobs/tokens/{name}", (string name) => Results.Ok(new { fencingToken = Jobs.Tokens.GetValueOrDefault(name) }));

app.MapCoordinationDashboard("/coordination");
app.Run();

public sealed class Reports
{
    [Singleton("reports:{tenant}", Timeout = "0")]             // try once: a call while another runs throws
    public async Task<string> RebuildAsync(string tenant, int holdMs)
    {
        await Task.Delay(holdMs);
        return "rebuilt " + tenant;
    }
}

public sealed class Jobs
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> Tokens = new();

    [DistributedLock("jobs:{name}")]
    public Task RunAsync(string name, CancellationToken ct)
    {
        Tokens[name] = JobLockContext.Current?.FencingToken ?? -1;
        return Task.CompletedTask;
    }
}
CS

step "restore + build -warnaserror"
NUGET_PACKAGES="$work/packages" dotnet build -c Release -nologo -v:q -warnaserror >"$work/build.log" 2>&1 \
  || { tail -n 60 "$work/build.log" >&2; fail "dotnet build of the consumer app"; }
for p in "${packages[@]}"; do
  [[ -d "$work/packages/$(tr '[:upper:]' '[:lower:]' <<< "$p")/$version" ]] || fail "$p $version was not restored from the local feed"
done

# 3. Start it against the test servers and call every feature.
id="$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
Smoke__Redis="$COORD_REDIS" Smoke__ZooKeeper="$COORD_ZK" Smoke__Prefix="smoke-$id:" Smoke__Root="/smoke-$id" \
  ASPNETCORE_URLS="http://127.0.0.1:0" dotnet bin/Release/net10.0/SmokeApp.dll >"$work/app.log" 2>&1 &
app_pid=$!
base=""
for _ in $(seq 1 120); do
  base="$(sed -n 's/.*Now listening on: \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$work/app.log" | head -n 1)"
  [[ -n "$base" ]] && break
  kill -0 "$app_pid" 2>/dev/null || fail "the app exited"
  sleep 0.5
done
[[ -n "$base" ]] || fail "the app did not start listening within 60 s"
step "app listening on $base"

requests=0
call() { # call <method> <path> <expected status> [grep pattern]
  local out status
  out="$(curl -s -o "$work/body" -w '%{http_code}' -X "$1" "$base$2")" || fail "$1 $2: curl failed"
  status="$out"; requests=$((requests + 1))
  [[ "$status" == "$3" ]] || fail "$1 $2 returned $status, expected $3: $(head -c 400 "$work/body")"
  if [[ -n "${4:-}" ]]; then grep -q -- "$4" "$work/body" || fail "$1 $2: body lacks '$4': $(head -c 400 "$work/body")"; fi
}

busy() { # busy <path> <lock key> <what>: while one POST holds the lock (the dashboard lists it), another POST gets 409
  local hold code=""
  curl -s -o /dev/null -X POST "$base$1?holdMs=8000" & hold=$!
  for _ in $(seq 1 100); do
    curl -s "$base/coordination/api/snapshot" | grep -q "\"key\":\"$2\"" && break
    sleep 0.1
  done
  code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base$1")"
  requests=$((requests + 2))
  [[ "$code" == 409 ]] || fail "POST $1 while $3 returned $code, expected 409"
  wait "$hold" || true
}

call POST "/orders/1" 200 '"fencingToken":[1-9]'
busy "/orders/2" "orders:2" "another request held the lock ([DistributedLock])"
call POST "/reports/acme" 200 'rebuilt acme'
busy "/reports/busy" "reports:busy" "another call ran ([Singleton] aspect)"

call POST "/jobs/nightly" 200 '"id"'
job="$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$work/body")"
state=""
for _ in $(seq 1 60); do
  state="$(curl -s "$base/jobs/$job" | sed -n 's/.*"state":"\([^"]*\)".*/\1/p')"
  [[ "$state" == Succeeded ]] && break
  sleep 0.5
done
[[ "$state" == Succeeded ]] || fail "Hangfire job $job is '$state', expected Succeeded"
call GET "/jobs/tokens/nightly" 200 '"fencingToken":[1-9]'

call GET "/coordination" 200 '/coordination/api/snapshot'
call GET "/coordination/api/snapshot" 200 '"engine":"Hybrid"'
call GET "/coordination/assets/dashboard.js" 200 'api/snapshot'

step "ok: $requests requests answered as expected ($((SECONDS - start)) s)"

#!/usr/bin/env bash
# Installs (from apt, when missing) and runs the test servers as plain background processes on 127.0.0.1:
# one Redis, one standalone ZooKeeper and a 3-node ZooKeeper ensemble. Never touches the Debian system services.
#
#   eng/servers.sh install|start|stop|status|env
#   eng/servers.sh restart-redis|stop-redis|start-redis
#   eng/servers.sh stop-zk <n>|start-zk <n>        (n = 1..3 ensemble member, or 'standalone')
#
# Environment (all optional):
#   COORD_REDIS_PORT          Redis port                      (default 6390)
#   COORD_ZK_PORT             standalone ZooKeeper client port (default 2191)
#   COORD_ZK_ENSEMBLE_PORTS   ensemble client ports            (default 2192,2193,2194);
#                             member n also uses client+10000 (quorum) and client+20000 (election)
#   COORD_SERVERS_DIR         state directory: pids, logs, data, endpoints.env (default <repo>/.servers)
#   COORD_START_TIMEOUT       seconds to wait for a server to answer (default 60)
set -euo pipefail

readonly VERBS='install|start|stop|status|env|restart-redis|stop-redis|start-redis|stop-zk <n>|start-zk <n>'
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVERS_DIR="$(realpath -m "${COORD_SERVERS_DIR:-$REPO_ROOT/.servers}")"
REDIS_PORT="${COORD_REDIS_PORT:-6390}"
ZK_PORT="${COORD_ZK_PORT:-2191}"
ENSEMBLE_PORTS_CSV="${COORD_ZK_ENSEMBLE_PORTS:-2192,2193,2194}"
START_TIMEOUT="${COORD_START_TIMEOUT:-60}"
ZK_JAR=/usr/share/java/zookeeper.jar
# Debian's zookeeper.jar lists its dependencies (slf4j-api, netty, jute...) in its manifest; slf4j needs a
# binding to log anywhere, and libzookeeper-java depends on libslf4j-java + liblog4j1.2-java for exactly that.
ZK_LOG_JARS=/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar
ZK_JAVA_OPTS=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true)

die() { echo "error: $*" >&2; exit 1; }
note() { echo "servers: $*"; }

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (( $1 >= 1 && $1 <= 65535 )); }

IFS=',' read -r -a ENSEMBLE_PORTS <<< "$ENSEMBLE_PORTS_CSV"

validate_config() {
  is_port "$REDIS_PORT" || die "COORD_REDIS_PORT='$REDIS_PORT' is not a port number"
  is_port "$ZK_PORT" || die "COORD_ZK_PORT='$ZK_PORT' is not a port number"
  (( ${#ENSEMBLE_PORTS[@]} == 3 )) || die "COORD_ZK_ENSEMBLE_PORTS='$ENSEMBLE_PORTS_CSV' must list exactly 3 ports"
  local p
  for p in "${ENSEMBLE_PORTS[@]}"; do
    is_port "$p" && (( p + 20000 <= 65535 )) \
      || die "COORD_ZK_ENSEMBLE_PORTS='$ENSEMBLE_PORTS_CSV': '$p' must be a port <= 45535 (members also use port+10000 and port+20000)"
  done
  [[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "COORD_START_TIMEOUT='$START_TIMEOUT' is not a number of seconds"
}

# ---------------------------------------------------------------- install

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Prints what is missing (empty when everything is in place).
missing_parts() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-cli)
  [[ -f "$ZK_JAR" ]] || missing+=("$ZK_JAR")
  command -v java >/dev/null 2>&1 || missing+=(java)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium) # headless dashboard check of samples/WebApp
  if command -v dpkg-query >/dev/null 2>&1; then
    pkg_installed python3-kazoo || missing+=(python3-kazoo)
  fi
  echo "${missing[*]}"
}

cmd_install() {
  local missing
  missing="$(missing_parts)"
  [[ -n "$missing" ]] || return 0
  command -v apt-get >/dev/null 2>&1 \
    || die "missing: $missing; apt-get is not available, so install redis-server, zookeeper and a Java 11+ runtime by hand"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 \
      || die "missing: $missing; not root and no sudo, so run as root: apt-get install redis-server zookeeper python3-kazoo"
    sudo=(sudo -n)
  fi
  note "missing: $missing; installing redis-server zookeeper python3-kazoo chromium from apt (quiet)..."
  # Keep the package scripts from starting the system services: a policy-rc.d that answers 101 ("action
  # forbidden") is honoured by invoke-rc.d and deb-systemd-invoke. Only add one when none exists.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null && "${sudo[@]}" chmod 755 "$policy" && added_policy=1
  fi
  local rc=0 log="${TMPDIR:-/tmp}/coord-apt.$$.log"
  {
    "${sudo[@]}" apt-get update -qq \
      && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Use-Pty=0 redis-server zookeeper python3-kazoo chromium
  } >"$log" 2>&1 || rc=$?
  if (( added_policy )); then "${sudo[@]}" rm -f "$policy"; fi
  if (( rc != 0 )); then
    tail -n 20 "$log" >&2
    die "apt-get install redis-server zookeeper python3-kazoo chromium failed (exit $rc); full log: $log"
  fi
  rm -f "$log"
  # Should a system service have started anyway, it listens on the standard ports (6379/2181), not ours.
  command -v java >/dev/null 2>&1 || die "java not found on PATH after installing zookeeper; install a Java 11+ runtime (apt-get install default-jre-headless)"
  [[ -f "$ZK_JAR" ]] || die "$ZK_JAR is missing after installing zookeeper"
  note "installed."
}

# ---------------------------------------------------------------- process helpers

pid_of() { local f="$SERVERS_DIR/$1.pid"; [[ -f "$f" ]] && cat "$f" 2>/dev/null || true; }

# A pid file is ours only when the process lives and its command line still names our server (pids get reused).
alive() {
  local name=$1 pid
  pid="$(pid_of "$name")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" || return 1
  case "$name" in
    redis) [[ "$cmdline" == *redis-server* ]] ;;
    *) [[ "$cmdline" == *QuorumPeerMain*"$SERVERS_DIR/$name/"* ]] ;;
  esac
}

port_in_use() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then return 0; fi
  fi
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
}

require_free() { # port what
  if port_in_use "$1"; then die "port $1 ($2) is already in use by another process"; fi
}

launch() { # name command...
  local name=$1; shift
  # setsid: the server outlives this script and the terminal/test host that ran it; no fd of ours is inherited.
  setsid "$@" >"$SERVERS_DIR/$name.out" 2>&1 </dev/null &
  echo $! >"$SERVERS_DIR/$name.pid"
}

# Running = exists and is not a zombie (PID 1 on some machines reaps orphans slowly).
pid_running() {
  local stat
  stat="$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$stat" && "$stat" != Z && "$stat" != X ]]
}

stop_pids() { # name...
  local name pid pids=()
  for name in "$@"; do
    if alive "$name"; then
      pid="$(pid_of "$name")"
      # A paused (SIGSTOP) process would keep SIGTERM pending forever: continue it first.
      kill -CONT "$pid" 2>/dev/null || true
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  local deadline=$((SECONDS + 10))
  for pid in "${pids[@]}"; do
    while pid_running "$pid" && (( SECONDS < deadline )); do sleep 0.05; done
    if pid_running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for pid in "${pids[@]}"; do
    while pid_running "$pid"; do sleep 0.05; done
  done
  for name in "$@"; do rm -f "$SERVERS_DIR/$name.pid"; done
}

# ---------------------------------------------------------------- probes

redis_ping() { timeout 2 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PING 2>/dev/null | grep -q PONG; }

zk_cmd() { # port 4lw
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf %s "$1" >&3 && cat <&3' "$1" "$2" 2>/dev/null || true
}

zk_mode() { zk_cmd "$1" srvr | sed -n 's/^Mode: //p'; }

wait_for() { # description logfile "name..." predicate...
  local what=$1 log=$2 names=$3; shift 3
  local deadline=$((SECONDS + START_TIMEOUT)) name
  until "$@"; do
    for name in $names; do
      alive "$name" || die "$what: $name exited while starting; see $log and $SERVERS_DIR/$name.out"
    done
    if (( SECONDS >= deadline )); then
      die "$what did not answer within ${START_TIMEOUT}s; see $log"
    fi
    sleep 0.2
  done
}

# An earlier run may have left one of our servers paused (SIGSTOP); starting means running.
resume() { kill -CONT "$(pid_of "$1")" 2>/dev/null || true; }

# ---------------------------------------------------------------- redis

# A server of ours that runs on other ports than configured now (the COORD_* ports changed) is an error.
check_same_port() { # name port
  local name=$1 port=$2 actual
  if [[ "$name" == redis ]]; then
    actual="$(tr '\0' ' ' < "/proc/$(pid_of redis)/cmdline" 2>/dev/null | sed -n 's/.*:\([0-9]*\).*/\1/p')"
  else
    actual="$(sed -n 's/^clientPort=//p' "$SERVERS_DIR/$name/conf/zoo.cfg" 2>/dev/null)"
  fi
  [[ -z "$actual" || "$actual" == "$port" ]] \
    || die "$name from $SERVERS_DIR already runs on port $actual (pid $(pid_of "$name")), not $port; run eng/servers.sh stop first"
}

start_redis() {
  if alive redis; then check_same_port redis "$REDIS_PORT"; resume redis; return 0; fi
  require_free "$REDIS_PORT" redis
  mkdir -p "$SERVERS_DIR/redis"
  launch redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize no \
    --dir "$SERVERS_DIR/redis" --logfile "$SERVERS_DIR/redis.log" --enable-debug-command local
}

wait_redis() { wait_for "redis on port $REDIS_PORT" "$SERVERS_DIR/redis.log" redis redis_ping; }

# ---------------------------------------------------------------- zookeeper

# Writes conf dir (zoo.cfg, log4j.properties) for server <name>; extra zoo.cfg lines on stdin.
write_zk_conf() { # name client_port
  local name=$1 port=$2 dir="$SERVERS_DIR/$1"
  mkdir -p "$dir/conf" "$dir/data"
  {
    # tickTime 500 ms: session expiry is checked every tick, so 1-4 s test sessions expire promptly.
    echo "tickTime=500"
    echo "initLimit=20"
    echo "syncLimit=10"
    echo "minSessionTimeout=1000"
    echo "maxSessionTimeout=60000"
    echo "dataDir=$dir/data"
    echo "clientPort=$port"
    echo "clientPortAddress=127.0.0.1"
    echo "maxClientCnxns=0"
    echo "admin.enableServer=false"
    echo "4lw.commands.whitelist=*"
    # Unknown keys become zookeeper.* system properties: this one enables TTL nodes.
    echo "extendedTypesEnabled=true"
    echo "forceSync=no"
    echo "preAllocSize=1024"
    echo "snapCount=2000"
    echo "autopurge.snapRetainCount=3"
    echo "autopurge.purgeInterval=1"
    cat
  } >"$dir/conf/zoo.cfg"
  cat >"$dir/conf/log4j.properties" <<EOF
log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=$SERVERS_DIR/$name.log
log4j.appender.FILE.Append=true
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
EOF
}

write_ensemble_conf() { # n
  local n=$1 i servers=""
  for i in 1 2 3; do
    local p=${ENSEMBLE_PORTS[$((i - 1))]}
    servers+="server.$i=127.0.0.1:$((p + 10000)):$((p + 20000))"$'\n'
  done
  printf '%s' "quorumListenOnAllIPs=false"$'\n'"$servers" | write_zk_conf "zk-$n" "${ENSEMBLE_PORTS[$((n - 1))]}"
  echo "$n" >"$SERVERS_DIR/zk-$n/data/myid"
}

launch_zk() { # name
  local name=$1 conf="$SERVERS_DIR/$1/conf"
  launch "$name" java "${ZK_JAVA_OPTS[@]}" -Dlog4j.configuration="file:$conf/log4j.properties" \
    -Dzookeeper.log.dir="$SERVERS_DIR" -cp "$conf:$ZK_JAR:$ZK_LOG_JARS" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$conf/zoo.cfg"
}

zk_check_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH; ZooKeeper needs a Java 11+ runtime (apt-get install default-jre-headless)"
  [[ -f "$ZK_JAR" ]] || die "$ZK_JAR not found; run 'eng/servers.sh install' (apt-get install zookeeper)"
}

start_standalone() { # [fresh]
  local fresh=${1:-0}
  if alive zk-standalone; then check_same_port zk-standalone "$ZK_PORT"; resume zk-standalone; return 0; fi
  require_free "$ZK_PORT" "zookeeper standalone"
  if (( fresh )); then rm -rf "$SERVERS_DIR/zk-standalone/data"; fi
  write_zk_conf zk-standalone "$ZK_PORT" </dev/null
  launch_zk zk-standalone
}

ensemble_member_ports_free() { # n
  local p=${ENSEMBLE_PORTS[$(($1 - 1))]}
  require_free "$p" "zookeeper ensemble member $1"
  require_free "$((p + 10000))" "zookeeper ensemble member $1 quorum"
  require_free "$((p + 20000))" "zookeeper ensemble member $1 election"
}

start_member() { # n [fresh]
  local n=$1 fresh=${2:-0}
  if alive "zk-$n"; then check_same_port "zk-$n" "${ENSEMBLE_PORTS[$((n - 1))]}"; resume "zk-$n"; return 0; fi
  ensemble_member_ports_free "$n"
  if (( fresh )); then rm -rf "$SERVERS_DIR/zk-$n/data"; fi
  write_ensemble_conf "$n"
  launch_zk "zk-$n"
}

zk_imok() { [[ "$(zk_cmd "$1" ruok)" == imok ]]; }
# Serving = answers ruok with imok and srvr with a serving mode.
zk_serving() { local m; zk_imok "$1" && m="$(zk_mode "$1")" && [[ "$m" == leader || "$m" == follower || "$m" == standalone ]]; }

ensemble_has_quorum() {
  local leaders=0 followers=0 p m
  for p in "${ENSEMBLE_PORTS[@]}"; do
    m="$(zk_mode "$p")"
    [[ "$m" == leader ]] && leaders=$((leaders + 1))
    [[ "$m" == follower ]] && followers=$((followers + 1))
  done
  (( leaders == 1 && followers == 2 ))
}

wait_member() { # n
  local p=${ENSEMBLE_PORTS[$(($1 - 1))]}
  wait_for "zookeeper ensemble member $1 (port $p)" "$SERVERS_DIR/zk-$1.log" "zk-$1" zk_serving "$p"
}

# ---------------------------------------------------------------- endpoints

endpoint_lines() {
  local hosts="" p
  for p in "${ENSEMBLE_PORTS[@]}"; do hosts+="${hosts:+,}127.0.0.1:$p"; done
  echo "COORD_REDIS=127.0.0.1:$REDIS_PORT"
  echo "COORD_ZK=127.0.0.1:$ZK_PORT"
  echo "COORD_ZK_ENSEMBLE=$hosts"
  echo "COORD_REDIS_PORT=$REDIS_PORT"
  echo "COORD_ZK_PORT=$ZK_PORT"
  echo "COORD_ZK_ENSEMBLE_PORTS=$ENSEMBLE_PORTS_CSV"
  echo "COORD_SERVERS_DIR=$(quote "$SERVERS_DIR")"
  echo "COORD_REPO_ROOT=$(quote "$REPO_ROOT")"
}

# Unquoted when safe, so the file reads the same in bash (`. file`) and in dotenv parsers.
quote() { if [[ "$1" =~ ^[A-Za-z0-9_./:,@+-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi; }

write_endpoints() {
  endpoint_lines >"$SERVERS_DIR/endpoints.env.tmp"
  mv "$SERVERS_DIR/endpoints.env.tmp" "$SERVERS_DIR/endpoints.env"
}

# ---------------------------------------------------------------- verbs

cmd_start() {
  cmd_install
  zk_check_java
  command -v setsid >/dev/null 2>&1 || die "setsid not found (util-linux); it is needed to detach the servers"
  mkdir -p "$SERVERS_DIR"
  local t0=$SECONDS n any_member=0
  for n in 1 2 3; do if alive "zk-$n"; then any_member=1; fi; done
  # Check every port before launching anything, so a conflict leaves nothing half-started.
  if alive redis; then check_same_port redis "$REDIS_PORT"; else require_free "$REDIS_PORT" redis; fi
  if alive zk-standalone; then check_same_port zk-standalone "$ZK_PORT"; else require_free "$ZK_PORT" "zookeeper standalone"; fi
  for n in 1 2 3; do
    if alive "zk-$n"; then check_same_port "zk-$n" "${ENSEMBLE_PORTS[$((n - 1))]}"; else ensemble_member_ports_free "$n"; fi
  done
  # All JVMs boot in parallel (~3 s each on an idle machine); a cold ensemble starts from empty data.
  start_redis
  start_standalone 1
  for n in 1 2 3; do start_member "$n" $((1 - any_member)); done
  wait_redis
  wait_for "zookeeper standalone (port $ZK_PORT)" "$SERVERS_DIR/zk-standalone.log" zk-standalone zk_serving "$ZK_PORT"
  wait_for "zookeeper ensemble (ports $ENSEMBLE_PORTS_CSV) electing one leader" "$SERVERS_DIR/zk-{1,2,3}.log" "zk-1 zk-2 zk-3" ensemble_has_quorum
  write_endpoints
  note "running (redis :$REDIS_PORT, zookeeper :$ZK_PORT, ensemble :$ENSEMBLE_PORTS_CSV) in $((SECONDS - t0))s; endpoints in $SERVERS_DIR/endpoints.env"
}

cmd_stop() {
  [[ -d "$SERVERS_DIR" ]] || return 0
  stop_pids redis zk-standalone zk-1 zk-2 zk-3
  rm -f "$SERVERS_DIR/endpoints.env"
  note "stopped."
}

cmd_status() {
  local name port mode pid rc=0
  for name in redis zk-standalone zk-1 zk-2 zk-3; do
    case "$name" in
      redis) port=$REDIS_PORT ;;
      zk-standalone) port=$ZK_PORT ;;
      zk-*) port=${ENSEMBLE_PORTS[$((${name#zk-} - 1))]} ;;
    esac
    if alive "$name"; then
      pid="$(pid_of "$name")"
      if [[ "$name" == redis ]]; then
        if redis_ping; then mode=PONG; else mode="not answering"; fi
      else
        mode="$(zk_mode "$port")"; mode="${mode:-not serving}"
      fi
      printf '%-14s running  pid %-8s port %-6s %s\n' "$name" "$pid" "$port" "$mode"
    else
      printf '%-14s stopped                port %s\n' "$name" "$port"
      rc=3
    fi
  done
  return $rc
}

member_arg() { # verb n
  [[ "${2:-}" =~ ^([123]|standalone)$ ]] || die "'$1' needs an ensemble member number 1..3 (or 'standalone'), got '${2:-}'"
}

main() {
  local verb=${1:-}
  case "$verb" in
    install|start|stop|status|env|restart-redis|stop-redis|start-redis|stop-zk|start-zk) ;;
    "") echo "error: no verb given; use $VERBS" >&2; exit 2 ;;
    *) echo "error: unknown verb '$verb'; use $VERBS" >&2; exit 2 ;;
  esac
  validate_config
  case "$verb" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) endpoint_lines ;;
    stop-redis) stop_pids redis ;;
    start-redis) mkdir -p "$SERVERS_DIR"; start_redis; wait_redis ;;
    restart-redis) mkdir -p "$SERVERS_DIR"; stop_pids redis; start_redis; wait_redis ;;
    stop-zk) member_arg "$@"; stop_pids "zk-$2" ;;
    start-zk)
      member_arg "$@"; zk_check_java; mkdir -p "$SERVERS_DIR"
      if [[ "$2" == standalone ]]; then
        start_standalone
        wait_for "zookeeper standalone (port $ZK_PORT)" "$SERVERS_DIR/zk-standalone.log" zk-standalone zk_serving "$ZK_PORT"
      else
        start_member "$2"; wait_member "$2"
      fi ;;
  esac
}

main "$@"

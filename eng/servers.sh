#!/usr/bin/env bash
# Installs (from apt, when missing) and runs the test servers as plain background processes on 127.0.0.1:
# one Redis, one standalone ZooKeeper, a 3-node ZooKeeper ensemble and a Redis Sentinel group (two Redis data
# nodes, node 1 starting as master and node 2 as its replica, watched by one sentinel with quorum 1 under the name
# 'coordination') and a Redis Cluster (3 masters + 3 replicas, created fresh whenever a node is not running).
# The secure variants: a ZooKeeper with a TLS port (secureClientPort, x509 client certificates accepted, not
# required) beside a plain one, and a Redis with ACL users (the default user off) on a plain port and a TLS port;
# their CA, server and client certificates are generated with openssl into <state>/secure once.
# Never touches the Debian system services.
#
#   eng/servers.sh install|start|stop|status|env
#   eng/servers.sh restart-redis|stop-redis|start-redis
#   eng/servers.sh stop-zk <n>|start-zk <n>        (n = 1..3 ensemble member, 'standalone' or 'secure')
#   eng/servers.sh sentinel-failover               SENTINEL FAILOVER, then wait until the group is healthy again;
#                                                  prints the new master's port
#   eng/servers.sh sentinel-wait                   wait until sentinel, master and replica agree (link up, no
#                                                  failover in progress)
#   eng/servers.sh stop-sentinel-redis <n>         stop Sentinel data node n (1|2), whatever its role
#   eng/servers.sh start-sentinel-redis <n>        start it (empty) as replica of the sentinel's current master
#                                                  and wait until the group is healthy
#   eng/servers.sh cluster-failover <port>         CLUSTER FAILOVER on the replica of the cluster master on <port>,
#                                                  then wait until the cluster is healthy; prints the new master's port
#   eng/servers.sh cluster-wait                    wait until the cluster is healthy (every slot served, 3 masters
#                                                  each with a linked replica, every node agreeing)
#
# Environment (all optional):
#   COORD_REDIS_PORT          Redis port                      (default 6390)
#   COORD_SENTINEL_MASTER_PORT   Sentinel data node 1, the first master  (default 6391)
#   COORD_SENTINEL_REPLICA_PORT  Sentinel data node 2, the first replica (default 6392)
#   COORD_SENTINEL_PORT          the sentinel                           (default 26391)
#   COORD_CLUSTER_PORTS       the 6 Redis Cluster nodes, 'first-last' or a comma list (default 6400-6405);
#                             node n also uses port+10000 (cluster bus)
#   COORD_ZK_PORT             standalone ZooKeeper client port (default 2191)
#   COORD_ZK_ENSEMBLE_PORTS   ensemble client ports            (default 2192,2193,2194);
#                             member n also uses client+10000 (quorum) and client+20000 (election)
#   COORD_ZK_TLS_PORT         secure ZooKeeper's TLS port (secureClientPort)   (default 2196)
#   COORD_ZK_TLS_PLAIN_PORT   secure ZooKeeper's plain client port             (default 2195)
#   COORD_REDIS_TLS_PORT      secure Redis's TLS port (tls-port)               (default 6411)
#   COORD_REDIS_ACL_PORT      secure Redis's plain port (ACL users, no TLS)    (default 6410)
#   COORD_SERVERS_DIR         state directory: pids, logs, data, endpoints.env (default <repo>/.servers)
#   COORD_START_TIMEOUT       seconds to wait for a server to answer (default 60)
set -euo pipefail

readonly VERBS='install|start|stop|status|env|restart-redis|stop-redis|start-redis|stop-zk <n>|start-zk <n>|sentinel-failover|sentinel-wait|stop-sentinel-redis <n>|start-sentinel-redis <n>|cluster-failover <port>|cluster-wait'
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVERS_DIR="$(realpath -m "${COORD_SERVERS_DIR:-$REPO_ROOT/.servers}")"
REDIS_PORT="${COORD_REDIS_PORT:-6390}"
ZK_PORT="${COORD_ZK_PORT:-2191}"
ENSEMBLE_PORTS_CSV="${COORD_ZK_ENSEMBLE_PORTS:-2192,2193,2194}"
START_TIMEOUT="${COORD_START_TIMEOUT:-60}"
SENTINEL_NODE_PORTS=("${COORD_SENTINEL_MASTER_PORT:-6391}" "${COORD_SENTINEL_REPLICA_PORT:-6392}")
SENTINEL_PORT="${COORD_SENTINEL_PORT:-26391}"
readonly SENTINEL_SERVICE=coordination
CLUSTER_PORTS_SPEC="${COORD_CLUSTER_PORTS:-6400-6405}"
ZK_TLS_PORT="${COORD_ZK_TLS_PORT:-2196}"
ZK_TLS_PLAIN_PORT="${COORD_ZK_TLS_PLAIN_PORT:-2195}"
REDIS_TLS_PORT="${COORD_REDIS_TLS_PORT:-6411}"
REDIS_ACL_PORT="${COORD_REDIS_ACL_PORT:-6410}"
readonly REDIS_ACL_USER=coord
ZK_JAR=/usr/share/java/zookeeper.jar
# Debian's zookeeper.jar lists its dependencies (slf4j-api, netty, jute...) in its manifest; slf4j needs a
# binding to log anywhere, and libzookeeper-java depends on libslf4j-java + liblog4j1.2-java for exactly that.
ZK_LOG_JARS=/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar
# The manifest lists netty-handler but not what its SslHandler needs (netty-codec, netty-resolver): the Netty
# connection factory of the TLS port needs them on the classpath.
ZK_NETTY_JARS=/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar
ZK_JAVA_OPTS=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true)

die() { echo "error: $*" >&2; exit 1; }
note() { echo "servers: $*"; }

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (( $1 >= 1 && $1 <= 65535 )); }

IFS=',' read -r -a ENSEMBLE_PORTS <<< "$ENSEMBLE_PORTS_CSV"
if [[ "$CLUSTER_PORTS_SPEC" =~ ^([0-9]+)-([0-9]+)$ ]]; then
  mapfile -t CLUSTER_PORTS < <(seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}")
else
  IFS=',' read -r -a CLUSTER_PORTS <<< "$CLUSTER_PORTS_SPEC"
fi
readonly CLUSTER_NODES=(cluster-1 cluster-2 cluster-3 cluster-4 cluster-5 cluster-6)

validate_config() {
  is_port "$REDIS_PORT" || die "COORD_REDIS_PORT='$REDIS_PORT' is not a port number"
  is_port "$ZK_PORT" || die "COORD_ZK_PORT='$ZK_PORT' is not a port number"
  (( ${#ENSEMBLE_PORTS[@]} == 3 )) || die "COORD_ZK_ENSEMBLE_PORTS='$ENSEMBLE_PORTS_CSV' must list exactly 3 ports"
  local p
  for p in "${ENSEMBLE_PORTS[@]}"; do
    is_port "$p" && (( p + 20000 <= 65535 )) \
      || die "COORD_ZK_ENSEMBLE_PORTS='$ENSEMBLE_PORTS_CSV': '$p' must be a port <= 45535 (members also use port+10000 and port+20000)"
  done
  is_port "${SENTINEL_NODE_PORTS[0]}" || die "COORD_SENTINEL_MASTER_PORT='${SENTINEL_NODE_PORTS[0]}' is not a port number"
  is_port "${SENTINEL_NODE_PORTS[1]}" || die "COORD_SENTINEL_REPLICA_PORT='${SENTINEL_NODE_PORTS[1]}' is not a port number"
  is_port "$SENTINEL_PORT" || die "COORD_SENTINEL_PORT='$SENTINEL_PORT' is not a port number"
  (( SENTINEL_NODE_PORTS[0] != SENTINEL_NODE_PORTS[1] )) \
    || die "COORD_SENTINEL_MASTER_PORT and COORD_SENTINEL_REPLICA_PORT are both ${SENTINEL_NODE_PORTS[0]}; the two nodes need their own ports"
  (( ${#CLUSTER_PORTS[@]} == 6 )) || die "COORD_CLUSTER_PORTS='$CLUSTER_PORTS_SPEC' must name exactly 6 ports ('6400-6405' or a comma list)"
  for p in "${CLUSTER_PORTS[@]}"; do
    is_port "$p" && (( p + 10000 <= 65535 )) \
      || die "COORD_CLUSTER_PORTS='$CLUSTER_PORTS_SPEC': '$p' must be a port <= 55535 (nodes also use port+10000 for the cluster bus)"
  done
  local name
  for name in ZK_TLS_PORT ZK_TLS_PLAIN_PORT REDIS_TLS_PORT REDIS_ACL_PORT; do
    is_port "${!name}" || die "COORD_$name='${!name}' is not a port number"
  done
  (( ZK_TLS_PORT != ZK_TLS_PLAIN_PORT )) || die "COORD_ZK_TLS_PORT and COORD_ZK_TLS_PLAIN_PORT are both $ZK_TLS_PORT; the secure ZooKeeper needs two ports"
  (( REDIS_TLS_PORT != REDIS_ACL_PORT )) || die "COORD_REDIS_TLS_PORT and COORD_REDIS_ACL_PORT are both $REDIS_TLS_PORT; the secure Redis needs two ports"
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
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # the secure servers' CA and certificates
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
  note "missing: $missing; installing redis-server zookeeper python3-kazoo chromium openssl from apt (quiet)..."
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
        -o Dpkg::Use-Pty=0 redis-server zookeeper python3-kazoo chromium openssl
  } >"$log" 2>&1 || rc=$?
  if (( added_policy )); then "${sudo[@]}" rm -f "$policy"; fi
  if (( rc != 0 )); then
    tail -n 20 "$log" >&2
    die "apt-get install redis-server zookeeper python3-kazoo chromium openssl failed (exit $rc); full log: $log"
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
    redis|redis-secure|sentinel-redis-*|cluster-*) [[ "$cmdline" == *redis-server* ]] ;;
    sentinel) [[ "$cmdline" == *redis-server*sentinel* || "$cmdline" == *redis-sentinel* ]] ;;
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
  if [[ "$name" == redis* || "$name" == sentinel* || "$name" == cluster-* ]]; then
    actual="$(tr '\0' ' ' < "/proc/$(pid_of "$name")/cmdline" 2>/dev/null | sed -n 's/.*:\([0-9]*\).*/\1/p')"
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
    -Dzookeeper.log.dir="$SERVERS_DIR" -cp "$conf:$ZK_JAR:$ZK_LOG_JARS:$ZK_NETTY_JARS" \
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

# ---------------------------------------------------------------- redis sentinel group

# Data node n (1|2) is process 'sentinel-redis-<n>'; which one is master changes with every failover, so the sentinel
# is the one to ask. Node 1 is the master of a cold start.
node_port() { echo "${SENTINEL_NODE_PORTS[$(($1 - 1))]}"; }

rcli() { local port=$1; shift; timeout 2 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null; }

node_role() { rcli "$1" INFO replication | tr -d '\r' | sed -n 's/^role://p'; }

# The master's port according to the sentinel (empty when it does not answer).
sentinel_master_port() { rcli "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$SENTINEL_SERVICE" | sed -n 2p | tr -d '\r'; }

# A node of ours that says it is master right now, else empty.
running_master_port() {
  local n
  for n in 1 2; do
    if alive "sentinel-redis-$n" && [[ "$(node_role "$(node_port "$n")")" == master ]]; then node_port "$n"; return 0; fi
  done
}

# Redis 7 waits up to shutdown-timeout (10 s) for lagging replicas on SIGTERM; a test may have paused one on purpose.
shutdown_args() {
  if redis-server --help 2>&1 | grep -q shutdown-timeout || [[ "$(redis-server --version)" =~ v=([0-9]+) && ${BASH_REMATCH[1]} -ge 7 ]]; then
    echo --shutdown-timeout 0
  fi
}

start_sentinel_node() { # n master_port ('' = start as master)
  local n=$1 master=$2 name="sentinel-redis-$1" port
  port="$(node_port "$1")"
  if alive "$name"; then check_same_port "$name" "$port"; resume "$name"; return 0; fi
  require_free "$port" "redis sentinel node $n"
  rm -rf "${SERVERS_DIR:?}/$name"
  mkdir -p "$SERVERS_DIR/$name"
  local replica=()
  if [[ -n "$master" && "$master" != "$port" ]]; then replica=(--replicaof 127.0.0.1 "$master"); fi
  # shellcheck disable=SC2046
  launch "$name" redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize no \
    --dir "$SERVERS_DIR/$name" --logfile "$SERVERS_DIR/$name.log" --enable-debug-command local \
    --repl-diskless-sync yes --repl-diskless-sync-delay 0 $(shutdown_args) "${replica[@]}"
}

# The sentinel rewrites its configuration file (discovered replicas, epochs): it gets a fresh one on every start.
start_sentinel() { # master_port
  local master=$1 dir="$SERVERS_DIR/sentinel"
  if alive sentinel; then check_same_port sentinel "$SENTINEL_PORT"; resume sentinel; return 0; fi
  require_free "$SENTINEL_PORT" sentinel
  rm -rf "${SERVERS_DIR:?}/sentinel"
  mkdir -p "$dir"
  cat >"$dir/sentinel.conf" <<CONF
port $SENTINEL_PORT
bind 127.0.0.1
daemonize no
dir $dir
logfile $SERVERS_DIR/sentinel.log
sentinel monitor $SENTINEL_SERVICE 127.0.0.1 $master 1
sentinel down-after-milliseconds $SENTINEL_SERVICE 1000
sentinel failover-timeout $SENTINEL_SERVICE 3000
sentinel parallel-syncs $SENTINEL_SERVICE 1
CONF
  launch sentinel redis-server "$dir/sentinel.conf" --sentinel
}

# Prints "port flags master-link-status master-port" for each replica the sentinel knows.
sentinel_replicas() {
  rcli "$SENTINEL_PORT" SENTINEL replicas "$SENTINEL_SERVICE" | tr -d '\r' | awk '
    NR % 2 == 1 { k = $0; next }
    k == "name" && port != "" { print port, flags, link, mport; port = flags = link = mport = "" }
    k == "port" { port = $0 } k == "flags" { flags = $0 } k == "master-link-status" { link = $0 } k == "master-port" { mport = $0 }
    END { if (port != "") print port, flags, link, mport }'
}

# Healthy = the sentinel names one of our nodes as master with no failover in progress, that node says master,
# the other node replicates from it with its link up, and the sentinel sees that replica as a plain, linked slave.
sentinel_healthy() {
  local master other flags
  master="$(sentinel_master_port)"
  [[ "$master" == "${SENTINEL_NODE_PORTS[0]}" || "$master" == "${SENTINEL_NODE_PORTS[1]}" ]] || return 1
  other="${SENTINEL_NODE_PORTS[0]}"; [[ "$master" == "$other" ]] && other="${SENTINEL_NODE_PORTS[1]}"
  flags="$(rcli "$SENTINEL_PORT" SENTINEL master "$SENTINEL_SERVICE" | tr -d '\r' | awk 'NR % 2 == 1 { k = $0; next } k == "flags" { print }')"
  [[ "$flags" == master ]] || return 1
  [[ "$(node_role "$master")" == master ]] || return 1
  local info
  info="$(rcli "$other" INFO replication | tr -d '\r')"
  grep -qx 'role:slave' <<< "$info" && grep -qx "master_port:$master" <<< "$info" && grep -qx 'master_link_status:up' <<< "$info" \
    || return 1
  sentinel_replicas | grep -qx "$other slave ok $master"
}

sentinel_ping() { [[ "$(rcli "$SENTINEL_PORT" PING)" == PONG ]]; }

# Sentinel's timers are built for production: INFO from each node every 10 s (so a demoted master is seen as a
# linked replica ~20 s after a failover), a demoted master still alive is told to replicate only after 4 publish
# periods (8 s), and TILT (30 s without failovers) follows a 2 s hiccup, which a loaded CI machine produces. Not kept in the config file, so set on every start.
tune_sentinel() {
  wait_for "sentinel on port $SENTINEL_PORT" "$SERVERS_DIR/sentinel.log" sentinel sentinel_ping
  [[ "$(rcli "$SENTINEL_PORT" SENTINEL DEBUG info-period 1000 publish-period 250 tilt-trigger 10000 tilt-period 1000)" == OK ]] \
    || die "SENTINEL DEBUG on port $SENTINEL_PORT failed; Redis 7 or later is needed for the sentinel group"
}

wait_sentinel_healthy() {
  wait_for "redis sentinel group (nodes ${SENTINEL_NODE_PORTS[*]}, sentinel $SENTINEL_PORT) agreeing on master and replica" \
    "$SERVERS_DIR/sentinel.log" "sentinel-redis-1 sentinel-redis-2 sentinel" sentinel_healthy
}

start_sentinel_group() {
  local master n
  master="$(running_master_port)"
  master="${master:-${SENTINEL_NODE_PORTS[0]}}"
  for n in 1 2; do start_sentinel_node "$n" "$master"; done
  start_sentinel "$master"
}

sentinel_ports_check() {
  local n
  for n in 1 2; do
    if alive "sentinel-redis-$n"; then check_same_port "sentinel-redis-$n" "$(node_port "$n")"; else require_free "$(node_port "$n")" "redis sentinel node $n"; fi
  done
  if alive sentinel; then check_same_port sentinel "$SENTINEL_PORT"; else require_free "$SENTINEL_PORT" sentinel; fi
}

cmd_sentinel_failover() {
  wait_sentinel_healthy
  local old answer deadline=$((SECONDS + START_TIMEOUT))
  old="$(sentinel_master_port)"
  # -INPROG / -NOGOODSLAVE right after an earlier failover: the sentinel has not refreshed its view yet.
  until answer="$(rcli "$SENTINEL_PORT" SENTINEL failover "$SENTINEL_SERVICE")" && [[ "$answer" == OK* ]]; do
    (( SECONDS < deadline )) || die "SENTINEL FAILOVER $SENTINEL_SERVICE kept failing: ${answer:-no answer}"
    sleep 0.2
  done
  wait_for "the sentinel to name a new master (was $old)" "$SERVERS_DIR/sentinel.log" "sentinel" \
    eval '[[ -n "$(sentinel_master_port)" && "$(sentinel_master_port)" != "$old" ]]'
  wait_sentinel_healthy
  sentinel_master_port
}

sentinel_node_arg() { # verb n
  [[ "${2:-}" =~ ^[12]$ ]] || die "'$1' needs a sentinel data node number 1 or 2, got '${2:-}'"
}

cmd_start_sentinel_node() { # n
  local master
  master="$(sentinel_master_port)"
  # The sentinel still names this node (not failed over yet): it comes back as an empty master.
  start_sentinel_node "$1" "$master"
  wait_sentinel_healthy
}

# ---------------------------------------------------------------- redis cluster

# Node n (1..6) is process 'cluster-<n>' on CLUSTER_PORTS[n-1]. The cluster is test scaffolding with no data worth
# keeping: when any node is not running, all six are restarted empty and the cluster is created again (~3 s), which
# also undoes whatever failovers an earlier run did.
cluster_port() { echo "${CLUSTER_PORTS[$(($1 - 1))]}"; }

cluster_endpoints() { local p out=""; for p in "${CLUSTER_PORTS[@]}"; do out+="${out:+,}127.0.0.1:$p"; done; echo "$out"; }

cluster_all_alive() { local name; for name in "${CLUSTER_NODES[@]}"; do alive "$name" || return 1; done; }

cluster_ports_check() {
  local n
  for n in 1 2 3 4 5 6; do
    if alive "cluster-$n"; then check_same_port "cluster-$n" "$(cluster_port "$n")"
    elif ! cluster_all_alive; then
      require_free "$(cluster_port "$n")" "redis cluster node $n"
      require_free "$(( $(cluster_port "$n") + 10000 ))" "redis cluster node $n bus"
    fi
  done
}

start_cluster_nodes() {
  local n port name
  for n in 1 2 3 4 5 6; do
    name="cluster-$n"; port="$(cluster_port "$n")"
    rm -rf "${SERVERS_DIR:?}/$name"
    mkdir -p "$SERVERS_DIR/$name"
    # cluster-node-timeout 2000: a dead master is failed over within seconds; manual failovers do not wait for it.
    # shellcheck disable=SC2046
    launch "$name" redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize no \
      --dir "$SERVERS_DIR/$name" --logfile "$SERVERS_DIR/$name.log" --enable-debug-command local \
      --cluster-enabled yes --cluster-config-file "$SERVERS_DIR/$name/nodes.conf" --cluster-node-timeout 2000 \
      --repl-diskless-sync yes --repl-diskless-sync-delay 0 $(shutdown_args)
  done
}

cluster_nodes_answer() { local p; for p in "${CLUSTER_PORTS[@]}"; do [[ "$(rcli "$p" PING)" == PONG ]] || return 1; done; }

# Healthy = every node says cluster_state:ok with all slots assigned and ok, and (seen from every node) there are 3
# masters without failure flags, each with one connected replica whose link is up.
cluster_healthy() {
  local p nodes masters replicas
  for p in "${CLUSTER_PORTS[@]}"; do
    [[ "$(rcli "$p" CLUSTER INFO | tr -d '\r' | grep -cx -e 'cluster_state:ok' -e 'cluster_slots_ok:16384')" == 2 ]] || return 1
    nodes="$(rcli "$p" CLUSTER NODES | tr -d '\r')" || return 1
    masters="$(awk '$3 ~ /master/ && $3 !~ /fail/ && $8 == "connected" && NF >= 9' <<< "$nodes" | wc -l)"
    replicas="$(awk '$3 ~ /slave/ && $3 !~ /fail/ && $8 == "connected"' <<< "$nodes" | wc -l)"
    (( masters == 3 && replicas == 3 )) || return 1
  done
  for p in "${CLUSTER_PORTS[@]}"; do
    if [[ "$(node_role "$p")" == slave ]]; then
      rcli "$p" INFO replication | tr -d '\r' | grep -qx 'master_link_status:up' || return 1
    fi
  done
}

wait_cluster_healthy() {
  wait_for "redis cluster (ports ${CLUSTER_PORTS[*]}) healthy" "$SERVERS_DIR/cluster-1.log" "${CLUSTER_NODES[*]}" cluster_healthy
}

start_cluster() {
  if cluster_all_alive; then
    local n; for n in 1 2 3 4 5 6; do resume "cluster-$n"; done
    return 0
  fi
  stop_pids "${CLUSTER_NODES[@]}"
  start_cluster_nodes
}

# Only after start_cluster launched fresh nodes: assign slots (3 masters) and replicas, wait for agreement.
create_cluster() {
  wait_for "redis cluster nodes (ports ${CLUSTER_PORTS[*]})" "$SERVERS_DIR/cluster-1.log" "${CLUSTER_NODES[*]}" cluster_nodes_answer
  if [[ "$(rcli "${CLUSTER_PORTS[0]}" CLUSTER INFO | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" == 6 ]]; then return 0; fi
  local args=() p
  for p in "${CLUSTER_PORTS[@]}"; do args+=("127.0.0.1:$p"); done
  timeout "$START_TIMEOUT" redis-cli --cluster create "${args[@]}" --cluster-replicas 1 --cluster-yes \
    >"$SERVERS_DIR/cluster-create.out" 2>&1 || die "redis-cli --cluster create failed; see $SERVERS_DIR/cluster-create.out"
}

# The replica of the master on <port> as seen by that master (first connected one).
cluster_replica_of() { # master_port
  local id
  id="$(rcli "$1" CLUSTER MYID | tr -d '\r')"
  [[ -n "$id" ]] || die "no redis cluster node answers on port $1"
  rcli "$1" CLUSTER NODES | tr -d '\r' | awk -v id="$id" '$3 ~ /slave/ && $4 == id && $8 == "connected" { split($2, a, "[:@]"); print a[2]; exit }'
}

cmd_cluster_failover() { # master_port
  local master=$1 replica answer deadline=$((SECONDS + START_TIMEOUT))
  is_port "$master" || die "'cluster-failover' needs the port of a cluster master, got '$master'"
  wait_cluster_healthy
  [[ "$(node_role "$master")" == master ]] || die "the cluster node on port $master is not a master"
  replica="$(cluster_replica_of "$master")"
  [[ -n "$replica" ]] || die "the cluster master on port $master has no connected replica"
  # A manual failover: the master stops its clients, the replica catches up with its replication offset, then takes
  # over (no write is lost, unlike a failover after a crash).
  until answer="$(rcli "$replica" CLUSTER FAILOVER)" && [[ "$answer" == OK* ]]; do
    (( SECONDS < deadline )) || die "CLUSTER FAILOVER on port $replica kept failing: ${answer:-no answer}"
    sleep 0.2
  done
  wait_for "cluster node $replica to become master" "$SERVERS_DIR/cluster-1.log" "${CLUSTER_NODES[*]}" \
    eval '[[ "$(node_role "$replica")" == master ]]'
  wait_cluster_healthy
  echo "$replica"
}

# ---------------------------------------------------------------- secure variants

# <state>/secure holds a CA, a server certificate for localhost/127.0.0.1 (both servers use it), a client certificate
# (x509 identity for ZooKeeper, accepted by Redis), keystores and the Redis ACL user's password; generated once and
# kept while the CA is valid, so a restart keeps trusting the same files.
SECURE_DIR="$SERVERS_DIR/secure"
readonly KEYSTORE_PASSWORD=coordination-test

make_tls_material() {
  local d="$SECURE_DIR"
  if [[ -f "$d/ca.pem" && -f "$d/server.p12" && -f "$d/client.pem" && -f "$d/redis-password" ]] \
    && openssl x509 -checkend 86400 -noout -in "$d/ca.pem" >/dev/null 2>&1; then
    return 0
  fi
  command -v openssl >/dev/null 2>&1 || die "openssl not found; it generates the secure servers' certificates (apt-get install openssl)"
  rm -rf "${d:?}"
  mkdir -p "$d"
  local log="$d/openssl.log"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 825 \
      -subj "/CN=Coordination Test CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'extendedKeyUsage=serverAuth,clientAuth' \
      'basicConstraints=CA:FALSE' 'keyUsage=digitalSignature,keyEncipherment' >"$d/server.ext"
    openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 825 \
      -extfile "$d/server.ext" -out "$d/server.pem"
    printf '%s\n' 'extendedKeyUsage=clientAuth' 'basicConstraints=CA:FALSE' 'keyUsage=digitalSignature,keyEncipherment' >"$d/client.ext"
    openssl req -newkey rsa:2048 -nodes -keyout "$d/client.key" -out "$d/client.csr" -subj "/O=Coordination/CN=coordination-client"
    openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 825 \
      -extfile "$d/client.ext" -out "$d/client.pem"
    # ZooKeeper reads a PKCS12 keystore (ssl.keyStore.type=PKCS12) and a PEM trust store.
    openssl pkcs12 -export -in "$d/server.pem" -inkey "$d/server.key" -name server -out "$d/server.p12" -passout "pass:$KEYSTORE_PASSWORD"
    openssl rand -hex 16 >"$d/redis-password"
  } >"$log" 2>&1 || die "generating the test certificates with openssl failed; see $log"
  chmod 600 "$d"/*.key "$d/redis-password"
}

# Digest credentials for the ZooKeeper session of the sample and of tests that want a stable identity; kept with the
# certificates (nodes created with them on the secure ZooKeeper outlive a restart).
make_zk_digest() {
  [[ -f "$SECURE_DIR/zk-digest" ]] && return 0
  echo "webapp:$(openssl rand -hex 16)" >"$SECURE_DIR/zk-digest"
  chmod 600 "$SECURE_DIR/zk-digest"
}

redis_password() { cat "$SECURE_DIR/redis-password"; }

# The ACL user may touch only the library's default prefix and the sample's (keys and channels); the default user is
# off, so a client without credentials gets NOAUTH. Rewritten on every start (the password file may be new).
write_redis_acl() {
  mkdir -p "$SERVERS_DIR/redis-secure"
  {
    echo "user default off"
    echo "user $REDIS_ACL_USER on >$(redis_password) resetkeys ~coord:* ~webapp:* resetchannels &coord:* &webapp:* &__Booksleeve_MasterChanged -@all +@read +@write +@keyspace +@string +@hash +@set +@sortedset +@list +@pubsub +@scripting +@transaction +@connection +time +info +ping +client|setname +client|id +cluster|nodes +config|get -flushall -flushdb"
  } >"$SERVERS_DIR/redis-secure/users.acl"
  chmod 600 "$SERVERS_DIR/redis-secure/users.acl"
}

start_redis_secure() {
  if alive redis-secure; then check_same_port redis-secure "$REDIS_ACL_PORT"; resume redis-secure; return 0; fi
  require_free "$REDIS_ACL_PORT" "secure redis (ACL port)"
  require_free "$REDIS_TLS_PORT" "secure redis (TLS port)"
  write_redis_acl
  # tls-auth-clients optional: a client certificate is checked when one is sent, not required.
  launch redis-secure redis-server --bind 127.0.0.1 --port "$REDIS_ACL_PORT" --tls-port "$REDIS_TLS_PORT" \
    --tls-cert-file "$SECURE_DIR/server.pem" --tls-key-file "$SECURE_DIR/server.key" --tls-ca-cert-file "$SECURE_DIR/ca.pem" \
    --tls-auth-clients optional --aclfile "$SERVERS_DIR/redis-secure/users.acl" --save '' --appendonly no --daemonize no \
    --dir "$SERVERS_DIR/redis-secure" --logfile "$SERVERS_DIR/redis-secure.log"
}

redis_secure_ping() {
  [[ "$(REDISCLI_AUTH="$(redis_password)" timeout 2 redis-cli -h 127.0.0.1 -p "$REDIS_ACL_PORT" --user "$REDIS_ACL_USER" PING 2>/dev/null)" == PONG ]] \
    && [[ "$(REDISCLI_AUTH="$(redis_password)" timeout 2 redis-cli -h 127.0.0.1 -p "$REDIS_TLS_PORT" --tls --cacert "$SECURE_DIR/ca.pem" --user "$REDIS_ACL_USER" PING 2>/dev/null)" == PONG ]]
}

start_zk_secure() {
  if alive zk-secure; then check_same_port zk-secure "$ZK_TLS_PLAIN_PORT"; resume zk-secure; return 0; fi
  require_free "$ZK_TLS_PLAIN_PORT" "secure zookeeper (plain port)"
  require_free "$ZK_TLS_PORT" "secure zookeeper (TLS port)"
  # The Netty connection factory serves both ports; ssl.clientAuth=want checks a client certificate when one is sent
  # and makes it the session's x509 identity (X509AuthenticationProvider), without requiring one.
  write_zk_conf zk-secure "$ZK_TLS_PLAIN_PORT" <<CONF
secureClientPort=$ZK_TLS_PORT
secureClientPortAddress=127.0.0.1
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
ssl.keyStore.location=$SECURE_DIR/server.p12
ssl.keyStore.password=$KEYSTORE_PASSWORD
ssl.keyStore.type=PKCS12
ssl.trustStore.location=$SECURE_DIR/ca.pem
ssl.trustStore.type=PEM
ssl.clientAuth=want
authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider
CONF
  launch_zk zk-secure
}

zk_secure_serving() { zk_serving "$ZK_TLS_PLAIN_PORT" && port_in_use "$ZK_TLS_PORT"; }

# ---------------------------------------------------------------- endpoints

endpoint_lines() {
  local hosts="" p
  for p in "${ENSEMBLE_PORTS[@]}"; do hosts+="${hosts:+,}127.0.0.1:$p"; done
  echo "COORD_REDIS=127.0.0.1:$REDIS_PORT"
  echo "COORD_ZK=127.0.0.1:$ZK_PORT"
  echo "COORD_ZK_ENSEMBLE=$hosts"
  echo "COORD_SENTINEL=127.0.0.1:$SENTINEL_PORT"
  echo "COORD_SENTINEL_SERVICE=$SENTINEL_SERVICE"
  echo "COORD_SENTINEL_REDIS=127.0.0.1:${SENTINEL_NODE_PORTS[0]},127.0.0.1:${SENTINEL_NODE_PORTS[1]}"
  echo "COORD_REDIS_PORT=$REDIS_PORT"
  echo "COORD_ZK_PORT=$ZK_PORT"
  echo "COORD_ZK_ENSEMBLE_PORTS=$ENSEMBLE_PORTS_CSV"
  echo "COORD_SENTINEL_MASTER_PORT=${SENTINEL_NODE_PORTS[0]}"
  echo "COORD_SENTINEL_REPLICA_PORT=${SENTINEL_NODE_PORTS[1]}"
  echo "COORD_SENTINEL_PORT=$SENTINEL_PORT"
  echo "COORD_REDIS_CLUSTER=$(cluster_endpoints)"
  echo "COORD_ZK_TLS=127.0.0.1:$ZK_TLS_PORT"
  echo "COORD_ZK_TLS_PLAIN=127.0.0.1:$ZK_TLS_PLAIN_PORT"
  echo "COORD_REDIS_TLS=127.0.0.1:$REDIS_TLS_PORT"
  echo "COORD_REDIS_ACL=127.0.0.1:$REDIS_ACL_PORT"
  echo "COORD_REDIS_ACL_USER=$REDIS_ACL_USER"
  if [[ -f "$SECURE_DIR/redis-password" ]]; then echo "COORD_REDIS_ACL_PASSWORD=$(redis_password)"; fi
  if [[ -f "$SECURE_DIR/zk-digest" ]]; then echo "COORD_ZK_AUTH=$(cat "$SECURE_DIR/zk-digest")"; fi
  echo "COORD_TLS_CA=$(quote "$SECURE_DIR/ca.pem")"
  echo "COORD_TLS_CLIENT_CERT=$(quote "$SECURE_DIR/client.pem")"
  echo "COORD_TLS_CLIENT_KEY=$(quote "$SECURE_DIR/client.key")"
  echo "COORD_ZK_TLS_PORT=$ZK_TLS_PORT"
  echo "COORD_ZK_TLS_PLAIN_PORT=$ZK_TLS_PLAIN_PORT"
  echo "COORD_REDIS_TLS_PORT=$REDIS_TLS_PORT"
  echo "COORD_REDIS_ACL_PORT=$REDIS_ACL_PORT"
  echo "COORD_CLUSTER_PORTS=$(IFS=,; echo "${CLUSTER_PORTS[*]}")"
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
  sentinel_ports_check
  cluster_ports_check
  if alive zk-secure; then check_same_port zk-secure "$ZK_TLS_PLAIN_PORT"; else require_free "$ZK_TLS_PLAIN_PORT" "secure zookeeper (plain port)"; require_free "$ZK_TLS_PORT" "secure zookeeper (TLS port)"; fi
  if alive redis-secure; then check_same_port redis-secure "$REDIS_ACL_PORT"; else require_free "$REDIS_ACL_PORT" "secure redis (ACL port)"; require_free "$REDIS_TLS_PORT" "secure redis (TLS port)"; fi
  make_tls_material
  make_zk_digest
  # All JVMs boot in parallel (~3 s each on an idle machine); a cold ensemble starts from empty data.
  start_redis
  start_standalone 1
  for n in 1 2 3; do start_member "$n" $((1 - any_member)); done
  start_zk_secure
  start_redis_secure
  start_sentinel_group
  start_cluster
  wait_redis
  wait_for "zookeeper standalone (port $ZK_PORT)" "$SERVERS_DIR/zk-standalone.log" zk-standalone zk_serving "$ZK_PORT"
  wait_for "secure zookeeper (ports $ZK_TLS_PLAIN_PORT, TLS $ZK_TLS_PORT)" "$SERVERS_DIR/zk-secure.log" zk-secure zk_secure_serving
  wait_for "secure redis (ACL port $REDIS_ACL_PORT, TLS $REDIS_TLS_PORT)" "$SERVERS_DIR/redis-secure.log" redis-secure redis_secure_ping
  wait_for "zookeeper ensemble (ports $ENSEMBLE_PORTS_CSV) electing one leader" "$SERVERS_DIR/zk-{1,2,3}.log" "zk-1 zk-2 zk-3" ensemble_has_quorum
  tune_sentinel
  create_cluster
  wait_sentinel_healthy
  wait_cluster_healthy
  write_endpoints
  note "running (redis :$REDIS_PORT, zookeeper :$ZK_PORT, ensemble :$ENSEMBLE_PORTS_CSV, sentinel :$SENTINEL_PORT over ${SENTINEL_NODE_PORTS[0]},${SENTINEL_NODE_PORTS[1]}, cluster :$(IFS=,; echo "${CLUSTER_PORTS[*]}"), secure zookeeper :$ZK_TLS_PLAIN_PORT tls :$ZK_TLS_PORT, secure redis :$REDIS_ACL_PORT tls :$REDIS_TLS_PORT) in $((SECONDS - t0))s; endpoints in $SERVERS_DIR/endpoints.env"
}

cmd_stop() {
  [[ -d "$SERVERS_DIR" ]] || return 0
  stop_pids redis zk-standalone zk-1 zk-2 zk-3 zk-secure redis-secure sentinel sentinel-redis-1 sentinel-redis-2 "${CLUSTER_NODES[@]}"
  rm -f "$SERVERS_DIR/endpoints.env"
  note "stopped."
}

cmd_status() {
  local name port mode pid rc=0
  for name in redis zk-standalone zk-1 zk-2 zk-3 zk-secure redis-secure sentinel-redis-1 sentinel-redis-2 sentinel "${CLUSTER_NODES[@]}"; do
    case "$name" in
      zk-secure) port=$ZK_TLS_PLAIN_PORT ;;
      redis-secure) port=$REDIS_ACL_PORT ;;
      cluster-*) port="$(cluster_port "${name#cluster-}")" ;;
      redis) port=$REDIS_PORT ;;
      sentinel-redis-*) port="$(node_port "${name#sentinel-redis-}")" ;;
      sentinel) port=$SENTINEL_PORT ;;
      zk-standalone) port=$ZK_PORT ;;
      zk-*) port=${ENSEMBLE_PORTS[$((${name#zk-} - 1))]} ;;
    esac
    if alive "$name"; then
      pid="$(pid_of "$name")"
      if [[ "$name" == redis ]]; then
        if redis_ping; then mode=PONG; else mode="not answering"; fi
      elif [[ "$name" == redis-secure ]]; then
        if redis_secure_ping; then mode="PONG (ACL user $REDIS_ACL_USER; TLS :$REDIS_TLS_PORT)"; else mode="not answering"; fi
      elif [[ "$name" == sentinel-redis-* || "$name" == cluster-* ]]; then
        mode="$(node_role "$port")"; mode="${mode:-not answering}"
      elif [[ "$name" == sentinel ]]; then
        mode="$(sentinel_master_port)"; mode="${mode:+master of '$SENTINEL_SERVICE' is :$mode}"; mode="${mode:-not answering}"
      else
        mode="$(zk_mode "$port")"; mode="${mode:-not serving}"
        if [[ "$name" == zk-secure ]]; then mode+=" (TLS :$ZK_TLS_PORT)"; fi
      fi
      printf '%-17s running  pid %-8s port %-6s %s\n' "$name" "$pid" "$port" "$mode"
    else
      printf '%-17s stopped                port %s\n' "$name" "$port"
      rc=3
    fi
  done
  return $rc
}

member_arg() { # verb n
  [[ "${2:-}" =~ ^([123]|standalone|secure)$ ]] || die "'$1' needs an ensemble member number 1..3 (or 'standalone' or 'secure'), got '${2:-}'"
}

main() {
  local verb=${1:-}
  case "$verb" in
    install|start|stop|status|env|restart-redis|stop-redis|start-redis|stop-zk|start-zk) ;;
    sentinel-failover|sentinel-wait|stop-sentinel-redis|start-sentinel-redis) ;;
    cluster-failover|cluster-wait) ;;
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
      elif [[ "$2" == secure ]]; then
        make_tls_material; start_zk_secure
        wait_for "secure zookeeper (ports $ZK_TLS_PLAIN_PORT, TLS $ZK_TLS_PORT)" "$SERVERS_DIR/zk-secure.log" zk-secure zk_secure_serving
      else
        start_member "$2"; wait_member "$2"
      fi ;;
    sentinel-failover) cmd_sentinel_failover ;;
    sentinel-wait) wait_sentinel_healthy ;;
    stop-sentinel-redis) sentinel_node_arg "$@"; stop_pids "sentinel-redis-$2" ;;
    start-sentinel-redis) sentinel_node_arg "$@"; mkdir -p "$SERVERS_DIR"; cmd_start_sentinel_node "$2" ;;
    cluster-failover) cmd_cluster_failover "${2:-}" ;;
    cluster-wait) wait_cluster_healthy ;;
  esac
}

main "$@"

#!/usr/bin/env bash
# A real S3-compatible server on loopback for ckptkit's object-store tests and bench: one-node,
# one-replica OpenStack Swift with its s3api middleware (Debian packages), not a mock.
#
# Usage: scripts/s3-server.sh install|setup|start|stop|status|env
#   install  apt-get the Debian packages if swift-proxy-server is missing (needs root or sudo)
#   setup    write configs and rings under $SWIFT_BASE (start does it when missing)
#   start    install if needed, start memcached + account/container/object/proxy, wait healthy
#   stop     stop only the processes this script started (by their recorded pids)
#   env      print the environment the tests and the CLI need (eval "$(… env)")
# Env: SWIFT_BASE (default /tmp/ckptkit-swift), S3_PORT (default 19000).
# Endpoint http://127.0.0.1:$S3_PORT, region us-east-1, path-style, access key "test:tester",
# secret "testing" (tempauth user test/tester). ~270 MiB RSS for all servers.
set -euo pipefail
BASE=${SWIFT_BASE:-/tmp/ckptkit-swift}
S3_PORT=${S3_PORT:-19000}
OBJ_PORT=${SWIFT_OBJ_PORT:-16200} CONT_PORT=${SWIFT_CONT_PORT:-16201} ACCT_PORT=${SWIFT_ACCT_PORT:-16202}
MEMCACHE_PORT=${SWIFT_MEMCACHE_PORT:-11211}
RUN_USER=$(id -un)
ETC=$BASE/etc RUN=$BASE/run LOG=$BASE/log
SERVERS="account container object proxy"
PACKAGES="swift swift-proxy swift-account swift-container swift-object memcached"

install() {
  if [ -x /usr/bin/swift-proxy-server ] && [ -x /usr/bin/swift-object-server ] && command -v memcached >/dev/null; then return; fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "s3-server: need root or sudo to install: $PACKAGES" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "s3-server: installing $PACKAGES" >&2
  $sudo apt-get update -qq
  # policy-rc.d-less containers print "could not determine current runlevel": harmless, the
  # packaged services are not used (we start our own processes on private ports).
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
}

setup() {
  mkdir -p "$ETC" "$BASE/srv/d1" "$RUN" "$LOG"
  cat > "$ETC/swift.conf" <<CONF
[swift-hash]
swift_hash_path_prefix = ci-prefix
swift_hash_path_suffix = ci-suffix

[storage-policy:0]
name = Policy-0
default = yes
CONF
  for spec in "account $ACCT_PORT" "container $CONT_PORT" "object $OBJ_PORT"; do
    set -- $spec
    cat > "$ETC/$1-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
devices = $BASE/srv
mount_check = false
swift_dir = $ETC
workers = 0
user = $RUN_USER
log_level = WARNING

[pipeline:main]
pipeline = healthcheck $1-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:$1-server]
use = egg:swift#$1
CONF
  done
  # No object-updater runs here: wait longer for the synchronous container-listing update, so a
  # PUT that returned is in the next listing (the store finds checkpoints by listing).
  printf 'container_update_timeout = 10\n' >> "$ETC/object-server.conf"
  cat > "$ETC/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $S3_PORT
swift_dir = $ETC
workers = 0
user = $RUN_USER
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MEMCACHE_PORT

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
# S3 credentials: access key "<account>:<user>", secret "<key>"
user_test_tester = testing .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
CONF
  # rings: 2^8 partitions, 1 replica, min_part_hours 1, one device each
  ( cd "$ETC"
    for spec in "account $ACCT_PORT" "container $CONT_PORT" "object $OBJ_PORT"; do
      set -- $spec
      rm -f "$1.builder" "$1.ring.gz"
      swift-ring-builder "$1.builder" create 8 1 1 >/dev/null
      swift-ring-builder "$1.builder" add "r1z1-127.0.0.1:$2/d1" 1 >/dev/null
      swift-ring-builder "$1.builder" rebalance >/dev/null
    done )
}

alive() {  # true if the pid exists and is not a zombie
  local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}

healthy() { curl -sf "http://127.0.0.1:$1/healthcheck" >/dev/null 2>&1; }

start() {
  install
  [ -f "$ETC/object.ring.gz" ] || setup
  mkdir -p "$RUN" "$LOG"
  if ! (exec 3<>/dev/tcp/127.0.0.1/$MEMCACHE_PORT) 2>/dev/null; then
    memcached -l 127.0.0.1 -p "$MEMCACHE_PORT" -U 0 -m 64 -u "$RUN_USER" > "$LOG/memcached.log" 2>&1 &
    echo $! > "$RUN/memcached.pid"
  fi
  for s in $SERVERS; do
    # already ours and running: leave it (start is idempotent)
    if [ -f "$RUN/$s.pid" ] && alive "$(cat "$RUN/$s.pid")"; then continue; fi
    # -v: log to stdout too (swift otherwise logs to syslog / UDP localhost:514)
    /usr/bin/swift-$s-server "$ETC/$s-server.conf" -v > "$LOG/$s.log" 2>&1 &
    echo $! > "$RUN/$s.pid"
  done
  for port in $ACCT_PORT $CONT_PORT $OBJ_PORT $S3_PORT; do
    for _ in $(seq 1 300); do
      healthy "$port" && continue 2
      sleep 0.1
    done
    echo "s3-server: swift on port $port did not become healthy; logs in $LOG" >&2; tail -n 20 "$LOG"/*.log >&2; exit 1
  done
  echo "S3 endpoint ready: http://127.0.0.1:$S3_PORT (access key test:tester, secret testing)" >&2
}

stop() {
  for s in proxy object container account memcached; do
    f="$RUN/$s.pid"; [ -f "$f" ] || continue
    pid=$(cat "$f")
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
      if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$f"
  done
}

status() {
  for s in account container object proxy memcached; do
    f="$RUN/$s.pid"
    if [ -f "$f" ] && alive "$(cat "$f")"; then
      echo "$s: running pid $(cat "$f") rss $(ps -o rss= -p "$(cat "$f")") KiB"
    else echo "$s: stopped"; fi
  done
}

env_vars() {
  cat <<ENV
export CKPTKIT_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT
export AWS_ACCESS_KEY_ID=test:tester
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
ENV
}

case "${1:-}" in
  install) install ;; setup) setup ;; start) start ;; stop) stop ;; status) status ;; env) env_vars ;;
  *) echo "usage: $0 install|setup|start|stop|status|env" >&2; exit 2 ;;
esac
